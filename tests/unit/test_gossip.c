/* test_gossip.c: the window's merge rules, membership, peer choice, a small cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omm/gossip.h"
#include "omm/wire.h"

#define SELF	1

static void
make_lv(struct loadvec *lv, uint32_t node, uint64_t inc, uint64_t stamp,
    uint32_t flags)
{
	memset(lv, 0, sizeof *lv);
	lv->node = node;
	snprintf(lv->name, sizeof lv->name, "n%u", node);
	lv->incarnation = inc;
	lv->stamp = stamp;
	lv->ncpu = 2;
	lv->speed = 10000;
	lv->load = node * 10;
	lv->mem_total = 1000;
	lv->mem_free = 500;
	lv->flags = flags;
}

static struct gossip *
new_gossip(uint32_t self, size_t window, uint32_t dead)
{
	struct gossip_config	 cfg;
	struct gossip		*g;
	char			*cause = NULL;

	gossip_config_defaults(&cfg);
	if (window != 0)
		cfg.window = window;
	if (dead != 0)
		cfg.dead_after_ms = dead;
	g = gossip_new(self, &cfg, &cause);
	if (g == NULL)
		fail_msg("gossip_new: %s", cause);
	return g;
}

/* ---- merge rules, as scripts of steps ---- */

enum op {
	OP_END,
	OP_SELF,	/* set own vector: stamp, flags */
	OP_RECV,	/* one entry node/inc/stamp/age/flags from `from` */
	OP_LEARN,
	OP_HEARD,	/* direct contact: node, inc */
	OP_BYE,
	OP_STATE,	/* want: enum gossip_state of node */
	OP_AGE,		/* want: age of the freshest news of node */
	OP_STAMP,	/* want: stamp known of node */
	OP_INC,		/* want: incarnation known of node */
	OP_INWIN,	/* want: node is in the window sent now */
	OP_WINAGE,	/* want: age of node's entry in the window sent now */
	OP_WINLEN,	/* want: entries of the window sent now */
	OP_FRESH,	/* want: what the last RECV returned */
	OP_DEAD,	/* want: gossip_dead_after */
};

struct step {
	enum op		op;
	int64_t		now;
	uint32_t	node;
	uint64_t	inc;
	uint64_t	stamp;
	uint32_t	age;
	uint32_t	flags;
	uint32_t	from;
	int64_t		want;
};

#define SELFV(t)		{ .op = OP_SELF, .now = (t), .stamp = (t) }
#define SELFF(t, f)		{ .op = OP_SELF, .now = (t), .stamp = (t), .flags = (f) }
#define RECV(t, n, i, s, a)	{ .op = OP_RECV, .now = (t), .node = (n), .inc = (i), \
				    .stamp = (s), .age = (a) }
#define RECVF(t, n, i, s, a, f)	{ .op = OP_RECV, .now = (t), .node = (n), .inc = (i), \
				    .stamp = (s), .age = (a), .flags = (f) }
#define RECVFROM(t, fr, n, i, s, a) { .op = OP_RECV, .now = (t), .node = (n), .inc = (i), \
				    .stamp = (s), .age = (a), .from = (fr) }
#define LEARN(t, n)		{ .op = OP_LEARN, .now = (t), .node = (n) }
#define HEARD(t, n, i)		{ .op = OP_HEARD, .now = (t), .node = (n), .inc = (i) }
#define BYE(t, n)		{ .op = OP_BYE, .now = (t), .node = (n) }
#define STATE(t, n, s)		{ .op = OP_STATE, .now = (t), .node = (n), .want = (s) }
#define AGE(t, n, a)		{ .op = OP_AGE, .now = (t), .node = (n), .want = (a) }
#define STAMP(n, s)		{ .op = OP_STAMP, .node = (n), .want = (s) }
#define INC(n, i)		{ .op = OP_INC, .node = (n), .want = (i) }
#define INWIN(t, n, y)		{ .op = OP_INWIN, .now = (t), .node = (n), .want = (y) }
#define WINAGE(t, n, a)		{ .op = OP_WINAGE, .now = (t), .node = (n), .want = (a) }
#define WINLEN(t, k)		{ .op = OP_WINLEN, .now = (t), .want = (k) }
#define FRESH(k)		{ .op = OP_FRESH, .want = (k) }
#define DEAD(k)			{ .op = OP_DEAD, .want = (k) }

