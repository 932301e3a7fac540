/* test_ca.c: the cluster CA: files, extensions, issue, revoke, refusals. */
#include <sys/stat.h>

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
#include <openssl/x509v3.h>

#include "omm/ca.h"

static char	tmpdir[] = "/tmp/omm-test-ca.XXXXXX";

static char *
path(const char *a, const char *b)
{
	static char	buf[4][512];
	static int	n;
	char		*p = buf[n++ % 4];

	if (b != NULL)
		snprintf(p, sizeof buf[0], "%s/%s/%s", tmpdir, a, b);
	else
		snprintf(p, sizeof buf[0], "%s/%s", tmpdir, a);
	return p;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static mode_t
file_mode(const char *p)
{
	struct stat	st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static X509 *
load_cert(const char *p)
{
	char	*cause = NULL;
	X509	*x;

	x = ca_read_cert(p, &cause);
	if (x == NULL)
		fail_msg("%s", cause);
	return x;
}

static X509_CRL *
load_crl(const char *p)
{
	char		*cause = NULL;
	X509_CRL	*crl;

	crl = ca_read_crl(p, &cause);
	if (crl == NULL)
		fail_msg("%s", cause);
	return crl;
}

static int
count_lines(const char *p)
{
	FILE	*f;
	int	 c, n = 0;

	assert_non_null(f = fopen(p, "r"));
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static long
crl_num(X509_CRL *crl)
{
	ASN1_INTEGER	*n;
	long		 v;

	assert_non_null(n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL));
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

static int
files_equal(const char *a, const char *b)
{
	FILE	*fa, *fb;
	int	 ca, cb, eq = 1;

	assert_non_null(fa = fopen(a, "r"));
	assert_non_null(fb = fopen(b, "r"));
	do {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			eq = 0;
	} while (eq && ca != EOF);
	fclose(fa);
	fclose(fb);
	return eq;
}

/* ca_init: key 0600, a self-signed CA certificate with the right extensions, an empty signed CRL. */
static void
test_init_files(void **state)
{
	char		*cause = NULL;
	X509		*x;
	X509_CRL	*crl;
	EVP_PKEY	*key;
	BASIC_CONSTRAINTS *bc;
	int		 crit;

	assert_int_equal(ca_init(path("ca", NULL), "test CA", 30, &cause), 0);
	assert_null(cause);
	assert_int_equal(file_mode(path("ca", NULL)), 0700);
	assert_int_equal(file_mode(path("ca", CA_KEY_FILE)), 0600);
	assert_int_equal(access(path("ca", CA_SERIAL_FILE), R_OK), 0);
	assert_int_equal(count_lines(path("ca", CA_SERIAL_FILE)), 0);

	x = load_cert(path("ca", CA_CERT_FILE));
	assert_non_null(key = ca_read_key(path("ca", CA_KEY_FILE), &cause));
	assert_int_equal(X509_check_private_key(x, key), 1);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(X509_verify(x, key), 1);	/* self-signed */
	assert_int_equal(X509_check_issued(x, x), X509_V_OK);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(X509_check_ca(x), 1);
	/* About 30 days from now. */
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &(time_t){
	    time(NULL) + 29 * 86400 }) > 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(x), &(time_t){
	    time(NULL) + 31 * 86400 }) < 0);

	crl = load_crl(path("ca", CA_CRL_FILE));
	assert_int_equal(X509_CRL_verify(crl, key), 1);
	/* No entries: OpenSSL reports an empty list as none (-1). */
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	assert_int_equal(crl_num(crl), 1);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(x)), 0);

	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(x);
}

/* A second ca_init on the same directory must not replace the CA. */
static void
test_init_refuses_existing(void **state)
{
	char	*cause = NULL;

	assert_int_equal(ca_init(path("ca", NULL), "other", 30, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "refusing to replace"));
	free(cause);
}

/* Bad arguments are refused before anything is written. */
static void
test_init_bad_args(void **state)
{
	static const struct {
		const char	*label, *cn;
		int		 days;
		const char	*want;
	} cases[] = {
		{ "zero days", "x", 0, "validity" },
		{ "too many days", "x", CA_MAX_DAYS + 1, "validity" },
		{ "empty name", "", 10, "name" },
	};
	char	*cause;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		cause = NULL;
		if (ca_init(path("bad", NULL), cases[i].cn, cases[i].days,
		    &cause) != -1)
			fail_msg("%s: accepted", cases[i].label);
		assert_non_null(cause);
		if (strstr(cause, cases[i].want) == NULL)
			fail_msg("%s: cause \"%s\"", cases[i].label, cause);
		free(cause);
		assert_int_equal(access(path("bad", CA_KEY_FILE), F_OK), -1);
	}
}

