/*
 * The translation block cache: a bump-allocated arena (flushed whole when
 * full), a hash table keyed by (RAM address, EIP, CS base, mode flags),
 * and per-RAM-page lists for self-modifying code.
 *
 * Invalidating a block never frees it (it may be running right now):
 * its ops are all replaced by op_exit_to_loop, so whatever reaches it
 * later — the current instruction finishing, a chained jump, a stale jump
 * cache entry — returns to the CPU loop with EIP at that instruction,
 * which then translates the new code. The arena is recycled only by a
 * full flush, which happens at a block boundary in the CPU loop.
 */
#include "cpu-internal.h"
#include "util/log.h"

TBCache *tbc_new(size_t size)
{
    TBCache *c = XNEW(TBCache);
    c->size = size;
    c->buf = host_ram_alloc(size);
    if (!c->buf) {
        c->buf = xmalloc(size);
    }
    c->hash = XNEW_ARRAY(TB *, TB_HASH_SIZE);
    return c;
}

void tbc_free(TBCache *c)
{
    if (!c) {
        return;
    }
    host_ram_free(c->buf, c->size);
    free(c->hash);
    free(c->page_tbs);
    free(c->code_page);
    free(c);
}

void tbc_flush(CPUX86State *cpu)
{
    TBCache *c = cpu->tbc;
    c->used = 0;
    memset(c->hash, 0, TB_HASH_SIZE * sizeof(TB *));
    if (c->npages) {
        memset(c->page_tbs, 0, c->npages * sizeof(uintptr_t));
        memset(c->code_page, 0, c->npages);
    }
    memset(cpu->jmp_cache, 0, sizeof(cpu->jmp_cache));
    c->flushes++;
    c->flush_pending = false;
    /* Links inside the old blocks are gone with them; TLB write tags may
     * have been withheld for code pages that are no longer code. */
    tlb_flush(cpu, false);
}

static inline uint32_t tb_hash(uint64_t phys_pc, uint32_t hflags)
{
    uint64_t h = phys_pc * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)hflags << 40);
    return (uint32_t)(h >> (64 - TB_HASH_BITS));
}

TB *tb_lookup(CPUX86State *cpu, uint64_t phys_pc, uint32_t eip, uint32_t cs_base, uint32_t hflags)
{
    for (TB *tb = cpu->tbc->hash[tb_hash(phys_pc, hflags)]; tb; tb = tb->hash_next) {
        if (tb->phys_pc == phys_pc && tb->eip == eip && tb->cs_base == cs_base &&
            tb->hflags == hflags) {
            return tb;
        }
    }
    return NULL;
}

TB *tb_alloc(CPUX86State *cpu, int max_ops)
{
    TBCache *c = cpu->tbc;
    size_t need = sizeof(TB) + (size_t)max_ops * sizeof(Op);
    if (c->used + need > c->size) {
        return NULL;
    }
    TB *tb = (TB *)(c->buf + c->used);
    memset(tb, 0, sizeof(TB));
    return tb;
}

static void ensure_pages(TBCache *c, uint64_t page)
{
    if (page < c->npages) {
        return;
    }
    size_t n = c->npages ? c->npages : 4096;
    while (n <= page) {
        n *= 2;
    }
    c->page_tbs = xrealloc(c->page_tbs, n * sizeof(uintptr_t));
    c->code_page = xrealloc(c->code_page, n);
    memset(c->page_tbs + c->npages, 0, (n - c->npages) * sizeof(uintptr_t));
    memset(c->code_page + c->npages, 0, n - c->npages);
    c->npages = n;
}

static void tb_link_page(CPUX86State *cpu, TB *tb, uint64_t ram_addr, int slot)
{
    TBCache *c = cpu->tbc;
    if (ram_addr >> 62) {
        return;   /* not RAM: no SMC tracking */
    }
    uint64_t page = ram_addr >> 12;
    ensure_pages(c, page);
    tb->page_next[slot] = c->page_tbs[page];
    c->page_tbs[page] = (uintptr_t)tb | slot;
    if (!c->code_page[page]) {
        c->code_page[page] = 1;
        tlb_protect_code_page(cpu, page);
    }
}