static const struct merge_case {
	const char	*what;
	size_t		 window;	/* 0: default */
	uint32_t	 dead;		/* 0: default */
	struct step	 steps[32];
} merge_cases[] = {
	{ "a fresher stamp wins, an older one is ignored", 0, 0, {
		RECV(1000, 2, 1, 100, 10), FRESH(1), STAMP(2, 100),
		RECV(1000, 2, 1, 200, 5), FRESH(1), STAMP(2, 200),
		RECV(1100, 2, 1, 150, 0), FRESH(0), STAMP(2, 200),
		STATE(1100, 2, GOSSIP_UP),
	} },
	{ "age arithmetic: the receiver places news at now - age", 0, 0, {
		SELFV(5000),
		RECV(5000, 2, 1, 7, 300), AGE(5000, 2, 300), AGE(5100, 2, 400),
		WINAGE(5100, 2, 400), WINAGE(5100, SELF, 100),
	} },
	{ "one measurement seen twice keeps the earliest estimate", 0, 0, {
		RECV(1000, 2, 1, 100, 10),
		RECV(1020, 2, 1, 100, 50), FRESH(0), WINAGE(1020, 2, 50),
		RECV(1030, 2, 1, 100, 5), FRESH(0), AGE(1030, 2, 60),
		WINAGE(1030, 2, 60),
	} },
	{ "window bound: own plus the youngest window-1 others", 4, 0, {
		SELFV(1000),
		RECV(1000, 2, 1, 1, 70), RECV(1000, 3, 1, 1, 10),
		RECV(1000, 4, 1, 1, 60), RECV(1000, 5, 1, 1, 20),
		RECV(1000, 6, 1, 1, 50), RECV(1000, 7, 1, 1, 30),
		RECV(1000, 8, 1, 1, 40),
		WINLEN(1000, 4), INWIN(1000, SELF, 1), INWIN(1000, 3, 1),
		INWIN(1000, 5, 1), INWIN(1000, 7, 1), INWIN(1000, 2, 0),
		INWIN(1000, 8, 0),
		/* Out of the window, still known and up. */
		STATE(1000, 2, GOSSIP_UP), AGE(1000, 2, 70),
	} },
	{ "a full window: younger evicts the oldest, older stays out", 3, 0, {
		SELFV(1000),
		RECV(1000, 2, 1, 1, 50), RECV(1000, 3, 1, 1, 60),
		RECV(1000, 4, 1, 1, 100), FRESH(1), INWIN(1000, 4, 0),
		STATE(1000, 4, GOSSIP_UP),
		RECV(1000, 5, 1, 1, 55), INWIN(1000, 5, 1), INWIN(1000, 3, 0),
		INWIN(1000, 2, 1), WINLEN(1000, 3),
		/* A newer vector of a node in the window replaces it. */
		RECV(1010, 2, 1, 2, 0), WINAGE(1010, 2, 0), WINLEN(1010, 3),
	} },
	{ "own entry is never evicted, however old", 2, 0, {
		SELFV(0),
		RECV(1000, 2, 1, 1, 0), WINLEN(1000, 2),
		WINAGE(1000, SELF, 1000), WINAGE(1000, 2, 0),
		RECV(1000, 3, 1, 1, 0), WINLEN(1000, 2), INWIN(1000, SELF, 1),
	} },
	{ "silence for dead_after: down; fresh news: up again", 0, 1000, {
		RECV(0, 2, 1, 1, 0), STATE(1000, 2, GOSSIP_UP),
		STATE(1001, 2, GOSSIP_DOWN),
		RECV(1500, 2, 1, 2, 100), STATE(1500, 2, GOSSIP_UP),
		STATE(2400, 2, GOSSIP_UP), STATE(2401, 2, GOSSIP_DOWN),
	} },
	{ "news too old to matter is not even learned", 0, 1000, {
		RECV(5000, 2, 1, 1, 1001), FRESH(0),
		STATE(5000, 2, GOSSIP_NONE),
		RECV(5000, 2, 1, 1, 1000), FRESH(1),
		STATE(5000, 2, GOSSIP_UP),
	} },
	{ "stale entries leave the window, own stays", 0, 1000, {
		SELFV(0), RECV(0, 2, 1, 1, 0),
		WINLEN(1000, 2), WINLEN(1001, 1), INWIN(1001, SELF, 1),
	} },
	{ "a newer incarnation replaces, an older is ignored", 0, 0, {
		RECV(1000, 2, 5, 900, 0), INC(2, 5),
		RECV(1100, 2, 6, 10, 0), FRESH(1), INC(2, 6), STAMP(2, 10),
		WINAGE(1100, 2, 0),
		RECV(1200, 2, 5, 1000, 0), FRESH(0), INC(2, 6), STAMP(2, 10),
	} },
	{ "a restart seen in HELLO voids the old vector", 0, 0, {
		SELFV(1000), RECV(1000, 2, 5, 900, 0), INWIN(1000, 2, 1),
		HEARD(1100, 2, 6), INWIN(1100, 2, 0), INC(2, 6),
		STATE(1100, 2, GOSSIP_UP), AGE(1100, 2, 0),
		RECV(1200, 2, 5, 1000, 0), FRESH(0),
		RECV(1200, 2, 6, 3, 0), FRESH(1), INWIN(1200, 2, 1),
	} },
	{ "BYE: down at once, out of the window, copies do not revive", 0, 0, {
		SELFV(1000), RECV(1000, 2, 1, 100, 0),
		BYE(1001, 2), STATE(1001, 2, GOSSIP_DOWN), INWIN(1001, 2, 0),
		RECV(1002, 2, 1, 200, 0), FRESH(0),
		STATE(1002, 2, GOSSIP_DOWN), INWIN(1002, 2, 0),
		/* It speaks to us again (omctl join): back. */
		HEARD(1500, 2, 1), STATE(1500, 2, GOSSIP_UP),
		RECV(1600, 2, 1, 300, 0), FRESH(1), INWIN(1600, 2, 1),
	} },
	{ "BYE, then a new incarnation: up", 0, 0, {
		RECV(1000, 2, 1, 100, 0), BYE(1001, 2),
		RECV(3000, 2, 2, 5, 10), FRESH(1), STATE(3000, 2, GOSSIP_UP),
	} },
	{ "LEAVING flag: leaving while it says so", 0, 0, {
		RECVF(1000, 2, 1, 1, 0, LV_LEAVING | LV_BLOCK),
		STATE(1000, 2, GOSSIP_LEAVING),
		RECV(1100, 2, 1, 2, 0), STATE(1100, 2, GOSSIP_UP),
	} },
	{ "from the map: unknown, down if never heard", 0, 1000, {
		LEARN(0, 2), STATE(1000, 2, GOSSIP_UNKNOWN), AGE(1000, 2, -1),
		STATE(1001, 2, GOSSIP_DOWN),
		RECV(2000, 2, 1, 1, 0), STATE(2000, 2, GOSSIP_UP),
	} },
	{ "entries about ourselves are ignored", 0, 0, {
		SELFV(1000), RECV(1000, SELF, 99, 5, 0), FRESH(0),
		WINLEN(1000, 1), STATE(1000, SELF, GOSSIP_UP), INC(SELF, 77),
	} },
	{ "our own LEAVING shows in our state", 0, 0, {
		SELFF(1000, LV_LEAVING), STATE(1000, SELF, GOSSIP_LEAVING),
		INC(SELF, 77),
	} },
	{ "the direct sender is heard, entries or not", 0, 1000, {
		RECVFROM(1000, 3, 2, 1, 1, 0), STATE(1000, 3, GOSSIP_UP),
		AGE(1000, 3, 0), STATE(2000, 3, GOSSIP_UP),
		STATE(2001, 3, GOSSIP_DOWN),
	} },
	{ "node id 0 in an entry is ignored", 0, 0, {
		RECV(1000, 0, 1, 1, 0), FRESH(0), STATE(1000, 0, GOSSIP_NONE),
	} },
	{ "dead_after scales with the windows the cluster spans", 3, 1000, {
		DEAD(1000), LEARN(0, 2), LEARN(0, 3), DEAD(1000),
		LEARN(0, 4), DEAD(1500), LEARN(0, 5), LEARN(0, 6), LEARN(0, 7),
		LEARN(0, 8), LEARN(0, 9), DEAD(4000),
		LEARN(0, 9), DEAD(4000), LEARN(0, SELF), DEAD(4000),
	} },
};

