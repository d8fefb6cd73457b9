/*
 * MUL, IMUL (one, two and three operand forms), DIV, IDIV.
 *
 * Flags: CF = OF = "the high half is significant". SF/ZF/PF/AF are
 * undefined; we compute SF/ZF/PF from the low half of the result and
 * clear AF (what the differential tests treat as "don't care").
 * DIV/IDIV leave all flags undefined; we leave them unchanged.
 */
#include "ops-common.h"
#include "ops-list.h"

static ALWAYS_INLINE void mul_cc(CPUX86State *cpu, int sz, uint32_t lo, bool overflow)
{
    cpu->cc_dst = lo & size_mask(sz);
    cpu->cc_src = overflow ? (CC_C | CC_O) : 0;
    cpu->cc_op = CC_OP_RES8 + sz;
}

static ALWAYS_INLINE void do_mul(CPUX86State *cpu, Op *op, int kind, int sz, uint32_t src)
{
    switch (sz * 4 + kind) {
    case 0: { /* MUL r/m8 */
        uint32_t r = (cpu->regs[R_EAX] & 0xff) * src;
        reg16_set(cpu, R_EAX, r);
        mul_cc(cpu, 0, r, r >> 8);
        break;
    }
    case 1: { /* IMUL r/m8 */
        int32_t r = (int8_t)cpu->regs[R_EAX] * (int8_t)src;
        reg16_set(cpu, R_EAX, r);
        mul_cc(cpu, 0, r, r != (int8_t)r);
        break;
    }
    case 2: { /* DIV r/m8 */
        uint32_t a = cpu->regs[R_EAX] & 0xffff;
        if (src == 0 || a / src > 0xff) {
            raise_exception(cpu, op, EXCP_DE);
        }
        reg16_set(cpu, R_EAX, (a / src) | ((a % src) << 8));
        break;
    }
    case 3: { /* IDIV r/m8 */
        int32_t a = (int16_t)cpu->regs[R_EAX];
        int32_t d = (int8_t)src;
        if (d == 0) {
            raise_exception(cpu, op, EXCP_DE);
        }
        int32_t q = a / d, r = a % d;
        if (q != (int8_t)q) {
            raise_exception(cpu, op, EXCP_DE);
        }
        reg16_set(cpu, R_EAX, (uint8_t)q | ((uint8_t)r << 8));
        break;
    }
    case 4: { /* MUL r/m16 */
        uint32_t r = (cpu->regs[R_EAX] & 0xffff) * src;
        reg16_set(cpu, R_EAX, r);
        reg16_set(cpu, R_EDX, r >> 16);
        mul_cc(cpu, 1, r, r >> 16);
        break;
    }
    case 5: { /* IMUL r/m16 */
        int32_t r = (int16_t)cpu->regs[R_EAX] * (int16_t)src;
        reg16_set(cpu, R_EAX, r);
        reg16_set(cpu, R_EDX, (uint32_t)r >> 16);
        mul_cc(cpu, 1, r, r != (int16_t)r);
        break;
    }
    case 6: { /* DIV r/m16 */
        uint32_t a = ((cpu->regs[R_EDX] & 0xffff) << 16) | (cpu->regs[R_EAX] & 0xffff);
        if (src == 0 || a / src > 0xffff) {
            raise_exception(cpu, op, EXCP_DE);
        }
        reg16_set(cpu, R_EAX, a / src);
        reg16_set(cpu, R_EDX, a % src);
        break;
    }
    case 7: { /* IDIV r/m16 */
        int32_t a = (int32_t)(((cpu->regs[R_EDX] & 0xffff) << 16) | (cpu->regs[R_EAX] & 0xffff));
        int32_t d = (int16_t)src;
        if (d == 0 || (a == INT32_MIN && d == -1)) {
            raise_exception(cpu, op, EXCP_DE);
        }
        int32_t q = a / d, r = a % d;
        if (q != (int16_t)q) {
            raise_exception(cpu, op, EXCP_DE);
        }
        reg16_set(cpu, R_EAX, q);
        reg16_set(cpu, R_EDX, r);
        break;
    }
    case 8: { /* MUL r/m32 */
        uint64_t r = (uint64_t)cpu->regs[R_EAX] * src;
        cpu->regs[R_EAX] = (uint32_t)r;
        cpu->regs[R_EDX] = (uint32_t)(r >> 32);
        mul_cc(cpu, 2, (uint32_t)r, r >> 32);
        break;
    }
    case 9: { /* IMUL r/m32 */
        int64_t r = (int64_t)(int32_t)cpu->regs[R_EAX] * (int32_t)src;
        cpu->regs[R_EAX] = (uint32_t)r;
        cpu->regs[R_EDX] = (uint32_t)((uint64_t)r >> 32);
        mul_cc(cpu, 2, (uint32_t)r, r != (int32_t)r);
        break;
    }
    case 10: { /* DIV r/m32 */
        uint64_t a = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
        if (src == 0 || a / src > 0xffffffffu) {
            raise_exception(cpu, op, EXCP_DE);
        }
        cpu->regs[R_EAX] = (uint32_t)(a / src);
        cpu->regs[R_EDX] = (uint32_t)(a % src);
        break;
    }
    default: { /* IDIV r/m32 */
        int64_t a = (int64_t)(((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX]);
        int64_t d = (int32_t)src;
        if (d == 0 || (a == INT64_MIN && d == -1)) {
            raise_exception(cpu, op, EXCP_DE);
        }
        int64_t q = a / d, r = a % d;
        if (q != (int32_t)q) {
            raise_exception(cpu, op, EXCP_DE);
        }
        cpu->regs[R_EAX] = (uint32_t)q;
        cpu->regs[R_EDX] = (uint32_t)r;
        break;
    }
    }
}

#define MULDIV(kind, name, s)                                                        \
static Op *op_##name##_r_##s(CPUX86State *cpu, Op *op)                               \
{ do_mul(cpu, op, kind, SZ_##s, GETR_##s(op->rm)); NEXT(op); }                       \
static Op *op_##name##_m_##s(CPUX86State *cpu, Op *op)                               \
{ do_mul(cpu, op, kind, SZ_##s, LD_##s(EA_RD(s))); NEXT(op); }
#define MULDIV_ALL(kind, name) MULDIV(kind, name, b) MULDIV(kind, name, w) MULDIV(kind, name, l)
MULDIV_ALL(0, mul)
MULDIV_ALL(1, imul1)
MULDIV_ALL(2, div)
MULDIV_ALL(3, idiv)
#define MD_ROW(name) { { op_##name##_r_b, op_##name##_m_b }, { op_##name##_r_w, op_##name##_m_w }, \
                       { op_##name##_r_l, op_##name##_m_l } }
OpFn *const op_muldiv[4][3][2] = { MD_ROW(mul), MD_ROW(imul1), MD_ROW(div), MD_ROW(idiv) };

/* IMUL Gv, Ev (and Gv, Ev, imm with the immediate in op->imm). */
static ALWAYS_INLINE uint32_t imul2(CPUX86State *cpu, int sz, uint32_t a, uint32_t b)
{
    if (sz == 1) {
        int32_t r = (int16_t)a * (int16_t)b;
        mul_cc(cpu, 1, r, r != (int16_t)r);
        return (uint16_t)r;
    }
    int64_t r = (int64_t)(int32_t)a * (int32_t)b;
    mul_cc(cpu, 2, (uint32_t)r, r != (int32_t)r);
    return (uint32_t)r;
}

static Op *op_imul2_r_w(CPUX86State *cpu, Op *op)
{ SETR_w(op->reg, imul2(cpu, 1, GETR_w(op->reg), GETR_w(op->rm))); NEXT(op); }
static Op *op_imul2_m_w(CPUX86State *cpu, Op *op)
{ uint32_t b = LD_w(EA_RD(w)); SETR_w(op->reg, imul2(cpu, 1, GETR_w(op->reg), b)); NEXT(op); }
static Op *op_imul2_r_l(CPUX86State *cpu, Op *op)
{ SETR_l(op->reg, imul2(cpu, 2, GETR_l(op->reg), GETR_l(op->rm))); NEXT(op); }
static Op *op_imul2_m_l(CPUX86State *cpu, Op *op)
{ uint32_t b = LD_l(EA_RD(l)); SETR_l(op->reg, imul2(cpu, 2, GETR_l(op->reg), b)); NEXT(op); }
static Op *op_imul3_r_w(CPUX86State *cpu, Op *op)
{ SETR_w(op->reg, imul2(cpu, 1, GETR_w(op->rm), op->imm)); NEXT(op); }
static Op *op_imul3_m_w(CPUX86State *cpu, Op *op)
{ uint32_t b = LD_w(EA_RD(w)); SETR_w(op->reg, imul2(cpu, 1, b, op->imm)); NEXT(op); }
static Op *op_imul3_r_l(CPUX86State *cpu, Op *op)
{ SETR_l(op->reg, imul2(cpu, 2, GETR_l(op->rm), op->imm)); NEXT(op); }
static Op *op_imul3_m_l(CPUX86State *cpu, Op *op)
{ uint32_t b = LD_l(EA_RD(l)); SETR_l(op->reg, imul2(cpu, 2, b, op->imm)); NEXT(op); }
OpFn *const op_imul2[2][2] = { { op_imul2_r_w, op_imul2_m_w }, { op_imul2_r_l, op_imul2_m_l } };
OpFn *const op_imul3[2][2] = { { op_imul3_r_w, op_imul3_m_w }, { op_imul3_r_l, op_imul3_m_l } };
