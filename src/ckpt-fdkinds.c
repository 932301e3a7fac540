/*
 * ckpt-fdkinds.c: descriptors other than files, devices and pipes.
 *
 * eventfd, signalfd, epoll, O_PATH, memfd and deleted-but-open files. At
 * dump, what each holds is read from outside: fdinfo (an eventfd's counter
 * and EFD_SEMAPHORE, a signalfd's mask, an epoll's interest list), the
 * file itself through /proc/PID/fd/N (a memfd's or deleted file's content
 * and seals). At restore each is made again by the restored process
 * itself, by injection, so that it exists with the restoring user's
 * rights; content goes in through a copy of the new descriptor
 * (pidfd_getfd), not through the injection area.
 *
 * A deleted file comes back as an O_TMPFILE in the directory it was in:
 * the same filesystem (its space is counted where it was, and it can be
 * linked back with linkat as the original could), never visible under a
 * name, gone when the last descriptor closes. A restore where that
 * directory no longer exists, or whose filesystem has no O_TMPFILE, fails
 * naming the fd.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/* Scratch layout (ckpt-restore.c's, which calls us between its steps). */
#define SCR_STR		0
#define SCR_MISC	12288

#ifndef F_ADD_SEALS
#define F_ADD_SEALS	1033
#define F_GET_SEALS	1034
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC		0x0001U
#define MFD_ALLOW_SEALING	0x0002U
#endif

/* Status flags F_SETFL changes (the rest are fixed at open). */
#define FD_SETFL	(O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_ASYNC)

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The link without " (deleted)" (and "/memfd:" for a memfd). */
static char *
strip_link(const char *link, enum img_fd_kind kind)
{
	size_t	 n = strlen(link);

	if (ends_with(link, " (deleted)"))
		n -= 10;
	if (kind == IMG_FD_MEMFD && n >= 7 && strncmp(link, "/memfd:", 7) == 0)
		return xstrndup(link + 7, n - 7);
	return xstrndup(link, n);
}

/*
 * An epoll's interest list: every target must be an fd of the process that
 * is still the file it was added with (its inode), else the restore could
 * not name it.
 */
static int
epoll_targets(pid_t pid, struct img_fd *f, const struct procfs_fdkind *k,
    char **why)
{
	const struct procfs_tfd	*t;
	struct stat		 st;
	char			 name[64];
	size_t			 i;

	if (k->ntfd > IMG_MAX_WATCHES)
		return cause_set(why, "fd %d: epoll with %zu entries (at most %d "
		    "are carried)", f->fd, k->ntfd, IMG_MAX_WATCHES);
	f->watch = k->ntfd == 0 ? NULL : xcalloc(k->ntfd, sizeof *f->watch);
	f->nwatch = (uint32_t)k->ntfd;
	for (i = 0; i < k->ntfd; i++) {
		t = &k->tfd[i];
		snprintf(name, sizeof name, "/proc/%ld/fd/%d", (long)pid, t->tfd);
		if (stat(name, &st) == -1 || st.st_ino != t->ino ||
		    major(st.st_dev) != (t->sdev >> 20) ||
		    minor(st.st_dev) != (t->sdev & 0xfffff))
			return cause_set(why, "fd %d: epoll watches a file that "
			    "fd %d no longer is (closed or replaced after "
			    "EPOLL_CTL_ADD)", f->fd, t->tfd);
		if (t->tfd == f->fd)
			return cause_set(why, "fd %d: epoll watches itself", f->fd);
		f->watch[i].fd = t->tfd;
		f->watch[i].events = t->events;
		f->watch[i].data = t->data;
	}
	return 0;
}

/*
 * A memfd's or deleted file's content. Read through the process's own
 * descriptor (pidfd_getfd: the same open file description; pread leaves
 * its offset alone), never by reopening it as root: what goes into the
 * owner's image is only what the process itself can read. So the fd that
 * carries it must be readable.
 */
