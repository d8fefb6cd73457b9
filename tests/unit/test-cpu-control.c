/*
 * Control transfer and stack: all 16 Jcc conditions from every flag
 * combination, Jcc after CMP/TEST (the specialised fused paths) against
 * C's signed/unsigned comparisons, LOOP/LOOPE/LOOPNE/JECXZ (also with
 * 16-bit CX), CALL/RET/RET imm16, ENTER/LEAVE with nesting, PUSHA/POPA,
 * PUSH ESP/POP ESP, PUSHF/POPF.
 */
#include "cpu-test-helpers.h"

static bool cond_ref(int c, uint32_t f)
{
    bool cf = f & CC_C, zf = f & CC_Z, sf = f & CC_S, of = f & CC_O, pf = f & CC_P;
    bool r;
    switch (c >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || (sf != of); break;
    }
    return r ^ (c & 1);
}

START_TEST(test_jcc_all_flag_combinations)
{
    TestCPU *t = test_cpu_new();
    for (int c = 0; c < 16; c++) {
        for (uint32_t bits = 0; bits < 32; bits++) {
            uint32_t f = ((bits & 1) ? CC_C : 0) | ((bits & 2) ? CC_Z : 0) | ((bits & 4) ? CC_S : 0) |
                         ((bits & 8) ? CC_O : 0) | ((bits & 16) ? CC_P : 0);
            cpu_set_eflags(t->cpu, f | 2, 0xffffffffu);
            /* mov eax,0 ; jcc +5 ; mov eax,1 */
            uint8_t code[] = { 0xb8, 0, 0, 0, 0, (uint8_t)(0x70 | c), 5, 0xb8, 1, 0, 0, 0 };
            test_cpu_run_code(t, code, sizeof(code));
            ck_assert_msg((t->cpu->regs[R_EAX] == 0) == cond_ref(c, f), "cond %d flags %03x", c, f);
            /* and the near form 0F 8x rel32 */
            uint8_t code2[] = { 0xb8, 0, 0, 0, 0, 0x0f, (uint8_t)(0x80 | c), 5, 0, 0, 0, 0xb8, 1, 0, 0, 0 };
            test_cpu_run_code(t, code2, sizeof(code2));
            ck_assert_msg((t->cpu->regs[R_EAX] == 0) == cond_ref(c, f), "near cond %d flags %03x", c, f);
        }
    }
    test_cpu_free(t);
}
END_TEST

START_TEST(test_jcc_after_cmp_and_test)
{
    static const uint32_t vals[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                     0x7fffffff, 0x80000000, 0xffffffff, 12345 };
    TestCPU *t = test_cpu_new();
    for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(vals); j++) {
            for (int sz = 0; sz < 3; sz++) {
                uint32_t a = vals[i], b = vals[j];
                for (int c = 0; c < 16; c++) {
                    /* cmp ebx,ecx (8/16/32) ; jcc ; then test ebx,ecx ; jcc */
                    uint8_t code[32];
                    int n = 0;
                    code[n++] = 0xb8; code[n++] = 0; code[n++] = 0; code[n++] = 0; code[n++] = 0;
                    code[n++] = 0xba; code[n++] = 0; code[n++] = 0; code[n++] = 0; code[n++] = 0;
                    if (sz == 1) code[n++] = 0x66;
                    code[n++] = sz ? 0x39 : 0x38; code[n++] = 0xcb;      /* cmp ebx, ecx */
                    code[n++] = 0x70 | c; code[n++] = 1;
                    code[n++] = 0x40;                                     /* inc eax */
                    if (sz == 1) code[n++] = 0x66;
                    code[n++] = sz ? 0x85 : 0x84; code[n++] = 0xcb;      /* test ebx, ecx */
                    code[n++] = 0x70 | c; code[n++] = 1;
                    code[n++] = 0x42;                                     /* inc edx */
                    t->cpu->regs[R_EBX] = a;
                    t->cpu->regs[R_ECX] = b;
                    test_cpu_run_code(t, code, n);
                    uint32_t m = sz == 0 ? 0xff : sz == 1 ? 0xffff : 0xffffffffu;
                    uint32_t sign = sz == 0 ? 0x80 : sz == 1 ? 0x8000 : 0x80000000u;
                    uint32_t x = a & m, y = b & m, d = (x - y) & m, l = x & y;
                    /* reference flags of the CMP and of the TEST */
                    uint32_t fc = (x < y ? CC_C : 0) | (d == 0 ? CC_Z : 0) | ((d & sign) ? CC_S : 0) |
                                  ((((x ^ y) & (x ^ d)) & sign) ? CC_O : 0) |
                                  (__builtin_parity(d & 0xff) ? 0 : CC_P);
                    uint32_t ft = (l == 0 ? CC_Z : 0) | ((l & sign) ? CC_S : 0) |
                                  (__builtin_parity(l & 0xff) ? 0 : CC_P);
                    ck_assert_msg((t->cpu->regs[R_EAX] == 0) == cond_ref(c, fc),
                                  "cmp %x,%x size %d cond %d", a, b, sz, c);
                    ck_assert_msg((t->cpu->regs[R_EDX] == 0) == cond_ref(c, ft),
                                  "test %x,%x size %d cond %d", a, b, sz, c);
                }
            }
        }
    }
    test_cpu_free(t);
}
END_TEST

