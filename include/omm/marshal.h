/*
 * marshal.h: a forwarded system call as bytes, both ways.
 *
 * The remote side reads the guest's pointer arguments out of its memory as
 * the table (sysent.h) describes them and encodes a SYSCALL_REQ; home
 * decodes it, checking every buffer against the table, runs it (deputy.c)
 * and encodes a SYSCALL_REP with the buffers the kernel wrote; the remote
 * decodes that, again checked against what the request allowed, and writes
 * the buffers back into the guest. A reply can only be read against its
 * request: the request says which buffers may come back and how long each
 * may be.
 *
 * These are payloads of the node protocol's 300 block; wire.c frames them.
 * Integers are little-endian. Buffer bytes are the guest's memory as is:
 * both ends are x86-64. Request payload:
 *
 *   u64 seq | u32 nr | 6 x u64 arg | u32 nbuf | nbuf x buffer
 *   buffer: u8 arg | u8 part | u16 elem | u32 len | len bytes if read by the kernel
 *
 * Reply payload:
 *
 *   u64 seq | i64 ret | u8 sig | u32 nbuf | nbuf x (u8 arg | u8 part | u16 elem |
 *   u32 len | len bytes)
 *
 * with one entry per buffer the kernel may write, in request order, when
 * the call succeeded, and none when it failed (ret in -4095..-1).
 * docs/syscalls.md has the details and the fd-info messages.
 */
#ifndef OMM_MARSHAL_H
#define OMM_MARSHAL_H

#include <sys/types.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include "omm/buf.h"
#include "omm/sysent.h"

/* Message types of the node protocol's system call block. */
enum marshal_type {
	MARSHAL_SYSCALL_REQ = 300,	/* remote -> home: run this call */
	MARSHAL_SYSCALL_REP = 301,	/* home -> remote: its result */
	MARSHAL_FDINFO_REQ = 302,	/* remote -> home: what is behind this fd */
	MARSHAL_FDINFO_REP = 303,
	MARSHAL_FDDATA_REQ = 304,	/* remote -> home: bytes of the file of an fd */
	MARSHAL_FDDATA_REP = 305,
	MARSHAL_SYSCALL_LOCAL = 306,	/* home -> remote: the call is on the
					   process's own /proc: serve it there */
};

/* Bound of every payload of the block (a 1 MiB transfer plus its framing). */
#define MARSHAL_MSG_MAX		(SYSENT_IO_MAX + (128U << 10))
/* Bytes of one FDDATA reply. */
#define MARSHAL_DATA_MAX	SYSENT_IO_MAX
/* Buffers of one call: an iovec array in a msghdr and its three parts. */
#define MARSHAL_MAXBUF		(SYSENT_IOV_MAX + 8)
/* Longest control buffer of a sendmsg/recvmsg. */
#define MARSHAL_CONTROL_MAX	(64U << 10)

/* Parts of an argument. */
enum sysbuf_part {
	SBP_ARG = 0,		/* the argument's buffer itself */
	SBP_IOV,		/* one element of an iovec array (elem: its index) */
	SBP_MSGHDR,		/* the struct msghdr of sendmsg/recvmsg */
	SBP_NAME,		/* msg_name */
	SBP_CONTROL,		/* msg_control */
};

#define SBD_IN		0x01	/* the kernel reads it: the bytes go home */
#define SBD_OUT		0x02	/* the kernel writes it: the bytes come back */

/* x86-64 struct msghdr, as bytes. */
#define MSGHDR_LEN		56
#define MSGHDR_NAME		0
#define MSGHDR_NAMELEN		8
#define MSGHDR_IOV		16
#define MSGHDR_IOVLEN		24
#define MSGHDR_CONTROL		32
#define MSGHDR_CONTROLLEN	40
#define MSGHDR_FLAGS		48

/* One buffer of a forwarded call. */
struct sysbuf {
	uint8_t		 arg;		/* the argument it belongs to */
	uint8_t		 part;		/* enum sysbuf_part */
	uint8_t		 dir;		/* SBD_* */
	uint16_t	 elem;		/* SBP_IOV: index in the array */
	uint32_t	 len;		/* bytes */
	uint64_t	 addr;		/* guest address (remote side) */
	const uint8_t	*in;		/* home side: bytes in, inside the request */
};

