/*
 * qcow2 consistency check and repair. Every structure is walked from
 * the header and each cluster's references are counted in memory; the
 * counts are compared with the stored refcounts, and the COPIED flags
 * of the active tree with the refcounts.
 *
 * Repair: leaks and too-low refcounts are fixed in place. A referenced
 * cluster with refcount 0, or a broken refcount structure, makes the
 * whole structure be rebuilt from the counts in a fresh area at the end
 * of the image, switched to with one header write (the old structure
 * stays valid until then).
 */
#include <stdarg.h>
#include <stdio.h>

#include "qcow2.h"

typedef struct CheckState {
    BDRVQcow2State *s;
    BdrvCheckResult *res;
    int fix;
    BdrvCheckReport *report;
    void *opaque;
    /* Computed reference counts, one per cluster of the file (plus a
     * partly written last cluster). */
    uint32_t *refs;
    uint64_t nb_clusters;
    uint64_t file_len;
    bool rebuild;
} CheckState;

static void PRINTF_FMT(2, 3) report(CheckState *cs, const char *fmt, ...)
{
    if (!cs->report) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) >= 0) {
        cs->report(cs->opaque, msg);
        free(msg);
    }
    va_end(ap);
}

static void inc_refs(CheckState *cs, uint64_t offset, uint64_t size)
{
    BDRVQcow2State *s = cs->s;
    if (size == 0) {
        return;
    }
    /* A structure may end inside a cluster the file does not fully
     * contain yet, but not a whole cluster or more past its end. */
    if (offset > QCOW2_MAX_HOST_OFFSET || size > QCOW2_MAX_HOST_OFFSET ||
        offset + size >= cs->file_len + s->cluster_size) {
        report(cs, "ERROR: counting reference for region exceeding the end of the file by "
               "one cluster or more: offset %#" PRIx64 " size %#" PRIx64, offset, size);
        cs->res->corruptions++;
        return;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + size - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last && c < cs->nb_clusters; c++) {
        if (cs->refs[c] == UINT32_MAX || cs->refs[c] >= s->refcount_max) {
            report(cs, "ERROR: overflow cluster offset=%#" PRIx64, c << s->cluster_bits);
            cs->res->corruptions++;
            continue;
        }
        cs->refs[c]++;
    }
}

static void dec_refs(CheckState *cs, uint64_t offset, uint64_t size)
{
    BDRVQcow2State *s = cs->s;
    if (size == 0) {
        return;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + size - 1) >> s->cluster_bits;
    for (uint64_t c = first; c <= last && c < cs->nb_clusters; c++) {
        if (cs->refs[c]) {
            cs->refs[c]--;
        }
    }
}

/* Walks one L2 table. 'active' adds allocation statistics;
 * fragmentation is counted within each table. */
