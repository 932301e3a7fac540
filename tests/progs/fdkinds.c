/*
 * fdkinds: descriptors other than files and pipes (issue 12, section 4),
 * each with state a move could lose:
 *
 *   fd 20  eventfd, EFD_SEMAPHORE | EFD_NONBLOCK, counter 5
 *   fd 21  eventfd, plain, counter 2^40 (more than eventfd()'s initval holds)
 *   fd 22  epoll: fd 20 for EPOLLIN (data 0xfeed0001), fd 21 for EPOLLOUT
 *          (data 0xfeed0002), fd 28 (self-pipe read end, never ready)
 *   fd 23  O_PATH of the test directory
 *   fd 24  memfd "omm-fdkinds", 100000 bytes, sealed SHRINK|GROW, at 1234
 *   fd 25  the same memfd reopened O_RDONLY (its own offset, 10)
 *   fd 26  a deleted file of 50000 bytes, O_RDWR, at 777
 *   fd 27  signalfd for SIGUSR2 (blocked), one SIGUSR2 queued with a value
 *          (left out with "nosignalfd": a migrated process's signalfd is
 *          refused, docs/limits.md)
 *   map    two pages of the memfd at fd 24 mapped shared: a write through
 *          the mapping shows in the fd and one through the fd in the
 *          mapping (left out with "nomap": a migration refuses it)
 *   lone   a memfd of 3 pages mapped shared, its fd closed (shared memory
 *          by another name, carried by both)
 *
 * Each check (fdkinds [CHECKS [nosignalfd,nomap]], one per SIGUSR1) verifies all
 * of it and changes some (eventfd counters, the memfd's and the deleted
 * file's bytes and offsets, a new SIGUSR2), so the next check sees whether
 * the change was carried. The last check also drains the semaphore.
 *
 * Files under $TMPDIR (default /tmp), removed at the end unless $PROG_KEEP.
 */

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <stdint.h>

#include "prog.h"

#define FD_EVS		20
#define FD_EVB		21
#define FD_EP		22
#define FD_OPATH	23
#define FD_MEM		24
#define FD_MEMRO	25
#define FD_DEL		26
#define FD_SIG		27
#define FD_PR		28
#define FD_PW		29

#define MEM_SIZE	100000
#define DEL_SIZE	50000
#define EVB_START	(1ULL << 40)

static unsigned char
byte_at(size_t off, unsigned salt)
{
	return (unsigned char)((off * 131 + salt * 7 + (off >> 8)) & 0xff);
}

static void
place(int fd, int want, const char *what)
{
	if (fd == -1 || dup2(fd, want) == -1)
		prog_die(what);
	if (fd != want)
		close(fd);
}

static void
fill(int fd, size_t size, unsigned salt, const char *what)
{
	unsigned char	*b = malloc(size);
	size_t		 i;

	if (b == NULL)
		prog_die("malloc");
	for (i = 0; i < size; i++)
		b[i] = byte_at(i, salt);
	if (pwrite(fd, b, size, 0) != (ssize_t)size)
		prog_die(what);
	free(b);
}

/* fd's content is the pattern but at changed_at and at2 (-1: none). */
static int
content_ok(int fd, size_t size, unsigned salt, size_t changed_at,
    unsigned char changed, size_t at2, unsigned char val2)
{
	unsigned char	*b = malloc(size + 1);
	size_t		 i;
	ssize_t		 n;
	int		 ok = 1;

	if (b == NULL)
		prog_die("malloc");
	n = pread(fd, b, size + 1, 0);
	if (n != (ssize_t)size)
		ok = 0;
	for (i = 0; ok && i < size; i++) {
		if (b[i] != (i == changed_at ? changed : i == at2 ? val2 :
		    byte_at(i, salt)))
			ok = 0;
	}
	free(b);
	return ok;
}

static void
link_of(int fd, char *out, size_t len)
{
	char	path[64];
	ssize_t	n;

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	n = readlink(path, out, len - 1);
	out[n < 0 ? 0 : n] = '\0';
}

static void
queue_usr2(int value)
{
	union sigval	v = { .sival_int = value };

	if (sigqueue(getpid(), SIGUSR2, v) == -1)
		prog_die("sigqueue SIGUSR2");
}

