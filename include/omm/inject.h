/*
 * inject.h: run system calls inside a stopped ptrace tracee.
 *
 * inject_init maps a small area into the tracee: one R-X page holding
 * "syscall; int3" and a few RW scratch pages for arguments and results. Each
 * injected call points rip at that code with the call's registers, resumes
 * and waits for the int3 trap (one stop, ~25-35 us). The very first mmap,
 * and the final munmap of the area, run through a "syscall" instruction the
 * tracee already has (the vDSO's) with syscall-entry/exit stops, so no code
 * page of the process is ever written.
 *
 * While injecting, every signal but SIGTRAP is blocked (a forced SIGTRAP
 * that finds SIGTRAP blocked resets its handler to SIG_DFL). Signals that
 * still arrive (SIGSTOP, a SIGTRAP from elsewhere) are dequeued and kept as
 * strays for the caller to re-queue.
 */
#ifndef OMM_INJECT_H
#define OMM_INJECT_H

#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define INJECT_CODE_SIZE	4096
#define INJECT_SCRATCH_SIZE	(4 * 4096)	/* a PATH_MAX string fits */
#define INJECT_AREA_SIZE	(INJECT_CODE_SIZE + INJECT_SCRATCH_SIZE)

struct inject;

/*
 * Take over pid, which must be in a ptrace stop: save its registers and
 * signal mask and map the area at hint (0: a free spot of its choosing;
 * else hint must be free, it is mapped with MAP_FIXED_NOREPLACE).
 */
struct inject	*inject_init(pid_t pid, uint64_t hint, char **cause);
uint64_t	 inject_area(const struct inject *);

/*
 * Inject into tid, another thread of the process of from (it shares the
 * address space, so from's area serves it): tid must be in a ptrace stop;
 * its registers and mask are saved and its mask set as inject_init does.
 * No mapping is made, and inject_thread_end makes none go: with restore,
 * it puts back tid's registers but not its mask (inject_saved_mask): the
 * caller settles tid (inject_settle) with every signal still blocked, so
 * that none is delivered on the way, and sets the mask after.
 */
struct inject	*inject_thread(const struct inject *from, pid_t tid,
		    char **cause);
int	inject_thread_end(struct inject *, int restore, char **cause)
	    __attribute__((warn_unused_result));
/* Tracee address of the scratch pages. */
uint64_t	 inject_scratch(const struct inject *);

/*
 * One system call: *ret is what the kernel returned (-errno on failure).
 * Returns -1 only when the injection itself failed (the process died, a
 * fault): then the tracee's state is unknown.
 */
int	inject_syscall(struct inject *, long *ret, long nr,
	    const uint64_t args[6], char **cause)
	    __attribute__((warn_unused_result));
#define INJECT(in, ret, cause, nr, ...)					\
	inject_syscall(in, ret, nr, (const uint64_t[6]){ __VA_ARGS__ }, cause)

/* Copy to or from the scratch pages at offset off. */
int	inject_write(struct inject *, size_t off, const void *, size_t,
	    char **cause) __attribute__((warn_unused_result));
int	inject_read(struct inject *, size_t off, void *, size_t,
	    char **cause) __attribute__((warn_unused_result));

/* The signal mask inject_init found (injection runs with its own). */
uint64_t	 inject_saved_mask(const struct inject *);

/* Signals dequeued while injecting. */
const siginfo_t	*inject_strays(const struct inject *, size_t *n);
/* 1 and the wait status when the tracee exited under us. */
int	inject_exited(const struct inject *, int *wstatus);

/*
 * Unmap the area. With restore, put back the saved registers and signal
 * mask (the tracee stays stopped); else leave them to the caller. The
 * caller still frees with inject_free (strays and exit status stay readable).
 */
int	inject_fini(struct inject *, int restore, char **cause)
	    __attribute__((warn_unused_result));
/*
 * Move a tracee from the syscall-exit stop inject_fini leaves it in to a
 * stop in the kernel's signal path (PTRACE_EVENT_STOP of an interrupt).
 * Resuming from there applies the kernel's syscall-restart logic to the
 * registers the tracee then has (rax = -ERESTART*, orig_rax = the call),
 * exactly as for a process that was never stopped; resuming straight from
 * a syscall-exit stop would hand -ERESTART* to user space. On exit sets
 * *exited and *wstatus.
 */
int	inject_settle(pid_t, int *exited, int *wstatus, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Make si pending in pid again, siginfo and all, with the final signal
 * mask mask in place; pid is in a ptrace stop (after inject_settle, or
 * the last injected call) and is left in its interrupt stop. For what an
 * injection cannot queue itself: a SIGTRAP, which its breakpoints leave
 * unblocked, would be delivered to the very next injected call. The
 * tracer sends the signal, catches its delivery stop, puts si in place
 * (PTRACE_SETSIGINFO) and lets it go with the mask blocking it, so the
 * kernel queues it again (or, not blocked by mask, delivers it at once
 * as it would have).
 */
int	inject_requeue(pid_t, const siginfo_t *si, int shared, uint64_t mask,
	    int *exited, int *wstatus, char **cause)
	    __attribute__((warn_unused_result));
/* Free; never touches the tracee. */
void	inject_free(struct inject *);


#endif
