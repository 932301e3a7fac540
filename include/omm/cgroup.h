/*
 * cgroup.h: control groups, to hold processes of ommd's in groups of their
 * own (a guest with a memory limit; deputies and job supervisors later).
 *
 * cgroup v2 first: one hierarchy, a controller usable in a group once the
 * group's parent lists it in cgroup.subtree_control, and no processes in a
 * group that hands controllers down (the "no internal process" rule), so a
 * daemon that makes groups below its own moves itself into a leaf first
 * (cg_make_base). Where a controller is held by a cgroup v1 hierarchy
 * instead (older systems, hybrid ones, this project's test machines), that
 * hierarchy is used: it has no such rule and no subtree_control.
 *
 * Groups are plain directory paths (absolute); the functions are thin and
 * return 0 or -1 with a cause naming the file.
 */
#ifndef OMM_CGROUP_H
#define OMM_CGROUP_H

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>

enum cg_kind {
	CG_NONE = 0,
	CG_V2,
	CG_V1,
};

/* Where a controller can be used, and the group a process is in. */
struct cg_tree {
	int	kind;			/* enum cg_kind */
	char	mnt[PATH_MAX];		/* the hierarchy's mount point */
	char	group[PATH_MAX];	/* the process's group (absolute dir) */
};

/*
 * The hierarchy that offers controller (e.g. "memory") and pid's group in
 * it: cgroup v2 when its root lists the controller, else the v1 hierarchy
 * that holds it. The cause names what is missing. mountinfo and cgroup
 * are the texts of /proc/self/mountinfo and /proc/PID/cgroup (so tests can
 * pass their own); cg_find reads them.
 */
int	cg_find(struct cg_tree *, const char *controller, pid_t pid,
	    char **cause) __attribute__((warn_unused_result));
int	cg_find_in(struct cg_tree *, const char *controller,
	    const char *mountinfo, const char *cgroup, const char *v2root_ctl,
	    char **cause) __attribute__((warn_unused_result));

/*
 * The group to create groups below (in base), with controller usable in
 * them: t's group. For v2 a group that hands controllers down holds no
 * processes, so pid (ours, in t's group) moves into the group's leaf
 * first, and controller is enabled in the group's subtree; a process
 * already in a group named leaf has its parent as base. A v1 group needs
 * nothing. The cause names what lacks.
 */
int	cg_make_base(const struct cg_tree *, pid_t pid, const char *leaf,
	    const char *controller, char *base, size_t len, char **cause)
	    __attribute__((warn_unused_result));

/* mkdir (an existing group is fine). */
int	cg_create(const char *dir, char **cause)
	    __attribute__((warn_unused_result));
/* Move process pid (its whole thread group) into dir. */
int	cg_attach(const char *dir, pid_t pid, char **cause)
	    __attribute__((warn_unused_result));
/* Write value to dir/file (some writes are best effort: no must-use). */
int	cg_write(const char *dir, const char *file, const char *value,
	    char **cause);
/*
 * A counter or a setting: dir/file's number, or with key the number on
 * its line "KEY N" (memory.events, memory.stat, memory.oom_control).
 * "max" reads as UINT64_MAX.
 */
int	cg_read_u64(const char *dir, const char *file, const char *key,
	    uint64_t *out, char **cause) __attribute__((warn_unused_result));
/* Does v2 group dir list controller in cgroup.subtree_control (or controllers)? */
int	cg_has(const char *dir, const char *file, const char *controller);
/* Remove an empty group; waits up to wait_ms for its last process to go. */
int	cg_remove(const char *dir, int wait_ms, char **cause)
	    __attribute__((warn_unused_result));

#endif
