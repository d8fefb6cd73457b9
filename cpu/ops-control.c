/*
 * Control transfer and stack: JMP, Jcc, JCXZ, LOOPcc, CALL, RET (near),
 * PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE.
 *
 * Block ends chain to the next block through the link slots that follow
 * the op (see goto_block in ops-common.h).
 */
#include "ops-common.h"
#include "ops-list.h"

/* ---- stack helpers --------------------------------------------------------- */

void push16(CPUX86State *cpu, Op *op, uint16_t v)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - 2) & m;
    stw_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 2), v);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | sp;
}

void push32(CPUX86State *cpu, Op *op, uint32_t v)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - 4) & m;
    stl_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 4), v);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | sp;
}

uint16_t pop16(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & m;
    uint16_t v = ldw_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 2));
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | ((sp + 2) & m);
    return v;
}

uint32_t pop32(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & m;
    uint32_t v = ldl_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 4));
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | ((sp + 4) & m);
    return v;
}

/* Peek at the stack without moving ESP (for ops that must fault before
 * committing). */
static uint32_t stack_peek(CPUX86State *cpu, Op *op, uint32_t offset, int bytes)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] + offset) & m;
    uint32_t lin = seg_lin_rd(cpu, op, R_SS, sp, bytes);
    return bytes == 2 ? ldw_lin(cpu, op, lin) : ldl_lin(cpu, op, lin);
}

static void esp_add(CPUX86State *cpu, uint32_t n)
{
    uint32_t m = sp_mask(cpu);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | ((cpu->regs[R_ESP] + n) & m);
}

/* ---- jumps ------------------------------------------------------------------- */

Op *op_jmp(CPUX86State *cpu, Op *op) { return goto_block(cpu, op, op->imm, 0); }
/* Fall-through at the end of a block that hit its size limit. */
Op *op_goto_next(CPUX86State *cpu, Op *op) { return goto_block(cpu, op, op->imm, 0); }

Op *op_jcc(CPUX86State *cpu, Op *op)
{
    if (cc_test(cpu, op->reg)) {
        return goto_block(cpu, op, op->imm, 0);
    }
    return goto_block(cpu, op, op->disp, 1);
}

/* Jcc specialized for a block-local flag setter whose cc_op the decoder
 * knows: the condition is read straight from cc_dst/cc_src. */
#define JCC_SUB(bits, T, ST)                                                         \
static ALWAYS_INLINE bool cond_sub##bits(CPUX86State *cpu, int c)                      \
{                                                                                    \
    T res = (T)cpu->cc_dst, b = (T)cpu->cc_src, a = (T)(res + b);                     \
    bool r;                                                                          \
    switch (c >> 1) {                                                                \
    case 0: r = (ST)((a ^ b) & (a ^ res)) < 0; break;                                \
    case 1: r = a < b; break;                                                        \
    case 2: r = a == b; break;                                                       \
    case 3: r = a <= b; break;                                                       \
    case 4: r = (ST)res < 0; break;                                                  \
    case 5: r = parity_flag(res); break;                                             \
    case 6: r = (ST)a < (ST)b; break;                                                \
    default: r = (ST)a <= (ST)b; break;                                              \
    }                                                                                \
    return r ^ (c & 1);                                                              \
}
JCC_SUB(8, uint8_t, int8_t)
JCC_SUB(16, uint16_t, int16_t)
JCC_SUB(32, uint32_t, int32_t)

static ALWAYS_INLINE bool cond_logic(uint32_t res, uint32_t sign, int c)
{
    bool r;
    switch (c >> 1) {
    case 0: case 1: r = false; break;          /* O, B: OF = CF = 0 */
    case 2: case 3: r = res == 0; break;       /* E, BE */
    case 4: case 6: r = res & sign; break;     /* S, L (OF = 0) */
    case 5: r = parity_flag(res); break;
    default: r = res == 0 || (res & sign); break;
    }
    return r ^ (c & 1);
}

