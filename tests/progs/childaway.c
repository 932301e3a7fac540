/*
 * childaway: a child's exit, and other signals, reach a process that waits
 * away in a call with a signal mask of its own (issue 10, section 2).
 *
 * It blocks SIGCHLD and SIGUSR2 (caught), forks a child at home that waits
 * for its end, says "child PID" and READY, and waits for SIGUSR1 (the test
 * moves it meanwhile). Then, wherever it runs, three times: it says the
 * name of a call and waits in it (30 s at most) with both signals unblocked
 * only by the call's own mask, as GNU make's jobserver does:
 *
 *   pselect   the test ends the child: its SIGCHLD must end the call
 *   ppoll     the test sends SIGUSR2
 *   epoll     (epoll_pwait) the test sends SIGUSR2
 *
 * Each must fail with EINTR with the handler run once, under the call's
 * mask (SIGUSR2 or SIGCHLD not blocked in it), and the process's own mask
 * back after (both blocked). Last, waitpid (which brings it home) finds
 * the child ended by SIGTERM. Ends with PASS and status 0.
 */
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <time.h>

#include "prog.h"

static volatile sig_atomic_t	got_chld, got_usr2, other_open;

static void
on_sig(int sig)
{
	sigset_t	cur;

	/* under the call's mask: the other signal is not blocked here */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (sig == SIGCHLD) {
		got_chld++;
		other_open = !sigismember(&cur, SIGUSR2);
	} else {
		got_usr2++;
		other_open = !sigismember(&cur, SIGCHLD);
	}
}

static void
after(const char *call, int rc, int err, volatile sig_atomic_t *count)
{
	sigset_t	cur;

	CHECK(rc == -1 && err == EINTR, "%s: returned %d (%s), not EINTR", call,
	    rc, rc == -1 ? strerror(err) : "no error");
	CHECK(*count == 1, "%s: its handler ran %d times", call, (int)*count);
	CHECK(other_open, "%s: the handler did not run under the call's mask",
	    call);
	sigprocmask(SIG_BLOCK, NULL, &cur);
	CHECK(sigismember(&cur, SIGCHLD) && sigismember(&cur, SIGUSR2),
	    "%s: its own mask is not back after the call", call);
}

static void
say(const char *what)
{
	printf("%s\n", what);
	fflush(stdout);
}

int
main(void)
{
	struct sigaction	sa;
	struct timespec		ts = { 30, 0 };
	struct epoll_event	ev;
	struct pollfd		pfd;
	sigset_t		set, empty;
	fd_set			rfds;
	pid_t			child, w;
	int			p[2], ep, rc, err, st;

	prog_arm("childaway");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) == -1 ||
	    sigaction(SIGUSR2, &sa, NULL) == -1)
		prog_die("sigaction");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		prog_die("sigprocmask");
	sigemptyset(&empty);
	if (pipe(p) == -1)
		prog_die("pipe");	/* never written: the calls wait on it */
	if ((child = fork()) == -1)
		prog_die("fork");
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		signal(SIGTERM, SIG_DFL);
		for (;;)
			pause();
	}
	printf("child %d\n", (int)child);
	prog_ready();
	prog_wait_usr1();

	FD_ZERO(&rfds);
	FD_SET(p[0], &rfds);
	say("pselect");
	rc = pselect(p[0] + 1, &rfds, NULL, NULL, &ts, &empty);
	err = errno;
	after("pselect", rc, err, &got_chld);

	pfd.fd = p[0];
	pfd.events = POLLIN;
	other_open = 0;
	say("ppoll");
	rc = ppoll(&pfd, 1, &ts, &empty);
	err = errno;
	after("ppoll", rc, err, &got_usr2);

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		prog_die("epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1)
		prog_die("epoll_ctl");
	other_open = 0;
	got_usr2 = 0;
	say("epoll");
	rc = epoll_pwait(ep, &ev, 1, 30000, &empty);
	err = errno;
	after("epoll_pwait", rc, err, &got_usr2);

	w = waitpid(child, &st, 0);
	CHECK(w == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
	    "waitpid: %d, status %#x", (int)w, w == child ? st : 0);
	return prog_finish();
}
