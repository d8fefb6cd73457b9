/*
 * i440FX host bridge: configuration mechanism #1, PAM shadowing of
 * 0xc0000-0xfffff and the SMRAM window at 0xa0000.
 */
#include "hw/i440fx.h"

#define CONFIG_ADDR_ENABLE 0x80000000u
#define SHADOW_BASE 0xc0000
#define SHADOW_SIZE 0x40000
#define SMRAM_BASE  0xa0000
#define SMRAM_SIZE  0x20000

/* ---- configuration mechanism #1 -------------------------------------- */

static uint64_t conf_addr_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXState *s = opaque;
    if (off == 0 && size == 4) {
        return s->config_addr;
    }
    if (off == 1 && size == 1 && s->cf9_read) {
        return s->cf9_read(s->cf9_opaque);
    }
    return ~0ULL;
}

static void conf_addr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXState *s = opaque;
    /* Only dword accesses reach CONFIG_ADDRESS; narrower ones are other
     * devices' business (0xcf9 is the PIIX3 reset control). */
    if (off == 0 && size == 4) {
        s->config_addr = val;
    } else if (off == 1 && size == 1 && s->cf9_write) {
        s->cf9_write(s->cf9_opaque, val);
    }
}

static const MemoryRegionOps conf_addr_ops = {
    .read = conf_addr_read, .write = conf_addr_write,
    .min_access_size = 1, .max_access_size = 4,
};

/* Returns false when the current address selects no reachable function. */
static bool conf_target(I440FXState *s, uint64_t off, int *devfn, uint32_t *reg)
{
    uint32_t ca = s->config_addr;
    if (!(ca & CONFIG_ADDR_ENABLE) || ((ca >> 16) & 0xff) != 0) {
        return false;
    }
    *devfn = (ca >> 8) & 0xff;
    *reg = (ca & 0xfc) + (off & 3);
    return true;
}

static uint64_t conf_data_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXState *s = opaque;
    int devfn;
    uint32_t reg;
    if (!conf_target(s, off, &devfn, &reg)) {
        return ~0ULL;
    }
    return pci_bus_config_read(s->bus, devfn, reg, size);
}

static void conf_data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXState *s = opaque;
    int devfn;
    uint32_t reg;
    if (conf_target(s, off, &devfn, &reg)) {
        pci_bus_config_write(s->bus, devfn, reg, val, size);
    }
}

static const MemoryRegionOps conf_data_ops = {
    .read = conf_data_read, .write = conf_data_write,
    .min_access_size = 1, .max_access_size = 4,
};

void i440fx_set_cf9_handler(I440FXState *s, I440FXCf9Read *rd, I440FXCf9Write *wr,
                            void *opaque)
{
    s->cf9_read = rd;
    s->cf9_write = wr;
    s->cf9_opaque = opaque;
}

/* ---- PAM ---------------------------------------------------------------- */

static int pam_mode(I440FXState *s, int i)
{
    if (i == 0) {
        return (s->dev.config[I440FX_PAM] >> 4) & 3;
    }
    uint8_t reg = s->dev.config[I440FX_PAM + 1 + (i - 1) / 2];
    return ((i - 1) & 1 ? reg >> 4 : reg) & 3;
}

/* Mode 2 segments read the PCI side at their own addresses. */
static uint64_t pam_wo_read(void *opaque, uint64_t off, unsigned size)
{
    I440FXPam *p = opaque;
    if (!p->host->pci_as) {
        return ~0ULL;
    }
    return address_space_read_sized(p->host->pci_as, p->base + off, size);
}

static void pam_wo_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I440FXPam *p = opaque;
    MemoryRegion *ram = p->host->ram;
    if (p->base + off + size <= memory_region_size(ram)) {
        memory_region_dispatch_write(ram, p->base + off, val, size);
    }
}

static const MemoryRegionOps pam_wo_ops = {
    .read = pam_wo_read, .write = pam_wo_write,
    .min_access_size = 1, .max_access_size = 8,
};

/*
 * Mode 1 maps a write-protected copy of the segment's DRAM. While the
 * segment is in mode 1 nothing can write that DRAM (every path to it goes
 * through this address), so copying on entry keeps the two identical.
 * Writes go through the region so translated code of changed pages is
 * dropped.
 */
