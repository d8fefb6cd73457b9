/*
 * QEMU's firmware configuration device (fw_cfg) on I/O ports: a 16-bit
 * selector at 0x510, an 8-bit data port at 0x511 and the DMA interface
 * (a 64-bit big-endian descriptor address at 0x514, triggered by the
 * write of its low half at 0x518). SeaBIOS and Linux's qemu_fw_cfg
 * driver read it.
 *
 * Items are numbered by 16-bit keys; named files live at keys 0x20 and
 * up and are listed in the file directory (key 0x19: a big-endian count
 * then 64-byte {be32 size, be16 select, be16 reserved, char name[56]}
 * records, sorted by name). All data is copied in; integers added with
 * fw_cfg_add_i16/32/64 are stored little-endian, as QEMU does.
 */
#ifndef HW_FW_CFG_H
#define HW_FW_CFG_H

#include "util/osdep.h"
#include "cpu/memory.h"
#include "migration/vmstate.h"

#define FW_CFG_SIGNATURE        0x00
#define FW_CFG_ID               0x01
#define FW_CFG_UUID             0x02
#define FW_CFG_RAM_SIZE         0x03
#define FW_CFG_NOGRAPHIC        0x04
#define FW_CFG_NB_CPUS          0x05
#define FW_CFG_MACHINE_ID       0x06
#define FW_CFG_KERNEL_ADDR      0x07
#define FW_CFG_KERNEL_SIZE      0x08
#define FW_CFG_KERNEL_CMDLINE   0x09
#define FW_CFG_INITRD_ADDR      0x0a
#define FW_CFG_INITRD_SIZE      0x0b
#define FW_CFG_BOOT_DEVICE      0x0c
#define FW_CFG_NUMA             0x0d
#define FW_CFG_BOOT_MENU        0x0e
#define FW_CFG_MAX_CPUS         0x0f
#define FW_CFG_KERNEL_ENTRY     0x10
#define FW_CFG_KERNEL_DATA      0x11
#define FW_CFG_INITRD_DATA      0x12
#define FW_CFG_CMDLINE_ADDR     0x13
#define FW_CFG_CMDLINE_SIZE     0x14
#define FW_CFG_CMDLINE_DATA     0x15
#define FW_CFG_SETUP_ADDR       0x16
#define FW_CFG_SETUP_SIZE       0x17
#define FW_CFG_SETUP_DATA       0x18
#define FW_CFG_FILE_DIR         0x19
#define FW_CFG_FILE_FIRST       0x20
#define FW_CFG_FILE_SLOTS       0x100
#define FW_CFG_MAX_ENTRY        (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_WRITE_CHANNEL    0x4000
#define FW_CFG_ARCH_LOCAL       0x8000
#define FW_CFG_ENTRY_MASK       0x3fff
#define FW_CFG_INVALID          0xffff
/* x86 arch-local keys */
#define FW_CFG_ACPI_TABLES      (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES   (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE    (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE       (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET             (FW_CFG_ARCH_LOCAL + 4)

#define FW_CFG_VERSION          0x01   /* ID bit: traditional interface */
#define FW_CFG_VERSION_DMA      0x02   /* ID bit: DMA interface */

#define FW_CFG_DMA_CTL_ERROR    0x01
#define FW_CFG_DMA_CTL_READ     0x02
#define FW_CFG_DMA_CTL_SKIP     0x04
#define FW_CFG_DMA_CTL_SELECT   0x08
#define FW_CFG_DMA_CTL_WRITE    0x10
#define FW_CFG_DMA_SIGNATURE    0x51454d5520434647ULL   /* "QEMU CFG" */

#define FW_CFG_MAX_FILE_PATH    56

/* e820 types for fw_cfg_add_e820() */
#define E820_RAM       1
#define E820_RESERVED  2
#define E820_ACPI      3
#define E820_NVS       4

typedef struct FWCfgEntry {
    uint32_t len;
    uint8_t *data;
} FWCfgEntry;

typedef struct FWCfgState {
    FWCfgEntry entries[2][FW_CFG_MAX_ENTRY];   /* [arch-local][key] */
    uint8_t *dir;              /* FW_CFG_FILE_DIR contents */
    uint32_t nfiles;
    uint16_t cur_entry;
    uint32_t cur_offset;
    uint64_t dma_addr;
    bool dma_enabled;
    AddressSpace *dma_as;
    MemoryRegion *ctl_mr, *dma_mr;
    uint8_t *e820;             /* etc/e820: 20-byte {addr, len, type} records */
    uint32_t e820_count;
} FWCfgState;

/* iobase: 0x510 (selector; data at +1). dma_iobase: 0x514, or 0 for no
 * DMA interface. dma_as: guest memory for DMA (may be NULL without DMA). */
FWCfgState *fw_cfg_new_io(MemoryRegion *io, uint16_t iobase, uint16_t dma_iobase,
                          AddressSpace *dma_as);
void fw_cfg_free(FWCfgState *s);
/* Selects the signature item, as at power-on. Items stay. */
void fw_cfg_reset(FWCfgState *s);

/* Adds or replaces an item (key below FW_CFG_FILE_FIRST, optionally
 * with FW_CFG_ARCH_LOCAL). Returns 0 or -EINVAL. */
int fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len);
int fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value);  /* with its NUL */
int fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value);
int fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value);
int fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value);
/* Adds or replaces a named file ("bootorder", "etc/boot-fail-wait",
 * "genroms/linuxboot_dma.bin", ...). Returns its key, or -EINVAL (name
 * empty or too long) / -ENOSPC (no slot left). */
int fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len);
/* Appends a range to the "etc/e820" file. */
int fw_cfg_add_e820(FWCfgState *s, uint64_t addr, uint64_t len, uint32_t type);

/* Current contents of an item (for tests and the machine), or NULL. */
const uint8_t *fw_cfg_get(FWCfgState *s, uint16_t key, uint32_t *len);

extern const VMStateDescription vmstate_fw_cfg;

#endif
