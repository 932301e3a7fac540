/* test_admin.c: admin settings: values, ranges, the file's parse/format round trip, atomic save. */
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

#include "omm/admin.h"
#include "omm/loadvec.h"

static void
test_values(void **state)
{
	static const struct {
		const char	*setting;
		const char	*text;
		int		 ok;
		uint32_t	 value;
	} cases[] = {
		{ "speed", "12345", 1, 12345 },
		{ "speed", "auto", 1, 0 },
		{ "speed", "0", 1, 0 },
		{ "speed", "1000001", 0, 0 },
		{ "speed", "-1", 0, 0 },
		{ "speed", "12x", 0, 0 },
		{ "block", "on", 1, 1 },
		{ "block", "off", 1, 0 },
		{ "block", "yes", 0, 0 },
		{ "quiet", "on", 1, 1 },
		{ "loadlimit", "none", 1, 0 },
		{ "loadlimit", "150", 1, 150 },
		{ "loadlimit", "", 0, 0 },
		{ "balance", "on", 1, 1 },
		{ "balance", "off", 1, 0 },
		{ "balance", "1", 0, 0 },
		{ "balance", "none", 0, 0 },
	};
	uint32_t	v;
	char		*cause;
	size_t		i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint16_t	s = admin_setting_lookup(cases[i].setting);

		assert_int_not_equal(s, 0);
		assert_string_equal(admin_setting_name(s), cases[i].setting);
		cause = NULL;
		if (admin_value_parse(s, cases[i].text, &v, &cause) == 0) {
			if (!cases[i].ok)
				fail_msg("%s %s accepted", cases[i].setting,
				    cases[i].text);
			assert_int_equal(v, cases[i].value);
		} else {
			if (cases[i].ok)
				fail_msg("%s %s: %s", cases[i].setting,
				    cases[i].text, cause);
			assert_non_null(strstr(cause, cases[i].setting));
			free(cause);
		}
	}
	assert_int_equal(admin_setting_lookup("colour"), 0);
	assert_null(admin_setting_name(0));
	assert_null(admin_setting_name(ADMIN_NSETTINGS));
}

static void
test_apply(void **state)
{
	struct admin	a;
	char		*cause = NULL;

	admin_defaults(&a);
	assert_int_equal(admin_apply(&a, ADMIN_BLOCK, 1, &cause), 0);
	assert_int_equal(admin_apply(&a, ADMIN_QUIET, 1, &cause), 0);
	assert_int_equal(admin_apply(&a, ADMIN_SPEED, 500, &cause), 0);
	assert_int_equal(a.flags, LV_BLOCK | LV_QUIET);
	assert_int_equal(admin_get(&a, ADMIN_BLOCK), 1);
	assert_int_equal(admin_get(&a, ADMIN_STAY), 0);
	assert_int_equal(admin_get(&a, ADMIN_SPEED), 500);
	assert_int_equal(admin_apply(&a, ADMIN_BLOCK, 0, &cause), 0);
	assert_int_equal(a.flags, LV_QUIET);
	/* from the control socket: ranges are checked again */
	assert_int_not_equal(admin_apply(&a, ADMIN_BLOCK, 2, &cause), 0);
	free(cause);
	cause = NULL;
	assert_int_not_equal(admin_apply(&a, ADMIN_SPEED, LV_SPEED_MAX + 1,
	    &cause), 0);
	free(cause);
	cause = NULL;
	assert_int_not_equal(admin_apply(&a, 99, 1, &cause), 0);
	free(cause);
	assert_int_equal(a.speed, 500);
}

/*
 * balance: on by default (a zeroed struct, a file of before the setting),
 * off stops automatic migration only, and it is no load vector flag.
 */
static void
test_balance(void **state)
{
	static const char	*old = "speed 0\nblock off\nleft no\n";
	struct admin		 a, b, zero;
	struct buf		 out;
	char			*cause = NULL;

	admin_defaults(&a);
	assert_int_equal(admin_get(&a, ADMIN_BALANCE), 1);
	memset(&zero, 0, sizeof zero);
	assert_int_equal(admin_get(&zero, ADMIN_BALANCE), 1);
	assert_int_equal(admin_parse(&b, old, strlen(old), &cause), 0);
	assert_int_equal(admin_get(&b, ADMIN_BALANCE), 1);

	assert_int_equal(admin_apply(&a, ADMIN_BALANCE, 0, &cause), 0);
	assert_int_equal(admin_get(&a, ADMIN_BALANCE), 0);
	assert_int_equal(a.nobalance, 1);
	assert_int_equal(a.flags, 0);
	assert_int_not_equal(admin_apply(&a, ADMIN_BALANCE, 2, &cause), 0);
	assert_non_null(strstr(cause, "balance 2 is out of range"));
	free(cause);
	cause = NULL;
	assert_int_equal(admin_get(&a, ADMIN_BALANCE), 0);

	/* off is written out and read back; on again clears it */
	buf_init(&out);
	admin_format(&a, &out);
	assert_non_null(memmem(out.data, out.len, "balance off\n", 12));
	assert_int_equal(admin_parse(&b, (char *)out.data, out.len, &cause),
	    0);
	assert_int_equal(admin_get(&b, ADMIN_BALANCE), 0);
	assert_int_equal(admin_apply(&b, ADMIN_BALANCE, 1, &cause), 0);
	assert_int_equal(admin_get(&b, ADMIN_BALANCE), 1);
	assert_memory_equal(&b, &zero, sizeof b);
	buf_free(&out);
	assert_string_equal(admin_setting_name(ADMIN_BALANCE), "balance");
}

static void
test_file(void **state)
{
	static const char	*bad[] = {
		"speed\n", "speed 1 2\n", "colour red\n", "block maybe\n",
		"left perhaps\n", "speed 99999999\n", "balance 0\n",
	};
	struct admin	a, b;
	struct buf	out;
	char		dir[] = "/tmp/test_admin.XXXXXX", path[64], *cause = NULL;
	size_t		i;

	admin_defaults(&a);
	a.speed = 777;
	a.flags = LV_STAY | LV_LSTAY;
	a.loadlimit = 250;
	a.left = 1;
	a.nobalance = 1;
	buf_init(&out);
	admin_format(&a, &out);
	assert_int_equal(admin_parse(&b, (char *)out.data, out.len, &cause),
	    0);
	assert_memory_equal(&a, &b, sizeof a);
	buf_free(&out);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (admin_parse(&b, bad[i], strlen(bad[i]), &cause) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(cause, "line 1: "));
		free(cause);
	}

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/admin", dir);
	/* missing: the defaults */
	assert_int_equal(admin_load(&b, path, &cause), 0);
	assert_int_equal(b.flags, 0);
	assert_int_equal(admin_save(&a, path, &cause), 0);
	assert_int_equal(admin_load(&b, path, &cause), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* no temporary file is left behind */
	snprintf(path, sizeof path, "%s/admin.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof path, "%s/admin", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	/* a directory that does not exist: a cause, not a crash */
	cause = NULL;
	assert_int_not_equal(admin_save(&a, path, &cause), 0);
	assert_non_null(cause);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