int
main(int argc, char **argv)
{
	const char		*tmp = getenv("TMPDIR");
	char			 dir[4096], del[4200], marker[4200], l[4300];
	int			 checks = prog_checks(argc, argv), n, i, fl, p[2];
	int			 sigfd = !(argc > 2 && strstr(argv[2], "nosignalfd"));
	int			 map = !(argc > 2 && strstr(argv[2], "nomap"));
	unsigned char		*mp = NULL, *lone;
	size_t			 k;
	int			 lonefd;
	struct epoll_event	 ev, evs[8];
	struct signalfd_siginfo	 si;
	struct stat		 st;
	uint64_t		 v, evb = EVB_START;
	sigset_t		 set;
	ssize_t			 r;
	int			 seen1, seen2, drained;
	unsigned char		 c;

	prog_arm("fdkinds");
	snprintf(dir, sizeof dir, "%s/fdkinds.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		prog_die("mkdtemp");
	snprintf(del, sizeof del, "%s/deleted", dir);
	snprintf(marker, sizeof marker, "%s/marker", dir);
	place(open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), 40, marker);
	close(40);

	if (pipe(p) == -1)
		prog_die("pipe");
	place(p[0], FD_PR, "pipe read end");
	place(p[1], FD_PW, "pipe write end");
	place(eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK), FD_EVS, "eventfd sem");
	place(eventfd(0, 0), FD_EVB, "eventfd big");
	v = EVB_START;
	if (write(FD_EVB, &v, 8) != 8)
		prog_die("eventfd write");
	place(epoll_create1(0), FD_EP, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.u64 = 0xfeed0001;
	if (epoll_ctl(FD_EP, EPOLL_CTL_ADD, FD_EVS, &ev) == -1)
		prog_die("epoll_ctl 1");
	ev.events = EPOLLOUT;
	ev.data.u64 = 0xfeed0002;
	if (epoll_ctl(FD_EP, EPOLL_CTL_ADD, FD_EVB, &ev) == -1)
		prog_die("epoll_ctl 2");
	ev.events = EPOLLIN;
	ev.data.u64 = 0xfeed0003;
	if (epoll_ctl(FD_EP, EPOLL_CTL_ADD, FD_PR, &ev) == -1)
		prog_die("epoll_ctl 3");
	place(open(dir, O_PATH | O_DIRECTORY), FD_OPATH, "O_PATH");
	place(memfd_create("omm-fdkinds", MFD_ALLOW_SEALING), FD_MEM, "memfd");
	fill(FD_MEM, MEM_SIZE, 1, "memfd content");
	if (fcntl(FD_MEM, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == -1)
		prog_die("F_ADD_SEALS");
	lseek(FD_MEM, 1234, SEEK_SET);
	snprintf(l, sizeof l, "/proc/self/fd/%d", FD_MEM);
	place(open(l, O_RDONLY), FD_MEMRO, "memfd reopened");
	lseek(FD_MEMRO, 10, SEEK_SET);
	place(open(del, O_RDWR | O_CREAT | O_EXCL, 0640), FD_DEL, del);
	fill(FD_DEL, DEL_SIZE, 2, "deleted file content");
	lseek(FD_DEL, 777, SEEK_SET);
	if (unlink(del) == -1)
		prog_die("unlink");
	if (sigfd) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
			prog_die("sigprocmask");
		place(signalfd(-1, &set, SFD_NONBLOCK), FD_SIG, "signalfd");
		queue_usr2(41);
	}
	if (map) {
		mp = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, FD_MEM, 0);
		if (mp == MAP_FAILED)
			prog_die("mmap memfd");
		mp[7] = 51;	/* check 1 expects 1 + 50 */
	}
	if ((lonefd = memfd_create("omm-lone", 0)) == -1 ||
	    ftruncate(lonefd, 3 * 4096) == -1)
		prog_die("memfd omm-lone");
	lone = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, lonefd, 0);
	if (lone == MAP_FAILED)
		prog_die("mmap omm-lone");
	close(lonefd);
	for (k = 0; k < 3 * 4096; k++)
		lone[k] = byte_at(k, 3);
	lone[4097] = 8;		/* check 1 expects 1 + 7 */
	printf("signalfd: %s, mapping: %s\n", sigfd ? "yes" : "no",
	    map ? "yes" : "no");
	prog_ready();
	prog_wait_usr1();
	for (n = 1; n <= checks; n++) {
		if (n > 1)
			prog_wait_next();
		/* eventfds and the flags they were made with */
		fl = fcntl(FD_EVS, F_GETFL);
		CHECK(fl != -1 && (fl & O_NONBLOCK), "fd %d: flags %#x, expected "
		    "O_NONBLOCK", FD_EVS, fl);
		r = read(FD_EVS, &v, 8);
		CHECK(r == 8 && v == 1, "semaphore eventfd: read %zd, %llu "
		    "(expected 8 bytes, 1)", r, (unsigned long long)v);
		r = read(FD_EVB, &v, 8);
		CHECK(r == 8 && v == evb, "eventfd: read %zd, %#llx (expected "
		    "%#llx)", r, (unsigned long long)v, (unsigned long long)evb);
		evb += 3;
		if (write(FD_EVB, &evb, 8) != 8)
			prog_fail("eventfd write: %s", strerror(errno));
		/* epoll: what is ready, with the data it was added with */
		r = epoll_wait(FD_EP, evs, 8, 0);
		seen1 = seen2 = 0;
		for (i = 0; i < r; i++) {
			if (evs[i].data.u64 == 0xfeed0001 &&
			    evs[i].events == EPOLLIN)
				seen1++;
			else if (evs[i].data.u64 == 0xfeed0002 &&
			    evs[i].events == EPOLLOUT)
				seen2++;
			else
				prog_fail("epoll: unexpected event %#x data "
				    "%#llx", evs[i].events,
				    (unsigned long long)evs[i].data.u64);
		}
		CHECK(r == 2 && seen1 == 1 && seen2 == 1, "epoll_wait: %zd "
		    "events (%d, %d), expected the two eventfds", r, seen1, seen2);
		/* O_PATH */
		fl = fcntl(FD_OPATH, F_GETFL);
		CHECK(fl != -1 && (fl & O_PATH), "fd %d: flags %#x, expected "
		    "O_PATH", FD_OPATH, fl);
		CHECK(faccessat(FD_OPATH, "marker", F_OK, 0) == 0, "O_PATH: "
		    "marker not found through it: %s", strerror(errno));
		link_of(FD_OPATH, l, sizeof l);
		CHECK(strcmp(l, dir) == 0, "O_PATH: names %s, expected %s", l,
		    dir);
		/* memfd: name, size, seals, content, both offsets, one inode */
		link_of(FD_MEM, l, sizeof l);
		CHECK(strcmp(l, "/memfd:omm-fdkinds (deleted)") == 0, "memfd: "
		    "link %s", l);
		CHECK(fstat(FD_MEM, &st) == 0 && st.st_size == MEM_SIZE,
		    "memfd: size %lld", (long long)st.st_size);
		fl = fcntl(FD_MEM, F_GET_SEALS);
		CHECK(fl == (F_SEAL_SHRINK | F_SEAL_GROW), "memfd: seals %#x, "
		    "expected %#x", fl, F_SEAL_SHRINK | F_SEAL_GROW);
		CHECK(content_ok(FD_MEMRO, MEM_SIZE, 1, n > 1 ? 5 : (size_t)-1,
		    (unsigned char)(n - 1), map ? 7 : (size_t)-1,
		    (unsigned char)(n + 50)), "memfd: content differs");
		CHECK(lseek(FD_MEM, 0, SEEK_CUR) == 1234 + n - 1, "memfd: "
		    "offset %lld", (long long)lseek(FD_MEM, 0, SEEK_CUR));
		CHECK(lseek(FD_MEMRO, 0, SEEK_CUR) == 10, "memfd (read-only): "
		    "offset %lld", (long long)lseek(FD_MEMRO, 0, SEEK_CUR));
		fl = fcntl(FD_MEMRO, F_GETFL);
		CHECK(fl != -1 && (fl & O_ACCMODE) == O_RDONLY, "memfd "
		    "(read-only): flags %#x", fl);
		c = (unsigned char)n;
		if (pwrite(FD_MEM, &c, 1, 5) != 1 || write(FD_MEM, "", 0) != 0)
			prog_fail("memfd write: %s", strerror(errno));
		if (map)
			CHECK(mp[5] == c, "memfd mapping: a write through the fd "
			    "not seen in it (%u)", mp[5]);
		lseek(FD_MEM, 1, SEEK_CUR);
		/* the memfd's mapping: one file with the fd */
		if (map) {
			c = (unsigned char)n;	/* written through the fd above */
			CHECK(mp[5] == c && mp[6] == byte_at(6, 1) &&
			    mp[7] == (unsigned char)(n + 50), "memfd mapping: "
			    "bytes 5-7 %u %u %u, expected %u %u %u", mp[5], mp[6],
			    mp[7], c, byte_at(6, 1), n + 50);
			mp[7] = (unsigned char)(n + 51);
			r = pread(FD_MEM, &c, 1, 7);
			CHECK(r == 1 && c == (unsigned char)(n + 51), "memfd: a "
			    "write through the mapping not seen by the fd (%u)", c);
		}
		/* the lone memfd mapping */
		for (k = 0, i = 0; k < 3 * 4096; k++) {
			if (lone[k] != (k == 4097 ? (unsigned char)(n + 7) :
			    byte_at(k, 3)))
				i++;
		}
		CHECK(i == 0, "lone memfd mapping: %d bytes differ", i);
		lone[4097] = (unsigned char)(n + 8);
		/* deleted file */
		CHECK(fstat(FD_DEL, &st) == 0 && st.st_nlink == 0 &&
		    st.st_size == DEL_SIZE && (st.st_mode & 07777) == 0640,
		    "deleted file: nlink %ld size %lld mode %o",
		    (long)st.st_nlink, (long long)st.st_size, st.st_mode & 07777);
		CHECK(content_ok(FD_DEL, DEL_SIZE, 2, n > 1 ? 9 : (size_t)-1,
		    (unsigned char)(n + 99), (size_t)-1, 0), "deleted file: "
		    "content differs");
		CHECK(lseek(FD_DEL, 0, SEEK_CUR) == 777 + 2 * (n - 1),
		    "deleted file: offset %lld",
		    (long long)lseek(FD_DEL, 0, SEEK_CUR));
		link_of(FD_DEL, l, sizeof l);
		CHECK(strncmp(l, dir, strlen(dir)) == 0 && l[strlen(dir)] == '/'
		    && strstr(l, " (deleted)") != NULL, "deleted file: link %s",
		    l);
		c = (unsigned char)(n + 100);
		if (pwrite(FD_DEL, &c, 1, 9) != 1)
			prog_fail("deleted file write: %s", strerror(errno));
		lseek(FD_DEL, 2, SEEK_CUR);
		/* signalfd: its mask, and the signal queued before the move */
		if (sigfd) {
			r = read(FD_SIG, &si, sizeof si);
			CHECK(r == (ssize_t)sizeof si && si.ssi_signo == SIGUSR2 &&
			    si.ssi_int == 40 + n, "signalfd: read %zd, signal %u "
			    "value %d (expected SIGUSR2, %d)", r,
			    r > 0 ? si.ssi_signo : 0, r > 0 ? si.ssi_int : 0,
			    40 + n);
			queue_usr2(41 + n);
		}
		if (n == checks) {
			for (drained = 0; read(FD_EVS, &v, 8) == 8; drained++)
				;
			CHECK(drained == 5 - checks, "semaphore eventfd: %d "
			    "left, expected %d", drained, 5 - checks);
		}
		printf("check %d: eventfds, epoll, O_PATH, memfd%s, deleted "
		    "file%s, lone memfd mapping\n", n, map ? " and its mapping" :
		    "", sigfd ? ", signalfd" : "");
		fflush(stdout);
	}
	if (getenv("PROG_KEEP") == NULL) {
		unlink(marker);
		rmdir(dir);
	}
	return prog_finish();
}
