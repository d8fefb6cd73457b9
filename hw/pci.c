/*
 * PCI bus: configuration space with write masks, BAR sizing and mapping,
 * INTx routing to the bridge's PIRQ lines, capability lists.
 */
#include "hw/pci.h"

#define PCI_DEVFN_MAX 256
#define PCI_MAX_PIRQS 8

struct PCIBus {
    MemoryRegion *mem;
    MemoryRegion *io;
    PCIDevice *devices[PCI_DEVFN_MAX];
    PCIDevice *present[PCI_DEVFN_MAX];   /* the same, packed: interrupts scan this */
    int npresent;
    PCIMapIRQFn *map_irq;
    PCISetIRQFn *set_irq;
    void *irq_opaque;
    int nirqs;
    int8_t pirq_level[PCI_MAX_PIRQS];  /* last level told to the router */
};

PCIBus *pci_bus_new(MemoryRegion *mem, MemoryRegion *io)
{
    PCIBus *bus = XNEW(PCIBus);
    bus->mem = mem;
    bus->io = io;
    return bus;
}

void pci_bus_free(PCIBus *bus)
{
    if (!bus) {
        return;
    }
    for (int i = 0; i < PCI_DEVFN_MAX; i++) {
        if (bus->devices[i]) {
            pci_device_exit(bus->devices[i]);
        }
    }
    free(bus);
}

void pci_bus_set_irq_router(PCIBus *bus, PCIMapIRQFn *map, PCISetIRQFn *set,
                            void *opaque, int nirqs)
{
    bus->map_irq = map;
    bus->set_irq = set;
    bus->irq_opaque = opaque;
    bus->nirqs = MAX(0, MIN(nirqs, PCI_MAX_PIRQS));
    memset(bus->pirq_level, 0, sizeof(bus->pirq_level));
}

PCIDevice *pci_bus_find_device(PCIBus *bus, int devfn)
{
    if (devfn < 0 || devfn >= PCI_DEVFN_MAX) {
        return NULL;
    }
    return bus->devices[devfn];
}

/* ---- interrupts ------------------------------------------------------ */

/* PIRQ the device's pin maps to, or -1. */
static int device_pirq(PCIDevice *d)
{
    PCIBus *bus = d->bus;
    int pin = d->config[PCI_INTERRUPT_PIN];
    if (!bus || !bus->map_irq || pin < 1 || pin > 4) {
        return -1;
    }
    int pirq = bus->map_irq(bus->irq_opaque, d->devfn, pin - 1);
    return (pirq >= 0 && pirq < bus->nirqs) ? pirq : -1;
}

