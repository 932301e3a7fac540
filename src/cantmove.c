/*
 * cantmove.c: why a process cannot be checkpointed, read from /proc alone.
 *
 * The engine moves a process (a checkpoint takes all its threads, a
 * migration only a single-threaded one) whose memory is private
 * (anonymous or file-backed) or shared with a regular file, and whose fds
 * can be reopened by path. Everything else is refused up front, naming the
 * thread count, mapping or fd, rather than producing an image that would
 * restore into something subtly different.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/ckpt.h"
#include "omm/log.h"
#include "omm/plocks.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/* Kernel-provided mappings, named in brackets by maps. */
static const struct {
	const char	*name;
	uint32_t	 flags;
} special_table[] = {
	{ "[heap]", IMG_VMA_HEAP },
	{ "[stack]", IMG_VMA_STACK },
	{ "[vdso]", IMG_VMA_VDSO },
	{ "[vvar]", IMG_VMA_VVAR },
	{ "[vvar_vclock]", IMG_VMA_VVAR },
	{ "[vsyscall]", IMG_VMA_VSYSCALL },
};

static int
ends_with(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Shared anonymous memory is backed by an unlinked shmem file. */
static int
is_shared_anon(const struct procfs_vma *v)
{
	const char	*path = v->path;

	return v->shared && (path[0] == '\0' ||
	    strcmp(path, "/dev/zero (deleted)") == 0 ||
	    strncmp(path, "[anon_shmem:", 12) == 0);
}

/* The pid of another process mapping the same object as v, or 0. */
static pid_t
mapped_elsewhere(pid_t pid, const struct procfs_vma *v)
{
	struct procfs_vma	*vmas;
	struct dirent		*de;
	DIR			*proc;
	char			*end;
	size_t			 n, i;
	long			 p;
	pid_t			 found = 0;

	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (de = readdir(proc)) != NULL) {
		p = strtol(de->d_name, &end, 10);
		if (*end != '\0' || p <= 0 || p == pid)
			continue;
		if (procfs_maps((pid_t)p, 0, &vmas, &n, NULL) == -1)
			continue;
		for (i = 0; i < n; i++) {
			if (vmas[i].shared && vmas[i].ino == v->ino &&
			    vmas[i].dev_major == v->dev_major &&
			    vmas[i].dev_minor == v->dev_minor) {
				found = (pid_t)p;
				break;
			}
		}
		procfs_vmas_free(vmas, n);
	}
	closedir(proc);
	return found;
}

int
ckpt_vmas_aliased(const struct procfs_vma *v, size_t n, char **why)
{
	uint64_t	ai, aj, bi, bj;
	size_t		i, j;

	for (i = 0; i < n; i++) {
		if (!is_shared_anon(&v[i]) || strncmp(v[i].path, "/SYSV", 5) == 0)
			continue;
		ai = v[i].pgoff;
		bi = ai + (v[i].end - v[i].start);
		for (j = i + 1; j < n; j++) {
			if (!is_shared_anon(&v[j]) || v[j].ino != v[i].ino ||
			    v[j].dev_major != v[i].dev_major ||
			    v[j].dev_minor != v[i].dev_minor)
				continue;
			aj = v[j].pgoff;
			bj = aj + (v[j].end - v[j].start);
			if (ai < bj && aj < bi)
				return cause_set(why, "shared anonymous memory "
				    "mapped twice, at %#" PRIx64 " and %#" PRIx64,
				    v[i].start, v[j].start);
		}
	}
	return 0;
}

/* A memfd: an unlinked shmem file named "/memfd:NAME (deleted)". */
static int
is_memfd(const struct procfs_vma *v)
{
	return strncmp(v->path, "/memfd:", 7) == 0 &&
	    ends_with(v->path, " (deleted)");
}

