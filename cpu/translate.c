/*
 * The decoder: guest bytes -> a translation block of ops.
 *
 * One op per instruction (plus a link slot after block-ending ops). The
 * decoder resolves everything static: operand size, address size,
 * segment (override or default), register numbers, immediates, branch
 * targets, and which specialised handler runs. Block boundaries: a
 * control transfer, an instruction that changes the mode (and so the TB
 * key), the block size limit, or the next instruction starting on
 * another page.
 */
#include "ops-common.h"
#include "ops-list.h"
#include "util/log.h"

typedef struct Translator {
    DecodeCtx d;
    CPUX86State *cpu;
    TB *tb;
    uint32_t cs_base, cs_limit;
    uint32_t page_lin;       /* linear page currently mapped for fetch */
    uint8_t *page_host;      /* its host bytes (NULL: read via the bus) */
    uint32_t page_phys;
    uint32_t first_page;
    int ninsns;
    int known_cc;            /* cc_op set by the previous insn in this block, or -1 */
    int cc_effect;           /* what the current insn does to it */
    sigjmp_buf abort_insn;
    bool stop;
    bool end_with_goto;      /* the last op needs no fall-through op */
} Translator;

enum { CC_EFFECT_KEEP = -2, CC_EFFECT_UNKNOWN = -1 };

static Translator *tr(DecodeCtx *d) { return (Translator *)d->priv; }

/* ---- code fetch ---------------------------------------------------------- */

NORETURN static void fetch_fault(Translator *t, int vec, uint32_t err, uint32_t lin)
{
    if (t->ninsns > 0) {
        /* Fault belongs to this instruction: end the block before it so
         * it raises when run as the first instruction of a block. */
        siglongjmp(t->abort_insn, 1);
    }
    CPUX86State *cpu = t->cpu;
    cpu->eip = t->d.eip;
    if (vec == EXCP_PF) {
        cpu->cr[2] = lin;
    }
    raise_exception_err(cpu, NULL, vec, err);
}

uint8_t decode_fetch_u8(DecodeCtx *d)
{
    Translator *t = tr(d);
    uint32_t pc = d->pc;
    if (!(t->d.hflags & HF_CODE32)) {
        pc &= 0xffff;
    }
    if (pc - d->eip >= 15 && ((pc - d->eip) & 0xffff) >= 15) {
        fetch_fault(t, EXCP_GP, 0, 0);   /* instruction longer than 15 bytes */
    }
    if (pc > t->cs_limit) {
        fetch_fault(t, EXCP_GP, 0, 0);
    }
    uint32_t lin = t->cs_base + pc;
    d->pc = pc + 1;
    if ((lin & ~0xfffu) != t->page_lin) {
        uint8_t *host;
        uint64_t ram;
        uint32_t phys, err;
        if (!mmu_code_page(t->cpu, lin, &host, &ram, &phys, &err)) {
            fetch_fault(t, EXCP_PF, err, lin);
        }
        t->page_lin = lin & ~0xfffu;
        t->page_host = host;
        t->page_phys = phys;
        if (t->page_lin != t->first_page) {
            t->tb->phys_page2 = ram >> 12;
        }
    }
    if (t->page_host) {
        return t->page_host[lin & 0xfff];
    }
    return address_space_ldub(t->cpu->as_mem, t->page_phys + (lin & 0xfff));
}

static uint16_t fetch_u16(DecodeCtx *d)
{
    uint16_t lo = decode_fetch_u8(d);
    return lo | (decode_fetch_u8(d) << 8);
}

static uint32_t fetch_u32(DecodeCtx *d)
{
    uint32_t lo = fetch_u16(d);
    return lo | ((uint32_t)fetch_u16(d) << 16);
}

/* ---- ModRM ------------------------------------------------------------------- */

static int default_seg(DecodeCtx *d, int dflt)
{
    return d->seg_override >= 0 ? d->seg_override : dflt;
}

void decode_modrm(DecodeCtx *d, Op *op, uint8_t modrm)
{
    int mod = modrm >> 6, rm = modrm & 7;
    op->reg = (modrm >> 3) & 7;
    if (mod == 3) {
        op->rm = rm;
        op->flags &= ~OPF_MEM;
        return;
    }
    op->flags |= OPF_MEM;
    op->base = R_ZERO;
    op->index = R_ZERO;
    op->scale = 0;
    op->disp = 0;
    int seg = R_DS;
    if (d->addrsize == 16) {
        static const uint8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
        static const uint8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ZERO, R_ZERO, R_ZERO, R_ZERO };
        op->ashift = 16;
        if (mod == 0 && rm == 6) {
            op->disp = fetch_u16(d);
        } else {
            op->base = base16[rm];
            op->index = index16[rm];
            if (rm == 2 || rm == 3 || rm == 6) {
                seg = R_SS;
            }
            if (mod == 1) {
                op->disp = (uint32_t)(int8_t)decode_fetch_u8(d);
            } else if (mod == 2) {
                op->disp = fetch_u16(d);
            }
        }
    } else {
        op->ashift = 0;
        int base = rm;
        if (rm == 4) {
            uint8_t sib = decode_fetch_u8(d);
            int idx = (sib >> 3) & 7;
            base = sib & 7;
            op->scale = sib >> 6;
            op->index = idx == 4 ? R_ZERO : idx;
            if (base == 5 && mod == 0) {
                op->base = R_ZERO;
                op->disp = fetch_u32(d);
                base = -1;
            }
        } else if (rm == 5 && mod == 0) {
            op->disp = fetch_u32(d);
            base = -1;
        }
        if (base >= 0) {
            op->base = base;
            if (base == R_ESP || base == R_EBP) {
                seg = R_SS;
            }
            if (mod == 1) {
                op->disp = (uint32_t)(int8_t)decode_fetch_u8(d);
            } else if (mod == 2) {
                op->disp = fetch_u32(d);
            }
        }
    }
    op->seg = default_seg(d, seg);
}

