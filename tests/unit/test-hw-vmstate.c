/*
 * Save/load round trips of the PCI, IDE, fw_cfg and IOAPIC VMState
 * descriptions through the real migration engine: state saved in the
 * middle of an operation must carry on identically after a reset and a
 * load, and hostile values in loaded state must be made harmless.
 *
 * Needs the migration engine (migration/qemu-file.h); until it is in
 * the tree this program reports a single skipped check.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/ioapic.h"
#include "hw/piix-ide.h"
#include "hw/piix3.h"

#if __has_include("migration/qemu-file.h")
#include "migration/qemu-file.h"
#define HAVE_MIGRATION 1
#else
#define HAVE_MIGRATION 0
#endif

#if HAVE_MIGRATION

static uint8_t *save(const VMStateDescription *vmsd, void *opaque, size_t *len)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_mem_output();
    int r = vmstate_save_state(f, vmsd, opaque, NULL, &err);
    if (r < 0) {
        fprintf(stderr, "save %s: %s\n", vmsd->name, error_get_pretty(err));
    }
    ck_assert_int_eq(r, 0);
    uint8_t *buf = qemu_file_mem_output_steal(f, len);
    ck_assert_int_eq(qemu_fclose(f, NULL), 0);
    return buf;
}

static void load(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf, size_t len)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_mem_input(buf, len);
    int r = vmstate_load_state(f, vmsd, opaque, vmsd->version_id, &err);
    if (r < 0) {
        fprintf(stderr, "load %s: %s\n", vmsd->name, error_get_pretty(err));
    }
    ck_assert_int_eq(r, 0);
    qemu_fclose(f, NULL);
}

/* The loader's validation pass: check() hooks only, nothing changes. */
static int validate(const VMStateDescription *vmsd, void *opaque, const uint8_t *buf, size_t len,
                    char *msg, size_t msglen)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_new_mem_input(buf, len);
    qemu_file_set_validating(f, true);
    int r = vmstate_load_state(f, vmsd, opaque, vmsd->version_id, &err);
    if (err) {
        snprintf(msg, msglen, "%s", error_get_pretty(err));
        error_free(err);
    }
    qemu_fclose(f, NULL);
    return r;
}

/* ---- a small board ---- */

typedef struct Board {
    MemoryRegion *sysmem, *pcimem, *io, *ram, *bios;
    AddressSpace *mem_as, *io_as;
    I440FXState *host;
    PIIX3State *piix3;
    PIIXIDEState *ide;
    FWCfgState *fw;
    IOAPICState *ioapic;
    IRQLine **isa;
    int isa_level[16];
    int deliveries;
    uint8_t last_vector;
    char path[64];
    int fd;
    BlockDriverState *disk;
} Board;

static Board *bd;

static void isa_handler(void *opaque, int n, int level)
{
    bd->isa_level[n] = level;
}

static void deliver(void *opaque, uint8_t vector, uint8_t mode, uint8_t dest, bool logical,
                    bool level)
{
    bd->deliveries++;
    bd->last_vector = vector;
}