/* The lowest fd of pid on the file v maps (its stat in *st), or -1. */
static int
memfd_held(pid_t pid, const struct procfs_vma *v, struct stat *st)
{
	char	 name[64];
	int	*fds, fd = -1;
	size_t	 n, i;

	if (procfs_fds(pid, &fds, &n, NULL) == -1)
		return -1;
	for (i = 0; i < n && fd == -1; i++) {
		snprintf(name, sizeof name, "/proc/%ld/fd/%d", (long)pid, fds[i]);
		if (stat(name, st) == 0 && st->st_ino == v->ino &&
		    major(st->st_dev) == v->dev_major &&
		    minor(st->st_dev) == v->dev_minor)
			fd = fds[i];
	}
	free(fds);
	return fd;
}

/* Another mapping of pid's of the same file as v, or 0. */
static uint64_t
memfd_mapped_twice(pid_t pid, const struct procfs_vma *v)
{
	struct procfs_vma	*vmas;
	size_t			 n, i;
	uint64_t		 at = 0;

	if (procfs_maps(pid, 0, &vmas, &n, NULL) == -1)
		return 0;
	for (i = 0; i < n && at == 0; i++) {
		if (vmas[i].start != v->start && vmas[i].ino == v->ino &&
		    vmas[i].dev_major == v->dev_major &&
		    vmas[i].dev_minor == v->dev_minor)
			at = vmas[i].start;
	}
	procfs_vmas_free(vmas, n);
	return at;
}

/*
 * A mapping of a memfd. Shared, with an fd of the memfd in the process: a
 * checkpoint maps it from the restored memfd (IMG_VMA_MEMFD: one file, the
 * fd's writes show in the mapping); a migration cannot (the fd stays home,
 * the mapping would go). Shared without one: shared anonymous memory under
 * another name, carried as such (pages stored, mapped shared again, or
 * private on a guest), as long as it is mapped once.
 */
static int
memfd_vma_kind(pid_t pid, const struct procfs_vma *v, int migrate,
    uint32_t *flags, struct stat *st, char **why)
{
	int		 name = (int)(strlen(v->path) - 7 - 10);
	const char	*p = v->path + 7;
	uint64_t	 at;
	pid_t		 other;
	int		 fd;

	if (!v->shared)
		return cause_set(why, "private mapping %#" PRIx64 "-%#" PRIx64
		    " of memfd %.*s", v->start, v->end, name, p);
	if ((other = mapped_elsewhere(pid, v)) != 0)
		return cause_set(why, "memfd %.*s mapping %#" PRIx64 "-%#" PRIx64
		    " also mapped by process %ld", name, p, v->start, v->end,
		    (long)other);
	if ((fd = memfd_held(pid, v, st)) == -1) {
		if ((at = memfd_mapped_twice(pid, v)) != 0)
			return cause_set(why, "memfd %.*s mapped twice, at %#"
			    PRIx64 " and %#" PRIx64 ", and no fd of it held",
			    name, p, v->start, at);
		*flags = IMG_VMA_SHARED;
		return 0;
	}
	if (migrate)
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of memfd "
		    "%.*s, which fd %d holds (the fd would stay home, the "
		    "mapping go)", v->start, v->end, name, p, fd);
	*flags = IMG_VMA_SHARED | IMG_VMA_MEMFD;
	return 0;
}

int
ckpt_vma_kind_proc(pid_t pid, const struct procfs_vma *v, int migrate,
    uint32_t *flags, struct stat *st, char **why)
{
	pid_t	other;

	if (is_memfd(v))
		return memfd_vma_kind(pid, v, migrate, flags, st, why);

	if (is_shared_anon(v) && strncmp(v->path, "/SYSV", 5) != 0) {
		if ((other = mapped_elsewhere(pid, v)) != 0)
			return cause_set(why, "shared anonymous mapping %#" PRIx64
			    "-%#" PRIx64 " also mapped by process %ld", v->start,
			    v->end, (long)other);
		*flags = IMG_VMA_SHARED;
		return 0;
	}
	if (ckpt_vma_kind(v, flags, st, why) == -1)
		return -1;
	if (migrate && (*flags & IMG_VMA_SHARED) && (*flags & IMG_VMA_FILE) &&
	    (v->prot & PROT_WRITE))
		return cause_set(why, "writable shared mapping %#" PRIx64 "-%#"
		    PRIx64 " of %s (its writes must reach the file at home)",
		    v->start, v->end, v->path);
	return 0;
}

