/*
 * ckpt-restore.c: turn an idle stub process into the process of an image.
 *
 * What the image says of this machine is checked before the stub is
 * touched; every path it names is looked at and opened by the stub itself,
 * with its user's credentials, never by us (we may be root). Then,
 * through system calls injected into the stub (inject.c), its whole address
 * space is dropped but for the injection area, the vDSO is mapped back where
 * the image had it, the image's mappings are recreated and filled with
 * process_vm_writev straight from the image reader's buffer, and fds, task
 * state and signals are put back. Last the area goes and the registers are
 * loaded; the stub resumes from a stop in the kernel's signal path, so an
 * interrupted system call is restarted (or fails with EINTR for a handler)
 * exactly as it would have in the original process.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/membarrier.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>

#include "omm/ckpt.h"
#include "omm/crc32c.h"
#include "omm/image.h"
#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#include "ckpt-int.h"

/* Highest user address of a 4-level page table process (TASK_SIZE_MAX). */
#define RESTORE_TASK_SIZE	0x7ffffffff000ULL
/* Where the injection area may go: above the zero page region. */
#define RESTORE_AREA_FROM	0x10000000ULL
/* PAGES sections in flight to the thread writing them into the stub */
#define RESTORE_SLOTS		3

/* Scratch layout for the bigger arguments. */
#define SCR_STR		0		/* a path, up to IMG_MAX_PATH + 1 */
#define SCR_SIGACT	8192		/* 64 kernel sigactions of 32 bytes */
#define SCR_MISC	12288		/* stack_t, prctl_mm_map, siginfo, ... */
#define SCR_AUXV	13312		/* auxv words */

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV	(1UL << 5)
#endif

/* The target keeps its own fds, cwd and umask. */
#define RESTORE_KEEP_FILES	(RESTORE_GUEST | RESTORE_ORIGINAL)

struct restore {
	pid_t			 pid;
	int			 flags;
	const struct sock_fprog	*filter;	/* RESTORE_GUEST */
	int			 listener;	/* the guest's, or -1 */
	int			 killable;
	struct ckpt_stats	*stats;
	struct img		 img;
	struct img_reader	*rd;
	struct inject		*in;
	int			 vfd;		/* tracee fd of vpath, or -1 */
	const char		*vpath;
	ckpt_check_fn		 check;
	void			*check_arg;
	int			 refused;	/* by check: detach, not kill */
	siginfo_t		*caught;	/* dequeued by the interrupt */
	size_t			 ncaught;
	uint32_t		*mapped_prot;	/* prot each vma was mapped with */
	uint8_t			*fd_early;	/* image fd i made before the mappings */
	int			 uffd;		/* ours, on the stub's mm, or -1 */
	uint8_t			*uffd_vma;	/* vma i registered with it */
	/* every page the image put in, and the crc32c of what it held */
	uint64_t		*paddr;
	uint32_t		*pcrc;
	size_t			 npg, cpg;
	/* RESTORE_COPIES: vma i maps a copy (its restore_copy + 1, 0: no) */
	uint32_t		*copy_of;
	struct restore_copy	*copies;
	size_t			 ncopies;
	long			 cfd;		/* tracee memfd of copies[cur] */
	size_t			 ccur;
};

/* An injected call whose failure is either the injection's or the call's. */
#define CALL(r, ret, cause, nr, ...)					\
	INJECT((r)->in, ret, cause, nr, __VA_ARGS__)

static int
call_ok(long ret, char **cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The call ran: turn a -errno result into a cause naming it. */
static int
call_ok(long ret, char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*what;

	if (ret >= 0 || ret < -4095)
		return 0;
	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) == -1)
		what = NULL;
	va_end(ap);
	cause_set(cause, "%s: %s", what != NULL ? what : "?", strerror(-ret));
	free(what);
	return -1;
}

static int
put_str(struct restore *r, const char *s, char **cause)
{
	size_t	len = strlen(s) + 1;

	if (len > IMG_MAX_PATH + 1)
		return cause_set(cause, "path too long: %.64s...", s);
	return inject_write(r->in, SCR_STR, s, len, cause);
}

/* Refuse an image this machine cannot restore, stub untouched. */
static int
restore_check(struct restore *r, char **cause)
{
	uint32_t	i;
	int		vdso = 0;

	if (img_check_cpu(&r->img, cause) == -1)
		return -1;
	for (i = 0; i < r->img.nvmas; i++) {
		if (r->img.vmas[i].flags & IMG_VMA_VDSO)
			vdso++;
	}
	if (vdso > 1)
		return cause_set(cause, "image has %d vdso mappings", vdso);
	for (i = 0; i < r->img.nvmas; i++) {
		if (!(r->img.vmas[i].flags & IMG_VMA_MEMFD))
			continue;
		if (r->flags & RESTORE_KEEP_FILES)
			return cause_set(cause, "mapping %#" PRIx64 ": a memfd's, "
			    "in an image whose fds stay where they are",
			    r->img.vmas[i].start);
		if (ckpt_memfd_of(&r->img, &r->img.vmas[i]) == NULL)
			return cause_set(cause, "mapping %#" PRIx64 " of a memfd "
			    "the image has no fd with content of",
			    r->img.vmas[i].start);
	}
	if (r->img.regs.xstate_len == 0)
		return cause_set(cause, "image has no xstate");
	/* a guest, or the original coming home, has one thread (issue 12) */
	if (r->img.nthreads > 0 && (r->flags & RESTORE_KEEP_FILES))
		return cause_set(cause, "image has %u threads besides the main "
		    "one: a migrating process is restored single-threaded "
		    "only", r->img.nthreads);
	return 0;
}

/*
 * Mapping i of the image is to come from a copy of its file: one copy
 * per file (path and identity), the mapping's range of the file added.
 */
static void
copy_add(struct restore *r, uint32_t i)
{
	const struct img_vma	*v = &r->img.vmas[i];
	struct restore_copy	*c = NULL;
	struct restore_range	*rg;
	uint64_t		 len = v->end - v->start;
	size_t			 k;

	if (r->copy_of == NULL)
		r->copy_of = xcalloc(r->img.nvmas, sizeof *r->copy_of);
	for (k = 0; k < r->ncopies; k++) {
		c = &r->copies[k];
		if (strcmp(c->path, v->path) == 0 && c->size == v->size &&
		    c->mtime_ns == v->mtime_ns && c->ino == v->ino &&
		    c->dev == v->dev)
			break;
		c = NULL;
	}
	if (c == NULL) {
		r->copies = xreallocarray(r->copies, r->ncopies + 1,
		    sizeof *r->copies);
		c = &r->copies[r->ncopies++];
		memset(c, 0, sizeof *c);
		c->fd = -1;
		c->path = xstrdup(v->path);
		c->dev = v->dev;
		c->ino = v->ino;
		c->size = v->size;
		c->mtime_ns = v->mtime_ns;
	}
	r->copy_of[i] = (uint32_t)(c - r->copies) + 1;
	if (v->pgoff >= c->size)
		return;
	if (len > c->size - v->pgoff)
		len = c->size - v->pgoff;
	/* a range it has already (text and data of a library overlap) */
	for (k = 0; k < c->nranges; k++) {
		rg = &c->ranges[k];
		if (v->pgoff <= rg->off + rg->len && rg->off <= v->pgoff + len) {
			uint64_t	end = rg->off + rg->len;

			if (v->pgoff + len > end)
				end = v->pgoff + len;
			if (v->pgoff < rg->off)
				rg->off = v->pgoff;
			rg->len = end - rg->off;
			return;
		}
	}
	c->ranges = xreallocarray(c->ranges, c->nranges + 1,
	    sizeof *c->ranges);
	rg = &c->ranges[c->nranges++];
	rg->off = v->pgoff;
	rg->len = len;
}

void
restore_copies_free(struct restore_copy *c, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (c[i].fd != -1)
			close(c[i].fd);
		free(c[i].path);
		free(c[i].ranges);
	}
	free(c);
}

/*
 * The tracee's memfd for copy k (created, sized, and a copy of it taken
 * for the caller, on first use); the previous one is closed in the
 * tracee. Returns the tracee's fd.
 */
static long
copy_fd(struct restore *r, size_t k, char **cause)
{
	struct restore_copy	*c = &r->copies[k];
	const char		*base;
	char			 name[64];
	long			 ret, pidfd;

	if (r->cfd != -1 && r->ccur == k)
		return r->cfd;
	if (r->cfd != -1) {
		if (CALL(r, &ret, cause, SYS_close, r->cfd) == -1)
			return -1;
		r->cfd = -1;
	}
	base = strrchr(c->path, '/') != NULL ? strrchr(c->path, '/') + 1 :
	    c->path;
	snprintf(name, sizeof name, "omm:%s", base);
	if (put_str(r, name, cause) == -1 ||
	    CALL(r, &ret, cause, SYS_memfd_create,
	    inject_scratch(r->in) + SCR_STR, MFD_CLOEXEC) == -1 ||
	    call_ok(ret, cause, "a copy of %s: memfd_create", c->path) == -1)
		return -1;
	r->cfd = ret;
	r->ccur = k;
	if (CALL(r, &ret, cause, SYS_ftruncate, r->cfd, c->size) == -1 ||
	    call_ok(ret, cause, "a copy of %s: %llu bytes", c->path,
	    (unsigned long long)c->size) == -1)
		return -1;
	if (c->fd == -1) {
		if ((pidfd = syscall(SYS_pidfd_open, r->pid, 0)) == -1)
			return cause_set(cause, "pidfd_open: %s", strerror(errno));
		c->fd = (int)syscall(SYS_pidfd_getfd, (int)pidfd, (int)r->cfd, 0);
		close((int)pidfd);
		if (c->fd == -1)
			return cause_set(cause, "a copy of %s: pidfd_getfd: %s",
			    c->path, strerror(errno));
	}
	return r->cfd;
}

