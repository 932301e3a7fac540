/* test_proto_cluster.c: the control protocol's cluster messages: round trips, truncation, every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "omm/buf.h"
#include "omm/proto.h"

/* Split an encoded message as a receiver would; it must validate. */
static void
split(const struct buf *b, struct proto_msg *m)
{
	char	*cause = NULL;

	assert_int_equal(proto_hdr_decode(m, b->data, b->len, &cause), 0);
	assert_int_equal(proto_validate(m, &cause), 0);
	assert_null(cause);
}

static void
node_fill(struct msg_node *n)
{
	memset(n, 0, sizeof *n);
	n->node = 7;
	n->self = 0;
	n->state = PROTO_NODE_UP;
	n->link = PROTO_LINK_UP;
	n->has_lv = 1;
	n->bye = 0;
	n->incarnation = 1795500000000ULL;
	n->age_ms = 420;
	strcpy(n->name, "node7");
	n->addr.family = NODE_AF_INET;
	n->addr.addr[0] = 198;
	n->addr.addr[1] = 18;
	n->addr.addr[3] = 17;
	n->addr.port = 7077;
	n->lv.ncpu = 2;
	n->lv.speed = 37000;
	n->lv.load = 152;
	n->lv.mem_total = 24000000;
	n->lv.mem_free = 20000000;
	n->lv.guests = 3;
	n->lv.flags = LV_BLOCK | LV_QUIET;
	n->lv.cpu.word[CPUW_1_ECX] = 0xdeadbeef;
	n->lv.cpu.xcr0 = 0xe7;
	n->lv.cpu.xsave_size = 2696;
	strcpy(n->lv.cpu.model, "AMD EPYC");
	strcpy(n->lv.kernel, "6.18.0");
}

static void
test_node_roundtrip(void **state)
{
	struct msg_node		in, out;
	struct proto_msg	m;
	struct buf		b;
	char			*cause = NULL;

	node_fill(&in);
	buf_init(&b);
	proto_encode_node(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_node(&m, &out, &cause), 0);
	assert_int_equal(out.node, 7);
	assert_int_equal(out.state, PROTO_NODE_UP);
	assert_int_equal(out.link, PROTO_LINK_UP);
	assert_int_equal(out.age_ms, 420);
	assert_string_equal(out.name, "node7");
	assert_memory_equal(&out.addr, &in.addr, sizeof in.addr);
	assert_int_equal(out.lv.load, 152);
	assert_int_equal(out.lv.mem_free, 20000000);
	assert_int_equal(out.lv.flags, LV_BLOCK | LV_QUIET);
	assert_int_equal(out.lv.cpu.word[CPUW_1_ECX], 0xdeadbeef);
	assert_int_equal(out.lv.cpu.xcr0, 0xe7);
	assert_string_equal(out.lv.cpu.model, "AMD EPYC");
	assert_string_equal(out.lv.kernel, "6.18.0");
	assert_int_equal(out.lv.node, 7);
	assert_string_equal(out.lv.name, "node7");

	/* a node heard of but never measured: age -1, no vector */
	node_fill(&in);
	memset(&in.lv, 0, sizeof in.lv);
	in.has_lv = 0;
	in.age_ms = -1;
	in.state = PROTO_NODE_UNKNOWN;
	in.name[0] = '\0';
	buf_reset(&b);
	proto_encode_node(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_node(&m, &out, &cause), 0);
	assert_int_equal(out.age_ms, -1);
	assert_int_equal(out.has_lv, 0);
	assert_string_equal(out.name, "");
	buf_free(&b);
}

static void
status_fill(struct msg_status *st)
{
	size_t	i;

	memset(st, 0, sizeof *st);
	for (i = 0; i < PROTO_ST_NNUM; i++)
		st->num[i] = i * 1000 + 1;
	for (i = 0; i < PROTO_ST_NSTR; i++)
		st->str[i] = (char *)proto_status_str_name(i, NULL);
}

static void
test_status_roundtrip(void **state)
{
	struct msg_status	in, out;
	struct proto_msg	m;
	struct buf		b;
	const char		*group;
	char			*cause = NULL;
	size_t			i, j;

	status_fill(&in);
	buf_init(&b);
	proto_encode_status(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_status(&m, &out, &cause), 0);
	for (i = 0; i < PROTO_ST_NNUM; i++)
		assert_int_equal(out.num[i], i * 1000 + 1);
	for (i = 0; i < PROTO_ST_NSTR; i++)
		assert_string_equal(out.str[i], in.str[i]);
	proto_free_status(&out);
	/* every field has a group and a name, unique within its group */
	for (i = 0; i < PROTO_ST_NNUM; i++) {
		assert_non_null(proto_status_num_name(i, &group));
		assert_non_null(group);
		for (j = 0; j < i; j++) {
			const char	*g2;

			if (strcmp(proto_status_num_name(j, &g2),
			    proto_status_num_name(i, NULL)) == 0)
				assert_string_not_equal(g2, group);
		}
	}
	buf_free(&b);
}

