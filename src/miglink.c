/* miglink.c: a blocking framed TLS connection for D and S (see miglink.h). */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/miglink.h"
#include "omm/migwire.h"
#include "omm/tls.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

/*
 * The read buffer: large enough for many small frames and an image chunk
 * per read; grown to the largest frame (a 300-block payload) on demand.
 */
#define RBUF_LEN	(256U << 10)
#define FRAME_MAX	(WIRE_HDR_LEN + (size_t)MARSHAL_MSG_MAX)
/* Grow the space after the data before a read when less than this is left. */
#define RBUF_ROOM_MIN	(32U << 10)
/* OpenSSL reads ahead this much per read(2): many records at once. */
#define TLS_READ_LEN	(128U << 10)
/* A TLS record's plaintext: a small frame fits one record and one send. */
#define RECORD_LEN	16384
/*
 * A large write gathers its records here and sends them together: one
 * send(2) per 16 KiB record would cost more than the encryption.
 */
#define OBUF_LEN	(256U << 10)
#define CORK_MIN	(4 * RECORD_LEN)

#if MIG_IMAGE_CHUNK > MARSHAL_MSG_MAX || WIRE_MAX_PAYLOAD > MARSHAL_MSG_MAX
#error "FRAME_MAX must bound every frame"
#endif

/*
 * Dead-peer detection: keepalive probes after 2 s idle, every 1 s, 3
 * unanswered end it; unacknowledged data ends it after 5 s.
 */
#define KEEPIDLE_S	2
#define KEEPINTVL_S	1
#define KEEPCNT		3
#define USER_TIMEOUT_MS	5000

struct miglink {
	int		 fd;
	SSL		*ssl;
	uint32_t	 peer;
	int		 dead;		/* a call failed: the stream is lost */
	int		 eof;		/* read(2) returned 0 */
	int		 io_errno;	/* errno of the last failed read or send */

	uint8_t		*rbuf;
	size_t		 rcap;
	size_t		 roff;		/* first byte not yet handed out */
	size_t		 rlen;		/* bytes received */

	uint8_t		 wbuf[RECORD_LEN];	/* a small frame, assembled */
	uint8_t		*obuf;		/* records of a large write, gathered */
	size_t		 olen;
	int		 corked;	/* gather into obuf */
};

static BIO_METHOD	*bio_meth;
static pthread_once_t	 bio_once = PTHREAD_ONCE_INIT;

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/*
 * Wait for events on fd until deadline (-1: none). 1 ready (or an error
 * condition, which the next I/O reports), 0 timed out, -1 poll failed.
 */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int64_t		left;
	int		rc;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0) {
			if (deadline >= 0 && now_ms() >= deadline)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * The socket under TLS. OpenSSL's socket BIO writes with write(2), which
 * raises SIGPIPE on a connection the peer reset; this one sends with
 * MSG_NOSIGNAL, and keeps the errno of a failure and the end of file for
 * the link's causes.
 */
/* Send all of p, waiting in poll(2): 0, or -1 with io_errno set. */
static int
send_all(struct miglink *l, const uint8_t *p, size_t n)
{
	struct pollfd	pfd = { .fd = l->fd, .events = POLLOUT };
	ssize_t		rc;

	while (n > 0) {
		if ((rc = send(l->fd, p, n, MSG_NOSIGNAL)) >= 0) {
			p += rc;
			n -= (size_t)rc;
			continue;
		}
		if (errno == EAGAIN) {
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR) {
				l->io_errno = errno;
				return -1;
			}
		} else if (errno != EINTR) {
			l->io_errno = errno;
			return -1;
		}
	}
	return 0;
}

static int
obuf_flush(struct miglink *l)
{
	int	rc;

	rc = send_all(l, l->obuf, l->olen);
	l->olen = 0;
	return rc;
}

static int
bio_write(BIO *b, const char *p, int n)
{
	struct miglink	*l = BIO_get_data(b);
	ssize_t		 rc;

	BIO_clear_retry_flags(b);
	if (l->corked) {
		if (l->olen + (size_t)n > OBUF_LEN && obuf_flush(l) != 0)
			return -1;
		if ((size_t)n > OBUF_LEN)
			return send_all(l, (const uint8_t *)p, (size_t)n) ==
			    0 ? n : -1;
		memcpy(l->obuf + l->olen, p, (size_t)n);
		l->olen += (size_t)n;
		return n;
	}
	rc = send(l->fd, p, (size_t)n, MSG_NOSIGNAL);
	if (rc >= 0)
		return (int)rc;
	if (errno == EAGAIN || errno == EINTR)
		BIO_set_retry_write(b);
	else
		l->io_errno = errno;
	return -1;
}

