/*
 * host.c: this node as a host of guests. It listens on the migration port
 * (the node port + 1), does the TLS handshake of each connection in its
 * loop, non-blocking, within handshake_timeout_ms, and forks a guest
 * server (guestd.c) per authenticated connection: an outsider costs a
 * socket and an SSL object, never a process, and holds at most
 * handshake_per_source of them (docs/security.md, "Limits"). The guest
 * server does everything else, blocking, in its own process, so a slow or
 * hostile peer never holds ommd's loop. ommd only counts them and stops
 * them when it stops.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "omm/cgroup.h"
#include "omm/config.h"
#include "omm/connlimit.h"
#include "omm/log.h"
#include "omm/miglink.h"
#include "omm/loadvec.h"
#include "omm/jobmsg.h"
#include "omm/nodemap.h"
#include "omm/procfork.h"
#include "omm/xmalloc.h"

#include "cluster.h"
#include "depmsg.h"
#include "guestd.h"
#include "host.h"

#ifndef LIST_FOREACH_SAFE	/* BSD's, missing from glibc's sys/queue.h */
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) != NULL && ((tvar) = LIST_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct hosted {
	pid_t			 server;	/* S */
	int			 ctl;
	struct event		*ev;
	int			 ready;		/* the guest runs here */
	int			 adopted;	/* of an ommd before us: no child */
	int			 leaving;	/* asked to go (memory) */
	struct timespec		 since;		/* accepted */
	pid_t			 guest;
	uint32_t		 home;
	pid_t			 home_pid;
	uid_t			 uid;
	char			 comm[16];
	LIST_ENTRY(hosted)	 entry;
};

/* A migration connection in its TLS handshake: no process yet. */
struct handshake {
	struct miglink		*link;
	struct event		*ev;		/* the socket, as the step asks */
	struct event		*timer;		/* handshake_timeout_ms */
	struct cl_key		 key;		/* its source, for limits */
	char			 who[NODE_ADDR_STRLEN];
	LIST_ENTRY(handshake)	 entry;
};

static LIST_HEAD(, hosted)	 servers = LIST_HEAD_INITIALIZER(servers);
static LIST_HEAD(, handshake)	 handshakes =
				    LIST_HEAD_INITIALIZER(handshakes);
static struct connlimit		*limits;
static uint32_t			 handshake_ms = OMM_HANDSHAKE_MS;
static struct event_base	*base;
static struct evconnlistener	*listener;
static SSL_CTX			*ctx;
static uint32_t			 self;
static char			 self_name[LV_NAME_MAX];
static int			(*blocked)(void);
static struct host_counters	 counters;
static struct event		*mem_ev;
static struct host_now		*now_page;	/* shared with the guest servers */
static struct guest_cg		 gcg;		/* where guests live */
static char			 jobs_cg[PATH_MAX]; /* supervisors, deputies */
static uint64_t			 gmem_bytes;	/* guest_memory, or ... */
static uint32_t			 gmem_pct;	/* ... this share of MemTotal */
static const char		*internal_path;

#define MEM_LOW		0.08	/* MemAvailable under this share: guests go */
#define MEM_CHECK_MS	1000

static void
hosted_free(struct hosted *h)
{
	LIST_REMOVE(h, entry);
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->ctl != -1)
		close(h->ctl);
	free(h);
}

static void
server_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct hosted	*h = arg;
	struct depmsg	 m;
	char		*cause = NULL;

	if (depmsg_recv(fd, &m, &cause) == -1) {
		/* it ended: its exit is reaped by host_child_exited */
		free(cause);
		event_del(h->ev);
		close(h->ctl);
		h->ctl = -1;
		return;
	}
	if (m.type == DM_READY && !h->ready) {
		h->ready = 1;
		h->guest = m.a;
		h->home = m.node;
		h->home_pid = m.pid;
		h->uid = m.uid;
		snprintf(h->comm, sizeof h->comm, "%.15s", m.text);
		counters.arrived++;
	}
}

#define RECENT_MS	4000

static void	guest_cg_sweep(void);

/*
 * An adopted server's connection: nothing comes but its close, when it
 * ends (not our child: no SIGCHLD tells).
 */
static void
adopted_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct hosted	*h = arg;
	char		 c[64];
	ssize_t		 n;

	n = recv(fd, c, sizeof c, MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	log_info("guest %d (home %u:%d) ended", (int)h->guest, h->home,
	    (int)h->home_pid);
	counters.departed++;
	hosted_free(h);
	guest_cg_sweep();
}

