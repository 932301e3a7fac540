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
test_roundtrip_ps_migration(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_ps_entry	 in, out;
	char			*cause = NULL;

	memset(&in, 0, sizeof in);
	in.pid = 77;
	in.ppid = 70;
	in.state = PROTO_STATE_RUNNING;
	in.threads = 1;
	in.command = "xz -9";
	in.home_node = 1;
	in.where = 3;
	in.where_name = "node3";
	in.migrations = 2;
	in.locked = 1;
	in.away = PROTO_AWAY_REMOTE;
	in.fwd_calls = 1ULL << 40;
	in.fwd_errors = 17;
	in.fwd_bytes_in = 123456789012ULL;
	in.fwd_bytes_out = 5;
	in.fwd_signals = 3;
	in.ckpt_every = 60;
	in.ckpt_last = 1795570842;
	in.ckpt_error = "write image: No space left on device";
	buf_init(&b);
	proto_encode_ps_entry(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 77);
	assert_string_equal(out.command, "xz -9");
	assert_null(out.cantmove);
	assert_int_equal(out.home_node, 1);
	assert_int_equal(out.where, 3);
	assert_string_equal(out.where_name, "node3");
	assert_int_equal(out.migrations, 2);
	assert_int_equal(out.locked, 1);
	assert_int_equal(out.away, PROTO_AWAY_REMOTE);
	assert_true(out.fwd_calls == 1ULL << 40);
	assert_int_equal(out.fwd_errors, 17);
	assert_true(out.fwd_bytes_in == 123456789012ULL);
	assert_int_equal(out.fwd_bytes_out, 5);
	assert_int_equal(out.fwd_signals, 3);
	assert_int_equal(out.ckpt_every, 60);
	assert_true(out.ckpt_last == 1795570842);
	assert_string_equal(out.ckpt_error, in.ckpt_error);
	proto_free_ps_entry(&out);
	in.ckpt_error = NULL;

	/* a checkpoint time without a period is refused */
	in.ckpt_every = 0;
	buf_reset(&b);
	proto_encode_ps_entry(&b, &in);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	m.fd = -1;
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), -1);
	assert_non_null(strstr(cause, "without a period"));
	free(cause);
	cause = NULL;
	in.ckpt_last = 0;

	/* on its way out, the name not known: still home, name NULL */
	in.where = 1;
	in.where_name = NULL;
	in.away = PROTO_AWAY_MIGRATING;
	in.locked = 0;
	buf_reset(&b);
	proto_encode_ps_entry(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), 0);
	assert_null(out.where_name);
	assert_int_equal(out.where, 1);
	assert_int_equal(out.away, PROTO_AWAY_MIGRATING);
	assert_int_equal(out.locked, 0);
	proto_free_ps_entry(&out);

	/* a node without a fabric: node 0 at home is fine */
	in.home_node = in.where = 0;
	in.away = PROTO_AWAY_HOME;
	buf_reset(&b);
	proto_encode_ps_entry(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_ps_entry(&m, &out, &cause), 0);
	assert_int_equal(out.away, PROTO_AWAY_HOME);
	proto_free_ps_entry(&out);
	buf_free(&b);
}

static void
test_roundtrip_migrate(void **state)
{
	static const struct {
		const char	*node;
		uint32_t	 flags;
	} cases[] = {
		{ "node2", 0 },
		{ "home", 0 },
		{ "3", PROTO_MIG_AFTER_EXEC },
		{ "a-very-long-node-name-of-exactly-sixty-three-bytes-0123456789ab",
		    0 },
	};
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_migrate	 in, out;
	char			*cause = NULL;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		in.pid = 4242;
		in.node = (char *)cases[i].node;
		in.flags = cases[i].flags;
		buf_reset(&b);
		proto_encode_migrate(&b, &in);
		split(&b, &m, -1);
		assert_int_equal(m.hdr.type, MSG_MIGRATE);
		assert_int_equal(proto_decode_migrate(&m, &out, &cause), 0);
		assert_int_equal(out.pid, 4242);
		assert_string_equal(out.node, cases[i].node);
		assert_int_equal(out.flags, cases[i].flags);
		proto_free_migrate(&out);
		assert_null(out.node);
	}
	assert_int_equal(strlen(cases[3].node), PROTO_NODE_MAX);
	buf_free(&b);
}

