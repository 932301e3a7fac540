/*
 * trap.h: the remote side of a migrated process, a guest under seccomp.
 *
 * The guest installs (trap_filter_install) a filter built from the table
 * (sysent.h): LOCAL calls pass, every other call stops the guest and
 * notifies its supervisor through the returned descriptor, which the guest
 * hands over (pidfd_getfd by the supervisor, or SCM_RIGHTS). The supervisor
 * serves one notification at a time with trap_serve: a HOME call is read out
 * of the guest's memory, sent home over a link, and its reply written back;
 * an mmap of a home file maps a matching local file or a copy fetched from
 * home; a call that needs the process at home is handed back to the caller
 * unanswered, the guest still stopped in it.
 *
 * The filter is loaded with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV when the
 * kernel has it (5.19+): once the supervisor has received a notification,
 * only a fatal signal interrupts the guest's wait, so a forwarded call runs
 * exactly once at home. Without it, a signal arriving meanwhile restarts the
 * call in the guest and it may run twice (docs/syscalls.md).
 *
 * The supervisor must be the guest's parent (or its reaper): a pid in a
 * notification then cannot be reused while the notification is pending,
 * and kill(2) on it reaches the guest.
 */
#ifndef OMM_TRAP_H
#define OMM_TRAP_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/sysent.h"

struct trap_guest;
struct selfsig;

/* One notification: the call the guest is stopped in. */
struct trap_notif {
	uint64_t	id;
	pid_t		pid;		/* the calling thread */
	int		nr;
	uint32_t	arch;
	uint64_t	ip;
	uint64_t	args[SYSENT_NARGS];
};

/*
 * The way home: one synchronous round trip. call sends a payload of type
 * type (MARSHAL_*_REQ) and appends the reply payload to rep, its type in
 * *rtype. -1: the link is lost.
 */
struct trap_link {
	int	(*call)(void *arg, uint16_t type, const uint8_t *, size_t,
		    struct buf *rep, uint16_t *rtype, char **cause);
	void	*arg;
};

struct trap_stats {
	uint64_t	notifs;
	uint64_t	by_where[SY_NWHERE];
	uint64_t	by_nr[SYSENT_MAX];
	uint64_t	refused;	/* answered at once: bad memory, over a cap */
	uint64_t	gone;		/* the guest was gone before the answer */
	uint64_t	fmap_local;	/* mapped an identical local file */
	uint64_t	fmap_copy;	/* mapped a copy fetched from home */
	uint64_t	fmap_zero;	/* /dev/zero */
	uint64_t	fmap_home;	/* needs the process home (shared, writable) */
	uint64_t	fmap_refused;	/* not a file that can be mapped here */
	uint64_t	bytes_req;	/* payload bytes sent home */
	uint64_t	bytes_rep;	/* payload bytes received */
	uint64_t	signals;	/* signals raised by forwarded calls */
	uint64_t	self_signals;	/* signals it sent itself, queued here */
	uint64_t	proc_local;	/* calls on the guest's own /proc entries,
					   run here (procself.h) */
};

/* A reply asking for the kernel's restart (deputy.h's DEPUTY_ERESTARTSYS). */
#define TRAP_ERESTARTSYS	512

#define TRAP_NO_LOCAL_FILES	0x01	/* map copies from home, never local files */
#define TRAP_KILLABLE		0x02	/* the filter has killable waits (5.19+) */
#define TRAP_ORIGINAL_HOME	0x04	/* calls the original must make (wait4,
					   setsid...) bring the process home */
#define TRAP_TRACER		0x08	/* the supervisor is the guest's ptrace
					   tracer: a signal the mask of a call
					   lets through (pselect6...) is
					   delivered under it (sigmask.h) */

/* What trap_serve did with a notification. */
enum trap_outcome {
	TRAP_DONE = 0,		/* answered */
	TRAP_GONE,		/* the guest went away (killed), nothing to answer */
	TRAP_BRINGHOME,		/* unanswered: the process must go home for it */
};

