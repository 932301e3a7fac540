/* migwire.c: the messages of a migration connection, encoded and checked. */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>

#include "omm/buf.h"
#include "omm/log.h"
#include "omm/migwire.h"
#include "omm/wire.h"

#define PAGE_MASK	4095ULL

static const char *mig_refuse_names[MIG_REFUSE_NREASONS] = {
	[MIG_REFUSE_BLOCKED] = "host blocks arriving processes",
	[MIG_REFUSE_CPU] = "host lacks a CPU feature",
	[MIG_REFUSE_KERNEL] = "host runs another kernel",
	[MIG_REFUSE_NOGUEST] = "host has no omm-guest user",
	[MIG_REFUSE_LIMIT] = "host is at its guest limit",
	[MIG_REFUSE_PROTOCOL] = "malformed offer",
	[MIG_REFUSE_INTERNAL] = "host failed",
	[MIG_REFUSE_NODE] = "wrong node",
	[MIG_REFUSE_SHUTDOWN] = "host is shutting down",
	[MIG_REFUSE_MEMORY] = "host cannot hold its memory",
};

static const char *mig_bring_names[MIG_BRING_NREASONS] = {
	[MIG_BRING_ASKED] = "asked",
	[MIG_BRING_MOVE] = "moving on",
	[MIG_BRING_SHUTDOWN] = "home shuts down",
};

static const char *mig_leave_names[MIG_LEAVE_NREASONS] = {
	[MIG_LEAVE_ASKED] = "asked",
	[MIG_LEAVE_SYSCALL] = "a system call needs home",
	[MIG_LEAVE_SHUTDOWN] = "host shuts down",
	[MIG_LEAVE_MEMORY] = "host short of memory",
	[MIG_LEAVE_MEMLIMIT] = "over its memory limit on the host",
};

#define NAME_OF(tab, i)							\
	((i) < sizeof (tab) / sizeof (tab)[0] && (tab)[i] != NULL ?	\
	(tab)[i] : "unknown")

const char *
mig_refuse_name(uint16_t r)
{
	return NAME_OF(mig_refuse_names, r);
}

const char *
mig_bring_name(uint32_t r)
{
	return NAME_OF(mig_bring_names, r);
}

const char *
mig_leave_name(uint32_t r)
{
	return NAME_OF(mig_leave_names, r);
}

/* A string of ours: NUL-terminated inside size, at most max bytes. */
static void
put_str(struct buf *b, const char *s, size_t size, const char *what)
{
	const char	*end;

	if ((end = memchr(s, '\0', size)) == NULL)
		fatalx("%s: unterminated %s", __func__, what);
	buf_add_u16(b, (uint16_t)(end - s));
	buf_add(b, s, (size_t)(end - s));
}

