/*
 * Unit tests for hw/serial.c: the 16550A driven through its ports, with
 * real chardevs (a ring buffer for input and output, a file for output),
 * virtual time moved by hand for the transmitter and the RX timeout.
 */
#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "hw/serial.h"
#include "util/main-loop.h"
#include "util/timer.h"
#include "devtest.h"

#define COM1 0x3f8
#define RBR (COM1 + 0)
#define THR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

/* 115200 baud 8N1: 86805 ns on the wire, 1/64 of that in the model. */
#define CHAR_NS_115200 1356
/* 9600 baud 8N1. */
#define CHAR_NS_9600 16276

static TestIO io;
static TestLine irq;
static IRQLine *irq_line;
static Chardev *chr;
static SerialState *uart;
static int64_t now_ns;

static int64_t frozen_host_ns(void)
{
    return 0;
}

static void at_ns(int64_t ns)
{
    now_ns = ns;
    clock_virtual_set(ns);
    while (timers_run_expired()) {
    }
}

static void advance_ns(int64_t d)
{
    at_ns(now_ns + d);
}

static void pump(void)
{
    for (int i = 0; i < 4; i++) {
        main_loop_wait(0);
    }
}

static void setup(void)
{
    clock_set_source_for_test(frozen_host_ns);
    at_ns(1000000000);
    testio_init(&io);
    irq_line = test_line_new(&irq);
    chr = chardev_new_from_opts("ringbuf,id=uart,size=4096", &error_abort);
    uart = serial_new(io.root, COM1, irq_line, chr);
}

static void teardown(void)
{
    serial_free(uart);
    chardev_free(chr);
    irq_free(irq_line);
    testio_cleanup(&io);
}

static void set_baud_divisor(uint16_t div, uint8_t lcr)
{
    outb(&io, LCR, 0x80);
    outb(&io, DLL, div & 0xff);
    outb(&io, DLM, div >> 8);
    outb(&io, LCR, lcr);
}

static size_t output(char *buf, size_t len)
{
    size_t n = chardev_ringbuf_read(chr, buf, len - 1);
    buf[n] = 0;
    return n;
}

START_TEST(test_reset_registers)
{
    ck_assert_uint_eq(inb(&io, IER), 0x00);
    ck_assert_uint_eq(inb(&io, IIR), 0x01);
    ck_assert_uint_eq(inb(&io, LCR), 0x00);
    ck_assert_uint_eq(inb(&io, MCR), 0x00);
    ck_assert_uint_eq(inb(&io, LSR), 0x60);
    ck_assert_uint_eq(inb(&io, MSR), 0xb0);   /* CTS, DSR, DCD, no deltas */
    outb(&io, SCR, 0x5a);
    ck_assert_uint_eq(inb(&io, SCR), 0x5a);
    /* Divisor latch behind DLAB. */
    set_baud_divisor(0x1234, 0x03);
    outb(&io, LCR, 0x83);
    ck_assert_uint_eq(inb(&io, DLL), 0x34);
    ck_assert_uint_eq(inb(&io, DLM), 0x12);
    outb(&io, LCR, 0x03);
    ck_assert_uint_eq(inb(&io, IER), 0x00);
    /* Linux's probe: IER keeps only its four bits. */
    outb(&io, IER, 0xff);
    ck_assert_uint_eq(inb(&io, IER), 0x0f);
    outb(&io, IER, 0x00);
    /* FIFO probe: IIR bits 7:6 = 11 with FIFOs enabled, no 64-byte FIFO. */
    outb(&io, FCR, 0x01);
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);
    outb(&io, FCR, 0x21);
    ck_assert_uint_eq(inb(&io, IIR) & 0x20, 0);
    outb(&io, FCR, 0x00);
    ck_assert_uint_eq(inb(&io, IIR), 0x01);
    /* Reset keeps the scratch register, as the chip's MR does. */
    serial_reset(uart);
    ck_assert_uint_eq(inb(&io, SCR), 0x5a);
    ck_assert_uint_eq(inb(&io, LCR), 0x00);
}
END_TEST

