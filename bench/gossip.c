/*
 * bench/gossip.c: the real gossip and window code at 1,000 and 10,000 nodes.
 *
 * One process simulates N nodes: a simulated clock (us), a network that
 * delivers each frame after a random 0.2-2 ms, and an event heap. Each node
 * runs gossip.c as ommd will: it measures (here: sets) its vector, ticks,
 * and every window travels as a real LOADWIN frame, encoded, parsed with
 * wire_frame_peek and decoded by wire.c, then merged. Every node's clock has
 * its own offset (up to 1000 s), so nothing works unless ages do.
 *
 * After a warm-up it measures, per node and second, the frames and bytes
 * sent; the true age of what the windows hold (median and p99 over all
 * (node, entry) pairs, sampled every 250 ms); and, for a load change at a
 * few nodes, how long until 50% and 99% of the nodes have received the new
 * value ("seen") and until 50% and 99% of the copies of that node's vector
 * in all windows carry it ("win": what balancers would act on).
 *
 * With -b K it measures instead the balancing decision (balance.c) on top
 * of those windows: jobs start on a tenth of the nodes, every node that is
 * home to jobs decides once a second from its own window, moves happen at
 * once, and the others learn of them only as the gossip carries the new
 * vectors. After each of K rounds (seconds) it prints the imbalance left
 * and the migrations so far.
 *
 *   gossip [-n 1000,10000] [-t 30] [-w 10] [-W 20] [-k 1] [-P] [-c 10] [-s 1]
 *   gossip -b 30 [-n 10000] [-j 20] [-L] ...
 */
#include <sys/resource.h>

#include <err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/balance.h"
#include "omm/buf.h"
#include "omm/gossip.h"
#include "omm/loadvec.h"
#include "omm/wire.h"

#define LAT_MIN_US	200
#define LAT_MAX_US	2000
#define SAMPLE_US	250000		/* age samples */
#define SEEDS		8		/* nodes each one knows at start */
#define AGE_BINS	120000		/* 1 ms bins, up to 120 s */
#define MAX_CHANGES	64
#define HOT_EVERY	10		/* jobs start on every 10th node */
#define JOB_RSS		(64ULL << 20)
#define RESV_MAX	8		/* reservations a node remembers */
#define RESV_MS		5000		/* and for how long at most */

enum ev_kind { EV_TICK, EV_DELIVER, EV_SAMPLE, EV_CHANGE, EV_BALANCE,
    EV_REPORT };

struct msg {
	uint32_t	from;
	uint32_t	to;
	size_t		len;
	uint8_t		data[];
};

struct ev {
	int64_t		 t;		/* global us */
	uint64_t	 seq;		/* FIFO among equal times */
	enum ev_kind	 kind;
	uint32_t	 node;
	struct msg	*m;
};

/* A job moved to a node, added to the home's view until news of it comes. */
struct resv {
	uint32_t	 to;
	int64_t		 t_ms;		/* home's clock */
	double		 d;
};

struct node {
	struct gossip	*g;
	struct loadvec	 lv;
	int64_t		 off;		/* local clock = global + off (us) */
	uint64_t	 rng;

	/* Balancing (-b): the truth, and the home's own bookkeeping. */
	double		 demand;	/* CPU-bound jobs running here */
	double		 cap;		/* reference cores */
	size_t		 job0, njobs;	/* jobs whose home this is */
	uint32_t	 moves;		/* started by this home */
	struct resv	 resv[RESV_MAX];
	size_t		 nresv;
	double		 tokens;	/* moves it may still start */
};

/* A CPU-bound job that never ends, with a fixed home. */
struct job {
	uint32_t	 where;
	int64_t		 since;		/* global us it arrived there */
};

/* A load change at one node and how it spreads. */
struct change {
	uint32_t	 node;
	int64_t		 t0;		/* global us */
	uint64_t	 stamp;		/* origin's stamps from here are new */
	uint8_t		*seen;		/* per node */
	size_t		 nseen;
	int64_t		 seen50, seen99;	/* us after t0, -1 not yet */
	int64_t		 win50, win99;
};

struct sim {
	size_t			 n;
	struct node		*nodes;
	struct gossip_config	 cfg;
	uint64_t		 rng;

	struct ev		*heap;
	size_t			 nheap, capheap;
	uint64_t		 seq;

