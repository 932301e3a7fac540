/*
 * touch: N MiB of non-zero anonymous memory, then wait: what bench/ckpt.sh
 * checkpoints. Every 8-byte word holds a value derived from its address,
 * so after a restore a quick pass proves the pages came back.
 *
 * usage: touch MiB   (READY on stdout and through $PROG_READY; SIGUSR1:
 *                     verify, print "PASS touch", exit 0, or 1 on mismatch)
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	sigset_t		 set, old;
	const char		*ready;
	uint64_t		*mem;
	size_t			 mib, n, i;
	int			 fd;

	if (argc != 2 || (mib = strtoul(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: touch MiB\n");
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
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	printf("READY\n");
	fflush(stdout);
	if ((ready = getenv("PROG_READY")) != NULL) {
		if ((fd = open(ready, O_WRONLY|O_CREAT|O_TRUNC, 0644)) != -1)
			close(fd);
	}
	while (!go)
		sigsuspend(&old);

	for (i = 0; i < n; i++) {
		if (mem[i] != word(&mem[i])) {
			fprintf(stderr, "touch: word %zu at %p is %#llx\n", i,
			    (void *)&mem[i], (unsigned long long)mem[i]);
			printf("FAIL touch\n");
			return 1;
		}
	}
	printf("PASS touch\n");
	return 0;
}
