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
 * Types come in blocks so that later ones (migration) do not mix with
 * these: 1-9 generic replies, 10-49 process control, 50-79 the cluster
 * (nodes, status, admin settings). Migration requests (MIGRATE, BRING,
 * LOCK) and the balancer's per-process POLICY are process control and
 * follow PERIODIC.
 */
#ifndef OMM_PROTO_H
#define OMM_PROTO_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/ckpt.h"
#include "omm/loadvec.h"

#define OMM_PROTO_VERSION	1

#define PROTO_HDR_LEN		8
#define PROTO_MSG_MAX		(64u << 10)	/* whole message, header included */
#define PROTO_CAUSE_MAX		1024		/* ERROR text */
#define PROTO_CMD_MAX		4096		/* command line in PS_ENTRY and CHECKPOINTED */
#define PROTO_PATH_MAX		4096		/* PERIODIC target path */
#define PROTO_PERIOD_MAX	(7 * 24 * 3600)	/* seconds between periodic checkpoints */
#define PROTO_NODE_MAX		63		/* MIGRATE's node argument, node names */
#define PROTO_COMM_MAX		255		/* comm in CHECKPOINTED, MIGRATED */
#define PROTO_POLICY_MAX_NODES	64		/* POLICY's allowed nodes */

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
	MSG_MIGRATE = 19,	/* omctl migrate, omrun --on: move a process */
	MSG_MIGRATED = 20,	/* reply to MIGRATE */
	MSG_BRING = 21,		/* omctl bring: bring processes home */
	MSG_BROUGHT = 22,	/* reply to BRING: count */
	MSG_LOCK = 23,		/* omctl lock/unlock: pin a process home */
	MSG_POLICY = 24,	/* omrun --stay/--nodes: how it may be balanced */

	/* 50-79: the cluster */
	MSG_NODES = 50,		/* list the nodes this node knows */
	MSG_NODE = 51,		/* one node of the list */
	MSG_NODES_END = 52,	/* end of the list: count */
	MSG_STATUS = 53,	/* this node's status */
	MSG_STATUS_INFO = 54,	/* first reply to STATUS */
	MSG_LINK = 55,		/* one peer link, after STATUS_INFO */
	MSG_STATUS_END = 56,	/* end of the links: count */
	MSG_SET = 57,		/* root: change one admin setting */
	MSG_EXPEL = 58,		/* root: send every guest home, block */
	MSG_EXPELLED = 59,	/* reply to EXPEL */
	MSG_LEAVE = 60,		/* root: leave the cluster */
	MSG_JOIN = 61,		/* root: join it again */
	MSG_RELOAD = 62,	/* root: read the config and TLS files again */
	MSG_RELOADED = 63,	/* reply to RELOAD: what it did */
};

/* A node as NODE reports it (the gossip's view of it). */
enum proto_node_state {
	PROTO_NODE_UNKNOWN = 1,	/* known (map, discovery), not heard yet */
	PROTO_NODE_UP = 2,
	PROTO_NODE_LEAVING = 3,	/* up, announcing that it leaves */
	PROTO_NODE_DOWN = 4,	/* silent too long, or said goodbye */
	PROTO_NODE_REVOKED = 5,	/* its certificate is refused now (a reload) */
	PROTO_NODE_NSTATES
};

/* This node's link to a peer. */
enum proto_link_state {
	PROTO_LINK_NONE = 0,	/* no link and none wanted */
	PROTO_LINK_WAIT = 1,	/* waiting to dial again (backoff) */
	PROTO_LINK_CONNECTING = 2, /* TCP, TLS, HELLO not yet answered */
	PROTO_LINK_UP = 3,	/* a first valid message arrived */
	PROTO_LINK_NSTATES
};

/* MSG_CHECKPOINT flags on the wire: exactly one of the first two. */
#define PROTO_CKPT_LEAVE_RUNNING	0x01
#define PROTO_CKPT_KILL			0x02

/* MSG_MIGRATE flags. */
#define PROTO_MIG_AFTER_EXEC	0x01	/* at the next execve; reply OK at once */
#define PROTO_MIG_FLAGS		PROTO_MIG_AFTER_EXEC

/* MSG_BRING flags. */
#define PROTO_BRING_ALL		0x01	/* all the caller may act on; pid 0 */
#define PROTO_BRING_FLAGS	PROTO_BRING_ALL

/* MSG_POLICY flags. */
#define PROTO_POL_STAY		0x01	/* never migrated automatically */
#define PROTO_POL_FLAGS		PROTO_POL_STAY

