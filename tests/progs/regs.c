/*
 * regs: user registers held live across the checkpoint.
 *
 * One asm block loads distinct values into the general registers, the
 * vector registers (zmm0-31 and k0-7 with AVX-512, else ymm0-15 with AVX,
 * else xmm0-15), the x87 stack, the x87 control word and MXCSR, then spins
 * (pause; sched_yield) until the SIGUSR1 handler sets a flag, and stores
 * everything back. The handler may use vector registers, but the kernel
 * saves and restores the whole xstate around it, so any difference after
 * the loop was introduced by the checkpoint. fs_base is checked through a
 * __thread variable and the TCB's self pointer.
 *
 * $REGS_MODE=sse|avx|avx512 picks a smaller mode than the CPU allows.
 */
#include <sys/syscall.h>

#include <asm/prctl.h>
#include <cpuid.h>
#include <stddef.h>
#include <stdint.h>

#include "prog.h"

#define NGPR	10

struct regstate {
	uint8_t		vin[32][64];
	uint8_t		vout[32][64];
	uint64_t	kin[8], kout[8];
	uint64_t	gin[NGPR], gout[NGPR];
	double		fin[8], fout[8];
	uint16_t	fcw_in, fcw_out, fcw_saved, pad;
	uint32_t	mxcsr_in, mxcsr_out, mxcsr_saved;
};

/* Offsets spelled out for the asm below; checked against the struct. */
#define O_VIN		0
#define O_VOUT		2048
#define O_KIN		4096
#define O_KOUT		4160
#define O_GIN		4224
#define O_GOUT		4304
#define O_FIN		4384
#define O_FOUT		4448
#define O_FCW_IN	4512
#define O_FCW_OUT	4514
#define O_FCW_SAVED	4516
#define O_MXCSR_IN	4520
#define O_MXCSR_OUT	4524
#define O_MXCSR_SAVED	4528
_Static_assert(offsetof(struct regstate, vout) == O_VOUT, "vout");
_Static_assert(offsetof(struct regstate, kin) == O_KIN, "kin");
_Static_assert(offsetof(struct regstate, kout) == O_KOUT, "kout");
_Static_assert(offsetof(struct regstate, gin) == O_GIN, "gin");
_Static_assert(offsetof(struct regstate, gout) == O_GOUT, "gout");
_Static_assert(offsetof(struct regstate, fin) == O_FIN, "fin");
_Static_assert(offsetof(struct regstate, fout) == O_FOUT, "fout");
_Static_assert(offsetof(struct regstate, fcw_in) == O_FCW_IN, "fcw_in");
_Static_assert(offsetof(struct regstate, fcw_out) == O_FCW_OUT, "fcw_out");
_Static_assert(offsetof(struct regstate, fcw_saved) == O_FCW_SAVED, "fcw");
_Static_assert(offsetof(struct regstate, mxcsr_in) == O_MXCSR_IN, "mxcsr");
_Static_assert(offsetof(struct regstate, mxcsr_out) == O_MXCSR_OUT, "mxo");
_Static_assert(offsetof(struct regstate, mxcsr_saved) == O_MXCSR_SAVED, "mxs");

#define S(x)	#x
#define XS(x)	S(x)

/* General registers: all but rax/rcx/r11 (syscall), rsp, rbp and r15 (base). */
#define GPR_LOAD							\
	"mov " XS(O_GIN) "+0(%%r15), %%rbx\n\t"				\
	"mov " XS(O_GIN) "+8(%%r15), %%rdx\n\t"				\
	"mov " XS(O_GIN) "+16(%%r15), %%rsi\n\t"			\
	"mov " XS(O_GIN) "+24(%%r15), %%rdi\n\t"			\
	"mov " XS(O_GIN) "+32(%%r15), %%r8\n\t"				\
	"mov " XS(O_GIN) "+40(%%r15), %%r9\n\t"				\
	"mov " XS(O_GIN) "+48(%%r15), %%r10\n\t"			\
	"mov " XS(O_GIN) "+56(%%r15), %%r12\n\t"			\
	"mov " XS(O_GIN) "+64(%%r15), %%r13\n\t"			\
	"mov " XS(O_GIN) "+72(%%r15), %%r14\n\t"
