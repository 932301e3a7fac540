/*
 * image-write.c: frame image sections onto a file, pipe or socket.
 *
 * Metadata sections are encoded into one reusable buffer and written with a
 * single write each. Pages are never copied: a PAGES section goes out as one
 * writev of [frame header + addresses][the caller's data iovecs][crc], the
 * crc computed over the caller's memory in place.
 */
#include <sys/uio.h>
#include <sys/utsname.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/crc32c.h"
#include "omm/image.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#include "image-int.h"

enum img_wstate { W_START, W_META, W_END, W_FAILED };

struct img_writer {
	int		 fd;
	enum img_wstate	 state;
	uint32_t	 page_size;
	uint64_t	 bytes;
	uint64_t	 nsections;	/* written so far */
	uint64_t	 npages;
	struct buf	 frame;		/* header (+ payload) of the section being written */
	struct iovec	*iov;		/* scratch for PAGES */
	size_t		 niov;
	int		 stall_ms;	/* no byte taken this long: fail; -1 never */
};

struct img_writer *
img_writer_new(int fd)
{
	struct img_writer	*w;

	w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->stall_ms = -1;
	buf_init(&w->frame);
	return w;
}

void
img_writer_set_stall(struct img_writer *w, int ms)
{
	w->stall_ms = img_fd_nonblock(w->fd, ms);
}

void
img_writer_free(struct img_writer *w)
{
	if (w == NULL)
		return;
	buf_free(&w->frame);
	free(w->iov);
	free(w);
}

uint64_t
img_writer_bytes(const struct img_writer *w)
{
	return w->bytes;
}

