/*
 * The FPU's system-level behaviour in the emulated CPU, by small guest
 * programs: #NM for CR0.EM/TS (and WAIT with TS+MP), #MF at the next
 * waiting instruction with CR0.NE, the FERR# line (IRQ13 path) without
 * it, ES/B bookkeeping, FIP/FDP/FOP recording, FNSTENV/FNSAVE layouts in
 * protected and real mode, FINIT/FCLEX/FLDCW details, FXSAVE/FXRSTOR
 * images and alignment, and the CPUID feature bits.
 */
#include <check.h>
#include <stdio.h>

#include "cpu/fpu-math.h"
#include "hw/irq.h"
#include "fpu-guest.h"

static Guest *guest;
static int ferr_level, ferr_edges;

static void ferr_handler(void *opaque, int n, int level)
{
    if (level && !ferr_level) {
        ferr_edges++;
    }
    ferr_level = level;
}

static void setup(void)
{
    guest = guest_new();
    guest->cpu->ferr_line = irq_new(ferr_handler, NULL, 0);
}

static void teardown(void)
{
    irq_free(guest->cpu->ferr_line);
    guest->cpu->ferr_line = NULL;
    guest_free(guest);
}

static void fresh_fpu(void)
{
    CPUX86State *cpu = guest->cpu;
    cpu->cr[0] = (cpu->cr[0] & ~(CR0_EM | CR0_TS | CR0_MP)) | CR0_NE;
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    cpu->fpu.fcw = 0x037f;
    cpu->fpu.mxcsr = 0x1f80;
    for (int i = 0; i < 8; i++) {
        cpu->fpu.ftag[i] = FTAG_EMPTY;
    }
    ferr_level = 0;
    ferr_edges = 0;
}

#define RUN(...)                                                    \
    ({                                                              \
        static const uint8_t code_[] = { __VA_ARGS__ };             \
        guest_set_code(guest, code_, sizeof(code_));                \
        guest_run(guest);                                           \
    })

/* EIP the exception handler found on its stack (interrupt gate frame). */
static uint32_t fault_eip(void)
{
    uint32_t v;
    memcpy(&v, guest->mem + guest->cpu->regs[R_ESP], 4);
    return v;
}

static uint32_t rd32(uint32_t a)
{
    uint32_t v;
    memcpy(&v, guest->mem + a, 4);
    return v;
}

static uint16_t rd16(uint32_t a)
{
    uint16_t v;
    memcpy(&v, guest->mem + a, 2);
    return v;
}

START_TEST(test_nm)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->cr[0] |= CR0_EM;
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXCP_NM);                  /* fld1 */
    ck_assert_int_eq(RUN(0xdb, 0xe3), EXCP_NM);                  /* fninit */
    ck_assert_int_eq(RUN(0x9b), -1);                              /* wait: EM alone is fine */
    cpu->cr[0] = (cpu->cr[0] & ~CR0_EM) | CR0_TS;
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXCP_NM);
    ck_assert_int_eq(RUN(0xdf, 0xe0), EXCP_NM);                  /* fnstsw ax */
    ck_assert_int_eq(RUN(0x9b), -1);                              /* wait: TS without MP */
    cpu->cr[0] |= CR0_MP;
    ck_assert_int_eq(RUN(0x9b), EXCP_NM);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x00), EXCP_NM);            /* fxsave [eax] */
    cpu->cr[0] &= ~(CR0_TS | CR0_MP);
    cpu->regs[R_EAX] = DATA_ADDR;
    ck_assert_int_eq(RUN(0xd9, 0xe8), -1);
    ck_assert_int_eq(cpu->fpu.top, 7);
}
END_TEST

