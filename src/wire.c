/* wire.c: node-to-node frames, and the encoder and decoder of each message. */
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/migwire.h"
#include "omm/wire.h"

/*
 * Wire sizes of the parts of a payload. A string is a u32 length and its
 * bytes; an address is u8 family, 16 bytes, u16 port.
 */
#define STR_LEN(n)	(4 + (n))
#define ADDR_LEN	(1 + 16 + 2)
#define CPU_LEN(model)	(1 + 4 * CPUW_NWORDS + 8 + 4 + STR_LEN(model))

/* node, name, incarnation, version, addr, flags */
#define HELLO_LEN(name, ver) \
	(4 + 8 + STR_LEN(name) + STR_LEN(ver) + ADDR_LEN + 4)
#define HELLO_MIN	HELLO_LEN(1, 0)
#define HELLO_MAX	HELLO_LEN(LV_NAME_MAX - 1, WIRE_VERSION_MAX - 1)

/*
 * node, name, incarnation, stamp, ncpu, speed, load, mem_total, mem_free,
 * guests, flags, cpu (words, xcr0, xsave size, model), kernel, addr
 */
#define LV_LEN(name, model, kernel)					\
	(4 + STR_LEN(name) + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 4 + 4 +	\
	CPU_LEN(model) + STR_LEN(kernel) + ADDR_LEN)
#define LV_MIN		LV_LEN(1, 0, 0)
#define MODEL_MAX	(sizeof ((struct cpu_features *)0)->model - 1)
#define LV_MAX		LV_LEN(LV_NAME_MAX - 1, MODEL_MAX, LV_KERNEL_MAX - 1)
#define LVENT_MIN	(4 + LV_MIN)		/* age, vector */
#define LVENT_MAX	(4 + LV_MAX)
/* flags, count, entries */
#define LOADWIN_MIN	(2 + 2 + LVENT_MIN)
#define LOADWIN_MAX	(2 + 2 + WIRE_LOADWIN_MAX * LVENT_MAX)

#define BYE_MIN		(2 + STR_LEN(0))
#define BYE_MAX		(2 + STR_LEN(WIRE_TEXT_MAX - 1))

/* Plausibility bounds of a load vector's numbers. */
#define NCPU_MAX	65536
#define XSAVE_MAX	(1U << 20)

typedef int	decode_fn(const uint8_t *, size_t, struct wire_msg *, char **);

static decode_fn	dec_hello, dec_loadwin, dec_bye;

/*
 * Every message type. min and max bound the payload length; the frame
 * parser refuses a header outside them before waiting for the payload, so
 * no peer can make us buffer more than a type can hold. decode fills the
 * matching member of struct wire_msg; the 200 block (migwire.c) and the 300
 * block (marshal.c) have none here, since they never travel on a node link.
 * own_cap: the type's max is its only bound, whatever cap the caller of
 * wire_frame_peek_max gives (a syscall carries up to MARSHAL_MSG_MAX, over
 * the node links' default cap).
 */