START_TEST(test_transmit_and_timing)
{
    set_baud_divisor(1, 0x03);                 /* 115200 8N1 */
    outb(&io, THR, 'h');
    /* Straight into the shift register: THRE set, TEMT not. */
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x20);
    outb(&io, THR, 'i');
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x00);
    advance_ns(CHAR_NS_115200 - 1);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x00);
    advance_ns(1);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x20);
    advance_ns(CHAR_NS_115200);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x60);
    char buf[64];
    ck_assert_uint_eq(output(buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "hi");

    /* Slower baud, slower transmitter. */
    set_baud_divisor(12, 0x03);
    outb(&io, THR, 'a');
    outb(&io, THR, 'b');
    advance_ns(CHAR_NS_9600 - 1);
    ck_assert_uint_eq(inb(&io, LSR) & 0x20, 0x00);
    advance_ns(1);
    ck_assert_uint_eq(inb(&io, LSR) & 0x20, 0x20);

    /* A guest that never polls loses nothing. */
    for (int i = 0; i < 100; i++) {
        outb(&io, THR, '0' + i % 10);
    }
    char big[256];
    ck_assert_uint_eq(output(big, sizeof(big)), 102);
    ck_assert_int_eq(big[101], '9');
}
END_TEST

START_TEST(test_thre_interrupt)
{
    set_baud_divisor(1, 0x03);
    outb(&io, MCR, 0x08);                      /* OUT2 gates the IRQ */
    outb(&io, IER, 0x02);
    /* Enabling THRI with THR empty raises it at once (Linux's test). */
    ck_assert_int_eq(irq.level, 1);
    ck_assert_uint_eq(inb(&io, IIR), 0x02);
    ck_assert_int_eq(irq.level, 0);             /* IIR read cleared it */
    ck_assert_uint_eq(inb(&io, IIR), 0x01);
    outb(&io, IER, 0x00);
    outb(&io, IER, 0x02);
    ck_assert_uint_eq(inb(&io, IIR), 0x02);     /* re-asserted */

    /* Without OUT2 the line stays low though IIR reports. */
    outb(&io, MCR, 0x00);
    outb(&io, IER, 0x00);
    outb(&io, IER, 0x02);
    ck_assert_int_eq(irq.level, 0);
    ck_assert_uint_eq(inb(&io, IIR), 0x02);
    outb(&io, MCR, 0x08);

    /* FIFO: 16 bytes in; THRE interrupt when the FIFO empties. */
    outb(&io, FCR, 0x07);
    inb(&io, IIR);
    for (int i = 0; i < 16; i++) {
        outb(&io, THR, 'A' + i);
    }
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);
    ck_assert_int_eq(irq.level, 0);
    /* The first byte went to the shift register, 15 wait in the FIFO. */
    advance_ns(15 * CHAR_NS_115200 - 1);
    ck_assert_int_eq(irq.level, 0);
    advance_ns(1);
    ck_assert_int_eq(irq.level, 1);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x20);
    /* Writing THR clears the THRE interrupt. */
    outb(&io, THR, 'x');
    ck_assert_uint_eq(inb(&io, IIR) & 0x0f, 0x01);
}
END_TEST

START_TEST(test_receive_non_fifo)
{
    outb(&io, MCR, 0x0b);
    outb(&io, IER, 0x01);
    ck_assert_int_eq(chardev_ringbuf_input(chr, "abc", 3), 3);
    pump();
    ck_assert_uint_eq(inb(&io, LSR) & 0x01, 0x01);
    ck_assert_int_eq(irq.level, 1);
    ck_assert_uint_eq(inb(&io, IIR), 0x04);
    /* One byte at a time: the holding register is the whole buffer. */
    ck_assert_uint_eq(inb(&io, RBR), 'a');
    ck_assert_int_eq(irq.level, 0);
    ck_assert_uint_eq(inb(&io, LSR) & 0x03, 0x00);   /* no data, no overrun */
    pump();
    ck_assert_uint_eq(inb(&io, RBR), 'b');
    pump();
    ck_assert_uint_eq(inb(&io, RBR), 'c');
    ck_assert_uint_eq(inb(&io, LSR) & 0x01, 0);
    ck_assert_uint_eq(inb(&io, RBR), 'c');          /* empty: last byte again */
}
END_TEST

