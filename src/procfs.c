/* procfs.c: /proc/PID parsers over plain text, and the readers feeding them. */
#include <sys/mman.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

/* Biggest /proc text accepted; smaps of a huge process stays well below. */
#define PROCFS_MAX_TEXT	(256u << 20)

/* Parse an unsigned number in base at *p, advancing it; -1 if none. */
static int
parse_num(const char **p, int base, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;

	if (!isxdigit((unsigned char)**p))
		return -1;
	errno = 0;
	v = strtoull(*p, &end, base);
	if (errno != 0 || end == *p)
		return -1;
	*p = end;
	*out = v;
	return 0;
}

static int
expect_char(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static void
skip_blanks(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

int
procfs_maps_line(const char *line, struct procfs_vma *v, char **cause)
{
	const char	*p = line, *e;
	uint64_t	 maj, min;

	memset(v, 0, sizeof *v);
	if (parse_num(&p, 16, &v->start) == -1 || expect_char(&p, '-') == -1 ||
	    parse_num(&p, 16, &v->end) == -1 || expect_char(&p, ' ') == -1)
		goto bad;
	if (v->end <= v->start || (v->start & 0xfff) != 0 ||
	    (v->end & 0xfff) != 0)
		goto bad;
	if (p[0] == '\0' || p[1] == '\0' || p[2] == '\0' || p[3] == '\0')
		goto bad;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 's' && p[3] != 'p'))
		goto bad;
	v->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
	    (p[2] == 'x' ? PROT_EXEC : 0);
	v->shared = p[3] == 's';
	p += 4;
	if (expect_char(&p, ' ') == -1 || parse_num(&p, 16, &v->pgoff) == -1 ||
	    expect_char(&p, ' ') == -1 || parse_num(&p, 16, &maj) == -1 ||
	    expect_char(&p, ':') == -1 || parse_num(&p, 16, &min) == -1 ||
	    expect_char(&p, ' ') == -1)
		goto bad;
	if (maj > UINT32_MAX || min > UINT32_MAX)
		goto bad;
	v->dev_major = maj;
	v->dev_minor = min;
	if (!isdigit((unsigned char)*p) || parse_num(&p, 10, &v->ino) == -1)
		goto bad;
	if (*p != '\0' && *p != '\n' && *p != ' ')
		goto bad;
	skip_blanks(&p);
	/* The path runs to the end of the line and may hold spaces. */
	e = strchr(p, '\n');
	if (e == NULL)
		e = p + strlen(p);
	v->path = xstrndup(p, e - p);
	return 0;
bad:
	e = strchr(line, '\n');
	return cause_set(cause, "maps: malformed line \"%.*s\"",
	    (int)(e == NULL ? strlen(line) : (size_t)(e - line)), line);
}

/* smaps VmFlags codes, from fs/proc/task_mmu.c show_smap_vma_flags(). */
static const struct {
	char		code[3];
	uint32_t	flag;
} vmflag_table[] = {
	{ "gd", PROCFS_VMF_GD },
	{ "hg", PROCFS_VMF_HG },
	{ "nh", PROCFS_VMF_NH },
	{ "dc", PROCFS_VMF_DC },
	{ "wf", PROCFS_VMF_WF },
	{ "dd", PROCFS_VMF_DD },
	{ "io", PROCFS_VMF_IO },
	{ "pf", PROCFS_VMF_PF },
	{ "sl", PROCFS_VMF_SL },
	{ "um", PROCFS_VMF_UF },
	{ "uw", PROCFS_VMF_UF },
	{ "ui", PROCFS_VMF_UF },
	{ "ss", PROCFS_VMF_SS },
	{ "lo", PROCFS_VMF_LO },
	{ "lf", PROCFS_VMF_LF },
	{ "mg", PROCFS_VMF_MG },
};

uint32_t
procfs_vmflags(const char *list)
{
	const char	*p = list;
	uint32_t	 flags = 0;
	size_t		 i;

	for (;;) {
		skip_blanks(&p);
		if (p[0] == '\0' || p[0] == '\n' || p[1] == '\0' || p[1] == '\n')
			break;
		for (i = 0; i < sizeof vmflag_table / sizeof vmflag_table[0]; i++) {
			if (p[0] == vmflag_table[i].code[0] &&
			    p[1] == vmflag_table[i].code[1] &&
			    (p[2] == ' ' || p[2] == '\n' || p[2] == '\0'))
				flags |= vmflag_table[i].flag;
		}
		while (*p != ' ' && *p != '\n' && *p != '\0')
			p++;
	}
	return flags;
}

