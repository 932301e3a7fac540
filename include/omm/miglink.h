/*
 * miglink.h: one blocking, framed TLS connection between two processes.
 *
 * A migration connection joins home's deputy D and the host's guest server
 * S, two single-threaded processes with one connection each, so it needs no
 * event loop: a call sends a whole frame or receives one, waiting in
 * poll(2). Frames are the node protocol's (wire.h); the certificates and
 * their checks are the node links' (tls.h). Both ends set TCP_NODELAY and
 * TCP keepalive (idle 2 s, interval 1 s, 3 probes) and TCP_USER_TIMEOUT
 * 5000 ms, so a dead peer or link is noticed within about 5 s even when no
 * frame is due. Writes never raise SIGPIPE (send with MSG_NOSIGNAL).
 *
 * A received payload is a pointer into the link's read buffer: no copy
 * beyond TLS's own, valid until the next miglink_recv. Reads are large
 * (several frames per system call when they are small).
 */
#ifndef OMM_MIGLINK_H
#define OMM_MIGLINK_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "omm/wire.h"

struct miglink;

/*
 * TCP connect within timeout_ms, TLS 1.3 client handshake with ctx (from
 * tls_ctx_new: mutual authentication, CRL), then the peer's certificate
 * must carry node id expect_node. NULL and a cause naming the address (and
 * the node found, or TLS's reason) on failure. In TLS 1.3 the server's
 * verdict on our certificate comes after the handshake: a refusal shows as
 * the first miglink_recv failing with "TLS: ...".
 */
struct miglink	*miglink_connect(SSL_CTX *, const struct sockaddr_in *to,
		    uint32_t expect_node, int timeout_ms, char **cause)
		    __attribute__((warn_unused_result));
/*
 * Server side on an accepted TCP socket (taken, closed on failure too):
 * handshake within timeout_ms, same socket options. The caller checks
 * miglink_peer against the node the offer names.
 */
struct miglink	*miglink_accept(SSL_CTX *, int fd, int timeout_ms,
		    char **cause) __attribute__((warn_unused_result));

/*
 * The same in steps, for an event loop (ommd's host.c, which forks the
 * guest server only once a handshake completes): start on an accepted
 * socket (taken, closed on failure too; same options, non-blocking),
 * then step whenever the socket is ready as asked. step: 1 done (the
 * peer's certificate verified and carrying a node id), 0 call again when
 * the socket is ready for *want (POLLIN or POLLOUT), -1 failed (cause;
 * free with miglink_abandon). The caller keeps the deadline.
 */
struct miglink	*miglink_accept_start(SSL_CTX *, int fd, char **cause)
		    __attribute__((warn_unused_result));
int		 miglink_accept_step(struct miglink *, short *want,
		    char **cause) __attribute__((warn_unused_result));

/* Node id of the peer's (verified) certificate. */
uint32_t	 miglink_peer(const struct miglink *);
/* The socket, for poll(2) beside other descriptors. */
int		 miglink_fd(const struct miglink *);
/*
 * 1 when miglink_recv can answer without waiting for the socket: a whole
 * frame (or a bad one) or TLS bytes are already buffered. Do not poll then:
 * the socket may never become readable again for them.
 */
int		 miglink_pending(const struct miglink *);

/*
 * Send one frame: the header is made here, the payload is len bytes (the
 * type's bounds, as wire_frame_peek checks them; a frame out of bounds is a
 * bug: fatalx). Blocking: all sent, or -1 and a cause (the link is then
 * dead). A small frame goes out as one TLS record and one system call; a
 * large payload is not copied. Not warn_unused_result: a last frame on
 * the way out (MIG_FAIL) may be sent blindly; a failure also shows in the
 * next miglink_recv.
 */
int		 miglink_send(struct miglink *, uint16_t type,
		    const void *payload, size_t len, char **cause);
/* Send bytes already framed (one or more frames from the encoders). */
int		 miglink_send_frames(struct miglink *, const void *frames,
		    size_t len, char **cause);

/*
 * Receive one whole frame, waiting at most timeout_ms (0: only what is
 * there already; -1: forever; EINTR does not end the wait). Returns 1 with
 * the header in *hdr and *payload pointing at hdr->len bytes (valid until
 * the next miglink_recv or miglink_free), 0 on timeout, -1 when the link
 * is closed or broken: the cause is "closed by peer", "connection lost:
 * ETIMEDOUT" (the errno's name), "TLS: <reason>" or "protocol: <what
 * wire_frame_peek refused>". After -1 every call fails.
 */
int		 miglink_recv(struct miglink *, int timeout_ms,
		    struct wire_hdr *hdr, const uint8_t **payload,
		    char **cause) __attribute__((warn_unused_result));

/* Send TLS close_notify (without waiting for the peer's), close, free. */
/*
 * Move the connection's descriptor to floor or above (a deputy keeps the
 * low numbers for the process's own): 0, or -1 with errno.
 */
int		 miglink_move_fd(struct miglink *, int floor);
/*
 * Does what we sent still wait for the peer's TCP acknowledgement? A
 * silent peer that has acknowledged everything is busy, not gone.
 */
int		 miglink_unacked(const struct miglink *);
void		 miglink_free(struct miglink *);
/*
 * Close our descriptor and free the memory, sending nothing: for a process
 * that inherited a link another process goes on using.
 */
void		 miglink_abandon(struct miglink *);

#endif
