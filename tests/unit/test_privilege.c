/* test_privilege.c: the ptrace attach rule and privilege gains, as table cases. */
#include <sys/prctl.h>
#include <sys/types.h>
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

#include "omm/privilege.h"

#define U	1001
#define G	1001
#define CAP_NET_RAW_BIT	(1ULL << 13)

/* A plain process of uid U, gid G: what a user's job runs as. */
#define PLAIN	{ { U, U, U, U }, { G, G, G, G }, 0, 1 }

static void
test_may_attach(void **state)
{
	static const struct {
		const char		*label;
		uint32_t		 uid, gid;
		struct priv_creds	 t;
		int			 yama;
		const char		*why;	/* NULL: allowed */
	} cases[] = {
		{ "own plain process", U, G, PLAIN, 0, NULL },
		{ "own process, Yama scope 1 (not applied)", U, G, PLAIN, 1,
		    NULL },
		{ "own process, Yama scope 2: root only", U, G, PLAIN, 2,
		    "may be traced by root only (kernel.yama.ptrace_scope is 2)" },
		{ "own process, Yama scope 3", U, G, PLAIN, 3,
		    "may not be traced by anyone (kernel.yama.ptrace_scope is 3)" },
		{ "root, Yama scope 2", 0, 0, PLAIN, 2, NULL },
		{ "root, Yama scope 3", 0, 0, PLAIN, 3,
		    "may not be traced by anyone (kernel.yama.ptrace_scope is 3)" },
		{ "root, set-uid target", 0, 0,
		    { { U, 0, 0, 0 }, { G, G, G, G }, ~0ULL, 0 }, 0, NULL },
		{ "another user's process", 1002, 1002, PLAIN, 0,
		    "belongs to uid 1001" },
		{ "root's process", U, G,
		    { { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, ~0ULL, 1 }, 0,
		    "belongs to uid 0" },
		{ "set-uid root (su): effective uid", U, G,
		    { { U, 0, 0, 0 }, { G, G, G, G }, ~0ULL, 0 }, 0,
		    "runs with effective uid 0" },
		{ "real and effective match, saved uid root", U, G,
		    { { U, U, 0, U }, { G, G, G, G }, 0, 1 }, 0,
		    "has saved uid 0" },
		{ "filesystem uid differs", U, G,
		    { { U, U, U, 0 }, { G, G, G, G }, 0, 1 }, 0,
		    "has filesystem uid 0" },
		{ "real gid differs", U, G,
		    { { U, U, U, U }, { 5, 5, 5, 5 }, 0, 1 }, 0,
		    "belongs to gid 5" },
		{ "set-gid tty: effective gid", U, G,
		    { { U, U, U, U }, { G, 5, 5, 5 }, 0, 0 }, 0,
		    "runs with effective gid 5" },
		{ "saved gid differs", U, G,
		    { { U, U, U, U }, { G, G, 5, G }, 0, 1 }, 0,
		    "has saved gid 5" },
		{ "filesystem gid differs", U, G,
		    { { U, U, U, U }, { G, G, G, 5 }, 0, 1 }, 0,
		    "has filesystem gid 5" },
		{ "file capabilities (ping)", U, G,
		    { { U, U, U, U }, { G, G, G, G }, CAP_NET_RAW_BIT, 0 }, 0,
		    "holds capabilities (CapPrm 0000000000002000)" },
		{ "capabilities, dumpable (ambient)", U, G,
		    { { U, U, U, U }, { G, G, G, G }, CAP_NET_RAW_BIT, 1 }, 0,
		    "holds capabilities (CapPrm 0000000000002000)" },
		{ "not dumpable (PR_SET_DUMPABLE 0)", U, G,
		    { { U, U, U, U }, { G, G, G, G }, 0, 0 }, 0,
		    "is not dumpable" },
		{ "requester's gid differs from the target's", U, 100, PLAIN, 0,
		    "belongs to gid 1001" },
	};
	char	*why;
	size_t	 i;
	int	 rv;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		why = NULL;
		rv = priv_may_attach(cases[i].uid, cases[i].gid, &cases[i].t,
		    cases[i].yama, &why);
		if (cases[i].why == NULL) {
			assert_int_equal(rv, 0);
			assert_null(why);
		} else {
			assert_int_equal(rv, -1);
			assert_non_null(why);
			assert_string_equal(why, cases[i].why);
		}
		free(why);
	}
}

