/*
 * x87 numeric core: the arithmetic behind the D8-DF instructions, on
 * FPReg values (include/cpu/fpu.h), independent of the CPU state.
 *
 * Implementation choice: every operation runs on the host's own x87 unit
 * (cpu/fpu-host.h), with the guest's control word loaded for it and the
 * host's status word read back. The x87 is full of model-specific detail
 * that software cannot reproduce without becoming a second x87 manual:
 * transcendental results to the last bit, FPREM's partial reduction, NaN
 * selection, pseudo-denormals and the other unsupported encodings, the
 * exponent-wrapped results of unmasked overflow/underflow, BCD rounding.
 * Run on real x87 hardware, all of it is exact by construction (it is what
 * a real CPU of the host's family does) and costs a few cycles instead of
 * a few hundred. The price is that minipc's FPU needs an x86 host whose
 * C 'long double' is the 80-bit format: checked at build time below.
 * (Valgrind emulates the x87 with 64-bit doubles: FPU results under
 * valgrind are wrong, its profiles are still fine.)
 *
 * The host is never left with a pending exception and its control word
 * is restored after each operation, so a guest cannot make the emulator
 * take SIGFPE, whatever it puts in FCW.
 *
 * Conventions shared by all operations:
 *  - 'fcw' is the guest's control word (RC, PC, exception masks); 'fsw'
 *    points to the guest's status word, updated as the instruction would
 *    update it: exception flags (IE DE ZE OE UE PE) are ORed in, condition
 *    codes C0-C3 get the values the instruction defines and keep their
 *    previous value where the manual calls them undefined and the host
 *    leaves them alone (C1 excepted: where the host keeps C1, which only
 *    AMD's FCOMI/FUCOMI do, it reads 0, the manual's value). SF, ES, B and
 *    TOP are never touched: stack faults,
 *    the error summary and the stack pointer belong to the instruction
 *    layer. C1 is the value for the no-stack-fault case.
 *  - The return value is the status the operation raised (exception flags
 *    and C0-C3, FSW bit positions). It may repeat flags that were already
 *    set in *fsw. Its only use is deciding whether the instruction
 *    completes, with fpm_reg_suppressed() / fpm_store_suppressed().
 *  - Results are produced even when suppressed; the caller then just does
 *    not write them.
 *  - Operands are never modified; a result pointer may alias an operand.
 */
#ifndef CPU_FPU_MATH_H
#define CPU_FPU_MATH_H

#include <float.h>

#include "util/osdep.h"
#include "cpu/fpu.h"

#if !(defined(__x86_64__) || defined(__i386__)) || LDBL_MANT_DIG != 64
#error "minipc's FPU runs guest x87 operations on the host x87: it needs an x86 host with 80-bit long double"
#endif

enum {
    FSW_EXC_MASK = FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE | FSW_PE,
    FSW_CC_MASK = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3,
    /* FCW fields */
    FCW_EXC_MASK = 0x3f,
    FCW_PC_SHIFT = 8, FCW_PC_MASK = 3 << 8,
    FCW_RC_SHIFT = 10, FCW_RC_MASK = 3 << 10,
};

/*
 * An unmasked invalid-operation, denormal-operand or divide-by-zero
 * exception stops an instruction before it changes anything: registers,
 * TOP and memory stay as they were (compares still set C0-C3). Unmasked
 * overflow and underflow let a register result through (with its exponent
 * wrapped by 3 * 2^13), and an unmasked precision exception never stops
 * anything.
 */
static inline bool fpm_reg_suppressed(uint16_t fcw, uint16_t raised)
{
    return raised & ~fcw & (FSW_IE | FSW_DE | FSW_ZE);
}

/* Stores to memory (FST/FIST/FISTTP/FBSTP) are also cancelled, together
 * with their pop, by an unmasked overflow or underflow. */
static inline bool fpm_store_suppressed(uint16_t fcw, uint16_t raised)
{
    return raised & ~fcw & (FSW_IE | FSW_OE | FSW_UE);
}

/* FLD m32fp/m64fp: only an unmasked invalid operand (an SNaN) cancels the
 * push; a denormal is loaded even when the denormal exception is
 * unmasked (it is reported at the next instruction). */
static inline bool fpm_load_suppressed(uint16_t fcw, uint16_t raised)
{
    return raised & ~fcw & FSW_IE;
}

/* True when an exception flag is set in fsw that fcw does not mask: the
 * condition for FSW.ES (and B). */
static inline bool fpm_exception_pending(uint16_t fcw, uint16_t fsw)
{
    return fsw & ~fcw & FSW_EXC_MASK;
}

/* Code other than this module that uses the host's x87 directly (tests
 * do) calls this afterwards: the module keeps track of the host's
 * exception flags instead of reading them before every operation. */
