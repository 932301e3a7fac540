/* test_wire.c: frames and messages of the node protocol, and every refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omm/buf.h"
#include "omm/wire.h"

/* ---- valid messages ---- */

static void
make_hello(struct wire_hello *h)
{
	memset(h, 0, sizeof *h);
	h->node = 7;
	h->incarnation = 1732500000123ULL;
	snprintf(h->name, sizeof h->name, "node7");
	snprintf(h->version, sizeof h->version, "0.1.0");
	h->addr.family = NODE_AF_INET;
	h->addr.addr[0] = 198;
	h->addr.addr[1] = 18;
	h->addr.addr[3] = 17;
	h->addr.port = 4707;
	h->flags = LV_BLOCK | LV_STAY;
}

static void
make_lv(struct loadvec *lv, uint32_t node)
{
	size_t	i;

	memset(lv, 0, sizeof *lv);
	lv->node = node;
	snprintf(lv->name, sizeof lv->name, "n%u", node);
	lv->incarnation = 1000 + node;
	lv->stamp = 50000 + node;
	lv->ncpu = 2 + node % 7;
	lv->speed = 10000 + node;
	lv->load = 150 * node;
	lv->mem_total = 24000000;
	lv->mem_free = 12000000 + node;
	lv->guests = node % 3;
	lv->flags = node % 2 ? LV_QUIET : 0;
	for (i = 0; i < CPUW_NWORDS; i++)
		lv->cpu.word[i] = 0x01010101U * (uint32_t)(i + 1) + node;
	lv->cpu.xcr0 = 0xe7;
	lv->cpu.xsave_size = 2696;
	snprintf(lv->cpu.model, sizeof lv->cpu.model, "Test CPU @ 3.00GHz");
	snprintf(lv->kernel, sizeof lv->kernel, "6.18.0-omm");
	lv->addr.family = NODE_AF_INET6;
	lv->addr.addr[0] = 0xfd;
	lv->addr.addr[15] = (uint8_t)node;
	lv->addr.port = 4707;
}

static void
make_loadwin(struct wire_loadwin *w, uint16_t n)
{
	uint16_t	i;

	memset(w, 0, sizeof *w);
	w->flags = n % 2 ? WIRE_LOADWIN_PULL : 0;
	w->n = n;
	for (i = 0; i < n; i++) {
		w->ent[i].age_ms = 37u * i;
		make_lv(&w->ent[i].lv, 10u + i);
	}
}

/* Peek a whole frame in b; its payload and header. */
static const uint8_t *
frame_ok(const struct buf *b, struct wire_hdr *h)
{
	size_t	 flen = 0;
	char	*cause = NULL;
	int	 rc;

	rc = wire_frame_peek(b->data, b->len, h, &flen, &cause);
	if (rc != 1)
		fail_msg("peek: %d %s", rc, cause ? cause : "");
	assert_int_equal(flen, b->len);
	assert_int_equal(h->len + WIRE_HDR_LEN, b->len);
	return b->data + WIRE_HDR_LEN;
}

/* ---- round trips ---- */

static void
test_roundtrip_hello(void **state)
{
	static const uint16_t	 types[] = { WIRE_HELLO, WIRE_HELLO_ACK };
	struct wire_hello	 h;
	struct wire_hdr		 hdr;
	struct wire_msg		*m = calloc(1, sizeof *m);
	struct buf		 b;
	const uint8_t		*p;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		make_hello(&h);
		buf_init(&b);
		wire_encode_hello(&b, types[i], &h);
		p = frame_ok(&b, &hdr);
		assert_int_equal(hdr.type, types[i]);
		assert_int_equal(wire_decode(&hdr, p, m, NULL), 0);
		assert_int_equal(m->type, types[i]);
		assert_memory_equal(&m->hello, &h, sizeof h);
		/* The byte layout docs/wire-protocol.md gives. */
		assert_memory_equal(b.data, "OMMW\x01\x00", 6);
		assert_int_equal(b.data[6] | b.data[7] << 8, types[i]);
		assert_int_equal(le32dec(p), 7);
		buf_free(&b);
	}
	free(m);
}

