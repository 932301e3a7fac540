/*
 * ckpt-park.c: the original process while its image runs elsewhere.
 *
 * A migrated process keeps its pid, parent, children, session and terminal
 * at home in the original, which is parked: it loops in pause() with an
 * empty signal mask, so that every signal sent to it stops it for its
 * tracer (who forwards it to the guest) and none is ever acted on at home.
 * When the process ends away, the original ends the same way; when it comes
 * home, a RESTORE_ORIGINAL restore overwrites it.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/ckpt.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/plocks.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/* Scratch layout. */
#define SCR_SET		0		/* sigset_t, 8 bytes */
#define SCR_TS		16		/* struct timespec {0, 0} */
#define SCR_INFO	64		/* siginfo_t, 128 bytes */
#define SCR_ACT		256		/* kernel sigaction, 32 bytes */
#define SCR_RLIM	512		/* two u64 */
#define SCR_FLOCK	640		/* struct flock, 32 bytes */

/* More pending signals than a queue may hold (RLIMIT_SIGPENDING aside). */
#define PARK_MAX_DRAIN	4096

/* mov $SYS_pause, %eax; syscall; jmp back to the mov */
static const uint8_t	park_code[] = {
	0xb8, SYS_pause, 0x00, 0x00, 0x00,
	0x0f, 0x05,
	0xeb, 0xf7,
};

/* Stop pid for injection unless it is in a ptrace stop of ours already. */
static int
park_stop(pid_t pid, char **cause)
{
	struct procfs_stat	ps;
	struct ckpt_stats	st;

	if (procfs_stat(pid, &ps, NULL) == 0 && ps.state == 't')
		return 0;
	memset(&st, 0, sizeof st);
	return ckpt_interrupt(pid, NULL, NULL, &st, cause);
}

/* Queue signals to the tracee itself: from itself, any si_code is allowed. */
static int
park_requeue(struct inject *in, pid_t pid, const siginfo_t *sigs, size_t n,
    char **cause)
{
	size_t	i;
	long	ret;

	for (i = 0; i < n; i++) {
		if (inject_write(in, SCR_INFO, &sigs[i], sizeof sigs[i],
		    cause) == -1)
			return -1;
		if (INJECT(in, &ret, cause, SYS_rt_tgsigqueueinfo, pid, pid,
		    sigs[i].si_signo, inject_scratch(in) + SCR_INFO) == -1)
			return -1;
		if (ret != 0)
			log_warnx("pid %ld: signal %d lost: %s", (long)pid,
			    sigs[i].si_signo, strerror(-ret));
	}
	return 0;
}

/*
 * Its pending signals that are in the image (in_image: bit sig - 1, as
 * pending when it was dumped) would be delivered twice: they go. One that
 * came after the dump (a child's SIGCHLD while the image streamed) is in
 * no image: it is kept in *kept, queued again once parked, and so reaches
 * the guest through the tracer. Losing it hung a migrated make -j2 in
 * pselect for good. But one its own timers sent after the dump goes too:
 * the image carries those timers, and the guest's send it in their turn.
 */
static int
park_drain(struct inject *in, uint64_t in_image, siginfo_t **kept,
    size_t *nkept, char **cause)
{
	siginfo_t	si;
	uint64_t	set = ~0ULL & ~(1ULL << (SIGKILL - 1)) &
			    ~(1ULL << (SIGSTOP - 1));
	uint64_t	ts[2] = { 0, 0 };
	long		ret;
	int		i;

	if (inject_write(in, SCR_SET, &set, sizeof set, cause) == -1 ||
	    inject_write(in, SCR_TS, ts, sizeof ts, cause) == -1)
		return -1;
	for (i = 0; i < PARK_MAX_DRAIN; i++) {
		if (INJECT(in, &ret, cause, SYS_rt_sigtimedwait,
		    inject_scratch(in) + SCR_SET, inject_scratch(in) + SCR_INFO,
		    inject_scratch(in) + SCR_TS, 8) == -1)
			return -1;
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0 && ret != -EINTR)
			return cause_set(cause, "rt_sigtimedwait: %s",
			    strerror(-ret));
		if (ret <= 0 || ret > 64 || (in_image & (1ULL << (ret - 1))))
			continue;
		if (inject_read(in, SCR_INFO, &si, sizeof si, cause) == -1)
			return -1;
		if (ckpt_timer_siginfo(&si))
			continue;
		*kept = xreallocarray(*kept, *nkept + 1, sizeof **kept);
		(*kept)[(*nkept)++] = si;
	}
	return cause_set(cause, "more than %d pending signals", PARK_MAX_DRAIN);
}

