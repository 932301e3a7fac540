/*
 * fdflags: file status flags a process set on its descriptors (issue 10,
 * section 2), most of them gained with fcntl(F_SETFL) after the open, as a
 * checkpoint that looked only at how a file was opened would miss: a
 * self-pipe whose read end gained O_NONBLOCK, a log file opened O_APPEND
 * that gained O_NONBLOCK, /dev/null that gained O_APPEND|O_NONBLOCK, a file
 * opened plainly (must stay plain), and stdin, which gains O_NONBLOCK when
 * it is a pipe or /dev/null. At each check (fdflags [CHECKS], one per
 * SIGUSR1) every flag must be what it was; the pipe's read end must then
 * not block (EAGAIN).
 *
 * Files under $TMPDIR (default /tmp), removed at the end unless $PROG_KEEP.
 */
#include <sys/stat.h>

#include "prog.h"

#define FD_PR		10
#define FD_PW		11
#define FD_LOG		12
#define FD_NULL		13
#define FD_PLAIN	14

/* The status flags F_GETFL shows that a process may set or open with. */
#define FLAGS_MASK	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_NOATIME)

static struct {
	int		 fd;
	const char	*what;
	int		 want;
} fds[8];
static int	nfds;

static void
place(int fd, int want, const char *what)
{
	if (fd == -1 || dup2(fd, want) == -1)
		prog_die(what);
	if (fd != want)
		close(fd);
}

static void
gain(int fd, int flags, const char *what)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | flags) == -1)
		prog_die(what);
	fds[nfds].fd = fd;
	fds[nfds].what = what;
	fds[nfds].want = fcntl(fd, F_GETFL) & FLAGS_MASK;
	nfds++;
}

int
main(int argc, char **argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		 dir[4096], log[4200], plain[4200], c;
	struct stat	 st;
	int		 p[2], checks = prog_checks(argc, argv), n, i, fl;
	ssize_t		 r;

	prog_arm("fdflags");
	snprintf(dir, sizeof dir, "%s/fdflags.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		prog_die("mkdtemp");
	snprintf(log, sizeof log, "%s/log", dir);
	snprintf(plain, sizeof plain, "%s/plain", dir);

	if (pipe(p) == -1)
		prog_die("pipe");
	place(p[0], FD_PR, "pipe read end");
	place(p[1], FD_PW, "pipe write end");
	place(open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), FD_LOG, log);
	place(open("/dev/null", O_RDWR), FD_NULL, "/dev/null");
	place(open(plain, O_RDWR | O_CREAT, 0644), FD_PLAIN, plain);
	gain(FD_PR, O_NONBLOCK, "pipe read end");
	gain(FD_PW, 0, "pipe write end");
	gain(FD_LOG, O_NONBLOCK, "log file");
	gain(FD_NULL, O_APPEND | O_NONBLOCK, "/dev/null");
	gain(FD_PLAIN, 0, "plain file");
	if (fstat(0, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && !isatty(0)))) {
		printf("stdin gains O_NONBLOCK\n");
		gain(0, O_NONBLOCK, "stdin");
	} else
		printf("stdin left as it is\n");
	prog_ready();
	prog_wait_usr1();
	for (n = 1; n <= checks; n++) {
		if (n > 1)
			prog_wait_next();
		for (i = 0; i < nfds; i++) {
			fl = fcntl(fds[i].fd, F_GETFL);
			if (fl == -1) {
				prog_fail("fd %d (%s): %s", fds[i].fd, fds[i].what,
				    strerror(errno));
				continue;
			}
			CHECK((fl & FLAGS_MASK) == fds[i].want, "fd %d (%s): "
			    "flags %#o, expected %#o", fds[i].fd, fds[i].what,
			    fl & FLAGS_MASK, fds[i].want);
		}
		/* only when the flag is there: else the read would block */
		if (fcntl(FD_PR, F_GETFL) & O_NONBLOCK) {
			r = read(FD_PR, &c, 1);
			CHECK(r == -1 && errno == EAGAIN, "empty non-blocking "
			    "pipe: read gave %zd (%s), expected EAGAIN", r,
			    r == -1 ? strerror(errno) : "data");
		}
		printf("check %d: %d descriptors\n", n, nfds);
		fflush(stdout);
	}
	if (getenv("PROG_KEEP") == NULL) {
		unlink(log);
		unlink(plain);
		rmdir(dir);
	}
	return prog_finish();
}