	int64_t			 t_measure;	/* end of warm-up */
	int64_t			 t_end;
	uint64_t		 msgs, bytes;	/* sent while measuring */
	uint64_t		*ages;		/* histogram, ms */
	uint64_t		 nages;
	struct change		 ch[MAX_CHANGES];
	size_t			 nch;

	struct buf		 out;
	struct wire_msg		*in;
	struct gossip_out	*gout;
	struct wire_loadwin	*reply;

	/* Balancing (-b). */
	size_t			 rounds;	/* 0: off */
	size_t			 jobs_per_hot;
	int			 link;		/* homes hear their hosts */
	struct bal_config	 bcfg;
	struct job		*jobs;
	size_t			 njobs;
	struct bal_node		*view;
	size_t			 cview;
	struct bal_proc		*procs;
	uint64_t		 moves, round_moves;
	size_t			 round;
};

static uint64_t
rnd(uint64_t *s)
{
	return gossip_rand(s);
}

static void
heap_push(struct sim *s, struct ev e)
{
	size_t	i, p;

	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = reallocarray(s->heap, s->capheap, sizeof *s->heap);
		if (s->heap == NULL)
			err(1, "heap");
	}
	e.seq = s->seq++;
	i = s->nheap++;
	while (i > 0) {
		p = (i - 1) / 2;
		if (s->heap[p].t < e.t ||
		    (s->heap[p].t == e.t && s->heap[p].seq < e.seq))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = e;
}