void fpm_host_sync(void);

/* ---- classification ------------------------------------------------------ */

/* The tag FNSTENV/FNSAVE report for a non-empty register: FTAG_ZERO,
 * FTAG_VALID (normal finite) or FTAG_SPECIAL (NaN, infinity, denormal,
 * pseudo-denormal, unsupported encodings). */
int fpm_tag(const FPReg *a);

/* FXAM: C3 C2 C1 C0 of ST(0) with contents 'a'; 'empty' when the register
 * is tagged empty (then 'a' is its stale contents). Raises nothing. */
uint16_t fpm_xam(const FPReg *a, bool empty, uint16_t *fsw);

/* FCHS / FABS: sign only, no exceptions, even for NaNs; C1 = 0. */
static inline void fpm_chs(FPReg *r, const FPReg *a, uint16_t *fsw)
{
    r->mant = a->mant;
    r->sign_exp = a->sign_exp ^ 0x8000;
    *fsw &= ~FSW_C1;
}
static inline void fpm_abs(FPReg *r, const FPReg *a, uint16_t *fsw)
{
    r->mant = a->mant;
    r->sign_exp = a->sign_exp & 0x7fff;
    *fsw &= ~FSW_C1;
}

/* ---- basic arithmetic ------------------------------------------------------ */

/* The six x87 arithmetic operations, as 'dest = dest OP src':
 * SUBR is src - dest and DIVR is src / dest. */
typedef enum FPMArithOp {
    FPM_ADD, FPM_MUL, FPM_SUB, FPM_SUBR, FPM_DIV, FPM_DIVR,
} FPMArithOp;

/* r = a OP b with the source operand in each format the instructions
 * take: register (D8/DC/DE reg forms), m32fp (D8), m64fp (DC),
 * m32int (DA), m16int (DE). C1 = rounded up. */
uint16_t fpm_arith(FPMArithOp op, FPReg *r, const FPReg *a, const FPReg *b,
                   uint16_t fcw, uint16_t *fsw);
uint16_t fpm_arith_m32fp(FPMArithOp op, FPReg *r, const FPReg *a, uint32_t b,
                         uint16_t fcw, uint16_t *fsw);
uint16_t fpm_arith_m64fp(FPMArithOp op, FPReg *r, const FPReg *a, uint64_t b,
                         uint16_t fcw, uint16_t *fsw);
uint16_t fpm_arith_m16int(FPMArithOp op, FPReg *r, const FPReg *a, int16_t b,
                          uint16_t fcw, uint16_t *fsw);
uint16_t fpm_arith_m32int(FPMArithOp op, FPReg *r, const FPReg *a, int32_t b,
                          uint16_t fcw, uint16_t *fsw);

