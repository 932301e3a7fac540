/*
 * test_marshal.c: forwarded calls through the whole byte path, in one
 * process: our own memory is the guest's (read and written with
 * process_vm_readv/writev, so unmapped pages fault for real), an in-process
 * deputy runs the calls. Then every decoder's refusals.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "omm/buf.h"
#include "omm/deputy.h"
#include "omm/marshal.h"
#include "omm/sysent.h"

#define FLOOR	900
#define REP_HDR	(8 + 8 + 1 + 4)		/* seq ret sig nbuf */
#define ENT_HDR	(1 + 1 + 2 + 4)		/* arg part elem len */
#define U(p)	((uint64_t)(uintptr_t)(p))

static struct deputy	*dep;
static uint64_t		 seq;
static uint8_t		 last_sig;

static ssize_t
guest_read(void *ctx, uint64_t addr, void *p, size_t len)
{
	struct iovec	l = { p, len }, r = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0);
}

static int
guest_write(void *ctx, uint64_t addr, const void *p, size_t len)
{
	struct iovec	l = { (void *)p, len }, r = { (void *)(uintptr_t)addr, len };

	return process_vm_writev(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ?
	    0 : -1;
}

/* One forwarded call, the whole way: ret, or -errno answered at once. */
static int64_t
fwd6(int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
    uint64_t a5)
{
	uint64_t	 args[6] = { a0, a1, a2, a3, a4, a5 };
	struct sysreq	 req;
	struct sysrep	 rep;
	struct buf	 out, back;
	char		*cause = NULL;
	uint16_t	 rtype = 0;
	int64_t		 ret;
	int		 err;

	buf_init(&out);
	buf_init(&back);
	last_sig = 0;
	err = marshal_request(&req, ++seq, nr, args, guest_read, NULL, &out,
	    &cause);
	if (err != 0) {
		free(cause);
		buf_free(&out);
		return -err;
	}
	if (deputy_handle(dep, MARSHAL_SYSCALL_REQ, out.data, out.len, &back,
	    &rtype, &cause) == -1)
		fail_msg("deputy: %s", cause);
	assert_int_equal(rtype, MARSHAL_SYSCALL_REP);
	if (marshal_decode_reply(&req, back.data, back.len, &rep, &cause) == -1)
		fail_msg("reply: %s", cause);
	ret = rep.ret;
	last_sig = rep.sig;
	if ((err = marshal_apply_reply(&req, &rep, guest_write, NULL,
	    &cause)) != 0) {
		free(cause);
		ret = -err;
	}
	sysrep_free(&rep);
	sysreq_free(&req);
	buf_free(&out);
	buf_free(&back);
	return ret;
}

#define fwd(nr, ...)	fwd_(nr, __VA_ARGS__, 0, 0, 0, 0, 0, 0)
#define fwd_(nr, a, b, c, d, e, f, ...) \
	fwd6(nr, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d), \
	    (uint64_t)(e), (uint64_t)(f))

