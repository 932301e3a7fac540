/* sysent.c: the table of system calls a migrated guest may make. */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>

#include <asm/unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "omm/sysent.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* Numbers newer than the installed kernel headers. */
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND	514	/* the kernel's: restart unless a handler ran */
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2	452
#endif

/* Kernel structures whose user-space twin differs (glibc's termios is longer). */
#define KTERMIOS_LEN	36	/* struct termios of asm/termbits.h */
#define KTERMIO_LEN	18	/* struct termio */
#define KTERMIOS2_LEN	44	/* struct termios2 */
#define TCGETS2_REQ	0x802c542aU	/* _IOR('T', 0x2a, struct termios2) */
#define TCSETS2_REQ	0x402c542bU
#define TCSETSW2_REQ	0x402c542cU
#define TCSETSF2_REQ	0x402c542dU
#define FS_IOC_GETFLAGS_REQ 0x80086601U /* the kernel moves an int, not a long */
#define FS_IOC_SETFLAGS_REQ 0x40086602U

#define SOCKADDR_MAX	128	/* sizeof (struct sockaddr_storage) */
#define SOCKOPT_MAX	4096	/* biggest option value we copy */
#define XATTR_NAME_LEN	256	/* XATTR_NAME_MAX + 1 */
#define MEMFD_NAME_LEN	250	/* NAME_MAX - strlen("memfd:") + 1 */
#define XATTR_VAL_MAX	65536	/* XATTR_SIZE_MAX */
#define CPUSET_MAX	8192	/* 65536 CPUs */
#define FDSET_MAX	8192	/* 65536 descriptors */
#define POLLFD_MAX	65536	/* entries of a poll array */
#define GROUPS_MAX	65536	/* NGROUPS_MAX */
#define EPOLL_EV_LEN	12	/* struct epoll_event is packed on x86-64 */
#define OPEN_HOW_MAX	4096	/* openat2 refuses bigger with E2BIG */

_Static_assert(sizeof (struct stat) == 144, "struct stat");
_Static_assert(sizeof (struct epoll_event) == EPOLL_EV_LEN, "epoll_event");
_Static_assert(sizeof (struct flock) == 32, "struct flock");

/*
 * Arguments. V: a number; FD: a home descriptor, which the deputy checks
 * against its own private range; PATH: a string of at most PATH_MAX bytes
 * with its NUL; IN/OUT/INOUT(n): a buffer of n bytes; RD/WR(k): the data
 * buffer of a read or write, arg k bytes, cut at SYSENT_IO_MAX (a short
 * transfer is legal for these calls); OUTA/INA/INOUTA(k, unit, cap): arg k
 * elements of unit bytes, refused over cap (OUTA: cut); the ...I forms take
 * an int count, which the kernel refuses when negative; OUTD(k, cap): a buffer as long as
 * the socklen_t arg k points to; FDSET(k): an fd_set of arg k bits; IOVR/IOVW:
 * an iovec array of arg k elements written (readv) or read (writev); DROP:
 * a pointer home replaces by NULL.
 */
#define V		{ .kind = SA_VAL }
#define FD		{ .kind = SA_FD }
#define PATH		{ .kind = SA_PATH, .cap = SYSENT_PATH_MAX, .err = ENAMETOOLONG }
#define XNAME		{ .kind = SA_PATH, .cap = XATTR_NAME_LEN, .err = ERANGE }
#define MEMFD_NAME	{ .kind = SA_PATH, .cap = MEMFD_NAME_LEN, .err = EINVAL }
#define DROP		{ .kind = SA_DROP }
#define IN(n)		{ .kind = SA_IN, .size = (n), .cap = (n) }
#define OUT(n)		{ .kind = SA_OUT, .size = (n), .cap = (n) }
#define INOUT(n)	{ .kind = SA_INOUT, .size = (n), .cap = (n) }
#define RD(k)		{ .kind = SA_OUT, .len = SL_ARG, .from = (k), .size = 1, \
			  .cap = SYSENT_IO_MAX, .back = SB_RET, .flags = SAF_CLAMP }
#define WR(k)		{ .kind = SA_IN, .len = SL_ARG, .from = (k), .size = 1, \
			  .cap = SYSENT_IO_MAX, .flags = SAF_CLAMP }
#define RDC(k, c)	{ .kind = SA_OUT, .len = SL_ARG, .from = (k), .size = 1, \
			  .cap = (c), .back = SB_RET, .flags = SAF_CLAMP }
#define INA(k, u, c, e)	{ .kind = SA_IN, .len = SL_ARG, .from = (k), .size = (u), \
			  .cap = (c), .err = (e) }
#define INAI(k, c)	{ .kind = SA_IN, .len = SL_ARG, .from = (k), .size = 1, \
			  .cap = (c), .flags = SAF_INT }
#define OUTAI(k, u, c)	{ .kind = SA_OUT, .len = SL_ARG, .from = (k), .size = (u), \
			  .cap = (c), .back = SB_RET, .flags = SAF_CLAMP | SAF_INT }
