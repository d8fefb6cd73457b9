/*
 * Unit tests for hw/vga*.c, ui/surface.c and ui/screendump.c: the real
 * PCI VGA on a PCI bus, driven through real I/O and memory address
 * spaces, rendered through its console. Expected pixels are computed
 * here from the VGA reference's rules, not from the renderer.
 */
#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "hw/vga.h"
#include "ui/screendump.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"

#define LFB_BASE  0xe0000000u
#define MMIO_BASE 0xe1000000u
#define ROM_BASE  0xe1010000u

typedef struct Board {
    MemoryRegion *sysmem, *pcimem, *io;
    AddressSpace *mem_as, *io_as;
    PCIBus *bus;
    VGAPCIState *vga;
    VGAState *s;
    DisplayConsole *con;
} Board;

static Board *b;

static void board_setup(const void *rom, size_t rom_size)
{
    b = XNEW(Board);
    b->sysmem = memory_region_new_container("system", 1ULL << 32);
    b->pcimem = memory_region_new_container("pci", 1ULL << 32);
    b->io = memory_region_new_container("io", 65536);
    memory_region_add_subregion(b->sysmem, 0, b->pcimem, 0);
    b->mem_as = address_space_new("memory", b->sysmem);
    b->io_as = address_space_new("io", b->io);
    b->bus = pci_bus_new(b->pcimem, b->io);
    Error *err = NULL;
    b->vga = vga_pci_new(b->bus, PCI_DEVFN(2, 0), b->pcimem, b->io, 16 * MiB, rom, rom_size,
                         &err);
    ck_assert_ptr_nonnull(b->vga);
    b->s = &b->vga->vga;
    b->con = vga_console(b->s);
    /* What the firmware does: place the BARs and enable decoding. */
    pci_bus_config_write(b->bus, PCI_DEVFN(2, 0), PCI_BASE_ADDRESS_0, LFB_BASE, 4);
    pci_bus_config_write(b->bus, PCI_DEVFN(2, 0), PCI_BASE_ADDRESS_0 + 8, MMIO_BASE, 4);
    pci_bus_config_write(b->bus, PCI_DEVFN(2, 0), PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
}

static void setup(void)
{
    board_setup(NULL, 0);
}

static void teardown(void)
{
    vga_pci_free(b->vga);
    pci_bus_free(b->bus);
    address_space_free(b->mem_as);
    address_space_free(b->io_as);
    memory_region_free(b->pcimem);
    memory_region_free(b->io);
    memory_region_free(b->sysmem);
    free(b);
    b = NULL;
}

static void outb(uint16_t port, uint8_t v) { address_space_write_sized(b->io_as, port, v, 1); }
static uint8_t inb(uint16_t port) { return address_space_read_sized(b->io_as, port, 1); }
static void outw(uint16_t port, uint16_t v) { address_space_write_sized(b->io_as, port, v, 2); }
static uint16_t inw(uint16_t port) { return address_space_read_sized(b->io_as, port, 2); }
static void memb(uint32_t a, uint8_t v) { address_space_stb(b->mem_as, a, v); }
static uint8_t rmemb(uint32_t a) { return address_space_ldub(b->mem_as, a); }

static void seq(uint8_t i, uint8_t v) { outb(0x3c4, i); outb(0x3c5, v); }
static void gc(uint8_t i, uint8_t v) { outb(0x3ce, i); outb(0x3cf, v); }
static void crtc(uint8_t i, uint8_t v) { outb(0x3d4, i); outb(0x3d5, v); }
static uint8_t crtc_rd(uint8_t i) { outb(0x3d4, i); return inb(0x3d5); }
static void attr(uint8_t i, uint8_t v) { inb(0x3da); outb(0x3c0, i); outb(0x3c0, v); }
static void attr_on(void) { inb(0x3da); outb(0x3c0, 0x20); }
static void vbe(uint16_t i, uint16_t v) { outw(0x1ce, i); outw(0x1cf, v); }
static uint16_t vbe_rd(uint16_t i) { outw(0x1ce, i); return inw(0x1cf); }

static uint8_t plane_byte(int plane, uint32_t a) { return vga_vram_ptr(b->s)[a * 4 + plane]; }

/* ---- standard mode register sets (IBM VGA BIOS values) ------------------ */

typedef struct ModeRegs {
    uint8_t misc, seq[5], crtc[25], gc[9], ac[21];
} ModeRegs;

static const ModeRegs mode03 = {
    0x67, { 0x03, 0x00, 0x03, 0x00, 0x02 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
      0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00 },
};

static const ModeRegs mode12 = {
    0xe3, { 0x03, 0x01, 0x0f, 0x00, 0x06 },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0x0b, 0x3e, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0xea, 0x8c, 0xdf, 0x28, 0x00, 0xe7, 0x04, 0xe3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
      0x3e, 0x3f, 0x01, 0x00, 0x0f, 0x00, 0x00 },
};

static const ModeRegs mode13 = {
    0x63, { 0x03, 0x01, 0x0f, 0x00, 0x0e },
    { 0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
      0x0e, 0x0f, 0x41, 0x00, 0x0f, 0x00, 0x00 },
};

static const ModeRegs mode04 = {
    0x63, { 0x03, 0x09, 0x03, 0x00, 0x02 },
    { 0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x00, 0xff },
    { 0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
      0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00 },
};

static void set_mode(const ModeRegs *m)
{
    outb(0x3c2, m->misc);
    seq(0, 0x01);
    for (int i = 1; i < 5; i++) {
        seq(i, m->seq[i]);
    }
    seq(0, 0x03);
    crtc(0x11, m->crtc[0x11] & 0x7f);    /* unlock CR0-7 */
    for (int i = 0; i < 25; i++) {
        crtc(i, m->crtc[i]);
    }
    for (int i = 0; i < 9; i++) {
        gc(i, m->gc[i]);
    }
    for (int i = 0; i < 21; i++) {
        attr(i, m->ac[i]);
    }
    attr_on();
}

/* The 64-colour EGA palette in DAC entries 0-63, as a VGA BIOS loads it:
 * bits 0-2 blue/green/red at 2/3, bits 3-5 at 1/3. */
