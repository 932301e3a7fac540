/* proto.c: control protocol messages, their encoders, decoders and transport. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/fdpass.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#define STATS_LEN	56	/* 6 x u64 + 2 x u32, see proto_add_stats */
/* comm is 15 bytes today; PROTO_COMM_MAX leaves room for a longer name */
#define COMM_MAX	PROTO_COMM_MAX
#define MIGRATED_LEN_MIN 40	/* pid, node, two empty strings, 3 x u64 */

static int	valid_empty(const struct proto_msg *, char **);
static int	valid_error(const struct proto_msg *, char **);
static int	valid_pid(const struct proto_msg *, char **);
static int	valid_restored(const struct proto_msg *, char **);
static int	valid_checkpoint(const struct proto_msg *, char **);
static int	valid_checkpointed(const struct proto_msg *, char **);
static int	valid_ps_entry(const struct proto_msg *, char **);
static int	valid_ps_end(const struct proto_msg *, char **);
static int	valid_periodic(const struct proto_msg *, char **);
static int	valid_migrate(const struct proto_msg *, char **);
static int	valid_migrated(const struct proto_msg *, char **);
static int	valid_bring(const struct proto_msg *, char **);
static int	valid_lock(const struct proto_msg *, char **);
static int	valid_policy(const struct proto_msg *, char **);
static int	valid_node(const struct proto_msg *, char **);
static int	valid_count(const struct proto_msg *, char **);
static int	valid_status(const struct proto_msg *, char **);
static int	valid_link(const struct proto_msg *, char **);
static int	valid_set(const struct proto_msg *, char **);
static int	valid_reloaded(const struct proto_msg *, char **);

/*
 * Every message type. has_fd: the message carries exactly one descriptor
 * (the image to read or write); all others carry none. valid: decodes the
 * payload into a scratch struct and frees it, for proto_validate.
 */
static const struct proto_type_ent {
	uint16_t	 type;
	const char	*name;
	int		 has_fd;
	int		(*valid)(const struct proto_msg *, char **);
} proto_types[] = {
	{ MSG_OK,		"OK",		0, valid_empty },
	{ MSG_ERROR,		"ERROR",	0, valid_error },
	{ MSG_MANAGE,		"MANAGE",	0, valid_pid },
	{ MSG_RESTORE,		"RESTORE",	1, valid_pid },
	{ MSG_RESTORED,		"RESTORED",	0, valid_restored },
	{ MSG_CHECKPOINT,	"CHECKPOINT",	1, valid_checkpoint },
	{ MSG_CHECKPOINTED,	"CHECKPOINTED",	0, valid_checkpointed },
	{ MSG_PS,		"PS",		0, valid_empty },
	{ MSG_PS_ENTRY,		"PS_ENTRY",	0, valid_ps_entry },
	{ MSG_PS_END,		"PS_END",	0, valid_ps_end },
	{ MSG_PERIODIC,		"PERIODIC",	0, valid_periodic },
	{ MSG_MIGRATE,		"MIGRATE",	0, valid_migrate },
	{ MSG_MIGRATED,		"MIGRATED",	0, valid_migrated },
	{ MSG_BRING,		"BRING",	0, valid_bring },
	{ MSG_BROUGHT,		"BROUGHT",	0, valid_count },
	{ MSG_LOCK,		"LOCK",		0, valid_lock },
	{ MSG_POLICY,		"POLICY",	0, valid_policy },
	{ MSG_NODES,		"NODES",	0, valid_empty },
	{ MSG_NODE,		"NODE",		0, valid_node },
	{ MSG_NODES_END,	"NODES_END",	0, valid_count },
	{ MSG_STATUS,		"STATUS",	0, valid_empty },
	{ MSG_STATUS_INFO,	"STATUS_INFO",	0, valid_status },
	{ MSG_LINK,		"LINK",		0, valid_link },
	{ MSG_STATUS_END,	"STATUS_END",	0, valid_count },
	{ MSG_SET,		"SET",		0, valid_set },
	{ MSG_EXPEL,		"EXPEL",	0, valid_empty },
	{ MSG_EXPELLED,		"EXPELLED",	0, valid_count },
	{ MSG_LEAVE,		"LEAVE",	0, valid_empty },
	{ MSG_JOIN,		"JOIN",		0, valid_empty },
	{ MSG_RELOAD,		"RELOAD",	0, valid_empty },
	{ MSG_RELOADED,		"RELOADED",	0, valid_reloaded },
};
#define NTYPES	(sizeof proto_types / sizeof proto_types[0])

static const char *proto_states[PROTO_NSTATES] = {
	[PROTO_STATE_RUNNING] = "running",
	[PROTO_STATE_STOPPED] = "stopped",
	[PROTO_STATE_CHECKPOINTING] = "checkpointing",
};

static const char *proto_aways[PROTO_AWAY_NSTATES] = {
	[PROTO_AWAY_HOME] = "home",
	[PROTO_AWAY_MIGRATING] = "migrating",
	[PROTO_AWAY_REMOTE] = "remote",
	[PROTO_AWAY_RETURNING] = "returning",
};

static const char *proto_node_states[PROTO_NODE_NSTATES] = {
	[PROTO_NODE_UNKNOWN] = "unknown",
	[PROTO_NODE_UP] = "up",
	[PROTO_NODE_LEAVING] = "leaving",
	[PROTO_NODE_DOWN] = "down",
	[PROTO_NODE_REVOKED] = "revoked",
};

static const char *proto_link_states[PROTO_LINK_NSTATES] = {
	[PROTO_LINK_NONE] = "none",
	[PROTO_LINK_WAIT] = "wait",
	[PROTO_LINK_CONNECTING] = "connecting",
	[PROTO_LINK_UP] = "up",
};

/*
 * STATUS_INFO's fields: group and name of each index of enum
 * proto_status_num and enum proto_status_str, in that order. These names
 * are the JSON keys of omctl status --json (docs/json-status.md).
 */
struct proto_field {
	const char	*group;
	const char	*name;
};

static const struct proto_field proto_st_nums[PROTO_ST_NNUM] = {
	[ST_NODE_ID] =			{ "node", "id" },
	[ST_INCARNATION] =		{ "node", "incarnation" },
	[ST_PID] =			{ "node", "pid" },
	[ST_UPTIME_MS] =		{ "node", "uptime_ms" },
	[ST_FABRIC] =			{ "node", "fabric" },
	[ST_NCPU] =			{ "node", "ncpu" },
	[ST_SPEED] =			{ "node", "speed" },
	[ST_SPEED_MEASURED] =		{ "node", "speed_measured" },
	[ST_LOAD] =			{ "node", "load" },
	[ST_MEM_TOTAL] =		{ "node", "mem_total_kib" },
	[ST_MEM_FREE] =			{ "node", "mem_free_kib" },
	[ST_GUESTS] =			{ "node", "guests" },
	[ST_PROCESSES] =		{ "node", "processes" },
	[ST_FLAGS] =			{ "node", "flags" },
	[ST_NODES_KNOWN] =		{ "node", "nodes_known" },
	[ST_NODES_UP] =			{ "node", "nodes_up" },
	[ST_CONF_GOSSIP_MIN_MS] =	{ "config", "gossip_min_ms" },
	[ST_CONF_GOSSIP_MAX_MS] =	{ "config", "gossip_max_ms" },
	[ST_CONF_DEAD_AFTER_MS] =	{ "config", "dead_after_ms" },
	[ST_CONF_WINDOW] =		{ "config", "window" },
	[ST_CONF_DISCOVERY] =		{ "config", "discovery" },
	[ST_CONF_SPEED] =		{ "config", "speed" },
	[ST_CONF_MAP_NODES] =		{ "config", "map_nodes" },
	[ST_ADM_SPEED] =		{ "admin", "speed" },
	[ST_ADM_BLOCK] =		{ "admin", "block" },
	[ST_ADM_STAY] =			{ "admin", "stay" },
	[ST_ADM_LSTAY] =		{ "admin", "lstay" },
	[ST_ADM_QUIET] =		{ "admin", "quiet" },
	[ST_ADM_LOADLIMIT] =		{ "admin", "loadlimit" },
	[ST_ADM_LEFT] =			{ "admin", "left" },
	[ST_CNT_GOSSIP_TICKS] =		{ "counters", "gossip_ticks" },
	[ST_CNT_GOSSIP_SENT] =		{ "counters", "gossip_sent" },
	[ST_CNT_GOSSIP_REPLIES] =	{ "counters", "gossip_replies" },
	[ST_CNT_GOSSIP_RECEIVED] =	{ "counters", "gossip_received" },
	[ST_CNT_GOSSIP_ENTRIES] =	{ "counters", "gossip_entries" },
	[ST_CNT_GOSSIP_FRESH] =		{ "counters", "gossip_fresh" },
	[ST_CNT_GOSSIP_STALE] =		{ "counters", "gossip_stale" },
	[ST_CNT_LINKS_DIALED] =		{ "counters", "links_dialed" },
	[ST_CNT_LINKS_ACCEPTED] =	{ "counters", "links_accepted" },
	[ST_CNT_LINKS_UP] =		{ "counters", "links_up" },
	[ST_CNT_LINKS_LOST] =		{ "counters", "links_lost" },
	[ST_CNT_LINKS_REFUSED] =	{ "counters", "links_refused" },
	[ST_CNT_DIALS_FAILED] =		{ "counters", "dials_failed" },
	[ST_CNT_FRAMES_IN] =		{ "counters", "frames_in" },
	[ST_CNT_FRAMES_OUT] =		{ "counters", "frames_out" },
	[ST_CNT_FRAMES_BAD] =		{ "counters", "frames_bad" },
	[ST_CNT_BYTES_IN] =		{ "counters", "bytes_in" },
	[ST_CNT_BYTES_OUT] =		{ "counters", "bytes_out" },
	[ST_CNT_ANNOUNCE_SENT] =	{ "counters", "announce_sent" },
	[ST_CNT_ANNOUNCE_RECEIVED] =	{ "counters", "announce_received" },
	[ST_CNT_ANNOUNCE_BAD] =		{ "counters", "announce_bad" },
	[ST_AWAY] =			{ "node", "away" },
	[ST_CNT_MIG_OUT] =		{ "migration", "out" },
	[ST_CNT_MIG_IN] =		{ "migration", "in" },
	[ST_CNT_MIG_BROUGHT] =		{ "migration", "brought" },
	[ST_CNT_MIG_REFUSED] =		{ "migration", "refused" },
	[ST_CNT_MIG_LOST] =		{ "migration", "lost" },
	[ST_ADM_BALANCE] =		{ "admin", "balance" },
};

