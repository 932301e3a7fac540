/*
 * timers: every kind of timer a process can have (issue 12, section 2),
 * with the time left on each checked after a move.
 *
 *   alarm       alarm(20000): ITIMER_REAL, one-shot, long;
 *   virtual     ITIMER_VIRTUAL, 5000 s of CPU, one-shot;
 *   prof        ITIMER_PROF every 20 ms of CPU: SIGPROF while it burns CPU;
 *   realtime    timer_create(CLOCK_REALTIME, SIGEV_SIGNAL SIGRTMIN+1,
 *               value 0xa1), one-shot, 20000 s;
 *   monotonic   CLOCK_MONOTONIC, SIGEV_SIGNAL SIGRTMIN+2 (0xb2), every 100 ms;
 *   boottime    CLOCK_BOOTTIME, SIGEV_NONE, one-shot, 20000 s;
 *   cputime     CLOCK_PROCESS_CPUTIME_ID, SIGEV_THREAD_ID (our own thread)
 *               SIGRTMIN+3 (0xc3), every 30 ms of CPU;
 *   owncpu      clock_getcpuclockid(getpid()), SIGEV_SIGNAL SIGRTMIN+5
 *               (0xe5), 5000 s of CPU, one-shot;
 *   pending     CLOCK_MONOTONIC, SIGEV_SIGNAL SIGRTMIN+4 (0xd4), one-shot
 *               1 ms, its signal blocked: pending across every move.
 *
 * At each check (timers [CHECKS], one per SIGUSR1): /proc/self/timers lists
 * the same ids; what is left of each timer is no more than it was at the
 * last look (plus the interval for periodic ones), not gone, and (real
 * clocks) not less than it was minus the wall time since; the periodic
 * ones go on firing (their siginfo: SI_TIMER, our timer id, its value);
 * the pending signal comes exactly once when unblocked, as it was queued,
 * and timer_getoverrun says 0; then it is armed and left pending again.
 *
 * Each check also makes a new timer (SIGEV_SIGNAL, SIGRTMIN+6, 0xf6) that
 * must fire once with its siginfo, and deletes it: where the process runs
 * (a guest makes it locally).
 *
 * "timers thread" instead makes a SIGEV_THREAD timer (glibc starts a
 * helper thread for it) and waits: a checkpoint must refuse it, naming it.
 * "timers tid" makes, at its one check, a SIGEV_THREAD_ID timer to its
 * own thread (gettid), which must fire once with its siginfo.
 */
#include <sys/syscall.h>
#include <sys/time.h>

#include <time.h>

#include "prog.h"

#define NS		1000000000LL
#define SLACK_NS	(NS / 2)	/* clock reads and rounding */
#define CPU_TICK_NS	(20 * 1000000LL) /* a CPU itimer may gain a tick */

enum { P_REALTIME, P_MONOTONIC, P_BOOTTIME, P_CPUTIME, P_OWNCPU, P_PENDING, NP };

struct ptimer {
	const char	*name;
	clockid_t	 clock;
	int		 notify;
	int		 sig;		/* offset from SIGRTMIN, -1 none */
	int		 value;
	long long	 first_ns, every_ns;
	int		 real;		/* wall-clock: bounded below by elapsed time */
	timer_t		 id;
	long long	 left;		/* at the last look */
	volatile sig_atomic_t fired;
	volatile int	 code, timerid, sival, bad;
};

static struct ptimer pt[NP] = {
	[P_REALTIME] = { "realtime", CLOCK_REALTIME, SIGEV_SIGNAL, 1, 0xa1,
	    20000 * NS, 0, 1 },
	[P_MONOTONIC] = { "monotonic", CLOCK_MONOTONIC, SIGEV_SIGNAL, 2, 0xb2,
	    NS / 10, NS / 10, 1 },
	[P_BOOTTIME] = { "boottime", CLOCK_BOOTTIME, SIGEV_NONE, -1, 0,
	    20000 * NS, 0, 1 },
	[P_CPUTIME] = { "cputime", CLOCK_PROCESS_CPUTIME_ID, SIGEV_THREAD_ID, 3,
	    0xc3, 30000000, 30000000, 0 },
	[P_OWNCPU] = { "owncpu", 0, SIGEV_SIGNAL, 5, 0xe5, 5000 * NS, 0, 0 },
	[P_PENDING] = { "pending", CLOCK_MONOTONIC, SIGEV_SIGNAL, 4, 0xd4,
	    1000000, 0, 1 },
};

