/*
 * Shifts and rotates: ROL ROR RCL RCR SHL SHR SAL SAR, SHLD, SHRD.
 *
 * The count is masked to 5 bits; a masked count of 0 changes nothing.
 * Undefined flags, our choice (matching what P6-class hardware is
 * observed to do for the defined cases and documented here):
 *  - SHL/SHR/SAR: AF = 0; OF computed by the count-1 formula for every
 *    count (SHL: MSB(result) ^ CF, SHR: MSB(operand), SAR: 0).
 *  - ROL/ROR/RCL/RCR: OF computed by the count-1 formula for any count.
 *  - SHLD/SHRD with count > operand size (16-bit): result and flags as
 *    if the count were taken modulo 32 on a 32-bit double value.
 */
#include "ops-common.h"
#include "ops-list.h"

enum { S_ROL, S_ROR, S_RCL, S_RCR, S_SHL, S_SHR, S_SAL, S_SAR };

static ALWAYS_INLINE uint32_t shift_calc(CPUX86State *cpu, int kind, int sz, uint32_t a, unsigned count)
{
    int bits = 8 << sz;
    uint32_t mask = size_mask(sz), sign = size_sign(sz);
    uint32_t r, cf, of;
    count &= 31;
    if (count == 0) {
        return a;
    }
    switch (kind) {
    case S_SHL:
    case S_SAL:
        if (count <= (unsigned)bits) {
            cf = (uint32_t)(((uint64_t)a << count) >> bits) & 1;
        } else {
            cf = 0;
        }
        r = (uint32_t)((uint64_t)a << count) & mask;
        of = (!!(r & sign)) ^ cf;
        cpu->cc_dst = r;
        cpu->cc_src = cf | (of ? CC_O : 0);
        cpu->cc_op = CC_OP_RES8 + sz;
        return r;
    case S_SHR:
        cf = count <= (unsigned)bits ? (a >> (count - 1)) & 1 : 0;
        r = count < (unsigned)bits ? a >> count : 0;
        of = !!(a & sign);
        cpu->cc_dst = r;
        cpu->cc_src = cf | (of ? CC_O : 0);
        cpu->cc_op = CC_OP_RES8 + sz;
        return r;
    case S_SAR: {
        int32_t sa = sz == 0 ? (int8_t)a : sz == 1 ? (int16_t)a : (int32_t)a;
        unsigned c = count < (unsigned)bits ? count : (unsigned)bits - 1;
        cf = count < (unsigned)bits ? (uint32_t)(sa >> (count - 1)) & 1 : (uint32_t)(sa < 0);
        r = (uint32_t)(sa >> c) & mask;
        if (count >= (unsigned)bits) {
            r = sa < 0 ? mask : 0;
        }
        cpu->cc_dst = r;
        cpu->cc_src = cf;
        cpu->cc_op = CC_OP_RES8 + sz;
        return r;
    }
    case S_ROL: {
        unsigned c = count & (bits - 1);
        r = c ? ((a << c) | (a >> (bits - c))) & mask : a;
        cf = r & 1;
        of = (!!(r & sign)) ^ cf;
        break;
    }
    case S_ROR: {
        unsigned c = count & (bits - 1);
        r = c ? ((a >> c) | (a << (bits - c))) & mask : a;
        cf = !!(r & sign);
        of = cf ^ !!(r & (sign >> 1));
        break;
    }
    case S_RCL: {
        unsigned c = sz == 2 ? count : count % (bits + 1);
        uint64_t v = ((uint64_t)cc_compute_c(cpu) << bits) | a;   /* bits+1 wide */
        if (c) {
            v = ((v << c) | (v >> (bits + 1 - c))) & ((2ULL << bits) - 1);
        }
        r = (uint32_t)v & mask;
        cf = (uint32_t)(v >> bits) & 1;
        of = (!!(r & sign)) ^ cf;
        break;
    }
    default: { /* S_RCR */
        unsigned c = sz == 2 ? count : count % (bits + 1);
        uint64_t v = ((uint64_t)cc_compute_c(cpu) << bits) | a;
        if (c) {
            v = ((v >> c) | (v << (bits + 1 - c))) & ((2ULL << bits) - 1);
        }
        r = (uint32_t)v & mask;
        cf = (uint32_t)(v >> bits) & 1;
        of = (!!(r & sign)) ^ !!(r & (sign >> 1));
        break;
    }
    }
    /* Rotates change only CF and OF. */
    uint32_t f = cc_compute_all(cpu) & ~(CC_C | CC_O);
    cc_set_eflags(cpu, f | cf | (of ? CC_O : 0));
    return r;
}

