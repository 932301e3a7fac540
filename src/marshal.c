/* marshal.c: forwarded system calls and the fd-info messages as bytes. */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "omm/buf.h"
#include "omm/log.h"
#include "omm/marshal.h"
#include "omm/procself.h"
#include "omm/sysent.h"
#include "omm/xmalloc.h"

#define REQ_HDR_LEN	(8 + 4 + SYSENT_NARGS * 8 + 4)	/* seq nr args nbuf */
#define REP_HDR_LEN	(8 + 8 + 1 + 4)			/* seq ret sig nbuf */
#define ENT_HDR_LEN	(1 + 1 + 2 + 4)			/* arg part elem len */
#define IOVEC_LEN	16				/* struct iovec */
#define SOCKADDR_MAX	128				/* msg_name */

/*
 * Buffers are listed argument by argument, except that a buffer whose length
 * is a socklen_t in memory (SL_DEREF) comes after all others: by then the
 * socklen_t's own buffer has been seen, on both sides, in request and reply.
 */
#define NPASS		2
static int
arg_pass(const struct sysarg *d)
{
	return d->len == SL_DEREF;
}

/* A count argument as the kernel sees it; -1 when an int count is negative. */
static int64_t
count_of(const struct sysarg *d, const uint64_t *a, int is_int)
{
	if (is_int)
		return (int32_t)a[d->from] < 0 ? -1 : (int32_t)a[d->from];
	return a[d->from] > INT64_MAX ? INT64_MAX : (int64_t)a[d->from];
}

/* ---- the remote side: encoding a request out of guest memory ---- */

struct enc {
	struct sysreq		*req;
	const struct sysent	*ent;
	marshal_read_fn		 rd;
	void			*ctx;
	struct buf		*out;
	size_t			 cap;		/* req->buf allocated */
	uint32_t		 derefcap[SYSENT_NARGS]; /* arg k is a socklen_t read by a buffer */
	int32_t			 derefval[SYSENT_NARGS];
	uint8_t			 derefseen[SYSENT_NARGS];
	char			**cause;
};

static struct sysbuf *
req_add(struct sysreq *req, size_t *cap)
{
	struct sysbuf	*b;

	if (req->nbuf >= MARSHAL_MAXBUF)
		fatalx("%s: too many buffers", __func__);
	if (req->nbuf == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		req->buf = xreallocarray(req->buf, *cap, sizeof *req->buf);
	}
	b = &req->buf[req->nbuf++];
	memset(b, 0, sizeof *b);
	return b;
}

/* Read exactly len bytes of guest memory into p. */
static int
enc_peek(struct enc *e, uint64_t addr, void *p, size_t len)
{
	if (len == 0)
		return 0;
	if (e->rd(e->ctx, addr, p, len) != (ssize_t)len) {
		cause_set(e->cause, "%s: cannot read %zu bytes at 0x%llx",
		    e->ent->name, len, (unsigned long long)addr);
		return EFAULT;
	}
	return 0;
}

/* Add a buffer's entry; its bytes, if any, are for the caller to append. */
static struct sysbuf *
enc_entry(struct enc *e, int arg, int part, int elem, int dir, uint32_t len,
    uint64_t addr)
{
	struct sysbuf	*b = req_add(e->req, &e->cap);

	b->arg = arg;
	b->part = part;
	b->elem = elem;
	b->dir = dir;
	b->len = len;
	b->addr = addr;
	buf_add_u8(e->out, arg);
	buf_add_u8(e->out, part);
	buf_add_u16(e->out, elem);
	buf_add_u32(e->out, len);
	return b;
}

/* Add a buffer; with SBD_IN its bytes follow from guest memory. */
static int
enc_buf(struct enc *e, int arg, int part, int elem, int dir, uint32_t len,
    uint64_t addr)
{
	enc_entry(e, arg, part, elem, dir, len, addr);
	if ((dir & SBD_IN) && len > 0)
		return enc_peek(e, addr, buf_reserve(e->out, len), len);
	return 0;
}

static int
enc_path(struct enc *e, int i, const struct sysarg *d)
{
	uint64_t	 addr = e->req->arg[i];
	size_t		 hdr, off = 0, chunk;
	uint8_t		*p, *nul = NULL;
	ssize_t		 n;

	/* Page by page: a short string may end just before an unmapped page. */
	enc_entry(e, i, SBP_ARG, 0, SBD_IN, 0, addr);
	hdr = e->out->len;
	while (nul == NULL && off < d->cap) {
		chunk = 4096 - ((addr + off) & 4095);
		if (chunk > d->cap - off)
			chunk = d->cap - off;
		p = buf_reserve(e->out, chunk);
		n = e->rd(e->ctx, addr + off, p, chunk);
		if (n <= 0 || (size_t)n > chunk) {
			cause_set(e->cause, "%s: cannot read the string at 0x%llx",
			    e->ent->name, (unsigned long long)addr);
			return EFAULT;
		}
		e->out->len -= chunk - n;
		if ((nul = memchr(p, '\0', n)) != NULL)
			off += nul - p + 1;
		else if ((size_t)n < chunk) {
			cause_set(e->cause, "%s: string at 0x%llx runs into "
			    "unmapped memory", e->ent->name,
			    (unsigned long long)addr);
			return EFAULT;
		} else
			off += n;
	}
	if (nul == NULL) {
		cause_set(e->cause, "%s: string at 0x%llx longer than %u",
		    e->ent->name, (unsigned long long)addr, d->cap);
		return d->err ? d->err : EINVAL;
	}
	e->out->len = hdr + off;
	buf_put_u32(e->out, hdr - 4, off);
	e->req->buf[e->req->nbuf - 1].len = off;
	return 0;
}

