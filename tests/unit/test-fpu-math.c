/*
 * Known-answer tests for the x87 numeric core (cpu/fpu-*.c): values
 * worked out independently (exact rational arithmetic, the SDM's tables
 * for special operands), so a mistake shared by the library and the host
 * oracle of test-fpu-oracle.c (a swapped rounding mode, a wrong operand
 * order) still shows up here.
 */
#include <check.h>

#include "cpu/fpu-math.h"

#define RN 0x0000
#define RD 0x0400
#define RU 0x0800
#define RZ 0x0c00
#define PC24 0x0000
#define PC53 0x0200
#define PC64 0x0300
#define MASKED 0x007f   /* all exceptions masked, bit 6 reads as 1 */

static const FPReg ONE = { 0x8000000000000000ull, 0x3fff };
static const FPReg TWO = { 0x8000000000000000ull, 0x4000 };
static const FPReg THREE = { 0xc000000000000000ull, 0x4000 };
static const FPReg TEN = { 0xa000000000000000ull, 0x4002 };
static const FPReg ELEVEN = { 0xb000000000000000ull, 0x4002 };
static const FPReg PZERO = { 0, 0 };
static const FPReg NZERO = { 0, 0x8000 };
static const FPReg PINF = { 0x8000000000000000ull, 0x7fff };
static const FPReg INDEFINITE = { 0xc000000000000000ull, 0xffff };

static FPReg mk(uint16_t se, uint64_t m)
{
    FPReg r = { m, se };
    return r;
}

#define ck_assert_reg(r, se, m)                                                        \
    do {                                                                               \
        FPReg r_ = (r);                                                                \
        ck_assert_msg(r_.sign_exp == (se) && r_.mant == (m),                           \
                      "got %04x:%016" PRIx64 ", expected %04x:%016" PRIx64,            \
                      r_.sign_exp, r_.mant, (unsigned)(se), (uint64_t)(m));            \
    } while (0)

START_TEST(test_division_rounding_and_precision)
{
    /* 1/3 = 1.0101...b * 2^-2 under every RC and PC. */
    static const struct { uint16_t cw; uint64_t mant; } cases[] = {
        { PC24 | RN, 0xaaaaab0000000000ull }, { PC24 | RZ, 0xaaaaaa0000000000ull },
        { PC24 | RU, 0xaaaaab0000000000ull }, { PC24 | RD, 0xaaaaaa0000000000ull },
        { PC53 | RN, 0xaaaaaaaaaaaaa800ull }, { PC53 | RZ, 0xaaaaaaaaaaaaa800ull },
        { PC53 | RU, 0xaaaaaaaaaaaab000ull }, { PC53 | RD, 0xaaaaaaaaaaaaa800ull },
        { PC64 | RN, 0xaaaaaaaaaaaaaaabull }, { PC64 | RZ, 0xaaaaaaaaaaaaaaaaull },
        { PC64 | RU, 0xaaaaaaaaaaaaaaabull }, { PC64 | RD, 0xaaaaaaaaaaaaaaaaull },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        FPReg r;
        uint16_t fsw = 0;
        uint16_t cw = MASKED | cases[i].cw;
        fpm_arith(FPM_DIV, &r, &ONE, &THREE, cw, &fsw);
        ck_assert_reg(r, 0x3ffd, cases[i].mant);
        ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_PE);
        /* C1: the significand was rounded up (away from the true value). */
        bool up = (cases[i].mant & 0xff) == 0xab || cases[i].mant == 0xaaaaab0000000000ull ||
                  cases[i].mant == 0xaaaaaaaaaaaab000ull;
        ck_assert_int_eq(!!(fsw & FSW_C1), up);

        /* The reversed form: DIVR computes src / dest. */
        fsw = 0;
        fpm_arith(FPM_DIVR, &r, &THREE, &ONE, cw, &fsw);
        ck_assert_reg(r, 0x3ffd, cases[i].mant);
        /* Negative quotient: RD now rounds away from zero. */
        FPReg m3 = THREE;
        m3.sign_exp |= 0x8000;
        fsw = 0;
        fpm_arith(FPM_DIV, &r, &ONE, &m3, cw, &fsw);
        uint16_t rc = cases[i].cw & 0x0c00;
        uint64_t mirrored = cases[i].mant;
        if (rc == RU || rc == RD) {
            uint16_t other = (rc == RU) ? RD : RU;
            for (size_t j = 0; j < ARRAY_SIZE(cases); j++) {
                if (cases[j].cw == ((cases[i].cw & 0x0300) | other)) {
                    mirrored = cases[j].mant;
                }
            }
        }
        ck_assert_reg(r, 0xbffd, mirrored);
    }
}
END_TEST

