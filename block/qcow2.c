/*
 * qcow2 driver: header and header extensions, open/close, image
 * creation, resize, flush, information, and the driver table. Cluster
 * mapping lives in qcow2-cluster.c, refcounts in qcow2-refcount.c,
 * snapshots in qcow2-snapshot.c, check/repair in qcow2-check.c.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "qcow2.h"
#include "util/strbuf.h"

/* Metadata cache memory per image. */
#define QCOW2_L2_CACHE_MAX_BYTES (4 * MiB)
#define QCOW2_MIN_L2_CACHE_TABLES 16
#define QCOW2_MIN_REFBLOCK_CACHE_TABLES 4

/* ---- header encoding --------------------------------------------- */

int qcow2_header_decode(Qcow2Header *h, const uint8_t *buf, size_t len, Error **errp)
{
    memset(h, 0, sizeof(*h));
    if (len < QCOW2_V2_HEADER_LENGTH) {
        error_setg(errp, "Image is too short for a qcow2 header");
        return -EINVAL;
    }
    h->magic = ldl_be(buf + 0);
    h->version = ldl_be(buf + 4);
    h->backing_file_offset = ldq_be(buf + 8);
    h->backing_file_size = ldl_be(buf + 16);
    h->cluster_bits = ldl_be(buf + 20);
    h->size = ldq_be(buf + 24);
    h->crypt_method = ldl_be(buf + 32);
    h->l1_size = ldl_be(buf + 36);
    h->l1_table_offset = ldq_be(buf + 40);
    h->refcount_table_offset = ldq_be(buf + 48);
    h->refcount_table_clusters = ldl_be(buf + 56);
    h->nb_snapshots = ldl_be(buf + 60);
    h->snapshots_offset = ldq_be(buf + 64);
    if (h->magic != QCOW2_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return -EINVAL;
    }
    if (h->version < 2 || h->version > 3) {
        error_setg(errp, "Unsupported qcow2 version %" PRIu32, h->version);
        return -ENOTSUP;
    }
    if (h->version == 2) {
        h->refcount_order = 4;
        h->header_length = QCOW2_V2_HEADER_LENGTH;
        return 0;
    }
    if (len < QCOW2_V3_MIN_HEADER_LENGTH) {
        error_setg(errp, "qcow2 header is truncated");
        return -EINVAL;
    }
    h->incompatible_features = ldq_be(buf + 72);
    h->compatible_features = ldq_be(buf + 80);
    h->autoclear_features = ldq_be(buf + 88);
    h->refcount_order = ldl_be(buf + 96);
    h->header_length = ldl_be(buf + 100);
    if (h->header_length < QCOW2_V3_MIN_HEADER_LENGTH) {
        error_setg(errp, "qcow2 header too short (header_length %" PRIu32 ")",
                   h->header_length);
        return -EINVAL;
    }
    if (h->header_length > len) {
        error_setg(errp, "qcow2 header exceeds the cluster size");
        return -EINVAL;
    }
    if (h->header_length > 104) {
        h->compression_type = buf[104];
    }
    return 0;
}

size_t qcow2_header_encode(const Qcow2Header *h, uint8_t *buf)
{
    stl_be(buf + 0, QCOW2_MAGIC);
    stl_be(buf + 4, h->version);
    stq_be(buf + 8, h->backing_file_offset);
    stl_be(buf + 16, h->backing_file_size);
    stl_be(buf + 20, h->cluster_bits);
    stq_be(buf + 24, h->size);
    stl_be(buf + 32, h->crypt_method);
    stl_be(buf + 36, h->l1_size);
    stq_be(buf + 40, h->l1_table_offset);
    stq_be(buf + 48, h->refcount_table_offset);
    stl_be(buf + 56, h->refcount_table_clusters);
    stl_be(buf + 60, h->nb_snapshots);
    stq_be(buf + 64, h->snapshots_offset);
    if (h->version < 3) {
        return QCOW2_V2_HEADER_LENGTH;
    }
    stq_be(buf + 72, h->incompatible_features);
    stq_be(buf + 80, h->compatible_features);
    stq_be(buf + 88, h->autoclear_features);
    stl_be(buf + 96, h->refcount_order);
    stl_be(buf + 100, h->header_length);
    memset(buf + 104, 0, h->header_length - 104);
    buf[104] = h->compression_type;
    return h->header_length;
}

/* The names of the features this implementation knows, written into
 * new images so other tools can name what they do not support. */
