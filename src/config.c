/* config.c: ommd.conf, "key = value" lines checked against a table of keys. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>

#include "omm/ca.h"
#include "omm/config.h"
#include "omm/log.h"
#include "omm/nodemap.h"
#include "omm/wire.h"
#include "omm/xmalloc.h"

#define CONF_MAX_SIZE	(64u << 10)	/* a config is a few lines; refuse junk */
#define CONF_MAX_LINE	4096
#define CONF_MAX_VERBOSE 9

static int	set_path(char **, const char *, char **);
static int	set_socket(struct omm_config *, const char *, char **);
static int	set_state_dir(struct omm_config *, const char *, char **);
static int	set_verbose(struct omm_config *, const char *, char **);
static int	set_log(struct omm_config *, const char *, char **);
static int	set_node_id(struct omm_config *, const char *, char **);
static int	set_node_name(struct omm_config *, const char *, char **);
static int	set_listen(struct omm_config *, const char *, char **);
static int	set_ca(struct omm_config *, const char *, char **);
static int	set_cert(struct omm_config *, const char *, char **);
static int	set_key(struct omm_config *, const char *, char **);
static int	set_crl(struct omm_config *, const char *, char **);
static int	set_map(struct omm_config *, const char *, char **);
static int	set_discovery(struct omm_config *, const char *, char **);
static int	set_mcast_group(struct omm_config *, const char *, char **);
static int	set_mcast_if(struct omm_config *, const char *, char **);
static int	set_gossip_interval(struct omm_config *, const char *,
		    char **);
static int	set_dead_after(struct omm_config *, const char *, char **);
static int	set_window(struct omm_config *, const char *, char **);
static int	set_speed(struct omm_config *, const char *, char **);
static int	set_load_cgroup(struct omm_config *, const char *, char **);
static int	set_balance_min_age(struct omm_config *, const char *, char **);
static int	set_guest_memory(struct omm_config *, const char *, char **);

static int	set_handshake_ms(struct omm_config *, const char *, char **);
static int	set_handshake_per_source(struct omm_config *, const char *,
		    char **);
static int	set_handshake_max(struct omm_config *, const char *, char **);
static int	set_control_per_user(struct omm_config *, const char *,
		    char **);
static int	set_control_max(struct omm_config *, const char *, char **);
static int	set_control_idle(struct omm_config *, const char *, char **);
static int	set_log_repeat(struct omm_config *, const char *, char **);

/* Where a key keeps its value, for config_diff. */
enum conf_kind { CF_NONE, CF_STR, CF_INT, CF_U32, CF_U64, CF_ADDR };
struct conf_field {
	enum conf_kind	 kind;
	size_t		 off;
};
#define F(k, m)	{ k, offsetof(struct omm_config, m) }

/*
 * The keys ommd.conf knows. set() checks and stores a value; its cause
 * names only the value, the parser adds where it was. live: a running
 * ommd takes a new value when it reloads (SIGHUP, omctl reload); every
 * other key needs a restart. f: the fields that hold the value.
 */
