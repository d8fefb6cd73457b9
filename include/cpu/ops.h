/*
 * Pre-decoded ops: the interface between the decoder, the translation
 * block cache and the instruction handlers (integer ones in cpu/ops-NAME.c,
 * x87/MMX/SSE ones in cpu/fpu-NAME.c). See cpu/FPU-INTERFACE.md.
 *
 * A translation block is an array of Op. Each Op names its handler and
 * carries the decoded operands. Inside a block, handlers are threaded:
 * a straight-line handler ends with NEXT(op), which tail-calls the next
 * op's handler (the compiler turns it into a jump; without that
 * optimisation the depth is still bounded by the block length). Block
 * ends return to the CPU loop, which runs
 *
 *     while (op) op = op->fn(cpu, op);
 *
 * so a block-ending handler returns another block's first op (a chained
 * jump) or NULL to go back to the loop (after setting cpu->eip).
 * Handlers must name their parameters 'cpu' and 'op' (NEXT uses them).
 *
 * Faults: a handler raises an exception with raise_exception*(cpu, op,
 * ...), which never returns. It restores EIP to op->eip (the faulting
 * instruction) and unwinds to the CPU loop, which delivers it. So a
 * handler must not change architectural state (registers, flags, memory)
 * before its last possible fault; every memory helper below faults before
 * it modifies anything.
 */
#ifndef CPU_OPS_H
#define CPU_OPS_H

#include "cpu/cpu.h"

typedef struct Op Op;
typedef Op *OpFn(CPUX86State *cpu, Op *op);

/* Op.flags */
enum {
    OPF_MEM = 1 << 0,      /* ModRM names memory (mod != 3) */
    OPF_REP = 1 << 1,      /* F3 prefix (REP / REPE) */
    OPF_REPNE = 1 << 2,    /* F2 prefix (REPNE) */
    OPF_OPSIZE = 1 << 3,   /* 66 prefix present */
    OPF_LOCK = 1 << 4,     /* F0 prefix present */
    OPF_O16 = 1 << 5,      /* effective operand size is 16 */
    OPF_A16 = 1 << 6,      /* effective address size is 16 */
    OPF_SEGOVR = 1 << 7,   /* a segment override prefix was given */
};

/*
 * One decoded instruction (32 bytes). Fields a handler does not need are
 * free for its own use (e.g. the FPU keeps its opcode in imm).
 *
 * Memory operand: offset = (regs[base] + (regs[index] << scale) + disp)
 * masked to 16 bits when ashift == 16 (16-bit addressing), in segment
 * 'seg' (override already applied; BP/SP-based defaults to SS).
 * base/index are R_EAX..R_EDI or R_ZERO when absent. Use op_ea().
 */
struct Op {
    OpFn *fn;
    uint32_t eip;     /* EIP of this instruction (offset in CS) */
    uint32_t imm;     /* immediate / branch target / handler-defined */
    uint32_t disp;    /* displacement / second immediate */
    uint16_t imm2;    /* far pointer selector, ENTER level, ... */
    uint8_t len;      /* instruction length in bytes */
    uint8_t ashift;   /* 0 or 16: see above */
    uint8_t base, index, scale, seg;
    uint8_t reg;      /* ModRM.reg (or the register encoded in the opcode) */
    uint8_t rm;       /* ModRM.rm for register forms */
    uint8_t ninsns;   /* block-end ops: instructions in the block */
    uint8_t flags;    /* OPF_* */
};

#define NEXT(op) return (op)[1].fn(cpu, (op) + 1)
static inline uint32_t op_next_eip(const Op *op) { return op->eip + op->len; }

/* ---- exceptions --------------------------------------------------------- */

/* All restore EIP to op->eip and do not return. op may be NULL only
 * outside handlers (state already precise). */