static void
test_roundtrip_migrated(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_migrated	 in, out;
	char			*cause = NULL;

	in.pid = 1234;
	in.node = 2;
	in.node_name = "n2";
	in.comm = "xz";
	in.freeze_secs = 0.41;
	in.bytes = 536870912ULL + 77;
	in.secs = 0.43;
	buf_init(&b);
	proto_encode_migrated(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_migrated(&m, &out, &cause), 0);
	assert_int_equal(out.pid, 1234);
	assert_int_equal(out.node, 2);
	assert_string_equal(out.node_name, "n2");
	assert_string_equal(out.comm, "xz");
	assert_true(out.bytes == 536870912ULL + 77);
	assert_true(out.freeze_secs - 0.41 < 1e-8 &&
	    0.41 - out.freeze_secs < 1e-8);
	assert_true(out.secs - 0.43 < 1e-8 && 0.43 - out.secs < 1e-8);
	proto_free_migrated(&out);

	/* names not known travel as empty and come back NULL */
	in.node_name = NULL;
	in.comm = NULL;
	in.secs = -1;	/* nonsense times become 0, never garbage */
	buf_reset(&b);
	proto_encode_migrated(&b, &in);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_migrated(&m, &out, &cause), 0);
	assert_null(out.node_name);
	assert_null(out.comm);
	assert_true(out.secs == 0);
	proto_free_migrated(&out);
	buf_free(&b);
}

static void
test_roundtrip_bring_lock(void **state)
{
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_bring	 bin, bout;
	struct msg_count	 cin = { .count = 3 }, cout;
	struct msg_lock		 lin, lout;
	char			*cause = NULL;

	buf_init(&b);
	bin.pid = 99;
	bin.flags = 0;
	proto_encode_bring(&b, &bin);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_bring(&m, &bout, &cause), 0);
	assert_int_equal(bout.pid, 99);
	assert_int_equal(bout.flags, 0);

	buf_reset(&b);
	bin.pid = 0;
	bin.flags = PROTO_BRING_ALL;
	proto_encode_bring(&b, &bin);
	split(&b, &m, -1);
	assert_int_equal(proto_decode_bring(&m, &bout, &cause), 0);
	assert_int_equal(bout.pid, 0);
	assert_int_equal(bout.flags, PROTO_BRING_ALL);

	buf_reset(&b);
	proto_encode_count(&b, MSG_BROUGHT, &cin);
	split(&b, &m, -1);
	assert_int_equal(m.hdr.type, MSG_BROUGHT);
	assert_int_equal(proto_decode_count(&m, &cout, &cause), 0);
	assert_int_equal(cout.count, 3);

	for (lin.on = 0; lin.on <= 1; lin.on++) {
		buf_reset(&b);
		lin.pid = 7;
		proto_encode_lock(&b, &lin);
		split(&b, &m, -1);
		assert_int_equal(proto_decode_lock(&m, &lout, &cause), 0);
		assert_int_equal(lout.pid, 7);
		assert_int_equal(lout.on, lin.on);
	}
	buf_free(&b);
}

