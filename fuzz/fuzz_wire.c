/*
 * fuzz_wire.c: the node protocol's frame parser and each message decoder.
 *
 * Beyond "no crash", it checks what the daemon relies on: the parser's
 * answer for a prefix never contradicts the answer for the whole stream (TLS
 * may cut anywhere), and whatever a decoder accepts encodes back to exactly
 * the same bytes (one encoding per message, so nothing unchecked hides in
 * the slack).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct wire_msg	msg;

static void
check_same(const struct buf *b, size_t skip, const uint8_t *p, size_t n)
{
	if (b->len - skip != n || memcmp(b->data + skip, p, n) != 0)
		abort();
}

/* A decoded message encodes back to the bytes it came from. */
static void
reencode(uint16_t type, const uint8_t *payload, size_t len)
{
	struct buf	b;

	buf_init(&b);
	switch (type) {
	case WIRE_HELLO:
	case WIRE_HELLO_ACK:
		wire_encode_hello(&b, type, &msg.hello);
		break;
	case WIRE_LOADWIN:
		wire_encode_loadwin(&b, &msg.loadwin);
		break;
	case WIRE_BYE:
		wire_encode_bye(&b, &msg.bye);
		break;
	default:
		abort();
	}
	check_same(&b, WIRE_HDR_LEN, payload, len);
	buf_free(&b);
}

static void
stream(const uint8_t *data, size_t size)
{
	struct wire_hdr	 h, hp;
	size_t		 off = 0, flen, plen, k, step;
	char		*cause;
	int		 rc, rp;

	while (off < size) {
		cause = NULL;
		rc = wire_frame_peek(data + off, size - off, &h, &flen, &cause);
		if ((rc == -1) != (cause != NULL))
			abort();
		free(cause);

		/* Prefixes: bad stays bad, a frame is never seen early. */
		step = (size - off) / 32 + 1;
		for (k = 0; k < size - off; k += step) {
			rp = wire_frame_peek(data + off, k, &hp, &plen, NULL);
			if (rp == -1 && rc != -1)
				abort();
			if (rp == 1 && (rc != 1 || plen != flen))
				abort();
		}
		if (rc != 1)
			return;
		if (flen < WIRE_HDR_LEN || flen > size - off)
			abort();
		if (wire_decode(&h, data + off + WIRE_HDR_LEN, &msg, NULL) == 0)
			reencode(h.type, data + off + WIRE_HDR_LEN, h.len);
		off += flen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size);

	/* Each decoder on the raw bytes, as if they were its payload. */
	if (wire_decode_hello(data, size, &msg.hello, NULL) == 0)
		reencode(WIRE_HELLO, data, size);
	if (wire_decode_loadwin(data, size, &msg.loadwin, NULL) == 0)
		reencode(WIRE_LOADWIN, data, size);
	if (wire_decode_bye(data, size, &msg.bye, NULL) == 0)
		reencode(WIRE_BYE, data, size);
	return 0;
}
