/* buf.c: growing writers and failing-safe readers over bytes. */
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

void
le32enc(void *p, uint32_t v)
{
	uint8_t	*b = p;

	b[0] = v; b[1] = v >> 8; b[2] = v >> 16; b[3] = v >> 24;
}

void
le64enc(void *p, uint64_t v)
{
	le32enc(p, (uint32_t)v);
	le32enc((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

uint32_t
le32dec(const void *p)
{
	const uint8_t	*b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

uint64_t
le64dec(const void *p)
{
	return (uint64_t)le32dec(p) | (uint64_t)le32dec((const uint8_t *)p + 4) << 32;
}

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

void *
buf_reserve(struct buf *b, size_t n)
{
	void	*p;

	if (n > SIZE_MAX / 2 - b->len)
		fatalx("buf_reserve: %zu bytes", n);
	if (b->len + n > b->cap) {
		size_t	ncap = b->cap ? b->cap : 256;

		while (ncap < b->len + n)
			ncap *= 2;
		b->data = xreallocarray(b->data, 1, ncap);
		b->cap = ncap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n != 0)
		memcpy(buf_reserve(b, n), p, n);
}

void
buf_add_u8(struct buf *b, uint8_t v)
{
	*(uint8_t *)buf_reserve(b, 1) = v;
}

void
buf_add_u16(struct buf *b, uint16_t v)
{
	uint8_t	*p = buf_reserve(b, 2);

	p[0] = v; p[1] = v >> 8;
}

void
buf_add_u32(struct buf *b, uint32_t v)
{
	le32enc(buf_reserve(b, 4), v);
}

void
buf_add_u64(struct buf *b, uint64_t v)
{
	le64enc(buf_reserve(b, 8), v);
}

void
buf_add_str(struct buf *b, const char *s)
{
	size_t	n = s == NULL ? 0 : strlen(s);

	buf_add_u32(b, (uint32_t)n);
	buf_add(b, s, n);
}

void
buf_put_u32(struct buf *b, size_t off, uint32_t v)
{
	if (off > b->len || b->len - off < 4)
		fatalx("buf_put_u32: offset %zu past %zu", off, b->len);
	le32enc(b->data + off, v);
}

void
buf_put_u64(struct buf *b, size_t off, uint64_t v)
{
	if (off > b->len || b->len - off < 8)
		fatalx("buf_put_u64: offset %zu past %zu", off, b->len);
	le64enc(b->data + off, v);
}

void
buf_rd_init(struct buf_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
	r->err = 0;
}

const void *
buf_rd_ptr(struct buf_rd *r, size_t n)
{
	const void	*p;

	if (r->err || n > r->len - r->off) {
		r->err = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

void
buf_rd_bytes(struct buf_rd *r, void *out, size_t n)
{
	const void	*p = buf_rd_ptr(r, n);

	if (p == NULL)
		memset(out, 0, n);
	else if (n != 0)
		memcpy(out, p, n);
}

uint8_t
buf_rd_u8(struct buf_rd *r)
{
	const uint8_t	*p = buf_rd_ptr(r, 1);

	return p == NULL ? 0 : p[0];
}

uint16_t
buf_rd_u16(struct buf_rd *r)
{
	const uint8_t	*p = buf_rd_ptr(r, 2);

	return p == NULL ? 0 : (uint16_t)(p[0] | p[1] << 8);
}

uint32_t
buf_rd_u32(struct buf_rd *r)
{
	const uint8_t	*p = buf_rd_ptr(r, 4);

	return p == NULL ? 0 : le32dec(p);
}

uint64_t
buf_rd_u64(struct buf_rd *r)
{
	const uint8_t	*p = buf_rd_ptr(r, 8);

	return p == NULL ? 0 : le64dec(p);
}

char *
buf_rd_str(struct buf_rd *r, size_t max)
{
	uint32_t	 n;
	const char	*p;

	n = buf_rd_u32(r);
	if (r->err || n > max) {
		r->err = 1;
		return NULL;
	}
	if ((p = buf_rd_ptr(r, n)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {
		r->err = 1;
		return NULL;
	}
	return xstrndup(n == 0 ? "" : p, n);
}

void
buf_rd_strbuf(struct buf_rd *r, char *out, size_t size)
{
	uint32_t	 n;
	const char	*p;

	out[0] = '\0';
	n = buf_rd_u32(r);
	if (r->err || n >= size) {
		r->err = 1;
		return;
	}
	if ((p = buf_rd_ptr(r, n)) == NULL)
		return;
	if (memchr(p, '\0', n) != NULL) {
		r->err = 1;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

size_t
buf_rd_left(const struct buf_rd *r)
{
	return r->len - r->off;
}

int
buf_rd_ok(const struct buf_rd *r, int exact)
{
	if (r->err)
		return 0;
	return !exact || r->off == r->len;
}
