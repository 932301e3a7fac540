/* procself.c: what /proc/self means for a migrated process (procself.h). */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/inotify.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procself.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2	452
#endif

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/*
 * The entries of /proc/PID/ (and task/TID/) not served by the original at
 * home. GUEST: what describes the process's memory and its running task,
 * which only the host knows; DEPUTY: its descriptors and directories,
 * which the deputy holds while it is away. An entry not listed (exe,
 * cmdline, environ, mountinfo, ns/, net/, cgroup, attr/, task/, the
 * directory itself...) is the original's.
 */
static const struct procself_ent {
	const char	*name;
	int		 cls;
} procself_ents[] = {
	{ "maps",		PS_GUEST },
	{ "smaps",		PS_GUEST },
	{ "smaps_rollup",	PS_GUEST },
	{ "numa_maps",		PS_GUEST },
	{ "pagemap",		PS_GUEST },
	{ "mem",		PS_GUEST },
	{ "auxv",		PS_GUEST },
	{ "clear_refs",		PS_GUEST },
	{ "coredump_filter",	PS_GUEST },
	{ "ksm_stat",		PS_GUEST },
	{ "ksm_merging_pages",	PS_GUEST },
	{ "stat",		PS_GUEST },
	{ "statm",		PS_GUEST },
	{ "status",		PS_GUEST },
	{ "comm",		PS_GUEST },
	{ "sched",		PS_GUEST },
	{ "schedstat",		PS_GUEST },
	{ "autogroup",		PS_GUEST },
	{ "wchan",		PS_GUEST },
	{ "stack",		PS_GUEST },
	{ "syscall",		PS_GUEST },
	{ "io",			PS_GUEST },
	{ "personality",	PS_GUEST },
	{ "limits",		PS_GUEST },
	{ "timers",		PS_GUEST },
	{ "timerslack_ns",	PS_GUEST },
	{ "oom_score",		PS_GUEST },
	{ "oom_score_adj",	PS_GUEST },
	{ "oom_adj",		PS_GUEST },
	{ "arch_status",	PS_GUEST },
	{ "fd",			PS_DEPUTY },
	{ "fdinfo",		PS_DEPUTY },
	{ "cwd",		PS_DEPUTY },
	{ "root",		PS_DEPUTY },
};

static const struct procself_ent *
ent_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nitems(procself_ents); i++) {
		if (strlen(procself_ents[i].name) == len &&
		    memcmp(procself_ents[i].name, name, len) == 0)
			return &procself_ents[i];
	}
	return NULL;
}

/* A decimal pid of at most 9 digits; the end in *end. 0: none. */
static pid_t
get_pid(const char *s, const char **end)
{
	pid_t	n = 0;
	int	k = 0;

	while (s[k] >= '0' && s[k] <= '9' && k < 10)
		n = n * 10 + (s[k++] - '0');
	if (k == 0 || k > 9 || (s[k] != '\0' && s[k] != '/'))
		return 0;
	*end = s + k;
	return n;
}

int
procself_parse(const char *path, const char *mnt, struct procself_ref *r)
{
	size_t		 ml = strlen(mnt);
	const char	*p, *q;

	memset(r, 0, sizeof *r);
	r->rest = "";
	if (strncmp(path, mnt, ml) != 0 || (path[ml] != '/' && path[ml] != '\0'))
		return -1;
	p = path + ml;
	if (*p == '\0' || p[1] == '\0')
		return 0;			/* /proc itself */
	p++;
	if (strcmp(p, "self") == 0) {
		r->selflink = 1;
		return 0;
	}
	if (strcmp(p, "thread-self") == 0) {
		r->selflink = 2;
		return 0;
	}
	if ((r->pid = get_pid(p, &q)) == 0)
		return 0;			/* /proc/meminfo... */
	if (*q == '\0')
		return 0;
	p = q + 1;
	if (strncmp(p, "task/", 5) == 0 && (r->tid = get_pid(p + 5, &q)) != 0)
		p = *q == '\0' ? q : q + 1;
	r->rest = p;
	return 0;
}

