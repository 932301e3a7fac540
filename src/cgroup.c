/* cgroup.c: control groups, v2 or a v1 hierarchy (cgroup.h). */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/cgroup.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#define CG_FILE_MAX	(64U << 10)	/* mountinfo, cgroup, memory.stat */

/* A whole small file, NUL-terminated; NULL with errno. */
static char *
slurp(const char *path)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(CG_FILE_MAX + 1);
	while (len < CG_FILE_MAX) {
		n = read(fd, buf + len, CG_FILE_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Is word one of the words of list (separated by any of seps)? */
static int
has_word(const char *list, const char *word, const char *seps)
{
	size_t		 wl = strlen(word), n;
	const char	*p = list;

	while (*p != '\0') {
		n = strcspn(p, seps);
		if (n == wl && strncmp(p, word, wl) == 0)
			return 1;
		p += n;
		if (*p != '\0')
			p++;
	}
	return 0;
}

/* mnt + path below the mount's root; -1 when it does not fit. */
static int
join(char *out, size_t len, const char *mnt, const char *root,
    const char *path)
{
	size_t	rl = strlen(root);

	if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0 &&
	    (path[rl] == '/' || path[rl] == '\0'))
		path += rl;
	if (strcmp(path, "/") == 0)
		path = "";
	return snprintf(out, len, "%s%s", mnt, path) >= (int)len ? -1 : 0;
}

/*
 * The mount of a cgroup hierarchy in mountinfo: v2 (controller NULL) or
 * the v1 one whose options hold controller. 0 and mnt, root; -1.
 */
static int
find_mount(const char *mountinfo, const char *controller, char *mnt,
    char *root, size_t len)
{
	const char	*line = mountinfo, *nl, *dash;
	char		 f[5][PATH_MAX], type[64], super[1024];
	char		*l;
	int		 found = 0;

	while (!found && *line != '\0') {
		nl = strchr(line, '\n');
		l = xstrndup(line, nl != NULL ? (size_t)(nl - line) : strlen(line));
		line = nl != NULL ? nl + 1 : line + strlen(line);
		if ((dash = strstr(l, " - ")) == NULL ||
		    sscanf(l, "%4095s %4095s %4095s %4095s %4095s", f[0], f[1],
		    f[2], f[3], f[4]) != 5 ||
		    sscanf(dash + 3, "%63s %*s %1023s", type, super) != 2) {
			free(l);
			continue;
		}
		if (controller == NULL ? strcmp(type, "cgroup2") == 0 :
		    strcmp(type, "cgroup") == 0 && has_word(super, controller,
		    ",")) {
			snprintf(mnt, len, "%s", f[4]);
			snprintf(root, len, "%s", f[3]);
			found = 1;
		}
		free(l);
	}
	return found ? 0 : -1;
}

/* The path of the group in /proc/PID/cgroup for v2 ("0::") or controller. */
static int
find_group(const char *cgroup, const char *controller, char *out, size_t len)
{
	const char	*line = cgroup, *nl, *c1, *c2;
	char		*l, *ctls;
	int		 found = 0;

	while (!found && *line != '\0') {
		nl = strchr(line, '\n');
		l = xstrndup(line, nl != NULL ? (size_t)(nl - line) : strlen(line));
		line = nl != NULL ? nl + 1 : line + strlen(line);
		if ((c1 = strchr(l, ':')) != NULL &&
		    (c2 = strchr(c1 + 1, ':')) != NULL) {
			ctls = xstrndup(c1 + 1, c2 - c1 - 1);
			if (controller == NULL ? (strncmp(l, "0:", 2) == 0 &&
			    *ctls == '\0') : has_word(ctls, controller, ",")) {
				snprintf(out, len, "%s", c2 + 1);
				found = 1;
			}
			free(ctls);
		}
		free(l);
	}
	return found ? 0 : -1;
}

int
cg_find_in(struct cg_tree *t, const char *controller, const char *mountinfo,
    const char *cgroup, const char *v2root_ctl, char **cause)
{
	char	mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX];
	int	v2 = find_mount(mountinfo, NULL, mnt, root, sizeof mnt) == 0;

	memset(t, 0, sizeof *t);
	if (v2 && v2root_ctl != NULL && has_word(v2root_ctl, controller,
	    " \n")) {
		if (find_group(cgroup, NULL, path, sizeof path) == -1)
			return cause_set(cause, "cgroup v2 is mounted on %s but "
			    "this process is in no v2 group", mnt);
		t->kind = CG_V2;
		snprintf(t->mnt, sizeof t->mnt, "%s", mnt);
		if (join(t->group, sizeof t->group, mnt, root, path) == -1)
			return cause_set(cause, "cgroup path too long");
		return 0;
	}
	if (find_mount(mountinfo, controller, mnt, root, sizeof mnt) == 0 &&
	    find_group(cgroup, controller, path, sizeof path) == 0) {
		t->kind = CG_V1;
		snprintf(t->mnt, sizeof t->mnt, "%s", mnt);
		if (join(t->group, sizeof t->group, mnt, root, path) == -1)
			return cause_set(cause, "cgroup path too long");
		return 0;
	}
	if (v2)
		return cause_set(cause, "no cgroup %s controller: cgroup v2 on %s "
		    "does not offer it (its cgroup.controllers: %.*s) and no "
		    "cgroup v1 hierarchy holds it", controller, mnt,
		    v2root_ctl != NULL ? (int)strcspn(v2root_ctl, "\n") : 4,
		    v2root_ctl != NULL ? v2root_ctl : "none");
	return cause_set(cause, "no cgroup %s controller: neither cgroup v2 "
	    "nor a cgroup v1 %s hierarchy is mounted", controller, controller);
}