START_TEST(test_sqrt_precision)
{
    static const struct { uint16_t cw; uint64_t mant; } cases[] = {
        { PC24 | RN, 0xb504f30000000000ull }, { PC24 | RU, 0xb504f40000000000ull },
        { PC53 | RN, 0xb504f333f9de6800ull }, { PC53 | RZ, 0xb504f333f9de6000ull },
        { PC64 | RN, 0xb504f333f9de6484ull }, { PC64 | RU, 0xb504f333f9de6485ull },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        FPReg r;
        uint16_t fsw = 0;
        fpm_sqrt(&r, &TWO, MASKED | cases[i].cw, &fsw);
        ck_assert_reg(r, 0x3fff, cases[i].mant);
        ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_PE);
    }
    FPReg r;
    uint16_t fsw = 0;
    fpm_sqrt(&r, &NZERO, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x8000, 0);                 /* sqrt(-0) = -0, exact */
    ck_assert_uint_eq(fsw, 0);
    fpm_sqrt(&r, &(FPReg){ 0x8000000000000000ull, 0xbfff }, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);   /* sqrt(-1): indefinite */
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_IE);
}
END_TEST

START_TEST(test_addition_ties_and_signs)
{
    FPReg tiny = mk(0x3fff - 64, 0x8000000000000000ull);   /* 2^-64: half an ulp of 1 */
    FPReg r;
    uint16_t fsw = 0;
    fpm_arith(FPM_ADD, &r, &ONE, &tiny, MASKED | PC64 | RN, &fsw);
    ck_assert_reg(r, 0x3fff, 0x8000000000000000ull);   /* tie to even */
    ck_assert_uint_eq(fsw, FSW_PE);
    fsw = 0;
    fpm_arith(FPM_ADD, &r, &ONE, &tiny, MASKED | PC64 | RU, &fsw);
    ck_assert_reg(r, 0x3fff, 0x8000000000000001ull);
    ck_assert_uint_eq(fsw, FSW_PE | FSW_C1);
    /* x - x is +0, except -0 when rounding down. */
    fsw = 0;
    fpm_arith(FPM_SUB, &r, &TEN, &TEN, MASKED | PC64 | RN, &fsw);
    ck_assert_reg(r, 0x0000, 0);
    fpm_arith(FPM_SUB, &r, &TEN, &TEN, MASKED | PC64 | RD, &fsw);
    ck_assert_reg(r, 0x8000, 0);
    ck_assert_uint_eq(fsw, 0);
    /* SUB and SUBR: 10 - 3 and 3 - 10. */
    fpm_arith(FPM_SUB, &r, &TEN, &THREE, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x4001, 0xe000000000000000ull);
    fpm_arith(FPM_SUBR, &r, &TEN, &THREE, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xc001, 0xe000000000000000ull);
    /* Memory operand formats. */
    fpm_arith_m32fp(FPM_SUBR, &r, &TEN, 0x40400000 /* 3.0f */, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xc001, 0xe000000000000000ull);
    fpm_arith_m64fp(FPM_MUL, &r, &TEN, 0x4008000000000000ull /* 3.0 */, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x4003, 0xf000000000000000ull);
    fpm_arith_m16int(FPM_DIVR, &r, &TWO, -10, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xc001, 0xa000000000000000ull);
    fpm_arith_m32int(FPM_ADD, &r, &ONE, -1, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x0000, 0);
    ck_assert_uint_eq(fsw, 0);
}
END_TEST

