/*
 * Unit tests for hw/i8254.c: counter values per mode at exact virtual
 * clock ticks (the clock is stopped and set by the test), gates through
 * port 0x61, read-back, latches, BCD and channel 0's IRQ.
 */
#include <check.h>

#include "hw/i8254.h"
#include "util/timer.h"
#include "devtest.h"

static TestIO io;
static TestLine irq0;
static IRQLine *irq0_line;
static PITState *pit;
static uint64_t t0;   /* a base tick, away from zero */

static int64_t tick_ns(uint64_t tick)
{
    /* First ns at which 'tick' PIT clocks have elapsed. */
    return ((unsigned __int128)tick * NANOSECONDS_PER_SECOND + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

/* Moves the clock to t0 + rel ticks and runs every timer that is due. */
static void at(uint64_t rel)
{
    clock_virtual_set(tick_ns(t0 + rel));
    while (timers_run_expired()) {
    }
}

/* Host time stands still; the test moves the virtual clock by hand. */
static int64_t frozen_host_ns(void)
{
    return 0;
}

static void setup(void)
{
    clock_set_source_for_test(frozen_host_ns);
    t0 = 1000000;
    clock_virtual_set(tick_ns(t0));
    testio_init(&io);
    irq0_line = test_line_new(&irq0);
    pit = pit_new(io.root, irq0_line);
    irq0.rises = 0;   /* reset raised OUT0 (mode 3 starts high) */
}

static void teardown(void)
{
    pit_free(pit);
    irq_free(irq0_line);
    testio_cleanup(&io);
}

/* Control word: channel, access mode, mode, bcd. */
static void pit_control(int ch, int rw, int mode, bool bcd)
{
    outb(&io, 0x43, ch << 6 | rw << 4 | mode << 1 | (bcd ? 1 : 0));
}

static void pit_count16(int ch, uint16_t count)
{
    outb(&io, 0x40 + ch, count & 0xff);
    outb(&io, 0x40 + ch, count >> 8);
}

/* Latches and reads a 16-bit count (access mode 3). */
static uint16_t pit_latched(int ch)
{
    outb(&io, 0x43, ch << 6);
    uint16_t lo = inb(&io, 0x40 + ch);
    return lo | inb(&io, 0x40 + ch) << 8;
}

static uint8_t pit_status(int ch)
{
    outb(&io, 0x43, 0xe0 | (2 << ch));
    return inb(&io, 0x40 + ch);
}

START_TEST(test_mode0_interrupt_on_terminal_count)
{
    pit_control(0, 3, 0, false);
    ck_assert_int_eq(irq0.level, 0);         /* OUT low after the control word */
    pit_count16(0, 100);
    ck_assert_uint_eq(pit_status(0), 0x70);  /* null count until the next clock */
    at(1);
    ck_assert_uint_eq(pit_status(0), 0x30);
    at(10);
    ck_assert_uint_eq(pit_latched(0), 90);
    at(99);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_uint_eq(pit_latched(0), 1);
    at(100);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_uint_eq(pit_latched(0), 0);
    ck_assert_uint_eq(pit_status(0), 0xb0);
    at(101);
    ck_assert_uint_eq(pit_latched(0), 0xffff);  /* keeps counting, wraps */
    at(5000);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 1);
    /* A new count restarts: OUT low again. */
    pit_count16(0, 10);
    ck_assert_int_eq(irq0.level, 0);
    at(5010);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 2);
}
END_TEST

START_TEST(test_mode0_first_byte_stops_count)
{
    pit_control(0, 3, 0, false);
    pit_count16(0, 1000);
    at(100);
    outb(&io, 0x40, 0x34);                  /* LSB only: counting stops */
    at(500);
    ck_assert_uint_eq(pit_latched(0), 900);
    ck_assert_int_eq(irq0.level, 0);
    outb(&io, 0x40, 0x12);                  /* MSB: 0x1234 loads */
    at(501);
    ck_assert_uint_eq(pit_latched(0), 0x1233);
}
END_TEST

