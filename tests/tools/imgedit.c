/*
 * imgedit: damage omm images on purpose, for tests of what a restore refuses.
 *
 *   imgedit list FILE                 "N TYPE OFFSET LENGTH" per section
 *   imgedit flip FILE N [BYTE]        flip a payload byte of section N (crc untouched)
 *   imgedit truncate FILE BYTES       cut the file to BYTES
 *   imgedit set-version FILE V        rewrite the header version, fix its crc
 *   imgedit add-cpu FILE NAME         set a CPU feature or xsave component, fix the crc
 *   imgedit set-path FILE WHAT PATH   name PATH instead where WHAT says, fix the
 *                                     frame: cwd, exe, fd:N (fd N), vma:N (the
 *                                     Nth mapping restored from its file, from 0)
 *
 * It walks the raw framing itself (docs/image-format.md) rather than the
 * library's reader, so it can work on images the reader would refuse.
 * OFFSET is where the section's frame starts, LENGTH its payload length.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/buf.h"
#include "omm/cpufeat.h"
#include "omm/crc32c.h"
#include "omm/image.h"

#define FRAME_HDR	16
#define FRAME_CRC	4

static const char *type_names[] = {
	NULL, "HEADER", "PROC", "REGS", "SIGNALS", "FDS", "VMAS", "PAGES", "END",
	"TIMERS", NULL, "THREAD",
};

/* xcr0 bits by component name: the set cpufeat.c knows. */
static const struct {
	const char	*name;
	int		 bit;
} xcr0_names[] = {
	{ "x87", 0 }, { "sse", 1 }, { "avx", 2 }, { "bndregs", 3 },
	{ "bndcsr", 4 }, { "opmask", 5 }, { "zmm_hi256", 6 }, { "hi16_zmm", 7 },
	{ "pkru", 9 }, { "tilecfg", 17 }, { "tiledata", 18 },
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("imgedit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: imgedit list FILE\n"
	    "       imgedit flip FILE N [BYTE]\n"
	    "       imgedit truncate FILE BYTES\n"
	    "       imgedit set-version FILE V\n"
	    "       imgedit add-cpu FILE NAME\n"
	    "       imgedit set-path FILE cwd|exe|fd:N|vma:N PATH\n");
	exit(2);
}

static uint64_t
number(const char *s, const char *what)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *s == '\0' || *end != '\0' || *s == '-')
		die("invalid %s '%s'", what, s);
	return v;
}

struct frame {
	uint64_t	off;		/* of the frame header */
	uint32_t	type;
	uint64_t	len;		/* payload */
};

/* The frame at index n; -1 when the file ends first. Lists each frame on the way if asked. */
static int
walk(int fd, uint64_t n, struct frame *out, int print)
{
	struct stat	st;
	uint8_t		h[FRAME_HDR];
	uint64_t	off = 0, i;
	const char	*name;
	char		num[16];

	if (fstat(fd, &st) == -1)
		die("fstat: %s", strerror(errno));
	for (i = 0; off + FRAME_HDR <= (uint64_t)st.st_size; i++) {
		if (pread(fd, h, sizeof h, (off_t)off) != (ssize_t)sizeof h)
			die("read at %" PRIu64 ": %s", off, strerror(errno));
		out->off = off;
		out->type = le32dec(h);
		out->len = le64dec(h + 8);
		if (print) {
			if (out->type < sizeof type_names / sizeof type_names[0] &&
			    type_names[out->type] != NULL)
				name = type_names[out->type];
			else {
				snprintf(num, sizeof num, "%u", out->type);
				name = num;
			}
			printf("%" PRIu64 " %s %" PRIu64 " %" PRIu64 "\n", i, name,
			    off, out->len);
		}
		if (i == n)
			return 0;
		if (out->len > (uint64_t)st.st_size)
			break;
		off += FRAME_HDR + out->len + FRAME_CRC;
	}
	return -1;
}

static void
cmd_list(int fd)
{
	struct frame	f;

	walk(fd, UINT64_MAX, &f, 1);
}

static void
cmd_flip(int fd, uint64_t n, int have_byte, uint64_t byte)
{
	struct frame	f;
	uint8_t		b;
	off_t		at;

	if (walk(fd, n, &f, 0) != 0)
		die("no section %" PRIu64, n);
	if (f.len == 0)
		die("section %" PRIu64 " has an empty payload", n);
	if (!have_byte)
		byte = f.len / 2;
	if (byte >= f.len)
		die("byte %" PRIu64 " past the payload of %" PRIu64, byte, f.len);
	at = (off_t)(f.off + FRAME_HDR + byte);
	if (pread(fd, &b, 1, at) != 1)
		die("read at %lld: %s", (long long)at, strerror(errno));
	b ^= 0xff;
	if (pwrite(fd, &b, 1, at) != 1)
		die("write at %lld: %s", (long long)at, strerror(errno));
}

