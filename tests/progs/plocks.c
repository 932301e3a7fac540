/*
 * plocks: record locks held across a move (issue 10, section 2).
 *
 * plocks FILE: takes, at home, a POSIX write lock on bytes 0-99 and a
 * POSIX read lock on bytes 200-299 of FILE (fcntl F_SETLK, one open file)
 * and an OFD write lock on bytes 400-499 (F_OFD_SETLK, a second open of
 * it), says READY and waits for SIGUSR1 (the test moves it meanwhile and
 * looks at the locks from another process). Then, wherever it runs, it
 * checks that its locks are its own (taking them again succeeds, and its
 * own F_GETLK sees no conflict from them), that the OFD lock still stands
 * against its other open file, upgrades 200-299 to a write lock, unlocks
 * 0-99, takes a new write lock on 600-699, says "moved", and waits for
 * SIGUSR1 again (the test brings it home and looks again). Last, at home,
 * its locks are still its own. Ends with PASS and status 0.
 *
 * plocks -q FILE: what another process sees: for each range, one line
 * "START-END write|read|none PID" from F_GETLK with a write probe.
 */
#include <sys/types.h>

#include "prog.h"

struct range {
	off_t	start, len;
};
static const struct range ranges[] = {
	{ 0, 100 }, { 200, 100 }, { 400, 100 }, { 600, 100 },
};
#define NRANGES	(sizeof ranges / sizeof ranges[0])

static int
lk(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
	struct flock	fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	if (fcntl(fd, cmd, &fl) == -1)
		return -1;
	if (out != NULL)
		*out = fl;
	return 0;
}

static int
query(const char *path)
{
	struct flock	fl;
	size_t		i;
	int		fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		perror(path);
		return 2;
	}
	for (i = 0; i < NRANGES; i++) {
		if (lk(fd, F_GETLK, F_WRLCK, ranges[i].start, ranges[i].len,
		    &fl) == -1) {
			perror("F_GETLK");
			return 2;
		}
		printf("%lld-%lld %s %d\n", (long long)ranges[i].start,
		    (long long)(ranges[i].start + ranges[i].len - 1),
		    fl.l_type == F_WRLCK ? "write" : fl.l_type == F_RDLCK ?
		    "read" : "none", fl.l_type == F_UNLCK ? 0 : (int)fl.l_pid);
	}
	return 0;
}

/* Its own POSIX locks: no conflict for itself, taking them again works. */
static void
check_own(int a, const char *where)
{
	struct flock	fl;

	if (lk(a, F_GETLK, F_WRLCK, 0, 300, &fl) == -1)
		prog_fail("%s: F_GETLK: %s", where, strerror(errno));
	else
		CHECK(fl.l_type == F_UNLCK, "%s: its own locks on 0-299 "
		    "conflict with it: type %d, pid %d", where, fl.l_type,
		    (int)fl.l_pid);
	CHECK(lk(a, F_SETLK, F_WRLCK, 600, 100, NULL) == 0,
	    "%s: F_SETLK write 600-699: %s", where, strerror(errno));
}

/* The OFD lock of the second open file stands against the first. */
static void
check_ofd(int a, const char *where)
{
	struct flock	fl;

	if (lk(a, F_OFD_GETLK, F_WRLCK, 400, 100, &fl) == -1)
		prog_fail("%s: F_OFD_GETLK: %s", where, strerror(errno));
	else
		CHECK(fl.l_type == F_WRLCK && fl.l_start == 400 &&
		    fl.l_len == 100, "%s: OFD lock on 400-499: type %d, "
		    "%lld+%lld", where, fl.l_type, (long long)fl.l_start,
		    (long long)fl.l_len);
	CHECK(lk(a, F_OFD_SETLK, F_WRLCK, 400, 100, NULL) == -1 &&
	    (errno == EAGAIN || errno == EACCES),
	    "%s: OFD lock 400-499 taken through the other open file", where);
}

int
main(int argc, char **argv)
{
	char	buf[4096];
	int	a, b;

	if (argc == 3 && strcmp(argv[1], "-q") == 0)
		return query(argv[2]);
	if (argc != 2) {
		fprintf(stderr, "usage: plocks FILE | plocks -q FILE\n");
		return 2;
	}
	prog_arm("plocks");
	if ((a = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		prog_die(argv[1]);
	memset(buf, 'x', sizeof buf);
	if (write(a, buf, sizeof buf) != (ssize_t)sizeof buf)
		prog_die("write");
	if ((b = open(argv[1], O_RDWR | O_CLOEXEC)) == -1)
		prog_die(argv[1]);
	if (lk(a, F_SETLK, F_WRLCK, 0, 100, NULL) == -1 ||
	    lk(a, F_SETLK, F_RDLCK, 200, 100, NULL) == -1)
		prog_die("F_SETLK");
	if (lk(b, F_OFD_SETLK, F_WRLCK, 400, 100, NULL) == -1)
		prog_die("F_OFD_SETLK");
	prog_ready();
	prog_wait_usr1();

	/* moved */
	check_own(a, "after the move");
	check_ofd(a, "after the move");
	/* that test took 600-699: let it go, as it was */
	CHECK(lk(a, F_SETLK, F_UNLCK, 600, 100, NULL) == 0, "unlock 600-699: %s",
	    strerror(errno));
	CHECK(lk(a, F_SETLK, F_WRLCK, 0, 100, NULL) == 0,
	    "write 0-99 again: %s", strerror(errno));
	CHECK(lk(a, F_SETLK, F_WRLCK, 200, 100, NULL) == 0,
	    "upgrade 200-299 to write: %s", strerror(errno));
	CHECK(lk(a, F_SETLK, F_UNLCK, 0, 100, NULL) == 0, "unlock 0-99: %s",
	    strerror(errno));
	CHECK(lk(a, F_SETLK, F_WRLCK, 600, 100, NULL) == 0,
	    "write 600-699: %s", strerror(errno));
	prog_usr1 = 0;
	printf("moved\n");
	fflush(stdout);
	prog_wait_usr1();

	/* home again */
	check_own(a, "at home");
	check_ofd(a, "at home");
	return prog_finish();
}
