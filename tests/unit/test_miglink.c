/*
 * test_miglink.c: the blocking migration link over real TLS on loopback
 * TCP, with certificates ca.c issues in a temporary directory. The test
 * process is the server (miglink_accept); each case forks a client
 * (miglink_connect) that checks its side itself and reports by exit code,
 * never through CMocka (a forked copy of the runner must not go on).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/buf.h"
#include "omm/ca.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/miglink.h"
#include "omm/migwire.h"
#include "omm/tls.h"
#include "omm/wire.h"

#define TMO	5000		/* ms: every wait in a case that should not wait */
#define NSMALL	500		/* small frames in one batch */

static char	 tmpdir[] = "/tmp/omm-test-miglink.XXXXXX";
static SSL_CTX	*ctx1, *ctx2;	/* node1 (id 1) and node2 (id 2) */

static char *
path(const char *node, const char *file)
{
	static char	buf[8][512];
	static int	n;
	char		*p = buf[n++ % 8];

	snprintf(p, sizeof buf[0], "%s/%s%s%s", tmpdir, node,
	    file ? "/" : "", file ? file : "");
	return p;
}

static SSL_CTX *
ctx_of(const char *node)
{
	struct tls_files	 tf = {
		.ca = path("ca", "ca.crt"), .crl = path("ca", "ca.crl"),
		.cert = path(node, "node.crt"), .key = path(node, "node.key"),
	};
	SSL_CTX			*ctx;
	char			*cause = NULL;

	if ((ctx = tls_ctx_new(&tf, &cause)) == NULL)
		fail_msg("tls_ctx_new %s: %s", node, cause);
	return ctx;
}

/*
 * A revoked node's own context: tls_ctx_new refuses to build it, so it is
 * made by hand, trusting the CA, as a node that has not heard it is out.
 */
