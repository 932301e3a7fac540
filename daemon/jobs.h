/*
 * jobs.h: ommd's side of its job supervisors (jobd.c). Each job (an omrun
 * and every process it started) has a supervisor process of its own, the
 * ptrace tracer of those processes, which does every checkpoint, restore
 * and migration of them, outside ommd's event loop. ommd starts one per
 * job, routes the requests for its processes to it (jobmsg.h), and keeps a
 * mirror of every managed process from what the supervisors report, from
 * which it answers ps and feeds the balancer. Supervisors outlive ommd:
 * a new ommd takes them back when they connect to its internal socket.
 */
#ifndef OMMD_JOBS_H
#define OMMD_JOBS_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "omm/jobmsg.h"
#include "omm/proto.h"

struct event_base;
struct ctl_peer;
struct job;

/* A managed process as its supervisor last reported it. */
struct jproc {
	struct jm_proc		 p;
	struct job		*job;
	/* the balancer's own measurements (balancer.c) */
	uint32_t		 bal_where;
	uint64_t		 bal_cpu_ns;
	int64_t			 bal_ms;
	double			 bal_frac;
	time_t			 cantmove_until;
	TAILQ_ENTRY(jproc)	 entry;
	LIST_ENTRY(jproc)	 hash;
};

struct jobs_counters {
	uint64_t	out;		/* migrations that went (or moved on) */
	uint64_t	brought;
	uint64_t	refused;
	uint64_t	lost;
};

struct jobs_config {
	const char	*internal_path;	/* the supervisors' socket */
	const char	*run_dir;	/* where jobs/ and next_job live */
	const char	*conf_path;	/* passed on to supervisors */
	int		 conf_given;
	int		 verbose;
	int		 syslog;	/* supervisors log to syslog */
};

int	jobs_start(struct event_base *, const struct jobs_config *,
	    char **cause) __attribute__((warn_unused_result));
/* Close every connection and the socket; the supervisors live on. */
void	jobs_shutdown(void);

/*
 * MANAGE and RESTORE (m, with its image fd for RESTORE): a new job of the
 * peer, whose supervisor takes process pid; the answer goes to conn.
 */
int	jobs_new(uint64_t conn, const struct ctl_peer *, pid_t,
	    const struct proto_msg *m, char **cause)
	    __attribute__((warn_unused_result));
/* Any other request for process pid (m, maybe with an fd): to its supervisor. */
int	jobs_forward(uint64_t conn, const struct ctl_peer *, pid_t,
	    const struct proto_msg *m, char **cause)
	    __attribute__((warn_unused_result));
/*
 * Move process pid to node (0: home) for peer (NULL: ommd itself, the
 * balancer; the supervisor applies the attach rule for a peer). conn 0:
 * nobody waits. flags: JM_MIG_*.
 */
int	jobs_migrate(uint64_t conn, const struct ctl_peer *, pid_t,
	    uint32_t node, uint32_t flags, char **cause)
	    __attribute__((warn_unused_result));
/*
 * Every away process peer may act on (NULL: all) home; conn gets BROUGHT
 * with the count.
 */
void	jobs_bring_all(const struct ctl_peer *, uint64_t conn);
/* A child of ommd ended: 1 if it was a supervisor. */
int	jobs_child_exited(pid_t, int status);
/* Read the TLS files again, every supervisor too. */
void	jobs_reload(void);

struct jproc	*jobs_find(pid_t);
struct jproc	*jobs_first(void);
struct jproc	*jobs_next(struct jproc *);
size_t		 jobs_nprocs(void);
uint32_t	 jobs_away(void);
/* A process of ours is on its way somewhere. */
int		 jobs_moving(void);
/* 1 while supervisors of before a restart may still come back. */
int		 jobs_syncing(void);
const struct jobs_counters *jobs_counters(void);

#endif
