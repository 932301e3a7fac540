/*
 * migrate-link: what the link between two nodes gives a migration, measured
 * in the same run as the migration itself (bench/migrate.sh), so that its
 * figures can be ratios.
 *
 *	migrate-link tls-serve PORT
 *	migrate-link tls-send ADDR PORT NODE MiB [pings]
 *	migrate-link tcp-serve PORT
 *	migrate-link tcp-ping ADDR PORT count
 *
 * tls-serve and tls-send use the node's own identity (/etc/omm/ca.crt,
 * ca.crl, node.crt, node.key: run them inside the nodes) and src/miglink.c,
 * the code a migration connection runs on: the sender streams MiB of
 * MIG_IMAGE frames of MIG_IMAGE_CHUNK bytes, then MIG_IMAGE_END; the
 * server answers with one PING once it has every byte. The time runs from
 * the first frame sent to that PING received, the handshake excluded (a
 * migration shakes hands before it freezes the process). Then [pings] PING
 * round trips on the same connection (one small TLS record each way).
 * Prints "tls MiB: S s, G GB/s" and "tls-ping: median M us, p99 P us".
 *
 * tcp-serve echoes one 64-byte message at a time (TCP_NODELAY); tcp-ping
 * times count round trips: "tcp-ping: median M us, p99 P us" (one TCP
 * round trip on the link: half the floor under a forwarded call).
 *
 * Each server serves one client and exits. GB = 1e9 bytes.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/log.h"
#include "omm/miglink.h"
#include "omm/migwire.h"
#include "omm/tls.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

#define PING_LEN	64		/* about a forwarded getppid's request */
#define CONNECT_TRIES	50		/* 100 ms apart: the server may be starting */

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median and p99 of n samples in seconds, printed in us. */
static void
print_stats(const char *what, double *s, size_t n)
{
	qsort(s, n, sizeof *s, cmp_double);
	printf("%s: median %.1f us, p99 %.1f us (%zu round trips)\n", what,
	    s[n / 2] * 1e6, s[n * 99 / 100] * 1e6, n);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: migrate-link tls-serve PORT\n"
	    "       migrate-link tls-send ADDR PORT NODE MiB [pings]\n"
	    "       migrate-link tcp-serve PORT\n"
	    "       migrate-link tcp-ping ADDR PORT count\n");
	exit(2);
}

static unsigned long
number(const char *s, unsigned long max)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v == 0 || v > max)
		fatalx("bad number '%s' (1 to %lu)", s, max);
	return v;
}

static void
addr_of(const char *ip, const char *port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)number(port, 65535));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		fatalx("bad address '%s'", ip);
}

static SSL_CTX *
node_ctx(void)
{
	struct tls_files	 f = { "/etc/omm/ca.crt", "/etc/omm/ca.crl",
				    "/etc/omm/node.crt", "/etc/omm/node.key" };
	SSL_CTX			*ctx;
	char			*cause = NULL;

	if ((ctx = tls_ctx_new(&f, &cause)) == NULL)
		fatalx("%s", cause);
	return ctx;
}

/* Listen on PORT (any address), accept one connection. */
static int
accept_one(const char *port)
{
	struct sockaddr_in	sin;
	int			s, c, one = 1;

	addr_of("0.0.0.0", port, &sin);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1)
		fatal("bind port %s", port);
	if (listen(s, 1) == -1)
		fatal("listen");
	if ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) == -1)
		fatal("accept");
	close(s);
	return c;
}

static int
tls_serve(int argc, char **argv)
{
	SSL_CTX			*ctx;
	struct miglink		*l;
	struct wire_hdr		 h;
	const uint8_t		*pl;
	char			*cause = NULL;
	uint64_t		 got = 0;
	int			 rc;

	if (argc != 3)
		usage();
	ctx = node_ctx();
	if ((l = miglink_accept(ctx, accept_one(argv[2]), 5000, &cause)) == NULL)
		fatalx("%s", cause);
	while ((rc = miglink_recv(l, 30000, &h, &pl, &cause)) == 1) {
		if (h.type == WIRE_MIG_IMAGE)
			got += h.len;
		else if (h.type == WIRE_MIG_IMAGE_END || h.type == WIRE_PING) {
			if (miglink_send(l, WIRE_PING, NULL, 0, &cause) == -1)
				fatalx("%s", cause);
		} else
			fatalx("unexpected %s", wire_type_name(h.type));
	}
	/* the sender closing is the normal end */
	if (rc == 0)
		fatalx("timed out");
	miglink_free(l);
	SSL_CTX_free(ctx);
	printf("tls-serve: %llu bytes received\n", (unsigned long long)got);
	return 0;
}

static struct miglink *
tls_dial(SSL_CTX *ctx, const struct sockaddr_in *to, uint32_t node)
{
	struct miglink	*l;
	char		*cause = NULL;
	int		 i;

	for (i = 0; i < CONNECT_TRIES; i++) {
		free(cause);
		cause = NULL;
		if ((l = miglink_connect(ctx, to, node, 2000, &cause)) != NULL)
			return l;
		usleep(100 * 1000);
	}
	fatalx("%s", cause);
}

