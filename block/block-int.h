/*
 * Inside the block layer: the driver interface, the BlockDriverState
 * every driver fills, and the host-file helper both drivers sit on.
 * Only the files in block/ include this; everyone else uses block/block.h.
 */
#ifndef BLOCK_BLOCK_INT_H
#define BLOCK_BLOCK_INT_H

#include "block/block.h"

/* ---- host files -------------------------------------------------- */

/*
 * A host file opened for image I/O. Reads past the end return zeroes
 * (a qcow2 file may end in the middle of its last cluster). With
 * O_DIRECT, unaligned requests go through an aligned bounce buffer.
 */
typedef struct HostFile {
    int fd;
    char *filename;
    bool writable;
    bool direct;            /* opened with O_DIRECT */
    uint32_t align;         /* O_DIRECT alignment (1 when not direct) */
} HostFile;

int host_file_open(HostFile **pf, const char *filename, bool writable, bool direct,
                   Error **errp);
void host_file_close(HostFile *f);
int host_file_pread(HostFile *f, uint64_t offset, void *buf, uint64_t bytes, Error **errp);
int host_file_pwrite(HostFile *f, uint64_t offset, const void *buf, uint64_t bytes,
                     Error **errp);
/* Makes [offset, offset+bytes) read as zeroes, cheaply when possible. */
int host_file_zero_range(HostFile *f, uint64_t offset, uint64_t bytes, Error **errp);
int host_file_sync(HostFile *f, Error **errp);
int host_file_truncate(HostFile *f, uint64_t size, Error **errp);
int64_t host_file_length(HostFile *f, Error **errp);
int64_t host_file_allocated_size(HostFile *f);
/* SEEK_DATA/SEEK_HOLE: length of the run at offset that is data
 * (*is_data = true) or a hole. Falls back to "all data". */
int64_t host_file_data_run(HostFile *f, uint64_t offset, uint64_t bytes, bool *is_data);

/* ---- drivers ----------------------------------------------------- */

struct BlockDriver {
    const char *format_name;
    size_t state_size;

    /* Score 0..100 for the first bytes of a file (0 = not this format). */
    int (*probe)(const uint8_t *buf, size_t len);

    int (*open)(BlockDriverState *bs, int flags, Error **errp);
    void (*close)(BlockDriverState *bs);
    int (*create)(const char *filename, const BlockCreateOptions *opts, Error **errp);

    /* Requests are within [0, total_size) except vmstate ones. */
    int (*pread)(BlockDriverState *bs, uint64_t offset, void *buf, uint64_t bytes,
                 Error **errp);
    int (*pwrite)(BlockDriverState *bs, uint64_t offset, const void *buf, uint64_t bytes,
                  Error **errp);
    int (*pwrite_zeroes)(BlockDriverState *bs, uint64_t offset, uint64_t bytes, int flags,
                         Error **errp);
    int (*pdiscard)(BlockDriverState *bs, uint64_t offset, uint64_t bytes, Error **errp);
    /* One cluster (or the image's last partial cluster), compressed. */
    int (*pwrite_compressed)(BlockDriverState *bs, uint64_t offset, const void *buf,
                             uint64_t bytes, Error **errp);
    int (*flush)(BlockDriverState *bs, Error **errp);
    int (*truncate)(BlockDriverState *bs, uint64_t size, Error **errp);
    int64_t (*get_allocated_file_size)(BlockDriverState *bs);
    int64_t (*block_status)(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                            int *status, int64_t *map, Error **errp);
    /* Granularity of pwrite_compressed and of allocation (0 = none). */
    uint32_t (*cluster_size)(BlockDriverState *bs);

    int (*snapshot_create)(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp);
    int (*snapshot_goto)(BlockDriverState *bs, const char *id_or_name, Error **errp);
    int (*snapshot_delete)(BlockDriverState *bs, const char *id, const char *name,
                           Error **errp);
    int (*snapshot_list)(BlockDriverState *bs, QEMUSnapshotInfo **psn_tab, Error **errp);
    int (*snapshot_load_tmp)(BlockDriverState *bs, const char *id, const char *name,
                             Error **errp);
    int (*save_vmstate)(BlockDriverState *bs, const void *buf, uint64_t pos, uint64_t size,
                        Error **errp);
    int (*load_vmstate)(BlockDriverState *bs, void *buf, uint64_t pos, uint64_t size,
                        Error **errp);

    int (*check)(BlockDriverState *bs, BdrvCheckResult *res, int fix,
                 BdrvCheckReport *report, void *opaque, Error **errp);
    int (*get_info)(BlockDriverState *bs, BlockImageInfo *info, Error **errp);
};

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque;                /* driver state, drv->state_size bytes */
    char *filename;
    int open_flags;
    bool read_only;
    uint64_t total_size;         /* guest-visible bytes, kept by the driver */

    /* Backing file as recorded in the image, and the opened chain. */
    char *backing_file;          /* as written in the header */
    char *backing_format;        /* from the header extension, or NULL */
    char *full_backing_filename; /* resolved relative to this image */
    BlockDriverState *backing;
};

extern const BlockDriver bdrv_raw;
extern const BlockDriver bdrv_qcow2;

/* Opens bs->backing from bs->backing_file unless flags say not to. */
int bdrv_open_backing(BlockDriverState *bs, int flags, Error **errp);
/* Reads [offset, offset+bytes) of the backing chain as this image's
 * lower layer would see it: zeroes where there is no backing data. */
int bdrv_read_backing(BlockDriverState *bs, uint64_t offset, void *buf, uint64_t bytes,
                      Error **errp);

#endif
