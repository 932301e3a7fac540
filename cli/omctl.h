/* omctl.h: omctl's command table entries, one per omctl-*.c file. */
#ifndef OMCTL_H
#define OMCTL_H

struct client;

struct omctl_ctx {
	const char	*sock_path;	/* -s, $OMM_SOCKET or the default */
};

struct omctl_cmd {
	const char	*name;
	const char	*alias;		/* NULL: none */
	const char	*usage;		/* arguments, after the name */
	/*
	 * Run with argv[0] the command's name; returns the exit status.
	 * Errors are printed here, once, naming the operation and object.
	 */
	int		(*exec)(const struct omctl_cmd *, struct omctl_ctx *,
			    int argc, char **argv);
};

extern const struct omctl_cmd	cmd_ps_entry;
extern const struct omctl_cmd	cmd_checkpoint_entry;
extern const struct omctl_cmd	cmd_image_entry;
extern const struct omctl_cmd	cmd_ca_entry;		/* omctl-ca.c */

/* Print the command's usage on stderr; returns 1 for "return omctl_usage()". */
int		 omctl_usage(const struct omctl_cmd *);
/* "omctl: " + message on stderr; returns 1. */
int		 omctl_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* Connect to ommd or print why not (NULL). */
struct client	*omctl_connect(const struct omctl_ctx *);

#endif