int
ckpt_vma_kind(const struct procfs_vma *v, uint32_t *flags, struct stat *st,
    char **why)
{
	const char	*path = v->path;
	size_t		 i;

	*flags = v->shared ? IMG_VMA_SHARED : 0;
	/* The kernel's own mappings ([vvar] is a pfn map) come back by name. */
	for (i = 0; i < sizeof special_table / sizeof special_table[0]; i++) {
		if (strcmp(path, special_table[i].name) == 0) {
			*flags |= special_table[i].flags;
			return 0;
		}
	}
	if (v->vmflags & (PROCFS_VMF_IO | PROCFS_VMF_PF))
		return cause_set(why, "device memory mapping %#" PRIx64 "-%#"
		    PRIx64 " (%s)", v->start, v->end, path);
	if (v->vmflags & PROCFS_VMF_UF)
		return cause_set(why, "userfaultfd-registered mapping %#" PRIx64
		    "-%#" PRIx64, v->start, v->end);
	if (v->vmflags & PROCFS_VMF_SS)
		return cause_set(why, "shadow stack %#" PRIx64 "-%#" PRIx64,
		    v->start, v->end);
	if (strncmp(path, "/SYSV", 5) == 0 && ends_with(path, " (deleted)"))
		return cause_set(why, "SysV shared memory segment at %#" PRIx64,
		    v->start);
	if (is_shared_anon(v))
		return cause_set(why, "shared anonymous mapping %#" PRIx64 "-%#"
		    PRIx64, v->start, v->end);
	if (path[0] == '\0' || strncmp(path, "[anon:", 6) == 0)
		return 0;
	if (path[0] == '[')
		return cause_set(why, "special mapping %s at %#" PRIx64, path,
		    v->start);
	if (ends_with(path, " (deleted)"))
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of "
		    "deleted file %.*s", v->start, v->end,
		    (int)(strlen(path) - 10), path);
	if (path[0] != '/')
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of %s",
		    v->start, v->end, path);
	if (stat(path, st) == -1)
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of %s: "
		    "%s", v->start, v->end, path, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of %s: "
		    "not a regular file", v->start, v->end, path);
	if (st->st_ino != v->ino || major(st->st_dev) != v->dev_major ||
	    minor(st->st_dev) != v->dev_minor)
		return cause_set(why, "mapping %#" PRIx64 "-%#" PRIx64 " of %s: "
		    "the file was replaced since it was mapped", v->start, v->end,
		    path);
	*flags |= IMG_VMA_FILE;
	return 0;
}

/* Character devices a restore can simply reopen by path. */
static const struct {
	unsigned int	major, minor;
} dev_table[] = {
	{ 1, 3 },	/* null */
	{ 1, 5 },	/* zero */
	{ 1, 7 },	/* full */
	{ 1, 8 },	/* random */
	{ 1, 9 },	/* urandom */
	{ 5, 0 },	/* tty */
};

/* Terminals: virtual consoles and serial lines, /dev/console, pty slaves. */
static int
is_terminal(dev_t rdev)
{
	unsigned int	ma = major(rdev);

	return ma == 4 || (ma == 5 && minor(rdev) == 1) ||
	    (ma >= 136 && ma <= 143);
}

