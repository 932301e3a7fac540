/*
 * control.h: ommd's control socket, an AF_UNIX SOCK_SEQPACKET socket that
 * everyone may connect to; each request is authorised by the connection's
 * SO_PEERCRED (request.c).
 */
#ifndef OMMD_CONTROL_H
#define OMMD_CONTROL_H

#include <sys/types.h>

#include <stdint.h>

struct buf;
struct event_base;

struct ctl_peer {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
};

struct ctl_conn;

/*
 * Create the socket at path: its directory (0755) if missing, refusing if
 * another ommd answers there, replacing a stale socket. Returns the
 * listening descriptor.
 */
int	control_listen(const char *path, char **cause)
	    __attribute__((warn_unused_result));
void	control_start(struct event_base *, int fd, const char *path);
/*
 * Connections a user other than root may hold, all such users together,
 * and the seconds one may sit idle with no request in progress (ommd.conf
 * control_per_user, control_max, control_idle_s). Before or after start.
 */
void	control_set_limits(uint32_t per_user, uint32_t max, uint32_t idle_s);
/* Close every connection and the socket, and remove it. */
void	control_shutdown(void);

const struct ctl_peer *control_peer(const struct ctl_conn *);
/* Queue one encoded message for the peer; the buf is emptied. */
void	control_send(struct ctl_conn *, struct buf *);
void	control_send_error(struct ctl_conn *, const char *cause);
/* A connection's id, and the connection of an id (NULL: closed since). */
uint64_t	 control_id(const struct ctl_conn *);
struct ctl_conn	*control_lookup(uint64_t id);

#endif
