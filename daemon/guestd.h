/*
 * guestd.h: the guest server of a migrated process on its host (S in
 * docs/migration.md). host.c forks it per arriving migration connection and
 * calls guestd_main in the child, which never returns.
 */
#ifndef OMMD_GUESTD_H
#define OMMD_GUESTD_H

#include <sys/types.h>

#include <openssl/ssl.h>

#include <stdint.h>

/* The unprivileged user guests run as. */
#define GUEST_USER	"omm-guest"

/* This node now, as the host's ommd publishes it for the guest servers. */
struct host_now {
	volatile uint32_t	load;		/* x100 */
	volatile uint32_t	cpus_milli;
};

struct guestd_args {
	int		 fd;		/* the accepted TCP connection */
	int		 ctl;		/* to the host's ommd: depmsg READY */
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
};

void	guestd_main(const struct guestd_args *) __attribute__((noreturn));

#endif
