/*
 * Fuzz target for the PCI/IDE board pieces: i440FX (config mechanism,
 * PAM, SMRAM), PIIX3, PIIX IDE with a disk and a CD-ROM, the bus-master
 * engine, fw_cfg (ports and DMA) and the IOAPIC.
 *
 * The input is a program of operations: port and MMIO accesses, guest
 * RAM contents (PRD tables, fw_cfg DMA descriptors), whole ATA/ATAPI
 * command sequences, IRQ line changes, medium changes and resets. Every
 * device is a hostile guest's toy here: the only acceptable outcome is
 * no crash and no sanitizer report.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/ioapic.h"
#include "hw/piix-ide.h"
#include "hw/piix3.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE   (1 * MiB)
#define BM_BASE    0xc000
#define PRD_BASE   0x1000
#define FWCFG_DESC 0x3000
#define MAX_OPS    512

enum {
    OP_IO_WRITE, OP_IO_READ, OP_DATA_BURST, OP_RAM_WRITE, OP_MEM_WRITE, OP_MEM_READ,
    OP_CFG_WRITE, OP_PRD_TABLE, OP_MEDIA, OP_IRQ, OP_ATA_CMD, OP_FWCFG_DMA,
    OP_ATAPI_CMD, OP_BM_START, OP_RESET, OP_COUNT,
};

static const uint16_t ports[] = {
    0x1f0, 0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6,
    0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x376,
    0xcf8, 0xcf9, 0xcfa, 0xcfc, 0xcfd, 0xcfe, 0xcff,
    0xc000, 0xc001, 0xc002, 0xc003, 0xc004, 0xc005, 0xc006, 0xc007,
    0xc008, 0xc009, 0xc00a, 0xc00b, 0xc00c, 0xc00d, 0xc00e, 0xc00f,
    0x510, 0x511, 0x514, 0x518,
};

typedef struct Input {
    const uint8_t *p;
    size_t n;
} Input;

static uint8_t get8(Input *in)
{
    if (!in->n) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint16_t get16(Input *in) { return get8(in) | (get8(in) << 8); }
static uint32_t get32(Input *in) { return get16(in) | ((uint32_t)get16(in) << 16); }
static unsigned get_size(Input *in) { return 1u << (get8(in) % 3); }

static uint16_t get_port(Input *in)
{
    uint8_t b = get8(in);
    return b >= 240 ? get16(in) : ports[b % ARRAY_SIZE(ports)];
}

/* A PCI device with every kind of BAR and an interrupt pin, so hostile
 * configuration writes move real mappings around. */
typedef struct DummyDev {
    PCIDevice pci;
    MemoryRegion *io, *mmio, *mmio64, *rom;
    uint8_t regs[256];
} DummyDev;

static uint64_t dummy_read(void *opaque, uint64_t off, unsigned size)
{
    DummyDev *d = opaque;
    return d->regs[off & 0xff];
}

static void dummy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    DummyDev *d = opaque;
    d->regs[off & 0xff] = val;
    /* Register 0 drives the interrupt pin. */
    if ((off & 0xff) == 0) {
        pci_set_irq(&d->pci, val & 1);
    }
}

static const MemoryRegionOps dummy_ops = { .read = dummy_read, .write = dummy_write };

typedef struct Board {
    MemoryRegion *sysmem, *pcimem, *io, *ram, *bios;
    AddressSpace *mem_as, *io_as;
    I440FXState *host;
    PIIX3State *piix3;
    PIIXIDEState *ide;
    FWCfgState *fw;
    IOAPICState *ioapic;
    IRQLine **isa;
    IRQLine *reset;
    int levels[16];
    DummyDev dummy;
} Board;

static BlockDriverState *disk, *cd;
static bool cd_in = true;

static void isa_irq(void *opaque, int n, int level)
{
    Board *b = opaque;
    b->levels[n & 15] = level;
}

static void reset_req(void *opaque, int n, int level) {}

static void deliver(void *opaque, uint8_t vector, uint8_t mode, uint8_t dest, bool logical,
                    bool level)
{
    Board *b = opaque;
    /* A local APIC that EOIs at once: exercises the remote IRR path. */
    if (level) {
        ioapic_eoi_broadcast(b->ioapic, vector ^ (dest & 1));
    }
}

