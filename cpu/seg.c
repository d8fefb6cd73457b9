/*
 * Segmentation and privilege: segment register loads with descriptor
 * checks, far JMP/CALL/RET through call gates, IRET (to outer rings and
 * to V86), interrupt and exception delivery (real mode IVT, protected
 * mode IDT gates, task gates), task switches, LDTR/TR loads, LAR/LSL/
 * VERR/VERW, SYSENTER/SYSEXIT.
 *
 * Rule for precise faults: every check and every memory access that can
 * fault happens before the first architectural register changes. New
 * stack frames are written first (a fault there leaves the old state),
 * registers are committed last.
 */
#include "cpu-internal.h"
#include "util/log.h"

#define SEL_RPL(s) ((s) & 3)
#define SEL_TI 4

static inline uint32_t desc_base(uint32_t lo, uint32_t hi)
{
    return (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000u);
}

static inline uint32_t desc_limit(uint32_t hi, uint32_t lo)
{
    uint32_t l = (lo & 0xffff) | (hi & 0x000f0000u);
    return (hi & DESC_G) ? (l << 12) | 0xfff : l;
}

static inline int desc_dpl(uint32_t hi) { return (hi >> DESC_DPL_SHIFT) & 3; }
static inline int desc_type(uint32_t hi) { return (hi >> DESC_TYPE_SHIFT) & 15; }

void seg_cache_derive(SegmentCache *s, bool pm, int seg)
{
    bool present = !pm || (s->flags & DESC_P);
    bool code = (s->flags & DESC_S) && (s->flags & DESC_CODE);
    if (!present) {
        s->lo = 1;
        s->hi = 0;
        s->fast_rd = s->fast_wr = false;
        return;
    }
    if ((s->flags & DESC_S) && !code && (s->flags & DESC_E)) {
        s->lo = s->limit + 1;
        s->hi = (s->flags & DESC_B) ? 0xffffffffu : 0xffffu;
        if (s->limit == 0xffffffffu) {
            s->lo = 1;
            s->hi = 0;
        }
    } else {
        s->lo = 0;
        s->hi = s->limit;
    }
    bool flat = s->lo == 0 && s->hi == 0xffffffffu;
    if (!pm) {
        s->fast_rd = s->fast_wr = flat;
    } else {
        s->fast_rd = flat && (!code || (s->flags & DESC_R));
        s->fast_wr = flat && !code && (s->flags & DESC_W) && seg != R_CS;
    }
}

static bool cpu_pm(CPUX86State *cpu) { return (cpu->cr[0] & CR0_PE) && !(cpu->eflags & VM_MASK); }

static void seg_set(CPUX86State *cpu, int seg, uint16_t sel, uint32_t base, uint32_t limit, uint32_t flags)
{
    SegmentCache *s = &cpu->segs[seg];
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags & DESC_ATTR_MASK;
    seg_cache_derive(s, cpu_pm(cpu), seg);
}

void cpu_update_hflags(CPUX86State *cpu)
{
    uint32_t h = 0;
    if (cpu->segs[R_CS].flags & DESC_B) h |= HF_CODE32;
    if (cpu->segs[R_SS].flags & DESC_B) h |= HF_SS32;
    if (cpu->cr[0] & CR0_PE) h |= HF_PE;
    if (cpu->eflags & VM_MASK) {
        h |= HF_VM;
        h &= ~(HF_CODE32 | HF_SS32);
    }
    h |= (uint32_t)cpu->cpl << HF_CPL_SHIFT;
    if (cpu->cr[0] & CR0_EM) h |= HF_EM;
    if (cpu->cr[0] & CR0_TS) h |= HF_TS;
    if (cpu->cr[0] & CR0_MP) h |= HF_MP;
    if (cpu->eflags & TF_MASK) h |= HF_TF;
    if (cpu->cr[4] & CR4_OSFXSR) h |= HF_OSFXSR;
    /* Code breakpoints enabled in DR7 (L0-3/G0-3 with R/W = 00). */
    for (int i = 0; i < 4; i++) {
        if ((cpu->dr[7] >> (i * 2)) & 3 && ((cpu->dr[7] >> (16 + i * 4)) & 3) == 0) {
            h |= HF_DR;
        }
    }
    cpu->hflags = h;
    cpu_update_tlb_ptr(cpu);
    if (h & (HF_TF | HF_DR)) {
        cpu->exit_request = 1;
    }
}

void cpu_set_cpl(CPUX86State *cpu, int cpl)
{
    cpu->cpl = cpl;
    cpu_update_tlb_ptr(cpu);
    cpu_update_hflags(cpu);
}

void load_seg_vm(CPUX86State *cpu, int seg, uint16_t sel)
{
    SegmentCache *s = &cpu->segs[seg];
    s->selector = sel;
    s->base = (uint32_t)sel << 4;
    if (cpu->eflags & VM_MASK) {
        s->limit = 0xffff;
        s->flags = DESC_P | DESC_S | DESC_W | DESC_A | (3 << DESC_DPL_SHIFT) |
                   (seg == R_CS ? DESC_CODE | DESC_R : 0);
    } else if (!(s->flags & DESC_P)) {
        /* Real mode loads never fault; a segment left unusable by
         * protected mode becomes a normal 64 KiB one. */
        s->limit = 0xffff;
        s->flags = DESC_P | DESC_S | DESC_W | DESC_A | (seg == R_CS ? DESC_CODE | DESC_R : 0);
    }
    seg_cache_derive(s, false, seg);
    if (seg == R_SS || seg == R_CS) {
        cpu_update_hflags(cpu);
    }
}

/* Reads the 8-byte descriptor for sel; #GP(sel) (or vec) outside the table. */
static bool fetch_desc(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    const SegmentCache *dt = (sel & SEL_TI) ? &cpu->ldt : &cpu->gdt;
    uint32_t index = sel & ~7u;
    if ((sel & SEL_TI) && !(cpu->ldt.flags & DESC_P)) {
        return false;
    }
    if (index + 7 > dt->limit) {
        return false;
    }
    *lo = sys_ld(cpu, op, dt->base + index, 4);
    *hi = sys_ld(cpu, op, dt->base + index + 4, 4);
    return true;
}

static void load_desc(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t *lo, uint32_t *hi, int vec)
{
    if (!fetch_desc(cpu, op, sel, lo, hi)) {
        raise_exception_err(cpu, op, vec, sel & 0xfffc);
    }
}

static void set_accessed(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t hi)
{
    if (!(hi & DESC_A)) {
        const SegmentCache *dt = (sel & SEL_TI) ? &cpu->ldt : &cpu->gdt;
        sys_st(cpu, op, dt->base + (sel & ~7u) + 4, hi | DESC_A, 4);
    }
}

/* Checks for a data segment register load (DS ES FS GS, or SS when
 * is_ss); raises the fault with error code vec_err_base | sel. 'err_vec'
 * is #GP for normal loads and #TS inside task switches. */
