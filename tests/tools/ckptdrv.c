/*
 * ckptdrv: the engine's test bench, no daemon involved.
 *
 *   ckptdrv dump [--kill|--leave-running] [--delay-ms N | --wait-ready]
 *       [--full-files] [--kick SIG] [-v] -o FILE -- CMD ARGS...
 *   ckptdrv restore [-v] FILE
 *   ckptdrv migrate-loop [--as-user USER] [--delay-ms N | --wait-ready] [-v]
 *       -- CMD ARGS...
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
 *
 * migrate-loop is a migration on one machine, with the pieces the daemons
 * use (docs/migration.md): CMD (P) is dumped for a guest (CKPT_MIGRATE |
 * CKPT_LEAVE_STOPPED) after N ms (default $CKPTDRV_DELAY_MS, else 1000),
 * a stub running as USER (default nobody) is restored from the stream as
 * the guest G under the seccomp filter, a deputy D holding P's descriptors
 * under P's credentials serves G's forwarded calls over a socketpair, and
 * P is parked. Signals for P go to G. When G exits, P exits the same way;
 * when G needs home (fork, execve...), G is dumped, restored into P, P
 * takes D's descriptors and goes on at home. Exits with CMD's status.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/filter.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/deputy.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/procfs.h"
#include "omm/sysent.h"
#include "omm/trap.h"
#include "omm/xmalloc.h"

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
	    "-o FILE -- CMD ARGS...\n       ckptdrv restore [-v] FILE\n"
	    "       ckptdrv migrate-loop [--as-user USER] [--delay-ms N | "
	    "--wait-ready] [-v] -- CMD ARGS...\n");
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
	struct ckpt_opts	 opts = { .flags = CKPT_KILL };
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
	struct restore_opts	 opts = { .flags = 0 };
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

/* ---- migrate-loop ---- */

#define FD_FLOOR	900	/* the deputy's own descriptors: at or above */
#define FRAME_HDR	6	/* u16 type, u32 length */

/* One copy of a stream from in to out, on a thread of its own. */
struct relay {
	pthread_t	 t;
	int		 in, out;
	int		 close_out;
	int		 err;
};

static void *
relay_run(void *arg)
{
	struct relay	*r = arg;
	char		 b[65536];
	ssize_t		 n, w, off;

	for (;;) {
		n = read(r->in, b, sizeof b);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->err = n == -1 ? errno : 0;
			break;
		}
		for (off = 0; off < n; off += w) {
			w = write(r->out, b + off, n - off);
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				r->err = errno;
				goto out;
			}
		}
	}
out:
	if (r->close_out)
		close(r->out);
	return NULL;
}

static void
relay_start(struct relay *r, int in, int out, int close_out)
{
	r->in = in;
	r->out = out;
	r->close_out = close_out;
	r->err = 0;
	if (pthread_create(&r->t, NULL, relay_run, r) != 0)
		fatalx("pthread_create");
}

/*
 * Dump pid into a memfd through a pipe (the stream never seeks), then
 * restore stub from it through another pipe, as D and S do across nodes.
 */
