/*
 * Differential test of the x87 numeric core (cpu/fpu-*.c) against the
 * host's x87 as the oracle, one instruction at a time, over seeded random
 * operands heavy in special values (zeros, denormals, pseudo-denormals,
 * infinities, QNaN/SNaN, unnormals, pseudo-NaN/infinity, boundary
 * exponents, values on rounding boundaries), every RC and PC setting and
 * masked, unmasked and mixed exception masks.
 *
 * The oracle does not share code with the library: it loads a complete
 * random FPU state with FRSTOR (prior flags, condition codes, TOP, tags,
 * eight registers), executes the real instruction in its real encoding
 * (including the pop, push and ST(i)-destination forms) and reads the
 * whole state back with FNSAVE. The model applies the library to the same
 * state following the conventions documented in include/cpu/fpu-math.h
 * (suppression rules, which register gets the result, pushes and pops,
 * ES/B). Both images must agree in FCW, FSW (all bits including TOP, ES,
 * B and C0-C3), the tag word, all eight registers, the memory operand and,
 * for FCOMI, ZF/PF/CF. After every library call the host x87 must be
 * clean: empty stack, TOP and control word as before, no pending
 * exception.
 */
#include <check.h>
#include <stdio.h>

#include "cpu/fpu-math.h"

/* ---- random numbers ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static uint64_t rnd_mant_bits(void)
{
    switch (rndn(10)) {
    case 0: return ~0ull;
    case 1: return 0;
    case 2: return 1ull << rndn(64);
    case 3: return ~0ull << rndn(64);
    case 4: return (rnd() & ~0x7ffull) | 0x400;          /* f64 halfway */
    case 5: return (rnd() & ~0xffffffffffull) | 0x8000000000ull; /* f32 halfway */
    case 6: return rnd() & ~((1ull << rndn(64)) - 1);    /* few significant bits */
    default: return rnd();
    }
}

/* Class of an operand, so every test sees every kind. */
static FPReg gen_ext(int center)
{
    FPReg v;
    uint16_t sign = (rnd() & 1) ? 0x8000 : 0;
    uint64_t m = rnd_mant_bits();
    int e;
    switch (rndn(40)) {
    case 0: case 1: v.mant = 0; v.sign_exp = 0; break;
    case 2: case 3: v.mant = (m >> 1) ? (m >> 1) : 1; v.sign_exp = 0; break;   /* denormal */
    case 4: v.mant = m | (1ull << 63); v.sign_exp = 0; break;                   /* pseudo-denormal */
    case 5: case 6: v.mant = 1ull << 63; v.sign_exp = 0x7fff; break;            /* infinity */
    case 7: v.mant = m | (3ull << 62); v.sign_exp = 0x7fff; break;              /* QNaN */
    case 8: v.mant = ((m >> 2) ? (m >> 2) : 1) | (1ull << 63); v.sign_exp = 0x7fff; break; /* SNaN */
    case 9: v.mant = 3ull << 62; v.sign_exp = 0xffff; sign = 0x8000; break;     /* indefinite */
    case 10: v.mant = m >> 1; v.sign_exp = 1 + rndn(0x7ffe); break;             /* unnormal */
    case 11: v.mant = m >> 1; v.sign_exp = 0x7fff; break;                       /* pseudo-NaN/inf */
    case 12: v.mant = m | (1ull << 63); v.sign_exp = (rnd() & 1) ? 1 : 0x7ffe; break;
    case 13: case 14: {                                                         /* f32/f64 edges */
        static const int edges[] = { 126, 127, 128, 149, 150, 151, 1022, 1023, 1024, 1074, 1075, 1076 };
        int d = edges[rndn(ARRAY_SIZE(edges))] + (int)rndn(3) - 1;
        v.mant = m | (1ull << 63);
        v.sign_exp = (rnd() & 1) ? 16383 + d : 16383 - d;
        break;
    }
    case 15: case 16: case 17: {                                                /* integers, halves */
        int k = rndn(66);
        v.sign_exp = 16383 + k;
        v.mant = (m | (1ull << 63));
        if (k < 63 && !(rnd() & 3)) {
            v.mant &= ~0ull << (63 - k);
        } else if (k < 62 && (rnd() & 1)) {
            v.mant = (v.mant & (~0ull << (63 - k))) | (1ull << (62 - k));
        }
        break;
    }
    case 18: case 19:                                                           /* anywhere */
        v.mant = m | (1ull << 63);
        v.sign_exp = 1 + rndn(0x7ffe);
        break;
    default:
        e = center + (int)rndn(81) - 40;
        if (rndn(4) == 0) {
            e = center + (int)rndn(9) - 4;
        }
        v.mant = m | (1ull << 63);
        v.sign_exp = e < 1 ? 1 : e > 0x7ffe ? 0x7ffe : e;
        break;
    }
    v.sign_exp |= sign;
    return v;
}

/* A second operand, often close to or equal to the first. */
static FPReg gen_ext_near(const FPReg *a, int center)
{
    FPReg v = *a;
    switch (rndn(12)) {
    case 0: return v;
    case 1: v.sign_exp ^= 0x8000; return v;
    case 2: case 3:
        if ((a->sign_exp & 0x7fff) > 2 && (a->sign_exp & 0x7fff) < 0x7ffd) {
            v.sign_exp += (int)rndn(5) - 2;
        }
        v.mant ^= rnd() >> rndn(64);
        if (rnd() & 1) {
            v.sign_exp ^= 0x8000;
        }
        return v;
    case 4:
        v.mant ^= 1ull << rndn(63);
        return v;
    default:
        return gen_ext(center);
    }
}

static uint32_t gen_f32(void)
{
    uint32_t sign = (rnd() & 1) << 31, m = (uint32_t)rnd() & 0x7fffff;
    switch (rndn(12)) {
    case 0: return sign;
    case 1: return sign | (m ? m : 1);
    case 2: return sign | 0x7f800000;
    case 3: return sign | 0x7fc00000 | m;
    case 4: return sign | 0x7f800000 | ((m & 0x3fffff) ? (m & 0x3fffff) : 1);
    case 5: return sign | (254u << 23) | m;
    case 6: return sign | (1u << 23) | m;
    default: return sign | ((uint32_t)(127 + (int)rndn(61) - 30) << 23) | m;
    }
}

static uint64_t gen_f64(void)
{
    uint64_t sign = (rnd() & 1) << 63, m = rnd() & 0xfffffffffffffull;
    switch (rndn(12)) {
    case 0: return sign;
    case 1: return sign | (m ? m : 1);
    case 2: return sign | 0x7ff0000000000000ull;
    case 3: return sign | 0x7ff8000000000000ull | m;
    case 4: return sign | 0x7ff0000000000000ull | ((m & 0x7ffffffffffffull) ? (m & 0x7ffffffffffffull) : 1);
    case 5: return sign | (2046ull << 52) | m;
    case 6: return sign | (1ull << 52) | m;
    default: return sign | ((uint64_t)(1023 + (int)rndn(121) - 60) << 52) | m;
    }
}