static void check_data_seg(CPUX86State *cpu, Op *op, int seg, uint16_t sel, uint32_t hi,
                           int cpl, int err_vec)
{
    int dpl = desc_dpl(hi), rpl = SEL_RPL(sel);
    bool code = hi & DESC_CODE;
    if (!(hi & DESC_S)) {
        raise_exception_err(cpu, op, err_vec, sel & 0xfffc);
    }
    if (seg == R_SS) {
        if (code || !(hi & DESC_W) || rpl != cpl || dpl != cpl) {
            raise_exception_err(cpu, op, err_vec, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, err_vec == EXCP_GP ? EXCP_SS : err_vec, sel & 0xfffc);
        }
        return;
    }
    if (code && !(hi & DESC_R)) {
        raise_exception_err(cpu, op, err_vec, sel & 0xfffc);
    }
    if (!code || !(hi & DESC_C)) {
        if (rpl > dpl || cpl > dpl) {
            raise_exception_err(cpu, op, err_vec, sel & 0xfffc);
        }
    }
    if (!(hi & DESC_P)) {
        raise_exception_err(cpu, op, err_vec == EXCP_GP ? EXCP_NP : err_vec, sel & 0xfffc);
    }
}

void load_seg(CPUX86State *cpu, Op *op, int seg, uint16_t sel)
{
    if (!cpu_pm(cpu)) {
        load_seg_vm(cpu, seg, sel);
        return;
    }
    if ((sel & 0xfffc) == 0) {
        if (seg == R_SS) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        /* Null selector: loads fine, faults on use. */
        seg_set(cpu, seg, sel, 0, 0, 0);
        return;
    }
    uint32_t lo, hi;
    load_desc(cpu, op, sel, &lo, &hi, EXCP_GP);
    check_data_seg(cpu, op, seg, sel, hi, cpu->cpl, EXCP_GP);
    set_accessed(cpu, op, sel, hi);
    seg_set(cpu, seg, sel, desc_base(lo, hi), desc_limit(hi, lo), hi | DESC_A);
    if (seg == R_SS) {
        cpu_update_hflags(cpu);
    }
}

/* After a privilege drop (RET/IRET to an outer ring): data segments the
 * new CPL may not use become null. */
static void invalidate_outer_segs(CPUX86State *cpu)
{
    static const int segs[4] = { R_ES, R_DS, R_FS, R_GS };
    for (int i = 0; i < 4; i++) {
        SegmentCache *s = &cpu->segs[segs[i]];
        bool code = (s->flags & DESC_CODE);
        bool conforming = code && (s->flags & DESC_C);
        if ((s->flags & DESC_S) && !conforming && desc_dpl(s->flags) < cpu->cpl) {
            seg_set(cpu, segs[i], 0, 0, 0, 0);
        }
    }
}

static void load_cs(CPUX86State *cpu, uint16_t sel, uint32_t lo, uint32_t hi, int cpl)
{
    cpu->cpl = cpl;
    seg_set(cpu, R_CS, (sel & 0xfffc) | cpl, desc_base(lo, hi), desc_limit(hi, lo), hi | DESC_A);
    cpu_update_tlb_ptr(cpu);
    cpu_update_hflags(cpu);
}

/* Stack of a given privilege level from the current TSS. */
static void tss_stack(CPUX86State *cpu, Op *op, int dpl, uint16_t *ss, uint32_t *esp)
{
    int type = desc_type(cpu->tr.flags);
    if (!(cpu->tr.flags & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_TS, cpu->tr.selector & 0xfffc);
    }
    bool t32 = type & 8;
    uint32_t off = t32 ? dpl * 8 + 4 : dpl * 4 + 2;
    uint32_t size = t32 ? 8 : 4;
    if (off + size - 1 > cpu->tr.limit) {
        raise_exception_err(cpu, op, EXCP_TS, cpu->tr.selector & 0xfffc);
    }
    if (t32) {
        *esp = sys_ld(cpu, op, cpu->tr.base + off, 4);
        *ss = sys_ld(cpu, op, cpu->tr.base + off + 4, 2);
    } else {
        *esp = sys_ld(cpu, op, cpu->tr.base + off, 2);
        *ss = sys_ld(cpu, op, cpu->tr.base + off + 2, 2);
    }
}

/* Validates an inner-level stack segment from the TSS (#TS on failure)
 * and returns its descriptor. */
static void check_new_ss(CPUX86State *cpu, Op *op, uint16_t ss, int dpl, uint32_t *lo, uint32_t *hi)
{
    if ((ss & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_TS, 0);
    }
    if (!fetch_desc(cpu, op, ss, lo, hi)) {
        raise_exception_err(cpu, op, EXCP_TS, ss & 0xfffc);
    }
    if (SEL_RPL(ss) != dpl || desc_dpl(*hi) != dpl || !(*hi & DESC_S) || (*hi & DESC_CODE) ||
        !(*hi & DESC_W)) {
        raise_exception_err(cpu, op, EXCP_TS, ss & 0xfffc);
    }
    if (!(*hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_SS, ss & 0xfffc);
    }
}

/* A stack being built in registers-to-be: writes go to SS:ESP of the
 * new stack, which is committed only after all writes succeeded. */
typedef struct NewStack {
    uint32_t base, limit_lo, limit_hi, mask;
    uint32_t sp;
    int seg_for_checks;
    bool use_current_ss;
} NewStack;

static void ns_push(CPUX86State *cpu, Op *op, NewStack *ns, uint32_t v, bool b32, int err_vec,
                    uint16_t err_sel)
{
    unsigned n = b32 ? 4 : 2;
    uint32_t sp = (ns->sp - n) & ns->mask;
    if (ns->use_current_ss) {
        uint32_t lin = seg_lin_wr(cpu, op, R_SS, sp, n);
        if (b32) {
            sys_st(cpu, op, lin, v, 4);
        } else {
            sys_st(cpu, op, lin, v & 0xffff, 2);
        }
    } else {
        if (sp < ns->limit_lo || sp + n - 1 > ns->limit_hi) {
            raise_exception_err(cpu, op, err_vec, err_sel);
        }
        sys_st(cpu, op, ns->base + sp, b32 ? v : (v & 0xffff), n);
    }
    ns->sp = sp;
}

static void ns_init_from_desc(NewStack *ns, uint32_t lo, uint32_t hi, uint32_t esp)
{
    SegmentCache tmp = { .base = desc_base(lo, hi), .limit = desc_limit(hi, lo), .flags = hi & DESC_ATTR_MASK };
    seg_cache_derive(&tmp, true, R_SS);
    ns->base = tmp.base;
    ns->limit_lo = tmp.lo;
    ns->limit_hi = tmp.hi;
    ns->mask = (hi & DESC_B) ? 0xffffffffu : 0xffffu;
    ns->sp = esp;
    ns->use_current_ss = false;
}

static void ns_init_current(CPUX86State *cpu, NewStack *ns)
{
    ns->mask = sp_mask(cpu);
    ns->sp = cpu->regs[R_ESP];
    ns->use_current_ss = true;
}

static void commit_esp(CPUX86State *cpu, uint32_t sp, uint32_t mask)
{
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~mask) | (sp & mask);
}

