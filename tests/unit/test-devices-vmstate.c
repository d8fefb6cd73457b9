/*
 * Save/load round trips of the chipset devices' VMState through the real
 * migration engine: a device saved in the middle of activity and loaded
 * (validation pass, then commit) into a fresh instance must save to the
 * same bytes and then behave the same. Hostile values in a stream must
 * be refused by the validation pass with the target left untouched.
 */
#include <check.h>
#include <stdio.h>

#include "hw/i8042.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/mc146818rtc.h"
#include "hw/port92.h"
#include "hw/serial.h"
#include "migration/qemu-file.h"
#include "util/timer.h"
#include "devtest.h"

#define SEC 1000000000LL

static int64_t frozen_host_ns(void)
{
    return 0;
}

static void at_ns(int64_t ns)
{
    clock_virtual_set(ns);
    while (timers_run_expired()) {
    }
}

static TestIO io_a, io_b;

static void setup(void)
{
    clock_set_source_for_test(frozen_host_ns);
    at_ns(5 * SEC);
    testio_init(&io_a);
    testio_init(&io_b);
}

static void teardown(void)
{
    testio_cleanup(&io_a);
    testio_cleanup(&io_b);
}

/* ---- engine helpers ---- */

static uint8_t *save(const VMStateDescription *vmsd, void *opaque, size_t *len)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_mem_output();
    int r = vmstate_save_state(f, vmsd, opaque, NULL, &err);
    if (r < 0) {
        fprintf(stderr, "save %s: %s\n", vmsd->name, error_get_pretty(err));
    }
    ck_assert_int_eq(r, 0);
    uint8_t *buf = qemu_file_mem_output_steal(f, len);
    ck_assert_int_eq(qemu_fclose(f, NULL), 0);
    return buf;
}

/* One load pass; returns the engine's result (error message in *msg). */
static int load_pass(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf,
                     size_t len, bool validating, char **msg)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_mem_input(buf, len);
    qemu_file_set_validating(f, validating);
    int r = vmstate_load_state(f, vmsd, opaque, vmsd->version_id, &err);
    if (r < 0 && msg) {
        *msg = xstrdup(err ? error_get_pretty(err) : "?");
    }
    if (err) {
        error_free(err);
    }
    qemu_fclose(f, NULL);
    return r;
}

/* What qemu_loadvm_state does: validate, then commit. */
static void load(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf, size_t len)
{
    char *msg = NULL;
    int r = load_pass(vmsd, opaque, buf, len, true, &msg);
    if (r < 0) {
        fprintf(stderr, "validate %s: %s\n", vmsd->name, msg);
    }
    ck_assert_int_eq(r, 0);
    r = load_pass(vmsd, opaque, buf, len, false, &msg);
    if (r < 0) {
        fprintf(stderr, "load %s: %s\n", vmsd->name, msg);
    }
    ck_assert_int_eq(r, 0);
    free(msg);
}

/* Saves a, loads into b, and checks b saves to the same bytes. */
static void round_trip(const VMStateDescription *vmsd, void *a, void *b)
{
    size_t la, lb;
    uint8_t *sa = save(vmsd, a, &la);
    load(vmsd, b, sa, la);
    uint8_t *sb = save(vmsd, b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(sa, sb, la), 0);
    free(sa);
    free(sb);
}

/* Stream offset of a field: the sum of the wire sizes of the fields in
 * front of it (scalars are written at their C size, structs field by
 * field; these descriptions have no subsections). 'index' selects an
 * element of a struct array, then 'sub' names the field inside it. */
static size_t wire_size(const VMStateDescription *vmsd);

static size_t field_wire_size(const VMStateField *f)
{
    size_t n = (f->flags & VMS_ARRAY) ? (size_t)f->num : 1;
    if (f->flags & VMS_STRUCT) {
        return n * wire_size(f->vmsd);
    }
    return n * f->size;
}

static size_t wire_size(const VMStateDescription *vmsd)
{
    size_t total = 0;
    for (const VMStateField *f = vmsd->fields; f->name; f++) {
        total += field_wire_size(f);
    }
    return total;
}

static size_t stream_offset(const VMStateDescription *vmsd, const char *name,
                            int index, const char *sub)
{
    size_t off = 0;
    for (const VMStateField *f = vmsd->fields; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            if (!sub) {
                return off;
            }
            return off + index * wire_size(f->vmsd) + stream_offset(f->vmsd, sub, 0, NULL);
        }
        off += field_wire_size(f);
    }
    ck_abort_msg("no field %s in %s", name, vmsd->name);
    return 0;
}

