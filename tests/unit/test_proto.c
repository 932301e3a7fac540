/* test_proto.c: control protocol round trips, every rejection, and the transport. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/buf.h"
#include "omm/proto.h"

/* Split an encoded message as a receiver would, checking the header. */
static void
split(const struct buf *b, struct proto_msg *m, int fd)
{
	char	*cause = NULL;

	assert_int_equal(proto_hdr_decode(m, b->data, b->len, &cause), 0);
	assert_null(cause);
	m->fd = fd;
	assert_int_equal(proto_check_version(&m->hdr, "ommd", &cause), 0);
	assert_int_equal(proto_check_type(m, &cause), 0);
	assert_int_equal(proto_validate(m, &cause), 0);
	assert_null(cause);
}

static void
stats_fill(struct ckpt_stats *st)
{
	memset(st, 0, sizeof *st);
	st->vmas = 23;
	st->pages = 131072;
	st->zero_pages = 77;
	st->bytes = 536870912 + 4321;
	st->freeze_secs = 0.012;
	st->secs = 0.31;
	st->exited = 1;
	st->wstatus = 9;
}

static void
stats_check(const struct ckpt_stats *a, const struct ckpt_stats *b)
{
	assert_int_equal(a->vmas, b->vmas);
	assert_int_equal(a->pages, b->pages);
	assert_int_equal(a->zero_pages, b->zero_pages);
	assert_int_equal(a->bytes, b->bytes);
	/* nanosecond resolution on the wire */
	assert_true(a->freeze_secs - b->freeze_secs < 1e-8 &&
	    b->freeze_secs - a->freeze_secs < 1e-8);
	assert_true(a->secs - b->secs < 1e-8 && b->secs - a->secs < 1e-8);
	assert_int_equal(a->exited, b->exited);
	assert_int_equal(a->wstatus, b->wstatus);
}

static void
test_roundtrip_empty(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	char			*cause = NULL;

	buf_init(&b);
	proto_encode_ok(&b);
	assert_int_equal(b.len, PROTO_HDR_LEN);
	split(&b, &m, -1);
	assert_int_equal(m.hdr.type, MSG_OK);
	assert_int_equal(proto_decode_empty(&m, &cause), 0);
	buf_reset(&b);
	proto_encode_ps(&b);
	split(&b, &m, -1);
	assert_int_equal(m.hdr.type, MSG_PS);
	assert_int_equal(m.hdr.version, OMM_PROTO_VERSION);
	buf_free(&b);
}

static void
test_roundtrip_error(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_error	e;
	char			*cause = NULL, big[3000];

	buf_init(&b);
	proto_encode_error(&b, "process 1234 is not managed by omm");
	split(&b, &m, -1);
	assert_int_equal(proto_decode_error(&m, &e, &cause), 0);
	assert_string_equal(e.cause, "process 1234 is not managed by omm");
	proto_free_error(&e);

	/* an over-long cause is cut to the cap, never refused by the peer */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_reset(&b);
	proto_encode_error(&b, big);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_error(&m, &e, &cause), 0);
	assert_int_equal(strlen(e.cause), PROTO_CAUSE_MAX);
	proto_free_error(&e);

	/* an empty cause still says something */
	buf_reset(&b);
	proto_encode_error(&b, "");
	split(&b, &m, -1);
	assert_int_equal(proto_decode_error(&m, &e, &cause), 0);
	assert_string_equal(e.cause, "unknown error");
	proto_free_error(&e);
	buf_free(&b);
}

