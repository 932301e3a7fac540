/*
 * image.c: encoders and decoders of the image section payloads.
 *
 * Every field is written and read one at a time through struct buf and
 * struct buf_rd, little-endian, in the order docs/image-format.md gives.
 * Decoders trust nothing: each count is capped before anything is allocated,
 * each string is checked for length and NUL bytes, and a decoder either
 * fills its output completely or leaves it untouched and says why.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/image.h"
#include "omm/log.h"
#include "omm/xmalloc.h"

#include "image-int.h"

/*
 * THREAD without xstate or pending signals: tid, comm, the register count
 * and registers, xstate length, mask, altstack (3), rseq (3), robust list
 * (2), clear_child_tid, policy, priority, nice, pending count.
 */
#define IMG_THREAD_FIXED	(4 + 16 + 4 + IMG_NGREGS * 8 + 4 + 8 + \
	2 * 8 + 4 + 8 + 2 * 4 + 2 * 8 + 8 + 3 * 4 + 4)

/* Section types: name and the largest payload each can need. */
static const struct img_sec_type {
	const char	*name;
	uint64_t	 minlen;
	uint64_t	 maxlen;	/* 0: computed (PAGES) */
} img_sec_types[IMG_SEC_MAX + 1] = {
	[IMG_SEC_HEADER] = { "HEADER", 12, 65536 },	/* magic and version always fit */
	[IMG_SEC_PROC] = { "PROC",
	    3 * 4 + 4 + 3 * 4 + 3 * 4 + 16 * 16 + 11 * 8 + 4 + 8 + 2 * 4 + 3 * 8 +
	    3 * 4,
	    3 * 4 + (4 + 15) + 3 * (4 + IMG_MAX_PATH) + 3 * 4 + 16 * 16 + 11 * 8 +
	    4 + IMG_MAX_AUXV * 8 + 8 + 2 * 4 + 3 * 8 + 4 + IMG_MAX_GROUPS * 4 +
	    2 * 4 },
	[IMG_SEC_REGS] = { "REGS", 4 + IMG_NGREGS * 8 + 4,
	    4 + IMG_NGREGS * 8 + 4 + IMG_MAX_XSTATE },
	[IMG_SEC_SIGNALS] = { "SIGNALS", 4 + 64 * 32 + 3 * 8 + 2 * 4,
	    4 + 64 * 32 + 3 * 8 + 2 * 4 + IMG_MAX_PENDING * (4 + 128) },
	[IMG_SEC_FDS] = { "FDS", 4, IMG_MAX_SECTION },
	[IMG_SEC_VMAS] = { "VMAS", 4, IMG_MAX_SECTION },
	[IMG_SEC_PAGES] = { "PAGES", IMG_PAGES_HDR, 0 },
	[IMG_SEC_END] = { "END", IMG_END_LEN, IMG_END_LEN },
	[IMG_SEC_TIMERS] = { "TIMERS", IMG_TIMERS_HDR,
	    IMG_TIMERS_HDR + (uint64_t)IMG_MAX_TIMERS * IMG_PTIMER_LEN },
	[IMG_SEC_THREAD] = { "THREAD", IMG_THREAD_FIXED,
	    IMG_THREAD_FIXED + IMG_MAX_XSTATE + IMG_MAX_PENDING * 128 },
};

/* Smallest FDS / VMAS entry: every fixed field and an empty path. */
#define IMG_FD_FIXED	(4 * 4 + 8 + 4 + 3 * 8 + 4 + 4 + 8 + 4 + 4 + 8)
#define IMG_VMA_FIXED	(2 * 8 + 3 * 4 + 4 * 8 + 8 + 4 + 8)

int
img_sec_known(uint32_t type)
{
	return type != 0 && type <= IMG_SEC_MAX && img_sec_types[type].name != NULL;
}

const char *
img_sec_name(uint32_t type)
{
	if (!img_sec_known(type))
		return "section";
	return img_sec_types[type].name;
}

uint64_t
img_sec_minlen(uint32_t type)
{
	if (!img_sec_known(type))
		return 0;
	return img_sec_types[type].minlen;
}

uint64_t
img_sec_maxlen(uint32_t type, uint32_t page_size)
{
	uint64_t	n;

	if (!img_sec_known(type))
		return 0;
	if (type == IMG_SEC_PAGES)
		n = IMG_PAGES_HDR + (uint64_t)IMG_PAGES_PER_SECTION * (8 + page_size);
	else
		n = img_sec_types[type].maxlen;
	return n > IMG_MAX_SECTION ? IMG_MAX_SECTION : n;
}

void
img_free(struct img *img)
{
	uint32_t	i;

	free(img->proc.exe);
	free(img->proc.cmdline);
	free(img->proc.cwd);
	free(img->proc.groups);
	free(img->regs.xstate);
	free(img->sig.pending);
	free(img->timers.t);
	for (i = 0; img->threads != NULL && i < img->nthreads; i++)
		img_thread_free(&img->threads[i]);
	free(img->threads);
	for (i = 0; img->fds != NULL && i < img->nfds; i++) {
		free(img->fds[i].path);
		free(img->fds[i].watch);
		free(img->fds[i].data);
	}
	free(img->fds);
	for (i = 0; img->vmas != NULL && i < img->nvmas; i++)
		free(img->vmas[i].path);
	free(img->vmas);
	memset(img, 0, sizeof *img);
}

uint64_t
img_page_addr(const struct img_pages *pg, uint32_t i)
{
	return le64dec(pg->addrs + (size_t)i * 8);
}

/* A string of at most max bytes (longer ones are cut: informational only). */
static void
put_str_max(struct buf *b, const char *s, size_t max)
{
	size_t	n = s == NULL ? 0 : strnlen(s, max);

	buf_add_u32(b, (uint32_t)n);
	buf_add(b, s, n);
}

/*
 * Read a string of at most max bytes. An empty string gives NULL when
 * nullable, else "". Returns -1 with a message naming the field.
 */
static int
rd_str(struct buf_rd *r, size_t max, int nullable, char **out,
    const char *field, char **cause)
{
	uint32_t	 n;
	const char	*p;

	*out = NULL;
	n = buf_rd_u32(r);
	if (r->err)
		return cause_set(cause, "%s: truncated", field);
	if (n > max)
		return cause_set(cause, "%s: %u bytes, longer than %zu", field, n, max);
	if ((p = buf_rd_ptr(r, n)) == NULL)
		return cause_set(cause, "%s: truncated (%u bytes announced)", field, n);
	if (memchr(p, '\0', n) != NULL)
		return cause_set(cause, "%s: holds a NUL byte", field);
	if (n == 0 && nullable)
		return 0;
	*out = xstrndup(n == 0 ? "" : p, n);
	return 0;
}

