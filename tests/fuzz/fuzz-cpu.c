/*
 * Fuzz target for the CPU: the input is guest code (and descriptor table
 * contents) run for a bounded number of instructions in a mode chosen
 * by the first byte. Whatever the guest does (bad descriptors, faults
 * in delivery, task switches through garbage, self-modifying code,
 * paging on random tables), the emulator must neither crash nor trip a
 * sanitizer; resets (triple faults) and halts simply end the run.
 *
 * Input: byte 0 = mode (bits 0-1: real / 16-bit PM / 32-bit PM / V86,
 * bit 2: paging, bits 3-4: CPL for 32-bit PM, bit 5: TF), bytes 1..64 =
 * eight extra GDT descriptors (selectors 0x18-0x50), the rest = code at
 * 0x10000 (also mirrored at 0x20000 as data).
 */
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/memory.h"
#include "fuzz.h"

#define RAM_SIZE (2 * MiB)
#define CODE_ADDR 0x10000
#define GDT 0x600
#define IDT 0x800
#define STUBS 0x3000
#define PD 0x100000
#define PT 0x101000

static MemoryRegion *sysmem, *iomem, *ram;
static AddressSpace *as, *io;
static CPUX86State *cpu;
static uint8_t *mem;

static void setup_once(void)
{
    if (cpu) {
        return;
    }
    sysmem = memory_region_new_container("system", 1ULL << 32);
    iomem = memory_region_new_container("io", 64 * KiB);
    ram = memory_region_new_ram("ram", RAM_SIZE, NULL);
    memory_region_add_subregion(sysmem, 0, ram, 0);
    as = address_space_new("memory", sysmem);
    io = address_space_new("io", iomem);
    mem = memory_region_get_ram_ptr(ram);
    cpu = cpu_new(as, io, 1 * MiB);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size < 1) {
        return 0;
    }
    memset(mem, 0, RAM_SIZE);
    cpu_reset(cpu);
    uint8_t mode = data[0];
    /* GDT: null, code32, data32, then 8 descriptors from the input */
    stq_le(mem + GDT + 8, 0x00cf9a000000ffffULL);
    stq_le(mem + GDT + 16, 0x00cf92000000ffffULL);
    size_t n = size > 1 ? MIN(size - 1, (size_t)64) : 0;
    memcpy(mem + GDT + 24, data + 1, n);
    /* ring-3 flat segments at 0x58/0x60 and a TSS at 0x68 */
    stq_le(mem + GDT + 0x58, 0x00cffa000000ffffULL);
    stq_le(mem + GDT + 0x60, 0x00cff2000000ffffULL);
    stq_le(mem + GDT + 0x68, 0x0000890050000067ULL);
    stl_le(mem + 0x5004, 0x80000);
    stl_le(mem + 0x5008, 0x10);
    for (int v = 0; v < 256; v++) {
        uint32_t stub = STUBS + v * 4;
        uint8_t *g = mem + IDT + v * 8;
        stw_le(g, stub & 0xffff);
        stw_le(g + 2, 0x08);
        g[4] = 0;
        g[5] = v >= 0x80 ? 0xee : 0x8e;
        stw_le(g + 6, stub >> 16);
        mem[stub] = 0xcf;          /* iret */
        stw_le(mem + v * 4, stub); /* real-mode IVT: 0000:stub */
        stw_le(mem + v * 4 + 2, 0);
        mem[stub + 1] = 0xcf;
    }
    if (size > 65) {
        size_t code = MIN(size - 65, (size_t)0x8000);
        memcpy(mem + CODE_ADDR, data + 65, code);
        memcpy(mem + 0x20000, data + 65, code);
    }
    /* identity page tables for the first 2 MiB (4 KiB pages) */
    for (int i = 0; i < 512; i++) {
        stl_le(mem + PT + 4 * i, (i << 12) | 7);
    }
    stl_le(mem + PD, PT | 7);

    cpu->gdt.base = GDT;
    cpu->gdt.limit = 0x6f;
    cpu->idt.base = (mode & 3) == 0 ? 0 : IDT;
    cpu->idt.limit = (mode & 3) == 0 ? 0x3ff : 0x7ff;
    cpu->regs[R_ESP] = 0x8000;
    cpu->eip = CODE_ADDR;
    uint32_t fl = 2 | ((mode & 0x20) ? TF_MASK : 0);
    switch (mode & 3) {
    case 0:                               /* real mode, CS:IP = 1000:0000 */
        for (int i = 0; i < 6; i++) {
            cpu->segs[i].base = 0;
            cpu->segs[i].selector = 0;
        }
        cpu->segs[R_CS].selector = 0x1000;
        cpu->segs[R_CS].base = 0x10000;
        cpu->eip = 0;
        break;
    case 1: case 2: {                     /* 16/32-bit protected mode */
        bool b32 = (mode & 3) == 2;
        int cpl = b32 ? (mode >> 3) & 3 : 0;
        if (cpl != 0 && cpl != 3) {
            cpl = 0;
        }
        cpu->cr[0] = CR0_PE | CR0_ET | ((mode & 4) ? CR0_PG : 0);
        cpu->cr[3] = PD;
        for (int i = 0; i < 6; i++) {
            SegmentCache *s = &cpu->segs[i];
            s->base = 0;
            s->limit = b32 ? 0xffffffffu : 0xffff;
            s->flags = DESC_P | DESC_S | DESC_A | (b32 ? DESC_B | DESC_G : 0) |
                       (i == R_CS ? DESC_CODE | DESC_R : DESC_W) | (cpl << DESC_DPL_SHIFT);
            s->selector = cpl == 3 ? (i == R_CS ? 0x5b : 0x63) : (i == R_CS ? 0x08 : 0x10);
        }
        cpu->cpl = cpl;
        cpu->tr.selector = 0x68;
        cpu->tr.base = 0x5000;
        cpu->tr.limit = 0x67;
        cpu->tr.flags = DESC_P | (11 << DESC_TYPE_SHIFT);
        break;
    }
    default:                              /* V86 */
        cpu->cr[0] = CR0_PE | CR0_ET | ((mode & 4) ? CR0_PG : 0);
        cpu->cr[3] = PD;
        fl |= VM_MASK | ((mode & 8) ? IOPL_MASK : 0);
        cpu->cpl = 3;
        for (int i = 0; i < 6; i++) {
            SegmentCache *s = &cpu->segs[i];
            s->selector = i == R_CS ? 0x1000 : 0;
            s->base = s->selector << 4;
            s->limit = 0xffff;
            s->flags = DESC_P | DESC_S | DESC_W | DESC_A | (3 << DESC_DPL_SHIFT);
        }
        cpu->eip = 0;
        cpu->tr.selector = 0x68;
        cpu->tr.base = 0x5000;
        cpu->tr.limit = 0x67;
        cpu->tr.flags = DESC_P | (11 << DESC_TYPE_SHIFT);
        break;
    }
    cpu_set_eflags(cpu, fl, 0xffffffffu);
    cpu_sync_after_state_change(cpu);
    for (int slice = 0; slice < 2; slice++) {
        CPUExitReason r = cpu_exec(cpu, 2000);
        if (r == CPU_EXIT_HALTED || r == CPU_EXIT_RESET) {
            break;
        }
    }
    return 0;
}

