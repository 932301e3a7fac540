/* omctl-lock.c: omctl lock PID / unlock PID: pin a process home, or let it go again. */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/proto.h"

#include "omctl.h"

/* One body for both: the command's name says which. */
static int
cmd_lock(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const uint16_t	 want[] = { MSG_OK, 0 };
	struct client		*c;
	struct proto_msg	 m;
	struct msg_lock		 req;
	struct buf		 b;
	char			*cause = NULL;
	int			 rv = 1;

	req.on = strcmp(self->name, "lock") == 0;
	if (argc != 2) {
		omctl_usage(self);
		return OMCTL_EXIT_USAGE;
	}
	if (omctl_parse_pid(argv[1], &req.pid) != 0) {
		omctl_error("%s: invalid pid '%s'", self->name, argv[1]);
		return OMCTL_EXIT_USAGE;
	}
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	buf_init(&b);
	proto_encode_lock(&b, &req);
	if (client_send(c, &b, -1, &cause) != 0 ||
	    client_recv(c, want, &m, CLIENT_TIMEOUT_MS, &cause) != 0)
		omctl_error("%s %d: %s", self->name, (int)req.pid, cause);
	else {
		printf("%s %d\n", req.on ? "locked" : "unlocked",
		    (int)req.pid);
		rv = 0;
	}
	buf_free(&b);
	free(cause);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_lock_entry = {
	.name = "lock",
	.alias = NULL,
	.usage = "PID",
	.help = "keep a process where it is: the balancer does not move it",
	.exec = cmd_lock,
};

const struct omctl_cmd cmd_unlock_entry = {
	.name = "unlock",
	.alias = NULL,
	.usage = "PID",
	.help = "let the balancer move a locked process again",
	.exec = cmd_lock,
};
