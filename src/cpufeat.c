/*
 * cpufeat.c: the CPU features a process may have probed, and whether another
 * machine has them all.
 *
 * Only features that user code can use (and so may have picked a code path
 * by) are named and compared. Unnamed bits are ignored on purpose: they are
 * either set by the OS or the hypervisor rather than the silicon (OSXSAVE,
 * OSPKE, HYPERVISOR), or only matter to the kernel (SMEP, SMAP, INVPCID,
 * PCID, X2APIC, ...), and refusing a restore over them would refuse machines
 * that run the process fine. What the OS enables for user state is compared
 * through xcr0 instead, every bit of it. CET shadow stacks are left out too:
 * the kernel enables them per process, a cpuid bit alone says nothing.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omm/cpufeat.h"
#include "omm/log.h"

/*
 * The named features: word, bit, name (Linux /proc/cpuinfo spelling where it
 * has one). An alias is accepted by cpu_feature_lookup (and OMM_CPU_HIDE) but
 * never printed.
 */
static const struct cpu_feature_name {
	int		 word;
	int		 bit;
	const char	*name;
	int		 alias;
} cpu_feature_names[] = {
	{ CPUW_1_EDX, 0, "fpu", 0 },
	{ CPUW_1_EDX, 4, "tsc", 0 },
	{ CPUW_1_EDX, 8, "cx8", 0 },
	{ CPUW_1_EDX, 15, "cmov", 0 },
	{ CPUW_1_EDX, 19, "clflush", 0 },
	{ CPUW_1_EDX, 23, "mmx", 0 },
	{ CPUW_1_EDX, 24, "fxsr", 0 },
	{ CPUW_1_EDX, 25, "sse", 0 },
	{ CPUW_1_EDX, 26, "sse2", 0 },

	{ CPUW_1_ECX, 0, "sse3", 0 },
	{ CPUW_1_ECX, 0, "pni", 1 },
	{ CPUW_1_ECX, 1, "pclmulqdq", 0 },
	{ CPUW_1_ECX, 9, "ssse3", 0 },
	{ CPUW_1_ECX, 12, "fma", 0 },
	{ CPUW_1_ECX, 13, "cx16", 0 },
	{ CPUW_1_ECX, 19, "sse4_1", 0 },
	{ CPUW_1_ECX, 20, "sse4_2", 0 },
	{ CPUW_1_ECX, 22, "movbe", 0 },
	{ CPUW_1_ECX, 23, "popcnt", 0 },
	{ CPUW_1_ECX, 25, "aes", 0 },
	{ CPUW_1_ECX, 26, "xsave", 0 },
	{ CPUW_1_ECX, 28, "avx", 0 },
	{ CPUW_1_ECX, 29, "f16c", 0 },
	{ CPUW_1_ECX, 30, "rdrand", 0 },

	{ CPUW_7_0_EBX, 0, "fsgsbase", 0 },
	{ CPUW_7_0_EBX, 3, "bmi1", 0 },
	{ CPUW_7_0_EBX, 4, "hle", 0 },
	{ CPUW_7_0_EBX, 5, "avx2", 0 },
	{ CPUW_7_0_EBX, 8, "bmi2", 0 },
	{ CPUW_7_0_EBX, 9, "erms", 0 },
	{ CPUW_7_0_EBX, 11, "rtm", 0 },
	{ CPUW_7_0_EBX, 16, "avx512f", 0 },
	{ CPUW_7_0_EBX, 17, "avx512dq", 0 },
	{ CPUW_7_0_EBX, 18, "rdseed", 0 },
	{ CPUW_7_0_EBX, 19, "adx", 0 },
	{ CPUW_7_0_EBX, 21, "avx512ifma", 0 },
	{ CPUW_7_0_EBX, 23, "clflushopt", 0 },
	{ CPUW_7_0_EBX, 24, "clwb", 0 },
	{ CPUW_7_0_EBX, 26, "avx512pf", 0 },
	{ CPUW_7_0_EBX, 27, "avx512er", 0 },
	{ CPUW_7_0_EBX, 28, "avx512cd", 0 },
	{ CPUW_7_0_EBX, 29, "sha_ni", 0 },
	{ CPUW_7_0_EBX, 30, "avx512bw", 0 },
	{ CPUW_7_0_EBX, 31, "avx512vl", 0 },

	{ CPUW_7_0_ECX, 0, "prefetchwt1", 0 },
	{ CPUW_7_0_ECX, 1, "avx512vbmi", 0 },
	{ CPUW_7_0_ECX, 3, "pku", 0 },
	{ CPUW_7_0_ECX, 5, "waitpkg", 0 },
	{ CPUW_7_0_ECX, 6, "avx512_vbmi2", 0 },
	{ CPUW_7_0_ECX, 8, "gfni", 0 },
	{ CPUW_7_0_ECX, 9, "vaes", 0 },
	{ CPUW_7_0_ECX, 10, "vpclmulqdq", 0 },
	{ CPUW_7_0_ECX, 11, "avx512_vnni", 0 },
	{ CPUW_7_0_ECX, 12, "avx512_bitalg", 0 },
	{ CPUW_7_0_ECX, 14, "avx512_vpopcntdq", 0 },
	{ CPUW_7_0_ECX, 22, "rdpid", 0 },
	{ CPUW_7_0_ECX, 27, "movdiri", 0 },
	{ CPUW_7_0_ECX, 28, "movdir64b", 0 },

	{ CPUW_7_0_EDX, 2, "avx512_4vnniw", 0 },
	{ CPUW_7_0_EDX, 3, "avx512_4fmaps", 0 },
	{ CPUW_7_0_EDX, 4, "fsrm", 0 },
	{ CPUW_7_0_EDX, 8, "avx512_vp2intersect", 0 },
	{ CPUW_7_0_EDX, 14, "serialize", 0 },
	{ CPUW_7_0_EDX, 16, "tsxldtrk", 0 },
	{ CPUW_7_0_EDX, 22, "amx_bf16", 0 },
	{ CPUW_7_0_EDX, 23, "avx512_fp16", 0 },
	{ CPUW_7_0_EDX, 24, "amx_tile", 0 },
	{ CPUW_7_0_EDX, 25, "amx_int8", 0 },

	{ CPUW_7_1_EAX, 0, "sha512", 0 },
	{ CPUW_7_1_EAX, 1, "sm3", 0 },
	{ CPUW_7_1_EAX, 2, "sm4", 0 },
	{ CPUW_7_1_EAX, 4, "avx_vnni", 0 },
	{ CPUW_7_1_EAX, 5, "avx512_bf16", 0 },
	{ CPUW_7_1_EAX, 7, "cmpccxadd", 0 },
	{ CPUW_7_1_EAX, 10, "fzrm", 0 },
	{ CPUW_7_1_EAX, 11, "fsrs", 0 },
	{ CPUW_7_1_EAX, 12, "fsrc", 0 },
	{ CPUW_7_1_EAX, 21, "amx_fp16", 0 },
	{ CPUW_7_1_EAX, 23, "avx_ifma", 0 },

	{ CPUW_D_1_EAX, 0, "xsaveopt", 0 },
	{ CPUW_D_1_EAX, 1, "xsavec", 0 },
	{ CPUW_D_1_EAX, 2, "xgetbv1", 0 },
	{ CPUW_D_1_EAX, 3, "xsaves", 0 },

	{ CPUW_80000001_ECX, 0, "lahf_lm", 0 },
	{ CPUW_80000001_ECX, 5, "abm", 0 },
	{ CPUW_80000001_ECX, 5, "lzcnt", 1 },
	{ CPUW_80000001_ECX, 6, "sse4a", 0 },
	{ CPUW_80000001_ECX, 7, "misalignsse", 0 },
	{ CPUW_80000001_ECX, 8, "3dnowprefetch", 0 },
	{ CPUW_80000001_ECX, 11, "xop", 0 },
	{ CPUW_80000001_ECX, 16, "fma4", 0 },
	{ CPUW_80000001_ECX, 21, "tbm", 0 },

	{ CPUW_80000001_EDX, 11, "syscall", 0 },
	{ CPUW_80000001_EDX, 20, "nx", 0 },
	{ CPUW_80000001_EDX, 22, "mmxext", 0 },
	{ CPUW_80000001_EDX, 26, "pdpe1gb", 0 },
	{ CPUW_80000001_EDX, 27, "rdtscp", 0 },
	{ CPUW_80000001_EDX, 29, "lm", 0 },
	{ CPUW_80000001_EDX, 30, "3dnowext", 0 },
	{ CPUW_80000001_EDX, 31, "3dnow", 0 },
};
#define NFEATURES (sizeof cpu_feature_names / sizeof cpu_feature_names[0])

