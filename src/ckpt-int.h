/* ckpt-int.h: what ckpt-dump.c, ckpt-restore.c and cantmove.c share. */
#ifndef OMM_CKPT_INT_H
#define OMM_CKPT_INT_H

#include <sys/stat.h>
#include <sys/types.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "omm/ckpt.h"
#include "omm/image.h"
#include "omm/procfs.h"

#define CKPT_PAGE	4096ULL

/* PTRACE_GET_RSEQ_CONFIGURATION (5.13+); not in every libc's headers. */
#define CKPT_PTRACE_GET_RSEQ_CONFIGURATION	0x420f
struct ckpt_rseq_conf {
	uint64_t	rseq_abi_pointer;
	uint32_t	rseq_abi_size;
	uint32_t	signature;
	uint32_t	flags;
	uint32_t	pad;
};
#define CKPT_RSEQ_FLAG_UNREGISTER	1

/* arch_prctl(ARCH_MAP_VDSO_64, addr): the vDSO (vvar pages first) at addr. */
#define CKPT_ARCH_MAP_VDSO_64	0x2003

/*
 * Two of the kernel's syscall-restart codes (include/linux/errno.h): a
 * tracee stopped inside an interrupted call shows -ERESTART* in rax.
 */
#define CKPT_ERESTARTNOHAND		514
#define CKPT_ERESTART_RESTARTBLOCK	516

/*
 * (cantmove.c) Kind of a mapping from its maps line: IMG_VMA_* flags (HEAP,
 * STACK, VDSO, VVAR, VSYSCALL, FILE, SHARED), or -1 with *why when it cannot
 * move. For a file mapping *st is the file's stat (checked to be the mapped
 * one).
 */
int	ckpt_vma_kind(const struct procfs_vma *, uint32_t *flags,
	    struct stat *st, char **why);
/*
 * (cantmove.c) The same for a mapping of process pid, in a checkpoint
 * (migrate 0) or an image that migrates (CKPT_MIGRATE): shared anonymous
 * memory no other process maps is fine (its pages are carried and the
 * region is mapped shared again, or private on a guest); a writable shared
 * file mapping cannot migrate (its writes must reach the file at home).
 */
int	ckpt_vma_kind_proc(pid_t pid, const struct procfs_vma *, int migrate,
	    uint32_t *flags, struct stat *st, char **why);
/*
 * (cantmove.c) -1 with *why if two of a process's n mappings show the
 * same shared anonymous memory (mremap can alias it): a restore would map
 * two separate regions, and a write through one would no longer show in
 * the other.
 */
int	ckpt_vmas_aliased(const struct procfs_vma *, size_t n, char **why);

/*
 * An image holds no record locks: a process restored from it would run
 * without the POSIX locks it held, and another could take them under it.
 * NULL when pid holds none, else the refusal naming one (malloc'd).
 * Migration parks them with the deputy instead (ckpt-park.c).
 */
char	*ckpt_locks_held(pid_t pid);

/*
 * (cantmove.c) Kind of an fd from its link target and stat (following the
 * link), or -1 with *why ("fd 5: socket"). A pipe above fd 2 is
 * IMG_FD_PIPE only if ckpt_pipes_check agrees.
 */
int	ckpt_fd_kind(int fd, const char *link, const struct stat *,
	    uint32_t flags, enum img_fd_kind *, char **why);

/*
 * (ckpt-fdkinds.c) What an fd of kind f->kind (EVENTFD to DELETED) holds,
 * into f (fd, kind, flags set): counter, mask, interest list, path, seals,
 * size, and, how saying so, the content. -1 with *why naming the fd when
 * it cannot be carried (an epoll target no longer open, too much content,
 * content only a write-only fd of it would carry).
 */
#define CKPT_FDD_CARRIER	0x01	/* the first fd of its file: carries the content */
#define CKPT_FDD_READ		0x02	/* ... and read it now (dump) */
int	ckpt_fd_details(pid_t, struct img_fd *f, const char *link, int how,
	    char **why);
/*
 * (ckpt-fdkinds.c) Make f again in pid (through in) at f->fd. An epoll
 * comes empty: ckpt_epoll_fill adds its interest list once every fd of
 * the image exists.
 */
struct inject;
int	ckpt_fdkind_restore(pid_t, struct inject *, const struct img *,
	    const struct img_fd *f, int pre, char **cause);
/*
 * (ckpt-fdkinds.c) The memfd entry a IMG_VMA_MEMFD mapping maps from (the
 * first fd of its file, with the content), or NULL. ckpt_memfd_early makes
 * it at its fd, filled, before the mappings; ckpt_fdkind_restore with pre
 * then finishes it (access mode, flags, offset, seals) among the fds.
 */
const struct img_fd *ckpt_memfd_of(const struct img *, const struct img_vma *);
int	ckpt_memfd_early(pid_t, struct inject *, const struct img_fd *f,
	    char **cause);
int	ckpt_epoll_fill(struct inject *, const struct img_fd *f, char **cause);

/*
 * (ckpt-dump.c) PTRACE_INTERRUPT pid and wait for the PTRACE_EVENT_STOP.
 * Signals dequeued on the way are suppressed and appended to *caught (when
 * not NULL); other stops are resumed past. A group-stopped tracee is
 * refused (and left listening); an exit sets stats->exited.
 */
