/*
 * ckpt-threads.c: the threads of a process but its main one, in a dump and
 * in a restore.
 *
 * A dump stops every thread before it reads anything (the main thread
 * first, then each thread /proc/PID/task lists, again until a pass finds
 * no new one: a thread caught inside clone creates its child before it
 * stops, and that child is stopped on the next pass), so the image is one
 * instant of all of them. What the kernel keeps per thread is read from
 * outside where ptrace or a system call on the tid can (registers, xstate,
 * signal mask and queue, rseq, robust list, scheduling), and the rest
 * (sigaltstack, clear_child_tid) by calls injected into that thread
 * through the main thread's injection area, which all threads share.
 *
 * A restore rebuilds the main thread first; then the main thread, still
 * under injection, creates each other thread with clone3 (CLONE_VM |
 * CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM),
 * asking for the thread's original tid when it is free on this node. The
 * new thread stops before it ever runs user code (the tracer's
 * PTRACE_O_TRACECLONE auto-attaches it); calls injected into it register
 * its altstack, robust list, rseq, scheduling and name, then its registers
 * and xstate are set, it is moved into the kernel's signal path (so an
 * interrupted call restarts exactly as it would have) and given its
 * signals and mask.
 */
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/sched.h>

#include "omm/ckpt.h"
#include "omm/image.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/*
 * Scratch offsets while a thread is injected into; the main thread's
 * injection is idle meanwhile (one injected call at a time).
 */
#define TSCR_ALTSTACK	0		/* stack_t, 24 bytes */
#define TSCR_TIDADDR	64		/* u64 */
#define TSCR_SIGINFO	128		/* siginfo_t, 128 bytes */
#define TSCR_PARAM	256		/* struct sched_param */
#define TSCR_COMM	320		/* 16 bytes */
#define TSCR_CLONE	512		/* struct clone_args, 88 bytes */
#define TSCR_SETTID	640		/* pid_t */

/* Passes over /proc/PID/task before a dump gives up on a thread storm. */
#define STOP_PASSES	1000

/* The thread ids of pid but pid itself, from /proc/PID/task. */
static int
list_tasks(pid_t pid, pid_t **tids, size_t *n, char **cause)
{
	struct dirent	*de;
	DIR		*dir;
	char		 path[64], *end;
	long		 v;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (de->d_name[0] == '.' || *end != '\0' || errno != 0 ||
		    v <= 0 || v > INT_MAX || v == pid)
			continue;
		*tids = xreallocarray(*tids, *n + 1, sizeof **tids);
		(*tids)[(*n)++] = (pid_t)v;
	}
	closedir(dir);
	return 0;
}

/* Is tid still a live thread of pid (not exited, reaped or not)? */
static int
task_exists(pid_t pid, pid_t tid)
{
	char	name[64], *text, *p;
	int	live;

	snprintf(name, sizeof name, "task/%ld/stat", (long)tid);
	if (procfs_slurp(pid, name, &text, NULL, NULL) == -1)
		return 0;
	/* pid (comm) S ...: the state after the last ')' */
	p = strrchr(text, ')');
	live = p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X' &&
	    p[2] != 'x';
	free(text);
	return live;
}

static int
have_tid(const struct ckpt_thread *t, size_t n, pid_t tid)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t[i].tid == tid)
			return 1;
	}
	return 0;
}

int
ckpt_threads_stop(pid_t pid, struct ckpt_thread **threads, size_t *nthreads,
    char **cause)
{
	struct ckpt_stats	 st;
	pid_t			*tids;
	size_t			 n, i, added;
	siginfo_t		*caught;
	size_t			 ncaught;
	char			*why = NULL;
	int			 pass;

	for (pass = 0; pass < STOP_PASSES; pass++) {
		if (list_tasks(pid, &tids, &n, cause) == -1)
			return -1;
		added = 0;
		for (i = 0; i < n; i++) {
			if (have_tid(*threads, *nthreads, tids[i]))
				continue;
			memset(&st, 0, sizeof st);
			caught = NULL;
			ncaught = 0;
			if (ckpt_interrupt(tids[i], &caught, &ncaught, &st,
			    &why) == -1) {
				free(caught);
				/* it ended meanwhile: not part of the instant */
				if (st.exited || !task_exists(pid, tids[i])) {
					free(why);
					why = NULL;
					continue;
				}
				cause_set(cause, "thread %ld: %s", (long)tids[i],
				    why);
				free(why);
				free(tids);
				return -1;
			}
			*threads = xreallocarray(*threads, *nthreads + 1,
			    sizeof **threads);
			memset(&(*threads)[*nthreads], 0, sizeof **threads);
			(*threads)[*nthreads].tid = tids[i];
			(*threads)[*nthreads].caught = caught;
			(*threads)[*nthreads].ncaught = ncaught;
			(*nthreads)++;
			added++;
		}
		free(tids);
		if (added == 0)
			break;
	}
	if (pass == STOP_PASSES)
		return cause_set(cause, "threads kept appearing after %d passes",
		    STOP_PASSES);
	if (*nthreads > IMG_MAX_THREADS)
		return cause_set(cause, "%zu threads, more than %d", *nthreads,
		    IMG_MAX_THREADS);
	return 0;
}