/* Read a string into a fixed array of size n. */
static int
rd_strbuf(struct buf_rd *r, char *out, size_t size, const char *field,
    char **cause)
{
	char	*s;

	if (rd_str(r, size - 1, 0, &s, field, cause) != 0) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);	/* at most size - 1 bytes: checked */
	free(s);
	return 0;
}

/* The end of every decoder: nothing short, nothing left over. */
static int
rd_done(const struct buf_rd *r, size_t len, char **cause)
{
	if (r->err)
		return cause_set(cause, "payload of %zu bytes is too short", len);
	if (buf_rd_left(r) != 0)
		return cause_set(cause, "%zu trailing bytes after the payload",
		    buf_rd_left(r));
	return 0;
}

/* HEADER: magic and version first, at fixed offsets for every version. */
void
img_header_encode(const struct img_header *h, struct buf *b)
{
	int	i;

	buf_add(b, IMG_MAGIC, 8);
	buf_add_u32(b, h->version);
	buf_add_u32(b, h->arch);
	buf_add_u32(b, h->page_size);
	buf_add_u64(b, h->time_ns);
	put_str_max(b, h->kernel, sizeof h->kernel - 1);
	put_str_max(b, h->hostname, sizeof h->hostname - 1);
	buf_add_u32(b, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		buf_add_u32(b, h->cpu.word[i]);
	buf_add_u64(b, h->cpu.xcr0);
	buf_add_u32(b, h->cpu.xsave_size);
	put_str_max(b, h->cpu.model, sizeof h->cpu.model - 1);
}

int
img_header_decode(struct img_header *out, const void *p, size_t len,
    char **cause)
{
	struct img_header	h;
	struct buf_rd		r;
	const void		*magic;
	uint32_t		nwords;
	int			i;

	memset(&h, 0, sizeof h);
	buf_rd_init(&r, p, len);
	magic = buf_rd_ptr(&r, 8);
	if (magic == NULL || memcmp(magic, IMG_MAGIC, 8) != 0)
		return cause_set(cause, "not an omm image");
	h.version = buf_rd_u32(&r);
	if (r.err)
		return cause_set(cause, "not an omm image");
	if (h.version != IMG_VERSION) {
		return cause_set(cause, "image version %u, this omm reads version %u",
		    h.version, IMG_VERSION);
	}
	h.arch = buf_rd_u32(&r);
	h.page_size = buf_rd_u32(&r);
	h.time_ns = buf_rd_u64(&r);
	if (rd_strbuf(&r, h.kernel, sizeof h.kernel, "kernel", cause) != 0 ||
	    rd_strbuf(&r, h.hostname, sizeof h.hostname, "hostname", cause) != 0)
		return -1;
	nwords = buf_rd_u32(&r);
	if (!r.err && nwords != CPUW_NWORDS) {
		return cause_set(cause, "%u CPU feature words, expected %d",
		    nwords, CPUW_NWORDS);
	}
	for (i = 0; i < CPUW_NWORDS; i++)
		h.cpu.word[i] = buf_rd_u32(&r);
	h.cpu.xcr0 = buf_rd_u64(&r);
	h.cpu.xsave_size = buf_rd_u32(&r);
	if (rd_strbuf(&r, h.cpu.model, sizeof h.cpu.model, "cpu model", cause) != 0)
		return -1;
	if (rd_done(&r, len, cause) != 0)
		return -1;
	if (h.page_size == 0 || (h.page_size & (h.page_size - 1)) != 0)
		return cause_set(cause, "page size %u is not a power of two", h.page_size);
	*out = h;
	return 0;
}

void
img_proc_encode(const struct img_proc *pr, struct buf *b)
{
	uint32_t	i, n;

	buf_add_u32(b, (uint32_t)pr->pid);
	buf_add_u32(b, pr->uid);
	buf_add_u32(b, pr->gid);
	put_str_max(b, pr->comm, sizeof pr->comm - 1);
	put_str_max(b, pr->exe, IMG_MAX_PATH);
	put_str_max(b, pr->cmdline, IMG_MAX_PATH);	/* cut: informational */
	put_str_max(b, pr->cwd, IMG_MAX_PATH);
	buf_add_u32(b, pr->umask);
	buf_add_u32(b, pr->personality);
	buf_add_u32(b, IMG_NRLIMITS);
	for (i = 0; i < IMG_NRLIMITS; i++) {
		buf_add_u64(b, pr->rlim[i].cur);
		buf_add_u64(b, pr->rlim[i].max);
	}
	buf_add_u64(b, pr->start_code);
	buf_add_u64(b, pr->end_code);
	buf_add_u64(b, pr->start_data);
	buf_add_u64(b, pr->end_data);
	buf_add_u64(b, pr->start_brk);
	buf_add_u64(b, pr->brk);
	buf_add_u64(b, pr->start_stack);
	buf_add_u64(b, pr->arg_start);
	buf_add_u64(b, pr->arg_end);
	buf_add_u64(b, pr->env_start);
	buf_add_u64(b, pr->env_end);
	n = pr->auxv_n > IMG_MAX_AUXV ? IMG_MAX_AUXV : pr->auxv_n;
	buf_add_u32(b, n);
	for (i = 0; i < n; i++)
		buf_add_u64(b, pr->auxv[i]);
	buf_add_u64(b, pr->rseq_addr);
	buf_add_u32(b, pr->rseq_len);
	buf_add_u32(b, pr->rseq_sig);
	buf_add_u64(b, pr->robust_list);
	buf_add_u64(b, pr->robust_len);
	buf_add_u64(b, pr->clear_tid);
	n = pr->groups == NULL ? 0 : pr->ngroups > IMG_MAX_GROUPS ?
	    IMG_MAX_GROUPS : pr->ngroups;
	buf_add_u32(b, n);
	for (i = 0; i < n; i++)
		buf_add_u32(b, pr->groups[i]);
	buf_add_u32(b, pr->mlockall);
	buf_add_u32(b, pr->membarrier);
}

int
img_proc_decode(struct img_proc *out, const void *p, size_t len, char **cause)
{
	struct img_proc	*pr;
	struct buf_rd	 r;
	uint32_t	 i, n;

	/* Big (auxv), so on the heap rather than the stack. */
	pr = xcalloc(1, sizeof *pr);
	buf_rd_init(&r, p, len);
	pr->pid = (int32_t)buf_rd_u32(&r);
	pr->uid = buf_rd_u32(&r);
	pr->gid = buf_rd_u32(&r);
	if (rd_strbuf(&r, pr->comm, sizeof pr->comm, "comm", cause) != 0 ||
	    rd_str(&r, IMG_MAX_PATH, 1, &pr->exe, "exe", cause) != 0 ||
	    rd_str(&r, IMG_MAX_PATH, 1, &pr->cmdline, "cmdline", cause) != 0 ||
	    rd_str(&r, IMG_MAX_PATH, 1, &pr->cwd, "cwd", cause) != 0)
		goto fail;
	pr->umask = buf_rd_u32(&r);
	pr->personality = buf_rd_u32(&r);
	n = buf_rd_u32(&r);
	if (!r.err && n != IMG_NRLIMITS) {
		cause_set(cause, "%u resource limits, expected %d", n, IMG_NRLIMITS);
		goto fail;
	}
	for (i = 0; i < IMG_NRLIMITS; i++) {
		pr->rlim[i].cur = buf_rd_u64(&r);
		pr->rlim[i].max = buf_rd_u64(&r);
	}
	pr->start_code = buf_rd_u64(&r);
	pr->end_code = buf_rd_u64(&r);
	pr->start_data = buf_rd_u64(&r);
	pr->end_data = buf_rd_u64(&r);
	pr->start_brk = buf_rd_u64(&r);
	pr->brk = buf_rd_u64(&r);
	pr->start_stack = buf_rd_u64(&r);
	pr->arg_start = buf_rd_u64(&r);
	pr->arg_end = buf_rd_u64(&r);
	pr->env_start = buf_rd_u64(&r);
	pr->env_end = buf_rd_u64(&r);
	n = buf_rd_u32(&r);
	if (!r.err && n > IMG_MAX_AUXV) {
		cause_set(cause, "auxv of %u words, more than %d", n, IMG_MAX_AUXV);
		goto fail;
	}
	if (!r.err && n % 2 != 0) {
		cause_set(cause, "auxv of %u words is not made of pairs", n);
		goto fail;
	}
	pr->auxv_n = n;
	for (i = 0; i < n && !r.err; i++)
		pr->auxv[i] = buf_rd_u64(&r);
	pr->rseq_addr = buf_rd_u64(&r);
	pr->rseq_len = buf_rd_u32(&r);
	pr->rseq_sig = buf_rd_u32(&r);
	pr->robust_list = buf_rd_u64(&r);
	pr->robust_len = buf_rd_u64(&r);
	pr->clear_tid = buf_rd_u64(&r);
	n = buf_rd_u32(&r);
	if (!r.err && n > IMG_MAX_GROUPS) {
		cause_set(cause, "%u supplementary groups, more than %d", n,
		    IMG_MAX_GROUPS);
		goto fail;
	}
	if (!r.err && (uint64_t)n * 4 > buf_rd_left(&r)) {
		cause_set(cause, "%u supplementary groups do not fit in %zu bytes",
		    n, buf_rd_left(&r));
		goto fail;
	}
	if (!r.err && n != 0) {
		pr->groups = xcalloc(n, sizeof *pr->groups);
		pr->ngroups = n;
		for (i = 0; i < n; i++)
			pr->groups[i] = buf_rd_u32(&r);
	}
	pr->mlockall = buf_rd_u32(&r);
	pr->membarrier = buf_rd_u32(&r);
	if (rd_done(&r, len, cause) != 0)
		goto fail;
	if ((pr->mlockall & ~IMG_MCL_ALL) != 0 ||
	    pr->mlockall == IMG_MCL_ONFAULT) {
		cause_set(cause, "mlockall flags %#x are not FUTURE with or "
		    "without ONFAULT", pr->mlockall);
		goto fail;
	}
	if ((pr->membarrier & ~IMG_MEMBARRIER_ALL) != 0) {
		cause_set(cause, "unknown membarrier registrations %#x",
		    pr->membarrier);
		goto fail;
	}
	*out = *pr;
	free(pr);
	return 0;

fail:
	free(pr->exe);
	free(pr->cmdline);
	free(pr->cwd);
	free(pr->groups);
	free(pr);
	return -1;
}

void
img_regs_encode(const struct img_regs *rg, struct buf *b)
{
	int	i;

	buf_add_u32(b, IMG_NGREGS);
	for (i = 0; i < IMG_NGREGS; i++)
		buf_add_u64(b, rg->gpr[i]);
	buf_add_u32(b, rg->xstate == NULL ? 0 : rg->xstate_len);
	if (rg->xstate != NULL)
		buf_add(b, rg->xstate, rg->xstate_len);
}

int
img_regs_decode(struct img_regs *out, const void *p, size_t len, char **cause)
{
	struct img_regs	 rg;
	struct buf_rd	 r;
	const void	*x;
	uint32_t	 n;
	int		 i;

	memset(&rg, 0, sizeof rg);
	buf_rd_init(&r, p, len);
	n = buf_rd_u32(&r);
	if (!r.err && n != IMG_NGREGS)
		return cause_set(cause, "%u registers, expected %d", n, IMG_NGREGS);
	for (i = 0; i < IMG_NGREGS; i++)
		rg.gpr[i] = buf_rd_u64(&r);
	n = buf_rd_u32(&r);
	if (!r.err && n > IMG_MAX_XSTATE) {
		return cause_set(cause, "xstate of %u bytes, more than %u", n,
		    IMG_MAX_XSTATE);
	}
	x = buf_rd_ptr(&r, n);
	if (rd_done(&r, len, cause) != 0)
		return -1;
	if (n != 0) {
		rg.xstate = xmalloc(n);
		memcpy(rg.xstate, x, n);
		rg.xstate_len = n;
	}
	*out = rg;
	return 0;
}

void
img_signals_encode(const struct img_signals *s, struct buf *b)
{
	uint32_t	i, n;

	buf_add_u32(b, 64);
	for (i = 0; i < 64; i++) {
		buf_add_u64(b, s->act[i].handler);
		buf_add_u64(b, s->act[i].flags);
		buf_add_u64(b, s->act[i].restorer);
		buf_add_u64(b, s->act[i].mask);
	}
	buf_add_u64(b, s->blocked);
	buf_add_u64(b, s->ss_sp);
	buf_add_u64(b, s->ss_size);
	buf_add_u32(b, s->ss_flags);
	n = s->pending == NULL ? 0 : s->npending;
	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		buf_add_u32(b, s->pending[i].shared);
		buf_add(b, s->pending[i].raw, sizeof s->pending[i].raw);
	}
}

