/*
 * Unit tests for hw/mc146818rtc.c: time registers in all encodings, the
 * update cycle (UIP, SET, divider reset), periodic/alarm/update-ended
 * interrupts and register C, the NMI mask bit and the CMOS helpers.
 * Virtual time is moved by hand; the divider chain is released at a
 * known moment so every update boundary is known.
 */
#include <check.h>

#include "hw/mc146818rtc.h"
#include "util/timer.h"
#include "devtest.h"

#include <time.h>

#define MS 1000000LL
#define SEC 1000000000LL

static TestIO io;
static TestLine irq8;
static IRQLine *irq8_line;
static RTCState *rtc;
static int64_t t_release;   /* divider released: updates at +0.5 s + k */

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

static uint8_t cmos_read(uint8_t idx)
{
    outb(&io, 0x70, idx);
    return inb(&io, 0x71);
}

static void cmos_write(uint8_t idx, uint8_t val)
{
    outb(&io, 0x70, idx);
    outb(&io, 0x71, val);
}

static int64_t make_time(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = s };
    return timegm(&tm);
}

static void setup(void)
{
    clock_set_source_for_test(frozen_host_ns);
    t_release = 10 * SEC;
    clock_virtual_set(t_release);
    testio_init(&io);
    irq8_line = test_line_new(&irq8);
    rtc = rtc_new(io.root, irq8_line, RTC_BASE_UTC);
    /* Hold the divider in reset, then release it now. */
    cmos_write(0x0a, 0x70);
    cmos_write(0x0a, 0x26);
}

static void teardown(void)
{
    rtc_free(rtc);
    irq_free(irq8_line);
    testio_cleanup(&io);
}

/* Virtual time of update boundary k (k >= 1) after the release. */
static int64_t boundary(int k)
{
    return t_release + SEC / 2 + (k - 1) * SEC;
}

START_TEST(test_initial_state)
{
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
    ck_assert_uint_eq(cmos_read(0x0b), 0x02);   /* 24 h, BCD */
    ck_assert_uint_eq(cmos_read(0x0d), 0x80);   /* valid RAM and time */
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);
    ck_assert_uint_eq(inb(&io, 0x70), 0xff);
    /* Starts at the host's time. */
    int64_t host = time(NULL);
    int64_t t = rtc_get_time(rtc);
    ck_assert_int_le(llabs(t - host), 5);
}
END_TEST

START_TEST(test_bcd_24h_and_rollover)
{
    rtc_set_time(rtc, make_time(2024, 2, 29, 23, 59, 58));
    ck_assert_uint_eq(cmos_read(0x00), 0x58);
    ck_assert_uint_eq(cmos_read(0x02), 0x59);
    ck_assert_uint_eq(cmos_read(0x04), 0x23);
    ck_assert_uint_eq(cmos_read(0x06), 0x05);   /* Thursday (Sunday = 1) */
    ck_assert_uint_eq(cmos_read(0x07), 0x29);
    ck_assert_uint_eq(cmos_read(0x08), 0x02);
    ck_assert_uint_eq(cmos_read(0x09), 0x24);
    ck_assert_uint_eq(cmos_read(0x32), 0x20);
    at_ns(boundary(1) - 1);
    ck_assert_uint_eq(cmos_read(0x00), 0x58);
    at_ns(boundary(1));
    ck_assert_uint_eq(cmos_read(0x00), 0x59);
    at_ns(boundary(2));
    ck_assert_uint_eq(cmos_read(0x00), 0x00);
    ck_assert_uint_eq(cmos_read(0x04), 0x00);
    ck_assert_uint_eq(cmos_read(0x07), 0x01);
    ck_assert_uint_eq(cmos_read(0x08), 0x03);

    /* Century rollover. */
    rtc_set_time(rtc, make_time(2099, 12, 31, 23, 59, 59));
    at_ns(boundary(3));
    ck_assert_uint_eq(cmos_read(0x09), 0x00);
    ck_assert_uint_eq(cmos_read(0x32), 0x21);
    ck_assert_uint_eq(cmos_read(0x08), 0x01);
}
END_TEST

START_TEST(test_binary_and_12h)
{
    rtc_set_time(rtc, make_time(2023, 7, 4, 23, 5, 9));
    cmos_write(0x0b, 0x06);                     /* binary, 24 h */
    ck_assert_uint_eq(cmos_read(0x00), 9);
    ck_assert_uint_eq(cmos_read(0x04), 23);
    ck_assert_uint_eq(cmos_read(0x09), 23);
    ck_assert_uint_eq(cmos_read(0x32), 20);
    cmos_write(0x0b, 0x04);                     /* binary, 12 h */
    ck_assert_uint_eq(cmos_read(0x04), 0x80 | 11);
    cmos_write(0x0b, 0x00);                     /* BCD, 12 h */
    ck_assert_uint_eq(cmos_read(0x04), 0x91);
    rtc_set_time(rtc, make_time(2023, 7, 4, 0, 30, 0));
    ck_assert_uint_eq(cmos_read(0x04), 0x12);   /* 12 AM */
    rtc_set_time(rtc, make_time(2023, 7, 4, 12, 30, 0));
    ck_assert_uint_eq(cmos_read(0x04), 0x92);   /* 12 PM */
}
END_TEST

