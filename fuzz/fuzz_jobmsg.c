/*
 * fuzz_jobmsg.c: libFuzzer harness for the job block (jobmsg.h), the
 * messages ommd, its job supervisors and its guest servers exchange.
 *
 * The first input byte says whether a descriptor came with the message
 * (bit 0), the rest is one datagram as either end receives it: the header
 * is split, then version, type and payload are checked as the daemons do
 * (jobmsg_validate). A valid REQ, REP or PROC carries a control message:
 * that one is split and validated as ommd would (proto_validate). A valid
 * message, encoded again from what was decoded, gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/jobmsg.h"
#include "omm/proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Re-encode what decoded: the same bytes, or the codecs disagree. */
static void
roundtrip(const struct proto_msg *m, const uint8_t *raw, size_t n)
{
	union {
		struct jm_hello		hello;
		struct jm_welcome	welcome;
		struct jm_migrate	migrate;
		struct jm_gone		gone;
		struct jm_event		event;
		struct jm_bring_all	bring_all;
		struct jm_guest		guest;
		struct jm_guest_ctl	guest_ctl;
	} u;
	struct buf	b;

	buf_init(&b);
	switch (m->hdr.type) {
	case JM_HELLO:
		if (jobmsg_decode_hello(m, &u.hello, NULL) == 0)
			jobmsg_encode_hello(&b, &u.hello);
		break;
	case JM_WELCOME:
		if (jobmsg_decode_welcome(m, &u.welcome, NULL) == 0)
			jobmsg_encode_welcome(&b, &u.welcome);
		break;
	case JM_MIGRATE:
		if (jobmsg_decode_migrate(m, &u.migrate, NULL) == 0)
			jobmsg_encode_migrate(&b, &u.migrate);
		break;
	case JM_GONE:
		if (jobmsg_decode_gone(m, &u.gone, NULL) == 0)
			jobmsg_encode_gone(&b, &u.gone);
		break;
	case JM_EVENT:
		if (jobmsg_decode_event(m, &u.event, NULL) == 0)
			jobmsg_encode_event(&b, &u.event);
		break;
	case JM_BRING_ALL:
		if (jobmsg_decode_bring_all(m, &u.bring_all, NULL) == 0)
			jobmsg_encode_bring_all(&b, &u.bring_all);
		break;
	case JM_GUEST:
		if (jobmsg_decode_guest(m, &u.guest, NULL) == 0)
			jobmsg_encode_guest(&b, &u.guest);
		break;
	case JM_GUEST_CTL:
		if (jobmsg_decode_guest_ctl(m, &u.guest_ctl, NULL) == 0)
			jobmsg_encode_guest_ctl(&b, &u.guest_ctl);
		break;
	default:
		break;
	}
	if (b.len != 0 && (b.len != n || memcmp(b.data, raw, n) != 0))
		abort();
	buf_free(&b);
}

/* The control message a REQ or REP carries, checked as ommd would. */
static void
embedded(const uint8_t *msg, size_t len)
{
	struct proto_msg	em;

	if (proto_hdr_decode(&em, msg, len, NULL) != 0)
		abort();	/* the envelope's decoder vouched for it */
	(void)proto_validate(&em, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg	m;
	struct jm_req		req;
	struct jm_rep		rep;
	char			*cause = NULL;

	if (size < 1)
		return 0;
	if (proto_hdr_decode(&m, data + 1, size - 1, NULL) != 0)
		return 0;
	m.fd = (data[0] & 1) ? 99 : -1;	/* never used: the number is enough */
	if (jobmsg_validate(&m, &cause) != 0) {
		if (cause == NULL)
			abort();	/* every refusal says why */
		free(cause);
		return 0;
	}
	if (m.hdr.type == JM_REQ && jobmsg_decode_req(&m, &req, NULL) == 0)
		embedded(req.msg, req.len);
	if (m.hdr.type == JM_REP && jobmsg_decode_rep(&m, &rep, NULL) == 0)
		embedded(rep.msg, rep.len);
	roundtrip(&m, data + 1, size - 1);
	return 0;
}