static bool device_asserts_intx(PCIDevice *d)
{
    return d->irq_level &&
           !(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
}

int pci_bus_get_pirq_level(PCIBus *bus, int pirq)
{
    for (int i = 0; i < bus->npresent; i++) {
        PCIDevice *d = bus->present[i];
        if (device_asserts_intx(d) && device_pirq(d) == pirq) {
            return 1;
        }
    }
    return 0;
}

static void bus_update_pirq(PCIBus *bus, int pirq, bool force)
{
    if (pirq < 0 || pirq >= bus->nirqs) {
        return;
    }
    int level = pci_bus_get_pirq_level(bus, pirq);
    if (force || level != bus->pirq_level[pirq]) {
        bus->pirq_level[pirq] = level;
        if (bus->set_irq) {
            bus->set_irq(bus->irq_opaque, pirq, level);
        }
    }
}

static void device_update_irq(PCIDevice *d)
{
    uint16_t status = pci_get_word(d->config + PCI_STATUS);
    status = d->irq_level ? (status | PCI_STATUS_INTERRUPT) : (status & ~PCI_STATUS_INTERRUPT);
    pci_set_word(d->config + PCI_STATUS, status);
    if (d->bus) {
        bus_update_pirq(d->bus, device_pirq(d), false);
    }
}

void pci_set_irq(PCIDevice *d, int level)
{
    level = !!level;
    if (d->irq_level != level) {
        d->irq_level = level;
        device_update_irq(d);
    }
}

void pci_set_interrupt_pin(PCIDevice *d, int pin)
{
    d->config[PCI_INTERRUPT_PIN] = (pin >= 0 && pin <= 4) ? pin : 0;
}

/* ---- BARs ------------------------------------------------------------ */

static uint64_t pow2_ceil(uint64_t v)
{
    if (v <= 1) {
        return 1;
    }
    return 1ULL << (64 - clz64(v - 1));
}

static int bar_reg(int idx)
{
    return idx == PCI_ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * idx;
}

/* Where the guest's programming puts BAR idx now. */
static uint64_t bar_decoded_address(PCIDevice *d, int idx)
{
    PCIBAR *b = &d->bars[idx];
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint32_t reg = pci_get_long(d->config + bar_reg(idx));
    uint64_t addr, last;

    if (idx == PCI_ROM_SLOT) {
        if (!(cmd & PCI_COMMAND_MEMORY) || !(reg & PCI_ROM_ADDRESS_ENABLE)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = reg & ~(uint32_t)(b->size - 1) & 0xfffff800u;
        last = addr + b->size - 1;
        return (addr == 0 || last > 0xfffffffeULL) ? PCI_BAR_UNMAPPED : addr;
    }
    if (b->type & PCI_BASE_ADDRESS_SPACE_IO) {
        if (!(cmd & PCI_COMMAND_IO)) {
            return PCI_BAR_UNMAPPED;
        }
        addr = reg & ~(uint32_t)(b->size - 1) & ~3u;
        last = addr + b->size - 1;
        /* The PC's I/O space is 64 KiB; 0 is never a real assignment. */
        return (addr == 0 || last > 0xffff) ? PCI_BAR_UNMAPPED : addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) {
        return PCI_BAR_UNMAPPED;
    }
    addr = reg & ~0xfu;
    if (b->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        addr |= (uint64_t)pci_get_long(d->config + bar_reg(idx) + 4) << 32;
        addr &= ~(b->size - 1);
        last = addr + b->size - 1;
        /* Keep within 52 bits of physical address. */
        if (addr == 0 || last < addr || last >= (1ULL << 52)) {
            return PCI_BAR_UNMAPPED;
        }
        return addr;
    }
    addr &= ~(b->size - 1);
    last = addr + b->size - 1;
    /* A BAR reading back all-ones (being sized) is not a mapping. */
    return (addr == 0 || last > 0xfffffffeULL) ? PCI_BAR_UNMAPPED : addr;
}

static MemoryRegion *bar_container(PCIDevice *d, int idx)
{
    if (!d->bus) {
        return NULL;
    }
    return (d->bars[idx].type & PCI_BASE_ADDRESS_SPACE_IO) && idx != PCI_ROM_SLOT
           ? d->bus->io : d->bus->mem;
}

static void update_mappings(PCIDevice *d)
{
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIBAR *b = &d->bars[i];
        if (!b->mr || !bar_container(d, i)) {
            continue;
        }
        uint64_t addr = bar_decoded_address(d, i);
        if (addr == b->addr) {
            continue;
        }
        if (addr == PCI_BAR_UNMAPPED) {
            memory_region_set_enabled(b->mr, false);
        } else {
            if (b->addr == PCI_BAR_UNMAPPED) {
                memory_region_set_address(b->mr, addr);
                memory_region_set_enabled(b->mr, true);
            } else {
                memory_region_set_address(b->mr, addr);
            }
        }
        b->addr = addr;
    }
}

void pci_device_update_mappings(PCIDevice *d)
{
    update_mappings(d);
    /* The status bit mirrors the device's line. */
    device_update_irq(d);
    if (d->bus) {
        bus_update_pirq(d->bus, device_pirq(d), false);
    }
}

void pci_register_bar(PCIDevice *d, int idx, uint8_t type, MemoryRegion *mr)
{
    if (idx < 0 || idx >= PCI_NUM_REGIONS || !mr) {
        return;
    }
    PCIBAR *b = &d->bars[idx];
    uint64_t size = pow2_ceil(memory_region_size(mr));
    int reg = bar_reg(idx);
    uint64_t wmask;

    if (idx == PCI_ROM_SLOT) {
        type = 0;
        size = MAX(size, 2 * KiB);
        wmask = (~(size - 1) & 0xfffff800u) | PCI_ROM_ADDRESS_ENABLE;
    } else if (type & PCI_BASE_ADDRESS_SPACE_IO) {
        type = PCI_BASE_ADDRESS_SPACE_IO;
        size = MAX(size, 4);
        wmask = ~(size - 1) & 0xfffffffcu;
    } else {
        type &= PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;
        if ((type & PCI_BASE_ADDRESS_MEM_TYPE_64) && idx == PCI_NUM_BARS - 1) {
            type &= ~PCI_BASE_ADDRESS_MEM_TYPE_64;   /* no room for the high half */
        }
        size = MAX(size, 16);
        wmask = ~(size - 1) & ~0xfULL;
    }
    b->mr = mr;
    b->size = size;
    b->type = type;
    b->addr = PCI_BAR_UNMAPPED;
    pci_set_long(d->config + reg, type);
    pci_set_long(d->wmask + reg, (uint32_t)wmask);
    if (type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        pci_set_long(d->config + reg + 4, 0);
        pci_set_long(d->wmask + reg + 4, (uint32_t)(wmask >> 32));
    }
    MemoryRegion *container = bar_container(d, idx);
    if (container) {
        memory_region_set_enabled(mr, false);
        memory_region_add_subregion(container, 0, mr, 1);
    }
    update_mappings(d);
}

uint64_t pci_bar_address(PCIDevice *d, int idx)
{
    if (idx < 0 || idx >= PCI_NUM_REGIONS) {
        return PCI_BAR_UNMAPPED;
    }
    return d->bars[idx].addr;
}

/* ---- configuration space ---------------------------------------------- */

uint32_t pci_default_config_read(PCIDevice *d, uint32_t addr, unsigned len)
{
    uint32_t v = 0;
    if (addr < PCI_CONFIG_SPACE_SIZE && len <= 4) {
        memcpy(&v, d->config + addr, MIN(len, PCI_CONFIG_SPACE_SIZE - addr));
    }
    return v;
}

static bool ranges_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

void pci_default_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len)
{
    if (addr >= PCI_CONFIG_SPACE_SIZE || len > 4) {
        return;
    }
    len = MIN(len, PCI_CONFIG_SPACE_SIZE - addr);
    uint16_t old_cmd = pci_get_word(d->config + PCI_COMMAND);
    for (unsigned i = 0; i < len; i++) {
        uint8_t b = val >> (8 * i);
        uint8_t wm = d->wmask[addr + i], w1c = d->w1cmask[addr + i];
        d->config[addr + i] = (d->config[addr + i] & ~wm) | (b & wm);
        d->config[addr + i] &= ~(b & w1c);
    }
    if (ranges_overlap(addr, len, PCI_BASE_ADDRESS_0, 24) ||
        ranges_overlap(addr, len, PCI_ROM_ADDRESS, 4) ||
        ranges_overlap(addr, len, PCI_COMMAND, 2)) {
        update_mappings(d);
    }
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE && d->bus) {
        bus_update_pirq(d->bus, device_pirq(d), false);
    }
}

