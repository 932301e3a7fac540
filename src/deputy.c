/* deputy.c: forwarded system calls, run at home for the original process. */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/deputy.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/procfs.h"
#include "omm/procself.h"
#include "omm/sysent.h"
#include "omm/xmalloc.h"

#define VIA_TABLE	0xff	/* no override: the table's choice */
#define ALIGN16(n)	(((n) + 15) & ~(size_t)15)

/*
 * A descriptor the process holds on one of its own GUEST /proc entries
 * (a placeholder at home): by what it is, so a number reused for
 * something else never matches.
 */
struct pmark {
	int			 fd;
	dev_t			 dev;
	ino_t			 ino;
	uint8_t			 thread;
	char			 entry[PROCSELF_ENTRY_MAX];
};

struct deputy {
	pid_t			 orig;
	int			 fd_floor;
	volatile sig_atomic_t	*intr;		/* set: we were interrupted */
	int			 statfd;	/* /proc/orig/stat, at fd_floor or above */
	pid_t			 ppid;		/* the original's parent, while ... */
	int			 ppidfd;	/* ... this pidfd of it is not readable */
	uint8_t			 via[SYSENT_MAX];
	deputy_inject_fn	 inject;
	void			*inject_arg;

	uint8_t			*arena;		/* the buffers of the current call */
	size_t			 arenacap;
	void			**local;
	size_t			 localcap;
	uint8_t			*data;		/* FDDATA bytes */

	struct procself		 ps;		/* what /proc/self means */
	struct pmark		*marks;
	size_t			 nmarks;
	char			 rpath[2][PATH_MAX]; /* paths of the call, rerouted */
	int			 to_host;	/* the call's answer is loc */
	struct syslocal		 loc;

	struct deputy_stats	 stats;
};

/* ---- descriptors of the process's own /proc entries ---- */

static struct pmark *
mark_find(struct deputy *d, int fd)
{
	size_t	i;

	for (i = 0; i < d->nmarks; i++) {
		if (d->marks[i].fd == fd)
			return &d->marks[i];
	}
	return NULL;
}

static void
mark_drop(struct deputy *d, int fd)
{
	struct pmark	*m;

	if ((m = mark_find(d, fd)) != NULL)
		*m = d->marks[--d->nmarks];
}

static void
mark_add(struct deputy *d, int fd, const char *entry, int thread)
{
	struct stat	 st;
	struct pmark	*m;

	mark_drop(d, fd);
	if (fstat(fd, &st) == -1)
		return;
	d->marks = xreallocarray(d->marks, d->nmarks + 1, sizeof *d->marks);
	m = &d->marks[d->nmarks++];
	m->fd = fd;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->thread = thread;
	snprintf(m->entry, sizeof m->entry, "%s", entry);
}

/* The mark of fd, if fd is still what was marked. */
static struct pmark *
mark_get(struct deputy *d, int fd)
{
	struct pmark	*m;
	struct stat	 st;

	if (d->nmarks == 0 || (m = mark_find(d, fd)) == NULL)
		return NULL;
	if (fstat(fd, &st) == -1 || st.st_dev != m->dev || st.st_ino != m->ino) {
		mark_drop(d, fd);
		return NULL;
	}
	return m;
}

/* The process's own entries it opened at home before it left. */
static void
marks_scan(struct deputy *d)
{
	struct procself_route	 r;
	struct dirent		*de;
	DIR			*dir;
	int			 fd;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		fd = atoi(de->d_name);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
		    fd >= d->fd_floor || fd == dirfd(dir))
			continue;
		procself_route_fd(&d->ps, fd, &r);
		if (r.action == PR_LOCAL && !r.deputy)
			mark_add(d, fd, r.entry, r.thread);
	}
	closedir(dir);
}

