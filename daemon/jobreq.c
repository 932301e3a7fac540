/*
 * jobreq.c: a job supervisor's side of the requests for its processes
 * (jobreq.h). A client's request arrives whole, with the credentials ommd
 * saw on the client's connection; the answer goes back whole. The checks
 * are made here, where the process is traced, against the process as it
 * is when it is acted on.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/config.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "asuser.h"
#include "control.h"
#include "jobd.h"
#include "jobreq.h"
#include "migrate.h"
#include "periodic.h"
#include "procinfo.h"
#include "supervise.h"

/* A user's image file, pipe or FIFO that moves nothing this long fails. */
#define IMAGE_STALL_MS	30000

/* A request being served: who asked, and where the answer goes. */
struct jreq {
	uint64_t		 reqid;
	struct ctl_peer		 peer;
	const struct proto_msg	*m;	/* the client's message, with its fd */
};

static int	jr_manage(struct jreq *, char **);
static int	jr_restore(struct jreq *, char **);
static int	jr_checkpoint(struct jreq *, char **);
static int	jr_periodic(struct jreq *, char **);
static int	jr_bring(struct jreq *, char **);
static int	jr_lock(struct jreq *, char **);
static int	jr_policy(struct jreq *, char **);

/*
 * The client requests a supervisor serves. fn answers (jobd_reply) and
 * returns 0, or returns -1 with a cause for the client, sent as ERROR.
 */
static const struct jr_ent {
	uint16_t	  type;
	int		(*fn)(struct jreq *, char **);
} jr_table[] = {
	{ MSG_MANAGE,		jr_manage },
	{ MSG_RESTORE,		jr_restore },
	{ MSG_CHECKPOINT,	jr_checkpoint },
	{ MSG_PERIODIC,		jr_periodic },
	{ MSG_BRING,		jr_bring },
	{ MSG_LOCK,		jr_lock },
	{ MSG_POLICY,		jr_policy },
};

static int	seen;

void
jobreq_init(struct event_base *b, const struct omm_config *c)
{
	(void)b;
	(void)c;
}

int
jobreq_seen(void)
{
	return seen;
}

