/*
 * Unit tests for hw/i8042.c and hw/ps2.c: controller commands as Linux's
 * i8042 driver and SeaBIOS issue them, the keyboard protocol (atkbd),
 * the mouse protocol (psmouse, IntelliMouse detection), translation,
 * IRQ 1/12 and the A20/reset outputs.
 */
#include <check.h>

#include "hw/i8042.h"
#include "devtest.h"

static TestIO io;
static TestLine irq1, irq12, a20, rst;
static IRQLine *irq1_line, *irq12_line, *a20_line, *rst_line;
static I8042State *kbc;
static PS2Kbd *kbd;
static PS2Mouse *mouse;

static void setup(void)
{
    testio_init(&io);
    irq1_line = test_line_new(&irq1);
    irq12_line = test_line_new(&irq12);
    a20_line = test_line_new(&a20);
    rst_line = test_line_new(&rst);
    kbc = i8042_new(io.root, irq1_line, irq12_line, a20_line, rst_line);
    kbd = i8042_keyboard(kbc);
    mouse = i8042_mouse(kbc);
}

static void teardown(void)
{
    i8042_free(kbc);
    irq_free(irq1_line);
    irq_free(irq12_line);
    irq_free(a20_line);
    irq_free(rst_line);
    testio_cleanup(&io);
}

static uint8_t status(void) { return inb(&io, 0x64); }
static void command(uint8_t c) { outb(&io, 0x64, c); }
static void data_out(uint8_t d) { outb(&io, 0x60, d); }

/* Reads everything waiting, like i8042_flush(); returns the count. */
static int drain(uint8_t *buf, int max)
{
    int n = 0;
    while ((status() & 0x01) && n < max) {
        buf[n++] = inb(&io, 0x60);
    }
    return n;
}

static uint8_t read_one(void)
{
    ck_assert_uint_eq(status() & 0x01, 0x01);
    return inb(&io, 0x60);
}

#define EXPECT_BYTES(...) do {                                       \
    static const uint8_t want_[] = { __VA_ARGS__ };                  \
    uint8_t got_[64];                                                \
    int n_ = drain(got_, 64);                                        \
    ck_assert_int_eq(n_, (int)sizeof(want_));                        \
    for (int i_ = 0; i_ < n_; i_++) {                                \
        ck_assert_uint_eq(got_[i_], want_[i_]);                      \
    }                                                                \
} while (0)

static void set_ctr(uint8_t v)
{
    command(0x60);
    data_out(v);
}

static uint8_t get_ctr(void)
{
    command(0x20);
    return read_one();
}

static void mouse_cmd(uint8_t c)
{
    command(0xd4);
    data_out(c);
}

START_TEST(test_controller_basics)
{
    ck_assert_uint_eq(status() & 0x14, 0x10);        /* unlocked, SYS clear */
    ck_assert_int_eq(a20.level, 1);                  /* A20 on after reset */
    command(0xaa);
    ck_assert_uint_eq(status() & 0x0d, 0x0d);        /* OBF, SYS, last write = cmd */
    ck_assert_uint_eq(read_one(), 0x55);
    ck_assert_uint_eq(status() & 0x01, 0);
    command(0xab);
    EXPECT_BYTES(0x00);
    command(0xa9);
    EXPECT_BYTES(0x00);
    command(0xa4);
    EXPECT_BYTES(0xf1);
    command(0xe0);
    EXPECT_BYTES(0x00);

    ck_assert_uint_eq(get_ctr(), 0x03);
    set_ctr(0x65);
    ck_assert_uint_eq(status() & 0x08, 0);           /* last write was data */
    ck_assert_uint_eq(get_ctr(), 0x65);
    ck_assert_uint_eq(status() & 0x04, 0x04);
    command(0xa7);
    ck_assert_uint_eq(get_ctr() & 0x20, 0x20);
    command(0xa8);
    ck_assert_uint_eq(get_ctr() & 0x20, 0x00);
    command(0xad);
    ck_assert_uint_eq(get_ctr() & 0x10, 0x10);
    command(0xae);
    ck_assert_uint_eq(get_ctr() & 0x10, 0x00);
    /* Controller RAM beyond the command byte. */
    command(0x65);
    data_out(0x77);
    command(0x25);
    EXPECT_BYTES(0x77);
    /* The buffer keeps its last byte when empty. */
    ck_assert_uint_eq(inb(&io, 0x60), 0x77);
}
END_TEST