void
ckpt_threads_free(struct ckpt_thread *threads, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(threads[i].caught);
	free(threads);
}

void
ckpt_threads_release(struct ckpt_thread *threads, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		(void)ptrace(PTRACE_CONT, threads[i].tid, 0,
		    threads[i].ncaught > 0 ? threads[i].caught[0].si_signo : 0);
}

void
ckpt_threads_cont(pid_t pid)
{
	pid_t	*tids;
	size_t	 n, i;

	if (list_tasks(pid, &tids, &n, NULL) == -1)
		return;
	/* only those in a stop of ours take it; the rest say ESRCH */
	for (i = 0; i < n; i++)
		(void)ptrace(PTRACE_CONT, tids[i], 0, 0);
	free(tids);
}

/* Registers as interrupted, -ERESTART_RESTARTBLOCK made restartable (as dump_regs). */
static int
thread_regs(pid_t tid, struct img_regs *rg, char **cause)
{
	struct user_regs_struct	 r;
	struct iovec		 iov;
	uint8_t			*xs;

	iov.iov_base = &r;
	iov.iov_len = sizeof r;
	if (ptrace(PTRACE_GETREGSET, tid, NT_PRSTATUS, &iov) == -1)
		return cause_set(cause, "PTRACE_GETREGSET NT_PRSTATUS: %s",
		    strerror(errno));
	if ((int64_t)r.orig_rax >= 0 &&
	    (int64_t)r.rax == -CKPT_ERESTART_RESTARTBLOCK)
		r.rax = (uint64_t)-CKPT_ERESTARTNOHAND;
	memcpy(rg->gpr, &r, sizeof rg->gpr);
	xs = xmalloc(IMG_MAX_XSTATE);
	iov.iov_base = xs;
	iov.iov_len = IMG_MAX_XSTATE;
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == -1) {
		free(xs);
		return cause_set(cause, "PTRACE_GETREGSET NT_X86_XSTATE: %s",
		    strerror(errno));
	}
	rg->xstate = xs;
	rg->xstate_len = iov.iov_len;
	return 0;
}

/* What a thread's tid tells from outside: rseq, robust list, scheduling, name. */
static int
thread_outside(pid_t pid, struct img_thread *t, char **cause)
{
	struct ckpt_rseq_conf	 rseq;
	struct sched_param	 sp;
	void			*head = NULL;
	size_t			 hlen = 0;
	char			 name[64], *text, *nl;
	int			 pol, nice;

	if (ptrace(CKPT_PTRACE_GET_RSEQ_CONFIGURATION, t->tid, sizeof rseq,
	    &rseq) == -1) {
		if (errno != EIO && errno != EINVAL)
			return cause_set(cause, "PTRACE_GET_RSEQ_CONFIGURATION: "
			    "%s", strerror(errno));
		memset(&rseq, 0, sizeof rseq);
	}
	t->rseq_addr = rseq.rseq_abi_pointer;
	t->rseq_len = rseq.rseq_abi_size;
	t->rseq_sig = rseq.signature;
	if (syscall(SYS_get_robust_list, t->tid, &head, &hlen) == -1)
		return cause_set(cause, "get_robust_list: %s", strerror(errno));
	t->robust_list = (uint64_t)head;
	t->robust_len = hlen;
	if ((pol = sched_getscheduler(t->tid)) == -1 ||
	    sched_getparam(t->tid, &sp) == -1)
		return cause_set(cause, "scheduling policy: %s", strerror(errno));
	t->sched_policy = (uint32_t)pol;
	t->sched_priority = (uint32_t)sp.sched_priority;
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)t->tid);
	if (nice == -1 && errno != 0)
		return cause_set(cause, "getpriority: %s", strerror(errno));
	t->nice = nice;
	snprintf(name, sizeof name, "task/%ld/comm", (long)t->tid);
	if (procfs_slurp(pid, name, &text, NULL, cause) == -1)
		return -1;
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	snprintf(t->comm, sizeof t->comm, "%s", text);
	free(text);
	return 0;
}

