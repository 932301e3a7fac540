/*
 * groups: the supplementary groups of a process (issue 10, section 2). Run
 * as root it sets its own (setgroups: 4242, 4343 and its gid), so that
 * they differ from whatever restores or hosts it; otherwise it keeps those
 * it has. At each check (groups [CHECKS], one per SIGUSR1) getgroups()
 * must give the same set.
 */
#include <grp.h>
#include <limits.h>

#include "prog.h"

#define MAXG	256

static int
cmp_gid(const void *a, const void *b)
{
	gid_t	x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

static int
get(gid_t *g)
{
	int	n;

	if ((n = getgroups(MAXG, g)) == -1)
		prog_die("getgroups");
	qsort(g, (size_t)n, sizeof *g, cmp_gid);
	return n;
}

int
main(int argc, char **argv)
{
	gid_t	want[MAXG], have[MAXG];
	int	nwant, nhave, i, c, checks = prog_checks(argc, argv);

	prog_arm("groups");
	if (geteuid() == 0) {
		gid_t	set[3] = { 4343, 4242, getgid() };

		if (setgroups(3, set) == -1)
			prog_die("setgroups");
		printf("groups set: 4242 4343 and the gid\n");
	} else
		printf("groups kept\n");
	nwant = get(want);
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		nhave = get(have);
		if (nhave != nwant ||
		    memcmp(have, want, (size_t)nwant * sizeof *want) != 0) {
			fprintf(stderr, "groups: expected");
			for (i = 0; i < nwant; i++)
				fprintf(stderr, " %u", (unsigned)want[i]);
			fprintf(stderr, ", found");
			for (i = 0; i < nhave; i++)
				fprintf(stderr, " %u", (unsigned)have[i]);
			fputc('\n', stderr);
			prog_failures++;
		}
		printf("check %d: %d groups\n", c, nwant);
		fflush(stdout);
	}
	return prog_finish();
}