static int
ev_before(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static struct ev
heap_pop(struct sim *s)
{
	struct ev	top = s->heap[0], last = s->heap[--s->nheap];
	size_t		i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static int64_t
local_ms(const struct sim *s, uint32_t id, int64_t t)
{
	return (t + s->nodes[id - 1].off) / 1000;
}

/* Send the frame in s->out from one node to another, after a latency. */
static void
send_frame(struct sim *s, int64_t t, uint32_t from, uint32_t to)
{
	struct msg	*m;
	struct ev	 e;

	if ((m = malloc(sizeof *m + s->out.len)) == NULL)
		err(1, "malloc");
	m->from = from;
	m->to = to;
	m->len = s->out.len;
	memcpy(m->data, s->out.data, s->out.len);
	if (t >= s->t_measure && t < s->t_end) {
		s->msgs++;
		s->bytes += s->out.len;
	}
	memset(&e, 0, sizeof e);
	e.t = t + LAT_MIN_US + (int64_t)(rnd(&s->rng) %
	    (LAT_MAX_US - LAT_MIN_US + 1));
	e.kind = EV_DELIVER;
	e.m = m;
	heap_push(s, e);
}

/* The node measures: its stamp is now (the load is whatever it is). */
static void
measure(struct node *nd, int64_t now)
{
	nd->lv.stamp = (uint64_t)now;
	gossip_set_self(nd->g, now, &nd->lv);
}

static void
do_tick(struct sim *s, int64_t t, uint32_t id)
{
	struct node	*nd = &s->nodes[id - 1];
	int64_t		 now = local_ms(s, id, t);
	struct ev	 e;
	size_t		 i;

	measure(nd, now);
	gossip_tick(nd->g, now, &nd->rng, s->gout);
	if (s->gout->npeers > 0) {
		buf_reset(&s->out);
		wire_encode_loadwin(&s->out, &s->gout->win);
		for (i = 0; i < s->gout->npeers; i++)
			send_frame(s, t, id, s->gout->peers[i]);
	}
	memset(&e, 0, sizeof e);
	e.t = s->gout->next_ms * 1000 - nd->off;
	if (e.t <= t)
		e.t = t + 1;
	e.kind = EV_TICK;
	e.node = id;
	heap_push(s, e);
}

static void
change_seen(struct sim *s, struct change *c, int64_t t, uint32_t id)
{
	struct gossip_peer	p;
	size_t			others = s->n - 1;

	if (c->seen[id - 1] || id == c->node)
		return;
	/* Merged, not only carried: ask the node what it now knows. */
	if (gossip_peer(s->nodes[id - 1].g, local_ms(s, id, t), c->node,
	    &p) != 0 || p.stamp < c->stamp)
		return;
	c->seen[id - 1] = 1;
	c->nseen++;
	if (c->seen50 < 0 && 2 * c->nseen >= others)
		c->seen50 = t - c->t0;
	if (c->seen99 < 0 && 100 * c->nseen >= 99 * others)
		c->seen99 = t - c->t0;
}

static void
do_deliver(struct sim *s, int64_t t, struct msg *m)
{
	struct node	*nd = &s->nodes[m->to - 1];
	struct wire_hdr	 h;
	int64_t		 now = local_ms(s, m->to, t);
	size_t		 flen, i, k;
	char		*cause = NULL;

	if (wire_frame_peek(m->data, m->len, &h, &flen, &cause) != 1 ||
	    flen != m->len)
		errx(1, "frame from %u: %s", m->from, cause ? cause : "short");
	if (wire_decode(&h, m->data + WIRE_HDR_LEN, s->in, &cause) != 0)
		errx(1, "frame from %u: %s", m->from, cause);
	gossip_receive(nd->g, now, m->from, s->in->loadwin.ent,
	    s->in->loadwin.n);
	for (k = 0; k < s->nch; k++) {
		for (i = 0; i < s->in->loadwin.n; i++) {
			const struct loadvec	*lv = &s->in->loadwin.ent[i].lv;

			if (lv->node == s->ch[k].node &&
			    lv->stamp >= s->ch[k].stamp)
				change_seen(s, &s->ch[k], t, m->to);
		}
	}
	/* Push-pull: measure and answer at once, over the same link. */
	if (s->in->loadwin.flags & WIRE_LOADWIN_PULL) {
		measure(nd, now);
		if (gossip_reply(nd->g, now, &s->in->loadwin, s->reply)) {
			buf_reset(&s->out);
			wire_encode_loadwin(&s->out, s->reply);
			send_frame(s, t, m->to, m->from);
		}
	}
	free(m);
}

/* True age of every (node, entry) pair; copies of changed vectors. */
static void
do_sample(struct sim *s, int64_t t)
{
	const struct gossip_entry	*w;
	struct change			*c;
	size_t				 i, j, k, n, fresh[MAX_CHANGES],
					 total[MAX_CHANGES];
	int64_t				 born, age;
	struct ev			 e;

	memset(fresh, 0, sizeof fresh);
	memset(total, 0, sizeof total);
	for (i = 0; i < s->n; i++) {
		w = gossip_window_view(s->nodes[i].g, &n);
		for (j = 0; j < n; j++) {
			/* When the origin measured it, on the global clock. */
			born = (int64_t)w[j].lv.stamp * 1000 -
			    s->nodes[w[j].lv.node - 1].off;
			age = (t - born) / 1000;
			if (age < 0)
				age = 0;
			s->ages[age < AGE_BINS ? age : AGE_BINS - 1]++;
			s->nages++;
			for (k = 0; k < s->nch; k++) {
				if (w[j].lv.node != s->ch[k].node)
					continue;
				total[k]++;
				fresh[k] += w[j].lv.stamp >= s->ch[k].stamp;
			}
		}
	}
	for (k = 0; k < s->nch; k++) {
		c = &s->ch[k];
		if (total[k] == 0)
			continue;
		if (c->win50 < 0 && 2 * fresh[k] >= total[k])
			c->win50 = t - c->t0;
		if (c->win99 < 0 && 100 * fresh[k] >= 99 * total[k])
			c->win99 = t - c->t0;
	}
	memset(&e, 0, sizeof e);
	e.t = t + SAMPLE_US;
	e.kind = EV_SAMPLE;
	if (e.t < s->t_end)
		heap_push(s, e);
}

/* A CPU hog starts at one node: its load jumps. */
static void
do_change(struct sim *s, int64_t t, uint32_t k)
{
	struct change	*c = &s->ch[k];
	struct node	*nd;

	c->node = 1 + (uint32_t)(rnd(&s->rng) % s->n);
	nd = &s->nodes[c->node - 1];
	c->t0 = t;
	c->stamp = (uint64_t)local_ms(s, c->node, t);
	nd->lv.load += 1000;
	if ((c->seen = calloc(s->n, 1)) == NULL)
		err(1, "calloc");
	c->seen50 = c->seen99 = c->win50 = c->win99 = -1;
	s->nch = k + 1;
}

/* What a vector tells the balancer. */
static void
bal_from_lv(struct bal_node *b, const struct loadvec *lv)
{
	memset(b, 0, sizeof *b);
	b->id = lv->node;
	b->ncpu = lv->ncpu;
	b->cap = (double)lv->ncpu * lv->speed / LV_SPEED_REF;
	b->demand = lv->load / 100.0;
	b->mem_total = lv->mem_total * 1024;
	b->mem_free = lv->mem_free * 1024;
	b->flags = lv->flags;
	b->guest_share = b->demand;
	b->up = 1;
}

/* A move changes the truth, and what both nodes will say when measured. */
static void
bal_apply(struct sim *s, int64_t t, size_t j, uint32_t to)
{
	struct node	*from = &s->nodes[s->jobs[j].where - 1], *dst;

	dst = &s->nodes[to - 1];
	from->demand -= 1;
	dst->demand += 1;
	from->lv.load = (uint32_t)(100 * from->demand + 0.5);
	dst->lv.load = (uint32_t)(100 * dst->demand + 0.5);
	from->lv.mem_free += JOB_RSS / 1024;
	dst->lv.mem_free -= dst->lv.mem_free > JOB_RSS / 1024 ?
	    JOB_RSS / 1024 : dst->lv.mem_free;
	s->jobs[j].where = to;
	s->jobs[j].since = t;
}

/*
 * One decision of a home, as ommd's balancer makes it: its window, its own
 * vector, the vectors of the hosts of its jobs (with -L off: the deputies'
 * links carry them), its reservations on targets whose vector is older
 * than the move; at most BAL_MOVES_PER_MIN a minute.
 */
static void
do_balance(struct sim *s, int64_t t, uint32_t id)
{
	struct node			*nd = &s->nodes[id - 1], *host;
	const struct gossip_entry	*w;
	struct bal_move			 mv;
	struct ev			 e;
	int64_t				 now = local_ms(s, id, t);
	size_t				 i, k, nw, nv = 0;
	struct resv			*r;

	nd->tokens += BAL_MOVES_PER_MIN * (BAL_DECIDE_MS / 60000.0);
	if (nd->tokens > BAL_MOVES_PER_MIN)
		nd->tokens = BAL_MOVES_PER_MIN;

	w = gossip_window_view(nd->g, &nw);
	bal_from_lv(&s->view[nv++], &nd->lv);
	for (i = 0; i < nw; i++) {
		bal_from_lv(&s->view[nv], &w[i].lv);
		for (k = 0; k < nd->nresv; k++) {
			r = &nd->resv[k];
			if (r->to == w[i].lv.node && w[i].t_ms < r->t_ms)
				balance_reserve(&s->view[nv], NULL, r->d,
				    JOB_RSS);
		}
		nv++;
	}
	for (i = 0; i < nd->njobs; i++) {
		s->procs[i].where = s->jobs[nd->job0 + i].where;
		if (!s->link || balance_find(s->view, nv,
		    s->procs[i].where) != NULL)
			continue;
		host = &s->nodes[s->procs[i].where - 1];
		bal_from_lv(&s->view[nv++], &host->lv);
	}
	for (i = 0; i < nd->njobs; i++) {
		struct bal_proc	*p = &s->procs[i];
		struct node	*on = &s->nodes[p->where - 1];

		p->pid = (pid_t)(i + 1);
		p->cpu_frac = on->demand > on->lv.ncpu ?
		    on->lv.ncpu / on->demand : 1;
		p->rss = JOB_RSS;
		p->age_s = t / 1e6;
		p->resident_s = (t - s->jobs[nd->job0 + i].since) / 1e6;
		p->movable = 1;
	}
	if (nd->tokens >= 1 && balance_decide(&s->bcfg, id, s->view, nv,
	    s->procs, nd->njobs, &nd->rng, &mv)) {
		bal_apply(s, t, nd->job0 + mv.proc, mv.to);
		nd->tokens -= 1;
		nd->moves++;
		s->moves++;
		s->round_moves++;
		/* Forget the oldest reservation to make room. */
		if (nd->nresv == RESV_MAX) {
			memmove(nd->resv, nd->resv + 1,
			    (RESV_MAX - 1) * sizeof nd->resv[0]);
			nd->nresv--;
		}
		nd->resv[nd->nresv].to = mv.to;
		nd->resv[nd->nresv].t_ms = now;
		nd->resv[nd->nresv].d = mv.d;
		nd->nresv++;
	}
	for (k = 0; k < nd->nresv; ) {
		if (now - nd->resv[k].t_ms > RESV_MS) {
			nd->resv[k] = nd->resv[--nd->nresv];
			continue;
		}
		k++;
	}
	memset(&e, 0, sizeof e);
	e.t = t + BAL_DECIDE_MS * 1000;
	e.kind = EV_BALANCE;
	e.node = id;
	heap_push(s, e);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Imbalance of a placement given as demand per node: the utilisation u =
 * demand / cap against the ideal common one (all demand over all
 * capacity): max and p99 over it, and the coefficient of variation of u.
 */
static void
imbalance(const struct sim *s, const double *demand, double *umax,
    double *up99, double *cv)
{
	double	sumd = 0, sumc = 0, ideal, u, mean = 0, var = 0, *us;
	size_t	i;

	if ((us = calloc(s->n, sizeof *us)) == NULL)
		err(1, "calloc");
	for (i = 0; i < s->n; i++) {
		sumd += demand[i];
		sumc += s->nodes[i].cap;
	}
	ideal = sumd / sumc;
	for (i = 0; i < s->n; i++) {
		u = demand[i] / s->nodes[i].cap;
		us[i] = u;
		mean += u;
	}
	mean /= (double)s->n;
	for (i = 0; i < s->n; i++)
		var += (us[i] - mean) * (us[i] - mean);
	var /= (double)s->n;
	qsort(us, s->n, sizeof *us, cmp_dbl);
	*umax = us[s->n - 1] / ideal;
	*up99 = us[s->n * 99 / 100] / ideal;
	/* sqrt without libm: Newton from above. */
	u = var > 1 ? var : 1;
	for (i = 0; i < 60; i++)
		u = (u + var / u) / 2;
	*cv = mean > 0 ? u / mean : 0;
	free(us);
}

/*
 * The reference: every job placed by one who sees everything, each on the
 * node where it raises u the least (greedy, one job at a time).
 */
static void
greedy_reference(const struct sim *s, double *umax, double *up99,
    double *cv)
{
	double	*d;
	size_t	 i, j, best;

	if ((d = calloc(s->n, sizeof *d)) == NULL)
		err(1, "calloc");
	/* O(jobs x nodes) is a few seconds at most for the sizes we run. */
	for (j = 0; j < s->njobs; j++) {
		best = 0;
		for (i = 1; i < s->n; i++) {
			if ((d[i] + 1) / s->nodes[i].cap <
			    (d[best] + 1) / s->nodes[best].cap)
				best = i;
		}
		d[best] += 1;
	}
	imbalance(s, d, umax, up99, cv);
	free(d);
}

static void
do_report(struct sim *s, int64_t t)
{
	double	*d, umax, up99, cv;
	size_t	 i, on = 0;
	struct ev e;

	if ((d = calloc(s->n, sizeof *d)) == NULL)
		err(1, "calloc");
	for (i = 0; i < s->n; i++) {
		d[i] = s->nodes[i].demand;
		on += d[i] > 0;
	}
	imbalance(s, d, &umax, &up99, &cv);
	printf("%6zu %8.2f %8.2f %6.2f %8llu %9.3f %8zu\n", s->round, umax,
	    up99, cv, (unsigned long long)s->round_moves,
	    (double)s->moves / (double)s->n, on);
	fflush(stdout);
	free(d);
	s->round_moves = 0;
	s->round++;
	memset(&e, 0, sizeof e);
	e.t = t + 1000000;
	e.kind = EV_REPORT;
	if (s->round <= s->rounds)
		heap_push(s, e);
}

/* Jobs on every HOT_EVERY-th node, all at home; deciding starts at t0. */
static void
balance_setup(struct sim *s)
{
	struct ev	e;
	size_t		i, k, hot = 0;
	double		umax, up99, cv;

	balance_config_defaults(&s->bcfg);
	for (i = 0; i < s->n; i += HOT_EVERY)
		hot++;
	s->njobs = hot * s->jobs_per_hot;
	s->jobs = calloc(s->njobs, sizeof *s->jobs);
	s->procs = calloc(s->jobs_per_hot + 1, sizeof *s->procs);
	s->cview = s->cfg.window + s->jobs_per_hot + 1;
	s->view = calloc(s->cview, sizeof *s->view);
	if (s->jobs == NULL || s->procs == NULL || s->view == NULL)
		err(1, "calloc");
	k = 0;
	for (i = 0; i < s->n; i++) {
		struct node	*nd = &s->nodes[i];

		nd->cap = (double)nd->lv.ncpu * nd->lv.speed / LV_SPEED_REF;
		nd->lv.load = 0;
		/* Memory 10-80% used: pressure is not what this measures. */
		nd->lv.mem_free = nd->lv.mem_total / 5 +
		    rnd(&s->rng) % (nd->lv.mem_total * 7 / 10);
		nd->tokens = BAL_MOVES_PER_MIN;
		if (i % HOT_EVERY != 0)
			continue;
		nd->job0 = k;
		nd->njobs = s->jobs_per_hot;
		for (; k < nd->job0 + nd->njobs; k++)
			s->jobs[k].where = (uint32_t)i + 1;
		nd->demand = (double)nd->njobs;
		nd->lv.load = (uint32_t)(100 * nd->njobs);
		nd->lv.mem_free -= nd->njobs * (JOB_RSS / 1024);
		memset(&e, 0, sizeof e);
		e.t = s->t_measure + (int64_t)(rnd(&s->rng) %
		    (BAL_DECIDE_MS * 1000ULL));
		e.kind = EV_BALANCE;
		e.node = (uint32_t)i + 1;
		heap_push(s, e);
	}
	greedy_reference(s, &umax, &up99, &cv);
	printf("balancing: %zu jobs on %zu of %zu nodes (every %dth), capacity "
	    "%u CPUs x speed 0.5-4.0,\n  decisions every %d ms from the "
	    "window%s, at most %d moves a minute per node\n", s->njobs, hot,
	    s->n, HOT_EVERY, s->nodes[0].lv.ncpu, BAL_DECIDE_MS,
	    s->link ? " and the hosts' links" : " only", BAL_MOVES_PER_MIN);
	printf("u = demand / capacity, relative to the ideal (all demand / all "
	    "capacity);\n  a global greedy placement leaves max %.2f, p99 "
	    "%.2f, cv %.2f\n", umax, up99, cv);
	printf("%6s %8s %8s %6s %8s %9s %8s\n", "round", "max u", "p99 u",
	    "cv", "moves", "migr/node", "busy");
	memset(&e, 0, sizeof e);
	e.t = s->t_measure;
	e.kind = EV_REPORT;
	heap_push(s, e);
}

static int64_t
ages_quantile(const struct sim *s, double q)
{
	uint64_t	want = (uint64_t)(q * (double)s->nages), sum = 0;
	size_t		i;

	for (i = 0; i < AGE_BINS; i++) {
		sum += s->ages[i];
		if (sum > want)
			return (int64_t)i;
	}
	return AGE_BINS;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	/* Not reached (-1) sorts last. */
	if (x < 0)
		x = INT64_MAX;
	if (y < 0)
		y = INT64_MAX;
	return x < y ? -1 : x > y;
}

/* Median over the changes of one spread time, as "1.25s" or ">28s". */
static void
spread_str(struct sim *s, size_t field, char *buf, size_t len)
{
	int64_t	v[MAX_CHANGES], med, horizon;
	size_t	k;

	for (k = 0; k < s->nch; k++) {
		int64_t	*f = (int64_t *)((char *)&s->ch[k] + field);

		v[k] = *f;
	}
	if (s->nch == 0) {
		snprintf(buf, len, "-");
		return;
	}
	qsort(v, s->nch, sizeof v[0], cmp_i64);
	med = v[s->nch / 2];
	if (med >= 0) {
		snprintf(buf, len, "%.2fs", med / 1e6);
		return;
	}
	horizon = s->t_end - s->ch[s->nch / 2].t0;
	snprintf(buf, len, ">%.0fs", horizon / 1e6);
}

static double
cpu_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
run(size_t n, const struct gossip_config *cfg, double secs, double warm,
    size_t nchanges, uint64_t seed, size_t rounds, size_t jobs, int link)
{
	struct sim	 s;
	struct loadvec	 tmpl;
	struct ev	 e;
	struct rusage	 ru;
	char		*cause = NULL, s50[16], s99[16], w50[16], w99[16];
	double		 cpu0 = 0, cpu1, measure_s = secs;
	uint64_t	 handled = 0, seen_sum = 0, known = 0;
	size_t		 i, j, k;

	memset(&s, 0, sizeof s);
	s.n = n;
	s.cfg = *cfg;
	s.rng = seed;
	s.t_measure = (int64_t)(warm * 1e6);
	s.rounds = rounds;
	s.jobs_per_hot = jobs;
	s.link = link;
	if (rounds > 0) {
		secs = (double)rounds + 0.5;
		nchanges = 0;
	}
	s.t_end = s.t_measure + (int64_t)(secs * 1e6);
	s.nodes = calloc(n, sizeof *s.nodes);
	s.ages = calloc(AGE_BINS, sizeof *s.ages);
	s.in = malloc(sizeof *s.in);
	s.gout = malloc(sizeof *s.gout);
	s.reply = malloc(sizeof *s.reply);
	if (s.nodes == NULL || s.ages == NULL || s.in == NULL ||
	    s.gout == NULL || s.reply == NULL)
		err(1, "calloc");
	buf_init(&s.out);

	/* One real vector of this machine, varied per node. */
	if (loadvec_init(&tmpl, 1, "n1", 1, &cause) != 0)
		errx(1, "%s", cause);
	tmpl.mem_total = 16 << 20;
	for (i = 0; i < n; i++) {
		struct node	*nd = &s.nodes[i];
		uint32_t	 id = (uint32_t)i + 1;

		if ((nd->g = gossip_new(id, cfg, &cause)) == NULL)
			errx(1, "%s", cause);
		nd->lv = tmpl;
		nd->lv.node = id;
		snprintf(nd->lv.name, sizeof nd->lv.name, "node%u", id);
		nd->lv.incarnation = 1700000000000ULL + id;
		nd->lv.speed = 5000 + (uint32_t)(rnd(&s.rng) % 35000);
		nd->lv.load = (uint32_t)(rnd(&s.rng) % 400);
		nd->lv.mem_free = rnd(&s.rng) % nd->lv.mem_total;
		nd->lv.addr.family = NODE_AF_INET;
		nd->lv.addr.addr[0] = 10;
		nd->lv.addr.addr[1] = (uint8_t)(id >> 16);
		nd->lv.addr.addr[2] = (uint8_t)(id >> 8);
		nd->lv.addr.addr[3] = (uint8_t)id;
		nd->lv.addr.port = 4707;
		nd->off = (int64_t)(rnd(&s.rng) % 1000000000ULL);
		nd->rng = seed * 1000003 + id;
		/* Discovery found a few nodes; gossip teaches the rest. */
		for (j = 0; j < SEEDS && j + 1 < n; j++)
			gossip_learn(nd->g, local_ms(&s, id, 0),
			    1 + (uint32_t)(rnd(&s.rng) % n));
		memset(&e, 0, sizeof e);
		e.t = (int64_t)(rnd(&s.rng) % (cfg->interval_max_ms * 1000ULL));
		e.kind = EV_TICK;
		e.node = id;
		heap_push(&s, e);
	}
	memset(&e, 0, sizeof e);
	e.t = s.t_measure;
	e.kind = EV_SAMPLE;
	heap_push(&s, e);
	if (rounds > 0)
		balance_setup(&s);
	/* Changes in the first half of the measurement, time to spread. */
	for (k = 0; k < nchanges; k++) {
		memset(&e, 0, sizeof e);
		e.t = s.t_measure + (int64_t)(k * secs * 1e6 / 2 / nchanges);
		e.kind = EV_CHANGE;
		e.node = (uint32_t)k;
		heap_push(&s, e);
	}

	while (s.nheap > 0) {
		e = heap_pop(&s);
		if (e.t >= s.t_end) {
			if (e.kind == EV_DELIVER)
				free(e.m);
			continue;
		}
		if (cpu0 == 0 && e.t >= s.t_measure)
			cpu0 = cpu_s();
		if (e.t >= s.t_measure)
			handled++;
		switch (e.kind) {
		case EV_TICK:
			do_tick(&s, e.t, e.node);
			break;
		case EV_DELIVER:
			do_deliver(&s, e.t, e.m);
			break;
		case EV_SAMPLE:
			do_sample(&s, e.t);
			break;
		case EV_CHANGE:
			do_change(&s, e.t, e.node);
			break;
		case EV_BALANCE:
			do_balance(&s, e.t, e.node);
			break;
		case EV_REPORT:
			do_report(&s, e.t);
			break;
		}
	}
	cpu1 = cpu_s();

	spread_str(&s, offsetof(struct change, seen50), s50, sizeof s50);
	spread_str(&s, offsetof(struct change, seen99), s99, sizeof s99);
	spread_str(&s, offsetof(struct change, win50), w50, sizeof w50);
	spread_str(&s, offsetof(struct change, win99), w99, sizeof w99);
	for (k = 0; k < s.nch; k++)
		seen_sum += s.ch[k].nseen;
	for (i = 0; i < n; i++)
		known += gossip_count(s.nodes[i].g);
	getrusage(RUSAGE_SELF, &ru);
	if (rounds > 0)
		printf("%zu nodes: %.1f s of CPU for %.0f s simulated, maxrss "
		    "%ldM\n", n, cpu1, warm + secs, ru.ru_maxrss / 1024);
	else
		printf("%6zu %9.2f %10.0f %7.2fs %7.2fs %8s %8s %8s %8s %7.0f%% %7.1f "
	    "%6llu %6ldM\n", n, s.msgs / measure_s / (double)n,
	    s.bytes / measure_s / (double)n, ages_quantile(&s, 0.5) / 1e3,
	    ages_quantile(&s, 0.99) / 1e3, s50, s99, w50, w99,
	    s.nch ? 100.0 * (double)seen_sum / (double)s.nch /
	    (double)(n - 1) : 0.0,
	    handled ? (cpu1 - cpu0) * 1e6 / (double)handled : 0.0,
	    (unsigned long long)(known / n), ru.ru_maxrss / 1024);
	fflush(stdout);

	for (k = 0; k < s.nch; k++)
		free(s.ch[k].seen);
	for (i = 0; i < n; i++)
		gossip_free(s.nodes[i].g);
	while (s.nheap > 0) {
		e = heap_pop(&s);
		if (e.kind == EV_DELIVER)
			free(e.m);
	}
	free(s.heap);
	free(s.nodes);
	free(s.ages);
	free(s.in);
	free(s.gout);
	free(s.reply);
	free(s.jobs);
	free(s.procs);
	free(s.view);
	buf_free(&s.out);
}

static void
usage(void)
{
	fprintf(stderr, "usage: gossip [-LP] [-b rounds] [-c changes] "
	    "[-j jobs] [-k fanout] [-n N,...] [-s seed] [-t secs] "
	    "[-W window] [-w warmup]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct gossip_config	 cfg;
	const char		*sizes = NULL;
	char			*list, *tok, *end;
	double			 secs = 30, warm = 10;
	size_t			 nchanges = 10, n, rounds = 0, jobs = 20;
	uint64_t		 seed = 1;
	int			 ch, link = 1;

	gossip_config_defaults(&cfg);
	while ((ch = getopt(argc, argv, "b:c:j:k:Ln:Ps:t:W:w:")) != -1) {
		switch (ch) {
		case 'b':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'j':
			jobs = strtoul(optarg, NULL, 10);
			if (jobs == 0 || jobs > 10000)
				usage();
			break;
		case 'L':
			link = 0;
			break;
		case 'c':
			nchanges = strtoul(optarg, NULL, 10);
			if (nchanges > MAX_CHANGES)
				usage();
			break;
		case 'k':
			cfg.fanout = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			sizes = optarg;
			break;
		case 'P':
			cfg.pull = 0;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'W':
			cfg.window = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			warm = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (secs <= 0 || warm < 0)
		usage();
	if (sizes == NULL)
		sizes = rounds > 0 ? "10000" : "1000,10000";

	if (rounds > 0)
		goto sizes;
	printf("gossip: window %zu, fanout %u, %s, interval %u-%u ms, "
	    "latency %.1f-%.1f ms,\n  %g s measured after %g s warm-up, "
	    "%zu load changes, %d seed nodes each, seed %llu\n",
	    cfg.window, cfg.fanout, cfg.pull ? "push-pull" : "push only",
	    cfg.interval_min_ms, cfg.interval_max_ms, LAT_MIN_US / 1e3,
	    LAT_MAX_US / 1e3, secs, warm, nchanges, SEEDS,
	    (unsigned long long)seed);
	printf("%6s %9s %10s %8s %8s %8s %8s %8s %8s %8s %7s %6s %7s\n",
	    "N", "msgs/n/s", "bytes/n/s", "age p50", "age p99", "seen50",
	    "seen99", "win50", "win99", "seen@end", "us/ev", "known",
	    "maxrss");
sizes:
	if ((list = strdup(sizes)) == NULL)
		err(1, "strdup");
	for (tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		n = strtoul(tok, &end, 10);
		if (*end != '\0' || n < 2)
			usage();
		run(n, &cfg, secs, warm, nchanges, seed, rounds, jobs, link);
	}
	free(list);
	return 0;
}
