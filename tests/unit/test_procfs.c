/* test_procfs.c: the /proc parsers over sample text, and the readers on ourselves. */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/procfs.h"

/* One maps line per case: what it must parse to, or that it must fail. */
static void
test_maps_line(void **state)
{
	static const struct {
		const char	*label;
		const char	*line;
		int		 ok;
		uint64_t	 start, end, pgoff, ino;
		uint32_t	 prot, maj, min;
		int		 shared;
		const char	*path;
	} cases[] = {
		{ "file, private, r-x", "7f1c2a000000-7f1c2a1a5000 r-xp 00028000 "
		    "fe:00 332835                     /usr/lib/x86_64-linux-gnu/"
		    "libc.so.6\n", 1, 0x7f1c2a000000, 0x7f1c2a1a5000, 0x28000,
		    332835, PROT_READ | PROT_EXEC, 0xfe, 0, 0,
		    "/usr/lib/x86_64-linux-gnu/libc.so.6" },
		{ "anonymous, no path, no newline",
		    "7fa26251b000-7fa262525000 rw-p 00000000 00:00 0", 1,
		    0x7fa26251b000, 0x7fa262525000, 0, 0,
		    PROT_READ | PROT_WRITE, 0, 0, 0, "" },
		{ "anonymous with trailing blanks",
		    "7fa26251b000-7fa262525000 rw-p 00000000 00:00 0      \n", 1,
		    0x7fa26251b000, 0x7fa262525000, 0, 0,
		    PROT_READ | PROT_WRITE, 0, 0, 0, "" },
		{ "shared, ---, named special", "ffffffffff600000-ffffffffff601000 "
		    "--xs 00000000 00:00 0                  [vsyscall]\n", 1,
		    0xffffffffff600000, 0xffffffffff601000, 0, 0, PROT_EXEC, 0, 0,
		    1, "[vsyscall]" },
		{ "path with spaces and deleted", "55d0c0000000-55d0c0001000 rw-s "
		    "00001000 08:11 99 /tmp/a b (deleted)\n", 1, 0x55d0c0000000,
		    0x55d0c0001000, 0x1000, 99, PROT_READ | PROT_WRITE, 8, 0x11, 1,
		    "/tmp/a b (deleted)" },
		{ "no protection", "1000-2000 ---p 00000000 00:00 0\n", 1, 0x1000,
		    0x2000, 0, 0, 0, 0, 0, 0, "" },
		{ .label = "end before start", .line = "2000-1000 rw-p 00000000 00:00 0\n" },
		{ .label = "empty range", .line = "2000-2000 rw-p 00000000 00:00 0\n" },
		{ .label = "unaligned start", .line = "2001-3000 rw-p 00000000 00:00 0\n" },
		{ .label = "bad perms letter", .line = "1000-2000 rwzp 00000000 00:00 0\n" },
		{ .label = "bad sharing letter", .line = "1000-2000 rw-q 00000000 00:00 0\n" },
		{ .label = "short perms", .line = "1000-2000 rw\n" },
		{ .label = "no dash", .line = "1000 2000 rw-p 00000000 00:00 0\n" },
		{ .label = "no device colon", .line = "1000-2000 rw-p 00000000 0000 0\n" },
		{ .label = "inode not decimal", .line = "1000-2000 rw-p 00000000 00:00 x\n" },
		{ .label = "inode glued to junk", .line = "1000-2000 rw-p 00000000 00:00 12x /a\n" },
		{ .label = "empty line", .line = "" },
	};
	struct procfs_vma	v;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		cause = NULL;
		if (!cases[i].ok) {
			assert_int_equal(procfs_maps_line(cases[i].line, &v, &cause),
			    -1);
			assert_non_null(strstr(cause, "maps: malformed line"));
			free(cause);
			continue;
		}
		assert_int_equal(procfs_maps_line(cases[i].line, &v, &cause), 0);
		assert_true(v.start == cases[i].start);
		assert_true(v.end == cases[i].end);
		assert_true(v.pgoff == cases[i].pgoff);
		assert_true(v.ino == cases[i].ino);
		assert_int_equal(v.prot, cases[i].prot);
		assert_int_equal(v.dev_major, cases[i].maj);
		assert_int_equal(v.dev_minor, cases[i].min);
		assert_int_equal(v.shared, cases[i].shared);
		assert_string_equal(v.path, cases[i].path);
		assert_int_equal(v.vmflags, 0);
		free(v.path);
	}
}