/* Descriptors of the kernel's anonymous inodes, by their link. */
static const struct {
	const char		*link;
	enum img_fd_kind	 kind;		/* 0: refused */
	const char		*why;		/* of a refusal */
} anon_table[] = {
	{ "anon_inode:[eventfd]", IMG_FD_EVENTFD, NULL },
	{ "anon_inode:[signalfd]", IMG_FD_SIGNALFD, NULL },
	{ "anon_inode:[eventpoll]", IMG_FD_EPOLL, NULL },
	{ "anon_inode:[pidfd]", 0, "pidfd (a restored process would "
	    "name another process by it)" },
	{ "anon_inode:inotify", 0, "inotify (its watches are not carried)" },
	{ "anon_inode:[timerfd]", 0, "timerfd (not carried by a checkpoint)" },
	{ "anon_inode:[userfaultfd]", 0, "userfaultfd" },
	{ "anon_inode:[io_uring]", 0, "io_uring" },
	{ "anon_inode:[fanotify]", 0, "fanotify" },
	{ "anon_inode:bpf-map", 0, "BPF map" },
	{ "anon_inode:[perf_event]", 0, "perf event" },
};

int
ckpt_fd_kind(int fd, const char *link, const struct stat *st, uint32_t flags,
    enum img_fd_kind *kind, char **why)
{
	size_t	i;

	if (strncmp(link, "anon_inode:", 11) == 0) {
		for (i = 0; i < sizeof anon_table / sizeof anon_table[0]; i++) {
			if (strcmp(link, anon_table[i].link) != 0)
				continue;
			if (anon_table[i].kind == 0)
				return cause_set(why, "fd %d: %s", fd,
				    anon_table[i].why);
			*kind = anon_table[i].kind;
			return 0;
		}
		return cause_set(why, "fd %d: %s", fd, link);
	}
	/* A memfd is an unlinked shmem file named "/memfd:NAME (deleted)". */
	if (S_ISREG(st->st_mode) && strncmp(link, "/memfd:", 7) == 0 &&
	    ends_with(link, " (deleted)") && st->st_nlink == 0) {
		*kind = IMG_FD_MEMFD;
		return 0;
	}
	/* O_PATH names an object without opening it: any type reopens so. */
	if ((flags & O_PATH) && link[0] == '/' && st->st_nlink > 0 &&
	    !ends_with(link, " (deleted)")) {
		*kind = IMG_FD_OPATH;
		return 0;
	}
	if (S_ISREG(st->st_mode) && (flags & O_PATH) == 0 && link[0] == '/' &&
	    st->st_nlink == 0 && ends_with(link, " (deleted)")) {
		*kind = IMG_FD_DELETED;
		return 0;
	}
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if (ends_with(link, " (deleted)") || st->st_nlink == 0)
			return cause_set(why, "fd %d: deleted %s %s%s", fd,
			    S_ISDIR(st->st_mode) ? "directory" : "file", link,
			    st->st_nlink > 0 ? " (still linked elsewhere)" : "");
		if (link[0] != '/')
			return cause_set(why, "fd %d: %s", fd, link);
		*kind = IMG_FD_FILE;
		return 0;
	}
	if (S_ISCHR(st->st_mode)) {
		for (i = 0; i < sizeof dev_table / sizeof dev_table[0]; i++) {
			if (major(st->st_rdev) == dev_table[i].major &&
			    minor(st->st_rdev) == dev_table[i].minor) {
				*kind = IMG_FD_DEV;
				return 0;
			}
		}
		if (is_terminal(st->st_rdev)) {
			if (fd <= 2) {
				*kind = IMG_FD_STDIO;
				return 0;
			}
			return cause_set(why, "fd %d: terminal %s", fd, link);
		}
		return cause_set(why, "fd %d: character device %s", fd, link);
	}
	if (S_ISFIFO(st->st_mode)) {
		if (fd <= 2) {
			*kind = IMG_FD_STDIO;
			return 0;
		}
		if (link[0] == '/')
			return cause_set(why, "fd %d: fifo %s", fd, link);
		/* Only a self-pipe can move: ckpt_pipes_check decides. */
		*kind = IMG_FD_PIPE;
		return 0;
	}
	if (S_ISSOCK(st->st_mode))
		return cause_set(why, "fd %d: socket", fd);
	if (S_ISBLK(st->st_mode))
		return cause_set(why, "fd %d: block device %s", fd, link);
	return cause_set(why, "fd %d: %s", fd, link);
}

