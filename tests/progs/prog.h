/*
 * prog.h: the protocol every self-checking workload program follows.
 *
 * A program sets up its state, says READY (stdout, and by creating the file
 * named by $PROG_READY so scripts need not parse output), waits for SIGUSR1,
 * then checks every piece of state it set up. Each mismatch is printed on
 * stderr with what was expected and what was found; the program ends with
 * "PASS name" and status 0, or "FAIL name: N mismatches" and status 1.
 *
 * Included by each program (every .c here is a program of its own), so
 * everything here is static; unused helpers are marked so -Wall stays quiet.
 */
#ifndef PROG_H
#define PROG_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG_UNUSED	__attribute__((unused))

static const char	*prog_name = "prog";
static int		 prog_failures;
static volatile sig_atomic_t prog_usr1;

/* Record one mismatch; the message says what differs. */
static PROG_UNUSED __attribute__((format(printf, 1, 2))) void
prog_fail(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	prog_failures++;
}

#define CHECK(cond, ...) do {						\
	if (!(cond))							\
		prog_fail(__VA_ARGS__);					\
} while (0)

/* A setup step that cannot fail on a sane machine: give up at once. */
static PROG_UNUSED void
prog_die(const char *what)
{
	fprintf(stderr, "%s: setup: %s: %s\n", prog_name, what,
	    strerror(errno));
	exit(2);
}

static void
prog_usr1_handler(int sig PROG_UNUSED)
{
	prog_usr1 = 1;
}

/*
 * Block SIGUSR1 and install the trigger handler; done before READY so a
 * SIGUSR1 sent right after READY is never lost.
 */
static PROG_UNUSED void
prog_arm(const char *name)
{
	struct sigaction	sa;
	sigset_t		set;

	prog_name = name;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = prog_usr1_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) == -1)
		prog_die("sigaction SIGUSR1");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		prog_die("sigprocmask");
}

/* Say READY on stdout and through $PROG_READY. */
static PROG_UNUSED void
prog_ready(void)
{
	const char	*path;
	int		 fd;

	printf("READY\n");
	fflush(stdout);
	if ((path = getenv("PROG_READY")) != NULL && *path != '\0') {
		/* Create it under a temporary name: a watcher never sees it half made. */
		char	tmp[4096];

		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		if ((fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)) == -1)
			prog_die("PROG_READY");
		close(fd);
		if (rename(tmp, path) == -1)
			prog_die("PROG_READY rename");
	}
}

/* Sleep in sigsuspend until SIGUSR1 arrived; SIGUSR1 is blocked again after. */
static PROG_UNUSED void
prog_wait_usr1(void)
{
	sigset_t	wait;

	sigprocmask(SIG_BLOCK, NULL, &wait);
	sigdelset(&wait, SIGUSR1);
	while (!prog_usr1)
		sigsuspend(&wait);
}

/* Print the verdict and return the exit status. */
static PROG_UNUSED int
prog_finish(void)
{
	if (prog_failures == 0) {
		printf("PASS %s\n", prog_name);
		fflush(stdout);
		return 0;
	}
	printf("FAIL %s: %d mismatches\n", prog_name, prog_failures);
	fflush(stdout);
	return 1;
}

/* Address-derived pattern: a page restored at the wrong place shows. */
static PROG_UNUSED inline unsigned long
prog_pattern(const void *addr, unsigned long salt)
{
	unsigned long	x = (unsigned long)addr ^ (salt * 0x9e3779b97f4a7c15UL);

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9UL;
	return x ^ (x >> 32);
}

/*
 * For programs checked more than once (a move there and a move back): argv[1]
 * as a count of checks, 1 when absent. Each check waits for its own SIGUSR1.
 */
static PROG_UNUSED int
prog_checks(int argc, char **argv)
{
	int	n = argc > 1 ? atoi(argv[1]) : 1;

	return n < 1 ? 1 : n;
}

/* Wait for the next SIGUSR1 (after the first: prog_wait_usr1 again). */
static PROG_UNUSED void
prog_wait_next(void)
{
	prog_usr1 = 0;
	prog_wait_usr1();
}

/*
 * The VmFlags line of /proc/self/smaps for the mapping holding addr, as
 * " rd wr ... " (a space on each side of every code, so strstr(" lo ")
 * finds a code), or "" when there is none.
 */
static PROG_UNUSED void
prog_vmflags(const void *addr, char *out, size_t len)
{
	FILE		*f;
	char		 line[1024];
	unsigned long	 lo, hi, a = (unsigned long)addr;
	int		 in = 0;

	out[0] = '\0';
	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		prog_die("/proc/self/smaps");
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = a >= lo && a < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s ", line + 8);
			break;
		}
	}
	fclose(f);
}

/* Does the VmFlags of addr's mapping hold code ("lo")? */
static PROG_UNUSED int
prog_has_vmflag(const void *addr, const char *code)
{
	char	flags[1024], pat[8];

	prog_vmflags(addr, flags, sizeof flags);
	snprintf(pat, sizeof pat, " %s ", code);
	return strstr(flags, pat) != NULL;
}

#endif
