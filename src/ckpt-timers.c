/*
 * ckpt-timers.c: a process's timers, read at a dump and set up again at a
 * restore, by system calls injected into it.
 *
 * Interval timers (ITIMER_REAL, which alarm() arms too, ITIMER_VIRTUAL,
 * ITIMER_PROF) show only to the process itself: getitimer. POSIX timers
 * are listed in /proc/PID/timers (id, signal and sigev_value, notification,
 * clock); what is left of them comes from timer_gettime. Both give
 * relative times, which is what the image carries: a restore arms each
 * timer with what was left, so neither CLOCK_MONOTONIC nor CLOCK_BOOTTIME,
 * which differ from node to node, is ever compared between two nodes, and
 * a CPU-time timer gets the CPU time it had left on the new process's
 * clock. Pending timer signals are in the SIGNALS section with the others.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omm/image.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/sysent.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/*
 * prctl(PR_TIMER_CREATE_RESTORE_IDS) (Linux 6.15, uapi linux/prctl.h):
 * while on, timer_create takes the id to create from *created_timer_id.
 * The installed headers may predate it.
 */
#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF	0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#endif

/* Scratch use (the last KiB of the injection's pages: no caller's there). */
#define SCR_TIMERS	(INJECT_SCRATCH_SIZE - 1024)
#define SCR_TSPEC	(SCR_TIMERS)		/* struct itimerspec / itimerval, 32 */
#define SCR_SEV		(SCR_TIMERS + 64)	/* struct sigevent, 64 */
#define SCR_ID		(SCR_TIMERS + 128)	/* timer_t (an int to the kernel) */

/* Reads of the timers that saw one expire between them: read again. */
#define TIMERS_TRIES	20

/* Ids timer_create may hand out in order before the one wanted (no prctl). */
#define TIMERS_MAX_FILL	4096

#define NS	1000000000ULL

/*
 * glibc makes a SIGEV_THREAD timer a SIGEV_THREAD_ID one whose signal,
 * SIGTIMER (its first internal real-time signal), goes to a helper thread
 * that starts a thread per expiry: the kernel never sees SIGEV_THREAD.
 */
#define GLIBC_SIGTIMER	32

static uint64_t
tv_ns(uint64_t sec, uint64_t usec)
{
	return sec * NS + usec * 1000;
}

/* A CPU clock of the process itself, as pid 0; -1 when it names another. */
static int
timer_clock(pid_t pid, int32_t clk, int32_t *out)
{
	int32_t	p;

	if (clk >= 0) {
		*out = clk;
		return 0;
	}
	if (SYSENT_CLK_IS_FD(clk))
		return -1;
	p = SYSENT_CLK_PID(clk);
	if (p != 0 && p != pid)
		return -1;
	*out = SYSENT_CLK_PROCESS(0, SYSENT_CLK_WHICH(clk)) |
	    (SYSENT_CLK_THREAD(clk) ? 4 : 0);
	return 0;
}

/* Why timer t of pid cannot be carried, as a malloc'd message, or NULL. */
static char *
timer_why(pid_t pid, const struct procfs_timer *t)
{
	char	*why = NULL;
	int32_t	 clk;

	if ((t->notify & ~4u) == 2) {
		xasprintf(&why, "POSIX timer %d was made with SIGEV_THREAD "
		    "given to the kernel itself (not through glibc): not "
		    "carried", t->id);
	} else if ((t->notify & 4) && t->target != pid &&
	    t->signo == GLIBC_SIGTIMER) {
		xasprintf(&why, "POSIX timer %d notifies by SIGEV_THREAD "
		    "(glibc's helper thread %d takes its signal %d and starts a "
		    "thread per expiry): threads are not carried", t->id,
		    t->target, t->signo);
	} else if ((t->notify & 4) && t->target != pid) {
		xasprintf(&why, "POSIX timer %d signals thread %d, not the "
		    "process's own (SIGEV_THREAD_ID: threads are not carried)",
		    t->id, t->target);
	} else if ((t->notify & 4) && (t->notify & ~4u) != 0) {
		xasprintf(&why, "POSIX timer %d: notification %#x", t->id,
		    t->notify);
	} else if (timer_clock(pid, t->clock, &clk) == -1) {
		if (SYSENT_CLK_IS_FD(t->clock))
			xasprintf(&why, "POSIX timer %d is on a clock behind "
			    "descriptor %d", t->id, SYSENT_CLK_PID(t->clock));
		else
			xasprintf(&why, "POSIX timer %d is on the CPU clock of "
			    "another process (%d)", t->id,
			    SYSENT_CLK_PID(t->clock));
	}
	return why;
}

