/*
 * fuzz_image.c: libFuzzer harness for the image decoders and the reader.
 *
 * The first input byte picks the target:
 *   0-7  one section decoder (HEADER, PROC, REGS, SIGNALS, FDS, VMAS, PAGES,
 *        END) over the rest of the input;
 *   8    the whole-stream reader and image info over the rest, as it is;
 *   9    the same after recomputing each frame's crc, so mutations reach the
 *        decoders behind the checksums instead of stopping there;
 *   10+  the decoder of section type byte - 1 (9 TIMERS, 11 THREAD) over
 *        the rest.
 *
 * With FUZZ_IMAGE_SEEDS=DIR in the environment, LLVMFuzzerInitialize first
 * writes a seed corpus for every target into DIR (small valid images made
 * with the writer, and their sections one by one).
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/crc32c.h"
#include "omm/image.h"
#include "omm/xmalloc.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	 memfd = -1;
static FILE	*devnull;

static void
decode_one(uint8_t which, const uint8_t *p, size_t n)
{
	struct img		 img;
	struct img_pages	 pg;
	struct img_end		 end;
	struct img_thread	 th;
	char			*cause = NULL;
	uint32_t		 i;
	uint64_t		 sum = 0;

	memset(&img, 0, sizeof img);
	switch (which) {
	case 0:
		img_header_decode(&img.hdr, p, n, &cause);
		break;
	case 1:
		img_proc_decode(&img.proc, p, n, &cause);
		break;
	case 2:
		img_regs_decode(&img.regs, p, n, &cause);
		break;
	case 3:
		img_signals_decode(&img.sig, p, n, &cause);
		break;
	case 4:
		img_fds_decode(&img.fds, &img.nfds, p, n, &cause);
		break;
	case 5:
		img_vmas_decode(&img.vmas, &img.nvmas, p, n, &cause);
		break;
	case 6:
		if (img_pages_decode(&pg, 4096, p, n, &cause) == 0) {
			/* Touch every address and the last data byte: must be in bounds. */
			for (i = 0; i < pg.count; i++)
				sum += img_page_addr(&pg, i);
			sum += pg.data[(size_t)pg.count * 4096 - 1];
		}
		break;
	case 7:
		img_end_decode(&end, p, n, &cause);
		break;
	case IMG_SEC_TIMERS + 1:
		if (img_timers_decode(&img.timers, p, n, &cause) == 0) {
			/* Ids ascend, as the decoder promises. */
			for (i = 1; i < img.timers.n; i++)
				if (img.timers.t[i].id <= img.timers.t[i - 1].id)
					abort();
		}
		break;
	case IMG_SEC_THREAD + 1:
		if (img_thread_decode(&th, p, n, &cause) == 0) {
			for (i = 0; i < th.npending; i++)
				sum += th.pending[i].raw[0];
			img_thread_free(&th);
		}
		break;
	}
	(void)sum;
	img_free(&img);
	free(cause);
}

/* Recompute the crc of every complete frame in place. */
static void
fix_crcs(uint8_t *p, size_t n)
{
	size_t		off = 0;
	uint64_t	len;

	while (n - off >= 16) {
		len = le64dec(p + off + 8);
		if (len > n - off - 16 || n - off - 16 - len < 4)
			break;
		le32enc(p + off + 16 + len, crc32c(0, p + off, 16 + len));
		off += 16 + len + 4;
	}
}

