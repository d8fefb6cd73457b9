/*
 * MMX: the 57 instructions of the original MMX set (Pentium MMX / P6).
 *
 * MMi is the significand of the physical x87 register Ri (not ST(i)).
 * Every MMX instruction except EMMS sets TOP to 0 and marks all eight
 * registers in use; one that writes MMi also sets Ri's sign and exponent
 * to all ones, so the value reads as a NaN to x87 code. EMMS empties the
 * tag word (and also sets TOP to 0). FIP, FDP and FOP are left alone. Like x87 instructions, MMX ones report a pending x87
 * exception first (#MF / FERR#); CR0.EM makes them #UD, CR0.TS #NM.
 *
 * Encodings with a 66, F2 or F3 prefix are the SSE2 forms and #UD here.
 */
#include "cpu/ops.h"
#include "cpu/fpu-math.h"
#include "mmx.h"

/* ---- register file ------------------------------------------------------------ */

static inline uint64_t mm_get(const CPUX86State *cpu, int i)
{
    return cpu->fpu.st[i].mant;
}

static inline void mm_set(CPUX86State *cpu, int i, uint64_t v)
{
    cpu->fpu.st[i].mant = v;
    cpu->fpu.st[i].sign_exp = 0xffff;
}

static inline void mmx_begin(CPUX86State *cpu, Op *op)
{
    mmx_check(cpu, op);
    if (unlikely(cpu->fpu.fsw & FSW_ES)) {
        fpu_check_pending(cpu, op);
    }
}

/* After the last possible fault: the x87 view of an MMX instruction. */
static inline void mmx_touch(CPUX86State *cpu)
{
    X86FPUState *f = &cpu->fpu;
    f->top = 0;
    for (int i = 0; i < 8; i++) {
        f->ftag[i] = fpm_tag(&f->st[i]);
    }
}

/* ---- lane arithmetic ----------------------------------------------------------- */

#define LANES(bits) (64 / (bits))
#define LANE_MASK(bits) ((bits) == 64 ? ~0ull : ((1ull << (bits)) - 1))

static inline uint64_t lane(uint64_t v, int bits, int i)
{
    return (v >> (i * bits)) & LANE_MASK(bits);
}

static inline int64_t slane(uint64_t v, int bits, int i)
{
    uint64_t u = lane(v, bits, i);
    return (int64_t)(u << (64 - bits)) >> (64 - bits);
}

static inline int64_t sat_s(int64_t v, int bits)
{
    int64_t max = (1ll << (bits - 1)) - 1, min = -max - 1;
    return v > max ? max : v < min ? min : v;
}

static inline int64_t sat_u(int64_t v, int bits)
{
    int64_t max = (1ll << bits) - 1;
    return v > max ? max : v < 0 ? 0 : v;
}

/* A lane-wise operation over 'bits'-wide lanes: r_i = EXPR(x, y) with
 * x, y the lanes (signed or unsigned per S). */
#define LANEWISE(name, bits, get, expr)                                         \
static uint64_t name(uint64_t a, uint64_t b)                                    \
{                                                                               \
    uint64_t r = 0;                                                             \
    for (int i = 0; i < LANES(bits); i++) {                                     \
        int64_t x = get(a, bits, i), y = get(b, bits, i);                       \
        r |= ((uint64_t)(expr) & LANE_MASK(bits)) << (i * bits);                \
    }                                                                           \
    return r;                                                                   \
}

#define ULANE(v, bits, i) ((int64_t)lane(v, bits, i))

LANEWISE(paddb, 8, ULANE, x + y)
LANEWISE(paddw, 16, ULANE, x + y)
LANEWISE(paddd, 32, ULANE, x + y)
LANEWISE(psubb, 8, ULANE, x - y)
LANEWISE(psubw, 16, ULANE, x - y)
LANEWISE(psubd, 32, ULANE, x - y)
LANEWISE(paddsb, 8, slane, sat_s(x + y, 8))
LANEWISE(paddsw, 16, slane, sat_s(x + y, 16))
LANEWISE(psubsb, 8, slane, sat_s(x - y, 8))
LANEWISE(psubsw, 16, slane, sat_s(x - y, 16))
LANEWISE(paddusb, 8, ULANE, sat_u(x + y, 8))
LANEWISE(paddusw, 16, ULANE, sat_u(x + y, 16))
LANEWISE(psubusb, 8, ULANE, sat_u(x - y, 8))
LANEWISE(psubusw, 16, ULANE, sat_u(x - y, 16))
LANEWISE(pcmpeqb, 8, ULANE, x == y ? -1 : 0)
LANEWISE(pcmpeqw, 16, ULANE, x == y ? -1 : 0)
LANEWISE(pcmpeqd, 32, ULANE, x == y ? -1 : 0)
LANEWISE(pcmpgtb, 8, slane, x > y ? -1 : 0)
LANEWISE(pcmpgtw, 16, slane, x > y ? -1 : 0)
LANEWISE(pcmpgtd, 32, slane, x > y ? -1 : 0)
LANEWISE(pmullw, 16, slane, x * y)
LANEWISE(pmulhw, 16, slane, (x * y) >> 16)

