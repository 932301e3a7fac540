/*
 * signals: dispositions, flags, the blocked mask, queued pending signals and
 * the alternate stack, checked by asking the kernel and by delivering.
 */
#include <stdint.h>

#include "prog.h"

#define ALTSTACK_SIZE	(64 * 1024)
#define RT_PENDING	(SIGRTMIN + 2)
#define RT_RESET	(SIGRTMIN + 1)

static char			*altstack;
static volatile sig_atomic_t	 usr2_count, usr2_code, usr2_value;
static volatile sig_atomic_t	 rt_count, rt_values[4];
static volatile sig_atomic_t	 onstack_hit, onstack_count;
static volatile sig_atomic_t	 alrm_depth, alrm_maxdepth;
static volatile sig_atomic_t	 hup_count, hup_blocked_ok;
static volatile sig_atomic_t	 reset_count;

static void
h_usr2(int sig PROG_UNUSED, siginfo_t *si, void *uc PROG_UNUSED)
{
	usr2_count++;
	usr2_code = si->si_code;
	usr2_value = si->si_value.sival_int;
}

static void
h_rt(int sig PROG_UNUSED, siginfo_t *si, void *uc PROG_UNUSED)
{
	if (rt_count < 4)
		rt_values[rt_count] = si->si_value.sival_int;
	rt_count++;
}

static void
h_onstack(int sig PROG_UNUSED, siginfo_t *si PROG_UNUSED, void *uc PROG_UNUSED)
{
	char	here;

	onstack_count++;
	onstack_hit = &here >= altstack && &here < altstack + ALTSTACK_SIZE;
}

/* SA_NODEFER: raising the signal again inside its handler nests at once. */
static void
h_alrm(int sig)
{
	alrm_depth++;
	if (alrm_depth > alrm_maxdepth)
		alrm_maxdepth = alrm_depth;
	if (alrm_depth == 1)
		raise(sig);
	alrm_depth--;
}

/* Without SA_NODEFER, SIGHUP is blocked inside; sa_mask adds SIGALRM. */
static void
h_hup(int sig PROG_UNUSED)
{
	sigset_t	cur;

	hup_count++;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	hup_blocked_ok = sigismember(&cur, SIGHUP) && sigismember(&cur, SIGALRM);
}

static void
h_reset(int sig PROG_UNUSED, siginfo_t *si PROG_UNUSED, void *uc PROG_UNUSED)
{
	reset_count++;
}

/* What each signal was given; checked against sigaction() afterwards. */
struct disp {
	const char	*name;
	int		 sig;
	void		*handler;	/* SIG_IGN, or a handler */
	int		 flags;
	int		 mask_sig;	/* one signal in sa_mask, or 0 */
};

static struct disp	disps[8];
static int		ndisps;

static void
install(const char *name, int sig, void *handler, int flags, int mask_sig)
{
	struct sigaction	sa;
	struct disp		*d = &disps[ndisps++];

	memset(&sa, 0, sizeof sa);
	if (flags & SA_SIGINFO)
		sa.sa_sigaction = handler;
	else
		sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (mask_sig != 0)
		sigaddset(&sa.sa_mask, mask_sig);
	if (sigaction(sig, &sa, NULL) == -1)
		prog_die(name);
	d->name = name;
	d->sig = sig;
	d->handler = handler;
	d->flags = flags;
	d->mask_sig = mask_sig;
}