/* Corrupts one field of a's saved state and checks that the validation
 * pass refuses it, naming the device, and that b did not change. */
static void expect_refused(const VMStateDescription *vmsd, void *a, void *b,
                           const char *name, int index, const char *sub,
                           const uint8_t *bytes, size_t nbytes, const char *want_msg)
{
    size_t la, lb0, lb1;
    uint8_t *sa = save(vmsd, a, &la);
    size_t off = stream_offset(vmsd, name, index, sub);
    ck_assert_uint_le(off + nbytes, la);
    memcpy(sa + off, bytes, nbytes);
    uint8_t *before = save(vmsd, b, &lb0);
    char *msg = NULL;
    ck_assert_int_lt(load_pass(vmsd, b, sa, la, true, &msg), 0);
    ck_assert_ptr_nonnull(strstr(msg, want_msg));
    uint8_t *after = save(vmsd, b, &lb1);
    ck_assert_uint_eq(lb0, lb1);
    ck_assert_int_eq(memcmp(before, after, lb0), 0);
    free(msg);
    free(sa);
    free(before);
    free(after);
}

/* ---- PIC ---- */

static void pic_program(TestIO *io)
{
    const uint8_t init[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };
    for (int c = 0; c < 2; c++) {
        uint16_t base = c ? 0xa0 : 0x20;
        outb(io, base, init[c][0]);
        for (int i = 1; i < 4; i++) {
            outb(io, base + 1, init[c][i]);
        }
    }
}

START_TEST(test_pic_round_trip)
{
    TestLine la, lb;
    IRQLine *ia = test_line_new(&la), *ib = test_line_new(&lb);
    PICState *a = pic_new(io_a.root, ia), *b = pic_new(io_b.root, ib);
    pic_program(&io_a);
    pic_set_elcr(a, 0x0800);
    irq_raise(pic_input(a, 11));
    irq_pulse(pic_input(a, 3));
    irq_pulse(pic_input(a, 1));
    ck_assert_int_eq(pic_get_interrupt(a), 0x21);   /* IR1 in service */
    outb(&io_a, 0x21, 0x40);
    outb(&io_a, 0x20, 0x0b);                         /* reads ISR */
    outb(&io_a, 0xa0, 0xc3);                         /* slave priority rotated */

    round_trip(&vmstate_i8259, a, b);
    ck_assert_int_eq(lb.level, la.level);
    ck_assert_uint_eq(inb(&io_b, 0x20), inb(&io_a, 0x20));
    ck_assert_uint_eq(inb(&io_b, 0x21), 0x40);
    ck_assert_uint_eq(pic_get_elcr(b), 0x0800);
    /* The same acknowledges in the same order. */
    for (int i = 0; i < 4; i++) {
        outb(&io_a, 0x20, 0x20);
        outb(&io_b, 0x20, 0x20);
        outb(&io_a, 0xa0, 0x20);
        outb(&io_b, 0xa0, 0x20);
        ck_assert_int_eq(pic_get_interrupt(b), pic_get_interrupt(a));
    }

    static const uint8_t bad_state = 9, bad_prio = 200;
    expect_refused(&vmstate_i8259, a, b, "chips", 1, "init_state", &bad_state, 1, "i8259");
    expect_refused(&vmstate_i8259, a, b, "chips", 0, "priority_base", &bad_prio, 1, "i8259");
    pic_free(a);
    pic_free(b);
    irq_free(ia);
    irq_free(ib);
}
END_TEST

/* ---- PIT ---- */