static int
bio_read(BIO *b, char *p, int n)
{
	struct miglink	*l = BIO_get_data(b);
	ssize_t		 rc;

	BIO_clear_retry_flags(b);
	rc = read(l->fd, p, (size_t)n);
	if (rc > 0)
		return (int)rc;
	if (rc == 0) {
		l->eof = 1;
		return 0;
	}
	if (errno == EAGAIN || errno == EINTR)
		BIO_set_retry_read(b);
	else
		l->io_errno = errno;
	return -1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct miglink	*l = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return l->eof;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = l->fd;
		return l->fd;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void
bio_meth_init(void)
{
	BIO_METHOD	*m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
	    BIO_TYPE_DESCRIPTOR, "omm miglink");
	if (m == NULL || !BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_read(m, bio_read) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) ||
	    !BIO_meth_set_create(m, bio_create))
		fatalx("%s: cannot make the BIO method", __func__);
	bio_meth = m;
}

/* The socket options of both ends (see miglink.h), and non-blocking. */
static int
sock_setup(int fd, char **cause)
{
	static const struct {
		int		 level, opt, val;
		const char	*name;
	} opts[] = {
		{ IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY" },
		{ SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
		{ IPPROTO_TCP, TCP_KEEPIDLE, KEEPIDLE_S, "TCP_KEEPIDLE" },
		{ IPPROTO_TCP, TCP_KEEPINTVL, KEEPINTVL_S, "TCP_KEEPINTVL" },
		{ IPPROTO_TCP, TCP_KEEPCNT, KEEPCNT, "TCP_KEEPCNT" },
		{ IPPROTO_TCP, TCP_USER_TIMEOUT, USER_TIMEOUT_MS,
		    "TCP_USER_TIMEOUT" },
	};
	size_t	i;
	int	fl;

	for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (setsockopt(fd, opts[i].level, opts[i].opt, &opts[i].val,
		    sizeof opts[i].val) == -1)
			return cause_set(cause, "setsockopt %s: %s",
			    opts[i].name, strerror(errno));
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return cause_set(cause, "fcntl: %s", strerror(errno));
	return 0;
}

static const char *
errno_name(int e)
{
	const char	*s = strerrorname_np(e);

	return s != NULL ? s : "unknown errno";
}

/*
 * Why an SSL call failed for good, in the words of miglink.h. Marks the
 * link dead: a TLS stream cannot resume after a failed record.
 */
static int
io_cause(struct miglink *l, int err, char **cause)
{
	char	*why = NULL;

	l->dead = 1;
	if (err == SSL_ERROR_ZERO_RETURN)
		return cause_set(cause, "closed by peer");
	if (l->io_errno != 0) {
		ERR_clear_error();
		return cause_set(cause, "connection lost: %s",
		    errno_name(l->io_errno));
	}
	/* An end of file without close_notify: the peer died or closed. */
	if (l->eof || err == SSL_ERROR_SYSCALL) {
		ERR_clear_error();
		return cause_set(cause, "closed by peer");
	}
	tls_fail_cause(l->ssl, &why);
	cause_set(cause, "TLS: %s", why != NULL ? why : "failed");
	free(why);
	return -1;
}

/*
 * After an SSL call asked for more I/O, wait for it. 1 go on, 0 deadline
 * passed, -1 failure (cause set).
 */
static int
ssl_wait(struct miglink *l, int err, int64_t deadline, char **cause)
{
	short	ev;
	int	rc;

	if (err == SSL_ERROR_WANT_READ)
		ev = POLLIN;
	else if (err == SSL_ERROR_WANT_WRITE)
		ev = POLLOUT;
	else
		return io_cause(l, err, cause);
	if ((rc = wait_fd(l->fd, ev, deadline)) == -1) {
		l->dead = 1;
		return cause_set(cause, "poll: %s", strerror(errno));
	}
	return rc;
}

static struct miglink *
link_new(SSL_CTX *ctx, int fd, char **cause)
{
	struct miglink	*l;
	BIO		*bio = NULL;
	SSL		*ssl;

	pthread_once(&bio_once, bio_meth_init);
	ERR_clear_error();
	if ((ssl = SSL_new(ctx)) == NULL || (bio = BIO_new(bio_meth)) == NULL) {
		tls_log_errors("miglink");
		SSL_free(ssl);
		cause_set(cause, "cannot make a TLS connection object");
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->fd = fd;
	l->ssl = ssl;
	l->rcap = RBUF_LEN;
	l->rbuf = xmalloc(l->rcap);
	BIO_set_data(bio, l);
	SSL_set_bio(ssl, bio, bio);
	/*
	 * Read ahead with a large buffer: one read(2) brings many records.
	 * Partial writes, so that a send can wait in poll(2) and go on.
	 */
	SSL_set_read_ahead(ssl, 1);
	SSL_set_default_read_buffer_len(ssl, TLS_READ_LEN);
	SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return l;
}

/* Free without a word to the peer. */
static void
link_drop(struct miglink *l)
{
	if (l == NULL)
		return;
	SSL_free(l->ssl);
	if (l->fd != -1)
		close(l->fd);
	free(l->rbuf);
	free(l->obuf);
	free(l);
}

static int
handshake(struct miglink *l, int64_t deadline, const char *who,
    char **cause)
{
	char	*why = NULL;
	int	 rc, err;

	for (;;) {
		ERR_clear_error();
		l->io_errno = 0;
		if ((rc = SSL_do_handshake(l->ssl)) == 1)
			break;
		err = SSL_get_error(l->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			rc = ssl_wait(l, err, deadline, &why);
			if (rc == 1)
				continue;
			if (rc == 0)
				return cause_set(cause, "TLS handshake with %s "
				    "timed out", who);
		} else if (err == SSL_ERROR_SSL) {
			tls_fail_cause(l->ssl, &why);
		} else
			io_cause(l, err, &why);
		cause_set(cause, "TLS handshake with %s: %s", who,
		    why != NULL ? why : "failed");
		free(why);
		return -1;
	}
	if ((l->peer = tls_peer_id(l->ssl)) == 0)
		return cause_set(cause, "%s: certificate without a node id",
		    who);
	return 0;
}

struct miglink *
miglink_connect(SSL_CTX *ctx, const struct sockaddr_in *to,
    uint32_t expect_node, int timeout_ms, char **cause)
{
	struct miglink	*l = NULL;
	int64_t		 deadline = deadline_of(timeout_ms);
	socklen_t	 slen = sizeof(int);
	char		 who[INET_ADDRSTRLEN + 8], ip[INET_ADDRSTRLEN];
	int		 fd, rc, soerr = 0;

	inet_ntop(AF_INET, &to->sin_addr, ip, sizeof ip);
	snprintf(who, sizeof who, "%s:%u", ip, ntohs(to->sin_port));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		cause_set(cause, "socket: %s", strerror(errno));
		return NULL;
	}
	if (sock_setup(fd, cause) != 0)
		goto fail;
	if (connect(fd, (const struct sockaddr *)to, sizeof *to) == -1 &&
	    errno != EINPROGRESS) {
		cause_set(cause, "connect to %s: %s", who, strerror(errno));
		goto fail;
	}
	if ((rc = wait_fd(fd, POLLOUT, deadline)) != 1) {
		cause_set(cause, "connect to %s: %s", who, rc == 0 ?
		    "timed out" : strerror(errno));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1)
		soerr = errno;
	if (soerr != 0) {
		cause_set(cause, "connect to %s: %s", who, strerror(soerr));
		goto fail;
	}
	if ((l = link_new(ctx, fd, cause)) == NULL)
		goto fail;
	fd = -1;
	SSL_set_connect_state(l->ssl);
	if (handshake(l, deadline, who, cause) != 0)
		goto fail;
	if (l->peer != expect_node) {
		cause_set(cause, "%s is node %u, expected node %u", who,
		    l->peer, expect_node);
		goto fail;
	}
	return l;

fail:
	if (fd != -1)
		close(fd);
	link_drop(l);
	return NULL;
}

struct miglink *
miglink_accept(SSL_CTX *ctx, int fd, int timeout_ms, char **cause)
{
	struct miglink		*l;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 slen = sizeof ss;
	int64_t			 deadline = deadline_of(timeout_ms);
	char			 who[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN];

	snprintf(who, sizeof who, "peer");
	if (getpeername(fd, (struct sockaddr *)&ss, &slen) == 0 &&
	    ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip) != NULL)
		snprintf(who, sizeof who, "%s:%u", ip, ntohs(sin->sin_port));
	if (sock_setup(fd, cause) != 0) {
		close(fd);
		return NULL;
	}
	if ((l = link_new(ctx, fd, cause)) == NULL) {
		close(fd);
		return NULL;
	}
	SSL_set_accept_state(l->ssl);
	if (handshake(l, deadline, who, cause) != 0) {
		link_drop(l);
		return NULL;
	}
	return l;
}

struct miglink *
miglink_accept_start(SSL_CTX *ctx, int fd, char **cause)
{
	struct miglink	*l;

	if (sock_setup(fd, cause) != 0) {
		close(fd);
		return NULL;
	}
	if ((l = link_new(ctx, fd, cause)) == NULL) {
		close(fd);
		return NULL;
	}
	SSL_set_accept_state(l->ssl);
	return l;
}

int
miglink_accept_step(struct miglink *l, short *want, char **cause)
{
	char	*why = NULL;
	int	 rc, err;

	ERR_clear_error();
	l->io_errno = 0;
	if ((rc = SSL_do_handshake(l->ssl)) == 1) {
		if ((l->peer = tls_peer_id(l->ssl)) == 0)
			return cause_set(cause, "certificate without a node "
			    "id");
		return 1;
	}
	err = SSL_get_error(l->ssl, rc);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		*want = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return 0;
	}
	if (err == SSL_ERROR_SSL)
		tls_fail_cause(l->ssl, &why);
	else
		io_cause(l, err, &why);
	l->dead = 1;
	cause_set(cause, "TLS handshake: %s", why != NULL ? why : "failed");
	free(why);
	return -1;
}