static void load_ega_dac(void)
{
    outb(0x3c8, 0);
    for (int i = 0; i < 64; i++) {
        outb(0x3c9, ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
        outb(0x3c9, ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
        outb(0x3c9, (i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
    }
}

/* 6-bit DAC value to 8 bits, as QEMU shows it (0x2a -> 0xa8, 0x15 -> 0x57). */
static uint32_t c8(uint32_t v) { return (v << 2) | ((v & 1) ? 3 : 0); }
static uint32_t ega_rgb(int i)
{
    uint32_t r = ((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15;
    uint32_t g = ((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15;
    uint32_t bl = (i & 1) * 0x2a + ((i >> 3) & 1) * 0x15;
    return (c8(r) << 16) | (c8(g) << 8) | c8(bl);
}

static DisplaySurface *refresh(int64_t now)
{
    console_refresh(b->con, now);
    DisplaySurface *s = console_surface(b->con);
    ck_assert_ptr_nonnull(s);
    return s;
}

static uint32_t px(DisplaySurface *s, int x, int y)
{
    ck_assert_int_lt(x, s->width);
    ck_assert_int_lt(y, s->height);
    return surface_row(s, y)[x] & 0xffffff;
}

/* ---- ports ------------------------------------------------------------- */

START_TEST(test_general_registers)
{
    outb(0x3c2, 0x67);
    ck_assert_uint_eq(inb(0x3cc), 0x67);
    /* Colour: CRTC at 0x3d4; 0x3b4 does not decode. */
    crtc(0x0e, 0x12);
    ck_assert_uint_eq(crtc_rd(0x0e), 0x12);
    outb(0x3b4, 0x0e);
    ck_assert_uint_eq(inb(0x3b5), 0xff);
    /* Mono: the other way round. */
    outb(0x3c2, 0x66);
    outb(0x3b4, 0x0e);
    outb(0x3b5, 0x34);
    ck_assert_uint_eq(inb(0x3b5), 0x34);
    ck_assert_uint_eq(inb(0x3d5), 0xff);
    outb(0x3d5, 0x99);
    outb(0x3b4, 0x0e);
    ck_assert_uint_eq(inb(0x3b5), 0x34);
    outb(0x3c2, 0x67);

    /* Write masks of sequencer and graphics registers. */
    seq(4, 0xff);
    ck_assert_uint_eq(inb(0x3c5), 0x0e);
    seq(2, 0xff);
    ck_assert_uint_eq(inb(0x3c5), 0x0f);
    gc(5, 0xff);
    ck_assert_uint_eq(inb(0x3cf), 0x7b);
    gc(8, 0x5a);
    ck_assert_uint_eq(inb(0x3cf), 0x5a);
    /* 16-bit index+data writes, as BIOSes do them. */
    outw(0x3ce, 0x0304);
    ck_assert_uint_eq(inb(0x3ce), 4);
    ck_assert_uint_eq(inb(0x3cf), 3);
    outw(0x3d4, 0x550c);
    ck_assert_uint_eq(crtc_rd(0x0c), 0x55);
}
END_TEST

START_TEST(test_crtc_protect)
{
    outb(0x3c2, 0x67);
    crtc(0x11, 0x00);
    crtc(0x01, 0x4f);
    crtc(0x07, 0x00);
    crtc(0x11, 0x80);          /* protect */
    crtc(0x01, 0x27);
    ck_assert_uint_eq(crtc_rd(0x01), 0x4f);
    crtc(0x07, 0xff);          /* only line compare bit 8 gets through */
    ck_assert_uint_eq(crtc_rd(0x07), 0x10);
    crtc(0x09, 0x4f);          /* not protected */
    ck_assert_uint_eq(crtc_rd(0x09), 0x4f);
    crtc(0x11, 0x00);
    crtc(0x01, 0x27);
    ck_assert_uint_eq(crtc_rd(0x01), 0x27);
    /* Registers past CR18 read as 0 and ignore writes. */
    crtc(0x30, 0x77);
    ck_assert_uint_eq(crtc_rd(0x30), 0);
}
END_TEST

START_TEST(test_attribute_flip_flop)
{
    outb(0x3c2, 0x67);
    inb(0x3da);
    outb(0x3c0, 0x05);         /* index */
    outb(0x3c0, 0x3f);         /* data */
    ck_assert_uint_eq(inb(0x3c0), 0x05);
    ck_assert_uint_eq(inb(0x3c1), 0x3f);
    outb(0x3c0, 0x06);         /* index again */
    outb(0x3c0, 0xff);         /* data, masked to 6 bits */
    ck_assert_uint_eq(inb(0x3c1), 0x3f);
    /* Half-way: reading input status 1 puts the flip-flop back to index. */
    outb(0x3c0, 0x10);
    inb(0x3da);
    outb(0x3c0, 0x13 | 0x20);
    ck_assert_uint_eq(inb(0x3c0), 0x33);
    outb(0x3c0, 0xff);
    ck_assert_uint_eq(inb(0x3c1), 0x0f);
    ck_assert_uint_eq(b->s->ar[5], 0x3f);
    /* Flip-flop of the mono port base when mono. */
    outb(0x3c2, 0x66);
    outb(0x3c0, 0x01);         /* index */
    inb(0x3ba);
    outb(0x3c0, 0x02);         /* index again, after the reset */
    outb(0x3c0, 0x2a);
    ck_assert_uint_eq(b->s->ar[2], 0x2a);
}
END_TEST

START_TEST(test_retrace_polling)
{
    outb(0x3c2, 0x67);
    /* The classic wait: until retrace, then until it ends. Both loops
     * finish within a few reads. */
    int n = 0;
    while (!(inb(0x3da) & 8) && n < 1000) {
        n++;
    }
    ck_assert_int_lt(n, 1000);
    n = 0;
    while ((inb(0x3da) & 8) && n < 1000) {
        n++;
    }
    ck_assert_int_lt(n, 1000);
    /* Display-enable bit toggles too (horizontal polling loops). */
    int seen0 = 0, seen1 = 0;
    for (int i = 0; i < 16; i++) {
        if (inb(0x3da) & 1) {
            seen1++;
        } else {
            seen0++;
        }
    }
    ck_assert_int_gt(seen0, 0);
    ck_assert_int_gt(seen1, 0);
}
END_TEST

START_TEST(test_dac)
{
    outb(0x3c8, 5);
    ck_assert_uint_eq(inb(0x3c7) & 3, 0);
    for (int i = 0; i < 6; i++) {
        outb(0x3c9, 0x10 + i);
    }
    ck_assert_uint_eq(inb(0x3c8), 7);
    outb(0x3c7, 5);
    ck_assert_uint_eq(inb(0x3c7) & 3, 3);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(inb(0x3c9), 0x10 + i);
    }
    /* 6-bit DAC: the top bits are not kept visible. */
    outb(0x3c8, 0xff);
    outb(0x3c9, 0xff);
    outb(0x3c9, 0x40);
    outb(0x3c9, 0x3f);
    ck_assert_uint_eq(inb(0x3c8), 0x00);        /* wrapped */
    outb(0x3c7, 0xff);
    ck_assert_uint_eq(inb(0x3c9), 0x3f);
    ck_assert_uint_eq(inb(0x3c9), 0x00);
    ck_assert_uint_eq(inb(0x3c9), 0x3f);
    /* Writing the read index restarts the component sequence. */
    outb(0x3c7, 5);
    inb(0x3c9);
    outb(0x3c7, 6);
    ck_assert_uint_eq(inb(0x3c9), 0x13);
    /* Pixel mask. */
    outb(0x3c6, 0x0f);
    ck_assert_uint_eq(inb(0x3c6), 0x0f);
}
END_TEST

/* ---- text mode --------------------------------------------------------- */

static uint8_t glyph(int c, int line)
{
    /* A synthetic font; bit 0 always set so the ninth-column rule shows. */
    return (uint8_t)(((c * 7 + line * 13) & 0xfe) | 1);
}

static void load_font(void)
{
    /* As a BIOS does: sequential plane 2, 0xa0000, 64 KiB map. */
    seq(2, 0x04);
    seq(4, 0x07);
    gc(4, 0x02);
    gc(5, 0x00);
    gc(6, 0x04);
    for (int c = 0; c < 256; c++) {
        for (int l = 0; l < 32; l++) {
            memb(0xa0000 + c * 32 + l, l < 16 ? glyph(c, l) : 0);
        }
    }
    seq(2, 0x03);
    seq(4, 0x02);
    gc(4, 0x00);
    gc(5, 0x10);
    gc(6, 0x0e);
}

static void put_text(int row, int col, const char *str, uint8_t a)
{
    for (int i = 0; str[i]; i++) {
        uint32_t addr = 0xb8000 + (row * 80 + col + i) * 2;
        memb(addr, (uint8_t)str[i]);
        memb(addr + 1, a);
    }
}

static void text_setup(void)
{
    set_mode(&mode03);
    load_ega_dac();
    load_font();
    for (int i = 0; i < 80 * 25; i++) {
        memb(0xb8000 + i * 2, ' ');
        memb(0xb8000 + i * 2 + 1, 0x07);
    }
}

/* Expected pixel of an 80x25 9-dot text cell, from the VGA rules. */
static uint32_t text_expect(int x, int y, bool blink_on, int cursor_row, int cursor_col)
{
    int col = x / 9, dot = x % 9, row = y / 16, line = y % 16;
    uint8_t c = rmemb(0xb8000 + (row * 80 + col) * 2);
    uint8_t a = rmemb(0xb8000 + (row * 80 + col) * 2 + 1);
    int fgi = a & 15, bgi = (a >> 4) & 7;   /* blink enabled in mode 3 */
    if ((a & 0x80) && !blink_on) {
        fgi = bgi;
    }
    int on;
    if (row == cursor_row && col == cursor_col && (line == 13 || line == 14)) {
        on = 1;
    } else if (dot < 8) {
        on = (glyph(c, line) >> (7 - dot)) & 1;
    } else {
        on = (c >= 0xc0 && c <= 0xdf) ? (glyph(c, line) & 1) : 0;
    }
    return ega_rgb(mode03.ac[on ? fgi : bgi]);
}

START_TEST(test_text_render)
{
    text_setup();
    put_text(0, 0, "Hello", 0x1e);
    put_text(1, 0, "\xc4" "A", 0x07);
    put_text(2, 0, "B", 0x8f);             /* blinking */
    put_text(24, 79, "Z", 0x4a);
    crtc(0x0e, (3 * 80 + 5) >> 8);
    crtc(0x0f, (3 * 80 + 5) & 0xff);
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 720);
    ck_assert_int_eq(s->height, 400);
    for (int y = 0; y < 400; y += 1) {
        for (int x = 0; x < 720; x += (y < 64 ? 1 : 7)) {
            uint32_t e = text_expect(x, y, true, 3, 5);
            if (px(s, x, y) != e) {
                ck_abort_msg("pixel %d,%d is %06x, expected %06x", x, y, px(s, x, y), e);
            }
        }
    }
    /* Known colours (same as QEMU shows them). */
    ck_assert_uint_eq(ega_rgb(mode03.ac[1]), 0x0000a8);
    ck_assert_uint_eq(ega_rgb(mode03.ac[14]), 0xffff57);
    ck_assert_uint_eq(ega_rgb(mode03.ac[6]), 0xa85700);
    /* Ninth column: copies dot 8 for 0xc4, background for 'A'. */
    ck_assert_uint_eq(px(s, 8, 16), 0xa8a8a8);
    ck_assert_uint_eq(px(s, 17, 16), 0x000000);
    /* Cursor: scan lines 13-14 of its cell in the foreground colour. */
    ck_assert_uint_eq(px(s, 5 * 9 + 3, 3 * 16 + 13), 0xa8a8a8);
    ck_assert_uint_eq(px(s, 5 * 9 + 8, 3 * 16 + 14), 0xa8a8a8);
    ck_assert_uint_eq(px(s, 5 * 9 + 3, 3 * 16 + 12), text_expect(5 * 9 + 3, 3 * 16 + 12,
                                                                 true, -1, -1));

    /* Blink phase off: the blinking character disappears; the cursor
     * (half the attribute period) is off too. */
    int64_t t = 1000000000LL * 48 / 70 + 1;
    s = refresh(t);
    for (int y = 32; y < 64; y++) {
        for (int x = 0; x < 720; x++) {
            uint32_t e = text_expect(x, y, false, -1, -1);
            if (px(s, x, y) != e) {
                ck_abort_msg("blink off: pixel %d,%d is %06x, expected %06x", x, y, px(s, x, y), e);
            }
        }
    }
    for (int d = 0; d < 9; d++) {
        ck_assert_uint_eq(px(s, 5 * 9 + d, 3 * 16 + 13),
                          text_expect(5 * 9 + d, 3 * 16 + 13, false, -1, -1));
    }

    /* The text accessor. */
    char buf[4096];
    int cols, rows;
    int n = vga_get_text(b->s, buf, sizeof(buf), &cols, &rows);
    ck_assert_int_eq(cols, 80);
    ck_assert_int_eq(rows, 25);
    ck_assert_int_eq(n, 25 * 81 - 1);
    ck_assert(strncmp(buf, "Hello ", 6) == 0);
    ck_assert_uint_eq((uint8_t)buf[81], 0xc4);
    ck_assert_uint_eq(buf[24 * 81 + 79], 'Z');
    ck_assert_int_eq(vga_get_text_cell(b->s, 79, 24), 'Z' | 0x4a << 8);
    ck_assert_int_eq(vga_get_text_cell(b->s, 80, 0), -1);
    /* Truncated buffer: still NUL-terminated, full length returned. */
    char small[8];
    ck_assert_int_eq(vga_get_text(b->s, small, sizeof(small), NULL, NULL), 25 * 81 - 1);
    ck_assert_str_eq(small, "Hello  ");
    ck_assert_int_eq(console_get_text(b->con, buf, sizeof(buf)), 25 * 81 - 1);
}
END_TEST

START_TEST(test_text_dirty)
{
    text_setup();
    put_text(0, 0, "Idle", 0x07);
    refresh(0);
    int x, y, w, h;
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_eq(w, 720);
    ck_assert_int_eq(h, 400);
    /* Nothing changed: nothing drawn. */
    refresh(1000);
    ck_assert(!console_take_dirty(b->con, &x, &y, &w, &h));
    /* Rewriting the same character: the page is dirty, the cell is not. */
    put_text(5, 5, " ", 0x07);
    refresh(2000);
    ck_assert(!console_take_dirty(b->con, &x, &y, &w, &h));
    /* One new character: exactly its cell. */
    put_text(10, 20, "X", 0x07);
    refresh(3000);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_eq(x, 20 * 9);
    ck_assert_int_eq(y, 10 * 16);
    ck_assert_int_eq(w, 9);
    ck_assert_int_eq(h, 16);
    /* Cursor blink: only the cursor cell. */
    crtc(0x0e, 0);
    crtc(0x0f, 7);
    refresh(4000);
    console_take_dirty(b->con, &x, &y, &w, &h);
    refresh(1000000000LL * 16 / 70 + 1);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_eq(x, 7 * 9);
    ck_assert_int_eq(y, 0);
    ck_assert_int_eq(w, 9);
    ck_assert_int_eq(h, 16);
    /* A palette change redraws everything. */
    outb(0x3c8, 7);
    outb(0x3c9, 0x3f);
    outb(0x3c9, 0);
    outb(0x3c9, 0);
    refresh(1000000000LL * 16 / 70 + 2);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_eq(w * h, 720 * 400);
    DisplaySurface *s = console_surface(b->con);
    int on = 0;
    while (!(glyph('X', 3) & (0x80 >> on))) {
        on++;
    }
    ck_assert_uint_eq(px(s, 20 * 9 + on, 10 * 16 + 3), 0xff0000);
    /* A font change (glyph in plane 2) redraws. */
    seq(2, 0x04); seq(4, 0x07); gc(4, 0x02); gc(5, 0x00); gc(6, 0x04);
    memb(0xa0000 + 'X' * 32 + 3, 0x00);
    seq(2, 0x03); seq(4, 0x02); gc(4, 0x00); gc(5, 0x10); gc(6, 0x0e);
    refresh(1000000000LL * 16 / 70 + 3);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    s = console_surface(b->con);
    for (int d = 0; d < 8; d++) {
        ck_assert_uint_eq(px(s, 20 * 9 + d, 10 * 16 + 3), 0x000000);
    }
    /* The listener sees the same updates. */
}
END_TEST

typedef struct Listener {
    DisplayListener dl;
    int resizes, updates;
    int last_w, last_h;
} Listener;

static void l_resize(void *opaque, DisplaySurface *s)
{
    Listener *l = opaque;
    l->resizes++;
    l->last_w = s->width;
    l->last_h = s->height;
}

static void l_update(void *opaque, int x, int y, int w, int h)
{
    Listener *l = opaque;
    l->updates++;
}

START_TEST(test_console_listener)
{
    Listener l = { .dl = { l_resize, l_update, NULL } };
    l.dl.opaque = &l;
    ck_assert_int_eq(console_add_listener(b->con, &l.dl), 0);
    text_setup();
    refresh(0);
    ck_assert_int_eq(l.resizes, 1);
    ck_assert_int_eq(l.last_w, 720);
    ck_assert_int_gt(l.updates, 0);
    uint64_t gen = console_generation(b->con);
    set_mode(&mode12);
    refresh(0);
    ck_assert_int_eq(l.resizes, 2);
    ck_assert_int_eq(l.last_w, 640);
    ck_assert_int_eq(l.last_h, 480);
    ck_assert_uint_gt(console_generation(b->con), gen);
    console_remove_listener(b->con, &l.dl);
    set_mode(&mode03);
    refresh(0);
    ck_assert_int_eq(l.resizes, 2);
}
END_TEST

START_TEST(test_text_split_and_start)
{
    text_setup();
    put_text(0, 0, "TOP", 0x07);
    put_text(10, 0, "TEN", 0x07);
    /* Start address at row 10: the screen scrolls. */
    crtc(0x0c, (10 * 80) >> 8);
    crtc(0x0d, (10 * 80) & 0xff);
    DisplaySurface *s = refresh(0);
    char buf[4096];
    vga_get_text(b->s, buf, sizeof(buf), NULL, NULL);
    ck_assert(strncmp(buf, "TEN", 3) == 0);
    /* Split after scan line 199: the lower part starts at address 0. */
    crtc(0x18, 199);
    crtc(0x07, mode03.crtc[7] & ~0x10);
    crtc(0x09, mode03.crtc[9] & ~0x40);
    s = refresh(0);
    uint32_t e = text_expect(1, 3, true, -1, -1);   /* 'T' of TOP, line 3 */
    ck_assert_uint_eq(px(s, 1, 200 + 3), e);
    int rows;
    vga_get_text(b->s, buf, sizeof(buf), NULL, &rows);
    ck_assert(strncmp(buf, "TEN", 3) == 0);
    /* 12 full rows and a half one above the split, rows below it. */
    ck_assert_int_gt(rows, 25);
    ck_assert(strstr(buf, "\nTOP") != NULL);
}
END_TEST

/* ---- planar modes ------------------------------------------------------ */

START_TEST(test_write_modes)
{
    set_mode(&mode12);
    /* Write mode 0, plain: map mask picks planes. */
    seq(2, 0x05);
    memb(0xa0000, 0xa5);
    ck_assert_uint_eq(plane_byte(0, 0), 0xa5);
    ck_assert_uint_eq(plane_byte(1, 0), 0x00);
    ck_assert_uint_eq(plane_byte(2, 0), 0xa5);
    ck_assert_uint_eq(plane_byte(3, 0), 0x00);
    seq(2, 0x0f);
    /* Set/reset on planes 1 and 3 (enable 0x0a, value 0x02). */
    gc(0, 0x02);
    gc(1, 0x0a);
    memb(0xa0001, 0x3c);
    ck_assert_uint_eq(plane_byte(0, 1), 0x3c);
    ck_assert_uint_eq(plane_byte(1, 1), 0xff);
    ck_assert_uint_eq(plane_byte(2, 1), 0x3c);
    ck_assert_uint_eq(plane_byte(3, 1), 0x00);
    gc(1, 0x00);
    /* Rotate by 4 and bit mask: the latches fill masked bits. */
    rmemb(0xa0000);                      /* latches = a5 00 a5 00 */
    gc(3, 0x04);
    gc(8, 0xf0);
    memb(0xa0002, 0x0f);                 /* rotated: f0 */
    ck_assert_uint_eq(plane_byte(0, 2), 0xf5);
    ck_assert_uint_eq(plane_byte(1, 2), 0xf0);
    gc(3, 0x00);
    gc(8, 0xff);
    /* Logical operations with the latches: AND, OR, XOR. */
    rmemb(0xa0000);
    gc(3, 0x08);
    memb(0xa0003, 0x0f);
    ck_assert_uint_eq(plane_byte(0, 3), 0x05);
    ck_assert_uint_eq(plane_byte(1, 3), 0x00);
    gc(3, 0x10);
    memb(0xa0004, 0x0f);
    ck_assert_uint_eq(plane_byte(0, 4), 0xaf);
    ck_assert_uint_eq(plane_byte(1, 4), 0x0f);
    gc(3, 0x18);
    memb(0xa0005, 0xff);
    ck_assert_uint_eq(plane_byte(0, 5), 0x5a);
    ck_assert_uint_eq(plane_byte(1, 5), 0xff);
    gc(3, 0x00);
    /* Write mode 1: latches copied (a 4-plane move). */
    rmemb(0xa0001);                      /* 3c ff 3c 00 */
    gc(5, 0x01);
    memb(0xa0010, 0x00);
    ck_assert_uint_eq(plane_byte(0, 0x10), 0x3c);
    ck_assert_uint_eq(plane_byte(1, 0x10), 0xff);
    ck_assert_uint_eq(plane_byte(2, 0x10), 0x3c);
    ck_assert_uint_eq(plane_byte(3, 0x10), 0x00);
    /* Write mode 2: colour 0x9 into the bit-mask bits. */
    gc(5, 0x02);
    rmemb(0xa0020);                      /* latches 0 */
    gc(8, 0x81);
    memb(0xa0020, 0x09);
    ck_assert_uint_eq(plane_byte(0, 0x20), 0x81);
    ck_assert_uint_eq(plane_byte(1, 0x20), 0x00);
    ck_assert_uint_eq(plane_byte(2, 0x20), 0x00);
    ck_assert_uint_eq(plane_byte(3, 0x20), 0x81);
    /* Write mode 3: set/reset colour, CPU data ANDed into the mask. */
    gc(5, 0x03);
    gc(8, 0xf0);
    gc(0, 0x06);
    rmemb(0xa0021);                      /* latches 0 */
    memb(0xa0021, 0x3c);                 /* mask f0 & 3c = 30 */
    ck_assert_uint_eq(plane_byte(0, 0x21), 0x00);
    ck_assert_uint_eq(plane_byte(1, 0x21), 0x30);
    ck_assert_uint_eq(plane_byte(2, 0x21), 0x30);
    ck_assert_uint_eq(plane_byte(3, 0x21), 0x00);
    gc(5, 0x00);
    gc(8, 0xff);
    gc(0, 0x00);
}
END_TEST

START_TEST(test_read_modes)
{
    set_mode(&mode12);
    seq(2, 0x01); memb(0xa0100, 0x11);
    seq(2, 0x02); memb(0xa0100, 0x22);
    seq(2, 0x04); memb(0xa0100, 0x44);
    seq(2, 0x08); memb(0xa0100, 0x88);
    seq(2, 0x0f);
    for (int p = 0; p < 4; p++) {
        gc(4, p);
        ck_assert_uint_eq(rmemb(0xa0100), 0x11u << p);
    }
    /* Read mode 1: bits whose colour equals the compare colour. */
    seq(2, 0x0f);
    gc(5, 0x02);                          /* write mode 2 to paint colours */
    /* Load the latches first: unmasked bits come from them. */
    gc(8, 0xf0); rmemb(0xa0200); memb(0xa0200, 0x05);
    gc(8, 0x0f); rmemb(0xa0200); memb(0xa0200, 0x0c);
    gc(8, 0xff);
    gc(5, 0x08);                          /* read mode 1 */
    gc(2, 0x05);
    gc(7, 0x0f);
    ck_assert_uint_eq(rmemb(0xa0200), 0xf0);
    gc(2, 0x0c);
    ck_assert_uint_eq(rmemb(0xa0200), 0x0f);
    /* Don't care on plane 0 and 3: 0x05 vs 0x0c differ only in them. */
    gc(7, 0x06);
    gc(2, 0x04);
    ck_assert_uint_eq(rmemb(0xa0200), 0xff);
    gc(5, 0x00);
    gc(7, 0x0f);
}
END_TEST

START_TEST(test_memory_map_select)
{
    set_mode(&mode12);       /* 64 KiB at a0000 */
    memb(0xb8000, 0x12);
    ck_assert_uint_eq(rmemb(0xb8000), 0xff);
    gc(6, 0x0d);             /* b8000, 32 KiB */
    seq(2, 0x01);
    memb(0xb8004, 0x34);
    ck_assert_uint_eq(plane_byte(0, 4), 0x34);
    ck_assert_uint_eq(rmemb(0xa0004), 0xff);
    gc(6, 0x09);             /* b0000 */
    memb(0xb0005, 0x56);
    ck_assert_uint_eq(plane_byte(0, 5), 0x56);
    gc(6, 0x01);             /* 128 KiB: both halves, wrapping the 64 KiB plane */
    memb(0xb0006, 0x78);
    ck_assert_uint_eq(plane_byte(0, 6), 0x78);
    seq(2, 0x0f);
}
END_TEST

START_TEST(test_odd_even)
{
    text_setup();
    put_text(0, 0, "AB", 0x1e);
    /* Even bytes in plane 0, odd ones in plane 1, same plane address. */
    ck_assert_uint_eq(plane_byte(0, 0), 'A');
    ck_assert_uint_eq(plane_byte(1, 0), 0x1e);
    ck_assert_uint_eq(plane_byte(0, 2), 'B');
    ck_assert_uint_eq(plane_byte(1, 2), 0x1e);
    ck_assert_uint_eq(plane_byte(0, 1), 0);
    ck_assert_uint_eq(rmemb(0xb8002), 'B');
    ck_assert_uint_eq(rmemb(0xb8003), 0x1e);
    /* Read map select bit 1 reaches planes 2/3 in odd/even reads. */
    gc(4, 0x02);
    ck_assert_uint_eq(rmemb(0xb8000), glyph(0, 0));
    gc(4, 0x00);
}
END_TEST

static void mode12_pixel(int x, int y, int colour)
{
    gc(5, 0x02);
    gc(8, 0x80 >> (x & 7));
    uint32_t a = 0xa0000 + y * 80 + x / 8;
    rmemb(a);
    memb(a, colour);
    gc(8, 0xff);
    gc(5, 0x00);
}

START_TEST(test_mode12_render)
{
    set_mode(&mode12);
    load_ega_dac();
    for (int c = 0; c < 16; c++) {
        mode12_pixel(c * 3, 0, c);
        mode12_pixel(639 - c, 479, c);
    }
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 640);
    ck_assert_int_eq(s->height, 480);
    for (int c = 0; c < 16; c++) {
        ck_assert_uint_eq(px(s, c * 3, 0), ega_rgb(mode12.ac[c]));
        ck_assert_uint_eq(px(s, 639 - c, 479), ega_rgb(mode12.ac[c]));
    }
    ck_assert_uint_eq(px(s, 1, 0), 0);
    /* Colour plane enable masks planes. */
    attr(0x12, 0x03);
    attr_on();
    s = refresh(0);
    ck_assert_uint_eq(px(s, 15 * 3, 0), ega_rgb(mode12.ac[3]));
    attr(0x12, 0x0f);
    attr_on();
    /* Pixel panning by 3. */
    attr(0x13, 3);
    attr_on();
    s = refresh(0);
    ck_assert_uint_eq(px(s, 15 * 3 - 3, 0), ega_rgb(mode12.ac[15]));
    attr(0x13, 0);
    attr_on();
    /* Incremental: one pixel changes, one line redrawn. */
    refresh(0);
    int x, y, w, h;
    console_take_dirty(b->con, &x, &y, &w, &h);
    mode12_pixel(100, 200, 9);
    s = refresh(0);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_le(y, 200);
    ck_assert_int_gt(y + h, 200);
    ck_assert_int_lt(h, 480);
    ck_assert_uint_eq(px(s, 100, 200), ega_rgb(mode12.ac[9]));
    /* Screen off (SR01 bit 5) and palette address source blank it. */
    seq(1, 0x21);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 100, 200), 0);
    seq(1, 0x01);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 100, 200), ega_rgb(mode12.ac[9]));
    inb(0x3da);
    outb(0x3c0, 0x00);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 100, 200), 0);
}
END_TEST

