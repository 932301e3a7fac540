/*
 * guestd.c: the guest server, S in docs/migration.md. The host's ommd forks
 * it per arriving migration connection. It checks the offer, restores the
 * image into a fresh unprivileged stub (G) whose tracer and parent it is,
 * and serves G's seccomp notifications over the same TLS connection until G
 * ends or leaves. One blocking loop; threads only while an image streams
 * (to overlap the network with the restore or the dump) and while a dump
 * injects calls that must pass G's filter.
 */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <linux/filter.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/cgroup.h"
#include "omm/ckpt.h"
#include "omm/cpufeat.h"
#include "omm/inject.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/miglink.h"
#include "omm/migwire.h"
#include "omm/procfs.h"
#include "omm/procfork.h"
#include "omm/selfsig.h"
#include "omm/proto.h"
#include "omm/trap.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

#include "depmsg.h"
#include "guestd.h"
#include "procinfo.h"

#define ACCEPT_MS	10000
#define PING_MS		1000
#define PIPE_CHUNK	(256U << 10)
#define MIG_STALL_MS	60000	/* an image pipe that moves nothing this long fails */
/*
 * A peer silent this long (it PINGs every second) is gone. Not less: on a
 * loaded node a daemon's process can go seconds without the CPU (3 s lost
 * migrated jobs at a load of 50 on 2 cores), and a dead link or node is
 * found sooner by TCP's keepalive and user timeout (5 s, miglink.c),
 * which the kernel runs whatever the load.
 */
#define SILENT_S	10
#define ORPHAN_S	30	/* no ommd here this long: the guest goes home */
#define REDIAL_MS	500	/* ommd gone: try its internal socket this often */

struct srv {
	const struct guestd_args *a;
	struct miglink		*link;
	struct trap_guest	*g;
	pid_t			 gpid;
	uint32_t		 home;
	int32_t			 home_pid;
	int			 bring;		/* GUEST_BRING seen: reason */
	struct timespec		 last_send;
	struct timespec		 last_recv;
	struct timespec		 last_usage;
	int			 chld[2];	/* SIGCHLD self-pipe */
	int			 term;		/* SIGTERM: send it home */
	int			 stays;		/* moves that failed */
	time_t			 next_leave;	/* monotonic s: try again then */
	char			 cg[PATH_MAX + 32]; /* G's group, "" before */
	int			 memwatch;	/* readable: look at G's memory */
	int			 memcheck;	/* look now */
	int			 over;		/* at its memory limit: goes home */
	uint64_t		 high_seen;	/* v2: memory.events' high, seen */
	int			 ctl;		/* to ommd, -1: ommd gone */
	struct timespec		 orphan_since;	/* when ctl went */
	struct timespec		 last_dial;
	uint32_t		 uid;		/* the owner at home */
	char			 comm[16];
};

static int	sigpipe_w = -1;
static volatile sig_atomic_t	got_term, got_mem;

static void	ctl_readable(struct srv *);
static void	ctl_redial(struct srv *);

static void
on_chld(int sig)
{
	int	e = errno;

	(void)sig;
	if (write(sigpipe_w, "c", 1) == -1) {
		/* full: a wakeup is already pending */
	}
	errno = e;
}

static void
on_term(int sig)
{
	int	e = errno;

	(void)sig;
	got_term = 1;
	if (write(sigpipe_w, "t", 1) == -1) {
		/* as above */
	}
	errno = e;
}

/* SIGUSR2: the host is short of memory, this guest goes. */
static void
on_usr2(int sig)
{
	int	e = errno;

	(void)sig;
	got_mem = 1;
	if (write(sigpipe_w, "m", 1) == -1) {
		/* as above */
	}
	errno = e;
}

static void
sent_now(struct srv *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->last_send);
}

static int
send_buf(struct srv *s, struct buf *b, char **cause)
{
	int	rv;

	sent_now(s);
	rv = miglink_send_frames(s->link, b->data, b->len, cause);
	buf_reset(b);
	return rv;
}

/* ---- G's memory: a cgroup of its own ---- */

