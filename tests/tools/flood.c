/*
 * flood.c: connections that never authenticate, for 93-dos-limits.
 *
 *   flood tcp  ADDR PORT N SECONDS      hold N idle TCP connections open
 *   flood rate ADDR PORT PER_MIN SECONDS  PER_MIN connections a minute,
 *                                       each sends half a TLS record, closes
 *   flood unix PATH N SECONDS           hold N idle control connections
 *
 * A held connection the server closes is opened again a second later, so
 * the pressure stays for the whole time. At the end one line says what
 * happened: "opened A, closed by the server C, refused R, open O"; for
 * unix, the first error message the server sent, if any, on a second line.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN	4096

static struct sockaddr_storage	 to;
static socklen_t		 tolen;
static int			 unix_mode;
static unsigned long		 opened, closed, refused;
static char			 message[1024];

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: flood tcp ADDR PORT N SECONDS | "
	    "rate ADDR PORT PER_MIN SECONDS | unix PATH N SECONDS\n");
	exit(2);
}

/* A connection, non-blocking; -1 when the server refused it at once. */
static int
open_one(void)
{
	int	fd;

	fd = socket(to.ss_family, (unix_mode ? SOCK_SEQPACKET : SOCK_STREAM) |
	    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		perror("socket");
		exit(1);
	}
	if (connect(fd, (struct sockaddr *)&to, tolen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		refused++;
		return -1;
	}
	opened++;
	return fd;
}

/* Did the server close fd (or say something, then close)? */
static int
gone(int fd)
{
	char	buf[2048];
	ssize_t	n;

	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n > 0) {
		/* an ERROR message: header (8 bytes), u32 length, text */
		if (unix_mode && message[0] == '\0' && n > 12)
			snprintf(message, sizeof message, "%.*s", (int)(n - 12),
			    buf + 12);
		return 0;
	}
	if (n == 0)
		return 1;
	return errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN &&
	    errno != EINPROGRESS;
}

static void
hold(int n, double secs)
{
	static struct pollfd	pfd[MAXCONN];
	static double		again[MAXCONN];	/* when a closed one reopens */
	double			end = now_s() + secs, t;
	int			i;

	for (i = 0; i < n; i++)
		pfd[i].fd = open_one();
	while (now_s() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].events = POLLIN | POLLRDHUP;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR) {
			perror("poll");
			exit(1);
		}
		t = now_s();
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1) {
				if (t >= again[i])
					pfd[i].fd = open_one();
				continue;
			}
			if ((pfd[i].revents & (POLLIN | POLLRDHUP | POLLHUP |
			    POLLERR)) == 0 || !gone(pfd[i].fd)) {
				if (pfd[i].revents & (POLLHUP | POLLERR)) {
					close(pfd[i].fd);
					pfd[i].fd = -1;
					again[i] = t + 1;
					closed++;
				}
				continue;
			}
			close(pfd[i].fd);
			pfd[i].fd = -1;
			again[i] = t + 1;
			closed++;
		}
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	}
}

/* per_min connections a minute: half a ClientHello record, then close. */
static void
rate(int per_min, double secs)
{
	static const unsigned char	half[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
					    0x01, 0x00, 0x01, 0xfc, 0x03 };
	double				start = now_s(), next = start;
	int				fd;

	while (now_s() < start + secs) {
		if ((fd = open_one()) != -1) {
			struct pollfd	p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, 200) == 1)
				(void)send(fd, half, sizeof half, MSG_NOSIGNAL);
			close(fd);
		}
		next += 60.0 / per_min;
		while (now_s() < next)
			usleep(1000);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&to;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&to;
	int			 n;
	double			 secs;

	if (argc < 2)
		usage();
	memset(&to, 0, sizeof to);
	if (strcmp(argv[1], "unix") == 0) {
		if (argc != 5 || strlen(argv[2]) >= sizeof sun->sun_path)
			usage();
		unix_mode = 1;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, argv[2]);
		tolen = sizeof *sun;
		n = atoi(argv[3]);
		secs = atof(argv[4]);
	} else {
		if (argc != 6)
			usage();
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sin->sin_addr) != 1)
			usage();
		tolen = sizeof *sin;
		n = atoi(argv[4]);
		secs = atof(argv[5]);
	}
	if (n < 1 || n > MAXCONN || secs <= 0)
		usage();
	if (strcmp(argv[1], "rate") == 0)
		rate(n, secs);
	else if (strcmp(argv[1], "tcp") == 0 || unix_mode)
		hold(n, secs);
	else
		usage();
	printf("opened %lu, closed by the server %lu, refused %lu\n", opened,
	    closed, refused);
	if (message[0] != '\0')
		printf("message: %s\n", message);
	return 0;
}
