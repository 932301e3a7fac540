/* balance.c: the balancing decision, openMosix's opportunity cost. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "omm/balance.h"
#include "omm/loadvec.h"

/*
 * libomm does not link libm: exp and log are computed here, to about 1e-15
 * relative, which is far beyond what a load estimate deserves.
 */
#define LN2		0.693147180559945309417
#define EXP_MAX		709.0		/* e^709 is near DBL_MAX */
#define EXP_MIN		-745.0

/* 2^k as a double, k in -1022..1023. */
static double
pow2i(int k)
{
	union { uint64_t u; double d; } v;

	v.u = (uint64_t)(k + 1023) << 52;
	return v.d;
}

static double
bal_exp(double x)
{
	double	r, term, sum;
	int	k, i;

	if (x > EXP_MAX)
		x = EXP_MAX;
	if (x < EXP_MIN)
		return 0;
	/* x = k ln2 + r with |r| <= ln2 / 2: the series converges fast. */
	k = (int)(x / LN2 + (x < 0 ? -0.5 : 0.5));
	r = x - k * LN2;
	sum = term = 1;
	for (i = 1; i < 16; i++) {
		term *= r / i;
		sum += term;
	}
	if (k < -1022)
		return sum * pow2i(k + 1022) * pow2i(-1022);
	if (k > 1023)
		return sum * pow2i(k - 1023) * pow2i(1023);
	return sum * pow2i(k);
}

/* Natural logarithm of x > 0 (the configured base: called once a decision). */
static double
bal_log(double x)
{
	union { uint64_t u; double d; } v;
	double	s, s2, term, sum;
	int	e, i;

	if (!(x > 0))
		return 0;
	v.d = x;
	e = (int)((v.u >> 52) & 0x7ff) - 1023;
	if (e == -1023)			/* subnormal: no base is that small */
		return EXP_MIN;
	v.u = (v.u & ~(0x7ffULL << 52)) | (1023ULL << 52);
	/* ln m = 2 atanh((m - 1) / (m + 1)), m in [1, 2): |s| < 1/3. */
	s = (v.d - 1) / (v.d + 1);
	s2 = s * s;
	term = s;
	sum = 0;
	for (i = 1; i < 40; i += 2) {
		sum += term / i;
		term *= s2;
	}
	return e * LN2 + 2 * sum;
}

/* A decision's constants, derived once. */
struct ctx {
	const struct bal_config	*cfg;
	double			 lnb;
	double			 top;	/* B^u_max */
};

static void
ctx_init(struct ctx *c, const struct bal_config *cfg)
{
	c->cfg = cfg;
	c->lnb = bal_log(cfg->base > 1 ? cfg->base : 2);
	c->top = bal_exp(cfg->u_max * c->lnb);
}

/*
 * B^u up to u_max, then on along its tangent: convex and finite at any
 * load, and a process still gains by leaving a node far beyond u_max.
 */
static double
cost_cpu(const struct ctx *c, double u)
{
	if (!(u > 0))
		u = 0;
	if (u <= c->cfg->u_max)
		return bal_exp(u * c->lnb);
	return c->top * (1 + c->lnb * (u - c->cfg->u_max));
}

/*
 * B^m, steeper above the high-water mark: there the node is about to swap,
 * which costs every process on it more than any CPU sharing.
 */
static double
cost_mem(const struct ctx *c, double m)
{
	double	e;

	if (!(m > 0))
		m = 0;
	if (m > 1)
		m = 1;
	e = m;
	if (m > c->cfg->mem_high)
		e += c->cfg->mem_steep * (m - c->cfg->mem_high);
	return bal_exp(e * c->lnb);
}

static double
cost(const struct ctx *c, double u, double m)
{
	return cost_cpu(c, u) + cost_mem(c, m);
}

void
balance_config_defaults(struct bal_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->base = 8;
	cfg->u_max = 64;
	cfg->margin = 0.10;
	cfg->k_move = 0.01;
	cfg->near = 0.10;
	cfg->min_age_s = 2;
	cfg->min_residency_s = 5;
	cfg->mem_high = 0.90;
	cfg->mem_steep = 40;
	cfg->default_bw = BAL_DEFAULT_BW;
}

double
balance_cost(const struct bal_config *cfg, double u, double m)
{
	struct ctx	c;

	ctx_init(&c, cfg);
	return cost(&c, u, m);
}

static double
node_u(const struct bal_node *nd)
{
	return nd->cap > 0 ? nd->demand / nd->cap : 0;
}

static double
node_m(const struct bal_node *nd)
{
	if (nd->mem_total == 0 || nd->mem_free >= nd->mem_total)
		return 0;
	return (double)(nd->mem_total - nd->mem_free) / (double)nd->mem_total;
}

