/*
 * System-level behaviour: reset state, CPUID, MSRs, control register
 * checks, LGDT/SGDT, LOCK validity, self-modifying code through DMA and
 * through the CPU, code cache flushes when the budget is used up, and
 * the VMState round trip of the whole CPU (and refusal of bad state).
 */
#include "cpu-test-helpers.h"
#include "migration/qemu-file.h"
#include "migration/vmstate.h"

START_TEST(test_reset_state)
{
    TestCPU *t = test_cpu_new();
    cpu_reset(t->cpu);
    CPUX86State *cpu = t->cpu;
    ck_assert_uint_eq(cpu->eip, 0xfff0);
    ck_assert_uint_eq(cpu->segs[R_CS].selector, 0xf000);
    ck_assert_uint_eq(cpu->segs[R_CS].base, 0xffff0000u);
    ck_assert_uint_eq(cpu->cr[0], 0x60000010);
    ck_assert_uint_eq(cpu_get_eflags(cpu), 2);
    ck_assert_uint_eq(cpu->regs[R_EDX] >> 8, 6);        /* family in EDX */
    ck_assert_uint_eq(cpu->dr[7], 0x400);
    ck_assert_int_eq(cpu->hflags & (HF_PE | HF_CODE32), 0);
    test_cpu_free(t);
}
END_TEST

static void cpuid(TestCPU *t, uint32_t leaf, uint32_t *r)
{
    t->cpu->regs[R_EAX] = leaf;
    test_cpu_run_code(t, CODE(0x0f, 0xa2));
    r[0] = t->cpu->regs[R_EAX];
    r[1] = t->cpu->regs[R_EBX];
    r[2] = t->cpu->regs[R_ECX];
    r[3] = t->cpu->regs[R_EDX];
}

START_TEST(test_cpuid)
{
    TestCPU *t = test_cpu_new();
    uint32_t r[4];
    cpuid(t, 0, r);
    ck_assert_uint_ge(r[0], 2);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    ck_assert_str_eq(vendor, "GenuineIntel");
    cpuid(t, 1, r);
    ck_assert_uint_eq((r[0] >> 8) & 15, 6);
    uint32_t need = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 11) | (1 << 13) | (1 << 15);
    ck_assert_uint_eq(r[3] & need, need);                /* PSE TSC MSR CX8 SEP PGE CMOV */
    ck_assert_uint_eq(r[3] & ((1 << 6) | (1 << 9) | (1 << 1)), 0);   /* no PAE, APIC, VME */
    cpuid(t, 0x80000000, r);
    ck_assert_uint_ge(r[0], 0x80000004);
    char brand[49] = { 0 };
    for (int i = 0; i < 3; i++) {
        cpuid(t, 0x80000002 + i, r);
        memcpy(brand + 16 * i, r, 16);
    }
    ck_assert_msg(strstr(brand, "minipc") != NULL, "brand '%s'", brand);
    test_cpu_free(t);
}
END_TEST

static uint32_t rdmsr(TestCPU *t, uint32_t idx, uint32_t *hi)
{
    t->cpu->regs[R_ECX] = idx;
    test_cpu_run_code(t, CODE(0x0f, 0x32));
    *hi = t->cpu->regs[R_EDX];
    return t->cpu->regs[R_EAX];
}

static void wrmsr(TestCPU *t, uint32_t idx, uint32_t lo, uint32_t hi)
{
    t->cpu->regs[R_ECX] = idx;
    t->cpu->regs[R_EAX] = lo;
    t->cpu->regs[R_EDX] = hi;
    test_cpu_run_code(t, CODE(0x0f, 0x30));
}