/* ---- emitting ------------------------------------------------------------------- */

static void emit_links(Translator *t)
{
    TB *tb = t->tb;
    Op *slot = &tb->ops[tb->nops++];
    memset(slot, 0, sizeof(*slot));
    TBLink *l = (TBLink *)slot;
    l[0].gen = l[1].gen = t->cpu->tlb_gen - 1;
    slot->fn = op_exit_to_loop;
}

static uint32_t mask_eip(Translator *t, uint32_t v, int opsize)
{
    return opsize == 16 ? (v & 0xffff) : v;
}

/* Immediate of the operand size (sign-extended imm8 when byte_imm). */
static uint32_t fetch_imm(DecodeCtx *d, int sz, bool byte_imm)
{
    if (byte_imm) {
        uint32_t v = (uint32_t)(int8_t)decode_fetch_u8(d);
        return v & size_mask(sz);
    }
    switch (sz) {
    case 0: return decode_fetch_u8(d);
    case 1: return fetch_u16(d);
    default: return fetch_u32(d);
    }
}

Op *op_raise_ud(CPUX86State *cpu, Op *op)
{
    raise_exception(cpu, op, EXCP_UD);
}

/* ---- the decoder --------------------------------------------------------------------- */

#define UD() do { op->fn = op_raise_ud; t->stop = true; return; } while (0)
#define ENDS() (t->stop = true)

static void decode_0f(Translator *t, Op *op);

