/* fuzz_announce.c: libFuzzer harness for the discovery datagram decoder (anyone on the LAN can send one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/announce.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct announce	 an;
	struct buf	 b;
	char		*cause = NULL;

	if (announce_decode(data, size, &an, &cause) == 0) {
		/* what decodes encodes back to the same bytes */
		buf_init(&b);
		announce_encode(&b, &an);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
		buf_free(&b);
	}
	free(cause);
	return 0;
}