/* Append si to the image's queue of thread t. */
static int
thread_add_pending(struct img_thread *t, const siginfo_t *si, char **cause)
{
	if (t->npending >= IMG_MAX_PENDING)
		return cause_set(cause, "more than %d pending signals",
		    IMG_MAX_PENDING);
	t->pending = xreallocarray(t->pending, t->npending + 1,
	    sizeof *t->pending);
	memset(&t->pending[t->npending], 0, sizeof t->pending[t->npending]);
	memcpy(t->pending[t->npending].raw, si, 128);
	t->npending++;
	return 0;
}

/* The signals queued to the thread alone (its process's are in SIGNALS). */
static int
thread_peek(struct img_thread *t, char **cause)
{
	struct __ptrace_peeksiginfo_args	 a;
	siginfo_t				 si[32];
	long					 n, i;

	a.off = 0;
	a.flags = 0;
	a.nr = 32;
	for (;;) {
		n = ptrace(PTRACE_PEEKSIGINFO, t->tid, &a, si);
		if (n == -1)
			return cause_set(cause, "PTRACE_PEEKSIGINFO: %s",
			    strerror(errno));
		if (n == 0)
			return 0;
		for (i = 0; i < n; i++) {
			if (thread_add_pending(t, &si[i], cause) == -1)
				return -1;
		}
		a.off += n;
	}
}

/*
 * Queue si to thread tid of pid by a call of that thread itself (tin):
 * only a thread may queue itself a signal that looks sent by tgkill or by
 * the kernel (rt_tgsigqueueinfo's rule). It stays pending: an injected
 * thread blocks everything but SIGTRAP, which is never queued this way.
 */
static int
thread_queue(struct inject *tin, pid_t pid, pid_t tid, const siginfo_t *si,
    char **cause)
{
	long	ret;

	if (si->si_signo == SIGTRAP)
		return cause_set(cause, "a SIGTRAP for the thread alone is not "
		    "carried (injected calls take it)");
	if (inject_write(tin, TSCR_SIGINFO, si, sizeof *si, cause) == -1)
		return -1;
	if (INJECT(tin, &ret, cause, SYS_rt_tgsigqueueinfo, pid, tid,
	    si->si_signo, inject_scratch(tin) + TSCR_SIGINFO) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "queueing signal %d: %s", si->si_signo,
		    strerror((int)-ret));
	return 0;
}

/* sigaltstack and clear_child_tid, which only the thread can tell. */
static int
thread_inside(struct inject *tin, struct img_thread *t, char **cause)
{
	uint8_t	ss[24];
	long	ret;

	if (INJECT(tin, &ret, cause, SYS_sigaltstack, 0,
	    inject_scratch(tin) + TSCR_ALTSTACK) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "sigaltstack: %s", strerror((int)-ret));
	if (inject_read(tin, TSCR_ALTSTACK, ss, sizeof ss, cause) == -1)
		return -1;
	/* stack_t: ss_sp, int ss_flags (+4 padding), ss_size */
	memcpy(&t->ss_sp, ss, 8);
	memcpy(&t->ss_flags, ss + 8, 4);
	memcpy(&t->ss_size, ss + 16, 8);
	if (INJECT(tin, &ret, cause, SYS_prctl, PR_GET_TID_ADDRESS,
	    inject_scratch(tin) + TSCR_TIDADDR) == -1)
		return -1;
	if (ret == 0)
		return inject_read(tin, TSCR_TIDADDR, &t->clear_tid, 8, cause);
	log_debug("thread %ld: PR_GET_TID_ADDRESS: %s", (long)t->tid,
	    strerror((int)-ret));
	return 0;
}

/*
 * Inject into one stopped thread and leave it in its interrupt stop again
 * with its own registers and mask. The signals taken from it while it was
 * interrupted go back into its own queue (requeue), queued by itself.
 */
