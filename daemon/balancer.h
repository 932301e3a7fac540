/* balancer.h: automatic migration of this node's processes (docs/balancing.md). */
#ifndef OMMD_BALANCER_H
#define OMMD_BALANCER_H

#include <stdint.h>

struct event_base;
struct omm_config;

struct balancer_counters {
	uint64_t	started;	/* migrations it started */
	uint64_t	failed;		/* refused at once */
};

void	balancer_start(struct event_base *, const struct omm_config *);
void	balancer_stop(void);
const struct balancer_counters *balancer_counters(void);
/* A node refused one of our processes: the balancer leaves it a while. */
void	balancer_refused(uint32_t node);

#endif
