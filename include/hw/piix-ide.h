/*
 * PIIX3 IDE function (8086:7010, class 0101, prog-if 0x80): two legacy
 * channels (0x1f0/0x3f6 IRQ 14, 0x170/0x376 IRQ 15) and the bus-master
 * IDE engine in BAR4 (16 I/O ports: command, status and descriptor
 * table pointer per channel).
 *
 * The engine reads Physical Region Descriptor tables from guest memory
 * through 'dma_as'. Hostile tables are bounded: at most 8192 entries
 * (a 64 KiB table) per transfer; addresses outside RAM read as all-ones
 * and ignore writes, as the address space does for any device.
 *
 * Legacy ports are always decoded (IDETIM bit 15 is plain storage). A
 * machine booting a kernel without firmware should still set IDETIM
 * (config 0x40/0x42 = 0x8000) as a BIOS does: Linux's ata_piix skips
 * channels whose decode bit is clear.
 */
#ifndef HW_PIIX_IDE_H
#define HW_PIIX_IDE_H

#include "hw/pci.h"
#include "hw/ide.h"

#define BM_CMD_START   0x01
#define BM_CMD_READ    0x08   /* bus master writes memory (device to memory) */
#define BM_STATUS_ACTIVE 0x01
#define BM_STATUS_ERROR  0x02
#define BM_STATUS_INT    0x04
#define BM_STATUS_DMA0   0x20
#define BM_STATUS_DMA1   0x40

typedef struct BMDMAState {
    uint8_t cmd;
    uint8_t status;
    uint32_t addr;            /* descriptor table pointer */
    /* Cursor of the transfer in progress (not saved: transfers finish
     * inside the port access that starts them). */
    uint32_t cur_prd;
    uint64_t cur_addr;
    uint32_t cur_left;
    uint32_t entries;
    bool cur_eot;
    bool table_done;
    IDEBus *bus;
    AddressSpace *as;
} BMDMAState;

typedef struct PIIXIDEState {
    PCIDevice dev;
    IDEBus bus[2];
    BMDMAState bmdma[2];
    MemoryRegion *bmdma_mr;
} PIIXIDEState;

/* devfn: PCI_DEVFN(1, 1) on the PC. io: the I/O space for the legacy
 * ports. */
PIIXIDEState *piix_ide_new(PCIBus *bus, int devfn, MemoryRegion *io, AddressSpace *dma_as,
                           IRQLine *irq14, IRQLine *irq15, Error **errp);
void piix_ide_free(PIIXIDEState *s);
void piix_ide_reset(PIIXIDEState *s);
/* Drive 'index' 0-3: primary master, primary slave, secondary master,
 * secondary slave (QEMU's -hda..-hdd / index=). */
int piix_ide_attach(PIIXIDEState *s, int index, IDEDriveKind kind, BlockDriverState *bs,
                    Error **errp);
IDEState *piix_ide_drive(PIIXIDEState *s, int index);

extern const VMStateDescription vmstate_piix_ide;

#endif
