/*
 * selfsig.h: signals a migrated process sends itself.
 *
 * A guest's kill(getpid(), sig), raise() and tgkill() name its home pid.
 * Sent from home, the signal would come back late (after the call
 * returned, where the kernel delivers it before) and from the wrong
 * sender (the deputy's pid, SI_USER for SI_TKILL). The guest's server
 * queues it to the guest itself instead, before answering the call. Only
 * the process itself may queue SI_USER or SI_TKILL with a chosen si_pid,
 * so such a signal travels marked (SI_QUEUE, a per-guest random cookie in
 * si_value) and the server, the guest's tracer, puts the true siginfo in
 * place at the signal's delivery stop (PTRACE_SETSIGINFO); a dump of the
 * guest unmarks the pending ones in the image. Other si_codes a process
 * may send itself (SI_QUEUE from sigqueue) are queued as they are.
 */
#ifndef OMM_SELFSIG_H
#define OMM_SELFSIG_H

#include <sys/types.h>

#include <signal.h>
#include <stdint.h>

struct selfsig {
	uint64_t	cookie;		/* random, low bit clear; 0: inactive */
	int32_t		pid;		/* the process's pid at home */
	uint32_t	uid;		/* its real uid at home */
};

/* Ready for the process home_pid of user home_uid (a fresh cookie). */
void	selfsig_init(struct selfsig *, pid_t home_pid, uid_t home_uid);

/*
 * The marked stand-in for want (SI_USER or SI_TKILL, as the kernel makes
 * them), which anyone may queue.
 */
void	selfsig_mark(const struct selfsig *, const siginfo_t *want,
	    siginfo_t *marked);

/* A marked siginfo back to what it stands for. 1: it was one; 0: not. */
int	selfsig_unmark(const struct selfsig *, siginfo_t *);

/*
 * Queue want to process pid (shared: the process queue, else its thread
 * pid's), marked if it must be. 0, or -errno as the call would fail.
 */
int	selfsig_queue(const struct selfsig *, pid_t pid, const siginfo_t *want,
	    int shared);

/*
 * At pid's signal-delivery stop (its tracer): a marked signal gets its
 * true siginfo. 1: rewritten; 0: nothing to do; -1: ptrace failed.
 */
int	selfsig_fix_stop(const struct selfsig *, pid_t pid);

#endif