int
img_signals_decode(struct img_signals *out, const void *p, size_t len,
    char **cause)
{
	struct img_signals	*s;
	struct buf_rd		 r;
	uint32_t		 i, n;

	s = xcalloc(1, sizeof *s);
	buf_rd_init(&r, p, len);
	n = buf_rd_u32(&r);
	if (!r.err && n != 64) {
		cause_set(cause, "%u signal actions, expected 64", n);
		goto fail;
	}
	for (i = 0; i < 64; i++) {
		s->act[i].handler = buf_rd_u64(&r);
		s->act[i].flags = buf_rd_u64(&r);
		s->act[i].restorer = buf_rd_u64(&r);
		s->act[i].mask = buf_rd_u64(&r);
	}
	s->blocked = buf_rd_u64(&r);
	s->ss_sp = buf_rd_u64(&r);
	s->ss_size = buf_rd_u64(&r);
	s->ss_flags = buf_rd_u32(&r);
	n = buf_rd_u32(&r);
	if (r.err) {
		rd_done(&r, len, cause);
		goto fail;
	}
	if (n > IMG_MAX_PENDING) {
		cause_set(cause, "%u pending signals, more than %d", n,
		    IMG_MAX_PENDING);
		goto fail;
	}
	if ((uint64_t)n * (4 + 128) > buf_rd_left(&r)) {
		cause_set(cause, "%u pending signals do not fit in %zu bytes", n,
		    buf_rd_left(&r));
		goto fail;
	}
	if (n != 0)
		s->pending = xcalloc(n, sizeof *s->pending);
	s->npending = n;
	for (i = 0; i < n; i++) {
		s->pending[i].shared = buf_rd_u32(&r);
		buf_rd_bytes(&r, s->pending[i].raw, sizeof s->pending[i].raw);
		if (s->pending[i].shared > 1) {
			cause_set(cause, "pending signal %u: queue %u is neither 0 "
			    "(thread) nor 1 (process)", i, s->pending[i].shared);
			goto fail;
		}
	}
	if (rd_done(&r, len, cause) != 0)
		goto fail;
	*out = *s;
	free(s);
	return 0;

fail:
	free(s->pending);
	free(s);
	return -1;
}

