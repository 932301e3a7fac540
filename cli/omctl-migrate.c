/* omctl-migrate.c: omctl migrate PID NODE: move a managed process to NODE, or home. */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/log.h"
#include "omm/proto.h"

#include "omctl.h"

static void
print_migrated(const struct msg_migrated *rep)
{
	char	node[32];

	if (rep->node_name == NULL)
		snprintf(node, sizeof node, "node %u", rep->node);
	printf("migrated %d", (int)rep->pid);
	if (rep->comm != NULL)
		printf(" (%s)", rep->comm);
	printf(" to %s: %.1f MiB in %.2f s (frozen %.2f s)\n",
	    rep->node_name != NULL ? rep->node_name : node,
	    rep->bytes / 1048576.0, rep->secs, rep->freeze_secs);
}

/*
 * The reply comes once the process runs on NODE (or at home again), so
 * the wait is that of a checkpoint: long, never forever.
 */
static int
cmd_migrate(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const uint16_t	 want[] = { MSG_MIGRATED, 0 };
	struct client		*c;
	struct proto_msg	 m;
	struct msg_migrate	 req = { .flags = 0 };
	struct msg_migrated	 rep;
	struct buf		 b;
	char			*cause = NULL;
	int			 rv = 1;

	if (argc != 3) {
		omctl_usage(self);
		return OMCTL_EXIT_USAGE;
	}
	if (omctl_parse_pid(argv[1], &req.pid) != 0) {
		omctl_error("migrate: invalid pid '%s'", argv[1]);
		return OMCTL_EXIT_USAGE;
	}
	if (proto_check_node_arg(argv[2], &cause) != 0) {
		omctl_error("migrate %d: %s", (int)req.pid, cause);
		free(cause);
		return OMCTL_EXIT_USAGE;
	}
	req.node = argv[2];
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	memset(&rep, 0, sizeof rep);
	buf_init(&b);
	proto_encode_migrate(&b, &req);
	if (client_send(c, &b, -1, &cause) != 0 ||
	    client_recv(c, want, &m, CLIENT_LONG_TIMEOUT_MS, &cause) != 0 ||
	    proto_decode_migrated(&m, &rep, &cause) != 0)
		omctl_error("migrate %d: %s", (int)req.pid, cause);
	else {
		print_migrated(&rep);
		rv = 0;
	}
	proto_free_migrated(&rep);
	buf_free(&b);
	free(cause);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_migrate_entry = {
	.name = "migrate",
	.alias = NULL,
	.usage = "PID NODE|home",
	.help = "move a process to NODE, or home",
	.exec = cmd_migrate,
};