static void setup(void)
{
    Board *b = bd = XNEW(Board);
    b->sysmem = memory_region_new_container("system", 1ULL << 32);
    b->pcimem = memory_region_new_container("pci", 1ULL << 32);
    b->io = memory_region_new_container("io", 65536);
    b->ram = memory_region_new_ram("ram", 2 * MiB, NULL);
    b->bios = memory_region_new_rom("bios", 128 * KiB, NULL);
    memset(memory_region_get_ram_ptr(b->bios), 0xb1, 128 * KiB);
    memory_region_add_subregion(b->sysmem, 0, b->ram, 0);
    memory_region_add_subregion(b->sysmem, 0, b->pcimem, -1);
    memory_region_add_subregion(b->pcimem, 0xe0000, b->bios, 0);
    b->mem_as = address_space_new("memory", b->sysmem);
    b->io_as = address_space_new("io", b->io);
    b->host = i440fx_new(b->sysmem, b->pcimem, b->ram, b->io, NULL);
    b->isa = irq_new_array(isa_handler, b, 16);
    b->piix3 = piix3_new(i440fx_bus(b->host), PCI_DEVFN(1, 0), b->isa, NULL, NULL);
    b->ioapic = ioapic_new(b->sysmem, IOAPIC_DEFAULT_BASE, deliver, b);
    b->ide = piix_ide_new(i440fx_bus(b->host), PCI_DEVFN(1, 1), b->io, b->mem_as,
                          ioapic_irq(b->ioapic, 14), ioapic_irq(b->ioapic, 15), NULL);
    b->fw = fw_cfg_new_io(b->io, 0x510, 0x514, b->mem_as);
    snprintf(b->path, sizeof(b->path), "/tmp/minipc-test-hwvm-XXXXXX");
    b->fd = mkstemp(b->path);
    ck_assert_int_ge(b->fd, 0);
    uint8_t *buf = xmalloc(256 * 1024);
    for (int i = 0; i < 256 * 1024; i++) {
        buf[i] = (uint8_t)(i * 7 + (i >> 9));
    }
    ck_assert_int_eq(full_pwrite(b->fd, buf, 256 * 1024, 0), 256 * 1024);
    free(buf);
    ck_assert_int_eq(bdrv_open(&b->disk, b->path, "raw", BDRV_O_RDWR, NULL), 0);
    ck_assert_int_eq(piix_ide_attach(b->ide, 0, IDE_HD, b->disk, NULL), 0);
}

static void teardown(void)
{
    Board *b = bd;
    piix_ide_free(b->ide);
    piix3_free(b->piix3);
    i440fx_free(b->host);
    fw_cfg_free(b->fw);
    ioapic_free(b->ioapic);
    irq_free_array(b->isa, 16);
    bdrv_close(b->disk);
    close(b->fd);
    unlink(b->path);
    address_space_free(b->mem_as);
    address_space_free(b->io_as);
    memory_region_free(b->bios);
    memory_region_free(b->ram);
    memory_region_free(b->pcimem);
    memory_region_free(b->io);
    memory_region_free(b->sysmem);
    free(b);
}

static void outb(uint16_t p, uint8_t v) { address_space_write_sized(bd->io_as, p, v, 1); }
static void outl(uint16_t p, uint32_t v) { address_space_write_sized(bd->io_as, p, v, 4); }
static uint8_t inb(uint16_t p) { return address_space_read_sized(bd->io_as, p, 1); }
static uint16_t inw(uint16_t p) { return address_space_read_sized(bd->io_as, p, 2); }

static void cfg_write(int devfn, int reg, uint32_t val, unsigned size)
{
    outl(0xcf8, 0x80000000u | (devfn << 8) | (reg & 0xfc));
    address_space_write_sized(bd->io_as, 0xcfc + (reg & 3), val, size);
}

START_TEST(test_chipset_round_trip)
{
    AddressSpace *mas = bd->mem_as;
    uint8_t *ram = memory_region_get_ram_ptr(bd->ram);
    /* Shadow the BIOS segment, write-protect it, open SMRAM, route PIRQA. */
    cfg_write(0, 0x59, 0x30, 1);
    address_space_stl(mas, 0xf0000, 0xcafef00d);
    cfg_write(0, 0x59, 0x10, 1);
    cfg_write(0, 0x72, SMRAM_D_OPEN | SMRAM_G_SMRAME, 1);
    cfg_write(PCI_DEVFN(1, 0), 0x60, 0x0b, 1);
    /* BAR4 of the IDE function programmed and decoding. */
    cfg_write(PCI_DEVFN(1, 1), 0x20, 0xc001, 4);
    cfg_write(PCI_DEVFN(1, 1), PCI_COMMAND, PCI_COMMAND_IO, 2);
    outl(0xcf8, 0x80000858);
    size_t l1, l2, l3;
    uint8_t *s1 = save(&vmstate_i440fx, bd->host, &l1);
    uint8_t *s2 = save(&vmstate_piix3, bd->piix3, &l2);
    uint8_t *s3 = save(&vmstate_piix_ide, bd->ide, &l3);

    i440fx_reset(bd->host);
    piix3_reset(bd->piix3);
    piix_ide_reset(bd->ide);
    ck_assert_uint_eq(address_space_ldl(mas, 0xf0000), 0xb1b1b1b1);
    ck_assert_uint_eq(pci_bar_address(&bd->ide->dev, 4), PCI_BAR_UNMAPPED);

    load(&vmstate_i440fx, bd->host, s1, l1);
    load(&vmstate_piix3, bd->piix3, s2, l2);
    load(&vmstate_piix_ide, bd->ide, s3, l3);
    ck_assert_uint_eq(address_space_ldl(mas, 0xf0000), 0xcafef00d);
    address_space_stl(mas, 0xf0000, 0);
    ck_assert_uint_eq(address_space_ldl(mas, 0xf0000), 0xcafef00d);
    ram[0xa0000] = 0x77;
    ck_assert_uint_eq(address_space_ldub(mas, 0xa0000), 0x77);
    ck_assert_uint_eq(address_space_read_sized(bd->io_as, 0xcf8, 4), 0x80000858);
    ck_assert_uint_eq(pci_bar_address(&bd->ide->dev, 4), 0xc000);
    outl(0xcf8, 0x80000860);
    ck_assert_uint_eq(address_space_read_sized(bd->io_as, 0xcfc, 1), 0x0b);
    free(s1);
    free(s2);
    free(s3);
}
END_TEST

