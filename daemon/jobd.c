/*
 * jobd.c: a job supervisor (jobd.h): its event loop, its link to ommd and
 * what it tells ommd of its processes.
 *
 * The link is the socketpair ommd started it with, then, should ommd go
 * away, a connection to the next ommd's internal socket (tried every half
 * second). Meanwhile nothing stops: the processes run, stay traced,
 * migrate on and come home; only requests wait for an ommd to ask them.
 * What ommd knows of the processes (jobmsg.h JM_PROC) is sent again after
 * every HELLO and whenever it changes (a digest per process tells).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/buf.h"
#include "omm/config.h"
#include "omm/crc32c.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/tls.h"
#include "omm/xmalloc.h"

#include "jobd.h"
#include "jobreq.h"
#include "migrate.h"
#include "periodic.h"
#include "supervise.h"

#define RECONNECT_MS	500	/* ommd away: try its internal socket again */
#define SYNC_MS		250	/* what changed goes to ommd this often */
#define OUTQ_MAX	(16u << 20)	/* ommd reads nothing: drop the link */

struct outmsg {
	struct buf		 b;
	TAILQ_ENTRY(outmsg)	 entry;
};

/* What ommd was last told of a process: the digest of its PROC. */
struct told {
	pid_t			 pid;
	uint32_t		 crc;
	int			 seen;
	TAILQ_ENTRY(told)	 entry;
};

static struct event_base	*base;
static struct omm_config	 conf;
static SSL_CTX			*ctx;
static uint32_t			 job;
static uid_t			 owner;
static char			*internal_path;
static int			 link_fd = -1;
static struct event		*link_rev, *link_wev, *retry_ev, *sync_ev;
static TAILQ_HEAD(, outmsg)	 outq = TAILQ_HEAD_INITIALIZER(outq);
static size_t			 queued;
static int			 welcomed;
static uint32_t			 self;
static uint64_t			 incarnation;
static char			 self_name[LV_NAME_MAX];
static uint8_t			*rbuf;
static TAILQ_HEAD(, told)	 tolds = TAILQ_HEAD_INITIALIZER(tolds);
static int			 sync_soon;

static void	link_read(evutil_socket_t, short, void *);
static void	link_write(evutil_socket_t, short, void *);
static void	link_down(const char *);
static void	sync_procs(void);

uint32_t
jobd_job(void)
{
	return job;
}

uint32_t
jobd_self(void)
{
	return self;
}

uint64_t
jobd_incarnation(void)
{
	return incarnation;
}

const char *
jobd_self_name(void)
{
	return self_name;
}

SSL_CTX *
jobd_ctx(void)
{
	return ctx;
}

/* JM_RELOAD: new deputies use the TLS files as they are now. */
void
jobd_reload(void)
{
	struct tls_files	 files;
	SSL_CTX			*nctx;
	char			*cause = NULL;

	if (!conf.fabric)
		return;
	files.ca = conf.ca;
	files.crl = conf.crl;
	files.cert = conf.cert;
	files.key = conf.key;
	if ((nctx = tls_ctx_new(&files, &cause)) == NULL) {
		log_warnx("job %u: reload: %s; keeping the old ones", job, cause);
		free(cause);
		return;
	}
	/* deputies running have their own reference */
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	ctx = nctx;
}

/* ---- the link ---- */

static int
link_flush(void)
{
	struct outmsg	*o;
	char		*cause = NULL;

	while ((o = TAILQ_FIRST(&outq)) != NULL) {
		if (proto_send(link_fd, &o->b, -1, &cause) != 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				free(cause);
				event_add(link_wev, NULL);
				return 1;
			}
			log_debug("job %u: link: %s", job, cause);
			free(cause);
			return -1;
		}
		TAILQ_REMOVE(&outq, o, entry);
		queued -= o->b.len;
		buf_free(&o->b);
		free(o);
	}
	return 0;
}

