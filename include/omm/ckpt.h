/*
 * ckpt.h: checkpoint and restore of one single-threaded x86-64 process.
 *
 * The caller is the ptrace tracer of the process: it PTRACE_SEIZEd it (ommd
 * does so for every managed process) and runs in the tracer thread. The engine
 * interrupts, inspects and resumes the tracee itself; it waits only for that
 * pid (waitpid(pid, __WALL)), so other tracees' events stay queued for the
 * caller's own wait loop.
 */
#ifndef OMM_CKPT_H
#define OMM_CKPT_H

#include <sys/types.h>

#include <stdint.h>

/* ckpt_opts.flags */
#define CKPT_LEAVE_RUNNING	0x01	/* resume the process after the dump */
#define CKPT_KILL		0x02	/* SIGKILL it after a complete dump */
#define CKPT_FULL_FILES		0x04	/* store file-backed pages too (image for another node) */
/*
 * After the dump leave it in its ptrace interrupt stop (PTRACE_EVENT_STOP),
 * injection area gone, no signal of ours pending: signals dequeued while
 * interrupting are in the image and queued to it again. ckpt_resume or
 * ckpt_park take it from there.
 */
#define CKPT_LEAVE_STOPPED	0x08
/*
 * An image for a guest elsewhere: descriptors stay home, so the FDS section
 * is empty and no kind of fd is refused; ckpt_cantmigrate is the check. A
 * shared anonymous mapping only this process maps is stored like private
 * memory (a RESTORE_GUEST restore maps it private).
 */
#define CKPT_MIGRATE		0x10

/*
 * The caller's last word, called with the process frozen (in its ptrace
 * interrupt stop) before anything of it is read or changed: its
 * credentials cannot change meanwhile, so a check of who may act on it
 * holds for the whole operation. 0 goes on; -1 and a cause refuse.
 */
typedef int (*ckpt_check_fn)(pid_t, void *arg, char **cause);

struct selfsig;

/*
 * A file a guest maps that stands for a file at home: a copy of it
 * fetched from home (a memfd), or the node's own identical file. Its
 * guest server keeps them (trap.h); a dump of the guest names such a
 * mapping by the file at home, so that it comes home (or moves on) as a
 * mapping of that file, with its changed pages.
 */
struct ckpt_origin {
	uint64_t	ldev, lino;	/* the file mapped here: st_dev, st_ino */
	char		*path;		/* at home */
	uint64_t	dev, ino, size;	/* at home */
	int64_t		mtime_ns;
};

struct ckpt_origins {
	struct ckpt_origin	*v;
	size_t			 n;
};

/* What o says of the file mapped at v, or NULL. */
struct procfs_vma;
const struct ckpt_origin *ckpt_origin_of(const struct ckpt_origins *o,
	    const struct procfs_vma *v);

struct ckpt_opts {
	int		 flags;
	ckpt_check_fn	 check;		/* NULL: none; a refusal resumes it */
	void		*check_arg;
	/*
	 * Told where the injection area is once it is mapped: a guest's
	 * server lets the calls made from its code page (area, one page)
	 * through the guest's seccomp filter during the dump, and no other.
	 */
	void		(*inject_area)(uint64_t area, void *arg);
	void		*arg;
	/*
	 * A guest's marked signals to itself (selfsig.h): pending ones go
	 * into the image as what they stand for. NULL: none.
	 */
	const struct selfsig *selfsig;
	/* A guest's mappings of files that stand for home's. NULL: none. */
	const struct ckpt_origins *origins;
	/*
	 * > 0: out_fd (a pipe, FIFO or socket) that takes no byte for this
	 * many ms fails the dump, and the process goes on as it was; 0: wait.
	 */
	int		 stall_ms;
};

struct ckpt_stats {
	uint64_t	vmas;
	uint64_t	pages;		/* pages stored */
	uint64_t	zero_pages;	/* present but zero, not stored */
	uint64_t	bytes;		/* image bytes written or read */
	double		freeze_secs;	/* from interrupt to resume (or kill) */
	double		secs;		/* whole operation */
	/* set when the process exited under us: the engine reaped it */
	int		exited;
	int		wstatus;
	/* a failed RESTORE_REPARK restore left the original parked, stopped */
	int		parked;
	/* dump: the signals the image holds as pending (bit sig - 1) */
	uint64_t	sig_pending;
};