#define JCC_SPEC(name, expr)                                                         \
static Op *op_jcc_##name(CPUX86State *cpu, Op *op)                                   \
{                                                                                    \
    int c = op->reg;                                                                 \
    (void)c;                                                                         \
    if (expr) {                                                                      \
        return goto_block(cpu, op, op->imm, 0);                                      \
    }                                                                                \
    return goto_block(cpu, op, op->disp, 1);                                         \
}
JCC_SPEC(sub8, cond_sub8(cpu, c))
JCC_SPEC(sub16, cond_sub16(cpu, c))
JCC_SPEC(sub32, cond_sub32(cpu, c))
JCC_SPEC(logic8, cond_logic(cpu->cc_dst, 0x80, c))
JCC_SPEC(logic16, cond_logic(cpu->cc_dst, 0x8000, c))
JCC_SPEC(logic32, cond_logic(cpu->cc_dst, 0x80000000u, c))

OpFn *jcc_handler_for(int cc_op_known, int cond)
{
    /* ZF, SF and PF come from the result for every lazy cc_op, so
     * E/NE/S/NS/P/NP after any known flag setter read cc_dst. */
    int c2 = cond >> 1;
    if (cc_op_known != CC_OP_EFLAGS && (c2 == 2 || c2 == 4 || c2 == 5)) {
        int size = cc_op_known == CC_OP_EFLAGS ? 2 : (cc_op_known - 1) % 3;
        static OpFn *const by_size[3] = { op_jcc_logic8, op_jcc_logic16, op_jcc_logic32 };
        return by_size[size];
    }
    /* ZF/SF/PF-only conditions after INC/DEC/RES are cheap with the
     * generic path too; specialise the common compare/test pairs. */
    switch (cc_op_known) {
    case CC_OP_SUB8: return op_jcc_sub8;
    case CC_OP_SUB16: return op_jcc_sub16;
    case CC_OP_SUB32: return op_jcc_sub32;
    case CC_OP_LOGIC8: return op_jcc_logic8;
    case CC_OP_LOGIC16: return op_jcc_logic16;
    case CC_OP_LOGIC32: return op_jcc_logic32;
    default: return op_jcc;
    }
}

/* JCXZ/JECXZ and LOOP/LOOPE/LOOPNE: op->reg = 0 LOOPNE, 1 LOOPE, 2 LOOP,
 * 3 JCXZ; OPF_A16 selects CX. */
Op *op_loop(CPUX86State *cpu, Op *op)
{
    bool a16 = op->flags & OPF_A16;
    uint32_t cx = a16 ? cpu->regs[R_ECX] & 0xffff : cpu->regs[R_ECX];
    bool take;
    if (op->reg == 3) {
        take = cx == 0;
    } else {
        cx--;
        if (a16) {
            reg16_set(cpu, R_ECX, cx);
            cx &= 0xffff;
        } else {
            cpu->regs[R_ECX] = cx;
        }
        take = cx != 0;
        if (op->reg == 0) {
            take = take && !(cc_compute_all(cpu) & CC_Z);
        } else if (op->reg == 1) {
            take = take && (cc_compute_all(cpu) & CC_Z);
        }
    }
    if (take) {
        return goto_block(cpu, op, op->imm, 0);
    }
    return goto_block(cpu, op, op->disp, 1);
}

Op *op_call_w(CPUX86State *cpu, Op *op)
{
    push16(cpu, op, op_next_eip(op));
    return goto_block(cpu, op, op->imm, 0);
}

Op *op_call_l(CPUX86State *cpu, Op *op)
{
    push32(cpu, op, op_next_eip(op));
    return goto_block(cpu, op, op->imm, 0);
}

Op *op_call_ind_r_w(CPUX86State *cpu, Op *op)
{
    uint32_t t = cpu->regs[op->rm] & 0xffff;
    push16(cpu, op, op_next_eip(op));
    return goto_indirect(cpu, op, t);
}
Op *op_call_ind_m_w(CPUX86State *cpu, Op *op)
{
    uint32_t t = LD_w(EA_RD(w));
    push16(cpu, op, op_next_eip(op));
    return goto_indirect(cpu, op, t);
}
Op *op_call_ind_r_l(CPUX86State *cpu, Op *op)
{
    uint32_t t = cpu->regs[op->rm];
    push32(cpu, op, op_next_eip(op));
    return goto_indirect(cpu, op, t);
}
Op *op_call_ind_m_l(CPUX86State *cpu, Op *op)
{
    uint32_t t = LD_l(EA_RD(l));
    push32(cpu, op, op_next_eip(op));
    return goto_indirect(cpu, op, t);
}
Op *op_jmp_ind_r_w(CPUX86State *cpu, Op *op) { return goto_indirect(cpu, op, cpu->regs[op->rm] & 0xffff); }
Op *op_jmp_ind_m_w(CPUX86State *cpu, Op *op) { return goto_indirect(cpu, op, LD_w(EA_RD(w))); }
Op *op_jmp_ind_r_l(CPUX86State *cpu, Op *op) { return goto_indirect(cpu, op, cpu->regs[op->rm]); }
Op *op_jmp_ind_m_l(CPUX86State *cpu, Op *op) { return goto_indirect(cpu, op, LD_l(EA_RD(l))); }