static int
kind_dir(int kind)
{
	static const uint8_t	dir[] = {
		[SA_PATH] = SBD_IN, [SA_IN] = SBD_IN, [SA_OUT] = SBD_OUT,
		[SA_INOUT] = SBD_IN | SBD_OUT, [SA_IOV_IN] = SBD_IN,
		[SA_IOV_OUT] = SBD_OUT, [SA_MSG_SEND] = SBD_IN,
		[SA_MSG_RECV] = SBD_OUT,
	};

	return kind < (int)sizeof dir ? dir[kind] : 0;
}

/* Length of a plain buffer (SA_IN, SA_OUT, SA_INOUT) from the guest's arguments. */
static int
enc_len(struct enc *e, int i, const struct sysarg *d, uint32_t *len)
{
	uint64_t	*a = e->req->arg;
	int64_t		 n;

	switch (d->len) {
	case SL_FIXED:
		*len = d->size;
		return 0;
	case SL_ARG:
		n = count_of(d, a, d->flags & SAF_INT);
		if (n < 0) {
			*len = 0;
			return 0;
		}
		if ((uint64_t)n > d->cap / d->size) {
			if (!(d->flags & SAF_CLAMP)) {
				cause_set(e->cause, "%s: %lld elements of argument "
				    "%d, most %u", e->ent->name, (long long)n,
				    i, d->cap / d->size);
				return d->err ? d->err : EINVAL;
			}
			n = d->cap / d->size;
			a[d->from] = n;
		}
		*len = n * d->size;
		return 0;
	case SL_FDSET:
		n = (int32_t)a[d->from];
		if (n < 0) {
			*len = 0;
			return 0;
		}
		if ((uint64_t)(n + 63) / 64 * 8 > d->cap) {
			cause_set(e->cause, "%s: fd_set of %lld bits",
			    e->ent->name, (long long)n);
			return d->err ? d->err : EINVAL;
		}
		*len = (n + 63) / 64 * 8;
		return 0;
	case SL_DEREF:
		if (!e->derefseen[d->from] || e->derefval[d->from] < 0)
			*len = 0;
		else
			*len = e->derefval[d->from];
		return 0;
	}
	fatalx("%s: %s: bad length kind", __func__, e->ent->name);
}

static int
enc_plain(struct enc *e, int i, const struct sysarg *d)
{
	uint64_t	 addr = e->req->arg[i];
	uint32_t	 len;
	int32_t		 v;
	int		 rc;
	uint8_t		*p;

	if ((rc = enc_len(e, i, d, &len)) != 0)
		return rc;
	if ((rc = enc_buf(e, i, SBP_ARG, 0, kind_dir(d->kind), len, addr)) != 0)
		return rc;
	if (e->derefcap[i] != 0 && len == 4) {
		/*
		 * A socklen_t another buffer is measured by: read once, and
		 * cut to that buffer's cap so the kernel at home cannot write
		 * past the deputy's copy.
		 */
		p = e->out->data + e->out->len - 4;
		v = (int32_t)le32dec(p);
		if (v >= 0 && (uint32_t)v > e->derefcap[i]) {
			v = e->derefcap[i];
			le32enc(p, v);
		}
		e->derefval[i] = v;
		e->derefseen[i] = 1;
	}
	return 0;
}

/* Elements of an iovec array at addr; cut to cap in total when clamping. */
static int
enc_iovec(struct enc *e, int i, int part, int dir, uint64_t addr, uint64_t count,
    const struct sysarg *d)
{
	uint8_t		*iov;
	uint64_t	 base, len, total = 0;
	uint64_t	 j;
	int		 rc;

	if (count > SYSENT_IOV_MAX) {
		cause_set(e->cause, "%s: %llu iovec elements", e->ent->name,
		    (unsigned long long)count);
		return d->err ? d->err : EINVAL;
	}
	if (count == 0)
		return 0;
	iov = xreallocarray(NULL, count, IOVEC_LEN);
	if ((rc = enc_peek(e, addr, iov, count * IOVEC_LEN)) != 0)
		goto out;
	for (j = 0; j < count; j++) {
		base = le64dec(iov + j * IOVEC_LEN);
		len = le64dec(iov + j * IOVEC_LEN + 8);
		if (len > (uint64_t)INT64_MAX) {
			rc = EINVAL;
			goto out;
		}
		if (len > d->cap - total) {
			if (!(d->flags & SAF_CLAMP)) {
				rc = d->err ? d->err : EINVAL;
				goto out;
			}
			len = d->cap - total;
		}
		total += len;
		if ((rc = enc_buf(e, i, part, j, dir, len, base)) != 0)
			goto out;
	}
out:
	free(iov);
	return rc;
}

static int
enc_iov(struct enc *e, int i, const struct sysarg *d)
{
	return enc_iovec(e, i, SBP_IOV, kind_dir(d->kind), e->req->arg[i],
	    e->req->arg[d->from], d);
}

/*
 * A msghdr: the header, then msg_name, msg_control and the iovec elements.
 * The kernel cuts msg_namelen to a sockaddr_storage; a sendmsg control
 * buffer over the cap fails as the kernel's does (ENOBUFS), a recvmsg one is
 * cut (the kernel then says MSG_CTRUNC).
 */
