/* access.c: who may act on a managed process, asked before and during every operation on it. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "omm/log.h"
#include "omm/privilege.h"
#include "omm/procfs.h"

#include "access.h"
#include "control.h"
#include "procinfo.h"
#include "supervise.h"

int
access_privileged(struct task *t, int at_exec)
{
	struct priv_creds	 c;
	enum priv_kind		 kind;
	char			*exe = NULL;

	if (t->priv != NULL)
		return 1;
	/* gone: there is nothing left to protect, and nothing to act on */
	if (priv_read(t->tgid, &c, NULL) == -1)
		return 0;
	if ((kind = priv_gained(&c, t->owner, t->owner_gid)) == PRIV_NONE)
		return 0;
	if (procfs_link(t->tgid, "exe", &exe, NULL) == -1)
		exe = NULL;
	t->priv = priv_describe(kind, exe, &c, t->owner, t->owner_gid,
	    at_exec);
	free(exe);
	log_info("job %u: process %d %s: it is never checkpointed, migrated "
	    "or restored into", t->job, (int)t->tgid, t->priv);
	return 1;
}

int
access_rule(pid_t pid, const struct ctl_peer *peer, char **cause)
{
	struct priv_creds	 c, rq;
	char			*why = NULL;

	if (priv_read(pid, &c, cause) == -1)
		return -1;
	/*
	 * SO_PEERCRED has the requester's effective ids; the kernel decides
	 * by its real ones. A requester whose two differ (a set-uid or
	 * set-gid client) gets nothing: stricter, never looser.
	 */
	if (peer->uid != 0 && (priv_read(peer->pid, &rq, NULL) == -1 ||
	    rq.uid[0] != peer->uid || rq.gid[0] != peer->gid))
		return cause_set(cause, "permission denied: the requesting "
		    "process %d does not run with real uid %u and gid %u",
		    (int)peer->pid, (unsigned)peer->uid, (unsigned)peer->gid);
	if (priv_may_attach(peer->uid, peer->gid, &c, priv_yama_scope(),
	    &why) == -1) {
		cause_set(cause, "permission denied: process %d %s", (int)pid,
		    why);
		free(why);
		return -1;
	}
	return 0;
}

int
access_task(struct task *t, const struct ctl_peer *peer, char **cause)
{
	if (access_privileged(t, 0))
		return cause_set(cause, "process %d %s (omm leaves processes "
		    "that gained privileges alone)", (int)t->tgid, t->priv);
	if (peer != NULL && access_rule(t->tgid, peer, cause) != 0)
		return -1;
	return 0;
}

void
access_op_init(struct access_op *op, const struct ctl_peer *peer, int stub)
{
	memset(op, 0, sizeof *op);
	if (peer != NULL) {
		op->has_peer = 1;
		op->peer = *peer;
	}
	op->stub = stub;
}

int
access_frozen(pid_t pid, void *arg, char **cause)
{
	const struct access_op	*op = arg;
	struct pstatus		 ps;
	struct task		*t;

	if ((t = supervise_find(pid)) == NULL)
		return cause_set(cause, "process %d is not managed by omm",
		    (int)pid);
	/* a stub that is no longer the requester's child is not its own */
	if (op->stub && op->has_peer && op->peer.uid != 0) {
		if (procinfo_status(pid, &ps, cause) != 0)
			return -1;
		if (ps.ppid != op->peer.pid)
			return cause_set(cause, "permission denied: process %d "
			    "is not a child of the requesting process %d",
			    (int)pid, (int)op->peer.pid);
	}
	return access_task(t, op->has_peer ? &op->peer : NULL, cause);
}