static int
setup(void **state)
{
	char	*cause = NULL;

	if ((dep = deputy_new(getpid(), FLOOR, &cause)) == NULL) {
		fprintf(stderr, "deputy: %s\n", cause);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	deputy_free(dep);
	return 0;
}

/* ---- calls that work ---- */

static void
test_pipe_read_write(void **state)
{
	int	fds[2] = { -1, -1 };
	char	buf[100];
	int	n;

	assert_int_equal(fwd(SYS_pipe2, fds, O_CLOEXEC), 0);
	assert_true(fds[0] > 2 && fds[0] < FLOOR && fds[1] > 2);
	assert_int_equal(fwd(SYS_write, fds[1], "hello", 5), 5);
	assert_int_equal(fwd(SYS_ioctl, fds[0], FIONREAD, &n), 0);
	assert_int_equal(n, 5);
	memset(buf, '#', sizeof buf);
	assert_int_equal(fwd(SYS_read, fds[0], buf, sizeof buf), 5);
	assert_memory_equal(buf, "hello", 5);
	/* Nothing past what the kernel returned came back. */
	assert_int_equal(buf[5], '#');
	assert_int_equal(buf[99], '#');
	assert_int_equal(fwd(SYS_fcntl, fds[1], F_GETFL), O_WRONLY);
	assert_int_equal(fwd(SYS_close, fds[0]), 0);
	/* The read end is gone: EPIPE, and SIGPIPE travels with it. */
	assert_int_equal(fwd(SYS_write, fds[1], "x", 1), -EPIPE);
	assert_int_equal(last_sig, SIGPIPE);
	assert_int_equal(fwd(SYS_close, fds[1]), 0);
	assert_int_equal(fwd(SYS_close, fds[1]), -EBADF);
}

static void
test_files(void **state)
{
	char		 path[] = "/tmp/omm-test-marshal.XXXXXX", cwd[4096];
	char		 small[2], got[4096];
	struct stat	 st, lst;
	struct utsname	 u, lu;
	int		 fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(fwd(SYS_openat, AT_FDCWD, "/nonexistent/omm", O_RDONLY),
	    -ENOENT);
	assert_int_equal(fwd(SYS_newfstatat, AT_FDCWD, path, &st, 0), 0);
	assert_int_equal(stat(path, &lst), 0);
	assert_true(st.st_ino == lst.st_ino && st.st_size == 10);
	fd = fwd(SYS_openat, AT_FDCWD, path, O_RDONLY);
	assert_true(fd > 2 && fd < FLOOR);
	memset(got, 0, sizeof got);
	assert_int_equal(fwd(SYS_pread64, fd, got, 4, 3), 4);
	assert_string_equal(got, "3456");
	assert_int_equal(fwd(SYS_fstat, fd, &st), 0);
	assert_int_equal(st.st_size, 10);
	assert_int_equal(fwd(SYS_close, fd), 0);
	assert_int_equal(fwd(SYS_unlink, path), 0);
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(fwd(SYS_getcwd, small, sizeof small), -ERANGE);
	assert_non_null(getcwd(cwd, sizeof cwd));
	memset(got, 0, sizeof got);
	assert_int_equal(fwd(SYS_getcwd, got, sizeof got), strlen(cwd) + 1);
	assert_string_equal(got, cwd);
	assert_int_equal(fwd(SYS_uname, &u), 0);
	assert_int_equal(uname(&lu), 0);
	assert_memory_equal(&u, &lu, sizeof u);
	assert_int_equal(fwd(SYS_readlink, "/proc/self/exe", got, 0), -EINVAL);
}

static void
test_iovec(void **state)
{
	int		fds[2];
	char		a[1] = "?", b[8];
	struct iovec	w[3] = { { "ab", 2 }, { NULL, 0 }, { "cde", 3 } };
	struct iovec	r[3] = { { a, 1 }, { NULL, 0 }, { b, sizeof b } };

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fwd(SYS_writev, fds[1], w, 3), 5);
	memset(b, '#', sizeof b);
	assert_int_equal(fwd(SYS_readv, fds[0], r, 3), 5);
	assert_int_equal(a[0], 'a');
	assert_memory_equal(b, "bcde#", 5);
	/* More elements than the kernel takes. */
	assert_int_equal(fwd(SYS_readv, fds[0], r, SYSENT_IOV_MAX + 1), -EINVAL);
	close(fds[0]);
	close(fds[1]);
}

static void
test_poll_select(void **state)
{
	int		fds[2];
	struct pollfd	pfd[2];
	fd_set		rs;
	struct timeval	tv = { 0, 0 };

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	pfd[0].fd = fds[0];
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = fds[1];
	pfd[1].events = POLLOUT;
	pfd[1].revents = 0;
	assert_int_equal(fwd(SYS_poll, pfd, 2, 0), 2);
	assert_true(pfd[0].revents & POLLIN);
	assert_true(pfd[1].revents & POLLOUT);
	FD_ZERO(&rs);
	FD_SET(fds[0], &rs);
	FD_SET(fds[1], &rs);
	assert_int_equal(fwd(SYS_select, fds[1] + 1, &rs, NULL, NULL, &tv), 1);
	assert_true(FD_ISSET(fds[0], &rs));
	assert_false(FD_ISSET(fds[1], &rs));
	close(fds[0]);
	close(fds[1]);
}

