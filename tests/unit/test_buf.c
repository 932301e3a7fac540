/* test_buf.c: the bounds-checked writer and reader, every way a read can fail. */
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/buf.h"

static void
test_le(void **state)
{
	uint8_t	b[8];

	le32enc(b, 0x11223344);
	assert_int_equal(b[0], 0x44);
	assert_int_equal(b[3], 0x11);
	assert_int_equal(le32dec(b), 0x11223344);
	le64enc(b, 0x0102030405060708ull);
	assert_int_equal(b[0], 0x08);
	assert_int_equal(b[7], 0x01);
	assert_int_equal(le64dec(b), 0x0102030405060708ull);
}

/* Writers: every helper, little-endian, growth past the first allocation. */
static void
test_writer(void **state)
{
	static const uint8_t	want[] = { 0xab, 0x34, 0x12, 0x78, 0x56, 0x34,
	    0x12, 8, 7, 6, 5, 4, 3, 2, 1, 3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0 };
	struct buf	b;
	size_t		i;
	uint8_t		*p;

	buf_init(&b);
	assert_null(b.data);
	buf_add_u8(&b, 0xab);
	buf_add_u16(&b, 0x1234);
	buf_add_u32(&b, 0x12345678);
	buf_add_u64(&b, 0x0102030405060708ull);
	buf_add_str(&b, "abc");
	buf_add_str(&b, NULL);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	buf_put_u32(&b, 3, 0xdeadbeef);
	assert_int_equal(le32dec(b.data + 3), 0xdeadbeef);
	buf_put_u64(&b, b.len - 8, 42);
	assert_int_equal(le64dec(b.data + b.len - 8), 42);
	buf_add(&b, NULL, 0);
	assert_int_equal(b.len, sizeof want);

	buf_reset(&b);
	assert_int_equal(b.len, 0);
	for (i = 0; i < 100000; i++)
		buf_add_u8(&b, (uint8_t)i);
	assert_true(b.cap >= 100000);
	for (i = 0; i < 100000; i += 9973)
		assert_int_equal(b.data[i], (uint8_t)i);
	p = buf_reserve(&b, 10);
	assert_ptr_equal(p, b.data + 100000);
	assert_int_equal(b.len, 100010);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

/* Patching past the end is an internal bug: fatalx, the process exits 1. */
static void
test_put_past_end(void **state)
{
	int	st, which;
	pid_t	pid;

	for (which = 0; which < 2; which++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct buf	b;

			close(2);	/* keep the fatal message out of the test log */
			buf_init(&b);
			buf_add_u32(&b, 0);
			buf_add_u16(&b, 0);
			if (which == 0)
				buf_put_u32(&b, 3, 1);
			else
				buf_put_u64(&b, 0, 1);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 1);
	}
}

static void
test_reader_ints(void **state)
{
	static const uint8_t	in[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	    13, 14, 15 };
	struct buf_rd	r;

	buf_rd_init(&r, in, sizeof in);
	assert_int_equal(buf_rd_u8(&r), 1);
	assert_int_equal(buf_rd_u16(&r), 0x0302);
	assert_int_equal(buf_rd_u32(&r), 0x07060504);
	assert_int_equal(buf_rd_u64(&r), 0x0f0e0d0c0b0a0908ull);
	assert_int_equal(buf_rd_left(&r), 0);
	assert_true(buf_rd_ok(&r, 1));
	/* One more byte: fails, returns 0, and stays failed. */
	assert_int_equal(buf_rd_u8(&r), 0);
	assert_false(buf_rd_ok(&r, 0));
	assert_false(buf_rd_ok(&r, 1));
}

