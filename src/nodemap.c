/* nodemap.c: node addresses in text and sockets, and openMosix's static map file. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/nodemap.h"
#include "omm/xmalloc.h"

#define MAP_MAX_SIZE	(4u << 20)	/* 65536 nodes one a line fit */
#define MAP_MAX_LINE	256

static int
parse_port(const char *s, uint16_t *port, char **cause)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return cause_set(cause, "port '%s' is not a number", s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return cause_set(cause, "port '%s' is not 1 to 65535", s);
	*port = (uint16_t)v;
	return 0;
}

int
node_addr_parse(const char *s, uint16_t defport, struct node_addr *a,
    char **cause)
{
	char		 host[NODE_ADDR_STRLEN], *colon, *close;
	const char	*port = NULL;
	size_t		 n = strlen(s);

	memset(a, 0, sizeof *a);
	if (n == 0)
		return cause_set(cause, "empty address");
	if (n >= sizeof host)
		return cause_set(cause, "address '%s' is too long", s);
	memcpy(host, s, n + 1);
	if (host[0] == '[') {
		/* [v6] or [v6]:port */
		if ((close = strchr(host, ']')) == NULL)
			return cause_set(cause, "address '%s': no ']'", s);
		*close = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return cause_set(cause, "address '%s': junk after ']'",
			    s);
		memmove(host, host + 1, strlen(host + 1) + 1);
		if (inet_pton(AF_INET6, host, a->addr) != 1)
			return cause_set(cause, "'%s' is not an IPv6 address",
			    host);
		a->family = NODE_AF_INET6;
	} else {
		/* one colon: v4:port or *:port; more: a bare v6 address */
		colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			port = colon + 1;
		}
		if (strcmp(host, "*") == 0)
			a->family = NODE_AF_INET;
		else if (inet_pton(AF_INET, host, a->addr) == 1)
			a->family = NODE_AF_INET;
		else if (inet_pton(AF_INET6, host, a->addr) == 1)
			a->family = NODE_AF_INET6;
		else
			return cause_set(cause, "'%s' is not an IP address",
			    host);
	}
	if (port != NULL)
		return parse_port(port, &a->port, cause);
	if (defport == 0)
		return cause_set(cause, "address '%s' has no port", s);
	a->port = defport;
	return 0;
}

int
node_addr_is_any(const struct node_addr *a)
{
	static const uint8_t	zero[16];

	return a->family != NODE_AF_NONE &&
	    memcmp(a->addr, zero, sizeof zero) == 0;
}

const char *
node_addr_host(const struct node_addr *a, char *buf, size_t n)
{
	if (n == 0)
		return buf;
	if (a->family == NODE_AF_NONE)
		snprintf(buf, n, "-");
	else if (node_addr_is_any(a))
		snprintf(buf, n, "*");
	else if (inet_ntop(a->family == NODE_AF_INET ? AF_INET : AF_INET6,
	    a->addr, buf, n) == NULL)
		snprintf(buf, n, "?");
	return buf;
}

const char *
node_addr_str(const struct node_addr *a, char *buf, size_t n)
{
	char	host[NODE_ADDR_STRLEN];

	node_addr_host(a, host, sizeof host);
	if (a->family == NODE_AF_NONE)
		snprintf(buf, n, "-");
	else if (a->family == NODE_AF_INET6 && !node_addr_is_any(a))
		snprintf(buf, n, "[%s]:%u", host, a->port);
	else
		snprintf(buf, n, "%s:%u", host, a->port);
	return buf;
}

int
node_addr_to_sockaddr(const struct node_addr *a, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	switch (a->family) {
	case NODE_AF_INET:
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->addr, 4);
		sin->sin_port = htons(a->port);
		*len = sizeof *sin;
		return 0;
	case NODE_AF_INET6:
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->addr, 16);
		sin6->sin6_port = htons(a->port);
		*len = sizeof *sin6;
		return 0;
	}
	return -1;
}