static const struct {
    uint8_t type;   /* 0 incompatible, 1 compatible, 2 autoclear */
    uint8_t bit;
    const char *name;
} known_features[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

#define FEATURE_ENTRY_SIZE 48

/* "bit 5, bit 7" or the names from the image's feature table. */
static char *describe_features(const BDRVQcow2State *s, int type, uint64_t mask)
{
    StrBuf sb;
    strbuf_init(&sb);
    for (int bit = 0; bit < 64; bit++) {
        if (!(mask & (1ULL << bit))) {
            continue;
        }
        const char *name = NULL;
        char namebuf[FEATURE_ENTRY_SIZE - 1];
        for (uint32_t off = 0; off + FEATURE_ENTRY_SIZE <= s->feature_table_len;
             off += FEATURE_ENTRY_SIZE) {
            const uint8_t *e = s->feature_table + off;
            if (e[0] == type && e[1] == bit) {
                memcpy(namebuf, e + 2, sizeof(namebuf) - 1);
                namebuf[sizeof(namebuf) - 1] = 0;
                name = namebuf;
                break;
            }
        }
        if (sb.len) {
            strbuf_append(&sb, ", ");
        }
        if (name && name[0]) {
            strbuf_append(&sb, name);
        } else {
            strbuf_printf(&sb, "Unknown incompatible feature: %" PRIx64, (uint64_t)1 << bit);
        }
    }
    char *result = strbuf_steal(&sb);
    strbuf_free(&sb);
    return result;
}

/* ---- header extensions ------------------------------------------- */

static int parse_extensions(BDRVQcow2State *s, BlockDriverState *bs, const uint8_t *hdr,
                            uint64_t start, uint64_t end, Error **errp)
{
    uint64_t off = start;
    bool seen_backing_fmt = false, seen_features = false, seen_bitmaps = false;
    while (off + 8 <= end) {
        uint32_t magic = ldl_be(hdr + off);
        uint32_t len = ldl_be(hdr + off + 4);
        off += 8;
        if (magic == QCOW2_EXT_END) {
            return 0;
        }
        if (len > end - off) {
            error_setg(errp, "Header extension %#" PRIx32 " (%" PRIu32 " bytes) does not fit "
                       "in the header cluster", magic, len);
            return -EINVAL;
        }
        const uint8_t *data = hdr + off;
        switch (magic) {
        case QCOW2_EXT_BACKING_FORMAT:
            if (seen_backing_fmt) {
                error_setg(errp, "Duplicate backing file format header extension");
                return -EINVAL;
            }
            seen_backing_fmt = true;
            if (len == 0 || len > 15 || memchr(data, 0, len)) {
                error_setg(errp, "Invalid backing file format name (%" PRIu32 " bytes)", len);
                return -EINVAL;
            }
            free(bs->backing_format);
            bs->backing_format = xstrndup((const char *)data, len);
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            if (seen_features) {
                error_setg(errp, "Duplicate feature name table header extension");
                return -EINVAL;
            }
            seen_features = true;
            free(s->feature_table);
            s->feature_table = xmalloc(len ? len : 1);
            memcpy(s->feature_table, data, len);
            s->feature_table_len = len;
            break;
        case QCOW2_EXT_BITMAPS:
            if (seen_bitmaps) {
                error_setg(errp, "Duplicate bitmaps header extension");
                return -EINVAL;
            }
            seen_bitmaps = true;
            if (len < 24) {
                error_setg(errp, "Bitmaps header extension is too short");
                return -EINVAL;
            }
            s->has_bitmaps_ext = true;
            s->nb_bitmaps = ldl_be(data);
            s->bitmap_directory_size = ldq_be(data + 8);
            s->bitmap_directory_offset = ldq_be(data + 16);
            /* kept verbatim for header rewrites, like unknown ones */
            __attribute__((fallthrough));
        default: {
            Qcow2UnknownExt *ext;
            s->unknown_exts = xrealloc(s->unknown_exts,
                                       (s->nb_unknown_exts + 1) * sizeof(*s->unknown_exts));
            ext = &s->unknown_exts[s->nb_unknown_exts++];
            ext->magic = magic;
            ext->len = len;
            ext->data = xmalloc(len ? len : 1);
            memcpy(ext->data, data, len);
            break;
        }
        }
        off += ALIGN_UP((uint64_t)len, 8);
    }
    return 0;
}

static size_t put_ext(uint8_t *buf, size_t pos, size_t cap, uint32_t magic,
                      const void *data, uint32_t len)
{
    size_t need = 8 + ALIGN_UP((size_t)len, 8);
    if (pos + need > cap) {
        return SIZE_MAX;
    }
    stl_be(buf + pos, magic);
    stl_be(buf + pos + 4, len);
    if (len) {
        memcpy(buf + pos + 8, data, len);
    }
    memset(buf + pos + 8 + len, 0, ALIGN_UP((size_t)len, 8) - len);
    return pos + need;
}

/* Rewrites the whole first cluster: header, extensions (our own and
 * the ones we keep without understanding), backing file name. */
int qcow2_write_full_header(BDRVQcow2State *s, Error **errp)
{
    BlockDriverState *bs = s->bs;
    size_t cap = s->cluster_size;
    uint8_t *buf = xmemalign_zero(4096, cap);
    Qcow2Header h = {
        .version = s->qcow_version,
        .cluster_bits = s->cluster_bits,
        .size = bs->total_size,
        .l1_size = s->l1_size,
        .l1_table_offset = s->l1_table_offset,
        .refcount_table_offset = s->refcount_table_offset,
        .refcount_table_clusters = ALIGN_UP((uint64_t)s->refcount_table_size * 8,
                                            s->cluster_size) >> s->cluster_bits,
        .nb_snapshots = s->nb_snapshots,
        .snapshots_offset = s->snapshots_offset,
        .incompatible_features = s->incompatible_features,
        .compatible_features = s->compatible_features,
        .autoclear_features = s->autoclear_features,
        .refcount_order = s->refcount_order,
        .header_length = MAX(s->header_length, (uint32_t)QCOW2_V3_HEADER_LENGTH),
    };
    size_t pos = qcow2_header_encode(&h, buf);
    if (s->qcow_version >= 3 && s->extra_header_len) {
        memcpy(buf + QCOW2_V3_HEADER_LENGTH, s->extra_header, s->extra_header_len);
    }
    if (bs->backing_format && pos != SIZE_MAX) {
        pos = put_ext(buf, pos, cap, QCOW2_EXT_BACKING_FORMAT, bs->backing_format,
                      strlen(bs->backing_format));
    }
    if (s->qcow_version >= 3 && pos != SIZE_MAX) {
        uint8_t table[ARRAY_SIZE(known_features) * FEATURE_ENTRY_SIZE] = { 0 };
        for (size_t i = 0; i < ARRAY_SIZE(known_features); i++) {
            uint8_t *e = table + i * FEATURE_ENTRY_SIZE;
            e[0] = known_features[i].type;
            e[1] = known_features[i].bit;
            memcpy(e + 2, known_features[i].name, strlen(known_features[i].name));
        }
        pos = put_ext(buf, pos, cap, QCOW2_EXT_FEATURE_TABLE, table, sizeof(table));
    }
    for (int i = 0; i < s->nb_unknown_exts && pos != SIZE_MAX; i++) {
        pos = put_ext(buf, pos, cap, s->unknown_exts[i].magic, s->unknown_exts[i].data,
                      s->unknown_exts[i].len);
    }
    if (pos != SIZE_MAX) {
        pos = put_ext(buf, pos, cap, QCOW2_EXT_END, NULL, 0);
    }
    if (pos != SIZE_MAX && bs->backing_file) {
        size_t len = strlen(bs->backing_file);
        if (pos + len > cap) {
            pos = SIZE_MAX;
        } else {
            memcpy(buf + pos, bs->backing_file, len);
            stq_be(buf + 8, pos);
            stl_be(buf + 16, len);
            pos += len;
        }
    }
    if (pos == SIZE_MAX) {
        free(buf);
        error_setg(errp, "'%s': header, extensions and backing file name do not fit in one "
                   "cluster", s->file->filename);
        return -ENOSPC;
    }
    int ret = qcow2_file_pwrite(s, 0, buf, ALIGN_UP(pos, 512), errp);
    free(buf);
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    return ret;
}

/* ---- small helpers used by every qcow2 file ---------------------- */

uint64_t qcow2_size_to_l1(const BDRVQcow2State *s, uint64_t size)
{
    int shift = s->cluster_bits + s->l2_bits;
    return (size + (1ULL << shift) - 1) >> shift;
}

int qcow2_file_pwrite(BDRVQcow2State *s, uint64_t offset, const void *buf, uint64_t bytes,
                      Error **errp)
{
    int ret = host_file_pwrite(s->file, offset, buf, bytes, errp);
    if (ret == 0 && offset + bytes > s->file_end) {
        s->file_end = offset + bytes;
    }
    return ret;
}

int qcow2_file_pread(BDRVQcow2State *s, uint64_t offset, void *buf, uint64_t bytes,
                     Error **errp)
{
    return host_file_pread(s->file, offset, buf, bytes, errp);
}

int qcow2_write_header_field(BDRVQcow2State *s, uint32_t offset, const void *buf, size_t len,
                             bool sync, Error **errp)
{
    int ret = qcow2_file_pwrite(s, offset, buf, len, errp);
    if (ret == 0 && sync) {
        ret = host_file_sync(s->file, errp);
    }
    if (ret < 0) {
        error_prepend(errp, "Could not update the qcow2 header: ");
    }
    return ret;
}

static int write_incompatible_features(BDRVQcow2State *s, uint64_t features, Error **errp)
{
    uint8_t be[8];
    stq_be(be, features);
    int ret = qcow2_write_header_field(s, QCOW2_HDR_INCOMPAT, be, 8, true, errp);
    if (ret == 0) {
        s->incompatible_features = features;
    }
    return ret;
}

int qcow2_mark_dirty(BDRVQcow2State *s, Error **errp)
{
    if (s->qcow_version < 3 || s->dirty_set || s->read_only) {
        return 0;
    }
    /* Stable before any metadata change it covers. */
    int ret = write_incompatible_features(s, s->incompatible_features | QCOW2_INCOMPAT_DIRTY,
                                          errp);
    if (ret == 0) {
        s->dirty_set = true;
    }
    return ret;
}

int qcow2_mark_clean(BDRVQcow2State *s, Error **errp)
{
    if (!(s->incompatible_features & QCOW2_INCOMPAT_DIRTY) || s->read_only) {
        s->dirty_set = false;
        return 0;
    }
    if (s->lazy_refcounts && s->dirty_set) {
        /* Stay dirty while a lazy-refcount writer has the image. */
        return 0;
    }
    int ret = qcow2_flush_caches(s, errp);
    if (ret == 0) {
        ret = write_incompatible_features(s, s->incompatible_features & ~QCOW2_INCOMPAT_DIRTY,
                                          errp);
    }
    if (ret == 0) {
        s->dirty_set = false;
    }
    return ret;
}

static int really_mark_clean(BDRVQcow2State *s, Error **errp)
{
    bool lazy = s->lazy_refcounts;
    s->lazy_refcounts = false;
    int ret = qcow2_mark_clean(s, errp);
    s->lazy_refcounts = lazy;
    return ret;
}

int qcow2_signal_corruption(BDRVQcow2State *s, Error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0) {
        msg = NULL;
    }
    va_end(ap);
    bool mark = !s->read_only && !s->corrupt && s->qcow_version >= 3 &&
                !(s->bs->open_flags & BDRV_O_CHECK);
    s->corrupt = true;
    if (mark) {
        /* Keep other tools from writing to it until it is checked. */
        write_incompatible_features(s, s->incompatible_features | QCOW2_INCOMPAT_CORRUPT, NULL);
    }
    error_setg(errp, "'%s' is corrupt: %s%s", s->file->filename, msg ? msg : "?",
               mark ? "; the image is now marked corrupt (run 'minipc-img check -r all')" : "");
    free(msg);
    return -EIO;
}

