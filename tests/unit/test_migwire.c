/*
 * test_migwire.c: the migration block (200) of the node protocol, the
 * framing of the syscall block (300), and every refusal of a decoder.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omm/buf.h"
#include "omm/marshal.h"
#include "omm/migwire.h"
#include "omm/wire.h"

/* ---- round trips ---- */

static void
make_offer(struct mig_msg *m)
{
	size_t	i;

	m->offer.home_node = 3;
	m->offer.home_incarnation = 1732500000123ULL;
	m->offer.home_pid = 4242;
	m->offer.uid = 1000;
	m->offer.gid = 100;
	snprintf(m->offer.comm, sizeof m->offer.comm, "worker-thread-1");
	m->offer.image_bytes = 5ULL << 30;
	for (i = 0; i < CPUW_NWORDS; i++)
		m->offer.need.word[i] = 0x80402010U + (uint32_t)i;
	m->offer.need.xcr0 = 0x2e7;
	m->offer.need.xsave_size = 2696;
	memset(m->offer.need.model, 'm', sizeof m->offer.need.model - 1);
	snprintf(m->offer.kernel, sizeof m->offer.kernel, "6.18.0-omm");
	m->offer.vdso_len = 8192;
	m->offer.vvar_len = 16384;
}

static void
make_offer_small(struct mig_msg *m)
{
	m->offer.home_node = 1;
	m->offer.home_incarnation = 1;
	m->offer.home_pid = 1;
	memset(m->offer.kernel, 'k', sizeof m->offer.kernel - 1);
}

static void
make_accept(struct mig_msg *m)
{
	m->accept.host_node = 0xfffffffe;
}

static void
make_refuse(struct mig_msg *m)
{
	m->refuse.reason = MIG_REFUSE_CPU;
	snprintf(m->refuse.text, sizeof m->refuse.text, "lacks avx512f");
}

static void
make_refuse_long(struct mig_msg *m)
{
	m->refuse.reason = MIG_REFUSE_SHUTDOWN;
	memset(m->refuse.text, 't', sizeof m->refuse.text - 1);
}

static void
make_refuse_empty(struct mig_msg *m)
{
	m->refuse.reason = MIG_REFUSE_BLOCKED;
}

static void
make_image_end(struct mig_msg *m)
{
	m->image_end.total_bytes = 0x123456789abcULL;
}

static void
make_ready(struct mig_msg *m)
{
	m->ready.guest_pid = 31337;
	m->ready.flags = MIG_READY_KILLABLE;
}

static void
make_fail(struct mig_msg *m)
{
	snprintf(m->fail.text, sizeof m->fail.text, "restore: no memory");
}

static void
make_signal(struct mig_msg *m)
{
	m->signal.signo = SIGRTMAX;
	m->signal.code = -1;		/* SI_QUEUE */
	m->signal.pid = 77;
	m->signal.uid = 1000;
	m->signal.value = 0xdeadbeefcafef00dULL;
}

static void
make_exit(struct mig_msg *m)
{
	m->exit.wstatus = 3 << 8;	/* exit(3) */
}

static void
make_exit_sig(struct mig_msg *m)
{
	m->exit.wstatus = SIGSEGV | 0x80;	/* killed, core dumped */
}

static void
make_bring(struct mig_msg *m)
{
	m->bring.reason = MIG_BRING_MOVE;
}

static void
make_leaving(struct mig_msg *m)
{
	m->leaving.why = MIG_LEAVE_SYSCALL;
	m->leaving.nr = 57;		/* fork */
}

static void
make_leaving_asked(struct mig_msg *m)
{
	m->leaving.why = MIG_LEAVE_ASKED;
	m->leaving.nr = -1;
}

static void
make_stopped(struct mig_msg *m)
{
	m->stopped.signo = SIGTSTP;
}

static void
make_landed(struct mig_msg *m)
{
	m->landed.node = 3;
}

static void
make_stay(struct mig_msg *m)
{
	snprintf(m->stay.text, sizeof m->stay.text, "restore at home: "
	    "checking the pages");
}

static void
make_file_req(struct mig_msg *m)
{
	m->file_req.seq = 9;
	m->file_req.dev = 0x803;
	m->file_req.ino = 77;
	m->file_req.size = 300000;
	m->file_req.mtime_ns = 1700000000123456789LL;
	m->file_req.off = 262144;
	m->file_req.len = MIG_IMAGE_CHUNK;
	snprintf(m->file_req.path, sizeof m->file_req.path, "/tmp/r/.git/x.pack");
}

