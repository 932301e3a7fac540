/*
 * mlock: memory a process locked (issue 10, section 2): a region mlock()ed
 * whole, one mlock2(MLOCK_ONFAULT)ed (one page touched), two pages locked in
 * the middle of a region (the mapping splits), a region locked then
 * unlocked, and mlockall(MCL_FUTURE) last, so that every mapping made later
 * is locked too. At each check (mlock [CHECKS], one per SIGUSR1),
 * /proc/self/smaps must show "lo" (and "lf" for on-fault) exactly there, a
 * fresh mapping must come locked, and every page must hold its pattern.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "prog.h"

#define PG	4096UL
#define NPG	6

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif

struct region {
	const char	*name;
	unsigned char	*p;
	char		 lo[NPG], lf[NPG];	/* expected per page */
	char		 filled[NPG];
};

static unsigned char *
region_map(struct region *r, const char *name, int fill)
{
	size_t	i;

	memset(r, 0, sizeof *r);
	r->name = name;
	r->p = mmap(NULL, (NPG + 1) * PG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->p == MAP_FAILED)
		prog_die("mmap");
	if (mprotect(r->p + NPG * PG, PG, PROT_NONE) == -1)
		prog_die("mprotect");
	for (i = 0; i < NPG * PG && fill; i += sizeof(unsigned long))
		*(unsigned long *)(r->p + i) = prog_pattern(r->p + i, 3);
	memset(r->filled, fill, sizeof r->filled);
	return r->p;
}

static void
check(struct region *r)
{
	size_t	i, j;
	int	lo, lf;

	for (i = 0; i < NPG; i++) {
		lo = prog_has_vmflag(r->p + i * PG, "lo");
		lf = prog_has_vmflag(r->p + i * PG, "lf");
		CHECK(lo == r->lo[i], "region %s page %zu: %s, expected %s",
		    r->name, i, lo ? "locked" : "not locked",
		    r->lo[i] ? "locked" : "not locked");
		CHECK(lf == r->lf[i], "region %s page %zu: %s, expected %s",
		    r->name, i, lf ? "lock-on-fault" : "not lock-on-fault",
		    r->lf[i] ? "lock-on-fault" : "not lock-on-fault");
		if (!r->filled[i])
			continue;
		for (j = 0; j < PG; j += sizeof(unsigned long)) {
			unsigned char	*a = r->p + i * PG + j;

			if (*(unsigned long *)a != prog_pattern(a, 3)) {
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
	struct region	 reg[4];
	unsigned char	*fresh;
	size_t		 i, k;
	int		 checks = prog_checks(argc, argv), c;

	prog_arm("mlock");
	setvbuf(stdout, NULL, _IOLBF, 0);
	region_map(&reg[0], "whole", 1);
	if (mlock(reg[0].p, NPG * PG) == -1)
		prog_die("mlock");
	memset(reg[0].lo, 1, NPG);

	region_map(&reg[1], "onfault", 0);
	if (syscall(SYS_mlock2, reg[1].p, NPG * PG, MLOCK_ONFAULT) == -1)
		prog_die("mlock2");
	memset(reg[1].lo, 1, NPG);
	memset(reg[1].lf, 1, NPG);
	for (i = 0; i < PG; i += sizeof(unsigned long))
		*(unsigned long *)(reg[1].p + i) = prog_pattern(reg[1].p + i, 3);
	reg[1].filled[0] = 1;

	region_map(&reg[2], "middle", 1);
	if (mlock(reg[2].p + 2 * PG, 2 * PG) == -1)
		prog_die("mlock middle");
	reg[2].lo[2] = reg[2].lo[3] = 1;

	region_map(&reg[3], "unlocked", 1);
	if (mlock(reg[3].p, NPG * PG) == -1 || munlock(reg[3].p, NPG * PG) == -1)
		prog_die("mlock/munlock");

	if (mlockall(MCL_FUTURE) == -1)
		prog_die("mlockall");
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		for (k = 0; k < 4; k++)
			check(&reg[k]);
		/* MCL_FUTURE: what is mapped now comes locked */
		fresh = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fresh == MAP_FAILED)
			prog_fail("mmap after the move: %s", strerror(errno));
		else {
			CHECK(prog_has_vmflag(fresh, "lo"), "a new mapping is "
			    "not locked: mlockall(MCL_FUTURE) lost");
			munmap(fresh, PG);
		}
		printf("check %d: 4 regions, future mappings locked\n", c);
	}
	return prog_finish();
}
