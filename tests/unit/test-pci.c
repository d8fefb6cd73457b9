/* Unit tests for hw/pci.c, hw/i440fx.c and hw/piix3.c on real address spaces. */
#include <check.h>

#include "hw/i440fx.h"
#include "hw/piix3.h"

typedef struct Board {
    MemoryRegion *sysmem, *pcimem, *io, *ram, *bios;
    AddressSpace *mem_as, *io_as;
    I440FXState *host;
    PIIX3State *piix3;
    IRQLine **isa;
    int isa_level[16];
    int isa_calls;
    IRQLine *reset;
    int resets;
} Board;

static Board *board;

static void isa_irq_handler(void *opaque, int n, int level)
{
    Board *b = opaque;
    b->isa_level[n] = level;
    b->isa_calls++;
}

static void reset_handler(void *opaque, int n, int level)
{
    Board *b = opaque;
    if (level) {
        b->resets++;
    }
}

static void setup(void)
{
    Board *b = board = XNEW(Board);
    b->sysmem = memory_region_new_container("system", 1ULL << 32);
    b->pcimem = memory_region_new_container("pci", 1ULL << 32);
    b->io = memory_region_new_container("io", 65536);
    b->ram = memory_region_new_ram("ram", 2 * MiB, NULL);
    b->bios = memory_region_new_rom("bios", 128 * KiB, NULL);
    uint8_t *p = memory_region_get_ram_ptr(b->bios);
    for (int i = 0; i < 128 * 1024; i++) {
        p[i] = (uint8_t)(i * 7 + 3);
    }
    memory_region_add_subregion(b->sysmem, 0, b->ram, 0);
    memory_region_add_subregion(b->sysmem, 0, b->pcimem, -1);
    memory_region_add_subregion(b->pcimem, 0xe0000, b->bios, 0);
    b->mem_as = address_space_new("memory", b->sysmem);
    b->io_as = address_space_new("io", b->io);
    b->host = i440fx_new(b->sysmem, b->pcimem, b->ram, b->io, NULL);
    ck_assert_ptr_nonnull(b->host);
    b->isa = irq_new_array(isa_irq_handler, b, 16);
    b->reset = irq_new(reset_handler, b, 0);
    b->piix3 = piix3_new(i440fx_bus(b->host), PCI_DEVFN(1, 0), b->isa, b->reset, NULL);
    ck_assert_ptr_nonnull(b->piix3);
    i440fx_set_cf9_handler(b->host, piix3_rcr_read, piix3_rcr_write, b->piix3);
}

static void teardown(void)
{
    Board *b = board;
    piix3_free(b->piix3);
    i440fx_free(b->host);
    irq_free_array(b->isa, 16);
    irq_free(b->reset);
    address_space_free(b->mem_as);
    address_space_free(b->io_as);
    memory_region_free(b->bios);
    memory_region_free(b->ram);
    memory_region_free(b->pcimem);
    memory_region_free(b->io);
    memory_region_free(b->sysmem);
    free(b);
}

static uint32_t cfg_addr(int devfn, int reg)
{
    return 0x80000000u | (devfn << 8) | (reg & 0xfc);
}

static uint32_t cfg_read(int devfn, int reg, unsigned size)
{
    address_space_write_sized(board->io_as, 0xcf8, cfg_addr(devfn, reg), 4);
    return address_space_read_sized(board->io_as, 0xcfc + (reg & 3), size);
}

static void cfg_write(int devfn, int reg, uint32_t val, unsigned size)
{
    address_space_write_sized(board->io_as, 0xcf8, cfg_addr(devfn, reg), 4);
    address_space_write_sized(board->io_as, 0xcfc + (reg & 3), val, size);
}

