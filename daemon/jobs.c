/*
 * jobs.c: ommd's job supervisors (jobs.h): starting them, the connections
 * to them, routing requests and answers, and the mirror of their processes.
 *
 * A supervisor starts with one end of a socketpair; if ommd goes away (a
 * restart, a crash) it connects to the internal socket of the next ommd
 * and says HELLO again, then sends its processes. The answers of requests
 * ommd routed are matched by request id; a client whose supervisor went
 * away gets an ERROR. Nothing here waits for a supervisor: a checkpoint of
 * gigabytes runs there while ommd answers everyone else.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/buf.h"
#include "omm/cgroup.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/procfork.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "balancer.h"
#include "cluster.h"
#include "control.h"
#include "host.h"
#include "jobs.h"
#include "peer.h"
#include "procinfo.h"

#define NBUCKETS	1024
#define JOB_OUTQ_MAX	(8u << 20)	/* a supervisor that reads nothing */
#define SYNC_WAIT_MS	3000		/* supervisors of before a restart */
#define REFUSED_HOLD_S	30		/* a process whose move failed stays */
#define JOBS_DIR	"jobs"
#define NEXT_JOB_FILE	"next_job"

struct outmsg {
	struct buf		 b;
	int			 fd;		/* passed with it, ours to close */
	TAILQ_ENTRY(outmsg)	 entry;
};

struct job {
	uint32_t		 id;		/* 0 until HELLO on an accepted one */
	pid_t			 pid;
	uid_t			 owner;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	TAILQ_HEAD(, outmsg)	 outq;
	size_t			 queued;
	int			 hello;		/* HELLO seen */
	/* a new supervisor's first request waits for its HELLO and our WELCOME */
	TAILQ_HEAD(, outmsg)	 held;
	int			 dead;		/* closed, freed later */
	TAILQ_ENTRY(job)	 entry;
};

/* A request a supervisor will answer (JM_REP with its id). */
enum pend_kind { PEND_FORWARD = 1, PEND_BRING_ALL };

struct pending {
	uint64_t		 reqid;
	enum pend_kind		 kind;
	uint64_t		 conn;		/* the client, 0: none */
	struct job		*job;
	struct bringall		*ba;
	TAILQ_ENTRY(pending)	 entry;
};

/* A BRING --all: one answer per supervisor, then the sum. */
struct bringall {
	uint64_t	conn;
	uint32_t	left;
	uint32_t	count;
};

static TAILQ_HEAD(, job)	 jobs = TAILQ_HEAD_INITIALIZER(jobs);
static TAILQ_HEAD(, jproc)	 procs = TAILQ_HEAD_INITIALIZER(procs);
static LIST_HEAD(, jproc)	 buckets[NBUCKETS];
static TAILQ_HEAD(, pending)	 pendings = TAILQ_HEAD_INITIALIZER(pendings);
static struct event_base	*base;
static struct jobs_config	 cfg;
static int			 listen_fd = -1;
static struct event		*listen_ev;
static uint64_t			 next_reqid = 1;
static uint32_t			 next_job = 1;
static uint8_t			*rbuf;
static size_t			 nprocs;
static struct jobs_counters	 counters;
static int64_t			 sync_until;	/* monotonic ms */
static int			 expected;	/* supervisors not back yet */

static void	job_read(evutil_socket_t, short, void *);
static void	job_write(evutil_socket_t, short, void *);
static void	job_close(struct job *, const char *why);

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the mirror ---- */

static unsigned
bucket(pid_t pid)
{
	return (unsigned)pid % NBUCKETS;
}

struct jproc *
jobs_find(pid_t pid)
{
	struct jproc	*p;

	LIST_FOREACH(p, &buckets[bucket(pid)], hash) {
		if (p->p.ps.pid == pid)
			return p;
	}
	return NULL;
}

struct jproc *
jobs_first(void)
{
	return TAILQ_FIRST(&procs);
}

struct jproc *
jobs_next(struct jproc *p)
{
	return TAILQ_NEXT(p, entry);
}

size_t
jobs_nprocs(void)
{
	return nprocs;
}