static void
test_roundtrip_loadwin(void **state)
{
	static const uint16_t	 counts[] = { 1, 2, 20, WIRE_LOADWIN_MAX };
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_msg		*m = calloc(1, sizeof *m);
	struct wire_hdr		 hdr;
	struct buf		 b;
	const uint8_t		*p;
	size_t			 i;

	for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		make_loadwin(w, counts[i]);
		buf_init(&b);
		wire_encode_loadwin(&b, w);
		p = frame_ok(&b, &hdr);
		assert_int_equal(hdr.type, WIRE_LOADWIN);
		assert_int_equal(wire_decode(&hdr, p, m, NULL), 0);
		assert_int_equal(m->loadwin.n, counts[i]);
		assert_int_equal(m->loadwin.flags, w->flags);
		assert_memory_equal(&m->loadwin.ent, &w->ent,
		    counts[i] * sizeof w->ent[0]);
		buf_free(&b);
	}
	free(w);
	free(m);
}

/* The largest window the format allows passes the frame's bounds. */
static void
test_loadwin_largest(void **state)
{
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_loadwin	*d = calloc(1, sizeof *d);
	struct wire_hdr		 hdr;
	struct buf		 b;
	const uint8_t		*p;
	size_t			 i;

	make_loadwin(w, WIRE_LOADWIN_MAX);
	for (i = 0; i < w->n; i++) {
		struct loadvec	*lv = &w->ent[i].lv;

		memset(lv->name, 'a' + i % 26, sizeof lv->name - 1);
		memset(lv->cpu.model, 'M', sizeof lv->cpu.model - 1);
		memset(lv->kernel, 'k', sizeof lv->kernel - 1);
		lv->name[0] = (char)('A' + i % 26);
		lv->name[1] = (char)('A' + i / 26);
		w->ent[i].age_ms = UINT32_MAX;
	}
	buf_init(&b);
	wire_encode_loadwin(&b, w);
	p = frame_ok(&b, &hdr);
	assert_int_equal(hdr.len, 4 + WIRE_LOADWIN_MAX *
	    (4 + wire_loadvec_max_len()));
	assert_int_equal(wire_decode_loadwin(p, hdr.len, d, NULL), 0);
	assert_memory_equal(d, w, sizeof *w);
	buf_free(&b);
	free(w);
	free(d);
}

static void
test_roundtrip_bye(void **state)
{
	struct wire_bye		 bye, *d = calloc(1, sizeof *d);
	struct wire_hdr		 hdr;
	struct buf		 b;
	const uint8_t		*p;
	uint16_t		 r;

	for (r = 1; r < WIRE_BYE_NREASONS; r++) {
		memset(&bye, 0, sizeof bye);
		bye.reason = r;
		if (r % 2)
			snprintf(bye.text, sizeof bye.text, "reason %s",
			    wire_bye_name(r));
		buf_init(&b);
		wire_encode_bye(&b, &bye);
		p = frame_ok(&b, &hdr);
		assert_int_equal(hdr.type, WIRE_BYE);
		assert_int_equal(wire_decode_bye(p, hdr.len, d, NULL), 0);
		assert_memory_equal(d, &bye, sizeof bye);
		buf_free(&b);
	}
	assert_string_equal(wire_bye_name(WIRE_BYE_LEAVE), "leave");
	assert_string_equal(wire_bye_name(0), "unknown");
	assert_string_equal(wire_type_name(WIRE_LOADWIN), "LOADWIN");
	assert_string_equal(wire_type_name(218), "unknown");
	free(d);
}

/* ---- the stream: chunks, truncation ---- */

/* Several frames in one stream, delivered in chunks of every size. */
static void
test_stream_chunks(void **state)
{
	struct wire_hello	 h;
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_bye		 bye = { .reason = WIRE_BYE_SHUTDOWN };
	struct wire_msg		*m = calloc(1, sizeof *m);
	static const uint16_t	 want[] = { WIRE_HELLO, WIRE_LOADWIN,
				    WIRE_BYE };
	struct wire_hdr		 hdr;
	struct buf		 b;
	size_t			 chunk, have, used, flen, nframes;
	int			 rc;

	make_hello(&h);
	make_loadwin(w, 5);
	buf_init(&b);
	wire_encode_hello(&b, WIRE_HELLO, &h);
	wire_encode_loadwin(&b, w);
	wire_encode_bye(&b, &bye);

	for (chunk = 1; chunk <= b.len; chunk += chunk < 16 ? 1 : 97) {
		have = used = nframes = 0;
		while (used < b.len) {
			rc = wire_frame_peek(b.data + used, have - used, &hdr,
			    &flen, NULL);
			assert_int_not_equal(rc, -1);
			if (rc == 0) {
				assert_true(have < b.len);
				have = have + chunk > b.len ? b.len :
				    have + chunk;
				continue;
			}
			assert_true(nframes < 3);
			assert_int_equal(hdr.type, want[nframes]);
			assert_int_equal(wire_decode(&hdr, b.data + used +
			    WIRE_HDR_LEN, m, NULL), 0);
			nframes++;
			used += flen;
		}
		assert_int_equal(nframes, 3);
	}
	buf_free(&b);
	free(w);
	free(m);
}

