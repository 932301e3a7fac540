/*
 * guestself: what a migrated process sees of itself. Set up at home, it
 * waits for SIGUSR1 (the test migrates it meanwhile) and then checks, where
 * it runs:
 *
 *   - its own CPU clocks named by its pid and tid (the home ones it sees:
 *     glibc's clock_getcpuclockid(getpid())) read its own CPU time, the
 *     same as CLOCK_PROCESS_CPUTIME_ID, not the time it had used at home;
 *   - the CPU clock of another pid (argv[1], 0: none) reads (READS times,
 *     so the test can count them as forwarded; then it prints
 *     "other-clock NS" and waits for SIGUSR1 again), its thread clock is
 *     EINVAL;
 *   - /proc/self/maps, by every route (path, /proc/thread-self, its pid,
 *     a directory descriptor, a descriptor opened at home before it left),
 *     shows a mapping it made at a fixed address after it moved, and not
 *     the deputy's program (ommd);
 *   - /proc/self/mem reads its own memory; /proc/self/exe is its program;
 *     /proc/self is its pid; /proc/self/fd lists its descriptors and none
 *     at or above its descriptor limit; /proc/self/cmdline its arguments.
 *
 *   - with a third argument "timer": a timer on the other pid's clock
 *     (which brings it home), after which the maps descriptor it opened
 *     before it left shows, at home, the mapping it made away.
 *
 * usage: guestself [OTHER-PID [READS [timer]]]
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "prog.h"

#define PAGE		4096UL
#define ADDR_HOME	((void *)0x5a5a5a000000UL)	/* mapped at home */
#define ADDR_AWAY	((void *)0x5b5b5b000000UL)	/* mapped after moving */
#define PCLK(pid, which) ((clockid_t)((~(unsigned)(pid) << 3) | (which)))
#define TCLK(tid, which) PCLK(tid, (which) | 4)
#define SCHED		2

