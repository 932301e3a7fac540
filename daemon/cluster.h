/*
 * cluster.h: this node as a member of the cluster: its identity, its load
 * vector, the gossip (gossip.h) and the admin settings (admin.h).
 *
 * cluster.c owns the state and the gossip timer; peer.c carries frames
 * and calls back here (cluster_on_*) for what arrives; discovery.c and the
 * static map tell peer.c where nodes are. Without "listen" in the config the
 * node runs alone: no links, its own vector only, admin settings still work.
 */
#ifndef OMMD_CLUSTER_H
#define OMMD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "omm/proto.h"
#include "omm/wire.h"

#ifndef OMM_VERSION
#define OMM_VERSION	"0.1.0"
#endif

struct event_base;
struct omm_config;

/* Set everything up from the config; a cause for the operator if not. */
int	cluster_start(struct event_base *, const struct omm_config *,
	    char **cause) __attribute__((warn_unused_result));
/* SIGTERM: say BYE to every peer; the loop should run briefly to send it. */
void	cluster_shutdown(void);
/* After the loop: free everything. */
void	cluster_free(void);

/* Monotonic milliseconds, the clock of gossip and links. */
int64_t	cluster_now(void);
uint32_t cluster_self(void);
uint64_t cluster_incarnation(void);
struct peer_refused;
/*
 * Read the TLS files (the config's ca, crl, cert, key) again: new links,
 * migration connections and the job supervisors (JM_RELOAD) use them; the
 * links of peers they refuse now (revoked) are closed, and those peers
 * listed in out (at most max, *nout in all). -1 and a cause when the files
 * are unusable or name another node: the running ones stay. 0 alone.
 */
int	cluster_reload_tls(struct peer_refused *out, size_t max, size_t *nout,
	    char **cause) __attribute__((warn_unused_result));
/* The TLS context of node links and migration connections; NULL alone. */
SSL_CTX	*cluster_ctx(void);
/* Guests refused now (block on, or left). */
int	cluster_blocked(void);
int	cluster_balancing(void);
uint32_t cluster_cpus_milli(void);
int	cluster_node_up(uint32_t node);
int	cluster_over_loadlimit(uint32_t *load, uint32_t *limit);

/* From peer.c: what arrived from a verified peer. */
void	cluster_on_hello(uint32_t node, uint64_t incarnation);
void	cluster_on_loadwin(uint32_t node, const struct wire_loadwin *);
void	cluster_on_bye(uint32_t node, uint16_t reason);
/* From discovery.c: a node announced itself (it is dialled by peer.c). */
void	cluster_on_announce(uint32_t node);

/* For the control requests (request.c). */
size_t	cluster_nodes(struct msg_node **);	/* free the array */
void	cluster_status(struct msg_status *);	/* proto_free_status */
int	cluster_set(uint16_t setting, uint32_t value, char **cause)
	    __attribute__((warn_unused_result));
int	cluster_expel(uint32_t *guests, char **cause)
	    __attribute__((warn_unused_result));
int	cluster_leave(char **cause) __attribute__((warn_unused_result));
int	cluster_join(char **cause) __attribute__((warn_unused_result));

#endif