/* Read a u16-length string of min..size-1 bytes into out. */
static int
get_str(struct buf_rd *r, char *out, size_t size, size_t min,
    const char *what, char **cause)
{
	const char	*p;
	uint16_t	 n;

	out[0] = '\0';
	n = buf_rd_u16(r);
	if (r->err)
		return cause_set(cause, "truncated at %s", what);
	if (n >= size)
		return cause_set(cause, "%s of %u bytes, at most %zu", what, n,
		    size - 1);
	if (n < min)
		return cause_set(cause, n == 0 ? "empty %s" :
		    "%s too short", what);
	if ((p = buf_rd_ptr(r, n)) == NULL)
		return cause_set(cause, "truncated in %s", what);
	if (memchr(p, '\0', n) != NULL)
		return cause_set(cause, "%s holds a NUL byte", what);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* The payload was read to its end, exactly. */
static int
rd_end(struct buf_rd *r, const char *what, char **cause)
{
	if (r->err)
		return cause_set(cause, "truncated %s", what);
	if (buf_rd_left(r) != 0)
		return cause_set(cause, "%zu bytes after %s", buf_rd_left(r),
		    what);
	return 0;
}

/* Strings must fit and be terminated before the checks of each message. */
static int
str_ok(const char *s, size_t size, size_t min, const char *what,
    char **cause)
{
	const char	*end = memchr(s, '\0', size);

	if (end == NULL)
		return cause_set(cause, "%s not terminated", what);
	if ((size_t)(end - s) < min)
		return cause_set(cause, "empty %s", what);
	return 0;
}

static int
check_signo(int32_t signo, const char *what, char **cause)
{
	if (signo < 1 || signo > MIG_SIG_MAX)
		return cause_set(cause, "%s signal %d", what, signo);
	return 0;
}

static int
check_offer(const struct mig_offer *o, char **cause)
{
	if (o->home_node == 0)
		return cause_set(cause, "offer from node 0");
	if (o->home_incarnation == 0)
		return cause_set(cause, "offer of incarnation 0");
	if (o->home_pid <= 0)
		return cause_set(cause, "offer of pid %d", o->home_pid);
	if (o->uid == (uint32_t)-1 || o->gid == (uint32_t)-1)
		return cause_set(cause, "offer of uid %u gid %u", o->uid,
		    o->gid);
	if (str_ok(o->comm, sizeof o->comm, 0, "comm", cause) != 0 ||
	    str_ok(o->need.model, sizeof o->need.model, 0, "CPU model",
	    cause) != 0 ||
	    str_ok(o->kernel, sizeof o->kernel, 1, "kernel release",
	    cause) != 0)
		return -1;
	if (o->need.xsave_size > MIG_XSAVE_MAX)
		return cause_set(cause, "offer needs an xsave area of %u "
		    "bytes", o->need.xsave_size);
	if ((o->vdso_len & PAGE_MASK) != 0 || o->vdso_len >= MIG_VDSO_MAX)
		return cause_set(cause, "offer of a vDSO of %llu bytes",
		    (unsigned long long)o->vdso_len);
	if ((o->vvar_len & PAGE_MASK) != 0 || o->vvar_len >= MIG_VDSO_MAX)
		return cause_set(cause, "offer of a vvar of %llu bytes",
		    (unsigned long long)o->vvar_len);
	if (o->flags & ~MIG_OFFER_FLAGS)
		return cause_set(cause, "offer flags 0x%x",
		    o->flags & ~MIG_OFFER_FLAGS);
	return 0;
}

void
migwire_encode_offer(struct buf *b, const struct mig_offer *o)
{
	char	*why = NULL;
	size_t	 off, i;

	if (check_offer(o, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_OFFER);
	buf_add_u32(b, o->home_node);
	buf_add_u64(b, o->home_incarnation);
	buf_add_u32(b, (uint32_t)o->home_pid);
	buf_add_u32(b, o->uid);
	buf_add_u32(b, o->gid);
	put_str(b, o->comm, sizeof o->comm, "comm");
	buf_add_u64(b, o->image_bytes);
	buf_add_u8(b, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		buf_add_u32(b, o->need.word[i]);
	buf_add_u64(b, o->need.xcr0);
	buf_add_u32(b, o->need.xsave_size);
	put_str(b, o->need.model, sizeof o->need.model, "CPU model");
	put_str(b, o->kernel, sizeof o->kernel, "kernel release");
	buf_add_u64(b, o->vdso_len);
	buf_add_u64(b, o->vvar_len);
	buf_add_u32(b, o->flags);
	wire_frame_end(b, off);
}

int
migwire_decode_offer(const uint8_t *p, size_t len, struct mig_offer *o,
    char **cause)
{
	struct buf_rd	r;
	uint8_t		nwords;
	size_t		i;

	memset(o, 0, sizeof *o);
	buf_rd_init(&r, p, len);
	o->home_node = buf_rd_u32(&r);
	o->home_incarnation = buf_rd_u64(&r);
	o->home_pid = (int32_t)buf_rd_u32(&r);
	o->uid = buf_rd_u32(&r);
	o->gid = buf_rd_u32(&r);
	if (get_str(&r, o->comm, sizeof o->comm, 0, "comm", cause) != 0)
		return -1;
	o->image_bytes = buf_rd_u64(&r);
	nwords = buf_rd_u8(&r);
	if (r.err)
		return cause_set(cause, "truncated MIG_OFFER");
	/* The word list is fixed per wire version. */
	if (nwords != CPUW_NWORDS)
		return cause_set(cause, "%u CPU feature words, expected %u",
		    nwords, CPUW_NWORDS);
	for (i = 0; i < CPUW_NWORDS; i++)
		o->need.word[i] = buf_rd_u32(&r);
	o->need.xcr0 = buf_rd_u64(&r);
	o->need.xsave_size = buf_rd_u32(&r);
	if (get_str(&r, o->need.model, sizeof o->need.model, 0, "CPU model",
	    cause) != 0)
		return -1;
	if (get_str(&r, o->kernel, sizeof o->kernel, 1, "kernel release",
	    cause) != 0)
		return -1;
	o->vdso_len = buf_rd_u64(&r);
	o->vvar_len = buf_rd_u64(&r);
	o->flags = buf_rd_u32(&r);
	if (rd_end(&r, "MIG_OFFER", cause) != 0)
		return -1;
	return check_offer(o, cause);
}

static int
check_accept(const struct mig_accept *a, char **cause)
{
	if (a->host_node == 0)
		return cause_set(cause, "accepted by node 0");
	if (a->flags != 0)
		return cause_set(cause, "MIG_ACCEPT flags 0x%x", a->flags);
	return 0;
}

void
migwire_encode_accept(struct buf *b, const struct mig_accept *a)
{
	char	*why = NULL;
	size_t	 off;

	if (check_accept(a, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_ACCEPT);
	buf_add_u32(b, a->host_node);
	buf_add_u32(b, a->flags);
	wire_frame_end(b, off);
}

int
migwire_decode_accept(const uint8_t *p, size_t len, struct mig_accept *a,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	a->host_node = buf_rd_u32(&r);
	a->flags = buf_rd_u32(&r);
	if (rd_end(&r, "MIG_ACCEPT", cause) != 0)
		return -1;
	return check_accept(a, cause);
}

static int
check_refuse(const struct mig_refuse *m, char **cause)
{
	if (m->reason == 0 || m->reason >= MIG_REFUSE_NREASONS)
		return cause_set(cause, "MIG_REFUSE reason %u", m->reason);
	return str_ok(m->text, sizeof m->text, 0, "MIG_REFUSE text", cause);
}

void
migwire_encode_refuse(struct buf *b, const struct mig_refuse *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_refuse(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_REFUSE);
	buf_add_u16(b, m->reason);
	put_str(b, m->text, sizeof m->text, "text");
	wire_frame_end(b, off);
}

int
migwire_decode_refuse(const uint8_t *p, size_t len, struct mig_refuse *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	buf_rd_init(&r, p, len);
	m->reason = buf_rd_u16(&r);
	if (r.err)
		return cause_set(cause, "truncated MIG_REFUSE");
	if (m->reason == 0 || m->reason >= MIG_REFUSE_NREASONS)
		return cause_set(cause, "MIG_REFUSE reason %u", m->reason);
	if (get_str(&r, m->text, sizeof m->text, 0, "MIG_REFUSE text",
	    cause) != 0)
		return -1;
	return rd_end(&r, "MIG_REFUSE", cause);
}

void
migwire_encode_image_end(struct buf *b, const struct mig_image_end *m)
{
	size_t	off;

	off = wire_frame_begin(b, WIRE_MIG_IMAGE_END);
	buf_add_u64(b, m->total_bytes);
	wire_frame_end(b, off);
}

/* Any total is possible (the receiver compares it with what it counted). */
int
migwire_decode_image_end(const uint8_t *p, size_t len,
    struct mig_image_end *m, char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->total_bytes = buf_rd_u64(&r);
	return rd_end(&r, "MIG_IMAGE_END", cause);
}

static int
check_ready(const struct mig_ready *m, char **cause)
{
	if (m->guest_pid <= 0)
		return cause_set(cause, "MIG_READY of guest pid %d",
		    m->guest_pid);
	if (m->flags & ~MIG_READY_FLAGS)
		return cause_set(cause, "MIG_READY flags 0x%x",
		    m->flags & ~MIG_READY_FLAGS);
	return 0;
}

void
migwire_encode_ready(struct buf *b, const struct mig_ready *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_ready(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_READY);
	buf_add_u32(b, (uint32_t)m->guest_pid);
	buf_add_u32(b, m->flags);
	wire_frame_end(b, off);
}

int
migwire_decode_ready(const uint8_t *p, size_t len, struct mig_ready *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->guest_pid = (int32_t)buf_rd_u32(&r);
	m->flags = buf_rd_u32(&r);
	if (rd_end(&r, "MIG_READY", cause) != 0)
		return -1;
	return check_ready(m, cause);
}

void
migwire_encode_fail(struct buf *b, const struct mig_fail *m)
{
	char	*why = NULL;
	size_t	 off;

	if (str_ok(m->text, sizeof m->text, 1, "MIG_FAIL text", &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_FAIL);
	put_str(b, m->text, sizeof m->text, "text");
	wire_frame_end(b, off);
}

int
migwire_decode_fail(const uint8_t *p, size_t len, struct mig_fail *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	buf_rd_init(&r, p, len);
	if (get_str(&r, m->text, sizeof m->text, 1, "MIG_FAIL text",
	    cause) != 0)
		return -1;
	return rd_end(&r, "MIG_FAIL", cause);
}

void
migwire_encode_signal(struct buf *b, const struct guest_signal *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_signo(m->signo, "GUEST_SIGNAL", &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_SIGNAL);
	buf_add_u32(b, (uint32_t)m->signo);
	buf_add_u32(b, (uint32_t)m->code);
	buf_add_u32(b, (uint32_t)m->pid);
	buf_add_u32(b, m->uid);
	buf_add_u64(b, m->value);
	wire_frame_end(b, off);
}

int
migwire_decode_signal(const uint8_t *p, size_t len, struct guest_signal *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->signo = (int32_t)buf_rd_u32(&r);
	m->code = (int32_t)buf_rd_u32(&r);
	m->pid = (int32_t)buf_rd_u32(&r);
	m->uid = buf_rd_u32(&r);
	m->value = buf_rd_u64(&r);
	if (rd_end(&r, "GUEST_SIGNAL", cause) != 0)
		return -1;
	return check_signo(m->signo, "GUEST_SIGNAL", cause);
}

/*
 * A wait status as the kernel makes it for an ended process: exited (the
 * code in bits 8-15, nothing else) or killed (the signal in bits 0-6,
 * maybe the core flag 0x80, nothing else). One encoding per ending, so
 * home can end P exactly so.
 */
static int
check_exit(const struct guest_exit *m, char **cause)
{
	uint32_t	st = (uint32_t)m->wstatus;

	if ((st & ~0xff00U) == 0)
		return 0;			/* WIFEXITED */
	if ((st & ~0xffU) == 0 && (st & 0x7f) >= 1 &&
	    (st & 0x7f) <= MIG_SIG_MAX)
		return 0;			/* WIFSIGNALED */
	return cause_set(cause, "GUEST_EXIT of wait status 0x%x: not an "
	    "exit or a death by signal", st);
}

void
migwire_encode_exit(struct buf *b, const struct guest_exit *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_exit(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_EXIT);
	buf_add_u32(b, (uint32_t)m->wstatus);
	wire_frame_end(b, off);
}

int
migwire_decode_exit(const uint8_t *p, size_t len, struct guest_exit *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->wstatus = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, "GUEST_EXIT", cause) != 0)
		return -1;
	return check_exit(m, cause);
}

static int
check_bring(const struct guest_bring *m, char **cause)
{
	if (m->reason == 0 || m->reason >= MIG_BRING_NREASONS)
		return cause_set(cause, "GUEST_BRING reason %u", m->reason);
	return 0;
}

void
migwire_encode_bring(struct buf *b, const struct guest_bring *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_bring(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_BRING);
	buf_add_u32(b, m->reason);
	wire_frame_end(b, off);
}

int
migwire_decode_bring(const uint8_t *p, size_t len, struct guest_bring *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->reason = buf_rd_u32(&r);
	if (rd_end(&r, "GUEST_BRING", cause) != 0)
		return -1;
	return check_bring(m, cause);
}

static int
check_leaving(const struct guest_leaving *m, char **cause)
{
	if (m->why == 0 || m->why >= MIG_LEAVE_NREASONS)
		return cause_set(cause, "GUEST_LEAVING reason %u", m->why);
	if (m->nr < -1 || m->nr > MIG_NR_MAX)
		return cause_set(cause, "GUEST_LEAVING for syscall %d", m->nr);
	if (m->why == MIG_LEAVE_SYSCALL && m->nr == -1)
		return cause_set(cause, "GUEST_LEAVING for a syscall without "
		    "its number");
	return 0;
}

void
migwire_encode_leaving(struct buf *b, const struct guest_leaving *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_leaving(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_LEAVING);
	buf_add_u32(b, m->why);
	buf_add_u32(b, (uint32_t)m->nr);
	wire_frame_end(b, off);
}

int
migwire_decode_leaving(const uint8_t *p, size_t len, struct guest_leaving *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->why = buf_rd_u32(&r);
	m->nr = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, "GUEST_LEAVING", cause) != 0)
		return -1;
	return check_leaving(m, cause);
}

void
migwire_encode_stopped(struct buf *b, const struct guest_stopped *m)
{
	char	*why = NULL;
	size_t	 off;

	if (check_signo(m->signo, "GUEST_STOPPED", &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_STOPPED);
	buf_add_u32(b, (uint32_t)m->signo);
	wire_frame_end(b, off);
}

int
migwire_decode_stopped(const uint8_t *p, size_t len, struct guest_stopped *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->signo = (int32_t)buf_rd_u32(&r);
	if (rd_end(&r, "GUEST_STOPPED", cause) != 0)
		return -1;
	return check_signo(m->signo, "GUEST_STOPPED", cause);
}

void
migwire_encode_usage(struct buf *b, const struct guest_usage *m)
{
	size_t	off;

	off = wire_frame_begin(b, WIRE_GUEST_USAGE);
	buf_add_u64(b, m->cpu_ns);
	buf_add_u64(b, m->rss);
	buf_add_u32(b, m->host_cpus_milli);
	buf_add_u32(b, m->host_load);
	wire_frame_end(b, off);
}

int
migwire_decode_usage(const uint8_t *p, size_t len, struct guest_usage *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->cpu_ns = buf_rd_u64(&r);
	m->rss = buf_rd_u64(&r);
	m->host_cpus_milli = buf_rd_u32(&r);
	m->host_load = buf_rd_u32(&r);
	return rd_end(&r, "GUEST_USAGE", cause);
}

void
migwire_encode_landed(struct buf *b, const struct guest_landed *m)
{
	size_t	off;

	off = wire_frame_begin(b, WIRE_GUEST_LANDED);
	buf_add_u32(b, m->node);
	wire_frame_end(b, off);
}

int
migwire_decode_landed(const uint8_t *p, size_t len, struct guest_landed *m,
    char **cause)
{
	struct buf_rd	r;

	buf_rd_init(&r, p, len);
	m->node = buf_rd_u32(&r);
	return rd_end(&r, "GUEST_LANDED", cause);
}

void
migwire_encode_stay(struct buf *b, const struct guest_stay *m)
{
	char	*why = NULL;
	size_t	 off;

	if (str_ok(m->text, sizeof m->text, 1, "GUEST_STAY text", &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_GUEST_STAY);
	put_str(b, m->text, sizeof m->text, "text");
	wire_frame_end(b, off);
}

int
migwire_decode_stay(const uint8_t *p, size_t len, struct guest_stay *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	buf_rd_init(&r, p, len);
	if (get_str(&r, m->text, sizeof m->text, 1, "GUEST_STAY text",
	    cause) != 0)
		return -1;
	return rd_end(&r, "GUEST_STAY", cause);
}

static int
file_req_ok(const struct mig_file_req *m, char **cause)
{
	if (str_ok(m->path, sizeof m->path, 2, "MIG_FILE_REQ path", cause) != 0)
		return -1;
	if (m->path[0] != '/')
		return cause_set(cause, "MIG_FILE_REQ path is not absolute");
	if (m->seq == 0)
		return cause_set(cause, "MIG_FILE_REQ seq 0");
	if (m->len == 0 || m->len > MIG_IMAGE_CHUNK)
		return cause_set(cause, "MIG_FILE_REQ len %u, expected 1 to %u",
		    m->len, MIG_IMAGE_CHUNK);
	if (m->off > m->size || m->mtime_ns < 0)
		return cause_set(cause, "MIG_FILE_REQ offset %llu past size "
		    "%llu, or mtime %lld", (unsigned long long)m->off,
		    (unsigned long long)m->size, (long long)m->mtime_ns);
	return 0;
}

void
migwire_encode_file_req(struct buf *b, const struct mig_file_req *m)
{
	char	*why = NULL;
	size_t	 off;

	if (file_req_ok(m, &why) != 0)
		fatalx("%s: %s", __func__, why);
	off = wire_frame_begin(b, WIRE_MIG_FILE_REQ);
	buf_add_u64(b, m->seq);
	buf_add_u64(b, m->dev);
	buf_add_u64(b, m->ino);
	buf_add_u64(b, m->size);
	buf_add_u64(b, (uint64_t)m->mtime_ns);
	buf_add_u64(b, m->off);
	buf_add_u32(b, m->len);
	put_str(b, m->path, sizeof m->path, "path");
	wire_frame_end(b, off);
}

int
migwire_decode_file_req(const uint8_t *p, size_t len, struct mig_file_req *m,
    char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	buf_rd_init(&r, p, len);
	m->seq = buf_rd_u64(&r);
	m->dev = buf_rd_u64(&r);
	m->ino = buf_rd_u64(&r);
	m->size = buf_rd_u64(&r);
	m->mtime_ns = (int64_t)buf_rd_u64(&r);
	m->off = buf_rd_u64(&r);
	m->len = buf_rd_u32(&r);
	if (get_str(&r, m->path, sizeof m->path, 2, "MIG_FILE_REQ path",
	    cause) != 0)
		return -1;
	if (rd_end(&r, "MIG_FILE_REQ", cause) != 0)
		return -1;
	return file_req_ok(m, cause);
}

void
migwire_encode_file_data(struct buf *b, const struct mig_file_data *m)
{
	size_t	off;

	if (m->len > MIG_IMAGE_CHUNK || (m->err != 0 && m->len != 0) ||
	    m->err < 0 || m->err > 4095 || m->seq == 0)
		fatalx("%s: err %d with %u bytes", __func__, m->err, m->len);
	off = wire_frame_begin(b, WIRE_MIG_FILE_DATA);
	buf_add_u64(b, m->seq);
	buf_add_u32(b, (uint32_t)m->err);
	if (m->len > 0)
		buf_add(b, m->data, m->len);
	wire_frame_end(b, off);
}

int
migwire_decode_file_data(const uint8_t *p, size_t len,
    struct mig_file_data *m, char **cause)
{
	struct buf_rd	r;

	memset(m, 0, sizeof *m);
	if (len < MIG_FILE_DATA_MIN || len > MIG_FILE_DATA_MAX)
		return cause_set(cause, "MIG_FILE_DATA of %zu bytes", len);
	buf_rd_init(&r, p, len);
	m->seq = buf_rd_u64(&r);
	m->err = (int32_t)buf_rd_u32(&r);
	m->data = p + MIG_FILE_DATA_MIN;
	m->len = (uint32_t)(len - MIG_FILE_DATA_MIN);
	if (m->seq == 0)
		return cause_set(cause, "MIG_FILE_DATA seq 0");
	if (m->err < 0 || m->err > 4095 || (m->err != 0 && m->len != 0))
		return cause_set(cause, "MIG_FILE_DATA errno %d with %u bytes",
		    m->err, m->len);
	return 0;
}

/*
 * The frames with bytes for payload: MIG_IMAGE (1..MIG_IMAGE_CHUNK bytes,
 * pointed at) and PING (none).
 */
static int
decode_image(const uint8_t *p, size_t len, struct mig_msg *m, char **cause)
{
	if (len == 0 || len > MIG_IMAGE_CHUNK)
		return cause_set(cause, "MIG_IMAGE of %zu bytes, expected 1 "
		    "to %u", len, MIG_IMAGE_CHUNK);
	m->image.data = p;
	m->image.len = len;
	return 0;
}

static int
decode_ping(const uint8_t *p, size_t len, struct mig_msg *m, char **cause)
{
	if (len != 0)
		return cause_set(cause, "PING of %zu bytes", len);
	return 0;
}

/* Adapters from the table to each decoder's own struct. */
#define ADAPT(fn, member)						\
static int								\
dec_##fn(const uint8_t *p, size_t len, struct mig_msg *m, char **cause) \
{									\
	return migwire_decode_##fn(p, len, &m->member, cause);		\
}
ADAPT(offer, offer)
ADAPT(accept, accept)
ADAPT(refuse, refuse)
ADAPT(image_end, image_end)
ADAPT(ready, ready)
ADAPT(fail, fail)
ADAPT(signal, signal)
ADAPT(exit, exit)
ADAPT(bring, bring)
ADAPT(leaving, leaving)
ADAPT(stopped, stopped)
ADAPT(usage, usage)
ADAPT(landed, landed)
ADAPT(stay, stay)
ADAPT(file_req, file_req)
ADAPT(file_data, file_data)

/* The decoder of each type of the block, by type - WIRE_MIG_OFFER. */
static int (*const mig_decoders[])(const uint8_t *, size_t, struct mig_msg *,
    char **) = {
	[WIRE_MIG_OFFER - WIRE_MIG_OFFER] = dec_offer,
	[WIRE_MIG_ACCEPT - WIRE_MIG_OFFER] = dec_accept,
	[WIRE_MIG_REFUSE - WIRE_MIG_OFFER] = dec_refuse,
	[WIRE_MIG_IMAGE - WIRE_MIG_OFFER] = decode_image,
	[WIRE_MIG_IMAGE_END - WIRE_MIG_OFFER] = dec_image_end,
	[WIRE_MIG_READY - WIRE_MIG_OFFER] = dec_ready,
	[WIRE_MIG_FAIL - WIRE_MIG_OFFER] = dec_fail,
	[WIRE_GUEST_SIGNAL - WIRE_MIG_OFFER] = dec_signal,
	[WIRE_GUEST_EXIT - WIRE_MIG_OFFER] = dec_exit,
	[WIRE_GUEST_BRING - WIRE_MIG_OFFER] = dec_bring,
	[WIRE_GUEST_LEAVING - WIRE_MIG_OFFER] = dec_leaving,
	[WIRE_GUEST_STOPPED - WIRE_MIG_OFFER] = dec_stopped,
	[WIRE_PING - WIRE_MIG_OFFER] = decode_ping,
	[WIRE_GUEST_USAGE - WIRE_MIG_OFFER] = dec_usage,
	[WIRE_GUEST_LANDED - WIRE_MIG_OFFER] = dec_landed,
	[WIRE_GUEST_STAY - WIRE_MIG_OFFER] = dec_stay,
	[WIRE_MIG_FILE_REQ - WIRE_MIG_OFFER] = dec_file_req,
	[WIRE_MIG_FILE_DATA - WIRE_MIG_OFFER] = dec_file_data,
};

int
migwire_decode(const struct wire_hdr *h, const uint8_t *payload,
    struct mig_msg *m, char **cause)
{
	size_t	i;

	if (h->version != OMM_WIRE_VERSION)
		return cause_set(cause, "peer speaks wire version %u, we speak "
		    "%u", h->version, OMM_WIRE_VERSION);
	i = (size_t)h->type - WIRE_MIG_OFFER;
	if (h->type < WIRE_MIG_OFFER ||
	    i >= sizeof mig_decoders / sizeof mig_decoders[0])
		return cause_set(cause, "%s (type %u) is not a migration "
		    "message", wire_type_name(h->type), h->type);
	m->type = h->type;
	return mig_decoders[i](payload, h->len, m, cause);
}
