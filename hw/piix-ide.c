/*
 * PIIX3 IDE function: legacy channels plus the bus-master DMA engine
 * (SFF-8038i style: per channel a command register, a status register
 * and a pointer to a table of Physical Region Descriptors).
 */
#include "hw/piix-ide.h"

/* A descriptor table is at most 64 KiB: 8192 entries of 8 bytes. */
#define PRD_MAX_ENTRIES 8192
#define PRD_EOT 0x8000

/* ---- the engine as the drives see it ------------------------------------- */

static int64_t bmdma_rw(void *opaque, uint8_t *buf, int64_t len, bool to_memory)
{
    BMDMAState *bm = opaque;
    int64_t moved = 0;
    while (moved < len) {
        if (bm->cur_left == 0) {
            if (bm->table_done || bm->entries >= PRD_MAX_ENTRIES) {
                bm->table_done = true;
                break;
            }
            uint8_t prd[8];
            address_space_read(bm->as, bm->cur_prd, prd, sizeof(prd));
            bm->cur_prd += 8;
            bm->entries++;
            bm->cur_addr = ldl_le(prd) & ~1u;
            uint32_t count = ldw_le(prd + 4) & 0xfffe;
            bm->cur_left = count ? count : 0x10000;
            bm->cur_eot = ldw_le(prd + 6) & PRD_EOT;
        }
        uint32_t n = (uint32_t)MIN((int64_t)bm->cur_left, len - moved);
        if (to_memory) {
            address_space_write(bm->as, bm->cur_addr, buf + moved, n);
        } else {
            address_space_read(bm->as, bm->cur_addr, buf + moved, n);
        }
        bm->cur_addr += n;
        bm->cur_left -= n;
        moved += n;
        if (bm->cur_left == 0 && bm->cur_eot) {
            bm->table_done = true;
        }
    }
    return moved;
}

static void bmdma_done(void *opaque, bool table_short)
{
    BMDMAState *bm = opaque;
    /* Table exhausted (exactly or too early): the engine stops. A table
     * larger than the transfer leaves it active; the driver stops it. */
    if (table_short || bm->table_done) {
        bm->status &= ~BM_STATUS_ACTIVE;
    }
}

static void bmdma_irq(void *opaque)
{
    BMDMAState *bm = opaque;
    bm->status |= BM_STATUS_INT;
}

static const IDEDMAOps piix_dma_ops = {
    .rw = bmdma_rw,
    .done = bmdma_done,
    .irq = bmdma_irq,
};

/* ---- registers (BAR4) ---------------------------------------------------- */

static void bmdma_cmd_write(BMDMAState *bm, uint8_t val)
{
    uint8_t old = bm->cmd;
    bm->cmd = val & (BM_CMD_START | BM_CMD_READ);
    if (!(old & BM_CMD_START) && (val & BM_CMD_START)) {
        bm->status |= BM_STATUS_ACTIVE;
        bm->cur_prd = bm->addr;
        bm->cur_left = 0;
        bm->cur_eot = false;
        bm->table_done = false;
        bm->entries = 0;
        ide_bus_dma_start(bm->bus);
    } else if ((old & BM_CMD_START) && !(val & BM_CMD_START)) {
        bm->status &= ~BM_STATUS_ACTIVE;
        ide_bus_dma_stop(bm->bus);
    }
}

static uint8_t bmdma_readb(PIIXIDEState *s, uint32_t off)
{
    BMDMAState *bm = &s->bmdma[(off >> 3) & 1];
    switch (off & 7) {
    case 0: return bm->cmd;
    case 2: return bm->status;
    case 4: case 5: case 6: case 7:
        return bm->addr >> (8 * (off & 3));
    default: return 0;
    }
}

static void bmdma_writeb(PIIXIDEState *s, uint32_t off, uint8_t val)
{
    BMDMAState *bm = &s->bmdma[(off >> 3) & 1];
    switch (off & 7) {
    case 0:
        bmdma_cmd_write(bm, val);
        break;
    case 2:
        bm->status = (bm->status & ~(BM_STATUS_DMA0 | BM_STATUS_DMA1)) |
                     (val & (BM_STATUS_DMA0 | BM_STATUS_DMA1));
        bm->status &= ~(val & (BM_STATUS_ERROR | BM_STATUS_INT));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned shift = 8 * (off & 3);
        bm->addr = (bm->addr & ~(0xffu << shift)) | ((uint32_t)val << shift);
        bm->addr &= ~3u;
        break;
    }
    default:
        break;
    }
}

static uint64_t bmdma_mr_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)bmdma_readb(opaque, (off + i) & 15) << (8 * i);
    }
    return v;
}