/* Queue a message for ommd; without a link it is dropped (ommd asks again). */
static void
link_send(struct buf *b)
{
	struct outmsg	*o;

	if (link_fd == -1) {
		buf_reset(b);
		return;
	}
	if (queued + b->len > OUTQ_MAX) {
		buf_reset(b);
		link_down("ommd reads nothing");
		return;
	}
	o = xcalloc(1, sizeof *o);
	o->b = *b;
	buf_init(b);
	queued += o->b.len;
	TAILQ_INSERT_TAIL(&outq, o, entry);
	if (TAILQ_FIRST(&outq) == o && link_flush() == -1)
		link_down("sending failed");
}

static void
link_write(evutil_socket_t fd, short what, void *arg)
{
	if (link_flush() == -1)
		link_down("sending failed");
}

void
jobd_reply(uint64_t reqid, struct buf *msg)
{
	struct jm_rep	r;
	struct buf	b;

	if (reqid == 0) {
		buf_reset(msg);
		return;
	}
	/* ommd's mirror is up to date before the client hears (omrun then asks PERIODIC) */
	sync_procs();
	r.reqid = reqid;
	r.msg = msg->data;
	r.len = msg->len;
	buf_init(&b);
	jobmsg_encode_rep(&b, &r);
	buf_reset(msg);
	link_send(&b);
	buf_free(&b);
}

void
jobd_reply_error(uint64_t reqid, const char *fmt, ...)
{
	struct buf	 b;
	va_list		 ap;
	char		*msg;

	if (reqid == 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	buf_init(&b);
	proto_encode_error(&b, msg != NULL ? msg : "failed");
	free(msg);
	jobd_reply(reqid, &b);
	buf_free(&b);
}

void
jobd_event(uint32_t kind, uint32_t node, pid_t pid)
{
	struct jm_event	e = { kind, node, (int32_t)pid };
	struct buf	b;

	buf_init(&b);
	jobmsg_encode_event(&b, &e);
	link_send(&b);
	buf_free(&b);
}

static void
send_hello(void)
{
	struct jm_hello	h = { JOBMSG_VERSION, 0, 0, 0 };
	struct buf	b;

	h.job = job;
	h.pid = getpid();
	h.owner = owner;
	buf_init(&b);
	jobmsg_encode_hello(&b, &h);
	link_send(&b);
	buf_free(&b);
}

static void
link_up(int fd)
{
	link_fd = fd;
	link_rev = event_new(base, fd, EV_READ | EV_PERSIST, link_read, NULL);
	link_wev = event_new(base, fd, EV_WRITE, link_write, NULL);
	if (link_rev == NULL || link_wev == NULL ||
	    event_add(link_rev, NULL) == -1)
		fatalx("job %u: cannot set up the link", job);
	welcomed = 0;
	send_hello();
}

static void
retry_link(evutil_socket_t fd, short what, void *arg)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { 0, RECONNECT_MS * 1000 };
	int			s;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", internal_path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s != -1 && connect(s, (struct sockaddr *)&sun, sizeof sun) == 0) {
		log_info("job %u: ommd is back", job);
		link_up(s);
		return;
	}
	if (s != -1)
		close(s);
	evtimer_add(retry_ev, &tv);
}

static void
link_down(const char *why)
{
	struct timeval	 tv = { 0, RECONNECT_MS * 1000 };
	struct outmsg	*o;

	if (link_fd == -1)
		return;
	log_info("job %u: link to ommd lost (%s); the job goes on, waiting "
	    "for ommd", job, why);
	event_free(link_rev);
	event_free(link_wev);
	link_rev = link_wev = NULL;
	close(link_fd);
	link_fd = -1;
	welcomed = 0;
	while ((o = TAILQ_FIRST(&outq)) != NULL) {
		TAILQ_REMOVE(&outq, o, entry);
		buf_free(&o->b);
		free(o);
	}
	queued = 0;
	evtimer_add(retry_ev, &tv);
}

