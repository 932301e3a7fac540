/*
 * test_tls.c: real TLS handshakes over a socketpair between contexts made
 * by tls_ctx_new and, for the peers that must be refused, contexts built
 * directly with OpenSSL from certificates ca.c issued.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>

#include "omm/ca.h"
#include "omm/log.h"
#include "omm/tls.h"

static char	tmpdir[] = "/tmp/omm-test-tls.XXXXXX";

/* A node's files: dir/NAME/{node.crt,node.key}; the CRL is always the CA's current one. */
static char *
f(const char *node, const char *file)
{
	static char	buf[64][512];	/* test_ctx_refuses holds 44 at once */
	static int	n;
	char		*p = buf[n++ % 64];

	snprintf(p, sizeof buf[0], "%s/%s/%s", tmpdir, node, file);
	return p;
}

static char *
d(const char *node)
{
	static char	buf[4][512];
	static int	n;
	char		*p = buf[n++ % 4];

	snprintf(p, sizeof buf[0], "%s/%s", tmpdir, node);
	return p;
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

/*
 * The cluster: CA "ca" with node1 (id 1), node2 (id 2), node3 (revoked),
 * old (expired), future (not yet valid); CA "ca2" of the SAME name with its
 * own node1 and node2 (an impostor).
 */
static int
setup(void **state)
{
	char	*cause = NULL;
	time_t	 now = time(NULL);

	log_init("test_tls", LOG_TO_STDERR, 0);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	must(ca_init(d("ca"), CA_DEFAULT_NAME, 30, &cause), cause);
	must(ca_issue(d("ca"), "node1", 1, d("node1"), 10, &cause), cause);
	must(ca_issue(d("ca"), "node2", 2, d("node2"), 10, &cause), cause);
	must(ca_issue(d("ca"), "node3", 3, d("node3"), 10, &cause), cause);
	must(ca_issue_at(d("ca"), "old", 4, d("old"), now - 10 * 86400,
	    now - 86400, &cause), cause);
	must(ca_issue_at(d("ca"), "future", 5, d("future"), now + 86400,
	    now + 10 * 86400, &cause), cause);
	must(ca_revoke(d("ca"), f("node3", "node.crt"), &cause), cause);
	must(ca_init(d("ca2"), CA_DEFAULT_NAME, 30, &cause), cause);
	must(ca_issue(d("ca2"), "node1", 1, d("evil1"), 10, &cause), cause);
	must(ca_issue(d("ca2"), "node2", 2, d("evil2"), 10, &cause), cause);
	return 0;
}

static int
teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Our context for a node of CA "ca", with the CA's current CRL. */
static SSL_CTX *
ours(const char *node)
{
	struct tls_files	 tf = {
		.ca = f("ca", "ca.crt"), .crl = f("ca", "ca.crl"),
		.cert = f(node, "node.crt"), .key = f(node, "node.key"),
	};
	SSL_CTX			*ctx;
	char			*cause = NULL;

	if ((ctx = tls_ctx_new(&tf, &cause)) == NULL)
		fail_msg("tls_ctx_new %s: %s", node, cause);
	return ctx;
}

/*
 * A hostile or broken peer built without tls.c: node may be NULL (no
 * certificate); trust_ca NULL means it accepts anything; tls12 caps it at
 * TLS 1.2.
 */
static SSL_CTX *
rogue(const char *node, const char *trust_ca, int tls12)
{
	SSL_CTX	*ctx;

	assert_non_null(ctx = SSL_CTX_new(TLS_method()));
	if (node != NULL) {
		assert_int_equal(SSL_CTX_use_certificate_file(ctx,
		    f(node, "node.crt"), SSL_FILETYPE_PEM), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx,
		    f(node, "node.key"), SSL_FILETYPE_PEM), 1);
	}
	if (trust_ca != NULL) {
		assert_int_equal(SSL_CTX_load_verify_file(ctx, trust_ca), 1);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (tls12)
		assert_int_equal(SSL_CTX_set_max_proto_version(ctx,
		    TLS1_2_VERSION), 1);
	return ctx;
}

struct link {
	int	 fd[2];
	SSL	*c, *s;		/* client (connect) and server (accept) */
	int	 c_ok, s_ok;	/* 1: handshake done, -1: failed */
	int	 data_ok;	/* bytes crossed both ways afterwards */
};

static int
step(SSL *ssl)
{
	int	 rc, e;

	if ((rc = SSL_do_handshake(ssl)) == 1)
		return 1;
	e = SSL_get_error(ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	return -1;
}

/* Read n bytes, stepping until they come or the connection fails. */
static int
read_all(SSL *ssl, char *buf, int n)
{
	int	 i, rc, e;

	for (i = 0; i < 200; i++) {
		if ((rc = SSL_read(ssl, buf, n)) == n)
			return 0;
		if (rc > 0)
			return -1;
		e = SSL_get_error(ssl, rc);
		if (e != SSL_ERROR_WANT_READ)
			return -1;
		usleep(1000);
	}
	return -1;
}

/*
 * Run both ends of a handshake in non-blocking steps over a socketpair.
 * A TLS 1.3 client finishes before the server has looked at the client's
 * certificate, so after the handshake each side tries to move data: that is
 * when a client learns the server refused it.
 */
static void
link_run(struct link *l, SSL_CTX *cctx, SSL_CTX *sctx)
{
	char	 buf[8];
	int	 i, fl;

	memset(l, 0, sizeof *l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, l->fd), 0);
	for (i = 0; i < 2; i++) {
		fl = fcntl(l->fd[i], F_GETFL);
		assert_int_equal(fcntl(l->fd[i], F_SETFL, fl | O_NONBLOCK), 0);
	}
	assert_non_null(l->c = SSL_new(cctx));
	assert_non_null(l->s = SSL_new(sctx));
	SSL_set_fd(l->c, l->fd[0]);
	SSL_set_fd(l->s, l->fd[1]);
	SSL_set_connect_state(l->c);
	SSL_set_accept_state(l->s);
	for (i = 0; i < 100 && (l->c_ok == 0 || l->s_ok == 0); i++) {
		if (l->c_ok == 0)
			l->c_ok = step(l->c);
		if (l->s_ok == 0)
			l->s_ok = step(l->s);
	}
	assert_true(l->c_ok != 0 && l->s_ok != 0);
	if (l->c_ok == 1 && l->s_ok == 1) {
		if (SSL_write(l->s, "ping", 4) == 4 &&
		    read_all(l->c, buf, 4) == 0 && memcmp(buf, "ping", 4) == 0 &&
		    SSL_write(l->c, "pong", 4) == 4 &&
		    read_all(l->s, buf, 4) == 0 && memcmp(buf, "pong", 4) == 0)
			l->data_ok = 1;
	} else if (l->c_ok == 1) {
		/* The server refused: the client sees its alert on reading. */
		if (read_all(l->c, buf, 4) == 0)
			fail_msg("client read data from a server that failed");
		l->c_ok = -1;
	}
}

static void
link_free(struct link *l)
{
	SSL_free(l->c);
	SSL_free(l->s);
	close(l->fd[0]);
	close(l->fd[1]);
	ERR_clear_error();
}

/* Two nodes of the cluster connect, verify each other, move data, and know each other's names and ids. */
static void
test_good_pair(void **state)
{
	SSL_CTX		*c = ours("node1"), *s = ours("node2");
	struct link	 l;
	char		*name, *cause = NULL;

	link_run(&l, c, s);
	assert_int_equal(l.c_ok, 1);
	assert_int_equal(l.s_ok, 1);
	assert_true(l.data_ok);
	assert_int_equal(SSL_version(l.c), TLS1_3_VERSION);
	assert_int_equal(SSL_version(l.s), TLS1_3_VERSION);
	assert_false(SSL_session_reused(l.c));

	name = tls_peer_name(l.s);
	assert_string_equal(name, "node1");
	free(name);
	name = tls_peer_name(l.c);
	assert_string_equal(name, "node2");
	free(name);
	assert_int_equal(tls_peer_id(l.s), 1);
	assert_int_equal(tls_peer_id(l.c), 2);
	assert_int_equal(tls_check_peer(l.s, "node1", &cause), 0);
	assert_int_equal(tls_check_peer(l.c, "node2", &cause), 0);
	assert_null(cause);
	assert_int_equal(tls_reason(l.s), TLS_OK);

	name = tls_ctx_name(c);
	assert_string_equal(name, "node1");
	free(name);

	link_free(&l);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

/* A node whose certificate is genuine but for another name is refused by tls_check_peer. */
static void
test_wrong_name(void **state)
{
	SSL_CTX		*c = ours("node1"), *s = ours("node2");
	struct link	 l;
	char		*cause = NULL;

	link_run(&l, c, s);
	assert_true(l.data_ok);
	/* node1 announces itself as node3 (or the map says node3 lives there). */
	assert_int_equal(tls_check_peer(l.s, "node3", &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "node3"));
	assert_non_null(strstr(cause, "node1"));
	assert_non_null(strstr(cause, "does not match"));
	assert_int_equal(tls_reason(l.s), TLS_NAME);
	/* A prefix or a differently-cased suffix is not the name either. */
	assert_int_equal(tls_check_peer(l.s, "node", &cause), -1);
	assert_int_equal(tls_check_peer(l.s, "node1x", &cause), -1);
	assert_int_equal(tls_check_peer(l.s, "a.node1", &cause), -1);
	assert_int_equal(tls_check_peer(l.s, "", &cause), -1);
	free(cause);
	link_free(&l);

	/* Before a handshake there is no verified name at all. */
	{
		SSL	*ssl = SSL_new(s);

		assert_null(tls_peer_name(ssl));
		assert_int_equal(tls_peer_id(ssl), 0);
		cause = NULL;
		assert_int_equal(tls_check_peer(ssl, "node1", &cause), -1);
		free(cause);
		SSL_free(ssl);
	}
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

/* Peers our server must refuse, each with the reason the daemon will log. */
static void
test_server_refuses(void **state)
{
	static const struct {
		const char	*label;
		const char	*node;		/* client certificate, NULL: none */
		int		 tls12;
		enum tls_reason	 want;
		const char	*text;		/* in tls_fail_cause's message */
	} cases[] = {
		{ "certificate of another CA (same CA name)", "evil1", 0,
		    TLS_UNKNOWN_CA, "not issued by the cluster CA" },
		{ "no client certificate", NULL, 0, TLS_NO_CERT,
		    "no certificate" },
		{ "expired certificate", "old", 0, TLS_EXPIRED, "CN=old" },
		{ "not yet valid", "future", 0, TLS_NOT_YET_VALID, "CN=future" },
		{ "revoked certificate", "node3", 0, TLS_REVOKED, "CN=node3" },
		{ "TLS 1.2 only", "node1", 1, TLS_PROTOCOL, "protocol" },
	};
	SSL_CTX		*s = ours("node2"), *c;
	struct link	 l;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		c = rogue(cases[i].node, NULL, cases[i].tls12);
		link_run(&l, c, s);
		if (l.s_ok != -1 || l.c_ok != -1 || l.data_ok)
			fail_msg("%s: accepted (c %d s %d)", cases[i].label,
			    l.c_ok, l.s_ok);
		if (tls_reason(l.s) != cases[i].want)
			fail_msg("%s: reason %s, want %s", cases[i].label,
			    tls_reason_string(tls_reason(l.s)),
			    tls_reason_string(cases[i].want));
		cause = NULL;
		assert_int_equal(tls_fail_cause(l.s, &cause), -1);
		assert_non_null(cause);
		if (strstr(cause, cases[i].text) == NULL ||
		    strstr(cause, tls_reason_string(cases[i].want)) == NULL)
			fail_msg("%s: cause \"%s\"", cases[i].label, cause);
		assert_null(tls_peer_name(l.s));
		free(cause);
		link_free(&l);
		SSL_CTX_free(c);
	}
	SSL_CTX_free(s);
}

/* Servers our client must refuse: it checks the server's certificate just as strictly. */
static void
test_client_refuses(void **state)
{
	static const struct {
		const char	*label, *node;
		enum tls_reason	 want;
	} cases[] = {
		{ "server of another CA (same CA name)", "evil2",
		    TLS_UNKNOWN_CA },
		{ "expired server", "old", TLS_EXPIRED },
		{ "revoked server", "node3", TLS_REVOKED },
	};
	SSL_CTX		*c = ours("node1"), *s;
	struct link	 l;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		s = rogue(cases[i].node, NULL, 0);
		link_run(&l, c, s);
		if (l.c_ok != -1 || l.data_ok)
			fail_msg("%s: accepted", cases[i].label);
		if (tls_reason(l.c) != cases[i].want)
			fail_msg("%s: reason %s", cases[i].label,
			    tls_reason_string(tls_reason(l.c)));
		link_free(&l);
		SSL_CTX_free(s);
	}
	SSL_CTX_free(c);
}

/* When the other side refuses us, we say so (and not that we refused it). */
static void
test_refused_by_peer(void **state)
{
	SSL_CTX		*c = ours("node1"), *s;
	struct link	 l;
	char		*cause = NULL;

	/* A server with a good certificate that trusts only the other CA. */
	s = rogue("node2", f("ca2", "ca.crt"), 0);
	link_run(&l, c, s);
	assert_int_equal(l.c_ok, -1);
	assert_int_equal(l.s_ok, -1);
	assert_int_equal(tls_reason(l.c), TLS_PEER_REFUSED);
	assert_int_equal(tls_fail_cause(l.c, &cause), -1);
	assert_non_null(strstr(cause, "refused by the peer"));
	assert_non_null(strstr(cause, "alert"));
	free(cause);
	link_free(&l);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

/* Plain bytes instead of a ClientHello: the server fails cleanly with a protocol error. */
static void
test_garbage(void **state)
{
	static const char	 junk[] = "GET / HTTP/1.0\r\n\r\n";
	SSL_CTX			*s = ours("node2");
	SSL			*ssl;
	int			 fd[2], rc, i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	assert_int_equal(write(fd[0], junk, sizeof junk - 1),
	    (ssize_t)(sizeof junk - 1));
	assert_int_equal(fcntl(fd[1], F_SETFL, O_NONBLOCK), 0);
	assert_non_null(ssl = SSL_new(s));
	SSL_set_fd(ssl, fd[1]);
	SSL_set_accept_state(ssl);
	for (i = 0; i < 10 && (rc = step(ssl)) == 0; i++)
		;
	assert_int_equal(rc, -1);
	assert_int_equal(tls_reason(ssl), TLS_PROTOCOL);
	SSL_free(ssl);
	close(fd[0]);
	close(fd[1]);
	ERR_clear_error();
	SSL_CTX_free(s);
}

/* tls_ctx_new refuses to start a node with unusable identity files, saying which and why. */
static void
test_ctx_refuses(void **state)
{
	const struct {
		const char	*label;
		struct tls_files tf;
		const char	*want;
	} cases[] = {
		{ "expired own certificate", { f("ca", "ca.crt"),
		    f("ca", "ca.crl"), f("old", "node.crt"),
		    f("old", "node.key") }, "has expired" },
		{ "not yet valid", { f("ca", "ca.crt"), f("ca", "ca.crl"),
		    f("future", "node.crt"), f("future", "node.key") },
		    "not valid before" },
		{ "revoked own certificate", { f("ca", "ca.crt"),
		    f("ca", "ca.crl"), f("node3", "node.crt"),
		    f("node3", "node.key") }, "is revoked" },
		{ "certificate of another CA", { f("ca", "ca.crt"),
		    f("ca", "ca.crl"), f("evil1", "node.crt"),
		    f("evil1", "node.key") }, "not issued by the cluster CA" },
		{ "key of another node", { f("ca", "ca.crt"),
		    f("ca", "ca.crl"), f("node1", "node.crt"),
		    f("node2", "node.key") }, "does not match" },
		{ "CRL of another CA", { f("ca", "ca.crt"),
		    f("ca2", "ca.crl"), f("node1", "node.crt"),
		    f("node1", "node.key") }, "not signed by the CA" },
		{ "node certificate as CA", { f("node2", "node.crt"),
		    f("ca", "ca.crl"), f("node1", "node.crt"),
		    f("node1", "node.key") }, "not a CA certificate" },
		{ "missing CRL", { f("ca", "ca.crt"), f("ca", "nope.crl"),
		    f("node1", "node.crt"), f("node1", "node.key") },
		    "nope.crl: No such file" },
		{ "missing key", { f("ca", "ca.crt"), f("ca", "ca.crl"),
		    f("node1", "node.crt"), f("node1", "nope.key") },
		    "nope.key: No such file" },
		{ "key file holds a certificate", { f("ca", "ca.crt"),
		    f("ca", "ca.crl"), f("node1", "node.crt"),
		    f("node1", "node.crt") }, "not an unencrypted PEM private" },
		{ "no CRL configured", { f("ca", "ca.crt"), NULL,
		    f("node1", "node.crt"), f("node1", "node.key") },
		    "not configured" },
	};
	SSL_CTX	*ctx;
	char	*cause;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		cause = NULL;
		ctx = tls_ctx_new(&cases[i].tf, &cause);
		if (ctx != NULL)
			fail_msg("%s: accepted", cases[i].label);
		if (cause == NULL || strstr(cause, cases[i].want) == NULL)
			fail_msg("%s: cause \"%s\"", cases[i].label, cause);
		free(cause);
		assert_int_equal(ERR_peek_error(), 0);
	}
}

/* A node started before a revocation does not resume into the cluster on an old session. */
static void
test_no_resumption(void **state)
{
	SSL_CTX		*c = ours("node1"), *s = ours("node2");
	struct link	 l;

	link_run(&l, c, s);
	assert_true(l.data_ok);
	/* No tickets were issued, so there is nothing to resume from. */
	assert_false(SSL_SESSION_is_resumable(SSL_get_session(l.c)));
	link_free(&l);
	SSL_CTX_free(c);
	SSL_CTX_free(s);
}

/* A reload: certificates of earlier handshakes checked against a new context. */
static void
test_ctx_check(void **state)
{
	static const struct {
		const char	*what;
		const char	*cert;
		enum tls_reason	 want;
	} cases[] = {
		{ "a good peer", "node2", TLS_OK },
		{ "a revoked peer", "node3", TLS_REVOKED },
		{ "an expired peer", "old", TLS_EXPIRED },
		{ "a peer of another CA of the same name", "evil1",
		    TLS_UNKNOWN_CA },
	};
	SSL_CTX		*ctx = ours("node1");
	X509		*x;
	char		*cause = NULL;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((x = ca_read_cert(cases[i].cert[0] == '/' ? cases[i].cert :
		    f(cases[i].cert, "node.crt"), &cause)) == NULL)
			fail_msg("%s: %s", cases[i].what, cause);
		if (tls_ctx_check(ctx, x) != cases[i].want)
			fail_msg("%s: got %s, expected %s", cases[i].what,
			    tls_reason_string(tls_ctx_check(ctx, x)),
			    tls_reason_string(cases[i].want));
		X509_free(x);
	}
	assert_int_equal(tls_ctx_check(ctx, NULL), TLS_NO_CERT);
	SSL_CTX_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_pair),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_server_refuses),
		cmocka_unit_test(test_client_refuses),
		cmocka_unit_test(test_refused_by_peer),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_ctx_refuses),
		cmocka_unit_test(test_no_resumption),
		cmocka_unit_test(test_ctx_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