/* A forwarded call: built on the remote by marshal_request, at home by decoding. */
struct sysreq {
	uint64_t		 seq;
	int			 nr;
	uint64_t		 arg[SYSENT_NARGS];	/* lengths as clamped */
	const struct sysent	*ent;		/* the entry (or variant) it follows */
	size_t			 nbuf;
	struct sysbuf		*buf;		/* heap */
};

/* The written bytes of one buffer in a reply. */
struct sysrep_buf {
	uint32_t	 len;
	const uint8_t	*data;
};

/* The result of a call: ret, a signal the call raised, the buffers written. */
struct sysrep {
	uint64_t		 seq;
	int64_t			 ret;		/* value, or -errno */
	uint8_t			 sig;		/* 0, SIGPIPE or SIGXFSZ */
	size_t			 nbuf;		/* == the request's nbuf */
	struct sysrep_buf	*buf;		/* heap; len 0 for buffers not written */
};

/* Is a system call return value an error (-4095..-1)? */
#define SYSRET_ERR(r)	((uint64_t)(r) >= (uint64_t)-4095)

/*
 * Read len bytes of guest memory at addr: the bytes read, fewer at an
 * unmapped page, or -1.
 */
typedef ssize_t	(*marshal_read_fn)(void *ctx, uint64_t addr, void *, size_t);
/* Write len bytes into guest memory at addr: 0, or -1 if not all could be. */
typedef int	(*marshal_write_fn)(void *ctx, uint64_t addr, const void *, size_t);

void	sysreq_free(struct sysreq *);
void	sysrep_free(struct sysrep *);

/*
 * Remote side: encode a HOME call with its buffers read from guest memory,
 * appending the payload to out and describing it in req. Returns 0, or an
 * errno to answer the guest with at once, the call not sent: EFAULT for
 * memory that cannot be read, the argument's error for a length over its
 * cap (EINVAL, ENAMETOOLONG, E2BIG), ENOSYS for a call that does not go home.
 */
int	marshal_request(struct sysreq *req, uint64_t seq, int nr,
	    const uint64_t args[SYSENT_NARGS], marshal_read_fn, void *ctx,
	    struct buf *out, char **cause) __attribute__((warn_unused_result));

/*
 * Home side: decode a request, checking that the call goes home and that its
 * buffers are exactly those the table describes for its arguments. The
 * buffers point into p, which must outlive req.
 */
int	marshal_decode_request(const uint8_t *p, size_t n, struct sysreq *,
	    char **cause) __attribute__((warn_unused_result));

/*
 * Home side: encode the reply to req. rep->buf[i].data points at what the
 * kernel wrote for buffer i (any buffer with SBD_OUT), rep->ret and
 * rep->sig are set; the lengths sent follow from ret and the table.
 */
void	marshal_encode_reply(const struct sysreq *, const struct sysrep *,
	    struct buf *out);

/*
 * Remote side: decode a reply against its request: the same seq, an error
 * ret carries no buffer, and each written buffer has exactly the length
 * the request and ret allow. The data points into p.
 */
int	marshal_decode_reply(const struct sysreq *, const uint8_t *p, size_t n,
	    struct sysrep *, char **cause) __attribute__((warn_unused_result));

/*
 * Remote side: write a decoded reply's buffers into the guest. Returns 0, or
 * EFAULT when the guest's memory could not take them.
 */
int	marshal_apply_reply(const struct sysreq *, const struct sysrep *,
	    marshal_write_fn, void *ctx, char **cause)
	    __attribute__((warn_unused_result));

/*
 * File mappings (SY_FMAP): before mapping a home fd the remote asks home
 * what is behind it, then maps an identical local file or a copy fetched
 * with FDDATA.
 */
#define FDINFO_DIGEST_LEN	32	/* SHA-256 */