/*
 * Its POSIX locks are its deputy's while it is away (plocks.h): it lets go
 * of them here, and the deputy, told it is parked, takes them at once.
 */
static int
park_unlock(struct inject *in, pid_t pid, char **cause)
{
	struct plock	*locks;
	struct flock	 fl;
	size_t		 n, i;
	long		 ret;

	if (plocks_of(pid, &locks, &n, cause) == -1)
		return -1;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	if (n > 0 && inject_write(in, SCR_FLOCK, &fl, sizeof fl, cause) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		/* the whole file: every lock of its on that file goes */
		if (INJECT(in, &ret, cause, SYS_fcntl, locks[i].fd, F_SETLK,
		    inject_scratch(in) + SCR_FLOCK) == -1)
			goto fail;
		if (ret != 0) {
			cause_set(cause, "unlocking fd %d: %s", locks[i].fd,
			    strerror(-ret));
			goto fail;
		}
	}
	free(locks);
	return 0;
fail:
	free(locks);
	return -1;
}

/*
 * Map the park loop into pid (through in) and point its registers at it:
 * rip at the loop, no system call to restart. The mask and the injection
 * area are the caller's to settle. Returns the page in *page.
 */
int
ckpt_park_code(struct inject *in, pid_t pid, uint64_t *page, char **cause)
{
	struct iovec		 lv, rv;
	long			 addr, ret;

	if (INJECT(in, &addr, cause, SYS_mmap, 0, CKPT_PAGE,
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    (uint64_t)-1, 0) == -1)
		return -1;
	if (addr < 0 && addr > -4096)
		return cause_set(cause, "mmap: %s", strerror(-addr));
	lv.iov_base = (void *)park_code;
	lv.iov_len = sizeof park_code;
	rv.iov_base = (void *)addr;
	rv.iov_len = sizeof park_code;
	if (process_vm_writev(pid, &lv, 1, &rv, 1, 0) != sizeof park_code)
		return cause_set(cause, "writing the park code: %s",
		    strerror(errno));
	if (INJECT(in, &ret, cause, SYS_mprotect, addr, CKPT_PAGE,
	    PROT_READ | PROT_EXEC) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "mprotect: %s", strerror(-ret));
	*page = (uint64_t)addr;
	return 0;
}

/* After inject_fini: the registers of the park loop at page. */
int
ckpt_park_regs(pid_t pid, uint64_t page, char **cause)
{
	struct user_regs_struct	regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
	regs.rip = page;
	regs.orig_rax = (uint64_t)-1;
	regs.rax = 0;
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_SETREGS: %s", strerror(errno));
	return 0;
}

int
ckpt_park(pid_t pid, uint64_t in_image, char **cause)
{
	struct inject		*in;
	const siginfo_t		*strays;
	siginfo_t		*kept = NULL;
	size_t			 nkept = 0, nstrays;
	uint64_t		 mask = 0, page;
	char			*why = NULL;
	int			 exited = 0, wstatus;

	if ((in = inject_init(pid, 0, cause)) == NULL)
		return -1;
	/*
	 * Its timers are the image's now: stopped here before the drain, so
	 * that none sends the parked original a signal the guest's timers
	 * send too; a restore into it makes them again.
	 */
	if (ckpt_timers_stop(in, pid, &why) == -1 ||
	    park_drain(in, in_image, &kept, &nkept, &why) == -1 ||
	    park_unlock(in, pid, &why) == -1 ||
	    ckpt_park_code(in, pid, &page, &why) == -1)
		goto fail;
	/*
	 * Signals that came meanwhile were not in the image: they stay, those
	 * the injection dequeued and those kept from the drain.
	 */
	strays = inject_strays(in, &nstrays);
	if (park_requeue(in, pid, strays, nstrays, &why) == -1 ||
	    park_requeue(in, pid, kept, nkept, &why) == -1)
		goto fail;
	free(kept);
	kept = NULL;
	if (inject_fini(in, 0, &why) == -1)
		goto fail;
	inject_free(in);
	in = NULL;

	/*
	 * No restart fix-up (orig_rax -1), straight to the loop. The mask
	 * stays the injection's until it is settled in the signal path, or a
	 * signal would be delivered to it on the way.
	 */
	if (ckpt_park_regs(pid, page, &why) == -1)
		goto fail_free;
	if (inject_settle(pid, &exited, &wstatus, &why) == -1)
		goto fail_free;
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof mask, &mask) == -1 ||
	    ptrace(PTRACE_CONT, pid, 0, 0) == -1)
		return cause_set(cause, "park %ld: resuming: %s", (long)pid,
		    strerror(errno));
	return 0;