static int
thread_inject(struct inject *in, pid_t pid, struct img_thread *t,
    const struct ckpt_thread *ct, int requeue, int *exited, int *wstatus,
    char **cause)
{
	struct inject	*tin;
	const siginfo_t	*s;
	uint64_t	 mask;
	size_t		 n, k;
	char		*why = NULL;
	int		 rv;

	if ((tin = inject_thread(in, t->tid, cause)) == NULL)
		return -1;
	mask = inject_saved_mask(tin);
	rv = thread_inside(tin, t, cause);
	for (k = 0; rv == 0 && requeue && k < ct->ncaught; k++)
		rv = thread_queue(tin, pid, t->tid, &ct->caught[k], cause);
	/* all but SIGTRAP blocked: only a SIGTRAP is dequeued by injecting */
	s = inject_strays(tin, &n);
	if (rv == 0 && n > 0)
		rv = cause_set(cause, "signal %d arrived while injecting",
		    s[0].si_signo);
	if (inject_exited(tin, wstatus)) {
		*exited = 1;
		inject_free(tin);
		if (rv == 0)
			cause_set(cause, "exited under injection");
		return -1;
	}
	/*
	 * Registers back, then into the signal path with every signal still
	 * blocked (none is delivered on the way), then its own mask.
	 */
	if (inject_thread_end(tin, 1, &why) == -1 ||
	    inject_settle(t->tid, exited, wstatus, &why) == -1 ||
	    (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof mask, &mask) == -1 &&
	    cause_set(&why, "PTRACE_SETSIGMASK: %s", strerror(errno)) == -1)) {
		if (rv == 0) {
			cause_set(cause, "%s", why);
			rv = -1;
		}
	}
	inject_free(tin);
	free(why);
	t->blocked = mask;
	return rv;
}

int
ckpt_threads_dump(pid_t pid, struct inject *in, struct ckpt_thread *threads,
    size_t n, struct img *img, int kill, struct ckpt_stats *stats,
    char **cause)
{
	struct img_thread	*t = NULL;
	size_t			 i, k;
	char			*why = NULL;

	if (n == 0)
		return 0;
	img->threads = xcalloc(n, sizeof *img->threads);
	for (i = 0; i < n; i++) {
		t = &img->threads[img->nthreads++];
		t->tid = threads[i].tid;
		if (thread_regs(t->tid, &t->regs, &why) == -1 ||
		    thread_outside(pid, t, &why) == -1 ||
		    thread_inject(in, pid, t, &threads[i], !kill, &stats->exited,
		    &stats->wstatus, &why) == -1)
			goto fail;
		if (!kill)
			threads[i].ncaught = 0;	/* back in its queue */
		if (thread_peek(t, &why) == -1)
			goto fail;
		/*
		 * A process that ends keeps the signals taken from the
		 * thread in the image only (its queue never held them).
		 */
		for (k = 0; kill && k < threads[i].ncaught; k++) {
			if (threads[i].caught[k].si_signo == SIGTRAP) {
				cause_set(&why, "a SIGTRAP for the thread alone "
				    "is not carried");
				goto fail;
			}
			if (thread_add_pending(t, &threads[i].caught[k],
			    &why) == -1)
				goto fail;
		}
		for (k = 0; k < t->npending; k++) {
			if (t->pending[k].raw[0] == SIGTRAP) {
				cause_set(&why, "a SIGTRAP for the thread alone "
				    "is not carried");
				goto fail;
			}
		}
	}
	return 0;
fail:
	cause_set(cause, "thread %ld: %s", (long)t->tid, why);
	free(why);
	return -1;
}

/* A tid nothing on this node uses (a thread's id is a process id too). */
static int
tid_free(pid_t tid)
{
	return kill(tid, 0) == -1 && errno == ESRCH;
}

/*
 * Ask the kernel for tid as the next id of our pid namespace (root, and
 * the restored process in the same namespace as us): the next clone gets
 * it unless another fork on this node comes in between, which the caller
 * sees in the tid it got.
 */
static int
next_pid(pid_t tid)
{
	char	buf[32];
	int	fd, len, rv = -1;

	if ((fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC)) ==
	    -1)
		return -1;
	len = snprintf(buf, sizeof buf, "%ld", (long)tid - 1);
	if (write(fd, buf, (size_t)len) == len)
		rv = 0;
	close(fd);
	return rv;
}