static void
encode(struct buf *b, uint16_t type, const struct mig_msg *m)
{
	switch (type) {
	case WIRE_MIG_OFFER:
		migwire_encode_offer(b, &m->offer);
		break;
	case WIRE_MIG_ACCEPT:
		migwire_encode_accept(b, &m->accept);
		break;
	case WIRE_MIG_REFUSE:
		migwire_encode_refuse(b, &m->refuse);
		break;
	case WIRE_MIG_IMAGE_END:
		migwire_encode_image_end(b, &m->image_end);
		break;
	case WIRE_MIG_READY:
		migwire_encode_ready(b, &m->ready);
		break;
	case WIRE_MIG_FAIL:
		migwire_encode_fail(b, &m->fail);
		break;
	case WIRE_GUEST_SIGNAL:
		migwire_encode_signal(b, &m->signal);
		break;
	case WIRE_GUEST_EXIT:
		migwire_encode_exit(b, &m->exit);
		break;
	case WIRE_GUEST_BRING:
		migwire_encode_bring(b, &m->bring);
		break;
	case WIRE_GUEST_LEAVING:
		migwire_encode_leaving(b, &m->leaving);
		break;
	case WIRE_GUEST_STOPPED:
		migwire_encode_stopped(b, &m->stopped);
		break;
	case WIRE_GUEST_LANDED:
		migwire_encode_landed(b, &m->landed);
		break;
	case WIRE_GUEST_STAY:
		migwire_encode_stay(b, &m->stay);
		break;
	case WIRE_MIG_FILE_REQ:
		migwire_encode_file_req(b, &m->file_req);
		break;
	default:
		fail_msg("no encoder for %u", type);
	}
}

static const struct rt_case {
	const char	*what;
	uint16_t	 type;
	void		(*make)(struct mig_msg *);
	size_t		 member;	/* bytes of the union member */
	size_t		 len;		/* payload bytes expected */
} rt_cases[] = {
	{ "offer", WIRE_MIG_OFFER, make_offer, sizeof(struct mig_offer),
	    MIG_OFFER_MAX - 64 + 10 },
	{ "offer, shortest strings", WIRE_MIG_OFFER, make_offer_small,
	    sizeof(struct mig_offer), MIG_OFFER_MIN + 63 },
	{ "accept", WIRE_MIG_ACCEPT, make_accept, sizeof(struct mig_accept),
	    8 },
	{ "refuse", WIRE_MIG_REFUSE, make_refuse, sizeof(struct mig_refuse),
	    4 + 13 },
	{ "refuse, longest text", WIRE_MIG_REFUSE, make_refuse_long,
	    sizeof(struct mig_refuse), MIG_REFUSE_MAX },
	{ "refuse, no text", WIRE_MIG_REFUSE, make_refuse_empty,
	    sizeof(struct mig_refuse), MIG_REFUSE_MIN },
	{ "image end", WIRE_MIG_IMAGE_END, make_image_end,
	    sizeof(struct mig_image_end), 8 },
	{ "ready", WIRE_MIG_READY, make_ready, sizeof(struct mig_ready), 8 },
	{ "fail", WIRE_MIG_FAIL, make_fail, sizeof(struct mig_fail), 2 + 18 },
	{ "signal", WIRE_GUEST_SIGNAL, make_signal,
	    sizeof(struct guest_signal), 24 },
	{ "exit", WIRE_GUEST_EXIT, make_exit, sizeof(struct guest_exit), 4 },
	{ "exit by signal", WIRE_GUEST_EXIT, make_exit_sig,
	    sizeof(struct guest_exit), 4 },
	{ "bring", WIRE_GUEST_BRING, make_bring, sizeof(struct guest_bring),
	    4 },
	{ "leaving for a syscall", WIRE_GUEST_LEAVING, make_leaving,
	    sizeof(struct guest_leaving), 8 },
	{ "leaving, asked", WIRE_GUEST_LEAVING, make_leaving_asked,
	    sizeof(struct guest_leaving), 8 },
	{ "stopped", WIRE_GUEST_STOPPED, make_stopped,
	    sizeof(struct guest_stopped), 4 },
	{ "landed", WIRE_GUEST_LANDED, make_landed,
	    sizeof(struct guest_landed), 4 },
	{ "stay", WIRE_GUEST_STAY, make_stay, sizeof(struct guest_stay),
	    2 + 35 },
	{ "file request", WIRE_MIG_FILE_REQ, make_file_req,
	    sizeof(struct mig_file_req), 8 * 6 + 4 + 2 + 18 },
};

/* FILE_DATA: bytes or an errno, never both; a request's fields checked. */
static void
test_file_msgs(void **state)
{
	struct mig_file_data	 d = { 4, 0, (const uint8_t *)"hello", 5 }, g;
	struct mig_file_req	*q = calloc(1, sizeof *q);
	struct mig_msg		 m;
	struct buf		 b;

	(void)state;
	buf_init(&b);
	migwire_encode_file_data(&b, &d);
	assert_int_equal(b.len, WIRE_HDR_LEN + 12 + 5);
	assert_int_equal(migwire_decode_file_data(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, &g, NULL), 0);
	assert_true(g.seq == 4 && g.err == 0 && g.len == 5);
	assert_memory_equal(g.data, "hello", 5);
	/* an errno with bytes is no answer */
	b.data[WIRE_HDR_LEN + 8] = 2;
	assert_int_equal(migwire_decode_file_data(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, &g, NULL), -1);
	assert_int_equal(migwire_decode_file_data(b.data + WIRE_HDR_LEN, 11,
	    &g, NULL), -1);
	buf_reset(&b);
	memset(&m, 0, sizeof m);
	make_file_req(&m);
	*q = m.file_req;
	migwire_encode_file_req(&b, q);
	/* a relative path, a length past a chunk, an offset past the size */
	b.data[b.len - 18] = 'x';
	assert_int_equal(migwire_decode_file_req(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, q, NULL), -1);
	b.data[b.len - 18] = '/';
	assert_int_equal(migwire_decode_file_req(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, q, NULL), 0);
	le32enc(b.data + WIRE_HDR_LEN + 48, MIG_IMAGE_CHUNK + 1);
	assert_int_equal(migwire_decode_file_req(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, q, NULL), -1);
	le32enc(b.data + WIRE_HDR_LEN + 48, 1);
	le64enc(b.data + WIRE_HDR_LEN + 40, 300001);
	assert_int_equal(migwire_decode_file_req(b.data + WIRE_HDR_LEN,
	    b.len - WIRE_HDR_LEN, q, NULL), -1);
	buf_free(&b);
	free(q);
}

