/* test_image.c: section codecs, the writer and reader, and every way they refuse an image. */
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "omm/buf.h"
#include "omm/crc32c.h"
#include "omm/image.h"
#include "omm/xmalloc.h"

#define PS	4096

/* A small but complete image: every section has something in it. */
static void
sample_img(struct img *img)
{
	int	i;

	memset(img, 0, sizeof *img);
	img->hdr.version = IMG_VERSION;
	img->hdr.arch = IMG_ARCH_X86_64;
	img->hdr.page_size = PS;
	img->hdr.time_ns = 1700000000123456789ull;
	strcpy(img->hdr.kernel, "6.18.0-test");
	strcpy(img->hdr.hostname, "node1");
	cpu_features_get(&img->hdr.cpu);

	img->proc.pid = 4242;
	img->proc.uid = 1000;
	img->proc.gid = 100;
	strcpy(img->proc.comm, "worker");
	img->proc.exe = xstrdup("/usr/bin/worker");
	img->proc.cmdline = xstrdup("worker --fast input.dat");
	img->proc.cwd = xstrdup("/home/u");
	img->proc.umask = 022;
	img->proc.personality = 0;
	for (i = 0; i < IMG_NRLIMITS; i++) {
		img->proc.rlim[i].cur = 1000 + i;
		img->proc.rlim[i].max = UINT64_MAX - i;
	}
	img->proc.start_code = 0x400000;
	img->proc.end_code = 0x401000;
	img->proc.brk = 0x602000;
	img->proc.auxv_n = 4;
	img->proc.auxv[0] = 6;
	img->proc.auxv[1] = PS;
	img->proc.rseq_addr = 0x7f0000001000;
	img->proc.ngroups = 3;
	img->proc.groups = xcalloc(3, sizeof *img->proc.groups);
	img->proc.groups[0] = 27;
	img->proc.groups[1] = 100;
	img->proc.groups[2] = 4242;
	img->proc.mlockall = IMG_MCL_FUTURE | IMG_MCL_ONFAULT;
	img->proc.membarrier = IMG_MEMBARRIER_PRIVATE_EXPEDITED |
	    IMG_MEMBARRIER_RSEQ;
	img->proc.rseq_len = 32;
	img->proc.rseq_sig = 0x53053053;
	img->proc.clear_tid = 0x7f0000002000;

	for (i = 0; i < IMG_NGREGS; i++)
		img->regs.gpr[i] = 0x1111111111111111ull * (uint64_t)(i % 15);
	img->regs.xstate_len = 2688;
	img->regs.xstate = xmalloc(img->regs.xstate_len);
	for (i = 0; i < 2688; i++)
		img->regs.xstate[i] = (uint8_t)(i * 7);

	img->sig.act[9].handler = 0x401234;	/* SIGUSR1 */
	img->sig.act[9].flags = 0x14000000;
	img->sig.act[9].restorer = 0x401500;
	img->sig.act[9].mask = 1 << 11;
	img->sig.act[12].handler = 1;		/* SIGPIPE ignored */
	img->sig.blocked = 1ull << 11;
	img->sig.ss_sp = 0x7f0000010000;
	img->sig.ss_size = 8192;
	img->sig.npending = 2;
	img->sig.pending = xcalloc(2, sizeof *img->sig.pending);
	img->sig.pending[0].shared = 1;
	img->sig.pending[0].raw[0] = 12;
	img->sig.pending[1].raw[0] = 10;
	img->sig.pending[1].raw[127] = 0xee;

	img->nfds = 6;
	img->fds = xcalloc(6, sizeof *img->fds);
	img->fds[0].fd = 0;
	img->fds[0].kind = IMG_FD_STDIO;
	img->fds[1].fd = 1;
	img->fds[1].kind = IMG_FD_FILE;
	img->fds[1].flags = 01101;
	img->fds[1].pos = 123456;
	img->fds[1].mode = 0100644;
	img->fds[1].path = xstrdup("/tmp/out.txt");
	img->fds[2].fd = 7;
	img->fds[2].kind = IMG_FD_DEV;
	img->fds[2].cloexec = 1;
	img->fds[2].path = xstrdup("/dev/null");
	/* the kinds of image version 3 */
	img->fds[3].fd = 8;
	img->fds[3].kind = IMG_FD_EVENTFD;
	img->fds[3].value = 1ull << 40;
	img->fds[3].extra = IMG_EFD_SEMAPHORE;
	img->fds[4].fd = 9;
	img->fds[4].kind = IMG_FD_EPOLL;
	img->fds[4].nwatch = 2;
	img->fds[4].watch = xcalloc(2, sizeof *img->fds[4].watch);
	img->fds[4].watch[0].fd = 8;
	img->fds[4].watch[0].events = 0x19;
	img->fds[4].watch[0].data = 0xfeed0001;
	img->fds[4].watch[1].fd = 10;
	img->fds[4].watch[1].events = 0x4;
	img->fds[4].watch[1].data = UINT64_MAX;
	img->fds[5].fd = 10;
	img->fds[5].kind = IMG_FD_MEMFD;
	img->fds[5].path = xstrdup("cache");
	img->fds[5].extra = 0x6;
	img->fds[5].size = img->fds[5].datalen = 5;
	img->fds[5].data = (uint8_t *)xstrdup("hello");

	img->nvmas = 3;
	img->vmas = xcalloc(3, sizeof *img->vmas);
	img->vmas[0].start = 0x400000;
	img->vmas[0].end = 0x402000;
	img->vmas[0].prot = 5;
	img->vmas[0].flags = IMG_VMA_FILE | IMG_VMA_FILE_PAGES;
	img->vmas[0].path = xstrdup("/usr/bin/worker");
	img->vmas[0].ino = 99;
	img->vmas[0].mtime_ns = -5;
	img->vmas[1].start = 0x600000;
	img->vmas[1].end = 0x608000;
	img->vmas[1].prot = 3;
	img->vmas[1].flags = IMG_VMA_HEAP;
	img->vmas[1].madv = IMG_MADV_HUGEPAGE;
	img->vmas[1].npages = 3;
	img->vmas[2].start = 0x7ffff0000000;
	img->vmas[2].end = 0x7ffff0002000;
	img->vmas[2].prot = 3;
	img->vmas[2].flags = IMG_VMA_STACK | IMG_VMA_GROWSDOWN;
	img->vmas[2].npages = 1;

	img->timers.it[0].value_ns = 2500000000ull;	/* alarm(3) after 0.5 s */
	img->timers.it[1].value_ns = 7000;
	img->timers.it[1].interval_ns = 10000000;
	img->timers.n = 3;
	img->timers.t = xcalloc(3, sizeof *img->timers.t);
	img->timers.t[0].id = 0;
	img->timers.t[0].clock = 1;			/* CLOCK_MONOTONIC */
	img->timers.t[0].signo = 34;
	img->timers.t[0].value = 0x7f00deadbeefull;
	img->timers.t[0].value_ns = 999999999;
	img->timers.t[0].interval_ns = 1000000000;
	img->timers.t[0].overrun = 7;
	img->timers.t[1].id = 5;
	img->timers.t[1].clock = 7;			/* CLOCK_BOOTTIME */
	img->timers.t[1].notify = IMG_SIGEV_NONE;
	img->timers.t[1].value_ns = 1;
	img->timers.t[2].id = 0x7fffffff;
	img->timers.t[2].clock = -6;			/* CLOCK_PROCESS_CPUTIME_ID */
	img->timers.t[2].notify = IMG_SIGEV_THREAD_ID;
	img->timers.t[2].signo = 64;
}

