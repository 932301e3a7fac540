/*
 * image-info.c: describe an image for "omctl image info", as text or JSON.
 *
 * The whole image is read through the checking reader first, so a damaged
 * image anywhere is reported rather than half described. What was read is
 * then handed to one of two output backends over the same data (bgpctl's
 * struct output in spirit). The JSON schema is in docs/image-info.md; its
 * keys are stable: add, never rename.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "omm/image.h"
#include "omm/log.h"

#include "image-int.h"

/* Everything the backends print. */
struct img_info {
	struct img		img;
	struct img_sec_stats	st;
	uint64_t		image_bytes;
	uint64_t		nsections;
	uint64_t		npages;
	uint64_t		vma_bytes;
	char			features[2048];
	char			components[512];
};

struct img_output {
	void	(*print)(FILE *, const struct img_info *);
};

/* user_regs_struct order (asm/user.h): the ones worth showing. */
#define GPR_RIP		16
#define GPR_RSP		19
#define GPR_FS_BASE	21

static const char *sig_names[] = {
	NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT",
	"SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2",
	"SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
	"SIGSYS",
};

static const char *
sig_name(int sig, char *buf, size_t n)
{
	if (sig > 0 && sig < (int)(sizeof sig_names / sizeof sig_names[0]))
		snprintf(buf, n, "%s", sig_names[sig]);
	else if (sig >= 32 && sig <= 64)
		snprintf(buf, n, "SIGRT%d", sig - 32);
	else
		snprintf(buf, n, "signal %d", sig);
	return buf;
}

static const struct {
	uint32_t	 bit;
	const char	*name;
} vma_flag_names[] = {
	{ IMG_VMA_SHARED, "shared" },
	{ IMG_VMA_FILE, "file" },
	{ IMG_VMA_GROWSDOWN, "growsdown" },
	{ IMG_VMA_STACK, "stack" },
	{ IMG_VMA_HEAP, "heap" },
	{ IMG_VMA_VDSO, "vdso" },
	{ IMG_VMA_VVAR, "vvar" },
	{ IMG_VMA_VSYSCALL, "vsyscall" },
	{ IMG_VMA_MEMFD, "memfd" },
	{ IMG_VMA_FILE_PAGES, "file_pages" },
}, vma_madv_names[] = {
	{ IMG_MADV_HUGEPAGE, "hugepage" },
	{ IMG_MADV_NOHUGEPAGE, "nohugepage" },
	{ IMG_MADV_DONTFORK, "dontfork" },
	{ IMG_MADV_WIPEONFORK, "wipeonfork" },
	{ IMG_MADV_DONTDUMP, "dontdump" },
	{ IMG_MADV_MERGEABLE, "mergeable" },
	{ IMG_MADV_LOCKED, "locked" },
	{ IMG_MADV_LOCKONFAULT, "lockonfault" },
};
#define NVMAFLAGS	(sizeof vma_flag_names / sizeof vma_flag_names[0])
#define NMADV		(sizeof vma_madv_names / sizeof vma_madv_names[0])

static const char *fd_kind_names[] = {
	[IMG_FD_FILE] = "file", [IMG_FD_DEV] = "device", [IMG_FD_STDIO] = "stdio",
	[IMG_FD_PIPE] = "pipe", [IMG_FD_EVENTFD] = "eventfd",
	[IMG_FD_SIGNALFD] = "signalfd", [IMG_FD_EPOLL] = "epoll",
	[IMG_FD_OPATH] = "opath", [IMG_FD_MEMFD] = "memfd",
	[IMG_FD_DELETED] = "deleted",
};

/* What a fd of a newer kind holds, in a few words ("" for the others). */
static void
fd_detail(const struct img_fd *d, char *s, size_t n)
{
	size_t	 k, len;

	s[0] = '\0';
	switch (d->kind) {
	case IMG_FD_EVENTFD:
		snprintf(s, n, "count %" PRIu64 "%s", d->value,
		    (d->extra & IMG_EFD_SEMAPHORE) ? ", semaphore" : "");
		break;
	case IMG_FD_SIGNALFD:
		snprintf(s, n, "mask %#" PRIx64, d->value);
		break;
	case IMG_FD_EPOLL:
		snprintf(s, n, "watches");
		for (k = 0; k < d->nwatch; k++) {
			len = strlen(s);
			if (len + 48 > n) {
				snprintf(s + len, n - len, " ...");
				break;
			}
			snprintf(s + len, n - len, " %d:%#x:%#" PRIx64,
			    d->watch[k].fd, d->watch[k].events, d->watch[k].data);
		}
		if (d->nwatch == 0)
			snprintf(s, n, "no watches");
		break;
	case IMG_FD_MEMFD:
	case IMG_FD_DELETED:
		snprintf(s, n, "%" PRIu64 " bytes%s, seals %#x", d->size,
		    d->datalen == d->size ? " carried" : " (of an fd before)",
		    d->extra);
		break;
	default:
		break;
	}
}