void
host_set_internal(const char *path)
{
	internal_path = path;
}

void
host_adopt(int fd, const struct jm_guest *g)
{
	struct hosted	*h;

	h = xcalloc(1, sizeof *h);
	h->server = g->server;
	h->adopted = 1;
	h->ready = 1;
	h->guest = g->pid;
	h->home = g->home;
	h->home_pid = g->home_pid;
	h->uid = g->uid;
	snprintf(h->comm, sizeof h->comm, "%.15s", g->comm);
	clock_gettime(CLOCK_MONOTONIC, &h->since);
	h->since.tv_sec -= RECENT_MS / 1000;	/* not a new arrival */
	h->ctl = fd;
	if ((h->ev = event_new(base, fd, EV_READ | EV_PERSIST, adopted_ctl,
	    h)) == NULL || event_add(h->ev, NULL) == -1)
		fatalx("host: cannot watch an adopted guest server");
	LIST_INSERT_HEAD(&servers, h, entry);
	log_info("guest %d: process %d of node %u (uid %u, %s) taken back "
	    "(server %d)", (int)h->guest, (int)h->home_pid, h->home,
	    (unsigned)h->uid, h->comm, (int)h->server);
}


static uint32_t
recent_arrivals(void)
{
	struct hosted	*h;
	struct timespec	 now;
	uint32_t	 n = 0;

	clock_gettime(CLOCK_MONOTONIC, &now);
	LIST_FOREACH(h, &servers, entry) {
		if ((now.tv_sec - h->since.tv_sec) * 1000 +
		    (now.tv_nsec - h->since.tv_nsec) / 1000000 < RECENT_MS)
			n++;
	}
	return n;
}

/* Fork the guest server of an authenticated connection. */
static void
server_fork(struct miglink *link)
{
	struct guestd_args	 a;
	struct hosted		*h;
	struct passwd		*pw;
	int			 sv[2];
	pid_t			 pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("host: socketpair");
		miglink_abandon(link);
		return;
	}
	memset(&a, 0, sizeof a);
	a.link = link;
	a.ctl = sv[1];
	a.ctx = ctx;
	a.self = self;
	a.self_name = self_name;
	a.blocked = blocked != NULL && blocked();
	a.over_limit = cluster_over_loadlimit(&a.load, &a.loadlimit);
	/*
	 * The load is smoothed over seconds: guests that came just now do
	 * not show in it yet. Count each as a full CPU's worth.
	 */
	a.load += 100 * recent_arrivals();
	a.over_limit = a.loadlimit != 0 && a.load > a.loadlimit;
	a.now = now_page;
	a.cg = &gcg;
	a.internal_path = internal_path;
	if ((pw = getpwnam(GUEST_USER)) != NULL) {
		a.have_guest_user = 1;
		a.guest_uid = pw->pw_uid;
		a.guest_gid = pw->pw_gid;
	}
	if ((pid = proc_fork()) == -1) {
		log_warn("host: fork");
		miglink_abandon(link);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		guestd_main(&a);
	}
	/* the child has the connection now; we send nothing on it */
	miglink_abandon(link);
	close(sv[1]);
	h = xcalloc(1, sizeof *h);
	h->server = pid;
	clock_gettime(CLOCK_MONOTONIC, &h->since);
	h->ctl = sv[0];
	h->ev = event_new(base, sv[0], EV_READ | EV_PERSIST, server_ctl, h);
	event_add(h->ev, NULL);
	LIST_INSERT_HEAD(&servers, h, entry);
	counters.connections++;
}

static void
handshake_free(struct handshake *hs)
{
	LIST_REMOVE(hs, entry);
	event_free(hs->ev);
	event_free(hs->timer);
	connlimit_put(limits, &hs->key);
	if (hs->link != NULL)
		miglink_abandon(hs->link);
	free(hs);
}

/* One step of a handshake: done (fork), again later, or refused. */
static void
handshake_io(evutil_socket_t fd, short what, void *arg)
{
	struct handshake	*hs = arg;
	struct miglink		*link;
	short			 want = 0;
	char			*cause = NULL, src[64];
	int			 rc;

	if ((rc = miglink_accept_step(hs->link, &want, &cause)) == 0) {
		event_del(hs->ev);
		event_assign(hs->ev, base, miglink_fd(hs->link),
		    want == POLLIN ? EV_READ : EV_WRITE, handshake_io, hs);
		event_add(hs->ev, NULL);
		return;
	}
	if (rc == -1) {
		/* anyone can cause this line: rate-limited */
		log_warnx_rl(cl_key_str(&hs->key, src, sizeof src),
		    "migration connection from %s refused: %s",
		    hs->who, cause);
		free(cause);
		handshake_free(hs);
		return;
	}
	link = hs->link;
	hs->link = NULL;
	handshake_free(hs);
	server_fork(link);
}

