/* cluster.c: this node in the cluster: identity, load sampling, the gossip timer, admin. */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "omm/admin.h"
#include "omm/announce.h"
#include "omm/ca.h"
#include "omm/config.h"
#include "omm/gossip.h"
#include "omm/loadvec.h"
#include "omm/log.h"
#include "omm/nodemap.h"
#include "omm/tls.h"
#include "omm/xmalloc.h"

#include "cluster.h"
#include "discovery.h"
#include "host.h"
#include "jobs.h"
#include "peer.h"

#define CALIBRATE_MS	100	/* CPU time spent measuring speed at start */

static struct event_base	*base;
static const struct omm_config	*conf;
static SSL_CTX			*ctx;
static struct gossip		*g;
static struct loadvec		 lv;
static struct loadvec_meter	 meter;
static struct admin		 adm;
static char			*admin_path;
static uint32_t			 speed_measured;
static uint64_t			 rng;
static struct event		*tick_ev;
static int64_t			 started;
static size_t			 map_nodes;
static int			 sample_failed;	/* logged once */

/* How gossip's states are reported on the control socket. */
static const uint8_t node_states[GOSSIP_NSTATES] = {
	[GOSSIP_NONE] = PROTO_NODE_DOWN,
	[GOSSIP_UNKNOWN] = PROTO_NODE_UNKNOWN,
	[GOSSIP_UP] = PROTO_NODE_UP,
	[GOSSIP_LEAVING] = PROTO_NODE_LEAVING,
	[GOSSIP_DOWN] = PROTO_NODE_DOWN,
};

int64_t
cluster_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t
cluster_self(void)
{
	return lv.node;
}

static uint64_t
realtime_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The node id in our own certificate (subject serialNumber), 0 if none. */
static uint32_t
cert_node_id(SSL_CTX *c)
{
	X509		*x;
	X509_NAME_ENTRY	*ent;
	const ASN1_STRING *s;
	char		 buf[16], *end;
	unsigned long	 v;
	int		 i, len;

	if ((x = SSL_CTX_get0_certificate(c)) == NULL)
		return 0;
	i = X509_NAME_get_index_by_NID(X509_get_subject_name(x),
	    NID_serialNumber, -1);
	if (i < 0 || (ent = X509_NAME_get_entry(X509_get_subject_name(x),
	    i)) == NULL)
		return 0;
	s = X509_NAME_ENTRY_get_data(ent);
	len = ASN1_STRING_length(s);
	if (len <= 0 || (size_t)len >= sizeof buf)
		return 0;
	memcpy(buf, ASN1_STRING_get0_data(s), len);
	buf[len] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (*end != '\0' || errno != 0 || v == 0 || v > UINT32_MAX)
		return 0;
	return (uint32_t)v;
}

/* The flags we advertise: the admin's, and leaving while out. */
static uint32_t
own_flags(void)
{
	return adm.flags | (adm.left ? LV_LEAVING | LV_BLOCK : 0);
}

/*
 * Speed per CPU: the admin's, the config's, or measured. A CPU quota on
 * our cgroup (a container, the test cluster's shares) scales the measured
 * speed so that ncpu x speed, the capacity the balancer reads, is what we
 * may really use.
 */
static uint32_t
own_speed(void)
{
	double	lim;

	if (adm.speed != 0)
		return adm.speed;
	if (conf->speed != 0)
		return conf->speed;
	lim = loadvec_cpu_limit();
	if (lim > 0 && lv.ncpu > 0 && lim < lv.ncpu)
		return (uint32_t)(speed_measured * lim / lv.ncpu) > 0 ?
		    (uint32_t)(speed_measured * lim / lv.ncpu) : 1;
	return speed_measured;
}

/* Measure our vector now and hand it to the gossip. */
static void
sample(int64_t now)
{
	char	*cause = NULL;

	if (loadvec_sample(&meter, &lv, now, &cause) != 0) {
		if (!sample_failed)
			log_warnx("load: %s", cause);
		sample_failed = 1;
		free(cause);
	} else
		sample_failed = 0;
	lv.speed = own_speed();
	lv.flags = own_flags();
	lv.guests = host_guests();
	host_publish(lv.load, cluster_cpus_milli());
	lv.stamp = (uint64_t)now;
	gossip_set_self(g, now, &lv);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	static struct gossip_out	 out;
	struct gossip_peer		 gp;
	const struct node_addr		*hint;
	struct timeval			 tv;
	int64_t				 now = cluster_now(), ms;
	size_t				 i;

	sample(now);
	gossip_tick(g, now, &rng, &out);
	if (!adm.left) {
		for (i = 0; i < out.npeers; i++) {
			hint = NULL;
			if (gossip_peer(g, now, out.peers[i], &gp) == 0 &&
			    gp.has_lv)
				hint = &gp.lv.addr;
			(void)peer_send_loadwin(out.peers[i], &out.win, hint);
		}
	}
	ms = out.next_ms - now;
	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(tick_ev, &tv);
}

