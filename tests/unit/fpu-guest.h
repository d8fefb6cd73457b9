/*
 * A tiny machine for FPU instruction tests (header-only, included by the
 * test-fpu-*.c programs that run guest code): 1 MiB of RAM, a CPU in
 * 32-bit flat protected mode with a GDT and an IDT whose every vector
 * records its number at VEC_ADDR and halts.
 */
#ifndef TESTS_FPU_GUEST_H
#define TESTS_FPU_GUEST_H

#include "cpu/cpu.h"
#include "cpu/memory.h"

#define GUEST_RAM (1 * MiB)
#define CODE_ADDR 0x10000     /* code slots of 32 bytes from here */
#define CODE_SLOTS 4096
#define DATA_ADDR 0x3000
#define VEC_ADDR 0x7000
#define GDT_ADDR 0x7800
#define IDT_ADDR 0x8000
#define STUB_ADDR 0x9000

typedef struct Guest {
    MemoryRegion *sysmem, *ram, *iomem;
    AddressSpace *as, *io;
    CPUX86State *cpu;
    uint8_t *mem;
    uint32_t code;       /* where guest_set_code put the current code */
    unsigned next_slot;
} Guest;

static void guest_put_desc(uint8_t *p, uint32_t base, uint32_t limit, uint32_t attr)
{
    uint32_t lo = (limit & 0xffff) | (base << 16);
    uint32_t hi = ((base >> 16) & 0xff) | (attr & 0x00f0ff00) | (limit & 0xf0000) | (base & 0xff000000);
    memcpy(p, &lo, 4);
    memcpy(p + 4, &hi, 4);
}

static void guest_flat32(Guest *g)
{
    CPUX86State *cpu = g->cpu;
    uint8_t *m = g->mem;
    /* GDT: null, 0x08 code, 0x10 data; IDT: 256 interrupt gates. */
    memset(m + GDT_ADDR, 0, 24);
    guest_put_desc(m + GDT_ADDR + 8, 0, 0xfffff, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G);
    guest_put_desc(m + GDT_ADDR + 16, 0, 0xfffff, DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G);
    for (int v = 0; v < 256; v++) {
        uint32_t h = STUB_ADDR + v * 8;
        uint8_t *s = m + h;
        /* mov byte [VEC_ADDR], v ; hlt */
        s[0] = 0xc6; s[1] = 0x05;
        uint32_t a = VEC_ADDR;
        memcpy(s + 2, &a, 4);
        s[6] = (uint8_t)v;
        s[7] = 0xf4;
        uint32_t lo = (h & 0xffff) | (0x08 << 16);
        uint32_t hi = (h & 0xffff0000u) | 0x8e00;
        memcpy(m + IDT_ADDR + 8 * v, &lo, 4);
        memcpy(m + IDT_ADDR + 8 * v + 4, &hi, 4);
    }
    cpu->gdt.base = GDT_ADDR;
    cpu->gdt.limit = 23;
    cpu->idt.base = IDT_ADDR;
    cpu->idt.limit = 256 * 8 - 1;
    cpu->cr[0] |= CR0_PE | CR0_NE;
    for (int s = 0; s < 6; s++) {
        SegmentCache *sc = &cpu->segs[s];
        sc->base = 0;
        sc->limit = 0xffffffffu;
        if (s == R_CS) {
            sc->selector = 0x08;
            sc->flags = DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G;
        } else {
            sc->selector = 0x10;
            sc->flags = DESC_P | DESC_S | DESC_W | DESC_A | DESC_B | DESC_G;
        }
    }
    cpu->regs[R_ESP] = 0x70000;
    cpu_sync_after_state_change(cpu);
}

static Guest *guest_new(void)
{
    Guest *g = calloc(1, sizeof(*g));
    g->sysmem = memory_region_new_container("system", 1ull << 32);
    g->ram = memory_region_new_ram("ram", GUEST_RAM, NULL);
    memory_region_add_subregion(g->sysmem, 0, g->ram, 0);
    g->iomem = memory_region_new_container("io", 65536);
    g->as = address_space_new("memory", g->sysmem);
    g->io = address_space_new("io", g->iomem);
    g->mem = memory_region_get_ram_ptr(g->ram);
    g->cpu = cpu_new(g->as, g->io, 4 * MiB);
    guest_flat32(g);
    return g;
}

static void guest_free(Guest *g)
{
    cpu_free(g->cpu);
    address_space_free(g->as);
    address_space_free(g->io);
    memory_region_free(g->sysmem);
    memory_region_free(g->ram);
    memory_region_free(g->iomem);
    free(g);
}

/* Writes code (followed by HLT) through the bus into a fresh 32-byte
 * slot: a new address each time, so no cached translation of other code
 * is ever involved. */
static void guest_set_code(Guest *g, const uint8_t *code, size_t len)
{
    uint8_t buf[32];
    memcpy(buf, code, len);
    buf[len] = 0xf4;
    g->code = CODE_ADDR + 32 * (g->next_slot++ % CODE_SLOTS);
    address_space_write(g->as, g->code, buf, len + 1);
}

/* Runs from CODE_ADDR until HLT; returns the vector of the exception
 * taken, or -1 if none. */
static int guest_run(Guest *g)
{
    CPUX86State *cpu = g->cpu;
    g->mem[VEC_ADDR] = 0xff;
    cpu->eip = g->code;
    cpu->halted = false;
    cpu->regs[R_ESP] = 0x70000;
    for (int i = 0; i < 100 && !cpu->halted; i++) {
        cpu_exec(cpu, 1000);
    }
    return g->mem[VEC_ADDR] == 0xff ? -1 : g->mem[VEC_ADDR];
}

#endif
