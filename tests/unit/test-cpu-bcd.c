/*
 * Decimal adjust instructions: DAA DAS AAA AAS AAM AAD, with the flags
 * the manual defines (SF ZF PF after AAM/AAD and DAA/DAS, CF AF after
 * DAA/DAS/AAA/AAS). Values follow the manual's examples.
 */
#include "cpu-test-helpers.h"

typedef struct BcdCase {
    const char *name;
    uint8_t code[12];
    int len;
    uint32_t ax_out;
    uint32_t flags_out, mask;
} BcdCase;

static const BcdCase cases[] = {
    /* mov al,0x79; add al,0x35; daa -> 0x14, CF AF */
    { "daa", { 0xb0, 0x79, 0x04, 0x35, 0x27 }, 5, 0x14, CC_C | CC_A | CC_P, CC_C | CC_A | CC_Z | CC_S | CC_P },
    /* mov al,0x35; sub al,0x47; das -> 0x88, CF AF SF */
    { "das", { 0xb0, 0x35, 0x2c, 0x47, 0x2f }, 5, 0x88, CC_C | CC_A | CC_S | CC_P, CC_C | CC_A | CC_Z | CC_S | CC_P },
    /* mov al,0x25; add al,0x13; daa -> 0x38, no adjust */
    { "daa no adjust", { 0xb0, 0x25, 0x04, 0x13, 0x27 }, 5, 0x38, 0, CC_C | CC_A | CC_Z | CC_S },
    /* mov ax,9; add al,8; aaa -> ax 0x0107, CF AF */
    { "aaa", { 0x66, 0xb8, 0x09, 0x00, 0x04, 0x08, 0x37 }, 7, 0x0107, CC_C | CC_A, CC_C | CC_A },
    /* mov ax,0x0203; add al,4; aaa -> 0x0207, no carry */
    { "aaa no adjust", { 0x66, 0xb8, 0x03, 0x02, 0x04, 0x04, 0x37 }, 7, 0x0207, 0, CC_C | CC_A },
    /* mov ax,0x0200; sub al,9; aas -> 0x0101, CF AF */
    { "aas", { 0x66, 0xb8, 0x00, 0x02, 0x2c, 0x09, 0x3f }, 7, 0x0101, CC_C | CC_A, CC_C | CC_A },
    /* mov ax,79; aam -> 0x0709 */
    { "aam", { 0x66, 0xb8, 0x4f, 0x00, 0xd4, 0x0a }, 6, 0x0709, CC_P, CC_Z | CC_S | CC_P },
    /* mov ax,0x0709; aad -> 79 */
    { "aad", { 0x66, 0xb8, 0x09, 0x07, 0xd5, 0x0a }, 6, 0x004f, 0, CC_Z | CC_S | CC_P },
    /* mov ax,0x0709; aad 16 -> 0x79 */
    { "aad base 16", { 0x66, 0xb8, 0x09, 0x07, 0xd5, 0x10 }, 6, 0x0079, 0, CC_Z | CC_S },
    /* mov ax,0; aam 16 -> zero */
    { "aam zero", { 0x66, 0xb8, 0x00, 0x00, 0xd4, 0x10 }, 6, 0x0000, CC_Z | CC_P, CC_Z | CC_S | CC_P },
};

START_TEST(test_bcd)
{
    const BcdCase *c = &cases[_i];
    TestCPU *t = test_cpu_new();
    CPUX86State *cpu = t->cpu;
    cpu->regs[R_EAX] = 0x12340000;
    test_cpu_run_code(t, c->code, c->len);
    ck_assert_msg(test_cpu_exc(t) == 0xffffffffu, "%s: exception", c->name);
    ck_assert_msg((cpu->regs[R_EAX] & 0xffff) == c->ax_out, "%s: AX %04x, expected %04x", c->name,
                  cpu->regs[R_EAX] & 0xffff, c->ax_out);
    ck_assert_msg((cpu->regs[R_EAX] >> 16) == 0x1234, "%s: upper EAX changed", c->name);
    uint32_t f = cpu_get_eflags(cpu);
    ck_assert_msg(((f ^ c->flags_out) & c->mask) == 0, "%s: flags %03x, expected %03x mask %03x",
                  c->name, f & 0x8d5, c->flags_out, c->mask);
    test_cpu_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-bcd");
    TCase *tc = tcase_create("bcd");
    tcase_add_loop_test(tc, test_bcd, 0, ARRAY_SIZE(cases));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}