START_TEST(test_aux_loopback_and_irqs)
{
    /* Linux's AUX loop test: the byte comes back as mouse data on IRQ 12. */
    set_ctr(0x03);
    command(0xd3);
    data_out(0x5a);
    ck_assert_uint_eq(status() & 0x21, 0x21);
    ck_assert_int_eq(irq12.level, 1);
    ck_assert_int_eq(irq1.level, 0);
    ck_assert_uint_eq(inb(&io, 0x60), 0x5a);
    ck_assert_int_eq(irq12.level, 0);
    /* D2 is keyboard data on IRQ 1. */
    command(0xd2);
    data_out(0x12);
    ck_assert_uint_eq(status() & 0x21, 0x01);
    ck_assert_int_eq(irq1.level, 1);
    inb(&io, 0x60);
    ck_assert_int_eq(irq1.level, 0);
    /* No IRQs with the enables clear. */
    set_ctr(0x00);
    command(0xd3);
    data_out(0xa5);
    ck_assert_int_eq(irq12.level, 0);
    EXPECT_BYTES(0xa5);
}
END_TEST

START_TEST(test_output_port_a20_reset)
{
    command(0xd0);
    EXPECT_BYTES(0xcf);
    command(0xd1);
    data_out(0xcd);                                  /* A20 off */
    ck_assert_int_eq(a20.level, 0);
    ck_assert_int_eq(rst.rises, 0);
    command(0xd0);
    ck_assert_uint_eq(read_one() & 0x03, 0x01);
    command(0xdf);
    ck_assert_int_eq(a20.level, 1);
    command(0xdd);
    ck_assert_int_eq(a20.level, 0);
    /* Reset through the output port and through the pulse command. */
    command(0xd1);
    data_out(0xce);
    ck_assert_int_eq(rst.rises, 1);
    ck_assert_int_eq(rst.level, 0);                  /* a pulse */
    command(0xfe);
    ck_assert_int_eq(rst.rises, 2);
    command(0xff);                                   /* pulses nothing */
    ck_assert_int_eq(rst.rises, 2);
    /* OBF bits in the output port. */
    command(0xd3);
    data_out(0x01);
    command(0xd0);
    ck_assert_uint_eq(read_one(), 0x01);             /* the answer waits behind it */
    ck_assert_uint_eq(read_one(), 0xce | 0x20);      /* AUX OBF was set when asked */
    i8042_reset(kbc);
    ck_assert_int_eq(a20.level, 1);
}
END_TEST

START_TEST(test_keyboard_commands)
{
    set_ctr(0x01);                                   /* no translation */
    data_out(0xff);                                  /* reset */
    EXPECT_BYTES(0xfa, 0xaa);
    data_out(0xf2);                                  /* get ID */
    EXPECT_BYTES(0xfa, 0xab, 0x83);
    data_out(0xed);                                  /* LEDs */
    data_out(0x07);
    EXPECT_BYTES(0xfa, 0xfa);
    ck_assert_uint_eq(ps2_kbd_leds(kbd), 7);
    data_out(0xee);
    EXPECT_BYTES(0xee);
    data_out(0xf3);                                  /* typematic */
    data_out(0x20);
    EXPECT_BYTES(0xfa, 0xfa);
    data_out(0xf0);                                  /* get scancode set */
    data_out(0x00);
    EXPECT_BYTES(0xfa, 0xfa, 0x02);
    data_out(0xf0);                                  /* set 3: refused */
    data_out(0x03);
    EXPECT_BYTES(0xfa, 0xfe);
    data_out(0xfe);                                  /* resend */
    EXPECT_BYTES(0xfe);
    data_out(0xab);                                  /* unknown */
    EXPECT_BYTES(0xfe);
    /* A command where an argument was expected is a command. */
    data_out(0xed);
    data_out(0xf2);
    EXPECT_BYTES(0xfa, 0xfa, 0xab, 0x83);
    data_out(0xf5);
    EXPECT_BYTES(0xfa);
    ps2_keyboard_event(kbd, 0x1c, true);
    EXPECT_BYTES();                                  /* scanning disabled */
    data_out(0xf4);
    EXPECT_BYTES(0xfa);
    ck_assert_uint_eq(ps2_kbd_leds(kbd), 0);         /* F5 restored defaults */
}
END_TEST