static void
test_link_roundtrip(void **state)
{
	struct msg_link		in, out;
	struct proto_msg	m;
	struct buf		b;
	char			*cause = NULL;

	memset(&in, 0, sizeof in);
	in.node = 3;
	strcpy(in.name, "node3");
	in.state = PROTO_LINK_UP;
	in.dialed = 1;
	in.up_ms = 12345;
	in.serial = 99;
	in.established = 2;
	in.lost = 1;
	in.failed = 4;
	in.refused = 5;
	in.frames_in = 6;
	in.frames_out = 7;
	in.bytes_in = 8;
	in.bytes_out = 9;
	in.error = "connection closed";
	buf_init(&b);
	proto_encode_link(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_link(&m, &out, &cause), 0);
	assert_int_equal(out.node, 3);
	assert_int_equal(out.up_ms, 12345);
	assert_int_equal(out.serial, 99);
	assert_int_equal(out.refused, 5);
	assert_int_equal(out.bytes_out, 9);
	assert_string_equal(out.error, "connection closed");
	proto_free_link(&out);

	/* not up: up_ms -1, no error */
	in.state = PROTO_LINK_WAIT;
	in.up_ms = -1;
	in.error = NULL;
	buf_reset(&b);
	proto_encode_link(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_link(&m, &out, &cause), 0);
	assert_null(out.error);
	assert_int_equal(out.up_ms, -1);
	buf_free(&b);
}

static void
test_count_set_roundtrip(void **state)
{
	static const uint16_t	types[] = { MSG_NODES_END, MSG_STATUS_END,
				    MSG_EXPELLED };
	struct msg_count	c = { 42 }, co;
	struct msg_set		s = { 6, 150 }, so;
	struct proto_msg	m;
	struct buf		b;
	char			*cause = NULL;
	size_t			i;

	buf_init(&b);
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		buf_reset(&b);
		proto_encode_count(&b, types[i], &c);
		split(&b, &m);
		assert_int_equal(proto_decode_count(&m, &co, &cause), 0);
		assert_int_equal(co.count, 42);
	}
	buf_reset(&b);
	proto_encode_set(&b, &s);
	split(&b, &m);
	assert_int_equal(proto_decode_set(&m, &so, &cause), 0);
	assert_int_equal(so.setting, 6);
	assert_int_equal(so.value, 150);
	/* the empty requests */
	buf_reset(&b);
	proto_encode_empty(&b, MSG_NODES);
	split(&b, &m);
	assert_int_equal(m.hdr.len, 0);
	assert_string_equal(proto_type_name(MSG_LEAVE), "LEAVE");
	buf_free(&b);
}

/* Every strict prefix of a valid payload is refused, never read past. */
static void
truncate_all(struct buf *b, uint16_t type)
{
	struct proto_msg	m;
	char			*cause;
	size_t			n;

	for (n = 0; n + 8 < b->len; n++) {
		m.hdr.version = OMM_PROTO_VERSION;
		m.hdr.type = type;
		m.hdr.len = (uint32_t)n;
		m.payload = b->data + 8;
		m.fd = -1;
		cause = NULL;
		assert_int_not_equal(proto_validate(&m, &cause), 0);
		assert_non_null(cause);
		free(cause);
	}
}

static void
test_truncation(void **state)
{
	struct msg_node		n;
	struct msg_status	st;
	struct msg_link		l;
	struct buf		b;

	buf_init(&b);
	node_fill(&n);
	proto_encode_node(&b, &n);
	truncate_all(&b, MSG_NODE);
	buf_reset(&b);
	status_fill(&st);
	proto_encode_status(&b, &st);
	truncate_all(&b, MSG_STATUS_INFO);
	buf_reset(&b);
	memset(&l, 0, sizeof l);
	l.node = 1;
	l.up_ms = -1;
	l.error = "x";
	proto_encode_link(&b, &l);
	truncate_all(&b, MSG_LINK);
	buf_free(&b);
}

/* Patch one field of a valid encoded NODE and expect a refusal naming it. */
static void
node_reject(size_t off, const void *val, size_t len, const char *expect)
{
	struct msg_node		n, out;
	struct proto_msg	m;
	struct buf		b;
	char			*cause = NULL;

	node_fill(&n);
	buf_init(&b);
	proto_encode_node(&b, &n);
	memcpy(b.data + 8 + off, val, len);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_decode_node(&m, &out, &cause), 0);
	assert_non_null(cause);
	if (strstr(cause, expect) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, expect);
	free(cause);
	buf_free(&b);
}

static void
test_node_rejects(void **state)
{
	static const uint8_t	zero4[4], bad = 9, two = 2, fam = 5;
	static const uint8_t	age[8] = { 0xfe, 0xff, 0xff, 0xff, 0xff,
				    0xff, 0xff, 0xff };	/* -2 */

	/* node u32 @0, self @4, state @5, link @6, has_lv @7, bye @8 */
	node_reject(0, zero4, 4, "node id 0");
	node_reject(4, &two, 1, "bad marker");
	node_reject(5, &bad, 1, "unknown state 9");
	node_reject(6, &bad, 1, "unknown link state 9");
	node_reject(7, &two, 1, "bad marker");
	/* incarnation @10, age @18 */
	node_reject(18, age, 8, "age -2");
	/* name: u32 length @26, "node7" @30; address family @35 */
	node_reject(35, &fam, 1, "address family 5");
}

