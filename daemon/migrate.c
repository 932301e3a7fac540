/*
 * migrate.c: the home side of migration (docs/migration.md). A process
 * that goes away keeps its place here, parked; its deputy (deputyd.c), a
 * process of its own, talks to the host. ommd is told by the deputy what
 * happens (depmsg.h) and does what only the tracer can: dump, park, pass
 * signals on, restore the process when it comes home, make it exit as the
 * guest did.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/migwire.h"
#include "omm/procfork.h"
#include "omm/proto.h"
#include "omm/sysent.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "depmsg.h"
#include "deputyd.h"
#include "jobd.h"
#include "migrate.h"
#include "procinfo.h"
#include "supervise.h"

#define HOLD_WAIT_MS	10000	/* the deputy turning into the holder */
#define DEP_FLOOR_MIN	1024	/* the deputy's own fds: at or above */
#define MANUAL_HOLD_MS	60000	/* a process brought home by hand stays */
#define MIG_STALL_MS	60000	/* an image pipe that moves nothing this long fails */


enum away_state {
	AW_OFFERING = 1,	/* D connects and offers */
	AW_STREAMING,		/* dumped, waiting for READY */
	AW_AWAY,		/* runs there, P parked */
	AW_RETURNING,		/* the image comes home */
};

struct away {
	pid_t			 pid;		/* P */
	pid_t			 dep;		/* D */
	int			 ctl;
	struct event		*ev;
	int			 img_out;	/* write end: the dump */
	int			 img_in;	/* read end: coming home */
	enum away_state		 state;
	uint32_t		 node;		/* where it goes or is */
	uint32_t		 next;		/* move on there once home */
	uint32_t		 moving;	/* moving on there (the deputy relays) */
	int			 manual;	/* asked by a user, not the balancer */
	struct depstats		*stats;		/* shared with D */
	uint64_t		 conn;		/* a request waiting for the outcome */
	int			 conn_bring;	/* that request is a BRING */
	double			 t0;
	struct ckpt_stats	 dst;		/* the dump */
	LIST_ENTRY(away)	 entry;
};

static LIST_HEAD(, away)	 aways = LIST_HEAD_INITIALIZER(aways);
static struct event_base	*base;
static LIST_HEAD(, waiter)	 waiters = LIST_HEAD_INITIALIZER(waiters);

/* A BRING --all waiting for several processes. */
struct waiter {
	uint64_t		 conn;
	uint32_t		 left;
	uint32_t		 count;
	LIST_ENTRY(waiter)	 entry;
};

static void	away_ctl(evutil_socket_t, short, void *);