/*
 * Why the process cannot be checkpointed now, as a malloc'd message naming
 * the thread count, mapping or fd ("fd 5: socket"), or NULL when it can.
 * Works on a running process (reads /proc only).
 */
char	*ckpt_cantmove(pid_t pid);

/*
 * Why the process cannot migrate (CKPT_MIGRATE), or NULL: ckpt_cantmove
 * without the fd reasons. A shared mapping another process also maps
 * (shared anonymous memory, a MAP_SHARED file mapping) or any writable
 * MAP_SHARED file mapping (its writes must reach the file at home) is one.
 */
char	*ckpt_cantmigrate(pid_t pid);
/* The same for a guest, whose mappings of origins stand for home's files. */
char	*ckpt_cantmigrate_guest(pid_t pid, const struct ckpt_origins *origins);

/*
 * What omctl ps shows: why a checkpoint or a migration would refuse the
 * process, or NULL when neither would. The migration's reason as it is
 * (as ps always showed it), one only a checkpoint has after "checkpoint: "
 * ("checkpoint: fd 3: socket"), both as "REASON; checkpoint: REASON".
 */
char	*ckpt_cantwhy(pid_t pid);

/*
 * Dump the process into out_fd as an image stream (image.h). Exactly one of
 * CKPT_LEAVE_RUNNING, CKPT_KILL or CKPT_LEAVE_STOPPED. On failure the
 * process is resumed as it was (unless it exited: stats->exited) and *cause
 * says why.
 *
 * With CKPT_KILL, signals dequeued on the way go into the image's pending
 * list rather than back to the process: a dump for bringing a guest home
 * then runs no call its seccomp filter would hold (see ckpt_bring_prepare).
 */
int	ckpt_dump(pid_t pid, int out_fd, const struct ckpt_opts *,
	    struct ckpt_stats *, char **cause) __attribute__((warn_unused_result));

/* Continue a process left by CKPT_LEAVE_STOPPED, as LEAVE_RUNNING would have. */
int	ckpt_resume(pid_t pid, char **cause) __attribute__((warn_unused_result));

/* restore_opts.flags */
#define RESTORE_LEAVE_STOPPED	0x01	/* leave the restored process in a ptrace stop */
/*
 * The stub is an unprivileged guest: no fd limit, fds, pipes, cwd or umask
 * from the image; rlimits only lowered; a private file mapping needs a local
 * file of the same path, size and mtime (dev and ino may differ) that the
 * stub itself can open; shared anonymous memory becomes private. Last,
 * before the registers, the stub sets no_new_privs and loads filter with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER (and WAIT_KILLABLE_RECV where the kernel
 * has it): its listener's fd number in the stub goes to listener (the
 * caller takes it with pidfd_getfd), killable says whether the wait is
 * killable (TRAP_KILLABLE for trap_open).
 */
#define RESTORE_GUEST		0x02
/*
 * The target is the original process itself (parked, see ckpt_park; any
 * stopped or running tracee of ours): its fds, cwd, umask and credentials
 * stay as they are; everything else comes from the image.
 */
#define RESTORE_ORIGINAL	0x04
/*
 * With RESTORE_ORIGINAL: a restore that fails does not kill the original
 * but, when it can, puts it back in its park loop (ckpt_park), stopped,
 * so that the image running elsewhere can go on there; *cause says why it
 * failed. (It fails with the original killed only when even that is not
 * possible.)
 */
#define RESTORE_REPARK		0x08
/*
 * With RESTORE_GUEST: a private file mapping whose file this node lacks
 * is mapped from a copy (restore_copy) instead of failing the restore;
 * the caller fills the copies and only then resumes the process (with
 * RESTORE_LEAVE_STOPPED).
 */
#define RESTORE_COPIES		0x10

struct sock_fprog;
/*
 * A file a guest's image maps that its node lacks (missing, not readable
 * by the guest, or not the same size and mtime): mapped from a memfd of
 * the file's size instead, whose bytes the caller fetches from home and
 * writes in before the guest runs (RESTORE_COPIES; the image's own pages
 * of those mappings are in already, over the copy).
 */
struct restore_range {
	uint64_t	off, len;	/* in the file, clipped to its size */
};

struct restore_copy {
	int			 fd;		/* ours: the memfd, empty */
	char			*path;		/* the file at home */
	uint64_t		 dev, ino, size;	/* the image's identity */
	int64_t			 mtime_ns;
	struct restore_range	*ranges;	/* what its mappings cover */
	size_t			 nranges;
};

