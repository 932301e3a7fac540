/* test_logrepeat.c: rate-limited log lines: which are logged, which counted, what the summary says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/log.h"

static const char	kind_a[] = "refused %s";
static const char	kind_b[] = "timed out %s";

/* What the log printed (stderr) since the last call. */
static char *
captured(FILE *f)
{
	static char	buf[8192];
	size_t		n;

	fflush(stderr);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	rewind(f);
	if (ftruncate(fileno(f), 0) != 0)
		fail_msg("ftruncate");
	return buf;
}

/* A window admits the first line of a kind and counts the others. */
static void
test_admit(void **state)
{
	static const struct {
		const char	*what;
		const void	*kind;
		int64_t		 at;
		int		 logged;
	} steps[] = {
		{ "first of a", kind_a, 1000, 1 },
		{ "a again at once", kind_a, 1001, 0 },
		{ "a 9.9 s later", kind_a, 10999, 0 },
		{ "first of b: another kind", kind_b, 5000, 1 },
		{ "a when its window is over", kind_a, 11000, 1 },
		{ "a in its new window", kind_a, 11500, 0 },
		{ "b in its window", kind_b, 14999, 0 },
	};
	size_t	i;

	log_init("t", LOG_TO_STDERR, 0);
	log_setrepeat(10);
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (log_repeat_admit(steps[i].kind, LOG_WARNING, steps[i].at,
		    steps[i].what) != steps[i].logged)
			fail_msg("%s: expected %s", steps[i].what,
			    steps[i].logged ? "logged" : "counted");
	}
	(void)log_repeat_flush_at(1000000);
}

/* The summary: how many, over how long, the last one; once. */
static void
test_summary(void **state)
{
	FILE	*f = tmpfile();
	char	*out, text[64];
	int	 saved = dup(2), i;

	assert_non_null(f);
	dup2(fileno(f), 2);
	log_init("t", LOG_TO_STDERR, 0);
	log_setrepeat(10);
	for (i = 0; i < 1500; i++) {
		snprintf(text, sizeof text, "refused 10.0.0.9:%d", 1000 + i);
		if (log_repeat_admit(kind_a, LOG_WARNING, 100000 + i * 5,
		    text))
			log_warnx("%s", text);
	}
	out = captured(f);
	assert_string_equal(out, "t: refused 10.0.0.9:1000\n");
	/* before the window is over nothing is said */
	assert_int_equal(log_repeat_flush_at(109000), 0);
	assert_int_equal(log_repeat_flush_at(110000), 1);
	out = captured(f);
	assert_string_equal(out, "t: 1499 more in 10 s like: refused "
	    "10.0.0.9:2499\n");
	assert_int_equal(log_repeat_flush_at(200000), 0);
	/* a new line of the kind after the window: logged, no summary */
	assert_int_equal(log_repeat_admit(kind_a, LOG_WARNING, 300000, "x"), 1);
	assert_int_equal(log_repeat_admit(kind_a, LOG_WARNING, 300001, "y"), 0);
	/* the next line after the window first sums up the last one */
	assert_int_equal(log_repeat_admit(kind_a, LOG_WARNING, 320000, "z"), 1);
	out = captured(f);
	assert_string_equal(out, "t: 1 more in 10 s like: y\n");
	(void)log_repeat_flush_at(1000000);
	dup2(saved, 2);
	close(saved);
	fclose(f);
}

/* 0 s: no limit at all. Many kinds: the oldest is summed up, none lost. */
static void
test_off_and_many_kinds(void **state)
{
	static char	kinds[40];
	FILE		*f = tmpfile();
	char		*out;
	int		 saved = dup(2), i;

	log_setrepeat(0);
	for (i = 0; i < 5; i++)
		assert_int_equal(log_repeat_admit(kind_a, LOG_WARNING, 1000,
		    "x"), 1);
	log_setrepeat(10);
	assert_non_null(f);
	dup2(fileno(f), 2);
	log_init("t", LOG_TO_STDERR, 0);
	for (i = 0; i < 40; i++) {
		assert_int_equal(log_repeat_admit(&kinds[i], LOG_WARNING,
		    5000 + i, "first"), 1);
		assert_int_equal(log_repeat_admit(&kinds[i], LOG_WARNING,
		    5000 + i, "second"), 0);
	}
	/* 32 slots: the 8 oldest kinds were summed up to make room */
	out = captured(f);
	for (i = 0; i < 8; i++) {
		assert_non_null(strstr(out, "t: 1 more in 1 s like: second\n"));
		out = strstr(out, "second\n") + 7;
	}
	assert_null(strstr(out, "second"));
	assert_int_equal(log_repeat_flush_at(100000), 32);
	dup2(saved, 2);
	close(saved);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_off_and_many_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
