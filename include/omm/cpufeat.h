/*
 * cpufeat.h: the CPU features and xsave components a process may use.
 *
 * A process may have probed any feature the CPU reports (glibc picks string
 * functions by cpuid at start), so an image records every feature of the
 * machine it was dumped on and a restore refuses a machine that lacks one.
 */
#ifndef OMM_CPUFEAT_H
#define OMM_CPUFEAT_H

#include <stddef.h>
#include <stdint.h>

/* Feature words, in this fixed order on the wire and in images. */
enum cpu_word {
	CPUW_1_ECX,		/* cpuid(1).ecx */
	CPUW_1_EDX,		/* cpuid(1).edx */
	CPUW_7_0_EBX,		/* cpuid(7,0).ebx */
	CPUW_7_0_ECX,		/* cpuid(7,0).ecx */
	CPUW_7_0_EDX,		/* cpuid(7,0).edx */
	CPUW_7_1_EAX,		/* cpuid(7,1).eax */
	CPUW_D_1_EAX,		/* cpuid(0xd,1).eax: xsaveopt/xsavec/xsaves */
	CPUW_80000001_ECX,	/* cpuid(0x80000001).ecx */
	CPUW_80000001_EDX,	/* cpuid(0x80000001).edx */
	CPUW_NWORDS
};

struct cpu_features {
	uint32_t	word[CPUW_NWORDS];
	uint64_t	xcr0;		/* xsave components enabled by the OS */
	uint32_t	xsave_size;	/* bytes of the standard xsave area for xcr0 */
	char		model[64];	/* brand string, informational */
};

/*
 * Read this machine's features. The environment variable OMM_CPU_HIDE
 * (comma-separated feature names, e.g. "avx512f,avx2") removes features,
 * so tests can play a smaller machine.
 */
void	cpu_features_get(struct cpu_features *);
/*
 * Write into buf (size n) the names of features/components in need that
 * have lacks; returns the number missing (0: have covers need).
 */
int	cpu_features_missing(const struct cpu_features *have,
	    const struct cpu_features *need, char *buf, size_t n);
/* Space-separated names of all features set, for info output. */
void	cpu_features_names(const struct cpu_features *, char *buf, size_t n);
/* Look up a feature by name: word index and bit; -1 if unknown. */
int	cpu_feature_lookup(const char *name, int *word, int *bit);

#endif