/* POLICY: no list (any node), a list, the full list, stay. */
static void
test_roundtrip_policy(void **state)
{
	static const struct {
		const char	*label;
		uint32_t	 flags;
		uint32_t	 nnodes;
	} cases[] = {
		{ "stay, any node", PROTO_POL_STAY, 0 },
		{ "two nodes", 0, 2 },
		{ "stay and one node", PROTO_POL_STAY, 1 },
		{ "the most nodes", 0, PROTO_POLICY_MAX_NODES },
		{ "no restriction at all", 0, 0 },
	};
	struct buf		 b;
	struct proto_msg	 m;
	struct msg_policy	 in, out;
	char			*cause = NULL;
	uint32_t		 j;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&in, 0, sizeof in);
		in.pid = 4242;
		in.flags = cases[i].flags;
		in.nnodes = cases[i].nnodes;
		/* descending, large ids: order and width survive */
		for (j = 0; j < in.nnodes; j++)
			in.nodes[j] = 0xfffffff0u - j * 3;
		buf_reset(&b);
		proto_encode_policy(&b, &in);
		assert_int_equal(b.len, PROTO_HDR_LEN + 12 + 4 * in.nnodes);
		split(&b, &m, -1);
		assert_int_equal(m.hdr.type, MSG_POLICY);
		memset(&out, 0xa5, sizeof out);
		if (proto_decode_policy(&m, &out, &cause) != 0)
			fail_msg("%s: %s", cases[i].label, cause);
		assert_int_equal(out.pid, 4242);
		assert_int_equal(out.flags, in.flags);
		assert_int_equal(out.nnodes, in.nnodes);
		/* the unused tail is zeroed, not left over from before */
		assert_memory_equal(out.nodes, in.nodes, sizeof in.nodes);
	}
	assert_string_equal(proto_type_name(MSG_POLICY), "POLICY");
	buf_free(&b);
}

/* What a user may name as a node, checked the same in omctl, omrun, ommd. */
static void
test_node_arg(void **state)
{
	static const struct {
		const char	*arg;
		int		 ok;
		const char	*expect;
	} cases[] = {
		{ "home", 1, NULL },
		{ "n2", 1, NULL },
		{ "17", 1, NULL },
		{ "node-3", 1, NULL },
		{ "", 0, "empty node name" },
		{ "n 2", 0, "invalid node name" },
		{ "n2\n", 0, "invalid node name" },
		{ "../n2", 0, "invalid node name" },
		{ "n\xc3\xa9", 0, "invalid node name" },
		{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		    0, "longer than 63 bytes" },
	};
	char	*cause;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		if (cases[i].ok) {
			if (proto_check_node_arg(cases[i].arg, &cause) != 0)
				fail_msg("'%s' refused: %s", cases[i].arg,
				    cause);
			continue;
		}
		if (proto_check_node_arg(cases[i].arg, &cause) == 0)
			fail_msg("'%s' accepted", cases[i].arg);
		if (strstr(cause, cases[i].expect) == NULL)
			fail_msg("'%s': cause '%s', expected '%s'",
			    cases[i].arg, cause, cases[i].expect);
		free(cause);
	}
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
	assert_string_equal(proto_type_name(MSG_MIGRATE), "MIGRATE");
	assert_string_equal(proto_type_name(MSG_MIGRATED), "MIGRATED");
	assert_string_equal(proto_type_name(MSG_BRING), "BRING");
	assert_string_equal(proto_type_name(MSG_BROUGHT), "BROUGHT");
	assert_string_equal(proto_type_name(MSG_LOCK), "LOCK");
	assert_string_equal(proto_away_name(PROTO_AWAY_HOME), "home");
	assert_string_equal(proto_away_name(PROTO_AWAY_MIGRATING),
	    "migrating");
	assert_string_equal(proto_away_name(PROTO_AWAY_REMOTE), "remote");
	assert_string_equal(proto_away_name(PROTO_AWAY_RETURNING),
	    "returning");
	assert_string_equal(proto_away_name(PROTO_AWAY_NSTATES), "invalid");
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

/* PS_ENTRY's periodic checkpoint fields, last. */
static void
ps_periodic(struct buf *b, uint32_t every, uint64_t last, uint8_t marker)
{
	buf_add_u32(b, every);
	buf_add_u64(b, last);
	buf_add_u8(b, marker);
	if (marker == 1)
		buf_add_str(b, "disk full");
}