static void
size_str(uint64_t n, char *buf, size_t len)
{
	if (n % (1ULL << 30) == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n >= (1ULL << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
}

/*
 * G in a group of its own with the node's guest memory limit, which it
 * must never be killed for: it is sent home instead.
 *
 * cgroup v2: memory.high is the limit. Past it the kernel reclaims and
 * throttles G, and raises memory.events' "high", which we poll (POLLPRI)
 * and answer by sending G home. memory.max stays "max": the group's OOM
 * killer never acts, whatever G does while we react; swap is off for it
 * (memory.swap.max 0) so G is not quietly swapped instead of sent home.
 *
 * cgroup v1: memory.limit_in_bytes is the limit, with the OOM killer off
 * (memory.oom_control 1): at the limit G's faults wait instead, the
 * kernel signals an eventfd (cgroup.event_control), and we lift the limit
 * and send it home.
 */
static int
cg_join(struct srv *s, pid_t pid, char **cause)
{
	const struct guest_cg	*cg = s->a->cg;
	char			 v[PATH_MAX + 64], ev[PATH_MAX + 64];
	int			 efd = -1, ofd = -1;

	snprintf(s->cg, sizeof s->cg, "%s/guest-%d", cg->dir, (int)pid);
	snprintf(v, sizeof v, "%llu", (unsigned long long)cg->limit);
	if (cg_create(s->cg, cause) == -1)
		goto fail;
	if (cg->kind == CG_V2) {
		if (cg_write(s->cg, "memory.max", "max", cause) == -1 ||
		    cg_write(s->cg, "memory.high", v, cause) == -1)
			goto fail;
		(void)cg_write(s->cg, "memory.swap.max", "0", NULL);
		snprintf(ev, sizeof ev, "%s/memory.events", s->cg);
		if ((s->memwatch = open(ev, O_RDONLY | O_CLOEXEC)) == -1) {
			cause_set(cause, "%s: %s", ev, strerror(errno));
			goto fail;
		}
	} else {
		if (cg_write(s->cg, "memory.limit_in_bytes", v, cause) == -1 ||
		    cg_write(s->cg, "memory.oom_control", "1", cause) == -1)
			goto fail;
		(void)cg_write(s->cg, "memory.swappiness", "0", NULL);
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		snprintf(ev, sizeof ev, "%s/memory.oom_control", s->cg);
		ofd = open(ev, O_RDONLY | O_CLOEXEC);
		if (efd == -1 || ofd == -1) {
			cause_set(cause, "eventfd on %s: %s", ev, strerror(errno));
			goto fail;
		}
		snprintf(v, sizeof v, "%d %d", efd, ofd);
		if (cg_write(s->cg, "cgroup.event_control", v, cause) == -1)
			goto fail;
		close(ofd);
		s->memwatch = efd;
	}
	return cg_attach(s->cg, pid, cause);
fail:
	if (efd != -1)
		close(efd);
	if (ofd != -1)
		close(ofd);
	return -1;
}

/*
 * Has G reached its limit (an event came, or a second passed)? Then
 * s->over: it goes home as soon as it may (after a failed move, a while
 * later). Meanwhile v2 throttles it at memory.high and v1 holds it at the
 * limit, neither kills it.
 */
static void
cg_check(struct srv *s)
{
	const struct guest_cg	*cg = s->a->cg;
	uint64_t		 n = 0, x;
	char			 buf[512], *p;
	ssize_t			 r;

	if (s->cg[0] == '\0' || s->memwatch == -1 || s->over)
		return;
	if (cg->kind == CG_V2) {
		/* reading our descriptor re-arms its POLLPRI */
		if ((r = pread(s->memwatch, buf, sizeof buf - 1, 0)) <= 0)
			return;
		buf[r] = '\0';
		for (p = buf; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : p) {
			if (strncmp(p, "high ", 5) == 0) {
				n = strtoull(p + 5, NULL, 10);
				break;
			}
		}
		if (n > s->high_seen) {
			s->high_seen = n;
			s->over = 1;
		}
	} else {
		if (read(s->memwatch, &x, sizeof x) == -1) {
			/* nothing counted: a look once a second */
		}
		if (cg_read_u64(s->cg, "memory.oom_control", "under_oom", &n,
		    NULL) == 0 && n != 0)
			s->over = 1;
	}
}

/* On its way home: it may grow while its image is taken. */
static void
cg_lift(struct srv *s)
{
	if (s->cg[0] == '\0')
		return;
	if (s->a->cg->kind == CG_V2)
		cg_write(s->cg, "memory.high", "max", NULL);
	else
		cg_write(s->cg, "memory.limit_in_bytes", "-1", NULL);
}

/*
 * The move failed and G stays: its limit again. Over it already, v2
 * reclaims and throttles at once and counts a high event; v1 refuses a
 * limit under the usage, so the limit is then what it uses, which holds
 * it there (and under_oom says so) until it can go.
 */
static void
cg_rearm(struct srv *s)
{
	uint64_t	use = 0;
	char		v[32];

	s->over = 0;
	if (s->cg[0] == '\0')
		return;
	snprintf(v, sizeof v, "%llu", (unsigned long long)s->a->cg->limit);
	if (s->a->cg->kind == CG_V2) {
		cg_write(s->cg, "memory.high", v, NULL);
		s->memcheck = 1;
		return;
	}
	if (cg_write(s->cg, "memory.limit_in_bytes", v, NULL) == -1 &&
	    cg_read_u64(s->cg, "memory.usage_in_bytes", NULL, &use, NULL) == 0) {
		snprintf(v, sizeof v, "%llu", (unsigned long long)use);
		cg_write(s->cg, "memory.limit_in_bytes", v, NULL);
		s->over = 1;
	}
	s->memcheck = 1;
}

/* G is gone (or going): its group goes too. */
static void
cg_done(struct srv *s)
{
	char	*cause = NULL;

	if (s->cg[0] == '\0')
		return;
	if (cg_remove(s->cg, 2000, &cause) == -1) {
		log_debug("guest %d: %s", (int)s->gpid, cause);
		free(cause);
	}
	s->cg[0] = '\0';
}

static void __attribute__((noreturn))
refuse(struct srv *s, uint16_t reason, const char *fmt, ...)
{
	struct mig_refuse	r;
	struct buf		b;
	va_list			ap;
	char			*cause = NULL;

	memset(&r, 0, sizeof r);
	r.reason = reason;
	va_start(ap, fmt);
	vsnprintf(r.text, sizeof r.text, fmt, ap);
	va_end(ap);
	log_info("guest %d from node %u refused: %s", (int)s->home_pid,
	    s->home, r.text);
	buf_init(&b);
	migwire_encode_refuse(&b, &r);
	if (send_buf(s, &b, &cause) == -1)
		free(cause);
	buf_free(&b);
	miglink_free(s->link);
	_exit(1);
}

static void __attribute__((noreturn))
fail(struct srv *s, const char *fmt, ...)
{
	struct mig_fail	f;
	struct buf	b;
	va_list		ap;
	char		*cause = NULL;

	memset(&f, 0, sizeof f);
	va_start(ap, fmt);
	vsnprintf(f.text, sizeof f.text, fmt, ap);
	va_end(ap);
	if (f.text[0] == '\0')
		snprintf(f.text, sizeof f.text, "failed");
	log_warnx("guest %d from node %u: %s", (int)s->home_pid, s->home,
	    f.text);
	if (s->gpid > 0) {
		kill(s->gpid, SIGKILL);
		waitpid(s->gpid, NULL, __WALL);
	}
	cg_done(s);
	buf_init(&b);
	migwire_encode_fail(&b, &f);
	if (send_buf(s, &b, &cause) == -1)
		free(cause);
	buf_free(&b);
	miglink_free(s->link);
	_exit(1);
}

/* Everything a host checks before it takes a process. */
static void
check_offer(struct srv *s, const struct mig_offer *o)
{
	struct cpu_features	have;
	uint64_t		vdso, vvar;
	char			missing[256];

	s->home_pid = o->home_pid;
	if (o->home_node != s->home)
		refuse(s, MIG_REFUSE_NODE, "the offer names node %u, the "
		    "certificate node %u", o->home_node, s->home);
	if (s->a->blocked)
		refuse(s, MIG_REFUSE_BLOCKED, "node %s does not take guests "
		    "(block on)", s->a->self_name);
	if (s->a->over_limit)
		refuse(s, MIG_REFUSE_LIMIT, "node %s is loaded over its loadlimit "
		    "(%u > %u)", s->a->self_name, s->a->load, s->a->loadlimit);
	if (!s->a->have_guest_user)
		refuse(s, MIG_REFUSE_NOGUEST, "node %s has no user %s",
		    s->a->self_name, GUEST_USER);
	if (s->a->cg == NULL || s->a->cg->kind == CG_NONE)
		refuse(s, MIG_REFUSE_MEMORY, "node %s cannot limit a guest's "
		    "memory: %s", s->a->self_name, s->a->cg != NULL ?
		    s->a->cg->why : "no cgroup");
	if (o->image_bytes > s->a->cg->limit) {
		char	uses[32], lim[32];

		size_str(o->image_bytes, uses, sizeof uses);
		size_str(s->a->cg->limit, lim, sizeof lim);
		refuse(s, MIG_REFUSE_MEMORY, "process %d uses %s, more than "
		    "node %s's guest memory limit of %s (guest_memory)",
		    (int)o->home_pid, uses, s->a->self_name, lim);
	}
	cpu_features_get(&have);
	if (cpu_features_missing(&have, &o->need, missing, sizeof missing))
		refuse(s, MIG_REFUSE_CPU, "node %s lacks %s", s->a->self_name,
		    missing);
	procinfo_vdso(&vdso, &vvar);
	if (vdso != o->vdso_len || vvar != o->vvar_len)
		refuse(s, MIG_REFUSE_KERNEL, "node %s runs another kernel "
		    "(vdso %#llx+%#llx bytes, the home's %#llx+%#llx)",
		    s->a->self_name, (unsigned long long)vdso,
		    (unsigned long long)vvar, (unsigned long long)o->vdso_len,
		    (unsigned long long)o->vvar_len);
}

/*
 * The stub G: the guest user's, no descriptors at all, waiting. It tells
 * us it is ready by closing the pipe, the last descriptor it has.
 */
static pid_t
make_stub(struct srv *s)
{
	const struct guestd_args	*a = s->a;
	pid_t				 pid;
	int				 p[2];
	char				 c, *cause = NULL;
	ssize_t				 n;

	if (pipe2(p, O_CLOEXEC) == -1)
		fail(s, "pipe: %s", strerror(errno));
	if ((pid = proc_fork()) == -1)
		fail(s, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (setgroups(0, NULL) == -1 ||
		    setresgid(a->guest_gid, a->guest_gid, a->guest_gid) == -1 ||
		    setresuid(a->guest_uid, a->guest_uid, a->guest_uid) == -1)
			_exit(1);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		syscall(SYS_close_range, 0, (unsigned)p[1] - 1, 0);
		syscall(SYS_close_range, (unsigned)p[1] + 1, ~0U, 0);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	do
		n = read(p[0], &c, 1);
	while (n == -1 && errno == EINTR);
	close(p[0]);
	s->gpid = pid;
	/* before the image: its pages are charged to its own group */
	if (cg_join(s, pid, &cause) == -1)
		fail(s, "the guest's memory group on node %s: %s",
		    s->a->self_name, cause);
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL |
	    PTRACE_O_TRACESYSGOOD) == -1) {
		kill(pid, SIGKILL);
		fail(s, "seizing the guest: %s", strerror(errno));
	}
	return pid;
}

struct pump {
	struct srv	*s;
	int		 fd;
	int		 ok;
	uint64_t	 bytes;
	char		*cause;
};

/* Network -> pipe, for the restore reading the other end. */
static void *
pump_in(void *arg)
{
	struct pump	*pp = arg;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	size_t		 off;
	ssize_t		 n;
	int		 rc, broken = 0;

	for (;;) {
		rc = miglink_recv(pp->s->link, ACCEPT_MS * 6, &h, &pl, &pp->cause);
		if (rc <= 0) {
			if (rc == 0)
				pp->cause = xstrdup("the image stopped coming");
			break;
		}
		if (h.type == WIRE_PING)
			continue;
		if (h.type == WIRE_MIG_IMAGE_END) {
			pp->ok = 1;
			break;
		}
		if (h.type == WIRE_MIG_FAIL) {
			pp->cause = xstrdup("home gave up sending the image");
			break;
		}
		if (h.type != WIRE_MIG_IMAGE) {
			xasprintf(&pp->cause, "unexpected %s in the image",
			    wire_type_name(h.type));
			break;
		}
		pp->bytes += h.len;
		for (off = 0; !broken && off < h.len; off += (size_t)n) {
			n = write(pp->fd, pl + off, h.len - off);
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				broken = 1;	/* the restore gave up: drain */
		}
	}
	close(pp->fd);
	return NULL;
}

/* Pipe -> network, while the dump writes the other end. */
static void *
pump_out(void *arg)
{
	struct pump	*pp = arg;
	uint8_t		*chunk = xmalloc(PIPE_CHUNK);
	ssize_t		 n;

	for (;;) {
		n = read(pp->fd, chunk, PIPE_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (miglink_send(pp->s->link, WIRE_MIG_IMAGE, chunk, (size_t)n,
		    &pp->cause) == -1)
			break;
		pp->bytes += (uint64_t)n;
	}
	pp->ok = n == 0 && pp->cause == NULL;
	/* drain so the dump never blocks on a dead link */
	while (n > 0 || (n == -1 && errno == EINTR))
		n = read(pp->fd, chunk, PIPE_CHUNK);
	close(pp->fd);
	free(chunk);
	return NULL;
}

/*
 * While the dump injects calls into G, they meet G's filter. The engine
 * tells where its injection area is (contarg.area, set before its first
 * call there): a call made from that code page is the dump's own and runs.
 * Anything else is a call of the guest's own that reached the filter
 * before the interrupt took hold: it must never run here; it is restarted
 * (and made at home after the image is restored there, or here again if
 * the guest stays).
 */
struct contarg {
	struct trap_guest	*g;
	int			 stop;		/* read end: closed to stop */
	uint64_t		 area;		/* the engine's code page */
};

static void
set_area(uint64_t area, void *arg)
{
	struct contarg	*c = arg;

	__atomic_store_n(&c->area, area, __ATOMIC_RELEASE);
}

static int
from_area(struct contarg *c, uint64_t ip)
{
	uint64_t	area = __atomic_load_n(&c->area, __ATOMIC_ACQUIRE);

	return area != 0 && ip >= area && ip < area + INJECT_CODE_SIZE;
}

static void *
cont_all(void *arg)
{
	struct contarg		*c = arg;
	struct trap_notif	 n;
	struct pollfd		 pfd[2];
	char			*cause = NULL;

	pfd[0].fd = trap_fd(c->g);
	pfd[0].events = POLLIN;
	pfd[1].fd = c->stop;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (trap_recv(c->g, &n, &cause) != 1) {
			free(cause);
			cause = NULL;
			continue;
		}
		if ((from_area(c, n.ip) ? trap_continue(c->g, n.id, &cause) :
		    trap_respond(c->g, n.id, -CKPT_ERESTARTNOINTR, &cause)) ==
		    -1) {
			free(cause);
			cause = NULL;
		}
	}
	return NULL;
}

static void
deliver(struct srv *s, const struct guest_signal *gs)
{
	siginfo_t	si;

	if (gs->code == SI_QUEUE) {
		memset(&si, 0, sizeof si);
		si.si_signo = gs->signo;
		si.si_code = SI_QUEUE;
		si.si_pid = gs->pid;
		si.si_uid = gs->uid;
		si.si_value.sival_ptr = (void *)(uintptr_t)gs->value;
		if (syscall(SYS_rt_sigqueueinfo, s->gpid, gs->signo, &si) == 0)
			return;
	}
	kill(s->gpid, gs->signo);
}

/* A frame that may come between a request and its reply, or any time. */
static int
async_frame(struct srv *s, const struct wire_hdr *h, const uint8_t *pl,
    char **cause)
{
	struct guest_signal	gs;
	struct guest_bring	gb;

	switch (h->type) {
	case WIRE_PING:
		return 0;
	case WIRE_GUEST_SIGNAL:
		if (migwire_decode_signal(pl, h->len, &gs, cause) == -1)
			return -1;
		deliver(s, &gs);
		return 0;
	case WIRE_GUEST_BRING:
		if (migwire_decode_bring(pl, h->len, &gb, cause) == -1)
			return -1;
		s->bring = (int)gb.reason;
		return 0;
	default:
		return cause_set(cause, "protocol: unexpected %s",
		    wire_type_name(h->type));
	}
}

/* trap.h's way home: one request, its reply; signals and brings meanwhile. */
static int
link_call(void *arg, uint16_t type, const uint8_t *p, size_t n,
    struct buf *rep, uint16_t *rtype, char **cause)
{
	struct srv	*s = arg;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	int		 rc;

	struct timespec	 now;

	sent_now(s);
	if (miglink_send(s->link, type, p, n, cause) == -1)
		return -1;
	for (;;) {
		/*
		 * A call may block at home as long as it likes (a read on a
		 * terminal): only a request home never acknowledged, SILENT_S on,
		 * means home is gone; TCP keepalive covers the rest.
		 */
		if ((rc = miglink_recv(s->link, PING_MS, &h, &pl, cause)) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - s->last_send.tv_sec > SILENT_S &&
			    miglink_unacked(s->link))
				return cause_set(cause, "home acknowledged "
				    "nothing for %d s", SILENT_S);
			continue;
		}
		if (rc == -1)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
		if (h.type == MARSHAL_SYSCALL_REP || h.type == MARSHAL_FDINFO_REP ||
		    h.type == MARSHAL_FDDATA_REP ||
		    h.type == MARSHAL_SYSCALL_LOCAL) {
			buf_add(rep, pl, h.len);
			*rtype = h.type;
			return 0;
		}
		if (async_frame(s, &h, pl, cause) == -1)
			return -1;
	}
}

