/*
 * jobd.h: a job supervisor (`ommd --job ID`), one per job: the ptrace
 * tracer of every process of the job (supervise.c), the home side of their
 * migrations (migrate.c, which forks their deputies), their periodic
 * checkpoints (periodic.c) and every checkpoint or restore asked of them
 * (jobreq.c). ommd starts it (jobs.c) and routes requests to it; it
 * answers and reports its processes over jobmsg.h. It outlives ommd: when
 * the link breaks it connects to the next ommd's internal socket and says
 * HELLO again. It ends when its job has no process left.
 */
#ifndef OMMD_JOBD_H
#define OMMD_JOBD_H

#include <sys/types.h>

#include <openssl/ssl.h>

#include <stdint.h>

struct buf;

/* ommd --job ID --owner UID --internal PATH [-c CONFIG] [-v...] */
int	jobd_main(int argc, char **argv);

/* This supervisor's job, the node and its identity as ommd said. */
uint32_t	 jobd_job(void);
uint32_t	 jobd_self(void);
uint64_t	 jobd_incarnation(void);
const char	*jobd_self_name(void);
/* The node's TLS context for deputies; NULL when the node runs alone. */
SSL_CTX		*jobd_ctx(void);

/* The answer to request reqid (0: nobody waits): one control message. */
void	jobd_reply(uint64_t reqid, struct buf *);
void	jobd_reply_error(uint64_t reqid, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* How a move ended (jobmsg.h JM_EV_*), for ommd's counters and balancer. */
void	jobd_event(uint32_t kind, uint32_t node, pid_t pid);
/* Read the TLS files again (JM_RELOAD). */
void	jobd_reload(void);
/* The processes changed: tell ommd soon. */
void	jobd_changed(void);

#endif
