/* sigmask.c: a guest's calls with a signal mask of their own (sigmask.h). */
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/selfsig.h"
#include "omm/sigmask.h"

#define KSIGSET_LEN	8	/* the kernel's sigset_t on x86-64 */
#define BIT(sig)	(1ULL << ((sig) - 1))

/*
 * x86-64 signal frame at a handler's first instruction: rsp points at the
 * return address (pretcode), the ucontext follows; sigreturn reloads the
 * mask from uc_sigmask. glibc's ucontext_t has the kernel's layout up to it.
 */
#define FRAME_MASK_OFF	(8 + offsetof(ucontext_t, uc_sigmask))
_Static_assert(offsetof(ucontext_t, uc_sigmask) == 296, "uc_sigmask");

static const struct {
	const char	*name;
	size_t		 off;
} status_fields[] = {
	{ "SigPnd:", offsetof(struct sigstate, pending) },
	{ "ShdPnd:", offsetof(struct sigstate, pending) },
	{ "SigBlk:", offsetof(struct sigstate, blocked) },
	{ "SigIgn:", offsetof(struct sigstate, ignored) },
	{ "SigCgt:", offsetof(struct sigstate, caught) },
};
#define NFIELDS	(sizeof status_fields / sizeof status_fields[0])

int
sigstate_parse(const char *text, struct sigstate *st)
{
	const char	*p;
	char		*end;
	uint64_t	 v;
	size_t		 i, len;
	int		 seen = 0;

	memset(st, 0, sizeof *st);
	for (p = text; *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 :
	    p + strlen(p)) {
		for (i = 0; i < NFIELDS; i++) {
			len = strlen(status_fields[i].name);
			if (strncmp(p, status_fields[i].name, len) != 0)
				continue;
			errno = 0;
			v = strtoull(p + len, &end, 16);
			if (errno != 0 || end == p + len)
				return -1;
			/* the two pending sets add up */
			*(uint64_t *)((char *)st + status_fields[i].off) |= v;
			seen |= 1 << i;
		}
	}
	return seen == (1 << NFIELDS) - 1 ? 0 : -1;
}

int
sigstate_read(pid_t pid, struct sigstate *st)
{
	char	path[64], text[4096];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return sigstate_parse(text, st);
}

enum sigdfl
sigmask_default(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
		return SIGDFL_IGN;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return SIGDFL_STOP;
	default:
		return SIGDFL_TERM;
	}
}

uint64_t
sigmask_acting(const struct sigstate *st, uint64_t mask)
{
	uint64_t	dflign = BIT(SIGCHLD) | BIT(SIGCONT) | BIT(SIGURG) |
			    BIT(SIGWINCH);
	uint64_t	cand = st->pending & ~mask;

	return cand & (st->caught | (~st->ignored & ~dflign));
}

int
sigmask_of_call(const struct sysent *e, const uint64_t args[SYSENT_NARGS],
    sigmask_read_fn rd, void *arg, uint64_t *mask)
{
	uint64_t	ptr, size, pair[2];

	if (!(e->flags & SYF_SIGMASK) || e->mask.arg + 1 >= SYSENT_NARGS + 1)
		return 0;
	ptr = args[e->mask.arg];
	if (e->mask.pair) {
		/* pselect6: a pointer to { const sigset_t *ss; size_t ss_len } */
		if (ptr == 0)
			return 0;
		if (rd(arg, ptr, pair, sizeof pair) != (ssize_t)sizeof pair)
			return -EFAULT;
		ptr = pair[0];
		size = pair[1];
	} else {
		if (e->mask.arg + 1 >= SYSENT_NARGS)
			return 0;
		size = args[e->mask.arg + 1];
	}
	if (ptr == 0)
		return 0;
	if (size != KSIGSET_LEN)
		return -EINVAL;
	if (rd(arg, ptr, mask, KSIGSET_LEN) != KSIGSET_LEN)
		return -EFAULT;
	/* the kernel never blocks these */
	*mask &= ~(BIT(SIGKILL) | BIT(SIGSTOP));
	return 1;
}