static const struct proto_field proto_st_strs[PROTO_ST_NSTR] = {
	[STS_NAME] =			{ "node", "name" },
	[STS_VERSION] =			{ "node", "version" },
	[STS_LISTEN] =			{ "node", "listen" },
	[STS_LOAD_SOURCE] =		{ "node", "load_source" },
	[STS_CPU_MODEL] =		{ "node", "cpu_model" },
	[STS_KERNEL] =			{ "node", "kernel" },
	[STS_CONF_SOCKET] =		{ "config", "socket" },
	[STS_CONF_STATE_DIR] =		{ "config", "state_dir" },
	[STS_CONF_CA] =			{ "config", "ca" },
	[STS_CONF_CERT] =		{ "config", "cert" },
	[STS_CONF_KEY] =		{ "config", "key" },
	[STS_CONF_CRL] =		{ "config", "crl" },
	[STS_CONF_MAP] =		{ "config", "map" },
	[STS_CONF_MCAST_GROUP] =	{ "config", "mcast_group" },
	[STS_CONF_MCAST_IF] =		{ "config", "mcast_if" },
};

static const struct proto_type_ent *
type_find(uint16_t type)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++) {
		if (proto_types[i].type == type)
			return &proto_types[i];
	}
	return NULL;
}

const char *
proto_type_name(uint16_t type)
{
	const struct proto_type_ent	*t = type_find(type);

	return t == NULL ? "unknown" : t->name;
}

const char *
proto_state_name(uint32_t state)
{
	if (state >= PROTO_NSTATES)
		return "unknown";
	return proto_states[state];
}

const char *
proto_away_name(uint32_t away)
{
	if (away >= PROTO_AWAY_NSTATES)
		return "invalid";
	return proto_aways[away];
}

/*
 * The node argument is echoed in replies and logs and matched against the
 * names in certificates: anything that could not be a node's name (as
 * ca_valid_name has them, which covers ids and "home") is refused here,
 * before it can garble a message, and never echoed.
 */
int
proto_check_node_arg(const char *s, char **cause)
{
	size_t	n = strnlen(s, PROTO_NODE_MAX + 1), i;

	if (n == 0)
		return cause_set(cause, "empty node name");
	if (n > PROTO_NODE_MAX)
		return cause_set(cause, "node name longer than %d bytes",
		    PROTO_NODE_MAX);
	for (i = 0; i < n; i++) {
		if ((s[i] < 'a' || s[i] > 'z') && (s[i] < 'A' || s[i] > 'Z') &&
		    (s[i] < '0' || s[i] > '9') && s[i] != '-')
			return cause_set(cause, "invalid node name: a node is "
			    "a name (letters, digits, '-'), an id or home");
	}
	return 0;
}

const char *
proto_node_state_name(uint32_t state)
{
	if (state >= PROTO_NODE_NSTATES || proto_node_states[state] == NULL)
		return "invalid";
	return proto_node_states[state];
}

const char *
proto_link_state_name(uint32_t state)
{
	if (state >= PROTO_LINK_NSTATES)
		return "invalid";
	return proto_link_states[state];
}

const char *
proto_status_num_name(size_t i, const char **group)
{
	if (i >= PROTO_ST_NNUM)
		fatalx("%s: field %zu", __func__, i);
	if (group != NULL)
		*group = proto_st_nums[i].group;
	return proto_st_nums[i].name;
}

const char *
proto_status_str_name(size_t i, const char **group)
{
	if (i >= PROTO_ST_NSTR)
		fatalx("%s: field %zu", __func__, i);
	if (group != NULL)
		*group = proto_st_strs[i].group;
	return proto_st_strs[i].name;
}

int
proto_hdr_decode(struct proto_msg *m, const void *p, size_t n, char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	m->fd = -1;
	if (n < PROTO_HDR_LEN)
		return cause_set(cause, "short message: %zu bytes", n);
	if (n > PROTO_MSG_MAX)
		return cause_set(cause, "message of %zu bytes, at most %u",
		    n, PROTO_MSG_MAX);
	buf_rd_init(&r, p, n);
	m->hdr.version = buf_rd_u16(&r);
	m->hdr.type = buf_rd_u16(&r);
	m->hdr.len = buf_rd_u32(&r);
	if (m->hdr.len != n - PROTO_HDR_LEN)
		return cause_set(cause, "header says %u payload bytes, "
		    "message has %zu", m->hdr.len, n - PROTO_HDR_LEN);
	m->payload = (const uint8_t *)p + PROTO_HDR_LEN;
	return 0;
}

int
proto_check_version(const struct proto_hdr *h, const char *self, char **cause)
{
	if (h->version != OMM_PROTO_VERSION)
		return cause_set(cause, "protocol version %u, %s speaks %u",
		    h->version, self, OMM_PROTO_VERSION);
	return 0;
}

int
proto_check_type(const struct proto_msg *m, char **cause)
{
	const struct proto_type_ent	*t = type_find(m->hdr.type);

	if (t == NULL)
		return cause_set(cause, "unknown message type %u", m->hdr.type);
	if (t->has_fd && m->fd == -1)
		return cause_set(cause, "%s without a file descriptor", t->name);
	if (!t->has_fd && m->fd != -1)
		return cause_set(cause, "%s with a stray file descriptor",
		    t->name);
	return 0;
}

int
proto_validate(const struct proto_msg *m, char **cause)
{
	if (proto_check_version(&m->hdr, "omm", cause) != 0)
		return -1;
	if (proto_check_type(m, cause) != 0)
		return -1;
	return type_find(m->hdr.type)->valid(m, cause);
}

/* Start a message: the header with a length patched by msg_end. */
static void
msg_begin(struct buf *b, uint16_t type)
{
	if (b->len != 0)
		fatalx("%s: buffer not empty", __func__);
	buf_add_u16(b, OMM_PROTO_VERSION);
	buf_add_u16(b, type);
	buf_add_u32(b, 0);
}

/* An encoder over the cap is a bug of ours, not input: fail hard. */
static void
msg_end(struct buf *b)
{
	if (b->len > PROTO_MSG_MAX)
		fatalx("%s: %s message of %zu bytes", __func__,
		    proto_type_name(le32dec(b->data) >> 16), b->len);
	buf_put_u32(b, 4, (uint32_t)(b->len - PROTO_HDR_LEN));
}