START_TEST(test_mode13_render)
{
    set_mode(&mode13);
    outb(0x3c8, 0);
    for (int i = 0; i < 256; i++) {
        outb(0x3c9, i & 0x3f);
        outb(0x3c9, (i >> 2) & 0x3f);
        outb(0x3c9, 0x3f - (i & 0x3f));
    }
    for (int i = 0; i < 64000; i++) {
        memb(0xa0000 + i, (uint8_t)(i * 3 + i / 320));
    }
    /* Chain-4: pixel x lives in plane x & 3. */
    ck_assert_uint_eq(plane_byte(1, 4), (uint8_t)(5 * 3));
    ck_assert_uint_eq(rmemb(0xa0005), (uint8_t)(5 * 3));
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 640);
    ck_assert_int_eq(s->height, 400);
    for (int y = 0; y < 200; y += 7) {
        for (int x = 0; x < 320; x += 3) {
            int i = y * 320 + x;
            uint8_t v = (uint8_t)(i * 3 + i / 320);
            uint32_t e = (c8(v & 0x3f) << 16) | (c8((v >> 2) & 0x3f) << 8) | c8(0x3f - (v & 0x3f));
            ck_assert_uint_eq(px(s, 2 * x, 2 * y), e);
            ck_assert_uint_eq(px(s, 2 * x + 1, 2 * y + 1), e);
        }
    }
    /* DAC pixel mask. */
    outb(0x3c6, 0x00);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 2 * 7, 0), (c8(0) << 16) | (c8(0) << 8) | c8(0x3f));
    outb(0x3c6, 0xff);
}
END_TEST

