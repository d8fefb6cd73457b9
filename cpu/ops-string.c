/*
 * String instructions: MOVS CMPS STOS LODS SCAS INS OUTS, with REP,
 * REPE and REPNE. Source DS (overridable), destination ES.
 *
 * REP forms update (E)SI/(E)DI/(E)CX after every element, so a fault in
 * the middle leaves the registers describing the remaining work and EIP
 * at the instruction: it resumes where it stopped. Long repeats return
 * to the CPU loop every few thousand elements when an interrupt or exit
 * is pending (with the same resumable state).
 */
#include "ops-common.h"
#include "ops-list.h"

#define REP_CHUNK 4096

static ALWAYS_INLINE uint32_t amask(int a32) { return a32 ? 0xffffffffu : 0xffffu; }
static ALWAYS_INLINE uint32_t areg(CPUX86State *cpu, int r, int a32) { return cpu->regs[r] & amask(a32); }
static ALWAYS_INLINE void areg_set(CPUX86State *cpu, int r, int a32, uint32_t v)
{
    if (a32) {
        cpu->regs[r] = v;
    } else {
        cpu->regs[r] = (cpu->regs[r] & 0xffff0000u) | (v & 0xffff);
    }
}
static ALWAYS_INLINE int32_t step(CPUX86State *cpu, int bytes)
{
    return (cpu->eflags & DF_MASK) ? -bytes : bytes;
}

static ALWAYS_INLINE uint32_t ld_sz(CPUX86State *cpu, Op *op, uint32_t lin, int bytes)
{
    return bytes == 1 ? ldb_lin(cpu, op, lin) : bytes == 2 ? ldw_lin(cpu, op, lin) : ldl_lin(cpu, op, lin);
}
static ALWAYS_INLINE void st_sz(CPUX86State *cpu, Op *op, uint32_t lin, uint32_t v, int bytes)
{
    if (bytes == 1) {
        stb_lin(cpu, op, lin, v);
    } else if (bytes == 2) {
        stw_lin(cpu, op, lin, v);
    } else {
        stl_lin(cpu, op, lin, v);
    }
}
static ALWAYS_INLINE uint32_t acc_get(CPUX86State *cpu, int bytes)
{
    return cpu->regs[R_EAX] & (bytes == 1 ? 0xff : bytes == 2 ? 0xffff : 0xffffffffu);
}
static ALWAYS_INLINE void acc_set(CPUX86State *cpu, uint32_t v, int bytes)
{
    if (bytes == 1) {
        reg8_set(cpu, 0, v);
    } else if (bytes == 2) {
        reg16_set(cpu, R_EAX, v);
    } else {
        cpu->regs[R_EAX] = v;
    }
}
static ALWAYS_INLINE void sub_cc(CPUX86State *cpu, int bytes, uint32_t a, uint32_t b)
{
    int sz = bytes == 1 ? 0 : bytes == 2 ? 1 : 2;
    cpu->cc_dst = (a - b) & size_mask(sz);
    cpu->cc_src = b;
    cpu->cc_op = CC_OP_SUB8 + sz;
}

enum { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS, STR_INS, STR_OUTS };