static void
handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct handshake	*hs = arg;

	char			 src[64];

	log_warnx_rl(cl_key_str(&hs->key, src, sizeof src),
	    "migration connection from %s: no TLS handshake within "
	    "%u ms", hs->who, handshake_ms);
	handshake_free(hs);
}

static void
host_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct handshake	*hs;
	struct node_addr	 remote;
	struct cl_key		 key;
	struct timeval		 tv = { handshake_ms / 1000,
				    (handshake_ms % 1000) * 1000 };
	enum cl_verdict		 v;
	char			 who[NODE_ADDR_STRLEN], src[64], *cause = NULL;

	if (node_addr_from_sockaddr(sa, (socklen_t)salen, &remote) != 0)
		memset(&remote, 0, sizeof remote);
	node_addr_str(&remote, who, sizeof who);
	cl_key_addr(&key, sa, (socklen_t)salen);
	if ((v = connlimit_take(limits, &key)) != CL_OK) {
		if (v == CL_SOURCE_FULL)
			log_warnx_rl(cl_key_str(&key, src, sizeof src),
			    "migration connection from %s refused: "
			    "%u connections from %s are not through their "
			    "handshake yet (handshake_per_source)", who,
			    connlimit_count(limits, &key),
			    cl_key_str(&key, src, sizeof src));
		else
			log_warnx_rl(cl_key_str(&key, src, sizeof src),
			    "migration connection from %s refused: "
			    "%u connections are not through their handshake "
			    "yet (handshake_max)", who,
			    connlimit_total(limits));
		close(fd);
		return;
	}
	hs = xcalloc(1, sizeof *hs);
	hs->key = key;
	snprintf(hs->who, sizeof hs->who, "%s", who);
	if ((hs->link = miglink_accept_start(ctx, fd, &cause)) == NULL) {
		log_warnx("migration connection from %s: %s", who, cause);
		free(cause);
		connlimit_put(limits, &key);
		free(hs);
		return;
	}
	if ((hs->ev = event_new(base, fd, EV_READ, handshake_io, hs)) ==
	    NULL || (hs->timer = evtimer_new(base, handshake_timeout, hs)) ==
	    NULL || evtimer_add(hs->timer, &tv) == -1)
		fatalx("host: cannot wait for a handshake");
	LIST_INSERT_HEAD(&handshakes, hs, entry);
	/* the client speaks first: its hello may be here already */
	handshake_io(fd, EV_READ, hs);
}

void
host_set_limits(uint32_t ms, uint32_t per_source, uint32_t max)
{
	if (limits == NULL)
		limits = connlimit_new(per_source, max);
	else
		connlimit_set(limits, per_source, max);
	handshake_ms = ms;
}

/* The TLS context of connections accepted from now on (a reload). */
void
host_set_ctx(SSL_CTX *c)
{
	ctx = c;
}

static void
host_accept_error(struct evconnlistener *lis, void *arg)
{
	log_warn("host: accept");
}

/* MemTotal and MemAvailable in bytes, from /proc/meminfo; -1. */
static int
meminfo(uint64_t *total, uint64_t *avail)
{
	char		 line[128];
	unsigned long long v;
	FILE		*f;

	*total = *avail = 0;
	if ((f = fopen("/proc/meminfo", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "MemTotal: %llu", &v) == 1)
			*total = (uint64_t)v * 1024;
		else if (sscanf(line, "MemAvailable: %llu", &v) == 1)
			*avail = (uint64_t)v * 1024;
	}
	fclose(f);
	return *total != 0 ? 0 : -1;
}

/* Free memory over total; 1 when it cannot tell. */
static double
mem_avail(void)
{
	uint64_t	total, avail;

	if (meminfo(&total, &avail) == -1)
		return 1;
	return (double)avail / (double)total;
}

void
host_set_guest_memory(uint64_t bytes, uint32_t pct)
{
	gmem_bytes = bytes;
	gmem_pct = pct;
}