START_TEST(test_loops)
{
    TestCPU *t = test_cpu_new();
    /* xor eax,eax ; mov ecx,10 ; l: add eax,ecx ; loop l */
    test_cpu_run_code(t, CODE(0x31, 0xc0, 0xb9, 10, 0, 0, 0, 0x01, 0xc8, 0xe2, 0xfc));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 55);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0);
    /* 16-bit CX: ecx = 0x10003 loops 3 times and keeps the upper half */
    t->cpu->regs[R_ECX] = 0x10003;
    test_cpu_run_code(t, CODE(0x31, 0xc0, 0x40, 0x67, 0xe2, 0xfc));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 3);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 0x10000);
    /* loope stops when ZF clears: cmp eax,ebx each round */
    t->cpu->regs[R_EBX] = 2;
    /* xor eax,eax ; mov ecx,10 ; l: inc eax ; cmp eax,2 ; loopne l */
    test_cpu_run_code(t, CODE(0x31, 0xc0, 0xb9, 10, 0, 0, 0, 0x40, 0x83, 0xf8, 0x02, 0xe0, 0xfa));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 2);
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 8);
    /* jecxz taken and not taken */
    t->cpu->regs[R_ECX] = 0;
    test_cpu_run_code(t, CODE(0xb8, 0, 0, 0, 0, 0xe3, 0x01, 0x40));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 0);
    t->cpu->regs[R_ECX] = 1;
    test_cpu_run_code(t, CODE(0xb8, 0, 0, 0, 0, 0xe3, 0x01, 0x40));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 1);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_call_ret)
{
    TestCPU *t = test_cpu_new();
    /* push 7 ; call f ; hlt-ish jmp end ; f: mov eax,[esp+4] ; ret 4 */
    test_cpu_run_code(t, CODE(0x6a, 0x07, 0xe8, 0x02, 0, 0, 0, 0xeb, 0x07,
                              0x8b, 0x44, 0x24, 0x04, 0xc2, 0x04, 0x00));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], 7);
    ck_assert_uint_eq(t->cpu->regs[R_ESP], TEST_STACK);
    /* indirect call through a register and a memory operand */
    stl_le(t->mem + 0x5000, TEST_CODE + 15);
    /* mov ebx, f ; call ebx ; call [0x5000] ; jmp end ; f: inc ecx ; ret */
    t->cpu->regs[R_ECX] = 0;
    test_cpu_run_code(t, CODE(0xbb, (TEST_CODE + 15) & 0xff, ((TEST_CODE + 15) >> 8) & 0xff, (TEST_CODE + 15) >> 16, 0,
                              0xff, 0xd3, 0xff, 0x15, 0x00, 0x50, 0x00, 0x00,
                              0xeb, 0x02, 0x41, 0xc3));
    ck_assert_uint_eq(t->cpu->regs[R_ECX], 2);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_enter_leave)
{
    TestCPU *t = test_cpu_new();
    t->cpu->regs[R_EBP] = 0x70000;
    stl_le(t->mem + 0x70000 - 4, 0x11111111);   /* outer frame pointer chain */
    /* enter 16, 2 ; (ebp, esp recorded) ; leave */
    test_cpu_run_code(t, CODE(0xc8, 0x10, 0x00, 0x02, 0x89, 0xe1, 0x89, 0xee, 0xc9));
    uint32_t frame = TEST_STACK - 4;
    ck_assert_uint_eq(t->cpu->regs[R_ESI], frame);                 /* EBP after ENTER */
    ck_assert_uint_eq(t->cpu->regs[R_ECX], frame - 8 - 16);        /* ESP after ENTER */
    ck_assert_uint_eq(ldl_le(t->mem + frame), 0x70000);            /* saved EBP */
    ck_assert_uint_eq(ldl_le(t->mem + frame - 4), 0x11111111);     /* copied display entry */
    ck_assert_uint_eq(ldl_le(t->mem + frame - 8), frame);          /* the new frame pointer */
    ck_assert_uint_eq(t->cpu->regs[R_EBP], 0x70000);               /* LEAVE restores */
    ck_assert_uint_eq(t->cpu->regs[R_ESP], TEST_STACK);
    test_cpu_free(t);
}
END_TEST