/*
 * The files the image maps from, unchanged since the dump? Looked at by
 * the stub (an injected newfstatat), never by us: we may be root, and a
 * path the stub's user may not see must fail the same whether the file
 * exists or not. Nothing of the stub has changed yet but the injection
 * area.
 */
static int
restore_files(struct restore *r, char **cause)
{
	struct img_vma	*v;
	struct stat	 st;
	uint32_t	 i;
	long		 ret;

	for (i = 0; i < r->img.nvmas; i++) {
		v = &r->img.vmas[i];
		/* A guest maps its node's copy of every file: check them all. */
		if (!(v->flags & IMG_VMA_FILE_PAGES) && (!(r->flags &
		    RESTORE_GUEST) || !(v->flags & IMG_VMA_FILE)))
			continue;
		if (put_str(r, v->path, cause) == -1 ||
		    CALL(r, &ret, cause, SYS_newfstatat, AT_FDCWD,
		    inject_scratch(r->in) + SCR_STR,
		    inject_scratch(r->in) + SCR_MISC, 0) == -1)
			return -1;
		if (ret == 0 && (r->flags & RESTORE_COPIES) &&
		    !(v->flags & IMG_VMA_SHARED)) {
			if (inject_read(r->in, SCR_MISC, &st, sizeof st,
			    cause) == -1)
				return -1;
			/* the guest itself must be able to read it */
			if (CALL(r, &ret, cause, SYS_faccessat, AT_FDCWD,
			    inject_scratch(r->in) + SCR_STR, R_OK) == -1)
				return -1;
			if (ret == 0 && (!S_ISREG(st.st_mode) ||
			    (uint64_t)st.st_size != v->size ||
			    (int64_t)st.st_mtim.tv_sec * 1000000000 +
			    st.st_mtim.tv_nsec != v->mtime_ns))
				ret = -ESTALE;
		}
		if (ret != 0 && (r->flags & RESTORE_COPIES) &&
		    !(v->flags & IMG_VMA_SHARED)) {
			/* not here as it was: a copy of home's */
			copy_add(r, i);
			continue;
		}
		if (call_ok(ret, cause, "mapping %#" PRIx64 "-%#" PRIx64
		    " of %s", v->start, v->end, v->path) == -1)
			return -1;
		if (inject_read(r->in, SCR_MISC, &st, sizeof st, cause) == -1)
			return -1;
		/* Another node's copy of a file has its own dev and ino. */
		if (((r->flags & (RESTORE_GUEST | RESTORE_ORIGINAL)) == 0 &&
		    ((uint64_t)st.st_dev != v->dev ||
		    (uint64_t)st.st_ino != v->ino)) ||
		    (uint64_t)st.st_size != v->size ||
		    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec !=
		    v->mtime_ns)
			return cause_set(cause, "mapping %#" PRIx64 "-%#" PRIx64
			    " of %s: file changed since dump", v->start, v->end,
			    v->path);
	}
	return 0;
}

struct range {
	uint64_t	start, end;
};

static int
range_cmp(const void *a, const void *b)
{
	const struct range	*x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* A spot for the injection area free in both the stub and the image. */
static int
pick_area(struct restore *r, uint64_t *area, char **cause)
{
	struct procfs_vma	*pv;
	struct range		*rg;
	size_t			 n, nr = 0, i;
	uint64_t		 lo = RESTORE_AREA_FROM;
	uint64_t		 need = INJECT_AREA_SIZE + 2 * CKPT_PAGE;

	if (procfs_maps(r->pid, 0, &pv, &n, cause) == -1)
		return -1;
	rg = xcalloc(n + r->img.nvmas + 1, sizeof *rg);
	for (i = 0; i < n; i++) {
		rg[nr].start = pv[i].start;
		rg[nr++].end = pv[i].end;
	}
	procfs_vmas_free(pv, n);
	for (i = 0; i < r->img.nvmas; i++) {
		rg[nr].start = r->img.vmas[i].start;
		rg[nr++].end = r->img.vmas[i].end;
	}
	qsort(rg, nr, sizeof *rg, range_cmp);
	for (i = 0; i <= nr; i++) {
		uint64_t	hi = i < nr ? rg[i].start : RESTORE_TASK_SIZE;

		if (hi > RESTORE_TASK_SIZE)
			hi = RESTORE_TASK_SIZE;
		if (hi > lo && hi - lo >= need) {
			*area = lo + CKPT_PAGE;
			free(rg);
			return 0;
		}
		if (i < nr && rg[i].end > lo)
			lo = rg[i].end;
	}
	free(rg);
	return cause_set(cause, "no address range free in both the stub and the "
	    "image for the injection area");
}

/* Stop the stub, check its xstate size, take it over. */
static int
restore_takeover(struct restore *r, char **cause)
{
	struct ckpt_rseq_conf	 rseq;
	struct procfs_stat	 ps;
	struct iovec		 iov;
	uint8_t			*xs;
	uint64_t		 area = 0;
	long			 ret;

	/* The original may be in a ptrace stop of ours already ('t'). */
	if (!(r->flags & RESTORE_ORIGINAL) ||
	    procfs_stat(r->pid, &ps, NULL) == -1 || ps.state != 't') {
		if (ckpt_interrupt(r->pid, &r->caught, &r->ncaught, r->stats,
		    cause) == -1)
			return -1;
	}
	/* Stopped: whatever the check sees holds until we let it go. */
	if (r->check != NULL && r->check(r->pid, r->check_arg, cause) == -1) {
		r->refused = 1;
		return -1;
	}
	xs = xmalloc(IMG_MAX_XSTATE);
	iov.iov_base = xs;
	iov.iov_len = IMG_MAX_XSTATE;
	if (ptrace(PTRACE_GETREGSET, r->pid, NT_X86_XSTATE, &iov) == -1) {
		free(xs);
		return cause_set(cause, "PTRACE_GETREGSET NT_X86_XSTATE: %s",
		    strerror(errno));
	}
	free(xs);
	if (iov.iov_len != r->img.regs.xstate_len)
		return cause_set(cause, "image xstate is %u bytes, this machine's "
		    "%zu", r->img.regs.xstate_len, iov.iov_len);
	if (pick_area(r, &area, cause) == -1)
		return -1;
	if ((r->in = inject_init(r->pid, area, cause)) == NULL)
		return -1;
	/* The kernel would write rseq data into memory we are about to unmap. */
	if (ptrace(CKPT_PTRACE_GET_RSEQ_CONFIGURATION, r->pid, sizeof rseq,
	    &rseq) == -1)
		memset(&rseq, 0, sizeof rseq);
	if (rseq.rseq_abi_pointer != 0) {
		if (CALL(r, &ret, cause, SYS_rseq, rseq.rseq_abi_pointer,
		    rseq.rseq_abi_size, CKPT_RSEQ_FLAG_UNREGISTER,
		    rseq.signature) == -1 ||
		    call_ok(ret, cause, "unregistering the stub's rseq") == -1)
			return -1;
	}
	return 0;
}

/* Drop the stub's address space but for the injection area. */
static int
restore_unmap(struct restore *r, char **cause)
{
	uint64_t	area = inject_area(r->in);
	long		ret;

	if (CALL(r, &ret, cause, SYS_munmap, 0, area) == -1 ||
	    call_ok(ret, cause, "munmap below the injection area") == -1)
		return -1;
	if (CALL(r, &ret, cause, SYS_munmap, area + INJECT_AREA_SIZE,
	    RESTORE_TASK_SIZE - area - INJECT_AREA_SIZE) == -1 ||
	    call_ok(ret, cause, "munmap above the injection area") == -1)
		return -1;
	/*
	 * An original that had mlockall(MCL_FUTURE) still has it (its mm
	 * stays): each mapping would come populated and the pages could not
	 * go in (UFFDIO_COPY: EEXIST). Off until restore_locks.
	 * A seccomp filter of a container (systemd-nspawn's) may deny it
	 * with EPERM: then the original could not have called mlockall
	 * under that filter either, and if it somehow did, the page copy
	 * fails the restore loudly (EEXIST), never silently.
	 */
	if (CALL(r, &ret, cause, SYS_munlockall, 0) == -1)
		return -1;
	if (ret != -EPERM && call_ok(ret, cause, "munlockall") == -1)
		return -1;
	return 0;
}

/*
 * The vDSO where the image had it. ARCH_MAP_VDSO_64 maps the vvar
 * pages then the vDSO text at the address given; with the same kernel the
 * layout is the image's, which the maps check confirms.
 */
static int
restore_vdso(struct restore *r, char **cause)
{
	struct procfs_vma	*pv;
	const struct img_vma	*vdso = NULL;
	uint64_t		 base = 0;
	size_t			 n, i;
	uint32_t		 k;
	long			 ret;
	int			 ok = 0;

	for (k = 0; k < r->img.nvmas; k++) {
		const struct img_vma	*v = &r->img.vmas[k];

		if (!(v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)))
			continue;
		if (base == 0 || v->start < base)
			base = v->start;
		if (v->flags & IMG_VMA_VDSO)
			vdso = v;
	}
	if (vdso == NULL)
		return 0;
	if (CALL(r, &ret, cause, SYS_arch_prctl, CKPT_ARCH_MAP_VDSO_64,
	    base) == -1 || call_ok(ret, cause, "mapping the vdso at %#" PRIx64,
	    base) == -1)
		return -1;
	if (procfs_maps(r->pid, 0, &pv, &n, cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(pv[i].path, "[vdso]") == 0 &&
		    pv[i].start == vdso->start && pv[i].end == vdso->end)
			ok = 1;
	}
	procfs_vmas_free(pv, n);
	if (!ok)
		return cause_set(cause, "vdso layout differs from the image's "
		    "(%#" PRIx64 "-%#" PRIx64 "): a different kernel?",
		    vdso->start, vdso->end);
	return 0;
}

/*
 * The tracee fd to map v from, opening it (and closing the last one) as
 * needed: consecutive private mappings of one file (a library's text, data
 * and relro) share one open.
 */