fail:
	free(kept);
	if (in != NULL) {
		char	*w2 = NULL;

		if (!inject_exited(in, NULL) && inject_fini(in, 1, &w2) == -1) {
			log_warnx("park %ld: %s", (long)pid, w2);
			free(w2);
		}
		inject_free(in);
	}
fail_free:
	cause_set(cause, "park %ld: %s", (long)pid, why);
	free(why);
	return -1;
}

int
ckpt_bring_prepare(pid_t guest, char **cause)
{
	/*
	 * Asked before the answer: the stop is then pending when the guest
	 * leaves its wait, and it is taken on the way out of the call, with
	 * rax = -ERESTARTNOINTR and orig_rax = the call, before user space
	 * ever sees that value.
	 */
	if (ptrace(PTRACE_INTERRUPT, guest, 0, 0) == -1)
		return cause_set(cause, "PTRACE_INTERRUPT %ld: %s", (long)guest,
		    strerror(errno));
	return 0;
}

/* Wait for pid to end, passing its own signals on to it. */
static int
exit_wait(pid_t pid, int *final, char **cause)
{
	int	st, sig, ev;

	for (;;) {
		if (waitpid(pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return cause_set(cause, "waitpid %ld: %s", (long)pid,
			    strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*final = st;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = st >> 16;
		if (ev != 0 || sig == (SIGTRAP | 0x80))
			sig = 0;
		if (ptrace(PTRACE_CONT, pid, 0, sig) == -1 && errno != ESRCH)
			return cause_set(cause, "PTRACE_CONT %ld: %s", (long)pid,
			    strerror(errno));
	}
}

int
ckpt_exit_as(pid_t pid, int wstatus, int *final, char **cause)
{
	struct inject	*in;
	uint64_t	 act[4] = { 0, 0, 0, 0 }, rl[2] = { 0, 0 }, mask = 0;
	long		 ret;
	char		*why = NULL;
	int		 sig, exited = 0, st;

	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) {
		kill(pid, SIGKILL);
		return exit_wait(pid, final, cause);
	}
	if (!WIFEXITED(wstatus) && !WIFSIGNALED(wstatus))
		return cause_set(cause, "exit %ld: wait status %#x is no end",
		    (long)pid, wstatus);
	if (park_stop(pid, cause) == -1)
		return -1;
	if ((in = inject_init(pid, 0, cause)) == NULL)
		return -1;
	if (WIFEXITED(wstatus)) {
		/* The injection fails as the process ends: that is success. */
		if (INJECT(in, &ret, &why, SYS_exit_group,
		    WEXITSTATUS(wstatus)) == 0 || !inject_exited(in, &st)) {
			inject_free(in);
			cause_set(cause, "exit %ld: exit_group: %s", (long)pid,
			    why != NULL ? why : "returned");
			free(why);
			return -1;
		}
		free(why);
		inject_free(in);
		*final = st;
		return 0;
	}
	/* The default action, wherever its handler pointed; no core here. */
	sig = WTERMSIG(wstatus);
	if (inject_write(in, SCR_ACT, act, sizeof act, &why) == -1 ||
	    inject_write(in, SCR_RLIM, rl, sizeof rl, &why) == -1 ||
	    INJECT(in, &ret, &why, SYS_prlimit64, 0, RLIMIT_CORE,
	    inject_scratch(in) + SCR_RLIM, 0) == -1 ||
	    INJECT(in, &ret, &why, SYS_rt_sigaction, sig,
	    inject_scratch(in) + SCR_ACT, 0, 8) == -1 ||
	    inject_fini(in, 1, &why) == -1)
		goto fail;
	inject_free(in);
	in = NULL;
	if (inject_settle(pid, &exited, &st, &why) == -1) {
		if (exited) {
			free(why);
			*final = st;
			return 0;
		}
		goto fail;
	}
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof mask, &mask) == -1 ||
	    syscall(SYS_tgkill, pid, pid, sig) == -1 ||
	    ptrace(PTRACE_CONT, pid, 0, 0) == -1) {
		cause_set(&why, "delivering signal %d: %s", sig, strerror(errno));
		goto fail;
	}
	return exit_wait(pid, final, cause);

fail:
	if (in != NULL && inject_exited(in, &st)) {
		inject_free(in);
		free(why);
		*final = st;
		return 0;
	}
	inject_free(in);
	cause_set(cause, "exit %ld: %s", (long)pid, why);
	free(why);
	return -1;
}
