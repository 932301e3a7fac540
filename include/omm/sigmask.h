/*
 * sigmask.h: the calls of a guest that set a signal mask of their own while
 * they wait (pselect6, ppoll, epoll_pwait, epoll_pwait2; sysent.h's
 * SYF_SIGMASK).
 *
 * Such a call runs at home without its mask: signals for the process reach
 * the guest, not the deputy. The guest's kernel never applied the mask
 * either (the call stopped in the seccomp filter before it), so its
 * supervisor judges a signal against the call's mask itself: a signal the
 * mask lets through and that would act (a handler, the default action of
 * ending or stopping the process) ends the call as the kernel would, with
 * the handler run under the call's mask and the process's own mask back
 * after it. The classic user is a program that blocks SIGCHLD and unblocks
 * it only in pselect (GNU make's jobserver): without this its children's
 * exits never reach it.
 */
#ifndef OMM_SIGMASK_H
#define OMM_SIGMASK_H

#include <sys/types.h>

#include <stdint.h>

#include "omm/sysent.h"

/* Signal sets as /proc/PID/status shows them: bit sig - 1. */
struct sigstate {
	uint64_t	pending;	/* SigPnd | ShdPnd */
	uint64_t	blocked;	/* SigBlk */
	uint64_t	ignored;	/* SigIgn */
	uint64_t	caught;		/* SigCgt */
};

/* Parse the text of /proc/PID/status; -1 when a field is missing. */
int		sigstate_parse(const char *text, struct sigstate *);
/* Read it for pid. */
int		sigstate_read(pid_t pid, struct sigstate *);

/* A signal's default action. */
enum sigdfl {
	SIGDFL_TERM = 0,	/* ends the process (with or without a core) */
	SIGDFL_IGN,		/* SIGCHLD, SIGCONT, SIGURG, SIGWINCH */
	SIGDFL_STOP,		/* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU */
};
enum sigdfl	sigmask_default(int sig);

/*
 * The pending signals that would act if the thread's mask were mask: not
 * blocked by it, and caught, or not ignored and not ignored by default.
 */
uint64_t	sigmask_acting(const struct sigstate *, uint64_t mask);

/*
 * The mask a call of entry e with arguments args sets, read from the
 * guest's memory through rd: 1 and *mask when it sets one, 0 when it does
 * not (a NULL pointer), or -errno as the kernel would fail the call
 * (EFAULT, EINVAL for a size other than 8).
 */
typedef ssize_t (*sigmask_read_fn)(void *arg, uint64_t addr, void *, size_t);
int		sigmask_of_call(const struct sysent *e,
		    const uint64_t args[SYSENT_NARGS], sigmask_read_fn rd,
		    void *arg, uint64_t *mask);

/*
 * End the call guest pid waits in (a notification of ours) because a
 * signal acts under the call's mask callmask: answer it with -restart
 * through answer() (0: answered, 1: the guest is gone, -1: failed), then,
 * as its tracer, take the guest in the interrupt stop on its way out, set
 * callmask, let the kernel deliver the signal and, when a handler runs,
 * put the thread's own mask in its signal frame so that sigreturn restores
 * it (the kernel's restore of a pselect's mask). A signal that only stops
 * the process is left in the group stop for the caller's reaper, with the
 * mask already back. A signal the process sent itself gets its true
 * siginfo at its delivery stop (ss, may be NULL: selfsig.h). Returns 0
 * done, 1 gone, -1 failed (cause).
 */
struct selfsig;
int		sigmask_deliver(pid_t pid, uint64_t callmask, int restart,
		    int (*answer)(void *, int64_t), void *arg,
		    const struct selfsig *ss, char **cause);

#endif