uint32_t pci_bus_config_read(PCIBus *bus, int devfn, uint32_t addr, unsigned len)
{
    PCIDevice *d = pci_bus_find_device(bus, devfn);
    if (len == 0 || len > 4) {
        return 0;
    }
    uint32_t ones = len == 4 ? 0xffffffffu : (1u << (len * 8)) - 1;
    if (!d || addr >= PCI_CONFIG_SPACE_SIZE) {
        return ones;
    }
    unsigned n = MIN(len, PCI_CONFIG_SPACE_SIZE - addr);
    uint32_t v = d->config_read ? d->config_read(d, addr, n) : pci_default_config_read(d, addr, n);
    if (n < len) {
        v |= ones & ~((1u << (n * 8)) - 1);
    }
    return v & ones;
}

void pci_bus_config_write(PCIBus *bus, int devfn, uint32_t addr, uint32_t val, unsigned len)
{
    PCIDevice *d = pci_bus_find_device(bus, devfn);
    if (!d || addr >= PCI_CONFIG_SPACE_SIZE || len == 0 || len > 4) {
        return;
    }
    len = MIN(len, PCI_CONFIG_SPACE_SIZE - addr);
    uint32_t old = pci_default_config_read(d, addr, len);
    pci_default_config_write(d, addr, val, len);
    if (d->config_write) {
        d->config_write(d, addr, val, old, len);
    }
}

