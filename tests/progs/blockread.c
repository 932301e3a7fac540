/*
 * blockread: blocked in read(2) on stdin when checkpointed. The line that
 * arrives after the restore is the trigger: it must be read whole, without
 * an EINTR surfacing, and echoed.
 *
 * usage: blockread [expected-line]   (default "hello omm")
 */
#include "prog.h"

int
main(int argc, char **argv)
{
	const char	*want = argc > 1 ? argv[1] : "hello omm";
	char		 line[4096];
	size_t		 len = 0;
	ssize_t		 n;
	int		 eintr = 0;

	prog_arm("blockread");
	prog_ready();

	/* Raw read(2), no stdio buffering: the process sits in the syscall. */
	while (len < sizeof line - 1) {
		n = read(STDIN_FILENO, line + len, sizeof line - 1 - len);
		if (n == -1 && errno == EINTR) {
			eintr++;
			continue;
		}
		if (n == -1) {
			prog_fail("read stdin: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			prog_fail("end of file on stdin before a line "
			    "(%zu bytes)", len);
			break;
		}
		len += n;
		if (memchr(line, '\n', len) != NULL)
			break;
	}
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';

	printf("GOT %s\n", line);
	CHECK(eintr == 0, "read returned EINTR %d times", eintr);
	CHECK(strcmp(line, want) == 0, "read \"%s\", expected \"%s\"", line,
	    want);
	return prog_finish();
}
