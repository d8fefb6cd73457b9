/*
 * qcow2 driver internals, shared by block/qcow2*.c. Written from the
 * published qcow2 format specification.
 *
 * Metadata write ordering (what keeps a crash down to leaked clusters):
 *   - a cluster's refcount is raised and stable before any table that
 *     points at it (refcount block cache before L2 cache, before L1);
 *   - a refcount is lowered only after the table that stopped pointing
 *     at the cluster is stable (L2/L1 before refcount block cache);
 *   - clusters freed since the last flush are not reused before it;
 *   - new tables (L1, refcount table, snapshot table) are written and
 *     synced before the header points at them; the old ones are freed
 *     afterwards.
 * Steps that cannot be ordered to be consistent at every point (the
 * COPIED flags versus refcounts during snapshot operations) set the
 * dirty bit on v3 images first; opening a dirty image read-write
 * repairs it.
 */
#ifndef BLOCK_QCOW2_H
#define BLOCK_QCOW2_H

#include "block-int.h"

#define QCOW2_MAGIC 0x514649fbu  /* "QFI\xfb" */

#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_DEFAULT_CLUSTER_BITS 16

#define QCOW2_V2_HEADER_LENGTH 72
#define QCOW2_V3_MIN_HEADER_LENGTH 104
#define QCOW2_V3_HEADER_LENGTH 112   /* with compression_type + padding */

/* Implementation limits, the same as QEMU's so images stay portable. */
#define QCOW2_MAX_L1_BYTES (32 * MiB)
#define QCOW2_MAX_REFTABLE_BYTES (8 * MiB)
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOTS_BYTES (64 * MiB)
#define QCOW2_MAX_SNAPSHOT_EXTRA 1024
#define QCOW2_MAX_BACKING_NAME 1023
/* Host offsets are 56 bits wide in L1/L2 entries. */
#define QCOW2_MAX_HOST_OFFSET (((uint64_t)1 << 56) - 1)

/* L1/L2 entry bits */
#define QCOW_OFLAG_COPIED     ((uint64_t)1 << 63)
#define QCOW_OFLAG_COMPRESSED ((uint64_t)1 << 62)
#define QCOW_OFLAG_ZERO       ((uint64_t)1)
#define L1E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define L2E_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define L1E_RESERVED_MASK UINT64_C(0x7f000000000001ff)
#define L2E_STD_RESERVED_MASK UINT64_C(0x3f000000000001fe)
#define REFT_OFFSET_MASK UINT64_C(0xfffffffffffffe00)

/* Feature bits */
#define QCOW2_INCOMPAT_DIRTY       ((uint64_t)1 << 0)
#define QCOW2_INCOMPAT_CORRUPT     ((uint64_t)1 << 1)
#define QCOW2_INCOMPAT_DATA_FILE   ((uint64_t)1 << 2)
#define QCOW2_INCOMPAT_COMPRESSION ((uint64_t)1 << 3)
#define QCOW2_INCOMPAT_EXTL2       ((uint64_t)1 << 4)
#define QCOW2_INCOMPAT_SUPPORTED   (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT)
#define QCOW2_COMPAT_LAZY_REFCOUNTS ((uint64_t)1 << 0)
#define QCOW2_AUTOCLEAR_BITMAPS    ((uint64_t)1 << 0)

/* Header extension types */
#define QCOW2_EXT_END            0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u
#define QCOW2_EXT_BITMAPS        0x23852875u
#define QCOW2_EXT_CRYPTO         0x0537be77u
#define QCOW2_EXT_DATA_FILE      0x44415441u

/* Header field offsets, for in-place updates of single fields. */
#define QCOW2_HDR_SIZE            24
#define QCOW2_HDR_L1_SIZE         36   /* + l1_table_offset at 40: one write */
#define QCOW2_HDR_REFTABLE_OFFSET 48   /* + refcount_table_clusters at 56 */
#define QCOW2_HDR_NB_SNAPSHOTS    60   /* + snapshots_offset at 64 */
#define QCOW2_HDR_INCOMPAT        72
#define QCOW2_HDR_AUTOCLEAR       88

