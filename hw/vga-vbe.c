/*
 * Bochs VBE "dispi" interface: an index port and a data port giving
 * 16-bit registers for resolution, depth, enable, bank, virtual size
 * and display offset. Register semantics follow the Bochs VBE display
 * API description (vbe_display_api.txt) and what Bochs/QEMU-era guests
 * (SeaVGABIOS, Linux bochs-drm) expect.
 *
 * The registers keep what the guest wrote; everything derived from
 * them (line length, start, bank) is computed with checks, so no
 * register combination can make the CPU window or the renderer reach
 * outside VRAM.
 */
#include "vga-internal.h"

int vbe_effective_bpp(const VGAState *s)
{
    switch (s->vbe_regs[VBE_DISPI_INDEX_BPP]) {
    case 4: case 8: case 15: case 16: case 24: case 32:
        return s->vbe_regs[VBE_DISPI_INDEX_BPP];
    default:
        return 8;
    }
}

static uint32_t vbe_line_bytes(const VGAState *s, uint32_t width)
{
    int bpp = vbe_effective_bpp(s);
    if (bpp == 4) {
        return width / 8;        /* per plane */
    }
    return width * ((bpp + 7) / 8);
}

void vbe_update(VGAState *s)
{
    uint16_t *r = s->vbe_regs;
    uint32_t vw = MAX(r[VBE_DISPI_INDEX_VIRT_WIDTH], r[VBE_DISPI_INDEX_XRES]);
    uint64_t line = vbe_line_bytes(s, vw);
    int bpp = vbe_effective_bpp(s);
    uint64_t x = r[VBE_DISPI_INDEX_X_OFFSET], y = r[VBE_DISPI_INDEX_Y_OFFSET];
    uint64_t start = y * line + (bpp == 4 ? x / 8 : x * ((bpp + 7) / 8));
    uint64_t limit = bpp == 4 ? s->vram_size / 4 : s->vram_size;
    s->vbe_line_offset = (uint32_t)MIN(line, (uint64_t)limit);
    s->vbe_start = start < limit ? (uint32_t)start : 0;
    /* The bank register counts 64 KiB units of the window; wrap inside
     * VRAM like a card whose bank register has only as many bits as
     * its memory needs. */
    uint32_t banks = (bpp == 4 ? limit : s->vram_size) >> 16;
    s->bank_offset = (uint32_t)(r[VBE_DISPI_INDEX_BANK] & (banks - 1)) << 16;
}

void vbe_reset(VGAState *s)
{
    memset(s->vbe_regs, 0, sizeof(s->vbe_regs));
    s->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
    s->vbe_index = 0;
    vbe_update(s);
}

uint16_t vbe_read_reg(VGAState *s, unsigned index)
{
    const uint16_t *r = s->vbe_regs;
    bool caps = r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS;
    switch (index) {
    case VBE_DISPI_INDEX_XRES:
        return caps ? VBE_DISPI_MAX_XRES : r[index];
    case VBE_DISPI_INDEX_YRES:
        return caps ? VBE_DISPI_MAX_YRES : r[index];
    case VBE_DISPI_INDEX_BPP:
        return caps ? VBE_DISPI_MAX_BPP : r[index];
    case VBE_DISPI_INDEX_VIRT_HEIGHT: {
        /* How many lines of the virtual width fit in VRAM. */
        uint32_t line = s->vbe_line_offset;
        uint32_t mem = vbe_effective_bpp(s) == 4 ? s->vram_size / 4 : s->vram_size;
        return line ? (uint16_t)MIN(mem / line, 0xffffu) : 0;
    }
    case VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
        return (uint16_t)MIN(s->vram_size >> 16, 0xffffu);
    default:
        return index < VBE_DISPI_INDEX_NB ? r[index] : 0;
    }
}

static void vbe_enter(VGAState *s, uint16_t val)
{
    uint16_t *r = s->vbe_regs;
    r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
    r[VBE_DISPI_INDEX_X_OFFSET] = 0;
    r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
    r[VBE_DISPI_INDEX_ENABLE] = val;
    vbe_update(s);
    if (!(val & VBE_DISPI_NOCLEARMEM)) {
        uint64_t bytes = (uint64_t)s->vbe_line_offset * r[VBE_DISPI_INDEX_YRES];
        if (vbe_effective_bpp(s) == 4) {
            bytes *= 4;
        }
        bytes = MIN(bytes, (uint64_t)s->vram_size);
        memset(s->vram, 0, bytes);
        memory_region_set_dirty(s->vram_mr, 0, bytes);
    }
    /* Make the VGA side agree, for software that uses the 0xa0000
     * window: graphics, 64 KiB at 0xa0000; 4-bit modes are planar
     * (sequential planes), the others are reached through the bank. */
    s->gr[GR_MISC] = (s->gr[GR_MISC] & ~0x0e) | GR06_GRAPHICS | 0x04;
    s->ar[AR_MODE] |= AR10_GRAPHICS;
    if (vbe_effective_bpp(s) == 4) {
        s->sr[SR_MEM_MODE] = (s->sr[SR_MEM_MODE] & ~SR04_CHAIN4) | SR04_OE_DIS;
        s->gr[GR_MODE] &= ~(GR05_HOST_OE | GR05_256 | GR05_INTERLEAVE);
    }
}

void vbe_write_reg(VGAState *s, unsigned index, uint16_t val)
{
    uint16_t *r = s->vbe_regs;
    switch (index) {
    case VBE_DISPI_INDEX_ID:
        if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5) {
            r[index] = val;
        }
        break;
    case VBE_DISPI_INDEX_XRES:
    case VBE_DISPI_INDEX_YRES:
    case VBE_DISPI_INDEX_BPP:
    case VBE_DISPI_INDEX_BANK:
    case VBE_DISPI_INDEX_VIRT_WIDTH:
    case VBE_DISPI_INDEX_X_OFFSET:
    case VBE_DISPI_INDEX_Y_OFFSET:
        r[index] = val;
        vbe_update(s);
        break;
    case VBE_DISPI_INDEX_ENABLE: {
        bool was = r[index] & VBE_DISPI_ENABLED;
        if ((val & VBE_DISPI_ENABLED) && !was) {
            vbe_enter(s, val);
        } else {
            r[index] = val;
            if (!(val & VBE_DISPI_ENABLED)) {
                r[VBE_DISPI_INDEX_BANK] = 0;
            }
            vbe_update(s);
        }
        s->full_update = true;
        break;
    }
    default:
        /* VIRT_HEIGHT and VIDEO_MEMORY_64K are computed; the rest do
         * not exist. */
        break;
    }
}

uint16_t vbe_read_data(VGAState *s)
{
    return vbe_read_reg(s, s->vbe_index);
}

void vbe_write_data(VGAState *s, uint16_t val)
{
    vbe_write_reg(s, s->vbe_index, val);
}
