/* plocks.c: the POSIX record locks of a process, carried across a move (plocks.h). */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/plocks.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

/* Most locks of one process we carry: more is a process we refuse to guess about. */
#define PLOCKS_MAX	4096

static int
same(const struct plock *a, const struct plock *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->start == b->start &&
	    a->len == b->len && a->write == b->write;
}

/*
 * One line as fs/locks.c's lock_get_status prints it after "lock:\t":
 * "1: POSIX  ADVISORY  WRITE 4242 fe:00:10962037 100 109", the end
 * inclusive or EOF.
 */
static int
parse_line(const char *line, int fd, struct plock *l, int *posix, char **cause)
{
	char		kind[16], mode[16], type[16], end[24];
	unsigned int	maj, min;
	unsigned long long ino, start, last;
	int		pid, n;
	char		*e;

	n = sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%llu %llu %23s", kind,
	    mode, type, &pid, &maj, &min, &ino, &start, end);
	if (n != 9)
		return cause_set(cause, "fdinfo %d: unreadable lock line: %.80s",
		    fd, line);
	*posix = strcmp(kind, "POSIX") == 0;
	if (!*posix)
		return 0;
	memset(l, 0, sizeof *l);
	l->fd = fd;
	if (strcmp(type, "WRITE") == 0)
		l->write = 1;
	else if (strcmp(type, "READ") != 0)
		return cause_set(cause, "fdinfo %d: lock of type %s", fd, type);
	l->start = start;
	if (strcmp(end, "EOF") == 0)
		l->len = 0;
	else {
		errno = 0;
		last = strtoull(end, &e, 10);
		if (errno != 0 || *e != '\0' || last < start)
			return cause_set(cause, "fdinfo %d: lock end %s", fd, end);
		l->len = last - start + 1;
	}
	l->dev = ((uint64_t)maj << 32) | min;
	l->ino = ino;
	return 0;
}

int
plocks_parse(const char *text, int fd, struct plock **locks, size_t *n,
    char **cause)
{
	const char	*p, *nl;
	char		 line[256];
	struct plock	 l;
	size_t		 i, len;
	int		 posix = 0;

	for (p = text; *p != '\0'; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (strncmp(p, "lock:", 5) != 0)
			continue;
		len = (size_t)(nl - p) - 5;
		if (len >= sizeof line)
			return cause_set(cause, "fdinfo %d: lock line too long", fd);
		memcpy(line, p + 5, len);
		line[len] = '\0';
		if (parse_line(line, fd, &l, &posix, cause) == -1)
			return -1;
		if (!posix)
			continue;
		for (i = 0; i < *n; i++) {
			if (same(&(*locks)[i], &l))
				break;
		}
		if (i < *n)
			continue;
		if (*n >= PLOCKS_MAX)
			return cause_set(cause, "more than %d POSIX locks",
			    PLOCKS_MAX);
		*locks = xreallocarray(*locks, *n + 1, sizeof **locks);
		(*locks)[(*n)++] = l;
	}
	return 0;
}

int
plocks_of(pid_t pid, struct plock **locks, size_t *n, char **cause)
{
	char	 name[64], *text, *why = NULL;
	int	*fds;
	size_t	 nfds, i;

	*locks = NULL;
	*n = 0;
	if (procfs_fds(pid, &fds, &nfds, cause) == -1)
		return -1;
	for (i = 0; i < nfds; i++) {
		snprintf(name, sizeof name, "fdinfo/%d", fds[i]);
		if (procfs_slurp(pid, name, &text, NULL, &why) == -1) {
			/* closed since the listing: its locks went with it */
			free(why);
			why = NULL;
			continue;
		}
		if (plocks_parse(text, fds[i], locks, n, cause) == -1) {
			free(text);
			free(fds);
			free(*locks);
			*locks = NULL;
			*n = 0;
			return -1;
		}
		free(text);
	}
	free(fds);
	return 0;
}

void
plock_describe(pid_t pid, const struct plock *l, char *buf, size_t len)
{
	char	path[64], target[256], range[64];
	ssize_t	r;

	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, l->fd);
	if ((r = readlink(path, target, sizeof target - 1)) == -1)
		snprintf(target, sizeof target, "inode %" PRIu64, l->ino);
	else
		target[r] = '\0';
	if (l->len == 0)
		snprintf(range, sizeof range, "bytes %" PRIu64 " to the end",
		    l->start);
	else
		snprintf(range, sizeof range, "bytes %" PRIu64 "-%" PRIu64,
		    l->start, l->start + l->len - 1);
	snprintf(buf, len, "%s lock on %s of %s (fd %d)", l->write ? "write" :
	    "read", range, target, l->fd);
}

int
plocks_take(const struct plock *locks, size_t n, char **cause)
{
	struct flock	fl;
	char		what[400];
	size_t		i;

	for (i = 0; i < n; i++) {
		memset(&fl, 0, sizeof fl);
		fl.l_type = locks[i].write ? F_WRLCK : F_RDLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = (off_t)locks[i].start;
		fl.l_len = (off_t)locks[i].len;
		if (fcntl(locks[i].fd, F_SETLK, &fl) == 0)
			continue;
		plock_describe(getpid(), &locks[i], what, sizeof what);
		if (errno == EAGAIN || errno == EACCES) {
			memset(&fl, 0, sizeof fl);
			fl.l_type = locks[i].write ? F_WRLCK : F_RDLCK;
			fl.l_whence = SEEK_SET;
			fl.l_start = (off_t)locks[i].start;
			fl.l_len = (off_t)locks[i].len;
			if (fcntl(locks[i].fd, F_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK)
				return cause_set(cause, "its %s was taken by "
				    "pid %d while it moved", what,
				    (int)fl.l_pid);
		}
		return cause_set(cause, "taking its %s: %s", what,
		    strerror(errno));
	}
	return 0;
}