static void
test_msg(void **state)
{
	int		 sv[2] = { -1, -1 }, pfd[2], got;
	char		 ctl[CMSG_SPACE(sizeof (int))], rctl[64], data[16];
	struct iovec	 wi[2] = { { "xy", 2 }, { "z", 1 } };
	struct iovec	 ri[1] = { { data, sizeof data } };
	struct msghdr	 m, r;
	struct cmsghdr	*cm;

	assert_int_equal(fwd(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(pipe(pfd), 0);
	memset(&m, 0, sizeof m);
	m.msg_iov = wi;
	m.msg_iovlen = 2;
	m.msg_control = ctl;
	m.msg_controllen = sizeof ctl;
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof (int));
	memcpy(CMSG_DATA(cm), &pfd[0], sizeof (int));
	assert_int_equal(fwd(SYS_sendmsg, sv[0], &m, 0), 3);

	memset(&r, 0, sizeof r);
	r.msg_iov = ri;
	r.msg_iovlen = 1;
	r.msg_control = rctl;
	r.msg_controllen = sizeof rctl;
	assert_int_equal(fwd(SYS_recvmsg, sv[1], &r, 0), 3);
	assert_memory_equal(data, "xyz", 3);
	/* The kernel's lengths came back, our pointers stayed ours. */
	assert_ptr_equal(r.msg_iov, ri);
	assert_ptr_equal(r.msg_control, rctl);
	assert_int_equal(r.msg_controllen, CMSG_SPACE(sizeof (int)));
	cm = CMSG_FIRSTHDR(&r);
	assert_non_null(cm);
	assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(cm), sizeof got);
	assert_true(got > 2 && got < FLOOR && got != pfd[0]);
	close(got);

	/* A deputy-private fd may not travel. */
	assert_int_equal(dup2(pfd[0], FLOOR + 5), FLOOR + 5);
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &(int){ FLOOR + 5 }, sizeof (int));
	assert_int_equal(fwd(SYS_sendmsg, sv[0], &m, 0), -EBADF);
	close(FLOOR + 5);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_socklen(void **state)
{
	int			sv[2];
	struct sockaddr_un	sa;
	socklen_t		len;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* An unnamed unix socket: just the family, 2 bytes. */
	memset(&sa, '#', sizeof sa);
	len = sizeof sa;
	assert_int_equal(fwd(SYS_getsockname, sv[0], &sa, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_int_equal(sa.sun_path[0], '#');
	/* A buffer of 1: one byte written, the true length told. */
	memset(&sa, '#', sizeof sa);
	len = 1;
	assert_int_equal(fwd(SYS_getsockname, sv[0], &sa, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(((char *)&sa)[1], '#');
	/* A length far over the cap is cut, not trusted. */
	len = 1 << 20;
	assert_int_equal(fwd(SYS_getsockname, sv[0], &sa, &len), 0);
	assert_int_equal(len, 2);
	close(sv[0]);
	close(sv[1]);
}

static void
test_caps_and_faults(void **state)
{
	const struct deputy_stats	*ds = deputy_stats(dep);
	uint64_t			 calls;
	uint8_t				*page, *big;
	char				*s;
	int				 fd;

	/* A read over the cap is cut: a short read, which is legal. */
	fd = fwd(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY);
	assert_true(fd > 2);
	big = malloc(2 * SYSENT_IO_MAX);
	assert_int_equal(fwd(SYS_read, fd, big, 2 * SYSENT_IO_MAX), SYSENT_IO_MAX);
	free(big);

	/* A path ending just before an unmapped page is read; one running into it is not. */
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(munmap(page + 4096, 4096), 0);
	s = (char *)page + 4096 - 5;
	memcpy(s, "/tmp", 5);
	assert_int_equal(fwd(SYS_access, s, F_OK), 0);
	memset(page, 'a', 4096);
	calls = ds->calls;
	assert_int_equal(fwd(SYS_access, page + 4000, F_OK), -EFAULT);
	/* A whole PATH_MAX without a NUL is too long, as for the kernel. */
	assert_int_equal(fwd(SYS_access, page, F_OK), -ENAMETOOLONG);
	assert_int_equal(ds->calls, calls);	/* not sent home */
	/* A write from memory that cannot be read fails at once. */
	assert_int_equal(fwd(SYS_write, fd, page + 4096, 10), -EFAULT);
	assert_int_equal(ds->calls, calls);
	munmap(page, 4096);

	s = malloc(8192);
	memset(s, 'a', 8191);
	s[8191] = '\0';
	assert_int_equal(fwd(SYS_access, s, F_OK), -ENAMETOOLONG);
	free(s);

	/* A NULL buffer reaches the kernel at home as NULL. */
	assert_int_equal(fwd(SYS_read, fd, NULL, 10), -EFAULT);
	assert_int_equal(ds->calls, calls + 1);
	assert_int_equal(fwd(SYS_close, fd), 0);
}

static void
test_identity_and_floor(void **state)
{
	const struct deputy_stats	*ds = deputy_stats(dep);
	char				 buf[8];
	int				 status = 0;

	assert_int_equal(fwd(SYS_getpid, 0), getpid());
	assert_int_equal(fwd(SYS_getppid, 0), getppid());
	assert_int_equal(fwd(SYS_getpgrp, 0), getpgrp());
	assert_int_equal(fwd(SYS_getsid, 0), getsid(0));
	assert_int_equal(fwd(SYS_kill, 0, 0), 0);
	assert_int_equal(fwd(SYS_getuid, 0), getuid());

	/* The deputy's own descriptors are out of reach. */
	assert_int_equal(dup2(0, FLOOR + 7), FLOOR + 7);
	assert_int_equal(fwd(SYS_read, FLOOR + 7, buf, sizeof buf), -EBADF);
	assert_true(ds->badfd >= 1);
	assert_int_equal(fwd(SYS_dup2, 0, FLOOR + 8), -EBADF);
	assert_int_equal(fwd(SYS_close_range, FLOOR - 50, ~0U, 0), 0);
	assert_int_not_equal(fcntl(FLOOR + 7, F_GETFD), -1);
	close(FLOOR + 7);

	/* wait4 needs the original: no injector here, so no answer. */
	assert_int_equal(fwd(SYS_wait4, -1, &status, 0, NULL), -ENOSYS);
	deputy_set_via(dep, SYS_wait4, SYV_DEPUTY);
	assert_int_equal(fwd(SYS_wait4, -1, &status, 1 /* WNOHANG */, NULL),
	    -ECHILD);
	deputy_set_via(dep, SYS_wait4, -1);
}

/* ppid, from /proc, of pid. */
static pid_t
proc_ppid(pid_t pid)
{
	char	path[64], text[512], *p;
	int	fd, n, ppid = -1;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	if ((p = strrchr(text, ')')) != NULL)
		sscanf(p + 1, " %*c %d", &ppid);
	return ppid;
}

/* The deputy's getppid follows the original when its parent dies. */
static void
test_ppid_follows_reparenting(void **state)
{
	struct deputy	*saved = dep;
	char		*cause = NULL;
	int		 up[2], down[2], i;
	pid_t		 c, gc, now;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	if ((c = fork()) == 0) {
		close(down[1]);		/* EOF on down[0] when the test closes it */
		if ((gc = fork()) == 0) {
			close(down[0]);
			alarm(30);	/* never outlive a failed test for long */
			for (;;)
				pause();
		}
		if (write(up[1], &gc, sizeof gc) != sizeof gc)
			_exit(1);
		(void)read(down[0], &i, 1);	/* until told to die */
		_exit(0);
	}
	assert_int_equal(read(up[0], &gc, sizeof gc), sizeof gc);
	dep = deputy_new(gc, FLOOR, &cause);
	assert_non_null(dep);
	assert_int_equal(fwd(SYS_getppid, 0), c);
	assert_int_equal(fwd(SYS_getppid, 0), c);	/* from the cache */
	close(down[1]);
	assert_int_equal(waitpid(c, NULL, 0), c);
	for (i = 0; i < 500 && (now = proc_ppid(gc)) == c; i++)
		usleep(2000);
	assert_int_not_equal(now, c);
	assert_int_equal(fwd(SYS_getppid, 0), now);
	kill(gc, SIGKILL);
	deputy_free(dep);
	dep = saved;
	close(up[0]);
	close(up[1]);
	close(down[0]);
}

/* A stand-in for the daemon's injector: the status comes from "the original". */
static int
fake_inject(void *arg, const struct deputy_call *c, int64_t *ret, char **cause)
{
	size_t	i;

	(*(int *)arg)++;
	for (i = 0; i < c->req->nbuf; i++) {
		if (c->req->buf[i].arg == 1)
			memcpy(c->local[i], &(int){ 0x4200 }, sizeof (int));
	}
	*ret = 4321;
	return 0;
}

static void
test_inject(void **state)
{
	int	status = 0, calls = 0;

	deputy_set_inject(dep, fake_inject, &calls);
	assert_int_equal(fwd(SYS_wait4, -1, &status, 0, NULL), 4321);
	assert_int_equal(status, 0x4200);
	assert_int_equal(calls, 1);
	/* Calls routed to the deputy do not reach the injector. */
	assert_int_equal(fwd(SYS_getuid, 0), getuid());
	assert_int_equal(calls, 1);
	deputy_set_inject(dep, NULL, NULL);
}

/* ---- refusals ---- */

/* A request as the remote encodes it, for the decoders to be fed mangled. */
static void
encode(struct buf *b, struct sysreq *req, int nr, uint64_t a0, uint64_t a1,
    uint64_t a2, uint64_t a3)
{
	uint64_t	 args[6] = { a0, a1, a2, a3, 0, 0 };
	char		*cause = NULL;

	buf_init(b);
	if (marshal_request(req, 77, nr, args, guest_read, NULL, b,
	    &cause) != 0)
		fail_msg("encode %d: %s", nr, cause);
}

static int
decodes(const uint8_t *p, size_t n)
{
	struct sysreq	 req;
	char		*cause = NULL;
	int		 rc;

	rc = marshal_decode_request(p, n, &req, &cause);
	if (rc == 0)
		sysreq_free(&req);
	else if (cause == NULL)
		fail_msg("refused without a cause");
	free(cause);
	return rc == 0;
}

static void
test_request_refused(void **state)
{
	static char	 rbuf[64];
	struct stat	 st;
	struct iovec	 iov[2] = { { "ab", 2 }, { "c", 1 } };
	struct sysreq	 req;
	struct buf	 b;
	uint8_t		*p;
	size_t		 n, k;

	/* Every prefix of a valid request is refused, the whole accepted. */
	encode(&b, &req, SYS_newfstatat, AT_FDCWD, U("/tmp"), U(&st), 0);
	assert_true(decodes(b.data, b.len));
	for (n = 0; n < b.len; n++)
		if (decodes(b.data, n))
			fail_msg("prefix of %zu bytes accepted", n);
	p = malloc(b.len + 1);
	memcpy(p, b.data, b.len);
	p[b.len] = 0;
	assert_false(decodes(p, b.len + 1));		/* a byte too many */

	/* Calls that do not go home. */
	le32enc(p + 8, SYS_getrandom);
	assert_false(decodes(p, b.len));
	le32enc(p + 8, SYS_fork);
	assert_false(decodes(p, b.len));
	le32enc(p + 8, SYS_newfstatat);
	assert_true(decodes(p, b.len));

	/* The stat buffer announced one byte short: the rest shifts, refused. */
	k = 8 + 4 + 48 + 4;				/* first buffer: the path */
	k += 8 + 5;					/* "/tmp" and its NUL */
	assert_int_equal(le32dec(p + k + 4), sizeof st);
	le32enc(p + k + 4, sizeof st - 1);
	assert_false(decodes(p, b.len));
	le32enc(p + k + 4, sizeof st);
	/* A buffer for a NULL pointer. */
	le64enc(p + 12 + 8 * 2, 0);
	assert_false(decodes(p, b.len));
	le64enc(p + 12 + 8 * 2, U(&st));
	/* The path's NUL, and a NUL inside it. */
	p[8 + 4 + 48 + 4 + 8 + 4] = 'x';
	assert_false(decodes(p, b.len));
	p[8 + 4 + 48 + 4 + 8 + 4] = '\0';
	p[8 + 4 + 48 + 4 + 8 + 1] = '\0';
	assert_false(decodes(p, b.len));
	free(p);
	buf_free(&b);
	sysreq_free(&req);

	/* A read whose count the remote did not cut. */
	encode(&b, &req, SYS_read, 0, U(rbuf), sizeof rbuf, 0);
	assert_true(decodes(b.data, b.len));
	le64enc(b.data + 12 + 8 * 2, SYSENT_IO_MAX + 1);
	assert_false(decodes(b.data, b.len));
	/* A read announcing 64 bytes for a count of 63. */
	le64enc(b.data + 12 + 8 * 2, sizeof rbuf - 1);
	assert_false(decodes(b.data, b.len));
	/* More buffers announced than sent. */
	le64enc(b.data + 12 + 8 * 2, sizeof rbuf);
	le32enc(b.data + 12 + 48, 2);
	assert_false(decodes(b.data, b.len));
	buf_free(&b);
	sysreq_free(&req);

	/* An iovec array of another length than its count. */
	encode(&b, &req, SYS_writev, 1, U(iov), 2, 0);
	assert_true(decodes(b.data, b.len));
	le64enc(b.data + 12 + 8 * 2, 3);
	assert_false(decodes(b.data, b.len));
	le64enc(b.data + 12 + 8 * 2, 1);
	assert_false(decodes(b.data, b.len));
	buf_free(&b);
	sysreq_free(&req);
}

/* A reply to req: ret, sig, then buffers given as (len, fill byte). */
static void
reply(struct buf *b, const struct sysreq *req, uint64_t seqno, int64_t ret,
    uint8_t sig, int nout, const uint32_t *lens)
{
	int	i, j;

	buf_init(b);
	buf_add_u64(b, seqno);
	buf_add_u64(b, (uint64_t)ret);
	buf_add_u8(b, sig);
	buf_add_u32(b, nout);
	for (i = j = 0; i < nout; i++, j++) {
		while ((size_t)j < req->nbuf && !(req->buf[j].dir & SBD_OUT))
			j++;
		buf_add_u8(b, (size_t)j < req->nbuf ? req->buf[j].arg : 9);
		buf_add_u8(b, (size_t)j < req->nbuf ? req->buf[j].part : 0);
		buf_add_u16(b, (size_t)j < req->nbuf ? req->buf[j].elem : 0);
		buf_add_u32(b, lens[i]);
		memset(buf_reserve(b, lens[i]), 'r', lens[i]);
	}
}

static int
rep_ok(const struct sysreq *req, const struct buf *b)
{
	struct sysrep	 rep;
	char		*cause = NULL;
	int		 rc;

	rc = marshal_decode_reply(req, b->data, b->len, &rep, &cause);
	if (rc == 0)
		sysrep_free(&rep);
	else if (cause == NULL)
		fail_msg("refused without a cause");
	free(cause);
	return rc == 0;
}

static const struct rep_case {
	const char	*what;
	int64_t		 ret;
	uint8_t		 sig;
	int		 nout;
	uint32_t	 lens[2];
	uint64_t	 seqdelta;
	int		 ok;
} rep_cases[] = {
	{ "read of 5 bytes", 5, 0, 1, { 5 }, 0, 1 },
	{ "read of 0 bytes", 0, 0, 1, { 0 }, 0, 1 },
	{ "the whole buffer", 64, 0, 1, { 64 }, 0, 1 },
	{ "more bytes than ret", 5, 0, 1, { 6 }, 0, 0 },
	{ "fewer bytes than ret", 5, 0, 1, { 4 }, 0, 0 },
	{ "more than the buffer", 65, 0, 1, { 65 }, 0, 0 },
	{ "ret past the buffer sends the buffer", 1000, 0, 1, { 64 }, 0, 1 },
	{ "an error with no buffer", -EIO, 0, 0, { 0 }, 0, 1 },
	{ "an error with a buffer", -EIO, 0, 1, { 0 }, 0, 0 },
	{ "success without the buffer", 5, 0, 0, { 0 }, 0, 0 },
	{ "two buffers for one", 5, 0, 2, { 5, 0 }, 0, 0 },
	{ "SIGPIPE with EPIPE", -EPIPE, SIGPIPE, 0, { 0 }, 0, 1 },
	{ "SIGPIPE with another error", -EIO, SIGPIPE, 0, { 0 }, 0, 0 },
	{ "SIGPIPE with success", 5, SIGPIPE, 1, { 5 }, 0, 0 },
	{ "SIGXFSZ with EFBIG", -EFBIG, SIGXFSZ, 0, { 0 }, 0, 1 },
	{ "SIGKILL from home", -EPIPE, SIGKILL, 0, { 0 }, 0, 0 },
	{ "another request's reply", 5, 0, 1, { 5 }, 1, 0 },
};

static void
test_reply_refused(void **state)
{
	static char		 rbuf[64];
	const struct rep_case	*c;
	struct sysreq		 req;
	struct buf		 b, r;
	size_t			 i, n;

	encode(&b, &req, SYS_read, 0, U(rbuf), sizeof rbuf, 0);
	for (i = 0; i < sizeof rep_cases / sizeof rep_cases[0]; i++) {
		c = &rep_cases[i];
		reply(&r, &req, req.seq + c->seqdelta, c->ret, c->sig, c->nout,
		    c->lens);
		if (rep_ok(&req, &r) != c->ok)
			fail_msg("%s: %s", c->what, c->ok ? "refused" :
			    "accepted");
		if (c->ok) {
			for (n = 0; n < r.len; n++)
				if (rep_ok(&req, &(struct buf){ r.data, n, n }))
					fail_msg("%s: prefix %zu accepted",
					    c->what, n);
		}
		buf_free(&r);
	}
	buf_free(&b);
	sysreq_free(&req);

	/* A returned msghdr carrying pointers (the deputy's) is refused. */
	{
		static char	 d8[8];
		struct iovec	 iov = { d8, sizeof d8 };
		struct msghdr	 m = { .msg_iov = &iov, .msg_iovlen = 1 };
		uint32_t	 lens[2] = { MSGHDR_LEN, 3 };

		encode(&b, &req, SYS_recvmsg, 3, U(&m), 0, 0);
		reply(&r, &req, req.seq, 3, 0, 2, lens);
		assert_false(rep_ok(&req, &r));
		/* The same with the pointers zeroed passes. */
		memset(r.data + REP_HDR + ENT_HDR + MSGHDR_NAME, 0, 8);
		memset(r.data + REP_HDR + ENT_HDR + MSGHDR_IOV, 0, 8);
		memset(r.data + REP_HDR + ENT_HDR + MSGHDR_CONTROL, 0, 8);
		assert_true(rep_ok(&req, &r));
		buf_free(&r);
		buf_free(&b);
		sysreq_free(&req);
	}
}

static void
test_fdinfo_messages(void **state)
{
	struct fdinfo_req	 q = { 5, 3, 4096, 8192 }, q2;
	struct fddata_req	 dq = { 6, 3, 0, 100 }, dq2;
	struct fdinfo		*f, *f2;
	struct fddata		 d = { 7, 0, 3, (const uint8_t *)"abc" }, d2;
	struct buf		 b;
	size_t			 n;

	f = calloc(1, sizeof *f);
	f2 = calloc(1, sizeof *f2);
	f->seq = 5;
	f->type = FDI_REG;
	f->accmode = O_RDONLY;
	f->mode = 0100644;
	f->size = 123456;
	f->mtime_sec = 1700000000;
	f->mtime_nsec = 999;
	f->dev = 0x803;
	f->ino = 1234567;
	memset(f->digest, 0xab, sizeof f->digest);
	snprintf(f->path, sizeof f->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");

	buf_init(&b);
	marshal_encode_fdinfo(&b, f);
	assert_int_equal(marshal_decode_fdinfo(b.data, b.len, f2, NULL), 0);
	assert_memory_equal(f, f2, sizeof *f);
	for (n = 0; n < b.len; n++)
		assert_int_equal(marshal_decode_fdinfo(b.data, n, f2, NULL), -1);
	b.data[12] = 9;					/* type */
	assert_int_equal(marshal_decode_fdinfo(b.data, b.len, f2, NULL), -1);
	buf_reset(&b);

	marshal_encode_fdinfo_req(&b, &q);
	assert_int_equal(marshal_decode_fdinfo_req(b.data, b.len, &q2, NULL), 0);
	assert_true(q2.seq == q.seq && q2.fd == q.fd && q2.off == q.off &&
	    q2.len == q.len);
	le32enc(b.data + 8, (uint32_t)-1);		/* a negative fd */
	assert_int_equal(marshal_decode_fdinfo_req(b.data, b.len, &q2, NULL), -1);
	buf_reset(&b);

	marshal_encode_fddata_req(&b, &dq);
	assert_int_equal(marshal_decode_fddata_req(b.data, b.len, &dq2, NULL), 0);
	assert_true(dq2.seq == dq.seq && dq2.fd == dq.fd && dq2.off == dq.off &&
	    dq2.len == dq.len);
	le32enc(b.data + 20, MARSHAL_DATA_MAX + 1);
	assert_int_equal(marshal_decode_fddata_req(b.data, b.len, &dq2, NULL), -1);
	le32enc(b.data + 20, 0);
	assert_int_equal(marshal_decode_fddata_req(b.data, b.len, &dq2, NULL), -1);
	buf_reset(&b);

	marshal_encode_fddata(&b, &d);
	assert_int_equal(marshal_decode_fddata(b.data, b.len, &d2, NULL), 0);
	assert_int_equal(d2.len, 3);
	assert_memory_equal(d2.data, "abc", 3);
	assert_int_equal(marshal_decode_fddata(b.data, b.len - 1, &d2, NULL), -1);
	le32enc(b.data + 12, 4);			/* length past the bytes */
	assert_int_equal(marshal_decode_fddata(b.data, b.len, &d2, NULL), -1);
	buf_free(&b);
	free(f);
	free(f2);
	assert_string_equal(marshal_type_name(MARSHAL_FDDATA_REP), "FDDATA_REP");
	assert_null(marshal_type_name(299));
}

/* The digest both ends compare, on a range of a file. */
static void
test_digest(void **state)
{
	static const uint8_t	abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad,
	};
	char			path[] = "/tmp/omm-test-digest.XXXXXX";
	uint8_t			d[32];
	int			fd;
	struct fdinfo_req	q = { 1, 0, 2, 3 };
	struct fdinfo		*f = calloc(1, sizeof *f);

	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(write(fd, "xxabcxx", 7), 7);
	assert_int_equal(marshal_digest_fd(fd, 2, 3, d, NULL), 0);
	assert_memory_equal(d, abc, 32);
	/* A range past the end of the file stops at the end. */
	assert_int_equal(ftruncate(fd, 5), 0);
	assert_int_equal(marshal_digest_fd(fd, 2, 1000, d, NULL), 0);
	assert_memory_equal(d, abc, 32);
	/* The deputy's fd info says the same. */
	q.fd = fd;
	deputy_fdinfo(dep, &q, f);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->type, FDI_REG);
	assert_int_equal(f->size, 5);
	assert_int_equal(f->accmode, O_RDWR);
	assert_memory_equal(f->digest, abc, 32);
	assert_non_null(strstr(f->path, "omm-test-digest"));
	q.fd = FLOOR + 1;
	deputy_fdinfo(dep, &q, f);
	assert_int_equal(f->err, EBADF);
	close(fd);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_read_write),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_iovec),
		cmocka_unit_test(test_poll_select),
		cmocka_unit_test(test_msg),
		cmocka_unit_test(test_socklen),
		cmocka_unit_test(test_caps_and_faults),
		cmocka_unit_test(test_identity_and_floor),
		cmocka_unit_test(test_inject),
		cmocka_unit_test(test_ppid_follows_reparenting),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_reply_refused),
		cmocka_unit_test(test_fdinfo_messages),
		cmocka_unit_test(test_digest),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