static SSL_CTX *
ctx_revoked(void)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_method());

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_file(ctx, path("node3", "node.crt"),
	    SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, path("node3", "node.key"),
	    SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_file(ctx, path("ca", "ca.crt")) != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void
must(int rc, char *cause)
{
	if (rc != 0)
		fail_msg("setup: %s", cause ? cause : "?");
}

static int
setup(void **state)
{
	char	*cause = NULL;

	log_init("test_miglink", LOG_TO_STDERR, 0);
	signal(SIGPIPE, SIG_DFL);	/* the link must not need SIG_IGN */
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	must(ca_init(path("ca", NULL), CA_DEFAULT_NAME, 30, &cause), cause);
	must(ca_issue(path("ca", NULL), "node1", 1, path("node1", NULL), 10,
	    &cause), cause);
	must(ca_issue(path("ca", NULL), "node2", 2, path("node2", NULL), 10,
	    &cause), cause);
	must(ca_issue(path("ca", NULL), "node3", 3, path("node3", NULL), 10,
	    &cause), cause);
	must(ca_revoke(path("ca", NULL), path("node3", "node.crt"), &cause),
	    cause);
	ctx1 = ctx_of("node1");
	ctx2 = ctx_of("node2");
	return 0;
}

static int
teardown(void **state)
{
	SSL_CTX_free(ctx1);
	SSL_CTX_free(ctx2);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the two ends ---- */

struct srv {
	int			lfd;
	struct sockaddr_in	addr;
	pid_t			child;
};

typedef int	client_fn(const struct sockaddr_in *);

/* Listen on 127.0.0.1, port 0, and fork the client. */
static void
srv_start(struct srv *s, client_fn *client)
{
	socklen_t	len = sizeof s->addr;

	memset(&s->addr, 0, sizeof s->addr);
	s->addr.sin_family = AF_INET;
	s->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((s->lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&s->addr,
	    sizeof s->addr), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&s->addr,
	    &len), 0);
	fflush(NULL);
	assert_true((s->child = fork()) != -1);
	if (s->child == 0) {
		close(s->lfd);
		_exit(client(&s->addr));
	}
}

static struct miglink *
srv_accept(struct srv *s, char **cause)
{
	int	fd;

	assert_true((fd = accept(s->lfd, NULL, NULL)) != -1);
	return miglink_accept(ctx2, fd, TMO, cause);
}

/* The client's verdict: its exit code names the check that failed. */
static void
srv_end(struct srv *s)
{
	int	st;

	close(s->lfd);
	assert_int_equal(waitpid(s->child, &st, 0), s->child);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("client failed: status 0x%x (exit %d)", st,
		    WEXITSTATUS(st));
}

static struct miglink *
cli_connect(const struct sockaddr_in *to, uint32_t node)
{
	char		*cause = NULL;
	struct miglink	*l;

	if ((l = miglink_connect(ctx1, to, node, TMO, &cause)) == NULL)
		fprintf(stderr, "client: connect: %s\n", cause);
	return l;
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t	i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

/* ---- frames both ways ---- */

/*
 * Client: a batch of small frames in one send, each echoed; then a 300-block
 * frame of the block's maximum and an image chunk, each echoed and checked;
 * then a clean close.
 */
static int
echo_client(const struct sockaddr_in *to)
{
	struct miglink		*l;
	struct guest_signal	 gs;
	struct mig_msg		 m;
	struct wire_hdr		 h;
	struct buf		 b;
	const uint8_t		*pl;
	uint8_t			*big;
	char			*cause = NULL;
	size_t			 i;

	if ((l = cli_connect(to, 2)) == NULL)
		return 10;
	if (miglink_peer(l) != 2)
		return 11;
	buf_init(&b);
	for (i = 0; i < NSMALL; i++) {
		if (i % 2) {
			wire_encode_raw(&b, WIRE_PING, NULL, 0);
			continue;
		}
		memset(&gs, 0, sizeof gs);
		gs.signo = 1 + (int)(i % 64);
		gs.value = i;
		migwire_encode_signal(&b, &gs);
	}
	if (miglink_send_frames(l, b.data, b.len, &cause) != 0)
		return 12;
	for (i = 0; i < NSMALL; i++) {
		if (miglink_recv(l, TMO, &h, &pl, &cause) != 1)
			return 13;
		if (i % 2) {
			if (h.type != WIRE_PING || h.len != 0)
				return 14;
			continue;
		}
		if (migwire_decode(&h, pl, &m, &cause) != 0 ||
		    h.type != WIRE_GUEST_SIGNAL || m.signal.value != i ||
		    m.signal.signo != 1 + (int)(i % 64))
			return 15;
	}
	if (miglink_pending(l))
		return 16;		/* nothing more was sent */

	big = malloc(MARSHAL_MSG_MAX);
	fill(big, MARSHAL_MSG_MAX, 1);
	if (miglink_send(l, MARSHAL_SYSCALL_REQ, big, MARSHAL_MSG_MAX,
	    &cause) != 0)
		return 17;
	if (miglink_recv(l, TMO, &h, &pl, &cause) != 1 ||
	    h.type != MARSHAL_SYSCALL_REQ || h.len != MARSHAL_MSG_MAX ||
	    memcmp(pl, big, MARSHAL_MSG_MAX) != 0)
		return 18;
	fill(big, MIG_IMAGE_CHUNK, 2);
	if (miglink_send(l, WIRE_MIG_IMAGE, big, MIG_IMAGE_CHUNK, &cause) != 0)
		return 19;
	if (miglink_recv(l, TMO, &h, &pl, &cause) != 1 ||
	    h.type != WIRE_MIG_IMAGE || h.len != MIG_IMAGE_CHUNK ||
	    memcmp(pl, big, MIG_IMAGE_CHUNK) != 0)
		return 20;
	free(big);
	buf_free(&b);
	miglink_free(l);
	return 0;
}

static void
test_echo(void **state)
{
	struct srv	 s;
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;
	size_t		 n = 0, pending = 0;
	int		 rc;

	srv_start(&s, echo_client);
	if ((l = srv_accept(&s, &cause)) == NULL)
		fail_msg("accept: %s", cause);
	assert_int_equal(miglink_peer(l), 1);
	for (;;) {
		if ((rc = miglink_recv(l, TMO, &h, &pl, &cause)) != 1)
			break;
		n++;
		/* Small frames come many to a read. */
		if (miglink_pending(l))
			pending++;
		if (miglink_send(l, h.type, pl, h.len, &cause) != 0)
			fail_msg("echo: %s", cause);
	}
	assert_int_equal(rc, -1);
	assert_string_equal(cause, "closed by peer");
	assert_int_equal(n, NSMALL + 2);
	assert_true(pending > NSMALL / 2);
	free(cause);
	cause = NULL;
	/* Dead now, and says so. */
	assert_int_equal(miglink_recv(l, 0, &h, &pl, &cause), -1);
	free(cause);
	miglink_free(l);
	srv_end(&s);
}

/* ---- time: a recv that times out, then a peer that dies ---- */

static int
slow_client(const struct sockaddr_in *to)
{
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;

	if ((l = cli_connect(to, 2)) == NULL)
		return 10;
	usleep(400 * 1000);
	if (miglink_send(l, WIRE_PING, NULL, 0, &cause) != 0)
		return 11;
	if (miglink_recv(l, TMO, &h, &pl, &cause) != 1 || h.type != WIRE_PING)
		return 12;
	_exit(0);		/* no close_notify: as if killed */
}

static int64_t
ms_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_timeout(void **state)
{
	struct srv	 s;
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;
	int64_t		 t0, dt;
	int		 i;

	srv_start(&s, slow_client);
	if ((l = srv_accept(&s, &cause)) == NULL)
		fail_msg("accept: %s", cause);
	assert_int_equal(miglink_recv(l, 0, &h, &pl, &cause), 0);
	t0 = ms_now();
	assert_int_equal(miglink_recv(l, 150, &h, &pl, &cause), 0);
	dt = ms_now() - t0;
	assert_true(dt >= 140 && dt < 1000);
	assert_null(cause);
	assert_int_equal(miglink_recv(l, -1, &h, &pl, &cause), 1);
	assert_int_equal(h.type, WIRE_PING);
	assert_int_equal(miglink_send(l, WIRE_PING, NULL, 0, &cause), 0);
	/*
	 * The client exits on that PING. Writing to a dead peer fails, with
	 * no SIGPIPE (its default action would end this test).
	 */
	usleep(100 * 1000);
	for (i = 0; i < 50; i++) {
		if (miglink_send(l, WIRE_PING, NULL, 0, &cause) != 0)
			break;
		usleep(10 * 1000);
	}
	assert_true(i < 50);
	if (strcmp(cause, "connection lost: EPIPE") != 0 &&
	    strcmp(cause, "connection lost: ECONNRESET") != 0)
		fail_msg("send: %s", cause);
	free(cause);
	cause = NULL;
	assert_int_equal(miglink_recv(l, TMO, &h, &pl, &cause), -1);
	assert_string_equal(cause, "link already failed");
	free(cause);
	miglink_free(l);
	srv_end(&s);
}

/* ---- refusals ---- */

static int
wrong_node_client(const struct sockaddr_in *to)
{
	char	*cause = NULL;
	char	 want[64];

	if (miglink_connect(ctx1, to, 3, TMO, &cause) != NULL)
		return 10;
	snprintf(want, sizeof want, "127.0.0.1:%u is node 2, expected node 3",
	    ntohs(to->sin_port));
	if (strcmp(cause, want) != 0) {
		fprintf(stderr, "client: \"%s\"\n", cause);
		return 11;
	}
	return 0;
}

static void
test_wrong_node(void **state)
{
	struct srv	 s;
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;

	srv_start(&s, wrong_node_client);
	/* Our side of the handshake may complete; the client leaves anyway. */
	if ((l = srv_accept(&s, &cause)) != NULL) {
		assert_int_equal(miglink_recv(l, TMO, &h, &pl, &cause), -1);
		assert_string_equal(cause, "closed by peer");
		miglink_free(l);
	}
	free(cause);
	srv_end(&s);
}

/* A revoked client learns it at its first read (TLS 1.3). */
static int
revoked_client(const struct sockaddr_in *to)
{
	SSL_CTX		*ctx = ctx_revoked();
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;

	if (ctx == NULL)
		return 10;
	if ((l = miglink_connect(ctx, to, 2, TMO, &cause)) == NULL) {
		fprintf(stderr, "client: connect: %s\n", cause);
		return 11;
	}
	if (miglink_recv(l, TMO, &h, &pl, &cause) != -1)
		return 12;
	if (strncmp(cause, "TLS: ", 5) != 0 || strstr(cause, "revoked") ==
	    NULL) {
		fprintf(stderr, "client: \"%s\"\n", cause);
		return 13;
	}
	miglink_free(l);
	SSL_CTX_free(ctx);
	return 0;
}

static void
test_revoked(void **state)
{
	struct srv	 s;
	char		*cause = NULL;

	srv_start(&s, revoked_client);
	assert_null(srv_accept(&s, &cause));
	assert_non_null(strstr(cause, "revoked"));
	free(cause);
	srv_end(&s);
}

/* Bytes that are not frames end the link with a protocol cause. */
static int
garbage_client(const struct sockaddr_in *to)
{
	static const char	 junk[] = "GET / HTTP/1.0\r\n\r\n";
	struct miglink		*l;
	char			*cause = NULL;

	if ((l = cli_connect(to, 2)) == NULL)
		return 10;
	if (miglink_send_frames(l, junk, sizeof junk - 1, &cause) != 0)
		return 11;
	miglink_free(l);
	return 0;
}

static void
test_garbage(void **state)
{
	struct srv	 s;
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	char		*cause = NULL;

	srv_start(&s, garbage_client);
	if ((l = srv_accept(&s, &cause)) == NULL)
		fail_msg("accept: %s", cause);
	assert_int_equal(miglink_recv(l, TMO, &h, &pl, &cause), -1);
	assert_string_equal(cause, "protocol: bad magic: not an omm wire "
	    "stream (byte 0 is 0x47)");
	free(cause);
	miglink_free(l);
	srv_end(&s);
}

static void
test_connect_refused(void **state)
{
	struct sockaddr_in	 to;
	socklen_t		 len = sizeof to;
	char			*cause = NULL;
	int			 fd;

	/* A port just freed: nobody listens there. */
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&to, sizeof to), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&to, &len), 0);
	close(fd);
	assert_null(miglink_connect(ctx1, &to, 2, TMO, &cause));
	assert_non_null(strstr(cause, "Connection refused"));
	assert_non_null(strstr(cause, "connect to 127.0.0.1:"));
	free(cause);
}