/* Each message: framed, found by the peeker, decoded, re-encoded identically. */
static void
test_roundtrip(void **state)
{
	const struct rt_case	*c;
	struct mig_msg		*want = calloc(1, sizeof *want);
	struct mig_msg		*got = calloc(1, sizeof *got);
	struct wire_hdr		 h;
	struct buf		 b, b2;
	size_t			 i, flen;
	char			*cause;

	for (i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
		c = &rt_cases[i];
		memset(want, 0, sizeof *want);
		memset(got, 0xa5, sizeof *got);
		c->make(want);
		buf_init(&b);
		buf_init(&b2);
		encode(&b, c->type, want);
		cause = NULL;
		if (wire_frame_peek(b.data, b.len, &h, &flen, &cause) != 1)
			fail_msg("%s: peek: %s", c->what, cause);
		assert_int_equal(flen, b.len);
		assert_int_equal(h.type, c->type);
		if (h.len != c->len)
			fail_msg("%s: %u bytes, expected %zu", c->what, h.len,
			    c->len);
		if (migwire_decode(&h, b.data + WIRE_HDR_LEN, got,
		    &cause) != 0)
			fail_msg("%s: decode: %s", c->what, cause);
		assert_int_equal(got->type, c->type);
		/* The member starts where the union does. */
		if (memcmp(&got->offer, &want->offer, c->member) != 0)
			fail_msg("%s: decoded differs", c->what);
		encode(&b2, c->type, got);
		assert_int_equal(b2.len, b.len);
		assert_memory_equal(b2.data, b.data, b.len);
		buf_free(&b);
		buf_free(&b2);
	}
	free(want);
	free(got);
}

/* The byte layout docs/wire-protocol.md gives for one message. */
static void
test_layout(void **state)
{
	static const uint8_t	 want[] = {
		'O', 'M', 'M', 'W', 1, 0, 210, 0, 8, 0, 0, 0,
		2, 0, 0, 0, 57, 0, 0, 0,
	};
	struct mig_msg		 m;
	struct buf		 b;

	memset(&m, 0, sizeof m);
	make_leaving(&m);
	buf_init(&b);
	migwire_encode_leaving(&b, &m.leaving);
	assert_int_equal(b.len, sizeof want);
	assert_memory_equal(b.data, want, sizeof want);
	buf_free(&b);
}

/* MIG_IMAGE and PING: raw payloads, framed by wire_encode_raw. */
static void
test_raw_frames(void **state)
{
	static uint8_t		 chunk[MIG_IMAGE_CHUNK];
	struct mig_msg		 m;
	struct wire_hdr		 h;
	struct buf		 b;
	size_t			 flen, i;
	char			*cause = NULL;

	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = (uint8_t)(i * 7);
	buf_init(&b);
	wire_encode_raw(&b, WIRE_MIG_IMAGE, chunk, sizeof chunk);
	wire_encode_raw(&b, WIRE_PING, NULL, 0);
	assert_int_equal(wire_frame_peek(b.data, b.len, &h, &flen, &cause), 1);
	assert_int_equal(h.type, WIRE_MIG_IMAGE);
	assert_int_equal(migwire_decode(&h, b.data + WIRE_HDR_LEN, &m,
	    &cause), 0);
	assert_int_equal(m.image.len, sizeof chunk);
	assert_memory_equal(m.image.data, chunk, sizeof chunk);
	assert_ptr_equal(m.image.data, b.data + WIRE_HDR_LEN);
	assert_int_equal(wire_frame_peek(b.data + flen, b.len - flen, &h,
	    &flen, &cause), 1);
	assert_int_equal(flen, WIRE_HDR_LEN);
	assert_int_equal(h.type, WIRE_PING);
	assert_int_equal(migwire_decode(&h, NULL, &m, &cause), 0);
	assert_int_equal(m.type, WIRE_PING);

	/* A 300-block frame over the node links' default cap. */
	buf_reset(&b);
	{
		uint8_t	*big = calloc(1, MARSHAL_MSG_MAX);

		wire_encode_raw(&b, MARSHAL_SYSCALL_REP, big, MARSHAL_MSG_MAX);
		free(big);
	}
	assert_int_equal(wire_frame_peek(b.data, b.len, &h, &flen, &cause), 1);
	assert_int_equal(flen, WIRE_HDR_LEN + MARSHAL_MSG_MAX);
	buf_free(&b);
}

/* ---- headers: what the peeker lets through, and what not ---- */

