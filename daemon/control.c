/* control.c: the control socket: accept, read one message at a time, queue replies. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/buf.h"
#include "omm/config.h"
#include "omm/connlimit.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "control.h"
#include "request.h"

/* A peer that asks but does not read its replies is dropped past this. */
#define CTL_MAX_QUEUED	(16u << 20)

struct outmsg {
	struct buf		b;
	TAILQ_ENTRY(outmsg)	entry;
};

struct ctl_conn {
	int			 fd;
	uint64_t		 id;		/* for replies that come later */
	struct ctl_peer		 peer;
	struct event		*rev;
	struct event		*wev;
	TAILQ_HEAD(, outmsg)	 outq;
	size_t			 queued;	/* bytes in outq */
	int			 closing;	/* close once outq is sent */
	int			 broken;	/* a send failed: close after this request */
	int			 counted;	/* holds a slot of limits (not root) */
	struct cl_key		 key;		/* its uid */
	int			 waiting;	/* a request awaits its answer */
	struct event		*idle_ev;	/* closes it when idle too long */
	TAILQ_ENTRY(ctl_conn)	 entry;
};

static TAILQ_HEAD(, ctl_conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
static int			 nconns;
static uint64_t			 next_id = 1;
static struct event_base	*base;
static struct event		*listen_ev;
static int			 listen_fd = -1;
static char			*sock_path;
static uint8_t			*rbuf;	/* one request at a time */
/*
 * Connections of users other than root, per uid and in all; root is
 * never refused (ommd.conf control_per_user, control_max).
 */
static struct connlimit		*limits;
static uint32_t			 idle_s = OMM_CONTROL_IDLE_S;

static void	conn_read(evutil_socket_t, short, void *);
static void	conn_write(evutil_socket_t, short, void *);
static void	idle_arm(struct ctl_conn *);

/* mkdir -p of path's directory, 0755 for what is created. */
static int
make_parent(const char *path, char **cause)
{
	char	*dir, *p, saved;

	dir = xstrdup(path);
	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			cause_set(cause, "mkdir %s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(dir);
	return 0;
}

int
control_listen(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, probe;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return cause_set(cause, "socket path %s: longer than %zu bytes",
		    path, sizeof sun.sun_path - 1);
	strcpy(sun.sun_path, path);
	if (make_parent(path, cause) != 0)
		return -1;

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return cause_set(cause, "%s exists and is not a socket",
			    path);
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe == -1)
			return cause_set(cause, "socket: %s", strerror(errno));
		if (connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0) {
			close(probe);
			return cause_set(cause, "another ommd is running on %s",
			    path);
		}
		close(probe);
		/* nobody listens: the socket of an ommd that died */
		if (unlink(path) == -1 && errno != ENOENT)
			return cause_set(cause, "remove stale socket %s: %s",
			    path, strerror(errno));
		log_info("removed stale socket %s", path);
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return cause_set(cause, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		cause_set(cause, "bind %s: %s", path, strerror(errno));
		goto fail;
	}
	/* everyone may connect; each request is checked by its peer's uid */
	if (chmod(path, 0666) == -1) {
		cause_set(cause, "chmod %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	if (listen(fd, 128) == -1) {
		cause_set(cause, "listen %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail:
	close(fd);
	return -1;
}

static void
conn_free(struct ctl_conn *c)
{
	struct outmsg	*o;

	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, o, entry);
		buf_free(&o->b);
		free(o);
	}
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->idle_ev);
	free(c);
}

static void
conn_free_later(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

/* Called from the connection's own callbacks: the memory goes later. */
static void
conn_close(struct ctl_conn *c)
{
	struct timeval	now = { 0, 0 };

	event_del(c->rev);
	event_del(c->wev);
	evtimer_del(c->idle_ev);
	close(c->fd);
	c->fd = -1;
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	if (c->counted)
		connlimit_put(limits, &c->key);
	c->counted = 0;
	if (event_base_once(base, -1, EV_TIMEOUT, conn_free_later, c,
	    &now) == -1)
		fatalx("%s: event_base_once", __func__);
}

/* Send what is queued; 0 when everything went, 1 when some waits, -1 dead. */
static int
conn_flush(struct ctl_conn *c)
{
	struct outmsg	*o;
	char		*cause = NULL;

	while ((o = TAILQ_FIRST(&c->outq)) != NULL) {
		if (proto_send(c->fd, &o->b, -1, &cause) != 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				free(cause);
				event_add(c->wev, NULL);
				return 1;
			}
			log_debug("control: pid %d: %s", (int)c->peer.pid,
			    cause);
			free(cause);
			return -1;
		}
		TAILQ_REMOVE(&c->outq, o, entry);
		c->queued -= o->b.len;
		buf_free(&o->b);
		free(o);
	}
	return 0;
}

static void
idle_arm(struct ctl_conn *c)
{
	struct timeval	tv = { idle_s, 0 };

	evtimer_add(c->idle_ev, &tv);
}

/* Nothing asked, nothing owed, for control_idle_s: the slot is freed. */
static void
conn_idle(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn	*c = arg;
	char		 k[64];

	log_info_rl(cl_key_str(&c->key, k, sizeof k), "control: closing the connection of pid %d uid %u: idle "
	    "for %u s", (int)c->peer.pid, (unsigned)c->peer.uid, idle_s);
	conn_close(c);
}

const struct ctl_peer *
control_peer(const struct ctl_conn *c)
{
	return &c->peer;
}

void
control_send(struct ctl_conn *c, struct buf *b)
{
	struct outmsg	*o;

	if (c->fd == -1 || c->broken) {
		buf_free(b);
		return;
	}
	if (c->queued + b->len > CTL_MAX_QUEUED) {
		log_warnx("control: pid %d uid %u does not read its replies; "
		    "dropping it", (int)c->peer.pid, (unsigned)c->peer.uid);
		buf_free(b);
		c->broken = 1;
		return;
	}
	/* answered: from now on its idle time counts */
	if (c->waiting) {
		c->waiting = 0;
		idle_arm(c);
	}
	o = xcalloc(1, sizeof *o);
	o->b = *b;
	buf_init(b);
	c->queued += o->b.len;
	TAILQ_INSERT_TAIL(&c->outq, o, entry);
	/* replies are sent from conn_read, which closes a broken connection */
	if (TAILQ_FIRST(&c->outq) == o && conn_flush(c) == -1)
		c->broken = 1;
}

void
control_send_error(struct ctl_conn *c, const char *cause)
{
	struct buf	b;

	buf_init(&b);
	proto_encode_error(&b, cause);
	control_send(c, &b);
}

static void
conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn	*c = arg;
	int		 rv;

	rv = conn_flush(c);
	if (rv == -1 || (rv == 0 && c->closing))
		conn_close(c);
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn		*c = arg;
	struct proto_msg	 m;
	char			*cause = NULL;
	int			 n;

	if (c->closing)
		return;
	n = proto_recv(c->fd, rbuf, PROTO_MSG_MAX, &m, &cause);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		free(cause);
		return;
	}
	if (n == 0) {
		conn_close(c);
		return;
	}
	if (n == -1) {
		if (errno == EBADMSG)
			log_warnx("control: malformed message from pid %d "
			    "uid %u: %s", (int)c->peer.pid,
			    (unsigned)c->peer.uid, cause);
		else
			log_debug("control: pid %d: %s", (int)c->peer.pid,
			    cause);
		free(cause);
		conn_close(c);
		return;
	}
	if (proto_check_version(&m.hdr, "ommd", &cause) != 0) {
		/* tell a newer client why, then hang up */
		log_warnx("control: pid %d uid %u: %s", (int)c->peer.pid,
		    (unsigned)c->peer.uid, cause);
		control_send_error(c, cause);
		free(cause);
		if (m.fd != -1)
			close(m.fd);
		c->closing = 1;
		event_del(c->rev);
		if (TAILQ_EMPTY(&c->outq) || c->broken)
			conn_close(c);
		return;
	}
	/* a request in progress is never idle: its answer may take long */
	c->waiting = 1;
	evtimer_del(c->idle_ev);
	if (proto_validate(&m, &cause) != 0 ||
	    request_handle(c, &m, &cause) != 0) {
		log_warnx("control: malformed %s message from pid %d uid %u: "
		    "%s", proto_type_name(m.hdr.type), (int)c->peer.pid,
		    (unsigned)c->peer.uid, cause);
		free(cause);
		if (m.fd != -1)
			close(m.fd);
		conn_close(c);
		return;
	}
	if (m.fd != -1)
		close(m.fd);
	if (c->broken)
		conn_close(c);
}

