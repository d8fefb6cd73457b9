/*
 * x87 instruction handlers (the D8-DF escapes): the register stack, stack
 * faults, unmasked-exception rules, status and control words, the
 * environment and state images, on top of the numeric core
 * (include/cpu/fpu-math.h). Decoding is in cpu/fpu-decode.c.
 *
 * Every waiting instruction starts with #NM (CR0.EM/TS) and pending
 * exception (#MF or FERR#) checks; the six FN* control instructions skip
 * the latter. Memory operands are read before anything changes and
 * stores happen before the FPU state is committed, so a #GP or #PF
 * leaves the FPU as it was. Non-control instructions record FCS:FIP,
 * FDS:FDP and FOP (op->imm holds the 11-bit FOP).
 *
 * ES and B in FSW are not state of their own: like the hardware, they
 * are recomputed whenever flags or masks change (set exactly when an
 * exception flag is set that FCW does not mask).
 */
#include "cpu/ops.h"
#include "cpu/fpu-math.h"
#include "fpu-ops.h"
#include "hw/irq.h"

const FPReg fpu_indefinite = { 0xc000000000000000ull, 0xffff };

/* Decoder-provided extras above the 11-bit FOP in op->imm (op->disp is
 * the memory operand's displacement): pops, or the arithmetic form. */
#define NPOP(op) ((int)((op)->imm >> 16))
#define FORM(op) ((int)((op)->imm >> 16))

/* ---- status ----------------------------------------------------------------- */

void fpu_sync_es(CPUX86State *cpu)
{
    X86FPUState *f = &cpu->fpu;
    if (fpm_exception_pending(f->fcw, f->fsw)) {
        f->fsw |= FSW_ES | FSW_B;
    } else {
        if (f->fsw & FSW_ES) {
            irq_lower(cpu->ferr_line);
        }
        f->fsw &= ~(FSW_ES | FSW_B);
    }
}

uint16_t fpu_get_fsw(const X86FPUState *f)
{
    return (f->fsw & ~FSW_TOP_MASK) | (f->top << FSW_TOP_SHIFT);
}

void fpu_set_fsw(X86FPUState *f, uint16_t v)
{
    f->fsw = v & ~FSW_TOP_MASK;
    f->top = (v >> FSW_TOP_SHIFT) & 7;
}

uint16_t fpu_get_ftw(const X86FPUState *f)
{
    uint16_t tw = 0;
    for (int i = 0; i < 8; i++) {
        int t = f->ftag[i] == FTAG_EMPTY ? FTAG_EMPTY : fpm_tag(&f->st[i]);
        tw |= t << (2 * i);
    }
    return tw;
}

void fpu_set_ftw(X86FPUState *f, uint16_t tw)
{
    for (int i = 0; i < 8; i++) {
        f->ftag[i] = ((tw >> (2 * i)) & 3) == FTAG_EMPTY ? FTAG_EMPTY : fpm_tag(&f->st[i]);
    }
}

