/*
 * FXSAVE / FXRSTOR (0F AE /0, /1): the 512-byte x87/MMX/SSE state image
 * in its 32-bit layout (SDM Vol. 1, 10.5.1, Table 10-2). The tag word is
 * stored abridged (one "in use" bit per physical register); exception
 * pointers and FOP as the last non-control x87 instruction left them.
 * Bytes 464-511 are the software's and never written. With no SSE the
 * MXCSR and XMM fields are stored as they are and not loaded.
 */
#include "cpu/ops.h"
#include "cpu/fpu-math.h"
#include "fpu-ops.h"
#include "mmx.h"

#define FXSAVE_WRITTEN 464

/* MXCSR bits FXRSTOR accepts (without DAZ): all others #GP. */
#define MXCSR_MASK 0x0000ffbfu

static uint32_t fxsave_linear(CPUX86State *cpu, Op *op)
{
    uint32_t ea = op_ea(cpu, op);
    if ((cpu->segs[op->seg].base + ea) & 15) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    return ea;
}

Op *op_fxsave(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    X86FPUState *f = &cpu->fpu;
    uint32_t ea = fxsave_linear(cpu, op);
    uint8_t b[FXSAVE_WRITTEN];
    memset(b, 0, sizeof(b));
    uint8_t abridged = 0;
    for (int i = 0; i < 8; i++) {
        if (f->ftag[i] != FTAG_EMPTY) {
            abridged |= 1 << i;
        }
    }
    stw_le(b + 0, f->fcw);
    stw_le(b + 2, fpu_get_fsw(f));
    b[4] = abridged;
    stw_le(b + 6, f->fop & 0x7ff);
    stl_le(b + 8, f->fip);
    stw_le(b + 12, f->fcs);
    stl_le(b + 16, f->fdp);
    stw_le(b + 20, f->fds);
    stl_le(b + 24, f->mxcsr);
    stl_le(b + 28, fpu_has_sse() ? MXCSR_MASK : 0);
    for (int i = 0; i < 8; i++) {
        const FPReg *r = &f->st[(f->top + i) & 7];
        stq_le(b + 32 + 16 * i, r->mant);
        stw_le(b + 40 + 16 * i, r->sign_exp);
    }
    for (int i = 0; i < 8; i++) {
        memcpy(b + 160 + 16 * i, f->xmm[i].b, 16);
    }
    mem_write_bytes(cpu, op, op->seg, ea, b, sizeof(b));
    NEXT(op);
}

Op *op_fxrstor(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    X86FPUState *f = &cpu->fpu;
    uint32_t ea = fxsave_linear(cpu, op);
    uint8_t b[288];
    mem_read_bytes(cpu, op, op->seg, ea, b, sizeof(b));
    uint32_t mxcsr = ldl_le(b + 24);
    if (fpu_has_sse() && (mxcsr & ~MXCSR_MASK)) {
        raise_exception_err(cpu, op, EXCP_GP, 0);
    }
    f->fcw = (ldw_le(b + 0) & 0x1f3f) | 0x0040;
    fpu_set_fsw(f, ldw_le(b + 2));
    f->fop = ldw_le(b + 6) & 0x7ff;
    f->fip = ldl_le(b + 8);
    f->fcs = ldw_le(b + 12);
    f->fdp = ldl_le(b + 16);
    f->fds = ldw_le(b + 20);
    for (int i = 0; i < 8; i++) {
        FPReg *r = &f->st[(f->top + i) & 7];
        r->mant = ldq_le(b + 32 + 16 * i);
        r->sign_exp = ldw_le(b + 40 + 16 * i);
    }
    for (int i = 0; i < 8; i++) {
        f->ftag[i] = (b[4] >> i) & 1 ? fpm_tag(&f->st[i]) : FTAG_EMPTY;
    }
    if (fpu_has_sse()) {
        f->mxcsr = mxcsr;
        for (int i = 0; i < 8; i++) {
            memcpy(f->xmm[i].b, b + 160 + 16 * i, 16);
        }
    }
    fpu_sync_es(cpu);
    NEXT(op);
}