static int
win_age(struct gossip *g, int64_t now, uint32_t node)
{
	struct wire_loadwin	*w = malloc(sizeof *w);
	size_t			 i;
	int			 age = -1;

	gossip_window(g, now, w);
	for (i = 0; i < w->n; i++) {
		if (w->ent[i].lv.node == node)
			age = (int)w->ent[i].age_ms;
	}
	free(w);
	return age;
}

static int64_t
win_len(struct gossip *g, int64_t now)
{
	struct wire_loadwin	*w = malloc(sizeof *w);
	int64_t			 n;

	gossip_window(g, now, w);
	n = w->n;
	/* Own vector first, when we have one. */
	if (n > 0 && w->ent[0].lv.node != SELF)
		fail_msg("window does not start with our own vector");
	free(w);
	return n;
}

static void
test_merge_rules(void **state)
{
	const struct merge_case	*c;
	const struct step	*s;
	struct gossip		*g;
	struct gossip_peer	 p;
	struct wire_lventry	 e;
	struct loadvec		 lv;
	size_t			 i, k;
	int64_t			 got;
	int			 fresh = -1;

	for (i = 0; i < sizeof merge_cases / sizeof merge_cases[0]; i++) {
		c = &merge_cases[i];
		g = new_gossip(SELF, c->window, c->dead);
		for (k = 0; c->steps[k].op != OP_END; k++) {
			s = &c->steps[k];
			got = s->want;
			switch (s->op) {
			case OP_SELF:
				make_lv(&lv, SELF, 77, s->stamp, s->flags);
				gossip_set_self(g, s->now, &lv);
				continue;
			case OP_RECV:
				e.age_ms = s->age;
				make_lv(&e.lv, s->node, s->inc, s->stamp,
				    s->flags);
				fresh = gossip_receive(g, s->now, s->from, &e,
				    1);
				continue;
			case OP_LEARN:
				gossip_learn(g, s->now, s->node);
				continue;
			case OP_HEARD:
				gossip_heard(g, s->now, s->node, s->inc);
				continue;
			case OP_BYE:
				gossip_bye(g, s->now, s->node, WIRE_BYE_LEAVE);
				continue;
			case OP_STATE:
				got = gossip_peer_state(g, s->now, s->node);
				break;
			case OP_AGE:
				assert_int_equal(gossip_peer(g, s->now, s->node,
				    &p), 0);
				got = p.age_ms;
				break;
			case OP_STAMP:
			case OP_INC:
				assert_int_equal(gossip_peer(g, s->now, s->node,
				    &p), 0);
				got = s->op == OP_STAMP ? (int64_t)p.stamp :
				    (int64_t)p.incarnation;
				break;
			case OP_INWIN:
				got = win_age(g, s->now, s->node) >= 0;
				break;
			case OP_WINAGE:
				got = win_age(g, s->now, s->node);
				break;
			case OP_WINLEN:
				got = win_len(g, s->now);
				break;
			case OP_FRESH:
				got = fresh;
				break;
			case OP_DEAD:
				got = gossip_dead_after(g);
				break;
			case OP_END:
				break;
			}
			if (got != s->want)
				fail_msg("\"%s\", step %zu: got %lld, want %lld",
				    c->what, k, (long long)got,
				    (long long)s->want);
		}
		gossip_free(g);
	}
}