static void fpu_init_state(X86FPUState *f)
{
    f->fcw = 0x037f;
    f->fsw = 0;
    f->top = 0;
    for (int i = 0; i < 8; i++) {
        f->ftag[i] = FTAG_EMPTY;
    }
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

/* ---- the register stack ------------------------------------------------------ */

static inline FPReg *st(X86FPUState *f, int i)
{
    return &f->st[(f->top + i) & 7];
}

static inline bool empty(const X86FPUState *f, int i)
{
    return f->ftag[(f->top + i) & 7] == FTAG_EMPTY;
}

static inline void set_st(X86FPUState *f, int i, const FPReg *v)
{
    int p = (f->top + i) & 7;
    f->st[p] = *v;
    f->ftag[p] = fpm_tag(v);
}

static inline void pop(X86FPUState *f)
{
    f->ftag[f->top] = FTAG_EMPTY;
    f->top = (f->top + 1) & 7;
}

static inline void pop_n(X86FPUState *f, int n)
{
    while (n-- > 0) {
        pop(f);
    }
}

static inline void push(X86FPUState *f, const FPReg *v)
{
    f->top = (f->top - 1) & 7;
    set_st(f, 0, v);
}

/* Stack underflow (an operand register is empty) and overflow (a push
 * onto a full stack): IE and SF, C1 tells which. True when IE is masked:
 * the instruction then goes on with the indefinite for the missing
 * value; unmasked, it changes nothing else. */
static bool stack_underflow(X86FPUState *f)
{
    f->fsw = (f->fsw | FSW_IE | FSW_SF) & ~FSW_C1;
    return f->fcw & FSW_IE;
}

static bool stack_overflow(X86FPUState *f)
{
    f->fsw |= FSW_IE | FSW_SF | FSW_C1;
    return f->fcw & FSW_IE;
}

/* Pushes are refused when ST(7) is in use. */
static inline bool full(const X86FPUState *f)
{
    return f->ftag[(f->top - 1) & 7] != FTAG_EMPTY;
}

/* ---- instruction frame ----------------------------------------------------------- */

static inline void begin(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    if (unlikely(cpu->fpu.fsw & FSW_ES)) {
        fpu_check_pending(cpu, op);
    }
}

/* End of a non-control instruction. */
static inline Op *end(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    if (fpm_exception_pending(f->fcw, f->fsw)) {
        f->fsw |= FSW_ES | FSW_B;
    }
    fpu_update_ip(cpu, op, (uint16_t)op->imm);
    NEXT(op);
}

/* ---- memory operands ---------------------------------------------------------------- */

static inline void ld80(CPUX86State *cpu, Op *op, FPReg *r)
{
    uint8_t b[10];
    mem_read_bytes(cpu, op, op->seg, op_ea(cpu, op), b, 10);
    memcpy(&r->mant, b, 8);
    memcpy(&r->sign_exp, b + 8, 2);
}

static inline void st80(CPUX86State *cpu, Op *op, const FPReg *r)
{
    uint8_t b[10];
    memcpy(b, &r->mant, 8);
    memcpy(b + 8, &r->sign_exp, 2);
    mem_write_bytes(cpu, op, op->seg, op_ea(cpu, op), b, 10);
}

/* ---- arithmetic ------------------------------------------------------------------------ */

/* dest = dest OP src over registers; op->imm2 = FPMArithOp, op->rm = i,
 * FORM(op): 0 = ST(0) OP ST(i), 1 = ST(i) OP ST(0), 2 = the same and pop. */
Op *op_farith_reg(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    int form = FORM(op);
    int d = form ? op->rm : 0, s = form ? 0 : op->rm;
    int npop = form == 2;
    if (unlikely(empty(f, d) || empty(f, s))) {
        if (stack_underflow(f)) {
            set_st(f, d, &fpu_indefinite);
            pop_n(f, npop);
        }
    } else {
        FPReg r;
        uint16_t raised = fpm_arith(op->imm2, &r, st(f, d), st(f, s), f->fcw, &f->fsw);
        if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
            set_st(f, d, &r);
            pop_n(f, npop);
        }
    }
    return end(cpu, op);
}

static inline void arith_mem_finish(X86FPUState *f, uint16_t raised, const FPReg *r)
{
    if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
        set_st(f, 0, r);
    }
}

#define ARITH_MEM(name, type, load, fn)                                         \
Op *name(CPUX86State *cpu, Op *op)                                              \
{                                                                               \
    X86FPUState *f = &cpu->fpu;                                                 \
    begin(cpu, op);                                                             \
    type v = (type)load(cpu, op);                                               \
    if (unlikely(empty(f, 0))) {                                                \
        if (stack_underflow(f)) {                                               \
            set_st(f, 0, &fpu_indefinite);                                      \
        }                                                                       \
    } else {                                                                    \
        FPReg r;                                                                \
        uint16_t raised = fn(op->imm2, &r, st(f, 0), v, f->fcw, &f->fsw);       \
        arith_mem_finish(f, raised, &r);                                        \
    }                                                                           \
    return end(cpu, op);                                                        \
}

ARITH_MEM(op_farith_m32fp, uint32_t, ldl_ea, fpm_arith_m32fp)
ARITH_MEM(op_farith_m64fp, uint64_t, ldq_ea, fpm_arith_m64fp)
ARITH_MEM(op_farith_m16int, int16_t, ldw_ea, fpm_arith_m16int)
ARITH_MEM(op_farith_m32int, int32_t, ldl_ea, fpm_arith_m32int)

/* ---- comparisons ------------------------------------------------------------------------ */

static void com_underflow(X86FPUState *f, int npop)
{
    bool masked = stack_underflow(f);
    f->fsw |= FSW_C3 | FSW_C2 | FSW_C0;
    if (masked) {
        pop_n(f, npop);
    }
}

static inline void com_finish(X86FPUState *f, uint16_t raised, int npop)
{
    if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
        pop_n(f, npop);
    }
}

