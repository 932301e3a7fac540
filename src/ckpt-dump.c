/*
 * ckpt-dump.c: checkpoint an x86-64 process into an image.
 *
 * The tracee is interrupted (PTRACE_INTERRUPT) into a stop inside the
 * kernel's signal path. Its registers, signal state, task state and fds are
 * read there, partly by injected system calls (inject.c); then its memory is
 * read with process_vm_readv in big batches and streamed out through the
 * image writer. Its other threads are stopped with it and read by
 * ckpt-threads.c. It is left in a signal-path stop again with its own
 * registers, so resuming it lets the kernel restart an interrupted system
 * call exactly as if nothing had happened.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kcmp.h>
#include <linux/membarrier.h>

#include "omm/ckpt.h"
#include "omm/image.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/selfsig.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

#define DUMP_BATCH	IMG_PAGES_PER_SECTION	/* pages read and written at once */
#define DUMP_PM_CHUNK	8192			/* pagemap entries per pread */
#define DUMP_SLOTS	3			/* sections in flight to the writer */
#define PROBE_LEN	64			/* bytes read to see a page is not zero */

/* Offsets in the injection scratch pages. */
#define SCR_SIGACT	0		/* 64 kernel sigactions of 32 bytes */
#define SCR_ALTSTACK	2048		/* stack_t, 24 bytes */
#define SCR_TIDADDR	2112		/* u64 */
#define SCR_SIGINFO	2176		/* siginfo_t, 128 bytes */

struct dump {
	pid_t			 pid;
	int			 flags;
	const struct ckpt_opts	*opts;
	struct ckpt_stats	*stats;
	struct img		 img;
	struct inject		*in;
	struct user_regs_struct	 regs;		/* as interrupted */
	siginfo_t		*caught;	/* dequeued while interrupting */
	size_t			 ncaught;
	struct ckpt_thread	*threads;	/* the others, stopped too */
	size_t			 nthreads;
	int			 stopped;	/* we hold it in a stop */
	int			 memfd;		/* /proc/PID/mem */
	int			 pmfd;		/* /proc/PID/pagemap */
	uint64_t		*addrs;		/* pages to store, ascending */
	size_t			 naddrs, caddrs;
	double			 read_secs;	/* reading pages to write, for -v */
};

static int
dump_fail_errno(char **cause, const char *what)
{
	return cause_set(cause, "%s: %s", what, strerror(errno));
}

int
ckpt_interrupt(pid_t pid, siginfo_t **caught, size_t *ncaught,
    struct ckpt_stats *stats, char **cause)
{
	siginfo_t	si;
	int		st, sig, ev;

	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1)
		return dump_fail_errno(cause, "PTRACE_INTERRUPT");
	for (;;) {
		if (waitpid(pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return dump_fail_errno(cause, "waitpid");
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			stats->exited = 1;
			stats->wstatus = st;
			return cause_set(cause, "process exited");
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		ev = st >> 16;
		if (ev == PTRACE_EVENT_STOP) {
			if (sig == SIGTRAP)
				return 0;
			/* A group-stopped tracee reports its stop signal. */
			ptrace(PTRACE_LISTEN, pid, 0, 0);
			return cause_set(cause, "stopped by signal SIG%s "
			    "(group-stop)", sigabbrev_np(sig) != NULL ?
			    sigabbrev_np(sig) : "?");
		}
		if (ev == 0 && sig != (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == -1)
				return dump_fail_errno(cause, "PTRACE_GETSIGINFO");
			if (caught != NULL) {
				*caught = xreallocarray(*caught, *ncaught + 1,
				    sizeof **caught);
				(*caught)[(*ncaught)++] = si;
			}
		}
		/* That stop consumed the interrupt: ask again before resuming. */
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1 ||
		    ptrace(PTRACE_CONT, pid, 0, 0) == -1)
			return dump_fail_errno(cause, "resuming to interrupt");
	}
}

/* Queue a signal to the tracee itself, as it would: any si_code is allowed. */
static int
dump_requeue(struct dump *d, const siginfo_t *si0, char **cause)
{
	siginfo_t	one = *si0, *si = &one;
	long		ret;

	/* the process queues it itself: a marked one can be what it stands for */
	selfsig_unmark(d->opts->selfsig, si);
	if (inject_write(d->in, SCR_SIGINFO, si, sizeof *si, cause) == -1)
		return -1;
	if (INJECT(d->in, &ret, cause, SYS_rt_tgsigqueueinfo, d->pid, d->pid,
	    si->si_signo, inject_scratch(d->in) + SCR_SIGINFO) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "re-queueing signal %d: %s", si->si_signo,
		    strerror(-ret));
	return 0;
}

/* A signal for the image's pending list only: the process dies after. */
static void
dump_add_pending(struct dump *d, const siginfo_t *si0)
{
	struct img_signals	*s = &d->img.sig;
	siginfo_t		 one = *si0, *si = &one;

	selfsig_unmark(d->opts->selfsig, si);

	if (s->npending >= IMG_MAX_PENDING) {
		log_warnx("pid %ld: signal %d dropped: more than %d pending",
		    (long)d->pid, si->si_signo, IMG_MAX_PENDING);
		return;
	}
	s->pending = xreallocarray(s->pending, s->npending + 1,
	    sizeof *s->pending);
	s->pending[s->npending].shared = 0;
	memcpy(s->pending[s->npending].raw, si, 128);
	s->npending++;
	if (si->si_signo >= 1 && si->si_signo <= 64)
		d->stats->sig_pending |= 1ULL << (si->si_signo - 1);
}

static int
dump_inject_begin(struct dump *d, char **cause)
{
	size_t	i;

	if ((d->in = inject_init(d->pid, 0, cause)) == NULL)
		return -1;
	if (d->opts->inject_area != NULL)
		d->opts->inject_area(inject_area(d->in), d->opts->arg);
	/*
	 * A process killed after the dump takes them in the image only
	 * (dump_signals): queueing them again is a call a guest's seccomp
	 * filter would hold for the very supervisor that is dumping it.
	 */
	if (d->flags & CKPT_KILL)
		return 0;
	/* Back into the queue: they are then pending like any other signal. */
	for (i = 0; i < d->ncaught; i++) {
		if (dump_requeue(d, &d->caught[i], cause) == -1)
			return -1;
	}
	d->ncaught = 0;
	return 0;
}

/* dump_add_pending, unless the very same siginfo is there already. */
static void
dump_add_pending_once(struct dump *d, const siginfo_t *si0)
{
	siginfo_t	one = *si0, *si = &one;
	uint32_t	i;

	selfsig_unmark(d->opts->selfsig, si);
	for (i = 0; i < d->img.sig.npending; i++) {
		if (memcmp(d->img.sig.pending[i].raw, si, 128) == 0)
			return;
	}
	dump_add_pending(d, si);
}

