/*
 * Paging and the soft TLB.
 *
 * Two TLBs (supervisor and user accesses), each direct-mapped by linear
 * page, with separate tags for reads, writes and instruction fetch. An
 * entry maps a linear page to host memory by an addend. Only plain RAM
 * gets a write tag, and only while the page holds no translated code and
 * is not dirty-logged: every other write takes mem_write_slow(), which
 * invalidates code, marks dirty pages and reaches MMIO callbacks.
 *
 * Entries are filled only after a full page walk that set the A (and for
 * write tags D) bits, so the fast path never needs to update them.
 */
#include "cpu-internal.h"
#include "hw/irq.h"
#include "util/log.h"

/* ---- flushing ------------------------------------------------------------- */

static void tlb_entry_clear(TLBEntry *e)
{
    e->read_tag = e->write_tag = TLB_INVALID;
}

static void tlb_extra_clear(TLBExtra *x)
{
    x->code_tag = TLB_INVALID;
    x->global = 0;
    x->ram_page = RAM_PAGE_NONE;
}

static void tlb_clear(CPUX86State *cpu, int m, uint32_t i)
{
    tlb_entry_clear(&cpu->tlb_table[m][i]);
    tlb_extra_clear(&cpu->tlb_extra[m][i]);
}

static inline bool tlb_empty(CPUX86State *cpu, int m, uint32_t i)
{
    const TLBEntry *e = &cpu->tlb_table[m][i];
    return e->read_tag == TLB_INVALID && e->write_tag == TLB_INVALID &&
           cpu->tlb_extra[m][i].code_tag == TLB_INVALID;
}

static void tlb_note_used(CPUX86State *cpu, int m, uint32_t idx)
{
    uint32_t n = cpu->tlb_used_n[m];
    if (n < TLB_SIZE) {
        cpu->tlb_used[m][n] = idx;
    }
    if (n <= TLB_SIZE) {
        cpu->tlb_used_n[m] = n + 1;
    }
}

void tlb_flush(CPUX86State *cpu, bool keep_global)
{
    for (int m = 0; m < 2; m++) {
        uint32_t n = cpu->tlb_used_n[m];
        cpu->tlb_used_n[m] = 0;
        if (n > TLB_SIZE) {
            for (uint32_t i = 0; i < TLB_SIZE; i++) {
                if (keep_global && cpu->tlb_extra[m][i].global) {
                    tlb_note_used(cpu, m, i);
                } else {
                    tlb_clear(cpu, m, i);
                }
            }
            continue;
        }
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = cpu->tlb_used[m][k];
            if (tlb_empty(cpu, m, i)) {
                continue;
            }
            if (keep_global && cpu->tlb_extra[m][i].global) {
                /* Keep it listed (the list is rebuilt in place). */
                cpu->tlb_used[m][cpu->tlb_used_n[m]++] = i;
            } else {
                tlb_clear(cpu, m, i);
            }
        }
    }
    cpu->tlb_gen++;
}

/* Everything, ignoring the used lists (reset, first use). */
void tlb_flush_all_entries(CPUX86State *cpu)
{
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < TLB_SIZE; i++) {
            tlb_clear(cpu, m, i);
        }
        cpu->tlb_used_n[m] = 0;
    }
    for (int i = 0; i < TLB_SIZE; i++) {
        tlb_entry_clear(&cpu->tlb_nocache[i]);
    }
    cpu->tlb_gen++;
}

void tlb_flush_page(CPUX86State *cpu, uint32_t lin)
{
    uint32_t page = lin & ~0xfffu;
    uint32_t i = (lin >> 12) & (TLB_SIZE - 1);
    for (int m = 0; m < 2; m++) {
        TLBEntry *e = &cpu->tlb_table[m][i];
        if (e->read_tag == page || e->write_tag == page || cpu->tlb_extra[m][i].code_tag == page) {
            tlb_clear(cpu, m, i);
        }
    }
    /* Blocks linked through this page may now map elsewhere. */
    cpu->tlb_gen++;
}

void tlb_protect_code_page(CPUX86State *cpu, uint64_t ram_page)
{
    for (int m = 0; m < 2; m++) {
        uint32_t n = cpu->tlb_used_n[m];
        if (n > TLB_SIZE) {
            for (int i = 0; i < TLB_SIZE; i++) {
                if (cpu->tlb_extra[m][i].ram_page == ram_page) {
                    cpu->tlb_table[m][i].write_tag = TLB_INVALID;
                }
            }
            continue;
        }
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = cpu->tlb_used[m][k];
            if (cpu->tlb_extra[m][i].ram_page == ram_page) {
                cpu->tlb_table[m][i].write_tag = TLB_INVALID;
            }
        }
    }
}

