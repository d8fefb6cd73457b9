/*
 * Fuzz target for the PC chipset devices: the 8259A pair with ELCR, the
 * 8254 and port 0x61, the RTC/CMOS, two 16550A UARTs (one on a ring
 * buffer chardev that also feeds input), the 8042 with keyboard and
 * mouse, and port 0x92.
 *
 * The input is a program: port reads and writes of any width, virtual
 * time advancing (timers fire), interrupt acknowledges, key/mouse/serial
 * input, device resets, and VMState round trips with one corrupted byte
 * (the validation pass must refuse what would be unsafe; what it lets
 * through must keep working). A hostile guest's only acceptable outcome
 * is no crash, no hang and no sanitizer report.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw/i8042.h"
#include "hw/i8254.h"
#include "hw/i8259.h"
#include "hw/mc146818rtc.h"
#include "hw/port92.h"
#include "hw/serial.h"
#include "migration/qemu-file.h"
#include "util/chardev.h"
#include "util/main-loop.h"
#include "util/timer.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 1024
/* Each round trip allocates QEMUFile buffers (3 x 256 KiB): one per input
 * covers the loader paths without making sanitizer runs crawl. */
#define MAX_VMSTATE_OPS 1
/* A runaway timer (one that keeps re-arming into the past) is a bug. */
#define MAX_TIMER_RUNS_PER_STEP 400000

enum {
    OP_OUT, OP_IN, OP_TIME, OP_INTA, OP_KEY, OP_MOUSE, OP_SERIAL_IN,
    OP_RESET, OP_VMSTATE, OP_GATE, OP_ELCR, OP_RTC_TIME, OP_OUT_BURST,
    OP_COUNT,
};

static const uint16_t ports[] = {
    0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,
    0x40, 0x41, 0x42, 0x43, 0x61,
    0x70, 0x71,
    0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
    0x2f8, 0x2f9, 0x2fa, 0x2fb, 0x2fc, 0x2fd, 0x2fe, 0x2ff,
    0x60, 0x64, 0x92,
};

typedef struct Input {
    const uint8_t *p;
    size_t n;
} Input;