START_TEST(test_invalid_and_special_operands)
{
    FPReg r;
    uint16_t fsw = 0;
    FPReg ninf = PINF;
    ninf.sign_exp |= 0x8000;
    /* inf + -inf, 0 * inf, 0/0: invalid, the indefinite. */
    fpm_arith(FPM_ADD, &r, &PINF, &ninf, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_IE);
    fsw = 0;
    fpm_arith(FPM_MUL, &r, &PZERO, &PINF, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);
    fpm_arith(FPM_DIV, &r, &PZERO, &NZERO, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_IE);
    /* 1 / -0: divide by zero, -inf. */
    fsw = 0;
    fpm_arith(FPM_DIV, &r, &ONE, &NZERO, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_ZE);
    /* SNaN operand: IE and the SNaN quieted; unmasked: suppressed. */
    FPReg snan = mk(0x7fff, 0x8000000000001234ull);
    fsw = 0;
    uint16_t raised = fpm_arith(FPM_ADD, &r, &ONE, &snan, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x7fff, 0xc000000000001234ull);
    ck_assert(!fpm_reg_suppressed(MASKED, raised));
    ck_assert(fpm_reg_suppressed(0x40 | PC64, raised));
    /* Two QNaNs: the larger significand. */
    FPReg q1 = mk(0x7fff, 0xc000000000000005ull), q2 = mk(0xffff, 0xc000000000000009ull);
    fsw = 0;
    fpm_arith(FPM_MUL, &r, &q1, &q2, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000009ull);
    ck_assert_uint_eq(fsw, 0);
    /* Unsupported encodings: an unnormal and a pseudo-infinity are invalid. */
    FPReg unnormal = mk(0x4000, 0x4000000000000000ull);
    FPReg pinf = mk(0x7fff, 0);
    fpm_arith(FPM_ADD, &r, &ONE, &unnormal, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_IE);
    fsw = 0;
    fpm_arith(FPM_ADD, &r, &pinf, &ONE, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0xffff, 0xc000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_IE);
    /* A pseudo-denormal is a denormal operand worth its value. */
    FPReg pden = mk(0x0000, 0x8000000000000000ull);   /* = 2^-16382 */
    fsw = 0;
    fpm_arith(FPM_MUL, &r, &pden, &TWO, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x0002, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_DE);
    /* Denormal operand with DE unmasked: suppressed. */
    fsw = 0;
    raised = fpm_arith(FPM_MUL, &r, &pden, &TWO, (MASKED & ~FSW_DE) | PC64, &fsw);
    ck_assert(fpm_reg_suppressed((MASKED & ~FSW_DE) | PC64, raised));
}
END_TEST

START_TEST(test_overflow_underflow)
{
    FPReg max = mk(0x7ffe, 0xffffffffffffffffull), r;
    uint16_t fsw = 0;
    /* Masked overflow: infinity (or the largest finite value toward zero). */
    fpm_arith(FPM_MUL, &r, &max, &max, MASKED | PC64 | RN, &fsw);
    ck_assert_reg(r, 0x7fff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_OE | FSW_PE | FSW_C1);
    fsw = 0;
    fpm_arith(FPM_MUL, &r, &max, &max, MASKED | PC64 | RZ, &fsw);
    ck_assert_reg(r, 0x7ffe, 0xffffffffffffffffull);
    ck_assert_uint_eq(fsw, FSW_OE | FSW_PE);
    /* Unmasked overflow: the result with its exponent reduced by 24576. */
    fsw = 0;
    uint16_t raised = fpm_arith(FPM_MUL, &r, &max, &max, (MASKED & ~FSW_OE) | PC64 | RN, &fsw);
    ck_assert_reg(r, 0x5ffe, 0xfffffffffffffffeull);
    ck_assert(!fpm_reg_suppressed((MASKED & ~FSW_OE) | PC64, raised));
    ck_assert(fsw & FSW_OE);
    /* Underflow: 2^-16382 / 4 = 2^-16384, a denormal (exact: no UE when masked). */
    FPReg minn = mk(0x0001, 0x8000000000000000ull), four = mk(0x4001, 0x8000000000000000ull);
    fsw = 0;
    fpm_arith(FPM_DIV, &r, &minn, &four, MASKED | PC64, &fsw);
    ck_assert_reg(r, 0x0000, 0x2000000000000000ull);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);
    /* Unmasked underflow: exponent raised by 24576 instead. */
    fsw = 0;
    fpm_arith(FPM_DIV, &r, &minn, &four, (MASKED & ~FSW_UE) | PC64, &fsw);
    ck_assert_reg(r, 0x5fff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_UE);
}
END_TEST

