/*
 * Guest physical memory: a tree of regions flattened into a sorted list
 * of uniform ranges per address space.
 *
 * The flat view is rebuilt whenever the tree changes (rare: BAR moves,
 * PAM writes, VGA window remaps), and looked up by binary search. The
 * CPU caches lookups in its soft TLB, so the search is off the hot path.
 */
#include <stdio.h>

#include "cpu/memory.h"
#include "util/log.h"

typedef enum {
    MR_RAM,
    MR_ROM,
    MR_IO,
    MR_ALIAS,
    MR_CONTAINER,
} MRType;

struct MemoryRegion {
    char *name;
    MRType type;
    uint64_t size;
    /* RAM/ROM */
    uint8_t *ram;
    uint64_t ram_addr;
    bool readonly;            /* RAM made read-only (PAM); always for ROM */
    bool log;
    uint8_t *dirty;           /* one byte per page when logging */
    /* IO */
    const MemoryRegionOps *ops;
    void *opaque;
    /* ALIAS */
    MemoryRegion *alias;
    uint64_t alias_offset;
    /* position in the parent container */
    MemoryRegion *parent;
    uint64_t addr;
    int priority;
    bool enabled;
    unsigned seq;             /* insertion order: later wins among equals */
    MemoryRegion **subs;
    int nsubs;
};

typedef struct FlatRange {
    uint64_t start, end;      /* inclusive */
    MemoryRegion *mr;         /* terminal region: RAM, ROM or IO */
    uint64_t mr_offset;       /* offset in mr of 'start' */
} FlatRange;

struct AddressSpace {
    char *name;
    MemoryRegion *root;
    FlatRange *ranges;
    int nranges;
    AddressSpace *next;
};

#define PAGE_BITS 12
#define PAGE_SIZE (1ULL << PAGE_BITS)

static AddressSpace *address_spaces;
static uint64_t next_ram_addr;
static unsigned next_seq;
static MemoryWriteNotify *write_notify;
static void *write_notify_opaque;
static MemoryMapNotify *map_notify;
static void *map_notify_opaque;

void memory_set_write_notify(MemoryWriteNotify *fn, void *opaque)
{
    write_notify = fn;
    write_notify_opaque = opaque;
}

void memory_set_map_notify(MemoryMapNotify *fn, void *opaque)
{
    map_notify = fn;
    map_notify_opaque = opaque;
}

/* ---- regions --------------------------------------------------------- */

static MemoryRegion *region_new(const char *name, MRType type, uint64_t size)
{
    MemoryRegion *mr = XNEW(MemoryRegion);
    mr->name = xstrdup(name);
    mr->type = type;
    mr->size = size;
    mr->enabled = true;
    return mr;
}

static MemoryRegion *ram_new(const char *name, uint64_t size, MRType type, Error **errp)
{
    if (size == 0 || size > 64 * GiB) {
        error_setg(errp, "Invalid size %" PRIu64 " for memory region '%s'", size, name);
        return NULL;
    }
    uint64_t alloc = ALIGN_UP(size, PAGE_SIZE);
    uint8_t *ram = host_ram_alloc(alloc);
    if (!ram) {
        error_setg_errno(errp, errno, "Cannot allocate %" PRIu64 " MiB for '%s'",
                         alloc / MiB, name);
        return NULL;
    }
    MemoryRegion *mr = region_new(name, type, size);
    mr->ram = ram;
    mr->readonly = type == MR_ROM;
    mr->ram_addr = next_ram_addr;
    next_ram_addr += alloc;
    return mr;
}

MemoryRegion *memory_region_new_ram(const char *name, uint64_t size, Error **errp)
{
    return ram_new(name, size, MR_RAM, errp);
}

MemoryRegion *memory_region_new_rom(const char *name, uint64_t size, Error **errp)
{
    return ram_new(name, size, MR_ROM, errp);
}

MemoryRegion *memory_region_new_io(const char *name, uint64_t size,
                                   const MemoryRegionOps *ops, void *opaque)
{
    MemoryRegion *mr = region_new(name, MR_IO, size);
    mr->ops = ops;
    mr->opaque = opaque;
    return mr;
}

MemoryRegion *memory_region_new_alias(const char *name, MemoryRegion *target,
                                      uint64_t target_offset, uint64_t size)
{
    MemoryRegion *mr = region_new(name, MR_ALIAS, size);
    mr->alias = target;
    mr->alias_offset = target_offset;
    return mr;
}

