/*
 * shanon: a shared anonymous region only this process maps (what
 * mmap(MAP_SHARED | MAP_ANONYMOUS) gives a program that has not forked
 * yet), checkpointed or migrated, must come back with its content and
 * still shared: a child forked after the move writes to it and the parent
 * sees the write.
 *
 * usage: shanon [alias]
 * With "alias" the region is also mapped a second time (mremap with an old
 * size of 0): a checkpoint must refuse that ("mapped twice"), since a
 * restore would make two regions of one.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <stdint.h>

#include "prog.h"

#define PAGE	4096UL
#define NPAGES	64

static uint64_t
pattern(size_t word)
{
	return 0x5348414e4f4e0000ULL ^ (word * 0x9e3779b97f4a7c15ULL);
}

int
main(int argc, char **argv)
{
	uint64_t	*r, *alias = NULL;
	size_t		 i, words = NPAGES * PAGE / sizeof *r;
	pid_t		 pid;
	int		 st;

	prog_arm("shanon");
	r = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		prog_die("mmap");
	/* every page but every 8th written; those stay zero */
	for (i = 0; i < words; i++) {
		if ((i * sizeof *r / PAGE) % 8 != 7)
			r[i] = pattern(i);
	}
	if (argc > 1 && strcmp(argv[1], "alias") == 0) {
		alias = mremap(r, 0, NPAGES * PAGE, MREMAP_MAYMOVE);
		if (alias == MAP_FAILED)
			prog_die("mremap alias");
	}
	prog_ready();
	prog_wait_usr1();

	for (i = 0; i < words; i++) {
		uint64_t	want = (i * sizeof *r / PAGE) % 8 != 7 ?
			    pattern(i) : 0;

		if (r[i] != want) {
			prog_fail("word %zu: %#llx, expected %#llx", i,
			    (unsigned long long)r[i], (unsigned long long)want);
			break;
		}
	}
	if (alias != NULL)
		CHECK(alias[1] == r[1], "alias no longer shows the region");
	/* still shared: a child's write shows here */
	if ((pid = fork()) == -1)
		prog_die("fork");
	if (pid == 0) {
		r[3] = 0xc41dULL;
		r[words - 1] = 0xc41eULL;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		prog_fail("child: status %#x", st);
	CHECK(r[3] == 0xc41dULL, "the child's write to page 0 did not show: "
	    "the region is no longer shared (%#llx)", (unsigned long long)r[3]);
	CHECK(r[words - 1] == 0xc41eULL, "the child's write to the last page "
	    "did not show (%#llx)", (unsigned long long)r[words - 1]);
	return prog_finish();
}