/* One injected clone3 of the main thread; set_tid: ask for want. */
static int
clone_once(struct inject *in, const struct img_thread *t, int set_tid,
    long *ret, char **cause)
{
	uint64_t	args[11];
	int32_t		want = t->tid;

	/* struct clone_args: flags, pidfd, child_tid, parent_tid,
	 * exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup */
	memset(args, 0, sizeof args);
	args[0] = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
	    CLONE_THREAD | CLONE_SYSVSEM;
	if (t->clear_tid != 0) {
		/* its tid word (glibc's pthread tid) says the tid it has */
		args[0] |= CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
		args[2] = t->clear_tid;
	}
	if (set_tid) {
		args[8] = inject_scratch(in) + TSCR_SETTID;
		args[9] = 1;
	}
	if (inject_write(in, TSCR_SETTID, &want, sizeof want, cause) == -1 ||
	    inject_write(in, TSCR_CLONE, args, sizeof args, cause) == -1)
		return -1;
	return INJECT(in, ret, cause, SYS_clone3, inject_scratch(in) +
	    TSCR_CLONE, sizeof args);
}

/*
 * The main thread (in) creates one thread with its original tid when that
 * is free here: by set_tid when the process may (CAP_SYS_ADMIN in its pid
 * namespace: a root job), else by setting ns_last_pid first (we are root).
 * A tid that is taken, or lost to another fork in between, gives the
 * thread another one (docs/limits.md). *newtid is what it got.
 */
static int
thread_clone(struct inject *in, const struct img_thread *t, pid_t *newtid,
    char **cause)
{
	long	ret;

	if (tid_free(t->tid)) {
		if (clone_once(in, t, 1, &ret, cause) == -1)
			return -1;
		if (ret > 0) {
			*newtid = (pid_t)ret;
			return 0;
		}
		if (ret != -EPERM && ret != -EEXIST)
			return cause_set(cause, "clone3 with tid %d: %s", t->tid,
			    strerror((int)-ret));
		if (tid_free(t->tid) && next_pid(t->tid) == -1)
			log_debug("thread %d: ns_last_pid: %s", t->tid,
			    strerror(errno));
	}
	if (clone_once(in, t, 0, &ret, cause) == -1)
		return -1;
	if (ret <= 0)
		return cause_set(cause, "clone3: %s", strerror((int)-ret));
	*newtid = (pid_t)ret;
	return 0;
}

/* Wait for the new thread's first stop (auto-attached: before user code). */
static int
thread_first_stop(pid_t tid, char **cause)
{
	int	st, r;

	for (;;) {
		while ((r = waitpid(tid, &st, __WALL)) == -1 && errno == EINTR)
			;
		if (r == -1)
			return cause_set(cause, "waiting for new thread %ld: %s "
			    "(is the process traced with PTRACE_O_TRACECLONE?)",
			    (long)tid, strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return cause_set(cause, "new thread %ld exited", (long)tid);
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* nothing else can come first; resume past it */
		if (ptrace(PTRACE_CONT, tid, 0, 0) == -1)
			return cause_set(cause, "new thread %ld: %s", (long)tid,
			    strerror(errno));
	}
}

/* Calls the new thread makes for itself (under injection tin). */
static int
thread_setup(struct inject *tin, const struct img_thread *t, char **cause)
{
	uint64_t	scr = inject_scratch(tin);
	uint8_t		ss[24];
	uint32_t	flags;
	int32_t		prio;
	long		ret;

	flags = t->ss_flags & ~SS_ONSTACK;
	memset(ss, 0, sizeof ss);
	if (!(flags & SS_DISABLE)) {
		memcpy(ss, &t->ss_sp, 8);
		memcpy(ss + 16, &t->ss_size, 8);
	}
	memcpy(ss + 8, &flags, 4);
	if (inject_write(tin, TSCR_ALTSTACK, ss, sizeof ss, cause) == -1 ||
	    INJECT(tin, &ret, cause, SYS_sigaltstack, scr + TSCR_ALTSTACK,
	    0) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "sigaltstack: %s", strerror((int)-ret));
	if (t->robust_list != 0) {
		if (INJECT(tin, &ret, cause, SYS_set_robust_list, t->robust_list,
		    t->robust_len) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "set_robust_list: %s",
			    strerror((int)-ret));
	}
	if (t->rseq_addr != 0) {
		if (INJECT(tin, &ret, cause, SYS_rseq, t->rseq_addr, t->rseq_len,
		    0, t->rseq_sig) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "rseq registration at %#" PRIx64
			    ": %s", t->rseq_addr, strerror((int)-ret));
	}
	/* with the thread's own rights: no more than its user may */
	prio = (int32_t)t->sched_priority;
	if (inject_write(tin, TSCR_PARAM, &prio, sizeof prio, cause) == -1 ||
	    INJECT(tin, &ret, cause, SYS_sched_setscheduler, 0,
	    t->sched_policy, scr + TSCR_PARAM) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "scheduling policy %u priority %u: %s",
		    t->sched_policy, t->sched_priority, strerror((int)-ret));
	if (INJECT(tin, &ret, cause, SYS_setpriority, PRIO_PROCESS, 0,
	    (uint64_t)(int64_t)t->nice) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "nice %d: %s", t->nice,
		    strerror((int)-ret));
	if (inject_write(tin, TSCR_COMM, t->comm, sizeof t->comm, cause) == -1 ||
	    INJECT(tin, &ret, cause, SYS_prctl, PR_SET_NAME,
	    scr + TSCR_COMM) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "PR_SET_NAME: %s", strerror((int)-ret));
	return 0;
}

/* Registers and xstate of the image: the thread's own from here on. */
static int
thread_set_regs(pid_t tid, const struct img_thread *t, char **cause)
{
	struct user_regs_struct	 regs;
	struct iovec		 iov;

	memcpy(&regs, t->regs.gpr, sizeof regs);
	iov.iov_base = &regs;
	iov.iov_len = sizeof regs;
	if (ptrace(PTRACE_SETREGSET, tid, NT_PRSTATUS, &iov) == -1)
		return cause_set(cause, "PTRACE_SETREGSET NT_PRSTATUS: %s",
		    strerror(errno));
	iov.iov_base = t->regs.xstate;
	iov.iov_len = t->regs.xstate_len;
	if (t->regs.xstate_len != 0 &&
	    ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) == -1)
		return cause_set(cause, "PTRACE_SETREGSET NT_X86_XSTATE: %s",
		    strerror(errno));
	return 0;
}

