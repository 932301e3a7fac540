/*
 * image.h: the omm process image, a versioned self-describing stream.
 *
 * An image is written front to back and can be read the same way, so it can
 * go to a file or, unchanged, over a TLS connection. Layout:
 *
 *   section HEADER   (always first)
 *   section PROC, REGS, SIGNALS, TIMERS, FDS, VMAS   (metadata, each exactly once)
 *   section THREAD   (zero or more: one per thread but the main one, after
 *                     SIGNALS and before FDS)
 *   section PAGES    (zero or more: page contents, zero pages never stored)
 *   section END      (counts of what came before, catches truncation)
 *
 * Every section is framed as
 *
 *   u32 type | u32 flags (0) | u64 payload length | payload | u32 crc32c
 *
 * where the crc covers the 16-byte frame header and the payload. All
 * integers are little-endian; strings are u32 length + bytes (buf.h).
 * Decoders check every length against IMG_MAX_* caps before allocating and
 * reject, with a specific message, anything that does not add up.
 */
#ifndef OMM_IMAGE_H
#define OMM_IMAGE_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stdint.h>
#include <stdio.h>

#include "omm/cpufeat.h"

#define IMG_MAGIC		"OMMIMG\r\n"	/* 8 bytes, catches text-mode mangling */
/*
 * 2: PROC carries the supplementary groups, mlockall flags and membarrier
 * registrations; VMAS's madvise word the mergeable and lock bits.
 * 3: a TIMERS section (interval timers, POSIX timers); THREAD sections (one
 *    per thread but the main one) after SIGNALS.
 * 3 (fds): FDS entries end in value, extra, an epoll interest list and a
 *    content blob; fd kinds EVENTFD to DELETED (5-10); VMAS flag MEMFD.
 */
#define IMG_VERSION		3
#define IMG_ARCH_X86_64		62		/* EM_X86_64 */

#define IMG_MAX_SECTION		(64u << 20)	/* largest payload accepted */
#define IMG_MAX_PATH		4096
#define IMG_MAX_VMAS		65536
#define IMG_MAX_FDS		65536
#define IMG_MAX_PENDING		1024
#define IMG_MAX_XSTATE		(64u << 10)
#define IMG_MAX_AUXV		128		/* u64 words */
#define IMG_MAX_GROUPS		65536		/* NGROUPS_MAX */
#define IMG_MAX_TIMERS		65536		/* POSIX timers of one process */
#define IMG_PAGES_PER_SECTION	1024		/* 4 MiB of data at most */
#define IMG_MAX_THREADS		4096		/* THREAD sections in one image */

enum img_sec {
	IMG_SEC_HEADER = 1,
	IMG_SEC_PROC = 2,
	IMG_SEC_REGS = 3,
	IMG_SEC_SIGNALS = 4,
	IMG_SEC_FDS = 5,
	IMG_SEC_VMAS = 6,
	IMG_SEC_PAGES = 7,
	IMG_SEC_END = 8,
	IMG_SEC_TIMERS = 9,
	IMG_SEC_THREAD = 11,	/* any number, after SIGNALS, before FDS */
};

struct img_header {
	uint32_t		version;
	uint32_t		arch;		/* IMG_ARCH_X86_64 */
	uint32_t		page_size;
	uint64_t		time_ns;	/* CLOCK_REALTIME at dump */
	char			kernel[65];	/* uname -r of the dumping node */
	char			hostname[65];
	struct cpu_features	cpu;		/* what the process may use */
};

#define IMG_NRLIMITS	16

