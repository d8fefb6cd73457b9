/*
 * The CPU: lifecycle, the execution loop, exception and interrupt
 * delivery (with double/triple fault escalation), control registers.
 */
#include <stdio.h>

#include "cpu-internal.h"
#include "hw/irq.h"
#include "util/log.h"

CPUX86State *cpu_new(AddressSpace *mem, AddressSpace *io, size_t code_cache_bytes)
{
    CPUX86State *cpu = xmemalign_zero(64, sizeof(CPUX86State));
    cpu->as_mem = mem;
    cpu->as_io = io;
    cpu->tbc = tbc_new(code_cache_bytes ? code_cache_bytes : 32 * MiB);
    tlb_flush_all_entries(cpu);
    memory_set_write_notify(mmu_write_notify, cpu);
    memory_set_map_notify(mmu_map_notify, cpu);
    cpu_reset(cpu);
    return cpu;
}

void cpu_free(CPUX86State *cpu)
{
    if (!cpu) {
        return;
    }
    memory_set_write_notify(NULL, NULL);
    memory_set_map_notify(NULL, NULL);
    tbc_free(cpu->tbc);
    free(cpu);
}

static void seg_reset(CPUX86State *cpu, int seg, uint16_t sel, uint32_t base, uint32_t flags)
{
    SegmentCache *s = &cpu->segs[seg];
    s->selector = sel;
    s->base = base;
    s->limit = 0xffff;
    s->flags = flags;
    seg_cache_derive(s, false, seg);
}

void cpu_reset(CPUX86State *cpu)
{
    log_mask_printf(LOG_RESET, "CPU reset\n");
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->regs[R_EDX] = 0x600 | (1 << 4) | 3;   /* family/model/stepping as CPUID.1:EAX */
    cpu->eip = 0xfff0;
    cpu->eflags = 2;
    cc_set_eflags(cpu, 0);
    uint32_t data = DESC_P | DESC_S | DESC_W | DESC_A;
    seg_reset(cpu, R_CS, 0xf000, 0xffff0000u, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A);
    seg_reset(cpu, R_SS, 0, 0, data);
    seg_reset(cpu, R_DS, 0, 0, data);
    seg_reset(cpu, R_ES, 0, 0, data);
    seg_reset(cpu, R_FS, 0, 0, data);
    seg_reset(cpu, R_GS, 0, 0, data);
    memset(&cpu->ldt, 0, sizeof(cpu->ldt));
    cpu->ldt.limit = 0xffff;
    cpu->ldt.flags = DESC_P | (2 << DESC_TYPE_SHIFT);
    memset(&cpu->tr, 0, sizeof(cpu->tr));
    cpu->tr.limit = 0xffff;
    cpu->tr.flags = DESC_P | (11 << DESC_TYPE_SHIFT);
    memset(&cpu->gdt, 0, sizeof(cpu->gdt));
    memset(&cpu->idt, 0, sizeof(cpu->idt));
    cpu->gdt.limit = cpu->idt.limit = 0xffff;
    memset(cpu->cr, 0, sizeof(cpu->cr));
    cpu->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0;
    cpu->dr[7] = 0x400;
    cpu->cpl = 0;
    cpu->halted = false;
    cpu->irq_inhibit = false;
    cpu->nmi_pending = false;
    cpu->nmi_blocked = false;
    cpu->a20_enabled = true;
    cpu->a20_mask = 0xffffffffu;
    cpu->tsc_offset = 0;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->apic_base = 0xfee00000ULL | 0x100 | 0x800;   /* BSP, enabled */
    cpu->pat = 0x0007040600070406ULL;
    cpu->mtrr_cap = 0x508;   /* 8 variable ranges, fixed ranges, WC */
    cpu->mtrr_def_type = 0;
    memset(cpu->mtrr_fixed, 0, sizeof(cpu->mtrr_fixed));
    memset(cpu->mtrr_var, 0, sizeof(cpu->mtrr_var));
    cpu->misc_enable = 1;
    fpu_reset(&cpu->fpu);
    cpu->pending_exc = -1;
    cpu->in_delivery = false;
    cpu->exc_class_in_delivery = -1;
    cpu->reset_requested = false;
    cpu_update_tlb_ptr(cpu);
    cpu_update_hflags(cpu);
    tlb_flush_all_entries(cpu);
    cpu->pcache_valid = false;
    cpu->tbc->flush_pending = true;
}