START_TEST(test_constants_follow_rc)
{
    static const struct { FPMConst c; uint16_t se; uint64_t rn, rz, ru; } cases[] = {
        { FPM_CONST_PI, 0x4000, 0xc90fdaa22168c235ull, 0xc90fdaa22168c234ull, 0xc90fdaa22168c235ull },
        { FPM_CONST_L2E, 0x3fff, 0xb8aa3b295c17f0bcull, 0xb8aa3b295c17f0bbull, 0xb8aa3b295c17f0bcull },
        { FPM_CONST_L2T, 0x4000, 0xd49a784bcd1b8afeull, 0xd49a784bcd1b8afeull, 0xd49a784bcd1b8affull },
        { FPM_CONST_LG2, 0x3ffd, 0x9a209a84fbcff799ull, 0x9a209a84fbcff798ull, 0x9a209a84fbcff799ull },
        { FPM_CONST_LN2, 0x3ffe, 0xb17217f7d1cf79acull, 0xb17217f7d1cf79abull, 0xb17217f7d1cf79acull },
        { FPM_CONST_1, 0x3fff, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull },
        { FPM_CONST_Z, 0x0000, 0, 0, 0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        FPReg r;
        uint16_t fsw = FSW_C1;
        fpm_const(&r, cases[i].c, MASKED | PC24 | RN, &fsw);   /* PC does not apply */
        ck_assert_reg(r, cases[i].se, cases[i].rn);
        ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);               /* no PE from FLDxx */
        fpm_const(&r, cases[i].c, MASKED | PC64 | RZ, &fsw);
        ck_assert_reg(r, cases[i].se, cases[i].rz);
        fpm_const(&r, cases[i].c, MASKED | PC64 | RD, &fsw);
        ck_assert_reg(r, cases[i].se, cases[i].rz);
        fpm_const(&r, cases[i].c, MASKED | PC64 | RU, &fsw);
        ck_assert_reg(r, cases[i].se, cases[i].ru);
    }
}
END_TEST

START_TEST(test_integer_conversions)
{
    static const struct { uint16_t rc; int v25, vm25, v35, vm27t; } cases[] = {
        /* 2.5, -2.5, 3.5 rounded; -2.75 truncated by FISTTP regardless */
        { RN, 2, -2, 4, -2 }, { RD, 2, -3, 3, -2 }, { RU, 3, -2, 4, -2 }, { RZ, 2, -2, 3, -2 },
    };
    FPReg p25 = mk(0x4000, 0xa000000000000000ull), m25 = mk(0xc000, 0xa000000000000000ull);
    FPReg p35 = mk(0x4000, 0xe000000000000000ull), m275 = mk(0xc000, 0xb000000000000000ull);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint16_t cw = MASKED | PC24 | cases[i].rc, fsw = 0;
        int16_t a;
        int32_t b;
        int64_t c;
        fpm_to_int16(&a, &p25, false, cw, &fsw);
        ck_assert_int_eq(a, cases[i].v25);
        fpm_to_int32(&b, &m25, false, cw, &fsw);
        ck_assert_int_eq(b, cases[i].vm25);
        fpm_to_int64(&c, &p35, false, cw, &fsw);
        ck_assert_int_eq(c, cases[i].v35);
        fpm_to_int32(&b, &m275, true, cw, &fsw);
        ck_assert_int_eq(b, cases[i].vm27t);
        ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_PE);
    }
    /* Out of range and NaN: IE, the integer indefinite; unmasked: no store. */
    FPReg big16 = mk(0x400e, 0x8000000000000000ull);   /* 32768 */
    FPReg min16 = mk(0xc00e, 0x8000000000000000ull);   /* -32768 fits */
    int16_t a;
    int64_t c;
    uint16_t fsw = 0;
    fpm_to_int16(&a, &big16, false, MASKED, &fsw);
    ck_assert_int_eq(a, INT16_MIN);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_IE);
    fsw = 0;
    fpm_to_int16(&a, &min16, false, MASKED, &fsw);
    ck_assert_int_eq(a, -32768);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);
    uint16_t raised = fpm_to_int64(&c, &INDEFINITE, false, MASKED, &fsw);
    ck_assert_int_eq(c, INT64_MIN);
    ck_assert(fpm_store_suppressed(0x40, raised));
    ck_assert(!fpm_store_suppressed(MASKED, raised));

    FPReg r;
    fsw = FSW_C1;
    fpm_from_int(&r, INT64_MIN, &fsw);
    ck_assert_reg(r, 0xc03e, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw, 0);
    fpm_from_int(&r, 0, &fsw);
    ck_assert_reg(r, 0, 0);
    fpm_from_int(&r, 5, &fsw);
    ck_assert_reg(r, 0x4001, 0xa000000000000000ull);
}
END_TEST

