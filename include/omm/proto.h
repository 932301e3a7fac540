/*
 * proto.h: the control protocol between omrun/omctl and ommd.
 *
 * One AF_UNIX SOCK_SEQPACKET message carries one protocol message:
 *
 *   u16 version | u16 type | u32 payload length | payload
 *
 * little-endian, built and read with buf.h. The header length must equal the
 * bytes that follow it, and a whole message is at most PROTO_MSG_MAX bytes.
 * A request that hands over a file (RESTORE, CHECKPOINT) carries exactly one
 * descriptor in SCM_RIGHTS; every other message carries none.
 *
 * Types come in blocks so that later ones (cluster, migration) do not mix
 * with these: 1-9 generic replies, 10-49 process control.
 */
#ifndef OMM_PROTO_H
#define OMM_PROTO_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/ckpt.h"

#define OMM_PROTO_VERSION	1

#define PROTO_HDR_LEN		8
#define PROTO_MSG_MAX		(64u << 10)	/* whole message, header included */
#define PROTO_CAUSE_MAX		1024		/* ERROR text */
#define PROTO_CMD_MAX		4096		/* command line in PS_ENTRY and CHECKPOINTED */
#define PROTO_PATH_MAX		4096		/* PERIODIC target path */
#define PROTO_PERIOD_MAX	(7 * 24 * 3600)	/* seconds between periodic checkpoints */

enum proto_type {
	/* 1-9: generic */
	MSG_OK = 1,		/* request done, nothing to say */
	MSG_ERROR = 2,		/* request refused or failed: cause */

	/* 10-49: process control */
	MSG_MANAGE = 10,	/* omrun: seize my child, a new job */
	MSG_RESTORE = 11,	/* omrun: turn my stub child into the image (+fd) */
	MSG_RESTORED = 12,	/* reply to RESTORE */
	MSG_CHECKPOINT = 13,	/* omctl: dump a managed process (+fd) */
	MSG_CHECKPOINTED = 14,	/* reply to CHECKPOINT */
	MSG_PS = 15,		/* list managed processes */
	MSG_PS_ENTRY = 16,	/* one process of the list */
	MSG_PS_END = 17,	/* end of the list */
	MSG_PERIODIC = 18,	/* omrun: checkpoint my job every N seconds */
};

/* MSG_CHECKPOINT flags on the wire: exactly one of the first two. */
#define PROTO_CKPT_LEAVE_RUNNING	0x01
#define PROTO_CKPT_KILL			0x02

/* Process states in PS_ENTRY. */
enum proto_state {
	PROTO_STATE_RUNNING = 0,
	PROTO_STATE_STOPPED = 1,
	PROTO_STATE_CHECKPOINTING = 2,
	PROTO_NSTATES
};

struct proto_hdr {
	uint16_t	version;
	uint16_t	type;
	uint32_t	len;		/* payload bytes */
};

/* A received message: the payload is borrowed from the receive buffer. */
struct proto_msg {
	struct proto_hdr	 hdr;
	const uint8_t		*payload;
	int			 fd;	/* passed descriptor or -1 */
};

struct msg_error {
	char	*cause;
};

/* MANAGE and RESTORE. */
struct msg_pid {
	pid_t	pid;
};

struct msg_restored {
	pid_t			pid;
	struct ckpt_stats	stats;
};

struct msg_checkpoint {
	pid_t		pid;
	uint32_t	flags;		/* PROTO_CKPT_* */
};

struct msg_checkpointed {
	pid_t			pid;
	char			*comm;	/* short name, for the user's message */
	struct ckpt_stats	stats;
};

struct msg_ps_entry {
	pid_t		pid;
	pid_t		ppid;
	uint32_t	uid;
	uint32_t	job;
	uint32_t	state;		/* enum proto_state */
	uint32_t	threads;
	int64_t		start_time;	/* seconds since the epoch */
	char		*command;
	char		*cantmove;	/* NULL: can be checkpointed */
};

struct msg_ps_end {
	uint32_t	count;		/* entries sent before */
};

struct msg_periodic {
	pid_t		pid;
	uint32_t	seconds;
	char		*path;		/* absolute */
};

/* Name of a message type for logs ("MANAGE"), "unknown" if none. */
const char	*proto_type_name(uint16_t type);
/* "running", "stopped", "checkpointing"; "unknown" if out of range. */
const char	*proto_state_name(uint32_t state);

