/*
 * sdnotify.h: telling the service manager how ommd is doing, the
 * NOTIFY_SOCKET protocol of sd_notify(3) without libsystemd: one datagram
 * of "KEY=VALUE" lines to the AF_UNIX socket named in $NOTIFY_SOCKET (a
 * path, or "@name" for the abstract namespace). systemd documents the
 * protocol as stable for anyone to speak (its "interface portability and
 * stability" promise), and it is a dozen lines: not worth a library.
 */
#ifndef OMM_SDNOTIFY_H
#define OMM_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

/*
 * The address $NOTIFY_SOCKET names: 0 and *sun, *len; -1 with a cause for
 * an empty, relative, over-long or vsock ("vsock:") one, which ommd does
 * not speak.
 */
int	sdnotify_addr(const char *env, struct sockaddr_un *sun,
	    socklen_t *len, char **cause) __attribute__((warn_unused_result));

/*
 * Send state ("READY=1", "STOPPING=1", "RELOADING=1", "STATUS=...", lines
 * joined by '\n') when $NOTIFY_SOCKET is set: 1 when sent, 0 when there is
 * no service manager to tell, -1 with a cause.
 */
int	sdnotify_send(const char *state, char **cause);

/* sdnotify_send, a failure logged: for the daemon's call sites. */
void	sdnotify(const char *state);

#endif