void cpu_update_tlb_ptr(CPUX86State *cpu)
{
    if (cpu->cpl == 3 && (cpu->cr[0] & CR0_AM) && (cpu->eflags & AC_MASK)) {
        cpu->tlb = cpu->tlb_nocache;
    } else {
        cpu->tlb = cpu->tlb_table[cpu->cpl == 3];
    }
}

/* #AC: misaligned data access at CPL 3 with CR0.AM and EFLAGS.AC. */
static inline void check_alignment(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size, int idx)
{
    if (unlikely(cpu->tlb == cpu->tlb_nocache) && idx == 1 && (lin & (size - 1))) {
        raise_exception_err(cpu, op, EXCP_AC, 0);
    }
}

void mmu_map_notify(void *opaque, AddressSpace *as)
{
    CPUX86State *cpu = opaque;
    if (as == cpu->as_mem) {
        cpu->pcache_valid = false;
        tlb_flush(cpu, false);
        /* Blocks are keyed by RAM address, which a remap does not change,
         * but ROM shadowing can make the same RAM address show different
         * bytes; be safe. */
        cpu->tbc->flush_pending = true;
        cpu->exit_request = 1;
    }
}

void mmu_write_notify(void *opaque, uint64_t ram_addr, uint64_t len)
{
    CPUX86State *cpu = opaque;
    tb_invalidate_ram_range(cpu, ram_addr, len);
}

/* ---- page walk -------------------------------------------------------------- */

enum {
    PG_P = 1, PG_RW = 2, PG_US = 4, PG_PWT = 8, PG_PCD = 16, PG_A = 32,
    PG_D = 64, PG_PS = 128, PG_G = 256,
};
enum { PF_P = 1, PF_W = 2, PF_U = 4 };

/* Looks up the RAM/ROM range holding 'addr' through the one-entry cache.
 * Returns false for MMIO and unassigned space. */
static bool phys_ram_lookup(CPUX86State *cpu, uint64_t addr)
{
    if (cpu->pcache_valid && addr >= cpu->pcache_start && addr <= cpu->pcache_end) {
        return true;
    }
    MemoryLookup l;
    address_space_lookup(cpu->as_mem, addr, &l);
    if (!l.mr || !l.host) {
        return false;
    }
    /* Clip to the part of the range that lies inside the region. */
    uint64_t avail = memory_region_size(l.mr) - l.mr_offset;
    uint64_t end = MIN(l.end, addr + avail - 1);
    cpu->pcache_start = addr;
    cpu->pcache_end = end;
    cpu->pcache_host = l.host;
    cpu->pcache_mr = l.mr;
    cpu->pcache_mr_offset = l.mr_offset;
    cpu->pcache_readonly = l.readonly;
    cpu->pcache_valid = true;
    return true;
}

static uint32_t phys_ldl(CPUX86State *cpu, uint32_t addr)
{
    addr &= cpu->a20_mask;
    if (phys_ram_lookup(cpu, addr) && addr + 3 <= cpu->pcache_end) {
        return ldl_le(cpu->pcache_host + (addr - cpu->pcache_start));
    }
    return address_space_ldl(cpu->as_mem, addr);
}

static void phys_stl(CPUX86State *cpu, uint32_t addr, uint32_t v)
{
    address_space_stl(cpu->as_mem, addr & cpu->a20_mask, v);
}

