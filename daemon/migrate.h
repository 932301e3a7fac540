/*
 * migrate.h: the home side of migration (docs/migration.md): sending a
 * managed process away, its parked original, signals to it, its exit and
 * its way home. It runs in the job's supervisor (jobd.h), which answers
 * the request waiting on a move (conn: its request id, 0 none).
 */
#ifndef OMMD_MIGRATE_H
#define OMMD_MIGRATE_H

#include <sys/types.h>

#include <stdint.h>

struct event_base;
struct msg_ps_entry;
struct task;


void	migrate_init(struct event_base *);
/*
 * Send t to node (0 or our own id: home). The request on control
 * connection conn (0: none) is answered when it is done or failed; a cause
 * now means nothing started.
 */
int	migrate_start(struct task *, uint32_t node, uint64_t conn, char **cause)
	    __attribute__((warn_unused_result));
int	migrate_bring(struct task *, uint64_t conn, int all, char **cause)
	    __attribute__((warn_unused_result));
/* A BRING of one process (migrate_bring with all) answers with a count. */
void	migrate_bring_waiter(uint64_t conn);
/*
 * Every away process peer may act on (access_task; root, or NULL for ommd
 * itself: all) home; conn answered with the count.
 */
struct ctl_peer;
uint64_t migrate_bring_all(const struct ctl_peer *, uint64_t conn);
/* From supervise.c: a signal stopped t. 1: it is away and the signal went on. */
int	migrate_on_signal(struct task *, int sig);
void	migrate_on_exec(struct task *);
/* t ended (killed at home): its guest must end too. */
void	migrate_task_gone(struct task *);
/* A child of ommd ended: 1 if it was a deputy. */
int	migrate_child_exited(pid_t, int status);
uint32_t migrate_away_count(void);
void	migrate_ps(const struct task *, struct msg_ps_entry *);
/* Processes away or on their way. */
uint32_t migrate_pending(void);
/* A node ommd names in JM_MIGRATE: its name and migration port. */
struct jm_migrate;
void	migrate_learn(const struct jm_migrate *);

/* What the balancer reads of a process: where it runs and what it uses there. */
struct migrate_usage {
	int		away;
	uint32_t	node;
	uint64_t	cpu_ns;		/* away: the guest's CPU time on node */
	uint64_t	rss;
	uint32_t	host_cpus_milli;	/* away: its host's CPUs x1000 */
	uint32_t	host_load;		/* and its load x100; 0: not told */
};
/* 0: it is on the move (leave it alone); 1: *mu filled (away or home). */
int	migrate_usage(const struct task *, struct migrate_usage *);
/* Is any migration of ours under way? */
int	migrate_busy(void);

#endif
