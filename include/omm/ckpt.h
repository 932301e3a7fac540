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

struct ckpt_opts {
	int	flags;
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
};

/*
 * Why the process cannot be checkpointed now, as a malloc'd message naming
 * the thread count, mapping or fd ("fd 5: socket"), or NULL when it can.
 * Works on a running process (reads /proc only).
 */
char	*ckpt_cantmove(pid_t pid);

/*
 * Dump the process into out_fd as an image stream (image.h). Exactly one of
 * CKPT_LEAVE_RUNNING or CKPT_KILL. On failure the process is resumed as it
 * was (unless it exited: stats->exited) and *cause says why.
 */
int	ckpt_dump(pid_t pid, int out_fd, const struct ckpt_opts *,
	    struct ckpt_stats *, char **cause) __attribute__((warn_unused_result));

/* restore_opts.flags */
#define RESTORE_LEAVE_STOPPED	0x01	/* leave the restored process in a ptrace stop */

struct restore_opts {
	int	flags;
};

/*
 * Turn stub, a seized tracee of the caller that does nothing but wait (omrun's
 * restore child), into the process of the image read from in_fd, and resume
 * it. The stub keeps its pid and its fds 0-2 (IMG_FD_STDIO are rebound to
 * them); everything else comes from the image. The image's header, CPU
 * features and metadata are checked before the stub is touched. On failure
 * the stub is killed (SIGKILL, not reaped) and *cause says why.
 */
int	ckpt_restore(pid_t stub, int in_fd, const struct restore_opts *,
	    struct ckpt_stats *, char **cause) __attribute__((warn_unused_result));

#endif
