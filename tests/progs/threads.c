/*
 * threads: a multi-threaded process, which omm refuses to checkpoint. Not a
 * self-check: tests use it to see the refusal and that nothing breaks. A
 * second thread sleeps; the main thread waits for SIGUSR1 and exits 0.
 */
#include <pthread.h>

#include "prog.h"

static void *
idle(void *arg PROG_UNUSED)
{
	for (;;)
		pause();
	return NULL;
}

int
main(void)
{
	pthread_t	t;

	prog_arm("threads");
	if (pthread_create(&t, NULL, idle, NULL) != 0)
		prog_die("pthread_create");
	prog_ready();
	prog_wait_usr1();
	return prog_finish();
}
