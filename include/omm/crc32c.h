/* crc32c.h: CRC32C (Castagnoli), hardware-accelerated with SSE4.2 when present. */
#ifndef OMM_CRC32C_H
#define OMM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (start with 0) over n bytes; crc32c(0, "123456789", 9) == 0xe3069283. */
uint32_t	crc32c(uint32_t crc, const void *, size_t n);

#endif