struct deputy *
deputy_new(pid_t orig, int fd_floor, char **cause)
{
	struct deputy		*d;
	struct procfs_status	 st;
	sigset_t		 set;
	char			 path[64];
	int			 fd;

	if (procfs_status(orig, &st, cause) == -1)
		return NULL;
	if (st.uid[1] != geteuid() || st.gid[1] != getegid()) {
		cause_set(cause, "deputy runs as uid %u gid %u, process %d as "
		    "uid %u gid %u", geteuid(), getegid(), (int)orig, st.uid[1],
		    st.gid[1]);
		return NULL;
	}
	snprintf(path, sizeof path, "/proc/%d/stat", (int)orig);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	d = xcalloc(1, sizeof *d);
	d->orig = orig;
	d->fd_floor = fd_floor;
	/* Out of the range the guest's own descriptors may take. */
	if ((d->statfd = fcntl(fd, F_DUPFD_CLOEXEC, fd_floor)) == -1) {
		cause_set(cause, "fd at %d or above: %s", fd_floor,
		    strerror(errno));
		close(fd);
		free(d);
		return NULL;
	}
	close(fd);
	d->ppidfd = -1;
	memset(d->via, VIA_TABLE, sizeof d->via);
	if (procself_init(&d->ps, orig, fd_floor, cause) == -1) {
		close(d->statfd);
		free(d);
		return NULL;
	}
	marks_scan(d);

	/*
	 * SIGPIPE and SIGXFSZ a forwarded call raises belong to the guest:
	 * kept pending here, collected after the call and sent along.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGXFSZ);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return d;
}

void
deputy_free(struct deputy *d)
{
	if (d == NULL)
		return;
	close(d->statfd);
	if (d->ppidfd != -1)
		close(d->ppidfd);
	free(d->arena);
	free(d->local);
	free(d->data);
	free(d->marks);
	free(d);
}

void
deputy_set_inject(struct deputy *d, deputy_inject_fn fn, void *arg)
{
	d->inject = fn;
	d->inject_arg = arg;
}

void
deputy_set_via(struct deputy *d, int nr, int via)
{
	if (nr < 0 || nr >= SYSENT_MAX || via >= SYV_N)
		fatalx("%s: call %d via %d", __func__, nr, via);
	d->via[nr] = via < 0 ? VIA_TABLE : via;
}

int
deputy_via(const struct deputy *d, const struct sysent *e)
{
	if (e->nr >= 0 && e->nr < SYSENT_MAX && d->via[e->nr] != VIA_TABLE)
		return d->via[e->nr];
	return e->via;
}

const struct deputy_stats *
deputy_stats(const struct deputy *d)
{
	return &d->stats;
}

/* ---- the original's identity ---- */

/* ppid, pgrp and session of the original, from /proc/PID/stat (fields 4-6). */
static int
orig_ids(struct deputy *d, long ids[3])
{
	char		 text[1024], *p;
	ssize_t		 n;
	char		 state;

	if ((n = pread(d->statfd, text, sizeof text - 1, 0)) <= 0)
		return -ESRCH;
	text[n] = '\0';
	/* comm may hold anything, ')' too: the last one ends it. */
	if ((p = strrchr(text, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld %ld %ld", &state, &ids[0], &ids[1],
	    &ids[2]) != 4)
		return -EIO;
	return 0;
}

static int64_t
emul_getpid(struct deputy *d, struct deputy_call *c)
{
	return d->orig;
}

static int64_t
emul_id(struct deputy *d, int which)
{
	long	ids[3];
	int	rc;

	if ((rc = orig_ids(d, ids)) != 0)
		return rc;
	return ids[which];
}

/*
 * The parent changes only when it dies: while a pidfd of it does not poll
 * readable, the last answer stands, at the price of a poll instead of a
 * read of /proc (3.4 us). The kernel reparents the children before the
 * pidfd of their exiting parent turns readable.
 */
static int64_t
emul_getppid(struct deputy *d, struct deputy_call *c)
{
	struct pollfd	pfd;
	int64_t		ppid;
	int		fd;

	if (d->ppidfd != -1) {
		pfd.fd = d->ppidfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) == 0)
			return d->ppid;
		close(d->ppidfd);
		d->ppidfd = -1;
	}
	if ((ppid = emul_id(d, 0)) <= 0)
		return ppid;
	if ((fd = syscall(SYS_pidfd_open, (pid_t)ppid, 0)) != -1) {
		d->ppidfd = fcntl(fd, F_DUPFD_CLOEXEC, d->fd_floor);
		close(fd);
		d->ppid = ppid;
	}
	return ppid;
}

static int64_t
emul_getpgrp(struct deputy *d, struct deputy_call *c)
{
	return emul_id(d, 1);
}

/* Our own process group or session means the original's; another pid is asked. */
static int64_t
emul_getpgid(struct deputy *d, struct deputy_call *c)
{
	pid_t	pid = (pid_t)c->arg[0];
	long	r;

	if (pid == 0 || pid == d->orig)
		return emul_id(d, 1);
	r = syscall(SYS_getpgid, pid);
	return r == -1 ? -errno : r;
}

