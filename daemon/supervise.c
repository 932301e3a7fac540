/* supervise.c: the ptrace supervisor, its table of tracees and its wait loop. */
#include <sys/types.h>
#include <sys/ptrace.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "access.h"
#include "migrate.h"
#include "periodic.h"
#include "procinfo.h"
#include "supervise.h"

/*
 * Events only: a managed process never stops for its system calls, just
 * for fork/clone/exec and signals, so it runs at native speed. No EXITKILL:
 * when ommd goes away its processes carry on.
 */
#define SEIZE_OPTIONS	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | \
	PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)

/* Shutdown waits this long for each tracee to stop before leaving it be. */
#define DETACH_WAIT_MS	2000

#define NBUCKETS	1024

#ifndef TAILQ_FOREACH_SAFE	/* BSD's, missing from glibc's sys/queue.h */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

static TAILQ_HEAD(, task)	tasks = TAILQ_HEAD_INITIALIZER(tasks);
static LIST_HEAD(, task)	buckets[NBUCKETS];
static uint32_t			this_job;	/* the supervisor's */

static struct task *task_adopt(pid_t);
static void	on_fork(struct task *, int);
static void	on_exec(struct task *, int);
static void	on_stop(struct task *, int);
static void	on_signal(struct task *, int);

/*
 * What a ptrace-stop means, by the event in the status's high bits
 * (status >> 16); 0 is a signal-delivery-stop. Each handler resumes the
 * tracee in the way that event needs.
 */
static const struct stop_handler {
	int	  event;
	void	(*fn)(struct task *, int sig);
} stop_handlers[] = {
	{ PTRACE_EVENT_FORK,	on_fork },
	{ PTRACE_EVENT_VFORK,	on_fork },
	{ PTRACE_EVENT_CLONE,	on_fork },
	{ PTRACE_EVENT_EXEC,	on_exec },
	{ PTRACE_EVENT_STOP,	on_stop },
	{ 0,			on_signal },
};

static unsigned
bucket(pid_t tid)
{
	return (unsigned)tid % NBUCKETS;
}

void
supervise_set_exitkill(pid_t pid, int on)
{
	long	opts = SEIZE_OPTIONS | (on ? PTRACE_O_EXITKILL : 0);

	/* only in a ptrace stop; a running tracee keeps its options */
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)opts) == -1)
		log_debug("PTRACE_SETOPTIONS %d: %s", (int)pid, strerror(errno));
}

void
supervise_init(uint32_t job)
{
	this_job = job;
}

size_t
supervise_count(void)
{
	struct task	*t;
	size_t		 n = 0;

	TAILQ_FOREACH(t, &tasks, entry)
		n += t->tid == t->tgid;
	return n;
}

int64_t
supervise_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct task *
supervise_find(pid_t tid)
{
	struct task	*t;

	LIST_FOREACH(t, &buckets[bucket(tid)], hash) {
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static struct task *
task_add(pid_t tid, pid_t tgid, pid_t ppid, uid_t owner, gid_t owner_gid,
    uint32_t job)
{
	struct task	*t;

	t = xcalloc(1, sizeof *t);
	t->tid = tid;
	t->tgid = tgid;
	t->ppid = ppid;
	t->owner = owner;
	t->owner_gid = owner_gid;
	t->job = job;
	t->state = PROTO_STATE_RUNNING;
	t->start = time(NULL);
	t->resident_ms = supervise_now_ms();
	t->command = procinfo_cmdline(tgid);
	TAILQ_INSERT_TAIL(&tasks, t, entry);
	LIST_INSERT_HEAD(&buckets[bucket(tid)], t, hash);
	log_debug("task %d (process %d, job %u) added: %s", (int)tid,
	    (int)tgid, job, t->command);
	return t;
}

static void
task_remove(struct task *t)
{
	log_debug("task %d (process %d, job %u) gone", (int)t->tid,
	    (int)t->tgid, t->job);
	if (t->tid == t->tgid)
		periodic_forget(t->tgid);
	TAILQ_REMOVE(&tasks, t, entry);
	LIST_REMOVE(t, hash);
	free(t->command);
	free(t->priv);
	free(t);
}

struct task *
supervise_first_process(void)
{
	struct task	*t;

	TAILQ_FOREACH(t, &tasks, entry) {
		if (t->tid == t->tgid)
			return t;
	}
	return NULL;
}

struct task *
supervise_next_process(struct task *t)
{
	while ((t = TAILQ_NEXT(t, entry)) != NULL) {
		if (t->tid == t->tgid)
			return t;
	}
	return NULL;
}

int
supervise_nthreads(pid_t tgid)
{
	struct task	*t;
	int		 n = 0;

	TAILQ_FOREACH(t, &tasks, entry) {
		if (t->tgid == tgid)
			n++;
	}
	return n;
}

void
supervise_refresh(pid_t tgid)
{
	struct task	*t;

	if ((t = supervise_find(tgid)) == NULL)
		return;
	free(t->command);
	t->command = procinfo_cmdline(tgid);
}

/*
 * The engine waits for a process's threads itself while it checkpoints
 * or restores it: a thread it created (a restore) or that was created or
 * ended meanwhile (a checkpoint) never reported to us. /proc says which
 * threads the process has now.
 */
void
supervise_sync_threads(pid_t tgid)
{
	struct task	*t, *tmp;
	struct dirent	*de;
	DIR		*dir;
	char		 path[64];
	long		 tid;

	snprintf(path, sizeof path, "/proc/%ld/task", (long)tgid);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if ((tid = strtol(de->d_name, NULL, 10)) <= 0 ||
		    supervise_find((pid_t)tid) != NULL)
			continue;
		(void)task_adopt((pid_t)tid);
	}
	closedir(dir);
	TAILQ_FOREACH_SAFE(t, &tasks, entry, tmp) {
		if (t->tgid != tgid || t->tid == tgid)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/task/%ld", (long)tgid,
		    (long)t->tid);
		if (access(path, F_OK) == -1 && errno == ENOENT)
			task_remove(t);
	}
}

