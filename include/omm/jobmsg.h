/*
 * jobmsg.h: the messages between ommd and the processes it works through
 * (docs/ARCHITECTURE.md, "ommd and its job supervisors"): a job supervisor
 * (`ommd --job`, jobd.c), one per job, the ptrace tracer of that job's
 * processes; and a guest server (guestd.c), one per guest hosted here.
 *
 * They use the control protocol's framing (proto.h: u16 version | u16 type
 * | u32 length | payload, one SOCK_SEQPACKET datagram each, at most one
 * descriptor) in a block of their own, 100-149, on a socket only root
 * reaches (ommd's internal socket, or the socketpair a supervisor starts
 * with). Both ends may be different builds (an ommd upgraded while its old
 * supervisors run on): HELLO carries JOBMSG_VERSION, and every decoder
 * checks lengths and fields as for any input.
 *
 * A client's request for a process of a job travels to its supervisor whole,
 * inside JM_REQ (with the client's credentials as ommd saw them), and the
 * supervisor's answer comes back whole inside JM_REP, for ommd to hand to
 * the client as it is: the process-control messages keep their one codec,
 * proto.c's.
 */
#ifndef OMM_JOBMSG_H
#define OMM_JOBMSG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/loadvec.h"
#include "omm/proto.h"

#define JOBMSG_VERSION		1
/* A message carried inside REQ or REP, header included. */
#define JM_EMBED_MAX		(PROTO_MSG_MAX - 256)
#define JM_COMM_MAX		16

enum jobmsg_type {
	JM_HELLO = 100,		/* supervisor -> ommd: which job, which version */
	JM_WELCOME = 101,	/* ommd -> supervisor: this node */
	JM_REQ = 102,		/* ommd -> supervisor: a client's request (+fd) */
	JM_REP = 103,		/* supervisor -> ommd: its answer */
	JM_MIGRATE = 104,	/* ommd -> supervisor: move a process */
	JM_PROC = 105,		/* supervisor -> ommd: one process as it is now */
	JM_GONE = 106,		/* supervisor -> ommd: a process is no more */
	JM_EVENT = 107,		/* supervisor -> ommd: how a move ended */
	JM_BRING_ALL = 108,	/* ommd -> supervisor: every process home */
	JM_RELOAD = 109,	/* ommd -> supervisor: read the TLS files again */
	JM_GUEST = 110,		/* guest server -> ommd: a guest hosted here */
	JM_GUEST_CTL = 111,	/* ommd -> guest server: send it home */
};

/* HELLO: the first message of a supervisor on a (new) connection. */
struct jm_hello {
	uint32_t	version;	/* JOBMSG_VERSION */
	uint32_t	job;		/* > 0 */
	int32_t		pid;		/* the supervisor's */
	uint32_t	owner;		/* uid of the job's owner */
};

/* WELCOME: who we are; the supervisor then sends every process (PROC). */
struct jm_welcome {
	uint32_t	self;		/* this node's id, 0: alone */
	uint64_t	incarnation;
	char		name[LV_NAME_MAX];
};

/* REQ and REP: a control message, whole, and who asked. */
struct jm_req {
	uint64_t	 reqid;		/* > 0, echoed by REP */
	uint32_t	 uid, gid;	/* the client's, SO_PEERCRED */
	int32_t		 pid;
	const uint8_t	*msg;		/* borrowed: a whole control message */
	size_t		 len;
};

struct jm_rep {
	uint64_t	 reqid;
	const uint8_t	*msg;
	size_t		 len;
};

/* MIGRATE flags */
#define JM_MIG_MANUAL		0x01	/* asked by a user: the balancer leaves it a while */
#define JM_MIG_AFTER_EXEC	0x02	/* at its next execve (omrun --on) */
#define JM_MIG_FLAGS		0x03

/*
 * MIGRATE: move pid to node (0: home), whose migration port is ipv4:port
 * (network order; 0 for home). reqid 0: nobody waits (the balancer).
 */
struct jm_migrate {
	uint64_t	reqid;
	/*
	 * Who asked, as SO_PEERCRED said: the supervisor applies the ptrace
	 * attach rule for them (access.c). rpid 0: ommd itself (the
	 * balancer), which acts on any process that gained no privileges.
	 */
	uint32_t	uid, gid;
	int32_t		rpid;
	int32_t		pid;
	uint32_t	node;
	uint32_t	ipv4;
	uint16_t	port;
	uint32_t	flags;		/* JM_MIG_* */
	char		name[LV_NAME_MAX];
};

/*
 * PROC: what ps shows of a process (ps, a PS_ENTRY, whole) and what the
 * balancer weighs. resident_ms: how long it has been where it is (< 0:
 * placed by hand, held there that much longer). moving: on its way
 * somewhere (leave it alone). The usage is its host's report when away.
 */
