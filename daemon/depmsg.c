/* depmsg.c: ommd <-> deputy datagrams (depmsg.h). */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/fdpass.h"
#include "omm/log.h"

#include "depmsg.h"

static const char *const names[DM_NTYPES] = {
	[DM_ACCEPTED] = "ACCEPTED", [DM_REFUSED] = "REFUSED",
	[DM_READY] = "READY", [DM_FAILED] = "FAILED", [DM_EXITED] = "EXITED",
	[DM_STOPPED] = "STOPPED", [DM_LEAVING] = "LEAVING",
	[DM_HOLDING] = "HOLDING", [DM_LOST] = "LOST", [DM_DUMPED] = "DUMPED",
	[DM_DUMPFAIL] = "DUMPFAIL", [DM_SIGNAL] = "SIGNAL", [DM_BRING] = "BRING",
	[DM_HOLD] = "HOLD", [DM_MOVED] = "MOVED", [DM_MOVEFAIL] = "MOVEFAIL",
	[DM_STAY] = "STAY", [DM_PARKED] = "PARKED",
};

const char *
depmsg_name(uint32_t type)
{
	return type > 0 && type < DM_NTYPES ? names[type] : "unknown";
}

int
depmsg_send(int fd, const struct depmsg *m, char **cause)
{
	ssize_t	n;

	do
		n = send(fd, m, sizeof *m, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return cause_set(cause, "deputy channel: %s", strerror(errno));
	return 0;
}

int
depmsg_send_fd(int fd, const struct depmsg *m, int passfd, char **cause)
{
	ssize_t	n;

	do
		n = fdpass_send(fd, m, sizeof *m, passfd);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return cause_set(cause, "deputy channel: %s", strerror(errno));
	return 0;
}

int
depmsg_recv(int fd, struct depmsg *m, char **cause)
{
	int	passfd, rv;

	if ((rv = depmsg_recv_fd(fd, m, &passfd, cause)) == 0 && passfd != -1)
		close(passfd);	/* not asked for: not kept */
	return rv;
}

int
depmsg_recv_fd(int fd, struct depmsg *m, int *passfd, char **cause)
{
	ssize_t	n;
	int	excess, trunc;

	*passfd = -1;
	do
		n = fdpass_recv(fd, m, sizeof *m, passfd, &excess, &trunc);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return cause_set(cause, "deputy channel: %s", strerror(errno));
	if (n > 0 && (excess || trunc)) {
		if (*passfd != -1)
			close(*passfd);
		*passfd = -1;
		return cause_set(cause, "deputy channel: malformed message");
	}
	if (n == 0)
		return cause_set(cause, "deputy channel closed");
	if ((size_t)n != sizeof *m) {
		if (*passfd != -1)
			close(*passfd);
		*passfd = -1;
		return cause_set(cause, "deputy channel: message of %zd bytes",
		    n);
	}
	if (m->type == 0 || m->type >= DM_NTYPES) {
		if (*passfd != -1)
			close(*passfd);
		*passfd = -1;
		return cause_set(cause, "deputy channel: type %u", m->type);
	}
	m->text[DEPMSG_TEXT - 1] = '\0';
	return 0;
}

int
depmsg_sendf(int fd, uint32_t type, int32_t a, int32_t b, const char *fmt, ...)
{
	struct depmsg	 m;
	va_list		 ap;
	char		*cause = NULL;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.a = a;
	m.b = b;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(m.text, sizeof m.text, fmt, ap);
		va_end(ap);
	}
	if (depmsg_send(fd, &m, &cause) == -1) {
		log_debug("%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}