static int64_t
emul_getsid(struct deputy *d, struct deputy_call *c)
{
	pid_t	pid = (pid_t)c->arg[0];
	long	r;

	if (pid == 0 || pid == d->orig)
		return emul_id(d, 2);
	r = syscall(SYS_getsid, pid);
	return r == -1 ? -errno : r;
}

/* kill(0, sig) means the original's process group, not the deputy's. */
static int64_t
emul_kill(struct deputy *d, struct deputy_call *c)
{
	pid_t	pid = (pid_t)c->arg[0];
	long	r;

	if (pid == 0) {
		if ((r = emul_id(d, 1)) < 0)
			return r;
		pid = -(pid_t)r;
	}
	r = syscall(SYS_kill, pid, (int)c->arg[1]);
	return r == -1 ? -errno : r;
}

/* Never past the guest's range into the deputy's own descriptors. */
static int64_t
emul_close_range(struct deputy *d, struct deputy_call *c)
{
	unsigned int	first = (unsigned int)c->arg[0];
	unsigned int	last = (unsigned int)c->arg[1];
	long		r;

	if (first > last)
		return -EINVAL;
	if (first >= (unsigned int)d->fd_floor)
		return 0;
	if (last >= (unsigned int)d->fd_floor)
		last = d->fd_floor - 1;
	r = syscall(SYS_close_range, first, last, (unsigned int)c->arg[2]);
	return r == -1 ? -errno : r;
}

/*
 * A clock read for a home pid (trap.c keeps the process's own): as the
 * kernel here answers it, but a descriptor clock of the deputy's own range
 * is no clock of the process's (EINVAL: the kernel's answer for an fd
 * that is not a clock).
 */
static int64_t
emul_clock(struct deputy *d, struct deputy_call *c)
{
	int32_t	clk = (int32_t)c->arg[0];
	long	r;

	if (clk < 0 && SYSENT_CLK_IS_FD(clk) &&
	    SYSENT_CLK_PID(clk) >= d->fd_floor) {
		d->stats.badfd++;
		return -EINVAL;
	}
	r = syscall(c->req->nr, clk, c->arg[1]);
	return r == -1 ? -errno : r;
}

/* Calls the deputy answers itself (SYV_EMUL), by number. */
static const struct emul {
	int	  nr;
	int64_t	(*fn)(struct deputy *, struct deputy_call *);
} emuls[] = {
	{ SYS_getpid, emul_getpid },
	{ SYS_gettid, emul_getpid },
	{ SYS_getppid, emul_getppid },
	{ SYS_getpgrp, emul_getpgrp },
	{ SYS_getpgid, emul_getpgid },
	{ SYS_getsid, emul_getsid },
	{ SYS_kill, emul_kill },
	{ SYS_close_range, emul_close_range },
	{ SYS_clock_gettime, emul_clock },
	{ SYS_clock_getres, emul_clock },
};

static const struct emul *
emul_find(int nr)
{
	size_t	i;

	for (i = 0; i < sizeof emuls / sizeof emuls[0]; i++) {
		if (emuls[i].nr == nr)
			return &emuls[i];
	}
	return NULL;
}

/* ---- running a call ---- */

static void *
arena_get(struct deputy *d, size_t *off, size_t len)
{
	void	*p = d->arena + *off;

	*off += ALIGN16(len);
	if (*off > d->arenacap)
		fatalx("%s: arena overrun", __func__);
	return p;
}