/* Write all of iov, through short writes, EINTR and a non-blocking fd. iov is consumed. */
static int
img_writev_all(struct img_writer *w, struct iovec *iov, size_t cnt, char **cause)
{
	struct pollfd	pfd;
	ssize_t		n;
	size_t		i = 0;

	while (i < cnt) {
		if (iov[i].iov_len == 0) {
			i++;
			continue;
		}
		n = writev(w->fd, iov + i, cnt - i > IOV_MAX ? IOV_MAX : (int)(cnt - i));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = w->fd;
				pfd.events = POLLOUT;
				switch (poll(&pfd, 1, w->stall_ms)) {
				case -1:
					if (errno == EINTR)
						continue;
					return cause_set(cause, "write image: poll: %s",
					    strerror(errno));
				case 0:
					return cause_set(cause, "write image: the "
					    "image's reader took nothing for %d s",
					    w->stall_ms / 1000);
				}
				continue;
			}
			return cause_set(cause, "write image: %s", strerror(errno));
		}
		if (n == 0)
			return cause_set(cause, "write image: wrote nothing");
		w->bytes += (uint64_t)n;
		while (i < cnt && (size_t)n >= iov[i].iov_len) {
			n -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (n > 0) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
			iov[i].iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Start a section in w->frame: the header is patched by img_frame_finish. */
static void
img_frame_start(struct img_writer *w)
{
	buf_reset(&w->frame);
	buf_reserve(&w->frame, IMG_FRAME_HDR);
}

static void
img_frame_header(struct img_writer *w, uint32_t type, uint64_t len)
{
	buf_put_u32(&w->frame, 0, type);
	buf_put_u32(&w->frame, 4, 0);
	buf_put_u64(&w->frame, 8, len);
}

/* Patch the header, append the crc and write a section held whole in w->frame. */
static int
img_frame_write(struct img_writer *w, uint32_t type, char **cause)
{
	struct iovec	iov;
	uint32_t	crc;

	img_frame_header(w, type, w->frame.len - IMG_FRAME_HDR);
	crc = crc32c(0, w->frame.data, w->frame.len);
	buf_add_u32(&w->frame, crc);
	iov.iov_base = w->frame.data;
	iov.iov_len = w->frame.len;
	if (img_writev_all(w, &iov, 1, cause) != 0) {
		w->state = W_FAILED;
		return -1;
	}
	w->nsections++;
	return 0;
}

/*
 * The writer refuses to write what the reader would refuse: each metadata
 * payload is decoded again before it goes out. It costs little next to the
 * pages and turns a bad field into an error at dump time, not at restore.
 */
static int
img_meta_check(const struct img_meta_codec *mc, const uint8_t *p, size_t len,
    char **cause)
{
	struct img	t;
	int		rv;

	memset(&t, 0, sizeof t);
	rv = mc->decode(&t, p, len, cause);
	img_free(&t);
	if (rv != 0)
		return -1;
	if (len > img_sec_maxlen(mc->type, IMG_X86_PAGE))
		return cause_set(cause, "%zu bytes, more than a reader accepts", len);
	return 0;
}

/* Fill what the caller left zero in the header with this machine's values. */
static void
img_header_defaults(struct img_header *h)
{
	struct utsname	u;
	struct timespec	ts;
	uint32_t	i, any = 0;

	if (h->version == 0)
		h->version = IMG_VERSION;
	if (h->arch == 0)
		h->arch = IMG_ARCH_X86_64;
	if (h->page_size == 0)
		h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	if (h->time_ns == 0 && clock_gettime(CLOCK_REALTIME, &ts) == 0)
		h->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (uname(&u) == 0) {
		if (h->kernel[0] == '\0')
			snprintf(h->kernel, sizeof h->kernel, "%s", u.release);
		if (h->hostname[0] == '\0')
			snprintf(h->hostname, sizeof h->hostname, "%s", u.nodename);
	}
	for (i = 0; i < CPUW_NWORDS; i++)
		any |= h->cpu.word[i];
	if (any == 0 && h->cpu.xcr0 == 0)
		cpu_features_get(&h->cpu);
}

/* A THREAD section per thread but the main one, checked like the rest. */
static int
img_write_threads(struct img_writer *w, const struct img *img, char **cause)
{
	struct img_thread	t;
	uint32_t		i;

	if (img->nthreads > IMG_MAX_THREADS)
		return cause_set(cause, "write image: %u threads, more than %d",
		    img->nthreads, IMG_MAX_THREADS);
	for (i = 0; i < img->nthreads; i++) {
		img_frame_start(w);
		img_thread_encode(&img->threads[i], &w->frame);
		if (img_thread_decode(&t, w->frame.data + IMG_FRAME_HDR,
		    w->frame.len - IMG_FRAME_HDR, cause) != 0) {
			w->state = W_FAILED;
			if (cause != NULL)
				cause_set(cause, "write image section THREAD "
				    "(thread %d): %s", (int)img->threads[i].tid,
				    *cause);
			return -1;
		}
		img_thread_free(&t);
		if (img_frame_write(w, IMG_SEC_THREAD, cause) != 0)
			return -1;
	}
	return 0;
}

int
img_write_meta(struct img_writer *w, const struct img *img, char **cause)
{
	const struct img_meta_codec	*mc;
	struct img			 t;
	size_t				 i;

	if (w->state != W_START)
		return cause_set(cause, "write image: metadata written twice");
	t = *img;			/* shallow: only the header changes */
	img_header_defaults(&t.hdr);
	w->page_size = t.hdr.page_size;
	for (i = 0; i < IMG_NMETA; i++) {
		mc = &img_meta_codecs[i];
		img_frame_start(w);
		mc->encode(&t, &w->frame);
		if (img_meta_check(mc, w->frame.data + IMG_FRAME_HDR,
		    w->frame.len - IMG_FRAME_HDR, cause) != 0) {
			w->state = W_FAILED;
			if (cause != NULL) {
				cause_set(cause, "write image section %s: %s",
				    img_sec_name(mc->type), *cause);
			}
			return -1;
		}
		if (img_frame_write(w, mc->type, cause) != 0)
			return -1;
		if (mc->type == IMG_SEC_SIGNALS &&
		    img_write_threads(w, &t, cause) != 0)
			return -1;
	}
	w->state = W_META;
	return 0;
}

int
img_write_pages(struct img_writer *w, const uint64_t *addrs, uint32_t count,
    const struct iovec *iov, int iovcnt, char **cause)
{
	uint64_t	total = 0;
	uint32_t	crc, i;
	uint8_t		trailer[IMG_FRAME_CRC];
	size_t		nio, k;
	int		j;

	if (w->state != W_META)
		return cause_set(cause, "write image: pages outside metadata and end");
	if (count == 0)
		return 0;
	if (count > IMG_PAGES_PER_SECTION) {
		return cause_set(cause, "write image: %u pages in one section, more "
		    "than %d", count, IMG_PAGES_PER_SECTION);
	}
	for (j = 0; j < iovcnt; j++)
		total += iov[j].iov_len;
	if (total != (uint64_t)count * w->page_size) {
		return cause_set(cause, "write image: %llu bytes of data for %u pages",
		    (unsigned long long)total, count);
	}
	img_frame_start(w);
	buf_add_u32(&w->frame, count);
	buf_add_u32(&w->frame, 0);
	for (i = 0; i < count; i++) {
		if ((addrs[i] & (w->page_size - 1)) != 0) {
			return cause_set(cause, "write image: page address %#llx not "
			    "aligned", (unsigned long long)addrs[i]);
		}
		buf_add_u64(&w->frame, addrs[i]);
	}
	img_frame_header(w, IMG_SEC_PAGES, w->frame.len - IMG_FRAME_HDR + total);

	crc = crc32c(0, w->frame.data, w->frame.len);
	for (j = 0; j < iovcnt; j++)
		crc = crc32c(crc, iov[j].iov_base, iov[j].iov_len);
	le32enc(trailer, crc);

	nio = (size_t)iovcnt + 2;
	if (nio > w->niov) {
		w->iov = xreallocarray(w->iov, nio, sizeof *w->iov);
		w->niov = nio;
	}
	w->iov[0].iov_base = w->frame.data;
	w->iov[0].iov_len = w->frame.len;
	for (k = 0; k < (size_t)iovcnt; k++)
		w->iov[k + 1] = iov[k];
	w->iov[nio - 1].iov_base = trailer;
	w->iov[nio - 1].iov_len = sizeof trailer;
	if (img_writev_all(w, w->iov, nio, cause) != 0) {
		w->state = W_FAILED;
		return -1;
	}
	w->nsections++;
	w->npages += count;
	return 0;
}

int
img_write_end(struct img_writer *w, char **cause)
{
	struct img_end	e;

	if (w->state != W_META)
		return cause_set(cause, "write image: end without metadata");
	e.nsections = w->nsections;
	e.npages = w->npages;
	img_frame_start(w);
	img_end_encode(&e, &w->frame);
	if (img_frame_write(w, IMG_SEC_END, cause) != 0)
		return -1;
	w->state = W_END;
	return 0;
}
