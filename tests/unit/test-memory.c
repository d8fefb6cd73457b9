/* Unit tests for cpu/memory.c: flattening, priorities, aliases, dispatch. */
#include <check.h>

#include "cpu/memory.h"

typedef struct {
    uint8_t regs[16];
    int reads, writes;
    unsigned last_size;
} FakeDev;

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
    FakeDev *d = opaque;
    d->reads++;
    d->last_size = size;
    uint64_t v = 0;
    memcpy(&v, d->regs + off, size);
    return v;
}

static void dev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FakeDev *d = opaque;
    d->writes++;
    d->last_size = size;
    memcpy(d->regs + off, &val, size);
}

static const MemoryRegionOps dev_ops_4 = {
    .read = dev_read, .write = dev_write, .min_access_size = 4, .max_access_size = 4,
};
static const MemoryRegionOps dev_ops_1 = {
    .read = dev_read, .write = dev_write, .min_access_size = 1, .max_access_size = 1,
};

START_TEST(test_ram_and_overlap)
{
    MemoryRegion *root = memory_region_new_container("system", 1ULL << 32);
    MemoryRegion *ram = memory_region_new_ram("ram", 1 * MiB, NULL);
    FakeDev dev = { 0 };
    MemoryRegion *io = memory_region_new_io("dev", 16, &dev_ops_1, &dev);
    memory_region_add_subregion(root, 0, ram, 0);
    AddressSpace *as = address_space_new("memory", root);

    address_space_stl(as, 0xa0000, 0x12345678);
    ck_assert_uint_eq(address_space_ldl(as, 0xa0000), 0x12345678);
    ck_assert_uint_eq(ldl_le(memory_region_get_ram_ptr(ram) + 0xa0000), 0x12345678);

    /* MMIO with higher priority hides the RAM below it. */
    memory_region_add_subregion(root, 0xa0000, io, 1);
    address_space_stl(as, 0xa0000, 0xaabbccdd);
    ck_assert_int_eq(dev.writes, 4);          /* split into bytes */
    ck_assert_uint_eq(ldl_le(dev.regs), 0xaabbccdd);
    ck_assert_uint_eq(ldl_le(memory_region_get_ram_ptr(ram) + 0xa0000), 0x12345678);

    MemoryLookup l;
    address_space_lookup(as, 0xa0004, &l);
    ck_assert_ptr_eq(l.mr, io);
    ck_assert_uint_eq(l.mr_offset, 4);
    ck_assert_uint_eq(l.start, 0xa0000);
    ck_assert_uint_eq(l.end, 0xa000f);
    address_space_lookup(as, 0xa0010, &l);
    ck_assert_ptr_eq(l.mr, ram);
    ck_assert_ptr_eq(l.host, memory_region_get_ram_ptr(ram) + 0xa0010);

    /* Disabled: RAM shows again. */
    memory_region_set_enabled(io, false);
    ck_assert_uint_eq(address_space_ldl(as, 0xa0000), 0x12345678);

    /* Unassigned reads are all-ones. */
    ck_assert_uint_eq(address_space_ldl(as, 0x80000000), 0xffffffff);
    uint8_t buf[8];
    ck_assert(!address_space_read(as, 1 * MiB - 4, buf, 8));
    ck_assert_uint_eq(buf[7], 0xff);

    address_space_free(as);
    memory_region_free(io);
    memory_region_free(ram);
    memory_region_free(root);
}
END_TEST