uint32_t
jobs_away(void)
{
	struct jproc	*p;
	uint32_t	 n = 0;

	TAILQ_FOREACH(p, &procs, entry)
		n += p->p.ps.away == PROTO_AWAY_REMOTE;
	return n;
}

int
jobs_moving(void)
{
	struct jproc	*p;

	TAILQ_FOREACH(p, &procs, entry) {
		if (p->p.moving)
			return 1;
	}
	return 0;
}

int
jobs_syncing(void)
{
	return expected > 0 && now_ms() < sync_until;
}

const struct jobs_counters *
jobs_counters(void)
{
	return &counters;
}

static void
proc_remove(struct jproc *p)
{
	TAILQ_REMOVE(&procs, p, entry);
	LIST_REMOVE(p, hash);
	jobmsg_free_proc(&p->p);
	free(p);
	nprocs--;
}

/* A PROC: the process as its supervisor sees it now. */
static void
proc_update(struct job *j, struct jm_proc *m)
{
	struct jproc	*p;

	if ((p = jobs_find(m->ps.pid)) != NULL && p->job != j) {
		/* a pid reused by another job: the old entry is stale */
		proc_remove(p);
		p = NULL;
	}
	if (p == NULL) {
		p = xcalloc(1, sizeof *p);
		p->job = j;
		TAILQ_INSERT_TAIL(&procs, p, entry);
		LIST_INSERT_HEAD(&buckets[bucket(m->ps.pid)], p, hash);
		nprocs++;
	} else
		jobmsg_free_proc(&p->p);
	p->p = *m;
	memset(m, 0, sizeof *m);
}

static void
job_forget_procs(struct job *j)
{
	struct jproc	*p, *next;

	for (p = TAILQ_FIRST(&procs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->job == j)
			proc_remove(p);
	}
}

/* ---- connections ---- */

static struct job *
job_new(int fd)
{
	struct job	*j;

	j = xcalloc(1, sizeof *j);
	j->fd = fd;
	TAILQ_INIT(&j->outq);
	TAILQ_INIT(&j->held);
	j->rev = event_new(base, fd, EV_READ | EV_PERSIST, job_read, j);
	j->wev = event_new(base, fd, EV_WRITE, job_write, j);
	if (j->rev == NULL || j->wev == NULL || event_add(j->rev, NULL) == -1)
		fatalx("jobs: cannot set up events");
	TAILQ_INSERT_TAIL(&jobs, j, entry);
	return j;
}

static void
job_free(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = arg;
	struct outmsg	*o;

	while ((o = TAILQ_FIRST(&j->outq)) != NULL) {
		TAILQ_REMOVE(&j->outq, o, entry);
		if (o->fd != -1)
			close(o->fd);
		buf_free(&o->b);
		free(o);
	}
	while ((o = TAILQ_FIRST(&j->held)) != NULL) {
		TAILQ_REMOVE(&j->held, o, entry);
		if (o->fd != -1)
			close(o->fd);
		buf_free(&o->b);
		free(o);
	}
	event_free(j->rev);
	event_free(j->wev);
	free(j);
}

static int
job_flush(struct job *j)
{
	struct outmsg	*o;
	char		*cause = NULL;

	while ((o = TAILQ_FIRST(&j->outq)) != NULL) {
		if (proto_send(j->fd, &o->b, o->fd, &cause) != 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				free(cause);
				event_add(j->wev, NULL);
				return 1;
			}
			log_debug("job %u: %s", j->id, cause);
			free(cause);
			return -1;
		}
		TAILQ_REMOVE(&j->outq, o, entry);
		j->queued -= o->b.len;
		if (o->fd != -1)
			close(o->fd);
		buf_free(&o->b);
		free(o);
	}
	return 0;
}

