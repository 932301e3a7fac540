/* test_connlimit.c: connections held per source and in all: limits, keys, giving back. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "omm/connlimit.h"

static void
key4(struct cl_key *k, const char *ip, uint16_t port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	cl_key_addr(k, (struct sockaddr *)&sin, sizeof sin);
}

static void
key6(struct cl_key *k, const char *ip, uint16_t port)
{
	struct sockaddr_in6	sin6;

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	cl_key_addr(k, (struct sockaddr *)&sin6, sizeof sin6);
}

/* Which addresses count as one source, and how they are shown. */
static void
test_keys(void **state)
{
	static const struct {
		const char	*what;
		const char	*a, *b;	/* ':' in it: IPv6 */
		int		 same;
		const char	*shown;	/* of a */
	} cases[] = {
		{ "ports do not matter", "198.18.0.5", "198.18.0.5", 1,
		    "198.18.0.5" },
		{ "another IPv4 host", "198.18.0.5", "198.18.0.6", 0,
		    "198.18.0.5" },
		{ "one IPv6 /64", "fd00:0:0:1::5", "fd00:0:0:1:ffff::9", 1,
		    "fd00:0:0:1::/64" },
		{ "another /64", "fd00:0:0:1::5", "fd00:0:0:2::5", 0,
		    "fd00:0:0:1::/64" },
		{ "v4-mapped is the IPv4 host", "::ffff:198.18.0.5",
		    "198.18.0.5", 1, "198.18.0.5" },
	};
	struct cl_key	 ka, kb;
	char		 s[64];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strchr(cases[i].a, ':') != NULL)
			key6(&ka, cases[i].a, 1000);
		else
			key4(&ka, cases[i].a, 1000);
		if (strchr(cases[i].b, ':') != NULL)
			key6(&kb, cases[i].b, 2000);
		else
			key4(&kb, cases[i].b, 2000);
		if (cases[i].same != (ka.len == kb.len &&
		    memcmp(ka.b, kb.b, ka.len) == 0))
			fail_msg("%s: %s and %s", cases[i].what, cases[i].a,
			    cases[i].b);
		assert_string_equal(cl_key_str(&ka, s, sizeof s),
		    cases[i].shown);
	}
	cl_key_uid(&ka, 1001);
	assert_string_equal(cl_key_str(&ka, s, sizeof s), "uid 1001");
	cl_key_uid(&kb, 1002);
	assert_false(ka.len == kb.len && memcmp(ka.b, kb.b, ka.len) == 0);
}

/* One source fills its share; others still get in; the total binds last. */
static void
test_limits(void **state)
{
	struct connlimit	*cl = connlimit_new(3, 5);
	struct cl_key		 a, b, c;
	int			 i;

	key4(&a, "10.0.0.1", 1);
	key4(&b, "10.0.0.2", 1);
	key4(&c, "10.0.0.3", 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(connlimit_take(cl, &a), CL_OK);
	assert_int_equal(connlimit_take(cl, &a), CL_SOURCE_FULL);
	assert_int_equal(connlimit_count(cl, &a), 3);
	assert_int_equal(connlimit_take(cl, &b), CL_OK);
	assert_int_equal(connlimit_take(cl, &b), CL_OK);
	assert_int_equal(connlimit_total(cl), 5);
	/* a new source is refused by the total, a full one by its own */
	assert_int_equal(connlimit_take(cl, &c), CL_ALL_FULL);
	assert_int_equal(connlimit_take(cl, &a), CL_SOURCE_FULL);
	assert_int_equal(connlimit_sources(cl), 2);
	/* giving back makes room, and a source at 0 is forgotten */
	connlimit_put(cl, &b);
	assert_int_equal(connlimit_take(cl, &c), CL_OK);
	connlimit_put(cl, &c);
	connlimit_put(cl, &b);
	assert_int_equal(connlimit_sources(cl), 1);
	assert_int_equal(connlimit_count(cl, &b), 0);
	assert_int_equal(connlimit_total(cl), 3);
	/* new limits apply to the next take; what is held stays */
	connlimit_set(cl, 1, 0);
	assert_int_equal(connlimit_take(cl, &a), CL_SOURCE_FULL);
	assert_int_equal(connlimit_take(cl, &b), CL_OK);
	assert_int_equal(connlimit_take(cl, &b), CL_SOURCE_FULL);
	connlimit_set(cl, 0, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(connlimit_take(cl, &c), CL_OK);
	for (i = 0; i < 1000; i++)
		connlimit_put(cl, &c);
	for (i = 0; i < 3; i++)
		connlimit_put(cl, &a);
	connlimit_put(cl, &b);
	assert_int_equal(connlimit_total(cl), 0);
	assert_int_equal(connlimit_sources(cl), 0);
	connlimit_free(cl);
}

/* Many sources, through hash collisions: each counted on its own. */
static void
test_many_sources(void **state)
{
	struct connlimit	*cl = connlimit_new(2, 0);
	struct cl_key		 k;
	char			 ip[32];
	int			 i;

	for (i = 0; i < 2000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
		key4(&k, ip, 1);
		assert_int_equal(connlimit_take(cl, &k), CL_OK);
		assert_int_equal(connlimit_take(cl, &k), CL_OK);
		assert_int_equal(connlimit_take(cl, &k), CL_SOURCE_FULL);
	}
	assert_int_equal(connlimit_sources(cl), 2000);
	assert_int_equal(connlimit_total(cl), 4000);
	for (i = 0; i < 2000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
		key4(&k, ip, 1);
		connlimit_put(cl, &k);
		assert_int_equal(connlimit_count(cl, &k), 1);
	}
	assert_int_equal(connlimit_sources(cl), 2000);
	connlimit_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