MemoryRegion *memory_region_new_container(const char *name, uint64_t size)
{
    return region_new(name, MR_CONTAINER, size);
}

static void address_spaces_update(MemoryRegion *changed);

void memory_region_free(MemoryRegion *mr)
{
    if (!mr) {
        return;
    }
    if (mr->parent) {
        memory_region_del_subregion(mr->parent, mr);
    }
    for (int i = 0; i < mr->nsubs; i++) {
        mr->subs[i]->parent = NULL;
    }
    free(mr->subs);
    if (mr->ram) {
        host_ram_free(mr->ram, ALIGN_UP(mr->size, PAGE_SIZE));
    }
    free(mr->dirty);
    free(mr->name);
    free(mr);
}

const char *memory_region_name(const MemoryRegion *mr) { return mr->name; }
uint64_t memory_region_size(const MemoryRegion *mr) { return mr->size; }
uint8_t *memory_region_get_ram_ptr(MemoryRegion *mr) { return mr->ram; }
uint64_t memory_region_ram_addr(const MemoryRegion *mr) { return mr->ram_addr; }
bool memory_region_is_ram(const MemoryRegion *mr) { return mr->ram != NULL; }
bool memory_region_is_rom(const MemoryRegion *mr) { return mr->ram && mr->readonly; }
bool memory_region_is_logging(const MemoryRegion *mr) { return mr->log; }

void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub, int priority)
{
    if (sub->parent) {
        memory_region_del_subregion(sub->parent, sub);
    }
    sub->parent = container;
    sub->addr = offset;
    sub->priority = priority;
    sub->seq = ++next_seq;
    container->subs = xrealloc(container->subs, (container->nsubs + 1) * sizeof(MemoryRegion *));
    container->subs[container->nsubs++] = sub;
    address_spaces_update(container);
}

void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub)
{
    for (int i = 0; i < container->nsubs; i++) {
        if (container->subs[i] == sub) {
            memmove(&container->subs[i], &container->subs[i + 1],
                    (container->nsubs - i - 1) * sizeof(MemoryRegion *));
            container->nsubs--;
            sub->parent = NULL;
            address_spaces_update(container);
            return;
        }
    }
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    if (mr->enabled != enabled) {
        mr->enabled = enabled;
        address_spaces_update(mr);
    }
}

void memory_region_set_address(MemoryRegion *mr, uint64_t offset)
{
    if (mr->addr != offset) {
        mr->addr = offset;
        address_spaces_update(mr);
    }
}

void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t target_offset)
{
    if (mr->type == MR_ALIAS && mr->alias_offset != target_offset) {
        mr->alias_offset = target_offset;
        address_spaces_update(mr);
    }
}

void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
    if (mr->type == MR_RAM && mr->readonly != readonly) {
        mr->readonly = readonly;
        address_spaces_update(mr);
    }
}

void memory_region_set_log(MemoryRegion *mr, bool log)
{
    if (!mr->ram || mr->log == log) {
        return;
    }
    mr->log = log;
    if (log && !mr->dirty) {
        /* Start all-dirty so the first display refresh draws everything. */
        size_t pages = DIV_ROUND_UP(mr->size, PAGE_SIZE);
        mr->dirty = xmalloc(pages);
        memset(mr->dirty, 1, pages);
    }
    /* The CPU must stop writing these pages directly. */
    address_spaces_update(mr);
}

void memory_region_set_dirty(MemoryRegion *mr, uint64_t offset, uint64_t len)
{
    if (!mr->log || !mr->dirty || len == 0 || offset >= mr->size) {
        return;
    }
    uint64_t last = MIN(offset + len - 1, mr->size - 1);
    for (uint64_t p = offset >> PAGE_BITS; p <= last >> PAGE_BITS; p++) {
        mr->dirty[p] = 1;
    }
}

bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t offset, uint64_t size)
{
    if (!mr->dirty || size == 0 || offset >= mr->size) {
        return false;
    }
    bool dirty = false;
    uint64_t last = MIN(offset + size - 1, mr->size - 1);
    for (uint64_t p = offset >> PAGE_BITS; p <= last >> PAGE_BITS; p++) {
        dirty |= mr->dirty[p];
        mr->dirty[p] = 0;
    }
    return dirty;
}

