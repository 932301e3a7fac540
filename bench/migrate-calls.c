/*
 * migrate-calls: what a system call costs a process, wherever it runs;
 * bench/migrate.sh runs it at home and migrated, and compares.
 *
 * usage: migrate-calls FILE COUNT MiB
 *
 * Opens FILE (at least 4 KiB; its 4 KiB blocks are read in turn), writes
 * READY on stdout and creates $PROG_READY, then waits for SIGUSR1 (the
 * script migrates it meanwhile, or not). Then it times, each call with
 * clock_gettime (the vDSO: no system call, so never forwarded):
 *
 *	getppid	  COUNT calls of getppid()
 *	read4k	  COUNT read()s of 4 KiB from FILE (rewound, untimed, at EOF)
 *	write1m	  MiB MiB written in 1 MiB write()s to FILE.out (page cache)
 *	read1m	  the same read back in 1 MiB read()s, and checked
 *
 * and prints, on stdout, one line each:
 *	"getppid median M us p99 P us", "read4k median M us p99 P us",
 *	"write1m S s G GB/s", "read1m S s G GB/s"	(GB = 1e9 bytes)
 * FILE.out is removed; exit 0, or 1 when a call fails or data differs.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	4096
#define BIG	(1U << 20)

static volatile sig_atomic_t	go;

static void
on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
stats(const char *what, double *s, size_t n)
{
	qsort(s, n, sizeof *s, cmp_double);
	printf("%s median %.2f us p99 %.2f us\n", what, s[n / 2] * 1e6,
	    s[n * 99 / 100] * 1e6);
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "migrate-calls: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* All of len, in as many calls as it takes (a forwarded call may be short). */
static void
full(int fd, char *p, size_t len, int out)
{
	ssize_t	r;

	while (len > 0) {
		r = out ? write(fd, p, len) : read(fd, p, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			die(out ? "write" : "read");
		}
		p += r;
		len -= (size_t)r;
	}
}

int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	sigset_t		 set, old;
	const char		*ready;
	char			*path, *big, *back, blk[BLOCK];
	size_t			 count, mib, i;
	double			*s, t;
	ssize_t			 r;
	int			 fd, out, rfd;

	if (argc != 4 || (count = strtoul(argv[2], NULL, 10)) == 0 ||
	    (mib = strtoul(argv[3], NULL, 10)) == 0) {
		fprintf(stderr, "usage: migrate-calls FILE COUNT MiB\n");
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) == -1)
		die(argv[1]);
	if (asprintf(&path, "%s.out", argv[1]) == -1)
		die("asprintf");
	if ((out = open(path, O_RDWR|O_CREAT|O_TRUNC, 0644)) == -1)
		die(path);
	/* every buffer faulted in now: page faults are not what we time */
	s = calloc(count, sizeof *s);
	big = malloc(BIG);
	back = malloc(BIG);
	if (s == NULL || big == NULL || back == NULL)
		die("malloc");
	for (i = 0; i < BIG; i++)
		big[i] = (char)(i * 7 + 1);
	memset(back, 0, BIG);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	printf("READY\n");
	fflush(stdout);
	if ((ready = getenv("PROG_READY")) != NULL) {
		if ((rfd = open(ready, O_WRONLY|O_CREAT|O_TRUNC, 0644)) != -1)
			close(rfd);
	}
	while (!go)
		sigsuspend(&old);

	for (i = 0; i < count; i++) {
		t = now();
		getppid();
		s[i] = now() - t;
	}
	stats("getppid", s, count);

	for (i = 0; i < count; i++) {
		t = now();
		r = read(fd, blk, BLOCK);
		s[i] = now() - t;
		if (r == -1)
			die("read 4 KiB");
		if (r < BLOCK) {
			if (i == 0 && r == 0) {
				errno = EINVAL;
				die("empty file");
			}
			if (lseek(fd, 0, SEEK_SET) == -1)
				die("lseek");
		}
	}
	stats("read4k", s, count);

	t = now();
	for (i = 0; i < mib; i++)
		full(out, big, BIG, 1);
	t = now() - t;
	printf("write1m %.3f s %.3f GB/s\n", t, mib * (double)BIG / t / 1e9);
	if (lseek(out, 0, SEEK_SET) == -1)
		die("lseek");
	t = now();
	for (i = 0; i < mib; i++) {
		full(out, back, BIG, 0);
		if (i == 0 && memcmp(big, back, BIG) != 0) {
			fprintf(stderr, "migrate-calls: read back differs\n");
			return 1;
		}
	}
	t = now() - t;
	printf("read1m %.3f s %.3f GB/s\n", t, mib * (double)BIG / t / 1e9);
	if (memcmp(big, back, BIG) != 0) {
		fprintf(stderr, "migrate-calls: read back differs\n");
		return 1;
	}
	close(out);
	if (unlink(path) == -1)
		die("unlink");
	close(fd);
	free(path);
	free(s);
	free(big);
	free(back);
	fflush(stdout);
	return 0;
}