START_TEST(test_set_bit_and_field_writes)
{
    /* The SeaBIOS/Linux way: SET, write the fields, clear SET. */
    cmos_write(0x0b, 0x82);
    cmos_write(0x00, 0x30);
    cmos_write(0x02, 0x45);
    cmos_write(0x04, 0x12);
    cmos_write(0x07, 0x15);
    cmos_write(0x08, 0x06);
    cmos_write(0x09, 0x21);
    cmos_write(0x32, 0x20);
    ck_assert_uint_eq(cmos_read(0x0a) & 0x80, 0);   /* no UIP while SET */
    at_ns(boundary(3));
    ck_assert_uint_eq(cmos_read(0x00), 0x30);       /* no updates while SET */
    cmos_write(0x0b, 0x02);
    ck_assert_int_eq(rtc_get_time(rtc), make_time(2021, 6, 15, 12, 45, 30));
    at_ns(boundary(4));
    ck_assert_uint_eq(cmos_read(0x00), 0x31);

    /* Writing one field while the clock runs keeps the others. */
    cmos_write(0x02, 0x10);
    ck_assert_int_eq(rtc_get_time(rtc), make_time(2021, 6, 15, 12, 10, 31));
    at_ns(boundary(5));
    ck_assert_uint_eq(cmos_read(0x00), 0x32);

    /* Garbage in the registers stays bounded. */
    cmos_write(0x0b, 0x82);
    for (int r = 0; r < 10; r++) {
        cmos_write(r, 0xff);
    }
    cmos_write(0x32, 0xff);
    cmos_write(0x0b, 0x02);
    at_ns(boundary(6));
    ck_assert_uint_le(cmos_read(0x00) >> 4, 9);
}
END_TEST

START_TEST(test_uip_window)
{
    at_ns(boundary(1) - 2229000);
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
    at_ns(boundary(1) - 2228000);
    ck_assert_uint_eq(cmos_read(0x0a), 0xa6);
    at_ns(boundary(1) - 1);
    ck_assert_uint_eq(cmos_read(0x0a), 0xa6);
    at_ns(boundary(1));
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
    /* The register bit itself is read-only. */
    cmos_write(0x0a, 0xa6);
    ck_assert_uint_eq(cmos_read(0x0a), 0x26);
}
END_TEST

START_TEST(test_divider_reset_delays_first_update)
{
    rtc_set_time(rtc, make_time(2020, 1, 1, 0, 0, 0));
    int64_t t = boundary(2) + 300 * MS;
    at_ns(t);
    ck_assert_uint_eq(cmos_read(0x00), 0x02);
    cmos_read(0x0c);
    cmos_write(0x0a, 0x76);                     /* hold in reset */
    at_ns(t + 5 * SEC);
    ck_assert_uint_eq(cmos_read(0x00), 0x02);   /* frozen */
    ck_assert_uint_eq(cmos_read(0x0c), 0x00);   /* no update cycles */
    cmos_write(0x0a, 0x26);
    at_ns(t + 5 * SEC + 500 * MS - 1);
    ck_assert_uint_eq(cmos_read(0x00), 0x02);
    at_ns(t + 5 * SEC + 500 * MS);
    ck_assert_uint_eq(cmos_read(0x00), 0x03);
}
END_TEST

START_TEST(test_periodic_interrupt)
{
    /* PF is set without PIE, but no IRQ. */
    at_ns(t_release + 10 * MS);
    ck_assert_uint_eq(cmos_read(0x0c), 0x40);
    ck_assert_int_eq(irq8.level, 0);

    /* 1024 Hz with PIE: count interrupts over one second, acknowledging
     * each by reading C as a driver does. */
    cmos_write(0x0b, 0x42);
    int64_t start = t_release + 20 * MS;
    at_ns(start);
    cmos_read(0x0c);
    int count = 0;
    for (int64_t ns = start; ns <= start + SEC; ns += 50000) {
        at_ns(ns);
        if (irq8.level) {
            uint8_t c = cmos_read(0x0c);
            ck_assert_uint_eq(c & 0xc0, 0xc0);
            ck_assert_int_eq(irq8.level, 0);
            count++;
        }
    }
    ck_assert_int_eq(count, 1024);

    /* 2 Hz (RS = 15). */
    cmos_write(0x0a, 0x2f);
    cmos_read(0x0c);
    int rises = irq8.rises;
    at_ns(start + 2 * SEC);
    ck_assert_int_eq(irq8.rises, rises + 1);   /* stays high until C is read */
    cmos_read(0x0c);
    at_ns(start + 2 * SEC + 500 * MS);
    ck_assert_int_eq(irq8.rises, rises + 2);

    /* Enabling PIE while PF is pending raises the line at once. */
    cmos_write(0x0b, 0x02);
    cmos_read(0x0c);
    at_ns(start + 4 * SEC);
    ck_assert_int_eq(irq8.level, 0);
    cmos_write(0x0b, 0x42);
    ck_assert_int_eq(irq8.level, 1);
}
END_TEST