static void
reply_ok(struct jreq *r)
{
	struct buf	b;

	buf_init(&b);
	proto_encode_ok(&b);
	jobd_reply(r->reqid, &b);
	buf_free(&b);
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

static int
jr_manage(struct jreq *r, char **cause)
{
	struct msg_pid	req;
	uint32_t	job;

	if (proto_decode_pid(r->m, &req, cause) != 0)
		return -1;
	if (check_own_child(&r->peer, req.pid, cause) != 0)
		return -1;
	if (supervise_manage(req.pid, r->peer.uid, r->peer.gid, &job,
	    cause) != 0)
		return -1;
	/*
	 * Seized now: an exec from here on stops for us. One that came
	 * between the check and the seize shows in its credentials.
	 */
	if (check_own_child(&r->peer, req.pid, cause) != 0) {
		supervise_release(req.pid);
		return -1;
	}
	reply_ok(r);
	return 0;
}

static int
jr_restore(struct jreq *r, char **cause)
{
	struct restore_opts	 opts;
	struct access_op	 op;
	struct msg_pid		 req;
	struct msg_restored	 rep;
	struct buf		 b;
	uint32_t		 job;

	if (proto_decode_pid(r->m, &req, cause) != 0)
		return -1;
	if (r->m->fd == -1)
		return cause_set(cause, "RESTORE without its image");
	if (check_own_child(&r->peer, req.pid, cause) != 0)
		return -1;
	if (supervise_manage(req.pid, r->peer.uid, r->peer.gid, &job,
	    cause) != 0)
		return -1;
	/*
	 * The stub is checked again once the engine has stopped it: a child
	 * that exec'd a set-uid program meanwhile is refused, and left be.
	 */
	memset(&opts, 0, sizeof opts);
	access_op_init(&op, &r->peer, 1);
	opts.check = access_frozen;
	opts.check_arg = &op;
	opts.stall_ms = IMAGE_STALL_MS;
	memset(&rep, 0, sizeof rep);
	if (ckpt_restore(req.pid, r->m->fd, &opts, &rep.stats, cause) != 0) {
		/*
		 * the engine killed the stub (its exit reaches nobody here) or,
		 * refused, detached it
		 */
		supervise_forget(req.pid);
		return -1;
	}
	supervise_refresh(req.pid);
	supervise_sync_threads(req.pid);
	log_info("job %u: restored process %d: %llu pages in %.3f s", job,
	    (int)req.pid, (unsigned long long)rep.stats.pages, rep.stats.secs);
	rep.pid = req.pid;
	buf_init(&b);
	proto_encode_restored(&b, &rep);
	jobd_reply(r->reqid, &b);
	buf_free(&b);
	return 0;
}

static int
jr_checkpoint(struct jreq *r, char **cause)
{
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

	if (proto_decode_checkpoint(r->m, &req, cause) != 0)
		return -1;
	if (r->m->fd == -1)
		return cause_set(cause, "CHECKPOINT without its image file");
	if ((t = find_own(&r->peer, req.pid, cause)) == NULL)
		return -1;
	if (procinfo_status(req.pid, &ps, cause) != 0)
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
	opts.stall_ms = IMAGE_STALL_MS;
	access_op_init(&op, &r->peer, 0);
	opts.check = access_frozen;
	opts.check_arg = &op;
	memset(&rep, 0, sizeof rep);
	state = t->state;
	t->state = PROTO_STATE_CHECKPOINTING;
	rv = ckpt_dump(req.pid, r->m->fd, &opts, &rep.stats, &why);
	if ((t = supervise_find(req.pid)) != NULL)
		t->state = state;
	if (rep.stats.exited)
		supervise_forget(req.pid);
	else
		supervise_sync_threads(req.pid);
	if (rv != 0) {
		cause_set(cause, "cannot checkpoint process %d: %s",
		    (int)req.pid, why);
		free(why);
		return -1;
	}
	log_info("checkpointed process %d for uid %u: %llu pages, frozen "
	    "%.3f s, total %.3f s%s", (int)req.pid, (unsigned)r->peer.uid,
	    (unsigned long long)rep.stats.pages, rep.stats.freeze_secs,
	    rep.stats.secs, opts.flags == CKPT_KILL ? ", killed" : "");
	rep.pid = req.pid;
	rep.comm = ps.comm;
	buf_init(&b);
	proto_encode_checkpointed(&b, &rep);
	jobd_reply(r->reqid, &b);
	buf_free(&b);
	return 0;
}

static int
jr_periodic(struct jreq *r, char **cause)
{
	struct msg_periodic	 req;
	struct owner		 o;
	struct task		*t;
	int			 rv = -1;

	if (proto_decode_periodic(r->m, &req, cause) != 0)
		return -1;
	if ((t = find_managed(req.pid, cause)) == NULL)
		goto out;
	if (access_task(t, &r->peer, cause) != 0)
		goto out;
	/* the files are written as the requester, who named them */
	if (owner_of(r->peer.pid, &o, cause) != 0)
		goto out;
	rv = periodic_add(req.pid, t->job, &o, r->peer.pid, req.seconds,
	    req.path, cause);
	owner_free(&o);
	if (rv == 0)
		reply_ok(r);
out:
	proto_free_periodic(&req);
	return rv;
}

static int
jr_bring(struct jreq *r, char **cause)
{
	struct msg_bring	 req;
	struct task		*t;

	if (proto_decode_bring(r->m, &req, cause) != 0)
		return -1;
	if (req.flags & PROTO_BRING_ALL)
		return cause_set(cause, "BRING --all reaches a supervisor "
		    "as BRING_ALL");
	if ((t = find_own(&r->peer, req.pid, cause)) == NULL)
		return -1;
	if (migrate_bring(t, r->reqid, 1, cause) == -1)
		return -1;
	migrate_bring_waiter(r->reqid);
	return 0;
}

static int
jr_lock(struct jreq *r, char **cause)
{
	struct msg_lock	 req;
	struct task	*t;

	if (proto_decode_lock(r->m, &req, cause) != 0)
		return -1;
	if ((t = find_own(&r->peer, req.pid, cause)) == NULL)
		return -1;
	t->locked = req.on != 0;
	log_info("process %d %s", (int)req.pid, t->locked ? "locked at home" :
	    "unlocked");
	jobd_changed();
	reply_ok(r);
	return 0;
}

/* omrun --stay / --nodes: what the balancer may do with the job. */
static int
jr_policy(struct jreq *r, char **cause)
{
	struct msg_policy	 req;
	struct task		*t;

	if (proto_decode_policy(r->m, &req, cause) != 0)
		return -1;
	if ((t = find_own(&r->peer, req.pid, cause)) == NULL)
		return -1;
	t->stay = (req.flags & PROTO_POL_STAY) != 0;
	memcpy(t->allowed, req.nodes, req.nnodes * sizeof req.nodes[0]);
	t->nallowed = req.nnodes;
	jobd_changed();
	reply_ok(r);
	return 0;
}

static void
on_req(const struct proto_msg *m)
{
	struct jm_req		 rq;
	struct proto_msg	 cm;
	struct jreq		 r;
	char			*cause = NULL;
	size_t			 i;

	if (jobmsg_decode_req(m, &rq, &cause) != 0 ||
	    proto_hdr_decode(&cm, rq.msg, rq.len, &cause) != 0 ||
	    (cm.fd = m->fd, proto_validate(&cm, &cause)) != 0) {
		log_warnx("job %u: a request ommd sent: %s", jobd_job(), cause);
		if (jobmsg_decode_req(m, &rq, NULL) == 0)
			jobd_reply_error(rq.reqid, "%s", cause);
		free(cause);
		return;
	}
	memset(&r, 0, sizeof r);
	r.reqid = rq.reqid;
	r.peer.uid = rq.uid;
	r.peer.gid = rq.gid;
	r.peer.pid = rq.pid;
	r.m = &cm;
	seen = 1;
	for (i = 0; i < sizeof jr_table / sizeof jr_table[0]; i++) {
		if (jr_table[i].type != cm.hdr.type)
			continue;
		if (jr_table[i].fn(&r, &cause) != 0) {
			log_info("%s from pid %d uid %u refused: %s",
			    proto_type_name(cm.hdr.type), (int)r.peer.pid,
			    (unsigned)r.peer.uid, cause);
			jobd_reply_error(r.reqid, "%s", cause);
			free(cause);
		}
		jobd_changed();
		return;
	}
	jobd_reply_error(r.reqid, "a supervisor does not serve %s",
	    proto_type_name(cm.hdr.type));
}

static void
on_migrate(const struct proto_msg *m)
{
	struct jm_migrate	 mg;
	struct ctl_peer		 peer;
	struct task		*t;
	char			*cause = NULL;

	if (jobmsg_decode_migrate(m, &mg, &cause) != 0) {
		log_warnx("job %u: %s", jobd_job(), cause);
		free(cause);
		return;
	}
	seen = 1;
	migrate_learn(&mg);
	if ((t = find_managed(mg.pid, &cause)) == NULL)
		goto fail;
	if (mg.rpid != 0) {
		peer.pid = mg.rpid;
		peer.uid = mg.uid;
		peer.gid = mg.gid;
	}
	/* the requester's attach rule; never a privileged process */
	if (access_task(t, mg.rpid != 0 ? &peer : NULL, &cause) != 0)
		goto fail;
	if (mg.flags & JM_MIG_AFTER_EXEC) {
		t->migrate_on_exec = mg.node;
		if (mg.reqid != 0) {
			struct jreq	r = { .reqid = mg.reqid };

			reply_ok(&r);
		}
		return;
	}
	if (migrate_start(t, mg.node, mg.reqid, &cause) == -1)
		goto fail;
	jobd_changed();
	return;
fail:
	if (mg.reqid == 0) {
		/* the balancer's: it leaves this one alone a while */
		log_info("balancer: process %d: %s", (int)mg.pid, cause);
		jobd_event(JM_EV_REFUSED, 0, mg.pid);
	}
	jobd_reply_error(mg.reqid, "%s", cause);
	free(cause);
}

static void
on_bring_all(const struct proto_msg *m)
{
	struct jm_bring_all	ba;
	struct ctl_peer		peer;
	char			*cause = NULL;

	if (jobmsg_decode_bring_all(m, &ba, &cause) != 0) {
		log_warnx("job %u: %s", jobd_job(), cause);
		free(cause);
		return;
	}
	if (ba.rpid != 0) {
		peer.pid = ba.rpid;
		peer.uid = ba.uid;
		peer.gid = ba.gid;
	}
	migrate_bring_all(ba.rpid != 0 ? &peer : NULL, ba.reqid);
}

void
jobreq_handle(const struct proto_msg *m)
{
	switch (m->hdr.type) {
	case JM_REQ:
		on_req(m);
		break;
	case JM_MIGRATE:
		on_migrate(m);
		break;
	case JM_BRING_ALL:
		on_bring_all(m);
		break;
	case JM_RELOAD:
		jobd_reload();
		break;
	default:
		log_warnx("job %u: unexpected %s from ommd", jobd_job(),
		    jobmsg_type_name(m->hdr.type));
		break;
	}
}

void
jobreq_proc(struct task *t, struct jm_proc *p)
{
	struct migrate_usage	mu;
	int64_t			now = supervise_now_ms();

	memset(p, 0, sizeof *p);
	p->ps.pid = t->tgid;
	p->ps.ppid = t->ppid;
	p->ps.uid = t->owner;
	p->ps.job = t->job;
	p->ps.state = t->state;
	p->ps.threads = supervise_nthreads(t->tgid);
	p->ps.start_time = t->start;
	p->ps.command = t->command;
	migrate_ps(t, &p->ps);
	{
		const char	*err;

		periodic_status(t->tgid, &p->ps.ckpt_every, &p->ps.ckpt_last,
		    &err);
		p->ps.ckpt_error = err != NULL ? xstrdup(err) : NULL;
	}
	/* what gained privileges says why omm leaves it alone */
	if (p->ps.cantmove == NULL && t->priv != NULL &&
	    p->ps.away == PROTO_AWAY_HOME)
		p->ps.cantmove = xstrdup(t->priv);
	p->stay = t->stay != 0;
	p->nallowed = (uint32_t)t->nallowed;
	memcpy(p->allowed, t->allowed, sizeof p->allowed);
	p->resident_ms = now - t->resident_ms;
	if (!migrate_usage(t, &mu))
		p->moving = 1;
	else if (mu.away) {
		p->cpu_ns = mu.cpu_ns;
		p->rss = mu.rss;
		p->host_cpus_milli = mu.host_cpus_milli;
		p->host_load = mu.host_load;
	}
}

void
jobreq_proc_free(struct jm_proc *p)
{
	/* command is the task's; where_name, cantmove, ckpt_error ours */
	free(p->ps.where_name);
	free(p->ps.cantmove);
	free(p->ps.ckpt_error);
}