START_TEST(test_pit_round_trip)
{
    TestLine la, lb;
    IRQLine *ia = test_line_new(&la), *ib = test_line_new(&lb);
    PITState *a = pit_new(io_a.root, ia), *b = pit_new(io_b.root, ib);
    outb(&io_a, 0x43, 0x34);                 /* ch0 mode 2 */
    outb(&io_a, 0x40, 0xe8);
    outb(&io_a, 0x40, 0x03);                 /* 1000 */
    outb(&io_a, 0x43, 0xb2);                 /* ch2 mode 1 */
    outb(&io_a, 0x42, 0x00);
    outb(&io_a, 0x42, 0x10);
    outb(&io_a, 0x61, 0x03);                 /* trigger, speaker on */
    outb(&io_a, 0x43, 0x76);                 /* ch1 mode 3 */
    outb(&io_a, 0x41, 0x34);                 /* half-written count */
    at_ns(5 * SEC + 300000);
    outb(&io_a, 0x40, 0x00);                 /* new ch0 count pending... */
    outb(&io_a, 0x40, 0x02);                 /* ...loads at the cycle's end */
    outb(&io_a, 0x43, 0x80);                 /* latch ch2 */
    inb(&io_a, 0x42);                        /* half-read: MSB still latched */

    round_trip(&vmstate_i8254, a, b);
    ck_assert_int_eq(lb.level, la.level);
    ck_assert_uint_eq(inb(&io_b, 0x61), inb(&io_a, 0x61));
    ck_assert_uint_eq(inb(&io_b, 0x42), inb(&io_a, 0x42));   /* rest of the latch */
    /* Both run on: identical counts and IRQ edges for a while. */
    int ra = la.rises, rb = lb.rises;
    for (int step = 1; step <= 50; step++) {
        at_ns(5 * SEC + 300000 + step * 97000);
        for (int ch = 0; ch < 3; ch++) {
            outb(&io_a, 0x43, ch << 6);
            outb(&io_b, 0x43, ch << 6);
            ck_assert_uint_eq(inb(&io_b, 0x40 + ch), inb(&io_a, 0x40 + ch));
            ck_assert_uint_eq(inb(&io_b, 0x40 + ch), inb(&io_a, 0x40 + ch));
        }
        ck_assert_int_eq(lb.level, la.level);
        ck_assert_int_eq(lb.rises - rb, la.rises - ra);
    }
    ck_assert_int_gt(la.rises - ra, 5);

    static const uint8_t rw0 = 0, mode9 = 9;
    static const uint8_t huge_count[4] = { 0x00, 0x02, 0x00, 0x00 };   /* 0x20000 */
    expect_refused(&vmstate_i8254, a, b, "ch", 1, "rw_mode", &rw0, 1, "i8254");
    expect_refused(&vmstate_i8254, a, b, "ch", 0, "mode", &mode9, 1, "i8254");
    expect_refused(&vmstate_i8254, a, b, "ch", 2, "count", huge_count, 4, "i8254");
    pit_free(a);
    pit_free(b);
    irq_free(ia);
    irq_free(ib);
}
END_TEST

/* ---- RTC ---- */

static uint8_t cmos(TestIO *io, uint8_t idx)
{
    outb(io, 0x70, idx);
    return inb(io, 0x71);
}

static void cmos_set(TestIO *io, uint8_t idx, uint8_t val)
{
    outb(io, 0x70, idx);
    outb(io, 0x71, val);
}

START_TEST(test_rtc_round_trip)
{
    TestLine la, lb;
    IRQLine *ia = test_line_new(&la), *ib = test_line_new(&lb);
    RTCState *a = rtc_new(io_a.root, ia, RTC_BASE_UTC);
    RTCState *b = rtc_new(io_b.root, ib, RTC_BASE_UTC);
    rtc_set_time(a, 1700000000);
    rtc_set_ram_size(a, 64 * MiB, 0);
    cmos_set(&io_a, 0x0a, 0x2c);           /* 16 Hz periodic */
    cmos_set(&io_a, 0x0b, 0x52);           /* PIE, UIE */
    cmos_set(&io_a, 0x01, 0xc0);           /* alarm every second */
    at_ns(5 * SEC + SEC / 3);
    cmos(&io_a, 0x0c);
    at_ns(5 * SEC + SEC / 2);              /* a periodic flag is pending */
    outb(&io_a, 0x70, 0x8e);               /* index + NMI mask */

    round_trip(&vmstate_mc146818rtc, a, b);
    ck_assert_int_eq(lb.level, la.level);
    ck_assert(rtc_nmi_masked(b));
    ck_assert_uint_eq(inb(&io_b, 0x71), inb(&io_a, 0x71));
    ck_assert_uint_eq(rtc_get_memory(b, 0x35), rtc_get_memory(a, 0x35));
    int ra = la.rises, rb = lb.rises;
    for (int step = 1; step <= 40; step++) {
        at_ns(5 * SEC + SEC / 2 + step * (SEC / 10));
        ck_assert_int_eq(lb.rises - rb, la.rises - ra);
        for (int r = 0; r <= 0x0d; r++) {
            ck_assert_uint_eq(cmos(&io_b, r), cmos(&io_a, r));
        }
    }
    ck_assert_int_gt(la.rises - ra, 30);

    static const uint8_t far_future[8] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    expect_refused(&vmstate_mc146818rtc, a, b, "base_ns", 0, NULL, far_future, 8, "mc146818rtc");
    rtc_free(a);
    rtc_free(b);
    irq_free(ia);
    irq_free(ib);
}
END_TEST

