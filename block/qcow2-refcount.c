/*
 * qcow2 reference counts: the two-level refcount structure (table of
 * refcount blocks), cluster allocation, freeing, and refcount updates
 * over whole L1 trees for snapshots.
 *
 * New refcount blocks describe themselves: the block for table index i
 * is placed at the first cluster it covers, which is free because no
 * block covered it before. Growing the table puts the new table and the
 * blocks covering it in a fresh area past the end of the image, written
 * and synced before the header switches to it.
 */
#include "qcow2.h"

int qcow2_refcount_init(BDRVQcow2State *s, Error **errp)
{
    size_t bytes = (size_t)s->refcount_table_size * sizeof(uint64_t);
    s->refcount_table = xmalloc(bytes ? bytes : 1);
    if (bytes) {
        int ret = qcow2_file_pread(s, s->refcount_table_offset, s->refcount_table, bytes, errp);
        if (ret < 0) {
            error_prepend(errp, "Could not read the refcount table: ");
            return ret;
        }
    }
    for (uint32_t i = 0; i < s->refcount_table_size; i++) {
        s->refcount_table[i] = be64_to_cpu(s->refcount_table[i]);
    }
    return 0;
}

/* ---- refcount block entries of any width ------------------------- */

uint64_t qcow2_refblock_get(const BDRVQcow2State *s, const void *block, uint32_t index)
{
    const uint8_t *p = block;
    switch (s->refcount_order) {
    case 0: return (p[index / 8] >> (index % 8)) & 1;
    case 1: return (p[index / 4] >> (2 * (index % 4))) & 3;
    case 2: return (p[index / 2] >> (4 * (index % 2))) & 15;
    case 3: return p[index];
    case 4: return ldw_be(p + 2 * (size_t)index);
    case 5: return ldl_be(p + 4 * (size_t)index);
    default: return ldq_be(p + 8 * (size_t)index);
    }
}

void qcow2_refblock_set(const BDRVQcow2State *s, void *block, uint32_t index, uint64_t value)
{
    uint8_t *p = block;
    int shift;
    switch (s->refcount_order) {
    case 0:
        shift = index % 8;
        p[index / 8] = (p[index / 8] & ~(1u << shift)) | ((value & 1) << shift);
        break;
    case 1:
        shift = 2 * (index % 4);
        p[index / 4] = (p[index / 4] & ~(3u << shift)) | ((value & 3) << shift);
        break;
    case 2:
        shift = 4 * (index % 2);
        p[index / 2] = (p[index / 2] & ~(15u << shift)) | ((value & 15) << shift);
        break;
    case 3: p[index] = value; break;
    case 4: stw_be(p + 2 * (size_t)index, value); break;
    case 5: stl_be(p + 4 * (size_t)index, value); break;
    default: stq_be(p + 8 * (size_t)index, value); break;
    }
}

/* Offset of the refcount block for table index i; 0 = none. */
static int refblock_offset(BDRVQcow2State *s, uint64_t rt_index, uint64_t *offset,
                           Error **errp)
{
    *offset = 0;
    if (rt_index >= s->refcount_table_size) {
        return 0;
    }
    uint64_t off = s->refcount_table[rt_index] & REFT_OFFSET_MASK;
    if (off & (s->cluster_size - 1)) {
        return qcow2_signal_corruption(s, errp, "Refcount block %" PRIu64 " offset %#" PRIx64
                                       " is not cluster aligned", rt_index, off);
    }
    if (off && off < s->cluster_size) {
        return qcow2_signal_corruption(s, errp, "Refcount block %" PRIu64
                                       " overlaps the image header", rt_index);
    }
    *offset = off;
    return 0;
}

