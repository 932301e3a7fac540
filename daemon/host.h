/* host.h: this node as a host of guests (docs/migration.md). */
#ifndef OMMD_HOST_H
#define OMMD_HOST_H

#include <sys/types.h>

#include <openssl/ssl.h>

#include <stdint.h>

struct event_base;
struct node_addr;

struct host_counters {
	uint64_t	connections;	/* migration connections accepted */
	uint64_t	arrived;	/* guests that came and ran */
	uint64_t	departed;	/* guests that ended or left */
};

/*
 * A guest's memory limit: bytes, or when 0, pct percent of this node's
 * memory (ommd.conf's guest_memory). Before host_start.
 */
void	host_set_guest_memory(uint64_t bytes, uint32_t pct);
/* Listen on the migration port of listen; is_blocked: admin block now. */
int	host_start(struct event_base *, SSL_CTX *, const struct node_addr *listen,
	    uint32_t node, const char *name, int (*is_blocked)(void),
	    char **cause) __attribute__((warn_unused_result));
/*
 * Migration connections not through their TLS handshake: how long they
 * may take, how many one source address may hold, how many all (ommd.conf
 * handshake_*). Before or after start.
 */
void	host_set_limits(uint32_t ms, uint32_t per_source, uint32_t max);
/* Connections accepted from now on use c (a reload of the TLS files). */
void	host_set_ctx(SSL_CTX *c);
/* What the guest servers report home of this node (GUEST_USAGE). */
void	host_publish(uint32_t load, uint32_t cpus_milli);
/* The migration port of a node listening on node_port. */
uint16_t host_migrate_port(uint16_t node_port);
/*
 * The internal socket (jobs.c) guest servers find the next ommd on after
 * a restart; host_adopt takes one back (its connection, JM_GUEST said).
 */
void	host_set_internal(const char *path);
struct jm_guest;
void	host_adopt(int fd, const struct jm_guest *);
/* A child of ommd ended: 1 if it was a guest server. */
int	host_child_exited(pid_t, int status);
uint32_t host_guests(void);
/*
 * Node home is refused from now on (a reload revoked it): its guests here
 * are killed, as if it were unreachable, and their links closed with
 * their servers. The count killed.
 */
uint32_t host_drop_home(uint32_t home, const char *why);
/* The cgroup job supervisors (and their deputies) go in; NULL: none. */
const char *host_jobs_cgroup(void);
const struct host_counters *host_counters(void);
/* Send every guest home now (expel): how many were asked. */
uint32_t host_expel(void);
/* Send every guest home (or let it go) and wait up to wait_ms. */
void	host_stop(int wait_ms);

#endif