static int64_t gen_int(int bits)
{
    int64_t max = (int64_t)((1ull << (bits - 1)) - 1);
    switch (rndn(8)) {
    case 0: return 0;
    case 1: return -max - 1;
    case 2: return max;
    case 3: return (int64_t)rndn(21) - 10;
    case 4: return (int64_t)(rnd() >> (64 - bits + rndn(bits)));
    default: {
        uint64_t u = rnd();
        return bits == 64 ? (int64_t)u : (int64_t)(int32_t)(u << (32 - bits)) >> (32 - bits);
    }
    }
}

/* Packed BCD: 18 digits (sometimes invalid nibbles), sign byte. */
static void gen_bcd(uint8_t *b)
{
    int invalid = rndn(16) == 0;
    int ndig = rndn(19);
    memset(b, 0, 10);
    for (int i = 0; i < ndig; i++) {
        unsigned d = invalid && rndn(4) == 0 ? 10 + rndn(6) : rndn(10);
        b[i / 2] |= d << ((i & 1) * 4);
    }
    b[9] = (rnd() & 1) ? 0x80 : 0;
    if (rndn(16) == 0) {
        b[9] |= (uint8_t)(rnd() & 0x7f);
    }
}

/* ---- FSAVE images ------------------------------------------------------------- */

typedef struct __attribute__((packed)) FSaveImage {
    uint16_t fcw, pad0, fsw, pad1, ftw, pad2;
    uint32_t fip;
    uint16_t fcs, fop;
    uint32_t fdp;
    uint16_t fds, pad3;
    uint8_t st[8][10];
} FSaveImage;

#define ALL_X87 "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

static void image_from_state(FSaveImage *img, const X86FPUState *s)
{
    memset(img, 0, sizeof(*img));
    img->fcw = s->fcw;
    img->fsw = (s->fsw & ~FSW_TOP_MASK) | (s->top << FSW_TOP_SHIFT);
    for (int i = 0; i < 8; i++) {
        img->ftw |= (s->ftag[i] & 3) << (2 * i);
        const FPReg *r = &s->st[(s->top + i) & 7];
        memcpy(img->st[i], &r->mant, 8);
        memcpy(img->st[i] + 8, &r->sign_exp, 2);
    }
}

/* ---- instructions under test -------------------------------------------------- */

/* Model kinds: how the library is applied. */
enum {
    K_ARITH,        /* a = ST(dst) op ST(src) / memory, to ST(dst) */
    K_COM,          /* compares; npop pops */
    K_COMI,
    K_TST,
    K_XAM,
    K_UNARY,        /* ST(0) = f(ST(0)) */
    K_BIN01,        /* ST(0) = f(ST(0), ST(1)) */
    K_PUSH2,        /* ST(0) = r0, push r1 (FPTAN, FSINCOS, FXTRACT) */
    K_POP01,        /* ST(1) = f(ST(0), ST(1)), pop */
    K_CONST,        /* push */
    K_LOAD,         /* push from memory */
    K_STORE,        /* memory from ST(0), npop pops */
    K_CHS,
};

/* Memory operand formats. */
enum { M_NONE, M_F32, M_F64, M_I16, M_I32, M_I64, M_BCD };

typedef struct Insn Insn;
typedef void OracleFn(FSaveImage *in, FSaveImage *out, void *mem, uint8_t *efl);

struct Insn {
    const char *name;
    OracleFn *run;
    int kind;
    int op;          /* FPMArithOp, function selector */
    int dst, src;    /* K_ARITH register forms: ST indices; src < 0: memory */
    int npop;
    int mem;         /* M_* */
    int center;      /* typical exponent of operands */
};

/* One function per instruction: FRSTOR, the instruction, FNSAVE. */
#define ORACLE(fn, insn)                                                        \
    static void fn(FSaveImage *in, FSaveImage *out, void *mem, uint8_t *efl)    \
    {                                                                           \
        uint16_t cw;                                                            \
        __asm__ volatile("fnstcw %[cw]\n\t"                                     \
                         "frstor %[in]\n\t"                                     \
                         insn "\n\t"                                            \
                         "fnsave %[out]\n\t"                                    \
                         "fldcw %[cw]"                                          \
                         : [out] "=m"(*out), [m] "+m"(*(uint8_t(*)[16])mem),    \
                           [cw] "=m"(cw)                                        \
                         : [in] "m"(*in)                                        \
                         : ALL_X87);                                            \
        (void)efl;                                                              \
    }

#define ORACLE_COMI(fn, insn)                                                   \
    static void fn(FSaveImage *in, FSaveImage *out, void *mem, uint8_t *efl)    \
    {                                                                           \
        uint16_t cw;                                                            \
        uint8_t z, p, c, prime = *efl;                                          \
        __asm__ volatile("fnstcw %[cw]\n\t"                                     \
                         "frstor %[in]\n\t"                                     \
                         "movb %[prime], %%ah\n\t"                              \
                         "sahf\n\t"                                             \
                         insn "\n\t"                                            \
                         "setz %[z]\n\t"                                        \
                         "setp %[p]\n\t"                                        \
                         "setc %[c]\n\t"                                        \
                         "fnsave %[out]\n\t"                                    \
                         "fldcw %[cw]"                                          \
                         : [out] "=m"(*out), [cw] "=m"(cw), [z] "=m"(z),        \
                           [p] "=m"(p), [c] "=m"(c)                             \
                         : [in] "m"(*in), [prime] "m"(prime)                    \
                         : ALL_X87, "eax");                                     \
        *efl = (z ? 0x40 : 0) | (p ? 4 : 0) | (c ? 1 : 0);                      \
        (void)mem;                                                              \
    }

/* Register forms by their bytes, ST(i) = ST(2), so that the GNU assembler's
 * historical operand swap for fsub/fdiv with an ST(i) destination cannot
 * confuse the test. */
