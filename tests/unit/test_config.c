/* test_config.c: ommd.conf parsing: defaults, every key, every refusal with its line. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/config.h"

static void
test_defaults(void **state)
{
	struct omm_config	c;

	config_defaults(&c);
	assert_string_equal(c.socket_path, OMM_SOCK_PATH);
	assert_string_equal(c.state_dir, OMM_STATE_DIR);
	assert_int_equal(c.verbose, 0);
	assert_int_equal(c.log_syslog, 1);
	/* a guest may use half the node's memory */
	assert_int_equal(c.guest_memory, 0);
	assert_int_equal(c.guest_memory_pct, 50);
	assert_int_equal(config_guest_memory(&c, 8ULL << 30), 4ULL << 30);
	config_free(&c);
	assert_null(c.socket_path);
}

/* guest_memory: bytes with a unit, or a share of the node's memory. */
static void
test_guest_memory(void **state)
{
	static const struct {
		const char	*text;
		uint64_t	 bytes;
		uint32_t	 pct;
	} cases[] = {
		{ "guest_memory = 64M\n", 64ULL << 20, 0 },
		{ "guest_memory = 64MB\n", 64ULL << 20, 0 },
		{ "guest_memory = 2g\n", 2ULL << 30, 0 },
		{ "guest_memory = 1T\n", 1ULL << 40, 0 },
		{ "guest_memory = 4096K\n", 4ULL << 20, 0 },
		{ "guest_memory = 1048576\n", 1ULL << 20, 0 },
		{ "guest_memory = 25%\n", 0, 25 },
		{ "guest_memory = 100%\n", 0, 100 },
	};
	struct omm_config	c;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_defaults(&c);
		if (config_parse(&c, cases[i].text, strlen(cases[i].text),
		    &cause) != 0)
			fail_msg("%s: %s", cases[i].text, cause);
		if (c.guest_memory != cases[i].bytes ||
		    c.guest_memory_pct != cases[i].pct)
			fail_msg("%s: %llu bytes, %u%%", cases[i].text,
			    (unsigned long long)c.guest_memory,
			    c.guest_memory_pct);
		config_free(&c);
	}
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "guest_memory = 10%\n", 19,
	    &cause), 0);
	assert_int_equal(config_guest_memory(&c, 1000ULL << 20), 100ULL << 20);
	config_free(&c);
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "guest_memory = 3M\n", 18, &cause),
	    0);
	assert_int_equal(config_guest_memory(&c, 1000ULL << 20), 3ULL << 20);
	config_free(&c);
}

static void
test_parse_all_keys(void **state)
{
	static const char	text[] =
	    "# ommd.conf\n"
	    "\n"
	    "   socket = /tmp/x y/ommd.sock  \n"
	    "state_dir=/var/lib/omm#2\r\n"	/* '#' inside a value stays */
	    "\t# indented comment\n"
	    "verbose = 3\n"
	    "log = stderr";			/* no final newline */
	struct omm_config	c;
	char			*cause = NULL;

	config_defaults(&c);
	assert_int_equal(config_parse(&c, text, strlen(text), &cause), 0);
	assert_null(cause);
	assert_string_equal(c.socket_path, "/tmp/x y/ommd.sock");
	assert_string_equal(c.state_dir, "/var/lib/omm#2");
	assert_int_equal(c.verbose, 3);
	assert_int_equal(c.log_syslog, 0);
	config_free(&c);

	config_defaults(&c);
	assert_int_equal(config_parse(&c, "log = syslog\n", 13, &cause), 0);
	assert_int_equal(c.log_syslog, 1);
	/* an empty text keeps the defaults */
	assert_int_equal(config_parse(&c, "", 0, &cause), 0);
	assert_string_equal(c.socket_path, OMM_SOCK_PATH);
	config_free(&c);
}

/* Only the first len bytes count: the text need not be NUL-terminated. */
static void
test_parse_length(void **state)
{
	static const char	text[] = "verbose = 2\nbogus = 1\n";
	struct omm_config	c;
	char			*cause = NULL;

	config_defaults(&c);
	assert_int_equal(config_parse(&c, text, 12, &cause), 0);
	assert_int_equal(c.verbose, 2);
	config_free(&c);
}

