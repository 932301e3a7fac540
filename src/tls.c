/* tls.c: mutual TLS 1.3 contexts for node links, and why a peer was refused. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "omm/ca.h"
#include "omm/log.h"
#include "omm/tls.h"
#include "omm/xmalloc.h"

/*
 * What went wrong on one connection, filled in by the callbacks OpenSSL
 * calls during the handshake, kept in the SSL's ex_data and freed with it.
 */
struct tls_state {
	int		have_verr;	/* verify_cb saw a failure */
	int		verr;		/* X509_V_ERR_* */
	int		depth;		/* 0: the peer's certificate, 1: the CA */
	char		subject[256];	/* of the certificate that failed */
	int		alert_sent;	/* fatal alert we sent, -1 none */
	int		alert_rcvd;	/* fatal alert the peer sent, -1 none */
	enum tls_reason	forced;		/* set by tls_check_peer */
};

static CRYPTO_ONCE	tls_once = CRYPTO_ONCE_STATIC_INIT;
static int		tls_idx = -1;

/* TLS 1.3's certificate_required alert (RFC 8446, 6.2): a peer without a certificate. */
#define TLS_ALERT_CERT_REQUIRED	116

/* How each certificate verification error is reported. */
static const struct {
	int		verr;
	enum tls_reason	reason;
} tls_verr_table[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED,			TLS_EXPIRED },
	{ X509_V_ERR_CERT_NOT_YET_VALID,		TLS_NOT_YET_VALID },
	{ X509_V_ERR_CERT_REVOKED,			TLS_REVOKED },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,		TLS_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,	TLS_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,	TLS_UNKNOWN_CA },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,	TLS_UNKNOWN_CA },
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,		TLS_UNKNOWN_CA },
	{ X509_V_ERR_CERT_UNTRUSTED,			TLS_UNKNOWN_CA },
	/* A CA of the same name but another key: not ours either. */
	{ X509_V_ERR_CERT_SIGNATURE_FAILURE,		TLS_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE,	TLS_UNKNOWN_CA },
	{ X509_V_ERR_AKID_SKID_MISMATCH,		TLS_UNKNOWN_CA },
	{ X509_V_ERR_UNABLE_TO_GET_CRL,			TLS_CRL },
	{ X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER,		TLS_CRL },
	{ X509_V_ERR_CRL_HAS_EXPIRED,			TLS_CRL },
	{ X509_V_ERR_CRL_NOT_YET_VALID,			TLS_CRL },
	{ X509_V_ERR_CRL_SIGNATURE_FAILURE,		TLS_CRL },
	{ X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE,	TLS_CRL },
	{ X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD,	TLS_CRL },
	{ X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD,	TLS_CRL },
	{ X509_V_ERR_DIFFERENT_CRL_SCOPE,		TLS_CRL },
	{ X509_V_ERR_KEYUSAGE_NO_CRL_SIGN,		TLS_CRL },
};

static const char *tls_reason_strings[] = {
	[TLS_OK] =		"no error",
	[TLS_NO_CERT] =		"peer sent no certificate",
	[TLS_EXPIRED] =		"certificate expired",
	[TLS_NOT_YET_VALID] =	"certificate not yet valid",
	[TLS_REVOKED] =		"certificate revoked",
	[TLS_UNKNOWN_CA] =	"certificate not issued by the cluster CA",
	[TLS_BAD_CERT] =	"certificate not acceptable",
	[TLS_CRL] =		"revocation list unusable",
	[TLS_PEER_REFUSED] =	"refused by the peer",
	[TLS_PROTOCOL] =	"TLS protocol error",
	[TLS_NAME] =		"name does not match its certificate",
	[TLS_OTHER] =		"handshake failed",
};

const char *
tls_reason_string(enum tls_reason r)
{
	if ((size_t)r >= sizeof tls_reason_strings / sizeof *tls_reason_strings)
		return "unknown";
	return tls_reason_strings[r];
}