uint32_t
miglink_peer(const struct miglink *l)
{
	return l->peer;
}

int
miglink_fd(const struct miglink *l)
{
	return l->fd;
}

int
miglink_pending(const struct miglink *l)
{
	struct wire_hdr	h;
	size_t		flen;

	if (l->dead)
		return 1;		/* recv answers at once */
	if (wire_frame_peek(l->rbuf + l->roff, l->rlen - l->roff, &h, &flen,
	    NULL) != 0)
		return 1;
	return SSL_has_pending(l->ssl);
}

/* Write all of p, waiting as long as it takes (TCP's timeout bounds it). */
static int
write_all(struct miglink *l, const void *p, size_t n, char **cause)
{
	const uint8_t	*s = p;
	int		 rc, err;

	if (l->dead)
		return cause_set(cause, "link already failed");
	if (n >= CORK_MIN) {
		if (l->obuf == NULL)
			l->obuf = xmalloc(OBUF_LEN);
		l->corked = 1;
	}
	l->io_errno = 0;
	while (n > 0) {
		ERR_clear_error();
		rc = SSL_write(l->ssl, s, n > INT_MAX ? INT_MAX : (int)n);
		if (rc > 0) {
			s += rc;
			n -= (size_t)rc;
			continue;
		}
		err = SSL_get_error(l->ssl, rc);
		if (ssl_wait(l, err, -1, cause) != 1) {
			l->corked = 0;
			return -1;
		}
	}
	if (l->corked) {
		l->corked = 0;
		if (obuf_flush(l) != 0)
			return io_cause(l, SSL_ERROR_SYSCALL, cause);
	}
	return 0;
}