static void shadow_refresh(I440FXState *s, I440FXPam *p)
{
    uint8_t *dst = memory_region_get_ram_ptr(s->shadow) + (p->base - SHADOW_BASE);
    uint8_t src[8];
    uint64_t ram_size = memory_region_size(s->ram);
    uint8_t *ram = memory_region_get_ram_ptr(s->ram);
    bool writable = false;

    for (uint64_t o = 0; o < p->size; o += 8) {
        uint64_t a = p->base + o;
        if (a + 8 <= ram_size) {
            memcpy(src, ram + a, 8);
        } else {
            memset(src, 0xff, 8);
        }
        if (memcmp(dst + o, src, 8) == 0) {
            continue;
        }
        if (!writable) {
            memory_region_set_readonly(s->shadow, false);
            writable = true;
        }
        memory_region_dispatch_write(s->shadow, a - SHADOW_BASE, ldq_le(src), 8);
    }
    if (writable) {
        memory_region_set_readonly(s->shadow, true);
    }
}

static void pam_update(I440FXState *s, bool force)
{
    bool need_pci_as = false;
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        need_pci_as |= pam_mode(s, i) == 2;
    }
    if (need_pci_as && !s->pci_as) {
        s->pci_as = address_space_new("i440fx-pam-pci", s->pci_memory);
    }
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        I440FXPam *p = &s->pam[i];
        int mode = pam_mode(s, i);
        if (mode == p->mode && !force) {
            continue;
        }
        if (mode == 1) {
            shadow_refresh(s, p);
        }
        /* Disable first so no two windows are ever enabled together. */
        if (mode != 0) {
            memory_region_set_enabled(p->to_pci, false);
        }
        if (mode != 1) {
            memory_region_set_enabled(p->rom, false);
        }
        if (mode != 2) {
            memory_region_set_enabled(p->wo, false);
        }
        memory_region_set_enabled(mode == 0 ? p->to_pci : mode == 1 ? p->rom : p->wo,
                                  mode != 3);
        p->mode = mode;
    }
    if (!need_pci_as && s->pci_as) {
        address_space_free(s->pci_as);
        s->pci_as = NULL;
    }
}

/* ---- SMRAM --------------------------------------------------------------- */

static void smram_update(I440FXState *s)
{
    bool open = s->dev.config[I440FX_SMRAM] & SMRAM_D_OPEN;
    memory_region_set_enabled(s->smram_window, !open);
}

static void i440fx_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                                uint32_t old, unsigned len)
{
    I440FXState *s = container_of(d, I440FXState, dev);
    if (addr <= I440FX_SMRAM && I440FX_SMRAM < addr + len) {
        uint8_t prev = old >> (8 * (I440FX_SMRAM - addr));
        uint8_t v = d->config[I440FX_SMRAM];
        if (prev & SMRAM_D_LCK) {
            /* Locked: only D_CLS may change until reset. */
            v = (prev & ~SMRAM_D_CLS) | (v & SMRAM_D_CLS);
        } else if (v & SMRAM_D_LCK) {
            v &= ~SMRAM_D_OPEN;
        }
        d->config[I440FX_SMRAM] = (v & ~7) | SMRAM_C_BASE_SEG;
        smram_update(s);
    }
    if (addr < I440FX_PAM + I440FX_PAM_REGS && I440FX_PAM < addr + len) {
        pam_update(s, false);
    }
}

/* ---- device ---------------------------------------------------------------- */

