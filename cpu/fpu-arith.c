/*
 * x87 numeric core, part 1: classification, the four basic operations in
 * every operand format, square root, rounding, scaling, partial
 * remainders, FXTRACT and comparisons. Runs on the host x87 (see
 * cpu/fpu-host.h for the protocol every function here follows).
 */
#include "fpu-host.h"

_Thread_local uint16_t x87_host_flags;

void fpm_host_sync(void)
{
    uint16_t hsw;
    __asm__ volatile("fnstsw %0" : "=a"(hsw));
    x87_host_flags = hsw & (FSW_EXC_MASK | FSW_ES);
}

const FPReg x87_cc_class_value[8] = {
    [0] = { 0x4000000000000000ull, 0x3fff },   /* unnormal: unsupported */
    [1] = { 0xc000000000000000ull, 0x7fff },   /* QNaN */
    [2] = { 0x8000000000000000ull, 0x3fff },   /* 1.0 */
    [3] = { 0x8000000000000000ull, 0x7fff },   /* infinity */
    [4] = { 0, 0 },                             /* zero */
    [5] = { 0, 0 },                             /* (freed: empty) */
    [6] = { 1, 0 },                             /* denormal */
    [7] = { 0xc000000000000000ull, 0x7fff },   /* QNaN, compared: unordered */
};

int fpm_tag(const FPReg *a)
{
    unsigned exp = a->sign_exp & 0x7fff;
    if (exp == 0) {
        return a->mant == 0 ? FTAG_ZERO : FTAG_SPECIAL;
    }
    if (exp == 0x7fff || !(a->mant >> 63)) {
        return FTAG_SPECIAL;
    }
    return FTAG_VALID;
}

uint16_t fpm_xam(const FPReg *a, bool empty, uint16_t *fsw)
{
    uint16_t hsw;
    if (empty) {
        __asm__ volatile("fldt %1\n\tffree %%st(0)\n\tfxam\n\tfnstsw %0\n\tfincstp"
                         : "=&a"(hsw) : "m"(*a) : X87_CLOBBERS);
    } else {
        __asm__ volatile("fldt %1\n\tfxam\n\tfnstsw %0\n\tfstp %%st(0)"
                         : "=&a"(hsw) : "m"(*a) : X87_CLOBBERS);
    }
    hsw &= FSW_CC_MASK;
    *fsw = (*fsw & ~FSW_CC_MASK) | hsw;
    return hsw;
}

/* ---- dest = dest OP src -------------------------------------------------- */

/* Register source: dest in host ST(0), src in ST(1). */
#define ARITH_REG(insn)                                                         \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[b]\n\t"                                            \
                     "fldt %[a]\n\t"                                            \
                     insn " %%st(1), %%st\n\t"                                  \
                     X87_STATUS                                                 \
                     "fstpt %[r]\n\t"                                           \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : [r] "=m"(*r), "=&a"(hsw)                                  \
                     : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw_), [hcw] "m"(hcw) \
                     : X87_CLOBBERS)

/* Memory source of any format: the instruction names the format. */
#define ARITH_MEM(insn)                                                         \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[a]\n\t"                                            \
                     insn " %[b]\n\t"                                           \
                     X87_STATUS                                                 \
                     "fstpt %[r]\n\t"                                           \
                     "fldcw %[hcw]"                                             \
                     : [r] "=m"(*r), "=&a"(hsw)                                  \
                     : [a] "m"(*a), [b] "m"(b), [cw] "m"(cw_), [hcw] "m"(hcw)  \
                     : X87_CLOBBERS)

#define ARITH_SWITCH(M, add, mul, sub, subr, div, divr)   \
    switch (op) {                                        \
    case FPM_ADD: M(add); break;                         \
    case FPM_MUL: M(mul); break;                         \
    case FPM_SUB: M(sub); break;                         \
    case FPM_SUBR: M(subr); break;                       \
    case FPM_DIV: M(div); break;                         \
    default: M(divr); break;                             \
    }

