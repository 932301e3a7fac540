/* config.h: ommd.conf, "key = value" lines, '#' comments, built-in defaults. */
#ifndef OMM_CONFIG_H
#define OMM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "omm/loadvec.h"

#define OMM_CONF_PATH		"/etc/omm/ommd.conf"
#define OMM_SOCK_PATH		"/run/omm/ommd.sock"
#define OMM_STATE_DIR		"/var/lib/omm"

/* The cluster fabric's defaults (docs/config.md). */
#define OMM_ETC_DIR		"/etc/omm"
#define OMM_LISTEN_PORT		7077
#define OMM_MCAST_GROUP		"239.255.77.77"
#define OMM_MCAST_PORT		7078
#define OMM_GOSSIP_MIN_MS	500
#define OMM_GOSSIP_MAX_MS	1000
#define OMM_DEAD_AFTER_MS	5000
#define OMM_BALANCE_MIN_AGE_MS	2000	/* short commands never move */
#define OMM_WINDOW		20
#define OMM_GUEST_MEMORY_PCT	50	/* of MemTotal: a guest's limit */
#define OMM_GUEST_MEMORY_MIN	(1ULL << 20)	/* at least 1 MiB */
#define OMM_GUEST_MEMORY_MAX	(1ULL << 60)
/* What unauthenticated and unprivileged peers may hold (docs/security.md). */
#define OMM_HANDSHAKE_MS	10000
#define OMM_HANDSHAKE_PER_SOURCE 16
#define OMM_HANDSHAKE_MAX	128
#define OMM_CONTROL_PER_USER	64
#define OMM_CONTROL_MAX		256
#define OMM_CONTROL_IDLE_S	60
#define OMM_LOG_REPEAT_S	10

struct omm_config {
	char	*socket_path;	/* control socket */
	char	*state_dir;
	int	 verbose;
	int	 log_syslog;	/* 1: syslog when daemonised */

	/*
	 * The cluster fabric, on when listen is set. Identity: node_id and
	 * node_name default to what the certificate says.
	 */
	int			 fabric;	/* listen given */
	uint32_t		 node_id;	/* 0: the certificate's */
	char			*node_name;	/* NULL: the certificate's */
	struct node_addr	 listen;
	char			*ca, *cert, *key, *crl;
	char			*map_path;	/* NULL: no static map */
	int			 discovery;
	struct node_addr	 mcast_group;
	char			*mcast_if;	/* NULL: the kernel's choice */
	uint32_t		 gossip_min_ms;
	uint32_t		 gossip_max_ms;
	uint32_t		 dead_after_ms;
	uint32_t		 balance_min_age_ms;	/* the balancer leaves younger processes */
	uint32_t		 window;
	uint32_t		 speed;		/* 0: measured at start */
	char			*load_cgroup;	/* NULL: the whole machine */

	/*
	 * The memory a guest may use on this node before it is sent home:
	 * guest_memory bytes, or when 0, guest_memory_pct percent of the
	 * node's MemTotal (config_guest_memory).
	 */
	uint64_t		 guest_memory;
	uint32_t		 guest_memory_pct;

	/*
	 * Limits (docs/security.md, "Limits"): connections to each node port
	 * that have not completed their TLS handshake (per source address,
	 * in all, and how long they may take); control connections per
	 * non-root user and in all, and how long one may sit idle; the
	 * window of rate-limited log lines.
	 */
	uint32_t		 handshake_ms;
	uint32_t		 handshake_per_source;
	uint32_t		 handshake_max;
	uint32_t		 control_per_user;
	uint32_t		 control_max;
	uint32_t		 control_idle_s;
	uint32_t		 log_repeat_s;
};

/* A key whose value differs between two configs (config_diff). */
struct config_change {
	const char	*key;
	int		 live;	/* a running ommd takes it on reload */
};

/* The guest memory limit in bytes on a node with memtotal bytes. */
uint64_t	config_guest_memory(const struct omm_config *, uint64_t memtotal);
/* "64M", "1G", "512K", "1048576" or "25%": into bytes or a percentage. */
int	config_parse_size(const char *, uint64_t *bytes, uint32_t *pct,
	    char **cause) __attribute__((warn_unused_result));

void	config_defaults(struct omm_config *);
/* Parse text (not NUL-terminated necessarily) of len bytes; line numbers in cause. */
int	config_parse(struct omm_config *, const char *text, size_t len,
	    char **cause) __attribute__((warn_unused_result));
/* Read path; a missing file at the default path is not an error. */
int	config_load(struct omm_config *, const char *path, int must_exist,
	    char **cause) __attribute__((warn_unused_result));
void	config_free(struct omm_config *);
/*
 * The keys whose values differ from a to b, in the order of the table, at
 * most max of them; returns how many differ.
 */
size_t	config_diff(const struct omm_config *a, const struct omm_config *b,
	    struct config_change *out, size_t max);

#endif
