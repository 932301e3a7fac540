/*
 * churn: a heap that has seen many mallocs and frees (program break and
 * mmap'd chunks) before the checkpoint, and must keep working after it:
 * every live block intact, brk() growing and shrinking, malloc_trim giving
 * memory back.
 */
#include <malloc.h>
#include <stdint.h>

#include "prog.h"

#define NSLOTS		4096
#define OPS		20000
#define MIB		(1024UL * 1024UL)
#define BIG		(64 * 1024)	/* below the mmap threshold */
#define NBIG		4096

struct block {
	unsigned long	*p;
	size_t		 words;
	unsigned long	 seed;
};

static struct block	slots[NSLOTS];
static unsigned long	rng = 0x2545f4914f6cdd1dUL;
static unsigned long	generation;

static unsigned long
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned long
word(unsigned long seed, size_t i)
{
	return prog_pattern((void *)(i * 8), seed);
}

static size_t
pick_size(void)
{
	unsigned long	r = next() % 100;

	if (r < 90)
		return 16 + next() % 2048;
	if (r < 99)
		return 2048 + next() % (64 * 1024);
	return 128 * 1024 + next() % (2 * MIB);	/* above the mmap threshold */
}

static int
verify(size_t slot, const char *when)
{
	struct block	*b = &slots[slot];
	size_t		 i;

	for (i = 0; i < b->words; i++) {
		if (b->p[i] != word(b->seed, i)) {
			prog_fail("%s: block %zu (%zu bytes at %p) word %zu is "
			    "%#lx, expected %#lx", when, slot, b->words * 8,
			    (void *)b->p, i, b->p[i], word(b->seed, i));
			return -1;
		}
	}
	return 0;
}

/* OPS random mallocs/frees; verify before every free when checking. */
static void
churn(int checking)
{
	struct block	*b;
	size_t		 i, slot;

	for (i = 0; i < OPS; i++) {
		slot = next() % NSLOTS;
		b = &slots[slot];
		if (b->p != NULL) {
			if (checking)
				verify(slot, "churn after restore");
			free(b->p);
			b->p = NULL;
			continue;
		}
		b->words = pick_size() / 8;
		b->seed = ++generation;
		if ((b->p = malloc(b->words * 8)) == NULL)
			prog_die("malloc");
		for (size_t w = 0; w < b->words; w++)
			b->p[w] = word(b->seed, w);
	}
}

int
main(void)
{
	void		*brk0, *brk1, *grown, *peak;
	static void	*big[NBIG];
	size_t		 i, n, live = 0, bad = 0;

	prog_arm("churn");
	/* A fixed threshold: big blocks stay mmap'd, the rest is brk heap. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	churn(0);
	brk0 = sbrk(0);
	for (i = 0; i < NSLOTS; i++)
		live += slots[i].p != NULL;
	fprintf(stderr, "churn: %zu live blocks, break at %p\n", live, brk0);

	prog_ready();
	prog_wait_usr1();

	for (i = 0; i < NSLOTS; i++)
		if (slots[i].p != NULL && verify(i, "after restore") == -1 &&
		    ++bad > 10)
			break;
	brk1 = sbrk(0);
	CHECK(brk1 == brk0, "program break %p, expected %p", brk1, brk0);

	/* brk() itself: grow by 8 MiB, write it, give it back. */
	grown = sbrk(8 * MIB);
	if (grown == (void *)-1)
		prog_fail("sbrk(+8 MiB) from %p: %s", brk1, strerror(errno));
	else {
		CHECK(grown == brk1, "sbrk grew from %p, expected %p", grown,
		    brk1);
		memset(grown, 0xab, 8 * MIB);
		CHECK(((unsigned char *)grown)[8 * MIB - 1] == 0xab,
		    "grown break not writable");
		CHECK(sbrk(-(intptr_t)(8 * MIB)) != (void *)-1,
		    "sbrk(-8 MiB): %s", strerror(errno));
		CHECK(sbrk(0) == brk1, "break %p after shrinking, expected %p",
		    sbrk(0), brk1);
	}

	churn(1);
	for (i = 0; i < NSLOTS; i++) {
		if (slots[i].p != NULL) {
			verify(i, "final");
			free(slots[i].p);
			slots[i].p = NULL;
		}
	}

	/*
	 * malloc's heap must still grow by brk (glibc falls back to mmap
	 * quietly when brk fails) and malloc_trim must shrink it: allocate
	 * below the mmap threshold until the break moves 4 MiB, free, trim.
	 */
	brk1 = sbrk(0);
	for (n = 0; n < NBIG && (char *)sbrk(0) < (char *)brk1 + 4 * MIB; n++)
		if ((big[n] = malloc(BIG)) == NULL)
			prog_die("malloc");
		else
			memset(big[n], (int)n, BIG);
	peak = sbrk(0);
	CHECK((char *)peak >= (char *)brk1 + 4 * MIB, "%zu mallocs of %d "
	    "bytes grew the break by %ld bytes only", n, BIG,
	    (long)((char *)peak - (char *)brk1));
	while (n-- > 0)
		free(big[n]);
	malloc_trim(0);
	CHECK((char *)sbrk(0) <= (char *)peak - 2 * MIB, "malloc_trim left the "
	    "break at %p (peak %p)", sbrk(0), peak);
	return prog_finish();
}
