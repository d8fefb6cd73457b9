/*
 * The CPU's architectural state as a VMState description ("cpu"):
 * general registers, EIP, EFLAGS with the lazy condition codes, segment
 * and descriptor-table registers with their hidden parts, control and
 * debug registers, MSRs, the run state (halted, interrupt shadow, NMI),
 * the instruction counter behind the TSC, and the x87/MMX/SSE state.
 * Derived state (segment fast-path flags, hflags, TLB, translated code)
 * is recomputed after a load.
 */
#include "cpu-internal.h"
#include "migration/vmstate.h"

static const VMStateDescription vmstate_segment = {
    .name = "segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(selector, SegmentCache),
        VMSTATE_UINT32(base, SegmentCache),
        VMSTATE_UINT32(limit, SegmentCache),
        VMSTATE_UINT32(flags, SegmentCache),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_fpreg = {
    .name = "fpreg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(mant, FPReg),
        VMSTATE_UINT16(sign_exp, FPReg),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_xmmreg = {
    .name = "xmmreg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64_ARRAY(q, XMMReg, 2),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_fpu = {
    .name = "fpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(st, X86FPUState, 8, 1, vmstate_fpreg, FPReg),
        VMSTATE_UINT16(fcw, X86FPUState),
        VMSTATE_UINT16(fsw, X86FPUState),
        VMSTATE_UINT8(top, X86FPUState),
        VMSTATE_UINT8_ARRAY(ftag, X86FPUState, 8),
        VMSTATE_UINT16(fop, X86FPUState),
        VMSTATE_UINT32(fip, X86FPUState),
        VMSTATE_UINT32(fdp, X86FPUState),
        VMSTATE_UINT16(fcs, X86FPUState),
        VMSTATE_UINT16(fds, X86FPUState),
        VMSTATE_STRUCT_ARRAY(xmm, X86FPUState, 8, 1, vmstate_xmmreg, XMMReg),
        VMSTATE_UINT32(mxcsr, X86FPUState),
        VMSTATE_END_OF_LIST()
    },
};

/* Values the rest of the core indexes with or relies on. */
static int cpu_vmstate_check(const void *loaded, int version_id, Error **errp)
{
    const CPUX86State *c = loaded;
    if (c->regs[R_ZERO] != 0) {
        error_setg(errp, "cpu: the zero register slot holds 0x%x", c->regs[R_ZERO]);
        return -EINVAL;
    }
    if (c->cc_op >= CC_OP_COUNT) {
        error_setg(errp, "cpu: invalid condition-code state %u", c->cc_op);
        return -EINVAL;
    }
    if (c->cpl > 3) {
        error_setg(errp, "cpu: invalid CPL %u", c->cpl);
        return -EINVAL;
    }
    if ((c->cr[0] & CR0_PG) && !(c->cr[0] & CR0_PE)) {
        error_setg(errp, "cpu: CR0 has PG without PE (0x%08x)", c->cr[0]);
        return -EINVAL;
    }
    if ((c->eflags & VM_MASK) && (!(c->cr[0] & CR0_PE) || c->cpl != 3)) {
        error_setg(errp, "cpu: virtual-8086 mode outside protected mode or not at CPL 3");
        return -EINVAL;
    }
    if (!(c->cr[0] & CR0_PE) && c->cpl != 0) {
        error_setg(errp, "cpu: CPL %u in real mode", c->cpl);
        return -EINVAL;
    }
    if (c->fpu.top > 7) {
        error_setg(errp, "cpu: invalid x87 TOP %u", c->fpu.top);
        return -EINVAL;
    }
    for (int i = 0; i < 8; i++) {
        if (c->fpu.ftag[i] > FTAG_EMPTY) {
            error_setg(errp, "cpu: invalid x87 tag %u for register %d", c->fpu.ftag[i], i);
            return -EINVAL;
        }
    }
    return 0;
}

static int cpu_vmstate_post_load(void *opaque, int version_id)
{
    CPUX86State *cpu = opaque;
    cpu->pending_exc = -1;
    cpu->in_delivery = false;
    cpu->exc_class_in_delivery = -1;
    cpu->eflags |= 2;
    cpu_sync_after_state_change(cpu);
    if (cpu->intr_level || cpu->nmi_pending) {
        cpu->exit_request = 1;
    }
    return 0;
}

const VMStateDescription vmstate_x86_cpu = {
    .name = "cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = cpu_vmstate_check,
    .post_load = cpu_vmstate_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(regs, CPUX86State, 9),
        VMSTATE_UINT32(eip, CPUX86State),
        VMSTATE_UINT32(cc_op, CPUX86State),
        VMSTATE_UINT32(cc_dst, CPUX86State),
        VMSTATE_UINT32(cc_src, CPUX86State),
        VMSTATE_UINT32(cc_src2, CPUX86State),
        VMSTATE_UINT32(eflags, CPUX86State),
        VMSTATE_STRUCT_ARRAY(segs, CPUX86State, 6, 1, vmstate_segment, SegmentCache),
        VMSTATE_STRUCT(ldt, CPUX86State, 1, vmstate_segment, SegmentCache),
        VMSTATE_STRUCT(tr, CPUX86State, 1, vmstate_segment, SegmentCache),
        VMSTATE_STRUCT(gdt, CPUX86State, 1, vmstate_segment, SegmentCache),
        VMSTATE_STRUCT(idt, CPUX86State, 1, vmstate_segment, SegmentCache),
        VMSTATE_UINT32_ARRAY(cr, CPUX86State, 5),
        VMSTATE_UINT32_ARRAY(dr, CPUX86State, 8),
        VMSTATE_UINT8(cpl, CPUX86State),
        VMSTATE_BOOL(halted, CPUX86State),
        VMSTATE_BOOL(irq_inhibit, CPUX86State),
        VMSTATE_BOOL(nmi_pending, CPUX86State),
        VMSTATE_BOOL(nmi_blocked, CPUX86State),
        VMSTATE_BOOL(intr_level, CPUX86State),
        VMSTATE_BOOL(a20_enabled, CPUX86State),
        VMSTATE_UINT64(tsc_offset, CPUX86State),
        VMSTATE_UINT64(icount, CPUX86State),
        VMSTATE_UINT32(sysenter_cs, CPUX86State),
        VMSTATE_UINT32(sysenter_esp, CPUX86State),
        VMSTATE_UINT32(sysenter_eip, CPUX86State),
        VMSTATE_UINT64(apic_base, CPUX86State),
        VMSTATE_UINT64(pat, CPUX86State),
        VMSTATE_UINT64(mtrr_cap, CPUX86State),
        VMSTATE_UINT64(mtrr_def_type, CPUX86State),
        VMSTATE_UINT64_ARRAY(mtrr_fixed, CPUX86State, 11),
        VMSTATE_UINT64_ARRAY(mtrr_var, CPUX86State, 16),
        VMSTATE_UINT64(misc_enable, CPUX86State),
        VMSTATE_STRUCT(fpu, CPUX86State, 1, vmstate_fpu, X86FPUState),
        VMSTATE_END_OF_LIST()
    },
};
