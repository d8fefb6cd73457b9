/*
 * QEMUFile over a block device's vmstate area. Separate from
 * qemu-file.c so that only programs that use it pull in the block layer.
 *
 * Writes arrive as an iovec of small header bytes and whole RAM pages;
 * they are gathered into one staging buffer so the image sees a few
 * large bdrv_save_vmstate calls rather than one per page.
 */
#include "block/block.h"
#include "migration/qemu-file.h"

typedef struct BdrvBackend {
    BlockDriverState *bs;
    uint8_t *stage;
    size_t stage_cap;
} BdrvBackend;

static ssize_t bdrv_file_pread(void *opaque, void *buf, size_t len, int64_t pos, Error **errp)
{
    BdrvBackend *b = opaque;
    int r = bdrv_load_vmstate(b->bs, buf, pos, (int64_t)len, errp);
    return r < 0 ? r : (ssize_t)len;
}

static ssize_t bdrv_file_pwritev(void *opaque, const struct iovec *iov, int iovcnt,
                                 int64_t pos, Error **errp)
{
    BdrvBackend *b = opaque;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    const void *data;
    if (iovcnt == 1) {
        data = iov[0].iov_base;
    } else {
        if (total > b->stage_cap) {
            free(b->stage);
            b->stage = xmalloc(total);
            b->stage_cap = total;
        }
        size_t at = 0;
        for (int i = 0; i < iovcnt; i++) {
            memcpy(b->stage + at, iov[i].iov_base, iov[i].iov_len);
            at += iov[i].iov_len;
        }
        data = b->stage;
    }
    int r = bdrv_save_vmstate(b->bs, data, pos, (int64_t)total, errp);
    return r < 0 ? r : (ssize_t)total;
}

static int bdrv_file_sync(void *opaque, Error **errp)
{
    BdrvBackend *b = opaque;
    return bdrv_flush(b->bs, errp);
}

static int bdrv_file_close(void *opaque, Error **errp)
{
    BdrvBackend *b = opaque;
    free(b->stage);
    free(b);
    return 0;
}

static const QEMUFileOps bdrv_file_ops = {
    .pread = bdrv_file_pread,
    .pwritev = bdrv_file_pwritev,
    .sync = bdrv_file_sync,
    .close = bdrv_file_close,
};

QEMUFile *qemu_file_new_bdrv(BlockDriverState *bs, bool writable, int64_t size)
{
    BdrvBackend *b = XNEW(BdrvBackend);
    b->bs = bs;
    if (writable) {
        return qemu_file_new_output(&bdrv_file_ops, b);
    }
    return qemu_file_new_input(&bdrv_file_ops, b, size, true);
}
