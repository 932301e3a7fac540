/*
 * threads [CHECKS]: a multi-threaded process whose threads keep working
 * through a checkpoint or a move, each stopped wherever it happens to be
 * (futex waits, a mutex or barrier, nanosleep, poll, read, clone):
 *
 *   ring0-3  four threads passing a token round a futex word (FUTEX_WAIT,
 *            FUTEX_WAKE), ring0 sleeping 100 us every 64 rounds
 *   prod     producer and consumer over a bounded queue (mutex, two
 *   cons     condition variables): the consumer checks the sequence
 *   bar0-1   two threads incrementing a counter under a robust
 *            priority-inheritance mutex, a barrier between steps: after
 *            each step the counter is exactly 2 * step
 *   reader   blocked in poll then read on a pipe; the main thread writes
 *            a line there at the last check
 *   sig      its own signal mask (everything blocked; SIGRTMIN let in by
 *            sigsuspend), an alternate signal stack, SCHED_BATCH,
 *            nice 5, a name; a SIGUSR2 sent to it alone (pthread_kill)
 *            before READY stays pending for it; at every check the main
 *            thread sends it SIGRTMIN (pthread_kill), whose handler must
 *            run in it, on its alternate stack
 *   spawn    creates and joins short-lived threads, one after another
 *
 * At each check (SIGUSR1, CHECKS of them, 1 by default) every thread must
 * make progress again, each checking its own state as it goes; at the
 * last, the reader gets its line, sig its pending SIGUSR2, and all stop
 * and are joined. Every thread compares gettid() with the id it had when
 * it started: with THREADS_SAME_TIDS=1 a change is a mismatch (a restore
 * where the ids were free must keep them), else it must at least agree
 * with the id the signal handler sees. Output is the same whether or not
 * anything happened in between: "check N: ok" lines (CHECKS > 1), then
 * PASS or FAIL.
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include <linux/futex.h>

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "prog.h"

#define RING		4
#define QUEUE		16
#define ALTSTACK	(64 * 1024)
#define PROGRESS_SECS	60	/* a check waits this long for progress */
#define LINE		"hello from the main thread\n"

static atomic_int	stop;
static int		same_tids;
static pthread_mutex_t	fail_lock = PTHREAD_MUTEX_INITIALIZER;

/* prog_fail from any thread */
#define TCHECK(cond, ...) do {						\
	if (!(cond)) {							\
		pthread_mutex_lock(&fail_lock);				\
		prog_fail(__VA_ARGS__);					\
		pthread_mutex_unlock(&fail_lock);			\
	}								\
} while (0)

