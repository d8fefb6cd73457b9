/*
 * VGA registers and video memory: sequencer, CRTC, graphics controller,
 * attribute controller, DAC, general registers and the CPU's view of
 * the four planes through the 0xa0000 window. The register behaviour
 * follows the IBM VGA technical reference (as FreeVGA documents it).
 */
#include "vga-internal.h"
#include "util/log.h"

/* Writable bits of each register. */
static const uint8_t sr_mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0x00 };
static const uint8_t gr_mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };

/* Bit i of a nibble -> byte i all ones. */
static const uint32_t expand4[16] = {
    0x00000000, 0x000000ff, 0x0000ff00, 0x0000ffff,
    0x00ff0000, 0x00ff00ff, 0x00ffff00, 0x00ffffff,
    0xff000000, 0xff0000ff, 0xff00ff00, 0xff00ffff,
    0xffff0000, 0xffff00ff, 0xffffff00, 0xffffffff,
};

/* ---- CPU access to video memory ----------------------------------------- */

/* Translates an offset in the 128 KiB window to an offset inside the
 * range the memory map select decodes; false if the card does not
 * decode that address. */
static bool vga_window_offset(const VGAState *s, uint32_t offset, uint32_t *out)
{
    switch ((s->gr[GR_MISC] >> 2) & 3) {
    case 0:                              /* a0000-bffff */
        break;
    case 1:                              /* a0000-affff */
        if (offset >= 0x10000) {
            return false;
        }
        break;
    case 2:                              /* b0000-b7fff */
        if (offset < 0x10000 || offset >= 0x18000) {
            return false;
        }
        offset -= 0x10000;
        break;
    default:                             /* b8000-bffff */
        if (offset < 0x18000) {
            return false;
        }
        offset -= 0x18000;
        break;
    }
    *out = offset;
    return true;
}

/* VBE packed-pixel modes: the window is a 64 KiB bank of linear VRAM. */
static inline bool vga_banked_linear(const VGAState *s)
{
    return vbe_enabled(s) && vbe_effective_bpp(s) != 4;
}

/* Plane address and the planes a CPU access at window offset 'off'
 * reaches (for a read: plane_sel is the plane to return). */
static uint32_t vga_plane_address(const VGAState *s, uint32_t off)
{
    uint32_t addr;
    if (s->sr[SR_MEM_MODE] & SR04_CHAIN4) {
        addr = off & ~3u;
    } else {
        addr = off;
    }
    if (vbe_enabled(s)) {
        addr += s->bank_offset;
    }
    return addr;
}

uint8_t vga_mem_readb(VGAState *s, uint32_t offset)
{
    uint32_t off;
    if (!vga_window_offset(s, offset & 0x1ffff, &off)) {
        return 0xff;
    }
    if (vga_banked_linear(s)) {
        uint32_t a = s->bank_offset + off;
        return a < s->vram_size ? s->vram[a] : 0xff;
    }
    int plane;
    uint32_t addr;
    if (s->sr[SR_MEM_MODE] & SR04_CHAIN4) {
        plane = off & 3;
        addr = vga_plane_address(s, off);
    } else if (s->gr[GR_MODE] & GR05_HOST_OE) {
        plane = (s->gr[4] & 2) | (off & 1);
        addr = vga_plane_address(s, off & ~1u);
    } else {
        plane = s->gr[4] & 3;
        addr = vga_plane_address(s, off);
    }
    if (vbe_enabled(s)) {
        if (addr >= vga_plane_limit(s)) {
            return 0xff;
        }
    } else {
        addr &= VGA_PLANE_SIZE - 1;
    }
    s->latch = vga_vram_ld32(s, addr);
    if (s->gr[GR_MODE] & GR05_READ1) {
        /* Colour compare: a bit is 1 where every plane that "colour
         * don't care" includes matches its colour compare bit. */
        uint32_t diff = (s->latch ^ expand4[s->gr[2] & 15]) & expand4[s->gr[7] & 15];
        return ~(diff | (diff >> 8) | (diff >> 16) | (diff >> 24)) & 0xff;
    }
    return s->latch >> (plane * 8);
}