/* Every proper prefix of a frame is "need more", never bad. */
static void
test_frame_truncated(void **state)
{
	struct wire_hello	 h;
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_bye		 bye = { .reason = WIRE_BYE_LEAVE };
	struct wire_hdr		 hdr;
	struct buf		 b[3];
	size_t			 i, k, flen;

	make_hello(&h);
	make_loadwin(w, 3);
	for (i = 0; i < 3; i++)
		buf_init(&b[i]);
	wire_encode_hello(&b[0], WIRE_HELLO_ACK, &h);
	wire_encode_loadwin(&b[1], w);
	wire_encode_bye(&b[2], &bye);
	for (i = 0; i < 3; i++) {
		for (k = 0; k < b[i].len; k++) {
			flen = 12345;
			assert_int_equal(wire_frame_peek(b[i].data, k, &hdr,
			    &flen, NULL), 0);
			assert_int_equal(flen, 12345);
		}
		buf_free(&b[i]);
	}
	free(w);
}

/* Every proper prefix (and one byte more) of a payload is refused. */
static void
test_payload_truncated(void **state)
{
	struct wire_hello	 h, dh;
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct wire_loadwin	*dw = calloc(1, sizeof *dw);
	struct wire_bye		 bye = { .reason = WIRE_BYE_LEAVE }, db;
	struct buf		 b;
	uint8_t			*p;
	size_t			 len, k;
	char			*cause;

	make_hello(&h);
	buf_init(&b);
	wire_encode_hello(&b, WIRE_HELLO, &h);
	len = b.len - WIRE_HDR_LEN;
	p = malloc(len + 1);
	memcpy(p, b.data + WIRE_HDR_LEN, len);
	for (k = 0; k < len; k++)
		assert_int_equal(wire_decode_hello(p, k, &dh, NULL), -1);
	p[len] = 0;
	cause = NULL;
	assert_int_equal(wire_decode_hello(p, len + 1, &dh, &cause), -1);
	assert_non_null(strstr(cause, "1 bytes after HELLO"));
	free(cause);
	free(p);

	make_loadwin(w, 3);
	buf_reset(&b);
	wire_encode_loadwin(&b, w);
	len = b.len - WIRE_HDR_LEN;
	p = malloc(len + 1);
	memcpy(p, b.data + WIRE_HDR_LEN, len);
	for (k = 0; k < len; k++)
		assert_int_equal(wire_decode_loadwin(p, k, dw, NULL), -1);
	p[len] = 0;
	cause = NULL;
	assert_int_equal(wire_decode_loadwin(p, len + 1, dw, &cause), -1);
	assert_non_null(strstr(cause, "after LOADWIN"));
	free(cause);
	free(p);

	snprintf(bye.text, sizeof bye.text, "bye now");
	buf_reset(&b);
	wire_encode_bye(&b, &bye);
	len = b.len - WIRE_HDR_LEN;
	p = malloc(len + 1);
	memcpy(p, b.data + WIRE_HDR_LEN, len);
	for (k = 0; k < len; k++)
		assert_int_equal(wire_decode_bye(p, k, &db, NULL), -1);
	p[len] = 'x';
	assert_int_equal(wire_decode_bye(p, len + 1, &db, NULL), -1);
	free(p);

	buf_free(&b);
	free(w);
	free(dw);
}

/* ---- header refusals ---- */

static void
put_hdr(uint8_t *p, uint32_t magic, uint16_t version, uint16_t type,
    uint32_t len)
{
	le32enc(p, magic);
	p[4] = (uint8_t)version;
	p[5] = (uint8_t)(version >> 8);
	p[6] = (uint8_t)type;
	p[7] = (uint8_t)(type >> 8);
	le32enc(p + 8, len);
}