static void
assert_img_equal(const struct img *a, const struct img *b)
{
	uint32_t	i;

	assert_memory_equal(&a->hdr, &b->hdr, sizeof a->hdr);
	assert_int_equal(a->proc.pid, b->proc.pid);
	assert_string_equal(a->proc.comm, b->proc.comm);
	assert_string_equal(a->proc.exe, b->proc.exe);
	assert_string_equal(a->proc.cmdline, b->proc.cmdline);
	assert_string_equal(a->proc.cwd, b->proc.cwd);
	assert_memory_equal(a->proc.rlim, b->proc.rlim, sizeof a->proc.rlim);
	assert_int_equal(a->proc.auxv_n, b->proc.auxv_n);
	assert_memory_equal(a->proc.auxv, b->proc.auxv, sizeof a->proc.auxv);
	assert_int_equal(a->proc.brk, b->proc.brk);
	assert_int_equal(a->proc.rseq_sig, b->proc.rseq_sig);
	assert_int_equal(a->proc.clear_tid, b->proc.clear_tid);
	assert_int_equal(a->proc.ngroups, b->proc.ngroups);
	assert_memory_equal(a->proc.groups, b->proc.groups,
	    a->proc.ngroups * sizeof *a->proc.groups);
	assert_int_equal(a->proc.mlockall, b->proc.mlockall);
	assert_int_equal(a->proc.membarrier, b->proc.membarrier);
	assert_memory_equal(a->regs.gpr, b->regs.gpr, sizeof a->regs.gpr);
	assert_int_equal(a->regs.xstate_len, b->regs.xstate_len);
	assert_memory_equal(a->regs.xstate, b->regs.xstate, a->regs.xstate_len);
	assert_memory_equal(a->sig.act, b->sig.act, sizeof a->sig.act);
	assert_int_equal(a->sig.blocked, b->sig.blocked);
	assert_int_equal(a->sig.ss_size, b->sig.ss_size);
	assert_int_equal(a->sig.npending, b->sig.npending);
	assert_memory_equal(a->sig.pending, b->sig.pending,
	    a->sig.npending * sizeof *a->sig.pending);
	assert_memory_equal(a->timers.it, b->timers.it, sizeof a->timers.it);
	assert_int_equal(a->timers.n, b->timers.n);
	for (i = 0; i < a->timers.n; i++) {
		assert_int_equal(a->timers.t[i].id, b->timers.t[i].id);
		assert_int_equal(a->timers.t[i].clock, b->timers.t[i].clock);
		assert_int_equal(a->timers.t[i].notify, b->timers.t[i].notify);
		assert_int_equal(a->timers.t[i].signo, b->timers.t[i].signo);
		assert_int_equal(a->timers.t[i].value, b->timers.t[i].value);
		assert_int_equal(a->timers.t[i].value_ns, b->timers.t[i].value_ns);
		assert_int_equal(a->timers.t[i].interval_ns,
		    b->timers.t[i].interval_ns);
		assert_int_equal(a->timers.t[i].overrun, b->timers.t[i].overrun);
	}
	assert_int_equal(a->nfds, b->nfds);
	for (i = 0; i < a->nfds; i++) {
		assert_int_equal(a->fds[i].fd, b->fds[i].fd);
		assert_int_equal(a->fds[i].kind, b->fds[i].kind);
		assert_int_equal(a->fds[i].flags, b->fds[i].flags);
		assert_int_equal(a->fds[i].cloexec, b->fds[i].cloexec);
		assert_int_equal(a->fds[i].pos, b->fds[i].pos);
		assert_int_equal(a->fds[i].mode, b->fds[i].mode);
		assert_int_equal(a->fds[i].value, b->fds[i].value);
		assert_int_equal(a->fds[i].extra, b->fds[i].extra);
		assert_int_equal(a->fds[i].nwatch, b->fds[i].nwatch);
		for (uint32_t w = 0; w < a->fds[i].nwatch; w++) {
			assert_int_equal(a->fds[i].watch[w].fd,
			    b->fds[i].watch[w].fd);
			assert_int_equal(a->fds[i].watch[w].events,
			    b->fds[i].watch[w].events);
			assert_int_equal(a->fds[i].watch[w].data,
			    b->fds[i].watch[w].data);
		}
		assert_int_equal(a->fds[i].datalen, b->fds[i].datalen);
		if (a->fds[i].datalen > 0)
			assert_memory_equal(a->fds[i].data, b->fds[i].data,
			    a->fds[i].datalen);
		if (a->fds[i].path == NULL)
			assert_null(b->fds[i].path);
		else
			assert_string_equal(a->fds[i].path, b->fds[i].path);
	}
	assert_int_equal(a->nvmas, b->nvmas);
	for (i = 0; i < a->nvmas; i++) {
		assert_int_equal(a->vmas[i].start, b->vmas[i].start);
		assert_int_equal(a->vmas[i].end, b->vmas[i].end);
		assert_int_equal(a->vmas[i].prot, b->vmas[i].prot);
		assert_int_equal(a->vmas[i].flags, b->vmas[i].flags);
		assert_int_equal(a->vmas[i].madv, b->vmas[i].madv);
		assert_int_equal(a->vmas[i].ino, b->vmas[i].ino);
		assert_int_equal(a->vmas[i].mtime_ns, b->vmas[i].mtime_ns);
		assert_int_equal(a->vmas[i].npages, b->vmas[i].npages);
		if (a->vmas[i].path == NULL)
			assert_null(b->vmas[i].path);
		else
			assert_string_equal(a->vmas[i].path, b->vmas[i].path);
	}
}

/* The pages of sample_img: 3 in the heap (two sections), 1 on the stack. */
static const uint64_t sample_addrs[] = { 0x600000, 0x603000, 0x607000,
    0x7ffff0001000 };

static void
sample_page(uint8_t *p, uint64_t addr)
{
	size_t	i;

	for (i = 0; i < PS; i += 8)
		memcpy(p + i, &addr, 8), addr++;
}

/* Write the sample image to a new memfd; returns it at offset 0. */
static int
write_sample(struct img *img, size_t *lenp)
{
	struct img_writer	*w;
	struct iovec		 iov[3];
	uint8_t			*pages;
	char			*cause = NULL;
	int			 fd, i;

	fd = memfd_create("img", 0);
	assert_true(fd >= 0);
	pages = xmalloc(4 * PS);
	for (i = 0; i < 4; i++)
		sample_page(pages + i * PS, sample_addrs[i]);
	w = img_writer_new(fd);
	assert_int_equal(img_write_meta(w, img, &cause), 0);
	/* First section: two pages split over three iovecs at odd places. */
	iov[0].iov_base = pages;
	iov[0].iov_len = 100;
	iov[1].iov_base = pages + 100;
	iov[1].iov_len = PS;
	iov[2].iov_base = pages + 100 + PS;
	iov[2].iov_len = PS - 100;
	assert_int_equal(img_write_pages(w, sample_addrs, 2, iov, 3, &cause), 0);
	iov[0].iov_base = pages + 2 * PS;
	iov[0].iov_len = 2 * PS;
	assert_int_equal(img_write_pages(w, sample_addrs + 2, 2, iov, 1, &cause), 0);
	assert_int_equal(img_write_end(w, &cause), 0);
	assert_null(cause);
	*lenp = (size_t)img_writer_bytes(w);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)*lenp);
	img_writer_free(w);
	free(pages);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read a whole image from fd; 0 or -1 with *cause set. Checks the pages too. */
static int
read_all(int fd, struct img *out, uint64_t *npages, char **cause)
{
	struct img_reader	*r;
	struct img_pages	 pg;
	uint8_t			 expect[PS];
	uint32_t		 i;
	int			 rv;

	*npages = 0;
	r = img_reader_new(fd);
	if (img_read_meta(r, out, cause) != 0) {
		img_reader_free(r);
		return -1;
	}
	while ((rv = img_read_pages(r, &pg, cause)) == 1) {
		for (i = 0; i < pg.count; i++) {
			sample_page(expect, img_page_addr(&pg, i));
			assert_memory_equal(pg.data + (size_t)i * PS, expect, PS);
		}
		*npages += pg.count;
	}
	/* After END it keeps saying "done". */
	if (rv == 0)
		assert_int_equal(img_read_pages(r, &pg, cause), 0);
	img_reader_free(r);
	if (rv != 0)
		img_free(out);
	return rv;
}

static void
test_roundtrip(void **state)
{
	struct img	 a, b;
	char		*cause = NULL;
	size_t		 len;
	uint64_t	 npages;
	int		 fd;

	sample_img(&a);
	fd = write_sample(&a, &len);
	assert_int_equal(read_all(fd, &b, &npages, &cause), 0);
	assert_null(cause);
	assert_int_equal(npages, 4);
	assert_img_equal(&a, &b);
	assert_int_equal(img_check_cpu(&b, &cause), 0);
	img_free(&b);
	img_free(&a);
	/* img_free leaves a zeroed struct: freeing again is harmless. */
	img_free(&a);
	close(fd);
}

/* Each codec alone: encode, decode, same thing; and the empty cases. */
static void
test_codecs(void **state)
{
	struct img	 a, b;
	struct buf	 buf;
	struct img_end	 e = { 7, 123456789 }, e2;
	char		*cause = NULL;

	sample_img(&a);
	memset(&b, 0, sizeof b);
	buf_init(&buf);
	img_header_encode(&a.hdr, &buf);
	assert_int_equal(img_header_decode(&b.hdr, buf.data, buf.len, &cause), 0);
	buf_reset(&buf);
	img_proc_encode(&a.proc, &buf);
	assert_int_equal(img_proc_decode(&b.proc, buf.data, buf.len, &cause), 0);
	buf_reset(&buf);
	img_regs_encode(&a.regs, &buf);
	assert_int_equal(img_regs_decode(&b.regs, buf.data, buf.len, &cause), 0);
	buf_reset(&buf);
	img_signals_encode(&a.sig, &buf);
	assert_int_equal(img_signals_decode(&b.sig, buf.data, buf.len, &cause), 0);
	buf_reset(&buf);
	img_timers_encode(&a.timers, &buf);
	assert_int_equal(buf.len, 4 + 3 * 16 + 4 + 3 * 44);
	assert_int_equal(img_timers_decode(&b.timers, buf.data, buf.len, &cause),
	    0);
	buf_reset(&buf);
	img_fds_encode(a.fds, a.nfds, &buf);
	assert_int_equal(img_fds_decode(&b.fds, &b.nfds, buf.data, buf.len, &cause), 0);
	buf_reset(&buf);
	img_vmas_encode(a.vmas, a.nvmas, &buf);
	assert_int_equal(img_vmas_decode(&b.vmas, &b.nvmas, buf.data, buf.len,
	    &cause), 0);
	buf_reset(&buf);
	img_end_encode(&e, &buf);
	assert_int_equal(buf.len, 16);
	assert_int_equal(img_end_decode(&e2, buf.data, buf.len, &cause), 0);
	assert_int_equal(e2.nsections, 7);
	assert_int_equal(e2.npages, 123456789);
	assert_null(cause);
	assert_img_equal(&a, &b);
	img_free(&a);
	img_free(&b);

	/* Empty: no xstate, no pending signals, no fds, no vmas, NULL strings. */
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	buf_reset(&buf);
	img_proc_encode(&a.proc, &buf);
	assert_int_equal(img_proc_decode(&b.proc, buf.data, buf.len, &cause), 0);
	assert_null(b.proc.exe);
	assert_null(b.proc.cwd);
	buf_reset(&buf);
	img_regs_encode(&a.regs, &buf);
	assert_int_equal(img_regs_decode(&b.regs, buf.data, buf.len, &cause), 0);
	assert_null(b.regs.xstate);
	buf_reset(&buf);
	img_signals_encode(&a.sig, &buf);
	assert_int_equal(img_signals_decode(&b.sig, buf.data, buf.len, &cause), 0);
	assert_null(b.sig.pending);
	buf_reset(&buf);
	img_timers_encode(&a.timers, &buf);
	assert_int_equal(buf.len, 4 + 3 * 16 + 4);
	assert_int_equal(img_timers_decode(&b.timers, buf.data, buf.len, &cause),
	    0);
	assert_null(b.timers.t);
	assert_int_equal(b.timers.n, 0);
	buf_reset(&buf);
	img_fds_encode(NULL, 0, &buf);
	assert_int_equal(img_fds_decode(&b.fds, &b.nfds, buf.data, buf.len, &cause), 0);
	assert_int_equal(b.nfds, 0);
	buf_reset(&buf);
	img_vmas_encode(NULL, 0, &buf);
	assert_int_equal(img_vmas_decode(&b.vmas, &b.nvmas, buf.data, buf.len,
	    &cause), 0);
	assert_int_equal(b.nvmas, 0);
	assert_null(cause);
	img_free(&b);

	/* Entries of the smallest size (no paths) exactly fill their payload. */
	{
		struct img_fd	fds[3];
		struct img_vma	vmas[3];
		int		i;

		memset(fds, 0, sizeof fds);
		memset(vmas, 0, sizeof vmas);
		for (i = 0; i < 3; i++) {
			fds[i].fd = i;
			fds[i].kind = IMG_FD_STDIO;
			vmas[i].start = 0x10000 * (i + 1);
			vmas[i].end = vmas[i].start + PS;
		}
		buf_reset(&buf);
		img_fds_encode(fds, 3, &buf);
		assert_int_equal(buf.len, 4 + 3 * 84);
		assert_int_equal(img_fds_decode(&b.fds, &b.nfds, buf.data, buf.len,
		    &cause), 0);
		assert_int_equal(b.nfds, 3);
		assert_int_equal(b.fds[2].fd, 2);
		buf_reset(&buf);
		img_vmas_encode(vmas, 3, &buf);
		assert_int_equal(buf.len, 4 + 3 * 80);
		assert_int_equal(img_vmas_decode(&b.vmas, &b.nvmas, buf.data,
		    buf.len, &cause), 0);
		assert_int_equal(b.nvmas, 3);
		assert_null(b.vmas[1].path);
		assert_null(cause);
		img_free(&b);
	}
	buf_free(&buf);
}

