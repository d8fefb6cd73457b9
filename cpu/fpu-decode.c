/*
 * Escape decoders of the FPU module: x87 (D8-DF) and the 0F-map MMX and
 * FXSAVE/FXRSTOR encodings, plus the CPUID bits they make true. Tables
 * follow the SDM's opcode map (Vol. 2, A.4 "x87 FPU Instructions"),
 * including the undocumented aliases every P6 executes (FSTP1, FCOM2,
 * FCOMP3, FXCH4, FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9).
 */
#include "cpu/ops.h"
#include "cpu/fpu-math.h"
#include "fpu-ops.h"
#include "mmx.h"

/* Memory and D8 register forms: ST(0) = ST(0) OP src. */
static const uint8_t arith_src_op[8] = {
    FPM_ADD, FPM_MUL, 0, 0, FPM_SUB, FPM_SUBR, FPM_DIV, FPM_DIVR,
};
/* DC/DE register forms, ST(i) = ST(i) OP ST(0): the SUB/SUBR and
 * DIV/DIVR names swap in this direction. */
static const uint8_t arith_dst_op[8] = {
    FPM_ADD, FPM_MUL, 0, 0, FPM_SUBR, FPM_SUB, FPM_DIVR, FPM_DIV,
};

static bool x87_decode_mem(Op *op, int esc, int reg)
{
    static OpFn *const arith[4] = { op_farith_m32fp, op_farith_m32int, op_farith_m64fp, op_farith_m16int };
    static OpFn *const com[4] = { op_fcom_m32fp, op_fcom_m32int, op_fcom_m64fp, op_fcom_m16int };
    if (!(esc & 1)) {
        /* D8 m32fp, DA m32int, DC m64fp, DE m16int */
        if (reg == 2 || reg == 3) {
            op->fn = com[esc >> 1];
            op->imm |= (uint32_t)(reg == 3) << 16;
        } else {
            op->fn = arith[esc >> 1];
            op->imm2 = arith_src_op[reg];
        }
        return true;
    }
    switch (esc) {
    case 1:
        switch (reg) {
        case 0: op->fn = op_fld_m32fp; return true;
        case 2: case 3: op->fn = op_fst_m32fp; op->imm |= (uint32_t)(reg == 3) << 16; return true;
        case 4: op->fn = op_fldenv; return true;
        case 5: op->fn = op_fldcw; return true;
        case 6: op->fn = op_fnstenv; return true;
        case 7: op->fn = op_fnstcw; return true;
        }
        return false;
    case 3:
        switch (reg) {
        case 0: op->fn = op_fild_m32; return true;
        case 2: case 3: op->fn = op_fist_m32; op->imm |= (uint32_t)(reg == 3) << 16; return true;
        case 5: op->fn = op_fld_m80fp; return true;
        case 7: op->fn = op_fstp_m80fp; return true;
        }
        return false;   /* /1 FISTTP is SSE3 */
    case 5:
        switch (reg) {
        case 0: op->fn = op_fld_m64fp; return true;
        case 2: case 3: op->fn = op_fst_m64fp; op->imm |= (uint32_t)(reg == 3) << 16; return true;
        case 4: op->fn = op_frstor; return true;
        case 6: op->fn = op_fnsave; return true;
        case 7: op->fn = op_fnstsw_m; return true;
        }
        return false;
    default: /* 7 */
        switch (reg) {
        case 0: op->fn = op_fild_m16; return true;
        case 2: case 3: op->fn = op_fist_m16; op->imm |= (uint32_t)(reg == 3) << 16; return true;
        case 4: op->fn = op_fbld; return true;
        case 5: op->fn = op_fild_m64; return true;
        case 6: op->fn = op_fbstp; return true;
        case 7: op->fn = op_fist_m64; op->imm |= (uint32_t)(1) << 16; return true;
        }
        return false;
    }
}

static bool set_fn(Op *op, OpFn *fn, uint16_t imm2)
{
    op->fn = fn;
    op->imm2 = imm2;
    return true;
}

