/* asuser.c: open, rename and unlink as another user, in a child that drops privileges. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procfork.h"
#include "omm/xmalloc.h"

#include "omm/fdpass.h"

#include "asuser.h"
#include "procinfo.h"

struct op {
	const char	*path;
	const char	*path2;
	int		 flags;
	mode_t		 mode;
	int		 missing_ok;
};

int
owner_of(pid_t pid, struct owner *o, char **cause)
{
	struct pstatus	ps;

	memset(o, 0, sizeof *o);
	if (procinfo_status(pid, &ps, cause) != 0)
		return -1;
	o->uid = ps.ruid;
	o->gid = ps.rgid;
	return procinfo_groups(pid, &o->groups, &o->ngroups, cause);
}

void
owner_free(struct owner *o)
{
	free(o->groups);
	o->groups = NULL;
	o->ngroups = 0;
}

/* In the child: become the owner for good, or fail. */
static int
drop_to(const struct owner *o)
{
	if (setgroups(o->ngroups, o->groups) == -1 ||
	    setresgid(o->gid, o->gid, o->gid) == -1 ||
	    setresuid(o->uid, o->uid, o->uid) == -1)
		return -1;
	return 0;
}

static int
op_open(const struct op *op, int *fd)
{
	if ((*fd = open(op->path, op->flags | O_CLOEXEC, op->mode)) == -1)
		return errno;
	return 0;
}

static int
op_rename(const struct op *op, int *fd)
{
	if (rename(op->path, op->path2) == -1) {
		if (errno == ENOENT && op->missing_ok)
			return 0;
		return errno;
	}
	return 0;
}

static int
op_unlink(const struct op *op, int *fd)
{
	if (unlink(op->path) == -1 && errno != ENOENT)
		return errno;
	return 0;
}

/* The child's answer: an errno (0: done) and, for an open, the descriptor. */
static int
send_result(int sock, int err, int fd)
{
	return fdpass_send(sock, &err, sizeof err, fd) == sizeof err ? 0 : -1;
}

static int
recv_result(int sock, int *err, int *fd)
{
	int	excess, trunc;

	if (fdpass_recv(sock, err, sizeof *err, fd, &excess, &trunc) !=
	    sizeof *err || excess || trunc) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

/*
 * Run fn as o in a child and collect its result. ommd is single-threaded,
 * so fork is safe; the child is reaped here, before ommd's SIGCHLD loop
 * can see it.
 */
static int
asuser(const struct owner *o, const char *what,
    int (*fn)(const struct op *, int *), const struct op *op, int *fdp,
    char **cause)
{
	int	sv[2], err = 0, fd = -1, status, rv = -1;
	pid_t	pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return cause_set(cause, "socketpair: %s", strerror(errno));
	if ((pid = proc_fork()) == -1) {
		cause_set(cause, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		if (drop_to(o) == -1)
			err = errno;
		else
			err = fn(op, &fd);
		_exit(send_result(sv[1], err, err == 0 ? fd : -1) == 0 ? 0 : 1);
	}
	close(sv[1]);
	sv[1] = -1;
	if (recv_result(sv[0], &err, &fd) == -1)
		cause_set(cause, "%s %s as uid %u: helper failed", what,
		    op->path, (unsigned)o->uid);
	else if (err != 0)
		cause_set(cause, "%s %s as uid %u: %s", what, op->path,
		    (unsigned)o->uid, strerror(err));
	else
		rv = 0;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
out:
	close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (rv == 0 && fdp != NULL)
		*fdp = fd;
	else {
		if (fdp != NULL)
			*fdp = -1;
		if (fd != -1)
			close(fd);
	}
	return rv;
}

int
asuser_open(const struct owner *o, const char *path, int flags, mode_t mode,
    int *fd, char **cause)
{
	struct op	op = { .path = path, .flags = flags, .mode = mode };

	if (asuser(o, "open", op_open, &op, fd, cause) != 0)
		return -1;
	if (*fd == -1)
		return cause_set(cause, "open %s as uid %u: no descriptor "
		    "came back", path, (unsigned)o->uid);
	return 0;
}

int
asuser_rename(const struct owner *o, const char *from, const char *to,
    int missing_ok, char **cause)
{
	struct op	op = { .path = from, .path2 = to,
			    .missing_ok = missing_ok };

	return asuser(o, "rename", op_rename, &op, NULL, cause);
}

int
asuser_unlink(const struct owner *o, const char *path, char **cause)
{
	struct op	op = { .path = path };

	return asuser(o, "unlink", op_unlink, &op, NULL, cause);
}