START_TEST(test_mf_and_es)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    /* fldcw [eax] (ZE unmasked); fldz; fld1; fdiv st0, st1: 1/0 */
    cpu->regs[R_EAX] = DATA_ADDR;
    uint16_t cw = 0x037b;
    memcpy(guest->mem + DATA_ADDR, &cw, 2);
    ck_assert_int_eq(RUN(0xd9, 0x28, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1), -1);
    /* Unmasked divide by zero: flag, ES and B, the operand untouched. */
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_ZE | FSW_ES | FSW_B), FSW_ZE | FSW_ES | FSW_B);
    ck_assert_uint_eq(cpu->fpu.st[cpu->fpu.top].sign_exp, 0x3fff);
    uint32_t fdiv_eip = guest->code + 6;
    ck_assert_uint_eq(cpu->fpu.fip, fdiv_eip);
    ck_assert_uint_eq(cpu->fpu.fop, 0x0f1);
    /* Non-waiting instructions go through; the next waiting one faults
     * before it does anything (FIP still names the FDIV). */
    ck_assert_int_eq(RUN(0xdf, 0xe0), -1);                        /* fnstsw ax */
    ck_assert_uint_eq(cpu->regs[R_EAX] & 0xffff, FSW_B | (6 << 11) | FSW_ES | FSW_ZE);
    ck_assert_int_eq(RUN(0xd9, 0xe8), EXCP_MF);                   /* fld1 */
    ck_assert_uint_eq(fault_eip(), guest->code);
    ck_assert_int_eq(cpu->fpu.top, 6);
    ck_assert_uint_eq(cpu->fpu.fip, fdiv_eip);
    ck_assert_int_eq(RUN(0x9b), EXCP_MF);                         /* wait */
    ck_assert_int_eq(ferr_edges, 0);
    /* FNCLEX clears it; then all is well. */
    ck_assert_int_eq(RUN(0xdb, 0xe2, 0x9b, 0xd9, 0xe8), -1);
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_EXC_MASK | FSW_ES | FSW_B), 0);
    ck_assert_int_eq(cpu->fpu.top, 5);

    /* FLDCW that unmasks a set flag makes it pending; masking it again
     * takes it away. */
    fresh_fpu();
    cpu->regs[R_EAX] = DATA_ADDR;
    ck_assert_int_eq(RUN(0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1), -1);   /* masked 1/0 */
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_ZE | FSW_ES), FSW_ZE);
    ck_assert_int_eq(RUN(0xd9, 0x28), -1);                          /* fldcw 037b */
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_ES | FSW_B), FSW_ES | FSW_B);
    cw = 0x037f;
    memcpy(guest->mem + DATA_ADDR + 2, &cw, 2);
    ck_assert_int_eq(RUN(0xd9, 0x68, 0x02), EXCP_MF);               /* fldcw is waiting */
    /* Stores of the status: FNSTSW m16 and FNSTCW. */
    ck_assert_int_eq(RUN(0xdd, 0x78, 0x08, 0xd9, 0x78, 0x0a), -1);
    ck_assert_uint_eq(rd16(DATA_ADDR + 8) & 0x80ff, 0x8084);
    ck_assert_uint_eq(rd16(DATA_ADDR + 10), 0x037b);
}
END_TEST

START_TEST(test_ferr_irq13_path)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->cr[0] &= ~CR0_NE;
    cpu->regs[R_EAX] = DATA_ADDR;
    uint16_t cw = 0x037b;
    memcpy(guest->mem + DATA_ADDR, &cw, 2);
    ck_assert_int_eq(RUN(0xd9, 0x28, 0xd9, 0xee, 0xd9, 0xe8, 0xd8, 0xf1), -1);
    ck_assert_int_eq(ferr_level, 0);
    /* The next waiting instruction asserts FERR# instead of #MF. */
    ck_assert_int_eq(RUN(0x9b), -1);
    ck_assert_int_eq(ferr_level, 1);
    ck_assert_int_eq(ferr_edges, 1);
    /* FNCLEX (as an IRQ13 handler does) deasserts it. */
    ck_assert_int_eq(RUN(0xdb, 0xe2), -1);
    ck_assert_int_eq(ferr_level, 0);
    /* FNINIT and FNSAVE do too. */
    ck_assert_int_eq(RUN(0xd9, 0xe8, 0xd8, 0xf2, 0x9b), -1);      /* 1/0 again, wait */
    ck_assert_int_eq(ferr_level, 1);
    ck_assert_int_eq(RUN(0xdb, 0xe3), -1);
    ck_assert_int_eq(ferr_level, 0);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    cpu->cr[0] |= CR0_NE;
}
END_TEST

