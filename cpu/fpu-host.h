/*
 * Plumbing for running one guest x87 operation on the host's x87
 * (private to cpu/fpu-*.c; see include/cpu/fpu-math.h for why).
 *
 * An operation is:
 *
 *   hcw = x87_enter(fcw, *fsw);     host flags compatible, C0 C2 C3 = guest's
 *   asm: fldcw fcw; load operands; OP; X87_STATUS; store results;
 *        pop what was pushed; fldcw hcw
 *   x87_merge(hsw, fsw);
 *
 * Why each step:
 *  - The status the host reports is the whole story only if the host
 *    starts with the guest's condition codes (instructions leave some of
 *    them alone, and which ones depends on the case: FPREM of a NaN keeps
 *    C0 and C3) and without exception flags the guest does not have.
 *    Clearing the host's flags before every operation would be simplest,
 *    but FNCLEX costs ~35 cycles, several times the operation; instead
 *    the flags the host already has are kept when the guest has them too
 *    (ORing them in again changes nothing). Flags the guest lacks, or that
 *    the guest's FCW unmasks, are cleared first: a pending unmasked
 *    exception would trap at the next host x87 instruction.
 *  - Which flags the host has is known without asking it: this module is
 *    the process's only x87 user and every operation leaves the flags it
 *    read last (x87_host_flags, per thread). FNSTSW would cost ~10 cycles
 *    of waiting for the x87 pipeline, a quarter of an operation. The
 *    mirror only matters for exactness: whenever FCW has an exception
 *    unmasked, the real status is read, so a flag left by some other x87
 *    code could never make the host trap. fpm_host_sync() re-reads it
 *    for code that does use the x87 directly (tests).
 *  - C0, C2 and C3 are set from the guest's status by FXAM of a value of
 *    the right class (FXAM defines all of them); the one combination FXAM
 *    cannot produce (C3 C2 C0 = 111) comes from FUCOM of a QNaN.
 *  - X87_STATUS reads the status right after the operation and, only if
 *    the operation raised an unmasked exception (ES), clears it before
 *    any further x87 instruction can trap on it.
 *  - The host stack must end empty. Operations whose stack effect
 *    depends on the outcome (an unmasked exception cancels pushes and
 *    pops) end with FNSAVE, which also reinitializes the unit, or free
 *    what a cancelled pop left (x87_unwind_store()).
 *  - Changing the exception masks in FCW costs the host ~150 cycles, RC
 *    and PC almost nothing. So X87_RUN first runs an operation with every
 *    exception masked, and again with the guest's own masks only when it
 *    raised an exception the guest unmasks: until an exception occurs the
 *    masks make no difference to what the x87 does. Except for underflow:
 *    masked, it is only reported when the tiny result is also inexact, so
 *    UE keeps the guest's mask in the first run too.
 */
#ifndef CPU_FPU_HOST_H
#define CPU_FPU_HOST_H

#include "cpu/fpu-math.h"

_Static_assert(offsetof(FPReg, mant) == 0 && offsetof(FPReg, sign_exp) == 8,
               "FPReg must start with the x87 m80 layout");

/* FNSAVE image, 32-bit protected-mode layout (what the host stores). */
typedef struct __attribute__((packed)) X87SaveArea {
    uint16_t fcw, pad0, fsw, pad1, ftw, pad2;
    uint32_t fip;
    uint16_t fcs, fop;
    uint32_t fdp;
    uint16_t fds, pad3;
    uint8_t st[8][10];
} X87SaveArea;

#define X87_CLOBBERS "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

/* Status word into AX; an unmasked exception is cleared at once. */
#define X87_STATUS                  \
    "fnstsw %%ax\n\t"               \
    "testb $0x80, %%al\n\t"         \
    "jz 1f\n\t"                     \
    "fnclex\n"                      \
    "1:\n\t"

/* Values FXAM classifies as C3 C2 C0 = index: unsupported (an unnormal),
 * NaN, normal, infinity, zero, empty (any value, freed), denormal. */
extern const FPReg x87_cc_class_value[8];

/* Makes the host's C0, C2 and C3 equal to those of 'fsw'. C1 is left
 * out on purpose: loading the operands clears it, and the instructions
 * that load nothing (FLD1...) write it. */