START_TEST(test_mode2_rate_generator)
{
    pit_control(0, 3, 2, false);
    pit_count16(0, 1000);
    ck_assert_int_eq(irq0.level, 1);
    at(1);
    ck_assert_uint_eq(pit_latched(0), 999);
    at(998);
    ck_assert_uint_eq(pit_latched(0), 2);
    ck_assert_int_eq(irq0.level, 1);
    at(999);
    ck_assert_uint_eq(pit_latched(0), 1);
    ck_assert_int_eq(irq0.level, 0);        /* low for the tick at count 1 */
    ck_assert_uint_eq(pit_status(0) & 0x80, 0);
    at(1000);
    ck_assert_uint_eq(pit_latched(0), 1000);
    ck_assert_int_eq(irq0.level, 1);
    int rises = irq0.rises;
    /* Ten more periods, in one jump: each pulse reaches the line. */
    at(11000);
    ck_assert_int_eq(irq0.rises, rises + 10);
    /* Count 0 means 65536. */
    pit_count16(0, 0);       /* takes effect at the end of the cycle */
    at(12000);
    at(12001);
    ck_assert_uint_eq(pit_latched(0), 65535);
}
END_TEST

START_TEST(test_mode2_new_count_at_cycle_end)
{
    pit_control(0, 3, 2, false);
    pit_count16(0, 100);
    at(30);
    pit_count16(0, 50);
    ck_assert_uint_eq(pit_status(0) & 0x40, 0x40);   /* null count: not loaded */
    at(99);
    ck_assert_uint_eq(pit_latched(0), 1);            /* old cycle continues */
    at(100);
    ck_assert_uint_eq(pit_latched(0), 50);
    ck_assert_uint_eq(pit_status(0) & 0x40, 0);
    at(149);
    ck_assert_int_eq(irq0.level, 0);
    at(150);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_uint_eq(pit_latched(0), 50);
}
END_TEST

START_TEST(test_mode3_square_wave)
{
    pit_control(0, 3, 3, false);
    pit_count16(0, 1000);
    ck_assert_int_eq(irq0.level, 1);
    at(1);
    ck_assert_uint_eq(pit_latched(0), 998);   /* decrements by two */
    at(499);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_uint_eq(pit_latched(0), 2);
    at(500);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_uint_eq(pit_latched(0), 1000);
    at(999);
    ck_assert_int_eq(irq0.level, 0);
    at(1000);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 1);
    at(100000);
    ck_assert_int_eq(irq0.rises, 100);

    /* Odd count: high for (N+1)/2, low for (N-1)/2; loads N-1. */
    pit_control(0, 3, 3, false);
    pit_count16(0, 1001);
    ck_assert_uint_eq(pit_latched(0), 1000);
    at(100000 + 500);
    ck_assert_int_eq(irq0.level, 1);
    at(100000 + 501);
    ck_assert_int_eq(irq0.level, 0);
    at(100000 + 1000);
    ck_assert_int_eq(irq0.level, 0);
    at(100000 + 1001);
    ck_assert_int_eq(irq0.level, 1);
}
END_TEST

START_TEST(test_mode3_new_count_at_half_cycle)
{
    pit_control(0, 3, 3, false);
    pit_count16(0, 1000);
    at(100);
    pit_count16(0, 200);
    at(499);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_uint_eq(pit_latched(0), 2);     /* old count until the half ends */
    at(500);
    ck_assert_int_eq(irq0.level, 0);          /* low half of the new count */
    ck_assert_uint_eq(pit_latched(0), 200);
    at(599);
    ck_assert_int_eq(irq0.level, 0);
    at(600);
    ck_assert_int_eq(irq0.level, 1);
    at(700);
    ck_assert_int_eq(irq0.level, 0);
}
END_TEST

START_TEST(test_mode4_software_strobe)
{
    pit_control(0, 3, 4, false);
    pit_count16(0, 50);
    ck_assert_int_eq(irq0.level, 1);
    at(49);
    ck_assert_int_eq(irq0.level, 1);
    at(50);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_uint_eq(pit_latched(0), 0);
    at(51);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 1);
    at(70000);
    ck_assert_int_eq(irq0.rises, 1);          /* one strobe per count */
}
END_TEST

START_TEST(test_mode1_one_shot_on_channel2)
{
    pit_control(2, 3, 1, false);
    pit_count16(2, 100);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);   /* OUT high, no trigger */
    ck_assert_uint_eq(pit_status(2) & 0x40, 0x40);    /* null count until trigger */
    at(10);
    outb(&io, 0x61, 0x01);                            /* gate rises: trigger */
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0);
    at(11);
    ck_assert_uint_eq(pit_status(2) & 0x40, 0);
    ck_assert_uint_eq(pit_latched(2), 99);
    at(60);
    outb(&io, 0x61, 0x00);                            /* gate low: no effect */
    at(70);
    ck_assert_uint_eq(pit_latched(2), 40);
    outb(&io, 0x61, 0x01);                            /* retrigger */
    at(169);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0);
    at(170);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
    ck_assert(pit_get_out(pit, 2));
}
END_TEST