static void
test_vmflags(void **state)
{
	static const struct {
		const char	*label;
		const char	*list;
		uint32_t	 want;
	} cases[] = {
		{ "stack", " rd wr mr mw me gd ac \n", PROCFS_VMF_GD },
		{ "vvar pfn map", " rd mr pf io de dd sd\n", PROCFS_VMF_PF |
		    PROCFS_VMF_IO | PROCFS_VMF_DD },
		{ "madvised", "rd wr hg dc wf", PROCFS_VMF_HG | PROCFS_VMF_DC |
		    PROCFS_VMF_WF },
		{ "nohuge, sealed, locked", " nh sl lo", PROCFS_VMF_NH |
		    PROCFS_VMF_SL | PROCFS_VMF_LO },
		{ "userfaultfd", " rd wr um uw", PROCFS_VMF_UF },
		{ "a code is two letters, not a prefix", " gdx hgg ", 0 },
		{ "empty", "", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		assert_int_equal(procfs_vmflags(cases[i].list), cases[i].want);
	}
}

/* smaps text: fields between headers, VmFlags to the mapping above. */
static void
test_smaps(void **state)
{
	static const char	text[] =
	    "55d0c0000000-55d0c0001000 r--p 00000000 fe:00 10 /bin/x\n"
	    "Size:                  4 kB\n"
	    "Rss:                   4 kB\n"
	    "VmFlags: rd mr mw me \n"
	    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                  "
	    "[stack]\n"
	    "Size:                132 kB\n"
	    "THPeligible:    0\n"
	    "VmFlags: rd wr mr mw me gd ac \n";
	struct procfs_vma	*v = NULL;
	size_t			 n = 0;
	char			*cause = NULL;

	assert_int_equal(procfs_maps_parse(text, &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].path, "/bin/x");
	assert_int_equal(v[0].vmflags, 0);
	assert_string_equal(v[1].path, "[stack]");
	assert_int_equal(v[1].vmflags, PROCFS_VMF_GD);
	procfs_vmas_free(v, n);

	v = NULL;
	n = 0;
	assert_int_equal(procfs_maps_parse("VmFlags: rd\n", &v, &n, &cause), -1);
	assert_string_equal(cause, "smaps: VmFlags before any mapping");
	free(cause);
	procfs_vmas_free(v, n);

	v = NULL;
	n = 0;
	cause = NULL;
	assert_int_equal(procfs_maps_parse("1000-2000 rw-p 0 00:00 0\n"
	    "3000-2000 rw-p 0 00:00 0\n", &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "3000-2000"));
	free(cause);
	procfs_vmas_free(v, n);
}

/*
 * A stat line with fields 4..nfields holding field * 1000, but for rsslim
 * (25), ULONG_MAX as in real life: a value past INT64_MAX to skip over.
 */
static char *
stat_line(const char *comm, int nfields)
{
	char	*s, *p;
	int	 f;

	s = malloc(4096);
	p = s + sprintf(s, "1234 (%s) S", comm);
	for (f = 4; f <= nfields; f++) {
		if (f == 25)
			p += sprintf(p, " 18446744073709551615");
		else
			p += sprintf(p, " %d", f * 1000);
	}
	sprintf(p, "\n");
	return s;
}

static void
test_stat(void **state)
{
	static const struct {
		const char	*label;
		const char	*comm;
		int		 nfields;
		const char	*error;		/* NULL: parses */
	} cases[] = {
		{ "plain comm", "bash", 52, NULL },
		{ "comm with ') (' and spaces", "a) (b c", 52, NULL },
		{ "comm that is ')'", ")", 52, NULL },
		{ "old kernel: only 44 fields", "x", 44, "stat: field 45 missing" },
		{ "cut before start_code", "x", 20, "stat: field 21 missing" },
	};
	struct procfs_stat	 st;
	char			*line, *cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		line = stat_line(cases[i].comm, cases[i].nfields);
		cause = NULL;
		if (cases[i].error != NULL) {
			assert_int_equal(procfs_stat_parse(line, &st, &cause), -1);
			assert_string_equal(cause, cases[i].error);
			free(cause);
			free(line);
			continue;
		}
		assert_int_equal(procfs_stat_parse(line, &st, &cause), 0);
		assert_int_equal(st.state, 'S');
		assert_int_equal(st.num_threads, 20000);
		assert_true(st.start_code == 26000);
		assert_true(st.end_code == 27000);
		assert_true(st.start_stack == 28000);
		assert_true(st.start_data == 45000);
		assert_true(st.end_data == 46000);
		assert_true(st.start_brk == 47000);
		assert_true(st.arg_start == 48000);
		assert_true(st.arg_end == 49000);
		assert_true(st.env_start == 50000);
		assert_true(st.env_end == 51000);
		free(line);
	}

	static const struct {
		const char	*label;
		const char	*text;
		const char	*error;
	} bad[] = {
		{ "no parenthesis", "1234 bash S 1 2 3\n",
		    "stat: no state after the command name" },
		{ "junk in a field", "1 (x) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
		    "19 2z0\n", "stat: field 20 malformed" },
		{ "negative start_code", "1 (x) S 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
		    "-18 19 20 21 22 23 24 25 -26\n", "stat: field 26 out of range" },
		{ "double blank", "1 (x) S  4\n", "stat: field 4 missing" },
	};
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("%s\n", bad[i].label);
		cause = NULL;
		assert_int_equal(procfs_stat_parse(bad[i].text, &st, &cause), -1);
		assert_string_equal(cause, bad[i].error);
		free(cause);
	}
}

