/*
 * Intel 82441FX (i440FX) PCI and memory controller: the host bridge at
 * 00:00.0 (8086:1237), owner of PCI bus 0 and of configuration
 * mechanism #1 (0xcf8 address, 0xcfc-0xcff data).
 *
 * Memory map duties:
 *  - PAM registers 0x59-0x5f: each of the 13 segments of 0xc0000-0xfffff
 *    reads and writes either the PCI side (option ROMs, the BIOS) or DRAM:
 *    mode 0 = PCI, 1 = read DRAM / write PCI (write-protected shadow),
 *    2 = read PCI / write DRAM, 3 = DRAM. SeaBIOS shadows itself this way.
 *  - SMRAM register 0x72: the 0xa0000-0xbffff window shows the PCI side
 *    (VGA) unless D_OPEN is set, when the DRAM underneath is visible.
 *    The CPU has no System Management Mode, so only the "open" path
 *    exists (as for a non-SMM access); D_LCK locks D_OPEN to 0 until
 *    reset; G_SMRAME and D_CLS are stored.
 *
 * Wiring expected from the machine: 'ram' (whose offset N is guest
 * address N below 1 MiB) mapped at 0 of system_memory, directly or
 * through an alias, with priority 0; 'pci_memory' (a container holding BARs, the VGA
 * legacy window at 0xa0000, option ROMs and the BIOS copy at
 * 0xe0000/0xf0000) mapped at 0 of system_memory with priority -1.
 * The bridge adds its windows with priority 1 over both. The RAM
 * section of a snapshot must load before this device's state (it does
 * in the savevm stream: RAM comes first).
 */
#ifndef HW_I440FX_H
#define HW_I440FX_H

#include "hw/pci.h"

#define I440FX_PAM          0x59
#define I440FX_PAM_REGS     7
#define I440FX_PAM_SEGMENTS 13
#define I440FX_SMRAM        0x72

#define SMRAM_C_BASE_SEG    0x02
#define SMRAM_G_SMRAME      0x08
#define SMRAM_D_LCK         0x10
#define SMRAM_D_CLS         0x20
#define SMRAM_D_OPEN        0x40

typedef struct I440FXState I440FXState;

typedef struct I440FXPam {
    uint64_t base, size;
    MemoryRegion *to_pci;     /* mode 0 */
    MemoryRegion *rom;        /* mode 1: window on the write-protected shadow */
    MemoryRegion *wo;         /* mode 2: reads PCI, writes DRAM */
    I440FXState *host;
    uint8_t mode;             /* as applied to the memory map */
} I440FXPam;

typedef uint8_t I440FXCf9Read(void *opaque);
typedef void I440FXCf9Write(void *opaque, uint8_t val);

struct I440FXState {
    PCIDevice dev;
    PCIBus *bus;
    uint32_t config_addr;     /* 0xcf8 */
    MemoryRegion *system_memory, *pci_memory, *ram, *io;
    MemoryRegion *conf_addr_mr, *conf_data_mr;
    MemoryRegion *smram_window;
    MemoryRegion *shadow;     /* RAM copy behind mode-1 segments */
    AddressSpace *pci_as;     /* reads of the PCI side (mode 2 only) */
    I440FXPam pam[I440FX_PAM_SEGMENTS];
    I440FXCf9Read *cf9_read;
    I440FXCf9Write *cf9_write;
    void *cf9_opaque;
};

I440FXState *i440fx_new(MemoryRegion *system_memory, MemoryRegion *pci_memory,
                        MemoryRegion *ram, MemoryRegion *io, Error **errp);
/* Frees the bridge and its bus: free the devices on the bus first. */
void i440fx_free(I440FXState *s);
PCIBus *i440fx_bus(I440FXState *s);
/* Power-on values, all PAM segments to PCI, SMRAM closed and unlocked,
 * and a reset of every device's generic PCI state on the bus. */
void i440fx_reset(I440FXState *s);
/* The byte port 0xcf9 lies inside the 0xcf8 dword but belongs to the
 * PIIX3 (reset control); byte accesses there are passed to these. */
void i440fx_set_cf9_handler(I440FXState *s, I440FXCf9Read *rd, I440FXCf9Write *wr,
                            void *opaque);

extern const VMStateDescription vmstate_i440fx;

#endif
