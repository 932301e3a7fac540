/* jobmsg.c: ommd <-> job supervisors and guest servers (jobmsg.h). */
#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/jobmsg.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#define HELLO_LEN	16
#define WELCOME_MIN	(4 + 8 + 4)
#define WELCOME_MAX	(WELCOME_MIN + LV_NAME_MAX - 1)
#define MIGRATE_MIN	(8 + 4 + 4 + 4 + 4 + 4 + 4 + 2 + 4 + 4)
#define MIGRATE_MAX	(MIGRATE_MIN + LV_NAME_MAX - 1)
#define GONE_LEN	4
#define EVENT_LEN	12
#define BRING_ALL_LEN	20
#define GUEST_MIN	(4 + 4 + 4 + 4 + 4 + 4)
#define GUEST_MAX	(GUEST_MIN + JM_COMM_MAX - 1)
#define GUEST_CTL_LEN	4

static int	valid_hello(const struct proto_msg *, char **);
static int	valid_welcome(const struct proto_msg *, char **);
static int	valid_req(const struct proto_msg *, char **);
static int	valid_rep(const struct proto_msg *, char **);
static int	valid_migrate(const struct proto_msg *, char **);
static int	valid_proc(const struct proto_msg *, char **);
static int	valid_gone(const struct proto_msg *, char **);
static int	valid_event(const struct proto_msg *, char **);
static int	valid_bring_all(const struct proto_msg *, char **);
static int	valid_guest(const struct proto_msg *, char **);
static int	valid_guest_ctl(const struct proto_msg *, char **);

/*
 * The block's types. fd: may carry a descriptor (a REQ hands over the
 * client's image file with CHECKPOINT and RESTORE); every other type none.
 * valid: decodes into a scratch struct, for jobmsg_validate.
 */
static const struct jm_type_ent {
	uint16_t	 type;
	const char	*name;
	int		 fd;
	int		(*valid)(const struct proto_msg *, char **);
} jm_types[] = {
	{ JM_HELLO,	"JM_HELLO",	0, valid_hello },
	{ JM_WELCOME,	"JM_WELCOME",	0, valid_welcome },
	{ JM_REQ,	"JM_REQ",	1, valid_req },
	{ JM_REP,	"JM_REP",	0, valid_rep },
	{ JM_MIGRATE,	"JM_MIGRATE",	0, valid_migrate },
	{ JM_PROC,	"JM_PROC",	0, valid_proc },
	{ JM_GONE,	"JM_GONE",	0, valid_gone },
	{ JM_EVENT,	"JM_EVENT",	0, valid_event },
	{ JM_BRING_ALL,	"JM_BRING_ALL",	0, valid_bring_all },
	{ JM_RELOAD,	"JM_RELOAD",	0, jobmsg_decode_reload },
	{ JM_GUEST,	"JM_GUEST",	0, valid_guest },
	{ JM_GUEST_CTL,	"JM_GUEST_CTL",	0, valid_guest_ctl },
};
#define NTYPES	(sizeof jm_types / sizeof jm_types[0])

static const struct jm_type_ent *
find_type(uint16_t type)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++) {
		if (jm_types[i].type == type)
			return &jm_types[i];
	}
	return NULL;
}

const char *
jobmsg_type_name(uint16_t type)
{
	const struct jm_type_ent	*t = find_type(type);

	return t != NULL ? t->name : "unknown";
}

int
jobmsg_check_type(const struct proto_msg *m, char **cause)
{
	const struct jm_type_ent	*t = find_type(m->hdr.type);

	if (t == NULL)
		return cause_set(cause, "message type %u is not of the job block",
		    m->hdr.type);
	if (m->fd != -1 && !t->fd)
		return cause_set(cause, "%s with a descriptor", t->name);
	return 0;
}

static void
msg_begin(struct buf *b, uint16_t type)
{
	if (b->len != 0)
		fatalx("%s: buffer not empty", __func__);
	buf_add_u16(b, OMM_PROTO_VERSION);
	buf_add_u16(b, type);
	buf_add_u32(b, 0);
}

static void
msg_end(struct buf *b)
{
	if (b->len > PROTO_MSG_MAX)
		fatalx("%s: %s of %zu bytes", __func__,
		    jobmsg_type_name(le32dec(b->data) >> 16), b->len);
	buf_put_u32(b, 4, (uint32_t)(b->len - PROTO_HDR_LEN));
}

