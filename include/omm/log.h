/* log.h: the one log module of omm (OpenBSD daemons' log.c in spirit). */
#ifndef OMM_LOG_H
#define OMM_LOG_H

#include <stdarg.h>

enum log_dest { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* Set up logging: name is the program name, verbose >0 enables debug. */
void	log_init(const char *name, enum log_dest dest, int verbose);
void	log_setverbose(int verbose);
int	log_getverbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Build a heap-allocated message for a "char **cause" out-parameter.
 * Returns -1 so that "return cause_set(cause, ...)" reads naturally.
 * cause may be NULL, then nothing is allocated.
 */
int	cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