/* The interval timers: ITIMER_REAL (by alarm), VIRTUAL, PROF. */
struct itimer {
	const char	*name;
	int		 which;
	long long	 first_ns, every_ns;
	int		 real;
	long long	 left;
};

static struct itimer it[] = {
	{ "alarm", ITIMER_REAL, 20000 * NS, 0, 1, 0 },
	{ "virtual", ITIMER_VIRTUAL, 5000 * NS, 0, 0, 0 },
	{ "prof", ITIMER_PROF, 20000000, 20000000, 0, 0 },
};
#define NIT	(int)(sizeof it / sizeof it[0])

static volatile sig_atomic_t	profs;
/* timers made at a check: SIGRTMIN+6, value 0xf6 */
static volatile sig_atomic_t	fresh_fired;
static volatile int		fresh_code, fresh_val, fresh_id;
static long long		last_look;	/* CLOCK_REALTIME ns */

static long long
now_ns(clockid_t c)
{
	struct timespec	ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void
on_timer(int sig, siginfo_t *si, void *uc)
{
	int	i;

	(void)uc;
	for (i = 0; i < NP; i++) {
		if (pt[i].sig < 0 || sig != SIGRTMIN + pt[i].sig)
			continue;
		pt[i].fired++;
		pt[i].code = si->si_code;
		pt[i].timerid = si->si_timerid;
		pt[i].sival = si->si_value.sival_int;
		if (si->si_code != SI_TIMER || si->si_value.sival_int !=
		    pt[i].value || si->si_timerid != (int)(intptr_t)pt[i].id)
			pt[i].bad++;
	}
}

static void
on_fresh(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fresh_fired++;
	fresh_code = si->si_code;
	fresh_val = si->si_value.sival_int;
	fresh_id = si->si_timerid;
}

static void
on_prof(int sig)
{
	(void)sig;
	profs++;
}

static void
handle(int sig, int info)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	if (info == 2) {
		sa.sa_sigaction = on_fresh;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
	} else if (info) {
		sa.sa_sigaction = on_timer;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
	} else {
		sa.sa_handler = on_prof;
		sa.sa_flags = SA_RESTART;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		prog_die("sigaction");
}

static void
block(int sig, int how)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(how, &set, NULL) == -1)
		prog_die("sigprocmask");
}

static void
arm(struct ptimer *p)
{
	struct itimerspec	its;

	its.it_value.tv_sec = p->first_ns / NS;
	its.it_value.tv_nsec = p->first_ns % NS;
	its.it_interval.tv_sec = p->every_ns / NS;
	its.it_interval.tv_nsec = p->every_ns % NS;
	if (timer_settime(p->id, 0, &its, NULL) == -1)
		prog_die("timer_settime");
}

static long long
ptimer_left(struct ptimer *p)
{
	struct itimerspec	its;

	if (timer_gettime(p->id, &its) == -1) {
		prog_fail("%s: timer_gettime(%d): %s", p->name,
		    (int)(intptr_t)p->id, strerror(errno));
		return -1;
	}
	if (its.it_interval.tv_sec * NS + its.it_interval.tv_nsec != p->every_ns)
		prog_fail("%s: interval %lld ns, expected %lld", p->name,
		    (long long)(its.it_interval.tv_sec * NS +
		    its.it_interval.tv_nsec), p->every_ns);
	return its.it_value.tv_sec * NS + its.it_value.tv_nsec;
}

