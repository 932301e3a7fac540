/* loadvec.c: measuring this node's load vector. */
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/cpufeat.h"
#include "omm/loadvec.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define READ_MAX	(4U << 20)	/* /proc/stat grows with IRQs */
#define CALIB_CHUNK	(1U << 20)	/* steps per timed run, ~1 ms */
#define TAU_DEFAULT	2000

static const struct {
	uint32_t	 flag;
	const char	*name;
} lv_flag_names[] = {
	{ LV_BLOCK,	"block" },
	{ LV_LEAVING,	"leaving" },
	{ LV_STAY,	"stay" },
	{ LV_LSTAY,	"lstay" },
	{ LV_QUIET,	"quiet" },
};

const char *
loadvec_flag_names(uint32_t flags, char *buf, size_t n)
{
	size_t	i, off = 0;
	int	w;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof lv_flag_names / sizeof lv_flag_names[0]; i++) {
		if ((flags & lv_flag_names[i].flag) == 0)
			continue;
		w = snprintf(buf + off, n - off, "%s%s", off == 0 ? "" : ",",
		    lv_flag_names[i].name);
		if (w < 0 || (size_t)w >= n - off)
			return buf;	/* truncated, still terminated */
		off += (size_t)w;
	}
	if (off == 0)
		snprintf(buf, n, "-");
	return buf;
}

int
loadvec_init(struct loadvec *lv, uint32_t node, const char *name,
    uint64_t incarnation, char **cause)
{
	struct utsname	u;
	cpu_set_t	set;
	long		n;

	memset(lv, 0, sizeof *lv);
	if (node == 0)
		return cause_set(cause, "node id 0");
	if (name == NULL || *name == '\0')
		return cause_set(cause, "empty node name");
	if (strlen(name) >= sizeof lv->name)
		return cause_set(cause, "node name \"%s\" over %zu bytes", name,
		    sizeof lv->name - 1);
	if (incarnation == 0)
		return cause_set(cause, "incarnation 0");
	lv->node = node;
	snprintf(lv->name, sizeof lv->name, "%s", name);
	lv->incarnation = incarnation;
	lv->speed = LV_SPEED_REF;

	/* The CPUs we may run on, not the machine's: cpusets shrink a node. */
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	lv->ncpu = n > 0 ? (uint32_t)n : 1;

	if (uname(&u) == -1)
		return cause_set(cause, "uname: %s", strerror(errno));
	snprintf(lv->kernel, sizeof lv->kernel, "%s", u.release);
	cpu_features_get(&lv->cpu);
	return 0;
}

/*
 * The calibration step is one 64-bit multiply and add that depend on the
 * previous step, so no unrolling or out-of-order core runs two at once: the
 * rate is the core's clock over the multiply-add latency.
 */
static __attribute__((noinline)) uint64_t
calib_run(uint64_t x, uint32_t steps)
{
	while (steps-- > 0)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return x;
}

static int64_t
cpu_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint32_t
loadvec_calibrate(unsigned int ms)
{
	static volatile uint64_t	 sink;
	int64_t				 start, t0, dt, best = INT64_MAX;
	uint64_t			 speed;

	/*
	 * CPU time, not wall time: a preempted run is not slow, only late.
	 * The best run is the core's speed; the others met interruptions.
	 */
	start = cpu_ns();
	do {
		t0 = cpu_ns();
		sink = calib_run(sink, CALIB_CHUNK);
		dt = cpu_ns() - t0;
		if (dt > 0 && dt < best)
			best = dt;
	} while (cpu_ns() - start < (int64_t)ms * 1000000);
	if (best == INT64_MAX)
		return LV_SPEED_REF;
	/* steps/s = CHUNK * 1e9 / best; speed = steps/s * REF / CALIB_REF */
	speed = (uint64_t)CALIB_CHUNK * 1000000000ULL / (uint64_t)best *
	    LV_SPEED_REF / LV_CALIB_REF;
	if (speed < 1)
		speed = 1;
	if (speed > LV_SPEED_MAX)
		speed = LV_SPEED_MAX;
	return (uint32_t)speed;
}