int qcow2_get_refcount(BDRVQcow2State *s, uint64_t cluster_index, uint64_t *refcount,
                       Error **errp)
{
    uint64_t off;
    void *block;
    *refcount = 0;
    int ret = refblock_offset(s, cluster_index >> s->refblock_bits, &off, errp);
    if (ret < 0 || off == 0) {
        return ret;
    }
    ret = qcow2_cache_get(s->refblock_cache, off, false, &block, errp);
    if (ret < 0) {
        return ret;
    }
    *refcount = qcow2_refblock_get(s, block, cluster_index & (s->refblock_size - 1));
    qcow2_cache_put(s->refblock_cache, &block);
    return 0;
}

/* ---- creating refcount blocks and growing the table -------------- */

static int64_t find_free_clusters(BDRVQcow2State *s, uint64_t n, uint64_t *first_free,
                                  Error **errp);

/*
 * A new block for table index rt_index (< table size), placed in the
 * first free cluster so that blocks pack together and leave long free
 * runs. That cluster is counted in the new block itself if it covers
 * it, else in its existing block (made stable first). Returns 1 when a
 * block was created (callers search for free clusters again), 0 when
 * the cluster's own block has to be created first (also retry).
 */
static int create_refblock(BDRVQcow2State *s, uint64_t rt_index, Error **errp)
{
    uint64_t first_free;
    int64_t c = find_free_clusters(s, 1, &first_free, errp);
    if (c < 0) {
        return (int)c;
    }
    uint64_t offset = (uint64_t)c << s->cluster_bits;
    uint64_t own_index = (uint64_t)c >> s->refblock_bits;
    int ret;

    if (own_index != rt_index) {
        if (own_index >= s->refcount_table_size) {
            return qcow2_grow_refcount_table(s, own_index + 1, errp);
        }
        if (!(s->refcount_table[own_index] & REFT_OFFSET_MASK)) {
            /* Its home region has no block either: that one first. */
            return create_refblock(s, own_index, errp);
        }
        ret = qcow2_update_refcount(s, offset, 1, 1, errp);
        if (ret == 0) {
            /* Counted and stable before anything points at it. */
            ret = qcow2_cache_flush(s->refblock_cache, errp);
        }
        if (ret < 0) {
            return ret;
        }
    }
    ret = qcow2_check_overlap(s, offset, s->cluster_size, true, errp);
    if (ret < 0) {
        return ret;
    }
    uint8_t *block = xmemalign_zero(4096, s->cluster_size);
    if (own_index == rt_index) {
        qcow2_refblock_set(s, block, c & (s->refblock_size - 1), 1);
    }
    ret = qcow2_file_pwrite(s, offset, block, s->cluster_size, errp);
    free(block);
    if (ret == 0) {
        /* The block must be on disk before the table points at it. */
        ret = host_file_sync(s->file, errp);
    }
    if (ret == 0) {
        uint64_t be = cpu_to_be64(offset);
        ret = qcow2_file_pwrite(s, s->refcount_table_offset + rt_index * 8, &be, 8, errp);
    }
    if (ret < 0) {
        if (own_index != rt_index) {
            qcow2_update_refcount(s, offset, 1, -1, NULL);
        }
        error_prepend(errp, "Could not allocate a refcount block: ");
        return ret;
    }
    s->refcount_table[rt_index] = offset;
    return 1;
}

