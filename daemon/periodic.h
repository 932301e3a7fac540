/*
 * periodic.h: checkpoint a job's root process every N seconds (omrun
 * --checkpoint-every), keeping the last two complete images.
 */
#ifndef OMMD_PERIODIC_H
#define OMMD_PERIODIC_H

#include <sys/types.h>

#include <stdint.h>

struct event_base;
struct owner;

void	periodic_init(struct event_base *);
/*
 * Every seconds, dump root (of job) to path, writing as owner. Replaces
 * an earlier timer of the same process. The stderr of requester (omrun:
 * the job's), opened as owner, is where the timer says why it stops when
 * root gains privileges (a set-uid exec): it is never dumped from then on.
 */
int	periodic_add(pid_t root, uint32_t job, const struct owner *,
	    pid_t requester, unsigned seconds, const char *path, char **cause)
	    __attribute__((warn_unused_result));
/* The process exited: its timer stops. */
void	periodic_forget(pid_t root);
/* Shutdown: every timer stops. */
void	periodic_clear(void);

#endif
