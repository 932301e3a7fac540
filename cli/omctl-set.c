/* omctl-set.c: omctl set SETTING VALUE: openMosix's mosctl settings, root only. */
#include <stdio.h>
#include <stdlib.h>

#include "omm/admin.h"
#include "omm/client.h"
#include "omm/log.h"
#include "omm/proto.h"

#include "omctl.h"

static int
cmd_set(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const uint16_t	 want[] = { MSG_OK, 0 };
	struct msg_set		 req;
	struct proto_msg	 m;
	struct client		*c;
	struct buf		 b;
	char			*cause = NULL;
	int			 rv = 1;

	if (argc != 3)
		return omctl_usage(self);
	if ((req.setting = admin_setting_lookup(argv[1])) == 0) {
		omctl_error("set: unknown setting '%s'", argv[1]);
		return omctl_usage(self);
	}
	if (admin_value_parse(req.setting, argv[2], &req.value, &cause) != 0) {
		omctl_error("set: %s", cause);
		free(cause);
		return 1;
	}
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	buf_init(&b);
	proto_encode_set(&b, &req);
	if (client_send(c, &b, -1, &cause) != 0 ||
	    client_recv(c, want, &m, CLIENT_TIMEOUT_MS, &cause) != 0)
		omctl_error("set %s: %s", argv[1], cause);
	else {
		printf("%s %s\n", argv[1], argv[2]);
		rv = 0;
	}
	free(cause);
	buf_free(&b);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_set_entry = {
	.name = "set",
	.alias = NULL,
	.usage = "speed N|auto | block on|off | stay on|off | lstay on|off | "
	    "quiet on|off | loadlimit N|none | balance on|off",
	.help = "change a setting of this node (root): speed, refusing "
	    "guests, staying, balancing, load limit",
	.exec = cmd_set,
};