/* ---- configuration ---- */

static void
test_config_refused(void **state)
{
	static const struct {
		const char	*cause;
		size_t		 window;
		uint32_t	 fanout;
		uint32_t	 min, max;
		uint32_t	 probe;
	} cases[] = {
		{ "gossip window 1 out of 2 to 64", 1, 1, 500, 1000, 10 },
		{ "gossip window 65 out of 2 to 64", 65, 1, 500, 1000, 10 },
		{ "gossip fanout 0", 20, 0, 500, 1000, 10 },
		{ "gossip fanout 9", 20, 9, 500, 1000, 10 },
		{ "interval_min_ms 0", 20, 1, 0, 1000, 10 },
		{ "interval_min_ms 1001 over interval_max_ms 1000", 20, 1,
		    1001, 1000, 10 },
		{ "gossip probe_pct 101", 20, 1, 500, 1000, 101 },
		{ NULL, 64, 8, 1000, 1000, 100 },
	};
	struct gossip_config	 cfg;
	struct gossip		*g;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		gossip_config_defaults(&cfg);
		cfg.window = cases[i].window;
		cfg.fanout = cases[i].fanout;
		cfg.interval_min_ms = cases[i].min;
		cfg.interval_max_ms = cases[i].max;
		cfg.probe_pct = cases[i].probe;
		cause = NULL;
		g = gossip_new(2, &cfg, &cause);
		if (cases[i].cause == NULL) {
			assert_non_null(g);
			gossip_free(g);
			continue;
		}
		assert_null(g);
		if (cause == NULL || strstr(cause, cases[i].cause) == NULL)
			fail_msg("case %zu: \"%s\"", i, cause ? cause : "");
		free(cause);
	}
	gossip_config_defaults(&cfg);
	cause = NULL;
	assert_null(gossip_new(0, &cfg, &cause));
	assert_string_equal(cause, "node id 0");
	free(cause);
}