static const struct wire_type_ent {
	uint16_t	 type;
	const char	*name;
	size_t		 min;
	size_t		 max;
	int		 own_cap;
	decode_fn	*decode;
} wire_types[] = {
	{ WIRE_HELLO, "HELLO", HELLO_MIN, HELLO_MAX, 0, dec_hello },
	{ WIRE_HELLO_ACK, "HELLO_ACK", HELLO_MIN, HELLO_MAX, 0, dec_hello },
	{ WIRE_LOADWIN, "LOADWIN", LOADWIN_MIN, LOADWIN_MAX, 0, dec_loadwin },
	{ WIRE_BYE, "BYE", BYE_MIN, BYE_MAX, 0, dec_bye },

	{ WIRE_MIG_OFFER, "MIG_OFFER", MIG_OFFER_MIN, MIG_OFFER_MAX, 1, NULL },
	{ WIRE_MIG_ACCEPT, "MIG_ACCEPT", MIG_ACCEPT_LEN, MIG_ACCEPT_LEN, 1,
	    NULL },
	{ WIRE_MIG_REFUSE, "MIG_REFUSE", MIG_REFUSE_MIN, MIG_REFUSE_MAX, 1,
	    NULL },
	{ WIRE_MIG_IMAGE, "MIG_IMAGE", 1, MIG_IMAGE_CHUNK, 1, NULL },
	{ WIRE_MIG_IMAGE_END, "MIG_IMAGE_END", MIG_IMAGE_END_LEN,
	    MIG_IMAGE_END_LEN, 1, NULL },
	{ WIRE_MIG_READY, "MIG_READY", MIG_READY_LEN, MIG_READY_LEN, 1, NULL },
	{ WIRE_MIG_FAIL, "MIG_FAIL", MIG_FAIL_MIN, MIG_FAIL_MAX, 1, NULL },
	{ WIRE_GUEST_SIGNAL, "GUEST_SIGNAL", GUEST_SIGNAL_LEN,
	    GUEST_SIGNAL_LEN, 1, NULL },
	{ WIRE_GUEST_EXIT, "GUEST_EXIT", GUEST_EXIT_LEN, GUEST_EXIT_LEN, 1,
	    NULL },
	{ WIRE_GUEST_BRING, "GUEST_BRING", GUEST_BRING_LEN, GUEST_BRING_LEN, 1,
	    NULL },
	{ WIRE_GUEST_LEAVING, "GUEST_LEAVING", GUEST_LEAVING_LEN,
	    GUEST_LEAVING_LEN, 1, NULL },
	{ WIRE_GUEST_STOPPED, "GUEST_STOPPED", GUEST_STOPPED_LEN,
	    GUEST_STOPPED_LEN, 1, NULL },
	{ WIRE_PING, "PING", 0, 0, 1, NULL },
	{ WIRE_GUEST_USAGE, "GUEST_USAGE", GUEST_USAGE_LEN, GUEST_USAGE_LEN, 1,
	    NULL },
	{ WIRE_GUEST_LANDED, "GUEST_LANDED", GUEST_LANDED_LEN,
	    GUEST_LANDED_LEN, 1, NULL },
	{ WIRE_GUEST_STAY, "GUEST_STAY", GUEST_STAY_MIN, GUEST_STAY_MAX, 1,
	    NULL },
	{ WIRE_MIG_FILE_REQ, "MIG_FILE_REQ", MIG_FILE_REQ_MIN,
	    MIG_FILE_REQ_MAX, 1, NULL },
	{ WIRE_MIG_FILE_DATA, "MIG_FILE_DATA", MIG_FILE_DATA_MIN,
	    MIG_FILE_DATA_MAX, 1, NULL },

	{ MARSHAL_SYSCALL_REQ, "SYSCALL_REQ", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_SYSCALL_REP, "SYSCALL_REP", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_FDINFO_REQ, "FDINFO_REQ", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_FDINFO_REP, "FDINFO_REP", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_FDDATA_REQ, "FDDATA_REQ", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_FDDATA_REP, "FDDATA_REP", 0, MARSHAL_MSG_MAX, 1, NULL },
	{ MARSHAL_SYSCALL_LOCAL, "SYSCALL_LOCAL", 0, MARSHAL_MSG_MAX, 1, NULL },
};
#define NTYPES	(sizeof wire_types / sizeof wire_types[0])

static const char *wire_bye_names[WIRE_BYE_NREASONS] = {
	[WIRE_BYE_SHUTDOWN] = "shutdown",
	[WIRE_BYE_LEAVE] = "leave",
	[WIRE_BYE_PROTOCOL] = "protocol error",
	[WIRE_BYE_REFUSED] = "refused",
};

static const struct wire_type_ent *
type_find(uint16_t type)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++) {
		if (wire_types[i].type == type)
			return &wire_types[i];
	}
	return NULL;
}

const char *
wire_type_name(uint16_t type)
{
	const struct wire_type_ent	*t = type_find(type);

	return t == NULL ? "unknown" : t->name;
}

const char *
wire_bye_name(uint16_t reason)
{
	if (reason >= WIRE_BYE_NREASONS || wire_bye_names[reason] == NULL)
		return "unknown";
	return wire_bye_names[reason];
}

size_t
wire_loadvec_max_len(void)
{
	return LV_MAX;
}

int
wire_frame_peek(const uint8_t *p, size_t n, struct wire_hdr *h,
    size_t *frame_len, char **cause)
{
	return wire_frame_peek_max(p, n, WIRE_MAX_PAYLOAD, h, frame_len, cause);
}

