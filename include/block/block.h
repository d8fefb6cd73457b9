/*
 * The block layer: disk images behind one small API. Drivers: "raw"
 * (a host file) and "qcow2". Offsets and lengths are in bytes and need
 * not be sector-aligned. Every function that can fail returns a negative
 * errno value and fills errp (if given) with a message naming the file.
 */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <time.h>
#include "util/osdep.h"
#include "util/error.h"

typedef struct BlockDriverState BlockDriverState;
typedef struct BlockDriver BlockDriver;

/* bdrv_open() flags */
enum {
    BDRV_O_RDWR       = 1 << 0,  /* open read-write (default read-only) */
    BDRV_O_NO_BACKING = 1 << 1,  /* do not open the backing file */
    BDRV_O_CHECK      = 1 << 2,  /* opened for check/repair: allow corrupt images */
    BDRV_O_NOCACHE    = 1 << 3,  /* O_DIRECT where possible (benchmarks) */
    BDRV_O_UNMAP      = 1 << 4,  /* discard requests may free clusters */
    BDRV_O_SNAPSHOT   = 1 << 5,  /* writes go to a temporary overlay (-snapshot) */
    BDRV_O_FORCE_SHARE= 1 << 6,  /* skip image locking */
};

/* bdrv_pwrite_zeroes() flags */
enum {
    BDRV_REQ_MAY_UNMAP = 1 << 0,  /* zeroed range may be deallocated */
};

/* Opens 'filename'. 'format' is "raw", "qcow2" or NULL to probe. A file
 * that probes as raw is opened as raw only when format is "raw" or NULL
 * and the probe found no known format signature; a qcow2 signature is
 * never read as raw unless format="raw" was given explicitly. */
int bdrv_open(BlockDriverState **pbs, const char *filename, const char *format,
              int flags, Error **errp);
void bdrv_close(BlockDriverState *bs);

/* Resolves a backing file name as written in an image: relative names
 * are relative to the image's directory. Caller frees. */
char *bdrv_path_combine(const char *base_image, const char *relative);

/* Format probing only: returns "qcow2" or "raw" (never NULL). */
const char *bdrv_probe_format(const char *filename, Error **errp);

const char *bdrv_get_format_name(const BlockDriverState *bs);
const char *bdrv_get_filename(const BlockDriverState *bs);
bool bdrv_is_read_only(const BlockDriverState *bs);
/* Guest-visible size in bytes. */
int64_t bdrv_getlength(BlockDriverState *bs);
/* Bytes the image occupies on the host (allocated blocks). */
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
BlockDriverState *bdrv_get_backing(BlockDriverState *bs);

int bdrv_pread(BlockDriverState *bs, int64_t offset, void *buf, int64_t bytes, Error **errp);
int bdrv_pwrite(BlockDriverState *bs, int64_t offset, const void *buf, int64_t bytes, Error **errp);
int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags, Error **errp);
int bdrv_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes, Error **errp);
int bdrv_flush(BlockDriverState *bs, Error **errp);
/* Writes one whole cluster compressed (qcow2; convert -c). 'offset' is
 * cluster aligned and 'bytes' the cluster size, or less for the last
 * cluster of the image. Data that does not compress is stored plainly. */
int bdrv_pwrite_compressed(BlockDriverState *bs, int64_t offset, const void *buf,
                           int64_t bytes, Error **errp);
/* Allocation granularity (qcow2 cluster size), 0 for raw. */
uint32_t bdrv_get_cluster_size(BlockDriverState *bs);
/* Grows (or for raw, also shrinks) the guest-visible size. */
int bdrv_truncate(BlockDriverState *bs, int64_t offset, Error **errp);

/* Allocation status of [offset, offset+bytes): returns the length of the
 * run starting at offset with the same status, sets *status and, for
 * data stored in this image, *map (host offset) when known. */
enum {
    BDRV_BLOCK_DATA      = 1 << 0,  /* reads come from this image's data */
    BDRV_BLOCK_ZERO      = 1 << 1,  /* reads return zeroes */
    BDRV_BLOCK_ALLOCATED = 1 << 2,  /* allocated in this layer (not backing) */
    BDRV_BLOCK_COMPRESSED= 1 << 3,
    BDRV_BLOCK_OFFSET_VALID = 1 << 4,
};
int64_t bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                          int *status, int64_t *map, Error **errp);

