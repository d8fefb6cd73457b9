/*
 * Private to the FPU module: MMX (cpu/mmx.c) and FXSAVE/FXRSTOR
 * (cpu/fxsave.c).
 */
#ifndef CPU_MMX_H
#define CPU_MMX_H

#include "cpu/ops.h"

/* The 0F-map MMX encodings; false for anything else. */
bool mmx_decode(DecodeCtx *d, Op *op, uint8_t opcode);

OpFn op_fxsave, op_fxrstor;

#endif