/* ---- flattening ------------------------------------------------------ */

typedef struct FlatBuilder {
    FlatRange *r;
    int n, cap;
} FlatBuilder;

static void flat_insert_at(FlatBuilder *fb, int idx, FlatRange fr)
{
    if (fb->n == fb->cap) {
        fb->cap = fb->cap ? fb->cap * 2 : 16;
        fb->r = xrealloc(fb->r, fb->cap * sizeof(FlatRange));
    }
    memmove(&fb->r[idx + 1], &fb->r[idx], (fb->n - idx) * sizeof(FlatRange));
    fb->r[idx] = fr;
    fb->n++;
}

/* Adds [start, end] backed by mr at mr_offset, only where nothing of
 * higher priority was rendered before (we render best-first). */
static void flat_add_gaps(FlatBuilder *fb, uint64_t start, uint64_t end,
                          MemoryRegion *mr, uint64_t mr_offset)
{
    uint64_t cur = start;
    int i = 0;
    while (cur <= end) {
        while (i < fb->n && fb->r[i].end < cur) {
            i++;
        }
        uint64_t gap_end = end;
        if (i < fb->n) {
            if (fb->r[i].start <= cur) {
                /* cur is covered; skip past this range */
                if (fb->r[i].end >= end) {
                    return;
                }
                cur = fb->r[i].end + 1;
                continue;
            }
            gap_end = MIN(end, fb->r[i].start - 1);
        }
        flat_insert_at(fb, i, (FlatRange){
            .start = cur, .end = gap_end, .mr = mr,
            .mr_offset = mr_offset + (cur - start),
        });
        i++;
        if (gap_end == end) {
            return;
        }
        cur = gap_end + 1;
    }
}

static int sub_cmp(const void *a, const void *b)
{
    const MemoryRegion *x = *(MemoryRegion *const *)a;
    const MemoryRegion *y = *(MemoryRegion *const *)b;
    if (x->priority != y->priority) {
        return x->priority > y->priority ? -1 : 1;
    }
    return x->seq > y->seq ? -1 : (x->seq < y->seq);
}

/*
 * Renders mr, placed at guest address 'base', clipped to [clip_lo,
 * clip_hi], with 'offset' being the offset inside mr that appears at
 * 'base' (non-zero through aliases).
 */
static void render(FlatBuilder *fb, MemoryRegion *mr, uint64_t base, uint64_t offset,
                   uint64_t clip_lo, uint64_t clip_hi, int depth)
{
    if (!mr->enabled || mr->size == 0 || depth > 16 || offset >= mr->size) {
        return;
    }
    /* Guest range of the visible part of mr. */
    uint64_t lo = base;
    uint64_t span = mr->size - offset;
    uint64_t hi = (span - 1 > UINT64_MAX - base) ? UINT64_MAX : base + span - 1;
    lo = MAX(lo, clip_lo);
    hi = MIN(hi, clip_hi);
    if (lo > hi) {
        return;
    }
    switch (mr->type) {
    case MR_RAM:
    case MR_ROM:
    case MR_IO:
        flat_add_gaps(fb, lo, hi, mr, offset + (lo - base));
        break;
    case MR_ALIAS:
        render(fb, mr->alias, base, offset + mr->alias_offset, lo, hi, depth + 1);
        break;
    case MR_CONTAINER: {
        if (mr->nsubs == 0) {
            break;
        }
        MemoryRegion **subs = xmalloc(mr->nsubs * sizeof(*subs));
        memcpy(subs, mr->subs, mr->nsubs * sizeof(*subs));
        qsort(subs, mr->nsubs, sizeof(*subs), sub_cmp);
        for (int i = 0; i < mr->nsubs; i++) {
            MemoryRegion *s = subs[i];
            /* s occupies container offsets [s->addr, s->addr + size);
             * the container's offset 'offset' is at guest 'base'. */
            if (s->addr + s->size <= offset) {
                continue;
            }
            uint64_t sbase, soff;
            if (s->addr >= offset) {
                sbase = base + (s->addr - offset);
                soff = 0;
            } else {
                sbase = base;
                soff = offset - s->addr;
            }
            render(fb, s, sbase, soff, lo, hi, depth + 1);
        }
        free(subs);
        break;
    }
    }
}