/* xsave state components, by xcr0 bit (Intel SDM vol. 1, 13.1). */
static const char *cpu_xcr0_names[64] = {
	[0] = "x87",
	[1] = "sse",
	[2] = "avx",
	[3] = "bndregs",
	[4] = "bndcsr",
	[5] = "opmask",
	[6] = "zmm_hi256",
	[7] = "hi16_zmm",
	[9] = "pkru",
	[17] = "tilecfg",
	[18] = "tiledata",
};

static int
cpu_xcr0_lookup(const char *name)
{
	int	i;

	for (i = 0; i < 64; i++) {
		if (cpu_xcr0_names[i] != NULL && strcmp(cpu_xcr0_names[i], name) == 0)
			return i;
	}
	return -1;
}

int
cpu_feature_lookup(const char *name, int *word, int *bit)
{
	size_t	i;

	for (i = 0; i < NFEATURES; i++) {
		if (strcmp(cpu_feature_names[i].name, name) == 0) {
			*word = cpu_feature_names[i].word;
			*bit = cpu_feature_names[i].bit;
			return 0;
		}
	}
	return -1;
}

/* Apply OMM_CPU_HIDE: clear each named feature or xcr0 component. */
static void
cpu_hide(struct cpu_features *cf, const char *list)
{
	char	*copy, *s, *name;
	int	 word, bit, found;

	if ((copy = strdup(list)) == NULL)
		return;
	s = copy;
	while ((name = strsep(&s, ", ")) != NULL) {
		if (*name == '\0')
			continue;
		/*
		 * "sse" and "avx" name both a feature and its state
		 * component: a machine without one lacks the other too.
		 */
		found = 0;
		if (cpu_feature_lookup(name, &word, &bit) == 0) {
			cf->word[word] &= ~(1u << bit);
			found = 1;
		}
		if ((bit = cpu_xcr0_lookup(name)) != -1) {
			cf->xcr0 &= ~(1ull << bit);
			found = 1;
		}
		if (!found)
			log_warnx("OMM_CPU_HIDE: unknown CPU feature \"%s\"", name);
	}
	free(copy);
}