#define RDCI(k, c)	OUTAI(k, 1, c)
#define OUTA(k, u, c)	{ .kind = SA_OUT, .len = SL_ARG, .from = (k), .size = (u), \
			  .cap = (c), .back = SB_RET, .flags = SAF_CLAMP }
#define INOUTA(k, u, c)	{ .kind = SA_INOUT, .len = SL_ARG, .from = (k), .size = (u), \
			  .cap = (c) }
#define OUTD(k, c)	{ .kind = SA_OUT, .len = SL_DEREF, .from = (k), .size = 1, \
			  .cap = (c), .back = SB_DEREF }
#define FDSET(k)	{ .kind = SA_INOUT, .len = SL_FDSET, .from = (k), .size = 8, \
			  .cap = FDSET_MAX }
#define IOVR(k)		{ .kind = SA_IOV_OUT, .len = SL_ARG, .from = (k), \
			  .cap = SYSENT_IO_MAX, .back = SB_RET, .flags = SAF_CLAMP }
#define IOVW(k)		{ .kind = SA_IOV_IN, .len = SL_ARG, .from = (k), \
			  .cap = SYSENT_IO_MAX, .flags = SAF_CLAMP }
#define MSGS		{ .kind = SA_MSG_SEND, .cap = SYSENT_IO_MAX, .flags = SAF_CLAMP }
#define MSGR		{ .kind = SA_MSG_RECV, .cap = SYSENT_IO_MAX, .flags = SAF_CLAMP, \
			  .back = SB_RET }

/* local_if conditions. */
#define COND(a, m, v)	{ .used = 1, .arg = (a), .mask = (m), .value = (v) }
#define IS0(a)		COND(a, 0xffffffffULL, 0)	/* an int argument is 0 */
#define ISN(a, n)	COND(a, 0xffffffffULL, n)	/* an int argument is n */
/*
 * A clock id (an int) the guest may read or arm where it runs: a fixed
 * clock (REALTIME, MONOTONIC, PROCESS_CPUTIME_ID...: not negative), or a
 * CPU clock of pid 0, the caller itself (which 0-2, process or thread: low
 * bits 0, 1, 4, 5 and 2, 6). Not low bits 3 (the clock of descriptor 0,
 * a home descriptor) or 7 (invalid). Any other CPU clock names a home pid.
 */
#define CLK_LOCAL	.local_if = { COND(0, 0x80000000ULL, 0), \
			  COND(0, 0xfffffffaULL, 0xfffffff8ULL), \
			  COND(0, 0xfffffffbULL, 0xfffffffaULL) }

/* Entries, indexed by number. */
#define T(n, w, ...)	[__NR_##n] = { .nr = __NR_##n, .name = #n, .where = (w), \
			  __VA_ARGS__ }
#define L(n)		T(n, SY_LOCAL)
#define B(n)		T(n, SY_BRINGHOME)
#define H(n, ...)	T(n, SY_HOME, .arg = { __VA_ARGS__ })
#define HB(n, ...)	T(n, SY_HOME, .flags = SYF_BLOCKS, .arg = { __VA_ARGS__ })
#define HP(n, ...)	T(n, SY_HOME, .flags = SYF_BLOCKS | SYF_SIGPIPE, \
			  .arg = { __VA_ARGS__ })
/* Data calls on a descriptor: natively on one of the guest's own /proc entries. */
#define HL(n, f, ...)	T(n, SY_HOME, .flags = SYF_LOCALFD | (f), .arg = { __VA_ARGS__ })
#define HE(n, ...)	T(n, SY_HOME, .via = SYV_EMUL, .arg = { __VA_ARGS__ })
#define HO(n, ...)	T(n, SY_HOME, .via = SYV_ORIGINAL, .flags = SYF_BLOCKS, \
			  .arg = { __VA_ARGS__ })
/* A call with a signal mask of its own: home gets NULL, the guest's kernel the mask. */
#define HM(n, m, ...)	T(n, SY_HOME, .flags = SYF_BLOCKS | SYF_SIGMASK, .mask = m, \
			  .arg = { __VA_ARGS__ })
/* Sends a signal: one to the process itself is queued on the remote node. */
#define HS(n, v, ...)	T(n, SY_HOME, .via = (v), .flags = SYF_SELFSIG, \
			  .arg = { __VA_ARGS__ })
#define MASK(a, p, r)	{ .arg = (a), .pair = (p), .restart = (r) }
#define SUB(t, a)	.sub = (t), .nsub = nitems(t), .subarg = (a)

/* Variants. */
#define VAR(n, k, kname, w, ...) { .nr = __NR_##n, .name = #n "(" kname ")", \
			  .where = (w), .key = (k), __VA_ARGS__ }

/*
 * ioctl requests we can copy: terminal and generic descriptor requests with
 * known argument sizes. The argument of any other request is of unknown shape,
 * so it is refused with ENOTTY, the answer of a driver that does not know it.
 */
