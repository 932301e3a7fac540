/*
 * procself.h: what /proc/self means for a migrated process.
 *
 * Away from home, a process's file system calls run in its deputy at home,
 * so "/proc/self" (and /proc/thread-self, /proc/<its home pid>, /dev/fd,
 * a descriptor of /proc/self, a symlink into it, "..") would name the
 * deputy: its memory map, its command line, its descriptors. The deputy
 * must never serve its own entries. Each entry of /proc/PID/ is served from
 * one of three places (docs/syscalls.md has the table and why):
 *
 *   GUEST   memory and the running task (maps, mem, stat, status...): the
 *           guest itself on its host. The deputy holds a placeholder at the
 *           descriptor number (the original's entry, so the number is taken
 *           at home and is right once the process is back) and answers
 *           SYSCALL_LOCAL; the host opens the guest's own entry there and
 *           runs the calls on that descriptor natively.
 *   DEPUTY  the descriptors and the cwd (fd/, fdinfo/, cwd, root): the
 *           deputy's, which are the process's while it is away; its own
 *           descriptors (fd_floor and up) do not exist there.
 *   ORIG    everything else (exe, cmdline, environ, mounts, ns/...): the
 *           original process at home, /proc/<home pid>/.
 *
 * The deputy resolves every path a forwarded call names (with O_PATH, as
 * the call would, then asks procfs what it reached) and checks the object
 * an open really opened, so no route into its own /proc escapes; the
 * table and the parsing are plain functions for the unit tests.
 */
#ifndef OMM_PROCSELF_H
#define OMM_PROCSELF_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

/* Where an entry of /proc/PID/ is served from. */
enum procself_class {
	PS_ORIG = 0,		/* the original at home (the default) */
	PS_GUEST,		/* the guest on its host */
	PS_DEPUTY,		/* the deputy's own (descriptors, cwd) */
};

/* Longest entry name the host serves ("smaps_rollup"...), NUL included. */
#define PROCSELF_ENTRY_MAX	32

/* A procfs path as the kernel names it, taken apart. */
struct procself_ref {
	pid_t		 pid;		/* 0: not under a pid directory */
	pid_t		 tid;		/* under task/TID/, else 0 */
	int		 selflink;	/* the "self" (1) or "thread-self" (2) link */
	const char	*rest;		/* below /proc/PID/ (or task/TID/): "maps" */
};

/*
 * Take apart a path procfs gave (readlink of /proc/self/fd/N): mnt is
 * where procfs is mounted ("/proc"). 0, or -1 when it is not below mnt.
 * "/proc/12/task/12/maps" gives pid 12, tid 12, rest "maps"; "/proc/12/task"
 * pid 12, tid 0, rest "task".
 */
int	procself_parse(const char *path, const char *mnt, struct procself_ref *);

/* The class of an entry below /proc/PID/ ("maps", "fd/3", "" the dir). */
int	procself_class(const char *rest);

/*
 * For the host: is entry a plain GUEST entry it may open in the guest's
 * own /proc/PID/ (no '/', no "..", in the table)?
 */
int	procself_guest_entry(const char *entry);

/*
 * The descriptor number of fd/N or fdinfo/N, -1 for any other entry, -2
 * for the directories fd and fdinfo themselves.
 */
int	procself_fd_entry(const char *rest);

/* ---- the paths a call resolves ---- */

struct procself_pathref {
	int		 argi;		/* the path's argument */
	int		 dirfd;		/* AT_FDCWD or the call's dirfd */
	const char	*path;
	int		 follow;	/* a last symlink is followed */
	uint64_t	 flags;		/* the call's flags (open: O_*) */
};

/*
 * The paths call nr resolves with arguments a (pointers already the
 * deputy's copies), at most two: how many. *open: it is an open (open,
 * openat, openat2, creat), whose flags are out[0].flags.
 */
int	procself_call_paths(int nr, const uint64_t a[6],
	    struct procself_pathref out[2], int *open);

/* ---- the deputy's side ---- */

struct procself {
	pid_t	self;			/* the deputy */
	pid_t	orig;			/* the process at home */
	int	floor;			/* the deputy's own descriptors */
	dev_t	dev;			/* procfs's st_dev */
	char	mnt[64];		/* where procfs is mounted */
};

/* What to do with a path or a descriptor. */
enum procself_action {
	PR_ASIS = 0,		/* nothing of ours: as asked */
	PR_PATH,		/* use path instead (absolute) */
	PR_ERR,			/* fail with -err */
	PR_LOCAL,		/* the guest's own entry: thread, entry; path is
				   the original's, for the placeholder */
	PR_LINK,		/* readlink of the self link: path is the answer */
};

struct procself_route {
	int	action;			/* enum procself_action */
	int	err;
	int	thread;			/* task/TID/ of the process's thread */
	int	deputy;			/* it reached the deputy's own entry */
	char	entry[PROCSELF_ENTRY_MAX];
	char	path[PATH_MAX];
};

/* Fill ps: the deputy pid (getpid), orig, floor; where procfs is. */
int	procself_init(struct procself *, pid_t orig, int floor, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Where a path a call names leads (dirfd as the call's, AT_FDCWD for
 * none; follow: whether the call follows a last symlink). A path that
 * does not resolve is judged by its directory.
 */
void	procself_route_path(const struct procself *, int dirfd, const char *path,
	    int follow, struct procself_route *);

/* What a descriptor the deputy holds is, judged as route_path would. */
void	procself_route_fd(const struct procself *, int fd,
	    struct procself_route *);

/* Is fd (the deputy's) a directory fd/ or fdinfo/ of its own /proc? */
int	procself_is_fddir(const struct procself *, int fd);

/*
 * Drop from a getdents64 (d64) or getdents buffer of n bytes the entries
 * named by a number at or above floor; the new length.
 */
size_t	procself_filter_dents(uint8_t *, size_t n, int floor, int d64);

#endif
