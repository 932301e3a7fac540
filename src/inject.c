/* inject.c: system calls run inside a stopped ptrace tracee. */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "omm/inject.h"
#include "omm/log.h"
#include "omm/procfs.h"
#include "omm/xmalloc.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

/* Where inject_init looks for a free spot when the caller has no hint. */
#define INJECT_SEARCH_FROM	0x10000000ULL
#define INJECT_SEARCH_TO	0x7ffffffff000ULL

struct inject {
	pid_t			pid;
	uint64_t		area;
	struct user_regs_struct	saved;
	uint64_t		saved_mask;
	siginfo_t		*strays;
	size_t			nstrays;
	int			exited;
	int			wstatus;
};

/* What a wait for the tracee expects to see. */
enum inj_stop {
	STOP_TRAP,		/* the int3 after the area's syscall */
	STOP_SYSCALL,		/* a syscall-entry or -exit stop */
};

static const uint8_t	inject_code[] = { 0x0f, 0x05, 0xcc };	/* syscall; int3 */

static void
add_stray(struct inject *in, const siginfo_t *si)
{
	in->strays = xreallocarray(in->strays, in->nstrays + 1,
	    sizeof *in->strays);
	in->strays[in->nstrays++] = *si;
}

/* Faults a resumed tracee would only hit again: never swallow them. */
static int
is_fault(const siginfo_t *si)
{
	return (si->si_signo == SIGSEGV || si->si_signo == SIGBUS ||
	    si->si_signo == SIGILL || si->si_signo == SIGFPE) && si->si_code > 0;
}

/*
 * Resume pid and wait for the stop that ends the step. Event stops (an
 * earlier PTRACE_INTERRUPT, a group stop) are resumed past; other signals
 * are dequeued as strays.
 */
static int
wait_stop(struct inject *in, pid_t pid, enum inj_stop want, uint64_t trap_rip,
    char **cause)
{
	struct user_regs_struct	 regs;
	siginfo_t		 si;
	int			 st, sig;
	long			 op;

	op = want == STOP_SYSCALL ? PTRACE_SYSCALL : PTRACE_CONT;
	if (ptrace(op, pid, 0, 0) == -1)
		return cause_set(cause, "resume: %s", strerror(errno));
	for (;;) {
		if (waitpid(pid, &st, __WALL) == -1) {
			if (errno == EINTR)
				continue;
			return cause_set(cause, "waitpid: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			in->exited = 1;
			in->wstatus = st;
			return cause_set(cause, "process exited during an injected "
			    "system call");
		}
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if ((st >> 16) != 0)
			goto resume;
		if (want == STOP_SYSCALL && sig == (SIGTRAP | 0x80))
			return 0;
		if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == -1)
			return cause_set(cause, "PTRACE_GETSIGINFO: %s",
			    strerror(errno));
		if (sig == SIGTRAP) {
			/* Without PTRACE_O_TRACESYSGOOD: si_code SIGTRAP. */
			if (want == STOP_SYSCALL && si.si_code == SIGTRAP)
				return 0;
			if (want == STOP_TRAP && si.si_code == SI_KERNEL) {
				if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
					return cause_set(cause, "PTRACE_GETREGS: %s",
					    strerror(errno));
				if (regs.rip == trap_rip)
					return 0;
			}
		}
		if (is_fault(&si))
			return cause_set(cause, "signal %d (code %d) at %p during an "
			    "injected system call", si.si_signo, si.si_code,
			    si.si_addr);
		add_stray(in, &si);
resume:
		if (ptrace(op, pid, 0, 0) == -1)
			return cause_set(cause, "resume: %s", strerror(errno));
	}
}

static void
set_args(struct user_regs_struct *r, long nr, const uint64_t a[6])
{
	r->rax = nr;
	/* -1: the kernel must not apply syscall-restart fix-ups on our way out. */
	r->orig_rax = (uint64_t)-1;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
}

