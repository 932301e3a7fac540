/* request.c: the control requests, each authorised by its peer's credentials. */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "cluster.h"
#include "peer.h"
#include "control.h"
#include "jobs.h"
#include "procinfo.h"
#include "reload.h"
#include "request.h"


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
static int	req_reload(struct ctl_conn *, const struct proto_msg *, char **);

/*
 * The requests ommd serves. fn queues its replies (or hands the request to
 * a job's supervisor, which answers) and returns 0, or returns -1 with a
 * cause for the user, sent back as ERROR. Nothing here waits: checkpoints,
 * restores and migrations run in the supervisors.
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
	{ MSG_RELOAD,		req_reload },
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
 * Process control goes to the job's supervisor (jobs.c), which checks and
 * acts where the process is traced, and answers the client itself. Only
 * what needs no supervisor is decided here.
 */
static int
req_manage(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_pid	req;

	if (proto_decode_pid(m, &req, cause) != 0)
		return -1;
	return jobs_new(control_id(c), control_peer(c), req.pid, m, cause);
}

static int
req_restore(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_pid	req;

	if (proto_decode_pid(m, &req, cause) != 0)
		return -1;
	return jobs_new(control_id(c), control_peer(c), req.pid, m, cause);
}

/* A process's request to its supervisor, or a cause naming what pid is. */
static int
forward(struct ctl_conn *c, pid_t pid, const struct proto_msg *m,
    char **cause)
{
	if (jobs_find(pid) == NULL) {
		if (!procinfo_exists(pid))
			return cause_set(cause, "no such process %d", (int)pid);
		return cause_set(cause, "process %d is not managed by omm",
		    (int)pid);
	}
	return jobs_forward(control_id(c), control_peer(c), pid, m, cause);
}

static int
req_checkpoint(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_checkpoint	req;

	if (proto_decode_checkpoint(m, &req, cause) != 0)
		return -1;
	return forward(c, req.pid, m, cause);
}

/*
 * From the mirror the supervisors keep; why a process at home cannot move
 * is asked of /proc here (a supervisor names only what it alone knows).
 */
static int
req_ps(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_ps_entry	 e;
	struct msg_ps_end	 end = { 0 };
	struct jproc		*p;
	struct buf		 b;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	buf_init(&b);
	for (p = jobs_first(); p != NULL; p = jobs_next(p)) {
		e = p->p.ps;
		if (e.cantmove == NULL && e.away == PROTO_AWAY_HOME)
			e.cantmove = ckpt_cantwhy(e.pid);
		else if (e.cantmove != NULL)
			e.cantmove = xstrdup(e.cantmove);
		proto_encode_ps_entry(&b, &e);
		free(e.cantmove);
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
	struct msg_periodic	req;
	int			rv;

	if (proto_decode_periodic(m, &req, cause) != 0)
		return -1;
	rv = forward(c, req.pid, m, cause);
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

/* omctl reload: as SIGHUP does, and the answer says what was done. */
static int
req_reload(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_reloaded	rep;
	struct buf		b;

	if (proto_decode_empty(m, cause) != 0)
		return -1;
	if (check_root(c, "omctl reload", cause) != 0)
		return -1;
	if (reload_run(&rep, cause) != 0)
		return -1;
	buf_init(&b);
	proto_encode_reloaded(&b, &rep);
	proto_free_reloaded(&rep);
	control_send(c, &b);
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
	const struct ctl_peer	*peer = control_peer(c);
	struct msg_migrate	 req;
	struct jproc		*p;
	uint32_t		 node = 0, flags = JM_MIG_MANUAL;
	int			 rv = -1;

	if (proto_decode_migrate(m, &req, cause) != 0)
		return -1;
	if ((p = jobs_find(req.pid)) == NULL) {
		cause_set(cause, procinfo_exists(req.pid) ? "process %d is not "
		    "managed by omm" : "no such process %d", (int)req.pid);
		goto out;
	}
	/*
	 * Who may is the supervisor's to decide, on the frozen process; asked
	 * here too for an answer about the process before one about the node.
	 */
	if (p->p.ps.cantmove != NULL && p->p.ps.away == PROTO_AWAY_HOME) {
		/* the supervisor says so only of one that gained privileges */
		cause_set(cause, "process %d %s (omm leaves processes that "
		    "gained privileges alone)", (int)req.pid, p->p.ps.cantmove);
		goto out;
	}
	if (access_rule(req.pid, peer, cause) != 0)
		goto out;
	if (resolve_node(req.node, &node, cause) != 0)
		goto out;
	if (req.flags & PROTO_MIG_AFTER_EXEC) {
		if (node == 0 || node == cluster_self()) {
			cause_set(cause, "--on needs another node");
			goto out;
		}
		flags |= JM_MIG_AFTER_EXEC;
	}
	if (node == cluster_self())
		node = 0;
	if (node == 0 && p->p.ps.away == PROTO_AWAY_HOME) {
		cause_set(cause, "process %d is at home", (int)req.pid);
		goto out;
	}
	rv = jobs_migrate(control_id(c), peer, req.pid, node, flags,
	    cause);
out:
	proto_free_migrate(&req);
	return rv;
}

static int
req_bring(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	const struct ctl_peer	*peer = control_peer(c);
	struct msg_bring	 req;

	if (proto_decode_bring(m, &req, cause) != 0)
		return -1;
	if (req.flags & PROTO_BRING_ALL) {
		jobs_bring_all(peer, control_id(c));
		return 0;
	}
	return forward(c, req.pid, m, cause);
}

static int
req_lock(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_lock	req;

	if (proto_decode_lock(m, &req, cause) != 0)
		return -1;
	return forward(c, req.pid, m, cause);
}

/* omrun --stay / --nodes: what the balancer may do with the job. */
static int
req_policy(struct ctl_conn *c, const struct proto_msg *m, char **cause)
{
	struct msg_policy	req;

	if (proto_decode_policy(m, &req, cause) != 0)
		return -1;
	return forward(c, req.pid, m, cause);
}