static void
on_welcome(const struct proto_msg *m)
{
	struct jm_welcome	 w;
	struct told		*t;
	char			*cause = NULL;

	if (jobmsg_decode_welcome(m, &w, &cause) != 0) {
		log_warnx("job %u: %s", job, cause);
		free(cause);
		link_down("bad WELCOME");
		return;
	}
	self = w.self;
	incarnation = w.incarnation;
	snprintf(self_name, sizeof self_name, "%s", w.name);
	welcomed = 1;
	/* a new ommd knows nothing of us: tell it everything again */
	while ((t = TAILQ_FIRST(&tolds)) != NULL) {
		TAILQ_REMOVE(&tolds, t, entry);
		free(t);
	}
	jobd_changed();
}

static void
link_read(evutil_socket_t fd, short what, void *arg)
{
	struct proto_msg	 m;
	char			*cause = NULL;
	int			 n;

	n = proto_recv(link_fd, rbuf, PROTO_MSG_MAX, &m, &cause);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		free(cause);
		return;
	}
	if (n <= 0) {
		link_down(n == 0 ? "ommd closed it" : cause);
		free(cause);
		return;
	}
	if (jobmsg_validate(&m, &cause) != 0) {
		log_warnx("job %u: malformed %s from ommd: %s", job,
		    jobmsg_type_name(m.hdr.type), cause);
		free(cause);
		if (m.fd != -1)
			close(m.fd);
		link_down("malformed message");
		return;
	}
	if (m.hdr.type == JM_WELCOME)
		on_welcome(&m);
	else if (!welcomed)
		log_warnx("job %u: %s before WELCOME", job,
		    jobmsg_type_name(m.hdr.type));
	else
		jobreq_handle(&m);
	if (m.fd != -1)
		close(m.fd);
}

/* ---- what ommd knows of the processes ---- */

void
jobd_changed(void)
{
	if (!sync_soon && sync_ev != NULL) {
		sync_soon = 1;
		event_active(sync_ev, EV_TIMEOUT, 0);
	}
}

static struct told *
told_find(pid_t pid)
{
	struct told	*t;

	TAILQ_FOREACH(t, &tolds, entry) {
		if (t->pid == pid)
			return t;
	}
	return NULL;
}

/* Every process whose PROC differs from what ommd has; GONE for the rest. */
static void
sync_procs(void)
{
	struct jm_proc	 p;
	struct task	*tk;
	struct told	*t, *next;
	struct buf	 b;
	uint32_t	 crc;

	if (link_fd == -1 || !welcomed)
		return;
	buf_init(&b);
	TAILQ_FOREACH(t, &tolds, entry)
		t->seen = 0;
	for (tk = supervise_first_process(); tk != NULL;
	    tk = supervise_next_process(tk)) {
		jobreq_proc(tk, &p);
		jobmsg_encode_proc(&b, &p);
		jobreq_proc_free(&p);
		crc = crc32c(0, b.data, b.len);
		if ((t = told_find(tk->tgid)) == NULL) {
			t = xcalloc(1, sizeof *t);
			t->pid = tk->tgid;
			t->crc = ~crc;
			TAILQ_INSERT_TAIL(&tolds, t, entry);
		}
		t->seen = 1;
		if (t->crc != crc) {
			t->crc = crc;
			link_send(&b);
		}
		buf_reset(&b);
	}
	for (t = TAILQ_FIRST(&tolds); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (t->seen)
			continue;
		{
			struct jm_gone	g = { (int32_t)t->pid };

			jobmsg_encode_gone(&b, &g);
			link_send(&b);
		}
		TAILQ_REMOVE(&tolds, t, entry);
		free(t);
	}
	buf_free(&b);
}

