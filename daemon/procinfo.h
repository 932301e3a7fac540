/* procinfo.h: what ommd reads about a process from /proc. */
#ifndef OMMD_PROCINFO_H
#define OMMD_PROCINFO_H

#include <sys/types.h>

#include <stdint.h>

struct pstatus {
	pid_t	tgid;
	pid_t	ppid;
	uid_t	ruid, euid, suid;
	gid_t	rgid;
	int	threads;
	char	comm[16];
};

/* /proc/pid/status; "no such process N" when it is gone. */
int	procinfo_status(pid_t, struct pstatus *, char **cause)
	    __attribute__((warn_unused_result));
/* Supplementary groups of pid (malloc'd array, may be empty). */
int	procinfo_groups(pid_t, gid_t **, int *, char **cause)
	    __attribute__((warn_unused_result));
/* argv joined by spaces, or "[comm]" when there is none; never NULL. */
char	*procinfo_cmdline(pid_t);
/* 1 if /proc/pid exists (the process or a zombie is there). */
int	procinfo_exists(pid_t);
/* CPU time (user + system) and resident memory of pid; -1 when gone. */
int	procinfo_usage(pid_t, uint64_t *cpu_ns, uint64_t *rss);
/* Bytes of our [vdso] and [vvar] mappings: a kernel's fingerprint. */
void	procinfo_vdso(uint64_t *vdso, uint64_t *vvar);
/* 1 if pid is a zombie (or gone): it will not run again. */
int	procinfo_zombie(pid_t);

#endif
