/*
 * ckptdrv: the engine's test bench, no daemon involved.
 *
 *   ckptdrv dump [--kill|--leave-running] [--delay-ms N | --wait-ready]
 *       [--full-files] [--kick SIG] [-v] -o FILE -- CMD ARGS...
 *   ckptdrv restore [-v] FILE
 *
 * dump runs CMD as a seized tracee, dumps it after N ms (default 1000) or
 * once the file named by $CKPTDRV_READY exists, and prints the stats on
 * stderr; with --leave-running it then serves as CMD's tracer until CMD
 * exits and exits with CMD's status (128+sig if killed). --kill is the
 * default. restore forks an idle stub, restores FILE into it, serves as its
 * tracer and exits with its status; 125 on any error of its own. A failed
 * dump kills CMD with --kill; with --leave-running CMD runs on to its end
 * (the engine resumed it) and ckptdrv still exits 125. --kick sends SIG
 * (USR1, or a number) to CMD just before the dump, a signal racing it.
 */
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/ckpt.h"
#include "omm/log.h"

#define EXIT_OWN	125
#define SEIZE_OPTS	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC |	\
	PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)

static sigset_t	 oldmask;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_OWN;
}

/*
 * Handle one wait status of any tracee: pass signals through, resume past
 * event stops, keep group stops (PTRACE_LISTEN). Returns 1 when main ended.
 */
static int
handle(pid_t w, int st, pid_t main_pid, int *main_status)
{
	int	sig, ev;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		if (w == main_pid) {
			*main_status = st;
			return 1;
		}
		return 0;
	}
	if (!WIFSTOPPED(st))
		return 0;
	sig = WSTOPSIG(st);
	ev = st >> 16;
	if (ev == PTRACE_EVENT_STOP) {
		if (sig != SIGTRAP)
			ptrace(PTRACE_LISTEN, w, 0, 0);
		else
			ptrace(PTRACE_CONT, w, 0, 0);
	} else if (ev != 0 || sig == (SIGTRAP | 0x80))
		ptrace(PTRACE_CONT, w, 0, 0);
	else
		ptrace(PTRACE_CONT, w, 0, sig);
	return 0;
}

/*
 * Serve every tracee until main ends, or until deadline (0: none) passes,
 * or until the file ready exists. Returns 1 when main ended.
 */
static int
serve(pid_t main_pid, double deadline, const char *ready, int *main_status)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	struct stat	 sb;
	sigset_t	 chld;
	pid_t		 w;
	int		 st;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		if (deadline == 0 && ready == NULL) {
			w = waitpid(-1, &st, __WALL);
			if (w == -1 && errno == EINTR)
				continue;
			if (w == -1)
				fatal("waitpid");
			if (handle(w, st, main_pid, main_status))
				return 1;
			continue;
		}
		while ((w = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
			if (handle(w, st, main_pid, main_status))
				return 1;
		}
		if (deadline != 0 && now() >= deadline)
			return 0;
		if (ready != NULL && stat(ready, &sb) == 0)
			return 0;
		sigtimedwait(&chld, NULL, &ts);
	}
}

/* "USR1", "SIGUSR1" or "10". */
static int
signal_number(const char *s)
{
	char	*end;
	long	 n;
	int	 sig;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (sig = 1; sig < 32; sig++) {
		if (sigabbrev_np(sig) != NULL && strcmp(sigabbrev_np(sig), s) == 0)
			return sig;
	}
	n = strtol(s, &end, 10);
	return *end == '\0' && n > 0 && n <= 64 ? (int)n : -1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ckptdrv dump [--kill|--leave-running] "
	    "[--delay-ms N | --wait-ready] [--full-files] [--kick SIG] [-v] "
	    "-o FILE -- CMD ARGS...\n       ckptdrv restore [-v] FILE\n");
	exit(EXIT_OWN);
}