static void
test_roundtrip_pid(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_pid		in = { .pid = 4194304 }, out;
	char			*cause = NULL;

	buf_init(&b);
	proto_encode_manage(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(m.hdr.type, MSG_MANAGE);
	assert_int_equal(proto_decode_pid(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 4194304);

	buf_reset(&b);
	in.pid = 1;
	proto_encode_restore(&b, &in);
	split(&b, &m, 7);	/* RESTORE carries the image */
	assert_int_equal(m.hdr.type, MSG_RESTORE);
	assert_int_equal(proto_decode_pid(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 1);
	buf_free(&b);
}

static void
test_roundtrip_restored(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_restored	in, out;
	char			*cause = NULL;

	in.pid = 321;
	stats_fill(&in.stats);
	buf_init(&b);
	proto_encode_restored(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_restored(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 321);
	stats_check(&in.stats, &out.stats);
	buf_free(&b);
}

static void
test_roundtrip_checkpoint(void **state)
{
	static const uint32_t	 flags[] = { PROTO_CKPT_LEAVE_RUNNING,
				    PROTO_CKPT_KILL };
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_checkpoint	 in, out;
	char			*cause = NULL;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < 2; i++) {
		in.pid = 99;
		in.flags = flags[i];
		buf_reset(&b);
		proto_encode_checkpoint(&b, &in);
		split(&b, &m, 5);
		assert_int_equal(proto_decode_checkpoint(&m, &out, &cause), 0);
		assert_int_equal(out.pid, 99);
		assert_int_equal(out.flags, flags[i]);
	}
	buf_free(&b);
}

static void
test_roundtrip_checkpointed(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_checkpointed	in, out;
	char			*cause = NULL;

	in.pid = 1234;
	in.comm = "gzip";
	stats_fill(&in.stats);
	buf_init(&b);
	proto_encode_checkpointed(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_checkpointed(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 1234);
	assert_string_equal(out.comm, "gzip");
	stats_check(&in.stats, &out.stats);
	proto_free_checkpointed(&out);
	buf_free(&b);
}

static void
test_roundtrip_ps_entry(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_ps_entry	 in, out;
	char			*cause = NULL, *longcmd;

	memset(&in, 0, sizeof in);
	in.pid = 1000;
	in.ppid = 0;
	in.uid = 1001;
	in.job = 7;
	in.state = PROTO_STATE_STOPPED;
	in.threads = 4;
	in.start_time = 1795570000;
	in.command = "python3 -c 'print(1)'";
	in.cantmove = "multi-threaded (4 threads)";
	buf_init(&b);
	proto_encode_ps_entry(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 1000);
	assert_int_equal(out.ppid, 0);
	assert_int_equal(out.uid, 1001);
	assert_int_equal(out.job, 7);
	assert_int_equal(out.state, PROTO_STATE_STOPPED);
	assert_int_equal(out.threads, 4);
	assert_int_equal(out.start_time, 1795570000);
	assert_string_equal(out.command, in.command);
	assert_string_equal(out.cantmove, in.cantmove);
	proto_free_ps_entry(&out);

	/* NULL cantmove (can move) stays NULL; a long command is cut */
	longcmd = malloc(PROTO_CMD_MAX + 100);
	memset(longcmd, 'c', PROTO_CMD_MAX + 99);
	longcmd[PROTO_CMD_MAX + 99] = '\0';
	in.command = longcmd;
	in.cantmove = NULL;
	in.state = PROTO_STATE_CHECKPOINTING;
	buf_reset(&b);
	proto_encode_ps_entry(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), 0);
	assert_null(out.cantmove);
	assert_int_equal(strlen(out.command), PROTO_CMD_MAX);
	assert_int_equal(out.state, PROTO_STATE_CHECKPOINTING);
	proto_free_ps_entry(&out);
	free(longcmd);
	buf_free(&b);
}

static void
test_roundtrip_ps_end(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_ps_end	in = { .count = 42 }, out;
	char			*cause = NULL;

	buf_init(&b);
	proto_encode_ps_end(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_end(&m, &out, &cause), 0);
	assert_int_equal(out.count, 42);
	buf_free(&b);
}

static void
test_roundtrip_periodic(void **state)
{
	struct buf		b;
	struct proto_msg	m;
	struct msg_periodic	in, out;
	char			*cause = NULL;

	in.pid = 55;
	in.seconds = 60;
	in.path = "/home/u/job.img";
	buf_init(&b);
	proto_encode_periodic(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_periodic(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 55);
	assert_int_equal(out.seconds, 60);
	assert_string_equal(out.path, "/home/u/job.img");
	proto_free_periodic(&out);
	buf_free(&b);
}

static void
test_names(void **state)
{
	assert_string_equal(proto_type_name(MSG_CHECKPOINT), "CHECKPOINT");
	assert_string_equal(proto_type_name(9999), "unknown");
	assert_string_equal(proto_state_name(PROTO_STATE_RUNNING), "running");
	assert_string_equal(proto_state_name(PROTO_STATE_STOPPED), "stopped");
	assert_string_equal(proto_state_name(PROTO_STATE_CHECKPOINTING),
	    "checkpointing");
	assert_string_equal(proto_state_name(PROTO_NSTATES), "unknown");
}

/*
 * Rejections. Each case is a raw message: header fields, a payload built
 * by a function, a descriptor or none, and the words the cause must hold.
 */
struct reject {
	const char	*label;
	uint16_t	 version;
	uint16_t	 type;
	void		(*payload)(struct buf *);
	int		 fd;
	const char	*expect;
};

static void p_none(struct buf *b) { }
static void p_2bytes(struct buf *b) { buf_add_u16(b, 0); }
static void p_3bytes(struct buf *b) { buf_add(b, "abc", 3); }
static void p_pid0(struct buf *b) { buf_add_u32(b, 0); }
static void p_pidbig(struct buf *b) { buf_add_u32(b, (uint32_t)INT_MAX + 1); }
static void p_pid5(struct buf *b) { buf_add_u32(b, 77); buf_add_u8(b, 0); }
static void p_str_empty(struct buf *b) { buf_add_u32(b, 0); }
static void p_str_nul(struct buf *b) { buf_add_u32(b, 3); buf_add(b, "a\0b", 3); }
static void p_str_trunc(struct buf *b) { buf_add_u32(b, 10); buf_add(b, "abc", 3); }
static void p_str_short(struct buf *b) { buf_add_u16(b, 1); }
static void p_str_trailing(struct buf *b) { buf_add_str(b, "x"); buf_add_u8(b, 1); }

static void
p_str_long(struct buf *b)
{
	char	s[PROTO_CAUSE_MAX + 2];

	memset(s, 'e', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	buf_add_str(b, s);
}

static void p_ck_flags0(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 0); }
static void p_ck_flags3(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 3); }
static void p_ck_flagsx(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 0x11); }
static void p_ck_short(struct buf *b) { buf_add_u32(b, 5); }

static void
stats_zero(struct buf *b)
{
	struct ckpt_stats	st;

	memset(&st, 0, sizeof st);
	proto_add_stats(b, &st);
}

static void p_restored_short(struct buf *b) { buf_add_u32(b, 5); buf_add_u64(b, 1); }
static void p_restored_pid0(struct buf *b) { buf_add_u32(b, 0); stats_zero(b); }

static void
p_ckd_comm_long(struct buf *b)
{
	char	s[300];

	memset(s, 'c', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	buf_add_u32(b, 5);
	buf_add_str(b, s);
	stats_zero(b);
}

static void p_ckd_no_stats(struct buf *b) { buf_add_u32(b, 5); buf_add_str(b, "sh"); }

/* A PS_ENTRY with its fields overridable one at a time. */
static void
ps_entry(struct buf *b, uint32_t pid, uint32_t state, uint32_t threads,
    const char *cmd, int cmdlen, uint8_t marker, const char *cantmove)
{
	buf_add_u32(b, pid);
	buf_add_u32(b, 1);
	buf_add_u32(b, 1000);
	buf_add_u32(b, 3);
	buf_add_u32(b, state);
	buf_add_u32(b, threads);
	buf_add_u64(b, 1);
	if (cmdlen >= 0) {
		char	*s = malloc(cmdlen + 1);

		memset(s, 'c', cmdlen);
		s[cmdlen] = '\0';
		buf_add_str(b, s);
		free(s);
	} else
		buf_add_str(b, cmd);
	buf_add_u8(b, marker);
	if (marker == 1)
		buf_add_str(b, cantmove);
}

static void p_pse_state(struct buf *b) { ps_entry(b, 9, 3, 1, "sh", -1, 0, NULL); }
static void p_pse_threads(struct buf *b) { ps_entry(b, 9, 0, 0, "sh", -1, 0, NULL); }
static void p_pse_marker(struct buf *b) { ps_entry(b, 9, 0, 1, "sh", -1, 2, NULL); }
static void p_pse_cmdlong(struct buf *b) { ps_entry(b, 9, 0, 1, NULL, PROTO_CMD_MAX + 1, 0, NULL); }
static void p_pse_cmempty(struct buf *b) { ps_entry(b, 9, 0, 1, "sh", -1, 1, ""); }
static void p_pse_pid0(struct buf *b) { ps_entry(b, 0, 0, 1, "sh", -1, 0, NULL); }
static void p_pse_trailing(struct buf *b) { ps_entry(b, 9, 0, 1, "sh", -1, 0, NULL); buf_add_u8(b, 0); }
static void p_pse_nomarker(struct buf *b) { ps_entry(b, 9, 0, 1, "sh", -1, 0, NULL); b->len--; }

static void
p_pse_ppid(struct buf *b)
{
	ps_entry(b, 9, 0, 1, "sh", -1, 0, NULL);
	buf_put_u32(b, PROTO_HDR_LEN + 4, (uint32_t)INT_MAX + 1);
}

static void p_end_5(struct buf *b) { buf_add_u32(b, 1); buf_add_u8(b, 0); }

static void
periodic(struct buf *b, uint32_t secs, const char *path, int pathlen)
{
	buf_add_u32(b, 12);
	buf_add_u32(b, secs);
	if (pathlen >= 0) {
		char	*s = malloc(pathlen + 1);

		memset(s, 'p', pathlen);
		s[0] = '/';
		s[pathlen] = '\0';
		buf_add_str(b, s);
		free(s);
	} else
		buf_add_str(b, path);
}

static void p_per_secs0(struct buf *b) { periodic(b, 0, "/x", -1); }
static void p_per_secsbig(struct buf *b) { periodic(b, PROTO_PERIOD_MAX + 1, "/x", -1); }
static void p_per_rel(struct buf *b) { periodic(b, 5, "x/y", -1); }
static void p_per_empty(struct buf *b) { periodic(b, 5, "", -1); }
static void p_per_long(struct buf *b) { periodic(b, 5, NULL, PROTO_PATH_MAX + 1); }
static void p_per_trailing(struct buf *b) { periodic(b, 5, "/x", -1); buf_add_u8(b, 0); }
static void p_per_nopath(struct buf *b) { buf_add_u32(b, 12); buf_add_u32(b, 5); }

static const struct reject rejects[] = {
	{ "newer version", 2, MSG_PS, p_none, -1, "protocol version 2, " },
	{ "version 0", 0, MSG_PS, p_none, -1, "protocol version 0, " },
	{ "unknown type", 1, 99, p_none, -1, "unknown message type 99" },
	{ "type 0", 1, 0, p_none, -1, "unknown message type 0" },
	{ "fd missing on RESTORE", 1, MSG_RESTORE, p_pid5, -1,
	    "RESTORE without a file descriptor" },
	{ "fd missing on CHECKPOINT", 1, MSG_CHECKPOINT, p_ck_flags0, -1,
	    "CHECKPOINT without a file descriptor" },
	{ "stray fd on PS", 1, MSG_PS, p_none, 3,
	    "PS with a stray file descriptor" },
	{ "stray fd on MANAGE", 1, MSG_MANAGE, p_pid0, 3,
	    "MANAGE with a stray file descriptor" },
	{ "OK with payload", 1, MSG_OK, p_2bytes, -1,
	    "OK: payload of 2 bytes, expected 0" },
	{ "PS with payload", 1, MSG_PS, p_3bytes, -1,
	    "PS: payload of 3 bytes, expected 0" },
	{ "ERROR empty", 1, MSG_ERROR, p_str_empty, -1, "ERROR: empty cause" },
	{ "ERROR NUL inside", 1, MSG_ERROR, p_str_nul, -1, "NUL byte" },
	{ "ERROR truncated string", 1, MSG_ERROR, p_str_trunc, -1,
	    "cause of 10 bytes is truncated" },
	{ "ERROR no length", 1, MSG_ERROR, p_str_short, -1,
	    "cause is truncated" },
	{ "ERROR trailing", 1, MSG_ERROR, p_str_trailing, -1,
	    "1 trailing bytes" },
	{ "ERROR too long", 1, MSG_ERROR, p_str_long, -1,
	    "cause of 1025 bytes, at most 1024" },
	{ "MANAGE short", 1, MSG_MANAGE, p_3bytes, -1,
	    "MANAGE: payload of 3 bytes, expected 4" },
	{ "MANAGE long", 1, MSG_MANAGE, p_pid5, -1,
	    "MANAGE: payload of 5 bytes, expected 4" },
	{ "MANAGE pid 0", 1, MSG_MANAGE, p_pid0, -1, "invalid pid 0" },
	{ "MANAGE pid > INT_MAX", 1, MSG_MANAGE, p_pidbig, -1,
	    "invalid pid 2147483648" },
	{ "RESTORE pid 0", 1, MSG_RESTORE, p_pid0, 4, "invalid pid 0" },
	{ "RESTORED short", 1, MSG_RESTORED, p_restored_short, -1,
	    "RESTORED: payload of 12 bytes, expected 60" },
	{ "RESTORED pid 0", 1, MSG_RESTORED, p_restored_pid0, -1,
	    "invalid pid 0" },
	{ "CHECKPOINT short", 1, MSG_CHECKPOINT, p_ck_short, 4,
	    "payload of 4 bytes, expected 8" },
	{ "CHECKPOINT no mode", 1, MSG_CHECKPOINT, p_ck_flags0, 4,
	    "need exactly one of leave-running and kill" },
	{ "CHECKPOINT both modes", 1, MSG_CHECKPOINT, p_ck_flags3, 4,
	    "need exactly one of leave-running and kill" },
	{ "CHECKPOINT unknown flag", 1, MSG_CHECKPOINT, p_ck_flagsx, 4,
	    "unknown flags 0x10" },
	{ "CHECKPOINTED comm too long", 1, MSG_CHECKPOINTED, p_ckd_comm_long,
	    -1, "comm of 299 bytes, at most 255" },
	{ "CHECKPOINTED without stats", 1, MSG_CHECKPOINTED, p_ckd_no_stats,
	    -1, "is truncated" },
	{ "PS_ENTRY unknown state", 1, MSG_PS_ENTRY, p_pse_state, -1,
	    "unknown state 3" },
	{ "PS_ENTRY no threads", 1, MSG_PS_ENTRY, p_pse_threads, -1,
	    "process with no threads" },
	{ "PS_ENTRY bad marker", 1, MSG_PS_ENTRY, p_pse_marker, -1,
	    "bad cantmove marker 2" },
	{ "PS_ENTRY command too long", 1, MSG_PS_ENTRY, p_pse_cmdlong, -1,
	    "command of 4097 bytes, at most 4096" },
	{ "PS_ENTRY empty cantmove", 1, MSG_PS_ENTRY, p_pse_cmempty, -1,
	    "empty cantmove" },
	{ "PS_ENTRY pid 0", 1, MSG_PS_ENTRY, p_pse_pid0, -1, "invalid pid 0" },
	{ "PS_ENTRY ppid > INT_MAX", 1, MSG_PS_ENTRY, p_pse_ppid, -1,
	    "invalid ppid" },
	{ "PS_ENTRY trailing", 1, MSG_PS_ENTRY, p_pse_trailing, -1,
	    "1 trailing bytes" },
	{ "PS_ENTRY without marker", 1, MSG_PS_ENTRY, p_pse_nomarker, -1,
	    "truncated" },
	{ "PS_END long", 1, MSG_PS_END, p_end_5, -1,
	    "PS_END: payload of 5 bytes, expected 4" },
	{ "PERIODIC period 0", 1, MSG_PERIODIC, p_per_secs0, -1,
	    "period of 0 seconds" },
	{ "PERIODIC period too long", 1, MSG_PERIODIC, p_per_secsbig, -1,
	    "period of 604801 seconds" },
	{ "PERIODIC relative path", 1, MSG_PERIODIC, p_per_rel, -1,
	    "path 'x/y' is not absolute" },
	{ "PERIODIC empty path", 1, MSG_PERIODIC, p_per_empty, -1,
	    "empty path" },
	{ "PERIODIC path too long", 1, MSG_PERIODIC, p_per_long, -1,
	    "path of 4097 bytes, at most 4096" },
	{ "PERIODIC trailing", 1, MSG_PERIODIC, p_per_trailing, -1,
	    "1 trailing bytes" },
	{ "PERIODIC without path", 1, MSG_PERIODIC, p_per_nopath, -1,
	    "path is truncated" },
};

static void
test_rejects(void **state)
{
	const struct reject	*r;
	struct proto_msg	 m;
	struct buf		 b;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
		r = &rejects[i];
		buf_init(&b);
		buf_add_u16(&b, r->version);
		buf_add_u16(&b, r->type);
		buf_add_u32(&b, 0);
		r->payload(&b);
		buf_put_u32(&b, 4, (uint32_t)(b.len - PROTO_HDR_LEN));
		cause = NULL;
		/* the framing itself is fine in every case */
		if (proto_hdr_decode(&m, b.data, b.len, &cause) != 0)
			fail_msg("%s: header refused: %s", r->label, cause);
		m.fd = r->fd;
		if (proto_validate(&m, &cause) == 0)
			fail_msg("%s: accepted", r->label);
		if (cause == NULL || strstr(cause, r->expect) == NULL)
			fail_msg("%s: cause '%s', expected '%s'", r->label,
			    cause, r->expect);
		free(cause);
		buf_free(&b);
	}
}

static void
test_reject_framing(void **state)
{
	struct proto_msg	 m;
	struct buf		 b;
	uint8_t			*big;
	char			*cause = NULL;

	buf_init(&b);
	buf_add_u16(&b, 1);
	buf_add_u16(&b, MSG_PS);
	buf_add_u32(&b, 0);
	/* short of a header */
	assert_int_equal(proto_hdr_decode(&m, b.data, 7, &cause), -1);
	assert_non_null(strstr(cause, "short message: 7 bytes"));
	/* the length field disagrees with the datagram */
	buf_put_u32(&b, 4, 1);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), -1);
	assert_non_null(strstr(cause, "header says 1 payload bytes"));
	buf_put_u32(&b, 4, 0);
	buf_add_u8(&b, 0);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), -1);
	assert_non_null(strstr(cause, "message has 1"));
	/* over the size cap even with a matching length field */
	big = calloc(1, PROTO_MSG_MAX + 1);
	le32enc(big + 4, PROTO_MSG_MAX + 1 - PROTO_HDR_LEN);
	big[0] = 1;
	big[2] = MSG_PS;
	assert_int_equal(proto_hdr_decode(&m, big, PROTO_MSG_MAX + 1, &cause),
	    -1);
	assert_non_null(strstr(cause, "at most 65536"));
	free(big);

	/* the exact words a newer client gets before it is dropped */
	m.hdr.version = 2;
	assert_int_equal(proto_check_version(&m.hdr, "ommd", &cause), -1);
	assert_string_equal(cause, "protocol version 2, ommd speaks 1");
	m.hdr.version = OMM_PROTO_VERSION;
	assert_int_equal(proto_check_version(&m.hdr, "ommd", &cause), 0);
	free(cause);
	buf_free(&b);
}