START_TEST(test_float_conversions)
{
    FPReg third;
    uint16_t fsw = 0;
    fpm_arith(FPM_DIV, &third, &ONE, &THREE, MASKED | PC64, &fsw);
    uint32_t f;
    uint64_t d;
    fsw = 0;
    fpm_to_m32fp(&f, &third, MASKED | PC24 | RN, &fsw);
    ck_assert_uint_eq(f, 0x3eaaaaab);
    fpm_to_m32fp(&f, &third, MASKED | PC64 | RZ, &fsw);
    ck_assert_uint_eq(f, 0x3eaaaaaa);
    fpm_to_m64fp(&d, &third, MASKED | PC24 | RN, &fsw);
    ck_assert_uint_eq(d, 0x3fd5555555555555ull);
    fpm_to_m64fp(&d, &third, MASKED | PC24 | RU, &fsw);
    ck_assert_uint_eq(d, 0x3fd5555555555556ull);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_PE);
    /* Overflow to single: infinity, or the largest finite value under RZ. */
    FPReg huge = mk(0x4000 + 200, 0x8000000000000000ull);
    fsw = 0;
    fpm_to_m32fp(&f, &huge, MASKED | RN, &fsw);
    ck_assert_uint_eq(f, 0x7f800000);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_OE | FSW_PE);
    fpm_to_m32fp(&f, &huge, MASKED | RZ, &fsw);
    ck_assert_uint_eq(f, 0x7f7fffff);
    uint16_t raised = fpm_to_m32fp(&f, &huge, (MASKED & ~FSW_OE), &fsw);
    ck_assert(fpm_store_suppressed(MASKED & ~FSW_OE, raised));
    /* 2^-150 is half the smallest single denormal: ties to even (zero),
     * rounds up to it under RU; both tiny and inexact: UE and PE. */
    FPReg t150 = mk(0x3fff - 150, 0x8000000000000000ull);
    fsw = 0;
    fpm_to_m32fp(&f, &t150, MASKED | RN, &fsw);
    ck_assert_uint_eq(f, 0);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_UE | FSW_PE);
    fpm_to_m32fp(&f, &t150, MASKED | RU, &fsw);
    ck_assert_uint_eq(f, 1);
    /* NaN payloads: the top significand bits, sign kept. */
    FPReg qnan = mk(0xffff, 0xc000000000000000ull | (0x123ull << 40));
    fpm_to_m32fp(&f, &qnan, MASKED, &fsw);
    ck_assert_uint_eq(f, 0xffc00000 | (0x123 << 0));

    /* Loads: exact; SNaN quieted with IE; denormals raise DE. */
    FPReg r;
    fsw = 0;
    fpm_from_m32fp(&r, 0x3eaaaaab, MASKED, &fsw);
    ck_assert_reg(r, 0x3ffd, 0xaaaaab0000000000ull);
    ck_assert_uint_eq(fsw, 0);
    raised = fpm_from_m32fp(&r, 0x7f800001, MASKED, &fsw);
    ck_assert_reg(r, 0x7fff, 0xc000010000000000ull);
    ck_assert_uint_eq(fsw, FSW_IE);
    ck_assert(fpm_load_suppressed(0x40, raised));
    fsw = 0;
    fpm_from_m32fp(&r, 0x00000001, MASKED, &fsw);
    ck_assert_reg(r, 0x3fff - 149, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw, FSW_DE);
    fsw = 0;
    fpm_from_m64fp(&r, 0xfff0000000000000ull, MASKED, &fsw);
    ck_assert_reg(r, 0xffff, 0x8000000000000000ull);
    fpm_from_m64fp(&r, 0x8000000000000000ull, MASKED, &fsw);
    ck_assert_reg(r, 0x8000, 0);
    ck_assert_uint_eq(fsw, 0);
}
END_TEST