void
loadvec_meter_init(struct loadvec_meter *m, uint32_t tau_ms)
{
	memset(m, 0, sizeof *m);
	m->source = LOADVEC_SRC_SYSTEM;
	m->tau_ms = tau_ms != 0 ? tau_ms : TAU_DEFAULT;
	m->last_ms = -1;
}

int
loadvec_meter_cgroup(struct loadvec_meter *m, const char *dir, char **cause)
{
	char	path[LV_CGROUP_MAX + 32];

	if (strlen(dir) >= sizeof m->cgroup)
		return cause_set(cause, "cgroup path over %zu bytes",
		    sizeof m->cgroup - 1);
	snprintf(path, sizeof path, "%s/cpu.stat", dir);
	if (access(path, R_OK) == 0)
		m->cgroup_v1 = 0;
	else {
		snprintf(path, sizeof path, "%s/cpuacct.usage", dir);
		if (access(path, R_OK) != 0)
			return cause_set(cause, "%s: no cpu.stat nor "
			    "cpuacct.usage", dir);
		m->cgroup_v1 = 1;
	}
	snprintf(m->cgroup, sizeof m->cgroup, "%s", dir);
	m->source = LOADVEC_SRC_CGROUP;
	m->last_ms = -1;
	return 0;
}

uint32_t
loadvec_smooth(uint32_t prev, uint32_t raw, int64_t dt_ms, uint32_t tau_ms)
{
	int64_t	d = (int64_t)raw - (int64_t)prev;

	if (dt_ms <= 0)
		return prev;
	/* Keeps d * dt within int64; the weight is 1 by then anyway. */
	if (dt_ms > INT32_MAX)
		dt_ms = INT32_MAX;
	return (uint32_t)((int64_t)prev + d * dt_ms /
	    ((int64_t)tau_ms + dt_ms));
}

/* Read a whole (proc) file into a new buffer. */
static int
read_all(const char *path, char **out, size_t *outlen, char **cause)
{
	char	*p = NULL;
	size_t	 len = 0, cap = 8192;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	p = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap >= READ_MAX) {
				cause_set(cause, "%s: over %u bytes", path,
				    READ_MAX);
				goto fail;
			}
			p = xreallocarray(p, 2, cap);
			cap *= 2;
		}
		n = read(fd, p + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*out = p;
	*outlen = len;
	return 0;
fail:
	free(p);
	close(fd);
	return -1;
}

/* Decimal at p (spaces first), at most to end; -1 if none or overflow. */
static int
parse_u64(const char *p, const char *end, uint64_t *v)
{
	uint64_t	x = 0;
	int		digits = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0)
		return -1;
	*v = x;
	return 0;
}

/* Find "key" at the start of a line; the value after it, or NULL. */
static const char *
line_value(const char *text, size_t len, const char *key)
{
	const char	*p = text, *end = text + len, *nl;
	size_t		 klen = strlen(key);

	while (p < end) {
		if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0)
			return p + klen;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	return NULL;
}

int
loadvec_parse_stat(const char *text, size_t len, uint32_t *running,
    char **cause)
{
	const char	*v;
	uint64_t	 n;

	if ((v = line_value(text, len, "procs_running ")) == NULL)
		return cause_set(cause, "no procs_running in /proc/stat");
	if (parse_u64(v, text + len, &n) != 0 || n > UINT32_MAX)
		return cause_set(cause, "bad procs_running in /proc/stat");
	*running = (uint32_t)n;
	return 0;
}

int
loadvec_parse_meminfo(const char *text, size_t len, uint64_t *total,
    uint64_t *avail, char **cause)
{
	const char	*v;

	if ((v = line_value(text, len, "MemTotal:")) == NULL ||
	    parse_u64(v, text + len, total) != 0)
		return cause_set(cause, "no MemTotal in /proc/meminfo");
	/* MemAvailable counts reclaimable cache; MemFree before 3.14. */
	if ((v = line_value(text, len, "MemAvailable:")) == NULL &&
	    (v = line_value(text, len, "MemFree:")) == NULL)
		return cause_set(cause, "no MemAvailable in /proc/meminfo");
	if (parse_u64(v, text + len, avail) != 0)
		return cause_set(cause, "bad MemAvailable in /proc/meminfo");
	if (*avail > *total)
		*avail = *total;
	return 0;
}

