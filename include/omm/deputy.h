/*
 * deputy.h: the home side of a migrated process.
 *
 * While a process runs on another node, its deputy at home performs the
 * system calls the remote forwards, in the context of the original process.
 * The deputy is a process of its own that holds the original's descriptors
 * at the same numbers (the daemon copies them in with pidfd_getfd), has its
 * cwd and root, and runs under the owner's credentials: the daemon forks it,
 * drops to the owner's uid, gids and groups and only then calls deputy_new,
 * which checks that the effective ids match the original's. Everything
 * the kernel checks (permissions, limits, quotas) is then judged as for the
 * original.
 *
 * Most calls run in the deputy itself (syscall(2) on its copies of the
 * buffers). A call that needs the original's identity (wait4: its children;
 * setsid: its session) goes to an injector the daemon installs, which runs
 * it inside the frozen original with ptrace (inject.h); identity questions
 * (getpid, getppid) are answered from the original's /proc entry. The
 * table gives each call's default and the daemon can move any call either
 * way with deputy_set_via.
 *
 * The deputy's own descriptors (its link to the daemon, /proc files) live at
 * or above fd_floor; a forwarded call naming one fails with EBADF.
 */
#ifndef OMM_DEPUTY_H
#define OMM_DEPUTY_H

#include <sys/types.h>

#include <signal.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/marshal.h"
#include "omm/sysent.h"

struct deputy;

/*
 * A decoded call ready to run: pointer arguments point at the deputy's
 * copies of the buffers (local[i] for the request's buffer i). An injector
 * copies the in-buffers into the original, runs the call there with its own
 * addresses and copies the written buffers back into local[i].
 */
struct deputy_call {
	const struct sysreq	*req;
	uint64_t		 arg[SYSENT_NARGS];
	void			**local;
};

/* Run a call in the original process; *ret: value or -errno. -1: it failed. */
typedef int	(*deputy_inject_fn)(void *arg, const struct deputy_call *,
		    int64_t *ret, char **cause);

struct deputy_stats {
	uint64_t	calls;
	uint64_t	by_via[SYV_N];
	uint64_t	errors;		/* calls that returned -errno */
	uint64_t	badfd;		/* refused: a deputy-private fd */
	uint64_t	bytes_in;	/* buffer bytes received */
	uint64_t	bytes_out;	/* buffer bytes sent back */
	uint64_t	fdinfo;
	uint64_t	fddata;
	uint64_t	rerouted;	/* paths into /proc/self sent elsewhere */
	uint64_t	local;		/* answered SYSCALL_LOCAL (procself.h) */
};

/*
 * A deputy for the original process orig (its pid at home), whose own
 * descriptors are at or above fd_floor. Refuses when our effective uid or
 * gid differs from the original's.
 */
struct deputy	*deputy_new(pid_t orig, int fd_floor, char **cause);
void		 deputy_free(struct deputy *);

void	deputy_set_inject(struct deputy *, deputy_inject_fn, void *arg);
/*
 * The kernel's "restart the call" code, which a seccomp answer can give a
 * guest with a signal pending: it becomes a restart or EINTR there.
 */
#define DEPUTY_ERESTARTSYS	512
/*
 * While *flag is set (the deputy's handler of the signal its daemon sends
 * to interrupt a call for a signal to the guest), a call that fails with
 * EINTR answers -DEPUTY_ERESTARTSYS instead.
 */
void	deputy_set_intr(struct deputy *, volatile sig_atomic_t *flag);
/* Route a call number (and its variants) by via, or back to the table with -1. */
void	deputy_set_via(struct deputy *, int nr, int via);
/* Where an entry runs now: enum sy_via. */
int	deputy_via(const struct deputy *, const struct sysent *);

/*
 * Run a decoded request and fill rep (ret, sig and the written buffers,
 * which stay valid until the next call). A call on the process's own /proc
 * entries of its memory and task is not run: deputy_local then gives the
 * SYSCALL_LOCAL answer instead (procself.h). Returns -1 only when the call
 * could not be run at all (the injector failed): the original's state is
 * then unknown and the daemon ends the process.
 */
int	deputy_exec(struct deputy *, const struct sysreq *, struct sysrep *,
	    char **cause) __attribute__((warn_unused_result));

/* After deputy_exec: the SYSCALL_LOCAL answer to send, or NULL. */
const struct syslocal	*deputy_local(const struct deputy *);

/* What is behind a home fd, for a mapping (SY_FMAP). */
void	deputy_fdinfo(struct deputy *, const struct fdinfo_req *, struct fdinfo *);
/* Bytes of the file of a home fd; out->data points into the deputy. */
void	deputy_fddata(struct deputy *, const struct fddata_req *, struct fddata *);

/*
 * The home end of the 300 block: decode a request payload of type type, run
 * it and append the reply payload to reply, its type in *rtype. -1: a
 * malformed request (the link is to be dropped) or a failed injection.
 */
int	deputy_handle(struct deputy *, uint16_t type, const uint8_t *, size_t,
	    struct buf *reply, uint16_t *rtype, char **cause)
	    __attribute__((warn_unused_result));

const struct deputy_stats	*deputy_stats(const struct deputy *);

#endif