int
node_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
    struct node_addr *a)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	memset(a, 0, sizeof *a);
	if (sa->sa_family == AF_INET && len >= sizeof *sin) {
		a->family = NODE_AF_INET;
		memcpy(a->addr, &sin->sin_addr, 4);
		a->port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof *sin6) {
		/* a v4-mapped peer of a dual-stack socket is an IPv4 peer */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->family = NODE_AF_INET;
			memcpy(a->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			a->family = NODE_AF_INET6;
			memcpy(a->addr, &sin6->sin6_addr, 16);
		}
		a->port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

int
node_addr_equal(const struct node_addr *x, const struct node_addr *y)
{
	return x->family == y->family && x->port == y->port &&
	    memcmp(x->addr, y->addr, sizeof x->addr) == 0;
}

/*
 * The address k after a, counting up in the last bytes as one big-endian
 * number of the family's width; -1 when that runs past the last address.
 */
static int
addr_add(struct node_addr *a, uint32_t k)
{
	size_t		width = a->family == NODE_AF_INET ? 4 : 16, i;
	uint64_t	carry = k;

	for (i = width; i > 0 && carry != 0; i--) {
		carry += a->addr[i - 1];
		a->addr[i - 1] = (uint8_t)carry;
		carry >>= 8;
	}
	return carry != 0 ? -1 : 0;
}

static int
parse_u32(const char *s, const char *what, uint32_t min, uint32_t *out,
    char **cause)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return cause_set(cause, "%s '%s' is not a number", what, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > UINT32_MAX)
		return cause_set(cause, "%s '%s' is out of range", what, s);
	*out = (uint32_t)v;
	return 0;
}

const struct nodemap_ent *
nodemap_find(const struct nodemap *m, uint32_t node)
{
	size_t	i;

	for (i = 0; i < m->n; i++) {
		if (m->ent[i].node == node)
			return &m->ent[i];
	}
	return NULL;
}

/* Entries while parsing: the map, its capacity, and each entry's line. */
struct map_build {
	struct nodemap	*m;
	size_t		 cap;
	unsigned	*lines;
};

/* One line without its newline and comment: "ID ADDRESS [COUNT]". */
static int
parse_line(struct map_build *mb, char *line, unsigned lineno,
    uint16_t defport, char **cause)
{
	struct node_addr	 a;
	char			*f[4], *save = NULL, *tok;
	struct nodemap		*m = mb->m;
	uint32_t		 id = 0, count = 1, k;
	size_t			 nf = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r", &save)) {
		if (nf == 4)
			break;
		f[nf++] = tok;
	}
	if (nf == 0)
		return 0;
	if (nf < 2 || nf > 3)
		return cause_set(cause, "expected 'ID ADDRESS [COUNT]'");
	if (parse_u32(f[0], "node id", 1, &id, cause) != 0)
		return -1;
	if (node_addr_parse(f[1], defport, &a, cause) != 0)
		return -1;
	if (node_addr_is_any(&a))
		return cause_set(cause, "'%s' is not a node's address", f[1]);
	if (nf == 3 && parse_u32(f[2], "count", 1, &count, cause) != 0)
		return -1;
	if (count > NODEMAP_MAX - m->n)
		return cause_set(cause, "more than %u nodes", NODEMAP_MAX);
	if (count - 1 > UINT32_MAX - id)
		return cause_set(cause, "ids %u + %u run past 2^32", id, count);
	for (k = 0; k < count; k++) {
		if (m->n == mb->cap) {
			mb->cap = mb->cap == 0 ? 16 : mb->cap * 2;
			m->ent = xreallocarray(m->ent, mb->cap,
			    sizeof *m->ent);
			mb->lines = xreallocarray(mb->lines, mb->cap,
			    sizeof *mb->lines);
		}
		mb->lines[m->n] = lineno;
		m->ent[m->n].node = id + k;
		m->ent[m->n].addr = a;
		m->n++;
		if (k + 1 < count && addr_add(&a, 1) != 0)
			return cause_set(cause, "%u addresses from %s run past "
			    "the last address", count, f[1]);
	}
	return 0;
}