void
img_timers_encode(const struct img_timers *t, struct buf *b)
{
	const struct img_ptimer	*p;
	uint32_t		 i, n;

	buf_add_u32(b, IMG_NITIMERS);
	for (i = 0; i < IMG_NITIMERS; i++) {
		buf_add_u64(b, t->it[i].value_ns);
		buf_add_u64(b, t->it[i].interval_ns);
	}
	n = t->t == NULL ? 0 : t->n;
	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		p = &t->t[i];
		buf_add_u32(b, (uint32_t)p->id);
		buf_add_u32(b, (uint32_t)p->clock);
		buf_add_u32(b, p->notify);
		buf_add_u32(b, p->signo);
		buf_add_u64(b, p->value);
		buf_add_u64(b, p->value_ns);
		buf_add_u64(b, p->interval_ns);
		buf_add_u32(b, p->overrun);
	}
}

/* Longer than any timespec the kernel takes (tv_sec is a signed 64-bit count). */
#define IMG_TIMER_NS_MAX	((uint64_t)INT64_MAX)

/*
 * A clock timer_create can take: a fixed clock (REALTIME, MONOTONIC,
 * BOOTTIME, TAI and the alarm ones; the kernel says which it has), or a
 * CPU clock of the process itself (pid 0: -8..-2, not the invalid -5 and
 * -1, whose low bits name no CPU clock).
 */
static int
timer_clock_ok(int32_t clk)
{
	if (clk >= 0)
		return clk < 16;
	return clk >= -8 && (clk & 3) != 3;
}

int
img_timers_decode(struct img_timers *out, const void *p, size_t len,
    char **cause)
{
	struct img_timers	 t;
	struct img_ptimer	*q;
	struct buf_rd		 r;
	uint32_t		 i, n;

	memset(&t, 0, sizeof t);
	buf_rd_init(&r, p, len);
	n = buf_rd_u32(&r);
	if (!r.err && n != IMG_NITIMERS)
		return cause_set(cause, "%u interval timers, expected %d", n,
		    IMG_NITIMERS);
	for (i = 0; i < IMG_NITIMERS; i++) {
		t.it[i].value_ns = buf_rd_u64(&r);
		t.it[i].interval_ns = buf_rd_u64(&r);
		if (!r.err && (t.it[i].value_ns > IMG_TIMER_NS_MAX ||
		    t.it[i].interval_ns > IMG_TIMER_NS_MAX))
			return cause_set(cause, "interval timer %u: time out of "
			    "range", i);
	}
	n = buf_rd_u32(&r);
	if (r.err)
		return rd_done(&r, len, cause);
	if (n > IMG_MAX_TIMERS)
		return cause_set(cause, "%u POSIX timers, more than %d", n,
		    IMG_MAX_TIMERS);
	if ((uint64_t)n * IMG_PTIMER_LEN != buf_rd_left(&r))
		return cause_set(cause, "%u POSIX timers in %zu bytes, expected "
		    "%llu", n, buf_rd_left(&r),
		    (unsigned long long)n * IMG_PTIMER_LEN);
	if (n != 0)
		t.t = xcalloc(n, sizeof *t.t);
	t.n = n;
	for (i = 0; i < n; i++) {
		q = &t.t[i];
		q->id = (int32_t)buf_rd_u32(&r);
		q->clock = (int32_t)buf_rd_u32(&r);
		q->notify = buf_rd_u32(&r);
		q->signo = buf_rd_u32(&r);
		q->value = buf_rd_u64(&r);
		q->value_ns = buf_rd_u64(&r);
		q->interval_ns = buf_rd_u64(&r);
		q->overrun = buf_rd_u32(&r);
		if (q->id < 0 || (i > 0 && q->id <= t.t[i - 1].id)) {
			cause_set(cause, "POSIX timer #%u: id %d is negative or "
			    "not above the one before", i, q->id);
			goto fail;
		}
		if (!timer_clock_ok(q->clock)) {
			cause_set(cause, "POSIX timer %d: clock %d", q->id,
			    q->clock);
			goto fail;
		}
		if (q->notify != IMG_SIGEV_SIGNAL && q->notify != IMG_SIGEV_NONE &&
		    q->notify != IMG_SIGEV_THREAD_ID) {
			cause_set(cause, "POSIX timer %d: notification %u is none "
			    "of signal (0), none (1), thread id (4)", q->id,
			    q->notify);
			goto fail;
		}
		if (q->notify != IMG_SIGEV_NONE && (q->signo < 1 || q->signo > 64)) {
			cause_set(cause, "POSIX timer %d: signal %u", q->id,
			    q->signo);
			goto fail;
		}
		if (q->value_ns > IMG_TIMER_NS_MAX ||
		    q->interval_ns > IMG_TIMER_NS_MAX) {
			cause_set(cause, "POSIX timer %d: time out of range", q->id);
			goto fail;
		}
	}
	if (rd_done(&r, len, cause) != 0)
		goto fail;
	*out = t;
	return 0;

fail:
	free(t.t);
	return -1;
}