void tb_commit(CPUX86State *cpu, TB *tb)
{
    TBCache *c = cpu->tbc;
    c->used += (sizeof(TB) + (size_t)tb->nops * sizeof(Op) + 15) & ~(size_t)15;
    tb->valid = true;
    uint32_t h = tb_hash(tb->phys_pc, tb->hflags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    tb_link_page(cpu, tb, tb->phys_pc, 0);
    if (tb->phys_page2 != RAM_PAGE_NONE) {
        tb_link_page(cpu, tb, tb->phys_page2 << 12, 1);
    }
    c->translated++;
}

Op *op_exit_to_loop(CPUX86State *cpu, Op *op)
{
    cpu->eip = op->eip;
    return NULL;
}

static void tb_invalidate(CPUX86State *cpu, TB *tb)
{
    if (!tb->valid) {
        return;
    }
    tb->valid = false;
    for (int i = 0; i < tb->nops; i++) {
        tb->ops[i].fn = op_exit_to_loop;
    }
    TB **pp = &cpu->tbc->hash[tb_hash(tb->phys_pc, tb->hflags)];
    for (; *pp; pp = &(*pp)->hash_next) {
        if (*pp == tb) {
            *pp = tb->hash_next;
            break;
        }
    }
    cpu->tbc->invalidated++;
    /* Chained links and jump-cache entries may still name this block;
     * a new generation makes them all look up again. */
    cpu->tlb_gen++;
}

void tb_invalidate_ram_range(CPUX86State *cpu, uint64_t ram_addr, uint64_t len)
{
    TBCache *c = cpu->tbc;
    if (len == 0) {
        return;
    }
    uint64_t first = ram_addr >> 12, last = (ram_addr + len - 1) >> 12;
    for (uint64_t p = first; p <= last && p < c->npages; p++) {
        if (!c->code_page[p]) {
            continue;
        }
        uintptr_t cur = c->page_tbs[p];
        while (cur) {
            TB *tb = (TB *)(cur & ~(uintptr_t)1);
            int slot = cur & 1;
            cur = tb->page_next[slot];
            tb_invalidate(cpu, tb);
        }
        c->page_tbs[p] = 0;
        c->code_page[p] = 0;
    }
}

TB *tb_find_slow(CPUX86State *cpu)
{
    uint32_t cs_base = cpu->segs[R_CS].base;
    uint32_t eip = cpu->eip;
    uint32_t lin = cs_base + eip;
    uint8_t *host;
    uint64_t ram_addr;
    uint32_t phys, err;
    if (!mmu_code_page(cpu, lin, &host, &ram_addr, &phys, &err)) {
        cpu->cr[2] = lin;
        raise_exception_err(cpu, NULL, EXCP_PF, err);
    }
    uint64_t phys_pc = ram_addr + (lin & 0xfff);
    TB *tb = tb_lookup(cpu, phys_pc, eip, cs_base, cpu->hflags);
    if (tb && tb->phys_page2 != RAM_PAGE_NONE) {
        /* The second page must still map where it did. */
        uint32_t lin2 = (lin & ~0xfffu) + 0x1000;
        uint8_t *h2;
        uint64_t r2;
        if (!mmu_code_page(cpu, lin2, &h2, &r2, &phys, &err) || (r2 >> 12) != tb->phys_page2) {
            tb = NULL;
        }
    }
    if (!tb) {
        if (cpu->tbc->flush_pending) {
            tbc_flush(cpu);
        }
        tb = translate_block(cpu, eip, cs_base, cpu->hflags, phys_pc);
        if (!tb) {
            tbc_flush(cpu);
            tb = translate_block(cpu, eip, cs_base, cpu->hflags, phys_pc);
        }
    }
    JmpCacheEntry *je = &cpu->jmp_cache[jmp_cache_hash(eip)];
    je->tb = tb;
    je->gen = cpu->tlb_gen;
    return tb;
}

void cpu_get_cache_stats(CPUX86State *cpu, CPUCacheStats *st)
{
    st->tbs_translated = cpu->tbc->translated;
    st->tbs_invalidated = cpu->tbc->invalidated;
    st->flushes = cpu->tbc->flushes;
    st->bytes_used = cpu->tbc->used;
    st->bytes_total = cpu->tbc->size;
}