START_TEST(test_bcd)
{
    uint8_t b[10];
    static const uint8_t nines[10] = { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00 };
    FPReg r;
    uint16_t fsw = FSW_C1;
    fpm_from_bcd(&r, nines, &fsw);
    /* 999999999999999999 = 0xde0b6b3a763ffff */
    ck_assert_reg(r, 0x3fff + 59, 0xde0b6b3a763ffffull << 4);
    ck_assert_uint_eq(fsw, 0);
    fsw = 0;
    fpm_to_bcd(b, &r, MASKED, &fsw);
    ck_assert_mem_eq(b, nines, 10);
    ck_assert_uint_eq(fsw, 0);
    /* -12345.5 rounds to even: -12346. */
    FPReg v = mk(0xc00c, 0xc0e6000000000000ull);
    fpm_to_bcd(b, &v, MASKED | RN, &fsw);
    static const uint8_t m12346[10] = { 0x46, 0x23, 0x01, 0, 0, 0, 0, 0, 0, 0x80 };
    ck_assert_mem_eq(b, m12346, 10);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_PE);
    /* 10^18 does not fit: IE, the packed BCD indefinite. */
    FPReg e18;
    fpm_from_int(&e18, 1000000000000000000ll, &fsw);
    fsw = 0;
    uint16_t raised = fpm_to_bcd(b, &e18, MASKED, &fsw);
    static const uint8_t indef[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
    ck_assert_mem_eq(b, indef, 10);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_IE);
    ck_assert(fpm_store_suppressed(0x40, raised));
}
END_TEST

START_TEST(test_prem)
{
    FPReg r;
    uint16_t fsw = 0;
    /* 10 rem 3 = 1, quotient 3 = 011b: C0 = Q2 = 0, C3 = Q1 = 1, C1 = Q0 = 1. */
    fpm_prem(&r, &TEN, &THREE, MASKED, &fsw);
    ck_assert_reg(r, 0x3fff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3 | FSW_C1);
    /* FPREM1 of 11 by 3: quotient rounds to 4 = 100b, remainder -1. */
    fsw = 0;
    fpm_prem1(&r, &ELEVEN, &THREE, MASKED, &fsw);
    ck_assert_reg(r, 0xbfff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C0);
    fpm_prem(&r, &ELEVEN, &THREE, MASKED, &fsw);   /* truncating: 3, rem 2 */
    ck_assert_reg(r, 0x4000, 0x8000000000000000ull);
    /* Exponent difference >= 64: partial, C2 = 1. */
    FPReg big = mk(0x3fff + 100, 0x8000000000000001ull);
    fpm_prem(&r, &big, &THREE, MASKED, &fsw);
    ck_assert(fsw & FSW_C2);
    int rounds = 1;
    while (fsw & FSW_C2) {
        FPReg x = r;
        fpm_prem(&r, &x, &THREE, MASKED, &fsw);
        rounds++;
        ck_assert_int_lt(rounds, 10);
    }
    /* (2^100 + 2^37) mod 3: 2^100 = 1, 2^37 = 2 (mod 3): 0. */
    ck_assert_reg(r, 0x0000, 0);
}
END_TEST

START_TEST(test_scale_xtract_rndint)
{
    FPReg r, e, s;
    uint16_t fsw = 0;
    FPReg x29 = mk(0x4000, 0xb99999999999999aull);   /* 2.9: truncated to 2 */
    fpm_scale(&r, &THREE, &x29, MASKED, &fsw);
    ck_assert_reg(r, 0x4002, 0xc000000000000000ull);
    fpm_xtract(&e, &s, &TEN, MASKED, &fsw);
    ck_assert_reg(e, 0x4000, 0xc000000000000000ull);   /* 3 */
    ck_assert_reg(s, 0x3fff, 0xa000000000000000ull);   /* 1.25 */
    fsw = 0;
    fpm_xtract(&e, &s, &NZERO, MASKED, &fsw);
    ck_assert_reg(e, 0xffff, 0x8000000000000000ull);   /* -inf, divide by zero */
    ck_assert_reg(s, 0x8000, 0);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_ZE);
    FPReg m25 = mk(0xc000, 0xa000000000000000ull);
    fpm_rndint(&r, &m25, MASKED | RN, &fsw);
    ck_assert_reg(r, 0xc000, 0x8000000000000000ull);   /* -2 */
    fpm_rndint(&r, &m25, MASKED | RD, &fsw);
    ck_assert_reg(r, 0xc000, 0xc000000000000000ull);   /* -3 */
}
END_TEST

