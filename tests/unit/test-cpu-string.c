/*
 * String instructions: MOVS STOS LODS CMPS SCAS INS OUTS with REP,
 * REPE/REPNE, both directions, 16-bit addressing (wrap at 64 KiB),
 * segment overrides, and a #PF in the middle of a REP that leaves
 * resumable state (ECX/ESI/EDI describe the remaining work, EIP at the
 * instruction) and completes when re-run.
 */
#include "cpu-test-helpers.h"

#define SRC 0x20000
#define DST 0x30000

static void fill(TestCPU *t, uint32_t addr, int n, uint8_t start)
{
    for (int i = 0; i < n; i++) {
        t->mem[addr + i] = (uint8_t)(start + i);
    }
}

START_TEST(test_rep_movsd_forward)
{
    TestCPU *t = test_cpu_new();
    fill(t, SRC, 64, 1);
    t->cpu->regs[R_ESI] = SRC;
    t->cpu->regs[R_EDI] = DST;
    t->cpu->regs[R_ECX] = 16;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0xa5));          /* cld; rep movsd */
    ck_assert_int_eq(memcmp(t->mem + SRC, t->mem + DST, 64), 0);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0);
    ck_assert_uint_eq(t->cpu->regs[R_ESI], SRC + 64);
    ck_assert_uint_eq(t->cpu->regs[R_EDI], DST + 64);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_rep_movsb_overlap_forward)
{
    /* dst = src + 1: a forward byte copy replicates the first byte */
    TestCPU *t = test_cpu_new();
    fill(t, SRC, 32, 0x40);
    t->cpu->regs[R_ESI] = SRC;
    t->cpu->regs[R_EDI] = SRC + 1;
    t->cpu->regs[R_ECX] = 31;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0xa4));
    for (int i = 0; i < 32; i++) {
        ck_assert_uint_eq(t->mem[SRC + i], 0x40);
    }
    test_cpu_free(t);
}
END_TEST

START_TEST(test_rep_movsb_backward)
{
    TestCPU *t = test_cpu_new();
    fill(t, SRC, 16, 0x10);
    t->cpu->regs[R_ESI] = SRC + 15;
    t->cpu->regs[R_EDI] = DST + 15;
    t->cpu->regs[R_ECX] = 16;
    test_cpu_run_code(t, CODE(0xfd, 0xf3, 0xa4, 0xfc));    /* std; rep movsb; cld */
    ck_assert_int_eq(memcmp(t->mem + SRC, t->mem + DST, 16), 0);
    ck_assert_uint_eq(t->cpu->regs[R_ESI], SRC - 1);
    ck_assert_uint_eq(t->cpu->regs[R_EDI], DST - 1);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_rep_stosw_addr16_wrap)
{
    /* 67: 16-bit addressing, DI wraps at 64 KiB and the upper half of
     * EDI is kept */
    TestCPU *t = test_cpu_new();
    t->cpu->regs[R_EAX] = 0xbeef;
    t->cpu->regs[R_EDI] = 0x1234fffe;
    t->cpu->regs[R_ECX] = 0xabcd0002;
    test_cpu_run_code(t, CODE(0xfc, 0x67, 0xf3, 0x66, 0xab));
    ck_assert_uint_eq(ldw_le(t->mem + 0xfffe), 0xbeef);
    ck_assert_uint_eq(ldw_le(t->mem + 0x0000), 0xbeef);
    ck_assert_uint_eq(t->cpu->regs[R_EDI], 0x12340002);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0xabcd0000);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_repne_scasb_and_repe_cmpsd)
{
    TestCPU *t = test_cpu_new();
    memcpy(t->mem + SRC, "hello, world", 13);
    t->cpu->regs[R_EAX] = ',';
    t->cpu->regs[R_EDI] = SRC;
    t->cpu->regs[R_ECX] = 100;
    test_cpu_run_code(t, CODE(0xfc, 0xf2, 0xae));          /* repne scasb */
    ck_assert_uint_eq(t->cpu->regs[R_EDI], SRC + 6);       /* one past the match */
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 94);
    ck_assert(cpu_get_eflags(t->cpu) & CC_Z);
    /* repe cmpsd stops after the first different dword */
    for (int i = 0; i < 8; i++) {
        stl_le(t->mem + SRC + 4 * i, i);
        stl_le(t->mem + DST + 4 * i, i == 5 ? 99 : i);
    }
    t->cpu->regs[R_ESI] = SRC;
    t->cpu->regs[R_EDI] = DST;
    t->cpu->regs[R_ECX] = 8;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0xa7));
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 2);
    ck_assert_uint_eq(t->cpu->regs[R_ESI], SRC + 24);
    uint32_t f = cpu_get_eflags(t->cpu);
    ck_assert(!(f & CC_Z));
    ck_assert(f & CC_C);                                    /* 5 < 99 */
    test_cpu_free(t);
}
END_TEST