static int
enc_msg(struct enc *e, int i, const struct sysarg *d)
{
	uint64_t	 addr = e->req->arg[i];
	int		 send = d->kind == SA_MSG_SEND, dir = kind_dir(d->kind);
	uint8_t		 m[MSGHDR_LEN];
	uint64_t	 name, iov, iovlen, control, controllen;
	int32_t		 namelen;
	int		 rc;

	if ((rc = enc_peek(e, addr, m, sizeof m)) != 0)
		return rc;
	name = le64dec(m + MSGHDR_NAME);
	namelen = (int32_t)le32dec(m + MSGHDR_NAMELEN);
	iov = le64dec(m + MSGHDR_IOV);
	iovlen = le64dec(m + MSGHDR_IOVLEN);
	control = le64dec(m + MSGHDR_CONTROL);
	controllen = le64dec(m + MSGHDR_CONTROLLEN);
	if (name != 0 && namelen < 0)
		return EINVAL;
	if (control != 0 && controllen > MARSHAL_CONTROL_MAX) {
		if (send)
			return ENOBUFS;
		controllen = MARSHAL_CONTROL_MAX;
		le64enc(m + MSGHDR_CONTROLLEN, controllen);
	}
	if (iov != 0 && iovlen > SYSENT_IOV_MAX)
		return EMSGSIZE;

	/* The header as read (with the cut controllen), not read again. */
	enc_entry(e, i, SBP_MSGHDR, 0, SBD_IN | (send ? 0 : SBD_OUT),
	    MSGHDR_LEN, addr);
	buf_add(e->out, m, sizeof m);

	if (name != 0 && (rc = enc_buf(e, i, SBP_NAME, 0, dir,
	    namelen > SOCKADDR_MAX ? SOCKADDR_MAX : namelen, name)) != 0)
		return rc;
	if (control != 0 && (rc = enc_buf(e, i, SBP_CONTROL, 0, dir,
	    controllen, control)) != 0)
		return rc;
	if (iov != 0)
		return enc_iovec(e, i, SBP_IOV, dir, iov, iovlen, d);
	return 0;
}

/* How each kind of argument travels, on each side. */
struct dec;
static int	dec_path(struct dec *, int, const struct sysarg *);
static int	dec_plain(struct dec *, int, const struct sysarg *);
static int	dec_iov(struct dec *, int, const struct sysarg *);
static int	dec_msg(struct dec *, int, const struct sysarg *);

static const struct kind_ops {
	int	(*enc)(struct enc *, int, const struct sysarg *);
	int	(*dec)(struct dec *, int, const struct sysarg *);
} kind_ops[] = {
	[SA_PATH] = { enc_path, dec_path },
	[SA_IN] = { enc_plain, dec_plain },
	[SA_OUT] = { enc_plain, dec_plain },
	[SA_INOUT] = { enc_plain, dec_plain },
	[SA_IOV_IN] = { enc_iov, dec_iov },
	[SA_IOV_OUT] = { enc_iov, dec_iov },
	[SA_MSG_SEND] = { enc_msg, dec_msg },
	[SA_MSG_RECV] = { enc_msg, dec_msg },
};
#define NKIND_OPS	(sizeof kind_ops / sizeof kind_ops[0])

static const struct kind_ops *
ops_of(const struct sysarg *d)
{
	if (d->kind >= NKIND_OPS || kind_ops[d->kind].enc == NULL)
		return NULL;
	return &kind_ops[d->kind];
}

void
sysreq_free(struct sysreq *req)
{
	free(req->buf);
	memset(req, 0, sizeof *req);
}

void
sysrep_free(struct sysrep *rep)
{
	free(rep->buf);
	memset(rep, 0, sizeof *rep);
}

int
marshal_request(struct sysreq *req, uint64_t seq, int nr,
    const uint64_t args[SYSENT_NARGS], marshal_read_fn rd, void *ctx,
    struct buf *out, char **cause)
{
	struct enc		 e;
	const struct sysent	*ent;
	const struct kind_ops	*ops;
	const struct sysarg	*d;
	size_t			 start = out->len, i;
	int			 where, pass, rc = 0;
	uint8_t			*h;

	memset(req, 0, sizeof *req);
	ent = sysent_resolve(nr, args, &where);
	if (where != SY_HOME) {
		cause_set(cause, "%s does not go home (%s)", ent->name,
		    sysent_where_name(where));
		return ENOSYS;
	}
	req->seq = seq;
	req->nr = nr;
	req->ent = ent;
	memcpy(req->arg, args, sizeof req->arg);

	memset(&e, 0, sizeof e);
	e.req = req;
	e.ent = ent;
	e.rd = rd;
	e.ctx = ctx;
	e.out = out;
	e.cause = cause;
	for (i = 0; i < SYSENT_NARGS; i++) {
		d = &ent->arg[i];
		if (d->len == SL_DEREF && args[i] != 0)
			e.derefcap[d->from] = d->cap;
	}

	h = buf_reserve(out, REQ_HDR_LEN);
	for (pass = 0; pass < NPASS; pass++) {
		for (i = 0; i < SYSENT_NARGS; i++) {
			d = &ent->arg[i];
			if ((ops = ops_of(d)) == NULL || arg_pass(d) != pass ||
			    req->arg[i] == 0)
				continue;
			if ((rc = ops->enc(&e, i, d)) != 0)
				goto fail;
		}
	}
	/* The header last: clamping may have changed length arguments. */
	h = out->data + start;
	le64enc(h, seq);
	le32enc(h + 8, (uint32_t)nr);
	for (i = 0; i < SYSENT_NARGS; i++)
		le64enc(h + 12 + 8 * i, req->arg[i]);
	le32enc(h + 12 + 8 * SYSENT_NARGS, req->nbuf);
	return 0;

fail:
	out->len = start;
	sysreq_free(req);
	return rc;
}

/* ---- home side: decoding and checking a request ---- */