static const struct hdr_case {
	const char	*what;
	uint32_t	 magic;
	uint16_t	 version;
	uint16_t	 type;
	uint32_t	 len;
	size_t		 cap;		/* 0: the default */
	size_t		 at;		/* refused once this many bytes are in */
	const char	*cause;
} hdr_cases[] = {
	{ "plain text", 0x20544547, 1, WIRE_HELLO, 60, 0, 1,
	    "bad magic: not an omm wire stream (byte 0 is 0x47)" },
	{ "last magic byte", 0x584d4d4f, 1, WIRE_HELLO, 60, 0, 4,
	    "byte 3 is 0x58" },
	{ "version 0", WIRE_MAGIC, 0, WIRE_HELLO, 60, 0, 6,
	    "peer speaks wire version 0, we speak 1" },
	{ "version 2", WIRE_MAGIC, 2, WIRE_HELLO, 60, 0, 6,
	    "peer speaks wire version 2, we speak 1" },
	{ "version 0x100", WIRE_MAGIC, 0x100, WIRE_HELLO, 60, 0, 6,
	    "peer speaks wire version 256, we speak 1" },
	{ "type 0", WIRE_MAGIC, 1, 0, 60, 0, 8, "unknown message type 0" },
	{ "type 99", WIRE_MAGIC, 1, 99, 60, 0, 8, "unknown message type 99" },
	{ "type 104", WIRE_MAGIC, 1, 104, 60, 0, 8,
	    "unknown message type 104" },
	{ "past the migration block", WIRE_MAGIC, 1, 218, 60, 0, 8,
	    "unknown message type 218" },
	{ "past the syscall block", WIRE_MAGIC, 1, 307, 60, 0, 8,
	    "unknown message type 307" },
	{ "type 65535", WIRE_MAGIC, 1, 65535, 60, 0, 8,
	    "unknown message type 65535" },
	{ "HELLO too long", WIRE_MAGIC, 1, WIRE_HELLO, 138, 0, 12,
	    "HELLO of 138 bytes, expected 44 to 137" },
	{ "HELLO too short", WIRE_MAGIC, 1, WIRE_HELLO_ACK, 43, 0, 12,
	    "HELLO_ACK of 43 bytes, expected 44 to 137" },
	{ "empty BYE", WIRE_MAGIC, 1, WIRE_BYE, 0, 0, 12,
	    "BYE of 0 bytes, expected 6 to 133" },
	{ "4 GiB LOADWIN", WIRE_MAGIC, 1, WIRE_LOADWIN, 0xffffffff, 0, 12,
	    "LOADWIN of 4294967295 bytes over the cap of 1048576" },
	{ "LOADWIN over its bound", WIRE_MAGIC, 1, WIRE_LOADWIN, 1000000, 0,
	    12, "LOADWIN of 1000000 bytes, expected" },
	{ "over a small cap", WIRE_MAGIC, 1, WIRE_LOADWIN, 5000, 4096, 12,
	    "LOADWIN of 5000 bytes over the cap of 4096" },
};

static void
test_header_refused(void **state)
{
	const struct hdr_case	*c;
	struct wire_hdr		 hdr;
	uint8_t			 p[WIRE_HDR_LEN];
	size_t			 i, k, flen;
	char			*cause;
	int			 rc;

	for (i = 0; i < sizeof hdr_cases / sizeof hdr_cases[0]; i++) {
		c = &hdr_cases[i];
		put_hdr(p, c->magic, c->version, c->type, c->len);
		/* Fine (need more) before the bad byte, refused from it on. */
		for (k = 0; k <= WIRE_HDR_LEN; k++) {
			cause = NULL;
			rc = wire_frame_peek_max(p, k, c->cap ? c->cap :
			    WIRE_MAX_PAYLOAD, &hdr, &flen, &cause);
			if (k < c->at) {
				if (rc != 0)
					fail_msg("%s: %d at %zu", c->what, rc,
					    k);
				assert_null(cause);
				continue;
			}
			if (rc != -1 || cause == NULL ||
			    strstr(cause, c->cause) == NULL)
				fail_msg("%s at %zu: %d \"%s\"", c->what, k, rc,
				    cause ? cause : "");
			free(cause);
		}
	}
}

/* ---- payload refusals: raw payloads built field by field ---- */

/* A HELLO payload with any field, valid or not. */
struct hello_raw {
	uint32_t	 node;
	uint64_t	 incarnation;
	const char	*name;
	size_t		 namelen;
	const char	*version;
	size_t		 verlen;
	uint8_t		 family;
	uint8_t		 addr[16];
	uint16_t	 port;
	uint32_t	 flags;
};

/* A string field; a length over 1000 is a lie followed by 8 bytes. */
static void
put_raw_str(struct buf *b, const char *s, size_t n)
{
	buf_add_u32(b, (uint32_t)n);
	buf_add(b, s, n > 1000 ? 8 : n);
}

