/*
 * migwire.h: the messages of a migration connection (the node protocol's
 * 200 block).
 *
 * Home's deputy D and the host's guest server S talk over their own TLS
 * connection (miglink.h) in the frames of wire.h; docs/migration.md has the
 * conversation and docs/wire-protocol.md the bytes. Each message has an
 * encoder, which appends a whole frame and aborts on a field out of range
 * (our own data: a bug), and a decoder, which takes the payload of a frame
 * wire_frame_peek found and checks its exact length and every field. A
 * string on this block is a u16 length and its bytes, no NUL among them.
 * MIG_IMAGE and PING have no struct: wire_encode_raw frames them.
 */
#ifndef OMM_MIGWIRE_H
#define OMM_MIGWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/cpufeat.h"
#include "omm/wire.h"

/* Largest MIG_IMAGE payload: big enough to stream at wire speed. */
#define MIG_IMAGE_CHUNK		(256U << 10)

#define MIG_COMM_MAX		16	/* comm, NUL included (TASK_COMM_LEN) */
#define MIG_KERNEL_MAX		65	/* uname release, NUL included */
#define MIG_TEXT_MAX		256	/* REFUSE and FAIL text, NUL included */
#define MIG_SIG_MAX		64	/* highest signal number (SIGRTMAX) */
#define MIG_PATH_MAX		4096	/* FILE_REQ path, NUL included (PATH_MAX) */
/* Bounds of an offer's vDSO and vvar lengths: page multiples, below this. */
#define MIG_VDSO_MAX		(64U << 20)
/* Bound of an offer's xsave size, as on node links. */
#define MIG_XSAVE_MAX		(1U << 20)

/* MIG_OFFER flags: none defined yet; a receiver refuses unknown bits. */
#define MIG_OFFER_FLAGS		0x0
/* MIG_READY flags (what KILLABLE implies is docs/migration.md's). */
#define MIG_READY_KILLABLE	0x1
#define MIG_READY_FLAGS		0x1

/* Why a host refuses an offer. */
enum mig_refuse_reason {
	MIG_REFUSE_BLOCKED = 1,	/* its block setting is on */
	MIG_REFUSE_CPU,		/* it lacks a CPU feature or xsave component */
	MIG_REFUSE_KERNEL,	/* its vDSO (kernel) differs */
	MIG_REFUSE_NOGUEST,	/* it has no omm-guest user */
	MIG_REFUSE_LIMIT,	/* load limit, too many guests */
	MIG_REFUSE_PROTOCOL,	/* the offer is malformed */
	MIG_REFUSE_INTERNAL,	/* it failed on its own side */
	MIG_REFUSE_NODE,	/* the offer names a node other than the peer */
	MIG_REFUSE_SHUTDOWN,	/* it is stopping */
	MIG_REFUSE_MEMORY,	/* it cannot limit a guest's memory, or the
				   process is larger than the limit */
	MIG_REFUSE_NREASONS
};

/* Why home wants its process back. */
enum mig_bring {
	MIG_BRING_ASKED = 1,	/* omctl bring, omctl migrate PID home */
	MIG_BRING_MOVE,		/* to be offered to another host */
	MIG_BRING_SHUTDOWN,	/* home's ommd stops */
	MIG_BRING_NREASONS
};

/* Why a guest leaves its host (GUEST_LEAVING). */
enum mig_leave {
	MIG_LEAVE_ASKED = 1,	/* the answer to GUEST_BRING */
	MIG_LEAVE_SYSCALL,	/* a call needs home (fork, execve...): nr */
	MIG_LEAVE_SHUTDOWN,	/* the host stops */
	MIG_LEAVE_MEMORY,	/* the host is short of memory */
	MIG_LEAVE_MEMLIMIT,	/* it reached its memory limit on the host */
	MIG_LEAVE_NREASONS
};

