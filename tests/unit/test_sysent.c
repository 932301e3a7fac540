/* test_sysent.c: the system call table, its variants, and the filter built from it. */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/marshal.h"
#include "omm/sysent.h"
#include "omm/trap.h"

#define A(...)	{ __VA_ARGS__ }

/* The kernel's CPU clock ids (posix-timers.h), as glibc makes them. */
#define PCLK(pid, which)	((uint64_t)(uint32_t)((~(uint32_t)(pid) << 3) | (which)))
#define TCLK(tid, which)	PCLK(tid, (which) | 4)
#define FDCLK(fd)		PCLK(fd, 3)

/* ---- where calls run ---- */

static const struct where_case {
	const char	*what;
	int		 nr;
	uint64_t	 args[6];
	int		 where;
	const char	*name;
} where_cases[] = {
	{ "read goes home", SYS_read, A(0, 0, 10), SY_HOME, "read" },
	{ "openat goes home", SYS_openat, A(-100, 1, 0), SY_HOME, "openat" },
	{ "getppid is home's", SYS_getppid, A(0), SY_HOME, "getppid" },
	{ "futex is local", SYS_futex, A(0), SY_LOCAL, "futex" },
	{ "exit_group is local (status seen by wait)", SYS_exit_group, A(0),
	    SY_LOCAL, "exit_group" },
	{ "rt_sigaction is local", SYS_rt_sigaction, A(2), SY_LOCAL,
	    "rt_sigaction" },
	{ "anonymous private mmap is local", SYS_mmap,
	    A(0, 4096, 3, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), SY_LOCAL, "mmap" },
	{ "file mmap is fmap", SYS_mmap, A(0, 4096, 1, MAP_PRIVATE, 3, 0),
	    SY_FMAP, "mmap" },
	{ "anonymous shared mmap is not local", SYS_mmap,
	    A(0, 4096, 3, MAP_SHARED | MAP_ANONYMOUS, -1, 0), SY_FMAP, "mmap" },
	{ "fork brings home", SYS_fork, A(0), SY_BRINGHOME, "fork" },
	{ "vfork brings home", SYS_vfork, A(0), SY_BRINGHOME, "vfork" },
	{ "clone brings home", SYS_clone, A(0), SY_BRINGHOME, "clone" },
	{ "clone3 brings home", SYS_clone3, A(0), SY_BRINGHOME, "clone3" },
	{ "execve brings home", SYS_execve, A(0), SY_BRINGHOME, "execve" },
	{ "execveat brings home", SYS_execveat, A(0), SY_BRINGHOME, "execveat" },
	{ "an unknown number brings home", 9999, A(0), SY_BRINGHOME, "unknown" },
	{ "a negative number brings home", -1, A(0), SY_BRINGHOME, "unknown" },
	{ "a number past the table brings home", SYSENT_MAX, A(0),
	    SY_BRINGHOME, "unknown" },
	{ "ioctl TCGETS goes home", SYS_ioctl, A(1, TCGETS, 0), SY_HOME,
	    "ioctl(TCGETS)" },
	{ "ioctl TIOCGWINSZ goes home", SYS_ioctl, A(1, TIOCGWINSZ, 0), SY_HOME,
	    "ioctl(TIOCGWINSZ)" },
	{ "ioctl request compared on 32 bits", SYS_ioctl,
	    A(1, 0xffffffff00000000ULL | TCGETS, 0), SY_HOME, "ioctl(TCGETS)" },
	{ "an unknown ioctl is refused", SYS_ioctl, A(1, 0x12345678, 0),
	    SY_REFUSE, "ioctl" },
	{ "fcntl F_GETFL goes home", SYS_fcntl, A(0, F_GETFL), SY_HOME,
	    "fcntl(F_GETFL)" },
	{ "an unknown fcntl is refused", SYS_fcntl, A(0, 9999), SY_REFUSE,
	    "fcntl" },
	{ "prctl PR_SET_NAME is local", SYS_prctl, A(PR_SET_NAME, 0), SY_LOCAL,
	    "prctl(PR_SET_NAME)" },
	{ "prctl PR_SET_MM brings home", SYS_prctl, A(PR_SET_MM, 0),
	    SY_BRINGHOME, "prctl" },
	{ "prctl PR_SET_CHILD_SUBREAPER goes home", SYS_prctl,
	    A(PR_SET_CHILD_SUBREAPER, 1), SY_HOME,
	    "prctl(PR_SET_CHILD_SUBREAPER)" },
	{ "own stack limit is local", SYS_prlimit64, A(0, RLIMIT_STACK, 0, 1),
	    SY_LOCAL, "prlimit64(RLIMIT_STACK)" },
	{ "another pid's stack limit goes home", SYS_prlimit64,
	    A(77, RLIMIT_STACK, 0, 1), SY_HOME, "prlimit64(RLIMIT_STACK)" },
	{ "own fd limit goes home", SYS_prlimit64, A(0, RLIMIT_NOFILE, 0, 1),
	    SY_HOME, "prlimit64" },
	{ "getrlimit(RLIMIT_AS) is local", SYS_getrlimit, A(RLIMIT_AS, 1),
	    SY_LOCAL, "getrlimit(RLIMIT_AS)" },
	{ "own affinity is local", SYS_sched_getaffinity, A(0, 128, 1),
	    SY_LOCAL, "sched_getaffinity" },
	{ "another pid's affinity goes home", SYS_sched_getaffinity,
	    A(42, 128, 1), SY_HOME, "sched_getaffinity" },
	{ "wait4 goes home", SYS_wait4, A(-1, 0, 0, 0), SY_HOME, "wait4" },
	{ "signalfd brings home", SYS_signalfd4, A(0), SY_BRINGHOME,
	    "signalfd4" },
	{ "SysV shm brings home", SYS_shmat, A(0), SY_BRINGHOME, "shmat" },
	{ "CLOCK_MONOTONIC is local", SYS_clock_gettime, A(CLOCK_MONOTONIC, 1),
	    SY_LOCAL, "clock_gettime" },
	{ "CLOCK_PROCESS_CPUTIME_ID is local", SYS_clock_gettime,
	    A(CLOCK_PROCESS_CPUTIME_ID, 1), SY_LOCAL, "clock_gettime" },
	{ "own process CPU clock (pid 0) is local", SYS_clock_gettime,
	    A(PCLK(0, 2), 1), SY_LOCAL, "clock_gettime" },
	{ "own thread PROF clock (tid 0) is local", SYS_clock_gettime,
	    A(TCLK(0, 0), 1), SY_LOCAL, "clock_gettime" },
	{ "own thread VIRT clock (tid 0) is local", SYS_clock_getres,
	    A(TCLK(0, 1), 1), SY_LOCAL, "clock_getres" },
	{ "own thread SCHED clock (tid 0) is local", SYS_clock_gettime,
	    A(TCLK(0, 2), 1), SY_LOCAL, "clock_gettime" },
	{ "clock id compared on 32 bits", SYS_clock_gettime,
	    A(0xffffffff00000000ULL | PCLK(0, 1), 1), SY_LOCAL, "clock_gettime" },
	{ "pid 1's CPU clock goes home", SYS_clock_gettime, A(PCLK(1, 2), 1),
	    SY_HOME, "clock_gettime" },
	{ "pid 4242's PROF clock goes home", SYS_clock_getres,
	    A(PCLK(4242, 0), 1), SY_HOME, "clock_getres" },
	{ "tid 7's thread clock goes home", SYS_clock_gettime,
	    A(TCLK(7, 2), 1), SY_HOME, "clock_gettime" },
	{ "the clock of fd 0 goes home", SYS_clock_gettime, A(FDCLK(0), 1),
	    SY_HOME, "clock_gettime" },
	{ "the clock of fd 5 goes home", SYS_clock_gettime, A(FDCLK(5), 1),
	    SY_HOME, "clock_gettime" },
	{ "invalid clock 7 of pid 0 goes home", SYS_clock_gettime,
	    A(PCLK(0, 7), 1), SY_HOME, "clock_gettime" },
	{ "sleeping on another pid's clock brings home", SYS_clock_nanosleep,
	    A(PCLK(9, 2), 0, 1, 0), SY_BRINGHOME, "clock_nanosleep" },
	{ "sleeping on CLOCK_MONOTONIC is local", SYS_clock_nanosleep,
	    A(CLOCK_MONOTONIC, 0, 1, 0), SY_LOCAL, "clock_nanosleep" },
	{ "a timer on own CPU clock is local", SYS_timer_create,
	    A(PCLK(0, 2), 0, 1), SY_LOCAL, "timer_create" },
	{ "a timer on another pid's clock brings home", SYS_timer_create,
	    A(PCLK(33, 2), 0, 1), SY_BRINGHOME, "timer_create" },
	{ "getrusage(RUSAGE_SELF) is local", SYS_getrusage,
	    A(RUSAGE_SELF, 1), SY_LOCAL, "getrusage" },
	{ "getrusage(RUSAGE_THREAD) is local", SYS_getrusage,
	    A(RUSAGE_THREAD, 1), SY_LOCAL, "getrusage" },
	{ "getrusage(RUSAGE_CHILDREN) goes home", SYS_getrusage,
	    A((uint32_t)RUSAGE_CHILDREN, 1), SY_HOME, "getrusage" },
	{ "own robust list is local", SYS_get_robust_list, A(0, 1, 1),
	    SY_LOCAL, "get_robust_list" },
	{ "another pid's robust list goes home", SYS_get_robust_list,
	    A(12, 1, 1), SY_HOME, "get_robust_list" },
};