void
cpu_features_get(struct cpu_features *cf)
{
	unsigned int	 a, b, c, d, max, maxext, regs[12];
	const char	*hide;
	char		*m;
	size_t		 len;
	uint32_t	 lo, hi;

	memset(cf, 0, sizeof *cf);
	max = __get_cpuid_max(0, NULL);
	maxext = __get_cpuid_max(0x80000000, NULL);
	if (max >= 1) {
		__cpuid(1, a, b, c, d);
		cf->word[CPUW_1_ECX] = c;
		cf->word[CPUW_1_EDX] = d;
	}
	if (max >= 7) {
		__cpuid_count(7, 0, a, b, c, d);
		cf->word[CPUW_7_0_EBX] = b;
		cf->word[CPUW_7_0_ECX] = c;
		cf->word[CPUW_7_0_EDX] = d;
		if (a >= 1) {
			__cpuid_count(7, 1, a, b, c, d);
			cf->word[CPUW_7_1_EAX] = a;
		}
	}
	/* xgetbv faults unless the OS enabled xsave (OSXSAVE, cpuid(1).ecx bit 27). */
	if (cf->word[CPUW_1_ECX] & (1u << 27)) {
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		cf->xcr0 = (uint64_t)hi << 32 | lo;
	}
	if (max >= 0xd) {
		/* ebx: size of the standard xsave area for what xcr0 enables now */
		__cpuid_count(0xd, 0, a, b, c, d);
		cf->xsave_size = b;
		__cpuid_count(0xd, 1, a, b, c, d);
		cf->word[CPUW_D_1_EAX] = a;
	}
	if (maxext >= 0x80000001) {
		__cpuid(0x80000001, a, b, c, d);
		cf->word[CPUW_80000001_ECX] = c;
		cf->word[CPUW_80000001_EDX] = d;
	}
	if (maxext >= 0x80000004) {
		__cpuid(0x80000002, regs[0], regs[1], regs[2], regs[3]);
		__cpuid(0x80000003, regs[4], regs[5], regs[6], regs[7]);
		__cpuid(0x80000004, regs[8], regs[9], regs[10], regs[11]);
		memcpy(cf->model, regs, 48);	/* x86 is little-endian: bytes in order */
		cf->model[48] = '\0';
		/* Brand strings are padded with spaces on either side. */
		m = cf->model;
		while (*m == ' ')
			m++;
		memmove(cf->model, m, strlen(m) + 1);
		len = strlen(cf->model);
		while (len > 0 && cf->model[len - 1] == ' ')
			cf->model[--len] = '\0';
	}
	if ((hide = getenv("OMM_CPU_HIDE")) != NULL)
		cpu_hide(cf, hide);
}

