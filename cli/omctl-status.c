/* omctl-status.c: omctl status [--json]: this node's config, admin, counters, migrations, links, processes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/client.h"
#include "omm/loadvec.h"
#include "omm/log.h"
#include "omm/nodemap.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "omctl.h"

#define STATUS_FORMAT_VERSION	1	/* docs/json-status.md */

/* The groups of STATUS_INFO's fields, in the order printed. */
static const char *groups[] = { "node", "config", "admin", "counters",
    "migration" };
#define NGROUPS	(sizeof groups / sizeof groups[0])

struct status {
	struct msg_status	 st;
	struct msg_link		*links;
	size_t			 nlinks;
	struct msg_ps_entry	*procs;
	size_t			 nprocs;
};

/* Flags and on/off settings read better as words. */
static int
is_bool(const char *group, const char *name)
{
	static const char	*bools[][2] = {
		{ "node", "fabric" }, { "config", "discovery" },
		{ "admin", "block" }, { "admin", "stay" }, { "admin", "lstay" },
		{ "admin", "quiet" }, { "admin", "left" }, { "admin", "balance" },
	};
	size_t	i;

	for (i = 0; i < sizeof bools / sizeof bools[0]; i++) {
		if (strcmp(bools[i][0], group) == 0 &&
		    strcmp(bools[i][1], name) == 0)
			return 1;
	}
	return 0;
}

static void
print_text(const struct status *s)
{
	const struct msg_link	*l;
	const char		*group, *name;
	char			 addr[NODE_ADDR_STRLEN], flags[64], up[32];
	size_t			 g, i;

	for (g = 0; g < NGROUPS; g++) {
		printf("%s:\n", groups[g]);
		for (i = 0; i < PROTO_ST_NSTR; i++) {
			name = proto_status_str_name(i, &group);
			if (strcmp(group, groups[g]) == 0)
				printf("  %-18s %s\n", name,
				    s->st.str[i][0] != '\0' ? s->st.str[i] :
				    "-");
		}
		for (i = 0; i < PROTO_ST_NNUM; i++) {
			name = proto_status_num_name(i, &group);
			if (strcmp(group, groups[g]) != 0)
				continue;
			if (i == ST_FLAGS)
				printf("  %-18s %s\n", name,
				    loadvec_flag_names((uint32_t)s->st.num[i],
				    flags, sizeof flags));
			else if (is_bool(group, name))
				printf("  %-18s %s\n", name,
				    s->st.num[i] ? "on" : "off");
			else
				printf("  %-18s %llu\n", name,
				    (unsigned long long)s->st.num[i]);
		}
	}
	printf("links:\n  %6s %-12s %-21s %-10s %-8s %9s %6s %5s %6s %7s "
	    "%8s %8s %s\n", "NODE", "NAME", "ADDRESS", "STATE", "DIR", "UP",
	    "SERIAL", "EST", "LOST", "FAILED", "FRAMES_I", "FRAMES_O",
	    "ERROR");
	for (i = 0; i < s->nlinks; i++) {
		l = &s->links[i];
		node_addr_str(&l->addr, addr, sizeof addr);
		if (l->up_ms >= 0)
			snprintf(up, sizeof up, "%.1fs", l->up_ms / 1000.0);
		else
			snprintf(up, sizeof up, "-");
		printf("  %6u %-12s %-21s %-10s %-8s %9s %6llu %5u %6u %7u "
		    "%8llu %8llu %s\n", l->node, l->name[0] != '\0' ? l->name :
		    "?", addr, proto_link_state_name(l->state),
		    l->state != PROTO_LINK_UP ? "-" : l->dialed ? "dialled" :
		    "accepted", up, (unsigned long long)l->serial,
		    l->established, l->lost, l->failed + l->refused,
		    (unsigned long long)l->frames_in,
		    (unsigned long long)l->frames_out,
		    l->error != NULL ? l->error : "-");
	}
	printf("processes: %zu managed, %llu away, %llu guests hosted (omctl "
	    "ps lists them)\n", s->nprocs,
	    (unsigned long long)s->st.num[ST_AWAY],
	    (unsigned long long)s->st.num[ST_GUESTS]);
}