int
loadvec_parse_cpustat(const char *text, size_t len, uint64_t *usage_us,
    char **cause)
{
	const char	*v;

	if ((v = line_value(text, len, "usage_usec ")) == NULL ||
	    parse_u64(v, text + len, usage_us) != 0)
		return cause_set(cause, "no usage_usec in cpu.stat");
	return 0;
}

/* Runnable tasks of the machine x100, not counting the reader itself. */
static int
sample_system(uint32_t *raw, char **cause)
{
	char		*text;
	size_t		 len;
	uint32_t	 running = 0;
	int		 rc;

	if (read_all("/proc/stat", &text, &len, cause) != 0)
		return -1;
	rc = loadvec_parse_stat(text, len, &running, cause);
	free(text);
	if (rc != 0)
		return -1;
	*raw = running > 0 ? (running - 1) * 100 : 0;
	return 0;
}

/* CPU time of the cgroup in us since boot. */
static int
cgroup_usage(const struct loadvec_meter *m, uint64_t *us, char **cause)
{
	char	 path[LV_CGROUP_MAX + 32], *text;
	size_t	 len;
	int	 rc;

	snprintf(path, sizeof path, "%s/%s", m->cgroup,
	    m->cgroup_v1 ? "cpuacct.usage" : "cpu.stat");
	if (read_all(path, &text, &len, cause) != 0)
		return -1;
	if (m->cgroup_v1) {
		if ((rc = parse_u64(text, text + len, us)) != 0)
			cause_set(cause, "%s: not a number", path);
		else
			*us /= 1000;
	} else
		rc = loadvec_parse_cpustat(text, len, us, cause);
	free(text);
	return rc;
}

/*
 * Runnable threads of the cgroup x100, ours not counted: the run-queue
 * length of a node that shares the machine's /proc/stat with others. A
 * thread throttled by a CPU quota is still runnable: the queue a quota
 * makes shows, where CPU time alone saturates at the quota.
 */
