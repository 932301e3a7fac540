/*
 * crc32c.c: CRC32C (Castagnoli) over every framed image section.
 *
 * With SSE4.2 the crc32 instruction does 8 bytes per call but has a latency
 * of 3 cycles and a throughput of 1, so one dependent chain runs at a third
 * of what the unit can do. Long buffers are therefore cut into three blocks
 * whose CRCs run as independent chains in the same loop; the three partial
 * CRCs are then joined by "shifting" the earlier ones over the length of the
 * later blocks (appending that many zero bytes), which is a linear map on the
 * 32-bit state and so a 4 x 256 lookup table per block length.
 *
 * Without SSE4.2 a slicing-by-8 table walk is used.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <nmmintrin.h>

#include "omm/crc32c.h"

#define CRC32C_POLY	0x82f63b78u	/* reflected Castagnoli polynomial */

/*
 * Block lengths of the three-way loop, in bytes. LONG keeps the table joins
 * rare on big buffers; SHORT lets a 4 KiB page still run three chains.
 */
#define CRC_LONG	8192
#define CRC_SHORT	256

static uint32_t		crc_sw[8][256];		/* slicing-by-8 */
static uint32_t		crc_long[4][256];	/* shift over CRC_LONG zero bytes */
static uint32_t		crc_short[4][256];	/* shift over CRC_SHORT zero bytes */
static int		crc_hw;
static pthread_once_t	crc_once = PTHREAD_ONCE_INIT;

/* Multiply a and b modulo the polynomial, both in reflected bit order. */
static uint32_t
gf_mul(uint32_t a, uint32_t b)
{
	uint32_t	p = 0;
	int		i;

	/* Bit 31 of a reflected value is the coefficient of x^0. */
	for (i = 0; i < 32; i++) {
		if (a & 0x80000000u)
			p ^= b;
		a <<= 1;
		b = (b >> 1) ^ ((b & 1) ? CRC32C_POLY : 0);
	}
	return p;
}

/* x^(8n) modulo the polynomial: the operator of appending n zero bytes. */
static uint32_t
gf_xpow8n(size_t n)
{
	uint32_t	r = 0x80000000u;	/* 1 */
	uint32_t	sq = 0x00800000u;	/* x^8 */

	while (n != 0) {
		if (n & 1)
			r = gf_mul(r, sq);
		sq = gf_mul(sq, sq);
		n >>= 1;
	}
	return r;
}

/* Table t such that shift(c) = t[0][c&255] ^ ... ^ t[3][c>>24]. */
static void
crc_shift_table(uint32_t t[4][256], size_t n)
{
	uint32_t	op = gf_xpow8n(n);
	int		k, b;

	for (k = 0; k < 4; k++) {
		for (b = 0; b < 256; b++)
			t[k][b] = gf_mul((uint32_t)b << (8 * k), op);
	}
}

static inline uint32_t
crc_shift(uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^
	    t[3][c >> 24];
}

static void
crc_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc_sw[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc_sw[0][i];
		for (k = 1; k < 8; k++) {
			c = (c >> 8) ^ crc_sw[0][c & 0xff];
			crc_sw[k][i] = c;
		}
	}
	crc_shift_table(crc_long, CRC_LONG);
	crc_shift_table(crc_short, CRC_SHORT);

	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
}

/* Software CRC on the raw (uninverted) state. */
static uint32_t
crc_sw_update(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t	w;

	while (n != 0 && ((uintptr_t)p & 7) != 0) {
		c = (c >> 8) ^ crc_sw[0][(c ^ *p++) & 0xff];
		n--;
	}
	while (n >= 8) {
		memcpy(&w, p, 8);	/* little-endian host: x86-64 only */
		w ^= c;
		c = crc_sw[7][w & 0xff] ^ crc_sw[6][(w >> 8) & 0xff] ^
		    crc_sw[5][(w >> 16) & 0xff] ^ crc_sw[4][(w >> 24) & 0xff] ^
		    crc_sw[3][(w >> 32) & 0xff] ^ crc_sw[2][(w >> 40) & 0xff] ^
		    crc_sw[1][(w >> 48) & 0xff] ^ crc_sw[0][w >> 56];
		p += 8;
		n -= 8;
	}
	while (n != 0) {
		c = (c >> 8) ^ crc_sw[0][(c ^ *p++) & 0xff];
		n--;
	}
	return c;
}

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t	w;

	memcpy(&w, p, 8);
	return w;
}

/* Three chains over blocks of len bytes each, as many rounds as fit. */
__attribute__((target("sse4.2")))
static inline uint32_t
crc_hw_3way(uint32_t c, const uint8_t **pp, size_t *np, size_t len,
    uint32_t t[4][256])
{
	const uint8_t	*p = *pp, *end;
	size_t		 n = *np;
	uint64_t	 c0, c1, c2;

	while (n >= 3 * len) {
		c0 = c;
		c1 = 0;
		c2 = 0;
		end = p + len;
		do {
			c0 = _mm_crc32_u64(c0, ld64(p));
			c1 = _mm_crc32_u64(c1, ld64(p + len));
			c2 = _mm_crc32_u64(c2, ld64(p + 2 * len));
			p += 8;
		} while (p < end);
		c = crc_shift(t, (uint32_t)c0) ^ (uint32_t)c1;
		c = crc_shift(t, c) ^ (uint32_t)c2;
		p += 2 * len;
		n -= 3 * len;
	}
	*pp = p;
	*np = n;
	return c;
}

__attribute__((target("sse4.2")))
static uint32_t
crc_hw_update(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t	c64;

	while (n != 0 && ((uintptr_t)p & 7) != 0) {
		c = _mm_crc32_u8(c, *p++);
		n--;
	}
	c = crc_hw_3way(c, &p, &n, CRC_LONG, crc_long);
	c = crc_hw_3way(c, &p, &n, CRC_SHORT, crc_short);
	c64 = c;
	while (n >= 8) {
		c64 = _mm_crc32_u64(c64, ld64(p));
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n != 0) {
		c = _mm_crc32_u8(c, *p++);
		n--;
	}
	return c;
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t	*p = buf;

	pthread_once(&crc_once, crc_init);
	if (n == 0)
		return crc;
	crc = ~crc;
	if (crc_hw)
		crc = crc_hw_update(crc, p, n);
	else
		crc = crc_sw_update(crc, p, n);
	return ~crc;
}

/* For tests: the table path regardless of the CPU. */
uint32_t crc32c_sw(uint32_t, const void *, size_t);

uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
	pthread_once(&crc_once, crc_init);
	return ~crc_sw_update(~crc, buf, n);
}
