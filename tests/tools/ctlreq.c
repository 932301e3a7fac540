/*
 * ctlreq: ask ommd to act on a child of ours, as a client that does what
 * omrun would not: for the refusals of tests/integration/45-security-privilege.
 *
 *   ctlreq [-s SOCKET] [--when FILE] -o RESULT restore IMAGE -- CMD ARGS...
 *   ctlreq [-s SOCKET] [--when FILE] -o RESULT manage -- CMD ARGS...
 *
 * Forks a child that execs CMD at once (on our stdio: a test gives us a
 * pty, so a set-uid su prompts on it), waits until FILE exists (the caller
 * saw the child get where it wanted, e.g. su's password prompt), then
 * sends ommd a RESTORE of IMAGE into the child or a MANAGE of it, and
 * writes one line to RESULT: "refused: CAUSE", "restored PID" or
 * "managed PID". Then it waits for the child and exits with its status
 * (128+N if killed by signal N); 125 on an error of its own.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/client.h"
#include "omm/proto.h"

#define EXIT_OWN	125
#define WHEN_WAIT_S	60

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("ctlreq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_OWN);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: ctlreq [-s SOCKET] [--when FILE] -o RESULT "
	    "restore IMAGE -- CMD ARGS...\n"
	    "       ctlreq [-s SOCKET] [--when FILE] -o RESULT manage -- "
	    "CMD ARGS...\n");
	exit(2);
}

static void
wait_file(const char *path)
{
	struct timespec	ts = { 0, 50 * 1000 * 1000 };
	struct stat	st;
	int		n;

	for (n = 0; n < WHEN_WAIT_S * 20; n++) {
		if (stat(path, &st) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	die("%s never came", path);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "when",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 },
	};
	static const uint16_t	 want_restored[] = { MSG_RESTORED, 0 };
	static const uint16_t	 want_ok[] = { MSG_OK, 0 };
	const char		*sock = NULL, *when = NULL, *out = NULL;
	const char		*image = NULL;
	struct client		*c;
	struct proto_msg	 reply;
	struct msg_pid		 mp;
	struct buf		 req;
	FILE			*f;
	char			*cause = NULL;
	int			 ch, restore, fd = -1, st, rv;
	pid_t			 pid;

	while ((ch = getopt_long(argc, argv, "+s:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			when = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (out == NULL || argc < 1)
		usage();
	restore = strcmp(argv[0], "restore") == 0;
	if (!restore && strcmp(argv[0], "manage") != 0)
		usage();
	argc--;
	argv++;
	if (restore) {
		if (argc < 1)
			usage();
		image = argv[0];
		argc--;
		argv++;
	}
	if (argc < 2 || strcmp(argv[0], "--") != 0)
		usage();
	argv++;

	if ((c = client_open(client_socket_path(sock), &cause)) == NULL)
		die("%s", cause);
	/* as the user, like omrun: its own permissions apply */
	if (image != NULL && (fd = open(image, O_RDONLY | O_CLOEXEC)) == -1)
		die("%s: %s", image, strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(client_fd(c));
		execvp(argv[0], argv);
		fprintf(stderr, "ctlreq: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (when != NULL)
		wait_file(when);

	buf_init(&req);
	mp.pid = pid;
	if (restore)
		proto_encode_restore(&req, &mp);
	else
		proto_encode_manage(&req, &mp);
	if (client_send(c, &req, fd, &cause) != 0)
		die("%s", cause);
	rv = client_recv(c, restore ? want_restored : want_ok, &reply,
	    CLIENT_LONG_TIMEOUT_MS, &cause);
	if ((f = fopen(out, "w")) == NULL)
		die("%s: %s", out, strerror(errno));
	if (rv != 0) {
		fprintf(f, "refused: %s\n", cause);
		free(cause);
	}
	else
		fprintf(f, "%s %d\n", restore ? "restored" : "managed",
		    (int)pid);
	if (fclose(f) == EOF)
		die("%s: %s", out, strerror(errno));
	buf_free(&req);
	client_close(c);

	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
