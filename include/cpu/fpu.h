/*
 * x87 FPU, MMX and SSE architectural state, shared by the CPU core
 * (which embeds it in the CPU state and saves it with VMState) and the
 * floating-point implementation (cpu/fpu*.c, cpu/mmx*.c, cpu/sse*.c).
 *
 * Registers are kept in the architecture's own 80-bit layout (64-bit
 * significand with explicit integer bit, sign + 15-bit exponent), so the
 * state is host-independent and FXSAVE/FNSAVE images are direct copies.
 */
#ifndef CPU_FPU_H
#define CPU_FPU_H

#include "util/osdep.h"

typedef struct FPReg {
    uint64_t mant;       /* bit 63 is the explicit integer bit */
    uint16_t sign_exp;   /* bit 15 sign, bits 14..0 biased exponent (bias 16383) */
} FPReg;

typedef union XMMReg {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t l[4];
    uint64_t q[2];
} XMMReg;

/* FSW bits other than TOP, which is kept separately in 'top'. */
enum {
    FSW_IE = 1 << 0, FSW_DE = 1 << 1, FSW_ZE = 1 << 2, FSW_OE = 1 << 3,
    FSW_UE = 1 << 4, FSW_PE = 1 << 5, FSW_SF = 1 << 6, FSW_ES = 1 << 7,
    FSW_C0 = 1 << 8, FSW_C1 = 1 << 9, FSW_C2 = 1 << 10, FSW_C3 = 1 << 14,
    FSW_B = 1 << 15,
    FSW_TOP_SHIFT = 11, FSW_TOP_MASK = 7 << 11,
};

/* Tag values (full two-bit form, as FNSTENV stores them). */
enum { FTAG_VALID = 0, FTAG_ZERO = 1, FTAG_SPECIAL = 2, FTAG_EMPTY = 3 };

typedef struct X86FPUState {
    FPReg st[8];         /* physical registers R0..R7; ST(i) is st[(top + i) & 7] */
    uint16_t fcw;        /* control word; reset value 0x037f (FNINIT) / 0x0040 (power-on) */
    uint16_t fsw;        /* status word without TOP */
    uint8_t top;         /* 0..7 */
    uint8_t ftag[8];     /* FTAG_* per physical register */
    uint16_t fop;        /* last non-control instruction opcode (11 bits) */
    uint32_t fip, fdp;   /* last instruction / operand offsets */
    uint16_t fcs, fds;   /* and their selectors */
    XMMReg xmm[8];
    uint32_t mxcsr;      /* reset 0x1f80 */
} X86FPUState;

#endif