uint16_t fpm_arith(FPMArithOp op, FPReg *r, const FPReg *a, const FPReg *b,
                   uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw, ARITH_SWITCH(ARITH_REG, "fadd", "fmul", "fsub", "fsubr", "fdiv", "fdivr"));
    return x87_merge(hsw, fsw);
}

uint16_t fpm_arith_m32fp(FPMArithOp op, FPReg *r, const FPReg *a, uint32_t b,
                         uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw, ARITH_SWITCH(ARITH_MEM, "fadds", "fmuls", "fsubs", "fsubrs", "fdivs", "fdivrs"));
    return x87_merge(hsw, fsw);
}

uint16_t fpm_arith_m64fp(FPMArithOp op, FPReg *r, const FPReg *a, uint64_t b,
                         uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw, ARITH_SWITCH(ARITH_MEM, "faddl", "fmull", "fsubl", "fsubrl", "fdivl", "fdivrl"));
    return x87_merge(hsw, fsw);
}

uint16_t fpm_arith_m16int(FPMArithOp op, FPReg *r, const FPReg *a, int16_t b,
                          uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw, ARITH_SWITCH(ARITH_MEM, "fiadds", "fimuls", "fisubs", "fisubrs", "fidivs", "fidivrs"));
    return x87_merge(hsw, fsw);
}

uint16_t fpm_arith_m32int(FPMArithOp op, FPReg *r, const FPReg *a, int32_t b,
                          uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw, ARITH_SWITCH(ARITH_MEM, "fiaddl", "fimull", "fisubl", "fisubrl", "fidivl", "fidivrl"));
    return x87_merge(hsw, fsw);
}

/* ---- one and two operand operations with a fixed stack effect ------------ */

/* r = insn(a) on ST(0). */
#define UNARY(insn)                                                             \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[a]\n\t"                                            \
                     insn "\n\t"                                                \
                     X87_STATUS                                                 \
                     "fstpt %[r]\n\t"                                           \
                     "fldcw %[hcw]"                                             \
                     : [r] "=m"(*r), "=&a"(hsw)                                  \
                     : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)              \
                     : X87_CLOBBERS)

/* r = insn(st0, st1) replacing ST(0). */
#define BINARY_ST0(insn)                                                        \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[b]\n\t"                                            \
                     "fldt %[a]\n\t"                                            \
                     insn "\n\t"                                                \
                     X87_STATUS                                                 \
                     "fstpt %[r]\n\t"                                           \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : [r] "=m"(*r), "=&a"(hsw)                                  \
                     : [a] "m"(*st0), [b] "m"(*st1), [cw] "m"(cw_), [hcw] "m"(hcw) \
                     : X87_CLOBBERS)

#define DEF_UNARY(name, insn)                                                   \
uint16_t name(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw)            \
{                                                                               \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw, UNARY(insn));                                             \
    return x87_merge(hsw, fsw);                                                 \
}

#define DEF_BINARY_ST0(name, insn)                                              \
uint16_t name(FPReg *r, const FPReg *st0, const FPReg *st1,                     \
              uint16_t fcw, uint16_t *fsw)                                      \
{                                                                               \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw, BINARY_ST0(insn));                                        \
    return x87_merge(hsw, fsw);                                                 \
}

DEF_UNARY(fpm_sqrt, "fsqrt")
DEF_UNARY(fpm_rndint, "frndint")
DEF_BINARY_ST0(fpm_scale, "fscale")
DEF_BINARY_ST0(fpm_prem, "fprem")
DEF_BINARY_ST0(fpm_prem1, "fprem1")

uint16_t fpm_xtract(FPReg *exp, FPReg *sig, const FPReg *a,
                    uint16_t fcw, uint16_t *fsw)
{
    X87SaveArea s;
    uint16_t hsw;
    /* FNSAVE: the push does not happen when an exception cancels it. */
    X87_RUN(fcw, fsw,
            __asm__ volatile("fldcw %[cw]\n\t"
                             "fldt %[a]\n\t"
                             "fxtract\n\t"
                             "fnsave %[s]\n\t"
                             "fldcw %[hcw]"
                             : [s] "=m"(s)
                             : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)
                             : X87_CLOBBERS);
            hsw = s.fsw);
    if (x87_save_depth(&s) == 2) {
        x87_reg_from_save(sig, &s, 0);
        x87_reg_from_save(exp, &s, 1);
    } else {
        *sig = *a;
        *exp = *a;
    }
    return x87_merge(hsw, fsw);
}

