/*
 * procfs.h: what the engine reads from /proc/PID, as plain parsers over text
 * (unit-tested with sample files) and thin readers that feed them.
 *
 * Parsers never trust the text: a malformed line is an error with a cause
 * naming the file and the field, not a crash or a silent zero.
 */
#ifndef OMM_PROCFS_H
#define OMM_PROCFS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* One line of /proc/PID/maps, plus the VmFlags of smaps when read. */
struct procfs_vma {
	uint64_t	start, end;
	uint32_t	prot;		/* PROT_* from "rwx" */
	int		shared;		/* 's' (else 'p') */
	uint64_t	pgoff;		/* file offset in bytes */
	uint32_t	dev_major, dev_minor;
	uint64_t	ino;
	uint32_t	vmflags;	/* PROCFS_VMF_*, 0 unless from smaps */
	char		*path;		/* heap copy; "" for anonymous */
};

/* smaps "VmFlags:" two-letter codes that matter to a checkpoint */
#define PROCFS_VMF_GD	0x0001	/* gd: grows down */
#define PROCFS_VMF_HG	0x0002	/* hg: MADV_HUGEPAGE */
#define PROCFS_VMF_NH	0x0004	/* nh: MADV_NOHUGEPAGE */
#define PROCFS_VMF_DC	0x0008	/* dc: MADV_DONTFORK */
#define PROCFS_VMF_WF	0x0010	/* wf: MADV_WIPEONFORK */
#define PROCFS_VMF_DD	0x0020	/* dd: MADV_DONTDUMP */
#define PROCFS_VMF_IO	0x0040	/* io: memory-mapped I/O */
#define PROCFS_VMF_PF	0x0080	/* pf: pure PFN range */
#define PROCFS_VMF_SL	0x0100	/* sl: sealed (mseal) */
#define PROCFS_VMF_UF	0x0200	/* um/uw: userfaultfd registered */
#define PROCFS_VMF_SS	0x0400	/* ss: shadow stack */
#define PROCFS_VMF_LO	0x0800	/* lo: mlocked */
#define PROCFS_VMF_LF	0x1000	/* lf: locked on fault (mlock2 MLOCK_ONFAULT) */
#define PROCFS_VMF_MG	0x2000	/* mg: MADV_MERGEABLE */

/* Fields of /proc/PID/stat (proc(5) numbering in comments). */
struct procfs_stat {
	char		state;		/* (3) */
	int64_t		num_threads;	/* (20) */
	uint64_t	start_code;	/* (26) */
	uint64_t	end_code;	/* (27) */
	uint64_t	start_stack;	/* (28) */
	uint64_t	start_data;	/* (45) */
	uint64_t	end_data;	/* (46) */
	uint64_t	start_brk;	/* (47) */
	uint64_t	arg_start;	/* (48) */
	uint64_t	arg_end;	/* (49) */
	uint64_t	env_start;	/* (50) */
	uint64_t	env_end;	/* (51) */
};

/* The lines of /proc/PID/status the engine uses. */
struct procfs_status {
	char		state;		/* State: letter */
	int		has_umask;	/* Umask: appeared (4.7+) */
	uint32_t	umask;
	uint32_t	uid[4];		/* real, effective, saved, fs */
	uint32_t	gid[4];
	int64_t		threads;
	int		has_caps;	/* CapPrm: appeared (always, since 2.6) */
	uint64_t	cap_prm;	/* permitted capabilities */
	uint64_t	cap_eff;	/* effective capabilities */
	uint64_t	sig_ign;	/* SigIgn: bit sig - 1 per ignored signal */
};

/* /proc/PID/fdinfo/N */
struct procfs_fdinfo {
	uint64_t	pos;
	uint32_t	flags;		/* octal in the file; includes O_CLOEXEC */
	uint32_t	mnt_id;
};

