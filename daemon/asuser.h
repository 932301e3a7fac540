/*
 * asuser.h: file operations done with a user's credentials.
 *
 * ommd is root, but a file it writes for a user (a periodic checkpoint)
 * must go only where that user could write it. Each operation runs in a
 * short-lived child that drops to the user's uid, gid and groups first;
 * an opened file comes back over a socketpair.
 */
#ifndef OMMD_ASUSER_H
#define OMMD_ASUSER_H

#include <sys/types.h>

struct owner {
	uid_t	 uid;
	gid_t	 gid;
	int	 ngroups;
	gid_t	*groups;
};

/* Fill o with the credentials of process pid (real ids and groups). */
int	owner_of(pid_t, struct owner *, char **cause)
	    __attribute__((warn_unused_result));
void	owner_free(struct owner *);

int	asuser_open(const struct owner *, const char *path, int flags,
	    mode_t mode, int *fd, char **cause) __attribute__((warn_unused_result));
/* rename(from, to); a missing from is fine when missing_ok. */
int	asuser_rename(const struct owner *, const char *from, const char *to,
	    int missing_ok, char **cause) __attribute__((warn_unused_result));
int	asuser_unlink(const struct owner *, const char *path, char **cause)
	    __attribute__((warn_unused_result));

#endif