/* Block devices live across inputs (files are slow to make). */
static BlockDriverState *open_temp(size_t size, int flags)
{
    char path[] = "/tmp/minipc-fuzz-pcide-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        abort();
    }
    uint8_t *buf = xmalloc(size);
    for (size_t i = 0; i < size; i++) {
        buf[i] = (uint8_t)(i * 13 + (i >> 11));
    }
    if (full_pwrite(fd, buf, size, 0) != (ssize_t)size) {
        abort();
    }
    free(buf);
    close(fd);
    BlockDriverState *bs = NULL;
    if (bdrv_open(&bs, path, "raw", flags, NULL) < 0) {
        abort();
    }
    unlink(path);
    return bs;
}

static void board_init(Board *b)
{
    if (!disk) {
        disk = open_temp(1 * MiB, BDRV_O_RDWR);
        cd = open_temp(64 * 2048, 0);
    }
    b->sysmem = memory_region_new_container("system", 1ULL << 32);
    b->pcimem = memory_region_new_container("pci", 1ULL << 32);
    b->io = memory_region_new_container("io", 65536);
    b->ram = memory_region_new_ram("ram", RAM_SIZE, NULL);
    b->bios = memory_region_new_rom("bios", 128 * KiB, NULL);
    memory_region_add_subregion(b->sysmem, 0, b->ram, 0);
    memory_region_add_subregion(b->sysmem, 0, b->pcimem, -1);
    memory_region_add_subregion(b->pcimem, 0xe0000, b->bios, 0);
    b->mem_as = address_space_new("memory", b->sysmem);
    b->io_as = address_space_new("io", b->io);
    b->host = i440fx_new(b->sysmem, b->pcimem, b->ram, b->io, NULL);
    b->ioapic = ioapic_new(b->sysmem, IOAPIC_DEFAULT_BASE, deliver, b);
    b->isa = irq_new_array(isa_irq, b, 16);
    b->reset = irq_new(reset_req, b, 0);
    b->piix3 = piix3_new(i440fx_bus(b->host), PCI_DEVFN(1, 0), b->isa, b->reset, NULL);
    i440fx_set_cf9_handler(b->host, piix3_rcr_read, piix3_rcr_write, b->piix3);
    b->ide = piix_ide_new(i440fx_bus(b->host), PCI_DEVFN(1, 1), b->io, b->mem_as,
                          ioapic_irq(b->ioapic, 14), ioapic_irq(b->ioapic, 15), NULL);
    piix_ide_attach(b->ide, 0, IDE_HD, disk, NULL);
    piix_ide_attach(b->ide, 2, IDE_CD, cd_in ? cd : NULL, NULL);
    DummyDev *dd = &b->dummy;
    pci_device_init(&dd->pci, i440fx_bus(b->host), PCI_DEVFN(3, 0), "dummy", 0x1234, 0x1111, 0,
                    0x020000, NULL);
    dd->io = memory_region_new_io("dummy-io", 32, &dummy_ops, dd);
    dd->mmio = memory_region_new_io("dummy-mmio", 4096, &dummy_ops, dd);
    dd->mmio64 = memory_region_new_io("dummy-mmio64", 16384, &dummy_ops, dd);
    dd->rom = memory_region_new_rom("dummy-rom", 2048, NULL);
    pci_register_bar(&dd->pci, 0, PCI_BASE_ADDRESS_SPACE_IO, dd->io);
    pci_register_bar(&dd->pci, 1, 0, dd->mmio);
    pci_register_bar(&dd->pci, 2, PCI_BASE_ADDRESS_MEM_TYPE_64, dd->mmio64);
    pci_register_bar(&dd->pci, PCI_ROM_SLOT, 0, dd->rom);
    pci_set_interrupt_pin(&dd->pci, 1);
    pci_add_capability(&dd->pci, PCI_CAP_ID_PM, 0x40, 8, NULL);
    pci_add_capability(&dd->pci, PCI_CAP_ID_VNDR, 0x50, 8, NULL);
    b->fw = fw_cfg_new_io(b->io, 0x510, 0x514, b->mem_as);
    fw_cfg_add_i64(b->fw, FW_CFG_RAM_SIZE, RAM_SIZE);
    fw_cfg_add_file(b->fw, "bootorder", "/pci@i0cf8/ide@1,1/drive@0/disk@0\n", 35);
    fw_cfg_add_e820(b->fw, 0, RAM_SIZE, E820_RAM);
    /* What a BIOS does before the guest gets control. */
    PCIBus *bus = i440fx_bus(b->host);
    pci_bus_config_write(bus, PCI_DEVFN(1, 1), 0x20, BM_BASE | 1, 4);
    pci_bus_config_write(bus, PCI_DEVFN(1, 1), PCI_COMMAND, 5, 2);
    pci_bus_config_write(bus, PCI_DEVFN(1, 1), 0x40, 0x80008000, 4);
    pci_bus_config_write(bus, PCI_DEVFN(1, 0), 0x60, 0x0b0a0b0a, 4);
}

