/*
 * Integer ALU family: ADD OR ADC SBB AND SUB XOR CMP, TEST, INC, DEC,
 * NOT, NEG, MOV, MOVZX/MOVSX, LEA, XCHG, CMOVcc, SETcc, XADD, CMPXCHG,
 * CMPXCHG8B, BSWAP, CBW/CWD family.
 *
 * Handler names follow the manual's operands: _rr (Gv <- Ev register),
 * _rm (Gv <- Ev memory), _mr (Ev memory <- Gv), _ri (register, imm),
 * _mi (memory, imm); suffix b/w/l is the operand size.
 *
 * Undefined flags: AND/OR/XOR/TEST leave AF = 0.
 */
#include "ops-common.h"
#include "ops-list.h"

enum { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_CMP };

static ALWAYS_INLINE uint32_t alu_calc(CPUX86State *cpu, int kind, int sz, uint32_t a, uint32_t b)
{
    uint32_t r, c;
    switch (kind) {
    case K_ADD:
        r = a + b;
        cpu->cc_src = b;
        cpu->cc_op = CC_OP_ADD8 + sz;
        break;
    case K_ADC:
        c = cc_compute_c(cpu);
        r = a + b + c;
        cpu->cc_src = b;
        cpu->cc_src2 = c;
        cpu->cc_op = CC_OP_ADC8 + sz;
        break;
    case K_SBB:
        c = cc_compute_c(cpu);
        r = a - b - c;
        cpu->cc_src = b;
        cpu->cc_src2 = c;
        cpu->cc_op = CC_OP_SBB8 + sz;
        break;
    case K_SUB:
    case K_CMP:
        r = a - b;
        cpu->cc_src = b;
        cpu->cc_op = CC_OP_SUB8 + sz;
        break;
    case K_OR:
        r = a | b;
        cpu->cc_op = CC_OP_LOGIC8 + sz;
        break;
    case K_AND:
        r = a & b;
        cpu->cc_op = CC_OP_LOGIC8 + sz;
        break;
    default:
        r = a ^ b;
        cpu->cc_op = CC_OP_LOGIC8 + sz;
        break;
    }
    r &= size_mask(sz);
    cpu->cc_dst = r;
    return r;
}