void cpu_sync_after_state_change(CPUX86State *cpu)
{
    bool pm = (cpu->cr[0] & CR0_PE) && !(cpu->eflags & VM_MASK);
    for (int i = 0; i < 6; i++) {
        seg_cache_derive(&cpu->segs[i], pm, i);
    }
    cpu->regs[R_ZERO] = 0;
    cpu->a20_mask = cpu->a20_enabled ? 0xffffffffu : ~(1u << 20);
    cpu_update_tlb_ptr(cpu);
    cpu_update_hflags(cpu);
    tlb_flush(cpu, false);
    cpu->tbc->flush_pending = true;
}

void cpu_exit(CPUX86State *cpu)
{
    cpu->exit_request = 1;
    cpu->budget = 0;
}

void cpu_set_intr(CPUX86State *cpu, bool level)
{
    cpu->intr_level = level;
    if (level) {
        cpu->exit_request = 1;
    }
}

void cpu_intr_irq_handler(void *opaque, int n, int level)
{
    cpu_set_intr(opaque, level);
}

void cpu_raise_nmi(CPUX86State *cpu)
{
    cpu->nmi_pending = true;
    cpu->exit_request = 1;
}

bool cpu_has_work(CPUX86State *cpu)
{
    return (cpu->nmi_pending && !cpu->nmi_blocked) ||
           (cpu->intr_level && (cpu->eflags & IF_MASK));
}

void cpu_set_a20(CPUX86State *cpu, bool enabled)
{
    if (cpu->a20_enabled == enabled) {
        return;
    }
    cpu->a20_enabled = enabled;
    cpu->a20_mask = enabled ? 0xffffffffu : ~(1u << 20);
    tlb_flush(cpu, false);
    cpu->exit_request = 1;
}

uint64_t cpu_read_tsc(CPUX86State *cpu)
{
    if (cpu->get_tsc) {
        return cpu->get_tsc(cpu->machine_opaque) + cpu->tsc_offset;
    }
    return cpu->icount + cpu->tsc_offset;
}

/* ---- control registers ------------------------------------------------------------ */

void cpu_write_cr0(CPUX86State *cpu, Op *op, uint32_t v)
{
    v |= CR0_ET;
    if ((v & CR0_PG) && !(v & CR0_PE)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    if ((v & CR0_NW) && !(v & CR0_CD)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t old = cpu->cr[0];
    cpu->cr[0] = v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM |
                      CR0_NW | CR0_CD | CR0_PG);
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) {
        tlb_flush(cpu, false);
    }
    if ((old ^ v) & CR0_PE) {
        /* Segment limits/types are checked differently from now on. */
        bool pm = (v & CR0_PE) && !(cpu->eflags & VM_MASK);
        for (int i = 0; i < 6; i++) {
            seg_cache_derive(&cpu->segs[i], pm, i);
        }
        if (!(v & CR0_PE)) {
            cpu->cpl = 0;
            cpu_update_tlb_ptr(cpu);
        }
    }
    cpu_update_hflags(cpu);
}

void cpu_write_cr3(CPUX86State *cpu, uint32_t v)
{
    cpu->cr[3] = v;
    if (cpu->cr[0] & CR0_PG) {
        tlb_flush(cpu, true);
    }
}

void cpu_write_cr4(CPUX86State *cpu, Op *op, uint32_t v)
{
    /* Implemented bits: DE, PSE, TSD, PGE, PCE, and (with the FPU
     * module's SSE) OSFXSR/OSXMMEXCPT. VME, PVI, PAE, MCE are not. */
    uint32_t ok = CR4_DE | CR4_PSE | CR4_TSD | CR4_PGE | CR4_PCE;
    if (fpu_cpuid_features_edx() & (1 << 24)) {
        ok |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    }
    if (v & ~ok) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    uint32_t old = cpu->cr[4];
    cpu->cr[4] = v;
    if ((old ^ v) & (CR4_PSE | CR4_PGE)) {
        tlb_flush(cpu, false);
    }
    cpu_update_hflags(cpu);
}

/* ---- FPU support ------------------------------------------------------------------- */

void mmx_check(CPUX86State *cpu, Op *op)
{
    if (cpu->cr[0] & CR0_EM) {
        raise_exception(cpu, op, EXCP_UD);
    }
    if (cpu->cr[0] & CR0_TS) {
        raise_exception(cpu, op, EXCP_NM);
    }
}

void sse_check(CPUX86State *cpu, Op *op)
{
    if ((cpu->cr[0] & CR0_EM) || !(cpu->cr[4] & CR4_OSFXSR)) {
        raise_exception(cpu, op, EXCP_UD);
    }
    if (cpu->cr[0] & CR0_TS) {
        raise_exception(cpu, op, EXCP_NM);
    }
}