static const struct map_build	*sort_mb;

static int
by_node(const void *a, const void *b)
{
	uint32_t	x = sort_mb->m->ent[*(const size_t *)a].node;
	uint32_t	y = sort_mb->m->ent[*(const size_t *)b].node;

	return x < y ? -1 : x > y;
}

/*
 * A node given twice: sorted, in n log n (a map may hold 65536 nodes).
 * The cause names the later line.
 */
static int
check_twice(const struct map_build *mb, unsigned *lineno, char **cause)
{
	const struct nodemap	*m = mb->m;
	size_t			*idx, i, a, b;
	int			 rv = 0;

	if (m->n < 2)
		return 0;
	idx = xreallocarray(NULL, m->n, sizeof *idx);
	for (i = 0; i < m->n; i++)
		idx[i] = i;
	sort_mb = mb;
	qsort(idx, m->n, sizeof *idx, by_node);
	for (i = 1; i < m->n; i++) {
		if (m->ent[idx[i]].node != m->ent[idx[i - 1]].node)
			continue;
		a = idx[i - 1] < idx[i] ? idx[i - 1] : idx[i];
		b = idx[i - 1] < idx[i] ? idx[i] : idx[i - 1];
		*lineno = mb->lines[b];
		rv = cause_set(cause, "node %u given twice (first on line %u)",
		    m->ent[b].node, mb->lines[a]);
		break;
	}
	free(idx);
	return rv;
}

static int
parse(struct nodemap *m, const char *name, const char *text, size_t len,
    uint16_t defport, char **cause)
{
	const char	*p = text, *end = text + len, *nl;
	struct map_build mb = { m, 0, NULL };
	char		 line[MAP_MAX_LINE + 1], *why = NULL, *hash;
	unsigned	 lineno = 0;
	size_t		 n;

	m->ent = NULL;
	m->n = 0;
	while (p < end && why == NULL) {
		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n > MAP_MAX_LINE)
			cause_set(&why, "line longer than %d bytes",
			    MAP_MAX_LINE);
		else if (memchr(p, '\0', n) != NULL)
			cause_set(&why, "NUL byte in line");
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			if ((hash = strchr(line, '#')) != NULL)
				*hash = '\0';
			parse_line(&mb, line, lineno, defport, &why);
		}
		p = nl + 1;
	}
	if (why == NULL)
		check_twice(&mb, &lineno, &why);
	free(mb.lines);
	if (why == NULL)
		return 0;
	if (name != NULL)
		cause_set(cause, "%s:%u: %s", name, lineno, why);
	else
		cause_set(cause, "line %u: %s", lineno, why);
	free(why);
	nodemap_free(m);
	return -1;
}

int
nodemap_parse(struct nodemap *m, const char *text, size_t len,
    uint16_t defport, char **cause)
{
	return parse(m, NULL, text, len, defport, cause);
}

int
nodemap_load(struct nodemap *m, const char *path, uint16_t defport,
    char **cause)
{
	struct stat	 st;
	char		*text = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, rv = -1;

	m->ent = NULL;
	m->n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		cause_set(cause, "%s: not a regular file", path);
		goto out;
	}
	text = xmalloc(MAP_MAX_SIZE + 1);
	for (;;) {
		n = read(fd, text + off, MAP_MAX_SIZE + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		if (off > MAP_MAX_SIZE) {
			cause_set(cause, "%s: larger than %u bytes", path,
			    MAP_MAX_SIZE);
			goto out;
		}
	}
	rv = parse(m, path, text, off, defport, cause);
out:
	free(text);
	close(fd);
	return rv;
}

void
nodemap_free(struct nodemap *m)
{
	free(m->ent);
	m->ent = NULL;
	m->n = 0;
}