/* ca_issue: key 0600, CN and SAN, usages, signed by the CA, random serials, copies of ca.crt and ca.crl. */
static void
test_issue(void **state)
{
	char			*cause = NULL;
	X509			*ca, *x, *y;
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	X509_NAME		*subj;
	char			 cn[64], sn[16];
	BASIC_CONSTRAINTS	*bc;

	assert_int_equal(ca_issue(path("ca", NULL), "node1", 7, path("n1", NULL),
	    10, &cause), 0);
	assert_null(cause);
	assert_int_equal(ca_issue(path("ca", NULL), "node2", 0, path("n2", NULL),
	    10, &cause), 0);
	assert_int_equal(file_mode(path("n1", CA_NODE_KEY_FILE)), 0600);
	assert_true(files_equal(path("ca", CA_CERT_FILE), path("n1",
	    CA_CERT_FILE)));
	assert_true(files_equal(path("ca", CA_CRL_FILE), path("n1",
	    CA_CRL_FILE)));
	assert_int_equal(count_lines(path("ca", CA_SERIAL_FILE)), 2);

	ca = load_cert(path("ca", CA_CERT_FILE));
	x = load_cert(path("n1", CA_NODE_CERT_FILE));
	y = load_cert(path("n2", CA_NODE_CERT_FILE));
	assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	    X509_get0_serialNumber(y)), 0);

	subj = X509_get_subject_name(x);
	assert_true(X509_NAME_get_text_by_NID(subj, NID_commonName, cn,
	    sizeof cn) > 0);
	assert_string_equal(cn, "node1");
	assert_true(X509_NAME_get_text_by_NID(subj, NID_serialNumber, sn,
	    sizeof sn) > 0);
	assert_string_equal(sn, "7");
	/* Node id 0: no serialNumber attribute at all. */
	assert_int_equal(X509_NAME_get_index_by_NID(X509_get_subject_name(y),
	    NID_serialNumber, -1), -1);

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	g = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(g->type, GEN_DNS);
	assert_int_equal(ASN1_STRING_length(g->d.dNSName), 5);
	assert_memory_equal(ASN1_STRING_get0_data(g->d.dNSName), "node1", 5);
	GENERAL_NAMES_free(gens);

	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(x),
	    XKU_SSL_SERVER | XKU_SSL_CLIENT);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(X509_check_ca(x), 0);
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(ca)), 0);

	X509_free(y);
	X509_free(x);
	X509_free(ca);
}

/* ca_issue_at writes exactly the validity asked for (tests build expired certificates with it). */
static void
test_issue_at(void **state)
{
	char	*cause = NULL;
	X509	*x;
	time_t	 nb = 1000000000, na = 1000086400;	/* 2001 */

	assert_int_equal(ca_issue_at(path("ca", NULL), "old", 3, path("old",
	    NULL), nb, na, &cause), 0);
	x = load_cert(path("old", CA_NODE_CERT_FILE));
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x),
	    &(time_t){ nb - 1 }), 1);
	/* X509_cmp_time: -1 for earlier or equal, 1 for later. */
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x),
	    &(time_t){ nb }), -1);
	assert_int_equal(X509_cmp_time(X509_get0_notAfter(x),
	    &(time_t){ na + 1 }), -1);
	assert_int_equal(X509_cmp_time(X509_get0_notAfter(x),
	    &(time_t){ na - 1 }), 1);
	X509_free(x);

	assert_int_equal(ca_issue_at(path("ca", NULL), "old", 3, path("old",
	    NULL), na, nb, &cause), -1);
	assert_non_null(strstr(cause, "before it starts"));
	free(cause);
}

/* Names that are not a single DNS label, and bad validity, are refused. */
static void
test_issue_bad_args(void **state)
{
	static const struct {
		const char	*label, *name;
		int		 days;
		const char	*want;
	} cases[] = {
		{ "empty name", "", 10, "invalid node name" },
		{ "dot", "a.b", 10, "invalid node name" },
		{ "space", "a b", 10, "invalid node name" },
		{ "slash", "../x", 10, "invalid node name" },
		{ "leading dash", "-a", 10, "invalid node name" },
		{ "trailing dash", "a-", 10, "invalid node name" },
		{ "too long", "a123456789012345678901234567890123456789012345"
		    "678901234567890123", 10, "invalid node name" },
		{ "zero days", "node9", 0, "validity" },
		{ "negative days", "node9", -3, "validity" },
	};
	char	*cause;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		cause = NULL;
		if (ca_issue(path("ca", NULL), cases[i].name, 1, path("n9",
		    NULL), cases[i].days, &cause) != -1)
			fail_msg("%s: accepted", cases[i].label);
		if (cause == NULL || strstr(cause, cases[i].want) == NULL)
			fail_msg("%s: cause \"%s\"", cases[i].label, cause);
		free(cause);
	}
	assert_true(ca_valid_name("node-1"));
	assert_true(ca_valid_name("N1"));
}