/* ---- image creation ---------------------------------------------- */

typedef struct BlockCreateOptions {
    const char *format;          /* "raw" or "qcow2" */
    uint64_t size;               /* guest-visible bytes (0 = from backing) */
    uint32_t cluster_size;       /* qcow2: 0 = 64 KiB */
    int compat_version;          /* qcow2: 2 (compat=0.10) or 3 (1.1); 0 = 3 */
    const char *backing_file;
    const char *backing_fmt;
    bool lazy_refcounts;
    int refcount_bits;           /* 0 = 16 */
    const char *preallocation;   /* NULL/"off", "metadata", "full" */
} BlockCreateOptions;

int bdrv_create(const char *filename, const BlockCreateOptions *opts, Error **errp);

/* ---- internal snapshots ------------------------------------------ */

typedef struct QEMUSnapshotInfo {
    char id_str[128];
    char name[256];
    uint64_t vm_state_size;      /* bytes of saved VM state, 0 = disk-only */
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount;             /* -1ULL when not recorded */
    uint64_t disk_size;          /* guest-visible size when taken */
} QEMUSnapshotInfo;

bool bdrv_can_snapshot(BlockDriverState *bs);
/* Creates a snapshot of the current disk state. sn->id_str may be empty
 * (a new id is allocated and written back into *sn). */
int bdrv_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp);
/* Reverts the active disk to the snapshot with this id or name. */
int bdrv_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp);
/* Deletes by id and/or name (NULL = any). */
int bdrv_snapshot_delete(BlockDriverState *bs, const char *id, const char *name, Error **errp);
/* Fills a newly allocated array (caller frees); returns the count. */
int bdrv_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **psn_tab, Error **errp);
/* Finds by id first, then by name; returns 0 and fills *sn, or -ENOENT. */
int bdrv_snapshot_find(BlockDriverState *bs, QEMUSnapshotInfo *sn, const char *id_or_name);
/* Read-only image: make reads see the snapshot's view instead. */
int bdrv_snapshot_load_tmp(BlockDriverState *bs, const char *id, const char *name, Error **errp);

/* VM state area: a byte range after the guest-visible disk in the
 * active image, captured by the next snapshot_create. */
int bdrv_save_vmstate(BlockDriverState *bs, const void *buf, int64_t pos, int64_t size, Error **errp);
int bdrv_load_vmstate(BlockDriverState *bs, void *buf, int64_t pos, int64_t size, Error **errp);

/* ---- image information and repair -------------------------------- */

typedef struct BdrvCheckResult {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    int64_t image_end_offset;
    int64_t allocated_clusters;
    int64_t total_clusters;
    int64_t fragmented_clusters;
    int64_t compressed_clusters;
} BdrvCheckResult;

enum {
    BDRV_FIX_LEAKS  = 1 << 0,
    BDRV_FIX_ERRORS = 1 << 1,
};

/* Checks metadata consistency; with fix flags repairs what it can.
 * Messages about individual problems go to 'report' (may be NULL). */
typedef void BdrvCheckReport(void *opaque, const char *msg);
int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix,
               BdrvCheckReport *report, void *opaque, Error **errp);

typedef struct BlockImageInfo {
    const char *format;
    int64_t virtual_size;
    int64_t actual_size;
    uint32_t cluster_size;       /* 0 if not applicable */
    bool dirty;
    /* qcow2 specific */
    int qcow2_version;           /* 2 or 3 */
    const char *compat;          /* "0.10" or "1.1" */
    const char *compression_type;/* "zlib" */
    bool lazy_refcounts;
    int refcount_bits;
    bool corrupt;
    bool extended_l2;
    char *backing_file;          /* owned by the BDS */
    char *backing_fmt;
    char *full_backing_filename; /* backing_file resolved against the image */
} BlockImageInfo;

int bdrv_get_info(BlockDriverState *bs, BlockImageInfo *info, Error **errp);

#endif
