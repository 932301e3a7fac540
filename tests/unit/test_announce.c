/* test_announce.c: the discovery datagram: round trip, truncation at every length, every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "omm/announce.h"

static void
fill(struct announce *an)
{
	memset(an, 0, sizeof *an);
	an->node = 3;
	an->incarnation = 1795500000000ULL;
	strcpy(an->name, "node3");
	an->addr.family = NODE_AF_INET;
	an->addr.addr[0] = 198;
	an->addr.addr[1] = 18;
	an->addr.addr[3] = 13;
	an->addr.port = 7077;
}

static void
test_roundtrip(void **state)
{
	struct announce	in, out;
	struct buf	b;
	char		*cause = NULL;

	fill(&in);
	buf_init(&b);
	announce_encode(&b, &in);
	assert_int_equal(announce_decode(b.data, b.len, &out, &cause), 0);
	assert_memory_equal(&in, &out, sizeof in);
	/* family 0: "the address this came from", with a port */
	memset(&in.addr, 0, sizeof in.addr);
	in.addr.port = 7077;
	buf_reset(&b);
	announce_encode(&b, &in);
	assert_int_equal(announce_decode(b.data, b.len, &out, &cause), 0);
	assert_int_equal(out.addr.family, NODE_AF_NONE);
	assert_int_equal(out.addr.port, 7077);
	buf_free(&b);
}

static void
test_truncation(void **state)
{
	struct announce	in, out;
	struct buf	b;
	char		*cause;
	size_t		n;

	fill(&in);
	buf_init(&b);
	announce_encode(&b, &in);
	for (n = 0; n < b.len; n++) {
		cause = NULL;
		assert_int_not_equal(announce_decode(b.data, n, &out, &cause),
		    0);
		assert_non_null(cause);
		free(cause);
	}
	buf_add_u8(&b, 0);
	cause = NULL;
	assert_int_not_equal(announce_decode(b.data, b.len, &out, &cause), 0);
	assert_non_null(strstr(cause, "after the announcement"));
	free(cause);
	buf_free(&b);
}

/* Patch bytes at off of a valid datagram; expect a cause with text. */
static void
reject(size_t off, const void *val, size_t len, const char *expect)
{
	struct announce	in, out;
	struct buf	b;
	char		*cause = NULL;

	fill(&in);
	buf_init(&b);
	announce_encode(&b, &in);
	memcpy(b.data + off, val, len);
	assert_int_not_equal(announce_decode(b.data, b.len, &out, &cause), 0);
	if (strstr(cause, expect) == NULL)
		fail_msg("'%s' lacks '%s'", cause, expect);
	free(cause);
	buf_free(&b);
}

static void
test_rejects(void **state)
{
	static const uint8_t	zero8[8], v2[2] = { 2, 0 }, f1[2] = { 1, 0 };
	static const uint8_t	big[4] = { 64, 0, 0, 0 }, dash = '-';
	static const uint8_t	fam = 5, nul = 0, stray = 1;

	reject(0, "XMMA", 4, "not an omm announcement");
	reject(4, v2, 2, "announcement version 2");
	reject(6, f1, 2, "announcement flags 0x1");
	reject(8, zero8, 4, "node id 0");
	reject(12, zero8, 8, "incarnation 0");
	reject(20, big, 4, "node name of 64 bytes");
	reject(24, &dash, 1, "invalid node name");	/* "-ode3" */
	reject(26, &nul, 1, "NUL byte");
	reject(29, &fam, 1, "address family 5");
	reject(29 + 1 + 5, &stray, 1, "set beyond family");
	reject(29 + 17, zero8, 2, "port 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