/* Does a process other than pid hold an fd on pipe ino? */
static int
pipe_elsewhere(pid_t pid, uint64_t ino)
{
	char		 want[64], path[320], buf[64], *end;
	DIR		*proc, *fdd;
	struct dirent	*de, *fe;
	ssize_t		 n;
	long		 p;
	int		 found = 0;

	snprintf(want, sizeof want, "pipe:[%" PRIu64 "]", ino);
	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (!found && (de = readdir(proc)) != NULL) {
		p = strtol(de->d_name, &end, 10);
		if (*end != '\0' || p <= 0 || p == pid)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", p);
		if ((fdd = opendir(path)) == NULL)
			continue;
		while ((fe = readdir(fdd)) != NULL) {
			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/%ld/fd/%s", p, fe->d_name);
			n = readlink(path, buf, sizeof buf - 1);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			if (strcmp(buf, want) == 0) {
				found = 1;
				break;
			}
		}
		closedir(fdd);
	}
	closedir(proc);
	return found;
}

/* Bytes buffered in the pipe of pid's fd (a read end), or -1. */
static int
pipe_unread(pid_t pid, int fd)
{
	char	path[64];
	int	pfd, n = -1;

	snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)pid, fd);
	if ((pfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (ioctl(pfd, FIONREAD, &n) == -1)
		n = -1;
	close(pfd);
	return n;
}

int
ckpt_pipes_check(pid_t pid, const struct ckpt_pipe_end *e, size_t n,
    char **why)
{
	size_t	i, j;
	int	r, w, unread;

	for (i = 0; i < n; i++) {
		r = w = 0;
		for (j = 0; j < n; j++) {
			if (e[j].ino != e[i].ino)
				continue;
			if (e[j].write)
				w = 1;
			else
				r = 1;
		}
		if (!r || !w)
			return cause_set(why, "fd %d: pipe", e[i].fd);
		if (!e[i].write && (unread = pipe_unread(pid, e[i].fd)) != 0)
			return cause_set(why, "fd %d: pipe with %d unread bytes",
			    e[i].fd, unread);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (e[j].ino == e[i].ino)
				break;
		}
		if (j == i && pipe_elsewhere(pid, e[i].ino))
			return cause_set(why, "fd %d: pipe shared with another "
			    "process", e[i].fd);
	}
	return 0;
}

/*
 * What the dump would say of the details of an fd of a newer kind; seen
 * (*nseen entries) the memfds and deleted files met so far, whose first
 * fd carries the content.
 */
static void
fd_details_check(pid_t pid, int fd, enum img_fd_kind kind, uint32_t flags,
    const char *link, const struct stat *st, struct stat **seen,
    size_t *nseen, char **why)
{
	struct img_fd	f;
	size_t		i;
	int		how = 0;

	memset(&f, 0, sizeof f);
	f.fd = fd;
	f.kind = kind;
	f.flags = flags;
	if (kind == IMG_FD_MEMFD || kind == IMG_FD_DELETED) {
		how = CKPT_FDD_CARRIER;
		for (i = 0; i < *nseen; i++) {
			if ((*seen)[i].st_dev == st->st_dev &&
			    (*seen)[i].st_ino == st->st_ino)
				how = 0;
		}
		if (how != 0) {
			*seen = xreallocarray(*seen, *nseen + 1, sizeof **seen);
			(*seen)[(*nseen)++] = *st;
		}
	}
	(void)ckpt_fd_details(pid, &f, link, how, why);
	free(f.path);
	free(f.watch);
	free(f.data);
}

