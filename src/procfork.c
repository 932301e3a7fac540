/* procfork.c: fork(2) with signals blocked across it (procfork.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procfork.h"

/* In the child: caught signals back to SIG_DFL, as execve would do. */
static void
reset_handlers(void)
{
	struct sigaction	sa, dfl;
	int			sig;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* the C library's own real-time signals refuse: skipped */
		if (sigaction(sig, NULL, &sa) == -1)
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		(void)sigaction(sig, &dfl, NULL);
	}
}

pid_t
proc_fork(void)
{
	sigset_t	all, old;
	pid_t		pid;
	int		saved;

	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_BLOCK, &all, &old)) != 0)
		return -1;
	pid = fork();
	saved = errno;
	if (pid == 0) {
		log_forked();
		reset_handlers();
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}
