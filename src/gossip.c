/* gossip.c: the information window, its merge by age, and membership. */
#include <stdlib.h>
#include <string.h>

#include "omm/gossip.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define NEVER		INT64_MIN
#define PICK_TRIES	32	/* random draws before scanning */

/* A known node. Kept small: a node of a large cluster knows all others. */
struct gnode {
	uint32_t	id;
	uint16_t	bye;		/* BYE reason, 0: none */
	uint32_t	flags;		/* LV_* of the freshest vector */
	uint64_t	incarnation;	/* 0: no vector seen */
	uint64_t	stamp;		/* origin's stamp of the freshest */
	/*
	 * When (our clock) the freshest vector was measured: the earliest
	 * estimate of it, since an age never counts the network's delay and
	 * so every estimate is late by the latency of its path.
	 */
	int64_t		t_vec;
	int64_t		t_direct;	/* last frame from it */
	int64_t		learned;	/* when we first knew of it */
};

struct gossip {
	uint32_t		 self;
	struct gossip_config	 cfg;

	struct gnode		*nodes;
	size_t			 nnodes;
	size_t			 capnodes;
	/* Open addressing on ids, linear probing: index + 1, 0 empty. */
	uint32_t		*slots;
	size_t			 nslots;	/* power of two */

	int			 has_self;
	struct gossip_entry	 own;
	struct gossip_entry	*win;		/* others: window - 1 */
	size_t			 nwin;

	struct gossip_stats	 stats;
};

static const char *gossip_state_names[GOSSIP_NSTATES] = {
	[GOSSIP_NONE] = "none",
	[GOSSIP_UNKNOWN] = "unknown",
	[GOSSIP_UP] = "up",
	[GOSSIP_LEAVING] = "leaving",
	[GOSSIP_DOWN] = "down",
};

/*
 * Bounds of each configuration field; gossip_new refuses a value outside.
 * The window's upper bound is what one LOADWIN frame may carry.
 */
#define CFG_OFF(f)	offsetof(struct gossip_config, f)
#define CFG_SZ(f)	sizeof ((struct gossip_config *)0)->f
static const struct gossip_cfg_bound {
	const char	*name;
	size_t		 off;
	size_t		 size;
	uint64_t	 min;
	uint64_t	 max;
} gossip_bounds[] = {
	{ "window", CFG_OFF(window), CFG_SZ(window), 2, WIRE_LOADWIN_MAX },
	{ "interval_min_ms", CFG_OFF(interval_min_ms),
	    CFG_SZ(interval_min_ms), 1, 3600000 },
	{ "interval_max_ms", CFG_OFF(interval_max_ms),
	    CFG_SZ(interval_max_ms), 1, 3600000 },
	{ "fanout", CFG_OFF(fanout), CFG_SZ(fanout), 1, GOSSIP_FANOUT_MAX },
	{ "dead_after_ms", CFG_OFF(dead_after_ms), CFG_SZ(dead_after_ms), 1,
	    24 * 3600000 },
	{ "probe_pct", CFG_OFF(probe_pct), CFG_SZ(probe_pct), 0, 100 },
	{ "pull", CFG_OFF(pull), CFG_SZ(pull), 0, 1 },
	{ "max_nodes", CFG_OFF(max_nodes), CFG_SZ(max_nodes), 1, 1U << 24 },
};

void
gossip_config_defaults(struct gossip_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->window = 20;
	cfg->interval_min_ms = 500;
	cfg->interval_max_ms = 1000;
	cfg->fanout = 1;
	cfg->dead_after_ms = 5000;
	cfg->probe_pct = 10;
	cfg->pull = 1;
	cfg->max_nodes = 65536;
}

