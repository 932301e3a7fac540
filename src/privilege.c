/* privilege.c: the kernel's ptrace attach rule and privilege gains, over /proc credentials. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/privilege.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#define YAMA_SCOPE_PATH	"/proc/sys/kernel/yama/ptrace_scope"
#define YAMA_ADMIN	2	/* CAP_SYS_PTRACE only */
#define YAMA_NONE	3	/* no attach at all */

/* The four ids, named as the refusals say them (real first). */
static const char *const id_names[4] = {
	"belongs to", "runs with effective", "has saved", "has filesystem",
};

int
priv_may_attach(uint32_t uid, uint32_t gid, const struct priv_creds *t,
    int yama_scope, char **why)
{
	int	i;

	if (yama_scope >= YAMA_NONE)
		return cause_set(why, "may not be traced by anyone "
		    "(kernel.yama.ptrace_scope is %d)", yama_scope);
	if (uid == 0)
		return 0;
	if (yama_scope == YAMA_ADMIN)
		return cause_set(why, "may be traced by root only "
		    "(kernel.yama.ptrace_scope is 2)");
	for (i = 0; i < 4; i++) {
		if (t->uid[i] != uid)
			return cause_set(why, "%s uid %u", id_names[i],
			    t->uid[i]);
	}
	for (i = 0; i < 4; i++) {
		if (t->gid[i] != gid)
			return cause_set(why, "%s gid %u", id_names[i],
			    t->gid[i]);
	}
	if (t->cap_prm != 0)
		return cause_set(why, "holds capabilities (CapPrm %016llx)",
		    (unsigned long long)t->cap_prm);
	if (!t->dumpable)
		return cause_set(why, "is not dumpable");
	return 0;
}

static int
ids_mixed(const uint32_t ids[4])
{
	return ids[1] != ids[0] || ids[2] != ids[0] || ids[3] != ids[0];
}

enum priv_kind
priv_gained(const struct priv_creds *c, uint32_t owner_uid, uint32_t owner_gid)
{
	if (ids_mixed(c->uid))
		return PRIV_SETUID;
	if (ids_mixed(c->gid))
		return PRIV_SETGID;
	if (owner_uid != 0 && c->uid[0] != owner_uid)
		return PRIV_OTHER_UID;
	if (owner_uid != 0 && c->gid[0] != owner_gid)
		return PRIV_OTHER_GID;
	if (c->uid[0] != 0 && c->cap_prm != 0)
		return PRIV_CAPS;
	if (!c->dumpable)
		return PRIV_NODUMP;
	return PRIV_NONE;
}

char *
priv_describe(enum priv_kind kind, const char *exe, const struct priv_creds *c,
    uint32_t owner_uid, uint32_t owner_gid, int at_exec)
{
	char	*name, *s = NULL, *p;

	/* it reaches terminals through omctl ps */
	name = xstrdup(exe != NULL && *exe != '\0' ? exe : "?");
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	switch (kind) {
	case PRIV_NONE:
		break;
	case PRIV_SETUID:
		if (at_exec)
			xasprintf(&s, "runs set-uid %s", name);
		else
			xasprintf(&s, "runs %s with uids %u %u %u %u", name,
			    c->uid[0], c->uid[1], c->uid[2], c->uid[3]);
		break;
	case PRIV_SETGID:
		if (at_exec)
			xasprintf(&s, "runs set-gid %s", name);
		else
			xasprintf(&s, "runs %s with gids %u %u %u %u", name,
			    c->gid[0], c->gid[1], c->gid[2], c->gid[3]);
		break;
	case PRIV_OTHER_UID:
		xasprintf(&s, "runs %s as uid %u, not as its owner (uid %u)",
		    name, c->uid[0], owner_uid);
		break;
	case PRIV_OTHER_GID:
		xasprintf(&s, "runs %s as gid %u, not as its owner (gid %u)",
		    name, c->gid[0], owner_gid);
		break;
	case PRIV_CAPS:
		if (at_exec)
			xasprintf(&s, "runs %s with file capabilities", name);
		else
			xasprintf(&s, "runs %s with capabilities (CapPrm "
			    "%016llx)", name, (unsigned long long)c->cap_prm);
		break;
	case PRIV_NODUMP:
		xasprintf(&s, "runs %s and is not dumpable", name);
		break;
	}
	free(name);
	return s;
}

int
priv_read(pid_t pid, struct priv_creds *c, char **cause)
{
	struct procfs_status	ps;
	struct stat		st;
	char			path[64];

	memset(c, 0, sizeof *c);
	/* not /proc/PID itself: the kernel leaves that to the effective ids */
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return cause_set(cause, "no such process %d", (int)pid);
		return cause_set(cause, "%s: %s", path, strerror(errno));
	}
	if (procfs_status(pid, &ps, cause) == -1)
		return -1;
	memcpy(c->uid, ps.uid, sizeof c->uid);
	memcpy(c->gid, ps.gid, sizeof c->gid);
	c->cap_prm = ps.has_caps ? ps.cap_prm : 0;
	/*
	 * task_dump_owner(): /proc/PID/status belongs to the effective ids
	 * of a dumpable process, to root:root otherwise.
	 */
	c->dumpable = !(st.st_uid == 0 && st.st_gid == 0) ||
	    (ps.uid[1] == 0 && ps.gid[1] == 0);
	return 0;
}

int
priv_yama_scope(void)
{
	char	buf[16];
	ssize_t	n;
	int	fd;

	if ((fd = open(YAMA_SCOPE_PATH, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : YAMA_NONE;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 2 || buf[0] < '0' || buf[0] > '3' || buf[1] != '\n')
		return YAMA_NONE;
	return buf[0] - '0';
}
