/* test_balance.c: the opportunity-cost decision, alone and over simulated rounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omm/balance.h"
#include "omm/loadvec.h"

#define GIB		(1ULL << 30)
#define MIB		(1ULL << 20)
#define MAXN		8
#define MAXP		32

/*
 * A small cluster where every process is CPU-bound (it always wants one
 * core) and has home node 1: each round node 1 decides once and the move is
 * applied at once, as if vectors were always fresh.
 */
struct sim {
	struct bal_config	cfg;
	struct bal_node		nodes[MAXN];
	size_t			n;
	struct bal_proc		procs[MAXP];
	size_t			np;
	uint64_t		rng;
	size_t			moves;
	uint32_t		moved_to[MAXN + 1];	/* arrivals per node */
};

static void
sim_init(struct sim *s, const double *ncpu, size_t n, size_t np)
{
	size_t	i;

	memset(s, 0, sizeof *s);
	balance_config_defaults(&s->cfg);
	s->n = n;
	for (i = 0; i < n; i++) {
		s->nodes[i].id = (uint32_t)i + 1;
		s->nodes[i].ncpu = ncpu[i];
		s->nodes[i].cap = ncpu[i];	/* speed LV_SPEED_REF */
		s->nodes[i].mem_total = 16 * GIB;
		s->nodes[i].mem_free = 12 * GIB;
		s->nodes[i].up = 1;
	}
	s->np = np;
	for (i = 0; i < np; i++) {
		s->procs[i].pid = 100 + (pid_t)i;
		s->procs[i].where = 1;
		s->procs[i].rss = 64 * MIB;
		s->procs[i].age_s = 60;
		s->procs[i].resident_s = 60;
		s->procs[i].movable = 1;
	}
	s->rng = 42;
}

/* Demands and what each process got, from where the processes are. */
static void
sim_measure(struct sim *s)
{
	struct bal_node	*nd;
	size_t		 i;

	for (i = 0; i < s->n; i++)
		s->nodes[i].demand = 0;
	for (i = 0; i < s->np; i++)
		s->nodes[s->procs[i].where - 1].demand += 1;
	for (i = 0; i < s->n; i++)
		s->nodes[i].guest_share = s->nodes[i].demand;
	for (i = 0; i < s->np; i++) {
		nd = &s->nodes[s->procs[i].where - 1];
		s->procs[i].cpu_frac = nd->demand > nd->ncpu ?
		    nd->ncpu / nd->demand : 1;
	}
}

/* One decision of node 1 and one second of time; 1 if a process moved. */
static int
sim_round(struct sim *s)
{
	struct bal_move	mv;
	size_t		i;

	sim_measure(s);
	for (i = 0; i < s->np; i++) {
		s->procs[i].age_s += 1;
		s->procs[i].resident_s += 1;
	}
	if (!balance_decide(&s->cfg, 1, s->nodes, s->n, s->procs, s->np,
	    &s->rng, &mv))
		return 0;
	assert_int_equal(s->procs[mv.proc].pid, mv.pid);
	assert_int_equal(s->procs[mv.proc].where, mv.from);
	assert_int_not_equal(mv.from, mv.to);
	assert_true(mv.to >= 1 && mv.to <= s->n);
	s->procs[mv.proc].where = mv.to;
	s->procs[mv.proc].resident_s = 0;
	s->moves++;
	s->moved_to[mv.to]++;
	return 1;
}

/* Rounds until max, or until quiet rounds pass without a move. */
static void
sim_run(struct sim *s, int max, int quiet)
{
	int	r, still = 0;

	for (r = 0; r < max && still < quiet; r++) {
		if (sim_round(s))
			still = 0;
		else
			still++;
	}
	sim_measure(s);
}

static size_t
count_on(const struct sim *s, uint32_t node)
{
	size_t	i, c = 0;

	for (i = 0; i < s->np; i++)
		c += s->procs[i].where == node;
	return c;
}

/* ---- the cost ---- */