/* Groups of guests gone (a guest server killed before it could remove its own). */
static void
guest_cg_sweep(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[PATH_MAX + 300];

	if (gcg.kind == CG_NONE || (d = opendir(gcg.dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "guest-", 6) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", gcg.dir, de->d_name);
		(void)rmdir(path);	/* one still in use stays */
	}
	closedir(d);
}

/*
 * Guests live in <our group>/guests, one group each, with the memory
 * controller: cgroup v2 (we move into <our group>/daemon first, since a
 * v2 group that hands controllers down holds no processes), or the v1
 * memory hierarchy. Without one this node refuses guests, saying why.
 */
static void
guest_cg_setup(void)
{
	struct cg_tree	 t;
	uint64_t	 total, avail;
	char		 gbase[PATH_MAX], *cause = NULL;

	memset(&gcg, 0, sizeof gcg);
	if (meminfo(&total, &avail) == -1)
		total = 0;
	gcg.limit = gmem_bytes != 0 ? gmem_bytes : total / 100 * gmem_pct +
	    total % 100 * gmem_pct / 100;
	if (cg_find(&t, "memory", getpid(), &cause) == -1 ||
	    cg_make_base(&t, getpid(), "daemon", "memory", gbase, sizeof gbase,
	    &cause) == -1)
		goto none;
	if (strlen(gbase) + sizeof "/guests" > sizeof gcg.dir) {
		cause_set(&cause, "cgroup path %s too long", gbase);
		goto none;
	}
	/*
	 * Job supervisors, and the deputies they fork, live in a group of
	 * their own beside the daemon's and the guests': their memory and
	 * CPU are theirs, not ommd's, and they outlive its restarts there.
	 */
	if ((size_t)snprintf(jobs_cg, sizeof jobs_cg, "%s/jobs", gbase) >=
	    sizeof jobs_cg || cg_create(jobs_cg, &cause) == -1) {
		log_warnx("job supervisors stay in ommd's group: %s", cause !=
		    NULL ? cause : "cgroup path too long");
		free(cause);
		cause = NULL;
		jobs_cg[0] = '\0';
	}
	snprintf(gcg.dir, sizeof gcg.dir, "%s/guests", gbase);
	if (cg_create(gcg.dir, &cause) == -1)
		goto none;
	if (t.kind == CG_V2 && !cg_has(gcg.dir, "cgroup.subtree_control",
	    "memory") && cg_write(gcg.dir, "cgroup.subtree_control", "+memory",
	    &cause) == -1)
		goto none;
	if (gcg.limit == 0) {
		cause_set(&cause, "cannot tell this node's memory "
		    "(/proc/meminfo) for guest_memory");
		goto none;
	}
	gcg.kind = t.kind;
	guest_cg_sweep();
	log_info("guests live in %s (cgroup %s), each sent home at %llu MiB",
	    gcg.dir, t.kind == CG_V2 ? "v2" : "v1 memory",
	    (unsigned long long)(gcg.limit >> 20));
	return;
none:
	gcg.kind = CG_NONE;
	snprintf(gcg.why, sizeof gcg.why, "%s", cause != NULL ? cause :
	    "no cgroup memory controller");
	free(cause);
	log_warnx("this node refuses guests: it cannot limit their memory: %s",
	    gcg.why);
}

const char *
host_jobs_cgroup(void)
{
	return jobs_cg[0] != '\0' ? jobs_cg : NULL;
}

/*
 * Short of memory: one guest a second leaves (the guest server dumps it
 * home on SIGUSR2), before this node swaps for other nodes' processes.
 */
static void
mem_check(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { MEM_CHECK_MS / 1000, 0 };
	struct hosted	*h;
	double		 a;

	evtimer_add(mem_ev, &tv);
	if (LIST_EMPTY(&servers) || (a = mem_avail()) >= MEM_LOW)
		return;
	LIST_FOREACH(h, &servers, entry) {
		if (!h->ready || h->leaving)
			continue;
		log_warnx("memory short (%.0f%% available): guest %d (process "
		    "%d of node %u) goes", a * 100, (int)h->guest,
		    (int)h->home_pid, h->home);
		h->leaving = 1;
		kill(h->server, SIGUSR2);
		return;
	}
}

int
host_start(struct event_base *b, SSL_CTX *c, const struct node_addr *listen,
    uint32_t node, const char *name, int (*is_blocked)(void), char **cause)
{
	struct node_addr	a = *listen;
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			str[NODE_ADDR_STRLEN];

	base = b;
	ctx = c;
	self = node;
	if (limits == NULL)
		limits = connlimit_new(OMM_HANDSHAKE_PER_SOURCE,
		    OMM_HANDSHAKE_MAX);
	now_page = mmap(NULL, sizeof *now_page, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (now_page == MAP_FAILED)
		fatal("mmap");
	blocked = is_blocked;
	snprintf(self_name, sizeof self_name, "%s", name);
	a.port = host_migrate_port(listen->port);
	node_addr_str(&a, str, sizeof str);
	if (node_addr_to_sockaddr(&a, &ss, &len) != 0)
		return cause_set(cause, "migration port: bad address %s", str);
	listener = evconnlistener_new_bind(base, host_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    64, (struct sockaddr *)&ss, (int)len);
	if (listener == NULL)
		return cause_set(cause, "listen on %s: %s", str, strerror(errno));
	evconnlistener_set_error_cb(listener, host_accept_error);
	{
		struct timeval	tv = { MEM_CHECK_MS / 1000, 0 };

		if ((mem_ev = evtimer_new(base, mem_check, NULL)) == NULL ||
		    evtimer_add(mem_ev, &tv) == -1)
			fatalx("host: cannot set up the memory check");
	}
	guest_cg_setup();
	if (getpwnam(GUEST_USER) == NULL)
		log_warnx("no user %s: this node refuses guests (create it: "
		    "useradd --system --no-create-home --shell /usr/sbin/nologin "
		    "%s)", GUEST_USER, GUEST_USER);
	log_info("node %u accepting guests on %s", node, str);
	return 0;
}

void
host_publish(uint32_t load, uint32_t cpus_milli)
{
	if (now_page == NULL)
		return;
	now_page->load = load;
	now_page->cpus_milli = cpus_milli;
}

uint16_t
host_migrate_port(uint16_t node_port)
{
	return (uint16_t)(node_port + 1);
}

int
host_child_exited(pid_t pid, int status)
{
	struct hosted	*h;

	LIST_FOREACH(h, &servers, entry) {
		if (h->server != pid)
			continue;
		if (h->ready)
			counters.departed++;
		hosted_free(h);
		guest_cg_sweep();
		return 1;
	}
	return 0;
}

uint32_t
host_guests(void)
{
	struct hosted	*h;
	uint32_t	 n = 0;

	LIST_FOREACH(h, &servers, entry)
		n += h->ready;
	return n;
}

const struct host_counters *
host_counters(void)
{
	return &counters;
}

uint32_t
host_drop_home(uint32_t home, const char *why)
{
	struct hosted	*h;
	uint32_t	 n = 0;

	LIST_FOREACH(h, &servers, entry) {
		if (h->home != home)
			continue;
		log_warnx("guest %ld (home %u:%ld, %s) killed: its home is "
		    "refused from now on: %s", (long)h->guest, h->home,
		    (long)h->home_pid, h->comm, why);
		/*
		 * The server first: killed after its guest, it could still
		 * report the guest's end home as an exit (status 137, no
		 * word of why) instead of the link going, which home reports
		 * as the process lost. Its guest dies with it (EXITKILL).
		 */
		kill(h->server, SIGKILL);
		if (h->guest > 0)
			kill(h->guest, SIGKILL);
		n++;
	}
	return n;
}

/* Every guest here goes home (omctl expel); the count of those asked. */
uint32_t
host_expel(void)
{
	struct hosted	*h;
	uint32_t	 n = 0;

	/* one still arriving goes too, once it runs */
	LIST_FOREACH(h, &servers, entry) {
		if (kill(h->server, SIGTERM) == 0)
			n++;
	}
	return n;
}

/*
 * Stopping: every guest server sends its guest home (SIGTERM), and we wait
 * a while for them, so no process is lost with this node.
 */
void
host_stop(int wait_ms)
{
	struct hosted	*h, *tmp;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 st, waited;

	if (listener != NULL) {
		evconnlistener_free(listener);
		listener = NULL;
	}
	while (!LIST_EMPTY(&handshakes))
		handshake_free(LIST_FIRST(&handshakes));
	if (mem_ev != NULL) {
		event_free(mem_ev);
		mem_ev = NULL;
	}
	LIST_FOREACH(h, &servers, entry)
		kill(h->server, SIGTERM);
	for (waited = 0; !LIST_EMPTY(&servers) && waited < wait_ms;
	    waited += 10) {
		LIST_FOREACH_SAFE(h, &servers, entry, tmp) {
			if (h->adopted) {
				if (kill(h->server, 0) == -1 && errno == ESRCH)
					hosted_free(h);
			} else if (waitpid(h->server, &st, WNOHANG) ==
			    h->server)
				host_child_exited(h->server, st);
		}
		if (!LIST_EMPTY(&servers))
			nanosleep(&ts, NULL);
	}
	while ((h = LIST_FIRST(&servers)) != NULL) {
		kill(h->server, SIGKILL);
		hosted_free(h);
	}
}