/* Do the fds of a sendmsg's SCM_RIGHTS stay out of the deputy's own? */
static int
control_fds_ok(struct deputy *d, const struct msghdr *m)
{
	struct cmsghdr	*cm;
	const int	*fds;
	size_t		 i, n;

	for (cm = CMSG_FIRSTHDR(m); cm != NULL;
	    cm = CMSG_NXTHDR((struct msghdr *)m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		if (cm->cmsg_len < CMSG_LEN(0))
			return 0;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof (int);
		fds = (const int *)CMSG_DATA(cm);
		for (i = 0; i < n; i++) {
			if (fds[i] >= d->fd_floor)
				return 0;
		}
	}
	return 1;
}

/*
 * Copies of the buffers, and the arguments pointed at them. In-only
 * buffers are used in place, inside the request; the kernel only reads
 * them. No guest address reaches the kernel: a pointer without a buffer
 * (an empty iovec) points at a harmless spot of the arena.
 */
static int
prepare(struct deputy *d, const struct sysreq *req, struct deputy_call *c)
{
	const struct sysent	*e = req->ent;
	const struct sysbuf	*b;
	struct iovec		*iov[SYSENT_NARGS] = { NULL };
	struct msghdr		*msg[SYSENT_NARGS] = { NULL };
	size_t			 need = 16, off = 0, i, count;
	void			*dummy;
	int			 k;

	for (i = 0; i < req->nbuf; i++)
		need += ALIGN16(req->buf[i].len) + ALIGN16(sizeof (struct iovec));
	need += SYSENT_NARGS * ALIGN16(sizeof (struct msghdr));
	if (need > d->arenacap) {
		free(d->arena);
		d->arena = xmalloc(need);
		d->arenacap = need;
	}
	if (req->nbuf > d->localcap) {
		d->local = xreallocarray(d->local, req->nbuf, sizeof *d->local);
		d->localcap = req->nbuf;
	}
	c->req = req;
	c->local = d->local;
	memcpy(c->arg, req->arg, sizeof c->arg);

	dummy = arena_get(d, &off, 16);
	memset(dummy, 0, 16);
	for (k = 0; k < SYSENT_NARGS; k++) {
		if (e->arg[k].kind == SA_DROP)
			c->arg[k] = 0;
		else if (sysarg_is_ptr(&e->arg[k]) && c->arg[k] != 0)
			c->arg[k] = (uint64_t)dummy;
	}

	for (i = 0; i < req->nbuf; i++) {
		b = &req->buf[i];
		if (b->dir == SBD_IN && b->part != SBP_MSGHDR)
			d->local[i] = (void *)b->in;
		else {
			d->local[i] = arena_get(d, &off, b->len);
			if (b->dir & SBD_IN)
				memcpy(d->local[i], b->in, b->len);
			else if (b->part == SBP_ARG &&
			    e->arg[b->arg].back == SB_FULL)
				/*
				 * Sent back whole whatever the kernel wrote:
				 * no stale deputy bytes in it. Other buffers
				 * go back only as far as the kernel says it
				 * wrote.
				 */
				memset(d->local[i], 0, b->len);
		}
		d->stats.bytes_in += b->dir & SBD_IN ? b->len : 0;

		switch (b->part) {
		case SBP_ARG:
			c->arg[b->arg] = (uint64_t)d->local[i];
			break;
		case SBP_MSGHDR:
			msg[b->arg] = d->local[i];
			msg[b->arg]->msg_name = NULL;
			msg[b->arg]->msg_control = NULL;
			if (msg[b->arg]->msg_iov != NULL)
				msg[b->arg]->msg_iov = dummy;
			c->arg[b->arg] = (uint64_t)msg[b->arg];
			break;
		case SBP_NAME:
			msg[b->arg]->msg_name = d->local[i];
			msg[b->arg]->msg_namelen = b->len;
			break;
		case SBP_CONTROL:
			msg[b->arg]->msg_control = d->local[i];
			msg[b->arg]->msg_controllen = b->len;
			break;
		case SBP_IOV:
			if (b->elem == 0) {
				count = msg[b->arg] != NULL ?
				    msg[b->arg]->msg_iovlen :
				    req->arg[e->arg[b->arg].from];
				iov[b->arg] = arena_get(d, &off,
				    count * sizeof (struct iovec));
				if (msg[b->arg] != NULL)
					msg[b->arg]->msg_iov = iov[b->arg];
				else
					c->arg[b->arg] = (uint64_t)iov[b->arg];
			}
			iov[b->arg][b->elem].iov_base = d->local[i];
			iov[b->arg][b->elem].iov_len = b->len;
			break;
		}
	}
	for (k = 0; k < SYSENT_NARGS; k++) {
		if (e->arg[k].kind == SA_MSG_SEND && msg[k] != NULL &&
		    msg[k]->msg_control != NULL && !control_fds_ok(d, msg[k]))
			return -EBADF;
		if (e->arg[k].kind == SA_FD && (int)req->arg[k] >= d->fd_floor) {
			d->stats.badfd++;
			return -EBADF;
		}
	}
	return 0;
}

/* A signal the call raised for its caller (SIGPIPE on EPIPE, SIGXFSZ on EFBIG). */
static uint8_t
raised_signal(const struct sysent *e, int64_t ret)
{
	static const struct timespec	 zero;
	sigset_t			 set;
	int				 sig;

	if (!(e->flags & SYF_SIGPIPE) || (ret != -EPIPE && ret != -EFBIG))
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGXFSZ);
	sig = sigtimedwait(&set, NULL, &zero);
	return sig > 0 ? sig : 0;
}