START_TEST(test_receive_fifo_trigger_and_timeout)
{
    set_baud_divisor(1, 0x03);
    outb(&io, MCR, 0x08);
    outb(&io, IER, 0x01);
    outb(&io, FCR, 0xc7);                      /* trigger at 14 */
    const char *msg = "0123456789abcdefghij";      /* 20 bytes */
    chardev_ringbuf_input(chr, msg, 20);
    pump();
    ck_assert_uint_eq(inb(&io, IIR), 0xc4);    /* 16 in the FIFO >= 14 */
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(inb(&io, RBR), msg[i]);
    }
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);    /* 13 < 14, no timeout yet */
    ck_assert_int_eq(irq.level, 0);
    advance_ns(4 * CHAR_NS_115200 - 1);
    ck_assert_int_eq(irq.level, 0);
    advance_ns(1);
    ck_assert_int_eq(irq.level, 1);
    ck_assert_uint_eq(inb(&io, IIR), 0xcc);    /* character timeout */
    int i = 3;
    while (inb(&io, LSR) & 0x01) {
        ck_assert_uint_eq(inb(&io, RBR), msg[i]);
        i++;
    }
    ck_assert_int_eq(i, 16);
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);
    /* The rest waited in the chardev: no overrun. */
    pump();
    while (inb(&io, LSR) & 0x01) {
        ck_assert_uint_eq(inb(&io, RBR), msg[i]);
        i++;
    }
    ck_assert_int_eq(i, 20);
    ck_assert_uint_eq(inb(&io, LSR) & 0x02, 0);

    /* Clearing the RX FIFO through FCR. */
    outb(&io, FCR, 0x07);
    chardev_ringbuf_input(chr, "zz", 2);
    pump();
    ck_assert_uint_eq(inb(&io, IIR), 0xc4);    /* trigger 1 */
    outb(&io, FCR, 0x03);
    ck_assert_uint_eq(inb(&io, LSR) & 0x01, 0);
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);
}
END_TEST

START_TEST(test_loopback_modem_lines)
{
    /* Linux's loopback probe: MCR = LOOP | OUT2 | RTS gives MSR 0x90. */
    outb(&io, MCR, 0x1a);
    ck_assert_uint_eq(inb(&io, MSR) & 0xf0, 0x90);
    outb(&io, MCR, 0x1f);
    ck_assert_uint_eq(inb(&io, MSR), 0xf0 | 0x02 | 0x00);  /* DSR changed; RI rose */
    outb(&io, MCR, 0x1b);                                   /* OUT1 off: RI trailing edge */
    ck_assert_uint_eq(inb(&io, MSR) & 0x0f, 0x04);
    /* Modem status interrupt (IIR 0x00), cleared by reading MSR. */
    outb(&io, IER, 0x08);
    outb(&io, MCR, 0x19);                                   /* RTS off: DCTS */
    ck_assert_uint_eq(inb(&io, IIR), 0x00);
    ck_assert_int_eq(irq.level, 0);        /* loopback disconnects the IRQ */
    inb(&io, MSR);
    ck_assert_uint_eq(inb(&io, IIR), 0x01);

    /* Data goes round, not out. */
    outb(&io, IER, 0x00);
    outb(&io, THR, 'q');
    ck_assert_uint_eq(inb(&io, LSR) & 0x01, 0x01);
    ck_assert_uint_eq(inb(&io, RBR), 'q');
    char buf[8];
    ck_assert_uint_eq(output(buf, sizeof(buf)), 0);
    /* Overrun without FIFOs, and the line-status interrupt. */
    outb(&io, IER, 0x05);
    outb(&io, THR, '1');
    outb(&io, THR, '2');
    ck_assert_uint_eq(inb(&io, IIR), 0x06);
    ck_assert_uint_eq(inb(&io, LSR) & 0x03, 0x03);
    ck_assert_uint_eq(inb(&io, LSR) & 0x02, 0);             /* read clears OE */
    ck_assert_uint_eq(inb(&io, IIR), 0x04);
    ck_assert_uint_eq(inb(&io, RBR), '2');                  /* newest wins */
    /* Break on our own line. */
    outb(&io, LCR, 0x43);
    ck_assert_uint_eq(inb(&io, LSR) & 0x11, 0x11);
    ck_assert_uint_eq(inb(&io, RBR), 0x00);
    outb(&io, LCR, 0x03);
    /* Back to normal: the host lines read again. */
    outb(&io, MCR, 0x0b);
    ck_assert_uint_eq(inb(&io, MSR) & 0xf0, 0xb0);
}
END_TEST