static pid_t
tid_now(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* A thread's id: the same as at its start, or at least consistent. */
static void
check_tid(const char *who, pid_t at_start)
{
	pid_t	now = tid_now();

	if (same_tids)
		TCHECK(now == at_start, "%s: gettid %d, was %d", who, (int)now,
		    (int)at_start);
}

/* ---- the ring ---- */

static atomic_int	ring_word;		/* whose turn; RING: stopped */
static atomic_long	ring_rounds[RING];

static void
futex_wait(atomic_int *w, int val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void
futex_wake(atomic_int *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static void *
ring_run(void *arg)
{
	int		k = (int)(intptr_t)arg, v;
	pid_t		me = tid_now();
	char		who[16];
	struct timespec	ts = { 0, 100 * 1000 };

	snprintf(who, sizeof who, "ring%d", k);
	pthread_setname_np(pthread_self(), who);
	for (;;) {
		while ((v = atomic_load(&ring_word)) != k && v != RING)
			futex_wait(&ring_word, v);
		if (v == RING)
			break;
		atomic_fetch_add(&ring_rounds[k], 1);
		if (k == 0 && ring_rounds[0] % 64 == 0)
			nanosleep(&ts, NULL);
		if (atomic_load(&stop)) {
			atomic_store(&ring_word, RING);
			futex_wake(&ring_word);
			break;
		}
		atomic_store(&ring_word, (k + 1) % RING);
		futex_wake(&ring_word);
	}
	check_tid(who, me);
	return NULL;
}

/* ---- producer and consumer ---- */

static pthread_mutex_t	q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	q_notfull = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	q_notempty = PTHREAD_COND_INITIALIZER;
static long		q_item[QUEUE];
static int		q_head, q_len, q_done;
static atomic_long	consumed;

static void *
prod_run(void *arg PROG_UNUSED)
{
	pid_t	me = tid_now();
	long	next = 1;

	pthread_setname_np(pthread_self(), "prod");
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (q_len == QUEUE)
			pthread_cond_wait(&q_notfull, &q_lock);
		if (atomic_load(&stop)) {
			q_done = 1;
			pthread_cond_signal(&q_notempty);
			pthread_mutex_unlock(&q_lock);
			break;
		}
		q_item[(q_head + q_len) % QUEUE] = next++;
		q_len++;
		pthread_cond_signal(&q_notempty);
		pthread_mutex_unlock(&q_lock);
	}
	check_tid("prod", me);
	return NULL;
}

static void *
cons_run(void *arg PROG_UNUSED)
{
	pid_t	me = tid_now();
	long	want = 1, got;

	pthread_setname_np(pthread_self(), "cons");
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (q_len == 0 && !q_done)
			pthread_cond_wait(&q_notempty, &q_lock);
		if (q_len == 0) {
			pthread_mutex_unlock(&q_lock);
			break;
		}
		got = q_item[q_head];
		q_head = (q_head + 1) % QUEUE;
		q_len--;
		pthread_cond_signal(&q_notfull);
		pthread_mutex_unlock(&q_lock);
		TCHECK(got == want, "cons: item %ld, expected %ld", got, want);
		want = got + 1;
		atomic_fetch_add(&consumed, 1);
	}
	check_tid("cons", me);
	return NULL;
}

/* ---- barrier pair ---- */

static pthread_mutex_t	bar_lock;
static pthread_barrier_t bar;
static long		bar_counter;
static atomic_long	bar_steps;
static atomic_int	bar_go;

static void
bar_lock_take(const char *who)
{
	int	r = pthread_mutex_lock(&bar_lock);

	if (r == EOWNERDEAD) {
		TCHECK(0, "%s: robust mutex: owner died", who);
		pthread_mutex_consistent(&bar_lock);
	} else
		TCHECK(r == 0, "%s: pthread_mutex_lock: %s", who, strerror(r));
}

static void *
bar_run(void *arg)
{
	int	k = (int)(intptr_t)arg, r;
	pid_t	me = tid_now();
	long	step, c;
	char	who[16];

	snprintf(who, sizeof who, "bar%d", k);
	pthread_setname_np(pthread_self(), who);
	for (step = 1;; step++) {
		if (k == 0)
			atomic_store(&bar_go, !atomic_load(&stop));
		pthread_barrier_wait(&bar);
		if (!atomic_load(&bar_go))
			break;
		bar_lock_take(who);
		bar_counter++;
		r = pthread_mutex_unlock(&bar_lock);
		TCHECK(r == 0, "%s: pthread_mutex_unlock: %s", who, strerror(r));
		pthread_barrier_wait(&bar);
		bar_lock_take(who);
		c = bar_counter;
		pthread_mutex_unlock(&bar_lock);
		TCHECK(c == 2 * step, "%s: counter %ld after step %ld", who, c,
		    step);
		if (k == 0)
			atomic_store(&bar_steps, step);
		/* nobody increments before both have read */
		pthread_barrier_wait(&bar);
	}
	check_tid(who, me);
	return NULL;
}

/* ---- reader ---- */

static int	rpipe[2];
static char	rgot[64];

static void *
reader_run(void *arg PROG_UNUSED)
{
	struct pollfd	pfd;
	pid_t		me = tid_now();
	ssize_t		n;
	int		r;

	pthread_setname_np(pthread_self(), "reader");
	pfd.fd = rpipe[0];
	pfd.events = POLLIN;
	r = poll(&pfd, 1, -1);
	TCHECK(r == 1, "reader: poll returned %d (%s)", r, strerror(errno));
	n = read(rpipe[0], rgot, sizeof rgot - 1);
	TCHECK(n == (ssize_t)strlen(LINE), "reader: read returned %zd (%s)",
	    n, strerror(errno));
	check_tid("reader", me);
	return NULL;
}

/* ---- signals ---- */

static pthread_t	sig_thread;
static _Atomic pid_t	sig_tid;
static uint8_t		*sig_stack;
static atomic_int	rt_count, usr2_count, rt_wrong;
static atomic_int	sig_checks;		/* checks sig made itself */

static void
rt_handler(int sig PROG_UNUSED, siginfo_t *si PROG_UNUSED, void *uc PROG_UNUSED)
{
	char	here;

	if (tid_now() != sig_tid || (uint8_t *)&here < sig_stack ||
	    (uint8_t *)&here >= sig_stack + ALTSTACK)
		atomic_fetch_add(&rt_wrong, 1);
	atomic_fetch_add(&rt_count, 1);
}

static void
usr2_handler(int sig PROG_UNUSED)
{
	if (tid_now() != sig_tid)
		atomic_fetch_add(&rt_wrong, 1);
	atomic_fetch_add(&usr2_count, 1);
}

/* What sig has set up for itself; checked again at each check. */
static void
sig_check_state(int expect_usr2)
{
	sigset_t	cur, pend;
	stack_t		ss;
	struct sched_param sp;
	char		name[16];
	int		pol, nice;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	TCHECK(sigismember(&cur, SIGUSR2) == 1 && sigismember(&cur, SIGTERM) ==
	    1 && sigismember(&cur, SIGRTMIN) == 1,
	    "sig: signal mask changed (SIGUSR2 %d, SIGTERM %d, SIGRTMIN %d)",
	    sigismember(&cur, SIGUSR2), sigismember(&cur, SIGTERM),
	    sigismember(&cur, SIGRTMIN));
	sigpending(&pend);
	TCHECK(sigismember(&pend, SIGUSR2) == expect_usr2,
	    "sig: SIGUSR2 %spending", expect_usr2 ? "not " : "");
	TCHECK(sigaltstack(NULL, &ss) == 0 && ss.ss_sp == sig_stack &&
	    ss.ss_size == ALTSTACK && ss.ss_flags == 0,
	    "sig: altstack %p size %zu flags %d, expected %p size %d",
	    ss.ss_sp, ss.ss_size, ss.ss_flags, (void *)sig_stack, ALTSTACK);
	pol = sched_getscheduler(0);
	TCHECK(pol == SCHED_BATCH && sched_getparam(0, &sp) == 0 &&
	    sp.sched_priority == 0, "sig: policy %d, expected SCHED_BATCH",
	    pol);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, (id_t)tid_now());
	TCHECK(nice == 5, "sig: nice %d, expected 5", nice);
	pthread_getname_np(pthread_self(), name, sizeof name);
	TCHECK(strcmp(name, "omm-sig") == 0, "sig: name %s", name);
}