static int check_l2(CheckState *cs, uint64_t l2_offset, bool active)
{
    uint64_t contiguous = 0;
    uint64_t *next_contiguous = &contiguous;
    BDRVQcow2State *s = cs->s;
    uint64_t *l2 = xmalloc(s->cluster_size);
    int ret = qcow2_file_pread(s, l2_offset, l2, s->cluster_size, NULL);
    if (ret < 0) {
        report(cs, "ERROR: I/O error reading L2 table %#" PRIx64, l2_offset);
        cs->res->check_errors++;
        free(l2);
        return ret;
    }
    bool dirty = false;
    for (uint32_t i = 0; i < s->l2_size; i++) {
        uint64_t entry = be64_to_cpu(l2[i]);
        uint64_t off, len;
        Qcow2ClusterType type = qcow2_cluster_type(s, entry);
        if (type != QCOW2_CLUSTER_COMPRESSED && (entry & L2E_STD_RESERVED_MASK)) {
            report(cs, "ERROR found l2 entry with reserved bits set: %" PRIx64, entry);
            cs->res->corruptions++;
        }
        switch (type) {
        case QCOW2_CLUSTER_COMPRESSED:
            if (entry & QCOW_OFLAG_COPIED) {
                report(cs, "ERROR: coffset=%#" PRIx64 ": copied flag must never be set for "
                       "compressed clusters", entry & s->cluster_offset_mask);
                cs->res->corruptions++;
            }
            if (active) {
                cs->res->allocated_clusters++;
                cs->res->compressed_clusters++;
                /* Compressed clusters are fragmented by nature. */
                cs->res->fragmented_clusters++;
            }
            qcow2_compressed_range(s, entry, &off, &len);
            inc_refs(cs, off, len);
            break;
        case QCOW2_CLUSTER_ZERO_PLAIN:
        case QCOW2_CLUSTER_UNALLOCATED:
            if (s->qcow_version < 3 && (entry & QCOW_OFLAG_ZERO)) {
                report(cs, "ERROR: zero cluster entry in a version 2 image (L2 table %#"
                       PRIx64 ", index %u)", l2_offset, i);
                cs->res->corruptions++;
            }
            break;
        case QCOW2_CLUSTER_ZERO_ALLOC:
        case QCOW2_CLUSTER_NORMAL:
            off = entry & L2E_OFFSET_MASK;
            if (active) {
                cs->res->allocated_clusters++;
                if (*next_contiguous && off != *next_contiguous) {
                    cs->res->fragmented_clusters++;
                }
                *next_contiguous = off + s->cluster_size;
            }
            if (off & (s->cluster_size - 1)) {
                if (type == QCOW2_CLUSTER_ZERO_ALLOC) {
                    /* Reads as zero anyway: the offset can simply go. */
                    bool fix = (cs->fix & BDRV_FIX_ERRORS) && !s->read_only;
                    report(cs, "%s offset=%" PRIx64 ": Preallocated zero cluster is not "
                           "properly aligned; L2 entry corrupted.", fix ? "Repairing" : "ERROR",
                           off);
                    if (fix) {
                        l2[i] = cpu_to_be64(QCOW_OFLAG_ZERO);
                        dirty = true;
                        cs->res->corruptions_fixed++;
                        break;
                    }
                    cs->res->corruptions++;
                } else {
                    report(cs, "ERROR offset=%" PRIx64 ": Data cluster is not properly aligned; "
                           "L2 entry corrupted.", off);
                    cs->res->corruptions++;
                }
            }
            inc_refs(cs, off, s->cluster_size);
            break;
        }
    }
    if (dirty && qcow2_file_pwrite(s, l2_offset, l2, s->cluster_size, NULL) < 0) {
        cs->res->check_errors++;
    }
    if (dirty) {
        /* The cached copy (if any) must not overwrite the repair. */
        qcow2_cache_discard(s->l2_cache, l2_offset);
    }
    free(l2);
    return 0;
}

static int check_l1(CheckState *cs, uint64_t l1_offset, uint32_t l1_size, bool active,
                    const char *what)
{
    BDRVQcow2State *s = cs->s;
    if (l1_size == 0) {
        return 0;
    }
    inc_refs(cs, l1_offset, (uint64_t)l1_size * 8);
    uint64_t *l1 = xmalloc((size_t)l1_size * 8);
    int ret = qcow2_file_pread(s, l1_offset, l1, (uint64_t)l1_size * 8, NULL);
    if (ret < 0) {
        report(cs, "ERROR: I/O error reading %s", what);
        cs->res->check_errors++;
        free(l1);
        return ret;
    }
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l1_entry = be64_to_cpu(l1[i]);
        uint64_t l2_offset = l1_entry & L1E_OFFSET_MASK;
        if (l1_entry & L1E_RESERVED_MASK) {
            report(cs, "ERROR found L1 entry with reserved bits set: %" PRIx64, l1_entry);
            cs->res->corruptions++;
        }
        if (!l2_offset) {
            continue;
        }
        inc_refs(cs, l2_offset, s->cluster_size);
        if (l2_offset & (s->cluster_size - 1)) {
            report(cs, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; L1 entry "
                   "corrupted", l2_offset);
            cs->res->corruptions++;
        }
        /* Even a misplaced table is walked: what it points at is
         * referenced as far as anyone reading it is concerned. */
        check_l2(cs, l2_offset, active);
    }
    free(l1);
    return 0;
}