/* The process's POSIX timers, from /proc (none: *n 0). */
static int
timers_list(pid_t pid, struct procfs_timer **t, size_t *n, char **cause)
{
	char	*text;
	int	 rv;

	*t = NULL;
	*n = 0;
	if (procfs_slurp(pid, "timers", &text, NULL, cause) == -1)
		return -1;
	rv = procfs_timers_parse(text, t, n, cause);
	free(text);
	return rv;
}

char *
ckpt_timers_why(pid_t pid)
{
	struct procfs_timer	*t;
	size_t			 n, i;
	char			*why = NULL;

	/* No /proc/PID/timers (CONFIG_CHECKPOINT_RESTORE off): none to see. */
	if (timers_list(pid, &t, &n, &why) == -1) {
		free(why);
		return NULL;
	}
	if (n > IMG_MAX_TIMERS)
		xasprintf(&why, "%zu POSIX timers, more than %d", n,
		    IMG_MAX_TIMERS);
	for (i = 0; i < n && why == NULL; i++)
		why = timer_why(pid, &t[i]);
	free(t);
	return why;
}

int
ckpt_timers_read(struct inject *in, pid_t pid, struct img_timers *out,
    char **cause)
{
	struct procfs_timer	*pt = NULL;
	struct img_ptimer	*q;
	uint64_t		 v[4];		/* itimerval, itimerspec */
	size_t			 n = 0, i;
	long			 ret;
	char			*why;
	int			 which;

	memset(out, 0, sizeof *out);
	for (which = 0; which < IMG_NITIMERS; which++) {
		if (INJECT(in, &ret, cause, SYS_getitimer, which,
		    inject_scratch(in) + SCR_TSPEC) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "getitimer(%d): %s", which,
			    strerror((int)-ret));
		if (inject_read(in, SCR_TSPEC, v, sizeof v, cause) == -1)
			return -1;
		/* struct itimerval: it_interval, then it_value */
		out->it[which].interval_ns = tv_ns(v[0], v[1]);
		out->it[which].value_ns = tv_ns(v[2], v[3]);
	}
	if (timers_list(pid, &pt, &n, cause) == -1)
		return -1;
	if (n > IMG_MAX_TIMERS) {
		cause_set(cause, "%zu POSIX timers, more than %d", n,
		    IMG_MAX_TIMERS);
		goto fail;
	}
	out->t = n == 0 ? NULL : xcalloc(n, sizeof *out->t);
	for (i = 0; i < n; i++) {
		if ((why = timer_why(pid, &pt[i])) != NULL) {
			cause_set(cause, "%s", why);
			free(why);
			goto fail;
		}
		q = &out->t[out->n++];
		q->id = pt[i].id;
		(void)timer_clock(pid, pt[i].clock, &q->clock);
		q->notify = (pt[i].notify & 4) ? IMG_SIGEV_THREAD_ID :
		    pt[i].notify;
		q->signo = (uint32_t)pt[i].signo;
		q->value = pt[i].value;
		if (INJECT(in, &ret, cause, SYS_timer_gettime, q->id,
		    inject_scratch(in) + SCR_TSPEC) == -1)
			goto fail;
		if (ret != 0) {
			cause_set(cause, "timer_gettime(%d): %s", q->id,
			    strerror((int)-ret));
			goto fail;
		}
		if (inject_read(in, SCR_TSPEC, v, sizeof v, cause) == -1)
			goto fail;
		/* struct itimerspec: it_interval, then it_value */
		q->interval_ns = v[0] * NS + v[1];
		q->value_ns = v[2] * NS + v[3];
		if (INJECT(in, &ret, cause, SYS_timer_getoverrun, q->id) == -1)
			goto fail;
		q->overrun = ret < 0 ? 0 : (uint32_t)ret;
	}
	free(pt);
	return 0;
fail:
	free(pt);
	free(out->t);
	memset(out, 0, sizeof *out);
	return -1;
}

