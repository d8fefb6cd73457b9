/* Unit tests for hw/fw_cfg.c through real I/O and memory address spaces. */
#include <check.h>
#include <stdio.h>

#include "hw/fw_cfg.h"

#define RAM_SIZE (2 * MiB)
#define DESC 0x1000
#define BUF 0x10000

static MemoryRegion *sysmem, *io, *ram;
static AddressSpace *mem_as, *io_as;
static FWCfgState *fw;

static void setup(void)
{
    sysmem = memory_region_new_container("system", 1ULL << 32);
    io = memory_region_new_container("io", 65536);
    ram = memory_region_new_ram("ram", RAM_SIZE, NULL);
    memory_region_add_subregion(sysmem, 0, ram, 0);
    mem_as = address_space_new("memory", sysmem);
    io_as = address_space_new("io", io);
    fw = fw_cfg_new_io(io, 0x510, 0x514, mem_as);
}

static void teardown(void)
{
    fw_cfg_free(fw);
    address_space_free(mem_as);
    address_space_free(io_as);
    memory_region_free(ram);
    memory_region_free(io);
    memory_region_free(sysmem);
}

static void sel(uint16_t key) { address_space_write_sized(io_as, 0x510, key, 2); }
static uint8_t rd(void) { return address_space_read_sized(io_as, 0x511, 1); }
static void rdn(void *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ((uint8_t *)buf)[i] = rd();
    }
}

START_TEST(test_signature_and_id)
{
    char sig[5] = { 0 };
    sel(FW_CFG_SIGNATURE);
    rdn(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    /* Past the end: zeroes. */
    ck_assert_uint_eq(rd(), 0);
    /* Power-on selects the signature. */
    fw_cfg_reset(fw);
    ck_assert_uint_eq(rd(), 'Q');
    uint8_t id[4];
    sel(FW_CFG_ID);
    rdn(id, 4);
    ck_assert_uint_eq(ldl_le(id), FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    /* A byte write to the selector does not select. */
    sel(FW_CFG_SIGNATURE);
    address_space_write_sized(io_as, 0x510, FW_CFG_ID, 1);
    ck_assert_uint_eq(rd(), 'Q');
    /* Unknown key: zeroes, out-of-range key too. */
    sel(0x1f);
    ck_assert_uint_eq(rd(), 0);
    sel(0x3fff);
    ck_assert_uint_eq(rd(), 0);
    /* Integers are little-endian. */
    ck_assert_int_eq(fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, 0x0123456789abcdefULL), 0);
    ck_assert_int_eq(fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, 1), 0);
    uint8_t b[8];
    sel(FW_CFG_RAM_SIZE);
    rdn(b, 8);
    ck_assert_uint_eq(ldq_le(b), 0x0123456789abcdefULL);
    sel(FW_CFG_NB_CPUS);
    rdn(b, 2);
    ck_assert_uint_eq(ldw_le(b), 1);
    /* Arch-local keys are their own space. */
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_IRQ0_OVERRIDE, 1), 0);
    sel(FW_CFG_IRQ0_OVERRIDE);
    rdn(b, 4);
    ck_assert_uint_eq(ldl_le(b), 1);
    /* File keys and the directory are not raw items. */
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_FILE_FIRST, 1), -EINVAL);
    ck_assert_int_eq(fw_cfg_add_i32(fw, FW_CFG_FILE_DIR, 1), -EINVAL);
    /* The DMA register reads "QEMU CFG". */
    ck_assert_uint_eq(address_space_read_sized(io_as, 0x514, 4), ldl_le("QEMU"));
    ck_assert_uint_eq(address_space_read_sized(io_as, 0x518, 4), ldl_le(" CFG"));
}
END_TEST

