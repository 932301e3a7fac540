/*
 * misc: task state that is not memory or registers: cwd, umask, rlimits,
 * regular files with their offsets and flags, device fds, comm,
 * personality, the clocks through the vDSO, and the pid.
 *
 * Works in a new directory under $TMPDIR (default /tmp), removed at the end
 * unless $PROG_KEEP is set (a checkpoint left running gives two copies that
 * share the directory; the test removes it then).
 */
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <limits.h>
#include <time.h>

#include "prog.h"

#define FD_DATA		20
#define FD_LOG		21
#define FD_DNULL		22
#define FD_DZERO		23
#define DATA_SIZE	65536
#define DATA_OFF	10000
#define COMM		"omm-misc"

static unsigned char
data_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static double
ts(clockid_t clk, int raw)
{
	struct timespec	t;

	if (raw)
		syscall(SYS_clock_gettime, clk, &t);
	else
		clock_gettime(clk, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Put fd at want (closing the original), die on failure. */
static void
place(int fd, int want, const char *what)
{
	if (fd == -1)
		prog_die(what);
	if (dup3(fd, want, 0) == -1)
		prog_die(what);
	close(fd);
}

static void
fd_path(int fd, char *buf, size_t len)
{
	char	link[64];
	ssize_t	n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, len - 1)) == -1)
		n = snprintf(buf, len, "(%s)", strerror(errno));
	buf[n] = '\0';
}

/* The open fds as a bitmap of the first 1024, leaving out the listing's own. */
static void
open_fds(unsigned char *map)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	memset(map, 0, 1024);
	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			map[fd] = 1;
	}
	closedir(d);
}

/* The [vdso] mapping's start address from /proc/self/maps, or 0. */
static unsigned long
vdso_start(void)
{
	FILE		*f;
	char		 line[512];
	unsigned long	 lo = 0;

	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, "[vdso]") != NULL) {
			sscanf(line, "%lx-", &lo);
			break;
		}
	}
	fclose(f);
	return lo;
}