static const struct conf_key {
	const char		*name;
	int			(*set)(struct omm_config *, const char *,
				    char **);
	int			 live;
	struct conf_field	 f[2];
} conf_keys[] = {
	{ "socket",	set_socket, 0, { F(CF_STR, socket_path) } },
	{ "state_dir",	set_state_dir, 0, { F(CF_STR, state_dir) } },
	{ "verbose",	set_verbose, 1, { F(CF_INT, verbose) } },
	{ "log",	set_log, 0, { F(CF_INT, log_syslog) } },
	{ "node_id",	set_node_id, 0, { F(CF_U32, node_id) } },
	{ "node_name",	set_node_name, 0, { F(CF_STR, node_name) } },
	{ "listen",	set_listen, 0, { F(CF_ADDR, listen), F(CF_INT, fabric) } },
	{ "ca",		set_ca, 1, { F(CF_STR, ca) } },
	{ "cert",	set_cert, 1, { F(CF_STR, cert) } },
	{ "key",	set_key, 1, { F(CF_STR, key) } },
	{ "crl",	set_crl, 1, { F(CF_STR, crl) } },
	{ "map",	set_map, 0, { F(CF_STR, map_path) } },
	{ "discovery",	set_discovery, 0, { F(CF_INT, discovery) } },
	{ "mcast_group", set_mcast_group, 0, { F(CF_ADDR, mcast_group) } },
	{ "mcast_if",	set_mcast_if, 0, { F(CF_STR, mcast_if) } },
	{ "gossip_interval_ms", set_gossip_interval, 0,
	    { F(CF_U32, gossip_min_ms), F(CF_U32, gossip_max_ms) } },
	{ "dead_after_ms", set_dead_after, 0, { F(CF_U32, dead_after_ms) } },
	{ "window",	set_window, 0, { F(CF_U32, window) } },
	{ "speed",	set_speed, 0, { F(CF_U32, speed) } },
	{ "load_cgroup", set_load_cgroup, 0, { F(CF_STR, load_cgroup) } },
	{ "balance_min_age_ms", set_balance_min_age, 0,
	    { F(CF_U32, balance_min_age_ms) } },
	{ "guest_memory", set_guest_memory, 0,
	    { F(CF_U64, guest_memory), F(CF_U32, guest_memory_pct) } },
	{ "handshake_timeout_ms", set_handshake_ms, 1,
	    { F(CF_U32, handshake_ms) } },
	{ "handshake_per_source", set_handshake_per_source, 1,
	    { F(CF_U32, handshake_per_source) } },
	{ "handshake_max", set_handshake_max, 1, { F(CF_U32, handshake_max) } },
	{ "control_per_user", set_control_per_user, 1,
	    { F(CF_U32, control_per_user) } },
	{ "control_max", set_control_max, 1, { F(CF_U32, control_max) } },
	{ "control_idle_s", set_control_idle, 1,
	    { F(CF_U32, control_idle_s) } },
	{ "log_repeat_s", set_log_repeat, 1, { F(CF_U32, log_repeat_s) } },
};
#define NKEYS	(sizeof conf_keys / sizeof conf_keys[0])

void
config_defaults(struct omm_config *c)
{
	c->socket_path = xstrdup(OMM_SOCK_PATH);
	c->state_dir = xstrdup(OMM_STATE_DIR);
	c->verbose = 0;
	c->log_syslog = 1;

	c->fabric = 0;
	c->node_id = 0;
	c->node_name = NULL;
	memset(&c->listen, 0, sizeof c->listen);
	c->ca = xstrdup(OMM_ETC_DIR "/ca.crt");
	c->cert = xstrdup(OMM_ETC_DIR "/node.crt");
	c->key = xstrdup(OMM_ETC_DIR "/node.key");
	c->crl = xstrdup(OMM_ETC_DIR "/ca.crl");
	c->map_path = NULL;
	c->discovery = 0;
	if (node_addr_parse(OMM_MCAST_GROUP, OMM_MCAST_PORT, &c->mcast_group,
	    NULL) != 0)
		fatalx("%s: bad default group", __func__);
	c->mcast_if = NULL;
	c->gossip_min_ms = OMM_GOSSIP_MIN_MS;
	c->gossip_max_ms = OMM_GOSSIP_MAX_MS;
	c->dead_after_ms = OMM_DEAD_AFTER_MS;
	c->balance_min_age_ms = OMM_BALANCE_MIN_AGE_MS;
	c->window = OMM_WINDOW;
	c->speed = 0;
	c->load_cgroup = NULL;
	c->guest_memory = 0;
	c->guest_memory_pct = OMM_GUEST_MEMORY_PCT;
	c->handshake_ms = OMM_HANDSHAKE_MS;
	c->handshake_per_source = OMM_HANDSHAKE_PER_SOURCE;
	c->handshake_max = OMM_HANDSHAKE_MAX;
	c->control_per_user = OMM_CONTROL_PER_USER;
	c->control_max = OMM_CONTROL_MAX;
	c->control_idle_s = OMM_CONTROL_IDLE_S;
	c->log_repeat_s = OMM_LOG_REPEAT_S;
}