static void
test_where(void **state)
{
	const struct where_case	*c;
	const struct sysent	*e;
	size_t			 i;
	int			 where;

	for (i = 0; i < sizeof where_cases / sizeof where_cases[0]; i++) {
		c = &where_cases[i];
		e = sysent_resolve(c->nr, c->args, &where);
		if (e == NULL || where != c->where ||
		    strcmp(e->name, c->name) != 0)
			fail_msg("%s: got %s, %s", c->what,
			    e ? e->name : "NULL", sysent_where_name(where));
	}
}

static void
test_via(void **state)
{
	static const struct { int nr; int via; } cases[] = {
		{ SYS_getpid, SYV_EMUL }, { SYS_getppid, SYV_EMUL },
		{ SYS_kill, SYV_EMUL }, { SYS_wait4, SYV_ORIGINAL },
		{ SYS_setsid, SYV_ORIGINAL }, { SYS_read, SYV_DEPUTY },
		{ SYS_getuid, SYV_DEPUTY }, { SYS_clock_gettime, SYV_EMUL },
		{ SYS_getrusage, SYV_ORIGINAL },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (sysent_lookup(cases[i].nr)->via != cases[i].via)
			fail_msg("%s: via %d, expected %d",
			    sysent_name(cases[i].nr),
			    sysent_lookup(cases[i].nr)->via, cases[i].via);
	}
	assert_null(sysent_lookup(9999));
	assert_string_equal(sysent_name(SYS_write), "write");
	assert_string_equal(sysent_where_name(SY_FMAP), "fmap");
	assert_string_equal(sysent_where_name(77), "unknown");
}

