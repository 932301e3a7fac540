/*
 * peer.h: links to the other nodes: TCP + mutual TLS 1.3 (tls.h), frames
 * of wire.h, one link per peer.
 *
 * A link is dialled or accepted; it is up only once the first valid
 * message from the other side has arrived (TLS 1.3 tells a dialler that it
 * was refused only on its first read). The dialler sends HELLO, the
 * acceptor checks it against the certificate and answers HELLO_ACK, which
 * the dialler checks in turn. When both nodes dialled each other, the link
 * dialled by the smaller node id is kept (both sides choose the same). A
 * lost link is dialled again with a growing delay. See docs/fabric.md.
 */
#ifndef OMMD_PEER_H
#define OMMD_PEER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "omm/loadvec.h"
#include "omm/tls.h"
#include "omm/proto.h"
#include "omm/wire.h"

struct event_base;

/* Who we are on every link. */
struct peer_self {
	uint32_t		node;
	const char		*name;
	uint64_t		incarnation;
	struct node_addr	listen;
};

/* Listen (ctx is kept, not freed). */
int	peer_start(struct event_base *, SSL_CTX *, const struct peer_self *,
	    char **cause) __attribute__((warn_unused_result));
/*
 * Accepted connections not through TLS and HELLO: how long they may take,
 * how many one source address may hold, how many all (ommd.conf
 * handshake_*). Before or after start.
 */
void	peer_set_limits(uint32_t ms, uint32_t per_source, uint32_t max);
/* A node whose certificate a new TLS context refuses (peer_set_ctx). */
struct peer_refused {
	uint32_t	 node;
	char		 name[LV_NAME_MAX];
	enum tls_reason	 reason;	/* TLS_REVOKED, TLS_EXPIRED... */
	int		 was_up;	/* its link was closed */
};
/*
 * A reload of the TLS files: links made from now on use c, and every
 * known peer's certificate (of its last link) is checked against c; the
 * links of those it refuses are closed with a BYE, and they are not
 * dialled while it does. Returns how many it refuses, up to max in out.
 */
size_t	peer_set_ctx(SSL_CTX *c, struct peer_refused *out, size_t max);
/* TLS_OK, or why the current context refuses node's certificate. */
enum tls_reason peer_refused_by_ctx(uint32_t node);
/* Close every link, with a BYE of reason when up; stop listening. */
void	peer_stop(uint16_t reason);
void	peer_free_all(void);

/*
 * A node and where it listens (static map, discovery): dial it now unless
 * a link is up or being made. name may be NULL. incarnation 0: not known;
 * a new one (a restarted node) cuts a pending backoff short.
 */
void	peer_learn(uint32_t node, const char *name, const struct node_addr *,
	    uint64_t incarnation);
/*
 * Send a LOADWIN to node: 0 if queued on an up link, -1 if there is none
 * (a dial is started when the address is known: hint, if not NULL, is the
 * address its load vector gave).
 */
int	peer_send_loadwin(uint32_t node, const struct wire_loadwin *,
	    const struct node_addr *hint);
/* Send a LOADWIN to every up link (omctl leave: the last word). */
void	peer_send_all(const struct wire_loadwin *);

/* omctl leave / join: close every link with BYE leave and refuse; undo. */
void	peer_leave(void);
void	peer_join(void);

/* enum proto_link_state of node's link; its name if known ("" if not). */
int	peer_link_state(uint32_t node);
const char *peer_name(uint32_t node);
const struct node_addr *peer_addr(uint32_t node);
/* Every peer's link, for STATUS (free each with proto_free_link). */
size_t	peer_links(struct msg_link **);
/* Fill the ST_CNT_LINKS_* .. ST_CNT_BYTES_OUT counters of STATUS. */
void	peer_counters(uint64_t *num);

#endif
