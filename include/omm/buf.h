/*
 * buf.h: bounds-checked byte buffers for every wire and image format.
 *
 * Writers grow a heap buffer; readers walk a borrowed byte range and fail,
 * never crash, on a short or malformed input. Integers are little-endian.
 * A reader that has failed stays failed, so a decoder may check once at the
 * end (buf_rd_ok) after a run of reads.
 */
#ifndef OMM_BUF_H
#define OMM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
};

struct buf_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;	/* sticky: set by any short read */
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	*buf_reserve(struct buf *, size_t);	/* returns space for n bytes */
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_add_u8(struct buf *, uint8_t);
void	 buf_add_u16(struct buf *, uint16_t);
void	 buf_add_u32(struct buf *, uint32_t);
void	 buf_add_u64(struct buf *, uint64_t);
/* A string is a u32 length then the bytes, no terminator. NULL is written as length 0. */
void	 buf_add_str(struct buf *, const char *);
void	 buf_put_u32(struct buf *, size_t, uint32_t);	/* patch at offset */
void	 buf_put_u64(struct buf *, size_t, uint64_t);

void	 buf_rd_init(struct buf_rd *, const void *, size_t);
uint8_t	 buf_rd_u8(struct buf_rd *);
uint16_t buf_rd_u16(struct buf_rd *);
uint32_t buf_rd_u32(struct buf_rd *);
uint64_t buf_rd_u64(struct buf_rd *);
/* Copy n bytes out; on a short input fills with zeroes and sets err. */
void	 buf_rd_bytes(struct buf_rd *, void *, size_t);
/* Borrow n bytes in place (NULL and err on a short input). */
const void *buf_rd_ptr(struct buf_rd *, size_t);
/*
 * Read a string of at most max bytes into a new NUL-terminated heap copy.
 * Refuses (err, NULL) a string longer than max or holding a NUL byte.
 */
char	*buf_rd_str(struct buf_rd *, size_t max);
/* Read a string into a fixed array of size n (at most n-1 bytes). */
void	 buf_rd_strbuf(struct buf_rd *, char *, size_t);
size_t	 buf_rd_left(const struct buf_rd *);
/* True when no read failed and, if exact, every byte was consumed. */
int	 buf_rd_ok(const struct buf_rd *, int exact);

uint32_t le32dec(const void *);
uint64_t le64dec(const void *);
void	 le32enc(void *, uint32_t);
void	 le64enc(void *, uint64_t);

#endif
