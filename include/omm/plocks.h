/*
 * plocks.h: the POSIX record locks a process holds (fcntl F_SETLK, lockf),
 * carried across a move.
 *
 * Such a lock belongs to the process (its table of descriptors), not to
 * an open file: another process, even one holding the same open files,
 * can neither hold nor release it. While a process is away its deputy
 * runs its lock calls, so the locks must be the deputy's: the original
 * lets go of its own when it is parked, the deputy takes them at once,
 * before it serves a single call; coming home, the original takes them
 * back when the holder ends. OFD locks (F_OFD_SETLK) and flock() locks
 * belong to the open file, which the deputy shares: they need nothing.
 *
 * Between one owner letting go and the other taking a lock, another
 * process may take it (it would have had to be waiting for it): the
 * process has then lost it, and is ended with the reason, never left to
 * run on without a lock it believes it holds.
 */
#ifndef OMM_PLOCKS_H
#define OMM_PLOCKS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct plock {
	int		fd;	/* a descriptor of the owner on the file */
	int		write;	/* a write lock (F_WRLCK), else a read lock */
	uint64_t	start;	/* first byte */
	uint64_t	len;	/* bytes; 0: to the end of the file, for ever */
	uint64_t	dev;	/* the file, as fdinfo shows it */
	uint64_t	ino;
};

/*
 * Parse the "lock:" lines of the text of /proc/PID/fdinfo/FD: its POSIX
 * locks are appended to *locks (each with fd), the others skipped; one
 * already in the list (a descriptor of the same open file) is not added
 * again. -1 with cause on a line it cannot read.
 */
int	plocks_parse(const char *text, int fd, struct plock **locks, size_t *n,
	    char **cause) __attribute__((warn_unused_result));

/* The POSIX locks pid holds, each once. */
int	plocks_of(pid_t pid, struct plock **locks, size_t *n, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Take them in the calling process (F_SETLK on its descriptors at the
 * same numbers). -1 at the first that fails, the cause naming it.
 */
int	plocks_take(const struct plock *, size_t n, char **cause)
	    __attribute__((warn_unused_result));

/* "write lock on bytes 10-19 of /path" for pid's descriptor, for messages. */
void	plock_describe(pid_t pid, const struct plock *, char *buf, size_t len);

#endif
