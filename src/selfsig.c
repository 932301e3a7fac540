/*
 * selfsig.c: signals a migrated process sends itself (selfsig.h says why
 * they are queued here, marked).
 */
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/syscall.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/selfsig.h"

#define TKILL_BIT	1ULL	/* in the cookie's low bit: SI_TKILL, else SI_USER */

void
selfsig_init(struct selfsig *ss, pid_t home_pid, uid_t home_uid)
{
	struct timespec	ts;
	uint64_t	c = 0;

	/* a cookie no program would pick as a sigqueue value */
	if (getrandom(&c, sizeof c, GRND_NONBLOCK) != sizeof c) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		c = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^
		    ((uint64_t)getpid() << 16) ^ 0x9e3779b97f4a7c15ULL;
	}
	c &= ~TKILL_BIT;
	if (c == 0)
		c = 2;
	ss->cookie = c;
	ss->pid = home_pid;
	ss->uid = home_uid;
}

void
selfsig_mark(const struct selfsig *ss, const siginfo_t *want,
    siginfo_t *marked)
{
	memset(marked, 0, sizeof *marked);
	marked->si_signo = want->si_signo;
	marked->si_code = SI_QUEUE;
	marked->si_pid = want->si_pid;
	marked->si_uid = want->si_uid;
	marked->si_value.sival_ptr = (void *)(uintptr_t)(ss->cookie |
	    (want->si_code == SI_TKILL ? TKILL_BIT : 0));
}

int
selfsig_unmark(const struct selfsig *ss, siginfo_t *si)
{
	uint64_t	v;
	pid_t		pid;
	uid_t		uid;
	int		signo;

	if (ss == NULL || ss->cookie == 0 || si->si_code != SI_QUEUE)
		return 0;
	v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	if ((v & ~TKILL_BIT) != ss->cookie)
		return 0;
	signo = si->si_signo;
	pid = si->si_pid;
	uid = si->si_uid;
	memset(si, 0, sizeof *si);
	si->si_signo = signo;
	si->si_code = (v & TKILL_BIT) ? SI_TKILL : SI_USER;
	si->si_pid = pid;
	si->si_uid = uid;
	return 1;
}

int
selfsig_queue(const struct selfsig *ss, pid_t pid, const siginfo_t *want,
    int shared)
{
	siginfo_t	q;
	long		r;

	/* nothing to mark: no stop, no siginfo that reaches anyone */
	if (want->si_signo == SIGKILL)
		return kill(pid, SIGKILL) == -1 ? -errno : 0;
	if (want->si_code == SI_USER || want->si_code == SI_TKILL)
		selfsig_mark(ss, want, &q);
	else
		q = *want;
	r = shared ? syscall(SYS_rt_sigqueueinfo, pid, q.si_signo, &q) :
	    syscall(SYS_rt_tgsigqueueinfo, pid, pid, q.si_signo, &q);
	return r == -1 ? -errno : 0;
}

int
selfsig_fix_stop(const struct selfsig *ss, pid_t pid)
{
	siginfo_t	si;

	if (ss == NULL || ss->cookie == 0)
		return 0;
	if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == -1)
		return -1;
	if (!selfsig_unmark(ss, &si))
		return 0;
	return ptrace(PTRACE_SETSIGINFO, pid, 0, &si) == -1 ? -1 : 1;
}