static const struct hdr_case {
	const char	*what;
	uint16_t	 type;
	uint32_t	 len;
	size_t		 cap;		/* 0: wire_frame_peek's default */
	const char	*cause;		/* NULL: a valid header */
} hdr_cases[] = {
	{ "syscall request at the block's max", MARSHAL_SYSCALL_REQ,
	    MARSHAL_MSG_MAX, 0, NULL },
	{ "syscall request, empty", MARSHAL_SYSCALL_REQ, 0, 0, NULL },
	{ "fddata reply at the max", MARSHAL_FDDATA_REP, MARSHAL_MSG_MAX, 0,
	    NULL },
	{ "syscall reply over a small cap", MARSHAL_SYSCALL_REP, 100000, 4096,
	    NULL },
	{ "syscall request over the block's max", MARSHAL_SYSCALL_REQ,
	    MARSHAL_MSG_MAX + 1, 0, "SYSCALL_REQ of 1179649 bytes, expected "
	    "0 to 1179648" },
	{ "fdinfo reply, 4 GiB", MARSHAL_FDINFO_REP, 0xffffffff, 0,
	    "FDINFO_REP of 4294967295 bytes" },
	{ "image chunk at the max", WIRE_MIG_IMAGE, MIG_IMAGE_CHUNK, 0, NULL },
	{ "image chunk of one byte", WIRE_MIG_IMAGE, 1, 0, NULL },
	{ "image chunk over the max", WIRE_MIG_IMAGE, MIG_IMAGE_CHUNK + 1, 0,
	    "MIG_IMAGE of 262145 bytes, expected 1 to 262144" },
	{ "empty image chunk", WIRE_MIG_IMAGE, 0, 0,
	    "MIG_IMAGE of 0 bytes, expected 1 to 262144" },
	{ "ping", WIRE_PING, 0, 0, NULL },
	{ "ping with a byte", WIRE_PING, 1, 0, "PING of 1 bytes, expected 0 "
	    "to 0" },
	{ "accept of 9 bytes", WIRE_MIG_ACCEPT, 9, 0, "MIG_ACCEPT of 9 bytes" },
	{ "offer too short", WIRE_MIG_OFFER, MIG_OFFER_MIN - 1, 0,
	    "MIG_OFFER of" },
	{ "offer too long", WIRE_MIG_OFFER, MIG_OFFER_MAX + 1, 0,
	    "MIG_OFFER of" },
	{ "type 218", 218, 0, 0, "unknown message type 218" },
	{ "type 299", 299, 0, 0, "unknown message type 299" },
	{ "type 307", 307, 0, 0, "unknown message type 307" },
	{ "LOADWIN keeps its cap", WIRE_LOADWIN, 5000, 4096,
	    "LOADWIN of 5000 bytes over the cap of 4096" },
};

static void
test_header(void **state)
{
	const struct hdr_case	*c;
	struct wire_hdr		 h;
	uint8_t			 p[WIRE_HDR_LEN];
	size_t			 i, flen;
	char			*cause;
	int			 rc, want;

	for (i = 0; i < sizeof hdr_cases / sizeof hdr_cases[0]; i++) {
		c = &hdr_cases[i];
		wire_hdr_put(p, c->type, c->len);
		cause = NULL;
		rc = wire_frame_peek_max(p, sizeof p, c->cap ? c->cap :
		    WIRE_MAX_PAYLOAD, &h, &flen, &cause);
		/* A valid header with a payload to come is "need more". */
		want = c->cause != NULL ? -1 : c->len == 0 ? 1 : 0;
		if (rc != want)
			fail_msg("%s: %d, expected %d (%s)", c->what, rc, want,
			    cause ? cause : "");
		if (c->cause != NULL && strstr(cause, c->cause) == NULL)
			fail_msg("%s: \"%s\"", c->what, cause);
		if (c->cause == NULL) {
			assert_null(cause);
			assert_int_equal(h.type, c->type);
			assert_int_equal(h.len, c->len);
		}
		free(cause);
	}
}