/* ---- every entry is well formed ---- */

struct check {
	size_t	n, nsub;
	char	msg[256];
};

/* Worst case bytes of a request's and a reply's buffers, from the caps. */
static void
worst(const struct sysent *e, uint64_t *in, uint64_t *out, uint64_t *nbuf)
{
	const struct sysarg	*a;
	int			 i;

	*in = *out = *nbuf = 0;
	for (i = 0; i < SYSENT_NARGS; i++) {
		a = &e->arg[i];
		switch (a->kind) {
		case SA_PATH:
		case SA_IN:
			*in += a->cap;
			*nbuf += 1;
			break;
		case SA_OUT:
			*out += a->cap;
			*nbuf += 1;
			break;
		case SA_INOUT:
			*in += a->cap;
			*out += a->cap;
			*nbuf += 1;
			break;
		case SA_IOV_IN:
		case SA_IOV_OUT:
			*(a->kind == SA_IOV_IN ? in : out) += a->cap;
			*nbuf += SYSENT_IOV_MAX;
			break;
		case SA_MSG_SEND:
		case SA_MSG_RECV:
			/* The header goes both ways; name, control, iov one way. */
			*in += MSGHDR_LEN;
			*out += a->kind == SA_MSG_RECV ? MSGHDR_LEN : 0;
			*(a->kind == SA_MSG_SEND ? in : out) += a->cap + 128 +
			    MARSHAL_CONTROL_MAX;
			*nbuf += SYSENT_IOV_MAX + 3;
			break;
		}
	}
}

