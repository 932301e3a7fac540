/*
 * test_sdnotify.c: the NOTIFY_SOCKET address (paths, abstract names,
 * refusals), a datagram that reaches a socket of ours, and the
 * JOURNAL_STREAM match that turns on log priorities.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/log.h"
#include "omm/sdnotify.h"

struct addr_case {
	const char	*what;
	const char	*env;
	int		 ok;
	const char	*cause;		/* a part of it, when refused */
};

static const struct addr_case addr_cases[] = {
	{ "a path", "/run/systemd/notify", 1, NULL },
	{ "an abstract name", "@/org/freedesktop/systemd1/notify/1", 1, NULL },
	{ "empty", "", 0, "empty" },
	{ "relative", "run/notify", 0, "neither an absolute path" },
	{ "vsock", "vsock:2:999", 0, "vsock is not spoken" },
	{ "too long", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
	    "longer than a socket address" },
};

static void
test_addr(void **state)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			*cause = NULL;
	size_t			 i, n;

	for (i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
		const struct addr_case *c = &addr_cases[i];

		print_message("NOTIFY_SOCKET %s\n", c->what);
		if (!c->ok) {
			assert_int_equal(sdnotify_addr(c->env, &sun, &len,
			    &cause), -1);
			assert_non_null(strstr(cause, c->cause));
			free(cause);
			cause = NULL;
			continue;
		}
		assert_int_equal(sdnotify_addr(c->env, &sun, &len, &cause), 0);
		assert_int_equal(sun.sun_family, AF_UNIX);
		n = strlen(c->env);
		if (c->env[0] == '@') {
			/* abstract: NUL first, the length exactly the name's */
			assert_int_equal(sun.sun_path[0], '\0');
			assert_memory_equal(sun.sun_path + 1, c->env + 1, n - 1);
			assert_int_equal(len,
			    offsetof(struct sockaddr_un, sun_path) + n);
		} else {
			assert_string_equal(sun.sun_path, c->env);
			assert_int_equal(len,
			    offsetof(struct sockaddr_un, sun_path) + n + 1);
		}
	}
}

/* A datagram reaches the socket named, as a path and as an abstract name. */
static void
test_send(void **state)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			 path[64], buf[256], *cause = NULL;
	const char		*envs[2];
	ssize_t			 n;
	int			 fd, k;

	snprintf(path, sizeof path, "/tmp/omm-test-notify.%d", (int)getpid());
	envs[0] = path;
	snprintf(buf, sizeof buf, "@omm-test-notify.%d", (int)getpid());
	envs[1] = strdup(buf);
	for (k = 0; k < 2; k++) {
		unlink(path);
		assert_int_equal(sdnotify_addr(envs[k], &sun, &len, &cause), 0);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
		setenv("NOTIFY_SOCKET", envs[k], 1);
		assert_int_equal(sdnotify_send("READY=1\nSTATUS=up", &cause), 1);
		n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		assert_int_equal(n, strlen("READY=1\nSTATUS=up"));
		buf[n] = '\0';
		assert_string_equal(buf, "READY=1\nSTATUS=up");
		close(fd);
	}
	unlink(path);
	/* nobody listening: an error that names the socket */
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_send("READY=1", &cause), -1);
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	/* no service manager: nothing to do, no error */
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1", &cause), 0);
	assert_null(cause);
	free((char *)envs[1]);
}

struct stream_case {
	const char		*what;
	const char		*env;
	unsigned long long	 dev, ino;
	int			 want;
};

static const struct stream_case stream_cases[] = {
	{ "the journal's stream", "8:12345", 8, 12345, 1 },
	{ "another inode (stderr redirected)", "8:12345", 8, 12346, 0 },
	{ "another device", "9:12345", 8, 12345, 0 },
	{ "unset", NULL, 8, 12345, 0 },
	{ "empty", "", 0, 0, 0 },
	{ "no inode", "8:", 8, 0, 0 },
	{ "no colon", "812345", 812345, 0, 0 },
	{ "trailing text", "8:12345x", 8, 12345, 0 },
	{ "large numbers", "18446744073709551615:4294967296",
	    18446744073709551615ULL, 4294967296ULL, 1 },
};

static void
test_journal_stream(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof stream_cases / sizeof stream_cases[0]; i++) {
		const struct stream_case *c = &stream_cases[i];

		print_message("JOURNAL_STREAM: %s\n", c->what);
		assert_int_equal(log_journal_stream(c->env, c->dev, c->ino),
		    c->want);
	}
}

/* log_init sees stderr as the journal's: each line carries its priority. */
static void
test_prefix(void **state)
{
	struct stat	 st;
	char		 path[64], env[64], buf[512];
	FILE		*f;
	size_t		 n;
	int		 fd, saved;

	snprintf(path, sizeof path, "/tmp/omm-test-journal.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("t", LOG_TO_STDERR, 1);
	log_warnx("w %d", 1);
	log_info("i");
	log_debug("d");
	/* another stream: plain lines */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init("t", LOG_TO_STDERR, 1);
	log_warnx("plain");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	log_init("t", LOG_TO_STDERR, 0);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(buf, "<4>w 1\n<6>i\n<7>d\nt: plain\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_journal_stream),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
