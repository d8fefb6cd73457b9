/*
 * System and miscellaneous instructions: segment register moves, far
 * transfers, interrupts, I/O, descriptor tables, control and debug
 * registers, MSRs, CPUID, HLT/CLI/STI, BOUND, ARPL, LAR/LSL/VERR/VERW.
 * The segmentation machinery itself lives in cpu/seg.c.
 */
#include "ops-common.h"
#include "ops-list.h"
#include "hw/irq.h"
#include "util/log.h"

/* Ops that changed CS:EIP or the mode return to the CPU loop. */
static Op *leave_block(CPUX86State *cpu, Op *op)
{
    cpu->budget -= op->ninsns;
    return NULL;
}


/* #GP(0) unless CPL 0 (real mode counts as CPL 0; V86 is CPL 3). */
static void require_cpl0(CPUX86State *cpu, Op *op)
{
    if ((cpu->hflags & HF_PE) && cpu->cpl != 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
}

Op *op_raise_nm(CPUX86State *cpu, Op *op) { raise_exception(cpu, op, EXCP_NM); }

/* ---- segment registers ------------------------------------------------------ */

static Op *after_seg_load(CPUX86State *cpu, Op *op, int seg)
{
    if (seg == R_SS) {
        cpu->irq_inhibit = true;
        return exit_block(cpu, op, op_next_eip(op));
    }
    NEXT(op);
}

Op *op_push_seg_w(CPUX86State *cpu, Op *op) { push16(cpu, op, cpu->segs[op->reg].selector); NEXT(op); }
Op *op_push_seg_l(CPUX86State *cpu, Op *op)
{
    /* 32-bit push of a selector: ESP moves by 4, a 16-bit write. */
    uint32_t m = sp_mask(cpu);
    uint32_t sp = (cpu->regs[R_ESP] - 4) & m;
    uint32_t lin = seg_lin_wr(cpu, op, R_SS, sp, 4);
    stw_lin(cpu, op, lin, cpu->segs[op->reg].selector);
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~m) | sp;
    NEXT(op);
}

Op *op_pop_seg_w(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & m;
    uint16_t sel = ldw_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 2));
    uint32_t old_esp = cpu->regs[R_ESP];
    load_seg(cpu, op, op->reg, sel);
    cpu->regs[R_ESP] = (old_esp & ~m) | ((sp + 2) & m);
    return after_seg_load(cpu, op, op->reg);
}

Op *op_pop_seg_l(CPUX86State *cpu, Op *op)
{
    uint32_t m = sp_mask(cpu);
    uint32_t sp = cpu->regs[R_ESP] & m;
    uint16_t sel = ldl_lin(cpu, op, seg_lin_rd(cpu, op, R_SS, sp, 4));
    uint32_t old_esp = cpu->regs[R_ESP];
    load_seg(cpu, op, op->reg, sel);
    cpu->regs[R_ESP] = (old_esp & ~m) | ((sp + 4) & m);
    return after_seg_load(cpu, op, op->reg);
}

Op *op_mov_from_seg_m(CPUX86State *cpu, Op *op) { ST_w(EA_WR(w), cpu->segs[op->reg].selector); NEXT(op); }
Op *op_mov_from_seg_r_w(CPUX86State *cpu, Op *op) { reg16_set(cpu, op->rm, cpu->segs[op->reg].selector); NEXT(op); }
Op *op_mov_from_seg_r_l(CPUX86State *cpu, Op *op) { cpu->regs[op->rm] = cpu->segs[op->reg].selector; NEXT(op); }

Op *op_mov_to_seg_r(CPUX86State *cpu, Op *op)
{
    load_seg(cpu, op, op->reg, cpu->regs[op->rm]);
    return after_seg_load(cpu, op, op->reg);
}

Op *op_mov_to_seg_m(CPUX86State *cpu, Op *op)
{
    load_seg(cpu, op, op->reg, LD_w(EA_RD(w)));
    return after_seg_load(cpu, op, op->reg);
}

