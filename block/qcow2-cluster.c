/*
 * qcow2 cluster mapping: guest offsets to host clusters through the L1
 * table and cached L2 tables; reads, writes with copy-on-write, zero
 * writes and deallocation, compressed clusters, and L1 growth.
 */
#include <zlib.h>

#include "qcow2.h"

/* Largest run of clusters one allocating write handles (bounds the
 * bounce buffer to a few MiB whatever the cluster size). */
#define QCOW2_MAX_ALLOC_BYTES (4 * MiB)

Qcow2ClusterType qcow2_cluster_type(const BDRVQcow2State *s, uint64_t l2_entry)
{
    if (l2_entry & QCOW_OFLAG_COMPRESSED) {
        return QCOW2_CLUSTER_COMPRESSED;
    }
    if (l2_entry & QCOW_OFLAG_ZERO) {
        return (l2_entry & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_ZERO_ALLOC
                                             : QCOW2_CLUSTER_ZERO_PLAIN;
    }
    return (l2_entry & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

/* ---- L1 table ---------------------------------------------------- */

int qcow2_write_l1_entries(BDRVQcow2State *s, uint32_t first, uint32_t count, Error **errp)
{
    if (count == 0) {
        return 0;
    }
    uint64_t *buf = xmalloc((size_t)count * 8);
    for (uint32_t i = 0; i < count; i++) {
        buf[i] = cpu_to_be64(s->l1_table[first + i]);
    }
    uint64_t offset = s->l1_table_offset + (uint64_t)first * 8;
    int ret = qcow2_file_pwrite(s, offset, buf, (uint64_t)count * 8, errp);
    free(buf);
    if (ret < 0) {
        error_prepend(errp, "Could not update the L1 table: ");
        return ret;
    }
    /* Tables below the L1 may be freed right after this returns. */
    return host_file_sync(s->file, errp);
}

int qcow2_grow_l1_table(BDRVQcow2State *s, uint64_t min_size, bool exact, Error **errp)
{
    if (min_size <= s->l1_size) {
        return 0;
    }
    uint64_t new_size = min_size;
    if (!exact) {
        /* Grow by half again so vmstate writes do not regrow it often. */
        uint64_t grown = (uint64_t)s->l1_size + s->l1_size / 2 + 1;
        new_size = MAX(new_size, grown);
    }
    uint64_t max_entries = QCOW2_MAX_L1_BYTES / 8;
    if (new_size > max_entries) {
        if (min_size > max_entries) {
            error_setg(errp, "'%s': L1 table would exceed %" PRIu64 " MiB; use a larger "
                       "cluster size", s->file->filename, QCOW2_MAX_L1_BYTES / MiB);
            return -EFBIG;
        }
        new_size = max_entries;
    }
    if (s->snapshot_loaded) {
        error_setg(errp, "Cannot grow the L1 table of a temporarily loaded snapshot");
        return -EACCES;
    }

    uint64_t bytes = ALIGN_UP(new_size * 8, s->cluster_size);
    int ret = qcow2_flush_caches(s, errp);
    if (ret < 0) {
        return ret;
    }
    int64_t new_offset = qcow2_alloc_clusters(s, bytes, errp);
    if (new_offset < 0) {
        return (int)new_offset;
    }
    /* The new table's refcount must be stable before the header uses it. */
    ret = qcow2_cache_flush(s->refblock_cache, errp);
    uint64_t *buf = xmemalign_zero(4096, bytes);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        buf[i] = cpu_to_be64(s->l1_table[i]);
    }
    if (ret == 0) {
        /* Only the entries: the rest of the last cluster is never read. */
        ret = qcow2_file_pwrite(s, new_offset, buf, new_size * 8, errp);
    }
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    if (ret == 0) {
        uint8_t hdr[12];
        stl_be(hdr, new_size);
        stq_be(hdr + 4, new_offset);
        ret = qcow2_write_header_field(s, QCOW2_HDR_L1_SIZE, hdr, sizeof(hdr), true, errp);
    }
    if (ret < 0) {
        free(buf);
        qcow2_free_clusters(s, new_offset, bytes, NULL);
        error_prepend(errp, "Could not grow the L1 table: ");
        return ret;
    }
    uint64_t old_offset = s->l1_table_offset;
    uint64_t old_bytes = ALIGN_UP((uint64_t)s->l1_size * 8, s->cluster_size);
    for (uint64_t i = 0; i < new_size; i++) {
        buf[i] = be64_to_cpu(buf[i]);
    }
    free(s->l1_table);
    s->l1_table = buf;
    s->l1_table_offset = new_offset;
    s->l1_size = new_size;
    if (old_bytes && old_offset) {
        ret = qcow2_free_clusters(s, old_offset, old_bytes, errp);
    }
    return ret;
}

/* ---- lookups ----------------------------------------------------- */

static int validate_l2_offset(BDRVQcow2State *s, uint64_t l2_offset, uint32_t l1_index,
                              Error **errp)
{
    if (l2_offset & (s->cluster_size - 1)) {
        return qcow2_signal_corruption(s, errp, "L2 table offset %#" PRIx64 " (L1 index %u) "
                                       "is not cluster aligned", l2_offset, l1_index);
    }
    if (l2_offset < s->cluster_size) {
        return qcow2_signal_corruption(s, errp, "L2 table (L1 index %u) overlaps the image "
                                       "header", l1_index);
    }
    return 0;
}

static int validate_data_entry(BDRVQcow2State *s, uint64_t entry, uint64_t l2_offset,
                               uint32_t l2_index, Error **errp)
{
    Qcow2ClusterType type = qcow2_cluster_type(s, entry);
    if ((type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC) &&
        s->qcow_version < 3) {
        return qcow2_signal_corruption(s, errp, "Zero cluster entry in a version 2 image "
                                       "(L2 table %#" PRIx64 ", index %u)", l2_offset,
                                       l2_index);
    }
    if ((type == QCOW2_CLUSTER_NORMAL || type == QCOW2_CLUSTER_ZERO_ALLOC) &&
        (entry & L2E_OFFSET_MASK & (s->cluster_size - 1))) {
        return qcow2_signal_corruption(s, errp, "Cluster offset %#" PRIx64 " is not cluster "
                                       "aligned (L2 table %#" PRIx64 ", index %u)",
                                       entry & L2E_OFFSET_MASK, l2_offset, l2_index);
    }
    return 0;
}

int qcow2_get_host_offset(BDRVQcow2State *s, uint64_t offset, uint64_t *bytes,
                          uint64_t *host_offset, Qcow2ClusterType *type, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    uint64_t in_cluster = offset & (cs - 1);
    uint64_t l2_span = (uint64_t)s->l2_size << s->cluster_bits;
    uint64_t l1_index = offset >> (s->l2_bits + s->cluster_bits);
    uint32_t l2_index = (offset >> s->cluster_bits) & (s->l2_size - 1);
    /* Never look past the end of the L2 table in one go. */
    uint64_t max_bytes = l2_span - (offset & (l2_span - 1));
    uint64_t want = MIN(*bytes, max_bytes);

    *host_offset = 0;
    if (l1_index >= s->l1_size || !(s->l1_table[l1_index] & L1E_OFFSET_MASK)) {
        *type = QCOW2_CLUSTER_UNALLOCATED;
        *bytes = want;
        return 0;
    }
    uint64_t l2_offset = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    int ret = validate_l2_offset(s, l2_offset, l1_index, errp);
    if (ret < 0) {
        return ret;
    }
    uint64_t *l2;
    ret = qcow2_cache_get(s->l2_cache, l2_offset, false, (void **)&l2, errp);
    if (ret < 0) {
        return ret;
    }
    uint64_t entry = be64_to_cpu(l2[l2_index]);
    ret = validate_data_entry(s, entry, l2_offset, l2_index, errp);
    if (ret < 0) {
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        return ret;
    }
    Qcow2ClusterType t = qcow2_cluster_type(s, entry);
    uint64_t nb_clusters = DIV_ROUND_UP(want + in_cluster, cs);
    uint64_t run = 1;

    if (t == QCOW2_CLUSTER_COMPRESSED) {
        *host_offset = entry;  /* the whole descriptor; the caller decodes it */
    } else {
        uint64_t host = entry & L2E_OFFSET_MASK;
        if (host) {
            *host_offset = host + in_cluster;
        }
        for (; run < nb_clusters; run++) {
            uint64_t next = be64_to_cpu(l2[l2_index + run]);
            if (qcow2_cluster_type(s, next) != t) {
                break;
            }
            if ((t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC) &&
                (next & L2E_OFFSET_MASK) != host + run * cs) {
                break;
            }
            if (validate_data_entry(s, next, l2_offset, l2_index + run, NULL) < 0) {
                break;  /* reported when the loop reaches it on its own */
            }
        }
    }
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    *type = t;
    *bytes = MIN(want, run * cs - in_cluster);
    return 0;
}

/* ---- compressed clusters ----------------------------------------- */

int qcow2_decompress_cluster(BDRVQcow2State *s, uint64_t l2_entry, Error **errp)
{
    if (s->cluster_buf_entry == l2_entry) {
        return 0;
    }
    uint64_t host, len;
    qcow2_compressed_range(s, l2_entry, &host, &len);
    /* The sector count field allows at most twice the cluster size. */
    if (len > 2 * (uint64_t)s->cluster_size) {
        len = 2 * (uint64_t)s->cluster_size;
    }
    int ret = qcow2_file_pread(s, host, s->compressed_buf, len, errp);
    if (ret < 0) {
        return ret;
    }
    z_stream zs = { 0 };
    if (inflateInit2(&zs, -12) != Z_OK) {
        error_setg(errp, "zlib initialisation failed");
        return -ENOMEM;
    }
    zs.next_in = s->compressed_buf;
    zs.avail_in = len;
    zs.next_out = s->cluster_buf;
    zs.avail_out = s->cluster_size;
    int zret = inflate(&zs, Z_FINISH);
    bool ok = zs.avail_out == 0 && (zret == Z_STREAM_END || zret == Z_BUF_ERROR || zret == Z_OK);
    inflateEnd(&zs);
    if (!ok) {
        s->cluster_buf_entry = 0;
        error_setg(errp, "'%s': compressed cluster at %#" PRIx64 " is corrupt "
                   "(decompression failed)", s->file->filename, host);
        return -EIO;
    }
    s->cluster_buf_entry = l2_entry;
    return 0;
}

/* ---- reads ------------------------------------------------------- */

/* Reads what lies below this image at guest offset (backing file for
 * the guest disk, zeroes for the VM state area). */
static int read_lower(BDRVQcow2State *s, uint64_t offset, void *buf, uint64_t bytes,
                      Error **errp)
{
    BlockDriverState *bs = s->bs;
    if (bs->backing && offset < bs->total_size) {
        uint64_t n = MIN(bytes, bs->total_size - offset);
        int ret = bdrv_read_backing(bs, offset, buf, n, errp);
        if (ret < 0) {
            return ret;
        }
        if (n < bytes) {
            memset((uint8_t *)buf + n, 0, bytes - n);
        }
        return 0;
    }
    memset(buf, 0, bytes);
    return 0;
}

int qcow2_read_at(BDRVQcow2State *s, uint64_t offset, void *buf, uint64_t bytes,
                  Error **errp)
{
    uint8_t *p = buf;
    while (bytes > 0) {
        uint64_t n = bytes, host;
        Qcow2ClusterType type;
        int ret = qcow2_get_host_offset(s, offset, &n, &host, &type, errp);
        if (ret < 0) {
            return ret;
        }
        switch (type) {
        case QCOW2_CLUSTER_UNALLOCATED:
            ret = read_lower(s, offset, p, n, errp);
            break;
        case QCOW2_CLUSTER_ZERO_PLAIN:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            memset(p, 0, n);
            break;
        case QCOW2_CLUSTER_NORMAL:
            ret = qcow2_file_pread(s, host, p, n, errp);
            break;
        case QCOW2_CLUSTER_COMPRESSED:
            ret = qcow2_decompress_cluster(s, host, errp);
            if (ret == 0) {
                memcpy(p, s->cluster_buf + (offset & (s->cluster_size - 1)), n);
            }
            break;
        }
        if (ret < 0) {
            return ret;
        }
        offset += n;
        p += n;
        bytes -= n;
    }
    return 0;
}

/* ---- writes ------------------------------------------------------ */

/*
 * Returns (held) an L2 table for guest offset that this image owns alone,
 * allocating a new one or copying a shared one. The L1 entry is updated
 * on disk before returning.
 */
static int get_writable_l2(BDRVQcow2State *s, uint64_t offset, uint64_t **ptable,
                           Error **errp)
{
    uint64_t l1_index = offset >> (s->l2_bits + s->cluster_bits);
    int ret;

    *ptable = NULL;
    if (l1_index >= s->l1_size) {
        ret = qcow2_grow_l1_table(s, l1_index + 1, false, errp);
        if (ret < 0) {
            return ret;
        }
    }
    uint64_t l1_entry = s->l1_table[l1_index];
    uint64_t old_offset = l1_entry & L1E_OFFSET_MASK;
    if (old_offset) {
        ret = validate_l2_offset(s, old_offset, l1_index, errp);
        if (ret < 0) {
            return ret;
        }
        if (l1_entry & QCOW_OFLAG_COPIED) {
            return qcow2_cache_get(s->l2_cache, old_offset, false, (void **)ptable, errp);
        }
    }

    /* A new table, empty or a private copy of the shared one. */
    int64_t new_offset = qcow2_alloc_clusters(s, s->cluster_size, errp);
    if (new_offset < 0) {
        return (int)new_offset;
    }
    uint64_t *old = NULL, *table = NULL;
    if (old_offset) {
        ret = qcow2_cache_get(s->l2_cache, old_offset, false, (void **)&old, errp);
        if (ret < 0) {
            goto fail;
        }
    }
    ret = qcow2_cache_get(s->l2_cache, new_offset, true, (void **)&table, errp);
    if (ret < 0) {
        goto fail;
    }
    if (old) {
        /* Everything under a shared table is shared: no COPIED flags. */
        for (uint32_t i = 0; i < s->l2_size; i++) {
            table[i] = old[i] & ~cpu_to_be64(QCOW_OFLAG_COPIED);
        }
        qcow2_cache_put(s->l2_cache, (void **)&old);
    }
    qcow2_cache_mark_dirty(s->l2_cache, table);

    /* Refcount, then the table, then the L1 entry pointing at it. */
    if (!s->lazy_refcounts) {
        ret = qcow2_cache_set_dependency(s->l2_cache, s->refblock_cache, errp);
        if (ret < 0) {
            goto fail;
        }
    }
    ret = qcow2_cache_flush(s->l2_cache, errp);
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    if (ret < 0) {
        goto fail;
    }
    s->l1_table[l1_index] = (uint64_t)new_offset | QCOW_OFLAG_COPIED;
    ret = qcow2_write_l1_entries(s, l1_index, 1, errp);
    if (ret < 0) {
        s->l1_table[l1_index] = l1_entry;
        goto fail;
    }
    if (old_offset) {
        /* The old table stays with its other owners. */
        ret = qcow2_cache_set_dependency(s->refblock_cache, s->l2_cache, errp);
        if (ret == 0) {
            ret = qcow2_free_clusters(s, old_offset, s->cluster_size, errp);
        }
        if (ret < 0) {
            qcow2_cache_put(s->l2_cache, (void **)&table);
            return ret;
        }
    }
    *ptable = table;
    return 0;

fail:
    qcow2_cache_put(s->l2_cache, (void **)&old);
    if (table) {
        qcow2_cache_discard(s->l2_cache, new_offset);
        qcow2_cache_put(s->l2_cache, (void **)&table);
    }
    qcow2_free_clusters(s, new_offset, s->cluster_size, NULL);
    return ret;
}

/* Copies what guest cluster [cluster_offset, +cs) held before into
 * buf[from, to) (COW source for a partial write). */
static int read_old_cluster(BDRVQcow2State *s, uint64_t cluster_offset, uint64_t entry,
                            uint8_t *buf, uint64_t from, uint64_t to, Error **errp)
{
    if (from >= to) {
        return 0;
    }
    switch (qcow2_cluster_type(s, entry)) {
    case QCOW2_CLUSTER_UNALLOCATED:
        return read_lower(s, cluster_offset + from, buf + from, to - from, errp);
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        memset(buf + from, 0, to - from);
        return 0;
    case QCOW2_CLUSTER_NORMAL:
        return qcow2_file_pread(s, (entry & L2E_OFFSET_MASK) + from, buf + from, to - from,
                                errp);
    case QCOW2_CLUSTER_COMPRESSED: {
        int ret = qcow2_decompress_cluster(s, entry, errp);
        if (ret == 0) {
            memcpy(buf + from, s->cluster_buf + from, to - from);
        }
        return ret;
    }
    }
    return 0;
}

/* Does the old content of this cluster read as zeroes without I/O? */
static bool old_cluster_is_zero(BDRVQcow2State *s, uint64_t cluster_offset, uint64_t entry)
{
    switch (qcow2_cluster_type(s, entry)) {
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        return true;
    case QCOW2_CLUSTER_UNALLOCATED:
        return !s->bs->backing || cluster_offset >= s->bs->total_size ||
               cluster_offset >= s->bs->backing->total_size;
    default:
        return false;
    }
}

/*
 * Writes [offset, offset+bytes) (within one L2 table) into 'count'
 * freshly allocated clusters starting at guest cluster index l2_index,
 * filling partial first/last clusters from their old contents, then
 * points the L2 entries at them and releases the old clusters.
 */
static int write_new_clusters(BDRVQcow2State *s, uint64_t *l2, uint32_t l2_index,
                              uint32_t count, uint64_t offset, const uint8_t *data,
                              uint64_t bytes, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    uint64_t cluster_start = offset & ~(cs - 1);
    uint64_t head = offset - cluster_start;
    uint64_t run_bytes = (uint64_t)count * cs;
    uint64_t tail_start = head + bytes;   /* within the run */
    uint64_t first_entry = be64_to_cpu(l2[l2_index]);
    uint64_t last_entry = be64_to_cpu(l2[l2_index + count - 1]);
    uint64_t last_cluster = cluster_start + run_bytes - cs;
    int ret;

    int64_t host = qcow2_alloc_clusters(s, run_bytes, errp);
    if (host < 0) {
        return (int)host;
    }
    ret = qcow2_check_overlap(s, host, run_bytes, false, errp);
    if (ret < 0) {
        goto fail;
    }

    bool head_zero = head == 0 || old_cluster_is_zero(s, cluster_start, first_entry);
    bool tail_zero = tail_start == run_bytes ||
                     old_cluster_is_zero(s, last_cluster, last_entry);
    /* Past the end of the file everything reads as zero already. */
    bool fresh = (uint64_t)host >= s->file_end;

    if (head_zero && tail_zero && (fresh || (head == 0 && tail_start == run_bytes))) {
        ret = qcow2_file_pwrite(s, host + head, data, bytes, errp);
    } else {
        uint8_t *buf = xmalloc(run_bytes);
        ret = read_old_cluster(s, cluster_start, first_entry, buf, 0, head, errp);
        if (ret == 0) {
            /* The write ends inside the run's last cluster. */
            uint64_t from = tail_start - (run_bytes - cs);
            ret = read_old_cluster(s, last_cluster, last_entry, buf + run_bytes - cs,
                                   from, cs, errp);
        }
        if (ret == 0) {
            memcpy(buf + head, data, bytes);
            ret = qcow2_file_pwrite(s, host, buf, run_bytes, errp);
        }
        free(buf);
    }
    if (ret < 0) {
        goto fail;
    }

    /* Data stable before the tables pointing at it; refcounts first. */
    qcow2_cache_depends_on_flush(s->l2_cache);
    if (!s->lazy_refcounts) {
        ret = qcow2_cache_set_dependency(s->l2_cache, s->refblock_cache, errp);
        if (ret < 0) {
            goto fail;
        }
    }
    uint64_t old_entries[QCOW2_MAX_ALLOC_BYTES >> QCOW2_MIN_CLUSTER_BITS];
    bool have_old = false;
    for (uint32_t i = 0; i < count; i++) {
        old_entries[i] = be64_to_cpu(l2[l2_index + i]);
        Qcow2ClusterType t = qcow2_cluster_type(s, old_entries[i]);
        if (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC ||
            t == QCOW2_CLUSTER_COMPRESSED) {
            have_old = true;
        }
        l2[l2_index + i] = cpu_to_be64(((uint64_t)host + (uint64_t)i * cs) | QCOW_OFLAG_COPIED);
    }
    qcow2_cache_mark_dirty(s->l2_cache, l2);

    if (have_old) {
        /* Old clusters lose this reference only once the L2 table no
         * longer points at them on disk. */
        ret = qcow2_cache_set_dependency(s->refblock_cache, s->l2_cache, errp);
        for (uint32_t i = 0; i < count && ret == 0; i++) {
            ret = qcow2_free_l2_entry(s, old_entries[i], errp);
        }
    }
    return ret;

fail:
    qcow2_free_clusters(s, host, run_bytes, NULL);
    return ret;
}

/* Writes within one L2 table's range. */
static int write_in_l2(BDRVQcow2State *s, uint64_t offset, const uint8_t *data,
                       uint64_t bytes, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    uint64_t *l2;
    int ret = get_writable_l2(s, offset, &l2, errp);
    if (ret < 0) {
        return ret;
    }
    uint64_t l2_table_offset = s->l1_table[offset >> (s->l2_bits + s->cluster_bits)] &
                               L1E_OFFSET_MASK;
    uint32_t max_alloc = QCOW2_MAX_ALLOC_BYTES >> s->cluster_bits;

    while (bytes > 0 && ret == 0) {
        uint32_t l2_index = (offset >> s->cluster_bits) & (s->l2_size - 1);
        uint64_t in_cluster = offset & (cs - 1);
        uint32_t nb_clusters = DIV_ROUND_UP(bytes + in_cluster, cs);
        uint64_t entry = be64_to_cpu(l2[l2_index]);

        ret = validate_data_entry(s, entry, l2_table_offset, l2_index, errp);
        if (ret < 0) {
            break;
        }
        bool in_place = qcow2_cluster_type(s, entry) == QCOW2_CLUSTER_NORMAL &&
                        (entry & QCOW_OFLAG_COPIED);
        uint32_t run = 1;
        if (in_place) {
            uint64_t host = entry & L2E_OFFSET_MASK;
            while (run < nb_clusters) {
                uint64_t next = be64_to_cpu(l2[l2_index + run]);
                if (qcow2_cluster_type(s, next) != QCOW2_CLUSTER_NORMAL ||
                    !(next & QCOW_OFLAG_COPIED) ||
                    (next & L2E_OFFSET_MASK) != host + (uint64_t)run * cs) {
                    break;
                }
                run++;
            }
            uint64_t n = MIN(bytes, (uint64_t)run * cs - in_cluster);
            ret = qcow2_check_overlap(s, host + in_cluster, n, false, errp);
            if (ret == 0) {
                ret = qcow2_file_pwrite(s, host + in_cluster, data, n, errp);
            }
            offset += n;
            data += n;
            bytes -= n;
            continue;
        }
        while (run < nb_clusters && run < max_alloc) {
            uint64_t next = be64_to_cpu(l2[l2_index + run]);
            if (qcow2_cluster_type(s, next) == QCOW2_CLUSTER_NORMAL &&
                (next & QCOW_OFLAG_COPIED)) {
                break;
            }
            if (validate_data_entry(s, next, l2_table_offset, l2_index + run, NULL) < 0) {
                break;
            }
            run++;
        }
        uint64_t n = MIN(bytes, (uint64_t)run * cs - in_cluster);
        ret = write_new_clusters(s, l2, l2_index, run, offset, data, n, errp);
        offset += n;
        data += n;
        bytes -= n;
    }
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    return ret;
}

int qcow2_write_at(BDRVQcow2State *s, uint64_t offset, const void *buf, uint64_t bytes,
                   Error **errp)
{
    const uint8_t *p = buf;
    uint64_t l2_span = (uint64_t)s->l2_size << s->cluster_bits;
    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; writes are refused", s->file->filename);
        return -EIO;
    }
    if (s->lazy_refcounts && !s->dirty_set) {
        int ret = qcow2_mark_dirty(s, errp);
        if (ret < 0) {
            return ret;
        }
    }
    while (bytes > 0) {
        uint64_t n = MIN(bytes, l2_span - (offset & (l2_span - 1)));
        int ret = write_in_l2(s, offset, p, n, errp);
        if (ret < 0) {
            return ret;
        }
        offset += n;
        p += n;
        bytes -= n;
    }
    return 0;
}

/* ---- zeroes and deallocation ------------------------------------- */

static int zero_in_l2(BDRVQcow2State *s, uint64_t offset, uint64_t nb_clusters, bool unmap,
                      Error **errp)
{
    uint64_t *l2;
    int ret = get_writable_l2(s, offset, &l2, errp);
    if (ret < 0) {
        return ret;
    }
    uint32_t first = (offset >> s->cluster_bits) & (s->l2_size - 1);
    uint64_t *old = xmalloc(nb_clusters * sizeof(uint64_t));
    bool have_old = false, changed = false;

    for (uint64_t i = 0; i < nb_clusters; i++) {
        uint64_t cluster_offset = offset + (i << s->cluster_bits);
        uint64_t entry = be64_to_cpu(l2[first + i]);
        Qcow2ClusterType type = qcow2_cluster_type(s, entry);
        uint64_t new_entry;
        old[i] = 0;

        /* What an unallocated entry would read here: no backing data? */
        bool below_is_zero = old_cluster_is_zero(s, cluster_offset, 0);
        bool release = true;    /* the old host cluster loses this reference */

        if (type == QCOW2_CLUSTER_ZERO_PLAIN ||
            (type == QCOW2_CLUSTER_UNALLOCATED && below_is_zero)) {
            continue;  /* reads as zeroes already */
        } else if (type == QCOW2_CLUSTER_ZERO_ALLOC && !unmap) {
            continue;
        } else if (s->qcow_version >= 3 && !unmap && type == QCOW2_CLUSTER_NORMAL &&
                   (entry & QCOW_OFLAG_COPIED)) {
            /* Keep the allocation for later writes, read as zero now. */
            new_entry = entry | QCOW_OFLAG_ZERO;
            release = false;
        } else if (below_is_zero) {
            new_entry = 0;   /* unallocated reads as zero: the simplest form */
        } else {
            /* Only v3 gets here: v2 callers checked there is no backing. */
            new_entry = QCOW_OFLAG_ZERO;
        }
        if (type == QCOW2_CLUSTER_UNALLOCATED || type == QCOW2_CLUSTER_ZERO_PLAIN) {
            release = false;
        }
        if (release) {
            old[i] = entry;
            have_old = true;
        }
        l2[first + i] = cpu_to_be64(new_entry);
        changed = true;
    }
    if (changed) {
        qcow2_cache_mark_dirty(s->l2_cache, l2);
    }
    if (have_old) {
        ret = qcow2_cache_set_dependency(s->refblock_cache, s->l2_cache, errp);
        for (uint64_t i = 0; i < nb_clusters && ret == 0; i++) {
            if (old[i]) {
                ret = qcow2_free_l2_entry(s, old[i], errp);
            }
        }
    }
    free(old);
    qcow2_cache_put(s->l2_cache, (void **)&l2);
    return ret;
}

/* Is the L1 entry for offset empty, with nothing below it to show? */
static bool unallocated_l2_reads_zero(BDRVQcow2State *s, uint64_t offset)
{
    uint64_t l1_index = offset >> (s->l2_bits + s->cluster_bits);
    if (l1_index < s->l1_size && (s->l1_table[l1_index] & L1E_OFFSET_MASK)) {
        return false;
    }
    return old_cluster_is_zero(s, offset, 0);
}

/* Can whole clusters be made to read as zero by metadata alone? */
static bool can_zero_by_metadata(BDRVQcow2State *s, uint64_t offset, uint64_t bytes)
{
    if (s->qcow_version >= 3) {
        return true;
    }
    /* v2 can only deallocate, which exposes the backing file. */
    BlockDriverState *bs = s->bs;
    return !bs->backing || offset >= bs->backing->total_size || offset >= bs->total_size;
}

int qcow2_zero_at(BDRVQcow2State *s, uint64_t offset, uint64_t bytes, bool unmap,
                  Error **errp)
{
    const uint64_t cs = s->cluster_size;
    uint64_t l2_span = (uint64_t)s->l2_size << s->cluster_bits;
    static const uint64_t zero_chunk = 256 * KiB;
    int ret = 0;

    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; writes are refused", s->file->filename);
        return -EIO;
    }
    if (s->lazy_refcounts && !s->dirty_set) {
        ret = qcow2_mark_dirty(s, errp);
        if (ret < 0) {
            return ret;
        }
    }
    uint8_t *zero = NULL;
    while (bytes > 0 && ret == 0) {
        uint64_t in_cluster = offset & (cs - 1);
        /* The guest disk may end in the middle of a cluster: its last
         * cluster counts as whole when the request reaches the end. */
        bool reaches_end = offset + bytes == s->bs->total_size;
        uint64_t whole = 0;
        if (in_cluster == 0) {
            whole = (reaches_end ? ALIGN_UP(bytes, cs) : ALIGN_DOWN(bytes, cs));
            whole = MIN(whole, l2_span - (offset & (l2_span - 1)));
        }
        if (whole && !unallocated_l2_reads_zero(s, offset)) {
            /* fall through to the per-table work below */
        } else if (whole) {
            /* No L2 table and nothing below: already zero, skip it. */
            uint64_t n = MIN(whole, bytes);
            offset += n;
            bytes -= n;
            continue;
        }
        if (whole && can_zero_by_metadata(s, offset, whole)) {
            ret = zero_in_l2(s, offset, whole >> s->cluster_bits, unmap, errp);
            uint64_t n = MIN(whole, bytes);
            offset += n;
            bytes -= n;
            continue;
        }
        /* Partial cluster (or v2 over a backing file): write zeroes. */
        uint64_t n = whole ? MIN(whole, zero_chunk)
                           : MIN(bytes, MIN(cs - in_cluster, zero_chunk));
        n = MIN(n, bytes);
        uint64_t host;
        Qcow2ClusterType type;
        uint64_t probe = n;
        ret = qcow2_get_host_offset(s, offset, &probe, &host, &type, errp);
        if (ret < 0) {
            break;
        }
        n = probe;
        if (type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC ||
            (type == QCOW2_CLUSTER_UNALLOCATED &&
             old_cluster_is_zero(s, offset & ~(cs - 1), 0))) {
            offset += n;
            bytes -= n;
            continue;
        }
        if (!zero) {
            zero = xzalloc(zero_chunk);
        }
        ret = qcow2_write_at(s, offset, zero, n, errp);
        offset += n;
        bytes -= n;
    }
    free(zero);
    return ret;
}