/* FCOM/FCOMP/FUCOM/FUCOMP ST(i), FCOMPP, FUCOMPP: op->rm = i,
 * op->imm2 = unordered, NPOP(op) = pops. */
Op *op_fcom_reg(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0) || empty(f, op->rm))) {
        com_underflow(f, NPOP(op));
    } else {
        uint16_t raised = fpm_com(st(f, 0), st(f, op->rm), op->imm2, f->fcw, &f->fsw);
        com_finish(f, raised, NPOP(op));
    }
    return end(cpu, op);
}

#define COM_MEM(name, type, load, fn)                                           \
Op *name(CPUX86State *cpu, Op *op)                                              \
{                                                                               \
    X86FPUState *f = &cpu->fpu;                                                 \
    begin(cpu, op);                                                             \
    type v = (type)load(cpu, op);                                               \
    if (unlikely(empty(f, 0))) {                                                \
        com_underflow(f, NPOP(op));                                             \
    } else {                                                                    \
        uint16_t raised = fn(st(f, 0), v, f->fcw, &f->fsw);                     \
        com_finish(f, raised, NPOP(op));                                        \
    }                                                                           \
    return end(cpu, op);                                                        \
}

COM_MEM(op_fcom_m32fp, uint32_t, ldl_ea, fpm_com_m32fp)
COM_MEM(op_fcom_m64fp, uint64_t, ldq_ea, fpm_com_m64fp)
COM_MEM(op_fcom_m16int, int16_t, ldw_ea, fpm_com_m16int)
COM_MEM(op_fcom_m32int, int32_t, ldl_ea, fpm_com_m32int)

Op *op_ftst(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0))) {
        com_underflow(f, 0);
    } else {
        fpm_tst(st(f, 0), f->fcw, &f->fsw);
    }
    return end(cpu, op);
}

Op *op_fxam(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    fpm_xam(st(f, 0), empty(f, 0), &f->fsw);
    return end(cpu, op);
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP ST(0), ST(i): op->imm2 = unordered,
 * NPOP(op) = pops. */
Op *op_fcomi(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    uint32_t efl = cc_compute_all(cpu) & (CC_Z | CC_P | CC_C);
    if (unlikely(empty(f, 0) || empty(f, op->rm))) {
        efl = CC_Z | CC_P | CC_C;
        if (stack_underflow(f)) {
            pop_n(f, NPOP(op));
        }
    } else {
        uint16_t raised = fpm_comi(st(f, 0), st(f, op->rm), op->imm2, &efl, f->fcw, &f->fsw);
        com_finish(f, raised, NPOP(op));
    }
    cc_set_eflags(cpu, efl & (CC_Z | CC_P | CC_C));
    return end(cpu, op);
}

/* ---- loads ---------------------------------------------------------------------------------- */

/* Push with the overflow check; 'v' NULL pushes nothing (and only checks). */
static void push_checked(X86FPUState *f, const FPReg *v)
{
    if (unlikely(full(f))) {
        if (stack_overflow(f)) {
            push(f, &fpu_indefinite);
        }
        return;
    }
    f->fsw &= ~FSW_C1;
    push(f, v);
}

Op *op_fld_sti(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, op->rm))) {
        if (stack_underflow(f)) {
            push(f, &fpu_indefinite);
        }
    } else {
        FPReg v = *st(f, op->rm);
        push_checked(f, &v);
    }
    return end(cpu, op);
}

#define LOAD_FP(name, type, load, fn)                                           \
Op *name(CPUX86State *cpu, Op *op)                                              \
{                                                                               \
    X86FPUState *f = &cpu->fpu;                                                 \
    begin(cpu, op);                                                             \
    type v = (type)load(cpu, op);                                               \
    if (unlikely(full(f))) {                                                    \
        push_checked(f, NULL);                                                  \
    } else {                                                                    \
        FPReg r;                                                                \
        uint16_t raised = fn(&r, v, f->fcw, &f->fsw);                           \
        if (likely(!fpm_load_suppressed(f->fcw, raised))) {                     \
            push(f, &r);                                                        \
        }                                                                       \
    }                                                                           \
    return end(cpu, op);                                                        \
}

LOAD_FP(op_fld_m32fp, uint32_t, ldl_ea, fpm_from_m32fp)
LOAD_FP(op_fld_m64fp, uint64_t, ldq_ea, fpm_from_m64fp)

Op *op_fld_m80fp(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    FPReg r;
    ld80(cpu, op, &r);
    push_checked(f, &r);
    return end(cpu, op);
}

