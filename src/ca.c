/* ca.c: the cluster CA: create it, issue node certificates, revoke them. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "omm/ca.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

/*
 * Certificates start an hour in the past: nodes whose clocks are a little
 * behind the CA's still accept a certificate issued a moment ago.
 */
#define CA_BACKDATE	3600

/* An X.509 serial is at most 20 octets; 159 random bits stay positive. */
#define CA_SERIAL_BITS	159

int
ca_sslerr(char **cause, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg, *all, *next;
	char		 one[256];
	unsigned long	 e;
	const char	*lib, *reason;

	if (cause == NULL) {
		ERR_clear_error();
		return -1;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL) {
		ERR_clear_error();
		return cause_set(cause, "out of memory");
	}
	all = msg;
	/* Oldest first: the first error is usually the root of the chain. */
	while ((e = ERR_get_error()) != 0) {
		lib = ERR_lib_error_string(e);
		reason = ERR_reason_error_string(e);
		if (reason == NULL) {
			ERR_error_string_n(e, one, sizeof one);
			reason = one;
		}
		if (strstr(all, reason) != NULL)
			continue;	/* the same reason twice says nothing */
		xasprintf(&next, "%s: %s%s%s", all, lib ? lib : "",
		    lib ? ": " : "", reason);
		free(all);
		all = next;
	}
	ERR_clear_error();
	free(*cause);
	*cause = all;
	return -1;
}

static char *
path_join(const char *dir, const char *file)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, file);
	return p;
}

static FILE *
open_read(const char *path, char **cause)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		cause_set(cause, "%s: %s", path, strerror(errno));
	return f;
}

X509 *
ca_read_cert(const char *path, char **cause)
{
	FILE	*f;
	X509	*x;

	if ((f = open_read(path, cause)) == NULL)
		return NULL;
	ERR_clear_error();
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		ca_sslerr(cause, "%s: not a PEM certificate", path);
	return x;
}

X509_CRL *
ca_read_crl(const char *path, char **cause)
{
	FILE		*f;
	X509_CRL	*crl;

	if ((f = open_read(path, cause)) == NULL)
		return NULL;
	ERR_clear_error();
	crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	if (crl == NULL)
		ca_sslerr(cause, "%s: not a PEM CRL", path);
	return crl;
}

EVP_PKEY *
ca_read_key(const char *path, char **cause)
{
	FILE		*f;
	EVP_PKEY	*k;

	if ((f = open_read(path, cause)) == NULL)
		return NULL;
	ERR_clear_error();
	/* An empty passphrase callback: node keys are never encrypted. */
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	if (k == NULL)
		ca_sslerr(cause, "%s: not an unencrypted PEM private key", path);
	return k;
}