static void
test_names(void **state)
{
	struct wire_hdr	 h = { WIRE_MAGIC, OMM_WIRE_VERSION, WIRE_MIG_OFFER,
	    MIG_OFFER_MIN };
	struct wire_msg	*wm = calloc(1, sizeof *wm);
	struct mig_msg	 m;
	uint8_t		 p[MIG_OFFER_MAX] = { 0 };
	char		*cause = NULL;

	assert_string_equal(wire_type_name(WIRE_MIG_OFFER), "MIG_OFFER");
	assert_string_equal(wire_type_name(WIRE_PING), "PING");
	assert_string_equal(wire_type_name(MARSHAL_FDDATA_REP), "FDDATA_REP");
	assert_string_equal(wire_type_name(218), "unknown");
	assert_string_equal(wire_type_name(WIRE_GUEST_USAGE), "GUEST_USAGE");
	assert_string_equal(wire_type_name(WIRE_GUEST_LANDED), "GUEST_LANDED");
	assert_string_equal(wire_type_name(WIRE_GUEST_STAY), "GUEST_STAY");
	assert_string_equal(mig_refuse_name(MIG_REFUSE_NOGUEST),
	    "host has no omm-guest user");
	assert_string_equal(mig_refuse_name(0), "unknown");
	assert_string_equal(mig_refuse_name(MIG_REFUSE_NREASONS), "unknown");
	assert_string_equal(mig_leave_name(MIG_LEAVE_MEMORY),
	    "host short of memory");
	assert_string_equal(mig_leave_name(99), "unknown");
	assert_string_equal(mig_bring_name(MIG_BRING_SHUTDOWN),
	    "home shuts down");

	/* A node link does not take migration frames, nor migwire others. */
	assert_int_equal(wire_decode(&h, p, wm, &cause), -1);
	assert_string_equal(cause, "MIG_OFFER out of place: not a node link "
	    "message");
	free(cause);
	cause = NULL;
	h.type = WIRE_BYE;
	assert_int_equal(migwire_decode(&h, p, &m, &cause), -1);
	assert_string_equal(cause, "BYE (type 103) is not a migration "
	    "message");
	free(cause);
	cause = NULL;
	h.type = MARSHAL_SYSCALL_REQ;
	assert_int_equal(migwire_decode(&h, p, &m, &cause), -1);
	assert_non_null(strstr(cause, "SYSCALL_REQ (type 300)"));
	free(cause);
	cause = NULL;
	h.type = WIRE_PING;
	h.version = 2;
	h.len = 0;
	assert_int_equal(migwire_decode(&h, p, &m, &cause), -1);
	assert_string_equal(cause, "peer speaks wire version 2, we speak 1");
	free(cause);
	free(wm);
}

/* ---- refusals: payloads written field by field ---- */

/*
 * fmt, one letter per field: b u8, w u16, l u32, q u64, s a string of v
 * bytes ('x'), S the same with a NUL in its middle, t a string length v
 * with no bytes after it. v holds the values in order.
 */
static void
put_raw(struct buf *b, const char *fmt, const uint64_t *v)
{
	size_t	 i;
	uint8_t	*p;

	for (; *fmt != '\0'; fmt++, v++) {
		switch (*fmt) {
		case 'b':
			buf_add_u8(b, (uint8_t)*v);
			break;
		case 'w':
			buf_add_u16(b, (uint16_t)*v);
			break;
		case 'l':
			buf_add_u32(b, (uint32_t)*v);
			break;
		case 'q':
			buf_add_u64(b, *v);
			break;
		case 's':
		case 'S':
			buf_add_u16(b, (uint16_t)*v);
			p = buf_reserve(b, *v);
			for (i = 0; i < *v; i++)
				p[i] = 'x';
			if (*fmt == 'S')
				p[*v / 2] = '\0';
			break;
		case 't':
			buf_add_u16(b, (uint16_t)*v);
			break;
		default:
			fail_msg("bad format %c", *fmt);
		}
	}
}

#define NEG(x)	((uint64_t)(uint32_t)(int32_t)(x))