int qcow2_grow_refcount_table(BDRVQcow2State *s, uint64_t min_entries, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    const uint64_t per_block = s->refblock_size;
    uint64_t old_entries = s->refcount_table_size;
    if (min_entries <= old_entries) {
        return 0;
    }

    /* Everything at or past the area is neither covered by a refcount
     * block nor part of the file: free for the new structures. */
    uint64_t area = MAX(old_entries * per_block, DIV_ROUND_UP(s->file_end, cs));
    uint64_t first_block = area / per_block;
    uint64_t nb_blocks = 1, nb_table_clusters = 0, new_entries = 0;
    for (int iter = 0; iter < 64; iter++) {
        new_entries = MAX(min_entries, old_entries + old_entries / 2 + 1);
        new_entries = MAX(new_entries, first_block + nb_blocks);
        nb_table_clusters = DIV_ROUND_UP(new_entries * 8, cs);
        uint64_t area_end = area + nb_blocks + nb_table_clusters;
        uint64_t needed = DIV_ROUND_UP(area_end, per_block) - first_block;
        if (needed <= nb_blocks) {
            break;
        }
        nb_blocks = needed;
    }
    new_entries = nb_table_clusters * cs / 8;
    if (new_entries * 8 > QCOW2_MAX_REFTABLE_BYTES) {
        error_setg(errp, "'%s': refcount table would exceed %" PRIu64 " MiB; use a larger "
                   "cluster size", s->file->filename, QCOW2_MAX_REFTABLE_BYTES / MiB);
        return -EFBIG;
    }
    uint64_t area_clusters = nb_blocks + nb_table_clusters;
    if (area + area_clusters > (QCOW2_MAX_HOST_OFFSET >> s->cluster_bits)) {
        error_setg(errp, "'%s': image would grow beyond the maximum qcow2 file size",
                   s->file->filename);
        return -EFBIG;
    }

    uint8_t *blocks = xmemalign_zero(4096, nb_blocks * cs);
    for (uint64_t c = area; c < area + area_clusters; c++) {
        uint64_t b = c / per_block - first_block;
        qcow2_refblock_set(s, blocks + b * cs, c % per_block, 1);
    }
    uint64_t *table = xmemalign_zero(4096, nb_table_clusters * cs);
    for (uint64_t i = 0; i < old_entries; i++) {
        table[i] = cpu_to_be64(s->refcount_table[i]);
    }
    for (uint64_t b = 0; b < nb_blocks; b++) {
        table[first_block + b] = cpu_to_be64((area + b) * cs);
    }

    uint64_t blocks_offset = area * cs;
    uint64_t table_offset = (area + nb_blocks) * cs;
    int ret = qcow2_file_pwrite(s, blocks_offset, blocks, nb_blocks * cs, errp);
    if (ret == 0) {
        ret = qcow2_file_pwrite(s, table_offset, table, nb_table_clusters * cs, errp);
    }
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    free(blocks);
    if (ret < 0) {
        free(table);
        error_prepend(errp, "Could not grow the refcount table: ");
        return ret;
    }

    uint8_t hdr[12];
    stq_be(hdr, table_offset);
    stl_be(hdr + 8, nb_table_clusters);
    ret = qcow2_write_header_field(s, QCOW2_HDR_REFTABLE_OFFSET, hdr, sizeof(hdr), true, errp);
    if (ret < 0) {
        free(table);
        return ret;
    }

    uint64_t old_offset = s->refcount_table_offset;
    uint64_t old_bytes = ALIGN_UP(old_entries * 8, cs);
    for (uint64_t i = 0; i < new_entries; i++) {
        table[i] = be64_to_cpu(table[i]);
    }
    free(s->refcount_table);
    s->refcount_table = table;
    s->refcount_table_offset = table_offset;
    s->refcount_table_size = new_entries;

    if (old_bytes) {
        ret = qcow2_free_clusters(s, old_offset, old_bytes, errp);
    }
    return ret;
}

/* ---- updating refcounts ------------------------------------------ */

static void cluster_freed(BDRVQcow2State *s, uint64_t cluster_index)
{
    uint64_t offset = cluster_index << s->cluster_bits;
    if (cluster_index < s->lowest_freed) {
        s->lowest_freed = cluster_index;
    }
    qcow2_cache_discard(s->l2_cache, offset);
    qcow2_cache_discard(s->refblock_cache, offset);
    if (s->free_byte_offset && (s->free_byte_offset >> s->cluster_bits) == cluster_index) {
        s->free_byte_offset = 0;
    }
    if (s->cluster_buf_entry) {
        s->cluster_buf_entry = 0;  /* cheap: forget the decompressed cluster */
    }
}

/* Adds addend to clusters [first, first + count); on failure returns
 * -errno with *done = how many were updated. */