static int
file_content(pid_t pid, struct img_fd *f, int how, char **why)
{
	struct stat	st;
	size_t		off = 0;
	ssize_t		n;
	int		fd, pidfd, seals;

	if ((how & CKPT_FDD_CARRIER) && (f->flags & O_ACCMODE) == O_WRONLY)
		return cause_set(why, "fd %d: %s %s open write-only (its content "
		    "is carried only through a descriptor that reads it)", f->fd,
		    f->kind == IMG_FD_MEMFD ? "memfd" : "deleted file", f->path);
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return cause_set(why, "fd %d: pidfd_open: %s", f->fd,
		    strerror(errno));
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, f->fd, 0);
	close(pidfd);
	if (fd == -1)
		return cause_set(why, "fd %d: reading %s: pidfd_getfd: %s", f->fd,
		    f->path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		close(fd);
		return cause_set(why, "fd %d: %s: %s", f->fd, f->path,
		    strerror(errno));
	}
	if ((uint64_t)st.st_size > IMG_MAX_FDDATA) {
		close(fd);
		return cause_set(why, "fd %d: %s %s of %" PRIu64 " bytes (an "
		    "image carries at most %u MiB of file content)", f->fd,
		    f->kind == IMG_FD_MEMFD ? "memfd" : "deleted file", f->path,
		    (uint64_t)st.st_size, IMG_MAX_FDDATA >> 20);
	}
	f->size = (uint64_t)st.st_size;
	if (f->kind == IMG_FD_MEMFD) {
		if ((seals = fcntl(fd, F_GET_SEALS)) == -1) {
			close(fd);
			return cause_set(why, "fd %d: memfd %s: F_GET_SEALS: %s",
			    f->fd, f->path, strerror(errno));
		}
		f->extra = (uint32_t)seals;
	}
	if (!(how & CKPT_FDD_READ)) {
		close(fd);
		return 0;
	}
	f->datalen = f->size;
	f->data = xmalloc(f->size ? f->size : 1);
	while (off < f->size) {
		n = pread(fd, f->data + off, f->size - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return cause_set(why, "fd %d: reading %s: %s", f->fd,
			    f->path, n == 0 ? "it shrank meanwhile" :
			    strerror(errno));
		}
		off += (size_t)n;
	}
	close(fd);
	return 0;
}

int
ckpt_fd_details(pid_t pid, struct img_fd *f, const char *link, int how,
    char **why)
{
	struct procfs_fdkind	 k;
	char			 name[64], *text;
	int			 rv = 0;

	switch (f->kind) {
	case IMG_FD_OPATH:
		f->path = xstrdup(link);
		return 0;
	case IMG_FD_MEMFD:
	case IMG_FD_DELETED:
		f->path = strip_link(link, f->kind);
		if (f->kind == IMG_FD_DELETED && strrchr(f->path, '/') == f->path &&
		    f->path[1] == '\0')
			return cause_set(why, "fd %d: deleted file %s", f->fd, link);
		return file_content(pid, f, how, why);
	case IMG_FD_EVENTFD:
	case IMG_FD_SIGNALFD:
	case IMG_FD_EPOLL:
		break;
	default:
		return 0;
	}
	snprintf(name, sizeof name, "fdinfo/%d", f->fd);
	if (procfs_slurp(pid, name, &text, NULL, why) == -1)
		return -1;
	if (procfs_fdkind_parse(text, &k, why) == -1) {
		free(text);
		return -1;
	}
	free(text);
	if (f->kind == IMG_FD_EVENTFD) {
		if (!k.has_count)
			rv = cause_set(why, "fd %d: eventfd without a count in "
			    "its fdinfo", f->fd);
		f->value = k.count;
		f->extra = k.semaphore ? IMG_EFD_SEMAPHORE : 0;
	} else if (f->kind == IMG_FD_SIGNALFD) {
		if (!k.has_sigmask)
			rv = cause_set(why, "fd %d: signalfd without a sigmask "
			    "in its fdinfo", f->fd);
		f->value = k.sigmask;
	} else
		rv = epoll_targets(pid, f, &k, why);
	procfs_fdkind_free(&k);
	return rv;
}