/* 200 MIG_OFFER: home -> host. */
struct mig_offer {
	uint32_t		home_node;	/* nonzero: the peer's certificate id */
	uint64_t		home_incarnation; /* nonzero */
	int32_t			home_pid;	/* > 0 */
	uint32_t		uid, gid;	/* not (uint32_t)-1 */
	char			comm[MIG_COMM_MAX]; /* 0..15 bytes */
	uint64_t		image_bytes;	/* estimate, may be 0 */
	struct cpu_features	need;		/* model: informational, 0..63 */
	char			kernel[MIG_KERNEL_MAX]; /* 1..64 bytes */
	uint64_t		vdso_len;	/* page multiple, < MIG_VDSO_MAX */
	uint64_t		vvar_len;	/* page multiple, < MIG_VDSO_MAX */
	uint32_t		flags;		/* MIG_OFFER_* */
};

/* 201 MIG_ACCEPT: host -> home. */
struct mig_accept {
	uint32_t	host_node;	/* nonzero */
	uint32_t	flags;		/* 0 */
};

/* 202 MIG_REFUSE: host -> home. */
struct mig_refuse {
	uint16_t	reason;			/* enum mig_refuse_reason */
	char		text[MIG_TEXT_MAX];	/* 0..255 bytes, for omctl */
};

/* 204 MIG_IMAGE_END: the sum of the MIG_IMAGE payloads before it. */
struct mig_image_end {
	uint64_t	total_bytes;
};

/* 205 MIG_READY: host -> home. */
struct mig_ready {
	int32_t		guest_pid;	/* > 0, in the host's pid namespace */
	uint32_t	flags;		/* MIG_READY_* */
};

/* 206 MIG_FAIL: either way, before MIG_READY: the migration is off. */
struct mig_fail {
	char		text[MIG_TEXT_MAX];	/* 1..255 bytes */
};

/* 207 GUEST_SIGNAL: home -> host, the siginfo fields a queued signal keeps. */
struct guest_signal {
	int32_t		signo;		/* 1..MIG_SIG_MAX */
	int32_t		code;		/* si_code */
	int32_t		pid;		/* si_pid */
	uint32_t	uid;		/* si_uid */
	uint64_t	value;		/* si_value */
};

/* 208 GUEST_EXIT: host -> home. */
struct guest_exit {
	int32_t		wstatus;	/* WIFEXITED or WIFSIGNALED, canonical */
};

/* 209 GUEST_BRING: home -> host. */
struct guest_bring {
	uint32_t	reason;		/* enum mig_bring */
};

/* 210 GUEST_LEAVING: host -> home; MIG_IMAGE frames and MIG_IMAGE_END follow. */
struct guest_leaving {
	uint32_t	why;		/* enum mig_leave */
	int32_t		nr;		/* syscall number (>= 0 for SYSCALL), or -1 */
};

/* 211 GUEST_STOPPED: host -> home. */
struct guest_stopped {
	int32_t		signo;		/* 1..MIG_SIG_MAX */
};

/*
 * 213 GUEST_USAGE: host -> home, every second or so while the guest runs:
 * what the home's balancer needs to know of a process it cannot see.
 */
struct guest_usage {
	uint64_t	cpu_ns;		/* CPU time the guest used there, in all */
	uint64_t	rss;		/* its resident memory, bytes */
	/*
	 * The host as it is now: the CPUs it may use (x1000: a quota makes
	 * them fractional) and its load (run-queue length x100). Home's
	 * window may not hold the host's vector, and the process's demand is
	 * read against them.
	 */
	uint32_t	host_cpus_milli;
	uint32_t	host_load;
};


/* Highest syscall number a GUEST_LEAVING may name. */
#define MIG_NR_MAX		1023

/*
 * Payload lengths, for wire.c's table of types. A string takes 2 bytes of
 * length and its bytes; the CPU features are a u8 word count, the words,
 * xcr0, the xsave size and the model string.
 */