/*
 * Its tid word says the tid it had: a thread that got another one has it
 * written by CLONE_CHILD_SETTID; the main thread (a restore gives it the
 * stub's pid) gets the new one here, where the word still holds the old.
 */
static int
main_tid_word(pid_t pid, const struct img *img, char **cause)
{
	struct iovec	lv, rv;
	int32_t		word;

	if (img->proc.clear_tid == 0 || img->proc.pid == pid)
		return 0;
	lv.iov_base = &word;
	lv.iov_len = sizeof word;
	rv.iov_base = (void *)img->proc.clear_tid;
	rv.iov_len = sizeof word;
	if (process_vm_readv(pid, &lv, 1, &rv, 1, 0) != sizeof word ||
	    word != img->proc.pid)
		return 0;
	word = pid;
	if (process_vm_writev(pid, &lv, 1, &rv, 1, 0) != sizeof word)
		return cause_set(cause, "writing the main thread's tid word: %s",
		    strerror(errno));
	return 0;
}

int
ckpt_threads_restore(pid_t pid, struct inject *in, const struct img *img,
    struct ckpt_stats *stats, char **cause)
{
	const struct img_thread	*t;
	struct inject		*tin;
	siginfo_t		 si;
	pid_t			 tid = 0;
	uint32_t		 i, k;
	char			*why = NULL;

	if (img->nthreads == 0)
		return 0;
	if (main_tid_word(pid, img, cause) == -1)
		return -1;
	for (i = 0; i < img->nthreads; i++) {
		t = &img->threads[i];
		tid = t->tid;
		if (thread_clone(in, t, &tid, &why) == -1 ||
		    thread_first_stop(tid, &why) == -1)
			goto fail;
		if (tid != t->tid)
			log_info("restore %ld: thread %d is thread %ld now (its "
			    "id was taken)", (long)pid, t->tid, (long)tid);
		if ((tin = inject_thread(in, tid, &why)) == NULL)
			goto fail;
		for (k = 0; k < t->npending; k++) {
			memcpy(&si, t->pending[k].raw, sizeof si);
			if (thread_queue(tin, pid, tid, &si, &why) == -1)
				break;
		}
		if (k < t->npending || thread_setup(tin, t, &why) == -1) {
			if (inject_exited(tin, &stats->wstatus))
				stats->exited = 1;
			inject_free(tin);
			goto fail;
		}
		inject_free(tin);
		/* into the signal path with its registers, every signal blocked */
		if (thread_set_regs(tid, t, &why) == -1 ||
		    inject_settle(tid, &stats->exited, &stats->wstatus,
		    &why) == -1)
			goto fail;
		if (ptrace(PTRACE_SETSIGMASK, tid, sizeof t->blocked,
		    &t->blocked) == -1) {
			cause_set(&why, "PTRACE_SETSIGMASK: %s", strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	cause_set(cause, "thread %d: %s", t->tid, why);
	free(why);
	return -1;
}