void
img_thread_encode(const struct img_thread *t, struct buf *b)
{
	uint32_t	i, n;

	buf_add_u32(b, (uint32_t)t->tid);
	buf_add(b, t->comm, sizeof t->comm);
	buf_add_u32(b, IMG_NGREGS);
	for (i = 0; i < IMG_NGREGS; i++)
		buf_add_u64(b, t->regs.gpr[i]);
	buf_add_u32(b, t->regs.xstate == NULL ? 0 : t->regs.xstate_len);
	if (t->regs.xstate != NULL)
		buf_add(b, t->regs.xstate, t->regs.xstate_len);
	buf_add_u64(b, t->blocked);
	buf_add_u64(b, t->ss_sp);
	buf_add_u64(b, t->ss_size);
	buf_add_u32(b, t->ss_flags);
	buf_add_u64(b, t->rseq_addr);
	buf_add_u32(b, t->rseq_len);
	buf_add_u32(b, t->rseq_sig);
	buf_add_u64(b, t->robust_list);
	buf_add_u64(b, t->robust_len);
	buf_add_u64(b, t->clear_tid);
	buf_add_u32(b, t->sched_policy);
	buf_add_u32(b, t->sched_priority);
	buf_add_u32(b, (uint32_t)t->nice);
	n = t->pending == NULL ? 0 : t->npending;
	buf_add_u32(b, n);
	for (i = 0; i < n; i++)
		buf_add(b, t->pending[i].raw, sizeof t->pending[i].raw);
}

void
img_thread_free(struct img_thread *t)
{
	free(t->regs.xstate);
	free(t->pending);
	memset(t, 0, sizeof *t);
}

int
img_thread_decode(struct img_thread *out, const void *p, size_t len,
    char **cause)
{
	struct img_thread	 t;
	struct buf_rd		 r;
	const void		*x;
	uint32_t		 i, n;
	int32_t			 signo;

	memset(&t, 0, sizeof t);
	buf_rd_init(&r, p, len);
	t.tid = (int32_t)buf_rd_u32(&r);
	buf_rd_bytes(&r, t.comm, sizeof t.comm);
	n = buf_rd_u32(&r);
	if (!r.err && n != IMG_NGREGS)
		return cause_set(cause, "%u registers, expected %d", n, IMG_NGREGS);
	for (i = 0; i < IMG_NGREGS; i++)
		t.regs.gpr[i] = buf_rd_u64(&r);
	n = buf_rd_u32(&r);
	if (!r.err && n > IMG_MAX_XSTATE)
		return cause_set(cause, "xstate of %u bytes, more than %u", n,
		    IMG_MAX_XSTATE);
	x = buf_rd_ptr(&r, n);
	t.regs.xstate_len = n;
	t.blocked = buf_rd_u64(&r);
	t.ss_sp = buf_rd_u64(&r);
	t.ss_size = buf_rd_u64(&r);
	t.ss_flags = buf_rd_u32(&r);
	t.rseq_addr = buf_rd_u64(&r);
	t.rseq_len = buf_rd_u32(&r);
	t.rseq_sig = buf_rd_u32(&r);
	t.robust_list = buf_rd_u64(&r);
	t.robust_len = buf_rd_u64(&r);
	t.clear_tid = buf_rd_u64(&r);
	t.sched_policy = buf_rd_u32(&r);
	t.sched_priority = buf_rd_u32(&r);
	t.nice = (int32_t)buf_rd_u32(&r);
	n = buf_rd_u32(&r);
	if (r.err)
		return rd_done(&r, len, cause);
	if (t.tid <= 0)
		return cause_set(cause, "thread id %d", t.tid);
	if (t.comm[sizeof t.comm - 1] != '\0')
		return cause_set(cause, "thread %d: name not terminated", t.tid);
	if (t.nice < -20 || t.nice > 19)
		return cause_set(cause, "thread %d: nice %d out of range", t.tid,
		    t.nice);
	if (n > IMG_MAX_PENDING)
		return cause_set(cause, "thread %d: %u pending signals, more "
		    "than %d", t.tid, n, IMG_MAX_PENDING);
	if ((uint64_t)n * 128 > buf_rd_left(&r))
		return cause_set(cause, "thread %d: %u pending signals do not "
		    "fit in %zu bytes", t.tid, n, buf_rd_left(&r));
	if (n != 0)
		t.pending = xcalloc(n, sizeof *t.pending);
	t.npending = n;
	for (i = 0; i < n; i++) {
		buf_rd_bytes(&r, t.pending[i].raw, sizeof t.pending[i].raw);
		memcpy(&signo, t.pending[i].raw, 4);
		if (signo < 1 || signo > 64) {
			free(t.pending);
			return cause_set(cause, "thread %d: pending signal %d",
			    t.tid, signo);
		}
	}
	if (rd_done(&r, len, cause) != 0) {
		free(t.pending);
		return -1;
	}
	if (t.regs.xstate_len != 0) {
		t.regs.xstate = xmalloc(t.regs.xstate_len);
		memcpy(t.regs.xstate, x, t.regs.xstate_len);
	}
	*out = t;
	return 0;
}

