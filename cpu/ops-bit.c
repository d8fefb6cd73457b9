/*
 * Bit test and scan: BT, BTS, BTR, BTC (register and immediate bit
 * offsets; a register offset on a memory operand addresses beyond the
 * operand, signed), BSF, BSR.
 *
 * Flags: BTx set CF only (OF/SF/AF/PF undefined: left unchanged).
 * BSF/BSR set ZF; the other flags are undefined and left unchanged; with a
 * zero source the destination is left unchanged (as P6 hardware does).
 */
#include "ops-common.h"
#include "ops-list.h"

enum { B_BT, B_BTS, B_BTR, B_BTC };

static ALWAYS_INLINE uint32_t bt_apply(CPUX86State *cpu, int kind, uint32_t v, unsigned bit)
{
    uint32_t m = 1u << bit;
    uint32_t f = cc_compute_all(cpu) & ~CC_C;
    cc_set_eflags(cpu, f | ((v & m) ? CC_C : 0));
    switch (kind) {
    case B_BTS: return v | m;
    case B_BTR: return v & ~m;
    case B_BTC: return v ^ m;
    default: return v;
    }
}

#define BT(kind, name, s)                                                            \
static Op *op_##name##_rr_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t r = bt_apply(cpu, kind, GETR_##s(op->rm), GETR_##s(op->reg) & (BITS_##s - 1)); \
  if (kind != B_BT) { SETR_##s(op->rm, r); } NEXT(op); }                                 \
static Op *op_##name##_ri_##s(CPUX86State *cpu, Op *op)                              \
{ uint32_t r = bt_apply(cpu, kind, GETR_##s(op->rm), op->imm & (BITS_##s - 1));        \
  if (kind != B_BT) { SETR_##s(op->rm, r); } NEXT(op); }                                 \
static Op *op_##name##_mr_##s(CPUX86State *cpu, Op *op)                              \
{ int32_t off = BITS_##s == 16 ? (int16_t)GETR_w(op->reg) : (int32_t)GETR_l(op->reg); \
  uint32_t ea = (op_ea(cpu, op) + (uint32_t)((off >> (BITS_##s == 16 ? 4 : 5)) * BYTES_##s)) \
                & (0xffffffffu >> op->ashift);                                       \
  unsigned bit = off & (BITS_##s - 1);                                               \
  if (kind == B_BT) {                                                                \
      bt_apply(cpu, kind, LD_##s(seg_lin_rd(cpu, op, op->seg, ea, BYTES_##s)), bit);  \
  } else {                                                                           \
      uint32_t lin = seg_lin_wr(cpu, op, op->seg, ea, BYTES_##s);                    \
      uint32_t v = LDW_##s(lin);                                                     \
      ST_##s(lin, bt_apply(cpu, kind, v, bit));                                      \
  }                                                                                  \
  NEXT(op); }                                                                        \
static Op *op_##name##_mi_##s(CPUX86State *cpu, Op *op)                              \
{ unsigned bit = op->imm & (BITS_##s - 1);                                           \
  if (kind == B_BT) {                                                                \
      bt_apply(cpu, kind, LD_##s(EA_RD(s)), bit);                                     \
  } else {                                                                           \
      uint32_t lin = EA_WR(s);                                                       \
      uint32_t v = LDW_##s(lin);                                                     \
      ST_##s(lin, bt_apply(cpu, kind, v, bit));                                      \
  }                                                                                  \
  NEXT(op); }
#define BT_ALL(kind, name) BT(kind, name, w) BT(kind, name, l)
BT_ALL(B_BT, bt)
BT_ALL(B_BTS, bts)
BT_ALL(B_BTR, btr)
BT_ALL(B_BTC, btc)
#define BT_SZ(name, s) { { op_##name##_rr_##s, op_##name##_ri_##s }, { op_##name##_mr_##s, op_##name##_mi_##s } }
/* [kind][w/l][register/memory][bit offset from reg / imm] */
OpFn *const op_bt[4][2][2][2] = {
    { BT_SZ(bt, w), BT_SZ(bt, l) }, { BT_SZ(bts, w), BT_SZ(bts, l) },
    { BT_SZ(btr, w), BT_SZ(btr, l) }, { BT_SZ(btc, w), BT_SZ(btc, l) },
};

static ALWAYS_INLINE void bsx(CPUX86State *cpu, Op *op, bool rev, int sz, uint32_t v)
{
    uint32_t f = cc_compute_all(cpu) & ~CC_Z;
    if (v == 0) {
        cc_set_eflags(cpu, f | CC_Z);
        return;
    }
    cc_set_eflags(cpu, f);
    uint32_t r = rev ? 31 - __builtin_clz(v) : __builtin_ctz(v);
    if (sz == 1) {
        reg16_set(cpu, op->reg, r);
    } else {
        cpu->regs[op->reg] = r;
    }
}
static Op *op_bsf_r_w(CPUX86State *cpu, Op *op) { bsx(cpu, op, false, 1, GETR_w(op->rm)); NEXT(op); }
static Op *op_bsf_m_w(CPUX86State *cpu, Op *op) { bsx(cpu, op, false, 1, LD_w(EA_RD(w))); NEXT(op); }
static Op *op_bsf_r_l(CPUX86State *cpu, Op *op) { bsx(cpu, op, false, 2, GETR_l(op->rm)); NEXT(op); }
static Op *op_bsf_m_l(CPUX86State *cpu, Op *op) { bsx(cpu, op, false, 2, LD_l(EA_RD(l))); NEXT(op); }
static Op *op_bsr_r_w(CPUX86State *cpu, Op *op) { bsx(cpu, op, true, 1, GETR_w(op->rm)); NEXT(op); }
static Op *op_bsr_m_w(CPUX86State *cpu, Op *op) { bsx(cpu, op, true, 1, LD_w(EA_RD(w))); NEXT(op); }
static Op *op_bsr_r_l(CPUX86State *cpu, Op *op) { bsx(cpu, op, true, 2, GETR_l(op->rm)); NEXT(op); }
static Op *op_bsr_m_l(CPUX86State *cpu, Op *op) { bsx(cpu, op, true, 2, LD_l(EA_RD(l))); NEXT(op); }
OpFn *const op_bsf[2][2][2] = {
    { { op_bsf_r_w, op_bsf_m_w }, { op_bsf_r_l, op_bsf_m_l } },
    { { op_bsr_r_w, op_bsr_m_w }, { op_bsr_r_l, op_bsr_m_l } },
};