START_TEST(test_update_ended_interrupt)
{
    cmos_write(0x0b, 0x12);
    at_ns(boundary(1) - 1);
    ck_assert_int_eq(irq8.level, 0);
    at_ns(boundary(1));
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_uint_eq(cmos_read(0x0c) & 0x90, 0x90);
    ck_assert_int_eq(irq8.level, 0);
    at_ns(boundary(2));
    ck_assert_int_eq(irq8.level, 1);
    ck_assert_int_eq(irq8.rises, 2);
}
END_TEST

START_TEST(test_alarm_interrupt)
{
    rtc_set_time(rtc, make_time(2022, 5, 5, 10, 20, 30));
    cmos_write(0x01, 0x33);
    cmos_write(0x03, 0x20);
    cmos_write(0x05, 0x10);
    cmos_write(0x0b, 0x22);                     /* AIE */
    at_ns(boundary(2));
    ck_assert_int_eq(irq8.level, 0);            /* 10:20:32 */
    at_ns(boundary(3));
    ck_assert_int_eq(irq8.level, 1);            /* 10:20:33 */
    ck_assert_uint_eq(cmos_read(0x0c) & 0xb0, 0xb0);   /* IRQF, AF, UF */
    /* Don't-care seconds: every second of minute 20. */
    cmos_write(0x01, 0xc0);
    at_ns(boundary(4));
    ck_assert_int_eq(irq8.level, 1);
    cmos_read(0x0c);
    /* AF is set even without AIE, and over a long gap. */
    cmos_write(0x0b, 0x02);
    cmos_write(0x01, 0x00);
    cmos_write(0x03, 0x00);
    cmos_write(0x05, 0x05);                     /* 05:00:00 tomorrow */
    cmos_read(0x0c);
    at_ns(boundary(4) + 20 * 3600 * SEC);
    ck_assert_uint_eq(cmos_read(0x0c) & 0x20, 0x20);
    at_ns(boundary(4) + 21 * 3600 * SEC);
    ck_assert_uint_eq(cmos_read(0x0c) & 0x20, 0x00);
}
END_TEST

START_TEST(test_nmi_mask_ram_and_reset)
{
    outb(&io, 0x70, 0x8f);
    ck_assert(rtc_nmi_masked(rtc));
    outb(&io, 0x71, 0x5a);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x0f), 0x5a);
    outb(&io, 0x70, 0x0f);
    ck_assert(!rtc_nmi_masked(rtc));
    for (int i = 0x0e; i < 0x80; i++) {
        if (i != 0x32) {
            cmos_write(i, i ^ 0xa5);
        }
    }
    for (int i = 0x0e; i < 0x80; i++) {
        if (i != 0x32) {
            ck_assert_uint_eq(cmos_read(i), i ^ 0xa5);
        }
    }
    cmos_write(0x0d, 0x00);
    ck_assert_uint_eq(cmos_read(0x0d), 0x80);
    /* Index wraps at 128 (bit 7 is the NMI mask). */
    outb(&io, 0x70, 0xff);
    ck_assert_uint_eq(inb(&io, 0x71), 0x7f ^ 0xa5);

    cmos_write(0x0b, 0x72);
    at_ns(boundary(1));
    ck_assert_int_eq(irq8.level, 1);
    rtc_reset(rtc);
    ck_assert_int_eq(irq8.level, 0);
    ck_assert_uint_eq(cmos_read(0x0b), 0x02);
    ck_assert_uint_eq(cmos_read(0x0f), 0x0f ^ 0xa5);   /* RAM survives */
}
END_TEST