/* A string into a fixed array: refused (our own data) if it does not fit. */
static void
add_name(struct buf *b, const char *s, size_t size, const char *what)
{
	size_t	n = strnlen(s, size);

	if (n >= size)
		fatalx("%s: %s not terminated", __func__, what);
	buf_add_u32(b, (uint32_t)n);
	buf_add(b, s, n);
}

static int
rd_begin(struct buf_rd *r, const struct proto_msg *m, uint16_t type,
    size_t min, size_t max, char **cause)
{
	if (m->hdr.type != type)
		return cause_set(cause, "%s decoder given a %s message",
		    jobmsg_type_name(type), jobmsg_type_name(m->hdr.type));
	if (m->hdr.len < min || m->hdr.len > max)
		return cause_set(cause, "%s: payload of %u bytes, expected %zu "
		    "to %zu", jobmsg_type_name(type), m->hdr.len, min, max);
	buf_rd_init(r, m->payload, m->hdr.len);
	return 0;
}

static int
rd_end(struct buf_rd *r, uint16_t type, char **cause)
{
	if (!buf_rd_ok(r, 1))
		return cause_set(cause, "%s: malformed payload (%zu bytes)",
		    jobmsg_type_name(type), r->len);
	return 0;
}

static int
check_pid(int32_t pid, uint16_t type, const char *what, char **cause)
{
	if (pid <= 0)
		return cause_set(cause, "%s: %s %d", jobmsg_type_name(type), what,
		    (int)pid);
	return 0;
}

/* An embedded control message: u32 length, then the whole message. */
static void
add_embedded(struct buf *b, const uint8_t *msg, size_t len)
{
	if (len < PROTO_HDR_LEN || len > JM_EMBED_MAX)
		fatalx("%s: embedded message of %zu bytes", __func__, len);
	buf_add_u32(b, (uint32_t)len);
	buf_add(b, msg, len);
}

static int
rd_embedded(struct buf_rd *r, uint16_t type, const uint8_t **msg,
    size_t *len, char **cause)
{
	struct proto_msg	pm;
	uint32_t		n;
	char			*why = NULL;

	n = buf_rd_u32(r);
	if (r->err || n < PROTO_HDR_LEN || n > JM_EMBED_MAX ||
	    n > buf_rd_left(r))
		return cause_set(cause, "%s: embedded message of %u bytes",
		    jobmsg_type_name(type), n);
	*msg = buf_rd_ptr(r, n);
	*len = n;
	if (proto_hdr_decode(&pm, *msg, n, &why) != 0) {
		cause_set(cause, "%s: embedded message: %s",
		    jobmsg_type_name(type), why);
		free(why);
		return -1;
	}
	return 0;
}

void
jobmsg_encode_hello(struct buf *b, const struct jm_hello *m)
{
	msg_begin(b, JM_HELLO);
	buf_add_u32(b, m->version);
	buf_add_u32(b, m->job);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->owner);
	msg_end(b);
}

int
jobmsg_decode_hello(const struct proto_msg *pm, struct jm_hello *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_HELLO, HELLO_LEN, HELLO_LEN, cause) != 0)
		return -1;
	m->version = buf_rd_u32(&r);
	m->job = buf_rd_u32(&r);
	m->pid = (int32_t)buf_rd_u32(&r);
	m->owner = buf_rd_u32(&r);
	if (rd_end(&r, JM_HELLO, cause) != 0)
		return -1;
	/* a newer supervisor says so; its version is the one thing checked first */
	if (m->version != JOBMSG_VERSION)
		return cause_set(cause, "JM_HELLO: supervisor speaks version %u, "
		    "this ommd %u", m->version, JOBMSG_VERSION);
	if (m->job == 0)
		return cause_set(cause, "JM_HELLO: job 0");
	return check_pid(m->pid, JM_HELLO, "pid", cause);
}

void
jobmsg_encode_welcome(struct buf *b, const struct jm_welcome *m)
{
	msg_begin(b, JM_WELCOME);
	buf_add_u32(b, m->self);
	buf_add_u64(b, m->incarnation);
	add_name(b, m->name, sizeof m->name, "name");
	msg_end(b);
}

int
jobmsg_decode_welcome(const struct proto_msg *pm, struct jm_welcome *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_WELCOME, WELCOME_MIN, WELCOME_MAX, cause) != 0)
		return -1;
	m->self = buf_rd_u32(&r);
	m->incarnation = buf_rd_u64(&r);
	buf_rd_strbuf(&r, m->name, sizeof m->name);
	return rd_end(&r, JM_WELCOME, cause);
}

