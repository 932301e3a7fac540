/*
 * madvise: advice a process gave its own memory (issue 10, section 2):
 * MADV_DONTFORK, MADV_DONTDUMP, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
 * MADV_WIPEONFORK and MADV_MERGEABLE, each on a private anonymous region
 * of its own, one region with two of them, and one page in the middle of a
 * region (the mapping splits). At each check (madvise [CHECKS], one per
 * SIGUSR1), /proc/self/smaps must show each advice where it was given and
 * nowhere else, and every page must hold its pattern.
 *
 * An advice this kernel refuses (no THP, no KSM) is left out, and said so
 * on stdout before READY: the same on every run on one machine.
 */
#include <sys/mman.h>

#include "prog.h"

#define PG		4096UL
#define REGION_PAGES	4

static const struct advice {
	const char	*name;
	int		 advice;
	const char	*code;		/* smaps VmFlags */
} advices[] = {
	{ "dontfork", MADV_DONTFORK, "dc" },
	{ "dontdump", MADV_DONTDUMP, "dd" },
	{ "hugepage", MADV_HUGEPAGE, "hg" },
	{ "nohugepage", MADV_NOHUGEPAGE, "nh" },
	{ "wipeonfork", MADV_WIPEONFORK, "wf" },
	{ "mergeable", MADV_MERGEABLE, "mg" },
};
#define NADV	(sizeof advices / sizeof advices[0])

/* A region and the advices (bits of advices[]) each of its pages has. */
struct region {
	const char	*name;
	unsigned char	*p;
	unsigned	 want[REGION_PAGES];
};

static int	supported[NADV];

static unsigned char *
region_map(void)
{
	unsigned char	*p;
	size_t		 i;

	/* a guard page after it: regions never merge with each other */
	p = mmap(NULL, (REGION_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		prog_die("mmap");
	if (mprotect(p + REGION_PAGES * PG, PG, PROT_NONE) == -1)
		prog_die("mprotect");
	for (i = 0; i < REGION_PAGES * PG; i += sizeof(unsigned long))
		*(unsigned long *)(p + i) = prog_pattern(p + i, 7);
	return p;
}

static void
advise(struct region *r, size_t first, size_t n, size_t k)
{
	size_t	i;

	if (!supported[k])
		return;
	if (madvise(r->p + first * PG, n * PG, advices[k].advice) == -1)
		prog_die(advices[k].name);
	for (i = first; i < first + n; i++)
		r->want[i] |= 1u << k;
}

static void
check(struct region *r)
{
	size_t		i, k, j;
	unsigned	has;

	for (i = 0; i < REGION_PAGES; i++) {
		for (k = 0; k < NADV; k++) {
			if (!supported[k])
				continue;
			has = prog_has_vmflag(r->p + i * PG, advices[k].code);
			CHECK(has == ((r->want[i] >> k) & 1),
			    "region %s page %zu: %s (%s) %s, expected %s",
			    r->name, i, advices[k].name, advices[k].code,
			    has ? "set" : "not set",
			    (r->want[i] >> k) & 1 ? "set" : "not set");
		}
		for (j = 0; j < PG; j += sizeof(unsigned long)) {
			unsigned char	*a = r->p + i * PG + j;

			if (*(unsigned long *)a != prog_pattern(a, 7)) {
				prog_fail("region %s: word at %p lost its content",
				    r->name, (void *)a);
				break;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct region	 reg[NADV + 3];
	size_t		 k, n = 0;
	unsigned char	*probe;
	int		 checks = prog_checks(argc, argv), c;

	prog_arm("madvise");
	probe = region_map();
	for (k = 0; k < NADV; k++) {
		supported[k] = madvise(probe, PG, advices[k].advice) == 0;
		if (!supported[k])
			printf("%s: not supported here\n", advices[k].name);
	}
	munmap(probe, (REGION_PAGES + 1) * PG);
	memset(reg, 0, sizeof reg);
	for (k = 0; k < NADV; k++) {
		reg[n].name = advices[k].name;
		reg[n].p = region_map();
		advise(&reg[n++], 0, REGION_PAGES, k);
	}
	reg[n].name = "dontfork+dontdump";
	reg[n].p = region_map();
	advise(&reg[n], 0, REGION_PAGES, 0);
	advise(&reg[n++], 0, REGION_PAGES, 1);
	reg[n].name = "wipeonfork-in-the-middle";
	reg[n].p = region_map();
	advise(&reg[n++], 1, 2, 4);
	reg[n].name = "none";
	reg[n].p = region_map();
	n++;
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		for (k = 0; k < n; k++)
			check(&reg[k]);
		printf("check %d: %zu regions\n", c, n);
		fflush(stdout);
	}
	return prog_finish();
}