static void
check_entry(const struct sysent *e, const struct sysent *parent, void *arg)
{
	struct check		*c = arg;
	const struct sysarg	*a, *src;
	uint64_t		 in, out, nbuf;
	int			 i, ptrs = 0;

	c->n++;
	c->nsub += parent != NULL;
	if (c->msg[0] != '\0')
		return;
#define BAD(...)	snprintf(c->msg, sizeof c->msg, __VA_ARGS__)
	if (e->name == NULL || e->where < SY_LOCAL || e->where > SY_REFUSE ||
	    e->via >= SYV_N)
		return (void)BAD("entry %d: name, where or via", e->nr);
	if (parent == NULL && sysent_lookup(e->nr) != e)
		return (void)BAD("%s: not at index %d", e->name, e->nr);
	if (parent != NULL && (e->nr != parent->nr || e->sub != NULL))
		return (void)BAD("%s: variant of another call", e->name);
	if (e->where == SY_REFUSE && e->err == 0)
		return (void)BAD("%s: refused without an errno", e->name);
	for (i = 0; i < SYSENT_NARGS; i++) {
		a = &e->arg[i];
		ptrs += sysarg_is_ptr(a);
		if (!sysarg_is_ptr(a))
			continue;
		if (e->where != SY_HOME)
			return (void)BAD("%s: arguments described but not "
			    "forwarded", e->name);
		if (a->kind == SA_DROP)
			continue;
		if (a->cap == 0 && a->kind != SA_MSG_SEND &&
		    a->kind != SA_MSG_RECV)
			return (void)BAD("%s: arg %d without a cap", e->name, i);
		if ((a->kind == SA_IN || a->kind == SA_OUT ||
		    a->kind == SA_INOUT) && a->len == SL_FIXED &&
		    a->size != a->cap)
			return (void)BAD("%s: arg %d fixed size %u cap %u",
			    e->name, i, a->size, a->cap);
		if (a->len == SL_ARG && (a->size == 0 && a->kind != SA_IOV_IN &&
		    a->kind != SA_IOV_OUT))
			return (void)BAD("%s: arg %d unit 0", e->name, i);
		if (a->len != SL_FIXED || a->kind == SA_IOV_IN ||
		    a->kind == SA_IOV_OUT) {
			if (a->from >= SYSENT_NARGS || a->from == i)
				return (void)BAD("%s: arg %d length from %u",
				    e->name, i, a->from);
			src = &e->arg[a->from];
			if (a->len == SL_DEREF ? !(src->kind == SA_INOUT &&
			    src->len == SL_FIXED && src->size == 4) :
			    src->kind != SA_VAL)
				return (void)BAD("%s: arg %d length source %u is "
				    "not a count", e->name, i, a->from);
		}
		if (a->back == SB_DEREF && a->len != SL_DEREF)
			return (void)BAD("%s: arg %d copies back by a socklen "
			    "it was not measured by", e->name, i);
		if ((a->flags & SAF_CLAMP) && (a->kind == SA_IN ||
		    a->kind == SA_INOUT) && a->back != SB_FULL)
			return (void)BAD("%s: arg %d", e->name, i);
	}
	if (e->via == SYV_EMUL && e->where != SY_HOME)
		return (void)BAD("%s: emulated but not home", e->name);
	worst(e, &in, &out, &nbuf);
	if (nbuf > MARSHAL_MAXBUF || in + 8 * nbuf + 64 > MARSHAL_MSG_MAX ||
	    out + 8 * nbuf + 64 > MARSHAL_MSG_MAX)
		return (void)BAD("%s: worst case %llu in, %llu out, %llu "
		    "buffers", e->name, (unsigned long long)in,
		    (unsigned long long)out, (unsigned long long)nbuf);
	(void)ptrs;
#undef BAD
}

static void
test_entries_well_formed(void **state)
{
	struct check	c;

	memset(&c, 0, sizeof c);
	sysent_foreach(check_entry, &c);
	if (c.msg[0] != '\0')
		fail_msg("%s", c.msg);
	/* The table is not a stub: a couple of hundred calls and variants. */
	assert_true(c.n > 250);
	assert_true(c.nsub > 80);
}