/* Does field f hold the same value in a and b? */
static int
field_eq(const struct conf_field *f, const struct omm_config *a,
    const struct omm_config *b)
{
	const char	*pa = (const char *)a + f->off;
	const char	*pb = (const char *)b + f->off;
	const char	*sa, *sb;

	switch (f->kind) {
	case CF_NONE:
		return 1;
	case CF_STR:
		sa = *(char *const *)(const void *)pa;
		sb = *(char *const *)(const void *)pb;
		if (sa == NULL || sb == NULL)
			return sa == sb;
		return strcmp(sa, sb) == 0;
	case CF_INT:
		return memcmp(pa, pb, sizeof(int)) == 0;
	case CF_U32:
		return memcmp(pa, pb, sizeof(uint32_t)) == 0;
	case CF_U64:
		return memcmp(pa, pb, sizeof(uint64_t)) == 0;
	case CF_ADDR:
		return node_addr_equal((const struct node_addr *)(const void *)pa,
		    (const struct node_addr *)(const void *)pb);
	}
	return 0;
}

size_t
config_diff(const struct omm_config *a, const struct omm_config *b,
    struct config_change *out, size_t max)
{
	size_t	i, j, n = 0;

	for (i = 0; i < NKEYS; i++) {
		for (j = 0; j < 2; j++) {
			if (!field_eq(&conf_keys[i].f[j], a, b))
				break;
		}
		if (j == 2)
			continue;
		if (n < max) {
			out[n].key = conf_keys[i].name;
			out[n].live = conf_keys[i].live;
		}
		n++;
	}
	return n;
}

void
config_free(struct omm_config *c)
{
	free(c->socket_path);
	free(c->state_dir);
	c->socket_path = c->state_dir = NULL;
	free(c->node_name);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->crl);
	free(c->map_path);
	free(c->mcast_if);
	free(c->load_cgroup);
	c->node_name = c->ca = c->cert = c->key = c->crl = NULL;
	c->map_path = c->mcast_if = c->load_cgroup = NULL;
}

static int
set_path(char **dst, const char *v, char **cause)
{
	if (v[0] != '/')
		return cause_set(cause, "'%s' is not an absolute path", v);
	if (strlen(v) >= PATH_MAX)
		return cause_set(cause, "path longer than %d bytes", PATH_MAX);
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int
set_socket(struct omm_config *c, const char *v, char **cause)
{
	/* sun_path holds 108 bytes, terminator included */
	if (strlen(v) > 107)
		return cause_set(cause, "socket path '%s' is longer than 107 "
		    "bytes", v);
	return set_path(&c->socket_path, v, cause);
}

static int
set_state_dir(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->state_dir, v, cause);
}

static int
set_verbose(struct omm_config *c, const char *v, char **cause)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0 ||
	    n > CONF_MAX_VERBOSE)
		return cause_set(cause, "verbose must be 0 to %d, not '%s'",
		    CONF_MAX_VERBOSE, v);
	c->verbose = (int)n;
	return 0;
}

static int
set_log(struct omm_config *c, const char *v, char **cause)
{
	if (strcmp(v, "stderr") == 0)
		c->log_syslog = 0;
	else if (strcmp(v, "syslog") == 0)
		c->log_syslog = 1;
	else
		return cause_set(cause, "log must be stderr or syslog, not '%s'",
		    v);
	return 0;
}

/* A decimal number in [min, max]; what names the key in the cause. */
static int
get_u32(const char *v, const char *what, uint32_t min, uint32_t max,
    uint32_t *out, char **cause)
{
	char		*end;
	unsigned long	 n;

	if (*v < '0' || *v > '9')
		goto bad;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		goto bad;
	*out = (uint32_t)n;
	return 0;
bad:
	return cause_set(cause, "%s must be %u to %u, not '%s'", what,
		    min, max, v);
}

static int
get_bool(const char *v, const char *what, int *out, char **cause)
{
	if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0)
		*out = 0;
	else
		return cause_set(cause, "%s must be on or off, not '%s'", what,
		    v);
	return 0;
}

