/*
 * Helpers for writing handler families: operand access by size letter
 * (b = 8, w = 16, l = 32 bits) so one macro body makes all sizes.
 */
#ifndef CPU_OPS_COMMON_H
#define CPU_OPS_COMMON_H

#include "cpu-internal.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Chained blocks tail-call each other when the compiler turns tail calls
 * into jumps (optimised builds without ASan, which keeps frames alive);
 * otherwise a block end returns to the CPU loop, so the host stack
 * never grows with the number of blocks run. */
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(MINIPC_NO_CHAIN_TAILCALL)
#define CHAIN_TAILCALL 1
#pragma GCC optimize("optimize-sibling-calls")
#else
#define CHAIN_TAILCALL 0
#endif

static inline Op *enter_block(CPUX86State *cpu, Op *ops)
{
#if CHAIN_TAILCALL
    return ops->fn(cpu, ops);
#else
    return ops;
#endif
}

/* size index: 0 = 8, 1 = 16, 2 = 32 bits */
#define SZ_b 0
#define SZ_w 1
#define SZ_l 2
#define BITS_b 8
#define BITS_w 16
#define BITS_l 32
#define BYTES_b 1
#define BYTES_w 2
#define BYTES_l 4
#define MASK_b 0xffu
#define MASK_w 0xffffu
#define MASK_l 0xffffffffu
#define STYPE_b int8_t
#define STYPE_w int16_t
#define STYPE_l int32_t

#define GETR_b(r) reg8_get(cpu, (r))
#define GETR_w(r) reg16_get(cpu, (r))
#define GETR_l(r) (cpu->regs[(r)])
#define SETR_b(r, v) reg8_set(cpu, (r), (uint8_t)(v))
#define SETR_w(r, v) reg16_set(cpu, (r), (uint16_t)(v))
#define SETR_l(r, v) (cpu->regs[(r)] = (uint32_t)(v))

#define LD_b(lin) ldb_lin(cpu, op, (lin))
#define LD_w(lin) ldw_lin(cpu, op, (lin))
#define LD_l(lin) ldl_lin(cpu, op, (lin))
#define LDW_b(lin) ldb_lin_rmw(cpu, op, (lin))
#define LDW_w(lin) ldw_lin_rmw(cpu, op, (lin))
#define LDW_l(lin) ldl_lin_rmw(cpu, op, (lin))
#define ST_b(lin, v) stb_lin(cpu, op, (lin), (uint8_t)(v))
#define ST_w(lin, v) stw_lin(cpu, op, (lin), (uint16_t)(v))
#define ST_l(lin, v) stl_lin(cpu, op, (lin), (uint32_t)(v))

/* Linear address of the ModRM memory operand. */
#define EA_RD(sz) seg_lin_rd(cpu, op, op->seg, op_ea(cpu, op), BYTES_##sz)
#define EA_WR(sz) seg_lin_wr(cpu, op, op->seg, op_ea(cpu, op), BYTES_##sz)

static ALWAYS_INLINE uint32_t size_mask(int sz)
{
    return sz == 0 ? 0xffu : sz == 1 ? 0xffffu : 0xffffffffu;
}
static ALWAYS_INLINE uint32_t size_sign(int sz)
{
    return sz == 0 ? 0x80u : sz == 1 ? 0x8000u : 0x80000000u;
}

/* Block ends: go to the block at 'eip' through link slot 'slot' (the
 * TBLink array in the op after a block-end op). */
static ALWAYS_INLINE Op *goto_block(CPUX86State *cpu, Op *op, uint32_t eip, int slot)
{
    cpu->eip = eip;
    if (unlikely((cpu->budget -= op->ninsns) <= 0 || cpu->exit_request)) {
        return NULL;
    }
    TBLink *l = (TBLink *)(op + 1) + slot;
    if (likely(l->gen == cpu->tlb_gen)) {
        return enter_block(cpu, l->tb->ops);
    }
    TB *t = tb_jmp_cache_get(cpu, eip);
    if (!t) {
        return NULL;
    }
    l->tb = t;
    l->gen = cpu->tlb_gen;
    return enter_block(cpu, t->ops);
}

/* Indirect block end (RET, JMP r/m): jump cache only. */
static ALWAYS_INLINE Op *goto_indirect(CPUX86State *cpu, Op *op, uint32_t eip)
{
    cpu->eip = eip;
    if (unlikely((cpu->budget -= op->ninsns) <= 0 || cpu->exit_request)) {
        return NULL;
    }
    TB *t = tb_jmp_cache_get(cpu, eip);
    return t ? enter_block(cpu, t->ops) : NULL;
}

/* Block end that must return to the CPU loop (mode changes, IF set...). */
static ALWAYS_INLINE Op *exit_block(CPUX86State *cpu, Op *op, uint32_t eip)
{
    cpu->eip = eip;
    cpu->budget -= op->ninsns;
    return NULL;
}

#endif