int
wire_frame_peek_max(const uint8_t *p, size_t n, size_t max,
    struct wire_hdr *h, size_t *frame_len, char **cause)
{
	const struct wire_type_ent	*t;
	uint8_t				 magic[4];
	uint16_t			 version, type;
	uint32_t			 len;
	size_t				 i;

	/* Refuse a stranger (a port scanner, plain HTTP) at its first byte. */
	le32enc(magic, WIRE_MAGIC);
	for (i = 0; i < n && i < sizeof magic; i++) {
		if (p[i] != magic[i])
			return cause_set(cause, "bad magic: not an omm wire "
			    "stream (byte %zu is 0x%02x)", i, p[i]);
	}
	if (n < 6)
		return 0;
	version = (uint16_t)(p[4] | p[5] << 8);
	if (version != OMM_WIRE_VERSION)
		return cause_set(cause, "peer speaks wire version %u, we speak "
		    "%u", version, OMM_WIRE_VERSION);
	if (n < 8)
		return 0;
	type = (uint16_t)(p[6] | p[7] << 8);
	if ((t = type_find(type)) == NULL)
		return cause_set(cause, "unknown message type %u", type);
	if (n < WIRE_HDR_LEN)
		return 0;
	len = le32dec(p + 8);
	if (len > max && !t->own_cap)
		return cause_set(cause, "%s of %u bytes over the cap of %zu",
		    t->name, len, max);
	if (len < t->min || len > t->max)
		return cause_set(cause, "%s of %u bytes, expected %zu to %zu",
		    t->name, len, t->min, t->max);
	h->magic = WIRE_MAGIC;
	h->version = version;
	h->type = type;
	h->len = len;
	if (n - WIRE_HDR_LEN < len)
		return 0;
	*frame_len = WIRE_HDR_LEN + (size_t)len;
	return 1;
}

int
wire_decode(const struct wire_hdr *h, const uint8_t *payload,
    struct wire_msg *m, char **cause)
{
	const struct wire_type_ent	*t;

	if (h->version != OMM_WIRE_VERSION)
		return cause_set(cause, "peer speaks wire version %u, we speak "
		    "%u", h->version, OMM_WIRE_VERSION);
	if ((t = type_find(h->type)) == NULL)
		return cause_set(cause, "unknown message type %u", h->type);
	if (t->decode == NULL)
		return cause_set(cause, "%s out of place: not a node link "
		    "message", t->name);
	m->type = h->type;
	return t->decode(payload, h->len, m, cause);
}

void
wire_hdr_put(uint8_t *hdr, uint16_t type, uint32_t len)
{
	le32enc(hdr, WIRE_MAGIC);
	hdr[4] = OMM_WIRE_VERSION & 0xff;
	hdr[5] = OMM_WIRE_VERSION >> 8;
	hdr[6] = type & 0xff;
	hdr[7] = type >> 8;
	le32enc(hdr + 8, len);
}

/* Start a frame of type at the end of b; returns where it starts. */
size_t
wire_frame_begin(struct buf *b, uint16_t type)
{
	size_t	off = b->len;

	/* length 0 for now, patched by wire_frame_end */
	wire_hdr_put(buf_reserve(b, WIRE_HDR_LEN), type, 0);
	return off;
}

void
wire_frame_end(struct buf *b, size_t off)
{
	const struct wire_type_ent	*t;
	size_t				 len;
	uint16_t			 type;

	len = b->len - off - WIRE_HDR_LEN;
	type = (uint16_t)(b->data[off + 6] | b->data[off + 7] << 8);
	t = type_find(type);
	if (t == NULL || len < t->min || len > t->max)
		fatalx("%s: %s of %zu bytes", __func__, wire_type_name(type),
		    len);
	buf_put_u32(b, off + 8, (uint32_t)len);
}

/*
 * Read a string of at most size - 1 bytes into out. Each failure gets its
 * own words: a peer's operator reads them in our log.
 */
