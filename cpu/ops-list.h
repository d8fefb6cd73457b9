/* Every integer op handler and handler table, for the decoder. */
#ifndef CPU_OPS_LIST_H
#define CPU_OPS_LIST_H

#include "cpu-internal.h"

#define H(name) Op *name(CPUX86State *cpu, Op *op)

/* ops-alu.c */
extern OpFn *const op_alu[8][3][5];
extern OpFn *const op_test[3][4];
extern OpFn *const op_incdec[2][3][2];
extern OpFn *const op_notneg[2][3][2];
extern OpFn *const op_mov[3][5];
extern OpFn *const op_movzx[3][2];
extern OpFn *const op_movsx[3][2];
extern OpFn *const op_lea[2];
extern OpFn *const op_xchg[3][2];
extern OpFn *const op_cmov[2][2];
extern OpFn *const op_setcc[2];
extern OpFn *const op_xadd[3][2];
extern OpFn *const op_cmpxchg[3][2];
H(op_cmpxchg8b); H(op_bswap_l); H(op_bswap_w);
H(op_cbw); H(op_cwde); H(op_cwd); H(op_cdq);
H(op_clc); H(op_stc); H(op_cmc); H(op_cld); H(op_std); H(op_lahf); H(op_sahf);
H(op_salc); H(op_nop); H(op_xlat);

/* ops-muldiv.c */
extern OpFn *const op_muldiv[4][3][2];
extern OpFn *const op_imul2[2][2];
extern OpFn *const op_imul3[2][2];

/* ops-shift.c */
extern OpFn *const op_shift[8][3][2][2];
extern OpFn *const op_shd[2][2][2][2];

/* ops-bit.c */
extern OpFn *const op_bt[4][2][2][2];
extern OpFn *const op_bsf[2][2][2];

/* ops-string.c */
extern OpFn *const op_string[7][3][2];

/* ops-bcd.c */
H(op_daa); H(op_das); H(op_aaa); H(op_aas); H(op_aam); H(op_aad);

/* ops-control.c */
H(op_jmp); H(op_goto_next); H(op_jcc); H(op_loop);
OpFn *jcc_handler_for(int cc_op_known, int cond);
H(op_call_w); H(op_call_l);
H(op_call_ind_r_w); H(op_call_ind_m_w); H(op_call_ind_r_l); H(op_call_ind_m_l);
H(op_jmp_ind_r_w); H(op_jmp_ind_m_w); H(op_jmp_ind_r_l); H(op_jmp_ind_m_l);
H(op_ret_w); H(op_ret_l);
H(op_push_r_w); H(op_push_r_l); H(op_push_i_w); H(op_push_i_l);
H(op_push_m_w); H(op_push_m_l); H(op_pop_r_w); H(op_pop_r_l);
H(op_pop_m_w); H(op_pop_m_l);
H(op_pusha_w); H(op_pusha_l); H(op_popa_w); H(op_popa_l);
H(op_pushf); H(op_popf); H(op_enter); H(op_leave);

/* ops-system.c */
H(op_raise_ud); H(op_raise_nm);
H(op_push_seg_w); H(op_push_seg_l); H(op_pop_seg_w); H(op_pop_seg_l);
H(op_mov_from_seg_m); H(op_mov_from_seg_r_w); H(op_mov_from_seg_r_l);
H(op_mov_to_seg_m); H(op_mov_to_seg_r); H(op_lxs);
H(op_bound_w); H(op_bound_l); H(op_arpl);
H(op_call_far); H(op_call_far_m); H(op_jmp_far); H(op_jmp_far_m); H(op_retf);
H(op_int); H(op_int3); H(op_into); H(op_iret); H(op_icebp);
H(op_hlt); H(op_cli); H(op_sti); H(op_wait);
H(op_in_imm); H(op_in_dx); H(op_out_imm); H(op_out_dx);
H(op_sldt); H(op_str); H(op_lldt); H(op_ltr); H(op_verr); H(op_verw);
H(op_sxdt); H(op_lxdt); H(op_smsw); H(op_lmsw); H(op_invlpg); H(op_lar_lsl);
H(op_clts); H(op_invd);
H(op_mov_from_cr); H(op_mov_to_cr); H(op_mov_from_dr); H(op_mov_to_dr);
H(op_wrmsr); H(op_rdmsr); H(op_rdtsc); H(op_rdpmc); H(op_cpuid);
H(op_sysenter); H(op_sysexit);

#undef H
#endif