void
cluster_on_hello(uint32_t node, uint64_t incarnation)
{
	gossip_heard(g, cluster_now(), node, incarnation);
}

void
cluster_on_loadwin(uint32_t node, const struct wire_loadwin *w)
{
	static struct wire_loadwin	reply;
	int64_t				now = cluster_now();

	gossip_receive(g, now, node, w->ent, w->n);
	if (!adm.left && gossip_reply(g, now, w, &reply))
		(void)peer_send_loadwin(node, &reply, NULL);
}

void
cluster_on_bye(uint32_t node, uint16_t reason)
{
	gossip_bye(g, cluster_now(), node, reason);
}

void
cluster_on_announce(uint32_t node)
{
	gossip_learn(g, cluster_now(), node);
}

/* Who we are: the certificate says, the config may only agree. */
static int
identity(char **name, uint32_t *id, char **cause)
{
	char	host[HOST_NAME_MAX + 1], *certname;

	*name = NULL;
	*id = conf->node_id;
	if (!conf->fabric) {
		if (conf->node_name != NULL)
			*name = xstrdup(conf->node_name);
		else if (gethostname(host, sizeof host) == 0 &&
		    (host[sizeof host - 1] = '\0', ca_valid_name(host)))
			*name = xstrdup(host);
		else
			*name = xstrdup("localhost");
		if (*id == 0)
			*id = 1;
		return 0;
	}
	certname = tls_ctx_name(ctx);
	if (conf->node_name != NULL) {
		/* the peers check it; a wrong name gets us refused by all */
		if (certname == NULL || strcmp(certname, conf->node_name) != 0)
			log_warnx("node_name %s does not match certificate %s "
			    "(for %s): peers will refuse this node",
			    conf->node_name, conf->cert,
			    certname != NULL ? certname : "no name");
		*name = xstrdup(conf->node_name);
		free(certname);
	} else if (certname == NULL)
		return cause_set(cause, "certificate %s names no node and "
		    "node_name is not set", conf->cert);
	else
		*name = certname;
	if (*id == 0 && (*id = cert_node_id(ctx)) == 0) {
		free(*name);
		*name = NULL;
		return cause_set(cause, "node_id is not set and certificate "
		    "%s carries no node id", conf->cert);
	}
	return 0;
}

static int
load_map(int64_t now, char **cause)
{
	struct nodemap	map;
	size_t		i;

	if (conf->map_path == NULL)
		return 0;
	if (nodemap_load(&map, conf->map_path, conf->listen.port, cause) != 0)
		return -1;
	map_nodes = map.n;
	for (i = 0; i < map.n; i++) {
		if (map.ent[i].node == lv.node)
			continue;
		gossip_learn(g, now, map.ent[i].node);
		peer_learn(map.ent[i].node, NULL, &map.ent[i].addr, 0);
	}
	log_info("map %s: %zu nodes", conf->map_path, map.n);
	nodemap_free(&map);
	return 0;
}