/* PS_ENTRY's migration fields, after cantmove. */
static void
ps_migration(struct buf *b, uint32_t home, uint32_t where, uint8_t marker,
    const char *name, uint8_t locked, uint8_t away, uint64_t calls,
    uint64_t errors)
{
	buf_add_u32(b, home);
	buf_add_u32(b, where);
	buf_add_u8(b, marker);
	if (marker == 1)
		buf_add_str(b, name);
	buf_add_u32(b, 2);
	buf_add_u8(b, locked);
	buf_add_u8(b, away);
	buf_add_u64(b, calls);
	buf_add_u64(b, errors);
	buf_add_u64(b, 10);
	buf_add_u64(b, 20);
	buf_add_u64(b, 1);
	ps_periodic(b, 0, 0, 0);
}

/* A PS_ENTRY of process 9 at home, ready for its migration fields. */
static void
ps_entry_head(struct buf *b)
{
	buf_add_u32(b, 9);
	buf_add_u32(b, 1);
	buf_add_u32(b, 1000);
	buf_add_u32(b, 3);
	buf_add_u32(b, 0);
	buf_add_u32(b, 1);
	buf_add_u64(b, 1);
	buf_add_str(b, "sh");
	buf_add_u8(b, 0);
}

static void p_psm_away(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 0, NULL, 0, PROTO_AWAY_NSTATES, 0, 0); }
static void p_psm_locked(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 1, 0, NULL, 2, 0, 0, 0); }
static void p_psm_home_where(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 0, NULL, 0, PROTO_AWAY_HOME, 0, 0); }
static void p_psm_remote_home(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 1, 0, NULL, 0, PROTO_AWAY_REMOTE, 0, 0); }
static void p_psm_marker(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 2, NULL, 0, PROTO_AWAY_REMOTE, 0, 0); }
static void p_psm_name_empty(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 1, "", 0, PROTO_AWAY_REMOTE, 0, 0); }
static void p_psm_errors(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 0, NULL, 0, PROTO_AWAY_REMOTE, 3, 4); }
static void p_psm_old(struct buf *b) { ps_entry_head(b); }
static void p_psp_marker(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 1, 0, NULL, 0, PROTO_AWAY_HOME, 0, 0); b->len -= 13; ps_periodic(b, 5, 0, 2); }
static void p_psp_noperiod(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 1, 0, NULL, 0, PROTO_AWAY_HOME, 0, 0); b->len -= 13; ps_periodic(b, 0, 7, 0); }
static void p_psp_error(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 1, 0, NULL, 0, PROTO_AWAY_HOME, 0, 0); b->len -= 13; ps_periodic(b, 0, 0, 1); }
static void p_psm_short(struct buf *b) { ps_entry_head(b); ps_migration(b, 1, 2, 0, NULL, 0, PROTO_AWAY_REMOTE, 0, 0); b->len -= 8; }

static void
p_psm_name_long(struct buf *b)
{
	char	s[PROTO_NODE_MAX + 2];

	memset(s, 'n', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	ps_entry_head(b);
	ps_migration(b, 1, 2, 1, s, 0, PROTO_AWAY_REMOTE, 0, 0);
}

/* MIGRATE, BRING, LOCK and MIGRATED, their fields one at a time. */
static void
migrate(struct buf *b, uint32_t pid, const char *node, uint32_t flags)
{
	buf_add_u32(b, pid);
	buf_add_str(b, node);
	buf_add_u32(b, flags);
}

static void p_mig_pid0(struct buf *b) { migrate(b, 0, "n2", 0); }
static void p_mig_empty(struct buf *b) { migrate(b, 5, "", 0); }
static void p_mig_space(struct buf *b) { migrate(b, 5, "n 2", 0); }
static void p_mig_ctrl(struct buf *b) { migrate(b, 5, "n2\033[2J", 0); }
static void p_mig_flags(struct buf *b) { migrate(b, 5, "n2", 0x6); }
static void p_mig_trailing(struct buf *b) { migrate(b, 5, "n2", 1); buf_add_u8(b, 0); }
static void p_mig_noflags(struct buf *b) { buf_add_u32(b, 5); buf_add_str(b, "n2"); }
static void p_mig_nul(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 3); buf_add(b, "n\0" "2", 3); buf_add_u32(b, 0); }
static void p_mig_short(struct buf *b) { buf_add_u16(b, 5); }