/* Append a name to buf, space-separated, truncating cleanly. */
static void
cpu_append(char *buf, size_t n, size_t *off, const char *name)
{
	int	w;

	if (n == 0 || *off >= n)
		return;
	w = snprintf(buf + *off, n - *off, "%s%s", *off == 0 ? "" : " ", name);
	if (w < 0)
		return;
	if ((size_t)w >= n - *off)
		*off = n;
	else
		*off += (size_t)w;
}

/*
 * Names of the named features set in want & ~have, then (with xcr0) of the
 * xcr0 components want has and have lacks; have NULL means "has nothing".
 */
static int
cpu_diff(const struct cpu_features *have, const struct cpu_features *want,
    int xcr0, char *buf, size_t n)
{
	size_t		 i, off = 0;
	int		 count = 0, bit;
	uint32_t	 h;
	uint64_t	 x;
	char		 tmp[32];

	if (n != 0)
		buf[0] = '\0';
	for (i = 0; i < NFEATURES; i++) {
		const struct cpu_feature_name	*f = &cpu_feature_names[i];

		if (f->alias)
			continue;
		h = have == NULL ? 0 : have->word[f->word];
		if ((want->word[f->word] & (1u << f->bit)) && !(h & (1u << f->bit))) {
			cpu_append(buf, n, &off, f->name);
			count++;
		}
	}
	if (!xcr0)
		return count;
	x = want->xcr0 & ~(have == NULL ? 0 : have->xcr0);
	for (bit = 0; bit < 64; bit++) {
		if (!(x & (1ull << bit)))
			continue;
		if (cpu_xcr0_names[bit] != NULL)
			cpu_append(buf, n, &off, cpu_xcr0_names[bit]);
		else {
			snprintf(tmp, sizeof tmp, "xcr0_bit%d", bit);
			cpu_append(buf, n, &off, tmp);
		}
		count++;
	}
	return count;
}

int
cpu_features_missing(const struct cpu_features *have,
    const struct cpu_features *need, char *buf, size_t n)
{
	return cpu_diff(have, need, 1, buf, n);
}

void
cpu_features_names(const struct cpu_features *cf, char *buf, size_t n)
{
	/* Components are not features: info shows them apart (missing() lists them). */
	cpu_diff(NULL, cf, 0, buf, n);
}