START_TEST(test_msrs)
{
    TestCPU *t = test_cpu_new();
    uint32_t hi;
    wrmsr(t, 0x174, 0x10, 0);
    ck_assert_uint_eq(test_cpu_exc(t), 0xffffffffu);
    ck_assert_uint_eq(rdmsr(t, 0x174, &hi), 0x10);
    wrmsr(t, 0x277, 0x00070406, 0x00070406);             /* PAT */
    ck_assert_uint_eq(rdmsr(t, 0x277, &hi), 0x00070406);
    wrmsr(t, 0x277, 0x02, 0);                            /* type 2 is reserved */
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_GP);
    wrmsr(t, 0x200, 0x12345006, 0);                      /* MTRR variable base 0 */
    ck_assert_uint_eq(rdmsr(t, 0x200, &hi), 0x12345006);
    rdmsr(t, 0xdeadbeef, &hi);                           /* unknown MSR */
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_GP);
    /* the TSC counts and can be written */
    uint32_t a = rdmsr(t, 0x10, &hi);
    t->cpu->icount += 1000;
    ck_assert_uint_gt(rdmsr(t, 0x10, &hi), a);
    wrmsr(t, 0x10, 0, 5);
    rdmsr(t, 0x10, &hi);
    ck_assert_uint_eq(hi, 5);
    /* RDTSC reads the same counter */
    test_cpu_run_code(t, CODE(0x0f, 0x31));
    ck_assert_uint_eq(t->cpu->regs[R_EDX], 5);
    /* RDPMC: counters 0 and 1 read zero, others #GP */
    t->cpu->regs[R_ECX] = 1;
    test_cpu_run_code(t, CODE(0x0f, 0x33));
    ck_assert_uint_eq(test_cpu_exc(t), 0xffffffffu);
    t->cpu->regs[R_ECX] = 2;
    test_cpu_run_code(t, CODE(0x0f, 0x33));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_GP);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_control_registers)
{
    TestCPU *t = test_cpu_new();
    /* CR0.PG without PE: #GP */
    t->cpu->regs[R_EAX] = 0x80000000;
    test_cpu_run_code(t, CODE(0x0f, 0x22, 0xc0));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_GP);
    ck_assert(t->cpu->cr[0] & CR0_PE);
    /* CR4.PAE is not implemented: #GP */
    t->cpu->regs[R_EAX] = CR4_PAE;
    test_cpu_run_code(t, CODE(0x0f, 0x22, 0xe0));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_GP);
    /* CR4.PSE|PGE are */
    t->cpu->regs[R_EAX] = CR4_PSE | CR4_PGE;
    test_cpu_run_code(t, CODE(0x0f, 0x22, 0xe0, 0x0f, 0x20, 0xe3));
    ck_assert_uint_eq(t->cpu->regs[R_EBX], CR4_PSE | CR4_PGE);
    /* MOV to CR1: #UD */
    test_cpu_run_code(t, CODE(0x0f, 0x22, 0xc8));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_UD);
    /* DR4 aliases DR6 with CR4.DE clear, #UD with it set */
    t->cpu->cr[4] = 0;
    test_cpu_run_code(t, CODE(0x0f, 0x21, 0xe0));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 0xffff0ff0);
    t->cpu->cr[4] = CR4_DE;
    test_cpu_run_code(t, CODE(0x0f, 0x21, 0xe0));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_UD);
    /* SGDT after LGDT */
    stw_le(t->mem + 0x5000, 0x1ff);
    stl_le(t->mem + 0x5002, 0x12345678);
    test_cpu_run_code(t, CODE(0x0f, 0x01, 0x15, 0x00, 0x50, 0x00, 0x00,    /* lgdt [0x5000] */
                              0x0f, 0x01, 0x05, 0x10, 0x50, 0x00, 0x00));  /* sgdt [0x5010] */
    ck_assert_uint_eq(ldw_le(t->mem + 0x5010), 0x1ff);
    ck_assert_uint_eq(ldl_le(t->mem + 0x5012), 0x12345678);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_lock_prefix)
{
    TestCPU *t = test_cpu_new();
    test_cpu_run_code(t, CODE(0xf0, 0x01, 0xc0));        /* lock add eax,eax */
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_UD);
    stl_le(t->mem + 0x5000, 41);
    test_cpu_run_code(t, CODE(0xf0, 0xff, 0x05, 0x00, 0x50, 0x00, 0x00)); /* lock inc dword [0x5000] */
    ck_assert_uint_eq(test_cpu_exc(t), 0xffffffffu);
    ck_assert_uint_eq(ldl_le(t->mem + 0x5000), 42);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_smc_and_dma)
{
    TestCPU *t = test_cpu_new();
    CPUCacheStats st0, st1;
    /* mov eax, 1 ; hlt */
    test_cpu_run_code(t, CODE(0xb8, 1, 0, 0, 0));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 1);
    cpu_get_cache_stats(t->cpu, &st0);
    /* DMA rewrites the immediate: the old translation must go */
    uint8_t two = 2;
    address_space_write(t->as, TEST_CODE + 1, &two, 1);
    test_cpu_run_at(t, TEST_CODE, 1000);
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 2);
    cpu_get_cache_stats(t->cpu, &st1);
    ck_assert_uint_gt(st1.tbs_invalidated, st0.tbs_invalidated);
    /* the code patches its own next instruction:
     * mov byte [next+1], 7 ; next: mov eax, 3 */
    uint32_t next = TEST_CODE + 7;
    uint8_t code[] = { 0xc6, 0x05, (uint8_t)(next + 1), (uint8_t)((next + 1) >> 8),
                       (uint8_t)((next + 1) >> 16), 0, 7, 0xb8, 3, 0, 0, 0 };
    test_cpu_run_code(t, code, sizeof(code));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 7);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_code_cache_flush)
{
    /* A CPU with a 64 KiB code cache runs many distinct blocks. */
    TestCPU *t = test_cpu_new();
    cpu_free(t->cpu);
    t->cpu = cpu_new(t->as, t->io, 64 * KiB);
    CPUX86State *cpu = t->cpu;
    cpu->gdt.base = TEST_GDT;
    cpu->gdt.limit = 23;
    cpu->idt.base = TEST_IDT;
    cpu->idt.limit = 256 * 8 - 1;
    cpu->cr[0] = CR0_PE | CR0_ET;
    test_cpu_flat_segments(cpu);
    cpu->regs[R_ESP] = TEST_STACK;
    cpu_sync_after_state_change(cpu);
    /* 2000 blocks "inc eax ; jmp next" then hlt, run 3 times */
    uint8_t *p = t->mem + TEST_CODE;
    for (int i = 0; i < 2000; i++) {
        p[i * 16] = 0x40;
        p[i * 16 + 1] = 0xeb;
        p[i * 16 + 2] = 13;
    }
    p[2000 * 16] = 0xf4;
    for (int round = 0; round < 3; round++) {
        cpu->regs[R_EAX] = 0;
        test_cpu_run_at(t, TEST_CODE, 100000);
        ck_assert_uint_eq(cpu->regs[R_EAX], 2000);
    }
    CPUCacheStats st;
    cpu_get_cache_stats(cpu, &st);
    ck_assert_uint_gt(st.flushes, 0);
    ck_assert_uint_le(st.bytes_used, st.bytes_total);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_vmstate_round_trip)
{
    TestCPU *t = test_cpu_new();
    CPUX86State *cpu = t->cpu;
    /* run something so lazy flags and registers are interesting */
    cpu->regs[R_EAX] = 0x7fffffff;
    test_cpu_run_code(t, CODE(0x40, 0xbb, 0x44, 0x33, 0x22, 0x11, 0xfd));   /* inc eax; mov ebx; std */
    cpu->cr[2] = 0xdeadbeef;
    cpu->dr[0] = 0x1234;
    cpu->sysenter_eip = 0xc0001000;
    cpu->fpu.fcw = 0x27f;
    cpu->fpu.st[3].mant = 0x8000000000000001ULL;
    cpu->fpu.st[3].sign_exp = 0xc000;
    cpu->fpu.xmm[7].q[1] = 0x1122334455667788ULL;
    cpu->tsc_offset = 99;
    uint32_t flags = cpu_get_eflags(cpu);
    CPUX86State *saved = xmalloc(sizeof(*saved));
    memcpy(saved, cpu, offsetof(CPUX86State, tlb_table));

    QEMUFile *f = qemu_file_new_mem_output();
    Error *err = NULL;
    ck_assert_int_eq(vmstate_save_state(f, &vmstate_x86_cpu, cpu, NULL, &err), 0);
    size_t len;
    uint8_t *buf = qemu_file_mem_output_steal(f, &len);
    qemu_fclose(f, NULL);

    cpu_reset(cpu);
    ck_assert_uint_ne(cpu->regs[R_EBX], 0x11223344);
    QEMUFile *in = qemu_file_new_mem_input(buf, len);
    ck_assert_int_eq(vmstate_load_state(in, &vmstate_x86_cpu, cpu, 1, &err), 0);
    qemu_fclose(in, NULL);
    ck_assert_uint_eq(cpu->regs[R_EAX], 0x80000000);
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x11223344);
    ck_assert_uint_eq(cpu->eip, saved->eip);
    ck_assert_uint_eq(cpu_get_eflags(cpu), flags);
    ck_assert_uint_eq(cpu->cr[0], saved->cr[0]);
    ck_assert_uint_eq(cpu->cr[2], 0xdeadbeef);
    ck_assert_uint_eq(cpu->dr[0], 0x1234);
    ck_assert_uint_eq(cpu->segs[R_CS].flags, saved->segs[R_CS].flags);
    ck_assert_uint_eq(cpu->segs[R_DS].limit, 0xffffffffu);
    ck_assert(cpu->segs[R_DS].fast_wr);                 /* derived state rebuilt */
    ck_assert_uint_eq(cpu->hflags, saved->hflags);
    ck_assert_uint_eq(cpu->sysenter_eip, 0xc0001000);
    ck_assert_uint_eq(cpu->fpu.fcw, 0x27f);
    ck_assert_uint_eq(cpu->fpu.st[3].sign_exp, 0xc000);
    ck_assert_uint_eq(cpu->fpu.xmm[7].q[1], 0x1122334455667788ULL);
    ck_assert_uint_eq(cpu->tsc_offset, 99);
    /* and the CPU runs on from there */
    test_cpu_run_code(t, CODE(0x43));
    ck_assert_uint_eq(cpu->regs[R_EBX], 0x11223345);

    /* A stream with CPL 7 is refused (validation pass) and changes nothing. */
    CPUX86State *bad = xmemalign_zero(64, sizeof(*bad));
    memcpy(bad, saved, offsetof(CPUX86State, tlb_table));
    bad->cpl = 7;
    f = qemu_file_new_mem_output();
    ck_assert_int_eq(vmstate_save_state(f, &vmstate_x86_cpu, bad, NULL, &err), 0);
    free(buf);
    buf = qemu_file_mem_output_steal(f, &len);
    qemu_fclose(f, NULL);
    uint32_t ebx = cpu->regs[R_EBX];
    in = qemu_file_new_mem_input(buf, len);
    qemu_file_set_validating(in, true);
    ck_assert_int_lt(vmstate_load_state(in, &vmstate_x86_cpu, cpu, 1, &err), 0);
    ck_assert_ptr_nonnull(err);
    error_free(err);
    qemu_fclose(in, NULL);
    ck_assert_uint_eq(cpu->regs[R_EBX], ebx);
    ck_assert_uint_eq(cpu->cpl, 0);
    free(buf);
    free(bad);
    free(saved);
    test_cpu_free(t);
}
END_TEST