#define SHIFT(kind, name, s)                                                         \
static Op *op_##name##_ri_##s(CPUX86State *cpu, Op *op)                              \
{ SETR_##s(op->reg, shift_calc(cpu, kind, SZ_##s, GETR_##s(op->reg), op->imm)); NEXT(op); } \
static Op *op_##name##_rc_##s(CPUX86State *cpu, Op *op)                              \
{ SETR_##s(op->reg, shift_calc(cpu, kind, SZ_##s, GETR_##s(op->reg), cpu->regs[R_ECX] & 0xff)); NEXT(op); } \
static Op *op_##name##_mi_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin);                                \
  if (op->imm & 31) { ST_##s(lin, shift_calc(cpu, kind, SZ_##s, a, op->imm)); } NEXT(op); } \
static Op *op_##name##_mc_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin); unsigned c = cpu->regs[R_ECX] & 31; \
  if (c) { ST_##s(lin, shift_calc(cpu, kind, SZ_##s, a, c)); } NEXT(op); }
#define SHIFT_ALL(kind, name) SHIFT(kind, name, b) SHIFT(kind, name, w) SHIFT(kind, name, l)
SHIFT_ALL(S_ROL, rol)
SHIFT_ALL(S_ROR, ror)
SHIFT_ALL(S_RCL, rcl)
SHIFT_ALL(S_RCR, rcr)
SHIFT_ALL(S_SHL, shl)
SHIFT_ALL(S_SHR, shr)
SHIFT_ALL(S_SAR, sar)

#define SH_SZ(name, s) { { op_##name##_ri_##s, op_##name##_rc_##s }, { op_##name##_mi_##s, op_##name##_mc_##s } }
#define SH_ROW(name) { SH_SZ(name, b), SH_SZ(name, w), SH_SZ(name, l) }
/* [kind][size][register/memory][imm/CL] */
OpFn *const op_shift[8][3][2][2] = {
    SH_ROW(rol), SH_ROW(ror), SH_ROW(rcl), SH_ROW(rcr),
    SH_ROW(shl), SH_ROW(shr), SH_ROW(shl), SH_ROW(sar),
};

/* SHLD/SHRD: dst = rm, fill bits from reg. */
static ALWAYS_INLINE uint32_t shd_calc(CPUX86State *cpu, bool right, int sz, uint32_t a, uint32_t b,
                                       unsigned count)
{
    count &= 31;
    if (count == 0) {
        return a;
    }
    uint32_t r, cf, of;
    if (sz == 2) {
        uint64_t v = right ? (((uint64_t)b << 32) | a) : (((uint64_t)a << 32) | b);
        if (right) {
            r = (uint32_t)(v >> count);
            cf = (uint32_t)(v >> (count - 1)) & 1;
        } else {
            r = (uint32_t)((v << count) >> 32);
            cf = (uint32_t)((v << (count - 1)) >> 63) & 1;
        }
        of = ((r ^ a) >> 31) & 1;
    } else {
        /* 16-bit: a 48-bit pattern a:b:a (left) / b:a (right), as
         * hardware behaves for counts above 16. */
        uint64_t v;
        if (right) {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)(v >> count) & 0xffff;
            cf = (uint32_t)(v >> (count - 1)) & 1;
        } else {
            v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
            r = (uint32_t)((v << count) >> 32) & 0xffff;
            cf = (uint32_t)((v << (count - 1)) >> 47) & 1;
        }
        of = ((r ^ a) >> 15) & 1;
    }
    cpu->cc_dst = r;
    cpu->cc_src = cf | (of ? CC_O : 0);
    cpu->cc_op = CC_OP_RES8 + sz;
    return r;
}

#define SHD(right, name, s)                                                          \
static Op *op_##name##_ri_##s(CPUX86State *cpu, Op *op)                              \
{ SETR_##s(op->rm, shd_calc(cpu, right, SZ_##s, GETR_##s(op->rm), GETR_##s(op->reg), op->imm)); NEXT(op); } \
static Op *op_##name##_rc_##s(CPUX86State *cpu, Op *op)                              \
{ SETR_##s(op->rm, shd_calc(cpu, right, SZ_##s, GETR_##s(op->rm), GETR_##s(op->reg), cpu->regs[R_ECX])); NEXT(op); } \
static Op *op_##name##_mi_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin);                                \
  if (op->imm & 31) { ST_##s(lin, shd_calc(cpu, right, SZ_##s, a, GETR_##s(op->reg), op->imm)); } NEXT(op); } \
static Op *op_##name##_mc_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin); unsigned c = cpu->regs[R_ECX] & 31; \
  if (c) { ST_##s(lin, shd_calc(cpu, right, SZ_##s, a, GETR_##s(op->reg), c)); } NEXT(op); }
SHD(false, shld, w) SHD(false, shld, l) SHD(true, shrd, w) SHD(true, shrd, l)
/* [shld/shrd][w/l][register/memory][imm/CL] */
OpFn *const op_shd[2][2][2][2] = {
    { SH_SZ(shld, w), SH_SZ(shld, l) },
    { SH_SZ(shrd, w), SH_SZ(shrd, l) },
};