/* One element; returns false when a REPE/REPNE condition stops. */
static ALWAYS_INLINE void str_one(CPUX86State *cpu, Op *op, int kind, int bytes, int a32)
{
    int32_t d = step(cpu, bytes);
    uint32_t si = areg(cpu, R_ESI, a32), di = areg(cpu, R_EDI, a32);
    switch (kind) {
    case STR_MOVS: {
        uint32_t v = ld_sz(cpu, op, seg_lin_rd(cpu, op, op->seg, si, bytes), bytes);
        st_sz(cpu, op, seg_lin_wr(cpu, op, R_ES, di, bytes), v, bytes);
        areg_set(cpu, R_ESI, a32, si + d);
        areg_set(cpu, R_EDI, a32, di + d);
        break;
    }
    case STR_CMPS: {
        uint32_t a = ld_sz(cpu, op, seg_lin_rd(cpu, op, op->seg, si, bytes), bytes);
        uint32_t b = ld_sz(cpu, op, seg_lin_rd(cpu, op, R_ES, di, bytes), bytes);
        sub_cc(cpu, bytes, a, b);
        areg_set(cpu, R_ESI, a32, si + d);
        areg_set(cpu, R_EDI, a32, di + d);
        break;
    }
    case STR_STOS:
        st_sz(cpu, op, seg_lin_wr(cpu, op, R_ES, di, bytes), acc_get(cpu, bytes), bytes);
        areg_set(cpu, R_EDI, a32, di + d);
        break;
    case STR_LODS:
        acc_set(cpu, ld_sz(cpu, op, seg_lin_rd(cpu, op, op->seg, si, bytes), bytes), bytes);
        areg_set(cpu, R_ESI, a32, si + d);
        break;
    case STR_SCAS: {
        uint32_t b = ld_sz(cpu, op, seg_lin_rd(cpu, op, R_ES, di, bytes), bytes);
        sub_cc(cpu, bytes, acc_get(cpu, bytes), b);
        areg_set(cpu, R_EDI, a32, di + d);
        break;
    }
    case STR_INS: {
        uint16_t port = cpu->regs[R_EDX];
        io_permitted(cpu, op, port, bytes);
        uint32_t lin = seg_lin_wr(cpu, op, R_ES, di, bytes);
        /* fault on the destination before touching the device */
        mem_check_access(cpu, op, R_ES, di, bytes, true);
        uint32_t v = address_space_read_sized(cpu->as_io, port, bytes);
        st_sz(cpu, op, lin, v, bytes);
        areg_set(cpu, R_EDI, a32, di + d);
        break;
    }
    default: { /* OUTS */
        uint16_t port = cpu->regs[R_EDX];
        io_permitted(cpu, op, port, bytes);
        uint32_t v = ld_sz(cpu, op, seg_lin_rd(cpu, op, op->seg, si, bytes), bytes);
        address_space_write_sized(cpu->as_io, port, v, bytes);
        areg_set(cpu, R_ESI, a32, si + d);
        break;
    }
    }
}

/* Fast path for REP STOSB/W/D and REP MOVSB/W/D, DF=0, within one page
 * of RAM for each operand: the TLB says the pages are plain RAM, so a
 * straight copy is what the element loop would do. Returns elements done. */
static uint32_t rep_fast(CPUX86State *cpu, Op *op, int kind, int bytes, int a32, uint32_t count)
{
    if ((cpu->eflags & DF_MASK) || !cpu->segs[R_ES].fast_wr) {
        return 0;
    }
    uint32_t di = areg(cpu, R_EDI, a32);
    uint32_t dlin = cpu->segs[R_ES].base + di;
    uint32_t n = count;
    uint32_t room = (0x1000 - (dlin & 0xfff)) / bytes;
    n = MIN(n, room);
    if (!a32) {
        n = MIN(n, (0x10000 - di) / bytes);
    }
    if (n == 0) {
        return 0;
    }
    TLBEntry *de = tlb_entry(cpu, dlin);
    if (de->write_tag != (dlin & ~0xfffu)) {
        return 0;
    }
    uint8_t *dst = tlb_host(de, dlin);
    if (kind == STR_STOS) {
        uint32_t v = acc_get(cpu, bytes);
        if (bytes == 1) {
            memset(dst, (int)v, n);
        } else if (bytes == 2) {
            for (uint32_t i = 0; i < n; i++) {
                stw_le(dst + i * 2, v);
            }
        } else {
            for (uint32_t i = 0; i < n; i++) {
                stl_le(dst + i * 4, v);
            }
        }
    } else {
        if (!cpu->segs[op->seg].fast_rd) {
            return 0;
        }
        uint32_t si = areg(cpu, R_ESI, a32);
        uint32_t slin = cpu->segs[op->seg].base + si;
        n = MIN(n, (0x1000 - (slin & 0xfff)) / bytes);
        if (!a32) {
            n = MIN(n, (0x10000 - si) / bytes);
        }
        if (n == 0) {
            return 0;
        }
        TLBEntry *se = tlb_entry(cpu, slin);
        if (se->read_tag != (slin & ~0xfffu)) {
            return 0;
        }
        uint8_t *src = tlb_host(se, slin);
        uint32_t len = n * bytes;
        if (dst > src && dst < src + len) {
            /* Overlap where a forward element copy replicates a pattern:
             * do exactly that. */
            for (uint32_t i = 0; i < len; i++) {
                dst[i] = src[i];
            }
        } else {
            memmove(dst, src, len);
        }
        areg_set(cpu, R_ESI, a32, si + n * bytes);
    }
    areg_set(cpu, R_EDI, a32, di + n * bytes);
    return n;
}