/* Fork CMD held on a pipe until it is seized, so exec is traced. */
static pid_t
spawn(char **argv)
{
	pid_t	pid;
	int	p[2];
	char	c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		execvp(argv[0], argv);
		fprintf(stderr, "ckptdrv: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	if (ptrace(PTRACE_SEIZE, pid, 0, SEIZE_OPTS) == -1)
		fatal("PTRACE_SEIZE %ld", (long)pid);
	close(p[1]);
	return pid;
}

static int
cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kill", no_argument, NULL, 'k' },
		{ "leave-running", no_argument, NULL, 'l' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "wait-ready", no_argument, NULL, 'r' },
		{ "full-files", no_argument, NULL, 'f' },
		{ "kick", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct ckpt_opts	 opts = { CKPT_KILL };
	struct ckpt_stats	 stats;
	const char		*out = NULL, *ready = NULL;
	char			*cause = NULL, *end;
	long			 delay = 1000;
	pid_t			 pid;
	int			 ch, fd, st = 0, ended, kick = 0;

	while ((ch = getopt_long(argc, argv, "+o:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			opts.flags = (opts.flags & ~CKPT_LEAVE_RUNNING) | CKPT_KILL;
			break;
		case 'l':
			opts.flags = (opts.flags & ~CKPT_KILL) | CKPT_LEAVE_RUNNING;
			break;
		case 'd':
			delay = strtol(optarg, &end, 10);
			if (*end != '\0' || delay < 0)
				usage();
			break;
		case 'r':
			if ((ready = getenv("CKPTDRV_READY")) == NULL) {
				fprintf(stderr, "ckptdrv: --wait-ready needs "
				    "CKPTDRV_READY\n");
				return EXIT_OWN;
			}
			break;
		case 'f':
			opts.flags |= CKPT_FULL_FILES;
			break;
		case 'K':
			if ((kick = signal_number(optarg)) == -1)
				usage();
			break;
		case 'o':
			out = optarg;
			break;
		case 'v':
			log_setverbose(log_getverbose() + 1);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (out == NULL || argc < 1)
		usage();
	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "ckptdrv: %s: %s\n", out, strerror(errno));
		return EXIT_OWN;
	}
	pid = spawn(argv);
	ended = serve(pid, ready != NULL ? 0 : now() + delay / 1000.0, ready, &st);
	if (ended) {
		fprintf(stderr, "ckptdrv: %s exited before the dump (status %d)\n",
		    argv[0], exit_code(st));
		return EXIT_OWN;
	}
	if (kick != 0)
		kill(pid, kick);
	if (ckpt_dump(pid, fd, &opts, &stats, &cause) == -1) {
		fprintf(stderr, "ckptdrv: dump: %s\n", cause);
		free(cause);
		/* The engine resumed it: left running, it may finish its work. */
		if (!stats.exited) {
			if (opts.flags & CKPT_KILL)
				kill(pid, SIGKILL);
			serve(pid, 0, NULL, &st);
		}
		return EXIT_OWN;
	}
	if (fsync(fd) == -1 && errno != EINVAL)
		log_warn("fsync %s", out);
	close(fd);
	fprintf(stderr, "dump: vmas=%" PRIu64 " pages=%" PRIu64 " zero=%" PRIu64
	    " bytes=%" PRIu64 " freeze=%.3fs secs=%.3fs\n", stats.vmas,
	    stats.pages, stats.zero_pages, stats.bytes, stats.freeze_secs,
	    stats.secs);
	if (stats.exited)
		st = stats.wstatus;
	else
		serve(pid, 0, NULL, &st);
	if (opts.flags & CKPT_KILL)
		return 0;
	return exit_code(st);
}

static int
cmd_restore(int argc, char **argv)
{
	struct restore_opts	 opts = { 0 };
	struct ckpt_stats	 stats;
	char			*cause = NULL, c;
	pid_t			 pid;
	int			 ch, fd, p[2], st = 0;

	while ((ch = getopt(argc, argv, "v")) != -1) {
		switch (ch) {
		case 'v':
			log_setverbose(log_getverbose() + 1);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "ckptdrv: restore: %s: %s\n", argv[0],
		    strerror(errno));
		return EXIT_OWN;
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		/* The stub: nothing open but 0-2; closing p[1] says "ready". */
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		syscall(SYS_close_range, 3, ~0U, 0);
		for (;;)
			pause();
	}
	close(p[1]);
	if (ptrace(PTRACE_SEIZE, pid, 0, SEIZE_OPTS) == -1)
		fatal("PTRACE_SEIZE %ld", (long)pid);
	while (read(p[0], &c, 1) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (ckpt_restore(pid, fd, &opts, &stats, &cause) == -1) {
		fprintf(stderr, "ckptdrv: restore: %s\n", cause);
		free(cause);
		waitpid(pid, &st, __WALL);
		return EXIT_OWN;
	}
	close(fd);
	fprintf(stderr, "restore: pid=%ld pages=%" PRIu64 " bytes=%" PRIu64
	    " secs=%.3fs\n", (long)pid, stats.pages, stats.bytes, stats.secs);
	serve(pid, 0, NULL, &st);
	return exit_code(st);
}

int
main(int argc, char **argv)
{
	sigset_t	chld;

	log_init("ckptdrv", LOG_TO_STDERR, 0);
	if (argc < 2)
		usage();
	/* SIGCHLD is waited for with sigtimedwait while serving. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &oldmask);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(argc - 1, argv + 1);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc - 1, argv + 1);
	usage();
}
