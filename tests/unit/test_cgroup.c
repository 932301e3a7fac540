/* test_cgroup.c: finding a controller's hierarchy and group, and the file helpers. */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/cgroup.h"

/* A hybrid system: v1 controllers, an empty v2 at .../unified. */
static const char mi_hybrid[] =
    "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:29 / /sys/fs/cgroup/memory rw shared:13 - cgroup cgroup rw,memory\n";
static const char cg_hybrid[] =
    "4:memory:/system.slice/ommd.service\n"
    "3:cpu,cpuacct:/system.slice\n"
    "0::/system.slice/ommd.service\n";

/* cgroup v2 only. */
static const char mi_v2[] =
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
static const char cg_v2[] = "0::/system.slice/ommd.service\n";

/* A container: the v1 memory hierarchy mounted from its own group. */
static const char mi_ct[] =
    "33 30 0:29 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n";
static const char cg_ct[] = "5:memory:/docker/abc/inner\n";

static void
test_find(void **state)
{
	struct cg_tree	 t;
	char		*cause = NULL;

	/* v2 without memory: the v1 memory hierarchy */
	assert_int_equal(cg_find_in(&t, "memory", mi_hybrid, cg_hybrid, "",
	    &cause), 0);
	assert_int_equal(t.kind, CG_V1);
	assert_string_equal(t.mnt, "/sys/fs/cgroup/memory");
	assert_string_equal(t.group,
	    "/sys/fs/cgroup/memory/system.slice/ommd.service");
	/* v2 that offers memory wins */
	assert_int_equal(cg_find_in(&t, "memory", mi_hybrid, cg_hybrid,
	    "cpu io memory pids\n", &cause), 0);
	assert_int_equal(t.kind, CG_V2);
	assert_string_equal(t.group,
	    "/sys/fs/cgroup/unified/system.slice/ommd.service");
	/* cpu in a joint hierarchy */
	assert_int_equal(cg_find_in(&t, "cpuacct", mi_hybrid, cg_hybrid, "",
	    &cause), 0);
	assert_string_equal(t.group, "/sys/fs/cgroup/cpu,cpuacct/system.slice");
	/* pure v2 */
	assert_int_equal(cg_find_in(&t, "memory", mi_v2, cg_v2,
	    "cpuset cpu io memory hugetlb pids rdma misc\n", &cause), 0);
	assert_int_equal(t.kind, CG_V2);
	assert_string_equal(t.group, "/sys/fs/cgroup/system.slice/ommd.service");
	/* the root group */
	assert_int_equal(cg_find_in(&t, "memory", mi_v2, "0::/\n", "memory\n",
	    &cause), 0);
	assert_string_equal(t.group, "/sys/fs/cgroup");
	/* a mount of a group, not of the root */
	assert_int_equal(cg_find_in(&t, "memory", mi_ct, cg_ct, NULL, &cause),
	    0);
	assert_string_equal(t.group, "/sys/fs/cgroup/memory/inner");
	free(cause);
}

static void
test_find_missing(void **state)
{
	struct cg_tree	 t;
	char		*cause = NULL;

	assert_int_equal(cg_find_in(&t, "memory", mi_v2, cg_v2, "cpu io\n",
	    &cause), -1);
	assert_non_null(strstr(cause, "no cgroup memory controller: cgroup v2 "
	    "on /sys/fs/cgroup does not offer it (its cgroup.controllers: cpu "
	    "io)"));
	assert_int_equal(cg_find_in(&t, "memory",
	    "25 30 0:23 / /sys rw - sysfs sysfs rw\n", "", NULL, &cause), -1);
	assert_non_null(strstr(cause, "neither cgroup v2 nor a cgroup v1 "
	    "memory hierarchy is mounted"));
	assert_int_equal(cg_find_in(&t, "memory", mi_v2, "", "memory\n",
	    &cause), -1);
	assert_non_null(strstr(cause, "in no v2 group"));
	free(cause);
}

/* The file helpers on a plain directory standing in for a group. */
static void
test_files(void **state)
{
	struct cg_tree	 t;
	char		 dir[] = "/tmp/test_cgroup.XXXXXX", sub[PATH_MAX];
	char		 base[PATH_MAX], path[PATH_MAX + 32], *cause = NULL;
	uint64_t	 v;
	int		 fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/guest-1", dir);
	assert_int_equal(cg_create(sub, &cause), 0);
	assert_int_equal(cg_create(sub, &cause), 0);	/* there already */
	snprintf(path, sizeof path, "%s/memory.events", sub);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cg_write(sub, "memory.events",
	    "low 0\nhigh 17\nmax 0\noom 0\n", &cause), 0);
	assert_int_equal(cg_read_u64(sub, "memory.events", "high", &v, &cause),
	    0);
	assert_int_equal(v, 17);
	assert_int_equal(cg_read_u64(sub, "memory.events", "oom", &v, &cause),
	    0);
	assert_int_equal(v, 0);
	assert_int_equal(cg_read_u64(sub, "memory.events", "hig", &v, &cause),
	    -1);
	assert_int_equal(cg_write(sub, "memory.events", "max\n", &cause), 0);
	assert_int_equal(cg_read_u64(sub, "memory.events", NULL, &v, &cause),
	    0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cg_write(sub, "memory.events", "12x\n", &cause), 0);
	assert_int_equal(cg_read_u64(sub, "memory.events", NULL, &v, &cause),
	    -1);
	assert_non_null(strstr(cause, "not a number"));
	assert_int_equal(cg_write(sub, "memory.events", "cpu memory\n", &cause),
	    0);
	assert_true(cg_has(sub, "memory.events", "memory"));
	assert_false(cg_has(sub, "memory.events", "mem"));
	assert_int_equal(cg_write(sub, "no-such-file", "1", &cause), -1);
	assert_non_null(strstr(cause, "no-such-file"));
	unlink(path);
	/* v1: the group itself is the base, nobody moves */
	memset(&t, 0, sizeof t);
	t.kind = CG_V1;
	snprintf(t.mnt, sizeof t.mnt, "%s", dir);
	snprintf(t.group, sizeof t.group, "%s", sub);
	assert_int_equal(cg_make_base(&t, getpid(), "daemon", "memory", base,
	    sizeof base, &cause), 0);
	assert_string_equal(base, sub);
	assert_int_equal(cg_remove(sub, 100, &cause), 0);
	assert_int_equal(cg_remove(sub, 100, &cause), 0);	/* gone already */
	assert_int_equal(rmdir(dir), 0);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_missing),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