/*
 * Split a received datagram into header and payload. Checks the length
 * fields and the message size, not the version (see proto_check_version)
 * nor the type.
 */
int	proto_hdr_decode(struct proto_msg *, const void *, size_t, char **cause)
	    __attribute__((warn_unused_result));
/*
 * "protocol version N, SELF speaks 1" when the peer speaks another version.
 * Checked before anything else, so that a newer peer learns why it is
 * dropped whatever it sent.
 */
int	proto_check_version(const struct proto_hdr *, const char *self,
	    char **cause) __attribute__((warn_unused_result));
/* The type is known and carries a descriptor exactly when it must. */
int	proto_check_type(const struct proto_msg *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Encoders append one whole message (header and payload) to an empty or
 * reset buf. Decoders take the payload of a message of their type, check
 * its exact length and every field, and fill the struct (strings are heap
 * copies: free with proto_msg_free_*).
 */
void	proto_encode_ok(struct buf *);
void	proto_encode_error(struct buf *, const char *cause);
void	proto_encode_manage(struct buf *, const struct msg_pid *);
void	proto_encode_restore(struct buf *, const struct msg_pid *);
void	proto_encode_restored(struct buf *, const struct msg_restored *);
void	proto_encode_checkpoint(struct buf *, const struct msg_checkpoint *);
void	proto_encode_checkpointed(struct buf *, const struct msg_checkpointed *);
void	proto_encode_ps(struct buf *);
void	proto_encode_ps_entry(struct buf *, const struct msg_ps_entry *);
void	proto_encode_ps_end(struct buf *, const struct msg_ps_end *);
void	proto_encode_periodic(struct buf *, const struct msg_periodic *);

int	proto_decode_empty(const struct proto_msg *, char **cause)
	    __attribute__((warn_unused_result));
int	proto_decode_error(const struct proto_msg *, struct msg_error *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_pid(const struct proto_msg *, struct msg_pid *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_restored(const struct proto_msg *, struct msg_restored *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_checkpoint(const struct proto_msg *,
	    struct msg_checkpoint *, char **cause)
	    __attribute__((warn_unused_result));
int	proto_decode_checkpointed(const struct proto_msg *,
	    struct msg_checkpointed *, char **cause)
	    __attribute__((warn_unused_result));
int	proto_decode_ps_entry(const struct proto_msg *, struct msg_ps_entry *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_ps_end(const struct proto_msg *, struct msg_ps_end *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_periodic(const struct proto_msg *, struct msg_periodic *,
	    char **cause) __attribute__((warn_unused_result));

void	proto_free_error(struct msg_error *);
void	proto_free_checkpointed(struct msg_checkpointed *);
void	proto_free_ps_entry(struct msg_ps_entry *);
void	proto_free_periodic(struct msg_periodic *);

/*
 * Check version, type and payload of any message by decoding it into a
 * scratch struct and freeing it again: 0 if the message is valid.
 */
int	proto_validate(const struct proto_msg *, char **cause)
	    __attribute__((warn_unused_result));

/*
 * Transport over a SEQPACKET socket. proto_send sends msg with fd (or -1)
 * attached; retries EINTR, fails with EAGAIN on a full non-blocking socket
 * (errno kept, cause set). proto_recv reads one datagram into buf (at least
 * PROTO_MSG_MAX bytes) and splits it: returns 1 with a message, 0 at end of
 * file, -1 on error with cause: errno is EBADMSG for a bad datagram (too
 * large, more than one descriptor, a bad header), else the socket's error
 * (EAGAIN on an empty non-blocking socket). The version and type are left to the caller
 * (proto_check_version, proto_check_type). A descriptor received is
 * close-on-exec and belongs to the caller on success; on error it is closed.
 */
int	proto_send(int sock, const struct buf *msg, int fd, char **cause)
	    __attribute__((warn_unused_result));
int	proto_recv(int sock, uint8_t *buf, size_t size, struct proto_msg *,
	    char **cause) __attribute__((warn_unused_result));

/* ckpt_stats on the wire: counters as u64, times in nanoseconds. */
void	proto_add_stats(struct buf *, const struct ckpt_stats *);
void	proto_rd_stats(struct buf_rd *, struct ckpt_stats *);

#endif