START_TEST(test_config_mechanism)
{
    ck_assert_uint_eq(cfg_read(0, 0, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(0, 2, 2), 0x1237);
    ck_assert_uint_eq(cfg_read(0, 1, 1), 0x80);
    ck_assert_uint_eq(cfg_read(0, 0x0b, 1), 0x06);           /* bridge class */
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0, 4), 0x70008086);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0x0a, 2), 0x0601);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0x0e, 1), 0x80);  /* multi-function */
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0x60, 4), 0x80808080);
    /* SeaBIOS recognises QEMU's board by the host bridge's subsystem IDs. */
    ck_assert_uint_eq(cfg_read(0, 0x2c, 4), 0x11001af4);
    /* Absent function, other bus, enable bit clear: all ones. */
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(5, 0), 0, 4), 0xffffffff);
    address_space_write_sized(board->io_as, 0xcf8, 0x80010000, 4);
    ck_assert_uint_eq(address_space_read_sized(board->io_as, 0xcfc, 4), 0xffffffff);
    address_space_write_sized(board->io_as, 0xcf8, 0x00000000, 4);
    ck_assert_uint_eq(address_space_read_sized(board->io_as, 0xcfc, 2), 0xffff);
    /* CONFIG_ADDRESS reads back; narrow writes to it are ignored. */
    address_space_write_sized(board->io_as, 0xcf8, 0x80000000, 4);
    ck_assert_uint_eq(address_space_read_sized(board->io_as, 0xcf8, 4), 0x80000000);
    address_space_write_sized(board->io_as, 0xcfb, 0x01, 1);
    ck_assert_uint_eq(address_space_read_sized(board->io_as, 0xcf8, 4), 0x80000000);
    /* Read-only registers stay, writable ones take the value. */
    cfg_write(0, 0, 0xdeadbeef, 4);
    ck_assert_uint_eq(cfg_read(0, 0, 4), 0x12378086);
    cfg_write(PCI_DEVFN(1, 0), 0x3c, 0x0b, 1);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0x3c, 1), 0x0b);
    /* Word access in the upper half of the data port. */
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x0a0b, 2);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0x60, 4), 0x0a0b8080);
}
END_TEST

/* A device with an I/O BAR, a 32-bit memory BAR, a 64-bit memory BAR
 * and an expansion ROM. */
typedef struct TestDev {
    PCIDevice pci;
    MemoryRegion *io, *mmio, *mmio64, *rom;
    uint8_t regs[4096];
    int config_writes;
} TestDev;

static uint64_t td_read(void *opaque, uint64_t off, unsigned size)
{
    TestDev *t = opaque;
    uint64_t v = 0;
    memcpy(&v, t->regs + (off & 0xfff), size);
    return v;
}

static void td_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    TestDev *t = opaque;
    memcpy(t->regs + (off & 0xfff), &val, size);
}

static const MemoryRegionOps td_ops = { .read = td_read, .write = td_write };

static void td_config_write(PCIDevice *d, uint32_t addr, uint32_t val, uint32_t old, unsigned len)
{
    container_of(d, TestDev, pci)->config_writes++;
}

static TestDev *testdev_new(int devfn)
{
    TestDev *t = XNEW(TestDev);
    ck_assert_int_eq(pci_device_init(&t->pci, i440fx_bus(board->host), devfn, "testdev",
                                     0x1234, 0x5678, 1, 0x020000, NULL), 0);
    t->pci.config_write = td_config_write;
    t->io = memory_region_new_io("td-io", 16, &td_ops, t);
    t->mmio = memory_region_new_io("td-mmio", 4096, &td_ops, t);
    t->mmio64 = memory_region_new_io("td-mmio64", 4096, &td_ops, t);
    t->rom = memory_region_new_rom("td-rom", 3000, NULL);   /* rounds to 4 KiB */
    memset(memory_region_get_ram_ptr(t->rom), 0x55, 3000);
    pci_register_bar(&t->pci, 0, PCI_BASE_ADDRESS_SPACE_IO, t->io);
    pci_register_bar(&t->pci, 1, 0, t->mmio);
    pci_register_bar(&t->pci, 2, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                     t->mmio64);
    pci_register_bar(&t->pci, PCI_ROM_SLOT, 0, t->rom);
    pci_set_interrupt_pin(&t->pci, 1);
    return t;
}

static void testdev_free(TestDev *t)
{
    pci_device_exit(&t->pci);
    memory_region_free(t->io);
    memory_region_free(t->mmio);
    memory_region_free(t->mmio64);
    memory_region_free(t->rom);
    free(t);
}