START_TEST(test_alias_rom_and_widening)
{
    MemoryRegion *root = memory_region_new_container("system", 1ULL << 32);
    MemoryRegion *rom = memory_region_new_rom("bios", 128 * KiB, NULL);
    memset(memory_region_get_ram_ptr(rom), 0xea, 128 * KiB);
    memory_region_get_ram_ptr(rom)[128 * KiB - 16] = 0x90;
    /* BIOS at the top of 4 GiB, and its last 128 KiB below 1 MiB. */
    memory_region_add_subregion(root, (1ULL << 32) - 128 * KiB, rom, 0);
    MemoryRegion *alias = memory_region_new_alias("bios-low", rom, 0, 128 * KiB);
    memory_region_add_subregion(root, 0xe0000, alias, 0);
    AddressSpace *as = address_space_new("memory", root);
    ck_assert_uint_eq(address_space_ldub(as, 0xfffffff0), 0x90);
    ck_assert_uint_eq(address_space_ldub(as, 0xffff0), 0x90);
    address_space_stb(as, 0xffff0, 0x11);   /* ROM ignores writes */
    ck_assert_uint_eq(address_space_ldub(as, 0xffff0), 0x90);

    /* A 4-byte-only device read with 1 byte accesses. */
    FakeDev dev = { .regs = { 1, 2, 3, 4 } };
    MemoryRegion *io = memory_region_new_io("dev4", 4, &dev_ops_4, &dev);
    memory_region_add_subregion(root, 0x1000, io, 0);
    ck_assert_uint_eq(address_space_ldub(as, 0x1002), 3);
    ck_assert_uint_eq(dev.last_size, 4);
    address_space_stb(as, 0x1001, 0x55);
    ck_assert_uint_eq(ldl_le(dev.regs), 0x04035501);

    /* Moving a region. */
    memory_region_set_address(io, 0x2000);
    ck_assert_uint_eq(address_space_ldub(as, 0x1002), 0xff);
    ck_assert_uint_eq(address_space_ldub(as, 0x2002), 3);

    address_space_free(as);
    memory_region_free(io);
    memory_region_free(alias);
    memory_region_free(rom);
    memory_region_free(root);
}
END_TEST

static uint64_t notified_addr, notified_len;
static void notify(void *opaque, uint64_t ram_addr, uint64_t len)
{
    notified_addr = ram_addr;
    notified_len = len;
}

START_TEST(test_dirty_and_notify)
{
    MemoryRegion *root = memory_region_new_container("system", 1ULL << 32);
    MemoryRegion *vram = memory_region_new_ram("vram", 256 * KiB, NULL);
    memory_region_add_subregion(root, 0xe0000000, vram, 0);
    AddressSpace *as = address_space_new("memory", root);
    memory_region_set_log(vram, true);
    ck_assert(memory_region_test_and_clear_dirty(vram, 0, 256 * KiB));
    ck_assert(!memory_region_test_and_clear_dirty(vram, 0, 256 * KiB));
    memory_set_write_notify(notify, NULL);
    uint8_t data[100] = { 1 };
    address_space_write(as, 0xe0000000 + 8190, data, sizeof(data));
    ck_assert_uint_eq(notified_addr, memory_region_ram_addr(vram) + 8190);
    ck_assert_uint_eq(notified_len, 100);
    ck_assert(!memory_region_test_and_clear_dirty(vram, 0, 4096));
    ck_assert(memory_region_test_and_clear_dirty(vram, 4096, 4096));
    ck_assert(memory_region_test_and_clear_dirty(vram, 8192, 4096));
    ck_assert(!memory_region_test_and_clear_dirty(vram, 8192, 4096));
    memory_set_write_notify(NULL, NULL);
    address_space_free(as);
    memory_region_free(vram);
    memory_region_free(root);
}
END_TEST

START_TEST(test_io_space)
{
    MemoryRegion *ioroot = memory_region_new_container("io", 65536);
    AddressSpace *io = address_space_new("I/O", ioroot);
    FakeDev dev = { 0 };
    MemoryRegion *r = memory_region_new_io("com1", 8, &dev_ops_1, &dev);
    memory_region_add_subregion(ioroot, 0x3f8, r, 0);
    address_space_write_sized(io, 0x3fb, 0x83, 1);
    ck_assert_uint_eq(dev.regs[3], 0x83);
    ck_assert_uint_eq(address_space_read_sized(io, 0x3fb, 1), 0x83);
    /* A word access straddling the device end: one byte from the device,
     * one unassigned. */
    ck_assert_uint_eq(address_space_read_sized(io, 0x3ff, 2), 0xff00);
    ck_assert_uint_eq(address_space_read_sized(io, 0x80, 1), 0xff);
    address_space_free(io);
    memory_region_free(r);
    memory_region_free(ioroot);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ram_and_overlap);
    tcase_add_test(tc, test_alias_rom_and_widening);
    tcase_add_test(tc, test_dirty_and_notify);
    tcase_add_test(tc, test_io_space);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