static int
dump_inject_end(struct dump *d, char **cause)
{
	const siginfo_t	*strays;
	siginfo_t	*traps;
	uint64_t	 mask;
	size_t		 n, i, ntraps = 0;
	int		 rv = -1;

	/*
	 * Signals the injection dequeued (a SIGTRAP: the one signal it leaves
	 * unblocked) were pending in the process: the image has them, and a
	 * process that lives on gets them back. A SIGTRAP queued by an
	 * injected call would only come back at the next one: it goes back
	 * from outside once the injection is over (inject_requeue).
	 */
	strays = inject_strays(d->in, &n);
	traps = n == 0 ? NULL : xcalloc(n, sizeof *traps);
	for (i = 0; i < n; i++) {
		dump_add_pending_once(d, &strays[i]);
		if (d->flags & CKPT_KILL)
			continue;
		if (strays[i].si_signo == SIGTRAP)
			traps[ntraps++] = strays[i];
		else if (dump_requeue(d, &strays[i], cause) == -1)
			goto out;
	}
	mask = inject_saved_mask(d->in);
	rv = inject_fini(d->in, 1, cause);
	if (inject_exited(d->in, &d->stats->wstatus))
		d->stats->exited = 1;
	inject_free(d->in);
	d->in = NULL;
	if (rv == -1)
		goto out;
	rv = -1;
	/* From the syscall-exit stop of the unmap back into the signal path. */
	if (inject_settle(d->pid, &d->stats->exited, &d->stats->wstatus,
	    cause) == -1)
		goto out;
	for (i = 0; i < ntraps; i++) {
		if (inject_requeue(d->pid, &traps[i], 0, mask, &d->stats->exited,
		    &d->stats->wstatus, cause) == -1)
			goto out;
	}
	rv = 0;
out:
	free(traps);
	return rv;
}

/*
 * The registers as interrupted. A system call cut short shows rax =
 * -ERESTART* with orig_rax its number; that is kept as is so that restore
 * can resume in the signal path and let the kernel decide, as it would have,
 * between restarting the call and -EINTR for a handler. Only
 * -ERESTART_RESTARTBLOCK is rewritten: its restart block is kernel state we
 * cannot carry, so it becomes -ERESTARTNOHAND, which restarts the original
 * call with its original arguments (nanosleep wrote the remaining time
 * back into them already) and reports -EINTR to a handler, as it did.
 */
static int
dump_regs(struct dump *d, char **cause)
{
	struct user_regs_struct	 r;
	struct iovec		 iov;
	uint8_t			*xs;

	iov.iov_base = &d->regs;
	iov.iov_len = sizeof d->regs;
	if (ptrace(PTRACE_GETREGSET, d->pid, NT_PRSTATUS, &iov) == -1)
		return dump_fail_errno(cause, "PTRACE_GETREGSET NT_PRSTATUS");
	r = d->regs;
	if ((int64_t)r.orig_rax >= 0 &&
	    (int64_t)r.rax == -CKPT_ERESTART_RESTARTBLOCK)
		r.rax = (uint64_t)-CKPT_ERESTARTNOHAND;
	memcpy(d->img.regs.gpr, &r, sizeof d->img.regs.gpr);

	xs = xmalloc(IMG_MAX_XSTATE);
	iov.iov_base = xs;
	iov.iov_len = IMG_MAX_XSTATE;
	if (ptrace(PTRACE_GETREGSET, d->pid, NT_X86_XSTATE, &iov) == -1) {
		free(xs);
		return dump_fail_errno(cause, "PTRACE_GETREGSET NT_X86_XSTATE");
	}
	d->img.regs.xstate = xs;
	d->img.regs.xstate_len = iov.iov_len;
	return 0;
}

static int
dump_peek_pending(struct dump *d, int shared, char **cause)
{
	struct __ptrace_peeksiginfo_args	 a;
	siginfo_t				 si[32];
	struct img_signals			*s = &d->img.sig;
	long					 n, i;

	a.off = 0;
	a.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0;
	a.nr = 32;
	for (;;) {
		n = ptrace(PTRACE_PEEKSIGINFO, d->pid, &a, si);
		if (n == -1)
			return dump_fail_errno(cause, "PTRACE_PEEKSIGINFO");
		if (n == 0)
			return 0;
		if (s->npending + n > IMG_MAX_PENDING)
			return cause_set(cause, "more than %d pending signals",
			    IMG_MAX_PENDING);
		s->pending = xreallocarray(s->pending, s->npending + n,
		    sizeof *s->pending);
		for (i = 0; i < n; i++) {
			s->pending[s->npending].shared = shared;
			selfsig_unmark(d->opts->selfsig, &si[i]);
			memcpy(s->pending[s->npending].raw, &si[i], 128);
			s->npending++;
			/* the image holds it: a park must not pass it on too */
			if (si[i].si_signo >= 1 && si[i].si_signo <= 64)
				d->stats->sig_pending |= 1ULL <<
				    (si[i].si_signo - 1);
		}
		a.off += n;
	}
}

/*
 * Pending signals and timers, one consistent instant of both: timers go on
 * while the process is stopped, and one that went off between reading the
 * queue and reading it would be lost (its signal in no image, its time
 * already reloaded) or doubled. So the timers are read before and after
 * the queue, and all three again until no timer went off in between.
 */
static int
dump_pending_timers(struct dump *d, char **cause)
{
	struct img_timers	before;
	int			try;

	for (try = 0; ; try++) {
		if (ckpt_timers_read(d->in, d->pid, &before, cause) == -1)
			return -1;
		d->img.sig.npending = 0;
		if (dump_peek_pending(d, 0, cause) == -1 ||
		    dump_peek_pending(d, 1, cause) == -1 ||
		    ckpt_timers_read(d->in, d->pid, &d->img.timers, cause) == -1) {
			free(before.t);
			return -1;
		}
		if (!ckpt_timers_expired(&before, &d->img.timers))
			break;
		free(before.t);
		free(d->img.timers.t);
		memset(&d->img.timers, 0, sizeof d->img.timers);
		if (try + 1 == ckpt_timers_tries())
			return cause_set(cause, "timers: one went off between "
			    "every two of %d reads (a timer faster than a dump "
			    "can read it)", ckpt_timers_tries());
	}
	free(before.t);
	return 0;
}