static void
send_exit(struct srv *s, int status)
{
	struct guest_exit	e = { .wstatus = status };
	struct buf		b;
	char			*cause = NULL;

	buf_init(&b);
	migwire_encode_exit(&b, &e);
	if (send_buf(s, &b, &cause) == -1)
		free(cause);
	buf_free(&b);
}

static void __attribute__((noreturn)) home_lost(struct srv *, const char *);

/*
 * After G's image went: home's word on it. GUEST_LANDED: it was restored
 * and checked where it went, G (stopped since its dump) goes. GUEST_STAY:
 * that failed, G goes on here. Home keeps us posted (PING) meanwhile.
 * 1: landed, 0: stay (why in *text).
 */
static int
leave_verdict(struct srv *s, char *text, size_t len)
{
	struct guest_landed	 gl;
	struct guest_stay	 gs;
	struct wire_hdr		 h;
	struct timespec		 now;
	const uint8_t		*pl;
	char			*cause = NULL;
	int			 rc;

	clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
	for (;;) {
		if ((rc = miglink_recv(s->link, PING_MS, &h, &pl, &cause)) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - s->last_recv.tv_sec > SILENT_S)
				home_lost(s, "no word from home on the image");
			continue;
		}
		if (rc == -1)
			home_lost(s, cause);
		clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
		switch (h.type) {
		case WIRE_PING:
		case WIRE_GUEST_BRING:		/* on its way already */
			continue;
		case WIRE_GUEST_LANDED:
			if (migwire_decode_landed(pl, h.len, &gl, &cause) == -1)
				home_lost(s, cause);
			return 1;
		case WIRE_GUEST_STAY:
			if (migwire_decode_stay(pl, h.len, &gs, &cause) == -1)
				home_lost(s, cause);
			snprintf(text, len, "%s", gs.text);
			return 0;
		default:
			/* a signal now would be in neither copy: home holds them */
			xasprintf(&cause, "protocol: %s while the image is on its "
			    "way", wire_type_name(h.type));
			home_lost(s, cause);
		}
	}
}