/* Task-wide state. Addresses are the process's own. */
struct img_proc {
	int32_t		pid;		/* at dump, informational */
	uint32_t	uid, gid;	/* real ids at dump, informational */
	char		comm[16];
	char		*exe;		/* /proc/pid/exe at dump, informational */
	char		*cmdline;	/* argv joined by spaces, informational */
	char		*cwd;
	uint32_t	umask;
	uint32_t	personality;
	struct {
		uint64_t	cur, max;
	}		rlim[IMG_NRLIMITS];
	/* mm fields, as prctl(PR_SET_MM_MAP) takes them */
	uint64_t	start_code, end_code, start_data, end_data;
	uint64_t	start_brk, brk, start_stack;
	uint64_t	arg_start, arg_end, env_start, env_end;
	uint32_t	auxv_n;		/* u64 words in auxv */
	uint64_t	auxv[IMG_MAX_AUXV];
	/* registrations that point into the address space */
	uint64_t	rseq_addr;	/* 0: none */
	uint32_t	rseq_len, rseq_sig;
	uint64_t	robust_list, robust_len;
	uint64_t	clear_tid;	/* set_tid_address */
	/* state the process gave itself that a restore puts back */
	uint32_t	ngroups;	/* supplementary groups (getgroups) */
	uint32_t	*groups;
	uint32_t	mlockall;	/* IMG_MCL_*: mlockall(MCL_FUTURE...) in force */
	uint32_t	membarrier;	/* IMG_MEMBARRIER_*: registrations */
};

/* img_proc.mlockall */
#define IMG_MCL_FUTURE		0x01	/* new mappings come locked */
#define IMG_MCL_ONFAULT		0x02	/* ... on fault (with FUTURE) */
#define IMG_MCL_ALL		0x03

/* img_proc.membarrier: the private expedited registrations */
#define IMG_MEMBARRIER_PRIVATE_EXPEDITED	0x01
#define IMG_MEMBARRIER_SYNC_CORE		0x02
#define IMG_MEMBARRIER_RSEQ			0x04
#define IMG_MEMBARRIER_ALL			0x07

/* Registers: the NT_PRSTATUS and NT_X86_XSTATE regsets as ptrace has them. */
#define IMG_NGREGS	27		/* sizeof(struct user_regs_struct) / 8 */
struct img_regs {
	uint64_t	gpr[IMG_NGREGS];	/* struct user_regs_struct order */
	uint32_t	xstate_len;
	uint8_t		*xstate;		/* standard (non-compacted) xsave layout */
};

struct img_sigaction {
	uint64_t	handler;	/* SIG_DFL 0, SIG_IGN 1, else an address */
	uint64_t	flags;
	uint64_t	restorer;
	uint64_t	mask;
};

struct img_siginfo {
	uint32_t	shared;		/* 1: process-wide queue, 0: thread */
	uint8_t		raw[128];	/* siginfo_t as PTRACE_PEEKSIGINFO gives it */
};

struct img_signals {
	struct img_sigaction	act[64];	/* index sig - 1 */
	uint64_t		blocked;
	uint64_t		ss_sp, ss_size;
	uint32_t		ss_flags;
	uint32_t		npending;
	struct img_siginfo	*pending;
};

/*
 * Timers. Times are relative (what is left until the next expiry, the
 * reload interval), in ns, as getitimer/timer_gettime give them: never a
 * value of a node's own CLOCK_MONOTONIC or CLOCK_BOOTTIME, which differ
 * from node to node. For CPU clocks it is CPU time left.
 */
struct img_itimer {
	uint64_t	value_ns;	/* 0: disarmed */
	uint64_t	interval_ns;
};

/* img_ptimer.notify: sigev_notify as the kernel keeps it */
#define IMG_SIGEV_SIGNAL	0	/* SIGEV_SIGNAL */
#define IMG_SIGEV_NONE		1	/* SIGEV_NONE */
#define IMG_SIGEV_THREAD_ID	4	/* SIGEV_THREAD_ID: the process's (only) thread */

struct img_ptimer {
	int32_t		id;		/* timer_t as the process knows it */
	int32_t		clock;		/* CPU clocks of the process itself as pid 0 */
	uint32_t	notify;		/* IMG_SIGEV_* */
	uint32_t	signo;		/* sigev_signo (any for SIGEV_NONE) */
	uint64_t	value;		/* sigev_value */
	uint64_t	value_ns;	/* left until the next expiry; 0: disarmed */
	uint64_t	interval_ns;
	uint32_t	overrun;	/* timer_getoverrun at dump, informational */
};

/* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (alarm is ITIMER_REAL). */
#define IMG_NITIMERS	3
struct img_timers {
	struct img_itimer	 it[IMG_NITIMERS];
	uint32_t		 n;
	struct img_ptimer	*t;		/* ascending ids */
};

enum img_fd_kind {
	IMG_FD_FILE = 1,	/* regular file or directory: reopen by path, seek */
	IMG_FD_DEV = 2,		/* character device (/dev/null, ...): reopen by path */
	IMG_FD_STDIO = 3,	/* fd 0-2 on a terminal or pipe: rebound to the restorer's */
	IMG_FD_PIPE = 4,	/* an end of a pipe whose other end the process holds too
				   (a self-pipe, as xz has): recreated empty; path NULL,
				   ends paired by ino, O_ACCMODE of flags says which end */
	IMG_FD_EVENTFD = 5,	/* value: the counter; extra: IMG_EFD_SEMAPHORE */
	IMG_FD_SIGNALFD = 6,	/* value: the signal mask (bit sig - 1) */
	IMG_FD_EPOLL = 7,	/* watch[]: fd (a target fd of the process), events, data */
	IMG_FD_OPATH = 8,	/* O_PATH on any object: reopened O_PATH by path */
	IMG_FD_MEMFD = 9,	/* path: the memfd's name; extra: seals (F_SEAL_*);
				   data: its content (size bytes), in the first fd of
				   the inode; later fds of it reopen that one */
	IMG_FD_DELETED = 10,	/* regular file unlinked while open: path where it was;
				   data as MEMFD; restored as an O_TMPFILE there */
};
#define IMG_FD_KIND_MAX		IMG_FD_DELETED

/* img_fd.extra of IMG_FD_EVENTFD */
#define IMG_EFD_SEMAPHORE	0x01

#define IMG_MAX_WATCHES		65536		/* interest list entries of an epoll */
#define IMG_MAX_FDDATA		(48u << 20)	/* content carried, all fds together */

/* One entry of an epoll's interest list. */
struct img_fd_watch {
	int32_t		fd;		/* the target fd, in the same process */
	uint32_t	events;		/* EPOLL* as epoll_ctl took them */
	uint64_t	data;
};

struct img_fd {
	int32_t		fd;
	uint32_t	kind;		/* enum img_fd_kind */
	uint32_t	flags;		/* open flags from fdinfo (O_ACCMODE, O_APPEND, ...) */
	uint32_t	cloexec;
	uint64_t	pos;
	uint32_t	mode;		/* st_mode at dump */
	uint64_t	dev, ino, size;	/* identity at dump, informational */
	char		*path;		/* NULL for IMG_FD_STDIO and IMG_FD_PIPE */
	/*
	 * 1 + the lowest fd sharing this fd's open file description (dup(),
	 * "2>&1": one offset for both), restored by dup; 0: none. Counted
	 * from 1 so that a zeroed entry means "none".
	 */
	uint32_t	shared_with;
	/* by kind: see enum img_fd_kind; zero / NULL for the others */
	uint64_t	value;
	uint32_t	extra;
	uint32_t	nwatch;
	struct img_fd_watch *watch;
	uint64_t	datalen;	/* == size, or 0 in a later fd of the inode */
	uint8_t		*data;
};

/* img_vma.flags */
#define IMG_VMA_SHARED		0x0001	/* MAP_SHARED (else private) */
#define IMG_VMA_FILE		0x0002	/* backed by path (else anonymous) */
#define IMG_VMA_GROWSDOWN	0x0004
#define IMG_VMA_STACK		0x0008	/* [stack] */
#define IMG_VMA_HEAP		0x0010	/* [heap] */
#define IMG_VMA_VDSO		0x0020	/* [vdso] */
#define IMG_VMA_VVAR		0x0040	/* [vvar], [vvar_vclock] */
#define IMG_VMA_VSYSCALL	0x0080	/* [vsyscall]: never mapped, recorded only */
#define IMG_VMA_FILE_PAGES	0x0100	/* unmodified file pages are not stored: map from the file */
#define IMG_VMA_MEMFD		0x0200	/* MAP_SHARED of the memfd an FDS entry (kind 9,
					   same dev and ino, with its content) holds:
					   mapped from it, no pages stored */

