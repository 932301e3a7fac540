/*
 * mem: memory of every kind a checkpoint must carry, filled with patterns
 * derived from each word's address so that a page restored at the wrong
 * place, a lost COW page or a lost protection shows.
 *
 * usage: mem [MiB]   (anonymous region size, default 64, at most 512)
 * Temporary files go to $TMPDIR (default /tmp) and are removed at the end
 * unless $PROG_KEEP is set (a checkpoint left running gives two copies that
 * share them).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdint.h>

#include "prog.h"

#define PAGE		4096UL
#define MIB		(1024UL * 1024UL)
#define PRIV_PAGES	16
#define SHARED_PAGES	8
#define ZERO_SIZE	(64 * MIB)
#define NHEAP		64

/* salts: one per region so regions cannot stand in for each other */
enum { S_ANON = 1, S_HEAP, S_FILE, S_COW, S_SHARED, S_RO, S_NONE, S_GROWS,
    S_GUARD, S_MARK };

static sigjmp_buf	 probe_jmp;
static volatile int	 probing;

static void
fill(void *p, size_t len, unsigned long salt)
{
	unsigned long	*w = p;
	size_t		 i;

	for (i = 0; i < len / sizeof *w; i++)
		w[i] = prog_pattern(&w[i], salt);
}

/* Number of words that differ; the first one is reported. */
static size_t
verify(const char *what, const void *p, size_t len, unsigned long salt)
{
	const unsigned long	*w = p;
	size_t			 i, bad = 0;

	for (i = 0; i < len / sizeof *w; i++) {
		if (w[i] == prog_pattern(&w[i], salt))
			continue;
		if (bad++ == 0)
			prog_fail("%s: word at %p (offset %zu) is %#lx, "
			    "expected %#lx", what, (void *)&w[i], i * sizeof *w,
			    w[i], prog_pattern(&w[i], salt));
	}
	if (bad > 1)
		prog_fail("%s: %zu words differ in all", what, bad);
	return bad;
}

static void
verify_zero(const char *what, const void *p, size_t len)
{
	const unsigned long	*w = p;
	size_t			 i, bad = 0;

	for (i = 0; i < len / sizeof *w; i++) {
		if (w[i] != 0 && bad++ == 0)
			prog_fail("%s: word at %p is %#lx, expected 0", what,
			    (void *)&w[i], w[i]);
	}
	if (bad > 1)
		prog_fail("%s: %zu non-zero words in all", what, bad);
}

