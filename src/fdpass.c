/* fdpass.c: datagrams with one SCM_RIGHTS descriptor, EINTR retried. */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "omm/fdpass.h"

/* Room for a few descriptors, so that extras are seen and closed, not lost. */
#define FDPASS_MAXFDS	8

ssize_t
fdpass_send(int sock, const void *p, size_t len, int fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 ctl;
	ssize_t		 n;

	memset(&mh, 0, sizeof mh);
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&ctl, 0, sizeof ctl);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof ctl.buf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
fdpass_recv(int sock, void *p, size_t size, int *fd, int *excess, int *trunc)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(FDPASS_MAXFDS * sizeof(int))];
	}		 ctl;
	int		 fds[FDPASS_MAXFDS], nfds = 0, i;
	ssize_t		 n;

	*fd = -1;
	*excess = *trunc = 0;
	memset(&mh, 0, sizeof mh);
	iov.iov_base = p;
	iov.iov_len = size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		size_t	k, j;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (j = 0; j < k && nfds < FDPASS_MAXFDS; j++) {
			memcpy(&fds[nfds++], CMSG_DATA(cm) + j * sizeof(int),
			    sizeof(int));
		}
	}
	*trunc = (mh.msg_flags & MSG_TRUNC) != 0;
	if ((mh.msg_flags & MSG_CTRUNC) || nfds > 1) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		*excess = 1;
	} else if (nfds == 1)
		*fd = fds[0];
	return n;
}