/* Where a process is, in PS_ENTRY (away). */
enum proto_away {
	PROTO_AWAY_HOME = 0,		/* runs at home */
	PROTO_AWAY_MIGRATING = 1,	/* its image is on its way out */
	PROTO_AWAY_REMOTE = 2,		/* runs on node where */
	PROTO_AWAY_RETURNING = 3,	/* its image is on its way home */
	PROTO_AWAY_NSTATES
};

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
	char		*cantmove;	/* NULL: can be checkpointed and moved */
	/*
	 * Migration. where == home_node exactly when away is HOME; a REMOTE
	 * process runs elsewhere. where_name: where's name, NULL unknown.
	 * The fwd_* counters: system calls forwarded home (and those that
	 * failed), bytes copied into and out of the guest for them, signals
	 * passed on to the guest; over every migration of the process.
	 */
	uint32_t	home_node;
	uint32_t	where;
	char		*where_name;
	uint32_t	migrations;	/* times it left home or moved on */
	uint8_t		locked;		/* 1: omctl lock, it stays home */
	uint8_t		away;		/* enum proto_away */
	uint64_t	fwd_calls;
	uint64_t	fwd_errors;
	uint64_t	fwd_bytes_in;
	uint64_t	fwd_bytes_out;
	uint64_t	fwd_signals;
	/*
	 * Periodic checkpoints (omrun --checkpoint-every): every seconds (0:
	 * none), the time of the last that succeeded (0: none yet), and why
	 * the last one failed (NULL: it did not).
	 */
	uint32_t	ckpt_every;
	int64_t		ckpt_last;
	char		*ckpt_error;
};

struct msg_ps_end {
	uint32_t	count;		/* entries sent before */
};

struct msg_periodic {
	pid_t		pid;
	uint32_t	seconds;
	char		*path;		/* absolute */
};

/*
 * MIGRATE: node is a node name, a decimal node id or "home"
 * (proto_check_node_arg).
 */
struct msg_migrate {
	pid_t		pid;
	char		*node;
	uint32_t	flags;		/* PROTO_MIG_* */
};

/* MIGRATED: where it went, and what the move cost. */
struct msg_migrated {
	pid_t		pid;
	uint32_t	node;		/* node id it runs on now */
	char		*node_name;	/* NULL: not known */
	char		*comm;		/* short name; NULL: not known */
	double		freeze_secs;	/* stopped at home to running there */
	uint64_t	bytes;		/* image bytes sent */
	double		secs;		/* the whole request */
};

struct msg_bring {
	pid_t		pid;		/* 0 with PROTO_BRING_ALL */
	uint32_t	flags;		/* PROTO_BRING_* */
};

struct msg_lock {
	pid_t		pid;
	uint32_t	on;		/* 1 lock, 0 unlock */
};

/*
 * POLICY, what the automatic balancer may do with a process (openMosix's
 * mosrun -l and its node list): with PROTO_POL_STAY never move it; else
 * run it only at home or on one of nodes[0..nnodes-1] (nnodes 0: on any
 * node). The ids are distinct and nonzero; listing the home node is
 * allowed and changes nothing. Manual migration ignores the policy.
 */
struct msg_policy {
	pid_t		pid;
	uint32_t	flags;		/* PROTO_POL_* */
	uint32_t	nnodes;		/* 0 to PROTO_POLICY_MAX_NODES */
	uint32_t	nodes[PROTO_POLICY_MAX_NODES];
};

struct msg_node {
	uint32_t		node;
	uint8_t			self;		/* 1: this node */
	uint8_t			state;		/* enum proto_node_state */
	uint8_t			link;		/* enum proto_link_state */
	uint8_t			has_lv;		/* lv holds its load vector */
	uint16_t		bye;		/* enum wire_bye_reason, 0 none */
	uint64_t		incarnation;	/* 0: not known */
	int64_t			age_ms;		/* of the freshest news; -1 none */
	char			name[LV_NAME_MAX];	/* "" when not known */
	struct node_addr	addr;		/* where it listens, if known */
	/*
	 * When has_lv: ncpu, speed, load, mem_total, mem_free, guests,
	 * flags, cpu, kernel (its node, name, addr are the fields above).
	 */
	struct loadvec		lv;
};