void
img_fds_encode(const struct img_fd *fds, uint32_t n, struct buf *b)
{
	const struct img_fd	*f;
	uint32_t		 i, j;

	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		f = &fds[i];
		buf_add_u32(b, (uint32_t)f->fd);
		buf_add_u32(b, f->kind);
		buf_add_u32(b, f->flags);
		buf_add_u32(b, f->cloexec);
		buf_add_u64(b, f->pos);
		buf_add_u32(b, f->mode);
		buf_add_u64(b, f->dev);
		buf_add_u64(b, f->ino);
		buf_add_u64(b, f->size);
		put_str_max(b, f->path, IMG_MAX_PATH + 1);	/* too long: refused on read */
		buf_add_u32(b, f->shared_with);
		buf_add_u64(b, f->value);
		buf_add_u32(b, f->extra);
		buf_add_u32(b, f->nwatch);
		for (j = 0; j < f->nwatch; j++) {
			buf_add_u32(b, (uint32_t)f->watch[j].fd);
			buf_add_u32(b, f->watch[j].events);
			buf_add_u64(b, f->watch[j].data);
		}
		buf_add_u64(b, f->datalen);
		if (f->datalen > 0)
			buf_add(b, f->data, f->datalen);
	}
}

static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void
fds_free(struct img_fd *fds, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++) {
		free(fds[i].path);
		free(fds[i].watch);
		free(fds[i].data);
	}
	free(fds);
}

/* The kind-specific tail of an FDS entry (version 3), checked as it goes. */
static int
fd_tail_decode(struct img_fd *f, struct buf_rd *r, uint64_t *data_total,
    char **cause)
{
	const void	*p;
	uint32_t	 j;

	f->value = buf_rd_u64(r);
	f->extra = buf_rd_u32(r);
	f->nwatch = buf_rd_u32(r);
	if (r->err)
		return cause_set(cause, "fd %d: truncated", f->fd);
	if (f->nwatch > IMG_MAX_WATCHES)
		return cause_set(cause, "fd %d: %u epoll entries, more than %d",
		    f->fd, f->nwatch, IMG_MAX_WATCHES);
	if ((uint64_t)f->nwatch * 16 > buf_rd_left(r))
		return cause_set(cause, "fd %d: %u epoll entries do not fit in "
		    "%zu bytes", f->fd, f->nwatch, buf_rd_left(r));
	if (f->nwatch > 0 && f->kind != IMG_FD_EPOLL)
		return cause_set(cause, "fd %d: epoll entries in a fd of kind %u",
		    f->fd, f->kind);
	if (f->nwatch > 0)
		f->watch = xcalloc(f->nwatch, sizeof *f->watch);
	for (j = 0; j < f->nwatch; j++) {
		f->watch[j].fd = (int32_t)buf_rd_u32(r);
		f->watch[j].events = buf_rd_u32(r);
		f->watch[j].data = buf_rd_u64(r);
		if (f->watch[j].fd < 0 || f->watch[j].fd == f->fd)
			return cause_set(cause, "fd %d: epoll entry %u: bad "
			    "target fd %d", f->fd, j, f->watch[j].fd);
	}
	f->datalen = buf_rd_u64(r);
	if (r->err)
		return cause_set(cause, "fd %d: truncated", f->fd);
	if (f->datalen > 0 && f->kind != IMG_FD_MEMFD &&
	    f->kind != IMG_FD_DELETED)
		return cause_set(cause, "fd %d: content in a fd of kind %u",
		    f->fd, f->kind);
	if (f->datalen > IMG_MAX_FDDATA - *data_total)
		return cause_set(cause, "fd %d: %" PRIu64 " bytes of content, "
		    "more than the %u an image carries", f->fd, f->datalen,
		    IMG_MAX_FDDATA);
	if (f->datalen > buf_rd_left(r))
		return cause_set(cause, "fd %d: %" PRIu64 " bytes of content do "
		    "not fit in %zu bytes", f->fd, f->datalen, buf_rd_left(r));
	if (f->datalen > 0) {
		if (f->datalen != f->size)
			return cause_set(cause, "fd %d: %" PRIu64 " bytes of "
			    "content for a file of %" PRIu64, f->fd, f->datalen,
			    f->size);
		p = buf_rd_ptr(r, (size_t)f->datalen);
		f->data = xmalloc((size_t)f->datalen);
		memcpy(f->data, p, (size_t)f->datalen);
		*data_total += f->datalen;
	}
	if (f->kind == IMG_FD_EVENTFD && (f->extra & ~IMG_EFD_SEMAPHORE))
		return cause_set(cause, "fd %d: eventfd flags %#x", f->fd,
		    f->extra);
	if (f->kind == IMG_FD_EVENTFD && f->value == UINT64_MAX)
		return cause_set(cause, "fd %d: eventfd counter %#" PRIx64,
		    f->fd, f->value);
	return 0;
}