static int
dump_signals(struct dump *d, char **cause)
{
	struct img_signals	*s = &d->img.sig;
	uint8_t			 raw[SCR_ALTSTACK + 24];
	size_t			 i;
	long			 ret;
	int			 sig;

	s->blocked = inject_saved_mask(d->in);
	if (dump_pending_timers(d, cause) == -1)
		return -1;
	if (d->flags & CKPT_KILL) {
		for (i = 0; i < d->ncaught; i++)
			dump_add_pending(d, &d->caught[i]);
	}
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (INJECT(d->in, &ret, cause, SYS_rt_sigaction, sig, 0,
		    inject_scratch(d->in) + SCR_SIGACT + (sig - 1) * 32, 8) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "rt_sigaction(%d): %s", sig,
			    strerror(-ret));
	}
	if (INJECT(d->in, &ret, cause, SYS_sigaltstack, 0,
	    inject_scratch(d->in) + SCR_ALTSTACK) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "sigaltstack: %s", strerror(-ret));
	if (inject_read(d->in, 0, raw, sizeof raw, cause) == -1)
		return -1;
	for (sig = 1; sig <= 64; sig++) {
		const uint8_t	*p = raw + SCR_SIGACT + (sig - 1) * 32;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* struct kernel_sigaction: handler, flags, restorer, mask */
		memcpy(&s->act[sig - 1].handler, p, 8);
		memcpy(&s->act[sig - 1].flags, p + 8, 8);
		memcpy(&s->act[sig - 1].restorer, p + 16, 8);
		memcpy(&s->act[sig - 1].mask, p + 24, 8);
	}
	/* stack_t: ss_sp, int ss_flags (+4 padding), ss_size */
	memcpy(&s->ss_sp, raw + SCR_ALTSTACK, 8);
	memcpy(&s->ss_flags, raw + SCR_ALTSTACK + 8, 4);
	memcpy(&s->ss_size, raw + SCR_ALTSTACK + 16, 8);
	return 0;
}

/* Every other thread: its registers, signals and registrations. */
static int
dump_threads(struct dump *d, char **cause)
{
	return ckpt_threads_dump(d->pid, d->in, d->threads, d->nthreads,
	    &d->img, (d->flags & CKPT_KILL) != 0, d->stats, cause);
}

/* Supplementary groups, from the Groups line of /proc/PID/status. */
static int
dump_groups(struct dump *d, char **cause)
{
	struct img_proc	*p = &d->img.proc;
	char		*text;
	int		 rv;

	if (procfs_slurp(d->pid, "status", &text, NULL, cause) == -1)
		return -1;
	p->groups = xcalloc(IMG_MAX_GROUPS, sizeof *p->groups);
	rv = procfs_groups_parse(text, p->groups, IMG_MAX_GROUPS, &p->ngroups,
	    cause);
	free(text);
	return rv;
}

/*
 * mlockall(MCL_FUTURE) shows nowhere in /proc but on the mappings made
 * after it: the process maps one page (injected), smaps says whether it
 * came locked ("lo") and on fault ("lf"), and it goes again.
 */
static int
dump_mlockall(struct dump *d, char **cause)
{
	struct procfs_vma	*pv;
	size_t			 n, i;
	long			 addr, ret;
	int			 rv = -1;

	if (INJECT(d->in, &addr, cause, SYS_mmap, 0, CKPT_PAGE, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0) == -1)
		return -1;
	if (addr < 0 && addr > -4096)
		return cause_set(cause, "mapping a probe page: %s",
		    strerror((int)-addr));
	if (procfs_maps(d->pid, 1, &pv, &n, cause) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if ((uint64_t)addr < pv[i].start || (uint64_t)addr >= pv[i].end)
			continue;
		if (pv[i].vmflags & PROCFS_VMF_LO)
			d->img.proc.mlockall = IMG_MCL_FUTURE |
			    ((pv[i].vmflags & PROCFS_VMF_LF) ? IMG_MCL_ONFAULT : 0);
	}
	procfs_vmas_free(pv, n);
	rv = 0;
out:
	if (INJECT(d->in, &ret, cause, SYS_munmap, addr, CKPT_PAGE) == -1)
		return -1;
	return rv;
}

/*
 * membarrier registrations: MEMBARRIER_CMD_QUERY tells what the kernel
 * offers, not what the process registered; a private expedited command
 * does (EPERM unregistered) and costs nothing to a single-threaded
 * process. (GLOBAL_EXPEDITED's registration cannot be asked: see
 * restore_membarrier.)
 */
static const struct {
	int		cmd;
	uint32_t	bit;
} membarrier_table[] = {
	{ MEMBARRIER_CMD_PRIVATE_EXPEDITED, IMG_MEMBARRIER_PRIVATE_EXPEDITED },
	{ MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, IMG_MEMBARRIER_SYNC_CORE },
	{ MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, IMG_MEMBARRIER_RSEQ },
};

static int
dump_membarrier(struct dump *d, char **cause)
{
	size_t	k;
	long	ret;

	for (k = 0; k < sizeof membarrier_table / sizeof membarrier_table[0];
	    k++) {
		if (INJECT(d->in, &ret, cause, SYS_membarrier,
		    membarrier_table[k].cmd, 0, 0) == -1)
			return -1;
		if (ret == 0)
			d->img.proc.membarrier |= membarrier_table[k].bit;
		else if (ret != -EPERM && ret != -EINVAL && ret != -ENOSYS)
			return cause_set(cause, "membarrier %d: %s",
			    membarrier_table[k].cmd, strerror((int)-ret));
	}
	return 0;
}

/* Rlimits from /proc/PID/limits: one line per resource, in RLIMIT_* order. */
static int
dump_limits_proc(pid_t pid, struct img_proc *p, char **cause)
{
	char		*text, *line, *save = NULL;
	int		 i = -1;
	char		 soft[32], hard[32];
	const char	*cols;

	if (procfs_slurp(pid, "limits", &text, NULL, cause) == -1)
		return -1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		if (i < 0)
			continue;	/* header */
		if (i >= IMG_NRLIMITS)
			break;
		if (strlen(line) < 26 ||
		    sscanf(line + 26, "%31s %31s", soft, hard) != 2)
			break;
		cols = soft;
		p->rlim[i].cur = strcmp(cols, "unlimited") == 0 ?
		    RLIM_INFINITY : strtoull(cols, NULL, 10);
		p->rlim[i].max = strcmp(hard, "unlimited") == 0 ?
		    RLIM_INFINITY : strtoull(hard, NULL, 10);
	}
	free(text);
	if (i < RLIM_NLIMITS)
		return cause_set(cause, "/proc/%ld/limits: %d limits, expected %d",
		    (long)pid, i < 0 ? 0 : i, RLIM_NLIMITS);
	return 0;
}

