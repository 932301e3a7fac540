/*
 * fuzz_marshal.c: the decoders of forwarded system calls and fd info.
 *
 * Beyond "no crash", what the two ends rely on:
 * - a request home accepts is one the remote could have sent: laid out as
 *   guest memory and encoded again, it gives the same bytes (no slack for
 *   anything unchecked to hide in);
 * - for an accepted request, whatever the deputy's kernel returns encodes
 *   into a reply the remote accepts;
 * - a reply the remote accepts for one of a few requests writes only
 *   inside that request's buffers, and encodes back to the same bytes;
 * - fd-info messages accepted encode back to the same bytes.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/marshal.h"
#include "omm/procself.h"
#include "omm/sysent.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* ---- a fake guest memory: regions of bytes at addresses ---- */

#define NREGION	(MARSHAL_MAXBUF + 16)
#define FRESH	0x7f0000000000ULL	/* where iovec elements are laid out */

struct region {
	uint64_t	 addr;
	size_t		 len;
	uint8_t		*p;
};

struct mem {
	struct region	r[NREGION];
	size_t		n;
	int		overlap;	/* two regions share bytes */
};

static struct mem	scratch;	/* the memory of one input's request */
static struct mem	fixed;		/* the memory of the requests below */

static uint8_t *
region(struct mem *m, uint64_t addr, size_t len)
{
	size_t	i;

	if (m->n == NREGION || len > MARSHAL_MSG_MAX)
		abort();
	if (addr + len < addr)
		m->overlap = 1;
	for (i = 0; i < m->n; i++) {
		if (addr < m->r[i].addr + m->r[i].len &&
		    m->r[i].addr < addr + len)
			m->overlap = 1;
	}
	m->r[m->n].addr = addr;
	m->r[m->n].len = len;
	m->r[m->n].p = calloc(1, len ? len : 1);
	return m->r[m->n++].p;
}

static void
mem_free(struct mem *m)
{
	while (m->n > 0)
		free(m->r[--m->n].p);
	m->overlap = 0;
}

/* Reads stop at the end of a region: the next byte is unmapped. */
static ssize_t
mem_read(void *ctx, uint64_t addr, void *p, size_t len)
{
	struct mem	*m = ctx;
	size_t		 i, n;

	for (i = 0; i < m->n; i++) {
		if (addr >= m->r[i].addr && addr - m->r[i].addr < m->r[i].len) {
			n = m->r[i].len - (addr - m->r[i].addr);
			n = n < len ? n : len;
			memcpy(p, m->r[i].p + (addr - m->r[i].addr), n);
			return n;
		}
	}
	return -1;
}

/* Writes must land whole inside one region. */
static int
mem_write(void *ctx, uint64_t addr, const void *p, size_t len)
{
	struct mem	*m = ctx;
	size_t		 i;

	for (i = 0; i < m->n; i++) {
		if (addr >= m->r[i].addr && addr - m->r[i].addr <= m->r[i].len &&
		    len <= m->r[i].len - (addr - m->r[i].addr)) {
			memcpy(m->r[i].p + (addr - m->r[i].addr), p, len);
			return 0;
		}
	}
	abort();
}

/* The msghdr buffer of arg's msghdr, which precedes buffer i. */
static const struct sysbuf *
msghdr_of(const struct sysreq *req, size_t i)
{
	while (i-- > 0) {
		if (req->buf[i].part == SBP_MSGHDR)
			return &req->buf[i];
	}
	abort();
}

/*
 * Lay an accepted request out as guest memory, from the buffers it
 * carries: each buffer's bytes at its address (a msghdr's parts where the
 * msghdr points), iovec elements at fresh addresses and the iovec arrays
 * pointing at them.
 */
static void
layout(struct mem *m, const struct sysreq *req)
{
	const struct sysbuf	*b;
	uint64_t		 fresh = FRESH, at;
	uint8_t			*p, *arr = NULL;
	size_t			 i, j;

	for (i = 0; i < req->nbuf; i++) {
		b = &req->buf[i];
		at = req->arg[b->arg];
		if (b->part == SBP_IOV) {
			if (b->elem == 0) {
				for (j = i; j < req->nbuf &&
				    req->buf[j].arg == b->arg &&
				    req->buf[j].part == SBP_IOV; j++)
					;
				if (req->ent->arg[b->arg].kind >= SA_MSG_SEND)
					at = le64dec(msghdr_of(req, i)->in +
					    MSGHDR_IOV);
				arr = region(m, at, (j - i) * 16);
			}
			le64enc(arr + b->elem * 16, fresh);
			le64enc(arr + b->elem * 16 + 8, b->len);
			at = fresh;
			fresh += b->len + 4096;
		} else if (b->part == SBP_NAME || b->part == SBP_CONTROL)
			at = le64dec(msghdr_of(req, i)->in + (b->part == SBP_NAME ?
			    MSGHDR_NAME : MSGHDR_CONTROL));
		p = region(m, at, b->len);
		if (b->in != NULL)
			memcpy(p, b->in, b->len);
	}
}

