/*
 * balancer.c: automatic migration of this node's own processes, wherever
 * they run (docs/balancing.md). Once a second it turns its window of load
 * vectors and its processes into the inputs of balance_decide (balance.c,
 * the opportunity-cost model), and starts at most one migration. It never
 * starts one while another of its migrations is under way, and remembers
 * where it sent work (a reservation) until the gossip shows it.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "omm/balance.h"
#include "omm/config.h"
#include "omm/ckpt.h"
#include "omm/loadvec.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "balancer.h"
#include "cluster.h"
#include "jobs.h"
#include "migrate.h"
#include "procinfo.h"

#define RESERVE_MS	8000	/* at most: the loads show a move by then */
#define NRESERVE	16
#define CANTMOVE_HOLD_S	30	/* a refused process is not asked again before */
#define MOVES_WINDOW_MS	60000

/*
 * A move the gossip does not show yet. The demand measured on both nodes
 * when it started is kept: as their loads show the move (they are smoothed
 * over seconds), the reservation shrinks by as much, so it never counts a
 * process twice.
 */
struct reservation {
	uint32_t	from, to;
	double		d;
	uint64_t	rss;
	double		base_from, base_to;	/* measured demand then */
	int64_t		until;
};

static struct event		*tick_ev;
static struct bal_config	 cfg;
static struct reservation	 resv[NRESERVE];
static int64_t			 moves[BAL_MOVES_PER_MIN];	/* start times */
static uint64_t			 rng;
static struct balancer_counters	 counters;

/* Nodes that just refused one of ours (loadlimit, block): left alone a while. */
#define BACKOFF_MS	10000
#define NBACKOFF	16
static struct {
	uint32_t	node;
	int64_t		until;
}				 backoff[NBACKOFF];

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
backed_off(uint32_t node, int64_t t)
{
	size_t	i;

	for (i = 0; i < NBACKOFF; i++) {
		if (backoff[i].node == node && backoff[i].until > t)
			return 1;
	}
	return 0;
}

/* The nodes we know, from the gossip, as the model reads them. */
static size_t
view(struct bal_node **out, size_t room)
{
	struct msg_node		*mn;
	struct bal_node		*bn, *to, *from;
	size_t			 n, i, k = 0;
	double			 seen, left;
	int64_t			 t = now_ms();

	n = cluster_nodes(&mn);
	/* room for hosts our window lacks (candidates() adds them) */
	bn = xcalloc(n + room + 1, sizeof *bn);
	for (i = 0; i < n; i++) {
		if (!mn[i].has_lv)
			continue;
		bn[k].id = mn[i].node;
		bn[k].ncpu = mn[i].lv.ncpu;
		bn[k].cap = (double)mn[i].lv.ncpu * mn[i].lv.speed /
		    LV_SPEED_REF;
		if (bn[k].cap <= 0)
			bn[k].cap = 0.01;
		bn[k].demand = mn[i].lv.load / 100.0;
		bn[k].mem_total = mn[i].lv.mem_total * 1024;
		bn[k].mem_free = mn[i].lv.mem_free * 1024;
		bn[k].flags = mn[i].lv.flags;
		bn[k].guest_share = bn[k].demand;
		bn[k].up = mn[i].self || mn[i].state == PROTO_NODE_UP;
		/* the CPUs a quota leaves us: the demand of ours reads against them */
		if (mn[i].self)
			bn[k].ncpu = cluster_cpus_milli() / 1000.0;
		if (backed_off(bn[k].id, t))
			bn[k].up = 0;
		k++;
	}
	free(mn);
	for (i = 0; i < NRESERVE; i++) {
		if (resv[i].until <= t)
			continue;
		to = balance_find(bn, k, resv[i].to);
		from = balance_find(bn, k, resv[i].from);
		if (to == NULL || from == NULL)
			continue;
		seen = to->demand - resv[i].base_to;
		left = resv[i].d - (seen > 0 ? seen : 0);
		if (left > 0)
			balance_reserve(to, NULL, left, resv[i].rss);
		seen = resv[i].base_from - from->demand;
		left = resv[i].d - (seen > 0 ? seen : 0);
		if (left > 0)
			balance_reserve(NULL, from, left, resv[i].rss);
	}
	*out = bn;
	return k;
}


void
balancer_refused(uint32_t node)
{
	size_t	i, oldest = 0;

	for (i = 0; i < NBACKOFF; i++) {
		if (backoff[i].until < backoff[oldest].until)
			oldest = i;
	}
	backoff[oldest].node = node;
	backoff[oldest].until = now_ms() + BACKOFF_MS;
}