/* RET [imm16]: op->imm = bytes to release. */
Op *op_ret_w(CPUX86State *cpu, Op *op)
{
    uint32_t t = pop16(cpu, op);
    esp_add(cpu, op->imm);
    return goto_indirect(cpu, op, t);
}
Op *op_ret_l(CPUX86State *cpu, Op *op)
{
    uint32_t t = pop32(cpu, op);
    esp_add(cpu, op->imm);
    return goto_indirect(cpu, op, t);
}

/* ---- PUSH / POP ------------------------------------------------------------------ */

Op *op_push_r_w(CPUX86State *cpu, Op *op) { push16(cpu, op, cpu->regs[op->reg]); NEXT(op); }
Op *op_push_r_l(CPUX86State *cpu, Op *op) { push32(cpu, op, cpu->regs[op->reg]); NEXT(op); }
Op *op_push_i_w(CPUX86State *cpu, Op *op) { push16(cpu, op, op->imm); NEXT(op); }
Op *op_push_i_l(CPUX86State *cpu, Op *op) { push32(cpu, op, op->imm); NEXT(op); }
Op *op_push_m_w(CPUX86State *cpu, Op *op) { push16(cpu, op, LD_w(EA_RD(w))); NEXT(op); }
Op *op_push_m_l(CPUX86State *cpu, Op *op) { push32(cpu, op, LD_l(EA_RD(l))); NEXT(op); }
Op *op_pop_r_w(CPUX86State *cpu, Op *op) { uint16_t v = pop16(cpu, op); reg16_set(cpu, op->reg, v); NEXT(op); }
Op *op_pop_r_l(CPUX86State *cpu, Op *op) { uint32_t v = pop32(cpu, op); cpu->regs[op->reg] = v; NEXT(op); }

/* POP Ev to memory: the address is computed with ESP already
 * incremented, but nothing may change if the store faults. */
Op *op_pop_m_w(CPUX86State *cpu, Op *op)
{
    uint32_t old = cpu->regs[R_ESP];
    uint16_t v = stack_peek(cpu, op, 0, 2);
    esp_add(cpu, 2);
    uint32_t ea = op_ea(cpu, op);
    uint32_t new_esp = cpu->regs[R_ESP];
    cpu->regs[R_ESP] = old;
    stw_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, ea, 2), v);
    cpu->regs[R_ESP] = new_esp;
    NEXT(op);
}
Op *op_pop_m_l(CPUX86State *cpu, Op *op)
{
    uint32_t old = cpu->regs[R_ESP];
    uint32_t v = stack_peek(cpu, op, 0, 4);
    esp_add(cpu, 4);
    uint32_t ea = op_ea(cpu, op);
    uint32_t new_esp = cpu->regs[R_ESP];
    cpu->regs[R_ESP] = old;
    stl_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, ea, 4), v);
    cpu->regs[R_ESP] = new_esp;
    NEXT(op);
}

/* PUSHA/POPA: check the whole frame first so a fault changes nothing. */
Op *op_pusha_w(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    mem_check_access(cpu, op, R_SS, (sp - 16) & m, 16, true);
    for (int r = 0; r < 8; r++) {
        uint32_t a = (sp - 2 * (r + 1)) & m;
        stw_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, a, 2), cpu->regs[r]);
    }
    cpu->regs[R_ESP] = (sp & ~m) | ((sp - 16) & m);
    NEXT(op);
}
Op *op_pusha_l(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP];
    mem_check_access(cpu, op, R_SS, (sp - 32) & m, 32, true);
    for (int r = 0; r < 8; r++) {
        uint32_t a = (sp - 4 * (r + 1)) & m;
        stl_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, a, 4), cpu->regs[r]);
    }
    cpu->regs[R_ESP] = (sp & ~m) | ((sp - 32) & m);
    NEXT(op);
}
Op *op_popa_w(CPUX86State *cpu, Op *op)
{
    uint32_t v[8];
    for (int i = 0; i < 8; i++) {
        v[7 - i] = stack_peek(cpu, op, 2 * i, 2);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            reg16_set(cpu, r, v[r]);
        }
    }
    esp_add(cpu, 16);
    NEXT(op);
}
Op *op_popa_l(CPUX86State *cpu, Op *op)
{
    uint32_t v[8];
    for (int i = 0; i < 8; i++) {
        v[7 - i] = stack_peek(cpu, op, 4 * i, 4);
    }
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            cpu->regs[r] = v[r];
        }
    }
    esp_add(cpu, 32);
    NEXT(op);
}