#define IOC(r, ...)	VAR(ioctl, r, #r, SY_HOME, .arg = { FD, V, __VA_ARGS__ })
#define IOCN(r, kn, ...) VAR(ioctl, r, kn, SY_HOME, .arg = { FD, V, __VA_ARGS__ })
static const struct sysent ioctl_sub[] = {
	IOC(TCGETS, OUT(KTERMIOS_LEN)),
	IOC(TCSETS, IN(KTERMIOS_LEN)),
	IOC(TCSETSW, IN(KTERMIOS_LEN)),
	IOC(TCSETSF, IN(KTERMIOS_LEN)),
	IOC(TCGETA, OUT(KTERMIO_LEN)),
	IOC(TCSETA, IN(KTERMIO_LEN)),
	IOC(TCSETAW, IN(KTERMIO_LEN)),
	IOC(TCSETAF, IN(KTERMIO_LEN)),
	IOC(TCSBRK, V),
	IOC(TCXONC, V),
	IOC(TCFLSH, V),
	IOC(TIOCEXCL, V),
	IOC(TIOCNXCL, V),
	VAR(ioctl, TIOCSCTTY, "TIOCSCTTY", SY_HOME, .via = SYV_ORIGINAL,
	    .arg = { FD, V, V }),
	IOC(TIOCGPGRP, OUT(4)),
	IOC(TIOCSPGRP, IN(4)),
	IOC(TIOCOUTQ, OUT(4)),
	IOC(TIOCSTI, IN(1)),
	IOC(TIOCGWINSZ, OUT(sizeof (struct winsize))),
	IOC(TIOCSWINSZ, IN(sizeof (struct winsize))),
	IOC(TIOCMGET, OUT(4)),
	IOC(TIOCMBIS, IN(4)),
	IOC(TIOCMBIC, IN(4)),
	IOC(TIOCMSET, IN(4)),
	IOC(FIONREAD, OUT(4)),
	IOC(TIOCPKT, IN(4)),
	IOC(FIONBIO, IN(4)),
	VAR(ioctl, TIOCNOTTY, "TIOCNOTTY", SY_HOME, .via = SYV_ORIGINAL,
	    .arg = { FD, V, V }),
	IOC(TIOCSETD, IN(4)),
	IOC(TIOCGETD, OUT(4)),
	IOC(TCSBRKP, V),
	IOC(TIOCGSID, OUT(4)),
	IOCN(TCGETS2_REQ, "TCGETS2", OUT(KTERMIOS2_LEN)),
	IOCN(TCSETS2_REQ, "TCSETS2", IN(KTERMIOS2_LEN)),
	IOCN(TCSETSW2_REQ, "TCSETSW2", IN(KTERMIOS2_LEN)),
	IOCN(TCSETSF2_REQ, "TCSETSF2", IN(KTERMIOS2_LEN)),
	IOC(TIOCGPTN, OUT(4)),
	IOC(TIOCSPTLCK, IN(4)),
	IOC(TIOCGPTPEER, V),
	IOC(TIOCGEXCL, OUT(4)),
	IOC(TIOCGPKT, OUT(4)),
	IOC(TIOCVHANGUP, V),
	IOC(TIOCGLCKTRMIOS, OUT(KTERMIOS_LEN)),
	IOC(TIOCSLCKTRMIOS, IN(KTERMIOS_LEN)),
	IOC(FIONCLEX, V),
	IOC(FIOCLEX, V),
	IOC(FIOASYNC, IN(4)),
	IOC(FIOQSIZE, OUT(8)),
	IOCN(FS_IOC_GETFLAGS_REQ, "FS_IOC_GETFLAGS", OUT(4)),
	IOCN(FS_IOC_SETFLAGS_REQ, "FS_IOC_SETFLAGS", IN(4)),
};

/* fcntl commands; any other is refused with EINVAL, as the kernel does. */
#define FCN(c, ...)	VAR(fcntl, c, #c, SY_HOME, .arg = { FD, V, __VA_ARGS__ })
#define FCNB(c, ...)	VAR(fcntl, c, #c, SY_HOME, .flags = SYF_BLOCKS, \
			    .arg = { FD, V, __VA_ARGS__ })
static const struct sysent fcntl_sub[] = {
	FCN(F_DUPFD, FD),
	FCN(F_GETFD, V),
	FCN(F_SETFD, V),
	FCN(F_GETFL, V),
	FCN(F_SETFL, V),
	FCN(F_GETLK, INOUT(sizeof (struct flock))),
	FCN(F_SETLK, IN(sizeof (struct flock))),
	FCNB(F_SETLKW, IN(sizeof (struct flock))),
	FCN(F_SETOWN, V),
	FCN(F_GETOWN, V),
	FCN(F_SETSIG, V),
	FCN(F_GETSIG, V),
	FCN(F_SETOWN_EX, IN(sizeof (struct f_owner_ex))),
	FCN(F_GETOWN_EX, OUT(sizeof (struct f_owner_ex))),
	FCN(F_OFD_GETLK, INOUT(sizeof (struct flock))),
	FCN(F_OFD_SETLK, IN(sizeof (struct flock))),
	FCNB(F_OFD_SETLKW, IN(sizeof (struct flock))),
	FCN(F_SETLEASE, V),
	FCN(F_GETLEASE, V),
	FCN(F_NOTIFY, V),
	FCN(F_DUPFD_CLOEXEC, FD),
	FCN(F_SETPIPE_SZ, V),
	FCN(F_GETPIPE_SZ, V),
	FCN(F_ADD_SEALS, V),
	FCN(F_GET_SEALS, V),
};

