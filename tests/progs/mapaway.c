/*
 * mapaway: a process that maps a file another node does not have (issue
 * 12, section 6: files the host does not have). Before READY it writes a
 * 64 KiB file of a known pattern, readable by its owner only, in $TMPDIR
 * (node 1's /tmp: another node has no such file), maps it privately
 * ("early") and writes its own pattern over two pages: a migration must
 * carry that mapping to a node without the file. At the first check
 * (mapaway [CHECKS], one per SIGUSR1) it maps the file a second time
 * ("late"), and writes two pages of it: migrated, that mapping is of a
 * copy fetched from home while it runs there. Every check checks both
 * mappings, unwritten pages against the file's pattern and written ones
 * against its own: each mapping must move, and come home, as what it
 * was. Removes its file at the end.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "prog.h"

#define MAP_LEN		(64 * 1024)
#define PAGE		4096
#define OWN_SALT	0x5eedULL

static unsigned char	*early, *late;

static int
written(size_t pg)
{
	return pg == 2 || pg == 5;
}

/* The byte at off of map: the file's pattern, or ours on pages we wrote. */
static unsigned char
want(const unsigned char *map, size_t off)
{
	return written(off / PAGE) ? (unsigned char)(prog_pattern(map + off,
	    OWN_SALT) >> 3) : (unsigned char)(off * 131 + (off >> 12) * 7);
}

static void
verify(const unsigned char *map, const char *what, int c)
{
	size_t	off, bad = 0, first = 0;

	for (off = 0; off < MAP_LEN; off++) {
		if (map[off] != want(map, off)) {
			if (bad++ == 0)
				first = off;
		}
	}
	CHECK(bad == 0, "check %d: %s mapping: %zu bytes differ, first at "
	    "offset %zu (%#x, expected %#x)", c, what, bad, first,
	    bad ? map[first] : 0, bad ? want(map, first) : 0);
}

static unsigned char *
map_file(const char *path)
{
	unsigned char	*map;
	size_t		 off;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		prog_die(path);
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		prog_die("mmap");
	close(fd);
	for (off = 0; off < MAP_LEN; off++) {
		if (written(off / PAGE))
			map[off] = want(map, off);
	}
	return map;
}

int
main(int argc, char **argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		 path[512];
	unsigned char	*buf;
	size_t		 off;
	int		 checks = prog_checks(argc, argv), c, fd;

	prog_arm("mapaway");
	snprintf(path, sizeof path, "%s/mapaway.%ld.dat", tmp ? tmp : "/tmp",
	    (long)getpid());
	if ((buf = malloc(MAP_LEN)) == NULL)
		prog_die("malloc");
	for (off = 0; off < MAP_LEN; off++)
		buf[off] = (unsigned char)(off * 131 + (off >> 12) * 7);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || write(fd, buf, MAP_LEN) != MAP_LEN || close(fd))
		prog_die(path);
	free(buf);
	early = map_file(path);
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		if (c == 1)
			late = map_file(path);
		verify(early, "early", c);
		verify(late, "late", c);
		printf("check %d: two 64 KiB private mappings of a file as "
		    "they were\n", c);
		fflush(stdout);
	}
	unlink(path);
	return prog_finish();
}