int
ca_valid_name(const char *name)
{
	size_t	 i, n;

	n = strlen(name);
	if (n == 0 || n > CA_NAME_MAX || name[0] == '-' || name[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-')
			continue;
		return 0;
	}
	return 1;
}

static int
make_dir(const char *dir, mode_t mode, char **cause)
{
	struct stat	 st;

	if (mkdir(dir, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return cause_set(cause, "%s: %s", dir, strerror(errno));
	if (stat(dir, &st) == -1)
		return cause_set(cause, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cause_set(cause, "%s: not a directory", dir);
	return 0;
}

typedef int (*pem_writer)(BIO *, const void *);

static int
write_key(BIO *b, const void *k)
{
	return PEM_write_bio_PrivateKey(b, (EVP_PKEY *)k, NULL, NULL, 0, NULL,
	    NULL);
}

static int
write_cert(BIO *b, const void *x)
{
	return PEM_write_bio_X509(b, (X509 *)x);
}

static int
write_crl(BIO *b, const void *crl)
{
	return PEM_write_bio_X509_CRL(b, (X509_CRL *)crl);
}

/*
 * Write a PEM object to a temporary file beside path, then rename it over
 * path: a reader (a node reloading ca.crl) never sees half a file, and a
 * key file is never readable by others, not even for a moment.
 */
static int
write_pem(const char *path, mode_t mode, pem_writer wr, const void *obj,
    char **cause)
{
	char	*tmp;
	int	 fd, ok;
	BIO	*b;

	xasprintf(&tmp, "%s.tmp%ld", path, (long)getpid());
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) ==
	    -1) {
		cause_set(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	ERR_clear_error();
	if ((b = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL) {
		ca_sslerr(cause, "%s: BIO_new_fd", tmp);
		goto fail;
	}
	ok = wr(b, obj) == 1 && BIO_flush(b) == 1;
	BIO_free(b);
	if (!ok) {
		ca_sslerr(cause, "%s: writing PEM", tmp);
		goto fail;
	}
	if (fsync(fd) == -1) {
		cause_set(cause, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		cause_set(cause, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		cause_set(cause, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;

fail:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return -1;
}

/* Set a random positive serial number. */
static int
set_random_serial(X509 *x, char **cause)
{
	BIGNUM		*bn;
	ASN1_INTEGER	*ai = NULL;
	int		 rc = -1;

	if ((bn = BN_new()) == NULL)
		return ca_sslerr(cause, "BN_new");
	do {
		if (!BN_rand(bn, CA_SERIAL_BITS, BN_RAND_TOP_ANY,
		    BN_RAND_BOTTOM_ANY)) {
			ca_sslerr(cause, "random serial");
			goto out;
		}
	} while (BN_is_zero(bn));
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai)) {
		ca_sslerr(cause, "setting serial");
		goto out;
	}
	rc = 0;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value, char **cause)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return ca_sslerr(cause, "extension %s = %s", OBJ_nid2sn(nid),
		    value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		return ca_sslerr(cause, "adding extension %s", OBJ_nid2sn(nid));
	return 0;
}

/* The common part of every certificate: version, serial, subject, validity, key. */
static X509 *
cert_new(const char *cn, uint32_t id, time_t not_before, time_t not_after,
    EVP_PKEY *key, char **cause)
{
	X509		*x;
	X509_NAME	*name;
	char		 idstr[16];

	if ((x = X509_new()) == NULL) {
		ca_sslerr(cause, "X509_new");
		return NULL;
	}
	if (!X509_set_version(x, X509_VERSION_3))
		goto sslfail;
	if (set_random_serial(x, cause) == -1)
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))
		goto sslfail;
	if (id != 0) {
		snprintf(idstr, sizeof idstr, "%u", id);
		if (!X509_NAME_add_entry_by_NID(name, NID_serialNumber,
		    MBSTRING_ASC, (const unsigned char *)idstr, -1, -1, 0))
			goto sslfail;
	}
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL)
		goto sslfail;
	if (!X509_set_pubkey(x, key))
		goto sslfail;
	return x;

sslfail:
	ca_sslerr(cause, "building certificate for %s", cn);
fail:
	X509_free(x);
	return NULL;
}

static long
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER	*n;
	long		 v;

	if ((n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL)) == NULL)
		return 0;
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v < 0 ? 0 : v;
}

/*
 * A fresh CRL holding the entries of old (if any) and add (if any). Its
 * nextUpdate is the CA's own notAfter: with CRL checking on, an expired CRL
 * would stop every link in the cluster, and revocations travel by copying
 * the file, not on a schedule.
 */
static X509_CRL *
crl_make(X509 *cacert, EVP_PKEY *cakey, long number, X509_CRL *old,
    X509_REVOKED *add, char **cause)
{
	X509_CRL		*crl;
	STACK_OF(X509_REVOKED)	*revs;
	X509_REVOKED		*r;
	ASN1_INTEGER		*n = NULL;
	ASN1_TIME		*now = NULL;
	X509_EXTENSION		*ext;
	X509V3_CTX		 ctx;
	int			 i, ok;

	if ((crl = X509_CRL_new()) == NULL) {
		ca_sslerr(cause, "X509_CRL_new");
		return NULL;
	}
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) ||
	    (now = X509_time_adj_ex(NULL, 0, 0, NULL)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, now) ||
	    !X509_CRL_set1_nextUpdate(crl, X509_get0_notAfter(cacert)))
		goto fail;
	if ((n = ASN1_INTEGER_new()) == NULL || !ASN1_INTEGER_set(n, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, n, 0, 0))
		goto fail;
	X509V3_set_ctx(&ctx, cacert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL)
		goto fail;
	ok = X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		goto fail;
	if (old != NULL && (revs = X509_CRL_get_REVOKED(old)) != NULL) {
		for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
			r = X509_REVOKED_dup(sk_X509_REVOKED_value(revs, i));
			if (r == NULL || !X509_CRL_add0_revoked(crl, r)) {
				X509_REVOKED_free(r);
				goto fail;
			}
		}
	}
	if (add != NULL) {
		if ((r = X509_REVOKED_dup(add)) == NULL)
			goto fail;
		if (!X509_CRL_add0_revoked(crl, r)) {
			X509_REVOKED_free(r);
			goto fail;
		}
	}
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, cakey, EVP_sha256()))
		goto fail;
	ASN1_INTEGER_free(n);
	ASN1_TIME_free(now);
	return crl;