/* A short read of each width fails without consuming, and the error sticks. */
static void
test_reader_short(void **state)
{
	static const uint8_t	in[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff };
	struct buf_rd	r;
	uint8_t		out[4];

	buf_rd_init(&r, in, 1);
	assert_int_equal(buf_rd_u16(&r), 0);
	assert_int_equal(r.err, 1);
	assert_int_equal(r.off, 0);
	assert_int_equal(buf_rd_u8(&r), 0);	/* sticky: even though 1 byte is there */

	buf_rd_init(&r, in, 3);
	assert_int_equal(buf_rd_u32(&r), 0);
	assert_false(buf_rd_ok(&r, 0));

	buf_rd_init(&r, in, 7);
	assert_int_equal(buf_rd_u64(&r), 0);
	assert_false(buf_rd_ok(&r, 0));

	buf_rd_init(&r, in, 2);
	memset(out, 0x55, sizeof out);
	buf_rd_bytes(&r, out, 4);
	assert_memory_equal(out, "\0\0\0\0", 4);	/* zero-filled */
	assert_false(buf_rd_ok(&r, 0));

	buf_rd_init(&r, in, 8);
	assert_null(buf_rd_ptr(&r, 9));
	assert_false(buf_rd_ok(&r, 0));
	buf_rd_init(&r, in, 8);
	assert_ptr_equal(buf_rd_ptr(&r, 8), in);
	assert_true(buf_rd_ok(&r, 1));
	/* A length that would wrap the offset. */
	buf_rd_init(&r, in, 8);
	buf_rd_u8(&r);
	assert_null(buf_rd_ptr(&r, SIZE_MAX));
	assert_false(buf_rd_ok(&r, 0));

	/* exact: leftover bytes make it not ok, without an error. */
	buf_rd_init(&r, in, 8);
	buf_rd_u32(&r);
	assert_true(buf_rd_ok(&r, 0));
	assert_false(buf_rd_ok(&r, 1));

	/* NULL input reads as empty. */
	buf_rd_init(&r, NULL, 100);
	assert_int_equal(buf_rd_left(&r), 0);
	assert_int_equal(buf_rd_u8(&r), 0);
	assert_false(buf_rd_ok(&r, 0));
}

/* Strings: each case is the bytes after the u32 length. */
static void
test_reader_str(void **state)
{
	static const struct {
		const char	*label;
		uint32_t	 len;		/* announced */
		const char	*bytes;
		size_t		 have;		/* bytes present */
		size_t		 max;
		const char	*want;		/* NULL: refused */
	} cases[] = {
		{ "plain", 3, "abc", 3, 10, "abc" },
		{ "empty", 0, "", 0, 10, "" },
		{ "exactly max", 4, "abcd", 4, 4, "abcd" },
		{ "over max", 5, "abcde", 5, 4, NULL },
		{ "NUL inside", 3, "a\0c", 3, 10, NULL },
		{ "NUL at end", 3, "ab\0", 3, 10, NULL },
		{ "truncated", 5, "abc", 3, 10, NULL },
		{ "huge length", 0xffffffff, "abc", 3, SIZE_MAX, NULL },
	};
	struct buf	 b;
	struct buf_rd	 r;
	char		*s, fixed[5];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		buf_init(&b);
		buf_add_u32(&b, cases[i].len);
		buf_add(&b, cases[i].bytes, cases[i].have);

		buf_rd_init(&r, b.data, b.len);
		s = buf_rd_str(&r, cases[i].max);
		if (cases[i].want == NULL) {
			assert_null(s);
			assert_false(buf_rd_ok(&r, 0));
		} else {
			assert_non_null(s);
			assert_string_equal(s, cases[i].want);
			assert_true(buf_rd_ok(&r, 1));
		}
		free(s);

		/* The same through a fixed array of 5 (at most 4 bytes). */
		buf_rd_init(&r, b.data, b.len);
		memset(fixed, 'x', sizeof fixed);
		buf_rd_strbuf(&r, fixed, sizeof fixed);
		if (cases[i].want == NULL) {
			assert_false(buf_rd_ok(&r, 0));
			assert_string_equal(fixed, "");
		} else {
			assert_true(buf_rd_ok(&r, 1));
			assert_string_equal(fixed, cases[i].want);
		}
		buf_free(&b);
	}

	/* strbuf: a string of exactly the array size does not fit (no room for NUL). */
	buf_init(&b);
	buf_add_str(&b, "abcde");
	buf_rd_init(&r, b.data, b.len);
	buf_rd_strbuf(&r, fixed, sizeof fixed);
	assert_false(buf_rd_ok(&r, 0));
	assert_string_equal(fixed, "");
	buf_free(&b);

	/* After a failure, string reads fail too. */
	buf_init(&b);
	buf_add_str(&b, "ok");
	buf_rd_init(&r, b.data, b.len);
	r.err = 1;
	assert_null(buf_rd_str(&r, 10));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_le),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_put_past_end),
		cmocka_unit_test(test_reader_ints),
		cmocka_unit_test(test_reader_short),
		cmocka_unit_test(test_reader_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