#define LOAD_INT(name, type, load)                                              \
Op *name(CPUX86State *cpu, Op *op)                                              \
{                                                                               \
    X86FPUState *f = &cpu->fpu;                                                 \
    begin(cpu, op);                                                             \
    type v = (type)load(cpu, op);                                               \
    FPReg r;                                                                    \
    fpm_from_int(&r, v, &f->fsw);                                               \
    push_checked(f, &r);                                                        \
    return end(cpu, op);                                                        \
}

LOAD_INT(op_fild_m16, int16_t, ldw_ea)
LOAD_INT(op_fild_m32, int32_t, ldl_ea)
LOAD_INT(op_fild_m64, int64_t, ldq_ea)

Op *op_fbld(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    uint8_t b[10];
    mem_read_bytes(cpu, op, op->seg, op_ea(cpu, op), b, 10);
    FPReg r;
    fpm_from_bcd(&r, b, &f->fsw);
    push_checked(f, &r);
    return end(cpu, op);
}

/* FLD1 ... FLDZ: op->imm2 = FPMConst. */
Op *op_fldconst(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(full(f))) {
        push_checked(f, NULL);
    } else {
        FPReg r;
        fpm_const(&r, op->imm2, f->fcw, &f->fsw);
        push(f, &r);
    }
    return end(cpu, op);
}

/* ---- stores ------------------------------------------------------------------------------------ */

/* FST/FSTP ST(i): op->rm = i, NPOP(op) = pops. op->imm2 = 1 for the
 * undocumented FSTP1 (D9 D8+i), the 287's FSTPNCE: with ST(0) empty it
 * only pops, without a stack fault. */
Op *op_fst_sti(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0)) && op->imm2) {
        f->fsw &= ~FSW_C1;
        pop(f);
    } else if (unlikely(empty(f, 0))) {
        if (stack_underflow(f)) {
            set_st(f, op->rm, &fpu_indefinite);
            pop_n(f, NPOP(op));
        }
    } else {
        f->fsw &= ~FSW_C1;
        set_st(f, op->rm, st(f, 0));
        pop_n(f, NPOP(op));
    }
    return end(cpu, op);
}

/*
 * Stores to memory: the value (or, on a masked underflow, the format's
 * indefinite) is computed with a copy of FSW, stored (which may fault),
 * and only then is the FPU state committed. NPOP(op) = pops.
 */
#define STORE(name, type, store, fn, indef, ...)                                \
Op *name(CPUX86State *cpu, Op *op)                                              \
{                                                                               \
    X86FPUState *f = &cpu->fpu;                                                 \
    begin(cpu, op);                                                             \
    uint16_t fsw = f->fsw;                                                      \
    type v;                                                                     \
    bool do_store;                                                              \
    if (unlikely(empty(f, 0))) {                                                \
        f->fsw = fsw;                                                           \
        do_store = stack_underflow(f);                                          \
        fsw = f->fsw;                                                           \
        v = (type)(indef);                                                      \
    } else {                                                                    \
        uint16_t raised = fn(&v, st(f, 0), ##__VA_ARGS__, f->fcw, &fsw);        \
        do_store = !fpm_store_suppressed(f->fcw, raised);                       \
    }                                                                           \
    if (do_store) {                                                             \
        store(cpu, op, v);                                                      \
    }                                                                           \
    f->fsw = fsw;                                                               \
    if (do_store) {                                                             \
        pop_n(f, NPOP(op));                                                     \
    }                                                                           \
    return end(cpu, op);                                                        \
}

static inline void stl_ea_u(CPUX86State *cpu, Op *op, uint32_t v) { stl_ea(cpu, op, v); }
static inline void stq_ea_u(CPUX86State *cpu, Op *op, uint64_t v) { stq_ea(cpu, op, v); }
static inline void stw_ea_i(CPUX86State *cpu, Op *op, int16_t v) { stw_ea(cpu, op, (uint16_t)v); }
static inline void stl_ea_i(CPUX86State *cpu, Op *op, int32_t v) { stl_ea(cpu, op, (uint32_t)v); }
static inline void stq_ea_i(CPUX86State *cpu, Op *op, int64_t v) { stq_ea(cpu, op, (uint64_t)v); }

STORE(op_fst_m32fp, uint32_t, stl_ea_u, fpm_to_m32fp, 0xffc00000u)
STORE(op_fst_m64fp, uint64_t, stq_ea_u, fpm_to_m64fp, 0xfff8000000000000ull)
STORE(op_fist_m16, int16_t, stw_ea_i, fpm_to_int16, INT16_MIN, false)
STORE(op_fist_m32, int32_t, stl_ea_i, fpm_to_int32, INT32_MIN, false)
STORE(op_fist_m64, int64_t, stq_ea_i, fpm_to_int64, INT64_MIN, false)
STORE(op_fisttp_m16, int16_t, stw_ea_i, fpm_to_int16, INT16_MIN, true)
STORE(op_fisttp_m32, int32_t, stl_ea_i, fpm_to_int32, INT32_MIN, true)
STORE(op_fisttp_m64, int64_t, stq_ea_i, fpm_to_int64, INT64_MIN, true)

Op *op_fstp_m80fp(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0))) {
        uint16_t fsw = f->fsw;
        if (stack_underflow(f)) {
            uint16_t after = f->fsw;
            f->fsw = fsw;
            st80(cpu, op, &fpu_indefinite);
            f->fsw = after;
            pop(f);
        }
    } else {
        st80(cpu, op, st(f, 0));
        f->fsw &= ~FSW_C1;
        pop(f);
    }
    return end(cpu, op);
}