static void *
sig_run(void *arg PROG_UNUSED)
{
	struct sched_param	sp = { 0 };
	sigset_t		mask, wait;
	stack_t			ss;
	int			seen = 0;

	sig_tid = tid_now();
	pthread_setname_np(pthread_self(), "omm-sig");
	ss.ss_sp = sig_stack;
	ss.ss_size = ALTSTACK;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) == -1)
		prog_die("sigaltstack");
	if (sched_setscheduler(0, SCHED_BATCH, &sp) == -1)
		prog_die("SCHED_BATCH");
	if (setpriority(PRIO_PROCESS, (id_t)sig_tid, 5) == -1)
		prog_die("setpriority");
	/* everything blocked but in sigsuspend, which lets SIGRTMIN in */
	sigfillset(&mask);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	wait = mask;
	sigdelset(&wait, SIGRTMIN);
	for (;;) {
		/* a check's SIGRTMIN, or the last one's SIGRTMIN + stop */
		while (atomic_load(&rt_count) == seen)
			sigsuspend(&wait);
		seen = atomic_load(&rt_count);
		sig_check_state(1);
		check_tid("sig", sig_tid);
		atomic_fetch_add(&sig_checks, 1);
		if (atomic_load(&stop))
			break;
	}
	/* the SIGUSR2 sent to it before READY, now */
	sigdelset(&mask, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	TCHECK(usr2_count == 1, "sig: SIGUSR2 delivered %d times, expected 1",
	    (int)usr2_count);
	return NULL;
}

/* ---- spawner ---- */

static atomic_long	spawned;

static void *
square(void *arg)
{
	long	v = (long)(intptr_t)arg;

	return (void *)(intptr_t)(v * v);
}

static void *
spawn_run(void *arg PROG_UNUSED)
{
	struct timespec	ts = { 0, 1000 * 1000 };
	pthread_t	t;
	pid_t		me = tid_now();
	void		*ret;
	long		i;

	pthread_setname_np(pthread_self(), "spawn");
	for (i = 1; !atomic_load(&stop); i++) {
		if (pthread_create(&t, NULL, square, (void *)(intptr_t)i) != 0) {
			TCHECK(0, "spawn: pthread_create %ld failed", i);
			break;
		}
		pthread_join(t, &ret);
		TCHECK((long)(intptr_t)ret == i * i, "spawn: thread %ld "
		    "returned %ld", i, (long)(intptr_t)ret);
		atomic_store(&spawned, i);
		nanosleep(&ts, NULL);
	}
	check_tid("spawn", me);
	return NULL;
}

/* ---- main ---- */

