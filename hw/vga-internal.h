/* Shared by hw/vga.c, hw/vga-vbe.c, hw/vga-render.c and hw/vga-pci.c. */
#ifndef HW_VGA_INTERNAL_H
#define HW_VGA_INTERNAL_H

#include "hw/vga.h"

/* Sequencer */
#define SR_CLOCKING     0x01
#define SR01_8DOT       0x01
#define SR01_DIV2       0x08
#define SR01_SCREEN_OFF 0x20
#define SR_MAP_MASK     0x02
#define SR_CHAR_MAP     0x03
#define SR_MEM_MODE     0x04
#define SR04_OE_DIS     0x04   /* odd/even host write addressing disabled */
#define SR04_CHAIN4     0x08

/* Graphics controller */
#define GR_MODE         0x05
#define GR05_READ1      0x08
#define GR05_HOST_OE    0x10
#define GR05_INTERLEAVE 0x20
#define GR05_256        0x40
#define GR_MISC         0x06
#define GR06_GRAPHICS   0x01

/* Attribute controller */
#define AR_PAS          0x20
#define AR_MODE         0x10
#define AR10_GRAPHICS   0x01
#define AR10_LGE        0x04
#define AR10_BLINK      0x08
#define AR10_PAN_SPLIT  0x20
#define AR10_8BIT       0x40
#define AR10_P54S       0x80
#define AR_PLANE_ENABLE 0x12
#define AR_PAN          0x13
#define AR_COLOR_SELECT 0x14

#define MISC_COLOR      0x01   /* CRTC at 0x3d4 (else 0x3b4) */

static inline uint32_t vga_vram_ld32(const VGAState *s, uint32_t plane_addr)
{
    return ldl_le(s->vram + (size_t)plane_addr * 4);
}

static inline bool vbe_enabled(const VGAState *s)
{
    return s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

/* Effective VBE depth: one of 4, 8, 15, 16, 24, 32 (anything else acts
 * as 8). */
int vbe_effective_bpp(const VGAState *s);
/* Recomputes vbe_start, vbe_line_offset and bank_offset from the
 * registers (after any VBE register write, reset or loadvm). */
void vbe_update(VGAState *s);
void vbe_reset(VGAState *s);

/* Plane memory the CPU window addresses: 64 KiB per plane for VGA,
 * more with VBE 4-bit modes. */
static inline uint32_t vga_plane_limit(const VGAState *s)
{
    return vbe_enabled(s) ? s->vram_size / 4 : VGA_PLANE_SIZE;
}

extern const ConsoleHWOps vga_console_ops;
void vga_render_init(VGAState *s);
void vga_render_cleanup(VGAState *s);

#endif
