/* omctl.h: omctl's command table entries, one per omctl-*.c file. */
#ifndef OMCTL_H
#define OMCTL_H

#include <sys/types.h>

#include <stdint.h>

#include "omm/proto.h"

struct client;

struct omctl_ctx {
	const char	*sock_path;	/* -s, $OMM_SOCKET or the default */
};

struct omctl_cmd {
	const char	*name;
	const char	*alias;		/* NULL: none */
	const char	*usage;		/* arguments, after the name */
	const char	*help;		/* what it does, one line (help, --help) */
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
extern const struct omctl_cmd	cmd_nodes_entry;
extern const struct omctl_cmd	cmd_status_entry;
extern const struct omctl_cmd	cmd_set_entry;
extern const struct omctl_cmd	cmd_expel_entry;
extern const struct omctl_cmd	cmd_leave_entry;	/* omctl-leave.c */
extern const struct omctl_cmd	cmd_join_entry;		/* omctl-leave.c */
extern const struct omctl_cmd	cmd_migrate_entry;
extern const struct omctl_cmd	cmd_bring_entry;
extern const struct omctl_cmd	cmd_lock_entry;		/* omctl-lock.c */
extern const struct omctl_cmd	cmd_unlock_entry;	/* omctl-lock.c */
extern const struct omctl_cmd	cmd_reload_entry;

/* Exit status of a usage error (bad command, option or arguments). */
#define OMCTL_EXIT_USAGE	2

/* A pid argument: 1 to INT_MAX in decimal; 0 or -1. */
int		 omctl_parse_pid(const char *, pid_t *);
/* Print the command's usage on stderr; returns OMCTL_EXIT_USAGE. */
int		 omctl_usage(const struct omctl_cmd *);
/* "omctl: " + message on stderr; returns 1. */
int		 omctl_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* Connect to ommd or print why not (NULL). */
struct client	*omctl_connect(const struct omctl_ctx *);
/*
 * Send a request without payload and wait for OK (or, with want, that
 * reply, left in *m); prints "omctl: NAME: cause" on failure. Returns 0/1.
 */
int		 omctl_simple(const struct omctl_ctx *, const char *name,
		    uint16_t type, uint16_t want, struct proto_msg *m,
		    struct client **keep);

/* A JSON string, with bytes that are not UTF-8 as U+FFFD (omctl-json.c). */
void		 omctl_json_string(const char *);
/*
 * One process of ps and status as a JSON object (docs/json-ps.md); user
 * NULL leaves the "user" key out, as status does.
 */
void		 omctl_json_process(const struct msg_ps_entry *,
		    const char *user);

#endif