struct dec {
	struct buf_rd	 rd;
	struct sysreq	*req;
	size_t		 cap;
	uint32_t	 left;		/* entries announced, not yet taken */
	char		**cause;
};

/* Take the next buffer entry, which must be (arg, part, elem). */
static struct sysbuf *
dec_take(struct dec *d, int arg, int part, int elem, int dir)
{
	struct sysbuf	*b;
	uint8_t		 a, p;
	uint16_t	 el;
	uint32_t	 len;

	if (d->left == 0) {
		cause_set(d->cause, "%s: buffer %d of argument %d missing",
		    d->req->ent->name, elem, arg);
		return NULL;
	}
	d->left--;
	a = buf_rd_u8(&d->rd);
	p = buf_rd_u8(&d->rd);
	el = buf_rd_u16(&d->rd);
	len = buf_rd_u32(&d->rd);
	if (!buf_rd_ok(&d->rd, 0)) {
		cause_set(d->cause, "%s: short request", d->req->ent->name);
		return NULL;
	}
	if (a != arg || p != part || el != elem) {
		cause_set(d->cause, "%s: buffer (%u, %u, %u) where (%d, %d, %d) "
		    "belongs", d->req->ent->name, a, p, el, arg, part, elem);
		return NULL;
	}
	if (len > MARSHAL_MSG_MAX) {
		cause_set(d->cause, "%s: buffer of %u bytes", d->req->ent->name,
		    len);
		return NULL;
	}
	b = req_add(d->req, &d->cap);
	b->arg = arg;
	b->part = part;
	b->elem = elem;
	b->dir = dir;
	b->len = len;
	if (dir & SBD_IN) {
		if ((b->in = buf_rd_ptr(&d->rd, len)) == NULL && len > 0) {
			cause_set(d->cause, "%s: buffer of argument %d cut short",
			    d->req->ent->name, arg);
			return NULL;
		}
	}
	return b;
}

static int
dec_path(struct dec *d, int i, const struct sysarg *a)
{
	struct sysbuf	*b;

	if ((b = dec_take(d, i, SBP_ARG, 0, SBD_IN)) == NULL)
		return -1;
	if (b->len == 0 || b->len > a->cap || b->in[b->len - 1] != '\0' ||
	    memchr(b->in, '\0', b->len - 1) != NULL)
		return cause_set(d->cause, "%s: bad string in argument %d",
		    d->req->ent->name, i);
	return 0;
}

/* The socklen_t an SL_DEREF buffer is measured by, as decoded; -1: none. */
static int64_t
dec_derefval(struct sysreq *req, int from)
{
	size_t	j;

	for (j = 0; j < req->nbuf; j++) {
		if (req->buf[j].arg == from && req->buf[j].part == SBP_ARG &&
		    req->buf[j].len == 4 && req->buf[j].in != NULL)
			return (int32_t)le32dec(req->buf[j].in);
	}
	return -1;
}

static int
dec_plain(struct dec *d, int i, const struct sysarg *a)
{
	struct sysreq	*req = d->req;
	struct sysbuf	*b;
	int64_t		 n;
	uint64_t	 want = 0;

	switch (a->len) {
	case SL_FIXED:
		want = a->size;
		break;
	case SL_ARG:
		n = count_of(a, req->arg, a->flags & SAF_INT);
		if (n >= 0 && (uint64_t)n > a->cap / a->size)
			return cause_set(d->cause, "%s: %lld elements in argument "
			    "%d", req->ent->name, (long long)n, i);
		want = n < 0 ? 0 : (uint64_t)n * a->size;
		break;
	case SL_FDSET:
		n = (int32_t)req->arg[a->from];
		want = n < 0 ? 0 : (uint64_t)(n + 63) / 64 * 8;
		if (want > a->cap)
			return cause_set(d->cause, "%s: fd_set of %lld bits",
			    req->ent->name, (long long)n);
		break;
	case SL_DEREF:
		n = dec_derefval(req, a->from);
		if (n > a->cap)
			return cause_set(d->cause, "%s: socklen %lld over %u",
			    req->ent->name, (long long)n, a->cap);
		want = n < 0 ? 0 : (uint64_t)n;
		break;
	}
	if ((b = dec_take(d, i, SBP_ARG, 0, kind_dir(a->kind))) == NULL)
		return -1;
	if (b->len != want)
		return cause_set(d->cause, "%s: argument %d has %u bytes, not "
		    "%llu", req->ent->name, i, b->len, (unsigned long long)want);
	return 0;
}

static int
dec_iovec(struct dec *d, int i, int dir, uint64_t count, const struct sysarg *a)
{
	struct sysbuf	*b;
	uint64_t	 j, total = 0;

	if (count > SYSENT_IOV_MAX)
		return cause_set(d->cause, "%s: %llu iovec elements",
		    d->req->ent->name, (unsigned long long)count);
	for (j = 0; j < count; j++) {
		if ((b = dec_take(d, i, SBP_IOV, j, dir)) == NULL)
			return -1;
		total += b->len;
		if (total > a->cap)
			return cause_set(d->cause, "%s: iovec of argument %d "
			    "over %u bytes", d->req->ent->name, i, a->cap);
	}
	return 0;
}

static int
dec_iov(struct dec *d, int i, const struct sysarg *a)
{
	return dec_iovec(d, i, kind_dir(a->kind), d->req->arg[a->from], a);
}

