/* test_sigmask.c: the signal mask of a guest's pselect6, ppoll, epoll_pwait (sigmask.h). */
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omm/sigmask.h"
#include "omm/sysent.h"

#define BIT(s)	(1ULL << ((s) - 1))

static void
test_parse(void **state)
{
	struct sigstate	st;
	const char	*ok = "Name:\tmake\nSigQ:\t1/100\nSigPnd:\t0000000000000000\n"
	    "ShdPnd:\t0000000000010000\nSigBlk:\t0000000000010000\n"
	    "SigIgn:\t0000000000000004\nSigCgt:\t0000000000014002\n";

	(void)state;
	assert_int_equal(sigstate_parse(ok, &st), 0);
	assert_true(st.pending == BIT(SIGCHLD));
	assert_true(st.blocked == BIT(SIGCHLD));
	assert_true(st.ignored == BIT(SIGQUIT));
	assert_true(st.caught == (BIT(SIGCHLD) | BIT(SIGTERM) | BIT(SIGINT)));
	/* a field missing, a field unreadable */
	assert_int_equal(sigstate_parse("SigPnd:\t0\nShdPnd:\t0\nSigBlk:\t0\n"
	    "SigIgn:\t0\n", &st), -1);
	assert_int_equal(sigstate_parse("SigPnd:\tzz\nShdPnd:\t0\nSigBlk:\t0\n"
	    "SigIgn:\t0\nSigCgt:\t0\n", &st), -1);
}

static const struct acting_case {
	const char	*what;
	uint64_t	 pending, ignored, caught, mask, want;
} acting_cases[] = {
	{ "a caught SIGCHLD the call's mask lets through",
	    BIT(SIGCHLD), 0, BIT(SIGCHLD), 0, BIT(SIGCHLD) },
	{ "a caught SIGCHLD the call's mask blocks",
	    BIT(SIGCHLD), 0, BIT(SIGCHLD), BIT(SIGCHLD), 0 },
	{ "SIGCHLD by default does nothing",
	    BIT(SIGCHLD), 0, 0, 0, 0 },
	{ "SIGTERM by default ends it", BIT(SIGTERM), 0, 0, 0, BIT(SIGTERM) },
	{ "an ignored SIGTERM", BIT(SIGTERM), BIT(SIGTERM), 0, 0, 0 },
	{ "SIGTSTP by default stops it", BIT(SIGTSTP), 0, 0, 0, BIT(SIGTSTP) },
	{ "nothing pending", 0, 0, ~0ULL, 0, 0 },
};

static void
test_acting(void **state)
{
	const struct acting_case	*c;
	struct sigstate			 st;
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof acting_cases / sizeof acting_cases[0]; i++) {
		c = &acting_cases[i];
		memset(&st, 0, sizeof st);
		st.pending = c->pending;
		st.ignored = c->ignored;
		st.caught = c->caught;
		st.blocked = ~0ULL;	/* the thread's own mask plays no part */
		if (sigmask_acting(&st, c->mask) != c->want)
			fail_msg("%s: %#llx", c->what, (unsigned long long)
			    sigmask_acting(&st, c->mask));
	}
	assert_int_equal(sigmask_default(SIGCHLD), SIGDFL_IGN);
	assert_int_equal(sigmask_default(SIGTTOU), SIGDFL_STOP);
	assert_int_equal(sigmask_default(SIGUSR1), SIGDFL_TERM);
}

/* The guest's memory is ours here: an address is a pointer. */
static ssize_t
rd(void *arg, uint64_t addr, void *p, size_t len)
{
	(void)arg;
	if (addr == 1)
		return -1;	/* a bad address */
	memcpy(p, (const void *)(uintptr_t)addr, len);
	return (ssize_t)len;
}

static void
test_of_call(void **state)
{
	const struct sysent	*ps = sysent_lookup(SYS_pselect6);
	const struct sysent	*pp = sysent_lookup(SYS_ppoll);
	const struct sysent	*ep = sysent_lookup(SYS_epoll_pwait);
	const struct sysent	*rd_ = sysent_lookup(SYS_read);
	uint64_t		 set = BIT(SIGINT) | BIT(SIGKILL), mask, args[6];
	uint64_t		 pair[2] = { (uintptr_t)&set, 8 };

	(void)state;
	assert_non_null(ps);
	assert_true(ps->flags & SYF_SIGMASK);
	assert_true(pp->flags & SYF_SIGMASK);
	assert_true(ep->flags & SYF_SIGMASK);
	memset(args, 0, sizeof args);
	/* pselect6: arg 5 points at { sigset_t *, size_t } */
	args[5] = (uintptr_t)pair;
	assert_int_equal(sigmask_of_call(ps, args, rd, NULL, &mask), 1);
	assert_true(mask == BIT(SIGINT));	/* SIGKILL is never blocked */
	pair[1] = 16;
	assert_int_equal(sigmask_of_call(ps, args, rd, NULL, &mask), -EINVAL);
	pair[1] = 8;
	pair[0] = 0;
	assert_int_equal(sigmask_of_call(ps, args, rd, NULL, &mask), 0);
	args[5] = 0;
	assert_int_equal(sigmask_of_call(ps, args, rd, NULL, &mask), 0);
	args[5] = 1;
	assert_int_equal(sigmask_of_call(ps, args, rd, NULL, &mask), -EFAULT);
	/* ppoll: the set at arg 3, its size at arg 4 */
	memset(args, 0, sizeof args);
	args[3] = (uintptr_t)&set;
	args[4] = 8;
	assert_int_equal(sigmask_of_call(pp, args, rd, NULL, &mask), 1);
	assert_true(mask == BIT(SIGINT));
	/* epoll_pwait: at arg 4, size at 5 */
	memset(args, 0, sizeof args);
	args[4] = (uintptr_t)&set;
	args[5] = 8;
	assert_int_equal(sigmask_of_call(ep, args, rd, NULL, &mask), 1);
	/* a call without a mask */
	assert_int_equal(sigmask_of_call(rd_, args, rd, NULL, &mask), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_acting),
		cmocka_unit_test(test_of_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
