/*
 * The generic block layer: format probing, opening drivers and backing
 * chains, request bounds checks, and the dispatch of every operation to
 * the image's driver.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block-int.h"

/* A backing chain longer than this is refused (and loops end here). */
#define BDRV_MAX_CHAIN_DEPTH 32
/* Probing looks at this many bytes of the file. */
#define BDRV_PROBE_BYTES 4096

static const BlockDriver *const block_drivers[] = {
    &bdrv_qcow2,
    &bdrv_raw,
};

static const BlockDriver *find_driver(const char *format)
{
    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        if (!strcmp(block_drivers[i]->format_name, format)) {
            return block_drivers[i];
        }
    }
    return NULL;
}

static const BlockDriver *probe_buffer(const uint8_t *buf, size_t len)
{
    const BlockDriver *best = &bdrv_raw;
    int best_score = 0;
    for (size_t i = 0; i < ARRAY_SIZE(block_drivers); i++) {
        const BlockDriver *drv = block_drivers[i];
        int score = drv->probe ? drv->probe(buf, len) : 0;
        if (score > best_score) {
            best_score = score;
            best = drv;
        }
    }
    return best;
}

static const BlockDriver *probe_file(const char *filename, Error **errp)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", filename);
        return NULL;
    }
    uint8_t buf[BDRV_PROBE_BYTES];
    ssize_t n = full_pread(fd, buf, sizeof(buf), 0);
    close(fd);
    if (n < 0) {
        error_setg_errno(errp, -n, "Could not read '%s'", filename);
        return NULL;
    }
    return probe_buffer(buf, n);
}

const char *bdrv_probe_format(const char *filename, Error **errp)
{
    const BlockDriver *drv = probe_file(filename, errp);
    return drv ? drv->format_name : "raw";
}

char *bdrv_path_combine(const char *base_image, const char *relative)
{
    if (relative[0] == '/') {
        return xstrdup(relative);
    }
    const char *slash = strrchr(base_image, '/');
    if (!slash) {
        return xstrdup(relative);
    }
    return xasprintf("%.*s/%s", (int)(slash - base_image), base_image, relative);
}

static int open_with_depth(BlockDriverState **pbs, const char *filename, const char *format,
                           int flags, int depth, Error **errp);

static void free_bs(BlockDriverState *bs)
{
    free(bs->filename);
    free(bs->backing_file);
    free(bs->backing_format);
    free(bs->full_backing_filename);
    free(bs->opaque);
    free(bs);
}

/* -snapshot: a throw-away qcow2 overlay on top of the image. The file
 * is unlinked as soon as it is open, so nothing is left behind. */
static int open_temp_overlay(BlockDriverState **pbs, BlockDriverState *base, int flags,
                             Error **errp)
{
    const char *tmpdir = getenv("TMPDIR");
    char *path = xasprintf("%s/minipc-snapshot-XXXXXX", tmpdir ? tmpdir : "/var/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not create a temporary overlay in '%s'",
                         tmpdir ? tmpdir : "/var/tmp");
        free(path);
        return -EIO;
    }
    close(fd);

    char *abs_base = realpath(base->filename, NULL);
    BlockCreateOptions opts = {
        .format = "qcow2",
        .size = base->total_size,
        .backing_file = abs_base ? abs_base : base->filename,
        .backing_fmt = base->drv->format_name,
    };
    int ret = bdrv_create(path, &opts, errp);
    free(abs_base);
    if (ret == 0) {
        ret = open_with_depth(pbs, path, "qcow2",
                              (flags | BDRV_O_RDWR) & ~BDRV_O_SNAPSHOT, 1, errp);
    }
    unlink(path);
    free(path);
    return ret;
}