/* Finds a file in the directory read through the data port. */
static int dir_lookup(const char *name, uint32_t *size)
{
    uint8_t b[4];
    sel(FW_CFG_FILE_DIR);
    rdn(b, 4);
    uint32_t n = ldl_be(b);
    int found = -1;
    char prev[57] = "";
    for (uint32_t i = 0; i < n; i++) {
        uint8_t rec[64];
        rdn(rec, 64);
        char fname[57];
        memcpy(fname, rec + 8, 56);
        fname[56] = 0;
        ck_assert_int_lt(strcmp(prev, fname), 0);     /* sorted */
        strcpy(prev, fname);
        ck_assert_uint_eq(ldw_be(rec + 4), FW_CFG_FILE_FIRST + i);
        if (strcmp(fname, name) == 0) {
            found = ldw_be(rec + 4);
            *size = ldl_be(rec);
        }
    }
    return found;
}

START_TEST(test_files)
{
    const char *order = "/pci@i0cf8/ide@1,1/drive@0/disk@0\nHALT";
    uint8_t wait[4];
    stl_le(wait, 60000);
    int k1 = fw_cfg_add_file(fw, "etc/boot-fail-wait", wait, 4);
    int k2 = fw_cfg_add_file(fw, "bootorder", order, strlen(order));
    ck_assert_int_ge(k1, FW_CFG_FILE_FIRST);
    ck_assert_int_ge(k2, FW_CFG_FILE_FIRST);
    uint8_t rom[3000];
    for (int i = 0; i < 3000; i++) {
        rom[i] = i * 3;
    }
    ck_assert_int_ge(fw_cfg_add_file(fw, "genroms/linuxboot_dma.bin", rom, sizeof(rom)), 0);
    ck_assert_int_eq(fw_cfg_add_e820(fw, 0, 0x9fc00, E820_RAM), 0);
    ck_assert_int_eq(fw_cfg_add_e820(fw, 0x100000, 0x7f00000, E820_RAM), 0);

    uint32_t size = 0;
    int key = dir_lookup("bootorder", &size);
    ck_assert_int_ge(key, FW_CFG_FILE_FIRST);
    ck_assert_uint_eq(size, strlen(order));
    char got[128] = { 0 };
    sel(key);
    rdn(got, size);
    ck_assert_str_eq(got, order);

    key = dir_lookup("etc/e820", &size);
    ck_assert_uint_eq(size, 40);
    uint8_t e820[40];
    sel(key);
    rdn(e820, 40);
    ck_assert_uint_eq(ldq_le(e820 + 20), 0x100000);
    ck_assert_uint_eq(ldq_le(e820 + 28), 0x7f00000);
    ck_assert_uint_eq(ldl_le(e820 + 36), E820_RAM);

    key = dir_lookup("genroms/linuxboot_dma.bin", &size);
    ck_assert_uint_eq(size, 3000);
    uint8_t back[3000];
    sel(key);
    rdn(back, 3000);
    ck_assert_mem_eq(back, rom, 3000);

    key = dir_lookup("etc/boot-fail-wait", &size);
    sel(key);
    rdn(back, 4);
    ck_assert_uint_eq(ldl_le(back), 60000);

    /* Replacing keeps the key. */
    int again = fw_cfg_add_file(fw, "bootorder", "HALT", 4);
    ck_assert_int_eq(again, dir_lookup("bootorder", &size));
    ck_assert_uint_eq(size, 4);
    /* Bad names, full directory. */
    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[79] = 0;
    ck_assert_int_eq(fw_cfg_add_file(fw, longname, "x", 1), -EINVAL);
    ck_assert_int_eq(fw_cfg_add_file(fw, "", "x", 1), -EINVAL);
    int r = 0;
    for (int i = 0; i < FW_CFG_FILE_SLOTS + 4 && r >= 0; i++) {
        char nm[32];
        snprintf(nm, sizeof(nm), "x/%04d", i);
        r = fw_cfg_add_file(fw, nm, nm, strlen(nm));
    }
    ck_assert_int_eq(r, -ENOSPC);
    ck_assert_int_ge(dir_lookup("bootorder", &size), FW_CFG_FILE_FIRST);
}
END_TEST

static uint8_t *ramp(void) { return memory_region_get_ram_ptr(ram); }

