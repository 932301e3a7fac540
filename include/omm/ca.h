/*
 * ca.h: the cluster's certificate authority and the identity files of nodes.
 *
 * A CA directory holds ca.key (0600), ca.crt (self-signed), ca.crl (the
 * revocation list, signed by the CA) and serial (one line per certificate
 * issued: serial, notAfter, node id, name). A node directory holds node.key
 * (0600), node.crt, and copies of ca.crt and ca.crl. Keys are EC P-256,
 * signatures ECDSA-SHA256 (see docs/security.md for why).
 *
 * Everything goes through the OpenSSL API; errors name the file and carry
 * OpenSSL's reasons in *cause.
 */
#ifndef OMM_CA_H
#define OMM_CA_H

#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CA_KEY_FILE		"ca.key"
#define CA_CERT_FILE		"ca.crt"
#define CA_CRL_FILE		"ca.crl"
#define CA_SERIAL_FILE		"serial"
#define CA_NODE_KEY_FILE	"node.key"
#define CA_NODE_CERT_FILE	"node.crt"

#define CA_DEFAULT_NAME		"omm cluster CA"
#define CA_DEFAULT_DAYS		3650
#define CA_NODE_DEFAULT_DAYS	365
#define CA_MAX_DAYS		36500
#define CA_NAME_MAX		63	/* one DNS label */

/*
 * Create a CA in dir (made 0700 if missing). Refuses to overwrite an
 * existing ca.key: a CA is replaced by hand, never by accident.
 */
int	ca_init(const char *dir, const char *cn, int days, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Issue node.key and node.crt for node_name (CN and SAN DNS; node_id, when
 * not 0, as the subject's serialNumber) into outdir (made if missing), valid
 * for days, and copy ca.crt and ca.crl there. Replaces an earlier node.key.
 */
int	ca_issue(const char *cadir, const char *node_name, uint32_t node_id,
	    const char *outdir, int days, char **cause)
	    __attribute__((warn_unused_result));

/* ca_issue with an explicit validity window, so tests can make expired certificates. */
int	ca_issue_at(const char *cadir, const char *node_name, uint32_t node_id,
	    const char *outdir, time_t not_before, time_t not_after,
	    char **cause) __attribute__((warn_unused_result));

/*
 * Add the certificate at cert_path (which must be issued by this CA) to
 * ca.crl and re-sign it with the next CRL number. Nodes see the revocation
 * once the new ca.crl is copied to them and they reload.
 */
int	ca_revoke(const char *cadir, const char *cert_path, char **cause)
	    __attribute__((warn_unused_result));

/* A node name is 1..63 of [A-Za-z0-9-], not starting or ending with '-'. */
int	ca_valid_name(const char *);

/* PEM readers shared with tls.c: NULL and a cause naming path on failure. */
X509		*ca_read_cert(const char *path, char **cause);
X509_CRL	*ca_read_crl(const char *path, char **cause);
EVP_PKEY	*ca_read_key(const char *path, char **cause);

/*
 * Set *cause to the formatted message followed by the reasons queued by
 * OpenSSL (which are consumed). Returns -1, like cause_set.
 */
int	ca_sslerr(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