static const struct {
	const char	*label;
	const char	*text;
	const char	*expect;
} rejects[] = {
	{ "unknown key", "verbose = 1\n\nsockets = /x\n",
	    "line 3: unknown key 'sockets'" },
	{ "no equals sign", "socket /x\n", "line 1: expected 'key = value'" },
	{ "no key", " = /x\n", "line 1: missing key before '='" },
	{ "no value", "socket =   \n", "line 1: missing value for socket" },
	{ "verbose not a number", "verbose = lots\n",
	    "line 1: verbose must be 0 to 9, not 'lots'" },
	{ "verbose too high", "verbose = 10\n", "verbose must be 0 to 9" },
	{ "verbose negative", "verbose = -1\n", "verbose must be 0 to 9" },
	{ "verbose trailing junk", "verbose = 1x\n", "not '1x'" },
	{ "log unknown", "log = file\n",
	    "line 1: log must be stderr or syslog, not 'file'" },
	{ "socket relative", "socket = run/ommd.sock\n",
	    "'run/ommd.sock' is not an absolute path" },
	{ "socket too long", "socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa\n", "longer than 107 bytes" },
	{ "state_dir relative", "state_dir = omm\n",
	    "'omm' is not an absolute path" },
	{ "key twice", "log = syslog\nlog = stderr\n", "line 2: log given twice" },
	{ "key with a space", "state dir = /x\n", "unknown key 'state dir'" },
	{ "prefix of a key", "sock = /x\n", "unknown key 'sock'" },
	{ "node_id 0", "node_id = 0\n", "line 1: node_id must be 1 to" },
	{ "node_name bad", "node_name = -x\n", "node_name '-x' is not" },
	{ "listen a name", "listen = node1:7077\n",
	    "line 1: listen: 'node1' is not an IP address" },
	{ "listen port 0", "listen = 1.2.3.4:0\n", "listen: port '0'" },
	{ "ca relative", "ca = ca.crt\n", "'ca.crt' is not an absolute path" },
	{ "discovery maybe", "discovery = maybe\n",
	    "discovery must be on or off, not 'maybe'" },
	{ "mcast_group unicast", "listen = *\nmcast_group = 10.0.0.1\n",
	    "line 2: mcast_group '10.0.0.1' is not a multicast address" },
	{ "mcast_if too long", "mcast_if = abcdefghijklmnopq\n",
	    "is not an interface name" },
	{ "gossip interval reversed", "gossip_interval_ms = 900-300\n",
	    "900-300: the first is larger" },
	{ "gossip interval tiny", "gossip_interval_ms = 5\n",
	    "gossip_interval_ms must be 10 to 60000" },
	{ "window too big", "window = 65\n", "window must be 2 to 64" },
	{ "speed 0", "speed = 0\n", "speed must be 1 to 1000000" },
	{ "map without listen", "map = /etc/omm/omm.map\n",
	    "'map' needs 'listen'" },
	{ "discovery without listen", "discovery = on\n",
	    "'discovery' needs 'listen'" },
	{ "guest_memory junk", "guest_memory = lots\n",
	    "line 1: guest_memory: 'lots' is not a size" },
	{ "guest_memory unknown unit", "guest_memory = 5X\n",
	    "guest_memory: '5X' is not a size" },
	{ "guest_memory 0%", "guest_memory = 0%\n",
	    "guest_memory: '0%': a percentage is 1% to 100%" },
	{ "guest_memory 101%", "guest_memory = 101%\n", "1% to 100%" },
	{ "guest_memory tiny", "guest_memory = 1000\n",
	    "guest_memory '1000' is under 1M" },
	{ "guest_memory huge", "guest_memory = 99999999999T\n",
	    "guest_memory: '99999999999T' is too large" },
	{ "guest_memory negative", "guest_memory = -1M\n", "is not a size" },
	{ "dead_after within the interval",
	    "gossip_interval_ms = 1000-2000\ndead_after_ms = 1500\n",
	    "dead_after_ms 1500 must exceed the gossip interval" },
};

