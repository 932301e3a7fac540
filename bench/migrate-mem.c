/*
 * migrate-mem: N MiB of non-zero memory that keeps running, so that the
 * process itself can tell how long a migration stopped it.
 *
 * usage: migrate-mem MiB
 *
 * Fills N MiB as bench/touch does (each word derived from its address),
 * writes READY on stdout and creates $PROG_READY, then spins reading
 * CLOCK_MONOTONIC (the vDSO: no system call) and keeps the largest step
 * between two successive readings: the time during which it ran no
 * instruction at all. A migration's freeze-to-resume is that step: from
 * its last instruction at home to its first on the host. (Both nodes of
 * bench/migrate.sh share one machine and one monotonic clock; on two
 * machines the step would mix two clocks.) A scheduler preemption makes a
 * step too, of a few ms at most on a busy machine.
 *
 * On SIGUSR1 it checks every word, prints "gap S s" (the largest step, in
 * seconds) and exits 0; 1 if a word is wrong.
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t	go;

static void
on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static uint64_t
word(const uint64_t *p)
{
	return ((uint64_t)p * 0x9e3779b97f4a7c15ULL) | 1;	/* never zero */
}

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	const char		*ready;
	uint64_t		*mem;
	size_t			 mib, n, i;
	int64_t			 prev, t, gap = 0;
	int			 fd;

	if (argc != 2 || (mib = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: migrate-mem MiB\n");
		return 2;
	}
	n = mib << 17;			/* words */
	mem = mmap(NULL, n * 8, PROT_READ|PROT_WRITE,
	    MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (i = 0; i < n; i++)
		mem[i] = word(&mem[i]);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	printf("READY\n");
	fflush(stdout);
	if ((ready = getenv("PROG_READY")) != NULL) {
		if ((fd = open(ready, O_WRONLY|O_CREAT|O_TRUNC, 0644)) != -1)
			close(fd);
	}
	prev = now_ns();
	while (!go) {
		t = now_ns();
		if (t - prev > gap)
			gap = t - prev;
		prev = t;
	}

	for (i = 0; i < n; i++) {
		if (mem[i] != word(&mem[i])) {
			fprintf(stderr, "migrate-mem: word %zu at %p is %#llx\n",
			    i, (void *)&mem[i], (unsigned long long)mem[i]);
			return 1;
		}
	}
	printf("gap %.6f s\n", gap / 1e9);
	return 0;
}