static int
dec_msg(struct dec *d, int i, const struct sysarg *a)
{
	struct sysbuf	*b;
	int		 send = a->kind == SA_MSG_SEND, dir = kind_dir(a->kind);
	const uint8_t	*m;
	int32_t		 namelen;
	uint64_t	 controllen;

	if ((b = dec_take(d, i, SBP_MSGHDR, 0,
	    SBD_IN | (send ? 0 : SBD_OUT))) == NULL)
		return -1;
	if (b->len != MSGHDR_LEN)
		return cause_set(d->cause, "%s: msghdr of %u bytes",
		    d->req->ent->name, b->len);
	m = b->in;
	namelen = (int32_t)le32dec(m + MSGHDR_NAMELEN);
	controllen = le64dec(m + MSGHDR_CONTROLLEN);
	if (le64dec(m + MSGHDR_NAME) != 0) {
		if (namelen < 0)
			return cause_set(d->cause, "%s: negative msg_namelen",
			    d->req->ent->name);
		if ((b = dec_take(d, i, SBP_NAME, 0, dir)) == NULL)
			return -1;
		if (b->len != (namelen > SOCKADDR_MAX ? SOCKADDR_MAX :
		    (uint32_t)namelen))
			return cause_set(d->cause, "%s: msg_name of %u bytes",
			    d->req->ent->name, b->len);
	}
	if (le64dec(m + MSGHDR_CONTROL) != 0) {
		if (controllen > MARSHAL_CONTROL_MAX)
			return cause_set(d->cause, "%s: msg_controllen %llu",
			    d->req->ent->name, (unsigned long long)controllen);
		if ((b = dec_take(d, i, SBP_CONTROL, 0, dir)) == NULL)
			return -1;
		if (b->len != controllen)
			return cause_set(d->cause, "%s: msg_control of %u bytes",
			    d->req->ent->name, b->len);
	}
	if (le64dec(m + MSGHDR_IOV) != 0)
		return dec_iovec(d, i, dir, le64dec(m + MSGHDR_IOVLEN), a);
	return 0;
}

int
marshal_decode_request(const uint8_t *p, size_t n, struct sysreq *req,
    char **cause)
{
	struct dec		 d;
	const struct kind_ops	*ops;
	const struct sysarg	*a;
	int			 where, pass;
	size_t			 i;

	memset(req, 0, sizeof *req);
	if (n < REQ_HDR_LEN || n > MARSHAL_MSG_MAX)
		return cause_set(cause, "SYSCALL_REQ of %zu bytes", n);
	memset(&d, 0, sizeof d);
	d.req = req;
	d.cause = cause;
	buf_rd_init(&d.rd, p, n);
	req->seq = buf_rd_u64(&d.rd);
	req->nr = (int)buf_rd_u32(&d.rd);
	for (i = 0; i < SYSENT_NARGS; i++)
		req->arg[i] = buf_rd_u64(&d.rd);
	d.left = buf_rd_u32(&d.rd);
	if (d.left > MARSHAL_MAXBUF)
		return cause_set(cause, "SYSCALL_REQ with %u buffers", d.left);

	req->ent = sysent_resolve(req->nr, req->arg, &where);
	if (where != SY_HOME)
		return cause_set(cause, "SYSCALL_REQ for %s (%d), which does "
		    "not go home (%s)", req->ent->name, req->nr,
		    sysent_where_name(where));
	for (pass = 0; pass < NPASS; pass++) {
		for (i = 0; i < SYSENT_NARGS; i++) {
			a = &req->ent->arg[i];
			if ((ops = ops_of(a)) == NULL || arg_pass(a) != pass ||
			    req->arg[i] == 0)
				continue;
			if (ops->dec(&d, i, a) == -1)
				goto fail;
		}
	}
	if (d.left != 0 || !buf_rd_ok(&d.rd, 1)) {
		cause_set(cause, "%s: %u buffers or %zu bytes too many",
		    req->ent->name, d.left, buf_rd_left(&d.rd));
		goto fail;
	}
	return 0;

fail:
	sysreq_free(req);
	return -1;
}

/* ---- replies ---- */

/*
 * How many bytes of buffer i come back, given ret and what came back for
 * the buffers before it (a socklen_t, a msghdr). *left carries the bytes of
 * ret not yet spread over an iovec.
 */
static uint32_t
back_len(const struct sysreq *req, size_t i, int64_t ret,
    const struct sysrep_buf *out, uint64_t *left)
{
	const struct sysbuf	*b = &req->buf[i];
	const struct sysarg	*a = &req->ent->arg[b->arg];
	uint64_t		 unit, n;
	size_t			 j;

	if (!(b->dir & SBD_OUT))
		return 0;
	if (b->part == SBP_IOV) {
		if (b->elem == 0)
			*left = (uint64_t)ret;
		n = *left < b->len ? *left : b->len;
		*left -= n;
		return n;
	}
	if (b->part == SBP_MSGHDR)
		return MSGHDR_LEN;
	if (b->part == SBP_NAME || b->part == SBP_CONTROL) {
		/* The msghdr came back just before, with the kernel's lengths. */
		for (j = i; j-- > 0; ) {
			if (req->buf[j].arg == b->arg &&
			    req->buf[j].part == SBP_MSGHDR)
				break;
		}
		if (out[j].len != MSGHDR_LEN)
			return 0;
		n = b->part == SBP_NAME ?
		    le32dec(out[j].data + MSGHDR_NAMELEN) :
		    le64dec(out[j].data + MSGHDR_CONTROLLEN);
		return n < b->len ? n : b->len;
	}
	switch (a->back) {
	case SB_FULL:
		return b->len;
	case SB_RET:
		unit = a->len == SL_ARG ? a->size : 1;
		n = (uint64_t)ret < b->len / unit ? (uint64_t)ret : b->len / unit;
		return n * unit;
	case SB_DEREF:
		for (j = 0; j < i; j++) {
			if (req->buf[j].arg == a->from &&
			    req->buf[j].part == SBP_ARG && out[j].len == 4) {
				n = le32dec(out[j].data);
				return n < b->len ? n : b->len;
			}
		}
		return 0;
	}
	fatalx("%s: %s: bad back kind", __func__, req->ent->name);
}