static const char *
fd_kind(uint32_t kind)
{
	if (kind < sizeof fd_kind_names / sizeof fd_kind_names[0] &&
	    fd_kind_names[kind] != NULL)
		return fd_kind_names[kind];
	return "unknown";
}

static const char *
prot_str(uint32_t prot, char *buf)
{
	buf[0] = (prot & 1) ? 'r' : '-';
	buf[1] = (prot & 2) ? 'w' : '-';
	buf[2] = (prot & 4) ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

static const char *
time_str(uint64_t ns, char *buf, size_t n)
{
	time_t		t = (time_t)(ns / 1000000000ull);
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ",
	    &tm) == 0)
		snprintf(buf, n, "?");
	return buf;
}

static const char *
size_str(uint64_t n, char *buf, size_t len)
{
	if (n < (1ull << 20))
		snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
	else if (n < (1ull << 30))
		snprintf(buf, len, "%.1f MiB", (double)n / 1048576.0);
	else
		snprintf(buf, len, "%.2f GiB", (double)n / 1073741824.0);
	return buf;
}

static const char *
handler_str(uint64_t h, char *buf, size_t n)
{
	if (h == 0)
		return "default";
	if (h == 1)
		return "ignore";
	snprintf(buf, n, "%#" PRIx64, h);
	return buf;
}

static int
pending_signo(const struct img_siginfo *si)
{
	return (int)((uint32_t)si->raw[0] | (uint32_t)si->raw[1] << 8 |
	    (uint32_t)si->raw[2] << 16 | (uint32_t)si->raw[3] << 24);
}

static const char *itimer_names[IMG_NITIMERS] = { "real", "virtual", "prof" };

static const char *
notify_name(uint32_t notify)
{
	switch (notify) {
	case IMG_SIGEV_SIGNAL:
		return "signal";
	case IMG_SIGEV_NONE:
		return "none";
	case IMG_SIGEV_THREAD_ID:
		return "thread_id";
	}
	return "unknown";
}

/* CLOCK_* of a timer: the fixed ones by name, CPU clocks as what they count. */
static const char *
clock_name(int32_t clk, char *buf, size_t n)
{
	static const char *fixed[] = { "realtime", "monotonic",
	    "process_cputime", "thread_cputime", "monotonic_raw",
	    "realtime_coarse", "monotonic_coarse", "boottime",
	    "realtime_alarm", "boottime_alarm", "sgi_cycle", "tai" };
	static const char *cpu[] = { "prof", "virt", "sched" };

	if (clk >= 0 && clk < (int32_t)(sizeof fixed / sizeof fixed[0]))
		snprintf(buf, n, "%s", fixed[clk]);
	else if (clk < 0 && (clk & 3) != 3)
		snprintf(buf, n, "%s_cpu_%s", (clk & 4) ? "thread" : "process",
		    cpu[clk & 3]);
	else
		snprintf(buf, n, "clock %d", clk);
	return buf;
}

