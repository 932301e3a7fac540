/*
 * admin.h: a node's runtime admin settings (openMosix's mosctl and
 * /proc/hpc/admin), as set by root with omctl set / expel / leave / join.
 *
 * They persist in STATE_DIR/admin, a few "key value" lines written
 * atomically (a temporary file, fsync, rename), and are read back at start.
 * The flags travel in the load vector (LV_*), so every node sees them.
 */
#ifndef OMM_ADMIN_H
#define OMM_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"

#define ADMIN_FILE		"admin"
#define ADMIN_LOADLIMIT_MAX	1000000		/* load x100 */

/* What omctl set may change; numbered as on the control socket. */
enum admin_setting {
	ADMIN_SPEED = 1,	/* relative speed; 0: measured (or config) */
	ADMIN_BLOCK = 2,	/* on/off: refuse arriving guests */
	ADMIN_STAY = 3,		/* on/off: no automatic migration away */
	ADMIN_LSTAY = 4,	/* on/off: local processes stay */
	ADMIN_QUIET = 5,	/* on/off: send no load information */
	ADMIN_LOADLIMIT = 6,	/* load x100 above which no guest arrives; 0 none */
	ADMIN_BALANCE = 7,	/* on/off: automatic migration of our processes */
	ADMIN_NSETTINGS
};

struct admin {
	uint32_t	speed;		/* 0: not overridden */
	uint32_t	flags;		/* LV_BLOCK, LV_STAY, LV_LSTAY, LV_QUIET */
	uint32_t	loadlimit;	/* 0: none */
	int		left;		/* omctl leave, until omctl join */
	/*
	 * balance off (openMosix's automatic migration switch): none of this
	 * node's own processes leaves automatically; omctl migrate still
	 * works. Kept negated so that a zeroed struct has the default, on.
	 */
	int		nobalance;
};

void	admin_defaults(struct admin *);
/* "speed", "block", ...; NULL for an unknown setting. */
const char *admin_setting_name(uint16_t);
/* The setting called name, 0 if none. */
uint16_t admin_setting_lookup(const char *name);
/*
 * Turn the text a user typed for setting ("on", "off", a number, "auto"
 * for speed) into its value; the cause says what is expected.
 */
int	admin_value_parse(uint16_t setting, const char *text, uint32_t *value,
	    char **cause) __attribute__((warn_unused_result));
/* Check and apply one setting (a value from a peer of the control socket). */
int	admin_apply(struct admin *, uint16_t setting, uint32_t value,
	    char **cause) __attribute__((warn_unused_result));
/* The current value of a setting, as admin_apply takes it. */
uint32_t admin_get(const struct admin *, uint16_t setting);

/* The file: parse text of len bytes, causes "line N: ...". */
int	admin_parse(struct admin *, const char *text, size_t len, char **cause)
	    __attribute__((warn_unused_result));
void	admin_format(const struct admin *, struct buf *);
/* Read path; a missing file leaves the defaults. */
int	admin_load(struct admin *, const char *path, char **cause)
	    __attribute__((warn_unused_result));
/* Write path atomically (path.tmp, fsync, rename, fsync of the directory). */
int	admin_save(const struct admin *, const char *path, char **cause)
	    __attribute__((warn_unused_result));

#endif