static void check_bitmaps(CheckState *cs)
{
    BDRVQcow2State *s = cs->s;
    if (!s->has_bitmaps_ext || !s->bitmap_directory_size) {
        return;
    }
    uint64_t size = s->bitmap_directory_size;
    if (size > 64 * MiB || (s->bitmap_directory_offset & (s->cluster_size - 1))) {
        report(cs, "ERROR: bitmap directory is invalid");
        cs->res->corruptions++;
        return;
    }
    inc_refs(cs, s->bitmap_directory_offset, size);
    uint8_t *dir = xmalloc(size);
    if (qcow2_file_pread(s, s->bitmap_directory_offset, dir, size, NULL) < 0) {
        cs->res->check_errors++;
        free(dir);
        return;
    }
    uint64_t pos = 0;
    for (uint32_t b = 0; b < s->nb_bitmaps && pos + 24 <= size; b++) {
        uint64_t table_offset = ldq_be(dir + pos);
        uint32_t table_size = ldl_be(dir + pos + 8);
        uint32_t name_size = ldw_be(dir + pos + 18);
        uint32_t extra = ldl_be(dir + pos + 20);
        pos += ALIGN_UP(24 + (uint64_t)extra + name_size, 8);
        if (table_offset & (s->cluster_size - 1) || table_size > 64 * MiB / 8) {
            report(cs, "ERROR: bitmap table of bitmap %u is invalid", b);
            cs->res->corruptions++;
            continue;
        }
        if (!table_size) {
            continue;
        }
        inc_refs(cs, table_offset, (uint64_t)table_size * 8);
        uint64_t *table = xmalloc((size_t)table_size * 8);
        if (qcow2_file_pread(s, table_offset, table, (uint64_t)table_size * 8, NULL) < 0) {
            cs->res->check_errors++;
            free(table);
            continue;
        }
        for (uint32_t i = 0; i < table_size; i++) {
            uint64_t off = be64_to_cpu(table[i]) & L1E_OFFSET_MASK;
            if (off && !(off & (s->cluster_size - 1))) {
                inc_refs(cs, off, s->cluster_size);
            }
        }
        free(table);
    }
    free(dir);
}

/* Counts every reference; returns <0 only on fatal errors. */
static int count_references(CheckState *cs)
{
    BDRVQcow2State *s = cs->s;
    memset(cs->refs, 0, cs->nb_clusters * sizeof(uint32_t));

    inc_refs(cs, 0, s->cluster_size);
    /* With a temporarily loaded snapshot, the on-disk active L1 counts. */
    check_l1(cs, s->l1_table_offset, s->l1_size, true, "the active L1 table");
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &s->snapshots[i];
        if (sn->l1_size > QCOW2_MAX_L1_BYTES / 8) {
            report(cs, "ERROR snapshot %s (%s) l1_size=%#" PRIx32 ": L1 table is too large; "
                   "snapshot table entry corrupted", sn->id_str, sn->name, sn->l1_size);
            cs->res->corruptions++;
            continue;
        }
        if (sn->l1_table_offset & (s->cluster_size - 1)) {
            report(cs, "ERROR snapshot %s (%s) l1_offset=%#" PRIx64 ": L1 table is not "
                   "cluster aligned; snapshot table entry corrupted", sn->id_str, sn->name,
                   sn->l1_table_offset);
            cs->res->corruptions++;
            continue;
        }
        check_l1(cs, sn->l1_table_offset, sn->l1_size, false, "a snapshot L1 table");
    }
    inc_refs(cs, s->snapshots_offset, s->snapshots_size);
    inc_refs(cs, s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8);
    check_bitmaps(cs);

    /* Refcount blocks: they must be sane before refcounts can be read. */
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t off = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (!off) {
            continue;
        }
        if (off & (s->cluster_size - 1)) {
            report(cs, "ERROR refcount block %u is not cluster aligned; refcount table entry "
                   "corrupted", i);
            cs->res->corruptions++;
            cs->rebuild = true;
            continue;
        }
        uint64_t c = off >> s->cluster_bits;
        if (c >= DIV_ROUND_UP(cs->file_len, s->cluster_size)) {
            report(cs, "ERROR refcount block %u is outside image", i);
            cs->res->corruptions++;
            cs->rebuild = true;
            continue;
        }
        inc_refs(cs, off, s->cluster_size);
        if (cs->refs[c] != 1) {
            report(cs, "ERROR refcount block %u refcount=%u", i, cs->refs[c]);
            cs->res->corruptions++;
            cs->rebuild = true;
        }
    }
    return 0;
}

/* Stored refcount, with a broken refcount block read as "unknown". */
static int stored_refcount(CheckState *cs, uint64_t cluster, uint64_t *rc)
{
    BDRVQcow2State *s = cs->s;
    uint64_t rt_index = cluster >> s->refblock_bits;
    *rc = 0;
    if (rt_index >= s->refcount_table_size) {
        return 0;
    }
    uint64_t off = s->refcount_table[rt_index] & REFT_OFFSET_MASK;
    if (!off) {
        return 0;
    }
    if ((off & (s->cluster_size - 1)) ||
        (off >> s->cluster_bits) >= DIV_ROUND_UP(cs->file_len, s->cluster_size)) {
        return -EIO;  /* already reported as a broken refcount block */
    }
    return qcow2_get_refcount(s, cluster, rc, NULL);
}

