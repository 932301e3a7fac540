/* test_procself.c: what /proc/self means for a migrated process (procself.h). */
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/procself.h"

/* ---- taking procfs paths apart ---- */

static const struct parse_case {
	const char	*what, *path;
	int		 rc;
	pid_t		 pid, tid;
	int		 selflink;
	const char	*rest;
} parse_cases[] = {
	{ "an entry", "/proc/12/maps", 0, 12, 0, 0, "maps" },
	{ "a thread's entry", "/proc/12/task/13/maps", 0, 12, 13, 0, "maps" },
	{ "a thread's directory", "/proc/12/task/13", 0, 12, 13, 0, "" },
	{ "the task directory", "/proc/12/task", 0, 12, 0, 0, "task" },
	{ "a descriptor", "/proc/12/fd/3", 0, 12, 0, 0, "fd/3" },
	{ "the directory", "/proc/12", 0, 12, 0, 0, "" },
	{ "the self link", "/proc/self", 0, 0, 0, 1, "" },
	{ "the thread-self link", "/proc/thread-self", 0, 0, 0, 2, "" },
	{ "not a pid", "/proc/meminfo", 0, 0, 0, 0, "" },
	{ "procfs itself", "/proc", 0, 0, 0, 0, "" },
	{ "not procfs", "/tmp/proc/12/maps", -1, 0, 0, 0, "" },
	{ "a prefix of another name", "/procx/12/maps", -1, 0, 0, 0, "" },
	{ "a pid of 10 digits", "/proc/1234567890/maps", 0, 0, 0, 0, "" },
};

static void
test_parse(void **state)
{
	const struct parse_case	*c;
	struct procself_ref	 r;
	size_t			 i;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		c = &parse_cases[i];
		if (procself_parse(c->path, "/proc", &r) != c->rc ||
		    (c->rc == 0 && (r.pid != c->pid || r.tid != c->tid ||
		    r.selflink != c->selflink || strcmp(r.rest, c->rest) != 0)))
			fail_msg("%s: %s gave pid %d tid %d self %d rest '%s'",
			    c->what, c->path, (int)r.pid, (int)r.tid, r.selflink,
			    r.rest);
	}
}

/* ---- the table ---- */

static void
test_class(void **state)
{
	static const struct { const char *rest; int cls; } cases[] = {
		{ "maps", PS_GUEST }, { "smaps", PS_GUEST },
		{ "smaps_rollup", PS_GUEST }, { "pagemap", PS_GUEST },
		{ "mem", PS_GUEST }, { "auxv", PS_GUEST }, { "stat", PS_GUEST },
		{ "statm", PS_GUEST }, { "status", PS_GUEST },
		{ "numa_maps", PS_GUEST }, { "limits", PS_GUEST },
		{ "fd", PS_DEPUTY }, { "fd/3", PS_DEPUTY },
		{ "fdinfo/0", PS_DEPUTY }, { "cwd", PS_DEPUTY },
		{ "root", PS_DEPUTY },
		{ "exe", PS_ORIG }, { "cmdline", PS_ORIG }, { "environ", PS_ORIG },
		{ "mountinfo", PS_ORIG }, { "ns/mnt", PS_ORIG }, { "", PS_ORIG },
		{ "task", PS_ORIG }, { "attr/current", PS_ORIG },
		{ "maps/x", PS_ORIG }, { "mapsx", PS_ORIG },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (procself_class(cases[i].rest) != cases[i].cls)
			fail_msg("'%s': class %d, expected %d", cases[i].rest,
			    procself_class(cases[i].rest), cases[i].cls);
	}
	assert_true(procself_guest_entry("maps"));
	assert_true(procself_guest_entry("mem"));
	assert_false(procself_guest_entry("exe"));
	assert_false(procself_guest_entry("fd"));
	assert_false(procself_guest_entry("../maps"));
	assert_false(procself_guest_entry("maps/"));
	assert_false(procself_guest_entry(""));
	assert_int_equal(procself_fd_entry("fd"), -2);
	assert_int_equal(procself_fd_entry("fdinfo"), -2);
	assert_int_equal(procself_fd_entry("fd/17"), 17);
	assert_int_equal(procself_fd_entry("fdinfo/1025"), 1025);
	assert_int_equal(procself_fd_entry("fd/99999999999"), INT_MAX);
	assert_int_equal(procself_fd_entry("maps"), -1);
	assert_int_equal(procself_fd_entry("fd/x"), -1);
}

