/*
 * client.h: the client side of ommd's control socket, for omrun and omctl.
 *
 * A client sends one request and reads the replies; every reply is checked
 * for version, type and descriptor before the caller sees it, and an ERROR
 * reply becomes the caller's cause. Nothing here prints: the programs do,
 * once, with their own name in front.
 */
#ifndef OMM_CLIENT_H
#define OMM_CLIENT_H

#include <stdint.h>

#include "omm/proto.h"

/* How long a client waits for a quick reply (PS, MANAGE, PERIODIC). */
#define CLIENT_TIMEOUT_MS	(30 * 1000)
/* A checkpoint or restore of a large process takes a while; never forever. */
#define CLIENT_LONG_TIMEOUT_MS	(30 * 60 * 1000)

struct client;

/* The socket path: opt if given, else $OMM_SOCKET, else OMM_SOCK_PATH. */
const char	*client_socket_path(const char *opt);

/*
 * Connect to ommd at path. The cause says what to do about it:
 * "cannot reach ommd at PATH: REASON. Is ommd running? Start it with ..."
 */
struct client	*client_open(const char *path, char **cause)
		    __attribute__((warn_unused_result));
void		 client_close(struct client *);
/* The socket, so that a forked child can close it. */
int		 client_fd(const struct client *);

/* Send one message with fd (or -1) attached. */
int	client_send(struct client *, const struct buf *, int fd, char **cause)
	    __attribute__((warn_unused_result));
/*
 * Receive one reply within timeout_ms (-1: no limit). The reply is valid
 * until the next receive. An ERROR reply fails with its text as the cause;
 * a reply of a type not in want (a zero-terminated list) fails too.
 */
int	client_recv(struct client *, const uint16_t *want, struct proto_msg *,
	    int timeout_ms, char **cause) __attribute__((warn_unused_result));

#endif