/* Queue a message (and fd, which becomes ours) for the supervisor. */
static void
job_send(struct job *j, struct buf *b, int fd)
{
	struct outmsg	*o;

	if (j->dead || j->queued + b->len > JOB_OUTQ_MAX) {
		if (!j->dead)
			log_warnx("job %u: its supervisor reads nothing; "
			    "dropping it", j->id);
		if (fd != -1)
			close(fd);
		buf_reset(b);
		return;
	}
	o = xcalloc(1, sizeof *o);
	o->b = *b;
	o->fd = fd;
	buf_init(b);
	if (!j->hello) {
		TAILQ_INSERT_TAIL(&j->held, o, entry);
		return;
	}
	j->queued += o->b.len;
	TAILQ_INSERT_TAIL(&j->outq, o, entry);
	if (TAILQ_FIRST(&j->outq) == o && job_flush(j) == -1)
		job_close(j, "sending failed");
}

static void
job_write(evutil_socket_t fd, short what, void *arg)
{
	struct job	*j = arg;

	if (job_flush(j) == -1)
		job_close(j, "sending failed");
}

/* The file that says, across a restart of ommd, that job id lives in pid. */
static void
job_file(uint32_t id, pid_t pid)
{
	char	*path, buf[32];
	int	 fd, n;

	xasprintf(&path, "%s/%s/%u", cfg.run_dir, JOBS_DIR, id);
	if (pid == 0) {
		unlink(path);
		free(path);
		return;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1) {
		n = snprintf(buf, sizeof buf, "%ld\n", (long)pid);
		if (write(fd, buf, (size_t)n) != n)
			log_warn("%s", path);
		close(fd);
	} else
		log_warn("%s", path);
	free(path);
}

static void
pending_fail(struct pending *pd, const char *why)
{
	struct ctl_conn	*c;

	TAILQ_REMOVE(&pendings, pd, entry);
	if (pd->kind == PEND_BRING_ALL) {
		if (--pd->ba->left == 0) {
			if ((c = control_lookup(pd->ba->conn)) != NULL) {
				struct msg_count	r = { pd->ba->count };
				struct buf		b;

				buf_init(&b);
				proto_encode_count(&b, MSG_BROUGHT, &r);
				control_send(c, &b);
			}
			free(pd->ba);
		}
	} else if (pd->conn != 0 && (c = control_lookup(pd->conn)) != NULL)
		control_send_error(c, why);
	free(pd);
}

static void
job_close(struct job *j, const char *why)
{
	struct pending	*pd, *next;
	struct timeval	 now = { 0, 0 };

	if (j->dead)
		return;
	j->dead = 1;
	log_debug("job %u: supervisor %d: %s", j->id, (int)j->pid, why);
	event_del(j->rev);
	event_del(j->wev);
	close(j->fd);
	j->fd = -1;
	TAILQ_REMOVE(&jobs, j, entry);
	for (pd = TAILQ_FIRST(&pendings); pd != NULL; pd = next) {
		next = TAILQ_NEXT(pd, entry);
		if (pd->job == j)
			pending_fail(pd, "the job's supervisor went away");
	}
	job_forget_procs(j);
	/* gone for good unless it lives on (ommd's own shutdown keeps it) */
	if (j->id != 0 && (j->pid <= 0 || procinfo_zombie(j->pid)))
		job_file(j->id, 0);
	if (event_base_once(base, -1, EV_TIMEOUT, job_free, j, &now) == -1)
		fatalx("%s: event_base_once", __func__);
}

static struct job *
job_by_id(uint32_t id)
{
	struct job	*j;

	TAILQ_FOREACH(j, &jobs, entry) {
		if (j->id == id && !j->dead)
			return j;
	}
	return NULL;
}

static void
send_welcome(struct job *j)
{
	struct jm_welcome	w;
	struct buf		b;
	const char		*name = peer_name(cluster_self());

	memset(&w, 0, sizeof w);
	w.self = cluster_self();
	w.incarnation = cluster_incarnation();
	snprintf(w.name, sizeof w.name, "%s", name != NULL ? name : "");
	buf_init(&b);
	jobmsg_encode_welcome(&b, &w);
	job_send(j, &b, -1);
	buf_free(&b);
}