/* ---- restore ------------------------------------------------------------ */

static int
call_ok(long ret, char **cause, int fd, const char *what)
{
	if (ret >= 0 || ret < -4095)
		return 0;
	return cause_set(cause, "fd %d: %s: %s", fd, what, strerror((int)-ret));
}

#define RCALL(in, ret, cause, fd, what, nr, ...)			\
	(INJECT(in, ret, cause, nr, __VA_ARGS__) == -1 ||		\
	 call_ok(*(ret), cause, fd, what) == -1 ? -1 : 0)

/* tmp (a new fd of pid's) becomes f->fd with its close-on-exec flag. */
static int
place(struct inject *in, long tmp, const struct img_fd *f, char **cause)
{
	long	ret;

	if (tmp == f->fd)
		return RCALL(in, &ret, cause, f->fd, "F_SETFD", SYS_fcntl, tmp,
		    F_SETFD, f->cloexec ? FD_CLOEXEC : 0);
	if (RCALL(in, &ret, cause, f->fd, "dup3", SYS_dup3, tmp, f->fd,
	    f->cloexec ? O_CLOEXEC : 0) == -1)
		return -1;
	return INJECT(in, &ret, cause, SYS_close, tmp);
}

/* pid's fd tfd, filled with data and cut to size, from our side. */
static int
fill(pid_t pid, long tfd, const struct img_fd *f, char **cause)
{
	size_t	off = 0;
	ssize_t	n;
	int	pidfd, fd;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return cause_set(cause, "fd %d: pidfd_open: %s", f->fd,
		    strerror(errno));
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
	close(pidfd);
	if (fd == -1)
		return cause_set(cause, "fd %d: pidfd_getfd: %s", f->fd,
		    strerror(errno));
	while (off < f->datalen) {
		n = pwrite(fd, f->data + off, f->datalen - off, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return cause_set(cause, "fd %d: writing the content of "
			    "%s: %s", f->fd, f->path, n == 0 ? "short write" :
			    strerror(errno));
		}
		off += (size_t)n;
	}
	if (ftruncate(fd, (off_t)f->size) == -1) {
		close(fd);
		return cause_set(cause, "fd %d: ftruncate %s: %s", f->fd, f->path,
		    strerror(errno));
	}
	close(fd);
	return 0;
}

/* The first fd of img holding f's file (same dev and ino), below f. */
static const struct img_fd *
first_of(const struct img *img, const struct img_fd *f)
{
	uint32_t	i;

	for (i = 0; i < img->nfds && &img->fds[i] != f; i++) {
		if (img->fds[i].kind == f->kind && img->fds[i].dev == f->dev &&
		    img->fds[i].ino == f->ino && img->fds[i].fd < f->fd)
			return &img->fds[i];
	}
	return NULL;
}

/*
 * Open f's own description of a file pid holds at fd src (memfd, deleted
 * file): through /proc/self/fd, with f's access mode and flags.
 */
static int
reopen(struct inject *in, int src, const struct img_fd *f, long *tfd,
    char **cause)
{
	char	path[64];
	int	oflags;

	snprintf(path, sizeof path, "/proc/self/fd/%d", src);
	oflags = (int)(f->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK |
	    O_NOATIME | O_DIRECT | O_LARGEFILE)) | O_CLOEXEC;
	if (inject_write(in, SCR_STR, path, strlen(path) + 1, cause) == -1)
		return -1;
	return RCALL(in, tfd, cause, f->fd, "reopening", SYS_open,
	    inject_scratch(in) + SCR_STR, oflags, 0);
}