static int
get_str(struct buf_rd *r, char *out, size_t size, const char *what,
    int may_be_empty, char **cause)
{
	uint32_t	 n;
	const char	*p;

	out[0] = '\0';
	n = buf_rd_u32(r);
	if (r->err)
		return cause_set(cause, "truncated at %s", what);
	if (n >= size)
		return cause_set(cause, "%s of %u bytes, at most %zu", what, n,
		    size - 1);
	if (n == 0 && !may_be_empty)
		return cause_set(cause, "empty %s", what);
	if ((p = buf_rd_ptr(r, n)) == NULL)
		return cause_set(cause, "truncated in %s", what);
	if (memchr(p, '\0', n) != NULL)
		return cause_set(cause, "%s holds a NUL byte", what);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* A string of ours, to be sent: a missing terminator is a bug. */
static void
put_str(struct buf *b, const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		fatalx("%s: unterminated string", __func__);
	buf_add_str(b, s);
}

/* Address bytes each family uses; the rest must be zero. */
static const struct {
	uint8_t	family;
	size_t	used;
} node_afs[] = {
	{ NODE_AF_NONE,	 0 },
	{ NODE_AF_INET,	 4 },
	{ NODE_AF_INET6, 16 },
};

static int
check_addr(const struct node_addr *a, char **cause)
{
	size_t	i, used;

	for (i = 0; i < sizeof node_afs / sizeof node_afs[0]; i++) {
		if (node_afs[i].family == a->family)
			break;
	}
	if (i == sizeof node_afs / sizeof node_afs[0])
		return cause_set(cause, "address family %u", a->family);
	used = node_afs[i].used;
	/* One encoding per address: unused bytes are zero. */
	for (i = used; i < sizeof a->addr; i++) {
		if (a->addr[i] != 0)
			return cause_set(cause, "address byte %zu set beyond "
			    "family %u", i, a->family);
	}
	if (a->family == NODE_AF_NONE && a->port != 0)
		return cause_set(cause, "port %u without an address", a->port);
	return 0;
}

static void
put_addr(struct buf *b, const struct node_addr *a)
{
	buf_add_u8(b, a->family);
	buf_add(b, a->addr, sizeof a->addr);
	buf_add_u16(b, a->port);
}

static int
get_addr(struct buf_rd *r, struct node_addr *a, char **cause)
{
	a->family = buf_rd_u8(r);
	buf_rd_bytes(r, a->addr, sizeof a->addr);
	a->port = buf_rd_u16(r);
	if (r->err)
		return cause_set(cause, "truncated at address");
	return check_addr(a, cause);
}

/* Field checks shared by decoder and encoder: names, ranges, flags. */
static int
check_hello(const struct wire_hello *hm, char **cause)
{
	if (hm->node == 0)
		return cause_set(cause, "node id 0");
	if (hm->incarnation == 0)
		return cause_set(cause, "incarnation 0");
	if (hm->flags & ~LV_FLAGS)
		return cause_set(cause, "unknown flags 0x%x",
		    hm->flags & ~LV_FLAGS);
	return check_addr(&hm->addr, cause);
}

static int
check_loadvec(const struct loadvec *lv, char **cause)
{
	if (lv->node == 0)
		return cause_set(cause, "node id 0");
	if (lv->name[0] == '\0')
		return cause_set(cause, "node %u: empty name", lv->node);
	if (lv->incarnation == 0)
		return cause_set(cause, "node %u: incarnation 0", lv->node);
	if (lv->ncpu == 0 || lv->ncpu > NCPU_MAX)
		return cause_set(cause, "node %u: %u CPUs", lv->node, lv->ncpu);
	if (lv->speed == 0 || lv->speed > LV_SPEED_MAX)
		return cause_set(cause, "node %u: speed %u", lv->node,
		    lv->speed);
	if (lv->mem_free > lv->mem_total)
		return cause_set(cause, "node %u: %llu KiB free of %llu",
		    lv->node, (unsigned long long)lv->mem_free,
		    (unsigned long long)lv->mem_total);
	if (lv->flags & ~LV_FLAGS)
		return cause_set(cause, "node %u: unknown flags 0x%x",
		    lv->node, lv->flags & ~LV_FLAGS);
	if (lv->cpu.xsave_size > XSAVE_MAX)
		return cause_set(cause, "node %u: xsave area of %u bytes",
		    lv->node, lv->cpu.xsave_size);
	return check_addr(&lv->addr, cause);
}

void
wire_encode_hello(struct buf *b, uint16_t type, const struct wire_hello *hm)
{
	char	*why = NULL;
	size_t	 off;

	if (type != WIRE_HELLO && type != WIRE_HELLO_ACK)
		fatalx("%s: type %u", __func__, type);
	if (check_hello(hm, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, type);
	buf_add_u32(b, hm->node);
	buf_add_u64(b, hm->incarnation);
	put_str(b, hm->name, sizeof hm->name);
	put_str(b, hm->version, sizeof hm->version);
	put_addr(b, &hm->addr);
	buf_add_u32(b, hm->flags);
	wire_frame_end(b, off);
}

static int
dec_hello(const uint8_t *p, size_t len, struct wire_msg *m, char **cause)
{
	return wire_decode_hello(p, len, &m->hello, cause);
}

int
wire_decode_hello(const uint8_t *p, size_t len, struct wire_hello *hm,
    char **cause)
{
	struct buf_rd	r;

	memset(hm, 0, sizeof *hm);
	buf_rd_init(&r, p, len);
	hm->node = buf_rd_u32(&r);
	hm->incarnation = buf_rd_u64(&r);
	if (get_str(&r, hm->name, sizeof hm->name, "node name", 0, cause) != 0)
		return -1;
	if (get_str(&r, hm->version, sizeof hm->version, "version", 1,
	    cause) != 0)
		return -1;
	if (get_addr(&r, &hm->addr, cause) != 0)
		return -1;
	hm->flags = buf_rd_u32(&r);
	if (!buf_rd_ok(&r, 0))
		return cause_set(cause, "truncated HELLO");
	if (buf_rd_left(&r) != 0)
		return cause_set(cause, "%zu bytes after HELLO",
		    buf_rd_left(&r));
	return check_hello(hm, cause);
}

static void
put_loadvec(struct buf *b, const struct loadvec *lv)
{
	size_t	i;

	buf_add_u32(b, lv->node);
	put_str(b, lv->name, sizeof lv->name);
	buf_add_u64(b, lv->incarnation);
	buf_add_u64(b, lv->stamp);
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
	put_str(b, lv->cpu.model, sizeof lv->cpu.model);
	put_str(b, lv->kernel, sizeof lv->kernel);
	put_addr(b, &lv->addr);
}

static int
get_loadvec(struct buf_rd *r, struct loadvec *lv, char **cause)
{
	uint8_t	nwords;
	size_t	i;

	memset(lv, 0, sizeof *lv);
	lv->node = buf_rd_u32(r);
	if (get_str(r, lv->name, sizeof lv->name, "node name", 0, cause) != 0)
		return -1;
	lv->incarnation = buf_rd_u64(r);
	lv->stamp = buf_rd_u64(r);
	lv->ncpu = buf_rd_u32(r);
	lv->speed = buf_rd_u32(r);
	lv->load = buf_rd_u32(r);
	lv->mem_total = buf_rd_u64(r);
	lv->mem_free = buf_rd_u64(r);
	lv->guests = buf_rd_u32(r);
	lv->flags = buf_rd_u32(r);
	nwords = buf_rd_u8(r);
	if (r->err)
		return cause_set(cause, "truncated load vector");
	/* The word list is fixed per wire version; another length is a bug. */
	if (nwords != CPUW_NWORDS)
		return cause_set(cause, "%u CPU feature words, expected %u",
		    nwords, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		lv->cpu.word[i] = buf_rd_u32(r);
	lv->cpu.xcr0 = buf_rd_u64(r);
	lv->cpu.xsave_size = buf_rd_u32(r);
	if (get_str(r, lv->cpu.model, sizeof lv->cpu.model, "CPU model", 1,
	    cause) != 0)
		return -1;
	if (get_str(r, lv->kernel, sizeof lv->kernel, "kernel release", 1,
	    cause) != 0)
		return -1;
	if (get_addr(r, &lv->addr, cause) != 0)
		return -1;
	return check_loadvec(lv, cause);
}

void
wire_encode_loadwin(struct buf *b, const struct wire_loadwin *w)
{
	char	*why = NULL;
	size_t	 off, i;

	if (w->n == 0 || w->n > WIRE_LOADWIN_MAX)
		fatalx("%s: %u entries", __func__, w->n);
	if (w->flags & ~WIRE_LOADWIN_FLAGS)
		fatalx("%s: flags 0x%x", __func__, w->flags);
	off = wire_frame_begin(b, WIRE_LOADWIN);
	buf_add_u16(b, w->flags);
	buf_add_u16(b, w->n);
	for (i = 0; i < w->n; i++) {
		if (check_loadvec(&w->ent[i].lv, &why) != 0)
			fatalx("%s: entry %zu: %s", __func__, i, why);
		buf_add_u32(b, w->ent[i].age_ms);
		put_loadvec(b, &w->ent[i].lv);
	}
	wire_frame_end(b, off);
}

static int
dec_loadwin(const uint8_t *p, size_t len, struct wire_msg *m, char **cause)
{
	return wire_decode_loadwin(p, len, &m->loadwin, cause);
}

int
wire_decode_loadwin(const uint8_t *p, size_t len, struct wire_loadwin *w,
    char **cause)
{
	struct buf_rd	 r;
	char		*why = NULL;
	size_t		 i, j;
	uint16_t	 n;

	w->n = 0;
	buf_rd_init(&r, p, len);
	w->flags = buf_rd_u16(&r);
	n = buf_rd_u16(&r);
	if (r.err)
		return cause_set(cause, "truncated LOADWIN");
	if (w->flags & ~WIRE_LOADWIN_FLAGS)
		return cause_set(cause, "LOADWIN flags 0x%x", w->flags);
	if (n == 0 || n > WIRE_LOADWIN_MAX)
		return cause_set(cause, "LOADWIN of %u entries, expected 1 to "
		    "%u", n, WIRE_LOADWIN_MAX);
	/* Each entry takes at least LVENT_MIN bytes: no count lies for long. */
	if (buf_rd_left(&r) / LVENT_MIN < n)
		return cause_set(cause, "LOADWIN of %u entries in %zu bytes",
		    n, buf_rd_left(&r));
	for (i = 0; i < n; i++) {
		w->ent[i].age_ms = buf_rd_u32(&r);
		if (get_loadvec(&r, &w->ent[i].lv, &why) != 0) {
			cause_set(cause, "LOADWIN entry %zu: %s", i, why);
			free(why);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (w->ent[j].lv.node == w->ent[i].lv.node)
				return cause_set(cause, "LOADWIN: node %u "
				    "twice", w->ent[i].lv.node);
		}
	}
	if (buf_rd_left(&r) != 0)
		return cause_set(cause, "%zu bytes after LOADWIN",
		    buf_rd_left(&r));
	w->n = n;
	return 0;
}

void
wire_encode_bye(struct buf *b, const struct wire_bye *bm)
{
	size_t	off;

	if (bm->reason == 0 || bm->reason >= WIRE_BYE_NREASONS)
		fatalx("%s: reason %u", __func__, bm->reason);
	off = wire_frame_begin(b, WIRE_BYE);
	buf_add_u16(b, bm->reason);
	put_str(b, bm->text, sizeof bm->text);
	wire_frame_end(b, off);
}

static int
dec_bye(const uint8_t *p, size_t len, struct wire_msg *m, char **cause)
{
	return wire_decode_bye(p, len, &m->bye, cause);
}

int
wire_decode_bye(const uint8_t *p, size_t len, struct wire_bye *bm,
    char **cause)
{
	struct buf_rd	r;

	memset(bm, 0, sizeof *bm);
	buf_rd_init(&r, p, len);
	bm->reason = buf_rd_u16(&r);
	if (r.err)
		return cause_set(cause, "truncated BYE");
	if (bm->reason == 0 || bm->reason >= WIRE_BYE_NREASONS)
		return cause_set(cause, "BYE reason %u", bm->reason);
	if (get_str(&r, bm->text, sizeof bm->text, "BYE text", 1, cause) != 0)
		return -1;
	if (buf_rd_left(&r) != 0)
		return cause_set(cause, "%zu bytes after BYE",
		    buf_rd_left(&r));
	return 0;
}

void
wire_encode_raw(struct buf *b, uint16_t type, const void *p, size_t n)
{
	size_t	off;

	off = wire_frame_begin(b, type);
	if (n > 0)
		buf_add(b, p, n);
	wire_frame_end(b, off);
}
