/*
 * Helpers for device unit tests (header-only: .c files in tests/unit/
 * would be linked into every unit test): a 64 KiB port I/O space and an
 * IRQ line that records its level and its rising edges.
 */
#ifndef TESTS_UNIT_DEVTEST_H
#define TESTS_UNIT_DEVTEST_H

#include "cpu/memory.h"
#include "hw/irq.h"

typedef struct TestIO {
    MemoryRegion *root;
    AddressSpace *as;
} TestIO;

static inline void testio_init(TestIO *t)
{
    t->root = memory_region_new_container("io", 0x10000);
    t->as = address_space_new("io", t->root);
}

static inline void testio_cleanup(TestIO *t)
{
    address_space_free(t->as);
    memory_region_free(t->root);
}

static inline void outb(TestIO *t, uint16_t port, uint8_t val)
{
    address_space_write_sized(t->as, port, val, 1);
}

static inline uint8_t inb(TestIO *t, uint16_t port)
{
    return address_space_read_sized(t->as, port, 1);
}

typedef struct TestLine {
    int level;
    int rises;     /* low -> high transitions seen */
    int calls;
} TestLine;

static inline void test_line_handler(void *opaque, int n, int level)
{
    TestLine *l = opaque;
    if (level && !l->level) {
        l->rises++;
    }
    l->level = level != 0;
    l->calls++;
}

static inline IRQLine *test_line_new(TestLine *l)
{
    memset(l, 0, sizeof(*l));
    return irq_new(test_line_handler, l, 0);
}

#endif
