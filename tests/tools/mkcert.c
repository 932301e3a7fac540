/*
 * mkcert: the cluster harness's certificate maker, through ca.c. It does
 * what `omctl ca` does plus what only tests need: certificates whose
 * validity lies in the past or the future.
 *
 *	mkcert init CADIR [CN]
 *	mkcert issue CADIR NAME ID OUTDIR [DAYS | expired | future]
 *	mkcert revoke CADIR CERT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omm/ca.h"

static int
usage(void)
{
	fprintf(stderr, "usage: mkcert init CADIR [CN]\n"
	    "       mkcert issue CADIR NAME ID OUTDIR [DAYS|expired|future]\n"
	    "       mkcert revoke CADIR CERT\n");
	return 2;
}

static long
number(const char *s, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > max)
		return -1;
	return v;
}

static int
issue(int argc, char **argv, char **cause)
{
	time_t	 now = time(NULL);
	long	 id, days = CA_NODE_DEFAULT_DAYS;

	if (argc < 6 || argc > 7 || (id = number(argv[4], UINT32_MAX)) < 0)
		return usage();
	if (argc == 7 && strcmp(argv[6], "expired") == 0)
		return ca_issue_at(argv[2], argv[3], id, argv[5],
		    now - 10 * 86400, now - 86400, cause) == -1;
	if (argc == 7 && strcmp(argv[6], "future") == 0)
		return ca_issue_at(argv[2], argv[3], id, argv[5],
		    now + 86400, now + 10 * 86400, cause) == -1;
	if (argc == 7 && (days = number(argv[6], CA_MAX_DAYS)) < 0)
		return usage();
	return ca_issue(argv[2], argv[3], id, argv[5], days, cause) == -1;
}

int
main(int argc, char **argv)
{
	char	*cause = NULL;
	int	 rc;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "init") == 0 && (argc == 3 || argc == 4))
		rc = ca_init(argv[2], argc == 4 ? argv[3] : CA_DEFAULT_NAME,
		    CA_DEFAULT_DAYS, &cause) == -1;
	else if (strcmp(argv[1], "issue") == 0)
		rc = issue(argc, argv, &cause);
	else if (strcmp(argv[1], "revoke") == 0 && argc == 4)
		rc = ca_revoke(argv[2], argv[3], &cause) == -1;
	else
		return usage();
	if (rc != 0 && cause != NULL)
		fprintf(stderr, "mkcert %s: %s\n", argv[1], cause);
	free(cause);
	return rc;
}