static int
dump_proc(struct dump *d, char **cause)
{
	struct img_proc		*p = &d->img.proc;
	struct procfs_status	 status;
	struct procfs_stat	 st;
	struct ckpt_rseq_conf	 rseq;
	struct rlimit		 rl;
	char			*text, *nl;
	size_t			 len;
	long			 ret;
	int			 i;

	p->pid = d->pid;
	if (procfs_status(d->pid, &status, cause) == -1 ||
	    procfs_stat(d->pid, &st, cause) == -1)
		return -1;
	p->uid = status.uid[0];
	p->gid = status.gid[0];
	p->umask = status.has_umask ? status.umask : 022;
	p->start_code = st.start_code;
	p->end_code = st.end_code;
	p->start_data = st.start_data;
	p->end_data = st.end_data;
	p->start_brk = st.start_brk;
	p->start_stack = st.start_stack;
	p->arg_start = st.arg_start;
	p->arg_end = st.arg_end;
	p->env_start = st.env_start;
	p->env_end = st.env_end;

	if (procfs_slurp(d->pid, "comm", &text, NULL, cause) == -1)
		return -1;
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	snprintf(p->comm, sizeof p->comm, "%s", text);
	free(text);
	if (procfs_slurp(d->pid, "cmdline", &text, &len, cause) == -1)
		return -1;
	p->cmdline = procfs_cmdline_join(text, len);
	free(text);
	if (procfs_link(d->pid, "exe", &p->exe, cause) == -1)
		return -1;
	if (procfs_link(d->pid, "cwd", &p->cwd, cause) == -1)
		return -1;
	len = strlen(p->cwd);
	if (p->cwd[0] != '/' || (len > 10 && strcmp(p->cwd + len - 10,
	    " (deleted)") == 0))
		return cause_set(cause, "working directory %s is gone", p->cwd);
	if (procfs_slurp(d->pid, "personality", &text, NULL, cause) == -1)
		return -1;
	if (procfs_personality_parse(text, &p->personality, cause) == -1) {
		free(text);
		return -1;
	}
	free(text);
	for (i = 0; i < IMG_NRLIMITS && i < RLIM_NLIMITS; i++) {
		if (prlimit(d->pid, i, NULL, &rl) == -1) {
			/*
			 * prlimit on another user's process needs
			 * CAP_SYS_RESOURCE, which a root without it lacks;
			 * /proc/PID/limits says the same to any tracer.
			 */
			if (errno != EPERM)
				return cause_set(cause, "prlimit(%d): %s", i,
				    strerror(errno));
			if (dump_limits_proc(d->pid, p, cause) == -1)
				return -1;
			break;
		}
		p->rlim[i].cur = rl.rlim_cur;
		p->rlim[i].max = rl.rlim_max;
	}
	if (procfs_auxv(d->pid, p->auxv, IMG_MAX_AUXV, &p->auxv_n, cause) == -1)
		return -1;

	if (ptrace(CKPT_PTRACE_GET_RSEQ_CONFIGURATION, d->pid, sizeof rseq,
	    &rseq) == -1) {
		if (errno != EIO && errno != EINVAL)
			return dump_fail_errno(cause,
			    "PTRACE_GET_RSEQ_CONFIGURATION");
		memset(&rseq, 0, sizeof rseq);
	}
	p->rseq_addr = rseq.rseq_abi_pointer;
	p->rseq_len = rseq.rseq_abi_size;
	p->rseq_sig = rseq.signature;
	{
		void	*head = NULL;
		size_t	 hlen = 0;

		if (syscall(SYS_get_robust_list, d->pid, &head, &hlen) == -1)
			return dump_fail_errno(cause, "get_robust_list");
		p->robust_list = (uint64_t)head;
		p->robust_len = hlen;
	}

	if (dump_groups(d, cause) == -1 ||
	    dump_mlockall(d, cause) == -1 ||
	    dump_membarrier(d, cause) == -1)
		return -1;
	/* The current break is only known to the process itself: brk(0). */
	if (INJECT(d->in, &ret, cause, SYS_brk, 0) == -1)
		return -1;
	p->brk = (uint64_t)ret;
	if (INJECT(d->in, &ret, cause, SYS_prctl, PR_GET_TID_ADDRESS,
	    inject_scratch(d->in) + SCR_TIDADDR) == -1)
		return -1;
	if (ret == 0) {
		if (inject_read(d->in, SCR_TIDADDR, &p->clear_tid, 8, cause) == -1)
			return -1;
	} else
		log_debug("pid %ld: PR_GET_TID_ADDRESS: %s", (long)d->pid,
		    strerror(-ret));
	return 0;
}

/*
 * fds that share one open file description (dup(), "cmd >out 2>&1") share
 * one offset: two reopened files would overwrite each other's output.
 * kcmp tells; each such fd names the lowest one it shares with.
 */
static void
dump_fd_sharing(struct dump *d)
{
	struct img_fd	*f, *g;
	uint32_t	 i, j;
	long		 r;

	for (i = 0; i < d->img.nfds; i++) {
		f = &d->img.fds[i];
		if (f->kind == IMG_FD_STDIO || f->kind == IMG_FD_PIPE)
			continue;
		for (j = 0; j < i; j++) {
			g = &d->img.fds[j];
			if (g->kind != f->kind || g->dev != f->dev || g->ino != f->ino ||
			    g->shared_with != 0)
				continue;
			r = syscall(SYS_kcmp, d->pid, d->pid, KCMP_FILE, g->fd, f->fd);
			if (r == -1) {
				log_debug("pid %ld: kcmp: %s", (long)d->pid,
				    strerror(errno));
				return;
			}
			if (r == 0) {
				f->shared_with = (uint32_t)g->fd + 1;
				break;
			}
		}
	}
}

