/*
 * image-read.c: read an image stream front to back, checking as it goes.
 *
 * Each section is read with two reads: its 16-byte frame header, then the
 * payload and crc in one go into a buffer kept from section to section. The
 * reader never reads past the END section, so an image may be followed by
 * something else on the same stream. Every frame is checked before its
 * payload is decoded: its type against the order an image must have, its
 * length against what that type can need, its crc.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/crc32c.h"
#include "omm/image.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#include "image-int.h"

enum img_rstate { R_START, R_META, R_END, R_FAILED };

/* A VMA as the page checks need it. */
struct img_rvma {
	uint64_t	start, end;
	uint64_t	npages;		/* announced */
	uint64_t	seen;		/* stored */
};

struct img_reader {
	int			 fd;
	int			 stall_ms;	/* nothing came this long: fail; -1 never */
	enum img_rstate		 state;
	uint64_t		 bytes;
	uint64_t		 nsections;	/* frames read */
	uint64_t		 npages;
	uint32_t		 page_size;
	unsigned int		 seen;		/* bit per metadata type read */

	uint8_t			*buf;		/* the current frame, whole */
	size_t			 cap;

	struct img_rvma		*vmas;
	uint32_t		 nvmas;
	uint32_t		 vcur;		/* where the last page was */
	uint64_t		 next_addr;	/* pages come in ascending order */

	struct img_sec_stats	 stats;
};

#define IMG_READ_STEP	(1u << 20)	/* buffer growth while a frame arrives */

#define META_ALL	((1u << IMG_SEC_PROC) | (1u << IMG_SEC_REGS) | \
			 (1u << IMG_SEC_SIGNALS) | (1u << IMG_SEC_FDS) | \
			 (1u << IMG_SEC_VMAS) | (1u << IMG_SEC_TIMERS))

struct img_reader *
img_reader_new(int fd)
{
	struct img_reader	*r;

	r = xcalloc(1, sizeof *r);
	r->fd = fd;
	r->stall_ms = -1;
	return r;
}

void
img_reader_set_stall(struct img_reader *r, int ms)
{
	r->stall_ms = img_fd_nonblock(r->fd, ms);
}

void
img_reader_free(struct img_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->vmas);
	free(r);
}

uint64_t
img_reader_bytes(const struct img_reader *r)
{
	return r->bytes;
}

void
img_reader_stats(const struct img_reader *r, struct img_sec_stats *st)
{
	*st = r->stats;
}

/* Read up to n bytes, as many reads as it takes; *got says how many came before EOF. */
static int
img_read_full(struct img_reader *r, uint8_t *p, size_t n, size_t *got,
    char **cause)
{
	struct pollfd	pfd;
	ssize_t		k;

	*got = 0;
	while (*got < n) {
		k = read(r->fd, p + *got, n - *got);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = r->fd;
				pfd.events = POLLIN;
				switch (poll(&pfd, 1, r->stall_ms)) {
				case -1:
					if (errno == EINTR)
						continue;
					return cause_set(cause, "read image: poll: %s",
					    strerror(errno));
				case 0:
					return cause_set(cause, "read image: nothing "
					    "came for %d s", r->stall_ms / 1000);
				}
				continue;
			}
			return cause_set(cause, "read image: %s", strerror(errno));
		}
		if (k == 0)
			break;
		*got += (size_t)k;
		r->bytes += (uint64_t)k;
	}
	return 0;
}

static int
img_reserve(struct img_reader *r, size_t n, char **cause)
{
	uint8_t	*p;

	if (n <= r->cap)
		return 0;
	/* n is bounded by IMG_MAX_SECTION, but that is 64 MiB: fail, not abort. */
	if ((p = realloc(r->buf, n)) == NULL)
		return cause_set(cause, "read image: %zu bytes: out of memory", n);
	r->buf = p;
	r->cap = n;
	return 0;
}

/* "VMAS", or "PAGES #12" where a type may come many times. */
static const char *
img_label(uint32_t type, uint64_t idx, char *s, size_t n)
{
	if (type == IMG_SEC_PAGES || type == IMG_SEC_THREAD ||
	    !img_sec_known(type))
		snprintf(s, n, "%s #%llu", img_sec_name(type), (unsigned long long)idx);
	else
		snprintf(s, n, "%s", img_sec_name(type));
	return s;
}