static void
test_cost(void **state)
{
	struct bal_config	cfg;
	double			c0, c1, c2, big, bigger;

	(void)state;
	balance_config_defaults(&cfg);
	/* B^u + B^m with B = 8, without libm: exact enough. */
	assert_true(balance_cost(&cfg, 0, 0) > 2 - 1e-12 &&
	    balance_cost(&cfg, 0, 0) < 2 + 1e-12);
	c2 = balance_cost(&cfg, 2, 0);
	assert_true(c2 > 65 - 1e-9 && c2 < 65 + 1e-9);
	c1 = balance_cost(&cfg, 0.5, 0.5);
	assert_true(c1 > 2 * 2.8284271247 - 1e-8 &&
	    c1 < 2 * 2.8284271247 + 1e-8);
	/* Convex in u: the second difference is positive. */
	c0 = balance_cost(&cfg, 1, 0);
	assert_true(c2 - c0 > c0 - balance_cost(&cfg, 0, 0));
	/* Finite and still growing far beyond u_max. */
	big = balance_cost(&cfg, 1000, 0);
	bigger = balance_cost(&cfg, 2000, 0);
	assert_true(big > balance_cost(&cfg, 64, 0));
	assert_true(bigger > big && bigger < 1e300);
	/* Above the memory mark the cost jumps: 0.95 far over 0.85. */
	assert_true(balance_cost(&cfg, 0, 0.95) >
	    20 * balance_cost(&cfg, 0, 0.85));
}

static void
test_demand(void **state)
{
	struct bal_node	nd;

	(void)state;
	memset(&nd, 0, sizeof nd);
	nd.ncpu = 2;
	nd.demand = 8;		/* 4x overloaded: 1/4 core each */
	assert_true(balance_demand(&nd, 0.25) > 0.999 &&
	    balance_demand(&nd, 0.25) <= 1);
	assert_true(balance_demand(&nd, 0.1) > 0.399 &&
	    balance_demand(&nd, 0.1) < 0.401);
	nd.demand = 1;		/* not overloaded: what it got */
	assert_true(balance_demand(&nd, 0.3) > 0.299 &&
	    balance_demand(&nd, 0.3) < 0.301);
	assert_true(balance_demand(&nd, 0) == 0);
}

static void
test_reserve(void **state)
{
	struct bal_node	a, b;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.demand = 3;
	a.mem_total = b.mem_total = 10 * GIB;
	a.mem_free = 9 * GIB;
	b.mem_free = 1 * GIB;
	balance_reserve(&b, &a, 1, 2 * GIB);
	assert_true(a.demand > 1.999 && a.demand < 2.001);
	assert_true(b.demand > 0.999 && b.demand < 1.001);
	assert_int_equal(a.mem_free, 10 * GIB);	/* capped at total */
	assert_int_equal(b.mem_free, 0);		/* floored */
}

/* ---- simulated rounds ---- */

static void
test_spread_equal(void **state)
{
	static const double	ncpu[] = { 1, 1, 1, 1 };
	struct sim		s;
	size_t			maxmoves = 0;
	uint64_t		seed;
	uint32_t		i;

	(void)state;
	for (seed = 1; seed <= 50; seed++) {
		sim_init(&s, ncpu, 4, 8);
		s.rng = seed;
		sim_run(&s, 200, 30);
		for (i = 1; i <= 4; i++) {
			if (count_on(&s, i) != 2)
				fail_msg("seed %llu: %zu on node %u",
				    (unsigned long long)seed, count_on(&s, i),
				    i);
		}
		maxmoves = s.moves > maxmoves ? s.moves : maxmoves;
		assert_true(s.moves >= 6);
	}
	/*
	 * Six moves are the minimum. A random pick among near-equal targets
	 * may cost one or two more (a second job to a node that had one
	 * while another was empty), no wandering beyond that.
	 */
	print_message("8 jobs on 4 nodes, 50 seeds: at most %zu moves\n",
	    maxmoves);
	assert_true(maxmoves <= 8);
}

static void
test_spread_hetero(void **state)
{
	static const double	ncpu[] = { 0.2, 0.4, 0.6, 0.6 };
	struct sim		s;
	double			want, got;
	uint64_t		seed;
	uint32_t		i;
	int			bycores;

	(void)state;
	/*
	 * Capacity as cores (CPU shares), then as speed (one core each at
	 * 0.2 .. 0.6 of the reference): either way the work ends up in
	 * proportion to capacity, within one job.
	 */
	for (bycores = 1; bycores >= 0; bycores--) {
		for (seed = 1; seed <= 20; seed++) {
			sim_init(&s, ncpu, 4, 8);
			s.rng = seed;
			for (i = 0; !bycores && i < 4; i++)
				s.nodes[i].ncpu = 1;
			sim_run(&s, 200, 30);
			for (i = 1; i <= 4; i++) {
				want = 8 * ncpu[i - 1] / 1.8;
				got = (double)count_on(&s, i);
				if (got <= want - 1 || got >= want + 1)
					fail_msg("%s, seed %llu: node %u has "
					    "%.0f, want %.2f", bycores ?
					    "cores" : "speed",
					    (unsigned long long)seed, i, got,
					    want);
			}
		}
	}
}