/* img_vma.madv: VmFlags of smaps that a restore re-applies with madvise */
#define IMG_MADV_HUGEPAGE	0x01	/* hg */
#define IMG_MADV_NOHUGEPAGE	0x02	/* nh */
#define IMG_MADV_DONTFORK	0x04	/* dc */
#define IMG_MADV_WIPEONFORK	0x08	/* wf */
#define IMG_MADV_DONTDUMP	0x10	/* dd */
#define IMG_MADV_MERGEABLE	0x20	/* mg */
#define IMG_MADV_LOCKED		0x40	/* lo: mlock, not an madvise but a flag alike */
#define IMG_MADV_LOCKONFAULT	0x80	/* lf: with LOCKED, mlock2(MLOCK_ONFAULT) */
#define IMG_MADV_ALL		0xff

struct img_vma {
	uint64_t	start, end;
	uint32_t	prot;		/* PROT_* */
	uint32_t	flags;		/* IMG_VMA_* */
	uint32_t	madv;		/* IMG_MADV_* */
	uint64_t	pgoff;		/* file offset in bytes */
	/* file identity at dump; a restore that maps from the file checks it */
	uint64_t	dev, ino, size;
	int64_t		mtime_ns;
	char		*path;		/* NULL for anonymous */
	uint64_t	npages;		/* pages of this vma stored in PAGES sections */
};

/*
 * A thread other than the main one (whose state is in PROC, REGS and
 * SIGNALS): what the kernel keeps per thread. Its pending signals are its
 * own queue's (the process-wide queue is in SIGNALS).
 */
struct img_thread {
	int32_t		tid;		/* at dump: a restore asks for it again */
	char		comm[16];	/* /proc/PID/task/TID/comm */
	struct img_regs	regs;		/* fs/gs base in gpr */
	uint64_t	blocked;
	uint64_t	ss_sp, ss_size;
	uint32_t	ss_flags;
	uint64_t	rseq_addr;	/* 0: none */
	uint32_t	rseq_len, rseq_sig;
	uint64_t	robust_list, robust_len;
	uint64_t	clear_tid;	/* set_tid_address / CLONE_CHILD_CLEARTID */
	uint32_t	sched_policy;	/* SCHED_*, with SCHED_RESET_ON_FORK */
	uint32_t	sched_priority;
	int32_t		nice;
	uint32_t	npending;
	struct img_siginfo *pending;	/* shared is always 0 */
};

/* Everything but page contents, as decoded. */
struct img {
	struct img_header	hdr;
	struct img_proc		proc;
	struct img_regs		regs;
	struct img_signals	sig;
	struct img_timers	timers;
	uint32_t		nthreads;	/* THREAD sections */
	struct img_thread	*threads;
	uint32_t		nfds;
	struct img_fd		*fds;
	uint32_t		nvmas;
	struct img_vma		*vmas;
};

/* Totals carried by the END section. */
struct img_end {
	uint64_t	nsections;	/* sections before END, HEADER included */
	uint64_t	npages;		/* pages in all PAGES sections */
};

/* One PAGES section, borrowed from the reader's buffer until the next read. */
struct img_pages {
	uint32_t	 count;
	const uint8_t	*addrs;		/* count little-endian u64 page addresses: use img_page_addr() */
	const uint8_t	*data;		/* count * page_size bytes, in the same order */
};

void	img_free(struct img *);
uint64_t img_page_addr(const struct img_pages *, uint32_t i);

