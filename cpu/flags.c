/*
 * Lazy condition codes. Flag-setting ops store (cc_op, cc_dst, cc_src,
 * cc_src2); the flags are computed here only when something reads them.
 */
#include "cpu-internal.h"

#define SIGN(bits) (1u << ((bits) - 1))
#define MASK(bits) ((bits) == 32 ? 0xffffffffu : (1u << (bits)) - 1)

static inline uint32_t szp(uint32_t res, int bits)
{
    uint32_t f = parity_flag(res);
    if ((res & MASK(bits)) == 0) {
        f |= CC_Z;
    }
    if (res & SIGN(bits)) {
        f |= CC_S;
    }
    return f;
}

static uint32_t flags_add(uint32_t dst, uint32_t src, uint32_t cin, int bits)
{
    uint32_t m = MASK(bits);
    dst &= m;
    src &= m;
    uint32_t a = (dst - src - cin) & m;
    uint32_t f = szp(dst, bits);
    if (cin ? dst <= src : dst < src) {
        f |= CC_C;
    }
    f |= (a ^ src ^ dst) & CC_A;
    if (((a ^ dst) & (src ^ dst)) & SIGN(bits)) {
        f |= CC_O;
    }
    return f;
}

static uint32_t flags_sub(uint32_t dst, uint32_t src, uint32_t bin, int bits)
{
    uint32_t m = MASK(bits);
    dst &= m;
    src &= m;
    uint32_t a = (dst + src + bin) & m;
    uint32_t f = szp(dst, bits);
    if (bin ? a <= src : a < src) {
        f |= CC_C;
    }
    f |= (a ^ src ^ dst) & CC_A;
    if (((a ^ src) & (a ^ dst)) & SIGN(bits)) {
        f |= CC_O;
    }
    return f;
}

uint32_t cc_compute_all(CPUX86State *cpu)
{
    uint32_t dst = cpu->cc_dst, src = cpu->cc_src;
    switch (cpu->cc_op) {
    case CC_OP_EFLAGS: return src & CC_MASK;
    case CC_OP_ADD8: return flags_add(dst, src, 0, 8);
    case CC_OP_ADD16: return flags_add(dst, src, 0, 16);
    case CC_OP_ADD32: return flags_add(dst, src, 0, 32);
    case CC_OP_ADC8: return flags_add(dst, src, cpu->cc_src2, 8);
    case CC_OP_ADC16: return flags_add(dst, src, cpu->cc_src2, 16);
    case CC_OP_ADC32: return flags_add(dst, src, cpu->cc_src2, 32);
    case CC_OP_SUB8: return flags_sub(dst, src, 0, 8);
    case CC_OP_SUB16: return flags_sub(dst, src, 0, 16);
    case CC_OP_SUB32: return flags_sub(dst, src, 0, 32);
    case CC_OP_SBB8: return flags_sub(dst, src, cpu->cc_src2, 8);
    case CC_OP_SBB16: return flags_sub(dst, src, cpu->cc_src2, 16);
    case CC_OP_SBB32: return flags_sub(dst, src, cpu->cc_src2, 32);
    case CC_OP_LOGIC8: return szp(dst, 8);
    case CC_OP_LOGIC16: return szp(dst, 16);
    case CC_OP_LOGIC32: return szp(dst, 32);
    case CC_OP_INC8: case CC_OP_INC16: case CC_OP_INC32: {
        int bits = 8 << (cpu->cc_op - CC_OP_INC8);
        uint32_t f = szp(dst, bits) | (src & CC_C);
        if ((dst & MASK(bits)) == SIGN(bits)) {
            f |= CC_O;
        }
        if ((dst & 0xf) == 0) {
            f |= CC_A;
        }
        return f;
    }
    case CC_OP_DEC8: case CC_OP_DEC16: case CC_OP_DEC32: {
        int bits = 8 << (cpu->cc_op - CC_OP_DEC8);
        uint32_t f = szp(dst, bits) | (src & CC_C);
        if ((dst & MASK(bits)) == SIGN(bits) - 1) {
            f |= CC_O;
        }
        if ((dst & 0xf) == 0xf) {
            f |= CC_A;
        }
        return f;
    }
    case CC_OP_RES8: return szp(dst, 8) | (src & (CC_C | CC_O | CC_A));
    case CC_OP_RES16: return szp(dst, 16) | (src & (CC_C | CC_O | CC_A));
    case CC_OP_RES32: return szp(dst, 32) | (src & (CC_C | CC_O | CC_A));
    default: return 0;
    }
}

uint32_t cc_compute_c(CPUX86State *cpu)
{
    uint32_t dst = cpu->cc_dst, src = cpu->cc_src;
    switch (cpu->cc_op) {
    case CC_OP_ADD8: return (uint8_t)dst < (uint8_t)src;
    case CC_OP_ADD16: return (uint16_t)dst < (uint16_t)src;
    case CC_OP_ADD32: return dst < src;
    case CC_OP_SUB8: return (uint8_t)(dst + src) < (uint8_t)src;
    case CC_OP_SUB16: return (uint16_t)(dst + src) < (uint16_t)src;
    case CC_OP_SUB32: return dst + src < src;
    case CC_OP_LOGIC8: case CC_OP_LOGIC16: case CC_OP_LOGIC32: return 0;
    case CC_OP_INC8: case CC_OP_INC16: case CC_OP_INC32:
    case CC_OP_DEC8: case CC_OP_DEC16: case CC_OP_DEC32:
    case CC_OP_RES8: case CC_OP_RES16: case CC_OP_RES32:
    case CC_OP_EFLAGS:
        return src & CC_C;
    default:
        return cc_compute_all(cpu) & CC_C;
    }
}

bool cc_test(CPUX86State *cpu, int cond)
{
    uint32_t f;
    bool r;
    switch (cond >> 1) {
    case 0: f = cc_compute_all(cpu); r = f & CC_O; break;              /* O */
    case 1: r = cc_compute_c(cpu); break;                              /* B */
    case 2: f = cc_compute_all(cpu); r = f & CC_Z; break;              /* E */
    case 3: f = cc_compute_all(cpu); r = f & (CC_Z | CC_C); break;     /* BE */
    case 4: f = cc_compute_all(cpu); r = f & CC_S; break;              /* S */
    case 5: f = cc_compute_all(cpu); r = f & CC_P; break;              /* P */
    case 6: f = cc_compute_all(cpu); r = !(f & CC_S) != !(f & CC_O); break;  /* L */
    default: f = cc_compute_all(cpu);                                  /* LE */
        r = (f & CC_Z) || (!(f & CC_S) != !(f & CC_O)); break;
    }
    return r ^ (cond & 1);
}

uint32_t cpu_get_eflags(CPUX86State *cpu)
{
    return (cpu->eflags & ~CC_MASK) | cc_compute_all(cpu) | 2;
}

void cpu_set_eflags(CPUX86State *cpu, uint32_t value, uint32_t mask)
{
    uint32_t old = cpu_get_eflags(cpu);
    uint32_t v = (old & ~mask) | (value & mask);
    cc_set_eflags(cpu, v);
    cpu->eflags = (v & ~CC_MASK) | 2;
}