static enum tls_reason
verr_reason(int verr)
{
	size_t	 i;

	for (i = 0; i < sizeof tls_verr_table / sizeof *tls_verr_table; i++) {
		if (tls_verr_table[i].verr == verr)
			return tls_verr_table[i].reason;
	}
	return TLS_BAD_CERT;
}

static void
tls_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	free(ptr);
}

static void
tls_init_once(void)
{
	tls_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_state_free);
}

static struct tls_state *
tls_state(const SSL *ssl, int create)
{
	struct tls_state	*st;

	if (tls_idx == -1 || ssl == NULL)
		return NULL;
	if ((st = SSL_get_ex_data(ssl, tls_idx)) != NULL || !create)
		return st;
	st = xcalloc(1, sizeof *st);
	st->alert_sent = st->alert_rcvd = -1;
	if (!SSL_set_ex_data((SSL *)ssl, tls_idx, st)) {
		free(st);
		return NULL;
	}
	return st;
}

/*
 * Record the first verification failure; never turn a failure into a
 * success (the return value is OpenSSL's own verdict).
 */
static int
verify_cb(int ok, X509_STORE_CTX *sctx)
{
	SSL			*ssl;
	struct tls_state	*st;
	X509			*c;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(sctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if ((st = tls_state(ssl, 1)) != NULL && !st->have_verr) {
		st->have_verr = 1;
		st->verr = X509_STORE_CTX_get_error(sctx);
		st->depth = X509_STORE_CTX_get_error_depth(sctx);
		if ((c = X509_STORE_CTX_get_current_cert(sctx)) != NULL)
			X509_NAME_oneline(X509_get_subject_name(c),
			    st->subject, sizeof st->subject);
	}
	return 0;
}

/* Record fatal alerts both ways: they say who refused whom. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_state	*st;

	if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL)
		return;
	if ((st = tls_state(ssl, 1)) == NULL)
		return;
	if ((where & SSL_CB_READ) && st->alert_rcvd == -1)
		st->alert_rcvd = ret & 0xff;
	if ((where & SSL_CB_WRITE) && st->alert_sent == -1)
		st->alert_sent = ret & 0xff;
}

enum tls_reason
tls_reason(SSL *ssl)
{
	struct tls_state	*st;
	unsigned long		 e;

	if ((st = tls_state(ssl, 0)) != NULL) {
		if (st->forced != TLS_OK)
			return st->forced;
		if (st->have_verr)
			return verr_reason(st->verr);
		if (st->alert_sent == TLS_ALERT_CERT_REQUIRED)
			return TLS_NO_CERT;
		if (st->alert_rcvd != -1)
			return TLS_PEER_REFUSED;
		if (st->alert_sent != -1)
			return TLS_PROTOCOL;
	}
	if (SSL_is_init_finished(ssl) && SSL_get_verify_result(ssl) == X509_V_OK)
		return TLS_OK;
	if ((e = ERR_peek_error()) != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL)
		return TLS_PROTOCOL;
	return TLS_OTHER;
}

int
tls_fail_cause(SSL *ssl, char **cause)
{
	struct tls_state	*st = tls_state(ssl, 0);
	enum tls_reason		 r = tls_reason(ssl);
	const char		*what = tls_reason_string(r);

	if (st != NULL && st->have_verr && r != TLS_NAME) {
		return ca_sslerr(cause, "%s: %s%s: %s", what,
		    st->depth > 0 ? "CA certificate " : "",
		    st->subject[0] != '\0' ? st->subject : "(no subject)",
		    X509_verify_cert_error_string(st->verr));
	}
	if (st != NULL && r == TLS_PEER_REFUSED) {
		return ca_sslerr(cause, "%s: alert %s", what,
		    SSL_alert_desc_string_long(st->alert_rcvd));
	}
	if (st != NULL && r == TLS_PROTOCOL && st->alert_sent != -1) {
		return ca_sslerr(cause, "%s: sent alert %s", what,
		    SSL_alert_desc_string_long(st->alert_sent));
	}
	return ca_sslerr(cause, "%s", what);
}

static int
log_one_error(const char *str, size_t len, void *arg)
{
	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		len--;
	log_warnx("%s: %.*s", (const char *)arg,
	    len > INT_MAX ? INT_MAX : (int)len, str);
	return 1;
}

void
tls_log_errors(const char *what)
{
	ERR_print_errors_cb(log_one_error, (void *)what);
}

/* SAN DNS if present (ca.c always writes one), else the CN. */
static char *
cert_name(X509 *x)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	X509_NAME		*subj;
	X509_NAME_ENTRY		*ent;
	unsigned char		*utf8;
	char			*name = NULL;
	int			 i, len;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		len = ASN1_STRING_length(g->d.dNSName);
		/* An embedded NUL would let "a\0b" pass for "a". */
		if (len <= 0 || memchr(ASN1_STRING_get0_data(g->d.dNSName),
		    '\0', len) != NULL)
			continue;
		name = xstrndup((const char *)
		    ASN1_STRING_get0_data(g->d.dNSName), len);
		break;
	}
	GENERAL_NAMES_free(gens);
	if (name != NULL)
		return name;

	subj = X509_get_subject_name(x);
	if ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) < 0 ||
	    (ent = X509_NAME_get_entry(subj, i)) == NULL)
		return NULL;
	if ((len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ent))) <
	    0)
		return NULL;
	if (len > 0 && memchr(utf8, '\0', len) == NULL)
		name = xstrndup((char *)utf8, len);
	OPENSSL_free(utf8);
	return name;
}