static void
on_hello(struct job *j, const struct proto_msg *m)
{
	struct jm_hello	 h;
	struct job	*old;
	struct outmsg	*o;
	struct buf	 buf;
	char		*cause = NULL;

	if (jobmsg_decode_hello(m, &h, &cause) != 0) {
		log_warnx("job supervisor: %s", cause);
		free(cause);
		job_close(j, "bad HELLO");
		return;
	}
	if (j->hello || (j->id != 0 && j->id != h.job)) {
		job_close(j, "HELLO twice");
		return;
	}
	/* a supervisor that reconnects replaces what we had of it */
	if ((old = job_by_id(h.job)) != NULL && old != j)
		job_close(old, "replaced by a new connection");
	j->id = h.job;
	j->pid = h.pid;
	j->owner = h.owner;
	j->hello = 1;
	if (h.job >= next_job)
		next_job = h.job + 1;
	job_file(j->id, j->pid);
	if (expected > 0)
		expected--;
	log_debug("job %u: supervisor %d of uid %u says hello", j->id,
	    (int)j->pid, (unsigned)j->owner);
	send_welcome(j);
	while ((o = TAILQ_FIRST(&j->held)) != NULL) {
		TAILQ_REMOVE(&j->held, o, entry);
		buf = o->b;
		job_send(j, &buf, o->fd);
		buf_free(&buf);
		free(o);
	}
}

static struct pending *
pending_take(uint64_t reqid)
{
	struct pending	*pd;

	TAILQ_FOREACH(pd, &pendings, entry) {
		if (pd->reqid == reqid) {
			TAILQ_REMOVE(&pendings, pd, entry);
			return pd;
		}
	}
	return NULL;
}

static void
on_rep(struct job *j, const struct proto_msg *m)
{
	struct jm_rep		 r;
	struct pending		*pd;
	struct proto_msg	 em;
	struct msg_count	 cnt;
	struct ctl_conn		*c;
	struct buf		 b;
	char			*cause = NULL;

	if (jobmsg_decode_rep(m, &r, &cause) != 0 ||
	    proto_hdr_decode(&em, r.msg, r.len, &cause) != 0 ||
	    proto_validate(&em, &cause) != 0) {
		log_warnx("job %u: bad answer: %s", j->id, cause);
		free(cause);
		return;
	}
	if ((pd = pending_take(r.reqid)) == NULL || pd->job != j) {
		if (pd != NULL)
			TAILQ_INSERT_TAIL(&pendings, pd, entry);
		log_debug("job %u: answer to unknown request %llu", j->id,
		    (unsigned long long)r.reqid);
		return;
	}
	if (pd->kind == PEND_BRING_ALL) {
		if (em.hdr.type == MSG_BROUGHT &&
		    proto_decode_count(&em, &cnt, NULL) == 0)
			pd->ba->count += cnt.count;
		pd->reqid = 0;
		TAILQ_INSERT_TAIL(&pendings, pd, entry);
		pending_fail(pd, NULL);
		return;
	}
	if (pd->conn != 0 && (c = control_lookup(pd->conn)) != NULL) {
		buf_init(&b);
		buf_add(&b, r.msg, r.len);
		control_send(c, &b);
	}
	free(pd);
}

static void
on_event(struct job *j, const struct proto_msg *m)
{
	struct jm_event	 e;
	struct jproc	*p;
	char		*cause = NULL;

	if (jobmsg_decode_event(m, &e, &cause) != 0) {
		log_warnx("job %u: %s", j->id, cause);
		free(cause);
		return;
	}
	switch (e.kind) {
	case JM_EV_OUT:
		counters.out++;
		break;
	case JM_EV_BROUGHT:
		counters.brought++;
		break;
	case JM_EV_REFUSED:
		counters.refused++;
		if (e.node != 0)
			balancer_refused(e.node);
		else if ((p = jobs_find(e.pid)) != NULL)
			/* the balancer asks again of this one much later */
			p->cantmove_until = time(NULL) + REFUSED_HOLD_S;
		break;
	case JM_EV_LOST:
		counters.lost++;
		break;
	}
}

/*
 * A guest server of an ommd before us (a restart): its connection is not
 * a supervisor's; the host side keeps it (host_adopt) to learn its end.
 */