static int open_with_depth(BlockDriverState **pbs, const char *filename, const char *format,
                           int flags, int depth, Error **errp)
{
    *pbs = NULL;
    if (depth > BDRV_MAX_CHAIN_DEPTH) {
        error_setg(errp, "Could not open '%s': backing chain is deeper than %d images "
                   "(is there a loop?)", filename, BDRV_MAX_CHAIN_DEPTH);
        return -ELOOP;
    }

    const BlockDriver *drv;
    if (format) {
        drv = find_driver(format);
        if (!drv) {
            error_setg(errp, "Could not open '%s': Unknown driver '%s'", filename, format);
            return -EINVAL;
        }
    } else {
        drv = probe_file(filename, errp);
        if (!drv) {
            return -ENOENT;
        }
    }

    BlockDriverState *bs = XNEW(BlockDriverState);
    bs->drv = drv;
    bs->opaque = xzalloc(drv->state_size ? drv->state_size : 1);
    bs->filename = xstrdup(filename);
    bs->open_flags = flags & ~BDRV_O_SNAPSHOT;
    bs->read_only = !(flags & BDRV_O_RDWR) || (flags & BDRV_O_SNAPSHOT);

    int open_flags = bs->read_only ? (flags & ~BDRV_O_RDWR) : flags;
    int ret = drv->open(bs, open_flags & ~BDRV_O_SNAPSHOT, errp);
    if (ret < 0) {
        free_bs(bs);
        return ret;
    }

    if (bs->backing_file && !(flags & BDRV_O_NO_BACKING)) {
        const char *bfmt = bs->backing_format;
        BlockDriverState *backing;
        ret = open_with_depth(&backing, bs->full_backing_filename, bfmt,
                              flags & ~(BDRV_O_RDWR | BDRV_O_SNAPSHOT | BDRV_O_CHECK),
                              depth + 1, errp);
        if (ret < 0) {
            if (ret != -ELOOP) {  /* one prefix, not one per level */
                error_prepend(errp, "Could not open backing file: ");
            }
            bdrv_close(bs);
            return ret;
        }
        bs->backing = backing;
    }

    if (flags & BDRV_O_SNAPSHOT) {
        BlockDriverState *overlay;
        ret = open_temp_overlay(&overlay, bs, flags, errp);
        bdrv_close(bs);
        if (ret < 0) {
            return ret;
        }
        bs = overlay;
    }
    *pbs = bs;
    return 0;
}

int bdrv_open(BlockDriverState **pbs, const char *filename, const char *format,
              int flags, Error **errp)
{
    return open_with_depth(pbs, filename, format, flags, 0, errp);
}

int bdrv_open_backing(BlockDriverState *bs, int flags, Error **errp)
{
    if (bs->backing || !bs->backing_file) {
        return 0;
    }
    return open_with_depth(&bs->backing, bs->full_backing_filename, bs->backing_format,
                           flags & ~(BDRV_O_RDWR | BDRV_O_SNAPSHOT | BDRV_O_CHECK), 1, errp);
}

void bdrv_close(BlockDriverState *bs)
{
    if (!bs) {
        return;
    }
    if (!bs->read_only && bs->drv->flush) {
        Error *err = NULL;
        if (bs->drv->flush(bs, &err) < 0) {
            warn_report_err(err);
        }
    }
    bs->drv->close(bs);
    bdrv_close(bs->backing);
    free_bs(bs);
}

const char *bdrv_get_format_name(const BlockDriverState *bs)
{
    return bs->drv->format_name;
}

const char *bdrv_get_filename(const BlockDriverState *bs)
{
    return bs->filename;
}

bool bdrv_is_read_only(const BlockDriverState *bs)
{
    return bs->read_only;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    return (int64_t)bs->total_size;
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    return bs->drv->get_allocated_file_size ? bs->drv->get_allocated_file_size(bs) : -ENOTSUP;
}

BlockDriverState *bdrv_get_backing(BlockDriverState *bs)
{
    return bs->backing;
}

/* ---- requests ---------------------------------------------------- */