static void
read_stream(const uint8_t *p, size_t n, int fix)
{
	struct img_reader	*r;
	struct img_pages	 pg;
	struct img		 img;
	uint8_t			*copy = NULL;
	char			*cause = NULL;
	int			 rv;

	if (fix) {
		copy = xmalloc(n == 0 ? 1 : n);
		memcpy(copy, p, n);
		fix_crcs(copy, n);
		p = copy;
	}
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, p, n, 0) != (ssize_t)n)
		abort();

	lseek(memfd, 0, SEEK_SET);
	r = img_reader_new(memfd);
	if (img_read_meta(r, &img, &cause) == 0) {
		(void)img_check_cpu(&img, &cause);
		while ((rv = img_read_pages(r, &pg, &cause)) == 1) {
			/* What the reader hands out holds: never empty, aligned. */
			if (pg.count == 0 || (img_page_addr(&pg, 0) & 4095) != 0)
				abort();
		}
		img_free(&img);
	}
	img_reader_free(r);
	free(cause);
	cause = NULL;

	/* And the info printers over whatever reads. */
	lseek(memfd, 0, SEEK_SET);
	(void)img_info(memfd, devnull, n & 1, &cause);
	free(cause);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] < 8 || data[0] >= 10)
		decode_one(data[0], data + 1, size - 1);
	else if (data[0] == 8 || data[0] == 9)
		read_stream(data + 1, size - 1, data[0] == 9);
	return 0;
}

/* Seeds: a sample image (all sections filled) and an empty one, whole and cut up. */
static void
seed_img(struct img *img, int full)
{
	memset(img, 0, sizeof *img);
	if (!full)
		return;
	strcpy(img->proc.comm, "seed");
	img->proc.exe = xstrdup("/bin/seed");
	img->proc.cwd = xstrdup("/");
	img->proc.auxv_n = 2;
	img->proc.auxv[0] = 6;
	img->proc.auxv[1] = 4096;
	img->proc.ngroups = 2;
	img->proc.groups = xcalloc(2, sizeof *img->proc.groups);
	img->proc.groups[0] = 27;
	img->proc.groups[1] = 4242;
	img->proc.mlockall = IMG_MCL_FUTURE;
	img->proc.membarrier = IMG_MEMBARRIER_PRIVATE_EXPEDITED;
	img->regs.xstate_len = 64;
	img->regs.xstate = xcalloc(1, 64);
	img->sig.act[9].handler = 0x401000;
	img->sig.npending = 1;
	img->sig.pending = xcalloc(1, sizeof *img->sig.pending);
	img->sig.pending[0].raw[0] = 10;
	img->nfds = 5;
	img->fds = xcalloc(5, sizeof *img->fds);
	img->fds[0].fd = 1;
	img->fds[0].kind = IMG_FD_STDIO;
	img->fds[1].fd = 3;
	img->fds[1].kind = IMG_FD_FILE;
	img->fds[1].path = xstrdup("/tmp/x");
	/* version 3's kinds: a counter, an interest list, content */
	img->fds[2].fd = 4;
	img->fds[2].kind = IMG_FD_EVENTFD;
	img->fds[2].value = 3;
	img->fds[2].extra = IMG_EFD_SEMAPHORE;
	img->fds[3].fd = 5;
	img->fds[3].kind = IMG_FD_EPOLL;
	img->fds[3].nwatch = 1;
	img->fds[3].watch = xcalloc(1, sizeof *img->fds[3].watch);
	img->fds[3].watch[0].fd = 4;
	img->fds[3].watch[0].events = 1;
	img->fds[3].watch[0].data = 0x42;
	img->fds[4].fd = 6;
	img->fds[4].kind = IMG_FD_MEMFD;
	img->fds[4].path = xstrdup("seed");
	img->fds[4].size = img->fds[4].datalen = 4;
	img->fds[4].data = (uint8_t *)xstrdup("seed");
	img->nvmas = 2;
	img->vmas = xcalloc(2, sizeof *img->vmas);
	img->vmas[0].start = 0x400000;
	img->vmas[0].end = 0x401000;
	img->vmas[0].prot = 5;
	img->vmas[0].flags = IMG_VMA_FILE;
	img->vmas[0].path = xstrdup("/bin/seed");
	img->vmas[1].start = 0x600000;
	img->vmas[1].end = 0x603000;
	img->vmas[1].prot = 3;
	img->vmas[1].npages = 2;
	img->vmas[1].madv = IMG_MADV_LOCKED | IMG_MADV_LOCKONFAULT |
	    IMG_MADV_DONTFORK;
	img->timers.it[0].value_ns = 1500000000;
	img->timers.it[1].interval_ns = 10000000;
	img->timers.n = 2;
	img->timers.t = xcalloc(2, sizeof *img->timers.t);
	img->timers.t[0].id = 0;
	img->timers.t[0].clock = 1;
	img->timers.t[0].signo = 34;
	img->timers.t[0].value = 0x1234;
	img->timers.t[0].value_ns = 250000000;
	img->timers.t[1].id = 3;
	img->timers.t[1].clock = -6;
	img->timers.t[1].notify = IMG_SIGEV_THREAD_ID;
	img->timers.t[1].signo = 14;
	img->timers.t[1].interval_ns = 5000000;
	img->nthreads = 1;
	img->threads = xcalloc(1, sizeof *img->threads);
	img->threads[0].tid = 43;
	strcpy(img->threads[0].comm, "seed-worker");
	img->threads[0].regs.xstate_len = 64;
	img->threads[0].regs.xstate = xcalloc(1, 64);
	img->threads[0].nice = 5;
	img->threads[0].npending = 1;
	img->threads[0].pending = xcalloc(1, sizeof *img->threads[0].pending);
	img->threads[0].pending[0].raw[0] = 12;
}