ORACLE(o_fadd_st0_st2, ".byte 0xd8, 0xc2")
ORACLE(o_fmul_st0_st2, ".byte 0xd8, 0xca")
ORACLE(o_fsub_st0_st2, ".byte 0xd8, 0xe2")
ORACLE(o_fsubr_st0_st2, ".byte 0xd8, 0xea")
ORACLE(o_fdiv_st0_st2, ".byte 0xd8, 0xf2")
ORACLE(o_fdivr_st0_st2, ".byte 0xd8, 0xfa")
ORACLE(o_fadd_st0_st0, ".byte 0xd8, 0xc0")
ORACLE(o_fsub_st0_st0, ".byte 0xd8, 0xe0")
ORACLE(o_fadd_st2_st0, ".byte 0xdc, 0xc2")
ORACLE(o_fmul_st2_st0, ".byte 0xdc, 0xca")
ORACLE(o_fsubr_st2_st0, ".byte 0xdc, 0xe2")
ORACLE(o_fsub_st2_st0, ".byte 0xdc, 0xea")
ORACLE(o_fdivr_st2_st0, ".byte 0xdc, 0xf2")
ORACLE(o_fdiv_st2_st0, ".byte 0xdc, 0xfa")
ORACLE(o_faddp_st2_st0, ".byte 0xde, 0xc2")
ORACLE(o_fmulp_st2_st0, ".byte 0xde, 0xca")
ORACLE(o_fsubrp_st2_st0, ".byte 0xde, 0xe2")
ORACLE(o_fsubp_st2_st0, ".byte 0xde, 0xea")
ORACLE(o_fdivrp_st2_st0, ".byte 0xde, 0xf2")
ORACLE(o_fdivp_st2_st0, ".byte 0xde, 0xfa")
ORACLE(o_fadd_m32, "fadds %[m]")
ORACLE(o_fmul_m32, "fmuls %[m]")
ORACLE(o_fsub_m32, "fsubs %[m]")
ORACLE(o_fsubr_m32, "fsubrs %[m]")
ORACLE(o_fdiv_m32, "fdivs %[m]")
ORACLE(o_fdivr_m32, "fdivrs %[m]")
ORACLE(o_fadd_m64, "faddl %[m]")
ORACLE(o_fmul_m64, "fmull %[m]")
ORACLE(o_fsub_m64, "fsubl %[m]")
ORACLE(o_fsubr_m64, "fsubrl %[m]")
ORACLE(o_fdiv_m64, "fdivl %[m]")
ORACLE(o_fdivr_m64, "fdivrl %[m]")
ORACLE(o_fiadd_m16, "fiadds %[m]")
ORACLE(o_fimul_m16, "fimuls %[m]")
ORACLE(o_fisub_m16, "fisubs %[m]")
ORACLE(o_fisubr_m16, "fisubrs %[m]")
ORACLE(o_fidiv_m16, "fidivs %[m]")
ORACLE(o_fidivr_m16, "fidivrs %[m]")
ORACLE(o_fiadd_m32, "fiaddl %[m]")
ORACLE(o_fimul_m32, "fimull %[m]")
ORACLE(o_fisub_m32, "fisubl %[m]")
ORACLE(o_fisubr_m32, "fisubrl %[m]")
ORACLE(o_fidiv_m32, "fidivl %[m]")
ORACLE(o_fidivr_m32, "fidivrl %[m]")

ORACLE(o_fcom_st2, ".byte 0xd8, 0xd2")
ORACLE(o_fcomp_st2, ".byte 0xd8, 0xda")
ORACLE(o_fcompp, ".byte 0xde, 0xd9")
ORACLE(o_fucom_st2, ".byte 0xdd, 0xe2")
ORACLE(o_fucomp_st2, ".byte 0xdd, 0xea")
ORACLE(o_fucompp, ".byte 0xda, 0xe9")
ORACLE(o_fcom_m32, "fcoms %[m]")
ORACLE(o_fcomp_m32, "fcomps %[m]")
ORACLE(o_fcom_m64, "fcoml %[m]")
ORACLE(o_fcomp_m64, "fcompl %[m]")
ORACLE(o_ficom_m16, "ficoms %[m]")
ORACLE(o_ficomp_m16, "ficomps %[m]")
ORACLE(o_ficom_m32, "ficoml %[m]")
ORACLE(o_ficomp_m32, "ficompl %[m]")
ORACLE(o_ftst, "ftst")
ORACLE(o_fxam, "fxam")
ORACLE_COMI(o_fcomi_st2, ".byte 0xdb, 0xf2")
ORACLE_COMI(o_fucomi_st2, ".byte 0xdb, 0xea")
ORACLE_COMI(o_fcomip_st2, ".byte 0xdf, 0xf2")
ORACLE_COMI(o_fucomip_st2, ".byte 0xdf, 0xea")

ORACLE(o_fsqrt, "fsqrt")
ORACLE(o_frndint, "frndint")
ORACLE(o_fscale, "fscale")
ORACLE(o_fprem, "fprem")
ORACLE(o_fprem1, "fprem1")
ORACLE(o_fxtract, "fxtract")
ORACLE(o_fchs, "fchs")
ORACLE(o_fabs, "fabs")

ORACLE(o_fsin, "fsin")
ORACLE(o_fcos, "fcos")
ORACLE(o_f2xm1, "f2xm1")
ORACLE(o_fptan, "fptan")
ORACLE(o_fsincos, "fsincos")
ORACLE(o_fpatan, "fpatan")
ORACLE(o_fyl2x, "fyl2x")
ORACLE(o_fyl2xp1, "fyl2xp1")

ORACLE(o_fld1, "fld1")
ORACLE(o_fldl2t, "fldl2t")
ORACLE(o_fldl2e, "fldl2e")
ORACLE(o_fldpi, "fldpi")
ORACLE(o_fldlg2, "fldlg2")
ORACLE(o_fldln2, "fldln2")
ORACLE(o_fldz, "fldz")

ORACLE(o_fld_m32, "flds %[m]")
ORACLE(o_fld_m64, "fldl %[m]")
ORACLE(o_fild_m16, "filds %[m]")
ORACLE(o_fild_m32, "fildl %[m]")
ORACLE(o_fild_m64, "fildll %[m]")
ORACLE(o_fbld, "fbld %[m]")

ORACLE(o_fst_m32, "fsts %[m]")
ORACLE(o_fstp_m32, "fstps %[m]")
ORACLE(o_fst_m64, "fstl %[m]")
ORACLE(o_fstp_m64, "fstpl %[m]")
ORACLE(o_fist_m16, "fists %[m]")
ORACLE(o_fistp_m16, "fistps %[m]")
ORACLE(o_fist_m32, "fistl %[m]")
ORACLE(o_fistp_m32, "fistpl %[m]")
ORACLE(o_fistp_m64, "fistpll %[m]")
ORACLE(o_fisttp_m16, "fisttps %[m]")
ORACLE(o_fisttp_m32, "fisttpl %[m]")
ORACLE(o_fisttp_m64, "fisttpll %[m]")
ORACLE(o_fbstp, "fbstp %[m]")