int qcow2_check_overlap(BDRVQcow2State *s, uint64_t offset, uint64_t bytes, bool metadata,
                        Error **errp)
{
    struct { uint64_t start, len; const char *what; } fixed[] = {
        { 0, s->cluster_size, "the image header" },
        { s->l1_table_offset, (uint64_t)s->l1_size * 8, "the active L1 table" },
        { s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8,
          "the refcount table" },
        { s->snapshots_offset, s->snapshots_size, "the snapshot table" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
        if (fixed[i].len && offset < fixed[i].start + fixed[i].len &&
            fixed[i].start < offset + bytes) {
            return qcow2_signal_corruption(s, errp, "preventing a write at %#" PRIx64
                                           " that would overwrite %s", offset,
                                           fixed[i].what);
        }
    }
    return 0;
}

int qcow2_flush_caches(BDRVQcow2State *s, Error **errp)
{
    if (s->read_only) {
        return 0;
    }
    int ret = qcow2_cache_flush(s->l2_cache, errp);
    if (ret == 0) {
        ret = qcow2_cache_flush(s->refblock_cache, errp);
    }
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    if (ret == 0 && s->lowest_freed != UINT64_MAX) {
        /* Freed clusters are stable now and may be reused. */
        s->free_cluster_index = MIN(s->free_cluster_index, s->lowest_freed);
        s->lowest_freed = UINT64_MAX;
    }
    return ret;
}

/* ---- open/close -------------------------------------------------- */

static int qcow2_probe(const uint8_t *buf, size_t len)
{
    /* Any QFI\xfb file is ours to refuse clearly if its version is
     * unsupported, rather than raw by default. */
    return len >= 8 && ldl_be(buf) == QCOW2_MAGIC ? 100 : 0;
}

static void free_state(BDRVQcow2State *s)
{
    qcow2_cache_destroy(s->l2_cache);
    qcow2_cache_destroy(s->refblock_cache);
    s->l2_cache = s->refblock_cache = NULL;
    free(s->l1_table);
    free(s->refcount_table);
    qcow2_free_snapshots(s);
    free(s->extra_header);
    for (int i = 0; i < s->nb_unknown_exts; i++) {
        free(s->unknown_exts[i].data);
    }
    free(s->unknown_exts);
    free(s->feature_table);
    free(s->cluster_buf);
    free(s->compressed_buf);
    host_file_close(s->file);
    s->file = NULL;
}

static int validate_table(BDRVQcow2State *s, uint64_t offset, uint64_t entries,
                          uint64_t entry_size, uint64_t max_bytes, const char *what,
                          Error **errp)
{
    if (entries > max_bytes / entry_size) {
        error_setg(errp, "%s too large", what);
        return -EFBIG;
    }
    if (entries && (offset & (s->cluster_size - 1))) {
        error_setg(errp, "%s offset %#" PRIx64 " is not cluster aligned", what, offset);
        return -EINVAL;
    }
    if (entries && (offset == 0 || offset > QCOW2_MAX_HOST_OFFSET)) {
        error_setg(errp, "%s offset %#" PRIx64 " is invalid", what, offset);
        return -EINVAL;
    }
    return 0;
}

static void setup_geometry(BDRVQcow2State *s, int cluster_bits, int refcount_order)
{
    s->cluster_bits = cluster_bits;
    s->cluster_size = 1u << cluster_bits;
    s->l2_bits = cluster_bits - 3;
    s->l2_size = 1u << s->l2_bits;
    s->refcount_order = refcount_order;
    s->refcount_bits = 1 << refcount_order;
    s->refcount_max = refcount_order == 6 ? UINT64_MAX : (1ULL << s->refcount_bits) - 1;
    s->refblock_bits = cluster_bits + 3 - refcount_order;
    s->refblock_size = 1u << s->refblock_bits;
    s->csize_shift = 62 - (cluster_bits - 8);
    s->csize_mask = (1ULL << (cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ULL << s->csize_shift) - 1;
}

static int qcow2_do_open(BlockDriverState *bs, BDRVQcow2State *s, int flags, Error **errp)
{
    uint8_t first[QCOW2_V3_HEADER_LENGTH] = { 0 };
    Qcow2Header h;
    int ret;

    ret = host_file_pread(s->file, 0, first, sizeof(first), errp);
    if (ret < 0) {
        return ret;
    }
    int64_t file_len = host_file_length(s->file, errp);
    if (file_len < 0) {
        return (int)file_len;
    }
    s->file_end = file_len;
    if ((uint64_t)file_len < QCOW2_V2_HEADER_LENGTH) {
        error_setg(errp, "Image is too short for a qcow2 header");
        return -EINVAL;
    }
    /* Only the cluster size is needed before the whole first cluster
     * (which holds the full header and its extensions) can be read. */
    if (ldl_be(first) != QCOW2_MAGIC) {
        error_setg(errp, "Image is not in qcow2 format");
        return -EINVAL;
    }
    h.version = ldl_be(first + 4);
    if (h.version < 2 || h.version > 3) {
        error_setg(errp, "Unsupported qcow2 version %" PRIu32, h.version);
        return -ENOTSUP;
    }
    h.cluster_bits = ldl_be(first + 20);
    h.refcount_order = h.version >= 3 ? ldl_be(first + 96) : 4;
    if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        error_setg(errp, "Unsupported cluster size: 2^%" PRIu32, h.cluster_bits);
        return -EINVAL;
    }
    if (h.refcount_order > 6) {
        error_setg(errp, "Reference count entry width too large; may not exceed 64 bits");
        return -EINVAL;
    }
    setup_geometry(s, h.cluster_bits, h.refcount_order);

    /* The whole first cluster holds the extensions and backing name. */
    uint8_t *hdr = xmemalign_zero(4096, s->cluster_size);
    ret = host_file_pread(s->file, 0, hdr, s->cluster_size, errp);
    if (ret == 0) {
        ret = qcow2_header_decode(&h, hdr, s->cluster_size, errp);
    }
    if (ret < 0) {
        goto out;
    }
    s->qcow_version = h.version;
    s->header_length = h.header_length;
    s->incompatible_features = h.incompatible_features;
    s->compatible_features = h.compatible_features;
    s->autoclear_features = h.autoclear_features;
    if (h.version >= 3 && h.header_length % 8) {
        error_setg(errp, "qcow2 header length %" PRIu32 " is not a multiple of 8",
                   h.header_length);
        ret = -EINVAL;
        goto out;
    }
    if (h.header_length > QCOW2_V3_HEADER_LENGTH) {
        s->extra_header_len = h.header_length - QCOW2_V3_HEADER_LENGTH;
        s->extra_header = xmalloc(s->extra_header_len);
        memcpy(s->extra_header, hdr + QCOW2_V3_HEADER_LENGTH, s->extra_header_len);
    }

    /* Extensions sit between the header and the backing file name. */
    uint64_t ext_end = s->cluster_size;
    if (h.backing_file_offset) {
        if (h.backing_file_offset > s->cluster_size ||
            h.backing_file_size > s->cluster_size - h.backing_file_offset) {
            error_setg(errp, "Backing file name is not inside the header cluster");
            ret = -EINVAL;
            goto out;
        }
        if (h.backing_file_size > QCOW2_MAX_BACKING_NAME) {
            error_setg(errp, "Backing file name too long");
            ret = -EINVAL;
            goto out;
        }
        ext_end = MAX(h.backing_file_offset, (uint64_t)h.header_length);
    }
    ret = parse_extensions(s, bs, hdr, h.header_length, ext_end, errp);
    if (ret < 0) {
        goto out;
    }

    uint64_t unknown = s->incompatible_features & ~QCOW2_INCOMPAT_SUPPORTED;
    if (unknown & QCOW2_INCOMPAT_DATA_FILE) {
        error_setg(errp, "External data files are not supported");
        ret = -ENOTSUP;
        goto out;
    }
    if (unknown & QCOW2_INCOMPAT_EXTL2) {
        error_setg(errp, "Extended L2 entries (subclusters) are not supported");
        ret = -ENOTSUP;
        goto out;
    }
    if ((unknown & QCOW2_INCOMPAT_COMPRESSION) || h.compression_type != 0) {
        if (h.compression_type == 1) {
            error_setg(errp, "Compression type 'zstd' is not supported (only zlib)");
        } else {
            error_setg(errp, "Unsupported compression type %u (only zlib)",
                       h.compression_type);
        }
        ret = -ENOTSUP;
        goto out;
    }
    if (unknown) {
        char *names = describe_features(s, 0, unknown);
        error_setg(errp, "Unsupported qcow2 feature(s): %s", names);
        free(names);
        ret = -ENOTSUP;
        goto out;
    }
    if (h.crypt_method) {
        error_setg(errp, "Encrypted images are not supported (crypt_method %" PRIu32 ")",
                   h.crypt_method);
        ret = -ENOTSUP;
        goto out;
    }
    if ((s->incompatible_features & QCOW2_INCOMPAT_CORRUPT) && (flags & BDRV_O_RDWR) &&
        !(flags & BDRV_O_CHECK)) {
        error_setg(errp, "Image is corrupt; cannot be opened read/write");
        ret = -EACCES;
        goto out;
    }

    /* Sizes and tables. */
    if (h.size > (1ULL << 62)) {
        error_setg(errp, "Image size %" PRIu64 " is too large", h.size);
        ret = -EFBIG;
        goto out;
    }
    bs->total_size = h.size;
    if (qcow2_size_to_l1(s, h.size) > QCOW2_MAX_L1_BYTES / 8) {
        error_setg(errp, "Image is too large for its cluster size");
        ret = -EFBIG;
        goto out;
    }
    ret = validate_table(s, h.l1_table_offset, h.l1_size, 8, QCOW2_MAX_L1_BYTES,
                         "Active L1 table", errp);
    if (ret < 0) {
        goto out;
    }
    if (h.l1_size < qcow2_size_to_l1(s, h.size)) {
        error_setg(errp, "L1 table is too small");
        ret = -EINVAL;
        goto out;
    }
    if (h.refcount_table_clusters == 0) {
        error_setg(errp, "Image does not contain a reference count table");
        ret = -EINVAL;
        goto out;
    }
    ret = validate_table(s, h.refcount_table_offset,
                         (uint64_t)h.refcount_table_clusters << s->cluster_bits, 1,
                         QCOW2_MAX_REFTABLE_BYTES, "Reference count table", errp);
    if (ret < 0) {
        goto out;
    }
    if (h.nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots (%" PRIu32 ")", h.nb_snapshots);
        ret = -EFBIG;
        goto out;
    }
    ret = validate_table(s, h.snapshots_offset, h.nb_snapshots, 1, QCOW2_MAX_SNAPSHOTS_BYTES,
                         "Snapshot table", errp);
    if (ret < 0) {
        goto out;
    }

    s->l1_size = h.l1_size;
    s->l1_table_offset = h.l1_table_offset;
    s->l1_vm_state_index = qcow2_size_to_l1(s, h.size);
    s->l1_table = xmalloc(s->l1_size ? (size_t)s->l1_size * 8 : 1);
    if (s->l1_size) {
        ret = host_file_pread(s->file, s->l1_table_offset, s->l1_table,
                              (uint64_t)s->l1_size * 8, errp);
        if (ret < 0) {
            error_prepend(errp, "Could not read the L1 table: ");
            goto out;
        }
        for (uint32_t i = 0; i < s->l1_size; i++) {
            s->l1_table[i] = be64_to_cpu(s->l1_table[i]);
        }
    }
    s->refcount_table_offset = h.refcount_table_offset;
    s->refcount_table_size = ((uint64_t)h.refcount_table_clusters << s->cluster_bits) / 8;
    ret = qcow2_refcount_init(s, errp);
    if (ret < 0) {
        goto out;
    }

    /* Caches: enough L2 tables for the whole disk plus its VM state,
     * within a memory budget. */
    uint64_t want = qcow2_size_to_l1(s, h.size) + 1;
    uint64_t max_tables = MAX(QCOW2_L2_CACHE_MAX_BYTES >> s->cluster_bits,
                              (uint64_t)QCOW2_MIN_L2_CACHE_TABLES);
    int l2_tables = MAX(MIN(want, max_tables), (uint64_t)QCOW2_MIN_L2_CACHE_TABLES);
    s->l2_cache = qcow2_cache_create(s, l2_tables, "L2 table");
    s->refblock_cache = qcow2_cache_create(s, MAX(l2_tables / 4,
                                                  QCOW2_MIN_REFBLOCK_CACHE_TABLES),
                                           "refcount block");
    s->cluster_buf = xmalloc(s->cluster_size);
    s->compressed_buf = xmalloc(2 * (size_t)s->cluster_size);
    s->lowest_freed = UINT64_MAX;

    s->nb_snapshots = h.nb_snapshots;
    s->snapshots_offset = h.snapshots_offset;
    ret = qcow2_read_snapshots(s, errp);
    if (ret < 0) {
        goto out;
    }

    if (h.backing_file_offset && h.backing_file_size) {
        free(bs->backing_file);
        bs->backing_file = xstrndup((const char *)hdr + h.backing_file_offset,
                                    h.backing_file_size);
        if (strlen(bs->backing_file) != h.backing_file_size) {
            error_setg(errp, "Backing file name contains a NUL byte");
            ret = -EINVAL;
            goto out;
        }
        bs->full_backing_filename = bdrv_path_combine(bs->filename, bs->backing_file);
    }
    s->lazy_refcounts = (s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS) &&
                        s->qcow_version >= 3;

out:
    free(hdr);
    return ret;
}

static int qcow2_open(BlockDriverState *bs, int flags, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    s->bs = bs;
    s->read_only = !(flags & BDRV_O_RDWR);
    int ret = host_file_open(&s->file, bs->filename, !s->read_only, flags & BDRV_O_NOCACHE,
                             errp);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_do_open(bs, s, flags, errp);
    if (ret < 0) {
        error_prepend(errp, "Could not open '%s': ", bs->filename);
        free_state(s);
        return ret;
    }

    if (!s->read_only) {
        if (s->autoclear_features) {
            /* We keep no bitmaps up to date: tell others they are stale. */
            uint8_t zero[8] = { 0 };
            ret = qcow2_write_header_field(s, QCOW2_HDR_AUTOCLEAR, zero, 8, true, errp);
            if (ret < 0) {
                free_state(s);
                return ret;
            }
            s->autoclear_features = 0;
        }
        if ((s->incompatible_features & QCOW2_INCOMPAT_DIRTY) && !(flags & BDRV_O_CHECK)) {
            /* A writer died with refcounts in flux: repair before use. */
            BdrvCheckResult res;
            Error *local = NULL;
            ret = qcow2_check(bs, &res, BDRV_FIX_ERRORS | BDRV_FIX_LEAKS, NULL, NULL, &local);
            if (ret == 0 && res.check_errors) {
                ret = -EIO;
            }
            if (ret < 0) {
                error_setg(errp, "Could not repair dirty image '%s'%s%s", bs->filename,
                           local ? ": " : "", local ? error_get_pretty(local) : "");
                error_free(local);
                free_state(s);
                return ret;
            }
            error_free(local);
            ret = really_mark_clean(s, errp);
            if (ret < 0) {
                free_state(s);
                return ret;
            }
        }
    }
    return 0;
}

static void qcow2_close(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    if (!s->read_only && !s->corrupt) {
        Error *err = NULL;
        if (qcow2_flush_caches(s, &err) == 0 && s->dirty_set) {
            really_mark_clean(s, &err);
        }
        if (err) {
            warn_report_err(err);
        }
    }
    free_state(s);
}

/* ---- driver entry points ----------------------------------------- */

static int qcow2_pread(BlockDriverState *bs, uint64_t offset, void *buf, uint64_t bytes,
                       Error **errp)
{
    return qcow2_read_at(bs->opaque, offset, buf, bytes, errp);
}

static int qcow2_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf,
                        uint64_t bytes, Error **errp)
{
    return qcow2_write_at(bs->opaque, offset, buf, bytes, errp);
}