static ALWAYS_INLINE Op *str_rep(CPUX86State *cpu, Op *op, int kind, int bytes, int a32)
{
    bool cond_rep = kind == STR_CMPS || kind == STR_SCAS;
    uint32_t n = 0;
    for (;;) {
        uint32_t cx = areg(cpu, R_ECX, a32);
        if (cx == 0) {
            break;
        }
        if ((kind == STR_MOVS || kind == STR_STOS) && cx > 1) {
            uint32_t done = rep_fast(cpu, op, kind, bytes, a32, cx);
            if (done) {
                areg_set(cpu, R_ECX, a32, cx - done);
                n += done;
                goto check;
            }
        }
        str_one(cpu, op, kind, bytes, a32);
        areg_set(cpu, R_ECX, a32, cx - 1);
        if (cond_rep) {
            bool zf = (cpu->cc_dst == 0);
            if ((op->flags & OPF_REP) ? !zf : zf) {
                break;
            }
        }
        n++;
    check:
        if (n >= REP_CHUNK) {
            n = 0;
            if (cpu->exit_request && areg(cpu, R_ECX, a32) != 0) {
                cpu->eip = op->eip;
                return NULL;
            }
        }
    }
    NEXT(op);
}

#define STR_OP(kind, name, s, bytes)                                                 \
static Op *op_##name##_##s##_a16(CPUX86State *cpu, Op *op)                           \
{ if (op->flags & (OPF_REP | OPF_REPNE)) { return str_rep(cpu, op, kind, bytes, 0); }    \
  str_one(cpu, op, kind, bytes, 0); NEXT(op); }                                      \
static Op *op_##name##_##s##_a32(CPUX86State *cpu, Op *op)                           \
{ if (op->flags & (OPF_REP | OPF_REPNE)) { return str_rep(cpu, op, kind, bytes, 1); }    \
  str_one(cpu, op, kind, bytes, 1); NEXT(op); }
#define STR_ALL(kind, name) STR_OP(kind, name, b, 1) STR_OP(kind, name, w, 2) STR_OP(kind, name, l, 4)
STR_ALL(STR_MOVS, movs)
STR_ALL(STR_CMPS, cmps)
STR_ALL(STR_STOS, stos)
STR_ALL(STR_LODS, lods)
STR_ALL(STR_SCAS, scas)
STR_ALL(STR_INS, ins)
STR_ALL(STR_OUTS, outs)

#define STR_ROW(name) { { op_##name##_b_a16, op_##name##_b_a32 }, { op_##name##_w_a16, op_##name##_w_a32 }, \
                        { op_##name##_l_a16, op_##name##_l_a32 } }
/* [kind][size][a16/a32] */
OpFn *const op_string[7][3][2] = {
    STR_ROW(movs), STR_ROW(cmps), STR_ROW(stos), STR_ROW(lods), STR_ROW(scas),
    STR_ROW(ins), STR_ROW(outs),
};