static void board_free(Board *b)
{
    pci_device_exit(&b->dummy.pci);
    memory_region_free(b->dummy.io);
    memory_region_free(b->dummy.mmio);
    memory_region_free(b->dummy.mmio64);
    memory_region_free(b->dummy.rom);
    piix_ide_free(b->ide);
    piix3_free(b->piix3);
    i440fx_free(b->host);
    fw_cfg_free(b->fw);
    ioapic_free(b->ioapic);
    irq_free_array(b->isa, 16);
    irq_free(b->reset);
    address_space_free(b->mem_as);
    address_space_free(b->io_as);
    memory_region_free(b->bios);
    memory_region_free(b->ram);
    memory_region_free(b->pcimem);
    memory_region_free(b->io);
    memory_region_free(b->sysmem);
}

static void run_op(Board *b, Input *in)
{
    AddressSpace *io = b->io_as, *mem = b->mem_as;
    uint8_t op = get8(in) % OP_COUNT;
    switch (op) {
    case OP_IO_WRITE: {
        uint16_t port = get_port(in);
        unsigned size = get_size(in);
        address_space_write_sized(io, port, get32(in), size);
        break;
    }
    case OP_IO_READ: {
        uint16_t port = get_port(in);
        address_space_read_sized(io, port, get_size(in));
        break;
    }
    case OP_DATA_BURST: {
        static const uint16_t data_ports[] = { 0x1f0, 0x170, 0x511 };
        uint16_t port = data_ports[get8(in) % 3];
        unsigned size = get_size(in);
        bool write = get8(in) & 1;
        int count = get8(in) * 4;
        for (int i = 0; i < count; i++) {
            if (write) {
                address_space_write_sized(io, port, i * 0x01010101u, size);
            } else {
                address_space_read_sized(io, port, size);
            }
        }
        break;
    }
    case OP_RAM_WRITE: {
        uint64_t addr = (uint64_t)get16(in) * 16 % RAM_SIZE;
        uint8_t len = get8(in) % 65;
        for (int i = 0; i < len; i++) {
            address_space_stb(mem, addr + i, get8(in));
        }
        break;
    }
    case OP_MEM_WRITE: {
        uint32_t addr = get32(in);
        unsigned size = get_size(in);
        address_space_write_sized(mem, addr, get32(in), size);
        break;
    }
    case OP_MEM_READ: {
        uint32_t addr = get32(in);
        address_space_read_sized(mem, addr, get_size(in));
        break;
    }
    case OP_CFG_WRITE: {
        static const uint8_t devfns[] = { 0, 8, 9, 24, 25, 16 };
        uint8_t devfn = devfns[get8(in) % ARRAY_SIZE(devfns)], reg = get8(in);
        unsigned size = get_size(in);
        uint32_t val = get32(in);
        address_space_write_sized(io, 0xcf8, 0x80000000u | (devfn << 8) | (reg & 0xfc), 4);
        address_space_write_sized(io, 0xcfc + (reg & 3), val, size);
        break;
    }
    case OP_PRD_TABLE: {
        int n = 1 + get8(in) % 8;
        for (int i = 0; i < n; i++) {
            uint32_t addr = (uint32_t)get16(in) * 16;
            uint32_t flags = get16(in) | ((get8(in) & 1) ? 0x80000000u : 0);
            address_space_stl(mem, PRD_BASE + 8 * i, addr);
            address_space_stl(mem, PRD_BASE + 8 * i + 4, flags);
        }
        address_space_write_sized(io, BM_BASE + 4, PRD_BASE, 4);
        address_space_write_sized(io, BM_BASE + 12, PRD_BASE, 4);
        break;
    }
    case OP_MEDIA: {
        IDEState *s = piix_ide_drive(b->ide, 2);
        BlockDriverState *old = NULL;
        if (get8(in) & 1) {
            if (ide_cd_eject(s, get8(in) & 1, &old, NULL) == 0) {
                cd_in = false;
            }
        } else {
            ide_cd_insert(s, cd, &old, NULL);
            cd_in = true;
        }
        break;
    }
    case OP_IRQ: {
        uint8_t pin = get8(in) % IOAPIC_NUM_PINS;
        irq_set(ioapic_irq(b->ioapic, pin), get8(in) & 1);
        break;
    }
    case OP_ATA_CMD: {
        uint8_t ch = get8(in);
        uint16_t base = (ch & 1) ? 0x170 : 0x1f0;
        address_space_write_sized(io, base + 6, 0xa0 | (ch & 0x50) | (get8(in) & 0x0f), 1);
        for (int r = 1; r <= 5; r++) {
            address_space_write_sized(io, base + r, get8(in), 1);
        }
        if (ch & 0x80) {   /* 48-bit: a second round fills the HOB registers */
            for (int r = 2; r <= 5; r++) {
                address_space_write_sized(io, base + r, get8(in), 1);
            }
        }
        address_space_write_sized(io, base + 7, get8(in), 1);
        break;
    }
    case OP_FWCFG_DMA: {
        uint32_t control = get32(in), len = get16(in);
        uint32_t addr = get8(in) & 1 ? get32(in) : (uint32_t)get16(in) * 16;
        uint8_t d[16];
        stl_be(d, control);
        stl_be(d + 4, len);
        stq_be(d + 8, addr);
        address_space_write(mem, FWCFG_DESC, d, sizeof(d));
        address_space_write_sized(io, 0x514, 0, 4);
        address_space_write_sized(io, 0x518, bswap32(FWCFG_DESC), 4);
        break;
    }
    case OP_ATAPI_CMD: {
        uint8_t flags = get8(in);
        uint16_t base = 0x170;
        address_space_write_sized(io, base + 6, 0xa0, 1);
        address_space_write_sized(io, base + 1, flags & 1, 1);
        address_space_write_sized(io, base + 4, get8(in), 1);
        address_space_write_sized(io, base + 5, get8(in), 1);
        address_space_write_sized(io, base + 7, 0xa0, 1);
        for (int i = 0; i < 6; i++) {
            address_space_write_sized(io, base, get16(in), 2);
        }
        break;
    }
    case OP_BM_START: {
        uint8_t v = get8(in);
        uint16_t port = BM_BASE + ((v & 1) ? 8 : 0);
        address_space_write_sized(io, port, (v & 0x08) | 1, 1);
        address_space_write_sized(io, port, 0, 1);
        break;
    }
    case OP_RESET:
        switch (get8(in) % 6) {
        case 5: pci_device_reset(&b->dummy.pci); break;
        case 0: i440fx_reset(b->host); break;
        case 1: piix3_reset(b->piix3); break;
        case 2: piix_ide_reset(b->ide); break;
        case 3: fw_cfg_reset(b->fw); break;
        default: ioapic_reset(b->ioapic); break;
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Board b = { 0 };
    board_init(&b);
    Input in = { data, size };
    for (int n = 0; n < MAX_OPS && in.n > 0; n++) {
        run_op(&b, &in);
    }
    board_free(&b);
    return 0;
}

/* ---- seeds --------------------------------------------------------------- */

typedef struct SeedBuf {
    uint8_t b[1024];
    size_t n;
} SeedBuf;

static void put(SeedBuf *s, int count, ...)
{
    va_list ap;
    va_start(ap, count);
    for (int i = 0; i < count && s->n < sizeof(s->b); i++) {
        s->b[s->n++] = (uint8_t)va_arg(ap, int);
    }
    va_end(ap);
}

static void put32(SeedBuf *s, uint32_t v)
{
    put(s, 4, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24);
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    SeedBuf s;

    /* IDENTIFY, read it, READ SECTORS x4 by words. */
    memset(&s, 0, sizeof(s));
    put(&s, 9, OP_ATA_CMD, 0x40, 0, 0, 0, 0, 0, 0, 0xec);
    put(&s, 5, OP_DATA_BURST, 0, 1, 0, 64);
    put(&s, 9, OP_ATA_CMD, 0x40, 0, 0, 4, 3, 0, 0, 0x20);
    put(&s, 5, OP_DATA_BURST, 0, 1, 0, 255);
    put(&s, 9, OP_ATA_CMD, 0x40, 0, 0, 2, 9, 0, 0, 0x30);
    put(&s, 5, OP_DATA_BURST, 0, 2, 1, 255);
    emit(s.b, s.n, opaque);

    /* DMA read through a two-entry table, then a table-too-short write. */
    memset(&s, 0, sizeof(s));
    put(&s, 1, OP_PRD_TABLE);
    put(&s, 11, 1, 0x00, 0x02, 0x00, 0x08, 0, 0x00, 0x03, 0x00, 0x08, 1);
    put(&s, 9, OP_ATA_CMD, 0x40, 0, 0, 8, 1, 0, 0, 0xc8);
    put(&s, 2, OP_BM_START, 0x08);
    put(&s, 3, OP_IO_READ, 27, 0);
    put(&s, 13, OP_ATA_CMD, 0xc0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0x35);
    put(&s, 2, OP_BM_START, 0x00);
    emit(s.b, s.n, opaque);

    /* ATAPI: INQUIRY, READ(10) by PIO with a small limit, READ TOC by DMA. */
    memset(&s, 0, sizeof(s));
    put(&s, 4, OP_ATAPI_CMD, 0, 0x00, 0x08);
    put(&s, 12, 0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0);
    put(&s, 5, OP_DATA_BURST, 1, 1, 0, 16);
    put(&s, 4, OP_ATAPI_CMD, 0, 0x00, 0x03);
    put(&s, 12, 0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0, 0, 0);
    put(&s, 5, OP_DATA_BURST, 1, 1, 0, 255);
    put(&s, 5, OP_DATA_BURST, 1, 2, 0, 255);
    put(&s, 1, OP_PRD_TABLE);
    put(&s, 6, 0, 0x00, 0x04, 0x00, 0x01, 1);
    put(&s, 4, OP_ATAPI_CMD, 1, 0xfe, 0xff);
    put(&s, 12, 0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0);
    put(&s, 2, OP_BM_START, 0x09);
    put(&s, 2, OP_MEDIA, 1);
    put(&s, 2, OP_MEDIA, 0);
    put(&s, 4, OP_ATAPI_CMD, 0, 0x00, 0x01);
    put(&s, 12, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    emit(s.b, s.n, opaque);

    /* fw_cfg: port reads of the directory, DMA read of the signature. */
    memset(&s, 0, sizeof(s));
    put(&s, 3, OP_IO_WRITE, 41, 1);
    put32(&s, FW_CFG_FILE_DIR);
    put(&s, 5, OP_DATA_BURST, 2, 0, 0, 40);
    put(&s, 1, OP_FWCFG_DMA);
    put32(&s, (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    put(&s, 5, 4, 0, 0, 0x00, 0x05);
    put(&s, 1, OP_FWCFG_DMA);
    put32(&s, ((FW_CFG_FILE_FIRST + 1) << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    put(&s, 5, 0xff, 0xff, 0, 0x00, 0x06);
    emit(s.b, s.n, opaque);

    /* PAM and SMRAM like SeaBIOS, then writes into the shadow. */
    memset(&s, 0, sizeof(s));
    put(&s, 4, OP_CFG_WRITE, 0, 0x58, 2);
    put32(&s, 0x33333000);
    put(&s, 4, OP_CFG_WRITE, 0, 0x5c, 2);
    put32(&s, 0x33333333);
    put(&s, 1, OP_MEM_WRITE);
    put32(&s, 0xf1000);
    put(&s, 1, 2);
    put32(&s, 0xdeadbeef);
    put(&s, 4, OP_CFG_WRITE, 0, 0x59, 0);
    put32(&s, 0x10);
    put(&s, 4, OP_CFG_WRITE, 0, 0x5e, 0);
    put32(&s, 0x22);
    put(&s, 1, OP_MEM_READ);
    put32(&s, 0xe0010);
    put(&s, 1, 2);
    put(&s, 4, OP_CFG_WRITE, 0, 0x72, 0);
    put32(&s, 0x4a);
    put(&s, 1, OP_MEM_WRITE);
    put32(&s, 0xa0000);
    put(&s, 1, 2);
    put32(&s, 0x12345678);
    emit(s.b, s.n, opaque);

    /* ATAPI: one packet of each supported command, PIO. */
    static const uint8_t packets[][12] = {
        { 0x00 }, { 0x03, 0, 0, 0, 18 }, { 0x12, 0, 0, 0, 36 }, { 0x1b, 0, 0, 0, 2 },
        { 0x1b, 0, 0, 0, 3 }, { 0x1e, 0, 0, 0, 1 }, { 0x1e }, { 0x25 },
        { 0x28, 0, 0, 0, 0, 1, 0, 0, 1 }, { 0xa8, 0, 0, 0, 0, 2, 0, 0, 0, 1 },
        { 0xbe, 0, 0, 0, 0, 3, 0, 0, 1, 0x10 }, { 0x2b, 0, 0, 0, 0, 4 },
        { 0x43, 2, 0, 0, 0, 0, 0, 0, 64 }, { 0x43, 0, 1, 0, 0, 0, 0, 0, 64 },
        { 0x43, 2, 2, 0, 0, 0, 0, 0, 64 }, { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 },
        { 0x46, 2, 0, 1, 0, 0, 0, 0, 64 }, { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 },
        { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 }, { 0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 64 },
        { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64 }, { 0xbb }, { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 },
    };
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < ARRAY_SIZE(packets) && s.n + 30 < sizeof(s.b); i++) {
        put(&s, 4, OP_ATAPI_CMD, 0, 0x00, 0x10);
        for (int j = 0; j < 12; j++) {
            put(&s, 1, packets[i][j]);
        }
        put(&s, 5, OP_DATA_BURST, 1, 1, 0, 8);
    }
    emit(s.b, s.n, opaque);

    /* The dummy device's BARs programmed, enabled, moved, sized. */
    memset(&s, 0, sizeof(s));
    put(&s, 4, OP_CFG_WRITE, 3, 0x10, 2);
    put32(&s, 0xd001);
    put(&s, 4, OP_CFG_WRITE, 3, 0x14, 2);
    put32(&s, 0xfe000000);
    put(&s, 4, OP_CFG_WRITE, 3, 0x18, 2);
    put32(&s, 0xfd000000);
    put(&s, 4, OP_CFG_WRITE, 3, 0x30, 2);
    put32(&s, 0xfc000001);
    put(&s, 4, OP_CFG_WRITE, 3, 0x04, 1);
    put32(&s, 0x0003);
    put(&s, 1, OP_MEM_WRITE);
    put32(&s, 0xfe000000);
    put(&s, 1, 0);
    put32(&s, 1);
    put(&s, 4, OP_CFG_WRITE, 3, 0x14, 2);
    put32(&s, 0xffffffff);
    put(&s, 4, OP_CFG_WRITE, 3, 0x04, 1);
    put32(&s, 0x0403);
    emit(s.b, s.n, opaque);

    /* IOAPIC: program pin 14 level, raise it via an IDE interrupt. */
    memset(&s, 0, sizeof(s));
    put(&s, 1, OP_MEM_WRITE);
    put32(&s, 0xfec00000);
    put(&s, 1, 2);
    put32(&s, 0x10 + 28);
    put(&s, 1, OP_MEM_WRITE);
    put32(&s, 0xfec00010);
    put(&s, 1, 2);
    put32(&s, 0x8030);
    put(&s, 9, OP_ATA_CMD, 0x40, 0, 0, 0, 0, 0, 0, 0xe7);
    put(&s, 3, OP_IRQ, 3, 1);
    put(&s, 3, OP_IRQ, 3, 0);
    put(&s, 2, OP_RESET, 4);
    emit(s.b, s.n, opaque);
}