static void
test_status(void **state)
{
	static const char	good[] =
	    "Name:\tbash\nUmask:\t0027\nState:\tS (sleeping)\nTgid:\t7\n"
	    "Uid:\t1000\t1001\t1002\t1003\nGid:\t10\t11\t12\t13\n"
	    "Threads:\t3\nSigQ:\t0/95541\nCapInh:\t0000000000000000\n"
	    "CapPrm:\t0000000000002000\nCapEff:\t000001ffffffffff\n";
	static const struct {
		const char	*label;
		const char	*text;
		const char	*error;
	} bad[] = {
		{ "no Threads line", "State:\tR\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n",
		    "status: no Threads line" },
		{ "Uid with three ids", "State:\tR\nUid:\t0 0 0\nGid:\t0 0 0 0\n"
		    "Threads:\t1\n", "status: malformed Uid line" },
		{ "umask not octal", "State:\tR\nUmask:\t0089\nUid:\t0 0 0 0\n"
		    "Gid:\t0 0 0 0\nThreads:\t1\n", "status: malformed Umask line" },
		{ "zero threads", "State:\tR\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n"
		    "Threads:\t0\n", "status: malformed Threads line" },
		{ "CapPrm not hex", "State:\tR\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n"
		    "Threads:\t1\nCapPrm:\t00000000000g2000\n",
		    "status: malformed CapPrm line" },
		{ "CapPrm empty", "State:\tR\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n"
		    "Threads:\t1\nCapPrm:\t\n", "status: malformed CapPrm line" },
	};
	struct procfs_status	 s;
	char			*cause = NULL;
	size_t			 i;

	assert_int_equal(procfs_status_parse(good, &s, &cause), 0);
	assert_int_equal(s.state, 'S');
	assert_int_equal(s.has_umask, 1);
	assert_int_equal(s.umask, 027);
	assert_int_equal(s.uid[0], 1000);
	assert_int_equal(s.uid[3], 1003);
	assert_int_equal(s.gid[2], 12);
	assert_int_equal(s.threads, 3);
	assert_int_equal(s.has_caps, 1);
	assert_int_equal(s.cap_prm, 0x2000);	/* cap_net_raw */
	assert_int_equal(s.cap_eff, 0x1ffffffffffULL);

	/* Before 4.7 there is no Umask line: not an error. */
	assert_int_equal(procfs_status_parse("State:\tR\nUid:\t0 0 0 0\n"
	    "Gid:\t0 0 0 0\nThreads:\t1\n", &s, &cause), 0);
	assert_int_equal(s.has_umask, 0);
	assert_int_equal(s.has_caps, 0);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("%s\n", bad[i].label);
		cause = NULL;
		assert_int_equal(procfs_status_parse(bad[i].text, &s, &cause), -1);
		assert_string_equal(cause, bad[i].error);
		free(cause);
	}
}