static void bmdma_mr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        bmdma_writeb(opaque, (off + i) & 15, val >> (8 * i));
    }
}

static const MemoryRegionOps bmdma_ops = {
    .read = bmdma_mr_read, .write = bmdma_mr_write,
    .min_access_size = 1, .max_access_size = 4,
};

/* ---- device ------------------------------------------------------------------ */

void piix_ide_reset(PIIXIDEState *s)
{
    PCIDevice *d = &s->dev;
    pci_device_reset(d);
    pci_set_word(d->config + PCI_STATUS, PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    memset(d->config + 0x40, 0, 0x08);
    for (int i = 0; i < 2; i++) {
        BMDMAState *bm = &s->bmdma[i];
        bm->cmd = 0;
        bm->status = 0;
        bm->addr = 0;
        bm->cur_left = 0;
        bm->table_done = false;
        ide_bus_reset(&s->bus[i]);
    }
}

PIIXIDEState *piix_ide_new(PCIBus *bus, int devfn, MemoryRegion *io, AddressSpace *dma_as,
                           IRQLine *irq14, IRQLine *irq15, Error **errp)
{
    PIIXIDEState *s = XNEW(PIIXIDEState);
    if (pci_device_init(&s->dev, bus, devfn, "piix3-ide", 0x8086, 0x7010, 0x00, 0x010180,
                        errp) < 0) {
        free(s);
        return NULL;
    }
    memset(s->dev.wmask + 0x40, 0xff, 5);   /* IDETIM primary/secondary, SIDETIM */
    static const uint16_t iobase[2] = { 0x1f0, 0x170 }, ctlbase[2] = { 0x3f6, 0x376 };
    IRQLine *irqs[2] = { irq14, irq15 };
    for (int i = 0; i < 2; i++) {
        ide_bus_init(&s->bus[i], i, irqs[i]);
        ide_bus_register_ports(&s->bus[i], io, iobase[i], ctlbase[i]);
        s->bmdma[i].bus = &s->bus[i];
        s->bmdma[i].as = dma_as;
        ide_bus_set_dma_ops(&s->bus[i], &piix_dma_ops, &s->bmdma[i]);
    }
    s->bmdma_mr = memory_region_new_io("piix-bmdma", 16, &bmdma_ops, s);
    pci_register_bar(&s->dev, 4, PCI_BASE_ADDRESS_SPACE_IO, s->bmdma_mr);
    piix_ide_reset(s);
    return s;
}

void piix_ide_free(PIIXIDEState *s)
{
    if (!s) {
        return;
    }
    pci_device_exit(&s->dev);
    memory_region_free(s->bmdma_mr);
    for (int i = 0; i < 2; i++) {
        ide_bus_cleanup(&s->bus[i]);
    }
    free(s);
}

int piix_ide_attach(PIIXIDEState *s, int index, IDEDriveKind kind, BlockDriverState *bs,
                    Error **errp)
{
    if (index < 0 || index > 3) {
        error_setg(errp, "IDE index %d is out of range (0-3)", index);
        return -EINVAL;
    }
    return ide_bus_attach(&s->bus[index / 2], index % 2, kind, bs, errp);
}

IDEState *piix_ide_drive(PIIXIDEState *s, int index)
{
    if (index < 0 || index > 3) {
        return NULL;
    }
    return &s->bus[index / 2].ifs[index % 2];
}

/* ---- VMState ------------------------------------------------------------------- */

static int bmdma_post_load(void *opaque, int version_id)
{
    BMDMAState *bm = opaque;
    bm->cmd &= BM_CMD_START | BM_CMD_READ;
    bm->status &= BM_STATUS_ACTIVE | BM_STATUS_ERROR | BM_STATUS_INT |
                  BM_STATUS_DMA0 | BM_STATUS_DMA1;
    bm->addr &= ~3u;
    bm->cur_left = 0;
    bm->table_done = false;
    return 0;
}

static const VMStateDescription vmstate_bmdma = {
    .name = "ide/bmdma",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = bmdma_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(cmd, BMDMAState),
        VMSTATE_UINT8(status, BMDMAState),
        VMSTATE_UINT32(addr, BMDMAState),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_piix_ide = {
    .name = "ide",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(dev, PIIXIDEState),
        VMSTATE_STRUCT_ARRAY(bmdma, PIIXIDEState, 2, 0, vmstate_bmdma, BMDMAState),
        VMSTATE_STRUCT_ARRAY(bus, PIIXIDEState, 2, 0, vmstate_ide_bus, IDEBus),
        VMSTATE_END_OF_LIST()
    },
};