/* ---- speed: printed, not asserted (the machine is shared) ---- */

#define STREAM_BYTES	(256U << 20)
#define RTT_N		2000

static int
speed_client(const struct sockaddr_in *to)
{
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	uint8_t		*chunk = malloc(MIG_IMAGE_CHUNK);
	char		*cause = NULL;
	size_t		 sent;
	int		 i;

	if ((l = cli_connect(to, 2)) == NULL)
		return 10;
	fill(chunk, MIG_IMAGE_CHUNK, 3);
	for (sent = 0; sent < STREAM_BYTES; sent += MIG_IMAGE_CHUNK) {
		if (miglink_send(l, WIRE_MIG_IMAGE, chunk, MIG_IMAGE_CHUNK,
		    &cause) != 0)
			return 11;
	}
	if (miglink_send(l, WIRE_MIG_IMAGE_END, &sent, 8, &cause) != 0)
		return 12;
	/* Round trips of a small request and its reply. */
	for (i = 0; i < RTT_N; i++) {
		if (miglink_recv(l, TMO, &h, &pl, &cause) != 1)
			return 13;
		if (miglink_send(l, MARSHAL_SYSCALL_REP, chunk, 64,
		    &cause) != 0)
			return 14;
	}
	miglink_free(l);
	free(chunk);
	return 0;
}