/* Snapshot table entry: fixed part and the extra data we know. */
#define QCOW2_SNAPSHOT_HEADER_SIZE 40
#define QCOW2_SNAPSHOT_EXTRA_SIZE  24   /* vm_state_size_large, disk_size, icount */

typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO_PLAIN,     /* zero flag, no host cluster */
    QCOW2_CLUSTER_ZERO_ALLOC,     /* zero flag, host cluster kept */
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

/* The fixed header fields, decoded (for unit tests too). */
typedef struct Qcow2Header {
    uint32_t magic;
    uint32_t version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;
} Qcow2Header;

typedef struct Qcow2Snapshot {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    char *id_str;
    char *name;
    uint64_t disk_size;
    uint64_t vm_state_size;
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;
    uint32_t extra_data_size;      /* as read; we write at least 24 */
    uint8_t *unknown_extra;        /* extra data beyond what we know */
} Qcow2Snapshot;

typedef struct Qcow2UnknownExt {
    uint32_t magic;
    uint32_t len;
    uint8_t *data;
} Qcow2UnknownExt;

typedef struct Qcow2Cache Qcow2Cache;

typedef struct BDRVQcow2State {
    HostFile *file;
    BlockDriverState *bs;

    /* geometry */
    int cluster_bits;
    uint32_t cluster_size;
    int l2_bits;                   /* log2(entries per L2 table) */
    uint32_t l2_size;              /* entries per L2 table */
    int refcount_order;
    int refcount_bits;
    uint64_t refcount_max;
    int refblock_bits;             /* log2(entries per refcount block) */
    uint32_t refblock_size;        /* entries per refcount block */
    int csize_shift;               /* compressed descriptor: sector count shift */
    uint64_t csize_mask;
    uint64_t cluster_offset_mask;  /* compressed descriptor: host offset bits */

    /* header */
    int qcow_version;
    uint32_t header_length;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint8_t *extra_header;         /* header bytes we do not know, kept */
    uint32_t extra_header_len;
    Qcow2UnknownExt *unknown_exts;
    int nb_unknown_exts;
    uint8_t *feature_table;        /* raw feature name table, for messages */
    uint32_t feature_table_len;
    bool has_bitmaps_ext;
    uint32_t nb_bitmaps;
    uint64_t bitmap_directory_size;
    uint64_t bitmap_directory_offset;

    /* active L1 */
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint64_t *l1_table;            /* host byte order */
    uint32_t l1_vm_state_index;    /* first L1 entry beyond the guest disk */

    /* refcounts */
    uint64_t refcount_table_offset;
    uint32_t refcount_table_size;  /* entries */
    uint64_t *refcount_table;      /* host byte order */
    uint64_t free_cluster_index;   /* where the next free-cluster search starts */
    uint64_t lowest_freed;         /* lowest cluster freed since the last flush */
    uint64_t free_byte_offset;     /* compressed data packing position (0 = none) */

    /* snapshots */
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t snapshots_size;
    Qcow2Snapshot *snapshots;
    bool snapshot_loaded;          /* load_tmp: the active L1 is a snapshot's */

    /* caches */
    Qcow2Cache *l2_cache;
    Qcow2Cache *refblock_cache;
    uint8_t *cluster_buf;          /* decompressed cluster */
    uint64_t cluster_buf_entry;    /* L2 entry it holds (0 = none) */
    uint8_t *compressed_buf;

    uint64_t file_end;             /* host file size as we wrote it */
    bool lazy_refcounts;
    bool dirty_set;                /* we set the dirty bit and must clear it */
    bool corrupt;                  /* metadata corruption found: no more writes */
    bool read_only;
} BDRVQcow2State;

/* ---- qcow2.c ----------------------------------------------------- */
/* Decodes the fixed header from buf[0..len) (len = what was read of the
 * first cluster); checks magic, version and header_length. */