Op *op_fbstp(CPUX86State *cpu, Op *op)
{
    static const uint8_t bcd_indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    uint16_t fsw = f->fsw;
    uint8_t b[10];
    bool do_store;
    if (unlikely(empty(f, 0))) {
        do_store = stack_underflow(f);
        memcpy(b, bcd_indefinite, 10);
        uint16_t after = f->fsw;
        f->fsw = fsw;
        fsw = after;
    } else {
        uint16_t raised = fpm_to_bcd(b, st(f, 0), f->fcw, &fsw);
        do_store = !fpm_store_suppressed(f->fcw, raised);
    }
    if (do_store) {
        mem_write_bytes(cpu, op, op->seg, op_ea(cpu, op), b, 10);
    }
    f->fsw = fsw;
    if (do_store) {
        pop(f);
    }
    return end(cpu, op);
}

/* ---- one-operand functions on ST(0) ------------------------------------------------------------------- */

typedef uint16_t UnaryFn(FPReg *r, const FPReg *a, uint16_t fcw, uint16_t *fsw);
static UnaryFn *const unary_fns[] = {
    [FPU_F_SQRT] = fpm_sqrt, [FPU_F_RNDINT] = fpm_rndint, [FPU_F_SIN] = fpm_sin,
    [FPU_F_COS] = fpm_cos, [FPU_F_F2XM1] = fpm_f2xm1,
};

/* op->imm2 = FPU_F_*. */
Op *op_funary(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0))) {
        if (op->imm2 == FPU_F_SIN || op->imm2 == FPU_F_COS) {
            f->fsw &= ~FSW_C2;    /* "in range" */
        }
        if (stack_underflow(f)) {
            set_st(f, 0, &fpu_indefinite);
        }
    } else {
        FPReg r;
        uint16_t raised = unary_fns[op->imm2](&r, st(f, 0), f->fcw, &f->fsw);
        if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
            set_st(f, 0, &r);
        }
    }
    return end(cpu, op);
}

/* FCHS, FABS: op->imm2 = 1 for FABS. */
Op *op_fchs_fabs(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0))) {
        if (stack_underflow(f)) {
            set_st(f, 0, &fpu_indefinite);
        }
    } else {
        FPReg r;
        if (op->imm2) {
            fpm_abs(&r, st(f, 0), &f->fsw);
        } else {
            fpm_chs(&r, st(f, 0), &f->fsw);
        }
        set_st(f, 0, &r);
    }
    return end(cpu, op);
}

typedef uint16_t BinaryFn(FPReg *r, const FPReg *st0, const FPReg *st1, uint16_t fcw, uint16_t *fsw);
static BinaryFn *const binary_fns[] = {
    [FPU_F_SCALE] = fpm_scale, [FPU_F_PREM] = fpm_prem, [FPU_F_PREM1] = fpm_prem1,
    [FPU_F_PATAN] = fpm_patan, [FPU_F_YL2X] = fpm_yl2x, [FPU_F_YL2XP1] = fpm_yl2xp1,
};