/* One timer went off between a and b (its time left went up, or to 0). */
static int
timer_fired(uint64_t a, uint64_t b)
{
	return a != 0 && (b == 0 || b > a);
}

int
ckpt_timers_expired(const struct img_timers *a, const struct img_timers *b)
{
	uint32_t	i;

	for (i = 0; i < IMG_NITIMERS; i++) {
		if (timer_fired(a->it[i].value_ns, b->it[i].value_ns))
			return 1;
	}
	if (a->n != b->n)
		return 1;
	for (i = 0; i < a->n; i++) {
		if (a->t[i].id != b->t[i].id ||
		    timer_fired(a->t[i].value_ns, b->t[i].value_ns))
			return 1;
	}
	return 0;
}

int
ckpt_timers_tries(void)
{
	return TIMERS_TRIES;
}

/* Delete every POSIX timer pid has. */
static int
timers_delete_all(struct inject *in, pid_t pid, char **cause)
{
	struct procfs_timer	*pt;
	size_t			 n, i;
	long			 ret;

	if (timers_list(pid, &pt, &n, cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (INJECT(in, &ret, cause, SYS_timer_delete, pt[i].id) == -1) {
			free(pt);
			return -1;
		}
		if (ret != 0 && ret != -EINVAL) {
			cause_set(cause, "timer_delete(%d): %s", pt[i].id,
			    strerror((int)-ret));
			free(pt);
			return -1;
		}
	}
	free(pt);
	return 0;
}

int
ckpt_timers_stop(struct inject *in, pid_t pid, char **cause)
{
	uint64_t	zero[4] = { 0, 0, 0, 0 };
	long		ret;
	int		which;

	if (inject_write(in, SCR_TSPEC, zero, sizeof zero, cause) == -1)
		return -1;
	for (which = 0; which < IMG_NITIMERS; which++) {
		if (INJECT(in, &ret, cause, SYS_setitimer, which,
		    inject_scratch(in) + SCR_TSPEC, 0) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "setitimer(%d): %s", which,
			    strerror((int)-ret));
	}
	return timers_delete_all(in, pid, cause);
}

int
ckpt_timer_siginfo(const siginfo_t *si)
{
	if (si->si_code == SI_TIMER)
		return 1;
	/* it_real_fn and the CPU itimers send SEND_SIG_PRIV: SI_KERNEL */
	return si->si_code == SI_KERNEL && (si->si_signo == SIGALRM ||
	    si->si_signo == SIGVTALRM || si->si_signo == SIGPROF);
}

/* A sigevent of t for the kernel (struct sigevent: value, signo, notify, tid). */
static void
timer_sigevent(const struct img_ptimer *t, int32_t tid, uint8_t sev[64])
{
	int32_t	signo = (int32_t)t->signo, notify;

	notify = t->notify == IMG_SIGEV_THREAD_ID ? SIGEV_SIGNAL |
	    SIGEV_THREAD_ID : (int32_t)t->notify;
	memset(sev, 0, 64);
	memcpy(sev, &t->value, 8);
	memcpy(sev + 8, &signo, 4);
	memcpy(sev + 12, &notify, 4);
	memcpy(sev + 16, &tid, 4);
}

/* timer_create(t) in the tracee; *got is the id the kernel gave. */
static int
timer_make(struct inject *in, const struct img_ptimer *t, int32_t tid,
    int32_t want, int32_t *got, char **cause)
{
	uint8_t	sev[64];
	long	ret;

	timer_sigevent(t, tid, sev);
	if (inject_write(in, SCR_SEV, sev, sizeof sev, cause) == -1 ||
	    inject_write(in, SCR_ID, &want, sizeof want, cause) == -1)
		return -1;
	if (INJECT(in, &ret, cause, SYS_timer_create, t->clock,
	    inject_scratch(in) + SCR_SEV, inject_scratch(in) + SCR_ID) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "timer_create for timer %d (clock %d): "
		    "%s", t->id, t->clock, strerror((int)-ret));
	return inject_read(in, SCR_ID, got, sizeof *got, cause);
}

/* A filler timer goes (a failure shows when the next call fails too). */
static void
timer_drop(struct inject *in, int32_t id)
{
	long	ret = 0;

	if (INJECT(in, &ret, NULL, SYS_timer_delete, id) == -1 || ret != 0)
		log_debug("timer_delete(%d) of a filler: %ld", id, ret);
}

/*
 * Without PR_TIMER_CREATE_RESTORE_IDS the kernel hands ids out in order:
 * timers are created until the wanted id comes (the ones before it that
 * the image lacks are made and deleted again), in a process whose next id
 * is not beyond it.
 */
static int
timer_make_in_order(struct inject *in, const struct img_ptimer *t,
    int32_t tid, char **cause)
{
	int32_t	got, fill[64];
	size_t	nfill = 0, k, made;
	int	rv = -1;

	for (made = 0; made < TIMERS_MAX_FILL; made++) {
		if (timer_make(in, t, tid, 0, &got, cause) == -1)
			goto out;
		if (got == t->id) {
			rv = 0;
			goto out;
		}
		if (got > t->id) {
			cause_set(cause, "timer %d came back as id %d: this "
			    "kernel lacks PR_TIMER_CREATE_RESTORE_IDS (Linux "
			    "6.15) and its ids are past the image's", t->id,
			    got);
			fill[nfill++] = got;	/* below 64: emptied at 64 */
			goto out;
		}
		fill[nfill++] = got;
		if (nfill == 64) {
			for (k = 0; k < nfill; k++)
				timer_drop(in, fill[k]);
			nfill = 0;
		}
	}
	cause_set(cause, "timer %d: more than %d ids before it (no "
	    "PR_TIMER_CREATE_RESTORE_IDS)", t->id, TIMERS_MAX_FILL);
out:
	for (k = 0; k < nfill; k++)
		timer_drop(in, fill[k]);
	return rv;
}

/* Round up to whole microseconds: a timer due in 300 ns is not disarmed. */
static void
ns_tv(uint64_t ns, uint64_t tv[2])
{
	uint64_t	us = (ns + 999) / 1000;

	tv[0] = us / 1000000;
	tv[1] = us % 1000000;
}

/* Is a SIGALRM of the real interval timer (SI_KERNEL) pending in sig? */
static int
alarm_pending(const struct img_signals *sig)
{
	siginfo_t	si;
	uint32_t	i;

	for (i = 0; i < sig->npending; i++) {
		memcpy(&si, sig->pending[i].raw, sizeof si);
		if (si.si_signo == SIGALRM && si.si_code == SI_KERNEL)
			return 1;
	}
	return 0;
}

/* setitimer in the tracee; *after (NULL: not asked) is what getitimer says then. */
static int
itimer_set(struct inject *in, int which, uint64_t value_ns,
    uint64_t interval_ns, uint64_t *after, char **cause)
{
	uint64_t	v[4];
	long		ret;

	ns_tv(interval_ns, v);
	ns_tv(value_ns, v + 2);
	if (inject_write(in, SCR_TSPEC, v, sizeof v, cause) == -1)
		return -1;
	if (INJECT(in, &ret, cause, SYS_setitimer, which,
	    inject_scratch(in) + SCR_TSPEC, 0) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "setitimer(%d): %s", which,
		    strerror((int)-ret));
	if (after == NULL)
		return 0;
	if (INJECT(in, &ret, cause, SYS_getitimer, which,
	    inject_scratch(in) + SCR_TSPEC) == -1)
		return -1;
	if (ret != 0)
		return cause_set(cause, "getitimer(%d): %s", which,
		    strerror((int)-ret));
	if (inject_read(in, SCR_TSPEC, v, sizeof v, cause) == -1)
		return -1;
	*after = tv_ns(v[2], v[3]);
	return 0;
}

int
ckpt_timers_restore(struct inject *in, pid_t pid, const struct img_timers *t,
    const struct img_signals *sig, char **cause)
{
	const struct img_ptimer	*q;
	uint64_t		 v[4], after;
	uint32_t		 i;
	int32_t			 tid, got;
	long			 ret;
	int			 which, byid = 0;

	/* An original coming home had its own put away when it was parked. */
	if (timers_delete_all(in, pid, cause) == -1)
		return -1;
	for (which = 0; which < IMG_NITIMERS; which++) {
		struct img_itimer	it = t->it[which];

		/*
		 * A periodic ITIMER_REAL is re-armed by the dequeue of its
		 * SIGALRM: with that signal pending (blocked) it shows 0 left
		 * and its interval, a state setitimer cannot make (0 disarms).
		 * Due at once, it sends a SIGALRM the pending one absorbs,
		 * and is re-armed when the process takes it, as it would be.
		 */
		if (which == ITIMER_REAL && it.value_ns == 0 &&
		    it.interval_ns != 0 && alarm_pending(sig))
			it.value_ns = 1000;
		if (which == ITIMER_REAL || it.value_ns == 0) {
			if (itimer_set(in, which, it.value_ns, it.interval_ns,
			    NULL, cause) == -1)
				return -1;
			continue;
		}
		/*
		 * The kernel adds a tick (1/HZ) of CPU time to what a CPU
		 * itimer is set to (set_cpu_itimer): once set, getitimer
		 * shows how much, and it is set again that much lower, so
		 * that a move does not add a tick to it.
		 */
		if (itimer_set(in, which, it.value_ns, it.interval_ns, &after,
		    cause) == -1)
			return -1;
		if (after > it.value_ns + 1000 &&
		    it.value_ns > after - it.value_ns &&
		    itimer_set(in, which, it.value_ns - (after - it.value_ns),
		    it.interval_ns, NULL, cause) == -1)
			return -1;
	}
	if (t->n == 0)
		return 0;
	/* SIGEV_THREAD_ID names the process's one thread: its tid here. */
	if (INJECT(in, &ret, cause, SYS_gettid) == -1)
		return -1;
	tid = (int32_t)ret;
	if (INJECT(in, &ret, cause, SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS,
	    PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == -1)
		return -1;
	if (ret == 0)
		byid = 1;
	else if (ret != -EINVAL)
		return cause_set(cause, "PR_TIMER_CREATE_RESTORE_IDS: %s",
		    strerror((int)-ret));
	else
		log_debug("pid %ld: no PR_TIMER_CREATE_RESTORE_IDS: timers "
		    "created in id order", (long)pid);
	for (i = 0; i < t->n; i++) {
		q = &t->t[i];
		if (byid) {
			if (timer_make(in, q, tid, q->id, &got, cause) == -1)
				return -1;
			if (got != q->id)
				return cause_set(cause, "timer %d came back as "
				    "id %d", q->id, got);
		} else if (timer_make_in_order(in, q, tid, cause) == -1)
			return -1;
	}
	if (byid) {
		if (INJECT(in, &ret, cause, SYS_prctl,
		    PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF,
		    0, 0, 0) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "PR_TIMER_CREATE_RESTORE_IDS "
			    "off: %s", strerror((int)-ret));
	}
	/* Armed last, all at once: what was left starts running now. */
	for (i = 0; i < t->n; i++) {
		q = &t->t[i];
		if (q->value_ns == 0)
			continue;
		v[0] = q->interval_ns / NS;
		v[1] = q->interval_ns % NS;
		v[2] = q->value_ns / NS;
		v[3] = q->value_ns % NS;
		if (inject_write(in, SCR_TSPEC, v, sizeof v, cause) == -1)
			return -1;
		if (INJECT(in, &ret, cause, SYS_timer_settime, q->id, 0,
		    inject_scratch(in) + SCR_TSPEC, 0) == -1)
			return -1;
		if (ret != 0)
			return cause_set(cause, "timer_settime(%d): %s", q->id,
			    strerror((int)-ret));
	}
	return 0;
}