int
cluster_start(struct event_base *b, const struct omm_config *c, char **cause)
{
	struct tls_files	 files;
	struct gossip_config	 gcfg;
	struct peer_self	 ps;
	struct announce		 an;
	struct timeval		 tv = { 0, 100 * 1000 };
	char			*name = NULL, *why = NULL;
	int64_t			 now = cluster_now();

	base = b;
	conf = c;
	started = now;
	if (getrandom(&rng, sizeof rng, 0) != sizeof rng)
		rng = (uint64_t)realtime_ms() ^ (uint64_t)getpid();

	/* systemd makes it (StateDirectory); by hand it may be missing */
	if (mkdir(conf->state_dir, 0755) == -1 && errno != EEXIST)
		log_warn("mkdir %s", conf->state_dir);
	xasprintf(&admin_path, "%s/%s", conf->state_dir, ADMIN_FILE);
	if (admin_load(&adm, admin_path, cause) != 0)
		return -1;

	if (conf->fabric) {
		files.ca = conf->ca;
		files.crl = conf->crl;
		files.cert = conf->cert;
		files.key = conf->key;
		if ((ctx = tls_ctx_new(&files, &why)) == NULL) {
			cause_set(cause, "cannot join the cluster: %s", why);
			free(why);
			return -1;
		}
	}
	if (identity(&name, &lv.node, cause) != 0)
		return -1;
	if (loadvec_init(&lv, lv.node, name, realtime_ms(), &why) != 0) {
		cause_set(cause, "node %s: %s", name, why);
		goto fail;
	}
	speed_measured = loadvec_calibrate(CALIBRATE_MS);
	if (conf->fabric && !node_addr_is_any(&conf->listen))
		lv.addr = conf->listen;
	loadvec_meter_init(&meter, 0);
	if (conf->load_cgroup != NULL &&
	    loadvec_meter_cgroup(&meter, conf->load_cgroup, &why) != 0) {
		cause_set(cause, "load_cgroup: %s", why);
		goto fail;
	}

	gossip_config_defaults(&gcfg);
	gcfg.window = conf->window;
	gcfg.interval_min_ms = conf->gossip_min_ms;
	gcfg.interval_max_ms = conf->gossip_max_ms;
	gcfg.dead_after_ms = conf->dead_after_ms;
	if ((g = gossip_new(lv.node, &gcfg, &why)) == NULL) {
		cause_set(cause, "%s", why);
		goto fail;
	}
	sample(now);

	if (conf->fabric) {
		memset(&ps, 0, sizeof ps);
		ps.node = lv.node;
		ps.name = lv.name;
		ps.incarnation = lv.incarnation;
		ps.listen = conf->listen;
		if (peer_start(base, ctx, &ps, cause) != 0)
			goto fail_free;
		host_set_guest_memory(conf->guest_memory,
		    conf->guest_memory_pct);
		if (host_start(base, ctx, &conf->listen, lv.node, lv.name,
		    cluster_blocked, cause) != 0)
			goto fail_free;
		if (adm.left) {
			log_info("this node left the cluster (omctl join "
			    "brings it back)");
			peer_leave();
		}
		if (load_map(now, cause) != 0)
			goto fail_free;
		if (conf->discovery) {
			memset(&an, 0, sizeof an);
			an.node = lv.node;
			an.incarnation = lv.incarnation;
			snprintf(an.name, sizeof an.name, "%s", lv.name);
			if (!node_addr_is_any(&conf->listen))
				an.addr = conf->listen;
			an.addr.port = conf->listen.port;
			if (discovery_start(base, conf, &an, cause) != 0)
				goto fail_free;
			discovery_pause(adm.left);
		}
	} else
		log_info("no 'listen' in the config: node %u (%s) runs alone",
		    lv.node, lv.name);

	if ((tick_ev = evtimer_new(base, tick, NULL)) == NULL ||
	    evtimer_add(tick_ev, &tv) == -1)
		fatalx("cluster: cannot set up the gossip timer");
	log_info("node %u (%s), speed %u%s, %u CPUs", lv.node, lv.name,
	    own_speed(), own_speed() == speed_measured ? " (measured)" : "",
	    lv.ncpu);
	free(name);
	return 0;

fail_free:
	gossip_free(g);
	g = NULL;
fail:
	free(why);
	free(name);
	return -1;
}