START_TEST(test_mode04_render)
{
    set_mode(&mode04);
    load_ega_dac();
    /* Even CGA lines at b8000, odd lines at ba000. */
    memb(0xb8000, 0x1b);          /* line 0: colours 0 1 2 3 */
    memb(0xba000, 0xe4);          /* line 1: colours 3 2 1 0 */
    memb(0xb8001, 0xff);          /* line 0, pixels 4-7: colour 3 */
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 640);
    ck_assert_int_eq(s->height, 400);
    uint32_t cga[4];
    for (int i = 0; i < 4; i++) {
        cga[i] = ega_rgb(mode04.ac[i]);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(px(s, 2 * i, 0), cga[i]);
        ck_assert_uint_eq(px(s, 2 * i + 1, 1), cga[i]);       /* double scan */
        ck_assert_uint_eq(px(s, 2 * i, 2), cga[3 - i]);
        ck_assert_uint_eq(px(s, 8 + 2 * i, 0), cga[3]);
    }
}
END_TEST

/* ---- VBE --------------------------------------------------------------- */

START_TEST(test_vbe_registers)
{
    /* Detection as the VGA BIOS and Linux do it. */
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_ID), VBE_DISPI_ID5);
    vbe(VBE_DISPI_INDEX_ID, VBE_DISPI_ID0);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_ID), VBE_DISPI_ID0);
    vbe(VBE_DISPI_INDEX_ID, 0x1234);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_ID), VBE_DISPI_ID0);
    vbe(VBE_DISPI_INDEX_ID, VBE_DISPI_ID5);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
    /* Capabilities. */
    vbe(VBE_DISPI_INDEX_XRES, 640);
    vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_XRES), VBE_DISPI_MAX_XRES);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_YRES), VBE_DISPI_MAX_YRES);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_BPP), 32);
    vbe(VBE_DISPI_INDEX_ENABLE, 0);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_XRES), 640);
    /* 0x1d0 is a data port too. */
    outw(0x1ce, VBE_DISPI_INDEX_YRES);
    outw(0x1d0, 480);
    ck_assert_uint_eq(inw(0x1cf), 480);
    ck_assert_uint_eq(inw(0x1d0), 480);
    /* Unknown index. */
    vbe(0x20, 5);
    ck_assert_uint_eq(vbe_rd(0x20), 0);
    /* Enabling resets the virtual width and offsets. */
    vbe(VBE_DISPI_INDEX_BPP, 32);
    vbe(VBE_DISPI_INDEX_VIRT_WIDTH, 2000);
    vbe(VBE_DISPI_INDEX_X_OFFSET, 10);
    vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_VIRT_WIDTH), 640);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_X_OFFSET), 0);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_VIRT_HEIGHT), 16 * MiB / (640 * 4));
    vbe(VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_VIRT_HEIGHT), 16 * MiB / (1024 * 4));
    /* Read-only registers. */
    vbe(VBE_DISPI_INDEX_VIDEO_MEMORY_64K, 1);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
}
END_TEST

