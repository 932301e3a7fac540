/*
 * test_jobmsg.c: the job block (jobmsg.h): every message round trips, every
 * rule of a decoder refuses what breaks it, with the message naming why.
 * With JOBMSG_SEEDS=DIR in the environment it also writes one valid
 * message of each type there, the seed corpus of fuzz/fuzz_jobmsg.c
 * (fuzz/corpus/jobmsg).
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "omm/buf.h"
#include "omm/jobmsg.h"
#include "omm/proto.h"

static struct buf	ctlmsg;	/* a control message to carry */

static void
split(const struct buf *b, struct proto_msg *m, int fd)
{
	char	*cause = NULL;

	assert_int_equal(proto_hdr_decode(m, b->data, b->len, &cause), 0);
	m->fd = fd;
	if (jobmsg_validate(m, &cause) != 0)
		fail_msg("validate %s: %s", jobmsg_type_name(m->hdr.type), cause);
}

static void
seed(const char *name, const struct buf *b, int fd)
{
	const char	*dir = getenv("JOBMSG_SEEDS");
	char		 path[4096];
	FILE		*f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fputc(fd != -1, f);
	fwrite(b->data, 1, b->len, f);
	fclose(f);
}

static void
make_ctlmsg(void)
{
	struct msg_checkpoint	ck = { .pid = 4242, .flags = PROTO_CKPT_KILL };

	buf_init(&ctlmsg);
	proto_encode_checkpoint(&ctlmsg, &ck);
}

static void
test_roundtrip(void **state)
{
	struct jm_hello		h = { JOBMSG_VERSION, 7, 3333, 1000 }, h2;
	struct jm_welcome	w = { .self = 3, .incarnation = 0x1122334455ULL,
				    .name = "node3" }, w2;
	struct jm_req		rq, rq2;
	struct jm_rep		rp, rp2;
	struct jm_migrate	mg = { .reqid = 9, .uid = 1000, .gid = 1001,
				    .rpid = 777, .pid = 4242,
				    .node = 2, .ipv4 = 0x0b0012c6, .port = 0x9e1b,
				    .flags = JM_MIG_MANUAL, .name = "node2" }, mg2;
	struct jm_gone		g = { 4242 }, g2;
	struct jm_event		e = { JM_EV_LOST, 2, 4242 }, e2;
	struct jm_bring_all	ba = { 77, 1000, 1001, 778 }, ba2;
	struct jm_guest		gu = { .pid = 100, .server = 99, .home = 1,
				    .home_pid = 4242, .uid = 1000,
				    .comm = "xz" }, gu2;
	struct jm_guest_ctl	gc = { JM_GUEST_MEMORY }, gc2;
	struct proto_msg	 m, em;
	struct buf		 b;
	char			*cause = NULL;

	make_ctlmsg();
	buf_init(&b);

	jobmsg_encode_hello(&b, &h);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_hello(&m, &h2, &cause), 0);
	assert_true(h2.version == JOBMSG_VERSION && h2.job == 7 &&
	    h2.pid == 3333 && h2.owner == 1000);
	seed("hello", &b, -1);
	buf_reset(&b);

	jobmsg_encode_welcome(&b, &w);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_welcome(&m, &w2, &cause), 0);
	assert_int_equal(w2.self, 3);
	assert_true(w2.incarnation == w.incarnation);
	assert_string_equal(w2.name, "node3");
	seed("welcome", &b, -1);
	buf_reset(&b);

	rq.reqid = 5;
	rq.uid = 1000;
	rq.gid = 100;
	rq.pid = 777;
	rq.msg = ctlmsg.data;
	rq.len = ctlmsg.len;
	jobmsg_encode_req(&b, &rq);
	split(&b, &m, 12);
	assert_int_equal(jobmsg_decode_req(&m, &rq2, &cause), 0);
	assert_true(rq2.reqid == 5 && rq2.uid == 1000 && rq2.gid == 100 &&
	    rq2.pid == 777);
	assert_int_equal(rq2.len, ctlmsg.len);
	assert_memory_equal(rq2.msg, ctlmsg.data, ctlmsg.len);
	assert_int_equal(proto_hdr_decode(&em, rq2.msg, rq2.len, &cause), 0);
	assert_int_equal(em.hdr.type, MSG_CHECKPOINT);
	seed("req", &b, 12);
	buf_reset(&b);

	rp.reqid = 5;
	rp.msg = ctlmsg.data;
	rp.len = ctlmsg.len;
	jobmsg_encode_rep(&b, &rp);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_rep(&m, &rp2, &cause), 0);
	assert_true(rp2.reqid == 5 && rp2.len == ctlmsg.len);
	seed("rep", &b, -1);
	buf_reset(&b);

	jobmsg_encode_migrate(&b, &mg);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_migrate(&m, &mg2, &cause), 0);
	assert_true(mg2.reqid == 9 && mg2.uid == 1000 && mg2.gid == 1001 &&
	    mg2.rpid == 777 && mg2.pid == 4242 &&
	    mg2.node == 2 && mg2.ipv4 == mg.ipv4 && mg2.port == mg.port &&
	    mg2.flags == JM_MIG_MANUAL);
	assert_string_equal(mg2.name, "node2");
	seed("migrate", &b, -1);
	buf_reset(&b);

	jobmsg_encode_gone(&b, &g);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_gone(&m, &g2, &cause), 0);
	assert_int_equal(g2.pid, 4242);
	seed("gone", &b, -1);
	buf_reset(&b);

	jobmsg_encode_event(&b, &e);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_event(&m, &e2, &cause), 0);
	assert_true(e2.kind == JM_EV_LOST && e2.node == 2 && e2.pid == 4242);
	seed("event", &b, -1);
	buf_reset(&b);

	jobmsg_encode_bring_all(&b, &ba);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_bring_all(&m, &ba2, &cause), 0);
	assert_true(ba2.reqid == 77 && ba2.uid == 1000 && ba2.gid == 1001 &&
	    ba2.rpid == 778);
	seed("bring_all", &b, -1);
	buf_reset(&b);

	jobmsg_encode_reload(&b);
	split(&b, &m, -1);
	seed("reload", &b, -1);
	buf_reset(&b);

	jobmsg_encode_guest(&b, &gu);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_guest(&m, &gu2, &cause), 0);
	assert_true(gu2.pid == 100 && gu2.server == 99 && gu2.home == 1 &&
	    gu2.home_pid == 4242 && gu2.uid == 1000);
	assert_string_equal(gu2.comm, "xz");
	seed("guest", &b, -1);
	buf_reset(&b);

	jobmsg_encode_guest_ctl(&b, &gc);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_guest_ctl(&m, &gc2, &cause), 0);
	assert_int_equal(gc2.what, JM_GUEST_MEMORY);
	seed("guest_ctl", &b, -1);
	buf_free(&b);
	buf_free(&ctlmsg);
}