/* Read the HEADER frame whole, let edit change its payload, write it back with a good crc. */
static void
rewrite_header(int fd, void (*edit)(uint8_t *, uint64_t, const void *),
    const void *arg)
{
	struct frame	 f;
	uint8_t		*p;
	size_t		 n;

	if (walk(fd, 0, &f, 0) != 0 || f.type != 1)
		die("no HEADER section first: not an omm image");
	if (f.len < 12 || f.len > 65536)
		die("HEADER of %" PRIu64 " bytes", f.len);
	n = FRAME_HDR + f.len + FRAME_CRC;
	if ((p = malloc(n)) == NULL)
		die("out of memory");
	if (pread(fd, p, n, 0) != (ssize_t)n)
		die("HEADER truncated");
	edit(p + FRAME_HDR, f.len, arg);
	le32enc(p + FRAME_HDR + f.len, crc32c(0, p, FRAME_HDR + f.len));
	if (pwrite(fd, p, n, 0) != (ssize_t)n)
		die("write: %s", strerror(errno));
	free(p);
}

static void
edit_version(uint8_t *p, uint64_t len, const void *arg)
{
	le32enc(p + 8, *(const uint32_t *)arg);
}

/* magic, version, arch, page size, time, then two strings, then the cpu. */
static uint64_t
cpu_offset(const uint8_t *p, uint64_t len)
{
	uint64_t	off = 8 + 4 + 4 + 4 + 8;
	int		i;

	for (i = 0; i < 2; i++) {
		if (off + 4 > len)
			die("HEADER too short");
		off += 4 + le32dec(p + off);
	}
	if (off + 4 + 4 * CPUW_NWORDS + 8 > len)
		die("HEADER too short");
	if (le32dec(p + off) != CPUW_NWORDS)
		die("HEADER has %u feature words, expected %d", le32dec(p + off),
		    CPUW_NWORDS);
	return off + 4;
}

static void
edit_cpu(uint8_t *p, uint64_t len, const void *arg)
{
	const char	*name = arg;
	uint64_t	 off = cpu_offset(p, len), x;
	int		 word, bit;
	size_t		 i;

	if (cpu_feature_lookup(name, &word, &bit) == 0) {
		le32enc(p + off + 4 * word, le32dec(p + off + 4 * word) | 1u << bit);
		return;
	}
	for (i = 0; i < sizeof xcr0_names / sizeof xcr0_names[0]; i++) {
		if (strcmp(xcr0_names[i].name, name) == 0) {
			off += 4 * CPUW_NWORDS;
			x = le64dec(p + off) | 1ull << xcr0_names[i].bit;
			le64enc(p + off, x);
			return;
		}
	}
	die("unknown CPU feature or xsave component '%s'", name);
}

/* Replace *slot, a heap string of a decoded section, by path. */
static void
put_path(char **slot, const char *path)
{
	free(*slot);
	if ((*slot = strdup(path)) == NULL)
		die("out of memory");
}

/*
 * Re-encode the payload p of a PROC, FDS or VMAS section with the path
 * WHAT names replaced; out gets the new payload. 0 if WHAT is not there.
 */
