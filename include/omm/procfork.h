/*
 * procfork.h: fork(2) for the daemons, safe against their signal handlers.
 *
 * ommd and its helpers catch signals through libevent, whose handler
 * writes the signal's number into a socketpair the event loop reads. A
 * child that inherits that handler and gets a signal before it installs
 * its own would report it into the parent's loop (a SIGTERM meant for a
 * guest server would stop ommd). So, as tmux's job.c does, every signal
 * is blocked across the fork; in the child every caught signal goes back
 * to its default (ignored ones stay ignored, as across execve) and log.c
 * is told it runs in a child (fatal then uses _exit: no atexit handlers,
 * no flush of stdio buffers the parent also holds); then each side gets
 * its signal mask back.
 */
#ifndef OMM_PROCFORK_H
#define OMM_PROCFORK_H

#include <sys/types.h>

/* As fork(2): the child's pid, 0 in the child, -1 with errno. */
pid_t	proc_fork(void) __attribute__((warn_unused_result));

#endif