/* PROC carries a whole PS_ENTRY and the balancer's fields. */
static void
test_proc(void **state)
{
	struct jm_proc		p, q;
	struct proto_msg	m;
	struct buf		b;
	char			*cause = NULL;

	memset(&p, 0, sizeof p);
	p.ps.pid = 4242;
	p.ps.ppid = 4241;
	p.ps.uid = 1000;
	p.ps.job = 7;
	p.ps.threads = 1;
	p.ps.start_time = 1700000000;
	p.ps.command = (char *)"xz -6 big";
	p.ps.cantmove = (char *)"runs set-uid /usr/bin/su";
	p.ps.home_node = 1;
	p.ps.where = 2;
	p.ps.where_name = (char *)"node2";
	p.ps.migrations = 3;
	p.ps.away = PROTO_AWAY_REMOTE;
	p.stay = 1;
	p.nallowed = 2;
	p.allowed[0] = 2;
	p.allowed[1] = 5;
	p.resident_ms = -60000;
	p.hold_s = 10;
	p.cpu_ns = 123456789;
	p.rss = 1 << 20;
	p.host_cpus_milli = 2000;
	p.host_load = 150;
	buf_init(&b);
	jobmsg_encode_proc(&b, &p);
	split(&b, &m, -1);
	assert_int_equal(jobmsg_decode_proc(&m, &q, &cause), 0);
	assert_int_equal(q.ps.pid, 4242);
	assert_string_equal(q.ps.command, "xz -6 big");
	assert_string_equal(q.ps.cantmove, "runs set-uid /usr/bin/su");
	assert_string_equal(q.ps.where_name, "node2");
	assert_int_equal(q.ps.where, 2);
	assert_true(q.stay == 1 && q.nallowed == 2 && q.allowed[1] == 5);
	assert_true(q.resident_ms == -60000 && q.hold_s == 10);
	assert_true(q.cpu_ns == 123456789 && q.rss == 1 << 20);
	assert_true(q.host_cpus_milli == 2000 && q.host_load == 150);
	jobmsg_free_proc(&q);
	seed("proc", &b, -1);
	buf_free(&b);
}