START_TEST(test_compare_and_classify)
{
    uint16_t fsw = 0;
    fpm_com(&ONE, &TWO, false, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C0);
    fpm_com(&TWO, &ONE, false, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, 0);
    fpm_com(&PZERO, &NZERO, false, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);
    /* QNaN: FUCOM unordered without IE, FCOM with IE. */
    FPReg q = mk(0x7fff, 0xc000000000000000ull);
    fpm_com(&q, &ONE, true, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3 | FSW_C2 | FSW_C0);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);
    fpm_com(&q, &ONE, false, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_IE);
    fsw = 0;
    fpm_com_m32fp(&THREE, 0x40400000, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3);
    fpm_com_m64fp(&THREE, 0x4010000000000000ull, MASKED, &fsw);   /* 3 < 4 */
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C0);
    fpm_com_m16int(&THREE, -3, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, 0);
    fpm_com_m32int(&THREE, 3, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3);
    fpm_tst(&NZERO, MASKED, &fsw);
    ck_assert_uint_eq(fsw & FSW_CC_MASK, FSW_C3);
    uint32_t efl = 0x45;
    fpm_comi(&ONE, &TWO, false, &efl, MASKED, &fsw);
    ck_assert_uint_eq(efl, 0x01);
    fpm_comi(&q, &TWO, true, &efl, MASKED, &fsw);
    ck_assert_uint_eq(efl, 0x45);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, 0);

    /* FXAM classes: C3 C2 C0 with C1 = sign. */
    static const struct { FPReg v; bool empty; uint16_t cc; } xam[] = {
        { { 0x4000000000000000ull, 0x4000 }, false, 0 },                        /* unsupported */
        { { 0xc000000000000000ull, 0xffff }, false, FSW_C1 | FSW_C0 },          /* NaN */
        { { 0x8000000000000000ull, 0x3fff }, false, FSW_C2 },                   /* normal */
        { { 0x8000000000000000ull, 0xffff }, false, FSW_C2 | FSW_C1 | FSW_C0 }, /* -inf */
        { { 0, 0 }, false, FSW_C3 },                                            /* zero */
        { { 0, 0x8000 }, true, FSW_C3 | FSW_C1 | FSW_C0 },                      /* empty */
        { { 1, 0 }, false, FSW_C3 | FSW_C2 },                                   /* denormal */
    };
    for (size_t i = 0; i < ARRAY_SIZE(xam); i++) {
        fsw = FSW_CC_MASK;
        fpm_xam(&xam[i].v, xam[i].empty, &fsw);
        ck_assert_uint_eq(fsw, xam[i].cc);
    }
    ck_assert_int_eq(fpm_tag(&PZERO), FTAG_ZERO);
    ck_assert_int_eq(fpm_tag(&ONE), FTAG_VALID);
    ck_assert_int_eq(fpm_tag(&PINF), FTAG_SPECIAL);
    ck_assert_int_eq(fpm_tag(&(FPReg){ 1, 0 }), FTAG_SPECIAL);
    ck_assert_int_eq(fpm_tag(&(FPReg){ 0x4000000000000000ull, 0x4000 }), FTAG_SPECIAL);
}
END_TEST