static int update_clusters(BDRVQcow2State *s, uint64_t first, uint64_t count, int64_t addend,
                           uint64_t *done, Error **errp)
{
    void *block = NULL;
    uint64_t block_rt_index = UINT64_MAX;
    int ret = 0;
    *done = 0;

    for (uint64_t i = 0; i < count; i++) {
        uint64_t cluster = first + i;
        uint64_t rt_index = cluster >> s->refblock_bits;
        if (rt_index != block_rt_index) {
            uint64_t off;
            qcow2_cache_put(s->refblock_cache, &block);
            ret = refblock_offset(s, rt_index, &off, errp);
            if (ret < 0) {
                break;
            }
            if (off == 0) {
                if (addend < 0) {
                    ret = qcow2_signal_corruption(s, errp, "Cannot decrease the refcount of "
                                                  "cluster %#" PRIx64 ": it has no refcount "
                                                  "block", cluster << s->cluster_bits);
                    break;
                }
                /* Only allocation raises a refcount from zero, and it
                 * creates the blocks first; anything else is a bug. */
                error_setg(errp, "Internal error: refcount of an uncovered cluster %#"
                           PRIx64 " raised outside allocation", cluster << s->cluster_bits);
                ret = -EIO;
                break;
            }
            ret = qcow2_cache_get(s->refblock_cache, off, false, &block, errp);
            if (ret < 0) {
                break;
            }
            block_rt_index = rt_index;
        }

        uint32_t idx = cluster & (s->refblock_size - 1);
        uint64_t old = qcow2_refblock_get(s, block, idx);
        uint64_t new;
        if (addend < 0) {
            if (old < (uint64_t)-addend) {
                ret = qcow2_signal_corruption(s, errp, "Refcount of cluster %#" PRIx64
                                              " would drop below zero",
                                              cluster << s->cluster_bits);
                break;
            }
            new = old - (uint64_t)-addend;
        } else {
            if ((uint64_t)addend > s->refcount_max - old) {
                error_setg(errp, "'%s': refcount of cluster %#" PRIx64 " would exceed %" PRIu64
                           " (refcount_bits=%d is too small)", s->file->filename,
                           cluster << s->cluster_bits, s->refcount_max, s->refcount_bits);
                ret = -ERANGE;
                break;
            }
            new = old + addend;
        }
        qcow2_refblock_set(s, block, idx, new);
        qcow2_cache_mark_dirty(s->refblock_cache, block);
        if (new == 0) {
            cluster_freed(s, cluster);
        }
        (*done)++;
    }
    qcow2_cache_put(s->refblock_cache, &block);
    return ret;
}

int qcow2_update_refcount(BDRVQcow2State *s, uint64_t offset, uint64_t length,
                          int64_t addend, Error **errp)
{
    if (length == 0 || addend == 0) {
        return 0;
    }
    uint64_t first = offset >> s->cluster_bits;
    uint64_t last = (offset + length - 1) >> s->cluster_bits;
    uint64_t done;
    int ret = update_clusters(s, first, last - first + 1, addend, &done, errp);
    if (ret < 0 && done) {
        uint64_t undone;
        update_clusters(s, first, done, -addend, &undone, NULL);
    }
    return ret;
}

/* ---- allocation -------------------------------------------------- */