/* ---- the paths a call names ---- */

static void
test_call_paths(void **state)
{
	struct procself_pathref	 r[2];
	uint64_t		 a[6] = { 0 };
	uint64_t		 how[3] = { O_RDONLY | O_NOFOLLOW, 0, 0 };
	const char		*p = "/x", *q = "/y";
	int			 open;

	a[0] = (uint64_t)(uintptr_t)p;
	a[1] = O_RDONLY;
	assert_int_equal(procself_call_paths(SYS_open, a, r, &open), 1);
	assert_true(open);
	assert_true(r[0].follow);
	assert_int_equal(r[0].dirfd, AT_FDCWD);
	a[1] = O_RDONLY | O_NOFOLLOW;
	assert_int_equal(procself_call_paths(SYS_open, a, r, &open), 1);
	assert_false(r[0].follow);

	a[0] = 7;
	a[1] = (uint64_t)(uintptr_t)p;
	a[2] = (uint64_t)(uintptr_t)how;
	assert_int_equal(procself_call_paths(SYS_openat2, a, r, &open), 1);
	assert_true(open);
	assert_int_equal(r[0].dirfd, 7);
	assert_false(r[0].follow);

	a[0] = (uint64_t)(uintptr_t)p;
	assert_int_equal(procself_call_paths(SYS_lstat, a, r, &open), 1);
	assert_false(open);
	assert_false(r[0].follow);
	assert_int_equal(procself_call_paths(SYS_stat, a, r, &open), 1);
	assert_true(r[0].follow);
	assert_int_equal(procself_call_paths(SYS_readlink, a, r, &open), 1);
	assert_false(r[0].follow);

	/* newfstatat(dirfd, path, buf, AT_SYMLINK_NOFOLLOW) */
	a[0] = AT_FDCWD;
	a[1] = (uint64_t)(uintptr_t)p;
	a[3] = AT_SYMLINK_NOFOLLOW;
	assert_int_equal(procself_call_paths(SYS_newfstatat, a, r, &open), 1);
	assert_false(r[0].follow);
	a[3] = 0;
	assert_int_equal(procself_call_paths(SYS_newfstatat, a, r, &open), 1);
	assert_true(r[0].follow);

	/* renameat: two paths; symlink: only the link's own path */
	a[0] = 3;
	a[2] = 4;
	a[3] = (uint64_t)(uintptr_t)q;
	assert_int_equal(procself_call_paths(SYS_renameat, a, r, &open), 2);
	assert_int_equal(r[1].dirfd, 4);
	assert_int_equal(r[1].argi, 3);
	a[0] = (uint64_t)(uintptr_t)p;
	a[1] = (uint64_t)(uintptr_t)q;
	assert_int_equal(procself_call_paths(SYS_symlink, a, r, &open), 1);
	assert_int_equal(r[0].argi, 1);
	/* a NULL path is none; a call without paths has none */
	a[0] = 0;
	assert_int_equal(procself_call_paths(SYS_stat, a, r, &open), 0);
	assert_int_equal(procself_call_paths(SYS_read, a, r, &open), 0);
}

/* ---- routes, with this process as the deputy and a child as the original ---- */

struct rt {
	struct procself	ps;
	pid_t		child;
	char		dir[64];
};

