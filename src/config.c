/* config.c: ommd.conf, "key = value" lines checked against a table of keys. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/config.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define CONF_MAX_SIZE	(64u << 10)	/* a config is a few lines; refuse junk */
#define CONF_MAX_LINE	4096
#define CONF_MAX_VERBOSE 9

static int	set_path(char **, const char *, char **);
static int	set_socket(struct omm_config *, const char *, char **);
static int	set_state_dir(struct omm_config *, const char *, char **);
static int	set_verbose(struct omm_config *, const char *, char **);
static int	set_log(struct omm_config *, const char *, char **);

/*
 * The keys ommd.conf knows. set() checks and stores a value; its cause
 * names only the value, the parser adds where it was.
 */
static const struct conf_key {
	const char	*name;
	int		(*set)(struct omm_config *, const char *, char **);
} conf_keys[] = {
	{ "socket",	set_socket },
	{ "state_dir",	set_state_dir },
	{ "verbose",	set_verbose },
	{ "log",	set_log },
};
#define NKEYS	(sizeof conf_keys / sizeof conf_keys[0])

void
config_defaults(struct omm_config *c)
{
	c->socket_path = xstrdup(OMM_SOCK_PATH);
	c->state_dir = xstrdup(OMM_STATE_DIR);
	c->verbose = 0;
	c->log_syslog = 1;
}

void
config_free(struct omm_config *c)
{
	free(c->socket_path);
	free(c->state_dir);
	c->socket_path = c->state_dir = NULL;
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