static void
hello_raw_default(struct hello_raw *r)
{
	memset(r, 0, sizeof *r);
	r->node = 3;
	r->incarnation = 99;
	r->name = "three";
	r->namelen = 5;
	r->version = "0.1.0";
	r->verlen = 5;
	r->family = NODE_AF_INET;
	r->addr[0] = 10;
	r->port = 1;
}

static void
hello_raw_put(struct buf *b, const struct hello_raw *r)
{
	buf_add_u32(b, r->node);
	buf_add_u64(b, r->incarnation);
	put_raw_str(b, r->name, r->namelen);
	put_raw_str(b, r->version, r->verlen);
	buf_add_u8(b, r->family);
	buf_add(b, r->addr, 16);
	buf_add_u16(b, r->port);
	buf_add_u32(b, r->flags);
}

static const char long_str[200] =
    "0123456789012345678901234567890123456789012345678901234567890123"
    "0123456789012345678901234567890123456789012345678901234567890123"
    "0123456789012345678901234567890123456789012345678901234567890123";

static void h_ok(struct hello_raw *r) { }
static void h_node0(struct hello_raw *r) { r->node = 0; }
static void h_inc0(struct hello_raw *r) { r->incarnation = 0; }
static void h_noname(struct hello_raw *r) { r->namelen = 0; }
static void h_name63(struct hello_raw *r) { r->name = long_str; r->namelen = 63; }
static void h_name64(struct hello_raw *r) { r->name = long_str; r->namelen = 64; }
static void h_namenul(struct hello_raw *r) { r->name = "a\0b"; r->namelen = 3; }
static void h_ver32(struct hello_raw *r) { r->version = long_str; r->verlen = 32; }
static void h_noversion(struct hello_raw *r) { r->verlen = 0; }
static void h_fam5(struct hello_raw *r) { r->family = 5; }
static void h_v4pad(struct hello_raw *r) { r->addr[4] = 1; }
static void h_v6(struct hello_raw *r) { r->family = NODE_AF_INET6; r->addr[15] = 1; }
static void h_noaddr_port(struct hello_raw *r) { r->family = 0; r->addr[0] = 0; }
static void h_noaddr(struct hello_raw *r) { r->family = 0; r->addr[0] = 0; r->port = 0; }
static void h_flags(struct hello_raw *r) { r->flags = 0x20; }
static void h_allflags(struct hello_raw *r) { r->flags = LV_FLAGS; }

static const struct hello_case {
	const char	*what;
	void		(*tweak)(struct hello_raw *);
	const char	*cause;		/* NULL: accepted */
} hello_cases[] = {
	{ "valid", h_ok, NULL },
	{ "node id 0", h_node0, "node id 0" },
	{ "incarnation 0", h_inc0, "incarnation 0" },
	{ "empty name", h_noname, "empty node name" },
	{ "63-byte name", h_name63, NULL },
	{ "64-byte name", h_name64, "node name of 64 bytes, at most 63" },
	{ "NUL in name", h_namenul, "node name holds a NUL byte" },
	{ "32-byte version", h_ver32, "version of 32 bytes, at most 31" },
	{ "empty version", h_noversion, NULL },
	{ "family 5", h_fam5, "address family 5" },
	{ "IPv4 padding set", h_v4pad, "address byte 4 set beyond family 4" },
	{ "IPv6", h_v6, NULL },
	{ "port without address", h_noaddr_port, "port 1 without an address" },
	{ "no address", h_noaddr, NULL },
	{ "unknown flag", h_flags, "unknown flags 0x20" },
	{ "every flag", h_allflags, NULL },
};

static void
test_hello_refused(void **state)
{
	const struct hello_case	*c;
	struct hello_raw	 r;
	struct wire_hello	 h;
	struct buf		 b;
	size_t			 i;
	char			*cause;
	int			 rc;

	for (i = 0; i < sizeof hello_cases / sizeof hello_cases[0]; i++) {
		c = &hello_cases[i];
		hello_raw_default(&r);
		c->tweak(&r);
		buf_init(&b);
		hello_raw_put(&b, &r);
		cause = NULL;
		rc = wire_decode_hello(b.data, b.len, &h, &cause);
		if (c->cause == NULL && rc != 0)
			fail_msg("%s: refused: %s", c->what, cause);
		if (c->cause != NULL && (rc != -1 || cause == NULL ||
		    strstr(cause, c->cause) == NULL))
			fail_msg("%s: %d \"%s\"", c->what, rc,
			    cause ? cause : "");
		if (rc == 0)
			assert_int_equal(h.node, r.node);
		free(cause);
		buf_free(&b);
	}
}

