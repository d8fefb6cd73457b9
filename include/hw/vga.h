/*
 * Standard VGA with the Bochs VBE ("dispi") extensions, as QEMU's
 * `-vga std`: the sequencer, CRTC, graphics and attribute controllers,
 * DAC and general registers at 0x3b0-0x3df; four 64 KiB planes behind
 * the legacy window 0xa0000-0xbffff; the VBE registers at 0x1ce/0x1cf
 * (0x1d0 is a second data port) with a linear framebuffer; a renderer
 * into a DisplaySurface (ui/surface.h) with dirty tracking.
 *
 * Video memory is one RAM region ("vga.vram", 16 MiB by default). The
 * planes are interleaved in it: byte 4*a+p is byte a of plane p, so the
 * first 256 KiB are the VGA planes and the same bytes, read linearly,
 * are the VBE framebuffer (chain-4 pixel x of mode 13h is byte x).
 *
 * The PCI flavour (1234:1111, class 0300) maps the VRAM as BAR0
 * (prefetchable), an MMIO BAR2 of 4 KiB (VGA ports 0x3c0-0x3df at
 * 0x400, the VBE registers at 0x500 as 16-bit words, QEMU's extended
 * registers at 0x600) and the VGA BIOS as its expansion ROM, which is
 * where SeaBIOS looks for it.
 *
 * Wiring (machine):
 *     VGAPCIState *vga = vga_pci_new(pci_bus, -1, pci_memory, io,
 *                                    16 * MiB, rom, rom_size, &err);
 *     ram_block_register("vga.vram", vga_vram_ptr(&vga->vga),
 *                        vga_vram_size(&vga->vga), &err);
 *     vmstate_register(0, &vmstate_vga_pci, vga);
 *     display backends use vga_console(&vga->vga).
 * 'legacy_mem' receives the 0xa0000 window at priority 1 (the PCI
 * memory container on the PC, which the i440FX SMRAM logic sits over).
 */
#ifndef HW_VGA_H
#define HW_VGA_H

#include "util/osdep.h"
#include "util/error.h"
#include "cpu/memory.h"
#include "hw/pci.h"
#include "migration/vmstate.h"
#include "ui/surface.h"

#define VGA_VRAM_DEFAULT   (16 * MiB)
#define VGA_VRAM_MIN       (1 * MiB)
#define VGA_VRAM_MAX       (256 * MiB)
#define VGA_PLANE_SIZE     0x10000   /* one plane of standard VGA memory */

/* Bochs VBE dispi interface */
#define VBE_DISPI_IOPORT_INDEX  0x1ce
#define VBE_DISPI_IOPORT_DATA   0x1cf
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_INDEX_NB          0xb
#define VBE_DISPI_ID0   0xb0c0
#define VBE_DISPI_ID5   0xb0c5
#define VBE_DISPI_DISABLED    0x00
#define VBE_DISPI_ENABLED     0x01
#define VBE_DISPI_GETCAPS     0x02
#define VBE_DISPI_8BIT_DAC    0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM  0x80
#define VBE_DISPI_MAX_XRES    8192
#define VBE_DISPI_MAX_YRES    8192
#define VBE_DISPI_MAX_BPP     32

typedef struct VGARender VGARender;

