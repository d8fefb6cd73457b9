/* Unit tests for hw/ioapic.c through its MMIO window. */
#include <check.h>

#include "hw/ioapic.h"

typedef struct Msg {
    uint8_t vector, mode, dest;
    bool logical, level;
} Msg;

static MemoryRegion *sysmem;
static AddressSpace *as;
static IOAPICState *io;
static Msg msgs[64];
static int nmsgs;

static void deliver(void *opaque, uint8_t vector, uint8_t mode, uint8_t dest, bool logical,
                    bool level)
{
    if (nmsgs < 64) {
        msgs[nmsgs++] = (Msg){ vector, mode, dest, logical, level };
    }
}

static void setup(void)
{
    sysmem = memory_region_new_container("system", 1ULL << 32);
    as = address_space_new("memory", sysmem);
    io = ioapic_new(sysmem, IOAPIC_DEFAULT_BASE, deliver, NULL);
    nmsgs = 0;
}

static void teardown(void)
{
    ioapic_free(io);
    address_space_free(as);
    memory_region_free(sysmem);
}

static uint32_t reg_read(uint8_t reg)
{
    address_space_stl(as, IOAPIC_DEFAULT_BASE, reg);
    return address_space_ldl(as, IOAPIC_DEFAULT_BASE + 0x10);
}

static void reg_write(uint8_t reg, uint32_t val)
{
    address_space_stl(as, IOAPIC_DEFAULT_BASE, reg);
    address_space_stl(as, IOAPIC_DEFAULT_BASE + 0x10, val);
}

static void program(int pin, uint64_t entry)
{
    reg_write(0x10 + 2 * pin + 1, entry >> 32);
    reg_write(0x10 + 2 * pin, (uint32_t)entry);
}

START_TEST(test_registers)
{
    ck_assert_uint_eq(reg_read(0x01), 0x00170020);
    ck_assert_uint_eq(reg_read(0x00), 0);
    reg_write(0x00, 0x0f000000);
    ck_assert_uint_eq(reg_read(0x00), 0x0f000000);
    ck_assert_uint_eq(reg_read(0x02), 0x0f000000);
    reg_write(0x01, 0);
    ck_assert_uint_eq(reg_read(0x01), 0x00170020);
    /* All entries masked after reset. */
    for (int pin = 0; pin < 24; pin++) {
        ck_assert_uint_eq(reg_read(0x10 + 2 * pin), 0x00010000);
    }
    /* Read-only delivery status / remote IRR, reserved high bits. */
    reg_write(0x12, 0xffffffff);
    ck_assert_uint_eq(reg_read(0x12), 0x0001afff);
    reg_write(0x13, 0xffffffff);
    ck_assert_uint_eq(reg_read(0x13), 0xff000000);
    ck_assert_uint_eq(address_space_ldl(as, IOAPIC_DEFAULT_BASE), 0x13);
    /* Registers beyond the table read 0, writes vanish; no crash on any. */
    for (int r = 0; r < 256; r++) {
        reg_write(r, 0x12345678);
        reg_read(r);
    }
    ck_assert_uint_eq(reg_read(0x40), 0);
    ioapic_reset(io);
    ck_assert_uint_eq(reg_read(0x00), 0);
    ck_assert_uint_eq(reg_read(0x10), 0x00010000);
    /* Byte access to IOREGSEL (widened by the memory core). */
    address_space_stb(as, IOAPIC_DEFAULT_BASE, 0x01);
    ck_assert_uint_eq(address_space_ldl(as, IOAPIC_DEFAULT_BASE + 0x10), 0x00170020);
}
END_TEST

START_TEST(test_edge)
{
    program(4, 0x34 | (3ULL << 56));
    IRQLine *l = ioapic_irq(io, 4);
    irq_raise(l);
    ck_assert_int_eq(nmsgs, 1);
    ck_assert_uint_eq(msgs[0].vector, 0x34);
    ck_assert_uint_eq(msgs[0].dest, 3);
    ck_assert_uint_eq(msgs[0].mode, IOAPIC_DM_FIXED);
    ck_assert(!msgs[0].logical);
    ck_assert(!msgs[0].level);
    irq_raise(l);                    /* no edge */
    ck_assert_int_eq(nmsgs, 1);
    irq_lower(l);
    irq_pulse(l);
    ck_assert_int_eq(nmsgs, 2);
    /* Masked: the edge is lost, unmasking delivers nothing. */
    program(4, 0x34 | IOAPIC_LVT_MASKED);
    irq_pulse(l);
    program(4, 0x34);
    ck_assert_int_eq(nmsgs, 2);
    /* Logical destination, lowest priority, NMI modes pass through. */
    program(5, 0x50 | (1ULL << 8) | IOAPIC_LVT_DEST_MODE | (0x0fULL << 56));
    irq_pulse(ioapic_irq(io, 5));
    ck_assert_int_eq(nmsgs, 3);
    ck_assert(msgs[2].logical);
    ck_assert_uint_eq(msgs[2].mode, IOAPIC_DM_LOWEST);
    ck_assert_uint_eq(msgs[2].dest, 0x0f);
    /* Out-of-range pins have no line. */
    ck_assert_ptr_null(ioapic_irq(io, 24));
    ck_assert_ptr_null(ioapic_irq(io, -1));
}
END_TEST

