/*
 * nodemap.h: node addresses and the static map of a cluster.
 *
 * The map file is openMosix's /etc/openmosix.map, one range of nodes a
 * line:
 *
 *   # id  address        count
 *   1     198.18.0.11    1
 *   10    10.1.0.1:7077  8	# nodes 10..17 at 10.1.0.1..10.1.0.8
 *
 * COUNT consecutive node ids live at COUNT consecutive addresses (the last
 * octets count up); a missing count is 1. An address is IPv4 or IPv6
 * ("[addr]:port" for IPv6 with a port); without a port, the caller's
 * default (this node's listening port) applies. docs/config.md has the
 * details.
 */
#ifndef OMM_NODEMAP_H
#define OMM_NODEMAP_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/loadvec.h"

#define NODEMAP_MAX	65536	/* nodes in one map, all lines together */
#define NODE_ADDR_STRLEN 64	/* "[ipv6]:port" and its NUL */

struct nodemap_ent {
	uint32_t		node;
	struct node_addr	addr;
};

struct nodemap {
	struct nodemap_ent	*ent;
	size_t			 n;
};

/*
 * Parse "ADDR", "ADDR:PORT", "[ADDR6]:PORT", "*:PORT" (any address) into
 * a node_addr; defport applies when the port is missing (0: a port is
 * required). Refuses a port of 0, names, junk.
 */
int	node_addr_parse(const char *, uint16_t defport, struct node_addr *,
	    char **cause) __attribute__((warn_unused_result));
/* "198.18.0.11:7077", "[fd00::1]:7077", "*:7077" or "-" (none), into buf. */
const char *node_addr_str(const struct node_addr *, char *buf, size_t n);
/* The address only, without the port: "198.18.0.11", "fd00::1", "*", "-". */
const char *node_addr_host(const struct node_addr *, char *buf, size_t n);
/* 1 for a wildcard address (family set, address all zero). */
int	node_addr_is_any(const struct node_addr *);
/* To and from socket addresses; -1 for a family that is none or unknown. */
int	node_addr_to_sockaddr(const struct node_addr *,
	    struct sockaddr_storage *, socklen_t *);
int	node_addr_from_sockaddr(const struct sockaddr *, socklen_t,
	    struct node_addr *);
int	node_addr_equal(const struct node_addr *, const struct node_addr *);

/*
 * Parse a map text of len bytes (not necessarily NUL-terminated). Causes
 * say "line N: ..."; an id given twice, an id of 0, a range past 2^32 or
 * past the last address, more than NODEMAP_MAX nodes are refused.
 */
int	nodemap_parse(struct nodemap *, const char *text, size_t len,
	    uint16_t defport, char **cause) __attribute__((warn_unused_result));
/* Read and parse path; causes name it ("PATH:N: ..."). */
int	nodemap_load(struct nodemap *, const char *path, uint16_t defport,
	    char **cause) __attribute__((warn_unused_result));
/* The entry of node, or NULL. */
const struct nodemap_ent *nodemap_find(const struct nodemap *, uint32_t node);
void	nodemap_free(struct nodemap *);

#endif