static void
print_json(const struct status *s)
{
	const struct msg_link		*l;
	const char			*group, *name;
	char				 addr[NODE_ADDR_STRLEN], flags[64];
	char				*p, *save = NULL;
	size_t				 g, i;
	int				 first;

	printf("{\"format_version\":%d", STATUS_FORMAT_VERSION);
	for (g = 0; g < NGROUPS; g++) {
		printf(",\"%s\":{", groups[g]);
		first = 1;
		for (i = 0; i < PROTO_ST_NSTR; i++) {
			name = proto_status_str_name(i, &group);
			if (strcmp(group, groups[g]) != 0)
				continue;
			printf("%s\"%s\":", first ? "" : ",", name);
			first = 0;
			if (s->st.str[i][0] == '\0')
				fputs("null", stdout);
			else
				omctl_json_string(s->st.str[i]);
		}
		for (i = 0; i < PROTO_ST_NNUM; i++) {
			name = proto_status_num_name(i, &group);
			if (strcmp(group, groups[g]) != 0)
				continue;
			printf("%s\"%s\":", first ? "" : ",", name);
			first = 0;
			if (i == ST_FLAGS) {
				loadvec_flag_names((uint32_t)s->st.num[i],
				    flags, sizeof flags);
				putchar('[');
				for (p = strtok_r(flags, ",", &save);
				    p != NULL && strcmp(p, "-") != 0;
				    p = strtok_r(NULL, ",", &save))
					printf("%s\"%s\"", p == flags ? "" :
					    ",", p);
				putchar(']');
			} else if (is_bool(group, name))
				fputs(s->st.num[i] ? "true" : "false", stdout);
			else
				printf("%llu", (unsigned long long)s->st.num[i]);
		}
		putchar('}');
	}
	fputs(",\"links\":[", stdout);
	for (i = 0; i < s->nlinks; i++) {
		l = &s->links[i];
		printf("%s{\"node\":%u,\"name\":", i == 0 ? "" : ",", l->node);
		if (l->name[0] != '\0')
			omctl_json_string(l->name);
		else
			fputs("null", stdout);
		printf(",\"state\":\"%s\",\"direction\":",
		    proto_link_state_name(l->state));
		if (l->state == PROTO_LINK_UP)
			printf("\"%s\"", l->dialed ? "dialled" : "accepted");
		else
			fputs("null", stdout);
		fputs(",\"address\":", stdout);
		if (l->addr.family != 0) {
			node_addr_str(&l->addr, addr, sizeof addr);
			omctl_json_string(addr);
		} else
			fputs("null", stdout);
		fputs(",\"up_ms\":", stdout);
		if (l->up_ms >= 0)
			printf("%lld", (long long)l->up_ms);
		else
			fputs("null", stdout);
		printf(",\"serial\":%llu,\"established\":%u,\"lost\":%u,"
		    "\"failed\":%u,\"refused\":%u,\"frames_in\":%llu,"
		    "\"frames_out\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
		    "\"error\":", (unsigned long long)l->serial,
		    l->established, l->lost, l->failed, l->refused,
		    (unsigned long long)l->frames_in,
		    (unsigned long long)l->frames_out,
		    (unsigned long long)l->bytes_in,
		    (unsigned long long)l->bytes_out);
		if (l->error != NULL)
			omctl_json_string(l->error);
		else
			fputs("null", stdout);
		putchar('}');
	}
	fputs("],\"processes\":[", stdout);
	for (i = 0; i < s->nprocs; i++) {
		if (i != 0)
			putchar(',');
		omctl_json_process(&s->procs[i], NULL);
	}
	printf("]}\n");
}

/* STATUS, then PS, on one connection. */
static int
fetch(struct client *c, struct status *s, char **cause)
{
	static const uint16_t	 want_info[] = { MSG_STATUS_INFO, 0 };
	static const uint16_t	 want_link[] = { MSG_LINK, MSG_STATUS_END, 0 };
	static const uint16_t	 want_ps[] = { MSG_PS_ENTRY, MSG_PS_END, 0 };
	struct proto_msg	 m;
	struct msg_count	 end;
	struct msg_ps_end	 pend;
	struct buf		 req;
	int			 rv = -1;

	buf_init(&req);
	proto_encode_empty(&req, MSG_STATUS);
	if (client_send(c, &req, -1, cause) != 0 ||
	    client_recv(c, want_info, &m, CLIENT_TIMEOUT_MS, cause) != 0 ||
	    proto_decode_status(&m, &s->st, cause) != 0)
		goto out;
	for (;;) {
		if (client_recv(c, want_link, &m, CLIENT_TIMEOUT_MS,
		    cause) != 0)
			goto out;
		if (m.hdr.type == MSG_STATUS_END)
			break;
		s->links = xreallocarray(s->links, s->nlinks + 1,
		    sizeof *s->links);
		if (proto_decode_link(&m, &s->links[s->nlinks], cause) != 0)
			goto out;
		s->nlinks++;
	}
	if (proto_decode_count(&m, &end, cause) != 0)
		goto out;
	if (end.count != s->nlinks) {
		cause_set(cause, "ommd listed %zu links but counted %u",
		    s->nlinks, end.count);
		goto out;
	}
	buf_reset(&req);
	proto_encode_ps(&req);
	if (client_send(c, &req, -1, cause) != 0)
		goto out;
	for (;;) {
		if (client_recv(c, want_ps, &m, CLIENT_TIMEOUT_MS, cause) != 0)
			goto out;
		if (m.hdr.type == MSG_PS_END)
			break;
		s->procs = xreallocarray(s->procs, s->nprocs + 1,
		    sizeof *s->procs);
		if (proto_decode_ps_entry(&m, &s->procs[s->nprocs],
		    cause) != 0)
			goto out;
		s->nprocs++;
	}
	if (proto_decode_ps_end(&m, &pend, cause) != 0)
		goto out;
	rv = 0;
out:
	buf_free(&req);
	return rv;
}

static int
cmd_status(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct status			 s;
	struct client			*c;
	char				*cause = NULL;
	size_t				 i;
	int				 ch, json = 0, rv = 1;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (ch != 'j')
			return omctl_usage(self);
		json = 1;
	}
	if (optind != argc)
		return omctl_usage(self);
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	memset(&s, 0, sizeof s);
	if (fetch(c, &s, &cause) != 0)
		omctl_error("status: %s", cause);
	else {
		if (json)
			print_json(&s);
		else
			print_text(&s);
		rv = 0;
	}
	proto_free_status(&s.st);
	for (i = 0; i < s.nlinks; i++)
		proto_free_link(&s.links[i]);
	for (i = 0; i < s.nprocs; i++)
		proto_free_ps_entry(&s.procs[i]);
	free(s.links);
	free(s.procs);
	free(cause);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_status_entry = {
	.name = "status",
	.alias = NULL,
	.usage = "[--json]",
	.help = "this node's ommd: its settings, counters and links",
	.exec = cmd_status,
};