/* A decoder called for the wrong type refuses instead of misreading. */
static void
test_reject_wrong_decoder(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_ps_end	 end;
	struct msg_pid		 p;
	struct msg_pid		 in = { .pid = 3 };
	char			*cause = NULL;

	buf_init(&b);
	proto_encode_manage(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_end(&m, &end, &cause), -1);
	assert_non_null(strstr(cause, "PS_END decoder given a MANAGE"));
	buf_reset(&b);
	proto_encode_ps(&b);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_pid(&m, &p, &cause), -1);
	assert_non_null(strstr(cause, "pid decoder given a PS"));
	free(cause);
	buf_free(&b);
}

static void
test_transport(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_pid		 in = { .pid = 42 }, out;
	uint8_t			*rbuf = malloc(PROTO_MSG_MAX);
	char			*cause = NULL, c;
	int			 sv[2], p[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	buf_init(&b);
	proto_encode_restore(&b, &in);
	/* the descriptor arrives and is the same pipe */
	assert_int_equal(proto_send(sv[0], &b, p[1], &cause), 0);
	assert_int_equal(proto_recv(sv[1], rbuf, PROTO_MSG_MAX, &m, &cause),
	    1);
	assert_int_equal(m.hdr.type, MSG_RESTORE);
	assert_true(m.fd > 2 && m.fd != p[1]);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(proto_validate(&m, &cause), 0);
	assert_int_equal(proto_decode_pid(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 42);
	assert_int_equal(write(m.fd, "z", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'z');
	close(m.fd);

	/* a datagram over the cap is refused as a bad message */
	buf_reset(&b);
	memset(buf_reserve(&b, PROTO_MSG_MAX + 10), 0, PROTO_MSG_MAX + 10);
	assert_int_equal(send(sv[0], b.data, b.len, 0), (ssize_t)b.len);
	assert_int_equal(proto_recv(sv[1], rbuf, PROTO_MSG_MAX, &m, &cause),
	    -1);
	assert_int_equal(errno, EBADMSG);
	assert_non_null(strstr(cause, "larger than"));

	/* two descriptors: refused, and both closed rather than leaked */
	{
		struct msghdr	 mh;
		struct iovec	 iov;
		struct cmsghdr	*cm;
		union {
			struct cmsghdr	hdr;
			char		buf[CMSG_SPACE(2 * sizeof(int))];
		}		 ctl;
		int		 two[2] = { p[0], p[1] };

		buf_reset(&b);
		proto_encode_restore(&b, &in);
		memset(&mh, 0, sizeof mh);
		memset(&ctl, 0, sizeof ctl);
		iov.iov_base = b.data;
		iov.iov_len = b.len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof ctl.buf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof two);
		memcpy(CMSG_DATA(cm), two, sizeof two);
		assert_int_equal(sendmsg(sv[0], &mh, 0), (ssize_t)b.len);
		assert_int_equal(proto_recv(sv[1], rbuf, PROTO_MSG_MAX, &m,
		    &cause), -1);
		assert_int_equal(errno, EBADMSG);
		assert_non_null(strstr(cause, "more than one"));
		assert_int_equal(m.fd, -1);
		/* the pipe's write end now has one holder: p[1] */
		close(p[1]);
		assert_int_equal(read(p[0], &c, 1), 0);
		close(p[0]);
		assert_int_equal(pipe(p), 0);
	}

	/* an empty non-blocking socket is not a bad message */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(proto_recv(sv[1], rbuf, PROTO_MSG_MAX, &m, &cause),
	    -1);
	assert_int_equal(errno, EAGAIN);

	/* end of file */
	close(sv[0]);
	assert_int_equal(proto_recv(sv[1], rbuf, PROTO_MSG_MAX, &m, &cause),
	    0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	free(cause);
	free(rbuf);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_empty),
		cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_roundtrip_pid),
		cmocka_unit_test(test_roundtrip_restored),
		cmocka_unit_test(test_roundtrip_checkpoint),
		cmocka_unit_test(test_roundtrip_checkpointed),
		cmocka_unit_test(test_roundtrip_ps_entry),
		cmocka_unit_test(test_roundtrip_ps_end),
		cmocka_unit_test(test_roundtrip_periodic),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_reject_framing),
		cmocka_unit_test(test_reject_wrong_decoder),
		cmocka_unit_test(test_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
