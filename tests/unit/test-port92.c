/* Unit tests for hw/port92.c: fast A20 and fast reset. */
#include <check.h>

#include "hw/port92.h"
#include "devtest.h"

static TestIO io;
static TestLine a20, rst;
static IRQLine *a20_line, *rst_line;
static Port92State *p92;

static void setup(void)
{
    testio_init(&io);
    a20_line = test_line_new(&a20);
    rst_line = test_line_new(&rst);
    p92 = port92_new(io.root, a20_line, rst_line);
}

static void teardown(void)
{
    port92_free(p92);
    irq_free(a20_line);
    irq_free(rst_line);
    testio_cleanup(&io);
}

START_TEST(test_a20_and_reset)
{
    ck_assert_uint_eq(inb(&io, 0x92), 0x00);
    outb(&io, 0x92, 0x02);
    ck_assert_int_eq(a20.level, 1);
    ck_assert_int_eq(rst.rises, 0);
    ck_assert_uint_eq(inb(&io, 0x92), 0x02);
    outb(&io, 0x92, 0x00);
    ck_assert_int_eq(a20.level, 0);
    /* Reset on the rising edge of bit 0 only. */
    outb(&io, 0x92, 0x03);
    ck_assert_int_eq(rst.rises, 1);
    ck_assert_int_eq(rst.level, 0);
    outb(&io, 0x92, 0x03);
    ck_assert_int_eq(rst.rises, 1);
    ck_assert_uint_eq(inb(&io, 0x92), 0x03);
    port92_reset(p92);
    ck_assert_uint_eq(inb(&io, 0x92), 0x02);   /* A20 bit kept */
    outb(&io, 0x92, 0x03);
    ck_assert_int_eq(rst.rises, 2);
    /* Undefined bits read as zero. */
    outb(&io, 0x92, 0xf6);
    ck_assert_uint_eq(inb(&io, 0x92), 0x02);
}
END_TEST

static Suite *port92_suite(void)
{
    Suite *s = suite_create("port92");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_a20_and_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(port92_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