/* A LOADWIN payload: a count, then entries from vectors, all raw. */
struct lv_raw {
	uint32_t	 age;
	struct loadvec	 lv;
	const char	*name;		/* NULL: lv.name */
	size_t		 namelen;
	const char	*model;		/* NULL: lv.cpu.model */
	size_t		 modellen;
	const char	*kernel;	/* NULL: lv.kernel */
	size_t		 kernellen;
	int		 nwords;
};

struct win_raw {
	uint16_t	flags;
	uint16_t	count;
	size_t		n;		/* entries written */
	struct lv_raw	ent[4];
	int		trailing;
};

static void
lv_raw_put(struct buf *b, const struct lv_raw *r)
{
	const struct loadvec	*lv = &r->lv;
	int			 i;

	buf_add_u32(b, r->age);
	buf_add_u32(b, lv->node);
	if (r->name != NULL)
		put_raw_str(b, r->name, r->namelen);
	else
		buf_add_str(b, lv->name);
	buf_add_u64(b, lv->incarnation);
	buf_add_u64(b, lv->stamp);
	buf_add_u32(b, lv->ncpu);
	buf_add_u32(b, lv->speed);
	buf_add_u32(b, lv->load);
	buf_add_u64(b, lv->mem_total);
	buf_add_u64(b, lv->mem_free);
	buf_add_u32(b, lv->guests);
	buf_add_u32(b, lv->flags);
	buf_add_u8(b, (uint8_t)r->nwords);
	for (i = 0; i < r->nwords; i++)
		buf_add_u32(b, i < CPUW_NWORDS ? lv->cpu.word[i] : 0);
	buf_add_u64(b, lv->cpu.xcr0);
	buf_add_u32(b, lv->cpu.xsave_size);
	if (r->model != NULL)
		put_raw_str(b, r->model, r->modellen);
	else
		buf_add_str(b, lv->cpu.model);
	if (r->kernel != NULL)
		put_raw_str(b, r->kernel, r->kernellen);
	else
		buf_add_str(b, lv->kernel);
	buf_add_u8(b, lv->addr.family);
	buf_add(b, lv->addr.addr, 16);
	buf_add_u16(b, lv->addr.port);
}

static void
win_raw_default(struct win_raw *w)
{
	size_t	i;

	memset(w, 0, sizeof *w);
	w->count = w->n = 3;
	for (i = 0; i < 4; i++) {
		make_lv(&w->ent[i].lv, 20 + (uint32_t)i);
		w->ent[i].age = (uint32_t)i * 100;
		w->ent[i].nwords = CPUW_NWORDS;
	}
}

static void
win_raw_put(struct buf *b, const struct win_raw *w)
{
	size_t	i;

	buf_add_u16(b, w->flags);
	buf_add_u16(b, w->count);
	for (i = 0; i < w->n; i++)
		lv_raw_put(b, &w->ent[i]);
	if (w->trailing)
		buf_add_u8(b, 0);
}