static void
check_disp(const struct disp *d)
{
	struct sigaction	sa;
	void			*h;
	const int		 mine = SA_RESTART|SA_SIGINFO|SA_NODEFER|
				    SA_ONSTACK|SA_RESETHAND;

	if (sigaction(d->sig, NULL, &sa) == -1) {
		prog_fail("%s: sigaction: %s", d->name, strerror(errno));
		return;
	}
	h = (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction :
	    (void *)sa.sa_handler;
	CHECK(h == d->handler, "%s: handler %p, expected %p", d->name, h,
	    d->handler);
	CHECK((sa.sa_flags & mine) == d->flags, "%s: sa_flags %#x, expected "
	    "%#x", d->name, sa.sa_flags & mine, d->flags);
	if (d->mask_sig != 0)
		CHECK(sigismember(&sa.sa_mask, d->mask_sig), "%s: sa_mask lost "
		    "signal %d", d->name, d->mask_sig);
	CHECK(sigismember(&sa.sa_mask, SIGTTOU) == 0, "%s: sa_mask has a "
	    "stray SIGTTOU", d->name);
}

static void
unblock(int sig)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int
main(void)
{
	static const int	 blocked_sigs[] = { SIGUSR1, SIGUSR2, SIGTTIN,
				    0 };
	sigset_t		 set, cur, pend;
	stack_t			 ss, oss;
	union sigval		 v;
	int			 i;

	prog_arm("signals");

	if ((altstack = malloc(ALTSTACK_SIZE)) == NULL)
		prog_die("malloc");
	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) == -1)
		prog_die("sigaltstack");

	install("SIGHUP", SIGHUP, h_hup, SA_RESTART, SIGALRM);
	install("SIGUSR2", SIGUSR2, h_usr2, SA_SIGINFO, 0);
	install("SIGALRM", SIGALRM, h_alrm, SA_NODEFER, 0);
	install("SIGVTALRM", SIGVTALRM, h_onstack, SA_ONSTACK|SA_SIGINFO, 0);
	install("SIGRTMIN+1", RT_RESET, h_reset, SA_SIGINFO|SA_RESETHAND, 0);
	install("SIGRTMIN+2", RT_PENDING, h_rt, SA_SIGINFO|SA_RESTART, SIGHUP);
	install("SIGPIPE", SIGPIPE, SIG_IGN, 0, 0);
	install("SIGQUIT", SIGQUIT, SIG_IGN, 0, 0);

	/* Blocked: SIGUSR1 (by prog_arm), SIGUSR2, SIGTTIN and RT_PENDING. */
	sigemptyset(&set);
	for (i = 0; blocked_sigs[i] != 0; i++)
		sigaddset(&set, blocked_sigs[i]);
	sigaddset(&set, RT_PENDING);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		prog_die("sigprocmask");

	/* Pending while blocked: one SIGUSR2 with a value, two queued RT. */
	v.sival_int = 42;
	if (sigqueue(getpid(), SIGUSR2, v) == -1)
		prog_die("sigqueue SIGUSR2");
	v.sival_int = 7;
	if (sigqueue(getpid(), RT_PENDING, v) == -1)
		prog_die("sigqueue RT");
	v.sival_int = 8;
	if (sigqueue(getpid(), RT_PENDING, v) == -1)
		prog_die("sigqueue RT");

	prog_ready();
	prog_wait_usr1();

	for (i = 0; i < ndisps; i++)
		check_disp(&disps[i]);

	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (i = 1; i < SIGRTMAX; i++) {
		int	want = sigismember(&set, i);

		CHECK(sigismember(&cur, i) == want, "blocked mask: signal %d "
		    "%s, expected %s", i, want ? "unblocked" : "blocked",
		    want ? "blocked" : "unblocked");
	}

	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR2), "SIGUSR2 no longer pending");
	CHECK(sigismember(&pend, RT_PENDING), "SIGRTMIN+2 no longer pending");
	CHECK(!sigismember(&pend, SIGTTIN), "SIGTTIN pending from nowhere");
	CHECK(!sigismember(&pend, SIGUSR1), "SIGUSR1 still pending");

	if (sigaltstack(NULL, &oss) == -1)
		prog_fail("sigaltstack: %s", strerror(errno));
	else {
		CHECK(oss.ss_sp == altstack && oss.ss_size == ALTSTACK_SIZE,
		    "alternate stack is %p+%zu, expected %p+%d", oss.ss_sp,
		    oss.ss_size, (void *)altstack, ALTSTACK_SIZE);
		CHECK(oss.ss_flags == 0, "alternate stack flags %#x, expected 0",
		    oss.ss_flags);
	}

	/* Delivery: the handlers must see what the kernel kept. */
	unblock(SIGUSR2);
	CHECK(usr2_count == 1, "SIGUSR2 delivered %d times, expected 1",
	    (int)usr2_count);
	CHECK(usr2_code == SI_QUEUE, "SIGUSR2 si_code %d, expected SI_QUEUE",
	    (int)usr2_code);
	CHECK(usr2_value == 42, "SIGUSR2 si_value %d, expected 42",
	    (int)usr2_value);

	unblock(RT_PENDING);
	CHECK(rt_count == 2, "SIGRTMIN+2 delivered %d times, expected 2",
	    (int)rt_count);
	CHECK(rt_values[0] == 7 && rt_values[1] == 8, "SIGRTMIN+2 values %d, "
	    "%d, expected 7, 8", (int)rt_values[0], (int)rt_values[1]);

	raise(SIGVTALRM);
	CHECK(onstack_count == 1 && onstack_hit, "SA_ONSTACK handler ran %d "
	    "times, on the alternate stack: %s", (int)onstack_count,
	    onstack_hit ? "yes" : "no");

	raise(SIGALRM);
	CHECK(alrm_maxdepth == 2, "SA_NODEFER handler nested to depth %d, "
	    "expected 2", (int)alrm_maxdepth);

	raise(SIGHUP);
	CHECK(hup_count == 1 && hup_blocked_ok, "SIGHUP handler ran %d times, "
	    "SIGHUP and SIGALRM blocked inside: %s", (int)hup_count,
	    hup_blocked_ok ? "yes" : "no");

	raise(SIGPIPE);		/* ignored: we are still here */
	raise(SIGQUIT);

	raise(RT_RESET);
	CHECK(reset_count == 1, "SIGRTMIN+1 handler ran %d times, expected 1",
	    (int)reset_count);
	{
		struct sigaction	sa;

		sigaction(RT_RESET, NULL, &sa);
		CHECK(sa.sa_handler == SIG_DFL, "SA_RESETHAND did not reset "
		    "SIGRTMIN+1");
	}
	return prog_finish();
}