typedef struct VGAState {
    /* ---- registers (saved) ---- */
    uint8_t misc;            /* miscellaneous output, 0x3c2 / 0x3cc */
    uint8_t feature;         /* feature control, 0x3ba/0x3da write, 0x3ca read */
    uint8_t sr_index;
    uint8_t sr[8];
    uint8_t gr_index;
    uint8_t gr[16];
    uint8_t ar_index;        /* index | palette address source (0x20) */
    uint8_t ar_flip_flop;    /* 0: next 0x3c0 write is an index */
    uint8_t ar[0x15];
    uint8_t cr_index;
    uint8_t cr[0x19];
    uint8_t dac_state;       /* 0x3c7 read: 0 after a write index, 3 after a read index */
    uint8_t dac_read_index;
    uint8_t dac_write_index;
    uint8_t dac_sub_index;   /* 0..2: which of R, G, B comes next */
    uint8_t dac_cache[3];    /* colour being written */
    uint8_t dac_mask;        /* pixel mask, 0x3c6 */
    uint8_t palette[768];
    uint32_t latch;          /* the four plane latches, plane 0 in the low byte */
    uint16_t vbe_index;
    uint16_t vbe_regs[VBE_DISPI_INDEX_NB];
    uint32_t vram_size;

    /* ---- derived from the registers (recomputed, not saved) ---- */
    uint32_t vbe_start;      /* byte offset of the visible VBE frame */
    uint32_t vbe_line_offset;/* bytes per VBE scan line (per plane for 4 bpp) */
    uint32_t bank_offset;    /* VBE bank, bytes */
    uint32_t retrace_count;  /* reads of input status 1 */

    /* ---- memory and wiring ---- */
    MemoryRegion *vram_mr;
    uint8_t *vram;
    MemoryRegion *legacy_mr;     /* the 0xa0000-0xbffff window */
    MemoryRegion *ports_mr;      /* 0x3b0-0x3df */
    MemoryRegion *vbe_mr;        /* 0x1ce-0x1d0 */

    /* ---- renderer (hw/vga-render.c) ---- */
    DisplayConsole *con;
    bool full_update;            /* next refresh redraws everything */
    VGARender *render;
} VGAState;

/* Embedded use: initialise s in place. Maps the ports into 'io' and the
 * legacy window into 'legacy_mem'. vram_size: a power of two in
 * [VGA_VRAM_MIN, VGA_VRAM_MAX]. Returns 0 or -errno with errp set. */
int vga_init(VGAState *s, MemoryRegion *legacy_mem, MemoryRegion *io, uint32_t vram_size,
             Error **errp);
void vga_cleanup(VGAState *s);
/* Power-on state (all registers zero, VBE off); VRAM is kept. */
void vga_reset(VGAState *s);

DisplayConsole *vga_console(VGAState *s);
uint8_t *vga_vram_ptr(VGAState *s);
uint32_t vga_vram_size(VGAState *s);
MemoryRegion *vga_vram_region(VGAState *s);

/* Renders what changed into the console's surface (what
 * console_refresh() calls). */
void vga_update_display(VGAState *s, int64_t now_ns);
void vga_invalidate_display(VGAState *s);
/* In a text mode: the visible screen as rows of characters (code page
 * 437 bytes, NUL shown as ' ') joined by '\n', NUL-terminated, truncated
 * to size. Returns the full length, or -1 when not in a text mode.
 * cols/rows (optional) receive the screen size. */
int vga_get_text(VGAState *s, char *buf, size_t size, int *cols, int *rows);
/* Character and attribute of one visible cell (char | attr << 8), or -1. */
int vga_get_text_cell(VGAState *s, int col, int row);

/* Register-level access (what the ports do), for the PCI MMIO BAR and
 * tests. addr is the port number 0x3b0-0x3df. */
uint8_t vga_ioport_read(VGAState *s, uint16_t addr);
void vga_ioport_write(VGAState *s, uint16_t addr, uint8_t val);
uint16_t vbe_read_data(VGAState *s);
void vbe_write_data(VGAState *s, uint16_t val);
uint16_t vbe_read_reg(VGAState *s, unsigned index);
void vbe_write_reg(VGAState *s, unsigned index, uint16_t val);
/* The legacy window (offset from 0xa0000). */
uint8_t vga_mem_readb(VGAState *s, uint32_t offset);
void vga_mem_writeb(VGAState *s, uint32_t offset, uint8_t val);

extern const VMStateDescription vmstate_vga;

/* ---- PCI device ---- */

typedef struct VGAPCIState {
    PCIDevice dev;           /* first: the bus knows it by this */
    VGAState vga;
    MemoryRegion *mmio_mr;   /* BAR2 */
    MemoryRegion *rom_mr;    /* expansion ROM, NULL without a BIOS */
} VGAPCIState;

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_PCI_MMIO_SIZE 0x1000

/* devfn -1: first free slot. rom/rom_size: the VGA BIOS image
 * (vgabios-stdvga.bin), copied; NULL for none. */
VGAPCIState *vga_pci_new(PCIBus *bus, int devfn, MemoryRegion *legacy_mem, MemoryRegion *io,
                         uint32_t vram_size, const void *rom, size_t rom_size, Error **errp);
void vga_pci_free(VGAPCIState *d);
void vga_pci_reset(VGAPCIState *d);

extern const VMStateDescription vmstate_vga_pci;

#endif