int qcow2_header_decode(Qcow2Header *h, const uint8_t *buf, size_t len, Error **errp);
/* Encodes into buf (header_length bytes for v3, 72 for v2). */
size_t qcow2_header_encode(const Qcow2Header *h, uint8_t *buf);
uint64_t qcow2_size_to_l1(const BDRVQcow2State *s, uint64_t size);
int qcow2_file_pwrite(BDRVQcow2State *s, uint64_t offset, const void *buf, uint64_t bytes,
                      Error **errp);
int qcow2_file_pread(BDRVQcow2State *s, uint64_t offset, void *buf, uint64_t bytes,
                     Error **errp);
int qcow2_write_header_field(BDRVQcow2State *s, uint32_t offset, const void *buf, size_t len,
                             bool sync, Error **errp);
int qcow2_mark_dirty(BDRVQcow2State *s, Error **errp);
int qcow2_mark_clean(BDRVQcow2State *s, Error **errp);
/* Marks the image corrupt (v3 header bit) and refuses further writes. */
int qcow2_signal_corruption(BDRVQcow2State *s, Error **errp, const char *fmt, ...)
    PRINTF_FMT(3, 4);
int qcow2_flush_caches(BDRVQcow2State *s, Error **errp);
/* Refuses writes to host ranges that hold fixed metadata. */
int qcow2_check_overlap(BDRVQcow2State *s, uint64_t offset, uint64_t bytes, bool metadata,
                        Error **errp);
int qcow2_write_full_header(BDRVQcow2State *s, Error **errp);

/* ---- qcow2-cache.c ----------------------------------------------- */
Qcow2Cache *qcow2_cache_create(BDRVQcow2State *s, int num_tables, const char *what);
void qcow2_cache_destroy(Qcow2Cache *c);
/* Returns the table at 'offset' (read from disk unless 'fresh': a
 * new table whose contents the caller fills). */
int qcow2_cache_get(Qcow2Cache *c, uint64_t offset, bool fresh, void **table, Error **errp);
void qcow2_cache_put(Qcow2Cache *c, void **table);
void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table);
int qcow2_cache_flush(Qcow2Cache *c, Error **errp);
/* 'c' must not write anything before 'dependency' is flushed + synced. */
int qcow2_cache_set_dependency(Qcow2Cache *c, Qcow2Cache *dependency, Error **errp);
/* The next write of a 'c' entry is preceded by an fdatasync (data
 * written to new clusters must be stable before tables point at it). */
void qcow2_cache_depends_on_flush(Qcow2Cache *c);
/* Drops the entry for a freed cluster, dirty or not. */
void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset);
/* Drops everything (after the refcount structure was rebuilt). */
void qcow2_cache_invalidate(Qcow2Cache *c);
bool qcow2_cache_is_dirty(const Qcow2Cache *c);
/* Does the cache hold 'offset' (for overlap checks of new allocations)? */
bool qcow2_cache_contains(const Qcow2Cache *c, uint64_t offset);

/* ---- qcow2-refcount.c -------------------------------------------- */
int qcow2_refcount_init(BDRVQcow2State *s, Error **errp);
uint64_t qcow2_refblock_get(const BDRVQcow2State *s, const void *block, uint32_t index);
void qcow2_refblock_set(const BDRVQcow2State *s, void *block, uint32_t index, uint64_t value);
int qcow2_get_refcount(BDRVQcow2State *s, uint64_t cluster_index, uint64_t *refcount,
                       Error **errp);
/* Adds 'addend' to the refcount of every cluster touched by
 * [offset, offset+length). */
int qcow2_update_refcount(BDRVQcow2State *s, uint64_t offset, uint64_t length,
                          int64_t addend, Error **errp);
/* Allocates 'size' bytes of contiguous clusters; returns the host
 * offset or -errno. */
