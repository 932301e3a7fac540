/* announce.c: the discovery datagram's encoder and decoder. */
#include <string.h>

#include "omm/announce.h"
#include "omm/ca.h"
#include "omm/log.h"

/* Address bytes each family uses; the rest must be zero. */
static int
check_addr(const struct node_addr *a, char **cause)
{
	size_t	used, i;

	switch (a->family) {
	case NODE_AF_NONE:
		used = 0;
		break;
	case NODE_AF_INET:
		used = 4;
		break;
	case NODE_AF_INET6:
		used = 16;
		break;
	default:
		return cause_set(cause, "address family %u", a->family);
	}
	for (i = used; i < sizeof a->addr; i++) {
		if (a->addr[i] != 0)
			return cause_set(cause, "address byte %zu set beyond "
			    "family %u", i, a->family);
	}
	if (a->port == 0)
		return cause_set(cause, "port 0");
	return 0;
}

static int
check(const struct announce *an, char **cause)
{
	if (an->node == 0)
		return cause_set(cause, "node id 0");
	if (an->incarnation == 0)
		return cause_set(cause, "incarnation 0");
	if (!ca_valid_name(an->name))
		return cause_set(cause, "invalid node name");
	return check_addr(&an->addr, cause);
}

void
announce_encode(struct buf *b, const struct announce *an)
{
	char	*why = NULL;

	if (check(an, &why) != 0)
		fatalx("%s: %s", __func__, why);
	buf_add_u32(b, ANNOUNCE_MAGIC);
	buf_add_u16(b, ANNOUNCE_VERSION);
	buf_add_u16(b, 0);
	buf_add_u32(b, an->node);
	buf_add_u64(b, an->incarnation);
	buf_add_str(b, an->name);
	buf_add_u8(b, an->addr.family);
	buf_add(b, an->addr.addr, sizeof an->addr.addr);
	buf_add_u16(b, an->addr.port);
}

int
announce_decode(const uint8_t *p, size_t len, struct announce *an,
    char **cause)
{
	struct buf_rd	 r;
	const char	*s;
	uint32_t	 magic, n;
	uint16_t	 version, flags;

	memset(an, 0, sizeof *an);
	if (len > ANNOUNCE_MAX_LEN)
		return cause_set(cause, "datagram of %zu bytes, at most %zu",
		    len, (size_t)ANNOUNCE_MAX_LEN);
	buf_rd_init(&r, p, len);
	magic = buf_rd_u32(&r);
	version = buf_rd_u16(&r);
	flags = buf_rd_u16(&r);
	if (r.err)
		return cause_set(cause, "short datagram of %zu bytes", len);
	if (magic != ANNOUNCE_MAGIC)
		return cause_set(cause, "not an omm announcement");
	if (version != ANNOUNCE_VERSION)
		return cause_set(cause, "announcement version %u, we speak %u",
		    version, ANNOUNCE_VERSION);
	if (flags != 0)
		return cause_set(cause, "announcement flags 0x%x", flags);
	an->node = buf_rd_u32(&r);
	an->incarnation = buf_rd_u64(&r);
	n = buf_rd_u32(&r);
	if (r.err)
		return cause_set(cause, "truncated announcement");
	if (n == 0 || n >= sizeof an->name)
		return cause_set(cause, "node name of %u bytes", n);
	if ((s = buf_rd_ptr(&r, n)) == NULL)
		return cause_set(cause, "truncated node name");
	if (memchr(s, '\0', n) != NULL)
		return cause_set(cause, "node name holds a NUL byte");
	memcpy(an->name, s, n);
	an->name[n] = '\0';
	an->addr.family = buf_rd_u8(&r);
	buf_rd_bytes(&r, an->addr.addr, sizeof an->addr.addr);
	an->addr.port = buf_rd_u16(&r);
	if (r.err)
		return cause_set(cause, "truncated address");
	if (buf_rd_left(&r) != 0)
		return cause_set(cause, "%zu bytes after the announcement",
		    buf_rd_left(&r));
	return check(an, cause);
}