static void
p_mig_long(struct buf *b)
{
	char	s[PROTO_NODE_MAX + 2];

	memset(s, 'n', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	migrate(b, 5, s, 0);
}

static void
migrated(struct buf *b, uint32_t pid, uint32_t node, const char *name,
    const char *comm)
{
	buf_add_u32(b, pid);
	buf_add_u32(b, node);
	buf_add_str(b, name);
	buf_add_str(b, comm);
	buf_add_u64(b, 1000);
	buf_add_u64(b, 4096);
	buf_add_u64(b, 2000);
}

static void p_migd_pid0(struct buf *b) { migrated(b, 0, 2, "n2", "xz"); }
static void p_migd_node0(struct buf *b) { migrated(b, 5, 0, "n2", "xz"); }
static void p_migd_name(struct buf *b) { migrated(b, 5, 2, "n/2", "xz"); }
static void p_migd_trailing(struct buf *b) { migrated(b, 5, 2, "n2", "xz"); buf_add_u8(b, 0); }
static void p_migd_short(struct buf *b) { migrated(b, 5, 2, "n2", "xz"); b->len -= 1; }
static void p_migd_tiny(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 2); }

static void
p_migd_comm_long(struct buf *b)
{
	char	s[PROTO_COMM_MAX + 2];

	memset(s, 'c', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	migrated(b, 5, 2, "n2", s);
}

static void p_bring_pid0(struct buf *b) { buf_add_u32(b, 0); buf_add_u32(b, 0); }
static void p_bring_allpid(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, PROTO_BRING_ALL); }
static void p_bring_flags(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 2); }
static void p_bring_short(struct buf *b) { buf_add_u32(b, 5); }
static void p_lock_on2(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 2); }
static void p_lock_pid0(struct buf *b) { buf_add_u32(b, 0); buf_add_u32(b, 1); }
static void p_lock_long(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 1); buf_add_u8(b, 0); }

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
	ps_migration(b, 1, 1, 0, NULL, 0, PROTO_AWAY_HOME, 0, 0);
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

/* POLICY: pid, flags, count, then count ids. */
static void
policy(struct buf *b, uint32_t pid, uint32_t flags, uint32_t n,
    const uint32_t *ids, size_t nids)
{
	size_t	i;

	buf_add_u32(b, pid);
	buf_add_u32(b, flags);
	buf_add_u32(b, n);
	for (i = 0; i < nids; i++)
		buf_add_u32(b, ids[i]);
}

static const uint32_t pol_ids[] = { 2, 3, 2, 0 };
static void p_pol_pid0(struct buf *b) { policy(b, 0, 0, 0, NULL, 0); }
static void p_pol_flags(struct buf *b) { policy(b, 5, 0x3, 0, NULL, 0); }
static void p_pol_node0(struct buf *b) { policy(b, 5, 0, 2, pol_ids + 2, 2); }
static void p_pol_dup(struct buf *b) { policy(b, 5, 0, 3, pol_ids, 3); }
static void p_pol_count_more(struct buf *b) { policy(b, 5, 0, 3, pol_ids, 2); }
static void p_pol_count_less(struct buf *b) { policy(b, 5, 0, 1, pol_ids, 2); }
static void p_pol_short(struct buf *b) { buf_add_u32(b, 5); buf_add_u32(b, 0); }
static void p_pol_odd(struct buf *b) { policy(b, 5, 0, 1, pol_ids, 1); buf_add_u8(b, 0); }

/* One id over the cap: refused on the count, before the ids are read. */
static void
p_pol_toomany(struct buf *b)
{
	uint32_t	ids[PROTO_POLICY_MAX_NODES + 1];
	size_t		i;

	for (i = 0; i < PROTO_POLICY_MAX_NODES + 1; i++)
		ids[i] = i + 1;
	policy(b, 5, 0, PROTO_POLICY_MAX_NODES + 1, ids,
	    PROTO_POLICY_MAX_NODES + 1);
}