static void
seed_write(const char *dir, const char *name, uint8_t which, const void *p,
    size_t n)
{
	char	path[4096];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return;
	fputc(which, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

static void
seed_corpus(const char *dir)
{
	static const uint64_t	 addrs[] = { 0x600000, 0x602000 };
	struct img_writer	*w;
	struct img		 img;
	struct iovec		 iov;
	uint8_t			*pages, *buf;
	char			 name[64], *cause = NULL;
	off_t			 len, off;
	uint64_t		 plen;
	uint32_t		 type;
	int			 full, fd;

	pages = xcalloc(2, 4096);
	memset(pages, 0xa5, 100);
	for (full = 0; full < 2; full++) {
		seed_img(&img, full);
		fd = memfd_create("seed", 0);
		w = img_writer_new(fd);
		iov.iov_base = pages;
		iov.iov_len = 2 * 4096;
		if (img_write_meta(w, &img, &cause) != 0 ||
		    (full && img_write_pages(w, addrs, 2, &iov, 1, &cause) != 0) ||
		    img_write_end(w, &cause) != 0) {
			fprintf(stderr, "seed: %s\n", cause);
			exit(1);
		}
		img_writer_free(w);
		img_free(&img);
		len = lseek(fd, 0, SEEK_END);
		buf = xmalloc((size_t)len);
		if (pread(fd, buf, (size_t)len, 0) != len)
			exit(1);
		close(fd);
		snprintf(name, sizeof name, "stream-%s", full ? "full" : "empty");
		seed_write(dir, name, 8, buf, (size_t)len);
		snprintf(name, sizeof name, "stream-fixed-%s", full ? "full" : "empty");
		seed_write(dir, name, 9, buf, (size_t)len);
		for (off = 0; off + 16 <= len; off += 16 + (off_t)plen + 4) {
			type = le32dec(buf + off);
			plen = le64dec(buf + off + 8);
			snprintf(name, sizeof name, "section-%u-%s", type,
			    full ? "full" : "empty");
			/* 0-7 for types 1-8, then type + 1 (8 and 9 are streams) */
			seed_write(dir, name, (uint8_t)(type <= IMG_SEC_END ?
			    type - 1 : type + 1), buf + off + 16, (size_t)plen);
		}
		free(buf);
	}
	free(pages);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*dir;

	memfd = memfd_create("fuzz_image", 0);
	devnull = fopen("/dev/null", "w");
	if (memfd == -1 || devnull == NULL)
		abort();
	if ((dir = getenv("FUZZ_IMAGE_SEEDS")) != NULL)
		seed_corpus(dir);
	return 0;
}
