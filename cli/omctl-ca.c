/* omctl-ca.c: omctl ca init|issue|revoke: the cluster CA, without ommd. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/ca.h"

#include "omctl.h"

static int	cmd_ca_exec(const struct omctl_cmd *, struct omctl_ctx *, int,
		    char **);

const struct omctl_cmd cmd_ca_entry = {
	.name = "ca",
	.alias = NULL,
	.usage = "init DIR [--days N] [--name CN] | "
	    "issue DIR --node NAME [--id N] --out DIR2 [--days N] | "
	    "revoke DIR CERT",
	.help = "make the cluster's certificate authority, issue a node's "
	    "certificate, revoke one",
	.exec = cmd_ca_exec,
};

/* A decimal in [min, max]; -1 and a message otherwise. */
static int
parse_num(const char *what, const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		omctl_error("%s must be a number from %ld to %ld, not '%s'",
		    what, min, max, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
ca_cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*name = CA_DEFAULT_NAME;
	long		 days = CA_DEFAULT_DAYS;
	char		*cause = NULL;
	int		 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "d:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (parse_num("--days", optarg, 1, CA_MAX_DAYS,
			    &days) == -1)
				return 1;
			break;
		case 'n':
			name = optarg;
			break;
		default:
			return omctl_usage(&cmd_ca_entry);
		}
	}
	if (argc - optind != 1)
		return omctl_usage(&cmd_ca_entry);
	if (ca_init(argv[optind], name, (int)days, &cause) == -1) {
		omctl_error("ca init %s: %s", argv[optind], cause);
		free(cause);
		return 1;
	}
	printf("CA \"%s\" created in %s, valid %ld days; keep %s/%s secret\n",
	    name, argv[optind], days, argv[optind], CA_KEY_FILE);
	return 0;
}

static int
ca_cmd_issue(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "id", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "days", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*node = NULL, *out = NULL;
	long		 id = 0, days = CA_NODE_DEFAULT_DAYS;
	char		*cause = NULL;
	int		 ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "n:i:o:d:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'n':
			node = optarg;
			break;
		case 'i':
			if (parse_num("--id", optarg, 0, UINT32_MAX, &id) == -1)
				return 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			if (parse_num("--days", optarg, 1, CA_MAX_DAYS,
			    &days) == -1)
				return 1;
			break;
		default:
			return omctl_usage(&cmd_ca_entry);
		}
	}
	if (argc - optind != 1 || node == NULL || out == NULL)
		return omctl_usage(&cmd_ca_entry);
	if (ca_issue(argv[optind], node, (uint32_t)id, out, (int)days,
	    &cause) == -1) {
		omctl_error("ca issue %s for %s: %s", argv[optind], node, cause);
		free(cause);
		return 1;
	}
	printf("issued %s (id %ld) into %s: %s %s %s %s, valid %ld days\n",
	    node, id, out, CA_NODE_KEY_FILE, CA_NODE_CERT_FILE, CA_CERT_FILE,
	    CA_CRL_FILE, days);
	return 0;
}

static int
ca_cmd_revoke(int argc, char **argv)
{
	char	*cause = NULL;

	if (argc != 3)
		return omctl_usage(&cmd_ca_entry);
	if (ca_revoke(argv[1], argv[2], &cause) == -1) {
		omctl_error("ca revoke %s: %s", argv[2], cause);
		free(cause);
		return 1;
	}
	printf("revoked %s; copy %s/%s to every node\n", argv[2], argv[1],
	    CA_CRL_FILE);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} ca_subcmds[] = {
	{ "init",	ca_cmd_init },
	{ "issue",	ca_cmd_issue },
	{ "revoke",	ca_cmd_revoke },
};

/* argv: "ca" SUBCOMMAND ARGS...; the subcommand sees itself as argv[0]. */
static int
cmd_ca_exec(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	size_t	 i;

	if (argc < 2)
		return omctl_usage(self);
	for (i = 0; i < sizeof ca_subcmds / sizeof *ca_subcmds; i++) {
		if (strcmp(argv[1], ca_subcmds[i].name) == 0)
			return ca_subcmds[i].fn(argc - 1, argv + 1);
	}
	omctl_error("unknown ca command: %s", argv[1]);
	return omctl_usage(self);
}