/* Encoders and decoders of each section payload (plain functions, fuzzed). */
struct buf;
void	img_header_encode(const struct img_header *, struct buf *);
int	img_header_decode(struct img_header *, const void *, size_t, char **cause);
void	img_proc_encode(const struct img_proc *, struct buf *);
int	img_proc_decode(struct img_proc *, const void *, size_t, char **cause);
void	img_regs_encode(const struct img_regs *, struct buf *);
int	img_regs_decode(struct img_regs *, const void *, size_t, char **cause);
void	img_signals_encode(const struct img_signals *, struct buf *);
int	img_signals_decode(struct img_signals *, const void *, size_t, char **cause);
void	img_timers_encode(const struct img_timers *, struct buf *);
int	img_timers_decode(struct img_timers *, const void *, size_t, char **cause);
void	img_thread_encode(const struct img_thread *, struct buf *);
int	img_thread_decode(struct img_thread *, const void *, size_t, char **cause);
void	img_thread_free(struct img_thread *);
void	img_fds_encode(const struct img_fd *, uint32_t, struct buf *);
int	img_fds_decode(struct img_fd **, uint32_t *, const void *, size_t, char **cause);
void	img_vmas_encode(const struct img_vma *, uint32_t, struct buf *);
int	img_vmas_decode(struct img_vma **, uint32_t *, const void *, size_t, char **cause);
int	img_pages_decode(struct img_pages *, uint32_t page_size, const void *, size_t, char **cause);
void	img_end_encode(const struct img_end *, struct buf *);
int	img_end_decode(struct img_end *, const void *, size_t, char **cause);

/*
 * Writer: frames sections onto a file descriptor (file, pipe or socket).
 * Short writes are retried; EINTR is retried.
 */
struct img_writer;
struct img_writer *img_writer_new(int fd);
/* HEADER then PROC, REGS, SIGNALS, THREAD..., TIMERS, FDS, VMAS. */
int	img_write_meta(struct img_writer *, const struct img *, char **cause)
	    __attribute__((warn_unused_result));
/* One PAGES section; data is count pages in iov (any split), addrs are page addresses. */
int	img_write_pages(struct img_writer *, const uint64_t *addrs, uint32_t count,
	    const struct iovec *iov, int iovcnt, char **cause)
	    __attribute__((warn_unused_result));
/* END with the counts the writer kept. */
int	img_write_end(struct img_writer *, char **cause)
	    __attribute__((warn_unused_result));
uint64_t img_writer_bytes(const struct img_writer *);
/*
 * Fail a write once the fd took nothing for ms (a pipe, FIFO or socket,
 * made non-blocking for it; a regular file is never limited).
 */
void	img_writer_set_stall(struct img_writer *, int ms);
void	img_writer_free(struct img_writer *);

/*
 * Reader. img_read_meta reads and checks HEADER (magic, version, arch, page
 * size) and every metadata section; it does not judge CPU features, the
 * caller does (img_check_cpu). Then img_read_pages returns 1 with the next
 * PAGES section, or 0 once END was read and its counts matched.
 */
struct img_reader;
struct img_reader *img_reader_new(int fd);
int	img_read_meta(struct img_reader *, struct img *, char **cause)
	    __attribute__((warn_unused_result));
int	img_read_pages(struct img_reader *, struct img_pages *, char **cause)
	    __attribute__((warn_unused_result));
uint64_t img_reader_bytes(const struct img_reader *);
/* Fail a read once nothing came for ms (as img_writer_set_stall). */
void	img_reader_set_stall(struct img_reader *, int ms);
/* (image.c) Make fd non-blocking for a limit of ms: the limit to use, or -1. */
int	img_fd_nonblock(int fd, int ms);
void	img_reader_free(struct img_reader *);

/* Refuse an image whose CPU features or xsave components this machine lacks. */
int	img_check_cpu(const struct img *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * omctl image info: read a whole image from fd (checking every section)
 * and print a description, as a table or as JSON (schema in docs/).
 */
int	img_info(int fd, FILE *out, int json, char **cause)
	    __attribute__((warn_unused_result));

#endif