/*
 * Compares one cluster: fixes what the flags allow, counts the rest.
 * Returns the stored refcount after any fix.
 */
static void compare_one(CheckState *cs, uint64_t cluster, uint64_t computed,
                        uint64_t *highest)
{
    BDRVQcow2State *s = cs->s;
    uint64_t stored;
    if (stored_refcount(cs, cluster, &stored) < 0) {
        report(cs, "Can't get refcount for cluster %" PRIu64 ": Input/output error", cluster);
        cs->res->check_errors++;
        return;  /* a rebuild replaces the broken block */
    }
    if (stored || computed) {
        *highest = MAX(*highest, cluster + 1);
    }
    if (stored == computed) {
        return;
    }
    bool leak = stored > computed;
    bool fixable;
    if (stored == 0) {
        /* A live cluster looks free: fixing it in place could hand it
         * out first. Rebuild the structure instead. */
        cs->rebuild = true;
        fixable = false;
    } else {
        fixable = (cs->fix & (leak ? BDRV_FIX_LEAKS : BDRV_FIX_ERRORS)) && !s->read_only;
    }
    report(cs, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64,
           fixable ? "Repairing" : leak ? "Leaked" : "ERROR", cluster, stored, computed);
    if (fixable) {
        int64_t delta = computed > stored ? (int64_t)(computed - stored)
                                          : -(int64_t)(stored - computed);
        if (computed > s->refcount_max) {
            fixable = false;
        } else if (qcow2_update_refcount(s, cluster << s->cluster_bits, 1, delta, NULL) == 0) {
            if (leak) {
                cs->res->leaks_fixed++;
            } else {
                cs->res->corruptions_fixed++;
            }
            return;
        }
        cs->res->check_errors++;
    }
    if (leak) {
        cs->res->leaks++;
    } else {
        cs->res->corruptions++;
    }
}

static void compare_refcounts(CheckState *cs, uint64_t *highest)
{
    *highest = 0;
    uint64_t in_file = DIV_ROUND_UP(cs->file_len, cs->s->cluster_size);
    for (uint64_t c = 0; c < cs->nb_clusters; c++) {
        /* Past the end of the file only referenced clusters matter. */
        if (c >= in_file && cs->refs[c] == 0) {
            continue;
        }
        compare_one(cs, c, cs->refs[c], highest);
    }
}

/* ---- rebuilding the refcount structure --------------------------- */

static int rebuild_refcounts(CheckState *cs, Error **errp)
{
    BDRVQcow2State *s = cs->s;
    const uint64_t csz = s->cluster_size;
    const uint64_t per_block = s->refblock_size;

    /* The old structure is abandoned: its clusters become free. */
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        uint64_t off = s->refcount_table[i] & REFT_OFFSET_MASK;
        if (off && !(off & (csz - 1))) {
            dec_refs(cs, off, csz);
        }
    }
    dec_refs(cs, s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8);

    /* The new one goes past everything in use and past the file end. */
    uint64_t area = cs->nb_clusters;
    uint64_t nb_blocks = 0, table_clusters = 0, entries = 0;
    for (int iter = 0; iter < 64; iter++) {
        uint64_t covered = area + nb_blocks + table_clusters;
        entries = DIV_ROUND_UP(covered, per_block);
        uint64_t new_table = DIV_ROUND_UP(entries * 8, csz);
        /* Every table entry gets a block, empty or not: the area then
         * has a fixed layout that describes itself. */
        uint64_t new_blocks = entries;
        if (new_table == table_clusters && new_blocks == nb_blocks) {
            break;
        }
        table_clusters = new_table;
        nb_blocks = new_blocks;
    }
    if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES ||
        area + nb_blocks + table_clusters > (QCOW2_MAX_HOST_OFFSET >> s->cluster_bits)) {
        error_setg(errp, "Image too large to rebuild its refcount structure");
        return -EFBIG;
    }
    uint64_t blocks_start = area;
    uint64_t table_start = area + nb_blocks;
    uint64_t total_end = table_start + table_clusters;

    uint64_t *table = xmemalign_zero(4096, table_clusters * csz);
    uint8_t *block = xmemalign_zero(4096, csz);
    int ret = 0;
    for (uint64_t b = 0; b < entries && ret == 0; b++) {
        memset(block, 0, csz);
        for (uint64_t i = 0; i < per_block; i++) {
            uint64_t c = b * per_block + i;
            uint64_t n = c < cs->nb_clusters ? cs->refs[c] : 0;
            if (c >= blocks_start && c < total_end) {
                n = 1;  /* the new structure itself */
            }
            if (n > s->refcount_max) {
                error_setg(errp, "Cluster %" PRIu64 " has %" PRIu64 " references, more than "
                           "refcount_bits=%d can hold", c, n, s->refcount_bits);
                ret = -ERANGE;
                break;
            }
            if (n) {
                qcow2_refblock_set(s, block, i, n);
            }
        }
        if (ret == 0) {
            uint64_t off = (blocks_start + b) * csz;
            table[b] = cpu_to_be64(off);
            ret = qcow2_file_pwrite(s, off, block, csz, errp);
        }
    }
    free(block);
    if (ret == 0) {
        ret = qcow2_file_pwrite(s, table_start * csz, table, table_clusters * csz, errp);
    }
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    if (ret == 0) {
        uint8_t hdr[12];
        stq_be(hdr, table_start * csz);
        stl_be(hdr + 8, table_clusters);
        ret = qcow2_write_header_field(s, QCOW2_HDR_REFTABLE_OFFSET, hdr, sizeof(hdr), true,
                                       errp);
    }
    if (ret < 0) {
        free(table);
        error_prepend(errp, "Could not rebuild the refcount structure: ");
        return ret;
    }
    uint64_t new_entries = table_clusters * csz / 8;
    for (uint64_t i = 0; i < new_entries; i++) {
        table[i] = be64_to_cpu(table[i]);
    }
    free(s->refcount_table);
    s->refcount_table = table;
    s->refcount_table_offset = table_start * csz;
    s->refcount_table_size = new_entries;
    /* Cached blocks belong to the old structure. */
    qcow2_cache_invalidate(s->refblock_cache);
    s->free_cluster_index = 0;
    s->lowest_freed = UINT64_MAX;
    return 0;
}

