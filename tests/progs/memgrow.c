/*
 * memgrow: a process whose memory grows, for the guest memory limit. It
 * takes PRE MiB before READY, waits for SIGUSR1, then takes GROW MiB more,
 * one MiB at a time, each filled with a pattern derived from its address,
 * printing a line every 16 MiB; at the end it checks every word of all of
 * it. Its output depends only on its arguments, so a run sent home half
 * way prints exactly what an uninterrupted one does.
 *
 * usage: memgrow PRE-MIB GROW-MIB
 */
#include <sys/mman.h>

#include <stdint.h>

#include "prog.h"

#define MIB		(1024UL * 1024UL)
#define MAXCHUNKS	4096

static unsigned long	*chunk[MAXCHUNKS];
static size_t		 nchunk;

/* One more MiB; the sum of its pattern relative to its place (not its address). */
static unsigned long
grow(void)
{
	unsigned long	*w, sum = 0;
	size_t		 i;

	if (nchunk == MAXCHUNKS)
		prog_die("too many chunks");
	w = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (w == MAP_FAILED)
		prog_die("mmap");
	for (i = 0; i < MIB / sizeof *w; i++) {
		w[i] = prog_pattern(&w[i], nchunk + 1);
		sum += (i * 2654435761UL) ^ (nchunk + 1);
	}
	chunk[nchunk++] = w;
	return sum;
}

int
main(int argc, char **argv)
{
	unsigned long	 pre, more, sum = 0, bad = 0;
	size_t		 c, i;

	if (argc != 3)
		prog_die("usage: memgrow PRE-MIB GROW-MIB");
	pre = strtoul(argv[1], NULL, 10);
	more = strtoul(argv[2], NULL, 10);
	if (pre + more > MAXCHUNKS)
		prog_die("at most 4096 MiB");
	prog_arm("memgrow");
	for (c = 0; c < pre; c++)
		sum += grow();
	printf("took %lu MiB\n", pre);
	prog_ready();
	prog_wait_usr1();
	for (c = 0; c < more; c++) {
		sum += grow();
		if (nchunk % 16 == 0)
			printf("grown to %zu MiB, sum %lx\n", nchunk, sum);
		fflush(stdout);
	}
	for (c = 0; c < nchunk; c++) {
		for (i = 0; i < MIB / sizeof *chunk[c]; i++) {
			if (chunk[c][i] == prog_pattern(&chunk[c][i], c + 1))
				continue;
			if (bad++ == 0)
				prog_fail("MiB %zu word %zu: %#lx, expected %#lx",
				    c, i, chunk[c][i],
				    prog_pattern(&chunk[c][i], c + 1));
		}
	}
	CHECK(bad == 0, "%lu words differ", bad);
	printf("verified %zu MiB, sum %lx\n", nchunk, sum);
	return prog_finish();
}
