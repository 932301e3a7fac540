/* log.h: the one log module of omm (OpenBSD daemons' log.c in spirit). */
#ifndef OMM_LOG_H
#define OMM_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_dest { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Set up logging: name is the program name, verbose >0 enables debug. */
void	log_init(const char *name, enum log_dest dest, int verbose);
void	log_setverbose(int verbose);
/*
 * Is the stream dev:ino the one $JOURNAL_STREAM ("DEV:INO", set by
 * systemd for a service's stdout and stderr) names? log_init asks it of
 * stderr, and then prefixes each line with its priority, "<4>" for a
 * warning, which the journal keeps as the entry's PRIORITY.
 */
int	log_journal_stream(const char *env, unsigned long long dev,
	    unsigned long long ino);
int	log_getverbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * fatal and fatalx log at LOG_CRIT and end the process: exit(1) in its main
 * thread, _exit(1) in a worker thread or a child that log_forked() was
 * called in (proc_fork does it), whose atexit handlers and stdio buffers
 * are not theirs to run.
 */
void	log_forked(void);
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Lines an outsider can cause at will (a refused connection, a failed
 * handshake) are rate-limited by kind, a kind being the format string and
 * a key (the source address, a uid; NULL: none), so that one flooding
 * source does not hide another's first line:
 * the first line of a kind in a window of log_setrepeat() seconds (10 by
 * default) is logged, the others of that window are counted, and once the
 * window is over one line says how many there were and shows the last
 * ("1234 more in 10 s like: ..."). 0 seconds: every line is logged.
 */
void	log_setrepeat(unsigned seconds);
void	log_warnx_rl(const char *key, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_info_rl(const char *key, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Say what was left out of windows that are over (a daemon's timer). */
void	log_repeat_flush(void);
/*
 * The same with the clock given (tests): admit returns 1 when a line of
 * kind with text is to be logged now, 0 when it is only counted; flush_at
 * returns how many summary lines it logged.
 */
int	log_repeat_admit(const void *kind, int pri, int64_t now_ms,
	    const char *text);
unsigned log_repeat_flush_at(int64_t now_ms);

/*
 * Build a heap-allocated message for a "char **cause" out-parameter.
 * Returns -1 so that "return cause_set(cause, ...)" reads naturally.
 * cause may be NULL, then nothing is allocated.
 */
int	cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