double
balance_demand(const struct bal_node *where, double cpu_frac)
{
	double	over = 1, d;

	if (where->ncpu > 0 && where->demand > where->ncpu)
		over = where->demand / where->ncpu;
	if (!(cpu_frac > 0))
		return 0;
	d = cpu_frac * over;
	return d < 1 ? d : 1;
}

struct bal_node *
balance_find(struct bal_node *nodes, size_t n, uint32_t id)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (nodes[i].id == id)
			return &nodes[i];
	}
	return NULL;
}

static const struct bal_node *
find(const struct bal_node *nodes, size_t n, uint32_t id)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (nodes[i].id == id)
			return &nodes[i];
	}
	return NULL;
}

static int
allowed(const struct bal_proc *p, uint32_t self, uint32_t id)
{
	size_t	i;

	if (p->nallowed == 0 || id == self)
		return 1;
	for (i = 0; i < p->nallowed; i++) {
		if (p->allowed[i] == id)
			return 1;
	}
	return 0;
}

/*
 * May p (demand d) go to t? Home is always allowed and never blocked for
 * its own processes; every target must have room below the memory mark.
 */
static int
target_ok(const struct bal_config *cfg, uint32_t self, const struct bal_node *t,
    const struct bal_proc *p, double d)
{
	double	used;

	if (!t->up || t->cap <= 0 || t->id == p->where)
		return 0;
	if (t->flags & LV_LEAVING)
		return 0;
	if (t->id != self) {
		if (t->flags & LV_BLOCK)
			return 0;
		if (t->guest_limit > 0 &&
		    t->guest_share + d > t->guest_limit + 1e-9)
			return 0;
	}
	if (!allowed(p, self, t->id))
		return 0;
	if (t->mem_total == 0)
		return 0;
	used = (double)(t->mem_total - (t->mem_free < t->mem_total ?
	    t->mem_free : t->mem_total));
	return used + (double)p->rss <= cfg->mem_high * (double)t->mem_total;
}

/* Marginal cost of p (d, rss) at the node it runs on. */
static double
mc_here(const struct ctx *c, const struct bal_node *w, double d, uint64_t rss)
{
	double	u = node_u(w), m = node_m(w), dm = 0;

	if (w->mem_total > 0)
		dm = (double)rss / (double)w->mem_total;
	return cost(c, u, m) - cost(c, u - d / w->cap, m - dm);
}

/* Marginal cost of p at a node it is not on. */
static double
mc_there(const struct ctx *c, const struct bal_node *t, double d, uint64_t rss)
{
	double	u = node_u(t), m = node_m(t);

	return cost(c, u + d / t->cap, m + (double)rss / (double)t->mem_total) -
	    cost(c, u, m);
}

/* What a move to t must save, as a fraction of MC_w. */
static double
threshold(const struct bal_config *cfg, const struct bal_node *t,
    uint64_t rss)
{
	double	bw = t->bw > 0 ? t->bw : cfg->default_bw;

	if (!(bw > 0))
		bw = BAL_DEFAULT_BW;
	return cfg->margin + cfg->k_move * (double)rss / bw;
}