/*
 * prctl options that only concern the guest itself run where it runs; those
 * about its children need the original. Any other brings the process home.
 */
#define PRL(o)		VAR(prctl, o, #o, SY_LOCAL)
static const struct sysent prctl_sub[] = {
	PRL(PR_GET_DUMPABLE),
	PRL(PR_SET_DUMPABLE),
	PRL(PR_SET_NAME),
	PRL(PR_GET_NAME),
	PRL(PR_GET_SECCOMP),
	PRL(PR_SET_TIMERSLACK),
	PRL(PR_GET_TIMERSLACK),
	VAR(prctl, PR_SET_CHILD_SUBREAPER, "PR_SET_CHILD_SUBREAPER", SY_HOME,
	    .via = SYV_ORIGINAL, .arg = { V, V }),
	VAR(prctl, PR_GET_CHILD_SUBREAPER, "PR_GET_CHILD_SUBREAPER", SY_HOME,
	    .via = SYV_ORIGINAL, .arg = { V, OUT(4) }),
	PRL(PR_SET_NO_NEW_PRIVS),
	PRL(PR_GET_NO_NEW_PRIVS),
	PRL(PR_GET_TID_ADDRESS),
	PRL(PR_SET_THP_DISABLE),
	PRL(PR_GET_THP_DISABLE),
	PRL(PR_GET_SPECULATION_CTRL),
	PRL(PR_SET_SPECULATION_CTRL),
	PRL(PR_SET_PTRACER),
	PRL(PR_SET_VMA),
	VAR(prctl, PR_CAPBSET_READ, "PR_CAPBSET_READ", SY_HOME, .arg = { V, V }),
};

/*
 * Resource limits: those bounding memory, CPU and signals bind the guest
 * where it runs; those bounding files, descriptors and processes bind the
 * deputy at home, where the files and descriptors are.
 */
#define RLOC(n, r)	VAR(n, r, #r, SY_LOCAL)
#define RLOCS(n)							\
	RLOC(n, RLIMIT_CPU), RLOC(n, RLIMIT_DATA), RLOC(n, RLIMIT_STACK),	\
	RLOC(n, RLIMIT_CORE), RLOC(n, RLIMIT_RSS), RLOC(n, RLIMIT_MEMLOCK),	\
	RLOC(n, RLIMIT_AS), RLOC(n, RLIMIT_SIGPENDING), RLOC(n, RLIMIT_RTPRIO), \
	RLOC(n, RLIMIT_RTTIME)
static const struct sysent getrlimit_sub[] = { RLOCS(getrlimit) };
static const struct sysent setrlimit_sub[] = { RLOCS(setrlimit) };
#define RPRL(r)		VAR(prlimit64, r, #r, SY_HOME, .local_if = { IS0(0) }, \
			    .arg = { V, V, IN(16), OUT(16) })
static const struct sysent prlimit_sub[] = {
	RPRL(RLIMIT_CPU), RPRL(RLIMIT_DATA), RPRL(RLIMIT_STACK),
	RPRL(RLIMIT_CORE), RPRL(RLIMIT_RSS), RPRL(RLIMIT_MEMLOCK),
	RPRL(RLIMIT_AS), RPRL(RLIMIT_SIGPENDING), RPRL(RLIMIT_RTPRIO),
	RPRL(RLIMIT_RTTIME),
};

/*
 * The table. Each entry:
 *
 * nr, name	the x86-64 number and the name the logs and counters use.
 * where	LOCAL: runs natively on the remote, the seccomp filter lets it
 *		through (it only touches the guest's memory, time, signal state
 *		or scheduling); HOME: forwarded to the deputy, which runs it with
 *		the original's descriptors, cwd and credentials and sends the
 *		results back; BRINGHOME: the process must be home to do it (it
 *		creates processes, replaces the image, or changes what cannot be
 *		split across nodes); FMAP: mmap of a home fd (see trap.c); REFUSE:
 *		answered at once with -err. A number not in the table brings the
 *		process home.
 * via		for HOME calls, who runs it at home: the deputy (default), the
 *		original process by ptrace injection (it needs the original's
 *		identity: its children, its session), or the deputy answering
 *		from the original's identity (getpid, getppid). The daemon may
 *		override it per call.
 * flags	SYF_SIGPIPE: an EPIPE or EFBIG from it comes with SIGPIPE or
 *		SIGXFSZ, which the deputy catches and sends along. SYF_BLOCKS: it
 *		may wait at home for long (read from a terminal, poll, wait4).
 *		SYF_CLOCK: arg 0 is a clock id (the process's own home pid in
 *		it means the guest). SYF_LOCALFD: on a descriptor of the
 *		guest's own /proc entry (maps, mem...) the host runs it natively.
 *		SYF_SIGMASK: it sets the signal mask while it waits (mask):
 *		home runs it without one, the guest's supervisor judges the
 *		signals that interrupt it by that mask (sigmask.h). SYF_SIGEVENT:
 *		arg 1 is a struct sigevent; the filter lets none of its calls
 *		through, the guest server looks at the sigevent first.
 * arg[6]	how each argument travels: a number, a home fd, a path, a buffer
 *		in or out with its length (fixed, from another argument, from a
 *		socklen_t in memory, an fd_set), an iovec array, a msghdr. Caps
 *		bound every length that comes from the guest; a length over its
 *		cap is cut when the call may transfer less than asked (read,
 *		write), else refused with err (EINVAL by default).
 * local_if	alternative conditions on the arguments under which the call
 *		is LOCAL after all, any one sufficing (mmap of anonymous
 *		private memory; affinity of pid 0; the caller's own clocks).
 * sub, subarg	variants by the value of one argument (the ioctl request, the
 *		fcntl command, the prctl option, the resource of a limit); a
 *		value without a variant gets the parent entry.
 */