static void seed(FuzzSeedFn *emit, void *opaque, uint8_t mode, const uint8_t *code, size_t len)
{
    uint8_t buf[65 + 256] = { 0 };
    buf[0] = mode;
    /* descriptors: a 16-bit code, a data, a call gate, an LDT, a TSS... */
    stq_le(buf + 1, 0x00009a000000ffffULL);
    stq_le(buf + 9, 0x0000920000000fffULL);
    stq_le(buf + 17, 0x0000ec0000081000ULL);
    stq_le(buf + 25, 0x0000820006000017ULL);
    stq_le(buf + 33, 0x0000890050000067ULL);
    stq_le(buf + 41, 0x0000850000680000ULL);
    memcpy(buf + 65, code, MIN(len, (size_t)256));
    emit(buf, 65 + len, opaque);
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    static const uint8_t loop[] = { 0xb9, 0x10, 0, 0, 0, 0x40, 0xe2, 0xfd, 0xf4 };
    static const uint8_t segs[] = { 0xb8, 0x20, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xd0, 0x66, 0xea, 0, 0, 0x18, 0, 0xf4 };
    static const uint8_t ints[] = { 0xcd, 0x80, 0xcc, 0xce, 0x0f, 0x0b, 0xcd, 0x03, 0xf4 };
    static const uint8_t cr0[] = { 0x0f, 0x20, 0xc0, 0x0d, 0, 0, 0, 0x80, 0x0f, 0x22, 0xc0, 0xeb, 0, 0xf4 };
    static const uint8_t farcall[] = { 0x9a, 0, 0, 0, 0, 0x28, 0, 0xea, 0, 0, 0, 0, 0x48, 0, 0xf4 };
    static const uint8_t strops[] = { 0xfc, 0xbe, 0, 0, 2, 0, 0xbf, 0, 0x10, 0, 0, 0xb9, 0, 1, 0, 0,
                                      0xf3, 0xa4, 0xf3, 0xab, 0xf2, 0xae, 0xf4 };
    static const uint8_t smc[] = { 0xc6, 0x05, 0x07, 0, 1, 0, 0x90, 0x40, 0xeb, 0xf6 };
    static const uint8_t lldt[] = { 0x66, 0xb8, 0x30, 0, 0x0f, 0x00, 0xd0, 0x66, 0xb8, 0x38, 0, 0x0f, 0x00,
                                    0xd8, 0xcf, 0xf4 };
    static const uint8_t iret[] = { 0x6a, 0x00, 0x6a, 0x10, 0x68, 0, 0, 2, 0, 0x6a, 0x08, 0x68, 0, 0, 1, 0, 0xcf };
    seed(emit, opaque, 2, loop, sizeof(loop));
    seed(emit, opaque, 2, segs, sizeof(segs));
    seed(emit, opaque, 0, ints, sizeof(ints));
    seed(emit, opaque, 2 | 0x18, ints, sizeof(ints));
    seed(emit, opaque, 2 | 4, cr0, sizeof(cr0));
    seed(emit, opaque, 2 | 0x18, farcall, sizeof(farcall));
    seed(emit, opaque, 2 | 4, strops, sizeof(strops));
    seed(emit, opaque, 2 | 0x20, smc, sizeof(smc));
    seed(emit, opaque, 1, lldt, sizeof(lldt));
    seed(emit, opaque, 3, ints, sizeof(ints));
    seed(emit, opaque, 3 | 8, iret, sizeof(iret));
    seed(emit, opaque, 2, iret, sizeof(iret));
}