/* ---- devices ----------------------------------------------------------- */

int pci_device_init(PCIDevice *d, PCIBus *bus, int devfn, const char *name,
                    uint16_t vendor, uint16_t device, uint8_t revision,
                    uint32_t class_code, Error **errp)
{
    if (devfn < 0) {
        for (devfn = 0; devfn < PCI_DEVFN_MAX; devfn += 8) {
            if (!bus->devices[devfn]) {
                break;
            }
        }
        if (devfn >= PCI_DEVFN_MAX) {
            error_setg(errp, "PCI: no free slot for device '%s'", name);
            return -EBUSY;
        }
    }
    if (devfn >= PCI_DEVFN_MAX) {
        error_setg(errp, "PCI: invalid devfn %d for device '%s'", devfn, name);
        return -EINVAL;
    }
    if (bus->devices[devfn]) {
        error_setg(errp, "PCI: slot %d function %d for device '%s' is already taken by '%s'",
                   PCI_SLOT(devfn), PCI_FUNC(devfn), name, bus->devices[devfn]->name);
        return -EBUSY;
    }
    memset(d->config, 0, sizeof(d->config));
    memset(d->wmask, 0, sizeof(d->wmask));
    memset(d->w1cmask, 0, sizeof(d->w1cmask));
    memset(d->bars, 0, sizeof(d->bars));
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        d->bars[i].addr = PCI_BAR_UNMAPPED;
    }
    d->bus = bus;
    d->devfn = devfn;
    d->name = name;
    d->irq_level = 0;
    pci_set_word(d->config + PCI_VENDOR_ID, vendor);
    pci_set_word(d->config + PCI_DEVICE_ID, device);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = class_code & 0xff;
    pci_set_word(d->config + PCI_CLASS_DEVICE, class_code >> 8);
    /* The subsystem IDs QEMU gives every device: SeaBIOS only believes
     * it runs on QEMU (fw_cfg, PCI setup) when the host bridge has them. */
    pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYSTEM_VENDOR_QEMU);
    pci_set_word(d->config + PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_ID_QEMU);
    pci_set_word(d->wmask + PCI_COMMAND,
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                 PCI_COMMAND_SPECIAL | PCI_COMMAND_INVALIDATE | PCI_COMMAND_VGA_PALETTE |
                 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    pci_set_word(d->w1cmask + PCI_STATUS,
                 PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
                 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR |
                 PCI_STATUS_DETECTED_PARITY);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    bus->devices[devfn] = d;
    bus->present[bus->npresent++] = d;
    return 0;
}

void pci_device_exit(PCIDevice *d)
{
    if (!d->bus) {
        return;
    }
    pci_set_irq(d, 0);
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIBAR *b = &d->bars[i];
        MemoryRegion *container = bar_container(d, i);
        if (b->mr && container) {
            memory_region_del_subregion(container, b->mr);
        }
        b->addr = PCI_BAR_UNMAPPED;
    }
    PCIBus *bus = d->bus;
    if (d->devfn >= 0 && d->devfn < PCI_DEVFN_MAX && bus->devices[d->devfn] == d) {
        bus->devices[d->devfn] = NULL;
    }
    for (int i = 0; i < bus->npresent; i++) {
        if (bus->present[i] == d) {
            bus->present[i] = bus->present[--bus->npresent];
            break;
        }
    }
    d->bus = NULL;
    d->devfn = -1;
}

