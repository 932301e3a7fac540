/*
 * announce.h: the discovery datagram (openMosix's omdiscd).
 *
 * Every node with discovery on sends one small UDP datagram to a multicast
 * group every second or so, saying who it is and where it listens:
 *
 *   u32 magic "OMMA" | u16 version | u16 flags (0) | u32 node |
 *   u64 incarnation | u32 name length | name | u8 family | 16 bytes address |
 *   u16 port
 *
 * little-endian. An announcement grants nothing: the receiver only learns
 * where to dial, and the TLS handshake then proves (or not) who is there.
 * A family of 0 means "the address this datagram came from".
 */
#ifndef OMM_ANNOUNCE_H
#define OMM_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/loadvec.h"

#define ANNOUNCE_MAGIC		0x414d4d4fU	/* "OMMA" as little-endian u32 */
#define ANNOUNCE_VERSION	1
#define ANNOUNCE_MAX_LEN	(4 + 2 + 2 + 4 + 8 + 4 + (LV_NAME_MAX - 1) + \
				    1 + 16 + 2)

struct announce {
	uint32_t		node;		/* nonzero */
	uint64_t		incarnation;	/* nonzero */
	char			name[LV_NAME_MAX];	/* 1..63 bytes */
	struct node_addr	addr;		/* port always set */
};

/* Append one datagram; our own data: a bad field is a bug (fatalx). */
void	announce_encode(struct buf *, const struct announce *);
/*
 * Decode a whole datagram: magic, version, exact length, node and
 * incarnation nonzero, name valid, address well-formed with a port.
 */
int	announce_decode(const uint8_t *, size_t, struct announce *,
	    char **cause) __attribute__((warn_unused_result));

#endif