/* Wait for the server's PING; fatal on anything else. */
static void
await_ping(struct miglink *l)
{
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;

	if (miglink_recv(l, 30000, &h, &pl, &cause) != 1)
		fatalx("waiting for the server: %s", cause != NULL ? cause :
		    "timed out");
	if (h.type != WIRE_PING)
		fatalx("unexpected %s", wire_type_name(h.type));
}

static int
tls_send(int argc, char **argv)
{
	struct sockaddr_in	 to;
	struct mig_image_end	 end;
	struct miglink		*l;
	struct buf		 b;
	SSL_CTX			*ctx;
	uint8_t			*chunk;
	char			*cause = NULL;
	uint64_t		 len, sent;
	size_t			 n, npings = 0, i;
	double			 t, *rt;

	if (argc != 6 && argc != 7)
		usage();
	addr_of(argv[2], argv[3], &to);
	len = (uint64_t)number(argv[5], 1 << 16) << 20;
	if (argc == 7)
		npings = number(argv[6], 1000000);
	ctx = node_ctx();
	l = tls_dial(ctx, &to, (uint32_t)number(argv[4], UINT32_MAX));

	chunk = xmalloc(MIG_IMAGE_CHUNK);
	for (i = 0; i < MIG_IMAGE_CHUNK; i++)
		chunk[i] = (uint8_t)(i * 131 + 7);	/* not all zero */
	t = now();
	for (sent = 0; sent < len; sent += n) {
		n = len - sent < MIG_IMAGE_CHUNK ? len - sent : MIG_IMAGE_CHUNK;
		if (miglink_send(l, WIRE_MIG_IMAGE, chunk, n, &cause) == -1)
			fatalx("%s", cause);
	}
	buf_init(&b);
	end.total_bytes = len;
	migwire_encode_image_end(&b, &end);
	if (miglink_send_frames(l, b.data, b.len, &cause) == -1)
		fatalx("%s", cause);
	buf_free(&b);
	await_ping(l);
	t = now() - t;
	printf("tls %llu MiB: %.3f s, %.2f GB/s\n",
	    (unsigned long long)(len >> 20), t, len / t / 1e9);

	if (npings > 0) {
		rt = xcalloc(npings, sizeof *rt);
		for (i = 0; i < npings; i++) {
			t = now();
			if (miglink_send(l, WIRE_PING, NULL, 0, &cause) == -1)
				fatalx("%s", cause);
			await_ping(l);
			rt[i] = now() - t;
		}
		print_stats("tls-ping", rt, npings);
		free(rt);
	}
	free(chunk);
	miglink_free(l);
	SSL_CTX_free(ctx);
	return 0;
}

/* Exactly n bytes, or fatal. */
static void
xfer(int fd, void *p, size_t n, int out)
{
	ssize_t	r;
	size_t	done;

	for (done = 0; done < n; done += (size_t)r) {
		r = out ? send(fd, (char *)p + done, n - done, MSG_NOSIGNAL) :
		    recv(fd, (char *)p + done, n - done, 0);
		if (r == -1 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r == -1)
			fatal("%s", out ? "send" : "recv");
		if (r == 0)
			fatalx("connection closed");
	}
}

static int
tcp_serve(int argc, char **argv)
{
	uint8_t	msg[PING_LEN];
	ssize_t	r;
	size_t	n = 0;
	int	c, one = 1;

	if (argc != 3)
		usage();
	c = accept_one(argv[2]);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (;;) {
		/* the first byte may be EOF: the client is done */
		if ((r = recv(c, msg, 1, 0)) == 0)
			break;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			fatal("recv");
		xfer(c, msg + 1, sizeof msg - 1, 0);
		xfer(c, msg, sizeof msg, 1);
		n++;
	}
	close(c);
	printf("tcp-serve: %zu messages echoed\n", n);
	return 0;
}

static int
tcp_ping(int argc, char **argv)
{
	struct sockaddr_in	 to;
	uint8_t			 msg[PING_LEN];
	size_t			 n, i;
	double			 t, *rt;
	int			 s = -1, one = 1;

	if (argc != 5)
		usage();
	addr_of(argv[2], argv[3], &to);
	n = number(argv[4], 10000000);
	for (i = 0; i < CONNECT_TRIES; i++) {
		if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			fatal("socket");
		if (connect(s, (struct sockaddr *)&to, sizeof to) == 0)
			break;
		close(s);
		s = -1;
		usleep(100 * 1000);
	}
	if (s == -1)
		fatal("connect %s:%s", argv[2], argv[3]);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(msg, 0x42, sizeof msg);
	rt = xcalloc(n, sizeof *rt);
	for (i = 0; i < n; i++) {
		t = now();
		xfer(s, msg, sizeof msg, 1);
		xfer(s, msg, sizeof msg, 0);
		rt[i] = now() - t;
	}
	close(s);
	print_stats("tcp-ping", rt, n);
	free(rt);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} modes[] = {
		{ "tls-serve", tls_serve },
		{ "tls-send", tls_send },
		{ "tcp-serve", tcp_serve },
		{ "tcp-ping", tcp_ping },
	};
	size_t	i;

	log_init("migrate-link", LOG_TO_STDERR, 0);
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(argv[1], modes[i].name) == 0)
			return modes[i].fn(argc, argv);
	}
	usage();
}
