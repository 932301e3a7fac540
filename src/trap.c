/* trap.c: a guest under a seccomp user-notification filter, and its supervisor. */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/procself.h"
#include "omm/selfsig.h"
#include "omm/sigmask.h"
#include "omm/sysent.h"
#include "omm/trap.h"
#include "omm/xmalloc.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* Linux 6.6: wake the supervisor on the guest's CPU, and the guest on ours. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP	(1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV	(1UL << 5)
#endif

struct trap_guest {
	int				 nfd;
	pid_t				 pid;
	int				 flags;		/* TRAP_* */
	int				 syncwake;
	pid_t				 cur;		/* thread being served */
	pid_t				 home_pid;	/* its pid at home, 0: unknown */
	struct selfsig			 ss;		/* its signals to itself */
	struct ckpt_origins		 origins;	/* files mapped for home's */
	uint64_t			 seq;
	struct seccomp_notif_sizes	 sizes;
	struct seccomp_notif		*notif;
	struct seccomp_notif_resp	*resp;
	struct buf			 req;		/* payloads, reused */
	struct buf			 rep;
	struct trap_stats		 stats;
	uint8_t				*lfd;		/* numbers holding the guest's */
	size_t				 nlfd;		/* own /proc entries (bits) */
};

int
trap_probe(char **cause)
{
	struct seccomp_notif_sizes	sizes;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == -1)
		return cause_set(cause, "this kernel lacks seccomp user "
		    "notification (SECCOMP_GET_NOTIF_SIZES: %s); Linux 5.0 or "
		    "later with CONFIG_SECCOMP_FILTER is needed", strerror(errno));
	return 0;
}

/* ---- the filter, in the guest ---- */

struct rules {
	scmp_filter_ctx	 ctx;
	int		 rc;
	char		**cause;
};

/*
 * ALLOW rules of an entry: one for a LOCAL entry, else one per alternative
 * of its local_if; each with the variant's key when it is one. Ints are
 * compared on their low 32 bits, as the kernel reads them.
 */
static void
add_rule(const struct sysent *e, const struct sysent *parent, void *arg)
{
	struct rules		*r = arg;
	struct scmp_arg_cmp	 c[2];
	unsigned int		 n;
	size_t			 i;
	int			 rc;

	/* the filter cannot look behind the sigevent pointer: the server does */
	if (e->flags & SYF_SIGEVENT)
		return;
	for (i = 0; i <= SYSENT_NCOND && r->rc == 0; i++) {
		n = 0;
		if (i < SYSENT_NCOND && !e->local_if[i].used)
			continue;
		/* the last round: the entry itself, when it is LOCAL */
		if (i == SYSENT_NCOND && e->where != SY_LOCAL)
			break;
		if (parent != NULL)
			c[n++] = SCMP_CMP(parent->subarg, SCMP_CMP_MASKED_EQ,
			    0xffffffffU, e->key);
		if (i < SYSENT_NCOND)
			c[n++] = SCMP_CMP(e->local_if[i].arg, SCMP_CMP_MASKED_EQ,
			    e->local_if[i].mask, e->local_if[i].value);
		if ((rc = seccomp_rule_add_array(r->ctx, SCMP_ACT_ALLOW, e->nr,
		    n, c)) != 0)
			r->rc = cause_set(r->cause, "seccomp rule for %s: %s",
			    e->name, strerror(-rc));
	}
}

/* The filter as BPF: libseccomp 2.5 only exports to a descriptor. */
static int
filter_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog, char **cause)
{
	struct stat	 st;
	void		*p;
	int		 fd, rc;

	if ((fd = memfd_create("omm-filter", MFD_CLOEXEC)) == -1)
		return cause_set(cause, "memfd_create: %s", strerror(errno));
	if ((rc = seccomp_export_bpf(ctx, fd)) != 0) {
		close(fd);
		return cause_set(cause, "seccomp_export_bpf: %s", strerror(-rc));
	}
	if (fstat(fd, &st) == -1 || st.st_size == 0 ||
	    st.st_size % sizeof (struct sock_filter) != 0 ||
	    st.st_size / sizeof (struct sock_filter) > BPF_MAXINSNS) {
		close(fd);
		return cause_set(cause, "seccomp filter of %lld bytes",
		    (long long)st.st_size);
	}
	p = xmalloc(st.st_size);
	if (pread(fd, p, st.st_size, 0) != st.st_size) {
		free(p);
		close(fd);
		return cause_set(cause, "reading the filter back: %s",
		    strerror(errno));
	}
	close(fd);
	prog->len = st.st_size / sizeof (struct sock_filter);
	prog->filter = p;
	return 0;
}