/* Strings longer than their cap are cut, so a long command never breaks PS. */
static void
add_str_capped(struct buf *b, const char *s, size_t max)
{
	size_t	n = s == NULL ? 0 : strnlen(s, max);

	buf_add_u32(b, (uint32_t)n);
	buf_add(b, s, n);
}

static uint64_t
secs_to_ns(double s)
{
	if (!(s > 0))		/* negative or NaN */
		return 0;
	if (s > 1e9)
		return (uint64_t)1e18;
	return (uint64_t)(s * 1e9);
}

void
proto_add_stats(struct buf *b, const struct ckpt_stats *st)
{
	buf_add_u64(b, st->vmas);
	buf_add_u64(b, st->pages);
	buf_add_u64(b, st->zero_pages);
	buf_add_u64(b, st->bytes);
	buf_add_u64(b, secs_to_ns(st->freeze_secs));
	buf_add_u64(b, secs_to_ns(st->secs));
	buf_add_u32(b, st->exited ? 1 : 0);
	buf_add_u32(b, (uint32_t)st->wstatus);
}

void
proto_rd_stats(struct buf_rd *r, struct ckpt_stats *st)
{
	memset(st, 0, sizeof *st);
	st->vmas = buf_rd_u64(r);
	st->pages = buf_rd_u64(r);
	st->zero_pages = buf_rd_u64(r);
	st->bytes = buf_rd_u64(r);
	st->freeze_secs = buf_rd_u64(r) / 1e9;
	st->secs = buf_rd_u64(r) / 1e9;
	st->exited = buf_rd_u32(r) != 0;
	st->wstatus = (int)buf_rd_u32(r);
}

void
proto_encode_ok(struct buf *b)
{
	msg_begin(b, MSG_OK);
	msg_end(b);
}

void
proto_encode_error(struct buf *b, const char *cause)
{
	msg_begin(b, MSG_ERROR);
	add_str_capped(b, cause == NULL || *cause == '\0' ? "unknown error" :
	    cause, PROTO_CAUSE_MAX);
	msg_end(b);
}

void
proto_encode_manage(struct buf *b, const struct msg_pid *m)
{
	msg_begin(b, MSG_MANAGE);
	buf_add_u32(b, (uint32_t)m->pid);
	msg_end(b);
}

void
proto_encode_restore(struct buf *b, const struct msg_pid *m)
{
	msg_begin(b, MSG_RESTORE);
	buf_add_u32(b, (uint32_t)m->pid);
	msg_end(b);
}

void
proto_encode_restored(struct buf *b, const struct msg_restored *m)
{
	msg_begin(b, MSG_RESTORED);
	buf_add_u32(b, (uint32_t)m->pid);
	proto_add_stats(b, &m->stats);
	msg_end(b);
}

void
proto_encode_checkpoint(struct buf *b, const struct msg_checkpoint *m)
{
	msg_begin(b, MSG_CHECKPOINT);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->flags);
	msg_end(b);
}

void
proto_encode_checkpointed(struct buf *b, const struct msg_checkpointed *m)
{
	msg_begin(b, MSG_CHECKPOINTED);
	buf_add_u32(b, (uint32_t)m->pid);
	add_str_capped(b, m->comm, COMM_MAX);
	proto_add_stats(b, &m->stats);
	msg_end(b);
}

void
proto_encode_ps(struct buf *b)
{
	msg_begin(b, MSG_PS);
	msg_end(b);
}

void
proto_encode_ps_entry(struct buf *b, const struct msg_ps_entry *m)
{
	msg_begin(b, MSG_PS_ENTRY);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, (uint32_t)m->ppid);
	buf_add_u32(b, m->uid);
	buf_add_u32(b, m->job);
	buf_add_u32(b, m->state);
	buf_add_u32(b, m->threads);
	buf_add_u64(b, (uint64_t)m->start_time);
	add_str_capped(b, m->command, PROTO_CMD_MAX);
	buf_add_u8(b, m->cantmove != NULL);
	if (m->cantmove != NULL)
		add_str_capped(b, m->cantmove, PROTO_CAUSE_MAX);
	buf_add_u32(b, m->home_node);
	buf_add_u32(b, m->where);
	buf_add_u8(b, m->where_name != NULL);
	if (m->where_name != NULL)
		add_str_capped(b, m->where_name, PROTO_NODE_MAX);
	buf_add_u32(b, m->migrations);
	buf_add_u8(b, m->locked);
	buf_add_u8(b, m->away);
	buf_add_u64(b, m->fwd_calls);
	buf_add_u64(b, m->fwd_errors);
	buf_add_u64(b, m->fwd_bytes_in);
	buf_add_u64(b, m->fwd_bytes_out);
	buf_add_u64(b, m->fwd_signals);
	buf_add_u32(b, m->ckpt_every);
	buf_add_u64(b, (uint64_t)m->ckpt_last);
	buf_add_u8(b, m->ckpt_error != NULL);
	if (m->ckpt_error != NULL)
		add_str_capped(b, m->ckpt_error, PROTO_CAUSE_MAX);
	msg_end(b);
}

void
proto_encode_ps_end(struct buf *b, const struct msg_ps_end *m)
{
	msg_begin(b, MSG_PS_END);
	buf_add_u32(b, m->count);
	msg_end(b);
}

void
proto_encode_periodic(struct buf *b, const struct msg_periodic *m)
{
	msg_begin(b, MSG_PERIODIC);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->seconds);
	add_str_capped(b, m->path, PROTO_PATH_MAX);
	msg_end(b);
}

void
proto_encode_migrate(struct buf *b, const struct msg_migrate *m)
{
	msg_begin(b, MSG_MIGRATE);
	buf_add_u32(b, (uint32_t)m->pid);
	add_str_capped(b, m->node, PROTO_NODE_MAX);
	buf_add_u32(b, m->flags);
	msg_end(b);
}

void
proto_encode_migrated(struct buf *b, const struct msg_migrated *m)
{
	msg_begin(b, MSG_MIGRATED);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->node);
	add_str_capped(b, m->node_name, PROTO_NODE_MAX);
	add_str_capped(b, m->comm, COMM_MAX);
	buf_add_u64(b, secs_to_ns(m->freeze_secs));
	buf_add_u64(b, m->bytes);
	buf_add_u64(b, secs_to_ns(m->secs));
	msg_end(b);
}

void
proto_encode_bring(struct buf *b, const struct msg_bring *m)
{
	msg_begin(b, MSG_BRING);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->flags);
	msg_end(b);
}

void
proto_encode_lock(struct buf *b, const struct msg_lock *m)
{
	msg_begin(b, MSG_LOCK);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->on);
	msg_end(b);
}

/* A list over the cap is the caller's bug: the decoder would refuse it. */
void
proto_encode_policy(struct buf *b, const struct msg_policy *m)
{
	uint32_t	i;

	if (m->nnodes > PROTO_POLICY_MAX_NODES)
		fatalx("%s: %u nodes", __func__, m->nnodes);
	msg_begin(b, MSG_POLICY);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->flags);
	buf_add_u32(b, m->nnodes);
	for (i = 0; i < m->nnodes; i++)
		buf_add_u32(b, m->nodes[i]);
	msg_end(b);
}

void
proto_encode_empty(struct buf *b, uint16_t type)
{
	const struct proto_type_ent	*t = type_find(type);

	if (t == NULL || t->valid != valid_empty)
		fatalx("%s: %s carries a payload", __func__,
		    proto_type_name(type));
	msg_begin(b, type);
	msg_end(b);
}

static void
add_addr(struct buf *b, const struct node_addr *a)
{
	buf_add_u8(b, a->family);
	buf_add(b, a->addr, sizeof a->addr);
	buf_add_u16(b, a->port);
}