/*
 * Raw images built section by section, so that tests can reorder, drop,
 * duplicate or damage sections the writer would never produce.
 */
#define MAXSEC	16
struct raw {
	int		n;
	uint32_t	type[MAXSEC];
	uint32_t	flags[MAXSEC];
	struct buf	p[MAXSEC];
	int		badlen[MAXSEC];		/* announce this length instead */
	uint64_t	len[MAXSEC];
};

static void
raw_add(struct raw *r, uint32_t type)
{
	assert_true(r->n < MAXSEC);
	r->type[r->n] = type;
	r->flags[r->n] = 0;
	r->badlen[r->n] = 0;
	buf_init(&r->p[r->n]);
	r->n++;
}

static void
raw_pages(struct raw *r, const uint64_t *addrs, uint32_t count)
{
	struct buf	*b;
	uint32_t	 i;

	raw_add(r, IMG_SEC_PAGES);
	b = &r->p[r->n - 1];
	buf_add_u32(b, count);
	buf_add_u32(b, 0);
	for (i = 0; i < count; i++)
		buf_add_u64(b, addrs[i]);
	for (i = 0; i < count; i++)
		sample_page(buf_reserve(b, PS), addrs[i]);
}

static void
raw_end(struct raw *r, uint64_t nsections, uint64_t npages)
{
	struct img_end	e = { nsections, npages };

	raw_add(r, IMG_SEC_END);
	img_end_encode(&e, &r->p[r->n - 1]);
}

/* The sample image as raw sections: 7 meta, 2 PAGES, END. */
static void
raw_sample(struct raw *r, const struct img *img)
{
	memset(r, 0, sizeof *r);
	raw_add(r, IMG_SEC_HEADER);
	img_header_encode(&img->hdr, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_PROC);
	img_proc_encode(&img->proc, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_REGS);
	img_regs_encode(&img->regs, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_SIGNALS);
	img_signals_encode(&img->sig, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_FDS);
	img_fds_encode(img->fds, img->nfds, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_VMAS);
	img_vmas_encode(img->vmas, img->nvmas, &r->p[r->n - 1]);
	raw_add(r, IMG_SEC_TIMERS);
	img_timers_encode(&img->timers, &r->p[r->n - 1]);
	raw_pages(r, sample_addrs, 2);
	raw_pages(r, sample_addrs + 2, 2);
	raw_end(r, 9, 4);
}

static void
raw_free(struct raw *r)
{
	int	i;

	for (i = 0; i < r->n; i++)
		buf_free(&r->p[i]);
	r->n = 0;
}

static void
raw_serialize(const struct raw *r, struct buf *out)
{
	size_t		off;
	uint64_t	len;
	int		i;

	buf_init(out);
	for (i = 0; i < r->n; i++) {
		off = out->len;
		len = r->badlen[i] ? r->len[i] : r->p[i].len;
		buf_add_u32(out, r->type[i]);
		buf_add_u32(out, r->flags[i]);
		buf_add_u64(out, len);
		buf_add(out, r->p[i].data, r->p[i].len);
		buf_add_u32(out, crc32c(0, out->data + off, out->len - off));
	}
}

static int
memfd_with(const void *p, size_t n)
{
	int	fd = memfd_create("raw", 0);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read bytes as an image; returns the cause (caller frees) or NULL if accepted. */
static char *
read_bytes(const void *p, size_t n)
{
	struct img	 img;
	char		*cause = NULL;
	uint64_t	 npages;
	int		 fd = memfd_with(p, n), rv;

	rv = read_all(fd, &img, &npages, &cause);
	close(fd);
	if (rv == 0) {
		assert_null(cause);
		img_free(&img);
		return NULL;
	}
	assert_non_null(cause);
	return cause;
}

static void
expect_raw(const struct raw *r, const char *what, const char *want)
{
	struct buf	 b;
	char		*cause;

	raw_serialize(r, &b);
	cause = read_bytes(b.data, b.len);
	print_message("%-40s -> %s\n", what, cause == NULL ? "accepted" : cause);
	if (want == NULL)
		assert_null(cause);
	else {
		assert_non_null(cause);
		if (strstr(cause, want) == NULL)
			fail_msg("%s: expected \"%s\" in \"%s\"", what, want, cause);
	}
	free(cause);
	buf_free(&b);
}

/* The raw builder itself makes an image the reader accepts. */
static void
test_raw_valid(void **state)
{
	struct img	a;
	struct raw	r;

	sample_img(&a);
	raw_sample(&r, &a);
	expect_raw(&r, "raw sample", NULL);
	raw_free(&r);
	img_free(&a);
}

/* Cut the image at every byte offset: each must fail as truncated. */
static void
test_truncation(void **state)
{
	struct img	 a;
	char		*cause, *p;
	size_t		 len, off;
	int		 fd;

	sample_img(&a);
	fd = write_sample(&a, &len);
	p = xmalloc(len);
	assert_int_equal(pread(fd, p, len, 0), (ssize_t)len);
	close(fd);
	for (off = 0; off < len; off++) {
		cause = read_bytes(p, off);
		if (cause == NULL || strncmp(cause, "image truncated in section ",
		    27) != 0)
			fail_msg("cut at %zu of %zu: %s", off, len, cause);
		if (off == 0 || off == len - 20 || off == len - 21 ||
		    off == 5000)
			print_message("cut at %zu: %s\n", off, cause);
		free(cause);
	}
	/* Whole, it reads. */
	assert_null(read_bytes(p, len));
	free(p);
	img_free(&a);
}

/* Section offsets of a serialized image, by walking its frames. */
static int
frames(const uint8_t *p, size_t len, size_t *offs, uint64_t *lens, int max)
{
	size_t	off = 0;
	int	n = 0;

	while (off + 16 <= len && n < max) {
		offs[n] = off;
		lens[n] = le64dec(p + off + 8);
		off += 16 + lens[n] + 4;
		n++;
	}
	return n;
}

/* One flipped byte in each section's payload is a checksum mismatch there. */
static void
test_flip(void **state)
{
	static const char *names[] = { "HEADER", "PROC", "REGS", "SIGNALS",
	    "FDS", "VMAS", "TIMERS", "PAGES #7", "PAGES #8", "END" };
	struct img	 a;
	struct raw	 r;
	struct buf	 b;
	size_t		 offs[MAXSEC], at;
	uint64_t	 lens[MAXSEC];
	char		*cause, want[64];
	int		 i, n;

	sample_img(&a);
	raw_sample(&r, &a);
	raw_serialize(&r, &b);
	n = frames(b.data, b.len, offs, lens, MAXSEC);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		/* The middle, except in HEADER past the magic and version. */
		at = offs[i] + 16 + (i == 0 ? 12 + (lens[i] - 12) / 2 : lens[i] / 2);
		b.data[at] ^= 0x40;
		cause = read_bytes(b.data, b.len);
		b.data[at] ^= 0x40;
		snprintf(want, sizeof want, "image section %s: checksum mismatch "
		    "(corrupt image)", names[i]);
		assert_non_null(cause);
		if (strcmp(cause, want) != 0)
			fail_msg("flip in %s: \"%s\"", names[i], cause);
		free(cause);
		/* The crc trailer itself. */
		b.data[offs[i] + 16 + lens[i]] ^= 1;
		cause = read_bytes(b.data, b.len);
		b.data[offs[i] + 16 + lens[i]] ^= 1;
		assert_non_null(strstr(cause, "checksum mismatch"));
		free(cause);
	}
	buf_free(&b);
	raw_free(&r);
	img_free(&a);
}