void
marshal_encode_reply(const struct sysreq *req, const struct sysrep *rep,
    struct buf *out)
{
	struct sysrep_buf	*sent;
	uint64_t		 left = 0;
	size_t			 i, nout = 0;
	uint8_t			*p;

	if (rep->nbuf != req->nbuf)
		fatalx("%s: %s: %zu buffers for %zu", __func__, req->ent->name,
		    rep->nbuf, req->nbuf);
	buf_add_u64(out, req->seq);
	buf_add_u64(out, (uint64_t)rep->ret);
	buf_add_u8(out, rep->sig);
	if (SYSRET_ERR(rep->ret)) {
		buf_add_u32(out, 0);
		return;
	}
	for (i = 0; i < req->nbuf; i++)
		nout += (req->buf[i].dir & SBD_OUT) != 0;
	buf_add_u32(out, nout);

	/* Lengths against what is sent, so that both sides agree. */
	sent = xcalloc(req->nbuf ? req->nbuf : 1, sizeof *sent);
	for (i = 0; i < req->nbuf; i++) {
		if (!(req->buf[i].dir & SBD_OUT))
			continue;
		sent[i].data = rep->buf[i].data;
		sent[i].len = back_len(req, i, rep->ret, sent, &left);
		if (sent[i].len > 0 && sent[i].data == NULL)
			fatalx("%s: %s: no data for buffer %zu", __func__,
			    req->ent->name, i);
		buf_add_u8(out, req->buf[i].arg);
		buf_add_u8(out, req->buf[i].part);
		buf_add_u16(out, req->buf[i].elem);
		buf_add_u32(out, sent[i].len);
		p = buf_reserve(out, sent[i].len);
		if (sent[i].len > 0)
			memcpy(p, sent[i].data, sent[i].len);
		if (req->buf[i].part == SBP_MSGHDR) {
			/* The deputy's own pointers do not travel. */
			le64enc(p + MSGHDR_NAME, 0);
			le64enc(p + MSGHDR_IOV, 0);
			le64enc(p + MSGHDR_CONTROL, 0);
		}
	}
	free(sent);
}

int
marshal_decode_reply(const struct sysreq *req, const uint8_t *p, size_t n,
    struct sysrep *rep, char **cause)
{
	struct buf_rd	 rd;
	uint32_t	 nout, want = 0, len;
	uint64_t	 left = 0;
	size_t		 i;
	uint8_t		 a, part;
	uint16_t	 elem;

	memset(rep, 0, sizeof *rep);
	if (n < REP_HDR_LEN || n > MARSHAL_MSG_MAX)
		return cause_set(cause, "SYSCALL_REP of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	rep->seq = buf_rd_u64(&rd);
	rep->ret = (int64_t)buf_rd_u64(&rd);
	rep->sig = buf_rd_u8(&rd);
	nout = buf_rd_u32(&rd);
	if (rep->seq != req->seq)
		return cause_set(cause, "%s: reply %llu to request %llu",
		    req->ent->name, (unsigned long long)rep->seq,
		    (unsigned long long)req->seq);
	/* Only the kernel's pairs: SIGPIPE with EPIPE, SIGXFSZ with EFBIG. */
	if (rep->sig != 0 && !(rep->sig == SIGPIPE && rep->ret == -EPIPE) &&
	    !(rep->sig == SIGXFSZ && rep->ret == -EFBIG))
		return cause_set(cause, "%s: reply raises signal %u with %lld",
		    req->ent->name, rep->sig, (long long)rep->ret);
	if (!SYSRET_ERR(rep->ret)) {
		for (i = 0; i < req->nbuf; i++)
			want += (req->buf[i].dir & SBD_OUT) != 0;
	}
	if (nout != want)
		return cause_set(cause, "%s: reply with %u buffers, not %u",
		    req->ent->name, nout, want);

	rep->nbuf = req->nbuf;
	rep->buf = xcalloc(req->nbuf ? req->nbuf : 1, sizeof *rep->buf);
	for (i = 0; i < req->nbuf && nout > 0; i++) {
		if (!(req->buf[i].dir & SBD_OUT))
			continue;
		a = buf_rd_u8(&rd);
		part = buf_rd_u8(&rd);
		elem = buf_rd_u16(&rd);
		len = buf_rd_u32(&rd);
		if (!buf_rd_ok(&rd, 0))
			goto short_;
		/* Exact, given ret and the buffers before this one. */
		want = back_len(req, i, rep->ret, rep->buf, &left);
		if (a != req->buf[i].arg || part != req->buf[i].part ||
		    elem != req->buf[i].elem) {
			cause_set(cause, "%s: reply buffer (%u, %u, %u) where "
			    "(%u, %u, %u) belongs", req->ent->name, a, part,
			    elem, req->buf[i].arg, req->buf[i].part,
			    req->buf[i].elem);
			goto fail;
		}
		if (len != want) {
			cause_set(cause, "%s: reply buffer %zu of %u bytes, not "
			    "%u", req->ent->name, i, len, want);
			goto fail;
		}
		rep->buf[i].len = len;
		if ((rep->buf[i].data = buf_rd_ptr(&rd, len)) == NULL && len > 0)
			goto short_;
		if (part == SBP_MSGHDR && (le64dec(rep->buf[i].data +
		    MSGHDR_NAME) != 0 || le64dec(rep->buf[i].data +
		    MSGHDR_IOV) != 0 || le64dec(rep->buf[i].data +
		    MSGHDR_CONTROL) != 0)) {
			cause_set(cause, "%s: pointers in a reply's msghdr",
			    req->ent->name);
			goto fail;
		}
	}
	if (!buf_rd_ok(&rd, 1)) {
		cause_set(cause, "%s: %zu bytes after the reply", req->ent->name,
		    buf_rd_left(&rd));
		goto fail;
	}
	return 0;

short_:
	cause_set(cause, "%s: short reply", req->ent->name);
fail:
	sysrep_free(rep);
	return -1;
}

int
marshal_apply_reply(const struct sysreq *req, const struct sysrep *rep,
    marshal_write_fn wr, void *ctx, char **cause)
{
	const struct sysbuf	*b;
	const uint8_t		*m;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < rep->nbuf && i < req->nbuf; i++) {
		b = &req->buf[i];
		if (!(b->dir & SBD_OUT) || rep->buf[i].len == 0)
			continue;
		if (b->part == SBP_MSGHDR) {
			/* Only what the kernel changes; the guest's pointers stay. */
			m = rep->buf[i].data;
			if (b->addr != 0 &&
			    (wr(ctx, b->addr + MSGHDR_NAMELEN, m + MSGHDR_NAMELEN,
			    4) == -1 || wr(ctx, b->addr + MSGHDR_CONTROLLEN,
			    m + MSGHDR_CONTROLLEN, 8) == -1 || wr(ctx,
			    b->addr + MSGHDR_FLAGS, m + MSGHDR_FLAGS, 4) == -1))
				rc = EFAULT;
			continue;
		}
		if (wr(ctx, b->addr, rep->buf[i].data, rep->buf[i].len) == -1)
			rc = EFAULT;
	}
	if (rc != 0)
		cause_set(cause, "%s: cannot write results into the guest",
		    req->ent->name);
	return rc;
}