/* Uniform in [0, 1) from the caller's xorshift64* state. */
static double
uniform(uint64_t *s)
{
	uint64_t	x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

/*
 * Herd damping: every node sees only a sample of the cluster, so when its
 * window holds more nodes as costly as the source (likely deciders, about
 * to look for the same kind of target) than there are worthwhile targets,
 * as many others are probably about to pick the same few nodes. Act with
 * probability targets / such senders; the others retry at their next
 * decision, against fresher vectors.
 */
static double
act_probability(const struct ctx *c, const struct bal_node *nodes, size_t n,
    const struct bal_node *w, size_t targets)
{
	double	cw = cost(c, node_u(w), node_m(w));
	size_t	i, senders = 0;

	for (i = 0; i < n; i++) {
		if (!nodes[i].up || nodes[i].cap <= 0)
			continue;
		if (cost(c, node_u(&nodes[i]), node_m(&nodes[i])) >=
		    cw * (1 - 1e-9))
			senders++;
	}
	if (senders <= targets)
		return 1;
	return (double)targets / (double)senders;
}

/* The best target of one process: 1 with its gain and excess, 0 if none. */
struct pick {
	double	gain;		/* MC_w - MC_t */
	double	excess;		/* gain - threshold x MC_w */
	size_t	count;		/* targets worth it */
};

static int
best_target(const struct ctx *c, uint32_t self, const struct bal_node *nodes,
    size_t n, const struct bal_proc *p, double d, double mcw, int urgent,
    struct pick *best)
{
	const struct bal_node	*t;
	double			 gain, excess;
	size_t			 i;
	int			 found = 0;

	for (i = 0; i < n; i++) {
		t = &nodes[i];
		if (!target_ok(c->cfg, self, t, p, d))
			continue;
		gain = mcw - mc_there(c, t, d, p->rss);
		excess = gain - threshold(c->cfg, t, p->rss) * mcw;
		if (!urgent && !(gain > 0 && excess > 0))
			continue;
		if (!found)
			best->count = 0;
		best->count++;
		if (!found || excess > best->excess) {
			best->gain = gain;
			best->excess = excess;
			found = 1;
		}
	}
	return found;
}

/*
 * Among p's targets whose gain is within cfg->near of the best, one at
 * random: nodes that see the same idle node do not all choose it.
 */
static uint32_t
choose_target(const struct ctx *c, uint32_t self, const struct bal_node *nodes,
    size_t n, const struct bal_proc *p, double d, double mcw, int urgent,
    const struct pick *best, uint64_t *rng, double *gainp)
{
	const struct bal_node	*t;
	double			 gain, excess, floor_gain;
	size_t			 i, seen = 0;
	uint32_t		 to = 0;

	floor_gain = best->gain - c->cfg->near * (best->gain > 0 ?
	    best->gain : -best->gain);
	for (i = 0; i < n; i++) {
		t = &nodes[i];
		if (!target_ok(c->cfg, self, t, p, d))
			continue;
		gain = mcw - mc_there(c, t, d, p->rss);
		excess = gain - threshold(c->cfg, t, p->rss) * mcw;
		if (!urgent && !(gain > 0 && excess > 0))
			continue;
		if (gain < floor_gain)
			continue;
		/* Reservoir sampling: each candidate with chance 1/seen. */
		seen++;
		if (uniform(rng) * (double)seen < 1) {
			to = t->id;
			*gainp = gain;
		}
	}
	return to;
}

int
balance_decide(const struct bal_config *cfg, uint32_t self,
    const struct bal_node *nodes, size_t n, const struct bal_proc *procs,
    size_t np, uint64_t *rng, struct bal_move *out)
{
	const struct bal_node	*me, *w;
	const struct bal_proc	*p;
	struct ctx		 c;
	struct pick		 pk = { 0, 0, 0 }, best = { 0, 0, 0 };
	double			 d, mcw, bestd = 0, bestmc = 0;
	size_t			 i, bestp = 0;
	int			 urgent, found = 0, best_urgent = 0;

	memset(out, 0, sizeof *out);
	if ((me = find(nodes, n, self)) == NULL)
		return 0;
	ctx_init(&c, cfg);

	for (i = 0; i < np; i++) {
		p = &procs[i];
		if (!p->movable)
			continue;
		if ((w = find(nodes, n, p->where)) == NULL || !w->up ||
		    w->cap <= 0)
			continue;
		/* A host that leaves must be emptied: no hysteresis. */
		urgent = p->where != self && (w->flags & LV_LEAVING);
		if (!urgent) {
			if (best_urgent)
				continue;
			if (p->age_s < cfg->min_age_s ||
			    p->resident_s < cfg->min_residency_s)
				continue;
			if (me->flags & LV_STAY)
				continue;
			if (p->where == self && (me->flags & LV_LSTAY))
				continue;
		}
		d = balance_demand(w, p->cpu_frac);
		mcw = mc_here(&c, w, d, p->rss);
		if (!best_target(&c, self, nodes, n, p, d, mcw, urgent, &pk))
			continue;
		if (!found || (urgent && !best_urgent) ||
		    pk.excess > best.excess) {
			best = pk;
			bestp = i;
			bestd = d;
			bestmc = mcw;
			best_urgent = urgent;
			found = 1;
		}
	}
	if (!found)
		return 0;
	p = &procs[bestp];
	if (!best_urgent && uniform(rng) >= act_probability(&c, nodes, n,
	    find(nodes, n, p->where), best.count))
		return 0;

	out->to = choose_target(&c, self, nodes, n, p, bestd, bestmc,
	    best_urgent, &best, rng, &out->gain);
	if (out->to == 0)
		return 0;	/* not reached: the best itself qualifies */
	out->pid = p->pid;
	out->proc = bestp;
	out->from = p->where;
	out->d = bestd;
	out->rss = p->rss;
	out->mc_from = bestmc;
	out->urgent = best_urgent;
	return 1;
}

void
balance_reserve(struct bal_node *to, struct bal_node *from, double d,
    uint64_t rss)
{
	if (to != NULL) {
		to->demand += d;
		to->guest_share += d;
		to->mem_free = to->mem_free > rss ? to->mem_free - rss : 0;
	}
	if (from != NULL) {
		from->demand = from->demand > d ? from->demand - d : 0;
		from->guest_share = from->guest_share > d ?
		    from->guest_share - d : 0;
		from->mem_free += rss;
		if (from->mem_free > from->mem_total)
			from->mem_free = from->mem_total;
	}
}