/*
 * One system call through the instruction at insn, stopping at its entry
 * and exit: needs no area. Leaves the registers as the call left them.
 */
static int
syscall_at(struct inject *in, pid_t pid, uint64_t insn, long *ret, long nr,
    const uint64_t args[6], char **cause)
{
	struct user_regs_struct	regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
	regs.rip = insn;
	set_args(&regs, nr, args);
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_SETREGS: %s", strerror(errno));
	if (wait_stop(in, pid, STOP_SYSCALL, 0, cause) == -1)	/* entry */
		return -1;
	if (wait_stop(in, pid, STOP_SYSCALL, 0, cause) == -1)	/* exit */
		return -1;
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
	*ret = (long)regs.rax;
	return 0;
}

/* Search one mapping's bytes for "0f 05". */
static int
scan_vma(pid_t pid, const struct procfs_vma *v, uint64_t *insn)
{
	uint8_t		 buf[65536 + 1];
	struct iovec	 lv, rv;
	uint64_t	 a, len;
	ssize_t		 n, i;

	for (a = v->start; a < v->end && a < v->start + (4u << 20); a += 65536) {
		len = v->end - a < sizeof buf ? v->end - a : sizeof buf;
		lv.iov_base = buf;
		lv.iov_len = len;
		rv.iov_base = (void *)a;
		rv.iov_len = len;
		if ((n = process_vm_readv(pid, &lv, 1, &rv, 1, 0)) <= 1)
			return -1;
		for (i = 0; i + 1 < n; i++) {
			if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
				*insn = a + i;
				return 0;
			}
		}
	}
	return -1;
}

/*
 * Address of a "syscall" instruction in pid, its vDSO's first, outside
 * [skip, skip + skiplen): the first mmap of the area and its final munmap
 * run there, with syscall-entry and -exit stops.
 */