/* A count that would overflow 12 + 4 * n in 32 bits. */
static void p_pol_huge(struct buf *b) { policy(b, 5, 0, 0x40000001u, pol_ids, 1); }

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
	{ "PS_ENTRY bad checkpoint error marker", 1, MSG_PS_ENTRY, p_psp_marker,
	    -1, "bad checkpoint error marker 2" },
	{ "PS_ENTRY checkpoint without period", 1, MSG_PS_ENTRY,
	    p_psp_noperiod, -1, "without a period" },
	{ "PS_ENTRY checkpoint error without period", 1, MSG_PS_ENTRY,
	    p_psp_error, -1, "without a period" },
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
	{ "PS_ENTRY unknown away state", 1, MSG_PS_ENTRY, p_psm_away, -1,
	    "unknown away state 4" },
	{ "PS_ENTRY bad lock marker", 1, MSG_PS_ENTRY, p_psm_locked, -1,
	    "bad lock marker 2" },
	{ "PS_ENTRY home but elsewhere", 1, MSG_PS_ENTRY, p_psm_home_where, -1,
	    "at home on node 1 but runs on node 2" },
	{ "PS_ENTRY remote at home", 1, MSG_PS_ENTRY, p_psm_remote_home, -1,
	    "away but runs on its home node 1" },
	{ "PS_ENTRY bad node name marker", 1, MSG_PS_ENTRY, p_psm_marker, -1,
	    "bad node name marker 2" },
	{ "PS_ENTRY empty node name", 1, MSG_PS_ENTRY, p_psm_name_empty, -1,
	    "empty node name" },
	{ "PS_ENTRY node name too long", 1, MSG_PS_ENTRY, p_psm_name_long, -1,
	    "node name of 64 bytes, at most 63" },
	{ "PS_ENTRY more errors than calls", 1, MSG_PS_ENTRY, p_psm_errors,
	    -1, "4 forwarded calls failed of 3" },
	{ "PS_ENTRY without migration fields", 1, MSG_PS_ENTRY, p_psm_old, -1,
	    "truncated" },
	{ "PS_ENTRY migration fields cut", 1, MSG_PS_ENTRY, p_psm_short, -1,
	    "truncated" },
	{ "MIGRATE pid 0", 1, MSG_MIGRATE, p_mig_pid0, -1, "invalid pid 0" },
	{ "MIGRATE empty node", 1, MSG_MIGRATE, p_mig_empty, -1,
	    "MIGRATE: empty node" },
	{ "MIGRATE node too long", 1, MSG_MIGRATE, p_mig_long, -1,
	    "node of 64 bytes, at most 63" },
	{ "MIGRATE node with a space", 1, MSG_MIGRATE, p_mig_space, -1,
	    "invalid node name" },
	{ "MIGRATE node with an escape", 1, MSG_MIGRATE, p_mig_ctrl, -1,
	    "invalid node name" },
	{ "MIGRATE node with a NUL", 1, MSG_MIGRATE, p_mig_nul, -1,
	    "NUL byte" },
	{ "MIGRATE unknown flags", 1, MSG_MIGRATE, p_mig_flags, -1,
	    "unknown flags 0x6" },
	{ "MIGRATE trailing", 1, MSG_MIGRATE, p_mig_trailing, -1,
	    "1 trailing bytes" },
	{ "MIGRATE without flags", 1, MSG_MIGRATE, p_mig_noflags, -1,
	    "truncated" },
	{ "MIGRATE short", 1, MSG_MIGRATE, p_mig_short, -1, "truncated" },
	{ "MIGRATE with an fd", 1, MSG_MIGRATE, p_mig_trailing, 3,
	    "MIGRATE with a stray file descriptor" },
	{ "MIGRATED pid 0", 1, MSG_MIGRATED, p_migd_pid0, -1,
	    "invalid pid 0" },
	{ "MIGRATED node 0", 1, MSG_MIGRATED, p_migd_node0, -1,
	    "MIGRATED: node id 0" },
	{ "MIGRATED bad node name", 1, MSG_MIGRATED, p_migd_name, -1,
	    "invalid node name" },
	{ "MIGRATED comm too long", 1, MSG_MIGRATED, p_migd_comm_long, -1,
	    "comm of 256 bytes, at most 255" },
	{ "MIGRATED trailing", 1, MSG_MIGRATED, p_migd_trailing, -1,
	    "1 trailing bytes" },
	{ "MIGRATED cut", 1, MSG_MIGRATED, p_migd_short, -1, "truncated" },
	{ "MIGRATED tiny", 1, MSG_MIGRATED, p_migd_tiny, -1,
	    "MIGRATED: payload of 8 bytes, at least 40" },
	{ "BRING pid 0 without all", 1, MSG_BRING, p_bring_pid0, -1,
	    "invalid pid 0" },
	{ "BRING all with a pid", 1, MSG_BRING, p_bring_allpid, -1,
	    "BRING: pid 5 with all" },
	{ "BRING unknown flags", 1, MSG_BRING, p_bring_flags, -1,
	    "BRING: unknown flags 0x2" },
	{ "BRING short", 1, MSG_BRING, p_bring_short, -1,
	    "BRING: payload of 4 bytes, expected 8" },
	{ "BROUGHT long", 1, MSG_BROUGHT, p_end_5, -1,
	    "BROUGHT: payload of 5 bytes, expected 4" },
	{ "LOCK value 2", 1, MSG_LOCK, p_lock_on2, -1,
	    "LOCK: bad lock value 2" },
	{ "LOCK pid 0", 1, MSG_LOCK, p_lock_pid0, -1, "invalid pid 0" },
	{ "LOCK long", 1, MSG_LOCK, p_lock_long, -1,
	    "LOCK: payload of 9 bytes, expected 8" },
	{ "POLICY pid 0", 1, MSG_POLICY, p_pol_pid0, -1, "invalid pid 0" },
	{ "POLICY unknown flags", 1, MSG_POLICY, p_pol_flags, -1,
	    "POLICY: unknown flags 0x2" },
	{ "POLICY node id 0", 1, MSG_POLICY, p_pol_node0, -1,
	    "POLICY: node id 0" },
	{ "POLICY duplicate node", 1, MSG_POLICY, p_pol_dup, -1,
	    "POLICY: node 2 listed twice" },
	{ "POLICY more nodes than the cap", 1, MSG_POLICY, p_pol_toomany, -1,
	    "POLICY: 65 nodes, at most 64" },
	{ "POLICY count overflowing the length", 1, MSG_POLICY, p_pol_huge,
	    -1, "at most 64" },
	{ "POLICY count above the ids sent", 1, MSG_POLICY, p_pol_count_more,
	    -1, "POLICY: payload of 20 bytes for 3 nodes, expected 24" },
	{ "POLICY count below the ids sent", 1, MSG_POLICY, p_pol_count_less,
	    -1, "POLICY: payload of 20 bytes for 1 nodes, expected 16" },
	{ "POLICY short", 1, MSG_POLICY, p_pol_short, -1,
	    "POLICY: payload of 8 bytes, at least 12" },
	{ "POLICY trailing byte", 1, MSG_POLICY, p_pol_odd, -1,
	    "POLICY: payload of 17 bytes for 1 nodes, expected 16" },
	{ "POLICY with an fd", 1, MSG_POLICY, p_pol_pid0, 3,
	    "POLICY with a stray file descriptor" },
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
		cmocka_unit_test(test_roundtrip_ps_migration),
		cmocka_unit_test(test_roundtrip_migrate),
		cmocka_unit_test(test_roundtrip_migrated),
		cmocka_unit_test(test_roundtrip_bring_lock),
		cmocka_unit_test(test_roundtrip_policy),
		cmocka_unit_test(test_node_arg),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_reject_framing),
		cmocka_unit_test(test_reject_wrong_decoder),
		cmocka_unit_test(test_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
