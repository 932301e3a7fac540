/*
 * soak: memory that keeps changing while it is checkpointed and migrated,
 * and that checks itself all the time, for the integrity soak
 * (tests/integration/56-integrity-soak.sh, bench/soak-migrate.sh).
 *
 * usage: soak MiB [seconds]
 *
 * An anonymous region of MiB (half of it with MADV_HUGEPAGE), a private
 * mapping of a 100 KiB file (some pages written, so copy-on-write, the
 * rest as the file has them) and a few heap blocks. Every page of the
 * anonymous region but every 16th carries a generation in its first word
 * and, in every other word, a pattern derived from the word's address and
 * that generation; every 16th page is never touched and must stay zero.
 * The program rewrites random pages with their next generation and sweeps
 * the whole state, for ever (or for seconds), so a page lost, zeroed, left
 * at an old generation by a move or mapped at the wrong place is seen at
 * the next sweep: it prints "CORRUPT ..." with the page and exits 1 at
 * once. SIGTERM (or the time running out) ends it after one last full
 * sweep: "PASS soak: N writes, N sweeps" and status 0.
 *
 * A move may stop it in the middle of rewriting a page: the page then
 * holds the new generation in its first word and a mix of patterns after
 * it. That is its state at that instant and the move must carry it as it
 * is; the program finishes the page after it resumes, before any sweep.
 * Temporary files go to $TMPDIR (default /tmp).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <stdint.h>
#include <time.h>

#include "prog.h"

#define PAGE		4096UL
#define MIB		(1024UL * 1024UL)
#define FILE_PAGES	25		/* 100 KiB */
#define NHEAP		16
#define WRITES		64		/* pages rewritten per round */
#define SWEEP		1024		/* pages checked per round */

enum { S_ANON = 1, S_FILE, S_COW, S_HEAP };

static volatile sig_atomic_t	 stop;
static uint64_t			 rng = 0x2545f4914f6cdd1dULL;

static void
on_term(int sig PROG_UNUSED)
{
	stop = 1;
}

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every page of the region that the program writes (not every 16th). */
static int
written(size_t i)
{
	return i % 16 != 0;
}

static void
page_write(unsigned long *w, uint64_t gen, unsigned long salt)
{
	size_t	i;

	w[0] = gen;
	for (i = 1; i < PAGE / sizeof *w; i++)
		w[i] = prog_pattern(&w[i], salt ^ (gen << 8));
}

static __attribute__((noreturn)) void
corrupt(const char *what, const void *page, size_t word, unsigned long found,
    unsigned long want, uint64_t gen)
{
	fprintf(stderr, "CORRUPT %s: page %p word %zu is %#lx, expected %#lx "
	    "(generation %llu)\n", what, page, word, found, want,
	    (unsigned long long)gen);
	printf("FAIL soak: corrupt %s page %p\n", what, page);
	fflush(stdout);
	exit(1);
}

/* A written page: its generation is not 0 and every word follows from it. */
static void
page_check(const char *what, const unsigned long *w, unsigned long salt)
{
	uint64_t	gen = w[0];
	size_t		i;

	if (gen == 0)
		corrupt(what, w, 0, 0, 1, 0);
	for (i = 1; i < PAGE / sizeof *w; i++) {
		if (w[i] != prog_pattern(&w[i], salt ^ (gen << 8)))
			corrupt(what, w, i, w[i],
			    prog_pattern(&w[i], salt ^ (gen << 8)), gen);
	}
}

static void
zero_check(const char *what, const unsigned long *w)
{
	size_t	i;

	for (i = 0; i < PAGE / sizeof *w; i++) {
		if (w[i] != 0)
			corrupt(what, w, i, w[i], 0, 0);
	}
}

struct state {
	uint8_t		*anon;
	size_t		 npages;
	uint8_t		*file;		/* FILE_PAGES, odd pages written */
	unsigned long	*heap[NHEAP];
	size_t		 cursor;	/* next page the sweep checks */
};

static void
check_anon_page(struct state *s, size_t i)
{
	const unsigned long *w = (const unsigned long *)(s->anon + i * PAGE);

	if (written(i))
		page_check("anonymous", w, S_ANON);
	else
		zero_check("untouched anonymous", w);
}