static void
test_other_rejects(void **state)
{
	struct proto_msg	m;
	struct msg_link		l;
	struct msg_status	st;
	struct msg_set		s;
	struct buf		b;
	char			*cause = NULL;

	buf_init(&b);
	/* LINK up with no up time */
	memset(&l, 0, sizeof l);
	l.node = 2;
	l.state = PROTO_LINK_UP;
	l.up_ms = -1;
	proto_encode_link(&b, &l);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_decode_link(&m, &l, &cause), 0);
	assert_non_null(strstr(cause, "state up but up for -1"));
	free(cause);
	cause = NULL;

	/* STATUS_INFO with another count of numbers */
	status_fill(&st);
	buf_reset(&b);
	proto_encode_status(&b, &st);
	b.data[8] ^= 1;
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_decode_status(&m, &st, &cause), 0);
	assert_non_null(strstr(cause, "numbers"));
	free(cause);
	cause = NULL;

	/* SET of setting 0, and of a wrong length */
	s.setting = 0;
	s.value = 1;
	buf_reset(&b);
	proto_encode_set(&b, &s);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_decode_set(&m, &s, &cause), 0);
	free(cause);
	cause = NULL;
	buf_add_u8(&b, 0);
	buf_put_u32(&b, 4, 7);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_validate(&m, &cause), 0);
	assert_non_null(strstr(cause, "payload of 7 bytes, expected 6"));
	free(cause);
	cause = NULL;

	/* NODES with a payload */
	buf_reset(&b);
	proto_encode_empty(&b, MSG_NODES);
	buf_add_u8(&b, 0);
	buf_put_u32(&b, 4, 1);
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_validate(&m, &cause), 0);
	free(cause);
	buf_free(&b);
}

static void
test_state_names(void **state)
{
	assert_string_equal(proto_node_state_name(PROTO_NODE_UP), "up");
	assert_string_equal(proto_node_state_name(PROTO_NODE_DOWN), "down");
	assert_string_equal(proto_node_state_name(PROTO_NODE_REVOKED),
	    "revoked");
	assert_string_equal(proto_node_state_name(0), "invalid");
	assert_string_equal(proto_node_state_name(99), "invalid");
	assert_string_equal(proto_link_state_name(PROTO_LINK_WAIT), "wait");
	assert_string_equal(proto_link_state_name(PROTO_LINK_NSTATES),
	    "invalid");
}

/* RELOADED: a round trip, and what a receiver refuses. */
static void
test_reloaded(void **state)
{
	struct msg_reload_item	 items[] = {
		{ PROTO_RELOAD_APPLIED, "verbose", "" },
		{ PROTO_RELOAD_RESTART, "window", "needs a restart" },
		{ PROTO_RELOAD_DROPPED, "node3", "node 3: certificate revoked" },
		{ PROTO_RELOAD_FAILED, "tls", "CRL /etc/omm/ca.crl has expired" },
	};
	struct msg_reloaded	 in = { 4, items }, out;
	struct proto_msg	 m;
	struct buf		 b;
	char			*cause = NULL;
	uint32_t		 i;

	buf_init(&b);
	proto_encode_reloaded(&b, &in);
	split(&b, &m);
	assert_int_equal(proto_decode_reloaded(&m, &out, &cause), 0);
	assert_int_equal(out.n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(out.items[i].status, items[i].status);
		assert_string_equal(out.items[i].what, items[i].what);
		assert_string_equal(out.items[i].detail, items[i].detail);
	}
	proto_free_reloaded(&out);
	assert_string_equal(proto_reload_status_name(PROTO_RELOAD_RESTART),
	    "restart");
	/* a bad status, an empty name, a short payload, a huge count */
	b.data[PROTO_HDR_LEN + 4] = 9;
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_validate(&m, &cause), 0);
	assert_non_null(strstr(cause, "bad status 9"));
	free(cause);
	cause = NULL;
	b.data[PROTO_HDR_LEN + 4] = PROTO_RELOAD_APPLIED;
	b.data[PROTO_HDR_LEN + 5] = 0;	/* "verbose" of length 0 ... */
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_validate(&m, &cause), 0);
	free(cause);
	cause = NULL;
	b.data[PROTO_HDR_LEN] = 0xff;	/* 255 items in a short payload */
	b.data[PROTO_HDR_LEN + 5] = 7;
	assert_int_equal(proto_hdr_decode(&m, b.data, b.len, &cause), 0);
	assert_int_not_equal(proto_validate(&m, &cause), 0);
	assert_non_null(strstr(cause, "255 items"));
	free(cause);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_roundtrip),
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_link_roundtrip),
		cmocka_unit_test(test_count_set_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_node_rejects),
		cmocka_unit_test(test_other_rejects),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_reloaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