/* FSCALE, FPREM, FPREM1: ST(0) = f(ST(0), ST(1)). */
Op *op_fbinary_st0(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0) || empty(f, 1))) {
        if (op->imm2 != FPU_F_SCALE) {
            f->fsw &= ~FSW_C2;    /* FPREM: "complete" */
        }
        if (stack_underflow(f)) {
            set_st(f, 0, &fpu_indefinite);
        }
    } else {
        FPReg r;
        uint16_t raised = binary_fns[op->imm2](&r, st(f, 0), st(f, 1), f->fcw, &f->fsw);
        if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
            set_st(f, 0, &r);
        }
    }
    return end(cpu, op);
}

/* FPATAN, FYL2X, FYL2XP1: ST(1) = f(ST(0), ST(1)), pop. */
Op *op_fbinary_pop(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0) || empty(f, 1))) {
        if (stack_underflow(f)) {
            set_st(f, 1, &fpu_indefinite);
            pop(f);
        }
    } else {
        FPReg r;
        uint16_t raised = binary_fns[op->imm2](&r, st(f, 0), st(f, 1), f->fcw, &f->fsw);
        if (likely(!fpm_reg_suppressed(f->fcw, raised))) {
            set_st(f, 1, &r);
            pop(f);
        }
    }
    return end(cpu, op);
}

/* FXTRACT, FPTAN, FSINCOS: ST(0) = r0, then push r1. */
Op *op_fpush2(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0) || full(f)) && op->imm2 != FPU_F_XTRACT) {
        f->fsw &= ~FSW_C2;    /* stack faults report "in range" */
    }
    if (unlikely(empty(f, 0))) {
        if (stack_underflow(f)) {
            /* Both results are the indefinite, pushed even onto a full
             * stack (the underflow is the one reported). */
            set_st(f, 0, &fpu_indefinite);
            push(f, &fpu_indefinite);
        }
    } else if (unlikely(full(f))) {
        if (stack_overflow(f)) {
            set_st(f, 0, &fpu_indefinite);
            push(f, &fpu_indefinite);
        }
    } else {
        FPReg r0, r1;
        uint16_t raised;
        switch (op->imm2) {
        case FPU_F_XTRACT: raised = fpm_xtract(&r0, &r1, st(f, 0), f->fcw, &f->fsw); break;
        case FPU_F_PTAN: raised = fpm_ptan(&r0, &r1, st(f, 0), f->fcw, &f->fsw); break;
        default: raised = fpm_sincos(&r0, &r1, st(f, 0), f->fcw, &f->fsw); break;
        }
        bool out_of_range = op->imm2 != FPU_F_XTRACT && (raised & FSW_C2);
        if (likely(!fpm_reg_suppressed(f->fcw, raised) && !out_of_range)) {
            set_st(f, 0, &r0);
            push(f, &r1);
        }
    }
    return end(cpu, op);
}

/* ---- register moves and stack control ---------------------------------------------------------------- */

Op *op_fxch(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    int i = op->rm;
    if (unlikely(empty(f, 0) || empty(f, i))) {
        if (!stack_underflow(f)) {
            return end(cpu, op);
        }
        if (empty(f, 0)) {
            set_st(f, 0, &fpu_indefinite);
        }
        if (empty(f, i)) {
            set_st(f, i, &fpu_indefinite);
        }
    } else {
        f->fsw &= ~FSW_C1;
    }
    FPReg a = *st(f, 0), b = *st(f, i);
    set_st(f, 0, &b);
    set_st(f, i, &a);
    return end(cpu, op);
}

/* FCMOVcc ST(0), ST(i): op->imm2 = the Jcc condition number. */
Op *op_fcmov(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    if (unlikely(empty(f, 0) || empty(f, op->rm))) {
        /* Checked and answered whatever the condition. */
        if (stack_underflow(f)) {
            set_st(f, 0, &fpu_indefinite);
        }
    } else {
        if (cc_test(cpu, op->imm2)) {
            FPReg v = *st(f, op->rm);
            set_st(f, 0, &v);
        }
    }
    return end(cpu, op);
}

/* FFREE ST(i); NPOP(op) = 1 for FFREEP (DF C0+i, undocumented). */
Op *op_ffree(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    f->ftag[(f->top + op->rm) & 7] = FTAG_EMPTY;
    f->fsw &= ~FSW_C1;
    if (NPOP(op)) {
        pop(f);
    }
    return end(cpu, op);
}

/* FINCSTP (imm2 = 1), FDECSTP (imm2 = -1 & 7). */
Op *op_fincdecstp(CPUX86State *cpu, Op *op)
{
    X86FPUState *f = &cpu->fpu;
    begin(cpu, op);
    f->top = (f->top + op->imm2) & 7;
    f->fsw &= ~FSW_C1;
    return end(cpu, op);
}