/* What a reload did with one setting, file or node (RELOADED). */
enum proto_reload_status {
	PROTO_RELOAD_APPLIED = 1,	/* taken without a restart */
	PROTO_RELOAD_RESTART = 2,	/* changed, needs a restart */
	PROTO_RELOAD_FAILED = 3,	/* not taken: detail says why */
	PROTO_RELOAD_DROPPED = 4,	/* a node's links closed: detail says why */
	PROTO_RELOAD_NSTATUS
};
#define PROTO_RELOAD_MAX	256	/* items in RELOADED */

struct msg_reload_item {
	uint8_t		 status;	/* enum proto_reload_status */
	char		*what;		/* a config key, "tls", a node's name */
	char		*detail;	/* may be empty */
};

struct msg_reloaded {
	uint32_t		 n;
	struct msg_reload_item	*items;
};

struct msg_count {
	uint32_t	count;		/* NODES_END, STATUS_END, EXPELLED, BROUGHT */
};

/*
 * STATUS_INFO: named numbers and strings, in groups ("node", "config",
 * "admin", "counters", "migration"); proto_status_num_name and proto_status_str_name
 * give each index its group and name, which omctl prints and
 * docs/json-status.md documents. New fields go at the end of a table.
 */
enum proto_status_num {
	ST_NODE_ID, ST_INCARNATION, ST_PID, ST_UPTIME_MS, ST_FABRIC,
	ST_NCPU, ST_SPEED, ST_SPEED_MEASURED, ST_LOAD, ST_MEM_TOTAL,
	ST_MEM_FREE, ST_GUESTS, ST_PROCESSES, ST_FLAGS, ST_NODES_KNOWN,
	ST_NODES_UP,
	ST_CONF_GOSSIP_MIN_MS, ST_CONF_GOSSIP_MAX_MS, ST_CONF_DEAD_AFTER_MS,
	ST_CONF_WINDOW, ST_CONF_DISCOVERY, ST_CONF_SPEED, ST_CONF_MAP_NODES,
	ST_ADM_SPEED, ST_ADM_BLOCK, ST_ADM_STAY, ST_ADM_LSTAY, ST_ADM_QUIET,
	ST_ADM_LOADLIMIT, ST_ADM_LEFT,
	ST_CNT_GOSSIP_TICKS, ST_CNT_GOSSIP_SENT, ST_CNT_GOSSIP_REPLIES,
	ST_CNT_GOSSIP_RECEIVED, ST_CNT_GOSSIP_ENTRIES, ST_CNT_GOSSIP_FRESH,
	ST_CNT_GOSSIP_STALE, ST_CNT_LINKS_DIALED, ST_CNT_LINKS_ACCEPTED,
	ST_CNT_LINKS_UP, ST_CNT_LINKS_LOST, ST_CNT_LINKS_REFUSED,
	ST_CNT_DIALS_FAILED, ST_CNT_FRAMES_IN, ST_CNT_FRAMES_OUT,
	ST_CNT_FRAMES_BAD, ST_CNT_BYTES_IN, ST_CNT_BYTES_OUT,
	ST_CNT_ANNOUNCE_SENT, ST_CNT_ANNOUNCE_RECEIVED, ST_CNT_ANNOUNCE_BAD,
	/*
	 * Migration: ST_AWAY our processes away now (ST_GUESTS above: guests
	 * hosted now); counters since ommd started: processes that left
	 * (and moved on), guests that arrived, processes brought home,
	 * offers this node refused, processes lost with their host.
	 */
	ST_AWAY, ST_CNT_MIG_OUT, ST_CNT_MIG_IN, ST_CNT_MIG_BROUGHT,
	ST_CNT_MIG_REFUSED, ST_CNT_MIG_LOST,
	ST_ADM_BALANCE,		/* admin: 1 automatic migration on (default) */
	PROTO_ST_NNUM
};

enum proto_status_str {
	STS_NAME, STS_VERSION, STS_LISTEN, STS_LOAD_SOURCE, STS_CPU_MODEL,
	STS_KERNEL,
	STS_CONF_SOCKET, STS_CONF_STATE_DIR, STS_CONF_CA, STS_CONF_CERT,
	STS_CONF_KEY, STS_CONF_CRL, STS_CONF_MAP, STS_CONF_MCAST_GROUP,
	STS_CONF_MCAST_IF,
	PROTO_ST_NSTR
};

#define PROTO_STR_MAX	4096	/* a STATUS_INFO string */

struct msg_status {
	uint64_t	 num[PROTO_ST_NNUM];
	char		*str[PROTO_ST_NSTR];	/* never NULL once decoded */
};