static int
dump_stream(pid_t pid, int flags, int *mfd, struct ckpt_stats *st,
    char **cause)
{
	struct ckpt_opts	opts = { .flags = flags };
	struct relay		r;
	int			p[2], rv;

	if ((*mfd = memfd_create("ckptdrv-image", MFD_CLOEXEC)) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		fatal("memfd/pipe");
	relay_start(&r, p[0], *mfd, 0);
	rv = ckpt_dump(pid, p[1], &opts, st, cause);
	close(p[1]);
	pthread_join(r.t, NULL);
	close(p[0]);
	if (rv == 0 && r.err != 0)
		rv = cause_set(cause, "image stream: %s", strerror(r.err));
	return rv;
}

static int
restore_stream(pid_t stub, int mfd, struct restore_opts *opts,
    struct ckpt_stats *st, char **cause)
{
	struct relay	r;
	int		p[2], rv;

	if (lseek(mfd, 0, SEEK_SET) == -1 || pipe2(p, O_CLOEXEC) == -1)
		fatal("lseek/pipe");
	relay_start(&r, mfd, p[1], 1);
	rv = ckpt_restore(stub, p[0], opts, st, cause);
	close(p[0]);		/* a writer still at it gets EPIPE */
	pthread_join(r.t, NULL);
	return rv;
}

static int
full_io(int fd, void *p, size_t len, int wr)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = wr ? write(fd, (char *)p + done, len - done) :
		    read(fd, (char *)p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

static int
frame_send(int fd, uint16_t type, const uint8_t *p, size_t len)
{
	uint8_t	h[FRAME_HDR];
	uint32_t l = len;

	memcpy(h, &type, 2);
	memcpy(h + 2, &l, 4);
	if (full_io(fd, h, sizeof h, 1) == -1)
		return -1;
	return len == 0 ? 0 : full_io(fd, (void *)p, len, 1);
}

/* A frame into b; -1 at end of stream or on a frame too big. */
static int
frame_recv(int fd, uint16_t *type, struct buf *b)
{
	uint8_t	 h[FRAME_HDR];
	uint32_t l;
	void	*p;

	if (full_io(fd, h, sizeof h, 0) == -1)
		return -1;
	memcpy(type, h, 2);
	memcpy(&l, h + 2, 4);
	if (l > MARSHAL_MSG_MAX)
		return -1;
	p = xmalloc(l ? l : 1);
	if (full_io(fd, p, l, 0) == -1) {
		free(p);
		return -1;
	}
	buf_add(b, p, l);
	free(p);
	return 0;
}

/* The trap's way home: a round trip over the socketpair to the deputy. */
static int
link_call(void *arg, uint16_t type, const uint8_t *p, size_t n,
    struct buf *rep, uint16_t *rtype, char **cause)
{
	int	fd = *(int *)arg;

	if (frame_send(fd, type, p, n) == -1 ||
	    frame_recv(fd, rtype, rep) == -1)
		return cause_set(cause, "deputy link: %s", errno ? strerror(errno) :
		    "closed");
	return 0;
}

/* Credentials of pid from its status: real, effective, saved; groups. */
static int
creds_of(pid_t pid, uid_t u[3], gid_t g[3], gid_t *groups, int *ng)
{
	char	*text, *line, *save = NULL, *tok, *end;

	if (procfs_slurp(pid, "status", &text, NULL, NULL) == -1)
		return -1;
	*ng = 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Uid:", 4) == 0)
			sscanf(line + 4, "%u %u %u", &u[0], &u[1], &u[2]);
		else if (strncmp(line, "Gid:", 4) == 0)
			sscanf(line + 4, "%u %u %u", &g[0], &g[1], &g[2]);
		else if (strncmp(line, "Groups:", 7) == 0) {
			for (tok = line + 7; *ng < 64; tok = end) {
				groups[*ng] = strtoul(tok, &end, 10);
				if (end == tok)
					break;
				(*ng)++;
			}
		}
	}
	free(text);
	return 0;
}

/*
 * The deputy: P's descriptors at the same numbers, its cwd and umask, its
 * credentials, dumpable (P takes the descriptors back from it), serving
 * frames on sock until it closes. Never returns.
 */
static void __attribute__((noreturn))
deputy_main(pid_t orig, int sock)
{
	struct deputy	*d;
	struct buf	 req, rep;
	uid_t		 u[3];
	gid_t		 g[3], groups[64];
	uint16_t	 type, rtype;
	char		*cause = NULL, path[64];
	int		*fds, pidfd, fd, ng;
	size_t		 n, i;
	struct procfs_fdinfo	fi;
	struct procfs_status	ps;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((fd = fcntl(sock, F_DUPFD_CLOEXEC, FD_FLOOR)) == -1)
		_exit(120);
	sock = fd;
	/* Its messages until P's stderr is in place at 2. */
	if (fcntl(2, F_DUPFD_CLOEXEC, FD_FLOOR + 1) == -1)
		_exit(120);
	if (procfs_fds(orig, &fds, &n, &cause) == -1 ||
	    procfs_status(orig, &ps, &cause) == -1 ||
	    creds_of(orig, u, g, groups, &ng) == -1)
		fatalx("deputy: %s", cause != NULL ? cause : "credentials");
	if ((fd = syscall(SYS_pidfd_open, orig, 0)) == -1 ||
	    (pidfd = fcntl(fd, F_DUPFD_CLOEXEC, FD_FLOOR + 2)) == -1)
		fatal("deputy: pidfd_open");
	syscall(SYS_close_range, 0, FD_FLOOR - 1, 0);
	for (i = 0; i < n; i++) {
		if (fds[i] >= FD_FLOOR)
			fatalx("deputy: fd %d is in our own range", fds[i]);
		if (procfs_fdinfo(orig, fds[i], &fi, &cause) == -1) {
			dprintf(FD_FLOOR + 1, "deputy: %s\n", cause);
			_exit(120);
		}
		if ((fd = syscall(SYS_pidfd_getfd, pidfd, fds[i], 0)) == -1) {
			dprintf(FD_FLOOR + 1, "deputy: pidfd_getfd %d: %s\n",
			    fds[i], strerror(errno));
			_exit(120);
		}
		if (fd != fds[i]) {
			if (dup3(fd, fds[i], (fi.flags & O_CLOEXEC) ?
			    O_CLOEXEC : 0) == -1)
				_exit(120);
			close(fd);
		} else if (!(fi.flags & O_CLOEXEC))
			fcntl(fd, F_SETFD, 0);
	}
	free(fds);
	close(pidfd);
	snprintf(path, sizeof path, "/proc/%ld/cwd", (long)orig);
	if (chdir(path) == -1)
		fatal("deputy: chdir %s", path);
	umask(ps.has_umask ? ps.umask : 022);
	if (setgroups(ng, groups) == -1 ||
	    setresgid(g[0], g[1], g[2]) == -1 ||
	    setresuid(u[0], u[1], u[2]) == -1)
		fatal("deputy: dropping to uid %u", u[1]);
	prctl(PR_SET_DUMPABLE, 1);
	if ((d = deputy_new(orig, FD_FLOOR, &cause)) == NULL)
		fatalx("deputy: %s", cause);
	buf_init(&req);
	buf_init(&rep);
	type = 0;
	if (frame_send(sock, 0, NULL, 0) == -1)	/* ready */
		_exit(121);
	for (;;) {
		buf_reset(&req);
		buf_reset(&rep);
		if (frame_recv(sock, &type, &req) == -1)
			_exit(0);
		if (deputy_handle(d, type, req.data, req.len, &rep, &rtype,
		    &cause) == -1)
			fatalx("deputy: %s", cause);
		if (frame_send(sock, rtype, rep.data, rep.len) == -1)
			_exit(0);
	}
}

/* The guest's stub: USER's ids, no descriptors, waiting to be restored. */
static pid_t
guest_stub(const struct passwd *pw)
{
	pid_t	pid;
	int	p[2];
	char	c;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(120);
		/* After the id change, which clears it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		syscall(SYS_close_range, 0, ~0U, 0);	/* p[1] too: "ready" */
		for (;;)
			pause();
	}
	close(p[1]);
	if (ptrace(PTRACE_SEIZE, pid, 0, SEIZE_OPTS | PTRACE_O_EXITKILL) == -1)
		fatal("PTRACE_SEIZE %ld", (long)pid);
	while (read(p[0], &c, 1) == -1 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

/* The state of one migration. */
struct mig {
	pid_t			 p, g, d;
	int			 sock;		/* to the deputy */
	struct trap_guest	*tg;
	struct sock_fprog	 prog;
	const struct passwd	*pw;
};

/* P to a guest: dump, restore as G, deputy, park. */
static int
mig_out(struct mig *m, char **cause)
{
	struct restore_opts	 ropts;
	struct ckpt_stats	 ds, rs;
	char			*why = NULL;
	uint16_t		 type;
	struct buf		 b;
	int			 mfd, sp[2], pidfd, nfd, fd, st = 0;

	if ((why = ckpt_cantmigrate(m->p)) != NULL) {
		cause_set(cause, "cannot migrate: %s", why);
		free(why);
		return -1;
	}
	if (dump_stream(m->p, CKPT_MIGRATE | CKPT_LEAVE_STOPPED, &mfd, &ds,
	    &why) == -1) {
		cause_set(cause, "dump: %s", why);
		free(why);
		close(mfd);
		return -1;
	}
	m->g = guest_stub(m->pw);
	memset(&ropts, 0, sizeof ropts);
	ropts.flags = RESTORE_GUEST;
	ropts.filter = &m->prog;
	if (restore_stream(m->g, mfd, &ropts, &rs, &why) == -1) {
		close(mfd);
		goto fail_resume;
	}
	close(mfd);
	if ((pidfd = syscall(SYS_pidfd_open, m->g, 0)) == -1 ||
	    (nfd = syscall(SYS_pidfd_getfd, pidfd, ropts.listener, 0)) == -1)
		fatal("taking the listener");
	close(pidfd);
	if ((fd = fcntl(nfd, F_DUPFD_CLOEXEC, FD_FLOOR)) == -1)
		fatal("dup");
	close(nfd);
	if ((m->tg = trap_open(fd, m->g, ropts.killable ? TRAP_KILLABLE : 0,
	    &why)) == NULL)
		goto fail_resume;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	if ((m->d = fork()) == -1)
		fatal("fork");
	if (m->d == 0) {
		close(sp[0]);
		deputy_main(m->p, sp[1]);
	}
	close(sp[1]);
	m->sock = sp[0];
	buf_init(&b);
	if (frame_recv(m->sock, &type, &b) == -1) {
		buf_free(&b);
		waitpid(m->d, &st, 0);
		xasprintf(&why, "the deputy did not start (status %#x)", st);
		m->d = -1;
		goto fail_resume;
	}
	buf_free(&b);
	if (ckpt_park(m->p, ~0ULL, &why) == -1)
		goto fail_resume;
	fprintf(stderr, "ckptdrv: pid %ld migrated to guest %ld (uid %u, "
	    "listener %d%s): dump %" PRIu64 " bytes, freeze %.3fs, restore "
	    "%.3fs\n", (long)m->p, (long)m->g, (unsigned)m->pw->pw_uid,
	    ropts.listener, ropts.killable ? ", killable" : "", ds.bytes,
	    ds.freeze_secs, rs.secs);
	return 0;

fail_resume:
	cause_set(cause, "guest: %s", why);
	free(why);
	if (m->g > 0) {
		kill(m->g, SIGKILL);
		waitpid(m->g, NULL, __WALL);
	}
	why = NULL;
	if (ckpt_resume(m->p, &why) == -1) {
		log_warnx("%s", why);
		free(why);
	}
	return -1;
}

/* G back into P: dump G, restore P from it, P takes D's table, P runs on. */
static int
mig_home(struct mig *m, const struct trap_notif *n, char **cause)
{
	struct restore_opts	 ropts;
	struct ckpt_stats	 ds, rs;
	char			*why = NULL;
	int			 mfd, rc, st;

	if (ckpt_bring_prepare(m->g, &why) == -1)
		goto fail;
	if ((rc = trap_respond(m->tg, n->id, -CKPT_ERESTARTNOINTR, &why)) != 0) {
		if (rc == 1)
			why = xstrdup("the guest went away");
		goto fail;
	}
	if (dump_stream(m->g, CKPT_MIGRATE | CKPT_KILL, &mfd, &ds, &why) == -1)
		goto fail;
	trap_close(m->tg);
	m->tg = NULL;
	while (waitpid(m->g, &st, __WALL) == -1 && errno == EINTR)
		;
	m->g = -1;
	memset(&ropts, 0, sizeof ropts);
	ropts.flags = RESTORE_ORIGINAL | RESTORE_LEAVE_STOPPED;
	rc = restore_stream(m->p, mfd, &ropts, &rs, &why);
	close(mfd);
	if (rc == -1)
		goto fail;
	if (ckpt_adopt_fds(m->p, m->d, &why) == -1)
		goto fail;
	close(m->sock);
	while (waitpid(m->d, &st, 0) == -1 && errno == EINTR)
		;
	m->d = -1;
	fprintf(stderr, "ckptdrv: pid %ld brought home for %s: dump %" PRIu64
	    " bytes, restore %.3fs\n", (long)m->p, sysent_name(n->nr), ds.bytes,
	    rs.secs);
	if (ptrace(PTRACE_CONT, m->p, 0, 0) == -1)
		return cause_set(cause, "resuming %ld: %s", (long)m->p,
		    strerror(errno));
	return 0;
fail:
	cause_set(cause, "bringing %ld home: %s", (long)m->p, why);
	free(why);
	return -1;
}

static void
mig_report(struct mig *m)
{
	const struct trap_stats	*ts;

	if (m->tg == NULL)
		return;
	ts = trap_stats(m->tg);
	fprintf(stderr, "ckptdrv: guest %ld: %" PRIu64 " notifications, %"
	    PRIu64 " home, %" PRIu64 " fmap, %" PRIu64 " bring-home\n",
	    (long)m->g, ts->notifs, ts->by_where[SY_HOME],
	    ts->by_where[SY_FMAP], ts->by_where[SY_BRINGHOME]);
}

/*
 * While away: serve G's notifications, pass P's signals to G, end P as G
 * ends. Returns 1 when the process came home (then serve as usual), 0
 * when it ended (*status is P's), -1 on failure.
 */
static int
mig_away(struct mig *m, int *status, char **cause)
{
	struct trap_link	 link = { link_call, &m->sock };
	struct trap_notif	 n;
	struct signalfd_siginfo	 ssi;
	struct pollfd		 pfd[2];
	sigset_t		 chld;
	pid_t			 w;
	int			 sfd, st, sig, ev, rc, npfd, polling = 1;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");
	for (;;) {
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		npfd = 1;
		if (m->tg != NULL && polling) {
			pfd[1].fd = trap_fd(m->tg);
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			npfd = 2;
		}
		if (poll(pfd, npfd, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		while (read(sfd, &ssi, sizeof ssi) > 0)
			;
		while ((w = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
			if (w == m->g) {
				if (!WIFEXITED(st) && !WIFSIGNALED(st)) {
					handle(w, st, m->g, &st);
					continue;
				}
				/* G ended: P ends so. */
				mig_report(m);
				trap_close(m->tg);
				m->tg = NULL;
				m->g = -1;
				if (ckpt_exit_as(m->p, st, status, cause) == -1)
					goto fail;
				close(sfd);
				return 0;
			}
			if (w == m->p) {
				if (WIFEXITED(st) || WIFSIGNALED(st)) {
					/* SIGKILL at home: G follows. */
					*status = st;
					if (m->g > 0)
						kill(m->g, SIGKILL);
					close(sfd);
					return 0;
				}
				if (!WIFSTOPPED(st))
					continue;
				sig = WSTOPSIG(st);
				ev = st >> 16;
				/* Parked: a signal for it is the guest's. */
				if (ev == 0 && sig != (SIGTRAP | 0x80) && m->g > 0) {
					log_debug("forwarding signal %d", sig);
					kill(m->g, sig);
				}
				ptrace(PTRACE_CONT, m->p, 0, 0);
				continue;
			}
			if (w == m->d) {
				cause_set(cause, "the deputy ended (status %#x)", st);
				m->d = -1;
				goto fail;
			}
			/* P's children from before: they go on at home. */
			handle(w, st, -1, &rc);
		}
		if (npfd < 2 || pfd[1].revents == 0)
			continue;
		if (!(pfd[1].revents & POLLIN)) {
			/* No task under the filter: G is gone, its wait comes. */
			polling = 0;
			continue;
		}
		rc = trap_serve(m->tg, &link, &n, cause);
		if (rc == -1)
			goto fail;
		if (rc != TRAP_BRINGHOME)
			continue;
		mig_report(m);
		if (mig_home(m, &n, cause) == -1)
			goto fail;
		close(sfd);
		return 1;
	}
fail:
	close(sfd);
	return -1;
}

static int
cmd_migrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as-user", required_argument, NULL, 'u' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "wait-ready", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct mig	 m;
	const char	*user = "nobody", *ready = NULL, *env;
	char		*cause = NULL, *end;
	long		 delay = 1000;
	int		 ch, st = 0, rc;

	if ((env = getenv("CKPTDRV_DELAY_MS")) != NULL)
		delay = strtol(env, NULL, 10);
	while ((ch = getopt_long(argc, argv, "+v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
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
		case 'v':
			log_setverbose(log_getverbose() + 1);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	memset(&m, 0, sizeof m);
	m.g = m.d = -1;
	m.sock = -1;
	if ((m.pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "ckptdrv: no user %s\n", user);
		return EXIT_OWN;
	}
	if (trap_probe(&cause) == -1 || trap_filter_build(&m.prog, &cause) == -1) {
		fprintf(stderr, "ckptdrv: %s\n", cause);
		return EXIT_OWN;
	}
	signal(SIGPIPE, SIG_IGN);
	m.p = spawn(argv);
	if (serve(m.p, ready != NULL ? 0 : now() + delay / 1000.0, ready, &st)) {
		fprintf(stderr, "ckptdrv: %s exited before the migration "
		    "(status %d)\n", argv[0], exit_code(st));
		free(m.prog.filter);
		return EXIT_OWN;
	}
	if (mig_out(&m, &cause) == -1) {
		fprintf(stderr, "ckptdrv: %s\n", cause);
		free(cause);
		free(m.prog.filter);
		serve(m.p, 0, NULL, &st);
		return EXIT_OWN;
	}
	rc = mig_away(&m, &st, &cause);
	if (rc == -1) {
		fprintf(stderr, "ckptdrv: %s\n", cause);
		free(cause);
		free(m.prog.filter);
		if (m.g > 0)
			kill(m.g, SIGKILL);
		kill(m.p, SIGKILL);
		return EXIT_OWN;
	}
	if (rc == 1)
		serve(m.p, 0, NULL, &st);
	else if (m.d > 0) {
		close(m.sock);
		waitpid(m.d, NULL, 0);
	}
	free(m.prog.filter);
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
	if (strcmp(argv[1], "migrate-loop") == 0)
		return cmd_migrate(argc - 1, argv + 1);
	usage();
}