/* ca_revoke: the serial enters the CRL, its number grows, the signature stays valid; repeats and strangers are refused. */
static void
test_revoke(void **state)
{
	char		*cause = NULL;
	X509		*ca, *x;
	X509_CRL	*crl;
	X509_REVOKED	*rev;

	assert_int_equal(ca_revoke(path("ca", NULL), path("n2",
	    CA_NODE_CERT_FILE), &cause), 0);
	assert_null(cause);
	ca = load_cert(path("ca", CA_CERT_FILE));
	x = load_cert(path("n2", CA_NODE_CERT_FILE));
	crl = load_crl(path("ca", CA_CRL_FILE));
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca)), 1);
	assert_int_equal(crl_num(crl), 2);
	assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, x), 1);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	X509_CRL_free(crl);
	X509_free(x);

	/* A second revocation keeps the first. */
	assert_int_equal(ca_revoke(path("ca", NULL), path("old",
	    CA_NODE_CERT_FILE), &cause), 0);
	crl = load_crl(path("ca", CA_CRL_FILE));
	assert_int_equal(crl_num(crl), 3);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	x = load_cert(path("n1", CA_NODE_CERT_FILE));
	assert_int_equal(X509_CRL_get0_by_cert(crl, &rev, x), 0);
	X509_free(x);
	X509_CRL_free(crl);
	X509_free(ca);

	assert_int_equal(ca_revoke(path("ca", NULL), path("n2",
	    CA_NODE_CERT_FILE), &cause), -1);
	assert_non_null(strstr(cause, "already revoked"));
	assert_int_equal(ca_revoke(path("ca", NULL), path("ca", CA_CERT_FILE),
	    &cause), -1);
	assert_non_null(strstr(cause, "CA's own"));

	/* A certificate of another CA (even of the same name) is not ours to revoke. */
	assert_int_equal(ca_init(path("ca2", NULL), "test CA", 30, &cause), 0);
	assert_int_equal(ca_issue(path("ca2", NULL), "node1", 1, path("f1",
	    NULL), 10, &cause), 0);
	assert_int_equal(ca_revoke(path("ca", NULL), path("f1",
	    CA_NODE_CERT_FILE), &cause), -1);
	assert_non_null(strstr(cause, "not issued by the CA"));
	free(cause);
}

/* Errors name the file and carry OpenSSL's reason. */
static void
test_errors_name_files(void **state)
{
	char	*cause = NULL;
	FILE	*f;

	assert_int_equal(ca_issue(path("nope", NULL), "node1", 1, path("n1",
	    NULL), 10, &cause), -1);
	assert_non_null(strstr(cause, path("nope", CA_CERT_FILE)));
	assert_non_null(strstr(cause, "No such file"));

	assert_int_equal(mkdir(path("junk", NULL), 0700), 0);
	assert_non_null(f = fopen(path("junk", CA_CERT_FILE), "w"));
	fputs("this is not PEM\n", f);
	fclose(f);
	assert_null(ca_read_cert(path("junk", CA_CERT_FILE), &cause));
	assert_non_null(strstr(cause, path("junk", CA_CERT_FILE)));
	assert_non_null(strstr(cause, "no start line"));
	assert_int_equal(ERR_peek_error(), 0);	/* the queue was consumed */

	/* A CA directory whose key belongs to another CA. */
	assert_int_equal(mkdir(path("mixed", NULL), 0700), 0);
	assert_int_equal(link(path("ca", CA_CERT_FILE), path("mixed",
	    CA_CERT_FILE)), 0);
	assert_int_equal(link(path("ca2", CA_KEY_FILE), path("mixed",
	    CA_KEY_FILE)), 0);
	assert_int_equal(ca_issue(path("mixed", NULL), "node1", 1, path("n1",
	    NULL), 10, &cause), -1);
	assert_non_null(strstr(cause, "does not match"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_files),
		cmocka_unit_test(test_init_refuses_existing),
		cmocka_unit_test(test_init_bad_args),
		cmocka_unit_test(test_issue),
		cmocka_unit_test(test_issue_at),
		cmocka_unit_test(test_issue_bad_args),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_errors_name_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
