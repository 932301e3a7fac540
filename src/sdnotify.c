/* sdnotify.c: readiness and status to the service manager (sdnotify.h). */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"
#include "omm/sdnotify.h"

int
sdnotify_addr(const char *env, struct sockaddr_un *sun, socklen_t *len,
    char **cause)
{
	size_t	n;

	if (env == NULL || *env == '\0')
		return cause_set(cause, "NOTIFY_SOCKET is empty");
	if (env[0] != '/' && env[0] != '@')
		return cause_set(cause, "NOTIFY_SOCKET=%s: neither an absolute "
		    "path nor an abstract name (@...)%s", env,
		    strncmp(env, "vsock:", 6) == 0 ? "; vsock is not spoken" :
		    "");
	n = strlen(env);
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (n >= sizeof sun->sun_path)
		return cause_set(cause, "NOTIFY_SOCKET=%s: longer than a "
		    "socket address (%zu bytes)", env,
		    sizeof sun->sun_path - 1);
	memcpy(sun->sun_path, env, n);
	/* abstract: a leading NUL, and the length counts exactly the name */
	if (env[0] == '@')
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (env[0] == '/' ? 1 : 0));
	return 0;
}

int
sdnotify_send(const char *state, char **cause)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	const char		*env = getenv("NOTIFY_SOCKET");
	ssize_t			 n;
	int			 fd, e;

	if (env == NULL)
		return 0;
	if (sdnotify_addr(env, &sun, &len, cause) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return cause_set(cause, "notify socket: %s", strerror(errno));
	do
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, len);
	while (n == -1 && errno == EINTR);
	e = errno;
	close(fd);
	if (n == -1)
		return cause_set(cause, "notifying the service manager at "
		    "%s: %s", env, strerror(e));
	return 1;
}

void
sdnotify(const char *state)
{
	char	*cause = NULL;

	if (sdnotify_send(state, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
	}
}