static int
find_syscall(pid_t pid, uint64_t skip, uint64_t skiplen, uint64_t *insn,
    char **cause)
{
	struct procfs_vma	*vmas;
	size_t			 n, i;
	int			 pass;

	if (procfs_maps(pid, 0, &vmas, &n, cause) == -1)
		return -1;
	/* The vDSO first: it is always there and never written by anyone. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const struct procfs_vma	*v = &vmas[i];
			int			 vdso = strcmp(v->path, "[vdso]") == 0;

			if ((pass == 0) != vdso)
				continue;
			if ((v->prot & (PROT_READ | PROT_EXEC)) !=
			    (PROT_READ | PROT_EXEC) ||
			    strcmp(v->path, "[vsyscall]") == 0)
				continue;
			if (skiplen != 0 && v->start < skip + skiplen && v->end > skip)
				continue;
			if (scan_vma(pid, v, insn) == 0) {
				procfs_vmas_free(vmas, n);
				return 0;
			}
		}
	}
	procfs_vmas_free(vmas, n);
	return cause_set(cause, "no syscall instruction in any executable "
	    "mapping of %ld", (long)pid);
}

/* A free range of the tracee for the area, with a free page either side. */
static int
pick_area(pid_t pid, uint64_t *addr, char **cause)
{
	struct procfs_vma	*vmas;
	size_t			 n, i;
	uint64_t		 lo = INJECT_SEARCH_FROM, need;

	need = INJECT_AREA_SIZE + 2 * 4096;
	if (procfs_maps(pid, 0, &vmas, &n, cause) == -1)
		return -1;
	for (i = 0; i <= n; i++) {
		uint64_t	hi = i < n ? vmas[i].start : INJECT_SEARCH_TO;

		if (hi > INJECT_SEARCH_TO)
			hi = INJECT_SEARCH_TO;
		if (hi > lo && hi - lo >= need) {
			*addr = lo + 4096;
			procfs_vmas_free(vmas, n);
			return 0;
		}
		if (i < n && vmas[i].end > lo)
			lo = vmas[i].end;
	}
	procfs_vmas_free(vmas, n);
	return cause_set(cause, "no free address range for the injection area");
}

/* Copy between us and the tracee's area (code page or scratch). */
static int
area_io(struct inject *in, uint64_t addr, void *p, size_t len, int write,
    char **cause)
{
	struct iovec	lv, rv;
	ssize_t		n;

	lv.iov_base = p;
	lv.iov_len = len;
	rv.iov_base = (void *)addr;
	rv.iov_len = len;
	if (write)
		n = process_vm_writev(in->pid, &lv, 1, &rv, 1, 0);
	else
		n = process_vm_readv(in->pid, &lv, 1, &rv, 1, 0);
	if (n == -1)
		return cause_set(cause, "%s the injection area: %s",
		    write ? "writing" : "reading", strerror(errno));
	if ((size_t)n != len)
		return cause_set(cause, "%s the injection area: short",
		    write ? "writing" : "reading");
	return 0;
}

static int
scratch_io(struct inject *in, size_t off, void *p, size_t len, int write,
    char **cause)
{
	if (off > INJECT_SCRATCH_SIZE || len > INJECT_SCRATCH_SIZE - off)
		fatalx("inject scratch access at %zu+%zu", off, len);
	return area_io(in, inject_scratch(in) + off, p, len, write, cause);
}

/* A call through syscall_at whose failure message says what it was for. */
static int
area_call(struct inject *in, uint64_t insn, long *ret, long nr,
    const uint64_t args[6], const char *what, char **cause)
{
	char	*why = NULL;

	if (syscall_at(in, in->pid, insn, ret, nr, args, &why) == -1) {
		cause_set(cause, "%s: %s", what, why);
		free(why);
		return -1;
	}
	if (*ret < 0 && *ret > -4096)
		return cause_set(cause, "%s: %s", what, strerror(-*ret));
	return 0;
}

struct inject *
inject_init(pid_t pid, uint64_t hint, char **cause)
{
	struct inject	*in;
	uint64_t	 insn, mask;
	long		 ret;

	in = xcalloc(1, sizeof *in);
	in->pid = pid;
	if (ptrace(PTRACE_GETREGS, pid, 0, &in->saved) == -1) {
		cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
		goto fail;
	}
	if (ptrace(PTRACE_GETSIGMASK, pid, sizeof mask, &in->saved_mask) == -1) {
		cause_set(cause, "PTRACE_GETSIGMASK: %s", strerror(errno));
		goto fail;
	}
	mask = ~0ULL & ~(1ULL << (SIGTRAP - 1));
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof mask, &mask) == -1) {
		cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
		goto fail;
	}
	if (hint == 0 && pick_area(pid, &hint, cause) == -1)
		goto fail_mask;
	if (find_syscall(pid, 0, 0, &insn, cause) == -1)
		goto fail_mask;
	if (area_call(in, insn, &ret, SYS_mmap, (const uint64_t[6]){ hint,
	    INJECT_AREA_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 },
	    "mapping the injection area", cause) == -1)
		goto fail_regs;
	in->area = (uint64_t)ret;
	if (in->area != hint) {
		cause_set(cause, "injection area landed at %#" PRIx64 ", not %#"
		    PRIx64, in->area, hint);
		goto fail_unmap;
	}
	if (area_io(in, in->area, (void *)inject_code, sizeof inject_code, 1,
	    cause) == -1)
		goto fail_unmap;
	if (area_call(in, insn, &ret, SYS_mprotect, (const uint64_t[6]){
	    in->area, INJECT_CODE_SIZE, PROT_READ | PROT_EXEC },
	    "protecting the injection code", cause) == -1)
		goto fail_unmap;
	return in;

fail_unmap:
	if (!in->exited)
		(void)syscall_at(in, pid, insn, &ret, SYS_munmap,
		    (const uint64_t[6]){ hint, INJECT_AREA_SIZE }, NULL);
fail_regs:
	if (in->exited)
		goto fail;
	ptrace(PTRACE_SETREGS, pid, 0, &in->saved);
