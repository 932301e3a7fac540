/*
 * ckpt-pipe.c: overlap the two halves of moving pages.
 *
 * Dumping reads pages from the tracee and writes them to the image;
 * restoring reads the image and writes pages into the tracee. Each half is
 * a copy of its own (different kernel paths, no shared state), so a worker
 * thread takes one half and the caller's thread keeps the other, through a
 * few slots handed over in order. The worker never touches ptrace state:
 * process_vm_readv/writev and image writes need no tracer thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "omm/log.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

struct ckpt_pipe {
	pthread_mutex_t	  lock;
	pthread_cond_t	  cond;
	pthread_t	  thread;
	int		(*consume)(void *, void *, char **);
	void		 *arg;
	void		**slots;
	size_t		  nslots;
	size_t		  head;		/* next slot the caller fills */
	size_t		  tail;		/* next slot the worker consumes */
	size_t		  full;		/* slots handed over, not yet consumed */
	int		  done;		/* caller has no more */
	int		  failed;
	char		 *cause;
	double		  busy;		/* worker in consume, for -v */
	double		  waited;	/* caller blocked in get, for -v */
};

static void *
pipe_worker(void *p)
{
	struct ckpt_pipe	*cp = p;
	void			*slot;
	char			*cause = NULL;
	double			 t;
	int			 rv;

	pthread_mutex_lock(&cp->lock);
	for (;;) {
		while (cp->full == 0 && !cp->done)
			pthread_cond_wait(&cp->cond, &cp->lock);
		if (cp->full == 0)
			break;
		slot = cp->slots[cp->tail];
		pthread_mutex_unlock(&cp->lock);
		t = ckpt_now();
		rv = cp->consume(cp->arg, slot, &cause);
		t = ckpt_now() - t;
		pthread_mutex_lock(&cp->lock);
		cp->busy += t;
		cp->tail = (cp->tail + 1) % cp->nslots;
		cp->full--;
		if (rv == -1) {
			cp->failed = 1;
			cp->cause = cause;
			pthread_cond_broadcast(&cp->cond);
			break;
		}
		pthread_cond_broadcast(&cp->cond);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

struct ckpt_pipe *
ckpt_pipe_new(size_t nslots, size_t slot_size,
    int (*consume)(void *, void *, char **), void *arg)
{
	struct ckpt_pipe	*cp;
	size_t			 i;

	cp = xcalloc(1, sizeof *cp);
	pthread_mutex_init(&cp->lock, NULL);
	pthread_cond_init(&cp->cond, NULL);
	cp->consume = consume;
	cp->arg = arg;
	cp->nslots = nslots;
	cp->slots = xcalloc(nslots, sizeof *cp->slots);
	for (i = 0; i < nslots; i++)
		cp->slots[i] = xmalloc(slot_size);
	if (pthread_create(&cp->thread, NULL, pipe_worker, cp) != 0)
		fatalx("ckpt_pipe_new: pthread_create");
	return cp;
}

void *
ckpt_pipe_get(struct ckpt_pipe *cp)
{
	void	*slot = NULL;
	double	 t = ckpt_now();

	pthread_mutex_lock(&cp->lock);
	while (cp->full == cp->nslots && !cp->failed)
		pthread_cond_wait(&cp->cond, &cp->lock);
	cp->waited += ckpt_now() - t;
	if (!cp->failed)
		slot = cp->slots[cp->head];
	pthread_mutex_unlock(&cp->lock);
	return slot;
}

void
ckpt_pipe_put(struct ckpt_pipe *cp)
{
	pthread_mutex_lock(&cp->lock);
	cp->head = (cp->head + 1) % cp->nslots;
	cp->full++;
	pthread_cond_broadcast(&cp->cond);
	pthread_mutex_unlock(&cp->lock);
}

int
ckpt_pipe_finish(struct ckpt_pipe *cp, char **cause)
{
	size_t	i;
	int	rv = 0;

	pthread_mutex_lock(&cp->lock);
	cp->done = 1;
	pthread_cond_broadcast(&cp->cond);
	pthread_mutex_unlock(&cp->lock);
	pthread_join(cp->thread, NULL);
	log_debug("pipe: worker busy %.3fs, caller waited %.3fs", cp->busy,
	    cp->waited);
	if (cp->failed) {
		rv = -1;
		if (cause != NULL) {
			free(*cause);
			*cause = cp->cause;
		} else
			free(cp->cause);
	}
	for (i = 0; i < cp->nslots; i++)
		free(cp->slots[i]);
	free(cp->slots);
	pthread_cond_destroy(&cp->cond);
	pthread_mutex_destroy(&cp->lock);
	free(cp);
	return rv;
}