static void
test_header_rejects(void **state)
{
	struct img	 a;
	struct raw	 r;
	struct buf	 b;
	char		*cause;
	static const char text[] = "#!/bin/sh\necho this is not an image at all\n";

	sample_img(&a);

	a.hdr.version = 7;
	raw_sample(&r, &a);
	{
		char	want[64];

		snprintf(want, sizeof want, "image version 7, this omm reads "
		    "version %d", IMG_VERSION);
		expect_raw(&r, "version 7", want);
	}
	raw_free(&r);
	a.hdr.version = IMG_VERSION;

	raw_sample(&r, &a);
	r.p[0].data[0] = 'X';
	expect_raw(&r, "bad magic", "not an omm image");
	raw_free(&r);

	cause = read_bytes(text, sizeof text - 1);
	assert_string_equal(cause, "not an omm image");
	free(cause);

	raw_sample(&r, &a);
	r.type[0] = IMG_SEC_PROC;
	expect_raw(&r, "PROC first", "not an omm image");
	raw_free(&r);

	a.hdr.arch = 3;
	raw_sample(&r, &a);
	expect_raw(&r, "arch i386", "machine type 3");
	raw_free(&r);
	a.hdr.arch = IMG_ARCH_X86_64;

	a.hdr.page_size = 2 * PS;
	raw_sample(&r, &a);
	expect_raw(&r, "8 KiB pages", "pages of 8192 bytes");
	raw_free(&r);
	a.hdr.page_size = 3000;
	raw_sample(&r, &a);
	expect_raw(&r, "3000-byte pages", "not a power of two");
	raw_free(&r);
	a.hdr.page_size = PS;

	/* Trailing garbage inside the header payload. */
	raw_sample(&r, &a);
	buf_add_u32(&r.p[0], 0);
	expect_raw(&r, "header + 4 bytes", "4 trailing bytes");
	raw_free(&r);
	/* A short header payload. */
	raw_sample(&r, &a);
	r.p[0].len -= 3;
	expect_raw(&r, "header - 3 bytes", "image section HEADER: cpu model: truncated");
	raw_free(&r);

	/* A hostname holding a NUL. */
	raw_sample(&r, &a);
	*(char *)memmem(r.p[0].data, r.p[0].len, "node1", 5) = '\0';
	expect_raw(&r, "hostname with NUL", "image section HEADER: hostname: holds a NUL byte");
	raw_free(&r);
	(void)b;
	img_free(&a);
}

/* Framing: order, duplicates, unknown types, flags, lengths. */
static void
test_framing_rejects(void **state)
{
	struct img	a;
	struct raw	r;
	struct buf	t;

	sample_img(&a);

	raw_sample(&r, &a);
	r.type[4] = IMG_SEC_PROC;		/* FDS replaced by a second PROC */
	expect_raw(&r, "PROC twice", "image section PROC appears twice");
	raw_free(&r);

	raw_sample(&r, &a);
	r.type[3] = IMG_SEC_HEADER;
	expect_raw(&r, "HEADER twice", "HEADER appears twice");
	raw_free(&r);

	/* PAGES before VMAS: swap sections 5 and 7. */
	raw_sample(&r, &a);
	t = r.p[5]; r.p[5] = r.p[7]; r.p[7] = t;
	r.type[5] = IMG_SEC_PAGES; r.type[7] = IMG_SEC_VMAS;
	expect_raw(&r, "PAGES before VMAS", "comes before metadata section(s) VMAS");
	raw_free(&r);

	/* Metadata after pages. */
	raw_sample(&r, &a);
	buf_free(&r.p[9]); r.n = 9;
	raw_add(&r, IMG_SEC_REGS);
	img_regs_encode(&a.regs, &r.p[9]);
	expect_raw(&r, "REGS after PAGES", "REGS appears twice");
	raw_free(&r);

	/* Metadata sections in another order are fine (each once). */
	raw_sample(&r, &a);
	t = r.p[1]; r.p[1] = r.p[5]; r.p[5] = t;
	r.type[1] = IMG_SEC_VMAS; r.type[5] = IMG_SEC_PROC;
	expect_raw(&r, "VMAS..PROC reordered", NULL);
	raw_free(&r);

	raw_sample(&r, &a);
	r.type[2] = 99;
	expect_raw(&r, "unknown type", "image section #2 has unknown type 99");
	raw_free(&r);

	raw_sample(&r, &a);
	r.flags[7] = 1;
	expect_raw(&r, "flags", "image section PAGES #7: flags 0x1");
	raw_free(&r);

	raw_sample(&r, &a);
	r.badlen[1] = 1;
	r.len[1] = IMG_MAX_SECTION + 1ull;
	expect_raw(&r, "oversized PROC", "image section PROC: length");
	raw_free(&r);

	raw_sample(&r, &a);
	r.badlen[9] = 1;
	r.len[9] = 1ull << 62;
	expect_raw(&r, "huge END", "image section END: length");
	raw_free(&r);

	raw_sample(&r, &a);
	r.badlen[3] = 1;
	r.len[3] = 10;
	expect_raw(&r, "tiny SIGNALS", "image section SIGNALS: length 10 out of range");
	raw_free(&r);

	/* END: wrong counts, missing, early. */
	raw_sample(&r, &a);
	buf_free(&r.p[9]); r.n = 9;
	raw_end(&r, 9, 5);
	expect_raw(&r, "END 5 pages", "9 sections and 5 pages announced, 9 and 4 read");
	raw_free(&r);

	raw_sample(&r, &a);
	buf_free(&r.p[9]); r.n = 9;
	raw_end(&r, 10, 4);
	expect_raw(&r, "END 10 sections", "10 sections and 4 pages announced");
	raw_free(&r);

	raw_sample(&r, &a);
	buf_free(&r.p[9]); r.n = 9;
	expect_raw(&r, "no END", "image truncated in section #9 (expected 16 bytes, got 0)");
	raw_free(&r);

	/* A page section dropped: END and the vma's count both disagree. */
	raw_sample(&r, &a);
	buf_free(&r.p[9]); buf_free(&r.p[8]); r.n = 8;
	raw_end(&r, 8, 2);
	expect_raw(&r, "vma npages", "image: vma 0x600000-0x608000: 3 pages announced, 2 stored");
	raw_free(&r);

	img_free(&a);
}