#define GPR_STORE							\
	"mov %%rbx, " XS(O_GOUT) "+0(%%r15)\n\t"			\
	"mov %%rdx, " XS(O_GOUT) "+8(%%r15)\n\t"			\
	"mov %%rsi, " XS(O_GOUT) "+16(%%r15)\n\t"			\
	"mov %%rdi, " XS(O_GOUT) "+24(%%r15)\n\t"			\
	"mov %%r8, " XS(O_GOUT) "+32(%%r15)\n\t"			\
	"mov %%r9, " XS(O_GOUT) "+40(%%r15)\n\t"			\
	"mov %%r10, " XS(O_GOUT) "+48(%%r15)\n\t"			\
	"mov %%r12, " XS(O_GOUT) "+56(%%r15)\n\t"			\
	"mov %%r13, " XS(O_GOUT) "+64(%%r15)\n\t"			\
	"mov %%r14, " XS(O_GOUT) "+72(%%r15)\n\t"

/* x87 control word, MXCSR and the eight x87 stack registers. */
#define FP_LOAD								\
	"fnstcw " XS(O_FCW_SAVED) "(%%r15)\n\t"				\
	"stmxcsr " XS(O_MXCSR_SAVED) "(%%r15)\n\t"			\
	"fldcw " XS(O_FCW_IN) "(%%r15)\n\t"				\
	"ldmxcsr " XS(O_MXCSR_IN) "(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+0(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+8(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+16(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+24(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+32(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+40(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+48(%%r15)\n\t"				\
	"fldl " XS(O_FIN) "+56(%%r15)\n\t"
#define FP_STORE							\
	"fstpl " XS(O_FOUT) "+0(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+8(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+16(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+24(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+32(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+40(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+48(%%r15)\n\t"				\
	"fstpl " XS(O_FOUT) "+56(%%r15)\n\t"				\
	"fnstcw " XS(O_FCW_OUT) "(%%r15)\n\t"				\
	"stmxcsr " XS(O_MXCSR_OUT) "(%%r15)\n\t"			\
	"fldcw " XS(O_FCW_SAVED) "(%%r15)\n\t"				\
	"ldmxcsr " XS(O_MXCSR_SAVED) "(%%r15)\n\t"

/* Wait for the flag; sched_yield so a spinning test leaves the CPU to others. */
#define SPIN								\
	"1:\n\t"							\
	"cmpl $0, %[flag]\n\t"						\
	"jne 2f\n\t"							\
	"pause\n\t"							\
	"mov $" XS(SYS_sched_yield) ", %%eax\n\t"			\
	"syscall\n\t"							\
	"jmp 1b\n"							\
	"2:\n\t"

#define VOP(op, r, n, off, sz)						\
	op " " XS(off) "+" #n "*64(%%r15), %%" #r #n "\n\t"
#define VST(op, r, n, off)						\
	op " %%" #r #n ", " XS(off) "+" #n "*64(%%r15)\n\t"

#define V16(M, op, r, off)						\
	M(op, r, 0, off) M(op, r, 1, off) M(op, r, 2, off) M(op, r, 3, off) \
	M(op, r, 4, off) M(op, r, 5, off) M(op, r, 6, off) M(op, r, 7, off) \
	M(op, r, 8, off) M(op, r, 9, off) M(op, r, 10, off) M(op, r, 11, off) \
	M(op, r, 12, off) M(op, r, 13, off) M(op, r, 14, off) M(op, r, 15, off)
#define V16HI(M, op, r, off)						\
	M(op, r, 16, off) M(op, r, 17, off) M(op, r, 18, off) M(op, r, 19, off) \
	M(op, r, 20, off) M(op, r, 21, off) M(op, r, 22, off) M(op, r, 23, off) \
	M(op, r, 24, off) M(op, r, 25, off) M(op, r, 26, off) M(op, r, 27, off) \
	M(op, r, 28, off) M(op, r, 29, off) M(op, r, 30, off) M(op, r, 31, off)