static void
test_fdinfo(void **state)
{
	static const struct {
		const char	*label;
		const char	*text;
		int		 ok;
		uint64_t	 pos;
		uint32_t	 flags, mnt_id;
		const char	*error;
	} cases[] = {
		{ "regular file", "pos:\t12345\nflags:\t02100002\nmnt_id:\t22\n"
		    "ino:\t99\n", 1, 12345, 02100002, 22, NULL },
		{ "pipe, no mnt_id", "pos:\t0\nflags:\t04000\n", 1, 0, 04000, 0,
		    NULL },
		{ "eventfd extra lines", "pos:\t0\nflags:\t02\nmnt_id:\t15\n"
		    "ino:\t1057\neventfd-count:                0\n", 1, 0, 02, 15,
		    NULL },
		{ "no flags", "pos:\t0\nmnt_id:\t1\n", 0, 0, 0, 0,
		    "fdinfo: no flags line" },
		{ "no pos", "flags:\t02\n", 0, 0, 0, 0, "fdinfo: no pos line" },
		{ "flags not octal", "pos:\t0\nflags:\t9\n", 0, 0, 0, 0,
		    "fdinfo: malformed flags" },
		{ "pos not a number", "pos:\tx\nflags:\t0\n", 0, 0, 0, 0,
		    "fdinfo: malformed pos" },
	};
	struct procfs_fdinfo	 fi;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		cause = NULL;
		if (!cases[i].ok) {
			assert_int_equal(procfs_fdinfo_parse(cases[i].text, &fi,
			    &cause), -1);
			assert_string_equal(cause, cases[i].error);
			free(cause);
			continue;
		}
		assert_int_equal(procfs_fdinfo_parse(cases[i].text, &fi, &cause), 0);
		assert_true(fi.pos == cases[i].pos);
		assert_int_equal(fi.flags, cases[i].flags);
		assert_int_equal(fi.mnt_id, cases[i].mnt_id);
	}
}

/* The lines eventfd, signalfd and epoll add to fdinfo (as 6.x prints them). */
static void
test_fdkind(void **state)
{
	static const struct {
		const char	*label;
		const char	*text;
		int		 ok;
		int		 has_count, sem, has_mask;
		uint64_t	 count, mask;
		size_t		 ntfd;
		const char	*error;
	} cases[] = {
		{ "eventfd, semaphore", "pos:\t0\nflags:\t04002\nmnt_id:\t17\n"
		    "ino:\t1038\neventfd-count:               1f\neventfd-id: 1\n"
		    "eventfd-semaphore: 1\n", 1, 1, 1, 0, 0x1f, 0, 0, NULL },
		{ "eventfd, older kernel", "pos:\t0\nflags:\t02\n"
		    "eventfd-count:                0\n", 1, 1, 0, 0, 0, 0, 0, NULL },
		{ "signalfd", "pos:\t0\nflags:\t02\nsigmask:\t0000000000000800\n",
		    1, 0, 0, 1, 0, 0x800, 0, NULL },
		{ "epoll, two targets", "pos:\t0\nflags:\t02\n"
		    "tfd:        3 events:       19 data:             1234  pos:0 "
		    "ino:40e sdev:10\n"
		    "tfd:       12 events: 8000001c data: ffffffffffffffff  pos:0 "
		    "ino:3c51a sdev:fe00000\n", 1, 0, 0, 0, 0, 0, 2, NULL },
		{ "epoll, empty", "pos:\t0\nflags:\t02\n", 1, 0, 0, 0, 0, 0, 0,
		    NULL },
		{ "eventfd count not hex", "eventfd-count: zz\n", 0, 0, 0, 0, 0,
		    0, 0, "fdinfo: malformed line: eventfd-count: zz" },
		{ "semaphore 2", "eventfd-semaphore: 2\n", 0, 0, 0, 0, 0, 0, 0,
		    "fdinfo: malformed line: eventfd-semaphore: 2" },
		{ "tfd cut short", "tfd:        3 events:       19\n", 0, 0, 0, 0,
		    0, 0, 0, "fdinfo: malformed line: tfd:        3 events:       19" },
	};
	struct procfs_fdkind	 k;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].label);
		cause = NULL;
		if (!cases[i].ok) {
			assert_int_equal(procfs_fdkind_parse(cases[i].text, &k,
			    &cause), -1);
			assert_string_equal(cause, cases[i].error);
			free(cause);
			assert_null(k.tfd);
			continue;
		}
		assert_int_equal(procfs_fdkind_parse(cases[i].text, &k, &cause), 0);
		assert_int_equal(k.has_count, cases[i].has_count);
		assert_int_equal(k.semaphore, cases[i].sem);
		assert_int_equal(k.has_sigmask, cases[i].has_mask);
		assert_true(k.count == cases[i].count);
		assert_true(k.sigmask == cases[i].mask);
		assert_int_equal(k.ntfd, cases[i].ntfd);
		if (k.ntfd == 2) {
			assert_int_equal(k.tfd[0].tfd, 3);
			assert_int_equal(k.tfd[0].events, 0x19);
			assert_true(k.tfd[0].data == 0x1234);
			assert_true(k.tfd[0].ino == 0x40e);
			assert_int_equal(k.tfd[0].sdev, 0x10);
			assert_int_equal(k.tfd[1].tfd, 12);
			assert_int_equal(k.tfd[1].events, 0x8000001c);
			assert_true(k.tfd[1].data == UINT64_MAX);
			assert_int_equal(k.tfd[1].sdev, 0xfe00000);
		}
		procfs_fdkind_free(&k);
	}
}