/* Payload contents: caps, strings, impossible values. */
static void
test_payload_rejects(void **state)
{
	struct img	 a;
	struct raw	 r;
	struct buf	*b;
	char		*longpath;

	sample_img(&a);

	/* Counts over caps, announced with almost nothing behind them. */
	raw_sample(&r, &a);
	b = &r.p[4]; buf_reset(b); buf_add_u32(b, IMG_MAX_FDS + 1);
	expect_raw(&r, "65537 fds", "65537 fds, more than 65536");
	raw_free(&r);

	raw_sample(&r, &a);
	b = &r.p[4]; buf_reset(b); buf_add_u32(b, 1000);
	expect_raw(&r, "1000 fds in 0 bytes", "1000 fds do not fit");
	raw_free(&r);

	raw_sample(&r, &a);
	b = &r.p[5]; buf_reset(b); buf_add_u32(b, IMG_MAX_VMAS + 1);
	expect_raw(&r, "65537 vmas", "65537 vmas, more than 65536");
	raw_free(&r);

	raw_sample(&r, &a);
	b = &r.p[3];
	buf_put_u32(b, b->len - 4 - 2 * 132, IMG_MAX_PENDING + 1);
	expect_raw(&r, "1025 pending", "1025 pending signals, more than 1024");
	raw_free(&r);

	a.regs.xstate_len = IMG_MAX_XSTATE + 8;
	a.regs.xstate = realloc(a.regs.xstate, a.regs.xstate_len);
	memset(a.regs.xstate, 0, a.regs.xstate_len);
	raw_sample(&r, &a);
	expect_raw(&r, "xstate 64K+8", "image section REGS: length 65768 out of range");
	raw_free(&r);
	{
		struct img_regs	rg;
		struct buf	x;
		char		*cause = NULL;

		buf_init(&x);
		img_regs_encode(&a.regs, &x);
		assert_int_equal(img_regs_decode(&rg, x.data, x.len, &cause), -1);
		assert_non_null(strstr(cause, "xstate of 65544 bytes, more than 65536"));
		free(cause);
		buf_free(&x);
	}
	a.regs.xstate_len = 2688;

	a.proc.auxv_n = IMG_MAX_AUXV;
	raw_sample(&r, &a);
	b = &r.p[1];
	/* auxv_n sits right after the 11 mm words; find it by re-encoding up to it */
	{
		struct img_proc	p2;
		char		*cause = NULL;
		size_t		 at;

		at = b->len - (8 + 4 + 4 + 8 + 8 + 8) - (4 + 3 * 4 + 4 + 4) -
		    IMG_MAX_AUXV * 8 - 4;
		assert_int_equal(le32dec(b->data + at), IMG_MAX_AUXV);
		buf_put_u32(b, at, IMG_MAX_AUXV + 2);
		assert_int_equal(img_proc_decode(&p2, b->data, b->len, &cause), -1);
		assert_non_null(strstr(cause, "auxv of 130 words, more than 128"));
		free(cause);
		buf_put_u32(b, at, 3);
		expect_raw(&r, "odd auxv", "not made of pairs");
	}
	raw_free(&r);
	a.proc.auxv_n = 4;

	/* The tail of PROC: groups, mlockall, membarrier (version 2). */
	{
		static const struct {
			const char	*label;
			size_t		 from_end;	/* u32 this far from the end */
			uint32_t	 value;
			const char	*want;
		} tail[] = {
			{ "groups count over the cap", 4 + 4 + 3 * 4 + 4,
			    IMG_MAX_GROUPS + 1, "65537 supplementary groups, "
			    "more than 65536" },
			{ "groups count over the payload", 4 + 4 + 3 * 4 + 4, 9,
			    "9 supplementary groups do not fit" },
			{ "mlockall onfault alone", 4 + 4, IMG_MCL_ONFAULT,
			    "mlockall flags 0x2 are not FUTURE" },
			{ "mlockall unknown bit", 4 + 4, 0x10,
			    "mlockall flags 0x10" },
			{ "membarrier unknown bit", 4, 0x80,
			    "unknown membarrier registrations 0x80" },
		};
		struct img_proc	p2;
		char		*cause = NULL;
		size_t		 k;
		uint32_t	 keep;

		raw_sample(&r, &a);
		b = &r.p[1];
		for (k = 0; k < sizeof tail / sizeof tail[0]; k++) {
			keep = le32dec(b->data + b->len - tail[k].from_end);
			buf_put_u32(b, b->len - tail[k].from_end, tail[k].value);
			assert_int_equal(img_proc_decode(&p2, b->data, b->len,
			    &cause), -1);
			print_message("%-40s -> %s\n", tail[k].label, cause);
			assert_non_null(strstr(cause, tail[k].want));
			free(cause);
			cause = NULL;
			buf_put_u32(b, b->len - tail[k].from_end, keep);
		}
		assert_int_equal(img_proc_decode(&p2, b->data, b->len, &cause), 0);
		assert_int_equal(p2.ngroups, 3);
		assert_int_equal(p2.groups[2], 4242);
		free(p2.exe);
		free(p2.cmdline);
		free(p2.cwd);
		free(p2.groups);
		raw_free(&r);
	}

	/* Strings: a NUL inside, one byte over IMG_MAX_PATH. */
	free(a.fds[1].path);
	a.fds[1].path = xstrdup("/tmp/out_txt");
	raw_sample(&r, &a);
	b = &r.p[4];
	*(char *)memmem(b->data, b->len, "out_txt", 7) = '\0';
	expect_raw(&r, "path with NUL", "fd 1: path: holds a NUL byte");
	raw_free(&r);

	longpath = xmalloc(IMG_MAX_PATH + 2);
	memset(longpath, 'a', IMG_MAX_PATH + 1);
	longpath[0] = '/';
	longpath[IMG_MAX_PATH + 1] = '\0';
	free(a.vmas[0].path);
	a.vmas[0].path = longpath;
	raw_sample(&r, &a);
	expect_raw(&r, "vma path 4097 bytes", "path: 4097 bytes, longer than 4096");
	raw_free(&r);
	longpath[IMG_MAX_PATH] = '\0';		/* exactly the cap: fine */
	raw_sample(&r, &a);
	expect_raw(&r, "vma path 4096 bytes", NULL);
	raw_free(&r);
	free(a.vmas[0].path);
	a.vmas[0].path = xstrdup("/usr/bin/worker");

	strcpy(a.proc.comm, "abc");
	raw_sample(&r, &a);
	b = &r.p[1];
	*(char *)memmem(b->data, b->len, "abc", 3) = '\0';
	expect_raw(&r, "comm with NUL", "comm: holds a NUL byte");
	raw_free(&r);

	/* Impossible values. */
	a.fds[2].fd = 1;
	raw_sample(&r, &a);
	expect_raw(&r, "fd twice", "fd 1 appears twice");
	raw_free(&r);
	a.fds[2].fd = 7;
	a.fds[2].kind = 99;
	raw_sample(&r, &a);
	expect_raw(&r, "fd kind 99", "fd 7: unknown kind 99");
	raw_free(&r);
	a.fds[2].kind = IMG_FD_DEV;
	a.fds[2].path[0] = 'd';
	raw_sample(&r, &a);
	expect_raw(&r, "relative path", "fd 7: path is not absolute");
	raw_free(&r);
	a.fds[2].path[0] = '/';

	/* The kind-specific tail of version 3 (image.h, enum img_fd_kind). */
	a.fds[3].extra = 0x2;
	raw_sample(&r, &a);
	expect_raw(&r, "eventfd flags", "fd 8: eventfd flags 0x2");
	raw_free(&r);
	a.fds[3].extra = IMG_EFD_SEMAPHORE;
	a.fds[3].value = UINT64_MAX;
	raw_sample(&r, &a);
	expect_raw(&r, "eventfd counter", "fd 8: eventfd counter 0xffffffffffffffff");
	raw_free(&r);
	a.fds[3].value = 7;
	a.fds[4].watch[1].fd = 9;
	raw_sample(&r, &a);
	expect_raw(&r, "epoll watching itself", "fd 9: epoll entry 1: bad target fd 9");
	raw_free(&r);
	a.fds[4].watch[1].fd = 10;
	a.fds[4].kind = IMG_FD_SIGNALFD;
	raw_sample(&r, &a);
	expect_raw(&r, "watches in a signalfd", "fd 9: epoll entries in a fd of kind 6");
	raw_free(&r);
	a.fds[4].kind = IMG_FD_EPOLL;
	a.fds[5].size = 6;
	raw_sample(&r, &a);
	expect_raw(&r, "content shorter than the file", "fd 10: 5 bytes of content for a file of 6");
	raw_free(&r);
	a.fds[5].size = 5;
	a.fds[5].kind = IMG_FD_OPATH;
	free(a.fds[5].path);
	a.fds[5].path = xstrdup("/x");
	raw_sample(&r, &a);
	expect_raw(&r, "content in an O_PATH", "fd 10: content in a fd of kind 8");
	raw_free(&r);
	a.fds[5].kind = IMG_FD_DELETED;
	raw_sample(&r, &a);
	expect_raw(&r, "deleted file with content", NULL);
	raw_free(&r);
	a.fds[5].kind = IMG_FD_MEMFD;
	a.fds[5].kind = 11;
	raw_sample(&r, &a);
	expect_raw(&r, "fd kind 11", "fd 10: unknown kind 11");
	raw_free(&r);
	a.fds[5].kind = IMG_FD_MEMFD;
	/* a content length beyond the payload, and beyond the cap */
	raw_sample(&r, &a);
	b = &r.p[4];
	le64enc(b->data + b->len - 5 - 8, 1000);
	expect_raw(&r, "content past the section", "fd 10: 1000 bytes of content do not fit in 5 bytes");
	le64enc(b->data + b->len - 5 - 8, (uint64_t)IMG_MAX_FDDATA + 1);
	expect_raw(&r, "content past the cap", "more than the 50331648 an image carries");
	raw_free(&r);
	raw_sample(&r, &a);
	b = &r.p[4];
	/* fds[4]'s nwatch: 2 entries, content tail of fds[5] after them */
	{
		uint8_t	*q = memmem(b->data, b->len, "\x01\x00\xed\xfe", 4);

		assert_non_null(q);
		/* events (4), fd (4), nwatch (4) before the first entry's data */
		le32enc(q - 12, 70000);
		expect_raw(&r, "70000 epoll entries", "fd 9: 70000 epoll entries, more than 65536");
		le32enc(q - 12, 3000);
		expect_raw(&r, "3000 epoll entries", "fd 9: 3000 epoll entries do not fit");
	}
	raw_free(&r);

	/* VMAS flag memfd (version 3): shared, of no file, no pages */
	a.vmas[1].flags = IMG_VMA_MEMFD;
	raw_sample(&r, &a);
	expect_raw(&r, "private memfd vma", "a memfd mapping must be shared, of no file, without pages");
	raw_free(&r);
	a.vmas[1].flags = IMG_VMA_MEMFD | IMG_VMA_SHARED;
	raw_sample(&r, &a);
	expect_raw(&r, "memfd vma with pages", "a memfd mapping must be shared, of no file, without pages");
	raw_free(&r);
	a.vmas[1].flags = IMG_VMA_HEAP;

	a.vmas[1].end = a.vmas[1].start;
	raw_sample(&r, &a);
	expect_raw(&r, "empty vma", "bad range");
	raw_free(&r);
	a.vmas[1].end = 0x401000;
	raw_sample(&r, &a);
	expect_raw(&r, "vma below end", "bad range");
	raw_free(&r);
	a.vmas[1].start = 0x401000;
	a.vmas[1].end = 0x608000;
	raw_sample(&r, &a);
	expect_raw(&r, "overlapping vmas", "overlaps");
	raw_free(&r);
	a.vmas[1].start = 0x600000;
	a.vmas[1].flags |= 0x8000;
	raw_sample(&r, &a);
	expect_raw(&r, "vma flags", "vma 0x600000-0x608000: unknown flags 0x8010");
	raw_free(&r);
	a.vmas[1].flags = IMG_VMA_HEAP;
	a.vmas[1].npages = 9;
	raw_sample(&r, &a);
	expect_raw(&r, "vma npages > span", "more than it spans");
	raw_free(&r);
	a.vmas[1].npages = 3;

	/* Pages: outside every vma, unaligned, count 0 and over the cap, bad length. */
	raw_sample(&r, &a);
	buf_put_u64(&r.p[8], 8, 0x500000);
	expect_raw(&r, "page in no vma", "page 0x500000 is in no vma");
	raw_free(&r);
	/* the second section's first page again, and one before it */
	raw_sample(&r, &a);
	buf_put_u64(&r.p[8], 8, 0x603000);
	expect_raw(&r, "page twice", "page 0x603000 comes after page "
	    "0x603000 (out of order or twice)");
	raw_free(&r);
	raw_sample(&r, &a);
	buf_put_u64(&r.p[8], 8, 0x600000);
	expect_raw(&r, "page out of order", "page 0x600000 comes after page "
	    "0x603000");
	raw_free(&r);
	raw_sample(&r, &a);
	buf_put_u64(&r.p[8], 8, 0x600010);
	expect_raw(&r, "unaligned page", "not page aligned");
	raw_free(&r);
	raw_sample(&r, &a);
	buf_put_u32(&r.p[8], 0, 0);
	expect_raw(&r, "0 pages", "0 pages, expected 1 to 1024");
	raw_free(&r);
	raw_sample(&r, &a);
	buf_put_u32(&r.p[8], 0, 3);
	expect_raw(&r, "3 pages announced, 2 there", "bytes for 3 pages");
	raw_free(&r);
	raw_sample(&r, &a);
	buf_put_u32(&r.p[8], 4, 1);
	expect_raw(&r, "reserved", "reserved field");
	raw_free(&r);
	{
		struct img_pages	pg;
		struct buf		x;
		char			*cause = NULL;

		buf_init(&x);
		buf_add_u32(&x, IMG_PAGES_PER_SECTION + 1);
		buf_add_u32(&x, 0);
		assert_int_equal(img_pages_decode(&pg, PS, x.data, x.len, &cause), -1);
		assert_non_null(strstr(cause, "1025 pages"));
		free(cause);
		buf_free(&x);
	}
	img_free(&a);
}