#define VL(op, r, n, off)	VOP(op, r, n, off, 0)

#define KL(n)	"kmovq " XS(O_KIN) "+" #n "*8(%%r15), %%k" #n "\n\t"
#define KS(n)	"kmovq %%k" #n ", " XS(O_KOUT) "+" #n "*8(%%r15)\n\t"

#define CLOBBERS							\
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",	\
	"r11", "r12", "r13", "r14",					\
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",	\
	"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",	\
	"xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)",	\
	"st(6)", "st(7)", "memory", "cc"

enum mode { M_SSE, M_AVX, M_AVX512 };
static const char *mode_name[] = { "sse", "avx", "avx512" };
static const size_t mode_bytes[] = { 16, 32, 64 };

static volatile int	flag;
static __thread unsigned long tls_value;

static void
on_usr1(int sig PROG_UNUSED)
{
	/* Dirty the vector unit in the handler on purpose: sigreturn restores it. */
	volatile double	d = 1.5;

	d = d * 3.25;
	flag = 1;
}

static void
spin_sse(struct regstate *st)
{
	register struct regstate *base asm("r15") = st;

	asm volatile(GPR_LOAD FP_LOAD V16(VL, "movdqu", xmm, O_VIN)
	    SPIN
	    V16(VST, "movdqu", xmm, O_VOUT) FP_STORE GPR_STORE
	    : [flag] "+m" (flag) : "r" (base) : CLOBBERS);
}

static void
spin_avx(struct regstate *st)
{
	register struct regstate *base asm("r15") = st;

	asm volatile(GPR_LOAD FP_LOAD V16(VL, "vmovdqu", ymm, O_VIN)
	    SPIN
	    V16(VST, "vmovdqu", ymm, O_VOUT) "vzeroupper\n\t" FP_STORE GPR_STORE
	    : [flag] "+m" (flag) : "r" (base) : CLOBBERS);
}

/* The target attribute lets the clobber list name xmm16-31 and k0-7. */
__attribute__((target("avx512f,avx512bw"))) static void
spin_avx512(struct regstate *st)
{
	register struct regstate *base asm("r15") = st;

	asm volatile(GPR_LOAD FP_LOAD
	    V16(VL, "vmovdqu64", zmm, O_VIN) V16HI(VL, "vmovdqu64", zmm, O_VIN)
	    KL(0) KL(1) KL(2) KL(3) KL(4) KL(5) KL(6) KL(7)
	    SPIN
	    V16(VST, "vmovdqu64", zmm, O_VOUT) V16HI(VST, "vmovdqu64", zmm, O_VOUT)
	    KS(0) KS(1) KS(2) KS(3) KS(4) KS(5) KS(6) KS(7)
	    "vzeroupper\n\t" FP_STORE GPR_STORE
	    : [flag] "+m" (flag) : "r" (base)
	    : CLOBBERS, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
	    "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28",
	    "xmm29", "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5", "k6",
	    "k7");
}

static uint64_t
xgetbv0(void)
{
	uint32_t	lo, hi;

	asm volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	return ((uint64_t)hi << 32) | lo;
}

/* The largest mode both the CPU and the kernel (XCR0) support. */
static enum mode
best_mode(void)
{
	unsigned int	a, b, c, d;
	uint64_t	xcr0;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    !(c & bit_AVX))
		return M_SSE;
	xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6)
		return M_SSE;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return M_AVX;
	if ((b & bit_AVX512F) && (b & bit_AVX512BW) && (xcr0 & 0xe0) == 0xe0)
		return M_AVX512;
	return M_AVX;
}

