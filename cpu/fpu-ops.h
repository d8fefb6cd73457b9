/*
 * Private to the FPU module: handlers of cpu/fpu-ops.c, cpu/mmx.c and
 * cpu/fxsave.c, for the decoders in cpu/fpu-decode.c.
 */
#ifndef CPU_FPU_OPS_H
#define CPU_FPU_OPS_H

#include "cpu/ops.h"

/* Function selectors in op->imm2. */
enum {
    FPU_F_SQRT, FPU_F_RNDINT, FPU_F_SIN, FPU_F_COS, FPU_F_F2XM1,
    FPU_F_SCALE, FPU_F_PREM, FPU_F_PREM1, FPU_F_PATAN, FPU_F_YL2X, FPU_F_YL2XP1,
    FPU_F_XTRACT, FPU_F_PTAN, FPU_F_SINCOS,
};

extern const FPReg fpu_indefinite;

/* Whether SSE (MXCSR, XMM registers) is implemented and advertised. */
bool fpu_has_sse(void);

/* FSW with TOP folded in, and back; the full tag word and back (the
 * non-empty tags are derived from the registers' contents). */
uint16_t fpu_get_fsw(const X86FPUState *f);
void fpu_set_fsw(X86FPUState *f, uint16_t v);
uint16_t fpu_get_ftw(const X86FPUState *f);
void fpu_set_ftw(X86FPUState *f, uint16_t tw);
/* Recomputes FSW.ES/B from the flags and masks (lowering FERR# when ES
 * goes away). */
void fpu_sync_es(CPUX86State *cpu);

OpFn op_farith_reg, op_farith_m32fp, op_farith_m64fp, op_farith_m16int, op_farith_m32int;
OpFn op_fcom_reg, op_fcom_m32fp, op_fcom_m64fp, op_fcom_m16int, op_fcom_m32int;
OpFn op_ftst, op_fxam, op_fcomi;
OpFn op_fld_sti, op_fld_m32fp, op_fld_m64fp, op_fld_m80fp;
OpFn op_fild_m16, op_fild_m32, op_fild_m64, op_fbld, op_fldconst;
OpFn op_fst_sti, op_fst_m32fp, op_fst_m64fp, op_fstp_m80fp;
OpFn op_fist_m16, op_fist_m32, op_fist_m64, op_fisttp_m16, op_fisttp_m32, op_fisttp_m64;
OpFn op_fbstp;
OpFn op_funary, op_fchs_fabs, op_fbinary_st0, op_fbinary_pop, op_fpush2;
OpFn op_fxch, op_fcmov, op_ffree, op_fincdecstp, op_fnop, op_fnop_legacy;
OpFn op_fnstsw_ax, op_fnstsw_m, op_fnstcw, op_fldcw, op_fnclex, op_fninit;
OpFn op_fnstenv, op_fldenv, op_fnsave, op_frstor;

#endif