#define ALU_SZ(kind, name, s)                                                       \
static Op *op_##name##_rr_##s(CPUX86State *cpu, Op *op)                              \
{                                                                                    \
    uint32_t r = alu_calc(cpu, kind, SZ_##s, GETR_##s(op->reg), GETR_##s(op->rm));   \
    if (kind != K_CMP) { SETR_##s(op->reg, r); }                                         \
    NEXT(op);                                                                        \
}                                                                                    \
static Op *op_##name##_rm_##s(CPUX86State *cpu, Op *op)                              \
{                                                                                    \
    uint32_t b = LD_##s(EA_RD(s));                                                   \
    uint32_t r = alu_calc(cpu, kind, SZ_##s, GETR_##s(op->reg), b);                  \
    if (kind != K_CMP) { SETR_##s(op->reg, r); }                                         \
    NEXT(op);                                                                        \
}                                                                                    \
static Op *op_##name##_mr_##s(CPUX86State *cpu, Op *op)                              \
{                                                                                    \
    if (kind == K_CMP) {                                                             \
        alu_calc(cpu, kind, SZ_##s, LD_##s(EA_RD(s)), GETR_##s(op->reg));           \
    } else {                                                                         \
        uint32_t lin = EA_WR(s);                                                     \
        uint32_t a = LDW_##s(lin);                                                   \
        uint32_t b = GETR_##s(op->reg);                                              \
        ST_##s(lin, alu_calc(cpu, kind, SZ_##s, a, b));                              \
    }                                                                                \
    NEXT(op);                                                                        \
}                                                                                    \
static Op *op_##name##_ri_##s(CPUX86State *cpu, Op *op)                              \
{                                                                                    \
    uint32_t r = alu_calc(cpu, kind, SZ_##s, GETR_##s(op->reg), op->imm);            \
    if (kind != K_CMP) { SETR_##s(op->reg, r); }                                         \
    NEXT(op);                                                                        \
}                                                                                    \
static Op *op_##name##_mi_##s(CPUX86State *cpu, Op *op)                              \
{                                                                                    \
    if (kind == K_CMP) {                                                             \
        alu_calc(cpu, kind, SZ_##s, LD_##s(EA_RD(s)), op->imm);                     \
    } else {                                                                         \
        uint32_t lin = EA_WR(s);                                                     \
        uint32_t a = LDW_##s(lin);                                                   \
        ST_##s(lin, alu_calc(cpu, kind, SZ_##s, a, op->imm));                        \
    }                                                                                \
    NEXT(op);                                                                        \
}

#define ALU(kind, name) ALU_SZ(kind, name, b) ALU_SZ(kind, name, w) ALU_SZ(kind, name, l)
ALU(K_ADD, add)
ALU(K_OR, or)
ALU(K_ADC, adc)
ALU(K_SBB, sbb)
ALU(K_AND, and)
ALU(K_SUB, sub)
ALU(K_XOR, xor)
ALU(K_CMP, cmp)

#define ALU_ROW(name, s) { op_##name##_rr_##s, op_##name##_rm_##s, op_##name##_mr_##s, \
                           op_##name##_ri_##s, op_##name##_mi_##s }
#define ALU_ENTRY(name) { ALU_ROW(name, b), ALU_ROW(name, w), ALU_ROW(name, l) }
OpFn *const op_alu[8][3][5] = {
    ALU_ENTRY(add), ALU_ENTRY(or), ALU_ENTRY(adc), ALU_ENTRY(sbb),
    ALU_ENTRY(and), ALU_ENTRY(sub), ALU_ENTRY(xor), ALU_ENTRY(cmp),
};

/* ---- TEST ---------------------------------------------------------------- */

static ALWAYS_INLINE void logic_cc(CPUX86State *cpu, int sz, uint32_t r)
{
    cpu->cc_dst = r;
    cpu->cc_op = CC_OP_LOGIC8 + sz;
}

#define TEST_SZ(s)                                                                   \
static Op *op_test_rr_##s(CPUX86State *cpu, Op *op)                                 \
{ logic_cc(cpu, SZ_##s, GETR_##s(op->reg) & GETR_##s(op->rm)); NEXT(op); }          \
static Op *op_test_mr_##s(CPUX86State *cpu, Op *op)                                 \
{ logic_cc(cpu, SZ_##s, LD_##s(EA_RD(s)) & GETR_##s(op->reg)); NEXT(op); }          \
static Op *op_test_ri_##s(CPUX86State *cpu, Op *op)                                 \
{ logic_cc(cpu, SZ_##s, GETR_##s(op->reg) & op->imm); NEXT(op); }                   \
static Op *op_test_mi_##s(CPUX86State *cpu, Op *op)                                 \
{ logic_cc(cpu, SZ_##s, LD_##s(EA_RD(s)) & op->imm); NEXT(op); }
TEST_SZ(b) TEST_SZ(w) TEST_SZ(l)
OpFn *const op_test[3][4] = {
    { op_test_rr_b, op_test_mr_b, op_test_ri_b, op_test_mi_b },
    { op_test_rr_w, op_test_mr_w, op_test_ri_w, op_test_mi_w },
    { op_test_rr_l, op_test_mr_l, op_test_ri_l, op_test_mi_l },
};

/* ---- INC / DEC / NOT / NEG ----------------------------------------------------- */

static ALWAYS_INLINE uint32_t incdec(CPUX86State *cpu, int dec, int sz, uint32_t a)
{
    uint32_t c = cc_compute_c(cpu);
    uint32_t r = (dec ? a - 1 : a + 1) & size_mask(sz);
    cpu->cc_src = c;
    cpu->cc_dst = r;
    cpu->cc_op = (dec ? CC_OP_DEC8 : CC_OP_INC8) + sz;
    return r;
}

static ALWAYS_INLINE uint32_t neg_calc(CPUX86State *cpu, int sz, uint32_t a)
{
    uint32_t r = (0 - a) & size_mask(sz);
    /* NEG is SUB 0, a */
    cpu->cc_src = a;
    cpu->cc_dst = r;
    cpu->cc_op = CC_OP_SUB8 + sz;
    return r;
}

#define UNARY_SZ(s)                                                                  \
static Op *op_inc_r_##s(CPUX86State *cpu, Op *op)                                    \
{ SETR_##s(op->reg, incdec(cpu, 0, SZ_##s, GETR_##s(op->reg))); NEXT(op); }          \
static Op *op_dec_r_##s(CPUX86State *cpu, Op *op)                                    \
{ SETR_##s(op->reg, incdec(cpu, 1, SZ_##s, GETR_##s(op->reg))); NEXT(op); }          \
static Op *op_inc_m_##s(CPUX86State *cpu, Op *op)                                    \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin);                                \
  ST_##s(lin, incdec(cpu, 0, SZ_##s, a)); NEXT(op); }                                \
static Op *op_dec_m_##s(CPUX86State *cpu, Op *op)                                    \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin);                                \
  ST_##s(lin, incdec(cpu, 1, SZ_##s, a)); NEXT(op); }                                \
static Op *op_not_r_##s(CPUX86State *cpu, Op *op)                                    \
{ SETR_##s(op->reg, ~GETR_##s(op->reg)); NEXT(op); }                                 \
static Op *op_not_m_##s(CPUX86State *cpu, Op *op)                                    \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin); ST_##s(lin, ~a); NEXT(op); }   \
static Op *op_neg_r_##s(CPUX86State *cpu, Op *op)                                    \
{ SETR_##s(op->reg, neg_calc(cpu, SZ_##s, GETR_##s(op->reg))); NEXT(op); }           \
static Op *op_neg_m_##s(CPUX86State *cpu, Op *op)                                    \
{ uint32_t lin = EA_WR(s); uint32_t a = LDW_##s(lin);                                \
  ST_##s(lin, neg_calc(cpu, SZ_##s, a)); NEXT(op); }
UNARY_SZ(b) UNARY_SZ(w) UNARY_SZ(l)
OpFn *const op_incdec[2][3][2] = {
    { { op_inc_r_b, op_inc_m_b }, { op_inc_r_w, op_inc_m_w }, { op_inc_r_l, op_inc_m_l } },
    { { op_dec_r_b, op_dec_m_b }, { op_dec_r_w, op_dec_m_w }, { op_dec_r_l, op_dec_m_l } },
};
OpFn *const op_notneg[2][3][2] = {
    { { op_not_r_b, op_not_m_b }, { op_not_r_w, op_not_m_w }, { op_not_r_l, op_not_m_l } },
    { { op_neg_r_b, op_neg_m_b }, { op_neg_r_w, op_neg_m_w }, { op_neg_r_l, op_neg_m_l } },
};

/* ---- MOV ---------------------------------------------------------------------- */

#define MOV_SZ(s)                                                                    \
static Op *op_mov_rr_##s(CPUX86State *cpu, Op *op)                                   \
{ SETR_##s(op->reg, GETR_##s(op->rm)); NEXT(op); }                                   \
static Op *op_mov_rm_##s(CPUX86State *cpu, Op *op)                                   \
{ SETR_##s(op->reg, LD_##s(EA_RD(s))); NEXT(op); }                                   \
static Op *op_mov_mr_##s(CPUX86State *cpu, Op *op)                                   \
{ ST_##s(EA_WR(s), GETR_##s(op->reg)); NEXT(op); }                                   \
static Op *op_mov_ri_##s(CPUX86State *cpu, Op *op)                                   \
{ SETR_##s(op->reg, op->imm); NEXT(op); }                                            \
static Op *op_mov_mi_##s(CPUX86State *cpu, Op *op)                                   \
{ ST_##s(EA_WR(s), op->imm); NEXT(op); }
MOV_SZ(b) MOV_SZ(w) MOV_SZ(l)
OpFn *const op_mov[3][5] = {
    { op_mov_rr_b, op_mov_rm_b, op_mov_mr_b, op_mov_ri_b, op_mov_mi_b },
    { op_mov_rr_w, op_mov_rm_w, op_mov_mr_w, op_mov_ri_w, op_mov_mi_w },
    { op_mov_rr_l, op_mov_rm_l, op_mov_mr_l, op_mov_ri_l, op_mov_mi_l },
};

/* MOVZX/MOVSX: [0] Gw <- Eb, [1] Gd <- Eb, [2] Gd <- Ew (and Gw <- Ew). */
static Op *op_movzx_bw_r(CPUX86State *cpu, Op *op) { SETR_w(op->reg, GETR_b(op->rm)); NEXT(op); }
static Op *op_movzx_bw_m(CPUX86State *cpu, Op *op) { SETR_w(op->reg, LD_b(EA_RD(b))); NEXT(op); }
static Op *op_movzx_bl_r(CPUX86State *cpu, Op *op) { SETR_l(op->reg, GETR_b(op->rm)); NEXT(op); }
static Op *op_movzx_bl_m(CPUX86State *cpu, Op *op) { SETR_l(op->reg, LD_b(EA_RD(b))); NEXT(op); }
static Op *op_movzx_wl_r(CPUX86State *cpu, Op *op) { SETR_l(op->reg, GETR_w(op->rm)); NEXT(op); }
static Op *op_movzx_wl_m(CPUX86State *cpu, Op *op) { SETR_l(op->reg, LD_w(EA_RD(w))); NEXT(op); }
static Op *op_movsx_bw_r(CPUX86State *cpu, Op *op) { SETR_w(op->reg, (int8_t)GETR_b(op->rm)); NEXT(op); }
static Op *op_movsx_bw_m(CPUX86State *cpu, Op *op) { SETR_w(op->reg, (int8_t)LD_b(EA_RD(b))); NEXT(op); }
static Op *op_movsx_bl_r(CPUX86State *cpu, Op *op) { SETR_l(op->reg, (int8_t)GETR_b(op->rm)); NEXT(op); }
static Op *op_movsx_bl_m(CPUX86State *cpu, Op *op) { SETR_l(op->reg, (int8_t)LD_b(EA_RD(b))); NEXT(op); }
static Op *op_movsx_wl_r(CPUX86State *cpu, Op *op) { SETR_l(op->reg, (int16_t)GETR_w(op->rm)); NEXT(op); }
static Op *op_movsx_wl_m(CPUX86State *cpu, Op *op) { SETR_l(op->reg, (int16_t)LD_w(EA_RD(w))); NEXT(op); }
OpFn *const op_movzx[3][2] = {
    { op_movzx_bw_r, op_movzx_bw_m }, { op_movzx_bl_r, op_movzx_bl_m }, { op_movzx_wl_r, op_movzx_wl_m },
};
OpFn *const op_movsx[3][2] = {
    { op_movsx_bw_r, op_movsx_bw_m }, { op_movsx_bl_r, op_movsx_bl_m }, { op_movsx_wl_r, op_movsx_wl_m },
};

static Op *op_lea_w(CPUX86State *cpu, Op *op) { SETR_w(op->reg, op_ea(cpu, op)); NEXT(op); }
static Op *op_lea_l(CPUX86State *cpu, Op *op) { SETR_l(op->reg, op_ea(cpu, op)); NEXT(op); }
OpFn *const op_lea[2] = { op_lea_w, op_lea_l };

/* ---- XCHG ------------------------------------------------------------------ */

#define XCHG_SZ(s)                                                                   \
static Op *op_xchg_rr_##s(CPUX86State *cpu, Op *op)                                  \
{ uint32_t a = GETR_##s(op->reg), b = GETR_##s(op->rm);                              \
  SETR_##s(op->rm, a); SETR_##s(op->reg, b); NEXT(op); }                             \
static Op *op_xchg_rm_##s(CPUX86State *cpu, Op *op)                                  \
{ uint32_t lin = EA_WR(s); uint32_t m = LDW_##s(lin);                                \
  ST_##s(lin, GETR_##s(op->reg)); SETR_##s(op->reg, m); NEXT(op); }
XCHG_SZ(b) XCHG_SZ(w) XCHG_SZ(l)
OpFn *const op_xchg[3][2] = {
    { op_xchg_rr_b, op_xchg_rm_b }, { op_xchg_rr_w, op_xchg_rm_w }, { op_xchg_rr_l, op_xchg_rm_l },
};

/* ---- CMOVcc / SETcc (condition in imm) ---------------------------------------- */

static Op *op_cmov_r_w(CPUX86State *cpu, Op *op)
{ if (cc_test(cpu, op->imm)) { SETR_w(op->reg, GETR_w(op->rm)); } NEXT(op); }
static Op *op_cmov_m_w(CPUX86State *cpu, Op *op)
{ uint16_t v = LD_w(EA_RD(w)); if (cc_test(cpu, op->imm)) { SETR_w(op->reg, v); } NEXT(op); }
static Op *op_cmov_r_l(CPUX86State *cpu, Op *op)
{ if (cc_test(cpu, op->imm)) { SETR_l(op->reg, GETR_l(op->rm)); } NEXT(op); }
static Op *op_cmov_m_l(CPUX86State *cpu, Op *op)
{ uint32_t v = LD_l(EA_RD(l)); if (cc_test(cpu, op->imm)) { SETR_l(op->reg, v); } NEXT(op); }
OpFn *const op_cmov[2][2] = { { op_cmov_r_w, op_cmov_m_w }, { op_cmov_r_l, op_cmov_m_l } };

static Op *op_setcc_r(CPUX86State *cpu, Op *op) { SETR_b(op->rm, cc_test(cpu, op->imm)); NEXT(op); }
static Op *op_setcc_m(CPUX86State *cpu, Op *op) { ST_b(EA_WR(b), cc_test(cpu, op->imm)); NEXT(op); }
OpFn *const op_setcc[2] = { op_setcc_r, op_setcc_m };

/* ---- XADD / CMPXCHG ------------------------------------------------------------- */

#define XADD_SZ(s)                                                                   \
static Op *op_xadd_rr_##s(CPUX86State *cpu, Op *op)                                  \
{ uint32_t d = GETR_##s(op->rm), src = GETR_##s(op->reg);                            \
  uint32_t r = alu_calc(cpu, K_ADD, SZ_##s, d, src);                                 \
  SETR_##s(op->reg, d); SETR_##s(op->rm, r); NEXT(op); }                             \
static Op *op_xadd_mr_##s(CPUX86State *cpu, Op *op)                                  \
{ uint32_t lin = EA_WR(s); uint32_t d = LDW_##s(lin), src = GETR_##s(op->reg);       \
  uint32_t r = alu_calc(cpu, K_ADD, SZ_##s, d, src);                                 \
  ST_##s(lin, r); SETR_##s(op->reg, d); NEXT(op); }                                  \
static Op *op_cmpxchg_rr_##s(CPUX86State *cpu, Op *op)                               \
{ uint32_t d = GETR_##s(op->rm), acc = GETR_##s(R_EAX);                              \
  alu_calc(cpu, K_CMP, SZ_##s, acc, d);                                              \
  if (acc == d) { SETR_##s(op->rm, GETR_##s(op->reg)); } else SETR_##s(R_EAX, d);        \
  NEXT(op); }                                                                        \
static Op *op_cmpxchg_mr_##s(CPUX86State *cpu, Op *op)                               \
{ uint32_t lin = EA_WR(s); uint32_t d = LDW_##s(lin), acc = GETR_##s(R_EAX);         \
  /* the destination is always written (with itself on failure) */                   \
  ST_##s(lin, acc == d ? GETR_##s(op->reg) : d);                                     \
  alu_calc(cpu, K_CMP, SZ_##s, acc, d);                                              \
  if (acc != d) { SETR_##s(R_EAX, d); }                                                  \
  NEXT(op); }
XADD_SZ(b) XADD_SZ(w) XADD_SZ(l)
OpFn *const op_xadd[3][2] = {
    { op_xadd_rr_b, op_xadd_mr_b }, { op_xadd_rr_w, op_xadd_mr_w }, { op_xadd_rr_l, op_xadd_mr_l },
};
OpFn *const op_cmpxchg[3][2] = {
    { op_cmpxchg_rr_b, op_cmpxchg_mr_b }, { op_cmpxchg_rr_w, op_cmpxchg_mr_w },
    { op_cmpxchg_rr_l, op_cmpxchg_mr_l },
};

Op *op_cmpxchg8b(CPUX86State *cpu, Op *op)
{
    uint32_t lin = EA_WR(l);
    /* both halves checked for writing before anything changes */
    mem_check_access(cpu, op, op->seg, op_ea(cpu, op), 8, true);
    uint64_t m = ldq_lin_rmw(cpu, op, lin);
    uint64_t cmp = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
    uint32_t f = cc_compute_all(cpu) & ~CC_Z;
    if (m == cmp) {
        stq_lin(cpu, op, lin, ((uint64_t)cpu->regs[R_ECX] << 32) | cpu->regs[R_EBX]);
        f |= CC_Z;
    } else {
        stq_lin(cpu, op, lin, m);
        cpu->regs[R_EAX] = (uint32_t)m;
        cpu->regs[R_EDX] = (uint32_t)(m >> 32);
    }
    cc_set_eflags(cpu, f);
    NEXT(op);
}

/* BSWAP r32 (the 16-bit form is undefined; we clear the low word, as
 * P6-family processors are observed to). */
Op *op_bswap_l(CPUX86State *cpu, Op *op) { cpu->regs[op->reg] = bswap32(cpu->regs[op->reg]); NEXT(op); }
Op *op_bswap_w(CPUX86State *cpu, Op *op) { SETR_w(op->reg, 0); NEXT(op); }

/* ---- CBW/CWDE, CWD/CDQ ------------------------------------------------------------ */

Op *op_cbw(CPUX86State *cpu, Op *op) { SETR_w(R_EAX, (int8_t)GETR_b(R_EAX)); NEXT(op); }
Op *op_cwde(CPUX86State *cpu, Op *op) { SETR_l(R_EAX, (int16_t)GETR_w(R_EAX)); NEXT(op); }
Op *op_cwd(CPUX86State *cpu, Op *op) { SETR_w(R_EDX, (GETR_w(R_EAX) & 0x8000) ? 0xffff : 0); NEXT(op); }
Op *op_cdq(CPUX86State *cpu, Op *op) { SETR_l(R_EDX, ((int32_t)cpu->regs[R_EAX]) >> 31); NEXT(op); }

/* ---- flag instructions --------------------------------------------------------------- */

Op *op_clc(CPUX86State *cpu, Op *op) { cc_set_eflags(cpu, cc_compute_all(cpu) & ~CC_C); NEXT(op); }
Op *op_stc(CPUX86State *cpu, Op *op) { cc_set_eflags(cpu, cc_compute_all(cpu) | CC_C); NEXT(op); }
Op *op_cmc(CPUX86State *cpu, Op *op) { cc_set_eflags(cpu, cc_compute_all(cpu) ^ CC_C); NEXT(op); }
Op *op_cld(CPUX86State *cpu, Op *op) { cpu->eflags &= ~DF_MASK; NEXT(op); }
Op *op_std(CPUX86State *cpu, Op *op) { cpu->eflags |= DF_MASK; NEXT(op); }
Op *op_lahf(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu) | 2;
    reg8_set(cpu, 4, (uint8_t)f);   /* AH */
    NEXT(op);
}
Op *op_sahf(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu) & CC_O;
    f |= reg8_get(cpu, 4) & (CC_S | CC_Z | CC_A | CC_P | CC_C);
    cc_set_eflags(cpu, f);
    NEXT(op);
}
/* SALC (D6): AL = CF ? 0xff : 0 (undocumented, present on P6). */
Op *op_salc(CPUX86State *cpu, Op *op) { reg8_set(cpu, 0, cc_compute_c(cpu) ? 0xff : 0); NEXT(op); }
Op *op_nop(CPUX86State *cpu, Op *op) { NEXT(op); }
/* XLAT: AL = [seg:(E)BX + AL] */
Op *op_xlat(CPUX86State *cpu, Op *op)
{
    uint32_t ea = (cpu->regs[R_EBX] + (cpu->regs[R_EAX] & 0xff)) & (0xffffffffu >> op->ashift);
    reg8_set(cpu, 0, ldb_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 1)));
    NEXT(op);
}
