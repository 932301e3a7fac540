/*
 * guestd.h: the guest server of a migrated process on its host (S in
 * docs/migration.md). host.c forks it per arriving migration connection and
 * calls guestd_main in the child, which never returns.
 */
#ifndef OMMD_GUESTD_H
#define OMMD_GUESTD_H

#include <sys/types.h>

#include <openssl/ssl.h>

struct miglink;

#include <limits.h>
#include <stdint.h>

/* The unprivileged user guests run as. */
#define GUEST_USER	"omm-guest"

/* This node now, as the host's ommd publishes it for the guest servers. */
struct host_now {
	volatile uint32_t	load;		/* x100 */
	volatile uint32_t	cpus_milli;
};

/*
 * The cgroup guests live in, one group each below dir (host.c makes it,
 * guestd.c a group per guest): cgroup v2's memory.high at limit, or v1's
 * memory.limit_in_bytes with the OOM killer off (docs/migration.md).
 */
struct guest_cg {
	int		 kind;		/* enum cg_kind; CG_NONE: refuse guests */
	char		 why[512];	/* CG_NONE: what is missing */
	char		 dir[PATH_MAX];	/* <ommd's group>/guests */
	uint64_t	 limit;		/* bytes a guest may use */
};

struct guestd_args {
	/*
	 * The migration connection, its TLS handshake completed in ommd's
	 * loop (host.c): nothing is forked for a connection that has not
	 * authenticated.
	 */
	struct miglink	*link;
	int		 ctl;		/* to the host's ommd: depmsg READY */
	/*
	 * ommd's internal socket: should ommd go away (a restart, a crash),
	 * the server goes on and registers its guest with the next one
	 * (jobmsg JM_GUEST); none within ORPHAN_S and the guest goes home.
	 */
	const char	*internal_path;
	SSL_CTX		*ctx;
	uint32_t	 self;
	const char	*self_name;
	int		 blocked;	/* admin block on: refuse */
	int		 over_limit;	/* load over the admin's loadlimit */
	uint32_t	 load, loadlimit;
	const struct host_now *now;
	int		 have_guest_user;
	uid_t		 guest_uid;
	gid_t		 guest_gid;
	const struct guest_cg *cg;
};

void	guestd_main(const struct guestd_args *) __attribute__((noreturn));

#endif
