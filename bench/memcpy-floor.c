/*
 * memcpy-floor: the memory bandwidth a checkpoint or restore of N MiB is
 * measured against, in the same run on the same machine: the best of a
 * few memcpy()s between two already-faulted N MiB buffers.
 *
 * usage: memcpy-floor MiB [rounds]
 * prints: "memcpy MiB: best S s, G GB/s" (GB = 1e9 bytes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	size_t	 mib, len;
	int	 rounds = 5, i;
	char	*a, *b;
	double	 t, best = 1e9;

	if (argc < 2 || (mib = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: memcpy-floor MiB [rounds]\n");
		return 2;
	}
	if (argc > 2)
		rounds = atoi(argv[2]);
	len = mib << 20;
	if ((a = malloc(len)) == NULL || (b = malloc(len)) == NULL) {
		perror("malloc");
		return 2;
	}
	memset(a, 0x5a, len);		/* fault both in first: not what we time */
	memset(b, 0xa5, len);
	for (i = 0; i < rounds; i++) {
		t = now();
		memcpy(i % 2 ? a : b, i % 2 ? b : a, len);
		t = now() - t;
		if (t < best)
			best = t;
	}
	/* Keep the copies observable so the compiler cannot drop them. */
	if (a[len / 2] == b[len / 3] + 1)
		fputc(' ', stderr);
	printf("memcpy %zu: best %.4f s, %.2f GB/s\n", mib, best,
	    len / best / 1e9);
	return 0;
}