struct jm_proc {
	struct msg_ps_entry	ps;
	uint8_t			stay;
	uint8_t			moving;
	uint32_t		nallowed;
	uint32_t		allowed[PROTO_POLICY_MAX_NODES];
	int64_t			resident_ms;
	int64_t			hold_s;		/* cantmove_until - now, 0 none */
	uint64_t		cpu_ns;		/* away: on its host */
	uint64_t		rss;
	uint32_t		host_cpus_milli;
	uint32_t		host_load;
};

struct jm_gone {
	int32_t		pid;
};

/* How a move ended, for ommd's counters and balancer. */
enum jm_event_kind {
	JM_EV_OUT = 1,		/* it runs on node now (left home or moved on) */
	JM_EV_BROUGHT,		/* it came home from node */
	JM_EV_REFUSED,		/* node refused it, or the move failed */
	JM_EV_LOST,		/* it was lost with node */
	JM_EV_NKINDS
};

struct jm_event {
	uint32_t	kind;		/* enum jm_event_kind */
	uint32_t	node;
	int32_t		pid;
};

/* BRING_ALL: the processes of uid (0: all) home; REP carries BROUGHT. */
struct jm_bring_all {
	uint64_t	reqid;
	uint32_t	uid, gid;	/* the requester, as in jm_migrate */
	int32_t		rpid;		/* 0: ommd itself (leave, admin) */
};

/* GUEST: a guest server tells ommd (again, after a restart) what it hosts. */
struct jm_guest {
	int32_t		pid;		/* the guest's, here */
	int32_t		server;		/* the guest server's */
	uint32_t	home;		/* its home node */
	int32_t		home_pid;
	uint32_t	uid;		/* its owner at home */
	char		comm[JM_COMM_MAX];
};

/* GUEST_CTL: what ommd asks of a guest server. */
enum jm_guest_ctl_what {
	JM_GUEST_HOME = 1,	/* send it home (expel, leave) */
	JM_GUEST_MEMORY,	/* short of memory here: send it home */
	JM_GUEST_NCTL
};

struct jm_guest_ctl {
	uint32_t	what;		/* enum jm_guest_ctl_what */
};

/* Name of a type of the block, "unknown" else. */
const char	*jobmsg_type_name(uint16_t);
/* The type is of the block and carries a descriptor exactly when it may. */
int		 jobmsg_check_type(const struct proto_msg *, char **cause)
		    __attribute__((warn_unused_result));

/* Encoders: one whole message appended to an empty buf. */
void	jobmsg_encode_hello(struct buf *, const struct jm_hello *);
void	jobmsg_encode_welcome(struct buf *, const struct jm_welcome *);
void	jobmsg_encode_req(struct buf *, const struct jm_req *);
void	jobmsg_encode_rep(struct buf *, const struct jm_rep *);
void	jobmsg_encode_migrate(struct buf *, const struct jm_migrate *);
void	jobmsg_encode_proc(struct buf *, const struct jm_proc *);
void	jobmsg_encode_gone(struct buf *, const struct jm_gone *);
void	jobmsg_encode_event(struct buf *, const struct jm_event *);
void	jobmsg_encode_bring_all(struct buf *, const struct jm_bring_all *);
void	jobmsg_encode_reload(struct buf *);
void	jobmsg_encode_guest(struct buf *, const struct jm_guest *);
void	jobmsg_encode_guest_ctl(struct buf *, const struct jm_guest_ctl *);

/*
 * Decoders: a message of their type (its payload checked whole). REQ and
 * REP point into the message, and check the message they carry is one
 * control message (proto_hdr_decode); what it says is the receiver's to
 * decode. A decoded PROC holds heap strings: jobmsg_free_proc.
 */
int	jobmsg_decode_hello(const struct proto_msg *, struct jm_hello *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_welcome(const struct proto_msg *, struct jm_welcome *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_req(const struct proto_msg *, struct jm_req *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_rep(const struct proto_msg *, struct jm_rep *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_migrate(const struct proto_msg *, struct jm_migrate *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_proc(const struct proto_msg *, struct jm_proc *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_gone(const struct proto_msg *, struct jm_gone *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_event(const struct proto_msg *, struct jm_event *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_bring_all(const struct proto_msg *, struct jm_bring_all *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_reload(const struct proto_msg *, char **cause)
	    __attribute__((warn_unused_result));
int	jobmsg_decode_guest(const struct proto_msg *, struct jm_guest *,
	    char **cause) __attribute__((warn_unused_result));
int	jobmsg_decode_guest_ctl(const struct proto_msg *, struct jm_guest_ctl *,
	    char **cause) __attribute__((warn_unused_result));
void	jobmsg_free_proc(struct jm_proc *);

/* Decode any message of the block into a scratch struct: 0 if valid. */
int	jobmsg_validate(const struct proto_msg *, char **cause)
	    __attribute__((warn_unused_result));

#endif
