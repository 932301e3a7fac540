/*
 * membarrier: a process's membarrier registrations (issue 10, section 2).
 * It registers for every private expedited command this kernel offers
 * (plain, SYNC_CORE, RSEQ) and for GLOBAL_EXPEDITED. At each check
 * (membarrier [CHECKS], one per SIGUSR1) each private expedited command
 * must still work: without its registration the kernel answers EPERM.
 * (Whether GLOBAL_EXPEDITED is registered cannot be asked of the kernel;
 * docs/limits.md says what omm does about it.)
 */
#include <sys/syscall.h>

#include <linux/membarrier.h>

#include "prog.h"

static const struct cmd {
	const char	*name;
	int		 reg, cmd;
} cmds[] = {
	{ "private_expedited", MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
	    MEMBARRIER_CMD_PRIVATE_EXPEDITED },
	{ "private_expedited_sync_core",
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
	    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE },
	{ "private_expedited_rseq", MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
	    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ },
};
#define NCMD	(sizeof cmds / sizeof cmds[0])

static long
mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int
main(int argc, char **argv)
{
	long	q, r;
	int	reg[NCMD], checks = prog_checks(argc, argv), c;
	size_t	k;

	prog_arm("membarrier");
	if ((q = mb(MEMBARRIER_CMD_QUERY)) == -1)
		prog_die("membarrier QUERY");
	for (k = 0; k < NCMD; k++) {
		reg[k] = (q & cmds[k].reg) != 0;
		if (!reg[k]) {
			printf("%s: not offered here\n", cmds[k].name);
			continue;
		}
		/* before registering, the command is refused: the check can fail */
		if (mb(cmds[k].cmd) != -1 || errno != EPERM)
			prog_die("an unregistered command worked");
		if (mb(cmds[k].reg) == -1)
			prog_die(cmds[k].name);
		printf("%s: registered\n", cmds[k].name);
	}
	if ((q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
	    mb(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == -1)
		prog_die("register global expedited");
	prog_ready();
	prog_wait_usr1();
	for (c = 1; c <= checks; c++) {
		if (c > 1)
			prog_wait_next();
		for (k = 0; k < NCMD; k++) {
			if (!reg[k])
				continue;
			r = mb(cmds[k].cmd);
			CHECK(r == 0, "%s: %s (registration lost)", cmds[k].name,
			    r == -1 ? strerror(errno) : "odd result");
		}
		printf("check %d: registrations hold\n", c);
		fflush(stdout);
	}
	return prog_finish();
}