static int
setup_rt(void **state)
{
	struct rt	*t = calloc(1, sizeof *t);
	char		*cause = NULL;

	if ((t->child = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (procself_init(&t->ps, t->child, 100, &cause) == -1) {
		fprintf(stderr, "procself_init: %s\n", cause);
		return -1;
	}
	snprintf(t->dir, sizeof t->dir, "/tmp/test_procself.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	*state = t;
	return 0;
}

static int
teardown_rt(void **state)
{
	struct rt	*t = *state;
	char		 p[128];

	kill(t->child, SIGKILL);
	waitpid(t->child, NULL, 0);
	snprintf(p, sizeof p, "%s/link", t->dir);
	unlink(p);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void
expect(struct rt *t, int dirfd, const char *path, int follow, int action,
    const char *want)
{
	struct procself_route	r;

	procself_route_path(&t->ps, dirfd, path, follow, &r);
	if (r.action != action)
		fail_msg("%s (follow %d): action %d, expected %d (path %s)",
		    path, follow, r.action, action, r.path);
	if (want != NULL && strcmp(want, action == PR_LOCAL ? r.entry :
	    r.path) != 0)
		fail_msg("%s (follow %d): '%s', expected '%s'", path, follow,
		    action == PR_LOCAL ? r.entry : r.path, want);
}

static void
test_route(void **state)
{
	struct rt		*t = *state;
	struct procself_route	 r;
	char			 p[PATH_MAX], w[PATH_MAX];
	int			 o = t->child, me = getpid(), fd, high;

	assert_string_equal(t->ps.mnt, "/proc");
	expect(t, AT_FDCWD, "/proc/self/maps", 1, PR_LOCAL, "maps");
	procself_route_path(&t->ps, AT_FDCWD, "/proc/self/maps", 1, &r);
	assert_true(r.deputy);
	assert_false(r.thread);
	snprintf(w, sizeof w, "/proc/%d/maps", o);
	assert_string_equal(r.path, w);
	procself_route_path(&t->ps, AT_FDCWD, "/proc/thread-self/smaps", 1, &r);
	assert_int_equal(r.action, PR_LOCAL);
	assert_true(r.thread);
	snprintf(w, sizeof w, "/proc/%d/task/%d/smaps", o, o);
	assert_string_equal(r.path, w);
	/* its own home pid: itself, the guest's */
	snprintf(p, sizeof p, "/proc/%d/mem", o);
	procself_route_path(&t->ps, AT_FDCWD, p, 1, &r);
	assert_int_equal(r.action, PR_LOCAL);
	assert_false(r.deputy);
	snprintf(p, sizeof p, "/proc/%d/task/%d/status", me, me);
	expect(t, AT_FDCWD, p, 1, PR_LOCAL, "status");
	expect(t, AT_FDCWD, "/tmp/../proc/self/stat", 1, PR_LOCAL, "stat");
	/* the original's */
	snprintf(w, sizeof w, "/proc/%d/exe", o);
	expect(t, AT_FDCWD, "/proc/self/exe", 0, PR_PATH, w);
	expect(t, AT_FDCWD, "/proc/self/exe", 1, PR_PATH, w);
	snprintf(w, sizeof w, "/proc/%d/cmdline", o);
	expect(t, AT_FDCWD, "/proc/self/cmdline", 1, PR_PATH, w);
	snprintf(w, sizeof w, "/proc/%d", o);
	expect(t, AT_FDCWD, "/proc/self", 1, PR_PATH, w);
	snprintf(w, sizeof w, "%d", o);
	expect(t, AT_FDCWD, "/proc/self", 0, PR_LINK, w);
	snprintf(w, sizeof w, "%d/task/%d", o, o);
	expect(t, AT_FDCWD, "/proc/thread-self", 0, PR_LINK, w);
	/* not there: judged by its directory */
	snprintf(w, sizeof w, "/proc/%d/no-such-entry", o);
	expect(t, AT_FDCWD, "/proc/self/no-such-entry", 1, PR_PATH, w);
	/* descriptors: ours below the floor, nothing at or above it */
	expect(t, AT_FDCWD, "/proc/self/fd/0", 0, PR_ASIS, NULL);
	expect(t, AT_FDCWD, "/proc/self/fd/0", 1, PR_ASIS, NULL);
	assert_true((high = fcntl(0, F_DUPFD_CLOEXEC, 150)) >= 150);
	snprintf(p, sizeof p, "/proc/self/fd/%d", high);
	expect(t, AT_FDCWD, p, 0, PR_ERR, NULL);
	expect(t, AT_FDCWD, p, 1, PR_ERR, NULL);
	snprintf(p, sizeof p, "/dev/fd/%d", high);
	expect(t, AT_FDCWD, p, 1, PR_ERR, NULL);
	snprintf(p, sizeof p, "/proc/self/fdinfo/%d", high);
	expect(t, AT_FDCWD, p, 1, PR_ERR, NULL);
	close(high);
	snprintf(p, sizeof p, "/proc/%d/fd/1", o);
	snprintf(w, sizeof w, "/proc/%d/fd/1", me);
	expect(t, AT_FDCWD, p, 0, PR_PATH, w);
	/* another process: as it is */
	expect(t, AT_FDCWD, "/proc/1/maps", 1, PR_ASIS, NULL);
	expect(t, AT_FDCWD, "/proc/meminfo", 1, PR_ASIS, NULL);
	expect(t, AT_FDCWD, "/etc/passwd", 1, PR_ASIS, NULL);
	/* through a directory descriptor */
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	expect(t, fd, "maps", 1, PR_LOCAL, "maps");
	snprintf(w, sizeof w, "/proc/%d/environ", o);
	expect(t, fd, "environ", 1, PR_PATH, w);
	procself_route_fd(&t->ps, fd, &r);
	snprintf(w, sizeof w, "/proc/%d", o);
	assert_int_equal(r.action, PR_PATH);
	assert_string_equal(r.path, w);
	close(fd);
	/* through a symlink of the user's: followed or not, as the call does */
	snprintf(p, sizeof p, "%s/link", t->dir);
	assert_int_equal(symlink("/proc/self/maps", p), 0);
	expect(t, AT_FDCWD, p, 1, PR_LOCAL, "maps");
	expect(t, AT_FDCWD, p, 0, PR_ASIS, NULL);
	/* an open descriptor, judged by what it is */
	fd = open("/proc/self/status", O_RDONLY);
	procself_route_fd(&t->ps, fd, &r);
	assert_int_equal(r.action, PR_LOCAL);
	assert_string_equal(r.entry, "status");
	close(fd);
	fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	assert_true(procself_is_fddir(&t->ps, fd));
	close(fd);
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	assert_false(procself_is_fddir(&t->ps, fd));
	close(fd);
}

/* getdents64 of /proc/self/fd, then the deputy's own range dropped */
static void
test_filter_dents(void **state)
{
	uint8_t	 buf[8192], *p;
	size_t	 n, off;
	int	 fd, high, seen_high = 0, seen0 = 0;
	long	 got;

	assert_true((high = fcntl(0, F_DUPFD_CLOEXEC, 150)) >= 150);
	fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	got = syscall(SYS_getdents64, fd, buf, sizeof buf);
	assert_true(got > 0);
	n = procself_filter_dents(buf, (size_t)got, 100, 1);
	assert_true(n < (size_t)got);
	for (off = 0; off < n; off += *(uint16_t *)(p + 16)) {
		p = buf + off;
		if (atoi((char *)p + 19) >= 100)
			seen_high = 1;
		if (strcmp((char *)p + 19, "0") == 0)
			seen0 = 1;
	}
	assert_false(seen_high);
	assert_true(seen0);
	/* the old getdents' records: name at 18 */
	lseek(fd, 0, SEEK_SET);
	got = syscall(SYS_getdents, fd, buf, sizeof buf);
	assert_true(got > 0);
	n = procself_filter_dents(buf, (size_t)got, 100, 0);
	for (off = 0; off < n; off += *(uint16_t *)(p + 16)) {
		p = buf + off;
		assert_true(atoi((char *)p + 18) < 100);
	}
	close(fd);
	close(high);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_class),
		cmocka_unit_test(test_call_paths),
		cmocka_unit_test_setup_teardown(test_route, setup_rt,
		    teardown_rt),
		cmocka_unit_test(test_filter_dents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