static inline uint8_t ror8(uint8_t v, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)((v >> n) | (v << (8 - n))) : v;
}

void vga_mem_writeb(VGAState *s, uint32_t offset, uint8_t val)
{
    uint32_t off;
    if (!vga_window_offset(s, offset & 0x1ffff, &off)) {
        return;
    }
    if (vga_banked_linear(s)) {
        uint32_t a = s->bank_offset + off;
        if (a < s->vram_size) {
            s->vram[a] = val;
            memory_region_set_dirty(s->vram_mr, a, 1);
        }
        return;
    }
    uint8_t planes = s->sr[SR_MAP_MASK] & 15;
    uint32_t addr;
    if (s->sr[SR_MEM_MODE] & SR04_CHAIN4) {
        planes &= 1u << (off & 3);
        addr = vga_plane_address(s, off);
    } else if (!(s->sr[SR_MEM_MODE] & SR04_OE_DIS)) {
        /* Odd/even: even addresses reach planes 0 and 2, odd ones 1 and 3. */
        planes &= (off & 1) ? 0x0a : 0x05;
        addr = vga_plane_address(s, off & ~1u);
    } else {
        addr = vga_plane_address(s, off);
    }
    if (vbe_enabled(s)) {
        if (addr >= vga_plane_limit(s)) {
            return;
        }
    } else {
        addr &= VGA_PLANE_SIZE - 1;
    }
    if (!planes) {
        return;
    }

    uint32_t data, bitmask = s->gr[8];
    bool logic = true;
    switch (s->gr[GR_MODE] & 3) {
    case 0: {
        data = ror8(val, s->gr[3]) * 0x01010101u;
        uint32_t sr_en = expand4[s->gr[1] & 15];
        data = (data & ~sr_en) | (expand4[s->gr[0] & 15] & sr_en);
        break;
    }
    case 1:
        data = s->latch;
        logic = false;
        break;
    case 2:
        data = expand4[val & 15];
        break;
    default:
        bitmask &= ror8(val, s->gr[3]);
        data = expand4[s->gr[0] & 15];
        break;
    }
    if (logic) {
        switch ((s->gr[3] >> 3) & 3) {
        case 1: data &= s->latch; break;
        case 2: data |= s->latch; break;
        case 3: data ^= s->latch; break;
        default: break;
        }
        uint32_t bm = bitmask * 0x01010101u;
        data = (data & bm) | (s->latch & ~bm);
    }
    uint32_t pm = expand4[planes];
    uint8_t *p = s->vram + (size_t)addr * 4;
    stl_le(p, (ldl_le(p) & ~pm) | (data & pm));
    memory_region_set_dirty(s->vram_mr, (uint64_t)addr * 4, 4);
}

static uint64_t vga_legacy_read(void *opaque, uint64_t offset, unsigned size)
{
    return vga_mem_readb(opaque, (uint32_t)offset);
}

static void vga_legacy_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    vga_mem_writeb(opaque, (uint32_t)offset, (uint8_t)val);
}