static void address_space_rebuild(AddressSpace *as)
{
    FlatBuilder fb = { 0 };
    render(&fb, as->root, 0, 0, 0, as->root->size ? as->root->size - 1 : 0, 0);
    /* Merge neighbours that continue the same region (fewer TLB misses
     * on lookups spanning the seam). */
    int out = 0;
    for (int i = 0; i < fb.n; i++) {
        if (out > 0) {
            FlatRange *p = &fb.r[out - 1];
            if (p->mr == fb.r[i].mr && p->end + 1 == fb.r[i].start &&
                p->mr_offset + (p->end - p->start + 1) == fb.r[i].mr_offset) {
                p->end = fb.r[i].end;
                continue;
            }
        }
        fb.r[out++] = fb.r[i];
    }
    free(as->ranges);
    as->ranges = fb.r;
    as->nranges = out;
    if (map_notify) {
        map_notify(map_notify_opaque, as);
    }
}

static bool region_in_tree(MemoryRegion *root, MemoryRegion *mr)
{
    for (MemoryRegion *p = mr; p; p = p->parent) {
        if (p == root) {
            return true;
        }
    }
    return false;
}

static bool tree_uses_alias_of(MemoryRegion *root, MemoryRegion *target, int depth)
{
    if (depth > 16) {
        return false;
    }
    if (root->type == MR_ALIAS) {
        return region_in_tree(target, root->alias) || region_in_tree(root->alias, target) ||
               tree_uses_alias_of(root->alias, target, depth + 1);
    }
    for (int i = 0; i < root->nsubs; i++) {
        if (tree_uses_alias_of(root->subs[i], target, depth + 1)) {
            return true;
        }
    }
    return false;
}

static void address_spaces_update(MemoryRegion *changed)
{
    for (AddressSpace *as = address_spaces; as; as = as->next) {
        if (region_in_tree(as->root, changed) || tree_uses_alias_of(as->root, changed, 0)) {
            address_space_rebuild(as);
        }
    }
}

AddressSpace *address_space_new(const char *name, MemoryRegion *root)
{
    AddressSpace *as = XNEW(AddressSpace);
    as->name = xstrdup(name);
    as->root = root;
    as->next = address_spaces;
    address_spaces = as;
    address_space_rebuild(as);
    return as;
}

void address_space_free(AddressSpace *as)
{
    for (AddressSpace **pp = &address_spaces; *pp; pp = &(*pp)->next) {
        if (*pp == as) {
            *pp = as->next;
            break;
        }
    }
    free(as->ranges);
    free(as->name);
    free(as);
}

MemoryRegion *address_space_root(AddressSpace *as)
{
    return as->root;
}

/* ---- lookups and dispatch -------------------------------------------- */

static const FlatRange *flat_find(const AddressSpace *as, uint64_t addr)
{
    int lo = 0, hi = as->nranges - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const FlatRange *fr = &as->ranges[mid];
        if (addr < fr->start) {
            hi = mid - 1;
        } else if (addr > fr->end) {
            lo = mid + 1;
        } else {
            return fr;
        }
    }
    return NULL;
}

void address_space_lookup(AddressSpace *as, uint64_t addr, MemoryLookup *out)
{
    const FlatRange *fr = flat_find(as, addr);
    if (!fr) {
        /* Report the unassigned hole around addr. */
        uint64_t start = 0, end = UINT64_MAX;
        for (int i = 0; i < as->nranges; i++) {
            if (as->ranges[i].end < addr) {
                start = as->ranges[i].end + 1;
            } else if (as->ranges[i].start > addr) {
                end = as->ranges[i].start - 1;
                break;
            }
        }
        *out = (MemoryLookup){ .start = start, .end = end, .readonly = true };
        return;
    }
    out->mr = fr->mr;
    out->mr_offset = fr->mr_offset + (addr - fr->start);
    out->start = fr->start;
    out->end = fr->end;
    out->host = fr->mr->ram ? fr->mr->ram + out->mr_offset : NULL;
    out->readonly = fr->mr->ram ? fr->mr->readonly : false;
}

static uint64_t io_read_raw(MemoryRegion *mr, uint64_t offset, unsigned size)
{
    if (!mr->ops->read) {
        return 0;
    }
    return mr->ops->read(mr->opaque, offset, size) & (size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1);
}

