/*
 * deputyd.h: the deputy process of a migrated process (docs/migration.md).
 * ommd forks it and calls deputyd_main in the child, which never returns.
 * When the process comes home the deputy execs ommd in holder mode
 * (deputyd_holder_main), a process of the owner's that holds nothing but
 * the process's descriptors, cwd and umask, from which ommd moves them into
 * the process (ckpt_adopt_fds).
 */
#ifndef OMMD_DEPUTYD_H
#define OMMD_DEPUTYD_H

#include <sys/types.h>

#include <netinet/in.h>

#include <openssl/ssl.h>

#include <stdint.h>

struct depstats;

struct deputyd_args {
	pid_t			 orig;		/* the process, at home */
	uid_t			 uid;
	gid_t			 gid;
	const char		*comm;
	int			 ctl;		/* socketpair end: depmsg.h */
	int			 img_out;	/* read: the dump ommd writes */
	int			 img_in;	/* write: an image coming home */
	int			 floor;		/* our own fds at or above */
	SSL_CTX			*ctx;
	uint32_t		 self;		/* this node */
	uint64_t		 incarnation;
	uint32_t		 host;		/* where it goes */
	struct sockaddr_in	 to;		/* the host's migration port */
	uint64_t		 image_bytes;	/* estimate, for the offer */
	struct depstats		*stats;		/* shared with ommd */
};

void	deputyd_main(const struct deputyd_args *) __attribute__((noreturn));
/* In D, once the image is home: exec into the holder. */
void	deputyd_become_holder(int ctl, int floor) __attribute__((noreturn));
/* ommd --hold CTL FDS: the holder's main. */
int	deputyd_holder_main(int argc, char **argv);
/* open(/proc/PID/cwd) as a path descriptor, or -1 */
int	open_cwd(pid_t);

#endif