static void
test_speed(void **state)
{
	struct srv	 s;
	struct miglink	*l;
	struct wire_hdr	 h;
	const uint8_t	*pl;
	uint8_t		 req[128] = { 0 };
	char		*cause = NULL;
	size_t		 got = 0;
	int64_t		 t0, t1;
	int		 i;

	srv_start(&s, speed_client);
	if ((l = srv_accept(&s, &cause)) == NULL)
		fail_msg("accept: %s", cause);
	t0 = ms_now();
	for (;;) {
		if (miglink_recv(l, TMO, &h, &pl, &cause) != 1)
			fail_msg("stream: %s", cause);
		if (h.type == WIRE_MIG_IMAGE_END)
			break;
		assert_int_equal(h.type, WIRE_MIG_IMAGE);
		got += h.len;
	}
	t1 = ms_now();
	assert_int_equal(got, STREAM_BYTES);
	assert_int_equal(le64dec(pl), STREAM_BYTES);
	print_message("image stream: %u MiB in %lld ms: %.0f MB/s\n",
	    STREAM_BYTES >> 20, (long long)(t1 - t0),
	    STREAM_BYTES / 1e3 / (double)(t1 - t0 ? t1 - t0 : 1));
	t0 = ms_now();
	for (i = 0; i < RTT_N; i++) {
		if (miglink_send(l, MARSHAL_SYSCALL_REQ, req, sizeof req,
		    &cause) != 0 ||
		    miglink_recv(l, TMO, &h, &pl, &cause) != 1 ||
		    h.type != MARSHAL_SYSCALL_REP || h.len != 64)
			fail_msg("round trip %d: %s", i, cause);
	}
	t1 = ms_now();
	print_message("round trip: %.1f us\n", (t1 - t0) * 1e3 / RTT_N);
	assert_int_equal(miglink_recv(l, TMO, &h, &pl, &cause), -1);
	free(cause);
	miglink_free(l);
	srv_end(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_wrong_node),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
