/*
 * x87 numeric core, part 2: transcendental functions and the constants
 * of FLD1..FLDZ, on the host x87 (protocol in cpu/fpu-host.h). Results
 * are those of the host processor family, to the last bit.
 */
#include "fpu-host.h"

/* r = insn(a) replacing ST(0): FSIN/FCOS leave ST(0) alone (C2 = 1) when
 * out of range, so the stack effect is fixed. */
#define TRANS_UNARY(name, insn)                                                 \
uint16_t name(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw)            \
{                                                                               \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw,                                                           \
            __asm__ volatile("fldcw %[cw]\n\t"                                  \
                             "fldt %[a]\n\t"                                    \
                             insn "\n\t"                                        \
                             X87_STATUS                                         \
                             "fstpt %[r]\n\t"                                   \
                             "fldcw %[hcw]"                                     \
                             : [r] "=m"(*r), "=&a"(hsw)                         \
                             : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)      \
                             : X87_CLOBBERS));                                  \
    return x87_merge(hsw, fsw);                                                 \
}

TRANS_UNARY(fpm_sin, "fsin")
TRANS_UNARY(fpm_cos, "fcos")
TRANS_UNARY(fpm_f2xm1, "f2xm1")

/* ST(0) = first result, then push the second; neither happens when the
 * operand is out of range or an unmasked exception stops the instruction,
 * so the host stack is read back with FNSAVE. */
#define TRANS_PUSH(name, insn)                                                  \
uint16_t name(FPReg *r0, FPReg *r1, const FPReg *a, uint16_t fcw, uint16_t *fsw) \
{                                                                               \
    X87SaveArea s;                                                              \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw,                                                           \
            __asm__ volatile("fldcw %[cw]\n\t"                                  \
                             "fldt %[a]\n\t"                                    \
                             insn "\n\t"                                        \
                             "fnsave %[s]\n\t"                                  \
                             "fldcw %[hcw]"                                     \
                             : [s] "=m"(s)                                      \
                             : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)      \
                             : X87_CLOBBERS);                                   \
            hsw = s.fsw);                                                       \
    if (x87_save_depth(&s) == 2) {                                              \
        x87_reg_from_save(r0, &s, 1);                                           \
        x87_reg_from_save(r1, &s, 0);                                           \
    } else {                                                                    \
        x87_reg_from_save(r0, &s, 0);                                           \
        *r1 = *a;                                                               \
    }                                                                           \
    return x87_merge(hsw, fsw);                                               \
}

TRANS_PUSH(fpm_ptan, "fptan")
TRANS_PUSH(fpm_sincos, "fsincos")

/* ST(1) = f(ST(0), ST(1)), then pop; both cancelled by an unmasked
 * exception. */
#define TRANS_POP(name, insn)                                                   \
uint16_t name(FPReg *r, const FPReg *st0, const FPReg *st1,                     \
              uint16_t fcw, uint16_t *fsw)                                      \
{                                                                               \
    X87SaveArea s;                                                              \
    uint16_t hsw;                                                               \
    X87_RUN(fcw, fsw,                                                           \
            __asm__ volatile("fldcw %[cw]\n\t"                                  \
                             "fldt %[b]\n\t"                                    \
                             "fldt %[a]\n\t"                                    \
                             insn "\n\t"                                        \
                             "fnsave %[s]\n\t"                                  \
                             "fldcw %[hcw]"                                     \
                             : [s] "=m"(s)                                      \
                             : [a] "m"(*st0), [b] "m"(*st1), [cw] "m"(cw_),     \
                               [hcw] "m"(hcw)                                  \
                             : X87_CLOBBERS);                                   \
            hsw = s.fsw);                                                       \
    if (x87_save_depth(&s) == 1) {                                              \
        x87_reg_from_save(r, &s, 0);                                            \
    } else {                                                                    \
        *r = *st1;                                                              \
    }                                                                           \
    return x87_merge(hsw, fsw);                                               \
}

TRANS_POP(fpm_patan, "fpatan")
TRANS_POP(fpm_yl2x, "fyl2x")
TRANS_POP(fpm_yl2xp1, "fyl2xp1")

#define CONST_CASE(c, insn)                                                     \
    case c:                                                                     \
        __asm__ volatile("fldcw %[cw]\n\t"                                      \
                         insn "\n\t"                                            \
                         X87_STATUS                                             \
                         "fstpt %[r]\n\t"                                       \
                         "fldcw %[hcw]"                                         \
                         : [r] "=m"(*r), "=&a"(hsw)                              \
                         : [cw] "m"(cw_), [hcw] "m"(hcw)                       \
                         : X87_CLOBBERS);                                       \
        break;

uint16_t fpm_const(FPReg *r, FPMConst which, uint16_t fcw, uint16_t *fsw)
{
    /* 1 and 0 are exact under any RC: no need for the host (which, like
     * for every load, clears C1 and raises nothing). */
    if (which == FPM_CONST_1 || which == FPM_CONST_Z) {
        r->mant = which == FPM_CONST_1 ? 1ull << 63 : 0;
        r->sign_exp = which == FPM_CONST_1 ? 0x3fff : 0;
        *fsw &= ~FSW_C1;
        return 0;
    }
    uint16_t hsw;
    X87_RUN(fcw, fsw,
            switch (which) {
            CONST_CASE(FPM_CONST_1, "fld1")
            CONST_CASE(FPM_CONST_L2T, "fldl2t")
            CONST_CASE(FPM_CONST_L2E, "fldl2e")
            CONST_CASE(FPM_CONST_PI, "fldpi")
            CONST_CASE(FPM_CONST_LG2, "fldlg2")
            CONST_CASE(FPM_CONST_LN2, "fldln2")
            default:
            CONST_CASE(FPM_CONST_Z, "fldz")
            });
    return x87_merge(hsw, fsw);
}