/* Is a section of this type allowed next? */
static int
img_check_order(struct img_reader *r, uint32_t type, const char *label,
    char **cause)
{
	char	missing[128] = "";
	int	t;

	if (r->nsections == 0) {
		if (type != IMG_SEC_HEADER)
			return cause_set(cause, "not an omm image");
		return 0;
	}
	if (type == IMG_SEC_HEADER)
		return cause_set(cause, "image section HEADER appears twice");
	if (type == IMG_SEC_THREAD) {
		/* the main thread's REGS and SIGNALS first, FDS after */
		if (!(r->seen & (1u << IMG_SEC_SIGNALS)) ||
		    (r->seen & (1u << IMG_SEC_FDS)))
			return cause_set(cause, "image section %s out of place "
			    "(it comes between SIGNALS and FDS)", label);
		return 0;
	}
	if (type != IMG_SEC_PAGES && type != IMG_SEC_END) {
		if (r->seen & (1u << type)) {
			return cause_set(cause, "image section %s appears twice",
			    label);
		}
		return 0;
	}
	if ((r->seen & META_ALL) == META_ALL)
		return 0;
	for (t = IMG_SEC_PROC; t <= IMG_SEC_MAX; t++) {
		if ((META_ALL & (1u << t)) && !(r->seen & (1u << t))) {
			snprintf(missing + strlen(missing), sizeof missing -
			    strlen(missing), " %s", img_sec_name((uint32_t)t));
		}
	}
	return cause_set(cause, "image section %s comes before metadata section(s)%s",
	    label, missing);
}

/*
 * Read the next frame whole into r->buf and check it; the payload is
 * r->buf + IMG_FRAME_HDR. On error the reader stays failed.
 */
static int
img_read_frame(struct img_reader *r, uint32_t *typep, size_t *lenp, char **cause)
{
	uint64_t	 idx = r->nsections, len, maxlen, frame, have, want;
	uint32_t	 type, flags, crc;
	size_t		 got;
	char		 label[32];

	if (img_reserve(r, IMG_FRAME_HDR, cause) != 0)
		return -1;
	if (img_read_full(r, r->buf, IMG_FRAME_HDR, &got, cause) != 0)
		return -1;
	if (got < IMG_FRAME_HDR) {
		if (idx == 0 && got >= 4 && le32dec(r->buf) != IMG_SEC_HEADER)
			return cause_set(cause, "not an omm image");
		if (got >= 4)
			img_label(le32dec(r->buf), idx, label, sizeof label);
		else
			snprintf(label, sizeof label, "#%llu", (unsigned long long)idx);
		return cause_set(cause, "image truncated in section %s (expected "
		    "%d bytes, got %zu)", label, IMG_FRAME_HDR, got);
	}
	type = le32dec(r->buf);
	flags = le32dec(r->buf + 4);
	len = le64dec(r->buf + 8);
	img_label(type, idx, label, sizeof label);
	if (idx == 0 && type != IMG_SEC_HEADER)
		return cause_set(cause, "not an omm image");
	if (!img_sec_known(type)) {
		return cause_set(cause, "image section #%llu has unknown type %u",
		    (unsigned long long)idx, type);
	}
	if (flags != 0)
		return cause_set(cause, "image section %s: flags %#x, expected 0",
		    label, flags);
	if (img_check_order(r, type, label, cause) != 0)
		return -1;
	maxlen = img_sec_maxlen(type, r->page_size != 0 ? r->page_size : IMG_X86_PAGE);
	if (len < img_sec_minlen(type) || len > maxlen) {
		return cause_set(cause, "image section %s: length %llu out of range "
		    "(%llu to %llu)", label, (unsigned long long)len,
		    (unsigned long long)img_sec_minlen(type),
		    (unsigned long long)maxlen);
	}
	/*
	 * The buffer grows with what actually arrives, not with what the
	 * length promises: a lying 64 MiB length on a short stream costs no
	 * more memory than the stream itself. Once grown it is reused, so
	 * PAGES sections after the first take a single read.
	 */
	frame = IMG_FRAME_HDR + len + IMG_FRAME_CRC;
	have = IMG_FRAME_HDR;
	while (have < frame) {
		if (r->cap < frame) {
			want = r->cap * 2 > have + IMG_READ_STEP ? r->cap * 2 :
			    have + IMG_READ_STEP;
			if (img_reserve(r, want < frame ? want : frame, cause) != 0)
				return -1;
		}
		want = (r->cap < frame ? r->cap : frame) - have;
		if (img_read_full(r, r->buf + have, want, &got, cause) != 0)
			return -1;
		have += got;
		if (got < want) {
			return cause_set(cause, "image truncated in section %s "
			    "(expected %llu bytes, got %llu)", label,
			    (unsigned long long)frame, (unsigned long long)have);
		}
	}
	/* A foreign file that happens to start like a HEADER frame. */
	if (type == IMG_SEC_HEADER &&
	    memcmp(r->buf + IMG_FRAME_HDR, IMG_MAGIC, 8) != 0)
		return cause_set(cause, "not an omm image");
	crc = crc32c(0, r->buf, IMG_FRAME_HDR + len);
	if (crc != le32dec(r->buf + IMG_FRAME_HDR + len)) {
		return cause_set(cause, "image section %s: checksum mismatch "
		    "(corrupt image)", label);
	}
	r->nsections++;
	r->stats.count[type]++;
	r->stats.bytes[type] += frame;
	*typep = type;
	*lenp = len;
	return 0;
}

