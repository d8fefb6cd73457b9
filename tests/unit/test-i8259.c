/* Unit tests for hw/i8259.c: the PIC pair driven through its ports. */
#include <check.h>

#include "hw/i8259.h"
#include "devtest.h"

static TestIO io;
static TestLine intr;
static IRQLine *intr_line;
static PICState *pic;

/* Linux's initialisation: vectors 0x20/0x28, slave on IR2, 8086 mode. */
static void pic_init_like_linux(uint8_t icw4_master, uint8_t icw4_slave)
{
    outb(&io, 0x20, 0x11);
    outb(&io, 0x21, 0x20);
    outb(&io, 0x21, 0x04);
    outb(&io, 0x21, icw4_master);
    outb(&io, 0xa0, 0x11);
    outb(&io, 0xa1, 0x28);
    outb(&io, 0xa1, 0x02);
    outb(&io, 0xa1, icw4_slave);
}

static void setup(void)
{
    testio_init(&io);
    intr_line = test_line_new(&intr);
    pic = pic_new(io.root, intr_line);
    pic_init_like_linux(0x01, 0x01);
}

static void teardown(void)
{
    pic_free(pic);
    irq_free(intr_line);
    testio_cleanup(&io);
}

static void raise(int n) { irq_raise(pic_input(pic, n)); }
static void lower(int n) { irq_lower(pic_input(pic, n)); }
static void pulse(int n) { irq_pulse(pic_input(pic, n)); }

static uint8_t read_isr(uint16_t port)
{
    outb(&io, port, 0x0b);
    uint8_t v = inb(&io, port);
    outb(&io, port, 0x0a);
    return v;
}

START_TEST(test_basic_ack_and_eoi)
{
    ck_assert_int_eq(intr.level, 0);
    pulse(0);
    ck_assert_int_eq(intr.level, 1);
    ck_assert(pic_intr_level(pic));
    ck_assert_uint_eq(inb(&io, 0x20), 0x01);        /* IRR */
    ck_assert_int_eq(pic_get_interrupt(pic), 0x20);
    ck_assert_int_eq(intr.level, 0);
    ck_assert_uint_eq(read_isr(0x20), 0x01);
    ck_assert_uint_eq(inb(&io, 0x20), 0x00);        /* IRR cleared by INTA */
    outb(&io, 0x20, 0x20);                          /* non-specific EOI */
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    ck_assert_int_eq(intr.level, 0);
}
END_TEST

START_TEST(test_priority_and_nesting)
{
    pulse(3);
    pulse(1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x21);  /* IR1 beats IR3 */
    /* IR3 is lower than IR1 in service: no INTR. */
    ck_assert_int_eq(intr.level, 0);
    /* IR0 is higher: nests. */
    pulse(0);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x20);
    ck_assert_uint_eq(read_isr(0x20), 0x03);
    outb(&io, 0x20, 0x20);   /* EOI clears the highest: IR0 */
    ck_assert_uint_eq(read_isr(0x20), 0x02);
    ck_assert_int_eq(intr.level, 0);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x23);
}
END_TEST

START_TEST(test_mask)
{
    outb(&io, 0x21, 0x01);
    ck_assert_uint_eq(inb(&io, 0x21), 0x01);
    pulse(0);
    ck_assert_int_eq(intr.level, 0);
    ck_assert_uint_eq(inb(&io, 0x20), 0x01);   /* IRR latched anyway */
    outb(&io, 0x21, 0x00);
    ck_assert_int_eq(intr.level, 1);
    outb(&io, 0xa1, 0xff);
    ck_assert_uint_eq(inb(&io, 0xa1), 0xff);
}
END_TEST

START_TEST(test_cascade)
{
    pulse(10);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x2a);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
    ck_assert_uint_eq(read_isr(0xa0), 0x04);
    /* Two slave requests: the second arrives after the first's EOI. */
    pulse(9);
    pulse(12);
    ck_assert_int_eq(intr.level, 0);             /* master IR2 in service */
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    /* IRQ12 is still waiting on the slave and must get through. */
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x2c);
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 0);
    /* Master IR1 beats the slave on IR2. */
    pulse(8);
    pulse(1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x21);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x28);
}
END_TEST

START_TEST(test_cascade_two_pending_same_ack)
{
    /* Both slave requests pending before the first acknowledge. */
    pulse(9);
    pulse(11);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x2b);
}
END_TEST