int
main(void)
{
	const char	*tmp;
	char		 dir[PATH_MAX], cwd[PATH_MAX], path[PATH_MAX + 16];
	char		 buf[DATA_SIZE], comm[17];
	unsigned char	 fds_before[1024], fds_after[1024];
	struct rlimit	 nofile, core, rl;
	struct stat	 st, st2;
	double		 mono0, real0, prev, t;
	int		 pers, fd, i, bad, flags;
	off_t		 off, size0;
	ssize_t		 n;

	prog_arm("misc");
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof dir, "%s/misc.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		prog_die("mkdtemp");
	if (chdir(dir) == -1)
		prog_die("chdir");
	if (getcwd(dir, sizeof dir) == NULL)	/* canonical form */
		prog_die("getcwd");
	umask(027);

	getrlimit(RLIMIT_NOFILE, &nofile);
	nofile.rlim_cur = 200;
	if (setrlimit(RLIMIT_NOFILE, &nofile) == -1)
		prog_die("setrlimit NOFILE");
	getrlimit(RLIMIT_CORE, &core);
	if (core.rlim_max == RLIM_INFINITY || core.rlim_max > (16 << 20))
		core.rlim_max = 16 << 20;
	core.rlim_cur = core.rlim_max / 2;
	if (setrlimit(RLIMIT_CORE, &core) == -1)
		prog_die("setrlimit CORE");

	/* A file read up to DATA_OFF; the rest must follow after the restore. */
	for (i = 0; i < DATA_SIZE; i++)
		buf[i] = data_byte(i);
	fd = open("data", O_WRONLY|O_CREAT|O_TRUNC, 0640);
	if (fd == -1 || write(fd, buf, DATA_SIZE) != DATA_SIZE)
		prog_die("write data");
	close(fd);
	place(open("data", O_RDONLY), FD_DATA, "open data");
	if (read(FD_DATA, buf, DATA_OFF) != DATA_OFF)
		prog_die("read data");

	/* O_APPEND: moving the offset must not matter for writes. */
	place(open("log", O_WRONLY|O_CREAT|O_APPEND, 0640), FD_LOG, "open log");
	if (write(FD_LOG, "before\n", 7) != 7)
		prog_die("write log");
	lseek(FD_LOG, 0, SEEK_SET);

	place(open("/dev/null", O_RDWR), FD_DNULL, "open /dev/null");
	place(open("/dev/zero", O_RDONLY|O_CLOEXEC), FD_DZERO, "open /dev/zero");
	fcntl(FD_DZERO, F_SETFD, FD_CLOEXEC);	/* dup3 without flags dropped it */

	if (prctl(PR_SET_NAME, COMM) == -1)
		prog_die("PR_SET_NAME");
	pers = personality(0xffffffff);
	mono0 = ts(CLOCK_MONOTONIC, 0);
	real0 = ts(CLOCK_REALTIME, 0);
	open_fds(fds_before);

	prog_ready();
	prog_wait_usr1();

	if (getcwd(cwd, sizeof cwd) == NULL)
		prog_fail("getcwd: %s", strerror(errno));
	else
		CHECK(strcmp(cwd, dir) == 0, "cwd is %s, expected %s", cwd, dir);
	if (stat("data", &st) == -1 || fstat(FD_DATA, &st2) == -1)
		prog_fail("data relative to cwd: %s", strerror(errno));
	else
		CHECK(st.st_ino == st2.st_ino, "cwd/data is not the open file");

	i = umask(0);
	umask(i);
	CHECK(i == 027, "umask %03o, expected 027", i);

	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK(rl.rlim_cur == nofile.rlim_cur && rl.rlim_max == nofile.rlim_max,
	    "RLIMIT_NOFILE %lu/%lu, expected %lu/%lu", (unsigned long)rl.rlim_cur,
	    (unsigned long)rl.rlim_max, (unsigned long)nofile.rlim_cur,
	    (unsigned long)nofile.rlim_max);
	getrlimit(RLIMIT_CORE, &rl);
	CHECK(rl.rlim_cur == core.rlim_cur && rl.rlim_max == core.rlim_max,
	    "RLIMIT_CORE %lu/%lu, expected %lu/%lu", (unsigned long)rl.rlim_cur,
	    (unsigned long)rl.rlim_max, (unsigned long)core.rlim_cur,
	    (unsigned long)core.rlim_max);

	open_fds(fds_after);
	for (i = 0; i < 1024; i++)
		CHECK(fds_before[i] == fds_after[i], "fd %d %s", i,
		    fds_before[i] ? "is gone" : "appeared from nowhere");

	/* The data file: same path, same offset, and the rest reads on. */
	snprintf(path, sizeof path, "%s/data", dir);
	fd_path(FD_DATA, cwd, sizeof cwd);
	CHECK(strcmp(cwd, path) == 0, "fd %d is %s, expected %s", FD_DATA, cwd,
	    path);
	off = lseek(FD_DATA, 0, SEEK_CUR);
	CHECK(off == DATA_OFF, "fd %d offset %jd, expected %d", FD_DATA,
	    (intmax_t)off, DATA_OFF);
	flags = fcntl(FD_DATA, F_GETFL);
	CHECK(flags != -1 && (flags & O_ACCMODE) == O_RDONLY, "fd %d flags %#x, "
	    "expected O_RDONLY", FD_DATA, flags);
	CHECK(fcntl(FD_DATA, F_GETFD) == 0, "fd %d has FD_CLOEXEC", FD_DATA);
	n = read(FD_DATA, buf, 1000);
	CHECK(n == 1000, "fd %d read %zd bytes, expected 1000", FD_DATA, n);
	for (i = 0, bad = 0; i < n && !bad; i++) {
		if ((unsigned char)buf[i] != data_byte(DATA_OFF + i)) {
			prog_fail("fd %d byte at %d is %#x, expected %#x",
			    FD_DATA, DATA_OFF + i, (unsigned char)buf[i],
			    data_byte(DATA_OFF + i));
			bad = 1;
		}
	}

	/* The append log: a write must land at the end, not at offset 0. */
	snprintf(path, sizeof path, "%s/log", dir);
	fd_path(FD_LOG, cwd, sizeof cwd);
	CHECK(strcmp(cwd, path) == 0, "fd %d is %s, expected %s", FD_LOG, cwd,
	    path);
	flags = fcntl(FD_LOG, F_GETFL);
	CHECK(flags != -1 && (flags & O_APPEND) && (flags & O_ACCMODE) ==
	    O_WRONLY, "fd %d flags %#x, expected O_WRONLY|O_APPEND", FD_LOG,
	    flags);
	fstat(FD_LOG, &st);
	size0 = st.st_size;
	CHECK(write(FD_LOG, "after\n", 6) == 6, "write log: %s",
	    strerror(errno));
	fstat(FD_LOG, &st);
	CHECK(st.st_size == size0 + 6, "log grew from %jd to %jd, expected "
	    "+6", (intmax_t)size0, (intmax_t)st.st_size);
	if ((fd = open("log", O_RDONLY)) != -1) {
		memset(buf, 0, 16);
		CHECK(pread(fd, buf, 7, 0) == 7 && memcmp(buf, "before\n", 7) ==
		    0, "log lost its first line: the write did not append");
		memset(buf, 0, 16);
		CHECK(pread(fd, buf, 6, size0) == 6 && memcmp(buf, "after\n",
		    6) == 0, "log: the write is not at the end");
		close(fd);
	}

	fd_path(FD_DNULL, cwd, sizeof cwd);
	CHECK(strcmp(cwd, "/dev/null") == 0, "fd %d is %s, expected /dev/null",
	    FD_DNULL, cwd);
	CHECK(write(FD_DNULL, "x", 1) == 1, "write /dev/null: %s",
	    strerror(errno));
	CHECK(read(FD_DNULL, buf, 10) == 0, "read /dev/null did not give EOF");
	fd_path(FD_DZERO, cwd, sizeof cwd);
	CHECK(strcmp(cwd, "/dev/zero") == 0, "fd %d is %s, expected /dev/zero",
	    FD_DZERO, cwd);
	CHECK(fcntl(FD_DZERO, F_GETFD) == FD_CLOEXEC, "fd %d lost FD_CLOEXEC",
	    FD_DZERO);
	memset(buf, 1, 100);
	CHECK(read(FD_DZERO, buf, 100) == 100 && buf[0] == 0 && buf[99] == 0,
	    "read /dev/zero did not give zeros");

	memset(comm, 0, sizeof comm);
	prctl(PR_GET_NAME, comm);
	CHECK(strcmp(comm, COMM) == 0, "comm is \"%s\", expected \"%s\"", comm,
	    COMM);
	i = personality(0xffffffff);
	CHECK(i == pers, "personality %#x, expected %#x", i, pers);

	/* Clocks: forward, monotonic, and the vDSO agreeing with the kernel. */
	t = ts(CLOCK_MONOTONIC, 0);
	CHECK(t >= mono0, "CLOCK_MONOTONIC went back from %.6f to %.6f",
	    mono0, t);
	t = ts(CLOCK_REALTIME, 0);
	CHECK(t >= real0, "CLOCK_REALTIME went back from %.6f to %.6f", real0,
	    t);
	for (i = 0, prev = 0, bad = 0; i < 10000; i++) {
		t = ts(CLOCK_MONOTONIC, 0);
		if (t < prev && bad++ == 0)
			prog_fail("CLOCK_MONOTONIC not monotonic: %.9f after "
			    "%.9f", t, prev);
		prev = t;
	}
	t = ts(CLOCK_MONOTONIC, 0) - ts(CLOCK_MONOTONIC, 1);
	CHECK(t > -0.5 && t < 0.5, "vDSO CLOCK_MONOTONIC is %.3f s off the "
	    "kernel's", t);
	t = ts(CLOCK_REALTIME, 0) - ts(CLOCK_REALTIME, 1);
	CHECK(t > -0.5 && t < 0.5, "vDSO CLOCK_REALTIME is %.3f s off the "
	    "kernel's", t);
	CHECK(getauxval(AT_SYSINFO_EHDR) == vdso_start(), "[vdso] at %#lx, but "
	    "AT_SYSINFO_EHDR says %#lx", vdso_start(),
	    getauxval(AT_SYSINFO_EHDR));

	CHECK(getpid() == syscall(SYS_getpid), "getpid() %d, kernel says %ld",
	    getpid(), syscall(SYS_getpid));
	{
		FILE	*f = fopen("/proc/self/stat", "r");
		int	 spid = -1;

		if (f != NULL) {
			if (fscanf(f, "%d", &spid) != 1)
				spid = -1;
			fclose(f);
		}
		CHECK(spid == getpid(), "/proc/self/stat says pid %d, getpid() "
		    "%d", spid, getpid());
	}
	CHECK(getppid() == syscall(SYS_getppid), "getppid() %d, kernel says "
	    "%ld", getppid(), syscall(SYS_getppid));

	if (getenv("PROG_KEEP") == NULL) {
		unlink("data");
		unlink("log");
		rmdir(dir);
	}
	return prog_finish();
}