/*
 * Send G home (or on): GUEST_LEAVING, then its image, dumped with G left
 * stopped, then home's word: G goes once its image landed, or goes on here
 * when the move failed (a failed dump too: home hears MIG_FAIL). Returns
 * only when G stays. n: the call it is stopped in when a call brought it
 * home, or NULL.
 */
static void
leave(struct srv *s, uint32_t why, const struct trap_notif *n)
{
	struct guest_leaving	 lv;
	struct mig_image_end	 e;
	struct ckpt_opts	 o;
	struct ckpt_stats	 st;
	struct contarg		 ca;
	struct pump		 pp;
	struct buf		 b;
	pthread_t		 tc, tp;
	char			*cause = NULL, text[MIG_TEXT_MAX];
	int			 p[2], stop[2], status, rc;

	/* its image is taken by code run in it: no limit may hold it now */
	cg_lift(s);
	memset(&lv, 0, sizeof lv);
	lv.why = why;
	lv.nr = n != NULL ? n->nr : -1;
	buf_init(&b);
	migwire_encode_leaving(&b, &lv);
	if (send_buf(s, &b, &cause) == -1)
		home_lost(s, cause);
	/*
	 * Stop it first: from here on a call it makes is withdrawn from the
	 * filter's queue and restarted after the stop, never served.
	 */
	if (ckpt_bring_prepare(s->gpid, &cause) == -1)
		log_debug("guest %d: %s", (int)s->gpid, cause);
	free(cause);
	cause = NULL;
	if (n != NULL) {
		/*
		 * Release the call it waits in so that it restarts: the
		 * interrupt made a signal pending, so -ERESTARTNOINTR is
		 * turned back into the call when the image is restored.
		 */
		if (trap_respond(s->g, n->id, -CKPT_ERESTARTNOINTR, &cause) == -1)
			home_lost(s, cause);
	}
	if (pipe2(p, O_CLOEXEC) == -1 || pipe2(stop, O_CLOEXEC) == -1)
		fail(s, "pipe: %s", strerror(errno));
	memset(&pp, 0, sizeof pp);
	pp.s = s;
	pp.fd = p[0];
	memset(&ca, 0, sizeof ca);
	ca.g = s->g;
	ca.stop = stop[0];
	if (pthread_create(&tp, NULL, pump_out, &pp) != 0 ||
	    pthread_create(&tc, NULL, cont_all, &ca) != 0)
		fail(s, "threads");
	memset(&o, 0, sizeof o);
	o.flags = CKPT_LEAVE_STOPPED | CKPT_MIGRATE;
	o.stall_ms = MIG_STALL_MS;
	o.inject_area = set_area;
	o.arg = &ca;
	o.selfsig = trap_selfsig(s->g);
	o.origins = trap_origins(s->g);
	if ((rc = ckpt_dump(s->gpid, p[1], &o, &st, &cause)) == -1)
		log_warnx("guest %d: dump: %s", (int)s->gpid, cause);
	close(p[1]);
	close(stop[1]);
	pthread_join(tc, NULL);
	pthread_join(tp, NULL);
	close(stop[0]);
	if (st.exited) {
		/* it ended under the dump: its end is home's news */
		send_exit(s, st.wstatus);
		waitpid(s->gpid, &status, __WALL);
		cg_done(s);
		_exit(0);
	}
	if (!pp.ok)
		home_lost(s, pp.cause != NULL ? pp.cause : "sending the image");
	buf_reset(&b);
	if (rc == -1) {
		/* the engine resumed G as it was: home hears it failed */
		struct mig_fail	f;

		memset(&f, 0, sizeof f);
		snprintf(f.text, sizeof f.text, "dump on node %s failed: %s",
		    s->a->self_name, cause);
		migwire_encode_fail(&b, &f);
	} else {
		e.total_bytes = pp.bytes;
		migwire_encode_image_end(&b, &e);
	}
	if (send_buf(s, &b, &cause) == -1)
		home_lost(s, cause);
	buf_free(&b);
	if (leave_verdict(s, text, sizeof text) == 1) {
		if (rc == -1)
			home_lost(s, "home says an image that never went landed");
		log_info("guest %d (home %u:%d) left: %llu bytes", (int)s->gpid,
		    s->home, (int)s->home_pid, (unsigned long long)pp.bytes);
		kill(s->gpid, SIGKILL);
		waitpid(s->gpid, &status, __WALL);
		cg_done(s);
		miglink_free(s->link);
		_exit(0);
	}
	log_warnx("guest %d (home %u:%d) stays: %s", (int)s->gpid, s->home,
	    (int)s->home_pid, text);
	{
		struct timespec	now;
		int		k = s->stays < 3 ? s->stays : 3;

		clock_gettime(CLOCK_MONOTONIC, &now);
		s->stays++;
		s->next_leave = now.tv_sec + (1 << k);
	}
	free(cause);
	if (rc == 0 && ckpt_resume(s->gpid, &cause) == -1)
		home_lost(s, cause);
	/* it stays: its limit again; over it, it goes when it may */
	cg_rearm(s);
	clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
}

