/*
 * sleep: blocked in nanosleep (or clock_nanosleep with TIMER_ABSTIME) when
 * checkpointed. After the restore the sleep must finish by itself, without
 * EINTR, and last at least the requested time in total (the time the
 * process spent as an image counts, as it would for a stopped process).
 *
 * usage: sleep [rel|abs] [seconds]   (default rel 3)
 */
#include <time.h>

#include "prog.h"

static double
now(clockid_t clk)
{
	struct timespec	ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char	*mode = argc > 1 ? argv[1] : "rel";
	double		 secs = argc > 2 ? atof(argv[2]) : 3;
	struct timespec	 req, rem, deadline;
	double		 rt0, mono0, rt_elapsed;
	int		 abs_mode, rc;

	prog_arm("sleep");
	if (strcmp(mode, "rel") != 0 && strcmp(mode, "abs") != 0) {
		fprintf(stderr, "usage: sleep [rel|abs] [seconds]\n");
		return 2;
	}
	abs_mode = strcmp(mode, "abs") == 0;
	req.tv_sec = (time_t)secs;
	req.tv_nsec = (long)((secs - req.tv_sec) * 1e9);

	rt0 = now(CLOCK_REALTIME);
	mono0 = now(CLOCK_MONOTONIC);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += req.tv_sec;
	deadline.tv_nsec += req.tv_nsec;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	prog_ready();

	if (abs_mode) {
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline,
		    NULL);
		CHECK(rc == 0, "clock_nanosleep: %s", strerror(rc));
	} else {
		rc = nanosleep(&req, &rem);
		CHECK(rc == 0, "nanosleep: %s (%ld.%09ld s left)",
		    strerror(errno), (long)rem.tv_sec, rem.tv_nsec);
	}

	/*
	 * Wall-clock time is what a user waits; it also holds across machines,
	 * where CLOCK_MONOTONIC restarts. On the same machine the monotonic
	 * clock must have reached the deadline too.
	 */
	rt_elapsed = now(CLOCK_REALTIME) - rt0;
	CHECK(rt_elapsed >= secs - 0.001, "slept %.3f s, requested %.3f s",
	    rt_elapsed, secs);
	if (abs_mode)
		CHECK(now(CLOCK_MONOTONIC) >= deadline.tv_sec +
		    deadline.tv_nsec / 1e9, "woke before the absolute deadline");
	fprintf(stderr, "sleep: %s %.3f s: %.3f s wall, %.3f s monotonic\n",
	    mode, secs, rt_elapsed, now(CLOCK_MONOTONIC) - mono0);
	return prog_finish();
}