static char *
cantmove_fds(pid_t pid)
{
	struct ckpt_pipe_end	*ends = NULL;
	struct procfs_fdinfo	 fi;
	char			 name[64], *link, *why = NULL;
	int			*fds;
	size_t			 n, i, nends = 0, nseen = 0;
	struct stat		 st, *seen = NULL;
	enum img_fd_kind	 kind;

	if (procfs_fds(pid, &fds, &n, &why) == -1)
		return why;
	for (i = 0; i < n && why == NULL; i++) {
		snprintf(name, sizeof name, "fd/%d", fds[i]);
		if (procfs_link(pid, name, &link, NULL) == -1)
			continue;	/* closed meanwhile */
		snprintf(name, sizeof name, "/proc/%ld/fd/%d", (long)pid, fds[i]);
		if (stat(name, &st) == -1) {
			if (errno != ENOENT)
				xasprintf(&why, "fd %d: %s: %s", fds[i], link,
				    strerror(errno));
			free(link);
			continue;
		}
		if (procfs_fdinfo(pid, fds[i], &fi, NULL) == -1) {
			free(link);
			continue;	/* closed meanwhile */
		}
		if (ckpt_fd_kind(fds[i], link, &st, fi.flags, &kind, &why) == -1) {
			free(link);
			continue;
		}
		if (fi.flags & O_ASYNC)
			xasprintf(&why, "fd %d: %s: signal-driven I/O (O_ASYNC) "
			    "is not carried", fds[i], link);
		else if (kind == IMG_FD_PIPE) {
			ends = xreallocarray(ends, nends + 1, sizeof *ends);
			ends[nends].fd = fds[i];
			ends[nends].ino = st.st_ino;
			ends[nends].write = (fi.flags & O_ACCMODE) == O_WRONLY;
			nends++;
		} else if (kind >= IMG_FD_EVENTFD)
			fd_details_check(pid, fds[i], kind, fi.flags, link, &st,
			    &seen, &nseen, &why);
		free(link);
	}
	free(fds);
	free(seen);
	if (why == NULL && nends > 0)
		(void)ckpt_pipes_check(pid, ends, nends, &why);
	free(ends);
	return why;
}

/*
 * A child of pid (running, or exited and not waited for), or 0. The image
 * is of one process: restored alone it has no children, and its wait()
 * fails with ECHILD. /proc/PID/task/PID/children where the kernel has it
 * (CONFIG_PROC_CHILDREN), else every process's parent from its stat.
 */
static pid_t
child_of(pid_t pid, int *zombie)
{
	struct dirent	*de;
	DIR		*proc;
	char		 path[64], buf[512], *p, *end;
	FILE		*f;
	long		 c, pp;
	pid_t		 found = 0;

	*zombie = 0;
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((f = fopen(path, "re")) != NULL) {
		if (fscanf(f, "%ld", &c) == 1)
			found = (pid_t)c;
		fclose(f);
		if (found == 0)
			return 0;
	} else if ((proc = opendir("/proc")) != NULL) {
		while (found == 0 && (de = readdir(proc)) != NULL) {
			c = strtol(de->d_name, &end, 10);
			if (*end != '\0' || c <= 0)
				continue;
			snprintf(path, sizeof path, "/proc/%ld/stat", c);
			if ((f = fopen(path, "re")) == NULL)
				continue;
			p = fgets(buf, sizeof buf, f);
			fclose(f);
			if (p == NULL || (p = strrchr(buf, ')')) == NULL)
				continue;
			if (sscanf(p + 1, " %*c %ld", &pp) == 1 && pp == pid)
				found = (pid_t)c;
		}
		closedir(proc);
	}
	if (found != 0) {
		snprintf(path, sizeof path, "/proc/%ld/stat", (long)found);
		if ((f = fopen(path, "re")) != NULL) {
			if (fgets(buf, sizeof buf, f) != NULL &&
			    (p = strrchr(buf, ')')) != NULL && p[1] == ' ')
				*zombie = p[2] == 'Z' || p[2] == 'X';
			fclose(f);
		}
	}
	return found;
}