/* A call the kernel can tell apart from its variants and conditions. */
static void
test_home_calls_described(void **state)
{
	static const int	with_ptrs[] = {
		SYS_read, SYS_write, SYS_openat, SYS_newfstatat, SYS_statx,
		SYS_readv, SYS_writev, SYS_poll, SYS_select, SYS_pselect6,
		SYS_getdents64, SYS_readlink, SYS_getcwd, SYS_uname,
		SYS_wait4, SYS_recvmsg, SYS_sendmsg, SYS_accept4,
	};
	const struct sysent	*e;
	size_t			 i;
	int			 k, ptrs;

	for (i = 0; i < sizeof with_ptrs / sizeof with_ptrs[0]; i++) {
		e = sysent_lookup(with_ptrs[i]);
		assert_non_null(e);
		for (k = ptrs = 0; k < SYSENT_NARGS; k++)
			ptrs += sysarg_is_ptr(&e->arg[k]);
		if (e->where != SY_HOME || ptrs == 0)
			fail_msg("%s: where %d, %d pointers", e->name, e->where,
			    ptrs);
	}
}

/* ---- the filter agrees with the table ---- */

/* Calls the guest makes, and whether the supervisor must see them. */
static const struct filter_case {
	const char	*what;
	int		 nr;
	uint64_t	 args[6];
	int		 notified;
} filter_cases[] = {
	{ "getppid", SYS_getppid, A(0), 1 },
	{ "clock_gettime", SYS_clock_gettime, A(CLOCK_MONOTONIC, 0), 0 },
	{ "getrandom", SYS_getrandom, A(0, 0, 0), 0 },
	{ "prctl(PR_GET_NAME)", SYS_prctl, A(PR_GET_NAME, 0), 0 },
	{ "prctl(PR_CAPBSET_READ)", SYS_prctl, A(PR_CAPBSET_READ, 0), 1 },
	{ "own affinity", SYS_sched_getaffinity, A(0, 0, 0), 0 },
	{ "pid 1's affinity", SYS_sched_getaffinity, A(1, 0, 0), 1 },
	{ "own stack limit", SYS_prlimit64, A(0, RLIMIT_STACK, 0, 0), 0 },
	{ "own fd limit", SYS_prlimit64, A(0, RLIMIT_NOFILE, 0, 0), 1 },
	{ "anonymous mmap", SYS_mmap,
	    A(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 0 },
	{ "file mmap", SYS_mmap, A(0, 4096, PROT_READ, MAP_PRIVATE, 0, 0), 1 },
	{ "shared anonymous mmap", SYS_mmap,
	    A(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 1 },
	{ "ioctl", SYS_ioctl, A(0, TCGETS, 0), 1 },
	{ "an unknown number", 1000, A(0), 1 },
	{ "getpid", SYS_getpid, A(0), 1 },
	{ "CLOCK_PROCESS_CPUTIME_ID", SYS_clock_gettime,
	    A(CLOCK_PROCESS_CPUTIME_ID, 0), 0 },
	{ "own process CPU clock", SYS_clock_gettime, A(PCLK(0, 2), 0), 0 },
	{ "own thread CPU clock", SYS_clock_getres, A(TCLK(0, 2), 0), 0 },
	{ "own thread PROF clock", SYS_clock_getres, A(TCLK(0, 0), 0), 0 },
	{ "own process VIRT clock, junk above 32 bits", SYS_clock_getres,
	    A(0x1234567800000000ULL | PCLK(0, 1), 0), 0 },
	{ "pid 1's CPU clock", SYS_clock_gettime, A(PCLK(1, 2), 0), 1 },
	{ "tid 1's thread clock", SYS_clock_getres, A(TCLK(1, 2), 0), 1 },
	{ "the clock of fd 0", SYS_clock_getres, A(FDCLK(0), 0), 1 },
	{ "pid 0 clock 7 (invalid)", SYS_clock_getres, A(PCLK(0, 7), 0), 1 },
	{ "a timer on pid 1's clock", SYS_timer_create, A(PCLK(1, 2), 0, 0), 1 },
	/* its sigevent may name a home tid: the guest server looks first */
	{ "a timer on CLOCK_MONOTONIC", SYS_timer_create,
	    A(CLOCK_MONOTONIC, 0, 0), 1 },
	{ "sleeping on pid 1's clock", SYS_clock_nanosleep,
	    A(PCLK(1, 2), 0, 0, 0), 1 },
	{ "getrusage(RUSAGE_SELF)", SYS_getrusage, A(RUSAGE_SELF, 0), 0 },
	{ "getrusage(RUSAGE_CHILDREN)", SYS_getrusage,
	    A((uint32_t)RUSAGE_CHILDREN, 0), 1 },
	{ "pid 1's robust list", SYS_get_robust_list, A(1, 0, 0), 1 },
};
#define NFILTER	(sizeof filter_cases / sizeof filter_cases[0])

/* In the guest: each call in turn; a notified one returns our marker. */
static void __attribute__((noreturn))
filter_guest(int pfd)
{
	char	*cause = NULL;
	int	 fd, flags = 0;
	size_t	 i;
	long	 r;

	if ((fd = trap_filter_install(&flags, &cause)) == -1)
		_exit(100);
	/* The supervisor takes the fd over through this pipe's write. */
	if (write(pfd, &fd, sizeof fd) != sizeof fd)
		_exit(101);
	for (i = 0; i < NFILTER; i++) {
		r = syscall(filter_cases[i].nr, filter_cases[i].args[0],
		    filter_cases[i].args[1], filter_cases[i].args[2],
		    filter_cases[i].args[3], filter_cases[i].args[4],
		    filter_cases[i].args[5]);
		if ((r == -1 && errno == ENOTRECOVERABLE) !=
		    filter_cases[i].notified)
			_exit(1 + i);
	}
	_exit(0);
}

static void
test_filter_agrees(void **state)
{
	struct trap_guest	*g;
	struct trap_notif	 n;
	struct pollfd		 pfd;
	char			*cause = NULL;
	int			 p[2], fd, gfd, pidfd, st, seen = 0, first = 1;
	pid_t			 pid;

	if (trap_probe(&cause) == -1)
		skip();
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0)
		filter_guest(p[1]);
	/*
	 * The write of the fd number is the guest's first notified call:
	 * take the fd from the guest (pidfd_getfd) before answering it.
	 */
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	assert_true(pidfd >= 0);
	for (fd = -1; fd == -1; ) {
		for (gfd = 3; gfd < 16 && fd == -1; gfd++) {
			char	lnk[64], tgt[64] = "";

			if ((fd = syscall(SYS_pidfd_getfd, pidfd, gfd, 0)) == -1)
				continue;
			snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
			if (readlink(lnk, tgt, sizeof tgt - 1) < 0 ||
			    strstr(tgt, "seccomp") == NULL) {
				close(fd);
				fd = -1;
			}
		}
		if (fd == -1)
			usleep(1000);
	}
	close(pidfd);
	g = trap_open(fd, pid, 0, &cause);
	assert_non_null(g);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		assert_true(poll(&pfd, 1, 5000) == 1);
		if (!(pfd.revents & POLLIN))
			break;
		if (trap_recv(g, &n, &cause) != 1)
			continue;
		if (first) {
			/* The write of the fd number: let it through. */
			assert_int_equal(n.nr, SYS_write);
			assert_int_equal(trap_continue(g, n.id, &cause), 0);
			first = 0;
			continue;
		}
		seen++;
		assert_int_equal(trap_respond(g, n.id, -ENOTRECOVERABLE,
		    &cause), 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("guest: status 0x%x (case %d: %s)", st,
		    WEXITSTATUS(st) - 1, WEXITSTATUS(st) >= 1 &&
		    WEXITSTATUS(st) <= (int)NFILTER ?
		    filter_cases[WEXITSTATUS(st) - 1].what : "setup");
	for (fd = 0, gfd = 0; gfd < (int)NFILTER; gfd++)
		fd += filter_cases[gfd].notified;
	assert_int_equal(seen, fd);
	trap_close(g);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_entries_well_formed),
		cmocka_unit_test(test_home_calls_described),
		cmocka_unit_test(test_filter_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