/* Finds n contiguous clusters with refcount 0 from the search hint. */
static int64_t find_free_clusters(BDRVQcow2State *s, uint64_t n, uint64_t *first_free,
                                  Error **errp)
{
    uint64_t idx = s->free_cluster_index;
    uint64_t run_start = idx, run = 0;
    uint64_t limit = QCOW2_MAX_HOST_OFFSET >> s->cluster_bits;
    *first_free = UINT64_MAX;

    while (run < n) {
        if (idx >= limit) {
            error_setg(errp, "'%s': no free space left below the maximum qcow2 file size",
                       s->file->filename);
            return -EFBIG;
        }
        uint64_t rt_index = idx >> s->refblock_bits;
        uint64_t off;
        int ret = refblock_offset(s, rt_index, &off, errp);
        if (ret < 0) {
            return ret;
        }
        if (off == 0) {
            /* No block: the whole rest of its range is free. */
            uint64_t span = s->refblock_size - (idx & (s->refblock_size - 1));
            if (run == 0) {
                run_start = idx;
            }
            if (*first_free == UINT64_MAX) {
                *first_free = idx;
            }
            run += span;
            idx += span;
            continue;
        }
        void *block;
        ret = qcow2_cache_get(s->refblock_cache, off, false, &block, errp);
        if (ret < 0) {
            return ret;
        }
        uint64_t block_end = (rt_index + 1) << s->refblock_bits;
        for (; idx < block_end && run < n; idx++) {
            if (qcow2_refblock_get(s, block, idx & (s->refblock_size - 1)) == 0) {
                if (run == 0) {
                    run_start = idx;
                }
                if (*first_free == UINT64_MAX) {
                    *first_free = idx;
                }
                run++;
            } else {
                run = 0;
            }
        }
        qcow2_cache_put(s->refblock_cache, &block);
    }
    return (int64_t)run_start;
}

int64_t qcow2_alloc_clusters(BDRVQcow2State *s, uint64_t size, Error **errp)
{
    uint64_t n = DIV_ROUND_UP(size, s->cluster_size);
    if (n == 0) {
        n = 1;
    }
    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; refusing to allocate", s->file->filename);
        return -EIO;
    }
    if (s->lowest_freed != UINT64_MAX) {
        /* Clusters freed since the last flush may still be referenced
         * on disk: make the frees stable before anything is reused. */
        int ret = qcow2_flush_caches(s, errp);
        if (ret < 0) {
            return ret;
        }
    }
    /* Each retry creates a refcount block; a run needs few of them. */
    uint64_t max_attempts = 64 + 4 * (n >> s->refblock_bits);
    for (uint64_t attempt = 0; attempt < max_attempts; attempt++) {
        uint64_t first_free;
        int64_t start = find_free_clusters(s, n, &first_free, errp);
        if (start < 0) {
            return start;
        }
        /* Every block covering the range must exist before we claim it;
         * creating one uses a free cluster, so search again afterwards. */
        bool changed = false;
        uint64_t last = start + n - 1;
        for (uint64_t rt = (uint64_t)start >> s->refblock_bits;
             rt <= (last >> s->refblock_bits) && !changed; rt++) {
            int ret = 0;
            if (rt >= s->refcount_table_size) {
                ret = qcow2_grow_refcount_table(s, rt + 1, errp);
                changed = true;
            } else if (!(s->refcount_table[rt] & REFT_OFFSET_MASK)) {
                ret = create_refblock(s, rt, errp);
                changed = true;
            }
            if (ret < 0) {
                return ret;
            }
        }
        if (changed) {
            continue;
        }
        int ret = qcow2_update_refcount(s, (uint64_t)start << s->cluster_bits,
                                        n << s->cluster_bits, 1, errp);
        if (ret < 0) {
            return ret;
        }
        s->free_cluster_index = (first_free == (uint64_t)start) ? start + n : first_free;
        return (int64_t)start << s->cluster_bits;
    }
    error_setg(errp, "'%s': cluster allocation did not converge", s->file->filename);
    return -EIO;
}

int64_t qcow2_alloc_bytes(BDRVQcow2State *s, uint32_t size, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    uint64_t off = s->free_byte_offset;
    int ret;

    if (size == 0 || size > cs) {
        error_setg(errp, "Invalid compressed allocation of %u bytes", size);
        return -EINVAL;
    }
    if (off && (off & (cs - 1)) == 0) {
        off = 0;  /* the previous cluster was filled exactly */
    }
    if (off) {
        uint64_t cluster_end = ALIGN_UP(off, cs);
        if (off + size <= cluster_end) {
            ret = qcow2_update_refcount(s, off, size, 1, errp);
            if (ret < 0) {
                return ret;
            }
            s->free_byte_offset = off + size;
            return off;
        }
        /* Spill into the next cluster if it is the one we get. */
        int64_t next = qcow2_alloc_clusters(s, cs, errp);
        if (next < 0) {
            return next;
        }
        if ((uint64_t)next == cluster_end) {
            ret = qcow2_update_refcount(s, off, 1, 1, errp);
            if (ret < 0) {
                qcow2_free_clusters(s, next, cs, NULL);
                return ret;
            }
            s->free_byte_offset = off + size;
            return off;
        }
        off = next;
    } else {
        int64_t next = qcow2_alloc_clusters(s, cs, errp);
        if (next < 0) {
            return next;
        }
        off = next;
    }
    /* A fresh cluster: its allocation already counts this reference. */
    s->free_byte_offset = off + size;
    return off;
}