/* ---- fd info and file data, for mappings of home files ---- */

#define FDINFO_REQ_LEN	(8 + 4 + 8 + 8)
#define FDINFO_MIN	(8 + 4 + 1 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + \
			 FDINFO_DIGEST_LEN + 4)
#define FDDATA_REQ_LEN	(8 + 4 + 8 + 4)
#define FDDATA_MIN	(8 + 4 + 4)

void
marshal_encode_fdinfo_req(struct buf *b, const struct fdinfo_req *r)
{
	buf_add_u64(b, r->seq);
	buf_add_u32(b, (uint32_t)r->fd);
	buf_add_u64(b, r->off);
	buf_add_u64(b, r->len);
}

int
marshal_decode_fdinfo_req(const uint8_t *p, size_t n, struct fdinfo_req *r,
    char **cause)
{
	struct buf_rd	rd;

	if (n != FDINFO_REQ_LEN)
		return cause_set(cause, "FDINFO_REQ of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	r->seq = buf_rd_u64(&rd);
	r->fd = (int32_t)buf_rd_u32(&rd);
	r->off = buf_rd_u64(&rd);
	r->len = buf_rd_u64(&rd);
	if (r->fd < 0)
		return cause_set(cause, "FDINFO_REQ for fd %d", r->fd);
	return 0;
}

void
marshal_encode_fdinfo(struct buf *b, const struct fdinfo *f)
{
	buf_add_u64(b, f->seq);
	buf_add_u32(b, (uint32_t)f->err);
	buf_add_u8(b, f->type);
	buf_add_u32(b, f->accmode);
	buf_add_u32(b, f->mode);
	buf_add_u64(b, f->size);
	buf_add_u64(b, (uint64_t)f->mtime_sec);
	buf_add_u32(b, f->mtime_nsec);
	buf_add_u64(b, f->dev);
	buf_add_u64(b, f->ino);
	buf_add(b, f->digest, sizeof f->digest);
	buf_add_str(b, f->path);
}

int
marshal_decode_fdinfo(const uint8_t *p, size_t n, struct fdinfo *f,
    char **cause)
{
	struct buf_rd	 rd;

	memset(f, 0, sizeof *f);
	if (n < FDINFO_MIN || n > FDINFO_MIN + sizeof f->path - 1)
		return cause_set(cause, "FDINFO_REP of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	f->seq = buf_rd_u64(&rd);
	f->err = (int32_t)buf_rd_u32(&rd);
	f->type = buf_rd_u8(&rd);
	f->accmode = buf_rd_u32(&rd);
	f->mode = buf_rd_u32(&rd);
	f->size = buf_rd_u64(&rd);
	f->mtime_sec = (int64_t)buf_rd_u64(&rd);
	f->mtime_nsec = buf_rd_u32(&rd);
	f->dev = buf_rd_u64(&rd);
	f->ino = buf_rd_u64(&rd);
	buf_rd_bytes(&rd, f->digest, sizeof f->digest);
	buf_rd_strbuf(&rd, f->path, sizeof f->path);
	if (!buf_rd_ok(&rd, 1))
		return cause_set(cause, "FDINFO_REP: bad path or length");
	if (f->err < 0 || f->err > 4095)
		return cause_set(cause, "FDINFO_REP: errno %d", f->err);
	if (f->err == 0 && (f->type < FDI_REG || f->type > FDI_OTHER))
		return cause_set(cause, "FDINFO_REP: type %u", f->type);
	if (f->accmode > O_RDWR || f->mtime_nsec >= 1000000000U)
		return cause_set(cause, "FDINFO_REP: access mode %u or nsec %u",
		    f->accmode, f->mtime_nsec);
	return 0;
}

void
marshal_encode_fddata_req(struct buf *b, const struct fddata_req *r)
{
	buf_add_u64(b, r->seq);
	buf_add_u32(b, (uint32_t)r->fd);
	buf_add_u64(b, r->off);
	buf_add_u32(b, r->len);
}

int
marshal_decode_fddata_req(const uint8_t *p, size_t n, struct fddata_req *r,
    char **cause)
{
	struct buf_rd	rd;

	if (n != FDDATA_REQ_LEN)
		return cause_set(cause, "FDDATA_REQ of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	r->seq = buf_rd_u64(&rd);
	r->fd = (int32_t)buf_rd_u32(&rd);
	r->off = buf_rd_u64(&rd);
	r->len = buf_rd_u32(&rd);
	if (r->fd < 0 || r->len == 0 || r->len > MARSHAL_DATA_MAX ||
	    r->off > (uint64_t)INT64_MAX - r->len)
		return cause_set(cause, "FDDATA_REQ: fd %d, %u bytes at %llu",
		    r->fd, r->len, (unsigned long long)r->off);
	return 0;
}

void
marshal_encode_fddata(struct buf *b, const struct fddata *f)
{
	buf_add_u64(b, f->seq);
	buf_add_u32(b, (uint32_t)f->err);
	buf_add_u32(b, f->len);
	if (f->len > 0)
		buf_add(b, f->data, f->len);
}

int
marshal_decode_fddata(const uint8_t *p, size_t n, struct fddata *f,
    char **cause)
{
	struct buf_rd	rd;

	memset(f, 0, sizeof *f);
	if (n < FDDATA_MIN || n > FDDATA_MIN + MARSHAL_DATA_MAX)
		return cause_set(cause, "FDDATA_REP of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	f->seq = buf_rd_u64(&rd);
	f->err = (int32_t)buf_rd_u32(&rd);
	f->len = buf_rd_u32(&rd);
	if (f->err < 0 || f->err > 4095 || (f->err != 0 && f->len != 0) ||
	    f->len != buf_rd_left(&rd))
		return cause_set(cause, "FDDATA_REP: errno %d with %u bytes of "
		    "%zu", f->err, f->len, buf_rd_left(&rd));
	f->data = buf_rd_ptr(&rd, f->len);
	return 0;
}

int
marshal_digest_fd(int fd, uint64_t off, uint64_t len,
    uint8_t digest[FDINFO_DIGEST_LEN], char **cause)
{
	EVP_MD_CTX	*md;
	uint8_t		*chunk;
	size_t		 want;
	ssize_t		 n;
	unsigned int	 dlen;
	int		 rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		fatalx("EVP_MD_CTX_new");
	chunk = xmalloc(256 << 10);
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("EVP_DigestInit_ex");
	while (len > 0) {
		want = len < (256 << 10) ? len : (256 << 10);
		n = pread(fd, chunk, want, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "read at %llu: %s",
			    (unsigned long long)off, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;	/* the rest of the range is past the end */
		if (EVP_DigestUpdate(md, chunk, n) != 1)
			fatalx("EVP_DigestUpdate");
		off += n;
		len -= n;
	}
	if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 ||
	    dlen != FDINFO_DIGEST_LEN)
		fatalx("EVP_DigestFinal_ex");
	rc = 0;
out:
	free(chunk);
	EVP_MD_CTX_free(md);
	return rc;
}

#define SYSLOCAL_MIN	(8 + 4 + 4 + 8 + 1 + 4)

void
marshal_encode_syslocal(struct buf *b, const struct syslocal *l)
{
	buf_add_u64(b, l->seq);
	buf_add_u32(b, (uint32_t)l->fd);
	buf_add_u32(b, l->flags);
	buf_add_u64(b, l->pos);
	buf_add_u8(b, l->thread);
	buf_add_str(b, l->entry);
}

int
marshal_decode_syslocal(const uint8_t *p, size_t n, struct syslocal *l,
    char **cause)
{
	struct buf_rd	rd;

	memset(l, 0, sizeof *l);
	if (n < SYSLOCAL_MIN || n > SYSLOCAL_MIN + sizeof l->entry - 1)
		return cause_set(cause, "SYSCALL_LOCAL of %zu bytes", n);
	buf_rd_init(&rd, p, n);
	l->seq = buf_rd_u64(&rd);
	l->fd = (int32_t)buf_rd_u32(&rd);
	l->flags = buf_rd_u32(&rd);
	l->pos = buf_rd_u64(&rd);
	l->thread = buf_rd_u8(&rd);
	buf_rd_strbuf(&rd, l->entry, sizeof l->entry);
	if (!buf_rd_ok(&rd, 1))
		return cause_set(cause, "SYSCALL_LOCAL: bad entry or length");
	if (l->fd < 0 || (l->flags & ~(uint32_t)SYSLOCAL_FLAGS) != 0 ||
	    l->thread > 1 || l->pos > (uint64_t)INT64_MAX ||
	    !procself_guest_entry(l->entry))
		return cause_set(cause, "SYSCALL_LOCAL: fd %d, flags %#x, "
		    "thread %u, entry '%s'", l->fd, l->flags, l->thread,
		    l->entry);
	return 0;
}

const char *
marshal_type_name(uint16_t type)
{
	static const char	*names[] = {
		"SYSCALL_REQ", "SYSCALL_REP", "FDINFO_REQ", "FDINFO_REP",
		"FDDATA_REQ", "FDDATA_REP", "SYSCALL_LOCAL",
	};

	if (type < MARSHAL_SYSCALL_REQ || type > MARSHAL_SYSCALL_LOCAL)
		return NULL;
	return names[type - MARSHAL_SYSCALL_REQ];
}