static uint64_t pand(uint64_t a, uint64_t b) { return a & b; }
static uint64_t pandn(uint64_t a, uint64_t b) { return ~a & b; }
static uint64_t por(uint64_t a, uint64_t b) { return a | b; }
static uint64_t pxor(uint64_t a, uint64_t b) { return a ^ b; }

static uint64_t pmaddwd(uint64_t a, uint64_t b)
{
    uint64_t r = 0;
    for (int i = 0; i < 2; i++) {
        int64_t s = slane(a, 16, 2 * i) * slane(b, 16, 2 * i) +
                    slane(a, 16, 2 * i + 1) * slane(b, 16, 2 * i + 1);
        r |= ((uint64_t)s & 0xffffffffu) << (32 * i);
    }
    return r;
}

/* Packs: the lanes of a then b, narrowed with saturation. */
#define PACK(name, bits, sat)                                                   \
static uint64_t name(uint64_t a, uint64_t b)                                    \
{                                                                               \
    uint64_t r = 0;                                                             \
    int n = LANES(bits);                                                        \
    for (int i = 0; i < n; i++) {                                               \
        r |= ((uint64_t)sat(slane(a, bits, i), bits / 2) & LANE_MASK(bits / 2)) \
             << (i * bits / 2);                                                 \
        r |= ((uint64_t)sat(slane(b, bits, i), bits / 2) & LANE_MASK(bits / 2)) \
             << ((i + n) * bits / 2);                                           \
    }                                                                           \
    return r;                                                                   \
}

PACK(packsswb, 16, sat_s)
PACK(packssdw, 32, sat_s)
PACK(packuswb, 16, sat_u)

/* Unpacks: interleave the low (or high) halves' lanes of a and b. */
#define UNPACK(name, bits, high)                                                \
static uint64_t name(uint64_t a, uint64_t b)                                    \
{                                                                               \
    uint64_t r = 0;                                                             \
    int n = LANES(bits) / 2, base = (high) ? n : 0;                             \
    for (int i = 0; i < n; i++) {                                               \
        r |= lane(a, bits, base + i) << (2 * i * bits);                         \
        r |= lane(b, bits, base + i) << ((2 * i + 1) * bits);                   \
    }                                                                           \
    return r;                                                                   \
}

UNPACK(punpcklbw, 8, 0)
UNPACK(punpcklwd, 16, 0)
UNPACK(punpckldq, 32, 0)
UNPACK(punpckhbw, 8, 1)
UNPACK(punpckhwd, 16, 1)
UNPACK(punpckhdq, 32, 1)

/* Shifts by the count in b (all 64 bits count: anything beyond the lane
 * width clears the lane, or fills it with the sign). */
#define SHIFT(name, bits, expr_in_range, expr_out)                              \
static uint64_t name(uint64_t a, uint64_t b)                                    \
{                                                                               \
    uint64_t r = 0;                                                             \
    for (int i = 0; i < LANES(bits); i++) {                                     \
        uint64_t x = lane(a, bits, i);                                          \
        int64_t sx = slane(a, bits, i);                                         \
        uint64_t v = b < (bits) ? (uint64_t)(expr_in_range) : (uint64_t)(expr_out); \
        (void)x; (void)sx;                                                      \
        r |= (v & LANE_MASK(bits)) << (i * bits);                               \
    }                                                                           \
    return r;                                                                   \
}

SHIFT(psllw, 16, x << b, 0)
SHIFT(pslld, 32, x << b, 0)
SHIFT(psllq, 64, x << b, 0)
SHIFT(psrlw, 16, x >> b, 0)
SHIFT(psrld, 32, x >> b, 0)
SHIFT(psrlq, 64, x >> b, 0)
SHIFT(psraw, 16, sx >> b, sx >> 15)
SHIFT(psrad, 32, sx >> b, sx >> 31)

typedef uint64_t MMXFn(uint64_t a, uint64_t b);