static int
set_node_id(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "node_id", 1, UINT32_MAX, &c->node_id, cause);
}

static int
set_node_name(struct omm_config *c, const char *v, char **cause)
{
	if (!ca_valid_name(v))
		return cause_set(cause, "node_name '%s' is not 1 to %d "
		    "letters, digits or '-'", v, CA_NAME_MAX);
	free(c->node_name);
	c->node_name = xstrdup(v);
	return 0;
}

static int
set_listen(struct omm_config *c, const char *v, char **cause)
{
	char	*why = NULL;

	if (node_addr_parse(v, OMM_LISTEN_PORT, &c->listen, &why) != 0) {
		cause_set(cause, "listen: %s", why);
		free(why);
		return -1;
	}
	c->fabric = 1;
	return 0;
}

static int
set_ca(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->ca, v, cause);
}

static int
set_cert(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->cert, v, cause);
}

static int
set_key(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->key, v, cause);
}

static int
set_crl(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->crl, v, cause);
}

static int
set_map(struct omm_config *c, const char *v, char **cause)
{
	return set_path(&c->map_path, v, cause);
}

static int
set_discovery(struct omm_config *c, const char *v, char **cause)
{
	return get_bool(v, "discovery", &c->discovery, cause);
}

static int
set_mcast_group(struct omm_config *c, const char *v, char **cause)
{
	struct node_addr	 a;
	char			*why = NULL;

	if (node_addr_parse(v, OMM_MCAST_PORT, &a, &why) != 0) {
		cause_set(cause, "mcast_group: %s", why);
		free(why);
		return -1;
	}
	/* 224.0.0.0/4 or ff00::/8 */
	if ((a.family == NODE_AF_INET && (a.addr[0] & 0xf0) != 0xe0) ||
	    (a.family == NODE_AF_INET6 && a.addr[0] != 0xff))
		return cause_set(cause, "mcast_group '%s' is not a multicast "
		    "address", v);
	c->mcast_group = a;
	return 0;
}

static int
set_mcast_if(struct omm_config *c, const char *v, char **cause)
{
	if (strlen(v) >= IF_NAMESIZE || strchr(v, '/') != NULL)
		return cause_set(cause, "mcast_if '%s' is not an interface "
		    "name", v);
	free(c->mcast_if);
	c->mcast_if = xstrdup(v);
	return 0;
}

/* "N" (every N ms) or "MIN-MAX" (drawn anew each time). */
static int
set_gossip_interval(struct omm_config *c, const char *v, char **cause)
{
	const char	*dash;
	char		*lo;
	uint32_t	 min = 0, max = 0;
	int		 rv;

	if ((dash = strchr(v, '-')) == NULL) {
		if (get_u32(v, "gossip_interval_ms", 10, 60000, &min,
		    cause) != 0)
			return -1;
		c->gossip_min_ms = c->gossip_max_ms = min;
		return 0;
	}
	lo = xstrndup(v, dash - v);
	rv = get_u32(lo, "gossip_interval_ms", 10, 60000, &min, cause);
	free(lo);
	if (rv != 0 || get_u32(dash + 1, "gossip_interval_ms", 10, 60000,
	    &max, cause) != 0)
		return -1;
	if (min > max)
		return cause_set(cause, "gossip_interval_ms %u-%u: the first "
		    "is larger", min, max);
	c->gossip_min_ms = min;
	c->gossip_max_ms = max;
	return 0;
}

/* A process younger than this is never moved by the balancer. */
static int
set_balance_min_age(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "balance_min_age_ms", 0, 86400000,
	    &c->balance_min_age_ms, cause);
}

static int
set_dead_after(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "dead_after_ms", 100, 3600000, &c->dead_after_ms,
	    cause);
}

static int
set_window(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "window", 2, WIRE_LOADWIN_MAX, &c->window, cause);
}

static int
set_speed(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "speed", 1, LV_SPEED_MAX, &c->speed, cause);
}