int
cluster_reload_tls(struct peer_refused *out, size_t max, size_t *nout,
    char **cause)
{
	struct tls_files	 files;
	SSL_CTX			*nctx;
	char			*why = NULL, *oname, *nname;
	uint32_t		 oid, nid;
	int			 same;

	*nout = 0;
	if (!conf->fabric)
		return 0;
	files.ca = conf->ca;
	files.crl = conf->crl;
	files.cert = conf->cert;
	files.key = conf->key;
	if ((nctx = tls_ctx_new(&files, &why)) == NULL) {
		cause_set(cause, "%s; the running TLS files stay in use", why);
		free(why);
		return -1;
	}
	/* who we are is fixed for this run: peers know us by it */
	oname = tls_ctx_name(ctx);
	nname = tls_ctx_name(nctx);
	oid = cert_node_id(ctx);
	nid = cert_node_id(nctx);
	same = oid == nid && oname != NULL && nname != NULL &&
	    strcmp(oname, nname) == 0;
	if (!same) {
		cause_set(cause, "certificate %s is for %s (node %u), this "
		    "node runs as %s (node %u): a new identity needs a "
		    "restart; the running TLS files stay in use", conf->cert,
		    nname != NULL ? nname : "no name", nid,
		    oname != NULL ? oname : "no name", oid);
		free(oname);
		free(nname);
		SSL_CTX_free(nctx);
		return -1;
	}
	free(oname);
	free(nname);
	/* links up keep their own reference to the old context */
	*nout = peer_set_ctx(nctx, out, max);
	host_set_ctx(nctx);
	/* a node we no longer trust keeps no process running here */
	for (size_t i = 0; i < *nout && i < max; i++)
		host_drop_home(out[i].node, tls_reason_string(out[i].reason));
	jobs_reload();
	SSL_CTX_free(ctx);
	ctx = nctx;
	return 0;
}

SSL_CTX *
cluster_ctx(void)
{
	return ctx;
}

uint64_t
cluster_incarnation(void)
{
	return lv.incarnation;
}

/* The CPUs we may use x1000: a cgroup quota, or all of ours. */
uint32_t
cluster_cpus_milli(void)
{
	double	lim = loadvec_cpu_limit();

	if (lim > 0 && lim < lv.ncpu)
		return (uint32_t)(lim * 1000);
	return lv.ncpu * 1000;
}

/* May the balancer move our processes? (balance on, not stay, not left) */
int
cluster_balancing(void)
{
	return conf != NULL && conf->fabric && !adm.nobalance && !adm.left &&
	    !(own_flags() & (LV_STAY | LV_LSTAY));
}

/* Is node up in our window (heard from lately)? Links come and go apart. */
int
cluster_node_up(uint32_t node)
{
	struct gossip_peer	gp;

	if (g == NULL || gossip_peer(g, cluster_now(), node, &gp) != 0)
		return 0;
	return gp.state == GOSSIP_UP && peer_refused_by_ctx(node) == TLS_OK;
}

/* Our load x100 is over the admin's loadlimit: guests are refused. */
int
cluster_over_loadlimit(uint32_t *load, uint32_t *limit)
{
	*load = lv.load;
	*limit = adm.loadlimit;
	return adm.loadlimit != 0 && lv.load > adm.loadlimit;
}

/* Arrivals refused now: block on, or the node left. */
int
cluster_blocked(void)
{
	return (own_flags() & LV_BLOCK) != 0;
}

void
cluster_shutdown(void)
{
	if (tick_ev != NULL)
		evtimer_del(tick_ev);
	discovery_stop();
	if (conf != NULL && conf->fabric)
		peer_stop(WIRE_BYE_SHUTDOWN);
}

void
cluster_free(void)
{
	discovery_stop();
	peer_free_all();
	if (tick_ev != NULL)
		event_free(tick_ev);
	tick_ev = NULL;
	gossip_free(g);
	g = NULL;
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	ctx = NULL;
	free(admin_path);
	admin_path = NULL;
}

size_t
cluster_nodes(struct msg_node **out)
{
	struct gossip_peer	*gp;
	struct msg_node		*ns;
	const struct node_addr	*a;
	int64_t			 now = cluster_now();
	size_t			 n, i;

	n = gossip_count(g);
	gp = xcalloc(n, sizeof *gp);
	n = gossip_nodes(g, now, gp, n);
	ns = xcalloc(n, sizeof *ns);
	for (i = 0; i < n; i++) {
		struct msg_node	*m = &ns[i];

		m->node = gp[i].node;
		m->self = gp[i].node == lv.node;
		m->state = gp[i].state < GOSSIP_NSTATES ?
		    node_states[gp[i].state] : PROTO_NODE_DOWN;
		/* whatever gossip says, we refuse it now */
		if (!m->self && peer_refused_by_ctx(m->node) != TLS_OK)
			m->state = PROTO_NODE_REVOKED;
		m->link = m->self ? PROTO_LINK_NONE :
		    (uint8_t)peer_link_state(m->node);
		m->has_lv = gp[i].has_lv != 0;
		m->bye = gp[i].bye;
		m->incarnation = gp[i].incarnation;
		m->age_ms = gp[i].age_ms;
		if (m->has_lv) {
			m->lv = gp[i].lv;
			snprintf(m->name, sizeof m->name, "%s", gp[i].lv.name);
			m->addr = gp[i].lv.addr;
		} else
			snprintf(m->name, sizeof m->name, "%s",
			    peer_name(m->node));
		if (m->addr.family == NODE_AF_NONE && !m->self &&
		    (a = peer_addr(m->node)) != NULL)
			m->addr = *a;
		if (m->addr.family == NODE_AF_NONE)
			m->addr.port = 0;
	}
	free(gp);
	*out = ns;
	return n;
}