static void __attribute__((noreturn))
home_lost(struct srv *s, const char *why)
{
	log_warnx("guest %d (home %u:%d) killed: home unreachable: %s",
	    (int)s->gpid, s->home, (int)s->home_pid, why);
	kill(s->gpid, SIGKILL);
	waitpid(s->gpid, NULL, __WALL);
	cg_done(s);
	_exit(1);
}

/* G's ptrace stops and its end. */
static void
reap(struct srv *s)
{
	struct guest_stopped	 gst;
	struct buf		 b;
	char			*cause = NULL;
	int			 st, sig, ev;
	pid_t			 pid;

	for (;;) {
		pid = waitpid(s->gpid, &st, WNOHANG | __WALL);
		if (pid <= 0)
			return;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			send_exit(s, st);
			log_info("guest %d (home %u:%d) ended: status %#x",
			    (int)s->gpid, s->home, (int)s->home_pid, st);
			cg_done(s);
			miglink_free(s->link);
			_exit(0);
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = (unsigned)st >> 16;
		if (ev == PTRACE_EVENT_STOP) {
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
			    sig == SIGTTOU) {
				ptrace(PTRACE_LISTEN, s->gpid, 0, 0);
				gst.signo = sig;
				buf_init(&b);
				migwire_encode_stopped(&b, &gst);
				if (send_buf(s, &b, &cause) == -1)
					free(cause);
				buf_free(&b);
				continue;
			}
			ptrace(PTRACE_CONT, s->gpid, 0, 0);
			continue;
		}
		if (ev != 0 || sig == (SIGTRAP | 0x80))
			sig = 0;
		/* one it sent itself: the siginfo the kernel would have made */
		if (sig != 0 && selfsig_fix_stop(trap_selfsig(s->g), s->gpid) ==
		    -1)
			log_debug("guest %d: signal %d: %s", (int)s->gpid, sig,
			    strerror(errno));
		ptrace(PTRACE_CONT, s->gpid, 0, (void *)(long)sig);
	}
}