START_TEST(test_mode5_hardware_strobe)
{
    pit_control(2, 3, 5, false);
    pit_count16(2, 30);
    at(100);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
    outb(&io, 0x61, 0x01);
    at(129);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
    at(130);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0);
    at(131);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_gate_pauses_mode0_and_restarts_mode2)
{
    /* Mode 0 on channel 2 with the gate low: loaded but not counting. */
    pit_control(2, 3, 0, false);
    pit_count16(2, 500);
    at(100);
    ck_assert_uint_eq(pit_latched(2), 500);
    outb(&io, 0x61, 0x01);
    at(200);
    ck_assert_uint_eq(pit_latched(2), 400);
    outb(&io, 0x61, 0x00);
    at(1000);
    ck_assert_uint_eq(pit_latched(2), 400);
    outb(&io, 0x61, 0x01);
    at(1399);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0);
    at(1400);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);

    /* Mode 2: gate low forces OUT high and stops; rising reloads. */
    pit_control(2, 3, 2, false);
    pit_count16(2, 100);
    at(1450);
    ck_assert_uint_eq(pit_latched(2), 50);
    outb(&io, 0x61, 0x00);
    at(1500);
    ck_assert_uint_eq(pit_latched(2), 50);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
    outb(&io, 0x61, 0x01);
    at(1510);
    ck_assert_uint_eq(pit_latched(2), 90);
}
END_TEST

START_TEST(test_latch_semantics)
{
    pit_control(1, 3, 2, false);
    pit_count16(1, 0x1234);
    at(0x34);
    outb(&io, 0x43, 0x40);                  /* latch channel 1 */
    at(0x200);
    outb(&io, 0x43, 0x40);                  /* ignored: already latched */
    ck_assert_uint_eq(inb(&io, 0x41), 0x00);
    at(0x300);
    ck_assert_uint_eq(inb(&io, 0x41), 0x12);
    /* Released: live reads again, LSB/MSB alternate. */
    ck_assert_uint_eq(inb(&io, 0x41), (0x1234 - 0x300) & 0xff);
    ck_assert_uint_eq(inb(&io, 0x41), (0x1234 - 0x300) >> 8);

    /* LSB-only and MSB-only access modes. */
    pit_control(1, 1, 2, false);
    outb(&io, 0x41, 0x80);
    at(0x310);
    ck_assert_uint_eq(inb(&io, 0x41), 0x70);
    ck_assert_uint_eq(inb(&io, 0x41), 0x70);
    pit_control(1, 2, 2, false);
    outb(&io, 0x41, 0x02);                  /* count 0x0200 */
    at(0x410);
    ck_assert_uint_eq(inb(&io, 0x41), 0x01);
    outb(&io, 0x43, 0x40);
    at(0x500);
    ck_assert_uint_eq(inb(&io, 0x41), 0x01);   /* one read releases an MSB latch */
    ck_assert_uint_eq(inb(&io, 0x41), 0x00);
}
END_TEST

START_TEST(test_interleaved_read_write)
{
    /* The datasheet allows read LSB, write LSB, read MSB, write MSB. */
    pit_control(1, 3, 2, false);
    pit_count16(1, 0x4000);
    at(0x100);
    ck_assert_uint_eq(inb(&io, 0x41), 0x00);
    outb(&io, 0x41, 0x00);
    ck_assert_uint_eq(inb(&io, 0x41), 0x3f);
    outb(&io, 0x41, 0x20);
    at(0x4000);   /* end of the current cycle: 0x2000 loads */
    ck_assert_uint_eq(pit_latched(1), 0x2000);
}
END_TEST

START_TEST(test_readback)
{
    pit_control(0, 3, 2, false);
    pit_count16(0, 1000);
    pit_control(1, 1, 3, true);
    outb(&io, 0x41, 0x99);
    pit_control(2, 2, 0, false);
    outb(&io, 0x42, 0x10);
    at(10);
    /* Count and status of channels 0 and 2 at once. */
    outb(&io, 0x43, 0xc0 | 0x02 | 0x08);
    at(20);
    ck_assert_uint_eq(inb(&io, 0x40), 0xb4);           /* status first */
    ck_assert_uint_eq(inb(&io, 0x40), (1000 - 10) & 0xff);
    ck_assert_uint_eq(inb(&io, 0x40), (1000 - 10) >> 8);
    ck_assert_uint_eq(inb(&io, 0x42), 0x20);           /* mode 0, MSB only, OUT low */
    ck_assert_uint_eq(inb(&io, 0x42), 0x10);           /* gate low: not counting */
    /* Status only of channel 1: BCD mode 3, LSB only. */
    ck_assert_uint_eq(pit_status(1), 0x80 | 0x10 | 0x06 | 0x01);
    /* Count only. */
    outb(&io, 0x43, 0xd0 | 0x02);
    ck_assert_uint_eq(inb(&io, 0x40), (1000 - 20) & 0xff);
}
END_TEST