static bool mmu_walk(CPUX86State *cpu, uint32_t lin, int acc, bool user, bool set_ad,
                     uint32_t *phys, uint32_t *err, bool *global)
{
    *global = false;
    if (!(cpu->cr[0] & CR0_PG)) {
        *phys = lin & cpu->a20_mask;
        return true;
    }
    bool write = acc == ACC_WRITE;
    uint32_t pde_addr = (cpu->cr[3] & ~0xfffu) + ((lin >> 20) & 0xffc);
    uint32_t pde = phys_ldl(cpu, pde_addr);
    uint32_t base_err = (write ? PF_W : 0) | (user ? PF_U : 0);
    if (!(pde & PG_P)) {
        *err = base_err;
        return false;
    }
    bool wp = cpu->cr[0] & CR0_WP;
    if ((pde & PG_PS) && (cpu->cr[4] & CR4_PSE)) {
        /* 4 MiB page. */
        bool rw = pde & PG_RW, us = pde & PG_US;
        if ((user && !us) || (write && !rw && (user || wp))) {
            *err = base_err | PF_P;
            return false;
        }
        if (set_ad) {
            uint32_t n = pde | PG_A | (write ? PG_D : 0);
            if (n != pde) {
                phys_stl(cpu, pde_addr, n);
            }
        }
        *phys = ((pde & 0xffc00000u) | (lin & 0x3fffff)) & cpu->a20_mask;
        *global = (pde & PG_G) && (cpu->cr[4] & CR4_PGE);
        return true;
    }
    uint32_t pte_addr = (pde & ~0xfffu) + ((lin >> 10) & 0xffc);
    uint32_t pte = phys_ldl(cpu, pte_addr);
    if (!(pte & PG_P)) {
        *err = base_err;
        return false;
    }
    bool rw = (pde & PG_RW) && (pte & PG_RW);
    bool us = (pde & PG_US) && (pte & PG_US);
    if ((user && !us) || (write && !rw && (user || wp))) {
        *err = base_err | PF_P;
        return false;
    }
    if (set_ad) {
        if (!(pde & PG_A)) {
            phys_stl(cpu, pde_addr, pde | PG_A);
        }
        uint32_t n = pte | PG_A | (write ? PG_D : 0);
        if (n != pte) {
            phys_stl(cpu, pte_addr, n);
        }
    }
    *phys = ((pte & ~0xfffu) | (lin & 0xfff)) & cpu->a20_mask;
    *global = (pte & PG_G) && (cpu->cr[4] & CR4_PGE);
    return true;
}

bool mmu_translate(CPUX86State *cpu, uint32_t lin, int acc, bool user, bool set_ad,
                   uint32_t *phys, uint32_t *err)
{
    bool global;
    return mmu_walk(cpu, lin, acc, user, set_ad, phys, err, &global);
}

NORETURN static void raise_pf(CPUX86State *cpu, Op *op, uint32_t lin, uint32_t err)
{
    cpu->cr[2] = lin;
    log_mask_printf(LOG_INT, "#PF lin=%08x err=%x eip=%08x\n", lin, err, op ? op->eip : cpu->eip);
    raise_exception_err(cpu, op, EXCP_PF, err);
}

/* Translates lin for an access, raising #PF. */
static uint32_t translate_or_fault_g(CPUX86State *cpu, Op *op, uint32_t lin, int acc, bool user,
                                     bool *global)
{
    uint32_t phys, err;
    if (!mmu_walk(cpu, lin, acc, user, true, &phys, &err, global)) {
        raise_pf(cpu, op, lin, err);
    }
    return phys;
}

static uint32_t translate_or_fault(CPUX86State *cpu, Op *op, uint32_t lin, int acc, bool user)
{
    bool global;
    return translate_or_fault_g(cpu, op, lin, acc, user, &global);
}

/* Fills the TLB entry of lin (in TLB 'idx') for an access of type acc,
 * if the page is plain RAM/ROM covering the whole page. */