void i440fx_reset(I440FXState *s)
{
    PCIDevice *d = &s->dev;
    pci_device_reset(d);
    pci_set_word(d->config + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(d->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    memset(d->config + 0x50, 0, 0x30);
    memset(d->config + I440FX_PAM, 0, I440FX_PAM_REGS);
    d->config[I440FX_SMRAM] = SMRAM_C_BASE_SEG;
    s->config_addr = 0;
    pam_update(s, false);
    smram_update(s);
}

I440FXState *i440fx_new(MemoryRegion *system_memory, MemoryRegion *pci_memory,
                        MemoryRegion *ram, MemoryRegion *io, Error **errp)
{
    I440FXState *s = XNEW(I440FXState);
    s->system_memory = system_memory;
    s->pci_memory = pci_memory;
    s->ram = ram;
    s->io = io;
    s->shadow = memory_region_new_ram("i440fx-shadow", SHADOW_SIZE, errp);
    if (!s->shadow) {
        free(s);
        return NULL;
    }
    memory_region_set_readonly(s->shadow, true);
    s->bus = pci_bus_new(pci_memory, io);
    if (pci_device_init(&s->dev, s->bus, PCI_DEVFN(0, 0), "i440FX", 0x8086, 0x1237, 0x02,
                        0x060000, errp) < 0) {
        pci_bus_free(s->bus);
        memory_region_free(s->shadow);
        free(s);
        return NULL;
    }
    s->dev.config_write = i440fx_config_write;
    /* Writable chipset registers (DRAM control, row boundaries, ...) are
     * plain storage here; PAM and SMRAM have meaning. */
    memset(s->dev.wmask + 0x50, 0xff, 9);
    memset(s->dev.wmask + 0x60, 0xff, 0x12);
    s->dev.wmask[0x90] = 0xff;
    s->dev.wmask[I440FX_PAM] = 0x30;
    memset(s->dev.wmask + I440FX_PAM + 1, 0x33, I440FX_PAM_REGS - 1);
    s->dev.wmask[I440FX_SMRAM] = SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_CLS | SMRAM_D_OPEN;

    s->conf_addr_mr = memory_region_new_io("pci-conf-addr", 4, &conf_addr_ops, s);
    s->conf_data_mr = memory_region_new_io("pci-conf-data", 4, &conf_data_ops, s);
    memory_region_add_subregion(io, 0xcf8, s->conf_addr_mr, 0);
    memory_region_add_subregion(io, 0xcfc, s->conf_data_mr, 0);

    s->smram_window = memory_region_new_alias("smram-vga-window", pci_memory, SMRAM_BASE,
                                              SMRAM_SIZE);
    memory_region_add_subregion(system_memory, SMRAM_BASE, s->smram_window, 1);

    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        I440FXPam *p = &s->pam[i];
        p->host = s;
        p->base = i == 0 ? 0xf0000 : SHADOW_BASE + (i - 1) * 0x4000;
        p->size = i == 0 ? 0x10000 : 0x4000;
        p->mode = 0xff;  /* nothing applied yet */
        p->to_pci = memory_region_new_alias("pam-pci", pci_memory, p->base, p->size);
        p->rom = memory_region_new_alias("pam-rom", s->shadow, p->base - SHADOW_BASE, p->size);
        p->wo = memory_region_new_io("pam-wo", p->size, &pam_wo_ops, p);
        MemoryRegion *all[3] = { p->to_pci, p->rom, p->wo };
        for (int k = 0; k < 3; k++) {
            memory_region_set_enabled(all[k], false);
            memory_region_add_subregion(system_memory, p->base, all[k], 1);
        }
    }
    i440fx_reset(s);
    return s;
}

void i440fx_free(I440FXState *s)
{
    if (!s) {
        return;
    }
    for (int i = 0; i < I440FX_PAM_SEGMENTS; i++) {
        memory_region_free(s->pam[i].to_pci);
        memory_region_free(s->pam[i].rom);
        memory_region_free(s->pam[i].wo);
    }
    if (s->pci_as) {
        address_space_free(s->pci_as);
    }
    memory_region_free(s->smram_window);
    memory_region_free(s->conf_addr_mr);
    memory_region_free(s->conf_data_mr);
    pci_bus_free(s->bus);
    memory_region_free(s->shadow);
    free(s);
}

PCIBus *i440fx_bus(I440FXState *s)
{
    return s->bus;
}

static int i440fx_post_load(void *opaque, int version_id)
{
    I440FXState *s = opaque;
    PCIDevice *d = &s->dev;
    d->config[I440FX_SMRAM] = (d->config[I440FX_SMRAM] & ~7) | SMRAM_C_BASE_SEG;
    if (d->config[I440FX_SMRAM] & SMRAM_D_LCK) {
        d->config[I440FX_SMRAM] &= ~SMRAM_D_OPEN;
    }
    pam_update(s, true);
    smram_update(s);
    return 0;
}

const VMStateDescription vmstate_i440fx = {
    .name = "i440FX",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = i440fx_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(dev, I440FXState),
        VMSTATE_UINT32(config_addr, I440FXState),
        VMSTATE_END_OF_LIST()
    },
};