static void decode_one(Translator *t, Op *op)
{
    DecodeCtx *d = &t->d;
    CPUX86State *cpu = t->cpu;
    bool code32 = d->hflags & HF_CODE32;
    uint8_t b;
    d->opsize = code32 ? 32 : 16;
    d->addrsize = code32 ? 32 : 16;
    d->seg_override = -1;
    d->prefix_66 = d->prefix_f2 = d->prefix_f3 = d->prefix_lock = false;
    t->cc_effect = CC_EFFECT_UNKNOWN;
    op->flags = 0;
    op->base = op->index = R_ZERO;
    op->scale = 0;
    op->ashift = code32 ? 0 : 16;
    op->seg = R_DS;
    for (;;) {
        b = decode_fetch_u8(d);
        switch (b) {
        case 0x26: d->seg_override = R_ES; continue;
        case 0x2e: d->seg_override = R_CS; continue;
        case 0x36: d->seg_override = R_SS; continue;
        case 0x3e: d->seg_override = R_DS; continue;
        case 0x64: d->seg_override = R_FS; continue;
        case 0x65: d->seg_override = R_GS; continue;
        case 0x66: d->prefix_66 = true; d->opsize = code32 ? 16 : 32; continue;
        case 0x67: d->addrsize = code32 ? 16 : 32; continue;
        case 0xf0: d->prefix_lock = true; continue;
        case 0xf2: d->prefix_f2 = true; d->prefix_f3 = false; continue;
        case 0xf3: d->prefix_f3 = true; d->prefix_f2 = false; continue;
        }
        break;
    }
    if (d->opsize == 16) op->flags |= OPF_O16;
    if (d->addrsize == 16) op->flags |= OPF_A16;
    if (d->prefix_66) op->flags |= OPF_OPSIZE;
    if (d->prefix_lock) op->flags |= OPF_LOCK;
    if (d->prefix_f3) op->flags |= OPF_REP;
    if (d->prefix_f2) op->flags |= OPF_REPNE;
    if (d->seg_override >= 0) op->flags |= OPF_SEGOVR;
    op->ashift = d->addrsize == 16 ? 16 : 0;
    op->seg = default_seg(d, R_DS);
    int vsz = d->opsize == 16 ? 1 : 2;   /* size index of "v" operands */
    int o32 = d->opsize == 32;
    uint8_t modrm;

    /* LOCK is only valid on read-modify-write memory forms; checked
     * per opcode below where it matters (others #UD). */
    bool lock_ok = false;

    if (b < 0x40 && (b & 7) < 6) {
        /* ALU group: ADD OR ADC SBB AND SUB XOR CMP */
        int kind = b >> 3;
        int form = b & 7;
        int sz = (form & 1) ? vsz : 0;
        if (form < 4) {
            modrm = decode_fetch_u8(d);
            decode_modrm(d, op, modrm);
            bool mem = op->flags & OPF_MEM;
            if (form < 2) {   /* Ev, Gv */
                if (mem) {
                    op->fn = op_alu[kind][sz][2];
                    lock_ok = kind != 7;
                } else {
                    uint8_t r = op->reg;
                    op->reg = op->rm;
                    op->rm = r;
                    op->fn = op_alu[kind][sz][0];
                }
            } else {          /* Gv, Ev */
                op->fn = op_alu[kind][sz][mem ? 1 : 0];
            }
        } else {
            op->reg = R_EAX;
            op->imm = fetch_imm(d, sz, false);
            op->fn = op_alu[kind][sz][3];
        }
        static const int cc_base[8] = { CC_OP_ADD8, CC_OP_LOGIC8, -1, -1, CC_OP_LOGIC8,
                                        CC_OP_SUB8, CC_OP_LOGIC8, CC_OP_SUB8 };
        t->cc_effect = cc_base[kind] >= 0 ? cc_base[kind] + sz : CC_EFFECT_UNKNOWN;
        goto done;
    }

    switch (b) {
    case 0x06: case 0x0e: case 0x16: case 0x1e:   /* PUSH ES/CS/SS/DS */
        op->reg = b >> 3;
        op->fn = o32 ? op_push_seg_l : op_push_seg_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x07: case 0x17: case 0x1f:               /* POP ES/SS/DS */
        op->reg = b >> 3;
        op->fn = o32 ? op_pop_seg_l : op_pop_seg_w;
        if (op->reg == R_SS) {
            ENDS();
        }
        break;
    case 0x0f:
        decode_0f(t, op);
        return;
    case 0x27: op->fn = op_daa; break;
    case 0x2f: op->fn = op_das; break;
    case 0x37: op->fn = op_aaa; break;
    case 0x3f: op->fn = op_aas; break;
    case 0x40 ... 0x47:
        op->reg = b & 7;
        op->fn = op_incdec[0][vsz][0];
        break;
    case 0x48 ... 0x4f:
        op->reg = b & 7;
        op->fn = op_incdec[1][vsz][0];
        break;
    case 0x50 ... 0x57:
        op->reg = b & 7;
        op->fn = o32 ? op_push_r_l : op_push_r_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x58 ... 0x5f:
        op->reg = b & 7;
        op->fn = o32 ? op_pop_r_l : op_pop_r_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x60: op->fn = o32 ? op_pusha_l : op_pusha_w; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x61: op->fn = o32 ? op_popa_l : op_popa_w; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x62:                                      /* BOUND Gv, Ma */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!(op->flags & OPF_MEM)) UD();
        op->fn = o32 ? op_bound_l : op_bound_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x63:                                      /* ARPL Ew, Gw */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!(cpu->hflags & HF_PE) || (cpu->hflags & HF_VM)) UD();
        op->fn = op_arpl;
        break;
    case 0x68:
        op->imm = fetch_imm(d, vsz, false);
        op->fn = o32 ? op_push_i_l : op_push_i_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x6a:
        op->imm = fetch_imm(d, vsz, true);
        op->fn = o32 ? op_push_i_l : op_push_i_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x69: case 0x6b:                           /* IMUL Gv, Ev, Iz/Ib */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->imm = fetch_imm(d, vsz, b == 0x6b);
        op->fn = op_imul3[vsz - 1][!!(op->flags & OPF_MEM)];
        break;
    case 0x6c: case 0x6d:                           /* INS */
        op->fn = op_string[5][b == 0x6c ? 0 : vsz][d->addrsize == 32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x6e: case 0x6f:                           /* OUTS */
        op->fn = op_string[6][b == 0x6e ? 0 : vsz][d->addrsize == 32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x70 ... 0x7f: {                           /* Jcc rel8 */
        int32_t rel = (int8_t)decode_fetch_u8(d);
        op->reg = b & 15;
        op->imm = mask_eip(t, d->pc + rel, d->opsize);
        op->disp = mask_eip(t, d->pc, 32);
        op->fn = t->known_cc >= 0 ? jcc_handler_for(t->known_cc, b & 15) : op_jcc;
        t->end_with_goto = true;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0x80: case 0x81: case 0x82: case 0x83: {  /* group 1 */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        int kind = op->reg;
        op->imm = fetch_imm(d, sz, b == 0x83);
        if (op->flags & OPF_MEM) {
            op->fn = op_alu[kind][sz][4];
            lock_ok = kind != 7;
        } else {
            op->reg = op->rm;
            op->fn = op_alu[kind][sz][3];
        }
        static const int cc_base[8] = { CC_OP_ADD8, CC_OP_LOGIC8, -1, -1, CC_OP_LOGIC8,
                                        CC_OP_SUB8, CC_OP_LOGIC8, CC_OP_SUB8 };
        t->cc_effect = cc_base[kind] >= 0 ? cc_base[kind] + sz : CC_EFFECT_UNKNOWN;
        break;
    }
    case 0x84: case 0x85: {                         /* TEST Ev, Gv */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_test[sz][(op->flags & OPF_MEM) ? 1 : 0];
        t->cc_effect = CC_OP_LOGIC8 + sz;
        break;
    }
    case 0x86: case 0x87: {                         /* XCHG Ev, Gv */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_xchg[sz][(op->flags & OPF_MEM) ? 1 : 0];
        lock_ok = true;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0x88: case 0x89: case 0x8a: case 0x8b: {  /* MOV */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->flags & OPF_MEM) {
            op->fn = op_mov[sz][b & 2 ? 1 : 2];
        } else {
            if (!(b & 2)) {
                uint8_t r = op->reg;
                op->reg = op->rm;
                op->rm = r;
            }
            op->fn = op_mov[sz][0];
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0x8c:                                      /* MOV Ev, Sreg */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->reg > R_GS) UD();
        op->fn = (op->flags & OPF_MEM) ? op_mov_from_seg_m : (o32 ? op_mov_from_seg_r_l : op_mov_from_seg_r_w);
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x8d:                                      /* LEA */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!(op->flags & OPF_MEM)) UD();
        op->fn = op_lea[o32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x8e:                                      /* MOV Sreg, Ew */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->reg > R_GS || op->reg == R_CS) UD();
        op->fn = (op->flags & OPF_MEM) ? op_mov_to_seg_m : op_mov_to_seg_r;
        if (op->reg == R_SS) {
            ENDS();
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x8f:                                      /* POP Ev */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->flags & OPF_MEM) {
            op->fn = o32 ? op_pop_m_l : op_pop_m_w;
        } else {
            op->reg = op->rm;
            op->fn = o32 ? op_pop_r_l : op_pop_r_w;
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x90:
        if (d->prefix_f3) {
            op->fn = op_nop;   /* PAUSE */
        } else {
            op->fn = op_nop;
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x91 ... 0x97:
        op->reg = R_EAX;
        op->rm = b & 7;
        op->fn = op_xchg[vsz][0];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x98: op->fn = o32 ? op_cwde : op_cbw; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x99: op->fn = o32 ? op_cdq : op_cwd; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x9a:                                      /* CALL far ptr */
        op->imm = o32 ? fetch_u32(d) : fetch_u16(d);
        op->imm2 = fetch_u16(d);
        op->fn = op_call_far;
        ENDS();
        break;
    case 0x9b:                                      /* WAIT */
        op->fn = op_wait;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x9c: op->fn = op_pushf; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x9d: op->fn = op_popf; ENDS(); break;
    case 0x9e: op->fn = op_sahf; break;
    case 0x9f: op->fn = op_lahf; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {  /* MOV moffs */
        int sz = (b & 1) ? vsz : 0;
        op->flags |= OPF_MEM;
        op->base = op->index = R_ZERO;
        op->disp = d->addrsize == 32 ? fetch_u32(d) : fetch_u16(d);
        op->reg = R_EAX;
        op->fn = op_mov[sz][b & 2 ? 2 : 1];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xa4: case 0xa5:                           /* MOVS */
        op->fn = op_string[0][b & 1 ? vsz : 0][d->addrsize == 32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xa6: case 0xa7:                           /* CMPS */
        op->fn = op_string[1][b & 1 ? vsz : 0][d->addrsize == 32];
        break;
    case 0xa8: case 0xa9: {                         /* TEST AL/eAX, imm */
        int sz = (b & 1) ? vsz : 0;
        op->reg = R_EAX;
        op->imm = fetch_imm(d, sz, false);
        op->fn = op_test[sz][2];
        t->cc_effect = CC_OP_LOGIC8 + sz;
        break;
    }
    case 0xaa: case 0xab:                           /* STOS */
        op->fn = op_string[2][b & 1 ? vsz : 0][d->addrsize == 32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xac: case 0xad:                           /* LODS */
        op->fn = op_string[3][b & 1 ? vsz : 0][d->addrsize == 32];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xae: case 0xaf:                           /* SCAS */
        op->fn = op_string[4][b & 1 ? vsz : 0][d->addrsize == 32];
        break;
    case 0xb0 ... 0xb7:
        op->reg = b & 7;
        op->imm = decode_fetch_u8(d);
        op->fn = op_mov[0][3];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xb8 ... 0xbf:
        op->reg = b & 7;
        op->imm = fetch_imm(d, vsz, false);
        op->fn = op_mov[vsz][3];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {  /* shifts */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        int kind = op->reg;
        int by_cl = b >= 0xd2;
        if (b < 0xd0) {
            op->imm = decode_fetch_u8(d);
        } else {
            op->imm = 1;
        }
        bool mem = op->flags & OPF_MEM;
        if (!mem) {
            op->reg = op->rm;
        }
        op->fn = op_shift[kind][sz][mem][by_cl];
        break;
    }
    case 0xc2: case 0xc3:                           /* RET near */
        op->imm = b == 0xc2 ? fetch_u16(d) : 0;
        op->fn = o32 ? op_ret_l : op_ret_w;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xc4: case 0xc5:                           /* LES, LDS */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!(op->flags & OPF_MEM)) UD();
        op->imm2 = b == 0xc4 ? R_ES : R_DS;
        op->fn = op_lxs;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xc6: case 0xc7: {                         /* MOV Ev, imm */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->reg != 0) UD();
        op->imm = fetch_imm(d, sz, false);
        if (op->flags & OPF_MEM) {
            op->fn = op_mov[sz][4];
        } else {
            op->reg = op->rm;
            op->fn = op_mov[sz][3];
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xc8:                                      /* ENTER */
        op->imm = fetch_u16(d);
        op->imm2 = decode_fetch_u8(d);
        op->fn = op_enter;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xc9: op->fn = op_leave; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xca: case 0xcb:                           /* RETF */
        op->imm = b == 0xca ? fetch_u16(d) : 0;
        op->fn = op_retf;
        ENDS();
        break;
    case 0xcc: op->imm = 3; op->fn = op_int3; ENDS(); break;
    case 0xcd: op->imm = decode_fetch_u8(d); op->fn = op_int; ENDS(); break;
    case 0xce: op->fn = op_into; ENDS(); break;
    case 0xcf: op->fn = op_iret; ENDS(); break;
    case 0xd4: op->imm = decode_fetch_u8(d); op->fn = op_aam; break;
    case 0xd5: op->imm = decode_fetch_u8(d); op->fn = op_aad; break;
    case 0xd6: op->fn = op_salc; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xd7: op->fn = op_xlat; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xd8 ... 0xdf:                             /* x87 escape */
        if (!x87_decode(d, op, b)) {
            /* Consume the ModRM so #UD/#NM reports the right length. */
            op->fn = (cpu->cr[0] & (CR0_EM | CR0_TS)) ? op_raise_nm : op_raise_ud;
            t->stop = true;
        }
        t->cc_effect = CC_EFFECT_UNKNOWN;
        break;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: {  /* LOOPNE LOOPE LOOP JCXZ */
        int32_t rel = (int8_t)decode_fetch_u8(d);
        op->reg = b & 3;
        op->imm = mask_eip(t, d->pc + rel, d->opsize);
        op->disp = d->pc;
        op->fn = op_loop;
        t->end_with_goto = true;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:    /* IN/OUT imm8 */
        op->imm = decode_fetch_u8(d);
        op->imm2 = (b & 1) ? (o32 ? 4 : 2) : 1;
        op->fn = (b & 2) ? op_out_imm : op_in_imm;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:    /* IN/OUT DX */
        op->imm2 = (b & 1) ? (o32 ? 4 : 2) : 1;
        op->fn = (b & 2) ? op_out_dx : op_in_dx;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xe8: {                                    /* CALL rel */
        int32_t rel = o32 ? (int32_t)fetch_u32(d) : (int16_t)fetch_u16(d);
        op->imm = mask_eip(t, d->pc + rel, d->opsize);
        op->fn = o32 ? op_call_l : op_call_w;
        t->end_with_goto = true;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xe9: case 0xeb: {                         /* JMP rel */
        int32_t rel = b == 0xeb ? (int8_t)decode_fetch_u8(d)
                                : (o32 ? (int32_t)fetch_u32(d) : (int16_t)fetch_u16(d));
        op->imm = mask_eip(t, d->pc + rel, d->opsize);
        op->fn = op_jmp;
        t->end_with_goto = true;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xea:                                      /* JMP far ptr */
        op->imm = o32 ? fetch_u32(d) : fetch_u16(d);
        op->imm2 = fetch_u16(d);
        op->fn = op_jmp_far;
        ENDS();
        break;
    case 0xf1:                                      /* INT1 / ICEBP */
        op->fn = op_icebp;
        ENDS();
        break;
    case 0xf4: op->fn = op_hlt; ENDS(); break;
    case 0xf5: op->fn = op_cmc; break;
    case 0xf6: case 0xf7: {                         /* group 3 */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        bool mem = op->flags & OPF_MEM;
        int sub = op->reg;
        switch (sub) {
        case 0: case 1:                             /* TEST Ev, imm */
            op->imm = fetch_imm(d, sz, false);
            if (!mem) {
                op->reg = op->rm;
            }
            op->fn = op_test[sz][mem ? 3 : 2];
            t->cc_effect = CC_OP_LOGIC8 + sz;
            break;
        case 2: case 3:                             /* NOT, NEG */
            if (!mem) {
                op->reg = op->rm;
            }
            op->fn = op_notneg[sub - 2][sz][mem];
            lock_ok = mem;
            if (sub == 2) {
                t->cc_effect = CC_EFFECT_KEEP;
            } else {
                t->cc_effect = CC_OP_SUB8 + sz;
            }
            break;
        default:                                    /* MUL IMUL DIV IDIV */
            op->fn = op_muldiv[sub - 4][sz][mem];
            break;
        }
        break;
    }
    case 0xf8: op->fn = op_clc; break;
    case 0xf9: op->fn = op_stc; break;
    case 0xfa: op->fn = op_cli; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xfb: op->fn = op_sti; ENDS(); break;
    case 0xfc: op->fn = op_cld; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xfd: op->fn = op_std; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xfe: case 0xff: {                         /* group 4/5 */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        bool mem = op->flags & OPF_MEM;
        int sub = op->reg;
        if (b == 0xfe && sub > 1) UD();
        switch (sub) {
        case 0: case 1:
            if (!mem) {
                op->reg = op->rm;
            }
            op->fn = op_incdec[sub][sz][mem];
            lock_ok = mem;
            break;
        case 2:                                     /* CALL Ev */
            op->fn = mem ? (o32 ? op_call_ind_m_l : op_call_ind_m_w) : (o32 ? op_call_ind_r_l : op_call_ind_r_w);
            ENDS();
            t->cc_effect = CC_EFFECT_KEEP;
            break;
        case 3:                                     /* CALL Mp */
            if (!mem) UD();
            op->fn = op_call_far_m;
            ENDS();
            break;
        case 4:                                     /* JMP Ev */
            op->fn = mem ? (o32 ? op_jmp_ind_m_l : op_jmp_ind_m_w) : (o32 ? op_jmp_ind_r_l : op_jmp_ind_r_w);
            ENDS();
            t->cc_effect = CC_EFFECT_KEEP;
            break;
        case 5:                                     /* JMP Mp */
            if (!mem) UD();
            op->fn = op_jmp_far_m;
            ENDS();
            break;
        case 6:                                     /* PUSH Ev */
            if (mem) {
                op->fn = o32 ? op_push_m_l : op_push_m_w;
            } else {
                op->reg = op->rm;
                op->fn = o32 ? op_push_r_l : op_push_r_w;
            }
            t->cc_effect = CC_EFFECT_KEEP;
            break;
        default:
            UD();
        }
        break;
    }
    default:
        /* 0x26.. prefixes handled above; 0xd6 SALC; remaining holes */
        UD();
    }
done:
    if (d->prefix_lock && !lock_ok) {
        op->fn = op_raise_ud;
        t->stop = true;
    }
}

static void decode_0f(Translator *t, Op *op)
{
    DecodeCtx *d = &t->d;
    CPUX86State *cpu = t->cpu;
    int vsz = d->opsize == 16 ? 1 : 2;
    int o32 = d->opsize == 32;
    bool pm = (cpu->hflags & HF_PE) && !(cpu->hflags & HF_VM);
    bool lock_ok = false;
    uint8_t modrm;
    uint8_t b = decode_fetch_u8(d);

    switch (b) {
    case 0x00:                                      /* group 6 */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!pm) UD();
        switch (op->reg) {
        case 0: op->fn = op_sldt; t->cc_effect = CC_EFFECT_KEEP; break;
        case 1: op->fn = op_str; t->cc_effect = CC_EFFECT_KEEP; break;
        case 2: op->fn = op_lldt; t->cc_effect = CC_EFFECT_KEEP; break;
        case 3: op->fn = op_ltr; t->cc_effect = CC_EFFECT_KEEP; break;
        case 4: op->fn = op_verr; break;
        case 5: op->fn = op_verw; break;
        default: UD();
        }
        break;
    case 0x01:                                      /* group 7 */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        switch (op->reg) {
        case 0: case 1: case 2: case 3:             /* SGDT SIDT LGDT LIDT */
            if (!(op->flags & OPF_MEM)) UD();
            op->fn = op->reg < 2 ? op_sxdt : op_lxdt;
            if (op->reg >= 2) ENDS();
            t->cc_effect = CC_EFFECT_KEEP;
            break;
        case 4: op->fn = op_smsw; t->cc_effect = CC_EFFECT_KEEP; break;
        case 6: op->fn = op_lmsw; ENDS(); t->cc_effect = CC_EFFECT_KEEP; break;
        case 7:
            if (!(op->flags & OPF_MEM)) UD();
            op->fn = op_invlpg;
            ENDS();
            t->cc_effect = CC_EFFECT_KEEP;
            break;
        default: UD();
        }
        break;
    case 0x02: case 0x03:                           /* LAR, LSL */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!pm) UD();
        op->imm = b == 0x03;
        op->fn = op_lar_lsl;
        break;
    case 0x06: op->fn = op_clts; ENDS(); t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x08: case 0x09: op->fn = op_invd; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x0b: UD();                                /* UD2 */
    case 0x0d:                                      /* prefetch hints (3DNow! form): NOP with ModRM */
    case 0x18 ... 0x1f:                             /* hint NOPs */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_nop;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x20: case 0x21: case 0x22: case 0x23:    /* MOV CRn/DRn */
        modrm = decode_fetch_u8(d);
        /* Always register operands; mod is ignored. */
        op->reg = (modrm >> 3) & 7;
        op->rm = modrm & 7;
        op->flags &= ~OPF_MEM;
        if (b == 0x20) op->fn = op_mov_from_cr;
        else if (b == 0x21) op->fn = op_mov_from_dr;
        else if (b == 0x22) { op->fn = op_mov_to_cr; ENDS(); }
        else { op->fn = op_mov_to_dr; ENDS(); }
        t->cc_effect = CC_EFFECT_UNKNOWN;
        break;
    case 0x30: op->fn = op_wrmsr; ENDS(); t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x31: op->fn = op_rdtsc; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x32: op->fn = op_rdmsr; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x33: op->fn = op_rdpmc; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0x34: op->fn = op_sysenter; ENDS(); break;
    case 0x35: op->fn = op_sysexit; ENDS(); break;
    case 0x40 ... 0x4f:                             /* CMOVcc */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->imm = b & 15;
        op->fn = op_cmov[vsz - 1][!!(op->flags & OPF_MEM)];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x80 ... 0x8f: {                           /* Jcc rel16/32 */
        int32_t rel = o32 ? (int32_t)fetch_u32(d) : (int16_t)fetch_u16(d);
        op->reg = b & 15;
        op->imm = mask_eip(t, d->pc + rel, d->opsize);
        op->disp = d->pc;
        op->fn = t->known_cc >= 0 ? jcc_handler_for(t->known_cc, b & 15) : op_jcc;
        t->end_with_goto = true;
        ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0x90 ... 0x9f:                             /* SETcc */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->imm = b & 15;
        op->fn = op_setcc[!!(op->flags & OPF_MEM)];
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xa0: case 0xa8:                           /* PUSH FS/GS */
        op->reg = b == 0xa0 ? R_FS : R_GS;
        op->fn = o32 ? op_push_seg_l : op_push_seg_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xa1: case 0xa9:                           /* POP FS/GS */
        op->reg = b == 0xa1 ? R_FS : R_GS;
        op->fn = o32 ? op_pop_seg_l : op_pop_seg_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xa2: op->fn = op_cpuid; t->cc_effect = CC_EFFECT_KEEP; break;
    case 0xa3: case 0xab: case 0xb3: case 0xbb: {  /* BT BTS BTR BTC Ev, Gv */
        static const int kinds[4] = { 0, 1, 2, 3 };
        int kind = kinds[(b >> 3) & 3];
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_bt[kind][vsz - 1][!!(op->flags & OPF_MEM)][0];
        lock_ok = kind != 0 && (op->flags & OPF_MEM);
        break;
    }
    case 0xa4: case 0xa5: case 0xac: case 0xad: {  /* SHLD/SHRD */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        int by_cl = b & 1;
        if (!by_cl) {
            op->imm = decode_fetch_u8(d);
        }
        op->fn = op_shd[b >= 0xac][vsz - 1][!!(op->flags & OPF_MEM)][by_cl];
        break;
    }
    case 0xaf:                                      /* IMUL Gv, Ev */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_imul2[vsz - 1][!!(op->flags & OPF_MEM)];
        break;
    case 0xb0: case 0xb1: {                         /* CMPXCHG */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_cmpxchg[sz][!!(op->flags & OPF_MEM)];
        lock_ok = op->flags & OPF_MEM;
        t->cc_effect = CC_OP_SUB8 + sz;
        break;
    }
    case 0xb2: case 0xb4: case 0xb5:                /* LSS LFS LGS */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (!(op->flags & OPF_MEM)) UD();
        op->imm2 = b == 0xb2 ? R_SS : b == 0xb4 ? R_FS : R_GS;
        op->fn = op_lxs;
        if (b == 0xb2) ENDS();
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: {  /* MOVZX / MOVSX */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        int kind = (b & 1) ? 2 : (o32 ? 1 : 0);
        bool mem = op->flags & OPF_MEM;
        if ((b & 1) && !o32) {
            op->fn = op_mov[1][mem ? 1 : 0];   /* Gw <- Ew */
        } else {
            op->fn = (b & 8) ? op_movsx[kind][mem] : op_movzx[kind][mem];
        }
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    }
    case 0xba: {                                    /* group 8: BT* Ev, Ib */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->reg < 4) UD();
        int kind = op->reg - 4;
        op->imm = decode_fetch_u8(d);
        op->fn = op_bt[kind][vsz - 1][!!(op->flags & OPF_MEM)][1];
        lock_ok = kind != 0 && (op->flags & OPF_MEM);
        break;
    }
    case 0xbc: case 0xbd:                           /* BSF, BSR */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_bsf[b & 1][vsz - 1][!!(op->flags & OPF_MEM)];
        break;
    case 0xc0: case 0xc1: {                         /* XADD */
        int sz = (b & 1) ? vsz : 0;
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        op->fn = op_xadd[sz][!!(op->flags & OPF_MEM)];
        lock_ok = op->flags & OPF_MEM;
        t->cc_effect = CC_OP_ADD8 + sz;
        break;
    }
    case 0xc7:                                      /* group 9: CMPXCHG8B */
        modrm = decode_fetch_u8(d);
        decode_modrm(d, op, modrm);
        if (op->reg != 1 || !(op->flags & OPF_MEM)) UD();
        op->fn = op_cmpxchg8b;
        lock_ok = true;
        break;
    case 0xc8 ... 0xcf:                             /* BSWAP */
        op->reg = b & 7;
        op->fn = o32 ? op_bswap_l : op_bswap_w;
        t->cc_effect = CC_EFFECT_KEEP;
        break;
    case 0x10 ... 0x17: case 0x28 ... 0x2f: case 0x50 ... 0x7f:
    case 0xae: case 0xc2 ... 0xc6: case 0xd0 ... 0xff:
        if (!simd_decode(d, op, b)) {
            UD();
        }
        t->cc_effect = CC_EFFECT_UNKNOWN;
        if (b == 0xae) {
            lock_ok = false;
        }
        break;
    default:
        UD();
    }
    if (d->prefix_lock && !lock_ok) {
        op->fn = op_raise_ud;
        t->stop = true;
    }
}

/* ---- blocks ---------------------------------------------------------------------- */

TB *translate_block(CPUX86State *cpu, uint32_t eip, uint32_t cs_base, uint32_t hflags,
                    uint64_t phys_pc)
{
    /* Room for the worst case: every instruction plus the links. */
    int max_ops = TB_MAX_INSNS + 4;
    TB *tb = tb_alloc(cpu, max_ops);
    if (!tb) {
        return NULL;
    }
    Translator t = { 0 };
    t.cpu = cpu;
    t.tb = tb;
    t.cs_base = cs_base;
    t.cs_limit = cpu->segs[R_CS].limit;
    t.d.cpu = cpu;
    t.d.hflags = hflags;
    t.d.priv = &t;
    t.page_lin = 1;            /* nothing mapped yet */
    t.first_page = (cs_base + eip) & ~0xfffu;
    t.known_cc = -1;
    tb->eip = eip;
    tb->cs_base = cs_base;
    tb->hflags = hflags;
    tb->phys_pc = phys_pc;
    tb->phys_page2 = RAM_PAGE_NONE;
    int max_insns = (hflags & (HF_TF | HF_SINGLE)) ? 1 : TB_MAX_INSNS;
    uint32_t pc = eip;
    bool log = log_enabled(LOG_IN_ASM);
    if (log) {
        log_printf("IN: %04x:%08x (lin %08x) hflags %x\n", cpu->segs[R_CS].selector, eip,
                   cs_base + eip, hflags);
    }
    for (;;) {
        Op *op = &tb->ops[tb->nops];
        memset(op, 0, sizeof(*op));
        t.d.eip = pc;
        t.d.pc = pc;
        t.stop = false;
        t.end_with_goto = false;
        if (sigsetjmp(t.abort_insn, 0)) {
            /* Fetch fault after the first instruction: stop before it. */
            t.stop = false;
            break;
        }
        decode_one(&t, op);
        uint32_t next = t.d.pc;
        if (!(hflags & HF_CODE32)) {
            next &= 0xffff;
        }
        op->eip = pc;
        op->len = (uint8_t)((next - pc) & (hflags & HF_CODE32 ? 0xffffffffu : 0xffffu));
        if (log) {
            log_printf("  %08x: len %u handler %p\n", pc, op->len, (void *)op->fn);
        }
        tb->nops++;
        t.ninsns++;
        if (t.cc_effect != CC_EFFECT_KEEP) {
            t.known_cc = t.cc_effect;
        }
        pc = next;
        if (t.end_with_goto) {
            op->ninsns = t.ninsns;
            emit_links(&t);
            goto finished;
        }
        if (t.stop) {
            op->ninsns = t.ninsns;
            goto finished;
        }
        if (t.ninsns >= max_insns || ((cs_base + pc) & ~0xfffu) != t.first_page) {
            break;
        }
    }
    /* Fall through into the next block. */
    {
        Op *op = &tb->ops[tb->nops++];
        memset(op, 0, sizeof(*op));
        op->fn = op_goto_next;
        op->eip = pc;
        op->imm = pc;
        op->ninsns = t.ninsns;
        emit_links(&t);
    }
finished:
    tb->ninsns = t.ninsns;
    tb->size = (pc - eip) & 0xffffffffu;
    if (hflags & HF_TF) {
        /* Every single-stepped instruction ends with a #DB trap: the
         * control-transfer ops exit to the loop, which checks TF. */
    }
    tb_commit(cpu, tb);
    return tb;
}