/* ---- ticks: peers, window, schedule ---- */

static void
set_self(struct gossip *g, uint32_t self, int64_t now, uint32_t flags)
{
	struct loadvec	lv;

	make_lv(&lv, self, 9, (uint64_t)now, flags);
	gossip_set_self(g, now, &lv);
}

static void
recv_one(struct gossip *g, int64_t now, uint32_t node, uint64_t stamp)
{
	struct wire_lventry	e;

	e.age_ms = 0;
	make_lv(&e.lv, node, 1, stamp, 0);
	gossip_receive(g, now, 0, &e, 1);
}

static void
test_tick_schedule(void **state)
{
	struct gossip		*g = new_gossip(SELF, 0, 0);
	struct gossip_out	*o = malloc(sizeof *o);
	uint64_t		 rng = 42;
	int64_t			 lo = INT64_MAX, hi = 0;
	int			 i;

	/* No vector of our own yet: nothing to say. */
	gossip_learn(g, 0, 2);
	assert_int_equal(gossip_tick(g, 0, &rng, o), 0);
	assert_int_equal(o->win.n, 0);
	set_self(g, SELF, 0, 0);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(gossip_tick(g, 10000, &rng, o), 1);
		assert_int_equal(o->peers[0], 2);
		assert_int_equal(o->win.n, 1);
		assert_int_equal(o->win.ent[0].lv.node, SELF);
		assert_int_equal(o->win.ent[0].age_ms, 10000);
		if (o->next_ms < lo)
			lo = o->next_ms;
		if (o->next_ms > hi)
			hi = o->next_ms;
	}
	/* Randomised between 0.5 and 1 s, ends included. */
	assert_int_equal(lo, 10500);
	assert_int_equal(hi, 11000);

	/* Quiet: still a schedule and a window, no peers. */
	set_self(g, SELF, 20000, LV_QUIET);
	assert_int_equal(gossip_tick(g, 20000, &rng, o), 0);
	assert_int_equal(o->npeers, 0);
	assert_int_equal(o->win.n, 1);
	assert_true(o->next_ms >= 20500 && o->next_ms <= 21000);
	assert_int_equal(gossip_stats(g)->ticks, 2002);
	assert_int_equal(gossip_stats(g)->sent, 2000);
	free(o);
	gossip_free(g);
}

/* Peers: random among the live, distinct, reproducible, never ourselves. */
static void
test_tick_peers(void **state)
{
	struct gossip_config	 cfg;
	struct gossip		*g;
	struct gossip_out	*o = malloc(sizeof *o);
	uint32_t		 seq[2][100];
	unsigned int		 hits[12];
	uint64_t		 rng;
	size_t			 i, j, k, r;

	gossip_config_defaults(&cfg);
	cfg.fanout = 3;
	cfg.probe_pct = 0;
	for (r = 0; r < 2; r++) {
		g = gossip_new(SELF, &cfg, NULL);
		set_self(g, SELF, 0, 0);
		for (i = 2; i <= 11; i++)
			recv_one(g, 0, (uint32_t)i, 1);
		memset(hits, 0, sizeof hits);
		rng = 7;
		for (k = 0; k < 100; k++) {
			assert_int_equal(gossip_tick(g, 100, &rng, o), 3);
			for (i = 0; i < 3; i++) {
				assert_true(o->peers[i] >= 2 &&
				    o->peers[i] <= 11);
				for (j = 0; j < i; j++)
					assert_int_not_equal(o->peers[i],
					    o->peers[j]);
				hits[o->peers[i]]++;
			}
			seq[r][k] = o->peers[0];
		}
		/* Uniform enough: each of 10 peers drawn about 30 times. */
		for (i = 2; i <= 11; i++)
			assert_true(hits[i] > 10 && hits[i] < 60);
		gossip_free(g);
	}
	assert_memory_equal(seq[0], seq[1], sizeof seq[0]);

	/* Fewer peers than the fanout: each of them once. */
	g = gossip_new(SELF, &cfg, NULL);
	set_self(g, SELF, 0, 0);
	recv_one(g, 0, 2, 1);
	recv_one(g, 0, 3, 1);
	rng = 1;
	assert_int_equal(gossip_tick(g, 10, &rng, o), 2);
	assert_int_not_equal(o->peers[0], o->peers[1]);
	gossip_free(g);
	free(o);
}