START_TEST(test_bar_sizing_and_mapping)
{
    int df = PCI_DEVFN(3, 0);
    TestDev *t = testdev_new(df);
    AddressSpace *mas = board->mem_as, *ias = board->io_as;

    ck_assert_uint_eq(cfg_read(df, 0x10, 4), 0x1);
    ck_assert_uint_eq(cfg_read(df, 0x14, 4), 0x0);
    ck_assert_uint_eq(cfg_read(df, 0x18, 4), 0xc);
    /* Sizing: all ones reads back the size mask with the type bits. */
    cfg_write(df, 0x10, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(df, 0x10, 4), 0xfffffff1);
    cfg_write(df, 0x14, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(df, 0x14, 4), 0xfffff000);
    cfg_write(df, 0x18, 0xffffffff, 4);
    cfg_write(df, 0x1c, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(df, 0x18, 4), 0xfffff00c);
    ck_assert_uint_eq(cfg_read(df, 0x1c, 4), 0xffffffff);
    cfg_write(df, 0x30, 0xfffffffe, 4);
    ck_assert_uint_eq(cfg_read(df, 0x30, 4), 0xfffff000);
    ck_assert_uint_eq(cfg_read(df, 0x20, 4), 0);   /* unimplemented BAR */
    cfg_write(df, 0x20, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(df, 0x20, 4), 0);

    /* Program addresses; nothing maps until decoding is enabled. */
    cfg_write(df, 0x10, 0xc001, 4);
    cfg_write(df, 0x14, 0xfebf0000, 4);
    cfg_write(df, 0x18, 0xfe000000, 4);
    cfg_write(df, 0x1c, 0, 4);
    cfg_write(df, 0x30, 0xfeb00001, 4);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    address_space_write_sized(ias, 0xc004, 0xab, 1);
    ck_assert_uint_eq(t->regs[4], 0);
    cfg_write(df, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 0), 0xc000);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 1), 0xfebf0000);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 2), 0xfe000000);
    ck_assert_uint_eq(pci_bar_address(&t->pci, PCI_ROM_SLOT), 0xfeb00000);
    address_space_write_sized(ias, 0xc004, 0xab, 1);
    ck_assert_uint_eq(t->regs[4], 0xab);
    address_space_stl(mas, 0xfebf0010, 0x11223344);
    ck_assert_uint_eq(ldl_le(t->regs + 0x10), 0x11223344);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfe000010), 0x11223344);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfeb00000), 0x55555555);
    /* The ROM is read-only. */
    address_space_stl(mas, 0xfeb00000, 0);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfeb00000), 0x55555555);

    /* Move a BAR: the old address is free, the new one decodes. */
    cfg_write(df, 0x14, 0xfebe0000, 4);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfebf0010), 0xffffffff);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfebe0010), 0x11223344);
    /* A 64-bit BAR above 4 GiB. */
    cfg_write(df, 0x1c, 0x1, 4);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 2), 0x1fe000000ULL);
    /* Decoding off: all gone. */
    cfg_write(df, PCI_COMMAND, 0, 2);
    ck_assert_uint_eq(address_space_ldl(mas, 0xfebe0010), 0xffffffff);
    ck_assert_uint_eq(address_space_read_sized(ias, 0xc004, 1), 0xff);
    ck_assert_uint_eq(pci_bar_address(&t->pci, PCI_ROM_SLOT), PCI_BAR_UNMAPPED);
    /* Enabled while sizing: an all-ones BAR is not a mapping. */
    cfg_write(df, 0x14, 0xffffffff, 4);
    cfg_write(df, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 1), PCI_BAR_UNMAPPED);
    /* I/O BAR beyond 64 KiB is not decoded. */
    cfg_write(df, 0x10, 0x10000, 4);
    cfg_write(df, PCI_COMMAND, PCI_COMMAND_IO, 2);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    ck_assert_int_gt(t->config_writes, 10);

    /* Reset unmaps and restores the type bits. */
    cfg_write(df, 0x10, 0xc001, 4);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 0), 0xc000);
    pci_device_reset(&t->pci);
    ck_assert_uint_eq(pci_bar_address(&t->pci, 0), PCI_BAR_UNMAPPED);
    ck_assert_uint_eq(cfg_read(df, 0x10, 4), 0x1);
    testdev_free(t);
}
END_TEST

