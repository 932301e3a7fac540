/* request.c: the control requests, each authorised by its peer's credentials. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "asuser.h"
#include "cluster.h"
#include "peer.h"
#include "control.h"
#include "periodic.h"
#include "migrate.h"
#include "procinfo.h"
#include "request.h"
#include "supervise.h"

/* A user's image file, pipe or FIFO that moves nothing this long fails. */
#define IMAGE_STALL_MS	30000

static int	req_manage(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_restore(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_checkpoint(struct ctl_conn *, const struct proto_msg *,
		    char **);
static int	req_ps(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_periodic(struct ctl_conn *, const struct proto_msg *,
		    char **);
static int	req_nodes(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_status(struct ctl_conn *, const struct proto_msg *,
		    char **);
static int	req_set(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_expel(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_leave(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_join(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_migrate(struct ctl_conn *, const struct proto_msg *,
		    char **);
static int	req_bring(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_lock(struct ctl_conn *, const struct proto_msg *, char **);
static int	req_policy(struct ctl_conn *, const struct proto_msg *, char **);

/*
 * The requests ommd serves. fn queues its replies and returns 0, or
 * returns -1 with a cause for the user, sent back as ERROR. Checkpoint and
 * restore run synchronously in the event loop for now: a 512 MiB process
 * holds every other client up for the second or so that takes.
 */
static const struct request {
	uint16_t	  type;
	int		(*fn)(struct ctl_conn *, const struct proto_msg *,
			    char **);
} requests[] = {
	{ MSG_MANAGE,		req_manage },
	{ MSG_RESTORE,		req_restore },
	{ MSG_CHECKPOINT,	req_checkpoint },
	{ MSG_PS,		req_ps },
	{ MSG_PERIODIC,		req_periodic },
	{ MSG_NODES,		req_nodes },
	{ MSG_STATUS,		req_status },
	{ MSG_SET,		req_set },
	{ MSG_EXPEL,		req_expel },
	{ MSG_LEAVE,		req_leave },
	{ MSG_JOIN,		req_join },
	{ MSG_MIGRATE,		req_migrate },
	{ MSG_BRING,		req_bring },
	{ MSG_LOCK,		req_lock },
	{ MSG_POLICY,		req_policy },
};

int
request_handle(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	char			*why = NULL;
	size_t			 i;

	for (i = 0; i < sizeof requests / sizeof requests[0]; i++) {
		if (requests[i].type != m->hdr.type)
			continue;
		if (requests[i].fn(c, m, &why) != 0) {
			log_info("%s from pid %d uid %u refused: %s",
			    proto_type_name(m->hdr.type), (int)peer->pid,
			    (unsigned)peer->uid, why);
			control_send_error(c, why);
			free(why);
		}
		return 0;
	}
	return cause_set(cause, "%s is not a request",
	    proto_type_name(m->hdr.type));
}

static void
reply_ok(struct ctl_conn *c)
{
	struct buf	b;

	buf_init(&b);
	proto_encode_ok(&b);
	control_send(c, &b);
}

/*
 * omrun may hand over only its own child, and one it could ptrace itself
 * (access_rule: the kernel's attach rule). Root may hand over anything.
 * Checked before the seize, for a clear refusal, and again after it.
 */
static int
check_own_child(const struct ctl_peer *peer, pid_t pid, char **cause)
{
	struct pstatus	ps;

	if (procinfo_status(pid, &ps, cause) != 0)
		return -1;
	if (ps.tgid != pid)
		return cause_set(cause, "%d is a thread of process %d",
		    (int)pid, (int)ps.tgid);
	if (peer->uid == 0)
		return 0;
	if (ps.ppid != peer->pid)
		return cause_set(cause, "permission denied: process %d is not "
		    "a child of the requesting process %d", (int)pid,
		    (int)peer->pid);
	return access_rule(pid, peer, cause);
}

/* A managed process (not a thread), or a cause saying what pid is instead. */
static struct task *
find_managed(pid_t pid, char **cause)
{
	struct task	*t;

	if ((t = supervise_find(pid)) == NULL) {
		if (!procinfo_exists(pid))
			cause_set(cause, "no such process %d", (int)pid);
		else
			cause_set(cause, "process %d is not managed by omm",
			    (int)pid);
		return NULL;
	}
	if (t->tid != t->tgid) {
		cause_set(cause, "%d is a thread of process %d", (int)pid,
		    (int)t->tgid);
		return NULL;
	}
	return t;
}

static int
req_manage(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct msg_pid		 req;
	uint32_t		 job;

	if (proto_decode_pid(m, &req, cause) != 0)
		return -1;
	if (check_own_child(peer, req.pid, cause) != 0)
		return -1;
	if (supervise_manage(req.pid, peer->uid, peer->gid, &job, cause) != 0)
		return -1;
	/*
	 * Seized now: an exec from here on stops for us. One that came
	 * between the check and the seize shows in its credentials.
	 */
	if (check_own_child(peer, req.pid, cause) != 0) {
		supervise_release(req.pid);
		return -1;
	}
	reply_ok(c);
	return 0;
}

static int
req_restore(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct restore_opts	 opts;
	struct access_op	 op;
	struct msg_pid		 req;
	struct msg_restored	 rep;
	struct buf		 b;
	uint32_t		 job;

	if (proto_decode_pid(m, &req, cause) != 0)
		return -1;
	if (check_own_child(peer, req.pid, cause) != 0)
		return -1;
	if (supervise_manage(req.pid, peer->uid, peer->gid, &job, cause) != 0)
		return -1;
	/*
	 * The stub is checked again once the engine has stopped it: a child
	 * that exec'd a set-uid program meanwhile is refused, and left be.
	 */
	memset(&opts, 0, sizeof opts);
	access_op_init(&op, peer, 1);
	opts.check = access_frozen;
	opts.check_arg = &op;
	opts.stall_ms = IMAGE_STALL_MS;
	memset(&rep, 0, sizeof rep);
	if (ckpt_restore(req.pid, m->fd, &opts, &rep.stats, cause) != 0) {
		/*
		 * the engine killed the stub (its exit reaches nobody here) or,
		 * refused, detached it
		 */
		supervise_forget(req.pid);
		return -1;
	}
	supervise_refresh(req.pid);
	log_info("job %u: restored process %d: %llu pages in %.3f s", job,
	    (int)req.pid, (unsigned long long)rep.stats.pages, rep.stats.secs);
	rep.pid = req.pid;
	buf_init(&b);
	proto_encode_restored(&b, &rep);
	control_send(c, &b);
	return 0;
}

static int
req_checkpoint(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct ckpt_opts	 opts;
	struct access_op	 op;
	struct msg_checkpoint	 req;
	struct msg_checkpointed	 rep;
	struct pstatus		 ps;
	struct task		*t;
	struct buf		 b;
	uint32_t		 state;
	char			*why = NULL;
	int			 rv;

	if (proto_decode_checkpoint(m, &req, cause) != 0)
		return -1;
	if ((t = find_managed(req.pid, cause)) == NULL)
		return -1;
	if (procinfo_status(req.pid, &ps, cause) != 0)
		return -1;
	/* what its user could PTRACE_ATTACH to, or root; never privileged */
	if (access_task(t, peer, cause) != 0)
		return -1;
	if ((why = ckpt_cantmove(req.pid)) != NULL) {
		cause_set(cause, "cannot checkpoint process %d: %s",
		    (int)req.pid, why);
		free(why);
		return -1;
	}

	memset(&opts, 0, sizeof opts);
	opts.flags = (req.flags & PROTO_CKPT_KILL) ? CKPT_KILL :
	    CKPT_LEAVE_RUNNING;
	access_op_init(&op, peer, 0);
	opts.check = access_frozen;
	opts.check_arg = &op;
	opts.stall_ms = IMAGE_STALL_MS;
	memset(&rep, 0, sizeof rep);
	state = t->state;
	t->state = PROTO_STATE_CHECKPOINTING;
	rv = ckpt_dump(req.pid, m->fd, &opts, &rep.stats, &why);
	if ((t = supervise_find(req.pid)) != NULL)
		t->state = state;
	if (rep.stats.exited)
		supervise_forget(req.pid);
	if (rv != 0) {
		cause_set(cause, "cannot checkpoint process %d: %s",
		    (int)req.pid, why);
		free(why);
		return -1;
	}
	log_info("checkpointed process %d for uid %u: %llu pages, frozen "
	    "%.3f s, total %.3f s%s", (int)req.pid, (unsigned)peer->uid,
	    (unsigned long long)rep.stats.pages, rep.stats.freeze_secs,
	    rep.stats.secs, opts.flags == CKPT_KILL ? ", killed" : "");
	rep.pid = req.pid;
	rep.comm = ps.comm;
	buf_init(&b);
	proto_encode_checkpointed(&b, &rep);
	control_send(c, &b);
	return 0;
}

static int
req_ps(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_ps_entry	 e;
	struct msg_ps_end	 end = { 0 };
	struct task		*t;
	struct buf		 b;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	buf_init(&b);
	for (t = supervise_first_process(); t != NULL;
	    t = supervise_next_process(t)) {
		memset(&e, 0, sizeof e);
		e.pid = t->tgid;
		e.ppid = t->ppid;
		e.uid = t->owner;
		e.job = t->job;
		e.state = t->state;
		e.threads = supervise_nthreads(t->tgid);
		e.start_time = t->start;
		e.command = t->command;
		if (t->away == NULL && access_privileged(t, 0))
			e.cantmove = xstrdup(t->priv);
		else
			e.cantmove = t->away != NULL ? NULL :
			    ckpt_cantmigrate(t->tgid);
		migrate_ps(t, &e);
		proto_encode_ps_entry(&b, &e);
		free(e.cantmove);
		free(e.where_name);
		control_send(c, &b);
		end.count++;
	}
	proto_encode_ps_end(&b, &end);
	control_send(c, &b);
	return 0;
}

static int
req_periodic(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct msg_periodic	 req;
	struct owner		 o;
	struct task		*t;
	int			 rv = -1;

	if (proto_decode_periodic(m, &req, cause) != 0)
		return -1;
	if ((t = find_managed(req.pid, cause)) == NULL)
		goto out;
	if (access_task(t, peer, cause) != 0)
		goto out;
	/* the files are written as the requester, who named them */
	if (owner_of(peer->pid, &o, cause) != 0)
		goto out;
	rv = periodic_add(req.pid, t->job, &o, peer->pid, req.seconds,
	    req.path, cause);
	owner_free(&o);
	if (rv == 0)
		reply_ok(c);
out:
	proto_free_periodic(&req);
	return rv;
}

static int
req_nodes(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_node		*ns;
	struct msg_count	 end;
	struct buf		 b;
	size_t			 n, i;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	n = cluster_nodes(&ns);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		proto_encode_node(&b, &ns[i]);
		control_send(c, &b);
	}
	free(ns);
	end.count = (uint32_t)n;
	proto_encode_count(&b, MSG_NODES_END, &end);
	control_send(c, &b);
	return 0;
}

static int
req_status(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_status	 st;
	struct msg_link		*ls;
	struct msg_count	 end;
	struct buf		 b;
	size_t			 n, i;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	cluster_status(&st);
	buf_init(&b);
	proto_encode_status(&b, &st);
	proto_free_status(&st);
	control_send(c, &b);
	n = peer_links(&ls);
	for (i = 0; i < n; i++) {
		proto_encode_link(&b, &ls[i]);
		proto_free_link(&ls[i]);
		control_send(c, &b);
	}
	free(ls);
	end.count = (uint32_t)n;
	proto_encode_count(&b, MSG_STATUS_END, &end);
	control_send(c, &b);
	return 0;
}

/* Admin settings change the node for everyone: root only, as mosctl. */
static int
check_root(struct ctl_conn *c, const char *what, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);

	if (peer->uid != 0)
		return cause_set(cause, "permission denied: %s needs root "
		    "(uid 0), you are uid %u", what, (unsigned)peer->uid);
	return 0;
}

static int
req_set(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_set	req;

	if (proto_decode_set(m, &req, cause) != 0)
		return -1;
	if (check_root(c, "omctl set", cause) != 0)
		return -1;
	if (cluster_set(req.setting, req.value, cause) != 0)
		return -1;
	reply_ok(c);
	return 0;
}

static int
req_expel(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_count	rep;
	struct buf		b;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	if (check_root(c, "omctl expel", cause) != 0)
		return -1;
	if (cluster_expel(&rep.count, cause) != 0)
		return -1;
	buf_init(&b);
	proto_encode_count(&b, MSG_EXPELLED, &rep);
	control_send(c, &b);
	return 0;
}

static int
req_leave(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	if (proto_decode_empty(m, cause) != 0)
		return -1;
	if (check_root(c, "omctl leave", cause) != 0)
		return -1;
	if (cluster_leave(cause) != 0)
		return -1;
	reply_ok(c);
	return 0;
}

static int
req_join(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	if (proto_decode_empty(m, cause) != 0)
		return -1;
	if (check_root(c, "omctl join", cause) != 0)
		return -1;
	if (cluster_join(cause) != 0)
		return -1;
	reply_ok(c);
	return 0;
}

/*
 * A managed process the peer may act on (access_task: the kernel's attach
 * rule, or root; never one that gained privileges).
 */
static struct task *
find_own(const struct ctl_peer *peer, pid_t pid, char **cause)
{
	struct task	*t;

	if ((t = find_managed(pid, cause)) == NULL)
		return NULL;
	if (access_task(t, peer, cause) != 0)
		return NULL;
	return t;
}

/* "home", a node id or a node name: 0 for home. */
static int
resolve_node(const char *arg, uint32_t *node, char **cause)
{
	struct msg_node	*nodes;
	size_t		 n, i;
	char		*end;
	unsigned long	 v;

	if (strcmp(arg, "home") == 0) {
		*node = 0;
		return 0;
	}
	n = cluster_nodes(&nodes);
	v = strtoul(arg, &end, 10);
	for (i = 0; i < n; i++) {
		if ((*end == '\0' && nodes[i].node == v) ||
		    strcmp(nodes[i].name, arg) == 0) {
			*node = nodes[i].node;
			free(nodes);
			return 0;
		}
	}
	free(nodes);
	return cause_set(cause, "unknown node %s", arg);
}

static int
req_migrate(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_migrate	 req;
	struct task		*t;
	uint32_t		 node = 0;
	int			 rv = -1;

	if (proto_decode_migrate(m, &req, cause) != 0)
		return -1;
	if ((t = find_own(control_peer(c), req.pid, cause)) == NULL ||
	    resolve_node(req.node, &node, cause) != 0)
		goto out;
	if (req.flags & PROTO_MIG_AFTER_EXEC) {
		if (node == 0 || node == cluster_self()) {
			cause_set(cause, "--on needs another node");
			goto out;
		}
		t->migrate_on_exec = node;
		reply_ok(c);
		rv = 0;
		goto out;
	}
	rv = migrate_start(t, node, control_id(c), cause);
out:
	proto_free_migrate(&req);
	return rv;
}

static int
req_bring(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct msg_bring	 req;
	struct task		*t;

	if (proto_decode_bring(m, &req, cause) != 0)
		return -1;
	if (req.flags & PROTO_BRING_ALL) {
		migrate_bring_all(peer, control_id(c));
		return 0;
	}
	if ((t = find_own(peer, req.pid, cause)) == NULL)
		return -1;
	return migrate_bring(t, control_id(c), 1, cause) == -1 ? -1 :
	    (migrate_bring_waiter(control_id(c)), 0);
}

static int
req_lock(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_lock	 req;
	struct task	*t;

	if (proto_decode_lock(m, &req, cause) != 0)
		return -1;
	if ((t = find_own(control_peer(c), req.pid, cause)) == NULL)
		return -1;
	t->locked = req.on != 0;
	log_info("process %d %s", (int)req.pid, t->locked ? "locked at home" :
	    "unlocked");
	reply_ok(c);
	return 0;
}

/* omrun --stay / --nodes: what the balancer may do with the job. */
static int
req_policy(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_policy	 req;
	struct task		*t;

	if (proto_decode_policy(m, &req, cause) != 0)
		return -1;
	if ((t = find_own(control_peer(c), req.pid, cause)) == NULL)
		return -1;
	t->stay = (req.flags & PROTO_POL_STAY) != 0;
	memcpy(t->allowed, req.nodes, req.nnodes * sizeof req.nodes[0]);
	t->nallowed = req.nnodes;
	reply_ok(c);
	return 0;
}
