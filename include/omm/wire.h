/*
 * wire.h: the node-to-node protocol, framed and versioned.
 *
 * A link between two ommd nodes (mutual TLS) carries a stream of frames:
 *
 *   u32 magic "OMMW" | u16 version | u16 type | u32 payload length | payload
 *
 * little-endian, written and read with buf.h. TLS delivers the stream in
 * arbitrary chunks, so wire_frame_peek looks at the bytes received so far and
 * tells whether a whole frame is there; the header is checked (magic, version,
 * type, the type's length bounds, the cap) before any payload is awaited, so a
 * peer announcing 4 GiB is refused after 12 bytes. Every type has an explicit
 * encoder and decoder; decoders check the exact length and every field.
 * The byte-level reference is docs/wire-protocol.md.
 */
#ifndef OMM_WIRE_H
#define OMM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/loadvec.h"

#define OMM_WIRE_VERSION	1
#define WIRE_MAGIC		0x574d4d4fU	/* "OMMW" as little-endian u32 */
#define WIRE_HDR_LEN		12
#define WIRE_MAX_PAYLOAD	(1U << 20)	/* default cap of any payload */

#define WIRE_VERSION_MAX	32	/* software version string, NUL included */
#define WIRE_TEXT_MAX		128	/* BYE text, NUL included */
#define WIRE_LOADWIN_MAX	64	/* entries in one LOADWIN */

/*
 * Message types, in blocks: 100-199 membership and load, 200-299 migration,
 * 300-399 forwarded system calls. A type not listed here is refused.
 */
enum wire_type {
	WIRE_HELLO = 100,	/* first frame of each side: who I am */
	WIRE_HELLO_ACK = 101,	/* answer to HELLO: who I am */
	WIRE_LOADWIN = 102,	/* my window of load vectors, with ages */
	WIRE_BYE = 103,		/* last frame: why I close */

	/*
	 * 200-299: migration, on a migration connection (migwire.h has the
	 * payloads, docs/migration.md the conversation).
	 */
	WIRE_MIG_OFFER = 200,	/* home -> host: take this process? */
	WIRE_MIG_ACCEPT = 201,	/* host -> home: yes, stream the image */
	WIRE_MIG_REFUSE = 202,	/* host -> home: no, and why */
	WIRE_MIG_IMAGE = 203,	/* raw bytes of the image stream */
	WIRE_MIG_IMAGE_END = 204, /* the image is complete: its length */
	WIRE_MIG_READY = 205,	/* host -> home: the guest is restored */
	WIRE_MIG_FAIL = 206,	/* the image could not be restored */
	WIRE_GUEST_SIGNAL = 207, /* home -> host: deliver a signal */
	WIRE_GUEST_EXIT = 208,	/* host -> home: the guest ended */
	WIRE_GUEST_BRING = 209,	/* home -> host: send it home */
	WIRE_GUEST_LEAVING = 210, /* host -> home: an image follows */
	WIRE_GUEST_STOPPED = 211, /* host -> home: the guest group-stopped */
	WIRE_PING = 212,	/* either way when idle; empty */
	WIRE_GUEST_USAGE = 213,	/* host -> home: the guest's CPU time and memory */
	WIRE_GUEST_LANDED = 214, /* home -> old host: its image runs elsewhere now */
	WIRE_GUEST_STAY = 215,	/* home -> old host: the move failed, resume it */
	WIRE_MIG_FILE_REQ = 216, /* host -> home: bytes of a file it maps */
	WIRE_MIG_FILE_DATA = 217, /* home -> host: those bytes, or why not */

	/*
	 * 300-399: forwarded system calls (marshal.h: MARSHAL_SYSCALL_REQ
	 * = 300 .. MARSHAL_SYSCALL_LOCAL = 306). Their payloads may exceed
	 * WIRE_MAX_PAYLOAD, up to MARSHAL_MSG_MAX.
	 */
};

/* Why a BYE was sent. */
enum wire_bye_reason {
	WIRE_BYE_SHUTDOWN = 1,	/* the daemon stops */
	WIRE_BYE_LEAVE = 2,	/* omctl leave: the node leaves the cluster */
	WIRE_BYE_PROTOCOL = 3,	/* the peer sent something malformed */
	WIRE_BYE_REFUSED = 4,	/* the peer is not welcome (id, name) */
	WIRE_BYE_NREASONS
};

struct wire_hdr {
	uint32_t	magic;
	uint16_t	version;
	uint16_t	type;
	uint32_t	len;		/* payload bytes */
};

/* HELLO and HELLO_ACK. */
struct wire_hello {
	uint32_t		node;		/* nonzero */
	uint64_t		incarnation;
	char			name[LV_NAME_MAX];	/* 1..63 bytes */
	char			version[WIRE_VERSION_MAX]; /* software, e.g. "0.1.0" */
	struct node_addr	addr;		/* where the sender listens */
	uint32_t		flags;		/* LV_* */
};

