/* omctl-ps.c: omctl ps [--json]: the processes ommd manages, as a table or JSON. */
#include <sys/types.h>

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omm/client.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "omctl.h"

#define PS_FORMAT_VERSION	1	/* docs/json-ps.md */
#define TABLE_CMD_WIDTH		40	/* longer commands are cut in the table */

struct ps_row {
	struct msg_ps_entry	e;
	char			*user;
	char			 node[PROTO_NODE_MAX + 1];	/* NODE */
};

/*
 * An output backend, as bgpctl's: the same rows printed for people or for
 * programs. head sees every row, so a table can size its columns.
 */
struct ps_output {
	void	(*head)(const struct ps_row *, size_t);
	void	(*row)(const struct ps_row *, size_t index);
	void	(*tail)(size_t);
};

static int	w_user, w_state, w_cmd, w_cantmove, w_node;

static void	ckpt_word(const struct msg_ps_entry *);

/*
 * NODE: where the process runs, in one word: "home", the host's name (its
 * id when the name is not known), or "migrating" / "returning" while its
 * image is on the way.
 */
static void
node_word(const struct msg_ps_entry *e, char *out, size_t size)
{
	if (e->away == PROTO_AWAY_REMOTE && e->where_name != NULL)
		snprintf(out, size, "%s", e->where_name);
	else if (e->away == PROTO_AWAY_REMOTE)
		snprintf(out, size, "%u", e->where);
	else
		snprintf(out, size, "%s", proto_away_name(e->away));
}

/*
 * CANTMOVE is free text, so it is padded to its widest: NODE and MIG came
 * after the first columns were fixed and go last, where scripts that read
 * the older columns do not see them.
 */
static void
table_head(const struct ps_row *rows, size_t n)
{
	size_t	i, len;

	w_user = 4;
	w_state = 5;
	w_cmd = 7;
	w_cantmove = 8;
	w_node = 4;
	for (i = 0; i < n; i++) {
		if ((len = strlen(rows[i].user)) > (size_t)w_user)
			w_user = len;
		len = strlen(proto_state_name(rows[i].e.state));
		if (len > (size_t)w_state)
			w_state = len;
		if ((len = strlen(rows[i].e.command)) > (size_t)w_cmd)
			w_cmd = len > TABLE_CMD_WIDTH ? TABLE_CMD_WIDTH : len;
		if (rows[i].e.cantmove != NULL &&
		    (len = strlen(rows[i].e.cantmove)) > (size_t)w_cantmove)
			w_cantmove = len;
		if ((len = strlen(rows[i].node)) > (size_t)w_node)
			w_node = len;
	}
	printf("%7s %7s %-*s %5s %-*s %-*s %-*s %-*s %3s %s\n", "PID", "PPID",
	    w_user, "USER", "JOB", w_state, "STATE", w_cmd, "COMMAND",
	    w_cantmove, "CANTMOVE", w_node, "NODE", "MIG", "CKPT");
}

static void
table_row(const struct ps_row *r, size_t index)
{
	const char	*cmd = r->e.command;
	size_t		 len = strlen(cmd);

	printf("%7d %7d %-*s %5u %-*s ", (int)r->e.pid, (int)r->e.ppid,
	    w_user, r->user, r->e.job, w_state, proto_state_name(r->e.state));
	/* a cut command ends in "..." so nobody takes it for the whole */
	if (len > TABLE_CMD_WIDTH)
		printf("%.*s... ", TABLE_CMD_WIDTH - 3, cmd);
	else
		printf("%-*s ", w_cmd, cmd);
	printf("%-*s %-*s %3u ", w_cantmove,
	    r->e.cantmove == NULL ? "-" : r->e.cantmove, w_node, r->node,
	    r->e.migrations);
	ckpt_word(&r->e);
}

/*
 * CKPT: periodic checkpoints, "-" when none were asked for, else the time
 * of the last good one, and "FAILED: why" when the last one failed.
 */
static void
ckpt_word(const struct msg_ps_entry *e)
{
	char		when[32] = "none yet";
	time_t		t = (time_t)e->ckpt_last;
	struct tm	tm;

	if (e->ckpt_every == 0) {
		printf("-\n");
		return;
	}
	if (t != 0 && localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%H:%M:%S", &tm);
	if (e->ckpt_error != NULL)
		printf("FAILED (last good %s): %s\n", when, e->ckpt_error);
	else
		printf("%s\n", when);
}

static void
table_tail(size_t n)
{
}

static void
json_head(const struct ps_row *rows, size_t n)
{
	printf("{\"format_version\":%d,\"processes\":[", PS_FORMAT_VERSION);
}

static void
json_row(const struct ps_row *r, size_t index)
{
	if (index != 0)
		putchar(',');
	omctl_json_process(&r->e, r->user);
}

static void
json_tail(size_t n)
{
	printf("]}\n");
}

static const struct ps_output table_output = { table_head, table_row,
    table_tail };
static const struct ps_output json_output = { json_head, json_row, json_tail };

static char *
user_name(uid_t uid)
{
	struct passwd	*pw;
	char		*s;

	if ((pw = getpwuid(uid)) != NULL)
		return xstrdup(pw->pw_name);
	xasprintf(&s, "%u", (unsigned)uid);
	return s;
}

static int
cmd_ps(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint16_t		 want[] = { MSG_PS_ENTRY, MSG_PS_END,
					    0 };
	const struct ps_output		*out = &table_output;
	struct client			*c;
	struct proto_msg		 m;
	struct msg_ps_end		 end;
	struct ps_row			*rows = NULL;
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
	proto_encode_ps(&req);
	if (client_send(c, &req, -1, &cause) != 0)
		goto fail;
	for (;;) {
		if (client_recv(c, want, &m, CLIENT_TIMEOUT_MS, &cause) != 0)
			goto fail;
		if (m.hdr.type == MSG_PS_END)
			break;
		rows = xreallocarray(rows, n + 1, sizeof *rows);
		if (proto_decode_ps_entry(&m, &rows[n].e, &cause) != 0)
			goto fail;
		rows[n].user = user_name(rows[n].e.uid);
		node_word(&rows[n].e, rows[n].node, sizeof rows[n].node);
		n++;
	}
	if (proto_decode_ps_end(&m, &end, &cause) != 0)
		goto fail;
	if (end.count != n) {
		cause_set(&cause, "ommd listed %zu processes but counted %u", n,
		    end.count);
		goto fail;
	}
	out->head(rows, n);
	for (i = 0; i < n; i++)
		out->row(&rows[i], i);
	out->tail(n);
	rv = 0;
	goto out;

fail:
	omctl_error("ps: %s", cause);
out:
	for (i = 0; i < n; i++) {
		proto_free_ps_entry(&rows[i].e);
		free(rows[i].user);
	}
	free(rows);
	free(cause);
	buf_free(&req);
	client_close(c);
	return rv;
}

const struct omctl_cmd cmd_ps_entry = {
	.name = "ps",
	.alias = NULL,
	.usage = "[--json]",
	.help = "this node's managed processes: where each runs, its "
	    "migrations, and why it cannot move (CANTMOVE)",
	.exec = cmd_ps,
};