static int
vma_file(struct restore *r, const struct img_vma *v, char **cause)
{
	long	ret;
	int	shared = (v->flags & IMG_VMA_SHARED) != 0;
	int	wr = shared && (v->prot & PROT_WRITE);

	if (r->vfd != -1 && !shared && r->vpath != NULL &&
	    strcmp(r->vpath, v->path) == 0)
		return r->vfd;
	if (r->vfd != -1) {
		if (CALL(r, &ret, cause, SYS_close, r->vfd) == -1)
			return -1;
		r->vfd = -1;
	}
	if (put_str(r, v->path, cause) == -1)
		return -1;
	/*
	 * A shared mapping may be made writable later: keep O_RDWR if we can.
	 * Not a guest's: its writes would stay on this node.
	 */
	if (shared && !(r->flags & RESTORE_GUEST)) {
		if (CALL(r, &ret, cause, SYS_open, inject_scratch(r->in) + SCR_STR,
		    O_RDWR | O_CLOEXEC) == -1)
			return -1;
		if (ret >= 0 || wr)
			goto done;
	}
	if (CALL(r, &ret, cause, SYS_open, inject_scratch(r->in) + SCR_STR,
	    O_RDONLY | O_CLOEXEC) == -1)
		return -1;
done:
	if (call_ok(ret, cause, "mapping %#" PRIx64 "-%#" PRIx64 ": open %s",
	    v->start, v->end, v->path) == -1)
		return -1;
	r->vfd = (int)ret;
	r->vpath = shared ? NULL : v->path;
	return r->vfd;
}

/* img_vma.madv bits and the madvise advice each stands for. */
static const struct {
	uint32_t	madv;
	int		advice;
	const char	*name;
} madv_table[] = {
	{ IMG_MADV_HUGEPAGE, MADV_HUGEPAGE, "MADV_HUGEPAGE" },
	{ IMG_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
	{ IMG_MADV_DONTFORK, MADV_DONTFORK, "MADV_DONTFORK" },
	{ IMG_MADV_WIPEONFORK, MADV_WIPEONFORK, "MADV_WIPEONFORK" },
	{ IMG_MADV_DONTDUMP, MADV_DONTDUMP, "MADV_DONTDUMP" },
	{ IMG_MADV_MERGEABLE, MADV_MERGEABLE, "MADV_MERGEABLE" },
};

/*
 * The image's mappings. One that gets pages is mapped writable
 * first (process_vm_writev needs that) and given its own protection after.
 */
static int
restore_vmas(struct restore *r, char **cause)
{
	struct img_vma	*v;
	uint32_t	 i, prot, flags;
	uint64_t	 len;
	long		 ret;
	size_t		 k;
	int		 fd;

	r->mapped_prot = xcalloc(r->img.nvmas ? r->img.nvmas : 1,
	    sizeof *r->mapped_prot);
	for (i = 0; i < r->img.nvmas; i++) {
		v = &r->img.vmas[i];
		if (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VSYSCALL))
			continue;
		len = v->end - v->start;
		prot = v->prot;
		if (v->npages != 0)
			prot |= PROT_READ | PROT_WRITE;
		flags = MAP_FIXED | ((v->flags & IMG_VMA_SHARED) ? MAP_SHARED :
		    MAP_PRIVATE);
		/* Shared anonymous memory only it mapped: private on a guest. */
		if ((r->flags & RESTORE_GUEST) && !(v->flags & IMG_VMA_FILE))
			flags = MAP_FIXED | MAP_PRIVATE;
		if (v->flags & IMG_VMA_GROWSDOWN)
			flags |= MAP_GROWSDOWN;
		if (v->flags & IMG_VMA_MEMFD) {
			/* made by restore_memfds: checked by restore_check */
			if (CALL(r, &ret, cause, SYS_mmap, v->start, len, prot,
			    MAP_FIXED | MAP_SHARED, ckpt_memfd_of(&r->img, v)->fd,
			    v->pgoff) == -1)
				return -1;
		} else if (r->copy_of != NULL && r->copy_of[i] != 0) {
			long	cfd = copy_fd(r, r->copy_of[i] - 1, cause);

			if (cfd == -1)
				return -1;
			if (CALL(r, &ret, cause, SYS_mmap, v->start, len, prot,
			    flags, cfd, v->pgoff) == -1)
				return -1;
		} else if (v->flags & IMG_VMA_FILE) {
			if ((fd = vma_file(r, v, cause)) == -1)
				return -1;
			if (CALL(r, &ret, cause, SYS_mmap, v->start, len, prot, flags,
			    fd, v->pgoff) == -1)
				return -1;
		} else {
			if (CALL(r, &ret, cause, SYS_mmap, v->start, len, prot,
			    flags | MAP_ANONYMOUS, (uint64_t)-1, 0) == -1)
				return -1;
		}
		if (call_ok(ret, cause, "mmap %#" PRIx64 "-%#" PRIx64 " %s",
		    v->start, v->end, v->path != NULL ? v->path : "anonymous") == -1)
			return -1;
		if ((uint64_t)ret != v->start)
			return cause_set(cause, "mmap %#" PRIx64 ": landed at %#lx",
			    v->start, ret);
		r->mapped_prot[i] = prot;
		for (k = 0; k < sizeof madv_table / sizeof madv_table[0]; k++) {
			if (!(v->madv & madv_table[k].madv))
				continue;
			/* advice this kernel refuses is state lost: say so */
			if (CALL(r, &ret, cause, SYS_madvise, v->start, len,
			    madv_table[k].advice) == -1 ||
			    call_ok(ret, cause, "madvise %#" PRIx64 "-%#" PRIx64
			    " %s", v->start, v->end, madv_table[k].name) == -1)
				return -1;
		}
	}
	if (r->vfd != -1) {
		if (CALL(r, &ret, cause, SYS_close, r->vfd) == -1)
			return -1;
		r->vfd = -1;
	}
	if (r->cfd != -1) {
		if (CALL(r, &ret, cause, SYS_close, r->cfd) == -1)
			return -1;
		r->cfd = -1;
	}
	return 0;
}

/*
 * Memfds that mappings map, made (filled) at their fd before the mappings,
 * so that the mapping and the fd are one file as they were.
 */
static int
restore_memfds(struct restore *r, char **cause)
{
	const struct img_fd	*f;
	uint32_t		 i;

	r->fd_early = xcalloc(r->img.nfds ? r->img.nfds : 1,
	    sizeof *r->fd_early);
	for (i = 0; i < r->img.nvmas; i++) {
		if (!(r->img.vmas[i].flags & IMG_VMA_MEMFD))
			continue;
		f = ckpt_memfd_of(&r->img, &r->img.vmas[i]);
		if (f == NULL || r->fd_early[f - r->img.fds])
			continue;
		if (ckpt_memfd_early(r->pid, r->in, f, cause) == -1)
			return -1;
		r->fd_early[f - r->img.fds] = 1;
	}
	return 0;
}

/* The image vma holding addr, searching on from *cur (pages come in order). */
static const struct img_vma *
find_vma(const struct img *img, uint64_t addr, uint32_t *cur)
{
	uint32_t	lo = 0, hi = img->nvmas, mid;

	if (*cur < img->nvmas && addr >= img->vmas[*cur].start &&
	    addr < img->vmas[*cur].end)
		return &img->vmas[*cur];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < img->vmas[mid].start)
			hi = mid;
		else if (addr >= img->vmas[mid].end)
			lo = mid + 1;
		else {
			*cur = mid;
			return &img->vmas[mid];
		}
	}
	return NULL;
}

/*
 * Userfaultfd lets the pages go in without the kernel zeroing each fresh
 * page first: UFFDIO_COPY allocates and copies in one go, about a third
 * cheaper than faulting the memory in through process_vm_writev, and
 * faulting is most of a restore. The stub creates the userfaultfd (it is
 * bound to the creator's mm), we take a copy with pidfd_getfd and register
 * the anonymous mappings that get pages. Best effort: without it (old
 * kernel, a policy refusing userfaultfd) every page goes through
 * process_vm_writev.
 */
static int
restore_uffd_open(struct restore *r, char **cause)
{
	struct uffdio_api	 api;
	struct uffdio_register	 reg;
	struct img_vma		*v;
	long			 tfd, ret;
	uint32_t		 i;
	int			 pidfd, n = 0;

	r->uffd = -1;
	r->uffd_vma = xcalloc(r->img.nvmas ? r->img.nvmas : 1,
	    sizeof *r->uffd_vma);
	if (CALL(r, &tfd, cause, SYS_userfaultfd,
	    O_CLOEXEC | UFFD_USER_MODE_ONLY) == -1)
		return -1;
	if (tfd < 0) {
		log_debug("pid %ld: userfaultfd: %s", (long)r->pid, strerror(-tfd));
		return 0;
	}
	if ((pidfd = syscall(SYS_pidfd_open, r->pid, 0)) != -1) {
		r->uffd = syscall(SYS_pidfd_getfd, pidfd, (int)tfd, 0);
		close(pidfd);
	}
	if (CALL(r, &ret, cause, SYS_close, tfd) == -1)
		return -1;
	if (r->uffd == -1) {
		log_debug("pid %ld: pidfd_getfd: %s", (long)r->pid, strerror(errno));
		return 0;
	}
	memset(&api, 0, sizeof api);
	api.api = UFFD_API;
	if (ioctl(r->uffd, UFFDIO_API, &api) == -1)
		goto off;
	for (i = 0; i < r->img.nvmas; i++) {
		v = &r->img.vmas[i];
		if (v->npages == 0 || (v->flags & (IMG_VMA_FILE | IMG_VMA_SHARED |
		    IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VSYSCALL)))
			continue;
		memset(&reg, 0, sizeof reg);
		reg.range.start = v->start;
		reg.range.len = v->end - v->start;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (ioctl(r->uffd, UFFDIO_REGISTER, &reg) == -1) {
			log_debug("pid %ld: UFFDIO_REGISTER %#" PRIx64 ": %s",
			    (long)r->pid, v->start, strerror(errno));
			continue;
		}
		r->uffd_vma[i] = 1;
		n++;
	}
	if (n > 0)
		return 0;
off:
	close(r->uffd);
	r->uffd = -1;
	return 0;
}

