/* omctl-checkpoint.c: omctl checkpoint PID -o FILE [--leave-running | --kill]. */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/log.h"
#include "omm/proto.h"
#include "omm/xmalloc.h"

#include "omctl.h"

static int
parse_pid(const char *s, pid_t *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INT_MAX)
		return -1;
	*out = (pid_t)v;
	return 0;
}

/*
 * omctl writes FILE.part itself, as the user, so the image lands only
 * where the user may write; ommd gets the open descriptor. FILE appears
 * only once the image is complete and on disk.
 */
static int
cmd_checkpoint(const struct omctl_cmd *self, struct omctl_ctx *ctx, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "output",		required_argument,	NULL, 'o' },
		{ "leave-running",	no_argument,		NULL, 'l' },
		{ "kill",		no_argument,		NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint16_t		 want[] = { MSG_CHECKPOINTED, 0 };
	struct client			*c = NULL;
	struct proto_msg		 m;
	struct msg_checkpoint		 req = { .flags = 0 };
	struct msg_checkpointed		 rep = { .comm = NULL };
	struct buf			 b;
	const char			*file = NULL;
	char				*part = NULL, *cause = NULL;
	int				 ch, fd = -1, rv = 1;

	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			file = optarg;
			break;
		case 'l':
			if (req.flags == PROTO_CKPT_KILL)
				return omctl_usage(self);
			req.flags = PROTO_CKPT_LEAVE_RUNNING;
			break;
		case 'k':
			if (req.flags == PROTO_CKPT_LEAVE_RUNNING)
				return omctl_usage(self);
			req.flags = PROTO_CKPT_KILL;
			break;
		default:
			return omctl_usage(self);
		}
	}
	if (optind != argc - 1 || file == NULL || *file == '\0')
		return omctl_usage(self);
	if (parse_pid(argv[optind], &req.pid) != 0) {
		omctl_error("checkpoint: invalid pid '%s'", argv[optind]);
		return OMCTL_EXIT_USAGE;
	}
	if (req.flags == 0)
		req.flags = PROTO_CKPT_LEAVE_RUNNING;

	xasprintf(&part, "%s.part", file);
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		omctl_error("checkpoint %d: %s: %s", (int)req.pid, part,
		    strerror(errno));
		free(part);
		return 1;
	}
	if ((c = omctl_connect(ctx)) == NULL)
		goto fail_quiet;

	buf_init(&b);
	proto_encode_checkpoint(&b, &req);
	if (client_send(c, &b, fd, &cause) != 0 ||
	    client_recv(c, want, &m, CLIENT_LONG_TIMEOUT_MS, &cause) != 0 ||
	    proto_decode_checkpointed(&m, &rep, &cause) != 0) {
		buf_free(&b);
		goto fail;
	}
	buf_free(&b);
	if (fsync(fd) == -1) {
		cause_set(&cause, "fsync %s: %s", part, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		cause_set(&cause, "close %s: %s", part, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(part, file) == -1) {
		cause_set(&cause, "rename %s to %s: %s", part, file,
		    strerror(errno));
		goto fail;
	}
	printf("checkpointed %d (%s) to %s: %llu pages, %.1f MiB, frozen "
	    "%.3f s, total %.3f s\n", (int)rep.pid, rep.comm, file,
	    (unsigned long long)rep.stats.pages, rep.stats.bytes / 1048576.0,
	    rep.stats.freeze_secs, rep.stats.secs);
	rv = 0;
	goto out;

fail:
	omctl_error("checkpoint %d: %s", (int)req.pid, cause);
fail_quiet:
	unlink(part);
out:
	if (fd != -1)
		close(fd);
	proto_free_checkpointed(&rep);
	client_close(c);
	free(part);
	free(cause);
	return rv;
}

const struct omctl_cmd cmd_checkpoint_entry = {
	.name = "checkpoint",
	.alias = "ckpt",
	.usage = "PID -o FILE [--leave-running | --kill]",
	.help = "write an image of a process to FILE (it stops for the dump, "
	    "then goes on, or ends with --kill)",
	.exec = cmd_checkpoint,
};