/* ---- what /proc/self means (procself.h) ---- */

/* Answer SYSCALL_LOCAL: the process's own entry, held at fd here. */
static int64_t
answer_local(struct deputy *d, const struct sysreq *req, int fd,
    uint64_t flags, const char *entry, int thread)
{
	off_t	pos;

	memset(&d->loc, 0, sizeof d->loc);
	d->loc.seq = req->seq;
	d->loc.fd = fd;
	d->loc.flags = (uint32_t)flags & SYSLOCAL_FLAGS;
	pos = lseek(fd, 0, SEEK_CUR);
	d->loc.pos = pos > 0 ? (uint64_t)pos : 0;
	d->loc.thread = thread != 0;
	snprintf(d->loc.entry, sizeof d->loc.entry, "%s", entry);
	d->to_host = 1;
	d->stats.local++;
	return 0;
}

/*
 * What holds the number of the process's own entry here: the original's
 * entry (right once the process is home again), else an empty memfd; at
 * the number the process's open would have got.
 */
static int
placeholder(struct deputy *d, const char *path, uint64_t flags)
{
	int	fd, e;

	fd = open(path, (int)(flags & (O_ACCMODE | O_CLOEXEC | O_NONBLOCK |
	    O_APPEND | O_PATH)) | O_NOFOLLOW);
	if (fd == -1)
		fd = memfd_create("omm-proc", (flags & O_CLOEXEC) ? MFD_CLOEXEC :
		    0);
	if (fd >= d->fd_floor) {
		e = EMFILE;	/* the process's limit: the kernel's answer */
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* readlink of /proc/self (or thread-self): the original's pid. */
static int64_t
emul_selflink(struct deputy_call *c, int argi, const char *text)
{
	int64_t	size = (int32_t)c->arg[argi + 2];
	size_t	n = strlen(text);

	if (size <= 0)
		return -EINVAL;
	if (c->arg[argi + 1] == 0)
		return -EFAULT;
	if ((uint64_t)size < n)
		n = (size_t)size;
	memcpy((void *)(uintptr_t)c->arg[argi + 1], text, n);
	return (int64_t)n;
}

/*
 * The paths of a call, as /proc/self means the process: 1 and *ret when
 * the call is answered here (refused, the self link read, the process's
 * own entry opened: SYSCALL_LOCAL), 0 to run it, its paths into our own
 * /proc replaced by the right ones in c->arg.
 */
static int
route_paths(struct deputy *d, const struct sysreq *req, struct deputy_call *c,
    int64_t *ret, int *isopen, uint64_t *oflags)
{
	struct procself_pathref	 ref[2];
	struct procself_route	 r;
	int			 n, k, fd;

	n = procself_call_paths(req->nr, c->arg, ref, isopen);
	*oflags = req->nr == SYS_creat ? O_CREAT | O_WRONLY | O_TRUNC :
	    *isopen && n > 0 ? ref[0].flags : 0;
	for (k = 0; k < n; k++) {
		procself_route_path(&d->ps, ref[k].dirfd, ref[k].path,
		    ref[k].follow, &r);
		switch (r.action) {
		case PR_ERR:
			*ret = -r.err;
			return 1;
		case PR_LINK:
			if (req->nr != SYS_readlink && req->nr != SYS_readlinkat)
				break;
			*ret = emul_selflink(c, ref[k].argi, r.path);
			return 1;
		case PR_LOCAL:
			if (*isopen) {
				if ((fd = placeholder(d, r.path, *oflags)) == -1) {
					*ret = -errno;
					return 1;
				}
				mark_add(d, fd, r.entry, r.thread);
				*ret = answer_local(d, req, fd, *oflags, r.entry,
				    r.thread);
				return 1;
			}
			/* its names and attributes are the original's */
			/* FALLTHROUGH */
		case PR_PATH:
			snprintf(d->rpath[k], sizeof d->rpath[k], "%s", r.path);
			c->arg[ref[k].argi] = (uint64_t)(uintptr_t)d->rpath[k];
			d->stats.rerouted++;
			break;
		}
	}
	return 0;
}

/* Is the FIFO st one of the deputy's own descriptors (its image pipe)? */
static int
private_fifo(struct deputy *d, const struct stat *st)
{
	struct stat	 ps;
	struct dirent	*de;
	DIR		*dir;
	int		 fd, found = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return 1;
	while (!found && (de = readdir(dir)) != NULL) {
		fd = atoi(de->d_name);
		if (fd >= d->fd_floor && fd != dirfd(dir) && fstat(fd, &ps) == 0 &&
		    ps.st_dev == st->st_dev && ps.st_ino == st->st_ino)
			found = 1;
	}
	closedir(dir);
	return found;
}

/*
 * What an open really opened (the path may have changed since it was
 * judged): the process's own entry is answered SYSCALL_LOCAL, one of ours
 * becomes the right one, a descriptor of the deputy's own is refused.
 */
static int64_t
check_opened(struct deputy *d, const struct sysreq *req, int fd,
    uint64_t flags)
{
	struct procself_route	r;
	struct stat		st;
	int			nfd = -1, e;

	flags &= ~(uint64_t)(O_CREAT | O_EXCL | O_TRUNC);
	procself_route_fd(&d->ps, fd, &r);
	switch (r.action) {
	case PR_ERR:
		close(fd);
		return -r.err;
	case PR_LOCAL:
		if (r.deputy && (nfd = placeholder(d, r.path, flags)) == -1)
			goto fail;
		break;
	case PR_PATH:
		if ((nfd = open(r.path, (int)flags)) == -1)
			goto fail;
		break;
	default:
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    private_fifo(d, &st)) {
			close(fd);
			d->stats.badfd++;
			return -ENOENT;
		}
		return fd;
	}
	if (nfd != -1) {
		if (dup3(nfd, fd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0) == -1)
			goto fail;
		close(nfd);
		d->stats.rerouted++;
	}
	if (r.action == PR_LOCAL) {
		mark_add(d, fd, r.entry, r.thread);
		return answer_local(d, req, fd, flags, r.entry, r.thread);
	}
	return fd;
fail:
	e = errno;
	if (nfd != -1)
		close(nfd);
	close(fd);
	return -e;
}

/* A dup of the process's own entry is one too. */
static void
after_dup(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	struct pmark	*m;
	char		 entry[PROCSELF_ENTRY_MAX];
	int		 thread;

	mark_drop(d, (int)ret);
	if ((m = mark_get(d, (int)c->arg[0])) == NULL)
		return;
	snprintf(entry, sizeof entry, "%s", m->entry);
	thread = m->thread;
	mark_add(d, (int)ret, entry, thread);
}

static void
after_close(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	mark_drop(d, (int)c->arg[0]);
}

/* Our own descriptors are in our fd/ and fdinfo/, not in the process's. */
static int64_t
filter_fddir(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	if (ret <= 0 || !procself_is_fddir(&d->ps, (int)c->arg[0]))
		return ret;
	return (int64_t)procself_filter_dents((uint8_t *)(uintptr_t)c->arg[1],
	    (size_t)ret, d->fd_floor, c->req->nr == SYS_getdents64);
}

static int64_t
after_getdents(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	return filter_fddir(d, c, ret);
}

static int64_t
after_dup_ret(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	after_dup(d, c, ret);
	return ret;
}

static int64_t
after_close_ret(struct deputy *d, struct deputy_call *c, int64_t ret)
{
	after_close(d, c, ret);
	return ret;
}

/* What follows a successful call, by number (fcntl: its F_DUPFD variants). */
static const struct after {
	int	  nr;
	int	  key;		/* fcntl's command, -1: any */
	int64_t	(*fn)(struct deputy *, struct deputy_call *, int64_t);
} afters[] = {
	{ SYS_dup, -1, after_dup_ret },
	{ SYS_dup2, -1, after_dup_ret },
	{ SYS_dup3, -1, after_dup_ret },
	{ SYS_fcntl, F_DUPFD, after_dup_ret },
	{ SYS_fcntl, F_DUPFD_CLOEXEC, after_dup_ret },
	{ SYS_close, -1, after_close_ret },
	{ SYS_getdents, -1, after_getdents },
	{ SYS_getdents64, -1, after_getdents },
};

static int64_t
after_call(struct deputy *d, const struct sysreq *req, struct deputy_call *c,
    int64_t ret)
{
	size_t	i;

	for (i = 0; i < sizeof afters / sizeof afters[0]; i++) {
		if (afters[i].nr == req->nr && (afters[i].key == -1 ||
		    (uint32_t)afters[i].key == req->ent->key))
			return afters[i].fn(d, c, ret);
	}
	return ret;
}

const struct syslocal *
deputy_local(const struct deputy *d)
{
	return d->to_host ? &d->loc : NULL;
}

int
deputy_exec(struct deputy *d, const struct sysreq *req, struct sysrep *rep,
    char **cause)
{
	struct pmark		*m;
	uint64_t		 oflags = 0;
	int			 isopen = 0, fl;
	struct deputy_call	 c;
	const struct emul	*em;
	int64_t			 ret;
	size_t			 i;
	int			 via;
	long			 r;

	memset(rep, 0, sizeof *rep);
	rep->seq = req->seq;
	rep->nbuf = req->nbuf;
	rep->buf = xcalloc(req->nbuf ? req->nbuf : 1, sizeof *rep->buf);
	d->stats.calls++;
	via = deputy_via(d, req->ent);
	d->stats.by_via[via]++;

	d->to_host = 0;
	/*
	 * A signal went to the guest since its last reply: a call that may
	 * wait for long is not started. The guest may have sent it before
	 * the signal reached it; its kernel then restarts it, or runs the
	 * handler, as the signal says (trap.c).
	 */
	if ((req->ent->flags & SYF_BLOCKS) && d->intr != NULL && *d->intr) {
		ret = -DEPUTY_ERESTARTSYS;
		goto done;
	}
	if ((ret = prepare(d, req, &c)) != 0)
		goto done;
	/* data calls on the process's own /proc entry run on its host */
	if ((req->ent->flags & SYF_LOCALFD) &&
	    (m = mark_get(d, (int)req->arg[0])) != NULL) {
		fl = fcntl(m->fd, F_GETFL);
		ret = answer_local(d, req, m->fd, fl == -1 ? 0 : (uint64_t)fl,
		    m->entry, m->thread);
		goto done;
	}
	if (route_paths(d, req, &c, &ret, &isopen, &oflags))
		goto done;
	em = emul_find(req->nr);
	if (via == SYV_ORIGINAL && d->inject != NULL) {
		if (d->inject(d->inject_arg, &c, &ret, cause) == -1)
			return -1;
	} else if (via == SYV_EMUL || via == SYV_ORIGINAL) {
		ret = em != NULL ? em->fn(d, &c) : -ENOSYS;
	} else {
		r = syscall(req->nr, c.arg[0], c.arg[1], c.arg[2], c.arg[3],
		    c.arg[4], c.arg[5]);
		ret = r == -1 ? -errno : r;
	}
	if (!SYSRET_ERR(ret))
		ret = isopen ? check_opened(d, req, (int)ret, oflags) :
		    after_call(d, req, &c, ret);
	rep->sig = raised_signal(req->ent, ret);
done:
	/*
	 * Interrupted by us because a signal is on its way to the guest: the
	 * guest's kernel restarts the call or fails it with EINTR, as its
	 * handlers' SA_RESTART say, exactly as for a local call.
	 */
	if (ret == -EINTR && d->intr != NULL && *d->intr)
		ret = -DEPUTY_ERESTARTSYS;
	rep->ret = ret;
	if (SYSRET_ERR(ret)) {
		d->stats.errors++;
		return 0;
	}
	for (i = 0; i < req->nbuf; i++) {
		if (req->buf[i].dir & SBD_OUT) {
			rep->buf[i].data = d->local[i];
			rep->buf[i].len = req->buf[i].len;
		}
	}
	return 0;
}

/* ---- files behind descriptors, for mappings ---- */

void
deputy_fdinfo(struct deputy *d, const struct fdinfo_req *r, struct fdinfo *f)
{
	struct stat	 st;
	char		 link[64], *cause = NULL;
	ssize_t		 n;
	uint64_t	 len;
	int		 fl;

	memset(f, 0, sizeof *f);
	f->seq = r->seq;
	d->stats.fdinfo++;
	if (r->fd >= d->fd_floor || fstat(r->fd, &st) == -1 ||
	    (fl = fcntl(r->fd, F_GETFL)) == -1) {
		f->err = r->fd >= d->fd_floor ? EBADF : errno;
		return;
	}
	f->accmode = fl & O_ACCMODE;
	f->mode = st.st_mode;
	f->size = st.st_size;
	f->mtime_sec = st.st_mtim.tv_sec;
	f->mtime_nsec = st.st_mtim.tv_nsec;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	snprintf(link, sizeof link, "/proc/self/fd/%d", r->fd);
	if ((n = readlink(link, f->path, sizeof f->path - 1)) < 0)
		n = 0;
	f->path[n] = '\0';
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5))
		f->type = FDI_ZERO;
	else if (!S_ISREG(st.st_mode) || st.st_dev == d->ps.dev)
		f->type = FDI_OTHER;
	else {
		f->type = FDI_REG;
		len = r->off >= f->size ? 0 : f->size - r->off;
		if (len > r->len)
			len = r->len;
		if (marshal_digest_fd(r->fd, r->off, len, f->digest,
		    &cause) == -1) {
			log_debug("fdinfo of fd %d: %s", r->fd, cause);
			free(cause);
			f->err = EIO;
		}
	}
}