static const struct raw_case {
	const char	*what;
	uint16_t	 type;
	const char	*fmt;
	uint64_t	 v[8];
	const char	*cause;		/* NULL: accepted */
} raw_cases[] = {
	{ "accept", WIRE_MIG_ACCEPT, "ll", { 5, 0 }, NULL },
	{ "accept by node 0", WIRE_MIG_ACCEPT, "ll", { 0, 0 },
	    "accepted by node 0" },
	{ "accept with flags", WIRE_MIG_ACCEPT, "ll", { 5, 4 },
	    "MIG_ACCEPT flags 0x4" },
	{ "accept short", WIRE_MIG_ACCEPT, "l", { 5 }, "truncated MIG_ACCEPT" },
	{ "accept long", WIRE_MIG_ACCEPT, "llb", { 5, 0, 0 },
	    "1 bytes after MIG_ACCEPT" },

	{ "refuse", WIRE_MIG_REFUSE, "ws", { 2, 10 }, NULL },
	{ "refuse reason 0", WIRE_MIG_REFUSE, "ws", { 0, 0 },
	    "MIG_REFUSE reason 0" },
	{ "refuse reason past the last", WIRE_MIG_REFUSE, "ws",
	    { MIG_REFUSE_NREASONS, 0 }, "MIG_REFUSE reason 11" },
	{ "refuse text too long", WIRE_MIG_REFUSE, "ws", { 2, 256 },
	    "MIG_REFUSE text of 256 bytes, at most 255" },
	{ "refuse text with a NUL", WIRE_MIG_REFUSE, "wS", { 2, 10 },
	    "MIG_REFUSE text holds a NUL byte" },
	{ "refuse text cut", WIRE_MIG_REFUSE, "wt", { 2, 10 },
	    "truncated in MIG_REFUSE text" },
	{ "refuse short", WIRE_MIG_REFUSE, "w", { 2 },
	    "truncated at MIG_REFUSE text" },
	{ "refuse long", WIRE_MIG_REFUSE, "wsb", { 2, 3, 0 },
	    "1 bytes after MIG_REFUSE" },

	{ "image end", WIRE_MIG_IMAGE_END, "q", { 0 }, NULL },
	{ "image end short", WIRE_MIG_IMAGE_END, "l", { 0 },
	    "truncated MIG_IMAGE_END" },
	{ "image end long", WIRE_MIG_IMAGE_END, "qb", { 0, 0 },
	    "1 bytes after MIG_IMAGE_END" },

	{ "ready", WIRE_MIG_READY, "ll", { 99, 0 }, NULL },
	{ "ready pid 0", WIRE_MIG_READY, "ll", { 0, 0 },
	    "MIG_READY of guest pid 0" },
	{ "ready pid negative", WIRE_MIG_READY, "ll", { NEG(-3), 0 },
	    "MIG_READY of guest pid -3" },
	{ "ready unknown flag", WIRE_MIG_READY, "ll", { 99, 3 },
	    "MIG_READY flags 0x2" },
	{ "ready short", WIRE_MIG_READY, "l", { 99 }, "truncated MIG_READY" },
	{ "ready long", WIRE_MIG_READY, "lll", { 99, 0, 0 },
	    "4 bytes after MIG_READY" },

	{ "fail", WIRE_MIG_FAIL, "s", { 1 }, NULL },
	{ "fail longest", WIRE_MIG_FAIL, "s", { 255 }, NULL },
	{ "fail empty", WIRE_MIG_FAIL, "s", { 0 }, "empty MIG_FAIL text" },
	{ "fail too long", WIRE_MIG_FAIL, "s", { 256 },
	    "MIG_FAIL text of 256 bytes, at most 255" },
	{ "fail with a NUL", WIRE_MIG_FAIL, "S", { 9 },
	    "MIG_FAIL text holds a NUL byte" },
	{ "fail long", WIRE_MIG_FAIL, "sb", { 4, 0 },
	    "1 bytes after MIG_FAIL" },

	{ "signal", WIRE_GUEST_SIGNAL, "llllq", { 64, 0, 1, 0, 7 }, NULL },
	{ "signal 0", WIRE_GUEST_SIGNAL, "llllq", { 0, 0, 1, 0, 7 },
	    "GUEST_SIGNAL signal 0" },
	{ "signal 65", WIRE_GUEST_SIGNAL, "llllq", { 65, 0, 1, 0, 7 },
	    "GUEST_SIGNAL signal 65" },
	{ "signal negative", WIRE_GUEST_SIGNAL, "llllq",
	    { NEG(-9), 0, 1, 0, 7 }, "GUEST_SIGNAL signal -9" },
	{ "signal short", WIRE_GUEST_SIGNAL, "llll", { 9, 0, 1, 0 },
	    "truncated GUEST_SIGNAL" },
	{ "signal long", WIRE_GUEST_SIGNAL, "llllqb", { 9, 0, 1, 0, 7, 0 },
	    "1 bytes after GUEST_SIGNAL" },

	{ "exit 0", WIRE_GUEST_EXIT, "l", { 0 }, NULL },
	{ "exit 255", WIRE_GUEST_EXIT, "l", { 0xff00 }, NULL },
	{ "killed by 64", WIRE_GUEST_EXIT, "l", { 64 }, NULL },
	{ "stopped is no exit", WIRE_GUEST_EXIT, "l", { 0x137f },
	    "GUEST_EXIT of wait status 0x137f" },
	{ "continued is no exit", WIRE_GUEST_EXIT, "l", { 0xffff },
	    "GUEST_EXIT of wait status 0xffff" },
	{ "exit with high bits", WIRE_GUEST_EXIT, "l", { 0x10100 },
	    "GUEST_EXIT of wait status 0x10100" },
	{ "killed by 65", WIRE_GUEST_EXIT, "l", { 65 },
	    "GUEST_EXIT of wait status 0x41" },
	{ "killed with an exit code too", WIRE_GUEST_EXIT, "l", { 0x109 },
	    "GUEST_EXIT of wait status 0x109" },
	{ "exit short", WIRE_GUEST_EXIT, "w", { 0 }, "truncated GUEST_EXIT" },

	{ "bring", WIRE_GUEST_BRING, "l", { 1 }, NULL },
	{ "bring 0", WIRE_GUEST_BRING, "l", { 0 }, "GUEST_BRING reason 0" },
	{ "bring 4", WIRE_GUEST_BRING, "l", { 4 }, "GUEST_BRING reason 4" },
	{ "bring long", WIRE_GUEST_BRING, "ll", { 1, 1 },
	    "4 bytes after GUEST_BRING" },

	{ "leaving", WIRE_GUEST_LEAVING, "ll", { 3, NEG(-1) }, NULL },
	{ "leaving 0", WIRE_GUEST_LEAVING, "ll", { 0, NEG(-1) },
	    "GUEST_LEAVING reason 0" },
	{ "leaving over its memory limit", WIRE_GUEST_LEAVING, "ll",
	    { MIG_LEAVE_MEMLIMIT, NEG(-1) }, NULL },
	{ "leaving 6", WIRE_GUEST_LEAVING, "ll", { 6, NEG(-1) },
	    "GUEST_LEAVING reason 6" },
	{ "leaving syscall -2", WIRE_GUEST_LEAVING, "ll", { 2, NEG(-2) },
	    "GUEST_LEAVING for syscall -2" },
	{ "leaving syscall 1024", WIRE_GUEST_LEAVING, "ll", { 2, 1024 },
	    "GUEST_LEAVING for syscall 1024" },
	{ "leaving syscall unnamed", WIRE_GUEST_LEAVING, "ll", { 2, NEG(-1) },
	    "without its number" },
	{ "leaving short", WIRE_GUEST_LEAVING, "l", { 1 },
	    "truncated GUEST_LEAVING" },

	{ "stopped", WIRE_GUEST_STOPPED, "l", { 19 }, NULL },
	{ "stopped 0", WIRE_GUEST_STOPPED, "l", { 0 },
	    "GUEST_STOPPED signal 0" },
	{ "stopped 65", WIRE_GUEST_STOPPED, "l", { 65 },
	    "GUEST_STOPPED signal 65" },
	{ "stopped long", WIRE_GUEST_STOPPED, "lb", { 19, 0 },
	    "1 bytes after GUEST_STOPPED" },

	{ "ping", WIRE_PING, "", { 0 }, NULL },
	{ "ping with bytes", WIRE_PING, "l", { 0 }, "PING of 4 bytes" },
	{ "image", WIRE_MIG_IMAGE, "b", { 0 }, NULL },
	{ "empty image", WIRE_MIG_IMAGE, "", { 0 },
	    "MIG_IMAGE of 0 bytes, expected 1 to 262144" },
};