static long long
itimer_left(struct itimer *t)
{
	struct itimerval	v;

	if (getitimer(t->which, &v) == -1)
		prog_die("getitimer");
	if (v.it_interval.tv_sec * NS + v.it_interval.tv_usec * 1000LL !=
	    t->every_ns)
		prog_fail("%s: interval %lld ns, expected %lld", t->name,
		    (long long)(v.it_interval.tv_sec * NS +
		    v.it_interval.tv_usec * 1000LL), t->every_ns);
	return v.it_value.tv_sec * NS + v.it_value.tv_usec * 1000LL;
}

/*
 * What is left now against what was left at the last look: never more
 * (but for a periodic timer reloaded meanwhile, never more than its
 * interval), never gone; for a wall-clock timer, at least what was left
 * minus the wall time since. (A move may only stop the clock: carried
 * over, the time left runs again from the restore.)
 */
static void
left_ok(const char *name, long long before, long long now, long long every,
    int real, long long elapsed, long long slack)
{
	long long	hi = every != 0 ? every : before;

	if (now <= 0) {
		prog_fail("%s: disarmed (%lld ns left, %lld before)", name, now,
		    before);
		return;
	}
	if (now > hi + slack)
		prog_fail("%s: %lld ns left, more than the %lld ns before", name,
		    now, hi);
	if (real && every == 0 && now < before - elapsed - SLACK_NS)
		prog_fail("%s: %lld ns left, less than %lld - %lld ns elapsed",
		    name, now, before, elapsed);
}

/* Burn CPU until cond holds for every counter (at most 20 s of CPU). */
static int
burn_until(volatile sig_atomic_t *a, int na, volatile sig_atomic_t *b, int nb)
{
	long long	start = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;

	while (*a < na || *b < nb) {
		for (int i = 0; i < 100000; i++)
			x += i;
		if (now_ns(CLOCK_PROCESS_CPUTIME_ID) - start > 20 * NS)
			return -1;
	}
	return 0;
}

/* Wait (wall clock) for n signals of p, at most 20 s. */
static int
wait_fired(struct ptimer *p, int n)
{
	struct timespec	ts = { 0, 10000000 };
	int		i;

	for (i = 0; i < 2000 && p->fired < n; i++)
		nanosleep(&ts, NULL);
	return p->fired >= n ? 0 : -1;
}

static int
sig_pending(int sig)
{
	sigset_t	set;

	sigpending(&set);
	return sigismember(&set, sig);
}

/* Arm the pending timer and wait until its (blocked) signal is pending. */
static void
leave_pending(void)
{
	struct timespec	ts = { 0, 1000000 };
	int		i;

	arm(&pt[P_PENDING]);
	for (i = 0; i < 10000 && !sig_pending(SIGRTMIN + pt[P_PENDING].sig); i++)
		nanosleep(&ts, NULL);
	if (!sig_pending(SIGRTMIN + pt[P_PENDING].sig))
		prog_die("the pending timer's signal never came");
}

