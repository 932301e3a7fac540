/*
 * supervise.h: ommd as the ptrace tracer of every managed process.
 *
 * Managed processes run at native speed: they are seized with event options
 * only (fork, vfork, clone, exec), no system-call tracing and no seccomp,
 * so only those events and signals stop them, briefly. Every thread is a
 * tracee and has an entry (tid), mapped to its process (tgid).
 */
#ifndef OMMD_SUPERVISE_H
#define OMMD_SUPERVISE_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <time.h>

#include "omm/proto.h"

struct away;

struct task {
	pid_t		 tid;
	pid_t		 tgid;
	pid_t		 ppid;
	uid_t		 owner;		/* uid of the job's owner */
	gid_t		 owner_gid;	/* and its gid */
	/*
	 * access.c: why omm leaves it alone ("runs set-uid /usr/bin/su"), from
	 * the exec that gained privileges on; children inherit it. NULL: none.
	 */
	char		*priv;
	uint32_t	 job;
	uint32_t	 state;		/* enum proto_state */
	time_t		 start;
	char		*command;
	struct away	*away;		/* migrate.c: NULL at home */
	uint32_t	 migrations;
	int		 locked;	/* omctl lock: stays home */
	uint32_t	 migrate_on_exec; /* omrun --on: node, at the next exec */
	/* balancer.c: its policy (omrun --stay, --nodes) and what it measures */
	int		 stay;
	uint32_t	 allowed[PROTO_POLICY_MAX_NODES];
	size_t		 nallowed;
	time_t		 cantmove_until;
	int64_t		 resident_ms;	/* where it is since (monotonic ms) */
	uint32_t	 bal_where;
	uint64_t	 bal_cpu_ns;
	int64_t		 bal_ms;
	double		 bal_frac;
	struct {
		uint64_t calls, errors, bytes_in, bytes_out, signals;
	}		 fwd;		/* forwarded calls of past migrations */
	TAILQ_ENTRY(task) entry;	/* table order */
	LIST_ENTRY(task) hash;		/* by tid */
};

/* The job this supervisor's processes are of (jobd.h). */
void		 supervise_init(uint32_t job);
/*
 * Seize pid for a new job of owner (uid, gid) and record it; *job gets its
 * number. A process that already holds privileges the owner lacks is
 * marked (access_privileged). Fails with a cause for the requester
 * (already managed, gone, ...).
 */
int		 supervise_manage(pid_t, uid_t owner, gid_t owner_gid,
		    uint32_t *job, char **cause)
		    __attribute__((warn_unused_result));
/*
 * Undo supervise_manage: stop pid, detach it (a signal it was about to
 * take goes with it) and forget it. For a process seized and then refused.
 */
void		 supervise_release(pid_t);
/* Drain every pending wait status: on SIGCHLD. */
void		 supervise_reap(void);
struct task	*supervise_find(pid_t tid);
/* Add or drop PTRACE_O_EXITKILL: a parked process dies with ommd. */
void		 supervise_set_exitkill(pid_t, int on);
/* Processes (not threads) in the table. */
size_t		 supervise_count(void);
/* CLOCK_MONOTONIC in ms: the clock of resident_ms. */
int64_t		 supervise_now_ms(void);
/* Process leaders (tid == tgid) in table order, for PS: NULL ends. */
struct task	*supervise_first_process(void);
struct task	*supervise_next_process(struct task *);
int		 supervise_nthreads(pid_t tgid);
/* Forget a process the engine reaped (ckpt_stats.exited). */
void		 supervise_forget(pid_t tgid);
/* Refresh a process's command line (after a restore). */
void		 supervise_refresh(pid_t tgid);
/* Add the threads of tgid we have not seen, drop those gone. */
void		 supervise_sync_threads(pid_t tgid);
/* Let every tracee go, running as before: on shutdown. */
void		 supervise_detach_all(void);

#endif