void
jobmsg_encode_req(struct buf *b, const struct jm_req *m)
{
	msg_begin(b, JM_REQ);
	buf_add_u64(b, m->reqid);
	buf_add_u32(b, m->uid);
	buf_add_u32(b, m->gid);
	buf_add_u32(b, (uint32_t)m->pid);
	add_embedded(b, m->msg, m->len);
	msg_end(b);
}

int
jobmsg_decode_req(const struct proto_msg *pm, struct jm_req *m, char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_REQ, 20 + PROTO_HDR_LEN, PROTO_MSG_MAX,
	    cause) != 0)
		return -1;
	m->reqid = buf_rd_u64(&r);
	m->uid = buf_rd_u32(&r);
	m->gid = buf_rd_u32(&r);
	m->pid = (int32_t)buf_rd_u32(&r);
	if (rd_embedded(&r, JM_REQ, &m->msg, &m->len, cause) != 0 ||
	    rd_end(&r, JM_REQ, cause) != 0)
		return -1;
	if (m->reqid == 0)
		return cause_set(cause, "JM_REQ: request id 0");
	return check_pid(m->pid, JM_REQ, "client pid", cause);
}

void
jobmsg_encode_rep(struct buf *b, const struct jm_rep *m)
{
	msg_begin(b, JM_REP);
	buf_add_u64(b, m->reqid);
	add_embedded(b, m->msg, m->len);
	msg_end(b);
}

int
jobmsg_decode_rep(const struct proto_msg *pm, struct jm_rep *m, char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_REP, 12 + PROTO_HDR_LEN, PROTO_MSG_MAX,
	    cause) != 0)
		return -1;
	m->reqid = buf_rd_u64(&r);
	if (rd_embedded(&r, JM_REP, &m->msg, &m->len, cause) != 0 ||
	    rd_end(&r, JM_REP, cause) != 0)
		return -1;
	if (m->reqid == 0)
		return cause_set(cause, "JM_REP: request id 0");
	return 0;
}

void
jobmsg_encode_migrate(struct buf *b, const struct jm_migrate *m)
{
	msg_begin(b, JM_MIGRATE);
	buf_add_u64(b, m->reqid);
	buf_add_u32(b, m->uid);
	buf_add_u32(b, m->gid);
	buf_add_u32(b, (uint32_t)m->rpid);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->node);
	buf_add_u32(b, m->ipv4);
	buf_add_u16(b, m->port);
	buf_add_u32(b, m->flags);
	add_name(b, m->name, sizeof m->name, "name");
	msg_end(b);
}

int
jobmsg_decode_migrate(const struct proto_msg *pm, struct jm_migrate *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_MIGRATE, MIGRATE_MIN, MIGRATE_MAX, cause) != 0)
		return -1;
	m->reqid = buf_rd_u64(&r);
	m->uid = buf_rd_u32(&r);
	m->gid = buf_rd_u32(&r);
	m->rpid = (int32_t)buf_rd_u32(&r);
	m->pid = (int32_t)buf_rd_u32(&r);
	m->node = buf_rd_u32(&r);
	m->ipv4 = buf_rd_u32(&r);
	m->port = buf_rd_u16(&r);
	m->flags = buf_rd_u32(&r);
	buf_rd_strbuf(&r, m->name, sizeof m->name);
	if (rd_end(&r, JM_MIGRATE, cause) != 0 ||
	    check_pid(m->pid, JM_MIGRATE, "pid", cause) != 0)
		return -1;
	if (m->rpid < 0)
		return cause_set(cause, "JM_MIGRATE: requester pid %d",
		    (int)m->rpid);
	if (m->flags & ~JM_MIG_FLAGS)
		return cause_set(cause, "JM_MIGRATE: unknown flags %#x",
		    m->flags);
	if (m->node != 0 && (m->ipv4 == 0 || m->port == 0))
		return cause_set(cause, "JM_MIGRATE: node %u without an address",
		    m->node);
	return 0;
}

void
jobmsg_encode_proc(struct buf *b, const struct jm_proc *m)
{
	struct buf	ps;
	uint32_t	i;

	if (m->nallowed > PROTO_POLICY_MAX_NODES)
		fatalx("%s: %u allowed nodes", __func__, m->nallowed);
	buf_init(&ps);
	proto_encode_ps_entry(&ps, &m->ps);
	msg_begin(b, JM_PROC);
	add_embedded(b, ps.data, ps.len);
	buf_free(&ps);
	buf_add_u8(b, m->stay);
	buf_add_u8(b, m->moving);
	buf_add_u32(b, m->nallowed);
	for (i = 0; i < m->nallowed; i++)
		buf_add_u32(b, m->allowed[i]);
	buf_add_u64(b, (uint64_t)m->resident_ms);
	buf_add_u64(b, (uint64_t)m->hold_s);
	buf_add_u64(b, m->cpu_ns);
	buf_add_u64(b, m->rss);
	buf_add_u32(b, m->host_cpus_milli);
	buf_add_u32(b, m->host_load);
	msg_end(b);
}