NORETURN void raise_exception(CPUX86State *cpu, Op *op, int vec);
NORETURN void raise_exception_err(CPUX86State *cpu, Op *op, int vec, uint32_t err);
/* Trap-style: the instruction completed, EIP = next instruction (INT n
 * paths use their own helpers; this is for #DB traps and the like). */
NORETURN void raise_exception_after(CPUX86State *cpu, Op *op, int vec);

/* ---- registers ------------------------------------------------------------ */

static inline uint8_t reg8_get(CPUX86State *cpu, int r)
{
    return r < 4 ? (uint8_t)cpu->regs[r] : (uint8_t)(cpu->regs[r - 4] >> 8);
}
static inline void reg8_set(CPUX86State *cpu, int r, uint8_t v)
{
    uint8_t *p = (uint8_t *)&cpu->regs[r & 3];   /* little-endian host */
    p[r >> 2] = v;
}
static inline uint16_t reg16_get(CPUX86State *cpu, int r) { return (uint16_t)cpu->regs[r]; }
static inline void reg16_set(CPUX86State *cpu, int r, uint16_t v)
{
    cpu->regs[r] = (cpu->regs[r] & 0xffff0000u) | v;
}

/* ---- lazy flags (cpu/flags.c) ---------------------------------------------- */

uint32_t cc_compute_all(CPUX86State *cpu);   /* CC_MASK bits */
uint32_t cc_compute_c(CPUX86State *cpu);     /* 0 or 1 */
/* Stores the CC_MASK bits of 'flags' as the current condition codes. */
static inline void cc_set_eflags(CPUX86State *cpu, uint32_t flags)
{
    cpu->cc_src = flags & CC_MASK;
    cpu->cc_op = CC_OP_EFLAGS;
}
/* Evaluates condition code 0..15 (the low nibble of Jcc/SETcc/CMOVcc). */
bool cc_test(CPUX86State *cpu, int cond);

/* ---- effective and linear addresses ------------------------------------- */

static inline uint32_t op_ea(CPUX86State *cpu, const Op *op)
{
    uint32_t ea = cpu->regs[op->base] + (cpu->regs[op->index] << op->scale) + op->disp;
    return ea & (0xffffffffu >> op->ashift);
}

/* Segment limit/type checks failing the fast path (cpu/mmu.c). */
uint32_t seg_check_slow(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned size, bool write);

/* Linear address for an access of 'size' bytes at offset ea in seg,
 * raising #GP/#SS on limit or type violations. */
static inline uint32_t seg_lin_rd(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned size)
{
    const SegmentCache *s = &cpu->segs[seg];
    if (likely(s->fast_rd)) {
        return s->base + ea;
    }
    return seg_check_slow(cpu, op, seg, ea, size, false);
}
static inline uint32_t seg_lin_wr(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned size)
{
    const SegmentCache *s = &cpu->segs[seg];
    if (likely(s->fast_wr)) {
        return s->base + ea;
    }
    return seg_check_slow(cpu, op, seg, ea, size, true);
}

/* ---- memory by linear address (soft TLB; cpu/mmu.c for slow paths) ------ */

uint64_t mem_read_slow(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size);
void mem_write_slow(CPUX86State *cpu, Op *op, uint32_t lin, uint64_t val, unsigned size);
/* Read with write permission checked (read-modify-write instructions). */
uint64_t mem_read_for_write_slow(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size);

static inline TLBEntry *tlb_entry(CPUX86State *cpu, uint32_t lin)
{
    return &cpu->tlb[(lin >> 12) & (TLB_SIZE - 1)];
}
static inline void *tlb_host(const TLBEntry *e, uint32_t lin)
{
    return (void *)((uintptr_t)lin + e->addend);
}