START_TEST(test_level_and_eoi)
{
    IRQLine *l = ioapic_irq(io, 10);
    program(10, 0x40 | IOAPIC_LVT_TRIGGER_LEVEL | IOAPIC_LVT_POLARITY);
    irq_raise(l);
    ck_assert_int_eq(nmsgs, 1);
    ck_assert(msgs[0].level);
    ck_assert_uint_eq(reg_read(0x10 + 20) & IOAPIC_LVT_REMOTE_IRR, IOAPIC_LVT_REMOTE_IRR);
    irq_raise(l);
    ck_assert_int_eq(nmsgs, 1);      /* remote IRR holds it */
    /* EOI with another vector changes nothing. */
    ioapic_eoi_broadcast(io, 0x41);
    ck_assert_int_eq(nmsgs, 1);
    /* EOI while still asserted: delivered again. */
    ioapic_eoi_broadcast(io, 0x40);
    ck_assert_int_eq(nmsgs, 2);
    /* Deassert, then EOI through the EOI register: quiet, IRR clear. */
    irq_lower(l);
    address_space_stl(as, IOAPIC_DEFAULT_BASE + 0x40, 0x40);
    ck_assert_int_eq(nmsgs, 2);
    ck_assert_uint_eq(reg_read(0x10 + 20) & IOAPIC_LVT_REMOTE_IRR, 0);
    /* Asserted while masked: delivered when unmasked. */
    program(10, 0x40 | IOAPIC_LVT_TRIGGER_LEVEL | IOAPIC_LVT_MASKED);
    irq_raise(l);
    ck_assert_int_eq(nmsgs, 2);
    program(10, 0x40 | IOAPIC_LVT_TRIGGER_LEVEL);
    ck_assert_int_eq(nmsgs, 3);
    /* Switching to edge clears remote IRR. */
    program(10, 0x40);
    ck_assert_uint_eq(reg_read(0x10 + 20) & IOAPIC_LVT_REMOTE_IRR, 0);
    irq_lower(l);
    /* Two pins sharing a vector: one EOI serves both. */
    program(11, 0x48 | IOAPIC_LVT_TRIGGER_LEVEL);
    program(12, 0x48 | IOAPIC_LVT_TRIGGER_LEVEL);
    irq_raise(ioapic_irq(io, 11));
    irq_raise(ioapic_irq(io, 12));
    ck_assert_int_eq(nmsgs, 5);
    irq_lower(ioapic_irq(io, 11));
    ioapic_eoi_broadcast(io, 0x48);
    ck_assert_int_eq(nmsgs, 6);
    ck_assert_uint_eq(msgs[5].vector, 0x48);
}
END_TEST

static IOAPICState *eager;
static int eager_count;

static void eager_deliver(void *opaque, uint8_t vector, uint8_t mode, uint8_t dest, bool logical,
                          bool level)
{
    /* A local APIC that acknowledges inside the delivery. */
    eager_count++;
    ioapic_eoi_broadcast(eager, vector);
}

START_TEST(test_reentrant_eoi)
{
    eager = ioapic_new(NULL, 0, eager_deliver, NULL);
    eager->ioredtbl[3] = 0x70 | IOAPIC_LVT_TRIGGER_LEVEL;
    irq_raise(ioapic_irq(eager, 3));
    /* A storm, but a bounded one: no recursion, no endless loop. */
    ck_assert_int_gt(eager_count, 1);
    ck_assert_int_le(eager_count, 32);
    int n = eager_count;
    irq_lower(ioapic_irq(eager, 3));
    ioapic_eoi_broadcast(eager, 0x70);
    ck_assert_int_eq(eager_count, n);
    ioapic_free(eager);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ioapic");
    TCase *tc = tcase_create("ioapic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registers);
    tcase_add_test(tc, test_edge);
    tcase_add_test(tc, test_level_and_eoi);
    tcase_add_test(tc, test_reentrant_eoi);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