/* Does this kernel have seccomp user notification? The cause names what lacks. */
int	trap_probe(char **cause) __attribute__((warn_unused_result));

/*
 * In the guest: set no_new_privs and load the filter. Returns the
 * notification descriptor, or -1; adds TRAP_KILLABLE to *flags when the
 * kernel took killable waits (the supervisor passes it to trap_open). From
 * here on every call that is not LOCAL waits for a supervisor.
 */
int	trap_filter_install(int *flags, char **cause)
	    __attribute__((warn_unused_result));

/*
 * The program trap_filter_install loads, for a guest restored by ptrace
 * (RESTORE_GUEST loads it from outside). The caller frees out->filter.
 */
struct sock_fprog;
int	trap_filter_build(struct sock_fprog *out, char **cause)
	    __attribute__((warn_unused_result));

/*
 * The supervisor's end: the notification descriptor of guest pid (taken
 * over), flags TRAP_*.
 */
struct trap_guest	*trap_open(int nfd, pid_t pid, int flags, char **cause);
void			 trap_close(struct trap_guest *);
/*
 * The process's pid and real uid at home: a CPU clock naming that pid is
 * the guest's own, and so is a signal sent to it (selfsig.h).
 */
void			 trap_set_home(struct trap_guest *, pid_t, uid_t);
/* Its mappings of files that stand for home's (serve_fmap), for its dumps. */
struct ckpt_origins;
const struct ckpt_origins *trap_origins(const struct trap_guest *);
/* The file behind lfd (a copy, or this node's own) stands for path at home. */
void	trap_add_origin(struct trap_guest *, int lfd, const char *path,
	    uint64_t dev, uint64_t ino, uint64_t size, int64_t mtime_ns);
/* How its signals to itself are marked; NULL before trap_set_home. */
const struct selfsig	*trap_selfsig(const struct trap_guest *);
int			 trap_fd(const struct trap_guest *);
/* Did the kernel take SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6+)? */
int			 trap_sync_wakeup(const struct trap_guest *);
const struct trap_stats	*trap_stats(const struct trap_guest *);

/*
 * Serve the next notification (the descriptor must be readable): returns
 * an enum trap_outcome, or -1 when the link or the descriptor failed. With
 * TRAP_BRINGHOME, *n is the call still waiting for an answer.
 */
int	trap_serve(struct trap_guest *, const struct trap_link *,
	    struct trap_notif *n, char **cause) __attribute__((warn_unused_result));

/* The pieces, for callers with their own loop. 1: got one; 0: it went away. */
int	trap_recv(struct trap_guest *, struct trap_notif *, char **cause)
	    __attribute__((warn_unused_result));
/* Answer with ret (a value, or -errno). 0; 1 when the guest went away; -1. */
int	trap_respond(struct trap_guest *, uint64_t id, int64_t ret,
	    char **cause) __attribute__((warn_unused_result));
/*
 * Let the call run natively. Only for calls whose arguments are all in
 * registers and whose objects the guest cannot change behind our back (the
 * first execve of a fresh guest, an mmap of a descriptor we placed).
 */
int	trap_continue(struct trap_guest *, uint64_t id, char **cause)
	    __attribute__((warn_unused_result));
/* Place our descriptor fd at number newfd in the guest. */
int	trap_addfd(struct trap_guest *, uint64_t id, int fd, int newfd,
	    char **cause) __attribute__((warn_unused_result));
/* Is the notification still pending (the guest neither dead nor replaced)? */
int	trap_id_valid(struct trap_guest *, uint64_t id);

/* Guest memory of the notification being served (marshal_read_fn/write_fn). */
ssize_t	trap_read_mem(void *guest, uint64_t addr, void *, size_t);
int	trap_write_mem(void *guest, uint64_t addr, const void *, size_t);

#endif