/* Bytes of a message, patched, must be refused with cause naming why. */
static void
expect_refused(struct buf *b, int fd, const char *what, const char *want)
{
	struct proto_msg	 m;
	char			*cause = NULL;

	if (proto_hdr_decode(&m, b->data, b->len, &cause) != 0)
		fail_msg("%s: header: %s", what, cause);
	m.fd = fd;
	if (jobmsg_validate(&m, &cause) == 0)
		fail_msg("%s: accepted", what);
	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("%s: \"%s\", expected \"%s\"", what,
		    cause != NULL ? cause : "(none)", want);
	free(cause);
}

static void
test_refused(void **state)
{
	struct jm_hello		h = { JOBMSG_VERSION, 7, 3333, 1000 };
	struct jm_migrate	mg = { .reqid = 9, .pid = 4242, .node = 2,
				    .ipv4 = 1, .port = 2, .name = "node2" };
	struct jm_event		e = { JM_EV_OUT, 2, 4242 };
	struct jm_req		rq;
	struct buf		b;

	make_ctlmsg();
	buf_init(&b);

	jobmsg_encode_hello(&b, &h);
	buf_put_u32(&b, PROTO_HDR_LEN, 2);
	expect_refused(&b, -1, "newer supervisor", "supervisor speaks version 2");
	buf_reset(&b);
	h.job = 0;
	jobmsg_encode_hello(&b, &h);
	expect_refused(&b, -1, "job 0", "job 0");
	buf_reset(&b);
	h.job = 7;
	jobmsg_encode_hello(&b, &h);
	expect_refused(&b, 3, "hello with an fd", "JM_HELLO with a descriptor");
	buf_reset(&b);
	jobmsg_encode_hello(&b, &h);
	buf_add_u8(&b, 0);
	buf_put_u32(&b, 4, 17);
	expect_refused(&b, -1, "hello too long", "payload of 17 bytes");
	buf_reset(&b);

	mg.flags = 0x80;
	jobmsg_encode_migrate(&b, &mg);
	expect_refused(&b, -1, "migrate flags", "unknown flags 0x80");
	buf_reset(&b);
	mg.flags = 0;
	mg.ipv4 = 0;
	jobmsg_encode_migrate(&b, &mg);
	expect_refused(&b, -1, "migrate no address", "without an address");
	buf_reset(&b);
	mg.ipv4 = 1;
	mg.pid = 0;
	jobmsg_encode_migrate(&b, &mg);
	expect_refused(&b, -1, "migrate pid 0", "pid 0");
	buf_reset(&b);

	e.kind = JM_EV_NKINDS;
	jobmsg_encode_event(&b, &e);
	expect_refused(&b, -1, "event kind", "kind");
	buf_reset(&b);

	/* REQ: an embedded message whose own header lies */
	rq.reqid = 5;
	rq.uid = rq.gid = 0;
	rq.pid = 1;
	rq.msg = ctlmsg.data;
	rq.len = ctlmsg.len;
	jobmsg_encode_req(&b, &rq);
	buf_put_u32(&b, PROTO_HDR_LEN + 20 + 4 + 4, 99);
	expect_refused(&b, -1, "embedded header", "embedded message");
	buf_reset(&b);
	/* and an embedded length past the end */
	jobmsg_encode_req(&b, &rq);
	buf_put_u32(&b, PROTO_HDR_LEN + 20, (uint32_t)ctlmsg.len + 1);
	expect_refused(&b, -1, "embedded length", "embedded message of");
	buf_reset(&b);
	rq.reqid = 0;
	jobmsg_encode_req(&b, &rq);
	expect_refused(&b, -1, "request id 0", "request id 0");
	buf_reset(&b);

	/* a type of another block */
	proto_encode_empty(&b, MSG_PS);
	expect_refused(&b, -1, "control type", "not of the job block");
	buf_free(&b);
	buf_free(&ctlmsg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_proc),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