/* The peer's certificate, only if the handshake is complete and verified it. */
static X509 *
verified_peer(SSL *ssl)
{
	X509	*x;

	if (!SSL_is_init_finished(ssl) ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return NULL;
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return NULL;
	return x;
}

char *
tls_peer_name(SSL *ssl)
{
	X509	*x;

	if ((x = verified_peer(ssl)) == NULL)
		return NULL;
	return cert_name(x);
}

uint32_t
tls_peer_id(SSL *ssl)
{
	X509		*x;
	X509_NAME	*subj;
	X509_NAME_ENTRY	*ent;
	const ASN1_STRING *s;
	char		 buf[16], *end;
	unsigned long	 v;
	int		 i, len;

	if ((x = verified_peer(ssl)) == NULL)
		return 0;
	subj = X509_get_subject_name(x);
	if ((i = X509_NAME_get_index_by_NID(subj, NID_serialNumber, -1)) < 0 ||
	    (ent = X509_NAME_get_entry(subj, i)) == NULL)
		return 0;
	s = X509_NAME_ENTRY_get_data(ent);
	len = ASN1_STRING_length(s);
	if (len <= 0 || (size_t)len >= sizeof buf)
		return 0;
	memcpy(buf, ASN1_STRING_get0_data(s), len);
	buf[len] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (*end != '\0' || errno != 0 || v > UINT32_MAX || buf[0] == '-')
		return 0;
	return (uint32_t)v;
}

int
tls_check_peer(SSL *ssl, const char *expected, char **cause)
{
	struct tls_state	*st = tls_state(ssl, 1);
	X509			*x;
	char			*have;

	if ((x = verified_peer(ssl)) == NULL) {
		if (st != NULL)
			st->forced = TLS_NO_CERT;
		return cause_set(cause, "peer has no verified certificate");
	}
	if (expected == NULL || !ca_valid_name(expected)) {
		if (st != NULL)
			st->forced = TLS_NAME;
		return cause_set(cause, "peer announced an invalid node name");
	}
	if (X509_check_host(x, expected, strlen(expected),
	    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1)
		return 0;
	ERR_clear_error();
	if (st != NULL)
		st->forced = TLS_NAME;
	have = cert_name(x);
	cause_set(cause, "%s: peer says it is %s, its certificate is for %s",
	    tls_reason_string(TLS_NAME), expected, have ? have : "(no name)");
	free(have);
	return -1;
}

static const char *
asn1_time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	BIO	*b;
	int	 n;

	buf[0] = '\0';
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return buf;
	if (ASN1_TIME_print(b, t) == 1 && (n = BIO_read(b, buf, len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
	return buf;
}

/*
 * Verify this node's own certificate the way its peers will (both
 * purposes, the CRL included), so a node that would be refused by everyone
 * refuses to start instead, and says why.
 */
static int
check_own_cert(X509_STORE *store, X509 *ca, X509 *cert,
    const struct tls_files *f, char **cause)
{
	static const int	 purposes[] = {
		X509_PURPOSE_SSL_CLIENT, X509_PURPOSE_SSL_SERVER
	};
	X509_STORE_CTX		*sctx;
	enum tls_reason		 r;
	char			 when[64];
	size_t			 i;
	int			 verr, depth;

	for (i = 0; i < sizeof purposes / sizeof *purposes; i++) {
		if ((sctx = X509_STORE_CTX_new()) == NULL)
			return ca_sslerr(cause, "X509_STORE_CTX_new");
		if (!X509_STORE_CTX_init(sctx, store, cert, NULL) ||
		    !X509_STORE_CTX_set_purpose(sctx, purposes[i])) {
			X509_STORE_CTX_free(sctx);
			return ca_sslerr(cause, "X509_STORE_CTX_init");
		}
		if (X509_verify_cert(sctx) == 1) {
			X509_STORE_CTX_free(sctx);
			continue;
		}
		verr = X509_STORE_CTX_get_error(sctx);
		depth = X509_STORE_CTX_get_error_depth(sctx);
		X509_STORE_CTX_free(sctx);
		ERR_clear_error();
		r = verr_reason(verr);
		if (depth > 0 && r == TLS_EXPIRED)
			return cause_set(cause, "CA certificate %s has expired "
			    "(notAfter %s)", f->ca, asn1_time_str(
			    X509_get0_notAfter(ca), when, sizeof when));
		switch (r) {
		case TLS_EXPIRED:
			return cause_set(cause, "certificate %s has expired "
			    "(notAfter %s)", f->cert, asn1_time_str(
			    X509_get0_notAfter(cert), when, sizeof when));
		case TLS_NOT_YET_VALID:
			return cause_set(cause, "certificate %s is not valid "
			    "before %s", f->cert, asn1_time_str(
			    X509_get0_notBefore(cert), when, sizeof when));
		case TLS_REVOKED:
			return cause_set(cause, "certificate %s is revoked by "
			    "%s", f->cert, f->crl);
		case TLS_UNKNOWN_CA:
			return cause_set(cause, "certificate %s was not issued "
			    "by the cluster CA in %s", f->cert, f->ca);
		default:
			return cause_set(cause, "certificate %s: %s (%s)",
			    f->cert, tls_reason_string(r),
			    X509_verify_cert_error_string(verr));
		}
	}
	return 0;
}

static void
check_key_mode(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("%s: private key readable by others (mode %03o); "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
}

SSL_CTX *
tls_ctx_new(const struct tls_files *f, char **cause)
{
	SSL_CTX		*ctx = NULL;
	X509		*ca = NULL, *cert = NULL;
	X509_CRL	*crl = NULL;
	EVP_PKEY	*key = NULL;
	X509_STORE	*store;
	unsigned long	 flags;
	const ASN1_TIME	*next;
	int		 ok = 0;

	if (f->ca == NULL || f->crl == NULL || f->cert == NULL ||
	    f->key == NULL) {
		cause_set(cause, "TLS needs a CA certificate, a CRL, a node "
		    "certificate and its key; one is not configured");
		return NULL;
	}
	CRYPTO_THREAD_run_once(&tls_once, tls_init_once);
	if (tls_idx == -1) {
		ca_sslerr(cause, "SSL_get_ex_new_index");
		return NULL;
	}

	if ((ca = ca_read_cert(f->ca, cause)) == NULL ||
	    (crl = ca_read_crl(f->crl, cause)) == NULL ||
	    (cert = ca_read_cert(f->cert, cause)) == NULL ||
	    (key = ca_read_key(f->key, cause)) == NULL)
		goto out;
	if (X509_check_ca(ca) < 1) {
		cause_set(cause, "%s is not a CA certificate", f->ca);
		goto out;
	}
	ERR_clear_error();
	if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
		ERR_clear_error();
		cause_set(cause, "CRL %s is not signed by the CA in %s", f->crl,
		    f->ca);
		goto out;
	}
	if ((next = X509_CRL_get0_nextUpdate(crl)) != NULL &&
	    X509_cmp_current_time(next) <= 0) {
		cause_set(cause, "CRL %s has expired: get a fresh one from the "
		    "CA", f->crl);
		goto out;
	}
	check_key_mode(f->key);

	if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
		ca_sslerr(cause, "SSL_CTX_new");
		goto out;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		ca_sslerr(cause, "restricting to TLS 1.3");
		goto out;
	}
	/*
	 * AES-128-GCM first: process images cross these links by the hundred
	 * megabytes, and it is the fastest suite on CPUs with AES-NI, at a
	 * strength ample for a cluster's own traffic.
	 */
	if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
	    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")) {
		ca_sslerr(cause, "setting the TLS 1.3 cipher suites");
		goto out;
	}
	/*
	 * A fresh store holding only the cluster CA: never the system's
	 * default trust anchors.
	 */
	store = SSL_CTX_get_cert_store(ctx);
	flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_X509_STRICT;
	if (!X509_STORE_add_cert(store, ca) || !X509_STORE_add_crl(store, crl) ||
	    !X509_STORE_set_flags(store, flags) ||
	    !X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags)) {
		ca_sslerr(cause, "loading %s and %s", f->ca, f->crl);
		goto out;
	}
	if (!SSL_CTX_use_certificate(ctx, cert)) {
		ca_sslerr(cause, "%s: unusable certificate", f->cert);
		goto out;
	}
	if (!SSL_CTX_use_PrivateKey(ctx, key) ||
	    !SSL_CTX_check_private_key(ctx)) {
		ERR_clear_error();
		cause_set(cause, "key %s does not match certificate %s",
		    f->key, f->cert);
		goto out;
	}
	if (check_own_cert(store, ca, cert, f, cause) == -1)
		goto out;

	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	/* A node certificate is issued directly by the CA: no intermediates. */
	SSL_CTX_set_verify_depth(ctx, 1);
	SSL_CTX_set_info_callback(ctx, info_cb);
	/*
	 * No resumption: a resumed session skips certificate verification, and
	 * a revoked node could come back on an old ticket.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (!SSL_CTX_set_num_tickets(ctx, 0)) {
		ca_sslerr(cause, "SSL_CTX_set_num_tickets");
		goto out;
	}
	ok = 1;

out:
	X509_free(ca);
	X509_free(cert);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

enum tls_reason
tls_ctx_check(SSL_CTX *ctx, X509 *cert)
{
	X509_STORE_CTX	*sctx;
	int		 verr = X509_V_OK;

	if (cert == NULL)
		return TLS_NO_CERT;
	if ((sctx = X509_STORE_CTX_new()) == NULL)
		return TLS_OTHER;
	if (!X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), cert,
	    NULL) || !X509_STORE_CTX_set_purpose(sctx,
	    X509_PURPOSE_SSL_CLIENT)) {
		X509_STORE_CTX_free(sctx);
		ERR_clear_error();
		return TLS_OTHER;
	}
	if (X509_verify_cert(sctx) != 1)
		verr = X509_STORE_CTX_get_error(sctx);
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return verr == X509_V_OK ? TLS_OK : verr_reason(verr);
}

char *
tls_ctx_name(SSL_CTX *ctx)
{
	X509	*x;

	if ((x = SSL_CTX_get0_certificate(ctx)) == NULL)
		return NULL;
	return cert_name(x);
}