static void
guest_back(struct job *j, const struct proto_msg *m)
{
	struct jm_guest	 g;
	char		*cause = NULL;
	int		 fd;

	if (jobmsg_decode_guest(m, &g, &cause) != 0) {
		log_warnx("a guest server: %s", cause);
		free(cause);
		job_close(j, "malformed JM_GUEST");
		return;
	}
	if ((fd = fcntl(j->fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		log_warn("guest %d: dup", (int)g.pid);
		job_close(j, "dup failed");
		return;
	}
	job_close(j, "a guest server, taken back");
	host_adopt(fd, &g);
}

static void
job_read(evutil_socket_t fd, short what, void *arg)
{
	struct job		*j = arg;
	struct proto_msg	 m;
	struct jm_proc		 pm;
	struct jm_gone		 g;
	struct jproc		*p;
	char			*cause = NULL;
	int			 n;

	n = proto_recv(j->fd, rbuf, PROTO_MSG_MAX, &m, &cause);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		free(cause);
		return;
	}
	if (n <= 0) {
		job_close(j, n == 0 ? "closed" : cause);
		free(cause);
		return;
	}
	if (m.fd != -1)
		close(m.fd);	/* nothing a supervisor sends carries one */
	if (jobmsg_validate(&m, &cause) != 0) {
		log_warnx("job %u: malformed %s: %s", j->id,
		    jobmsg_type_name(m.hdr.type), cause);
		free(cause);
		job_close(j, "malformed message");
		return;
	}
	if (!j->hello && m.hdr.type == JM_GUEST) {
		guest_back(j, &m);
		return;
	}
	if (!j->hello && m.hdr.type != JM_HELLO) {
		job_close(j, "no HELLO first");
		return;
	}
	switch (m.hdr.type) {
	case JM_HELLO:
		on_hello(j, &m);
		break;
	case JM_REP:
		on_rep(j, &m);
		break;
	case JM_PROC:
		if (jobmsg_decode_proc(&m, &pm, NULL) == 0) {
			proc_update(j, &pm);
			jobmsg_free_proc(&pm);
		}
		break;
	case JM_GONE:
		if (jobmsg_decode_gone(&m, &g, NULL) == 0 &&
		    (p = jobs_find(g.pid)) != NULL && p->job == j)
			proc_remove(p);
		break;
	case JM_EVENT:
		on_event(j, &m);
		break;
	default:
		log_warnx("job %u: unexpected %s", j->id,
		    jobmsg_type_name(m.hdr.type));
		break;
	}
}

/* ---- the internal socket ---- */

static void
internal_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;
	int		fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("internal socket: accept");
		return;
	}
	/* root only, but a mode can be wrong: ask the kernel who it is */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    cred.uid != 0) {
		log_warnx("internal socket: connection from uid %u refused",
		    (unsigned)cred.uid);
		close(fd);
		return;
	}
	job_new(fd);
}

static int
internal_listen(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return cause_set(cause, "internal socket %s: path too long",
		    path);
	strcpy(sun.sun_path, path);
	/* the control socket proved no other ommd runs here */
	if (unlink(path) == -1 && errno != ENOENT)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    chmod(path, 0600) == -1 || listen(fd, 128) == -1) {
		cause_set(cause, "internal socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Supervisors of before our start that still run: they will be back. */
static void
count_expected(void)
{
	struct dirent	*de;
	DIR		*d;
	char		*path, buf[32], *cmd;
	unsigned long	 id;
	long		 pid;
	int		 fd, n;

	xasprintf(&path, "%s/%s", cfg.run_dir, JOBS_DIR);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		log_warn("mkdir %s", path);
	if ((d = opendir(path)) == NULL) {
		free(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if ((id = strtoul(de->d_name, NULL, 10)) == 0 || id > UINT32_MAX)
			continue;
		if (id >= next_job)
			next_job = (uint32_t)id + 1;
		pid = 0;
		if ((fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC)) != -1) {
			if ((n = (int)read(fd, buf, sizeof buf - 1)) > 0) {
				buf[n] = '\0';
				pid = strtol(buf, NULL, 10);
			}
			close(fd);
		}
		cmd = pid > 0 ? procinfo_cmdline((pid_t)pid) : NULL;
		if (cmd != NULL && strstr(cmd, "--job") != NULL &&
		    !procinfo_zombie((pid_t)pid))
			expected++;
		else
			unlinkat(dirfd(d), de->d_name, 0);
		free(cmd);
	}
	closedir(d);
	free(path);
	if (expected > 0)
		log_info("%d job supervisors of before are expected back",
		    expected);
}

static void
load_next_job(void)
{
	char	*path, buf[32];
	FILE	*f;

	xasprintf(&path, "%s/%s", cfg.run_dir, NEXT_JOB_FILE);
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(buf, sizeof buf, f) != NULL &&
		    strtoul(buf, NULL, 10) > next_job &&
		    strtoul(buf, NULL, 10) < UINT32_MAX)
			next_job = (uint32_t)strtoul(buf, NULL, 10);
		fclose(f);
	}
	free(path);
}