/*
 * Every second: what home's balancer needs of the guest (its CPU time and
 * memory here); it also tells home we are alive.
 */
static int
send_usage(struct srv *s, char **cause)
{
	struct guest_usage	 u;
	struct buf		 b;
	int			 rv;

	memset(&u, 0, sizeof u);
	if (procinfo_usage(s->gpid, &u.cpu_ns, &u.rss) == -1)
		u.cpu_ns = u.rss = 0;	/* ending: its exit follows */
	if (s->a->now != NULL) {
		u.host_cpus_milli = s->a->now->cpus_milli;
		u.host_load = s->a->now->load;
	}
	buf_init(&b);
	migwire_encode_usage(&b, &u);
	rv = send_buf(s, &b, cause);
	buf_free(&b);
	return rv;
}

/*
 * After a move that failed (home could not take the image), the next try
 * waits a little longer each time (1, 2, 4, 8 s): a call that needs home
 * would otherwise bring it home again at once, and fail again.
 */

static int
may_leave(struct srv *s)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return s->stays == 0 || now.tv_sec >= s->next_leave;
}

/* Wait (serving home's frames) until a leave may be tried again. */
static void
leave_wait(struct srv *s)
{
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;
	int		 rc;

	while (!may_leave(s)) {
		if (send_usage(s, &cause) == -1)
			home_lost(s, cause);
		if ((rc = miglink_recv(s->link, PING_MS, &h, &pl, &cause)) == -1)
			home_lost(s, cause);
		if (rc == 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
		if (async_frame(s, &h, pl, &cause) == -1)
			home_lost(s, cause);
	}
}

static void __attribute__((noreturn))
serve(struct srv *s)
{
	struct trap_link	 tl = { link_call, s };
	struct trap_notif	 n;
	struct pollfd		 pfd[5];
	struct wire_hdr		 h;
	struct timespec		 now;
	const uint8_t		*pl;
	char			*cause = NULL, c[64];
	long			 idle;
	int			 rc;

	for (;;) {
		if (s->bring) {
			s->bring = 0;		/* asked again if still wanted */
			leave(s, MIG_LEAVE_ASKED, NULL);
		}
		if (got_term && may_leave(s))
			leave(s, MIG_LEAVE_SHUTDOWN, NULL);
		if (got_mem && may_leave(s)) {
			got_mem = 0;
			leave(s, MIG_LEAVE_MEMORY, NULL);
		}
		if (s->memcheck) {
			s->memcheck = 0;
			cg_check(s);
		}
		ctl_redial(s);
		if (s->over && may_leave(s)) {
			char	lim[32];

			size_str(s->a->cg->limit, lim, sizeof lim);
			log_info("guest %d (home %u:%d) reached its memory limit "
			    "of %s: sent home", (int)s->gpid, s->home,
			    (int)s->home_pid, lim);
			leave(s, MIG_LEAVE_MEMLIMIT, NULL);
		}
		if (!miglink_pending(s->link)) {
			pfd[0].fd = trap_fd(s->g);
			pfd[0].events = POLLIN;
			pfd[1].fd = miglink_fd(s->link);
			pfd[1].events = POLLIN;
			pfd[2].fd = s->chld[0];
			pfd[2].events = POLLIN;
			pfd[3].fd = s->memwatch;
			/* v2: a change of memory.events; v1: the eventfd */
			pfd[3].events = s->a->cg != NULL &&
			    s->a->cg->kind == CG_V2 ? POLLPRI : POLLIN;
			pfd[3].revents = 0;
			pfd[4].fd = s->ctl;
			pfd[4].events = POLLIN;
			pfd[4].revents = 0;
			rc = poll(pfd, 5, s->ctl == -1 ? REDIAL_MS : PING_MS);
			if (rc == -1 && errno != EINTR)
				home_lost(s, "poll failed");
			if (rc > 0 && (pfd[4].revents & (POLLIN | POLLHUP |
			    POLLERR))) {
				ctl_readable(s);
				if (!(pfd[0].revents | pfd[1].revents |
				    pfd[2].revents | pfd[3].revents))
					continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			idle = (now.tv_sec - s->last_usage.tv_sec) * 1000 +
			    (now.tv_nsec - s->last_usage.tv_nsec) / 1000000;
			if (idle >= PING_MS) {
				s->last_usage = now;
				if (send_usage(s, &cause) == -1)
					home_lost(s, cause);
			}
			if (now.tv_sec - s->last_recv.tv_sec > SILENT_S)
				home_lost(s, "no word from home for 10 s");
			/* an event, or once a second in case one was missed */
			if (rc == 0 || (pfd[3].revents & (POLLIN | POLLPRI |
			    POLLERR))) {
				s->memcheck = 1;
				if (rc > 0 && !(pfd[0].revents | pfd[1].revents |
				    pfd[2].revents))
					continue;
			}
			if (rc == 0)
				reap(s);
			if (rc <= 0)
				continue;
			if (pfd[2].revents & POLLIN) {
				if (read(s->chld[0], c, sizeof c) == -1 &&
				    errno != EINTR && errno != EAGAIN)
					home_lost(s, "self-pipe");
				reap(s);
			}
			if (pfd[0].revents & (POLLIN | POLLHUP)) {
				rc = trap_serve(s->g, &tl, &n, &cause);
				if (rc == -1)
					home_lost(s, cause);
				if (rc == TRAP_BRINGHOME) {
					leave_wait(s);
					leave(s, MIG_LEAVE_SYSCALL, &n);
				}
				continue;
			}
			if (!(pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		if ((rc = miglink_recv(s->link, 0, &h, &pl, &cause)) == 0)
			continue;
		if (rc == -1)
			home_lost(s, cause);
		clock_gettime(CLOCK_MONOTONIC, &s->last_recv);
		if (async_frame(s, &h, pl, &cause) == -1)
			home_lost(s, cause);
	}
}

static int64_t
ms_since(const struct timespec *then)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - then->tv_sec) * 1000 +
	    (now.tv_nsec - then->tv_nsec) / 1000000;
}

/*
 * ommd's end of ctl is readable: nothing comes that way but its close,
 * when ommd ends (a restart, a crash). The guest runs on; a new ommd
 * takes it back (ctl_redial).
 */
static void
ctl_readable(struct srv *s)
{
	char	c[64];
	ssize_t	n;

	n = recv(s->ctl, c, sizeof c, MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	close(s->ctl);
	s->ctl = -1;
	clock_gettime(CLOCK_MONOTONIC, &s->orphan_since);
	s->last_dial.tv_sec = 0;
	log_info("guest %d (home %u:%d): ommd here is gone; it runs on, "
	    "waiting for the next one", (int)s->gpid, s->home,
	    (int)s->home_pid);
}

/* No ommd: tell the next one about the guest, or send it home in time. */
static void
ctl_redial(struct srv *s)
{
	struct sockaddr_un	 sun;
	struct jm_guest		 g;
	struct buf		 b;
	char			*cause = NULL;
	int			 fd;

	if (s->ctl != -1 || s->a->internal_path == NULL)
		return;
	if (ms_since(&s->orphan_since) > ORPHAN_S * 1000) {
		if (!may_leave(s))
			return;
		log_warnx("guest %d (home %u:%d): no ommd here for %d s: sent "
		    "home", (int)s->gpid, s->home, (int)s->home_pid, ORPHAN_S);
		leave(s, MIG_LEAVE_SHUTDOWN, NULL);
		return;
	}
	if (s->last_dial.tv_sec != 0 && ms_since(&s->last_dial) < REDIAL_MS)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->last_dial);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(s->a->internal_path) >= sizeof sun.sun_path)
		return;
	strcpy(sun.sun_path, s->a->internal_path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return;
	}
	memset(&g, 0, sizeof g);
	g.pid = s->gpid;
	g.server = getpid();
	g.home = s->home;
	g.home_pid = s->home_pid;
	g.uid = s->uid;
	snprintf(g.comm, sizeof g.comm, "%s", s->comm);
	buf_init(&b);
	jobmsg_encode_guest(&b, &g);
	if (proto_send(fd, &b, -1, &cause) != 0) {
		log_debug("guest %d: registering with ommd: %s", (int)s->gpid,
		    cause);
		free(cause);
		buf_free(&b);
		close(fd);
		return;
	}
	buf_free(&b);
	s->ctl = fd;
	log_info("guest %d (home %u:%d): taken back by the new ommd",
	    (int)s->gpid, s->home, (int)s->home_pid);
}

/* Nothing of ommd's stays open here but our connection and channel. */
static void
keep_fds(int x, int y)
{
	int	lo = x < y ? x : y, hi = x < y ? y : x;

	if (lo > 3)
		syscall(SYS_close_range, 3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0);
	syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0);
}

/* One chunk of copy c at off (at most MIG_IMAGE_CHUNK): asked, written. */
static uint32_t
fetch_chunk(struct srv *s, const struct restore_copy *c, struct mig_file_req *q,
    uint64_t seq, uint64_t off, uint64_t end, struct buf *b)
{
	struct mig_file_data	 d;
	struct wire_hdr		 h;
	const uint8_t		*pl;
	char			*cause = NULL;
	int			 rc;

	memset(q, 0, sizeof *q);
	q->seq = seq;
	q->dev = c->dev;
	q->ino = c->ino;
	q->size = c->size;
	q->mtime_ns = c->mtime_ns;
	q->off = off;
	q->len = end - off > MIG_IMAGE_CHUNK ? MIG_IMAGE_CHUNK :
	    (uint32_t)(end - off);
	snprintf(q->path, sizeof q->path, "%s", c->path);
	buf_reset(b);
	migwire_encode_file_req(b, q);
	if (send_buf(s, b, &cause) == -1)
		home_lost(s, cause);
	do {
		rc = miglink_recv(s->link, MIG_STALL_MS, &h, &pl, &cause);
		if (rc == 0)
			fail(s, "a copy of %s: home did not answer", c->path);
		if (rc == -1)
			home_lost(s, cause);
	} while (h.type == WIRE_PING);
	if (h.type != WIRE_MIG_FILE_DATA)
		fail(s, "a copy of %s: home answered %s", c->path,
		    wire_type_name(h.type));
	if (migwire_decode_file_data(pl, h.len, &d, &cause) == -1)
		fail(s, "a copy of %s: %s", c->path, cause);
	if (d.seq != q->seq)
		fail(s, "a copy of %s: answer %llu to request %llu", c->path,
		    (unsigned long long)d.seq, (unsigned long long)q->seq);
	if (d.err != 0)
		fail(s, "%s is not on node %s as the image maps it, and home "
		    "cannot give it: %s", c->path, s->a->self_name,
		    d.err == ESTALE ? "it changed at home since" :
		    strerror(d.err));
	if (d.len == 0 || d.len > q->len ||
	    pwrite(c->fd, d.data, d.len, (off_t)off) != (ssize_t)d.len)
		fail(s, "a copy of %s: %s", c->path, d.len == 0 ? "short" :
		    strerror(errno));
	return d.len;
}

/*
 * The copies the restore mapped for files this node lacks (missing, not
 * readable by the guest, not the same) get their bytes from home before
 * the guest runs: MIG_FILE_REQ, one chunk at a time, answered by the
 * deputy with the process's own rights and only if the file is still the
 * one the image names. A copy home cannot give fails the move: the
 * process goes on at home, or where it was.
 */
static uint64_t
fill_copies(struct srv *s, const struct restore_copy *c, size_t n)
{
	struct mig_file_req	*q = xmalloc(sizeof *q);
	struct buf		 b;
	uint64_t		 off, end, seq = 0, total = 0, got;
	size_t			 i, k;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		for (k = 0; k < c[i].nranges; k++) {
			end = c[i].ranges[k].off + c[i].ranges[k].len;
			for (off = c[i].ranges[k].off; off < end; off += got) {
				got = fetch_chunk(s, &c[i], q, ++seq, off, end,
				    &b);
				total += got;
			}
		}
	}
	buf_free(&b);
	free(q);
	return total;
}