/* Wait until every worker has moved on from where it was. */
static void
wait_progress(int check)
{
	long		r[RING], c, b, s;
	int		k, rt, all;
	time_t		until = time(NULL) + PROGRESS_SECS;
	struct timespec	ts = { 0, 10 * 1000 * 1000 };

	for (k = 0; k < RING; k++)
		r[k] = atomic_load(&ring_rounds[k]);
	c = atomic_load(&consumed);
	b = atomic_load(&bar_steps);
	s = atomic_load(&spawned);
	rt = atomic_load(&sig_checks);
	pthread_kill(sig_thread, SIGRTMIN);
	do {
		nanosleep(&ts, NULL);
		all = atomic_load(&consumed) > c + 100 &&
		    atomic_load(&bar_steps) > b + 100 &&
		    atomic_load(&spawned) > s + 10 &&
		    atomic_load(&sig_checks) > rt;
		for (k = 0; k < RING; k++)
			all = all && atomic_load(&ring_rounds[k]) > r[k] + 100;
	} while (!all && time(NULL) < until);
	if (all)
		return;
	for (k = 0; k < RING; k++)
		CHECK(atomic_load(&ring_rounds[k]) > r[k] + 100,
		    "check %d: ring%d stuck at %ld rounds", check, k,
		    (long)ring_rounds[k]);
	CHECK(atomic_load(&consumed) > c + 100, "check %d: consumer stuck at "
	    "%ld", check, (long)consumed);
	CHECK(atomic_load(&bar_steps) > b + 100, "check %d: barrier pair "
	    "stuck at step %ld", check, (long)bar_steps);
	CHECK(atomic_load(&spawned) > s + 10, "check %d: spawner stuck at %ld",
	    check, (long)spawned);
	CHECK(atomic_load(&sig_checks) > rt, "check %d: sig never took its "
	    "SIGRTMIN", check);
}

int
main(int argc, char **argv)
{
	pthread_mutexattr_t	ma;
	struct sigaction	sa;
	pthread_t		ring[RING], prod, cons, bars[2], reader, spawn;
	sigset_t		pend;
	const char		*e;
	int			checks, i, k;

	prog_arm("threads");
	checks = prog_checks(argc, argv);
	same_tids = (e = getenv("THREADS_SAME_TIDS")) != NULL &&
	    strcmp(e, "1") == 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, NULL) == -1)
		prog_die("sigaction SIGRTMIN");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = usr2_handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR2, &sa, NULL) == -1)
		prog_die("sigaction SIGUSR2");
	/* the workers and main take neither: sig alone does */
	{
		sigset_t	b;

		sigemptyset(&b);
		sigaddset(&b, SIGUSR1);
		sigaddset(&b, SIGUSR2);
		sigaddset(&b, SIGRTMIN);
		pthread_sigmask(SIG_BLOCK, &b, NULL);
	}
	if ((sig_stack = malloc(ALTSTACK)) == NULL)
		prog_die("malloc");
	if (pipe(rpipe) == -1)
		prog_die("pipe");
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	if (pthread_mutex_init(&bar_lock, &ma) != 0)
		prog_die("robust PI mutex");
	pthread_barrier_init(&bar, NULL, 2);

	for (k = 0; k < RING; k++) {
		if (pthread_create(&ring[k], NULL, ring_run,
		    (void *)(intptr_t)k) != 0)
			prog_die("pthread_create ring");
	}
	if (pthread_create(&prod, NULL, prod_run, NULL) != 0 ||
	    pthread_create(&cons, NULL, cons_run, NULL) != 0 ||
	    pthread_create(&bars[0], NULL, bar_run, (void *)0) != 0 ||
	    pthread_create(&bars[1], NULL, bar_run, (void *)1) != 0 ||
	    pthread_create(&reader, NULL, reader_run, NULL) != 0 ||
	    pthread_create(&sig_thread, NULL, sig_run, NULL) != 0 ||
	    pthread_create(&spawn, NULL, spawn_run, NULL) != 0)
		prog_die("pthread_create");
	/* pending for sig alone, blocked there until the last check */
	while (sig_tid == 0)
		sched_yield();
	pthread_kill(sig_thread, SIGUSR2);
	wait_progress(0);

	prog_ready();
	for (i = 1; i <= checks; i++) {
		if (i == 1)
			prog_wait_usr1();
		else
			prog_wait_next();
		wait_progress(i);
		sigpending(&pend);
		CHECK(!sigismember(&pend, SIGUSR2), "check %d: SIGUSR2 pending "
		    "for the main thread", i);
		if (checks > 1)
			printf("check %d: ok\n", i);
		fflush(stdout);
	}

	atomic_store(&stop, 1);
	if (write(rpipe[1], LINE, strlen(LINE)) != (ssize_t)strlen(LINE))
		prog_die("write");
	pthread_kill(sig_thread, SIGRTMIN);
	for (k = 0; k < RING; k++)
		pthread_join(ring[k], NULL);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	pthread_join(bars[0], NULL);
	pthread_join(bars[1], NULL);
	pthread_join(reader, NULL);
	pthread_join(sig_thread, NULL);
	pthread_join(spawn, NULL);
	CHECK(strcmp(rgot, LINE) == 0, "reader: got \"%s\"", rgot);
	CHECK(rt_wrong == 0, "%d signals ran in the wrong thread or stack",
	    (int)rt_wrong);
	return prog_finish();
}
