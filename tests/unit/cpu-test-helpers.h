/*
 * A CPU on 16 MiB of RAM for unit tests: 32-bit flat protected mode
 * (GDT at 0x600: 0x08 code, 0x10 data), an IDT at 0x800 whose gates lead
 * to per-vector stubs at 0x3000 + 16*vector that store the vector at
 * TEST_EXC_VEC and halt. Code runs from TEST_CODE until HLT.
 */
#ifndef TESTS_CPU_TEST_HELPERS_H
#define TESTS_CPU_TEST_HELPERS_H

#include <check.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/memory.h"

#define TEST_RAM_SIZE (16 * MiB)
#define TEST_CODE 0x10000
#define TEST_STACK 0x80000
#define TEST_GDT 0x600
#define TEST_IDT 0x800
#define TEST_STUBS 0x3000
#define TEST_EXC_VEC 0x4000     /* dword: vector of the last exception, or ~0 */

typedef struct TestCPU {
    MemoryRegion *sysmem, *ram, *iomem;
    AddressSpace *as, *io;
    CPUX86State *cpu;
    uint8_t *mem;
} TestCPU;

static inline void test_cpu_flat_segments(CPUX86State *cpu)
{
    for (int i = 0; i < 6; i++) {
        SegmentCache *s = &cpu->segs[i];
        s->base = 0;
        s->limit = 0xffffffffu;
        s->selector = i == R_CS ? 0x08 : 0x10;
        s->flags = DESC_P | DESC_S | DESC_A | DESC_B | DESC_G |
                   (i == R_CS ? DESC_CODE | DESC_R : DESC_W);
    }
}

static inline TestCPU *test_cpu_new(void)
{
    TestCPU *t = XNEW(TestCPU);
    t->sysmem = memory_region_new_container("system", 1ULL << 32);
    t->iomem = memory_region_new_container("io", 64 * KiB);
    t->ram = memory_region_new_ram("ram", TEST_RAM_SIZE, NULL);
    ck_assert_ptr_nonnull(t->ram);
    memory_region_add_subregion(t->sysmem, 0, t->ram, 0);
    t->as = address_space_new("memory", t->sysmem);
    t->io = address_space_new("io", t->iomem);
    t->mem = memory_region_get_ram_ptr(t->ram);
    t->cpu = cpu_new(t->as, t->io, 4 * MiB);
    CPUX86State *cpu = t->cpu;
    /* GDT: null, flat code, flat data */
    stq_le(t->mem + TEST_GDT + 8, 0x00cf9a000000ffffULL);
    stq_le(t->mem + TEST_GDT + 16, 0x00cf92000000ffffULL);
    cpu->gdt.base = TEST_GDT;
    cpu->gdt.limit = 23;
    /* IDT: interrupt gates to the stubs */
    for (int v = 0; v < 256; v++) {
        uint32_t stub = TEST_STUBS + v * 16;
        uint8_t *g = t->mem + TEST_IDT + v * 8;
        stw_le(g, stub & 0xffff);
        stw_le(g + 2, 0x08);
        g[4] = 0;
        g[5] = 0x8e;
        stw_le(g + 6, stub >> 16);
        uint8_t *c = t->mem + stub;
        /* mov dword [TEST_EXC_VEC], v ; hlt */
        c[0] = 0xc7;
        c[1] = 0x05;
        stl_le(c + 2, TEST_EXC_VEC);
        stl_le(c + 6, v);
        c[10] = 0xf4;
    }
    cpu->idt.base = TEST_IDT;
    cpu->idt.limit = 256 * 8 - 1;
    cpu->cr[0] = CR0_PE | CR0_ET;
    cpu->cpl = 0;
    test_cpu_flat_segments(cpu);
    cpu_set_eflags(cpu, 2, 0xffffffffu);
    cpu->regs[R_ESP] = TEST_STACK;
    cpu_sync_after_state_change(cpu);
    stl_le(t->mem + TEST_EXC_VEC, 0xffffffffu);
    return t;
}

static inline void test_cpu_free(TestCPU *t)
{
    cpu_free(t->cpu);
    address_space_free(t->as);
    address_space_free(t->io);
    memory_region_free(t->ram);
    memory_region_free(t->sysmem);
    memory_region_free(t->iomem);
    free(t);
}

/* Copies bytes into guest RAM like DMA would (translated code there is
 * invalidated). */
static inline void test_cpu_write(TestCPU *t, uint32_t addr, const void *buf, size_t n)
{
    address_space_write(t->as, addr, buf, n);
}

/* Runs from 'eip' until HLT; fails the test after max_insns. */
static inline void test_cpu_run_at(TestCPU *t, uint32_t eip, int32_t max_insns)
{
    CPUX86State *cpu = t->cpu;
    cpu->eip = eip;
    cpu->halted = false;
    int32_t left = max_insns;
    for (;;) {
        CPUExitReason r = cpu_exec(cpu, left < 100000 ? left : 100000);
        if (r == CPU_EXIT_HALTED) {
            return;
        }
        ck_assert_msg(r != CPU_EXIT_RESET, "CPU reset (triple fault) at %08x", cpu->eip);
        left -= 100000;
        ck_assert_msg(left > 0, "code did not halt within %d instructions (eip %08x)",
                      max_insns, cpu->eip);
    }
}

/* Loads code at TEST_CODE followed by HLT and runs it. */
static inline void test_cpu_run_code(TestCPU *t, const void *code, size_t n)
{
    uint8_t buf[4096];
    ck_assert(n < sizeof(buf));
    memcpy(buf, code, n);
    buf[n] = 0xf4;
    test_cpu_write(t, TEST_CODE, buf, n + 1);
    stl_le(t->mem + TEST_EXC_VEC, 0xffffffffu);
    test_cpu_run_at(t, TEST_CODE, 10 * 1000 * 1000);
}

static inline uint32_t test_cpu_exc(TestCPU *t)
{
    return ldl_le(t->mem + TEST_EXC_VEC);
}

static inline uint32_t test_cpu_flags(TestCPU *t)
{
    return cpu_get_eflags(t->cpu);
}

#define CODE(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

#endif