START_TEST(test_bcd)
{
    pit_control(1, 3, 2, true);
    pit_count16(1, 0x1000);                 /* 1000 in BCD */
    at(1);
    ck_assert_uint_eq(pit_latched(1), 0x0999);
    at(1000);
    ck_assert_uint_eq(pit_latched(1), 0x1000);
    pit_control(1, 3, 0, true);
    pit_count16(1, 0x0000);                 /* 10000 */
    at(1001);
    ck_assert_uint_eq(pit_latched(1), 0x9999);
    /* Invalid digits are bounded, not trusted. */
    pit_count16(1, 0xffff);
    at(1002);
    ck_assert_uint_le(pit_latched(1) >> 12, 9);
}
END_TEST

START_TEST(test_port61)
{
    outb(&io, 0x61, 0xff);
    uint8_t v = inb(&io, 0x61);
    ck_assert_uint_eq(v & 0x0f, 0x0f);
    ck_assert_uint_eq(v & 0xc0, 0);
    /* The refresh toggle flips every 18 ticks. */
    at(36 - (t0 % 36));
    uint8_t a = inb(&io, 0x61) & 0x10;
    at(36 - (t0 % 36) + 18);
    uint8_t b = inb(&io, 0x61) & 0x10;
    ck_assert_uint_ne(a, b);
    /* Channel 2's output after reset: mode 3, counting with the gate. */
    outb(&io, 0x61, 0x00);
    ck_assert_uint_eq(inb(&io, 0x61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_reset_state_and_hostile_writes)
{
    /* After reset channel 0 runs mode 3 with count 65536 (18.2 Hz). */
    at(32768);
    ck_assert_int_eq(irq0.level, 0);
    at(65536);
    ck_assert_int_eq(irq0.level, 1);
    ck_assert_int_eq(irq0.rises, 1);
    ck_assert_uint_eq(inb(&io, 0x43), 0xff);
    /* Illegal counts of 1 in modes 2 and 3 must not spin the timer. */
    pit_control(0, 3, 2, false);
    pit_count16(0, 1);
    at(70000);
    pit_control(0, 3, 3, false);
    pit_count16(0, 1);
    at(80000);
    ck_assert(!timers_run_expired());
    /* Modes 6 and 7 alias 2 and 3. */
    pit_control(0, 3, 6, false);
    pit_count16(0, 100);
    at(80099);
    ck_assert_int_eq(irq0.level, 0);
    ck_assert_uint_eq(pit_status(0) & 0x0e, 0x0c);
    pit_reset(pit);
    ck_assert_uint_eq(pit_status(0), 0x36 | 0x80 | 0x40);
    pit_set_gate(pit, 7, true);
    ck_assert(!pit_get_out(pit, -1));
}
END_TEST

static Suite *pit_suite(void)
{
    Suite *s = suite_create("i8254");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mode0_interrupt_on_terminal_count);
    tcase_add_test(tc, test_mode0_first_byte_stops_count);
    tcase_add_test(tc, test_mode2_rate_generator);
    tcase_add_test(tc, test_mode2_new_count_at_cycle_end);
    tcase_add_test(tc, test_mode3_square_wave);
    tcase_add_test(tc, test_mode3_new_count_at_half_cycle);
    tcase_add_test(tc, test_mode4_software_strobe);
    tcase_add_test(tc, test_mode1_one_shot_on_channel2);
    tcase_add_test(tc, test_mode5_hardware_strobe);
    tcase_add_test(tc, test_gate_pauses_mode0_and_restarts_mode2);
    tcase_add_test(tc, test_latch_semantics);
    tcase_add_test(tc, test_interleaved_read_write);
    tcase_add_test(tc, test_readback);
    tcase_add_test(tc, test_bcd);
    tcase_add_test(tc, test_port61);
    tcase_add_test(tc, test_reset_state_and_hostile_writes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