void
cluster_status(struct msg_status *st)
{
	const struct gossip_stats	*gs = gossip_stats(g);
	struct gossip_peer		*gp;
	char				 buf[NODE_ADDR_STRLEN];
	uint64_t			*num = st->num;
	int64_t				 now = cluster_now();
	size_t				 n, i;

	memset(st, 0, sizeof *st);
	num[ST_NODE_ID] = lv.node;
	num[ST_INCARNATION] = lv.incarnation;
	num[ST_PID] = (uint64_t)getpid();
	num[ST_UPTIME_MS] = (uint64_t)(now - started);
	num[ST_FABRIC] = conf->fabric;
	num[ST_NCPU] = lv.ncpu;
	num[ST_SPEED] = own_speed();
	num[ST_SPEED_MEASURED] = speed_measured;
	num[ST_LOAD] = lv.load;
	num[ST_MEM_TOTAL] = lv.mem_total;
	num[ST_MEM_FREE] = lv.mem_free;
	num[ST_GUESTS] = host_guests();
	num[ST_AWAY] = jobs_away();
	num[ST_CNT_MIG_OUT] = jobs_counters()->out;
	num[ST_CNT_MIG_IN] = host_counters()->arrived;
	num[ST_CNT_MIG_BROUGHT] = jobs_counters()->brought;
	num[ST_CNT_MIG_REFUSED] = jobs_counters()->refused;
	num[ST_CNT_MIG_LOST] = jobs_counters()->lost;
	num[ST_PROCESSES] = jobs_nprocs();
	num[ST_FLAGS] = own_flags();
	n = gossip_count(g);
	gp = xcalloc(n, sizeof *gp);
	n = gossip_nodes(g, now, gp, n);
	num[ST_NODES_KNOWN] = n;
	for (i = 0; i < n; i++) {
		if (gp[i].state == GOSSIP_UP || gp[i].state == GOSSIP_LEAVING)
			num[ST_NODES_UP]++;
	}
	free(gp);
	num[ST_CONF_GOSSIP_MIN_MS] = conf->gossip_min_ms;
	num[ST_CONF_GOSSIP_MAX_MS] = conf->gossip_max_ms;
	num[ST_CONF_DEAD_AFTER_MS] = conf->dead_after_ms;
	num[ST_CONF_WINDOW] = conf->window;
	num[ST_CONF_DISCOVERY] = conf->discovery;
	num[ST_CONF_SPEED] = conf->speed;
	num[ST_CONF_MAP_NODES] = map_nodes;
	num[ST_ADM_SPEED] = adm.speed;
	num[ST_ADM_BLOCK] = admin_get(&adm, ADMIN_BLOCK);
	num[ST_ADM_STAY] = admin_get(&adm, ADMIN_STAY);
	num[ST_ADM_LSTAY] = admin_get(&adm, ADMIN_LSTAY);
	num[ST_ADM_QUIET] = admin_get(&adm, ADMIN_QUIET);
	num[ST_ADM_LOADLIMIT] = adm.loadlimit;
	num[ST_ADM_LEFT] = adm.left;
	num[ST_ADM_BALANCE] = !adm.nobalance;
	num[ST_CNT_GOSSIP_TICKS] = gs->ticks;
	num[ST_CNT_GOSSIP_SENT] = gs->sent;
	num[ST_CNT_GOSSIP_REPLIES] = gs->replies;
	num[ST_CNT_GOSSIP_RECEIVED] = gs->received;
	num[ST_CNT_GOSSIP_ENTRIES] = gs->entries;
	num[ST_CNT_GOSSIP_FRESH] = gs->fresh;
	num[ST_CNT_GOSSIP_STALE] = gs->stale;
	peer_counters(num);
	discovery_counters(num);

	st->str[STS_NAME] = xstrdup(lv.name);
	st->str[STS_VERSION] = xstrdup(OMM_VERSION);
	st->str[STS_LISTEN] = xstrdup(conf->fabric ? node_addr_str(
	    &conf->listen, buf, sizeof buf) : "");
	if (meter.source == LOADVEC_SRC_CGROUP)
		xasprintf(&st->str[STS_LOAD_SOURCE], "cgroup %s",
		    meter.cgroup);
	else
		st->str[STS_LOAD_SOURCE] = xstrdup("system");
	st->str[STS_CPU_MODEL] = xstrdup(lv.cpu.model);
	st->str[STS_KERNEL] = xstrdup(lv.kernel);
	st->str[STS_CONF_SOCKET] = xstrdup(conf->socket_path);
	st->str[STS_CONF_STATE_DIR] = xstrdup(conf->state_dir);
	st->str[STS_CONF_CA] = xstrdup(conf->fabric ? conf->ca : "");
	st->str[STS_CONF_CERT] = xstrdup(conf->fabric ? conf->cert : "");
	st->str[STS_CONF_KEY] = xstrdup(conf->fabric ? conf->key : "");
	st->str[STS_CONF_CRL] = xstrdup(conf->fabric ? conf->crl : "");
	st->str[STS_CONF_MAP] = xstrdup(conf->map_path != NULL ?
	    conf->map_path : "");
	st->str[STS_CONF_MCAST_GROUP] = xstrdup(conf->discovery ?
	    node_addr_str(&conf->mcast_group, buf, sizeof buf) : "");
	st->str[STS_CONF_MCAST_IF] = xstrdup(conf->mcast_if != NULL ?
	    conf->mcast_if : "");
}