int
jobmsg_decode_proc(const struct proto_msg *pm, struct jm_proc *m, char **cause)
{
	struct proto_msg	 em;
	struct buf_rd		 r;
	const uint8_t		*msg;
	size_t			 len;
	uint32_t		 i;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_PROC, 4 + PROTO_HDR_LEN, PROTO_MSG_MAX,
	    cause) != 0)
		return -1;
	if (rd_embedded(&r, JM_PROC, &msg, &len, cause) != 0)
		return -1;
	if (proto_hdr_decode(&em, msg, len, cause) != 0)
		return -1;
	if (em.hdr.type != MSG_PS_ENTRY)
		return cause_set(cause, "JM_PROC: carries %s, not PS_ENTRY",
		    proto_type_name(em.hdr.type));
	if (proto_decode_ps_entry(&em, &m->ps, cause) != 0)
		return -1;
	m->stay = buf_rd_u8(&r);
	m->moving = buf_rd_u8(&r);
	m->nallowed = buf_rd_u32(&r);
	if (r.err || m->stay > 1 || m->moving > 1 ||
	    m->nallowed > PROTO_POLICY_MAX_NODES) {
		cause_set(cause, "JM_PROC: bad policy fields");
		goto fail;
	}
	for (i = 0; i < m->nallowed; i++)
		m->allowed[i] = buf_rd_u32(&r);
	m->resident_ms = (int64_t)buf_rd_u64(&r);
	m->hold_s = (int64_t)buf_rd_u64(&r);
	m->cpu_ns = buf_rd_u64(&r);
	m->rss = buf_rd_u64(&r);
	m->host_cpus_milli = buf_rd_u32(&r);
	m->host_load = buf_rd_u32(&r);
	if (rd_end(&r, JM_PROC, cause) != 0)
		goto fail;
	return 0;
fail:
	jobmsg_free_proc(m);
	return -1;
}

void
jobmsg_free_proc(struct jm_proc *m)
{
	proto_free_ps_entry(&m->ps);
}

void
jobmsg_encode_gone(struct buf *b, const struct jm_gone *m)
{
	msg_begin(b, JM_GONE);
	buf_add_u32(b, (uint32_t)m->pid);
	msg_end(b);
}

int
jobmsg_decode_gone(const struct proto_msg *pm, struct jm_gone *m, char **cause)
{
	struct buf_rd	r;

	if (rd_begin(&r, pm, JM_GONE, GONE_LEN, GONE_LEN, cause) != 0)
		return -1;
	m->pid = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, JM_GONE, cause) != 0)
		return -1;
	return check_pid(m->pid, JM_GONE, "pid", cause);
}

void
jobmsg_encode_event(struct buf *b, const struct jm_event *m)
{
	msg_begin(b, JM_EVENT);
	buf_add_u32(b, m->kind);
	buf_add_u32(b, m->node);
	buf_add_u32(b, (uint32_t)m->pid);
	msg_end(b);
}

int
jobmsg_decode_event(const struct proto_msg *pm, struct jm_event *m,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin(&r, pm, JM_EVENT, EVENT_LEN, EVENT_LEN, cause) != 0)
		return -1;
	m->kind = buf_rd_u32(&r);
	m->node = buf_rd_u32(&r);
	m->pid = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, JM_EVENT, cause) != 0)
		return -1;
	if (m->kind == 0 || m->kind >= JM_EV_NKINDS)
		return cause_set(cause, "JM_EVENT: kind %u", m->kind);
	return check_pid(m->pid, JM_EVENT, "pid", cause);
}

void
jobmsg_encode_bring_all(struct buf *b, const struct jm_bring_all *m)
{
	msg_begin(b, JM_BRING_ALL);
	buf_add_u64(b, m->reqid);
	buf_add_u32(b, m->uid);
	buf_add_u32(b, m->gid);
	buf_add_u32(b, (uint32_t)m->rpid);
	msg_end(b);
}

