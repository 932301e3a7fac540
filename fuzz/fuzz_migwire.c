/*
 * fuzz_migwire.c: the decoders of the migration block (200).
 *
 * The first byte picks the type, the rest is its payload. Beyond "no
 * crash": whatever a decoder accepts encodes back to exactly the same bytes
 * (one encoding per message, so nothing unchecked hides in the slack), and
 * the input read as a stream of frames goes through wire_frame_peek and
 * migwire_decode as a migration link would take it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/migwire.h"
#include "omm/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define LAST	WIRE_MIG_FILE_DATA
#define NTYPES	(LAST - WIRE_MIG_OFFER + 1)

static struct mig_msg	msg;

static void
reencode(uint16_t type, const uint8_t *p, size_t n)
{
	struct buf	b;

	buf_init(&b);
	switch (type) {
	case WIRE_MIG_OFFER:
		migwire_encode_offer(&b, &msg.offer);
		break;
	case WIRE_MIG_ACCEPT:
		migwire_encode_accept(&b, &msg.accept);
		break;
	case WIRE_MIG_REFUSE:
		migwire_encode_refuse(&b, &msg.refuse);
		break;
	case WIRE_MIG_IMAGE:
		wire_encode_raw(&b, type, msg.image.data, msg.image.len);
		break;
	case WIRE_MIG_IMAGE_END:
		migwire_encode_image_end(&b, &msg.image_end);
		break;
	case WIRE_MIG_READY:
		migwire_encode_ready(&b, &msg.ready);
		break;
	case WIRE_MIG_FAIL:
		migwire_encode_fail(&b, &msg.fail);
		break;
	case WIRE_GUEST_SIGNAL:
		migwire_encode_signal(&b, &msg.signal);
		break;
	case WIRE_GUEST_EXIT:
		migwire_encode_exit(&b, &msg.exit);
		break;
	case WIRE_GUEST_BRING:
		migwire_encode_bring(&b, &msg.bring);
		break;
	case WIRE_GUEST_LEAVING:
		migwire_encode_leaving(&b, &msg.leaving);
		break;
	case WIRE_GUEST_STOPPED:
		migwire_encode_stopped(&b, &msg.stopped);
		break;
	case WIRE_PING:
		wire_encode_raw(&b, type, NULL, 0);
		break;
	case WIRE_GUEST_USAGE:
		migwire_encode_usage(&b, &msg.usage);
		break;
	case WIRE_GUEST_LANDED:
		migwire_encode_landed(&b, &msg.landed);
		break;
	case WIRE_GUEST_STAY:
		migwire_encode_stay(&b, &msg.stay);
		break;
	case WIRE_MIG_FILE_REQ:
		migwire_encode_file_req(&b, &msg.file_req);
		break;
	case WIRE_MIG_FILE_DATA:
		migwire_encode_file_data(&b, &msg.file_data);
		break;
	default:
		abort();
	}
	if (b.len != WIRE_HDR_LEN + n ||
	    memcmp(b.data + WIRE_HDR_LEN, p, n) != 0)
		abort();
	buf_free(&b);
}

static void
stream(const uint8_t *data, size_t size)
{
	struct wire_hdr	 h;
	size_t		 off = 0, flen;
	char		*cause;
	int		 rc;

	while (off < size) {
		cause = NULL;
		rc = wire_frame_peek(data + off, size - off, &h, &flen, &cause);
		if ((rc == -1) != (cause != NULL))
			abort();
		free(cause);
		if (rc != 1)
			return;
		if (h.type >= WIRE_MIG_OFFER && h.type <= LAST &&
		    migwire_decode(&h, data + off + WIRE_HDR_LEN, &msg,
		    NULL) == 0)
			reencode(h.type, data + off + WIRE_HDR_LEN, h.len);
		off += flen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_hdr	 h;
	char		*cause = NULL;
	int		 rc;

	if (size == 0)
		return 0;
	h.magic = WIRE_MAGIC;
	h.version = OMM_WIRE_VERSION;
	h.type = (uint16_t)(WIRE_MIG_OFFER + data[0] % NTYPES);
	h.len = (uint32_t)(size - 1);
	rc = migwire_decode(&h, data + 1, &msg, &cause);
	if ((rc == -1) != (cause != NULL))
		abort();
	free(cause);
	if (rc == 0)
		reencode(h.type, data + 1, size - 1);
	stream(data, size);
	return 0;
}