START_TEST(test_status_w1c_and_capabilities)
{
    int df = PCI_DEVFN(4, 0);
    TestDev *t = testdev_new(df);
    pci_set_word(t->pci.config + PCI_STATUS, 0xf900);
    cfg_write(df, PCI_STATUS, 0x2000, 2);
    ck_assert_uint_eq(cfg_read(df, PCI_STATUS, 2), 0xd900);
    ck_assert_int_eq(pci_add_capability(&t->pci, PCI_CAP_ID_PM, 0x40, 8, NULL), 0x40);
    ck_assert_int_eq(pci_add_capability(&t->pci, PCI_CAP_ID_VNDR, 0x50, 4, NULL), 0x50);
    ck_assert_int_lt(pci_add_capability(&t->pci, PCI_CAP_ID_MSI, 0x3c, 8, NULL), 0);
    ck_assert_int_lt(pci_add_capability(&t->pci, PCI_CAP_ID_MSI, 0x42, 8, NULL), 0);
    ck_assert_int_lt(pci_add_capability(&t->pci, PCI_CAP_ID_MSI, 0xfc, 8, NULL), 0);
    ck_assert_int_lt(pci_add_capability(&t->pci, PCI_CAP_ID_MSI, 0x4c, 8, NULL), 0);
    ck_assert_uint_eq(cfg_read(df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
    ck_assert_uint_eq(cfg_read(df, PCI_CAPABILITY_LIST, 1), 0x50);
    ck_assert_uint_eq(cfg_read(df, 0x50, 2), 0x4009);
    ck_assert_uint_eq(cfg_read(df, 0x40, 2), 0x0001);
    ck_assert_uint_eq(pci_find_capability(&t->pci, PCI_CAP_ID_PM), 0x40);
    ck_assert_uint_eq(pci_find_capability(&t->pci, PCI_CAP_ID_MSI), 0);
    /* Headers are read-only to the guest. */
    cfg_write(df, 0x50, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(df, 0x50, 2), 0x4009);
    /* A looped list (hostile state) terminates. */
    t->pci.config[0x41] = 0x50;
    t->pci.config[0x51] = 0x40;
    ck_assert_uint_eq(pci_find_capability(&t->pci, PCI_CAP_ID_MSI), 0);
    /* Slot taken. */
    PCIDevice other;
    ck_assert_int_eq(pci_device_init(&other, i440fx_bus(board->host), df, "dup", 1, 2, 0, 0, NULL),
                     -EBUSY);
    testdev_free(t);
}
END_TEST

START_TEST(test_pirq_routing)
{
    int df = PCI_DEVFN(3, 0);  /* slot 3 INTA -> PIRQC */
    TestDev *t = testdev_new(df);
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x0b, 1);
    pci_set_irq(&t->pci, 1);
    ck_assert_int_eq(board->isa_level[11], 1);
    ck_assert_uint_eq(cfg_read(df, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    /* INTx disable masks the line but not the status bit. */
    cfg_write(df, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
    ck_assert_int_eq(board->isa_level[11], 0);
    ck_assert_uint_eq(cfg_read(df, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
    cfg_write(df, PCI_COMMAND, 0, 2);
    ck_assert_int_eq(board->isa_level[11], 1);
    /* Re-route to IRQ 10. */
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x0a, 1);
    ck_assert_int_eq(board->isa_level[11], 0);
    ck_assert_int_eq(board->isa_level[10], 1);
    /* Disabled routing and reserved IRQs drive nothing. */
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x80, 1);
    ck_assert_int_eq(board->isa_level[10], 0);
    int calls = board->isa_calls;
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x02, 1);
    ck_assert_int_eq(board->isa_level[2], 0);
    ck_assert_int_eq(board->isa_calls, calls);
    /* Two devices sharing a PIRQ: the line stays up while either asserts. */
    TestDev *u = testdev_new(PCI_DEVFN(7, 0));   /* slot 7 INTA -> PIRQC too */
    cfg_write(PCI_DEVFN(1, 0), 0x62, 0x05, 1);
    ck_assert_int_eq(board->isa_level[5], 1);
    pci_set_irq(&u->pci, 1);
    pci_set_irq(&t->pci, 0);
    ck_assert_int_eq(board->isa_level[5], 1);
    pci_set_irq(&u->pci, 0);
    ck_assert_int_eq(board->isa_level[5], 0);
    ck_assert_uint_eq(cfg_read(df, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    testdev_free(u);
    testdev_free(t);
}
END_TEST

START_TEST(test_reset_control)
{
    AddressSpace *ias = board->io_as;
    address_space_write_sized(ias, 0xcf9, 0x02, 1);
    ck_assert_int_eq(board->resets, 0);
    ck_assert_uint_eq(address_space_read_sized(ias, 0xcf9, 1), 0x02);
    address_space_write_sized(ias, 0xcf9, 0x06, 1);
    ck_assert_int_eq(board->resets, 1);
    /* A CONFIG_ADDRESS write covering 0xcf9 is not a reset. */
    address_space_write_sized(ias, 0xcf8, 0x80000404, 4);
    ck_assert_int_eq(board->resets, 1);
    ck_assert_uint_eq(address_space_read_sized(ias, 0xcf8, 4), 0x80000404);
}
END_TEST

static uint8_t bios_byte(uint64_t addr)
{
    return (uint8_t)((addr - 0xe0000) * 7 + 3);
}

START_TEST(test_pam_shadowing)
{
    AddressSpace *mas = board->mem_as;
    uint8_t *ram = memory_region_get_ram_ptr(board->ram);
    memset(ram + 0xc0000, 0x11, 0x40000);

    /* Power-on: 0xe0000-0xfffff reads the BIOS, writes go nowhere. */
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), bios_byte(0xf1234));
    ck_assert_uint_eq(address_space_ldub(mas, 0xe4000), bios_byte(0xe4000));
    address_space_stb(mas, 0xf1234, 0x99);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), bios_byte(0xf1234));
    ck_assert_uint_eq(ram[0xf1234], 0x11);
    /* Where the PCI side is empty the DRAM below shows through (as on
     * QEMU's board). */
    ck_assert_uint_eq(address_space_ldub(mas, 0xc0000), 0x11);

    /* SeaBIOS: all segments to RAM read/write (dword writes at 0x58/0x5c),
     * then copy the BIOS from its high alias and write-protect. */
    uint32_t lo = cfg_read(0, 0x58, 4), hi = cfg_read(0, 0x5c, 4);
    lo = (lo & 0x000000ff) | 0x33333000;
    hi = 0x33333333;
    cfg_write(0, 0x58, lo, 4);
    cfg_write(0, 0x5c, hi, 4);
    ck_assert_uint_eq(cfg_read(0, 0x59, 1), 0x30);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0x33);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), 0x11);
    for (uint64_t a = 0xf0000; a < 0x100000; a++) {
        address_space_stb(mas, a, bios_byte(a) ^ 0x5a);
    }
    ck_assert_uint_eq(ram[0xf1234], bios_byte(0xf1234) ^ 0x5a);
    address_space_stb(mas, 0xc8000, 0x42);
    ck_assert_uint_eq(ram[0xc8000], 0x42);

    /* Mode 1 on 0xf0000: reads RAM, writes dropped. */
    cfg_write(0, 0x59, 0x10, 1);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), bios_byte(0xf1234) ^ 0x5a);
    address_space_stb(mas, 0xf1234, 0x77);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), bios_byte(0xf1234) ^ 0x5a);
    ck_assert_uint_eq(ram[0xf1234], bios_byte(0xf1234) ^ 0x5a);
    MemoryLookup l;
    address_space_lookup(mas, 0xf0000, &l);
    ck_assert(l.readonly);
    ck_assert_ptr_nonnull(l.host);   /* executable at RAM speed */

    /* Mode 2 on 0xe0000 (reg 0x5e low nibble): reads PCI, writes RAM. */
    cfg_write(0, 0x5e, 0x32, 1);
    ck_assert_uint_eq(address_space_ldub(mas, 0xe0010), bios_byte(0xe0010));
    address_space_stb(mas, 0xe0010, 0xee);
    ck_assert_uint_eq(ram[0xe0010], 0xee);
    ck_assert_uint_eq(address_space_ldub(mas, 0xe0010), bios_byte(0xe0010));
    /* Classic shadow copy in mode 2: read ROM, write same address. */
    for (uint64_t a = 0xe0000; a < 0xe4000; a += 4) {
        address_space_stl(mas, a, address_space_ldl(mas, a));
    }
    cfg_write(0, 0x5e, 0x31, 1);
    ck_assert_uint_eq(address_space_ldub(mas, 0xe3ffe), bios_byte(0xe3ffe));
    ck_assert_uint_eq(address_space_ldub(mas, 0xe4000), 0x11);   /* still mode 3 */

    /* Back to RAM read/write changes the shadow on the next mode-1 entry. */
    cfg_write(0, 0x59, 0x30, 1);
    address_space_stb(mas, 0xf1234, 0x66);
    cfg_write(0, 0x59, 0x10, 1);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), 0x66);

    /* Reset: everything back to the PCI side. */
    i440fx_reset(board->host);
    ck_assert_uint_eq(address_space_ldub(mas, 0xf1234), bios_byte(0xf1234));
    ck_assert_uint_eq(cfg_read(0, 0x59, 1), 0);
    /* Reserved bits are not writable. */
    cfg_write(0, 0x5a, 0xff, 1);
    ck_assert_uint_eq(cfg_read(0, 0x5a, 1), 0x33);
}
END_TEST

