/*
 * A small PCI bus: one bus (number 0) of up to 32 slots x 8 functions.
 *
 * A device embeds a PCIDevice (usually as its first member), fills its
 * 256-byte configuration space through pci_device_init() and
 * pci_register_bar(), and may hook configuration writes to react to its
 * own registers. The bus owns BAR mapping: when the guest programs a BAR
 * and enables decoding in the command register, the BAR's MemoryRegion
 * is placed in the bus's memory or I/O container.
 *
 * Interrupts: a device asserts INTx with pci_set_irq(); the bus maps
 * (slot, pin) to one of its PIRQ lines through the router the ISA bridge
 * installs (PIIX3: PIRQA-D), and tells the router the OR of all devices
 * on that PIRQ.
 *
 * Configuration accesses come from the host bridge (hw/i440fx.c), which
 * implements configuration mechanism #1.
 */
#ifndef HW_PCI_H
#define HW_PCI_H

#include "util/osdep.h"
#include "util/error.h"
#include "cpu/memory.h"
#include "migration/vmstate.h"

/* Configuration header offsets (type 0). */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_CLASS_DEVICE        0x0a
#define PCI_CACHE_LINE_SIZE     0x0c
#define PCI_LATENCY_TIMER       0x0d
#define PCI_HEADER_TYPE         0x0e
#define PCI_BIST                0x0f
#define PCI_BASE_ADDRESS_0      0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_ROM_ADDRESS         0x30
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d
#define PCI_MIN_GNT             0x3e
#define PCI_MAX_LAT             0x3f
#define PCI_CONFIG_HEADER_SIZE  0x40
#define PCI_CONFIG_SPACE_SIZE   0x100

#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80

/* Default subsystem IDs (Red Hat / QEMU virtual machine), set by
 * pci_device_init(); a device may replace them afterwards. */
#define PCI_SUBSYSTEM_VENDOR_QEMU 0x1af4
#define PCI_SUBSYSTEM_ID_QEMU     0x1100

/* Command register bits. */
#define PCI_COMMAND_IO            0x0001
#define PCI_COMMAND_MEMORY        0x0002
#define PCI_COMMAND_MASTER        0x0004
#define PCI_COMMAND_SPECIAL       0x0008
#define PCI_COMMAND_INVALIDATE    0x0010
#define PCI_COMMAND_VGA_PALETTE   0x0020
#define PCI_COMMAND_PARITY        0x0040
#define PCI_COMMAND_SERR          0x0100
#define PCI_COMMAND_FAST_BACK     0x0200
#define PCI_COMMAND_INTX_DISABLE  0x0400

/* Status register bits. */
#define PCI_STATUS_INTERRUPT      0x0008
#define PCI_STATUS_CAP_LIST       0x0010
#define PCI_STATUS_66MHZ          0x0020
#define PCI_STATUS_FAST_BACK      0x0080
#define PCI_STATUS_PARITY         0x0100
#define PCI_STATUS_DEVSEL_MEDIUM  0x0200
#define PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define PCI_STATUS_REC_TARGET_ABORT 0x1000
#define PCI_STATUS_REC_MASTER_ABORT 0x2000
#define PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define PCI_STATUS_DETECTED_PARITY  0x8000

/* Low bits of a BAR (the type of a PCIBAR). */
#define PCI_BASE_ADDRESS_SPACE_IO      0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_64   0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH  0x08
#define PCI_ROM_ADDRESS_ENABLE         0x01

#define PCI_NUM_BARS   6
#define PCI_ROM_SLOT   6    /* the expansion ROM, as BAR index 6 */
#define PCI_NUM_REGIONS 7
#define PCI_BAR_UNMAPPED UINT64_MAX

#define PCI_DEVFN(slot, fn) ((((slot) & 0x1f) << 3) | ((fn) & 7))
#define PCI_SLOT(devfn)     (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)     ((devfn) & 7)

/* Capability IDs for pci_add_capability(). */
#define PCI_CAP_ID_PM     0x01
#define PCI_CAP_ID_MSI    0x05
#define PCI_CAP_ID_VNDR   0x09

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

typedef struct PCIBAR {
    MemoryRegion *mr;     /* NULL: BAR not implemented (reads 0) */
    uint64_t size;        /* power of two */
    uint8_t type;         /* PCI_BASE_ADDRESS_* low bits */
    uint64_t addr;        /* where mr is mapped, or PCI_BAR_UNMAPPED */
} PCIBAR;

/* Device hooks. config_write is called after the bus stored the value
 * (through the write masks) and remapped BARs, with the old contents of
 * the written bytes available in 'old' (little-endian, len bytes). */
typedef void PCIConfigWriteHook(PCIDevice *d, uint32_t addr, uint32_t val,
                                uint32_t old, unsigned len);
typedef uint32_t PCIConfigReadHook(PCIDevice *d, uint32_t addr, unsigned len);