int
procself_class(const char *rest)
{
	const struct procself_ent	*e;
	const char			*slash = strchr(rest, '/');

	e = ent_find(rest, slash != NULL ? (size_t)(slash - rest) : strlen(rest));
	if (e == NULL || (e->cls == PS_GUEST && slash != NULL))
		return PS_ORIG;
	return e->cls;
}

int
procself_guest_entry(const char *entry)
{
	const struct procself_ent	*e;

	if (strchr(entry, '/') != NULL || strlen(entry) >= PROCSELF_ENTRY_MAX)
		return 0;
	e = ent_find(entry, strlen(entry));
	return e != NULL && e->cls == PS_GUEST;
}

int
procself_fd_entry(const char *rest)
{
	const char	*p;
	long		 n;
	char		*end;

	if (strcmp(rest, "fd") == 0 || strcmp(rest, "fdinfo") == 0)
		return -2;
	if (strncmp(rest, "fd/", 3) == 0)
		p = rest + 3;
	else if (strncmp(rest, "fdinfo/", 7) == 0)
		p = rest + 7;
	else
		return -1;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	n = strtol(p, &end, 10);
	if (errno != 0 || n > INT_MAX || (*end != '\0' && *end != '/'))
		return INT_MAX;		/* no such descriptor: past any floor */
	return (int)n;
}

/* ---- the paths a call resolves ---- */

enum { F_YES = 1, F_NO, F_UNLESS, F_IF };
#define FLAGS_HOW	-2	/* the flags are the u64 at arg 2 (openat2) */

/*
 * For every call that resolves a path: the dirfd argument (-1: the cwd)
 * and the path argument of up to two paths, and whether each follows a
 * last symlink: always, never, unless (F_UNLESS) or only if (F_IF) the
 * flag argument has mask. A symlink's target is a string, not a path it
 * resolves: not listed.
 */
static const struct pathcall {
	int	nr;
	int8_t	dir[2], path[2];
	uint8_t	fol[2];
	int8_t	flagarg;
	uint32_t mask;
	uint8_t	open;
} pathcalls[] = {
#define P1(n, d, p, f)		{ SYS_##n, { d, -1 }, { p, -1 }, { f, 0 }, -1, 0, 0 }
#define PF(n, d, p, f, a, m)	{ SYS_##n, { d, -1 }, { p, -1 }, { f, 0 }, a, m, 0 }
#define P2(n, d, p, e, q)	{ SYS_##n, { d, e }, { p, q }, { F_NO, F_NO }, -1, 0, 0 }
#define PO(n, d, p, a)		{ SYS_##n, { d, -1 }, { p, -1 }, { F_UNLESS, 0 }, a, \
				  O_NOFOLLOW, 1 }
	PO(open, -1, 0, 1),
	{ SYS_creat, { -1, -1 }, { 0, -1 }, { F_YES, 0 }, -1, 0, 1 },
	PO(openat, 0, 1, 2),
	PO(openat2, 0, 1, FLAGS_HOW),
	P1(stat, -1, 0, F_YES),
	P1(lstat, -1, 0, F_NO),
	P1(access, -1, 0, F_YES),
	P1(truncate, -1, 0, F_YES),
	P1(chdir, -1, 0, F_YES),
	P2(rename, -1, 0, -1, 1),
	P1(mkdir, -1, 0, F_NO),
	P1(rmdir, -1, 0, F_NO),
	P2(link, -1, 0, -1, 1),
	P1(unlink, -1, 0, F_NO),
	P1(symlink, -1, 1, F_NO),
	P1(readlink, -1, 0, F_NO),
	P1(chmod, -1, 0, F_YES),
	P1(chown, -1, 0, F_YES),
	P1(lchown, -1, 0, F_NO),
	P1(utime, -1, 0, F_YES),
	P1(utimes, -1, 0, F_YES),
	P1(mknod, -1, 0, F_NO),
	P1(statfs, -1, 0, F_YES),
	P1(setxattr, -1, 0, F_YES),
	P1(lsetxattr, -1, 0, F_NO),
	P1(getxattr, -1, 0, F_YES),
	P1(lgetxattr, -1, 0, F_NO),
	P1(listxattr, -1, 0, F_YES),
	P1(llistxattr, -1, 0, F_NO),
	P1(removexattr, -1, 0, F_YES),
	P1(lremovexattr, -1, 0, F_NO),
	PF(inotify_add_watch, -1, 1, F_UNLESS, 2, IN_DONT_FOLLOW),
	P1(mkdirat, 0, 1, F_NO),
	P1(mknodat, 0, 1, F_NO),
	PF(fchownat, 0, 1, F_UNLESS, 4, AT_SYMLINK_NOFOLLOW),
	P1(futimesat, 0, 1, F_YES),
	PF(newfstatat, 0, 1, F_UNLESS, 3, AT_SYMLINK_NOFOLLOW),
	P1(unlinkat, 0, 1, F_NO),
	P2(renameat, 0, 1, 2, 3),
	{ SYS_linkat, { 0, 2 }, { 1, 3 }, { F_IF, F_NO }, 4, AT_SYMLINK_FOLLOW, 0 },
	P1(symlinkat, 1, 2, F_NO),
	P1(readlinkat, 0, 1, F_NO),
	P1(fchmodat, 0, 1, F_YES),
	PF(fchmodat2, 0, 1, F_UNLESS, 3, AT_SYMLINK_NOFOLLOW),
	P1(faccessat, 0, 1, F_YES),
	PF(faccessat2, 0, 1, F_UNLESS, 3, AT_SYMLINK_NOFOLLOW),
	PF(utimensat, 0, 1, F_UNLESS, 3, AT_SYMLINK_NOFOLLOW),
	PF(statx, 0, 1, F_UNLESS, 2, AT_SYMLINK_NOFOLLOW),
	P2(renameat2, 0, 1, 2, 3),