/* Refuse a connection over its user's limit, saying why (best effort). */
static void
refuse(int fd, const struct ucred *cred, enum cl_verdict v,
    const struct cl_key *k)
{
	struct buf	 b;
	char		*why = NULL;

	if (v == CL_SOURCE_FULL)
		xasprintf(&why, "uid %u has %u connections to ommd open "
		    "already (control_per_user): close some and retry",
		    (unsigned)cred->uid, connlimit_count(limits, k));
	else
		xasprintf(&why, "ommd has %u connections of users open "
		    "already (control_max): retry later",
		    connlimit_total(limits));
	char		 ks[64];

	log_warnx_rl(cl_key_str(k, ks, sizeof ks),
	    "control: refused pid %d uid %u: %s", (int)cred->pid,
	    (unsigned)cred->uid, why);
	buf_init(&b);
	proto_encode_error(&b, why);
	(void)send(fd, b.data, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	buf_free(&b);
	free(why);
	close(fd);
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ctl_conn	*c;
	struct ucred	 cred;
	struct cl_key	 key;
	enum cl_verdict	 v;
	socklen_t	 len = sizeof cred;
	int		 fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	cl_key_uid(&key, cred.uid);
	if (cred.uid != 0 && (v = connlimit_take(limits, &key)) != CL_OK) {
		refuse(fd, &cred, v, &key);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->id = next_id++;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->key = key;
	c->counted = cred.uid != 0;
	TAILQ_INIT(&c->outq);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read, c);
	c->wev = event_new(base, fd, EV_WRITE, conn_write, c);
	c->idle_ev = evtimer_new(base, conn_idle, c);
	if (c->rev == NULL || c->wev == NULL || c->idle_ev == NULL ||
	    event_add(c->rev, NULL) == -1)
		fatalx("control: cannot set up events");
	idle_arm(c);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	log_debug("control: connection from pid %d uid %u", (int)cred.pid,
	    (unsigned)cred.uid);
}

void
control_set_limits(uint32_t per_user, uint32_t max, uint32_t idle)
{
	if (limits == NULL)
		limits = connlimit_new(per_user, max);
	else
		connlimit_set(limits, per_user, max);
	idle_s = idle;
}

uint64_t
control_id(const struct ctl_conn *c)
{
	return c->id;
}

/* A request answered later finds its connection, if it is still there. */
struct ctl_conn *
control_lookup(uint64_t id)
{
	struct ctl_conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		if (c->id == id)
			return c;
	}
	return NULL;
}