/* A maps (or smaps header) line starts "hex-hex "; smaps fields do not. */
static int
is_vma_line(const char *p)
{
	while (isxdigit((unsigned char)*p))
		p++;
	return *p == '-';
}

int
procfs_maps_parse(const char *text, struct procfs_vma **vmas, size_t *n,
    char **cause)
{
	const char		*line = text, *next;
	struct procfs_vma	 v;
	size_t			 cap = *n;

	while (*line != '\0') {
		next = strchr(line, '\n');
		next = next == NULL ? line + strlen(line) : next + 1;
		if (is_vma_line(line)) {
			if (procfs_maps_line(line, &v, cause) == -1)
				return -1;
			if (*n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				*vmas = xreallocarray(*vmas, cap, sizeof **vmas);
			}
			(*vmas)[(*n)++] = v;
		} else if (strncmp(line, "VmFlags:", 8) == 0) {
			if (*n == 0)
				return cause_set(cause,
				    "smaps: VmFlags before any mapping");
			(*vmas)[*n - 1].vmflags = procfs_vmflags(line + 8);
		}
		line = next;
	}
	return 0;
}

void
procfs_vmas_free(struct procfs_vma *vmas, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(vmas[i].path);
	free(vmas);
}

/*
 * Where each stat field we keep lives: proc(5) numbers from 1. The comm
 * field (2) may hold spaces and parentheses, so counting starts after the
 * last ')'.
 */
static const struct {
	int	field;
	size_t	off;
} stat_table[] = {
	{ 20, offsetof(struct procfs_stat, num_threads) },
	{ 26, offsetof(struct procfs_stat, start_code) },
	{ 27, offsetof(struct procfs_stat, end_code) },
	{ 28, offsetof(struct procfs_stat, start_stack) },
	{ 45, offsetof(struct procfs_stat, start_data) },
	{ 46, offsetof(struct procfs_stat, end_data) },
	{ 47, offsetof(struct procfs_stat, start_brk) },
	{ 48, offsetof(struct procfs_stat, arg_start) },
	{ 49, offsetof(struct procfs_stat, arg_end) },
	{ 50, offsetof(struct procfs_stat, env_start) },
	{ 51, offsetof(struct procfs_stat, env_end) },
};

int
procfs_stat_parse(const char *text, struct procfs_stat *st, char **cause)
{
	const char		*p, *tok;
	char			*end;
	int			 field;
	size_t			 t = 0;
	unsigned long long	 v;
	uint64_t		 u;

	memset(st, 0, sizeof *st);
	if ((p = strrchr(text, ')')) == NULL || p[1] != ' ' ||
	    !isalpha((unsigned char)p[2]))
		return cause_set(cause, "stat: no state after the command name");
	p += 2;
	st->state = *p++;
	for (field = 4; t < sizeof stat_table / sizeof stat_table[0]; field++) {
		if (*p != ' ' || p[1] == ' ' || p[1] == '\0' || p[1] == '\n')
			return cause_set(cause, "stat: field %d missing", field);
		tok = ++p;
		if (*p == '-')
			p++;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == tok || (*p != ' ' && *p != '\n' && *p != '\0'))
			return cause_set(cause, "stat: field %d malformed", field);
		if (stat_table[t].field != field)
			continue;
		/* The fields kept are counts and addresses: never negative. */
		errno = 0;
		v = strtoull(tok, &end, 10);
		if (*tok == '-' || errno != 0 || end != p)
			return cause_set(cause, "stat: field %d out of range", field);
		u = v;
		memcpy((char *)st + stat_table[t].off, &u, sizeof u);
		t++;
	}
	return 0;
}

/* Only blanks may follow a value on its line. */
static int
line_end(const char *p)
{
	skip_blanks(&p);
	return *p == '\n' || *p == '\0';
}