#define DEFINE_LD(name, type, size, ldfn)                                          \
static inline type name(CPUX86State *cpu, Op *op, uint32_t lin)                     \
{                                                                                    \
    TLBEntry *e = tlb_entry(cpu, lin);                                             \
    if (likely(e->read_tag == ((lin + (size) - 1) & ~0xfffu))) {                    \
        return ldfn(tlb_host(e, lin));                                               \
    }                                                                                \
    return (type)mem_read_slow(cpu, op, lin, size);                                 \
}                                                                                    \
static inline type name##_rmw(CPUX86State *cpu, Op *op, uint32_t lin)               \
{                                                                                    \
    TLBEntry *e = tlb_entry(cpu, lin);                                             \
    if (likely(e->write_tag == ((lin + (size) - 1) & ~0xfffu))) {                   \
        return ldfn(tlb_host(e, lin));                                               \
    }                                                                                \
    return (type)mem_read_for_write_slow(cpu, op, lin, size);                       \
}
#define DEFINE_ST(name, type, size, stfn)                                          \
static inline void name(CPUX86State *cpu, Op *op, uint32_t lin, type v)            \
{                                                                                    \
    TLBEntry *e = tlb_entry(cpu, lin);                                             \
    if (likely(e->write_tag == ((lin + (size) - 1) & ~0xfffu))) {                   \
        stfn(tlb_host(e, lin), v);                                                   \
        return;                                                                      \
    }                                                                                \
    mem_write_slow(cpu, op, lin, v, size);                                          \
}

static inline uint8_t ldb_p(const void *p) { return *(const uint8_t *)p; }
static inline void stb_p(void *p, uint8_t v) { *(uint8_t *)p = v; }

DEFINE_LD(ldb_lin, uint8_t, 1, ldb_p)
DEFINE_LD(ldw_lin, uint16_t, 2, ldw_le)
DEFINE_LD(ldl_lin, uint32_t, 4, ldl_le)
DEFINE_LD(ldq_lin, uint64_t, 8, ldq_le)
DEFINE_ST(stb_lin, uint8_t, 1, stb_p)
DEFINE_ST(stw_lin, uint16_t, 2, stw_le)
DEFINE_ST(stl_lin, uint32_t, 4, stl_le)
DEFINE_ST(stq_lin, uint64_t, 8, stq_le)

/* Operand of the op's ModRM memory form: offset op_ea() in op->seg. */
static inline uint8_t ldb_ea(CPUX86State *cpu, Op *op)
{ return ldb_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, op_ea(cpu, op), 1)); }
static inline uint16_t ldw_ea(CPUX86State *cpu, Op *op)
{ return ldw_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, op_ea(cpu, op), 2)); }
static inline uint32_t ldl_ea(CPUX86State *cpu, Op *op)
{ return ldl_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, op_ea(cpu, op), 4)); }
static inline uint64_t ldq_ea(CPUX86State *cpu, Op *op)
{ return ldq_lin(cpu, op, seg_lin_rd(cpu, op, op->seg, op_ea(cpu, op), 8)); }
static inline void stb_ea(CPUX86State *cpu, Op *op, uint8_t v)
{ stb_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, op_ea(cpu, op), 1), v); }
static inline void stw_ea(CPUX86State *cpu, Op *op, uint16_t v)
{ stw_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, op_ea(cpu, op), 2), v); }
static inline void stl_ea(CPUX86State *cpu, Op *op, uint32_t v)
{ stl_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, op_ea(cpu, op), 4), v); }
static inline void stq_ea(CPUX86State *cpu, Op *op, uint64_t v)
{ stq_lin(cpu, op, seg_lin_wr(cpu, op, op->seg, op_ea(cpu, op), 8), v); }

/* Wider operands (80-bit x87 values, 94/108-byte FNSAVE images, 128-bit
 * SSE, 512-byte FXSAVE areas): all bytes are checked (segment limit,
 * paging) before any is read or written, so a fault leaves memory and
 * registers untouched. 'seg'/'ea' as for the _ea helpers. */
void mem_read_bytes(CPUX86State *cpu, Op *op, int seg, uint32_t ea, void *buf, unsigned len);
void mem_write_bytes(CPUX86State *cpu, Op *op, int seg, uint32_t ea, const void *buf, unsigned len);
/* Only checks (for instructions that must fault before doing anything). */
void mem_check_access(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned len, bool write);

