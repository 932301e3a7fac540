/* test_loadvec.c: measuring the load vector: parsers, smoothing, this machine. */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/buf.h"
#include "omm/loadvec.h"
#include "omm/wire.h"

static const char stat_text[] =
    "cpu  8215 14 5190 1530611 1034 0 244 0 0 0\n"
    "cpu0 4112 7 2601 765262 510 0 131 0 0 0\n"
    "intr 1212851 0 9 0 0 0 0 0 0 0 0 0 0 156 0 0 0\n"
    "ctxt 2458862\n"
    "btime 1732500000\n"
    "processes 25613\n"
    "procs_running 3\n"
    "procs_blocked 0\n"
    "softirq 583215 2 140164 3 20412 0 0 1290 223718 0 197626\n";

static const char meminfo_text[] =
    "MemTotal:       24684040 kB\n"
    "MemFree:        24206312 kB\n"
    "MemAvailable:   24263708 kB\n"
    "Buffers:           25192 kB\n";

static const char meminfo_old[] =
    "MemTotal:       1000 kB\n"
    "MemFree:         400 kB\n"
    "Buffers:           1 kB\n";

static const struct parse_case {
	const char	*what;
	int		 kind;		/* 0 stat, 1 meminfo, 2 cpu.stat */
	const char	*text;
	int		 ok;
	uint64_t	 a, b;		/* expected values */
} parse_cases[] = {
	{ "/proc/stat", 0, stat_text, 1, 3, 0 },
	{ "procs_running last, no newline", 0, "ctxt 1\nprocs_running 17", 1,
	    17, 0 },
	{ "no procs_running", 0, "cpu 1 2 3\nprocs_blocked 0\n", 0, 0, 0 },
	{ "procs_running not a number", 0, "procs_running x\n", 0, 0, 0 },
	{ "procs_running only inside a line", 0, "xprocs_running 3\n", 0, 0,
	    0 },
	{ "procs_running overflowing", 0,
	    "procs_running 99999999999999999999999\n", 0, 0, 0 },
	{ "procs_running over u32", 0, "procs_running 4294967296\n", 0, 0,
	    0 },
	{ "/proc/meminfo", 1, meminfo_text, 1, 24684040, 24263708 },
	{ "meminfo before MemAvailable", 1, meminfo_old, 1, 1000, 400 },
	{ "no MemTotal", 1, "MemFree: 5 kB\n", 0, 0, 0 },
	{ "available over total", 1, "MemTotal: 5 kB\nMemAvailable: 9 kB\n",
	    1, 5, 5 },
	{ "empty meminfo", 1, "", 0, 0, 0 },
	{ "cgroup v2 cpu.stat", 2,
	    "usage_usec 123456789\nuser_usec 1\nsystem_usec 2\n", 1,
	    123456789, 0 },
	{ "cpu.stat without usage", 2, "user_usec 1\n", 0, 0, 0 },
};

static void
test_parsers(void **state)
{
	const struct parse_case	*c;
	uint64_t		 a, b;
	uint32_t		 r;
	size_t			 i;
	char			*cause;
	int			 rc;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		c = &parse_cases[i];
		a = b = 0xdead;
		cause = NULL;
		switch (c->kind) {
		case 0:
			rc = loadvec_parse_stat(c->text, strlen(c->text), &r,
			    &cause);
			a = r;
			break;
		case 1:
			rc = loadvec_parse_meminfo(c->text, strlen(c->text), &a,
			    &b, &cause);
			break;
		default:
			rc = loadvec_parse_cpustat(c->text, strlen(c->text), &a,
			    &cause);
			break;
		}
		if (c->ok && rc != 0)
			fail_msg("%s: %s", c->what, cause);
		if (!c->ok) {
			if (rc != -1 || cause == NULL)
				fail_msg("%s: accepted", c->what);
			free(cause);
			continue;
		}
		assert_int_equal(a, c->a);
		if (c->kind == 1)
			assert_int_equal(b, c->b);
	}
	/* Text need not end in NUL: a cut after "3" reads 3, not 33. */
	assert_int_equal(loadvec_parse_stat("procs_running 33", 15, &r, NULL),
	    0);
	assert_int_equal(r, 3);
}