START_TEST(test_pointers_and_env32)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    /* fld1; fadd dword [ebx+4]; fnstcw [ebx]; fnstenv [ebx+16] */
    cpu->regs[R_EBX] = DATA_ADDR;
    uint32_t two = 0x40000000;
    memcpy(guest->mem + DATA_ADDR + 4, &two, 4);
    ck_assert_int_eq(RUN(0xd9, 0xe8, 0xd8, 0x43, 0x04, 0xd9, 0x3b, 0xd9, 0x73, 0x10), -1);
    uint32_t env = DATA_ADDR + 16;
    ck_assert_uint_eq(rd32(env + 0), 0xffff037f);
    ck_assert_uint_eq(rd32(env + 4), 0xffff0000 | (7 << 11));
    ck_assert_uint_eq(rd32(env + 8), 0xffff3fff);                 /* ST(0) = phys 7 valid */
    ck_assert_uint_eq(rd32(env + 12), guest->code + 2);           /* FIP: the FADD */
    ck_assert_uint_eq(rd32(env + 16), 0x08 | (0x043u << 16));     /* FCS, FOP */
    ck_assert_uint_eq(rd32(env + 20), DATA_ADDR + 4);             /* FDP */
    ck_assert_uint_eq(rd32(env + 24), 0xffff0010);                /* FDS */
    /* FNSTENV then masks everything. */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    /* FLDENV of a changed image: tags of non-empty registers come from
     * their contents, ES from flags and masks. */
    uint32_t w[7];
    memcpy(w, guest->mem + env, 28);
    w[0] = 0x037e;             /* IE unmasked */
    w[1] = 0x0001 | (7 << 11); /* IE set, no ES in the image */
    w[2] = 0x7fff;             /* ST(0) marked "empty"?: 01 = zero; phys 7 -> 01 */
    memcpy(guest->mem + env, w, 28);
    ck_assert_int_eq(RUN(0xd9, 0x63, 0x10), -1);                  /* fldenv [ebx+16] */
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_ES | FSW_B | FSW_IE), FSW_ES | FSW_B | FSW_IE);
    ck_assert_int_eq(cpu->fpu.ftag[7], FTAG_VALID);                /* 3.0 is valid, not zero */
    ck_assert_int_eq(RUN(0xdb, 0xe2), -1);
}
END_TEST

START_TEST(test_fsave_frstor)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->regs[R_EBX] = DATA_ADDR;
    /* fldpi; fld1; fnsave [ebx]: registers in stack order, then FNINIT. */
    ck_assert_int_eq(RUN(0xd9, 0xeb, 0xd9, 0xe8, 0xdd, 0x33), -1);
    ck_assert_uint_eq(rd16(DATA_ADDR + 4), 6 << 11);
    ck_assert_uint_eq(rd16(DATA_ADDR + 8), 0x0fff);
    ck_assert_uint_eq(rd32(DATA_ADDR + 28 + 4), 0x80000000);       /* ST(0) = 1.0 */
    ck_assert_uint_eq(rd16(DATA_ADDR + 28 + 8), 0x3fff);
    ck_assert_uint_eq(rd16(DATA_ADDR + 38 + 8), 0x4000);           /* ST(1) = pi */
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    ck_assert_int_eq(cpu->fpu.top, 0);
    ck_assert_int_eq(cpu->fpu.ftag[6], FTAG_EMPTY);
    /* frstor [ebx]; fsubp st1, st0 (pi - 1)... 16-bit layout round trip:
     * o16 fnsave [ebx+0x80]; o16 frstor [ebx+0x80] */
    ck_assert_int_eq(RUN(0xdd, 0x23, 0x66, 0xdd, 0xb3, 0x80, 0x00, 0x00, 0x00,
                         0x66, 0xdd, 0xa3, 0x80, 0x00, 0x00, 0x00), -1);
    ck_assert_int_eq(cpu->fpu.top, 6);
    ck_assert_uint_eq(cpu->fpu.st[6].sign_exp, 0x3fff);
    ck_assert_uint_eq(cpu->fpu.st[7].mant, 0xc90fdaa22168c235ull);
    ck_assert_uint_eq(rd16(DATA_ADDR + 0x80 + 2), 6 << 11);        /* 16-bit: FSW at 2 */
    ck_assert_uint_eq(rd16(DATA_ADDR + 0x80 + 4), 0x0fff);
    ck_assert_uint_eq(rd16(DATA_ADDR + 0x80 + 14 + 8), 0x3fff);    /* ST(0) at 14 */
}
END_TEST