/* FSQRT, FRNDINT: r = op(a). */
uint16_t fpm_sqrt(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_rndint(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);

/* FSCALE: r = st0 * 2^trunc(st1). */
uint16_t fpm_scale(FPReg *r, const FPReg *st0, const FPReg *st1,
                   uint16_t fcw, uint16_t *fsw);

/* FPREM (truncating quotient) / FPREM1 (IEEE, round-to-nearest quotient):
 * partial remainder of st0 by st1 into r. C2 = 1: incomplete, run again;
 * C2 = 0: complete and C0, C3, C1 hold quotient bits 2, 1, 0. */
uint16_t fpm_prem(FPReg *r, const FPReg *st0, const FPReg *st1,
                  uint16_t fcw, uint16_t *fsw);
uint16_t fpm_prem1(FPReg *r, const FPReg *st0, const FPReg *st1,
                   uint16_t fcw, uint16_t *fsw);

/* FXTRACT: a = sig * 2^exp. The instruction replaces ST(0) by exp and
 * pushes sig. */
uint16_t fpm_xtract(FPReg *exp, FPReg *sig, const FPReg *a,
                    uint16_t fcw, uint16_t *fsw);

/* ---- comparisons ------------------------------------------------------------ */

/* FCOM (ordered: any NaN is invalid) and FUCOM (unordered: only SNaNs
 * and unsupported encodings are). C3 C2 C0 = 000 a > b, 001 a < b,
 * 100 equal, 111 unordered; C1 = 0. */
uint16_t fpm_com(const FPReg *a, const FPReg *b, bool unordered,
                 uint16_t fcw, uint16_t *fsw);
uint16_t fpm_com_m32fp(const FPReg *a, uint32_t b, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_com_m64fp(const FPReg *a, uint64_t b, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_com_m16int(const FPReg *a, int16_t b, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_com_m32int(const FPReg *a, int32_t b, uint16_t fcw, uint16_t *fsw);
/* FTST: compare with +0.0. */
uint16_t fpm_tst(const FPReg *a, uint16_t fcw, uint16_t *fsw);
/* FCOMI / FUCOMI: the result goes to EFLAGS instead: *eflags holds the
 * guest's ZF PF CF (bits 6, 2, 0) before and after (processors differ on
 * whether an unmasked invalid operand leaves them alone); the caller
 * clears OF SF AF. C1 = 0. */
uint16_t fpm_comi(const FPReg *a, const FPReg *b, bool unordered,
                  uint32_t *eflags, uint16_t fcw, uint16_t *fsw);

/* ---- transcendentals and constants ------------------------------------------ */

/* FSIN, FCOS: for |a| >= 2^63 C2 = 1 and nothing happens (r = a);
 * otherwise C2 = 0. F2XM1: r = 2^a - 1 for -1 <= a <= 1. */
uint16_t fpm_sin(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_cos(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_f2xm1(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);

/* FPTAN: ST(0) = tan(a), then push 1.0 (*one). FSINCOS: ST(0) = sin(a),
 * then push cos(a). Both: C2 = 1 when |a| >= 2^63, and then nothing
 * changes and nothing is pushed. */
uint16_t fpm_ptan(FPReg *tan, FPReg *one, const FPReg *a,
                  uint16_t fcw, uint16_t *fsw);
uint16_t fpm_sincos(FPReg *sin, FPReg *cos, const FPReg *a,
                    uint16_t fcw, uint16_t *fsw);

/* Two-operand forms that leave their result in ST(1) and pop:
 * FPATAN r = atan(st1 / st0) (quadrant from both signs),
 * FYL2X r = st1 * log2(st0), FYL2XP1 r = st1 * log2(st0 + 1). */
uint16_t fpm_patan(FPReg *r, const FPReg *st0, const FPReg *st1,
                   uint16_t fcw, uint16_t *fsw);
uint16_t fpm_yl2x(FPReg *r, const FPReg *st0, const FPReg *st1,
                  uint16_t fcw, uint16_t *fsw);
uint16_t fpm_yl2xp1(FPReg *r, const FPReg *st0, const FPReg *st1,
                    uint16_t fcw, uint16_t *fsw);

/* FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ, in the order of
 * their D9 E8-EE encodings. The irrational ones honour RC, as the
 * hardware does. */
typedef enum FPMConst {
    FPM_CONST_1, FPM_CONST_L2T, FPM_CONST_L2E, FPM_CONST_PI,
    FPM_CONST_LG2, FPM_CONST_LN2, FPM_CONST_Z,
} FPMConst;
uint16_t fpm_const(FPReg *r, FPMConst which, uint16_t fcw, uint16_t *fsw);

/* ---- conversions --------------------------------------------------------------- */

/* FILD (m16/m32/m64 int): exact, raises nothing, C1 = 0. */
void fpm_from_int(FPReg *r, int64_t v, uint16_t *fsw);
/* FLD m32fp / m64fp: exact; an SNaN raises IE (result: the QNaN), a
 * denormal raises DE. FLD m80fp / ST(i) is a plain copy. */
uint16_t fpm_from_m32fp(FPReg *r, uint32_t v, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_from_m64fp(FPReg *r, uint64_t v, uint16_t fcw, uint16_t *fsw);
/* FBLD: 18 BCD digits and a sign byte (bcd[9] bit 7); raises nothing. */
void fpm_from_bcd(FPReg *r, const uint8_t bcd[10], uint16_t *fsw);

/* FIST/FISTP (rounding per RC) and, with 'truncate', FISTTP. Out of
 * range, NaN or infinity: IE and the integer indefinite (the most
 * negative value). */
uint16_t fpm_to_int16(int16_t *out, const FPReg *a, bool truncate,
                      uint16_t fcw, uint16_t *fsw);
uint16_t fpm_to_int32(int32_t *out, const FPReg *a, bool truncate,
                      uint16_t fcw, uint16_t *fsw);
uint16_t fpm_to_int64(int64_t *out, const FPReg *a, bool truncate,
                      uint16_t fcw, uint16_t *fsw);
/* FST/FSTP m32fp / m64fp: rounded per RC (PC does not apply). */
uint16_t fpm_to_m32fp(uint32_t *out, const FPReg *a, uint16_t fcw, uint16_t *fsw);
uint16_t fpm_to_m64fp(uint64_t *out, const FPReg *a, uint16_t fcw, uint16_t *fsw);
/* FBSTP: rounded to an integer per RC; beyond 18 digits, NaN or infinity
 * raise IE and give the packed BCD indefinite. */
uint16_t fpm_to_bcd(uint8_t bcd[10], const FPReg *a, uint16_t fcw, uint16_t *fsw);

#endif
