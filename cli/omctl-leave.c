/* omctl-leave.c: omctl leave and omctl join: take this node out of the cluster and back (root). */
#include <stdio.h>

#include "omm/proto.h"

#include "omctl.h"

static int
cmd_leave(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	if (argc != 1)
		return omctl_usage(self);
	if (omctl_simple(ctx, "leave", MSG_LEAVE, 0, NULL, NULL) != 0)
		return 1;
	printf("left the cluster (omctl join brings this node back)\n");
	return 0;
}

static int
cmd_join(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	if (argc != 1)
		return omctl_usage(self);
	if (omctl_simple(ctx, "join", MSG_JOIN, 0, NULL, NULL) != 0)
		return 1;
	printf("joined the cluster\n");
	return 0;
}

const struct omctl_cmd cmd_leave_entry = {
	.name = "leave",
	.alias = NULL,
	.usage = "",
	.help = "leave the cluster (root): guests go home, no gossip, no "
	    "guests",
	.exec = cmd_leave,
};

const struct omctl_cmd cmd_join_entry = {
	.name = "join",
	.alias = NULL,
	.usage = "",
	.help = "join the cluster again after leave (root)",
	.exec = cmd_join,
};