enum {
    M_PADDB, M_PADDW, M_PADDD, M_PSUBB, M_PSUBW, M_PSUBD,
    M_PADDSB, M_PADDSW, M_PSUBSB, M_PSUBSW, M_PADDUSB, M_PADDUSW, M_PSUBUSB, M_PSUBUSW,
    M_PCMPEQB, M_PCMPEQW, M_PCMPEQD, M_PCMPGTB, M_PCMPGTW, M_PCMPGTD,
    M_PMULLW, M_PMULHW, M_PMADDWD, M_PAND, M_PANDN, M_POR, M_PXOR,
    M_PACKSSWB, M_PACKSSDW, M_PACKUSWB,
    M_PUNPCKLBW, M_PUNPCKLWD, M_PUNPCKLDQ, M_PUNPCKHBW, M_PUNPCKHWD, M_PUNPCKHDQ,
    M_PSLLW, M_PSLLD, M_PSLLQ, M_PSRLW, M_PSRLD, M_PSRLQ, M_PSRAW, M_PSRAD,
};

static MMXFn *const mmx_fns[] = {
    [M_PADDB] = paddb, [M_PADDW] = paddw, [M_PADDD] = paddd,
    [M_PSUBB] = psubb, [M_PSUBW] = psubw, [M_PSUBD] = psubd,
    [M_PADDSB] = paddsb, [M_PADDSW] = paddsw, [M_PSUBSB] = psubsb, [M_PSUBSW] = psubsw,
    [M_PADDUSB] = paddusb, [M_PADDUSW] = paddusw, [M_PSUBUSB] = psubusb, [M_PSUBUSW] = psubusw,
    [M_PCMPEQB] = pcmpeqb, [M_PCMPEQW] = pcmpeqw, [M_PCMPEQD] = pcmpeqd,
    [M_PCMPGTB] = pcmpgtb, [M_PCMPGTW] = pcmpgtw, [M_PCMPGTD] = pcmpgtd,
    [M_PMULLW] = pmullw, [M_PMULHW] = pmulhw, [M_PMADDWD] = pmaddwd,
    [M_PAND] = pand, [M_PANDN] = pandn, [M_POR] = por, [M_PXOR] = pxor,
    [M_PACKSSWB] = packsswb, [M_PACKSSDW] = packssdw, [M_PACKUSWB] = packuswb,
    [M_PUNPCKLBW] = punpcklbw, [M_PUNPCKLWD] = punpcklwd, [M_PUNPCKLDQ] = punpckldq,
    [M_PUNPCKHBW] = punpckhbw, [M_PUNPCKHWD] = punpckhwd, [M_PUNPCKHDQ] = punpckhdq,
    [M_PSLLW] = psllw, [M_PSLLD] = pslld, [M_PSLLQ] = psllq,
    [M_PSRLW] = psrlw, [M_PSRLD] = psrld, [M_PSRLQ] = psrlq,
    [M_PSRAW] = psraw, [M_PSRAD] = psrad,
};

/* ---- handlers ------------------------------------------------------------------------ */

/* MMreg = f(MMreg, MMrm or m64); op->imm2 = M_*. */
static Op *op_mmx_binop(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    uint64_t b = (op->flags & OPF_MEM) ? ldq_ea(cpu, op) : mm_get(cpu, op->rm);
    mmx_touch(cpu);
    mm_set(cpu, op->reg, mmx_fns[op->imm2](mm_get(cpu, op->reg), b));
    NEXT(op);
}

/* MMrm = shift(MMrm, imm8) (0F 71-73 groups); op->imm = count. */
static Op *op_mmx_shift_imm(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    mmx_touch(cpu);
    mm_set(cpu, op->rm, mmx_fns[op->imm2](mm_get(cpu, op->rm), op->imm));
    NEXT(op);
}

/* MOVD mm, r/m32 */
static Op *op_movd_mm_ed(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    uint32_t v = (op->flags & OPF_MEM) ? ldl_ea(cpu, op) : cpu->regs[op->rm];
    mmx_touch(cpu);
    mm_set(cpu, op->reg, v);
    NEXT(op);
}

/* MOVD r/m32, mm */
static Op *op_movd_ed_mm(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    uint32_t v = (uint32_t)mm_get(cpu, op->reg);
    if (op->flags & OPF_MEM) {
        stl_ea(cpu, op, v);
    } else {
        cpu->regs[op->rm] = v;
    }
    mmx_touch(cpu);
    NEXT(op);
}

/* MOVQ mm, mm/m64 */
static Op *op_movq_mm_q(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    uint64_t v = (op->flags & OPF_MEM) ? ldq_ea(cpu, op) : mm_get(cpu, op->rm);
    mmx_touch(cpu);
    mm_set(cpu, op->reg, v);
    NEXT(op);
}

/* MOVQ mm/m64, mm */
static Op *op_movq_q_mm(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    uint64_t v = mm_get(cpu, op->reg);
    if (op->flags & OPF_MEM) {
        stq_ea(cpu, op, v);
        mmx_touch(cpu);
    } else {
        mmx_touch(cpu);
        mm_set(cpu, op->rm, v);
    }
    NEXT(op);
}