int
miglink_send(struct miglink *l, uint16_t type, const void *payload,
    size_t len, char **cause)
{
	struct wire_hdr	 h;
	size_t		 flen, first;
	char		*why = NULL;

	if (len > FRAME_MAX - WIRE_HDR_LEN)
		fatalx("%s: %s of %zu bytes", __func__, wire_type_name(type),
		    len);
	wire_hdr_put(l->wbuf, type, (uint32_t)len);
	if (wire_frame_peek(l->wbuf, WIRE_HDR_LEN, &h, &flen, &why) == -1)
		fatalx("%s: %s", __func__, why);
	/*
	 * The header and the start of the payload make one record, so a
	 * small frame is one record and one send; the rest of a large one
	 * is encrypted straight from the caller's memory.
	 */
	first = len < RECORD_LEN - WIRE_HDR_LEN ? len : RECORD_LEN -
	    WIRE_HDR_LEN;
	if (first > 0)
		memcpy(l->wbuf + WIRE_HDR_LEN, payload, first);
	if (write_all(l, l->wbuf, WIRE_HDR_LEN + first, cause) != 0)
		return -1;
	if (len > first)
		return write_all(l, (const uint8_t *)payload + first,
		    len - first, cause);
	return 0;
}

int
miglink_send_frames(struct miglink *l, const void *frames, size_t len,
    char **cause)
{
	return write_all(l, frames, len, cause);
}

