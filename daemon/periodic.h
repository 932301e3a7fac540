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
/*
 * What ps shows of root's timer: its period (0: none), the time of the
 * last good image (0: none yet), why the last one failed (NULL: it did
 * not; the timer's, valid until it fires again).
 */
void	periodic_status(pid_t root, uint32_t *every, int64_t *last,
	    const char **error);
/* The process exited: its timer stops. */
void	periodic_forget(pid_t root);
/* Shutdown: every timer stops. */
void	periodic_clear(void);

#endif