/* ---- UART ---- */

START_TEST(test_serial_round_trip)
{
    TestLine la, lb;
    IRQLine *ia = test_line_new(&la), *ib = test_line_new(&lb);
    SerialState *a = serial_new(io_a.root, 0x3f8, ia, NULL);
    SerialState *b = serial_new(io_b.root, 0x3f8, ib, NULL);
    outb(&io_a, 0x3fb, 0x80);
    outb(&io_a, 0x3f8, 0x03);              /* 38400 */
    outb(&io_a, 0x3fb, 0x1b);              /* 8E1 */
    outb(&io_a, 0x3fa, 0x87);              /* FIFO, trigger 8 */
    outb(&io_a, 0x3fc, 0x18);              /* loopback, OUT2 */
    outb(&io_a, 0x3f9, 0x0f);
    outb(&io_a, 0x3ff, 0x77);
    for (int i = 0; i < 11; i++) {
        outb(&io_a, 0x3f8, 'a' + i);       /* RX FIFO fills through the loop */
    }
    inb(&io_a, 0x3f8);
    inb(&io_a, 0x3f8);

    round_trip(&vmstate_serial, a, b);
    ck_assert_int_eq(lb.level, la.level);
    ck_assert_uint_eq(inb(&io_b, 0x3fa), inb(&io_a, 0x3fa));
    for (int step = 0; step < 12; step++) {
        at_ns(5 * SEC + step * 20000);
        ck_assert_uint_eq(inb(&io_b, 0x3fd), inb(&io_a, 0x3fd));
        ck_assert_uint_eq(inb(&io_b, 0x3fa), inb(&io_a, 0x3fa));
        ck_assert_uint_eq(inb(&io_b, 0x3f8), inb(&io_a, 0x3f8));
    }
    ck_assert_uint_eq(inb(&io_b, 0x3ff), 0x77);

    static const uint8_t too_many = 40, bad_head = 16;
    static const uint8_t wild_time[8] = { 0x80, 0, 0, 0, 0, 0, 0, 0 };
    expect_refused(&vmstate_serial, a, b, "rx_count", 0, NULL, &too_many, 1, "serial");
    expect_refused(&vmstate_serial, a, b, "rx_head", 0, NULL, &bad_head, 1, "serial");
    expect_refused(&vmstate_serial, a, b, "tx_done_ns", 0, NULL, wild_time, 8, "serial");
    serial_free(a);
    serial_free(b);
    irq_free(ia);
    irq_free(ib);
}
END_TEST

/* ---- keyboard controller, keyboard, mouse ---- */