static uint64_t
ns(clockid_t c, int *err)
{
	struct timespec	ts;

	if (clock_gettime(c, &ts) == -1) {
		*err = errno;
		return 0;
	}
	*err = 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* All of a file (a /proc one: no size); NUL-terminated, malloc'd. */
static char *
slurp_fd(int fd)
{
	size_t	 cap = 65536, len = 0;
	char	*buf = malloc(cap);
	ssize_t	 n;

	for (;;) {
		if (len + 4096 > cap && (buf = realloc(buf, cap *= 2)) == NULL)
			prog_die("realloc");
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static char *
slurp_at(int dirfd, const char *path)
{
	char	*s;
	int	 fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) == -1) {
		prog_fail("open %s: %s", path, strerror(errno));
		return strdup("");
	}
	s = slurp_fd(fd);
	close(fd);
	return s;
}

/* maps text has a line for the page at addr, and no line of ommd's. */
static void
check_maps(const char *how, const char *text, void *addr, int want)
{
	char	line[64];

	snprintf(line, sizeof line, "%lx-%lx ", (unsigned long)addr,
	    (unsigned long)addr + PAGE);
	if ((strstr(text, line) != NULL) != want)
		prog_fail("%s: the mapping at %p is %s", how, addr,
		    want ? "missing" : "there, unexpected");
	if (strstr(text, "/ommd") != NULL)
		prog_fail("%s: shows the deputy's program (ommd)", how);
	if (strstr(text, "guestself") == NULL)
		prog_fail("%s: does not show its own program", how);
}

static void
burn(unsigned ms)
{
	uint64_t	t0;
	int		err;
	volatile unsigned long x = 0;

	t0 = ns(CLOCK_PROCESS_CPUTIME_ID, &err);
	while (ns(CLOCK_PROCESS_CPUTIME_ID, &err) - t0 < ms * 1000000ULL)
		x++;
}

int
main(int argc, char **argv)
{
	struct rlimit	 rl;
	struct dirent	*de;
	DIR		*dir;
	clockid_t	 cid;
	uint64_t	 a, b, x, y, home_cpu, other = 0;
	pid_t		 pid, tid, opid = argc > 1 ? atoi(argv[1]) : 0;
	long		 reads = argc > 2 ? atol(argv[2]) : 1, i;
	char		 exe[PATH_MAX], got[PATH_MAX], want[64], *text, *p;
	unsigned long	 word, *mem;
	ssize_t		 n;
	int		 err, pre, dfd, mfd, fdmax = -1, seen[3] = { 0 };

	prog_arm("guestself");
	burn(300);
	mem = mmap(ADDR_HOME, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (mem != ADDR_HOME)
		prog_die("mmap at home");
	mem[0] = prog_pattern(mem, 7);
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		prog_die("readlink /proc/self/exe");
	exe[n] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		prog_die("getrlimit");
	/* open at home, read away */
	if ((pre = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) == -1)
		prog_die("open /proc/self/maps");
	text = slurp_fd(pre);
	check_maps("maps at home", text, ADDR_HOME, 1);
	free(text);
	home_cpu = ns(CLOCK_PROCESS_CPUTIME_ID, &err);

	prog_ready();
	prog_wait_usr1();

	if (mmap(ADDR_AWAY, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED_NOREPLACE, -1, 0) != ADDR_AWAY)
		prog_die("mmap away");
	pid = getpid();
	tid = (pid_t)syscall(SYS_gettid);

	/* its own CPU clocks, by the pids it sees */
	a = ns(CLOCK_PROCESS_CPUTIME_ID, &err);
	x = ns(PCLK(pid, SCHED), &err);
	CHECK(err == 0, "clock of its pid %d: %s", (int)pid, strerror(err));
	y = ns(TCLK(tid, SCHED), &err);
	CHECK(err == 0, "clock of its tid %d: %s", (int)tid, strerror(err));
	b = ns(CLOCK_PROCESS_CPUTIME_ID, &err);
	CHECK(a <= x && x <= b, "its pid's clock %llu ns, not between its own "
	    "%llu and %llu (at home it had used %llu)", (unsigned long long)x,
	    (unsigned long long)a, (unsigned long long)b,
	    (unsigned long long)home_cpu);
	CHECK(a <= y && y <= b, "its tid's clock %llu ns, not between its own "
	    "%llu and %llu", (unsigned long long)y, (unsigned long long)a,
	    (unsigned long long)b);
	err = clock_getcpuclockid(pid, &cid);
	CHECK(err == 0 && cid == PCLK(pid, SCHED), "clock_getcpuclockid(%d): "
	    "%s", (int)pid, strerror(err));
	CHECK(clock_getres(PCLK(pid, SCHED), NULL) == 0,
	    "clock_getres of its pid's clock: %s", strerror(errno));

	/* another pid's */
	if (opid > 0) {
		for (i = 0; i < reads; i++) {
			other = ns(PCLK(opid, SCHED), &err);
			if (err != 0)
				break;
		}
		CHECK(err == 0, "clock of pid %d: %s", (int)opid, strerror(err));
		printf("other-clock %llu\n", (unsigned long long)other);
		fflush(stdout);
		prog_usr1 = 0;
		prog_wait_usr1();
		(void)ns(TCLK(opid, SCHED), &err);
		CHECK(err == EINVAL, "thread clock of pid %d: %s, expected "
		    "EINVAL", (int)opid, strerror(err));
	}

	/* its memory map, by every route */
	text = slurp_at(AT_FDCWD, "/proc/self/maps");
	check_maps("/proc/self/maps", text, ADDR_AWAY, 1);
	check_maps("/proc/self/maps", text, ADDR_HOME, 1);
	free(text);
	text = slurp_at(AT_FDCWD, "/proc/thread-self/maps");
	check_maps("/proc/thread-self/maps", text, ADDR_AWAY, 1);
	free(text);
	snprintf(got, sizeof got, "/proc/%d/smaps", (int)pid);
	text = slurp_at(AT_FDCWD, got);
	check_maps(got, text, ADDR_AWAY, 1);
	CHECK(strstr(text, "Rss:") != NULL, "%s: no Rss lines", got);
	free(text);
	if ((dfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		prog_fail("open /proc/self: %s", strerror(errno));
	text = slurp_at(dfd, "maps");
	check_maps("openat(/proc/self, maps)", text, ADDR_AWAY, 1);
	free(text);
	close(dfd);
	if (lseek(pre, 0, SEEK_SET) != 0)
		prog_fail("lseek on maps opened at home: %s", strerror(errno));
	text = slurp_fd(pre);
	check_maps("maps opened at home", text, ADDR_AWAY, 1);
	free(text);

	/* its memory */
	if ((mfd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC)) == -1)
		prog_fail("open /proc/self/mem: %s", strerror(errno));
	else {
		n = pread(mfd, &word, sizeof word, (off_t)(uintptr_t)ADDR_HOME);
		CHECK(n == sizeof word && word == prog_pattern(ADDR_HOME, 7),
		    "/proc/self/mem at %p: %zd bytes, %#lx", ADDR_HOME, n, word);
		close(mfd);
	}

	/* its identity */
	if ((n = readlink("/proc/self/exe", got, sizeof got - 1)) < 0)
		n = 0;
	got[n] = '\0';
	CHECK(strcmp(got, exe) == 0, "/proc/self/exe: '%s', at home '%s'", got,
	    exe);
	if ((n = readlink("/proc/self", got, sizeof got - 1)) < 0)
		n = 0;
	got[n] = '\0';
	snprintf(want, sizeof want, "%d", (int)pid);
	CHECK(strcmp(got, want) == 0, "/proc/self: '%s', its pid %s", got, want);
	text = slurp_at(AT_FDCWD, "/proc/self/cmdline");
	CHECK(strcmp(text, argv[0]) == 0, "/proc/self/cmdline starts '%s', "
	    "expected '%s'", text, argv[0]);
	free(text);
	text = slurp_at(AT_FDCWD, "/proc/self/status");
	CHECK((p = strstr(text, "\nVmRSS:")) != NULL, "/proc/self/status: no "
	    "VmRSS");
	free(text);

	/* its descriptors: its own, none of the deputy's */
	if ((dir = opendir("/proc/self/fd")) == NULL)
		prog_fail("opendir /proc/self/fd: %s", strerror(errno));
	else {
		while ((de = readdir(dir)) != NULL) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			i = atoi(de->d_name);
			if (i > fdmax)
				fdmax = (int)i;
			if (i <= 2)
				seen[i] = 1;
		}
		closedir(dir);
		CHECK(seen[0] && seen[1] && seen[2], "/proc/self/fd lacks 0, 1 "
		    "or 2");
		CHECK(fdmax >= pre && (rlim_t)fdmax < rl.rlim_cur,
		    "/proc/self/fd: highest %d (maps at %d, limit %llu)", fdmax,
		    pre, (unsigned long long)rl.rlim_cur);
	}
	snprintf(got, sizeof got, "/proc/self/fd/%llu",
	    (unsigned long long)rl.rlim_cur + 1);
	CHECK(access(got, F_OK) == -1 && errno == ENOENT,
	    "%s: there (a descriptor past the limit)", got);
	if (opid > 0 && argc > 3 && strcmp(argv[3], "timer") == 0) {
		struct sigevent	ev;
		timer_t		tm;

		memset(&ev, 0, sizeof ev);
		ev.sigev_notify = SIGEV_NONE;
		CHECK(timer_create(PCLK(opid, SCHED), &ev, &tm) == 0,
		    "timer on pid %d's clock: %s", (int)opid, strerror(errno));
		/* home now: the descriptor home held is the entry, live */
		lseek(pre, 0, SEEK_SET);
		text = slurp_fd(pre);
		check_maps("maps opened at home, back home", text, ADDR_AWAY, 1);
		free(text);
	}
	close(pre);
	return prog_finish();
}
