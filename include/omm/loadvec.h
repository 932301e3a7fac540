/*
 * loadvec.h: the load vector, what a node tells the cluster about itself.
 *
 * Every node measures its own vector about once per gossip interval and the
 * gossip spreads it (gossip.h); wire.h encodes it. Heterogeneous nodes are the
 * normal case, so the vector says how fast and how big the node is, not only
 * how busy: the balancer weighs load by speed and CPU count.
 */
#ifndef OMM_LOADVEC_H
#define OMM_LOADVEC_H

#include <stddef.h>
#include <stdint.h>

#include "omm/cpufeat.h"

#define LV_NAME_MAX	64	/* node name, NUL included: 1..63 bytes */
#define LV_KERNEL_MAX	65	/* utsname release, NUL included */
#define LV_CGROUP_MAX	256	/* cgroup directory of a meter */

/*
 * Relative speed, openMosix-style: LV_SPEED_REF is the reference core, one
 * that runs the calibration loop's multiply-add chain (4 cycles a step) at
 * 1 GHz, i.e. LV_CALIB_REF steps per second. A 3 GHz core of today scores
 * about 30000. Overridable (omctl set speed) because a node's owner may know
 * better, e.g. for a machine that is throttled or shared.
 */
#define LV_SPEED_REF	10000
#define LV_CALIB_REF	250000000ULL
#define LV_SPEED_MAX	1000000		/* 100 reference cores in one */

/* Admin flags (omctl set ...), openMosix's /proc/hpc/admin states. */
#define LV_BLOCK	0x01	/* refuses arriving guests */
#define LV_LEAVING	0x02	/* leaving the cluster */
#define LV_STAY		0x04	/* no automatic migration away */
#define LV_LSTAY	0x08	/* local processes stay, guests may pass */
#define LV_QUIET	0x10	/* sends no load information */
#define LV_FLAGS	0x1f	/* every defined flag */

/* Address families of a node_addr, as they travel on the wire. */
enum node_af {
	NODE_AF_NONE = 0,	/* not known (yet) */
	NODE_AF_INET = 4,
	NODE_AF_INET6 = 6,
};

/* Where a node listens for its peers. */
struct node_addr {
	uint8_t		family;		/* enum node_af */
	uint8_t		addr[16];	/* IPv4: first 4 bytes, the rest zero */
	uint16_t	port;		/* host order */
};

struct loadvec {
	uint32_t		node;		/* node id, nonzero */
	char			name[LV_NAME_MAX];
	/*
	 * When this daemon started (ms since the epoch): a restarted node
	 * has a larger one, which replaces everything known of the old.
	 */
	uint64_t		incarnation;
	/*
	 * The origin's monotonic clock (ms) when measured. Comparable only
	 * between vectors of one incarnation; receivers never compare it
	 * with their own clock (ages travel instead, see gossip.h).
	 */
	uint64_t		stamp;
	uint32_t		ncpu;		/* CPUs this node may use */
	uint32_t		speed;		/* per CPU, LV_SPEED_REF = reference */
	uint32_t		load;		/* smoothed run-queue length x100 */
	uint64_t		mem_total;	/* KiB */
	uint64_t		mem_free;	/* KiB available (MemAvailable) */
	uint32_t		guests;		/* guest processes hosted */
	uint32_t		flags;		/* LV_* */
	struct cpu_features	cpu;
	char			kernel[LV_KERNEL_MAX];
	struct node_addr	addr;
};

/* Where the run-queue load of this node is measured. */
enum loadvec_source {
	/* /proc/stat procs_running: the whole machine. */
	LOADVEC_SRC_SYSTEM,
	/*
	 * CPU time used by a cgroup (cgroup v2 cpu.stat usage_usec or v1
	 * cpuacct.usage), as busy CPUs x100: the per-node load when several
	 * nodes share one machine (the namespace test cluster), whose
	 * /proc/stat is common to all of them.
	 */
	LOADVEC_SRC_CGROUP,
};

/* State kept between samples to smooth the load. */
struct loadvec_meter {
	enum loadvec_source	source;
	char			cgroup[LV_CGROUP_MAX];
	int			cgroup_v1;	/* cpuacct.usage, ns */
	uint32_t		tau_ms;		/* smoothing time constant */
	int64_t			last_ms;	/* previous sample, -1: none */
	uint64_t		last_usage_us;	/* cgroup usage at last_ms */
	uint32_t		load;		/* smoothed, x100 */
};

/*
 * Fill the parts of a vector that do not change while the daemon runs: id,
 * name, incarnation, CPU count (affinity), CPU features, kernel release.
 * Speed starts at LV_SPEED_REF; set it from loadvec_calibrate or the
 * configuration. Refuses an id of 0 or a name that is empty or too long.
 */
int	loadvec_init(struct loadvec *, uint32_t node, const char *name,
	    uint64_t incarnation, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Measure this CPU's relative speed: the best of several runs of the
 * calibration loop within about ms milliseconds of CPU time.
 */
uint32_t loadvec_calibrate(unsigned int ms);
/*
 * The CPUs the cgroup quota of this process allows (cgroup v2 cpu.max, v1
 * cpu.cfs_quota_us over cpu.cfs_period_us, the tightest on the way up), or
 * 0 when there is none. A node advertises speed x ncpu as its capacity, so
 * a quota scales its speed (cluster.c).
 */
double	loadvec_cpu_limit(void);

/* A meter on the whole machine, smoothing over tau_ms (0: 2000). */
void	loadvec_meter_init(struct loadvec_meter *, uint32_t tau_ms);
/* Switch a meter to a cgroup directory (v2 cpu.stat or v1 cpuacct.usage). */
int	loadvec_meter_cgroup(struct loadvec_meter *, const char *dir,
	    char **cause) __attribute__((warn_unused_result));

/*
 * Take one sample at now_ms (monotonic): the smoothed load, memory, and
 * stamp. Guests, flags, speed and address are the caller's to set.
 */
int	loadvec_sample(struct loadvec_meter *, struct loadvec *, int64_t now_ms,
	    char **cause) __attribute__((warn_unused_result));

/*
 * Exponential smoothing of a load x100 over dt_ms with time constant tau_ms,
 * without libm: weight dt / (tau + dt) for the new value.
 */
uint32_t loadvec_smooth(uint32_t prev, uint32_t raw, int64_t dt_ms,
	    uint32_t tau_ms);

/* Parsers of the files a sample reads, for tests; text need not end in NUL. */
int	loadvec_parse_stat(const char *, size_t, uint32_t *running,
	    char **cause) __attribute__((warn_unused_result));
int	loadvec_parse_meminfo(const char *, size_t, uint64_t *total_kib,
	    uint64_t *avail_kib, char **cause)
	    __attribute__((warn_unused_result));
/* cgroup v2 cpu.stat: usage_usec. */
int	loadvec_parse_cpustat(const char *, size_t, uint64_t *usage_us,
	    char **cause) __attribute__((warn_unused_result));

/* "block,quiet" or "-" for flags; into buf of size n. */
const char *loadvec_flag_names(uint32_t flags, char *buf, size_t n);

#endif