Op *op_fnop(CPUX86State *cpu, Op *op)
{
    begin(cpu, op);
    return end(cpu, op);
}

/* ---- control instructions ------------------------------------------------------------------------------- */

/* FENI, FDISI, FSETPM: 8087/287 controls, no-ops since the 387. */
Op *op_fnop_legacy(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    NEXT(op);
}

Op *op_fnstsw_ax(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    reg16_set(cpu, R_EAX, fpu_get_fsw(&cpu->fpu));
    NEXT(op);
}

Op *op_fnstsw_m(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    stw_ea(cpu, op, fpu_get_fsw(&cpu->fpu));
    NEXT(op);
}

Op *op_fnstcw(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    stw_ea(cpu, op, cpu->fpu.fcw);
    NEXT(op);
}

static inline uint16_t fcw_from_guest(uint16_t v)
{
    /* Bits 13-15 and 7 read as 0, bit 6 as 1. */
    return (v & 0x1f3f) | 0x0040;
}

Op *op_fldcw(CPUX86State *cpu, Op *op)
{
    begin(cpu, op);
    uint16_t v = ldw_ea(cpu, op);
    cpu->fpu.fcw = fcw_from_guest(v);
    fpu_sync_es(cpu);
    NEXT(op);
}

Op *op_fnclex(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    cpu->fpu.fsw &= ~(FSW_EXC_MASK | FSW_SF);
    fpu_sync_es(cpu);
    NEXT(op);
}

Op *op_fninit(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    fpu_init_state(&cpu->fpu);
    irq_lower(cpu->ferr_line);
    NEXT(op);
}

/* ---- FNSTENV / FLDENV / FNSAVE / FRSTOR ------------------------------------------------------------------ */

/* The environment image: 28 bytes (32-bit operand size) or 14 (16-bit),
 * in the protected-mode layout (offsets and selectors) or the real-mode
 * one (V86 too: linear instruction and operand pointers, FOP inside). */
static bool env_realmode(CPUX86State *cpu)
{
    return !(cpu->cr[0] & CR0_PE) || (cpu->eflags & VM_MASK);
}

static unsigned env_store(CPUX86State *cpu, Op *op, uint8_t *b)
{
    X86FPUState *f = &cpu->fpu;
    bool o32 = !(op->flags & OPF_O16);
    uint16_t fsw = fpu_get_fsw(f), ftw = fpu_get_ftw(f);
    if (o32) {
        uint32_t w[7];
        w[0] = 0xffff0000u | f->fcw;
        w[1] = 0xffff0000u | fsw;
        w[2] = 0xffff0000u | ftw;
        if (env_realmode(cpu)) {
            uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
            uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
            w[3] = 0xffff0000u | (ip & 0xffff);
            w[4] = ((ip >> 16) << 12) | (f->fop & 0x7ff);
            w[5] = 0xffff0000u | (dp & 0xffff);
            w[6] = (dp >> 16) << 12;
        } else {
            w[3] = f->fip;
            w[4] = f->fcs | ((uint32_t)(f->fop & 0x7ff) << 16);
            w[5] = f->fdp;
            w[6] = 0xffff0000u | f->fds;
        }
        for (int i = 0; i < 7; i++) {
            stl_le(b + 4 * i, w[i]);
        }
        return 28;
    }
    uint16_t w[7];
    w[0] = f->fcw;
    w[1] = fsw;
    w[2] = ftw;
    if (env_realmode(cpu)) {
        uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
        uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
        w[3] = ip & 0xffff;
        w[4] = (((ip >> 16) & 0xf) << 12) | (f->fop & 0x7ff);
        w[5] = dp & 0xffff;
        w[6] = ((dp >> 16) & 0xf) << 12;
    } else {
        w[3] = f->fip & 0xffff;
        w[4] = f->fcs;
        w[5] = f->fdp & 0xffff;
        w[6] = f->fds;
    }
    for (int i = 0; i < 7; i++) {
        stw_le(b + 2 * i, w[i]);
    }
    return 14;
}

static unsigned env_size(Op *op)
{
    return (op->flags & OPF_O16) ? 14 : 28;
}

/* Loads an environment image; the registers' contents must already be in
 * place for the tags to be derived from them. */