/*
 * A memfd or an O_TMPFILE, made, filled, sealed and placed. pre: the memfd
 * was made and filled already, at f->fd (ckpt_memfd_early).
 */
static int
restore_content(pid_t pid, struct inject *in, const struct img *img,
    const struct img_fd *f, int pre, char **cause)
{
	const struct img_fd	*first = first_of(img, f);
	char			*dir, *slash;
	long			 tfd, ret, nfd;
	int			 rv;

	if (pre) {
		tfd = f->fd;
		goto filled;
	}
	if (first != NULL) {
		/* the same file, another open file description */
		if (reopen(in, first->fd, f, &tfd, cause) == -1)
			return -1;
		goto seek;
	}
	if (f->datalen != f->size)
		return cause_set(cause, "fd %d: %s: the image has no content for "
		    "it", f->fd, f->path);
	if (f->kind == IMG_FD_MEMFD) {
		if (inject_write(in, SCR_STR, f->path, strlen(f->path) + 1,
		    cause) == -1 ||
		    RCALL(in, &tfd, cause, f->fd, "memfd_create", SYS_memfd_create,
		    inject_scratch(in) + SCR_STR, MFD_CLOEXEC |
		    MFD_ALLOW_SEALING) == -1)
			return -1;
	} else {
		dir = xstrdup(f->path);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		rv = inject_write(in, SCR_STR, dir, strlen(dir) + 1, cause);
		if (rv == 0)
			rv = INJECT(in, &tfd, cause, SYS_open, inject_scratch(in) +
			    SCR_STR, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (rv == 0 && tfd < 0 && tfd > -4096)
			rv = cause_set(cause, "fd %d: deleted file %s: an O_TMPFILE "
			    "in %s: %s", f->fd, f->path, dir, strerror((int)-tfd));
		free(dir);
		if (rv == -1)
			return -1;
	}
	if (fill(pid, tfd, f, cause) == -1)
		return -1;
filled:
	if ((f->flags & O_ACCMODE) != O_RDWR) {
		if (reopen(in, (int)tfd, f, &nfd, cause) == -1)
			return -1;
		if (INJECT(in, &ret, cause, SYS_close, tfd) == -1)
			return -1;
		tfd = nfd;
	}
	if (f->kind == IMG_FD_DELETED &&
	    RCALL(in, &ret, cause, f->fd, "fchmod", SYS_fchmod, tfd,
	    f->mode & 07777) == -1)
		return -1;
	if (f->kind == IMG_FD_MEMFD && f->extra != 0 &&
	    RCALL(in, &ret, cause, f->fd, "F_ADD_SEALS", SYS_fcntl, tfd,
	    F_ADD_SEALS, f->extra) == -1)
		return -1;
seek:
	if (RCALL(in, &ret, cause, f->fd, "F_SETFL", SYS_fcntl, tfd, F_SETFL,
	    f->flags & FD_SETFL & ~O_ASYNC) == -1)
		return -1;
	if (f->pos != 0 && RCALL(in, &ret, cause, f->fd, "lseek", SYS_lseek,
	    tfd, f->pos, SEEK_SET) == -1)
		return -1;
	return place(in, tfd, f, cause);
}

const struct img_fd *
ckpt_memfd_of(const struct img *img, const struct img_vma *v)
{
	uint32_t	i;

	for (i = 0; i < img->nfds; i++) {
		if (img->fds[i].kind == IMG_FD_MEMFD && img->fds[i].dev == v->dev &&
		    img->fds[i].ino == v->ino && img->fds[i].datalen ==
		    img->fds[i].size && first_of(img, &img->fds[i]) == NULL)
			return &img->fds[i];
	}
	return NULL;
}

int
ckpt_memfd_early(pid_t pid, struct inject *in, const struct img_fd *f,
    char **cause)
{
	long	tfd;

	if (inject_write(in, SCR_STR, f->path, strlen(f->path) + 1,
	    cause) == -1 ||
	    RCALL(in, &tfd, cause, f->fd, "memfd_create", SYS_memfd_create,
	    inject_scratch(in) + SCR_STR, MFD_CLOEXEC | MFD_ALLOW_SEALING) == -1)
		return -1;
	if (fill(pid, tfd, f, cause) == -1)
		return -1;
	return place(in, tfd, f, cause);
}

int
ckpt_fdkind_restore(pid_t pid, struct inject *in, const struct img *img,
    const struct img_fd *f, int pre, char **cause)
{
	uint64_t	scr = inject_scratch(in);
	long		tfd, ret;
	int		nb = (f->flags & O_NONBLOCK) != 0;

	switch (f->kind) {
	case IMG_FD_EVENTFD:
		if (RCALL(in, &tfd, cause, f->fd, "eventfd2", SYS_eventfd2, 0,
		    O_CLOEXEC | (nb ? O_NONBLOCK : 0) |
		    ((f->extra & IMG_EFD_SEMAPHORE) ? 1 : 0)) == -1)
			return -1;
		if (f->value != 0 && (inject_write(in, SCR_MISC, &f->value, 8,
		    cause) == -1 || RCALL(in, &ret, cause, f->fd,
		    "setting the eventfd counter", SYS_write, tfd, scr + SCR_MISC,
		    8) == -1))
			return -1;
		return place(in, tfd, f, cause);
	case IMG_FD_SIGNALFD:
		if (inject_write(in, SCR_MISC, &f->value, 8, cause) == -1 ||
		    RCALL(in, &tfd, cause, f->fd, "signalfd4", SYS_signalfd4, -1,
		    scr + SCR_MISC, 8, O_CLOEXEC | (nb ? O_NONBLOCK : 0)) == -1)
			return -1;
		return place(in, tfd, f, cause);
	case IMG_FD_EPOLL:
		/* its interest list once every target exists: ckpt_epoll_fill */
		if (RCALL(in, &tfd, cause, f->fd, "epoll_create1",
		    SYS_epoll_create1, O_CLOEXEC) == -1)
			return -1;
		return place(in, tfd, f, cause);
	case IMG_FD_OPATH:
		if (inject_write(in, SCR_STR, f->path, strlen(f->path) + 1,
		    cause) == -1 ||
		    RCALL(in, &tfd, cause, f->fd, "open O_PATH", SYS_open,
		    scr + SCR_STR, (f->flags & (O_PATH | O_NOFOLLOW |
		    O_DIRECTORY)) | O_PATH | O_CLOEXEC, 0) == -1)
			return -1;
		return place(in, tfd, f, cause);
	case IMG_FD_MEMFD:
	case IMG_FD_DELETED:
		return restore_content(pid, in, img, f, pre, cause);
	default:
		return cause_set(cause, "fd %d: kind %u is not one of these",
		    f->fd, f->kind);
	}
}

int
ckpt_epoll_fill(struct inject *in, const struct img_fd *f, char **cause)
{
	uint8_t		ev[12];
	uint32_t	i;
	long		ret;
	char		what[64];

	for (i = 0; i < f->nwatch; i++) {
		/* struct epoll_event is packed on x86-64: 4 + 8 bytes */
		memcpy(ev, &f->watch[i].events, 4);
		memcpy(ev + 4, &f->watch[i].data, 8);
		snprintf(what, sizeof what, "epoll_ctl ADD fd %d",
		    f->watch[i].fd);
		if (inject_write(in, SCR_MISC, ev, sizeof ev, cause) == -1 ||
		    RCALL(in, &ret, cause, f->fd, what, SYS_epoll_ctl, f->fd,
		    1 /* EPOLL_CTL_ADD */, f->watch[i].fd, inject_scratch(in) +
		    SCR_MISC) == -1)
			return -1;
	}
	return 0;
}
