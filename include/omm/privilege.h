/*
 * privilege.h: the kernel's ptrace rule, applied for the users ommd serves.
 *
 * ommd is root with CAP_SYS_PTRACE: the kernel lets it read and replace
 * any process. So that it hands nobody more than the kernel would, every
 * request that reads or replaces a process's state passes the test the
 * kernel applies to the requester's own PTRACE_ATTACH
 * (PTRACE_MODE_ATTACH_REALCREDS, kernel/ptrace.c __ptrace_may_access and
 * security/commoncap.c cap_ptrace_access_check), or comes from root; and a
 * process that gained privileges its job's owner does not have (a set-uid,
 * set-gid or file-capability exec) is never dumped, moved or restored into,
 * not even for root. docs/security.md says where each rule is enforced.
 *
 * The rules are pure functions over parsed /proc/PID/status fields, unit
 * tested; priv_read is the thin reader that feeds them.
 */
#ifndef OMM_PRIVILEGE_H
#define OMM_PRIVILEGE_H

#include <sys/types.h>

#include <stdint.h>

/* What of a process's credentials the rules look at. */
struct priv_creds {
	uint32_t	uid[4];		/* real, effective, saved, filesystem */
	uint32_t	gid[4];
	uint64_t	cap_prm;	/* permitted capabilities */
	int		dumpable;	/* 1: SUID_DUMP_USER; 0: anything else */
};

/*
 * May the requester (uid and gid as SO_PEERCRED reports them) act on a
 * process with credentials t, given Yama's kernel.yama.ptrace_scope? 0, or
 * -1 with *why completing "permission denied: process N ..." (e.g.
 * "belongs to uid 1001", "is not dumpable").
 *
 * uid 0 may, but for scope 3, which forbids every attach. Anyone else
 * needs scope 0 or 1 (scope 2 admits CAP_SYS_PTRACE only), the target's
 * real, effective, saved and fs uids all equal to uid, its four gids all
 * equal to gid (the kernel compares three of each; the fs ids are our
 * addition), no permitted capability (the kernel asks for a subset of the
 * requester's; ommd cannot know those reliably and takes them as none)
 * and a dumpable target. Scope 1 (descendants only) is not applied: the
 * requester is omctl, never the job's ancestor (docs/security.md).
 */
int	priv_may_attach(uint32_t uid, uint32_t gid, const struct priv_creds *t,
	    int yama_scope, char **why) __attribute__((warn_unused_result));

/* Why a process holds more than its job's owner, most telling first. */
enum priv_kind {
	PRIV_NONE = 0,
	PRIV_SETUID,	/* its uids differ among themselves (a set-uid exec) */
	PRIV_SETGID,	/* its gids differ among themselves */
	PRIV_OTHER_UID,	/* uniform uids, but not the owner's */
	PRIV_OTHER_GID,	/* uniform gids, but not the owner's */
	PRIV_CAPS,	/* capabilities in a non-root process */
	PRIV_NODUMP,	/* not dumpable */
};

/*
 * Does a process with credentials c hold privileges its job's owner
 * (owner_uid, owner_gid) lacks? Root's jobs may run as anyone: for owner
 * uid 0 only mixed ids, capabilities of a non-root process and a
 * non-dumpable process count.
 */
enum priv_kind priv_gained(const struct priv_creds *c, uint32_t owner_uid,
	    uint32_t owner_gid);

/*
 * The reason omctl ps shows for kind: seen at the exec that caused it,
 * "runs set-uid /usr/bin/su", "runs /usr/bin/ping with file
 * capabilities"...; seen later, by the credentials ("runs /usr/bin/x with
 * uids 1001 1001 0 1001"). exe is the process's binary (control bytes are
 * shown as '?'). malloc'd; NULL for PRIV_NONE.
 */
char	*priv_describe(enum priv_kind, const char *exe,
	    const struct priv_creds *c, uint32_t owner_uid, uint32_t owner_gid,
	    int at_exec);

/*
 * The credentials of pid from /proc/PID/status, and whether it is
 * dumpable from that file's owner, which the kernel makes root:root for a
 * process that is not. A process whose effective ids are root reads as
 * dumpable: it fails every rule above that dumpability would decide for a
 * non-root requester or owner anyway. Exact only while pid is stopped.
 */
int	priv_read(pid_t, struct priv_creds *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * kernel.yama.ptrace_scope: 0 when Yama is not there; an unreadable or
 * unknown value counts as 3, the strictest.
 */
int	priv_yama_scope(void);

#endif