static int
edit_path(uint32_t type, const uint8_t *p, uint64_t len, const char *what,
    const char *path, struct buf *out)
{
	struct img_proc	 proc;
	struct img_fd	*fds;
	struct img_vma	*vmas;
	uint32_t	 n, i, k;
	char		*cause = NULL;
	int		 done = 0;
	uint64_t	 want;

	if (type == IMG_SEC_PROC && (strcmp(what, "cwd") == 0 ||
	    strcmp(what, "exe") == 0)) {
		memset(&proc, 0, sizeof proc);
		if (img_proc_decode(&proc, p, len, &cause) == -1)
			die("PROC: %s", cause);
		put_path(strcmp(what, "cwd") == 0 ? &proc.cwd : &proc.exe, path);
		img_proc_encode(&proc, out);
		free(proc.exe);
		free(proc.cmdline);
		free(proc.cwd);
		free(proc.groups);
		return 1;
	}
	if (type == IMG_SEC_FDS && strncmp(what, "fd:", 3) == 0) {
		want = number(what + 3, "fd");
		if (img_fds_decode(&fds, &n, p, len, &cause) == -1)
			die("FDS: %s", cause);
		for (i = 0; i < n; i++) {
			if ((uint64_t)fds[i].fd == want && fds[i].path != NULL) {
				put_path(&fds[i].path, path);
				done = 1;
			}
		}
		if (!done)
			die("no fd %s with a path in the image", what + 3);
		img_fds_encode(fds, n, out);
		for (i = 0; i < n; i++)
			free(fds[i].path);
		free(fds);
		return 1;
	}
	if (type == IMG_SEC_VMAS && strncmp(what, "vma:", 4) == 0) {
		want = number(what + 4, "mapping");
		if (img_vmas_decode(&vmas, &n, p, len, &cause) == -1)
			die("VMAS: %s", cause);
		for (i = k = 0; i < n && !done; i++) {
			if (!(vmas[i].flags & IMG_VMA_FILE_PAGES) || k++ != want)
				continue;
			put_path(&vmas[i].path, path);
			done = 1;
		}
		if (!done)
			die("no mapping %s restored from its file", what + 4);
		img_vmas_encode(vmas, n, out);
		for (i = 0; i < n; i++)
			free(vmas[i].path);
		free(vmas);
		return 1;
	}
	return 0;
}

/* Rewrite the image with one section's path changed: frames after it move. */
static void
cmd_set_path(int fd, const char *what, const char *path)
{
	struct stat	 st;
	struct buf	 img, pl;
	uint8_t		*all, h[FRAME_HDR], c[FRAME_CRC];
	uint64_t	 off = 0, len;
	uint32_t	 type;
	int		 done = 0;

	if (fstat(fd, &st) == -1)
		die("fstat: %s", strerror(errno));
	if ((all = malloc(st.st_size + 1)) == NULL)
		die("out of memory");
	if (pread(fd, all, st.st_size, 0) != st.st_size)
		die("short read");
	buf_init(&img);
	buf_init(&pl);
	while (off + FRAME_HDR <= (uint64_t)st.st_size) {
		type = le32dec(all + off);
		len = le64dec(all + off + 8);
		if (len > (uint64_t)st.st_size - off - FRAME_HDR - FRAME_CRC)
			die("frame at %" PRIu64 " runs past the end", off);
		buf_reset(&pl);
		if (!done && edit_path(type, all + off + FRAME_HDR, len, what,
		    path, &pl)) {
			memcpy(h, all + off, FRAME_HDR);
			le64enc(h + 8, pl.len);
			buf_add(&img, h, FRAME_HDR);
			buf_add(&img, pl.data, pl.len);
			le32enc(c, crc32c(crc32c(0, h, FRAME_HDR), pl.data,
			    pl.len));
			buf_add(&img, c, FRAME_CRC);
			done = 1;
		} else
			buf_add(&img, all + off, FRAME_HDR + len + FRAME_CRC);
		off += FRAME_HDR + len + FRAME_CRC;
	}
	if (!done)
		die("nothing in the image is %s", what);
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, img.data, img.len, 0) != (ssize_t)img.len)
		die("write: %s", strerror(errno));
	buf_free(&img);
	buf_free(&pl);
	free(all);
}

int
main(int argc, char **argv)
{
	uint32_t	v;
	int		fd;

	if (argc < 3)
		usage();
	if ((fd = open(argv[2], strcmp(argv[1], "list") == 0 ? O_RDONLY :
	    O_RDWR)) == -1)
		die("%s: %s", argv[2], strerror(errno));
	if (strcmp(argv[1], "list") == 0 && argc == 3)
		cmd_list(fd);
	else if (strcmp(argv[1], "flip") == 0 && (argc == 4 || argc == 5)) {
		cmd_flip(fd, number(argv[3], "section"), argc == 5,
		    argc == 5 ? number(argv[4], "byte") : 0);
	} else if (strcmp(argv[1], "truncate") == 0 && argc == 4) {
		if (ftruncate(fd, (off_t)number(argv[3], "size")) == -1)
			die("truncate: %s", strerror(errno));
	} else if (strcmp(argv[1], "set-version") == 0 && argc == 4) {
		v = (uint32_t)number(argv[3], "version");
		rewrite_header(fd, edit_version, &v);
	} else if (strcmp(argv[1], "add-cpu") == 0 && argc == 4)
		rewrite_header(fd, edit_cpu, argv[3]);
	else if (strcmp(argv[1], "set-path") == 0 && argc == 5)
		cmd_set_path(fd, argv[3], argv[4]);
	else
		usage();
	if (close(fd) == -1)
		die("close: %s", strerror(errno));
	return 0;
}
