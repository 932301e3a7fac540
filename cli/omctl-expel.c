/* omctl-expel.c: omctl expel: send every guest home and refuse new ones (root). */
#include <stdio.h>
#include <stdlib.h>

#include "omm/client.h"
#include "omm/proto.h"

#include "omctl.h"

static int
cmd_expel(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	struct proto_msg	 m;
	struct msg_count	 rep;
	struct client		*c;
	char			*cause = NULL;
	int			 rv = 1;

	if (argc != 1)
		return omctl_usage(self);
	if (omctl_simple(ctx, "expel", MSG_EXPEL, MSG_EXPELLED, &m, &c) != 0)
		return 1;
	if (proto_decode_count(&m, &rep, &cause) != 0)
		omctl_error("expel: %s", cause);
	else {
		printf("expelled %u guests; arrivals blocked (omctl set block "
		    "off lets them in again)\n", rep.count);
		rv = 0;
	}
	free(cause);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_expel_entry = {
	.name = "expel",
	.alias = NULL,
	.usage = "",
	.help = "send this node's guests home and refuse new ones (root)",
	.exec = cmd_expel,
};