/* ---- COPIED flags ------------------------------------------------ */

static int check_copied_flags(CheckState *cs)
{
    BDRVQcow2State *s = cs->s;
    bool fix = (cs->fix & BDRV_FIX_ERRORS) && !s->read_only;
    int ret = 0;
    bool l1_dirty = false;

    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l1_entry = s->l1_table[i];
        uint64_t l2_offset = l1_entry & L1E_OFFSET_MASK;
        if (!l2_offset || (l2_offset & (s->cluster_size - 1))) {
            continue;
        }
        uint64_t rc;
        if (qcow2_get_refcount(s, l2_offset >> s->cluster_bits, &rc, NULL) < 0) {
            cs->res->check_errors++;
            continue;
        }
        if ((rc == 1) != !!(l1_entry & QCOW_OFLAG_COPIED)) {
            report(cs, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%" PRIx64
                   " refcount=%" PRIu64, fix ? "Repairing" : "ERROR", i, l1_entry, rc);
            if (fix) {
                s->l1_table[i] = rc == 1 ? l1_entry | QCOW_OFLAG_COPIED
                                         : l1_entry & ~QCOW_OFLAG_COPIED;
                l1_dirty = true;
                cs->res->corruptions_fixed++;
            } else {
                cs->res->corruptions++;
            }
        }
        uint64_t *l2;
        if (qcow2_cache_get(s->l2_cache, l2_offset, false, (void **)&l2, NULL) < 0) {
            cs->res->check_errors++;
            continue;
        }
        bool l2_dirty = false;
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t entry = be64_to_cpu(l2[j]);
            Qcow2ClusterType t = qcow2_cluster_type(s, entry);
            if (t != QCOW2_CLUSTER_NORMAL && t != QCOW2_CLUSTER_ZERO_ALLOC) {
                continue;
            }
            uint64_t off = entry & L2E_OFFSET_MASK;
            if (off & (s->cluster_size - 1)) {
                continue;
            }
            uint64_t drc;
            if (qcow2_get_refcount(s, off >> s->cluster_bits, &drc, NULL) < 0) {
                cs->res->check_errors++;
                continue;
            }
            if ((drc == 1) != !!(entry & QCOW_OFLAG_COPIED)) {
                report(cs, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%"
                       PRIu64, fix ? "Repairing" : "ERROR", entry, drc);
                if (fix) {
                    entry = drc == 1 ? entry | QCOW_OFLAG_COPIED : entry & ~QCOW_OFLAG_COPIED;
                    l2[j] = cpu_to_be64(entry);
                    l2_dirty = true;
                    cs->res->corruptions_fixed++;
                } else {
                    cs->res->corruptions++;
                }
            }
        }
        if (l2_dirty) {
            qcow2_cache_mark_dirty(s->l2_cache, l2);
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
    }
    if (fix) {
        ret = qcow2_cache_flush(s->l2_cache, NULL);
        if (ret == 0 && l1_dirty) {
            ret = qcow2_write_l1_entries(s, 0, s->l1_size, NULL);
        }
        if (ret < 0) {
            cs->res->check_errors++;
        }
    }
    return ret;
}