#define MIGW_STR(n)		(2 + (n))
#define MIGW_CPU(model)		(1 + 4 * CPUW_NWORDS + 8 + 4 + MIGW_STR(model))
#define MIGW_OFFER(comm, model, kernel)					\
	(4 + 8 + 4 + 4 + 4 + MIGW_STR(comm) + 8 + MIGW_CPU(model) +	\
	MIGW_STR(kernel) + 8 + 8 + 4)
#define MIG_OFFER_MIN		MIGW_OFFER(0, 0, 1)
#define MIG_OFFER_MAX		MIGW_OFFER(MIG_COMM_MAX - 1, 63, \
				    MIG_KERNEL_MAX - 1)
#define MIG_ACCEPT_LEN		8
#define MIG_REFUSE_MIN		(2 + MIGW_STR(0))
#define MIG_REFUSE_MAX		(2 + MIGW_STR(MIG_TEXT_MAX - 1))
#define MIG_IMAGE_END_LEN	8
#define MIG_READY_LEN		8
#define MIG_FAIL_MIN		MIGW_STR(1)
#define MIG_FAIL_MAX		MIGW_STR(MIG_TEXT_MAX - 1)
#define GUEST_SIGNAL_LEN	24
#define GUEST_EXIT_LEN		4
#define GUEST_BRING_LEN		4
#define GUEST_LEAVING_LEN	8
#define GUEST_STOPPED_LEN	4
#define GUEST_USAGE_LEN		24
#define GUEST_LANDED_LEN	4
#define GUEST_STAY_MIN		MIGW_STR(1)
#define GUEST_STAY_MAX		MIGW_STR(MIG_TEXT_MAX - 1)
#define MIG_FILE_REQ_MIN	(8 * 6 + 4 + MIGW_STR(2))
#define MIG_FILE_REQ_MAX	(8 * 6 + 4 + MIGW_STR(MIG_PATH_MAX - 1))
#define MIG_FILE_DATA_MIN	12
#define MIG_FILE_DATA_MAX	(12 + MIG_IMAGE_CHUNK)

/*
 * 214 GUEST_LANDED: home -> the host a guest left: its image was restored
 * and checked where it went (node, 0 for home): the copy kept stopped there
 * can go.
 */
struct guest_landed {
	uint32_t	node;
};

/*
 * 215 GUEST_STAY: home -> the host a guest left: the move failed (text
 * says why): the guest it kept stopped goes on there.
 */
struct guest_stay {
	char		text[MIG_TEXT_MAX];	/* 1..255 bytes */
};

/*
 * 216 MIG_FILE_REQ: host -> home, between MIG_IMAGE_END and its READY or
 * FAIL: bytes [off, off + len) of a file the image maps that this host
 * has not got as it was (missing, different, unreadable to the guest).
 * The identity is the image's: home serves the file only if its size and
 * mtime are still those (dev and ino are another node's when the process
 * moves on from a host that mapped its own copy).
 */
struct mig_file_req {
	uint64_t	seq;		/* nonzero, echoed */
	uint64_t	dev, ino, size;
	int64_t		mtime_ns;
	uint64_t	off;
	uint32_t	len;		/* 1..MIG_IMAGE_CHUNK */
	char		path[MIG_PATH_MAX];	/* absolute, 2..4095 bytes */
};

/* 217 MIG_FILE_DATA: home -> host: the bytes (fewer only at the end of the file), or err. */
struct mig_file_data {
	uint64_t	seq;
	int32_t		err;		/* 0 or an errno; then no data */
	const uint8_t	*data;		/* points into the payload */
	uint32_t	len;		/* 0..MIG_IMAGE_CHUNK */
};