static void
test_gained(void **state)
{
	static const struct {
		const char		*label;
		struct priv_creds	 c;
		uint32_t		 owner, ogid;
		enum priv_kind		 kind;
		const char		*text;	/* for exe "/x", at its exec */
		const char		*later;	/* NULL: the same */
	} cases[] = {
		{ "plain process of its owner", PLAIN, U, G, PRIV_NONE, NULL,
		    NULL },
		{ "su just exec'd: uids 1001 0 0 0",
		    { { U, 0, 0, 0 }, { G, G, G, G }, ~0ULL, 0 }, U, G,
		    PRIV_SETUID, "runs set-uid /x",
		    "runs /x with uids 1001 0 0 0" },
		{ "set-uid root in a root job: still mixed",
		    { { U, 0, 0, 0 }, { G, G, G, G }, ~0ULL, 0 }, 0, 0,
		    PRIV_SETUID, "runs set-uid /x",
		    "runs /x with uids 1001 0 0 0" },
		{ "setresuid(u, u, 0) in a root job",
		    { { U, U, 0, U }, { G, G, G, G }, 0, 0 }, 0, 0,
		    PRIV_SETUID, "runs set-uid /x",
		    "runs /x with uids 1001 1001 0 1001" },
		{ "set-gid tty",
		    { { U, U, U, U }, { G, 5, 5, 5 }, 0, 0 }, U, G,
		    PRIV_SETGID, "runs set-gid /x",
		    "runs /x with gids 1001 5 5 5" },
		{ "su's shell: all root in a user's job",
		    { { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, ~0ULL, 1 }, U, G,
		    PRIV_OTHER_UID, "runs /x as uid 0, not as its owner "
		    "(uid 1001)", NULL },
		{ "su to another user",
		    { { 1002, 1002, 1002, 1002 }, { 1002, 1002, 1002, 1002 }, 0,
		    1 }, U, G, PRIV_OTHER_UID,
		    "runs /x as uid 1002, not as its owner (uid 1001)", NULL },
		{ "newgrp: gid not the owner's",
		    { { U, U, U, U }, { 5, 5, 5, 5 }, 0, 1 }, U, G,
		    PRIV_OTHER_GID, "runs /x as gid 5, not as its owner "
		    "(gid 1001)", NULL },
		{ "root job running as a user (su in a root job)",
		    { { U, U, U, U }, { G, G, G, G }, 0, 1 }, 0, 0,
		    PRIV_NONE, NULL, NULL },
		{ "root job, root process with capabilities",
		    { { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, ~0ULL, 1 }, 0, 0,
		    PRIV_NONE, NULL, NULL },
		{ "ping with cap_net_raw",
		    { { U, U, U, U }, { G, G, G, G }, CAP_NET_RAW_BIT, 0 }, U, G,
		    PRIV_CAPS, "runs /x with file capabilities",
		    "runs /x with capabilities (CapPrm 0000000000002000)" },
		{ "capabilities of a user in a root job",
		    { { U, U, U, U }, { G, G, G, G }, CAP_NET_RAW_BIT, 1 }, 0, 0,
		    PRIV_CAPS, "runs /x with file capabilities",
		    "runs /x with capabilities (CapPrm 0000000000002000)" },
		{ "not dumpable (unreadable binary, prctl)",
		    { { U, U, U, U }, { G, G, G, G }, 0, 0 }, U, G,
		    PRIV_NODUMP, "runs /x and is not dumpable", NULL },
		{ "root job, su after setuid: not dumpable",
		    { { U, U, U, U }, { G, G, G, G }, 0, 0 }, 0, 0,
		    PRIV_NODUMP, "runs /x and is not dumpable", NULL },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		assert_int_equal(priv_gained(&cases[i].c, cases[i].owner,
		    cases[i].ogid), cases[i].kind);
		s = priv_describe(cases[i].kind, "/x", &cases[i].c,
		    cases[i].owner, cases[i].ogid, 1);
		if (cases[i].text == NULL)
			assert_null(s);
		else
			assert_string_equal(s, cases[i].text);
		free(s);
		s = priv_describe(cases[i].kind, "/x", &cases[i].c,
		    cases[i].owner, cases[i].ogid, 0);
		if (cases[i].text == NULL)
			assert_null(s);
		else
			assert_string_equal(s, cases[i].later != NULL ?
			    cases[i].later : cases[i].text);
		free(s);
	}
}

/* A binary name reaches terminals: control bytes are masked. */
static void
test_describe_masks(void **state)
{
	struct priv_creds	 c = { { U, 0, 0, 0 }, { G, G, G, G }, 0, 0 };
	char			*s;

	s = priv_describe(PRIV_SETUID, "/tmp/a\033[2Jb\n", &c, U, G, 1);
	assert_string_equal(s, "runs set-uid /tmp/a?[2Jb?");
	free(s);
	s = priv_describe(PRIV_SETUID, NULL, &c, U, G, 1);
	assert_string_equal(s, "runs set-uid ?");
	free(s);
}

/* The reader on ourselves, and a process made not dumpable. */
static void
test_read_self(void **state)
{
	struct priv_creds	 c;
	char			*cause = NULL;

	assert_int_equal(priv_read(getpid(), &c, &cause), 0);
	assert_int_equal(c.uid[0], getuid());
	assert_int_equal(c.uid[1], geteuid());
	assert_int_equal(c.gid[0], getgid());
	assert_int_equal(c.dumpable, 1);
	assert_int_equal(priv_read(0x7ffffff0, &c, &cause), -1);
	assert_non_null(cause);
	assert_string_equal(cause, "no such process 2147483632");
	free(cause);
	assert_true(priv_yama_scope() >= 0 && priv_yama_scope() <= 3);
}

/*
 * A non-root process that makes itself not dumpable reads so. As root, a
 * child that became nobody does it (root's /proc entry is root's either
 * way); the parent reads it.
 */
static void
test_read_nodump(void **state)
{
	struct priv_creds	 c;
	char			*cause = NULL;
	char			 b;
	int			 go[2], done[2], st;
	pid_t			 pid;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1))
			_exit(1);
		/* dropping from root made us not dumpable: undo, then do */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1 ||
		    write(done[1], "1", 1) != 1 || read(go[0], &b, 1) != 1 ||
		    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
		    write(done[1], "0", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	/* a child that fails ends our reads; our end ends its wait */
	close(go[0]);
	close(done[1]);
	assert_int_equal(read(done[0], &b, 1), 1);
	assert_int_equal(priv_read(pid, &c, &cause), 0);
	assert_int_equal(c.dumpable, 1);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(read(done[0], &b, 1), 1);
	assert_int_equal(priv_read(pid, &c, &cause), 0);
	assert_int_equal(c.dumpable, 0);
	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(go[1]);
	close(done[0]);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_may_attach),
		cmocka_unit_test(test_gained),
		cmocka_unit_test(test_describe_masks),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_nodump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