static int qcow2_pwrite_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                               int flags, Error **errp)
{
    return qcow2_zero_at(bs->opaque, offset, bytes, flags & BDRV_REQ_MAY_UNMAP, errp);
}

static int qcow2_pdiscard(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                          Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    /* Only whole clusters can be dropped; the rest keeps its data. */
    uint64_t start = ALIGN_UP(offset, s->cluster_size);
    uint64_t end = offset + bytes == bs->total_size ? ALIGN_UP(offset + bytes, s->cluster_size)
                                                    : ALIGN_DOWN(offset + bytes,
                                                                 s->cluster_size);
    if (end <= start) {
        return 0;
    }
    end = MIN(end, bs->total_size);
    return qcow2_zero_at(s, start, end - start, true, errp);
}

static int qcow2_pwrite_compressed(BlockDriverState *bs, uint64_t offset, const void *buf,
                                   uint64_t bytes, Error **errp)
{
    return qcow2_write_compressed(bs->opaque, offset, buf, bytes, errp);
}

static int qcow2_flush(BlockDriverState *bs, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    if (s->corrupt) {
        return 0;
    }
    return qcow2_flush_caches(s, errp);
}

static uint32_t qcow2_cluster_size(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    return s->cluster_size;
}

static int qcow2_truncate(BlockDriverState *bs, uint64_t size, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t old = bs->total_size;
    int ret;

    if (size % 512) {
        error_setg(errp, "The new size must be a multiple of 512 bytes");
        return -EINVAL;
    }
    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; writes are refused", bs->filename);
        return -EIO;
    }
    if (size == old) {
        return 0;
    }
    if (s->nb_snapshots && s->qcow_version < 3) {
        error_setg(errp, "Can't resize a v2 image which has snapshots");
        return -ENOTSUP;
    }
    uint64_t new_l1 = qcow2_size_to_l1(s, size);
    if (new_l1 > QCOW2_MAX_L1_BYTES / 8) {
        error_setg(errp, "Image size %" PRIu64 " is too large for its cluster size", size);
        return -EFBIG;
    }
    if (size < old) {
        if (s->nb_snapshots) {
            error_setg(errp, "Can't shrink an image which has snapshots");
            return -ENOTSUP;
        }
        /* Everything past the new end goes; a cluster that straddles it
         * keeps its data (invisible until a grow zeroes it). */
        uint64_t start = ALIGN_UP(size, s->cluster_size);
        if (start < old) {
            ret = qcow2_zero_at(s, start, ALIGN_UP(old, s->cluster_size) - start, true, errp);
            if (ret < 0) {
                return ret;
            }
        }
        ret = qcow2_flush_caches(s, errp);
        if (ret < 0) {
            return ret;
        }
    } else {
        ret = qcow2_grow_l1_table(s, new_l1, true, errp);
        if (ret < 0) {
            return ret;
        }
        /* The new area must read as zeroes: drop an old VM state or a
         * straddling cluster's tail, and hide a longer backing file. */
        bs->total_size = size;
        ret = qcow2_zero_at(s, old, size - old, true, errp);
        if (ret == 0) {
            ret = qcow2_flush_caches(s, errp);
        }
        if (ret < 0) {
            bs->total_size = old;
            return ret;
        }
    }
    uint8_t be[8];
    stq_be(be, size);
    ret = qcow2_write_header_field(s, QCOW2_HDR_SIZE, be, 8, true, errp);
    if (ret < 0) {
        bs->total_size = old;
        return ret;
    }
    bs->total_size = size;
    s->l1_vm_state_index = new_l1;
    return 0;
}