fail:
	ca_sslerr(cause, "building CRL");
	ASN1_INTEGER_free(n);
	ASN1_TIME_free(now);
	X509_CRL_free(crl);
	return NULL;
}

int
ca_init(const char *dir, const char *cn, int days, char **cause)
{
	char		*keyp, *crtp, *crlp, *serp;
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	X509_CRL	*crl = NULL;
	time_t		 now;
	int		 fd, rc = -1;

	if (cn == NULL || *cn == '\0' || strlen(cn) > 64)
		return cause_set(cause, "CA name must be 1 to 64 characters");
	if (days < 1 || days > CA_MAX_DAYS)
		return cause_set(cause, "CA validity must be 1 to %d days",
		    CA_MAX_DAYS);
	if (make_dir(dir, 0700, cause) == -1)
		return -1;
	keyp = path_join(dir, CA_KEY_FILE);
	crtp = path_join(dir, CA_CERT_FILE);
	crlp = path_join(dir, CA_CRL_FILE);
	serp = path_join(dir, CA_SERIAL_FILE);
	if (access(keyp, F_OK) == 0) {
		cause_set(cause, "%s exists: refusing to replace a CA", keyp);
		goto out;
	}

	ERR_clear_error();
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		ca_sslerr(cause, "generating the CA key");
		goto out;
	}
	now = time(NULL);
	if ((x = cert_new(cn, 0, now - CA_BACKDATE, now + (time_t)days * 86400,
	    key, cause)) == NULL)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(x))) {
		ca_sslerr(cause, "setting issuer");
		goto out;
	}
	/* The subject key id first: the authority key id is derived from it. */
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE", cause) ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign",
	    cause) ||
	    add_ext(x, x, NID_subject_key_identifier, "hash", cause) ||
	    add_ext(x, x, NID_authority_key_identifier, "keyid:always", cause))
		goto out;
	if (!X509_sign(x, key, EVP_sha256())) {
		ca_sslerr(cause, "signing the CA certificate");
		goto out;
	}
	if ((crl = crl_make(x, key, 1, NULL, NULL, cause)) == NULL)
		goto out;

	/* The key last: its presence means the CA is complete. */
	if (write_pem(crtp, 0644, write_cert, x, cause) == -1 ||
	    write_pem(crlp, 0644, write_crl, crl, cause) == -1)
		goto out;
	if ((fd = open(serp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		cause_set(cause, "%s: %s", serp, strerror(errno));
		goto out;
	}
	close(fd);
	if (write_pem(keyp, 0600, write_key, key, cause) == -1)
		goto out;
	rc = 0;

out:
	X509_CRL_free(crl);
	X509_free(x);
	EVP_PKEY_free(key);
	free(keyp);
	free(crtp);
	free(crlp);
	free(serp);
	return rc;
}

/* Read the CA's certificate and key and check that they belong together. */
static int
ca_load(const char *cadir, X509 **cacert, EVP_PKEY **cakey, char **cause)
{
	char	*crtp, *keyp;
	int	 rc = -1;

	*cacert = NULL;
	*cakey = NULL;
	crtp = path_join(cadir, CA_CERT_FILE);
	keyp = path_join(cadir, CA_KEY_FILE);
	if ((*cacert = ca_read_cert(crtp, cause)) == NULL)
		goto out;
	if ((*cakey = ca_read_key(keyp, cause)) == NULL)
		goto out;
	ERR_clear_error();
	if (X509_check_private_key(*cacert, *cakey) != 1) {
		ca_sslerr(cause, "%s does not match %s", keyp, crtp);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		X509_free(*cacert);
		EVP_PKEY_free(*cakey);
		*cacert = NULL;
		*cakey = NULL;
	}
	free(crtp);
	free(keyp);
	return rc;
}

/* Open and lock the serial file: one issuer or revoker at a time per CA. */
static int
ca_lock(const char *cadir, char **cause)
{
	char	*serp;
	int	 fd;

	serp = path_join(cadir, CA_SERIAL_FILE);
	if ((fd = open(serp, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) ==
	    -1) {
		cause_set(cause, "%s: %s", serp, strerror(errno));
		free(serp);
		return -1;
	}
	if (flock(fd, LOCK_EX) == -1) {
		cause_set(cause, "%s: flock: %s", serp, strerror(errno));
		close(fd);
		free(serp);
		return -1;
	}
	free(serp);
	return fd;
}

/* One line per certificate issued: serial, notAfter, node id, name. */
static int
record_serial(int fd, const char *cadir, X509 *x, uint32_t id,
    const char *name, time_t not_after, char **cause)
{
	BIGNUM		*bn;
	char		*hex, when[32], *line;
	struct tm	 tm;
	ssize_t		 n;
	int		 len;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL || (hex = BN_bn2hex(bn)) == NULL) {
		BN_free(bn);
		return ca_sslerr(cause, "serial to hex");
	}
	BN_free(bn);
	gmtime_r(&not_after, &tm);
	strftime(when, sizeof when, "%Y%m%d%H%M%SZ", &tm);
	len = xasprintf(&line, "%s %s %u %s\n", hex, when, id, name);
	OPENSSL_free(hex);
	n = write(fd, line, len);
	free(line);
	if (n != len)
		return cause_set(cause, "%s/%s: write: %s", cadir,
		    CA_SERIAL_FILE, n == -1 ? strerror(errno) : "short write");
	return 0;
}

int
ca_issue_at(const char *cadir, const char *node_name, uint32_t node_id,
    const char *outdir, time_t not_before, time_t not_after, char **cause)
{
	X509		*cacert = NULL, *x = NULL;
	EVP_PKEY	*cakey = NULL, *key = NULL;
	X509_CRL	*crl = NULL;
	char		*san = NULL, *crlp = NULL, *p;
	int		 lockfd = -1, rc = -1;

	if (!ca_valid_name(node_name))
		return cause_set(cause, "invalid node name \"%s\": 1 to %d "
		    "letters, digits or '-'", node_name, CA_NAME_MAX);
	if (not_after <= not_before)
		return cause_set(cause, "certificate would end before it starts");
	if (ca_load(cadir, &cacert, &cakey, cause) == -1)
		return -1;
	if ((lockfd = ca_lock(cadir, cause)) == -1)
		goto out;
	crlp = path_join(cadir, CA_CRL_FILE);
	if ((crl = ca_read_crl(crlp, cause)) == NULL)
		goto out;
	if (make_dir(outdir, 0755, cause) == -1)
		goto out;

	ERR_clear_error();
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		ca_sslerr(cause, "generating the key of %s", node_name);
		goto out;
	}
	if ((x = cert_new(node_name, node_id, not_before, not_after, key,
	    cause)) == NULL)
		goto out;
	if (!X509_set_issuer_name(x, X509_get_subject_name(cacert))) {
		ca_sslerr(cause, "setting issuer");
		goto out;
	}
	xasprintf(&san, "DNS:%s", node_name);
	/* Both usages: every node link is dialled by one node and accepted by the other. */
	if (add_ext(x, cacert, NID_basic_constraints, "critical,CA:FALSE",
	    cause) ||
	    add_ext(x, cacert, NID_key_usage, "critical,digitalSignature",
	    cause) ||
	    add_ext(x, cacert, NID_ext_key_usage, "serverAuth,clientAuth",
	    cause) ||
	    add_ext(x, cacert, NID_subject_alt_name, san, cause) ||
	    add_ext(x, cacert, NID_subject_key_identifier, "hash", cause) ||
	    add_ext(x, cacert, NID_authority_key_identifier, "keyid:always",
	    cause))
		goto out;
	if (!X509_sign(x, cakey, EVP_sha256())) {
		ca_sslerr(cause, "signing the certificate of %s", node_name);
		goto out;
	}

	p = path_join(outdir, CA_NODE_KEY_FILE);
	rc = write_pem(p, 0600, write_key, key, cause);
	free(p);
	if (rc == 0) {
		p = path_join(outdir, CA_NODE_CERT_FILE);
		rc = write_pem(p, 0644, write_cert, x, cause);
		free(p);
	}
	if (rc == 0) {
		p = path_join(outdir, CA_CERT_FILE);
		rc = write_pem(p, 0644, write_cert, cacert, cause);
		free(p);
	}
	if (rc == 0) {
		p = path_join(outdir, CA_CRL_FILE);
		rc = write_pem(p, 0644, write_crl, crl, cause);
		free(p);
	}
	if (rc == 0)
		rc = record_serial(lockfd, cadir, x, node_id, node_name,
		    not_after, cause);

out:
	if (lockfd != -1)
		close(lockfd);
	free(san);
	free(crlp);
	X509_CRL_free(crl);
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	return rc;
}