START_TEST(test_ide_mid_transfer)
{
    uint8_t want[1024];
    ck_assert_int_eq(full_pread(bd->fd, want, 1024, 40 * 512), 1024);
    outb(0x1f6, 0xe0);
    outb(0x1f2, 2);
    outb(0x1f3, 40);
    outb(0x1f4, 0);
    outb(0x1f5, 0);
    outb(0x1f7, 0x20);
    uint8_t got[1024];
    for (int i = 0; i < 300; i += 2) {
        uint16_t v = inw(0x1f0);
        memcpy(got + i, &v, 2);
    }
    size_t len;
    uint8_t *st = save(&vmstate_piix_ide, bd->ide, &len);
    piix_ide_reset(bd->ide);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    load(&vmstate_piix_ide, bd->ide, st, len);
    ck_assert_uint_eq(inb(0x3f6), 0x58);
    for (int i = 300; i < 1024; i += 2) {
        uint16_t v = inw(0x1f0);
        memcpy(got + i, &v, 2);
    }
    ck_assert_mem_eq(got, want, 1024);
    ck_assert_uint_eq(inb(0x1f7), 0x50);
    free(st);

    /* Hostile state: indexes past the buffer and unknown modes are
     * dropped on load, not used. */
    IDEState *s = piix_ide_drive(bd->ide, 0);
    outb(0x1f7, 0x20);
    s->data_end = 0xfffffff0;
    s->data_ptr = 0x10;
    s->pio_op = 200;
    s->dma_op = 77;
    s->cur_heads = 0;
    bd->ide->bus[0].unit = 9;
    st = save(&vmstate_piix_ide, bd->ide, &len);
    piix_ide_reset(bd->ide);
    load(&vmstate_piix_ide, bd->ide, st, len);
    for (int i = 0; i < 2000; i++) {
        inw(0x1f0);
    }
    outb(0x1f6, 0xa0);
    outb(0x1f3, 1);
    outb(0x1f7, 0x20);       /* CHS read: needs a sane translation */
    ck_assert_uint_eq(inb(0x1f7), 0x58);
    free(st);
}
END_TEST

START_TEST(test_fwcfg_and_ioapic)
{
    uint8_t data[16];
    for (int i = 0; i < 16; i++) {
        data[i] = 0x40 + i;
    }
    int key = fw_cfg_add_file(bd->fw, "etc/x", data, 16);
    address_space_write_sized(bd->io_as, 0x510, key, 2);
    inb(0x511);
    inb(0x511);
    inb(0x511);
    size_t len;
    uint8_t *st = save(&vmstate_fw_cfg, bd->fw, &len);
    fw_cfg_reset(bd->fw);
    ck_assert_uint_eq(inb(0x511), 'Q');
    load(&vmstate_fw_cfg, bd->fw, st, len);
    ck_assert_uint_eq(inb(0x511), 0x43);
    free(st);
    /* A selected key that does not exist after load reads zeroes. */
    bd->fw->cur_entry = 0x3fff;
    st = save(&vmstate_fw_cfg, bd->fw, &len);
    load(&vmstate_fw_cfg, bd->fw, st, len);
    ck_assert_uint_eq(inb(0x511), 0);
    free(st);

    /* IOAPIC: level interrupt in service (remote IRR), line still high. */
    IOAPICState *io = bd->ioapic;
    address_space_stl(bd->mem_as, IOAPIC_DEFAULT_BASE, 0x10 + 2 * 9);
    address_space_stl(bd->mem_as, IOAPIC_DEFAULT_BASE + 0x10, 0x8000 | 0x61);
    irq_raise(ioapic_irq(io, 9));
    ck_assert_int_eq(bd->deliveries, 1);
    st = save(&vmstate_ioapic, io, &len);
    ioapic_reset(io);
    load(&vmstate_ioapic, io, st, len);
    ioapic_eoi_broadcast(io, 0x61);
    ck_assert_int_eq(bd->deliveries, 2);
    ck_assert_uint_eq(bd->last_vector, 0x61);
    free(st);
}
END_TEST

