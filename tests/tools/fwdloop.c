/*
 * fwdloop: the whole forwarded-call data path on one machine, no network.
 *
 *	fwdloop [-v] -- command [arg ...]
 *	fwdloop [-v] -b count
 *
 * Forks the command as a guest under the seccomp filter (trap.c). This
 * process is both its remote supervisor and its deputy: each call is read
 * out of the guest's memory and encoded (marshal.c), decoded and run as the
 * deputy would (deputy.c), and the reply encoded, decoded and written back:
 * the real bytes of the wire path, with a function call where the TLS link
 * will be. The deputy's descriptors are ours, so the guest's fds 0-2 are ours
 * and files it opens are opened here, at numbers it then uses in later calls;
 * our own descriptors live at FD_FLOOR and above.
 *
 * The guest's first execve runs natively; any other call that would bring
 * the process home gets ENOSYS here and is counted. The exit status is the
 * guest's (a signal is raised again). With FWDLOOP_NO_LOCAL_FILES=1 every
 * file mapping is a copy fetched from the deputy instead of the local file.
 *
 * -b count measures instead: round trips of getppid() and of a 4 KiB pread()
 * run natively and forwarded, count times each (median, p99, ratio), and
 * the floor: a notification answered at once.
 * -v prints counters at the end.
 */
#include <sys/mman.h>
#include <sys/poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/deputy.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/sysent.h"
#include "omm/trap.h"
#include "omm/xmalloc.h"

#define FD_FLOOR	900	/* our own descriptors: at or above */
/*
 * A number no kernel has: natively ENOSYS at once; under the filter a
 * notification the supervisor answers at once (the floor of any forwarded
 * call on this machine, without marshalling or the deputy).
 */
#define BENCH_NOSYS	1000

/* What the guest tells us across fork, in a shared page. */
struct handoff {
	_Atomic int	state;		/* 0 waiting, 1 ready, -1 failed */
	int		nfd;		/* the notification fd, in the guest */
	int		tflags;		/* TRAP_KILLABLE */
	char		err[256];
};

static int		 verbose;
static int		 errfd = 2;	/* our stderr, kept above FD_FLOOR */
static uint64_t		 bringhome[SYSENT_MAX];

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fwdloop [-v] -- command [arg ...]\n"
	    "       fwdloop [-v] -b count\n");
	exit(2);
}

static void
futex_wake(_Atomic int *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Wait for the guest's handoff; -1 when it died first or took too long. */
static int
wait_handoff(struct handoff *h, pid_t pid)
{
	struct timespec	ts = { 0, 50 * 1000 * 1000 };
	int		i, st;

	for (i = 0; i < 200; i++) {
		if (atomic_load(&h->state) != 0)
			return atomic_load(&h->state) == 1 ? 0 : -1;
		syscall(SYS_futex, &h->state, FUTEX_WAIT, 0, &ts, NULL, 0);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
	}
	return -1;
}

/* A command word as execvp would find it; searched now, before the filter. */
static char *
find_command(const char *cmd)
{
	const char	*path = getenv("PATH"), *p, *e;
	char		*full;

	if (strchr(cmd, '/') != NULL)
		return xstrdup(cmd);
	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0'; p = e) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		xasprintf(&full, "%.*s/%s", (int)(e - p), e == p ? "." : p, cmd);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
		if (*e == ':')
			e++;
	}
	return xstrdup(cmd);
}

/* The loopback link: the deputy is right here. */
static int
loop_call(void *arg, uint16_t type, const uint8_t *p, size_t n, struct buf *rep,
    uint16_t *rtype, char **cause)
{
	return deputy_handle(arg, type, p, n, rep, rtype, cause);
}

/* A call home cannot run remotely: the first execve runs, others get ENOSYS. */
static int
bring_home(struct trap_guest *g, const struct trap_notif *n, int *execed,
    char **cause)
{
	if (n->nr == BENCH_NOSYS)
		return trap_respond(g, n->id, -ENOSYS, cause) == -1 ? -1 : 0;
	if (n->nr >= 0 && n->nr < SYSENT_MAX)
		bringhome[n->nr]++;
	if (n->nr == SYS_execve && !*execed) {
		*execed = 1;
		return trap_continue(g, n->id, cause) == -1 ? -1 : 0;
	}
	log_debug("pid %d: %s would go home: ENOSYS", (int)n->pid,
	    sysent_name(n->nr));
	return trap_respond(g, n->id, -ENOSYS, cause) == -1 ? -1 : 0;
}