static const MemoryRegionOps vga_legacy_ops = {
    .read = vga_legacy_read,
    .write = vga_legacy_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

/* ---- registers ---------------------------------------------------------- */

/* Ports of the CRTC block the current mono/colour setting does not decode. */
static bool vga_port_ignored(const VGAState *s, uint16_t addr)
{
    bool color = s->misc & MISC_COLOR;
    if (addr >= 0x3b0 && addr <= 0x3bf) {
        return color;
    }
    if (addr >= 0x3d0 && addr <= 0x3df) {
        return !color;
    }
    return false;
}

static uint8_t vga_input_status1(VGAState *s)
{
    /* No raster: every read moves a little along a pretend frame, so
     * loops that wait for retrace to start and to end both finish.
     * Bit 3: vertical retrace; bit 0: display disabled (retrace or
     * horizontal blanking). */
    uint32_t n = s->retrace_count++;
    bool vretrace = (n & 7) < 2;
    bool blank = vretrace || (n & 1);
    s->ar_flip_flop = 0;
    return (vretrace ? 0x08 : 0) | (blank ? 0x01 : 0);
}

uint8_t vga_ioport_read(VGAState *s, uint16_t addr)
{
    if (vga_port_ignored(s, addr)) {
        return 0xff;
    }
    switch (addr) {
    case 0x3c0:
        return s->ar_index;
    case 0x3c1: {
        unsigned i = s->ar_index & 0x1f;
        return i < sizeof(s->ar) ? s->ar[i] : 0;
    }
    case 0x3c2:
        return 0;             /* input status 0: no switch sense, no CRT interrupt */
    case 0x3c4:
        return s->sr_index;
    case 0x3c5:
        return s->sr[s->sr_index & 7];
    case 0x3c6:
        return s->dac_mask;
    case 0x3c7:
        return s->dac_state;
    case 0x3c8:
        return s->dac_write_index;
    case 0x3c9: {
        unsigned sub = s->dac_sub_index % 3;
        uint8_t v = s->palette[s->dac_read_index * 3 + sub];
        if (!(s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC)) {
            v &= 0x3f;
        }
        if (++sub == 3) {
            sub = 0;
            s->dac_read_index++;
        }
        s->dac_sub_index = sub;
        return v;
    }
    case 0x3ca:
        return s->feature;
    case 0x3cc:
        return s->misc;
    case 0x3ce:
        return s->gr_index;
    case 0x3cf:
        return s->gr[s->gr_index & 15];
    case 0x3b4:
    case 0x3d4:
        return s->cr_index;
    case 0x3b5:
    case 0x3d5:
        return s->cr_index < sizeof(s->cr) ? s->cr[s->cr_index] : 0;
    case 0x3ba:
    case 0x3da:
        return vga_input_status1(s);
    default:
        return 0xff;
    }
}

void vga_ioport_write(VGAState *s, uint16_t addr, uint8_t val)
{
    if (vga_port_ignored(s, addr)) {
        return;
    }
    switch (addr) {
    case 0x3c0:
        if (!s->ar_flip_flop) {
            s->ar_index = val & 0x3f;
        } else {
            unsigned i = s->ar_index & 0x1f;
            if (i < 0x10) {
                s->ar[i] = val & 0x3f;
            } else if (i < sizeof(s->ar)) {
                static const uint8_t ar_mask[5] = { 0xef, 0xff, 0x3f, 0x0f, 0x0f };
                s->ar[i] = val & ar_mask[i - 0x10];
            }
        }
        s->ar_flip_flop ^= 1;
        break;
    case 0x3c2:
        s->misc = val & ~0x10;
        break;
    case 0x3c4:
        s->sr_index = val & 7;
        break;
    case 0x3c5:
        s->sr[s->sr_index & 7] = val & sr_mask[s->sr_index & 7];
        break;
    case 0x3c6:
        s->dac_mask = val;
        break;
    case 0x3c7:
        s->dac_read_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 3;
        break;
    case 0x3c8:
        s->dac_write_index = val;
        s->dac_sub_index = 0;
        s->dac_state = 0;
        break;
    case 0x3c9: {
        unsigned sub = s->dac_sub_index % 3;
        s->dac_cache[sub] = val;
        if (++sub == 3) {
            memcpy(&s->palette[s->dac_write_index * 3], s->dac_cache, 3);
            s->dac_write_index++;
            sub = 0;
        }
        s->dac_sub_index = sub;
        break;
    }
    case 0x3ce:
        s->gr_index = val & 15;
        break;
    case 0x3cf:
        s->gr[s->gr_index & 15] = val & gr_mask[s->gr_index & 15];
        break;
    case 0x3b4:
    case 0x3d4:
        s->cr_index = val;
        break;
    case 0x3b5:
    case 0x3d5: {
        uint8_t i = s->cr_index;
        if (i >= sizeof(s->cr)) {
            break;
        }
        /* CR11 bit 7 write-protects CR00-CR07, except the line compare
         * bit 8 in CR07. */
        if ((s->cr[0x11] & 0x80) && i <= 7) {
            if (i == 7) {
                s->cr[7] = (s->cr[7] & ~0x10) | (val & 0x10);
            }
            break;
        }
        s->cr[i] = val;
        break;
    }
    case 0x3ba:
    case 0x3da:
        s->feature = val & 0x0b;
        break;
    default:
        break;
    }
}

static uint64_t vga_ports_read(void *opaque, uint64_t offset, unsigned size)
{
    return vga_ioport_read(opaque, 0x3b0 + (uint16_t)offset);
}

static void vga_ports_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    vga_ioport_write(opaque, 0x3b0 + (uint16_t)offset, (uint8_t)val);
}