uint64_t
gossip_rand(uint64_t *state)
{
	uint64_t	x = *state;

	if (x == 0)
		x = 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

const char *
gossip_state_name(enum gossip_state s)
{
	if ((unsigned)s >= GOSSIP_NSTATES)
		return "invalid";
	return gossip_state_names[s];
}

static uint64_t
cfg_get(const struct gossip_config *cfg, const struct gossip_cfg_bound *b)
{
	const uint8_t	*p = (const uint8_t *)cfg + b->off;
	uint32_t	 v32;
	uint64_t	 v64;

	if (b->size == sizeof v32) {
		memcpy(&v32, p, sizeof v32);
		return v32;
	}
	memcpy(&v64, p, sizeof v64);
	return v64;
}

struct gossip *
gossip_new(uint32_t self, const struct gossip_config *cfg, char **cause)
{
	struct gossip	*g;
	uint64_t	 v;
	size_t		 i;

	if (self == 0) {
		cause_set(cause, "node id 0");
		return NULL;
	}
	for (i = 0; i < sizeof gossip_bounds / sizeof gossip_bounds[0]; i++) {
		v = cfg_get(cfg, &gossip_bounds[i]);
		if (v < gossip_bounds[i].min || v > gossip_bounds[i].max) {
			cause_set(cause, "gossip %s %llu out of %llu to %llu",
			    gossip_bounds[i].name, (unsigned long long)v,
			    (unsigned long long)gossip_bounds[i].min,
			    (unsigned long long)gossip_bounds[i].max);
			return NULL;
		}
	}
	if (cfg->interval_min_ms > cfg->interval_max_ms) {
		cause_set(cause, "gossip interval_min_ms %u over "
		    "interval_max_ms %u", cfg->interval_min_ms,
		    cfg->interval_max_ms);
		return NULL;
	}

	g = xcalloc(1, sizeof *g);
	g->self = self;
	g->cfg = *cfg;
	g->capnodes = 16;
	g->nodes = xcalloc(g->capnodes, sizeof *g->nodes);
	g->nslots = 32;
	g->slots = xcalloc(g->nslots, sizeof *g->slots);
	g->win = xcalloc(cfg->window - 1, sizeof *g->win);
	return g;
}

void
gossip_free(struct gossip *g)
{
	if (g == NULL)
		return;
	free(g->nodes);
	free(g->slots);
	free(g->win);
	free(g);
}

static size_t
slot_of(const struct gossip *g, uint32_t id)
{
	/* Fibonacci hashing: ids are often consecutive. */
	return (size_t)((id * 0x9e3779b1U) & (g->nslots - 1));
}

static struct gnode *
node_find(const struct gossip *g, uint32_t id)
{
	size_t	s;

	for (s = slot_of(g, id); g->slots[s] != 0; s = (s + 1) &
	    (g->nslots - 1)) {
		if (g->nodes[g->slots[s] - 1].id == id)
			return &g->nodes[g->slots[s] - 1];
	}
	return NULL;
}

static void
slots_grow(struct gossip *g)
{
	size_t	i, s;

	free(g->slots);
	g->nslots *= 2;
	g->slots = xcalloc(g->nslots, sizeof *g->slots);
	for (i = 0; i < g->nnodes; i++) {
		for (s = slot_of(g, g->nodes[i].id); g->slots[s] != 0;
		    s = (s + 1) & (g->nslots - 1))
			;
		g->slots[s] = (uint32_t)(i + 1);
	}
}

/* Find a node, adding it if new; NULL if the table is full. */
static struct gnode *
node_get(struct gossip *g, uint32_t id, int64_t now)
{
	struct gnode	*nd;
	size_t		 s;

	if ((nd = node_find(g, id)) != NULL)
		return nd;
	if (g->nnodes >= g->cfg.max_nodes) {
		g->stats.refused++;
		return NULL;
	}
	if (g->nnodes == g->capnodes) {
		g->nodes = xreallocarray(g->nodes, g->capnodes, 2 *
		    sizeof *g->nodes);
		g->capnodes *= 2;
	}
	/* Keep the table at most half full so that probes stay short. */
	if (2 * (g->nnodes + 1) > g->nslots)
		slots_grow(g);
	nd = &g->nodes[g->nnodes];
	memset(nd, 0, sizeof *nd);
	nd->id = id;
	nd->t_vec = NEVER;
	nd->t_direct = NEVER;
	nd->learned = now;
	for (s = slot_of(g, id); g->slots[s] != 0; s = (s + 1) &
	    (g->nslots - 1))
		;
	g->slots[s] = (uint32_t)(++g->nnodes);
	return nd;
}

int64_t
gossip_dead_after(const struct gossip *g)
{
	int64_t	dead = g->cfg.dead_after_ms;
	size_t	others = g->cfg.window - 1;

	if (g->nnodes > others)
		dead = dead * (int64_t)g->nnodes / (int64_t)others;
	return dead;
}

static int64_t
node_heard(const struct gnode *nd)
{
	return nd->t_vec > nd->t_direct ? nd->t_vec : nd->t_direct;
}

static enum gossip_state
node_state(const struct gossip *g, const struct gnode *nd, int64_t now)
{
	int64_t	heard = node_heard(nd), dead = gossip_dead_after(g);

	if (nd->bye != 0)
		return GOSSIP_DOWN;
	if (heard == NEVER)
		return now - nd->learned <= dead ? GOSSIP_UNKNOWN : GOSSIP_DOWN;
	if (now - heard > dead)
		return GOSSIP_DOWN;
	return (nd->flags & LV_LEAVING) ? GOSSIP_LEAVING : GOSSIP_UP;
}

static struct gossip_entry *
win_find(struct gossip *g, uint32_t id)
{
	size_t	i;

	for (i = 0; i < g->nwin; i++) {
		if (g->win[i].lv.node == id)
			return &g->win[i];
	}
	return NULL;
}

static void
win_drop(struct gossip *g, uint32_t id)
{
	struct gossip_entry	*e;

	if ((e = win_find(g, id)) == NULL)
		return;
	*e = g->win[--g->nwin];
}

/* Drop what has grown too old to act on: its node is DOWN by now. */
static void
win_expire(struct gossip *g, int64_t now)
{
	int64_t	dead = gossip_dead_after(g);
	size_t	i;

	for (i = 0; i < g->nwin; ) {
		if (now - g->win[i].t_ms > dead)
			g->win[i] = g->win[--g->nwin];
		else
			i++;
	}
}

/*
 * Offer the freshest known vector of its node to the window: it replaces
 * an older vector of that node, or takes a free place, or evicts the
 * oldest entry if it is younger than that one. Our own is kept apart and
 * never evicted.
 */
static void
win_offer(struct gossip *g, const struct loadvec *lv, int64_t t)
{
	struct gossip_entry	*e, *old;
	size_t			 i;

	if ((e = win_find(g, lv->node)) != NULL) {
		if (lv->incarnation != e->lv.incarnation ||
		    lv->stamp > e->lv.stamp) {
			e->lv = *lv;
			e->t_ms = t;
		} else if (lv->stamp == e->lv.stamp && t < e->t_ms)
			e->t_ms = t;
		return;
	}
	if (g->nwin < g->cfg.window - 1) {
		e = &g->win[g->nwin++];
		e->lv = *lv;
		e->t_ms = t;
		return;
	}
	old = &g->win[0];
	for (i = 1; i < g->nwin; i++) {
		if (g->win[i].t_ms < old->t_ms)
			old = &g->win[i];
	}
	if (t > old->t_ms) {
		old->lv = *lv;
		old->t_ms = t;
	}
}

/* Merge one received entry; 1 if it told something new. */
static int
merge(struct gossip *g, int64_t now, const struct wire_lventry *le)
{
	const struct loadvec	*lv = &le->lv;
	struct gnode		*nd;
	int64_t			 t;

	g->stats.entries++;
	if (lv->node == g->self) {
		g->stats.self++;
		return 0;
	}
	if (lv->node == 0 || le->age_ms > gossip_dead_after(g)) {
		g->stats.stale++;
		return 0;
	}
	t = now - le->age_ms;
	if ((nd = node_get(g, lv->node, now)) == NULL)
		return 0;
	if (lv->incarnation < nd->incarnation) {
		g->stats.stale++;
		return 0;
	}
	if (lv->incarnation > nd->incarnation) {
		/*
		 * Restarted (or first news): what we knew is void, and
		 * win_offer replaces its vector whatever the ages.
		 */
		nd->incarnation = lv->incarnation;
		nd->bye = 0;
	} else if (nd->bye != 0 ||
	    (nd->t_vec != NEVER && lv->stamp < nd->stamp)) {
		/*
		 * Said BYE: copies of its last vectors still travel, but
		 * only a direct frame or a new incarnation brings it back.
		 */
		g->stats.stale++;
		return 0;
	} else if (nd->t_vec != NEVER && lv->stamp == nd->stamp) {
		if (t < nd->t_vec)
			nd->t_vec = t;
		win_offer(g, lv, t);
		return 0;
	}
	nd->stamp = lv->stamp;
	nd->flags = lv->flags;
	nd->t_vec = t;
	win_offer(g, lv, t);
	g->stats.fresh++;
	return 1;
}

int
gossip_receive(struct gossip *g, int64_t now, uint32_t from,
    const struct wire_lventry *ents, size_t n)
{
	size_t	i;
	int	fresh = 0;

	g->stats.received++;
	if (from != 0 && from != g->self)
		gossip_heard(g, now, from, 0);
	for (i = 0; i < n; i++)
		fresh += merge(g, now, &ents[i]);
	return fresh;
}

int
gossip_reply(struct gossip *g, int64_t now, const struct wire_loadwin *in,
    struct wire_loadwin *out)
{
	if (!(in->flags & WIRE_LOADWIN_PULL) || !g->has_self ||
	    (g->own.lv.flags & LV_QUIET))
		return 0;
	gossip_window(g, now, out);
	g->stats.replies++;
	return 1;
}

void
gossip_learn(struct gossip *g, int64_t now, uint32_t node)
{
	if (node != 0 && node != g->self)
		(void)node_get(g, node, now);
}

void
gossip_heard(struct gossip *g, int64_t now, uint32_t node,
    uint64_t incarnation)
{
	struct gnode	*nd;

	if (node == 0 || node == g->self)
		return;
	if ((nd = node_get(g, node, now)) == NULL)
		return;
	if (incarnation > nd->incarnation) {
		if (nd->incarnation != 0)
			win_drop(g, node);
		nd->incarnation = incarnation;
		nd->stamp = 0;
		nd->flags = 0;
		nd->t_vec = NEVER;
	}
	nd->bye = 0;
	if (now > nd->t_direct)
		nd->t_direct = now;
}

void
gossip_bye(struct gossip *g, int64_t now, uint32_t node, uint16_t reason)
{
	struct gnode	*nd;

	if ((nd = node_find(g, node)) == NULL)
		return;
	nd->bye = reason != 0 ? reason : WIRE_BYE_SHUTDOWN;
	win_drop(g, node);
}

void
gossip_set_self(struct gossip *g, int64_t now, const struct loadvec *lv)
{
	if (lv->node != g->self)
		fatalx("%s: vector of node %u, we are %u", __func__, lv->node,
		    g->self);
	g->own.lv = *lv;
	g->own.t_ms = now;
	g->has_self = 1;
}

static uint32_t
age_of(int64_t now, int64_t t)
{
	if (t >= now)
		return 0;
	if (now - t > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(now - t);
}

void
gossip_window(const struct gossip *g, int64_t now, struct wire_loadwin *w)
{
	int64_t	dead = gossip_dead_after(g);
	size_t	i;

	w->flags = 0;
	w->n = 0;
	if (g->has_self) {
		w->ent[w->n].age_ms = age_of(now, g->own.t_ms);
		w->ent[w->n++].lv = g->own.lv;
	}
	for (i = 0; i < g->nwin; i++) {
		if (now - g->win[i].t_ms > dead)
			continue;
		w->ent[w->n].age_ms = age_of(now, g->win[i].t_ms);
		w->ent[w->n++].lv = g->win[i].lv;
	}
}

const struct gossip_entry *
gossip_window_view(const struct gossip *g, size_t *n)
{
	*n = g->nwin;
	return g->win;
}

static int
picked(const uint32_t *ids, size_t n, uint32_t id)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (ids[i] == id)
			return 1;
	}
	return 0;
}