void
proto_encode_node(struct buf *b, const struct msg_node *m)
{
	const struct loadvec	*lv = &m->lv;
	size_t			 i;

	msg_begin(b, MSG_NODE);
	buf_add_u32(b, m->node);
	buf_add_u8(b, m->self);
	buf_add_u8(b, m->state);
	buf_add_u8(b, m->link);
	buf_add_u8(b, m->has_lv);
	buf_add_u16(b, m->bye);
	buf_add_u64(b, m->incarnation);
	buf_add_u64(b, (uint64_t)m->age_ms);
	add_str_capped(b, m->name, LV_NAME_MAX - 1);
	add_addr(b, &m->addr);
	buf_add_u32(b, lv->ncpu);
	buf_add_u32(b, lv->speed);
	buf_add_u32(b, lv->load);
	buf_add_u64(b, lv->mem_total);
	buf_add_u64(b, lv->mem_free);
	buf_add_u32(b, lv->guests);
	buf_add_u32(b, lv->flags);
	buf_add_u8(b, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		buf_add_u32(b, lv->cpu.word[i]);
	buf_add_u64(b, lv->cpu.xcr0);
	buf_add_u32(b, lv->cpu.xsave_size);
	add_str_capped(b, lv->cpu.model, sizeof lv->cpu.model - 1);
	add_str_capped(b, lv->kernel, LV_KERNEL_MAX - 1);
	msg_end(b);
}

void
proto_encode_count(struct buf *b, uint16_t type, const struct msg_count *m)
{
	if (type != MSG_NODES_END && type != MSG_STATUS_END &&
	    type != MSG_EXPELLED && type != MSG_BROUGHT)
		fatalx("%s: %s", __func__, proto_type_name(type));
	msg_begin(b, type);
	buf_add_u32(b, m->count);
	msg_end(b);
}

void
proto_encode_status(struct buf *b, const struct msg_status *m)
{
	size_t	i;

	msg_begin(b, MSG_STATUS_INFO);
	buf_add_u16(b, PROTO_ST_NNUM);
	for (i = 0; i < PROTO_ST_NNUM; i++)
		buf_add_u64(b, m->num[i]);
	buf_add_u16(b, PROTO_ST_NSTR);
	for (i = 0; i < PROTO_ST_NSTR; i++)
		add_str_capped(b, m->str[i], PROTO_STR_MAX);
	msg_end(b);
}

void
proto_encode_link(struct buf *b, const struct msg_link *m)
{
	msg_begin(b, MSG_LINK);
	buf_add_u32(b, m->node);
	add_str_capped(b, m->name, LV_NAME_MAX - 1);
	buf_add_u8(b, m->state);
	buf_add_u8(b, m->dialed);
	add_addr(b, &m->addr);
	buf_add_u64(b, (uint64_t)m->up_ms);
	buf_add_u64(b, m->serial);
	buf_add_u32(b, m->established);
	buf_add_u32(b, m->lost);
	buf_add_u32(b, m->failed);
	buf_add_u32(b, m->refused);
	buf_add_u64(b, m->frames_in);
	buf_add_u64(b, m->frames_out);
	buf_add_u64(b, m->bytes_in);
	buf_add_u64(b, m->bytes_out);
	buf_add_u8(b, m->error != NULL);
	if (m->error != NULL)
		add_str_capped(b, m->error, PROTO_CAUSE_MAX);
	msg_end(b);
}

void
proto_encode_set(struct buf *b, const struct msg_set *m)
{
	msg_begin(b, MSG_SET);
	buf_add_u16(b, m->setting);
	buf_add_u32(b, m->value);
	msg_end(b);
}

/* Check that the message is of the type the decoder was called for. */
static int
rd_begin(struct buf_rd *r, const struct proto_msg *m, uint16_t type,
    char **cause)
{
	if (m->hdr.type != type)
		return cause_set(cause, "%s decoder given a %s message",
		    proto_type_name(type), proto_type_name(m->hdr.type));
	buf_rd_init(r, m->payload, m->hdr.len);
	return 0;
}

/* For fixed-size payloads: the length is checked before anything is read. */
static int
rd_begin_fixed(struct buf_rd *r, const struct proto_msg *m, uint16_t type,
    size_t len, char **cause)
{
	if (rd_begin(r, m, type, cause) != 0)
		return -1;
	if (m->hdr.len != len)
		return cause_set(cause, "%s: payload of %u bytes, expected %zu",
		    proto_type_name(type), m->hdr.len, len);
	return 0;
}

/* After a run of reads: nothing short, nothing left over. */
static int
rd_end(struct buf_rd *r, uint16_t type, char **cause)
{
	if (r->err)
		return cause_set(cause, "%s: payload of %zu bytes is truncated",
		    proto_type_name(type), r->len);
	if (buf_rd_left(r) != 0)
		return cause_set(cause, "%s: %zu trailing bytes",
		    proto_type_name(type), buf_rd_left(r));
	return 0;
}

/*
 * A length-prefixed string of at most max bytes with no NUL inside (empty
 * refused when !empty_ok). The length is looked at before the bytes so the
 * cause can say what was wrong.
 */
static char *
rd_str(struct buf_rd *r, uint16_t type, const char *what, size_t max,
    int empty_ok, char **cause)
{
	uint32_t	 n;
	char		*s;

	if (r->err || buf_rd_left(r) < 4) {
		r->err = 1;
		cause_set(cause, "%s: %s is truncated", proto_type_name(type),
		    what);
		return NULL;
	}
	n = le32dec(r->p + r->off);
	if (n > max) {
		cause_set(cause, "%s: %s of %u bytes, at most %zu",
		    proto_type_name(type), what, n, max);
		return NULL;
	}
	if (n == 0 && !empty_ok) {
		cause_set(cause, "%s: empty %s", proto_type_name(type), what);
		return NULL;
	}
	if (n > buf_rd_left(r) - 4) {
		cause_set(cause, "%s: %s of %u bytes is truncated",
		    proto_type_name(type), what, n);
		return NULL;
	}
	if ((s = buf_rd_str(r, max)) == NULL)
		cause_set(cause, "%s: %s holds a NUL byte",
		    proto_type_name(type), what);
	return s;
}

/* Pids travel as u32: 0 and values past INT_MAX are never valid. */
static int
check_pid(uint32_t v, uint16_t type, const char *what, pid_t *out,
    char **cause)
{
	if (v == 0 || v > INT_MAX)
		return cause_set(cause, "%s: invalid %s %u",
		    proto_type_name(type), what, v);
	*out = (pid_t)v;
	return 0;
}

int
proto_decode_empty(const struct proto_msg *m, char **cause)
{
	if (m->hdr.len != 0)
		return cause_set(cause, "%s: payload of %u bytes, expected 0",
		    proto_type_name(m->hdr.type), m->hdr.len);
	return 0;
}

int
proto_decode_error(const struct proto_msg *m, struct msg_error *out,
    char **cause)
{
	struct buf_rd	r;

	out->cause = NULL;
	if (rd_begin(&r, m, MSG_ERROR, cause) != 0)
		return -1;
	out->cause = rd_str(&r, MSG_ERROR, "cause", PROTO_CAUSE_MAX, 0, cause);
	if (out->cause == NULL)
		return -1;
	if (rd_end(&r, MSG_ERROR, cause) != 0) {
		proto_free_error(out);
		return -1;
	}
	return 0;
}

int
proto_decode_pid(const struct proto_msg *m, struct msg_pid *out, char **cause)
{
	struct buf_rd	r;
	uint16_t	type = m->hdr.type;

	if (type != MSG_MANAGE && type != MSG_RESTORE)
		return cause_set(cause, "pid decoder given a %s message",
		    proto_type_name(type));
	if (rd_begin_fixed(&r, m, type, 4, cause) != 0)
		return -1;
	return check_pid(buf_rd_u32(&r), type, "pid", &out->pid, cause);
}

int
proto_decode_restored(const struct proto_msg *m, struct msg_restored *out,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin_fixed(&r, m, MSG_RESTORED, 4 + STATS_LEN, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_RESTORED, "pid", &out->pid,
	    cause) != 0)
		return -1;
	proto_rd_stats(&r, &out->stats);
	return rd_end(&r, MSG_RESTORED, cause);
}

int
proto_decode_checkpoint(const struct proto_msg *m, struct msg_checkpoint *out,
    char **cause)
{
	struct buf_rd	r;
	uint32_t	mode;

	if (rd_begin_fixed(&r, m, MSG_CHECKPOINT, 8, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_CHECKPOINT, "pid", &out->pid,
	    cause) != 0)
		return -1;
	out->flags = buf_rd_u32(&r);
	mode = out->flags & (PROTO_CKPT_LEAVE_RUNNING | PROTO_CKPT_KILL);
	if (out->flags & ~mode)
		return cause_set(cause, "CHECKPOINT: unknown flags %#x",
		    out->flags & ~mode);
	if (mode != PROTO_CKPT_LEAVE_RUNNING && mode != PROTO_CKPT_KILL)
		return cause_set(cause, "CHECKPOINT: flags %#x: need exactly "
		    "one of leave-running and kill", out->flags);
	return 0;
}