int
img_fds_decode(struct img_fd **out, uint32_t *outn, const void *p, size_t len,
    char **cause)
{
	struct img_fd	*fds = NULL, *f;
	struct buf_rd	 r;
	uint64_t	 data_total = 0;
	uint32_t	 i, n;
	int		*sorted = NULL;
	char		 field[32];

	buf_rd_init(&r, p, len);
	n = buf_rd_u32(&r);
	if (r.err)
		return rd_done(&r, len, cause);
	if (n > IMG_MAX_FDS)
		return cause_set(cause, "%u fds, more than %d", n, IMG_MAX_FDS);
	if ((uint64_t)n * IMG_FD_FIXED > buf_rd_left(&r)) {
		return cause_set(cause, "%u fds do not fit in %zu bytes", n,
		    buf_rd_left(&r));
	}
	if (n != 0)
		fds = xcalloc(n, sizeof *fds);
	for (i = 0; i < n; i++) {
		f = &fds[i];
		f->fd = (int32_t)buf_rd_u32(&r);
		f->kind = buf_rd_u32(&r);
		f->flags = buf_rd_u32(&r);
		f->cloexec = buf_rd_u32(&r);
		f->pos = buf_rd_u64(&r);
		f->mode = buf_rd_u32(&r);
		f->dev = buf_rd_u64(&r);
		f->ino = buf_rd_u64(&r);
		f->size = buf_rd_u64(&r);
		snprintf(field, sizeof field, "fd %d: path", f->fd);
		if (rd_str(&r, IMG_MAX_PATH, 1, &f->path, field, cause) != 0)
			goto fail;
		f->shared_with = buf_rd_u32(&r);
		if (f->fd < 0) {
			cause_set(cause, "entry %u: negative fd %d", i, f->fd);
			goto fail;
		}
		if (f->kind < IMG_FD_FILE || f->kind > IMG_FD_KIND_MAX) {
			cause_set(cause, "fd %d: unknown kind %u", f->fd, f->kind);
			goto fail;
		}
		if (fd_tail_decode(f, &r, &data_total, cause) != 0)
			goto fail;
		if (f->cloexec > 1) {
			cause_set(cause, "fd %d: cloexec %u is not 0 or 1", f->fd,
			    f->cloexec);
			goto fail;
		}
		if (f->kind == IMG_FD_STDIO && f->fd > 2) {
			cause_set(cause, "fd %d: kind stdio above fd 2", f->fd);
			goto fail;
		}
		if ((f->kind == IMG_FD_FILE || f->kind == IMG_FD_DEV ||
		    f->kind == IMG_FD_OPATH || f->kind == IMG_FD_DELETED) &&
		    (f->path == NULL || f->path[0] != '/')) {
			cause_set(cause, "fd %d: path is not absolute", f->fd);
			goto fail;
		}
	}
	if (rd_done(&r, len, cause) != 0)
		goto fail;
	/* Two entries for one fd cannot both be restored: refuse. */
	if (n > 1) {
		sorted = xcalloc(n, sizeof *sorted);
		for (i = 0; i < n; i++)
			sorted[i] = fds[i].fd;
		qsort(sorted, n, sizeof *sorted, cmp_int);
		for (i = 1; i < n; i++) {
			if (sorted[i] == sorted[i - 1]) {
				cause_set(cause, "fd %d appears twice", sorted[i]);
				goto fail;
			}
		}
		free(sorted);
	}
	*out = fds;
	*outn = n;
	return 0;

fail:
	free(sorted);
	fds_free(fds, n);
	return -1;
}

void
img_vmas_encode(const struct img_vma *vmas, uint32_t n, struct buf *b)
{
	const struct img_vma	*v;
	uint32_t		 i;

	buf_add_u32(b, n);
	for (i = 0; i < n; i++) {
		v = &vmas[i];
		buf_add_u64(b, v->start);
		buf_add_u64(b, v->end);
		buf_add_u32(b, v->prot);
		buf_add_u32(b, v->flags);
		buf_add_u32(b, v->madv);
		buf_add_u64(b, v->pgoff);
		buf_add_u64(b, v->dev);
		buf_add_u64(b, v->ino);
		buf_add_u64(b, v->size);
		buf_add_u64(b, (uint64_t)v->mtime_ns);
		put_str_max(b, v->path, IMG_MAX_PATH + 1);	/* too long: refused on read */
		buf_add_u64(b, v->npages);
	}
}

#define IMG_VMA_ALLFLAGS	0x03ff

static void
vmas_free(struct img_vma *vmas, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		free(vmas[i].path);
	free(vmas);
}

int
img_vmas_decode(struct img_vma **out, uint32_t *outn, const void *p, size_t len,
    char **cause)
{
	struct img_vma	*vmas = NULL, *v;
	struct buf_rd	 r;
	uint32_t	 i, n;
	char		 field[64];

	buf_rd_init(&r, p, len);
	n = buf_rd_u32(&r);
	if (r.err)
		return rd_done(&r, len, cause);
	if (n > IMG_MAX_VMAS)
		return cause_set(cause, "%u vmas, more than %d", n, IMG_MAX_VMAS);
	if ((uint64_t)n * IMG_VMA_FIXED > buf_rd_left(&r)) {
		return cause_set(cause, "%u vmas do not fit in %zu bytes", n,
		    buf_rd_left(&r));
	}
	if (n != 0)
		vmas = xcalloc(n, sizeof *vmas);
	for (i = 0; i < n; i++) {
		v = &vmas[i];
		v->start = buf_rd_u64(&r);
		v->end = buf_rd_u64(&r);
		v->prot = buf_rd_u32(&r);
		v->flags = buf_rd_u32(&r);
		v->madv = buf_rd_u32(&r);
		v->pgoff = buf_rd_u64(&r);
		v->dev = buf_rd_u64(&r);
		v->ino = buf_rd_u64(&r);
		v->size = buf_rd_u64(&r);
		v->mtime_ns = (int64_t)buf_rd_u64(&r);
		snprintf(field, sizeof field, "vma %#llx: path",
		    (unsigned long long)v->start);
		if (rd_str(&r, IMG_MAX_PATH, 1, &v->path, field, cause) != 0)
			goto fail;
		v->npages = buf_rd_u64(&r);
		if (r.err)
			break;
		if (v->start >= v->end || v->start % IMG_X86_PAGE != 0 ||
		    v->end % IMG_X86_PAGE != 0) {
			cause_set(cause, "vma %u: bad range %#llx-%#llx", i,
			    (unsigned long long)v->start, (unsigned long long)v->end);
			goto fail;
		}
		if (i > 0 && v->start < vmas[i - 1].end) {
			cause_set(cause, "vma %#llx-%#llx overlaps or precedes "
			    "the one before it", (unsigned long long)v->start,
			    (unsigned long long)v->end);
			goto fail;
		}
		if ((v->prot & ~7u) != 0 || (v->flags & ~IMG_VMA_ALLFLAGS) != 0 ||
		    (v->madv & ~IMG_MADV_ALL) != 0) {
			cause_set(cause, "vma %#llx-%#llx: unknown %s %#x",
			    (unsigned long long)v->start, (unsigned long long)v->end,
			    (v->prot & ~7u) ? "prot" : (v->flags & ~IMG_VMA_ALLFLAGS) ?
			    "flags" : "madvise", (v->prot & ~7u) ? v->prot :
			    (v->flags & ~IMG_VMA_ALLFLAGS) ? v->flags : v->madv);
			goto fail;
		}
		if ((v->madv & IMG_MADV_LOCKONFAULT) && !(v->madv & IMG_MADV_LOCKED)) {
			cause_set(cause, "vma %#llx-%#llx: lock-on-fault without "
			    "lock", (unsigned long long)v->start,
			    (unsigned long long)v->end);
			goto fail;
		}
		if ((v->flags & IMG_VMA_FILE) && (v->path == NULL || v->path[0] != '/')) {
			cause_set(cause, "vma %#llx-%#llx: file mapping without an "
			    "absolute path", (unsigned long long)v->start,
			    (unsigned long long)v->end);
			goto fail;
		}
		if ((v->flags & IMG_VMA_MEMFD) && (!(v->flags & IMG_VMA_SHARED) ||
		    (v->flags & (IMG_VMA_FILE | IMG_VMA_FILE_PAGES)) ||
		    v->npages != 0)) {
			cause_set(cause, "vma %#llx-%#llx: a memfd mapping must be "
			    "shared, of no file, without pages",
			    (unsigned long long)v->start,
			    (unsigned long long)v->end);
			goto fail;
		}
		if (v->npages > (v->end - v->start) / IMG_X86_PAGE) {
			cause_set(cause, "vma %#llx-%#llx: %llu pages stored, more "
			    "than it spans", (unsigned long long)v->start,
			    (unsigned long long)v->end,
			    (unsigned long long)v->npages);
			goto fail;
		}
	}
	if (rd_done(&r, len, cause) != 0)
		goto fail;
	*out = vmas;
	*outn = n;
	return 0;

fail:
	vmas_free(vmas, n);
	return -1;
}

