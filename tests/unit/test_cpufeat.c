/* test_cpufeat.c: feature names, missing-feature reports, OMM_CPU_HIDE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "omm/cpufeat.h"

static int
has(const struct cpu_features *cf, const char *name)
{
	int	word, bit;

	assert_int_equal(cpu_feature_lookup(name, &word, &bit), 0);
	return (cf->word[word] >> bit) & 1;
}

static int
word_has_name(const char *names, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = names;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == names || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* This machine (x86-64) has at least the baseline, and they are named. */
static void
test_this_machine(void **state)
{
	struct cpu_features	cf;
	char			names[2048];

	unsetenv("OMM_CPU_HIDE");
	cpu_features_get(&cf);
	print_message("model: %s\nxcr0 %#llx xsave %u\n", cf.model,
	    (unsigned long long)cf.xcr0, cf.xsave_size);
	assert_true(has(&cf, "sse2"));
	assert_true(has(&cf, "lm"));
	assert_true((cf.xcr0 & 3) == 3);		/* x87 and sse state */
	assert_true(cf.xsave_size >= 576);		/* legacy area + xsave header */
	assert_true(cf.model[0] != ' ');
	cpu_features_names(&cf, names, sizeof names);
	print_message("features: %s\n", names);
	assert_true(word_has_name(names, "sse2"));
	assert_true(word_has_name(names, "fxsr"));
	/* Aliases are looked up, never printed. */
	assert_false(word_has_name(names, "pni"));
	assert_false(word_has_name(names, "lzcnt"));
	/* xcr0 components are not features. */
	assert_false(word_has_name(names, "x87"));
	/* A machine has all it has. */
	assert_int_equal(cpu_features_missing(&cf, &cf, names, sizeof names), 0);
	assert_string_equal(names, "");
}

static void
test_lookup(void **state)
{
	static const struct {
		const char	*name;
		int		 word, bit;
	} cases[] = {
		{ "sse4_2", CPUW_1_ECX, 20 },
		{ "avx", CPUW_1_ECX, 28 },
		{ "avx2", CPUW_7_0_EBX, 5 },
		{ "avx512f", CPUW_7_0_EBX, 16 },
		{ "avx512vl", CPUW_7_0_EBX, 31 },
		{ "avx512_vbmi2", CPUW_7_0_ECX, 6 },
		{ "amx_tile", CPUW_7_0_EDX, 24 },
		{ "avx512_bf16", CPUW_7_1_EAX, 5 },
		{ "xsavec", CPUW_D_1_EAX, 1 },
		{ "abm", CPUW_80000001_ECX, 5 },
		{ "lzcnt", CPUW_80000001_ECX, 5 },
		{ "pni", CPUW_1_ECX, 0 },
		{ "rdtscp", CPUW_80000001_EDX, 27 },
	};
	size_t	i;
	int	word, bit;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		print_message("%s\n", cases[i].name);
		assert_int_equal(cpu_feature_lookup(cases[i].name, &word, &bit), 0);
		assert_int_equal(word, cases[i].word);
		assert_int_equal(bit, cases[i].bit);
	}
	assert_int_equal(cpu_feature_lookup("osxsave", &word, &bit), -1);
	assert_int_equal(cpu_feature_lookup("hypervisor", &word, &bit), -1);
	assert_int_equal(cpu_feature_lookup("", &word, &bit), -1);
	assert_int_equal(cpu_feature_lookup("zmm_hi256", &word, &bit), -1);
}

/* Missing features and components come out by name, in table order. */
static void
test_missing(void **state)
{
	struct cpu_features	have, need;
	char			buf[256], tiny[12];
	int			word, bit;

	memset(&have, 0, sizeof have);
	memset(&need, 0, sizeof need);
	have.word[CPUW_1_EDX] = 1u << 26;	/* sse2 */
	have.xcr0 = 3;
	need = have;
	assert_int_equal(cpu_features_missing(&have, &need, buf, sizeof buf), 0);

	cpu_feature_lookup("avx512f", &word, &bit);
	need.word[word] |= 1u << bit;
	cpu_feature_lookup("avx2", &word, &bit);
	need.word[word] |= 1u << bit;
	need.xcr0 |= 1ull << 6 | 1ull << 63;		/* zmm_hi256, unnamed */
	assert_int_equal(cpu_features_missing(&have, &need, buf, sizeof buf), 4);
	assert_string_equal(buf, "avx2 avx512f zmm_hi256 xcr0_bit63");

	/* Unnamed cpuid bits (OSXSAVE, HYPERVISOR) never count. */
	need = have;
	need.word[CPUW_1_ECX] |= 1u << 27 | 1u << 31;
	assert_int_equal(cpu_features_missing(&have, &need, buf, sizeof buf), 0);

	/* More than have is fine. */
	have.word[CPUW_7_0_EBX] = 0xffffffff;
	have.xcr0 = 0xff;
	need = have;
	need.word[CPUW_7_0_EBX] = 1u << 5;
	need.xcr0 = 7;
	assert_int_equal(cpu_features_missing(&have, &need, buf, sizeof buf), 0);

	/* A small buffer is cut, never overrun; the count is still right. */
	memset(&have, 0, sizeof have);
	need.word[CPUW_7_0_EBX] = 0xffffffff;
	assert_true(cpu_features_missing(&have, &need, tiny, sizeof tiny) > 10);
	assert_true(strlen(tiny) < sizeof tiny);
}

/* OMM_CPU_HIDE plays a smaller machine: the image of this one needs what it hides. */
static void
test_hide(void **state)
{
	struct cpu_features	full, small;
	char			buf[256];

	unsetenv("OMM_CPU_HIDE");
	cpu_features_get(&full);
	if (!has(&full, "sse4_2") || !has(&full, "popcnt"))
		skip();
	setenv("OMM_CPU_HIDE", "sse4_2,popcnt,ssse3", 1);
	cpu_features_get(&small);
	unsetenv("OMM_CPU_HIDE");
	assert_false(has(&small, "sse4_2"));
	assert_false(has(&small, "popcnt"));
	assert_false(has(&small, "ssse3"));
	assert_true(has(&small, "sse2"));
	assert_int_equal(small.xcr0, full.xcr0);
	assert_int_equal(cpu_features_missing(&small, &full, buf, sizeof buf), 3);
	assert_string_equal(buf, "ssse3 sse4_2 popcnt");
	assert_int_equal(cpu_features_missing(&full, &small, buf, sizeof buf), 0);

	/*
	 * xcr0 components hide too; "avx" is both a feature and a component;
	 * unknown names and empty items are skipped (with a warning).
	 */
	if (full.xcr0 & 4) {
		setenv("OMM_CPU_HIDE", "avx,nosuchthing,,avx2,avx", 1);
		cpu_features_get(&small);
		assert_false(has(&small, "avx"));
		assert_false(has(&small, "avx2"));
		assert_false(small.xcr0 & 4);
		assert_true(small.xcr0 & 2);
		cpu_features_missing(&small, &full, buf, sizeof buf);
		assert_true(strncmp(buf, "avx avx2", 8) == 0);
		assert_true(word_has_name(buf + 8, "avx"));	/* the component */
		setenv("OMM_CPU_HIDE", "zmm_hi256,x87", 1);
		cpu_features_get(&small);
		assert_false(small.xcr0 & 1);
		assert_false(small.xcr0 & (1ull << 6));
		assert_true(cpu_features_missing(&small, &full, buf, sizeof buf) >= 1);
		assert_true(word_has_name(buf, "x87"));
	}
	unsetenv("OMM_CPU_HIDE");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_this_machine),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_hide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