int
proto_decode_checkpointed(const struct proto_msg *m,
    struct msg_checkpointed *out, char **cause)
{
	struct buf_rd	r;

	out->comm = NULL;
	if (rd_begin(&r, m, MSG_CHECKPOINTED, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_CHECKPOINTED, "pid", &out->pid,
	    cause) != 0)
		return -1;
	out->comm = rd_str(&r, MSG_CHECKPOINTED, "comm", COMM_MAX, 1, cause);
	if (out->comm == NULL)
		return -1;
	proto_rd_stats(&r, &out->stats);
	if (rd_end(&r, MSG_CHECKPOINTED, cause) != 0) {
		proto_free_checkpointed(out);
		return -1;
	}
	return 0;
}

/*
 * PS_ENTRY's migration fields. A process at home runs on its home node
 * and one away on another: where and away must agree, or omctl would
 * print a place the process is not.
 */
static int
rd_ps_migration(struct buf_rd *r, struct msg_ps_entry *out, char **cause)
{
	uint8_t	has_name;

	out->home_node = buf_rd_u32(r);
	out->where = buf_rd_u32(r);
	has_name = buf_rd_u8(r);
	if (r->err)
		return rd_end(r, MSG_PS_ENTRY, cause);
	if (has_name > 1)
		return cause_set(cause, "PS_ENTRY: bad node name marker %u",
		    has_name);
	if (has_name) {
		out->where_name = rd_str(r, MSG_PS_ENTRY, "node name",
		    PROTO_NODE_MAX, 0, cause);
		if (out->where_name == NULL)
			return -1;
	}
	out->migrations = buf_rd_u32(r);
	out->locked = buf_rd_u8(r);
	out->away = buf_rd_u8(r);
	out->fwd_calls = buf_rd_u64(r);
	out->fwd_errors = buf_rd_u64(r);
	out->fwd_bytes_in = buf_rd_u64(r);
	out->fwd_bytes_out = buf_rd_u64(r);
	out->fwd_signals = buf_rd_u64(r);
	if (r->err)
		return rd_end(r, MSG_PS_ENTRY, cause);
	if (out->locked > 1)
		return cause_set(cause, "PS_ENTRY: bad lock marker %u",
		    out->locked);
	if (out->away >= PROTO_AWAY_NSTATES)
		return cause_set(cause, "PS_ENTRY: unknown away state %u",
		    out->away);
	if (out->away == PROTO_AWAY_HOME && out->where != out->home_node)
		return cause_set(cause, "PS_ENTRY: at home on node %u but "
		    "runs on node %u", out->home_node, out->where);
	if (out->away == PROTO_AWAY_REMOTE && out->where == out->home_node)
		return cause_set(cause, "PS_ENTRY: away but runs on its home "
		    "node %u", out->where);
	if (out->fwd_errors > out->fwd_calls)
		return cause_set(cause, "PS_ENTRY: %llu forwarded calls "
		    "failed of %llu", (unsigned long long)out->fwd_errors,
		    (unsigned long long)out->fwd_calls);
	return 0;
}

/* PS_ENTRY's periodic checkpoint fields. */
static int
rd_ps_periodic(struct buf_rd *r, struct msg_ps_entry *out, char **cause)
{
	uint8_t	has_error;

	out->ckpt_every = buf_rd_u32(r);
	out->ckpt_last = (int64_t)buf_rd_u64(r);
	has_error = buf_rd_u8(r);
	if (r->err)
		return rd_end(r, MSG_PS_ENTRY, cause);
	if (has_error > 1)
		return cause_set(cause, "PS_ENTRY: bad checkpoint error marker "
		    "%u", has_error);
	if (out->ckpt_last < 0)
		return cause_set(cause, "PS_ENTRY: checkpoint time %lld",
		    (long long)out->ckpt_last);
	if ((has_error || out->ckpt_last != 0) && out->ckpt_every == 0)
		return cause_set(cause, "PS_ENTRY: a periodic checkpoint "
		    "without a period");
	if (has_error) {
		out->ckpt_error = rd_str(r, MSG_PS_ENTRY, "checkpoint error",
		    PROTO_CAUSE_MAX, 0, cause);
		if (out->ckpt_error == NULL)
			return -1;
	}
	return 0;
}

int
proto_decode_ps_entry(const struct proto_msg *m, struct msg_ps_entry *out,
    char **cause)
{
	struct buf_rd	r;
	uint32_t	ppid;
	uint8_t		has_cantmove;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_PS_ENTRY, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_PS_ENTRY, "pid", &out->pid,
	    cause) != 0)
		return -1;
	/* ppid 0: the parent is outside our pid namespace */
	ppid = buf_rd_u32(&r);
	if (ppid > INT_MAX)
		return cause_set(cause, "PS_ENTRY: invalid ppid %u", ppid);
	out->ppid = (pid_t)ppid;
	out->uid = buf_rd_u32(&r);
	out->job = buf_rd_u32(&r);
	out->state = buf_rd_u32(&r);
	out->threads = buf_rd_u32(&r);
	out->start_time = (int64_t)buf_rd_u64(&r);
	if (r.err)
		return rd_end(&r, MSG_PS_ENTRY, cause);
	if (out->state >= PROTO_NSTATES)
		return cause_set(cause, "PS_ENTRY: unknown state %u", out->state);
	if (out->threads == 0)
		return cause_set(cause, "PS_ENTRY: process with no threads");
	out->command = rd_str(&r, MSG_PS_ENTRY, "command", PROTO_CMD_MAX, 1,
	    cause);
	if (out->command == NULL)
		return -1;
	has_cantmove = buf_rd_u8(&r);
	if (r.err || has_cantmove > 1) {
		if (!r.err)
			cause_set(cause, "PS_ENTRY: bad cantmove marker %u",
			    has_cantmove);
		else
			rd_end(&r, MSG_PS_ENTRY, cause);
		goto fail;
	}
	if (has_cantmove) {
		out->cantmove = rd_str(&r, MSG_PS_ENTRY, "cantmove",
		    PROTO_CAUSE_MAX, 0, cause);
		if (out->cantmove == NULL)
			goto fail;
	}
	if (rd_ps_migration(&r, out, cause) != 0)
		goto fail;
	if (rd_ps_periodic(&r, out, cause) != 0)
		goto fail;
	if (rd_end(&r, MSG_PS_ENTRY, cause) != 0)
		goto fail;
	return 0;

fail:
	proto_free_ps_entry(out);
	return -1;
}

int
proto_decode_ps_end(const struct proto_msg *m, struct msg_ps_end *out,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin_fixed(&r, m, MSG_PS_END, 4, cause) != 0)
		return -1;
	out->count = buf_rd_u32(&r);
	return 0;
}

int
proto_decode_periodic(const struct proto_msg *m, struct msg_periodic *out,
    char **cause)
{
	struct buf_rd	r;

	out->path = NULL;
	if (rd_begin(&r, m, MSG_PERIODIC, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_PERIODIC, "pid", &out->pid,
	    cause) != 0)
		return -1;
	out->seconds = buf_rd_u32(&r);
	if (r.err)
		return rd_end(&r, MSG_PERIODIC, cause);
	if (out->seconds == 0 || out->seconds > PROTO_PERIOD_MAX)
		return cause_set(cause, "PERIODIC: period of %u seconds, "
		    "expected 1 to %u", out->seconds, PROTO_PERIOD_MAX);
	out->path = rd_str(&r, MSG_PERIODIC, "path", PROTO_PATH_MAX, 0, cause);
	if (out->path == NULL)
		return -1;
	if (out->path[0] != '/') {
		cause_set(cause, "PERIODIC: path '%s' is not absolute",
		    out->path);
		goto fail;
	}
	if (rd_end(&r, MSG_PERIODIC, cause) != 0)
		goto fail;
	return 0;

fail:
	proto_free_periodic(out);
	return -1;
}