typedef struct Vga { uint8_t mem[0x20000]; } Vga;
static uint64_t vga_read(void *o, uint64_t off, unsigned size) { return ((Vga *)o)->mem[off]; }
static void vga_write(void *o, uint64_t off, uint64_t v, unsigned size) { ((Vga *)o)->mem[off] = v; }
static const MemoryRegionOps vga_ops = {
    .read = vga_read, .write = vga_write, .min_access_size = 1, .max_access_size = 1,
};

START_TEST(test_smram)
{
    AddressSpace *mas = board->mem_as;
    Vga *vga = XNEW(Vga);
    MemoryRegion *vmr = memory_region_new_io("vga", 0x20000, &vga_ops, vga);
    memory_region_add_subregion(board->pcimem, 0xa0000, vmr, 1);
    uint8_t *ram = memory_region_get_ram_ptr(board->ram);
    ram[0xa0000] = 0x12;

    ck_assert_uint_eq(cfg_read(0, 0x72, 1), 0x02);
    address_space_stb(mas, 0xa0000, 0x34);
    ck_assert_uint_eq(vga->mem[0], 0x34);
    ck_assert_uint_eq(ram[0xa0000], 0x12);
    /* D_OPEN: the DRAM shows. */
    cfg_write(0, 0x72, SMRAM_G_SMRAME | SMRAM_D_OPEN | 0x07, 1);
    ck_assert_uint_eq(cfg_read(0, 0x72, 1), 0x4a);
    ck_assert_uint_eq(address_space_ldub(mas, 0xa0000), 0x12);
    address_space_stb(mas, 0xa0001, 0x56);
    ck_assert_uint_eq(ram[0xa0001], 0x56);
    /* Close and lock: D_OPEN can no longer be set. */
    cfg_write(0, 0x72, SMRAM_G_SMRAME | SMRAM_D_LCK | SMRAM_D_OPEN, 1);
    ck_assert_uint_eq(cfg_read(0, 0x72, 1), 0x1a);
    ck_assert_uint_eq(address_space_ldub(mas, 0xa0000), 0x34);
    cfg_write(0, 0x72, SMRAM_D_OPEN | SMRAM_D_CLS, 1);
    ck_assert_uint_eq(cfg_read(0, 0x72, 1), 0x3a);
    ck_assert_uint_eq(address_space_ldub(mas, 0xa0000), 0x34);
    /* Only reset unlocks. */
    i440fx_reset(board->host);
    cfg_write(0, 0x72, SMRAM_D_OPEN, 1);
    ck_assert_uint_eq(address_space_ldub(mas, 0xa0000), 0x12);
    memory_region_free(vmr);
    free(vga);
}
END_TEST

