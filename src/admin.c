/* admin.c: the runtime admin settings, their values and their file. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/admin.h"
#include "omm/loadvec.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define ADMIN_MAX_SIZE	4096	/* a few short lines; refuse junk */

enum admin_kind {
	KIND_FLAG,	/* on/off, a bit of flags */
	KIND_ONOFF,	/* on/off, a field of its own (admin_apply says which) */
	KIND_NUMBER,	/* 0..max */
};

/*
 * Every setting: its name in omctl and in the file, its kind, the LV_*
 * bit of a flag or the range of a number (0 always allowed: unset).
 */
static const struct admin_ent {
	uint16_t	 setting;
	const char	*name;
	enum admin_kind	 kind;
	uint32_t	 flag;
	uint32_t	 min;
	uint32_t	 max;
} admin_table[] = {
	{ ADMIN_SPEED,	   "speed",	KIND_NUMBER, 0, 1, LV_SPEED_MAX },
	{ ADMIN_BLOCK,	   "block",	KIND_FLAG, LV_BLOCK, 0, 1 },
	{ ADMIN_STAY,	   "stay",	KIND_FLAG, LV_STAY, 0, 1 },
	{ ADMIN_LSTAY,	   "lstay",	KIND_FLAG, LV_LSTAY, 0, 1 },
	{ ADMIN_QUIET,	   "quiet",	KIND_FLAG, LV_QUIET, 0, 1 },
	{ ADMIN_LOADLIMIT, "loadlimit",	KIND_NUMBER, 0, 1, ADMIN_LOADLIMIT_MAX },
	{ ADMIN_BALANCE,   "balance",	KIND_ONOFF, 0, 0, 1 },
};
#define NADMIN	(sizeof admin_table / sizeof admin_table[0])

static const struct admin_ent *
ent_find(uint16_t setting)
{
	size_t	i;

	for (i = 0; i < NADMIN; i++) {
		if (admin_table[i].setting == setting)
			return &admin_table[i];
	}
	return NULL;
}

void
admin_defaults(struct admin *a)
{
	memset(a, 0, sizeof *a);
}

const char *
admin_setting_name(uint16_t setting)
{
	const struct admin_ent	*e = ent_find(setting);

	return e == NULL ? NULL : e->name;
}

uint16_t
admin_setting_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < NADMIN; i++) {
		if (strcmp(admin_table[i].name, name) == 0)
			return admin_table[i].setting;
	}
	return 0;
}

int
admin_value_parse(uint16_t setting, const char *text, uint32_t *value,
    char **cause)
{
	const struct admin_ent	*e = ent_find(setting);
	char			*end;
	unsigned long		 v;

	if (e == NULL)
		return cause_set(cause, "unknown setting %u", setting);
	if (e->kind != KIND_NUMBER) {
		if (strcmp(text, "on") == 0)
			*value = 1;
		else if (strcmp(text, "off") == 0)
			*value = 0;
		else
			return cause_set(cause, "%s must be on or off, not "
			    "'%s'", e->name, text);
		return 0;
	}
	if (strcmp(text, "auto") == 0 || strcmp(text, "none") == 0) {
		*value = 0;
		return 0;
	}
	if (*text < '0' || *text > '9')
		goto bad;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > e->max || (v != 0 && v < e->min))
		goto bad;
	*value = (uint32_t)v;
	return 0;
bad:
	return cause_set(cause, "%s must be %u to %u (or %s), not '%s'",
	    e->name, e->min, e->max, setting == ADMIN_SPEED ? "auto" : "none",
	    text);
}

int
admin_apply(struct admin *a, uint16_t setting, uint32_t value, char **cause)
{
	const struct admin_ent	*e = ent_find(setting);

	if (e == NULL)
		return cause_set(cause, "unknown setting %u", setting);
	if (value > e->max || (e->kind == KIND_NUMBER && value != 0 &&
	    value < e->min))
		return cause_set(cause, "%s %u is out of range", e->name,
		    value);
	switch (setting) {
	case ADMIN_SPEED:
		a->speed = value;
		break;
	case ADMIN_LOADLIMIT:
		a->loadlimit = value;
		break;
	case ADMIN_BALANCE:
		a->nobalance = !value;
		break;
	default:
		if (value)
			a->flags |= e->flag;
		else
			a->flags &= ~e->flag;
		break;
	}
	return 0;
}