enum fdinfo_type {
	FDI_REG = 1,		/* a regular file */
	FDI_ZERO,		/* /dev/zero: maps as anonymous memory */
	FDI_OTHER,		/* anything else: cannot be mapped remotely */
};

struct fdinfo_req {
	uint64_t	seq;
	int32_t		fd;
	uint64_t	off;		/* the range the guest maps */
	uint64_t	len;
};

struct fdinfo {
	uint64_t	seq;
	int32_t		err;		/* 0, or the errno (EBADF) */
	uint8_t		type;		/* enum fdinfo_type */
	uint32_t	accmode;	/* O_RDONLY, O_WRONLY or O_RDWR */
	uint32_t	mode;		/* st_mode */
	uint64_t	size;
	int64_t		mtime_sec;
	uint32_t	mtime_nsec;
	/* identity at home: a copy mapped away names it when it comes home */
	uint64_t	dev, ino;
	/* SHA-256 of the bytes [off, min(off + len, size)) */
	uint8_t		digest[FDINFO_DIGEST_LEN];
	char		path[SYSENT_PATH_MAX];	/* as home sees it; may be "" */
};

struct fddata_req {
	uint64_t	seq;
	int32_t		fd;
	uint64_t	off;
	uint32_t	len;		/* 1..MARSHAL_DATA_MAX */
};

struct fddata {
	uint64_t	 seq;
	int32_t		 err;
	uint32_t	 len;		/* <= the request's len; 0 at end of file */
	const uint8_t	*data;		/* points into the payload */
};

void	marshal_encode_fdinfo_req(struct buf *, const struct fdinfo_req *);
int	marshal_decode_fdinfo_req(const uint8_t *, size_t, struct fdinfo_req *,
	    char **cause) __attribute__((warn_unused_result));
void	marshal_encode_fdinfo(struct buf *, const struct fdinfo *);
int	marshal_decode_fdinfo(const uint8_t *, size_t, struct fdinfo *,
	    char **cause) __attribute__((warn_unused_result));
void	marshal_encode_fddata_req(struct buf *, const struct fddata_req *);
int	marshal_decode_fddata_req(const uint8_t *, size_t, struct fddata_req *,
	    char **cause) __attribute__((warn_unused_result));
void	marshal_encode_fddata(struct buf *, const struct fddata *);
int	marshal_decode_fddata(const uint8_t *, size_t, struct fddata *,
	    char **cause) __attribute__((warn_unused_result));

/*
 * 306 SYSCALL_LOCAL, home's answer to a SYSCALL_REQ that opens, or reads,
 * writes, seeks or stats a descriptor of, an entry of the process's own
 * /proc that describes its memory or its running task (procself.h). Home
 * holds a placeholder at fd; the host opens the guest's own entry there
 * (with flags, at pos) and runs the call natively.
 */
struct syslocal {
	uint64_t	seq;
	int32_t		fd;		/* 0 .. */
	uint32_t	flags;		/* O_ACCMODE, O_NONBLOCK, O_APPEND, O_PATH */
	uint64_t	pos;		/* the placeholder's offset */
	uint8_t		thread;		/* task/TID/<entry> */
	char		entry[32];	/* PROCSELF_ENTRY_MAX: "maps", "mem"... */
};
#define SYSLOCAL_FLAGS	(O_ACCMODE | O_NONBLOCK | O_APPEND | O_PATH)

void	marshal_encode_syslocal(struct buf *, const struct syslocal *);
/* Refuses a bad fd, flag, thread byte or entry (procself_guest_entry). */
int	marshal_decode_syslocal(const uint8_t *, size_t, struct syslocal *,
	    char **cause) __attribute__((warn_unused_result));

/*
 * SHA-256 of the bytes [off, min(off + len, size of the file)) of fd, the
 * digest both ends compare before the remote maps its own copy of a file.
 */
int	marshal_digest_fd(int fd, uint64_t off, uint64_t len,
	    uint8_t digest[FDINFO_DIGEST_LEN], char **cause)
	    __attribute__((warn_unused_result));

/* "SYSCALL_REQ", ...; NULL for a type outside the block. */
const char	*marshal_type_name(uint16_t type);

#endif