/* LDS LES LSS LFS LGS: segment in imm2. */
Op *op_lxs(CPUX86State *cpu, Op *op)
{
    uint32_t ea = op_ea(cpu, op);
    bool o16 = op->flags & OPF_O16;
    uint32_t off;
    uint16_t sel;
    uint32_t mask = 0xffffffffu >> op->ashift;
    if (o16) {
        off = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 2));
        sel = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 2) & mask, 2));
    } else {
        off = ldl_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 4));
        sel = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 4) & mask, 2));
    }
    load_seg(cpu, op, op->imm2, sel);
    if (o16) {
        reg16_set(cpu, op->reg, off);
    } else {
        cpu->regs[op->reg] = off;
    }
    return after_seg_load(cpu, op, op->imm2);
}

/* ---- BOUND, ARPL ------------------------------------------------------------------ */

Op *op_bound_w(CPUX86State *cpu, Op *op)
{
    uint32_t ea = op_ea(cpu, op);
    int16_t lo = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 2));
    int16_t hi = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 2) & (0xffffffffu >> op->ashift), 2));
    int16_t v = cpu->regs[op->reg];
    if (v < lo || v > hi) {
        raise_exception(cpu, op, EXCP_BR);
    }
    NEXT(op);
}

Op *op_bound_l(CPUX86State *cpu, Op *op)
{
    uint32_t ea = op_ea(cpu, op);
    int32_t lo = ldl_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 4));
    int32_t hi = ldl_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 4) & (0xffffffffu >> op->ashift), 4));
    int32_t v = cpu->regs[op->reg];
    if (v < lo || v > hi) {
        raise_exception(cpu, op, EXCP_BR);
    }
    NEXT(op);
}

Op *op_arpl(CPUX86State *cpu, Op *op)
{
    uint16_t src = cpu->regs[op->reg];
    uint32_t lin = 0;
    uint16_t dst;
    if (op->flags & OPF_MEM) {
        lin = EA_WR(w);
        dst = LDW_w(lin);
    } else {
        dst = cpu->regs[op->rm];
    }
    uint32_t f = cc_compute_all(cpu) & ~CC_Z;
    if ((dst & 3) < (src & 3)) {
        dst = (dst & ~3) | (src & 3);
        f |= CC_Z;
        if (op->flags & OPF_MEM) {
            ST_w(lin, dst);
        } else {
            reg16_set(cpu, op->rm, dst);
        }
    }
    cc_set_eflags(cpu, f);
    NEXT(op);
}

/* ---- far transfers ------------------------------------------------------------------ */

Op *op_jmp_far(CPUX86State *cpu, Op *op)
{
    do_far_jmp(cpu, op, op->imm2, op->imm, op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_call_far(CPUX86State *cpu, Op *op)
{
    do_far_call(cpu, op, op->imm2, op->imm, !(op->flags & OPF_O16), op_next_eip(op));
    return leave_block(cpu, op);
}

static void read_far_ptr(CPUX86State *cpu, Op *op, uint16_t *sel, uint32_t *off)
{
    uint32_t ea = op_ea(cpu, op);
    uint32_t mask = 0xffffffffu >> op->ashift;
    if (op->flags & OPF_O16) {
        *off = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 2));
        *sel = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 2) & mask, 2));
    } else {
        *off = ldl_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, ea, 4));
        *sel = ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, (ea + 4) & mask, 2));
    }
}