/* Text backend: a human reads it; widths fit common cases, nothing is cut. */
static void
info_text(FILE *f, const struct img_info *in)
{
	const struct img	*img = &in->img;
	const struct img_header	*h = &img->hdr;
	const struct img_proc	*pr = &img->proc;
	char			 tb[64], pb[4], hb[32], sb[32];
	uint32_t		 i, t;
	size_t			 k;
	int			 any;

	fprintf(f, "image: version %u, %" PRIu64 " bytes in %" PRIu64 " sections\n",
	    h->version, in->image_bytes, in->nsections);
	fprintf(f, "dumped: %s on %s, kernel %s, x86_64, %u-byte pages\n",
	    time_str(h->time_ns, tb, sizeof tb), h->hostname, h->kernel,
	    h->page_size);
	fprintf(f, "process: pid %d (%s), uid %u, gid %u\n", pr->pid, pr->comm,
	    pr->uid, pr->gid);
	fprintf(f, "  exe: %s\n", pr->exe != NULL ? pr->exe : "-");
	fprintf(f, "  cmdline: %s\n", pr->cmdline != NULL ? pr->cmdline : "-");
	fprintf(f, "  cwd: %s\n", pr->cwd != NULL ? pr->cwd : "-");
	fprintf(f, "  groups:");
	for (i = 0; i < pr->ngroups; i++)
		fprintf(f, " %u", pr->groups[i]);
	fprintf(f, "%s\n", pr->ngroups == 0 ? " -" : "");
	fprintf(f, "  mlockall: %s, membarrier: %#x\n",
	    pr->mlockall == 0 ? "-" : (pr->mlockall & IMG_MCL_ONFAULT) ?
	    "future onfault" : "future", pr->membarrier);
	fprintf(f, "cpu: %s\n", h->cpu.model[0] != '\0' ? h->cpu.model : "-");
	fprintf(f, "  features: %s\n", in->features);
	fprintf(f, "  xsave: %s (xcr0 %#" PRIx64 ", %u bytes)\n", in->components,
	    h->cpu.xcr0, h->cpu.xsave_size);
	fprintf(f, "registers: rip %#" PRIx64 ", rsp %#" PRIx64 ", fs_base %#"
	    PRIx64 ", xstate %u bytes\n", img->regs.gpr[GPR_RIP],
	    img->regs.gpr[GPR_RSP], img->regs.gpr[GPR_FS_BASE],
	    img->regs.xstate_len);
	for (i = 0; i < img->nthreads; i++) {
		const struct img_thread	*th = &img->threads[i];

		fprintf(f, "thread %d (%s): rip %#" PRIx64 ", rsp %#" PRIx64
		    ", fs_base %#" PRIx64 ", blocked %#" PRIx64 ", %u pending, "
		    "policy %u/%u nice %d\n", th->tid, th->comm,
		    th->regs.gpr[GPR_RIP], th->regs.gpr[GPR_RSP],
		    th->regs.gpr[GPR_FS_BASE], th->blocked, th->npending,
		    th->sched_policy, th->sched_priority, th->nice);
	}

	fprintf(f, "\nsections:\n  %-8s %8s %14s\n", "TYPE", "COUNT", "BYTES");
	for (t = IMG_SEC_HEADER; t <= IMG_SEC_MAX; t++) {
		if (!img_sec_known(t))
			continue;
		fprintf(f, "  %-8s %8" PRIu64 " %14" PRIu64 "\n", img_sec_name(t),
		    in->st.count[t], in->st.bytes[t]);
	}

	fprintf(f, "\nvmas: %u\n  %-33s %-4s %8s  %-24s %s\n", img->nvmas,
	    "RANGE", "PROT", "PAGES", "FLAGS", "PATH");
	for (i = 0; i < img->nvmas; i++) {
		const struct img_vma	*v = &img->vmas[i];
		char			 fl[160] = "";

		for (k = 0; k < NVMAFLAGS; k++) {
			if (v->flags & vma_flag_names[k].bit) {
				strncat(fl, fl[0] ? "," : "", sizeof fl - strlen(fl) - 1);
				strncat(fl, vma_flag_names[k].name,
				    sizeof fl - strlen(fl) - 1);
			}
		}
		for (k = 0; k < NMADV; k++) {
			if (v->madv & vma_madv_names[k].bit) {
				strncat(fl, fl[0] ? "," : "", sizeof fl - strlen(fl) - 1);
				strncat(fl, vma_madv_names[k].name,
				    sizeof fl - strlen(fl) - 1);
			}
		}
		fprintf(f, "  %016" PRIx64 "-%016" PRIx64 " %-4s %8" PRIu64
		    "  %-24s %s\n", v->start, v->end, prot_str(v->prot, pb),
		    v->npages, fl[0] ? fl : "-", v->path != NULL ? v->path : "");
	}

	fprintf(f, "\nfds: %u\n  %4s %-8s %12s %8s %-7s %s\n", img->nfds, "FD",
	    "KIND", "POS", "FLAGS", "CLOEXEC", "PATH");
	for (i = 0; i < img->nfds; i++) {
		const struct img_fd	*d = &img->fds[i];

		char			 det[256];

		fd_detail(d, det, sizeof det);
		fprintf(f, "  %4d %-8s %12" PRIu64 " %8o %-7s %s%s%s\n", d->fd,
		    fd_kind(d->kind), d->pos, d->flags, d->cloexec ? "yes" : "no",
		    d->path != NULL ? d->path : "-", det[0] ? "  " : "", det);
	}

	fprintf(f, "\nsignals: blocked %#" PRIx64 ", altstack %#" PRIx64
	    " size %" PRIu64 " flags %#x\n", img->sig.blocked, img->sig.ss_sp,
	    img->sig.ss_size, img->sig.ss_flags);
	any = 0;
	for (i = 0; i < 64; i++) {
		const struct img_sigaction	*a = &img->sig.act[i];

		if (a->handler == 0)
			continue;
		if (!any)
			fprintf(f, "  %-10s %-18s %10s %18s\n", "SIGNAL", "HANDLER",
			    "FLAGS", "MASK");
		any = 1;
		fprintf(f, "  %-10s %-18s %#10" PRIx64 " %#18" PRIx64 "\n",
		    sig_name((int)i + 1, sb, sizeof sb),
		    handler_str(a->handler, hb, sizeof hb), a->flags, a->mask);
	}
	for (i = 0; i < img->sig.npending; i++) {
		fprintf(f, "  pending: %s (%s)\n",
		    sig_name(pending_signo(&img->sig.pending[i]), sb, sizeof sb),
		    img->sig.pending[i].shared ? "process" : "thread");
	}

	fprintf(f, "\ntimers:");
	any = 0;
	for (i = 0; i < IMG_NITIMERS; i++) {
		const struct img_itimer	*it = &img->timers.it[i];

		if (it->value_ns == 0 && it->interval_ns == 0)
			continue;
		fprintf(f, "%s itimer %s %.6fs every %.6fs", any ? "," : "",
		    itimer_names[i], (double)it->value_ns / 1e9,
		    (double)it->interval_ns / 1e9);
		any = 1;
	}
	fprintf(f, "%s\n", any ? "" : " -");
	if (img->timers.n > 0)
		fprintf(f, "  %6s %-22s %-9s %-10s %18s %14s %14s %8s\n", "ID",
		    "CLOCK", "NOTIFY", "SIGNAL", "VALUE", "LEFT", "INTERVAL",
		    "OVERRUN");
	for (i = 0; i < img->timers.n; i++) {
		const struct img_ptimer	*p = &img->timers.t[i];
		char			 cb[32], vb[24];

		snprintf(vb, sizeof vb, "0x%" PRIx64, p->value);
		fprintf(f, "  %6d %-22s %-9s %-10s %18s %13.6fs "
		    "%13.6fs %8u\n", p->id, clock_name(p->clock, cb, sizeof cb),
		    notify_name(p->notify), p->notify == IMG_SIGEV_NONE ? "-" :
		    sig_name((int)p->signo, sb, sizeof sb), vb,
		    (double)p->value_ns / 1e9, (double)p->interval_ns / 1e9,
		    p->overrun);
	}

	fprintf(f, "\ntotals: %" PRIu64 " pages stored (%s), ", in->npages,
	    size_str(in->npages * h->page_size, sb, sizeof sb));
	fprintf(f, "%s mapped, image %" PRIu64 " bytes\n",
	    size_str(in->vma_bytes, tb, sizeof tb), in->image_bytes);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
json_hex(FILE *f, uint64_t v)
{
	fprintf(f, "\"0x%" PRIx64 "\"", v);	/* "0x0", never "0" */
}

/* A space-separated list as a JSON array of strings. */
static void
json_words(FILE *f, const char *list)
{
	char	*copy, *s, *w;
	int	 first = 1;

	fputc('[', f);
	if ((copy = strdup(list)) != NULL) {
		s = copy;
		while ((w = strsep(&s, " ")) != NULL) {
			if (*w == '\0')
				continue;
			if (!first)
				fputc(',', f);
			first = 0;
			json_str(f, w);
		}
		free(copy);
	}
	fputc(']', f);
}

/* JSON backend: one object, keys as docs/image-info.md lists them. */
static void
info_json(FILE *f, const struct img_info *in)
{
	const struct img	*img = &in->img;
	const struct img_header	*h = &img->hdr;
	const struct img_proc	*pr = &img->proc;
	char			 tb[64], pb[4], sb[32], hb[32];
	uint32_t		 i, t;
	size_t			 k;
	int			 first;

	fprintf(f, "{\"format_version\":1");
	fprintf(f, ",\"image\":{\"version\":%u,\"bytes\":%" PRIu64
	    ",\"sections\":[", h->version, in->image_bytes);
	for (t = IMG_SEC_HEADER; t <= IMG_SEC_MAX; t++) {
		if (!img_sec_known(t))
			continue;
		fprintf(f, "%s{\"type\":", t == IMG_SEC_HEADER ? "" : ",");
		json_str(f, img_sec_name(t));
		fprintf(f, ",\"count\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
		    in->st.count[t], in->st.bytes[t]);
	}
	fprintf(f, "]}");

	fprintf(f, ",\"header\":{\"arch\":\"x86_64\",\"machine\":%u,"
	    "\"page_size\":%u,\"time_ns\":%" PRIu64 ",\"time\":", h->arch,
	    h->page_size, h->time_ns);
	json_str(f, time_str(h->time_ns, tb, sizeof tb));
	fprintf(f, ",\"kernel\":");
	json_str(f, h->kernel);
	fprintf(f, ",\"hostname\":");
	json_str(f, h->hostname);
	fprintf(f, "}");

	fprintf(f, ",\"cpu\":{\"model\":");
	json_str(f, h->cpu.model);
	fprintf(f, ",\"features\":");
	json_words(f, in->features);
	fprintf(f, ",\"xcr0\":");
	json_hex(f, h->cpu.xcr0);
	fprintf(f, ",\"xsave_components\":");
	json_words(f, in->components);
	fprintf(f, ",\"xsave_size\":%u,\"words\":[", h->cpu.xsave_size);
	for (i = 0; i < CPUW_NWORDS; i++) {
		if (i > 0)
			fputc(',', f);
		json_hex(f, h->cpu.word[i]);
	}
	fprintf(f, "]}");

	fprintf(f, ",\"process\":{\"pid\":%d,\"uid\":%u,\"gid\":%u,\"comm\":",
	    pr->pid, pr->uid, pr->gid);
	json_str(f, pr->comm);
	fprintf(f, ",\"exe\":");
	json_str(f, pr->exe);
	fprintf(f, ",\"cmdline\":");
	json_str(f, pr->cmdline);
	fprintf(f, ",\"cwd\":");
	json_str(f, pr->cwd);
	fprintf(f, ",\"groups\":[");
	for (i = 0; i < pr->ngroups; i++)
		fprintf(f, "%s%u", i == 0 ? "" : ",", pr->groups[i]);
	fprintf(f, "],\"mlockall\":%u,\"membarrier\":%u", pr->mlockall,
	    pr->membarrier);
	fprintf(f, ",\"umask\":%u,\"personality\":%u,\"brk\":", pr->umask,
	    pr->personality);
	json_hex(f, pr->brk);
	fprintf(f, ",\"start_stack\":");
	json_hex(f, pr->start_stack);
	fprintf(f, "}");

	fprintf(f, ",\"registers\":{\"rip\":");
	json_hex(f, img->regs.gpr[GPR_RIP]);
	fprintf(f, ",\"rsp\":");
	json_hex(f, img->regs.gpr[GPR_RSP]);
	fprintf(f, ",\"fs_base\":");
	json_hex(f, img->regs.gpr[GPR_FS_BASE]);
	fprintf(f, ",\"xstate_bytes\":%u}", img->regs.xstate_len);

	fprintf(f, ",\"threads\":[");
	for (i = 0; i < img->nthreads; i++) {
		const struct img_thread	*th = &img->threads[i];

		fprintf(f, "%s{\"tid\":%d,\"comm\":", i == 0 ? "" : ",",
		    th->tid);
		json_str(f, th->comm);
		fprintf(f, ",\"rip\":");
		json_hex(f, th->regs.gpr[GPR_RIP]);
		fprintf(f, ",\"rsp\":");
		json_hex(f, th->regs.gpr[GPR_RSP]);
		fprintf(f, ",\"fs_base\":");
		json_hex(f, th->regs.gpr[GPR_FS_BASE]);
		fprintf(f, ",\"blocked\":");
		json_hex(f, th->blocked);
		fprintf(f, ",\"pending\":%u,\"policy\":%u,\"priority\":%u,"
		    "\"nice\":%d}", th->npending, th->sched_policy,
		    th->sched_priority, th->nice);
	}
	fprintf(f, "]");

	fprintf(f, ",\"vmas\":[");
	for (i = 0; i < img->nvmas; i++) {
		const struct img_vma	*v = &img->vmas[i];

		fprintf(f, "%s{\"start\":", i == 0 ? "" : ",");
		json_hex(f, v->start);
		fprintf(f, ",\"end\":");
		json_hex(f, v->end);
		fprintf(f, ",\"prot\":\"%s\",\"flags\":[", prot_str(v->prot, pb));
		first = 1;
		for (k = 0; k < NVMAFLAGS; k++) {
			if (v->flags & vma_flag_names[k].bit) {
				fprintf(f, "%s\"%s\"", first ? "" : ",",
				    vma_flag_names[k].name);
				first = 0;
			}
		}
		fprintf(f, "],\"madvise\":[");
		first = 1;
		for (k = 0; k < NMADV; k++) {
			if (v->madv & vma_madv_names[k].bit) {
				fprintf(f, "%s\"%s\"", first ? "" : ",",
				    vma_madv_names[k].name);
				first = 0;
			}
		}
		fprintf(f, "],\"pgoff\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"path\":",
		    v->pgoff, v->npages);
		json_str(f, v->path);
		fprintf(f, "}");
	}
	fprintf(f, "]");

	fprintf(f, ",\"fds\":[");
	for (i = 0; i < img->nfds; i++) {
		const struct img_fd	*d = &img->fds[i];

		fprintf(f, "%s{\"fd\":%d,\"kind\":\"%s\",\"path\":", i == 0 ? "" : ",",
		    d->fd, fd_kind(d->kind));
		json_str(f, d->path);
		fprintf(f, ",\"pos\":%" PRIu64 ",\"flags\":%u,\"cloexec\":%s,"
		    "\"mode\":%u,\"size\":%" PRIu64, d->pos, d->flags,
		    d->cloexec ? "true" : "false", d->mode, d->size);
		if (d->kind == IMG_FD_EVENTFD)
			fprintf(f, ",\"count\":%" PRIu64 ",\"semaphore\":%s",
			    d->value, (d->extra & IMG_EFD_SEMAPHORE) ? "true" :
			    "false");
		else if (d->kind == IMG_FD_SIGNALFD) {
			fprintf(f, ",\"sigmask\":");
			json_hex(f, d->value);
		} else if (d->kind == IMG_FD_EPOLL) {
			fprintf(f, ",\"watches\":[");
			for (uint32_t w = 0; w < d->nwatch; w++) {
				fprintf(f, "%s{\"fd\":%d,\"events\":%u,\"data\":",
				    w == 0 ? "" : ",", d->watch[w].fd,
				    d->watch[w].events);
				json_hex(f, d->watch[w].data);
				fprintf(f, "}");
			}
			fprintf(f, "]");
		} else if (d->kind == IMG_FD_MEMFD || d->kind == IMG_FD_DELETED)
			fprintf(f, ",\"seals\":%u,\"content_bytes\":%" PRIu64,
			    d->extra, d->datalen);
		fprintf(f, "}");
	}
	fprintf(f, "]");

	fprintf(f, ",\"signals\":{\"blocked\":");
	json_hex(f, img->sig.blocked);
	fprintf(f, ",\"altstack\":{\"sp\":");
	json_hex(f, img->sig.ss_sp);
	fprintf(f, ",\"size\":%" PRIu64 ",\"flags\":%u},\"handlers\":[",
	    img->sig.ss_size, img->sig.ss_flags);
	first = 1;
	for (i = 0; i < 64; i++) {
		const struct img_sigaction	*a = &img->sig.act[i];

		if (a->handler == 0)
			continue;
		fprintf(f, "%s{\"signal\":%u,\"name\":\"%s\",\"handler\":",
		    first ? "" : ",", i + 1, sig_name((int)i + 1, sb, sizeof sb));
		first = 0;
		if (a->handler <= 1)
			json_str(f, handler_str(a->handler, hb, sizeof hb));
		else
			json_hex(f, a->handler);
		fprintf(f, ",\"flags\":");
		json_hex(f, a->flags);
		fprintf(f, ",\"mask\":");
		json_hex(f, a->mask);
		fprintf(f, "}");
	}
	fprintf(f, "],\"pending\":[");
	for (i = 0; i < img->sig.npending; i++) {
		int	signo = pending_signo(&img->sig.pending[i]);

		fprintf(f, "%s{\"signal\":%d,\"name\":\"%s\",\"shared\":%s}",
		    i == 0 ? "" : ",", signo, sig_name(signo, sb, sizeof sb),
		    img->sig.pending[i].shared ? "true" : "false");
	}
	fprintf(f, "]}");

	fprintf(f, ",\"timers\":{\"itimers\":[");
	for (i = 0; i < IMG_NITIMERS; i++) {
		fprintf(f, "%s{\"which\":\"%s\",\"value_ns\":%" PRIu64
		    ",\"interval_ns\":%" PRIu64 "}", i == 0 ? "" : ",",
		    itimer_names[i], img->timers.it[i].value_ns,
		    img->timers.it[i].interval_ns);
	}
	fprintf(f, "],\"posix\":[");
	for (i = 0; i < img->timers.n; i++) {
		const struct img_ptimer	*p = &img->timers.t[i];
		char			 cb[32];

		fprintf(f, "%s{\"id\":%d,\"clock\":%d,\"clock_name\":\"%s\","
		    "\"notify\":\"%s\",\"signal\":%u,\"value\":", i == 0 ? "" : ",",
		    p->id, p->clock, clock_name(p->clock, cb, sizeof cb),
		    notify_name(p->notify), p->signo);
		json_hex(f, p->value);
		fprintf(f, ",\"value_ns\":%" PRIu64 ",\"interval_ns\":%" PRIu64
		    ",\"overrun\":%u}", p->value_ns, p->interval_ns, p->overrun);
	}
	fprintf(f, "]}");

	fprintf(f, ",\"totals\":{\"image_bytes\":%" PRIu64 ",\"sections\":%"
	    PRIu64 ",\"pages\":%" PRIu64 ",\"page_bytes\":%" PRIu64
	    ",\"vma_bytes\":%" PRIu64 "}}\n", in->image_bytes, in->nsections,
	    in->npages, in->npages * h->page_size, in->vma_bytes);
}

static const struct img_output img_outputs[] = {
	{ info_text },
	{ info_json },
};

int
img_info(int fd, FILE *out, int json, char **cause)
{
	struct img_info		*in;
	struct img_reader	*r;
	struct img_pages	 pg;
	struct cpu_features	 nofeat;
	uint32_t		 i;
	int			 rv;

	in = calloc(1, sizeof *in);
	if (in == NULL)
		return cause_set(cause, "image info: out of memory");
	r = img_reader_new(fd);
	if (img_read_meta(r, &in->img, cause) != 0)
		goto fail;
	while ((rv = img_read_pages(r, &pg, cause)) == 1)
		in->npages += pg.count;
	if (rv != 0)
		goto fail;
	img_reader_stats(r, &in->st);
	in->image_bytes = img_reader_bytes(r);
	for (i = IMG_SEC_HEADER; i <= IMG_SEC_MAX; i++)
		in->nsections += in->st.count[i];
	for (i = 0; i < in->img.nvmas; i++)
		in->vma_bytes += in->img.vmas[i].end - in->img.vmas[i].start;
	cpu_features_names(&in->img.hdr.cpu, in->features, sizeof in->features);
	/* The components alone: what a machine with the same words but no xcr0 lacks. */
	nofeat = in->img.hdr.cpu;
	nofeat.xcr0 = 0;
	cpu_features_missing(&nofeat, &in->img.hdr.cpu, in->components,
	    sizeof in->components);
	img_reader_free(r);

	img_outputs[json ? 1 : 0].print(out, in);
	img_free(&in->img);
	free(in);
	if (fflush(out) != 0 || ferror(out))
		return cause_set(cause, "image info: write error");
	return 0;

fail:
	img_reader_free(r);
	img_free(&in->img);
	free(in);
	return -1;
}
