/*
 * omrun.c: run a command, or restore an image, as a process managed by ommd.
 *
 * The job is omrun's own child: it keeps omrun's terminal, process group
 * and session, so an interactive program and the shell's job control work
 * as if omrun were not there. omrun asks ommd to take the child over before
 * the command starts, and never runs it unmanaged. With --on NODE it also
 * asks ommd to migrate the job as it execs the command, so the command's
 * first instruction runs on NODE (openMosix's mosrun). --stay and --nodes
 * tell the automatic balancer what it may do with the job (mosrun -l and
 * mosrun's node list); nodes named rather than numbered are looked up in
 * ommd's NODES list before the job is forked.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#define EXIT_OMRUN	125	/* omrun's own failure, as env(1) and nohup(1) */
#define EXIT_NOEXEC	126
#define EXIT_NOTFOUND	127

static volatile sig_atomic_t	job_pid;

/* Signals a user sends to omrun with kill(2) that the job should get. */
static const int forwarded[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT,
	SIGTSTP, SIGWINCH,
};

struct omrun_opts {
	const char	*sock;
	const char	*nodes;		/* --nodes LIST, as typed */
	const char	*pidfile;
	const char	*restore;
	const char	*ckpt_file;
	const char	*on;		/* --on NODE */
	unsigned	 ckpt_every;
	int		 stats;
	int		 stay;		/* --stay */
};

static const char	omrun_usage[] =
    "usage: omrun [-s SOCKET] [--pidfile FILE] [--stats] [--on NODE]\n"
    "             [--stay] [--nodes NODE,...]\n"
    "             [--checkpoint-every SECONDS --checkpoint-file FILE] "
    "[--] CMD [ARGS...]\n"
    "       omrun [-s SOCKET] [--pidfile FILE] [--stats] --restore FILE\n"
    "       omrun --help | --version\n";

/*
 * Misuse: usage on stderr, and omrun's own failure status (125, as env
 * and timeout have it): omrun exits with its job's status, so a status of
 * its own must be one a job rarely has.
 */
static void __attribute__((noreturn))
usage(void)
{
	fputs(omrun_usage, stderr);
	exit(EXIT_OMRUN);
}

/* Asked for: on stdout, exit 0. */
static void __attribute__((noreturn))
help(void)
{
	fputs(omrun_usage, stdout);
	fputs("Run CMD, and everything it starts, as migratable processes "
	    "of this node.\nomrun exits as CMD does; 125 when omrun "
	    "itself fails.\n"
	    "  -s, --socket PATH        ommd's control socket ($OMM_SOCKET)\n"
	    "  --pidfile FILE           write CMD's pid to FILE\n"
	    "  --stats                  with --restore: print what the restore "
	    "took\n"
	    "  --on NODE                move CMD to NODE as it starts (its home "
	    "stays here)\n"
	    "  --stay                   never move the job automatically\n"
	    "  --nodes NODE,...         move it only to these nodes\n"
	    "  --checkpoint-every SECONDS --checkpoint-file FILE\n"
	    "                           write an image of CMD every SECONDS\n"
	    "  --restore FILE           run the process of image FILE instead\n",
	    stdout);
	exit(0);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("omrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_OMRUN);
}

/*
 * Only what was sent with kill(2), sigqueue(3) or tkill(2) (si_code <= 0)
 * is passed on: what the terminal generates (Ctrl-C, Ctrl-Z, a resize)
 * already went to the whole foreground process group, the job included.
 */
static void
on_signal(int sig, siginfo_t *si, void *uc)
{
	int	saved = errno;
	pid_t	pid = job_pid;

	if (si->si_code <= 0 && pid > 0)
		kill(pid, sig);
	/* stop as the job did, so that the shell sees the job stopped */
	if (sig == SIGTSTP)
		raise(SIGSTOP);
	errno = saved;
}

static void
setup_signals(void)
{
	struct sigaction	sa;
	size_t			i;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	/* a background omrun must not stop when it touches the terminal */
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
}

static int
parse_seconds(const char *s, unsigned *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 ||
	    v > PROTO_PERIOD_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void
write_pidfile(const char *path, pid_t pid, char **cause)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%d\n", (int)pid);
	if (fclose(f) == EOF)
		cause_set(cause, "%s: %s", path, strerror(errno));
}

/* The exit status of omrun for the job's wait status, as a shell does. */
static int
exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_OMRUN;
}