static void vbe_set(int w, int h, int bpp, uint16_t flags)
{
    vbe(VBE_DISPI_INDEX_ENABLE, 0);
    vbe(VBE_DISPI_INDEX_XRES, w);
    vbe(VBE_DISPI_INDEX_YRES, h);
    vbe(VBE_DISPI_INDEX_BPP, bpp);
    vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | flags);
    attr_on();
}

START_TEST(test_vbe_lfb_32)
{
    memset(vga_vram_ptr(b->s), 0x77, 4096);
    /* The sequence Linux's bochs-drm uses. */
    vbe_set(1920, 1080, 32, VBE_DISPI_LFB_ENABLED);
    ck_assert_uint_eq(vga_vram_ptr(b->s)[0], 0);       /* cleared */
    for (int x = 0; x < 1920; x += 7) {
        address_space_stl(b->mem_as, LFB_BASE + x * 4, 0xff000000u | (x * 0x010203u));
        address_space_stl(b->mem_as, LFB_BASE + (1079 * 1920 + x) * 4, 0x00abcdefu);
    }
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 1920);
    ck_assert_int_eq(s->height, 1080);
    for (int x = 0; x < 1920; x += 7) {
        ck_assert_uint_eq(px(s, x, 0), (x * 0x010203u) & 0xffffff);
        ck_assert_uint_eq(px(s, x, 1079), 0xabcdef);
    }
    /* Only changed lines are redrawn. */
    int x, y, w, h;
    console_take_dirty(b->con, &x, &y, &w, &h);
    refresh(0);
    ck_assert(!console_take_dirty(b->con, &x, &y, &w, &h));
    address_space_stl(b->mem_as, LFB_BASE + (500 * 1920 + 3) * 4, 0x123456);
    s = refresh(0);
    ck_assert(console_take_dirty(b->con, &x, &y, &w, &h));
    ck_assert_int_le(y, 500);
    ck_assert_int_gt(y + h, 500);
    ck_assert_int_le(h, 3);
    ck_assert_uint_eq(px(s, 3, 500), 0x123456);
    /* Panning with the Y offset (page flipping). */
    address_space_stl(b->mem_as, LFB_BASE + (1080 * 1920 + 5) * 4, 0x0000ff);
    vbe(VBE_DISPI_INDEX_Y_OFFSET, 1080);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 5, 0), 0x0000ff);
    vbe(VBE_DISPI_INDEX_Y_OFFSET, 0);
    vbe(VBE_DISPI_INDEX_X_OFFSET, 3);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 0, 500), 0x123456);
}
END_TEST