fail_mask:
	ptrace(PTRACE_SETSIGMASK, pid, sizeof in->saved_mask, &in->saved_mask);
fail:
	inject_free(in);
	return NULL;
}

struct inject *
inject_thread(const struct inject *from, pid_t tid, char **cause)
{
	struct inject	*in;
	uint64_t	 mask;

	in = xcalloc(1, sizeof *in);
	in->pid = tid;
	in->area = from->area;
	if (ptrace(PTRACE_GETREGS, tid, 0, &in->saved) == -1) {
		cause_set(cause, "thread %ld: PTRACE_GETREGS: %s", (long)tid,
		    strerror(errno));
		goto fail;
	}
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof mask, &in->saved_mask) == -1) {
		cause_set(cause, "thread %ld: PTRACE_GETSIGMASK: %s", (long)tid,
		    strerror(errno));
		goto fail;
	}
	mask = ~0ULL & ~(1ULL << (SIGTRAP - 1));
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof mask, &mask) == -1) {
		cause_set(cause, "thread %ld: PTRACE_SETSIGMASK: %s", (long)tid,
		    strerror(errno));
		goto fail;
	}
	return in;
fail:
	inject_free(in);
	return NULL;
}

int
inject_thread_end(struct inject *in, int restore, char **cause)
{
	if (!restore || in->exited)
		return 0;
	if (ptrace(PTRACE_SETREGS, in->pid, 0, &in->saved) == -1)
		return cause_set(cause, "thread %ld: PTRACE_SETREGS: %s",
		    (long)in->pid, strerror(errno));
	return 0;
}

uint64_t
inject_area(const struct inject *in)
{
	return in->area;
}

uint64_t
inject_scratch(const struct inject *in)
{
	return in->area + INJECT_CODE_SIZE;
}