#undef P1
#undef PF
#undef P2
#undef PO
};

int
procself_call_paths(int nr, const uint64_t a[6], struct procself_pathref out[2],
    int *open)
{
	const struct pathcall	*pc = NULL;
	uint64_t		 flags = 0;
	size_t			 i;
	int			 n = 0, k, fol;

	*open = 0;
	for (i = 0; i < nitems(pathcalls); i++) {
		if (pathcalls[i].nr == nr) {
			pc = &pathcalls[i];
			break;
		}
	}
	if (pc == NULL)
		return 0;
	if (pc->flagarg == FLAGS_HOW) {
		if (a[2] != 0)
			memcpy(&flags, (const void *)(uintptr_t)a[2], sizeof flags);
	} else if (pc->flagarg >= 0)
		flags = a[pc->flagarg];
	*open = pc->open;
	for (k = 0; k < 2; k++) {
		if (pc->path[k] < 0 || a[pc->path[k]] == 0)
			continue;
		fol = pc->fol[k];
		out[n].argi = pc->path[k];
		out[n].dirfd = pc->dir[k] < 0 ? AT_FDCWD : (int)a[pc->dir[k]];
		out[n].path = (const char *)(uintptr_t)a[pc->path[k]];
		out[n].follow = fol == F_YES || (fol == F_UNLESS &&
		    !(flags & pc->mask)) || (fol == F_IF && (flags & pc->mask));
		out[n].flags = flags;
		n++;
	}
	return n;
}

/* ---- the deputy's side ---- */

