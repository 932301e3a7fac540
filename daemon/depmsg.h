/*
 * depmsg.h: messages between ommd and a deputy process it forked (D, see
 * docs/migration.md), one fixed-size datagram each over a SOCK_SEQPACKET
 * socketpair. Both ends are this program, but D runs as the process's owner
 * after the handshake, so ommd checks every message it receives from it as
 * it would any input: size, type, fields.
 */
#ifndef OMMD_DEPMSG_H
#define OMMD_DEPMSG_H

#include <stdint.h>

enum depmsg_type {
	/* D -> ommd */
	DM_ACCEPTED = 1,	/* the host took the offer: dump now; node */
	DM_REFUSED,		/* refused or unreachable before any image: text */
	DM_READY,		/* the guest runs on node: a = its pid there */
	DM_FAILED,		/* failed after the image went: text */
	DM_EXITED,		/* the guest ended: a = wait status */
	DM_STOPPED,		/* the guest group-stopped: a = signal */
	DM_LEAVING,		/* the image comes home on the in pipe: a = why, b = nr */
	DM_HOLDING,		/* D exec'd into a holder of the process's fds */
	DM_LOST,		/* the link to the host died: text */
	/* ommd -> D */
	DM_DUMPED,		/* the image is complete: value = bytes */
	DM_DUMPFAIL,		/* the dump failed: text */
	DM_SIGNAL,		/* deliver a = signo, b = si_code, pid, uid, value */
	DM_BRING,		/* bring it back: a = reason, node = move on to (0 home) */
	DM_HOLD,		/* the image is home, restored and checked: tell
				   the host it landed, become the holder */
	DM_MOVED,		/* D -> ommd: it runs on node now (moved on): a = pid */
	DM_MOVEFAIL,		/* D -> ommd: the move on was refused, it stays: text */
	DM_STAY,		/* ommd -> D: the image could not come home (text), it
				   goes on at its host; a new in pipe comes with it */
	DM_PARKED,		/* ommd -> D, after READY: the original is parked
				   and let go of its POSIX locks (text: why not),
				   which D takes before it serves (plocks.h) */
	DM_NTYPES
};

#define DEPMSG_TEXT	256

struct depmsg {
	uint32_t	type;
	int32_t		a, b;
	uint32_t	node;
	int32_t		pid;
	uint32_t	uid;
	uint64_t	value;
	uint32_t	ip;		/* BRING to another node: its address, */
	uint16_t	port;		/* network order, its migration port */
	char		text[DEPMSG_TEXT];
};

/* What D publishes for ps, in a page shared with ommd. */
struct depstats {
	uint64_t	calls;
	uint64_t	errors;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	signals;
	uint64_t	cpu_ns;		/* the guest's CPU time there (GUEST_USAGE) */
	uint64_t	rss;		/* and its resident memory, bytes */
	uint64_t	usage_ms;	/* when that came, CLOCK_MONOTONIC ms */
	uint32_t	host_cpus_milli; /* the host's CPUs x1000, its load x100 */
	uint32_t	host_load;
};

/* One message: 0, or -1 with cause (peer gone, short, malformed). */
int	depmsg_send(int fd, const struct depmsg *, char **cause);
int	depmsg_recv(int fd, struct depmsg *, char **cause);
/* The same with a descriptor (-1: none) passed along (DM_STAY's pipe). */
int	depmsg_send_fd(int fd, const struct depmsg *, int passfd, char **cause);
int	depmsg_recv_fd(int fd, struct depmsg *, int *passfd, char **cause);
int	depmsg_sendf(int fd, uint32_t type, int32_t a, int32_t b,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
const char *depmsg_name(uint32_t type);

#endif