static int
set_load_cgroup(struct omm_config *c, const char *v, char **cause)
{
	if (strlen(v) >= LV_CGROUP_MAX)
		return cause_set(cause, "load_cgroup longer than %d bytes",
		    LV_CGROUP_MAX - 1);
	return set_path(&c->load_cgroup, v, cause);
}

static int
set_handshake_ms(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "handshake_timeout_ms", 100, 600000,
	    &c->handshake_ms, cause);
}

static int
set_handshake_per_source(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "handshake_per_source", 1, 65536,
	    &c->handshake_per_source, cause);
}

static int
set_handshake_max(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "handshake_max", 1, 65536, &c->handshake_max,
	    cause);
}

static int
set_control_per_user(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "control_per_user", 1, 65536, &c->control_per_user,
	    cause);
}

static int
set_control_max(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "control_max", 1, 65536, &c->control_max, cause);
}

static int
set_control_idle(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "control_idle_s", 1, 86400, &c->control_idle_s,
	    cause);
}

static int
set_log_repeat(struct omm_config *c, const char *v, char **cause)
{
	return get_u32(v, "log_repeat_s", 0, 3600, &c->log_repeat_s, cause);
}

/*
 * A size: a number of bytes with an optional K, M, G or T (powers of
 * 1024), or a percentage 1% to 100%.
 */
int
config_parse_size(const char *v, uint64_t *bytes, uint32_t *pct, char **cause)
{
	static const struct { char c; unsigned shift; } units[] = {
		{ 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
	};
	unsigned long long	 n;
	unsigned		 shift = 0;
	size_t			 i;
	char			*end;

	*bytes = 0;
	*pct = 0;
	if (*v < '0' || *v > '9')
		goto bad;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0)
		goto bad;
	if (end[0] == '%' && end[1] == '\0') {
		if (n < 1 || n > 100)
			return cause_set(cause, "'%s': a percentage is 1%% to "
			    "100%%", v);
		*pct = (uint32_t)n;
		return 0;
	}
	if (*end != '\0') {
		for (i = 0; i < sizeof units / sizeof units[0]; i++) {
			if ((*end == units[i].c || *end == units[i].c + 32) &&
			    (end[1] == '\0' || ((end[1] == 'B' || end[1] == 'b') &&
			    end[2] == '\0')))
				shift = units[i].shift;
		}
		if (shift == 0)
			goto bad;
	}
	if (n > (OMM_GUEST_MEMORY_MAX >> shift))
		return cause_set(cause, "'%s' is too large", v);
	*bytes = (uint64_t)n << shift;
	return 0;
bad:
	return cause_set(cause, "'%s' is not a size (bytes with K, M, G or T, "
	    "or a percentage such as 50%%)", v);
}

/* A guest's memory on this node (docs/config.md): bytes or a share. */
static int
set_guest_memory(struct omm_config *c, const char *v, char **cause)
{
	uint64_t	 bytes;
	uint32_t	 pct;
	char		*why = NULL;

	if (config_parse_size(v, &bytes, &pct, &why) == -1) {
		cause_set(cause, "guest_memory: %s", why);
		free(why);
		return -1;
	}
	if (pct == 0 && bytes < OMM_GUEST_MEMORY_MIN)
		return cause_set(cause, "guest_memory '%s' is under 1M", v);
	c->guest_memory = bytes;
	c->guest_memory_pct = pct;
	return 0;
}

uint64_t
config_guest_memory(const struct omm_config *c, uint64_t memtotal)
{
	if (c->guest_memory != 0)
		return c->guest_memory;
	return memtotal / 100 * c->guest_memory_pct +
	    memtotal % 100 * c->guest_memory_pct / 100;
}