static void env_load(CPUX86State *cpu, Op *op, const uint8_t *b)
{
    X86FPUState *f = &cpu->fpu;
    uint16_t ftw;
    if (!(op->flags & OPF_O16)) {
        f->fcw = fcw_from_guest(ldw_le(b));
        fpu_set_fsw(f, ldw_le(b + 4));
        ftw = ldw_le(b + 8);
        if (env_realmode(cpu)) {
            f->fip = (ldl_le(b + 12) & 0xffff) | (((ldl_le(b + 16) >> 12) & 0xffff) << 16);
            f->fop = ldl_le(b + 16) & 0x7ff;
            f->fdp = (ldl_le(b + 20) & 0xffff) | (((ldl_le(b + 24) >> 12) & 0xffff) << 16);
            f->fcs = f->fds = 0;
        } else {
            f->fip = ldl_le(b + 12);
            f->fcs = ldw_le(b + 16);
            f->fop = ldw_le(b + 18) & 0x7ff;
            f->fdp = ldl_le(b + 20);
            f->fds = ldw_le(b + 24);
        }
    } else {
        f->fcw = fcw_from_guest(ldw_le(b));
        fpu_set_fsw(f, ldw_le(b + 2));
        ftw = ldw_le(b + 4);
        if (env_realmode(cpu)) {
            f->fip = ldw_le(b + 6) | ((uint32_t)(ldw_le(b + 8) >> 12) << 16);
            f->fop = ldw_le(b + 8) & 0x7ff;
            f->fdp = ldw_le(b + 10) | ((uint32_t)(ldw_le(b + 12) >> 12) << 16);
            f->fcs = f->fds = 0;
        } else {
            f->fip = ldw_le(b + 6);
            f->fcs = ldw_le(b + 8);
            f->fdp = ldw_le(b + 10);
            f->fds = ldw_le(b + 12);
            f->fop = 0;     /* not in this layout */
        }
    }
    fpu_set_ftw(f, ftw);
    fpu_sync_es(cpu);
}

Op *op_fnstenv(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    uint8_t b[28];
    unsigned n = env_store(cpu, op, b);
    mem_write_bytes(cpu, op, op->seg, op_ea(cpu, op), b, n);
    /* Then every exception is masked. */
    cpu->fpu.fcw |= FCW_EXC_MASK;
    fpu_sync_es(cpu);
    NEXT(op);
}

Op *op_fldenv(CPUX86State *cpu, Op *op)
{
    begin(cpu, op);
    uint8_t b[28];
    mem_read_bytes(cpu, op, op->seg, op_ea(cpu, op), b, env_size(op));
    env_load(cpu, op, b);
    NEXT(op);
}

Op *op_fnsave(CPUX86State *cpu, Op *op)
{
    fpu_check_nm(cpu, op);
    X86FPUState *f = &cpu->fpu;
    uint8_t b[108];
    unsigned n = env_store(cpu, op, b);
    for (int i = 0; i < 8; i++) {
        const FPReg *r = st(f, i);
        stq_le(b + n + 10 * i, r->mant);
        stw_le(b + n + 10 * i + 8, r->sign_exp);
    }
    mem_write_bytes(cpu, op, op->seg, op_ea(cpu, op), b, n + 80);
    fpu_init_state(f);
    irq_lower(cpu->ferr_line);
    NEXT(op);
}

Op *op_frstor(CPUX86State *cpu, Op *op)
{
    begin(cpu, op);
    X86FPUState *f = &cpu->fpu;
    uint8_t b[108];
    unsigned n = env_size(op);
    mem_read_bytes(cpu, op, op->seg, op_ea(cpu, op), b, n + 80);
    /* Registers are in stack order, so TOP from the image comes first. */
    uint16_t fsw = ldw_le(b + ((op->flags & OPF_O16) ? 2 : 4));
    int top = (fsw >> FSW_TOP_SHIFT) & 7;
    for (int i = 0; i < 8; i++) {
        FPReg *r = &f->st[(top + i) & 7];
        r->mant = ldq_le(b + n + 10 * i);
        r->sign_exp = ldw_le(b + n + 10 * i + 8);
    }
    env_load(cpu, op, b);
    NEXT(op);
}

/* RESET (not INIT): FCW 0040h, FSW 0, tag word 5555h over +0.0 registers
 * (SDM Table 9-1). */
void fpu_reset(X86FPUState *fpu)
{
    memset(fpu, 0, sizeof(*fpu));
    fpu->fcw = 0x0040;
    for (int i = 0; i < 8; i++) {
        fpu->ftag[i] = FTAG_ZERO;
    }
    fpu->mxcsr = 0x1f80;
}