#define C 16383
static const Insn arith_insns[] = {
    { "fadd st0,st2", o_fadd_st0_st2, K_ARITH, FPM_ADD, 0, 2, 0, 0, C },
    { "fmul st0,st2", o_fmul_st0_st2, K_ARITH, FPM_MUL, 0, 2, 0, 0, C },
    { "fsub st0,st2", o_fsub_st0_st2, K_ARITH, FPM_SUB, 0, 2, 0, 0, C },
    { "fsubr st0,st2", o_fsubr_st0_st2, K_ARITH, FPM_SUBR, 0, 2, 0, 0, C },
    { "fdiv st0,st2", o_fdiv_st0_st2, K_ARITH, FPM_DIV, 0, 2, 0, 0, C },
    { "fdivr st0,st2", o_fdivr_st0_st2, K_ARITH, FPM_DIVR, 0, 2, 0, 0, C },
    { "fadd st0,st0", o_fadd_st0_st0, K_ARITH, FPM_ADD, 0, 0, 0, 0, C },
    { "fsub st0,st0", o_fsub_st0_st0, K_ARITH, FPM_SUB, 0, 0, 0, 0, C },
    { "fadd st2,st0", o_fadd_st2_st0, K_ARITH, FPM_ADD, 2, 0, 0, 0, C },
    { "fmul st2,st0", o_fmul_st2_st0, K_ARITH, FPM_MUL, 2, 0, 0, 0, C },
    { "fsubr st2,st0", o_fsubr_st2_st0, K_ARITH, FPM_SUBR, 2, 0, 0, 0, C },
    { "fsub st2,st0", o_fsub_st2_st0, K_ARITH, FPM_SUB, 2, 0, 0, 0, C },
    { "fdivr st2,st0", o_fdivr_st2_st0, K_ARITH, FPM_DIVR, 2, 0, 0, 0, C },
    { "fdiv st2,st0", o_fdiv_st2_st0, K_ARITH, FPM_DIV, 2, 0, 0, 0, C },
    { "faddp st2,st0", o_faddp_st2_st0, K_ARITH, FPM_ADD, 2, 0, 1, 0, C },
    { "fmulp st2,st0", o_fmulp_st2_st0, K_ARITH, FPM_MUL, 2, 0, 1, 0, C },
    { "fsubrp st2,st0", o_fsubrp_st2_st0, K_ARITH, FPM_SUBR, 2, 0, 1, 0, C },
    { "fsubp st2,st0", o_fsubp_st2_st0, K_ARITH, FPM_SUB, 2, 0, 1, 0, C },
    { "fdivrp st2,st0", o_fdivrp_st2_st0, K_ARITH, FPM_DIVR, 2, 0, 1, 0, C },
    { "fdivp st2,st0", o_fdivp_st2_st0, K_ARITH, FPM_DIV, 2, 0, 1, 0, C },
    { "fadd m32", o_fadd_m32, K_ARITH, FPM_ADD, 0, -1, 0, M_F32, C },
    { "fmul m32", o_fmul_m32, K_ARITH, FPM_MUL, 0, -1, 0, M_F32, C },
    { "fsub m32", o_fsub_m32, K_ARITH, FPM_SUB, 0, -1, 0, M_F32, C },
    { "fsubr m32", o_fsubr_m32, K_ARITH, FPM_SUBR, 0, -1, 0, M_F32, C },
    { "fdiv m32", o_fdiv_m32, K_ARITH, FPM_DIV, 0, -1, 0, M_F32, C },
    { "fdivr m32", o_fdivr_m32, K_ARITH, FPM_DIVR, 0, -1, 0, M_F32, C },
    { "fadd m64", o_fadd_m64, K_ARITH, FPM_ADD, 0, -1, 0, M_F64, C },
    { "fmul m64", o_fmul_m64, K_ARITH, FPM_MUL, 0, -1, 0, M_F64, C },
    { "fsub m64", o_fsub_m64, K_ARITH, FPM_SUB, 0, -1, 0, M_F64, C },
    { "fsubr m64", o_fsubr_m64, K_ARITH, FPM_SUBR, 0, -1, 0, M_F64, C },
    { "fdiv m64", o_fdiv_m64, K_ARITH, FPM_DIV, 0, -1, 0, M_F64, C },
    { "fdivr m64", o_fdivr_m64, K_ARITH, FPM_DIVR, 0, -1, 0, M_F64, C },
    { "fiadd m16", o_fiadd_m16, K_ARITH, FPM_ADD, 0, -1, 0, M_I16, C + 8 },
    { "fimul m16", o_fimul_m16, K_ARITH, FPM_MUL, 0, -1, 0, M_I16, C + 8 },
    { "fisub m16", o_fisub_m16, K_ARITH, FPM_SUB, 0, -1, 0, M_I16, C + 8 },
    { "fisubr m16", o_fisubr_m16, K_ARITH, FPM_SUBR, 0, -1, 0, M_I16, C + 8 },
    { "fidiv m16", o_fidiv_m16, K_ARITH, FPM_DIV, 0, -1, 0, M_I16, C + 8 },
    { "fidivr m16", o_fidivr_m16, K_ARITH, FPM_DIVR, 0, -1, 0, M_I16, C + 8 },
    { "fiadd m32", o_fiadd_m32, K_ARITH, FPM_ADD, 0, -1, 0, M_I32, C + 16 },
    { "fimul m32", o_fimul_m32, K_ARITH, FPM_MUL, 0, -1, 0, M_I32, C + 16 },
    { "fisub m32", o_fisub_m32, K_ARITH, FPM_SUB, 0, -1, 0, M_I32, C + 16 },
    { "fisubr m32", o_fisubr_m32, K_ARITH, FPM_SUBR, 0, -1, 0, M_I32, C + 16 },
    { "fidiv m32", o_fidiv_m32, K_ARITH, FPM_DIV, 0, -1, 0, M_I32, C + 16 },
    { "fidivr m32", o_fidivr_m32, K_ARITH, FPM_DIVR, 0, -1, 0, M_I32, C + 16 },
};