/* Peers worth a window: alive or not heard yet (probe: DOWN, no BYE). */
static int
eligible(const struct gossip *g, const struct gnode *nd, int64_t now,
    int probe)
{
	enum gossip_state	s = node_state(g, nd, now);

	if (probe)
		return s == GOSSIP_DOWN && nd->bye == 0;
	return s == GOSSIP_UP || s == GOSSIP_LEAVING || s == GOSSIP_UNKNOWN;
}

/*
 * Draw one peer not yet chosen. Random draws from the whole table are
 * O(1) while most nodes are eligible; when few are (most of a small
 * cluster is down), a scan finds them.
 */
static int
pick(struct gossip *g, int64_t now, uint64_t *rng, const uint32_t *chosen,
    size_t nchosen, int probe, uint32_t *out)
{
	const struct gnode	*nd;
	size_t			 i, n, k;

	if (g->nnodes == 0)
		return -1;
	for (i = 0; i < PICK_TRIES; i++) {
		nd = &g->nodes[gossip_rand(rng) % g->nnodes];
		if (eligible(g, nd, now, probe) &&
		    !picked(chosen, nchosen, nd->id)) {
			*out = nd->id;
			return 0;
		}
	}
	for (n = 0, i = 0; i < g->nnodes; i++) {
		nd = &g->nodes[i];
		if (eligible(g, nd, now, probe) &&
		    !picked(chosen, nchosen, nd->id))
			n++;
	}
	if (n == 0)
		return -1;
	k = gossip_rand(rng) % n;
	for (i = 0; i < g->nnodes; i++) {
		nd = &g->nodes[i];
		if (eligible(g, nd, now, probe) &&
		    !picked(chosen, nchosen, nd->id) && k-- == 0) {
			*out = nd->id;
			return 0;
		}
	}
	fatalx("%s: lost a peer", __func__);
}

