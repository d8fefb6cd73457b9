/*
 * MUL, IMUL (1, 2 and 3 operands), DIV, IDIV: results, CF/OF, and #DE.
 *
 * Expected values are what the P6 architecture defines (checked against
 * a host x86 CPU for the defined flags); 'mask' names the flags the
 * manual defines for the case. Where the manual leaves a flag undefined
 * and minipc documents its choice (AF = 0 after logic instructions),
 * the flag is masked here and covered by the differential test's
 * rules instead.
 */
#include "cpu-test-helpers.h"

#define ALL (CC_C | CC_P | CC_A | CC_Z | CC_S | CC_O)

typedef struct FlagCase {
    const char *name;
    uint8_t code[8];
    int len;
    uint32_t eax, ebx, ecx, edx, flags_in;
    uint32_t eax_out, ebx_out, edx_out, flags_out;
    uint32_t mask;
} FlagCase;

static const FlagCase cases[] = {
    { "mul ebx", {0xf7, 0xe3}, 2, 0x80000000, 0x4, 0x0, 0x0, 0x000, 0x0, 0x4, 0x2, 0x801, CC_C | CC_O },
    { "mul bl small", {0xf6, 0xe3}, 2, 0x3, 0x5, 0x0, 0x0, 0x000, 0xf, 0x5, 0x0, 0x000, CC_C | CC_O },
    { "imul ebx negative", {0xf7, 0xeb}, 2, 0xffffffff, 0xffffffff, 0x0, 0x0, 0x000, 0x1, 0xffffffff, 0x0, 0x000, CC_C | CC_O },
    { "imul ax,bx overflow", {0x66, 0x0f, 0xaf, 0xc3}, 4, 0x4000, 0x2, 0x0, 0x0, 0x000, 0x8000, 0x2, 0x0, 0x801, CC_C | CC_O },
    { "imul eax,ebx,imm8", {0x6b, 0xc3, 0xfd}, 3, 0x0, 0x7, 0x0, 0x0, 0x000, 0xffffffeb, 0x7, 0x0, 0x000, CC_C | CC_O },
    { "div ebx", {0xf7, 0xf3}, 2, 0x64, 0x7, 0x0, 0x1, 0x000, 0x24924932, 0x7, 0x6, 0x010, 0 },
    { "idiv bl", {0xf6, 0xfb}, 2, 0xff9c, 0x7, 0x0, 0x0, 0x000, 0xfef2, 0x7, 0x0, 0x010, 0 },
    { "idiv ecx negative", {0xf7, 0xf9}, 2, 0xffffff9c, 0x0, 0x7, 0xffffffff, 0x000, 0xfffffff2, 0x0, 0xfffffffe, 0x010, 0 },
};

START_TEST(test_case)
{
    const FlagCase *c = &cases[_i];
    TestCPU *t = test_cpu_new();
    CPUX86State *cpu = t->cpu;
    cpu->regs[R_EAX] = c->eax;
    cpu->regs[R_EBX] = c->ebx;
    cpu->regs[R_ECX] = c->ecx;
    cpu->regs[R_EDX] = c->edx;
    cpu_set_eflags(cpu, c->flags_in | 2, 0xffffffffu);
    test_cpu_run_code(t, c->code, c->len);
    ck_assert_msg(test_cpu_exc(t) == 0xffffffffu, "%s: exception %u", c->name, test_cpu_exc(t));
    ck_assert_msg(cpu->regs[R_EAX] == c->eax_out, "%s: EAX %08x, expected %08x", c->name,
                  cpu->regs[R_EAX], c->eax_out);
    ck_assert_msg(cpu->regs[R_EBX] == c->ebx_out, "%s: EBX %08x, expected %08x", c->name,
                  cpu->regs[R_EBX], c->ebx_out);
    ck_assert_msg(cpu->regs[R_EDX] == c->edx_out, "%s: EDX %08x, expected %08x", c->name,
                  cpu->regs[R_EDX], c->edx_out);
    uint32_t f = cpu_get_eflags(cpu);
    ck_assert_msg(((f ^ c->flags_out) & c->mask) == 0, "%s: flags %03x, expected %03x (mask %03x)",
                  c->name, f & ALL, c->flags_out, c->mask);
    test_cpu_free(t);
}
END_TEST

/* #DE: division by zero and quotient overflow; nothing changes. */
START_TEST(test_divide_errors)
{
    static const struct { uint8_t code[4]; int len; uint32_t eax, ebx, edx; } de[] = {
        { { 0xf7, 0xf3 }, 2, 1, 0, 0 },               /* div ebx, ebx = 0 */
        { { 0xf7, 0xf3 }, 2, 0, 1, 1 },               /* div ebx: quotient 2^32 */
        { { 0xf6, 0xf3 }, 2, 0x1000, 0x10, 0 },       /* div bl: quotient 0x100 */
        { { 0xf7, 0xfb }, 2, 0x80000000, 0xffffffff, 0xffffffff }, /* idiv: -2^31 / -1 */
        { { 0x66, 0xf7, 0xfb }, 3, 0x8000, 0xffff, 0xffff },       /* idiv bx: -2^15 / -1 */
        { { 0xd4, 0x00 }, 2, 0x12, 0, 0 },            /* aam 0 */
    };
    for (size_t i = 0; i < ARRAY_SIZE(de); i++) {
        TestCPU *t = test_cpu_new();
        CPUX86State *cpu = t->cpu;
        cpu->regs[R_EAX] = de[i].eax;
        cpu->regs[R_EBX] = de[i].ebx;
        cpu->regs[R_EDX] = de[i].edx;
        test_cpu_run_code(t, de[i].code, de[i].len);
        ck_assert_msg(test_cpu_exc(t) == EXCP_DE, "case %zu: exception %u", i, test_cpu_exc(t));
        ck_assert_uint_eq(cpu->regs[R_EAX], de[i].eax);
        ck_assert_uint_eq(cpu->regs[R_EDX], de[i].edx);
        /* the saved EIP is the divide instruction */
        ck_assert_uint_eq(ldl_le(t->mem + TEST_STACK - 12), TEST_CODE);
        test_cpu_free(t);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-muldiv");
    TCase *tc = tcase_create("cases");
    tcase_add_loop_test(tc, test_case, 0, ARRAY_SIZE(cases));
    tcase_add_test(tc, test_divide_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
