/*
 * children: a process with children of its own (issue 10, section 2): one
 * that runs (it waits in pause()) and one that has exited and was not
 * waited for. Their pids go to $PROG_CHILDREN (one a line) when set. A
 * checkpoint of this process alone must be refused naming a child (its
 * restored copy would have none: wait() would fail with ECHILD); a
 * migration keeps it the parent (its original stays home). At each check
 * (children [CHECKS], one per SIGUSR1) both must still be its children;
 * the last check reaps them: the running one after SIGTERM, with its
 * signal, the exited one with its status 7.
 */
#include <sys/wait.h>

#include "prog.h"

static int
still_mine(pid_t pid)
{
	siginfo_t	si;

	/* WNOWAIT: look, do not reap */
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	const char	*path = getenv("PROG_CHILDREN");
	pid_t		 run, done, w;
	FILE		*f;
	int		 st, checks = prog_checks(argc, argv), c;

	prog_arm("children");
	if ((run = fork()) == -1)
		prog_die("fork");
	if (run == 0) {
		for (;;)
			pause();
	}
	if ((done = fork()) == -1)
		prog_die("fork");
	if (done == 0)
		_exit(7);
	/* the second one is a zombie before we go on */
	for (;;) {
		siginfo_t	si;

		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)done, &si, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR)
			prog_die("waitid");
	}
	if (path != NULL && *path != '\0') {
		if ((f = fopen(path, "w")) == NULL)
			prog_die(path);
		fprintf(f, "%d\n%d\n", (int)run, (int)done);
		fclose(f);
	}
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		CHECK(still_mine(run), "running child: waitid: %s",
		    strerror(errno));
		CHECK(still_mine(done), "exited child: waitid: %s",
		    strerror(errno));
		if (c < checks) {
			printf("check %d: 2 children\n", c);
			fflush(stdout);
			continue;
		}
		kill(run, SIGTERM);
		w = waitpid(run, &st, 0);
		CHECK(w == run && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM,
		    "running child: waitpid gave %d (%s), status %#x", (int)w,
		    w == -1 ? strerror(errno) : "ok", st);
		w = waitpid(done, &st, 0);
		CHECK(w == done && WIFEXITED(st) && WEXITSTATUS(st) == 7,
		    "exited child: waitpid gave %d (%s), status %#x", (int)w,
		    w == -1 ? strerror(errno) : "ok", st);
		printf("check %d: 2 children reaped\n", c);
		fflush(stdout);
	}
	return prog_finish();
}