static inline void x87_load_cc(uint16_t fsw)
{
    unsigned cls = ((fsw & FSW_C3) ? 4 : 0) | ((fsw & FSW_C2) ? 2 : 0) | ((fsw & FSW_C0) ? 1 : 0);
    const FPReg *v = &x87_cc_class_value[cls];
    if (likely(cls != 5 && cls != 7)) {
        __asm__ volatile("fldt %0\n\tfxam\n\tfstp %%st(0)" : : "m"(*v) : X87_CLOBBERS);
    } else if (cls == 5) {
        __asm__ volatile("fldt %0\n\tffree %%st(0)\n\tfxam\n\tfincstp" : : "m"(*v) : X87_CLOBBERS);
    } else {
        /* 111 is "unordered", from comparing a QNaN (no exception). */
        __asm__ volatile("fldt %0\n\tfucom %%st(0)\n\tfstp %%st(0)" : : "m"(*v) : X87_CLOBBERS);
    }
}

/* Exception flags the host x87 has (see above). */
extern _Thread_local uint16_t x87_host_flags;

/* Prepares the host for an operation with control word 'cw' and the
 * guest's status 'fsw'; returns the host's control word, for the end. */
static inline uint16_t x87_enter(uint16_t cw, uint16_t fsw)
{
    uint16_t hcw, flags = x87_host_flags;
    __asm__ volatile("fnstcw %0" : "=m"(hcw));
    if (unlikely(~cw & FCW_EXC_MASK)) {
        uint16_t hsw;
        __asm__ volatile("fnstsw %0" : "=a"(hsw));
        flags = hsw & (FSW_EXC_MASK | FSW_ES);
    }
    if (unlikely(flags & (FSW_ES | (~fsw & FSW_EXC_MASK) | (~cw & FCW_EXC_MASK)))) {
        __asm__ volatile("fnclex");
        x87_host_flags = 0;
    }
    x87_load_cc(fsw);
    return hcw;
}

/* The flags an operation leaves on the host, from its status word. */
static inline void x87_note_flags(uint16_t hsw)
{
    x87_host_flags = (hsw & FSW_ES) ? 0 : (hsw & FSW_EXC_MASK);
}

/* Runs the statements given, which use 'cw_' as the control word and
 * 'hcw' from x87_enter and set 'hsw', as explained above. */
#define X87_RUN(fcw, fsw, ...)                                                  \
    uint16_t cw_ = (uint16_t)((fcw) | (FCW_EXC_MASK & ~FSW_UE));                \
    for (;;) {                                                                  \
        uint16_t hcw = x87_enter(cw_, *(fsw));                                  \
        __VA_ARGS__;                                                            \
        x87_note_flags(hsw);                                                    \
        if (likely(!(hsw & ~(fcw) & FCW_EXC_MASK)) || cw_ == (fcw)) {           \
            break;                                                              \
        }                                                                       \
        cw_ = (fcw);                                                            \
    }

/* Folds the host's status after an operation into the guest's. */
static inline uint16_t x87_merge(uint16_t hsw, uint16_t *fsw)
{
    uint16_t raised = hsw & (FSW_EXC_MASK | FSW_CC_MASK);
    *fsw = (*fsw & ~FSW_CC_MASK) | raised;
    return raised;
}

/* After a store that pops (FISTP m64, FISTTP, FBSTP): when an unmasked
 * exception cancelled it, the operand is still on the host stack. */
static inline void x87_unwind_store(uint16_t cw, uint16_t hsw)
{
    if (unlikely(fpm_store_suppressed(cw, hsw))) {
        __asm__ volatile("ffree %%st(0)\n\tfincstp" : : : X87_CLOBBERS);
    }
}

static inline void x87_reg_from_save(FPReg *r, const X87SaveArea *s, int i)
{
    memcpy(&r->mant, s->st[i], 8);
    memcpy(&r->sign_exp, s->st[i] + 8, 2);
}

/* Number of non-empty registers in an FNSAVE image. */
static inline int x87_save_depth(const X87SaveArea *s)
{
    int n = 0;
    for (int i = 0; i < 8; i++) {
        n += ((s->ftw >> (2 * i)) & 3) != FTAG_EMPTY;
    }
    return n;
}

#endif