int
trap_filter_build(struct sock_fprog *prog, char **cause)
{
	struct rules		r = { .cause = cause };

	if ((r.ctx = seccomp_init(SCMP_ACT_NOTIFY)) == NULL)
		return cause_set(cause, "seccomp_init failed");
	/* The i386 and x32 ABIs of a 64-bit guest are not in the table. */
	if (seccomp_attr_set(r.ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0) {
		seccomp_release(r.ctx);
		return cause_set(cause, "seccomp: cannot set the bad-arch action");
	}
	sysent_foreach(add_rule, &r);
	if (r.rc != 0 || filter_bpf(r.ctx, prog, cause) == -1) {
		seccomp_release(r.ctx);
		return -1;
	}
	seccomp_release(r.ctx);
	return 0;
}

int
trap_filter_install(int *tflags, char **cause)
{
	struct sock_fprog	prog;
	unsigned long		flags;
	int			fd;

	if (trap_probe(cause) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return cause_set(cause, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (trap_filter_build(&prog, cause) == -1)
		return -1;

	flags = SECCOMP_FILTER_FLAG_NEW_LISTENER |
	    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd == -1 && errno == EINVAL) {
		/* Before 5.19: a signal may then restart a forwarded call. */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	}
	free(prog.filter);
	if (fd == -1)
		return cause_set(cause, "loading the seccomp filter: %s",
		    strerror(errno));
	if (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		*tflags |= TRAP_KILLABLE;
	return fd;
}

/* ---- the supervisor ---- */

struct trap_guest *
trap_open(int nfd, pid_t pid, int flags, char **cause)
{
	struct trap_guest	*g;

	g = xcalloc(1, sizeof *g);
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &g->sizes) == -1) {
		cause_set(cause, "SECCOMP_GET_NOTIF_SIZES: %s", strerror(errno));
		free(g);
		return NULL;
	}
	g->nfd = nfd;
	g->pid = pid;
	g->flags = flags;
	/* The kernel's structures may have grown: allocate what it says. */
	g->notif = xcalloc(1, g->sizes.seccomp_notif > sizeof *g->notif ?
	    g->sizes.seccomp_notif : sizeof *g->notif);
	g->resp = xcalloc(1, g->sizes.seccomp_notif_resp > sizeof *g->resp ?
	    g->sizes.seccomp_notif_resp : sizeof *g->resp);
	/* Halves a round trip across CPUs where the kernel has it; else as is. */
	g->syncwake = ioctl(nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
	    SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
	buf_init(&g->req);
	buf_init(&g->rep);
	return g;
}

void
trap_close(struct trap_guest *g)
{
	if (g == NULL)
		return;
	close(g->nfd);
	buf_free(&g->req);
	buf_free(&g->rep);
	for (size_t i = 0; i < g->origins.n; i++)
		free(g->origins.v[i].path);
	free(g->origins.v);
	free(g->lfd);
	free(g->notif);
	free(g->resp);
	free(g);
}

void
trap_set_home(struct trap_guest *g, pid_t pid, uid_t uid)
{
	g->home_pid = pid;
	selfsig_init(&g->ss, pid, uid);
}

const struct ckpt_origins *
trap_origins(const struct trap_guest *g)
{
	return &g->origins;
}

const struct selfsig *
trap_selfsig(const struct trap_guest *g)
{
	return g->home_pid > 0 ? &g->ss : NULL;
}

int
trap_fd(const struct trap_guest *g)
{
	return g->nfd;
}

int
trap_sync_wakeup(const struct trap_guest *g)
{
	return g->syncwake;
}

const struct trap_stats *
trap_stats(const struct trap_guest *g)
{
	return &g->stats;
}

int
trap_recv(struct trap_guest *g, struct trap_notif *n, char **cause)
{
	struct seccomp_notif	*sn = g->notif;
	size_t			 i;

	for (;;) {
		memset(sn, 0, g->sizes.seccomp_notif);
		if (ioctl(g->nfd, SECCOMP_IOCTL_NOTIF_RECV, sn) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ENOENT)
			return 0;	/* the guest was killed meanwhile */
		return cause_set(cause, "SECCOMP_IOCTL_NOTIF_RECV: %s",
		    strerror(errno));
	}
	n->id = sn->id;
	n->pid = sn->pid;
	n->nr = sn->data.nr;
	n->arch = sn->data.arch;
	n->ip = sn->data.instruction_pointer;
	for (i = 0; i < SYSENT_NARGS; i++)
		n->args[i] = sn->data.args[i];
	return 1;
}

static int
send_resp(struct trap_guest *g, uint64_t id, int64_t val, int32_t error,
    uint32_t flags, char **cause)
{
	struct seccomp_notif_resp	*r = g->resp;

	memset(r, 0, g->sizes.seccomp_notif_resp);
	r->id = id;
	r->val = val;
	r->error = error;
	r->flags = flags;
	while (ioctl(g->nfd, SECCOMP_IOCTL_NOTIF_SEND, r) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == ENOENT) {
			g->stats.gone++;
			return 1;
		}
		return cause_set(cause, "SECCOMP_IOCTL_NOTIF_SEND: %s",
		    strerror(errno));
	}
	return 0;
}

int
trap_respond(struct trap_guest *g, uint64_t id, int64_t ret, char **cause)
{
	if (SYSRET_ERR(ret))
		return send_resp(g, id, 0, (int32_t)ret, 0, cause);
	return send_resp(g, id, ret, 0, 0, cause);
}

int
trap_continue(struct trap_guest *g, uint64_t id, char **cause)
{
	return send_resp(g, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE, cause);
}

int
trap_addfd(struct trap_guest *g, uint64_t id, int fd, int newfd, char **cause)
{
	struct seccomp_notif_addfd	a;
	int				rc;

	memset(&a, 0, sizeof a);
	a.id = id;
	a.flags = SECCOMP_ADDFD_FLAG_SETFD;
	a.srcfd = fd;
	a.newfd = newfd;
	a.newfd_flags = O_CLOEXEC;
	if ((rc = ioctl(g->nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a)) == -1) {
		rc = errno;
		cause_set(cause, "SECCOMP_IOCTL_NOTIF_ADDFD at %d: %s", newfd,
		    strerror(rc));
		errno = rc;	/* ENOENT: the guest went away */
		return -1;
	}
	return rc;
}

int
trap_id_valid(struct trap_guest *g, uint64_t id)
{
	return ioctl(g->nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

ssize_t
trap_read_mem(void *arg, uint64_t addr, void *p, size_t len)
{
	struct trap_guest	*g = arg;
	struct iovec		 l = { p, len }, r = { (void *)addr, len };

	return process_vm_readv(g->cur, &l, 1, &r, 1, 0);
}

int
trap_write_mem(void *arg, uint64_t addr, const void *p, size_t len)
{
	struct trap_guest	*g = arg;
	struct iovec		 l = { (void *)p, len }, r = { (void *)addr, len };

	return process_vm_writev(g->cur, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 :
	    -1;
}

/* ---- serving one notification ---- */

/* A pending signal the task does not block (it will run on return). */
static int
signal_deliverable(pid_t pid)
{
	char		 path[64], line[128];
	uint64_t	 pnd = 0, shd = 0, blk = 0;
	FILE		*f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "SigPnd:", 7) == 0)
			pnd = strtoull(line + 7, NULL, 16);
		else if (strncmp(line, "ShdPnd:", 7) == 0)
			shd = strtoull(line + 7, NULL, 16);
		else if (strncmp(line, "SigBlk:", 7) == 0)
			blk = strtoull(line + 7, NULL, 16);
	}
	fclose(f);
	return ((pnd | shd) & ~blk) != 0;
}

/* A round trip home; the reply payload in g->rep, its type want or alt. */
static int
roundtrip2(struct trap_guest *g, const struct trap_link *link, uint16_t type,
    uint16_t want, uint16_t alt, uint16_t *got, char **cause)
{
	uint16_t	rtype = 0;

	buf_reset(&g->rep);
	g->stats.bytes_req += g->req.len;
	if (link->call(link->arg, type, g->req.data, g->req.len, &g->rep,
	    &rtype, cause) == -1)
		return -1;
	g->stats.bytes_rep += g->rep.len;
	if (rtype != want && (alt == 0 || rtype != alt))
		return cause_set(cause, "home answered %s with type %u",
		    marshal_type_name(type), rtype);
	if (got != NULL)
		*got = rtype;
	return 0;
}

static int
roundtrip(struct trap_guest *g, const struct trap_link *link, uint16_t type,
    uint16_t want, char **cause)
{
	return roundtrip2(g, link, type, want, 0, NULL, cause);
}

/*
 * A signal a call raised (SIGPIPE, SIGXFSZ): the kernel sends it as
 * SI_USER from the process itself, so it goes marked when the home pid is
 * known (selfsig.h), else plainly.
 */
static void
raise_in(struct trap_guest *g, int sig)
{
	siginfo_t	si;

	if (g->home_pid <= 0) {
		kill(g->cur, sig);
		return;
	}
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = SI_USER;
	si.si_pid = g->ss.pid;
	si.si_uid = g->ss.uid;
	if (selfsig_queue(&g->ss, g->pid, &si, 0) != 0)
		kill(g->cur, sig);
}

/*
 * Answer, then deliver a signal the call raised. With killable waits the
 * signal goes first, as the kernel would have queued it during the call: a
 * fatal one ends the guest at once, a caught one runs on return.
 * Otherwise a signal would interrupt the wait and restart the call.
 */
static int
answer(struct trap_guest *g, uint64_t id, int64_t ret, int sig, char **cause)
{
	int	rc, killable = g->flags & TRAP_KILLABLE;

	if (sig != 0 && killable && trap_id_valid(g, id))
		raise_in(g, sig);
	rc = trap_respond(g, id, ret, cause);
	if (sig != 0 && !killable && rc == 0)
		raise_in(g, sig);
	g->stats.signals += sig != 0;
	return rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
}

/* ---- the guest's own /proc entries (procself.h) ---- */

/* Does number fd of the guest hold one of its own /proc entries? */
static int
lfd_is(const struct trap_guest *g, int fd)
{
	return fd >= 0 && (size_t)fd / 8 < g->nlfd &&
	    (g->lfd[fd / 8] & (1U << (fd % 8)));
}

static void
lfd_set(struct trap_guest *g, int fd, int on)
{
	size_t	need = (size_t)fd / 8 + 1;

	if (fd < 0)
		return;
	if (need > g->nlfd) {
		if (!on)
			return;
		g->lfd = xreallocarray(g->lfd, need, 1);
		memset(g->lfd + g->nlfd, 0, need - g->nlfd);
		g->nlfd = need;
	}
	if (on)
		g->lfd[fd / 8] |= 1U << (fd % 8);
	else
		g->lfd[fd / 8] &= ~(1U << (fd % 8));
}

/* Home drops the placeholder it holds at fd: we could not open the entry. */
static void
home_close(struct trap_guest *g, const struct trap_link *link, int fd)
{
	struct sysreq	 req;
	struct sysrep	 rep;
	uint64_t	 args[SYSENT_NARGS] = { (uint64_t)fd };
	char		*why = NULL;

	buf_reset(&g->req);
	if (marshal_request(&req, ++g->seq, SYS_close, args, trap_read_mem, g,
	    &g->req, &why) != 0) {
		free(why);
		return;
	}
	if (roundtrip(g, link, MARSHAL_SYSCALL_REQ, MARSHAL_SYSCALL_REP,
	    &why) == 0 && marshal_decode_reply(&req, g->rep.data, g->rep.len,
	    &rep, &why) == 0)
		sysrep_free(&rep);
	free(why);
	sysreq_free(&req);
}

/*
 * Home says the call is on one of the process's own /proc entries that
 * describe its memory or its task, and holds a placeholder for it at
 * l->fd. Open the guest's own entry, place it at that number in the
 * guest, then answer the open with the number or let the call run on it
 * natively. Opened here, by its parent, for the guest alone: the guest
 * opening its own /proc/self is harmless, and every call naming a
 * descriptor comes here first, so it cannot be swapped behind our back.
 */
static int
serve_proc(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, const struct syslocal *l,
    char **cause)
{
	char	path[128], task[32] = "", *why = NULL;
	int	lfd, err, rc, isopen = !(e->flags & SYF_LOCALFD);

	if (!isopen && l->fd != (int)n->args[0])
		return cause_set(cause, "home placed %s of fd %d at %d",
		    l->entry, (int)n->args[0], l->fd);
	if (l->thread)
		snprintf(task, sizeof task, "task/%d/", (int)n->pid);
	snprintf(path, sizeof path, "/proc/%d/%s%s", (int)g->pid, task,
	    l->entry);
	lfd = open(path, (int)(l->flags & SYSLOCAL_FLAGS) | O_CLOEXEC |
	    O_NOFOLLOW);
	if (lfd == -1) {
		err = errno;
		if (isopen)
			home_close(g, link, l->fd);
		return answer(g, n->id, -err, 0, cause);
	}
	if (l->pos > 0)
		(void)lseek(lfd, (off_t)l->pos, SEEK_SET);
	if (trap_addfd(g, n->id, lfd, l->fd, &why) == -1) {
		err = errno;
		close(lfd);
		log_debug("pid %d: %s", (int)n->pid, why);
		free(why);
		if (err == ENOENT)
			return TRAP_GONE;
		if (isopen)
			home_close(g, link, l->fd);
		return answer(g, n->id, -EMFILE, 0, cause);
	}
	close(lfd);
	lfd_set(g, l->fd, 1);
	g->stats.proc_local++;
	if (isopen)
		return answer(g, n->id, l->fd, 0, cause);
	rc = trap_continue(g, n->id, cause);
	return rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
}

/*
 * After home ran a call that ends a descriptor: a number that held one of
 * the guest's own entries no longer does. 1 when the guest must close its
 * own too (close: the call then runs natively as well).
 */
static int
lfd_after(struct trap_guest *g, const struct trap_notif *n, int64_t ret)
{
	uint64_t	i;

	if (g->nlfd == 0 || SYSRET_ERR(ret))
		return 0;
	switch (n->nr) {
	case SYS_close:
		if (!lfd_is(g, (int)n->args[0]))
			return 0;
		lfd_set(g, (int)n->args[0], 0);
		return 1;
	case SYS_dup2:
	case SYS_dup3:
		lfd_set(g, (int)n->args[1], 0);
		return 0;
	case SYS_close_range:
		for (i = n->args[0]; i <= n->args[1] && i / 8 < g->nlfd; i++)
			lfd_set(g, (int)i, 0);
		return 0;
	}
	return 0;
}

/* Does a pending signal act under the mask of the call (sigmask.h)? */
static int
mask_lets_through(pid_t pid, uint64_t callmask)
{
	struct sigstate	st;

	return sigstate_read(pid, &st) == 0 && sigmask_acting(&st, callmask) != 0;
}

struct mask_answer {
	struct trap_guest	*g;
	uint64_t		 id;
};

static int
mask_answer(void *arg, int64_t ret)
{
	struct mask_answer	*ma = arg;
	char			*why = NULL;
	int			 rc;

	if ((rc = trap_respond(ma->g, ma->id, ret, &why)) == -1) {
		log_debug("pid %d: %s", (int)ma->g->cur, why);
		free(why);
	}
	return rc;
}

/*
 * End a call with a mask of its own for a signal that mask lets through:
 * its restart code, the signal delivered under the mask, as the kernel
 * would have.
 */
static int
mask_deliver(struct trap_guest *g, struct trap_notif *n,
    const struct sysent *e, uint64_t callmask, char **cause)
{
	struct mask_answer	ma = { g, n->id };
	int			rc;

	g->stats.signals++;
	rc = sigmask_deliver(n->pid, callmask, e->mask.restart, mask_answer,
	    &ma, trap_selfsig(g), cause);
	return rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
}

static int
serve_home(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, char **cause)
{
	struct sysreq	 req;
	struct sysrep	 rep;
	struct syslocal	 loc;
	uint64_t	 callmask = 0;
	uint16_t	 rtype = 0;
	char		*why = NULL;
	int		 err, rc, masked = 0;

	/*
	 * A call that waits under a mask of its own (pselect6, ppoll,
	 * epoll_pwait): the guest's kernel never set it, home runs the call
	 * without it. A signal that mask lets through, pending already, ends
	 * the call before it goes home, as the kernel's would.
	 */
	if ((g->flags & TRAP_TRACER) && (e->flags & SYF_SIGMASK)) {
		masked = sigmask_of_call(e, n->args, trap_read_mem, g, &callmask);
		if (masked < 0) {
			g->stats.refused++;
			return answer(g, n->id, masked, 0, cause);
		}
		if (masked && mask_lets_through(n->pid, callmask))
			return mask_deliver(g, n, e, callmask, cause);
	}
	buf_reset(&g->req);
	err = marshal_request(&req, ++g->seq, n->nr, n->args, trap_read_mem, g,
	    &g->req, &why);
	if (err != 0) {
		log_debug("pid %d %s: %s", (int)n->pid, e->name, why);
		free(why);
		g->stats.refused++;
		return answer(g, n->id, -err, 0, cause);
	}
	/* What we read came from the guest, not from a process that took its pid. */
	if (req.nbuf > 0 && !trap_id_valid(g, n->id)) {
		sysreq_free(&req);
		g->stats.gone++;
		return TRAP_GONE;
	}
again:
	if (roundtrip2(g, link, MARSHAL_SYSCALL_REQ, MARSHAL_SYSCALL_REP,
	    MARSHAL_SYSCALL_LOCAL, &rtype, cause) == -1) {
		sysreq_free(&req);
		return -1;
	}
	if (rtype == MARSHAL_SYSCALL_LOCAL) {
		sysreq_free(&req);
		if (marshal_decode_syslocal(g->rep.data, g->rep.len, &loc,
		    cause) == -1)
			return -1;
		if (loc.seq != g->seq)
			return cause_set(cause, "home answered %s %llu for %llu",
			    marshal_type_name(rtype),
			    (unsigned long long)loc.seq,
			    (unsigned long long)g->seq);
		return serve_proc(g, link, n, e, &loc, cause);
	}
	if (marshal_decode_reply(&req, g->rep.data, g->rep.len, &rep,
	    cause) == -1) {
		sysreq_free(&req);
		return -1;
	}
	/*
	 * Home interrupted the call for a signal it passed on before this
	 * reply. Queued here and deliverable, the kernel restarts or fails
	 * the call as it would have locally; blocked or ignored, the call
	 * simply runs again, as the kernel's restart would.
	 */
	if (rep.ret == -TRAP_ERESTARTSYS && masked) {
		sysrep_free(&rep);
		if (!mask_lets_through(n->pid, callmask))
			goto again;
		sysreq_free(&req);
		return mask_deliver(g, n, e, callmask, cause);
	}
	if (rep.ret == -TRAP_ERESTARTSYS && !signal_deliverable(n->pid)) {
		sysrep_free(&rep);
		goto again;
	}
	if (!SYSRET_ERR(rep.ret) && req.nbuf > 0) {
		if (!trap_id_valid(g, n->id)) {
			rc = TRAP_GONE;
			g->stats.gone++;
			goto out;
		}
		if ((err = marshal_apply_reply(&req, &rep, trap_write_mem, g,
		    &why)) != 0) {
			log_debug("pid %d: %s", (int)n->pid, why);
			free(why);
			rep.ret = -err;
		}
	}
	if (lfd_after(g, n, rep.ret)) {
		/* its own entry: closed at home, now here too */
		rc = trap_continue(g, n->id, cause);
		rc = rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
		goto out;
	}
	rc = answer(g, n->id, rep.ret, rep.sig, cause);
out:
	sysrep_free(&rep);
	sysreq_free(&req);
	return rc;
}

static int
serve_local(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, char **cause)
{
	int	rc;

	/*
	 * Only when the filter and the table disagree. A LOCAL call touches
	 * nothing but the guest's own state: letting it run is safe.
	 */
	rc = trap_continue(g, n->id, cause);
	return rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
}

static int
serve_bringhome(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, char **cause)
{
	return TRAP_BRINGHOME;
}

static int
serve_refuse(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, char **cause)
{
	return answer(g, n->id, -(int64_t)e->err, 0, cause);
}

/*
 * Our own copy of a home file, if it is the same: a world-readable regular
 * file at the same path, of the same size, whose bytes in the mapped range
 * have the same SHA-256. The guest then sees nothing its owner could not
 * read at home.
 */
static int
local_file(const struct fdinfo *fi, uint64_t off, uint64_t len)
{
	struct stat	st;
	uint8_t		digest[FDINFO_DIGEST_LEN];
	uint64_t	n;
	int		fd;

	if (fi->path[0] != '/')
		return -1;
	if ((fd = open(fi->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & S_IROTH) || (uint64_t)st.st_size != fi->size)
		goto no;
	n = off >= fi->size ? 0 : fi->size - off;
	if (n > len)
		n = len;
	if (marshal_digest_fd(fd, off, n, digest, NULL) == -1 ||
	    memcmp(digest, fi->digest, sizeof digest) != 0)
		goto no;
	return fd;
no:
	close(fd);
	return -1;
}

/*
 * A copy of the mapped range of a home file: a memfd of the file's size
 * (so that touching past the end faults as it would at home), the range
 * fetched from home, reopened read-only when home's fd is.
 */
static int
copy_file(struct trap_guest *g, const struct trap_link *link,
    const struct fdinfo *fi, int hfd, uint64_t off, uint64_t len, char **cause)
{
	struct fddata_req	 r;
	struct fddata		 f;
	char			 name[64], self[64];
	const char		*base;
	uint64_t		 end;
	int			 fd, rofd;

	base = strrchr(fi->path, '/') != NULL ? strrchr(fi->path, '/') + 1 : "";
	snprintf(name, sizeof name, "omm:%s", base);
	if ((fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return cause_set(cause, "memfd_create: %s", strerror(errno));
	if (ftruncate(fd, fi->size) == -1) {
		cause_set(cause, "memfd of %llu bytes: %s",
		    (unsigned long long)fi->size, strerror(errno));
		goto fail;
	}
	end = off >= fi->size ? off : (len > fi->size - off ? fi->size :
	    off + len);
	while (off < end) {
		memset(&r, 0, sizeof r);
		r.seq = ++g->seq;
		r.fd = hfd;
		r.off = off;
		r.len = end - off > MARSHAL_DATA_MAX ? MARSHAL_DATA_MAX :
		    end - off;
		buf_reset(&g->req);
		marshal_encode_fddata_req(&g->req, &r);
		if (roundtrip(g, link, MARSHAL_FDDATA_REQ, MARSHAL_FDDATA_REP,
		    cause) == -1 || marshal_decode_fddata(g->rep.data,
		    g->rep.len, &f, cause) == -1)
			goto fail;
		if (f.seq != r.seq || f.err != 0 || f.len == 0 ||
		    f.len > r.len) {
			cause_set(cause, "file data from home: %s",
			    f.err ? strerror(f.err) : "short");
			goto fail;
		}
		if (pwrite(fd, f.data, f.len, off) != (ssize_t)f.len) {
			cause_set(cause, "memfd write: %s", strerror(errno));
			goto fail;
		}
		off += f.len;
	}
	if (fi->accmode != O_RDONLY)
		return fd;
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	rofd = open(self, O_RDONLY | O_CLOEXEC);
	close(fd);
	if (rofd == -1)
		return cause_set(cause, "reopening the copy: %s", strerror(errno));
	return rofd;
fail:
	close(fd);
	return -1;
}

/*
 * Remember that the file behind lfd stands for fi's at home: a dump of the
 * guest names its mappings by that file (ckpt.h's ckpt_origin). One entry
 * per file here; the newest home identity wins.
 */
static void
origin_add(struct trap_guest *g, int lfd, const struct fdinfo *fi)
{
	trap_add_origin(g, lfd, fi->path, fi->dev, fi->ino, fi->size,
	    fi->mtime_sec * 1000000000 + fi->mtime_nsec);
}

void
trap_add_origin(struct trap_guest *g, int lfd, const char *path, uint64_t dev,
    uint64_t ino, uint64_t size, int64_t mtime_ns)
{
	struct ckpt_origin	*o = NULL;
	struct stat		 st;
	size_t			 i;

	if (fstat(lfd, &st) == -1)
		return;
	for (i = 0; i < g->origins.n; i++) {
		if (g->origins.v[i].ldev == (uint64_t)st.st_dev &&
		    g->origins.v[i].lino == (uint64_t)st.st_ino) {
			o = &g->origins.v[i];
			free(o->path);
			break;
		}
	}
	if (o == NULL) {
		g->origins.v = xreallocarray(g->origins.v, g->origins.n + 1,
		    sizeof *g->origins.v);
		o = &g->origins.v[g->origins.n++];
	}
	o->ldev = st.st_dev;
	o->lino = st.st_ino;
	o->path = xstrdup(path);
	o->dev = dev;
	o->ino = ino;
	o->size = size;
	o->mtime_ns = mtime_ns;
}

/*
 * mmap of a home fd. The fd number means nothing here, so we place at that
 * number in the guest a descriptor of our own with the same bytes (a
 * matching local file or a copy from home) and let the guest's mmap run
 * natively: the mapping lands where and how the guest asked. A shared
 * mapping of a file home may write goes home; one home may not write is
 * mapped like a private one (it does not see later changes of the file).
 */
static int
serve_fmap(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, const struct sysent *e, char **cause)
{
	struct fdinfo_req	 r;
	struct fdinfo		*fi;
	uint64_t		 flags = n->args[3], len = n->args[1];
	uint64_t		 off = n->args[5];
	int			 hfd = (int)n->args[4], lfd = -1, rc, type;
	char			*why = NULL;

	type = flags & MAP_TYPE;
	if (flags & MAP_ANONYMOUS) {
		/* Shared anonymous memory cannot be split across nodes. */
		g->stats.fmap_home++;
		return TRAP_BRINGHOME;
	}
	if (hfd < 0)
		return answer(g, n->id, -EBADF, 0, cause);

	fi = xmalloc(sizeof *fi);
	memset(&r, 0, sizeof r);
	r.seq = ++g->seq;
	r.fd = hfd;
	r.off = off;
	r.len = len;
	buf_reset(&g->req);
	marshal_encode_fdinfo_req(&g->req, &r);
	if (roundtrip(g, link, MARSHAL_FDINFO_REQ, MARSHAL_FDINFO_REP,
	    cause) == -1 || marshal_decode_fdinfo(g->rep.data, g->rep.len, fi,
	    cause) == -1) {
		rc = -1;
		goto out;
	}
	if (fi->seq != r.seq) {
		rc = cause_set(cause, "fd info %llu for request %llu",
		    (unsigned long long)fi->seq, (unsigned long long)r.seq);
		goto out;
	}
	if (fi->err != 0) {
		rc = answer(g, n->id, -fi->err, 0, cause);
		goto out;
	}
	if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) &&
	    fi->accmode != O_RDONLY && fi->type != FDI_ZERO) {
		g->stats.fmap_home++;
		rc = TRAP_BRINGHOME;
		goto out;
	}
	switch (fi->type) {
	case FDI_ZERO:
		lfd = open("/dev/zero", (fi->accmode == O_RDONLY ? O_RDONLY :
		    O_RDWR) | O_CLOEXEC);
		g->stats.fmap_zero++;
		break;
	case FDI_REG:
		if (!(g->flags & TRAP_NO_LOCAL_FILES) &&
		    (lfd = local_file(fi, off, len)) != -1) {
			g->stats.fmap_local++;
			break;
		}
		if ((lfd = copy_file(g, link, fi, hfd, off, len, &why)) == -1) {
			log_warnx("pid %d: mapping %s: %s", (int)n->pid,
			    fi->path, why);
			free(why);
			rc = answer(g, n->id, -ENOMEM, 0, cause);
			goto out;
		}
		g->stats.fmap_copy++;
		break;
	default:
		g->stats.fmap_refused++;
		rc = answer(g, n->id, -ENODEV, 0, cause);
		goto out;
	}
	if (lfd == -1) {
		rc = answer(g, n->id, -ENODEV, 0, cause);
		goto out;
	}
	if (fi->type == FDI_REG && fi->path[0] == '/')
		origin_add(g, lfd, fi);
	if (trap_addfd(g, n->id, lfd, hfd, &why) == -1) {
		rc = errno == ENOENT ? TRAP_GONE : answer(g, n->id, -EMFILE, 0,
		    cause);
		log_debug("pid %d: %s", (int)n->pid, why);
		free(why);
		goto out;
	}
	/* Arguments in registers, a descriptor the guest cannot swap: safe. */
	rc = trap_continue(g, n->id, cause);
	rc = rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
out:
	if (lfd != -1)
		close(lfd);
	free(fi);
	return rc;
}

/*
 * A CPU clock that names the process's own pid at home (glibc's
 * clock_getcpuclockid(getpid()), pthread_getcpuclockid of its thread: the
 * pids it sees are home pids) is the guest's own clock. Read or resolved
 * here, on the guest's process clock (a guest has one thread: its thread
 * clock is its process clock); a sleep or a timer on it goes home, where
 * the kernel does it natively. 0: not such a clock; 1: served, the outcome
 * in *out.
 */
static int
serve_self_clock(struct trap_guest *g, struct trap_notif *n, int *out,
    char **cause)
{
	struct timespec	ts;
	int32_t		clk = (int32_t)n->args[0];
	int		rc;

	if (clk >= 0 || SYSENT_CLK_IS_FD(clk) || SYSENT_CLK_WHICH(clk) == 3 ||
	    g->home_pid <= 0 || SYSENT_CLK_PID(clk) != g->home_pid)
		return 0;
	if (n->nr != SYS_clock_gettime && n->nr != SYS_clock_getres) {
		*out = TRAP_BRINGHOME;
		return 1;
	}
	clk = SYSENT_CLK_PROCESS(g->pid, SYSENT_CLK_WHICH(clk));
	if ((n->nr == SYS_clock_gettime ? clock_gettime(clk, &ts) :
	    clock_getres(clk, &ts)) == -1) {
		*out = answer(g, n->id, -errno, 0, cause);
		return 1;
	}
	if (n->args[1] == 0) {
		/* the kernel: gettime faults on NULL, getres allows it */
		*out = answer(g, n->id, n->nr == SYS_clock_gettime ? -EFAULT :
		    0, 0, cause);
		return 1;
	}
	rc = trap_id_valid(g, n->id) ? trap_write_mem(g, n->args[1], &ts,
	    sizeof ts) : -1;
	if (rc == -1 && !trap_id_valid(g, n->id)) {
		g->stats.gone++;
		*out = TRAP_GONE;
		return 1;
	}
	*out = answer(g, n->id, rc == -1 ? -EFAULT : 0, 0, cause);
	return 1;
}

/*
 * A sigevent that names a thread (SIGEV_THREAD_ID) names it by a tid the
 * process got at home: on the host that tid is nobody (or someone else),
 * so such a timer is made at home, by the process itself. Any other
 * sigevent signals the process, which is the guest here: local. An
 * unreadable one is the kernel's to refuse (EFAULT), locally.
 */
static int
sigevent_names_thread(struct trap_guest *g, const struct trap_notif *n)
{
	int32_t	notify;

	if (n->args[1] == 0 || trap_read_mem(g, n->args[1] + 12, &notify,
	    sizeof notify) != sizeof notify)
		return 0;
	return (notify & SIGEV_THREAD_ID) != 0;
}

/*
 * kill, tkill, tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo of the
 * process itself (its home pid, and tid for the thread calls): queued to
 * the guest here before the call returns, as the kernel does for a
 * process signalling itself (selfsig.h). The argument numbers: the target
 * pid, the tid (-1: none), the signal, the siginfo (-1: none); shared:
 * the process's queue, else the thread's; code: what the kernel makes.
 */
static const struct selfcall {
	int	nr;
	int	pid, tid, sig, info;
	int	shared;
	int	code;
} selfcalls[] = {
	{ SYS_kill, 0, -1, 1, -1, 1, SI_USER },
	{ SYS_tkill, -1, 0, 1, -1, 0, SI_TKILL },
	{ SYS_tgkill, 0, 1, 2, -1, 0, SI_TKILL },
	{ SYS_rt_sigqueueinfo, 0, -1, 1, 2, 1, 0 },
	{ SYS_rt_tgsigqueueinfo, 0, 1, 2, 3, 0, 0 },
};

/* 0: not a signal to itself (home sends it); 1: served, outcome in *out. */
static int
serve_self_signal(struct trap_guest *g, struct trap_notif *n, int *out,
    char **cause)
{
	const struct selfcall	*c = NULL;
	siginfo_t		 si;
	size_t			 i;
	int			 sig, rc;

	if (g->home_pid <= 0)
		return 0;
	for (i = 0; i < nitems(selfcalls); i++) {
		if (selfcalls[i].nr == n->nr) {
			c = &selfcalls[i];
			break;
		}
	}
	if (c == NULL ||
	    (c->pid != -1 && (pid_t)n->args[c->pid] != g->home_pid) ||
	    (c->tid != -1 && (pid_t)n->args[c->tid] != g->home_pid))
		return 0;
	sig = (int)n->args[c->sig];
	memset(&si, 0, sizeof si);
	if (c->info != -1) {
		if (!trap_id_valid(g, n->id) ||
		    trap_read_mem(g, n->args[c->info], &si, sizeof si) !=
		    (ssize_t)sizeof si) {
			if (!trap_id_valid(g, n->id)) {
				g->stats.gone++;
				*out = TRAP_GONE;
				return 1;
			}
			*out = answer(g, n->id, -EFAULT, 0, cause);
			return 1;
		}
		/* a kernel code (SEGV_MAPERR...) has fields a mark cannot keep */
		if (si.si_code > 0)
			return 0;
	} else {
		si.si_code = c->code;
		si.si_pid = g->ss.pid;
		si.si_uid = g->ss.uid;
	}
	if (sig < 0 || sig > 64) {
		*out = answer(g, n->id, -EINVAL, 0, cause);
		return 1;
	}
	g->stats.self_signals++;
	if (sig == 0) {
		/* a probe: the process exists */
		*out = answer(g, n->id, 0, 0, cause);
		return 1;
	}
	si.si_signo = sig;
	rc = selfsig_queue(&g->ss, g->pid, &si, c->shared);
	*out = answer(g, n->id, rc, 0, cause);
	return 1;
}

/* What the supervisor does with a call, by where the table says it runs. */
static int (*const serve_where[SY_NWHERE])(struct trap_guest *,
    const struct trap_link *, struct trap_notif *, const struct sysent *,
    char **) = {
	[SY_LOCAL] = serve_local,
	[SY_HOME] = serve_home,
	[SY_BRINGHOME] = serve_bringhome,
	[SY_FMAP] = serve_fmap,
	[SY_REFUSE] = serve_refuse,
};

int
trap_serve(struct trap_guest *g, const struct trap_link *link,
    struct trap_notif *n, char **cause)
{
	const struct sysent	*e;
	int			 rc, where;

	if ((rc = trap_recv(g, n, cause)) != 1)
		return rc == 0 ? TRAP_GONE : -1;
	g->cur = n->pid;
	g->stats.notifs++;
	if (n->nr >= 0 && n->nr < SYSENT_MAX)
		g->stats.by_nr[n->nr]++;
	if (n->arch != AUDIT_ARCH_X86_64) {
		/* The filter kills other ABIs; never reached. */
		return answer(g, n->id, -ENOSYS, 0, cause);
	}
	e = sysent_resolve(n->nr, n->args, &where);
	/* no injector at home: what needs the original is done there */
	if ((g->flags & TRAP_ORIGINAL_HOME) && where == SY_HOME && e != NULL &&
	    e->via == SYV_ORIGINAL)
		where = SY_BRINGHOME;
	if ((e->flags & SYF_CLOCK) && where != SY_LOCAL &&
	    serve_self_clock(g, n, &rc, cause))
		return rc;
	if ((e->flags & SYF_SIGEVENT) && where == SY_LOCAL &&
	    sigevent_names_thread(g, n))
		where = SY_BRINGHOME;
	if ((e->flags & SYF_SELFSIG) && where != SY_LOCAL &&
	    serve_self_signal(g, n, &rc, cause))
		return rc;
	/* a data call, or a mapping, on the guest's own /proc entry: here */
	if (g->nlfd > 0 && lfd_is(g, (int)n->args[where == SY_FMAP ? 4 : 0]) &&
	    ((where == SY_HOME && (e->flags & SYF_LOCALFD)) ||
	    where == SY_FMAP)) {
		g->stats.proc_local++;
		rc = trap_continue(g, n->id, cause);
		return rc == 1 ? TRAP_GONE : rc == -1 ? -1 : TRAP_DONE;
	}
	g->stats.by_where[where]++;
	return serve_where[where](g, link, n, e, cause);
}