static void
test_small_files(void **state)
{
	uint32_t	 pers = 1;
	char		*cause = NULL, *s;

	assert_int_equal(procfs_personality_parse("00000000\n", &pers, &cause), 0);
	assert_int_equal(pers, 0);
	assert_int_equal(procfs_personality_parse("00400000\n", &pers, &cause), 0);
	assert_int_equal(pers, 0x400000);
	assert_int_equal(procfs_personality_parse("zz\n", &pers, &cause), -1);
	free(cause);

	s = procfs_cmdline_join("bc\0-l\0x y\0", 10);
	assert_string_equal(s, "bc -l x y");
	free(s);
	s = procfs_cmdline_join("", 0);
	assert_string_equal(s, "");
	free(s);
}

/* The readers, on this very process. */
static void
test_readers_self(void **state)
{
	struct procfs_vma	*v;
	struct procfs_stat	 st;
	struct procfs_status	 s;
	struct procfs_fdinfo	 fi;
	uint64_t		 auxv[128], pm[2];
	uint32_t		 nauxv;
	size_t			 n, i;
	int			*fds, fd, found = 0, pmfd;
	char			*cause = NULL, *link;
	void			*p;

	p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 1, 4096);		/* first page present, second not */

	assert_int_equal(procfs_maps(0, 1, &v, &n, &cause), 0);
	for (i = 0; i < n; i++) {
		if (v[i].start <= (uint64_t)p && v[i].end >= (uint64_t)p + 8192) {
			assert_int_equal(v[i].prot, PROT_READ | PROT_WRITE);
			found = 1;
		}
		if (strcmp(v[i].path, "[stack]") == 0)
			assert_true(v[i].vmflags & PROCFS_VMF_GD);
	}
	assert_true(found);
	procfs_vmas_free(v, n);

	assert_int_equal(procfs_stat(0, &st, &cause), 0);
	assert_int_equal(st.num_threads, 1);
	assert_true(st.start_code != 0 && st.arg_start < st.arg_end);
	assert_int_equal(procfs_status(0, &s, &cause), 0);
	assert_int_equal(s.uid[0], getuid());

	fd = open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(procfs_fdinfo(0, fd, &fi, &cause), 0);
	assert_true(fi.flags & O_APPEND);
	assert_true(fi.flags & O_CLOEXEC);
	assert_int_equal(procfs_fds(0, &fds, &n, &cause), 0);
	found = 0;
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(fds[i - 1] < fds[i]);
		if (fds[i] == fd)
			found = 1;
	}
	assert_true(found);
	free(fds);
	{
		char	name[32];

		snprintf(name, sizeof name, "fd/%d", fd);
		assert_int_equal(procfs_link(0, name, &link, &cause), 0);
		assert_string_equal(link, "/dev/null");
		free(link);
	}
	close(fd);

	assert_int_equal(procfs_auxv(0, auxv, 128, &nauxv, &cause), 0);
	assert_true(nauxv >= 2 && nauxv % 2 == 0);
	assert_true(auxv[nauxv - 2] == 0);	/* AT_NULL last */
	assert_int_equal(procfs_auxv(0, auxv, 2, &nauxv, &cause), -1);
	free(cause);
	cause = NULL;

	pmfd = open("/proc/self/pagemap", O_RDONLY);
	assert_true(pmfd >= 0);
	assert_int_equal(procfs_pagemap(pmfd, (uint64_t)p, 2, pm, &cause), 0);
	assert_true(pm[0] & PM_PRESENT);
	assert_false(pm[1] & PM_PRESENT);
	close(pmfd);

	assert_int_equal(procfs_slurp(0, "no-such-file", &link, NULL, &cause),
	    -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	munmap(p, 8192);
}