START_TEST(test_push_pop)
{
    TestCPU *t = test_cpu_new();
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            t->cpu->regs[r] = 0x1000 * (r + 1);
        }
    }
    /* pusha ; xor the regs ; popa */
    test_cpu_run_code(t, CODE(0x60, 0x31, 0xc0, 0x31, 0xdb, 0x31, 0xc9, 0x31, 0xd2, 0x31, 0xf6,
                              0x31, 0xff, 0x31, 0xed, 0x61));
    for (int r = 0; r < 8; r++) {
        if (r != R_ESP) {
            ck_assert_uint_eq(t->cpu->regs[r], 0x1000 * (r + 1));
        }
    }
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 20), TEST_STACK);   /* PUSHA saved ESP */
    /* push esp pushes the value before the decrement; pop esp loads it */
    test_cpu_run_code(t, CODE(0x54, 0x8b, 0x04, 0x24, 0x5c));
    ck_assert_uint_eq(t->cpu->regs[R_EAX], TEST_STACK);
    ck_assert_uint_eq(t->cpu->regs[R_ESP], TEST_STACK);
    /* pop to memory addressed through ESP uses the incremented ESP */
    stl_le(t->mem + TEST_STACK - 4, 0);
    /* push 0x55 ; pop dword [esp - 4] -> writes at the old slot */
    test_cpu_run_code(t, CODE(0x6a, 0x55, 0x8f, 0x44, 0x24, 0xfc));
    ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 4), 0x55);
    ck_assert_uint_eq(t->cpu->regs[R_ESP], TEST_STACK);
    /* pushf/popf round trip changes DF and the arithmetic flags */
    cpu_set_eflags(t->cpu, 2 | CC_C | CC_Z, 0xffffffffu);
    test_cpu_run_code(t, CODE(0x9c, 0x81, 0x34, 0x24, 0x01, 0x04, 0x00, 0x00, 0x9d));
    uint32_t f = cpu_get_eflags(t->cpu);
    ck_assert(!(f & CC_C));
    ck_assert(f & DF_MASK);
    ck_assert(f & CC_Z);
    test_cpu_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-control");
    TCase *tc = tcase_create("control");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_jcc_all_flag_combinations);
    tcase_add_test(tc, test_jcc_after_cmp_and_test);
    tcase_add_test(tc, test_loops);
    tcase_add_test(tc, test_call_ret);
    tcase_add_test(tc, test_enter_leave);
    tcase_add_test(tc, test_push_pop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