/* One peer link (STATUS): counters of every link to that node so far. */
struct msg_link {
	uint32_t		node;
	char			name[LV_NAME_MAX];	/* "" when not known */
	uint8_t			state;		/* enum proto_link_state */
	uint8_t			dialed;		/* 1: we dialed the current link */
	struct node_addr	addr;		/* dialled or seen */
	int64_t			up_ms;		/* the link up for; -1 not up */
	uint64_t		serial;		/* of the current link, 0 none */
	uint32_t		established;	/* times a link came up */
	uint32_t		lost;		/* up links that broke */
	uint32_t		failed;		/* dials or handshakes that failed */
	uint32_t		refused;	/* refused for its identity */
	uint64_t		frames_in;
	uint64_t		frames_out;
	uint64_t		bytes_in;
	uint64_t		bytes_out;
	char			*error;		/* last failure, NULL none */
};

struct msg_set {
	uint16_t	setting;	/* enum admin_setting */
	uint32_t	value;
};

/* Name of a message type for logs ("MANAGE"), "unknown" if none. */
const char	*proto_type_name(uint16_t type);
/* "running", "stopped", "checkpointing"; "unknown" if out of range. */
const char	*proto_state_name(uint32_t state);
/* "home", "migrating", "remote", "returning"; "invalid" out of range. */
const char	*proto_away_name(uint32_t away);
/*
 * A node as a user names it for MIGRATE: a name, a decimal id or "home",
 * 1 to PROTO_NODE_MAX bytes, no control characters or spaces.
 */
int		 proto_check_node_arg(const char *, char **cause)
		    __attribute__((warn_unused_result));
/* "unknown", "up", "leaving", "down"; "invalid" out of range. */
const char	*proto_node_state_name(uint32_t state);
/* "none", "wait", "connecting", "up"; "invalid" out of range. */
const char	*proto_link_state_name(uint32_t state);
/* Group ("node", ..., "migration") and name of a STATUS field. */
const char	*proto_status_num_name(size_t, const char **group);
const char	*proto_status_str_name(size_t, const char **group);

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
void	proto_encode_migrate(struct buf *, const struct msg_migrate *);
void	proto_encode_migrated(struct buf *, const struct msg_migrated *);
void	proto_encode_bring(struct buf *, const struct msg_bring *);
void	proto_encode_lock(struct buf *, const struct msg_lock *);
void	proto_encode_policy(struct buf *, const struct msg_policy *);
/* NODES, STATUS, EXPEL, LEAVE, JOIN: requests without a payload. */
void	proto_encode_empty(struct buf *, uint16_t type);
void	proto_encode_node(struct buf *, const struct msg_node *);
/* NODES_END, STATUS_END, EXPELLED, BROUGHT. */
void	proto_encode_count(struct buf *, uint16_t type, const struct msg_count *);
void	proto_encode_reloaded(struct buf *, const struct msg_reloaded *);
void	proto_encode_status(struct buf *, const struct msg_status *);
void	proto_encode_link(struct buf *, const struct msg_link *);
void	proto_encode_set(struct buf *, const struct msg_set *);

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
int	proto_decode_migrate(const struct proto_msg *, struct msg_migrate *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_migrated(const struct proto_msg *, struct msg_migrated *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_bring(const struct proto_msg *, struct msg_bring *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_lock(const struct proto_msg *, struct msg_lock *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_policy(const struct proto_msg *, struct msg_policy *,
	    char **cause) __attribute__((warn_unused_result));

int	proto_decode_node(const struct proto_msg *, struct msg_node *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_reloaded(const struct proto_msg *, struct msg_reloaded *,
	    char **cause) __attribute__((warn_unused_result));
void	proto_free_reloaded(struct msg_reloaded *);
const char *proto_reload_status_name(uint8_t);
int	proto_decode_count(const struct proto_msg *, struct msg_count *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_status(const struct proto_msg *, struct msg_status *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_link(const struct proto_msg *, struct msg_link *,
	    char **cause) __attribute__((warn_unused_result));
int	proto_decode_set(const struct proto_msg *, struct msg_set *,
	    char **cause) __attribute__((warn_unused_result));

void	proto_free_error(struct msg_error *);
void	proto_free_status(struct msg_status *);
void	proto_free_link(struct msg_link *);
void	proto_free_checkpointed(struct msg_checkpointed *);
void	proto_free_ps_entry(struct msg_ps_entry *);
void	proto_free_periodic(struct msg_periodic *);
void	proto_free_migrate(struct msg_migrate *);
void	proto_free_migrated(struct msg_migrated *);

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
