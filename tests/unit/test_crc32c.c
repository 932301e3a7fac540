/* test_crc32c.c: CRC32C against known vectors, the table path and itself split up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "omm/crc32c.h"

uint32_t crc32c_sw(uint32_t, const void *, size_t);	/* src/crc32c.c, for tests */

/* Vectors from RFC 3720 (iSCSI), appendix B.4, and the usual check value. */
static void
test_vectors(void **state)
{
	static const struct {
		const char	*label;
		size_t		 len;
		int		 fill;		/* -1: ascending, -2: descending */
		uint32_t	 crc;
	} cases[] = {
		{ "32 zero bytes", 32, 0x00, 0x8a9136aa },
		{ "32 0xff bytes", 32, 0xff, 0x62a8ab43 },
		{ "32 ascending bytes", 32, -1, 0x46dd794e },
		{ "32 descending bytes", 32, -2, 0x113fdb5c },
	};
	uint8_t	buf[32];
	size_t	i, j;

	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
	assert_int_equal(crc32c(0x12345678, NULL, 0), 0x12345678);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (j = 0; j < cases[i].len; j++) {
			if (cases[i].fill == -1)
				buf[j] = (uint8_t)j;
			else if (cases[i].fill == -2)
				buf[j] = (uint8_t)(31 - j);
			else
				buf[j] = (uint8_t)cases[i].fill;
		}
		print_message("%s\n", cases[i].label);
		assert_int_equal(crc32c(0, buf, cases[i].len), cases[i].crc);
		assert_int_equal(crc32c_sw(0, buf, cases[i].len), cases[i].crc);
	}
}

/* Every length and alignment around the 3-way block sizes matches the table path. */
static void
test_lengths(void **state)
{
	static const size_t	lens[] = { 1, 7, 8, 9, 255, 256, 767, 768, 769,
	    4095, 4096, 4097, 24575, 24576, 24577, 3 * 8192 + 3 * 256 + 13,
	    1 << 20 };
	uint8_t		*buf;
	size_t		 i, off, n = (1 << 20) + 64;

	buf = malloc(n);
	assert_non_null(buf);
	srand(7);
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)rand();
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (off = 0; off < 9; off++) {
			assert_int_equal(crc32c(0, buf + off, lens[i]),
			    crc32c_sw(0, buf + off, lens[i]));
			assert_int_equal(crc32c(0xdeadbeef, buf + off, lens[i]),
			    crc32c_sw(0xdeadbeef, buf + off, lens[i]));
		}
	}
	free(buf);
}

/* crc(a || b) == crc(crc(a), b) at every split point of a buffer. */
static void
test_chaining(void **state)
{
	uint8_t		buf[3000];
	uint32_t	whole, c;
	size_t		i;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	whole = crc32c(0, buf, sizeof buf);
	for (i = 0; i <= sizeof buf; i += 97) {
		c = crc32c(0, buf, i);
		c = crc32c(c, buf + i, sizeof buf - i);
		assert_int_equal(c, whole);
	}
	/* A flipped bit anywhere changes the crc. */
	for (i = 0; i < sizeof buf; i += 211) {
		buf[i] ^= 0x10;
		assert_int_not_equal(crc32c(0, buf, sizeof buf), whole);
		buf[i] ^= 0x10;
	}
}

/* Throughput over 64 MiB, printed; fails only if absurdly slow (shared machine). */
static void
test_speed(void **state)
{
	struct timespec	 t0, t1;
	size_t		 n = 64 << 20;
	uint8_t		*buf;
	uint32_t	 c = 0;
	double		 secs, gbs;
	int		 i;

	buf = malloc(n);
	assert_non_null(buf);
	memset(buf, 0x5a, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 4; i++)
		c = crc32c(c, buf, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	gbs = 4.0 * n / secs / 1e9;
	print_message("crc32c: %.1f GB/s (crc %08x)\n", gbs, c);
	assert_true(gbs > 0.3);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