static int64_t qcow2_get_allocated_file_size(BlockDriverState *bs)
{
    BDRVQcow2State *s = bs->opaque;
    return host_file_allocated_size(s->file);
}

static int64_t qcow2_block_status(BlockDriverState *bs, uint64_t offset, uint64_t bytes,
                                  int *status, int64_t *map, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t n = bytes, host;
    Qcow2ClusterType type;
    int ret = qcow2_get_host_offset(s, offset, &n, &host, &type, errp);
    if (ret < 0) {
        return ret;
    }
    *map = 0;
    switch (type) {
    case QCOW2_CLUSTER_UNALLOCATED:
        *status = (!bs->backing || offset >= bs->backing->total_size) ? BDRV_BLOCK_ZERO : 0;
        if (bs->backing && offset < bs->backing->total_size) {
            n = MIN(n, bs->backing->total_size - offset);
        }
        break;
    case QCOW2_CLUSTER_ZERO_PLAIN:
        *status = BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED;
        break;
    case QCOW2_CLUSTER_ZERO_ALLOC:
        *status = BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
        *map = host;
        break;
    case QCOW2_CLUSTER_NORMAL:
        *status = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID;
        *map = host;
        break;
    case QCOW2_CLUSTER_COMPRESSED:
        *status = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_COMPRESSED;
        break;
    }
    return n;
}