/* Wrap a decoder's message with the section it came from. */
static int
img_sec_fail(uint32_t type, uint64_t idx, char **cause)
{
	char	label[32];

	if (cause == NULL)
		return -1;
	img_label(type, idx, label, sizeof label);
	return cause_set(cause, "image section %s: %s", label,
	    *cause != NULL ? *cause : "invalid");
}

/* One more THREAD section: its thread goes after those before it. */
static int
img_thread_add(struct img_reader *r, struct img *img, size_t len, char **cause)
{
	struct img_thread	t;
	uint32_t		i;

	if (img->nthreads >= IMG_MAX_THREADS)
		return cause_set(cause, "more than %d THREAD sections",
		    IMG_MAX_THREADS);
	if (img_thread_decode(&t, r->buf + IMG_FRAME_HDR, len, cause) != 0)
		return img_sec_fail(IMG_SEC_THREAD, r->nsections - 1, cause);
	for (i = 0; i < img->nthreads; i++) {
		if (img->threads[i].tid == t.tid) {
			img_thread_free(&t);
			return cause_set(cause, "image section THREAD #%llu: "
			    "thread %d appears twice",
			    (unsigned long long)(r->nsections - 1),
			    (int)img->threads[i].tid);
		}
	}
	img->threads = xreallocarray(img->threads, img->nthreads + 1,
	    sizeof *img->threads);
	img->threads[img->nthreads++] = t;
	return 0;
}

static int
img_meta_decode(struct img_reader *r, struct img *img, uint32_t type,
    size_t len, char **cause)
{
	const struct img_meta_codec	*mc = NULL;
	long				 ps;
	size_t				 i;

	if (type == IMG_SEC_THREAD)
		return img_thread_add(r, img, len, cause);
	for (i = 0; i < IMG_NMETA; i++) {
		if (img_meta_codecs[i].type == type)
			mc = &img_meta_codecs[i];
	}
	if (mc == NULL) {
		return cause_set(cause, "image section %s where metadata was "
		    "expected", img_sec_name(type));
	}
	/*
	 * Magic (checked with the frame) and version sit at fixed places in
	 * every version's header: say "other version", not "corrupt".
	 */
	if (type == IMG_SEC_HEADER &&
	    le32dec(r->buf + IMG_FRAME_HDR + 8) != IMG_VERSION) {
		return cause_set(cause, "image version %u, this omm reads version %u",
		    le32dec(r->buf + IMG_FRAME_HDR + 8), IMG_VERSION);
	}
	if (mc->decode(img, r->buf + IMG_FRAME_HDR, len, cause) != 0)
		return img_sec_fail(type, r->nsections - 1, cause);
	r->seen |= 1u << type;
	if (type != IMG_SEC_HEADER)
		return 0;
	if (img->hdr.arch != IMG_ARCH_X86_64) {
		return cause_set(cause, "image is for machine type %u, this is "
		    "x86_64 (%d)", img->hdr.arch, IMG_ARCH_X86_64);
	}
	ps = sysconf(_SC_PAGESIZE);
	if (img->hdr.page_size != (uint32_t)ps) {
		return cause_set(cause, "image has pages of %u bytes, this machine "
		    "%ld", img->hdr.page_size, ps);
	}
	r->page_size = img->hdr.page_size;
	return 0;
}

int
img_read_meta(struct img_reader *r, struct img *img, char **cause)
{
	uint32_t	type, i;
	size_t		len;

	memset(img, 0, sizeof *img);
	if (r->state != R_START)
		return cause_set(cause, "read image: metadata read twice");
	while (r->nsections == 0 || (r->seen & META_ALL) != META_ALL) {
		if (img_read_frame(r, &type, &len, cause) != 0 ||
		    img_meta_decode(r, img, type, len, cause) != 0)
			goto fail;
	}
	if (img->nvmas != 0) {
		r->vmas = xcalloc(img->nvmas, sizeof *r->vmas);
		for (i = 0; i < img->nvmas; i++) {
			r->vmas[i].start = img->vmas[i].start;
			r->vmas[i].end = img->vmas[i].end;
			r->vmas[i].npages = img->vmas[i].npages;
		}
	}
	r->nvmas = img->nvmas;
	r->state = R_META;
	return 0;

fail:
	img_free(img);
	r->state = R_FAILED;
	return -1;
}