int qcow2_drop_l1_range(BDRVQcow2State *s, uint32_t first, uint32_t end, Error **errp)
{
    end = MIN(end, s->l1_size);
    if (first >= end) {
        return 0;
    }
    uint32_t count = end - first;
    uint64_t *old = xmalloc((size_t)count * 8);
    memcpy(old, s->l1_table + first, (size_t)count * 8);
    bool any = false;
    for (uint32_t i = 0; i < count; i++) {
        if (old[i] & L1E_OFFSET_MASK) {
            any = true;
        }
    }
    int ret = 0;
    if (any) {
        /* Tables written before the L1 stops pointing at them, and the
         * L1 stable before their refcounts drop. */
        ret = qcow2_flush_caches(s, errp);
        if (ret == 0) {
            memset(s->l1_table + first, 0, (size_t)count * 8);
            ret = qcow2_write_l1_entries(s, first, count, errp);
            if (ret < 0) {
                memcpy(s->l1_table + first, old, (size_t)count * 8);
            }
        }
        if (ret == 0) {
            ret = qcow2_update_tree_refcounts(s, old, count, -1, errp);
        }
    }
    free(old);
    return ret;
}

/* ---- compressed writes ------------------------------------------- */

/* Raw deflate with a 4 KiB window, as the format defines. Returns the
 * compressed size, or 0 if it does not fit in out_len. */