static int qcow2_save_vmstate(BlockDriverState *bs, const void *buf, uint64_t pos,
                              uint64_t size, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t base = (uint64_t)s->l1_vm_state_index << (s->l2_bits + s->cluster_bits);
    if (pos > QCOW2_MAX_HOST_OFFSET || size > QCOW2_MAX_HOST_OFFSET - pos) {
        error_setg(errp, "VM state too large");
        return -EFBIG;
    }
    return qcow2_write_at(s, base + pos, buf, size, errp);
}

static int qcow2_load_vmstate(BlockDriverState *bs, void *buf, uint64_t pos, uint64_t size,
                              Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    uint64_t base = (uint64_t)s->l1_vm_state_index << (s->l2_bits + s->cluster_bits);
    if (pos > QCOW2_MAX_HOST_OFFSET || size > QCOW2_MAX_HOST_OFFSET - pos) {
        error_setg(errp, "VM state too large");
        return -EFBIG;
    }
    return qcow2_read_at(s, base + pos, buf, size, errp);
}

static int qcow2_get_info(BlockDriverState *bs, BlockImageInfo *info, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    info->cluster_size = s->cluster_size;
    info->dirty = s->incompatible_features & QCOW2_INCOMPAT_DIRTY;
    info->qcow2_version = s->qcow_version;
    info->compat = s->qcow_version >= 3 ? "1.1" : "0.10";
    info->compression_type = "zlib";
    info->lazy_refcounts = s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS;
    info->refcount_bits = s->refcount_bits;
    info->corrupt = s->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
    info->extended_l2 = false;
    return 0;
}