const struct ckpt_origin *
ckpt_origin_of(const struct ckpt_origins *o, const struct procfs_vma *v)
{
	size_t	i;

	if (o == NULL || v->ino == 0)
		return NULL;
	for (i = 0; i < o->n; i++) {
		if (o->v[i].lino == v->ino &&
		    major(o->v[i].ldev) == v->dev_major &&
		    minor(o->v[i].ldev) == v->dev_minor)
			return &o->v[i];
	}
	return NULL;
}

/* The task-wide reasons and the mappings; fds are the caller's. */
static char *
cantmove_task(pid_t pid, int migrate, const struct ckpt_origins *origins)
{
	struct procfs_status	 s;
	struct procfs_vma	*vmas;
	struct stat		 st;
	size_t			 n, i;
	uint32_t		 flags;
	char			*why = NULL;

	if (procfs_status(pid, &s, &why) == -1) {
		if (kill(pid, 0) == -1 && errno == ESRCH) {
			free(why);
			why = xstrdup("no such process");
		}
		return why;
	}
	/*
	 * Interval timers show only to the process: the dump reads them. A
	 * POSIX timer that cannot be carried is named before the threads
	 * count: SIGEV_THREAD is what starts glibc's helper thread.
	 */
	if ((why = ckpt_timers_why(pid)) != NULL)
		return why;
	/* a checkpoint takes every thread; a guest has one (issue 12, stage 2) */
	if (migrate && s.threads > 1) {
		xasprintf(&why, "multi-threaded (%" PRId64 " threads): only a "
		    "checkpoint takes threads, migration does not yet",
		    s.threads);
		return why;
	}
	if (s.state == 'T')
		return xstrdup("stopped by a signal (group-stop)");
	if (s.state == 'Z' || s.state == 'X')
		return xstrdup("exited (zombie)");
	/*
	 * The breakpoint ending every injected call raises a SIGTRAP the
	 * kernel forces through: an ignored SIGTRAP is reset to the default
	 * on the way. Refused rather than changed under the process.
	 */
	if (s.sig_ign & (1ULL << (SIGTRAP - 1)))
		return xstrdup("ignores SIGTRAP (an injected call would reset "
		    "it to the default action)");
	/*
	 * A migration leaves the original home, parent of its children; an
	 * image restored elsewhere has none (issue 10: refuse, or take the
	 * tree; trees are not taken).
	 */
	if (!migrate) {
		int	zombie;
		pid_t	c;

		if ((c = child_of(pid, &zombie)) != 0) {
			if (zombie)
				xasprintf(&why, "has child %ld (exited, not waited "
				    "for)", (long)c);
			else
				xasprintf(&why, "has live child %ld", (long)c);
			return why;
		}
		if ((why = ckpt_locks_held(pid)) != NULL)
			return why;
	}
	if (procfs_maps(pid, 0, &vmas, &n, &why) == -1)
		return why;
	for (i = 0; i < n && why == NULL; i++) {
		if (ckpt_origin_of(origins, &vmas[i]) != NULL)
			continue;
		(void)ckpt_vma_kind_proc(pid, &vmas[i], migrate, &flags, &st,
		    &why);
	}
	if (why == NULL)
		(void)ckpt_vmas_aliased(vmas, n, &why);
	procfs_vmas_free(vmas, n);
	return why;
}

/*
 * OFD locks, flock()s and leases belong to an open file: a restore opens
 * the file anew, without them. Any "lock:" line of a descriptor's fdinfo
 * is its open file's (fs/locks.c shows only those).
 */
