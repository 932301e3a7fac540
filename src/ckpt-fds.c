/*
 * ckpt-fds.c: a process takes over another's descriptors, cwd and umask.
 *
 * While a process runs away, its deputy at home holds its descriptors and
 * changes them as the forwarded calls say (open, close, dup2...): the
 * deputy's table is the process's truth. When the process comes home, the
 * original takes that table over. The original does it itself, by
 * injection: pidfd_getfd needs ptrace access to the deputy, which the
 * original has (same owner, the deputy dumpable), so no privilege of ours
 * is lent to it.
 */
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/ckpt.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/plocks.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

#define SCR_STR		0		/* a path */
#define SCR_INFO	1024		/* siginfo_t */
#define SCR_FLOCK	2048		/* struct flock */

#define HOLDER_END_MS	5000	/* a holder killed for its locks is gone */

struct adopt {
	pid_t		 pid, from;
	struct inject	*in;
	int		*ffds;		/* from's fds, ascending */
	int		*fcloexec;
	size_t		 nf;
	int		*pfds;		/* pid's fds before */
	size_t		 np;
	uint32_t	 umask;
	long		 pidfd;		/* in pid */
	struct plock	*locks;		/* from's POSIX locks */
	size_t		 nlocks;
	siginfo_t	*traps;		/* SIGTRAPs to queue from outside */
	size_t		 ntraps;
};

static int
adopt_call(struct adopt *a, long *ret, char **cause, const char *what,
    long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (INJECT(a->in, ret, cause, nr, a0, a1, a2) == -1)
		return -1;
	if (*ret < 0 && *ret > -4096)
		return cause_set(cause, "%s: %s", what, strerror(-*ret));
	return 0;
}

static int
has_fd(const int *fds, size_t n, int fd)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (fds[i] == fd)
			return 1;
	}
	return 0;
}

/* What from has, read from /proc as its tracer's peer (root). */
static int
adopt_read(struct adopt *a, char **cause)
{
	struct procfs_status	st;
	struct procfs_fdinfo	fi;
	size_t			i;

	if (procfs_fds(a->from, &a->ffds, &a->nf, cause) == -1 ||
	    procfs_fds(a->pid, &a->pfds, &a->np, cause) == -1)
		return -1;
	a->fcloexec = xcalloc(a->nf ? a->nf : 1, sizeof *a->fcloexec);
	for (i = 0; i < a->nf; i++) {
		if (procfs_fdinfo(a->from, a->ffds[i], &fi, cause) == -1)
			return -1;
		a->fcloexec[i] = (fi.flags & O_CLOEXEC) != 0;
	}
	if (procfs_status(a->from, &st, cause) == -1)
		return -1;
	a->umask = st.has_umask ? st.umask : 022;
	return plocks_of(a->from, &a->locks, &a->nlocks, cause);
}

/*
 * from's POSIX locks become pid's (plocks.h). Only from's end lets go of
 * them: it is killed, its end waited for, and pid takes each at once. One
 * another process took meanwhile is lost, and the adoption fails naming it.
 */