/* DOWN nodes only when probing (or nothing else is left); BYE never. */
static void
test_tick_probe(void **state)
{
	struct gossip_config	 cfg;
	struct gossip		*g;
	struct gossip_out	*o = malloc(sizeof *o);
	uint64_t		 rng = 3;
	unsigned int		 to3 = 0;
	int			 i;

	gossip_config_defaults(&cfg);
	cfg.dead_after_ms = 1000;
	cfg.probe_pct = 0;
	g = gossip_new(SELF, &cfg, NULL);
	set_self(g, SELF, 0, 0);
	recv_one(g, 0, 2, 1);		/* will say BYE */
	recv_one(g, 0, 3, 1);		/* will fall silent */
	recv_one(g, 0, 4, 1);
	gossip_bye(g, 100, 2, WIRE_BYE_SHUTDOWN);
	recv_one(g, 1500, 4, 2);
	for (i = 0; i < 200; i++) {
		assert_int_equal(gossip_tick(g, 2000, &rng, o), 1);
		assert_int_equal(o->peers[0], 4);
	}
	gossip_free(g);

	/* Probing: about probe_pct of the picks try the silent node. */
	cfg.probe_pct = 25;
	g = gossip_new(SELF, &cfg, NULL);
	set_self(g, SELF, 0, 0);
	recv_one(g, 0, 2, 1);
	recv_one(g, 0, 3, 1);
	recv_one(g, 0, 4, 1);
	gossip_bye(g, 100, 2, WIRE_BYE_SHUTDOWN);
	recv_one(g, 1500, 4, 2);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(gossip_tick(g, 2000, &rng, o), 1);
		assert_int_not_equal(o->peers[0], 2);
		to3 += o->peers[0] == 3;
	}
	assert_true(to3 > 180 && to3 < 320);

	/* Everyone silent: we keep trying them (partitions heal). */
	assert_int_equal(gossip_tick(g, 100000, &rng, o), 1);
	assert_true(o->peers[0] == 3 || o->peers[0] == 4);
	gossip_free(g);
	free(o);
}

/* Push-pull: a pull is answered with our window, a reply is not. */
static void
test_reply(void **state)
{
	struct gossip_config	 cfg;
	struct gossip		*g;
	struct gossip_out	*o = malloc(sizeof *o);
	struct wire_loadwin	*in = calloc(1, sizeof *in);
	struct wire_loadwin	*out = malloc(sizeof *out);
	uint64_t		 rng = 5;

	gossip_config_defaults(&cfg);
	g = gossip_new(SELF, &cfg, NULL);
	in->flags = WIRE_LOADWIN_PULL;
	in->n = 1;
	make_lv(&in->ent[0].lv, 2, 1, 1, 0);
	assert_int_equal(gossip_reply(g, 0, in, out), 0);	/* no vector */
	set_self(g, SELF, 0, 0);
	gossip_receive(g, 10, 2, in->ent, in->n);
	assert_int_equal(gossip_reply(g, 10, in, out), 1);
	assert_int_equal(out->flags, 0);
	assert_int_equal(out->n, 2);
	assert_int_equal(out->ent[0].lv.node, SELF);
	assert_int_equal(out->ent[0].age_ms, 10);
	in->flags = 0;
	assert_int_equal(gossip_reply(g, 10, in, out), 0);
	in->flags = WIRE_LOADWIN_PULL;
	set_self(g, SELF, 20, LV_QUIET);
	assert_int_equal(gossip_reply(g, 20, in, out), 0);
	assert_int_equal(gossip_stats(g)->replies, 1);
	/* Our pushes ask for a pull when configured so. */
	set_self(g, SELF, 30, 0);
	assert_int_equal(gossip_tick(g, 30, &rng, o), 1);
	assert_int_equal(o->win.flags, WIRE_LOADWIN_PULL);
	gossip_free(g);

	cfg.pull = 0;
	g = gossip_new(SELF, &cfg, NULL);
	set_self(g, SELF, 0, 0);
	gossip_receive(g, 10, 2, in->ent, in->n);
	assert_int_equal(gossip_tick(g, 30, &rng, o), 1);
	assert_int_equal(o->win.flags, 0);
	gossip_free(g);
	free(o);
	free(in);
	free(out);
}