/* The VMA holding addr (VMAs are sorted: the decoder checked), or NULL. */
static struct img_rvma *
img_find_vma(struct img_reader *r, uint64_t addr)
{
	uint32_t	lo = 0, hi = r->nvmas, mid;

	/* Pages come in address order in practice: try where the last one was. */
	if (r->vcur < r->nvmas && addr >= r->vmas[r->vcur].start &&
	    addr < r->vmas[r->vcur].end)
		return &r->vmas[r->vcur];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < r->vmas[mid].start)
			hi = mid;
		else if (addr >= r->vmas[mid].end)
			lo = mid + 1;
		else {
			r->vcur = mid;
			return &r->vmas[mid];
		}
	}
	return NULL;
}

static int
img_check_end(struct img_reader *r, size_t len, char **cause)
{
	struct img_end		 e;
	struct img_rvma		*v;
	uint32_t		 i;

	if (img_end_decode(&e, r->buf + IMG_FRAME_HDR, len, cause) != 0)
		return img_sec_fail(IMG_SEC_END, r->nsections - 1, cause);
	if (e.nsections != r->nsections - 1 || e.npages != r->npages) {
		return cause_set(cause, "image section END: %llu sections and %llu "
		    "pages announced, %llu and %llu read (image truncated or "
		    "spliced)", (unsigned long long)e.nsections,
		    (unsigned long long)e.npages,
		    (unsigned long long)(r->nsections - 1),
		    (unsigned long long)r->npages);
	}
	for (i = 0; i < r->nvmas; i++) {
		v = &r->vmas[i];
		if (v->seen != v->npages) {
			return cause_set(cause, "image: vma %#llx-%#llx: %llu pages "
			    "announced, %llu stored", (unsigned long long)v->start,
			    (unsigned long long)v->end,
			    (unsigned long long)v->npages,
			    (unsigned long long)v->seen);
		}
	}
	return 0;
}

int
img_read_pages(struct img_reader *r, struct img_pages *pg, char **cause)
{
	struct img_rvma	*v;
	uint32_t	 type, i;
	uint64_t	 addr, idx;
	size_t		 len;

	if (r->state == R_END)
		return 0;
	if (r->state == R_FAILED)
		return cause_set(cause, "read image: the reader failed earlier");
	if (r->state != R_META)
		return cause_set(cause, "read image: pages before metadata");
	if (img_read_frame(r, &type, &len, cause) != 0)
		goto fail;
	idx = r->nsections - 1;
	if (type == IMG_SEC_END) {
		if (img_check_end(r, len, cause) != 0)
			goto fail;
		r->state = R_END;
		return 0;
	}
	if (type != IMG_SEC_PAGES) {
		/* img_read_frame let a metadata type through only if unseen: none is. */
		cause_set(cause, "image section %s after the pages", img_sec_name(type));
		goto fail;
	}
	if (img_pages_decode(pg, r->page_size, r->buf + IMG_FRAME_HDR, len,
	    cause) != 0) {
		img_sec_fail(type, idx, cause);
		goto fail;
	}
	for (i = 0; i < pg->count; i++) {
		addr = img_page_addr(pg, i);
		if ((v = img_find_vma(r, addr)) == NULL) {
			cause_set(cause, "image section PAGES #%llu: page %#llx is "
			    "in no vma", (unsigned long long)idx,
			    (unsigned long long)addr);
			goto fail;
		}
		/*
		 * One copy of each page, in address order: a page twice
		 * would leave whichever came last, unnoticed.
		 */
		if (addr < r->next_addr) {
			cause_set(cause, "image section PAGES #%llu: page %#llx "
			    "comes after page %#llx (out of order or twice)",
			    (unsigned long long)idx, (unsigned long long)addr,
			    (unsigned long long)(r->next_addr - r->page_size));
			goto fail;
		}
		r->next_addr = addr + r->page_size;
		v->seen++;
	}
	r->npages += pg->count;
	return 1;

fail:
	memset(pg, 0, sizeof *pg);
	r->state = R_FAILED;
	return -1;
}

int
img_check_cpu(const struct img *img, char **cause)
{
	struct cpu_features	have;
	char			missing[1024];
	long			ps = sysconf(_SC_PAGESIZE);

	if (img->hdr.arch != IMG_ARCH_X86_64) {
		return cause_set(cause, "image is for machine type %u, this is "
		    "x86_64 (%d)", img->hdr.arch, IMG_ARCH_X86_64);
	}
	if (img->hdr.page_size != (uint32_t)ps) {
		return cause_set(cause, "image has pages of %u bytes, this machine "
		    "%ld", img->hdr.page_size, ps);
	}
	cpu_features_get(&have);
	if (cpu_features_missing(&have, &img->hdr.cpu, missing, sizeof missing) > 0) {
		return cause_set(cause, "image needs CPU features this machine "
		    "lacks: %s", missing);
	}
	return 0;
}
