/*
 * sysent.h: the system calls a migrated guest makes, and where each runs.
 *
 * One table, indexed by x86-64 system call number, says for every call
 * whether the remote node runs it natively (it only touches the guest's own
 * memory, time and signal state), forwards it to the home node's deputy,
 * brings the process home first, or maps a home file. The same table drives
 * the guest's seccomp filter (trap.c), the copying of pointer arguments both
 * ways (marshal.c) and the way the deputy runs a call (deputy.c). The fields
 * are explained above the table in sysent.c; docs/syscalls.md lists the
 * decisions and why.
 */
#ifndef OMM_SYSENT_H
#define OMM_SYSENT_H

#include <stddef.h>
#include <stdint.h>

#define SYSENT_NARGS	6
#define SYSENT_MAX	512		/* table size: every x86-64 number fits */

/* Biggest transfer of one forwarded call, in bytes (read, write, ...). */
#define SYSENT_IO_MAX	(1U << 20)
/* Most elements of an iovec array (the kernel's UIO_MAXIOV). */
#define SYSENT_IOV_MAX	1024
/* Longest path, NUL included (PATH_MAX). */
#define SYSENT_PATH_MAX	4096

/*
 * CPU clock ids, as the kernel encodes them (posix-timers.h): a negative
 * clock id is (~pid << 3) | (perthread << 2) | which; which 0-2 names a CPU
 * clock of pid (0: the caller itself), and which 3 without perthread a
 * dynamic clock behind the descriptor ~(id >> 3). Ints: the kernel reads 32
 * bits.
 */
#define SYSENT_CLK_PID(c)	((int32_t)~((int32_t)(c) >> 3))
#define SYSENT_CLK_WHICH(c)	((int32_t)(c) & 3)
#define SYSENT_CLK_THREAD(c)	(((int32_t)(c) & 4) != 0)
#define SYSENT_CLK_IS_FD(c)	(((int32_t)(c) & 7) == 3)
#define SYSENT_CLK_PROCESS(pid, which) \
	((int32_t)(~(uint32_t)(pid) << 3) | (which))

/* Where a call runs. */
enum sy_where {
	SY_LOCAL = 1,		/* natively on the remote node */
	SY_HOME,		/* forwarded to the deputy at home */
	SY_BRINGHOME,		/* the process goes home first */
	SY_FMAP,		/* mmap of a home fd: a matching local file or a copy */
	SY_REFUSE,		/* answered on the remote with -err */
};
#define SY_NWHERE	6

/* At home, who runs a forwarded call (the daemon may override per call). */
enum sy_via {
	SYV_DEPUTY = 0,		/* the deputy: same fds, cwd and credentials */
	SYV_ORIGINAL,		/* needs the original process: ptrace injection */
	SYV_EMUL,		/* the deputy answers from the original's identity */
};
#define SYV_N		3

/* What an argument is. */
enum sa_kind {
	SA_NONE = 0,		/* not used by the call */
	SA_VAL,			/* a number, passed as is */
	SA_FD,			/* a home fd number (or AT_FDCWD) */
	SA_PATH,		/* NUL-terminated string read by the kernel */
	SA_IN,			/* buffer the kernel reads */
	SA_OUT,			/* buffer the kernel writes */
	SA_INOUT,		/* buffer the kernel reads and writes */
	SA_IOV_IN,		/* struct iovec array whose buffers are read */
	SA_IOV_OUT,		/* struct iovec array whose buffers are written */
	SA_MSG_SEND,		/* struct msghdr of sendmsg (name, iov, control in) */
	SA_MSG_RECV,		/* struct msghdr of recvmsg (name, iov, control out) */
	SA_DROP,		/* a pointer that home replaces by NULL */
};

/* Where a buffer's length comes from. */
enum sa_len {
	SL_FIXED = 0,		/* size bytes */
	SL_ARG,			/* arg[from] units of size bytes */
	SL_DEREF,		/* the u32 that arg[from] points to (socklen_t *) */
	SL_FDSET,		/* an fd_set of arg[from] bits, in whole u64 words */
};

/* How much of a written buffer goes back to the guest when the call succeeds. */
enum sa_back {
	SB_FULL = 0,		/* all of it */
	SB_RET,			/* the first ret units (bytes, or size-byte elements) */
	SB_DEREF,		/* as many bytes as the u32 at arg[from] says after the call */
};