int
proto_decode_migrate(const struct proto_msg *m, struct msg_migrate *out,
    char **cause)
{
	struct buf_rd	r;
	uint32_t	pid;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_MIGRATE, cause) != 0)
		return -1;
	pid = buf_rd_u32(&r);
	if (r.err)
		return rd_end(&r, MSG_MIGRATE, cause);
	if (check_pid(pid, MSG_MIGRATE, "pid", &out->pid, cause) != 0)
		return -1;
	out->node = rd_str(&r, MSG_MIGRATE, "node", PROTO_NODE_MAX, 0, cause);
	if (out->node == NULL)
		return -1;
	if (proto_check_node_arg(out->node, cause) != 0)
		goto fail;
	out->flags = buf_rd_u32(&r);
	if (rd_end(&r, MSG_MIGRATE, cause) != 0)
		goto fail;
	if (out->flags & ~PROTO_MIG_FLAGS) {
		cause_set(cause, "MIGRATE: unknown flags %#x",
		    out->flags & ~PROTO_MIG_FLAGS);
		goto fail;
	}
	return 0;

fail:
	proto_free_migrate(out);
	return -1;
}

/* An optional string: empty on the wire is NULL. */
static int
rd_str_opt(struct buf_rd *r, uint16_t type, const char *what, size_t max,
    char **out, char **cause)
{
	if ((*out = rd_str(r, type, what, max, 1, cause)) == NULL)
		return -1;
	if (**out == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

int
proto_decode_migrated(const struct proto_msg *m, struct msg_migrated *out,
    char **cause)
{
	struct buf_rd	r;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_MIGRATED, cause) != 0)
		return -1;
	if (m->hdr.len < MIGRATED_LEN_MIN)
		return cause_set(cause, "MIGRATED: payload of %u bytes, at "
		    "least %d", m->hdr.len, MIGRATED_LEN_MIN);
	if (check_pid(buf_rd_u32(&r), MSG_MIGRATED, "pid", &out->pid,
	    cause) != 0)
		return -1;
	out->node = buf_rd_u32(&r);
	if (out->node == 0)
		return cause_set(cause, "MIGRATED: node id 0");
	if (rd_str_opt(&r, MSG_MIGRATED, "node name", PROTO_NODE_MAX,
	    &out->node_name, cause) != 0 ||
	    rd_str_opt(&r, MSG_MIGRATED, "comm", COMM_MAX, &out->comm,
	    cause) != 0)
		goto fail;
	out->freeze_secs = buf_rd_u64(&r) / 1e9;
	out->bytes = buf_rd_u64(&r);
	out->secs = buf_rd_u64(&r) / 1e9;
	if (rd_end(&r, MSG_MIGRATED, cause) != 0)
		goto fail;
	if (out->node_name != NULL &&
	    proto_check_node_arg(out->node_name, cause) != 0)
		goto fail;
	return 0;

fail:
	proto_free_migrated(out);
	return -1;
}

int
proto_decode_bring(const struct proto_msg *m, struct msg_bring *out,
    char **cause)
{
	struct buf_rd	r;
	uint32_t	pid;

	if (rd_begin_fixed(&r, m, MSG_BRING, 8, cause) != 0)
		return -1;
	pid = buf_rd_u32(&r);
	out->flags = buf_rd_u32(&r);
	if (out->flags & ~PROTO_BRING_FLAGS)
		return cause_set(cause, "BRING: unknown flags %#x",
		    out->flags & ~PROTO_BRING_FLAGS);
	/* one process, or all of them: never a pid that would be ignored */
	if (out->flags & PROTO_BRING_ALL) {
		if (pid != 0)
			return cause_set(cause, "BRING: pid %u with all", pid);
		out->pid = 0;
		return 0;
	}
	return check_pid(pid, MSG_BRING, "pid", &out->pid, cause);
}

int
proto_decode_lock(const struct proto_msg *m, struct msg_lock *out,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin_fixed(&r, m, MSG_LOCK, 8, cause) != 0)
		return -1;
	if (check_pid(buf_rd_u32(&r), MSG_LOCK, "pid", &out->pid, cause) != 0)
		return -1;
	out->on = buf_rd_u32(&r);
	if (out->on > 1)
		return cause_set(cause, "LOCK: bad lock value %u", out->on);
	return 0;
}

/*
 * The count is checked against the cap and the payload length before any
 * id is read; a duplicate would make the balancer weigh a node twice.
 */
int
proto_decode_policy(const struct proto_msg *m, struct msg_policy *out,
    char **cause)
{
	struct buf_rd	r;
	uint32_t	i, j;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_POLICY, cause) != 0)
		return -1;
	if (m->hdr.len < 12)
		return cause_set(cause, "POLICY: payload of %u bytes, at least "
		    "12", m->hdr.len);
	if (check_pid(buf_rd_u32(&r), MSG_POLICY, "pid", &out->pid,
	    cause) != 0)
		return -1;
	out->flags = buf_rd_u32(&r);
	out->nnodes = buf_rd_u32(&r);
	if (out->flags & ~PROTO_POL_FLAGS)
		return cause_set(cause, "POLICY: unknown flags %#x",
		    out->flags & ~PROTO_POL_FLAGS);
	if (out->nnodes > PROTO_POLICY_MAX_NODES)
		return cause_set(cause, "POLICY: %u nodes, at most %d",
		    out->nnodes, PROTO_POLICY_MAX_NODES);
	if (m->hdr.len != 12 + 4 * out->nnodes)
		return cause_set(cause, "POLICY: payload of %u bytes for %u "
		    "nodes, expected %u", m->hdr.len, out->nnodes,
		    12 + 4 * out->nnodes);
	for (i = 0; i < out->nnodes; i++) {
		out->nodes[i] = buf_rd_u32(&r);
		if (out->nodes[i] == 0)
			return cause_set(cause, "POLICY: node id 0");
		for (j = 0; j < i; j++) {
			if (out->nodes[j] == out->nodes[i])
				return cause_set(cause, "POLICY: node %u "
				    "listed twice", out->nodes[i]);
		}
	}
	return rd_end(&r, MSG_POLICY, cause);
}

/* A string into a fixed array (at most size - 1 bytes, maybe empty). */
static int
rd_strbuf(struct buf_rd *r, uint16_t type, const char *what, char *out,
    size_t size, char **cause)
{
	char	*s;

	out[0] = '\0';
	if ((s = rd_str(r, type, what, size - 1, 1, cause)) == NULL)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	free(s);
	return 0;
}

static int
rd_addr(struct buf_rd *r, uint16_t type, struct node_addr *a, char **cause)
{
	size_t	used, i;

	a->family = buf_rd_u8(r);
	buf_rd_bytes(r, a->addr, sizeof a->addr);
	a->port = buf_rd_u16(r);
	if (r->err)
		return rd_end(r, type, cause);
	switch (a->family) {
	case NODE_AF_NONE:
		used = 0;
		break;
	case NODE_AF_INET:
		used = 4;
		break;
	case NODE_AF_INET6:
		used = 16;
		break;
	default:
		return cause_set(cause, "%s: address family %u",
		    proto_type_name(type), a->family);
	}
	for (i = used; i < sizeof a->addr; i++) {
		if (a->addr[i] != 0)
			return cause_set(cause, "%s: address byte %zu set "
			    "beyond its family", proto_type_name(type), i);
	}
	return 0;
}