START_TEST(test_cmos_helpers)
{
    rtc_set_ram_size(rtc, 128 * MiB, 0);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x15), 0x80);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x16), 0x02);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x17), 0xff);   /* capped at 0xffff KiB */
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x18), 0xff);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x34), 0x00);   /* 112 MiB / 64 KiB = 0x700 */
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x35), 0x07);
    rtc_set_ram_size(rtc, 8 * MiB, 1 * GiB);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x17), 0x00);   /* 7 MiB = 0x1c00 KiB */
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x18), 0x1c);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x30), 0x00);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x31), 0x1c);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x34), 0x00);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x35), 0x00);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x5b), 0x00);   /* 0x4000 units */
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x5c), 0x40);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x5d), 0x00);

    ck_assert_int_eq(rtc_set_boot_order(rtc, "dcn", true, NULL), 0);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x3d), 0x23);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x38), 0x40);
    ck_assert_int_eq(rtc_set_boot_order(rtc, "a", false, NULL), 0);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x3d), 0x01);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x38), 0x01);
    Error *err = NULL;
    ck_assert_int_eq(rtc_set_boot_order(rtc, "x", false, &err), -EINVAL);
    ck_assert_ptr_nonnull(err);
    error_free(err);
    ck_assert_int_eq(rtc_set_boot_order(rtc, "cdna", false, NULL), -EINVAL);

    rtc_set_disk_translation(rtc, 0, 1);
    rtc_set_disk_translation(rtc, 3, 2);
    rtc_set_disk_translation(rtc, 4, 3);
    rtc_set_disk_translation(rtc, 9, 3);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x39), 0x81);
    ck_assert_uint_eq(rtc_get_memory(rtc, 0x3a), 0x03);

    rtc_set_memory(rtc, RTC_CMOS_CPU_COUNT, 3);
    ck_assert_uint_eq(cmos_read(0x5f), 3);
    rtc_set_cpu_count(rtc, 2);
    ck_assert_uint_eq(cmos_read(0x5f), 1);

    rtc_set_equipment(rtc, 4, 0, true, true);
    ck_assert_uint_eq(cmos_read(0x10), 0x40);
    ck_assert_uint_eq(cmos_read(0x14), 0x07);
    rtc_set_equipment(rtc, 4, 3, true, false);
    ck_assert_uint_eq(cmos_read(0x10), 0x43);
    ck_assert_uint_eq(cmos_read(0x14), 0x43);
    rtc_set_equipment(rtc, 0, 0, false, false);
    ck_assert_uint_eq(cmos_read(0x14), 0x00);

    rtc_set_hd_geometry(rtc, 0, 1024, 16, 63);
    ck_assert_uint_eq(cmos_read(0x12), 0xf0);
    ck_assert_uint_eq(cmos_read(0x19), 47);
    ck_assert_uint_eq(cmos_read(0x1b), 0x00);
    ck_assert_uint_eq(cmos_read(0x1c), 0x04);
    ck_assert_uint_eq(cmos_read(0x1d), 16);
    ck_assert_uint_eq(cmos_read(0x20), 0xc8);
    ck_assert_uint_eq(cmos_read(0x23), 63);
    rtc_set_hd_geometry(rtc, 1, 20, 4, 17);
    ck_assert_uint_eq(cmos_read(0x12), 0xff);
    ck_assert_uint_eq(cmos_read(0x24), 20);
    ck_assert_uint_eq(cmos_read(0x29), 0xc0);
    rtc_set_hd_geometry(rtc, 0, 0, 0, 0);
    ck_assert_uint_eq(cmos_read(0x12), 0x0f);
    rtc_set_hd_geometry(rtc, 2, 1, 1, 1);        /* no such disk */
    rtc_set_memory(rtc, 0x00, 0x77);              /* clock registers refused */
    rtc_set_memory(rtc, 200, 1);
    ck_assert_uint_eq(rtc_get_memory(rtc, 200), 0xff);
}
END_TEST

START_TEST(test_localtime_base)
{
    setenv("TZ", "UTC-2", 1);
    tzset();
    RTCState *local = rtc_new(io.root, NULL, RTC_BASE_LOCALTIME);
    int64_t diff = rtc_get_time(local) - rtc_get_time(rtc);
    ck_assert_int_ge(diff, 7199);
    ck_assert_int_le(diff, 7201);
    rtc_free(local);
}
END_TEST

static Suite *rtc_suite(void)
{
    Suite *s = suite_create("mc146818rtc");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_initial_state);
    tcase_add_test(tc, test_bcd_24h_and_rollover);
    tcase_add_test(tc, test_binary_and_12h);
    tcase_add_test(tc, test_set_bit_and_field_writes);
    tcase_add_test(tc, test_uip_window);
    tcase_add_test(tc, test_divider_reset_delays_first_update);
    tcase_add_test(tc, test_periodic_interrupt);
    tcase_add_test(tc, test_update_ended_interrupt);
    tcase_add_test(tc, test_alarm_interrupt);
    tcase_add_test(tc, test_nmi_mask_ram_and_reset);
    tcase_add_test(tc, test_cmos_helpers);
    tcase_add_test(tc, test_localtime_base);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rtc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