void fpu_check_pending(CPUX86State *cpu, Op *op)
{
    if (!(cpu->fpu.fsw & FSW_ES)) {
        return;
    }
    if (cpu->cr[0] & CR0_NE) {
        raise_exception(cpu, op, EXCP_MF);
    }
    /* Legacy path: FERR# to the interrupt controller (IRQ13). */
    irq_raise(cpu->ferr_line);
}

void fpu_update_ip(CPUX86State *cpu, Op *op, uint16_t fop)
{
    cpu->fpu.fop = fop & 0x7ff;
    cpu->fpu.fip = op->eip;
    cpu->fpu.fcs = cpu->segs[R_CS].selector;
    if (op->flags & OPF_MEM) {
        cpu->fpu.fdp = op_ea(cpu, op);
        cpu->fpu.fds = cpu->segs[op->seg].selector;
    }
}

/* ---- exceptions ---------------------------------------------------------------------- */

void raise_exception_err(CPUX86State *cpu, Op *op, int vec, uint32_t err)
{
    if (op) {
        cpu->eip = op->eip;
    }
    cpu->pending_exc = vec;
    cpu->pending_err = err;
    cpu->pending_has_err = true;
    siglongjmp(cpu->jmp_env, 1);
}

void raise_exception(CPUX86State *cpu, Op *op, int vec)
{
    if (op) {
        cpu->eip = op->eip;
    }
    cpu->pending_exc = vec;
    cpu->pending_err = 0;
    cpu->pending_has_err = false;
    siglongjmp(cpu->jmp_env, 1);
}

void raise_exception_after(CPUX86State *cpu, Op *op, int vec)
{
    if (op) {
        cpu->eip = op_next_eip(op);
    }
    cpu->pending_exc = vec;
    cpu->pending_err = 0;
    cpu->pending_has_err = false;
    siglongjmp(cpu->jmp_env, 1);
}

/* Exception classes for double-fault detection (SDM table 6-5). */
enum { EXC_BENIGN, EXC_CONTRIB, EXC_PF, EXC_DF };

static int exc_class(int vec)
{
    switch (vec) {
    case EXCP_DE: case EXCP_TS: case EXCP_NP: case EXCP_SS: case EXCP_GP: return EXC_CONTRIB;
    case EXCP_PF: return EXC_PF;
    case EXCP_DF: return EXC_DF;
    default: return EXC_BENIGN;
    }
}

static bool exc_has_error_code(int vec)
{
    switch (vec) {
    case EXCP_DF: case EXCP_TS: case EXCP_NP: case EXCP_SS: case EXCP_GP: case EXCP_PF: case EXCP_AC:
        return true;
    default:
        return false;
    }
}

/* Delivers cpu->pending_exc. Returns false on a triple fault. Faults
 * during delivery come back here through the loop's sigsetjmp with
 * in_delivery set. */
static bool deliver_pending(CPUX86State *cpu)
{
    int vec = cpu->pending_exc;
    uint32_t err = cpu->pending_err;
    if (cpu->in_delivery) {
        int first = cpu->exc_class_in_delivery, second = exc_class(vec);
        if (first == EXC_DF) {
            log_mask_printf(LOG_INT | LOG_RESET, "triple fault at %04x:%08x\n",
                            cpu->segs[R_CS].selector, cpu->eip);
            cpu->in_delivery = false;
            cpu->pending_exc = -1;
            cpu->reset_requested = true;
            return false;
        }
        if ((first == EXC_CONTRIB && second == EXC_CONTRIB) ||
            (first == EXC_PF && (second == EXC_CONTRIB || second == EXC_PF))) {
            vec = EXCP_DF;
            err = 0;
        }
    }
    cpu->in_delivery = true;
    cpu->exc_class_in_delivery = exc_class(vec);
    cpu->pending_exc = -1;
    if (log_enabled(LOG_INT)) {
        log_printf("exception %d err %x at %04x:%08x cpl %d\n", vec, err,
                   cpu->segs[R_CS].selector, cpu->eip, cpu->cpl);
    }
    if (vec == EXCP_DB) {
        /* Debug exceptions are traps or faults decided by the raiser;
         * EIP is already set. */
    }
    do_interrupt(cpu, vec, false, true, exc_has_error_code(vec) && (cpu->cr[0] & CR0_PE),
                 err, cpu->eip);
    cpu->in_delivery = false;
    cpu->exc_class_in_delivery = -1;
    return true;
}