static char *
file_locks_held(pid_t pid)
{
	char	 name[64], kind[16], type[16], *text, *line, *why = NULL;
	int	*fds;
	size_t	 nfds, i;

	if (procfs_fds(pid, &fds, &nfds, &why) == -1)
		return why;
	for (i = 0; i < nfds && why == NULL; i++) {
		snprintf(name, sizeof name, "fdinfo/%d", fds[i]);
		if (procfs_slurp(pid, name, &text, NULL, &why) == -1) {
			free(why);	/* closed since the listing */
			why = NULL;
			continue;
		}
		for (line = strstr(text, "lock:\t"); line != NULL && why == NULL;
		    line = strstr(line + 1, "lock:\t")) {
			if (sscanf(line, "lock:\t%*d: %15s %*s %15s", kind,
			    type) != 2 || strcmp(kind, "POSIX") == 0)
				continue;
			for (char *c = type; *c != '\0'; c++)
				*c = (char)tolower((unsigned char)*c);
			xasprintf(&why, "fd %d holds a%s %s %s lock (an image "
			    "does not carry file locks)", fds[i],
			    strcmp(kind, "OFDLCK") == 0 ? "n" : "",
			    strcmp(kind, "OFDLCK") == 0 ? "OFD" :
			    strcmp(kind, "FLOCK") == 0 ? "flock()" : kind, type);
		}
		free(text);
	}
	free(fds);
	return why;
}

char *
ckpt_locks_held(pid_t pid)
{
	struct plock	*locks = NULL;
	size_t		 n = 0;
	char		 what[400], *why = NULL;

	if (plocks_of(pid, &locks, &n, &why) == -1)
		return why;
	if (n > 0) {
		plock_describe(pid, &locks[0], what, sizeof what);
		xasprintf(&why, "holds a POSIX %s (an image does not carry "
		    "record locks; a migration does)", what);
	}
	free(locks);
	if (why == NULL)
		why = file_locks_held(pid);
	return why;
}

char *
ckpt_cantmove(pid_t pid)
{
	char	*why;

	if ((why = cantmove_task(pid, 0, NULL)) != NULL)
		return why;
	return cantmove_fds(pid);
}

/*
 * Descriptors that stay home with the deputy but would not work there: a
 * signalfd reads the signals queued to the deputy, while the process's
 * signals are delivered to it on the host, so it would never see one.
 */
static char *
cantmigrate_fds(pid_t pid)
{
	char	 name[64], *link, *why = NULL;
	int	*fds;
	size_t	 n, i;

	if (procfs_fds(pid, &fds, &n, &why) == -1)
		return why;
	for (i = 0; i < n && why == NULL; i++) {
		snprintf(name, sizeof name, "fd/%d", fds[i]);
		if (procfs_link(pid, name, &link, NULL) == -1)
			continue;	/* closed meanwhile */
		if (strcmp(link, "anon_inode:[signalfd]") == 0)
			xasprintf(&why, "fd %d: signalfd (it would stay home "
			    "while the signals it reads go to the process on "
			    "the host)", fds[i]);
		free(link);
	}
	free(fds);
	return why;
}

char *
ckpt_cantmigrate(pid_t pid)
{
	char	*why;

	if ((why = cantmove_task(pid, 1, NULL)) != NULL)
		return why;
	return cantmigrate_fds(pid);
}

/*
 * A guest has no signalfd to refuse (one made while away brings it home):
 * its descriptors on the host are only those its server placed.
 */
char *
ckpt_cantmigrate_guest(pid_t pid, const struct ckpt_origins *origins)
{
	return cantmove_task(pid, 1, origins);
}

char *
ckpt_cantwhy(pid_t pid)
{
	char	*m, *c, *why;

	m = ckpt_cantmigrate(pid);
	c = ckpt_cantmove(pid);
	if (m == NULL && c == NULL)
		return NULL;
	if (m != NULL && c != NULL && strcmp(m, c) == 0) {
		free(c);
		return m;
	}
	if (m == NULL) {
		xasprintf(&why, "checkpoint: %s", c);
		free(c);
		return why;
	}
	if (c == NULL)
		return m;
	xasprintf(&why, "%s; checkpoint: %s", m, c);
	free(m);
	free(c);
	return why;
}
