/* log.c: stderr or syslog logging, printf-checked, one place for all messages. */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/syscall.h>

#include <time.h>
#include <unistd.h>

#include "omm/log.h"

static const char	*log_name = "omm";
static enum log_dest	 log_dest = LOG_TO_STDERR;
static int		 log_verbose;
static int		 log_child;	/* a forked child: fatal uses _exit */

/* Rate-limited kinds of lines (log.h): one slot per kind seen lately. */
#define RL_SLOTS	32
#define RL_TEXT		512
#define RL_DEFAULT_S	10
struct rl_slot {
	uint64_t	 kind;		/* 0: free */
	int		 pri;
	int64_t		 start;		/* ms, the window's */
	uint64_t	 left_out;
	char		 last[RL_TEXT];	/* the last line left out */
};
static struct rl_slot	 rl[RL_SLOTS];
static unsigned		 rl_window_s = RL_DEFAULT_S;
static int		 log_journal;	/* stderr is the journal's stream */

int
log_journal_stream(const char *env, unsigned long long dev,
    unsigned long long ino)
{
	unsigned long long	 d, i;
	char			*end;

	if (env == NULL || *env == '\0')
		return 0;
	errno = 0;
	d = strtoull(env, &end, 10);
	if (errno != 0 || end == env || *end != ':')
		return 0;
	env = end + 1;
	i = strtoull(env, &end, 10);
	if (errno != 0 || end == env || *end != '\0')
		return 0;
	return d == dev && i == ino;
}

void
log_init(const char *name, enum log_dest dest, int verbose)
{
	struct stat	st;

	log_name = name;
	log_dest = dest;
	log_verbose = verbose;
	/*
	 * Under systemd, stderr is a stream to the journal, which reads a
	 * "<N>" at the start of a line as its syslog priority; without it
	 * every line is "info". JOURNAL_STREAM names that stream's device
	 * and inode: a stderr redirected elsewhere (a child's, a shell's
	 * 2>file) does not match, and gets plain lines.
	 */
	log_journal = dest == LOG_TO_STDERR && fstat(STDERR_FILENO, &st) == 0 &&
	    log_journal_stream(getenv("JOURNAL_STREAM"),
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	if (dest == LOG_TO_SYSLOG)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_forked(void)
{
	log_child = 1;
}

/*
 * How fatal ends the process. exit(3) runs the atexit handlers and flushes
 * stdio: right in a process's main thread, wrong in a forked child (the
 * buffers and handlers are the parent's copies: output twice, cleanup of
 * what the parent still uses) and in a worker thread (the main thread goes
 * on running while they run). There, _exit(2).
 */
static void __attribute__((noreturn))
fatal_exit(void)
{
	if (log_child || syscall(SYS_gettid) != getpid())
		_exit(1);
	exit(1);
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
log_line(int pri, const char *msg, const char *err)
{
	if (log_dest == LOG_TO_SYSLOG) {
		if (err != NULL)
			syslog(pri, "%s: %s", msg, err);
		else
			syslog(pri, "%s", msg);
		return;
	}
	/* the journal names the program itself ("ommd[PID]:") */
	if (log_journal && err != NULL)
		fprintf(stderr, "<%d>%s: %s\n", pri, msg, err);
	else if (log_journal)
		fprintf(stderr, "<%d>%s\n", pri, msg);
	else if (err != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_name, msg, err);
	else
		fprintf(stderr, "%s: %s\n", log_name, msg);
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *err)
{
	char	msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	log_line(pri, msg, err);
}

void
log_setrepeat(unsigned seconds)
{
	rl_window_s = seconds;
}

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The line saying what a slot's window left out, if anything; then empty. */
static unsigned
rl_summary(struct rl_slot *s, int64_t now)
{
	char	msg[RL_TEXT + 64];
	int64_t	secs;

	if (s->left_out == 0)
		return 0;
	secs = now - s->start;
	if (rl_window_s != 0 && secs >= (int64_t)rl_window_s * 1000)
		secs = rl_window_s;
	else
		secs = (secs + 999) / 1000;
	snprintf(msg, sizeof msg, "%llu more in %lld s like: %s",
	    (unsigned long long)s->left_out, (long long)secs, s->last);
	log_line(s->pri, msg, NULL);
	s->left_out = 0;
	return 1;
}

static int
rl_admit(uint64_t kind, int pri, int64_t now, const char *text)
{
	struct rl_slot	*s, *free_slot = NULL, *oldest = NULL;
	size_t		 i;

	if (rl_window_s == 0)
		return 1;
	for (i = 0; i < RL_SLOTS; i++) {
		s = &rl[i];
		if (s->kind == kind)
			break;
		if (s->kind == 0) {
			if (free_slot == NULL)
				free_slot = s;
		} else if (oldest == NULL || s->start < oldest->start)
			oldest = s;
	}
	if (i == RL_SLOTS) {
		/* a new kind; too many kinds: the oldest is summed up */
		if ((s = free_slot) == NULL) {
			s = oldest;
			rl_summary(s, now);
		}
		s->kind = kind;
		s->pri = pri;
		s->start = now;
		s->left_out = 0;
		return 1;
	}
	if (now - s->start < (int64_t)rl_window_s * 1000) {
		s->left_out++;
		snprintf(s->last, sizeof s->last, "%s", text);
		return 0;
	}
	rl_summary(s, now);
	s->start = now;
	return 1;
}

/* A kind: the format's address, mixed with a key's bytes (FNV-1a). */
static uint64_t
rl_kind(const void *fmt, const char *key)
{
	uint64_t	h = ((uint64_t)(uintptr_t)fmt << 1) | 1;	/* never 0 */

	if (key != NULL) {
		for (; *key != '\0'; key++) {
			h ^= (unsigned char)*key;
			h *= 1099511628211ULL;
		}
		h |= 1;
	}
	return h;
}

int
log_repeat_admit(const void *kind, int pri, int64_t now, const char *text)
{
	return rl_admit(rl_kind(kind, NULL), pri, now, text);
}

unsigned
log_repeat_flush_at(int64_t now)
{
	unsigned	n = 0;
	size_t		i;

	for (i = 0; i < RL_SLOTS; i++) {
		if (rl[i].kind == 0 ||
		    now - rl[i].start < (int64_t)rl_window_s * 1000)
			continue;
		n += rl_summary(&rl[i], now);
		rl[i].kind = 0;
	}
	return n;
}

void
log_repeat_flush(void)
{
	(void)log_repeat_flush_at(mono_ms());
}

static void
vlog_rl(int pri, const char *key, const char *fmt, va_list ap)
{
	char	msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (rl_admit(rl_kind(fmt, key), pri, mono_ms(), msg))
		log_line(pri, msg, NULL);
}

void
log_warnx_rl(const char *key, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_rl(LOG_WARNING, key, fmt, ap);
	va_end(ap);
}

void
log_info_rl(const char *key, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_rl(LOG_INFO, key, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (log_verbose <= 0)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	fatal_exit();
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	fatal_exit();
}

int
cause_set(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	free(*cause);
	*cause = s;
	return -1;
}