void
supervise_forget(pid_t tgid)
{
	struct task	*t, *tmp;

	TAILQ_FOREACH_SAFE(t, &tasks, entry, tmp) {
		if (t->tgid == tgid)
			task_remove(t);
	}
}

int
supervise_manage(pid_t pid, uid_t owner, gid_t owner_gid, uint32_t *job,
    char **cause)
{
	struct pstatus	 ps;
	struct task	*t;

	if (supervise_find(pid) != NULL)
		return cause_set(cause, "process %d is already managed",
		    (int)pid);
	if (procinfo_status(pid, &ps, cause) != 0)
		return -1;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)SEIZE_OPTIONS) == -1)
		return cause_set(cause, "cannot trace process %d: %s",
		    (int)pid, strerror(errno));
	*job = this_job;
	t = task_add(pid, ps.tgid, ps.ppid, owner, owner_gid, *job);
	log_info("job %u: managing process %d of uid %u", *job, (int)pid,
	    (unsigned)owner);
	/*
	 * Seized first, read after: an exec that changes its credentials
	 * later stops for us in on_exec.
	 */
	access_privileged(t, 0);
	return 0;
}

void
supervise_release(pid_t pid)
{
	pid_t	w;
	int	status = 0, sig = 0;

	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0) {
		while ((w = waitpid(pid, &status, __WALL)) == -1 &&
		    errno == EINTR)
			;
		/* a signal-delivery-stop carries the signal it was taking */
		if (w == pid && WIFSTOPPED(status) && (status >> 16) == 0 &&
		    WSTOPSIG(status) != (SIGTRAP | 0x80))
			sig = WSTOPSIG(status);
		if (w == pid && WIFSTOPPED(status) && ptrace(PTRACE_DETACH,
		    pid, NULL, (void *)(long)sig) == -1 && errno != ESRCH)
			log_warn("ptrace DETACH %d", (int)pid);
	}
	supervise_forget(pid);
}

/* Resume a tracee; it may have been killed meanwhile, which is fine. */
static void
resume(pid_t tid, int sig)
{
	if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig) == -1 &&
	    errno != ESRCH)
		log_warn("ptrace CONT %d", (int)tid);
}

/*
 * A tracee we have not seen: a child auto-attached on fork/clone whose
 * own first stop came before its parent's event. It belongs to the job of
 * its process (a thread) or of its parent (a process).
 */
static struct task *
task_adopt(pid_t tid)
{
	struct pstatus	 ps;
	struct task	*parent, *t;

	if (procinfo_status(tid, &ps, NULL) != 0)
		return NULL;
	if (ps.tgid != tid)
		parent = supervise_find(ps.tgid);
	else
		parent = supervise_find(ps.ppid);
	if (parent == NULL) {
		log_warnx("tracee %d of unknown origin (parent %d)", (int)tid,
		    (int)ps.ppid);
		t = task_add(tid, ps.tgid, ps.ppid, ps.ruid, ps.rgid, 0);
		access_privileged(t, 0);
		return t;
	}
	t = task_add(tid, ps.tgid, ps.ppid, parent->owner, parent->owner_gid,
	    parent->job);
	/* what its parent gained, it has too */
	if (parent->priv != NULL)
		t->priv = xstrdup(parent->priv);
	/* a child is balanced as its parent was asked to be */
	t->stay = parent->stay;
	memcpy(t->allowed, parent->allowed, sizeof t->allowed);
	t->nallowed = parent->nallowed;
	return t;
}

static void
on_fork(struct task *t, int sig)
{
	unsigned long	 msg;
	pid_t		 child;
	pid_t		 tid = t->tid;

	if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == -1) {
		log_warn("ptrace GETEVENTMSG %d", (int)tid);
		resume(tid, 0);
		return;
	}
	child = (pid_t)msg;
	if (supervise_find(child) == NULL)
		task_adopt(child);
	resume(tid, 0);
}