/* External interrupts and NMI at an instruction boundary. */
static void deliver_external(CPUX86State *cpu)
{
    if (cpu->nmi_pending && !cpu->nmi_blocked) {
        cpu->nmi_pending = false;
        cpu->nmi_blocked = true;
        cpu->halted = false;
        cpu->in_delivery = true;
        cpu->exc_class_in_delivery = EXC_BENIGN;
        do_interrupt(cpu, EXCP_NMI, false, true, false, 0, cpu->eip);
        cpu->in_delivery = false;
        return;
    }
    if (cpu->intr_level && (cpu->eflags & IF_MASK) && cpu->irq_ack) {
        int vec = cpu->irq_ack(cpu->machine_opaque);
        cpu->halted = false;
        if (vec < 0) {
            return;   /* spurious / withdrawn */
        }
        log_mask_printf(LOG_INT, "interrupt vector 0x%02x at %04x:%08x\n", vec,
                        cpu->segs[R_CS].selector, cpu->eip);
        cpu->in_delivery = true;
        cpu->exc_class_in_delivery = EXC_BENIGN;
        do_interrupt(cpu, vec & 0xff, false, true, false, 0, cpu->eip);
        cpu->in_delivery = false;
    }
}

/* DR0-3 code breakpoints at the current EIP (DR7 enabled, R/W = 00). */
static bool check_code_breakpoint(CPUX86State *cpu)
{
    uint32_t lin = cpu->segs[R_CS].base + cpu->eip;
    uint32_t hit = 0;
    if (cpu->eflags & RF_MASK) {
        cpu->eflags &= ~RF_MASK;
        return false;
    }
    for (int i = 0; i < 4; i++) {
        if (((cpu->dr[7] >> (i * 2)) & 3) && ((cpu->dr[7] >> (16 + i * 4)) & 3) == 0 &&
            cpu->dr[i] == lin) {
            hit |= 1u << i;
        }
    }
    if (!hit) {
        return false;
    }
    cpu->dr[6] = (cpu->dr[6] & ~0xfu) | hit;
    return true;
}

static void log_cpu_state(CPUX86State *cpu)
{
    log_printf("EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
               "EIP=%08x EFL=%08x CPL=%d CS=%04x SS=%04x DS=%04x ES=%04x CR0=%08x CR3=%08x\n",
               cpu->regs[R_EAX], cpu->regs[R_EBX], cpu->regs[R_ECX], cpu->regs[R_EDX],
               cpu->regs[R_ESI], cpu->regs[R_EDI], cpu->regs[R_EBP], cpu->regs[R_ESP],
               cpu->eip, cpu_get_eflags(cpu), cpu->cpl, cpu->segs[R_CS].selector,
               cpu->segs[R_SS].selector, cpu->segs[R_DS].selector, cpu->segs[R_ES].selector,
               cpu->cr[0], cpu->cr[3]);
}