START_TEST(test_vbe_depths)
{
    uint8_t *v = vga_vram_ptr(b->s);
    /* 8 bpp through the DAC. */
    vbe_set(640, 480, 8, VBE_DISPI_LFB_ENABLED);
    outb(0x3c8, 0x42);
    outb(0x3c9, 0x3f); outb(0x3c9, 0x15); outb(0x3c9, 0x00);
    address_space_stb(b->mem_as, LFB_BASE + 641, 0x42);
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 640);
    ck_assert_uint_eq(px(s, 1, 1), 0xff5700);
    /* 8-bit DAC: palette values used as they are. */
    vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED |
        VBE_DISPI_8BIT_DAC | VBE_DISPI_NOCLEARMEM);
    outb(0x3c8, 0x42);
    outb(0x3c9, 0x80); outb(0x3c9, 0x81); outb(0x3c9, 0x82);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 1, 1), 0x808182);
    outb(0x3c7, 0x42);
    ck_assert_uint_eq(inb(0x3c9), 0x80);
    vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
    /* 15 bpp */
    vbe_set(320, 200, 15, 0);
    stw_le(v + 2 * 5, 0x7c1f);
    memory_region_set_dirty(vga_vram_region(b->s), 0, 64);
    s = refresh(0);
    ck_assert_int_eq(s->width, 320);
    ck_assert_uint_eq(px(s, 5, 0), 0xf800f8);
    /* 16 bpp */
    vbe_set(320, 200, 16, 0);
    stw_le(v + 2 * 6, 0x07e0);
    memory_region_set_dirty(vga_vram_region(b->s), 0, 64);
    s = refresh(0);
    ck_assert_uint_eq(px(s, 6, 0), 0x00fc00);
    /* 24 bpp: B, G, R in memory. */
    vbe_set(800, 600, 24, 0);
    v[3 * 801 + 0] = 0x11;
    v[3 * 801 + 1] = 0x22;
    v[3 * 801 + 2] = 0x33;
    memory_region_set_dirty(vga_vram_region(b->s), 0, 4096);
    s = refresh(0);
    ck_assert_int_eq(s->width, 800);
    ck_assert_uint_eq(px(s, 1, 1), 0x332211);
    /* 4 bpp: planar, through the attribute palette. */
    load_ega_dac();
    for (int i = 0; i < 16; i++) {
        attr(i, mode12.ac[i]);
    }
    attr(0x12, 0x0f);
    vbe_set(800, 600, 4, 0);
    seq(2, 0x0f);
    gc(5, 0x02);
    gc(8, 0x80);
    rmemb(0xa0000 + 100 * 100 + 1);
    memb(0xa0000 + 100 * 100 + 1, 0x0c);    /* x = 8, y = 100 */
    gc(8, 0xff);
    gc(5, 0x00);
    s = refresh(0);
    ck_assert_int_eq(s->width, 800);
    ck_assert_uint_eq(px(s, 8, 100), ega_rgb(mode12.ac[12]));
    ck_assert_uint_eq(px(s, 9, 100), ega_rgb(mode12.ac[0]));
}
END_TEST

START_TEST(test_vbe_banked)
{
    vbe_set(1024, 768, 8, 0);
    /* Byte 0x12345 of the frame through bank 1 of the 0xa0000 window. */
    vbe(VBE_DISPI_INDEX_BANK, 1);
    memb(0xa0000 + 0x2345, 0x9a);
    ck_assert_uint_eq(vga_vram_ptr(b->s)[0x12345], 0x9a);
    ck_assert_uint_eq(rmemb(0xa0000 + 0x2345), 0x9a);
    ck_assert_uint_eq(address_space_ldub(b->mem_as, LFB_BASE + 0x12345), 0x9a);
    /* Past 64 KiB of window: not decoded. */
    ck_assert_uint_eq(rmemb(0xb0000), 0xff);
    /* Banks wrap inside VRAM. */
    vbe(VBE_DISPI_INDEX_BANK, 256 + 2);
    memb(0xa0000, 0x5c);
    ck_assert_uint_eq(vga_vram_ptr(b->s)[0x20000], 0x5c);
    /* The picture sees bank writes. */
    outb(0x3c8, 0x5c);
    outb(0x3c9, 0x3f); outb(0x3c9, 0x3f); outb(0x3c9, 0x3f);
    DisplaySurface *s = refresh(0);
    ck_assert_uint_eq(px(s, 0x20000 % 1024, 0x20000 / 1024), 0xffffff);
    /* Disabling returns to VGA and resets the bank. */
    vbe(VBE_DISPI_INDEX_ENABLE, 0);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_BANK), 0);
}
END_TEST

START_TEST(test_vbe_hostile)
{
    /* Absurd resolutions, depths and offsets never reach outside VRAM
     * and never make the host allocate without bound. */
    static const uint16_t vals[] = { 0, 1, 7, 8, 9, 15, 16, 24, 31, 32, 33, 640, 1024, 4095,
                                     8192, 8193, 0x7fff, 0x8000, 0xfffe, 0xffff };
    int n = ARRAY_SIZE(vals);
    for (int i = 0; i < 400; i++) {
        vbe(VBE_DISPI_INDEX_ENABLE, 0);
        vbe(VBE_DISPI_INDEX_XRES, vals[(i * 7) % n]);
        vbe(VBE_DISPI_INDEX_YRES, vals[(i * 11 + 3) % n]);
        vbe(VBE_DISPI_INDEX_BPP, vals[(i * 13 + 5) % n]);
        vbe(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM |
            ((i & 1) ? VBE_DISPI_8BIT_DAC : 0));
        vbe(VBE_DISPI_INDEX_VIRT_WIDTH, vals[(i * 17 + 1) % n]);
        vbe(VBE_DISPI_INDEX_X_OFFSET, vals[(i * 19 + 2) % n]);
        vbe(VBE_DISPI_INDEX_Y_OFFSET, vals[(i * 23 + 4) % n]);
        vbe(VBE_DISPI_INDEX_BANK, vals[(i * 29 + 6) % n]);
        memb(0xa0000 + (i * 4099) % 0x10000, (uint8_t)i);
        rmemb(0xa0000 + (i * 4093) % 0x20000);
        attr_on();
        console_refresh(b->con, i * 1000000LL);
        DisplaySurface *s = console_surface(b->con);
        if (s) {
            ck_assert_int_le((int64_t)s->width * s->height, SURFACE_MAX_PIXELS);
        }
    }
    /* A sane mode still works after all that. */
    vbe_set(1920, 1080, 32, VBE_DISPI_LFB_ENABLED);
    DisplaySurface *s = refresh(0);
    ck_assert_int_eq(s->width, 1920);
    ck_assert_int_eq(s->height, 1080);
    /* Height limited by VRAM: 8192 x 8192 x 32 does not fit 16 MiB. */
    vbe_set(8192, 8192, 32, VBE_DISPI_NOCLEARMEM);
    s = refresh(0);
    ck_assert_int_eq(s->width, 8192);
    ck_assert_int_eq(s->height, 16 * MiB / (8192 * 4));
}
END_TEST

START_TEST(test_vga_hostile_registers)
{
    /* Every register with every pattern, the window poked in between,
     * rendered after each step. */
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245 + 12345;
        uint16_t port = 0x3b0 + (x >> 8) % 0x30;
        outb(port, x >> 16);
        if ((i & 15) == 0) {
            crtc(x % 0x19, x >> 24);
            seq(x % 5, x >> 20);
            gc(x % 9, x >> 12);
            attr(x % 0x15, x >> 18);
            attr_on();
        }
        memb(0xa0000 + (x >> 7) % 0x20000, x >> 3);
        rmemb(0xa0000 + (x >> 9) % 0x20000);
        if ((i & 31) == 0) {
            console_refresh(b->con, i * 10000000LL);
            char buf[64];
            vga_get_text(b->s, buf, sizeof(buf), NULL, NULL);
        }
    }
}
END_TEST

/* ---- PCI --------------------------------------------------------------- */