int
gossip_tick(struct gossip *g, int64_t now, uint64_t *rng,
    struct gossip_out *out)
{
	const struct gossip_config	*cfg = &g->cfg;
	uint32_t			 span, id;
	size_t				 i;
	int				 probe;

	g->stats.ticks++;
	span = cfg->interval_max_ms - cfg->interval_min_ms + 1;
	out->next_ms = now + cfg->interval_min_ms +
	    (int64_t)(gossip_rand(rng) % span);
	out->npeers = 0;
	win_expire(g, now);
	gossip_window(g, now, &out->win);
	if (!g->has_self || (g->own.lv.flags & LV_QUIET))
		return 0;
	if (cfg->pull)
		out->win.flags |= WIRE_LOADWIN_PULL;

	for (i = 0; i < cfg->fanout; i++) {
		probe = gossip_rand(rng) % 100 < cfg->probe_pct;
		if (pick(g, now, rng, out->peers, out->npeers, probe,
		    &id) != 0 && pick(g, now, rng, out->peers, out->npeers,
		    !probe, &id) != 0)
			break;
		out->peers[out->npeers++] = id;
	}
	g->stats.sent += out->npeers;
	return (int)out->npeers;
}

static void
peer_fill(const struct gossip *g, const struct gnode *nd, int64_t now,
    struct gossip_peer *p)
{
	const struct gossip_entry	*e;
	int64_t				 heard = node_heard(nd);
	size_t				 i;