int
inject_syscall(struct inject *in, long *ret, long nr, const uint64_t args[6],
    char **cause)
{
	struct user_regs_struct	regs = in->saved;

	regs.rip = in->area;
	set_args(&regs, nr, args);
	if (ptrace(PTRACE_SETREGS, in->pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_SETREGS: %s", strerror(errno));
	if (wait_stop(in, in->pid, STOP_TRAP, in->area + sizeof inject_code,
	    cause) == -1)
		return -1;
	if (ptrace(PTRACE_GETREGS, in->pid, 0, &regs) == -1)
		return cause_set(cause, "PTRACE_GETREGS: %s", strerror(errno));
	*ret = (long)regs.rax;
	return 0;
}

int
inject_write(struct inject *in, size_t off, const void *p, size_t len,
    char **cause)
{
	return scratch_io(in, off, (void *)p, len, 1, cause);
}

int
inject_read(struct inject *in, size_t off, void *p, size_t len, char **cause)
{
	return scratch_io(in, off, p, len, 0, cause);
}

uint64_t
inject_saved_mask(const struct inject *in)
{
	return in->saved_mask;
}

const siginfo_t *
inject_strays(const struct inject *in, size_t *n)
{
	*n = in->nstrays;
	return in->strays;
}

int
inject_exited(const struct inject *in, int *wstatus)
{
	if (in->exited && wstatus != NULL)
		*wstatus = in->wstatus;
	return in->exited;
}

int
inject_fini(struct inject *in, int restore, char **cause)
{
	uint64_t	 insn;
	long		 ret;
	char		*why = NULL;
	int		 rv = -1;

	if (find_syscall(in->pid, in->area, INJECT_AREA_SIZE, &insn,
	    cause) == -1)
		goto out;
	if (syscall_at(in, in->pid, insn, &ret, SYS_munmap, (const uint64_t[6]){
	    in->area, INJECT_AREA_SIZE }, &why) == -1) {
		cause_set(cause, "unmapping the injection area: %s", why);
		goto out;
	}
	if (ret != 0) {
		cause_set(cause, "unmapping the injection area: %s",
		    strerror(-ret));
		goto out;
	}
	if (restore) {
		if (ptrace(PTRACE_SETREGS, in->pid, 0, &in->saved) == -1) {
			cause_set(cause, "PTRACE_SETREGS: %s", strerror(errno));
			goto out;
		}
		if (ptrace(PTRACE_SETSIGMASK, in->pid, sizeof in->saved_mask,
		    &in->saved_mask) == -1) {
			cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
			goto out;
		}
	}
	rv = 0;
out:
	free(why);
	return rv;
}

int
inject_settle(pid_t pid, int *exited, int *wstatus, char **cause)
{
	int	st, sig = 0, r;

	for (;;) {
		/* Any stop consumes a pending interrupt: ask each time. */
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1 ||
		    ptrace(PTRACE_CONT, pid, 0, sig) == -1)
			return cause_set(cause, "settling: %s", strerror(errno));
		while ((r = waitpid(pid, &st, __WALL)) == -1 && errno == EINTR)
			;
		if (r == -1)
			return cause_set(cause, "waitpid: %s", strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*exited = 1;
			*wstatus = st;
			return cause_set(cause, "process exited");
		}
		sig = 0;
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* A signal delivered first goes on as it would have. */
		if ((st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80))
			sig = WSTOPSIG(st);
	}
}

int
inject_requeue(pid_t pid, const siginfo_t *si, int shared, uint64_t mask,
    int *exited, int *wstatus, char **cause)
{
	uint64_t	only;
	int		st, r, sig = si->si_signo;

	if (sig < 1 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
		return cause_set(cause, "re-queueing signal %d", sig);
	only = ~(1ULL << (sig - 1));
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof only, &only) == -1)
		return cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
	if ((shared ? kill(pid, sig) : (int)syscall(SYS_tgkill, pid, pid,
	    sig)) == -1)
		return cause_set(cause, "sending signal %d: %s", sig,
		    strerror(errno));
	if (ptrace(PTRACE_CONT, pid, 0, 0) == -1)
		return cause_set(cause, "resume: %s", strerror(errno));
	for (;;) {
		while ((r = waitpid(pid, &st, __WALL)) == -1 && errno == EINTR)
			;
		if (r == -1)
			return cause_set(cause, "waitpid: %s", strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*exited = 1;
			*wstatus = st;
			return cause_set(cause, "process exited");
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == 0 && WSTOPSIG(st) == sig)
			break;
		/* anything else (an event stop, a syscall stop): go on */
		if (ptrace(PTRACE_CONT, pid, 0, 0) == -1)
			return cause_set(cause, "resume: %s", strerror(errno));
	}
	if (ptrace(PTRACE_SETSIGINFO, pid, 0, si) == -1)
		return cause_set(cause, "PTRACE_SETSIGINFO: %s", strerror(errno));
	if (ptrace(PTRACE_SETSIGMASK, pid, sizeof mask, &mask) == -1)
		return cause_set(cause, "PTRACE_SETSIGMASK: %s", strerror(errno));
	/* From the delivery stop on to the interrupt stop, as settled. */
	for (;;) {
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == -1 ||
		    ptrace(PTRACE_CONT, pid, 0, sig) == -1)
			return cause_set(cause, "re-queueing signal %d: %s", sig,
			    strerror(errno));
		while ((r = waitpid(pid, &st, __WALL)) == -1 && errno == EINTR)
			;
		if (r == -1)
			return cause_set(cause, "waitpid: %s", strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			*exited = 1;
			*wstatus = st;
			return cause_set(cause, "process exited");
		}
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		sig = WIFSTOPPED(st) && (st >> 16) == 0 &&
		    WSTOPSIG(st) != (SIGTRAP | 0x80) ? WSTOPSIG(st) : 0;
	}
}

void
inject_free(struct inject *in)
{
	if (in == NULL)
		return;
	free(in->strays);
	free(in);
}