static void
test_nodes_listing(void **state)
{
	struct gossip		*g = new_gossip(5, 0, 1000);
	struct gossip_peer	 p[8];
	struct loadvec		 lv;

	make_lv(&lv, 5, 9, 100, LV_BLOCK);
	gossip_set_self(g, 100, &lv);
	recv_one(g, 100, 9, 1);
	recv_one(g, 100, 2, 1);
	gossip_learn(g, 100, 7);
	assert_int_equal(gossip_count(g), 4);
	assert_int_equal(gossip_nodes(g, 300, p, 8), 4);
	/* Self first, then by id. */
	assert_int_equal(p[0].node, 5);
	assert_int_equal(p[0].state, GOSSIP_UP);
	assert_true(p[0].has_lv);
	assert_int_equal(p[0].lv.flags, LV_BLOCK);
	assert_int_equal(p[1].node, 2);
	assert_int_equal(p[1].age_ms, 200);
	assert_true(p[1].has_lv);
	assert_int_equal(p[1].lv.load, 20);
	assert_int_equal(p[2].node, 7);
	assert_int_equal(p[2].state, GOSSIP_UNKNOWN);
	assert_false(p[2].has_lv);
	assert_int_equal(p[2].age_ms, -1);
	assert_int_equal(p[3].node, 9);
	assert_int_equal(gossip_nodes(g, 300, p, 2), 2);
	assert_int_equal(gossip_nodes(g, 300, p, 0), 0);
	assert_int_equal(gossip_peer(g, 300, 8, &p[0]), -1);
	assert_string_equal(gossip_state_name(GOSSIP_LEAVING), "leaving");
	gossip_free(g);
}

/* ---- a small cluster: join, see all, one killed, restarted ---- */

#define NNODES	6
#define STEP	10		/* ms of simulated time per step */
#define SIM_DEAD	3000

struct simnode {
	struct gossip	*g;
	struct loadvec	 lv;
	int64_t		 next;
	int		 alive;
};

static void
sim_start(struct simnode *n, uint32_t id, uint64_t inc, int64_t now)
{
	char	*cause = NULL;
	int	 j;

	gossip_free(n->g);
	n->g = new_gossip(id, 0, SIM_DEAD);
	if (loadvec_init(&n->lv, id, "sim", inc, &cause) != 0)
		fail_msg("%s", cause);
	/* The static map: everyone else. */
	for (j = 1; j <= NNODES; j++)
		gossip_learn(n->g, now, (uint32_t)j);
	n->next = now;
	n->alive = 1;
}

/* Run until `until`, checking after each step; messages arrive at once. */
static void
sim_run(struct simnode *nodes, int64_t *now, int64_t until, uint64_t *rng,
    struct gossip_out *o, int (*check)(struct simnode *, int64_t))
{
	struct wire_loadwin	*reply = malloc(sizeof *reply);
	size_t			 i, k;

	for (; *now < until; *now += STEP) {
		for (i = 0; i < NNODES; i++) {
			struct simnode	*n = &nodes[i];

			if (!n->alive || n->next > *now)
				continue;
			n->lv.stamp = (uint64_t)*now;
			gossip_set_self(n->g, *now, &n->lv);
			gossip_tick(n->g, *now, rng, o);
			n->next = o->next_ms;
			for (k = 0; k < o->npeers; k++) {
				struct simnode	*d = &nodes[o->peers[k] - 1];

				if (!d->alive)
					continue;
				gossip_receive(d->g, *now, n->lv.node,
				    o->win.ent, o->win.n);
				/* Push-pull: the answer comes straight back. */
				if (gossip_reply(d->g, *now, &o->win, reply))
					gossip_receive(n->g, *now, d->lv.node,
					    reply->ent, reply->n);
			}
		}
		if (check != NULL && check(nodes, *now) != 0)
			fail_msg("check failed at %lld", (long long)*now);
	}
	free(reply);
}