static int
cgroup_runnable(const struct loadvec_meter *m, uint32_t *raw, char **cause)
{
	char		 path[LV_CGROUP_MAX + 32], stat[64], buf[512], *text;
	char		*p, *e, *q;
	size_t		 len;
	ssize_t		 n;
	uint32_t	 count = 0;
	long		 tid;
	pid_t		 self = getpid();
	int		 fd;

	snprintf(path, sizeof path, "%s/%s", m->cgroup,
	    m->cgroup_v1 ? "tasks" : "cgroup.threads");
	*raw = 0;
	/* a cpuacct-only directory (v1 split hierarchies) may lack it */
	if (access(path, R_OK) != 0)
		return 0;
	if (read_all(path, &text, &len, cause) != 0)
		return -1;
	for (p = text; p < text + len; p = e + 1) {
		tid = strtol(p, &e, 10);
		if (e == p)
			break;
		if (tid <= 0 || tid == self)
			continue;
		snprintf(stat, sizeof stat, "/proc/%ld/stat", tid);
		if ((fd = open(stat, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* the state follows the last ')': comm may hold any byte */
		if ((q = strrchr(buf, ')')) != NULL && q[1] == ' ' && q[2] == 'R')
			count++;
	}
	free(text);
	*raw = count * 100;
	return 0;
}

/* Read a decimal (or "max") from a file: 0 ok, -1 missing; *v = -1 for max. */
static int
read_num(const char *path, int64_t *v)
{
	char	buf[64];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strncmp(buf, "max", 3) == 0 ? -1 : strtoll(buf, NULL, 10);
	return 0;
}

/* The tightest quota on the way up from dir (v1 cfs files or v2 cpu.max). */
static double
quota_up(char *dir, size_t root_len, int v1)
{
	char	 path[PATH_MAX + 32], *slash;
	int64_t	 quota, period;
	double	 best = 0, cpus;

	for (;;) {
		quota = period = -1;
		if (v1) {
			snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
			if (read_num(path, &quota) == 0) {
				snprintf(path, sizeof path, "%s/cpu.cfs_period_us",
				    dir);
				read_num(path, &period);
			}
		} else {
			FILE	*f;
			char	 q[32];
			long long pp;

			snprintf(path, sizeof path, "%s/cpu.max", dir);
			if ((f = fopen(path, "re")) != NULL) {
				if (fscanf(f, "%31s %lld", q, &pp) == 2) {
					quota = strcmp(q, "max") == 0 ? -1 :
					    strtoll(q, NULL, 10);
					period = pp;
				}
				fclose(f);
			}
		}
		if (quota > 0 && period > 0) {
			cpus = (double)quota / (double)period;
			if (best == 0 || cpus < best)
				best = cpus;
		}
		if (strlen(dir) <= root_len ||
		    (slash = strrchr(dir + root_len, '/')) == NULL)
			break;
		*slash = '\0';
	}
	return best;
}

double
loadvec_cpu_limit(void)
{
	char	 line[PATH_MAX], dir[PATH_MAX + 32], *ctrl, *path;
	FILE	*f;
	double	 lim = 0;
	int	 v1;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((ctrl = strchr(line, ':')) == NULL ||
		    (path = strchr(ctrl + 1, ':')) == NULL)
			continue;
		*path++ = '\0';
		ctrl++;
		if (*ctrl == '\0')
			v1 = 0;		/* "0::/path", cgroup v2 */
		else if (strcmp(ctrl, "cpu") == 0 ||
		    strncmp(ctrl, "cpu,", 4) == 0 || strstr(ctrl, ",cpu,") != NULL ||
		    (strlen(ctrl) > 4 && strcmp(ctrl + strlen(ctrl) - 4, ",cpu") == 0))
			v1 = 1;
		else
			continue;
		snprintf(dir, sizeof dir, "/sys/fs/cgroup%s%s%s",
		    v1 ? "/" : "", v1 ? ctrl : "", strcmp(path, "/") == 0 ? "" :
		    path);
		lim = quota_up(dir, strlen(dir) - (strcmp(path, "/") == 0 ? 0 :
		    strlen(path)), v1);
		if (lim > 0)
			break;
	}
	fclose(f);
	return lim;
}

int
loadvec_sample(struct loadvec_meter *m, struct loadvec *lv, int64_t now,
    char **cause)
{
	char		*text;
	size_t		 len;
	uint64_t	 total, avail, usage = 0;
	uint32_t	 raw = 0, runnable = 0;
	int		 rc;

	if (read_all("/proc/meminfo", &text, &len, cause) != 0)
		return -1;
	rc = loadvec_parse_meminfo(text, len, &total, &avail, cause);
	free(text);
	if (rc != 0)
		return -1;

	if (m->source == LOADVEC_SRC_CGROUP) {
		if (cgroup_usage(m, &usage, cause) != 0)
			return -1;
		/* Busy CPUs x100 since the last sample: 100 us per ms. */
		if (m->last_ms >= 0 && now > m->last_ms &&
		    usage >= m->last_usage_us)
			raw = (uint32_t)((usage - m->last_usage_us) * 100 /
			    1000 / (uint64_t)(now - m->last_ms));
		m->last_usage_us = usage;
		if (cgroup_runnable(m, &runnable, cause) != 0)
			return -1;
		if (runnable > raw)
			raw = runnable;
	} else if (sample_system(&raw, cause) != 0)
		return -1;

	if (m->last_ms < 0)
		m->load = m->source == LOADVEC_SRC_CGROUP ? 0 : raw;
	else
		m->load = loadvec_smooth(m->load, raw, now - m->last_ms,
		    m->tau_ms);
	m->last_ms = now;

	lv->load = m->load;
	lv->mem_total = total;
	lv->mem_free = avail;
	lv->stamp = (uint64_t)now;
	return 0;
}