/* The writer refuses what the reader would refuse, and misuse. */
/* TIMERS payloads the decoder must refuse, each with its reason. */
static void
test_timers_rejects(void **state)
{
	static const struct {
		const char	*what;
		int		 field;		/* of timer 1: 0 id, 1 clock, 2 notify, 3 signo, 4 value_ns */
		int64_t		 v;
		const char	*want;
	} cases[] = {
		{ "negative id", 0, -1, "#1: id -1 is negative or not above" },
		{ "id not ascending", 0, 0, "id 0 is negative or not above" },
		{ "clock 16", 1, 16, "POSIX timer 5: clock 16" },
		{ "fd clock", 1, -5, "clock -5" },
		{ "another pid's clock", 1, -14, "clock -14" },
		{ "SIGEV_THREAD", 2, 2, "notification 2 is none of" },
		{ "signal 0", 3, 0, "POSIX timer 5: signal 0" },
		{ "signal 65", 3, 65, "signal 65" },
		{ "time past INT64_MAX", 4, -1, "time out of range" },
	};
	struct img		 a, b;
	struct img_ptimer	*t;
	struct buf		 buf;
	size_t			 i;
	char			*cause;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sample_img(&a);
		t = &a.timers.t[1];
		t->notify = IMG_SIGEV_SIGNAL;
		t->signo = 14;
		switch (cases[i].field) {
		case 0: t->id = (int32_t)cases[i].v; break;
		case 1: t->clock = (int32_t)cases[i].v; break;
		case 2: t->notify = (uint32_t)cases[i].v; break;
		case 3: t->signo = (uint32_t)cases[i].v; break;
		case 4: t->value_ns = (uint64_t)cases[i].v; break;
		}
		buf_init(&buf);
		img_timers_encode(&a.timers, &buf);
		memset(&b, 0, sizeof b);
		cause = NULL;
		assert_int_equal(img_timers_decode(&b.timers, buf.data, buf.len,
		    &cause), -1);
		print_message("%-28s -> %s\n", cases[i].what, cause);
		if (strstr(cause, cases[i].want) == NULL)
			fail_msg("%s: expected \"%s\" in \"%s\"", cases[i].what,
			    cases[i].want, cause);
		assert_null(b.timers.t);
		free(cause);
		buf_free(&buf);
		img_free(&a);
	}

	/* Counts and lengths. */
	{
		static const struct {
			const char	*what;
			uint32_t	 nit, n;
			size_t		 extra;
			const char	*want;
		} lens[] = {
			{ "2 itimers", 2, 0, 0, "2 interval timers, expected 3" },
			{ "65537 timers", 3, IMG_MAX_TIMERS + 1, 0,
			    "65537 POSIX timers, more than 65536" },
			{ "1 timer, no bytes", 3, 1, 0,
			    "1 POSIX timers in 0 bytes, expected 44" },
			{ "0 timers, 3 bytes after", 3, 0, 3,
			    "0 POSIX timers in 3 bytes" },
		};
		uint32_t	k;

		for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			buf_init(&buf);
			buf_add_u32(&buf, lens[i].nit);
			for (k = 0; k < 2 * lens[i].nit; k++)
				buf_add_u64(&buf, 0);
			buf_add_u32(&buf, lens[i].n);
			for (k = 0; k < lens[i].extra; k++)
				buf_add_u8(&buf, 0);
			memset(&b, 0, sizeof b);
			cause = NULL;
			assert_int_equal(img_timers_decode(&b.timers, buf.data,
			    buf.len, &cause), -1);
			print_message("%-28s -> %s\n", lens[i].what, cause);
			if (strstr(cause, lens[i].want) == NULL)
				fail_msg("%s: expected \"%s\" in \"%s\"",
				    lens[i].what, lens[i].want, cause);
			free(cause);
			buf_free(&buf);
		}
	}

	/* A stream without TIMERS is refused naming it. */
	{
		struct raw	r;

		sample_img(&a);
		raw_sample(&r, &a);
		buf_free(&r.p[6]);
		memmove(&r.p[6], &r.p[7], 3 * sizeof r.p[0]);
		memmove(&r.type[6], &r.type[7], 3 * sizeof r.type[0]);
		r.n = 9;
		expect_raw(&r, "no TIMERS", "image section PAGES #6 comes before "
		    "metadata section(s) TIMERS");
		raw_free(&r);
		img_free(&a);
	}
}

static void
test_writer_rejects(void **state)
{
	struct img		 a;
	struct img_writer	*w;
	struct iovec		 iov;
	uint64_t		 addr = 0x600000;
	uint8_t			 page[PS];
	char			*cause = NULL;
	int			 fd;

	sample_img(&a);
	fd = memfd_create("w", 0);
	w = img_writer_new(fd);
	iov.iov_base = page;
	iov.iov_len = PS;
	assert_int_equal(img_write_pages(w, &addr, 1, &iov, 1, &cause), -1);
	assert_non_null(strstr(cause, "pages outside"));
	a.fds[2].fd = 1;
	assert_int_equal(img_write_meta(w, &a, &cause), -1);
	assert_string_equal(cause, "write image section FDS: fd 1 appears twice");
	img_writer_free(w);
	a.fds[2].fd = 7;

	assert_int_equal(ftruncate(fd, 0), 0);
	w = img_writer_new(fd);
	assert_int_equal(img_write_meta(w, &a, &cause), 0);
	iov.iov_len = PS - 1;
	assert_int_equal(img_write_pages(w, &addr, 1, &iov, 1, &cause), -1);
	assert_non_null(strstr(cause, "4095 bytes of data for 1 pages"));
	iov.iov_len = PS;
	addr = 0x600001;
	assert_int_equal(img_write_pages(w, &addr, 1, &iov, 1, &cause), -1);
	assert_non_null(strstr(cause, "not aligned"));
	img_writer_free(w);
	free(cause);
	close(fd);

	/* A closed pipe: the write error comes back as a message. */
	{
		int	p[2];

		assert_int_equal(pipe(p), 0);
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		w = img_writer_new(p[1]);
		cause = NULL;
		assert_int_equal(img_write_meta(w, &a, &cause), -1);
		assert_non_null(strstr(cause, "write image: Broken pipe"));
		free(cause);
		img_writer_free(w);
		close(p[1]);
	}
	img_free(&a);
}

/* Header defaults: a zeroed header comes out as this machine's. */
static void
test_writer_defaults(void **state)
{
	struct img		 a, b;
	struct img_writer	*w;
	char			*cause = NULL;
	uint64_t		 npages;
	int			 fd;

	sample_img(&a);
	memset(&a.hdr, 0, sizeof a.hdr);
	a.vmas[1].npages = 0;
	a.vmas[2].npages = 0;
	fd = memfd_create("d", 0);
	w = img_writer_new(fd);
	assert_int_equal(img_write_meta(w, &a, &cause), 0);
	assert_int_equal(img_write_end(w, &cause), 0);
	img_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(read_all(fd, &b, &npages, &cause), 0);
	assert_int_equal(b.hdr.version, IMG_VERSION);
	assert_int_equal(b.hdr.arch, IMG_ARCH_X86_64);
	assert_int_equal(b.hdr.page_size, PS);
	assert_true(b.hdr.time_ns > 1600000000ull * 1000000000ull);
	assert_true(b.hdr.kernel[0] != '\0');
	assert_true(b.hdr.cpu.xcr0 & 3);
	assert_int_equal(img_check_cpu(&b, &cause), 0);
	img_free(&b);
	img_free(&a);
	close(fd);
}

/* Through a pipe with a writer in a child: short reads and writes everywhere. */
static void
test_pipe(void **state)
{
	struct img	 a, b;
	char		*cause = NULL;
	size_t		 len;
	uint64_t	 npages;
	int		 fd, p[2], st;
	pid_t		 pid;
	char		*data;

	sample_img(&a);
	fd = write_sample(&a, &len);
	data = xmalloc(len);
	assert_int_equal(pread(fd, data, len, 0), (ssize_t)len);
	close(fd);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t	off = 0, k;

		close(p[0]);
		/* Dribble it out in odd chunks. */
		for (off = 0; off < len; off += k) {
			k = len - off < 777 ? len - off : 777;
			if (write(p[1], data + off, k) != (ssize_t)k)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read_all(p[0], &b, &npages, &cause), 0);
	assert_int_equal(npages, 4);
	assert_img_equal(&a, &b);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	img_free(&b);
	img_free(&a);
	free(data);
}

/* An image needing a feature this machine lacks names it. */
static void
test_check_cpu(void **state)
{
	struct img	 a;
	char		*cause = NULL;
	int		 word, bit;

	sample_img(&a);
	assert_int_equal(img_check_cpu(&a, &cause), 0);
	assert_int_equal(cpu_feature_lookup("amx_tile", &word, &bit), 0);
	if (a.hdr.cpu.word[word] & (1u << bit))
		skip();
	a.hdr.cpu.word[word] |= 1u << bit;
	a.hdr.cpu.xcr0 |= 1ull << 18;		/* tiledata */
	assert_int_equal(img_check_cpu(&a, &cause), -1);
	assert_string_equal(cause, "image needs CPU features this machine lacks: "
	    "amx_tile tiledata");
	free(cause);
	cause = NULL;
	a.hdr.cpu.word[word] &= ~(1u << bit);
	a.hdr.cpu.xcr0 &= ~(1ull << 18);
	a.hdr.page_size = 65536;
	assert_int_equal(img_check_cpu(&a, &cause), -1);
	assert_non_null(strstr(cause, "pages of 65536 bytes"));
	free(cause);
	img_free(&a);
}