static uint32_t
take_job_id(void)
{
	char	*path, *tmp;
	FILE	*f;
	uint32_t id = next_job++;

	if (next_job == 0)
		next_job = 1;
	xasprintf(&path, "%s/%s", cfg.run_dir, NEXT_JOB_FILE);
	xasprintf(&tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "we")) != NULL) {
		fprintf(f, "%u\n", next_job);
		if (fclose(f) == 0)
			rename(tmp, path);
	}
	free(tmp);
	free(path);
	return id;
}

int
jobs_start(struct event_base *b, const struct jobs_config *c, char **cause)
{
	size_t	i;

	base = b;
	cfg = *c;
	cfg.internal_path = xstrdup(c->internal_path);
	cfg.run_dir = xstrdup(c->run_dir);
	cfg.conf_path = c->conf_path != NULL ? xstrdup(c->conf_path) : NULL;
	for (i = 0; i < NBUCKETS; i++)
		LIST_INIT(&buckets[i]);
	rbuf = xmalloc(PROTO_MSG_MAX);
	load_next_job();
	count_expected();
	sync_until = now_ms() + SYNC_WAIT_MS;
	if ((listen_fd = internal_listen(cfg.internal_path, cause)) == -1)
		return -1;
	listen_ev = event_new(base, listen_fd, EV_READ | EV_PERSIST,
	    internal_accept, NULL);
	if (listen_ev == NULL || event_add(listen_ev, NULL) == -1)
		fatalx("jobs: cannot listen");
	return 0;
}

void
jobs_shutdown(void)
{
	struct job	*j;
	struct pending	*pd;

	/* the supervisors live on and come back to the next ommd */
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		event_del(j->rev);
		event_del(j->wev);
		close(j->fd);
		TAILQ_REMOVE(&jobs, j, entry);
		j->fd = -1;
		job_free(-1, 0, j);
	}
	while ((pd = TAILQ_FIRST(&pendings)) != NULL) {
		TAILQ_REMOVE(&pendings, pd, entry);
		free(pd);
	}
	while (TAILQ_FIRST(&procs) != NULL)
		proc_remove(TAILQ_FIRST(&procs));
	if (listen_ev != NULL)
		event_free(listen_ev);
	listen_ev = NULL;
	if (listen_fd != -1) {
		close(listen_fd);
		unlink(cfg.internal_path);
	}
	listen_fd = -1;
	free(rbuf);
	rbuf = NULL;
}

/* ---- starting a supervisor ---- */

/*
 * Fork and exec `ommd --job ID` with sv as its fd 3. Signals are blocked
 * across the fork and reset in the child before anything else (tmux's
 * job.c): a signal for ommd must never run ommd's handler in the child.
 */