#define E1	(&w->ent[1])
#define LV1	(&w->ent[1].lv)
static void w_ok(struct win_raw *w) { }
static void w_count0(struct win_raw *w) { w->count = 0; w->n = 0; }
static void w_count65(struct win_raw *w) { w->count = 65; }
static void w_countbig(struct win_raw *w) { w->count = 65535; }
static void w_countlies(struct win_raw *w) { w->count = 4; }
static void w_countshort(struct win_raw *w) { w->count = 2; }
static void w_trailing(struct win_raw *w) { w->trailing = 1; }
static void w_dup(struct win_raw *w) { LV1->node = w->ent[0].lv.node; }
static void w_node0(struct win_raw *w) { LV1->node = 0; }
static void w_noname(struct win_raw *w) { E1->name = ""; E1->namelen = 0; }
static void w_name64(struct win_raw *w) { E1->name = long_str; E1->namelen = 64; }
static void w_namenul(struct win_raw *w) { E1->name = "x\0"; E1->namelen = 2; }
static void w_hugename(struct win_raw *w) { E1->name = long_str; E1->namelen = 0x7fffffff; }
static void w_inc0(struct win_raw *w) { LV1->incarnation = 0; }
static void w_ncpu0(struct win_raw *w) { LV1->ncpu = 0; }
static void w_ncpubig(struct win_raw *w) { LV1->ncpu = 65537; }
static void w_speed0(struct win_raw *w) { LV1->speed = 0; }
static void w_speedbig(struct win_raw *w) { LV1->speed = LV_SPEED_MAX + 1; }
static void w_memfree(struct win_raw *w) { LV1->mem_free = LV1->mem_total + 1; }
static void w_flags(struct win_raw *w) { LV1->flags = 0x80000000U; }
static void w_xsave(struct win_raw *w) { LV1->cpu.xsave_size = (1U << 20) + 1; }
static void w_words8(struct win_raw *w) { E1->nwords = CPUW_NWORDS - 1; }
static void w_words10(struct win_raw *w) { E1->nwords = CPUW_NWORDS + 1; }
static void w_model64(struct win_raw *w) { E1->model = long_str; E1->modellen = 64; }
static void w_model63(struct win_raw *w) { E1->model = long_str; E1->modellen = 63; }
static void w_modelnul(struct win_raw *w) { E1->model = "\0"; E1->modellen = 1; }
static void w_kernel65(struct win_raw *w) { E1->kernel = long_str; E1->kernellen = 65; }
static void w_kernel64(struct win_raw *w) { E1->kernel = long_str; E1->kernellen = 64; }
static void w_fam1(struct win_raw *w) { LV1->addr.family = 1; }
static void w_v6pad(struct win_raw *w) { LV1->addr.family = NODE_AF_INET; }
static void w_age(struct win_raw *w) { E1->age = UINT32_MAX; }
static void w_pull(struct win_raw *w) { w->flags = WIRE_LOADWIN_PULL; }
static void w_flag2(struct win_raw *w) { w->flags = 0x0002; }

static const struct win_case {
	const char	*what;
	void		(*tweak)(struct win_raw *);
	const char	*cause;		/* NULL: accepted */
} win_cases[] = {
	{ "valid", w_ok, NULL },
	{ "count 0", w_count0, "LOADWIN of 0 entries, expected 1 to 64" },
	{ "count 65", w_count65, "LOADWIN of 65 entries, expected 1 to 64" },
	{ "count 65535", w_countbig, "LOADWIN of 65535 entries" },
	{ "count over entries", w_countlies, "LOADWIN of 4 entries in" },
	{ "count under entries", w_countshort, "after LOADWIN" },
	{ "trailing byte", w_trailing, "1 bytes after LOADWIN" },
	{ "node twice", w_dup, "LOADWIN: node 20 twice" },
	{ "node id 0", w_node0, "LOADWIN entry 1: node id 0" },
	{ "empty name", w_noname, "LOADWIN entry 1: empty node name" },
	{ "64-byte name", w_name64, "entry 1: node name of 64 bytes" },
	{ "NUL in name", w_namenul, "entry 1: node name holds a NUL byte" },
	{ "2 GiB name", w_hugename, "node name of 2147483647 bytes" },
	{ "incarnation 0", w_inc0, "entry 1: node 21: incarnation 0" },
	{ "no CPUs", w_ncpu0, "entry 1: node 21: 0 CPUs" },
	{ "65537 CPUs", w_ncpubig, "node 21: 65537 CPUs" },
	{ "speed 0", w_speed0, "node 21: speed 0" },
	{ "speed over max", w_speedbig, "node 21: speed 1000001" },
	{ "more free than total", w_memfree, "KiB free of" },
	{ "unknown flag", w_flags, "node 21: unknown flags 0x80000000" },
	{ "huge xsave", w_xsave, "xsave area of 1048577 bytes" },
	{ "8 feature words", w_words8, "8 CPU feature words, expected 9" },
	{ "10 feature words", w_words10, "10 CPU feature words, expected 9" },
	{ "64-byte model", w_model64, "CPU model of 64 bytes, at most 63" },
	{ "63-byte model", w_model63, NULL },
	{ "NUL in model", w_modelnul, "CPU model holds a NUL byte" },
	{ "65-byte kernel", w_kernel65, "kernel release of 65 bytes" },
	{ "64-byte kernel", w_kernel64, NULL },
	{ "family 1", w_fam1, "entry 1: address family 1" },
	{ "IPv6 bytes as IPv4", w_v6pad, "address byte 15 set beyond" },
	{ "oldest age", w_age, NULL },
	{ "pull wanted", w_pull, NULL },
	{ "unknown LOADWIN flag", w_flag2, "LOADWIN flags 0x2" },
};

