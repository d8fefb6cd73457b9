/*
 * Private to the CPU core: translation blocks, the code cache, paging and
 * segmentation helpers shared by the cpu/ files.
 */
#ifndef CPU_INTERNAL_H
#define CPU_INTERNAL_H

#include "cpu/ops.h"

/* ---- translation blocks (cpu/tb.c) ------------------------------------- */

#define TB_MAX_INSNS 128
/* Block-end ops are followed by a slot holding their chaining links. */
typedef struct TBLink {
    struct TB *tb;
    uint32_t gen;
    uint32_t pad;
} TBLink;

typedef struct TB {
    uint64_t phys_pc;         /* RAM address of the first byte */
    uint64_t phys_page2;      /* RAM page of the last byte if on another page, else ~0 */
    uint32_t eip, cs_base, hflags;
    uint32_t size;            /* bytes of guest code */
    uint16_t nops, ninsns;
    bool valid;
    struct TB *hash_next;
    uintptr_t page_next[2];   /* tagged TB pointers: low bit = page slot */
    Op ops[];
} TB;

struct TBCache {
    uint8_t *buf;
    size_t size, used;
    TB **hash;                /* TB_HASH_SIZE buckets */
    uintptr_t *page_tbs;      /* per RAM page: tagged list head */
    uint8_t *code_page;       /* per RAM page: holds translated code */
    size_t npages;
    uint64_t translated, invalidated, flushes;
    bool flush_pending;
};
#define TB_HASH_BITS 16
#define TB_HASH_SIZE (1 << TB_HASH_BITS)
#define RAM_PAGE_NONE (~0ULL)

TBCache *tbc_new(size_t size);
void tbc_free(TBCache *c);
void tbc_flush(CPUX86State *cpu);
TB *tb_lookup(CPUX86State *cpu, uint64_t phys_pc, uint32_t eip, uint32_t cs_base, uint32_t hflags);
/* Allocates room for a block of up to max_ops ops (NULL when full). */
TB *tb_alloc(CPUX86State *cpu, int max_ops);
void tb_commit(CPUX86State *cpu, TB *tb);
/* SMC: drop every block touching [ram_addr, ram_addr + len). */
void tb_invalidate_ram_range(CPUX86State *cpu, uint64_t ram_addr, uint64_t len);
static inline bool tb_page_has_code(CPUX86State *cpu, uint64_t ram_addr)
{
    uint64_t p = ram_addr >> 12;
    return p < cpu->tbc->npages && cpu->tbc->code_page[p];
}
TB *tb_find_slow(CPUX86State *cpu);   /* translate if needed; may raise */
TB *tb_gen_code(CPUX86State *cpu, uint32_t eip, uint32_t cs_base, uint32_t hflags,
                uint64_t phys_pc);

/* Block-end helper: the next block for (eip) in the current mode, from
 * the jump cache, or NULL to return to the CPU loop. */
static inline uint32_t jmp_cache_hash(uint32_t eip) { return (eip ^ (eip >> JMP_CACHE_BITS)) & (JMP_CACHE_SIZE - 1); }
static inline TB *tb_jmp_cache_get(CPUX86State *cpu, uint32_t eip)
{
    JmpCacheEntry *je = &cpu->jmp_cache[jmp_cache_hash(eip)];
    TB *tb = je->tb;
    if (tb && je->gen == cpu->tlb_gen && tb->eip == eip &&
        tb->cs_base == cpu->segs[R_CS].base && tb->hflags == cpu->hflags) {
        return tb;
    }
    return NULL;
}

/* Op that ends a block whose code was invalidated: back to the loop. */
Op *op_exit_to_loop(CPUX86State *cpu, Op *op);

/* ---- paging and the soft TLB (cpu/mmu.c) ------------------------------- */

enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };
void tlb_flush(CPUX86State *cpu, bool keep_global);
void tlb_flush_all_entries(CPUX86State *cpu);
void tlb_flush_page(CPUX86State *cpu, uint32_t lin);
/* Invalidate write entries of a RAM page that now holds code. */
void tlb_protect_code_page(CPUX86State *cpu, uint64_t ram_page);
/* Walks the page tables (sets A/D bits when set_ad). Returns true and
 * *phys, or false with the #PF error code in *err. */
bool mmu_translate(CPUX86State *cpu, uint32_t lin, int acc, bool user, bool set_ad,
                   uint32_t *phys, uint32_t *err);
