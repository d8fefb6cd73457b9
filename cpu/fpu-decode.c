/*
 * Escape decoders for x87 (D8-DF) and MMX/SSE (0F xx): placeholder until
 * the FPU module lands. It implements nothing, so every such encoding
 * raises #UD and CPUID advertises no FPU/MMX/SSE. The FPU developer
 * replaces this file (see cpu/FPU-INTERFACE.md).
 */
#include "cpu/ops.h"

bool x87_decode(DecodeCtx *d, Op *op, uint8_t opcode)
{
    return false;
}

bool simd_decode(DecodeCtx *d, Op *op, uint8_t opcode)
{
    return false;
}

uint32_t fpu_cpuid_features_edx(void)
{
    return 0;
}

uint32_t fpu_cpuid_features_ecx(void)
{
    return 0;
}

void fpu_reset(X86FPUState *fpu)
{
    memset(fpu, 0, sizeof(*fpu));
    fpu->fcw = 0x0040;   /* power-on value; FNINIT sets 0x037f */
    fpu->mxcsr = 0x1f80;
    for (int i = 0; i < 8; i++) {
        fpu->ftag[i] = FTAG_EMPTY;
    }
}