static void tlb_fill(CPUX86State *cpu, int idx, uint32_t lin, uint32_t phys, int acc, bool global)
{
    uint32_t ppage = phys & ~0xfffu;
    if (!phys_ram_lookup(cpu, ppage) || cpu->pcache_end < (uint64_t)ppage + 0xfff) {
        return;
    }
    uint64_t off = ppage - cpu->pcache_start;
    MemoryRegion *mr = cpu->pcache_mr;
    uint8_t *host = cpu->pcache_host + off;
    uint64_t ram_page = (memory_region_ram_addr(mr) + cpu->pcache_mr_offset + off) >> 12;
    uint32_t tidx = (lin >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &cpu->tlb_table[idx][tidx];
    TLBExtra *x = &cpu->tlb_extra[idx][tidx];
    uint32_t lpage = lin & ~0xfffu;
    uintptr_t addend = (uintptr_t)host - (uintptr_t)lpage;
    if (tlb_empty(cpu, idx, tidx)) {
        tlb_note_used(cpu, idx, tidx);
    } else if (e->addend != addend || x->ram_page != ram_page) {
        tlb_clear(cpu, idx, tidx);
    }
    e->addend = addend;
    x->ram_page = ram_page;
    x->global = global;
    struct { bool readonly; } l = { cpu->pcache_readonly };
    switch (acc) {
    case ACC_READ:
        e->read_tag = lpage;
        break;
    case ACC_FETCH:
        x->code_tag = lpage;
        break;
    case ACC_WRITE:
        e->read_tag = lpage;
        if (!l.readonly && !memory_region_is_logging(mr) &&
            !tb_page_has_code(cpu, ram_page << 12)) {
            e->write_tag = lpage;
        }
        break;
    }
}

static inline bool tlb_is_user(CPUX86State *cpu)
{
    return cpu->cpl == 3;
}

/* Physical access of one piece within a page. */
static uint64_t phys_read(CPUX86State *cpu, uint32_t phys, unsigned size)
{
    return address_space_read_sized(cpu->as_mem, phys, size);
}

static void phys_write(CPUX86State *cpu, uint32_t phys, uint64_t val, unsigned size)
{
    /* RAM writes go through dispatch, which marks dirty pages and calls
     * mmu_write_notify (code invalidation). */
    address_space_write_sized(cpu->as_mem, phys, val, size);
}

static uint64_t mem_read_idx(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size, int idx,
                             int acc)
{
    bool user = idx == 1;
    unsigned off = lin & 0xfff;
    check_alignment(cpu, op, lin, size, idx);
    if (off + size > 0x1000) {
        unsigned n1 = 0x1000 - off;
        uint32_t p1 = translate_or_fault(cpu, op, lin, acc, user);
        uint32_t p2 = translate_or_fault(cpu, op, lin + n1, acc, user);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint32_t p = i < n1 ? p1 + i : p2 + (i - n1);
            v |= (phys_read(cpu, p, 1) & 0xff) << (8 * i);
        }
        return v;
    }
    bool global;
    uint32_t phys = translate_or_fault_g(cpu, op, lin, acc, user, &global);
    tlb_fill(cpu, idx, lin, phys, acc, global);
    return phys_read(cpu, phys, size);
}

uint64_t mem_read_slow(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size)
{
    return mem_read_idx(cpu, op, lin, size, tlb_is_user(cpu), ACC_READ);
}

uint64_t mem_read_for_write_slow(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size)
{
    return mem_read_idx(cpu, op, lin, size, tlb_is_user(cpu), ACC_WRITE);
}

static void mem_write_idx(CPUX86State *cpu, Op *op, uint32_t lin, uint64_t val, unsigned size,
                          int idx)
{
    bool user = idx == 1;
    unsigned off = lin & 0xfff;
    check_alignment(cpu, op, lin, size, idx);
    if (off + size > 0x1000) {
        unsigned n1 = 0x1000 - off;
        uint32_t p1 = translate_or_fault(cpu, op, lin, ACC_WRITE, user);
        uint32_t p2 = translate_or_fault(cpu, op, lin + n1, ACC_WRITE, user);
        for (unsigned i = 0; i < size; i++) {
            uint32_t p = i < n1 ? p1 + i : p2 + (i - n1);
            phys_write(cpu, p, (val >> (8 * i)) & 0xff, 1);
        }
        return;
    }
    bool global;
    uint32_t phys = translate_or_fault_g(cpu, op, lin, ACC_WRITE, user, &global);
    phys_write(cpu, phys, val, size);
    tlb_fill(cpu, idx, lin, phys, ACC_WRITE, global);
}

void mem_write_slow(CPUX86State *cpu, Op *op, uint32_t lin, uint64_t val, unsigned size)
{
    mem_write_idx(cpu, op, lin, val, size, tlb_is_user(cpu));
}

uint32_t sys_ld(CPUX86State *cpu, Op *op, uint32_t lin, unsigned size)
{
    TLBEntry *e = &cpu->tlb_table[0][(lin >> 12) & (TLB_SIZE - 1)];
    if (e->read_tag == ((lin + size - 1) & ~0xfffu)) {
        void *p = tlb_host(e, lin);
        return size == 1 ? ldb_p(p) : size == 2 ? ldw_le(p) : ldl_le(p);
    }
    return mem_read_idx(cpu, op, lin, size, 0, ACC_READ);
}

void sys_st(CPUX86State *cpu, Op *op, uint32_t lin, uint32_t val, unsigned size)
{
    mem_write_idx(cpu, op, lin, val, size, 0);
}

/* ---- wide accesses ---------------------------------------------------------- */