int
ca_issue(const char *cadir, const char *node_name, uint32_t node_id,
    const char *outdir, int days, char **cause)
{
	time_t	now;

	if (days < 1 || days > CA_MAX_DAYS)
		return cause_set(cause, "certificate validity must be 1 to %d "
		    "days", CA_MAX_DAYS);
	now = time(NULL);
	return ca_issue_at(cadir, node_name, node_id, outdir,
	    now - CA_BACKDATE, now + (time_t)days * 86400, cause);
}

int
ca_revoke(const char *cadir, const char *cert_path, char **cause)
{
	X509		*cacert = NULL, *x = NULL;
	EVP_PKEY	*cakey = NULL;
	X509_CRL	*old = NULL, *crl = NULL;
	X509_REVOKED	*rev = NULL, *found;
	ASN1_TIME	*now = NULL;
	char		*crlp;
	int		 lockfd = -1, rc = -1;

	crlp = path_join(cadir, CA_CRL_FILE);
	if (ca_load(cadir, &cacert, &cakey, cause) == -1)
		goto out;
	if ((x = ca_read_cert(cert_path, cause)) == NULL)
		goto out;
	if (X509_cmp(x, cacert) == 0) {
		cause_set(cause, "%s is the CA's own certificate", cert_path);
		goto out;
	}
	ERR_clear_error();
	if (X509_check_issued(cacert, x) != X509_V_OK ||
	    X509_verify(x, X509_get0_pubkey(cacert)) != 1) {
		ERR_clear_error();
		cause_set(cause, "%s was not issued by the CA in %s",
		    cert_path, cadir);
		goto out;
	}
	if ((lockfd = ca_lock(cadir, cause)) == -1)
		goto out;
	if ((old = ca_read_crl(crlp, cause)) == NULL)
		goto out;
	if (X509_CRL_get0_by_serial(old, &found,
	    X509_get0_serialNumber(x)) == 1) {
		cause_set(cause, "%s is already revoked", cert_path);
		goto out;
	}
	if ((rev = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev,
	    (ASN1_INTEGER *)X509_get0_serialNumber(x)) ||
	    (now = X509_time_adj_ex(NULL, 0, 0, NULL)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rev, now)) {
		ca_sslerr(cause, "building the revocation entry");
		goto out;
	}
	if ((crl = crl_make(cacert, cakey, crl_number(old) + 1, old, rev,
	    cause)) == NULL)
		goto out;
	rc = write_pem(crlp, 0644, write_crl, crl, cause);

out:
	if (lockfd != -1)
		close(lockfd);
	ASN1_TIME_free(now);
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	X509_CRL_free(old);
	X509_free(x);
	X509_free(cacert);
	EVP_PKEY_free(cakey);
	free(crlp);
	return rc;
}
