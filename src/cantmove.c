/*
 * cantmove.c: why a process cannot be checkpointed, read from /proc alone.
 *
 * The engine moves a single-threaded process whose memory is private
 * (anonymous or file-backed) or shared with a regular file, and whose fds
 * can be reopened by path. Everything else is refused up front, naming the
 * thread count, mapping or fd, rather than producing an image that would
 * restore into something subtly different.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omm/ckpt.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

double
ckpt_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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
	/* Shared anonymous memory is backed by an unlinked shmem file. */
	if (v->shared && (path[0] == '\0' || strcmp(path, "/dev/zero (deleted)") == 0 ||
	    strncmp(path, "[anon_shmem:", 12) == 0))
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

int
ckpt_fd_kind(int fd, const char *link, const struct stat *st,
    enum img_fd_kind *kind, char **why)
{
	size_t	i;

	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		if (ends_with(link, " (deleted)") || st->st_nlink == 0)
			return cause_set(why, "fd %d: deleted file %s", fd, link);
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
		return cause_set(why, "fd %d: pipe", fd);
	}
	if (S_ISSOCK(st->st_mode))
		return cause_set(why, "fd %d: socket", fd);
	if (S_ISBLK(st->st_mode))
		return cause_set(why, "fd %d: block device %s", fd, link);
	return cause_set(why, "fd %d: %s", fd, link);
}

static char *
cantmove_fds(pid_t pid)
{
	char		 name[64], *link, *why = NULL;
	int		*fds;
	size_t		 n, i;
	struct stat	 st;
	enum img_fd_kind kind;

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
		(void)ckpt_fd_kind(fds[i], link, &st, &kind, &why);
		free(link);
	}
	free(fds);
	return why;
}

char *
ckpt_cantmove(pid_t pid)
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
	if (s.threads > 1) {
		xasprintf(&why, "multi-threaded (%" PRId64 " threads)", s.threads);
		return why;
	}
	if (s.state == 'T')
		return xstrdup("stopped by a signal (group-stop)");
	if (s.state == 'Z' || s.state == 'X')
		return xstrdup("exited (zombie)");
	if (procfs_maps(pid, 0, &vmas, &n, &why) == -1)
		return why;
	for (i = 0; i < n && why == NULL; i++)
		(void)ckpt_vma_kind(&vmas[i], &flags, &st, &why);
	procfs_vmas_free(vmas, n);
	if (why != NULL)
		return why;
	return cantmove_fds(pid);
}