static int
wait_job(pid_t pid)
{
	int	status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			die("wait for %d: %s", (int)pid, strerror(errno));
	}
	return exit_status(status);
}

/* Kill a child that never got to do its work, and reap it. */
static void
kill_child(pid_t pid)
{
	int	status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* Send req and wait for one of want; exits 125 with the cause if refused. */
static void
request(struct client *c, struct buf *req, int fd, const uint16_t *want,
    struct proto_msg *reply, int timeout_ms, pid_t child, const char *what)
{
	char	*cause = NULL;

	if (client_send(c, req, fd, &cause) != 0 ||
	    client_recv(c, want, reply, timeout_ms, &cause) != 0) {
		kill_child(child);
		if (what != NULL)
			die("%s: %s", what, cause);
		die("%s", cause);
	}
	buf_reset(req);
}

/* The command's child: wait for the go-ahead, then become the command. */
static void __attribute__((noreturn))
job_child(int sock, int go, char **argv)
{
	char	c;
	ssize_t	n;

	close(sock);
	do
		n = read(go, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n != 1)
		_exit(EXIT_OMRUN);	/* omrun gave up and says why */
	close(go);
	execvp(argv[0], argv);
	fprintf(stderr, "omrun: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == EACCES ? EXIT_NOEXEC : EXIT_NOTFOUND);
}

/* ommd's list of nodes, for --nodes names: *rows, *nrows. */
static int
fetch_nodes(struct client *c, struct msg_node **rows, size_t *nrows,
    char **cause)
{
	static const uint16_t	 want[] = { MSG_NODE, MSG_NODES_END, 0 };
	struct proto_msg	 m;
	struct msg_count	 end;
	struct buf		 req;
	int			 rv = -1;

	*rows = NULL;
	*nrows = 0;
	buf_init(&req);
	proto_encode_empty(&req, MSG_NODES);
	if (client_send(c, &req, -1, cause) != 0)
		goto out;
	for (;;) {
		if (client_recv(c, want, &m, CLIENT_TIMEOUT_MS, cause) != 0)
			goto out;
		if (m.hdr.type == MSG_NODES_END)
			break;
		*rows = xreallocarray(*rows, *nrows + 1, sizeof **rows);
		if (proto_decode_node(&m, &(*rows)[*nrows], cause) != 0)
			goto out;
		(*nrows)++;
	}
	if (proto_decode_count(&m, &end, cause) != 0)
		goto out;
	rv = 0;
out:
	buf_free(&req);
	return rv;
}

/* The id of the node called name ("home": this node), 0 if none is. */
static uint32_t
node_lookup(const struct msg_node *rows, size_t nrows, const char *name)
{
	size_t	i;

	for (i = 0; i < nrows; i++) {
		if (strcmp(name, "home") == 0 ? rows[i].self :
		    strcmp(rows[i].name, name) == 0)
			return rows[i].node;
	}
	return 0;
}

/*
 * --nodes LIST: node ids or names (or home), comma-separated, into
 * pol->nodes. Ids are taken as they are, as a node may join later; names
 * are looked up in ommd's list of nodes (asked for only when there are
 * any), so that a typo fails here and not silently in the balancer.
 */
static int
policy_nodes(struct client *c, const char *list, struct msg_policy *pol,
    char **cause)
{
	struct msg_node	*rows = NULL;
	size_t		 nrows = 0;
	char		*copy, *p, *tok, *end;
	unsigned long	 v;
	uint32_t	 i, id;
	int		 fetched = 0, rv = -1;

	pol->nnodes = 0;
	p = copy = xstrdup(list);
	do {
		tok = strsep(&p, ",");
		if (*tok == '\0') {
			cause_set(cause, "empty node in '%s'", list);
			goto out;
		}
		if (pol->nnodes == PROTO_POLICY_MAX_NODES) {
			cause_set(cause, "more than %d nodes",
			    PROTO_POLICY_MAX_NODES);
			goto out;
		}
		if (strspn(tok, "0123456789") == strlen(tok)) {
			errno = 0;
			v = strtoul(tok, &end, 10);
			if (errno != 0 || v == 0 || v > UINT32_MAX) {
				cause_set(cause, "invalid node id '%s'", tok);
				goto out;
			}
			id = (uint32_t)v;
		} else {
			if (proto_check_node_arg(tok, cause) != 0)
				goto out;
			if (!fetched &&
			    fetch_nodes(c, &rows, &nrows, cause) != 0)
				goto out;
			fetched = 1;
			if ((id = node_lookup(rows, nrows, tok)) == 0) {
				cause_set(cause, "no node named '%s' (omctl "
				    "nodes lists them)", tok);
				goto out;
			}
		}
		for (i = 0; i < pol->nnodes; i++) {
			if (pol->nodes[i] == id) {
				cause_set(cause, "node %u listed twice", id);
				goto out;
			}
		}
		pol->nodes[pol->nnodes++] = id;
	} while (p != NULL);
	rv = 0;
out:
	free(rows);
	free(copy);
	return rv;
}

static char *
absolute(const char *path)
{
	char	 cwd[PATH_MAX], *s;

	if (path[0] == '/')
		return xstrdup(path);
	if (getcwd(cwd, sizeof cwd) == NULL)
		die("getcwd: %s", strerror(errno));
	xasprintf(&s, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	return s;
}

static int
launch(const struct omrun_opts *o, char **argv)
{
	static const uint16_t	 want_ok[] = { MSG_OK, 0 };
	static const uint16_t	 want_mig[] = { MSG_OK, MSG_MIGRATED, 0 };
	struct client		*c;
	struct proto_msg	 reply;
	struct buf		 req;
	struct msg_pid		 mp;
	struct msg_periodic	 per;
	struct msg_migrate	 mig;
	struct msg_policy	 pol;
	char			*cause = NULL, *what;
	int			 go[2];
	pid_t			 pid;

	if ((c = client_open(client_socket_path(o->sock), &cause)) == NULL)
		die("%s", cause);
	memset(&pol, 0, sizeof pol);
	if (o->stay)
		pol.flags |= PROTO_POL_STAY;
	if (o->nodes != NULL &&
	    policy_nodes(c, o->nodes, &pol, &cause) != 0)
		die("--nodes: %s", cause);
	if (pipe2(go, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		job_child(client_fd(c), go[0], argv);
	}
	close(go[0]);
	job_pid = pid;
	setup_signals();

	buf_init(&req);
	mp.pid = pid;
	proto_encode_manage(&req, &mp);
	request(c, &req, -1, want_ok, &reply, CLIENT_TIMEOUT_MS, pid, NULL);
	if (o->ckpt_every != 0) {
		per.pid = pid;
		per.seconds = o->ckpt_every;
		per.path = absolute(o->ckpt_file);
		proto_encode_periodic(&req, &per);
		request(c, &req, -1, want_ok, &reply, CLIENT_TIMEOUT_MS, pid,
		    "--checkpoint-every");
		free(per.path);
	}
	/*
	 * After MANAGE and PERIODIC, so that ommd knows the job first; the
	 * move happens at the execve that follows the go-ahead below.
	 */
	if (o->on != NULL) {
		mig.pid = pid;
		mig.node = (char *)o->on;
		mig.flags = PROTO_MIG_AFTER_EXEC;
		xasprintf(&what, "--on %s", o->on);
		proto_encode_migrate(&req, &mig);
		request(c, &req, -1, want_mig, &reply, CLIENT_TIMEOUT_MS, pid,
		    what);
		free(what);
	}
	/* before the go-ahead: the command never runs without its policy */
	if (o->stay || o->nodes != NULL) {
		pol.pid = pid;
		proto_encode_policy(&req, &pol);
		request(c, &req, -1, want_ok, &reply, CLIENT_TIMEOUT_MS, pid,
		    o->stay ? "--stay" : "--nodes");
	}
	buf_free(&req);
	client_close(c);

	if (o->pidfile != NULL) {
		write_pidfile(o->pidfile, pid, &cause);
		if (cause != NULL) {
			kill_child(pid);
			die("pidfile %s", cause);
		}
	}
	if (write(go[1], "g", 1) != 1) {
		kill_child(pid);
		die("cannot start the job: %s", strerror(errno));
	}
	close(go[1]);
	return wait_job(pid);
}

/* The restore stub: nothing but fds 0-2, waiting to be replaced. */
static void __attribute__((noreturn))
stub_child(void)
{
	sigset_t	none;

	if (close_range(3, ~0U, 0) == -1) {
		int	fd;

		for (fd = 3; fd < 1024; fd++)
			close(fd);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;)
		pause();
}

static int
restore(const struct omrun_opts *o)
{
	static const uint16_t	 want[] = { MSG_RESTORED, 0 };
	struct client		*c;
	struct proto_msg	 reply;
	struct msg_restored	 rep;
	struct buf		 req;
	struct msg_pid		 mp;
	char			*cause = NULL, *what;
	int			 fd;
	pid_t			 pid;

	xasprintf(&what, "restore %s", o->restore);
	if ((c = client_open(client_socket_path(o->sock), &cause)) == NULL)
		die("%s", cause);
	/* opened by omrun, so the user's own permissions apply */
	if ((fd = open(o->restore, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", what, strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		stub_child();
	job_pid = pid;
	setup_signals();
	buf_init(&req);
	mp.pid = pid;
	proto_encode_restore(&req, &mp);
	request(c, &req, fd, want, &reply, CLIENT_LONG_TIMEOUT_MS, pid, what);
	buf_free(&req);
	if (proto_decode_restored(&reply, &rep, &cause) != 0) {
		kill_child(pid);
		die("%s: %s", what, cause);
	}
	close(fd);
	client_close(c);
	/* Only now is pid the restored process: a pidfile names a live job. */
	if (o->pidfile != NULL) {
		write_pidfile(o->pidfile, pid, &cause);
		if (cause != NULL) {
			kill_child(pid);
			die("pidfile %s", cause);
		}
	}
	if (o->stats) {
		fprintf(stderr, "omrun: restored pid %d from %s: %llu pages, "
		    "%.1f MiB in %.2f s\n", (int)rep.pid, o->restore,
		    (unsigned long long)rep.stats.pages,
		    rep.stats.bytes / 1048576.0, rep.stats.secs);
	}
	free(what);
	return wait_job(pid);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket",		required_argument,	NULL, 's' },
		{ "pidfile",		required_argument,	NULL, 'p' },
		{ "stats",		no_argument,		NULL, 'S' },
		{ "restore",		required_argument,	NULL, 'r' },
		{ "checkpoint-every",	required_argument,	NULL, 'e' },
		{ "checkpoint-file",	required_argument,	NULL, 'f' },
		{ "on",			required_argument,	NULL, 'o' },
		{ "stay",		no_argument,		NULL, 'l' },
		{ "nodes",		required_argument,	NULL, 'n' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "version",		no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct omrun_opts	o;
	char			*cause = NULL;
	int			ch;

	memset(&o, 0, sizeof o);
	/* "+": options end at the command, whose own options are its own */
	while ((ch = getopt_long(argc, argv, "+s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o.sock = optarg;
			break;
		case 'p':
			o.pidfile = optarg;
			break;
		case 'S':
			o.stats = 1;
			break;
		case 'r':
			o.restore = optarg;
			break;
		case 'e':
			if (parse_seconds(optarg, &o.ckpt_every) != 0)
				die("--checkpoint-every: invalid period '%s' "
				    "(1 to %u seconds)", optarg,
				    PROTO_PERIOD_MAX);
			break;
		case 'f':
			o.ckpt_file = optarg;
			break;
		case 'o':
			if (proto_check_node_arg(optarg, &cause) != 0)
				die("--on: %s", cause);
			o.on = optarg;
			break;
		case 'l':
			o.stay = 1;
			break;
		case 'n':
			o.nodes = optarg;
			break;
		case 'h':
			help();
		case 'V':
			printf("omrun (omm) %s\n", OMM_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	if ((o.ckpt_every != 0) != (o.ckpt_file != NULL))
		die("--checkpoint-every and --checkpoint-file go together");
	if (o.restore != NULL) {
		if (argc != 0 || o.ckpt_every != 0 || o.on != NULL ||
		    o.stay || o.nodes != NULL)
			usage();
		return restore(&o);
	}
	if (argc == 0)
		usage();
	return launch(&o, argv);
}