/*
 * The next ptrace stop or end of pid, consumed unless it is an end (1) or
 * a group stop (2): both are the reaper's to see and report (a group stop
 * goes home as the guest's stop).
 */
static int
next_stop(pid_t pid, int *ws, char **cause)
{
	siginfo_t	si;

	for (;;) {
		memset(&si, 0, sizeof si);
		/* peek first: an end is the reaper's to see and report */
		if (waitid(P_PID, pid, &si, WEXITED | WSTOPPED | WNOWAIT |
		    __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return cause_set(cause, "waitid %d: %s", (int)pid,
			    strerror(errno));
		}
		if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
		    si.si_code == CLD_DUMPED)
			return 1;
		/* si_status: the ptrace stop's event << 8 | signal */
		if (si.si_code == CLD_TRAPPED &&
		    (si.si_status >> 8) == PTRACE_EVENT_STOP &&
		    (si.si_status & 0x7f) != SIGTRAP)
			return 2;
		if (waitpid(pid, ws, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return cause_set(cause, "waitpid %d: %s", (int)pid,
			    strerror(errno));
		}
		if (WIFSTOPPED(*ws))
			return 0;
		if (WIFEXITED(*ws) || WIFSIGNALED(*ws))
			return cause_set(cause, "guest %d ended under us", (int)pid);
	}
}

#define EV(ws)		((unsigned)(ws) >> 16)

/* Put mask in the signal frame the kernel just built at the handler's entry. */
static int
frame_mask(pid_t pid, uint64_t mask, char **cause)
{
	struct user_regs_struct	regs;
	struct iovec		l = { &mask, sizeof mask }, r;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
	r.iov_base = (void *)(regs.rsp + FRAME_MASK_OFF);
	r.iov_len = sizeof mask;
	if (process_vm_writev(pid, &l, 1, &r, 1, 0) != sizeof mask)
		return cause_set(cause, "writing the signal frame's mask: %s",
		    strerror(errno));
	return 0;
}

int
sigmask_deliver(pid_t pid, uint64_t callmask, int restart,
    int (*answer)(void *, int64_t), void *arg, const struct selfsig *ss,
    char **cause)
{
	struct user_regs_struct	regs;
	struct sigstate		st;
	uint64_t		orig;
	int			ws, sig, rc;

	/* asked before the answer: taken on the way out of the call */
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
		return cause_set(cause, "PTRACE_INTERRUPT %d: %s", (int)pid,
		    strerror(errno));
	if ((rc = answer(arg, -(int64_t)restart)) != 0)
		return rc;
	for (;;) {
		/* a group stop first: the reaper's; the call restarts after */
		if ((rc = next_stop(pid, &ws, cause)) != 0)
			return rc == 2 ? 0 : rc;
		if (EV(ws) == PTRACE_EVENT_STOP && WSTOPSIG(ws) == SIGTRAP)
			break;
		if (EV(ws) == PTRACE_EVENT_STOP) {
			/* a group stop came first: the reaper's; the call restarts */
			return 0;
		}
		/* a signal the thread's own mask lets through: as the reaper does */
		sig = EV(ws) == 0 && WSTOPSIG(ws) != (SIGTRAP | 0x80) ?
		    WSTOPSIG(ws) : 0;
		if (sig != 0 && selfsig_fix_stop(ss, pid) == -1)
			return cause_set(cause, "signal %d's siginfo: %s", sig,
			    strerror(errno));
		if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) == -1)
			return cause_set(cause, "PTRACE_CONT: %s", strerror(errno));
	}
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1 ||
	    ptrace(PTRACE_GETSIGMASK, pid, sizeof orig, &orig) == -1)
		return cause_set(cause, "reading guest %d: %s", (int)pid,
		    strerror(errno));
	if (sigstate_read(pid, &st) == -1)
		return cause_set(cause, "/proc/%d/status unreadable", (int)pid);
	/* on its way out of our answer, and still something to deliver? */
	if ((int64_t)regs.rax != -(int64_t)restart ||
	    sigmask_acting(&st, callmask) == 0) {
		if (ptrace(PTRACE_CONT, pid, 0, 0) == -1)
			return cause_set(cause, "PTRACE_CONT: %s", strerror(errno));
		return 0;
	}
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof callmask, &callmask) == -1 ||
	    ptrace(PTRACE_CONT, pid, 0, 0) == -1)
		return cause_set(cause, "setting the call's mask: %s",
		    strerror(errno));
	/* the kernel dequeues the signal: its delivery stop */
	if ((rc = next_stop(pid, &ws, cause)) == 2) {
		/* stopped first: the reaper's, with the thread's own mask */
		if (ptrace(PTRACE_SETSIGMASK, pid, sizeof orig, &orig) == -1)
			return cause_set(cause, "PTRACE_SETSIGMASK: %s",
			    strerror(errno));
		return 0;
	}
	if (rc != 0)
		return rc;
	if (EV(ws) != 0 || WSTOPSIG(ws) == (SIGTRAP | 0x80)) {
		/* nothing was delivered after all: the mask goes back */
		if (ptrace(PTRACE_SETSIGMASK, pid, sizeof orig, &orig) == -1 ||
		    (EV(ws) != PTRACE_EVENT_STOP &&
		    ptrace(PTRACE_CONT, pid, 0, 0) == -1))
			return cause_set(cause, "guest %d: %s", (int)pid,
			    strerror(errno));
		return 0;
	}
	sig = WSTOPSIG(ws);
	if (selfsig_fix_stop(ss, pid) == -1)
		return cause_set(cause, "signal %d's siginfo: %s", sig,
		    strerror(errno));
	if (st.caught & BIT(sig)) {
		/* a handler: the frame is built, then one step stops at its start */
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)sig) == -1)
			return cause_set(cause, "PTRACE_SINGLESTEP: %s",
			    strerror(errno));
		if ((rc = next_stop(pid, &ws, cause)) != 0)
			return rc == 2 ? cause_set(cause, "guest %d stopped "
			    "instead of entering its handler", (int)pid) : rc;
		if (EV(ws) != 0 || WSTOPSIG(ws) != SIGTRAP)
			return cause_set(cause, "guest %d: stop %#x instead of "
			    "its handler", (int)pid, ws);
		if (frame_mask(pid, orig, cause) == -1)
			return -1;
		sig = 0;
	} else if ((st.ignored & BIT(sig)) ||
	    sigmask_default(sig) == SIGDFL_IGN) {
		if (ptrace(PTRACE_SETSIGMASK, pid, sizeof orig, &orig) == -1)
			return cause_set(cause, "PTRACE_SETSIGMASK: %s",
			    strerror(errno));
		sig = 0;
	} else if (sigmask_default(sig) == SIGDFL_STOP) {
		/* it stops: the group stop is the reaper's, with its own mask */
		if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) == -1)
			return cause_set(cause, "PTRACE_CONT: %s", strerror(errno));
		for (;;) {
			siginfo_t	si;

			memset(&si, 0, sizeof si);
			if (waitid(P_PID, pid, &si, WEXITED | WSTOPPED |
			    WNOWAIT | __WALL) == -1) {
				if (errno == EINTR)
					continue;
				return cause_set(cause, "waitid: %s",
				    strerror(errno));
			}
			break;
		}
		ptrace(PTRACE_SETSIGMASK, pid, sizeof orig, &orig);
		return 0;
	}
	/* a handler's start, an ignored signal, or the end of the process */
	if (ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig) == -1)
		return cause_set(cause, "PTRACE_CONT: %s", strerror(errno));
	return 0;
}
