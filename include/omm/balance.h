/*
 * balance.h: the balancing decision, openMosix's opportunity cost as a plain
 * function (docs/balancing.md has the formula, its constants and why).
 *
 * Every node decides alone, from its own window of load vectors, for its own
 * processes (those whose home it is, wherever they run now), whether to move
 * one of them and where. Nothing here reads a clock, allocates, logs or does
 * I/O: the caller (ommd's balancer, bench/gossip.c, the unit test) gives the
 * view, the processes and the random state, and applies the move.
 *
 * Units: CPU demand in cores (runnable work: 1.0 is one process that always
 * wants a CPU), capacity in reference cores (ncpu x speed / LV_SPEED_REF),
 * memory in bytes, bandwidth in bytes per second, times in seconds.
 */
#ifndef OMM_BALANCE_H
#define OMM_BALANCE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/*
 * How often the caller should decide, and how many moves a node may start
 * in a minute (its own token bucket); balance_decide returns at most one
 * move per call.
 */
#define BAL_DECIDE_MS		1000
#define BAL_MOVES_PER_MIN	20
/* Default link bandwidth when none was measured: 500 MB/s. */
#define BAL_DEFAULT_BW		500e6

/* One node as the decider sees it: itself, or an entry of its window. */
struct bal_node {
	uint32_t	id;
	double		ncpu;		/* cores it may use, may be fractional */
	double		cap;		/* ncpu x speed / LV_SPEED_REF, > 0 */
	double		demand;		/* runnable work, cores (load / 100) */
	uint64_t	mem_total;	/* bytes */
	uint64_t	mem_free;	/* bytes */
	uint32_t	flags;		/* LV_* */
	/*
	 * Guests may add demand only while guest_share + d <= guest_limit;
	 * guest_limit 0: no limit. For admin loadlimit (whole-node load
	 * x100) give guest_share = demand, guest_limit = loadlimit / 100.
	 */
	double		guest_share;
	double		guest_limit;
	double		bw;		/* to this node, bytes/s; 0: default */
	int		up;		/* 0: down or not heard from */
};

/* One process whose home is the decider. */
struct bal_proc {
	pid_t		 pid;
	uint32_t	 where;		/* node it runs on (home: self) */
	double		 cpu_frac;	/* of one core it got lately, 0..1 */
	uint64_t	 rss;		/* bytes */
	double		 age_s;		/* since it started */
	/*
	 * Since it arrived where it is. A process brought home by hand gets
	 * a residency start in the future (a longer hold), so a negative
	 * value is fine.
	 */
	double		 resident_s;
	int		 movable;	/* not locked, no cantmove, not --stay */
	const uint32_t	*allowed;	/* nodes it may run on; home always */
	size_t		 nallowed;	/* 0: all */
};

struct bal_config {
	double	base;		/* B of the cost, > 1 */
	double	u_max;		/* exponent cap: linear beyond it */
	double	margin;		/* fraction of MC_w a move must save */
	double	k_move;		/* fraction of MC_w per second of transfer */
	double	near;		/* targets within this fraction of the best */
	double	min_age_s;
	double	min_residency_s;
	double	mem_high;	/* memory high-water mark, 0..1 */
	double	mem_steep;	/* extra exponent per unit of m above it */
	double	default_bw;	/* bytes/s */
};

struct bal_move {
	pid_t		pid;
	size_t		proc;		/* index into procs[] */
	uint32_t	from;
	uint32_t	to;
	double		d;		/* demand it takes along, cores */
	uint64_t	rss;
	double		gain;		/* MC_from - MC_to */
	double		mc_from;
	int		urgent;		/* leaving its host: no hysteresis */
};

void	balance_config_defaults(struct bal_config *);

/* The cost of a node at CPU utilisation u and memory utilisation m. */
double	balance_cost(const struct bal_config *, double u, double m);

/*
 * The demand a process would bring to another node: what it got, scaled
 * up by how overloaded its node is, at most one core.
 */
double	balance_demand(const struct bal_node *where, double cpu_frac);

/*
 * Decide for self's processes. nodes[] is the view, self included;
 * returns 1 with *out filled when one process should move, 0 when none.
 * rng is the caller's xorshift state (gossip_rand).
 */
int	balance_decide(const struct bal_config *, uint32_t self,
	    const struct bal_node *nodes, size_t n, const struct bal_proc *procs,
	    size_t np, uint64_t *rng, struct bal_move *out)
	    __attribute__((warn_unused_result));

/*
 * What the caller does with a move until fresher vectors of both nodes
 * arrive: the target carries d and rss more, the source less.
 */
void	balance_reserve(struct bal_node *to, struct bal_node *from, double d,
	    uint64_t rss);

/* The node in a view, NULL if absent. */
struct bal_node *balance_find(struct bal_node *, size_t n, uint32_t id);

#endif