static int
dump_fds(struct dump *d, char **cause)
{
	struct procfs_fdinfo	 fi;
	struct ckpt_pipe_end	*ends = NULL;
	struct stat		 st;
	struct img_fd		*f;
	enum img_fd_kind	 kind;
	char			 name[64], *link;
	int			*fds, how, rv;
	size_t			 n, i, nends = 0;
	uint32_t		 j;
	uint64_t		 data_total = 0;

	/* A migrating process keeps its descriptors home. */
	if (d->flags & CKPT_MIGRATE)
		return 0;
	if (procfs_fds(d->pid, &fds, &n, cause) == -1)
		return -1;
	if (n > IMG_MAX_FDS) {
		free(fds);
		return cause_set(cause, "%zu fds, more than %d", n, IMG_MAX_FDS);
	}
	d->img.fds = n == 0 ? NULL : xcalloc(n, sizeof *d->img.fds);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "fd/%d", fds[i]);
		if (procfs_link(d->pid, name, &link, cause) == -1)
			goto fail;
		snprintf(name, sizeof name, "/proc/%ld/fd/%d", (long)d->pid, fds[i]);
		if (stat(name, &st) == -1) {
			cause_set(cause, "fd %d: %s: %s", fds[i], link, strerror(errno));
			free(link);
			goto fail;
		}
		if (procfs_fdinfo(d->pid, fds[i], &fi, cause) == -1 ||
		    ckpt_fd_kind(fds[i], link, &st, fi.flags, &kind,
		    cause) == -1) {
			free(link);
			goto fail;
		}
		if (fi.flags & O_ASYNC) {
			cause_set(cause, "fd %d: %s: signal-driven I/O (O_ASYNC) "
			    "is not carried", fds[i], link);
			free(link);
			goto fail;
		}
		f = &d->img.fds[d->img.nfds++];
		f->fd = fds[i];
		f->kind = kind;
		f->flags = fi.flags;
		f->cloexec = (fi.flags & O_CLOEXEC) != 0;
		f->pos = fi.pos;
		f->mode = st.st_mode;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->size = st.st_size;
		if (kind == IMG_FD_PIPE) {
			ends = xreallocarray(ends, nends + 1, sizeof *ends);
			ends[nends].fd = f->fd;
			ends[nends].ino = st.st_ino;
			ends[nends].write = (fi.flags & O_ACCMODE) == O_WRONLY;
			nends++;
		}
		if (kind >= IMG_FD_EVENTFD) {
			/* content once per file: later fds reopen the first */
			how = CKPT_FDD_CARRIER | CKPT_FDD_READ;
			for (j = 0; j + 1 < d->img.nfds; j++) {
				if (d->img.fds[j].kind == kind &&
				    d->img.fds[j].dev == f->dev &&
				    d->img.fds[j].ino == f->ino)
					how = 0;
			}
			rv = ckpt_fd_details(d->pid, f, link, how, cause);
			free(link);
			if (rv == -1)
				goto fail;
			if (f->datalen > IMG_MAX_FDDATA - data_total) {
				cause_set(cause, "fd %d: %s: more than the %u MiB "
				    "of file content an image carries, with the "
				    "fds before it", f->fd, f->path,
				    IMG_MAX_FDDATA >> 20);
				goto fail;
			}
			data_total += f->datalen;
		} else if (kind == IMG_FD_STDIO || kind == IMG_FD_PIPE)
			free(link);
		else
			f->path = link;
	}
	if (nends > 0 && ckpt_pipes_check(d->pid, ends, nends, cause) == -1)
		goto fail;
	dump_fd_sharing(d);
	free(ends);
	free(fds);
	return 0;
fail:
	free(ends);
	free(fds);
	return -1;
}

/* Pages are zero unless some word is not: most non-zero pages exit early. */
static int
page_is_zero(const uint8_t *p)
{
	const uint64_t	*w = (const uint64_t *)p;
	uint64_t	 acc;
	size_t		 i, j;

	for (i = 0; i < CKPT_PAGE / 8; i += 32) {
		acc = 0;
		for (j = 0; j < 32; j++)
			acc |= w[i + j];
		if (acc != 0)
			return 0;
	}
	return 1;
}

/* Read n pages of one mapping: ckpt_read_pages on the dump's tracee. */
static int
read_pages(struct dump *d, const uint64_t *addrs, size_t n, uint8_t *buf,
    int readable, char **cause)
{
	return ckpt_read_pages(d->pid, d->memfd, addrs, n, buf, readable, cause);
}

/* Which pagemap entries of a mapping hold content the image must carry. */
static int
page_wanted(const struct img_vma *v, uint64_t pm, int full)
{
	if (pm & PM_SWAP)
		return 1;
	if (!(pm & PM_PRESENT))
		return 0;
	if (!(v->flags & IMG_VMA_FILE) || full)
		return 1;
	return !(pm & PM_FILE);		/* a private (COW) copy */
}

static void
add_addr(struct dump *d, uint64_t a)
{
	if (d->naddrs == d->caddrs) {
		d->caddrs = d->caddrs == 0 ? 4096 : d->caddrs * 2;
		d->addrs = xreallocarray(d->addrs, d->caddrs, sizeof *d->addrs);
	}
	d->addrs[d->naddrs++] = a;
}

/*
 * Which of cand[0..n) are not all zeros, into keep[]. A zero check needs
 * the data, and reading every page twice (here and when writing) costs
 * about as much as writing it; so first only the start of each page is
 * read (one iovec of PROBE_LEN per page) and only pages that start with
 * zeros are read whole. probe and buf are the caller's (one per thread).
 */