/* Balanced, or one short of it: nothing moves, however long we wait. */
static void
test_hysteresis(void **state)
{
	static const double	ncpu[] = { 1, 1, 1, 1 };
	static const uint32_t	place[][8] = {
		{ 1, 1, 2, 2, 3, 3, 4, 4 },	/* balanced */
		{ 1, 1, 1, 2, 2, 3, 3, 4 },	/* 3 2 2 1 -> 2 2 2 2 */
		{ 1, 1, 2, 2, 2, 3, 3, 4 },	/* away: 2 3 2 1, moves too */
		{ 1, 1, 1, 2, 2, 3, 3, 0 },	/* 3 2 2 0 of 7: one move */
	};
	static const size_t	want_moves[] = { 0, 1, 1, 1 };
	struct sim		s;
	size_t			k, i, np;

	(void)state;
	for (k = 0; k < sizeof place / sizeof place[0]; k++) {
		np = place[k][7] == 0 ? 7 : 8;
		sim_init(&s, ncpu, 4, np);
		for (i = 0; i < np; i++)
			s.procs[i].where = place[k][i];
		sim_run(&s, 300, 300);
		if (s.moves != want_moves[k])
			fail_msg("case %zu: %zu moves, want %zu", k, s.moves,
			    want_moves[k]);
	}
}

/* 8 jobs on node 1; node 2 is flagged or down, node 3 is not. */
static void
test_target_flags(void **state)
{
	static const double	ncpu[] = { 1, 1, 1 };
	static const struct {
		const char	*what;
		uint32_t	 flags;
		int		 up;
		double		 guest_limit;
	} cases[] = {
		{ "block",	LV_BLOCK,	1, 0 },
		{ "leaving",	LV_LEAVING,	1, 0 },
		{ "down",	0,		0, 0 },
		{ "loadlimit",	0,		1, 0.5 },
	};
	struct sim		s;
	size_t			k;

	(void)state;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		sim_init(&s, ncpu, 3, 8);
		s.nodes[1].flags = cases[k].flags;
		s.nodes[1].up = cases[k].up;
		s.nodes[1].guest_limit = cases[k].guest_limit;
		sim_run(&s, 100, 20);
		if (s.moved_to[2] != 0)
			fail_msg("%s: %u moves to node 2", cases[k].what,
			    s.moved_to[2]);
		if (count_on(&s, 3) != 4)
			fail_msg("%s: %zu on node 3", cases[k].what,
			    count_on(&s, 3));
	}
	/* A limit of 2 cores lets two guests in, not more. */
	sim_init(&s, ncpu, 3, 8);
	s.nodes[1].guest_limit = 2;
	sim_run(&s, 100, 20);
	assert_int_equal(count_on(&s, 2), 2);
}

static void
test_allowed(void **state)
{
	static const double	ncpu[] = { 1, 1, 1, 1 };
	static const uint32_t	only2[] = { 2 };
	struct sim		s;
	size_t			i;

	(void)state;
	sim_init(&s, ncpu, 4, 8);
	for (i = 0; i < 8; i++) {
		s.procs[i].allowed = only2;
		s.procs[i].nallowed = 1;
	}
	sim_run(&s, 100, 20);
	assert_int_equal(count_on(&s, 3) + count_on(&s, 4), 0);
	assert_int_equal(count_on(&s, 1), 4);
	assert_int_equal(count_on(&s, 2), 4);
}