int
jobmsg_decode_bring_all(const struct proto_msg *pm, struct jm_bring_all *m,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin(&r, pm, JM_BRING_ALL, BRING_ALL_LEN, BRING_ALL_LEN,
	    cause) != 0)
		return -1;
	m->reqid = buf_rd_u64(&r);
	m->uid = buf_rd_u32(&r);
	m->gid = buf_rd_u32(&r);
	m->rpid = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, JM_BRING_ALL, cause) != 0)
		return -1;
	if (m->rpid < 0)
		return cause_set(cause, "JM_BRING_ALL: requester pid %d",
		    (int)m->rpid);
	return 0;
}

void
jobmsg_encode_reload(struct buf *b)
{
	msg_begin(b, JM_RELOAD);
	msg_end(b);
}

int
jobmsg_decode_reload(const struct proto_msg *pm, char **cause)
{
	struct buf_rd	r;

	return rd_begin(&r, pm, JM_RELOAD, 0, 0, cause);
}

void
jobmsg_encode_guest(struct buf *b, const struct jm_guest *m)
{
	msg_begin(b, JM_GUEST);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, (uint32_t)m->server);
	buf_add_u32(b, m->home);
	buf_add_u32(b, (uint32_t)m->home_pid);
	buf_add_u32(b, m->uid);
	add_name(b, m->comm, sizeof m->comm, "comm");
	msg_end(b);
}

int
jobmsg_decode_guest(const struct proto_msg *pm, struct jm_guest *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (rd_begin(&r, pm, JM_GUEST, GUEST_MIN, GUEST_MAX, cause) != 0)
		return -1;
	m->pid = (int32_t)buf_rd_u32(&r);
	m->server = (int32_t)buf_rd_u32(&r);
	m->home = buf_rd_u32(&r);
	m->home_pid = (int32_t)buf_rd_u32(&r);
	m->uid = buf_rd_u32(&r);
	buf_rd_strbuf(&r, m->comm, sizeof m->comm);
	if (rd_end(&r, JM_GUEST, cause) != 0 ||
	    check_pid(m->pid, JM_GUEST, "guest pid", cause) != 0 ||
	    check_pid(m->server, JM_GUEST, "server pid", cause) != 0 ||
	    check_pid(m->home_pid, JM_GUEST, "home pid", cause) != 0)
		return -1;
	if (m->home == 0)
		return cause_set(cause, "JM_GUEST: home node 0");
	return 0;
}

void
jobmsg_encode_guest_ctl(struct buf *b, const struct jm_guest_ctl *m)
{
	msg_begin(b, JM_GUEST_CTL);
	buf_add_u32(b, m->what);
	msg_end(b);
}

int
jobmsg_decode_guest_ctl(const struct proto_msg *pm, struct jm_guest_ctl *m,
    char **cause)
{
	struct buf_rd	r;

	if (rd_begin(&r, pm, JM_GUEST_CTL, GUEST_CTL_LEN, GUEST_CTL_LEN,
	    cause) != 0)
		return -1;
	m->what = buf_rd_u32(&r);
	if (rd_end(&r, JM_GUEST_CTL, cause) != 0)
		return -1;
	if (m->what == 0 || m->what >= JM_GUEST_NCTL)
		return cause_set(cause, "JM_GUEST_CTL: %u", m->what);
	return 0;
}

/* The validators: decode into a scratch struct. */
#define VALID(fn, type)							\
static int								\
valid_##fn(const struct proto_msg *pm, char **cause)			\
{									\
	type	u;							\
									\
	return jobmsg_decode_##fn(pm, &u, cause);			\
}
VALID(hello, struct jm_hello)
VALID(welcome, struct jm_welcome)
VALID(req, struct jm_req)
VALID(rep, struct jm_rep)
VALID(migrate, struct jm_migrate)
VALID(gone, struct jm_gone)
VALID(event, struct jm_event)
VALID(bring_all, struct jm_bring_all)
VALID(guest, struct jm_guest)
VALID(guest_ctl, struct jm_guest_ctl)

static int
valid_proc(const struct proto_msg *pm, char **cause)
{
	struct jm_proc	u;

	if (jobmsg_decode_proc(pm, &u, cause) != 0)
		return -1;
	jobmsg_free_proc(&u);
	return 0;
}

int
jobmsg_validate(const struct proto_msg *pm, char **cause)
{
	if (proto_check_version(&pm->hdr, "ommd", cause) != 0 ||
	    jobmsg_check_type(pm, cause) != 0)
		return -1;
	return find_type(pm->hdr.type)->valid(pm, cause);
}
