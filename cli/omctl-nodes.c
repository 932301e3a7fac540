/* omctl-nodes.c: omctl nodes [--json]: the cluster as this node sees it (openMosix's showmap, and load). */
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

#define NODES_FORMAT_VERSION	1	/* docs/json-nodes.md */

static const char *bye_names[] = {
	[1] = "shutdown", [2] = "leave", [3] = "protocol error",
	[4] = "refused",
};

struct nodes_output {
	void	(*head)(void);
	void	(*row)(const struct msg_node *, size_t index);
	void	(*tail)(void);
};

static const char *
bye_name(uint16_t bye)
{
	if (bye == 0 || bye >= sizeof bye_names / sizeof bye_names[0])
		return "unknown";
	return bye_names[bye];
}

static void
table_head(void)
{
	printf("%-3s %6s %-12s %-21s %-7s %-10s %7s %6s %4s %7s %8s %8s %6s "
	    "%s\n", "", "NODE", "NAME", "ADDRESS", "STATE", "LINK", "AGE",
	    "LOAD", "CPUS", "SPEED", "MEM_MIB", "FREE_MIB", "GUESTS", "FLAGS");
}

static void
table_row(const struct msg_node *n, size_t index)
{
	char	addr[NODE_ADDR_STRLEN], age[16], flags[64];

	node_addr_str(&n->addr, addr, sizeof addr);
	if (n->age_ms < 0)
		snprintf(age, sizeof age, "-");
	else
		snprintf(age, sizeof age, "%.1fs", n->age_ms / 1000.0);
	printf("%-3s %6u %-12s %-21s %-7s %-10s %7s ", n->self ? "*" : "",
	    n->node, n->name[0] != '\0' ? n->name : "?", addr,
	    proto_node_state_name(n->state),
	    n->self ? "self" : proto_link_state_name(n->link), age);
	if (!n->has_lv) {
		printf("%6s %4s %7s %8s %8s %6s %s\n", "-", "-", "-", "-", "-",
		    "-", "-");
		return;
	}
	printf("%6.2f %4u %7u %8llu %8llu %6u %s\n", n->lv.load / 100.0,
	    n->lv.ncpu, n->lv.speed,
	    (unsigned long long)(n->lv.mem_total / 1024),
	    (unsigned long long)(n->lv.mem_free / 1024), n->lv.guests,
	    loadvec_flag_names(n->lv.flags, flags, sizeof flags));
}

static void
table_tail(void)
{
}

static void
json_head(void)
{
	printf("{\"format_version\":%d,\"nodes\":[", NODES_FORMAT_VERSION);
}