static void
check_request(const uint8_t *data, size_t size)
{
	struct sysreq	 req, again;
	struct sysrep	 rep, rep2;
	struct buf	 b;
	uint8_t		*zero;
	size_t		 i;
	int64_t		 ret;

	if (marshal_decode_request(data, size, &req, NULL) == -1)
		return;
	if (req.nbuf > MARSHAL_MAXBUF)
		abort();

	/* Encoded again from the same memory: the same bytes. */
	layout(&scratch, &req);
	buf_init(&b);
	if (!scratch.overlap) {
		if (marshal_request(&again, req.seq, req.nr, req.arg, mem_read,
		    &scratch, &b, NULL) != 0)
			abort();
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		sysreq_free(&again);
	}

	/* Whatever the kernel returns, the remote accepts the reply. */
	zero = calloc(1, MARSHAL_MSG_MAX);
	memset(&rep, 0, sizeof rep);
	rep.seq = req.seq;
	rep.nbuf = req.nbuf;
	rep.buf = calloc(req.nbuf + 1, sizeof *rep.buf);
	for (i = 0; i < req.nbuf; i++)
		rep.buf[i].data = zero;
	ret = size % 5 == 0 ? -EIO : (int64_t)(size * 7919 % (1 << 21));
	rep.ret = ret;
	buf_reset(&b);
	marshal_encode_reply(&req, &rep, &b);
	if (marshal_decode_reply(&req, b.data, b.len, &rep2, NULL) == -1)
		abort();
	sysrep_free(&rep2);
	free(rep.buf);
	free(zero);
	buf_free(&b);
	sysreq_free(&req);
	mem_free(&scratch);
}

/* ---- replies to a few requests of the remote ---- */

#define NREQ	6
static struct sysreq	reqs[NREQ];
static int		ready;

/* Requests as the remote makes them, over a fixed fake memory. */
static void
setup(void)
{
	struct buf	 b;
	uint8_t		*m;
	size_t		 i;
	static const struct {
		int		nr;
		uint64_t	args[6];
	} calls[NREQ] = {
		{ SYS_read, { 3, 0x10000, 64 } },
		{ SYS_readv, { 3, 0x20000, 3 } },
		{ SYS_recvmsg, { 3, 0x30000, 0 } },
		{ SYS_getsockname, { 3, 0x40000, 0x41000 } },
		{ SYS_newfstatat, { AT_FDCWD, 0x50000, 0x51000, 0 } },
		{ SYS_poll, { 0x60000, 4, 0 } },
	};

	region(&fixed, 0x10000, 64);
	m = region(&fixed, 0x20000, 48);
	for (i = 0; i < 3; i++) {
		le64enc(m + 16 * i, 0x21000 + 0x1000 * i);
		le64enc(m + 16 * i + 8, 8 * i);
		region(&fixed, 0x21000 + 0x1000 * i, 8 * i);
	}
	m = region(&fixed, 0x30000, MSGHDR_LEN);
	le64enc(m + MSGHDR_NAME, 0x31000);
	le32enc(m + MSGHDR_NAMELEN, 16);
	le64enc(m + MSGHDR_IOV, 0x32000);
	le64enc(m + MSGHDR_IOVLEN, 2);
	le64enc(m + MSGHDR_CONTROL, 0x33000);
	le64enc(m + MSGHDR_CONTROLLEN, 32);
	region(&fixed, 0x31000, 16);
	region(&fixed, 0x33000, 32);
	m = region(&fixed, 0x32000, 32);
	le64enc(m, 0x34000);
	le64enc(m + 8, 10);
	le64enc(m + 16, 0x35000);
	le64enc(m + 24, 20);
	region(&fixed, 0x34000, 10);
	region(&fixed, 0x35000, 20);
	region(&fixed, 0x40000, 128);
	m = region(&fixed, 0x41000, 4);
	le32enc(m, 110);
	m = region(&fixed, 0x50000, 5);
	memcpy(m, "/tmp", 5);
	region(&fixed, 0x51000, sizeof (struct stat));
	region(&fixed, 0x60000, 32);

	buf_init(&b);
	for (i = 0; i < NREQ; i++) {
		buf_reset(&b);
		if (marshal_request(&reqs[i], 1000 + i, calls[i].nr,
		    calls[i].args, mem_read, &fixed, &b, NULL) != 0)
			abort();
	}
	buf_free(&b);
	ready = 1;
}

static void
check_replies(const uint8_t *data, size_t size)
{
	struct sysrep	rep;
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < NREQ; i++) {
		if (marshal_decode_reply(&reqs[i], data, size, &rep, NULL) == -1)
			continue;
		/* mem_write aborts on a write outside the guest's buffers. */
		(void)marshal_apply_reply(&reqs[i], &rep, mem_write, &fixed,
		    NULL);
		buf_reset(&b);
		marshal_encode_reply(&reqs[i], &rep, &b);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		sysrep_free(&rep);
	}
	buf_free(&b);
}

/* ---- fd info ---- */

static void
check_fdinfo(const uint8_t *data, size_t size)
{
	static struct fdinfo	f;
	struct fdinfo_req	q;
	struct fddata_req	dq;
	struct fddata		d;
	struct syslocal		l;
	struct buf		b;

	buf_init(&b);
	if (marshal_decode_fdinfo(data, size, &f, NULL) == 0) {
		marshal_encode_fdinfo(&b, &f);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	buf_reset(&b);
	if (marshal_decode_fdinfo_req(data, size, &q, NULL) == 0) {
		marshal_encode_fdinfo_req(&b, &q);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	buf_reset(&b);
	if (marshal_decode_fddata_req(data, size, &dq, NULL) == 0) {
		marshal_encode_fddata_req(&b, &dq);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	buf_reset(&b);
	if (marshal_decode_fddata(data, size, &d, NULL) == 0) {
		marshal_encode_fddata(&b, &d);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	buf_reset(&b);
	if (marshal_decode_syslocal(data, size, &l, NULL) == 0) {
		/* an entry the host may open: a plain name of the table */
		if (!procself_guest_entry(l.entry) || l.fd < 0)
			abort();
		marshal_encode_syslocal(&b, &l);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	check_request(data, size);
	check_replies(data, size);
	check_fdinfo(data, size);
	return 0;
}