/*
 * PAGES: u32 count, u32 reserved, count u64 addresses, then the data. The
 * decoder borrows p: the result points into it.
 */
int
img_pages_decode(struct img_pages *out, uint32_t page_size, const void *p,
    size_t len, char **cause)
{
	const uint8_t	*b = p;
	uint32_t	 count, reserved, i;
	uint64_t	 addr;

	if (page_size == 0 || (page_size & (page_size - 1)) != 0)
		return cause_set(cause, "page size %u is not a power of two", page_size);
	if (len < IMG_PAGES_HDR)
		return cause_set(cause, "payload of %zu bytes is too short", len);
	count = le32dec(b);
	reserved = le32dec(b + 4);
	if (count == 0 || count > IMG_PAGES_PER_SECTION) {
		return cause_set(cause, "%u pages, expected 1 to %d", count,
		    IMG_PAGES_PER_SECTION);
	}
	if (reserved != 0)
		return cause_set(cause, "reserved field is %#x, not 0", reserved);
	if ((uint64_t)len != IMG_PAGES_HDR + (uint64_t)count * (8 + page_size)) {
		return cause_set(cause, "%zu bytes for %u pages of %u bytes", len,
		    count, page_size);
	}
	for (i = 0; i < count; i++) {
		addr = le64dec(b + IMG_PAGES_HDR + (size_t)i * 8);
		if ((addr & (page_size - 1)) != 0) {
			return cause_set(cause, "page address %#llx is not page "
			    "aligned", (unsigned long long)addr);
		}
	}
	out->count = count;
	out->addrs = b + IMG_PAGES_HDR;
	out->data = b + IMG_PAGES_HDR + (size_t)count * 8;
	return 0;
}

void
img_end_encode(const struct img_end *e, struct buf *b)
{
	buf_add_u64(b, e->nsections);
	buf_add_u64(b, e->npages);
}

int
img_end_decode(struct img_end *out, const void *p, size_t len, char **cause)
{
	struct buf_rd	r;
	struct img_end	e;

	buf_rd_init(&r, p, len);
	e.nsections = buf_rd_u64(&r);
	e.npages = buf_rd_u64(&r);
	if (rd_done(&r, len, cause) != 0)
		return -1;
	*out = e;
	return 0;
}

/* The metadata codecs over a whole struct img, for the writer and reader loops. */
static void
meta_header_enc(const struct img *img, struct buf *b)
{
	img_header_encode(&img->hdr, b);
}

static int
meta_header_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_header_decode(&img->hdr, p, len, cause);
}

static void
meta_proc_enc(const struct img *img, struct buf *b)
{
	img_proc_encode(&img->proc, b);
}

static int
meta_proc_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_proc_decode(&img->proc, p, len, cause);
}

static void
meta_regs_enc(const struct img *img, struct buf *b)
{
	img_regs_encode(&img->regs, b);
}

static int
meta_regs_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_regs_decode(&img->regs, p, len, cause);
}

static void
meta_signals_enc(const struct img *img, struct buf *b)
{
	img_signals_encode(&img->sig, b);
}

static int
meta_signals_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_signals_decode(&img->sig, p, len, cause);
}

static void
meta_timers_enc(const struct img *img, struct buf *b)
{
	img_timers_encode(&img->timers, b);
}

static int
meta_timers_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_timers_decode(&img->timers, p, len, cause);
}

static void
meta_fds_enc(const struct img *img, struct buf *b)
{
	img_fds_encode(img->fds, img->fds == NULL ? 0 : img->nfds, b);
}

static int
meta_fds_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_fds_decode(&img->fds, &img->nfds, p, len, cause);
}

static void
meta_vmas_enc(const struct img *img, struct buf *b)
{
	img_vmas_encode(img->vmas, img->vmas == NULL ? 0 : img->nvmas, b);
}

static int
meta_vmas_dec(struct img *img, const void *p, size_t len, char **cause)
{
	return img_vmas_decode(&img->vmas, &img->nvmas, p, len, cause);
}

const struct img_meta_codec img_meta_codecs[IMG_NMETA] = {
	{ IMG_SEC_HEADER, meta_header_enc, meta_header_dec },
	{ IMG_SEC_PROC, meta_proc_enc, meta_proc_dec },
	{ IMG_SEC_REGS, meta_regs_enc, meta_regs_dec },
	{ IMG_SEC_SIGNALS, meta_signals_enc, meta_signals_dec },
	{ IMG_SEC_TIMERS, meta_timers_enc, meta_timers_dec },
	{ IMG_SEC_FDS, meta_fds_enc, meta_fds_dec },
	{ IMG_SEC_VMAS, meta_vmas_enc, meta_vmas_dec },
};

/*
 * A pipe, FIFO, socket or terminal the image goes through may stall for
 * ever (a FIFO nobody reads): it is made non-blocking, so that each wait
 * for it is a poll with a limit. A regular file never stalls that way and
 * is left alone (-1: no limit). Returns the limit to use.
 */
int
img_fd_nonblock(int fd, int ms)
{
	struct stat	st;
	int		fl;

	if (ms < 0 || fstat(fd, &st) == -1 || S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode))
		return -1;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1))
		return -1;
	return ms;
}