/* PUSHF/POPF: IOPL-sensitive in V86 mode (VME off). */
Op *op_pushf(CPUX86State *cpu, Op *op)
{
    if ((cpu->eflags & VM_MASK) && ((cpu->eflags & IOPL_MASK) >> IOPL_SHIFT) < 3) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t f = cpu_get_eflags(cpu) & ~(VM_MASK | RF_MASK);
    if (op->flags & OPF_O16) {
        push16(cpu, op, f);
    } else {
        push32(cpu, op, f);
    }
    NEXT(op);
}

Op *op_popf(CPUX86State *cpu, Op *op)
{
    bool o16 = op->flags & OPF_O16;
    int iopl = (cpu->eflags & IOPL_MASK) >> IOPL_SHIFT;
    if ((cpu->eflags & VM_MASK) && iopl < 3) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t v = o16 ? pop16(cpu, op) : pop32(cpu, op);
    uint32_t mask = CC_MASK | TF_MASK | DF_MASK | NT_MASK | AC_MASK | ID_MASK | IF_MASK | IOPL_MASK;
    if (cpu->hflags & HF_PE) {
        if (cpu->eflags & VM_MASK) {
            mask &= ~IOPL_MASK;
        } else {
            if (cpu->cpl > 0) {
                mask &= ~IOPL_MASK;
            }
            if (cpu->cpl > iopl) {
                mask &= ~IF_MASK;
            }
        }
    }
    if (o16) {
        mask &= 0xffff;
    }
    cpu_set_eflags_checked(cpu, v, mask);
    return exit_block(cpu, op, op_next_eip(op));
}

/* ENTER imm16, imm8: op->imm = frame size, op->imm2 = nesting level. */
Op *op_enter(CPUX86State *cpu, Op *op)
{
    bool o16 = op->flags & OPF_O16;
    int bytes = o16 ? 2 : 4;
    unsigned level = op->imm2 & 31;
    uint32_t m = sp_mask(cpu);
    uint32_t esp = cpu->regs[R_ESP], ebp = cpu->regs[R_EBP];
    uint32_t total = bytes * (level + 1) + op->imm;
    /* All stack writes must be possible before any is made. */
    mem_check_access(cpu, op, R_SS, (esp - bytes * (level + 1)) & m, bytes * (level + 1), true);
    uint32_t sp = (esp - bytes) & m;
    uint32_t frame = sp;
    if (o16) {
        stw_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 2), ebp);
    } else {
        stl_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 4), ebp);
    }
    if (level > 0) {
        uint32_t bp = ebp;
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - bytes) & m;
            uint32_t v = o16 ? ldw_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, bp, 2))
                             : ldl_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, bp, 4));
            sp = (sp - bytes) & m;
            if (o16) {
                stw_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 2), v);
            } else {
                stl_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 4), v);
            }
        }
        sp = (sp - bytes) & m;
        if (o16) {
            stw_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 2), frame);
        } else {
            stl_lin(cpu, op, seg_lin_wr(cpu, op, R_SS, sp, 4), frame);
        }
    }
    (void)total;
    sp = (sp - op->imm) & m;
    if (o16) {
        reg16_set(cpu, R_EBP, frame);
    } else {
        cpu->regs[R_EBP] = (ebp & ~m) | frame;
    }
    cpu->regs[R_ESP] = (esp & ~m) | sp;
    NEXT(op);
}

Op *op_leave(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_EBP] & m;
    bool o16 = op->flags & OPF_O16;
    uint32_t v = o16 ? ldw_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 2))
                     : ldl_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 4));
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | ((sp + (o16 ? 2 : 4)) & m);
    if (o16) {
        reg16_set(cpu, R_EBP, v);
    } else {
        cpu->regs[R_EBP] = v;
    }
    NEXT(op);
}
