/*
 * sigtrap: a process that handles its own SIGTRAP (issue 10, section 2),
 * as debuggers' test suites and some runtimes do; ommd is its tracer and
 * must neither eat these signals nor lose what they carry. A SA_SIGINFO
 * handler records each SIGTRAP's siginfo. Before READY a SIGTRAP is queued
 * (sigqueue, value 4201) while blocked, so it is pending across the move.
 * At each check (sigtrap [CHECKS], one per SIGUSR1): unblocking delivers
 * the pending one (SI_QUEUE, its value); an int3 gives SI_KERNEL; raise()
 * SI_TKILL from our own pid; kill() of our own pid SI_USER from it, with
 * our uid; sigqueue SI_QUEUE with a new value. Each is handled before the
 * call that sent it returns, as the kernel does for a process signalling
 * itself. Before the next check another one is left pending.
 */
#include <signal.h>

#include "prog.h"

static volatile sig_atomic_t	got;
static volatile int		got_code, got_pid, got_val, got_uid;

static void
on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got++;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_val = si->si_value.sival_int;
	got_uid = (int)si->si_uid;
}

static void
queue_blocked(int val)
{
	union sigval	v;

	v.sival_int = val;
	if (sigqueue(getpid(), SIGTRAP, v) == -1)
		prog_die("sigqueue");
}

/* One SIGTRAP arrived with this code (and pid, value when not -1). */
static void
expect(const char *what, int code, int pid, int val)
{
	CHECK(got == 1, "%s: %d SIGTRAPs handled, expected 1", what, (int)got);
	CHECK(got_code == code, "%s: si_code %d, expected %d", what, got_code,
	    code);
	CHECK(pid == -1 || got_pid == pid, "%s: si_pid %d, expected %d", what,
	    got_pid, pid);
	CHECK(val == -1 || got_val == val, "%s: si_value %d, expected %d", what,
	    got_val, val);
	got = 0;
}

int
main(int argc, char **argv)
{
	struct sigaction	sa;
	sigset_t		trap;
	union sigval		v;
	int			checks = prog_checks(argc, argv), c;

	prog_arm("sigtrap");
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) == -1)
		prog_die("sigaction");
	sigemptyset(&trap);
	sigaddset(&trap, SIGTRAP);
	if (sigprocmask(SIG_BLOCK, &trap, NULL) == -1)
		prog_die("sigprocmask");
	queue_blocked(4201);
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		sigprocmask(SIG_UNBLOCK, &trap, NULL);
		/* its si_pid is the pid that queued it: a restored copy has a new one */
		expect("pending across the move", SI_QUEUE, -1, 4200 + c);
		__asm__ volatile("int3");
		expect("int3", SI_KERNEL, -1, -1);
		raise(SIGTRAP);
		expect("raise", SI_TKILL, getpid(), -1);
		if (kill(getpid(), SIGTRAP) == -1)
			prog_die("kill");
		CHECK(got_uid == (int)getuid(), "kill: si_uid %d, expected %d",
		    got_uid, (int)getuid());
		expect("kill", SI_USER, getpid(), -1);
		v.sival_int = 4300 + c;
		if (sigqueue(getpid(), SIGTRAP, v) == -1)
			prog_die("sigqueue");
		expect("sigqueue", SI_QUEUE, getpid(), 4300 + c);
		sigprocmask(SIG_BLOCK, &trap, NULL);
		queue_blocked(4201 + c);
		printf("check %d: 5 SIGTRAPs with their siginfo\n", c);
		fflush(stdout);
	}
	return prog_finish();
}