static int check_request(BlockDriverState *bs, int64_t offset, int64_t bytes, bool write,
                         Error **errp)
{
    if (offset < 0 || bytes < 0 || (uint64_t)offset > bs->total_size ||
        (uint64_t)bytes > bs->total_size - (uint64_t)offset) {
        error_setg(errp, "'%s': request [%" PRId64 ", +%" PRId64 ") is outside the "
                   "image (%" PRIu64 " bytes)", bs->filename, offset, bytes, bs->total_size);
        return -EIO;
    }
    if (write && bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    return 0;
}

int bdrv_pread(BlockDriverState *bs, int64_t offset, void *buf, int64_t bytes, Error **errp)
{
    int ret = check_request(bs, offset, bytes, false, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    return bs->drv->pread(bs, offset, buf, bytes, errp);
}

int bdrv_pwrite(BlockDriverState *bs, int64_t offset, const void *buf, int64_t bytes,
                Error **errp)
{
    int ret = check_request(bs, offset, bytes, true, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    return bs->drv->pwrite(bs, offset, buf, bytes, errp);
}

int bdrv_pwrite_zeroes(BlockDriverState *bs, int64_t offset, int64_t bytes, int flags,
                       Error **errp)
{
    int ret = check_request(bs, offset, bytes, true, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    if (bs->drv->pwrite_zeroes) {
        return bs->drv->pwrite_zeroes(bs, offset, bytes, flags, errp);
    }
    /* Fallback: write a buffer of zeroes in chunks. */
    const uint64_t chunk = 1 * MiB;
    uint8_t *zero = xzalloc(chunk);
    while (bytes > 0 && ret == 0) {
        uint64_t n = MIN((uint64_t)bytes, chunk);
        ret = bs->drv->pwrite(bs, offset, zero, n, errp);
        offset += n;
        bytes -= n;
    }
    free(zero);
    return ret;
}

int bdrv_pdiscard(BlockDriverState *bs, int64_t offset, int64_t bytes, Error **errp)
{
    int ret = check_request(bs, offset, bytes, true, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    /* Discard is a hint: without BDRV_O_UNMAP, or a driver that can
     * deallocate, it does nothing. */
    if (!(bs->open_flags & BDRV_O_UNMAP) || !bs->drv->pdiscard) {
        return 0;
    }
    return bs->drv->pdiscard(bs, offset, bytes, errp);
}

int bdrv_pwrite_compressed(BlockDriverState *bs, int64_t offset, const void *buf,
                           int64_t bytes, Error **errp)
{
    int ret = check_request(bs, offset, bytes, true, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    if (!bs->drv->pwrite_compressed) {
        error_setg(errp, "Compression is not supported for the '%s' format",
                   bs->drv->format_name);
        return -ENOTSUP;
    }
    return bs->drv->pwrite_compressed(bs, offset, buf, bytes, errp);
}

uint32_t bdrv_get_cluster_size(BlockDriverState *bs)
{
    return bs->drv->cluster_size ? bs->drv->cluster_size(bs) : 0;
}

int bdrv_flush(BlockDriverState *bs, Error **errp)
{
    if (bs->read_only || !bs->drv->flush) {
        return 0;
    }
    return bs->drv->flush(bs, errp);
}

int bdrv_truncate(BlockDriverState *bs, int64_t offset, Error **errp)
{
    if (offset < 0) {
        error_setg(errp, "'%s': invalid size %" PRId64, bs->filename, offset);
        return -EINVAL;
    }
    if (bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    if (!bs->drv->truncate) {
        error_setg(errp, "Image format '%s' does not support resizing", bs->drv->format_name);
        return -ENOTSUP;
    }
    return bs->drv->truncate(bs, offset, errp);
}

int bdrv_read_backing(BlockDriverState *bs, uint64_t offset, void *buf, uint64_t bytes,
                      Error **errp)
{
    uint64_t avail = 0;
    if (bs->backing && offset < bs->backing->total_size) {
        avail = MIN(bytes, bs->backing->total_size - offset);
        int ret = bs->backing->drv->pread(bs->backing, offset, buf, avail, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (avail < bytes) {
        memset((uint8_t *)buf + avail, 0, bytes - avail);
    }
    return 0;
}

int64_t bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                          int *status, int64_t *map, Error **errp)
{
    *status = 0;
    *map = 0;
    int ret = check_request(bs, offset, bytes, false, errp);
    if (ret < 0) {
        return ret;
    }
    if (bytes == 0) {
        return 0;
    }
    if (!bs->drv->block_status) {
        *status = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
        return bytes;
    }
    return bs->drv->block_status(bs, offset, bytes, status, map, errp);
}

/* ---- creation ---------------------------------------------------- */

int bdrv_create(const char *filename, const BlockCreateOptions *opts, Error **errp)
{
    const char *format = opts->format ? opts->format : "raw";
    const BlockDriver *drv = find_driver(format);
    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", format);
        return -EINVAL;
    }
    if (!drv->create) {
        error_setg(errp, "Format '%s' does not support image creation", format);
        return -ENOTSUP;
    }
    return drv->create(filename, opts, errp);
}

/* ---- snapshots and VM state -------------------------------------- */

static int no_snapshots(BlockDriverState *bs, Error **errp)
{
    error_setg(errp, "Device '%s' (format '%s') does not support internal snapshots",
               bs->filename, bs->drv->format_name);
    return -ENOTSUP;
}

bool bdrv_can_snapshot(BlockDriverState *bs)
{
    return bs && !bs->read_only && bs->drv->snapshot_create;
}

int bdrv_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *sn, Error **errp)
{
    if (!bs->drv->snapshot_create) {
        return no_snapshots(bs, errp);
    }
    if (bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    return bs->drv->snapshot_create(bs, sn, errp);
}

int bdrv_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp)
{
    if (!bs->drv->snapshot_goto) {
        return no_snapshots(bs, errp);
    }
    if (bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    return bs->drv->snapshot_goto(bs, id_or_name, errp);
}

int bdrv_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                         Error **errp)
{
    if (!bs->drv->snapshot_delete) {
        return no_snapshots(bs, errp);
    }
    if (bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    if (!id && !name) {
        error_setg(errp, "A snapshot id or name is required");
        return -EINVAL;
    }
    return bs->drv->snapshot_delete(bs, id, name, errp);
}

int bdrv_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **psn_tab, Error **errp)
{
    *psn_tab = NULL;
    if (!bs->drv->snapshot_list) {
        return no_snapshots(bs, errp);
    }
    return bs->drv->snapshot_list(bs, psn_tab, errp);
}

int bdrv_snapshot_find(BlockDriverState *bs, QEMUSnapshotInfo *sn, const char *id_or_name)
{
    QEMUSnapshotInfo *tab;
    int n = bdrv_snapshot_list(bs, &tab, NULL);
    int ret = -ENOENT;
    if (n < 0) {
        return n;
    }
    for (int pass = 0; pass < 2 && ret < 0; pass++) {
        for (int i = 0; i < n; i++) {
            const char *key = pass == 0 ? tab[i].id_str : tab[i].name;
            if (!strcmp(key, id_or_name)) {
                *sn = tab[i];
                ret = 0;
                break;
            }
        }
    }
    free(tab);
    return ret;
}

int bdrv_snapshot_load_tmp(BlockDriverState *bs, const char *id, const char *name,
                           Error **errp)
{
    if (!bs->drv->snapshot_load_tmp) {
        return no_snapshots(bs, errp);
    }
    if (!bs->read_only) {
        error_setg(errp, "'%s': a snapshot can be loaded temporarily only on a read-only "
                   "image", bs->filename);
        return -EINVAL;
    }
    return bs->drv->snapshot_load_tmp(bs, id, name, errp);
}

int bdrv_save_vmstate(BlockDriverState *bs, const void *buf, int64_t pos, int64_t size,
                      Error **errp)
{
    if (!bs->drv->save_vmstate) {
        return no_snapshots(bs, errp);
    }
    if (pos < 0 || size < 0 || size > INT64_MAX - pos) {
        error_setg(errp, "'%s': invalid VM state range", bs->filename);
        return -EINVAL;
    }
    if (bs->read_only) {
        error_setg(errp, "'%s' is opened read-only", bs->filename);
        return -EACCES;
    }
    return size ? bs->drv->save_vmstate(bs, buf, pos, size, errp) : 0;
}

int bdrv_load_vmstate(BlockDriverState *bs, void *buf, int64_t pos, int64_t size,
                      Error **errp)
{
    if (!bs->drv->load_vmstate) {
        return no_snapshots(bs, errp);
    }
    if (pos < 0 || size < 0 || size > INT64_MAX - pos) {
        error_setg(errp, "'%s': invalid VM state range", bs->filename);
        return -EINVAL;
    }
    return size ? bs->drv->load_vmstate(bs, buf, pos, size, errp) : 0;
}

/* ---- check and info ---------------------------------------------- */

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *res, int fix,
               BdrvCheckReport *report, void *opaque, Error **errp)
{
    memset(res, 0, sizeof(*res));
    if (!bs->drv->check) {
        error_setg(errp, "This image format does not support checks");
        return -ENOTSUP;
    }
    if (fix && bs->read_only) {
        error_setg(errp, "'%s' is opened read-only; cannot repair", bs->filename);
        return -EACCES;
    }
    return bs->drv->check(bs, res, fix, report, opaque, errp);
}

int bdrv_get_info(BlockDriverState *bs, BlockImageInfo *info, Error **errp)
{
    memset(info, 0, sizeof(*info));
    info->format = bs->drv->format_name;
    info->virtual_size = bs->total_size;
    info->actual_size = bdrv_get_allocated_file_size(bs);
    info->backing_file = bs->backing_file;
    info->backing_fmt = bs->backing_format;
    info->full_backing_filename = bs->full_backing_filename;
    if (bs->drv->get_info) {
        return bs->drv->get_info(bs, info, errp);
    }
    return 0;
}