/* A job with no process left and nothing away is over: so is its supervisor. */
static void
maybe_done(void)
{
	if (supervise_count() != 0 || migrate_pending() != 0)
		return;
	/* a fresh supervisor waits for its first request */
	if (!jobreq_seen())
		return;
	sync_procs();
	link_flush();
	log_info("job %u: no process left; its supervisor ends", job);
	event_base_loopexit(base, NULL);
}

static void
on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	tv = { 0, SYNC_MS * 1000 };

	sync_soon = 0;
	sync_procs();
	maybe_done();
	evtimer_add(sync_ev, &tv);
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	supervise_reap();
	jobd_changed();
}

static void
on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	/*
	 * A supervisor is not stopped by a signal to its process group
	 * (it has a session of its own): this one is meant for it. Its
	 * processes go on, untraced.
	 */
	log_info("job %u: %s: letting the job's processes go", job,
	    strsignal((int)sig));
	event_base_loopbreak(base);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ommd --job ID --owner UID --internal PATH "
	    "[-c CONFIG] [--syslog] [-v]...\n");
	exit(1);
}

int
jobd_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "job",	required_argument,	NULL, 'j' },
		{ "owner",	required_argument,	NULL, 'o' },
		{ "internal",	required_argument,	NULL, 'i' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "syslog",	no_argument,		NULL, 's' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct tls_files	 files;
	struct event		*sigs[3];
	struct timeval		 tv = { 0, SYNC_MS * 1000 };
	const char		*conf_path = OMM_CONF_PATH;
	char			*cause = NULL, name[32];
	int			 ch, verbose = 0, use_syslog = 0, given = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			job = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			owner = (uid_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			internal_path = xstrdup(optarg);
			break;
		case 'c':
			conf_path = optarg;
			given = 1;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (job == 0 || internal_path == NULL || optind != argc)
		usage();
	snprintf(name, sizeof name, "ommd[job %u]", job);
	log_init(name, use_syslog ? LOG_TO_SYSLOG : LOG_TO_STDERR, verbose);
	signal(SIGPIPE, SIG_IGN);
	config_defaults(&conf);
	if (config_load(&conf, conf_path, given, &cause) != 0)
		fatalx("%s", cause);
	log_setverbose(conf.verbose + verbose);
	if (conf.fabric) {
		files.ca = conf.ca;
		files.crl = conf.crl;
		files.cert = conf.cert;
		files.key = conf.key;
		if ((ctx = tls_ctx_new(&files, &cause)) == NULL) {
			log_warnx("job %u: %s: the job's processes cannot "
			    "migrate", job, cause);
			free(cause);
			cause = NULL;
		}
	}
	if ((base = event_base_new()) == NULL)
		fatalx("job %u: cannot create the event loop", job);
	sigs[0] = evsignal_new(base, SIGCHLD, on_sigchld, NULL);
	sigs[1] = evsignal_new(base, SIGTERM, on_sigterm, NULL);
	sigs[2] = evsignal_new(base, SIGINT, on_sigterm, NULL);
	if (sigs[0] == NULL || event_add(sigs[0], NULL) == -1 ||
	    sigs[1] == NULL || event_add(sigs[1], NULL) == -1 ||
	    sigs[2] == NULL || event_add(sigs[2], NULL) == -1)
		fatalx("job %u: cannot handle signals", job);
	rbuf = xmalloc(PROTO_MSG_MAX);
	retry_ev = evtimer_new(base, retry_link, NULL);
	sync_ev = evtimer_new(base, on_sync, NULL);
	if (retry_ev == NULL || sync_ev == NULL)
		fatalx("job %u: timers", job);
	periodic_init(base);
	migrate_init(base);
	supervise_init(job);
	jobreq_init(base, &conf);
	if (fcntl(3, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		fatal("job %u: fd 3", job);
	link_up(3);
	evtimer_add(sync_ev, &tv);
	event_base_dispatch(base);

	/* a SIGTERM or the end of the job: processes still here go on */
	periodic_clear();
	supervise_detach_all();
	log_info("job %u: supervisor ends", job);
	return 0;
}