/* For compares 'op' is 1 for the unordered forms. */
static const Insn compare_insns[] = {
    { "fcom st2", o_fcom_st2, K_COM, 0, 0, 2, 0, 0, C },
    { "fcomp st2", o_fcomp_st2, K_COM, 0, 0, 2, 1, 0, C },
    { "fcompp", o_fcompp, K_COM, 0, 0, 1, 2, 0, C },
    { "fucom st2", o_fucom_st2, K_COM, 1, 0, 2, 0, 0, C },
    { "fucomp st2", o_fucomp_st2, K_COM, 1, 0, 2, 1, 0, C },
    { "fucompp", o_fucompp, K_COM, 1, 0, 1, 2, 0, C },
    { "fcom m32", o_fcom_m32, K_COM, 0, 0, -1, 0, M_F32, C },
    { "fcomp m32", o_fcomp_m32, K_COM, 0, 0, -1, 1, M_F32, C },
    { "fcom m64", o_fcom_m64, K_COM, 0, 0, -1, 0, M_F64, C },
    { "fcomp m64", o_fcomp_m64, K_COM, 0, 0, -1, 1, M_F64, C },
    { "ficom m16", o_ficom_m16, K_COM, 0, 0, -1, 0, M_I16, C + 8 },
    { "ficomp m16", o_ficomp_m16, K_COM, 0, 0, -1, 1, M_I16, C + 8 },
    { "ficom m32", o_ficom_m32, K_COM, 0, 0, -1, 0, M_I32, C + 16 },
    { "ficomp m32", o_ficomp_m32, K_COM, 0, 0, -1, 1, M_I32, C + 16 },
    { "ftst", o_ftst, K_TST, 0, 0, 0, 0, 0, C },
    { "fxam", o_fxam, K_XAM, 0, 0, 0, 0, 0, C },
    { "fcomi st2", o_fcomi_st2, K_COMI, 0, 0, 2, 0, 0, C },
    { "fucomi st2", o_fucomi_st2, K_COMI, 1, 0, 2, 0, 0, C },
    { "fcomip st2", o_fcomip_st2, K_COMI, 0, 0, 2, 1, 0, C },
    { "fucomip st2", o_fucomip_st2, K_COMI, 1, 0, 2, 1, 0, C },
};

enum { F_SQRT, F_RNDINT, F_SCALE, F_PREM, F_PREM1, F_XTRACT, F_CHS, F_ABS,
       F_SIN, F_COS, F_F2XM1, F_PTAN, F_SINCOS, F_PATAN, F_YL2X, F_YL2XP1 };

static const Insn unary_insns[] = {
    { "fsqrt", o_fsqrt, K_UNARY, F_SQRT, 0, 0, 0, 0, C },
    { "frndint", o_frndint, K_UNARY, F_RNDINT, 0, 0, 0, 0, C + 40 },
    { "fscale", o_fscale, K_BIN01, F_SCALE, 0, 0, 0, 0, C },
    { "fprem", o_fprem, K_BIN01, F_PREM, 0, 0, 0, 0, C + 30 },
    { "fprem1", o_fprem1, K_BIN01, F_PREM1, 0, 0, 0, 0, C + 30 },
    { "fxtract", o_fxtract, K_PUSH2, F_XTRACT, 0, 0, 0, 0, C },
    { "fchs", o_fchs, K_CHS, F_CHS, 0, 0, 0, 0, C },
    { "fabs", o_fabs, K_CHS, F_ABS, 0, 0, 0, 0, C },
};

static const Insn trans_insns[] = {
    { "fsin", o_fsin, K_UNARY, F_SIN, 0, 0, 0, 0, C + 2 },
    { "fcos", o_fcos, K_UNARY, F_COS, 0, 0, 0, 0, C + 2 },
    { "f2xm1", o_f2xm1, K_UNARY, F_F2XM1, 0, 0, 0, 0, C - 2 },
    { "fptan", o_fptan, K_PUSH2, F_PTAN, 0, 0, 0, 0, C + 2 },
    { "fsincos", o_fsincos, K_PUSH2, F_SINCOS, 0, 0, 0, 0, C + 2 },
    { "fpatan", o_fpatan, K_POP01, F_PATAN, 0, 0, 0, 0, C },
    { "fyl2x", o_fyl2x, K_POP01, F_YL2X, 0, 0, 0, 0, C },
    { "fyl2xp1", o_fyl2xp1, K_POP01, F_YL2XP1, 0, 0, 0, 0, C - 4 },
};

static const Insn ldst_insns[] = {
    { "fld1", o_fld1, K_CONST, FPM_CONST_1, 0, 0, 0, 0, C },
    { "fldl2t", o_fldl2t, K_CONST, FPM_CONST_L2T, 0, 0, 0, 0, C },
    { "fldl2e", o_fldl2e, K_CONST, FPM_CONST_L2E, 0, 0, 0, 0, C },
    { "fldpi", o_fldpi, K_CONST, FPM_CONST_PI, 0, 0, 0, 0, C },
    { "fldlg2", o_fldlg2, K_CONST, FPM_CONST_LG2, 0, 0, 0, 0, C },
    { "fldln2", o_fldln2, K_CONST, FPM_CONST_LN2, 0, 0, 0, 0, C },
    { "fldz", o_fldz, K_CONST, FPM_CONST_Z, 0, 0, 0, 0, C },
    { "fld m32", o_fld_m32, K_LOAD, 0, 0, 0, 0, M_F32, C },
    { "fld m64", o_fld_m64, K_LOAD, 0, 0, 0, 0, M_F64, C },
    { "fild m16", o_fild_m16, K_LOAD, 0, 0, 0, 0, M_I16, C },
    { "fild m32", o_fild_m32, K_LOAD, 0, 0, 0, 0, M_I32, C },
    { "fild m64", o_fild_m64, K_LOAD, 0, 0, 0, 0, M_I64, C },
    { "fbld", o_fbld, K_LOAD, 0, 0, 0, 0, M_BCD, C },
    { "fst m32", o_fst_m32, K_STORE, 0, 0, 0, 0, M_F32, C },
    { "fstp m32", o_fstp_m32, K_STORE, 0, 0, 0, 1, M_F32, C },
    { "fst m64", o_fst_m64, K_STORE, 0, 0, 0, 0, M_F64, C },
    { "fstp m64", o_fstp_m64, K_STORE, 0, 0, 0, 1, M_F64, C },
    { "fist m16", o_fist_m16, K_STORE, 0, 0, 0, 0, M_I16, C + 14 },
    { "fistp m16", o_fistp_m16, K_STORE, 0, 0, 0, 1, M_I16, C + 14 },
    { "fist m32", o_fist_m32, K_STORE, 0, 0, 0, 0, M_I32, C + 30 },
    { "fistp m32", o_fistp_m32, K_STORE, 0, 0, 0, 1, M_I32, C + 30 },
    { "fistp m64", o_fistp_m64, K_STORE, 0, 0, 0, 1, M_I64, C + 62 },
    { "fisttp m16", o_fisttp_m16, K_STORE, 1, 0, 0, 1, M_I16, C + 14 },
    { "fisttp m32", o_fisttp_m32, K_STORE, 1, 0, 0, 1, M_I32, C + 30 },
    { "fisttp m64", o_fisttp_m64, K_STORE, 1, 0, 0, 1, M_I64, C + 62 },
    { "fbstp", o_fbstp, K_STORE, 0, 0, 0, 1, M_BCD, C + 56 },
};
#undef C