#define SAF_CLAMP	0x01	/* a length over cap is cut to cap: a short transfer is legal */
#define SAF_INT		0x02	/* the count is an int: negative, no buffer (the kernel refuses) */

struct sysarg {
	uint8_t		kind;		/* enum sa_kind */
	uint8_t		len;		/* enum sa_len */
	uint8_t		from;		/* argument the length comes from */
	uint8_t		back;		/* enum sa_back */
	uint8_t		flags;		/* SAF_* */
	uint8_t		err;		/* errno over cap (unless clamped); 0: EINVAL */
	uint32_t	size;		/* SL_FIXED: bytes; SL_ARG: bytes per unit */
	uint32_t	cap;		/* most bytes (iovec: of all its buffers) */
};

/* A condition on one argument: (arg[n] & mask) == value. */
struct sycond {
	uint8_t		used;
	uint8_t		arg;
	uint64_t	mask;
	uint64_t	value;
};
/*
 * Alternatives of local_if: the call is LOCAL when any one holds (the
 * filter gets one rule per alternative). Three: a clock id is local when it
 * is a fixed clock or one of two masks of the caller's own CPU clocks.
 */
#define SYSENT_NCOND	3

#define SYF_SIGPIPE	0x01	/* EPIPE from it comes with SIGPIPE (or SIGXFSZ) */
#define SYF_BLOCKS	0x02	/* may block for long at home */
#define SYF_CLOCK	0x04	/* arg 0 is a clock id: a CPU clock naming the
				   process's own home pid is the guest's (trap.c) */
#define SYF_LOCALFD	0x08	/* on a descriptor of the guest's own /proc
				   (procself.h) it runs on the host natively */
#define SYF_SIGMASK	0x10	/* sets the signal mask for its duration (mask) */
#define SYF_SIGEVENT	0x20	/* arg 1 is a struct sigevent: one naming a thread
				   (SIGEV_THREAD_ID) names a home tid, so the
				   guest server decides, never the filter */
#define SYF_SELFSIG	0x40	/* sends a signal: to the process itself, it is
				   queued on the remote node (selfsig.h) */

/*
 * The signal mask a call sets while it waits (pselect6, ppoll, epoll_pwait):
 * arg[arg] points to the sigset_t (pair: to pselect6's { sigset_t *, size_t
 * }), the size is arg[arg + 1] (pair: the size_t). A signal the mask lets
 * through ends the call with -restart (ERESTARTNOHAND, or EINTR for epoll).
 */
struct symask {
	uint8_t		arg;
	uint8_t		pair;
	uint16_t	restart;
};

struct sysent {
	int			 nr;		/* system call number, -1: unknown */
	const char		*name;
	uint8_t			 where;		/* enum sy_where; 0: not in the table */
	uint8_t			 via;		/* enum sy_via */
	uint8_t			 flags;		/* SYF_* */
	uint8_t			 err;		/* SY_REFUSE: the errno */
	struct sysarg		 arg[SYSENT_NARGS];
	struct sycond		 local_if[SYSENT_NCOND]; /* one holds: LOCAL */
	/* Variants by the value of one argument (ioctl request, fcntl command). */
	const struct sysent	*sub;
	size_t			 nsub;
	uint8_t			 subarg;
	uint32_t		 key;		/* a variant: its value of subarg */
	struct symask		 mask;		/* SYF_SIGMASK */
};

/* The entry of a number, or NULL when the table does not know it. */
const struct sysent	*sysent_lookup(int nr);

/*
 * The entry that applies to a call with these arguments (a variant when
 * the call has them) and where it runs. Never NULL: an unknown number gets
 * a shared "unknown" entry that brings the process home.
 */
const struct sysent	*sysent_resolve(int nr, const uint64_t args[SYSENT_NARGS],
			    int *where);

/* "read", "ioctl(TCGETS)", ...; "unknown" for numbers not in the table. */
const char		*sysent_name(int nr);
/* "local", "home", "bring-home", "fmap", "refuse". */
const char		*sysent_where_name(int where);

/*
 * Walk every entry and variant: the filter builder and the tests use it.
 * parent is NULL for a top-level entry.
 */
void	sysent_foreach(void (*)(const struct sysent *, const struct sysent *parent,
	    void *), void *);

/* Does the entry's argument take a guest pointer? */
int	sysarg_is_ptr(const struct sysarg *);

#endif
