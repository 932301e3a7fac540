/* omctl.c: omctl's command table, found by unique prefix as tmux finds its commands. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/client.h"

#include "omctl.h"

static const struct omctl_cmd *omctl_table[] = {
	&cmd_ps_entry,
	&cmd_checkpoint_entry,
	&cmd_image_entry,
	&cmd_ca_entry,
	&cmd_nodes_entry,
	&cmd_status_entry,
	&cmd_set_entry,
	&cmd_expel_entry,
	&cmd_leave_entry,
	&cmd_join_entry,
	&cmd_migrate_entry,
	&cmd_bring_entry,
	&cmd_lock_entry,
	&cmd_unlock_entry,
	&cmd_reload_entry,
	NULL
};

/* Every command and what it does: on stdout when asked, stderr for misuse. */
static void
print_all(FILE *f)
{
	const struct omctl_cmd	**c;

	fprintf(f, "usage: omctl [-s SOCKET] COMMAND [ARGS]\n"
	    "       omctl help [COMMAND] | --help | --version\ncommands:\n");
	for (c = omctl_table; *c != NULL; c++) {
		fprintf(f, "  %s%s%s\n", (*c)->name, *(*c)->usage ? " " : "",
		    (*c)->usage);
		fprintf(f, "      %s\n", (*c)->help);
	}
	fprintf(f, "A command may be shortened to any unique prefix. -s SOCKET "
	    "(or $OMM_SOCKET) names ommd's control socket.\n");
}

static int
usage_all(void)
{
	print_all(stderr);
	return OMCTL_EXIT_USAGE;
}

/* One command's usage and what it does, on stdout. */
static int
help_cmd(const struct omctl_cmd *c)
{
	printf("usage: omctl %s%s%s\n%s\n", c->name, *c->usage ? " " : "",
	    c->usage, c->help);
	if (c->alias != NULL)
		printf("alias: %s\n", c->alias);
	return 0;
}

int
omctl_parse_pid(const char *s, pid_t *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INT_MAX)
		return -1;
	*out = (pid_t)v;
	return 0;
}

int
omctl_usage(const struct omctl_cmd *c)
{
	fprintf(stderr, "usage: omctl %s %s\n", c->name, c->usage);
	return OMCTL_EXIT_USAGE;
}

int
omctl_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("omctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

struct client *
omctl_connect(const struct omctl_ctx *ctx)
{
	struct client	*c;
	char		*cause = NULL;

	if ((c = client_open(ctx->sock_path, &cause)) == NULL) {
		omctl_error("%s", cause);
		free(cause);
	}
	return c;
}

int
omctl_simple(const struct omctl_ctx *ctx, const char *name, uint16_t type,
    uint16_t want, struct proto_msg *m, struct client **keep)
{
	uint16_t		 wants[2] = { want != 0 ? want : MSG_OK, 0 };
	struct proto_msg	 scratch;
	struct client		*c;
	struct buf		 req;
	char			*cause = NULL;

	if (keep != NULL)
		*keep = NULL;
	if ((c = omctl_connect(ctx)) == NULL)
		return 1;
	buf_init(&req);
	proto_encode_empty(&req, type);
	if (client_send(c, &req, -1, &cause) != 0 ||
	    client_recv(c, wants, m != NULL ? m : &scratch, CLIENT_TIMEOUT_MS,
	    &cause) != 0) {
		omctl_error("%s: %s", name, cause);
		free(cause);
		buf_free(&req);
		client_close(c);
		return 1;
	}
	buf_free(&req);
	if (keep != NULL)
		*keep = c;
	else
		client_close(c);
	return 0;
}

/* An exact name or alias wins; else a prefix of exactly one name or alias. */
static const struct omctl_cmd *
find_cmd(const char *name, int *ambiguous)
{
	const struct omctl_cmd	**c, *found = NULL;
	size_t			  n = strlen(name);

	*ambiguous = 0;
	for (c = omctl_table; *c != NULL; c++) {
		if (strcmp((*c)->name, name) == 0 ||
		    ((*c)->alias != NULL && strcmp((*c)->alias, name) == 0))
			return *c;
	}
	for (c = omctl_table; *c != NULL; c++) {
		if (strncmp((*c)->name, name, n) != 0 &&
		    ((*c)->alias == NULL || strncmp((*c)->alias, name, n) != 0))
			continue;
		if (found != NULL && found != *c) {
			*ambiguous = 1;
			return NULL;
		}
		found = *c;
	}
	return found;
}

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const struct omctl_cmd	*cmd;
	struct omctl_ctx	 ctx;
	const char		*sock = NULL;
	int			 ch, ambiguous;

	while ((ch = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'h':
			print_all(stdout);
			return 0;
		case 'V':
			printf("omctl (omm) %s\n", OMM_VERSION);
			return 0;
		default:
			return usage_all();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || **argv == '\0')
		return usage_all();
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			print_all(stdout);
			return 0;
		}
		if ((cmd = find_cmd(argv[1], &ambiguous)) == NULL) {
			omctl_error("help: %s command: %s", ambiguous ?
			    "ambiguous" : "unknown", argv[1]);
			return usage_all();
		}
		return help_cmd(cmd);
	}
	if ((cmd = find_cmd(argv[0], &ambiguous)) == NULL) {
		omctl_error("%s command: %s", ambiguous ? "ambiguous" :
		    "unknown", argv[0]);
		return usage_all();
	}
	/* COMMAND --help, -h: before the command sees its arguments */
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0))
		return help_cmd(cmd);
	ctx.sock_path = client_socket_path(sock);
	/*
	 * Each command parses its own options with getopt from scratch
	 * (optind 0 resets glibc's getopt), and prints its own usage.
	 */
	optind = 0;
	opterr = 0;
	return cmd->exec(cmd, &ctx, argc, argv);
}
