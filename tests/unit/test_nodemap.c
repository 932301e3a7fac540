/* test_nodemap.c: node addresses and openMosix's map file: ranges, ports, every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/nodemap.h"

static void
test_addr_parse(void **state)
{
	static const struct {
		const char	*in;
		uint16_t	 defport;
		const char	*out;	/* NULL: refused */
	} cases[] = {
		{ "198.18.0.11", 7077, "198.18.0.11:7077" },
		{ "198.18.0.11:9", 7077, "198.18.0.11:9" },
		{ "*:7000", 7077, "*:7000" },
		{ "*", 7077, "*:7077" },
		{ "fd00::1", 7077, "[fd00::1]:7077" },
		{ "[fd00::1]:8000", 7077, "[fd00::1]:8000" },
		{ "198.18.0.11", 0, NULL },		/* port required */
		{ "198.18.0.11:0", 7077, NULL },
		{ "198.18.0.11:65536", 7077, NULL },
		{ "198.18.0.11:x", 7077, NULL },
		{ "node1", 7077, NULL },		/* no names */
		{ "", 7077, NULL },
		{ "[fd00::1", 7077, NULL },
		{ "[fd00::1]x", 7077, NULL },
		{ "1.2.3.4.5", 7077, NULL },
	};
	struct node_addr	a;
	char			buf[NODE_ADDR_STRLEN], *cause;
	size_t			i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		if (cases[i].out == NULL) {
			if (node_addr_parse(cases[i].in, cases[i].defport, &a,
			    &cause) == 0)
				fail_msg("'%s' accepted", cases[i].in);
			assert_non_null(cause);
			free(cause);
			continue;
		}
		if (node_addr_parse(cases[i].in, cases[i].defport, &a,
		    &cause) != 0)
			fail_msg("'%s' refused: %s", cases[i].in, cause);
		assert_string_equal(node_addr_str(&a, buf, sizeof buf),
		    cases[i].out);
	}
}

static void
test_addr_sockaddr(void **state)
{
	struct sockaddr_storage	ss;
	struct node_addr	a, b;
	socklen_t		len;

	assert_int_equal(node_addr_parse("[fd00::7]:99", 0, &a, NULL), 0);
	assert_int_equal(node_addr_to_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(node_addr_from_sockaddr((struct sockaddr *)&ss, len,
	    &b), 0);
	assert_true(node_addr_equal(&a, &b));
	assert_int_equal(node_addr_parse("10.0.0.1:5", 0, &a, NULL), 0);
	assert_int_equal(node_addr_to_sockaddr(&a, &ss, &len), 0);
	assert_int_equal(node_addr_from_sockaddr((struct sockaddr *)&ss, len,
	    &b), 0);
	assert_true(node_addr_equal(&a, &b));
	memset(&a, 0, sizeof a);
	assert_int_equal(node_addr_to_sockaddr(&a, &ss, &len), -1);
	assert_false(node_addr_is_any(&a));
}

static void
test_map_ranges(void **state)
{
	static const char	text[] =
	    "# id address count\n"
	    "1 198.18.0.11 1\n"
	    "\t2   198.18.0.12   # count defaults to 1\n"
	    "10 10.0.0.254:9000 4\n"	/* crosses an octet */
	    "20 [fd00::ff] 2\n"
	    "\n";
	struct nodemap		m;
	char			buf[NODE_ADDR_STRLEN], *cause = NULL;

	assert_int_equal(nodemap_parse(&m, text, strlen(text), 7077, &cause),
	    0);
	assert_int_equal(m.n, 8);
	assert_string_equal(node_addr_str(&nodemap_find(&m, 2)->addr, buf,
	    sizeof buf), "198.18.0.12:7077");
	assert_string_equal(node_addr_str(&nodemap_find(&m, 11)->addr, buf,
	    sizeof buf), "10.0.0.255:9000");
	assert_string_equal(node_addr_str(&nodemap_find(&m, 12)->addr, buf,
	    sizeof buf), "10.0.1.0:9000");
	assert_string_equal(node_addr_str(&nodemap_find(&m, 13)->addr, buf,
	    sizeof buf), "10.0.1.1:9000");
	assert_string_equal(node_addr_str(&nodemap_find(&m, 21)->addr, buf,
	    sizeof buf), "[fd00::100]:7077");
	assert_null(nodemap_find(&m, 14));
	nodemap_free(&m);
	assert_null(m.ent);
}

static void
test_map_rejects(void **state)
{
	static const struct {
		const char	*text;
		const char	*expect;
	} cases[] = {
		{ "1\n", "line 1: expected 'ID ADDRESS [COUNT]'" },
		{ "1 1.2.3.4 1 x\n", "line 1: expected" },
		{ "\n0 1.2.3.4\n", "line 2: node id '0' is out of range" },
		{ "x 1.2.3.4\n", "not a number" },
		{ "1 1.2.3.4\n1 1.2.3.5\n", "line 2: node 1 given twice" },
		{ "1 1.2.3.4 2\n2 1.2.3.9\n", "line 2: node 2 given twice" },
		{ "1 1.2.3.4 0\n", "count '0' is out of range" },
		{ "1 255.255.255.255 2\n", "run past the last address" },
		{ "4294967295 1.2.3.4 2\n", "run past 2^32" },
		{ "1 *\n", "not a node's address" },
		{ "1 host.example\n", "not an IP address" },
		{ "1 1.2.3.4 70000\n", "more than 65536 nodes" },
	};
	struct nodemap	m;
	char		*cause;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		if (nodemap_parse(&m, cases[i].text, strlen(cases[i].text),
		    7077, &cause) == 0)
			fail_msg("case %zu accepted", i);
		if (strstr(cause, cases[i].expect) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, cause,
			    cases[i].expect);
		assert_null(m.ent);
		free(cause);
	}
	/* a NUL inside a line */
	cause = NULL;
	assert_int_not_equal(nodemap_parse(&m, "1 1.2\0.3.4\n", 11, 7077,
	    &cause), 0);
	free(cause);
}

static void
test_map_load(void **state)
{
	char		 path[] = "/tmp/test_nodemap.XXXXXX", *cause = NULL;
	struct nodemap	 m;
	FILE		*f;
	int		 fd;

	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("1 198.18.0.11 1\nbad line here now\n", f);
	fclose(f);
	assert_int_not_equal(nodemap_load(&m, path, 7077, &cause), 0);
	assert_non_null(strstr(cause, ":2: "));
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	assert_non_null(f = fopen(path, "w"));
	fputs("1 198.18.0.11 3\n", f);
	fclose(f);
	assert_int_equal(nodemap_load(&m, path, 7077, &cause), 0);
	assert_int_equal(m.n, 3);
	nodemap_free(&m);
	unlink(path);
	assert_int_not_equal(nodemap_load(&m, path, 7077, &cause), 0);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_sockaddr),
		cmocka_unit_test(test_map_ranges),
		cmocka_unit_test(test_map_rejects),
		cmocka_unit_test(test_map_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