/* /proc/PID/timers as show_timer prints it: sorted by id, each field parsed. */
static void
test_timers(void **state)
{
	static const char text[] =
	    "ID: 3\n"
	    "signal: 14/000000001234abcd\n"
	    "notify: signal/pid.18939\n"
	    "ClockID: -151518\n"
	    "ID: 2\n"
	    "signal: 14/0000000000000000\n"
	    "notify: signal/tid.18939\n"
	    "ClockID: -6\n"
	    "ID: 1\n"
	    "signal: 35/00007fffdeadbeef\n"
	    "notify: none/pid.18939\n"
	    "ClockID: 7\n"
	    "ID: 0\n"
	    "signal: 32/0000000000000000\n"
	    "notify: thread/tid.18940\n"
	    "ClockID: 1\n";
	static const char *const bad[] = {
	    "signal: 14/0\n",				/* before any ID */
	    "ID: 0\nsignal: 14/0\nClockID: 0\n",	/* no notify */
	    "ID: 0\nsignal: 14/0\nnotify: maybe/pid.1\nClockID: 0\n",
	    "ID: 0\nsignal: 14/0\nnotify: signal/who.1\nClockID: 0\n",
	    "ID: 0\nID: 1\n",
	    "ID: 0\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 0\nextra\n",
	};
	struct procfs_timer	*t;
	size_t			 n, i;
	char			*cause = NULL;

	(void)state;
	assert_int_equal(procfs_timers_parse(text, &t, &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_int_equal(t[0].id, 0);
	assert_int_equal(t[0].signo, 32);
	assert_int_equal(t[0].notify, 2 | 4);		/* SIGEV_THREAD, tid */
	assert_int_equal(t[0].target, 18940);
	assert_int_equal(t[1].id, 1);
	assert_int_equal(t[1].notify, 1);		/* SIGEV_NONE */
	assert_int_equal(t[1].value, 0x7fffdeadbeefULL);
	assert_int_equal(t[1].clock, 7);
	assert_int_equal(t[2].notify, 4);		/* SIGEV_SIGNAL | THREAD_ID */
	assert_int_equal(t[2].clock, -6);
	assert_int_equal(t[3].id, 3);
	assert_int_equal(t[3].value, 0x1234abcd);
	assert_int_equal(t[3].notify, 0);
	assert_int_equal(t[3].target, 18939);
	assert_int_equal(t[3].clock, -151518);
	free(t);

	assert_int_equal(procfs_timers_parse("", &t, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_null(t);
	assert_null(cause);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(procfs_timers_parse(bad[i], &t, &n, &cause), -1);
		assert_non_null(strstr(cause, "timers: malformed"));
		assert_null(t);
		free(cause);
		cause = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_vmflags),
		cmocka_unit_test(test_smaps),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_fdinfo),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_fdkind),
		cmocka_unit_test(test_small_files),
		cmocka_unit_test(test_readers_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