/* Real mode: the environment holds linear pointers with FOP inside. */
START_TEST(test_env_realmode)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    /* A 16-bit real-mode code segment at 0x10000 (CS = 0x1000). */
    static const uint8_t code[] = {
        0xd9, 0xe8,                         /* fld1 */
        0xd8, 0x47, 0x04,                   /* fadd dword [bx+4] */
        0xd9, 0x37,                         /* fnstenv [bx]   (o16: 14 bytes) */
        0x66, 0xd9, 0x77, 0x20,             /* o32 fnstenv [bx+0x20] (28 bytes) */
        0xf4,
    };
    memcpy(guest->mem + 0x10000, code, sizeof(code));
    uint32_t cr0 = cpu->cr[0];
    SegmentCache saved[6];
    memcpy(saved, cpu->segs, sizeof(saved));
    cpu->cr[0] &= ~CR0_PE;
    for (int s = 0; s < 6; s++) {
        cpu->segs[s].selector = s == R_CS ? 0x1000 : 0x0300;
        cpu->segs[s].base = s == R_CS ? 0x10000 : 0x3000;
        cpu->segs[s].limit = 0xffff;
        cpu->segs[s].flags = DESC_P | DESC_S | DESC_A | (s == R_CS ? DESC_CODE | DESC_R : DESC_W);
    }
    cpu->regs[R_EBX] = 0x40;
    uint32_t two = 0x40000000;
    memcpy(guest->mem + 0x3044, &two, 4);
    cpu_sync_after_state_change(cpu);
    cpu->eip = 0;
    cpu->halted = false;
    for (int i = 0; i < 10 && !cpu->halted; i++) {
        cpu_exec(cpu, 100);
    }
    ck_assert(cpu->halted);
    uint32_t e16 = 0x3040, e32 = 0x3060;
    ck_assert_uint_eq(rd16(e16 + 0), 0x037f);
    ck_assert_uint_eq(rd16(e16 + 6), 0x0002);                   /* FIP 15:0 = 0x10002 */
    ck_assert_uint_eq(rd16(e16 + 8), 0x1000 | 0x047);          /* FIP 19:16, FOP */
    ck_assert_uint_eq(rd16(e16 + 10), 0x3044 & 0xffff);         /* FDP */
    ck_assert_uint_eq(rd16(e16 + 12), 0x0000);
    ck_assert_uint_eq(rd32(e32 + 12), 0xffff0002);
    ck_assert_uint_eq(rd32(e32 + 16), (0x0001u << 12) | 0x047);
    ck_assert_uint_eq(rd32(e32 + 20), 0xffff3044);
    ck_assert_uint_eq(rd32(e32 + 24), 0);
    cpu->cr[0] = cr0;
    memcpy(cpu->segs, saved, sizeof(saved));
    cpu_sync_after_state_change(cpu);
}
END_TEST

START_TEST(test_init_clex_ldcw)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->regs[R_EBX] = DATA_ADDR;
    uint16_t cw = 0xffff;
    memcpy(guest->mem + DATA_ADDR, &cw, 2);
    /* fldcw [ebx]; fnstcw [ebx+2]: reserved bits read back fixed. */
    ck_assert_int_eq(RUN(0xd9, 0x2b, 0xd9, 0x7b, 0x02), -1);
    ck_assert_uint_eq(rd16(DATA_ADDR + 2), 0x1f7f);
    /* fld1 x 3; fninit: everything back. */
    ck_assert_int_eq(RUN(0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xdb, 0xe3), -1);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x037f);
    ck_assert_uint_eq(cpu->fpu.fsw, 0);
    ck_assert_int_eq(cpu->fpu.top, 0);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(cpu->fpu.ftag[i], FTAG_EMPTY);
    }
    ck_assert_uint_eq(cpu->fpu.fip, 0);
    ck_assert_uint_eq(cpu->fpu.fop, 0);
    /* Stack overflow: nine pushes, masked: C1 = 1, IE, SF, indefinite. */
    ck_assert_int_eq(RUN(0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8,
                         0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xe8, 0xd9, 0xee), -1);
    ck_assert_uint_eq(cpu->fpu.fsw & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
    ck_assert_uint_eq(cpu->fpu.st[cpu->fpu.top].sign_exp, 0xffff);
    /* Power-on state (RESET): FCW 0040, tags 5555 over zeros. */
    cpu_reset(cpu);
    guest_flat32(guest);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x0040);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(cpu->fpu.ftag[i], FTAG_ZERO);
    }
    ck_assert_uint_eq(cpu->fpu.mxcsr, 0x1f80);
}
END_TEST

