/*
 * access.h: may this requester, or ommd itself, act on a process now?
 *
 * The one place ommd's requests and its own decisions (balancer, periodic
 * checkpoints, migration at exec) ask before reading or replacing a
 * process's state. The rules themselves are libomm's (omm/privilege.h):
 * the kernel's ptrace attach rule for the requester, and "never a process
 * that gained privileges" for everyone, root and ommd included. Each
 * operation asks once up front, for a clear refusal, and again through
 * the engine's check hook (ckpt_opts.check, restore_opts.check) once the
 * process is frozen, when the answer can no longer change under it.
 */
#ifndef OMMD_ACCESS_H
#define OMMD_ACCESS_H

#include <sys/types.h>

#include "control.h"

struct task;

/*
 * Has t gained privileges (a set-uid, set-gid or file-capability exec...)?
 * Reads its credentials unless it is marked already, and marks it
 * (t->priv, the reason omctl ps shows) when it has. at_exec: t is in its
 * exec stop, which is what gave them. 1 if marked.
 */
int	access_privileged(struct task *t, int at_exec);

/*
 * Only the requester's side: the kernel's ptrace attach rule of the
 * requester (uid 0 passes) against pid's credentials as they are now.
 * The requester itself must run with its real ids equal to the ones
 * SO_PEERCRED reported (the kernel's rule is about real ids).
 */
int	access_rule(pid_t, const struct ctl_peer *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * May peer (NULL: ommd itself) read or replace the state of t now? Refused
 * when t gained privileges, whoever asks ("process N runs set-uid
 * /usr/bin/su"), or when peer fails access_rule.
 */
int	access_task(struct task *t, const struct ctl_peer *peer, char **cause)
	    __attribute__((warn_unused_result));

/*
 * The engine's check hook for a dump: arg is a struct access_op. For a
 * restore into a stub, the stub must in addition still be the child of
 * the requester (unless root).
 */
struct access_op {
	int		 has_peer;	/* else ommd's own operation */
	struct ctl_peer	 peer;		/* a copy: the connection may go */
	int		 stub;		/* a restore into the requester's child */
};
void	access_op_init(struct access_op *, const struct ctl_peer *, int stub);
int	access_frozen(pid_t, void *arg, char **cause);

#endif