/* Close and free what a RESTORE_COPIES restore handed out. */
void	restore_copies_free(struct restore_copy *, size_t);

struct restore_opts {
	int			 flags;
	const struct sock_fprog	*filter;	/* RESTORE_GUEST */
	int			 listener;	/* out, RESTORE_GUEST */
	int			 killable;	/* out, RESTORE_GUEST */
	/*
	 * NULL: none. A refusal detaches the stub, stopped as it was before
	 * (not killed: it may not be ours to kill).
	 */
	ckpt_check_fn		 check;
	void			*check_arg;
	int			 stall_ms;	/* > 0: in_fd silent this long fails */
	struct restore_copy	*copies;	/* out, RESTORE_COPIES */
	size_t			 ncopies;
};

/*
 * Turn stub, a seized tracee of the caller that does nothing but wait (omrun's
 * restore child), into the process of the image read from in_fd, and resume
 * it. The stub keeps its pid and its fds 0-2 (IMG_FD_STDIO are rebound to
 * them); everything else comes from the image. The image's header, CPU
 * features and metadata are checked before the stub is touched; every
 * path the image names is looked at only by the stub itself (injected
 * newfstatat, open, chdir), so with its credentials: a file its user may
 * not see fails alike whether it exists or not. Every page the image puts
 * in is read back and compared with the image before the process resumes.
 * On failure the stub is killed (SIGKILL, not reaped) and *cause says why;
 * so is the original of a RESTORE_ORIGINAL restore, unless RESTORE_REPARK;
 * a check refusal detaches it instead. A RESTORE_GUEST restore writes
 * opts->listener and opts->killable.
 */
int	ckpt_restore(pid_t stub, int in_fd, struct restore_opts *,
	    struct ckpt_stats *, char **cause) __attribute__((warn_unused_result));

/*
 * Park a process left by a CKPT_LEAVE_STOPPED dump while its image runs
 * elsewhere: one page of code is mapped in it ("pause; jmp back") and it
 * loops there with an empty signal mask, so every signal sent to it stops
 * it for its tracer, who forwards it. Its pending signals are dropped (they
 * are in the image), and so are its POSIX locks, which its deputy takes
 * (plocks.h). Then it is resumed. Its memory and registers are
 * forfeit: it comes back only by a RESTORE_ORIGINAL restore. On failure it
 * is left stopped as it was (ckpt_resume still works).
 */
/* in_image: the signals pending when it was dumped (bit sig - 1). */
int	ckpt_park(pid_t pid, uint64_t in_image, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Give pid (a stopped tracee of ours, e.g. after a RESTORE_ORIGINAL restore
 * with RESTORE_LEAVE_STOPPED) the descriptor table, cwd and umask of from
 * (the same owner as pid, dumpable): by injection into pid, pidfd_open(from)
 * then for every fd of from pidfd_getfd and dup3 to the same number (its
 * close-on-exec flag as from has it); every fd of pid that from lacks is
 * closed; chdir to from's cwd; from's umask. When from holds POSIX locks
 * (plocks.h), from is killed and pid takes them once it has ended. Leaves
 * pid stopped.
 */
int	ckpt_adopt_fds(pid_t pid, pid_t from, char **cause)
	    __attribute__((warn_unused_result));

/*
 * A guest stopped in a notification that needs it home (TRAP_BRINGHOME):
 * called with the guest's pid before answering that notification with
 * -ERESTARTNOINTR (CKPT_ERESTARTNOINTR). The guest then stops on its way
 * out of the call with the call to be restarted, and a dump (CKPT_MIGRATE |
 * CKPT_KILL) carries it so that the process re-issues the call once
 * restored. (A guest whose notification was received waits killably: it
 * cannot be interrupted before the answer.)
 */
int	ckpt_bring_prepare(pid_t guest, char **cause)
	    __attribute__((warn_unused_result));
#define CKPT_ERESTARTNOINTR	513

/*
 * End pid (a tracee of ours, parked or stopped) the way wait status wstatus
 * says: exit_group with its code, or its signal with the default action (no
 * core file). *final is the wait status seen. The engine waits for pid, so
 * it reaps it when it is our child.
 */
int	ckpt_exit_as(pid_t pid, int wstatus, int *final, char **cause)
	    __attribute__((warn_unused_result));

#endif