/* Unregister what restore_uffd_open registered: plain memory again. */
static int
restore_uffd_close(struct restore *r, char **cause)
{
	struct uffdio_range	 range;
	struct img_vma		*v;
	uint32_t		 i;

	if (r->uffd == -1)
		return 0;
	for (i = 0; i < r->img.nvmas; i++) {
		if (!r->uffd_vma[i])
			continue;
		v = &r->img.vmas[i];
		range.start = v->start;
		range.len = v->end - v->start;
		if (ioctl(r->uffd, UFFDIO_UNREGISTER, &range) == -1)
			return cause_set(cause, "UFFDIO_UNREGISTER %#" PRIx64 ": %s",
			    v->start, strerror(errno));
		r->uffd_vma[i] = 0;
	}
	close(r->uffd);
	r->uffd = -1;
	return 0;
}

/* A run of contiguous pages of one mapping, and how it goes in. */
struct restore_run {
	uint64_t	addr;
	uint32_t	len;
	uint32_t	uffd;		/* by UFFDIO_COPY, else process_vm_writev */
};

/* A PAGES section on its way from the image into the stub. */
struct restore_slot {
	pid_t			pid;
	int			uffd;
	uint32_t		nruns;
	struct restore_run	runs[IMG_PAGES_PER_SECTION];
	uint8_t			data[IMG_PAGES_PER_SECTION * CKPT_PAGE];
};

static int
restore_slot_write(void *arg, void *p, char **cause)
{
	struct restore_slot	*slot = p;
	struct restore_run	*run;
	struct uffdio_copy	 copy;
	struct iovec		 local, remote;
	uint64_t		 done;
	size_t			 off = 0;
	uint32_t		 i;
	ssize_t			 n;

	for (i = 0; i < slot->nruns; i++) {
		run = &slot->runs[i];
		for (done = 0; done < run->len; done += n) {
			if (run->uffd) {
				memset(&copy, 0, sizeof copy);
				copy.dst = run->addr + done;
				copy.src = (uint64_t)(slot->data + off + done);
				copy.len = run->len - done;
				n = ioctl(slot->uffd, UFFDIO_COPY, &copy) == -1 ?
				    -1 : (ssize_t)copy.copy;
				/* A partial copy (EAGAIN) says how far it got. */
				if (n == -1 && errno == EAGAIN && copy.copy > 0)
					n = copy.copy;
			} else {
				local.iov_base = slot->data + off + done;
				local.iov_len = run->len - done;
				remote.iov_base = (void *)(run->addr + done);
				remote.iov_len = local.iov_len;
				n = process_vm_writev(slot->pid, &local, 1, &remote, 1,
				    0);
			}
			if (n <= 0)
				return cause_set(cause, "writing %u pages at %#" PRIx64
				    ": %s", run->len / (uint32_t)CKPT_PAGE, run->addr,
				    n == -1 ? strerror(errno) : "short write");
		}
		off += run->len;
	}
	return 0;
}

/*
 * The crc32c of a page at addr, but for the bytes of the rseq area: the
 * kernel writes the running CPU there whenever the restored (or dumped)
 * task returns to user mode, so they are the kernel's, not the image's.
 */
static uint32_t
page_crc(const struct restore *r, uint64_t addr, const uint8_t *data)
{
	uint8_t		tmp[CKPT_PAGE];
	uint64_t	lo = r->img.proc.rseq_addr, hi;

	hi = lo + r->img.proc.rseq_len;
	if (lo == 0 || hi <= addr || lo >= addr + CKPT_PAGE)
		return crc32c(0, data, CKPT_PAGE);
	memcpy(tmp, data, CKPT_PAGE);
	if (lo < addr)
		lo = addr;
	if (hi > addr + CKPT_PAGE)
		hi = addr + CKPT_PAGE;
	memset(tmp + (lo - addr), 0, hi - lo);
	return crc32c(0, tmp, CKPT_PAGE);
}

/* Remember each page of a section and its crc, for restore_verify. */
static void
restore_note_pages(struct restore *r, const struct img_pages *pg)
{
	uint32_t	i;

	if (r->npg + pg->count > r->cpg) {
		while (r->npg + pg->count > r->cpg)
			r->cpg = r->cpg == 0 ? 4096 : r->cpg * 2;
		r->paddr = xreallocarray(r->paddr, r->cpg, sizeof *r->paddr);
		r->pcrc = xreallocarray(r->pcrc, r->cpg, sizeof *r->pcrc);
	}
	for (i = 0; i < pg->count; i++) {
		r->paddr[r->npg] = img_page_addr(pg, i);
		r->pcrc[r->npg] = page_crc(r, r->paddr[r->npg],
		    pg->data + (size_t)i * CKPT_PAGE);
		r->npg++;
	}
}

/*
 * Page contents. This thread reads and checks the image; the
 * pipe's thread puts each section into the stub (faulting the fresh
 * memory in is most of the cost).
 */
static int
restore_pages(struct restore *r, char **cause)
{
	struct ckpt_pipe	*cp;
	struct restore_slot	*slot;
	struct restore_run	*run;
	struct img_pages	 pg;
	const struct img_vma	*v, *last;
	uint64_t		 addr;
	uint32_t		 i, cur = 0;
	int			 rv, own = 1;

	cp = ckpt_pipe_new(RESTORE_SLOTS, sizeof *slot, restore_slot_write, NULL);
	while ((rv = img_read_pages(r->rd, &pg, cause)) == 1) {
		if (pg.count > IMG_PAGES_PER_SECTION) {
			rv = cause_set(cause, "PAGES section of %u pages", pg.count);
			break;
		}
		if ((slot = ckpt_pipe_get(cp)) == NULL) {
			rv = -1;
			own = 0;	/* the writer failed: its cause */
			break;
		}
		slot->pid = r->pid;
		slot->uffd = r->uffd;
		slot->nruns = 0;
		last = NULL;
		for (i = 0; i < pg.count; i++) {
			addr = img_page_addr(&pg, i);
			v = find_vma(&r->img, addr, &cur);
			if (v == NULL || v->npages == 0 || (v->flags & (IMG_VMA_VDSO |
			    IMG_VMA_VVAR | IMG_VMA_VSYSCALL)) ||
			    ((v->flags & IMG_VMA_SHARED) && (v->flags & IMG_VMA_FILE))) {
				rv = cause_set(cause, "page %#" PRIx64 " is not in a "
				    "private mapping of the image", addr);
				break;
			}
			if (slot->nruns > 0 && v == last) {
				run = &slot->runs[slot->nruns - 1];
				if (run->addr + run->len == addr) {
					run->len += CKPT_PAGE;
					continue;
				}
			}
			run = &slot->runs[slot->nruns++];
			run->addr = addr;
			run->len = CKPT_PAGE;
			run->uffd = r->uffd != -1 && r->uffd_vma[v - r->img.vmas];
			last = v;
		}
		if (rv == -1)
			break;
		restore_note_pages(r, &pg);
		memcpy(slot->data, pg.data, (size_t)pg.count * CKPT_PAGE);
		ckpt_pipe_put(cp);
		r->stats->pages += pg.count;
	}
	if (ckpt_pipe_finish(cp, rv == -1 && own ? NULL : cause) == -1)
		rv = -1;
	if (rv == 0)
		rv = restore_uffd_close(r, cause);
	return rv;
}

/* Each mapping's own protection. */
static int
restore_prot(struct restore *r, char **cause)
{
	struct img_vma	*v;
	uint32_t	 i;
	long		 ret;

	for (i = 0; i < r->img.nvmas; i++) {
		v = &r->img.vmas[i];
		if (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_VSYSCALL) ||
		    r->mapped_prot[i] == v->prot)
			continue;
		if (CALL(r, &ret, cause, SYS_mprotect, v->start, v->end - v->start,
		    v->prot) == -1 || call_ok(ret, cause, "mprotect %#" PRIx64
		    "-%#" PRIx64, v->start, v->end) == -1)
			return -1;
	}
	return 0;
}

/* prlimit64 by the stub on itself: it gets what its own privileges allow. */
static int
set_rlimit(struct restore *r, int res, uint64_t cur, uint64_t max, long *ret,
    char **cause)
{
	uint64_t	rl[2] = { cur, max };

	if (inject_write(r->in, SCR_MISC, rl, sizeof rl, cause) == -1)
		return -1;
	return CALL(r, ret, cause, SYS_prlimit64, 0, res,
	    inject_scratch(r->in) + SCR_MISC, 0);
}

/*
 * Rlimits, set by the stub itself rather than by us: a restorer
 * with privilege must not lend it to an image (raising a hard limit). What
 * the stub may not do is skipped, which is no reason to fail the restore.
 * Runs after the fds: a process may have lowered RLIMIT_NOFILE below fds
 * it already had open.
 */
static int
restore_rlimits(struct restore *r, char **cause)
{
	uint64_t	cur, max, now[2];
	long		ret;
	int		i;

	for (i = 0; i < IMG_NRLIMITS && i < RLIM_NLIMITS; i++) {
		cur = r->img.proc.rlim[i].cur;
		max = r->img.proc.rlim[i].max;
		/* A guest only lowers its limits: the host's bind it too. */
		if (r->flags & RESTORE_GUEST) {
			if (CALL(r, &ret, cause, SYS_prlimit64, 0, i, 0,
			    inject_scratch(r->in) + SCR_MISC) == -1 ||
			    inject_read(r->in, SCR_MISC, now, sizeof now,
			    cause) == -1)
				return -1;
			if (ret != 0)
				continue;
			if (max > now[1])
				max = now[1];
			if (cur > max)
				cur = max;
			if (cur == now[0] && max == now[1])
				continue;
		}
		if (set_rlimit(r, i, cur, max, &ret, cause) == -1)
			return -1;
		if (ret != 0)
			log_debug("pid %ld: prlimit(%d): %s", (long)r->pid, i,
			    strerror(-ret));
	}
	return 0;
}