void
control_start(struct event_base *b, int fd, const char *path)
{
	base = b;
	listen_fd = fd;
	if (limits == NULL)
		limits = connlimit_new(OMM_CONTROL_PER_USER, OMM_CONTROL_MAX);
	sock_path = xstrdup(path);
	rbuf = xmalloc(PROTO_MSG_MAX);
	listen_ev = event_new(base, fd, EV_READ | EV_PERSIST, control_accept,
	    NULL);
	if (listen_ev == NULL || event_add(listen_ev, NULL) == -1)
		fatalx("control: cannot listen for connections");
}

void
control_shutdown(void)
{
	struct ctl_conn	*c;

	while ((c = TAILQ_FIRST(&conns)) != NULL) {
		TAILQ_REMOVE(&conns, c, entry);
		nconns--;
		close(c->fd);
		conn_free(c);
	}
	connlimit_free(limits);
	limits = NULL;
	if (listen_ev != NULL) {
		event_free(listen_ev);
		listen_ev = NULL;
	}
	if (listen_fd != -1) {
		close(listen_fd);
		listen_fd = -1;
	}
	if (sock_path != NULL) {
		unlink(sock_path);
		free(sock_path);
		sock_path = NULL;
	}
	free(rbuf);
	rbuf = NULL;
}
