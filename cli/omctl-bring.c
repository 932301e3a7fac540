/* omctl-bring.c: omctl bring PID | --all: bring processes of this home node back. */
#include <sys/types.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/proto.h"

#include "omctl.h"

static int
cmd_bring(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint16_t		 want[] = { MSG_BROUGHT, 0 };
	struct client			*c;
	struct proto_msg		 m;
	struct msg_bring		 req = { .pid = 0, .flags = 0 };
	struct msg_count		 rep;
	struct buf			 b;
	char				*cause = NULL, what[32];
	int				 ch, rv = 1;

	while ((ch = getopt_long(argc, argv, "+a", longopts, NULL)) != -1) {
		if (ch != 'a') {
			omctl_usage(self);
			return OMCTL_EXIT_USAGE;
		}
		req.flags |= PROTO_BRING_ALL;
	}
	if (req.flags & PROTO_BRING_ALL) {
		if (optind != argc) {
			omctl_usage(self);
			return OMCTL_EXIT_USAGE;
		}
		snprintf(what, sizeof what, "bring --all");
	} else {
		if (optind != argc - 1) {
			omctl_usage(self);
			return OMCTL_EXIT_USAGE;
		}
		if (omctl_parse_pid(argv[optind], &req.pid) != 0) {
			omctl_error("bring: invalid pid '%s'", argv[optind]);
			return OMCTL_EXIT_USAGE;
		}
		snprintf(what, sizeof what, "bring %d", (int)req.pid);
	}
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	buf_init(&b);
	proto_encode_bring(&b, &req);
	/* each process comes home with its whole image: a long wait */
	if (client_send(c, &b, -1, &cause) != 0 ||
	    client_recv(c, want, &m, CLIENT_LONG_TIMEOUT_MS, &cause) != 0 ||
	    proto_decode_count(&m, &rep, &cause) != 0)
		omctl_error("%s: %s", what, cause);
	else {
		printf("brought %u process%s home\n", rep.count,
		    rep.count == 1 ? "" : "es");
		rv = 0;
	}
	buf_free(&b);
	free(cause);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_bring_entry = {
	.name = "bring",
	.alias = NULL,
	.usage = "PID | --all",
	.help = "bring a process home, or every process of this node that "
	    "runs elsewhere",
	.exec = cmd_bring,
};