static void
test_smooth(void **state)
{
	uint32_t	v = 0;
	int		i;

	/* dt = tau: halfway. */
	assert_int_equal(loadvec_smooth(0, 200, 2000, 2000), 100);
	assert_int_equal(loadvec_smooth(200, 0, 2000, 2000), 100);
	/* No time passed: unchanged; also for time going back. */
	assert_int_equal(loadvec_smooth(150, 900, 0, 2000), 150);
	assert_int_equal(loadvec_smooth(150, 900, -5, 2000), 150);
	/* A long gap: nearly the new value. */
	assert_int_equal(loadvec_smooth(0, 1000, 198000, 2000), 990);
	/* Converges to a steady input from below, never overshoots. */
	for (i = 0; i < 100; i++) {
		v = loadvec_smooth(v, 300, 500, 2000);
		assert_true(v <= 300);
	}
	assert_true(v >= 290);
	/* The largest values do not overflow. */
	assert_int_equal(loadvec_smooth(UINT32_MAX, UINT32_MAX, 1000, 2000),
	    UINT32_MAX);
	assert_int_equal(loadvec_smooth(0, UINT32_MAX, INT32_MAX, 0),
	    UINT32_MAX);
}

static void
test_flag_names(void **state)
{
	char	buf[64], small[8];

	assert_string_equal(loadvec_flag_names(0, buf, sizeof buf), "-");
	assert_string_equal(loadvec_flag_names(LV_BLOCK | LV_QUIET, buf,
	    sizeof buf), "block,quiet");
	assert_string_equal(loadvec_flag_names(LV_FLAGS, buf, sizeof buf),
	    "block,leaving,stay,lstay,quiet");
	/* Too small: cut, still a string. */
	loadvec_flag_names(LV_FLAGS, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

static void
test_init(void **state)
{
	static const struct {
		uint32_t	 node;
		const char	*name;
		uint64_t	 inc;
		const char	*cause;
	} bad[] = {
		{ 0, "x", 1, "node id 0" },
		{ 1, "", 1, "empty node name" },
		{ 1, NULL, 1, "empty node name" },
		{ 1, "0123456789012345678901234567890123456789012345678901234"
		    "567890123", 1, "over 63 bytes" },
		{ 1, "x", 0, "incarnation 0" },
	};
	struct loadvec	 lv;
	char		*cause;
	size_t		 i;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		assert_int_equal(loadvec_init(&lv, bad[i].node, bad[i].name,
		    bad[i].inc, &cause), -1);
		if (strstr(cause, bad[i].cause) == NULL)
			fail_msg("case %zu: %s", i, cause);
		free(cause);
	}
	assert_int_equal(loadvec_init(&lv, 4, "node4", 1732500000000ULL,
	    NULL), 0);
	assert_int_equal(lv.node, 4);
	assert_string_equal(lv.name, "node4");
	assert_int_equal(lv.speed, LV_SPEED_REF);
	assert_true(lv.ncpu >= 1 && (long)lv.ncpu <= ncpu);
	assert_true(lv.kernel[0] >= '1' && lv.kernel[0] <= '9');
	/* The CPU this runs on has SSE2 at least (x86-64 baseline). */
	assert_true(lv.cpu.word[CPUW_1_EDX] & (1U << 26));
}

/* A vector measured here travels: it encodes and decodes unchanged. */
static void
test_sample_here(void **state)
{
	struct loadvec_meter	 m;
	struct loadvec		 lv;
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_loadwin	*d = calloc(1, sizeof *d);
	struct wire_hdr		 hdr;
	struct buf		 b;
	char			*cause = NULL;
	size_t			 flen;

	assert_int_equal(loadvec_init(&lv, 9, "here", 77, NULL), 0);
	loadvec_meter_init(&m, 0);
	assert_int_equal(m.tau_ms, 2000);
	if (loadvec_sample(&m, &lv, 1000, &cause) != 0)
		fail_msg("%s", cause);
	assert_true(lv.mem_total > 0);
	assert_true(lv.mem_free <= lv.mem_total);
	assert_int_equal(lv.stamp, 1000);
	assert_int_equal(loadvec_sample(&m, &lv, 1500, NULL), 0);
	assert_int_equal(lv.stamp, 1500);
	/* Load is a multiple of 100 per runnable task, smoothed: bounded. */
	assert_true(lv.load < 100000);

	w->n = 1;
	w->ent[0].lv = lv;
	buf_init(&b);
	wire_encode_loadwin(&b, w);
	assert_int_equal(wire_frame_peek(b.data, b.len, &hdr, &flen, NULL), 1);
	assert_int_equal(wire_decode_loadwin(b.data + WIRE_HDR_LEN, hdr.len, d,
	    NULL), 0);
	assert_memory_equal(&d->ent[0].lv, &lv, sizeof lv);
	buf_free(&b);
	free(w);
	free(d);
}

/* A busy loop on this CPU scores more than a tenth of a reference core. */
static void
test_calibrate(void **state)
{
	uint32_t	a = loadvec_calibrate(20), b = loadvec_calibrate(20);

	assert_true(a >= 1000 && a <= LV_SPEED_MAX);
	assert_true(b >= 1000 && b <= LV_SPEED_MAX);
	/* The best of several runs is stable within a factor of 2. */
	assert_true(a < 2 * b && b < 2 * a);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A cgroup's CPU time per elapsed time is its load: 100 per busy CPU. */
static void
test_cgroup_meter(void **state)
{
	struct loadvec_meter	 m;
	struct loadvec		 lv;
	char			 dir[] = "/tmp/omm-lvtest.XXXXXX", path[128];
	char			*cause = NULL;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(loadvec_init(&lv, 9, "here", 77, NULL), 0);
	loadvec_meter_init(&m, 1000);
	assert_int_equal(loadvec_meter_cgroup(&m, dir, &cause), -1);
	assert_non_null(strstr(cause, "no cpu.stat nor cpuacct.usage"));
	free(cause);

	/* cgroup v2. */
	snprintf(path, sizeof path, "%s/cpu.stat", dir);
	write_file(path, "usage_usec 1000000\nuser_usec 0\n");
	assert_int_equal(loadvec_meter_cgroup(&m, dir, NULL), 0);
	assert_int_equal(m.source, LOADVEC_SRC_CGROUP);
	assert_int_equal(loadvec_sample(&m, &lv, 10000, NULL), 0);
	assert_int_equal(lv.load, 0);		/* no rate yet */
	/* 1.5 CPUs busy for 1 s: raw 150, smoothed halfway (tau 1 s). */
	write_file(path, "usage_usec 2500000\n");
	assert_int_equal(loadvec_sample(&m, &lv, 11000, NULL), 0);
	assert_int_equal(lv.load, 75);
	write_file(path, "usage_usec 4000000\n");
	assert_int_equal(loadvec_sample(&m, &lv, 12000, NULL), 0);
	assert_int_equal(lv.load, 112);
	/* Idle. */
	assert_int_equal(loadvec_sample(&m, &lv, 13000, NULL), 0);
	assert_int_equal(lv.load, 56);
	/*
	 * A runnable thread of the cgroup counts even when it got no CPU
	 * time (throttled by a quota): a busy child, listed as the cgroup's.
	 */
	{
		char	tpath[160], line[32];
		pid_t	busy;

		if ((busy = fork()) == 0)
			for (;;)
				;
		snprintf(tpath, sizeof tpath, "%s/cgroup.threads", dir);
		snprintf(line, sizeof line, "%d\n%d\n", (int)getpid(),
		    (int)busy);
		write_file(tpath, line);
		usleep(100 * 1000);
		assert_int_equal(loadvec_sample(&m, &lv, 14000, NULL), 0);
		kill(busy, SIGKILL);
		waitpid(busy, NULL, 0);
		/* raw 100 (the child, not us): 56 halfway to 100 */
		assert_int_equal(lv.load, 78);
		unlink(tpath);
	}
	unlink(path);

	/* cgroup v1: nanoseconds in cpuacct.usage. */
	snprintf(path, sizeof path, "%s/cpuacct.usage", dir);
	write_file(path, "5000000000\n");
	loadvec_meter_init(&m, 1000);
	assert_int_equal(loadvec_meter_cgroup(&m, dir, NULL), 0);
	assert_int_equal(loadvec_sample(&m, &lv, 0, NULL), 0);
	write_file(path, "7000000000\n");
	assert_int_equal(loadvec_sample(&m, &lv, 1000, NULL), 0);
	assert_int_equal(lv.load, 100);		/* raw 200, halfway */
	/* A broken file: an error, not a wild load. */
	write_file(path, "garbage\n");
	cause = NULL;
	assert_int_equal(loadvec_sample(&m, &lv, 2000, &cause), -1);
	assert_non_null(cause);
	free(cause);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_smooth),
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_sample_here),
		cmocka_unit_test(test_calibrate),
		cmocka_unit_test(test_cgroup_meter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