struct PCIDevice {
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* bits cleared by writing 1 */
    PCIBus *bus;
    int devfn;                /* -1 until registered */
    const char *name;
    PCIBAR bars[PCI_NUM_REGIONS];
    int32_t irq_level;        /* INTx the device asserts (0 or 1) */
    PCIConfigWriteHook *config_write;  /* optional */
    PCIConfigReadHook *config_read;    /* optional: replaces the default */
};

/* Maps a device's INTx pin (0 = INTA .. 3 = INTD) to a bus PIRQ. */
typedef int PCIMapIRQFn(void *opaque, int devfn, int pin);
/* Told the level of one PIRQ whenever it may have changed. */
typedef void PCISetIRQFn(void *opaque, int pirq, int level);

/* mem and io are the containers BARs map into (for the PC: the PCI
 * memory container below the RAM and the system I/O space). */
PCIBus *pci_bus_new(MemoryRegion *mem, MemoryRegion *io);
void pci_bus_free(PCIBus *bus);
void pci_bus_set_irq_router(PCIBus *bus, PCIMapIRQFn *map, PCISetIRQFn *set,
                            void *opaque, int nirqs);
/* Level of PIRQ 'pirq' now (OR over devices routed to it). */
int pci_bus_get_pirq_level(PCIBus *bus, int pirq);
PCIDevice *pci_bus_find_device(PCIBus *bus, int devfn);
/* Resets every device's generic state: BARs unmapped, command 0, INTx
 * deasserted. Devices reset their own registers themselves. */
void pci_bus_reset(PCIBus *bus);

/* Configuration access by bus number/devfn, as the host bridge does it.
 * Absent devices read all-ones. len is 1, 2 or 4; addr + len <= 256 is
 * enforced (excess bytes are dropped). */
uint32_t pci_bus_config_read(PCIBus *bus, int devfn, uint32_t addr, unsigned len);
void pci_bus_config_write(PCIBus *bus, int devfn, uint32_t addr, uint32_t val, unsigned len);

/* Registers d at devfn (-1: the first free slot, function 0). class_code
 * is the 24-bit class/subclass/prog-if. Fills the ID registers and
 * sensible write masks (command, status W1C bits, cache line, latency,
 * interrupt line). Returns 0 or -EBUSY/-EINVAL with errp set. */
int pci_device_init(PCIDevice *d, PCIBus *bus, int devfn, const char *name,
                    uint16_t vendor, uint16_t device, uint8_t revision,
                    uint32_t class_code, Error **errp);
/* Unmaps BARs and removes d from its bus. */
void pci_device_exit(PCIDevice *d);
/* Generic reset: command 0, status error bits clear, BARs to their
 * type bits (unmapped), interrupt line 0, INTx deasserted. */
void pci_device_reset(PCIDevice *d);

/* BAR 0-5 or PCI_ROM_SLOT. type: PCI_BASE_ADDRESS_SPACE_IO or memory
 * flags (64-bit uses idx and idx+1). The region's size is rounded up to
 * a power of two (at least 4 for I/O, 16 for memory, 2 KiB for ROM).
 * The expansion ROM maps when its enable bit and the memory command bit
 * are set. */
void pci_register_bar(PCIDevice *d, int idx, uint8_t type, MemoryRegion *mr);
/* Current guest address of a BAR, or PCI_BAR_UNMAPPED. */
uint64_t pci_bar_address(PCIDevice *d, int idx);

/* 1 = interrupt pin (PCI_INTERRUPT_PIN) asserted. */
void pci_set_irq(PCIDevice *d, int level);
void pci_set_interrupt_pin(PCIDevice *d, int pin /* 1 = INTA .. 4 = INTD, 0 none */);

/* Adds a capability of 'size' bytes at 'offset' (>= 0x40, dword
 * aligned, inside config space and not overlapping another) to the
 * front of the capability list. Returns offset or -EINVAL. */
int pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t offset, uint8_t size,
                       Error **errp);
/* Offset of the first capability with this ID, or 0. */
uint8_t pci_find_capability(PCIDevice *d, uint8_t cap_id);

/* The default behaviour the bus applies; usable from hooks. */
uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned len);
void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len);
/* Re-evaluates BAR mappings and INTx after the config space changed
 * behind the bus's back (loadvm). */
void pci_device_update_mappings(PCIDevice *d);

static inline void pci_set_byte(uint8_t *c, uint8_t v) { c[0] = v; }
static inline void pci_set_word(uint8_t *c, uint16_t v) { stw_le(c, v); }
static inline void pci_set_long(uint8_t *c, uint32_t v) { stl_le(c, v); }
static inline uint8_t pci_get_byte(const uint8_t *c) { return c[0]; }
static inline uint16_t pci_get_word(const uint8_t *c) { return ldw_le(c); }
static inline uint32_t pci_get_long(const uint8_t *c) { return ldl_le(c); }

/* Config space + INTx level; its post_load remaps BARs. Devices embed
 * it with VMSTATE_PCI_DEVICE(field, State). */
extern const VMStateDescription vmstate_pci_device;
#define VMSTATE_PCI_DEVICE(_field, _state) \
    VMSTATE_STRUCT(_field, _state, 0, vmstate_pci_device, PCIDevice)

#endif