int qcow2_free_clusters(BDRVQcow2State *s, uint64_t offset, uint64_t size, Error **errp)
{
    return qcow2_update_refcount(s, offset, size, -1, errp);
}

void qcow2_compressed_range(const BDRVQcow2State *s, uint64_t l2_entry,
                            uint64_t *host_offset, uint64_t *nb_bytes)
{
    uint64_t off = l2_entry & s->cluster_offset_mask;
    uint64_t sectors = ((l2_entry >> s->csize_shift) & s->csize_mask) + 1;
    *host_offset = off;
    *nb_bytes = sectors * 512 - (off & 511);
}

int qcow2_free_l2_entry(BDRVQcow2State *s, uint64_t l2_entry, Error **errp)
{
    uint64_t off, len;
    switch (qcow2_cluster_type(s, l2_entry)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        off = l2_entry & L2E_OFFSET_MASK;
        if (off & (s->cluster_size - 1)) {
            return qcow2_signal_corruption(s, errp, "Cannot free unaligned cluster %#" PRIx64,
                                           off);
        }
        return qcow2_free_clusters(s, off, s->cluster_size, errp);
    case QCOW2_CLUSTER_COMPRESSED:
        qcow2_compressed_range(s, l2_entry, &off, &len);
        return qcow2_update_refcount(s, off, len, -1, errp);
    default:
        return 0;
    }
}

/* ---- whole trees (snapshots) ------------------------------------- */

/*
 * Walks an L1 tree adding addend to each data cluster and each L2
 * table. Stops after 'limit' refcount updates (for undo) and counts the
 * updates done in *ops.
 */
static int walk_tree(BDRVQcow2State *s, const uint64_t *l1, uint32_t l1_size, int addend,
                     uint64_t limit, uint64_t *ops, Error **errp)
{
    *ops = 0;
    for (uint32_t i = 0; i < l1_size; i++) {
        uint64_t l2_offset = l1[i] & L1E_OFFSET_MASK;
        if (!l2_offset) {
            continue;
        }
        if (l2_offset & (s->cluster_size - 1)) {
            return qcow2_signal_corruption(s, errp, "L2 table offset %#" PRIx64
                                           " in L1 entry %u is not cluster aligned",
                                           l2_offset, i);
        }
        uint64_t *l2;
        int ret = qcow2_cache_get(s->l2_cache, l2_offset, false, (void **)&l2, errp);
        if (ret < 0) {
            return ret;
        }
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t entry = be64_to_cpu(l2[j]);
            uint64_t off, len;
            switch (qcow2_cluster_type(s, entry)) {
            case QCOW2_CLUSTER_NORMAL:
            case QCOW2_CLUSTER_ZERO_ALLOC:
                off = entry & L2E_OFFSET_MASK;
                len = s->cluster_size;
                if (off & (s->cluster_size - 1)) {
                    qcow2_cache_put(s->l2_cache, (void **)&l2);
                    return qcow2_signal_corruption(s, errp, "Data cluster offset %#" PRIx64
                                                   " is not cluster aligned", off);
                }
                break;
            case QCOW2_CLUSTER_COMPRESSED:
                qcow2_compressed_range(s, entry, &off, &len);
                break;
            default:
                continue;
            }
            if (*ops >= limit) {
                qcow2_cache_put(s->l2_cache, (void **)&l2);
                return 0;
            }
            ret = qcow2_update_refcount(s, off, len, addend, errp);
            if (ret < 0) {
                qcow2_cache_put(s->l2_cache, (void **)&l2);
                return ret;
            }
            (*ops)++;
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        if (*ops >= limit) {
            return 0;
        }
        ret = qcow2_update_refcount(s, l2_offset, s->cluster_size, addend, errp);
        if (ret < 0) {
            return ret;
        }
        (*ops)++;
    }
    return 0;
}