void mem_check_access(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned len, bool write)
{
    if (len == 0) {
        return;
    }
    /* Segment check covers the whole operand. */
    uint32_t lin = write ? seg_lin_wr(cpu, op, seg, ea, 1) : seg_lin_rd(cpu, op, seg, ea, 1);
    const SegmentCache *s = &cpu->segs[seg];
    if (!(write ? s->fast_wr : s->fast_rd)) {
        seg_check_slow(cpu, op, seg, ea, len, write);
    }
    bool user = tlb_is_user(cpu);
    uint32_t last = lin + len - 1;
    for (uint32_t p = lin & ~0xfffu;; p += 0x1000) {
        uint32_t a = p < lin ? lin : p;
        translate_or_fault(cpu, op, a, write ? ACC_WRITE : ACC_READ, user);
        if ((p ^ last) < 0x1000) {
            break;
        }
    }
}

void mem_read_bytes(CPUX86State *cpu, Op *op, int seg, uint32_t ea, void *buf, unsigned len)
{
    mem_check_access(cpu, op, seg, ea, len, false);
    uint8_t *b = buf;
    uint32_t lin = cpu->segs[seg].base + ea;
    for (unsigned i = 0; i < len; i++) {
        b[i] = ldb_lin(cpu, op, lin + i);
    }
}

void mem_write_bytes(CPUX86State *cpu, Op *op, int seg, uint32_t ea, const void *buf, unsigned len)
{
    mem_check_access(cpu, op, seg, ea, len, true);
    const uint8_t *b = buf;
    uint32_t lin = cpu->segs[seg].base + ea;
    for (unsigned i = 0; i < len; i++) {
        stb_lin(cpu, op, lin + i, b[i]);
    }
}

/* ---- segment checks ------------------------------------------------------------- */

uint32_t seg_check_slow(CPUX86State *cpu, Op *op, int seg, uint32_t ea, unsigned size, bool write)
{
    const SegmentCache *s = &cpu->segs[seg];
    int vec = seg == R_SS ? EXCP_SS : EXCP_GP;
    if (cpu->hflags & HF_PE && !(cpu->hflags & HF_VM)) {
        if (!(s->flags & DESC_P)) {
            /* Null selector / unusable segment. */
            raise_exception_err(cpu, op, vec, 0);
        }
        if (write) {
            if ((s->flags & DESC_CODE) || !(s->flags & DESC_W)) {
                raise_exception_err(cpu, op, vec, 0);
            }
        } else if ((s->flags & DESC_CODE) && !(s->flags & DESC_R)) {
            raise_exception_err(cpu, op, vec, 0);
        }
    }
    uint32_t last = ea + size - 1;
    if (ea < s->lo || last > s->hi || last < ea) {
        raise_exception_err(cpu, op, vec, 0);
    }
    return s->base + ea;
}

/* ---- debugger access -------------------------------------------------------------- */

bool cpu_memory_rw_debug(CPUX86State *cpu, uint32_t lin, void *buf, uint32_t len, bool write)
{
    uint8_t *b = buf;
    bool ok = true;
    while (len > 0) {
        uint32_t n = MIN(len, 0x1000 - (lin & 0xfff));
        uint32_t phys, err;
        if (!mmu_translate(cpu, lin, ACC_READ, false, false, &phys, &err)) {
            if (!write) {
                memset(b, 0xff, n);
            }
            ok = false;
        } else if (write) {
            address_space_write(cpu->as_mem, phys, b, n);
        } else {
            address_space_read(cpu->as_mem, phys, b, n);
        }
        lin += n;
        b += n;
        len -= n;
    }
    return ok;
}

/* ---- code fetch --------------------------------------------------------------- */

bool mmu_code_page(CPUX86State *cpu, uint32_t lin, uint8_t **host, uint64_t *ram_addr,
                   uint32_t *phys_out, uint32_t *err)
{
    bool user = cpu->cpl == 3;
    uint32_t i = (lin >> 12) & (TLB_SIZE - 1);
    TLBEntry *e = &cpu->tlb_table[user][i];
    TLBExtra *x = &cpu->tlb_extra[user][i];
    uint32_t lpage = lin & ~0xfffu;
    if (x->code_tag != lpage) {
        uint32_t phys;
        bool global;
        if (!mmu_walk(cpu, lin, ACC_FETCH, user, true, &phys, err, &global)) {
            return false;
        }
        tlb_fill(cpu, user, lin, phys, ACC_FETCH, global);
        if (x->code_tag != lpage) {
            /* Not RAM: execute from MMIO/unassigned space through a
             * bounce buffer keyed by a physical address outside RAM. */
            *host = NULL;
            *ram_addr = (1ULL << 62) | (phys & ~0xfffu);
            *phys_out = phys & ~0xfffu;
            return true;
        }
    }
    *host = tlb_host(e, lpage);
    *ram_addr = x->ram_page << 12;
    *phys_out = 0;
    return true;
}