void
guestd_main(const struct guestd_args *a)
{
	struct srv		 s;
	struct mig_offer	 o;
	struct mig_ready	 r;
	struct restore_opts	 ro;
	struct ckpt_stats	 st;
	struct sock_fprog	 prog;
	struct pump		 pp;
	struct wire_hdr		 h;
	struct sigaction	 sa;
	struct buf		 b;
	const uint8_t		*pl;
	pthread_t		 tp;
	char			*cause = NULL;
	int			 rc, p[2], pidfd, nfd;

	memset(&s, 0, sizeof s);
	s.a = a;
	s.memwatch = -1;
	s.ctl = a->ctl;
	/*
	 * No PR_SET_PDEATHSIG: a guest outlives a restart of ommd (ctl
	 * tells us it went; ctl_redial finds the next one).
	 */
	signal(SIGPIPE, SIG_IGN);
	keep_fds(miglink_fd(a->link), a->ctl);
	if (pipe2(s.chld, O_CLOEXEC | O_NONBLOCK) == -1)
		_exit(1);
	sigpipe_w = s.chld[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART;	/* stops too: ptrace stops are ours */
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	s.link = a->link;
	s.home = miglink_peer(s.link);
	rc = miglink_recv(s.link, ACCEPT_MS, &h, &pl, &cause);
	if (rc <= 0 || h.type != WIRE_MIG_OFFER) {
		log_warnx("migration connection from node %u: %s", s.home,
		    rc < 0 ? cause : rc == 0 ? "no offer" : "not an offer");
		_exit(1);
	}
	if (migwire_decode_offer(pl, h.len, &o, &cause) == -1)
		refuse(&s, MIG_REFUSE_PROTOCOL, "%s", cause);
	check_offer(&s, &o);
	if (trap_filter_build(&prog, &cause) == -1)
		refuse(&s, MIG_REFUSE_INTERNAL, "%s", cause);
	s.gpid = make_stub(&s);
	{
		struct mig_accept	acc = { .host_node = a->self };

		buf_init(&b);
		migwire_encode_accept(&b, &acc);
		if (send_buf(&s, &b, &cause) == -1)
			home_lost(&s, cause);
	}
	if (pipe2(p, O_CLOEXEC) == -1)
		fail(&s, "pipe: %s", strerror(errno));
	memset(&pp, 0, sizeof pp);
	pp.s = &s;
	pp.fd = p[1];
	if (pthread_create(&tp, NULL, pump_in, &pp) != 0)
		fail(&s, "thread");
	memset(&ro, 0, sizeof ro);
	/* stopped: the copies of files this node lacks are filled first */
	ro.flags = RESTORE_GUEST | RESTORE_COPIES | RESTORE_LEAVE_STOPPED;
	ro.stall_ms = MIG_STALL_MS;
	ro.filter = &prog;
	rc = ckpt_restore(s.gpid, p[0], &ro, &st, &cause);
	close(p[0]);
	pthread_join(tp, NULL);
	free(prog.filter);
	if (rc == -1 || !pp.ok) {
		if (rc == -1)
			fail(&s, "restore on node %s: %s", a->self_name, cause);
		fail(&s, "image: %s", pp.cause != NULL ? pp.cause : "incomplete");
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, s.gpid, 0)) == -1 ||
	    (nfd = (int)syscall(SYS_pidfd_getfd, pidfd, ro.listener, 0)) == -1)
		fail(&s, "taking the guest's listener: %s", strerror(errno));
	close(pidfd);
	/*
	 * The deputy runs calls in its own context; those that need the
	 * original's (its children, its session) are made at home by the
	 * process itself.
	 */
	if ((s.g = trap_open(nfd, s.gpid, TRAP_ORIGINAL_HOME | TRAP_TRACER |
	    (ro.killable ? TRAP_KILLABLE : 0), &cause)) == NULL)
		fail(&s, "%s", cause);
	trap_set_home(s.g, o.home_pid, o.uid);
	if (ro.ncopies > 0) {
		uint64_t	got = fill_copies(&s, ro.copies, ro.ncopies);
		size_t		i;

		for (i = 0; i < ro.ncopies; i++)
			trap_add_origin(s.g, ro.copies[i].fd, ro.copies[i].path,
			    ro.copies[i].dev, ro.copies[i].ino,
			    ro.copies[i].size, ro.copies[i].mtime_ns);
		log_info("guest %d: %zu mapped file%s this node lacks copied "
		    "from home, %llu bytes", (int)s.gpid, ro.ncopies,
		    ro.ncopies == 1 ? "" : "s", (unsigned long long)got);
	}
	restore_copies_free(ro.copies, ro.ncopies);
	ro.copies = NULL;
	ro.ncopies = 0;
	if (ptrace(PTRACE_CONT, s.gpid, 0, 0) == -1)
		fail(&s, "resuming the guest: %s", strerror(errno));
	memset(&r, 0, sizeof r);
	r.guest_pid = s.gpid;
	r.flags = ro.killable ? MIG_READY_KILLABLE : 0;
	buf_reset(&b);
	migwire_encode_ready(&b, &r);
	if (send_buf(&s, &b, &cause) == -1)
		home_lost(&s, cause);
	buf_free(&b);
	log_info("guest %d: process %d of node %u (uid %u, %s) arrived, %llu "
	    "bytes in %.3f s", (int)s.gpid, (int)o.home_pid, s.home, o.uid,
	    o.comm, (unsigned long long)pp.bytes, st.secs);
	{
		struct depmsg	m;

		memset(&m, 0, sizeof m);
		m.type = DM_READY;
		m.a = s.gpid;
		m.node = s.home;
		m.pid = o.home_pid;
		m.uid = o.uid;
		snprintf(m.text, sizeof m.text, "%s", o.comm);
		s.uid = o.uid;
		snprintf(s.comm, sizeof s.comm, "%.15s", o.comm);
		if (s.ctl != -1 && depmsg_send(s.ctl, &m, &cause) == -1) {
			/* ommd went meanwhile: the next one hears of it */
			free(cause);
			cause = NULL;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &s.last_recv);
	reap(&s);
	serve(&s);
}