int64_t qcow2_alloc_clusters(BDRVQcow2State *s, uint64_t size, Error **errp);
/* Allocates bytes for compressed data (may share a cluster). */
int64_t qcow2_alloc_bytes(BDRVQcow2State *s, uint32_t size, Error **errp);
int qcow2_free_clusters(BDRVQcow2State *s, uint64_t offset, uint64_t size, Error **errp);
/* Drops the reference an L2 entry holds on its host cluster(s). */
int qcow2_free_l2_entry(BDRVQcow2State *s, uint64_t l2_entry, Error **errp);
/* Host range of a compressed cluster descriptor. */
void qcow2_compressed_range(const BDRVQcow2State *s, uint64_t l2_entry,
                            uint64_t *host_offset, uint64_t *nb_bytes);
/* Adds 'addend' to every cluster reachable from an L1 table (its L2
 * tables and their data clusters); on failure undoes what it did. */
int qcow2_update_tree_refcounts(BDRVQcow2State *s, const uint64_t *l1, uint32_t l1_size,
                                int addend, Error **errp);
/* Makes the COPIED flags of the active L1 and its L2 tables match the
 * refcounts (set iff refcount == 1). */
int qcow2_fix_copied_flags(BDRVQcow2State *s, Error **errp);
/* Grows the refcount table so it has at least 'min_entries' entries. */
int qcow2_grow_refcount_table(BDRVQcow2State *s, uint64_t min_entries, Error **errp);

/* ---- qcow2-cluster.c --------------------------------------------- */
Qcow2ClusterType qcow2_cluster_type(const BDRVQcow2State *s, uint64_t l2_entry);
int qcow2_grow_l1_table(BDRVQcow2State *s, uint64_t min_size, bool exact, Error **errp);
int qcow2_write_l1_entries(BDRVQcow2State *s, uint32_t first, uint32_t count, Error **errp);
/* Maps guest [offset, offset+*bytes): shortens *bytes to the run that
 * has one type (and, for data, contiguous host clusters). */
int qcow2_get_host_offset(BDRVQcow2State *s, uint64_t offset, uint64_t *bytes,
                          uint64_t *host_offset, Qcow2ClusterType *type, Error **errp);
int qcow2_read_at(BDRVQcow2State *s, uint64_t offset, void *buf, uint64_t bytes,
                  Error **errp);
int qcow2_write_at(BDRVQcow2State *s, uint64_t offset, const void *buf, uint64_t bytes,
                   Error **errp);
/* Zeroes or (unmap) deallocates whole clusters; partial ones are
 * written with zeroes. */
int qcow2_zero_at(BDRVQcow2State *s, uint64_t offset, uint64_t bytes, bool unmap,
                  Error **errp);
/* Drops the active tree's references for the L1 entries [first, end). */
int qcow2_drop_l1_range(BDRVQcow2State *s, uint32_t first, uint32_t end, Error **errp);
int qcow2_decompress_cluster(BDRVQcow2State *s, uint64_t l2_entry, Error **errp);
int qcow2_write_compressed(BDRVQcow2State *s, uint64_t offset, const void *buf,
                           uint64_t bytes, Error **errp);

/* ---- qcow2-snapshot.c -------------------------------------------- */
int qcow2_read_snapshots(BDRVQcow2State *s, Error **errp);
void qcow2_free_snapshots(BDRVQcow2State *s);
int qcow2_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp);
int qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp);
int qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp);
int qcow2_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **psn_tab, Error **errp);
int qcow2_snapshot_load_tmp(BlockDriverState *bs, const char *id, const char *name,
                            Error **errp);
/* Encoding of the snapshot table, exposed for unit tests. */
size_t qcow2_snapshot_entry_size(const Qcow2Snapshot *sn);
size_t qcow2_snapshot_encode(const Qcow2Snapshot *sn, uint8_t *buf);
/* Decodes one entry from buf[0..len); returns bytes used or -errno. */
int64_t qcow2_snapshot_decode(Qcow2Snapshot *sn, const uint8_t *buf, size_t len,
                              uint64_t default_disk_size, Error **errp);
void qcow2_snapshot_clear(Qcow2Snapshot *sn);

/* ---- qcow2-check.c ----------------------------------------------- */
int qcow2_check(BlockDriverState *bs, BdrvCheckResult *res, int fix,
                BdrvCheckReport *report, void *opaque, Error **errp);

#endif