START_TEST(test_fxsave)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->regs[R_EBX] = DATA_ADDR;
    memset(guest->mem + DATA_ADDR, 0xaa, 512);
    /* fldpi; fld1; faddp; fldz; fxsave [ebx] */
    ck_assert_int_eq(RUN(0xd9, 0xeb, 0xd9, 0xe8, 0xde, 0xc1, 0xd9, 0xee, 0x0f, 0xae, 0x03), -1);
    ck_assert_uint_eq(rd16(DATA_ADDR + 0), 0x037f);
    ck_assert_uint_eq(rd16(DATA_ADDR + 2), (6 << 11) | FSW_PE);   /* FLDZ cleared C1 */
    ck_assert_uint_eq(guest->mem[DATA_ADDR + 4], 0xc0);          /* abridged: R6, R7 */
    ck_assert_uint_eq(rd16(DATA_ADDR + 6), 0x1ee);               /* FOP: fldz */
    ck_assert_uint_eq(rd32(DATA_ADDR + 8), guest->code + 6);
    ck_assert_uint_eq(rd16(DATA_ADDR + 12), 0x08);
    ck_assert_uint_eq(rd32(DATA_ADDR + 24), 0x1f80);
    ck_assert_uint_eq(rd16(DATA_ADDR + 32 + 8), 0x0000);        /* ST(0) = +0 */
    ck_assert_uint_eq(rd16(DATA_ADDR + 48 + 8), 0x4001);        /* ST(1) = pi + 1 */
    ck_assert_uint_eq(guest->mem[DATA_ADDR + 464], 0xaa);        /* software's bytes */
    /* FXRSTOR of an edited image: TOP, tags from the abridged byte. */
    guest->mem[DATA_ADDR + 4] = 0x80;                            /* only R7 in use */
    uint16_t fsw = 7 << 11;
    memcpy(guest->mem + DATA_ADDR + 2, &fsw, 2);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0b), -1);                 /* fxrstor [ebx] */
    ck_assert_int_eq(cpu->fpu.top, 7);
    ck_assert_int_eq(cpu->fpu.ftag[6], FTAG_EMPTY);
    ck_assert_int_eq(cpu->fpu.ftag[7], FTAG_ZERO);               /* ST(0) image slot: +0 */
    /* Misaligned: #GP. */
    cpu->regs[R_EBX] = DATA_ADDR + 8;
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x03), EXCP_GP);
    ck_assert_int_eq(RUN(0x0f, 0xae, 0x0b), EXCP_GP);
    /* Register form and unknown /r: #UD. */
    ck_assert_int_eq(RUN(0x0f, 0xae, 0xc0), EXCP_UD);
}
END_TEST

START_TEST(test_cpuid)
{
    CPUX86State *cpu = guest->cpu;
    fresh_fpu();
    cpu->regs[R_EAX] = 1;
    ck_assert_int_eq(RUN(0x0f, 0xa2), -1);
    uint32_t edx = cpu->regs[R_EDX];
    ck_assert(edx & (1 << 0));      /* FPU */
    ck_assert(edx & (1 << 15));     /* CMOV (with FPU: FCMOVcc) */
    ck_assert(edx & (1 << 23));     /* MMX */
    ck_assert(edx & (1 << 24));     /* FXSR */
    ck_assert(!(edx & (3 << 25)));  /* no SSE, SSE2 */
    ck_assert_uint_eq(cpu->regs[R_ECX], 0);
    /* FISTTP (SSE3) is not there. */
    cpu->regs[R_EAX] = DATA_ADDR;
    ck_assert_int_eq(RUN(0xdf, 0x08), EXCP_UD);
    ck_assert_int_eq(RUN(0xdb, 0x08), EXCP_UD);
    ck_assert_int_eq(RUN(0xdd, 0x08), EXCP_UD);
}
END_TEST

static Suite *fpu_guest_suite(void)
{
    Suite *s = suite_create("fpu-guest");
    TCase *tc = tcase_create("guest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_nm);
    tcase_add_test(tc, test_mf_and_es);
    tcase_add_test(tc, test_ferr_irq13_path);
    tcase_add_test(tc, test_pointers_and_env32);
    tcase_add_test(tc, test_fsave_frstor);
    tcase_add_test(tc, test_env_realmode);
    tcase_add_test(tc, test_init_clex_ldcw);
    tcase_add_test(tc, test_fxsave);
    tcase_add_test(tc, test_cpuid);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fpu_guest_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