static int
status_umask(struct procfs_status *s, const char *v)
{
	char		*end;
	unsigned long	 u;

	errno = 0;
	u = strtoul(v, &end, 8);
	if (end == v || errno != 0 || u > 0777 || !line_end(end))
		return -1;
	s->umask = u;
	s->has_umask = 1;
	return 0;
}

static int
status_ids(uint32_t ids[4], const char *v)
{
	const char	*p = v;
	uint64_t	 u;
	int		 i;

	for (i = 0; i < 4; i++) {
		skip_blanks(&p);
		if (!isdigit((unsigned char)*p) || parse_num(&p, 10, &u) == -1 ||
		    u > UINT32_MAX)
			return -1;
		ids[i] = u;
	}
	return line_end(p) ? 0 : -1;
}

static int
status_uid(struct procfs_status *s, const char *v)
{
	return status_ids(s->uid, v);
}

static int
status_gid(struct procfs_status *s, const char *v)
{
	return status_ids(s->gid, v);
}

/* CapPrm, CapEff: 16 hex digits. */
static int
status_cap(uint64_t *cap, const char *v)
{
	const char	*p = v;

	if (!isxdigit((unsigned char)*p) || parse_num(&p, 16, cap) == -1)
		return -1;
	return line_end(p) ? 0 : -1;
}

static int
status_capprm(struct procfs_status *s, const char *v)
{
	s->has_caps = 1;
	return status_cap(&s->cap_prm, v);
}

static int
status_capeff(struct procfs_status *s, const char *v)
{
	return status_cap(&s->cap_eff, v);
}

static int
status_threads(struct procfs_status *s, const char *v)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 1 || !line_end(end))
		return -1;
	s->threads = n;
	return 0;
}

static int
status_state(struct procfs_status *s, const char *v)
{
	if (!isalpha((unsigned char)*v))
		return -1;
	s->state = *v;
	return 0;
}

static int
status_sigign(struct procfs_status *s, const char *v)
{
	return status_cap(&s->sig_ign, v);
}

static const struct {
	const char	*key;
	int		 (*parse)(struct procfs_status *, const char *);
	int		 required;
} status_table[] = {
	{ "State", status_state, 1 },
	{ "Umask", status_umask, 0 },
	{ "Uid", status_uid, 1 },
	{ "Gid", status_gid, 1 },
	{ "Threads", status_threads, 1 },
	{ "CapPrm", status_capprm, 0 },
	{ "CapEff", status_capeff, 0 },
	{ "SigIgn", status_sigign, 0 },
};
#define NSTATUS	(sizeof status_table / sizeof status_table[0])

int
procfs_status_parse(const char *text, struct procfs_status *s, char **cause)
{
	const char	*line = text, *next, *colon;
	size_t		 i, klen;
	int		 seen[NSTATUS] = { 0 };

	memset(s, 0, sizeof *s);
	while (*line != '\0') {
		next = strchr(line, '\n');
		next = next == NULL ? line + strlen(line) : next + 1;
		if ((colon = strchr(line, ':')) == NULL || colon > next)
			goto skip;
		klen = colon - line;
		for (i = 0; i < NSTATUS; i++) {
			if (strlen(status_table[i].key) != klen ||
			    strncmp(status_table[i].key, line, klen) != 0)
				continue;
			colon++;
			skip_blanks(&colon);
			if (status_table[i].parse(s, colon) == -1) {
				return cause_set(cause, "status: malformed %s line",
				    status_table[i].key);
			}
			seen[i] = 1;
		}
skip:
		line = next;
	}
	for (i = 0; i < NSTATUS; i++) {
		if (status_table[i].required && !seen[i])
			return cause_set(cause, "status: no %s line",
			    status_table[i].key);
	}
	return 0;
}

/*
 * The "Groups:" line of a status text: at most max gids into out (n of
 * them). A status without the line (a kernel of long ago) has none.
 */
int
procfs_groups_parse(const char *text, uint32_t *out, uint32_t max,
    uint32_t *n, char **cause)
{
	const char	*p;
	uint64_t	 v;

	*n = 0;
	for (p = text; *p != '\0'; ) {
		if (strncmp(p, "Groups:", 7) == 0)
			break;
		p = strchr(p, '\n');
		p = p == NULL ? "" : p + 1;
	}
	if (*p == '\0')
		return 0;
	p += 7;
	for (;;) {
		skip_blanks(&p);
		if (line_end(p))
			return 0;
		if (!isdigit((unsigned char)*p) || parse_num(&p, 10, &v) == -1 ||
		    v > UINT32_MAX)
			return cause_set(cause, "status: malformed Groups line");
		if (*n >= max)
			return cause_set(cause, "status: more than %u groups", max);
		out[(*n)++] = (uint32_t)v;
	}
}

