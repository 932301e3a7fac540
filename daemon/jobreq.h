/*
 * jobreq.h: what a job supervisor (jobd.h) does for each message of ommd:
 * the process-control requests of clients (carried whole in JM_REQ:
 * MANAGE, RESTORE, CHECKPOINT, PERIODIC, BRING, LOCK, POLICY), migrations
 * (JM_MIGRATE), BRING_ALL and RELOAD; and the JM_PROC it reports of each
 * process.
 */
#ifndef OMMD_JOBREQ_H
#define OMMD_JOBREQ_H

struct event_base;
struct jm_proc;
struct omm_config;
struct proto_msg;
struct task;

void	jobreq_init(struct event_base *, const struct omm_config *);
/* A valid message of the job block from ommd (its fd stays the caller's). */
void	jobreq_handle(const struct proto_msg *);
/* A request came (and was answered): the supervisor may end when idle. */
int	jobreq_seen(void);
/* The PROC of a process (free with jobreq_proc_free). */
void	jobreq_proc(struct task *, struct jm_proc *);
void	jobreq_proc_free(struct jm_proc *);

#endif