static pid_t
spawn(uint32_t id, uid_t owner, int sv, char **cause)
{
	const char	*cg;
	char		*why = NULL;
	sigset_t	 all;
	char		 sid[16], sown[16], *argv[16];
	int		 argc = 0, i, sig;
	pid_t		 pid;

	snprintf(sid, sizeof sid, "%u", id);
	snprintf(sown, sizeof sown, "%u", (unsigned)owner);
	argv[argc++] = (char *)"ommd";
	argv[argc++] = (char *)"--job";
	argv[argc++] = sid;
	argv[argc++] = (char *)"--owner";
	argv[argc++] = sown;
	argv[argc++] = (char *)"--internal";
	argv[argc++] = (char *)cfg.internal_path;
	if (cfg.conf_path != NULL) {
		argv[argc++] = (char *)"-c";
		argv[argc++] = (char *)cfg.conf_path;
	}
	if (cfg.syslog)
		argv[argc++] = (char *)"--syslog";
	for (i = 0; i < cfg.verbose && i < 3; i++)
		argv[argc++] = (char *)"-v";
	argv[argc] = NULL;

	if ((pid = proc_fork()) == -1)
		return cause_set(cause, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* ignored ones too: the supervisor starts from exec's defaults */
		for (sig = 1; sig < NSIG; sig++) {
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		}
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		if (dup2(sv, 3) == -1)
			_exit(126);
		syscall(SYS_close_range, 4, ~0U, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	/* before it can fork a deputy: they follow it */
	if ((cg = host_jobs_cgroup()) != NULL && cg_attach(cg, pid, &why) == -1) {
		log_warnx("job %u: supervisor %ld stays in ommd's cgroup: %s",
		    id, (long)pid, why);
		free(why);
	}
	return pid;
}

static struct pending *
pending_new(enum pend_kind kind, uint64_t conn, struct job *j)
{
	struct pending	*pd;

	pd = xcalloc(1, sizeof *pd);
	pd->reqid = next_reqid++;
	pd->kind = kind;
	pd->conn = conn;
	pd->job = j;
	TAILQ_INSERT_TAIL(&pendings, pd, entry);
	return pd;
}

/* m, whole, to j's supervisor, with the client's credentials. */
static void
send_req(struct job *j, struct pending *pd, const struct ctl_peer *peer,
    const struct proto_msg *m)
{
	struct jm_req	 rq;
	struct buf	 b, whole;
	int		 fd = -1;

	buf_init(&whole);
	buf_add_u16(&whole, m->hdr.version);
	buf_add_u16(&whole, m->hdr.type);
	buf_add_u32(&whole, m->hdr.len);
	buf_add(&whole, m->payload, m->hdr.len);
	memset(&rq, 0, sizeof rq);
	rq.reqid = pd->reqid;
	rq.uid = peer->uid;
	rq.gid = peer->gid;
	rq.pid = peer->pid;
	rq.msg = whole.data;
	rq.len = whole.len;
	buf_init(&b);
	jobmsg_encode_req(&b, &rq);
	buf_free(&whole);
	/* the client's descriptor stays the caller's: ours is a copy */
	if (m->fd != -1 && (fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		log_warn("job %u: dup", j->id);
	job_send(j, &b, fd);
	buf_free(&b);
}

int
jobs_new(uint64_t conn, const struct ctl_peer *peer, pid_t pid,
    const struct proto_msg *m, char **cause)
{
	struct job	*j;
	struct pending	*pd;
	uint32_t	 id;
	int		 sv[2];
	pid_t		 jpid;

	if (m->hdr.len + PROTO_HDR_LEN > JM_EMBED_MAX)
		return cause_set(cause, "request too large");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return cause_set(cause, "socketpair: %s", strerror(errno));
	id = take_job_id();
	if ((jpid = spawn(id, peer->uid, sv[1], cause)) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		log_warn("job %u: O_NONBLOCK", id);
	j = job_new(sv[0]);
	j->id = id;
	j->pid = jpid;
	j->owner = peer->uid;
	job_file(id, jpid);
	log_info("job %u: supervisor %d for process %d of uid %u", id,
	    (int)jpid, (int)pid, (unsigned)peer->uid);
	/* it says HELLO, we WELCOME; meanwhile the request waits in its queue */
	pd = pending_new(PEND_FORWARD, conn, j);
	send_req(j, pd, peer, m);
	return 0;
}

int
jobs_forward(uint64_t conn, const struct ctl_peer *peer, pid_t pid,
    const struct proto_msg *m, char **cause)
{
	struct jproc	*p;
	struct pending	*pd;

	if ((p = jobs_find(pid)) == NULL || p->job->dead)
		return cause_set(cause, "process %d is not managed by omm",
		    (int)pid);
	if (m->hdr.len + PROTO_HDR_LEN > JM_EMBED_MAX)
		return cause_set(cause, "request too large");
	pd = pending_new(PEND_FORWARD, conn, p->job);
	send_req(p->job, pd, peer, m);
	return 0;
}

int
jobs_migrate(uint64_t conn, const struct ctl_peer *peer, pid_t pid,
    uint32_t node,
    uint32_t flags, char **cause)
{
	const struct node_addr	*na;
	const char		*name;
	struct jm_migrate	 mg;
	struct jproc		*p;
	struct pending		*pd;
	struct buf		 b;

	if ((p = jobs_find(pid)) == NULL || p->job->dead)
		return cause_set(cause, "process %d is not managed by omm",
		    (int)pid);
	memset(&mg, 0, sizeof mg);
	if (peer != NULL) {
		mg.uid = peer->uid;
		mg.gid = peer->gid;
		mg.rpid = peer->pid;
	}
	mg.pid = pid;
	mg.flags = flags;
	if (node != 0 && node != cluster_self()) {
		/* either says it lives: gossip lags a restart, a link redials */
		if (!cluster_node_up(node) &&
		    peer_link_state(node) != PROTO_LINK_UP)
			return cause_set(cause, "node %s is not up",
			    (name = peer_name(node)) != NULL && *name ? name :
			    "?");
		na = peer_addr(node);
		if (na == NULL || na->family != NODE_AF_INET)
			return cause_set(cause, "node %u: no IPv4 address known",
			    node);
		mg.node = node;
		memcpy(&mg.ipv4, na->addr, 4);
		mg.port = htons(host_migrate_port(na->port));
		name = peer_name(node);
		snprintf(mg.name, sizeof mg.name, "%s", name != NULL &&
		    *name ? name : "?");
	}
	if (conn != 0) {
		pd = pending_new(PEND_FORWARD, conn, p->job);
		mg.reqid = pd->reqid;
	}
	buf_init(&b);
	jobmsg_encode_migrate(&b, &mg);
	job_send(p->job, &b, -1);
	buf_free(&b);
	return 0;
}

void
jobs_bring_all(const struct ctl_peer *peer, uint64_t conn)
{
	struct jm_bring_all	 ba;
	struct bringall		*w;
	struct pending		*pd;
	struct job		*j;
	struct buf		 b;

	w = xcalloc(1, sizeof *w);
	w->conn = conn;
	buf_init(&b);
	TAILQ_FOREACH(j, &jobs, entry) {
		/* a user's own jobs; the supervisor checks each process */
		if (!j->hello || (peer != NULL && peer->uid != 0 &&
		    j->owner != peer->uid))
			continue;
		pd = pending_new(PEND_BRING_ALL, 0, j);
		pd->ba = w;
		w->left++;
		memset(&ba, 0, sizeof ba);
		ba.reqid = pd->reqid;
		if (peer != NULL) {
			ba.uid = peer->uid;
			ba.gid = peer->gid;
			ba.rpid = peer->pid;
		}
		jobmsg_encode_bring_all(&b, &ba);
		job_send(j, &b, -1);
	}
	buf_free(&b);
	if (w->left == 0) {
		/* nobody to ask: the answer is 0 at once */
		w->left = 1;
		pd = pending_new(PEND_BRING_ALL, 0, NULL);
		pd->ba = w;
		pending_fail(pd, NULL);
	}
}

void
jobs_reload(void)
{
	struct job	*j;
	struct buf	 b;

	buf_init(&b);
	TAILQ_FOREACH(j, &jobs, entry) {
		if (!j->hello)
			continue;
		jobmsg_encode_reload(&b);
		job_send(j, &b, -1);
	}
	buf_free(&b);
}

/* A child of ommd ended: 1 if it was a supervisor. */
int
jobs_child_exited(pid_t pid, int status)
{
	struct job	*j;

	TAILQ_FOREACH(j, &jobs, entry) {
		if (j->pid == pid) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				log_warnx("job %u: supervisor %d ended with "
				    "status %#x", j->id, (int)pid, status);
			j->pid = -1;
			return 1;
		}
	}
	return 0;
}