START_TEST(test_pci_config_and_mmio)
{
    PCIBus *bus = b->bus;
    int devfn = PCI_DEVFN(2, 0);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_VENDOR_ID, 2), 0x1234);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_DEVICE_ID, 2), 0x1111);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_CLASS_DEVICE, 2), 0x0300);
    /* BAR0: 16 MiB prefetchable memory. */
    pci_bus_config_write(bus, devfn, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_BASE_ADDRESS_0, 4), 0xff000008);
    pci_bus_config_write(bus, devfn, PCI_BASE_ADDRESS_0, LFB_BASE, 4);
    /* BAR2: 4 KiB MMIO. */
    pci_bus_config_write(bus, devfn, PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_BASE_ADDRESS_0 + 8, 4), 0xfffff000);
    pci_bus_config_write(bus, devfn, PCI_BASE_ADDRESS_0 + 8, MMIO_BASE, 4);
    /* No ROM without a BIOS image. */
    pci_bus_config_write(bus, devfn, PCI_ROM_ADDRESS, 0xffffffff, 4);
    ck_assert_uint_eq(pci_bus_config_read(bus, devfn, PCI_ROM_ADDRESS, 4), 0);

    /* VBE registers as 16-bit words at 0x500. */
    address_space_stw(b->mem_as, MMIO_BASE + 0x500 + 2 * VBE_DISPI_INDEX_XRES, 800);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_XRES), 800);
    ck_assert_uint_eq(address_space_lduw(b->mem_as, MMIO_BASE + 0x500), VBE_DISPI_ID5);
    ck_assert_uint_eq(address_space_lduw(b->mem_as, MMIO_BASE + 0x500 + 2 * 0xa), 256);
    address_space_stb(b->mem_as, MMIO_BASE + 0x500 + 2 * VBE_DISPI_INDEX_XRES + 1, 0x04);
    ck_assert_uint_eq(vbe_rd(VBE_DISPI_INDEX_XRES), 0x0420);
    /* VGA ports at 0x400 (0x3c0 + n); 16-bit index/data. */
    address_space_stb(b->mem_as, MMIO_BASE + 0x400 + 2, 0x67);
    ck_assert_uint_eq(inb(0x3cc), 0x67);
    address_space_stw(b->mem_as, MMIO_BASE + 0x400 + 0x14, 0x4a0e);
    ck_assert_uint_eq(crtc_rd(0x0e), 0x4a);
    ck_assert_uint_eq(address_space_ldub(b->mem_as, MMIO_BASE + 0x400 + 0x15), 0x4a);
    /* The extended registers: size and little-endian framebuffer. */
    ck_assert_uint_eq(address_space_ldl(b->mem_as, MMIO_BASE + 0x600), 8);
    ck_assert_uint_eq(address_space_ldl(b->mem_as, MMIO_BASE + 0x604), 0x1e1e1e1e);
    address_space_stl(b->mem_as, MMIO_BASE + 0x604, 0xbebebebe);
    ck_assert_uint_eq(address_space_ldl(b->mem_as, MMIO_BASE + 0x604), 0x1e1e1e1e);
    ck_assert_uint_eq(address_space_ldl(b->mem_as, MMIO_BASE + 0x700), 0xffffffff);
    /* LFB through BAR0. */
    address_space_stl(b->mem_as, LFB_BASE + 0x100, 0xdeadbeef);
    ck_assert_uint_eq(ldl_le(vga_vram_ptr(b->s) + 0x100), 0xdeadbeef);
}
END_TEST

START_TEST(test_pci_rom)
{
    teardown();
    uint8_t rom[3000];
    for (size_t i = 0; i < sizeof(rom); i++) {
        rom[i] = (uint8_t)(i * 31);
    }
    rom[0] = 0x55;
    rom[1] = 0xaa;
    board_setup(rom, sizeof(rom));
    int devfn = PCI_DEVFN(2, 0);
    pci_bus_config_write(b->bus, devfn, PCI_ROM_ADDRESS, 0xfffff800, 4);
    ck_assert_uint_eq(pci_bus_config_read(b->bus, devfn, PCI_ROM_ADDRESS, 4), 0xfffff000);
    pci_bus_config_write(b->bus, devfn, PCI_ROM_ADDRESS, ROM_BASE | PCI_ROM_ADDRESS_ENABLE, 4);
    ck_assert_uint_eq(address_space_lduw(b->mem_as, ROM_BASE), 0xaa55);
    ck_assert_uint_eq(address_space_ldub(b->mem_as, ROM_BASE + 2999), (uint8_t)(2999 * 31));
    /* Read-only. */
    address_space_stb(b->mem_as, ROM_BASE + 5, 0);
    ck_assert_uint_eq(address_space_ldub(b->mem_as, ROM_BASE + 5), (uint8_t)(5 * 31));
    pci_bus_config_write(b->bus, devfn, PCI_ROM_ADDRESS, ROM_BASE, 4);
    ck_assert_uint_eq(address_space_ldub(b->mem_as, ROM_BASE), 0xff);
}
END_TEST

START_TEST(test_bad_config)
{
    Error *err = NULL;
    VGAState s;
    ck_assert_int_lt(vga_init(&s, NULL, NULL, 3 * MiB, &err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert(strstr(error_get_pretty(err), "power of two") != NULL);
    error_free(err);
    err = NULL;
    /* Same slot twice. */
    VGAPCIState *d = vga_pci_new(b->bus, PCI_DEVFN(2, 0), NULL, NULL, 0, NULL, 0, &err);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(err);
    error_free(err);
    /* An ISA-style VGA on its own (no PCI), default VRAM size. */
    ck_assert_int_eq(vga_init(&s, NULL, NULL, 0, NULL), 0);
    ck_assert_uint_eq(vga_vram_size(&s), 16 * MiB);
    vga_cleanup(&s);
}
END_TEST

/* ---- screendump -------------------------------------------------------- */

static DisplaySurface *test_surface(void)
{
    DisplaySurface *s = surface_new(37, 23);
    for (int y = 0; y < 23; y++) {
        for (int x = 0; x < 37; x++) {
            surface_row(s, y)[x] = 0xff000000u | (x * 7) << 16 | (y * 11) << 8 | ((x * y) & 0xff);
        }
    }
    return s;
}

START_TEST(test_screendump_ppm)
{
    DisplaySurface *s = test_surface();
    uint8_t *data;
    size_t len;
    ck_assert_int_eq(screendump_encode(s, SCREENDUMP_PPM, &data, &len, NULL), 0);
    const char *hdr = "P6\n37 23\n255\n";
    ck_assert_uint_eq(len, strlen(hdr) + 37 * 23 * 3);
    ck_assert(memcmp(data, hdr, strlen(hdr)) == 0);
    const uint8_t *p = data + strlen(hdr) + (5 * 37 + 3) * 3;
    ck_assert_uint_eq(p[0], 21);
    ck_assert_uint_eq(p[1], 55);
    ck_assert_uint_eq(p[2], 15);
    free(data);
    /* To a file, and errors. */
    char path[] = "/tmp/minipc-test-vga-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(screendump_save(s, path, SCREENDUMP_PPM, NULL), 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    ck_assert_int_eq(ftell(f), (long)(strlen(hdr) + 37 * 23 * 3));
    fclose(f);
    unlink(path);
    Error *err = NULL;
    ck_assert_int_lt(screendump_save(s, "/nonexistent-dir/x.ppm", SCREENDUMP_PPM, &err), 0);
    ck_assert(strstr(error_get_pretty(err), "/nonexistent-dir/x.ppm") != NULL);
    error_free(err);
    ScreendumpFormat fmt;
    ck_assert_int_eq(screendump_parse_format("png", &fmt, NULL), 0);
    ck_assert_int_eq(fmt, SCREENDUMP_PNG);
    err = NULL;
    ck_assert_int_lt(screendump_parse_format("bmp", &fmt, &err), 0);
    error_free(err);
    surface_free(s);
}
END_TEST

/* Decodes our PNG with zlib and checks every chunk CRC. */
static uint8_t *png_decode(const uint8_t *d, size_t len, int *w, int *h)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    ck_assert(len > 8 && memcmp(d, sig, 8) == 0);
    size_t pos = 8;
    uint8_t *z = NULL;
    size_t zlen = 0;
    bool end = false;
    while (pos + 12 <= len) {
        uint32_t n = ldl_be(d + pos);
        ck_assert(pos + 12 + n <= len);
        const uint8_t *type = d + pos + 4;
        uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), type, 4 + n);
        ck_assert_uint_eq(crc, ldl_be(d + pos + 8 + n));
        if (!memcmp(type, "IHDR", 4)) {
            ck_assert_uint_eq(n, 13);
            *w = ldl_be(type + 4);
            *h = ldl_be(type + 8);
            ck_assert_uint_eq(type[12], 8);
            ck_assert_uint_eq(type[13], 2);
            ck_assert_uint_eq(type[16], 0);
        } else if (!memcmp(type, "IDAT", 4)) {
            z = xrealloc(z, zlen + n);
            memcpy(z + zlen, type + 4, n);
            zlen += n;
        } else if (!memcmp(type, "IEND", 4)) {
            end = true;
        }
        pos += 12 + n;
    }
    ck_assert(end);
    ck_assert_uint_eq(pos, len);
    uLongf rawlen = (uLongf)(*h) * (*w * 3 + 1);
    uint8_t *raw = xmalloc(rawlen);
    ck_assert_int_eq(uncompress(raw, &rawlen, z, zlen), Z_OK);
    ck_assert_uint_eq(rawlen, (uLongf)(*h) * (*w * 3 + 1));
    free(z);
    return raw;
}