static void
test_loadwin_refused(void **state)
{
	const struct win_case	*c;
	struct win_raw		 r;
	struct wire_loadwin	*w = calloc(1, sizeof *w);
	struct buf		 b;
	size_t			 i;
	char			*cause;
	int			 rc;

	for (i = 0; i < sizeof win_cases / sizeof win_cases[0]; i++) {
		c = &win_cases[i];
		win_raw_default(&r);
		c->tweak(&r);
		buf_init(&b);
		win_raw_put(&b, &r);
		cause = NULL;
		rc = wire_decode_loadwin(b.data, b.len, w, &cause);
		if (c->cause == NULL && rc != 0)
			fail_msg("%s: refused: %s", c->what, cause);
		if (c->cause != NULL && (rc != -1 || cause == NULL ||
		    strstr(cause, c->cause) == NULL))
			fail_msg("%s: %d \"%s\"", c->what, rc,
			    cause ? cause : "");
		if (rc == 0) {
			assert_int_equal(w->n, r.count);
			assert_int_equal(w->flags, r.flags);
			assert_int_equal(w->ent[1].age_ms, r.ent[1].age);
		}
		free(cause);
		buf_free(&b);
	}
	free(w);
}

static const struct bye_case {
	const char	*what;
	uint16_t	 reason;
	size_t		 textlen;
	int		 nul;
	const char	*cause;
} bye_cases[] = {
	{ "shutdown", WIRE_BYE_SHUTDOWN, 0, 0, NULL },
	{ "refused with text", WIRE_BYE_REFUSED, 127, 0, NULL },
	{ "reason 0", 0, 0, 0, "BYE reason 0" },
	{ "reason past the last", WIRE_BYE_NREASONS, 0, 0, "BYE reason 5" },
	{ "text of 128", WIRE_BYE_LEAVE, 128, 0, "BYE text of 128 bytes" },
	{ "NUL in text", WIRE_BYE_LEAVE, 10, 1, "BYE text holds a NUL" },
};

static void
test_bye_refused(void **state)
{
	const struct bye_case	*c;
	struct wire_bye		 bye;
	struct buf		 b;
	char			 text[200], *cause;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof bye_cases / sizeof bye_cases[0]; i++) {
		c = &bye_cases[i];
		memset(text, 't', sizeof text);
		if (c->nul)
			text[c->textlen / 2] = '\0';
		buf_init(&b);
		buf_add_u16(&b, c->reason);
		put_raw_str(&b, text, c->textlen);
		cause = NULL;
		rc = wire_decode_bye(b.data, b.len, &bye, &cause);
		if (c->cause == NULL && rc != 0)
			fail_msg("%s: refused: %s", c->what, cause);
		if (c->cause != NULL && (rc != -1 || cause == NULL ||
		    strstr(cause, c->cause) == NULL))
			fail_msg("%s: %d \"%s\"", c->what, rc,
			    cause ? cause : "");
		if (rc == 0)
			assert_int_equal(strlen(bye.text), c->textlen);
		free(cause);
		buf_free(&b);
	}
}

/* wire_decode checks the header it is given, too. */
static void
test_decode_header(void **state)
{
	struct wire_msg		*m = calloc(1, sizeof *m);
	struct wire_hdr		 hdr = { WIRE_MAGIC, 2, WIRE_BYE, 6 };
	static const uint8_t	 p[6] = { 1, 0, 0, 0, 0, 0 };
	char			*cause = NULL;

	assert_int_equal(wire_decode(&hdr, p, m, &cause), -1);
	assert_string_equal(cause, "peer speaks wire version 2, we speak 1");
	free(cause);
	cause = NULL;
	hdr.version = 1;
	hdr.type = 250;
	assert_int_equal(wire_decode(&hdr, p, m, &cause), -1);
	assert_string_equal(cause, "unknown message type 250");
	free(cause);
	hdr.type = WIRE_BYE;
	assert_int_equal(wire_decode(&hdr, p, m, NULL), 0);
	assert_int_equal(m->bye.reason, WIRE_BYE_SHUTDOWN);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_hello),
		cmocka_unit_test(test_roundtrip_loadwin),
		cmocka_unit_test(test_loadwin_largest),
		cmocka_unit_test(test_roundtrip_bye),
		cmocka_unit_test(test_stream_chunks),
		cmocka_unit_test(test_frame_truncated),
		cmocka_unit_test(test_payload_truncated),
		cmocka_unit_test(test_header_refused),
		cmocka_unit_test(test_hello_refused),
		cmocka_unit_test(test_loadwin_refused),
		cmocka_unit_test(test_bye_refused),
		cmocka_unit_test(test_decode_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