static Op *op_emms(CPUX86State *cpu, Op *op)
{
    mmx_begin(cpu, op);
    cpu->fpu.top = 0;     /* as for every MMX instruction (SDM Vol. 3, 12.2) */
    for (int i = 0; i < 8; i++) {
        cpu->fpu.ftag[i] = FTAG_EMPTY;
    }
    NEXT(op);
}

/* ---- decoding ----------------------------------------------------------------------------- */

/* Pq, Qq binary operations by second opcode byte (-1: not one). */
static int mmx_binop_index(uint8_t b)
{
    switch (b) {
    case 0x60: return M_PUNPCKLBW;
    case 0x61: return M_PUNPCKLWD;
    case 0x62: return M_PUNPCKLDQ;
    case 0x63: return M_PACKSSWB;
    case 0x64: return M_PCMPGTB;
    case 0x65: return M_PCMPGTW;
    case 0x66: return M_PCMPGTD;
    case 0x67: return M_PACKUSWB;
    case 0x68: return M_PUNPCKHBW;
    case 0x69: return M_PUNPCKHWD;
    case 0x6a: return M_PUNPCKHDQ;
    case 0x6b: return M_PACKSSDW;
    case 0x74: return M_PCMPEQB;
    case 0x75: return M_PCMPEQW;
    case 0x76: return M_PCMPEQD;
    case 0xd1: return M_PSRLW;
    case 0xd2: return M_PSRLD;
    case 0xd3: return M_PSRLQ;
    case 0xd5: return M_PMULLW;
    case 0xd8: return M_PSUBUSB;
    case 0xd9: return M_PSUBUSW;
    case 0xdb: return M_PAND;
    case 0xdc: return M_PADDUSB;
    case 0xdd: return M_PADDUSW;
    case 0xdf: return M_PANDN;
    case 0xe1: return M_PSRAW;
    case 0xe2: return M_PSRAD;
    case 0xe5: return M_PMULHW;
    case 0xe8: return M_PSUBSB;
    case 0xe9: return M_PSUBSW;
    case 0xeb: return M_POR;
    case 0xec: return M_PADDSB;
    case 0xed: return M_PADDSW;
    case 0xef: return M_PXOR;
    case 0xf1: return M_PSLLW;
    case 0xf2: return M_PSLLD;
    case 0xf3: return M_PSLLQ;
    case 0xf5: return M_PMADDWD;
    case 0xf8: return M_PSUBB;
    case 0xf9: return M_PSUBW;
    case 0xfa: return M_PSUBD;
    case 0xfc: return M_PADDB;
    case 0xfd: return M_PADDW;
    case 0xfe: return M_PADDD;
    }
    return -1;
}

bool mmx_decode(DecodeCtx *d, Op *op, uint8_t opcode)
{
    if (d->prefix_66 || d->prefix_f2 || d->prefix_f3) {
        return false;
    }
    if (opcode == 0x77) {
        op->fn = op_emms;
        return true;
    }
    int idx = mmx_binop_index(opcode);
    bool known = idx >= 0 || opcode == 0x6e || opcode == 0x6f || opcode == 0x7e ||
                 opcode == 0x7f || (opcode >= 0x71 && opcode <= 0x73);
    if (!known) {
        return false;
    }
    uint8_t modrm = decode_fetch_u8(d);
    decode_modrm(d, op, modrm);
    if (idx >= 0) {
        op->fn = op_mmx_binop;
        op->imm2 = idx;
        return true;
    }
    switch (opcode) {
    case 0x6e: op->fn = op_movd_mm_ed; return true;
    case 0x7e: op->fn = op_movd_ed_mm; return true;
    case 0x6f: op->fn = op_movq_mm_q; return true;
    case 0x7f: op->fn = op_movq_q_mm; return true;
    }
    /* 0F 71-73: shift groups, register operand and imm8 only. */
    if (op->flags & OPF_MEM) {
        return false;
    }
    static const int8_t groups[3][8] = {
        { -1, -1, M_PSRLW, -1, M_PSRAW, -1, M_PSLLW, -1 },
        { -1, -1, M_PSRLD, -1, M_PSRAD, -1, M_PSLLD, -1 },
        { -1, -1, M_PSRLQ, -1, -1, -1, M_PSLLQ, -1 },
    };
    int fn = groups[opcode - 0x71][op->reg];
    if (fn < 0) {
        return false;
    }
    op->imm = decode_fetch_u8(d);
    op->fn = op_mmx_shift_imm;
    op->imm2 = fn;
    return true;
}