START_TEST(test_level_triggered_elcr)
{
    outb(&io, 0x4d0, 0xff);
    outb(&io, 0x4d1, 0xff);
    ck_assert_uint_eq(inb(&io, 0x4d0), 0xf8);      /* IRQ 0-2 edge only */
    ck_assert_uint_eq(inb(&io, 0x4d1), 0xde);      /* IRQ 8, 13 edge only */
    ck_assert_uint_eq(pic_get_elcr(pic), 0xdef8);
    pic_set_elcr(pic, 0x0200);                     /* IRQ9 level */
    ck_assert_uint_eq(inb(&io, 0x4d1), 0x02);

    raise(9);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    /* Still high: interrupts again. */
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    lower(9);
    outb(&io, 0xa0, 0x20);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 0);
    outb(&io, 0xa0, 0x0a);
    ck_assert_uint_eq(inb(&io, 0xa0), 0x00);
    /* A level request withdrawn before INTA disappears from the slave's
     * IRR; the master's edge latch on IR2 then yields spurious IRQ15. */
    raise(9);
    ck_assert_int_eq(intr.level, 1);
    lower(9);
    ck_assert_uint_eq(inb(&io, 0xa0), 0x00);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x2f);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 0);

    /* Edge input held high interrupts once. */
    raise(5);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x25);
    outb(&io, 0x20, 0x65);                         /* specific EOI IR5 */
    ck_assert_int_eq(intr.level, 0);
    lower(5);
}
END_TEST

START_TEST(test_ltim)
{
    outb(&io, 0x20, 0x19);    /* ICW1 with LTIM */
    outb(&io, 0x21, 0x20);
    outb(&io, 0x21, 0x04);
    outb(&io, 0x21, 0x01);
    raise(4);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x24);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(intr.level, 1);
    lower(4);
    ck_assert_int_eq(intr.level, 0);
}
END_TEST

START_TEST(test_auto_eoi)
{
    pic_init_like_linux(0x03, 0x01);
    pulse(6);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x26);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    /* Same IR again without any EOI. */
    pulse(6);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x26);
}
END_TEST

START_TEST(test_rotation)
{
    /* Rotate on non-specific EOI: the serviced IR becomes lowest. */
    pulse(0);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x20);
    outb(&io, 0x20, 0xa0);
    pulse(0);
    pulse(7);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x27);
    outb(&io, 0x20, 0x20);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x20);
    outb(&io, 0x20, 0x20);

    /* Set priority: IR4 lowest, so IR5 is highest. */
    outb(&io, 0x20, 0xc4);
    pulse(3);
    pulse(5);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x25);
    /* Rotate on specific EOI of IR5: IR6 highest, IR5 lowest. */
    outb(&io, 0x20, 0xe5);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x23);
    outb(&io, 0x20, 0x63);

    /* Rotate in automatic EOI mode. */
    pic_init_like_linux(0x03, 0x01);
    outb(&io, 0x20, 0x80);
    pulse(1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x21);
    pulse(1);
    pulse(6);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x26);   /* IR1 now lowest */
    outb(&io, 0x20, 0x00);                            /* clear rotate-in-AEOI */
    ck_assert_int_eq(pic_get_interrupt(pic), 0x21);
}
END_TEST

START_TEST(test_special_mask)
{
    pulse(3);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x23);
    pulse(5);
    ck_assert_int_eq(intr.level, 0);           /* blocked by IR3 in service */
    outb(&io, 0x21, 0x08);                     /* mask IR3 */
    outb(&io, 0x20, 0x68);                     /* OCW3: set special mask */
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x25);
    outb(&io, 0x20, 0x65);
    outb(&io, 0x20, 0x48);                     /* reset special mask */
    pulse(4);
    ck_assert_int_eq(intr.level, 0);           /* IR3 blocks again */
    outb(&io, 0x20, 0x63);
    ck_assert_int_eq(intr.level, 1);
}
END_TEST

