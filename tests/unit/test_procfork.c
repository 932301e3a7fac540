/* test_procfork.c: proc_fork's signals, and fatal's exit in children and threads (procfork.h, log.h). */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
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

#include "omm/log.h"
#include "omm/procfork.h"

static void on_sig(int sig) { (void)sig; }
static void on_info(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; }

static int
handler_is(int sig, void (*h)(int))
{
	struct sigaction	sa;

	if (sigaction(sig, NULL, &sa) == -1)
		return 0;
	return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == h;
}

/* The child's status: 0, or the bit of the first thing that was wrong. */
static int
child_checks(void)
{
	sigset_t	cur;

	if (!handler_is(SIGUSR1, SIG_DFL))
		return 1;			/* a caught signal kept its handler */
	if (!handler_is(SIGHUP, SIG_DFL))
		return 2;			/* an SA_SIGINFO one too */
	if (!handler_is(SIGUSR2, SIG_IGN))
		return 3;			/* an ignored one was reset */
	if (pthread_sigmask(SIG_SETMASK, NULL, &cur) != 0)
		return 4;
	if (!sigismember(&cur, SIGWINCH) || sigismember(&cur, SIGUSR1) ||
	    sigismember(&cur, SIGTERM))
		return 5;			/* not the parent's mask */
	return 0;
}

static void
test_signals(void **state)
{
	struct sigaction	sa;
	sigset_t		mask, before, after;
	pid_t			pid;
	int			status;

	(void)state;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sig;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGUSR2, &sa, NULL), 0);
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_info;
	assert_int_equal(sigaction(SIGHUP, &sa, NULL), 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &mask, &before), 0);

	pid = proc_fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(child_checks());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent kept its handlers and its mask */
	assert_true(handler_is(SIGUSR1, on_sig));
	assert_true(handler_is(SIGUSR2, SIG_IGN));
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
	assert_true(sigismember(&after, SIGWINCH));
	assert_false(sigismember(&after, SIGUSR1));
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &before, NULL), 0);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

/*
 * fatal's way out, seen from outside: an atexit handler writes a byte to
 * a pipe; exit(3) runs it, _exit(2) does not.
 */
static int	atexit_fd = -1;
static void	atexit_mark(void) { (void)write(atexit_fd, "x", 1); }

static void *
thread_fatal(void *arg)
{
	(void)arg;
	fatalx("test: fatalx in a worker thread");
}

enum how { PLAIN_CHILD, FORKED_CHILD, WORKER_THREAD };

/* The child's exit status and whether its atexit handler ran. */
static void
run_fatal(enum how how, int *status, int *ran)
{
	pthread_t	t;
	pid_t		pid;
	char		c;
	int		p[2];

	assert_int_equal(pipe(p), 0);
	pid = how == FORKED_CHILD ? proc_fork() : fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		atexit_fd = p[1];
		atexit(atexit_mark);
		if (how == WORKER_THREAD) {
			if (pthread_create(&t, NULL, thread_fatal, NULL) != 0)
				_exit(99);
			pthread_join(t, NULL);
			_exit(98);
		}
		fatalx("test: fatalx in a child");
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	*ran = read(p[0], &c, 1) == 1;
	close(p[0]);
}

static void
test_fatal_exit(void **state)
{
	static const struct {
		const char	*what;
		enum how	 how;
		int		 atexit_runs;
	} cases[] = {
		{ "a main thread (plain fork: the control) exits", PLAIN_CHILD, 1 },
		{ "a proc_fork child _exits", FORKED_CHILD, 0 },
		{ "a worker thread _exits", WORKER_THREAD, 0 },
	};
	size_t	i;
	int	status, ran;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		run_fatal(cases[i].how, &status, &ran);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
		    ran != cases[i].atexit_runs)
			fail_msg("%s: status %#x, atexit %s", cases[i].what,
			    (unsigned)status, ran ? "ran" : "did not run");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_fatal_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