static int
serve(struct trap_guest *g, struct deputy *d, int bench)
{
	struct trap_link	 link = { loop_call, d };
	struct trap_notif	 n;
	struct pollfd		 pfd = { trap_fd(g), POLLIN, 0 };
	char			*cause = NULL;
	int			 rc, execed = bench;

	for (;;) {
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/* No task left under the filter: the guest is gone. */
		if (!(pfd.revents & POLLIN))
			return 0;
		rc = trap_serve(g, &link, &n, &cause);
		if (rc == TRAP_BRINGHOME)
			rc = bring_home(g, &n, &execed, &cause);
		if (rc == -1) {
			log_warnx("%s", cause);
			free(cause);
			return -1;
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Time n calls of one kind: 0 getppid, 1 pread of 4 KiB from fd, 2 floor. */
static void
bench_run(int kind, int fd, uint64_t *t, int n)
{
	static char	b[4096];
	uint64_t	t0;
	int		i;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (kind == 0)
			syscall(SYS_getppid);
		else if (kind == 2)
			syscall(BENCH_NOSYS);
		else if (pread(fd, b, sizeof b, 0) != sizeof b)
			_exit(3);
		t[i] = now_ns() - t0;
	}
	qsort(t, n, sizeof *t, cmp_u64);
}

/* In the guest: native first, then under the filter, forwarded. */
static void __attribute__((noreturn))
bench_child(struct handoff *h, int n, int fd)
{
	static const char	*what[] = { "getppid()", "pread(4 KiB)",
				    "floor" };
	uint64_t		*t[3][2];
	char			*cause = NULL;
	int			 k;

	for (k = 0; k < 3; k++) {
		t[k][0] = xcalloc(n, sizeof (uint64_t));
		t[k][1] = xcalloc(n, sizeof (uint64_t));
		bench_run(k, fd, t[k][0], n);
	}
	if ((h->nfd = trap_filter_install(&h->tflags, &cause)) == -1) {
		snprintf(h->err, sizeof h->err, "%s", cause);
		atomic_store(&h->state, -1);
		futex_wake(&h->state);
		_exit(126);
	}
	atomic_store(&h->state, 1);
	futex_wake(&h->state);
	for (k = 0; k < 3; k++)
		bench_run(k, fd, t[k][1], n);
	for (k = 0; k < 3; k++) {
		dprintf(1, "%-13s native   median %7.2f us  p99 %7.2f us\n",
		    what[k], t[k][0][n / 2] / 1e3, t[k][0][n * 99 / 100] / 1e3);
		dprintf(1, "%-13s forwarded median %7.2f us  p99 %7.2f us  "
		    "(x%.1f median)\n", what[k], t[k][1][n / 2] / 1e3,
		    t[k][1][n * 99 / 100] / 1e3,
		    (double)t[k][1][n / 2] / (t[k][0][n / 2] ? t[k][0][n / 2] : 1));
	}
	_exit(0);
}

static void
report(struct trap_guest *g, struct deputy *d, pid_t pid, int status,
    int tflags)
{
	const struct trap_stats		*ts = trap_stats(g);
	const struct deputy_stats	*ds = deputy_stats(d);
	int				 i, j, best;
	uint8_t				 shown[SYSENT_MAX] = { 0 };

	dprintf(errfd, "fwdloop: guest %d %s %d; %llu notifications: %llu "
	    "home, %llu fmap, %llu bring-home, %llu refused at once, %llu "
	    "local; sync wakeup %s, killable wait %s\n", (int)pid,
	    WIFSIGNALED(status) ? "killed by signal" : "exited",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
	    (unsigned long long)ts->notifs,
	    (unsigned long long)ts->by_where[SY_HOME],
	    (unsigned long long)ts->by_where[SY_FMAP],
	    (unsigned long long)ts->by_where[SY_BRINGHOME],
	    (unsigned long long)(ts->refused + ts->by_where[SY_REFUSE]),
	    (unsigned long long)ts->by_where[SY_LOCAL],
	    trap_sync_wakeup(g) ? "on" : "off",
	    tflags & TRAP_KILLABLE ? "on" : "off");
	dprintf(errfd, "fwdloop: fmap: %llu local files, %llu copies, %llu "
	    "/dev/zero, %llu home, %llu refused; %llu bytes sent home, %llu "
	    "received; %llu signals; deputy: %llu calls, %llu errors, %llu "
	    "emulated, %llu bad fds\n", (unsigned long long)ts->fmap_local,
	    (unsigned long long)ts->fmap_copy, (unsigned long long)ts->fmap_zero,
	    (unsigned long long)ts->fmap_home,
	    (unsigned long long)ts->fmap_refused,
	    (unsigned long long)ts->bytes_req, (unsigned long long)ts->bytes_rep,
	    (unsigned long long)ts->signals, (unsigned long long)ds->calls,
	    (unsigned long long)ds->errors,
	    (unsigned long long)ds->by_via[SYV_EMUL],
	    (unsigned long long)ds->badfd);
	dprintf(errfd, "fwdloop: top calls:");
	for (j = 0; j < 12; j++) {
		best = -1;
		for (i = 0; i < SYSENT_MAX; i++) {
			if (!shown[i] && ts->by_nr[i] > 0 && (best == -1 ||
			    ts->by_nr[i] > ts->by_nr[best]))
				best = i;
		}
		if (best == -1)
			break;
		shown[best] = 1;
		dprintf(errfd, " %s %llu", sysent_name(best),
		    (unsigned long long)ts->by_nr[best]);
	}
	dprintf(errfd, "\nfwdloop: bring-home:");
	for (i = 0; i < SYSENT_MAX; i++) {
		if (bringhome[i] != 0)
			dprintf(errfd, " %s %llu", sysent_name(i),
			    (unsigned long long)bringhome[i]);
	}
	dprintf(errfd, "\n");
}

int
main(int argc, char **argv)
{
	struct handoff		*h;
	struct trap_guest	*g;
	struct deputy		*d;
	char			*cause = NULL, *path = NULL;
	pid_t			 pid;
	int			 ch, bench = 0, benchfd = -1, pidfd, nfd, status;
	int			 tflags = 0;
	const char		*env;

	while ((ch = getopt(argc, argv, "b:v")) != -1) {
		switch (ch) {
		case 'b':
			if ((bench = atoi(optarg)) < 100)
				usage();
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if ((bench == 0) == (argc == 0))
		usage();
	log_init("fwdloop", LOG_TO_STDERR, verbose > 1);
	if (trap_probe(&cause) == -1)
		fatalx("%s", cause);
	if ((errfd = fcntl(2, F_DUPFD_CLOEXEC, FD_FLOOR)) == -1)
		fatal("dup stderr");
	if ((env = getenv("FWDLOOP_NO_LOCAL_FILES")) != NULL && *env == '1')
		tflags |= TRAP_NO_LOCAL_FILES;
	if (bench && (benchfd = open("/proc/self/exe", O_RDONLY)) == -1)
		fatal("/proc/self/exe");
	if (!bench)
		path = find_command(argv[0]);

	h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		fatal("mmap");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (bench)
			bench_child(h, bench, benchfd);
		if ((h->nfd = trap_filter_install(&h->tflags, &cause)) == -1) {
			snprintf(h->err, sizeof h->err, "%s", cause);
			atomic_store(&h->state, -1);
			futex_wake(&h->state);
			_exit(126);
		}
		atomic_store(&h->state, 1);
		futex_wake(&h->state);
		execv(path, argv);
		/* Forwarded from here on, like any write of the guest. */
		dprintf(2, "fwdloop: %s: %s\n", path, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}

	if (wait_handoff(h, pid) == -1)
		fatalx("guest %d: %s", (int)pid, h->err[0] ? h->err :
		    "no notification fd");
	if ((pidfd = syscall(SYS_pidfd_open, pid, 0)) == -1)
		fatal("pidfd_open");
	if ((nfd = syscall(SYS_pidfd_getfd, pidfd, h->nfd, 0)) == -1)
		fatal("pidfd_getfd");
	close(pidfd);
	/* Out of the guest's fd range, like every fd of ours. */
	if ((ch = fcntl(nfd, F_DUPFD_CLOEXEC, FD_FLOOR)) == -1)
		fatal("dup");
	close(nfd);
	nfd = ch;
	if ((d = deputy_new(pid, FD_FLOOR, &cause)) == NULL)
		fatalx("deputy: %s", cause);
	if ((g = trap_open(nfd, pid, tflags | h->tflags, &cause)) == NULL)
		fatalx("%s", cause);

	if (serve(g, d, bench) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		exit(125);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (verbose)
		report(g, d, pid, status, h->tflags);
	trap_close(g);
	deputy_free(d);
	free(path);
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
		exit(128 + WTERMSIG(status));
	}
	return WEXITSTATUS(status);
}