/* Fields of a /proc/PID/timers record seen so far. */
#define TIMER_ID	0x1
#define TIMER_SIGNAL	0x2
#define TIMER_NOTIFY	0x4
#define TIMER_CLOCK	0x8
#define TIMER_ALL	0xf

static int
timer_cmp(const void *a, const void *b)
{
	const struct procfs_timer	*x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/*
 * The kernel's show_timer: "ID: %d", "signal: %d/%px" (sigev_value, hex
 * without 0x), "notify: signal|none|thread/pid|tid.%d", "ClockID: %d".
 */
int
procfs_timers_parse(const char *text, struct procfs_timer **out, size_t *n,
    char **cause)
{
	struct procfs_timer	*t = NULL, *c = NULL;
	const char		*p, *nl;
	char			 kind[16], who[8], line[128];
	unsigned long long	 val;
	unsigned int		 seen = TIMER_ALL;
	size_t			 cnt = 0, len;
	int			 a, b;

	*out = NULL;
	*n = 0;
	for (p = text; *p != '\0'; p = *nl == '\0' ? nl : nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (len == 0)
			continue;
		if (len >= sizeof line)
			goto bad;
		memcpy(line, p, len);
		line[len] = '\0';
		if (sscanf(line, "ID: %d", &a) == 1) {
			if (seen != TIMER_ALL)
				goto bad;
			t = xreallocarray(t, cnt + 1, sizeof *t);
			c = &t[cnt++];
			memset(c, 0, sizeof *c);
			c->id = a;
			seen = TIMER_ID;
		} else if (c == NULL) {
			goto bad;
		} else if (sscanf(line, "signal: %d/%llx", &a, &val) == 2) {
			c->signo = a;
			c->value = val;
			seen |= TIMER_SIGNAL;
		} else if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", kind, who,
		    &b) == 3) {
			if (strcmp(kind, "signal") == 0)
				c->notify = 0;		/* SIGEV_SIGNAL */
			else if (strcmp(kind, "none") == 0)
				c->notify = 1;		/* SIGEV_NONE */
			else if (strcmp(kind, "thread") == 0)
				c->notify = 2;		/* SIGEV_THREAD */
			else
				goto bad;
			if (strcmp(who, "tid") == 0)
				c->notify |= 4;		/* SIGEV_THREAD_ID */
			else if (strcmp(who, "pid") != 0)
				goto bad;
			c->target = b;
			seen |= TIMER_NOTIFY;
		} else if (sscanf(line, "ClockID: %d", &a) == 1) {
			c->clock = a;
			seen |= TIMER_CLOCK;
		} else
			goto bad;
	}
	if (seen != TIMER_ALL)
		goto bad;
	if (cnt > 1)
		qsort(t, cnt, sizeof *t, timer_cmp);
	*out = t;
	*n = cnt;
	return 0;
bad:
	a = c != NULL ? c->id : -1;
	free(t);
	if (a == -1)
		return cause_set(cause, "timers: malformed");
	return cause_set(cause, "timers: malformed record of timer %d", a);
}