/* Decode with the type's own decoder (and migwire_decode, which must agree). */
static int
decode_one(uint16_t type, const uint8_t *p, size_t n, char **cause)
{
	struct wire_hdr	 h = { WIRE_MAGIC, OMM_WIRE_VERSION, type,
	    (uint32_t)n };
	struct mig_msg	 m;
	char		*c2 = NULL;
	int		 rc, rc2;

	switch (type) {
	case WIRE_MIG_OFFER:
		rc = migwire_decode_offer(p, n, &m.offer, cause);
		break;
	case WIRE_MIG_ACCEPT:
		rc = migwire_decode_accept(p, n, &m.accept, cause);
		break;
	case WIRE_MIG_REFUSE:
		rc = migwire_decode_refuse(p, n, &m.refuse, cause);
		break;
	case WIRE_MIG_IMAGE_END:
		rc = migwire_decode_image_end(p, n, &m.image_end, cause);
		break;
	case WIRE_MIG_READY:
		rc = migwire_decode_ready(p, n, &m.ready, cause);
		break;
	case WIRE_MIG_FAIL:
		rc = migwire_decode_fail(p, n, &m.fail, cause);
		break;
	case WIRE_GUEST_SIGNAL:
		rc = migwire_decode_signal(p, n, &m.signal, cause);
		break;
	case WIRE_GUEST_EXIT:
		rc = migwire_decode_exit(p, n, &m.exit, cause);
		break;
	case WIRE_GUEST_BRING:
		rc = migwire_decode_bring(p, n, &m.bring, cause);
		break;
	case WIRE_GUEST_LEAVING:
		rc = migwire_decode_leaving(p, n, &m.leaving, cause);
		break;
	case WIRE_GUEST_STOPPED:
		rc = migwire_decode_stopped(p, n, &m.stopped, cause);
		break;
	default:
		return migwire_decode(&h, p, &m, cause);
	}
	rc2 = migwire_decode(&h, p, &m, &c2);
	assert_int_equal(rc, rc2);
	free(c2);
	return rc;
}

static void
check_case(const char *what, uint16_t type, const struct buf *b,
    const char *want)
{
	char	*cause = NULL;
	int	 rc;

	rc = decode_one(type, b->data, b->len, &cause);
	if (want == NULL && rc != 0)
		fail_msg("%s: refused: %s", what, cause);
	if (want != NULL && (rc != -1 || cause == NULL ||
	    strstr(cause, want) == NULL))
		fail_msg("%s: %d \"%s\", expected \"%s\"", what, rc,
		    cause ? cause : "", want);
	free(cause);
}

static void
test_refused(void **state)
{
	const struct raw_case	*c;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < sizeof raw_cases / sizeof raw_cases[0]; i++) {
		c = &raw_cases[i];
		buf_init(&b);
		put_raw(&b, c->fmt, c->v);
		check_case(c->what, c->type, &b, c->cause);
		buf_free(&b);
	}
}

/* An offer, field by field: see migwire.c's encoder for the order. */
#define OFFER_FMT	"lqllls" "qb" "lllllllll" "ql" "ss" "qql"
#define O_NODE		0
#define O_INC		1
#define O_PID		2
#define O_UID		3
#define O_GID		4
#define O_COMM		5
#define O_NWORDS	7
#define O_XSAVE		18
#define O_MODEL		19
#define O_KERNEL	20
#define O_VDSO		21
#define O_VVAR		22
#define O_FLAGS		23
#define O_N		24

static const uint64_t	offer_base[O_N] = {
	2, 77, 1234, 1000, 1000, 6, 0, CPUW_NWORDS,
	1, 2, 3, 4, 5, 6, 7, 8, 9,
	0xe7, 2696, 20, 10, 8192, 16384, 0,
};

