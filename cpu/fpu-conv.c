/*
 * x87 numeric core, part 3: conversions between the 80-bit format and the
 * integer, single, double and packed BCD formats of FILD/FIST(P)/FISTTP,
 * FLD/FST(P) and FBLD/FBSTP (protocol in cpu/fpu-host.h).
 */
#include "fpu-host.h"

void fpm_from_int(FPReg *r, int64_t v, uint16_t *fsw)
{
    *fsw &= ~FSW_C1;
    if (v == 0) {
        r->mant = 0;
        r->sign_exp = 0;
        return;
    }
    uint64_t m = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int lz = __builtin_clzll(m);
    r->mant = m << lz;
    r->sign_exp = (v < 0 ? 0x8000 : 0) | (16383 + 63 - lz);
}

/* Loads are exact: their only exceptions (IE for an SNaN, DE for a
 * denormal) come alone, so running them masked gives the same flags and
 * a fixed stack effect; an unmasked one is the caller's to honour. */
#define LOAD_FP(insn)                                                           \
    uint16_t hsw;                                                               \
    X87_RUN(fcw | FSW_IE | FSW_DE, fsw,                                         \
            __asm__ volatile("fldcw %[cw]\n\t"                                  \
                             insn " %[v]\n\t"                                   \
                             X87_STATUS                                         \
                             "fstpt %[r]\n\t"                                   \
                             "fldcw %[hcw]"                                     \
                             : [r] "=m"(*r), "=&a"(hsw)                         \
                             : [v] "m"(v), [cw] "m"(cw_), [hcw] "m"(hcw)       \
                             : X87_CLOBBERS))

/* Normal numbers and zeros convert exactly and raise nothing, without
 * the host; denormals (DE), infinities and NaNs (IE for an SNaN) go to it. */
uint16_t fpm_from_m32fp(FPReg *r, uint32_t v, uint16_t fcw, uint16_t *fsw)
{
    uint32_t e = (v >> 23) & 0xff;
    if (likely(e != 0 && e != 0xff) || !(v & 0x7fffffff)) {
        uint16_t sign = (v >> 16) & 0x8000;
        if (e) {
            r->mant = (1ull << 63) | ((uint64_t)(v & 0x7fffff) << 40);
            r->sign_exp = sign | (e - 127 + 16383);
        } else {
            r->mant = 0;
            r->sign_exp = sign;
        }
        *fsw &= ~FSW_C1;
        return 0;
    }
    LOAD_FP("flds");
    return x87_merge(hsw, fsw);
}

uint16_t fpm_from_m64fp(FPReg *r, uint64_t v, uint16_t fcw, uint16_t *fsw)
{
    uint32_t e = (v >> 52) & 0x7ff;
    if (likely(e != 0 && e != 0x7ff) || !(v & 0x7fffffffffffffffull)) {
        uint16_t sign = (v >> 48) & 0x8000;
        if (e) {
            r->mant = (1ull << 63) | ((v & 0xfffffffffffffull) << 11);
            r->sign_exp = sign | (e - 1023 + 16383);
        } else {
            r->mant = 0;
            r->sign_exp = sign;
        }
        *fsw &= ~FSW_C1;
        return 0;
    }
    LOAD_FP("fldl");
    return x87_merge(hsw, fsw);
}

void fpm_from_bcd(FPReg *r, const uint8_t bcd[10], uint16_t *fsw)
{
    uint16_t fcw = 0x037f;
    struct { uint8_t b[10]; } v;
    memcpy(v.b, bcd, 10);
    LOAD_FP("fbld");
    x87_merge(hsw, fsw);
}

/* Stores that do not pop: ST(0) stays, so the stack effect is fixed. */
#define STORE_NOPOP(insn)                                                       \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[a]\n\t"                                            \
                     insn " %[out]\n\t"                                         \
                     X87_STATUS                                                 \
                     "fstp %%st(0)\n\t"                                         \
                     "fldcw %[hcw]"                                             \
                     : [out] "+m"(v), "=&a"(hsw)                                \
                     : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)              \
                     : X87_CLOBBERS)

/* Stores that only exist with a pop (FISTP m64, FISTTP, FBSTP), which an
 * unmasked exception cancels: the leftover is freed afterwards. */
#define STORE_POP(insn)                                                         \
    __asm__ volatile("fldcw %[cw]\n\t"                                          \
                     "fldt %[a]\n\t"                                            \
                     insn " %[out]\n\t"                                         \
                     X87_STATUS                                                 \
                     "fldcw %[hcw]"                                             \
                     : [out] "+m"(v), "=&a"(hsw)                                \
                     : [a] "m"(*a), [cw] "m"(cw_), [hcw] "m"(hcw)              \
                     : X87_CLOBBERS);                                           \
    x87_unwind_store(cw_, hsw)

#define DEF_TO_INT(name, type, nopop, pop)                                      \
uint16_t name(type *out, const FPReg *a, bool truncate, uint16_t fcw, uint16_t *fsw) \
{                                                                               \
    uint16_t hsw;                                                               \
    type v = 0;                                                                 \
    if (truncate) {                                                             \
        X87_RUN(fcw, fsw, STORE_POP(pop));                                      \
    } else {                                                                    \
        X87_RUN(fcw, fsw, nopop);                                               \
    }                                                                           \
    *out = v;                                                                   \
    return x87_merge(hsw, fsw);                                                 \
}

DEF_TO_INT(fpm_to_int16, int16_t, STORE_NOPOP("fists"), "fisttps")
DEF_TO_INT(fpm_to_int32, int32_t, STORE_NOPOP("fistl"), "fisttpl")
DEF_TO_INT(fpm_to_int64, int64_t, STORE_POP("fistpll"), "fisttpll")

uint16_t fpm_to_m32fp(uint32_t *out, const FPReg *a, uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    uint32_t v = 0;
    X87_RUN(fcw, fsw, STORE_NOPOP("fsts"));
    *out = v;
    return x87_merge(hsw, fsw);
}

uint16_t fpm_to_m64fp(uint64_t *out, const FPReg *a, uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    uint64_t v = 0;
    X87_RUN(fcw, fsw, STORE_NOPOP("fstl"));
    *out = v;
    return x87_merge(hsw, fsw);
}

uint16_t fpm_to_bcd(uint8_t bcd[10], const FPReg *a, uint16_t fcw, uint16_t *fsw)
{
    uint16_t hsw;
    struct { uint8_t b[10]; } v = { { 0 } };
    X87_RUN(fcw, fsw, STORE_POP("fbstp"));
    memcpy(bcd, v.b, 10);
    return x87_merge(hsw, fsw);
}