START_TEST(test_keyboard_translation)
{
    /* Translated: the ID's second byte and the keys come out as set 1. */
    set_ctr(0x41);
    data_out(0xf2);
    EXPECT_BYTES(0xfa, 0xab, 0x41);
    ps2_keyboard_event(kbd, 0x1c, true);             /* A */
    ck_assert_int_eq(irq1.level, 1);
    ps2_keyboard_event(kbd, 0x1c, false);
    EXPECT_BYTES(0x1e, 0x9e);
    ps2_keyboard_event(kbd, PS2_KEY_EXT(0x75), true);   /* Up */
    ps2_keyboard_event(kbd, PS2_KEY_EXT(0x75), false);
    EXPECT_BYTES(0xe0, 0x48, 0xe0, 0xc8);
    ps2_keyboard_event(kbd, PS2_KEY_PAUSE, true);
    ps2_keyboard_event(kbd, PS2_KEY_PAUSE, false);
    EXPECT_BYTES(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    ps2_keyboard_event(kbd, PS2_KEY_PRINT, true);
    ps2_keyboard_event(kbd, PS2_KEY_PRINT, false);
    EXPECT_BYTES(0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    ps2_keyboard_event(kbd, 0x83, true);             /* F7: the odd one */
    EXPECT_BYTES(0x41);

    /* Untranslated: raw set 2. */
    set_ctr(0x01);
    ps2_keyboard_event(kbd, 0x1c, true);
    ps2_keyboard_event(kbd, 0x1c, false);
    ps2_keyboard_event(kbd, PS2_KEY_EXT(0x14), false);  /* Right Ctrl up */
    EXPECT_BYTES(0x1c, 0xf0, 0x1c, 0xe0, 0xf0, 0x14);

    /* Keyboard in set 1 itself, no translation. */
    data_out(0xf0);
    data_out(0x01);
    EXPECT_BYTES(0xfa, 0xfa);
    ps2_keyboard_event(kbd, 0x5a, true);             /* Enter */
    ps2_keyboard_event(kbd, PS2_KEY_EXT(0x5a), false);  /* keypad Enter up */
    EXPECT_BYTES(0x1c, 0xe0, 0x9c);

    /* Bad codes are ignored. */
    ps2_keyboard_event(kbd, 0, true);
    ps2_keyboard_event(kbd, 0x85, true);
    ps2_keyboard_event(kbd, 0x123, true);
    ps2_keyboard_event(kbd, -1, true);
    EXPECT_BYTES();

    ck_assert_int_eq(ps2_keycode_from_set1(0x1e), 0x1c);
    ck_assert_int_eq(ps2_keycode_from_set1(0xe048), PS2_KEY_EXT(0x75));
    ck_assert_int_eq(ps2_keycode_from_set1(0x41), 0x83);
    ck_assert_int_eq(ps2_keycode_from_set1(0x9e), -1);
    ck_assert_int_eq(ps2_keycode_from_set1(0x12345), -1);
    /* Every set 1 code 1-0x58 maps back to a key whose translation it is. */
    for (int c = 1; c <= 0x58; c++) {
        if (c == 0x54 || c == 0x55) {
            continue;
        }
        int k = ps2_keycode_from_set1(c);
        ck_assert_int_ge(k, 1);
        ck_assert_uint_eq(ps2_translate_set2_to_set1(k), c);
    }
}
END_TEST

START_TEST(test_keyboard_disabled_interface_and_queue)
{
    set_ctr(0x41);
    command(0xad);
    ps2_keyboard_event(kbd, 0x1c, true);
    ck_assert_uint_eq(status() & 0x01, 0);           /* held by the keyboard */
    command(0xae);
    EXPECT_BYTES(0x1e);
    /* A translated break whose code has not arrived yet. */
    command(0xad);
    ps2_keyboard_event(kbd, 0x1c, false);
    command(0xae);
    EXPECT_BYTES(0x9e);
    /* The keyboard buffers 16 bytes, then reports an overrun (set 2's
     * 0x00, which translation turns into 0xff) and loses keys. */
    for (int i = 0; i < 40; i++) {
        ps2_keyboard_event(kbd, 0x1c, i % 2 == 0);
    }
    uint8_t got[64];
    int n = drain(got, 64);
    ck_assert_int_eq(n, 12);        /* one in the controller, 10 keys, overrun */
    for (int i = 0; i < n - 1; i++) {
        ck_assert_uint_eq(got[i], i % 2 ? 0x9e : 0x1e);
    }
    ck_assert_uint_eq(got[n - 1], 0xff);
    ps2_keyboard_event(kbd, 0x1c, true);             /* room again */
    EXPECT_BYTES(0x1e);
    /* Set 1's overrun code is 0xff itself. */
    set_ctr(0x01);
    data_out(0xf0);
    data_out(0x01);
    EXPECT_BYTES(0xfa, 0xfa);
    command(0xad);
    for (int i = 0; i < 20; i++) {
        ps2_keyboard_event(kbd, 0x1c, true);
    }
    command(0xae);
    n = drain(got, 64);
    ck_assert_int_eq(n, 17);
    ck_assert_uint_eq(got[15], 0x1e);
    ck_assert_uint_eq(got[16], 0xff);
    set_ctr(0x41);
    /* Writing to the keyboard re-enables its interface. */
    command(0xad);
    data_out(0xee);
    EXPECT_BYTES(0xee);
    ck_assert_uint_eq(get_ctr() & 0x10, 0);
}
END_TEST

START_TEST(test_mouse_protocol)
{
    set_ctr(0x03);
    mouse_cmd(0xff);
    uint8_t got[64];
    int n = 0;
    while (status() & 0x01) {
        ck_assert_uint_eq(status() & 0x20, 0x20);   /* AUX data */
        ck_assert_int_eq(irq12.level, 1);
        got[n++] = inb(&io, 0x60);
    }
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(got[0], 0xfa);
    ck_assert_uint_eq(got[1], 0xaa);
    ck_assert_uint_eq(got[2], 0x00);
    mouse_cmd(0xf2);
    EXPECT_BYTES(0xfa, 0x00);
    /* IntelliMouse knock: 200, 100, 80. */
    const uint8_t knock[] = { 200, 100, 80 };
    for (int i = 0; i < 3; i++) {
        mouse_cmd(0xf3);
        mouse_cmd(knock[i]);
    }
    EXPECT_BYTES(0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
    mouse_cmd(0xf2);
    EXPECT_BYTES(0xfa, 0x03);
    mouse_cmd(0xe8);
    mouse_cmd(0x03);
    mouse_cmd(0xe9);
    EXPECT_BYTES(0xfa, 0xfa, 0xfa, 0x00, 0x03, 80);

    /* Not reporting yet: events wait. */
    ps2_mouse_event(mouse, 10, -5, 0, 0);
    EXPECT_BYTES();
    mouse_cmd(0xf4);
    EXPECT_BYTES(0xfa);
    ps2_mouse_event(mouse, 0, 0, 1, PS2_MOUSE_LEFT);
    /* Enabling cleared the movement counters; this packet has only the
     * wheel and the button. */
    EXPECT_BYTES(0x09, 0x00, 0x00, 0x01);
    ps2_mouse_event(mouse, -3, 7, -2, PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT);
    EXPECT_BYTES(0x08 | 0x03 | 0x10 | 0x20, 0xfd, 0xf9, 0xfe);
    /* Big motion is split into packets of at most 255. */
    ps2_mouse_event(mouse, 600, 0, 0, 0);
    EXPECT_BYTES(0x08, 0xff, 0x00, 0x00, 0x08, 0xff, 0x00, 0x00, 0x08, 90, 0x00, 0x00);
    /* Unread packets are capped; the rest of the motion waits in the
     * counters and is reported as the host reads. */
    command(0xa7);
    ps2_mouse_event(mouse, 255 * 10, 0, 0, 0);
    command(0xa8);
    int total = 0, packets = 0;
    while (status() & 0x01) {
        uint8_t pkt[4];
        for (int i = 0; i < 4; i++) {
            pkt[i] = read_one();
        }
        ck_assert_uint_eq(pkt[0], 0x08);
        total += pkt[1];
        packets++;
    }
    ck_assert_int_eq(packets, 10);
    ck_assert_int_eq(total, 2550);
    mouse_cmd(0xe9);
    EXPECT_BYTES(0xfa, 0x20, 0x03, 80);

    /* 2:1 scaling in stream mode. */
    mouse_cmd(0xe7);
    EXPECT_BYTES(0xfa);
    ps2_mouse_event(mouse, 4, 0, 0, 0);
    EXPECT_BYTES(0x08, 6, 0, 0);
    ps2_mouse_event(mouse, 40, 0, 0, 0);
    EXPECT_BYTES(0x08, 80, 0, 0);
    ps2_mouse_event(mouse, 200, 0, 0, 0);
    EXPECT_BYTES(0x08 | 0x40, 0xff, 0, 0);          /* X overflow */
    mouse_cmd(0xe6);
    EXPECT_BYTES(0xfa);

    /* Remote mode: nothing streams; READ DATA returns a packet. */
    mouse_cmd(0xf0);
    EXPECT_BYTES(0xfa);
    ps2_mouse_event(mouse, 5, 5, 0, 0);
    EXPECT_BYTES();
    mouse_cmd(0xeb);
    EXPECT_BYTES(0xfa, 0x08 | 0x20, 5, 0xfb, 0x00);
    mouse_cmd(0xea);
    EXPECT_BYTES(0xfa);

    /* Wrap mode echoes until EC. */
    mouse_cmd(0xee);
    mouse_cmd(0x42);
    mouse_cmd(0xf2);
    mouse_cmd(0xec);
    EXPECT_BYTES(0xfa, 0x42, 0xf2, 0xfa);

    /* Explorer knock: 200, 200, 80 -> ID 4, buttons 4 and 5. */
    const uint8_t knock4[] = { 200, 200, 80 };
    for (int i = 0; i < 3; i++) {
        mouse_cmd(0xf3);
        mouse_cmd(knock4[i]);
    }
    mouse_cmd(0xf2);
    uint8_t b[16];
    n = drain(b, 16);
    ck_assert_int_eq(n, 8);
    ck_assert_uint_eq(b[7], 0x04);
    mouse_cmd(0xf4);
    EXPECT_BYTES(0xfa);
    ps2_mouse_event(mouse, 0, 0, -1, PS2_MOUSE_BTN4 | PS2_MOUSE_BTN5);
    EXPECT_BYTES(0x08, 0, 0, 0x3f);

    mouse_cmd(0xf6);                                 /* defaults: off */
    EXPECT_BYTES(0xfa);
    ps2_mouse_event(mouse, 1, 1, 0, 0);
    EXPECT_BYTES();
    mouse_cmd(0x12);                                 /* unknown */
    EXPECT_BYTES(0xfe);
    mouse_cmd(0xfe);
    EXPECT_BYTES(0xfe);
}
END_TEST

START_TEST(test_mouse_disabled_in_controller)
{
    set_ctr(0x03);
    mouse_cmd(0xf4);
    EXPECT_BYTES(0xfa);
    command(0xa7);
    ps2_mouse_event(mouse, 1, 0, 0, 0);
    ck_assert_uint_eq(status() & 0x01, 0);
    command(0xa8);
    EXPECT_BYTES(0x08, 0x01, 0x00);
    /* Keyboard bytes come before mouse bytes when both wait. */
    command(0xad);
    command(0xa7);
    ps2_keyboard_event(kbd, 0x1c, true);
    ps2_mouse_event(mouse, 2, 0, 0, 0);
    command(0xd2);              /* occupy the output buffer */
    data_out(0x99);
    command(0xa8);
    command(0xae);
    EXPECT_BYTES(0x99, 0x1c, 0x08, 0x02, 0x00);
}
END_TEST

START_TEST(test_password_and_hostile_commands)
{
    command(0xa5);
    data_out('p');
    data_out('w');
    data_out(0);
    EXPECT_BYTES();
    data_out(0xee);                                  /* reaches the keyboard */
    EXPECT_BYTES(0xee);
    /* Every command byte, then a data byte: nothing breaks. */
    for (int c = 0; c < 256; c++) {
        if (c == 0xd1 || (c >= 0xf0 && c != 0xff)) {
            continue;   /* would reset the machine: covered above */
        }
        command(c);
        data_out(0x5a);
        uint8_t junk[64];
        drain(junk, 64);
    }
    /* More controller replies than its queue holds are dropped. */
    for (int i = 0; i < 20; i++) {
        command(0xab);
    }
    uint8_t got[64];
    ck_assert_int_le(drain(got, 64), 9);
}
END_TEST

static Suite *i8042_suite(void)
{
    Suite *s = suite_create("i8042");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_controller_basics);
    tcase_add_test(tc, test_aux_loopback_and_irqs);
    tcase_add_test(tc, test_output_port_a20_reset);
    tcase_add_test(tc, test_keyboard_commands);
    tcase_add_test(tc, test_keyboard_translation);
    tcase_add_test(tc, test_keyboard_disabled_interface_and_queue);
    tcase_add_test(tc, test_mouse_protocol);
    tcase_add_test(tc, test_mouse_disabled_in_controller);
    tcase_add_test(tc, test_password_and_hostile_commands);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(i8042_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