/* One process alone on a loaded node, and what keeps it there. */
static void
test_eligibility(void **state)
{
	static const double	ncpu[] = { 1, 1 };
	static const struct {
		const char	*what;
		double		 age_s;
		double		 resident_s;
		int		 movable;
		uint32_t	 self_flags;
		int		 want;
	} cases[] = {
		{ "eligible",		60, 60, 1, 0, 1 },
		{ "too young",		1, 60, 1, 0, 0 },
		{ "not resident",	60, 2, 1, 0, 0 },
		{ "held at home",	60, -100, 1, 0, 0 },
		{ "not movable",	60, 60, 0, 0, 0 },
		{ "stay",		60, 60, 1, LV_STAY, 0 },
		{ "lstay",		60, 60, 1, LV_LSTAY, 0 },
	};
	struct sim		s;
	struct bal_move		mv;
	size_t			k, i;
	int			got;

	(void)state;
	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		sim_init(&s, ncpu, 2, 4);
		for (i = 0; i < 4; i++) {
			s.procs[i].age_s = cases[k].age_s;
			s.procs[i].resident_s = cases[k].resident_s;
			s.procs[i].movable = cases[k].movable;
		}
		s.nodes[0].flags = cases[k].self_flags;
		sim_measure(&s);
		got = balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs, s.np,
		    &s.rng, &mv);
		if (got != cases[k].want)
			fail_msg("%s: decide %d, want %d", cases[k].what, got,
			    cases[k].want);
	}
}

/* lstay keeps processes at home, not those already away. */
static void
test_lstay_away(void **state)
{
	static const double	ncpu[] = { 1, 1, 1 };
	struct sim		s;
	struct bal_move		mv;
	size_t			i;

	(void)state;
	sim_init(&s, ncpu, 3, 6);
	for (i = 0; i < 5; i++)
		s.procs[i].where = 2;	/* node 2: 5, home: 1, node 3: 0 */
	s.nodes[0].flags = LV_LSTAY;
	sim_measure(&s);
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 1);
	assert_int_equal(mv.from, 2);
}

/* CPU balanced, home's memory at 95%: a process leaves; at 50% none. */
static void
test_memory_pressure(void **state)
{
	static const double	ncpu[] = { 1, 1 };
	struct sim		s;
	struct bal_move		mv;
	size_t			i;

	(void)state;
	sim_init(&s, ncpu, 2, 4);
	for (i = 0; i < 4; i++)
		s.procs[i].rss = 800 * MIB;	/* 5% of 16 GiB */
	s.procs[2].where = s.procs[3].where = 2;
	s.nodes[1].mem_free = 8 * GIB;
	s.nodes[0].mem_free = 8 * GIB;
	sim_measure(&s);
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 0);
	s.nodes[0].mem_free = s.nodes[0].mem_total / 20;	/* m = 0.95 */
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 1);
	assert_int_equal(mv.from, 1);
	assert_int_equal(mv.to, 2);
	/* And not onto a node that would cross the mark itself. */
	s.nodes[1].mem_free = s.nodes[1].mem_total / 10 + 400 * MIB;
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 0);
}

/* 3 jobs against 1: worth it over a LAN, not with 8 GiB over 1 MB/s. */
static void
test_transfer_cost(void **state)
{
	static const double	ncpu[] = { 1, 1 };
	struct sim		s;
	struct bal_move		mv;
	size_t			i;

	(void)state;
	sim_init(&s, ncpu, 2, 4);
	s.procs[3].where = 2;
	for (i = 0; i < 4; i++)
		s.procs[i].rss = 8 * GIB;
	s.nodes[0].mem_total = s.nodes[1].mem_total = 64 * GIB;
	s.nodes[0].mem_free = 32 * GIB;
	s.nodes[1].mem_free = 48 * GIB;
	sim_measure(&s);
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 1);
	s.nodes[1].bw = 1e6;
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 0);
	/* A small process on the same slow link still goes. */
	s.procs[0].rss = 1 * MIB;
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 1);
	assert_int_equal(mv.pid, s.procs[0].pid);
}

/* A guest on a leaving host goes, even young, even to a busier node. */
static void
test_leaving_host(void **state)
{
	static const double	ncpu[] = { 1, 1, 1 };
	struct sim		s;
	struct bal_move		mv;

	(void)state;
	sim_init(&s, ncpu, 3, 5);
	s.procs[4].where = 2;
	s.procs[4].age_s = 0;
	s.procs[4].resident_s = 0;
	s.nodes[1].flags = LV_LEAVING;
	s.nodes[2].flags = LV_BLOCK;
	sim_measure(&s);
	assert_int_equal(balance_decide(&s.cfg, 1, s.nodes, s.n, s.procs,
	    s.np, &s.rng, &mv), 1);
	assert_int_equal(mv.pid, s.procs[4].pid);
	assert_int_equal(mv.to, 1);	/* home, loaded: the only one left */
	assert_true(mv.urgent);
}