/* ---- far JMP / CALL / RET ------------------------------------------------- */

void do_far_jmp(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t off, uint32_t next_eip)
{
    if (!cpu_pm(cpu)) {
        load_seg_vm(cpu, R_CS, sel);
        cpu->eip = (op->flags & OPF_O16) ? off & 0xffff : off;
        return;
    }
    if ((sel & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t lo, hi;
    load_desc(cpu, op, sel, &lo, &hi, EXCP_GP);
    int dpl = desc_dpl(hi), rpl = SEL_RPL(sel), cpl = cpu->cpl;
    if (hi & DESC_S) {
        if (!(hi & DESC_CODE)) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (hi & DESC_C) {
            if (dpl > cpl) raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        } else if (rpl > cpl || dpl != cpl) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
        }
        if (off > desc_limit(hi, lo)) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        set_accessed(cpu, op, sel, hi);
        load_cs(cpu, sel, lo, hi, cpl);
        cpu->eip = off;
        return;
    }
    int type = desc_type(hi);
    switch (type) {
    case 1: case 9:     /* available TSS */
    case 5:             /* task gate */
        if (dpl < cpl || dpl < rpl) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
        }
        do_task_switch(cpu, op, sel, lo, hi, TS_JMP, next_eip, false, 0);
        return;
    case 4: case 12: {  /* call gate */
        if (dpl < cpl || dpl < rpl) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
        }
        uint16_t csel = lo >> 16;
        uint32_t goff = (lo & 0xffff) | (type == 12 ? (hi & 0xffff0000u) : 0);
        uint32_t clo, chi;
        if ((csel & 0xfffc) == 0) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        load_desc(cpu, op, csel, &clo, &chi, EXCP_GP);
        int cdpl = desc_dpl(chi);
        if (!(chi & DESC_S) || !(chi & DESC_CODE) ||
            ((chi & DESC_C) ? cdpl > cpl : cdpl != cpl)) {
            raise_exception_err(cpu, op, EXCP_GP, csel & 0xfffc);
        }
        if (!(chi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, csel & 0xfffc);
        }
        if (goff > desc_limit(chi, clo)) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        set_accessed(cpu, op, csel, chi);
        load_cs(cpu, csel, clo, chi, cpl);
        cpu->eip = goff;
        return;
    }
    default:
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
}