START_TEST(test_screendump_png)
{
    DisplaySurface *s = test_surface();
    uint8_t *data;
    size_t len;
    ck_assert_int_eq(screendump_encode(s, SCREENDUMP_PNG, &data, &len, NULL), 0);
    int w, h;
    uint8_t *raw = png_decode(data, len, &w, &h);
    ck_assert_int_eq(w, 37);
    ck_assert_int_eq(h, 23);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = raw + y * (w * 3 + 1);
        ck_assert_uint_eq(row[0], 0);
        for (int x = 0; x < w; x++) {
            uint32_t p = surface_row(s, y)[x];
            ck_assert_uint_eq(row[1 + 3 * x], (p >> 16) & 0xff);
            ck_assert_uint_eq(row[2 + 3 * x], (p >> 8) & 0xff);
            ck_assert_uint_eq(row[3 + 3 * x], p & 0xff);
        }
    }
    free(raw);
    free(data);
    surface_free(s);
}
END_TEST

START_TEST(test_screendump_vbe_png)
{
    /* A large picture spans several IDAT chunks. */
    vbe_set(1024, 768, 32, VBE_DISPI_LFB_ENABLED);
    uint8_t *v = vga_vram_ptr(b->s);
    uint32_t x = 1;
    for (int i = 0; i < 1024 * 768; i++) {
        x = x * 1664525 + 1013904223;
        stl_le(v + 4 * i, x >> 8);
    }
    memory_region_set_dirty(vga_vram_region(b->s), 0, 4 * 1024 * 768);
    char path[] = "/tmp/minipc-test-vga-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    ck_assert_int_eq(screendump_console(b->con, path, SCREENDUMP_PNG, 0, NULL), 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t len = ftell(f);
    rewind(f);
    uint8_t *data = xmalloc(len);
    ck_assert_uint_eq(fread(data, 1, len, f), len);
    fclose(f);
    unlink(path);
    int w, h;
    uint8_t *raw = png_decode(data, len, &w, &h);
    ck_assert_int_eq(w, 1024);
    ck_assert_int_eq(h, 768);
    for (int i = 0; i < 1024 * 768; i += 997) {
        int yy = i / 1024, xx = i % 1024;
        uint32_t p = ldl_le(v + 4 * i);
        const uint8_t *q = raw + yy * (1024 * 3 + 1) + 1 + 3 * xx;
        ck_assert_uint_eq(q[0], (p >> 16) & 0xff);
        ck_assert_uint_eq(q[1], (p >> 8) & 0xff);
        ck_assert_uint_eq(q[2], p & 0xff);
    }
    free(raw);
    free(data);
}
END_TEST

/* ---- VMState ----------------------------------------------------------- */

START_TEST(test_vmstate_roundtrip)
{
    savevm_registry_reset();
    Error *err = NULL;
    ck_assert_ptr_nonnull(ram_block_register("vga.vram", vga_vram_ptr(b->s),
                                             vga_vram_size(b->s), &err));
    ck_assert_int_ge(vmstate_register(0, &vmstate_vga_pci, b->vga), 0);
    text_setup();
    put_text(3, 4, "Saved screen", 0x2f);
    crtc(0x0e, 0);
    crtc(0x0f, 81);
    outb(0x3c8, 200);                  /* mid-colour DAC state */
    outb(0x3c9, 0x11);
    DisplaySurface *s = refresh(0);
    uint32_t *before = xmalloc((size_t)s->stride * s->height);
    memcpy(before, s->data, (size_t)s->stride * s->height);

    QEMUFile *f = qemu_file_new_mem_output();
    ck_assert_int_eq(qemu_savevm_state(f, &err), 0);
    size_t len;
    uint8_t *stream = qemu_file_mem_output_steal(f, &len);
    qemu_fclose(f, NULL);

    /* Change everything: a VBE mode, other memory. */
    vbe_set(800, 600, 32, VBE_DISPI_LFB_ENABLED);
    memset(vga_vram_ptr(b->s), 0x33, 1 * MiB);
    outb(0x3c8, 0);
    refresh(0);

    f = qemu_file_new_mem_input(stream, len);
    int r = qemu_loadvm_state(f, &err);
    if (r < 0) {
        ck_abort_msg("loadvm: %s", error_get_pretty(err));
    }
    qemu_fclose(f, NULL);
    s = refresh(0);
    ck_assert_int_eq(s->width, 720);
    ck_assert_int_eq(s->height, 400);
    ck_assert(memcmp(before, s->data, (size_t)s->stride * s->height) == 0);
    char buf[4096];
    vga_get_text(b->s, buf, sizeof(buf), NULL, NULL);
    ck_assert(strncmp(buf + 3 * 81 + 4, "Saved screen", 12) == 0);
    /* The DAC write sequence goes on where it was. */
    outb(0x3c9, 0x22);
    outb(0x3c9, 0x33);
    ck_assert_uint_eq(b->s->palette[600], 0x11);
    ck_assert_uint_eq(b->s->palette[602], 0x33);
    free(before);
    free(stream);
    savevm_registry_reset();
}
END_TEST

START_TEST(test_vmstate_hostile)
{
    /* A stream whose DAC component index is out of range is refused
     * before anything changes. */
    QEMUFile *f = qemu_file_new_mem_output();
    ck_assert_int_eq(vmstate_save_state(f, &vmstate_vga, b->s, NULL, NULL), 0);
    size_t len;
    uint8_t *buf = qemu_file_mem_output_steal(f, &len);
    qemu_fclose(f, NULL);
    /* vram_size(4) misc feature sr_index sr[8] gr_index gr[16] ar_index
     * ar_flip ar[21] cr_index cr[25] dac_state rd wr sub */
    size_t sub = 4 + 1 + 1 + 1 + 8 + 1 + 16 + 1 + 1 + 21 + 1 + 25 + 1 + 1 + 1;
    buf[sub] = 7;
    savevm_registry_reset();
    vmstate_register(0, &vmstate_vga, b->s);
    /* Wrap it as a whole stream so the loader's validation pass runs. */
    QEMUFile *out = qemu_file_new_mem_output();
    ck_assert_int_eq(qemu_savevm_state(out, NULL), 0);
    size_t slen;
    uint8_t *stream = qemu_file_mem_output_steal(out, &slen);
    qemu_fclose(out, NULL);
    /* Find our section's data (after the idstr "vga") and patch it. */
    uint8_t *p = memmem(stream, slen, "\x03vga", 4);
    ck_assert_ptr_nonnull(p);
    p += 4 + 4 + 4;                      /* instance, version */
    p[sub] = 7;
    b->s->misc = 0x42;
    Error *err = NULL;
    f = qemu_file_new_mem_input(stream, slen);
    ck_assert_int_lt(qemu_loadvm_state(f, &err), 0);
    ck_assert(strstr(error_get_pretty(err), "DAC") != NULL);
    error_free(err);
    qemu_fclose(f, NULL);
    ck_assert_uint_eq(b->s->misc, 0x42);
    free(buf);
    free(stream);
    savevm_registry_reset();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vga");
    TCase *tc = tcase_create("vga");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_general_registers);
    tcase_add_test(tc, test_crtc_protect);
    tcase_add_test(tc, test_attribute_flip_flop);
    tcase_add_test(tc, test_retrace_polling);
    tcase_add_test(tc, test_dac);
    tcase_add_test(tc, test_text_render);
    tcase_add_test(tc, test_text_dirty);
    tcase_add_test(tc, test_console_listener);
    tcase_add_test(tc, test_text_split_and_start);
    tcase_add_test(tc, test_write_modes);
    tcase_add_test(tc, test_read_modes);
    tcase_add_test(tc, test_memory_map_select);
    tcase_add_test(tc, test_odd_even);
    tcase_add_test(tc, test_mode12_render);
    tcase_add_test(tc, test_mode13_render);
    tcase_add_test(tc, test_mode04_render);
    tcase_add_test(tc, test_vbe_registers);
    tcase_add_test(tc, test_vbe_lfb_32);
    tcase_add_test(tc, test_vbe_depths);
    tcase_add_test(tc, test_vbe_banked);
    tcase_add_test(tc, test_vbe_hostile);
    tcase_add_test(tc, test_vga_hostile_registers);
    tcase_add_test(tc, test_pci_config_and_mmio);
    tcase_add_test(tc, test_pci_rom);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_screendump_ppm);
    tcase_add_test(tc, test_screendump_png);
    tcase_add_test(tc, test_screendump_vbe_png);
    tcase_add_test(tc, test_vmstate_roundtrip);
    tcase_add_test(tc, test_vmstate_hostile);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