int
proto_decode_node(const struct proto_msg *m, struct msg_node *out,
    char **cause)
{
	struct loadvec	*lv = &out->lv;
	struct buf_rd	 r;
	uint8_t		 nwords;
	size_t		 i;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_NODE, cause) != 0)
		return -1;
	out->node = buf_rd_u32(&r);
	out->self = buf_rd_u8(&r);
	out->state = buf_rd_u8(&r);
	out->link = buf_rd_u8(&r);
	out->has_lv = buf_rd_u8(&r);
	out->bye = buf_rd_u16(&r);
	out->incarnation = buf_rd_u64(&r);
	out->age_ms = (int64_t)buf_rd_u64(&r);
	if (r.err)
		return rd_end(&r, MSG_NODE, cause);
	if (out->node == 0)
		return cause_set(cause, "NODE: node id 0");
	if (out->self > 1 || out->has_lv > 1)
		return cause_set(cause, "NODE: bad marker");
	if (out->state == 0 || out->state >= PROTO_NODE_NSTATES)
		return cause_set(cause, "NODE: unknown state %u", out->state);
	if (out->link >= PROTO_LINK_NSTATES)
		return cause_set(cause, "NODE: unknown link state %u",
		    out->link);
	if (out->age_ms < -1)
		return cause_set(cause, "NODE: age %lld ms",
		    (long long)out->age_ms);
	if (rd_strbuf(&r, MSG_NODE, "name", out->name, sizeof out->name,
	    cause) != 0)
		return -1;
	if (rd_addr(&r, MSG_NODE, &out->addr, cause) != 0)
		return -1;
	lv->ncpu = buf_rd_u32(&r);
	lv->speed = buf_rd_u32(&r);
	lv->load = buf_rd_u32(&r);
	lv->mem_total = buf_rd_u64(&r);
	lv->mem_free = buf_rd_u64(&r);
	lv->guests = buf_rd_u32(&r);
	lv->flags = buf_rd_u32(&r);
	nwords = buf_rd_u8(&r);
	if (r.err)
		return rd_end(&r, MSG_NODE, cause);
	if (nwords != CPUW_NWORDS)
		return cause_set(cause, "NODE: %u CPU feature words, expected "
		    "%u", nwords, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		lv->cpu.word[i] = buf_rd_u32(&r);
	lv->cpu.xcr0 = buf_rd_u64(&r);
	lv->cpu.xsave_size = buf_rd_u32(&r);
	if (rd_strbuf(&r, MSG_NODE, "CPU model", lv->cpu.model,
	    sizeof lv->cpu.model, cause) != 0 ||
	    rd_strbuf(&r, MSG_NODE, "kernel", lv->kernel, sizeof lv->kernel,
	    cause) != 0)
		return -1;
	if (rd_end(&r, MSG_NODE, cause) != 0)
		return -1;
	if (out->has_lv && (lv->ncpu == 0 || lv->speed == 0))
		return cause_set(cause, "NODE: node %u with %u CPUs of speed "
		    "%u", out->node, lv->ncpu, lv->speed);
	if (lv->mem_free > lv->mem_total)
		return cause_set(cause, "NODE: more memory free than there is");
	if (lv->flags & ~LV_FLAGS)
		return cause_set(cause, "NODE: unknown flags %#x",
		    lv->flags & ~LV_FLAGS);
	lv->node = out->node;
	memcpy(lv->name, out->name, sizeof lv->name);
	lv->incarnation = out->incarnation;
	lv->addr = out->addr;
	return 0;
}

static const char *proto_reload_statuses[PROTO_RELOAD_NSTATUS] = {
	[PROTO_RELOAD_APPLIED] = "applied",
	[PROTO_RELOAD_RESTART] = "restart",
	[PROTO_RELOAD_FAILED] = "failed",
	[PROTO_RELOAD_DROPPED] = "dropped",
};

const char *
proto_reload_status_name(uint8_t st)
{
	if (st >= PROTO_RELOAD_NSTATUS || proto_reload_statuses[st] == NULL)
		return "unknown";
	return proto_reload_statuses[st];
}

/* u32 count, then per item: u8 status, string what, string detail. */
void
proto_encode_reloaded(struct buf *b, const struct msg_reloaded *m)
{
	uint32_t	i, n = m->n > PROTO_RELOAD_MAX ? PROTO_RELOAD_MAX : m->n;

	msg_begin(b, MSG_RELOADED);
	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		buf_add_u8(b, m->items[i].status);
		add_str_capped(b, m->items[i].what, PROTO_CAUSE_MAX);
		add_str_capped(b, m->items[i].detail, PROTO_CAUSE_MAX);
	}
	msg_end(b);
}

void
proto_free_reloaded(struct msg_reloaded *m)
{
	uint32_t	i;

	for (i = 0; i < m->n; i++) {
		free(m->items[i].what);
		free(m->items[i].detail);
	}
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

int
proto_decode_reloaded(const struct proto_msg *m, struct msg_reloaded *out,
    char **cause)
{
	struct msg_reload_item	*it;
	struct buf_rd		 r;
	uint32_t		 n;

	out->n = 0;
	out->items = NULL;
	if (rd_begin(&r, m, MSG_RELOADED, cause) != 0)
		return -1;
	n = buf_rd_u32(&r);
	if (r.err)
		return cause_set(cause, "RELOADED: payload of %u bytes is "
		    "truncated", m->hdr.len);
	if (n > PROTO_RELOAD_MAX)
		return cause_set(cause, "RELOADED: %u items, at most %d", n,
		    PROTO_RELOAD_MAX);
	/* each item takes at least 9 bytes: checked before allocating */
	if ((size_t)n * 9 > buf_rd_left(&r))
		return cause_set(cause, "RELOADED: %u items in %zu bytes", n,
		    buf_rd_left(&r));
	out->items = xcalloc(n + 1, sizeof *out->items);
	for (; out->n < n; out->n++) {
		it = &out->items[out->n];
		it->status = buf_rd_u8(&r);
		if (r.err || it->status == 0 ||
		    it->status >= PROTO_RELOAD_NSTATUS) {
			cause_set(cause, "RELOADED: item %u: bad status %u",
			    out->n, it->status);
			goto fail;
		}
		if ((it->what = rd_str(&r, MSG_RELOADED, "what",
		    PROTO_CAUSE_MAX, 0, cause)) == NULL ||
		    (it->detail = rd_str(&r, MSG_RELOADED, "detail",
		    PROTO_CAUSE_MAX, 1, cause)) == NULL) {
			out->n++;
			goto fail;
		}
	}
	if (rd_end(&r, MSG_RELOADED, cause) != 0)
		goto fail;
	return 0;
fail:
	proto_free_reloaded(out);
	return -1;
}

static int
valid_reloaded(const struct proto_msg *m, char **cause)
{
	struct msg_reloaded	r;

	if (proto_decode_reloaded(m, &r, cause) != 0)
		return -1;
	proto_free_reloaded(&r);
	return 0;
}

int
proto_decode_count(const struct proto_msg *m, struct msg_count *out,
    char **cause)
{
	struct buf_rd	r;
	uint16_t	type = m->hdr.type;

	if (type != MSG_NODES_END && type != MSG_STATUS_END &&
	    type != MSG_EXPELLED && type != MSG_BROUGHT)
		return cause_set(cause, "count decoder given a %s message",
		    proto_type_name(type));
	if (rd_begin_fixed(&r, m, type, 4, cause) != 0)
		return -1;
	out->count = buf_rd_u32(&r);
	return 0;
}

int
proto_decode_status(const struct proto_msg *m, struct msg_status *out,
    char **cause)
{
	struct buf_rd	r;
	uint16_t	n;
	size_t		i;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_STATUS_INFO, cause) != 0)
		return -1;
	n = buf_rd_u16(&r);
	if (r.err)
		return rd_end(&r, MSG_STATUS_INFO, cause);
	if (n != PROTO_ST_NNUM)
		return cause_set(cause, "STATUS_INFO: %u numbers, expected %u",
		    n, PROTO_ST_NNUM);
	for (i = 0; i < PROTO_ST_NNUM; i++)
		out->num[i] = buf_rd_u64(&r);
	n = buf_rd_u16(&r);
	if (r.err)
		return rd_end(&r, MSG_STATUS_INFO, cause);
	if (n != PROTO_ST_NSTR)
		return cause_set(cause, "STATUS_INFO: %u strings, expected %u",
		    n, PROTO_ST_NSTR);
	for (i = 0; i < PROTO_ST_NSTR; i++) {
		out->str[i] = rd_str(&r, MSG_STATUS_INFO,
		    proto_st_strs[i].name, PROTO_STR_MAX, 1, cause);
		if (out->str[i] == NULL)
			goto fail;
	}
	if (rd_end(&r, MSG_STATUS_INFO, cause) != 0)
		goto fail;
	return 0;

fail:
	proto_free_status(out);
	return -1;
}