/* The ids of /proc/self/timers are ours, in order. */
static void
check_proc_timers(void)
{
	FILE	*f;
	char	 line[256];
	int	 id, ids[NP], n = 0, i, j, found;

	if ((f = fopen("/proc/self/timers", "r")) == NULL) {
		prog_fail("/proc/self/timers: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "ID: %d", &id) == 1 && n < NP)
			ids[n++] = id;
	}
	fclose(f);
	CHECK(n == NP, "/proc/self/timers: %d timers, expected %d", n, NP);
	for (i = 0; i < NP; i++) {
		found = 0;
		for (j = 0; j < n; j++)
			found |= ids[j] == (int)(intptr_t)pt[i].id;
		CHECK(found, "%s: timer id %d not in /proc/self/timers",
		    pt[i].name, (int)(intptr_t)pt[i].id);
	}
}

/* Record what is left of each timer, as the base of the next check. */
static void
look(void)
{
	int	i;

	for (i = 0; i < NIT; i++)
		it[i].left = itimer_left(&it[i]);
	for (i = 0; i < NP; i++)
		if (i != P_PENDING)
			pt[i].left = ptimer_left(&pt[i]);
	last_look = now_ns(CLOCK_REALTIME);
}

static void
on_thread_timer(union sigval v)
{
	(void)v;
	abort();		/* never armed */
}

/*
 * A timer made now (notify: SIGEV_SIGNAL or SIGEV_THREAD_ID to our own
 * thread), due in 1 ms: its one signal comes with its siginfo; deleted.
 */
static void
fresh_timer(int notify, const char *what)
{
	struct sigevent		ev;
	struct itimerspec	its;
	struct timespec		ts = { 0, 1000000 };
	timer_t			t;
	int			i;

	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = notify;
	ev.sigev_signo = SIGRTMIN + 6;
	ev.sigev_value.sival_int = 0xf6;
	if (notify == SIGEV_THREAD_ID)
		ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	fresh_fired = 0;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == -1) {
		prog_fail("%s: timer_create: %s", what, strerror(errno));
		return;
	}
	memset(&its, 0, sizeof its);
	its.it_value.tv_nsec = 1000000;
	if (timer_settime(t, 0, &its, NULL) == -1)
		prog_fail("%s: timer_settime: %s", what, strerror(errno));
	for (i = 0; i < 10000 && fresh_fired == 0; i++)
		nanosleep(&ts, NULL);
	nanosleep(&ts, NULL);
	CHECK(fresh_fired == 1, "%s: %d signals, expected 1", what,
	    (int)fresh_fired);
	CHECK(fresh_code == SI_TIMER && fresh_val == 0xf6 &&
	    fresh_id == (int)(intptr_t)t, "%s: siginfo code %d value %#x timer "
	    "%d, expected SI_TIMER, 0xf6, %d", what, fresh_code, fresh_val,
	    fresh_id, (int)(intptr_t)t);
	if (timer_delete(t) == -1)
		prog_fail("%s: timer_delete: %s", what, strerror(errno));
}

static int
tid_mode(void)
{
	handle(SIGRTMIN + 6, 2);
	prog_ready();
	prog_wait_usr1();
	fresh_timer(SIGEV_THREAD_ID, "a SIGEV_THREAD_ID timer made now");
	printf("check 1: a SIGEV_THREAD_ID timer made after the move fired\n");
	return prog_finish();
}

static int
thread_mode(void)
{
	struct sigevent	ev;
	timer_t		t;

	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD;
	ev.sigev_notify_function = on_thread_timer;
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) == -1)
		prog_die("timer_create SIGEV_THREAD");
	prog_ready();
	prog_wait_usr1();
	(void)t;
	printf("check 1: a SIGEV_THREAD timer\n");
	return prog_finish();
}

