/* procinfo.c: /proc/pid/status and cmdline for ommd's process table and checks. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "procinfo.h"

/* status is a few KiB; a long Groups: line is the only thing that grows */
#define STATUS_MAX	(256u << 10)

/* Read a whole small /proc file into a NUL-terminated heap buffer. */
static char *
read_proc(pid_t pid, const char *name, size_t max, size_t *lenp)
{
	char	 path[64], *text;
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	text = xmalloc(max + 1);
	while (off < max) {
		n = read(fd, text + off, max - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	text[off] = '\0';
	if (lenp != NULL)
		*lenp = off;
	return text;
}

/* The value after "Key:\t" on its line, or NULL. */
static const char *
field(const char *text, const char *key)
{
	size_t		 klen = strlen(key);
	const char	*p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return p + klen + 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

/* Read up to n decimal numbers from v; returns how many were read. */
static int
numbers(const char *v, long *out, int n)
{
	char	*end;
	int	 i;

	if (v == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		while (*v == ' ' || *v == '\t')
			v++;
		errno = 0;
		out[i] = strtol(v, &end, 10);
		if (end == v || errno != 0)
			break;
		v = end;
	}
	return i;
}

int
procinfo_status(pid_t pid, struct pstatus *ps, char **cause)
{
	char		*text;
	const char	*v;
	long		 n[4];
	size_t		 len;

	memset(ps, 0, sizeof *ps);
	if ((text = read_proc(pid, "status", STATUS_MAX, NULL)) == NULL) {
		if (errno == ENOENT || errno == ESRCH)
			return cause_set(cause, "no such process %d", (int)pid);
		return cause_set(cause, "process %d: /proc status: %s",
		    (int)pid, strerror(errno));
	}
	if (numbers(field(text, "Tgid"), n, 1) != 1)
		goto bad;
	ps->tgid = n[0];
	if (numbers(field(text, "PPid"), n, 1) != 1)
		goto bad;
	ps->ppid = n[0];
	if (numbers(field(text, "Uid"), n, 4) != 4)
		goto bad;
	ps->ruid = n[0];
	ps->euid = n[1];
	ps->suid = n[2];
	if (numbers(field(text, "Gid"), n, 1) != 1)
		goto bad;
	ps->rgid = n[0];
	if (numbers(field(text, "Threads"), n, 1) != 1)
		goto bad;
	ps->threads = n[0];
	if ((v = field(text, "Name")) != NULL) {
		while (*v == '\t' || *v == ' ')
			v++;
		len = strcspn(v, "\n");
		if (len >= sizeof ps->comm)
			len = sizeof ps->comm - 1;
		memcpy(ps->comm, v, len);
	}
	free(text);
	return 0;

bad:
	free(text);
	return cause_set(cause, "process %d: unexpected /proc status format",
	    (int)pid);
}

int
procinfo_groups(pid_t pid, gid_t **groups, int *ngroups, char **cause)
{
	char		*text, *end;
	const char	*v;
	gid_t		*g = NULL;
	int		 n = 0;
	long		 x;

	*groups = NULL;
	*ngroups = 0;
	if ((text = read_proc(pid, "status", STATUS_MAX, NULL)) == NULL)
		return cause_set(cause, "no such process %d", (int)pid);
	if ((v = field(text, "Groups")) == NULL) {
		free(text);
		return cause_set(cause, "process %d: no Groups in /proc status",
		    (int)pid);
	}
	for (;;) {
		while (*v == ' ' || *v == '\t')
			v++;
		errno = 0;
		x = strtol(v, &end, 10);
		if (end == v || errno != 0 || x < 0)
			break;
		if (n == NGROUPS_MAX)
			break;
		g = xreallocarray(g, n + 1, sizeof *g);
		g[n++] = (gid_t)x;
		v = end;
	}
	free(text);
	*groups = g;
	*ngroups = n;
	return 0;
}

char *
procinfo_cmdline(pid_t pid)
{
	struct pstatus	 ps;
	char		*text, *s;
	size_t		 len, i;

	text = read_proc(pid, "cmdline", PROTO_CMD_MAX, &len);
	if (text != NULL) {
		while (len > 0 && text[len - 1] == '\0')
			len--;
		/* control bytes would reach terminals through omctl ps */
		for (i = 0; i < len; i++) {
			if (text[i] == '\0')
				text[i] = ' ';
			else if ((unsigned char)text[i] < 0x20 ||
			    text[i] == 0x7f)
				text[i] = '?';
		}
		text[len] = '\0';
		if (len > 0)
			return text;
		free(text);
	}
	if (procinfo_status(pid, &ps, NULL) != 0 || ps.comm[0] == '\0')
		return xstrdup("?");
	xasprintf(&s, "[%s]", ps.comm);
	return s;
}

int
procinfo_exists(pid_t pid)
{
	char		path[64];
	struct stat	st;

	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	return stat(path, &st) == 0;
}

int
procinfo_zombie(pid_t pid)
{
	char	path[64], buf[512], *p;
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* the state follows the last ')': a comm may hold anything */
	return (p = strrchr(buf, ')')) != NULL && (p[2] == 'Z' || p[2] == 'X');
}

int
procinfo_usage(pid_t pid, uint64_t *cpu_ns, uint64_t *rss)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 ut, st;
	long			 pages;
	ssize_t			 n;
	int			 fd;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* utime, stime: fields 14, 15; rss in pages: 24 */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d %*d "
	    "%*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %*u "
	    "%*u %ld", &ut, &st, &pages) != 3)
		return -1;
	*cpu_ns = (ut + st) * (1000000000ULL /
	    (unsigned long long)sysconf(_SC_CLK_TCK));
	*rss = (uint64_t)pages * (uint64_t)getpagesize();
	return 0;
}

void
procinfo_vdso(uint64_t *vdso, uint64_t *vvar)
{
	struct procfs_vma	*v;
	size_t			 n, i;
	char			*cause = NULL;

	*vdso = *vvar = 0;
	if (procfs_maps(getpid(), 0, &v, &n, &cause) == -1) {
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if (v[i].path == NULL)
			continue;
		if (strcmp(v[i].path, "[vdso]") == 0)
			*vdso += v[i].end - v[i].start;
		else if (strncmp(v[i].path, "[vvar", 5) == 0)
			*vvar += v[i].end - v[i].start;
	}
	procfs_vmas_free(v, n);
}