static void
reserve(const struct bal_move *m, double base_from, double base_to)
{
	size_t	i, oldest = 0;

	for (i = 0; i < NRESERVE; i++) {
		if (resv[i].until < resv[oldest].until)
			oldest = i;
	}
	resv[oldest].from = m->from;
	resv[oldest].to = m->to;
	resv[oldest].d = m->d;
	resv[oldest].rss = m->rss;
	resv[oldest].base_from = base_from;
	resv[oldest].base_to = base_to;
	resv[oldest].until = now_ms() + RESERVE_MS;
}

/* A node's demand as measured (its vector), reservations not counted. */
static double
raw_demand(uint32_t node)
{
	struct msg_node	*mn;
	size_t		 n, i;
	double		 d = 0;

	n = cluster_nodes(&mn);
	for (i = 0; i < n; i++) {
		if (mn[i].node == node && mn[i].has_lv)
			d = mn[i].lv.load / 100.0;
	}
	free(mn);
	return d;
}

/* Moves started in the last minute, under BAL_MOVES_PER_MIN. */
static int
rate_ok(int64_t t)
{
	size_t	i, n = 0;

	for (i = 0; i < BAL_MOVES_PER_MIN; i++)
		n += moves[i] != 0 && t - moves[i] < MOVES_WINDOW_MS;
	return n < BAL_MOVES_PER_MIN;
}

static void
count_move(int64_t t)
{
	size_t	i, oldest = 0;

	for (i = 0; i < BAL_MOVES_PER_MIN; i++) {
		if (moves[i] < moves[oldest])
			oldest = i;
	}
	moves[oldest] = t;
}

/*
 * What a host tells of itself with each GUEST_USAGE: its CPUs (the
 * demand of our process there reads against them) and, when our window
 * lacks it, its load, as a node of its own.
 */
static void
host_view(struct bal_node *nodes, size_t *nn, const struct migrate_usage *mu,
    const struct bal_node *self)
{
	struct bal_node	*h;

	if (mu->host_cpus_milli == 0)
		return;
	if ((h = balance_find(nodes, *nn, mu->node)) == NULL) {
		h = &nodes[(*nn)++];
		memset(h, 0, sizeof *h);
		h->id = mu->node;
		h->demand = mu->host_load / 100.0;
		h->guest_share = h->demand;
		/* its speed unknown: ours, per CPU */
		h->cap = mu->host_cpus_milli / 1000.0 * (self != NULL &&
		    self->ncpu > 0 ? self->cap / self->ncpu : 1);
		h->mem_total = self != NULL ? self->mem_total : 1;
		h->mem_free = h->mem_total;
		h->up = 1;
	}
	h->ncpu = mu->host_cpus_milli / 1000.0;
}

/* This node's processes (home here), wherever they run. */
static size_t
candidates(struct bal_proc **out, struct jproc ***tasks, uint32_t self,
    struct bal_node *nodes, size_t *nnp)
{
	const struct bal_node	*me = balance_find(nodes, *nnp, self);
	size_t			 nn;
	struct bal_proc		*bp;
	struct jproc		**tp, *t;
	struct migrate_usage	 mu;
	size_t			 n = 0, cap = 16;
	uint64_t		 cpu, rss;
	uint32_t		 where;
	int64_t			 ms = now_ms();
	time_t			 now = time(NULL);
	double			 dt;