static void
probe_handler(int sig)
{
	if (probing)
		siglongjmp(probe_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* 1 if touching addr (reading, or writing when write) faults. */
static int
faults(volatile unsigned char *addr, int write)
{
	if (sigsetjmp(probe_jmp, 1) != 0) {
		probing = 0;
		return 1;
	}
	probing = 1;
	if (write)
		*addr = *addr;
	else
		(void)*addr;
	probing = 0;
	return 0;
}

/*
 * The /proc/self/smaps entry holding addr: its permission string and
 * VmFlags line. Returns 0 when found.
 */
static int
mapping_of(const void *addr, char perms[5], char *vmflags, size_t vflen)
{
	FILE		*f;
	char		 line[1024];
	unsigned long	 lo, hi, a = (unsigned long)addr;
	int		 found = 0;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char	p[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (found)
				break;
			if (a >= lo && a < hi) {
				found = 1;
				memcpy(perms, p, 5);
			}
			continue;
		}
		if (found && strncmp(line, "VmFlags:", 8) == 0)
			snprintf(vmflags, vflen, "%.200s", line + 8);
	}
	fclose(f);
	return found ? 0 : -1;
}

static void
check_perms(const char *what, const void *addr, const char *want)
{
	char	perms[5] = "", vmf[256] = "";

	if (mapping_of(addr, perms, vmf, sizeof vmf) != 0)
		prog_fail("%s: %p is not mapped", what, addr);
	else
		CHECK(strncmp(perms, want, 4) == 0,
		    "%s: %p mapped %s, expected %s", what, addr, perms, want);
}

static void *
xmap(size_t len, int prot, int flags, int fd, const char *what)
{
	void	*p;

	p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		prog_die(what);
	return p;
}

int
main(int argc, char **argv)
{
	const char	*tmp;
	char		 priv_path[PATH_MAX], shared_path[PATH_MAX];
	unsigned char	 page[PAGE];
	unsigned char	*anon, *priv, *shared, *ro, *none, *grows, *guard;
	unsigned char	*zero;
	void		*heap[NHEAP];
	size_t		 heap_len[NHEAP];
	size_t		 mib = 64, anon_len, i;
	int		 priv_fd, shared_fd;
	char		 perms[5], vmf[256];
	struct sigaction sa;
	struct stat	 st;

	prog_arm("mem");
	if (argc > 1)
		mib = strtoul(argv[1], NULL, 10);
	if (mib == 0 || mib > 512) {
		fprintf(stderr, "usage: mem [MiB, 1..512]\n");
		return 2;
	}
	anon_len = mib * MIB;
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = probe_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	/* Anonymous: every 8th page never touched, so it must stay zero. */
	anon = xmap(anon_len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
	    -1, "mmap anon");
	for (i = 0; i < anon_len / PAGE; i++) {
		if (i % 8 != 7)
			fill(anon + i * PAGE, PAGE, S_ANON);
	}

	/* Heap: small blocks from the program break, big ones mmap'd by malloc. */
	for (i = 0; i < NHEAP; i++) {
		heap_len[i] = 64 + i * 1000;
		if (i == NHEAP - 1)
			heap_len[i] = 4 * MIB;
		if ((heap[i] = malloc(heap_len[i])) == NULL)
			prog_die("malloc");
		fill(heap[i], heap_len[i], S_HEAP);
	}

	/* Private file mapping: odd pages written (COW), even ones as in the file. */
	snprintf(priv_path, sizeof priv_path, "%s/mem-priv.%d", tmp, getpid());
	if ((priv_fd = open(priv_path, O_RDWR|O_CREAT|O_TRUNC, 0600)) == -1)
		prog_die(priv_path);
	for (i = 0; i < PRIV_PAGES; i++) {
		unsigned long	*w = (unsigned long *)page;
		size_t		 j;

		for (j = 0; j < PAGE / sizeof *w; j++)
			w[j] = prog_pattern((void *)(i * PAGE + j * sizeof *w),
			    S_FILE);
		if (write(priv_fd, page, PAGE) != (ssize_t)PAGE)
			prog_die("write priv file");
	}
	priv = xmap(PRIV_PAGES * PAGE, PROT_READ|PROT_WRITE, MAP_PRIVATE,
	    priv_fd, "mmap private file");
	close(priv_fd);
	for (i = 0; i < PRIV_PAGES; i++) {
		if (i % 2 == 1)
			fill(priv + i * PAGE, PAGE, S_COW);
		else if (i != PRIV_PAGES - 2)	/* one page never even read */
			(void)*(volatile unsigned char *)(priv + i * PAGE);
	}

	/* Shared file mapping: the writes must land in the file. */
	snprintf(shared_path, sizeof shared_path, "%s/mem-shared.%d", tmp,
	    getpid());
	if ((shared_fd = open(shared_path, O_RDWR|O_CREAT|O_TRUNC, 0600)) == -1)
		prog_die(shared_path);
	if (ftruncate(shared_fd, SHARED_PAGES * PAGE) == -1)
		prog_die("ftruncate");
	shared = xmap(SHARED_PAGES * PAGE, PROT_READ|PROT_WRITE, MAP_SHARED,
	    shared_fd, "mmap shared file");
	fill(shared, SHARED_PAGES * PAGE, S_SHARED);

	/* Filled, then made read-only / inaccessible. */
	ro = xmap(4 * PAGE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1,
	    "mmap ro");
	fill(ro, 4 * PAGE, S_RO);
	if (mprotect(ro, 4 * PAGE, PROT_READ) == -1)
		prog_die("mprotect ro");
	none = xmap(4 * PAGE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1,
	    "mmap none");
	fill(none, 4 * PAGE, S_NONE);
	if (mprotect(none, 4 * PAGE, PROT_NONE) == -1)
		prog_die("mprotect none");

	/* A grows-down region, as thread stacks once were. */
	grows = xmap(4 * PAGE, PROT_READ|PROT_WRITE,
	    MAP_PRIVATE|MAP_ANONYMOUS|MAP_GROWSDOWN, -1, "mmap growsdown");
	fill(grows, 4 * PAGE, S_GROWS);

	/* Two pages around a PROT_NONE guard page, as glibc lays out stacks. */
	guard = xmap(3 * PAGE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
	    -1, "mmap guard");
	fill(guard, PAGE, S_GUARD);
	fill(guard + 2 * PAGE, PAGE, S_GUARD);
	if (mprotect(guard + PAGE, PAGE, PROT_NONE) == -1)
		prog_die("mprotect guard");

	/*
	 * Zeros of three kinds: written as zeros (present pages), only read
	 * (the shared zero page), never touched.
	 */
	zero = xmap(ZERO_SIZE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS,
	    -1, "mmap zero");
	memset(zero, 0, ZERO_SIZE / 4);
	for (i = ZERO_SIZE / 4; i < ZERO_SIZE / 2; i += PAGE)
		(void)*(volatile unsigned char *)(zero + i);

	prog_ready();
	prog_wait_usr1();

	/* Page by page so a report names the page; stop after 20 bad ones. */
	for (i = 0; i < anon_len / PAGE && prog_failures < 20; i++) {
		char	what[64];

		snprintf(what, sizeof what, "anon page %zu", i);
		if (i % 8 != 7)
			verify(what, anon + i * PAGE, PAGE, S_ANON);
		else
			verify_zero(what, anon + i * PAGE, PAGE);
	}

	for (i = 0; i < NHEAP; i++) {
		char	what[64];

		snprintf(what, sizeof what, "heap block %zu (%zu bytes)", i,
		    heap_len[i]);
		verify(what, heap[i], heap_len[i], S_HEAP);
	}

	for (i = 0; i < PRIV_PAGES; i++) {
		char		 what[64];
		unsigned long	*w = (unsigned long *)(priv + i * PAGE);
		size_t		 j;

		snprintf(what, sizeof what, "private file page %zu", i);
		if (i % 2 == 1) {
			verify(what, w, PAGE, S_COW);
			continue;
		}
		for (j = 0; j < PAGE / sizeof *w; j++) {
			unsigned long	want = prog_pattern((void *)(i * PAGE +
			    j * sizeof *w), S_FILE);

			if (w[j] != want) {
				prog_fail("%s: word %zu is %#lx, expected the "
				    "file's %#lx", what, j, w[j], want);
				break;
			}
		}
	}
	if ((priv_fd = open(priv_path, O_RDONLY)) == -1)
		prog_fail("private file %s: %s", priv_path, strerror(errno));
	else {
		for (i = 0; i < PRIV_PAGES; i++) {
			unsigned long	*w = (unsigned long *)page;

			if (pread(priv_fd, page, PAGE, i * PAGE) != (ssize_t)PAGE) {
				prog_fail("private file: short read");
				break;
			}
			if (w[1] != prog_pattern((void *)(i * PAGE + 8), S_FILE))
				prog_fail("private file page %zu changed on "
				    "disk: COW writes leaked into the file", i);
		}
		close(priv_fd);
	}

	verify("shared mapping", shared, SHARED_PAGES * PAGE, S_SHARED);
	for (i = 0; i < SHARED_PAGES; i++) {
		unsigned long	*w = (unsigned long *)page;

		if (pread(shared_fd, page, PAGE, i * PAGE) != (ssize_t)PAGE) {
			prog_fail("shared file: short read: %s",
			    strerror(errno));
			break;
		}
		if (w[3] != prog_pattern(shared + i * PAGE + 24, S_SHARED))
			prog_fail("shared file page %zu: %#lx on disk, "
			    "expected %#lx", i, w[3],
			    prog_pattern(shared + i * PAGE + 24, S_SHARED));
	}
	/*
	 * A write after the restore must still reach the file. The word is
	 * put back after: a copy left running shares the file and checks next.
	 */
	((unsigned long *)shared)[5] = prog_pattern(shared, S_MARK);
	if (pread(shared_fd, page, PAGE, 0) != (ssize_t)PAGE ||
	    ((unsigned long *)page)[5] != prog_pattern(shared, S_MARK))
		prog_fail("shared mapping is no longer shared with %s",
		    shared_path);
	((unsigned long *)shared)[5] = prog_pattern(shared + 40, S_SHARED);
	if (fstat(shared_fd, &st) == 0)
		CHECK(st.st_size == (off_t)(SHARED_PAGES * PAGE),
		    "shared file size %jd, expected %lu", (intmax_t)st.st_size,
		    SHARED_PAGES * PAGE);

	check_perms("read-only region", ro, "r--p");
	verify("read-only region", ro, 4 * PAGE, S_RO);
	CHECK(faults(ro + PAGE, 1), "read-only region %p is writable", ro);
	check_perms("PROT_NONE region", none, "---p");
	CHECK(faults(none + PAGE, 0), "PROT_NONE region %p is readable", none);
	if (mprotect(none, 4 * PAGE, PROT_READ) == -1)
		prog_fail("mprotect PROT_NONE region: %s", strerror(errno));
	else
		verify("PROT_NONE region", none, 4 * PAGE, S_NONE);

	verify("growsdown region", grows, 4 * PAGE, S_GROWS);
	vmf[0] = '\0';
	if (mapping_of(grows, perms, vmf, sizeof vmf) != 0)
		prog_fail("growsdown region %p is not mapped", grows);
	else
		CHECK(strstr(vmf, " gd") != NULL,
		    "growsdown region %p lost VM_GROWSDOWN (VmFlags:%s)",
		    grows, vmf);

	verify("below guard", guard, PAGE, S_GUARD);
	verify("above guard", guard + 2 * PAGE, PAGE, S_GUARD);
	check_perms("guard page", guard + PAGE, "---p");
	CHECK(faults(guard + PAGE, 0), "guard page %p is readable",
	    guard + PAGE);
	CHECK(faults(guard + PAGE + 100, 1), "guard page %p is writable",
	    guard + PAGE);

	verify_zero("zero region (written zeros)", zero, ZERO_SIZE / 4);
	verify_zero("zero region (read only)", zero + ZERO_SIZE / 4,
	    ZERO_SIZE / 4);
	verify_zero("zero region (untouched)", zero + ZERO_SIZE / 2,
	    ZERO_SIZE / 2);

	close(shared_fd);
	if (getenv("PROG_KEEP") == NULL) {
		unlink(priv_path);
		unlink(shared_path);
	}
	return prog_finish();
}