static const struct sysent sysent_table[SYSENT_MAX] = {
	/* Files and descriptors: all at home, where the descriptors are. */
	HL(read, SYF_BLOCKS, FD, RD(2), V),
	HL(write, SYF_BLOCKS | SYF_SIGPIPE, FD, WR(2), V),
	H(open, PATH, V, V),
	H(close, FD),
	H(stat, PATH, OUT(sizeof (struct stat))),
	HL(fstat, 0, FD, OUT(sizeof (struct stat))),
	H(lstat, PATH, OUT(sizeof (struct stat))),
	HB(poll, INOUTA(1, sizeof (struct pollfd), POLLFD_MAX * 8), V, V),
	HL(lseek, 0, FD, V, V),
	T(ioctl, SY_REFUSE, .err = ENOTTY, SUB(ioctl_sub, 1)),
	HL(pread64, SYF_BLOCKS, FD, RD(2), V, V),
	HL(pwrite64, SYF_BLOCKS | SYF_SIGPIPE, FD, WR(2), V, V),
	HL(readv, SYF_BLOCKS, FD, IOVR(2), V),
	HL(writev, SYF_BLOCKS | SYF_SIGPIPE, FD, IOVW(2), V),
	H(access, PATH, V),
	H(pipe, OUT(8)),
	HB(select, V, FDSET(0), FDSET(0), FDSET(0), INOUT(sizeof (struct timeval))),
	H(dup, FD),
	H(dup2, FD, FD),
	HP(sendfile, FD, FD, INOUT(8), V),
	H(socket, V, V, V),
	HB(connect, FD, INAI(2, SOCKADDR_MAX), V),
	HB(accept, FD, OUTD(2, SOCKADDR_MAX), INOUT(4)),
	HP(sendto, FD, WR(2), V, V, INAI(5, SOCKADDR_MAX), V),
	HB(recvfrom, FD, RD(2), V, V, OUTD(5, SOCKADDR_MAX), INOUT(4)),
	HP(sendmsg, FD, MSGS, V),
	HB(recvmsg, FD, MSGR, V),
	H(shutdown, FD, V),
	H(bind, FD, INAI(2, SOCKADDR_MAX), V),
	H(listen, FD, V),
	H(getsockname, FD, OUTD(2, SOCKADDR_MAX), INOUT(4)),
	H(getpeername, FD, OUTD(2, SOCKADDR_MAX), INOUT(4)),
	H(socketpair, V, V, V, OUT(8)),
	H(setsockopt, FD, V, V, INAI(4, SOCKOPT_MAX), V),
	H(getsockopt, FD, V, V, OUTD(4, SOCKOPT_MAX), INOUT(4)),
	T(fcntl, SY_REFUSE, .err = EINVAL, SUB(fcntl_sub, 1)),
	HB(flock, FD, V),
	H(fsync, FD),
	H(fdatasync, FD),
	H(truncate, PATH, V),
	H(ftruncate, FD, V),
	H(getdents, FD, RD(2), V),
	H(getcwd, RDC(1, SYSENT_PATH_MAX), V),
	H(chdir, PATH),
	H(fchdir, FD),
	H(rename, PATH, PATH),
	H(mkdir, PATH, V),
	H(rmdir, PATH),
	H(creat, PATH, V),
	H(link, PATH, PATH),
	H(unlink, PATH),
	H(symlink, PATH, PATH),
	H(readlink, PATH, RDCI(2, SYSENT_PATH_MAX), V),
	H(chmod, PATH, V),
	H(fchmod, FD, V),
	H(chown, PATH, V, V),
	H(fchown, FD, V, V),
	H(lchown, PATH, V, V),
	H(umask, V),
	H(utime, PATH, IN(16)),
	H(mknod, PATH, V, V),
	H(statfs, PATH, OUT(sizeof (struct statfs))),
	HL(fstatfs, 0, FD, OUT(sizeof (struct statfs))),
	H(sync),
	H(readahead, FD, V, V),
	H(setxattr, PATH, XNAME, INA(3, 1, XATTR_VAL_MAX, E2BIG), V, V),
	H(lsetxattr, PATH, XNAME, INA(3, 1, XATTR_VAL_MAX, E2BIG), V, V),
	H(fsetxattr, FD, XNAME, INA(3, 1, XATTR_VAL_MAX, E2BIG), V, V),
	H(getxattr, PATH, XNAME, OUTA(3, 1, XATTR_VAL_MAX), V),
	H(lgetxattr, PATH, XNAME, OUTA(3, 1, XATTR_VAL_MAX), V),
	H(fgetxattr, FD, XNAME, OUTA(3, 1, XATTR_VAL_MAX), V),
	H(listxattr, PATH, OUTA(2, 1, XATTR_VAL_MAX), V),
	H(llistxattr, PATH, OUTA(2, 1, XATTR_VAL_MAX), V),
	H(flistxattr, FD, OUTA(2, 1, XATTR_VAL_MAX), V),
	H(removexattr, PATH, XNAME),
	H(lremovexattr, PATH, XNAME),
	H(fremovexattr, FD, XNAME),
	H(epoll_create, V),
	H(getdents64, FD, RD(2), V),
	H(fadvise64, FD, V, V, V),
	HB(epoll_wait, FD, OUTAI(2, EPOLL_EV_LEN, SYSENT_IO_MAX), V, V),
	H(epoll_ctl, FD, V, FD, IN(EPOLL_EV_LEN)),
	H(utimes, PATH, IN(2 * sizeof (struct timeval))),
	H(inotify_init),
	H(inotify_add_watch, FD, PATH, V),
	H(inotify_rm_watch, FD, V),
	H(openat, FD, PATH, V, V),
	H(mkdirat, FD, PATH, V),
	H(mknodat, FD, PATH, V, V),
	H(fchownat, FD, PATH, V, V, V),
	H(futimesat, FD, PATH, IN(2 * sizeof (struct timeval))),
	H(newfstatat, FD, PATH, OUT(sizeof (struct stat)), V),
	H(unlinkat, FD, PATH, V),
	H(renameat, FD, PATH, FD, PATH),
	H(linkat, FD, PATH, FD, PATH, V),
	H(symlinkat, PATH, FD, PATH),
	H(readlinkat, FD, PATH, RDCI(3, SYSENT_PATH_MAX), V),
	H(fchmodat, FD, PATH, V),
	H(fchmodat2, FD, PATH, V, V),
	H(faccessat, FD, PATH, V),
	H(faccessat2, FD, PATH, V, V),
	HM(pselect6, MASK(5, 1, ERESTARTNOHAND), V, FDSET(0), FDSET(0), FDSET(0),
	    INOUT(sizeof (struct timespec)), DROP),
	HM(ppoll, MASK(3, 0, ERESTARTNOHAND),
	    INOUTA(1, sizeof (struct pollfd), POLLFD_MAX * 8), V,
	    INOUT(sizeof (struct timespec)), DROP, V),
	HP(splice, FD, INOUT(8), FD, INOUT(8), V, V),
	HP(tee, FD, FD, V, V),
	H(sync_file_range, FD, V, V, V),
	H(utimensat, FD, PATH, IN(2 * sizeof (struct timespec)), V),
	HM(epoll_pwait, MASK(4, 0, EINTR), FD,
	    OUTAI(2, EPOLL_EV_LEN, SYSENT_IO_MAX), V, V, DROP, V),
	H(timerfd_create, V, V),
	H(eventfd, V),
	H(eventfd2, V, V),
	H(fallocate, FD, V, V, V),
	H(timerfd_settime, FD, V, IN(sizeof (struct itimerspec)),
	    OUT(sizeof (struct itimerspec))),
	H(timerfd_gettime, FD, OUT(sizeof (struct itimerspec))),
	HB(accept4, FD, OUTD(2, SOCKADDR_MAX), INOUT(4), V),
	H(epoll_create1, V),
	H(dup3, FD, FD, V),
	H(pipe2, OUT(8), V),
	H(inotify_init1, V),
	HL(preadv, SYF_BLOCKS, FD, IOVR(2), V, V, V),
	HL(pwritev, SYF_BLOCKS | SYF_SIGPIPE, FD, IOVW(2), V, V, V),
	H(syncfs, FD),
	H(renameat2, FD, PATH, FD, PATH, V),
	H(memfd_create, MEMFD_NAME, V),
	H(copy_file_range, FD, INOUT(8), FD, INOUT(8), V, V),
	HL(preadv2, SYF_BLOCKS, FD, IOVR(2), V, V, V, V),
	HL(pwritev2, SYF_BLOCKS | SYF_SIGPIPE, FD, IOVW(2), V, V, V, V),
	H(statx, FD, PATH, V, V, OUT(256)),
	H(openat2, FD, PATH, INA(3, 1, OPEN_HOW_MAX, E2BIG), V),
	HM(epoll_pwait2, MASK(4, 0, EINTR), FD,
	    OUTAI(2, EPOLL_EV_LEN, SYSENT_IO_MAX), V, IN(sizeof (struct timespec)),
	    DROP, V),
	HE(close_range, V, V, V),

	/* The home identity: pids, ids, sessions, signals to home pids. */
	HE(getpid),
	HE(gettid),
	HE(getppid),
	HE(getpgrp),
	HE(getpgid, V),
	HE(getsid, V),
	HS(kill, SYV_EMUL, V, V),
	HS(tkill, SYV_DEPUTY, V, V),
	HS(tgkill, SYV_DEPUTY, V, V, V),
	HS(rt_sigqueueinfo, SYV_DEPUTY, V, V, IN(sizeof (siginfo_t))),
	HS(rt_tgsigqueueinfo, SYV_DEPUTY, V, V, V, IN(sizeof (siginfo_t))),
	H(pidfd_open, V, V),
	H(pidfd_send_signal, FD, V, IN(sizeof (siginfo_t)), V),
	H(pidfd_getfd, FD, V, V),
	HO(wait4, V, OUT(4), V, OUT(sizeof (struct rusage))),
	HO(waitid, V, V, OUT(sizeof (siginfo_t)), V, OUT(sizeof (struct rusage))),
	HO(setsid),
	HO(setpgid, V, V),
	H(getuid),
	H(getgid),
	H(geteuid),
	H(getegid),
	H(getresuid, OUT(4), OUT(4), OUT(4)),
	H(getresgid, OUT(4), OUT(4), OUT(4)),
	H(getgroups, V, OUTAI(0, 4, GROUPS_MAX * 4)),
	H(uname, OUT(sizeof (struct utsname))),
	H(sysinfo, OUT(sizeof (struct sysinfo))),
	H(getpriority, V, V),
	H(setpriority, V, V, V),
	T(getrlimit, SY_HOME, SUB(getrlimit_sub, 0), .arg = { V, OUT(16) }),
	T(setrlimit, SY_HOME, SUB(setrlimit_sub, 0), .arg = { V, IN(16) }),
	T(prlimit64, SY_HOME, SUB(prlimit_sub, 1), .arg = { V, V, IN(16), OUT(16) }),
	T(prctl, SY_BRINGHOME, SUB(prctl_sub, 0)),

	/* Memory of the guest: anonymous memory is local, a file mapping is not. */
	T(mmap, SY_FMAP, .local_if = { COND(3, MAP_ANONYMOUS | MAP_TYPE,
	    MAP_ANONYMOUS | MAP_PRIVATE) }),
	L(mprotect),
	L(munmap),
	L(brk),
	L(mremap),
	L(msync),
	L(mincore),
	L(madvise),
	L(mlock),
	L(munlock),
	L(mlockall),
	L(munlockall),
	L(mlock2),
	L(mbind),
	L(set_mempolicy),
	L(get_mempolicy),
	L(set_mempolicy_home_node),
	L(pkey_mprotect),
	L(pkey_alloc),
	L(pkey_free),
	L(membarrier),

	/* Threads, futexes, signals and time of the guest. */
	L(futex),
	L(futex_waitv),
	L(set_tid_address),
	L(set_robust_list),
	/* another pid's list: ptrace's rules, for a home pid, at home */
	T(get_robust_list, SY_HOME, .local_if = { IS0(0) },
	    .arg = { V, OUT(8), OUT(8) }),
	L(rseq),
	L(arch_prctl),
	L(rt_sigaction),
	L(rt_sigprocmask),
	L(rt_sigreturn),
	L(rt_sigpending),
	L(rt_sigtimedwait),
	L(rt_sigsuspend),
	L(sigaltstack),
	L(pause),
	L(restart_syscall),
	L(exit),
	L(exit_group),
	L(nanosleep),
	/*
	 * Clocks: a CPU clock of another pid is a home process's. Reading it
	 * goes home (any process may read any other's CPU clock, as at home);
	 * the deputy refuses a descriptor clock of its own range. Sleeping on
	 * it or arming a timer on it makes state the guest must own: home.
	 * A clock naming the process's own home pid is the guest's (trap.c).
	 */
	T(clock_nanosleep, SY_BRINGHOME, .flags = SYF_CLOCK, CLK_LOCAL),
	T(clock_gettime, SY_HOME, .via = SYV_EMUL, .flags = SYF_CLOCK,
	    CLK_LOCAL, .arg = { V, OUT(sizeof (struct timespec)) }),
	T(clock_getres, SY_HOME, .via = SYV_EMUL, .flags = SYF_CLOCK,
	    CLK_LOCAL, .arg = { V, OUT(sizeof (struct timespec)) }),
	L(gettimeofday),
	L(time),
	L(getitimer),
	L(setitimer),
	L(alarm),
	/*
	 * A timer signalling a thread names it by the tid the process knows,
	 * its home pid (gettid is answered at home), which on the host is
	 * nobody: that timer is made at home (SYF_SIGEVENT, trap.c).
	 */
	T(timer_create, SY_BRINGHOME, .flags = SYF_CLOCK | SYF_SIGEVENT,
	    CLK_LOCAL),
	L(timer_settime),
	L(timer_gettime),
	L(timer_getoverrun),
	L(timer_delete),
	L(getrandom),
	L(getcpu),
	L(personality),
	L(times),
	/* the children's usage is the original's: its children are at home */
	T(getrusage, SY_HOME, .via = SYV_ORIGINAL,
	    .local_if = { ISN(0, RUSAGE_SELF), ISN(0, RUSAGE_THREAD) },
	    .arg = { V, OUT(sizeof (struct rusage)) }),
	L(sched_yield),
	L(sched_get_priority_max),
	L(sched_get_priority_min),
	T(sched_getaffinity, SY_HOME, .local_if = { IS0(0) },
	    .arg = { V, V, OUTA(1, 1, CPUSET_MAX) }),
	T(sched_setaffinity, SY_HOME, .local_if = { IS0(0) },
	    .arg = { V, V, INA(1, 1, CPUSET_MAX, EINVAL) }),
	T(sched_getparam, SY_HOME, .local_if = { IS0(0) }, .arg = { V, OUT(4) }),
	T(sched_setparam, SY_HOME, .local_if = { IS0(0) }, .arg = { V, IN(4) }),
	T(sched_getscheduler, SY_HOME, .local_if = { IS0(0) }, .arg = { V }),
	T(sched_setscheduler, SY_HOME, .local_if = { IS0(0) },
	    .arg = { V, V, IN(4) }),
	T(sched_rr_get_interval, SY_HOME, .local_if = { IS0(0) },
	    .arg = { V, OUT(sizeof (struct timespec)) }),

	/* What cannot run split: new processes, a new image, credentials. */
	B(fork),
	B(vfork),
	B(clone),
	B(clone3),
	B(execve),
	B(execveat),
	B(ptrace),
	B(setuid),
	B(setgid),
	B(setreuid),
	B(setregid),
	B(setresuid),
	B(setresgid),
	B(setfsuid),
	B(setfsgid),
	B(setgroups),
	B(capget),
	B(capset),
	B(unshare),
	B(setns),
	B(seccomp),
	B(shmget),
	B(shmat),
	B(shmdt),
	B(shmctl),
	B(signalfd),
	B(signalfd4),
	B(vmsplice),
	B(userfaultfd),
	B(io_uring_setup),
	B(process_vm_readv),
	B(process_vm_writev),
};

