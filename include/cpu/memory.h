/*
 * Guest physical memory and port I/O.
 *
 * An address space is a tree of regions: RAM (one host allocation,
 * page-aligned), ROM (RAM the guest cannot write), MMIO (read/write
 * callbacks), aliases (a window onto part of another region) and
 * containers. Regions overlap by priority; the core flattens the tree
 * into a page map that the CPU's soft TLB and DMA use, and rebuilds it
 * when the tree changes (BAR moves, PAM changes, enables).
 *
 * Port I/O uses the same machinery: the machine's I/O address space is
 * 64 KiB wide and devices add MMIO-style regions to it. Devices never
 * see the CPU; the CPU never sees a device by name.
 */
#ifndef CPU_MEMORY_H
#define CPU_MEMORY_H

#include "util/osdep.h"
#include "util/error.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct AddressSpace AddressSpace;

typedef struct MemoryRegionOps {
    /* 'offset' is relative to the start of the region. 'size' is 1, 2, 4
     * or 8 and lies within [min_access_size, max_access_size]: the core
     * splits wider and widens narrower guest accesses (little-endian). */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
    unsigned min_access_size;  /* 0 means 1 */
    unsigned max_access_size;  /* 0 means 4 */
} MemoryRegionOps;

/* Plain RAM, zero-filled, page-aligned. NULL and errp set if the host
 * cannot provide it. */
MemoryRegion *memory_region_new_ram(const char *name, uint64_t size, Error **errp);
/* RAM the guest reads but cannot write (writes are ignored). Fill it
 * through memory_region_get_ram_ptr(). */
MemoryRegion *memory_region_new_rom(const char *name, uint64_t size, Error **errp);
MemoryRegion *memory_region_new_io(const char *name, uint64_t size,
                                   const MemoryRegionOps *ops, void *opaque);
MemoryRegion *memory_region_new_alias(const char *name, MemoryRegion *target,
                                      uint64_t target_offset, uint64_t size);
MemoryRegion *memory_region_new_container(const char *name, uint64_t size);
void memory_region_free(MemoryRegion *mr);

const char *memory_region_name(const MemoryRegion *mr);
uint64_t memory_region_size(const MemoryRegion *mr);
/* Host pointer to the start of a RAM or ROM region (NULL for others). */
uint8_t *memory_region_get_ram_ptr(MemoryRegion *mr);

/* Higher priority wins where siblings overlap. */
void memory_region_add_subregion(MemoryRegion *container, uint64_t offset,
                                 MemoryRegion *sub, int priority);
void memory_region_del_subregion(MemoryRegion *container, MemoryRegion *sub);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, uint64_t offset);
void memory_region_set_alias_offset(MemoryRegion *mr, uint64_t target_offset);
/* RAM made read-only (ROM shadowing through PAM registers). */
void memory_region_set_readonly(MemoryRegion *mr, bool readonly);

/* Dirty tracking of RAM, for displays: every write (CPU or DMA) to a
 * logged region marks its page. */
void memory_region_set_log(MemoryRegion *mr, bool log);
/* True if any page in [offset, offset+size) was written since the last
 * reset; clears those pages. */
bool memory_region_test_and_clear_dirty(MemoryRegion *mr, uint64_t offset, uint64_t size);

/* Address spaces ------------------------------------------------------ */

AddressSpace *address_space_new(const char *name, MemoryRegion *root);
void address_space_free(AddressSpace *as);
MemoryRegion *address_space_root(AddressSpace *as);

/* Device-side (DMA) and debugger access. Handles RAM, ROM and MMIO;
 * writes invalidate translated code and mark dirty pages. Unassigned
 * addresses read as all-ones and ignore writes; the return value is
 * false if any byte hit unassigned space. */
bool address_space_read(AddressSpace *as, uint64_t addr, void *buf, uint64_t len);
bool address_space_write(AddressSpace *as, uint64_t addr, const void *buf, uint64_t len);
uint32_t address_space_ldub(AddressSpace *as, uint64_t addr);
uint32_t address_space_lduw(AddressSpace *as, uint64_t addr);
uint32_t address_space_ldl(AddressSpace *as, uint64_t addr);
uint64_t address_space_ldq(AddressSpace *as, uint64_t addr);
void address_space_stb(AddressSpace *as, uint64_t addr, uint32_t val);
void address_space_stw(AddressSpace *as, uint64_t addr, uint32_t val);
void address_space_stl(AddressSpace *as, uint64_t addr, uint32_t val);
void address_space_stq(AddressSpace *as, uint64_t addr, uint64_t val);

/* Single access of 1/2/4/8 bytes, as the CPU does it (port I/O uses this
 * on the I/O address space). */
uint64_t address_space_read_sized(AddressSpace *as, uint64_t addr, unsigned size);
void address_space_write_sized(AddressSpace *as, uint64_t addr, uint64_t val, unsigned size);

/* ---- for the CPU core: lookups, code invalidation, map changes ---- */

/* Every RAM/ROM region gets a range in one "RAM address" space, so the
 * CPU can key its per-page code tracking by a single number. */
uint64_t memory_region_ram_addr(const MemoryRegion *mr);
bool memory_region_is_ram(const MemoryRegion *mr);   /* RAM or ROM */
bool memory_region_is_rom(const MemoryRegion *mr);   /* ROM, or RAM set read-only */
bool memory_region_is_logging(const MemoryRegion *mr);
void memory_region_set_dirty(MemoryRegion *mr, uint64_t offset, uint64_t len);

/* What lies at one address of an address space. The range [start, end]
 * (inclusive, guest addresses) is uniformly backed by 'mr' at
 * mr_offset + (addr - start). 'host' points at the byte for 'addr' when
 * mr is RAM or ROM, else NULL. mr is NULL for unassigned space. */
typedef struct MemoryLookup {
    MemoryRegion *mr;
    uint8_t *host;
    uint64_t mr_offset;   /* offset of 'addr' inside mr */
    uint64_t start, end;  /* the uniform range holding addr */
    bool readonly;        /* writes must not go to 'host' */
} MemoryLookup;
void address_space_lookup(AddressSpace *as, uint64_t addr, MemoryLookup *out);

/* Reads and writes through a region's callbacks (or RAM), with the
 * size splitting/widening the region asks for. 'offset' is inside mr. */
uint64_t memory_region_dispatch_read(MemoryRegion *mr, uint64_t offset, unsigned size);
void memory_region_dispatch_write(MemoryRegion *mr, uint64_t offset, uint64_t val, unsigned size);

/* Called for every write to RAM that does not come from the CPU's own
 * fast path (DMA, debugger, loaders), so the CPU can drop translated
 * code for those pages. One notifier (the CPU core installs it). */
typedef void MemoryWriteNotify(void *opaque, uint64_t ram_addr, uint64_t len);
void memory_set_write_notify(MemoryWriteNotify *fn, void *opaque);
/* Called after an address space's map changed (the CPU flushes its TLB). */
typedef void MemoryMapNotify(void *opaque, AddressSpace *as);
void memory_set_map_notify(MemoryMapNotify *fn, void *opaque);

/* Prints the flattened map (monitor "info mtree"). */
typedef void MemoryPrintFn(void *opaque, const char *line);
void address_space_print_tree(AddressSpace *as, MemoryPrintFn *print, void *opaque);

#endif
