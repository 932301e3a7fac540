/*
 * holder.c: what the deputy becomes when its process comes home. It execs
 * ommd in holder mode, which wipes everything the deputy had in memory (the
 * node's key among it) but keeps its descriptors, cwd and umask: those are
 * the process's now. Being a plain process of the owner's, the process can
 * take the descriptors from it with pidfd_getfd (ckpt_adopt_fds), which
 * ommd injects. Close-on-exec flags do not survive an exec, so the list of
 * descriptors that had one travels in argv and is set again here.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "depmsg.h"
#include "deputyd.h"

int
open_cwd(pid_t pid)
{
	char	path[64];

	snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void
deputyd_become_holder(int ctl, int floor)
{
	char	*list = xstrdup(""), *tmp, arg[16];
	int	*fds, fl;
	size_t	 n, i;
	char	*cause = NULL;

	if (procfs_fds(getpid(), &fds, &n, &cause) == -1) {
		depmsg_sendf(ctl, DM_FAILED, 0, 0, "holder: %s", cause);
		_exit(1);
	}
	for (i = 0; i < n; i++) {
		if (fds[i] >= floor || fds[i] == ctl)
			continue;
		if ((fl = fcntl(fds[i], F_GETFD)) == -1 || !(fl & FD_CLOEXEC))
			continue;
		fcntl(fds[i], F_SETFD, 0);
		xasprintf(&tmp, "%s%s%d", list, *list ? "," : "", fds[i]);
		free(list);
		list = tmp;
	}
	free(fds);
	/* the holder's channel is low enough for the descriptors it keeps */
	fcntl(ctl, F_SETFD, 0);
	snprintf(arg, sizeof arg, "%d", ctl);
	execl("/proc/self/exe", "ommd", "--hold", arg, list, (char *)NULL);
	depmsg_sendf(ctl, DM_FAILED, 0, 0, "holder: exec: %s", strerror(errno));
	_exit(1);
}

int
deputyd_holder_main(int argc, char **argv)
{
	char	*s, *e;
	long	 fd, ctl;

	if (argc != 4)
		return 2;
	ctl = strtol(argv[2], &e, 10);
	if (*e != '\0' || ctl < 0 || ctl > INT_MAX)
		return 2;
	for (s = argv[3]; *s != '\0'; s = e) {
		fd = strtol(s, &e, 10);
		if (e == s || fd < 0 || fd > INT_MAX)
			return 2;
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		if (*e == ',')
			e++;
	}
	fcntl((int)ctl, F_SETFD, FD_CLOEXEC);
	if (depmsg_sendf((int)ctl, DM_HOLDING, 0, 0, NULL) == -1)
		return 1;
	close((int)ctl);
	for (;;)
		pause();
}
