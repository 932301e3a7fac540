/* omctl-reload.c: omctl reload: ommd reads its config and TLS files again (root). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/client.h"
#include "omm/proto.h"

#include "omctl.h"

/* The text form: one line per item, grouped as the status says. */
static void
print_text(const struct msg_reloaded *r)
{
	static const struct {
		uint8_t		 status;
		const char	*label;
	} groups[] = {
		{ PROTO_RELOAD_APPLIED, "applied" },
		{ PROTO_RELOAD_RESTART, "needs a restart" },
		{ PROTO_RELOAD_FAILED, "not applied" },
		{ PROTO_RELOAD_DROPPED, "refused from now on" },
	};
	size_t		g;
	uint32_t	i;

	for (g = 0; g < sizeof groups / sizeof groups[0]; g++) {
		for (i = 0; i < r->n; i++) {
			if (r->items[i].status != groups[g].status)
				continue;
			printf("%-20s %s%s%s\n", groups[g].label,
			    r->items[i].what, r->items[i].detail[0] != '\0' &&
			    groups[g].status != PROTO_RELOAD_RESTART ? ": " : "",
			    groups[g].status != PROTO_RELOAD_RESTART ?
			    r->items[i].detail : "");
		}
	}
}

/* {"items":[{"status":"applied","what":"verbose","detail":""},...]} */
static void
print_json(const struct msg_reloaded *r)
{
	uint32_t	i;

	printf("{\"items\":[");
	for (i = 0; i < r->n; i++) {
		printf("%s{\"status\":\"%s\",\"what\":", i > 0 ? "," : "",
		    proto_reload_status_name(r->items[i].status));
		omctl_json_string(r->items[i].what);
		printf(",\"detail\":");
		omctl_json_string(r->items[i].detail);
		printf("}");
	}
	printf("]}\n");
}

static int
cmd_reload(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	struct proto_msg	 m;
	struct msg_reloaded	 rep;
	struct client		*c;
	char			*cause = NULL;
	int			 json = 0, rv = 1;
	uint32_t		 i;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1)
		return omctl_usage(self);
	if (omctl_simple(ctx, "reload", MSG_RELOAD, MSG_RELOADED, &m, &c) != 0)
		return 1;
	if (proto_decode_reloaded(&m, &rep, &cause) != 0) {
		omctl_error("reload: %s", cause);
		free(cause);
		client_close(c);
		return 1;
	}
	if (json)
		print_json(&rep);
	else
		print_text(&rep);
	/* exit 1 when something could not be applied */
	rv = 0;
	for (i = 0; i < rep.n; i++) {
		if (rep.items[i].status == PROTO_RELOAD_FAILED)
			rv = 1;
	}
	proto_free_reloaded(&rep);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_reload_entry = {
	.name = "reload",
	.alias = NULL,
	.usage = "[--json]",
	.help = "reread ommd.conf, the certificates and the revocation list "
	    "(root)",
	.exec = cmd_reload,
};