/* ---- creation ---------------------------------------------------- */

static int qcow2_create(const char *filename, const BlockCreateOptions *opts, Error **errp)
{
    uint32_t cluster_size = opts->cluster_size ? opts->cluster_size
                                               : 1u << QCOW2_DEFAULT_CLUSTER_BITS;
    int version = opts->compat_version ? opts->compat_version : 3;
    int refcount_bits = opts->refcount_bits ? opts->refcount_bits : 16;
    uint64_t size = opts->size;
    int ret;

    if (!IS_POW2(cluster_size) || cluster_size < (1u << QCOW2_MIN_CLUSTER_BITS) ||
        cluster_size > (1u << QCOW2_MAX_CLUSTER_BITS)) {
        error_setg(errp, "Cluster size must be a power of two between %d and %dk",
                   1 << QCOW2_MIN_CLUSTER_BITS, 1 << (QCOW2_MAX_CLUSTER_BITS - 10));
        return -EINVAL;
    }
    if (version != 2 && version != 3) {
        error_setg(errp, "Invalid compatibility level (compat=0.10 or compat=1.1)");
        return -EINVAL;
    }
    if (!IS_POW2((unsigned)refcount_bits) || refcount_bits > 64) {
        error_setg(errp, "Refcount width must be a power of two and may not exceed 64 bits");
        return -EINVAL;
    }
    if (version < 3 && refcount_bits != 16) {
        error_setg(errp, "Different refcount widths than 16 bits require compatibility "
                   "level 1.1 or above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (version < 3 && opts->lazy_refcounts) {
        error_setg(errp, "Lazy refcounts only supported with compatibility level 1.1 and "
                   "above (use compat=1.1 or greater)");
        return -EINVAL;
    }
    if (opts->preallocation && strcmp(opts->preallocation, "off")) {
        error_setg(errp, "Preallocation mode '%s' is not supported for qcow2",
                   opts->preallocation);
        return -ENOTSUP;
    }
    if (opts->backing_file && strlen(opts->backing_file) > QCOW2_MAX_BACKING_NAME) {
        error_setg(errp, "Backing file name too long");
        return -EINVAL;
    }
    if (opts->backing_fmt && (strlen(opts->backing_fmt) > 15 || !opts->backing_file)) {
        error_setg(errp, opts->backing_file ? "Invalid backing file format '%s'"
                                            : "Backing format '%s' given without a "
                                              "backing file", opts->backing_fmt);
        return -EINVAL;
    }
    if (size == 0 && opts->backing_file) {
        /* Size from the backing file, as seen from the new image. */
        char *path = bdrv_path_combine(filename, opts->backing_file);
        BlockDriverState *backing;
        ret = bdrv_open(&backing, path, opts->backing_fmt, BDRV_O_NO_BACKING, errp);
        free(path);
        if (ret < 0) {
            error_prepend(errp, "Could not open backing image to determine size: ");
            return ret;
        }
        size = backing->total_size;
        bdrv_close(backing);
    }
    if (size % 512) {
        error_setg(errp, "Image size must be a multiple of 512 bytes");
        return -EINVAL;
    }

    int fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not create '%s'", filename);
        return -err;
    }
    close(fd);

    /*
     * Bootstrap: header, a one-cluster refcount table and one refcount
     * block describing the first three clusters, no L1 yet. The normal
     * open path then grows the L1 to the requested size.
     */
    BlockDriverState *bs = XNEW(BlockDriverState);
    BDRVQcow2State *s = XNEW(BDRVQcow2State);
    bs->drv = &bdrv_qcow2;
    bs->opaque = s;
    bs->filename = xstrdup(filename);
    bs->open_flags = BDRV_O_RDWR;
    s->bs = bs;
    int cluster_bits = ctz32(cluster_size);
    setup_geometry(s, cluster_bits, ctz32(refcount_bits));
    s->qcow_version = version;
    s->header_length = version >= 3 ? QCOW2_V3_HEADER_LENGTH : QCOW2_V2_HEADER_LENGTH;
    s->compatible_features = opts->lazy_refcounts ? QCOW2_COMPAT_LAZY_REFCOUNTS : 0;
    s->refcount_table_offset = cluster_size;
    s->refcount_table_size = cluster_size / 8;
    bs->backing_file = opts->backing_file ? xstrdup(opts->backing_file) : NULL;
    bs->backing_format = opts->backing_fmt ? xstrdup(opts->backing_fmt) : NULL;

    ret = host_file_open(&s->file, filename, true, false, errp);
    if (ret == 0) {
        ret = qcow2_write_full_header(s, errp);
    }
    if (ret == 0) {
        uint8_t *buf = xmemalign_zero(4096, 2 * (size_t)cluster_size);
        stq_be(buf, 2 * (uint64_t)cluster_size);
        for (int i = 0; i < 3; i++) {
            qcow2_refblock_set(s, buf + cluster_size, i, 1);
        }
        ret = qcow2_file_pwrite(s, cluster_size, buf, 2 * (uint64_t)cluster_size, errp);
        free(buf);
    }
    if (ret == 0) {
        ret = host_file_sync(s->file, errp);
    }
    host_file_close(s->file);
    free(bs->backing_file);
    free(bs->backing_format);
    free(bs->filename);
    free(bs);
    free(s);
    if (ret < 0) {
        return ret;
    }

    /* Grow to the requested size through the ordinary code paths. */
    ret = bdrv_open(&bs, filename, "qcow2", BDRV_O_RDWR | BDRV_O_NO_BACKING, errp);
    if (ret < 0) {
        return ret;
    }
    if (size) {
        s = bs->opaque;
        uint64_t l1 = qcow2_size_to_l1(s, size);
        ret = qcow2_grow_l1_table(s, l1, true, errp);
        if (ret == 0) {
            uint8_t be[8];
            stq_be(be, size);
            ret = qcow2_write_header_field(s, QCOW2_HDR_SIZE, be, 8, true, errp);
            bs->total_size = size;
            s->l1_vm_state_index = l1;
        }
    }
    bdrv_close(bs);
    if (ret < 0) {
        error_prepend(errp, "Could not create '%s': ", filename);
    }
    return ret;
}

const BlockDriver bdrv_qcow2 = {
    .format_name = "qcow2",
    .state_size = sizeof(BDRVQcow2State),
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .create = qcow2_create,
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pdiscard = qcow2_pdiscard,
    .pwrite_compressed = qcow2_pwrite_compressed,
    .flush = qcow2_flush,
    .truncate = qcow2_truncate,
    .get_allocated_file_size = qcow2_get_allocated_file_size,
    .block_status = qcow2_block_status,
    .cluster_size = qcow2_cluster_size,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_goto = qcow2_snapshot_goto,
    .snapshot_delete = qcow2_snapshot_delete,
    .snapshot_list = qcow2_snapshot_list,
    .snapshot_load_tmp = qcow2_snapshot_load_tmp,
    .save_vmstate = qcow2_save_vmstate,
    .load_vmstate = qcow2_load_vmstate,
    .check = qcow2_check,
    .get_info = qcow2_get_info,
};