static double
now_secs(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
migrate_init(struct event_base *b)
{
	base = b;
}

/*
 * The nodes ommd told us of (in JM_MIGRATE): their names for the logs and
 * the user, their migration ports for the deputies. A supervisor has no
 * view of the cluster of its own.
 */
struct known_node {
	uint32_t		 node;
	uint32_t		 ipv4;		/* network order */
	uint16_t		 port;		/* network order */
	char			 name[LV_NAME_MAX];
	LIST_ENTRY(known_node)	 entry;
};
static LIST_HEAD(, known_node)	 known = LIST_HEAD_INITIALIZER(known);

void
migrate_learn(const struct jm_migrate *m)
{
	struct known_node	*k;

	if (m->node == 0)
		return;
	LIST_FOREACH(k, &known, entry) {
		if (k->node == m->node)
			break;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->node = m->node;
		LIST_INSERT_HEAD(&known, k, entry);
	}
	k->ipv4 = m->ipv4;
	k->port = m->port;
	snprintf(k->name, sizeof k->name, "%s", m->name);
}

static const struct known_node *
known_node(uint32_t node)
{
	struct known_node	*k;

	LIST_FOREACH(k, &known, entry) {
		if (k->node == node)
			return k;
	}
	return NULL;
}

static const char *
node_name(uint32_t node)
{
	const struct known_node	*k = known_node(node);
	static char		 buf[16];

	if (k != NULL && k->name[0] != '\0')
		return k->name;
	snprintf(buf, sizeof buf, "%u", node);
	return buf;
}

/* A line for the user, on the process's own stderr, and in the log. */
static void
tell_user(pid_t pid, const char *fmt, ...)
{
	char	 path[64], *msg;
	va_list	 ap;
	int	 fd;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		return;
	log_warnx("%s", msg);
	snprintf(path, sizeof path, "/proc/%d/fd/2", (int)pid);
	if ((fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) !=
	    -1) {
		dprintf(fd, "omm: %s\n", msg);
		close(fd);
	}
	free(msg);
}

#define reply_error	jobd_reply_error

static void
reply_migrated(struct away *a)
{
	struct msg_migrated	 r;
	struct buf		 b;

	if (a->conn == 0)
		return;
	memset(&r, 0, sizeof r);
	r.pid = a->pid;
	r.node = a->state == AW_AWAY ? a->node : jobd_self();
	r.node_name = (char *)(a->state == AW_AWAY ? node_name(a->node) :
	    "home");
	r.freeze_secs = a->dst.freeze_secs;
	r.bytes = a->dst.bytes;
	r.secs = now_secs() - a->t0;
	buf_init(&b);
	proto_encode_migrated(&b, &r);
	jobd_reply(a->conn, &b);
	buf_free(&b);
	a->conn = 0;
}

static void
waiter_done(uint64_t conn, int ok)
{
	struct waiter	*w;
	struct msg_count r;
	struct buf	 b;

	LIST_FOREACH(w, &waiters, entry) {
		if (w->conn == conn)
			break;
	}
	if (w == NULL)
		return;
	w->count += ok;
	if (--w->left > 0)
		return;
	memset(&r, 0, sizeof r);
	r.count = w->count;
	buf_init(&b);
	proto_encode_count(&b, MSG_BROUGHT, &r);
	jobd_reply(w->conn, &b);
	buf_free(&b);
	LIST_REMOVE(w, entry);
	free(w);
}

/* The request waiting on a, answered: done or failed with why. */
static void
answer(struct away *a, int ok, const char *why)
{
	uint64_t	id = a->conn;

	if (id == 0)
		return;
	if (a->conn_bring) {
		a->conn = 0;
		waiter_done(id, ok);
		return;
	}
	if (ok)
		reply_migrated(a);
	else
		reply_error(id, "%s", why);
	a->conn = 0;
}

static void
away_free(struct away *a)
{
	struct task	*t;

	if ((t = supervise_find(a->pid)) != NULL && a->stats != NULL) {
		t->fwd.calls += a->stats->calls;
		t->fwd.errors += a->stats->errors;
		t->fwd.bytes_in += a->stats->bytes_in;
		t->fwd.bytes_out += a->stats->bytes_out;
		t->fwd.signals += a->stats->signals;
	}
	LIST_REMOVE(a, entry);
	if (a->ev != NULL)
		event_free(a->ev);
	if (a->ctl != -1)
		close(a->ctl);
	if (a->img_out != -1)
		close(a->img_out);
	if (a->img_in != -1)
		close(a->img_in);
	if (a->stats != NULL)
		munmap(a->stats, sizeof *a->stats);
	if ((t = supervise_find(a->pid)) != NULL)
		t->away = NULL;
	/* D exits by itself or was killed; its exit is reaped as a child */
	free(a);
}

/* Stop the parked P for us: an interrupt, whatever it is doing. */
static int
stop_parked(pid_t pid, char **cause)
{
	int	st;

	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
		return cause_set(cause, "PTRACE_INTERRUPT: %s", strerror(errno));
	for (;;) {
		if (waitpid(pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return cause_set(cause, "waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return cause_set(cause, "it exited");
		if (WIFSTOPPED(st) && ((unsigned)st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* a signal on its way: it is the guest's, already passed on */
		ptrace(PTRACE_CONT, pid, 0, 0);
	}
}

/*
 * P ends as the guest ended, so that its parent and omrun see the status
 * the process had. The engine waits for its end: the table forgets it.
 */
static void
exit_as(pid_t pid, int wstatus)
{
	char	*cause = NULL;
	int	 final;

	if (ckpt_exit_as(pid, wstatus, &final, &cause) == -1) {
		log_warnx("process %d: ending it as its guest did: %s; killing "
		    "it", (int)pid, cause);
		free(cause);
		kill(pid, SIGKILL);
		return;
	}
	supervise_forget(pid);
}

/* The process is gone with its host: end it, tell its user. */
static void
away_lost(struct away *a, const char *why)
{
	tell_user(a->pid, "process %d lost: node %s unreachable (%s)",
	    (int)a->pid, node_name(a->node), why);
	jobd_event(JM_EV_LOST, a->node, a->pid);
	answer(a, 0, why);
	kill(a->pid, SIGKILL);
	if (a->dep > 0)
		kill(a->dep, SIGKILL);
	away_free(a);
}

static int
sockaddr_of(uint32_t node, struct sockaddr_in *sin, char **cause)
{
	const struct known_node	*k = known_node(node);

	if (k == NULL || k->ipv4 == 0)
		return cause_set(cause, "node %s: no IPv4 address known",
		    node_name(node));
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = k->ipv4;
	sin->sin_port = k->port;
	return 0;
}

static int
fd_floor(pid_t pid)
{
	struct rlimit	rl;

	if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) == -1 ||
	    rl.rlim_cur < DEP_FLOOR_MIN || rl.rlim_cur > (1 << 20))
		return DEP_FLOOR_MIN;
	return (int)rl.rlim_cur;
}

/* Fork the deputy for t, towards node. */
static struct away *
away_new(struct task *t, uint32_t node, char **cause)
{
	struct deputyd_args	 da;
	struct away		*a;
	int			 sv[2], out[2], in[2];
	pid_t			 pid;

	memset(&da, 0, sizeof da);
	if (sockaddr_of(node, &da.to, cause) == -1)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		cause_set(cause, "socketpair: %s", strerror(errno));
		return NULL;
	}
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(in, O_CLOEXEC) == -1) {
		cause_set(cause, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	a = xcalloc(1, sizeof *a);
	a->pid = t->tgid;
	a->node = node;
	a->ctl = sv[0];
	a->img_out = out[1];
	a->img_in = in[0];
	a->stats = mmap(NULL, sizeof *a->stats, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->stats == MAP_FAILED)
		fatal("mmap");
	da.orig = t->tgid;
	da.uid = t->owner;
	da.comm = t->command != NULL ? t->command : "?";
	da.ctl = sv[1];
	da.img_out = out[0];
	da.img_in = in[1];
	da.floor = fd_floor(t->tgid);
	/* what the host's guest memory limit is checked against */
	{
		uint64_t	cpu_ns;

		if (procinfo_usage(t->tgid, &cpu_ns, &da.image_bytes) == -1)
			da.image_bytes = 0;
	}
	da.ctx = jobd_ctx();
	da.self = jobd_self();
	da.incarnation = jobd_incarnation();
	da.host = node;
	da.stats = a->stats;
	if ((pid = proc_fork()) == -1)
		fatal("fork");
	if (pid == 0)
		deputyd_main(&da);
	close(sv[1]);
	close(out[0]);
	close(in[1]);
	a->dep = pid;
	a->state = AW_OFFERING;
	a->t0 = now_secs();
	a->ev = event_new(base, a->ctl, EV_READ | EV_PERSIST, away_ctl, a);
	event_add(a->ev, NULL);
	LIST_INSERT_HEAD(&aways, a, entry);
	t->away = a;
	return a;
}

/*
 * On from its host to another: the deputy offers it there and relays the
 * image; the process never runs at home meanwhile.
 */
static int
move_on(struct away *a, uint32_t node, uint64_t conn, char **cause)
{
	struct sockaddr_in	sin;
	struct depmsg		m;

	if (a->moving != 0)
		return cause_set(cause, "process %d is already moving on",
		    (int)a->pid);
	/* ommd checked it is up when it asked */
	if (sockaddr_of(node, &sin, cause) == -1)
		return -1;
	memset(&m, 0, sizeof m);
	m.type = DM_BRING;
	m.a = MIG_BRING_MOVE;
	m.node = node;
	m.ip = sin.sin_addr.s_addr;
	m.port = sin.sin_port;
	if (depmsg_send(a->ctl, &m, cause) == -1)
		return -1;
	kill(a->dep, SIGUSR1);
	a->moving = node;
	a->conn = conn;
	a->manual = conn != 0;
	a->conn_bring = 0;
	a->t0 = now_secs();
	log_info("process %d: moving on from node %s to node %s", (int)a->pid,
	    node_name(a->node), node_name(node));
	return 0;
}

int
migrate_start(struct task *t, uint32_t node, uint64_t conn, char **cause)
{
	struct away	*a = t->away;
	char		*why;

	if (node == 0 || node == jobd_self()) {
		if (a == NULL)
			return cause_set(cause, "process %d is at home",
			    (int)t->tgid);
		return migrate_bring(t, conn, 0, cause);
	}
	if (t->locked)
		return cause_set(cause, "process %d is locked at home (omctl "
		    "unlock)", (int)t->tgid);
	if (a != NULL) {
		if (a->state != AW_AWAY)
			return cause_set(cause, "process %d is already on the "
			    "move", (int)t->tgid);
		if (a->node == node)
			return cause_set(cause, "process %d already runs on %s",
			    (int)t->tgid, node_name(node));
		return move_on(a, node, conn, cause);
	}
	if (jobd_ctx() == NULL)
		return cause_set(cause, "this node has no TLS context: it runs "
		    "alone");
	/* whoever asked (the requester passed already), never privileged */
	if (access_task(t, NULL, &why) != 0) {
		cause_set(cause, "process %d cannot migrate: %s", (int)t->tgid,
		    why);
		free(why);
		return -1;
	}
	if ((why = ckpt_cantmigrate(t->tgid)) != NULL) {
		cause_set(cause, "process %d cannot migrate: %s", (int)t->tgid,
		    why);
		free(why);
		return -1;
	}
	if ((a = away_new(t, node, cause)) == NULL)
		return -1;
	a->conn = conn;
	a->manual = conn != 0;
	log_info("process %d: migrating to node %s", (int)t->tgid,
	    node_name(node));
	return 0;
}

int
migrate_bring(struct task *t, uint64_t conn, int all, char **cause)
{
	struct away	*a = t->away;
	struct depmsg	 m;

	if (a == NULL)
		return cause_set(cause, "process %d is at home", (int)t->tgid);
	if (a->state != AW_AWAY || a->moving != 0)
		return cause_set(cause, "process %d is on the move", (int)t->tgid);
	memset(&m, 0, sizeof m);
	m.type = DM_BRING;
	m.a = 1;	/* MIG_BRING_ASKED */
	if (depmsg_send(a->ctl, &m, cause) == -1)
		return -1;
	kill(a->dep, SIGUSR1);
	a->conn = conn;
	a->conn_bring = all;
	a->t0 = now_secs();
	return 0;
}

/* One BRING request waits for one process. */
void
migrate_bring_waiter(uint64_t conn)
{
	struct waiter	*w;

	w = xcalloc(1, sizeof *w);
	w->conn = conn;
	w->left = 1;
	LIST_INSERT_HEAD(&waiters, w, entry);
}

uint64_t
migrate_bring_all(const struct ctl_peer *peer, uint64_t conn)
{
	struct away	*a;
	struct task	*t;
	struct waiter	*w;
	char		*cause = NULL;
	uint32_t	 n = 0;

	w = xcalloc(1, sizeof *w);
	w->conn = conn;
	LIST_INSERT_HEAD(&waiters, w, entry);
	LIST_FOREACH(a, &aways, entry) {
		if (a->state != AW_AWAY || (t = supervise_find(a->pid)) == NULL)
			continue;
		/* the processes the requester may act on, as one by one */
		if (access_task(t, peer, &cause) != 0) {
			free(cause);
			cause = NULL;
			continue;
		}
		if (migrate_bring(t, conn, 1, &cause) == -1) {
			free(cause);
			cause = NULL;
			continue;
		}
		n++;
	}
	w->left = n;
	if (n == 0) {
		w->left = 1;
		waiter_done(conn, 0);
	}
	return n;
}

/* ACCEPTED: dump P into the pipe D drains, leave it stopped. */
static void
on_accepted(struct away *a)
{
	struct ckpt_opts	 o = { .flags = CKPT_MIGRATE | CKPT_LEAVE_STOPPED,
				    .stall_ms = MIG_STALL_MS };
	struct access_op	 op;
	struct task		*t = supervise_find(a->pid);
	char			*cause = NULL;
	int			 rc;

	/*
	 * It ran on while the host answered: checked again once frozen (the
	 * requester, if any, passed in migrate_start).
	 */
	access_op_init(&op, NULL, 0);
	o.check = access_frozen;
	o.check_arg = &op;
	if (t != NULL)
		t->state = PROTO_STATE_CHECKPOINTING;
	rc = ckpt_dump(a->pid, a->img_out, &o, &a->dst, &cause);
	close(a->img_out);
	a->img_out = -1;
	if (rc == -1) {
		depmsg_sendf(a->ctl, DM_DUMPFAIL, 0, 0, "%s", cause);
		log_warnx("process %d: migration dump: %s", (int)a->pid, cause);
		if (t != NULL)
			t->state = PROTO_STATE_RUNNING;
		answer(a, 0, cause);
		free(cause);
		if (a->dst.exited)
			supervise_forget(a->pid);
		kill(a->dep, SIGKILL);
		away_free(a);
		return;
	}
	depmsg_sendf(a->ctl, DM_DUMPED, 0, 0, NULL);
	a->state = AW_STREAMING;
}

static void
on_ready(struct away *a, const struct depmsg *m)
{
	struct task	*t = supervise_find(a->pid);
	char		*cause = NULL;

	/* its body is elsewhere: should ommd die, the husk must not linger */
	supervise_set_exitkill(a->pid, 1);
	/*
	 * The signals the image holds go; one that came after the dump (its
	 * children's SIGCHLD) is in no image: the park keeps it for the guest.
	 */
	if (ckpt_park(a->pid, a->dst.sig_pending, &cause) == -1) {
		/* still stopped: signals wait, the guest runs all the same */
		log_warnx("process %d: parking: %s", (int)a->pid, cause);
	}
	/* D takes P's POSIX locks now, before it serves a call */
	depmsg_sendf(a->ctl, DM_PARKED, 0, 0, "%s", cause != NULL ? cause : "");
	free(cause);
	a->state = AW_AWAY;
	if (t != NULL) {
		t->state = PROTO_STATE_RUNNING;
		t->migrations++;
		/* placed by hand: the balancer leaves it there a while */
		t->resident_ms = supervise_now_ms() + (a->manual ?
		    MANUAL_HOLD_MS : 0);
	}
	jobd_event(JM_EV_OUT, a->node, a->pid);
	log_info("process %d: runs on node %s (guest %d), %llu bytes, frozen "
	    "%.3f s, %.3f s in all", (int)a->pid, node_name(a->node), m->a,
	    (unsigned long long)a->dst.bytes, now_secs() - a->t0 -
	    (a->dst.secs - a->dst.freeze_secs), now_secs() - a->t0);
	answer(a, 1, NULL);
}

/* MOVED: it runs on the node it moved on to. */
static void
on_moved(struct away *a, const struct depmsg *m)
{
	struct task	*t = supervise_find(a->pid);

	log_info("process %d: moved on from node %s to node %s (guest %d) in "
	    "%.3f s", (int)a->pid, node_name(a->node), node_name(a->moving),
	    m->a, now_secs() - a->t0);
	a->node = a->moving;
	a->moving = 0;
	a->dst.bytes = m->value;
	a->dst.freeze_secs = 0;	/* not seen from here: the host's dump */
	if (t != NULL) {
		t->migrations++;
		t->resident_ms = supervise_now_ms() + (a->manual ?
		    MANUAL_HOLD_MS : 0);
	}
	jobd_event(JM_EV_OUT, a->node, a->pid);
	answer(a, 1, NULL);
}

/* Before the guest ran there: P goes on where it was. */
static void
on_failed(struct away *a, const char *why)
{
	struct task	*t = supervise_find(a->pid);
	char		*cause = NULL;

	if (a->state == AW_STREAMING && ckpt_resume(a->pid, &cause) == -1) {
		log_warnx("process %d: resuming: %s", (int)a->pid, cause);
		free(cause);
	}
	if (t != NULL)
		t->state = PROTO_STATE_RUNNING;
	jobd_event(JM_EV_REFUSED, a->node, a->pid);
	log_warnx("process %d: migration to node %s failed: %s", (int)a->pid,
	    node_name(a->node), why);
	answer(a, 0, why);
	kill(a->dep, SIGKILL);
	away_free(a);
}

/*
 * The holder closes its end of the channel after HOLDING: then its table
 * is the process's and nothing else.
 */
static int
wait_closed(struct away *a, char **cause)
{
	struct pollfd	pfd = { a->ctl, POLLIN, 0 };
	char		c;
	int		rc;

	for (;;) {
		do
			rc = poll(&pfd, 1, HOLD_WAIT_MS);
		while (rc == -1 && errno == EINTR);
		if (rc == 0)
			return cause_set(cause, "the holder kept its channel");
		if (recv(a->ctl, &c, 1, MSG_DONTWAIT) <= 0)
			return 0;
	}
}

/* Wait, blocking, for the holder D became. */
static int
wait_holding(struct away *a, char **cause)
{
	struct pollfd	pfd = { a->ctl, POLLIN, 0 };
	struct depmsg	m;
	int		rc;

	for (;;) {
		do
			rc = poll(&pfd, 1, HOLD_WAIT_MS);
		while (rc == -1 && errno == EINTR);
		if (rc == 0)
			return cause_set(cause, "the deputy did not hand over");
		if (depmsg_recv(a->ctl, &m, cause) == -1)
			return -1;
		if (m.type == DM_HOLDING)
			return wait_closed(a, cause);
		if (m.type == DM_FAILED || m.type == DM_LOST)
			return cause_set(cause, "%s", m.text);
	}
}

/*
 * The image could not come home (the restore into P failed, P is parked
 * again): the process goes on at its host, which kept it stopped. D gets
 * a new pipe for the next time and passes the word on (DM_STAY).
 */
static int
stay_away(struct away *a, const char *why)
{
	struct depmsg	 m;
	char		*cause = NULL;
	int		 in[2];

	if (pipe2(in, O_CLOEXEC) == -1) {
		log_warn("process %d: pipe", (int)a->pid);
		return -1;
	}
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	memset(&m, 0, sizeof m);
	m.type = DM_STAY;
	snprintf(m.text, sizeof m.text, "restore at home: %s", why);
	if (depmsg_send_fd(a->ctl, &m, in[1], &cause) == -1) {
		log_warnx("process %d: %s", (int)a->pid, cause);
		free(cause);
		close(in[0]);
		close(in[1]);
		return -1;
	}
	close(in[1]);
	a->img_in = in[0];
	a->next = 0;
	if (ptrace(PTRACE_CONT, a->pid, 0, 0) == -1) {
		log_warn("process %d: resuming it parked", (int)a->pid);
		return -1;
	}
	a->state = AW_AWAY;
	jobd_event(JM_EV_REFUSED, a->node, a->pid);
	log_warnx("process %d: coming home from node %s failed: %s; it goes on "
	    "there", (int)a->pid, node_name(a->node), why);
	answer(a, 0, m.text);
	return 0;
}

/* LEAVING: restore P from the image D pipes in, give it D's fds, go on. */
static void
on_leaving(struct away *a, const struct depmsg *m)
{
	struct restore_opts	 ro;
	struct ckpt_stats	 st;
	struct task		*t = supervise_find(a->pid);
	char			*cause = NULL;
	uint32_t		 next = a->next;
	uint64_t		 conn = a->conn;
	pid_t			 pid = a->pid;
	int			 bring_all = a->conn_bring;

	a->state = AW_RETURNING;
	if (stop_parked(a->pid, &cause) == -1)
		goto lost;
	memset(&ro, 0, sizeof ro);
	ro.flags = RESTORE_ORIGINAL | RESTORE_LEAVE_STOPPED | RESTORE_REPARK;
	ro.stall_ms = MIG_STALL_MS;
	if (ckpt_restore(a->pid, a->img_in, &ro, &st, &cause) == -1) {
		close(a->img_in);
		a->img_in = -1;
		if (st.parked && stay_away(a, cause) == 0) {
			free(cause);
			return;
		}
		goto lost;
	}
	close(a->img_in);
	a->img_in = -1;
	supervise_set_exitkill(a->pid, 0);
	/* restored and checked: the host's copy may go, D becomes the holder */
	if (depmsg_sendf(a->ctl, DM_HOLD, 0, 0, NULL) == -1) {
		cause = xstrdup("the deputy is gone");
		goto lost;
	}
	if (wait_holding(a, &cause) == -1 ||
	    ckpt_adopt_fds(a->pid, a->dep, &cause) == -1)
		goto lost;
	kill(a->dep, SIGKILL);
	if (ptrace(PTRACE_CONT, a->pid, 0, 0) == -1) {
		cause_set(&cause, "resuming: %s", strerror(errno));
		goto lost;
	}
	jobd_event(JM_EV_BROUGHT, a->node, a->pid);
	log_info("process %d: home from node %s (%s%s), %llu bytes in %.3f s",
	    (int)a->pid, node_name(a->node), m->a == MIG_LEAVE_SYSCALL ?
	    "a call needs home: " : m->a == MIG_LEAVE_SHUTDOWN ? "its host "
	    "stops" : m->a == MIG_LEAVE_MEMORY ? "its host is short of memory" :
	    m->a == MIG_LEAVE_MEMLIMIT ? "it reached its memory limit there" :
	    "asked", m->a == MIG_LEAVE_SYSCALL ? sysent_name(m->b) : "",
	    (unsigned long long)st.bytes, st.secs);
	if (t != NULL) {
		supervise_refresh(a->pid);
		/* brought home by hand: the balancer leaves it alone a while */
		t->resident_ms = supervise_now_ms() + (conn != 0 ?
		    MANUAL_HOLD_MS : 0);
	}
	a->conn = 0;
	away_free(a);
	if (next != 0 && t != NULL) {
		if (migrate_start(t, next, conn, &cause) == -1) {
			reply_error(conn, "%s", cause);
			free(cause);
		}
		return;
	}
	if (conn != 0) {
		if (bring_all)
			waiter_done(conn, 1);
		else {
			struct msg_migrated	 r;
			struct buf		 b;

			memset(&r, 0, sizeof r);
			r.pid = pid;
			r.node = jobd_self();
			r.node_name = (char *)"home";
			r.bytes = st.bytes;
			r.secs = st.secs;
			r.freeze_secs = st.freeze_secs;
			buf_init(&b);
			proto_encode_migrated(&b, &r);
			jobd_reply(conn, &b);
			buf_free(&b);
		}
	}
	return;
lost:
	away_lost(a, cause != NULL ? cause : "coming home failed");
	free(cause);
}

static void
away_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct away	*a = arg;
	struct depmsg	 m;
	char		*cause = NULL;

	if (depmsg_recv(fd, &m, &cause) == -1) {
		if (a->state == AW_OFFERING || a->state == AW_STREAMING)
			on_failed(a, "the deputy died");
		else
			away_lost(a, "its deputy died");
		free(cause);
		return;
	}
	log_debug("process %d: deputy says %s", (int)a->pid,
	    depmsg_name(m.type));
	switch (m.type) {
	case DM_ACCEPTED:
		if (a->state == AW_OFFERING)
			on_accepted(a);
		break;
	case DM_REFUSED:
	case DM_FAILED:
		if (a->state == AW_OFFERING || a->state == AW_STREAMING)
			on_failed(a, m.text);
		else
			away_lost(a, m.text);
		break;
	case DM_READY:
		if (a->state == AW_STREAMING)
			on_ready(a, &m);
		break;
	case DM_EXITED:
		if (a->state != AW_AWAY && a->state != AW_RETURNING)
			break;
		log_info("process %d ended on node %s: status %#x",
		    (int)a->pid, node_name(a->node), m.a);
		answer(a, 0, "it ended");
		exit_as(a->pid, m.a);
		away_free(a);
		break;
	case DM_STOPPED:
		/* the guest stopped itself: so does P, for its parent's wait */
		if (a->state == AW_AWAY)
			kill(a->pid, SIGSTOP);
		break;
	case DM_LEAVING:
		if (a->state == AW_AWAY)
			on_leaving(a, &m);
		break;
	case DM_MOVED:
		if (a->state == AW_AWAY && a->moving != 0)
			on_moved(a, &m);
		break;
	case DM_MOVEFAIL:
		if (a->moving != 0) {
			log_warnx("process %d: moving on to node %s refused: %s",
			    (int)a->pid, node_name(a->moving), m.text);
			jobd_event(JM_EV_REFUSED, a->moving, a->pid);
			a->moving = 0;
			answer(a, 0, m.text);
		}
		break;
	case DM_LOST:
		away_lost(a, m.text);
		break;
	default:
		break;
	}
}

int
migrate_on_signal(struct task *t, int sig)
{
	struct away	*a = t->away;
	struct depmsg	 m;
	siginfo_t	 si;
	char		*cause = NULL;

	if (a == NULL || a->state != AW_AWAY)
		return 0;
	memset(&m, 0, sizeof m);
	m.type = DM_SIGNAL;
	m.a = sig;
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) == 0) {
		m.b = si.si_code;
		m.pid = si.si_pid;
		m.uid = si.si_uid;
		m.value = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
	}
	if (depmsg_send(a->ctl, &m, &cause) == -1) {
		free(cause);
	} else
		kill(a->dep, SIGUSR1);
	/* a stop is also P's, so that its parent sees it; nothing else runs here */
	ptrace(PTRACE_CONT, t->tid, 0, (void *)(long)(sig == SIGSTOP ? sig : 0));
	return 1;
}

void
migrate_task_gone(struct task *t)
{
	struct away	*a = t->away;

	if (a == NULL)
		return;
	if (a->state == AW_AWAY)
		log_info("process %d killed at home: ending its guest on %s",
		    (int)a->pid, node_name(a->node));
	answer(a, 0, "the process ended");
	/* D sees its channel close and kills the guest; wake it from a call */
	if (a->dep > 0)
		kill(a->dep, SIGUSR1);
	t->away = NULL;
	a->pid = -1;
	away_free(a);
}

void
migrate_on_exec(struct task *t)
{
	char	*cause = NULL;

	if (t->migrate_on_exec == 0)
		return;
	if (migrate_start(t, t->migrate_on_exec, 0, &cause) == -1) {
		/* a command over before it could go is no news */
		if (procinfo_exists(t->tgid) && !procinfo_zombie(t->tgid))
			tell_user(t->tgid, "process %d stays home: %s",
			    (int)t->tgid, cause);
		free(cause);
	} else if (t->away != NULL)
		t->away->manual = 1;	/* omrun --on: the user's choice */
	t->migrate_on_exec = 0;
}

int
migrate_child_exited(pid_t pid, int status)
{
	struct away	*a;

	LIST_FOREACH(a, &aways, entry) {
		if (a->dep == pid) {
			a->dep = -1;
			return 1;
		}
	}
	return 0;
}

uint32_t
migrate_away_count(void)
{
	struct away	*a;
	uint32_t	 n = 0;

	LIST_FOREACH(a, &aways, entry)
		n += a->state == AW_AWAY;
	return n;
}

void
migrate_ps(const struct task *t, struct msg_ps_entry *e)
{
	struct away	*a = t->away;

	e->home_node = jobd_self();
	e->where = jobd_self();
	e->migrations = t->migrations;
	/* over all its migrations: the past ones, then the current one's */
	e->fwd_calls = t->fwd.calls;
	e->fwd_errors = t->fwd.errors;
	e->fwd_bytes_in = t->fwd.bytes_in;
	e->fwd_bytes_out = t->fwd.bytes_out;
	e->fwd_signals = t->fwd.signals;
	e->locked = t->locked;
	e->away = PROTO_AWAY_HOME;
	if (a == NULL)
		return;
	switch (a->state) {
	case AW_OFFERING:
	case AW_STREAMING:
		e->away = PROTO_AWAY_MIGRATING;
		break;
	case AW_AWAY:
		e->away = PROTO_AWAY_REMOTE;
		e->where = a->node;
		e->where_name = xstrdup(node_name(a->node));
		break;
	case AW_RETURNING:
		e->away = PROTO_AWAY_RETURNING;
		break;
	}
	e->fwd_calls += a->stats->calls;
	e->fwd_errors += a->stats->errors;
	e->fwd_bytes_in += a->stats->bytes_in;
	e->fwd_bytes_out += a->stats->bytes_out;
	e->fwd_signals += a->stats->signals;
}

int
migrate_usage(const struct task *t, struct migrate_usage *mu)
{
	struct away	*a = t->away;

	memset(mu, 0, sizeof *mu);
	if (a == NULL)
		return 1;
	if (a->state != AW_AWAY || a->moving != 0)
		return 0;
	mu->away = 1;
	mu->node = a->node;
	mu->cpu_ns = a->stats->cpu_ns;
	mu->rss = a->stats->rss;
	mu->host_cpus_milli = a->stats->host_cpus_milli;
	mu->host_load = a->stats->host_load;
	return 1;
}

int
migrate_busy(void)
{
	struct away	*a;

	LIST_FOREACH(a, &aways, entry) {
		if (a->state != AW_AWAY || a->moving != 0)
			return 1;
	}
	return 0;
}

/* Processes away or on their way: the job is not over while any is. */
uint32_t
migrate_pending(void)
{
	struct away	*a;
	uint32_t	 n = 0;

	LIST_FOREACH(a, &aways, entry)
		n++;
	return n;
}