/* ["block","quiet"] from LV_* flags. */
static void
json_flags(uint32_t flags)
{
	char	 names[64], *p, *save = NULL;
	int	 first = 1;

	loadvec_flag_names(flags, names, sizeof names);
	putchar('[');
	for (p = strtok_r(names, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (strcmp(p, "-") == 0)
			break;
		printf("%s\"%s\"", first ? "" : ",", p);
		first = 0;
	}
	putchar(']');
}

/* Feature names as a JSON array of strings. */
static void
json_features(const struct cpu_features *cpu)
{
	char	 names[4096], *p, *save = NULL;
	int	 first = 1;

	cpu_features_names(cpu, names, sizeof names);
	putchar('[');
	for (p = strtok_r(names, " ", &save); p != NULL;
	    p = strtok_r(NULL, " ", &save)) {
		printf("%s", first ? "" : ",");
		omctl_json_string(p);
		first = 0;
	}
	putchar(']');
}

static void
json_row(const struct msg_node *n, size_t index)
{
	char	addr[NODE_ADDR_STRLEN];

	printf("%s{\"id\":%u,\"name\":", index == 0 ? "" : ",", n->node);
	if (n->name[0] != '\0')
		omctl_json_string(n->name);
	else
		fputs("null", stdout);
	printf(",\"self\":%s,\"state\":\"%s\",\"link\":\"%s\",\"address\":",
	    n->self ? "true" : "false", proto_node_state_name(n->state),
	    n->self ? "self" : proto_link_state_name(n->link));
	if (n->addr.family != NODE_AF_NONE) {
		node_addr_str(&n->addr, addr, sizeof addr);
		omctl_json_string(addr);
	} else
		fputs("null", stdout);
	printf(",\"incarnation\":%llu,\"age_ms\":",
	    (unsigned long long)n->incarnation);
	if (n->age_ms < 0)
		fputs("null", stdout);
	else
		printf("%lld", (long long)n->age_ms);
	fputs(",\"bye\":", stdout);
	if (n->bye != 0)
		printf("\"%s\"", bye_name(n->bye));
	else
		fputs("null", stdout);
	if (!n->has_lv) {
		fputs(",\"load\":null,\"ncpu\":null,\"speed\":null,"
		    "\"mem_total_kib\":null,\"mem_free_kib\":null,"
		    "\"guests\":null,\"flags\":null,\"kernel\":null,"
		    "\"cpu_model\":null,\"cpu_features\":null,\"xcr0\":null,"
		    "\"xsave_size\":null}", stdout);
		return;
	}
	printf(",\"load\":%.2f,\"ncpu\":%u,\"speed\":%u,\"mem_total_kib\":%llu,"
	    "\"mem_free_kib\":%llu,\"guests\":%u,\"flags\":",
	    n->lv.load / 100.0, n->lv.ncpu, n->lv.speed,
	    (unsigned long long)n->lv.mem_total,
	    (unsigned long long)n->lv.mem_free, n->lv.guests);
	json_flags(n->lv.flags);
	fputs(",\"kernel\":", stdout);
	omctl_json_string(n->lv.kernel);
	fputs(",\"cpu_model\":", stdout);
	omctl_json_string(n->lv.cpu.model);
	fputs(",\"cpu_features\":", stdout);
	json_features(&n->lv.cpu);
	printf(",\"xcr0\":%llu,\"xsave_size\":%u}",
	    (unsigned long long)n->lv.cpu.xcr0, n->lv.cpu.xsave_size);
}

static void
json_tail(void)
{
	printf("]}\n");
}

static const struct nodes_output table_output = { table_head, table_row,
    table_tail };
static const struct nodes_output json_output = { json_head, json_row,
    json_tail };

static int
cmd_nodes(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint16_t		 want[] = { MSG_NODE, MSG_NODES_END,
					    0 };
	const struct nodes_output	*out = &table_output;
	struct client			*c;
	struct proto_msg		 m;
	struct msg_count		 end;
	struct msg_node			*rows = NULL;
	struct buf			 req;
	char				*cause = NULL;
	size_t				 n = 0, i;
	int				 ch, rv = 1;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (ch != 'j')
			return omctl_usage(self);
		out = &json_output;
	}
	if (optind != argc)
		return omctl_usage(self);

	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	buf_init(&req);
	proto_encode_empty(&req, MSG_NODES);
	if (client_send(c, &req, -1, &cause) != 0)
		goto fail;
	for (;;) {
		if (client_recv(c, want, &m, CLIENT_TIMEOUT_MS, &cause) != 0)
			goto fail;
		if (m.hdr.type == MSG_NODES_END)
			break;
		rows = xreallocarray(rows, n + 1, sizeof *rows);
		if (proto_decode_node(&m, &rows[n], &cause) != 0)
			goto fail;
		n++;
	}
	if (proto_decode_count(&m, &end, &cause) != 0)
		goto fail;
	if (end.count != n) {
		cause_set(&cause, "ommd listed %zu nodes but counted %u", n,
		    end.count);
		goto fail;
	}
	out->head();
	for (i = 0; i < n; i++)
		out->row(&rows[i], i);
	out->tail();
	rv = 0;
	goto out;

fail:
	omctl_error("nodes: %s", cause);
out:
	free(rows);
	free(cause);
	buf_free(&req);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_nodes_entry = {
	.name = "nodes",
	.alias = NULL,
	.usage = "[--json]",
	.help = "the cluster's nodes as this node sees them: state, load, "
	    "speed, memory",
	.exec = cmd_nodes,
};