void
deputy_fddata(struct deputy *d, const struct fddata_req *r, struct fddata *f)
{
	ssize_t	n;

	memset(f, 0, sizeof *f);
	f->seq = r->seq;
	d->stats.fddata++;
	if (r->fd >= d->fd_floor) {
		f->err = EBADF;
		return;
	}
	if (d->data == NULL)
		d->data = xmalloc(MARSHAL_DATA_MAX);
	do
		n = pread(r->fd, d->data, r->len, r->off);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		f->err = errno;
		return;
	}
	f->len = n;
	f->data = d->data;
	d->stats.bytes_out += n;
}

/* ---- the home end of the link ---- */

static int
handle_syscall(struct deputy *d, const uint8_t *p, size_t n, struct buf *out,
    uint16_t *rtype, char **cause)
{
	struct sysreq	req;
	struct sysrep	rep;
	size_t		len0 = out->len;
	int		rc;

	if (marshal_decode_request(p, n, &req, cause) == -1)
		return -1;
	if ((rc = deputy_exec(d, &req, &rep, cause)) == 0 && d->to_host) {
		marshal_encode_syslocal(out, &d->loc);
		*rtype = MARSHAL_SYSCALL_LOCAL;
	} else if (rc == 0) {
		marshal_encode_reply(&req, &rep, out);
		d->stats.bytes_out += out->len - len0;
	}
	sysrep_free(&rep);
	sysreq_free(&req);
	return rc;
}