/* ---- the model: the library applied to an FPU state --------------------------- */

static FPReg *st(X86FPUState *s, int i)
{
    return &s->st[(s->top + i) & 7];
}

static void set_st(X86FPUState *s, int i, const FPReg *v)
{
    int p = (s->top + i) & 7;
    s->st[p] = *v;
    s->ftag[p] = fpm_tag(v);
}

static void pop(X86FPUState *s)
{
    s->ftag[s->top] = FTAG_EMPTY;
    s->top = (s->top + 1) & 7;
}

static void push(X86FPUState *s, const FPReg *v)
{
    s->top = (s->top - 1) & 7;
    set_st(s, 0, v);
}

static void update_es(X86FPUState *s)
{
    if (fpm_exception_pending(s->fcw, s->fsw)) {
        s->fsw |= FSW_ES | FSW_B;
    }
}

static uint16_t arith_mem(const Insn *in, FPReg *r, const FPReg *a, const void *mem,
                          uint16_t fcw, uint16_t *fsw)
{
    FPMArithOp op = in->op;
    switch (in->mem) {
    case M_F32: { uint32_t v; memcpy(&v, mem, 4); return fpm_arith_m32fp(op, r, a, v, fcw, fsw); }
    case M_F64: { uint64_t v; memcpy(&v, mem, 8); return fpm_arith_m64fp(op, r, a, v, fcw, fsw); }
    case M_I16: { int16_t v; memcpy(&v, mem, 2); return fpm_arith_m16int(op, r, a, v, fcw, fsw); }
    default: { int32_t v; memcpy(&v, mem, 4); return fpm_arith_m32int(op, r, a, v, fcw, fsw); }
    }
}

static uint16_t com_mem(const Insn *in, const FPReg *a, const void *mem, uint16_t fcw, uint16_t *fsw)
{
    switch (in->mem) {
    case M_F32: { uint32_t v; memcpy(&v, mem, 4); return fpm_com_m32fp(a, v, fcw, fsw); }
    case M_F64: { uint64_t v; memcpy(&v, mem, 8); return fpm_com_m64fp(a, v, fcw, fsw); }
    case M_I16: { int16_t v; memcpy(&v, mem, 2); return fpm_com_m16int(a, v, fcw, fsw); }
    default: { int32_t v; memcpy(&v, mem, 4); return fpm_com_m32int(a, v, fcw, fsw); }
    }
}