void pci_device_reset(PCIDevice *d)
{
    pci_set_word(d->config + PCI_COMMAND, 0);
    uint16_t status = pci_get_word(d->config + PCI_STATUS);
    pci_set_word(d->config + PCI_STATUS, status & ~pci_get_word(d->w1cmask + PCI_STATUS));
    d->config[PCI_CACHE_LINE_SIZE] = 0;
    d->config[PCI_LATENCY_TIMER] = 0;
    d->config[PCI_INTERRUPT_LINE] = 0;
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIBAR *b = &d->bars[i];
        if (!b->mr) {
            continue;
        }
        pci_set_long(d->config + bar_reg(i), b->type);
        if (b->type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
            pci_set_long(d->config + bar_reg(i) + 4, 0);
        }
    }
    update_mappings(d);
    pci_set_irq(d, 0);
}

void pci_bus_reset(PCIBus *bus)
{
    for (int i = 0; i < PCI_DEVFN_MAX; i++) {
        if (bus->devices[i]) {
            pci_device_reset(bus->devices[i]);
        }
    }
    for (int p = 0; p < bus->nirqs; p++) {
        bus_update_pirq(bus, p, true);
    }
}

/* ---- capabilities ------------------------------------------------------- */

uint8_t pci_find_capability(PCIDevice *d, uint8_t cap_id)
{
    if (!(pci_get_word(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    uint8_t off = d->config[PCI_CAPABILITY_LIST] & ~3;
    /* At most 48 capabilities fit; anything longer is a loop. */
    for (int n = 0; off >= PCI_CONFIG_HEADER_SIZE && n < 48; n++) {
        if (d->config[off] == cap_id) {
            return off;
        }
        off = d->config[off + 1] & ~3;
    }
    return 0;
}

int pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t offset, uint8_t size,
                       Error **errp)
{
    if (offset < PCI_CONFIG_HEADER_SIZE || (offset & 3) || size < 2 ||
        (unsigned)offset + size > PCI_CONFIG_SPACE_SIZE) {
        error_setg(errp, "PCI device '%s': capability 0x%x at 0x%x (size %u) does not fit",
                   d->name, cap_id, offset, size);
        return -EINVAL;
    }
    /* No overlap with an existing capability (sizes unknown: assume they
     * extend to the next capability's start, so only check headers). */
    uint8_t off = (pci_get_word(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)
                  ? d->config[PCI_CAPABILITY_LIST] : 0;
    for (int n = 0; off >= PCI_CONFIG_HEADER_SIZE && n < 48; n++) {
        if (ranges_overlap(offset, size, off, 2)) {
            error_setg(errp, "PCI device '%s': capability 0x%x at 0x%x overlaps capability at 0x%x",
                       d->name, cap_id, offset, off);
            return -EINVAL;
        }
        off = d->config[off + 1];
    }
    d->config[offset] = cap_id;
    d->config[offset + 1] = (pci_get_word(d->config + PCI_STATUS) & PCI_STATUS_CAP_LIST)
                            ? d->config[PCI_CAPABILITY_LIST] : 0;
    d->config[PCI_CAPABILITY_LIST] = offset;
    pci_set_word(d->config + PCI_STATUS,
                 pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    memset(d->wmask + offset, 0, 2);
    memset(d->w1cmask + offset, 0, 2);
    return offset;
}

/* ---- VMState ------------------------------------------------------------ */

static int pci_device_post_load(void *opaque, int version_id)
{
    PCIDevice *d = opaque;
    d->irq_level = !!d->irq_level;
    pci_device_update_mappings(d);
    return 0;
}

static int pci_device_check(const void *loaded, int version_id, Error **errp)
{
    const PCIDevice *d = loaded;
    if (d->irq_level != 0 && d->irq_level != 1) {
        error_setg(errp, "PCI device: invalid INTx level %d", d->irq_level);
        return -EINVAL;
    }
    return 0;
}

const VMStateDescription vmstate_pci_device = {
    .name = "PCIDevice",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = pci_device_check,
    .post_load = pci_device_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(config, PCIDevice),
        VMSTATE_INT32(irq_level, PCIDevice),
        VMSTATE_END_OF_LIST()
    },
};