static uint8_t get8(Input *in)
{
    if (!in->n) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint16_t get16(Input *in) { return get8(in) | (get8(in) << 8); }
static uint32_t get32(Input *in) { return get16(in) | ((uint32_t)get16(in) << 16); }

static uint16_t get_port(Input *in)
{
    uint8_t b = get8(in);
    return b >= 250 ? get16(in) : ports[b % ARRAY_SIZE(ports)];
}

typedef struct Board {
    MemoryRegion *io;
    AddressSpace *as;
    IRQLine *intr, *a20, *reset;
    PICState *pic;
    PITState *pit;
    RTCState *rtc;
    SerialState *com1, *com2;
    Chardev *chr;
    I8042State *kbc;
    Port92State *p92;
    int intr_level;
    unsigned resets;
} Board;

static void board_line(void *opaque, int n, int level)
{
    Board *b = opaque;
    if (n == 0) {
        b->intr_level = level;
    } else if (n == 2 && level) {
        b->resets++;
    }
}

static int64_t frozen_host_ns(void)
{
    return 0;
}

static void board_init(Board *b)
{
    memset(b, 0, sizeof(*b));
    b->io = memory_region_new_container("io", 0x10000);
    b->as = address_space_new("io", b->io);
    b->intr = irq_new(board_line, b, 0);
    b->a20 = irq_new(board_line, b, 1);
    b->reset = irq_new(board_line, b, 2);
    b->pic = pic_new(b->io, b->intr);
    b->pit = pit_new(b->io, pic_input(b->pic, 0));
    b->rtc = rtc_new(b->io, pic_input(b->pic, 8), RTC_BASE_UTC);
    rtc_set_time(b->rtc, 1700000000);   /* reproducible runs */
    b->chr = chardev_new_from_opts("ringbuf,id=fuzz-com1,size=1024", NULL);
    b->com1 = serial_new(b->io, SERIAL_COM1_BASE, pic_input(b->pic, 4), b->chr);
    b->com2 = serial_new(b->io, SERIAL_COM2_BASE, pic_input(b->pic, 3), NULL);
    b->kbc = i8042_new(b->io, pic_input(b->pic, 1), pic_input(b->pic, 12), b->a20, b->reset);
    b->p92 = port92_new(b->io, b->a20, b->reset);
}

static void board_free(Board *b)
{
    port92_free(b->p92);
    i8042_free(b->kbc);
    serial_free(b->com2);
    serial_free(b->com1);
    if (b->chr) {
        chardev_free(b->chr);
    }
    rtc_free(b->rtc);
    pit_free(b->pit);
    pic_free(b->pic);
    irq_free(b->intr);
    irq_free(b->a20);
    irq_free(b->reset);
    address_space_free(b->as);
    memory_region_free(b->io);
}

static void run_timers(void)
{
    for (int i = 0; timers_run_expired(); i++) {
        if (i > MAX_TIMER_RUNS_PER_STEP) {
            fprintf(stderr, "fuzz-devices: timers keep firing without time passing\n");
            abort();
        }
    }
}

/* Time steps from nanoseconds to about a second, mostly small. */
static int64_t time_step(Input *in)
{
    uint8_t scale = get8(in);
    uint32_t v = get16(in);
    switch (scale % 8) {
    case 0: case 1: case 2: return v;                   /* ns */
    case 3: case 4: return (int64_t)v * 100;            /* up to 6.5 ms */
    case 5: case 6: return (int64_t)v * 1000;           /* up to 65 ms */
    default: return (int64_t)(v & 0x3fff) * 60000;      /* up to 1 s */
    }
}

typedef struct Section {
    const VMStateDescription *vmsd;
    void *opaque;
} Section;

static void vmstate_round_trip(Board *b, Input *in)
{
    Section secs[] = {
        { &vmstate_i8259, b->pic },
        { &vmstate_i8254, b->pit },
        { &vmstate_mc146818rtc, b->rtc },
        { &vmstate_serial, b->com1 },
        { &vmstate_serial, b->com2 },
        { &vmstate_i8042, b->kbc },
        { &vmstate_ps2_keyboard, i8042_keyboard(b->kbc) },
        { &vmstate_ps2_mouse, i8042_mouse(b->kbc) },
        { &vmstate_port92, b->p92 },
    };
    Section *sec = &secs[get8(in) % ARRAY_SIZE(secs)];
    uint16_t where = get16(in);
    uint8_t xor = get8(in);

    QEMUFile *out = qemu_file_new_mem_output();
    if (vmstate_save_state(out, sec->vmsd, sec->opaque, NULL, NULL) < 0) {
        abort();    /* saving a live device cannot fail */
    }
    size_t len;
    uint8_t *buf = qemu_file_mem_output_steal(out, &len);
    qemu_fclose(out, NULL);
    if (len) {
        buf[where % len] ^= xor;
    }
    /* As qemu_loadvm_state: validate, and commit only what passed. */
    for (int pass = 0; pass < 2; pass++) {
        QEMUFile *f = qemu_file_new_mem_input(buf, len);
        qemu_file_set_validating(f, pass == 0);
        int r = vmstate_load_state(f, sec->vmsd, sec->opaque, sec->vmsd->version_id, NULL);
        qemu_fclose(f, NULL);
        if (r < 0) {
            if (pass == 1) {
                fprintf(stderr, "fuzz-devices: '%s' passed validation, failed commit\n",
                        sec->vmsd->name);
                abort();
            }
            break;
        }
    }
    free(buf);
}

static void device_reset(Board *b, uint8_t which)
{
    switch (which % 7) {
    case 0: pic_reset(b->pic); break;
    case 1: pit_reset(b->pit); break;
    case 2: rtc_reset(b->rtc); break;
    case 3: serial_reset(b->com1); break;
    case 4: serial_reset(b->com2); break;
    case 5: i8042_reset(b->kbc); break;
    default: port92_reset(b->p92); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        clock_set_source_for_test(frozen_host_ns);
    }
    int64_t now = 1000000000;
    clock_virtual_set(now);

    Board board;
    Board *b = &board;
    board_init(b);
    Input in = { data, size };
    int vmstate_ops = 0;

    for (int ops = 0; in.n && ops < MAX_OPS; ops++) {
        switch (get8(&in) % OP_COUNT) {
        case OP_OUT: {
            uint16_t port = get_port(&in);
            uint8_t sz = 1u << (get8(&in) % 3);
            address_space_write_sized(b->as, port, get32(&in), sz);
            break;
        }
        case OP_OUT_BURST: {
            /* The same port many times (FIFO fills, command streams). */
            uint16_t port = get_port(&in);
            uint8_t count = get8(&in);
            uint8_t val = get8(&in);
            for (int i = 0; i < count; i++) {
                address_space_write_sized(b->as, port, (uint8_t)(val + i), 1);
            }
            break;
        }
        case OP_IN: {
            uint16_t port = get_port(&in);
            uint8_t sz = 1u << (get8(&in) % 3);
            uint8_t count = 1 + get8(&in) % 32;
            for (int i = 0; i < count; i++) {
                address_space_read_sized(b->as, port, sz);
            }
            break;
        }
        case OP_TIME:
            now += time_step(&in);
            clock_virtual_set(now);
            run_timers();
            break;
        case OP_INTA: {
            /* Usually only when INTR is up; sometimes racing it. */
            uint8_t force = get8(&in) & 1;
            if (b->intr_level || force) {
                pic_get_interrupt(b->pic);
            }
            break;
        }
        case OP_KEY: {
            uint16_t code = get16(&in);
            uint8_t flags = get8(&in);
            int key = (flags & 0x80) ? PS2_KEY_PAUSE : (flags & 0x40) ? PS2_KEY_EXT(code & 0xff)
                                                                      : code;
            ps2_keyboard_event(i8042_keyboard(b->kbc), key, flags & 1);
            break;
        }
        case OP_MOUSE: {
            int dx = (int8_t)get8(&in) * (1 + get8(&in) % 8);
            int dy = (int8_t)get8(&in);
            int dz = (int8_t)get8(&in) % 4;
            ps2_mouse_event(i8042_mouse(b->kbc), dx, dy, dz, get8(&in));
            break;
        }
        case OP_SERIAL_IN: {
            uint8_t n = get8(&in) % 64;
            uint8_t buf[64];
            for (int i = 0; i < n; i++) {
                buf[i] = get8(&in);
            }
            if (b->chr) {
                chardev_ringbuf_input(b->chr, buf, n);
            }
            main_loop_wait(0);
            break;
        }
        case OP_RESET:
            device_reset(b, get8(&in));
            break;
        case OP_VMSTATE:
            if (vmstate_ops++ < MAX_VMSTATE_OPS) {
                vmstate_round_trip(b, &in);
            } else {
                size_t skip = MIN(in.n, 4);   /* keep the program's framing */
                in.n -= skip;
                in.p += skip;
            }
            break;
        case OP_GATE: {
            uint8_t v = get8(&in);
            pit_set_gate(b->pit, v % 4, v & 0x10);
            pit_get_out(b->pit, (v >> 5) % 4);
            break;
        }
        case OP_ELCR:
            pic_set_elcr(b->pic, get16(&in));
            break;
        case OP_RTC_TIME: {
            int64_t t = (int64_t)(int32_t)get32(&in) * (1 + get8(&in));
            rtc_set_time(b->rtc, t);
            rtc_get_time(b->rtc);
            break;
        }
        }
    }
    board_free(b);
    return 0;
}

/* Seeds: what real drivers do, as programs. -------------------------- */

typedef struct SeedBuf {
    uint8_t b[2048];
    size_t n;
} SeedBuf;

static void put(SeedBuf *s, int count, ...)
{
    va_list ap;
    va_start(ap, count);
    for (int i = 0; i < count && s->n < sizeof(s->b); i++) {
        s->b[s->n++] = (uint8_t)va_arg(ap, int);
    }
    va_end(ap);
}

static int port_index(uint16_t port)
{
    for (unsigned i = 0; i < ARRAY_SIZE(ports); i++) {
        if (ports[i] == port) {
            return i;
        }
    }
    abort();
}

static void out8(SeedBuf *s, uint16_t port, uint8_t val)
{
    put(s, 7, OP_OUT, port_index(port), 0, val, 0, 0, 0);
}

static void in8(SeedBuf *s, uint16_t port, uint8_t count)
{
    put(s, 4, OP_IN, port_index(port), 0, count - 1);
}

static void wait_us(SeedBuf *s, uint16_t hundred_ns)
{
    put(s, 4, OP_TIME, 3, hundred_ns & 0xff, hundred_ns >> 8);
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    SeedBuf s;

    /* PIC init as Linux does, PIT at 1 kHz in mode 2, ticks acknowledged. */
    memset(&s, 0, sizeof(s));
    const uint8_t icw[8] = { 0x11, 0x20, 0x04, 0x01, 0x11, 0x28, 0x02, 0x01 };
    for (int i = 0; i < 8; i++) {
        out8(&s, (i < 4 ? 0x20 : 0xa0) + (i % 4 ? 1 : 0), icw[i]);
    }
    out8(&s, 0x43, 0x34);
    out8(&s, 0x40, 0xa9);
    out8(&s, 0x40, 0x04);
    for (int i = 0; i < 6; i++) {
        wait_us(&s, 10000);
        put(&s, 2, OP_INTA, 1);
        out8(&s, 0x20, 0x20);
    }
    out8(&s, 0x43, 0xe2);       /* read-back status of channel 0 */
    in8(&s, 0x40, 3);
    put(&s, 5, OP_VMSTATE, 1, 0x10, 0x00, 0x00);
    emit(s.b, s.n, opaque);

    /* PIT channel 2 calibration through port 0x61 (Linux/SeaBIOS style). */
    memset(&s, 0, sizeof(s));
    out8(&s, 0x61, 0x01);
    out8(&s, 0x43, 0xb0);
    out8(&s, 0x42, 0xff);
    out8(&s, 0x42, 0xff);
    for (int i = 0; i < 8; i++) {
        in8(&s, 0x42, 2);
        in8(&s, 0x61, 1);
        wait_us(&s, 500);
    }
    out8(&s, 0x43, 0xb6);
    out8(&s, 0x42, 0x33);
    out8(&s, 0x42, 0x00);
    out8(&s, 0x61, 0x03);
    wait_us(&s, 300);
    in8(&s, 0x61, 4);
    emit(s.b, s.n, opaque);

    /* RTC: read the time avoiding UIP, periodic and update interrupts. */
    memset(&s, 0, sizeof(s));
    for (int r = 0; r <= 0x0d; r++) {
        out8(&s, 0x70, 0x0a);
        in8(&s, 0x71, 1);
        out8(&s, 0x70, r);
        in8(&s, 0x71, 1);
    }
    out8(&s, 0x70, 0x0b);
    out8(&s, 0x71, 0x52);
    out8(&s, 0x70, 0x0a);
    out8(&s, 0x71, 0x23);
    for (int i = 0; i < 5; i++) {
        wait_us(&s, 20000);
        out8(&s, 0x70, 0x0c);
        in8(&s, 0x71, 1);
    }
    out8(&s, 0x70, 0x8b);
    out8(&s, 0x71, 0x86);
    out8(&s, 0x70, 0x00);
    out8(&s, 0x71, 0x59);
    out8(&s, 0x70, 0x0b);
    out8(&s, 0x71, 0x06);
    put(&s, 5, OP_VMSTATE, 2, 0x20, 0x00, 0x40);
    emit(s.b, s.n, opaque);

    /* UART: 8250 probe and setup, transmit with THRE polling, receive. */
    memset(&s, 0, sizeof(s));
    out8(&s, 0x3f9, 0x00);
    out8(&s, 0x3ff, 0xa5);
    in8(&s, 0x3ff, 1);
    out8(&s, 0x3fc, 0x1a);
    in8(&s, 0x3fe, 1);
    out8(&s, 0x3fc, 0x0b);
    out8(&s, 0x3fb, 0x80);
    out8(&s, 0x3f8, 0x01);
    out8(&s, 0x3f9, 0x00);
    out8(&s, 0x3fb, 0x03);
    out8(&s, 0x3fa, 0xc7);
    in8(&s, 0x3fa, 1);
    out8(&s, 0x3f9, 0x02);
    in8(&s, 0x3fa, 2);
    out8(&s, 0x3f9, 0x05);
    for (int i = 0; i < 24; i++) {
        in8(&s, 0x3fd, 1);
        out8(&s, 0x3f8, 'A' + i);
        wait_us(&s, 20);
    }
    put(&s, 8, OP_SERIAL_IN, 6, 'r', 'o', 'o', 't', '\r', '\n');
    wait_us(&s, 200);
    in8(&s, 0x3fa, 1);
    in8(&s, 0x3f8, 8);
    put(&s, 5, OP_VMSTATE, 3, 0x05, 0x00, 0x00);
    emit(s.b, s.n, opaque);

    /* 8042: self-test, command byte, keyboard reset and ID, mouse knock. */
    memset(&s, 0, sizeof(s));
    out8(&s, 0x64, 0xaa);
    in8(&s, 0x60, 1);
    out8(&s, 0x64, 0x20);
    in8(&s, 0x60, 1);
    out8(&s, 0x64, 0x60);
    out8(&s, 0x60, 0x47);
    out8(&s, 0x60, 0xff);
    in8(&s, 0x60, 2);
    out8(&s, 0x60, 0xf2);
    in8(&s, 0x60, 3);
    const uint8_t knock[] = { 0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf2, 0xf4 };
    for (unsigned i = 0; i < sizeof(knock); i++) {
        out8(&s, 0x64, 0xd4);
        out8(&s, 0x60, knock[i]);
        in8(&s, 0x64, 1);
        in8(&s, 0x60, 1);
    }
    put(&s, 4, OP_KEY, 0x1c, 0x00, 0x01);
    put(&s, 4, OP_KEY, 0x75, 0x00, 0x40);
    put(&s, 4, OP_KEY, 0x00, 0x00, 0x81);
    put(&s, 6, OP_MOUSE, 0x40, 3, 0xf0, 0x01, 0x05);
    in8(&s, 0x60, 16);
    out8(&s, 0x64, 0xd1);
    out8(&s, 0x60, 0xdf);
    out8(&s, 0x92, 0x02);
    put(&s, 5, OP_VMSTATE, 6, 0x00, 0x00, 0x00);
    put(&s, 5, OP_VMSTATE, 7, 0x00, 0x00, 0x00);
    emit(s.b, s.n, opaque);
}
