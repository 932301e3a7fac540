/* periodic.c: per-job checkpoint timers writing PATH.part, then PATH.prev and PATH. */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/ckpt.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "asuser.h"
#include "periodic.h"
#include "supervise.h"

struct periodic {
	pid_t		 root;
	uint32_t	 job;
	struct owner	 owner;
	char		*path;
	char		*part;		/* path.part: being written */
	char		*prev;		/* path.prev: the image before path */
	unsigned	 seconds;
	int		 errfd;		/* the job's stderr, or -1 */
	time_t		 last_ok;	/* the last good image, 0: none */
	char		*error;		/* the last one failed: why */
	struct event	*ev;
	TAILQ_ENTRY(periodic) entry;
};

static TAILQ_HEAD(, periodic)	timers = TAILQ_HEAD_INITIALIZER(timers);
static struct event_base	*base;

static void	periodic_fire(evutil_socket_t, short, void *);

void
periodic_init(struct event_base *b)
{
	base = b;
}

static struct periodic *
periodic_find(pid_t root)
{
	struct periodic	*p;

	TAILQ_FOREACH(p, &timers, entry) {
		if (p->root == root)
			return p;
	}
	return NULL;
}

static void
periodic_free(struct periodic *p)
{
	event_free(p->ev);
	owner_free(&p->owner);
	if (p->errfd != -1)
		close(p->errfd);
	free(p->error);
	free(p->path);
	free(p->part);
	free(p->prev);
	free(p);
}

/* A timer may end inside its own callback: free it from the loop later. */
static void
periodic_free_later(evutil_socket_t fd, short what, void *arg)
{
	periodic_free(arg);
}

int
periodic_add(pid_t root, uint32_t job, const struct owner *o,
    pid_t requester, unsigned seconds, const char *path, char **cause)
{
	struct periodic	*p;
	struct timeval	 tv = { .tv_sec = seconds };
	char		 errpath[64], *why = NULL;
	int		 errfd = -1;

	/* as the owner: only what it could open itself, and never later */
	snprintf(errpath, sizeof errpath, "/proc/%d/fd/2", (int)requester);
	if (asuser_open(o, errpath, O_WRONLY | O_NOCTTY | O_NONBLOCK, 0,
	    &errfd, &why) != 0) {
		log_debug("job %u: no stderr for its periodic checkpoints: %s",
		    job, why);
		free(why);
		errfd = -1;
	}

	periodic_forget(root);
	p = xcalloc(1, sizeof *p);
	p->root = root;
	p->job = job;
	p->owner = *o;
	p->owner.groups = xreallocarray(NULL, o->ngroups + 1,
	    sizeof *o->groups);
	if (o->ngroups != 0)
		memcpy(p->owner.groups, o->groups,
		    o->ngroups * sizeof *o->groups);
	p->path = xstrdup(path);
	xasprintf(&p->part, "%s.part", path);
	xasprintf(&p->prev, "%s.prev", path);
	p->seconds = seconds;
	p->errfd = errfd;
	if ((p->ev = event_new(base, -1, EV_PERSIST, periodic_fire, p)) ==
	    NULL || event_add(p->ev, &tv) == -1) {
		if (p->ev != NULL)
			event_free(p->ev);
		p->ev = NULL;
		owner_free(&p->owner);
		if (errfd != -1)
			close(errfd);
		free(p->path);
		free(p->part);
		free(p->prev);
		free(p);
		return cause_set(cause, "cannot set up a timer");
	}
	TAILQ_INSERT_TAIL(&timers, p, entry);
	log_info("job %u: checkpointing process %d every %u s to %s", job,
	    (int)root, seconds, path);
	return 0;
}

void
periodic_status(pid_t root, uint32_t *every, int64_t *last,
    const char **error)
{
	struct periodic	*p;

	*every = 0;
	*last = 0;
	*error = NULL;
	if ((p = periodic_find(root)) == NULL)
		return;
	*every = p->seconds;
	*last = (int64_t)p->last_ok;
	*error = p->error;
}

void
periodic_forget(pid_t root)
{
	struct periodic	*p;
	struct timeval	 now = { 0, 0 };

	if ((p = periodic_find(root)) == NULL)
		return;
	log_info("job %u: periodic checkpoints of process %d end", p->job,
	    (int)root);
	event_del(p->ev);
	TAILQ_REMOVE(&timers, p, entry);
	if (event_base_once(base, -1, EV_TIMEOUT, periodic_free_later, p,
	    &now) == -1)
		log_warnx("periodic: cannot free a timer");
}

void
periodic_clear(void)
{
	struct periodic	*p;

	while ((p = TAILQ_FIRST(&timers)) != NULL) {
		TAILQ_REMOVE(&timers, p, entry);
		periodic_free(p);
	}
}