/* Persist a changed copy, then take it: a setting that cannot be saved is refused. */
static int
admin_commit(const struct admin *na, char **cause)
{
	char	*why = NULL;

	if (admin_save(na, admin_path, &why) != 0) {
		cause_set(cause, "cannot save the setting: %s", why);
		free(why);
		return -1;
	}
	adm = *na;
	lv.speed = own_speed();
	lv.flags = own_flags();
	gossip_set_self(g, cluster_now(), &lv);
	return 0;
}

int
cluster_set(uint16_t setting, uint32_t value, char **cause)
{
	struct admin	na = adm;

	if (admin_apply(&na, setting, value, cause) != 0)
		return -1;
	if (admin_commit(&na, cause) != 0)
		return -1;
	log_info("admin: %s set to %u", admin_setting_name(setting), value);
	return 0;
}

int
cluster_expel(uint32_t *guests, char **cause)
{
	struct admin	na = adm;

	na.flags |= LV_BLOCK;
	if (admin_commit(&na, cause) != 0)
		return -1;
	*guests = host_expel();
	log_info("admin: expel: %u guests sent home, arrivals blocked",
	    *guests);
	return 0;
}

int
cluster_leave(char **cause)
{
	struct wire_loadwin	*w;
	struct admin		 na = adm;

	if (!conf->fabric)
		return cause_set(cause, "this node runs alone (no 'listen' "
		    "in its config): there is no cluster to leave");
	if (adm.left)
		return cause_set(cause, "this node has already left the "
		    "cluster");
	na.left = 1;
	if (admin_commit(&na, cause) != 0)
		return -1;
	/* a last window saying "leaving", then goodbye to everyone */
	w = xcalloc(1, sizeof *w);
	gossip_window(g, cluster_now(), w);
	if (w->n > 0)
		peer_send_all(w);
	free(w);
	peer_leave();
	discovery_pause(1);
	/* no process is lost with us: guests go home, ours come home */
	log_info("admin: left the cluster; %u guests sent home, %u processes "
	    "called home", host_expel(), jobs_away());
	jobs_bring_all(NULL, 0);
	return 0;
}

int
cluster_join(char **cause)
{
	struct admin	na = adm;

	if (!conf->fabric)
		return cause_set(cause, "this node runs alone (no 'listen' "
		    "in its config): there is no cluster to join");
	if (!adm.left)
		return cause_set(cause, "this node is in the cluster already");
	na.left = 0;
	if (admin_commit(&na, cause) != 0)
		return -1;
	peer_join();
	discovery_pause(0);
	log_info("admin: joined the cluster again");
	return 0;
}