/*
 * Locked memory, once the pages are in and the limits are the image's:
 * mlock2 each locked mapping (on fault where it was), then mlockall
 * (MCL_FUTURE) if it was in force. A lock the restorer may not take
 * (RLIMIT_MEMLOCK) fails the restore naming the range: silently
 * unlocked memory is state lost.
 */
static int
restore_locks(struct restore *r, char **cause)
{
	const struct img_vma	*v;
	uint32_t		 i, fl;
	long			 ret;

	for (i = 0; i < r->img.nvmas; i++) {
		v = &r->img.vmas[i];
		if (!(v->madv & IMG_MADV_LOCKED) || (v->flags & (IMG_VMA_VDSO |
		    IMG_VMA_VVAR | IMG_VMA_VSYSCALL)))
			continue;
		fl = (v->madv & IMG_MADV_LOCKONFAULT) ? MLOCK_ONFAULT : 0;
		if (CALL(r, &ret, cause, SYS_mlock2, v->start, v->end - v->start,
		    fl) == -1 || call_ok(ret, cause, "mlock%s %#" PRIx64 "-%#"
		    PRIx64, fl ? " (on fault)" : "", v->start, v->end) == -1)
			return -1;
	}
	if (r->img.proc.mlockall == 0)
		return 0;
	fl = MCL_FUTURE | ((r->img.proc.mlockall & IMG_MCL_ONFAULT) ?
	    MCL_ONFAULT : 0);
	if (CALL(r, &ret, cause, SYS_mlockall, fl) == -1 ||
	    call_ok(ret, cause, "mlockall(MCL_FUTURE%s)", (fl & MCL_ONFAULT) ?
	    " | MCL_ONFAULT" : "") == -1)
		return -1;
	return 0;
}

static int
gid_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Supplementary groups: the image's, set by the stub itself (setgroups)
 * when its own differ, so the kernel judges with the restorer's rights: a
 * root restore puts them back, an unprivileged one whose groups differ is
 * refused naming them. A guest's are omm-guest's (its calls that need
 * them run in its deputy, with the process's groups); the original keeps
 * its own.
 */
static int
restore_groups(struct restore *r, char **cause)
{
	const struct img_proc	*p = &r->img.proc;
	uint32_t		*want, have[4096];
	uint32_t		 nhave = 0, i;
	uint64_t		 len;
	struct iovec		 lv, rv;
	char			*text, list[256];
	long			 map, ret;
	int			 same, rc = -1;

	if (r->flags & (RESTORE_GUEST | RESTORE_ORIGINAL))
		return 0;
	if (procfs_slurp(r->pid, "status", &text, NULL, cause) == -1)
		return -1;
	if (procfs_groups_parse(text, have, sizeof have / sizeof have[0],
	    &nhave, NULL) == -1)
		nhave = UINT32_MAX;	/* more than we look at: set them */
	free(text);
	want = xcalloc(p->ngroups ? p->ngroups : 1, sizeof *want);
	if (p->ngroups != 0)
		memcpy(want, p->groups, (size_t)p->ngroups * sizeof *want);
	qsort(want, p->ngroups, sizeof *want, gid_cmp);
	qsort(have, nhave == UINT32_MAX ? 0 : nhave, sizeof *have, gid_cmp);
	same = nhave == p->ngroups && (nhave == 0 ||
	    memcmp(have, want, (size_t)nhave * sizeof *have) == 0);
	if (same) {
		free(want);
		return 0;
	}
	/* the list may be larger than the scratch pages: a mapping of its own */
	len = ((uint64_t)p->ngroups * 4 + CKPT_PAGE) & ~(CKPT_PAGE - 1);
	if (CALL(r, &map, cause, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0) == -1 ||
	    call_ok(map, cause, "mapping the group list") == -1)
		goto out;
	lv.iov_base = want;
	lv.iov_len = (size_t)p->ngroups * 4;
	rv.iov_base = (void *)map;
	rv.iov_len = lv.iov_len;
	if (lv.iov_len != 0 &&
	    process_vm_writev(r->pid, &lv, 1, &rv, 1, 0) != (ssize_t)lv.iov_len) {
		cause_set(cause, "writing the group list: %s", strerror(errno));
		goto out;
	}
	if (CALL(r, &ret, cause, SYS_setgroups, p->ngroups, map) == -1)
		goto out;
	if (ret != 0) {
		list[0] = '\0';
		for (i = 0; i < p->ngroups && strlen(list) < sizeof list - 16; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list),
			    "%s%u", i == 0 ? "" : " ", want[i]);
		cause_set(cause, "supplementary groups %s: setgroups: %s (the "
		    "restoring process has other groups and may not change "
		    "them)", p->ngroups == 0 ? "(none)" : list,
		    strerror((int)-ret));
		goto out;
	}
	if (CALL(r, &ret, cause, SYS_munmap, map, len) == -1)
		goto out;
	rc = 0;
out:
	free(want);
	return rc;
}

/*
 * membarrier: the private expedited registrations the image names. The
 * GLOBAL_EXPEDITED registration cannot be read back (no command answers
 * EPERM without it), so every restored process is registered for it where
 * the kernel offers it: a registration only makes the kernel send the
 * process barriers it asks for, never changes what it computes, and a
 * process that relied on it must not lose it (docs/limits.md).
 */
static const struct {
	uint32_t	 bit;
	int		 cmd;
	const char	*name;
} membarrier_reg[] = {
	{ IMG_MEMBARRIER_PRIVATE_EXPEDITED,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, "private expedited" },
	{ IMG_MEMBARRIER_SYNC_CORE,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
	    "private expedited sync-core" },
	{ IMG_MEMBARRIER_RSEQ, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
	    "private expedited rseq" },
};