/*
 * Herd: 100 nodes with one job too many, one idle node T, and 100 nodes
 * with one job; each window holds self, T and 18 random others. Without
 * damping every one of the 100 would pick T in the same round.
 */
static void
test_herd_single(void **state)
{
	struct bal_config	cfg;
	struct bal_node		all[201], view[20];
	struct bal_proc		procs[2];
	struct bal_move		mv;
	uint64_t		rng = 7, pick;
	size_t			i, j, picks = 0, moves = 0;

	(void)state;
	balance_config_defaults(&cfg);
	memset(all, 0, sizeof all);
	for (i = 0; i < 201; i++) {
		all[i].id = (uint32_t)i + 1;
		all[i].ncpu = all[i].cap = 1;
		all[i].demand = i < 100 ? 2 : i < 200 ? 1 : 0;
		all[i].mem_total = 16 * GIB;
		all[i].mem_free = 8 * GIB;
		all[i].up = 1;
	}
	memset(procs, 0, sizeof procs);
	for (i = 0; i < 100; i++) {
		view[0] = all[i];
		view[1] = all[200];
		for (j = 2; j < 20; j++) {
			do {
				pick = rng % 200;
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
			} while (pick == i);
			view[j] = all[pick];
		}
		for (j = 0; j < 2; j++) {
			procs[j].pid = (pid_t)(1000 + j);
			procs[j].where = all[i].id;
			procs[j].cpu_frac = 0.5;
			procs[j].rss = 64 * MIB;
			procs[j].age_s = procs[j].resident_s = 60;
			procs[j].movable = 1;
		}
		if (!balance_decide(&cfg, all[i].id, view, 20, procs, 2, &rng,
		    &mv))
			continue;
		moves++;
		picks += mv.to == all[200].id;
		/* Reserved, the same node does not pick T again. */
		balance_reserve(balance_find(view, 20, mv.to),
		    balance_find(view, 20, mv.from), mv.d, mv.rss);
		procs[mv.proc].where = mv.to;
		assert_int_equal(balance_decide(&cfg, all[i].id, view, 20,
		    procs, 2, &rng, &mv), 0);
	}
	print_message("herd, one idle target: %zu of 100 picked it\n", picks);
	assert_int_equal(picks, moves);		/* T is the only good one */
	assert_true(picks >= 1 && picks <= 25);
}

/* 100 nodes that see the same 10 idle nodes spread over them. */
static void
test_herd_many(void **state)
{
	struct bal_config	cfg;
	struct bal_node		view[11];
	struct bal_proc		proc;
	struct bal_move		mv;
	uint32_t		hits[12];
	uint64_t		rng = 9;
	size_t			i, j, max = 0, moves = 0;

	(void)state;
	balance_config_defaults(&cfg);
	memset(hits, 0, sizeof hits);
	for (i = 0; i < 100; i++) {
		memset(view, 0, sizeof view);
		for (j = 0; j < 11; j++) {
			view[j].id = (uint32_t)j + 1;
			view[j].ncpu = view[j].cap = 1;
			view[j].demand = j == 0 ? 2 : 0;
			view[j].mem_total = 16 * GIB;
			view[j].mem_free = 8 * GIB;
			view[j].up = 1;
		}
		memset(&proc, 0, sizeof proc);
		proc.pid = 1;
		proc.where = 1;
		proc.cpu_frac = 0.5;
		proc.rss = 64 * MIB;
		proc.age_s = proc.resident_s = 60;
		proc.movable = 1;
		if (!balance_decide(&cfg, 1, view, 11, &proc, 1, &rng, &mv))
			continue;
		moves++;
		hits[mv.to]++;
	}
	for (j = 2; j <= 11; j++)
		max = hits[j] > max ? hits[j] : max;
	print_message("herd, ten idle targets: %zu moves, at most %zu on "
	    "one\n", moves, max);
	assert_int_equal(moves, 100);		/* 1 sender, 10 targets */
	assert_true(max <= 20);			/* 100 without randomness */
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_demand),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_spread_equal),
		cmocka_unit_test(test_spread_hetero),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_target_flags),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_eligibility),
		cmocka_unit_test(test_lstay_away),
		cmocka_unit_test(test_memory_pressure),
		cmocka_unit_test(test_transfer_cost),
		cmocka_unit_test(test_leaving_host),
		cmocka_unit_test(test_herd_single),
		cmocka_unit_test(test_herd_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