int
main(void)
{
	static struct regstate	 st;
	struct sigaction	 sa;
	enum mode		 mode = best_mode(), want;
	const char		*env;
	unsigned long		 fs_before, fs_after, tcb_self, *tls_addr;
	size_t			 i, j, nvec;
	sigset_t		 set;

	prog_arm("regs");
	if ((env = getenv("REGS_MODE")) != NULL) {
		for (want = M_SSE; want <= M_AVX512; want++)
			if (strcmp(env, mode_name[want]) == 0)
				break;
		if (want > M_AVX512 || want > mode) {
			fprintf(stderr, "regs: REGS_MODE=%s not possible here "
			    "(best: %s)\n", env, mode_name[mode]);
			return 2;
		}
		mode = want;
	}
	fprintf(stderr, "regs: mode %s\n", mode_name[mode]);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	for (i = 0; i < 32; i++)
		for (j = 0; j < 64; j++)
			st.vin[i][j] = (uint8_t)(0x5a ^ (i * 67 + j * 13 + 1));
	memset(st.vout, 0, sizeof st.vout);
	for (i = 0; i < 8; i++)
		st.kin[i] = 0x0123456789abcdefUL * (i + 3) ^ (i << 60);
	for (i = 0; i < NGPR; i++)
		st.gin[i] = 0xfeedface00000000UL | (i * 0x11111111UL);
	for (i = 0; i < 8; i++)
		st.fin[i] = 1.0 / (i + 3) + (double)i * 1000;
	st.fcw_in = 0x0f7f;		/* round toward zero, not the default 0x037f */
	st.mxcsr_in = 0xbfc0;		/* FTZ, DAZ, round down, not 0x1f80 */

	tls_value = 0x7157deadbeefUL;
	tls_addr = &tls_value;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_before);

	prog_ready();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	switch (mode) {
	case M_SSE:
		spin_sse(&st);
		break;
	case M_AVX:
		spin_avx(&st);
		break;
	case M_AVX512:
		spin_avx512(&st);
		break;
	}

	nvec = mode == M_AVX512 ? 32 : 16;
	for (i = 0; i < nvec; i++) {
		for (j = 0; j < mode_bytes[mode]; j++) {
			if (st.vout[i][j] == st.vin[i][j])
				continue;
			prog_fail("%s%zu byte %zu is %#x, expected %#x",
			    mode == M_SSE ? "xmm" : mode == M_AVX ? "ymm" : "zmm",
			    i, j, st.vout[i][j], st.vin[i][j]);
			break;
		}
	}
	if (mode == M_AVX512)
		for (i = 0; i < 8; i++)
			CHECK(st.kout[i] == st.kin[i], "k%zu is %#lx, expected "
			    "%#lx", i, st.kout[i], st.kin[i]);
	for (i = 0; i < NGPR; i++) {
		static const char *gname[NGPR] = { "rbx", "rdx", "rsi", "rdi",
		    "r8", "r9", "r10", "r12", "r13", "r14" };

		CHECK(st.gout[i] == st.gin[i], "%s is %#lx, expected %#lx",
		    gname[i], st.gout[i], st.gin[i]);
	}
	for (i = 0; i < 8; i++)
		CHECK(st.fout[i] == st.fin[7 - i], "st(%zu) is %a, expected %a",
		    i, st.fout[i], st.fin[7 - i]);
	CHECK(st.fcw_out == st.fcw_in, "x87 control word is %#x, expected %#x",
	    st.fcw_out, st.fcw_in);
	CHECK(st.mxcsr_out == st.mxcsr_in, "MXCSR is %#x, expected %#x",
	    st.mxcsr_out, st.mxcsr_in);

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs_after);
	asm volatile("mov %%fs:0, %0" : "=r" (tcb_self));
	CHECK(fs_after == fs_before, "fs_base is %#lx, expected %#lx",
	    fs_after, fs_before);
	CHECK(tcb_self == fs_before, "TCB self pointer is %#lx, expected %#lx",
	    tcb_self, fs_before);
	CHECK(&tls_value == tls_addr, "__thread variable moved from %p to %p",
	    (void *)tls_addr, (void *)&tls_value);
	CHECK(tls_value == 0x7157deadbeefUL, "__thread variable is %#lx",
	    tls_value);
	return prog_finish();
}
