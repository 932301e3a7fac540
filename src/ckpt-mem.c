/*
 * ckpt-mem.c: reading a tracee's pages, for the dump and for the restore's
 * read-back check.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "omm/log.h"

#include "ckpt-int.h"

/*
 * Read n pages at addrs (ascending, all in one mapping, n at most
 * CKPT_READ_MAX) into buf, in one process_vm_readv over merged runs. A
 * mapping without PROT_READ (or a short read) goes through /proc/PID/mem
 * (memfd), which reads with FOLL_FORCE.
 */
int
ckpt_read_pages(pid_t pid, int memfd, const uint64_t *addrs, size_t n,
    uint8_t *buf, int readable, char **cause)
{
	struct iovec	 local, remote[CKPT_READ_MAX];
	size_t		 nr = 0, i, done;
	ssize_t		 got;

	if (n > CKPT_READ_MAX)
		return cause_set(cause, "reading %zu pages at once", n);
	for (i = 0; i < n; i++) {
		if (nr > 0 && (uint64_t)remote[nr - 1].iov_base +
		    remote[nr - 1].iov_len == addrs[i])
			remote[nr - 1].iov_len += CKPT_PAGE;
		else {
			remote[nr].iov_base = (void *)addrs[i];
			remote[nr].iov_len = CKPT_PAGE;
			nr++;
		}
	}
	if (readable) {
		local.iov_base = buf;
		local.iov_len = n * CKPT_PAGE;
		got = process_vm_readv(pid, &local, 1, remote, nr, 0);
		if (got == (ssize_t)(n * CKPT_PAGE))
			return 0;
	}
	for (i = 0, done = 0; i < nr; i++) {
		size_t	off = 0;

		while (off < remote[i].iov_len) {
			got = pread(memfd, buf + done + off,
			    remote[i].iov_len - off,
			    (off_t)((uint64_t)remote[i].iov_base + off));
			if (got == -1 && errno == EINTR)
				continue;
			if (got <= 0)
				return cause_set(cause, "reading memory at %#" PRIx64
				    ": %s", (uint64_t)remote[i].iov_base + off,
				    got == 0 ? "end of file" : strerror(errno));
			off += got;
		}
		done += remote[i].iov_len;
	}
	return 0;
}