Op *op_jmp_far_m(CPUX86State *cpu, Op *op)
{
    uint16_t sel;
    uint32_t off;
    read_far_ptr(cpu, op, &sel, &off);
    do_far_jmp(cpu, op, sel, off, op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_call_far_m(CPUX86State *cpu, Op *op)
{
    uint16_t sel;
    uint32_t off;
    read_far_ptr(cpu, op, &sel, &off);
    do_far_call(cpu, op, sel, off, !(op->flags & OPF_O16), op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_retf(CPUX86State *cpu, Op *op)
{
    do_far_ret(cpu, op, !(op->flags & OPF_O16), op->imm);
    return leave_block(cpu, op);
}

/* ---- interrupts -------------------------------------------------------------------- */

Op *op_int(CPUX86State *cpu, Op *op)
{
    if ((cpu->eflags & VM_MASK) && ((cpu->eflags & IOPL_MASK) >> IOPL_SHIFT) < 3) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    cpu->eip = op->eip;
    do_interrupt(cpu, op->imm, true, false, false, 0, op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_int3(CPUX86State *cpu, Op *op)
{
    cpu->eip = op->eip;
    do_interrupt(cpu, EXCP_BP, true, false, false, 0, op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_into(CPUX86State *cpu, Op *op)
{
    if (cc_compute_all(cpu) & CC_O) {
        cpu->eip = op->eip;
        do_interrupt(cpu, EXCP_OF, true, false, false, 0, op_next_eip(op));
        return leave_block(cpu, op);
    }
    return exit_block(cpu, op, op_next_eip(op));
}

/* ICEBP (F1): a #DB trap delivered like a hardware event (no DPL check). */
Op *op_icebp(CPUX86State *cpu, Op *op)
{
    cpu->eip = op->eip;
    cpu->dr[6] |= 0;
    do_interrupt(cpu, EXCP_DB, false, false, false, 0, op_next_eip(op));
    return leave_block(cpu, op);
}

Op *op_iret(CPUX86State *cpu, Op *op)
{
    do_iret(cpu, op, !(op->flags & OPF_O16));
    return leave_block(cpu, op);
}

Op *op_hlt(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    cpu->halted = true;
    return exit_block(cpu, op, op_next_eip(op));
}

/* CLI/STI: IOPL-sensitive in protected and V86 mode (no PVI/VME). */
static void check_iopl_if(CPUX86State *cpu, Op *op)
{
    if (!(cpu->hflags & HF_PE)) {
        return;
    }
    int iopl = (cpu->eflags & IOPL_MASK) >> IOPL_SHIFT;
    if ((cpu->eflags & VM_MASK) ? iopl < 3 : cpu->cpl > iopl) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
}

Op *op_cli(CPUX86State *cpu, Op *op)
{
    check_iopl_if(cpu, op);
    cpu->eflags &= ~IF_MASK;
    NEXT(op);
}

Op *op_sti(CPUX86State *cpu, Op *op)
{
    check_iopl_if(cpu, op);
    if (!(cpu->eflags & IF_MASK)) {
        cpu->irq_inhibit = true;
    }
    cpu->eflags |= IF_MASK;
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_wait(CPUX86State *cpu, Op *op)
{
    if ((cpu->cr[0] & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP)) {
        raise_exception(cpu, op, EXCP_NM);
    }
    fpu_check_pending(cpu, op);
    NEXT(op);
}

/* ---- I/O ------------------------------------------------------------------------- */

bool io_permitted(CPUX86State *cpu, Op *op, uint16_t port, unsigned size)
{
    if (!(cpu->hflags & HF_PE)) {
        return true;
    }
    int iopl = (cpu->eflags & IOPL_MASK) >> IOPL_SHIFT;
    if (!(cpu->eflags & VM_MASK) && cpu->cpl <= iopl) {
        return true;
    }
    /* Consult the I/O permission bitmap of a 32-bit TSS. */
    int type = (cpu->tr.flags >> DESC_TYPE_SHIFT) & 15;
    if (!(cpu->tr.flags & DESC_P) || (type != 9 && type != 11) || cpu->tr.limit < 0x67) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t base = sys_ld(cpu, op, cpu->tr.base + 0x66, 2);
    uint32_t off = base + (port >> 3);
    if (off + 1 > cpu->tr.limit) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t bits = sys_ld(cpu, op, cpu->tr.base + off, 2);
    uint32_t mask = ((1u << size) - 1) << (port & 7);
    if (bits & mask) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    return true;
}

static Op *do_in(CPUX86State *cpu, Op *op, uint16_t port)
{
    unsigned size = op->imm2;
    io_permitted(cpu, op, port, size);
    uint32_t v = address_space_read_sized(cpu->as_io, port, size);
    if (size == 1) {
        reg8_set(cpu, 0, v);
    } else if (size == 2) {
        reg16_set(cpu, R_EAX, v);
    } else {
        cpu->regs[R_EAX] = v;
    }
    NEXT(op);
}

static Op *do_out(CPUX86State *cpu, Op *op, uint16_t port)
{
    unsigned size = op->imm2;
    io_permitted(cpu, op, port, size);
    uint32_t v = cpu->regs[R_EAX] & (size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu);
    address_space_write_sized(cpu->as_io, port, v, size);
    /* A device may have asked the CPU to stop (debug exit, reset). */
    if (unlikely(cpu->exit_request)) {
        return exit_block(cpu, op, op_next_eip(op));
    }
    NEXT(op);
}

Op *op_in_imm(CPUX86State *cpu, Op *op) { return do_in(cpu, op, op->imm); }
Op *op_in_dx(CPUX86State *cpu, Op *op) { return do_in(cpu, op, cpu->regs[R_EDX]); }
Op *op_out_imm(CPUX86State *cpu, Op *op) { return do_out(cpu, op, op->imm); }
Op *op_out_dx(CPUX86State *cpu, Op *op) { return do_out(cpu, op, cpu->regs[R_EDX]); }

/* ---- descriptor tables --------------------------------------------------------------- */

static void store_sel(CPUX86State *cpu, Op *op, uint16_t sel)
{
    if (op->flags & OPF_MEM) {
        ST_w(EA_WR(w), sel);
    } else if (op->flags & OPF_O16) {
        reg16_set(cpu, op->rm, sel);
    } else {
        cpu->regs[op->rm] = sel;
    }
}

static uint16_t load_sel_operand(CPUX86State *cpu, Op *op)
{
    return (op->flags & OPF_MEM) ? LD_w(EA_RD(w)) : (uint16_t)cpu->regs[op->rm];
}

Op *op_sldt(CPUX86State *cpu, Op *op) { store_sel(cpu, op, cpu->ldt.selector); NEXT(op); }
Op *op_str(CPUX86State *cpu, Op *op) { store_sel(cpu, op, cpu->tr.selector); NEXT(op); }

Op *op_lldt(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    do_lldt(cpu, op, load_sel_operand(cpu, op));
    NEXT(op);
}

Op *op_ltr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    do_ltr(cpu, op, load_sel_operand(cpu, op));
    NEXT(op);
}

Op *op_verr(CPUX86State *cpu, Op *op)
{
    bool ok = do_verr_verw(cpu, op, load_sel_operand(cpu, op), false);
    cc_set_eflags(cpu, (cc_compute_all(cpu) & ~CC_Z) | (ok ? CC_Z : 0));
    NEXT(op);
}

Op *op_verw(CPUX86State *cpu, Op *op)
{
    bool ok = do_verr_verw(cpu, op, load_sel_operand(cpu, op), true);
    cc_set_eflags(cpu, (cc_compute_all(cpu) & ~CC_Z) | (ok ? CC_Z : 0));
    NEXT(op);
}

Op *op_lar_lsl(CPUX86State *cpu, Op *op)
{
    bool ok;
    uint32_t v = do_lar_lsl(cpu, op, load_sel_operand(cpu, op), op->imm, &ok);
    if (ok) {
        if (op->flags & OPF_O16) {
            reg16_set(cpu, op->reg, v);
        } else {
            cpu->regs[op->reg] = v;
        }
    }
    cc_set_eflags(cpu, (cc_compute_all(cpu) & ~CC_Z) | (ok ? CC_Z : 0));
    NEXT(op);
}

/* SGDT/SIDT (reg 0/1), LGDT/LIDT (reg 2/3). With a 16-bit operand the
 * base is 24 bits (the top byte stored as 0). */
Op *op_sxdt(CPUX86State *cpu, Op *op)
{
    SegmentCache *dt = op->reg == 0 ? &cpu->gdt : &cpu->idt;
    uint32_t ea = op_ea(cpu, op);
    uint32_t base = (op->flags & OPF_O16) ? dt->base & 0xffffff : dt->base;
    uint8_t buf[6];
    stw_le(buf, dt->limit);
    stl_le(buf + 2, base);
    mem_write_bytes(cpu, op, op->seg, ea, buf, 6);
    NEXT(op);
}

Op *op_lxdt(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    SegmentCache *dt = op->reg == 2 ? &cpu->gdt : &cpu->idt;
    uint8_t buf[6];
    mem_read_bytes(cpu, op, op->seg, op_ea(cpu, op), buf, 6);
    dt->limit = ldw_le(buf);
    dt->base = ldl_le(buf + 2);
    if (op->flags & OPF_O16) {
        dt->base &= 0xffffff;
    }
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_smsw(CPUX86State *cpu, Op *op)
{
    if (op->flags & OPF_MEM) {
        ST_w(EA_WR(w), cpu->cr[0]);
    } else if (op->flags & OPF_O16) {
        reg16_set(cpu, op->rm, cpu->cr[0]);
    } else {
        cpu->regs[op->rm] = cpu->cr[0];
    }
    NEXT(op);
}

Op *op_lmsw(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    uint16_t v = load_sel_operand(cpu, op);
    /* Changes PE (set only), MP, EM, TS. */
    uint32_t cr0 = (cpu->cr[0] & ~(CR0_MP | CR0_EM | CR0_TS)) | (v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS));
    cpu_write_cr0(cpu, op, cr0);
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_clts(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    cpu->cr[0] &= ~CR0_TS;
    cpu_update_hflags(cpu);
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_invlpg(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    tlb_flush_page(cpu, cpu->segs[op->seg].base + op_ea(cpu, op));
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_invd(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    NEXT(op);
}

/* ---- control and debug registers -------------------------------------------------------- */

Op *op_mov_from_cr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    int n = op->reg;
    if (n == 1 || n > 4) {
        raise_exception(cpu, op, EXCP_UD);
    }
    cpu->regs[op->rm] = cpu->cr[n];
    NEXT(op);
}

Op *op_mov_to_cr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    uint32_t v = cpu->regs[op->rm];
    switch (op->reg) {
    case 0: cpu_write_cr0(cpu, op, v); break;
    case 2: cpu->cr[2] = v; break;
    case 3: cpu_write_cr3(cpu, v); break;
    case 4: cpu_write_cr4(cpu, op, v); break;
    default: raise_exception(cpu, op, EXCP_UD);
    }
    return exit_block(cpu, op, op_next_eip(op));
}

static int dr_index(CPUX86State *cpu, Op *op, int n)
{
    if (n == 4 || n == 5) {
        if (cpu->cr[4] & CR4_DE) {
            raise_exception(cpu, op, EXCP_UD);
        }
        n += 2;
    }
    return n;
}

Op *op_mov_from_dr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    int n = dr_index(cpu, op, op->reg);
    uint32_t v = cpu->dr[n];
    if (n == 6) {
        v = (v & 0x0000e00f) | 0xffff0ff0;
    } else if (n == 7) {
        v = (v & 0xffff2bff) | 0x400;
    }
    cpu->regs[op->rm] = v;
    NEXT(op);
}

Op *op_mov_to_dr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    int n = dr_index(cpu, op, op->reg);
    cpu->dr[n] = cpu->regs[op->rm];
    cpu_update_hflags(cpu);
    return exit_block(cpu, op, op_next_eip(op));
}

/* ---- MSRs, TSC, CPUID ------------------------------------------------------------------- */

enum {
    MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_MTRR_CAP = 0xfe,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_PHYS_BASE0 = 0x200, MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K_C0000 = 0x268, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff,
};

static uint64_t *msr_mtrr_slot(CPUX86State *cpu, uint32_t idx)
{
    if (idx >= MSR_MTRR_PHYS_BASE0 && idx < MSR_MTRR_PHYS_BASE0 + 16) {
        return &cpu->mtrr_var[idx - MSR_MTRR_PHYS_BASE0];
    }
    if (idx == MSR_MTRR_FIX64K) {
        return &cpu->mtrr_fixed[0];
    }
    if (idx == MSR_MTRR_FIX16K_80000 || idx == MSR_MTRR_FIX16K_A0000) {
        return &cpu->mtrr_fixed[1 + idx - MSR_MTRR_FIX16K_80000];
    }
    if (idx >= MSR_MTRR_FIX4K_C0000 && idx < MSR_MTRR_FIX4K_C0000 + 8) {
        return &cpu->mtrr_fixed[3 + idx - MSR_MTRR_FIX4K_C0000];
    }
    return NULL;
}

bool cpu_msr_read(CPUX86State *cpu, uint32_t idx, uint64_t *v)
{
    uint64_t *slot;
    switch (idx) {
    case MSR_TSC: *v = cpu_read_tsc(cpu); return true;
    case MSR_APIC_BASE: *v = cpu->apic_base; return true;
    case MSR_MTRR_CAP: *v = cpu->mtrr_cap; return true;
    case MSR_SYSENTER_CS: *v = cpu->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = cpu->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = cpu->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *v = cpu->misc_enable; return true;
    case MSR_PAT: *v = cpu->pat; return true;
    case MSR_MTRR_DEF_TYPE: *v = cpu->mtrr_def_type; return true;
    }
    slot = msr_mtrr_slot(cpu, idx);
    if (slot) {
        *v = *slot;
        return true;
    }
    return false;
}

bool cpu_msr_write(CPUX86State *cpu, uint32_t idx, uint64_t v)
{
    uint64_t *slot;
    switch (idx) {
    case MSR_TSC: cpu->tsc_offset += v - cpu_read_tsc(cpu); return true;
    case MSR_APIC_BASE:
        /* Base and enable bit hold their value; BSP flag is read-only. */
        cpu->apic_base = (cpu->apic_base & 0x100) | (v & 0xfffff800ULL);
        return true;
    case MSR_SYSENTER_CS: cpu->sysenter_cs = (uint32_t)v; return true;
    case MSR_SYSENTER_ESP: cpu->sysenter_esp = (uint32_t)v; return true;
    case MSR_SYSENTER_EIP: cpu->sysenter_eip = (uint32_t)v; return true;
    case MSR_MISC_ENABLE: cpu->misc_enable = v; return true;
    case MSR_PAT: {
        /* Each byte must be a valid memory type (0,1,4,5,6,7). */
        for (int i = 0; i < 8; i++) {
            uint8_t t = v >> (8 * i);
            if (t > 7 || t == 2 || t == 3) {
                return false;
            }
        }
        cpu->pat = v;
        return true;
    }
    case MSR_MTRR_DEF_TYPE: cpu->mtrr_def_type = v & 0xcff; return true;
    case MSR_MTRR_CAP: return false;
    }
    slot = msr_mtrr_slot(cpu, idx);
    if (slot) {
        *slot = v;
        return true;
    }
    return false;
}

Op *op_rdmsr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    uint64_t v;
    if (!cpu_msr_read(cpu, cpu->regs[R_ECX], &v)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    cpu->regs[R_EAX] = (uint32_t)v;
    cpu->regs[R_EDX] = (uint32_t)(v >> 32);
    NEXT(op);
}

Op *op_wrmsr(CPUX86State *cpu, Op *op)
{
    require_cpl0(cpu, op);
    uint64_t v = ((uint64_t)cpu->regs[R_EDX] << 32) | cpu->regs[R_EAX];
    if (!cpu_msr_write(cpu, cpu->regs[R_ECX], v)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    return exit_block(cpu, op, op_next_eip(op));
}

Op *op_rdtsc(CPUX86State *cpu, Op *op)
{
    if ((cpu->cr[4] & CR4_TSD) && cpu->cpl != 0 && (cpu->hflags & HF_PE)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    /* Account for the instructions of this block run so far. */
    uint64_t t = cpu_read_tsc(cpu);
    cpu->regs[R_EAX] = (uint32_t)t;
    cpu->regs[R_EDX] = (uint32_t)(t >> 32);
    NEXT(op);
}

/* Two performance counters exist and never count. */
Op *op_rdpmc(CPUX86State *cpu, Op *op)
{
    if ((cpu->hflags & HF_PE) && cpu->cpl != 0 && !(cpu->cr[4] & CR4_PCE)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    if (cpu->regs[R_ECX] > 1) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    cpu->regs[R_EAX] = 0;
    cpu->regs[R_EDX] = 0;
    NEXT(op);
}

/* CPUID.1:EDX bits the integer core implements. */
enum {
    CPUID_DE = 1 << 2, CPUID_PSE = 1 << 3, CPUID_TSC = 1 << 4, CPUID_MSR = 1 << 5,
    CPUID_CX8 = 1 << 8, CPUID_SEP = 1 << 11, CPUID_MTRR = 1 << 12, CPUID_PGE = 1 << 13,
    CPUID_CMOV = 1 << 15, CPUID_PAT = 1 << 16,
};
#define CPUID_CORE_EDX (CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP | \
                        CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_PAT)

void cpu_cpuid(CPUX86State *cpu, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    static const char brand[48] = "minipc i686 CPU";
    uint32_t fpu_edx = fpu_cpuid_features_edx();
    *a = *b = *c = *d = 0;
    switch (leaf) {
    case 0:
        *a = 2;
        *b = 0x756e6547;   /* "GenuineIntel" */
        *d = 0x49656e69;
        *c = 0x6c65746e;
        break;
    case 1:
        /* Family 6; model 3 (Pentium II) if MMX is there, else model 1
         * (Pentium Pro); stepping 3. */
        *a = (6 << 8) | (((fpu_edx & (1 << 23)) ? 3 : 1) << 4) | 3;
        *d = CPUID_CORE_EDX | fpu_edx;
        *c = fpu_cpuid_features_ecx();
        break;
    case 2:
        /* One round; TLB and cache descriptors of a P6 with 512 KiB L2. */
        *a = 0x03020101;
        *d = 0x0c040843;
        break;
    case 0x80000000:
        *a = 0x80000004;
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        const char *p = brand + (leaf - 0x80000002) * 16;
        *a = ldl_le(p);
        *b = ldl_le(p + 4);
        *c = ldl_le(p + 8);
        *d = ldl_le(p + 12);
        break;
    }
    default:
        if (leaf < 0x80000000) {
            /* Above the maximum basic leaf: the highest basic leaf's data. */
            cpu_cpuid(cpu, 2, a, b, c, d);
        }
        break;
    }
}

Op *op_cpuid(CPUX86State *cpu, Op *op)
{
    uint32_t a, b, c, d;
    cpu_cpuid(cpu, cpu->regs[R_EAX], &a, &b, &c, &d);
    cpu->regs[R_EAX] = a;
    cpu->regs[R_EBX] = b;
    cpu->regs[R_ECX] = c;
    cpu->regs[R_EDX] = d;
    NEXT(op);
}

Op *op_sysenter(CPUX86State *cpu, Op *op)
{
    do_sysenter(cpu, op);
    return leave_block(cpu, op);
}

Op *op_sysexit(CPUX86State *cpu, Op *op)
{
    do_sysexit(cpu, op);
    return leave_block(cpu, op);
}