/* One load vector of a window, with its age at the sender. */
struct wire_lventry {
	uint32_t	age_ms;		/* ms since measured at the origin */
	struct loadvec	lv;
};

/*
 * LOADWIN flags. PULL: the sender wants our window back at once (push-pull
 * gossip); a reply never carries it, so exchanges do not ping-pong.
 */
#define WIRE_LOADWIN_PULL	0x0001
#define WIRE_LOADWIN_FLAGS	0x0001

struct wire_loadwin {
	uint16_t		flags;	/* WIRE_LOADWIN_* */
	uint16_t		n;	/* 1..WIRE_LOADWIN_MAX, no node twice */
	struct wire_lventry	ent[WIRE_LOADWIN_MAX];
};

struct wire_bye {
	uint16_t	reason;			/* enum wire_bye_reason */
	char		text[WIRE_TEXT_MAX];	/* may be empty */
};

/* A decoded frame of any type. */
struct wire_msg {
	uint16_t			 type;
	union {
		struct wire_hello	 hello;
		struct wire_loadwin	 loadwin;
		struct wire_bye		 bye;
	};
};

/* "HELLO"; "unknown" for a type not defined. */
const char	*wire_type_name(uint16_t type);
/* "shutdown", "leave", ...; "unknown" if out of range. */
const char	*wire_bye_name(uint16_t reason);

/*
 * Look at the first n bytes of a stream. Returns 1 when a whole frame is
 * there (its header in *hdr, header plus payload bytes in *frame_len), 0
 * when more bytes are needed, -1 when the stream is bad: wrong magic (seen
 * as soon as the first byte differs), another protocol version, an unknown
 * type, or a payload length outside the type's bounds or over the cap. The
 * answer for a prefix never contradicts the answer for the whole.
 */
int	wire_frame_peek(const uint8_t *p, size_t n, struct wire_hdr *,
	    size_t *frame_len, char **cause) __attribute__((warn_unused_result));
/*
 * The same with a cap on payloads other than WIRE_MAX_PAYLOAD. The cap
 * bounds the 100 block only: the 200 and 300 blocks have per-type maxima
 * of their own (MIG_IMAGE: MIG_IMAGE_CHUNK, the 300 block:
 * MARSHAL_MSG_MAX), which win over the cap, default or given.
 */
int	wire_frame_peek_max(const uint8_t *p, size_t n, size_t max_payload,
	    struct wire_hdr *, size_t *frame_len, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Encoders append one whole frame to b (which may hold earlier frames).
 * They are given our own data: a field out of range is a bug (fatalx).
 */
void	wire_encode_hello(struct buf *, uint16_t type,
	    const struct wire_hello *);
void	wire_encode_loadwin(struct buf *, const struct wire_loadwin *);
void	wire_encode_bye(struct buf *, const struct wire_bye *);
/*
 * A frame whose payload is given as bytes: MIG_IMAGE, PING and the 300
 * block (whose payloads marshal.c encodes). A type unknown or a length
 * outside the type's bounds is a bug (fatalx).
 */
void	wire_encode_raw(struct buf *, uint16_t type, const void *, size_t);
/*
 * For the encoders of other modules (migwire.c): start a frame of type at
 * the end of b, returning its offset, then append the payload, then end it
 * (the length is patched in and checked against the type's bounds).
 */
size_t	wire_frame_begin(struct buf *, uint16_t type);
void	wire_frame_end(struct buf *, size_t off);
/* Fill hdr (WIRE_HDR_LEN bytes) for a payload of len bytes; no checks. */
void	wire_hdr_put(uint8_t *hdr, uint16_t type, uint32_t len);

/*
 * Decoders take a payload of their type and fill the struct (no heap).
 * They refuse, with the reason in cause, a payload of the wrong length, a
 * string too long, empty where it must not be or holding a NUL, a node id
 * of 0, an enum or flag out of range, a count over its cap.
 */
int	wire_decode_hello(const uint8_t *, size_t, struct wire_hello *,
	    char **cause) __attribute__((warn_unused_result));
int	wire_decode_loadwin(const uint8_t *, size_t, struct wire_loadwin *,
	    char **cause) __attribute__((warn_unused_result));
int	wire_decode_bye(const uint8_t *, size_t, struct wire_bye *,
	    char **cause) __attribute__((warn_unused_result));
/*
 * Decode a frame found by wire_frame_peek (payload follows the header).
 * Only the 100 block (node links): a frame of the 200 or 300 block is
 * refused as out of place; those are decoded by migwire.c and marshal.c.
 */
int	wire_decode(const struct wire_hdr *, const uint8_t *payload,
	    struct wire_msg *, char **cause)
	    __attribute__((warn_unused_result));

/* Bytes one load vector takes at most on the wire. */
size_t	wire_loadvec_max_len(void);

#endif