START_TEST(test_iir_priorities)
{
    outb(&io, MCR, 0x18);                       /* loopback, OUT2 */
    outb(&io, FCR, 0x07);
    outb(&io, IER, 0x0f);
    /* THRE pending (enabling THRI), MSR change pending. */
    outb(&io, MCR, 0x1a);
    ck_assert_uint_eq(inb(&io, IIR), 0xc2);     /* THRE over MSR; read clears it */
    ck_assert_uint_eq(inb(&io, IIR), 0xc0);     /* MSR now */
    /* Received data beats THRE; line status beats received data. */
    for (int i = 0; i < 17; i++) {
        outb(&io, THR, i);                      /* the 17th overruns */
    }
    ck_assert_uint_eq(inb(&io, IIR), 0xc6);
    inb(&io, LSR);
    ck_assert_uint_eq(inb(&io, IIR), 0xc4);
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(inb(&io, RBR), i);    /* FIFO kept the first 16 */
    }
    ck_assert_uint_eq(inb(&io, IIR), 0xc0);     /* MSR still waiting */
    inb(&io, MSR);
    ck_assert_uint_eq(inb(&io, IIR), 0xc1);     /* transmit FIFO still full */
    advance_ns(16 * CHAR_NS_9600);
    ck_assert_uint_eq(inb(&io, IIR), 0xc2);     /* drained: THRE */
}
END_TEST

START_TEST(test_file_chardev_and_null)
{
    char path[] = "/tmp/minipc-serial-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *spec = xasprintf("file:%s", path);
    Chardev *f = chardev_new_from_spec("serial1", spec, &error_abort);
    free(spec);
    SerialState *com2 = serial_new(io.root, SERIAL_COM2_BASE, NULL, f);
    const char *msg = "Linux version\r\n";
    for (const char *p = msg; *p; p++) {
        while (!(inb(&io, SERIAL_COM2_BASE + 5) & 0x20)) {
            advance_ns(100);
        }
        outb(&io, SERIAL_COM2_BASE, *p);
    }
    serial_free(com2);
    chardev_free(f);
    FILE *in = fopen(path, "rb");
    char buf[64] = { 0 };
    size_t n = fread(buf, 1, sizeof(buf) - 1, in);
    fclose(in);
    unlink(path);
    ck_assert_uint_eq(n, strlen(msg));
    ck_assert_str_eq(buf, msg);

    /* No chardev at all: output vanishes, registers still work. */
    SerialState *com3 = serial_new(io.root, SERIAL_COM3_BASE, NULL, NULL);
    outb(&io, SERIAL_COM3_BASE, 'x');
    ck_assert_uint_eq(inb(&io, SERIAL_COM3_BASE + 5) & 0x20, 0x20);
    serial_free(com3);
}
END_TEST

START_TEST(test_odd_divisors_and_formats)
{
    /* Divisor 0 and odd frame formats must not divide by zero. */
    set_baud_divisor(0, 0x07);
    outb(&io, THR, 'x');
    outb(&io, THR, 'y');
    ck_assert_uint_eq(inb(&io, LSR) & 0x20, 0);
    advance_ns(40000);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x60);
    set_baud_divisor(3, 0x3c);
    outb(&io, THR, 'z');
    advance_ns(1000000);
    ck_assert_uint_eq(inb(&io, LSR) & 0x60, 0x60);
}
END_TEST

static Suite *serial_suite(void)
{
    Suite *s = suite_create("serial");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reset_registers);
    tcase_add_test(tc, test_transmit_and_timing);
    tcase_add_test(tc, test_thre_interrupt);
    tcase_add_test(tc, test_receive_non_fifo);
    tcase_add_test(tc, test_receive_fifo_trigger_and_timeout);
    tcase_add_test(tc, test_loopback_modem_lines);
    tcase_add_test(tc, test_iir_priorities);
    tcase_add_test(tc, test_file_chardev_and_null);
    tcase_add_test(tc, test_odd_divisors_and_formats);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(serial_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
