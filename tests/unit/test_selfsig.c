/* test_selfsig.c: a guest's signals to itself, marked and unmarked (selfsig.h). */
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/selfsig.h"

static void
test_mark_unmark(void **state)
{
	struct selfsig	ss, other;
	siginfo_t	want, m, u;
	int		code, i;
	static const int codes[] = { SI_USER, SI_TKILL };

	(void)state;
	selfsig_init(&ss, 4242, 1001);
	assert_true(ss.cookie != 0 && (ss.cookie & 1) == 0);
	for (i = 0; i < 2; i++) {
		code = codes[i];
		memset(&want, 0, sizeof want);
		want.si_signo = SIGTRAP;
		want.si_code = code;
		want.si_pid = 4242;
		want.si_uid = 1001;
		selfsig_mark(&ss, &want, &m);
		/* anyone may queue the stand-in */
		assert_int_equal(m.si_code, SI_QUEUE);
		u = m;
		assert_int_equal(selfsig_unmark(&ss, &u), 1);
		assert_memory_equal(&u, &want, sizeof u);
		/* another guest's cookie is not ours */
		selfsig_init(&other, 4242, 1001);
		if (other.cookie != ss.cookie) {
			u = m;
			assert_int_equal(selfsig_unmark(&other, &u), 0);
			assert_memory_equal(&u, &m, sizeof u);
		}
	}
	/* a program's own sigqueue is left as it is */
	memset(&u, 0, sizeof u);
	u.si_signo = SIGUSR1;
	u.si_code = SI_QUEUE;
	u.si_value.sival_int = 7;
	m = u;
	assert_int_equal(selfsig_unmark(&ss, &u), 0);
	assert_memory_equal(&u, &m, sizeof u);
	assert_int_equal(selfsig_unmark(NULL, &u), 0);
}

/*
 * A real traced child: the marked signal reaches its handler as SI_TKILL
 * from the pid the mark names, once its tracer fixed it at the delivery
 * stop; a plain SI_QUEUE from us arrives untouched.
 */
static volatile sig_atomic_t	got_code, got_pid, got_uid, got_n;

static void
on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = (int)si->si_uid;
	got_n++;
}

static void
child(int rd)
{
	struct sigaction	sa;
	char			c;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	/* the parent queues while we wait */
	while (got_n == 0)
		pause();
	if (read(rd, &c, 1) != 1)
		_exit(10);
	_exit(got_code == SI_TKILL && got_pid == 777 && got_uid == 4321 ? 0 :
	    got_code != SI_TKILL ? 1 : got_pid != 777 ? 2 : 3);
}

static void
test_fix_stop(void **state)
{
	struct selfsig	ss;
	siginfo_t	want;
	pid_t		pid;
	int		p[2], st, fixed = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[1]);
		child(p[0]);
	}
	close(p[0]);
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, 0, 0), 0);
	usleep(100000);		/* into its pause() */
	selfsig_init(&ss, 777, 4321);
	memset(&want, 0, sizeof want);
	want.si_signo = SIGUSR1;
	want.si_code = SI_TKILL;
	want.si_pid = 777;
	want.si_uid = 4321;
	assert_int_equal(selfsig_queue(&ss, pid, &want, 0), 0);
	for (;;) {
		assert_int_equal(waitpid(pid, &st, __WALL), pid);
		if (!WIFSTOPPED(st))
			break;
		if ((st >> 16) == 0 && WSTOPSIG(st) == SIGUSR1) {
			assert_int_equal(selfsig_fix_stop(&ss, pid), 1);
			fixed = 1;
			assert_int_equal(ptrace(PTRACE_CONT, pid, 0, SIGUSR1), 0);
			assert_int_equal(write(p[1], "x", 1), 1);
			continue;
		}
		assert_int_equal(ptrace(PTRACE_CONT, pid, 0, 0), 0);
	}
	assert_true(fixed);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_unmark),
		cmocka_unit_test(test_fix_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