void do_far_call(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t off, bool o32, uint32_t next_eip)
{
    uint16_t old_cs = cpu->segs[R_CS].selector;
    if (!cpu_pm(cpu)) {
        NewStack ns;
        ns_init_current(cpu, &ns);
        ns_push(cpu, op, &ns, old_cs, o32, EXCP_SS, 0);
        ns_push(cpu, op, &ns, next_eip, o32, EXCP_SS, 0);
        load_seg_vm(cpu, R_CS, sel);
        commit_esp(cpu, ns.sp, ns.mask);
        cpu->eip = o32 ? off : off & 0xffff;
        return;
    }
    if ((sel & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t lo, hi;
    load_desc(cpu, op, sel, &lo, &hi, EXCP_GP);
    int dpl = desc_dpl(hi), rpl = SEL_RPL(sel), cpl = cpu->cpl;
    if (hi & DESC_S) {
        if (!(hi & DESC_CODE)) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (hi & DESC_C) {
            if (dpl > cpl) raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        } else if (rpl > cpl || dpl != cpl) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
        }
        if (off > desc_limit(hi, lo)) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        NewStack ns;
        ns_init_current(cpu, &ns);
        ns_push(cpu, op, &ns, old_cs, o32, EXCP_SS, 0);
        ns_push(cpu, op, &ns, next_eip, o32, EXCP_SS, 0);
        set_accessed(cpu, op, sel, hi);
        load_cs(cpu, sel, lo, hi, cpl);
        commit_esp(cpu, ns.sp, ns.mask);
        cpu->eip = off;
        return;
    }
    int type = desc_type(hi);
    switch (type) {
    case 1: case 9: case 5:
        if (dpl < cpl || dpl < rpl) {
            raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
        }
        do_task_switch(cpu, op, sel, lo, hi, TS_CALL, next_eip, false, 0);
        return;
    case 4: case 12:
        break;
    default:
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    /* Call gate. */
    if (dpl < cpl || dpl < rpl) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    bool g32 = type == 12;
    uint16_t csel = lo >> 16;
    uint32_t goff = (lo & 0xffff) | (g32 ? (hi & 0xffff0000u) : 0);
    int nparams = hi & 31;
    if ((csel & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t clo, chi;
    load_desc(cpu, op, csel, &clo, &chi, EXCP_GP);
    int cdpl = desc_dpl(chi);
    if (!(chi & DESC_S) || !(chi & DESC_CODE) || cdpl > cpl) {
        raise_exception_err(cpu, op, EXCP_GP, csel & 0xfffc);
    }
    if (!(chi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_NP, csel & 0xfffc);
    }
    if (goff > desc_limit(chi, clo)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    if (!(chi & DESC_C) && cdpl < cpl) {
        /* More privileged: switch to the TSS stack of ring cdpl. */
        uint16_t ss;
        uint32_t esp, slo, shi;
        tss_stack(cpu, op, cdpl, &ss, &esp);
        check_new_ss(cpu, op, ss, cdpl, &slo, &shi);
        NewStack ns;
        ns_init_from_desc(&ns, slo, shi, esp);
        uint16_t err = ss & 0xfffc;
        ns_push(cpu, op, &ns, cpu->segs[R_SS].selector, g32, EXCP_SS, err);
        ns_push(cpu, op, &ns, cpu->regs[R_ESP], g32, EXCP_SS, err);
        /* Copy parameters from the caller's stack. */
        uint32_t m = sp_mask(cpu);
        for (int i = nparams - 1; i >= 0; i--) {
            uint32_t a = (cpu->regs[R_ESP] + i * (g32 ? 4 : 2)) & m;
            uint32_t v = sys_ld(cpu, op, seg_lin_rd(cpu, op, R_SS, a, g32 ? 4 : 2), g32 ? 4 : 2);
            ns_push(cpu, op, &ns, v, g32, EXCP_SS, err);
        }
        ns_push(cpu, op, &ns, old_cs, g32, EXCP_SS, err);
        ns_push(cpu, op, &ns, next_eip, g32, EXCP_SS, err);
        set_accessed(cpu, op, csel, chi);
        set_accessed(cpu, op, ss, shi);
        /* Commit. */
        load_cs(cpu, csel, clo, chi, cdpl);
        seg_set(cpu, R_SS, (ss & 0xfffc) | cdpl, desc_base(slo, shi), desc_limit(shi, slo), shi | DESC_A);
        cpu_update_hflags(cpu);
        commit_esp(cpu, ns.sp, ns.mask);
        cpu->eip = goff;
        return;
    }
    NewStack ns;
    ns_init_current(cpu, &ns);
    ns_push(cpu, op, &ns, old_cs, g32, EXCP_SS, 0);
    ns_push(cpu, op, &ns, next_eip, g32, EXCP_SS, 0);
    set_accessed(cpu, op, csel, chi);
    load_cs(cpu, csel, clo, chi, cpl);
    commit_esp(cpu, ns.sp, ns.mask);
    cpu->eip = goff;
}

static uint32_t stack_read(CPUX86State *cpu, Op *op, uint32_t off, bool b32)
{
    uint32_t sp = (cpu->regs[R_ESP] + off) & sp_mask(cpu);
    uint32_t lin = seg_lin_rd(cpu, op, R_SS, sp, b32 ? 4 : 2);
    return b32 ? sys_ld(cpu, op, lin, 4) : sys_ld(cpu, op, lin, 2);
}

/* Validates a code segment for RET/IRET to privilege rpl (>= CPL). */
static void check_ret_cs(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t *lo, uint32_t *hi)
{
    if ((sel & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    load_desc(cpu, op, sel, lo, hi, EXCP_GP);
    int rpl = SEL_RPL(sel), dpl = desc_dpl(*hi);
    if (!(*hi & DESC_S) || !(*hi & DESC_CODE) || rpl < cpu->cpl) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if ((*hi & DESC_C) ? dpl > rpl : dpl != rpl) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(*hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
    }
}

static void check_ret_ss(CPUX86State *cpu, Op *op, uint16_t ss, int rpl, uint32_t *lo, uint32_t *hi)
{
    if ((ss & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    load_desc(cpu, op, ss, lo, hi, EXCP_GP);
    if (SEL_RPL(ss) != rpl || desc_dpl(*hi) != rpl || !(*hi & DESC_S) || (*hi & DESC_CODE) ||
        !(*hi & DESC_W)) {
        raise_exception_err(cpu, op, EXCP_GP, ss & 0xfffc);
    }
    if (!(*hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_SS, ss & 0xfffc);
    }
}

void do_far_ret(CPUX86State *cpu, Op *op, bool o32, uint16_t extra)
{
    int n = o32 ? 4 : 2;
    uint32_t eip = stack_read(cpu, op, 0, o32);
    uint16_t sel = stack_read(cpu, op, n, o32);
    uint32_t m = sp_mask(cpu);
    if (!cpu_pm(cpu)) {
        load_seg_vm(cpu, R_CS, sel);
        commit_esp(cpu, cpu->regs[R_ESP] + 2 * n + extra, m);
        cpu->eip = o32 ? eip : eip & 0xffff;
        return;
    }
    uint32_t lo, hi;
    check_ret_cs(cpu, op, sel, &lo, &hi);
    int rpl = SEL_RPL(sel);
    if (eip > desc_limit(hi, lo)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    if (rpl == cpu->cpl) {
        load_cs(cpu, sel, lo, hi, rpl);
        commit_esp(cpu, cpu->regs[R_ESP] + 2 * n + extra, m);
        cpu->eip = eip;
        return;
    }
    /* Return to an outer ring: new SS:ESP above the parameters. */
    uint32_t esp = stack_read(cpu, op, 2 * n + extra, o32);
    uint16_t ss = stack_read(cpu, op, 3 * n + extra, o32);
    uint32_t slo, shi;
    check_ret_ss(cpu, op, ss, rpl, &slo, &shi);
    set_accessed(cpu, op, sel, hi);
    set_accessed(cpu, op, ss, shi);
    load_cs(cpu, sel, lo, hi, rpl);
    seg_set(cpu, R_SS, ss, desc_base(slo, shi), desc_limit(shi, slo), shi | DESC_A);
    cpu_update_hflags(cpu);
    uint32_t nm = (shi & DESC_B) ? 0xffffffffu : 0xffffu;
    commit_esp(cpu, esp + extra, nm);
    cpu->eip = eip;
    invalidate_outer_segs(cpu);
}

/* ---- IRET ------------------------------------------------------------------------ */

void cpu_set_eflags_checked(CPUX86State *cpu, uint32_t v, uint32_t mask)
{
    cpu_set_eflags(cpu, v, mask);
    cpu_update_hflags(cpu);
}

void do_iret(CPUX86State *cpu, Op *op, bool o32)
{
    int n = o32 ? 4 : 2;
    uint32_t m = sp_mask(cpu);
    if (!(cpu->cr[0] & CR0_PE) || (cpu->eflags & VM_MASK)) {
        if ((cpu->eflags & VM_MASK) && ((cpu->eflags & IOPL_MASK) >> IOPL_SHIFT) < 3) {
            raise_exception_err(cpu, op, EXCP_GP, 0);
        }
        uint32_t eip = stack_read(cpu, op, 0, o32);
        uint16_t cs = stack_read(cpu, op, n, o32);
        uint32_t fl = stack_read(cpu, op, 2 * n, o32);
        if ((cpu->eflags & VM_MASK) && !o32) {
            /* nothing extra */
        }
        load_seg_vm(cpu, R_CS, cs);
        commit_esp(cpu, cpu->regs[R_ESP] + 3 * n, m);
        cpu->eip = o32 ? eip : eip & 0xffff;
        uint32_t mask = CC_MASK | TF_MASK | DF_MASK | IF_MASK | NT_MASK | AC_MASK | ID_MASK | IOPL_MASK;
        if (cpu->eflags & VM_MASK) {
            mask &= ~IOPL_MASK;
        }
        if (!o32) {
            mask &= 0xffff;
        }
        cpu_set_eflags_checked(cpu, fl, mask);
        cpu->nmi_blocked = false;
        return;
    }
    if (cpu->eflags & NT_MASK) {
        /* Return from a nested task: the back link of the current TSS. */
        uint16_t link = sys_ld(cpu, op, cpu->tr.base, 2);
        if (link & SEL_TI) {
            raise_exception_err(cpu, op, EXCP_TS, link & 0xfffc);
        }
        uint32_t lo, hi;
        if (!fetch_desc(cpu, op, link, &lo, &hi)) {
            raise_exception_err(cpu, op, EXCP_TS, link & 0xfffc);
        }
        int type = desc_type(hi);
        if ((hi & DESC_S) || (type != 3 && type != 11)) {
            raise_exception_err(cpu, op, EXCP_TS, link & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, link & 0xfffc);
        }
        do_task_switch(cpu, op, link, lo, hi, TS_IRET, op_next_eip(op), false, 0);
        cpu->nmi_blocked = false;
        return;
    }
    uint32_t eip = stack_read(cpu, op, 0, o32);
    uint16_t sel = stack_read(cpu, op, n, o32);
    uint32_t fl = stack_read(cpu, op, 2 * n, o32);
    if (o32 && (fl & VM_MASK) && cpu->cpl == 0) {
        /* Return to virtual-8086 mode. */
        uint32_t esp = stack_read(cpu, op, 12, true);
        uint16_t ss = stack_read(cpu, op, 16, true);
        uint16_t es = stack_read(cpu, op, 20, true);
        uint16_t ds = stack_read(cpu, op, 24, true);
        uint16_t fs = stack_read(cpu, op, 28, true);
        uint16_t gs = stack_read(cpu, op, 32, true);
        cpu_set_eflags(cpu, fl, 0x3f7fd5 & ~0);   /* all architectural bits incl. VM */
        cpu->eflags |= VM_MASK;
        cpu->cpl = 3;
        load_seg_vm(cpu, R_CS, sel);
        load_seg_vm(cpu, R_SS, ss);
        load_seg_vm(cpu, R_ES, es);
        load_seg_vm(cpu, R_DS, ds);
        load_seg_vm(cpu, R_FS, fs);
        load_seg_vm(cpu, R_GS, gs);
        cpu->regs[R_ESP] = esp;
        cpu->eip = eip & 0xffff;
        cpu_set_cpl(cpu, 3);
        cpu->nmi_blocked = false;
        return;
    }
    uint32_t lo, hi;
    check_ret_cs(cpu, op, sel, &lo, &hi);
    int rpl = SEL_RPL(sel);
    if (eip > desc_limit(hi, lo)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    int old_cpl = cpu->cpl;
    int iopl = (cpu->eflags & IOPL_MASK) >> IOPL_SHIFT;
    uint32_t mask = CC_MASK | TF_MASK | DF_MASK | NT_MASK | AC_MASK | ID_MASK | RF_MASK;
    if (old_cpl <= iopl) {
        mask |= IF_MASK;
    }
    if (old_cpl == 0) {
        mask |= IOPL_MASK | VIF_MASK | VIP_MASK;
    }
    if (!o32) {
        mask &= 0xffff;
    }
    if (rpl == old_cpl) {
        set_accessed(cpu, op, sel, hi);
        load_cs(cpu, sel, lo, hi, rpl);
        commit_esp(cpu, cpu->regs[R_ESP] + 3 * n, m);
        cpu->eip = eip;
        cpu_set_eflags_checked(cpu, fl, mask);
        cpu->nmi_blocked = false;
        return;
    }
    uint32_t esp = stack_read(cpu, op, 3 * n, o32);
    uint16_t ss = stack_read(cpu, op, 4 * n, o32);
    uint32_t slo, shi;
    check_ret_ss(cpu, op, ss, rpl, &slo, &shi);
    set_accessed(cpu, op, sel, hi);
    set_accessed(cpu, op, ss, shi);
    load_cs(cpu, sel, lo, hi, rpl);
    seg_set(cpu, R_SS, ss, desc_base(slo, shi), desc_limit(shi, slo), shi | DESC_A);
    uint32_t nm = (shi & DESC_B) ? 0xffffffffu : 0xffffu;
    cpu->regs[R_ESP] = (cpu->regs[R_ESP] & ~nm) | (esp & nm);
    cpu->eip = eip;
    cpu_set_eflags_checked(cpu, fl, mask);
    invalidate_outer_segs(cpu);
    cpu->nmi_blocked = false;
}

/* ---- interrupts and exceptions ------------------------------------------------------ */

static void do_interrupt_real(CPUX86State *cpu, int vec, uint32_t next_eip)
{
    if ((uint32_t)vec * 4 + 3 > cpu->idt.limit) {
        raise_exception_err(cpu, NULL, EXCP_GP, vec * 8 + 2);
    }
    uint32_t ent = sys_ld(cpu, NULL, cpu->idt.base + vec * 4, 4);
    NewStack ns;
    ns_init_current(cpu, &ns);
    ns_push(cpu, NULL, &ns, cpu_get_eflags(cpu), false, EXCP_SS, 0);
    ns_push(cpu, NULL, &ns, cpu->segs[R_CS].selector, false, EXCP_SS, 0);
    ns_push(cpu, NULL, &ns, next_eip, false, EXCP_SS, 0);
    commit_esp(cpu, ns.sp, ns.mask);
    load_seg_vm(cpu, R_CS, ent >> 16);
    cpu->eip = ent & 0xffff;
    cpu->eflags &= ~(IF_MASK | TF_MASK | AC_MASK | RF_MASK);
    cpu_update_hflags(cpu);
}

void do_interrupt(CPUX86State *cpu, int vec, bool is_sw, bool ext,
                  bool has_err, uint32_t err, uint32_t next_eip)
{
    /* For exceptions (faults) next_eip is the faulting EIP. */
    if (!(cpu->cr[0] & CR0_PE)) {
        do_interrupt_real(cpu, vec, next_eip);
        return;
    }
    uint32_t ext_bit = ext ? 1 : 0;
    if ((uint32_t)vec * 8 + 7 > cpu->idt.limit) {
        raise_exception_err(cpu, NULL, EXCP_GP, vec * 8 + 2 + ext_bit);
    }
    uint32_t lo = sys_ld(cpu, NULL, cpu->idt.base + vec * 8, 4);
    uint32_t hi = sys_ld(cpu, NULL, cpu->idt.base + vec * 8 + 4, 4);
    int type = desc_type(hi);
    int dpl = desc_dpl(hi);
    int cpl = cpu->cpl;
    if ((hi & DESC_S) || (type != 5 && type != 6 && type != 7 && type != 14 && type != 15)) {
        raise_exception_err(cpu, NULL, EXCP_GP, vec * 8 + 2 + ext_bit);
    }
    if (is_sw && dpl < cpl) {
        raise_exception_err(cpu, NULL, EXCP_GP, vec * 8 + 2);
    }
    if (!(hi & DESC_P)) {
        raise_exception_err(cpu, NULL, EXCP_NP, vec * 8 + 2 + ext_bit);
    }
    if (type == 5) {
        uint16_t tsel = lo >> 16;
        uint32_t tlo, thi;
        if (tsel & SEL_TI) {
            raise_exception_err(cpu, NULL, EXCP_TS, tsel & 0xfffc);
        }
        if (!fetch_desc(cpu, NULL, tsel, &tlo, &thi)) {
            raise_exception_err(cpu, NULL, EXCP_TS, (tsel & 0xfffc) | ext_bit);
        }
        int tt = desc_type(thi);
        if ((thi & DESC_S) || (tt != 1 && tt != 9)) {
            raise_exception_err(cpu, NULL, EXCP_TS, (tsel & 0xfffc) | ext_bit);
        }
        if (!(thi & DESC_P)) {
            raise_exception_err(cpu, NULL, EXCP_NP, (tsel & 0xfffc) | ext_bit);
        }
        do_task_switch(cpu, NULL, tsel, tlo, thi, TS_INT, next_eip, has_err, err);
        return;
    }
    bool g32 = type >= 14;
    bool trap = type & 1;
    uint16_t csel = lo >> 16;
    uint32_t off = (lo & 0xffff) | (g32 ? (hi & 0xffff0000u) : 0);
    if ((csel & 0xfffc) == 0) {
        raise_exception_err(cpu, NULL, EXCP_GP, ext_bit);
    }
    uint32_t clo, chi;
    if (!fetch_desc(cpu, NULL, csel, &clo, &chi)) {
        raise_exception_err(cpu, NULL, EXCP_GP, (csel & 0xfffc) | ext_bit);
    }
    int cdpl = desc_dpl(chi);
    if (!(chi & DESC_S) || !(chi & DESC_CODE) || cdpl > cpl) {
        raise_exception_err(cpu, NULL, EXCP_GP, (csel & 0xfffc) | ext_bit);
    }
    if (!(chi & DESC_P)) {
        raise_exception_err(cpu, NULL, EXCP_NP, (csel & 0xfffc) | ext_bit);
    }
    if (off > desc_limit(chi, clo)) {
        raise_exception_err(cpu, NULL, EXCP_GP, ext_bit);
    }
    uint32_t eflags = cpu_get_eflags(cpu);
    bool from_vm = eflags & VM_MASK;
    int new_cpl = (chi & DESC_C) ? cpl : cdpl;
    if (from_vm && new_cpl != 0) {
        /* V86 interrupts must go to a ring-0 nonconforming handler. */
        raise_exception_err(cpu, NULL, EXCP_GP, (csel & 0xfffc) | ext_bit);
    }
    NewStack ns;
    uint16_t ss = 0;
    uint32_t slo = 0, shi = 0;
    bool stack_switch = new_cpl < cpl;
    if (stack_switch) {
        uint32_t esp;
        tss_stack(cpu, NULL, new_cpl, &ss, &esp);
        if ((ss & 0xfffc) == 0) {
            raise_exception_err(cpu, NULL, EXCP_TS, ext_bit);
        }
        if (!fetch_desc(cpu, NULL, ss, &slo, &shi)) {
            raise_exception_err(cpu, NULL, EXCP_TS, (ss & 0xfffc) | ext_bit);
        }
        if (SEL_RPL(ss) != new_cpl || desc_dpl(shi) != new_cpl || !(shi & DESC_S) ||
            (shi & DESC_CODE) || !(shi & DESC_W)) {
            raise_exception_err(cpu, NULL, EXCP_TS, (ss & 0xfffc) | ext_bit);
        }
        if (!(shi & DESC_P)) {
            raise_exception_err(cpu, NULL, EXCP_SS, (ss & 0xfffc) | ext_bit);
        }
        ns_init_from_desc(&ns, slo, shi, esp);
        uint16_t e = (ss & 0xfffc) | ext_bit;
        if (from_vm) {
            ns_push(cpu, NULL, &ns, cpu->segs[R_GS].selector, g32, EXCP_SS, e);
            ns_push(cpu, NULL, &ns, cpu->segs[R_FS].selector, g32, EXCP_SS, e);
            ns_push(cpu, NULL, &ns, cpu->segs[R_DS].selector, g32, EXCP_SS, e);
            ns_push(cpu, NULL, &ns, cpu->segs[R_ES].selector, g32, EXCP_SS, e);
        }
        ns_push(cpu, NULL, &ns, cpu->segs[R_SS].selector, g32, EXCP_SS, e);
        ns_push(cpu, NULL, &ns, cpu->regs[R_ESP], g32, EXCP_SS, e);
        ns_push(cpu, NULL, &ns, eflags, g32, EXCP_SS, e);
        ns_push(cpu, NULL, &ns, cpu->segs[R_CS].selector, g32, EXCP_SS, e);
        ns_push(cpu, NULL, &ns, next_eip, g32, EXCP_SS, e);
        if (has_err) {
            ns_push(cpu, NULL, &ns, err, g32, EXCP_SS, e);
        }
    } else {
        if (from_vm) {
            raise_exception_err(cpu, NULL, EXCP_GP, (csel & 0xfffc) | ext_bit);
        }
        ns_init_current(cpu, &ns);
        ns_push(cpu, NULL, &ns, eflags, g32, EXCP_SS, ext_bit);
        ns_push(cpu, NULL, &ns, cpu->segs[R_CS].selector, g32, EXCP_SS, ext_bit);
        ns_push(cpu, NULL, &ns, next_eip, g32, EXCP_SS, ext_bit);
        if (has_err) {
            ns_push(cpu, NULL, &ns, err, g32, EXCP_SS, ext_bit);
        }
    }
    /* Commit. */
    if (stack_switch) {
        set_accessed(cpu, NULL, ss, shi);
    }
    set_accessed(cpu, NULL, csel, chi);
    cpu->eflags &= ~(TF_MASK | VM_MASK | RF_MASK | NT_MASK);
    if (!trap) {
        cpu->eflags &= ~IF_MASK;
    }
    if (from_vm) {
        cpu->cpl = 0;
        seg_set(cpu, R_ES, 0, 0, 0, 0);
        seg_set(cpu, R_DS, 0, 0, 0, 0);
        seg_set(cpu, R_FS, 0, 0, 0, 0);
        seg_set(cpu, R_GS, 0, 0, 0, 0);
    }
    load_cs(cpu, csel, clo, chi, new_cpl);
    if (stack_switch) {
        seg_set(cpu, R_SS, (ss & 0xfffc) | new_cpl, desc_base(slo, shi), desc_limit(shi, slo), shi | DESC_A);
        cpu->regs[R_ESP] = (ns.mask == 0xffffffffu) ? ns.sp : ((cpu->regs[R_ESP] & 0xffff0000u) | (ns.sp & 0xffff));
    } else {
        commit_esp(cpu, ns.sp, ns.mask);
    }
    cpu->eip = off;
    cpu_update_hflags(cpu);
}

/* ---- task switch ------------------------------------------------------------------- */

static void set_tss_busy(CPUX86State *cpu, Op *op, uint16_t sel, bool busy)
{
    uint32_t addr = cpu->gdt.base + (sel & ~7u) + 4;
    uint32_t hi = sys_ld(cpu, op, addr, 4);
    hi = busy ? (hi | (2 << DESC_TYPE_SHIFT)) : (hi & ~(2u << DESC_TYPE_SHIFT));
    sys_st(cpu, op, addr, hi, 4);
}

void do_task_switch(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t lo, uint32_t hi,
                    int source, uint32_t next_eip, bool has_err, uint32_t err)
{
    log_mask_printf(LOG_PCALL, "task switch to %04x (source %d)\n", sel, source);
    if (desc_type(hi) == 5) {
        /* Task gate: the TSS selector it names. */
        uint16_t tsel = lo >> 16;
        if (tsel & SEL_TI) {
            raise_exception_err(cpu, op, EXCP_GP, tsel & 0xfffc);
        }
        load_desc(cpu, op, tsel, &lo, &hi, EXCP_GP);
        int tt = desc_type(hi);
        if ((hi & DESC_S) || (tt != 1 && tt != 9)) {
            raise_exception_err(cpu, op, EXCP_GP, tsel & 0xfffc);
        }
        if (!(hi & DESC_P)) {
            raise_exception_err(cpu, op, EXCP_NP, tsel & 0xfffc);
        }
        sel = tsel;
    }
    int type = desc_type(hi);
    bool new32 = type & 8;
    uint32_t nbase = desc_base(lo, hi), nlimit = desc_limit(hi, lo);
    if (nlimit < (new32 ? 0x67u : 0x2bu)) {
        raise_exception_err(cpu, op, EXCP_TS, sel & 0xfffc);
    }
    bool busy = type & 2;
    if (source == TS_IRET ? !busy : busy) {
        raise_exception_err(cpu, op, source == TS_IRET ? EXCP_TS : EXCP_GP, sel & 0xfffc);
    }
    int otype = desc_type(cpu->tr.flags);
    bool old32 = otype & 8;
    uint32_t obase = cpu->tr.base;
    if (cpu->tr.limit < (old32 ? 0x5fu : 0x29u)) {
        raise_exception_err(cpu, op, EXCP_TS, cpu->tr.selector & 0xfffc);
    }

    /* Read the whole new TSS first (faults happen in the old task). */
    uint32_t n_cr3 = 0, n_eip, n_eflags, n_regs[8];
    uint16_t n_segs[6], n_ldt;
    if (new32) {
        n_cr3 = sys_ld(cpu, op, nbase + 0x1c, 4);
        n_eip = sys_ld(cpu, op, nbase + 0x20, 4);
        n_eflags = sys_ld(cpu, op, nbase + 0x24, 4);
        for (int i = 0; i < 8; i++) {
            n_regs[i] = sys_ld(cpu, op, nbase + 0x28 + 4 * i, 4);
        }
        for (int i = 0; i < 6; i++) {
            n_segs[i] = sys_ld(cpu, op, nbase + 0x48 + 4 * i, 2);
        }
        n_ldt = sys_ld(cpu, op, nbase + 0x60, 2);
    } else {
        n_eip = sys_ld(cpu, op, nbase + 0x0e, 2);
        n_eflags = sys_ld(cpu, op, nbase + 0x10, 2);
        for (int i = 0; i < 8; i++) {
            n_regs[i] = sys_ld(cpu, op, nbase + 0x12 + 2 * i, 2) | 0xffff0000u;
        }
        for (int i = 0; i < 4; i++) {
            n_segs[i] = sys_ld(cpu, op, nbase + 0x22 + 2 * i, 2);
        }
        n_segs[R_FS] = n_segs[R_GS] = 0;
        n_ldt = sys_ld(cpu, op, nbase + 0x2a, 2);
    }
    /* Probe the link field for writing. */
    sys_st(cpu, op, nbase, sys_ld(cpu, op, nbase, 2), 2);

    /* Save the outgoing state into the old TSS. */
    uint32_t eflags = cpu_get_eflags(cpu);
    if (source == TS_JMP || source == TS_IRET) {
        set_tss_busy(cpu, op, cpu->tr.selector, false);
    }
    if (source == TS_IRET) {
        eflags &= ~NT_MASK;
    }
    if (old32) {
        sys_st(cpu, op, obase + 0x20, next_eip, 4);
        sys_st(cpu, op, obase + 0x24, eflags, 4);
        for (int i = 0; i < 8; i++) {
            sys_st(cpu, op, obase + 0x28 + 4 * i, cpu->regs[i], 4);
        }
        for (int i = 0; i < 6; i++) {
            sys_st(cpu, op, obase + 0x48 + 4 * i, cpu->segs[i].selector, 2);
        }
    } else {
        sys_st(cpu, op, obase + 0x0e, next_eip, 2);
        sys_st(cpu, op, obase + 0x10, eflags, 2);
        for (int i = 0; i < 8; i++) {
            sys_st(cpu, op, obase + 0x12 + 2 * i, cpu->regs[i], 2);
        }
        for (int i = 0; i < 4; i++) {
            sys_st(cpu, op, obase + 0x22 + 2 * i, cpu->segs[i].selector, 2);
        }
    }
    if (source == TS_CALL || source == TS_INT) {
        sys_st(cpu, op, nbase, cpu->tr.selector, 2);
        n_eflags |= NT_MASK;
    }
    if (source != TS_IRET) {
        set_tss_busy(cpu, op, sel, true);
        hi |= 2 << DESC_TYPE_SHIFT;
    }

    /* Switch: from here on faults belong to the new task. */
    cpu->tr.selector = sel;
    cpu->tr.base = nbase;
    cpu->tr.limit = nlimit;
    cpu->tr.flags = hi & DESC_ATTR_MASK;
    cpu->cr[0] |= CR0_TS;
    if (new32 && (cpu->cr[0] & CR0_PG) && n_cr3 != cpu->cr[3]) {
        cpu_write_cr3(cpu, n_cr3);
    }
    for (int i = 0; i < 8; i++) {
        cpu->regs[i] = new32 ? n_regs[i] : ((cpu->regs[i] & 0xffff0000u) | (n_regs[i] & 0xffff));
    }
    cpu->eip = new32 ? n_eip : (n_eip & 0xffff);
    uint32_t fmask = new32 ? 0x3f7fd5u | VM_MASK : 0xffffu;
    cpu_set_eflags(cpu, n_eflags, fmask);
    /* Selectors first (so an exception handler sees them), then the
     * descriptors with full checks. */
    for (int i = 0; i < 6; i++) {
        cpu->segs[i].selector = n_segs[i];
    }
    cpu->ldt.selector = n_ldt;
    cpu->ldt.flags = 0;
    if (cpu->eflags & VM_MASK) {
        cpu->cpl = 3;
        for (int i = 0; i < 6; i++) {
            load_seg_vm(cpu, i, n_segs[i]);
        }
        cpu_set_cpl(cpu, 3);
    } else {
        int ncpl = SEL_RPL(n_segs[R_CS]);
        cpu->cpl = ncpl;
        cpu_update_tlb_ptr(cpu);
        /* LDT */
        if ((n_ldt & 0xfffc) != 0) {
            uint32_t llo, lhi;
            if ((n_ldt & SEL_TI) || !fetch_desc(cpu, NULL, n_ldt, &llo, &lhi)) {
                raise_exception_err(cpu, NULL, EXCP_TS, n_ldt & 0xfffc);
            }
            if ((lhi & DESC_S) || desc_type(lhi) != 2) {
                raise_exception_err(cpu, NULL, EXCP_TS, n_ldt & 0xfffc);
            }
            if (!(lhi & DESC_P)) {
                raise_exception_err(cpu, NULL, EXCP_TS, n_ldt & 0xfffc);
            }
            cpu->ldt.base = desc_base(llo, lhi);
            cpu->ldt.limit = desc_limit(lhi, llo);
            cpu->ldt.flags = lhi & DESC_ATTR_MASK;
        }
        /* CS */
        uint16_t cs = n_segs[R_CS];
        uint32_t clo, chi;
        if ((cs & 0xfffc) == 0 || !fetch_desc(cpu, NULL, cs, &clo, &chi)) {
            raise_exception_err(cpu, NULL, EXCP_TS, cs & 0xfffc);
        }
        if (!(chi & DESC_S) || !(chi & DESC_CODE) ||
            ((chi & DESC_C) ? desc_dpl(chi) > ncpl : desc_dpl(chi) != ncpl)) {
            raise_exception_err(cpu, NULL, EXCP_TS, cs & 0xfffc);
        }
        if (!(chi & DESC_P)) {
            raise_exception_err(cpu, NULL, EXCP_NP, cs & 0xfffc);
        }
        load_cs(cpu, cs, clo, chi, ncpl);
        /* SS and data segments */
        static const int order[5] = { R_SS, R_ES, R_DS, R_FS, R_GS };
        for (int k = 0; k < 5; k++) {
            int s = order[k];
            uint16_t ssel = n_segs[s];
            if ((ssel & 0xfffc) == 0) {
                if (s == R_SS) {
                    raise_exception_err(cpu, NULL, EXCP_TS, 0);
                }
                seg_set(cpu, s, ssel, 0, 0, 0);
                continue;
            }
            uint32_t slo, shi;
            if (!fetch_desc(cpu, NULL, ssel, &slo, &shi)) {
                raise_exception_err(cpu, NULL, EXCP_TS, ssel & 0xfffc);
            }
            check_data_seg(cpu, NULL, s, ssel, shi, ncpl, EXCP_TS);
            seg_set(cpu, s, ssel, desc_base(slo, shi), desc_limit(shi, slo), shi | DESC_A);
        }
        cpu_update_hflags(cpu);
    }
    if (has_err) {
        /* Exceptions with error codes push it on the new task's stack. */
        if (cpu->hflags & HF_SS32 && new32) {
            push32(cpu, NULL, err);
        } else if (new32) {
            push32(cpu, NULL, err);
        } else {
            push16(cpu, NULL, err);
        }
    }
    if (cpu->eip > cpu->segs[R_CS].limit) {
        raise_exception_err(cpu, NULL, EXCP_GP, 0);
    }
}

/* ---- LLDT / LTR / LAR / LSL / VERR / VERW ----------------------------------------- */

void do_lldt(CPUX86State *cpu, Op *op, uint16_t sel)
{
    if ((sel & 0xfffc) == 0) {
        cpu->ldt.selector = sel;
        cpu->ldt.base = 0;
        cpu->ldt.limit = 0;
        cpu->ldt.flags = 0;
        return;
    }
    if (sel & SEL_TI) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    uint32_t lo, hi;
    load_desc(cpu, op, sel, &lo, &hi, EXCP_GP);
    if ((hi & DESC_S) || desc_type(hi) != 2) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    cpu->ldt.selector = sel;
    cpu->ldt.base = desc_base(lo, hi);
    cpu->ldt.limit = desc_limit(hi, lo);
    cpu->ldt.flags = hi & DESC_ATTR_MASK;
}

void do_ltr(CPUX86State *cpu, Op *op, uint16_t sel)
{
    if ((sel & 0xfffc) == 0 || (sel & SEL_TI)) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    uint32_t lo, hi;
    load_desc(cpu, op, sel, &lo, &hi, EXCP_GP);
    int type = desc_type(hi);
    if ((hi & DESC_S) || (type != 1 && type != 9)) {
        raise_exception_err(cpu, op, EXCP_GP, sel & 0xfffc);
    }
    if (!(hi & DESC_P)) {
        raise_exception_err(cpu, op, EXCP_NP, sel & 0xfffc);
    }
    set_tss_busy(cpu, op, sel, true);
    cpu->tr.selector = sel;
    cpu->tr.base = desc_base(lo, hi);
    cpu->tr.limit = desc_limit(hi, lo);
    cpu->tr.flags = (hi | (2 << DESC_TYPE_SHIFT)) & DESC_ATTR_MASK;
}

uint32_t do_lar_lsl(CPUX86State *cpu, Op *op, uint16_t sel, bool lsl, bool *ok)
{
    uint32_t lo, hi;
    *ok = false;
    if ((sel & 0xfffc) == 0 || !fetch_desc(cpu, op, sel, &lo, &hi)) {
        return 0;
    }
    int dpl = desc_dpl(hi), rpl = SEL_RPL(sel), cpl = cpu->cpl;
    if (hi & DESC_S) {
        bool conforming_code = (hi & DESC_CODE) && (hi & DESC_C);
        if (!conforming_code && (dpl < cpl || dpl < rpl)) {
            return 0;
        }
    } else {
        int type = desc_type(hi);
        /* LAR accepts gates too; LSL only segments (TSS, LDT). */
        static const bool lar_ok[16] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0 };
        static const bool lsl_ok[16] = { 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0 };
        if (!(lsl ? lsl_ok : lar_ok)[type] || dpl < cpl || dpl < rpl) {
            return 0;
        }
    }
    *ok = true;
    return lsl ? desc_limit(hi, lo) : (hi & 0x00f0ff00u);
}

bool do_verr_verw(CPUX86State *cpu, Op *op, uint16_t sel, bool write)
{
    uint32_t lo, hi;
    if ((sel & 0xfffc) == 0 || !fetch_desc(cpu, op, sel, &lo, &hi)) {
        return false;
    }
    if (!(hi & DESC_S)) {
        return false;
    }
    int dpl = desc_dpl(hi), rpl = SEL_RPL(sel), cpl = cpu->cpl;
    bool code = hi & DESC_CODE;
    if (!(code && (hi & DESC_C)) && (dpl < cpl || dpl < rpl)) {
        return false;
    }
    if (write) {
        return !code && (hi & DESC_W);
    }
    return !code || (hi & DESC_R);
}

/* ---- SYSENTER / SYSEXIT ---------------------------------------------------------------- */

void do_sysenter(CPUX86State *cpu, Op *op)
{
    if (!(cpu->cr[0] & CR0_PE) || (cpu->sysenter_cs & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint16_t cs = cpu->sysenter_cs & 0xfffc;
    cpu->eflags &= ~(VM_MASK | IF_MASK | RF_MASK);
    cpu->cpl = 0;
    seg_set(cpu, R_CS, cs, 0, 0xffffffffu,
            DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G);
    seg_set(cpu, R_SS, cs + 8, 0, 0xffffffffu,
            DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G);
    cpu->regs[R_ESP] = cpu->sysenter_esp;
    cpu->eip = cpu->sysenter_eip;
    cpu_set_cpl(cpu, 0);
}

void do_sysexit(CPUX86State *cpu, Op *op)
{
    if (!(cpu->cr[0] & CR0_PE) || (cpu->eflags & VM_MASK) || cpu->cpl != 0 ||
        (cpu->sysenter_cs & 0xfffc) == 0) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint16_t cs = ((cpu->sysenter_cs + 16) & 0xfffc) | 3;
    uint16_t ss = ((cpu->sysenter_cs + 24) & 0xfffc) | 3;
    cpu->cpl = 3;
    seg_set(cpu, R_CS, cs, 0, 0xffffffffu,
            DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G | (3 << DESC_DPL_SHIFT));
    seg_set(cpu, R_SS, ss, 0, 0xffffffffu,
            DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G | (3 << DESC_DPL_SHIFT));
    cpu->regs[R_ESP] = cpu->regs[R_ECX];
    cpu->eip = cpu->regs[R_EDX];
    cpu_set_cpl(cpu, 3);
}
