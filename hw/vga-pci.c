/*
 * The VGA as a PCI function, like QEMU's "stdvga" (1234:1111, class
 * 0300, revision 2): BAR0 is the VRAM (prefetchable memory, the VBE
 * linear framebuffer), BAR2 a 4 KiB MMIO window onto the registers, and
 * the expansion ROM holds the VGA BIOS, which SeaBIOS copies to 0xc0000
 * and runs. The legacy ports and the 0xa0000 window are decoded
 * whatever the command register says, as VGA-compatible devices do.
 *
 * BAR2 layout (what Linux bochs-drm uses when present):
 *   0x400-0x41f  VGA ports 0x3c0-0x3df, byte registers
 *   0x500-0x515  VBE registers 0-0xa as 16-bit little-endian words
 *   0x600        extended registers: 0x600 size of this block (read-only),
 *                0x604 framebuffer byte order (0x1e1e1e1e: little-endian)
 */
#include "vga-internal.h"

#define MMIO_VGA_BASE  0x400
#define MMIO_VBE_BASE  0x500
#define MMIO_QEXT_BASE 0x600
#define QEXT_SIZE      8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1e

static uint8_t mmio_readb(VGAPCIState *d, uint32_t off)
{
    VGAState *s = &d->vga;
    if (off >= MMIO_VGA_BASE && off < MMIO_VGA_BASE + 0x20) {
        return vga_ioport_read(s, 0x3c0 + (off - MMIO_VGA_BASE));
    }
    if (off >= MMIO_VBE_BASE && off < MMIO_VBE_BASE + 2 * VBE_DISPI_INDEX_NB) {
        unsigned i = (off - MMIO_VBE_BASE) / 2;
        return vbe_read_reg(s, i) >> (8 * (off & 1));
    }
    if (off >= MMIO_QEXT_BASE && off < MMIO_QEXT_BASE + QEXT_SIZE) {
        uint32_t v = off < MMIO_QEXT_BASE + 4 ? QEXT_SIZE : QEXT_LITTLE_ENDIAN;
        return v >> (8 * (off & 3));
    }
    return 0xff;
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    VGAPCIState *d = opaque;
    if (off >= MMIO_VBE_BASE && off < MMIO_VBE_BASE + 2 * VBE_DISPI_INDEX_NB &&
        size == 2 && !(off & 1)) {
        return vbe_read_reg(&d->vga, (off - MMIO_VBE_BASE) / 2);
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)mmio_readb(d, (uint32_t)(off + i)) << (8 * i);
    }
    return v;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    VGAPCIState *d = opaque;
    VGAState *s = &d->vga;
    for (unsigned i = 0; i < size;) {
        uint32_t o = (uint32_t)(off + i);
        if (o >= MMIO_VGA_BASE && o < MMIO_VGA_BASE + 0x20) {
            vga_ioport_write(s, 0x3c0 + (o - MMIO_VGA_BASE), val >> (8 * i));
            i++;
        } else if (o >= MMIO_VBE_BASE && o < MMIO_VBE_BASE + 2 * VBE_DISPI_INDEX_NB) {
            unsigned idx = (o - MMIO_VBE_BASE) / 2;
            uint16_t cur = vbe_read_reg(s, idx);
            if (!(o & 1) && size - i >= 2) {
                vbe_write_reg(s, idx, (uint16_t)(val >> (8 * i)));
                i += 2;
            } else {
                /* A byte of a register: merge with the other byte. */
                unsigned sh = 8 * (o & 1);
                uint16_t v = (uint16_t)((cur & ~(0xff << sh)) | (((val >> (8 * i)) & 0xff) << sh));
                vbe_write_reg(s, idx, v);
                i++;
            }
        } else {
            /* The byte-order register only accepts little-endian; the
             * rest is read-only or unassigned. */
            i++;
        }
    }
}

static const MemoryRegionOps vga_mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

void vga_pci_reset(VGAPCIState *d)
{
    pci_device_reset(&d->dev);
    vga_reset(&d->vga);
}

VGAPCIState *vga_pci_new(PCIBus *bus, int devfn, MemoryRegion *legacy_mem, MemoryRegion *io,
                         uint32_t vram_size, const void *rom, size_t rom_size, Error **errp)
{
    VGAPCIState *d = XNEW(VGAPCIState);
    if (rom && (rom_size == 0 || rom_size > 16 * MiB)) {
        error_setg(errp, "VGA BIOS image of %zu bytes is not usable", rom_size);
        free(d);
        return NULL;
    }
    if (vga_init(&d->vga, legacy_mem, io, vram_size, errp) < 0) {
        free(d);
        return NULL;
    }
    if (pci_device_init(&d->dev, bus, devfn, "VGA", VGA_PCI_VENDOR, VGA_PCI_DEVICE, 0x02,
                        0x030000, errp) < 0) {
        vga_cleanup(&d->vga);
        free(d);
        return NULL;
    }
    /* QEMU's subsystem IDs for its emulated devices. */
    pci_set_word(d->dev.config + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set_word(d->dev.config + PCI_SUBSYSTEM_ID, 0x1100);
    pci_register_bar(&d->dev, 0, PCI_BASE_ADDRESS_MEM_PREFETCH, d->vga.vram_mr);
    d->mmio_mr = memory_region_new_io("vga.mmio", VGA_PCI_MMIO_SIZE, &vga_mmio_ops, d);
    pci_register_bar(&d->dev, 2, 0, d->mmio_mr);
    if (rom) {
        uint64_t size = 2 * KiB;
        while (size < rom_size) {
            size <<= 1;
        }
        d->rom_mr = memory_region_new_rom("vga.rom", size, errp);
        if (!d->rom_mr) {
            vga_pci_free(d);
            return NULL;
        }
        memcpy(memory_region_get_ram_ptr(d->rom_mr), rom, rom_size);
        pci_register_bar(&d->dev, PCI_ROM_SLOT, 0, d->rom_mr);
    }
    vga_pci_reset(d);
    return d;
}

void vga_pci_free(VGAPCIState *d)
{
    if (!d) {
        return;
    }
    if (d->dev.bus) {
        pci_device_exit(&d->dev);
    }
    memory_region_free(d->mmio_mr);
    memory_region_free(d->rom_mr);
    vga_cleanup(&d->vga);
    free(d);
}

const VMStateDescription vmstate_vga_pci = {
    .name = "vga",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(dev, VGAPCIState),
        VMSTATE_STRUCT(vga, VGAPCIState, 0, vmstate_vga, VGAState),
        VMSTATE_END_OF_LIST()
    },
};