START_TEST(test_poll)
{
    pulse(5);
    pulse(3);
    outb(&io, 0x20, 0x0c);                     /* poll */
    ck_assert_uint_eq(inb(&io, 0x20), 0x83);
    ck_assert_uint_eq(read_isr(0x20), 0x08);
    /* The poll flag is one-shot: next read is IRR again. */
    ck_assert_uint_eq(inb(&io, 0x20), 0x20);
    outb(&io, 0x20, 0x20);
    /* Masked requests do not reach the priority resolver. */
    outb(&io, 0x21, 0xff);
    outb(&io, 0x20, 0x0c);
    ck_assert_uint_eq(inb(&io, 0x21), 0x00);
    outb(&io, 0x21, 0x00);
    outb(&io, 0x20, 0x0c);
    ck_assert_uint_eq(inb(&io, 0x21), 0x85);   /* either port answers */

    /* Cascade by polling: master says IR2, then poll the slave. */
    outb(&io, 0x20, 0x20);
    pulse(14);
    outb(&io, 0x20, 0x0c);
    ck_assert_uint_eq(inb(&io, 0x20), 0x82);
    outb(&io, 0xa0, 0x0c);
    ck_assert_uint_eq(inb(&io, 0xa0), 0x86);
    ck_assert_uint_eq(read_isr(0xa0), 0x40);
}
END_TEST

START_TEST(test_spurious)
{
    /* INTA with nothing pending: IR7 vector, ISR untouched. */
    ck_assert_int_eq(pic_get_interrupt(pic), 0x27);
    ck_assert_uint_eq(read_isr(0x20), 0x00);
    /* Slave request masked after the master latched IR2: spurious 15. */
    pulse(10);
    outb(&io, 0xa1, 0x04);
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x2f);
    ck_assert_uint_eq(read_isr(0x20), 0x04);
    ck_assert_uint_eq(read_isr(0xa0), 0x00);
}
END_TEST

START_TEST(test_sfnm)
{
    pic_init_like_linux(0x11, 0x01);          /* master: special fully nested */
    pulse(9);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    pulse(8);                                  /* higher priority on the slave */
    ck_assert_int_eq(intr.level, 1);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x28);
    /* Without SFNM the same sequence waits for the master's EOI. */
    pic_init_like_linux(0x01, 0x01);
    pulse(9);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x29);
    pulse(8);
    ck_assert_int_eq(intr.level, 0);
}
END_TEST

START_TEST(test_reinit_and_regs)
{
    pulse(1);
    outb(&io, 0x21, 0x55);
    /* ICW1 clears IMR, ISR and the edge latches. */
    raise(6);
    outb(&io, 0x20, 0x11);
    outb(&io, 0x21, 0x08);
    outb(&io, 0x21, 0x04);
    outb(&io, 0x21, 0x01);
    ck_assert_uint_eq(inb(&io, 0x21), 0x00);
    ck_assert_uint_eq(inb(&io, 0x20), 0x00);
    ck_assert_int_eq(intr.level, 0);
    /* IR6 is still high: it needs a new edge. */
    raise(6);
    ck_assert_int_eq(intr.level, 0);
    lower(6);
    raise(6);
    ck_assert_int_eq(pic_get_interrupt(pic), 0x0e);
    uint16_t irr, isr, imr;
    pic_get_regs(pic, &irr, &isr, &imr);
    ck_assert_uint_eq(isr, 0x0040);
    /* Single mode, no ICW4: no ICW3 expected, next write is OCW1. */
    outb(&io, 0xa0, 0x12);
    outb(&io, 0xa1, 0x70);
    outb(&io, 0xa1, 0xfe);
    ck_assert_uint_eq(inb(&io, 0xa1), 0xfe);
    pic_reset(pic);
    ck_assert_uint_eq(inb(&io, 0xa1), 0x00);
    ck_assert_uint_eq(pic_get_elcr(pic), 0);
    ck_assert(pic_input(pic, 16) == NULL);
    ck_assert(pic_input(pic, -1) == NULL);
}
END_TEST

static Suite *pic_suite(void)
{
    Suite *s = suite_create("i8259");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_basic_ack_and_eoi);
    tcase_add_test(tc, test_priority_and_nesting);
    tcase_add_test(tc, test_mask);
    tcase_add_test(tc, test_cascade);
    tcase_add_test(tc, test_cascade_two_pending_same_ack);
    tcase_add_test(tc, test_level_triggered_elcr);
    tcase_add_test(tc, test_ltim);
    tcase_add_test(tc, test_auto_eoi);
    tcase_add_test(tc, test_rotation);
    tcase_add_test(tc, test_special_mask);
    tcase_add_test(tc, test_poll);
    tcase_add_test(tc, test_spurious);
    tcase_add_test(tc, test_sfnm);
    tcase_add_test(tc, test_reinit_and_regs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