uint32_t
admin_get(const struct admin *a, uint16_t setting)
{
	const struct admin_ent	*e = ent_find(setting);

	if (e == NULL)
		return 0;
	switch (setting) {
	case ADMIN_SPEED:
		return a->speed;
	case ADMIN_LOADLIMIT:
		return a->loadlimit;
	case ADMIN_BALANCE:
		return !a->nobalance;
	}
	return (a->flags & e->flag) != 0;
}

/* One line of the file: "key value", or "left yes|no". */
static int
parse_line(struct admin *a, char *line, char **cause)
{
	char		*key, *val, *extra, *save = NULL;
	uint16_t	 setting;
	uint32_t	 v;

	if ((key = strtok_r(line, " \t\r", &save)) == NULL || *key == '#')
		return 0;
	if ((val = strtok_r(NULL, " \t\r", &save)) == NULL)
		return cause_set(cause, "%s without a value", key);
	if ((extra = strtok_r(NULL, " \t\r", &save)) != NULL)
		return cause_set(cause, "junk after %s %s", key, val);
	if (strcmp(key, "left") == 0) {
		if (strcmp(val, "yes") == 0)
			a->left = 1;
		else if (strcmp(val, "no") == 0)
			a->left = 0;
		else
			return cause_set(cause, "left must be yes or no");
		return 0;
	}
	if ((setting = admin_setting_lookup(key)) == 0)
		return cause_set(cause, "unknown setting '%s'", key);
	if (admin_value_parse(setting, val, &v, cause) != 0)
		return -1;
	return admin_apply(a, setting, v, cause);
}

int
admin_parse(struct admin *a, const char *text, size_t len, char **cause)
{
	const char	*p = text, *end = text + len, *nl;
	char		 line[128], *why = NULL;
	unsigned	 lineno = 0;
	size_t		 n;

	admin_defaults(a);
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n >= sizeof line)
			cause_set(&why, "line too long");
		else if (memchr(p, '\0', n) != NULL)
			cause_set(&why, "NUL byte in line");
		else {
			memcpy(line, p, n);
			line[n] = '\0';
			parse_line(a, line, &why);
		}
		if (why != NULL) {
			cause_set(cause, "line %u: %s", lineno, why);
			free(why);
			admin_defaults(a);
			return -1;
		}
		p = nl + 1;
	}
	return 0;
}

void
admin_format(const struct admin *a, struct buf *b)
{
	char	line[128];
	size_t	i;
	int	n;

	n = snprintf(line, sizeof line, "# omm admin settings: written by "
	    "ommd (omctl set), read at its start\n");
	buf_add(b, line, n);
	for (i = 0; i < NADMIN; i++) {
		uint32_t	v = admin_get(a, admin_table[i].setting);

		if (admin_table[i].kind != KIND_NUMBER)
			n = snprintf(line, sizeof line, "%s %s\n",
			    admin_table[i].name, v ? "on" : "off");
		else
			n = snprintf(line, sizeof line, "%s %u\n",
			    admin_table[i].name, v);
		buf_add(b, line, n);
	}
	n = snprintf(line, sizeof line, "left %s\n", a->left ? "yes" : "no");
	buf_add(b, line, n);
}

int
admin_load(struct admin *a, const char *path, char **cause)
{
	char	 text[ADMIN_MAX_SIZE + 1], *why = NULL;
	size_t	 off = 0;
	ssize_t	 n;
	int	 fd, rv;

	admin_defaults(a);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		n = read(fd, text + off, sizeof text - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		off += n;
		if (off == sizeof text) {
			close(fd);
			return cause_set(cause, "%s: larger than %d bytes",
			    path, ADMIN_MAX_SIZE);
		}
	}
	close(fd);
	if ((rv = admin_parse(a, text, off, &why)) != 0) {
		cause_set(cause, "%s: %s", path, why);
		free(why);
	}
	return rv;
}

int
admin_save(const struct admin *a, const char *path, char **cause)
{
	struct buf	 b;
	char		*tmp, *dir;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, dfd, rv = -1;

	xasprintf(&tmp, "%s.tmp", path);
	buf_init(&b);
	admin_format(a, &b);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		cause_set(cause, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < b.len) {
		n = write(fd, b.data + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cause_set(cause, "%s: %s", tmp, strerror(errno));
			close(fd);
			goto out_unlink;
		}
		off += n;
	}
	if (fsync(fd) == -1) {
		cause_set(cause, "fsync %s: %s", tmp, strerror(errno));
		close(fd);
		goto out_unlink;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		cause_set(cause, "rename %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	/* the rename itself must reach the disk too */
	dir = xstrdup(path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	rv = 0;
	goto out;

out_unlink:
	unlink(tmp);
out:
	free(tmp);
	buf_free(&b);
	return rv;
}