static void
test_fabric_keys(void **state)
{
	static const char	text[] =
	    "node_id = 42\n"
	    "node_name = node42\n"
	    "listen = 198.18.0.11\n"
	    "ca = /e/ca.crt\ncert = /e/n.crt\nkey = /e/n.key\ncrl = /e/ca.crl\n"
	    "map = /e/omm.map\n"
	    "discovery = on\n"
	    "mcast_group = 239.1.2.3:9999\n"
	    "mcast_if = eth0\n"
	    "gossip_interval_ms = 300-600\n"
	    "dead_after_ms = 3000\n"
	    "window = 8\n"
	    "speed = 20000\n"
	    "load_cgroup = /sys/fs/cgroup/x\n";
	struct omm_config	c;
	char			*cause = NULL;

	config_defaults(&c);
	assert_int_equal(c.fabric, 0);
	assert_int_equal(c.gossip_min_ms, 500);
	assert_int_equal(c.gossip_max_ms, 1000);
	assert_int_equal(c.dead_after_ms, 5000);
	assert_int_equal(c.window, 20);
	assert_string_equal(c.cert, "/etc/omm/node.crt");
	assert_int_equal(c.mcast_group.port, OMM_MCAST_PORT);
	if (config_parse(&c, text, strlen(text), &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(c.fabric, 1);
	assert_int_equal(c.node_id, 42);
	assert_string_equal(c.node_name, "node42");
	assert_int_equal(c.listen.family, NODE_AF_INET);
	assert_int_equal(c.listen.port, OMM_LISTEN_PORT);
	assert_string_equal(c.key, "/e/n.key");
	assert_string_equal(c.map_path, "/e/omm.map");
	assert_int_equal(c.discovery, 1);
	assert_int_equal(c.mcast_group.port, 9999);
	assert_string_equal(c.mcast_if, "eth0");
	assert_int_equal(c.gossip_min_ms, 300);
	assert_int_equal(c.gossip_max_ms, 600);
	assert_int_equal(c.dead_after_ms, 3000);
	assert_int_equal(c.window, 8);
	assert_int_equal(c.speed, 20000);
	assert_string_equal(c.load_cgroup, "/sys/fs/cgroup/x");
	config_free(&c);
	assert_null(c.map_path);

	/* one interval: N..N */
	config_defaults(&c);
	assert_int_equal(config_parse(&c, "gossip_interval_ms = 700\n", 25,
	    &cause), 0);
	assert_int_equal(c.gossip_min_ms, 700);
	assert_int_equal(c.gossip_max_ms, 700);
	config_free(&c);
}

static void
test_parse_rejects(void **state)
{
	struct omm_config	c;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
		config_defaults(&c);
		cause = NULL;
		if (config_parse(&c, rejects[i].text, strlen(rejects[i].text),
		    &cause) == 0)
			fail_msg("%s: accepted", rejects[i].label);
		if (cause == NULL || strstr(cause, rejects[i].expect) == NULL)
			fail_msg("%s: cause '%s', expected '%s'",
			    rejects[i].label, cause, rejects[i].expect);
		free(cause);
		config_free(&c);
	}
}

static void
test_parse_binary(void **state)
{
	static const char	text[] = "verbose = 1\nlog\0 = stderr\n";
	struct omm_config	c;
	char			*cause = NULL, *longline;

	config_defaults(&c);
	assert_int_equal(config_parse(&c, text, sizeof text - 1, &cause), -1);
	assert_string_equal(cause, "line 2: NUL byte in line");

	longline = malloc(5000);
	memset(longline, ' ', 5000);
	assert_int_equal(config_parse(&c, longline, 5000, &cause), -1);
	assert_string_equal(cause, "line 1: line longer than 4096 bytes");
	free(longline);
	free(cause);
	config_free(&c);
}

static char *
write_tmp(const char *dir, const char *name, const char *text, size_t len)
{
	char	*path;
	FILE	*f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
test_load(void **state)
{
	struct omm_config	 c;
	char			 dir[] = "/tmp/test_config.XXXXXX";
	char			*cause = NULL, *good, *bad, *missing, *huge,
				*big;

	assert_non_null(mkdtemp(dir));
	good = write_tmp(dir, "good.conf", "verbose = 4\n", 12);
	bad = write_tmp(dir, "bad.conf", "# x\nverbose = 1\nfoo = bar\n", 26);
	big = calloc(1, 70000);
	memset(big, '#', 69999);
	huge = write_tmp(dir, "huge.conf", big, 69999);
	assert_true(asprintf(&missing, "%s/missing.conf", dir) > 0);

	config_defaults(&c);
	assert_int_equal(config_load(&c, good, 1, &cause), 0);
	assert_int_equal(c.verbose, 4);

	/* a missing default file is fine; a missing named one is not */
	assert_int_equal(config_load(&c, missing, 0, &cause), 0);
	assert_null(cause);
	assert_int_equal(config_load(&c, missing, 1, &cause), -1);
	assert_non_null(strstr(cause, "missing.conf: No such file"));

	/* causes name the file and the line */
	assert_int_equal(config_load(&c, bad, 0, &cause), -1);
	assert_non_null(strstr(cause, "bad.conf:3: unknown key 'foo'"));

	assert_int_equal(config_load(&c, dir, 1, &cause), -1);
	assert_non_null(strstr(cause, "not a regular file"));
	assert_int_equal(config_load(&c, huge, 1, &cause), -1);
	assert_non_null(strstr(cause, "at most 65536"));
	config_free(&c);

	unlink(good);
	unlink(bad);
	unlink(huge);
	rmdir(dir);
	free(good);
	free(bad);
	free(huge);
	free(big);
	free(missing);
	free(cause);
}

/* The limit keys: defaults, values, refusals. */
static void
test_limit_keys(void **state)
{
	static const char	 text[] =
	    "handshake_timeout_ms = 2500\n"
	    "handshake_per_source = 4\n"
	    "handshake_max = 64\n"
	    "control_per_user = 8\n"
	    "control_max = 100\n"
	    "control_idle_s = 5\n"
	    "log_repeat_s = 0\n";
	static const char	*bad[] = {
		"handshake_timeout_ms = 10\n",
		"handshake_per_source = 0\n",
		"control_per_user = -1\n",
		"control_idle_s = 0\n",
		"log_repeat_s = 3601\n",
	};
	struct omm_config	 c;
	char			*cause = NULL;
	size_t			 i;

	config_defaults(&c);
	assert_int_equal(c.handshake_ms, 10000);
	assert_int_equal(c.handshake_per_source, 16);
	assert_int_equal(c.handshake_max, 128);
	assert_int_equal(c.control_per_user, 64);
	assert_int_equal(c.control_max, 256);
	assert_int_equal(c.control_idle_s, 60);
	assert_int_equal(c.log_repeat_s, 10);
	if (config_parse(&c, text, strlen(text), &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(c.handshake_ms, 2500);
	assert_int_equal(c.handshake_per_source, 4);
	assert_int_equal(c.handshake_max, 64);
	assert_int_equal(c.control_per_user, 8);
	assert_int_equal(c.control_max, 100);
	assert_int_equal(c.control_idle_s, 5);
	assert_int_equal(c.log_repeat_s, 0);
	config_free(&c);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		config_defaults(&c);
		if (config_parse(&c, bad[i], strlen(bad[i]), &cause) == 0)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(cause, "must be"));
		free(cause);
		cause = NULL;
		config_free(&c);
	}
}

/* What a reload reports: the keys that changed, and which apply live. */
static void
test_diff(void **state)
{
	static const struct {
		const char	*text;
		const char	*keys;	/* changed keys, '+' if live */
	} cases[] = {
		{ "", "" },
		{ "verbose = 0\n", "" },
		{ "verbose = 2\n", "verbose+" },
		{ "crl = /tmp/x.crl\ncontrol_idle_s = 9\n", "crl+ control_idle_s+" },
		{ "window = 30\nlisten = 10.0.0.1\n", "listen window" },
		{ "gossip_interval_ms = 500-1500\n", "gossip_interval_ms" },
		{ "guest_memory = 50%\n", "" },
		{ "guest_memory = 1G\n", "guest_memory" },
		{ "node_name = x\nhandshake_max = 9\n", "node_name handshake_max+" },
	};
	struct config_change	 ch[16];
	struct omm_config	 a, b;
	char			 got[256], *cause = NULL;
	size_t			 i, j, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_defaults(&a);
		config_defaults(&b);
		if (config_parse(&b, cases[i].text, strlen(cases[i].text),
		    &cause) != 0)
			fail_msg("%s", cause);
		n = config_diff(&a, &b, ch, 16);
		got[0] = '\0';
		for (j = 0; j < n; j++)
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s%s%s", j > 0 ? " " : "", ch[j].key,
			    ch[j].live ? "+" : "");
		if (strcmp(got, cases[i].keys) != 0)
			fail_msg("%s: got '%s', expected '%s'", cases[i].text,
			    got, cases[i].keys);
		/* symmetric */
		assert_int_equal(config_diff(&b, &a, ch, 16), n);
		config_free(&a);
		config_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_parse_all_keys),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_binary),
		cmocka_unit_test(test_fabric_keys),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_guest_memory),
		cmocka_unit_test(test_limit_keys),
		cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