	memset(p, 0, sizeof *p);
	p->node = nd->id;
	p->state = node_state(g, nd, now);
	p->incarnation = nd->incarnation;
	p->stamp = nd->stamp;
	p->age_ms = heard == NEVER ? -1 : (now > heard ? now - heard : 0);
	p->bye = nd->bye;
	for (i = 0; i < g->nwin; i++) {
		e = &g->win[i];
		if (e->lv.node == nd->id) {
			p->has_lv = 1;
			p->lv = e->lv;
			break;
		}
	}
}

static void
self_fill(const struct gossip *g, struct gossip_peer *p)
{
	memset(p, 0, sizeof *p);
	p->node = g->self;
	p->state = (g->own.lv.flags & LV_LEAVING) ? GOSSIP_LEAVING : GOSSIP_UP;
	p->age_ms = 0;
	if (g->has_self) {
		p->incarnation = g->own.lv.incarnation;
		p->stamp = g->own.lv.stamp;
		p->has_lv = 1;
		p->lv = g->own.lv;
	}
}

enum gossip_state
gossip_peer_state(const struct gossip *g, int64_t now, uint32_t node)
{
	const struct gnode	*nd;

	if (node == g->self)
		return (g->own.lv.flags & LV_LEAVING) ? GOSSIP_LEAVING :
		    GOSSIP_UP;
	if ((nd = node_find(g, node)) == NULL)
		return GOSSIP_NONE;
	return node_state(g, nd, now);
}

int
gossip_peer(const struct gossip *g, int64_t now, uint32_t node,
    struct gossip_peer *p)
{
	const struct gnode	*nd;

	if (node == g->self) {
		self_fill(g, p);
		return 0;
	}
	if ((nd = node_find(g, node)) == NULL)
		return -1;
	peer_fill(g, nd, now, p);
	return 0;
}

static int
peer_cmp(const void *a, const void *b)
{
	uint32_t	x = ((const struct gossip_peer *)a)->node;
	uint32_t	y = ((const struct gossip_peer *)b)->node;

	return x < y ? -1 : x > y;
}

size_t
gossip_nodes(const struct gossip *g, int64_t now, struct gossip_peer *out,
    size_t max)
{
	size_t	i, n = 0;

	if (max == 0)
		return 0;
	self_fill(g, &out[n++]);
	for (i = 0; i < g->nnodes && n < max; i++)
		peer_fill(g, &g->nodes[i], now, &out[n++]);
	qsort(out + 1, n - 1, sizeof *out, peer_cmp);
	return n;
}

size_t
gossip_count(const struct gossip *g)
{
	return g->nnodes + 1;
}

const struct gossip_stats *
gossip_stats(const struct gossip *g)
{
	return &g->stats;
}