int
procfs_fdinfo_parse(const char *text, struct procfs_fdinfo *fi, char **cause)
{
	const char	*p;
	uint64_t	 v;
	int		 have_pos = 0, have_flags = 0;

	memset(fi, 0, sizeof *fi);
	for (p = text; *p != '\0'; ) {
		if (strncmp(p, "pos:", 4) == 0) {
			p += 4;
			skip_blanks(&p);
			if (parse_num(&p, 10, &fi->pos) == -1)
				return cause_set(cause, "fdinfo: malformed pos");
			have_pos = 1;
		} else if (strncmp(p, "flags:", 6) == 0) {
			p += 6;
			skip_blanks(&p);
			if (parse_num(&p, 8, &v) == -1 || v > UINT32_MAX)
				return cause_set(cause, "fdinfo: malformed flags");
			fi->flags = v;
			have_flags = 1;
		} else if (strncmp(p, "mnt_id:", 7) == 0) {
			p += 7;
			skip_blanks(&p);
			if (parse_num(&p, 10, &v) == -1 || v > UINT32_MAX)
				return cause_set(cause, "fdinfo: malformed mnt_id");
			fi->mnt_id = v;
		}
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	if (!have_pos || !have_flags)
		return cause_set(cause, "fdinfo: no %s line",
		    have_pos ? "flags" : "pos");
	return 0;
}

/* A "tfd:" line of an epoll's fdinfo (fs/eventpoll.c ep_show_fdinfo). */
static int
tfd_line(const char *p, struct procfs_tfd *t)
{
	unsigned long long	data, ino;
	unsigned int		events, sdev;
	int			tfd;

	if (sscanf(p, "tfd: %d events: %x data: %llx pos:%*d ino:%llx "
	    "sdev:%x", &tfd, &events, &data, &ino, &sdev) != 5 || tfd < 0)
		return -1;
	t->tfd = tfd;
	t->events = events;
	t->data = data;
	t->ino = ino;
	t->sdev = sdev;
	return 0;
}

int
procfs_fdkind_parse(const char *text, struct procfs_fdkind *k, char **cause)
{
	const char	*p, *line = text;
	uint64_t	 v;

	memset(k, 0, sizeof *k);
	for (p = text; *p != '\0'; ) {
		line = p;
		if (strncmp(p, "eventfd-count:", 14) == 0) {
			p += 14;
			skip_blanks(&p);
			if (parse_num(&p, 16, &k->count) == -1)
				goto bad;
			k->has_count = 1;
		} else if (strncmp(p, "eventfd-semaphore:", 18) == 0) {
			p += 18;
			skip_blanks(&p);
			if (parse_num(&p, 10, &v) == -1 || v > 1)
				goto bad;
			k->semaphore = (int)v;
		} else if (strncmp(p, "sigmask:", 8) == 0) {
			p += 8;
			skip_blanks(&p);
			if (parse_num(&p, 16, &k->sigmask) == -1)
				goto bad;
			k->has_sigmask = 1;
		} else if (strncmp(p, "tfd:", 4) == 0) {
			if (k->ntfd >= 65536)
				goto bad;
			k->tfd = xreallocarray(k->tfd, k->ntfd + 1,
			    sizeof *k->tfd);
			if (tfd_line(p, &k->tfd[k->ntfd]) == -1)
				goto bad;
			k->ntfd++;
		}
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return 0;
bad:
	procfs_fdkind_free(k);
	return cause_set(cause, "fdinfo: malformed line: %.*s",
	    (int)strcspn(line, "\n"), line);
}

void
procfs_fdkind_free(struct procfs_fdkind *k)
{
	free(k->tfd);
	k->tfd = NULL;
	k->ntfd = 0;
}

int
procfs_personality_parse(const char *text, uint32_t *pers, char **cause)
{
	const char	*p = text;
	uint64_t	 v;

	skip_blanks(&p);
	if (parse_num(&p, 16, &v) == -1 || v > UINT32_MAX ||
	    (*p != '\n' && *p != '\0'))
		return cause_set(cause, "personality: malformed \"%.16s\"", text);
	*pers = v;
	return 0;
}

char *
procfs_cmdline_join(const char *raw, size_t len)
{
	char	*s;
	size_t	 i;

	while (len > 0 && raw[len - 1] == '\0')
		len--;
	s = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		s[i] = raw[i] == '\0' ? ' ' : raw[i];
	s[len] = '\0';
	return s;
}

static void
proc_path(char *buf, size_t size, pid_t pid, const char *name)
{
	if (pid == 0)
		snprintf(buf, size, "/proc/self/%s", name);
	else
		snprintf(buf, size, "/proc/%ld/%s", (long)pid, name);
}

int
procfs_slurp(pid_t pid, const char *name, char **text, size_t *lenp,
    char **cause)
{
	char	 path[PATH_MAX], *buf;
	size_t	 len = 0, cap = 4096;
	ssize_t	 n;
	int	 fd;

	proc_path(path, sizeof path, pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 2) {
			if (cap >= PROCFS_MAX_TEXT) {
				close(fd);
				free(buf);
				return cause_set(cause, "%s: too large", path);
			}
			cap *= 2;
			buf = xreallocarray(buf, 1, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int	saved = errno;

			close(fd);
			free(buf);
			return cause_set(cause, "%s: %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*text = buf;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
procfs_maps(pid_t pid, int smaps, struct procfs_vma **vmas, size_t *n,
    char **cause)
{
	char	*text;
	int	 rv;

	*vmas = NULL;
	*n = 0;
	if (procfs_slurp(pid, smaps ? "smaps" : "maps", &text, NULL, cause) == -1)
		return -1;
	rv = procfs_maps_parse(text, vmas, n, cause);
	free(text);
	if (rv == -1) {
		procfs_vmas_free(*vmas, *n);
		*vmas = NULL;
		*n = 0;
	}
	return rv;
}

int
procfs_stat(pid_t pid, struct procfs_stat *st, char **cause)
{
	char	*text;
	int	 rv;

	if (procfs_slurp(pid, "stat", &text, NULL, cause) == -1)
		return -1;
	rv = procfs_stat_parse(text, st, cause);
	free(text);
	return rv;
}

int
procfs_status(pid_t pid, struct procfs_status *s, char **cause)
{
	char	*text;
	int	 rv;

	if (procfs_slurp(pid, "status", &text, NULL, cause) == -1)
		return -1;
	rv = procfs_status_parse(text, s, cause);
	free(text);
	return rv;
}

int
procfs_fdinfo(pid_t pid, int fd, struct procfs_fdinfo *fi, char **cause)
{
	char	 name[64], *text;
	int	 rv;

	snprintf(name, sizeof name, "fdinfo/%d", fd);
	if (procfs_slurp(pid, name, &text, NULL, cause) == -1)
		return -1;
	rv = procfs_fdinfo_parse(text, fi, cause);
	free(text);
	return rv;
}

static int
int_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

int
procfs_fds(pid_t pid, int **fds, size_t *n, char **cause)
{
	char		 path[PATH_MAX], *end;
	DIR		*d;
	struct dirent	*de;
	size_t		 cap = 0;
	long		 v;

	*fds = NULL;
	*n = 0;
	proc_path(path, sizeof path, pid, "fd");
	if ((d = opendir(path)) == NULL)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (*end != '\0' || errno != 0 || v < 0 || v > INT_MAX)
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*fds = xreallocarray(*fds, cap, sizeof **fds);
		}
		(*fds)[(*n)++] = (int)v;
	}
	closedir(d);
	if (*n > 1)
		qsort(*fds, *n, sizeof **fds, int_cmp);
	return 0;
}

int
procfs_link(pid_t pid, const char *name, char **target, char **cause)
{
	char	 path[PATH_MAX], buf[PATH_MAX + 1];
	ssize_t	 n;

	proc_path(path, sizeof path, pid, name);
	if ((n = readlink(path, buf, sizeof buf - 1)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	*target = xstrdup(buf);
	return 0;
}

int
procfs_auxv(pid_t pid, uint64_t *words, uint32_t max, uint32_t *n,
    char **cause)
{
	char	*raw;
	size_t	 len;

	if (procfs_slurp(pid, "auxv", &raw, &len, cause) == -1)
		return -1;
	if (len % 16 != 0 || len / 8 > max) {
		free(raw);
		return cause_set(cause, "auxv: %zu bytes (max %u words)", len, max);
	}
	memcpy(words, raw, len);
	*n = len / 8;
	free(raw);
	return 0;
}

int
procfs_pagemap(int fd, uint64_t addr, size_t n, uint64_t *out, char **cause)
{
	size_t	 done = 0, want;
	ssize_t	 r;
	off_t	 off;

	while (done < n * 8) {
		want = n * 8 - done;
		off = (off_t)((addr / 4096) * 8 + done);
		r = pread(fd, (char *)out + done, want, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return cause_set(cause, "pagemap at %#" PRIx64 ": %s",
			    addr, strerror(errno));
		if (r == 0 || r % 8 != 0)
			return cause_set(cause, "pagemap at %#" PRIx64 ": short read",
			    addr);
		done += r;
	}
	return 0;
}