int
proto_decode_link(const struct proto_msg *m, struct msg_link *out,
    char **cause)
{
	struct buf_rd	r;
	uint8_t		has_error;

	memset(out, 0, sizeof *out);
	if (rd_begin(&r, m, MSG_LINK, cause) != 0)
		return -1;
	out->node = buf_rd_u32(&r);
	if (r.err)
		return rd_end(&r, MSG_LINK, cause);
	if (out->node == 0)
		return cause_set(cause, "LINK: node id 0");
	if (rd_strbuf(&r, MSG_LINK, "name", out->name, sizeof out->name,
	    cause) != 0)
		return -1;
	out->state = buf_rd_u8(&r);
	out->dialed = buf_rd_u8(&r);
	if (r.err)
		return rd_end(&r, MSG_LINK, cause);
	if (out->state >= PROTO_LINK_NSTATES || out->dialed > 1)
		return cause_set(cause, "LINK: state %u, dialed %u",
		    out->state, out->dialed);
	if (rd_addr(&r, MSG_LINK, &out->addr, cause) != 0)
		return -1;
	out->up_ms = (int64_t)buf_rd_u64(&r);
	out->serial = buf_rd_u64(&r);
	out->established = buf_rd_u32(&r);
	out->lost = buf_rd_u32(&r);
	out->failed = buf_rd_u32(&r);
	out->refused = buf_rd_u32(&r);
	out->frames_in = buf_rd_u64(&r);
	out->frames_out = buf_rd_u64(&r);
	out->bytes_in = buf_rd_u64(&r);
	out->bytes_out = buf_rd_u64(&r);
	has_error = buf_rd_u8(&r);
	if (r.err)
		return rd_end(&r, MSG_LINK, cause);
	if (out->up_ms < -1)
		return cause_set(cause, "LINK: up for %lld ms",
		    (long long)out->up_ms);
	if ((out->state == PROTO_LINK_UP) != (out->up_ms >= 0))
		return cause_set(cause, "LINK: state %s but up for %lld ms",
		    proto_link_state_name(out->state), (long long)out->up_ms);
	if (has_error > 1)
		return cause_set(cause, "LINK: bad error marker %u", has_error);
	if (has_error) {
		out->error = rd_str(&r, MSG_LINK, "error", PROTO_CAUSE_MAX, 0,
		    cause);
		if (out->error == NULL)
			return -1;
	}
	if (rd_end(&r, MSG_LINK, cause) != 0) {
		proto_free_link(out);
		return -1;
	}
	return 0;
}

int
proto_decode_set(const struct proto_msg *m, struct msg_set *out,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin_fixed(&r, m, MSG_SET, 6, cause) != 0)
		return -1;
	out->setting = buf_rd_u16(&r);
	out->value = buf_rd_u32(&r);
	/* admin_apply checks the setting and its range */
	if (out->setting == 0)
		return cause_set(cause, "SET: setting 0");
	return 0;
}

void
proto_free_status(struct msg_status *m)
{
	size_t	i;

	for (i = 0; i < PROTO_ST_NSTR; i++) {
		free(m->str[i]);
		m->str[i] = NULL;
	}
}

void
proto_free_link(struct msg_link *m)
{
	free(m->error);
	m->error = NULL;
}

void
proto_free_error(struct msg_error *m)
{
	free(m->cause);
	m->cause = NULL;
}

void
proto_free_checkpointed(struct msg_checkpointed *m)
{
	free(m->comm);
	m->comm = NULL;
}

void
proto_free_ps_entry(struct msg_ps_entry *m)
{
	free(m->command);
	free(m->cantmove);
	free(m->where_name);
	free(m->ckpt_error);
	m->command = m->cantmove = m->where_name = m->ckpt_error = NULL;
}

void
proto_free_periodic(struct msg_periodic *m)
{
	free(m->path);
	m->path = NULL;
}

void
proto_free_migrate(struct msg_migrate *m)
{
	free(m->node);
	m->node = NULL;
}

void
proto_free_migrated(struct msg_migrated *m)
{
	free(m->node_name);
	free(m->comm);
	m->node_name = m->comm = NULL;
}

static int
valid_empty(const struct proto_msg *m, char **cause)
{
	return proto_decode_empty(m, cause);
}

static int
valid_error(const struct proto_msg *m, char **cause)
{
	struct msg_error	e;

	if (proto_decode_error(m, &e, cause) != 0)
		return -1;
	proto_free_error(&e);
	return 0;
}

static int
valid_pid(const struct proto_msg *m, char **cause)
{
	struct msg_pid	p;

	return proto_decode_pid(m, &p, cause);
}

static int
valid_restored(const struct proto_msg *m, char **cause)
{
	struct msg_restored	r;

	return proto_decode_restored(m, &r, cause);
}

static int
valid_checkpoint(const struct proto_msg *m, char **cause)
{
	struct msg_checkpoint	c;

	return proto_decode_checkpoint(m, &c, cause);
}

static int
valid_checkpointed(const struct proto_msg *m, char **cause)
{
	struct msg_checkpointed	c;

	if (proto_decode_checkpointed(m, &c, cause) != 0)
		return -1;
	proto_free_checkpointed(&c);
	return 0;
}

static int
valid_ps_entry(const struct proto_msg *m, char **cause)
{
	struct msg_ps_entry	e;

	if (proto_decode_ps_entry(m, &e, cause) != 0)
		return -1;
	proto_free_ps_entry(&e);
	return 0;
}

static int
valid_ps_end(const struct proto_msg *m, char **cause)
{
	struct msg_ps_end	e;

	return proto_decode_ps_end(m, &e, cause);
}

static int
valid_periodic(const struct proto_msg *m, char **cause)
{
	struct msg_periodic	p;

	if (proto_decode_periodic(m, &p, cause) != 0)
		return -1;
	proto_free_periodic(&p);
	return 0;
}

static int
valid_migrate(const struct proto_msg *m, char **cause)
{
	struct msg_migrate	mg;

	if (proto_decode_migrate(m, &mg, cause) != 0)
		return -1;
	proto_free_migrate(&mg);
	return 0;
}

static int
valid_migrated(const struct proto_msg *m, char **cause)
{
	struct msg_migrated	mg;

	if (proto_decode_migrated(m, &mg, cause) != 0)
		return -1;
	proto_free_migrated(&mg);
	return 0;
}

static int
valid_bring(const struct proto_msg *m, char **cause)
{
	struct msg_bring	b;

	return proto_decode_bring(m, &b, cause);
}

static int
valid_lock(const struct proto_msg *m, char **cause)
{
	struct msg_lock	l;

	return proto_decode_lock(m, &l, cause);
}

static int
valid_policy(const struct proto_msg *m, char **cause)
{
	struct msg_policy	p;

	return proto_decode_policy(m, &p, cause);
}

static int
valid_node(const struct proto_msg *m, char **cause)
{
	struct msg_node	n;

	return proto_decode_node(m, &n, cause);
}

static int
valid_count(const struct proto_msg *m, char **cause)
{
	struct msg_count	c;

	return proto_decode_count(m, &c, cause);
}

static int
valid_status(const struct proto_msg *m, char **cause)
{
	struct msg_status	st;

	if (proto_decode_status(m, &st, cause) != 0)
		return -1;
	proto_free_status(&st);
	return 0;
}

static int
valid_link(const struct proto_msg *m, char **cause)
{
	struct msg_link	l;

	if (proto_decode_link(m, &l, cause) != 0)
		return -1;
	proto_free_link(&l);
	return 0;
}

static int
valid_set(const struct proto_msg *m, char **cause)
{
	struct msg_set	st;

	return proto_decode_set(m, &st, cause);
}

int
proto_send(int sock, const struct buf *msg, int fd, char **cause)
{
	ssize_t	n;

	if ((n = fdpass_send(sock, msg->data, msg->len, fd)) == -1) {
		int	saved = errno;

		cause_set(cause, "send: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if ((size_t)n != msg->len)	/* cannot happen on SEQPACKET */
		return cause_set(cause, "send: short write of %zd bytes", n);
	return 0;
}

int
proto_recv(int sock, uint8_t *buf, size_t size, struct proto_msg *m,
    char **cause)
{
	int	 fd, excess, trunc, saved;
	ssize_t	 n;

	memset(m, 0, sizeof *m);
	m->fd = -1;
	if (size < PROTO_MSG_MAX)
		fatalx("%s: buffer of %zu bytes", __func__, size);
	if ((n = fdpass_recv(sock, buf, size, &fd, &excess, &trunc)) == -1) {
		saved = errno;
		cause_set(cause, "receive: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (n == 0 && fd == -1 && !excess)
		return 0;
	if (trunc) {
		cause_set(cause, "message larger than %zu bytes", size);
		goto fail;
	}
	if (excess) {
		cause_set(cause, "message with more than one file descriptor");
		goto fail;
	}
	if (proto_hdr_decode(m, buf, (size_t)n, cause) != 0)
		goto fail;
	m->fd = fd;
	return 1;

fail:
	if (fd != -1)
		close(fd);
	m->fd = -1;
	errno = EBADMSG;
	return -1;
}