static bool x87_decode_reg(Op *op, int esc, int reg, uint8_t modrm)
{
    static const uint8_t fcmov_cond[8] = { 2, 4, 6, 10, 3, 5, 7, 11 };
    switch (esc) {
    case 0:
        if (reg == 2 || reg == 3) {                      /* FCOM, FCOMP */
            op->imm |= (uint32_t)(reg == 3) << 16;
            return set_fn(op, op_fcom_reg, 0);
        }
                return set_fn(op, op_farith_reg, arith_src_op[reg]);
    case 1:
        switch (reg) {
        case 0: return set_fn(op, op_fld_sti, 0);
        case 1: return set_fn(op, op_fxch, 0);
        case 2: return modrm == 0xd0 && set_fn(op, op_fnop, 0);
        case 3: op->imm |= (uint32_t)(1) << 16; return set_fn(op, op_fst_sti, 1);    /* FSTP1 */
        case 4:
            switch (modrm) {
            case 0xe0: return set_fn(op, op_fchs_fabs, 0);
            case 0xe1: return set_fn(op, op_fchs_fabs, 1);
            case 0xe4: return set_fn(op, op_ftst, 0);
            case 0xe5: return set_fn(op, op_fxam, 0);
            }
            return false;
        case 5:
            return modrm != 0xef && set_fn(op, op_fldconst, modrm - 0xe8);
        case 6:
            switch (modrm) {
            case 0xf0: return set_fn(op, op_funary, FPU_F_F2XM1);
            case 0xf1: return set_fn(op, op_fbinary_pop, FPU_F_YL2X);
            case 0xf2: return set_fn(op, op_fpush2, FPU_F_PTAN);
            case 0xf3: return set_fn(op, op_fbinary_pop, FPU_F_PATAN);
            case 0xf4: return set_fn(op, op_fpush2, FPU_F_XTRACT);
            case 0xf5: return set_fn(op, op_fbinary_st0, FPU_F_PREM1);
            case 0xf6: return set_fn(op, op_fincdecstp, 7);
            default: return set_fn(op, op_fincdecstp, 1);
            }
        default:
            switch (modrm) {
            case 0xf8: return set_fn(op, op_fbinary_st0, FPU_F_PREM);
            case 0xf9: return set_fn(op, op_fbinary_pop, FPU_F_YL2XP1);
            case 0xfa: return set_fn(op, op_funary, FPU_F_SQRT);
            case 0xfb: return set_fn(op, op_fpush2, FPU_F_SINCOS);
            case 0xfc: return set_fn(op, op_funary, FPU_F_RNDINT);
            case 0xfd: return set_fn(op, op_fbinary_st0, FPU_F_SCALE);
            case 0xfe: return set_fn(op, op_funary, FPU_F_SIN);
            default: return set_fn(op, op_funary, FPU_F_COS);
            }
        }
    case 2:
        if (reg < 4) {
            return set_fn(op, op_fcmov, fcmov_cond[reg]);
        }
        if (modrm == 0xe9) {                            /* FUCOMPP */
            op->rm = 1;
            op->imm |= (uint32_t)(2) << 16;
            return set_fn(op, op_fcom_reg, 1);
        }
        return false;
    case 3:
        if (reg < 4) {
            return set_fn(op, op_fcmov, fcmov_cond[4 + reg]);
        }
        if (reg == 4) {
            switch (modrm) {
            case 0xe0: case 0xe1: case 0xe4: return set_fn(op, op_fnop_legacy, 0);
            case 0xe2: return set_fn(op, op_fnclex, 0);
            case 0xe3: return set_fn(op, op_fninit, 0);
            }
            return false;
        }
        if (reg == 5 || reg == 6) {                     /* FUCOMI, FCOMI */
                        return set_fn(op, op_fcomi, reg == 5);
        }
        return false;
    case 4:
        if (reg == 2 || reg == 3) {                     /* FCOM2, FCOMP3 */
            op->imm |= (uint32_t)(reg == 3) << 16;
            return set_fn(op, op_fcom_reg, 0);
        }
        op->imm |= (uint32_t)(1) << 16;
        return set_fn(op, op_farith_reg, arith_dst_op[reg]);
    case 5:
        switch (reg) {
        case 0: return set_fn(op, op_ffree, 0);
        case 1: return set_fn(op, op_fxch, 0);          /* FXCH4 */
        case 2: case 3: op->imm |= (uint32_t)(reg == 3) << 16; return set_fn(op, op_fst_sti, 0);
        case 4: case 5: op->imm |= (uint32_t)(reg == 5) << 16; return set_fn(op, op_fcom_reg, 1);
        }
        return false;
    case 6:
        if (reg == 2) {                                 /* FCOMP5 */
            op->imm |= (uint32_t)(1) << 16;
            return set_fn(op, op_fcom_reg, 0);
        }
        if (reg == 3) {
            if (modrm != 0xd9) {
                return false;
            }
            op->imm |= (uint32_t)(2) << 16;                               /* FCOMPP */
            return set_fn(op, op_fcom_reg, 0);
        }
        op->imm |= (uint32_t)(2) << 16;
        return set_fn(op, op_farith_reg, arith_dst_op[reg]);
    default:
        switch (reg) {
        case 0: op->imm |= (uint32_t)(1) << 16; return set_fn(op, op_ffree, 0);       /* FFREEP */
        case 1: return set_fn(op, op_fxch, 0);                      /* FXCH7 */
        case 2: case 3: op->imm |= (uint32_t)(1) << 16; return set_fn(op, op_fst_sti, 0); /* FSTP8/9 */
        case 4: return modrm == 0xe0 && set_fn(op, op_fnstsw_ax, 0);
        case 5: case 6: op->imm |= (uint32_t)(1) << 16; return set_fn(op, op_fcomi, reg == 5);
        }
        return false;
    }
}

bool x87_decode(DecodeCtx *d, Op *op, uint8_t opcode)
{
    uint8_t modrm = decode_fetch_u8(d);
    decode_modrm(d, op, modrm);
    int esc = opcode & 7;
    op->imm = (esc << 8) | modrm;    /* FOP */
    if (op->flags & OPF_MEM) {
        return x87_decode_mem(op, esc, op->reg);
    }
    return x87_decode_reg(op, esc, op->reg, modrm);
}

bool simd_decode(DecodeCtx *d, Op *op, uint8_t opcode)
{
    if (opcode == 0xae) {
        uint8_t modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (d->prefix_66 || d->prefix_f2 || d->prefix_f3 || !(op->flags & OPF_MEM)) {
            return false;
        }
        switch (op->reg) {
        case 0: op->fn = op_fxsave; return true;
        case 1: op->fn = op_fxrstor; return true;
        }
        return false;
    }
    return mmx_decode(d, op, opcode);
}

bool fpu_has_sse(void)
{
    return false;
}

uint32_t fpu_cpuid_features_edx(void)
{
    return (1u << 0)      /* FPU */
         | (1u << 23)     /* MMX */
         | (1u << 24);    /* FXSR */
}

uint32_t fpu_cpuid_features_ecx(void)
{
    return 0;
}
