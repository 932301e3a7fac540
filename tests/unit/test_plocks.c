/* test_plocks.c: a process's POSIX locks read from fdinfo and taken again (plocks.h). */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/plocks.h"

#define FDINFO	"pos:\t0\nflags:\t02100002\nmnt_id:\t26\nino:\t10962037\n"

static const struct parse_case {
	const char	*what, *text;
	int		 rc;
	size_t		 n;		/* locks found */
	int		 write;		/* of the first */
	uint64_t	 start, len;
} parse_cases[] = {
	{ "no lock", FDINFO, 0, 0, 0, 0, 0 },
	{ "a write lock", FDINFO
	    "lock:\t1: POSIX  ADVISORY  WRITE 4242 fe:00:10962037 100 109\n",
	    0, 1, 1, 100, 10 },
	{ "a read lock to the end", FDINFO
	    "lock:\t1: POSIX  ADVISORY  READ 4242 fe:00:10962037 500 EOF\n",
	    0, 1, 0, 500, 0 },
	{ "two locks", FDINFO
	    "lock:\t1: POSIX  ADVISORY  WRITE 4242 fe:00:10962037 100 109\n"
	    "lock:\t2: POSIX  ADVISORY  READ 4242 fe:00:10962037 500 EOF\n",
	    0, 2, 1, 100, 10 },
	{ "an OFD lock is the open file's", FDINFO
	    "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:10962037 200 209\n",
	    0, 0, 0, 0, 0 },
	{ "a flock lock is the open file's", FDINFO
	    "lock:\t1: FLOCK  ADVISORY  READ 4242 fe:00:10962037 0 EOF\n",
	    0, 0, 0, 0, 0 },
	{ "no newline at the end", FDINFO
	    "lock:\t1: POSIX  ADVISORY  WRITE 4242 08:01:7 0 0",
	    0, 1, 1, 0, 1 },
	{ "a truncated line", FDINFO "lock:\t1: POSIX  ADVISORY  WRITE 4242\n",
	    -1, 0, 0, 0, 0 },
	{ "an end before the start", FDINFO
	    "lock:\t1: POSIX  ADVISORY  WRITE 4242 fe:00:1 100 99\n",
	    -1, 0, 0, 0, 0 },
	{ "an unknown type", FDINFO
	    "lock:\t1: POSIX  ADVISORY  UNLCK 4242 fe:00:1 100 109\n",
	    -1, 0, 0, 0, 0 },
};

static void
test_parse(void **state)
{
	const struct parse_case	*c;
	struct plock		*l;
	size_t			 i, n;
	char			*cause;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		c = &parse_cases[i];
		l = NULL;
		n = 0;
		cause = NULL;
		rc = plocks_parse(c->text, 7, &l, &n, &cause);
		if (rc != c->rc)
			fail_msg("%s: rc %d (%s)", c->what, rc, cause ? cause : "");
		if (rc == 0 && n != c->n)
			fail_msg("%s: %zu locks, not %zu", c->what, n, c->n);
		if (rc == 0 && n > 0 && (l[0].fd != 7 || l[0].write != c->write ||
		    l[0].start != c->start || l[0].len != c->len))
			fail_msg("%s: fd %d write %d %llu+%llu", c->what, l[0].fd,
			    l[0].write, (unsigned long long)l[0].start,
			    (unsigned long long)l[0].len);
		if (rc == -1 && cause == NULL)
			fail_msg("%s: no cause", c->what);
		free(cause);
		free(l);
	}
}

/* The same lock seen through a second descriptor of the open file: once. */
static void
test_dedupe(void **state)
{
	const char	*t = FDINFO
	    "lock:\t1: POSIX  ADVISORY  WRITE 4242 fe:00:10962037 100 109\n";
	struct plock	*l = NULL;
	size_t		 n = 0;
	char		*cause = NULL;

	(void)state;
	assert_int_equal(plocks_parse(t, 3, &l, &n, &cause), 0);
	assert_int_equal(plocks_parse(t, 4, &l, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].fd, 3);
	free(l);
}

/* Read from our own fdinfo, then taken again by a child that shares nothing. */
static void
test_of_and_take(void **state)
{
	char		 path[] = "/tmp/test_plocks.XXXXXX", *cause = NULL;
	struct plock	*l = NULL;
	struct flock	 fl;
	size_t		 n = 0;
	int		 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(ftruncate(fd, 4096), 0);
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 10;
	fl.l_len = 20;
	assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
	fl.l_type = F_RDLCK;
	fl.l_start = 100;
	fl.l_len = 0;
	assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
	assert_int_equal(plocks_of(getpid(), &l, &n, &cause), 0);
	assert_int_equal(n, 2);
	/* our own locks: taking them again works */
	assert_int_equal(plocks_take(l, n, &cause), 0);
	free(l);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_of_and_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
