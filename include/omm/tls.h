/*
 * tls.h: TLS contexts for node-to-node links.
 *
 * One SSL_CTX serves both ends of every link (SSL_set_connect_state or
 * SSL_set_accept_state per connection): TLS 1.3 only, both sides present a
 * certificate of the cluster CA, the CA's CRL is checked, and there is no
 * way to turn verification off. Session resumption is disabled so that every
 * connection is checked against the current CRL.
 *
 * When a handshake fails, tls_reason() and tls_fail_cause() say why in terms
 * an operator can act on: no certificate, expired, revoked, another CA...
 */
#ifndef OMM_TLS_H
#define OMM_TLS_H

#include <stdint.h>

#include <openssl/ssl.h>

/* The identity files of this node (paths, usually under /etc/omm). */
struct tls_files {
	const char	*ca;	/* the cluster CA certificate: the only trust anchor */
	const char	*crl;	/* the CA's revocation list */
	const char	*cert;	/* this node's certificate */
	const char	*key;	/* and its private key */
};

/* Why a handshake failed, or why a verified peer was refused. */
enum tls_reason {
	TLS_OK,
	TLS_NO_CERT,		/* the peer sent no certificate */
	TLS_EXPIRED,		/* a certificate has expired */
	TLS_NOT_YET_VALID,	/* a certificate starts in the future */
	TLS_REVOKED,		/* the peer's certificate is in the CRL */
	TLS_UNKNOWN_CA,		/* not issued by the cluster CA */
	TLS_BAD_CERT,		/* malformed, wrong usage, bad extensions */
	TLS_CRL,		/* revocation cannot be checked (CRL missing, expired, bad) */
	TLS_PEER_REFUSED,	/* the peer refused us (it sent an alert) */
	TLS_PROTOCOL,		/* not TLS 1.3, garbage, unexpected message */
	TLS_NAME,		/* the peer's name does not match its certificate */
	TLS_OTHER		/* closed mid-handshake, internal error */
};

/*
 * Build the context of this node. Refuses (NULL, *cause saying which file
 * and why) a key that does not match the certificate, a certificate that is
 * expired, revoked or not issued by the CA, and a missing or bad CRL.
 */
SSL_CTX	*tls_ctx_new(const struct tls_files *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Would ctx accept cert (a peer's, kept from an earlier handshake) now?
 * TLS_OK, or why not: TLS_REVOKED after a new CRL, TLS_EXPIRED,
 * TLS_UNKNOWN_CA after a new CA. For a reload of the TLS files.
 */
enum tls_reason	 tls_ctx_check(SSL_CTX *, X509 *cert);

/* This node's name, from its own certificate (heap string). */
char	*tls_ctx_name(SSL_CTX *);

/* Why the handshake on ssl failed (TLS_OK if nothing is known to be wrong). */
enum tls_reason	 tls_reason(SSL *);
const char	*tls_reason_string(enum tls_reason);

/*
 * A message for the log saying why the handshake on ssl failed: the reason,
 * the certificate concerned and OpenSSL's detail. Consumes OpenSSL's error
 * queue. Returns -1.
 */
int	tls_fail_cause(SSL *, char **cause);

/*
 * The name (SAN DNS, else CN) in the peer's certificate once the handshake
 * has completed and verified it; NULL otherwise. Heap string.
 */
char	*tls_peer_name(SSL *);
/* The node id in the peer's certificate (subject serialNumber), 0 if none. */
uint32_t tls_peer_id(SSL *);

/*
 * Check that the verified peer is the node it claims to be (the name it
 * announced, or the one expected for the address dialled). -1 and a cause
 * if not; the reason becomes TLS_NAME.
 */
int	tls_check_peer(SSL *, const char *expected_name, char **cause)
	    __attribute__((warn_unused_result));

/* Log OpenSSL's queued errors through log_warnx, prefixed by what; clears the queue. */
void	tls_log_errors(const char *what);

#endif
