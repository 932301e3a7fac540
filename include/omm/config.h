/* config.h: ommd.conf, "key = value" lines, '#' comments, built-in defaults. */
#ifndef OMM_CONFIG_H
#define OMM_CONFIG_H

#include <stddef.h>

#define OMM_CONF_PATH		"/etc/omm/ommd.conf"
#define OMM_SOCK_PATH		"/run/omm/ommd.sock"
#define OMM_STATE_DIR		"/var/lib/omm"

struct omm_config {
	char	*socket_path;	/* control socket */
	char	*state_dir;
	int	 verbose;
	int	 log_syslog;	/* 1: syslog when daemonised */
};

void	config_defaults(struct omm_config *);
/* Parse text (not NUL-terminated necessarily) of len bytes; line numbers in cause. */
int	config_parse(struct omm_config *, const char *text, size_t len,
	    char **cause) __attribute__((warn_unused_result));
/* Read path; a missing file at the default path is not an error. */
int	config_load(struct omm_config *, const char *path, int must_exist,
	    char **cause) __attribute__((warn_unused_result));
void	config_free(struct omm_config *);

#endif