/* ---- comparisons ----------------------------------------------------------- */

#define COM_REG(insn)                                                           \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[b]\n\t"                                            \
                     "fldt %[a]\n\t"                                            \
                     insn "\n\t"                                                \
                     X87_STATUS                                                 \
                     "fstp %%st(0)\n\t"                                         \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : "=&a"(hsw)                                                \
                     : [a] "m"(*a), [b] "m"(*b), [cw] "m"(cw_), [hcw] "m"(hcw) \
                     : X87_CLOBBERS)

#define COM_MEM(insn)                                                           \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[a]\n\t"                                            \
                     insn " %[b]\n\t"                                           \
                     X87_STATUS                                                 \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : "=&a"(hsw)                                                \
                     : [a] "m"(*a), [b] "m"(b), [cw] "m"(cw_), [hcw] "m"(hcw)  \
                     : X87_CLOBBERS)

uint16_t fpm_com(const FPReg *a, const FPReg *b, bool unordered,
                 uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    if (unordered) {
        X87_RUN(fcw, fsw, COM_REG("fucom %%st(1)"));
    } else {
        X87_RUN(fcw, fsw, COM_REG("fcom %%st(1)"));
    }
    return x87_merge(hsw, fsw);
}

#define DEF_COM_MEM(name, btype, insn)                                          \
uint16_t name(const FPReg *a, btype b, uint16_t fcw, uint16_t *fsw)             \
{                                                                               \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw, COM_MEM(insn));                                           \
    return x87_merge(hsw, fsw);                                                 \
}

DEF_COM_MEM(fpm_com_m32fp, uint32_t, "fcoms")
DEF_COM_MEM(fpm_com_m64fp, uint64_t, "fcoml")
DEF_COM_MEM(fpm_com_m16int, int16_t, "ficoms")
DEF_COM_MEM(fpm_com_m32int, int32_t, "ficoml")

uint16_t fpm_tst(const FPReg *a, uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    X87_RUN(fcw, fsw,
            __asm__ volatile("fldcw %[cw]\n\t"
                             "fldt %[a]\n\t"
                             "ftst\n\t"
                             X87_STATUS
                             "fstp %%st(0)\n\t"
                             "fldcw %[hcw]"
                             : "=&a"(hsw)
                             : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)
                             : X87_CLOBBERS));
    return x87_merge(hsw, fsw);
}

#define COMI(insn)                                                              \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[b]\n\t"                                            \
                     "fldt %[a]\n\t"                                            \
                     "movb %[in], %%ah\n\t"                                     \
                     "sahf\n\t"                                                 \
                     insn " %%st(1), %%st\n\t"                                  \
                     "setz %[zf]\n\t"                                           \
                     "setp %[pf]\n\t"                                           \
                     "setc %[cf]\n\t"                                           \
                     X87_STATUS                                                 \
                     "fstp %%st(0)\n\t"                                         \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : "=&a"(hsw), [zf] "=m"(zf), [pf] "=m"(pf), [cf] "=m"(cf)  \
                     : [a] "m"(*a), [b] "m"(*b), [in] "m"(in),                  \
                       [cw] "m"(cw_), [hcw] "m"(hcw)                           \
                     : X87_CLOBBERS)

uint16_t fpm_comi(const FPReg *a, const FPReg *b, bool unordered,
                  uint32_t *eflags, uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    uint8_t zf, pf, cf;
    uint8_t in = *eflags & 0x45;    /* ZF PF CF, for SAHF */
    if (unordered) {
        X87_RUN(fcw, fsw, COMI("fucomi"));
    } else {
        X87_RUN(fcw, fsw, COMI("fcomi"));
    }
    *eflags = (zf ? 0x40 : 0) | (pf ? 0x04 : 0) | (cf ? 0x01 : 0);
    return x87_merge(hsw, fsw);
}