static int
restore_membarrier(struct restore *r, char **cause)
{
	size_t	k;
	long	q, ret;

	if (CALL(r, &q, cause, SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0) == -1)
		return -1;
	if (q < 0)
		q = 0;
	if ((q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
	    (CALL(r, &ret, cause, SYS_membarrier,
	    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == -1 ||
	    call_ok(ret, cause, "membarrier: registering global expedited") == -1))
		return -1;
	for (k = 0; k < sizeof membarrier_reg / sizeof membarrier_reg[0]; k++) {
		if (!(r->img.proc.membarrier & membarrier_reg[k].bit))
			continue;
		if (!(q & membarrier_reg[k].cmd))
			return cause_set(cause, "membarrier: the process registered "
			    "%s, which this kernel does not offer",
			    membarrier_reg[k].name);
		if (CALL(r, &ret, cause, SYS_membarrier, membarrier_reg[k].cmd,
		    0, 0) == -1 || call_ok(ret, cause, "membarrier: registering "
		    "%s", membarrier_reg[k].name) == -1)
			return -1;
	}
	return 0;
}

/* Before the fds: room for the highest fd of the image, if the stub has less. */
static int
restore_nofile(struct restore *r, char **cause)
{
	uint64_t	rl[2];
	uint32_t	k;
	long		ret;
	int		maxfd = 2;

	if (r->flags & RESTORE_KEEP_FILES)
		return 0;
	for (k = 0; k < r->img.nfds; k++) {
		if (r->img.fds[k].fd > maxfd)
			maxfd = r->img.fds[k].fd;
	}
	if (CALL(r, &ret, cause, SYS_prlimit64, 0, RLIMIT_NOFILE, 0,
	    inject_scratch(r->in) + SCR_MISC) == -1 ||
	    call_ok(ret, cause, "getting RLIMIT_NOFILE") == -1 ||
	    inject_read(r->in, SCR_MISC, rl, sizeof rl, cause) == -1)
		return -1;
	if ((uint64_t)maxfd < rl[0])
		return 0;
	if (set_rlimit(r, RLIMIT_NOFILE, (uint64_t)maxfd + 1 > rl[1] ? rl[1] :
	    (uint64_t)maxfd + 1, rl[1], &ret, cause) == -1)
		return -1;
	return 0;
}

static const struct img_fd *
image_fd(const struct img *img, int fd)
{
	uint32_t	i;

	for (i = 0; i < img->nfds; i++) {
		if (img->fds[i].fd == fd)
			return &img->fds[i];
	}
	return NULL;
}

/* The file status flags F_SETFL can change; O_ASYNC is refused at dump. */
#define RESTORE_FL	(O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

/*
 * A terminal or pipe rebound to the restorer's fd gets the status flags
 * the process had set on it (O_NONBLOCK, O_APPEND...): they belong to the
 * open file description, which the restorer's fd is now.
 */
static int
restore_fd_status(struct restore *r, const struct img_fd *f, char **cause)
{
	long	fl, ret;

	if (CALL(r, &fl, cause, SYS_fcntl, f->fd, F_GETFL) == -1 ||
	    call_ok(fl, cause, "fd %d: F_GETFL", f->fd) == -1)
		return -1;
	if (((uint32_t)fl & RESTORE_FL) == (f->flags & RESTORE_FL))
		return 0;
	if (CALL(r, &ret, cause, SYS_fcntl, f->fd, F_SETFL,
	    ((uint32_t)fl & ~RESTORE_FL) | (f->flags & RESTORE_FL)) == -1 ||
	    call_ok(ret, cause, "fd %d: setting its status flags %#o",
	    f->fd, f->flags & RESTORE_FL) == -1)
		return -1;
	return 0;
}

/* Fds. The stub's 0-2 stand in for the image's terminals and pipes. */
static int
restore_fds(struct restore *r, char **cause)
{
	const struct img_fd	*f, *g;
	int			*fds;
	size_t			 n, i;
	uint32_t		 k;
	long			 ret, fd;
	int			 oflags;

	if (r->flags & RESTORE_KEEP_FILES)
		return 0;
	if (procfs_fds(r->pid, &fds, &n, cause) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		f = image_fd(&r->img, fds[i]);
		if (fds[i] <= 2 && f != NULL && f->kind == IMG_FD_STDIO)
			continue;
		if (f != NULL && r->fd_early != NULL && r->fd_early[f - r->img.fds])
			continue;
		if (CALL(r, &ret, cause, SYS_close, fds[i]) == -1) {
			free(fds);
			return -1;
		}
	}
	free(fds);
	for (k = 0; k < r->img.nfds; k++) {
		f = &r->img.fds[k];
		if (f->kind == IMG_FD_PIPE)
			continue;
		if (f->kind == IMG_FD_STDIO) {
			if (CALL(r, &ret, cause, SYS_fcntl, f->fd, F_SETFD,
			    f->cloexec ? FD_CLOEXEC : 0) == -1)
				return -1;
			if (ret == -EBADF) {
				log_debug("pid %ld: fd %d: the restorer has no fd %d",
				    (long)r->pid, f->fd, f->fd);
				continue;
			}
			if (restore_fd_status(r, f, cause) == -1)
				return -1;
			continue;
		}
		if (f->shared_with != 0) {
			/* One open file description, one offset: dup the first. */
			g = image_fd(&r->img, (int)f->shared_with - 1);
			if (g == NULL || g->fd >= f->fd || g->kind != f->kind ||
			    g->kind == IMG_FD_STDIO || g->kind == IMG_FD_PIPE)
				return cause_set(cause, "fd %d: shares with fd %u, "
				    "which is no fd of its kind before it", f->fd,
				    f->shared_with - 1);
			if (CALL(r, &ret, cause, SYS_dup3, g->fd, f->fd,
			    f->cloexec ? O_CLOEXEC : 0) == -1 ||
			    call_ok(ret, cause, "fd %d: dup3", f->fd) == -1)
				return -1;
			continue;
		}
		if (f->kind >= IMG_FD_EVENTFD) {
			if (ckpt_fdkind_restore(r->pid, r->in, &r->img, f,
			    r->fd_early != NULL && r->fd_early[k], cause) == -1)
				return -1;
			continue;
		}
		oflags = f->flags & ~(O_CREAT | O_TRUNC | O_EXCL | O_NOCTTY |
		    O_CLOEXEC);
		if (f->cloexec)
			oflags |= O_CLOEXEC;
		if (put_str(r, f->path, cause) == -1 ||
		    CALL(r, &fd, cause, SYS_open, inject_scratch(r->in) + SCR_STR,
		    oflags) == -1 ||
		    call_ok(fd, cause, "fd %d: open %s", f->fd, f->path) == -1)
			return -1;
		if (fd != f->fd) {
			if (CALL(r, &ret, cause, SYS_dup3, fd, f->fd,
			    f->cloexec ? O_CLOEXEC : 0) == -1 ||
			    call_ok(ret, cause, "fd %d: dup3", f->fd) == -1 ||
			    CALL(r, &ret, cause, SYS_close, fd) == -1)
				return -1;
		}
		if (f->kind == IMG_FD_FILE && f->pos != 0) {
			if (CALL(r, &ret, cause, SYS_lseek, f->fd, f->pos,
			    SEEK_SET) == -1 ||
			    call_ok(ret, cause, "fd %d: lseek %s to %" PRIu64,
			    f->fd, f->path, f->pos) == -1)
				return -1;
		}
	}
	return 0;
}

/* Epoll interest lists, once every fd they name exists. */
static int
restore_epolls(struct restore *r, char **cause)
{
	const struct img_fd	*f;
	uint32_t		 k;

	if (r->flags & RESTORE_KEEP_FILES)
		return 0;
	for (k = 0; k < r->img.nfds; k++) {
		f = &r->img.fds[k];
		if (f->kind != IMG_FD_EPOLL || f->shared_with != 0)
			continue;
		if (ckpt_epoll_fill(r->in, f, cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * Self-pipes: a new pipe per pair, its ends first moved above every fd of
 * the image (so placing one end cannot close the other), then dup'd to each
 * fd that held that end.
 */
static int
restore_pipes(struct restore *r, char **cause)
{
	const struct img_fd	*f, *g;
	uint64_t		 scr = inject_scratch(r->in);
	int32_t			 tmp[2];
	long			 ret, high[2];
	uint32_t		 k, j;
	int			 maxfd = 0, e;

	if (r->flags & RESTORE_KEEP_FILES)
		return 0;
	for (k = 0; k < r->img.nfds; k++) {
		if (r->img.fds[k].fd > maxfd)
			maxfd = r->img.fds[k].fd;
	}
	for (k = 0; k < r->img.nfds; k++) {
		f = &r->img.fds[k];
		if (f->kind != IMG_FD_PIPE)
			continue;
		for (j = 0; j < k; j++) {
			if (r->img.fds[j].kind == IMG_FD_PIPE &&
			    r->img.fds[j].ino == f->ino)
				break;
		}
		if (j < k)
			continue;	/* pair already made */
		if (CALL(r, &ret, cause, SYS_pipe2, scr + SCR_MISC, O_CLOEXEC) == -1 ||
		    call_ok(ret, cause, "fd %d: pipe2", f->fd) == -1 ||
		    inject_read(r->in, SCR_MISC, tmp, sizeof tmp, cause) == -1)
			return -1;
		for (e = 0; e < 2; e++) {
			if (CALL(r, &high[e], cause, SYS_fcntl, tmp[e],
			    F_DUPFD_CLOEXEC, maxfd + 1) == -1 ||
			    call_ok(high[e], cause, "fd %d: F_DUPFD", f->fd) == -1 ||
			    CALL(r, &ret, cause, SYS_close, tmp[e]) == -1)
				return -1;
		}
		for (j = k; j < r->img.nfds; j++) {
			g = &r->img.fds[j];
			if (g->kind != IMG_FD_PIPE || g->ino != f->ino)
				continue;
			e = (g->flags & O_ACCMODE) == O_WRONLY;
			if (CALL(r, &ret, cause, SYS_dup3, high[e], g->fd,
			    g->cloexec ? O_CLOEXEC : 0) == -1 ||
			    call_ok(ret, cause, "fd %d: dup3", g->fd) == -1 ||
			    CALL(r, &ret, cause, SYS_fcntl, g->fd, F_SETFL,
			    g->flags & ~(O_ACCMODE | O_CLOEXEC)) == -1 ||
			    call_ok(ret, cause, "fd %d: F_SETFL", g->fd) == -1)
				return -1;
		}
		for (e = 0; e < 2; e++) {
			if (CALL(r, &ret, cause, SYS_close, high[e]) == -1)
				return -1;
		}
	}
	return 0;
}

/*
 * PR_SET_MM_MAP: the mm fields /proc and brk() use, and the auxv. exe_fd
 * needs CAP_CHECKPOINT_RESTORE in the stub; without it /proc/PID/exe stays
 * the restorer's binary.
 */
static int
restore_mm(struct restore *r, char **cause)
{
	const struct img_proc	*p = &r->img.proc;
	struct prctl_mm_map	 mm;
	long			 ret, exefd = -1;
	uint64_t		 scr = inject_scratch(r->in);

	memset(&mm, 0, sizeof mm);
	mm.start_code = p->start_code;
	mm.end_code = p->end_code;
	mm.start_data = p->start_data;
	mm.end_data = p->end_data;
	mm.start_brk = p->start_brk;
	mm.brk = p->brk;
	mm.start_stack = p->start_stack;
	mm.arg_start = p->arg_start;
	mm.arg_end = p->arg_end;
	mm.env_start = p->env_start;
	mm.env_end = p->env_end;
	mm.auxv = (__u64 *)(scr + SCR_AUXV);
	mm.auxv_size = p->auxv_n * 8;
	if (inject_write(r->in, SCR_AUXV, p->auxv, mm.auxv_size, cause) == -1)
		return -1;
	/* The original's exe is the image's already: it never exec'd away. */
	if (p->exe != NULL && p->exe[0] == '/' &&
	    !(r->flags & RESTORE_ORIGINAL)) {
		if (put_str(r, p->exe, cause) == -1 ||
		    CALL(r, &exefd, cause, SYS_open, scr + SCR_STR,
		    O_RDONLY | O_CLOEXEC) == -1)
			return -1;
	}
	mm.exe_fd = exefd >= 0 ? (uint32_t)exefd : (uint32_t)-1;
	if (inject_write(r->in, SCR_MISC, &mm, sizeof mm, cause) == -1 ||
	    CALL(r, &ret, cause, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP,
	    scr + SCR_MISC, sizeof mm) == -1)
		return -1;
	/* EBUSY: the old exe is mapped again (the kernel forbids a change). */
	if ((ret == -EPERM || ret == -EBUSY) && exefd >= 0) {
		log_debug("pid %ld: PR_SET_MM_MAP with exe: %s", (long)r->pid,
		    strerror(-ret));
		mm.exe_fd = (uint32_t)-1;
		if (inject_write(r->in, SCR_MISC, &mm, sizeof mm, cause) == -1 ||
		    CALL(r, &ret, cause, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP,
		    scr + SCR_MISC, sizeof mm) == -1)
			return -1;
	}
	if (call_ok(ret, cause, "PR_SET_MM_MAP") == -1)
		return -1;
	if (exefd >= 0 && CALL(r, &ret, cause, SYS_close, exefd) == -1)
		return -1;
	return 0;
}

/* Cwd, umask, personality, comm, signal handlers and the rest. */
static int
restore_task(struct restore *r, char **cause)
{
	const struct img_proc		*p = &r->img.proc;
	const struct img_signals	*s = &r->img.sig;
	uint8_t				 acts[64 * 32], ss[24];
	uint64_t			 scr = inject_scratch(r->in);
	uint32_t			 flags;
	long				 ret;
	int				 sig;

	if (!(r->flags & RESTORE_KEEP_FILES)) {
		if (put_str(r, p->cwd, cause) == -1 ||
		    CALL(r, &ret, cause, SYS_chdir, scr + SCR_STR) == -1 ||
		    call_ok(ret, cause, "chdir %s", p->cwd) == -1)
			return -1;
		if (CALL(r, &ret, cause, SYS_umask, p->umask & 0777) == -1)
			return -1;
	}
	if (CALL(r, &ret, cause, SYS_personality, p->personality) == -1 ||
	    call_ok(ret, cause, "personality %#x", p->personality) == -1)
		return -1;
	if (inject_write(r->in, SCR_STR, p->comm, sizeof p->comm, cause) == -1 ||
	    CALL(r, &ret, cause, SYS_prctl, PR_SET_NAME, scr + SCR_STR) == -1 ||
	    call_ok(ret, cause, "PR_SET_NAME") == -1)
		return -1;

	for (sig = 1; sig <= 64; sig++) {
		uint8_t	*a = acts + (sig - 1) * 32;

		memcpy(a, &s->act[sig - 1].handler, 8);
		memcpy(a + 8, &s->act[sig - 1].flags, 8);
		memcpy(a + 16, &s->act[sig - 1].restorer, 8);
		memcpy(a + 24, &s->act[sig - 1].mask, 8);
	}
	if (inject_write(r->in, SCR_SIGACT, acts, sizeof acts, cause) == -1)
		return -1;
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (CALL(r, &ret, cause, SYS_rt_sigaction, sig,
		    scr + SCR_SIGACT + (sig - 1) * 32, 0, 8) == -1 ||
		    call_ok(ret, cause, "rt_sigaction(%d)", sig) == -1)
			return -1;
	}
	/* On the stack at dump (SS_ONSTACK) is not a flag one can set. */
	flags = s->ss_flags & ~SS_ONSTACK;
	memset(ss, 0, sizeof ss);
	if (!(flags & SS_DISABLE)) {
		memcpy(ss, &s->ss_sp, 8);
		memcpy(ss + 16, &s->ss_size, 8);
	}
	memcpy(ss + 8, &flags, 4);
	if (inject_write(r->in, SCR_MISC, ss, sizeof ss, cause) == -1 ||
	    CALL(r, &ret, cause, SYS_sigaltstack, scr + SCR_MISC, 0) == -1 ||
	    call_ok(ret, cause, "sigaltstack") == -1)
		return -1;

	if (p->robust_list != 0 && (CALL(r, &ret, cause, SYS_set_robust_list,
	    p->robust_list, p->robust_len) == -1 ||
	    call_ok(ret, cause, "set_robust_list") == -1))
		return -1;
	if (CALL(r, &ret, cause, SYS_set_tid_address, p->clear_tid) == -1)
		return -1;
	if (p->rseq_addr != 0 && (CALL(r, &ret, cause, SYS_rseq, p->rseq_addr,
	    p->rseq_len, 0, p->rseq_sig) == -1 ||
	    call_ok(ret, cause, "rseq registration at %#" PRIx64,
	    p->rseq_addr) == -1))
		return -1;
	return restore_mm(r, cause);
}

/*
 * Pending signals, queued by the stub to itself (any si_code is
 * allowed then). They stay pending while injection blocks them.
 */
static int
restore_pending(struct restore *r, char **cause)
{
	const struct img_siginfo	*ps;
	uint64_t			 scr = inject_scratch(r->in);
	int32_t				 signo;
	uint32_t			 i;
	long				 ret;

	for (i = 0; i < r->img.sig.npending; i++) {
		ps = &r->img.sig.pending[i];
		memcpy(&signo, ps->raw, 4);
		if (signo < 1 || signo > 64)
			return cause_set(cause, "pending signal %d", signo);
		/* unblocked while we inject: restore_finish queues it */
		if (signo == SIGTRAP)
			continue;
		if (inject_write(r->in, SCR_MISC, ps->raw, sizeof ps->raw,
		    cause) == -1)
			return -1;
		if (ps->shared) {
			if (CALL(r, &ret, cause, SYS_rt_sigqueueinfo, r->pid, signo,
			    scr + SCR_MISC) == -1)
				return -1;
		} else {
			if (CALL(r, &ret, cause, SYS_rt_tgsigqueueinfo, r->pid,
			    r->pid, signo, scr + SCR_MISC) == -1)
				return -1;
		}
		if (call_ok(ret, cause, "queueing signal %d", signo) == -1)
			return -1;
	}
	return 0;
}

/* The other threads, created by the main one (ckpt-threads.c). */
static int
restore_threads(struct restore *r, char **cause)
{
	return ckpt_threads_restore(r->pid, r->in, &r->img, r->stats, cause);
}

/*
 * Interval and POSIX timers, armed with what was left of them at the dump
 * (ckpt-timers.c). After the pending signals, so that a timer signal that
 * was pending is in the queue before its timer can send another.
 */
static int
restore_timers(struct restore *r, char **cause)
{
	return ckpt_timers_restore(r->in, r->pid, &r->img.timers, &r->img.sig,
	    cause);
}

/*
 * A guest's seccomp filter, loaded by the guest itself after everything
 * else it must do natively, before the image's first instruction: the
 * program goes into a temporary mapping (the scratch pages are too small
 * for a big one), which munmap, a call the filter lets through, removes.
 */
static int
restore_seccomp(struct restore *r, char **cause)
{
	const struct sock_fprog	*f = r->filter;
	struct iovec		 lv, rv;
	uint64_t		 prog[2], len, flags;
	uint64_t		 scr = inject_scratch(r->in);
	long			 map, ret;

	if (!(r->flags & RESTORE_GUEST))
		return 0;
	if (f == NULL || f->len == 0 || f->filter == NULL)
		return cause_set(cause, "no seccomp filter for the guest");
	len = ((uint64_t)f->len * sizeof *f->filter + CKPT_PAGE - 1) &
	    ~(CKPT_PAGE - 1);
	if (CALL(r, &map, cause, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0) == -1 ||
	    call_ok(map, cause, "mapping the filter program") == -1)
		return -1;
	lv.iov_base = f->filter;
	lv.iov_len = (size_t)f->len * sizeof *f->filter;
	rv.iov_base = (void *)map;
	rv.iov_len = lv.iov_len;
	if (process_vm_writev(r->pid, &lv, 1, &rv, 1, 0) != (ssize_t)lv.iov_len)
		return cause_set(cause, "writing the filter program: %s",
		    strerror(errno));
	/* struct sock_fprog: unsigned short len (padded to 8), filter pointer */
	prog[0] = f->len;
	prog[1] = (uint64_t)map;
	if (inject_write(r->in, SCR_MISC, prog, sizeof prog, cause) == -1)
		return -1;
	if (CALL(r, &ret, cause, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    call_ok(ret, cause, "PR_SET_NO_NEW_PRIVS") == -1)
		return -1;
	flags = SECCOMP_FILTER_FLAG_NEW_LISTENER |
	    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	if (CALL(r, &ret, cause, SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
	    scr + SCR_MISC) == -1)
		return -1;
	if (ret == -EINVAL) {
		/* Before 5.19: a signal may then restart a forwarded call. */
		flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		if (CALL(r, &ret, cause, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    flags, scr + SCR_MISC) == -1)
			return -1;
	}
	if (call_ok(ret, cause, "loading the seccomp filter") == -1)
		return -1;
	r->listener = (int)ret;
	r->killable = (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0;
	if (CALL(r, &ret, cause, SYS_munmap, map, len) == -1 ||
	    call_ok(ret, cause, "unmapping the filter program") == -1)
		return -1;
	return 0;
}

/*
 * Last, before the process runs: read every page the image put in back out
 * of the process and compare it with what the image held. The stream's
 * own checks (a crc per section, the counts in END) cover the way from
 * the dump to here; this covers the way into the process's memory, so a
 * page lost on the way in (or zapped since) fails the restore instead of
 * coming back as zeros.
 */
/*
 * Fault injection for the tests of a failed check (docs/testing.md): with
 * OMM_FAULT_VERIFY=N in the environment, the first N checks of this
 * process find page contents that differ, as a real loss would.
 */
static int
fault_verify(void)
{
	static int	 left = -1;
	const char	*e;

	if (left == -1)
		left = (e = getenv("OMM_FAULT_VERIFY")) != NULL ? atoi(e) : 0;
	if (left <= 0)
		return 0;
	left--;
	return 1;
}

static int
restore_verify(struct restore *r, char **cause)
{
	const struct img_vma	*v;
	uint8_t			*buf;
	char			 path[64];
	uint32_t		 cur = 0, c;
	size_t			 i, n, k;
	int			 memfd, rv = -1;

	snprintf(path, sizeof path, "/proc/%ld/mem", (long)r->pid);
	if ((memfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cause_set(cause, "%s: %s", path, strerror(errno));
	buf = xmalloc(CKPT_READ_MAX * CKPT_PAGE);
	for (i = 0; i < r->npg; i += n) {
		if ((v = find_vma(&r->img, r->paddr[i], &cur)) == NULL) {
			cause_set(cause, "page %#" PRIx64 " is in no mapping",
			    r->paddr[i]);
			goto out;
		}
		for (n = 1; i + n < r->npg && n < CKPT_READ_MAX &&
		    r->paddr[i + n] > r->paddr[i + n - 1] &&
		    r->paddr[i + n] < v->end; n++)
			;
		if (ckpt_read_pages(r->pid, memfd, &r->paddr[i], n, buf,
		    (v->prot & PROT_READ) != 0, cause) == -1)
			goto out;
		for (k = 0; k < n; k++) {
			c = page_crc(r, r->paddr[i + k], buf + k * CKPT_PAGE);
			if (i + k == 0 && fault_verify())
				c = ~r->pcrc[0];	/* OMM_FAULT_VERIFY */
			if (c == r->pcrc[i + k])
				continue;
			cause_set(cause, "page %#" PRIx64 " of mapping %#" PRIx64
			    "-%#" PRIx64 " %s does not hold what the image "
			    "does (crc32c %08x, the image's %08x)",
			    r->paddr[i + k], v->start, v->end, v->path != NULL ?
			    v->path : "(anonymous)", c, r->pcrc[i + k]);
			goto out;
		}
	}
	rv = 0;
out:
	free(buf);
	close(memfd);
	return rv;
}

/* The area goes, the image's registers and mask come. */
static int
restore_finish(struct restore *r, char **cause)
{
	struct user_regs_struct	 regs;
	struct iovec		 iov;
	struct inject		*in = r->in;
	uint32_t		 i;
	int			 rv;

	rv = inject_fini(in, 0, cause);
	if (inject_exited(in, &r->stats->wstatus))
		r->stats->exited = 1;
	r->in = NULL;
	inject_free(in);
	if (rv == -1)
		return -1;
	memcpy(&regs, r->img.regs.gpr, sizeof regs);
	iov.iov_base = &regs;
	iov.iov_len = sizeof regs;
	if (ptrace(PTRACE_SETREGSET, r->pid, NT_PRSTATUS, &iov) == -1)
		return cause_set(cause, "PTRACE_SETREGSET NT_PRSTATUS: %s",
		    strerror(errno));
	iov.iov_base = r->img.regs.xstate;
	iov.iov_len = r->img.regs.xstate_len;
	if (ptrace(PTRACE_SETREGSET, r->pid, NT_X86_XSTATE, &iov) == -1)
		return cause_set(cause, "PTRACE_SETREGSET NT_X86_XSTATE: %s",
		    strerror(errno));
	for (i = 0; i < r->img.sig.npending; i++) {
		const struct img_siginfo	*ps = &r->img.sig.pending[i];
		siginfo_t			 si;

		memcpy(&si, ps->raw, sizeof si);
		if (si.si_signo == SIGTRAP && inject_requeue(r->pid, &si,
		    ps->shared, r->img.sig.blocked, &r->stats->exited,
		    &r->stats->wstatus, cause) == -1)
			return -1;
	}
	if (ptrace(PTRACE_SETSIGMASK, r->pid, sizeof r->img.sig.blocked,
	    &r->img.sig.blocked) == -1)
		return cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
	return inject_settle(r->pid, &r->stats->exited, &r->stats->wstatus,
	    cause);
}

/* The steps of a restore, in order; a failure names the step. */
static const struct restore_step {
	const char	*name;
	int		 (*fn)(struct restore *, char **);
} restore_steps[] = {
	{ "taking over the stub", restore_takeover },
	{ "mapped files", restore_files },
	{ "unmapping the stub", restore_unmap },
	{ "vdso", restore_vdso },
	{ "memfds of mappings", restore_memfds },
	{ "mappings", restore_vmas },
	{ "userfaultfd", restore_uffd_open },
	{ "pages", restore_pages },
	{ "protections", restore_prot },
	{ "fd limit", restore_nofile },
	{ "fds", restore_fds },
	{ "pipes", restore_pipes },
	{ "epoll interest lists", restore_epolls },
	{ "rlimits", restore_rlimits },
	{ "locked memory", restore_locks },
	{ "groups", restore_groups },
	{ "membarrier", restore_membarrier },
	{ "task state", restore_task },
	{ "checking the pages", restore_verify },
	{ "pending signals", restore_pending },
	{ "timers", restore_timers },
	{ "threads", restore_threads },
	{ "seccomp filter", restore_seccomp },
	{ "registers", restore_finish },
};

/*
 * Steps before this one leave nothing of the image's in the target that
 * the park loop would act on (its pending signals come after): a failed
 * RESTORE_REPARK restore can still put the original back in its loop.
 */
#define RESTORE_REPARKABLE	"pending signals"

/*
 * A failed restore into the original (RESTORE_REPARK): what it put in goes,
 * and the original loops in the park code again, stopped, as ckpt_park
 * left it; its image still runs where it ran.
 */
static int
restore_repark(struct restore *r, char **cause)
{
	struct ckpt_rseq_conf	rseq;
	uint64_t		page, mask = 0;
	long			ret;
	int			wstatus;

	if (r->uffd != -1) {
		close(r->uffd);
		r->uffd = -1;
	}
	/* an rseq area the restore registered is about to go: the kernel
	 * would kill the task the next time it writes there */
	if (ptrace(CKPT_PTRACE_GET_RSEQ_CONFIGURATION, r->pid, sizeof rseq,
	    &rseq) != -1 && rseq.rseq_abi_pointer != 0 &&
	    (CALL(r, &ret, cause, SYS_rseq, rseq.rseq_abi_pointer,
	    rseq.rseq_abi_size, CKPT_RSEQ_FLAG_UNREGISTER, rseq.signature) == -1 ||
	    call_ok(ret, cause, "unregistering rseq") == -1))
		return -1;
	if (restore_unmap(r, cause) == -1 ||
	    ckpt_park_code(r->in, r->pid, &page, cause) == -1 ||
	    inject_fini(r->in, 0, cause) == -1)
		return -1;
	inject_free(r->in);
	r->in = NULL;
	if (ckpt_park_regs(r->pid, page, cause) == -1 ||
	    inject_settle(r->pid, &r->stats->exited, &wstatus, cause) == -1)
		return -1;
	if (ptrace(PTRACE_SETSIGMASK, r->pid, sizeof mask, &mask) == -1)
		return cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
	return 0;
}

int
ckpt_restore(pid_t stub, int in_fd, struct restore_opts *opts,
    struct ckpt_stats *stats, char **cause)
{
	struct restore		 r;
	struct ckpt_stats	 dummy;
	double			 t0 = ckpt_now(), tstop;
	size_t			 i;
	char			*why = NULL;
	int			 rv = -1, reparkable = 1;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof *stats);
	memset(&r, 0, sizeof r);
	r.pid = stub;
	r.flags = opts != NULL ? opts->flags : 0;
	r.filter = opts != NULL ? opts->filter : NULL;
	r.listener = -1;
	r.stats = stats;
	r.check = opts != NULL ? opts->check : NULL;
	r.check_arg = opts != NULL ? opts->check_arg : NULL;
	if ((r.flags & RESTORE_GUEST) && (r.flags & RESTORE_ORIGINAL))
		return cause_set(cause, "restore: guest and original at once");
	r.vfd = -1;
	r.cfd = -1;
	if ((r.flags & RESTORE_COPIES) && (!(r.flags & RESTORE_GUEST) ||
	    !(r.flags & RESTORE_LEAVE_STOPPED)))
		return cause_set(cause, "restore: copies without a stopped guest");
	r.uffd = -1;
	r.rd = img_reader_new(in_fd);
	if (opts != NULL && opts->stall_ms > 0)
		img_reader_set_stall(r.rd, opts->stall_ms);
	if (img_read_meta(r.rd, &r.img, &why) == -1) {
		cause_set(cause, "%s", why);
		goto out_untouched;
	}
	if (restore_check(&r, &why) == -1) {
		cause_set(cause, "%s", why);
		goto out_untouched;
	}
	tstop = ckpt_now();
	for (i = 0; i < sizeof restore_steps / sizeof restore_steps[0]; i++) {
		double	ts = ckpt_now();

		if (strcmp(restore_steps[i].name, RESTORE_REPARKABLE) == 0)
			reparkable = 0;
		if (restore_steps[i].fn(&r, &why) == -1) {
			if (r.refused) {
				cause_set(cause, "%s", why);
				goto out_detach;
			}
			cause_set(cause, "%s: %s", restore_steps[i].name, why);
			goto out_fail;
		}
		log_debug("restore %ld: %s: %.3fs", (long)stub,
		    restore_steps[i].name, ckpt_now() - ts);
	}
	stats->vmas = r.img.nvmas;
	stats->bytes = img_reader_bytes(r.rd);
	if (!(r.flags & RESTORE_LEAVE_STOPPED) &&
	    ptrace(PTRACE_CONT, stub, 0, 0) == -1) {
		cause_set(cause, "resuming: %s", strerror(errno));
		goto out_kill;
	}
	if (!(r.flags & RESTORE_LEAVE_STOPPED))
		ckpt_threads_cont(stub);
	stats->freeze_secs = ckpt_now() - tstop;
	if (opts != NULL && (r.flags & RESTORE_GUEST)) {
		opts->listener = r.listener;
		opts->killable = r.killable;
	}
	rv = 0;
	goto out;

out_untouched:
	/* nothing of the target changed: an original stays as it is */
	if (r.flags & RESTORE_REPARK) {
		stats->parked = 1;
		goto out;
	}
	goto out_kill;
out_fail:
	/* an original whose image runs elsewhere goes back to its loop */
	if ((r.flags & RESTORE_REPARK) && reparkable && r.in == NULL &&
	    !stats->exited) {
		stats->parked = 1;	/* it failed before the injection began */
		goto out;
	}
	if ((r.flags & RESTORE_REPARK) && reparkable && r.in != NULL &&
	    !stats->exited) {
		free(why);
		why = NULL;
		if (restore_repark(&r, &why) == 0) {
			stats->parked = 1;
			goto out;
		}
		log_warnx("pid %ld: parking it again: %s", (long)stub, why);
	}
	goto out_kill;
out_detach:
	/* as it was: running on, with the signal the interrupt took */
	if (ptrace(PTRACE_DETACH, stub, 0, r.ncaught > 0 ?
	    r.caught[0].si_signo : 0) == -1 && errno != ESRCH)
		log_warn("restore %ld: PTRACE_DETACH", (long)stub);
	goto out;
out_kill:
	if (!stats->exited)
		kill(stub, SIGKILL);
out:
	free(r.caught);
	stats->secs = ckpt_now() - t0;
	free(why);
	inject_free(r.in);
	free(r.mapped_prot);
	free(r.fd_early);
	free(r.uffd_vma);
	free(r.paddr);
	free(r.pcrc);
	free(r.copy_of);
	if (rv == 0 && opts != NULL) {
		opts->copies = r.copies;
		opts->ncopies = r.ncopies;
	} else
		restore_copies_free(r.copies, r.ncopies);
	if (r.uffd != -1)
		close(r.uffd);
	img_free(&r.img);
	img_reader_free(r.rd);
	return rv;
}