START_TEST(test_hostile_config)
{
    /* Every register of every function, every size: no crash, and the
     * IDs stay put. */
    for (int devfn = 0; devfn < 16; devfn++) {
        for (int reg = 0; reg < 256; reg++) {
            for (unsigned size = 1; size <= 4; size <<= 1) {
                address_space_write_sized(board->io_as, 0xcf8, cfg_addr(devfn, reg), 4);
                address_space_write_sized(board->io_as, 0xcfc + (reg & 3), 0xffffffff, size);
                address_space_read_sized(board->io_as, 0xcfc + (reg & 3), size);
                address_space_write_sized(board->io_as, 0xcfc + (reg & 3), 0, size);
            }
        }
    }
    ck_assert_uint_eq(cfg_read(0, 0, 4), 0x12378086);
    ck_assert_uint_eq(cfg_read(PCI_DEVFN(1, 0), 0, 4), 0x70008086);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("pci");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_config_mechanism);
    tcase_add_test(tc, test_bar_sizing_and_mapping);
    tcase_add_test(tc, test_status_w1c_and_capabilities);
    tcase_add_test(tc, test_pirq_routing);
    tcase_add_test(tc, test_reset_control);
    tcase_add_test(tc, test_pam_shadowing);
    tcase_add_test(tc, test_smram);
    tcase_add_test(tc, test_hostile_config);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