/* Every live node sees every other live node up. */
static int
live_up(struct simnode *nodes, int64_t now)
{
	size_t	i, j;

	for (i = 0; i < NNODES; i++) {
		for (j = 0; j < NNODES; j++) {
			if (!nodes[i].alive || !nodes[j].alive || i == j)
				continue;
			if (gossip_peer_state(nodes[i].g, now, (uint32_t)j + 1)
			    != GOSSIP_UP)
				return -1;
		}
	}
	return 0;
}

/* The same, leaving node 3 aside (it is restarting). */
static int
others_up(struct simnode *nodes, int64_t now)
{
	size_t	i, j;

	for (i = 0; i < NNODES; i++) {
		for (j = 0; j < NNODES; j++) {
			if (i == 2 || j == 2 || i == j)
				continue;
			if (gossip_peer_state(nodes[i].g, now, (uint32_t)j + 1)
			    != GOSSIP_UP)
				return -1;
		}
	}
	return 0;
}

static int
count_state(struct simnode *nodes, int64_t now, uint32_t id,
    enum gossip_state st)
{
	int	i, n = 0;

	for (i = 0; i < NNODES; i++) {
		if (nodes[i].alive && (uint32_t)i + 1 != id &&
		    gossip_peer_state(nodes[i].g, now, id) == st)
			n++;
	}
	return n;
}

static void
test_small_cluster(void **state)
{
	struct simnode		 nodes[NNODES];
	struct gossip_out	*o = malloc(sizeof *o);
	uint64_t		 rng = 12345;
	int64_t			 now = 0, t_kill, t_down = -1;
	size_t			 i, j;

	memset(nodes, 0, sizeof nodes);
	for (i = 0; i < NNODES; i++)
		sim_start(&nodes[i], (uint32_t)i + 1, 1000, 0);

	/* Within 5 s every node sees every other up, with its vector. */
	sim_run(nodes, &now, 5000, &rng, o, NULL);
	for (i = 0; i < NNODES; i++) {
		struct gossip_peer	p[NNODES + 1];

		assert_int_equal(gossip_nodes(nodes[i].g, now, p, NNODES + 1),
		    NNODES);
		assert_int_equal(p[0].node, i + 1);
		for (j = 0; j < NNODES; j++) {
			if (j > 0)
				assert_true(p[j].node > p[j - 1].node ||
				    j == 1);
			assert_int_equal(p[j].state, GOSSIP_UP);
			assert_true(p[j].has_lv);
			/* Within a few intervals. */
			assert_true(p[j].age_ms < 3000);
		}
	}

	/* 30 s more: no node ever sees another down. */
	sim_run(nodes, &now, 35000, &rng, o, live_up);

	/*
	 * Node 3 is killed: down everywhere once dead_after has passed since
	 * its last vector; the others never see each other down meanwhile.
	 */
	nodes[2].alive = 0;
	t_kill = now;
	while (now < t_kill + SIM_DEAD + 2000) {
		sim_run(nodes, &now, now + STEP, &rng, o, live_up);
		if (count_state(nodes, now, 3, GOSSIP_DOWN) == NNODES - 1) {
			t_down = now;
			break;
		}
	}
	assert_true(t_down > (int64_t)nodes[2].lv.stamp + SIM_DEAD);
	assert_true(t_down <= (int64_t)nodes[2].lv.stamp + SIM_DEAD + STEP);

	/* Restarted (new incarnation): up everywhere within a few s. */
	sim_start(&nodes[2], 3, 2000, now);
	sim_run(nodes, &now, now + 5000, &rng, o, others_up);
	assert_int_equal(count_state(nodes, now, 3, GOSSIP_UP), NNODES - 1);
	assert_int_equal(live_up(nodes, now), 0);
	for (i = 0; i < NNODES; i++) {
		struct gossip_peer	p;

		if (i == 2)
			continue;
		assert_int_equal(gossip_peer(nodes[i].g, now, 3, &p), 0);
		assert_int_equal(p.incarnation, 2000);
	}
	for (i = 0; i < NNODES; i++)
		gossip_free(nodes[i].g);
	free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_rules),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_tick_schedule),
		cmocka_unit_test(test_tick_peers),
		cmocka_unit_test(test_tick_probe),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_nodes_listing),
		cmocka_unit_test(test_small_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
