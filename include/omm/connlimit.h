/*
 * connlimit.h: how many connections each source holds, against a limit per
 * source and a limit in all. A source is a key: a remote address (IPv4 by
 * its /32, IPv6 by its /64, which one host usually owns whole) for the
 * node ports' connections that have not completed their handshake, a uid
 * for the control socket's connections (docs/security.md, "Limits").
 *
 * Plain bookkeeping, no clock and no I/O: the daemon takes a slot when it
 * accepts a connection and puts it back when the connection is
 * authenticated or closed.
 */
#ifndef OMM_CONNLIMIT_H
#define OMM_CONNLIMIT_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CL_KEY_MAX	16

struct cl_key {
	uint8_t		len;
	uint8_t		b[CL_KEY_MAX];
};

enum cl_verdict {
	CL_OK,		/* taken */
	CL_SOURCE_FULL,	/* this key holds per_source already */
	CL_ALL_FULL,	/* every key together holds total already */
};

struct connlimit;

/* Limits: per_source connections for one key, total for all; 0: none. */
struct connlimit *connlimit_new(uint32_t per_source, uint32_t total);
void	connlimit_free(struct connlimit *);
/* New limits (a reload); what is held stays held. */
void	connlimit_set(struct connlimit *, uint32_t per_source, uint32_t total);

/* Take a slot for key, or say which limit refuses it. */
enum cl_verdict	connlimit_take(struct connlimit *, const struct cl_key *)
		    __attribute__((warn_unused_result));
/* Give back a slot taken for key (a slot never taken is a bug: fatalx). */
void	connlimit_put(struct connlimit *, const struct cl_key *);

uint32_t connlimit_count(const struct connlimit *, const struct cl_key *);
uint32_t connlimit_total(const struct connlimit *);
/* Keys holding at least one slot. */
size_t	connlimit_sources(const struct connlimit *);

/* The key of a remote address: IPv4 (or v4-mapped IPv6) /32, IPv6 /64. */
void	cl_key_addr(struct cl_key *, const struct sockaddr *, socklen_t);
void	cl_key_uid(struct cl_key *, uid_t);
/* A key as text for the log: "198.18.0.5", "fd00:0:0:1::/64", "uid 1001". */
const char *cl_key_str(const struct cl_key *, char *buf, size_t len);

#endif