/* Settings that only make sense together, checked once the file is read. */
static int
check_all(const struct omm_config *c, char **cause)
{
	if (!c->fabric && c->map_path != NULL)
		return cause_set(cause, "'map' needs 'listen' (the fabric is "
		    "off without it)");
	if (!c->fabric && c->discovery)
		return cause_set(cause, "'discovery' needs 'listen' (the "
		    "fabric is off without it)");
	if (c->dead_after_ms <= c->gossip_max_ms)
		return cause_set(cause, "dead_after_ms %u must exceed the "
		    "gossip interval (%u ms at most)", c->dead_after_ms,
		    c->gossip_max_ms);
	return 0;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trim spaces at both ends of [*s, *s + *n). */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

/*
 * One line, without its newline. Blank lines and lines whose first
 * non-blank is '#' are ignored; a '#' elsewhere is part of the value, so
 * paths may contain one.
 */
static int
parse_line(struct omm_config *c, const char *line, size_t n, unsigned *seen,
    char **cause)
{
	const struct conf_key	*k = NULL;
	const char		*eq, *key, *val;
	size_t			 klen, vlen, i;
	char			*v;
	int			 rv;

	trim(&line, &n);
	if (n == 0 || line[0] == '#')
		return 0;
	if (memchr(line, '\0', n) != NULL)
		return cause_set(cause, "NUL byte in line");
	if ((eq = memchr(line, '=', n)) == NULL)
		return cause_set(cause, "expected 'key = value'");
	key = line;
	klen = eq - line;
	trim(&key, &klen);
	val = eq + 1;
	vlen = n - (val - line);
	trim(&val, &vlen);
	if (klen == 0)
		return cause_set(cause, "missing key before '='");
	for (i = 0; i < NKEYS; i++) {
		if (strlen(conf_keys[i].name) == klen &&
		    memcmp(conf_keys[i].name, key, klen) == 0) {
			k = &conf_keys[i];
			break;
		}
	}
	if (k == NULL)
		return cause_set(cause, "unknown key '%.*s'", (int)klen, key);
	if (*seen & (1u << i))
		return cause_set(cause, "%s given twice", k->name);
	*seen |= 1u << i;
	if (vlen == 0)
		return cause_set(cause, "missing value for %s", k->name);
	v = xstrndup(val, vlen);
	rv = k->set(c, v, cause);
	free(v);
	return rv;
}

/* Parse text; name (a path) or "line" prefixes the line number in causes. */
static int
parse(struct omm_config *c, const char *name, const char *text, size_t len,
    char **cause)
{
	const char	*p = text, *end = text + len, *nl;
	unsigned	 lineno = 0, seen = 0;
	size_t		 n;
	char		*why = NULL;

	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n > CONF_MAX_LINE)
			cause_set(&why, "line longer than %d bytes",
			    CONF_MAX_LINE);
		else
			parse_line(c, p, n, &seen, &why);
		if (why != NULL) {
			if (name != NULL)
				cause_set(cause, "%s:%u: %s", name, lineno, why);
			else
				cause_set(cause, "line %u: %s", lineno, why);
			free(why);
			return -1;
		}
		p = nl + 1;
	}
	if (check_all(c, &why) != 0) {
		if (name != NULL)
			cause_set(cause, "%s: %s", name, why);
		else
			cause_set(cause, "%s", why);
		free(why);
		return -1;
	}
	return 0;
}

int
config_parse(struct omm_config *c, const char *text, size_t len, char **cause)
{
	return parse(c, NULL, text, len, cause);
}

int
config_load(struct omm_config *c, const char *path, int must_exist,
    char **cause)
{
	struct stat	 st;
	char		*text = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		cause_set(cause, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cause_set(cause, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		cause_set(cause, "%s: %jd bytes, at most %u", path,
		    (intmax_t)st.st_size, CONF_MAX_SIZE);
		goto out;
	}
	/* one byte more than the cap, to see a file that grew meanwhile */
	text = xmalloc(CONF_MAX_SIZE + 1);
	for (;;) {
		n = read(fd, text + off, CONF_MAX_SIZE + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		off += n;
		if (off > CONF_MAX_SIZE) {
			cause_set(cause, "%s: larger than %u bytes", path,
			    CONF_MAX_SIZE);
			goto out;
		}
	}
	rv = parse(c, path, text, off, cause);
out:
	free(text);
	close(fd);
	return rv;
}