static uint32_t dma(uint32_t control, uint32_t len, uint64_t addr)
{
    stl_be(ramp() + DESC, control);
    stl_be(ramp() + DESC + 4, len);
    stq_be(ramp() + DESC + 8, addr);
    address_space_write_sized(io_as, 0x514, 0, 4);
    address_space_write_sized(io_as, 0x518, bswap32(DESC), 4);
    return ldl_be(ramp() + DESC);
}

START_TEST(test_dma)
{
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++) {
        data[i] = i ^ 0x3c;
    }
    int key = fw_cfg_add_file(fw, "etc/test", data, sizeof(data));
    /* Select + read 600 bytes, then read on from the same offset. */
    ck_assert_uint_eq(dma((key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 600, BUF), 0);
    ck_assert_mem_eq(ramp() + BUF, data, 600);
    /* Skip 100, read the rest and 50 more: zero filled. */
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
    memset(ramp() + BUF, 0xee, 400);
    ck_assert_uint_eq(dma(FW_CFG_DMA_CTL_READ, 350, BUF), 0);
    ck_assert_mem_eq(ramp() + BUF, data + 700, 300);
    for (int i = 300; i < 350; i++) {
        ck_assert_uint_eq(ramp()[BUF + i], 0);
    }
    ck_assert_uint_eq(ramp()[BUF + 350], 0xee);
    /* The data port continues where DMA left off (at the end: zero). */
    ck_assert_uint_eq(rd(), 0);
    /* Writes are refused with the error bit. */
    ck_assert_uint_eq(dma((key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4, BUF),
                      FW_CFG_DMA_CTL_ERROR);
    /* Signature by DMA, as SeaBIOS reads it. */
    ck_assert_uint_eq(dma((FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
                          4, BUF), 0);
    ck_assert(memcmp(ramp() + BUF, "QEMU", 4) == 0);
    /* A 64-bit big-endian address in two halves; only the low half triggers. */
    stl_be(ramp() + DESC, (FW_CFG_ID << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    stl_be(ramp() + DESC + 4, 4);
    stq_be(ramp() + DESC + 8, BUF + 16);
    address_space_write_sized(io_as, 0x514, 0, 4);
    ck_assert_uint_ne(ldl_be(ramp() + DESC), 0);
    address_space_write_sized(io_as, 0x518, bswap32(DESC), 4);
    ck_assert_uint_eq(ldl_be(ramp() + DESC), 0);
    ck_assert_uint_eq(ldl_le(ramp() + BUF + 16), 3);
    /* Destination outside RAM: error bit. */
    ck_assert_uint_eq(dma((key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 16,
                          0xf0000000), FW_CFG_DMA_CTL_ERROR);
    /* Hostile length on an invalid item: zero fill stops at the end of RAM. */
    ck_assert_uint_eq(dma((0x1f << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 0xffffffff,
                          RAM_SIZE - 4096), FW_CFG_DMA_CTL_ERROR);
    /* Descriptor outside RAM: nothing happens. */
    address_space_write_sized(io_as, 0x514, 0, 4);
    address_space_write_sized(io_as, 0x518, bswap32(0xfff00000), 4);
    /* A select without read leaves the offset at 0. */
    ck_assert_uint_eq(dma((key << 16) | FW_CFG_DMA_CTL_SELECT, 0, 0), 0);
    ck_assert_uint_eq(rd(), data[0]);
}
END_TEST

START_TEST(test_no_dma)
{
    FWCfgState *plain = fw_cfg_new_io(io, 0x600, 0, NULL);
    address_space_write_sized(io_as, 0x600, FW_CFG_ID, 2);
    ck_assert_uint_eq(address_space_read_sized(io_as, 0x601, 1), FW_CFG_VERSION);
    fw_cfg_free(plain);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fwcfg");
    TCase *tc = tcase_create("fwcfg");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_signature_and_id);
    tcase_add_test(tc, test_files);
    tcase_add_test(tc, test_dma);
    tcase_add_test(tc, test_no_dma);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