int
cg_find(struct cg_tree *t, const char *controller, pid_t pid, char **cause)
{
	char	 mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX + 32];
	char	*mi, *cg, *ctl = NULL;
	int	 rc;

	if ((mi = slurp("/proc/self/mountinfo")) == NULL)
		return cause_set(cause, "/proc/self/mountinfo: %s",
		    strerror(errno));
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if ((cg = slurp(path)) == NULL) {
		free(mi);
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	if (find_mount(mi, NULL, mnt, root, sizeof mnt) == 0) {
		snprintf(path, sizeof path, "%s/cgroup.controllers", mnt);
		ctl = slurp(path);
	}
	rc = cg_find_in(t, controller, mi, cg, ctl, cause);
	free(ctl);
	free(cg);
	free(mi);
	return rc;
}

int
cg_has(const char *dir, const char *file, const char *controller)
{
	char	path[PATH_MAX + 64], *text;
	int	rc;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((text = slurp(path)) == NULL)
		return 0;
	rc = has_word(text, controller, " \n");
	free(text);
	return rc;
}

int
cg_create(const char *dir, char **cause)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return cause_set(cause, "mkdir %s: %s", dir, strerror(errno));
	return 0;
}

int
cg_write(const char *dir, const char *file, const char *value, char **cause)
{
	char	path[PATH_MAX + 64];
	size_t	n = strlen(value);
	ssize_t	w;
	int	fd, e;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	do
		w = write(fd, value, n);
	while (w == -1 && errno == EINTR);
	e = errno;
	close(fd);
	if (w != (ssize_t)n) {
		cause_set(cause, "writing '%s' to %s: %s", value, path,
		    w == -1 ? strerror(e) : "short write");
		errno = w == -1 ? e : EIO;
		return -1;
	}
	return 0;
}

int
cg_attach(const char *dir, pid_t pid, char **cause)
{
	char	v[32];

	snprintf(v, sizeof v, "%d", (int)pid);
	return cg_write(dir, "cgroup.procs", v, cause);
}

int
cg_read_u64(const char *dir, const char *file, const char *key,
    uint64_t *out, char **cause)
{
	char		 path[PATH_MAX + 64], *text, *p, *end;
	size_t		 kl;
	int		 rc = -1;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((text = slurp(path)) == NULL)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	p = text;
	if (key != NULL) {
		kl = strlen(key);
		for (p = text; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : p) {
			if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
				break;
		}
		if (p == NULL) {
			cause_set(cause, "%s: no %s", path, key);
			goto out;
		}
		p += kl + 1;
	}
	if (strncmp(p, "max", 3) == 0 && (p[3] == '\n' || p[3] == '\0')) {
		*out = UINT64_MAX;
		rc = 0;
		goto out;
	}
	errno = 0;
	*out = strtoull(p, &end, 10);
	if (errno != 0 || end == p || (*end != '\n' && *end != '\0' &&
	    *end != ' ')) {
		cause_set(cause, "%s: not a number%s%s", path, key ? " for " : "",
		    key ? key : "");
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int
cg_remove(const char *dir, int wait_ms, char **cause)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		waited = 0;

	while (rmdir(dir) == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || waited >= wait_ms)
			return cause_set(cause, "rmdir %s: %s", dir,
			    strerror(errno));
		nanosleep(&ts, NULL);
		waited += 10;
	}
	return 0;
}

int
cg_make_base(const struct cg_tree *t, pid_t pid, const char *leaf,
    const char *controller, char *base, size_t len, char **cause)
{
	const char	*slash = strrchr(t->group, '/');
	char		 sub[PATH_MAX + 64], want[64];

	snprintf(base, len, "%s", t->group);
	if (t->kind != CG_V2)
		return 0;		/* v1: no rule against processes */
	if (strcmp(t->group, t->mnt) == 0) {
		/* the root may hold processes and hand controllers down */
		if (cg_has(base, "cgroup.subtree_control", controller))
			return 0;
		snprintf(want, sizeof want, "+%s", controller);
		return cg_write(base, "cgroup.subtree_control", want, cause);
	}
	/* already in our leaf (restarted): the group above is the base */
	if (slash != NULL && strcmp(slash + 1, leaf) == 0 &&
	    (size_t)(slash - t->group) < len) {
		memcpy(base, t->group, slash - t->group);
		base[slash - t->group] = '\0';
	} else {
		snprintf(sub, sizeof sub, "%s/%s", base, leaf);
		if (cg_create(sub, cause) == -1 || cg_attach(sub, pid, cause) == -1)
			return -1;
	}
	if (!cg_has(base, "cgroup.controllers", controller))
		return cause_set(cause, "the cgroup v2 %s controller is not "
		    "enabled for %s (its parent's cgroup.subtree_control lacks "
		    "it)", controller, base);
	if (cg_has(base, "cgroup.subtree_control", controller))
		return 0;
	snprintf(want, sizeof want, "+%s", controller);
	if (cg_write(base, "cgroup.subtree_control", want, NULL) == -1)
		return cause_set(cause, "cannot enable the cgroup v2 %s "
		    "controller below %s: %s%s", controller, base,
		    strerror(errno), errno == EBUSY ? " (the group holds other "
		    "processes: cgroup v2 hands controllers down only from a "
		    "group without processes; run ommd in a group of its own, "
		    "systemd: Delegate=yes)" : "");
	return 0;
}