	bp = xcalloc(cap, sizeof *bp);
	tp = xcalloc(cap, sizeof *tp);
	for (t = jobs_first(); t != NULL; t = jobs_next(t)) {
		if (t->p.moving)		/* on the move */
			continue;
		memset(&mu, 0, sizeof mu);
		mu.away = t->p.ps.away == PROTO_AWAY_REMOTE;
		mu.node = t->p.ps.where;
		mu.cpu_ns = t->p.cpu_ns;
		mu.rss = t->p.rss;
		mu.host_cpus_milli = t->p.host_cpus_milli;
		mu.host_load = t->p.host_load;
		where = mu.away ? mu.node : self;
		if (mu.away) {
			cpu = mu.cpu_ns;
			rss = mu.rss;
			host_view(nodes, nnp, &mu, me);
		} else if (procinfo_usage(t->p.ps.pid, &cpu, &rss) == -1)
			continue;
		nn = *nnp;
		/* a new host's counter starts from zero */
		if (t->bal_where != where || cpu < t->bal_cpu_ns) {
			t->bal_where = where;
			t->bal_cpu_ns = cpu;
			t->bal_ms = ms;
			t->bal_frac = 0;
		} else if (ms - t->bal_ms >= 900) {
			dt = (ms - t->bal_ms) / 1000.0;
			/* smoothed over a few seconds, as the loads are */
			t->bal_frac = 0.5 * t->bal_frac + 0.5 *
			    ((cpu - t->bal_cpu_ns) / 1e9 / dt);
			if (t->bal_frac > 1)
				t->bal_frac = 1;
			t->bal_cpu_ns = cpu;
			t->bal_ms = ms;
		}
		if (n == cap) {
			cap *= 2;
			bp = xreallocarray(bp, cap, sizeof *bp);
			tp = xreallocarray(tp, cap, sizeof *tp);
		}
		memset(&bp[n], 0, sizeof bp[n]);
		bp[n].pid = t->p.ps.pid;
		bp[n].where = where;
		bp[n].cpu_frac = t->bal_frac;
		bp[n].rss = rss;
		bp[n].age_s = difftime(now, (time_t)t->p.ps.start_time);
		bp[n].resident_s = t->p.resident_ms / 1000.0;
		/* a process that gained privileges says so in cantmove */
		bp[n].movable = !t->p.ps.locked && !t->p.stay &&
		    t->p.ps.cantmove == NULL && t->cantmove_until <= now &&
		    balance_find(nodes, nn, where) != NULL;
		bp[n].allowed = t->p.allowed;
		bp[n].nallowed = t->p.nallowed;
		tp[n] = t;
		n++;
	}
	*out = bp;
	*tasks = tp;
	return n;
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { BAL_DECIDE_MS / 1000, (BAL_DECIDE_MS % 1000) * 1000 };
	struct bal_node	*nodes = NULL;
	struct bal_proc	*procs = NULL;
	struct jproc	**tasks = NULL, *t;
	struct bal_move	 m;
	uint32_t	 self = cluster_self();
	size_t		 nn, np;
	int64_t		 ms = now_ms();
	char		*why = NULL;

	evtimer_add(tick_ev, &tv);
	if (!cluster_balancing() || jobs_moving() || !rate_ok(ms))
		return;
	nn = view(&nodes, jobs_nprocs());
	np = candidates(&procs, &tasks, self, nodes, &nn);
	if (np == 0 || nn < 2 ||
	    balance_decide(&cfg, self, nodes, nn, procs, np, &rng, &m) != 1)
		goto out;
	t = tasks[m.proc];
	/* only now the costly check: the model chose it */
	if (m.from == self && (why = ckpt_cantmigrate(t->p.ps.pid)) != NULL) {
		log_debug("balancer: process %d stays: %s", (int)t->p.ps.pid, why);
		free(why);
		t->cantmove_until = time(NULL) + CANTMOVE_HOLD_S;
		goto out;
	}
	log_info("balancer: process %d from node %u to node %u (gain %.3f, "
	    "demand %.2f)", (int)t->p.ps.pid, m.from, m.to, m.gain, m.d);
	if (jobs_migrate(0, NULL, t->p.ps.pid, m.to == self ? 0 : m.to, 0,
	    &why) == -1) {
		log_info("balancer: process %d: %s", (int)t->p.ps.pid, why);
		free(why);
		t->cantmove_until = time(NULL) + CANTMOVE_HOLD_S;
		counters.failed++;
		goto out;
	}
	reserve(&m, raw_demand(m.from), raw_demand(m.to));
	count_move(ms);
	counters.started++;
out:
	free(nodes);
	free(procs);
	free(tasks);
}

void
balancer_start(struct event_base *base, const struct omm_config *conf)
{
	struct timeval	tv = { 1, 0 };

	balance_config_defaults(&cfg);
	cfg.min_age_s = conf->balance_min_age_ms / 1000.0;
	rng = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
	if ((tick_ev = evtimer_new(base, tick, NULL)) == NULL ||
	    evtimer_add(tick_ev, &tv) == -1)
		fatalx("balancer: cannot set up its timer");
}

void
balancer_stop(void)
{
	if (tick_ev != NULL) {
		event_free(tick_ev);
		tick_ev = NULL;
	}
}

const struct balancer_counters *
balancer_counters(void)
{
	return &counters;
}