/* ---- FPU / SIMD support for cpu/fpu-*.c ------------------------------------ */

/* #NM if CR0.EM or CR0.TS (x87 instructions other than WAIT). */
static inline void fpu_check_nm(CPUX86State *cpu, Op *op)
{
    if (unlikely(cpu->cr[0] & (CR0_EM | CR0_TS))) {
        raise_exception(cpu, op, EXCP_NM);
    }
}
/* MMX: #UD if CR0.EM, #NM if CR0.TS. */
void mmx_check(CPUX86State *cpu, Op *op);
/* SSE: #UD if CR0.EM or !CR4.OSFXSR, #NM if CR0.TS. */
void sse_check(CPUX86State *cpu, Op *op);
/* A pending unmasked x87 exception (FSW.ES) is reported before the next
 * waiting x87 instruction: #MF when CR0.NE, else FERR# (IRQ13 path) and
 * the instruction proceeds. Call at the start of every waiting
 * instruction; it does nothing when FSW.ES is clear. */
void fpu_check_pending(CPUX86State *cpu, Op *op);
/* Records FCS:FIP (this instruction) and, for memory forms, FDS:FDP, and
 * FOP, as non-control x87 instructions do. */
void fpu_update_ip(CPUX86State *cpu, Op *op, uint16_t fop);

/* ---- decoding (cpu/translate.c) -------------------------------------------- */

/* What the escape decoders see. They may read further code bytes with
 * decode_fetch_u8() (immediates) and must fill op->fn. */
typedef struct DecodeCtx {
    CPUX86State *cpu;
    uint32_t hflags;
    uint32_t eip;        /* of the instruction */
    uint32_t pc;         /* next byte to fetch (offset in CS) */
    int opsize;          /* 16 or 32 after the 66 prefix */
    int addrsize;        /* 16 or 32 after the 67 prefix */
    int seg_override;    /* R_ES..R_GS or -1 */
    bool prefix_66, prefix_f2, prefix_f3, prefix_lock;
    void *priv;          /* the translator's own state */
} DecodeCtx;

uint8_t decode_fetch_u8(DecodeCtx *d);
/* Decodes the memory operand of 'modrm' (SIB, displacement) into op
 * (base/index/scale/disp/seg/ashift and OPF_MEM), or sets op->rm for
 * register forms; op->reg gets ModRM.reg. */
void decode_modrm(DecodeCtx *d, Op *op, uint8_t modrm);

/*
 * Escape decoders implemented by the FPU module (cpu/fpu-decode.c).
 * Each returns false for encodings it does not implement; the caller
 * then emits #UD. They are called with op->eip/len/flags prepared; they
 * read the ModRM byte themselves with decode_fetch_u8() + decode_modrm().
 *   x87_decode:  opcode = 0xd8..0xdf (ESC 0-7)
 *   simd_decode: opcode = second byte of a 0F xx MMX/SSE/FXSAVE opcode,
 *                for xx in 0x10-0x17, 0x28-0x2f, 0x50-0x7f, 0xae,
 *                0xc2-0xc6, 0xd0-0xff, and 0x77 (EMMS, no ModRM).
 */
bool x87_decode(DecodeCtx *d, Op *op, uint8_t opcode);
bool simd_decode(DecodeCtx *d, Op *op, uint8_t opcode);
/* CPUID.1 EDX/ECX feature bits the FPU module implements (FPU, MMX,
 * FXSR, SSE, SSE2, CMOV's FCMOV part...). */
uint32_t fpu_cpuid_features_edx(void);
uint32_t fpu_cpuid_features_ecx(void);
/* FNINIT-style reset state at power-on/reset (cpu_reset calls it). */
void fpu_reset(X86FPUState *fpu);

#endif