static void model(const Insn *in, X86FPUState *s, uint8_t *mem, uint8_t *efl)
{
    FPReg r, r1;
    uint16_t raised;
    uint16_t fcw = s->fcw;

    switch (in->kind) {
    case K_ARITH:
        if (in->src < 0) {
            raised = arith_mem(in, &r, st(s, 0), mem, fcw, &s->fsw);
        } else {
            raised = fpm_arith(in->op, &r, st(s, in->dst), st(s, in->src), fcw, &s->fsw);
        }
        if (!fpm_reg_suppressed(fcw, raised)) {
            set_st(s, in->dst, &r);
            for (int i = 0; i < in->npop; i++) {
                pop(s);
            }
        }
        break;
    case K_COM:
        if (in->src < 0) {
            raised = com_mem(in, st(s, 0), mem, fcw, &s->fsw);
        } else {
            raised = fpm_com(st(s, 0), st(s, in->src), in->op, fcw, &s->fsw);
        }
        if (!fpm_reg_suppressed(fcw, raised)) {
            for (int i = 0; i < in->npop; i++) {
                pop(s);
            }
        }
        break;
    case K_COMI: {
        uint32_t f = *efl;
        raised = fpm_comi(st(s, 0), st(s, in->src), in->op, &f, fcw, &s->fsw);
        *efl = (uint8_t)f;
        if (!fpm_reg_suppressed(fcw, raised) && in->npop) {
            pop(s);
        }
        break;
    }
    case K_TST:
        fpm_tst(st(s, 0), fcw, &s->fsw);
        break;
    case K_XAM:
        fpm_xam(st(s, 0), s->ftag[s->top] == FTAG_EMPTY, &s->fsw);
        break;
    case K_CHS:
        if (in->op == F_CHS) {
            fpm_chs(&r, st(s, 0), &s->fsw);
        } else {
            fpm_abs(&r, st(s, 0), &s->fsw);
        }
        set_st(s, 0, &r);
        break;
    case K_UNARY:
        switch (in->op) {
        case F_SQRT: raised = fpm_sqrt(&r, st(s, 0), fcw, &s->fsw); break;
        case F_RNDINT: raised = fpm_rndint(&r, st(s, 0), fcw, &s->fsw); break;
        case F_SIN: raised = fpm_sin(&r, st(s, 0), fcw, &s->fsw); break;
        case F_COS: raised = fpm_cos(&r, st(s, 0), fcw, &s->fsw); break;
        default: raised = fpm_f2xm1(&r, st(s, 0), fcw, &s->fsw); break;
        }
        if (!fpm_reg_suppressed(fcw, raised)) {
            set_st(s, 0, &r);
        }
        break;
    case K_BIN01:
        switch (in->op) {
        case F_SCALE: raised = fpm_scale(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        case F_PREM: raised = fpm_prem(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        default: raised = fpm_prem1(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        }
        if (!fpm_reg_suppressed(fcw, raised)) {
            set_st(s, 0, &r);
        }
        break;
    case K_PUSH2:
        switch (in->op) {
        case F_XTRACT: raised = fpm_xtract(&r, &r1, st(s, 0), fcw, &s->fsw); break;
        case F_PTAN: raised = fpm_ptan(&r, &r1, st(s, 0), fcw, &s->fsw); break;
        default: raised = fpm_sincos(&r, &r1, st(s, 0), fcw, &s->fsw); break;
        }
        if (!fpm_reg_suppressed(fcw, raised) && !(in->op != F_XTRACT && (raised & FSW_C2))) {
            set_st(s, 0, &r);
            push(s, &r1);
        }
        break;
    case K_POP01:
        switch (in->op) {
        case F_PATAN: raised = fpm_patan(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        case F_YL2X: raised = fpm_yl2x(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        default: raised = fpm_yl2xp1(&r, st(s, 0), st(s, 1), fcw, &s->fsw); break;
        }
        if (!fpm_reg_suppressed(fcw, raised)) {
            set_st(s, 1, &r);
            pop(s);
        }
        break;
    case K_CONST:
        fpm_const(&r, in->op, fcw, &s->fsw);
        push(s, &r);
        break;
    case K_LOAD:
        raised = 0;
        switch (in->mem) {
        case M_F32: { uint32_t v; memcpy(&v, mem, 4); raised = fpm_from_m32fp(&r, v, fcw, &s->fsw); break; }
        case M_F64: { uint64_t v; memcpy(&v, mem, 8); raised = fpm_from_m64fp(&r, v, fcw, &s->fsw); break; }
        case M_I16: { int16_t v; memcpy(&v, mem, 2); fpm_from_int(&r, v, &s->fsw); break; }
        case M_I32: { int32_t v; memcpy(&v, mem, 4); fpm_from_int(&r, v, &s->fsw); break; }
        case M_I64: { int64_t v; memcpy(&v, mem, 8); fpm_from_int(&r, v, &s->fsw); break; }
        default: fpm_from_bcd(&r, mem, &s->fsw); break;
        }
        if (!fpm_load_suppressed(fcw, raised)) {
            push(s, &r);
        }
        break;
    case K_STORE: {
        uint8_t out[10];
        int len;
        switch (in->mem) {
        case M_F32: { uint32_t v; raised = fpm_to_m32fp(&v, st(s, 0), fcw, &s->fsw); memcpy(out, &v, len = 4); break; }
        case M_F64: { uint64_t v; raised = fpm_to_m64fp(&v, st(s, 0), fcw, &s->fsw); memcpy(out, &v, len = 8); break; }
        case M_I16: { int16_t v; raised = fpm_to_int16(&v, st(s, 0), in->op, fcw, &s->fsw); memcpy(out, &v, len = 2); break; }
        case M_I32: { int32_t v; raised = fpm_to_int32(&v, st(s, 0), in->op, fcw, &s->fsw); memcpy(out, &v, len = 4); break; }
        case M_I64: { int64_t v; raised = fpm_to_int64(&v, st(s, 0), in->op, fcw, &s->fsw); memcpy(out, &v, len = 8); break; }
        default: raised = fpm_to_bcd(out, st(s, 0), fcw, &s->fsw); len = 10; break;
        }
        if (!fpm_store_suppressed(fcw, raised)) {
            memcpy(mem, out, len);
            if (in->npop) {
                pop(s);
            }
        }
        break;
    }
    }
    update_es(s);
}

/* ---- random states --------------------------------------------------------------- */

static uint16_t gen_fcw(void)
{
    uint16_t masks;
    switch (rndn(4)) {
    case 0: case 1: masks = 0x3f; break;
    case 2: masks = 0; break;
    default: masks = rnd() & 0x3f; break;
    }
    return 0x40 | masks | (rnd() & 0x0f00) | ((rnd() & 7) == 0 ? 0x1000 : 0);
}

static void gen_state(X86FPUState *s, const Insn *in)
{
    memset(s, 0, sizeof(*s));
    s->fcw = gen_fcw();
    s->top = rndn(8);
    /* Prior flags only where masked: an unmasked one would be a pending
     * exception, reported before the instruction runs. */
    s->fsw = (rnd() & s->fcw & FSW_EXC_MASK) | (rnd() & FSW_CC_MASK);
    if ((s->fcw & FSW_IE) && (rnd() & 1)) {
        s->fsw |= FSW_SF;
    }
    for (int i = 0; i < 8; i++) {
        s->st[i] = gen_ext(in->center);
        s->ftag[i] = FTAG_EMPTY;
    }
    /* ST(0)-ST(2) in use, ST(3)-ST(6) sometimes, ST(7) free for pushes. */
    for (int i = 0; i < 7; i++) {
        if (i < 3 || (rnd() & 1)) {
            int p = (s->top + i) & 7;
            if (i == 1 || i == 2) {
                s->st[p] = gen_ext_near(st(s, 0), in->center);
            }
            s->ftag[p] = fpm_tag(&s->st[p]);
        }
    }
    if (in->kind == K_XAM && rndn(8) == 0) {
        s->ftag[s->top] = FTAG_EMPTY;
    }
}

static void gen_mem(const Insn *in, uint8_t *mem, const X86FPUState *s)
{
    for (int i = 0; i < 16; i++) {
        mem[i] = (uint8_t)rnd();
    }
    if (in->kind == K_STORE) {
        return;
    }
    switch (in->mem) {
    case M_F32: {
        uint32_t v = gen_f32();
        memcpy(mem, &v, 4);
        break;
    }
    case M_F64: {
        uint64_t v = gen_f64();
        memcpy(mem, &v, 8);
        break;
    }
    case M_I16: {
        int16_t v = (int16_t)gen_int(16);
        memcpy(mem, &v, 2);
        break;
    }
    case M_I32: {
        int32_t v = (int32_t)gen_int(32);
        memcpy(mem, &v, 4);
        break;
    }
    case M_I64: {
        int64_t v = gen_int(64);
        memcpy(mem, &v, 8);
        break;
    }
    case M_BCD:
        gen_bcd(mem);
        break;
    }
    (void)s;
}

/* Leaves the host with random stale (masked) flags and condition codes, so
 * the library's handling of a host status that differs from the guest's
 * is exercised too. */
static void dirty_host(void)
{
    struct __attribute__((packed)) {
        uint16_t fcw, p0, fsw, p1, ftw, p2;
        uint32_t ip, x[4];
    } env;
    uint16_t cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    memset(&env, 0, sizeof(env));
    env.fcw = cw;
    env.fsw = (uint16_t)((rnd() & (cw & 0x3f)) | (rnd() & FSW_CC_MASK) | (rndn(8) << 11));
    env.ftw = 0xffff;
    __asm__ volatile("fldenv %0" : : "m"(env) : ALL_X87);
    fpm_host_sync();
}

static bool host_clean(uint16_t cw_before, unsigned top_before, char *why, size_t n)
{
    struct __attribute__((packed)) {
        uint16_t fcw, p0, fsw, p1, ftw, p2;
        uint32_t ip, x[4];
    } env;
    __asm__ volatile("fnstenv %0\n\tfldenv %0" : "=m"(env) : : ALL_X87);
    /* TOP may move: operations that end with FNSAVE reset it. */
    (void)top_before;
    if (env.fcw != cw_before || (env.fsw & FSW_ES) || env.ftw != 0xffff) {
        snprintf(why, n, "host x87 left dirty: fcw %04x (was %04x) fsw %04x (top was %u) ftw %04x",
                 env.fcw, cw_before, env.fsw, top_before, env.ftw);
        return false;
    }
    return true;
}

static void format_state(char *buf, size_t n, const FSaveImage *img)
{
    int len = snprintf(buf, n, "fcw %04x fsw %04x ftw %04x", img->fcw, img->fsw, img->ftw);
    for (int i = 0; i < 8 && len > 0 && (size_t)len < n; i++) {
        uint64_t m;
        uint16_t e;
        memcpy(&m, img->st[i], 8);
        memcpy(&e, img->st[i] + 8, 2);
        len += snprintf(buf + len, n - len, "\n    st%d %04x:%016" PRIx64, i, e, m);
    }
}

static void run_insn(const Insn *in, int iterations)
{
    int c1_kept = 0;
    for (int it = 0; it < iterations; it++) {
        X86FPUState s;
        FSaveImage img_in, img_oracle, img_model;
        uint8_t mem_oracle[16], mem_model[16];
        uint8_t efl_oracle = (uint8_t)(rnd() & 0x45), efl_model = efl_oracle;
        char why[256];

        gen_state(&s, in);
        gen_mem(in, mem_oracle, &s);
        memcpy(mem_model, mem_oracle, 16);
        image_from_state(&img_in, &s);

        in->run(&img_in, &img_oracle, mem_oracle, &efl_oracle);

        if (rnd() & 1) {
            dirty_host();
        }
        uint16_t hcw, hsw;
        __asm__ volatile("fnstcw %0\n\tfnstsw %1" : "=m"(hcw), "=m"(hsw));
        model(in, &s, mem_model, &efl_model);
        bool clean = host_clean(hcw, (hsw >> 11) & 7, why, sizeof(why));
        __asm__ volatile("fninit\n\tfldcw %0" : : "m"(hcw) : ALL_X87);
        image_from_state(&img_model, &s);

        /* The host's operand loads clear C1, so the library cannot keep a
         * prior C1 = 1 through an instruction that leaves C1 alone. Only
         * FCOMI/FUCOMI(P) do that (on AMD processors; the SDM says they
         * clear C1, which is what the library reports): counted, while
         * everything else must match exactly. */
        if (in->kind == K_COMI && (img_in.fsw & FSW_C1) && (img_oracle.fsw & FSW_C1) &&
            !(img_model.fsw & FSW_C1) && (img_oracle.fsw & ~FSW_C1) == img_model.fsw) {
            img_model.fsw |= FSW_C1;
            c1_kept++;
        }
        bool same = img_oracle.fcw == img_model.fcw && img_oracle.fsw == img_model.fsw &&
                    img_oracle.ftw == img_model.ftw &&
                    !memcmp(img_oracle.st, img_model.st, sizeof(img_model.st)) &&
                    !memcmp(mem_oracle, mem_model, 16) &&
                    (in->kind != K_COMI || efl_oracle == efl_model);
        if (!same || !clean) {
            char a[400], b[400], c[400];
            format_state(a, sizeof(a), &img_in);
            format_state(b, sizeof(b), &img_oracle);
            format_state(c, sizeof(c), &img_model);
            uint64_t m0, m1, m2, m3;
            memcpy(&m0, mem_oracle, 8);
            memcpy(&m1, mem_oracle + 8, 8);
            memcpy(&m2, mem_model, 8);
            memcpy(&m3, mem_model + 8, 8);
            ck_abort_msg("%s (case %d): %s\n  input:  %s\n  oracle: %s\n  model:  %s\n"
                         "  mem oracle %016" PRIx64 " %016" PRIx64 " model %016" PRIx64 " %016" PRIx64
                         "\n  eflags oracle %02x model %02x",
                         in->name, it, clean ? "mismatch" : why, a, b, c, m0, m1, m2, m3,
                         efl_oracle, efl_model);
        }
    }
    if (c1_kept) {
        printf("%s: hardware kept C1 = 1 in %d of %d cases\n", in->name, c1_kept, iterations);
    }
}

static void run_table(const Insn *t, size_t n, int iterations, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        rng_state = seed + i * 0x9e3779b97f4a7c15ull;
        run_insn(&t[i], iterations);
    }
}

#define ITER 20000

START_TEST(test_arith)
{
    run_table(arith_insns, ARRAY_SIZE(arith_insns), ITER, 0x1234567);
}
END_TEST

START_TEST(test_compare)
{
    run_table(compare_insns, ARRAY_SIZE(compare_insns), ITER, 0x2345678);
}
END_TEST

START_TEST(test_unary)
{
    run_table(unary_insns, ARRAY_SIZE(unary_insns), ITER, 0x3456789);
}
END_TEST

START_TEST(test_trans)
{
    run_table(trans_insns, ARRAY_SIZE(trans_insns), ITER, 0x456789a);
}
END_TEST

START_TEST(test_load_store)
{
    run_table(ldst_insns, ARRAY_SIZE(ldst_insns), ITER, 0x56789ab);
}
END_TEST

/* FPREM/FPREM1 are run until complete, as software does, for operands
 * with large exponent differences. */
START_TEST(test_prem_loop)
{
    static const Insn prem = { "fprem", o_fprem, K_BIN01, F_PREM, 0, 0, 0, 0, 16383 };
    static const Insn prem1 = { "fprem1", o_fprem1, K_BIN01, F_PREM1, 0, 0, 0, 0, 16383 };
    rng_state = 0x6789abc;
    for (int it = 0; it < 2000; it++) {
        const Insn *in = (it & 1) ? &prem1 : &prem;
        X86FPUState s;
        FSaveImage img_in, img_oracle, img_model;
        uint8_t mem[16] = { 0 }, efl = 0;
        gen_state(&s, in);
        FPReg a = { rnd() | (1ull << 63), (uint16_t)(16383 + rndn(3000)) };
        FPReg b = { rnd() | (1ull << 63), (uint16_t)(16383 - 50 + rndn(100)) };
        set_st(&s, 0, &a);
        set_st(&s, 1, &b);
        s.fcw = 0x37f | (rnd() & 0xc00);
        s.fsw &= ~FSW_EXC_MASK;
        for (int round = 0; round < 100; round++) {
            image_from_state(&img_in, &s);
            in->run(&img_in, &img_oracle, mem, &efl);
            model(in, &s, mem, &efl);
            image_from_state(&img_model, &s);
            ck_assert_msg(!memcmp(&img_oracle.fsw, &img_model.fsw, 2) &&
                          !memcmp(img_oracle.st, img_model.st, sizeof(img_model.st)),
                          "%s loop %d round %d: fsw oracle %04x model %04x", in->name, it, round,
                          img_oracle.fsw, img_model.fsw);
            if (!(s.fsw & FSW_C2)) {
                break;
            }
        }
        ck_assert_msg(!(s.fsw & FSW_C2), "%s never completed", in->name);
    }
}
END_TEST

static Suite *fpu_oracle_suite(void)
{
    Suite *s = suite_create("fpu-oracle");
    TCase *tc = tcase_create("oracle");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_arith);
    tcase_add_test(tc, test_compare);
    tcase_add_test(tc, test_unary);
    tcase_add_test(tc, test_trans);
    tcase_add_test(tc, test_load_store);
    tcase_add_test(tc, test_prem_loop);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_oracle_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