START_TEST(test_validation_rejects)
{
    char msg[256] = "";
    size_t len;
    /* A sane stream validates. */
    uint8_t *st = save(&vmstate_piix_ide, bd->ide, &len);
    ck_assert_int_eq(validate(&vmstate_piix_ide, bd->ide, st, len, msg, sizeof(msg)), 0);
    free(st);

    /* Impossible transfer state: refused with a message, live state kept. */
    IDEState *s = piix_ide_drive(bd->ide, 0);
    s->pio_op = 200;
    st = save(&vmstate_piix_ide, bd->ide, &len);
    s->pio_op = 0;
    ck_assert_int_lt(validate(&vmstate_piix_ide, bd->ide, st, len, msg, sizeof(msg)), 0);
    ck_assert_ptr_nonnull(strstr(msg, "IDE drive"));
    ck_assert_uint_eq(s->pio_op, 0);
    free(st);

    /* PIO position outside the buffer (subsection check). */
    outb(0x1f6, 0xe0);
    outb(0x1f2, 1);
    outb(0x1f7, 0x20);
    s->data_end = IDE_BUF_SIZE + 2;
    st = save(&vmstate_piix_ide, bd->ide, &len);
    s->data_end = 512;
    ck_assert_int_lt(validate(&vmstate_piix_ide, bd->ide, st, len, msg, sizeof(msg)), 0);
    ck_assert_ptr_nonnull(strstr(msg, "PIO position"));
    free(st);

    /* Selected drive 2 of a two-drive bus. */
    bd->ide->bus[1].unit = 2;
    st = save(&vmstate_piix_ide, bd->ide, &len);
    bd->ide->bus[1].unit = 0;
    ck_assert_int_lt(validate(&vmstate_piix_ide, bd->ide, st, len, msg, sizeof(msg)), 0);
    free(st);

    /* fw_cfg key beyond the table, IOAPIC ID beyond 4 bits, PCI INTx 2. */
    bd->fw->cur_entry = 0x3fff;
    st = save(&vmstate_fw_cfg, bd->fw, &len);
    bd->fw->cur_entry = 0;
    ck_assert_int_lt(validate(&vmstate_fw_cfg, bd->fw, st, len, msg, sizeof(msg)), 0);
    free(st);
    bd->ioapic->id = 0x20;
    st = save(&vmstate_ioapic, bd->ioapic, &len);
    bd->ioapic->id = 0;
    ck_assert_int_lt(validate(&vmstate_ioapic, bd->ioapic, st, len, msg, sizeof(msg)), 0);
    free(st);
    bd->piix3->dev.irq_level = 2;
    st = save(&vmstate_piix3, bd->piix3, &len);
    bd->piix3->dev.irq_level = 0;
    ck_assert_int_lt(validate(&vmstate_piix3, bd->piix3, st, len, msg, sizeof(msg)), 0);
    free(st);
}
END_TEST

#endif

int main(void)
{
    Suite *s = suite_create("hw-vmstate");
    TCase *tc = tcase_create("hw-vmstate");
#if HAVE_MIGRATION
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_chipset_round_trip);
    tcase_add_test(tc, test_ide_mid_transfer);
    tcase_add_test(tc, test_fwcfg_and_ioapic);
    tcase_add_test(tc, test_validation_rejects);
#else
    fprintf(stderr, "test-hw-vmstate: the migration engine is not in this tree; no checks run\n");
#endif
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