uint64_t memory_region_dispatch_read(MemoryRegion *mr, uint64_t offset, unsigned size)
{
    if (mr->ram) {
        uint64_t v = 0;
        if (offset < mr->size) {
            memcpy(&v, mr->ram + offset, MIN((uint64_t)size, mr->size - offset));
        }
        return v;
    }
    if (mr->type != MR_IO) {
        return ~0ULL;
    }
    unsigned min = mr->ops->min_access_size ? mr->ops->min_access_size : 1;
    unsigned max = mr->ops->max_access_size ? mr->ops->max_access_size : 4;
    if (size >= min && size <= max) {
        return io_read_raw(mr, offset, size);
    }
    if (size > max) {
        /* Split into max-sized little-endian pieces. */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i += max) {
            v |= io_read_raw(mr, offset + i, max) << (i * 8);
        }
        return v;
    }
    /* Widen: read the aligned min-sized unit and extract. */
    uint64_t base = ALIGN_DOWN(offset, min);
    uint64_t v = io_read_raw(mr, base, min) >> ((offset - base) * 8);
    return v & ((1ULL << (size * 8)) - 1);
}

void memory_region_dispatch_write(MemoryRegion *mr, uint64_t offset, uint64_t val, unsigned size)
{
    if (mr->ram) {
        if (mr->readonly || offset >= mr->size) {
            return;
        }
        uint64_t len = MIN((uint64_t)size, mr->size - offset);
        memcpy(mr->ram + offset, &val, len);
        memory_region_set_dirty(mr, offset, len);
        if (write_notify) {
            write_notify(write_notify_opaque, mr->ram_addr + offset, len);
        }
        return;
    }
    if (mr->type != MR_IO || !mr->ops->write) {
        return;
    }
    unsigned min = mr->ops->min_access_size ? mr->ops->min_access_size : 1;
    unsigned max = mr->ops->max_access_size ? mr->ops->max_access_size : 4;
    if (size >= min && size <= max) {
        mr->ops->write(mr->opaque, offset, val, size);
    } else if (size > max) {
        for (unsigned i = 0; i < size; i += max) {
            uint64_t piece = (val >> (i * 8)) & (max == 8 ? ~0ULL : (1ULL << (max * 8)) - 1);
            mr->ops->write(mr->opaque, offset + i, piece, max);
        }
    } else {
        /* Narrow write to a device that only takes wider accesses:
         * read-modify-write the containing unit. */
        uint64_t base = ALIGN_DOWN(offset, min);
        unsigned shift = (offset - base) * 8;
        uint64_t mask = ((1ULL << (size * 8)) - 1) << shift;
        uint64_t old = io_read_raw(mr, base, min);
        mr->ops->write(mr->opaque, base, (old & ~mask) | ((val << shift) & mask), min);
    }
}