int
procself_init(struct procself *ps, pid_t orig, int floor, char **cause)
{
	struct stat	st;
	char		lnk[64], buf[PATH_MAX], *slash;
	ssize_t		n;
	int		fd;

	memset(ps, 0, sizeof *ps);
	ps->self = getpid();
	ps->orig = orig;
	ps->floor = floor;
	/* where procfs is: our own directory, as procfs names it */
	if ((fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return cause_set(cause, "/proc/self: %s", strerror(errno));
	snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
	n = readlink(lnk, buf, sizeof buf - 1);
	if (n <= 0 || fstat(fd, &st) == -1) {
		close(fd);
		return cause_set(cause, "where is procfs: %s", strerror(errno));
	}
	close(fd);
	buf[n] = '\0';
	ps->dev = st.st_dev;
	if ((slash = strrchr(buf, '/')) == NULL || atoi(slash + 1) != ps->self ||
	    (size_t)(slash - buf) >= sizeof ps->mnt)
		return cause_set(cause, "procfs names our directory %s", buf);
	memcpy(ps->mnt, buf, slash - buf);
	ps->mnt[slash - buf] = '\0';
	return 0;
}

/* mnt/PID[/task/PID][/rest] */
static void
entry_path(const struct procself *ps, pid_t pid, int thread, const char *rest,
    char *out, size_t len)
{
	char	task[32] = "";

	if (thread)
		snprintf(task, sizeof task, "/task/%d", (int)pid);
	snprintf(out, len, "%s/%d%s%s%s", ps->mnt, (int)pid, task,
	    *rest != '\0' ? "/" : "", rest);
}

/* The decision for a procfs object, taken apart. */
static void
decide(const struct procself *ps, const struct procself_ref *ref,
    struct procself_route *r)
{
	int	deputy, thread, n;

	memset(r, 0, sizeof *r);
	if (ref->selflink) {
		r->action = PR_LINK;
		if (ref->selflink == 1)
			snprintf(r->path, sizeof r->path, "%d", (int)ps->orig);
		else
			snprintf(r->path, sizeof r->path, "%d/task/%d",
			    (int)ps->orig, (int)ps->orig);
		return;
	}
	if (ref->pid != ps->self && ref->pid != ps->orig)
		return;				/* another process: as at home */
	if (ref->tid != 0 && ref->tid != ref->pid)
		return;				/* another thread: none of ours */
	deputy = ref->pid == ps->self;
	thread = ref->tid != 0;
	r->thread = thread;
	r->deputy = deputy;
	switch (procself_class(ref->rest)) {
	case PS_GUEST:
		r->action = PR_LOCAL;
		snprintf(r->entry, sizeof r->entry, "%s", ref->rest);
		entry_path(ps, ps->orig, thread, ref->rest, r->path,
		    sizeof r->path);
		return;
	case PS_DEPUTY:
		if ((n = procself_fd_entry(ref->rest)) >= ps->floor) {
			r->action = PR_ERR;
			r->err = ENOENT;
			return;
		}
		if (deputy)
			return;
		r->action = PR_PATH;
		entry_path(ps, ps->self, thread, ref->rest, r->path,
		    sizeof r->path);
		return;
	default:
		if (!deputy)
			return;
		r->action = PR_PATH;
		entry_path(ps, ps->orig, thread, ref->rest, r->path,
		    sizeof r->path);
		return;
	}
}

/* The procfs path of a descriptor of ours on procfs, else -1. */
static int
fd_procpath(const struct procself *ps, int fd, char *buf, size_t len)
{
	struct stat	st;
	char		lnk[64];
	ssize_t		n;

	if (fstat(fd, &st) == -1 || st.st_dev != ps->dev)
		return -1;
	snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
	if ((n = readlink(lnk, buf, len - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* Judge fd's object, with base appended below it when not NULL. */
static void
route_obj(const struct procself *ps, int fd, const char *base,
    struct procself_route *r)
{
	struct procself_ref	 ref;
	char			 buf[PATH_MAX];
	size_t			 n;

	memset(r, 0, sizeof *r);
	if (fd_procpath(ps, fd, buf, sizeof buf) == -1)
		return;
	if (base != NULL) {
		n = strlen(buf);
		if (n + 1 + strlen(base) >= sizeof buf)
			return;
		snprintf(buf + n, sizeof buf - n, "/%s", base);
	}
	if (procself_parse(buf, ps->mnt, &ref) == -1)
		return;
	decide(ps, &ref, r);
}

void
procself_route_fd(const struct procself *ps, int fd, struct procself_route *r)
{
	route_obj(ps, fd, NULL, r);
}

/*
 * Judge what path reaches, following a last symlink or not; *islink: what
 * it reached is a symlink (so following it may lead elsewhere).
 */
static void
route_one(const struct procself *ps, int dirfd, const char *path, int follow,
    struct procself_route *r, int *islink)
{
	struct stat	 st;
	char		 parent[PATH_MAX];
	const char	*base, *slash;
	int		 fd;

	memset(r, 0, sizeof *r);
	*islink = 0;
	/* the common case, a path off procfs, costs one stat */
	if (fstatat(dirfd, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0) {
		*islink = S_ISLNK(st.st_mode);
		if (st.st_dev != ps->dev)
			return;
		fd = openat(dirfd, path, O_PATH | O_CLOEXEC |
		    (follow ? 0 : O_NOFOLLOW));
		if (fd != -1) {
			route_obj(ps, fd, NULL, r);
			close(fd);
		}
		return;
	}
	/* not there (yet): what its directory is */
	if ((slash = strrchr(path, '/')) == NULL) {
		snprintf(parent, sizeof parent, ".");
		base = path;
	} else {
		if ((size_t)(slash - path) >= sizeof parent)
			return;
		memcpy(parent, path, slash - path);
		parent[slash - path] = '\0';
		if (parent[0] == '\0')
			snprintf(parent, sizeof parent, "/");
		base = slash + 1;
	}
	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return;
	if (fstatat(dirfd, parent, &st, 0) == -1 || st.st_dev != ps->dev)
		return;
	if ((fd = openat(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	route_obj(ps, fd, base, r);
	close(fd);
}

/*
 * The link itself first: a magic link of ours (fd/N, exe) is judged as
 * what it is, whether the call follows it or not (fd/N of the deputy's
 * own range never leads anywhere); then, for a call that follows, where a
 * link that is nothing of ours leads (a user's symlink to /proc/self/maps,
 * /dev/fd, /proc/self itself).
 */
void
procself_route_path(const struct procself *ps, int dirfd, const char *path,
    int follow, struct procself_route *r)
{
	int	islink;

	memset(r, 0, sizeof *r);
	if (path == NULL || *path == '\0')
		return;			/* the dirfd itself, judged when opened */
	route_one(ps, dirfd, path, 0, r, &islink);
	if (!follow || !islink || (r->action != PR_ASIS &&
	    r->action != PR_LINK))
		return;
	route_one(ps, dirfd, path, 1, r, &islink);
}

int
procself_is_fddir(const struct procself *ps, int fd)
{
	struct procself_ref	ref;
	char			buf[PATH_MAX];

	if (fd_procpath(ps, fd, buf, sizeof buf) == -1 ||
	    procself_parse(buf, ps->mnt, &ref) == -1 || ref.pid != ps->self ||
	    (ref.tid != 0 && ref.tid != ref.pid))
		return 0;
	return procself_fd_entry(ref.rest) == -2;
}

/*
 * linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name; the old
 * linux_dirent: long ino, long off, u16 reclen, name, ..., type last.
 */
#define DENT_RECLEN	16

size_t
procself_filter_dents(uint8_t *p, size_t n, int floor, int d64)
{
	const size_t	name_off = d64 ? 19 : 18;

	size_t		off = 0, out = 0;
	uint16_t	reclen;
	const char	*name;
	long		v;
	char		*end;

	while (off + name_off < n) {
		memcpy(&reclen, p + off + DENT_RECLEN, sizeof reclen);
		if (reclen <= name_off || reclen > n - off)
			break;			/* the kernel's own: cannot be */
		name = (const char *)p + off + name_off;
		v = -1;
		if (*name >= '0' && *name <= '9' &&
		    memchr(name, '\0', reclen - name_off) != NULL) {
			errno = 0;
			v = strtol(name, &end, 10);
			if (errno != 0 || *end != '\0')
				v = -1;
		}
		if (v < floor) {
			if (out != off)
				memmove(p + out, p + off, reclen);
			out += reclen;
		}
		off += reclen;
	}
	return out;
}