static const struct sysent sysent_unknown = {
	.nr = -1, .name = "unknown", .where = SY_BRINGHOME,
};

static const char *sysent_where_names[SY_NWHERE] = {
	[SY_LOCAL] = "local",
	[SY_HOME] = "home",
	[SY_BRINGHOME] = "bring-home",
	[SY_FMAP] = "fmap",
	[SY_REFUSE] = "refuse",
};

const struct sysent *
sysent_lookup(int nr)
{
	if (nr < 0 || nr >= SYSENT_MAX || sysent_table[nr].where == 0)
		return NULL;
	return &sysent_table[nr];
}

static int
cond_holds(const struct sysent *e, const uint64_t *a)
{
	size_t	i;

	for (i = 0; i < SYSENT_NCOND; i++) {
		if (e->local_if[i].used && (a[e->local_if[i].arg] &
		    e->local_if[i].mask) == e->local_if[i].value)
			return 1;
	}
	return 0;
}

const struct sysent *
sysent_resolve(int nr, const uint64_t args[SYSENT_NARGS], int *where)
{
	const struct sysent	*e = sysent_lookup(nr);
	uint32_t		 key;
	size_t			 i;

	if (e == NULL) {
		*where = SY_BRINGHOME;
		return &sysent_unknown;
	}
	if (e->sub != NULL) {
		/* Requests, commands and options are ints: the kernel drops the rest. */
		key = (uint32_t)args[e->subarg];
		for (i = 0; i < e->nsub; i++) {
			if (e->sub[i].key == key) {
				e = &e->sub[i];
				break;
			}
		}
	}
	*where = cond_holds(e, args) ? SY_LOCAL : e->where;
	return e;
}