uint64_t address_space_read_sized(AddressSpace *as, uint64_t addr, unsigned size)
{
    const FlatRange *fr = flat_find(as, addr);
    if (fr && addr + size - 1 <= fr->end) {
        return memory_region_dispatch_read(fr->mr, fr->mr_offset + (addr - fr->start), size);
    }
    /* Unassigned or straddling two ranges: go byte by byte. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        const FlatRange *b = flat_find(as, addr + i);
        uint64_t byte = b ? memory_region_dispatch_read(b->mr, b->mr_offset + (addr + i - b->start), 1) & 0xff
                          : 0xff;
        v |= byte << (i * 8);
    }
    if (!fr) {
        log_mask_printf(LOG_IOPORT, "%s: unassigned read of %u bytes at 0x%" PRIx64 "\n",
                        as->name, size, addr);
    }
    return v;
}

void address_space_write_sized(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size)
{
    const FlatRange *fr = flat_find(as, addr);
    if (fr && addr + size - 1 <= fr->end) {
        memory_region_dispatch_write(fr->mr, fr->mr_offset + (addr - fr->start), val, size);
        return;
    }
    if (!fr) {
        log_mask_printf(LOG_IOPORT, "%s: unassigned write of %u bytes at 0x%" PRIx64 "\n",
                        as->name, size, addr);
    }
    for (unsigned i = 0; i < size; i++) {
        const FlatRange *b = flat_find(as, addr + i);
        if (b) {
            memory_region_dispatch_write(b->mr, b->mr_offset + (addr + i - b->start),
                                         (val >> (i * 8)) & 0xff, 1);
        }
    }
}

/* Bulk transfer: memcpy for RAM, aligned pieces for MMIO. */
static bool address_space_rw(AddressSpace *as, uint64_t addr, uint8_t *buf, uint64_t len, bool write)
{
    bool ok = true;
    while (len > 0) {
        const FlatRange *fr = flat_find(as, addr);
        if (!fr) {
            /* Skip to the next assigned range (or the end). */
            uint64_t next = UINT64_MAX;
            for (int i = 0; i < as->nranges; i++) {
                if (as->ranges[i].start > addr) {
                    next = as->ranges[i].start;
                    break;
                }
            }
            uint64_t n = MIN(len, next - addr);
            if (!write) {
                memset(buf, 0xff, n);
            }
            ok = false;
            buf += n;
            addr += n;
            len -= n;
            continue;
        }
        uint64_t n = MIN(len, fr->end - addr + 1);
        uint64_t off = fr->mr_offset + (addr - fr->start);
        MemoryRegion *mr = fr->mr;
        if (mr->ram) {
            uint64_t avail = off < mr->size ? mr->size - off : 0;
            uint64_t m = MIN(n, avail);
            if (!write) {
                memcpy(buf, mr->ram + off, m);
                memset(buf + m, 0xff, n - m);
            } else if (!mr->readonly) {
                memcpy(mr->ram + off, buf, m);
                memory_region_set_dirty(mr, off, m);
                if (write_notify && m) {
                    write_notify(write_notify_opaque, mr->ram_addr + off, m);
                }
            }
        } else {
            for (uint64_t i = 0; i < n;) {
                unsigned sz = 1;
                uint64_t a = addr + i;
                if ((a & 3) == 0 && n - i >= 4) {
                    sz = 4;
                } else if ((a & 1) == 0 && n - i >= 2) {
                    sz = 2;
                }
                if (write) {
                    uint64_t v = 0;
                    memcpy(&v, buf + i, sz);
                    memory_region_dispatch_write(mr, off + i, v, sz);
                } else {
                    uint64_t v = memory_region_dispatch_read(mr, off + i, sz);
                    memcpy(buf + i, &v, sz);
                }
                i += sz;
            }
        }
        buf += n;
        addr += n;
        len -= n;
    }
    return ok;
}

bool address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len)
{
    return address_space_rw(as, addr, buf, len, false);
}

bool address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len)
{
    return address_space_rw(as, addr, (uint8_t *)buf, len, true);
}

uint32_t address_space_ldub(AddressSpace *as, uint64_t addr) { return address_space_read_sized(as, addr, 1); }
uint32_t address_space_lduw(AddressSpace *as, uint64_t addr) { return address_space_read_sized(as, addr, 2); }
uint32_t address_space_ldl(AddressSpace *as, uint64_t addr) { return address_space_read_sized(as, addr, 4); }
uint64_t address_space_ldq(AddressSpace *as, uint64_t addr) { return address_space_read_sized(as, addr, 8); }
void address_space_stb(AddressSpace *as, uint64_t addr, uint32_t val) { address_space_write_sized(as, addr, val, 1); }
void address_space_stw(AddressSpace *as, uint64_t addr, uint32_t val) { address_space_write_sized(as, addr, val, 2); }
void address_space_stl(AddressSpace *as, uint64_t addr, uint32_t val) { address_space_write_sized(as, addr, val, 4); }
void address_space_stq(AddressSpace *as, uint64_t addr, uint64_t val) { address_space_write_sized(as, addr, val, 8); }

static const char *mr_type_name(const MemoryRegion *mr)
{
    switch (mr->type) {
    case MR_RAM: return mr->readonly ? "ram (read-only)" : "ram";
    case MR_ROM: return "rom";
    case MR_IO: return "i/o";
    case MR_ALIAS: return "alias";
    default: return "container";
    }
}

void address_space_print_tree(AddressSpace *as, MemoryPrintFn *print, void *opaque)
{
    char line[256];
    snprintf(line, sizeof(line), "address-space (flat view): %s", as->name);
    print(opaque, line);
    for (int i = 0; i < as->nranges; i++) {
        const FlatRange *fr = &as->ranges[i];
        snprintf(line, sizeof(line), "  %016" PRIx64 "-%016" PRIx64 " (prio -, %s): %s @%016" PRIx64,
                 fr->start, fr->end, mr_type_name(fr->mr), fr->mr->name, fr->mr_offset);
        print(opaque, line);
    }
}