/* ---- entry point ------------------------------------------------- */

static void set_file_len(CheckState *cs, uint64_t len)
{
    uint64_t n = DIV_ROUND_UP(len, cs->s->cluster_size) + 1;
    cs->refs = xrealloc(cs->refs, n * sizeof(uint32_t));
    cs->nb_clusters = n;
    cs->file_len = len;
}

int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix,
                BdrvCheckReport *report_fn, void *opaque, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int ret;

    memset(res, 0, sizeof(*res));
    if (s->snapshot_loaded) {
        error_setg(errp, "Cannot check an image with a temporarily loaded snapshot");
        return -EINVAL;
    }
    if (s->read_only) {
        fix = 0;
    } else {
        /* The walk reads the file: the caches must be on it. */
        ret = qcow2_flush_caches(s, errp);
        if (ret < 0) {
            return ret;
        }
    }
    int64_t file_len = host_file_length(s->file, errp);
    if (file_len < 0) {
        return (int)file_len;
    }
    CheckState cs = {
        .s = s, .res = res, .fix = fix, .report = report_fn, .opaque = opaque,
    };
    set_file_len(&cs, file_len);
    res->total_clusters = DIV_ROUND_UP(bs->total_size, s->cluster_size);

    /* First a pass that only looks; repairs, if any, come after. */
    uint64_t highest;
    ret = count_references(&cs);
    BdrvCheckResult counted = *res;
    cs.fix = 0;
    compare_refcounts(&cs, &highest);
    cs.fix = fix;

    if (cs.rebuild && (fix & BDRV_FIX_ERRORS)) {
        BdrvCheckResult old = *res;
        Error *local = NULL;
        report(&cs, "Rebuilding refcount structure");
        ret = rebuild_refcounts(&cs, &local);
        if (ret < 0) {
            error_propagate(errp, local);
            goto out;
        }
        /* Count again against the new structure. */
        *res = (BdrvCheckResult){ 0 };
        res->total_clusters = old.total_clusters;
        int64_t new_len = host_file_length(s->file, NULL);
        set_file_len(&cs, new_len > 0 ? (uint64_t)new_len : cs.file_len);
        cs.rebuild = false;
        count_references(&cs);
        compare_refcounts(&cs, &highest);
        if (cs.rebuild) {
            report(&cs, "ERROR rebuilt refcount structure is still broken");
        }
        res->corruptions_fixed = old.corruptions_fixed +
                                 (old.corruptions > res->corruptions
                                  ? old.corruptions - res->corruptions : 0);
        res->leaks_fixed = old.leaks_fixed +
                           (old.leaks > res->leaks ? old.leaks - res->leaks : 0);
    } else if (fix) {
        if (cs.rebuild) {
            report(&cs, "ERROR need to rebuild refcount structures");
            res->check_errors++;
            error_setg(errp, "The refcount structure needs rebuilding (use -r all)");
            ret = -EIO;
            goto out;
        }
        if (res->leaks || res->corruptions) {
            *res = counted;
            compare_refcounts(&cs, &highest);
        }
    }
    if (ret == 0) {
        check_copied_flags(&cs);
    }
    if (fix) {
        Error *local = NULL;
        if (qcow2_flush_caches(s, &local) < 0) {
            res->check_errors++;
            error_free(local);
        }
    }
    res->image_end_offset = highest << s->cluster_bits;
    if (fix && res->corruptions == 0 && res->check_errors == 0 &&
        (s->incompatible_features & (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT))) {
        /* Consistent again: drop the dirty and corrupt bits. */
        uint8_t be[8];
        uint64_t features = s->incompatible_features &
                            ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
        stq_be(be, features);
        if (qcow2_write_header_field(s, QCOW2_HDR_INCOMPAT, be, 8, true, NULL) == 0) {
            s->incompatible_features = features;
            s->dirty_set = false;
            s->corrupt = false;
        }
    }
out:
    free(cs.refs);
    return ret;
}