/* The file mapping: even pages as the file has them, odd pages ours. */
static void
check_file(struct state *s)
{
	const unsigned long	*w;
	size_t			 p, i;

	for (p = 0; p < FILE_PAGES; p++) {
		w = (const unsigned long *)(s->file + p * PAGE);
		if (p % 2) {
			page_check("file copy-on-write", w, S_COW);
			continue;
		}
		for (i = 0; i < PAGE / sizeof *w; i++) {
			unsigned long want = prog_pattern((void *)(p * PAGE +
			    i * sizeof *w), S_FILE);

			if (w[i] != want)
				corrupt("file (clean)", w, i, w[i], want, 0);
		}
	}
}

static void
check_heap(struct state *s)
{
	size_t	k;

	for (k = 0; k < NHEAP; k++)
		page_check("heap", s->heap[k], S_HEAP + k);
}

static void
sweep_all(struct state *s)
{
	size_t	i;

	for (i = 0; i < s->npages; i++)
		check_anon_page(s, i);
	check_file(s);
	check_heap(s);
}

static int
make_file(const char *path)
{
	unsigned long	 buf[PAGE / sizeof(unsigned long)];
	size_t		 p, i;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		prog_die("open file");
	for (p = 0; p < FILE_PAGES; p++) {
		/* the pattern of the file offset, not of an address */
		for (i = 0; i < PAGE / sizeof *buf; i++)
			buf[i] = prog_pattern((void *)(p * PAGE + i * sizeof *buf),
			    S_FILE);
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			prog_die("write file");
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct state	 s;
	struct timespec	 t0, t;
	const char	*tmp;
	char		 path[4096];
	unsigned long	 mib = 0, secs = 0;
	unsigned long long writes = 0, sweeps = 0;
	size_t		 i, k, p;
	int		 fd;

	prog_name = "soak";
	if (argc >= 2)
		mib = strtoul(argv[1], NULL, 10);
	if (argc == 3)
		secs = strtoul(argv[2], NULL, 10);
	if (argc < 2 || argc > 3 || mib == 0 || mib > 65536) {
		fprintf(stderr, "usage: soak MiB [seconds]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(&s, 0, sizeof s);
	rng ^= (uint64_t)getpid() << 32;

	s.npages = mib * MIB / PAGE;
	s.anon = mmap(NULL, s.npages * PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.anon == MAP_FAILED)
		prog_die("mmap anonymous");
	/* half of it in huge pages where the kernel gives them */
	madvise(s.anon, s.npages * PAGE / 2, MADV_HUGEPAGE);
	for (i = 0; i < s.npages; i++) {
		if (written(i))
			page_write((unsigned long *)(s.anon + i * PAGE), 1, S_ANON);
		else if (i % 32 == 0)
			(void)*(volatile uint8_t *)(s.anon + i * PAGE); /* zero page */
	}

	tmp = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/soak.%ld", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp", (long)getpid());
	fd = make_file(path);
	s.file = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE, fd, 0);
	if (s.file == MAP_FAILED)
		prog_die("mmap file");
	close(fd);
	for (p = 1; p < FILE_PAGES; p += 2)
		page_write((unsigned long *)(s.file + p * PAGE), 1, S_COW);
	for (k = 0; k < NHEAP; k++) {
		if ((s.heap[k] = malloc(PAGE)) == NULL)
			prog_die("malloc");
		page_write(s.heap[k], 1, S_HEAP + k);
	}
	sweep_all(&s);
	prog_ready();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		for (k = 0; k < WRITES; k++) {
			uint64_t	 r = next_rand();
			unsigned long	*w;

			i = r % s.npages;
			if (written(i)) {
				w = (unsigned long *)(s.anon + i * PAGE);
				page_write(w, w[0] + 1, S_ANON);
			}
			if ((r >> 40) % 64 == 0) {
				p = 1 + 2 * ((r >> 20) % (FILE_PAGES / 2));
				w = (unsigned long *)(s.file + p * PAGE);
				page_write(w, w[0] + 1, S_COW);
			}
			if ((r >> 40) % 64 == 1) {
				w = s.heap[(r >> 24) % NHEAP];
				page_write(w, w[0] + 1,
				    S_HEAP + (size_t)((r >> 24) % NHEAP));
			}
			writes++;
		}
		for (k = 0; k < SWEEP; k++) {
			check_anon_page(&s, s.cursor);
			if (++s.cursor == s.npages) {
				s.cursor = 0;
				check_file(&s);
				check_heap(&s);
				sweeps++;
			}
		}
		if (secs != 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((unsigned long)(t.tv_sec - t0.tv_sec) >= secs)
				break;
		}
	}
	sweep_all(&s);
	unlink(path);
	printf("PASS soak: %llu writes, %llu sweeps\n", writes, sweeps + 1);
	fflush(stdout);
	return 0;
}