START_TEST(test_lodsd_segment_override)
{
    /* FS with base 0x1000: lodsd reads FS:ESI */
    TestCPU *t = test_cpu_new();
    t->cpu->segs[R_FS].base = 0x1000;
    cpu_sync_after_state_change(t->cpu);
    stl_le(t->mem + 0x1000 + SRC, 0xcafef00d);
    t->cpu->regs[R_ESI] = SRC;
    test_cpu_run_code(t, CODE(0xfc, 0x64, 0xad));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 0xcafef00d);
    ck_assert_uint_eq(t->cpu->regs[R_ESI], SRC + 4);
    test_cpu_free(t);
}
END_TEST

/* A byte-wide I/O port that records writes and returns a counter. */
typedef struct PortDev { uint8_t out[64]; int nout; uint8_t next_in; } PortDev;
static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    PortDev *d = opaque;
    return d->next_in++;
}
static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PortDev *d = opaque;
    if (d->nout < 64) {
        d->out[d->nout++] = (uint8_t)val;
    }
}
static const MemoryRegionOps port_ops = { .read = port_read, .write = port_write, .max_access_size = 1 };

START_TEST(test_rep_ins_outs)
{
    TestCPU *t = test_cpu_new();
    PortDev dev = { .next_in = 0x30 };
    MemoryRegion *mr = memory_region_new_io("port", 1, &port_ops, &dev);
    memory_region_add_subregion(t->iomem, 0x80, mr, 0);
    memcpy(t->mem + SRC, "abcdef", 6);
    t->cpu->regs[R_EDX] = 0x80;
    t->cpu->regs[R_ESI] = SRC;
    t->cpu->regs[R_ECX] = 6;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0x6e));          /* rep outsb */
    ck_assert_int_eq(dev.nout, 6);
    ck_assert_int_eq(memcmp(dev.out, "abcdef", 6), 0);
    t->cpu->regs[R_EDI] = DST;
    t->cpu->regs[R_ECX] = 4;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0x6c));          /* rep insb */
    ck_assert_uint_eq(ldl_le(t->mem + DST), 0x33323130);
    memory_region_del_subregion(t->iomem, mr);
    memory_region_free(mr);
    test_cpu_free(t);
}
END_TEST

#define PD 0x100000
#define PT 0x101000

static void enable_paging(TestCPU *t)
{
    for (int i = 0; i < 1024; i++) {
        stl_le(t->mem + PT + 4 * i, (i << 12) | 7);
    }
    memset(t->mem + PD, 0, 4096);
    stl_le(t->mem + PD, PT | 7);
    t->cpu->cr[3] = PD;
    t->cpu->cr[0] |= CR0_PG;
    cpu_sync_after_state_change(t->cpu);
}

START_TEST(test_rep_movsb_fault_resumes)
{
    TestCPU *t = test_cpu_new();
    enable_paging(t);
    /* destination page 0x31000 not present */
    stl_le(t->mem + PT + 4 * 0x31, 0);
    fill(t, SRC, 0x200, 0);
    t->cpu->regs[R_ESI] = SRC;
    t->cpu->regs[R_EDI] = 0x31000 - 0x100;
    t->cpu->regs[R_ECX] = 0x200;
    test_cpu_run_code(t, CODE(0xfc, 0xf3, 0xa4));
    ck_assert_uint_eq(test_cpu_exc(t), EXCP_PF);
    ck_assert_uint_eq(t->cpu->cr[2], 0x31000);
    /* the first 0x100 bytes are done and the registers say so */
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0x100);
    ck_assert_uint_eq(t->cpu->regs[R_ESI], SRC + 0x100);
    ck_assert_uint_eq(t->cpu->regs[R_EDI], 0x31000);
    ck_assert_int_eq(memcmp(t->mem + SRC, t->mem + 0x31000 - 0x100, 0x100), 0);
    /* saved EIP: the REP instruction (after CLD) */
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 12), TEST_CODE + 1);
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 16), 2);   /* error code: write, not present */
    /* map the page and resume at the instruction */
    stl_le(t->mem + PT + 4 * 0x31, 0x31000 | 7);
    t->cpu->regs[R_ESP] = TEST_STACK;
    cpu_sync_after_state_change(t->cpu);
    stl_le(t->mem + TEST_EXC_VEC, 0xffffffffu);
    test_cpu_run_at(t, TEST_CODE + 1, 100000);
    ck_assert_uint_eq(test_cpu_exc(t), 0xffffffffu);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0);
    ck_assert_int_eq(memcmp(t->mem + SRC, t->mem + 0x31000 - 0x100, 0x200), 0);
    test_cpu_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-string");
    TCase *tc = tcase_create("string");
    tcase_add_test(tc, test_rep_movsd_forward);
    tcase_add_test(tc, test_rep_movsb_overlap_forward);
    tcase_add_test(tc, test_rep_movsb_backward);
    tcase_add_test(tc, test_rep_stosw_addr16_wrap);
    tcase_add_test(tc, test_repne_scasb_and_repe_cmpsd);
    tcase_add_test(tc, test_lodsd_segment_override);
    tcase_add_test(tc, test_rep_ins_outs);
    tcase_add_test(tc, test_rep_movsb_fault_resumes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