static const MemoryRegionOps vga_ports_ops = {
    .read = vga_ports_read,
    .write = vga_ports_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

/* 0x1ce: index, 0x1cf and 0x1d0: data; 16-bit registers. Byte accesses
 * reach the low byte (writes zero-extend, as a 16-bit bus would see
 * them on a card that decodes only whole words). The region is 4 ports
 * wide so that a word access at 0x1d0 stays in one piece; 0x1d1 is
 * not decoded. */
static uint64_t vbe_ports_read(void *opaque, uint64_t offset, unsigned size)
{
    VGAState *s = opaque;
    uint16_t v;
    if (offset == 0) {
        v = s->vbe_index;
    } else if (offset <= 2) {
        v = vbe_read_data(s);
    } else {
        v = 0xffff;
    }
    return size == 1 ? (v & 0xff) : v;
}

static void vbe_ports_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    VGAState *s = opaque;
    if (offset == 0) {
        s->vbe_index = (uint16_t)val;
    } else if (offset <= 2) {
        vbe_write_data(s, (uint16_t)val);
    }
}

static const MemoryRegionOps vbe_ports_ops = {
    .read = vbe_ports_read,
    .write = vbe_ports_write,
    .min_access_size = 1,
    .max_access_size = 2,
};

/* ---- device ------------------------------------------------------------- */

void vga_reset(VGAState *s)
{
    s->misc = 0;
    s->feature = 0;
    s->sr_index = 0;
    memset(s->sr, 0, sizeof(s->sr));
    s->gr_index = 0;
    memset(s->gr, 0, sizeof(s->gr));
    s->ar_index = 0;
    s->ar_flip_flop = 0;
    memset(s->ar, 0, sizeof(s->ar));
    s->cr_index = 0;
    memset(s->cr, 0, sizeof(s->cr));
    s->dac_state = 0;
    s->dac_read_index = 0;
    s->dac_write_index = 0;
    s->dac_sub_index = 0;
    memset(s->dac_cache, 0, sizeof(s->dac_cache));
    s->dac_mask = 0xff;
    memset(s->palette, 0, sizeof(s->palette));
    s->latch = 0;
    s->retrace_count = 0;
    vbe_reset(s);
    s->full_update = true;
}

