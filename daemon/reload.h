/*
 * reload.h: SIGHUP and `omctl reload`: ommd.conf and the TLS files read
 * again without a restart. What a running ommd can take (verbose, the
 * limits, the TLS files: docs/config.md) is applied; every other changed
 * key is named as needing a restart; a node whose certificate the new
 * files refuse (revoked) loses its links. The answer lists all of it,
 * and the log says it line by line.
 */
#ifndef OMMD_RELOAD_H
#define OMMD_RELOAD_H

#include "omm/config.h"
#include "omm/proto.h"

/*
 * The running config (kept and updated in place), where it came from and
 * whether it must exist, whether -s fixed the socket, and the -v count.
 */
void	reload_init(struct omm_config *running, const char *path,
	    int must_exist, int socket_fixed, int verbose_opts);
/* The limits of a config, applied to control.c, peer.c, host.c and the log. */
void	reload_apply_limits(const struct omm_config *);
/*
 * Reload now. -1 and a cause when ommd.conf cannot be read or parsed
 * (nothing changes); else 0 and what was done in out (proto_free_reloaded).
 */
int	reload_run(struct msg_reloaded *out, char **cause)
	    __attribute__((warn_unused_result));

#endif