/* Code fetch for the translator: host pointer to the page of lin (NULL for
 * non-RAM) and its RAM address. Returns false with *err on a #PF. */
bool mmu_code_page(CPUX86State *cpu, uint32_t lin, uint8_t **host, uint64_t *ram_addr,
                   uint32_t *phys, uint32_t *err);
/* Supervisor-mode (implicit) accesses: descriptor tables, TSS, IDT. */
uint32_t sys_ld(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size);
void sys_st(CPUX86State *cpu, Op *op, uint32_t lin, uint32_t val, unsigned size);
void cpu_update_tlb_ptr(CPUX86State *cpu);
void mmu_write_notify(void *opaque, uint64_t ram_addr, uint64_t len);
void mmu_map_notify(void *opaque, AddressSpace *as);

/* ---- segmentation (cpu/seg.c) ------------------------------------------ */

void seg_cache_derive(SegmentCache *s, bool pm, int seg);
void cpu_update_hflags(CPUX86State *cpu);
/* Loads a segment register as MOV/POP do, with all checks. */
void load_seg(CPUX86State *cpu, Op *op, int seg, uint16_t sel);
void load_seg_vm(CPUX86State *cpu, int seg, uint16_t sel);  /* real / V86 */
void cpu_set_cpl(CPUX86State *cpu, int cpl);
void do_far_jmp(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t off, uint32_t next_eip);
void do_far_call(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t off, bool o32, uint32_t next_eip);
void do_far_ret(CPUX86State *cpu, Op *op, bool o32, uint16_t extra);
void do_iret(CPUX86State *cpu, Op *op, bool o32);
void do_lldt(CPUX86State *cpu, Op *op, uint16_t sel);
void do_ltr(CPUX86State *cpu, Op *op, uint16_t sel);
uint32_t do_lar_lsl(CPUX86State *cpu, Op *op, uint16_t sel, bool lsl, bool *ok);
bool do_verr_verw(CPUX86State *cpu, Op *op, uint16_t sel, bool write);
void do_sysenter(CPUX86State *cpu, Op *op);
void do_sysexit(CPUX86State *cpu, Op *op);
/* Interrupt/exception delivery. is_sw: INT n/INT3/INTO (privilege check,
 * EIP after the instruction); ext: external event (error code EXT bit). */
void do_interrupt(CPUX86State *cpu, int vec, bool is_sw, bool ext,
                  bool has_err, uint32_t err, uint32_t next_eip);
/* Task switch source. */
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
void do_task_switch(CPUX86State *cpu, Op *op, uint16_t sel, uint32_t lo, uint32_t hi,
                    int source, uint32_t next_eip, bool has_err, uint32_t err);
bool io_permitted(CPUX86State *cpu, Op *op, uint16_t port, unsigned size);

void cpu_cpuid(CPUX86State *cpu, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
bool cpu_msr_read(CPUX86State *cpu, uint32_t idx, uint64_t *v);
bool cpu_msr_write(CPUX86State *cpu, uint32_t idx, uint64_t v);

/* ---- misc ---------------------------------------------------------------- */
uint64_t cpu_read_tsc(CPUX86State *cpu);
void cpu_write_cr0(CPUX86State *cpu, Op *op, uint32_t v);
void cpu_write_cr3(CPUX86State *cpu, uint32_t v);
void cpu_write_cr4(CPUX86State *cpu, Op *op, uint32_t v);
void cpu_set_eflags_checked(CPUX86State *cpu, uint32_t v, uint32_t mask);

/* Stack helpers honouring SS.B (cpu/ops-stack.c). */
static inline uint32_t sp_mask(CPUX86State *cpu) { return (cpu->hflags & HF_SS32) ? 0xffffffffu : 0xffffu; }
void push16(CPUX86State *cpu, Op *op, uint16_t v);
void push32(CPUX86State *cpu, Op *op, uint32_t v);
uint16_t pop16(CPUX86State *cpu, Op *op);
uint32_t pop32(CPUX86State *cpu, Op *op);

/* The translator (cpu/translate.c). */
TB *translate_block(CPUX86State *cpu, uint32_t eip, uint32_t cs_base, uint32_t hflags,
                    uint64_t phys_pc);

/* Handler tables shared between translate.c and ops-*.c. */


/* Parity of the low byte: CC_P when even. */
static inline uint32_t parity_flag(uint32_t v)
{
    return __builtin_parity(v & 0xff) ? 0 : CC_P;
}

#endif