/*
 * Make room after the received bytes for at least need bytes of the frame
 * being assembled (need counts from roff). Moves the unread bytes to the
 * start when the tail is short, grows the buffer for a frame larger than
 * it (FRAME_MAX at most, checked by the frame's header).
 */
static void
rbuf_room(struct miglink *l, size_t need)
{
	size_t	have = l->rlen - l->roff, want;

	if (have == 0)
		l->roff = l->rlen = 0;
	want = need > have + RBUF_ROOM_MIN ? need : have + RBUF_ROOM_MIN;
	if (l->rcap - l->roff >= want)
		return;
	if (l->roff > 0) {
		memmove(l->rbuf, l->rbuf + l->roff, have);
		l->roff = 0;
		l->rlen = have;
	}
	if (l->rcap < want) {
		l->rcap = want > RBUF_LEN ? want : RBUF_LEN;
		l->rbuf = xreallocarray(l->rbuf, 1, l->rcap);
	}
}

int
miglink_recv(struct miglink *l, int timeout_ms, struct wire_hdr *hdr,
    const uint8_t **payload, char **cause)
{
	int64_t		 deadline = deadline_of(timeout_ms);
	size_t		 flen, need, room;
	char		*why = NULL;
	int		 rc, err, wait_first;

	if (l->dead)
		return cause_set(cause, "link already failed");
	wait_first = !SSL_has_pending(l->ssl);
	for (;;) {
		rc = wire_frame_peek(l->rbuf + l->roff, l->rlen - l->roff, hdr,
		    &flen, &why);
		if (rc == 1) {
			*payload = l->rbuf + l->roff + WIRE_HDR_LEN;
			l->roff += flen;
			return 1;
		}
		if (rc == -1) {
			l->dead = 1;
			cause_set(cause, "protocol: %s", why);
			free(why);
			return -1;
		}
		need = l->rlen - l->roff < WIRE_HDR_LEN ? WIRE_HDR_LEN :
		    WIRE_HDR_LEN + (size_t)hdr->len;
		rbuf_room(l, need);

		/*
		 * Poll first when TLS holds nothing: a read that would block
		 * costs a system call for nothing.
		 */
		if (wait_first) {
			if ((rc = wait_fd(l->fd, POLLIN, deadline)) == 0)
				return 0;
			if (rc == -1) {
				l->dead = 1;
				return cause_set(cause, "poll: %s",
				    strerror(errno));
			}
		}
		room = l->rcap - l->rlen;
		ERR_clear_error();
		l->io_errno = 0;
		rc = SSL_read(l->ssl, l->rbuf + l->rlen,
		    room > INT_MAX ? INT_MAX : (int)room);
		if (rc > 0) {
			l->rlen += (size_t)rc;
			wait_first = !SSL_has_pending(l->ssl);
			continue;
		}
		err = SSL_get_error(l->ssl, rc);
		if (err == SSL_ERROR_WANT_READ) {
			wait_first = 1;
			continue;
		}
		/* TLS 1.3 may have to write (a key update) to read on. */
		if ((rc = ssl_wait(l, err, deadline, cause)) != 1)
			return rc;
		wait_first = 0;
	}
}

void
miglink_free(struct miglink *l)
{
	if (l == NULL)
		return;
	/* One try: a peer that does not read does not hold us up. */
	if (!l->dead) {
		ERR_clear_error();
		SSL_shutdown(l->ssl);
	}
	ERR_clear_error();
	link_drop(l);
}

void
miglink_abandon(struct miglink *l)
{
	if (l == NULL)
		return;
	/* SSL_free sends nothing unless SSL_shutdown was called. */
	link_drop(l);
}

int
miglink_move_fd(struct miglink *l, int floor)
{
	int	nfd;

	if (l->fd >= floor)
		return 0;
	if ((nfd = fcntl(l->fd, F_DUPFD_CLOEXEC, floor)) == -1)
		return -1;
	close(l->fd);
	l->fd = nfd;
	return 0;
}

int
miglink_unacked(const struct miglink *l)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(l->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return 0;
	return ti.tcpi_unacked > 0;
}