int
main(int argc, char **argv)
{
	struct sigevent	ev;
	long long	elapsed, now;
	int		checks, c, i, base;

	prog_arm("timers");
	if (argc > 1 && strcmp(argv[1], "thread") == 0)
		return thread_mode();
	if (argc > 1 && strcmp(argv[1], "tid") == 0)
		return tid_mode();
	checks = prog_checks(argc, argv);
	handle(SIGPROF, 0);
	handle(SIGRTMIN + 6, 2);
	for (i = 0; i < NP; i++) {
		if (pt[i].sig >= 0)
			handle(SIGRTMIN + pt[i].sig, 1);
	}
	block(SIGRTMIN + pt[P_PENDING].sig, SIG_BLOCK);
	if (clock_getcpuclockid(getpid(), &pt[P_OWNCPU].clock) != 0)
		prog_die("clock_getcpuclockid");
	for (i = 0; i < NP; i++) {
		memset(&ev, 0, sizeof ev);
		ev.sigev_notify = pt[i].notify;
		ev.sigev_signo = pt[i].sig < 0 ? 0 : SIGRTMIN + pt[i].sig;
		ev.sigev_value.sival_int = pt[i].value;
		if (pt[i].notify == SIGEV_THREAD_ID)
			ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		if (timer_create(pt[i].clock, &ev, &pt[i].id) == -1)
			prog_die("timer_create");
		if (i != P_PENDING)
			arm(&pt[i]);
	}
	alarm((unsigned int)(it[0].first_ns / NS));
	for (i = 1; i < NIT; i++) {
		struct itimerval	v;

		v.it_value.tv_sec = it[i].first_ns / NS;
		v.it_value.tv_usec = it[i].first_ns % NS / 1000;
		v.it_interval.tv_sec = it[i].every_ns / NS;
		v.it_interval.tv_usec = it[i].every_ns % NS / 1000;
		if (setitimer(it[i].which, &v, NULL) == -1)
			prog_die("setitimer");
	}
	leave_pending();
	look();
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		now = now_ns(CLOCK_REALTIME);
		elapsed = now - last_look;
		check_proc_timers();
		for (i = 0; i < NIT; i++)
			left_ok(it[i].name, it[i].left, itimer_left(&it[i]),
			    it[i].every_ns, it[i].real, elapsed,
			    it[i].real ? 0 : CPU_TICK_NS);
		for (i = 0; i < NP; i++) {
			if (i == P_PENDING)
				continue;
			left_ok(pt[i].name, pt[i].left, ptimer_left(&pt[i]),
			    pt[i].every_ns, pt[i].real, elapsed,
			    pt[i].real ? 0 : CPU_TICK_NS);
		}

		/* the pending one: exactly once, as queued */
		pt[P_PENDING].fired = 0;
		block(SIGRTMIN + pt[P_PENDING].sig, SIG_UNBLOCK);
		block(SIGRTMIN + pt[P_PENDING].sig, SIG_BLOCK);
		CHECK(pt[P_PENDING].fired == 1, "pending: %d signals, expected 1",
		    (int)pt[P_PENDING].fired);
		CHECK(pt[P_PENDING].bad == 0, "pending: siginfo code %d timer "
		    "%d value %#x, expected SI_TIMER, %d, %#x",
		    pt[P_PENDING].code, pt[P_PENDING].timerid,
		    pt[P_PENDING].sival, (int)(intptr_t)pt[P_PENDING].id,
		    pt[P_PENDING].value);
		CHECK(timer_getoverrun(pt[P_PENDING].id) == 0,
		    "pending: overrun %d, expected 0",
		    timer_getoverrun(pt[P_PENDING].id));

		/* the periodic ones go on */
		base = pt[P_MONOTONIC].fired;
		CHECK(wait_fired(&pt[P_MONOTONIC], base + 3) == 0,
		    "monotonic: fired %d times in 20 s, expected 3",
		    (int)pt[P_MONOTONIC].fired - base);
		{
			sig_atomic_t	p0 = profs, c0 = pt[P_CPUTIME].fired;

			CHECK(burn_until(&profs, p0 + 3, &pt[P_CPUTIME].fired,
			    c0 + 3) == 0, "in 20 s of CPU: %d SIGPROF, %d "
			    "cputime signals, expected 3 each",
			    (int)(profs - p0), (int)(pt[P_CPUTIME].fired - c0));
		}
		for (i = 0; i < NP; i++) {
			CHECK(pt[i].bad == 0, "%s: a signal with code %d, timer "
			    "%d, value %#x, expected SI_TIMER, %d, %#x",
			    pt[i].name, pt[i].code, pt[i].timerid, pt[i].sival,
			    (int)(intptr_t)pt[i].id, pt[i].value);
		}
		CHECK(pt[P_REALTIME].fired == 0 && pt[P_OWNCPU].fired == 0,
		    "one-shot timers fired early: realtime %d, owncpu %d",
		    (int)pt[P_REALTIME].fired, (int)pt[P_OWNCPU].fired);

		fresh_timer(SIGEV_SIGNAL, "a timer made now");
		leave_pending();
		look();
		printf("check %d: %d interval timers and %d POSIX timers kept "
		    "their time\n", c, NIT, NP);
		fflush(stdout);
	}
	return prog_finish();
}
