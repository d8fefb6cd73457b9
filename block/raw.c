/* The raw format: the guest disk is the host file, byte for byte. */
#include <fcntl.h>
#include <unistd.h>

#include "block-int.h"

typedef struct BDRVRawState {
    HostFile *file;
} BDRVRawState;

static int raw_probe(const uint8_t *buf, size_t len)
{
    return 1;  /* anything is a raw image, but every real format wins */
}

static int raw_open(BlockDriverState *bs, int flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    int ret = host_file_open(&s->file, bs->filename, flags & BDRV_O_RDWR,
                             flags & BDRV_O_NOCACHE, errp);
    if (ret < 0) {
        return ret;
    }
    int64_t len = host_file_length(s->file, errp);
    if (len < 0) {
        host_file_close(s->file);
        return (int)len;
    }
    bs->total_size = len;
    return 0;
}

static void raw_close(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    host_file_close(s->file);
}

static int raw_create(const char *filename, const BlockCreateOptions *opts, Error **errp)
{
    if (opts->backing_file) {
        error_setg(errp, "Format 'raw' does not support backing files");
        return -ENOTSUP;
    }
    if (opts->preallocation && strcmp(opts->preallocation, "off") &&
        strcmp(opts->preallocation, "full") && strcmp(opts->preallocation, "falloc")) {
        error_setg(errp, "Unsupported preallocation mode '%s'", opts->preallocation);
        return -EINVAL;
    }
    int fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not create '%s'", filename);
        return -err;
    }
    int ret = 0;
    if (ftruncate(fd, opts->size) < 0) {
        ret = -errno;
        error_setg_errno(errp, errno, "Could not resize '%s'", filename);
    } else if (opts->preallocation && strcmp(opts->preallocation, "off") &&
               opts->size && posix_fallocate(fd, 0, opts->size) != 0) {
        ret = -ENOSPC;
        error_setg(errp, "Could not preallocate '%s'", filename);
    }
    close(fd);
    return ret;
}

static int raw_pread(BlockDriverState *bs, uint64_t offset, void *buf, uint64_t bytes,
                     Error **errp)
{
    BDRVRawState *s = bs->opaque;
    return host_file_pread(s->file, offset, buf, bytes, errp);
}

static int raw_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf, uint64_t bytes,
                      Error **errp)
{
    BDRVRawState *s = bs->opaque;
    return host_file_pwrite(s->file, offset, buf, bytes, errp);
}

static int raw_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                             int flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    return host_file_zero_range(s->file, offset, bytes, errp);
}

static int raw_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    return host_file_zero_range(s->file, offset, bytes, errp);
}

static int raw_flush(BlockDriverState *bs, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    return host_file_sync(s->file, errp);
}

static int raw_truncate(BlockDriverState *bs, uint64_t size, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    int ret = host_file_truncate(s->file, size, errp);
    if (ret == 0) {
        bs->total_size = size;
    }
    return ret;
}

static int64_t raw_get_allocated_file_size(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    return host_file_allocated_size(s->file);
}

static int64_t raw_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                int *status, int64_t *map, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    bool is_data;
    int64_t n = host_file_data_run(s->file, offset, bytes, &is_data);
    *status = BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID |
              (is_data ? BDRV_BLOCK_DATA : BDRV_BLOCK_ZERO);
    *map = offset;
    return n;
}

const BlockDriver bdrv_raw = {
    .format_name = "raw",
    .state_size = sizeof(BDRVRawState),
    .probe = raw_probe,
    .open = raw_open,
    .close = raw_close,
    .create = raw_create,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .flush = raw_flush,
    .truncate = raw_truncate,
    .get_allocated_file_size = raw_get_allocated_file_size,
    .block_status = raw_block_status,
};