CPUExitReason cpu_exec(CPUX86State *cpu, int32_t max_insns)
{
    volatile int32_t start_budget = max_insns;
    cpu->budget = max_insns;
    CPUExitReason reason;
    volatile bool tf_active = false;

    if (sigsetjmp(cpu->jmp_env, 0) != 0) {
        /* An exception was raised inside an op, the translator or a
         * delivery. The budget counts it as one instruction. */
        cpu->budget--;
        tf_active = false;
        cpu_update_hflags(cpu);
        if (cpu->reset_requested) {
            goto reset;
        }
    }
    for (;;) {
        if (cpu->pending_exc >= 0) {
            if (!deliver_pending(cpu)) {
                goto reset;
            }
            if (cpu->reset_requested) {
                goto reset;
            }
        }
        if (tf_active) {
            tf_active = false;
            cpu->dr[6] |= 1 << 14;   /* BS */
            cpu->pending_exc = EXCP_DB;
            cpu->pending_err = 0;
            continue;
        }
        if (cpu->reset_requested) {
            goto reset;
        }
        if (cpu->exit_request) {
            cpu->exit_request = 0;
            if (cpu->hflags & (HF_TF | HF_DR)) {
                cpu->exit_request = 1;
            }
        }
        /* Interrupts at the boundary (not right after STI/MOV SS). */
        if (cpu->irq_inhibit) {
            cpu->irq_inhibit = false;
            if (!cpu->halted) {
                cpu->exit_request = 1;
                cpu->hflags |= HF_SINGLE;
                TB *tb = tb_find_slow(cpu);
                cpu->hflags &= ~HF_SINGLE;
                cpu_update_hflags(cpu);
                Op *op = tb->ops;
                while (op) {
                    op = op->fn(cpu, op);
                }
                continue;
            }
        } else if (cpu->nmi_pending || cpu->intr_level) {
            deliver_external(cpu);
        }
        if (cpu->halted) {
            if (cpu_has_work(cpu)) {
                cpu->halted = false;
                continue;
            }
            reason = CPU_EXIT_HALTED;
            break;
        }
        if (cpu->budget <= 0) {
            reason = cpu->exit_request ? CPU_EXIT_REQUEST : CPU_EXIT_BUDGET;
            break;
        }
        if (unlikely(cpu->hflags & HF_DR) && check_code_breakpoint(cpu)) {
            cpu->eflags |= RF_MASK;
            cpu->pending_exc = EXCP_DB;
            cpu->pending_err = 0;
            continue;
        }
        if (unlikely(log_enabled(LOG_CPU))) {
            log_cpu_state(cpu);
        }
        uint32_t hflags = cpu->hflags;
        if (hflags & HF_DR) {
            cpu->hflags |= HF_SINGLE;
        }
        TB *tb = tb_jmp_cache_get(cpu, cpu->eip);
        if (!tb) {
            tb = tb_find_slow(cpu);
        }
        cpu->hflags = hflags;
        if (unlikely(log_enabled(LOG_EXEC))) {
            log_printf("Trace %04x:%08x [%08x]\n", cpu->segs[R_CS].selector, cpu->eip,
                       tb->cs_base + tb->eip);
        }
        tf_active = (hflags & HF_TF) != 0;
        Op *op = tb->ops;
        while (op) {
            op = op->fn(cpu, op);
        }
        if (cpu->reset_requested) {
            goto reset;
        }
    }
    cpu->icount += start_budget - cpu->budget;
    return reason;
reset:
    cpu->icount += start_budget - cpu->budget;
    cpu->reset_requested = false;
    return CPU_EXIT_RESET;
}

void cpu_dump_state(CPUX86State *cpu, CPUPrintFn *print, void *opaque)
{
    char line[256];
    static const char *const segnames[6] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    snprintf(line, sizeof(line), "EAX=%08x EBX=%08x ECX=%08x EDX=%08x", cpu->regs[R_EAX],
             cpu->regs[R_EBX], cpu->regs[R_ECX], cpu->regs[R_EDX]);
    print(opaque, line);
    snprintf(line, sizeof(line), "ESI=%08x EDI=%08x EBP=%08x ESP=%08x", cpu->regs[R_ESI],
             cpu->regs[R_EDI], cpu->regs[R_EBP], cpu->regs[R_ESP]);
    print(opaque, line);
    snprintf(line, sizeof(line), "EIP=%08x EFL=%08x CPL=%d HLT=%d A20=%d", cpu->eip,
             cpu_get_eflags(cpu), cpu->cpl, cpu->halted, cpu->a20_enabled);
    print(opaque, line);
    for (int i = 0; i < 6; i++) {
        const SegmentCache *s = &cpu->segs[i];
        snprintf(line, sizeof(line), "%s =%04x %08x %08x %08x", segnames[i], s->selector,
                 s->base, s->limit, s->flags);
        print(opaque, line);
    }
    snprintf(line, sizeof(line), "LDT=%04x %08x %08x %08x", cpu->ldt.selector, cpu->ldt.base,
             cpu->ldt.limit, cpu->ldt.flags);
    print(opaque, line);
    snprintf(line, sizeof(line), "TR =%04x %08x %08x %08x", cpu->tr.selector, cpu->tr.base,
             cpu->tr.limit, cpu->tr.flags);
    print(opaque, line);
    snprintf(line, sizeof(line), "GDT=     %08x %08x", cpu->gdt.base, cpu->gdt.limit);
    print(opaque, line);
    snprintf(line, sizeof(line), "IDT=     %08x %08x", cpu->idt.base, cpu->idt.limit);
    print(opaque, line);
    snprintf(line, sizeof(line), "CR0=%08x CR2=%08x CR3=%08x CR4=%08x", cpu->cr[0], cpu->cr[2],
             cpu->cr[3], cpu->cr[4]);
    print(opaque, line);
    snprintf(line, sizeof(line), "DR0=%08x DR1=%08x DR2=%08x DR3=%08x DR6=%08x DR7=%08x",
             cpu->dr[0], cpu->dr[1], cpu->dr[2], cpu->dr[3], cpu->dr[6], cpu->dr[7]);
    print(opaque, line);
}