START_TEST(test_i8042_round_trip)
{
    TestLine k1a, k1b, m1a, m1b;
    IRQLine *ka = test_line_new(&k1a), *kb = test_line_new(&k1b);
    IRQLine *ma = test_line_new(&m1a), *mb = test_line_new(&m1b);
    I8042State *a = i8042_new(io_a.root, ka, ma, NULL, NULL);
    I8042State *b = i8042_new(io_b.root, kb, mb, NULL, NULL);
    outb(&io_a, 0x64, 0x60);
    outb(&io_a, 0x60, 0x43);               /* translate, both IRQs */
    outb(&io_a, 0x60, 0xed);               /* LEDs: argument pending */
    inb(&io_a, 0x60);
    const uint8_t knock[] = { 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf4 };
    for (size_t i = 0; i < sizeof(knock); i++) {
        outb(&io_a, 0x64, 0xd4);
        outb(&io_a, 0x60, knock[i]);
    }
    for (int i = 0; i < 20; i++) {
        ps2_keyboard_event(i8042_keyboard(a), 0x1c + i, i % 3 != 2);
    }
    ps2_mouse_event(i8042_mouse(a), 400, -30, 2, PS2_MOUSE_MIDDLE);
    inb(&io_a, 0x60);
    outb(&io_a, 0x64, 0xad);               /* keyboard held back */

    round_trip(&vmstate_i8042, a, b);
    round_trip(&vmstate_ps2_keyboard, i8042_keyboard(a), i8042_keyboard(b));
    round_trip(&vmstate_ps2_mouse, i8042_mouse(a), i8042_mouse(b));
    ck_assert_int_eq(k1b.level, k1a.level);
    ck_assert_int_eq(m1b.level, m1a.level);
    outb(&io_a, 0x60, 0x02);               /* the pending LED argument */
    outb(&io_b, 0x60, 0x02);
    ck_assert_uint_eq(ps2_kbd_leds(i8042_keyboard(b)), 2);
    outb(&io_a, 0x64, 0xae);
    outb(&io_b, 0x64, 0xae);
    int n = 0;
    while (inb(&io_a, 0x64) & 1) {
        ck_assert_uint_eq(inb(&io_b, 0x64), inb(&io_a, 0x64));
        ck_assert_uint_eq(inb(&io_b, 0x60), inb(&io_a, 0x60));
        n++;
    }
    ck_assert_int_gt(n, 15);
    ck_assert_uint_eq(inb(&io_b, 0x64) & 1, 0);

    static const uint8_t many = 30, set7 = 7, id9 = 9;
    static const uint8_t qcount[2] = { 0x01, 0x01 };   /* 257 */
    expect_refused(&vmstate_i8042, a, b, "reply_count", 0, NULL, &many, 1, "pckbd");
    expect_refused(&vmstate_ps2_keyboard, i8042_keyboard(a), i8042_keyboard(b),
                   "scancode_set", 0, NULL, &set7, 1, "ps2kbd");
    expect_refused(&vmstate_ps2_keyboard, i8042_keyboard(a), i8042_keyboard(b),
                   "keys", 0, "count", qcount, 2, "ps2kbd");
    expect_refused(&vmstate_ps2_mouse, i8042_mouse(a), i8042_mouse(b),
                   "device_id", 0, NULL, &id9, 1, "ps2mouse");
    i8042_free(a);
    i8042_free(b);
    irq_free(ka);
    irq_free(kb);
    irq_free(ma);
    irq_free(mb);
}
END_TEST

START_TEST(test_port92_round_trip)
{
    Port92State *a = port92_new(io_a.root, NULL, NULL), *b = port92_new(io_b.root, NULL, NULL);
    outb(&io_a, 0x92, 0x0a);
    round_trip(&vmstate_port92, a, b);
    ck_assert_uint_eq(inb(&io_b, 0x92), 0x0a);
    port92_free(a);
    port92_free(b);
}
END_TEST

/* A commit-mode load that skipped validation must still leave the device
 * safe to use (post_load sanitises what check() would have refused). */
START_TEST(test_unvalidated_hostile_load_is_safe)
{
    SerialState *s = serial_new(io_a.root, 0x3f8, NULL, NULL);
    size_t len;
    uint8_t *buf = save(&vmstate_serial, s, &len);
    buf[stream_offset(&vmstate_serial, "rx_count", 0, NULL)] = 0xff;
    buf[stream_offset(&vmstate_serial, "rx_head", 0, NULL)] = 0xf0;
    ck_assert_int_lt(load_pass(&vmstate_serial, s, buf, len, false, NULL), 0);
    for (int i = 0; i < 40; i++) {
        inb(&io_a, 0x3f8);
        outb(&io_a, 0x3fc, 0x10);
        outb(&io_a, 0x3f8, i);
    }
    free(buf);
    serial_free(s);

    I8042State *k = i8042_new(io_a.root, NULL, NULL, NULL, NULL);
    buf = save(&vmstate_ps2_keyboard, i8042_keyboard(k), &len);
    size_t off = stream_offset(&vmstate_ps2_keyboard, "keys", 0, "head");
    buf[off] = 0x7f;
    buf[off + 1] = 0xff;
    ck_assert_int_lt(load_pass(&vmstate_ps2_keyboard, i8042_keyboard(k), buf, len, false, NULL), 0);
    ps2_keyboard_event(i8042_keyboard(k), 0x1c, true);
    while (inb(&io_a, 0x64) & 1) {
        inb(&io_a, 0x60);
    }
    free(buf);
    i8042_free(k);
}
END_TEST

static Suite *vmstate_suite(void)
{
    Suite *s = suite_create("devices-vmstate");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pic_round_trip);
    tcase_add_test(tc, test_pit_round_trip);
    tcase_add_test(tc, test_rtc_round_trip);
    tcase_add_test(tc, test_serial_round_trip);
    tcase_add_test(tc, test_i8042_round_trip);
    tcase_add_test(tc, test_port92_round_trip);
    tcase_add_test(tc, test_unvalidated_hostile_load_is_safe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vmstate_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