static int next_vector = 0x40;
static int acks;
static int ack_irq(void *opaque)
{
    acks++;
    return next_vector;
}

START_TEST(test_external_interrupts)
{
    TestCPU *t = test_cpu_new();
    CPUX86State *cpu = t->cpu;
    cpu->irq_ack = ack_irq;
    acks = 0;
    /* IF=0: the line is ignored, HLT returns with nothing to do */
    cpu_set_intr(cpu, true);
    test_cpu_run_code(t, CODE(0x90));
    ck_assert_uint_eq(test_cpu_exc(t), 0xffffffffu);
    ck_assert_int_eq(acks, 0);
    ck_assert(!cpu_has_work(cpu));
    /* STI; NOP: the interrupt is taken after the NOP (STI shadow), with
     * the saved EIP pointing after it */
    test_cpu_run_code(t, CODE(0xfb, 0x90, 0x90));
    ck_assert_uint_eq(test_cpu_exc(t), 0x40);
    ck_assert_int_eq(acks, 1);
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 12), TEST_CODE + 2);
    ck_assert(ldl_le(t->mem + TEST_STACK - 4) & IF_MASK);   /* pushed EFLAGS */
    cpu_set_intr(cpu, false);
    /* HLT with IF=1 and no interrupt: halted; raising the line wakes it */
    cpu->regs[R_ESP] = TEST_STACK;
    cpu_set_eflags(cpu, 2 | IF_MASK, 0xffffffffu);
    stl_le(t->mem + TEST_EXC_VEC, 0xffffffffu);
    uint8_t code[] = { 0xf4, 0xb8, 7, 0, 0, 0, 0xf4 };    /* hlt ; mov eax,7 ; hlt */
    test_cpu_write(t, TEST_CODE, code, sizeof(code));
    cpu->eip = TEST_CODE;
    cpu->halted = false;
    ck_assert_int_eq(cpu_exec(cpu, 1000), CPU_EXIT_HALTED);
    ck_assert_uint_eq(cpu->eip, TEST_CODE + 1);
    next_vector = 0x41;
    cpu_set_intr(cpu, true);
    ck_assert(cpu_has_work(cpu));
    ck_assert_int_eq(cpu_exec(cpu, 1000), CPU_EXIT_HALTED);  /* the handler stub halts */
    ck_assert_uint_eq(test_cpu_exc(t), 0x41);
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 12), TEST_CODE + 1);  /* resumes after HLT */
    cpu_set_intr(cpu, false);
    /* NMI is taken even with IF=0 and blocks further NMIs until IRET */
    cpu->regs[R_ESP] = TEST_STACK;
    cpu_set_eflags(cpu, 2, 0xffffffffu);
    stl_le(t->mem + TEST_EXC_VEC, 0xffffffffu);
    cpu_raise_nmi(cpu);
    test_cpu_run_code(t, CODE(0x90));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_NMI);
    ck_assert(cpu->nmi_blocked);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_single_step_trap)
{
    TestCPU *t = test_cpu_new();
    /* pushfd; or dword [esp], TF; popfd; inc eax; inc eax: #DB after the
     * first INC, EIP at the second */
    t->cpu->regs[R_EAX] = 0;
    test_cpu_run_code(t, CODE(0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x40, 0x40));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_DB);
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 1);
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 12), TEST_CODE + 10);
    ck_assert(t->cpu->dr[6] & (1 << 14));
    test_cpu_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-system");
    TCase *tc = tcase_create("system");
    tcase_add_test(tc, test_reset_state);
    tcase_add_test(tc, test_cpuid);
    tcase_add_test(tc, test_msrs);
    tcase_add_test(tc, test_control_registers);
    tcase_add_test(tc, test_lock_prefix);
    tcase_add_test(tc, test_smc_and_dma);
    tcase_add_test(tc, test_code_cache_flush);
    tcase_add_test(tc, test_vmstate_round_trip);
    tcase_add_test(tc, test_external_interrupts);
    tcase_add_test(tc, test_single_step_trap);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