static size_t compress_cluster(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    z_stream zs = { 0 };
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return 0;
    }
    zs.next_in = (uint8_t *)in;
    zs.avail_in = in_len;
    zs.next_out = out;
    zs.avail_out = out_len;
    int zret = deflate(&zs, Z_FINISH);
    size_t n = out_len - zs.avail_out;
    deflateEnd(&zs);
    return zret == Z_STREAM_END ? n : 0;
}

int qcow2_write_compressed(BDRVQcow2State *s, uint64_t offset, const void *buf,
                           uint64_t bytes, Error **errp)
{
    const uint64_t cs = s->cluster_size;
    int ret;

    if (offset & (cs - 1)) {
        error_setg(errp, "Compressed writes must be cluster aligned");
        return -EINVAL;
    }
    if (bytes != cs && offset + bytes != s->bs->total_size) {
        error_setg(errp, "Compressed writes must cover exactly one cluster");
        return -EINVAL;
    }
    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; writes are refused", s->file->filename);
        return -EIO;
    }
    const uint8_t *data = buf;
    uint8_t *padded = NULL;
    if (bytes < cs) {
        padded = xzalloc(cs);
        memcpy(padded, buf, bytes);
        data = padded;
    }
    uint8_t *out = xmalloc(cs);
    /* Must save at least a sector, or it is not worth a compressed cluster. */
    size_t clen = compress_cluster(data, cs, out, cs - 512);
    if (clen == 0) {
        free(out);
        ret = qcow2_write_at(s, offset, data, bytes, errp);
        free(padded);
        return ret;
    }

    uint64_t *l2;
    ret = get_writable_l2(s, offset, &l2, errp);
    if (ret < 0) {
        goto out;
    }
    uint32_t l2_index = (offset >> s->cluster_bits) & (s->l2_size - 1);
    uint64_t old_entry = be64_to_cpu(l2[l2_index]);

    int64_t host = qcow2_alloc_bytes(s, clen, errp);
    if (host < 0) {
        ret = (int)host;
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        goto out;
    }
    uint64_t nb_sectors = ((host + clen - 1) >> 9) - (host >> 9) + 1;
    if ((uint64_t)host > s->cluster_offset_mask || nb_sectors - 1 > s->csize_mask) {
        error_setg(errp, "'%s': compressed cluster out of descriptor range",
                   s->file->filename);
        ret = -EFBIG;
    } else {
        ret = qcow2_check_overlap(s, host, clen, false, errp);
    }
    if (ret == 0) {
        ret = qcow2_file_pwrite(s, host, out, clen, errp);
    }
    if (ret < 0) {
        qcow2_update_refcount(s, host, clen, -1, NULL);
        qcow2_cache_put(s->l2_cache, (void **)&l2);
        goto out;
    }
    qcow2_cache_depends_on_flush(s->l2_cache);
    if (!s->lazy_refcounts) {
        ret = qcow2_cache_set_dependency(s->l2_cache, s->refblock_cache, errp);
    }
    if (ret == 0) {
        uint64_t entry = QCOW_OFLAG_COMPRESSED | ((nb_sectors - 1) << s->csize_shift) |
                         (uint64_t)host;
        l2[l2_index] = cpu_to_be64(entry);
        qcow2_cache_mark_dirty(s->l2_cache, l2);
        Qcow2ClusterType t = qcow2_cluster_type(s, old_entry);
        if (t == QCOW2_CLUSTER_NORMAL || t == QCOW2_CLUSTER_ZERO_ALLOC ||
            t == QCOW2_CLUSTER_COMPRESSED) {
            ret = qcow2_cache_set_dependency(s->refblock_cache, s->l2_cache, errp);
            if (ret == 0) {
                ret = qcow2_free_l2_entry(s, old_entry, errp);
            }
        }
    }
    qcow2_cache_put(s->l2_cache, (void **)&l2);
out:
    free(out);
    free(padded);
    return ret;
}
