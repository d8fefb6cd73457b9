/*
 * Decimal arithmetic: DAA DAS AAA AAS AAM AAD.
 * Undefined flags (OF for DAA/DAS; OF/SF/ZF/PF for AAA/AAS; OF/AF/CF for
 * AAM/AAD): OF = 0, SF/ZF/PF from AL, AF/CF = 0 where undefined.
 */
#include "ops-common.h"
#include "ops-list.h"

static void set_al_flags(CPUX86State *cpu, uint8_t al, uint32_t extra)
{
    uint32_t f = parity_flag(al) | (al == 0 ? CC_Z : 0) | (al & 0x80 ? CC_S : 0);
    cc_set_eflags(cpu, f | extra);
}

Op *op_daa(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu);
    uint8_t al = reg8_get(cpu, 0), old = al;
    uint32_t out = 0;
    if ((al & 0xf) > 9 || (f & CC_A)) {
        al += 6;
        out |= CC_A;
    }
    if (old > 0x99 || (f & CC_C)) {
        al += 0x60;
        out |= CC_C;
    }
    reg8_set(cpu, 0, al);
    set_al_flags(cpu, al, out);
    NEXT(op);
}

Op *op_das(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu);
    uint8_t al = reg8_get(cpu, 0), old = al;
    uint32_t out = 0;
    if ((al & 0xf) > 9 || (f & CC_A)) {
        if (al < 6) {
            out |= CC_C;
        }
        al -= 6;
        out |= CC_A;
    }
    if (old > 0x99 || (f & CC_C)) {
        al -= 0x60;
        out |= CC_C;
    }
    reg8_set(cpu, 0, al);
    set_al_flags(cpu, al, out);
    NEXT(op);
}

Op *op_aaa(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu);
    uint32_t out = 0;
    uint16_t ax = cpu->regs[R_EAX];
    if ((ax & 0xf) > 9 || (f & CC_A)) {
        ax += 0x106;
        out = CC_A | CC_C;
    }
    ax &= 0xff0f;
    reg16_set(cpu, R_EAX, ax);
    set_al_flags(cpu, (uint8_t)ax, out);
    NEXT(op);
}

Op *op_aas(CPUX86State *cpu, Op *op)
{
    uint32_t f = cc_compute_all(cpu);
    uint32_t out = 0;
    uint16_t ax = cpu->regs[R_EAX];
    if ((ax & 0xf) > 9 || (f & CC_A)) {
        uint8_t al = (uint8_t)ax - 6;
        uint8_t ah = (uint8_t)(ax >> 8) - 1;
        ax = (ah << 8) | al;
        out = CC_A | CC_C;
    }
    ax &= 0xff0f;
    reg16_set(cpu, R_EAX, ax);
    set_al_flags(cpu, (uint8_t)ax, out);
    NEXT(op);
}

Op *op_aam(CPUX86State *cpu, Op *op)
{
    uint8_t base = op->imm;
    if (base == 0) {
        raise_exception(cpu, op, EXCP_DE);
    }
    uint8_t al = reg8_get(cpu, 0);
    uint8_t q = al / base, r = al % base;
    reg16_set(cpu, R_EAX, (q << 8) | r);
    set_al_flags(cpu, r, 0);
    NEXT(op);
}

Op *op_aad(CPUX86State *cpu, Op *op)
{
    uint8_t base = op->imm;
    uint8_t al = reg8_get(cpu, 0) + reg8_get(cpu, 4) * base;
    reg16_set(cpu, R_EAX, al);
    set_al_flags(cpu, al, 0);
    NEXT(op);
}