static int
adopt_locks(struct adopt *a, char **cause)
{
	struct pollfd	 pfd;
	struct flock	 fl;
	char		 what[400];
	long		 ret;
	size_t		 i;
	int		 fd, rc;

	if (a->nlocks == 0)
		return 0;
	if ((fd = (int)syscall(SYS_pidfd_open, a->from, 0)) == -1)
		return cause_set(cause, "pidfd_open %ld: %s", (long)a->from,
		    strerror(errno));
	if (kill(a->from, SIGKILL) == -1) {
		close(fd);
		return cause_set(cause, "ending %ld: %s", (long)a->from,
		    strerror(errno));
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	do
		rc = poll(&pfd, 1, HOLDER_END_MS);
	while (rc == -1 && errno == EINTR);
	close(fd);
	if (rc != 1)
		return cause_set(cause, "%ld did not end", (long)a->from);
	for (i = 0; i < a->nlocks; i++) {
		memset(&fl, 0, sizeof fl);
		fl.l_type = a->locks[i].write ? F_WRLCK : F_RDLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = (off_t)a->locks[i].start;
		fl.l_len = (off_t)a->locks[i].len;
		if (inject_write(a->in, SCR_FLOCK, &fl, sizeof fl, cause) == -1 ||
		    INJECT(a->in, &ret, cause, SYS_fcntl, a->locks[i].fd,
		    F_SETLK, inject_scratch(a->in) + SCR_FLOCK) == -1)
			return -1;
		if (ret != 0) {
			plock_describe(a->pid, &a->locks[i], what, sizeof what);
			return cause_set(cause, "its %s %s", what, ret == -EAGAIN ||
			    ret == -EACCES ? "was taken by another process "
			    "while it came home" : strerror((int)-ret));
		}
	}
	return 0;
}

static int
adopt_table(struct adopt *a, char **cause)
{
	char	what[64];
	long	ret, tmp;
	int	maxfd = 0, fd;
	size_t	i;

	for (i = 0; i < a->np; i++) {
		if (a->pfds[i] > maxfd)
			maxfd = a->pfds[i];
		if (has_fd(a->ffds, a->nf, a->pfds[i]))
			continue;
		if (INJECT(a->in, &ret, cause, SYS_close, a->pfds[i]) == -1)
			return -1;
	}
	for (i = 0; i < a->nf; i++) {
		if (a->ffds[i] > maxfd)
			maxfd = a->ffds[i];
	}
	/* Above every number it is to hold, so no dup3 closes it. */
	if (adopt_call(a, &tmp, cause, "pidfd_open", SYS_pidfd_open, a->from,
	    0, 0) == -1)
		return -1;
	if (adopt_call(a, &a->pidfd, cause, "moving the pidfd", SYS_fcntl, tmp,
	    F_DUPFD_CLOEXEC, maxfd + 1) == -1)
		return -1;
	if (INJECT(a->in, &ret, cause, SYS_close, tmp) == -1)
		return -1;
	for (i = 0; i < a->nf; i++) {
		fd = a->ffds[i];
		snprintf(what, sizeof what, "fd %d: pidfd_getfd", fd);
		if (INJECT(a->in, &tmp, cause, SYS_pidfd_getfd, a->pidfd, fd,
		    0) == -1)
			return -1;
		if (tmp == -EBADF)
			continue;	/* closed meanwhile */
		if (tmp < 0)
			return cause_set(cause, "%s: %s", what, strerror(-tmp));
		if (tmp == fd) {
			snprintf(what, sizeof what, "fd %d: F_SETFD", fd);
			if (adopt_call(a, &ret, cause, what, SYS_fcntl, fd,
			    F_SETFD, a->fcloexec[i] ? FD_CLOEXEC : 0) == -1)
				return -1;
			continue;
		}
		snprintf(what, sizeof what, "fd %d: dup3", fd);
		if (adopt_call(a, &ret, cause, what, SYS_dup3, tmp, fd,
		    a->fcloexec[i] ? O_CLOEXEC : 0) == -1 ||
		    INJECT(a->in, &ret, cause, SYS_close, tmp) == -1)
			return -1;
	}
	if (INJECT(a->in, &ret, cause, SYS_close, a->pidfd) == -1)
		return -1;
	a->pidfd = -1;
	return 0;
}

/* The cwd through from's magic link: even a directory renamed meanwhile. */
static int
adopt_cwd(struct adopt *a, char **cause)
{
	char	path[64];
	long	ret;

	snprintf(path, sizeof path, "/proc/%ld/cwd", (long)a->from);
	if (inject_write(a->in, SCR_STR, path, strlen(path) + 1, cause) == -1 ||
	    adopt_call(a, &ret, cause, "chdir to the deputy's cwd", SYS_chdir,
	    inject_scratch(a->in) + SCR_STR, 0, 0) == -1)
		return -1;
	return INJECT(a->in, &ret, cause, SYS_umask, a->umask & 0777);
}

/*
 * Signals the injection dequeued go back, as the process would have them.
 * A SIGTRAP (the one signal an injection leaves unblocked) queued by an
 * injected call would be dequeued again by the next one, the unmap of the
 * injection area, and lost: it goes back from outside once the injection
 * is over (a->traps, inject_requeue). A SIGTRAP a migrated process had
 * pending when it came home was lost so.
 */
static int
adopt_requeue(struct adopt *a, char **cause)
{
	const siginfo_t	*strays;
	size_t		 n, i;
	long		 ret;

	strays = inject_strays(a->in, &n);
	for (i = 0; i < n; i++) {
		if (strays[i].si_signo == SIGTRAP) {
			a->traps = xreallocarray(a->traps, a->ntraps + 1,
			    sizeof *a->traps);
			a->traps[a->ntraps++] = strays[i];
			continue;
		}
		if (inject_write(a->in, SCR_INFO, &strays[i], sizeof strays[i],
		    cause) == -1 ||
		    INJECT(a->in, &ret, cause, SYS_rt_tgsigqueueinfo, a->pid,
		    a->pid, strays[i].si_signo, inject_scratch(a->in) +
		    SCR_INFO) == -1)
			return -1;
	}
	return 0;
}

int
ckpt_adopt_fds(pid_t pid, pid_t from, char **cause)
{
	struct adopt	 a;
	char		*why = NULL;
	uint64_t	 mask;
	size_t		 i;
	int		 rv = -1, exited = 0, wstatus;

	memset(&a, 0, sizeof a);
	a.pid = pid;
	a.from = from;
	a.pidfd = -1;
	if (adopt_read(&a, &why) == -1)
		goto out;
	if ((a.in = inject_init(pid, 0, &why)) == NULL)
		goto out;
	if (adopt_table(&a, &why) == -1 || adopt_cwd(&a, &why) == -1 ||
	    adopt_locks(&a, &why) == -1 || adopt_requeue(&a, &why) == -1)
		goto out_fini;
	mask = inject_saved_mask(a.in);
	if (inject_fini(a.in, 1, &why) == -1)
		goto out;
	/* From the unmap's syscall-exit stop back into the signal path. */
	if (inject_settle(pid, &exited, &wstatus, &why) == -1)
		goto out;
	for (i = 0; i < a.ntraps; i++) {
		if (inject_requeue(pid, &a.traps[i], 0, mask, &exited,
		    &wstatus, &why) == -1)
			goto out;
	}
	rv = 0;
	goto out;

out_fini:
	if (!inject_exited(a.in, NULL)) {
		char	*w2 = NULL;
		long	 ret;

		/* Best effort: it is left stopped either way. */
		if (a.pidfd != -1 &&
		    INJECT(a.in, &ret, &w2, SYS_close, a.pidfd) == -1)
			log_debug("pid %ld: %s", (long)pid, w2);
		free(w2);
		w2 = NULL;
		if (inject_fini(a.in, 1, &w2) == 0 &&
		    inject_settle(pid, &exited, &wstatus, &w2) == -1)
			log_debug("pid %ld: %s", (long)pid, w2);
		free(w2);
	}
out:
	if (rv == -1) {
		cause_set(cause, "adopting the fds of %ld into %ld: %s",
		    (long)from, (long)pid, why);
	}
	free(why);
	inject_free(a.in);
	free(a.ffds);
	free(a.fcloexec);
	free(a.pfds);
	free(a.locks);
	free(a.traps);
	return rv;
}