/* Any decoded frame of the 200 block. */
struct mig_msg {
	uint16_t			 type;	/* WIRE_MIG_*, WIRE_GUEST_*, WIRE_PING */
	union {
		struct mig_offer	 offer;
		struct mig_accept	 accept;
		struct mig_refuse	 refuse;
		struct {		/* MIG_IMAGE: points into the payload */
			const uint8_t	*data;
			size_t		 len;
		}			 image;
		struct mig_image_end	 image_end;
		struct mig_ready	 ready;
		struct mig_fail		 fail;
		struct guest_signal	 signal;
		struct guest_exit	 exit;
		struct guest_bring	 bring;
		struct guest_leaving	 leaving;
		struct guest_stopped	 stopped;
		struct guest_usage	 usage;
		struct guest_landed	 landed;
		struct guest_stay	 stay;
		struct mig_file_req	 file_req;
		struct mig_file_data	 file_data;
	};
};

/* "host blocks guests", ...; "unknown" when out of range. */
const char	*mig_refuse_name(uint16_t);
const char	*mig_bring_name(uint32_t);
const char	*mig_leave_name(uint32_t);

/* Encoders: one whole frame appended to b; a bad field is a bug (fatalx). */
void	migwire_encode_offer(struct buf *, const struct mig_offer *);
void	migwire_encode_accept(struct buf *, const struct mig_accept *);
void	migwire_encode_refuse(struct buf *, const struct mig_refuse *);
void	migwire_encode_image_end(struct buf *, const struct mig_image_end *);
void	migwire_encode_ready(struct buf *, const struct mig_ready *);
void	migwire_encode_fail(struct buf *, const struct mig_fail *);
void	migwire_encode_signal(struct buf *, const struct guest_signal *);
void	migwire_encode_exit(struct buf *, const struct guest_exit *);
void	migwire_encode_bring(struct buf *, const struct guest_bring *);
void	migwire_encode_leaving(struct buf *, const struct guest_leaving *);
void	migwire_encode_stopped(struct buf *, const struct guest_stopped *);
void	migwire_encode_usage(struct buf *, const struct guest_usage *);
void	migwire_encode_landed(struct buf *, const struct guest_landed *);
void	migwire_encode_stay(struct buf *, const struct guest_stay *);
void	migwire_encode_file_req(struct buf *, const struct mig_file_req *);
void	migwire_encode_file_data(struct buf *, const struct mig_file_data *);

/*
 * Decoders: a payload of their type into the struct (no heap). They refuse
 * a wrong length, a bad string, a zero id, a number or enum out of range,
 * unknown flags; the cause names the field.
 */
int	migwire_decode_offer(const uint8_t *, size_t, struct mig_offer *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_accept(const uint8_t *, size_t, struct mig_accept *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_refuse(const uint8_t *, size_t, struct mig_refuse *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_image_end(const uint8_t *, size_t,
	    struct mig_image_end *, char **cause)
	    __attribute__((warn_unused_result));
int	migwire_decode_ready(const uint8_t *, size_t, struct mig_ready *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_fail(const uint8_t *, size_t, struct mig_fail *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_signal(const uint8_t *, size_t, struct guest_signal *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_exit(const uint8_t *, size_t, struct guest_exit *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_bring(const uint8_t *, size_t, struct guest_bring *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_leaving(const uint8_t *, size_t, struct guest_leaving *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_usage(const uint8_t *, size_t, struct guest_usage *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_stopped(const uint8_t *, size_t, struct guest_stopped *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_landed(const uint8_t *, size_t, struct guest_landed *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_stay(const uint8_t *, size_t, struct guest_stay *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_file_req(const uint8_t *, size_t, struct mig_file_req *,
	    char **cause) __attribute__((warn_unused_result));
int	migwire_decode_file_data(const uint8_t *, size_t,
	    struct mig_file_data *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Decode any frame of the 200 block that wire_frame_peek found (or miglink
 * received); a type of another block is refused.
 */
int	migwire_decode(const struct wire_hdr *, const uint8_t *payload,
	    struct mig_msg *, char **cause) __attribute__((warn_unused_result));

#endif