START_TEST(test_transcendental_ranges)
{
    FPReg r, r1;
    uint16_t fsw = 0;
    FPReg big = mk(0x3fff + 63, 0x8000000000000000ull);   /* 2^63: out of range */
    fpm_sin(&r, &big, MASKED, &fsw);
    ck_assert(fsw & FSW_C2);
    ck_assert_reg(r, big.sign_exp, big.mant);
    fpm_cos(&r, &PZERO, MASKED, &fsw);
    ck_assert(!(fsw & FSW_C2));
    ck_assert_reg(r, 0x3fff, 0x8000000000000000ull);
    uint16_t raised = fpm_ptan(&r, &r1, &big, MASKED, &fsw);
    ck_assert(raised & FSW_C2);
    fpm_ptan(&r, &r1, &PZERO, MASKED, &fsw);
    ck_assert(!(fsw & FSW_C2));
    ck_assert_reg(r, 0, 0);
    ck_assert_reg(r1, 0x3fff, 0x8000000000000000ull);
    fpm_sincos(&r, &r1, &PZERO, MASKED, &fsw);
    ck_assert_reg(r, 0, 0);
    ck_assert_reg(r1, 0x3fff, 0x8000000000000000ull);
    /* atan(1/1) = pi/4; atan2(+0, -1) = pi. */
    fsw = 0;
    fpm_patan(&r, &ONE, &ONE, MASKED | RN, &fsw);
    ck_assert_reg(r, 0x3ffe, 0xc90fdaa22168c235ull);
    FPReg m1 = mk(0xbfff, 0x8000000000000000ull);
    fpm_patan(&r, &m1, &PZERO, MASKED | RN, &fsw);
    ck_assert_reg(r, 0x4000, 0xc90fdaa22168c235ull);
    /* log2(8) * 3 = 9 exactly; log2(1 + 1) * 1 = 1; 2^1 - 1 = 1. */
    fsw = 0;
    FPReg eight = mk(0x4002, 0x8000000000000000ull);
    fpm_yl2x(&r, &eight, &THREE, MASKED, &fsw);
    ck_assert_reg(r, 0x4002, 0x9000000000000000ull);
    fsw = 0;
    fpm_yl2x(&r, &PZERO, &THREE, MASKED, &fsw);   /* log2(0): divide by zero */
    ck_assert_reg(r, 0xffff, 0x8000000000000000ull);
    ck_assert_uint_eq(fsw & FSW_EXC_MASK, FSW_ZE);
    fpm_f2xm1(&r, &ONE, MASKED, &fsw);
    ck_assert_reg(r, 0x3fff, 0x8000000000000000ull);
    fpm_yl2xp1(&r, &PZERO, &THREE, MASKED, &fsw);
    ck_assert_reg(r, 0, 0);
}
END_TEST

/* A guest can load any control word; whatever it does, the host must end
 * every operation with no pending exception and its own control word. */
START_TEST(test_host_left_clean)
{
    uint16_t cw0;
    __asm__ volatile("fnstcw %0" : "=m"(cw0));
    FPReg snan = mk(0x7fff, 0x8000000000000001ull), r, r1;
    for (unsigned cw = 0; cw < 0x10000; cw += 0x0101) {
        uint16_t fsw = 0;
        int16_t i16;
        uint8_t bcd[10];
        fpm_arith(FPM_DIV, &r, &ONE, &PZERO, cw, &fsw);
        fpm_arith(FPM_ADD, &r, &snan, &ONE, cw, &fsw);
        fpm_to_int16(&i16, &snan, cw & 1, cw, &fsw);
        fpm_to_bcd(bcd, &snan, cw, &fsw);
        fpm_ptan(&r, &r1, &snan, cw, &fsw);
        fpm_yl2x(&r, &snan, &ONE, cw, &fsw);
        fpm_from_m32fp(&r, 0x7f800001, cw, &fsw);
        uint16_t hcw, hsw;
        __asm__ volatile("fnstcw %0\n\tfnstsw %1" : "=m"(hcw), "=m"(hsw));
        ck_assert_uint_eq(hcw, cw0);
        ck_assert_uint_eq(hsw & FSW_ES, 0);
        __asm__ volatile("fnclex");
    }
}
END_TEST

static Suite *fpu_math_suite(void)
{
    Suite *s = suite_create("fpu-math");
    TCase *tc = tcase_create("known");
    tcase_add_test(tc, test_division_rounding_and_precision);
    tcase_add_test(tc, test_sqrt_precision);
    tcase_add_test(tc, test_addition_ties_and_signs);
    tcase_add_test(tc, test_invalid_and_special_operands);
    tcase_add_test(tc, test_overflow_underflow);
    tcase_add_test(tc, test_constants_follow_rc);
    tcase_add_test(tc, test_integer_conversions);
    tcase_add_test(tc, test_float_conversions);
    tcase_add_test(tc, test_bcd);
    tcase_add_test(tc, test_prem);
    tcase_add_test(tc, test_scale_xtract_rndint);
    tcase_add_test(tc, test_compare_and_classify);
    tcase_add_test(tc, test_transcendental_ranges);
    tcase_add_test(tc, test_host_left_clean);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_math_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