static const struct offer_case {
	const char	*what;
	int		 field;		/* -1: none */
	uint64_t	 val;
	const char	*fmt;		/* NULL: OFFER_FMT */
	const char	*cause;
} offer_cases[] = {
	{ "as is", -1, 0, NULL, NULL },
	{ "empty comm", O_COMM, 0, NULL, NULL },
	{ "vdso and vvar 0", O_VDSO, 0, NULL, NULL },
	{ "node 0", O_NODE, 0, NULL, "offer from node 0" },
	{ "incarnation 0", O_INC, 0, NULL, "offer of incarnation 0" },
	{ "pid 0", O_PID, 0, NULL, "offer of pid 0" },
	{ "pid negative", O_PID, NEG(-1), NULL, "offer of pid -1" },
	{ "uid -1", O_UID, 0xffffffff, NULL, "offer of uid 4294967295" },
	{ "gid -1", O_GID, 0xffffffff, NULL, "gid 4294967295" },
	{ "comm of 16", O_COMM, 16, NULL, "comm of 16 bytes, at most 15" },
	{ "comm with a NUL", O_COMM, 6, "lqlllS" "qb" "lllllllll" "ql" "ss"
	    "qql", "comm holds a NUL byte" },
	{ "8 feature words", O_NWORDS, 8, NULL,
	    "8 CPU feature words, expected 9" },
	{ "xsave 2 MiB", O_XSAVE, 2U << 20, NULL,
	    "offer needs an xsave area of 2097152 bytes" },
	{ "model of 64", O_MODEL, 64, NULL, "CPU model of 64 bytes, at most "
	    "63" },
	{ "empty kernel", O_KERNEL, 0, NULL, "empty kernel release" },
	{ "kernel of 65", O_KERNEL, 65, NULL, "kernel release of 65 bytes, "
	    "at most 64" },
	{ "kernel with a NUL", O_KERNEL, 5, "lqllls" "qb" "lllllllll" "ql"
	    "sS" "qql", "kernel release holds a NUL byte" },
	{ "vdso not in pages", O_VDSO, 8191, NULL, "vDSO of 8191 bytes" },
	{ "vdso too big", O_VDSO, 64U << 20, NULL, "vDSO of 67108864 bytes" },
	{ "vvar not in pages", O_VVAR, 100, NULL, "vvar of 100 bytes" },
	{ "unknown flag", O_FLAGS, 0x10, NULL, "offer flags 0x10" },
	{ "no flags field", -1, 0, "lqllls" "qb" "lllllllll" "ql" "ss" "qq",
	    "truncated MIG_OFFER" },
	{ "a byte more", -1, 0, OFFER_FMT "b", "1 bytes after MIG_OFFER" },
	{ "cut in the words", -1, 0, "lqllls" "qb" "llll",
	    "truncated at CPU model" },
	{ "cut before the word count", -1, 0, "lqllls", "truncated MIG_OFFER" },
};

static void
test_offer_refused(void **state)
{
	const struct offer_case	*c;
	uint64_t		 v[O_N + 1];
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < sizeof offer_cases / sizeof offer_cases[0]; i++) {
		c = &offer_cases[i];
		memcpy(v, offer_base, sizeof offer_base);
		v[O_N] = 0;
		if (c->field >= 0)
			v[c->field] = c->val;
		buf_init(&b);
		put_raw(&b, c->fmt != NULL ? c->fmt : OFFER_FMT, v);
		check_case(c->what, WIRE_MIG_OFFER, &b, c->cause);
		buf_free(&b);
	}
}

/* Every cut of every valid message is refused, never read past. */
static void
test_truncated(void **state)
{
	const struct rt_case	*c;
	struct mig_msg		 m;
	struct buf		 b;
	size_t			 i, k;
	char			*cause;

	for (i = 0; i < sizeof rt_cases / sizeof rt_cases[0]; i++) {
		c = &rt_cases[i];
		memset(&m, 0, sizeof m);
		c->make(&m);
		buf_init(&b);
		encode(&b, c->type, &m);
		for (k = 0; k < b.len - WIRE_HDR_LEN; k++) {
			uint8_t	*p = malloc(k + 1);

			memcpy(p, b.data + WIRE_HDR_LEN, k);
			cause = NULL;
			if (decode_one(c->type, p, k, &cause) != -1)
				fail_msg("%s: accepted cut at %zu", c->what, k);
			assert_non_null(cause);
			free(cause);
			free(p);
		}
		buf_free(&b);
	}
}

/* GUEST_USAGE: both numbers travel; any other length is refused. */
static void
test_usage(void **state)
{
	struct guest_usage	 u = { 123456789012ULL, 64ULL << 20, 450, 312 }, v;
	struct wire_hdr		 h;
	struct buf		 b;
	size_t			 flen;
	char			*cause = NULL;

	buf_init(&b);
	migwire_encode_usage(&b, &u);
	assert_int_equal(wire_frame_peek(b.data, b.len, &h, &flen, &cause), 1);
	assert_int_equal(h.type, WIRE_GUEST_USAGE);
	assert_int_equal(h.len, GUEST_USAGE_LEN);
	assert_int_equal(migwire_decode_usage(b.data + WIRE_HDR_LEN, h.len, &v,
	    &cause), 0);
	assert_true(v.cpu_ns == u.cpu_ns && v.rss == u.rss &&
	    v.host_cpus_milli == 450 && v.host_load == 312);
	assert_int_equal(migwire_decode_usage(b.data + WIRE_HDR_LEN, h.len - 1,
	    &v, &cause), -1);
	assert_non_null(strstr(cause, "GUEST_USAGE"));
	free(cause);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_raw_frames),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_offer_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_file_msgs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