int qcow2_update_tree_refcounts(BDRVQcow2State *s, const uint64_t *l1, uint32_t l1_size,
                                int addend, Error **errp)
{
    uint64_t ops;
    int ret = walk_tree(s, l1, l1_size, addend, UINT64_MAX, &ops, errp);
    if (ret < 0 && ops) {
        uint64_t undone;
        walk_tree(s, l1, l1_size, -addend, ops, &undone, NULL);
    }
    return ret;
}

int qcow2_fix_copied_flags(BDRVQcow2State *s, Error **errp)
{
    bool l1_changed = false;
    int ret;

    /* A COPIED flag may only reach the disk after the refcount of 1 it
     * promises. */
    ret = qcow2_cache_set_dependency(s->l2_cache, s->refblock_cache, errp);
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        uint64_t l2_offset = s->l1_table[i] & L1E_OFFSET_MASK;
        if (!l2_offset) {
            if (s->l1_table[i]) {
                s->l1_table[i] = 0;
                l1_changed = true;
            }
            continue;
        }
        uint64_t rc;
        ret = qcow2_get_refcount(s, l2_offset >> s->cluster_bits, &rc, errp);
        if (ret < 0) {
            return ret;
        }
        uint64_t want = rc == 1 ? QCOW_OFLAG_COPIED : 0;
        if ((s->l1_table[i] & QCOW_OFLAG_COPIED) != want) {
            s->l1_table[i] = (s->l1_table[i] & ~QCOW_OFLAG_COPIED) | want;
            l1_changed = true;
        }
        if (l2_offset & (s->cluster_size - 1)) {
            continue;  /* reported by check; nothing sane to fix here */
        }
        uint64_t *l2;
        ret = qcow2_cache_get(s->l2_cache, l2_offset, false, (void **)&l2, errp);
        if (ret < 0) {
            return ret;
        }
        bool dirty = false;
        for (uint32_t j = 0; j < s->l2_size; j++) {
            uint64_t entry = be64_to_cpu(l2[j]);
            uint64_t new_entry = entry & ~QCOW_OFLAG_COPIED;
            Qcow2ClusterType type = qcow2_cluster_type(s, entry);
            if (type == QCOW2_CLUSTER_NORMAL || type == QCOW2_CLUSTER_ZERO_ALLOC) {
                uint64_t drc;
                ret = qcow2_get_refcount(s, (entry & L2E_OFFSET_MASK) >> s->cluster_bits, &drc,
                                         errp);
                if (ret < 0) {
                    qcow2_cache_put(s->l2_cache, (void **)&l2);
                    return ret;
                }
                /* Entries of a shared table stay without COPIED: the
                 * table itself must be copied before any write. */
                if (drc == 1 && rc == 1) {
                    new_entry |= QCOW_OFLAG_COPIED;
                }
            }
            if (new_entry != entry) {
                l2[j] = cpu_to_be64(new_entry);
                dirty = true;
            }
        }
        if (dirty) {
            qcow2_cache_mark_dirty(s->l2_cache, l2);
        }
        qcow2_cache_put(s->l2_cache, (void **)&l2);
    }
    if (l1_changed) {
        ret = qcow2_cache_flush(s->refblock_cache, errp);
        if (ret == 0) {
            ret = host_file_sync(s->file, errp);
        }
        if (ret == 0) {
            ret = qcow2_write_l1_entries(s, 0, s->l1_size, errp);
        }
    }
    return ret;
}