/* img_info: text and JSON over the sample; a damaged image is refused whole. */
static void
test_info(void **state)
{
	static const char *json_want[] = {
		"{\"format_version\":1,",
		"\"hostname\":\"node1\"",
		"\"comm\":\"worker\"",
		"\"cmdline\":\"worker --fast input.dat\"",
		"{\"fd\":1,\"kind\":\"file\",\"path\":\"/tmp/out.txt\",\"pos\":123456,",
		"{\"fd\":0,\"kind\":\"stdio\",\"path\":null,",
		"{\"start\":\"0x600000\",\"end\":\"0x608000\",\"prot\":\"rw-\","
		    "\"flags\":[\"heap\"],\"madvise\":[\"hugepage\"],\"pgoff\":0,"
		    "\"pages\":3,\"path\":null}",
		"{\"signal\":10,\"name\":\"SIGUSR1\",\"handler\":\"0x401234\"",
		"{\"signal\":13,\"name\":\"SIGPIPE\",\"handler\":\"ignore\"",
		"\"pending\":[{\"signal\":12,\"name\":\"SIGUSR2\",\"shared\":true},",
		"{\"type\":\"PAGES\",\"count\":2,",
		"\"pages\":4,\"page_bytes\":16384,",
		"\"xsave_components\":[\"x87\",\"sse\"",
		"\"features\":[\"fpu\",",
		"\"path\":\"/tmp/a \\\"q\\\" \\\\ \\u000a\"",
	};
	static const char *text_want[] = {
		"process: pid 4242 (worker), uid 1000, gid 100\n",
		"  0000000000600000-0000000000608000 rw-         3  heap,hugepage",
		"  SIGUSR1    0x401234",
		"  pending: SIGUSR2 (process)\n",
		"totals: 4 pages stored (16.0 KiB), 6.0 MiB mapped, image ",
		"  PAGES           2",
	};
	struct img	 a;
	char		*out = NULL, *cause = NULL;
	size_t		 outlen, len, i;
	FILE		*f;
	int		 fd;

	sample_img(&a);
	free(a.fds[2].path);
	a.fds[2].path = xstrdup("/tmp/a \"q\" \\ \n");
	a.vmas[2].end = 0x7ffff0600000;		/* 6 MiB mapped in all */
	fd = write_sample(&a, &len);

	f = open_memstream(&out, &outlen);
	assert_int_equal(img_info(fd, f, 1, &cause), 0);
	fclose(f);
	for (i = 0; i < sizeof json_want / sizeof json_want[0]; i++) {
		if (strstr(out, json_want[i]) == NULL)
			fail_msg("JSON lacks %s\n%s", json_want[i], out);
	}
	assert_int_equal(out[outlen - 1], '\n');
	assert_int_equal(out[outlen - 2], '}');
	free(out);

	lseek(fd, 0, SEEK_SET);
	f = open_memstream(&out, &outlen);
	assert_int_equal(img_info(fd, f, 0, &cause), 0);
	fclose(f);
	for (i = 0; i < sizeof text_want / sizeof text_want[0]; i++) {
		if (strstr(out, text_want[i]) == NULL)
			fail_msg("text lacks %s\n%s", text_want[i], out);
	}
	print_message("%s", out);
	free(out);

	/* Damage the last page section: info refuses rather than half-describes. */
	{
		uint8_t	b = 0;

		assert_int_equal(pread(fd, &b, 1, (off_t)len - 100), 1);
		b ^= 1;
		assert_int_equal(pwrite(fd, &b, 1, (off_t)len - 100), 1);
	}
	lseek(fd, 0, SEEK_SET);
	f = open_memstream(&out, &outlen);
	assert_int_equal(img_info(fd, f, 1, &cause), -1);
	fclose(f);
	assert_string_equal(out, "");
	assert_string_equal(cause, "image section PAGES #8: checksum mismatch "
	    "(corrupt image)");
	free(cause);
	free(out);
	close(fd);
	img_free(&a);
}

/* The smallest and the largest metadata the format allows both go through. */
static void
test_extremes(void **state)
{
	struct img		 a, b;
	struct img_writer	*w;
	char			*cause = NULL, *big;
	uint64_t		 npages;
	int			 fd, i;

	/* Everything empty: each section at its minimum length. */
	memset(&a, 0, sizeof a);
	fd = memfd_create("min", 0);
	w = img_writer_new(fd);
	assert_int_equal(img_write_meta(w, &a, &cause), 0);
	assert_int_equal(img_write_end(w, &cause), 0);
	img_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	if (read_all(fd, &b, &npages, &cause) != 0)
		fail_msg("empty image: %s", cause);
	assert_int_equal(npages, 0);
	assert_int_equal(b.nvmas, 0);
	img_free(&b);
	close(fd);

	/* Everything at its cap (but the fd and vma counts: 64 MiB sections). */
	sample_img(&a);
	big = xmalloc(IMG_MAX_PATH + 1);
	memset(big, 'p', IMG_MAX_PATH);
	big[0] = '/';
	big[IMG_MAX_PATH] = '\0';
	free(a.proc.exe);
	free(a.proc.cmdline);
	free(a.proc.cwd);
	a.proc.exe = xstrdup(big);
	a.proc.cmdline = xstrdup(big);
	a.proc.cwd = xstrdup(big);
	strcpy(a.proc.comm, "fifteen_chars__");
	a.proc.auxv_n = IMG_MAX_AUXV;
	for (i = 0; i < IMG_MAX_AUXV; i++)
		a.proc.auxv[i] = (uint64_t)i * 3;
	a.regs.xstate_len = IMG_MAX_XSTATE;
	a.regs.xstate = realloc(a.regs.xstate, IMG_MAX_XSTATE);
	memset(a.regs.xstate, 0x3c, IMG_MAX_XSTATE);
	free(a.sig.pending);
	a.sig.npending = IMG_MAX_PENDING;
	a.sig.pending = xcalloc(IMG_MAX_PENDING, sizeof *a.sig.pending);
	for (i = 0; i < IMG_MAX_PENDING; i++)
		a.sig.pending[i].raw[5] = (uint8_t)i;
	strcpy(a.hdr.kernel, "k123456789012345678901234567890123456789012345678901234567890123");
	strcpy(a.hdr.hostname, "h123456789012345678901234567890123456789012345678901234567890123");
	memset(a.hdr.cpu.model, 'm', sizeof a.hdr.cpu.model - 1);
	free(a.fds[1].path);
	a.fds[1].path = xstrdup(big);
	free(a.vmas[0].path);
	a.vmas[0].path = big;
	fd = memfd_create("max", 0);
	w = img_writer_new(fd);
	if (img_write_meta(w, &a, &cause) != 0)
		fail_msg("max image: %s", cause);
	img_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	{
		struct img_reader	*r = img_reader_new(fd);

		if (img_read_meta(r, &b, &cause) != 0)
			fail_msg("max image: %s", cause);
		img_reader_free(r);
	}
	assert_img_equal(&a, &b);
	img_free(&b);
	img_free(&a);
	close(fd);
}

/* A full 4 MiB PAGES section: read whole, and cut in its middle. */
static void
test_big_section(void **state)
{
	struct img		 a, b;
	struct img_writer	*w;
	struct img_reader	*r;
	struct img_pages	 pg;
	struct iovec		 iov;
	uint64_t		*addrs;
	uint8_t			*mem;
	char			*cause = NULL, *data;
	size_t			 n = IMG_PAGES_PER_SECTION, i, len, frame;
	int			 fd, fd2;

	memset(&a, 0, sizeof a);
	a.nvmas = 1;
	a.vmas = xcalloc(1, sizeof *a.vmas);
	a.vmas[0].start = 0x10000000;
	a.vmas[0].end = 0x10000000 + n * PS;
	a.vmas[0].prot = 3;
	a.vmas[0].npages = n;
	mem = xmalloc(n * PS);
	addrs = xcalloc(n, sizeof *addrs);
	for (i = 0; i < n; i++) {
		addrs[i] = a.vmas[0].start + i * PS;
		sample_page(mem + i * PS, addrs[i]);
	}
	fd = memfd_create("big", 0);
	w = img_writer_new(fd);
	iov.iov_base = mem;
	iov.iov_len = n * PS;
	assert_int_equal(img_write_meta(w, &a, &cause), 0);
	assert_int_equal(img_write_pages(w, addrs, (uint32_t)n, &iov, 1, &cause), 0);
	assert_int_equal(img_write_end(w, &cause), 0);
	len = (size_t)img_writer_bytes(w);
	img_writer_free(w);

	lseek(fd, 0, SEEK_SET);
	r = img_reader_new(fd);
	assert_int_equal(img_read_meta(r, &b, &cause), 0);
	assert_int_equal(img_read_pages(r, &pg, &cause), 1);
	assert_int_equal(pg.count, n);
	assert_int_equal(img_page_addr(&pg, (uint32_t)n - 1), addrs[n - 1]);
	assert_memory_equal(pg.data, mem, n * PS);
	assert_int_equal(img_read_pages(r, &pg, &cause), 0);
	assert_int_equal(img_reader_bytes(r), len);
	img_reader_free(r);
	img_free(&b);

	/* Cut 2.5 MiB into the section: more than one buffer growth step in. */
	data = xmalloc(len);
	assert_int_equal(pread(fd, data, len, 0), (ssize_t)len);
	frame = 16 + 8 + n * (8 + PS) + 4;
	fd2 = memfd_with(data, len - 36 - frame + (5u << 19));
	{
		uint64_t	np;
		char		want[128];

		assert_int_equal(read_all(fd2, &b, &np, &cause), -1);
		snprintf(want, sizeof want, "image truncated in section PAGES #7 "
		    "(expected %zu bytes, got %u)", frame, 5u << 19);
		assert_string_equal(cause, want);
	}
	free(cause);
	close(fd2);
	close(fd);
	free(data);
	free(mem);
	free(addrs);
	img_free(&a);
}

/*
 * With OMM_IMG_CORPUS=DIR set, write small valid images there: the fuzzer's
 * seed corpus (fuzz/corpus/image) and test inputs for imgedit.
 */