/*
 * One periodic checkpoint. It runs synchronously in the event loop, like
 * every checkpoint for now: a large process holds ommd up for a while.
 */
static int
periodic_dump(struct periodic *p, struct ckpt_stats *st, char **cause)
{
	struct ckpt_opts	 opts = { .flags = CKPT_LEAVE_RUNNING };
	struct access_op	 op;
	struct task		*t;
	uint32_t		 state;
	char			*why;
	int			 fd, rv;

	/* ommd's own doing: no requester, but never a privileged process */
	access_op_init(&op, NULL, 0);
	opts.check = access_frozen;
	opts.check_arg = &op;
	if ((why = ckpt_cantmove(p->root)) != NULL) {
		cause_set(cause, "%s", why);
		free(why);
		return -1;
	}
	if (asuser_open(&p->owner, p->part, O_WRONLY | O_CREAT | O_TRUNC,
	    0600, &fd, cause) != 0)
		return -1;
	t = supervise_find(p->root);
	state = t->state;
	t->state = PROTO_STATE_CHECKPOINTING;
	rv = ckpt_dump(p->root, fd, &opts, st, cause);
	if ((t = supervise_find(p->root)) != NULL)
		t->state = state;
	if (!st->exited)
		supervise_sync_threads(p->root);
	if (rv == 0 && fsync(fd) == -1)
		rv = cause_set(cause, "fsync %s: %s", p->part, strerror(errno));
	close(fd);
	if (rv != 0) {
		why = NULL;
		if (asuser_unlink(&p->owner, p->part, &why) != 0) {
			log_warnx("job %u: %s", p->job, why);
			free(why);
		}
		return -1;
	}
	/* keep the last two complete images: a crash leaves a stray .part */
	if (asuser_rename(&p->owner, p->path, p->prev, 1, cause) != 0 ||
	    asuser_rename(&p->owner, p->part, p->path, 0, cause) != 0)
		return -1;
	return 0;
}

/* t gained privileges: one line on the job's stderr, and no more dumps. */
static void
periodic_stop(struct periodic *p, struct task *t)
{
	log_warnx("job %u: periodic checkpoints of process %d stop: it %s",
	    p->job, (int)t->tgid, t->priv);
	if (p->errfd != -1)
		dprintf(p->errfd, "omm: periodic checkpoints of process %d "
		    "stop: it %s\n", (int)t->tgid, t->priv);
	periodic_forget(t->tgid);
}

static void
periodic_fire(evutil_socket_t fd, short what, void *arg)
{
	struct periodic		*p = arg;
	struct task		*t;
	struct ckpt_stats	 st;
	char			*cause = NULL;
	pid_t			 root = p->root;

	memset(&st, 0, sizeof st);
	t = supervise_find(root);
	if (t == NULL || t->job != p->job) {
		periodic_forget(root);
		return;
	}
	if (access_privileged(t, 0)) {
		periodic_stop(p, t);
		return;
	}
	if (periodic_dump(p, &st, &cause) != 0) {
		/* it gained privileges on the way: the dump refused, for good */
		if ((t = supervise_find(root)) != NULL && t->priv != NULL) {
			free(cause);
			periodic_stop(p, t);
			return;
		}
		/*
		 * Retried next period, unless the process is gone. The job's
		 * stderr and the log hear of a failure once, not every period,
		 * and again only when the reason changes; ps shows it meanwhile.
		 */
		if (!st.exited && (p->error == NULL ||
		    strcmp(p->error, cause) != 0)) {
			log_warnx("job %u: periodic checkpoint of process %d: %s",
			    p->job, (int)root, cause);
			if (p->errfd != -1)
				dprintf(p->errfd, "omm: periodic checkpoint of "
				    "process %d to %s failed: %s (retried every "
				    "%u s)\n", (int)root, p->path, cause,
				    p->seconds);
		}
		free(p->error);
		p->error = cause;
		if (st.exited)
			supervise_forget(root);
		return;
	}
	if (p->error != NULL) {
		log_info("job %u: periodic checkpoints of process %d work "
		    "again", p->job, (int)root);
		if (p->errfd != -1)
			dprintf(p->errfd, "omm: periodic checkpoint of process "
			    "%d to %s succeeded again\n", (int)root, p->path);
		free(p->error);
		p->error = NULL;
	}
	p->last_ok = time(NULL);
	log_info("job %u: checkpointed process %d to %s: %llu pages, "
	    "frozen %.3f s, total %.3f s", p->job, (int)root, p->path,
	    (unsigned long long)st.pages, st.freeze_secs, st.secs);
	if (st.exited)
		supervise_forget(root);
}
