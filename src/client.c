/* client.c: connect to ommd, send a request, read checked replies. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/config.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

struct client {
	int	 sock;
	char	*path;
	uint8_t	*rbuf;		/* PROTO_MSG_MAX bytes; replies point into it */
	int	 rfd;		/* descriptor of the last reply, closed on the next */
};

const char *
client_socket_path(const char *opt)
{
	const char	*env;

	if (opt != NULL)
		return opt;
	if ((env = getenv("OMM_SOCKET")) != NULL && *env != '\0')
		return env;
	return OMM_SOCK_PATH;
}

static int
unreachable(char **cause, const char *path, const char *why)
{
	return cause_set(cause, "cannot reach ommd at %s: %s. Is ommd running? "
	    "Start it with 'systemctl start ommd' or 'ommd --foreground'.",
	    path, why);
}

struct client *
client_open(const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	struct client		*c;
	int			 s;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		unreachable(cause, path, "socket path too long");
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1) {
		cause_set(cause, "socket: %s", strerror(errno));
		return NULL;
	}
	while (connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		unreachable(cause, path, strerror(errno));
		close(s);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->sock = s;
	c->path = xstrdup(path);
	c->rbuf = xmalloc(PROTO_MSG_MAX);
	c->rfd = -1;
	return c;
}

void
client_close(struct client *c)
{
	if (c == NULL)
		return;
	if (c->rfd != -1)
		close(c->rfd);
	close(c->sock);
	free(c->path);
	free(c->rbuf);
	free(c);
}

int
client_fd(const struct client *c)
{
	return c->sock;
}

int
client_send(struct client *c, const struct buf *msg, int fd, char **cause)
{
	char	*why = NULL;

	struct proto_msg	 m;
	struct msg_error	 err;
	int			 saved;

	if (proto_send(c->sock, msg, fd, &why) != 0) {
		saved = errno;
		/*
		 * ommd refuses a connection over its limits with an ERROR
		 * that says why, then closes it: that reason, not EPIPE.
		 */
		if ((saved == EPIPE || saved == ECONNRESET) &&
		    proto_recv(c->sock, c->rbuf, PROTO_MSG_MAX, &m, NULL) > 0 &&
		    m.fd == -1 && m.hdr.type == MSG_ERROR &&
		    proto_decode_error(&m, &err, NULL) == 0) {
			cause_set(cause, "ommd at %s: %s", c->path, err.cause);
			proto_free_error(&err);
		} else
			cause_set(cause, "ommd at %s: %s", c->path, why);
		free(why);
		return -1;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the socket is readable; a signal does not shorten the wait. */
static int
wait_readable(struct client *c, int timeout_ms, char **cause)
{
	struct pollfd	pfd = { .fd = c->sock, .events = POLLIN };
	int64_t		deadline = now_ms() + timeout_ms;
	int		left, n;

	for (;;) {
		left = -1;
		if (timeout_ms >= 0) {
			int64_t	d = deadline - now_ms();

			left = d < 0 ? 0 : (int)d;
		}
		n = poll(&pfd, 1, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return cause_set(cause, "poll: %s", strerror(errno));
		if (n == 0)
			return cause_set(cause, "ommd at %s did not answer "
			    "within %d s", c->path, timeout_ms / 1000);
		return 0;
	}
}

int
client_recv(struct client *c, const uint16_t *want, struct proto_msg *m,
    int timeout_ms, char **cause)
{
	struct msg_error	 err;
	char			*why = NULL;
	const uint16_t		*w;
	int			 n;

	if (c->rfd != -1) {
		close(c->rfd);
		c->rfd = -1;
	}
	if (wait_readable(c, timeout_ms, cause) != 0)
		return -1;
	n = proto_recv(c->sock, c->rbuf, PROTO_MSG_MAX, m, &why);
	if (n == 0)
		return cause_set(cause, "ommd at %s closed the connection",
		    c->path);
	if (n == -1)
		goto bad;
	c->rfd = m->fd;
	if (proto_check_version(&m->hdr, "this client", &why) != 0 ||
	    proto_check_type(m, &why) != 0)
		goto bad;
	if (m->hdr.type == MSG_ERROR) {
		if (proto_decode_error(m, &err, &why) != 0)
			goto bad;
		cause_set(cause, "%s", err.cause);
		proto_free_error(&err);
		return -1;
	}
	for (w = want; *w != 0; w++) {
		if (*w == m->hdr.type)
			return 0;
	}
	cause_set(&why, "unexpected %s reply", proto_type_name(m->hdr.type));

bad:
	cause_set(cause, "bad reply from ommd at %s: %s", c->path, why);
	free(why);
	return -1;
}