static void
on_exec(struct task *t, int sig)
{
	struct task	*o, *tmp;
	unsigned long	 msg;
	pid_t		 tgid = t->tgid;

	/*
	 * A non-leader thread that calls exec takes over the leader's tid;
	 * the event message is its former tid, which will never report again,
	 * and nor will the other threads, which exec killed.
	 */
	if (ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &msg) == 0 &&
	    (pid_t)msg != t->tid && (o = supervise_find((pid_t)msg)) != NULL)
		task_remove(o);
	TAILQ_FOREACH_SAFE(o, &tasks, entry, tmp) {
		if (o->tgid == tgid && o->tid != tgid && o != t)
			task_remove(o);
	}
	supervise_refresh(tgid);
	if ((t = supervise_find(tgid)) != NULL) {
		log_debug("process %d exec: %s", (int)tgid, t->command);
		/*
		 * Its new credentials are in place and it is stopped: a
		 * set-uid, set-gid or file-capability exec shows now.
		 */
		access_privileged(t, 1);
	}
	resume(tgid, 0);
	if (t != NULL)
		migrate_on_exec(t);
}

static int
is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU;
}

static void
on_stop(struct task *t, int sig)
{
	/*
	 * A group-stop: LISTEN keeps it stopped, as it would be without us,
	 * until a SIGCONT, which the kernel reports as another event stop.
	 * Anything else (a new child's first stop, a stray interrupt): go on.
	 */
	if (is_stop_signal(sig)) {
		t->state = PROTO_STATE_STOPPED;
		if (ptrace(PTRACE_LISTEN, t->tid, NULL, NULL) == -1 &&
		    errno != ESRCH)
			log_warn("ptrace LISTEN %d", (int)t->tid);
		return;
	}
	t->state = PROTO_STATE_RUNNING;
	resume(t->tid, 0);
}

static void
on_signal(struct task *t, int sig)
{
	/* a system-call stop cannot happen (no PTRACE_SYSCALL); never inject it */
	if (sig == (SIGTRAP | 0x80))
		sig = 0;
	/* away: the signal is the guest's, passed on by the deputy */
	if (sig != 0 && migrate_on_signal(t, sig))
		return;
	resume(t->tid, sig);
}

static void
handle_status(pid_t tid, int status)
{
	const struct stop_handler	*h;
	struct task			*t;
	int				 event;
	size_t				 i;

	t = supervise_find(tid);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t != NULL) {
			migrate_task_gone(t);
			task_remove(t);
		} else
			migrate_child_exited(tid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if (t == NULL && (t = task_adopt(tid)) == NULL) {
		/* gone already, or not ours (a helper child): let it go */
		resume(tid, 0);
		return;
	}
	event = (unsigned)status >> 16;
	for (i = 0; i < sizeof stop_handlers / sizeof stop_handlers[0]; i++) {
		h = &stop_handlers[i];
		if (h->event == event) {
			h->fn(t, WSTOPSIG(status));
			return;
		}
	}
	log_debug("tracee %d: unexpected event %d", (int)tid, event);
	resume(tid, 0);
}

void
supervise_reap(void)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		handle_status(pid, status);
	}
}

/* Wait up to DETACH_WAIT_MS for tid to stop, then detach it from there. */
static void
detach_one(struct task *t)
{
	struct timespec	ts = { 0, 1000 * 1000 };
	pid_t		pid;
	int		status, waited, sig;

	for (waited = 0; waited < DETACH_WAIT_MS; waited++) {
		pid = waitpid(t->tid, &status, WNOHANG | __WALL);
		if (pid == -1)
			return;		/* gone */
		if (pid == 0) {
			nanosleep(&ts, NULL);
			continue;
		}
		if (!WIFSTOPPED(status))
			return;		/* exited */
		/* a pending signal travels on; an event stop has none */
		sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
		if (sig == (SIGTRAP | 0x80))
			sig = 0;
		if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)sig) ==
		    -1 && errno != ESRCH)
			log_warn("ptrace DETACH %d", (int)t->tid);
		return;
	}
	/* the kernel detaches it when ommd exits */
	log_warnx("task %d did not stop, leaving it to the kernel",
	    (int)t->tid);
}

void
supervise_detach_all(void)
{
	struct task	*t;
	int		 n = 0;

	supervise_reap();
	TAILQ_FOREACH(t, &tasks, entry) {
		if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) == -1 &&
		    errno != ESRCH)
			log_warn("ptrace INTERRUPT %d", (int)t->tid);
	}
	while ((t = TAILQ_FIRST(&tasks)) != NULL) {
		detach_one(t);
		n++;
		/* the exit of a task removed here is not reported to anyone */
		TAILQ_REMOVE(&tasks, t, entry);
		LIST_REMOVE(t, hash);
		free(t->command);
		free(t->priv);
		free(t);
	}
	if (n != 0)
		log_info("detached from %d tasks", n);
}