static void
test_write_corpus(void **state)
{
	const char	*dir = getenv("OMM_IMG_CORPUS");
	struct img	 a;
	char		 path[4096], *data;
	size_t		 len;
	int		 fd, out;

	if (dir == NULL)
		skip();
	sample_img(&a);
	fd = write_sample(&a, &len);
	data = xmalloc(len);
	assert_int_equal(pread(fd, data, len, 0), (ssize_t)len);
	close(fd);
	snprintf(path, sizeof path, "%s/sample.img", dir);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(out >= 0);
	assert_int_equal(write(out, data, len), (ssize_t)len);
	close(out);
	free(data);
	img_free(&a);

	/* Metadata only: nothing in any list, no pages. */
	{
		struct img_writer	*w;
		char			*cause = NULL;

		memset(&a, 0, sizeof a);
		snprintf(path, sizeof path, "%s/empty.img", dir);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(out >= 0);
		w = img_writer_new(out);
		assert_int_equal(img_write_meta(w, &a, &cause), 0);
		assert_int_equal(img_write_end(w, &cause), 0);
		img_writer_free(w);
		close(out);
	}
}

/* A thread for the THREAD tests: every field set, two pending signals. */
static void
sample_thread(struct img_thread *t, int32_t tid)
{
	int	i;

	memset(t, 0, sizeof *t);
	t->tid = tid;
	snprintf(t->comm, sizeof t->comm, "worker-%d", (int)tid);
	for (i = 0; i < IMG_NGREGS; i++)
		t->regs.gpr[i] = 0x0101010101010101ull * (uint64_t)(i + tid);
	t->regs.xstate_len = 1024;
	t->regs.xstate = xmalloc(1024);
	for (i = 0; i < 1024; i++)
		t->regs.xstate[i] = (uint8_t)(i + tid);
	t->blocked = 0x10002;
	t->ss_sp = 0x7f0000100000;
	t->ss_size = 65536;
	t->ss_flags = 0;
	t->rseq_addr = 0x7f0000200000 + (uint64_t)tid * 0x1000;
	t->rseq_len = 32;
	t->rseq_sig = 0x53053053;
	t->robust_list = 0x7f0000300000;
	t->robust_len = 24;
	t->clear_tid = 0x7f00004002d0;
	t->sched_policy = 3;		/* SCHED_BATCH */
	t->sched_priority = 0;
	t->nice = -3;
	t->npending = 2;
	t->pending = xcalloc(2, sizeof *t->pending);
	t->pending[0].raw[0] = 12;
	t->pending[1].raw[0] = 34;
	t->pending[1].raw[127] = 0x5a;
}

static void
assert_thread_equal(const struct img_thread *a, const struct img_thread *b)
{
	uint32_t	i;

	assert_int_equal(a->tid, b->tid);
	assert_string_equal(a->comm, b->comm);
	assert_memory_equal(a->regs.gpr, b->regs.gpr, sizeof a->regs.gpr);
	assert_int_equal(a->regs.xstate_len, b->regs.xstate_len);
	assert_memory_equal(a->regs.xstate, b->regs.xstate, a->regs.xstate_len);
	assert_int_equal(a->blocked, b->blocked);
	assert_int_equal(a->ss_sp, b->ss_sp);
	assert_int_equal(a->ss_size, b->ss_size);
	assert_int_equal(a->ss_flags, b->ss_flags);
	assert_int_equal(a->rseq_addr, b->rseq_addr);
	assert_int_equal(a->rseq_len, b->rseq_len);
	assert_int_equal(a->rseq_sig, b->rseq_sig);
	assert_int_equal(a->robust_list, b->robust_list);
	assert_int_equal(a->robust_len, b->robust_len);
	assert_int_equal(a->clear_tid, b->clear_tid);
	assert_int_equal(a->sched_policy, b->sched_policy);
	assert_int_equal(a->sched_priority, b->sched_priority);
	assert_int_equal(a->nice, b->nice);
	assert_int_equal(a->npending, b->npending);
	for (i = 0; i < a->npending; i++)
		assert_memory_equal(a->pending[i].raw, b->pending[i].raw, 128);
}

/* A THREAD section inserted at index at of r (END's count follows). */
static void
raw_thread(struct raw *r, int at, const struct img_thread *t)
{
	struct buf	b;
	int		i;

	raw_add(r, IMG_SEC_THREAD);
	b = r->p[r->n - 1];
	for (i = r->n - 1; i > at; i--) {
		r->type[i] = r->type[i - 1];
		r->flags[i] = r->flags[i - 1];
		r->badlen[i] = r->badlen[i - 1];
		r->p[i] = r->p[i - 1];
	}
	r->flags[at] = 0;
	r->badlen[at] = 0;
	r->type[at] = IMG_SEC_THREAD;
	r->p[at] = b;
	img_thread_encode(t, &r->p[at]);
	/* END: one more section before it */
	buf_put_u64(&r->p[r->n - 1], 0, le64dec(r->p[r->n - 1].data) + 1);
}

/*
 * THREAD (issue 12): the codec alone, a whole image with threads through
 * the writer and reader, and what the reader refuses.
 */
static void
test_threads(void **state)
{
	struct img_thread	 t, u;
	struct img		 a, b;
	struct raw		 r;
	struct buf		 buf;
	char			*cause = NULL;
	size_t			 len;
	uint64_t		 npages;
	uint32_t		 i;
	int			 fd;

	(void)state;
	/* the codec: every field back, and a thread with nothing optional */
	sample_thread(&t, 101);
	buf_init(&buf);
	img_thread_encode(&t, &buf);
	assert_int_equal(img_thread_decode(&u, buf.data, buf.len, &cause), 0);
	assert_thread_equal(&t, &u);
	img_thread_free(&u);
	/* every shorter payload is refused, and leaves nothing allocated */
	for (len = 0; len < buf.len; len++) {
		assert_int_equal(img_thread_decode(&u, buf.data, len, &cause), -1);
		assert_non_null(cause);
	}
	free(cause);
	cause = NULL;
	img_thread_free(&t);

	/* a whole image with two threads, through the writer and reader */
	sample_img(&a);
	a.nthreads = 2;
	a.threads = xcalloc(2, sizeof *a.threads);
	sample_thread(&a.threads[0], 101);
	sample_thread(&a.threads[1], 102);
	a.threads[1].npending = 0;
	free(a.threads[1].pending);
	a.threads[1].pending = NULL;
	fd = write_sample(&a, &len);
	assert_int_equal(read_all(fd, &b, &npages, &cause), 0);
	assert_null(cause);
	assert_img_equal(&a, &b);
	assert_int_equal(b.nthreads, 2);
	for (i = 0; i < 2; i++)
		assert_thread_equal(&a.threads[i], &b.threads[i]);
	img_free(&b);
	close(fd);

	/* the raw builder with threads: accepted where they belong */
	raw_sample(&r, &a);
	raw_thread(&r, 4, &a.threads[0]);
	raw_thread(&r, 5, &a.threads[1]);
	expect_raw(&r, "two THREADs after SIGNALS", NULL);
	raw_free(&r);

	/* out of place */
	raw_sample(&r, &a);
	raw_thread(&r, 3, &a.threads[0]);
	expect_raw(&r, "THREAD before SIGNALS",
	    "out of place (it comes between SIGNALS and FDS)");
	raw_free(&r);
	raw_sample(&r, &a);
	raw_thread(&r, 6, &a.threads[0]);
	expect_raw(&r, "THREAD after VMAS", "out of place");
	raw_free(&r);

	/* one thread twice */
	raw_sample(&r, &a);
	raw_thread(&r, 4, &a.threads[0]);
	raw_thread(&r, 5, &a.threads[0]);
	expect_raw(&r, "one tid twice", "thread 101 appears twice");
	raw_free(&r);

	/* bad fields */
	t = a.threads[0];
	t.tid = 0;
	raw_sample(&r, &a);
	raw_thread(&r, 4, &t);
	expect_raw(&r, "tid 0", "thread id 0");
	raw_free(&r);
	t = a.threads[0];
	t.nice = 20;
	raw_sample(&r, &a);
	raw_thread(&r, 4, &t);
	expect_raw(&r, "nice 20", "thread 101: nice 20 out of range");
	raw_free(&r);
	t = a.threads[0];
	memset(t.comm, 'x', sizeof t.comm);
	raw_sample(&r, &a);
	raw_thread(&r, 4, &t);
	expect_raw(&r, "name without NUL", "name not terminated");
	raw_free(&r);
	t = a.threads[0];
	t.pending = xcalloc(2, sizeof *t.pending);
	t.pending[0].raw[0] = 12;
	t.pending[1].raw[0] = 65;
	raw_sample(&r, &a);
	raw_thread(&r, 4, &t);
	expect_raw(&r, "pending signal 65", "thread 101: pending signal 65");
	raw_free(&r);
	free(t.pending);

	/* counts over caps, announced with nothing behind them */
	raw_sample(&r, &a);
	raw_thread(&r, 4, &a.threads[1]);
	buf_put_u32(&r.p[4], r.p[4].len - 4, IMG_MAX_PENDING + 1);
	expect_raw(&r, "1025 thread pending", "1025 pending signals, more than 1024");
	raw_free(&r);
	raw_sample(&r, &a);
	raw_thread(&r, 4, &a.threads[1]);
	buf_put_u32(&r.p[4], r.p[4].len - 4, 3);
	expect_raw(&r, "3 pending in 0 bytes", "3 pending signals do not fit");
	raw_free(&r);
	raw_sample(&r, &a);
	raw_thread(&r, 4, &a.threads[1]);
	buf_put_u32(&r.p[4], 4 + 16 + 4 + IMG_NGREGS * 8, IMG_MAX_XSTATE + 1);
	expect_raw(&r, "xstate over the cap", "xstate of 65537 bytes");
	raw_free(&r);
	buf_free(&buf);
	img_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_raw_valid),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_flip),
		cmocka_unit_test(test_header_rejects),
		cmocka_unit_test(test_framing_rejects),
		cmocka_unit_test(test_payload_rejects),
		cmocka_unit_test(test_timers_rejects),
		cmocka_unit_test(test_writer_rejects),
		cmocka_unit_test(test_writer_defaults),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_check_cpu),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_big_section),
		cmocka_unit_test(test_write_corpus),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