static int
filter_zero(struct dump *d, const uint64_t *cand, size_t n, int readable,
    uint8_t *probe, uint8_t *buf, uint8_t *keep, char **cause)
{
	struct iovec	 local, remote[DUMP_BATCH];
	uint64_t	 zc[DUMP_BATCH];
	size_t		 i, j, nz = 0;
	ssize_t		 got = -1;

	if (readable) {
		for (i = 0; i < n; i++) {
			remote[i].iov_base = (void *)cand[i];
			remote[i].iov_len = PROBE_LEN;
		}
		local.iov_base = probe;
		local.iov_len = n * PROBE_LEN;
		got = process_vm_readv(d->pid, &local, 1, remote, n, 0);
	}
	for (i = 0; i < n; i++) {
		const uint64_t	*w = (const uint64_t *)(probe + i * PROBE_LEN);

		keep[i] = got == (ssize_t)(n * PROBE_LEN) &&
		    (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0;
		if (!keep[i])
			zc[nz++] = cand[i];
	}
	if (nz > 0 && read_pages(d, zc, nz, buf, readable, cause) == -1)
		return -1;
	for (i = 0, j = 0; i < n; i++) {
		if (!keep[i])
			keep[i] = !page_is_zero(buf + j++ * CKPT_PAGE);
	}
	return 0;
}

/* The zero check over all candidates, shared by two threads. */
struct zscan {
	struct dump	*d;
	struct zjob {
		size_t	first, n;
		int	readable;
	}		*jobs;
	size_t		 njobs;
	size_t		 next;		/* next job, taken atomically */
	uint8_t		*keep;		/* per candidate of d->addrs */
	pthread_mutex_t	 lock;
	int		 failed;
	char		*cause;
};

static void *
zscan_run(void *p)
{
	struct zscan	*z = p;
	struct zjob	*job;
	uint8_t		*probe, *buf;
	char		*why = NULL;
	size_t		 j;

	probe = xmalloc(DUMP_BATCH * PROBE_LEN);
	buf = xmalloc(DUMP_BATCH * CKPT_PAGE);
	while ((j = __atomic_fetch_add(&z->next, 1, __ATOMIC_RELAXED)) <
	    z->njobs) {
		job = &z->jobs[j];
		if (filter_zero(z->d, &z->d->addrs[job->first], job->n,
		    job->readable, probe, buf, z->keep + job->first, &why) == 0)
			continue;
		pthread_mutex_lock(&z->lock);
		if (!z->failed) {
			z->failed = 1;
			z->cause = why;
		} else
			free(why);
		pthread_mutex_unlock(&z->lock);
		__atomic_store_n(&z->next, z->njobs, __ATOMIC_RELAXED);
		break;
	}
	free(probe);
	free(buf);
	return NULL;
}

/*
 * Keep the candidates (d->addrs, first[i] and count[i] for vma i) that
 * are not zero, counting pages per vma. The probes cost about a
 * microsecond a page (a page-table walk each), so a second thread halves
 * the freeze for big processes.
 */
static int
dump_filter(struct dump *d, const size_t *first, const size_t *count,
    char **cause)
{
	struct zscan	 z;
	pthread_t	 t;
	struct img_vma	*v;
	size_t		 i, c, w = 0, off;
	int		 threaded;

	memset(&z, 0, sizeof z);
	z.d = d;
	z.keep = xmalloc(d->naddrs ? d->naddrs : 1);
	pthread_mutex_init(&z.lock, NULL);
	for (i = 0; i < d->img.nvmas; i++) {
		for (off = 0; off < count[i]; off += DUMP_BATCH) {
			z.jobs = xreallocarray(z.jobs, z.njobs + 1, sizeof *z.jobs);
			z.jobs[z.njobs].first = first[i] + off;
			z.jobs[z.njobs].n = count[i] - off < DUMP_BATCH ?
			    count[i] - off : DUMP_BATCH;
			z.jobs[z.njobs].readable =
			    (d->img.vmas[i].prot & PROT_READ) != 0;
			z.njobs++;
		}
	}
	threaded = z.njobs > 1 && pthread_create(&t, NULL, zscan_run, &z) == 0;
	zscan_run(&z);
	if (threaded)
		pthread_join(t, NULL);
	pthread_mutex_destroy(&z.lock);
	free(z.jobs);
	if (z.failed) {
		free(z.keep);
		if (cause != NULL)
			*cause = z.cause;
		else
			free(z.cause);
		return -1;
	}
	/* Compact in place: the kept ones never move up. */
	for (i = 0; i < d->img.nvmas; i++) {
		v = &d->img.vmas[i];
		for (c = first[i]; c < first[i] + count[i]; c++) {
			if (z.keep[c]) {
				d->addrs[w++] = d->addrs[c];
				v->npages++;
			} else
				d->stats->zero_pages++;
		}
	}
	d->naddrs = w;
	free(z.keep);
	return 0;
}

/*
 * The shared zero page's frame number, when pagemap shows frame numbers to
 * us (CAP_SYS_ADMIN) and the kernel maps read faults of anonymous memory to
 * it: a page mapped to it was only ever read, and is skipped without
 * reading it. 0 when unknown, and then every present page is read.
 *
 * Not every kernel maps a read fault to the zero page: some give each one
 * a fresh page of its own. The frame of such a page, once freed, goes to
 * the next allocation, very likely a page of the very process we dump, and
 * taking it for the zero page would drop that page from the image. So the
 * frame counts only if two separate read faults got the same one and
 * pagemap calls neither mapped exclusively (the zero page is no one's).
 */
static uint64_t
zero_pfn(void)
{
	static int	 known;
	static uint64_t	 pfn;
	volatile char	*p;
	uint64_t	 e[2];
	int		 fd;

	if (known)
		return pfn;
	known = 1;
	p = mmap(NULL, 2 * CKPT_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return 0;
	(void)p[0];
	(void)p[CKPT_PAGE];
	if ((fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) != -1) {
		if (pread(fd, e, sizeof e, (off_t)((uint64_t)p / CKPT_PAGE * 8)) ==
		    (ssize_t)sizeof e && (e[0] & PM_PRESENT) &&
		    (e[1] & PM_PRESENT) && !((e[0] | e[1]) & PM_EXCLUSIVE) &&
		    (e[0] & PM_PFN_MASK) != 0 &&
		    (e[0] & PM_PFN_MASK) == (e[1] & PM_PFN_MASK))
			pfn = e[0] & PM_PFN_MASK;
		close(fd);
	}
	munmap((void *)p, 2 * CKPT_PAGE);
	log_debug("zero page frame: %s", pfn != 0 ? "known" :
	    "unknown (every present page is read)");
	return pfn;
}

/* The pages of one mapping that may hold content: present or swapped. */
static int
scan_vma(struct dump *d, struct img_vma *v, uint64_t *pm, char **cause)
{
	uint64_t	 npg, off, cnt, i;
	uint64_t	 zpfn = zero_pfn();
	int		 full = (d->flags & CKPT_FULL_FILES) != 0;

	npg = (v->end - v->start) / CKPT_PAGE;
	for (off = 0; off < npg; off += cnt) {
		cnt = npg - off < DUMP_PM_CHUNK ? npg - off : DUMP_PM_CHUNK;
		if (procfs_pagemap(d->pmfd, v->start + off * CKPT_PAGE, cnt, pm,
		    cause) == -1)
			return -1;
		for (i = 0; i < cnt; i++) {
			/*
			 * Shared anonymous memory: a page may be
			 * in the shmem file and in no page table of ours;
			 * every page is a candidate, the zero check sorts them.
			 */
			if ((v->flags & IMG_VMA_SHARED) &&
			    !(v->flags & IMG_VMA_FILE)) {
				add_addr(d, v->start + (off + i) * CKPT_PAGE);
				continue;
			}
			if (!page_wanted(v, pm[i], full))
				continue;
			if (zpfn != 0 && (pm[i] & PM_PRESENT) &&
			    !(pm[i] & PM_EXCLUSIVE) &&
			    (pm[i] & PM_PFN_MASK) == zpfn) {
				d->stats->zero_pages++;
				continue;
			}
			add_addr(d, v->start + (off + i) * CKPT_PAGE);
		}
	}
	return 0;
}

/* smaps VmFlags a restore re-applies with madvise. */
static const struct {
	uint32_t	vmf;
	uint32_t	madv;
} madv_table[] = {
	{ PROCFS_VMF_HG, IMG_MADV_HUGEPAGE },
	{ PROCFS_VMF_NH, IMG_MADV_NOHUGEPAGE },
	{ PROCFS_VMF_DC, IMG_MADV_DONTFORK },
	{ PROCFS_VMF_WF, IMG_MADV_WIPEONFORK },
	{ PROCFS_VMF_DD, IMG_MADV_DONTDUMP },
	{ PROCFS_VMF_MG, IMG_MADV_MERGEABLE },
	{ PROCFS_VMF_LO, IMG_MADV_LOCKED },
	{ PROCFS_VMF_LF, IMG_MADV_LOCKONFAULT },
};

static int
dump_vmas(struct dump *d, char **cause)
{
	struct procfs_vma	*pv;
	struct img_vma		*v;
	struct stat		 st;
	size_t			 n, i, k, *first = NULL, *count = NULL;
	uint64_t		*pm;
	uint32_t		 flags;
	int			 rv = -1;

	if (procfs_maps(d->pid, 1, &pv, &n, cause) == -1)
		return -1;
	pm = xmalloc(DUMP_PM_CHUNK * sizeof *pm);
	if (n > IMG_MAX_VMAS) {
		cause_set(cause, "%zu mappings, more than %d", n, IMG_MAX_VMAS);
		goto out;
	}
	if (ckpt_vmas_aliased(pv, n, cause) == -1)
		goto out;
	d->img.vmas = n == 0 ? NULL : xcalloc(n, sizeof *d->img.vmas);
	first = xcalloc(n + 1, sizeof *first);
	count = xcalloc(n + 1, sizeof *count);
	for (i = 0; i < n; i++) {
		const struct ckpt_origin	*o;

		/*
		 * A guest's copy of a home file, or its node's own same file:
		 * named by the file at home, where it maps again (its changed
		 * pages are the anonymous ones, stored as for any file).
		 */
		if ((o = ckpt_origin_of(d->opts->origins, &pv[i])) != NULL) {
			flags = (pv[i].shared ? IMG_VMA_SHARED : 0) |
			    IMG_VMA_FILE;
			memset(&st, 0, sizeof st);
			st.st_dev = o->dev;
			st.st_ino = o->ino;
			st.st_size = (off_t)o->size;
			st.st_mtim.tv_sec = o->mtime_ns / 1000000000;
			st.st_mtim.tv_nsec = o->mtime_ns % 1000000000;
			free(pv[i].path);
			pv[i].path = xstrdup(o->path);
		} else if (ckpt_vma_kind_proc(d->pid, &pv[i],
		    (d->flags & CKPT_MIGRATE) != 0, &flags, &st, cause) == -1)
			goto out;
		v = &d->img.vmas[d->img.nvmas++];
		v->start = pv[i].start;
		v->end = pv[i].end;
		v->prot = pv[i].prot;
		v->pgoff = pv[i].pgoff;
		if (pv[i].vmflags & PROCFS_VMF_GD)
			flags |= IMG_VMA_GROWSDOWN;
		for (k = 0; k < sizeof madv_table / sizeof madv_table[0]; k++) {
			if (pv[i].vmflags & madv_table[k].vmf)
				v->madv |= madv_table[k].madv;
		}
		if (flags & IMG_VMA_MEMFD) {
			/* its content is the memfd fd's (FDS) */
			v->path = xstrdup(pv[i].path);
			v->dev = st.st_dev;
			v->ino = st.st_ino;
			v->size = st.st_size;
		}
		if (flags & IMG_VMA_FILE) {
			v->path = xstrdup(pv[i].path);
			v->dev = st.st_dev;
			v->ino = st.st_ino;
			v->size = st.st_size;
			v->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
			    st.st_mtim.tv_nsec;
			if (!(flags & IMG_VMA_SHARED) &&
			    !(d->flags & CKPT_FULL_FILES))
				flags |= IMG_VMA_FILE_PAGES;
		}
		v->flags = flags;
		first[i] = d->naddrs;
		if (!(flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VSYSCALL |
		    IMG_VMA_MEMFD)) &&
		    (!(flags & IMG_VMA_SHARED) || !(flags & IMG_VMA_FILE)) &&
		    scan_vma(d, v, pm, cause) == -1)
			goto out;
		count[i] = d->naddrs - first[i];
	}
	if (dump_filter(d, first, count, cause) == -1)
		goto out;
	d->stats->vmas = d->img.nvmas;
	rv = 0;
out:
	free(first);
	free(count);
	free(pm);
	procfs_vmas_free(pv, n);
	return rv;
}

/* A PAGES section on its way from the tracee to the image. */
struct dump_slot {
	uint32_t	count;
	uint64_t	addrs[DUMP_BATCH];
	uint8_t		data[DUMP_BATCH * CKPT_PAGE];
};

static int
dump_slot_write(void *arg, void *p, char **cause)
{
	struct dump_slot	*slot = p;
	struct iovec		 iov;

	iov.iov_base = slot->data;
	iov.iov_len = (size_t)slot->count * CKPT_PAGE;
	return img_write_pages(arg, slot->addrs, slot->count, &iov, 1, cause);
}

/*
 * Second pass: read the kept pages again, a section at a time, while the
 * sections before go out through the writer on the pipe's thread.
 */
static int
dump_pages(struct dump *d, struct img_writer *w, char **cause)
{
	struct ckpt_pipe	*cp;
	struct dump_slot	*slot = NULL;
	struct img_vma		*v;
	size_t			 next = 0, take, end;
	uint32_t		 i;
	int			 rv = -1, own = 0;
	double			 t;

	cp = ckpt_pipe_new(DUMP_SLOTS, sizeof *slot, dump_slot_write, w);
	for (i = 0; i < d->img.nvmas; i++) {
		v = &d->img.vmas[i];
		end = next + v->npages;
		while (next < end) {
			if (slot == NULL) {
				if ((slot = ckpt_pipe_get(cp)) == NULL)
					goto out;	/* the writer's cause */
				slot->count = 0;
			}
			take = end - next;
			if (take > DUMP_BATCH - slot->count)
				take = DUMP_BATCH - slot->count;
			t = ckpt_now();
			if (read_pages(d, &d->addrs[next], take, slot->data +
			    slot->count * CKPT_PAGE, (v->prot & PROT_READ) != 0,
			    cause) == -1) {
				own = 1;
				goto out;
			}
			d->read_secs += ckpt_now() - t;
			memcpy(&slot->addrs[slot->count], &d->addrs[next],
			    take * sizeof *d->addrs);
			next += take;
			slot->count += take;
			if (slot->count == DUMP_BATCH) {
				ckpt_pipe_put(cp);
				slot = NULL;
			}
		}
	}
	if (slot != NULL)
		ckpt_pipe_put(cp);
	d->stats->pages = d->naddrs;
	rv = 0;
out:
	/* The writer's failure, unless ours came first. */
	if (ckpt_pipe_finish(cp, own ? NULL : cause) == -1)
		rv = -1;
	return rv;
}

static int
dump_write(struct dump *d, int out_fd, char **cause)
{
	struct img_writer	*w;
	int			 rv = -1;
	double			 t = ckpt_now();

	w = img_writer_new(out_fd);
	if (d->opts->stall_ms > 0)
		img_writer_set_stall(w, d->opts->stall_ms);
	if (img_write_meta(w, &d->img, cause) == -1 ||
	    dump_pages(d, w, cause) == -1 ||
	    img_write_end(w, cause) == -1)
		goto out;
	log_debug("dump %ld: writing: %.3fs (reading %.3fs)", (long)d->pid,
	    ckpt_now() - t, d->read_secs);
	rv = 0;
out:
	d->stats->bytes = img_writer_bytes(w);
	img_writer_free(w);
	return rv;
}

static int
dump_open_proc(struct dump *d, char **cause)
{
	char	path[64];

	snprintf(path, sizeof path, "/proc/%ld/mem", (long)d->pid);
	if ((d->memfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "/proc/%ld/pagemap", (long)d->pid);
	if ((d->pmfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * The parts of a dump, in order. Those between the injection steps run
 * code in the tracee; memory is read after the injection area is gone so
 * it never shows in the image.
 */
static const struct dump_step {
	const char	*name;
	int		 (*fn)(struct dump *, char **);
} dump_steps[] = {
	{ "registers", dump_regs },
	{ "injection", dump_inject_begin },
	{ "threads", dump_threads },
	{ "signals", dump_signals },
	{ "process", dump_proc },
	{ "fds", dump_fds },
	{ "injection end", dump_inject_end },
	{ "files", dump_open_proc },
	{ "memory", dump_vmas },
};

/*
 * Leave the tracee as it was: running, or killed or left stopped as asked
 * (how is CKPT_KILL or CKPT_LEAVE_STOPPED after a complete dump, else 0).
 */
static void
dump_release(struct dump *d, int how)
{
	char	*why = NULL;
	size_t	 i;

	if (d->in != NULL && inject_exited(d->in, &d->stats->wstatus))
		d->stats->exited = 1;
	if (d->stats->exited || !d->stopped) {
		inject_free(d->in);
		d->in = NULL;
		return;
	}
	if (how == CKPT_KILL) {
		kill(d->pid, SIGKILL);
		return;
	}
	if (how == CKPT_LEAVE_STOPPED)
		return;		/* in its interrupt stop since the injection ended */
	if (d->in != NULL) {
		/* A failed CKPT_KILL dump kept them: back into the queue. */
		for (i = 0; i < d->ncaught; i++) {
			if (dump_requeue(d, &d->caught[i], &why) == -1) {
				log_warnx("pid %ld: %s", (long)d->pid, why);
				free(why);
				why = NULL;
				break;
			}
		}
		if (i == d->ncaught)
			d->ncaught = 0;
		if (inject_fini(d->in, 1, &why) == -1 ||
		    inject_settle(d->pid, &d->stats->exited, &d->stats->wstatus,
		    &why) == -1) {
			log_warnx("pid %ld: leaving the injection: %s", (long)d->pid,
			    why);
			free(why);
		}
		inject_free(d->in);
		d->in = NULL;
	}
	/* Signals dequeued while interrupting and never re-queued: deliver one. */
	ptrace(PTRACE_CONT, d->pid, 0, d->ncaught > 0 ? d->caught[0].si_signo : 0);
	ckpt_threads_release(d->threads, d->nthreads);
}

int
ckpt_dump(pid_t pid, int out_fd, const struct ckpt_opts *opts,
    struct ckpt_stats *stats, char **cause)
{
	struct dump	 d;
	struct ckpt_stats dummy;
	double		 t0 = ckpt_now(), tstop = 0;
	size_t		 i;
	char		*why = NULL, *msg;
	int		 rv = -1;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof *stats);
	memset(&d, 0, sizeof d);
	d.pid = pid;
	d.flags = opts->flags;
	d.opts = opts;
	d.stats = stats;
	d.memfd = d.pmfd = -1;
	if (((d.flags & CKPT_LEAVE_RUNNING) != 0) + ((d.flags & CKPT_KILL) != 0) +
	    ((d.flags & CKPT_LEAVE_STOPPED) != 0) != 1)
		return cause_set(cause, "dump: exactly one of leave-running, kill "
		    "and leave-stopped");
	msg = (d.flags & CKPT_MIGRATE) ? ckpt_cantmigrate_guest(pid,
	    opts->origins) :
	    ckpt_cantmove(pid);
	if (msg != NULL) {
		cause_set(cause, "%s", msg);
		free(msg);
		return -1;
	}
	if (ckpt_interrupt(pid, &d.caught, &d.ncaught, stats, &why) == -1) {
		cause_set(cause, "interrupting: %s", why);
		goto out;
	}
	d.stopped = 1;
	tstop = ckpt_now();
	/* All of them before anything is read: one instant of the process. */
	if (ckpt_threads_stop(pid, &d.threads, &d.nthreads, &why) == -1) {
		cause_set(cause, "interrupting: %s", why);
		goto out;
	}
	/* Taken between the check above and the stop: the same refusal. */
	if (!(d.flags & CKPT_MIGRATE) && (msg = ckpt_locks_held(pid)) != NULL) {
		cause_set(cause, "%s", msg);
		free(msg);
		goto out;
	}
	if (opts->check != NULL && opts->check(pid, opts->check_arg, &why) == -1) {
		cause_set(cause, "%s", why);
		goto out;
	}
	for (i = 0; i < sizeof dump_steps / sizeof dump_steps[0]; i++) {
		double	ts = ckpt_now();

		if (dump_steps[i].fn(&d, &why) == -1) {
			cause_set(cause, "%s: %s", dump_steps[i].name, why);
			goto out;
		}
		log_debug("dump %ld: %s: %.3fs", (long)pid, dump_steps[i].name,
		    ckpt_now() - ts);
	}
	if (dump_write(&d, out_fd, &why) == -1) {
		cause_set(cause, "writing: %s", why);
		goto out;
	}
	rv = 0;
out:
	dump_release(&d, rv == 0 ? d.flags & (CKPT_KILL | CKPT_LEAVE_STOPPED) : 0);
	if (tstop != 0)
		stats->freeze_secs = ckpt_now() - tstop;
	stats->secs = ckpt_now() - t0;
	free(why);
	free(d.addrs);
	free(d.caught);
	ckpt_threads_free(d.threads, d.nthreads);
	if (d.memfd != -1)
		close(d.memfd);
	if (d.pmfd != -1)
		close(d.pmfd);
	img_free(&d.img);
	return rv;
}

int
ckpt_resume(pid_t pid, char **cause)
{
	/* Its signals were queued again by the dump: nothing to deliver. */
	if (ptrace(PTRACE_CONT, pid, 0, 0) == -1)
		return cause_set(cause, "resuming %ld: %s", (long)pid,
		    strerror(errno));
	ckpt_threads_cont(pid);
	return 0;
}