/* The lines of /proc/PID/fdinfo/N that eventfd, signalfd and epoll add. */
struct procfs_tfd {
	int32_t		tfd;		/* the fd it was added by */
	uint32_t	events;
	uint64_t	data;
	uint64_t	ino;		/* the target's inode and device (kernel */
	uint32_t	sdev;		/* encoding: major << 20 | minor) */
};
struct procfs_fdkind {
	int		has_count;	/* eventfd-count: (hex) */
	uint64_t	count;
	int		semaphore;	/* eventfd-semaphore: 1 (6.x; absent: 0) */
	int		has_sigmask;	/* sigmask: (hex) */
	uint64_t	sigmask;
	size_t		ntfd;		/* tfd: lines, an epoll's interest list */
	struct procfs_tfd *tfd;
};

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)	/* file page or shared anonymous */
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_GUARD	(1ULL << 58)	/* MADV_GUARD_INSTALL marker (6.15+) */
/* frame number bits; 0 without CAP_SYS_ADMIN */
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* Parsers. */
int	procfs_maps_line(const char *line, struct procfs_vma *, char **cause)
	    __attribute__((warn_unused_result));
uint32_t procfs_vmflags(const char *list);
/* Whole maps or smaps text (NUL-terminated): appends to *vmas. */
int	procfs_maps_parse(const char *text, struct procfs_vma **vmas,
	    size_t *n, char **cause) __attribute__((warn_unused_result));
int	procfs_stat_parse(const char *text, struct procfs_stat *, char **cause)
	    __attribute__((warn_unused_result));
int	procfs_status_parse(const char *text, struct procfs_status *,
	    char **cause) __attribute__((warn_unused_result));
int	procfs_fdinfo_parse(const char *text, struct procfs_fdinfo *,
	    char **cause) __attribute__((warn_unused_result));
/* The kind-specific lines (procfs_fdkind); free with procfs_fdkind_free. */
int	procfs_fdkind_parse(const char *text, struct procfs_fdkind *,
	    char **cause) __attribute__((warn_unused_result));
void	procfs_fdkind_free(struct procfs_fdkind *);
int	procfs_groups_parse(const char *text, uint32_t *gids, uint32_t max,
	    uint32_t *n, char **cause) __attribute__((warn_unused_result));
int	procfs_personality_parse(const char *text, uint32_t *, char **cause)
	    __attribute__((warn_unused_result));

/* One POSIX timer of /proc/PID/timers. */
struct procfs_timer {
	int32_t		id;
	int32_t		signo;
	uint64_t	value;		/* sigev_value */
	uint32_t	notify;		/* SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD, | SIGEV_THREAD_ID */
	int32_t		target;		/* the pid or (SIGEV_THREAD_ID) tid it notifies */
	int32_t		clock;		/* as given to timer_create */
};
/*
 * /proc/PID/timers: *n timers (a malloc'd array in *out, NULL when none),
 * sorted by id.
 */
int	procfs_timers_parse(const char *text, struct procfs_timer **out,
	    size_t *n, char **cause) __attribute__((warn_unused_result));
/* /proc/PID/cmdline: NUL-separated args into one space-separated string. */
char	*procfs_cmdline_join(const char *raw, size_t len);

void	procfs_vmas_free(struct procfs_vma *, size_t);

/*
 * Readers. procfs_slurp reads /proc/PID/NAME (pid 0: /proc/self) whole into
 * a NUL-terminated heap buffer (binary files: *len says how much).
 */
int	procfs_slurp(pid_t, const char *name, char **text, size_t *len,
	    char **cause) __attribute__((warn_unused_result));
int	procfs_maps(pid_t, int smaps, struct procfs_vma **, size_t *,
	    char **cause) __attribute__((warn_unused_result));
int	procfs_stat(pid_t, struct procfs_stat *, char **cause)
	    __attribute__((warn_unused_result));
int	procfs_status(pid_t, struct procfs_status *, char **cause)
	    __attribute__((warn_unused_result));
int	procfs_fdinfo(pid_t, int fd, struct procfs_fdinfo *, char **cause)
	    __attribute__((warn_unused_result));
/* Open fd numbers of pid, ascending, in a heap array. */
int	procfs_fds(pid_t, int **fds, size_t *n, char **cause)
	    __attribute__((warn_unused_result));
/* readlink of /proc/PID/NAME into a heap string. */
int	procfs_link(pid_t, const char *name, char **target, char **cause)
	    __attribute__((warn_unused_result));
/* auxv words (type, value pairs, AT_NULL included), at most max. */
int	procfs_auxv(pid_t, uint64_t *words, uint32_t max, uint32_t *n,
	    char **cause) __attribute__((warn_unused_result));
/* pagemap entries of n pages from addr; fd from open("/proc/PID/pagemap"). */
int	procfs_pagemap(int fd, uint64_t addr, size_t n, uint64_t *out,
	    char **cause) __attribute__((warn_unused_result));

#endif
