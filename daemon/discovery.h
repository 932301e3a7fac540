/*
 * discovery.h: multicast autodiscovery, openMosix's omdiscd: a datagram
 * (announce.h) every second to a group, on an interface of choice; every
 * node heard is handed to peer.c to dial over TLS. Hearing grants nothing.
 */
#ifndef OMMD_DISCOVERY_H
#define OMMD_DISCOVERY_H

#include <stdint.h>

#include "omm/announce.h"

struct event_base;
struct omm_config;

int	discovery_start(struct event_base *, const struct omm_config *,
	    const struct announce *self, char **cause)
	    __attribute__((warn_unused_result));
/* omctl leave: stop announcing (and listening); join: again. */
void	discovery_pause(int paused);
void	discovery_stop(void);
/* Fill ST_CNT_ANNOUNCE_* of STATUS. */
void	discovery_counters(uint64_t *num);

#endif