static int
handle_fdinfo(struct deputy *d, const uint8_t *p, size_t n, struct buf *out,
    uint16_t *rtype, char **cause)
{
	struct fdinfo_req	 r;
	struct fdinfo		*f;

	if (marshal_decode_fdinfo_req(p, n, &r, cause) == -1)
		return -1;
	f = xmalloc(sizeof *f);
	deputy_fdinfo(d, &r, f);
	marshal_encode_fdinfo(out, f);
	free(f);
	return 0;
}

static int
handle_fddata(struct deputy *d, const uint8_t *p, size_t n, struct buf *out,
    uint16_t *rtype, char **cause)
{
	struct fddata_req	r;
	struct fddata		f;

	if (marshal_decode_fddata_req(p, n, &r, cause) == -1)
		return -1;
	deputy_fddata(d, &r, &f);
	marshal_encode_fddata(out, &f);
	return 0;
}

/* What home answers to each request type of the 300 block. */
static const struct deputy_handler {
	uint16_t	 type;
	uint16_t	 rtype;
	int		(*fn)(struct deputy *, const uint8_t *, size_t,
			    struct buf *, uint16_t *, char **);
} deputy_handlers[] = {
	{ MARSHAL_SYSCALL_REQ, MARSHAL_SYSCALL_REP, handle_syscall },
	{ MARSHAL_FDINFO_REQ, MARSHAL_FDINFO_REP, handle_fdinfo },
	{ MARSHAL_FDDATA_REQ, MARSHAL_FDDATA_REP, handle_fddata },
};

int
deputy_handle(struct deputy *d, uint16_t type, const uint8_t *p, size_t n,
    struct buf *reply, uint16_t *rtype, char **cause)
{
	size_t	i;

	for (i = 0; i < sizeof deputy_handlers / sizeof deputy_handlers[0]; i++) {
		if (deputy_handlers[i].type == type) {
			*rtype = deputy_handlers[i].rtype;
			return deputy_handlers[i].fn(d, p, n, reply, rtype,
			    cause);
		}
	}
	return cause_set(cause, "no deputy request of type %u", type);
}

void
deputy_set_intr(struct deputy *d, volatile sig_atomic_t *flag)
{
	d->intr = flag;
}