const char *
sysent_name(int nr)
{
	const struct sysent	*e = sysent_lookup(nr);

	return e == NULL ? sysent_unknown.name : e->name;
}

const char *
sysent_where_name(int where)
{
	if (where <= 0 || where >= SY_NWHERE)
		return "unknown";
	return sysent_where_names[where];
}

void
sysent_foreach(void (*fn)(const struct sysent *, const struct sysent *, void *),
    void *arg)
{
	size_t	i, j;

	for (i = 0; i < SYSENT_MAX; i++) {
		if (sysent_table[i].where == 0)
			continue;
		fn(&sysent_table[i], NULL, arg);
		for (j = 0; j < sysent_table[i].nsub; j++)
			fn(&sysent_table[i].sub[j], &sysent_table[i], arg);
	}
}

int
sysarg_is_ptr(const struct sysarg *a)
{
	static const uint8_t	ptr[] = {
		[SA_PATH] = 1, [SA_IN] = 1, [SA_OUT] = 1, [SA_INOUT] = 1,
		[SA_IOV_IN] = 1, [SA_IOV_OUT] = 1, [SA_MSG_SEND] = 1,
		[SA_MSG_RECV] = 1, [SA_DROP] = 1,
	};

	return a->kind < nitems(ptr) && ptr[a->kind];
}