int vga_init(VGAState *s, MemoryRegion *legacy_mem, MemoryRegion *io, uint32_t vram_size,
             Error **errp)
{
    memset(s, 0, sizeof(*s));
    if (vram_size == 0) {
        vram_size = VGA_VRAM_DEFAULT;
    }
    if (!IS_POW2(vram_size) || vram_size < VGA_VRAM_MIN || vram_size > VGA_VRAM_MAX) {
        error_setg(errp, "VGA: video memory of %" PRIu32 " bytes is not supported "
                   "(a power of two from 1 MiB to 256 MiB)", vram_size);
        return -EINVAL;
    }
    s->vram_mr = memory_region_new_ram("vga.vram", vram_size, errp);
    if (!s->vram_mr) {
        return -ENOMEM;
    }
    s->vram = memory_region_get_ram_ptr(s->vram_mr);
    s->vram_size = vram_size;
    memory_region_set_log(s->vram_mr, true);

    s->legacy_mr = memory_region_new_io("vga-lowmem", 0x20000, &vga_legacy_ops, s);
    s->ports_mr = memory_region_new_io("vga", 0x30, &vga_ports_ops, s);
    s->vbe_mr = memory_region_new_io("vbe", 4, &vbe_ports_ops, s);
    if (legacy_mem) {
        memory_region_add_subregion(legacy_mem, 0xa0000, s->legacy_mr, 1);
    }
    if (io) {
        memory_region_add_subregion(io, 0x3b0, s->ports_mr, 0);
        memory_region_add_subregion(io, VBE_DISPI_IOPORT_INDEX, s->vbe_mr, 0);
    }
    s->con = console_new(&vga_console_ops, s);
    vga_render_init(s);
    vga_reset(s);
    return 0;
}

void vga_cleanup(VGAState *s)
{
    vga_render_cleanup(s);
    console_free(s->con);
    memory_region_free(s->legacy_mr);
    memory_region_free(s->ports_mr);
    memory_region_free(s->vbe_mr);
    memory_region_free(s->vram_mr);
    s->con = NULL;
    s->legacy_mr = s->ports_mr = s->vbe_mr = s->vram_mr = NULL;
    s->vram = NULL;
}

DisplayConsole *vga_console(VGAState *s) { return s->con; }
uint8_t *vga_vram_ptr(VGAState *s) { return s->vram; }
uint32_t vga_vram_size(VGAState *s) { return s->vram_size; }
MemoryRegion *vga_vram_region(VGAState *s) { return s->vram_mr; }

/* ---- VMState ------------------------------------------------------------ */

static int vga_check(const void *loaded, int version_id, Error **errp)
{
    const VGAState *s = loaded;
    if (s->dac_sub_index > 2) {
        error_setg(errp, "VGA: DAC colour component index %u is out of range",
                   s->dac_sub_index);
        return -EINVAL;
    }
    return 0;
}

static int vga_post_load(void *opaque, int version_id)
{
    VGAState *s = opaque;
    vbe_update(s);
    s->full_update = true;
    /* The RAM section wrote VRAM behind the dirty log's back. */
    memory_region_set_dirty(s->vram_mr, 0, s->vram_size);
    return 0;
}

const VMStateDescription vmstate_vga = {
    .name = "vga",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = vga_check,
    .post_load = vga_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(vram_size, VGAState),
        VMSTATE_UINT8(misc, VGAState),
        VMSTATE_UINT8(feature, VGAState),
        VMSTATE_UINT8(sr_index, VGAState),
        VMSTATE_UINT8_ARRAY(sr, VGAState, 8),
        VMSTATE_UINT8(gr_index, VGAState),
        VMSTATE_UINT8_ARRAY(gr, VGAState, 16),
        VMSTATE_UINT8(ar_index, VGAState),
        VMSTATE_UINT8(ar_flip_flop, VGAState),
        VMSTATE_UINT8_ARRAY(ar, VGAState, 0x15),
        VMSTATE_UINT8(cr_index, VGAState),
        VMSTATE_UINT8_ARRAY(cr, VGAState, 0x19),
        VMSTATE_UINT8(dac_state, VGAState),
        VMSTATE_UINT8(dac_read_index, VGAState),
        VMSTATE_UINT8(dac_write_index, VGAState),
        VMSTATE_UINT8(dac_sub_index, VGAState),
        VMSTATE_UINT8_ARRAY(dac_cache, VGAState, 3),
        VMSTATE_UINT8(dac_mask, VGAState),
        VMSTATE_UINT8_ARRAY(palette, VGAState, 768),
        VMSTATE_UINT32(latch, VGAState),
        VMSTATE_UINT16(vbe_index, VGAState),
        VMSTATE_UINT16_ARRAY(vbe_regs, VGAState, VBE_DISPI_INDEX_NB),
        VMSTATE_END_OF_LIST()
    },
};