int	ckpt_interrupt(pid_t, siginfo_t **caught, size_t *ncaught,
	    struct ckpt_stats *, char **cause);

/* One end of an anonymous pipe at fd >= 3, for ckpt_pipes_check. */
struct ckpt_pipe_end {
	int		fd;
	uint64_t	ino;
	int		write;		/* O_WRONLY end (else the read end) */
};

/*
 * (cantmove.c) Pipes at fd >= 3 move only as self-pipes: both ends held by
 * pid and by no other process, nothing buffered. -1 with *why naming the
 * fd otherwise.
 */
int	ckpt_pipes_check(pid_t, const struct ckpt_pipe_end *, size_t,
	    char **why);

/*
 * ckpt-pipe.c: a worker thread consuming fixed-size slots in order, so that
 * the two copies of moving pages overlap. get blocks for a free slot (NULL
 * once the worker failed); put hands it over; finish waits for the rest,
 * joins and returns the worker's failure, if any.
 */
struct ckpt_pipe;
struct ckpt_pipe *ckpt_pipe_new(size_t nslots, size_t slot_size,
		    int (*consume)(void *arg, void *slot, char **cause), void *arg);
void		*ckpt_pipe_get(struct ckpt_pipe *);
void		 ckpt_pipe_put(struct ckpt_pipe *);
int		 ckpt_pipe_finish(struct ckpt_pipe *, char **cause);

/*
 * (ckpt-park.c) Map the park loop into pid through in (*page), and, once
 * the injection is over, point pid's registers at it.
 */
struct inject;
int	ckpt_park_code(struct inject *, pid_t, uint64_t *page, char **cause);
int	ckpt_park_regs(pid_t, uint64_t page, char **cause);

/* (ckpt-mem.c) Pages read at once by ckpt_read_pages, at most. */
#define CKPT_READ_MAX	1024
int	ckpt_read_pages(pid_t, int memfd, const uint64_t *addrs, size_t n,
	    uint8_t *buf, int readable, char **cause);

/*
 * (ckpt-timers.c) Timers, by injection through in into pid.
 * ckpt_timers_why: why a POSIX timer of pid cannot be carried (SIGEV_THREAD,
 * another thread, another process's CPU clock), malloc'd, or NULL.
 * ckpt_timers_read: the interval timers and POSIX timers into *out (its
 * array malloc'd), refusing as ckpt_timers_why. ckpt_timers_expired: a
 * timer went off between two reads (read again: up to ckpt_timers_tries()
 * times). ckpt_timers_stop: every interval timer disarmed, every POSIX
 * timer deleted (a parked original). ckpt_timers_restore: pid's own POSIX
 * timers deleted, then the image's made with their ids and armed with
 * what was left of them; sig is the image's SIGNALS. ckpt_timer_siginfo:
 * si is a signal one of the process's timers sent (SI_TIMER, or an
 * itimer's SI_KERNEL SIGALRM, SIGVTALRM, SIGPROF).
 */
struct inject;
char	*ckpt_timers_why(pid_t);
int	ckpt_timers_read(struct inject *, pid_t, struct img_timers *out,
	    char **cause);
int	ckpt_timers_expired(const struct img_timers *, const struct img_timers *);
int	ckpt_timers_tries(void);
int	ckpt_timers_stop(struct inject *, pid_t, char **cause);
int	ckpt_timers_restore(struct inject *, pid_t, const struct img_timers *,
	    const struct img_signals *sig, char **cause);
int	ckpt_timer_siginfo(const siginfo_t *si);

/*
 * (ckpt-threads.c) A thread of a process being dumped, other than the
 * main one, held in its interrupt stop.
 */
struct ckpt_thread {
	pid_t		 tid;
	siginfo_t	*caught;	/* dequeued while interrupting it */
	size_t		 ncaught;
};
/*
 * Interrupt every thread of pid (whose main thread is stopped already)
 * until a pass over /proc/PID/task finds none new; threads that exit on
 * the way are left out. Appends to *threads.
 */
int	ckpt_threads_stop(pid_t, struct ckpt_thread **, size_t *, char **cause);
/*
 * Each thread's state into img->threads; in is the main thread's
 * injection (its area serves them all). kill: the signals dequeued from
 * a thread go into the image only, else back into its queue.
 */
int	ckpt_threads_dump(pid_t, struct inject *in, struct ckpt_thread *,
	    size_t, struct img *, int kill, struct ckpt_stats *, char **cause);
/* Resume the stopped threads, each with a signal dequeued and not re-queued. */
void	ckpt_threads_release(struct ckpt_thread *, size_t);
void	ckpt_threads_free(struct ckpt_thread *, size_t);
/* PTRACE_CONT every thread of pid but pid (those not stopped refuse: fine). */
void	ckpt_threads_cont(pid_t);
/*
 * Create the image's threads in the restored process pid through the
 * main thread's injection in; they are left in their interrupt stops.
 */
int	ckpt_threads_restore(pid_t, struct inject *in, const struct img *,
	    struct ckpt_stats *, char **cause);

/* Monotonic seconds. */
static inline double
ckpt_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
