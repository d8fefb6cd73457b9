/*
 * Unit tests for the block layer and the qcow2 driver: header and
 * snapshot-table encoding, refcount entries of every width, cluster
 * mapping, refcounts through snapshots, hostile headers, VM state,
 * backing files, lazy refcounts and corruption handling.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "../../block/qcow2.h"

static char tmpdir[64];

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

static BlockDriverState *open_ok(const char *path, const char *fmt, int flags)
{
    BlockDriverState *bs = NULL;
    Error *err = NULL;
    int ret = bdrv_open(&bs, path, fmt, flags, &err);
    ck_assert_msg(ret == 0, "open %s: %s", path, err ? error_get_pretty(err) : "?");
    return bs;
}

static char *create_qcow2(const char *name, uint64_t size, uint32_t cluster_size,
                          int version, int refcount_bits)
{
    char *path = tmp_path(name);
    BlockCreateOptions opts = {
        .format = "qcow2", .size = size, .cluster_size = cluster_size,
        .compat_version = version, .refcount_bits = refcount_bits,
    };
    Error *err = NULL;
    int ret = bdrv_create(path, &opts, &err);
    ck_assert_msg(ret == 0, "create: %s", err ? error_get_pretty(err) : "?");
    return path;
}

/* Error message of a failed open, for matching. */
static char *open_error(const char *path, const char *fmt, int flags)
{
    BlockDriverState *bs = NULL;
    Error *err = NULL;
    int ret = bdrv_open(&bs, path, fmt, flags, &err);
    if (ret == 0) {
        bdrv_close(bs);
        return NULL;
    }
    char *msg = xstrdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

static void patch_file(const char *path, off_t offset, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, data, len, offset), (ssize_t)len);
    close(fd);
}

static void patch_be32(const char *path, off_t offset, uint32_t v)
{
    uint8_t b[4];
    stl_be(b, v);
    patch_file(path, offset, b, 4);
}

static void patch_be64(const char *path, off_t offset, uint64_t v)
{
    uint8_t b[8];
    stq_be(b, v);
    patch_file(path, offset, b, 8);
}

static void fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed + i * 7 + (i >> 9));
    }
}

static void check_clean(BlockDriverState *bs)
{
    BdrvCheckResult res;
    Error *err = NULL;
    ck_assert_int_eq(bdrv_check(bs, &res, 0, NULL, NULL, &err), 0);
    ck_assert_msg(res.corruptions == 0 && res.leaks == 0 && res.check_errors == 0,
                  "check: %d corruptions, %d leaks, %d errors", res.corruptions, res.leaks,
                  res.check_errors);
}

/* ---- encodings --------------------------------------------------- */

START_TEST(test_header_roundtrip)
{
    uint8_t buf[4096] = { 0 };
    Qcow2Header h = {
        .version = 3, .backing_file_offset = 0x200, .backing_file_size = 5,
        .cluster_bits = 16, .size = 1 * GiB, .l1_size = 2, .l1_table_offset = 0x30000,
        .refcount_table_offset = 0x10000, .refcount_table_clusters = 1,
        .nb_snapshots = 3, .snapshots_offset = 0x40000, .incompatible_features = 1,
        .compatible_features = 1, .autoclear_features = 2, .refcount_order = 4,
        .header_length = 112,
    };
    size_t n = qcow2_header_encode(&h, buf);
    ck_assert_uint_eq(n, 112);
    ck_assert_uint_eq(ldl_be(buf), QCOW2_MAGIC);
    Qcow2Header d;
    ck_assert_int_eq(qcow2_header_decode(&d, buf, sizeof(buf), NULL), 0);
    ck_assert_uint_eq(d.size, h.size);
    ck_assert_uint_eq(d.l1_table_offset, h.l1_table_offset);
    ck_assert_uint_eq(d.snapshots_offset, h.snapshots_offset);
    ck_assert_uint_eq(d.incompatible_features, 1);
    ck_assert_uint_eq(d.autoclear_features, 2);
    ck_assert_uint_eq(d.header_length, 112);

    /* v2: 72 bytes, refcount order implied */
    h.version = 2;
    ck_assert_uint_eq(qcow2_header_encode(&h, buf), 72);
    ck_assert_int_eq(qcow2_header_decode(&d, buf, sizeof(buf), NULL), 0);
    ck_assert_uint_eq(d.refcount_order, 4);
    ck_assert_uint_eq(d.header_length, 72);
    ck_assert_uint_eq(d.incompatible_features, 0);

    Error *err = NULL;
    stl_be(buf + 4, 1);
    ck_assert_int_lt(qcow2_header_decode(&d, buf, sizeof(buf), &err), 0);
    ck_assert_str_eq(error_get_pretty(err), "Unsupported qcow2 version 1");
    error_free_or_abort(&err);
    stl_be(buf, 0x12345678);
    ck_assert_int_lt(qcow2_header_decode(&d, buf, sizeof(buf), &err), 0);
    error_free_or_abort(&err);

    h.version = 3;
    qcow2_header_encode(&h, buf);
    stl_be(buf + 100, 96);   /* header_length below the v3 minimum */
    ck_assert_int_lt(qcow2_header_decode(&d, buf, sizeof(buf), &err), 0);
    error_free_or_abort(&err);
    stl_be(buf + 100, 8192); /* longer than what was read */
    ck_assert_int_lt(qcow2_header_decode(&d, buf, sizeof(buf), &err), 0);
    error_free_or_abort(&err);
    ck_assert_int_lt(qcow2_header_decode(&d, buf, 50, &err), 0);
    error_free_or_abort(&err);
}
END_TEST

START_TEST(test_refcount_widths)
{
    BDRVQcow2State s = { 0 };
    uint8_t block[512];
    for (int order = 0; order <= 6; order++) {
        s.refcount_order = order;
        uint64_t max = order == 6 ? UINT64_MAX : (1ULL << (1 << order)) - 1;
        uint32_t entries = 512 * 8 >> order;
        memset(block, 0, sizeof(block));
        for (uint32_t i = 0; i < entries; i++) {
            qcow2_refblock_set(&s, block, i, (i * 2654435761u) & max);
        }
        for (uint32_t i = 0; i < entries; i++) {
            ck_assert_uint_eq(qcow2_refblock_get(&s, block, i), (i * 2654435761u) & max);
        }
        /* Setting one entry leaves its neighbours alone. */
        qcow2_refblock_set(&s, block, 5, max);
        ck_assert_uint_eq(qcow2_refblock_get(&s, block, 5), max);
        ck_assert_uint_eq(qcow2_refblock_get(&s, block, 4), (4 * 2654435761u) & max);
        ck_assert_uint_eq(qcow2_refblock_get(&s, block, 6), (6 * 2654435761u) & max);
        qcow2_refblock_set(&s, block, 5, 0);
        ck_assert_uint_eq(qcow2_refblock_get(&s, block, 5), 0);
    }
    /* Sub-byte entries: bit 0 is the least significant bit. */
    s.refcount_order = 0;
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(&s, block, 0, 1);
    ck_assert_uint_eq(block[0], 0x01);
    s.refcount_order = 2;
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(&s, block, 1, 0xf);
    ck_assert_uint_eq(block[0], 0xf0);
    s.refcount_order = 4;
    memset(block, 0, sizeof(block));
    qcow2_refblock_set(&s, block, 1, 0x1234);
    ck_assert_uint_eq(block[2], 0x12);
    ck_assert_uint_eq(block[3], 0x34);
}
END_TEST

START_TEST(test_snapshot_entry)
{
    uint8_t extra[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    Qcow2Snapshot sn = {
        .l1_table_offset = 0x50000, .l1_size = 16, .id_str = "12", .name = "before upgrade",
        .disk_size = 8 * GiB, .vm_state_size = 5ULL << 32, .date_sec = 1700000000,
        .date_nsec = 123456789, .vm_clock_nsec = 987654321012ULL, .icount = UINT64_MAX,
        .extra_data_size = 32, .unknown_extra = extra,
    };
    size_t size = qcow2_snapshot_entry_size(&sn);
    ck_assert_uint_eq(size, ALIGN_UP(40 + 32 + 2 + 14, 8));
    uint8_t *buf = xzalloc(size);
    ck_assert_uint_eq(qcow2_snapshot_encode(&sn, buf), size);
    /* A VM state above 4 GiB: the 32-bit field is zero, the 64-bit one exact. */
    ck_assert_uint_eq(ldl_be(buf + 32), 0);
    ck_assert_uint_eq(ldq_be(buf + 40), 5ULL << 32);

    Qcow2Snapshot d;
    ck_assert_int_eq(qcow2_snapshot_decode(&d, buf, size, 1, NULL), (int64_t)size);
    ck_assert_str_eq(d.id_str, "12");
    ck_assert_str_eq(d.name, "before upgrade");
    ck_assert_uint_eq(d.l1_table_offset, 0x50000);
    ck_assert_uint_eq(d.l1_size, 16);
    ck_assert_uint_eq(d.disk_size, 8 * GiB);
    ck_assert_uint_eq(d.vm_state_size, 5ULL << 32);
    ck_assert_uint_eq(d.vm_clock_nsec, 987654321012ULL);
    ck_assert_uint_eq(d.icount, UINT64_MAX);
    ck_assert_uint_eq(d.extra_data_size, 32);
    ck_assert_mem_eq(d.unknown_extra, extra, 8);
    qcow2_snapshot_clear(&d);

    /* Truncated entries, oversized extra data, NUL in a name. */
    Error *err = NULL;
    ck_assert_int_lt(qcow2_snapshot_decode(&d, buf, size - 10, 1, &err), 0);
    error_free_or_abort(&err);
    ck_assert_int_lt(qcow2_snapshot_decode(&d, buf, 20, 1, &err), 0);
    error_free_or_abort(&err);
    uint8_t *bad = xzalloc(size);
    memcpy(bad, buf, size);
    stl_be(bad + 36, 2000);
    ck_assert_int_lt(qcow2_snapshot_decode(&d, bad, size, 1, &err), 0);
    error_free_or_abort(&err);
    memcpy(bad, buf, size);
    bad[40 + 32 + 2 + 3] = 0;
    ck_assert_int_lt(qcow2_snapshot_decode(&d, bad, size, 1, &err), 0);
    error_free_or_abort(&err);

    /* An old entry without extra data: sizes from the fallback values. */
    memset(bad, 0, size);
    stq_be(bad, 0x20000);
    stl_be(bad + 8, 4);
    stw_be(bad + 12, 1);
    stw_be(bad + 14, 1);
    stl_be(bad + 32, 4096);
    memcpy(bad + 40, "1a", 2);
    ck_assert_int_eq(qcow2_snapshot_decode(&d, bad, 48, 777, NULL), 48);
    ck_assert_uint_eq(d.disk_size, 777);
    ck_assert_uint_eq(d.vm_state_size, 4096);
    ck_assert_uint_eq(d.icount, UINT64_MAX);
    ck_assert_str_eq(d.id_str, "1");
    ck_assert_str_eq(d.name, "a");
    qcow2_snapshot_clear(&d);
    free(bad);
    free(buf);
}
END_TEST

/* ---- mapping and refcounts --------------------------------------- */

START_TEST(test_cluster_mapping)
{
    char *path = create_qcow2("map.qcow2", 16 * MiB, 4096, 3, 16);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    BDRVQcow2State *s = bs->opaque;
    uint8_t buf[3 * 4096], rd[3 * 4096];
    uint64_t n, host;
    Qcow2ClusterType type;

    n = 1 * MiB;
    ck_assert_int_eq(qcow2_get_host_offset(s, 0, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_UNALLOCATED);
    /* One L2 table covers 512 clusters of 4 KiB: never past it. */
    ck_assert_uint_eq(n, 1 * MiB);
    n = 4 * MiB;
    ck_assert_int_eq(qcow2_get_host_offset(s, 1000, &n, &host, &type, NULL), 0);
    ck_assert_uint_eq(n, 2 * MiB - 1000);

    /* A write across three clusters lands in contiguous host clusters. */
    fill(buf, sizeof(buf), 3);
    ck_assert_int_eq(bdrv_pwrite(bs, 8192 + 100, buf, sizeof(buf) - 200, NULL), 0);
    n = sizeof(buf);
    ck_assert_int_eq(qcow2_get_host_offset(s, 8192, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_NORMAL);
    ck_assert_uint_eq(n, sizeof(buf));
    ck_assert_uint_eq(host & 4095, 0);
    uint64_t rc;
    ck_assert_int_eq(qcow2_get_refcount(s, host >> 12, &rc, NULL), 0);
    ck_assert_uint_eq(rc, 1);
    ck_assert_int_eq(bdrv_pread(bs, 8192, rd, sizeof(rd), NULL), 0);
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_eq(rd[i], 0);
        ck_assert_uint_eq(rd[sizeof(rd) - 1 - i], 0);
    }
    ck_assert_mem_eq(rd + 100, buf, sizeof(buf) - 200);

    /* Zero clusters (v3) and compressed clusters. */
    ck_assert_int_eq(bdrv_pwrite_zeroes(bs, 8192, 4096, 0, NULL), 0);
    n = 4096;
    ck_assert_int_eq(qcow2_get_host_offset(s, 8192, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_ZERO_ALLOC);
    ck_assert_int_eq(bdrv_pwrite_zeroes(bs, 8192, 4096, BDRV_REQ_MAY_UNMAP, NULL), 0);
    n = 4096;
    ck_assert_int_eq(qcow2_get_host_offset(s, 8192, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_UNALLOCATED);
    ck_assert_int_eq(bdrv_pread(bs, 8192, rd, 4096, NULL), 0);
    for (int i = 0; i < 4096; i++) {
        ck_assert_uint_eq(rd[i], 0);
    }
    memset(buf, 'x', 4096);
    ck_assert_int_eq(bdrv_pwrite_compressed(bs, 1 * MiB, buf, 4096, NULL), 0);
    n = 4096;
    ck_assert_int_eq(qcow2_get_host_offset(s, 1 * MiB, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_COMPRESSED);
    ck_assert_int_eq(bdrv_pread(bs, 1 * MiB, rd, 4096, NULL), 0);
    ck_assert_mem_eq(rd, buf, 4096);
    /* Overwriting part of a compressed cluster decompresses for COW. */
    ck_assert_int_eq(bdrv_pwrite(bs, 1 * MiB + 10, "ab", 2, NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 1 * MiB, rd, 4096, NULL), 0);
    ck_assert_uint_eq(rd[9], 'x');
    ck_assert_uint_eq(rd[10], 'a');
    ck_assert_uint_eq(rd[11], 'b');
    ck_assert_uint_eq(rd[12], 'x');

    int status;
    int64_t map;
    /* Clusters 0-2 unallocated (2 was unmapped), then data. */
    ck_assert_int_eq(bdrv_block_status(bs, 0, 16 * MiB, &status, &map, NULL), 12288);
    ck_assert_int_eq(status, BDRV_BLOCK_ZERO);
    check_clean(bs);
    bdrv_close(bs);
    free(path);
}
END_TEST

START_TEST(test_snapshot_refcounts)
{
    char *path = create_qcow2("snap.qcow2", 4 * MiB, 512, 3, 16);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    BDRVQcow2State *s = bs->opaque;
    uint8_t buf[4096], rd[4096];
    uint64_t n, host, rc;
    Qcow2ClusterType type;

    fill(buf, sizeof(buf), 1);
    ck_assert_int_eq(bdrv_pwrite(bs, 0, buf, sizeof(buf), NULL), 0);
    n = 512;
    ck_assert_int_eq(qcow2_get_host_offset(s, 0, &n, &host, &type, NULL), 0);
    uint64_t first_host = host;

    QEMUSnapshotInfo sn = { .name = "a" };
    ck_assert_int_eq(bdrv_snapshot_create(bs, &sn, NULL), 0);
    ck_assert_str_eq(sn.id_str, "1");
    ck_assert_int_eq(qcow2_get_refcount(s, first_host >> 9, &rc, NULL), 0);
    ck_assert_uint_eq(rc, 2);
    ck_assert(!(s->l1_table[0] & QCOW_OFLAG_COPIED));

    /* A write now copies: new cluster, the old one stays with the snapshot. */
    fill(buf, sizeof(buf), 2);
    ck_assert_int_eq(bdrv_pwrite(bs, 100, buf, 300, NULL), 0);
    n = 512;
    ck_assert_int_eq(qcow2_get_host_offset(s, 0, &n, &host, &type, NULL), 0);
    ck_assert_uint_ne(host, first_host);
    ck_assert_int_eq(qcow2_get_refcount(s, first_host >> 9, &rc, NULL), 0);
    ck_assert_uint_eq(rc, 1);
    check_clean(bs);

    QEMUSnapshotInfo sn2 = { .name = "b" };
    ck_assert_int_eq(bdrv_snapshot_create(bs, &sn2, NULL), 0);
    ck_assert_str_eq(sn2.id_str, "2");
    /* A given id that exists is refused. */
    QEMUSnapshotInfo dup = { .id_str = "2", .name = "c" };
    ck_assert_int_eq(bdrv_snapshot_create(bs, &dup, NULL), -EEXIST);

    ck_assert_int_eq(bdrv_snapshot_goto(bs, "a", NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 0, rd, sizeof(rd), NULL), 0);
    fill(buf, sizeof(buf), 1);
    ck_assert_mem_eq(rd, buf, sizeof(buf));
    check_clean(bs);

    ck_assert_int_eq(bdrv_snapshot_delete(bs, NULL, "a", NULL), 0);
    check_clean(bs);
    /* Only the active image uses the first clusters again: COPIED back. */
    n = 512;
    ck_assert_int_eq(qcow2_get_host_offset(s, 0, &n, &host, &type, NULL), 0);
    ck_assert_uint_eq(host, first_host);
    ck_assert_int_eq(qcow2_get_refcount(s, first_host >> 9, &rc, NULL), 0);
    ck_assert_uint_eq(rc, 1);

    ck_assert_int_eq(bdrv_snapshot_goto(bs, "2", NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 100, rd, 300, NULL), 0);
    fill(buf, sizeof(buf), 2);
    ck_assert_mem_eq(rd, buf, 300);
    QEMUSnapshotInfo found;
    ck_assert_int_eq(bdrv_snapshot_find(bs, &found, "b"), 0);
    ck_assert_str_eq(found.id_str, "2");
    ck_assert_int_eq(bdrv_snapshot_find(bs, &found, "a"), -ENOENT);
    ck_assert_int_eq(bdrv_snapshot_goto(bs, "nope", NULL), -ENOENT);
    check_clean(bs);
    bdrv_close(bs);

    /* Read-only view of a snapshot. */
    bs = open_ok(path, NULL, 0);
    ck_assert_int_eq(bdrv_snapshot_load_tmp(bs, NULL, "b", NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 100, rd, 300, NULL), 0);
    ck_assert_mem_eq(rd, buf, 300);
    bdrv_close(bs);
    free(path);
}
END_TEST

START_TEST(test_refcount_overflow)
{
    /* One-bit refcounts cannot share clusters: snapshots must fail and
     * leave the image as it was. */
    char *path = create_qcow2("rc1.qcow2", 1 * MiB, 4096, 3, 1);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    uint8_t buf[8192];
    fill(buf, sizeof(buf), 9);
    ck_assert_int_eq(bdrv_pwrite(bs, 4096, buf, sizeof(buf), NULL), 0);
    QEMUSnapshotInfo sn = { .name = "x" };
    Error *err = NULL;
    ck_assert_int_lt(bdrv_snapshot_create(bs, &sn, &err), 0);
    ck_assert_ptr_nonnull(strstr(error_get_pretty(err), "refcount"));
    error_free(err);
    QEMUSnapshotInfo *tab;
    ck_assert_int_eq(bdrv_snapshot_list(bs, &tab, NULL), 0);
    free(tab);
    check_clean(bs);
    ck_assert_int_eq(bdrv_pwrite(bs, 0, buf, sizeof(buf), NULL), 0);
    check_clean(bs);
    bdrv_close(bs);
    free(path);
}
END_TEST

START_TEST(test_refcount_table_growth)
{
    /* 512-byte clusters, 64-bit refcounts: a block covers 64 clusters,
     * the first table 4096; writing 8 MiB needs many blocks and a
     * bigger table. */
    char *path = create_qcow2("grow.qcow2", 16 * MiB, 512, 3, 64);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    BDRVQcow2State *s = bs->opaque;
    uint32_t old_size = s->refcount_table_size;
    uint8_t *buf = xmalloc(1 * MiB), *rd = xmalloc(1 * MiB);
    for (int i = 0; i < 8; i++) {
        fill(buf, 1 * MiB, i);
        ck_assert_int_eq(bdrv_pwrite(bs, (uint64_t)i * 2 * MiB, buf, 1 * MiB, NULL), 0);
    }
    ck_assert_uint_gt(s->refcount_table_size, old_size);
    for (int i = 0; i < 8; i++) {
        fill(buf, 1 * MiB, i);
        ck_assert_int_eq(bdrv_pread(bs, (uint64_t)i * 2 * MiB, rd, 1 * MiB, NULL), 0);
        ck_assert_mem_eq(rd, buf, 1 * MiB);
    }
    check_clean(bs);
    bdrv_close(bs);
    free(buf);
    free(rd);
    free(path);
}
END_TEST

/* ---- hostile and unsupported headers ----------------------------- */

static void expect_open_error(const char *path, int flags, const char *needle)
{
    char *msg = open_error(path, NULL, flags);
    ck_assert_msg(msg != NULL, "open of %s unexpectedly succeeded", path);
    ck_assert_msg(strstr(msg, needle) != NULL, "'%s' does not contain '%s'", msg, needle);
    free(msg);
}

START_TEST(test_bad_headers)
{
    char *path = create_qcow2("bad.qcow2", 1 * MiB, 65536, 3, 16);
    char *copy = tmp_path("bad2.qcow2");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp %s %s", path, copy);

#define FRESH() ck_assert_int_eq(system(cmd), 0)
    FRESH(); patch_be32(copy, 20, 8);
    expect_open_error(copy, 0, "Unsupported cluster size: 2^8");
    FRESH(); patch_be32(copy, 20, 22);
    expect_open_error(copy, 0, "Unsupported cluster size: 2^22");
    FRESH(); patch_be32(copy, 4, 1);
    expect_open_error(copy, 0, "Unsupported qcow2 version 1");
    FRESH(); patch_be64(copy, 72, 1ULL << 40);
    expect_open_error(copy, 0, "Unsupported qcow2 feature(s)");
    FRESH(); patch_be64(copy, 72, 1ULL << 4);
    expect_open_error(copy, 0, "Extended L2 entries");
    FRESH(); patch_be64(copy, 72, 1ULL << 2);
    expect_open_error(copy, 0, "External data files");
    FRESH(); patch_be64(copy, 72, 1ULL << 3);
    { uint8_t one = 1; patch_file(copy, 104, &one, 1); }
    expect_open_error(copy, 0, "zstd");
    FRESH(); patch_be32(copy, 32, 1);
    expect_open_error(copy, 0, "Encrypted images are not supported");
    FRESH(); patch_be32(copy, 36, 0);
    expect_open_error(copy, 0, "L1 table is too small");
    FRESH(); patch_be32(copy, 36, 0x1000000);
    expect_open_error(copy, 0, "Active L1 table too large");
    FRESH(); patch_be64(copy, 40, 0x30001);
    expect_open_error(copy, 0, "not cluster aligned");
    FRESH(); patch_be32(copy, 56, 0);
    expect_open_error(copy, 0, "does not contain a reference count table");
    FRESH(); patch_be32(copy, 60, 70000);
    expect_open_error(copy, 0, "Too many snapshots");
    FRESH(); patch_be32(copy, 96, 7);
    expect_open_error(copy, 0, "may not exceed 64 bits");
    FRESH(); patch_be64(copy, 8, 0x10000);
    patch_be32(copy, 16, 100);
    expect_open_error(copy, 0, "Backing file name is not inside the header cluster");
    /* An extension claiming more bytes than the cluster has. */
    FRESH(); patch_be32(copy, 112 + 4, 0x7fffffff);
    expect_open_error(copy, 0, "does not fit");
    /* The corrupt bit: read-only is fine, read-write is refused. */
    FRESH(); patch_be64(copy, 72, 2);
    expect_open_error(copy, BDRV_O_RDWR, "Image is corrupt; cannot be opened read/write");
    BlockDriverState *bs = open_ok(copy, NULL, 0);
    bdrv_close(bs);
    bs = open_ok(copy, NULL, BDRV_O_RDWR | BDRV_O_CHECK);
    bdrv_close(bs);
#undef FRESH
    free(path);
    free(copy);
}
END_TEST

START_TEST(test_probe_and_raw)
{
    char *path = create_qcow2("probe.qcow2", 1 * MiB, 0, 0, 0);
    ck_assert_str_eq(bdrv_probe_format(path, NULL), "qcow2");
    BlockDriverState *bs = open_ok(path, NULL, 0);
    ck_assert_str_eq(bdrv_get_format_name(bs), "qcow2");
    ck_assert_int_eq(bdrv_getlength(bs), 1 * MiB);
    bdrv_close(bs);
    /* Asked for explicitly, the same file is a raw disk. */
    bs = open_ok(path, "raw", 0);
    ck_assert_str_eq(bdrv_get_format_name(bs), "raw");
    bdrv_close(bs);

    char *raw = tmp_path("disk.raw");
    BlockCreateOptions opts = { .format = "raw", .size = 64 * KiB };
    ck_assert_int_eq(bdrv_create(raw, &opts, NULL), 0);
    ck_assert_str_eq(bdrv_probe_format(raw, NULL), "raw");
    bs = open_ok(raw, NULL, BDRV_O_RDWR);
    ck_assert_int_eq(bdrv_pwrite(bs, 1000, "hello", 5, NULL), 0);
    char rd[5];
    ck_assert_int_eq(bdrv_pread(bs, 1000, rd, 5, NULL), 0);
    ck_assert_mem_eq(rd, "hello", 5);
    ck_assert_int_eq(bdrv_pread(bs, 64 * KiB - 2, rd, 5, NULL), -EIO);
    ck_assert_int_eq(bdrv_truncate(bs, 128 * KiB, NULL), 0);
    ck_assert_int_eq(bdrv_getlength(bs), 128 * KiB);
    QEMUSnapshotInfo sn = { .name = "x" };
    ck_assert_int_eq(bdrv_snapshot_create(bs, &sn, NULL), -ENOTSUP);
    ck_assert_int_eq(bdrv_save_vmstate(bs, "x", 0, 1, NULL), -ENOTSUP);
    bdrv_close(bs);
    /* A read-only open refuses writes. */
    bs = open_ok(raw, NULL, 0);
    ck_assert_int_eq(bdrv_pwrite(bs, 0, "x", 1, NULL), -EACCES);
    bdrv_close(bs);
    /* A qcow2 v1 header is refused rather than read as raw. */
    char *v1 = tmp_path("v1.img");
    ck_assert_int_eq(bdrv_create(v1, &opts, NULL), 0);
    uint8_t hdr[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 1 };
    patch_file(v1, 0, hdr, sizeof(hdr));
    expect_open_error(v1, 0, "Unsupported qcow2 version 1");
    free(v1);
    free(raw);
    free(path);
}
END_TEST

/* ---- VM state, backing files, resize ----------------------------- */

START_TEST(test_vmstate)
{
    char *path = create_qcow2("vm.qcow2", 3 * MiB, 65536, 3, 16);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    BDRVQcow2State *s = bs->opaque;
    size_t len = 300000;
    uint8_t *state = xmalloc(len), *rd = xmalloc(len);
    fill(state, len, 42);
    ck_assert_int_eq(bdrv_save_vmstate(bs, state, 0, len, NULL), 0);
    ck_assert_int_eq(bdrv_load_vmstate(bs, rd, 0, len, NULL), 0);
    ck_assert_mem_eq(rd, state, len);
    /* It lives right after the disk's last L2 range, like QEMU's. */
    uint64_t n = 65536, host;
    Qcow2ClusterType type;
    uint64_t vm_offset = 512 * MiB;  /* 3 MiB disk, 64 KiB clusters: one L2 range */
    ck_assert_int_eq(qcow2_get_host_offset(s, vm_offset, &n, &host, &type, NULL), 0);
    ck_assert_int_eq(type, QCOW2_CLUSTER_NORMAL);

    QEMUSnapshotInfo sn = { .name = "with-state", .vm_state_size = len };
    ck_assert_int_eq(bdrv_snapshot_create(bs, &sn, NULL), 0);
    /* The active image no longer holds it... */
    ck_assert_int_eq(bdrv_load_vmstate(bs, rd, 0, 4096, NULL), 0);
    for (int i = 0; i < 4096; i++) {
        ck_assert_uint_eq(rd[i], 0);
    }
    check_clean(bs);
    /* ...and it comes back with the snapshot. */
    ck_assert_int_eq(bdrv_snapshot_goto(bs, "with-state", NULL), 0);
    ck_assert_int_eq(bdrv_load_vmstate(bs, rd, 0, len, NULL), 0);
    ck_assert_mem_eq(rd, state, len);
    QEMUSnapshotInfo *tab;
    ck_assert_int_eq(bdrv_snapshot_list(bs, &tab, NULL), 1);
    ck_assert_uint_eq(tab[0].vm_state_size, len);
    ck_assert_uint_eq(tab[0].disk_size, 3 * MiB);
    free(tab);
    check_clean(bs);
    bdrv_close(bs);
    free(state);
    free(rd);
    free(path);
}
END_TEST

START_TEST(test_backing_file)
{
    char *base = create_qcow2("base.qcow2", 2 * MiB, 4096, 2, 16);
    BlockDriverState *bs = open_ok(base, NULL, BDRV_O_RDWR);
    uint8_t buf[65536], rd[65536];
    fill(buf, sizeof(buf), 5);
    ck_assert_int_eq(bdrv_pwrite(bs, 0, buf, sizeof(buf), NULL), 0);
    bdrv_close(bs);

    char *top = tmp_path("top.qcow2");
    BlockCreateOptions opts = {
        .format = "qcow2", .size = 0, .cluster_size = 65536,
        .backing_file = "base.qcow2", .backing_fmt = "qcow2",
    };
    ck_assert_int_eq(bdrv_create(top, &opts, NULL), 0);
    bs = open_ok(top, NULL, BDRV_O_RDWR);
    ck_assert_int_eq(bdrv_getlength(bs), 2 * MiB);
    ck_assert_ptr_nonnull(bdrv_get_backing(bs));
    ck_assert_int_eq(bdrv_pread(bs, 0, rd, sizeof(rd), NULL), 0);
    ck_assert_mem_eq(rd, buf, sizeof(buf));
    /* A small write copies the rest of the cluster up from the base. */
    ck_assert_int_eq(bdrv_pwrite(bs, 1000, "zz", 2, NULL), 0);
    buf[1000] = buf[1001] = 'z';
    ck_assert_int_eq(bdrv_pread(bs, 0, rd, sizeof(rd), NULL), 0);
    ck_assert_mem_eq(rd, buf, sizeof(buf));
    /* Zeroes over backing data need the zero flag. */
    ck_assert_int_eq(bdrv_pwrite_zeroes(bs, 0, 65536, BDRV_REQ_MAY_UNMAP, NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 0, rd, sizeof(rd), NULL), 0);
    for (size_t i = 0; i < sizeof(rd); i++) {
        ck_assert_uint_eq(rd[i], 0);
    }
    /* Growing past a longer backing file shows zeroes, not its data. */
    ck_assert_int_eq(bdrv_truncate(bs, 4 * MiB, NULL), 0);
    BlockImageInfo info;
    ck_assert_int_eq(bdrv_get_info(bs, &info, NULL), 0);
    ck_assert_str_eq(info.backing_file, "base.qcow2");
    ck_assert_str_eq(info.backing_fmt, "qcow2");
    check_clean(bs);
    bdrv_close(bs);
    bs = open_ok(top, NULL, 0);
    ck_assert_int_eq(bdrv_getlength(bs), 4 * MiB);
    ck_assert_int_eq(bdrv_pread(bs, 3 * MiB, rd, sizeof(rd), NULL), 0);
    for (size_t i = 0; i < sizeof(rd); i++) {
        ck_assert_uint_eq(rd[i], 0);
    }
    bdrv_close(bs);

    /* A loop in the backing chain is refused, not followed forever. */
    char *loop = tmp_path("loop.qcow2");
    BlockCreateOptions lopts = {
        .format = "qcow2", .size = 1 * MiB, .backing_file = "loop.qcow2",
        .backing_fmt = "qcow2",
    };
    ck_assert_int_eq(bdrv_create(loop, &lopts, NULL), 0);
    char *msg = open_error(loop, NULL, 0);
    ck_assert_ptr_nonnull(msg);
    ck_assert_ptr_nonnull(strstr(msg, "backing chain"));
    free(msg);
    free(loop);
    free(top);
    free(base);
}
END_TEST

START_TEST(test_resize)
{
    char *path = create_qcow2("resize.qcow2", 1 * MiB, 65536, 3, 16);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    uint8_t buf[4096], rd[4096];
    memset(buf, 0xab, sizeof(buf));
    ck_assert_int_eq(bdrv_pwrite(bs, 1 * MiB - 4096, buf, sizeof(buf), NULL), 0);
    /* Data written past the end must not reappear after shrink + grow. */
    ck_assert_int_eq(bdrv_truncate(bs, 1 * MiB - 2048, NULL), 0);
    ck_assert_int_eq(bdrv_truncate(bs, 2 * GiB, NULL), 0);
    ck_assert_int_eq(bdrv_pread(bs, 1 * MiB - 4096, rd, sizeof(rd), NULL), 0);
    ck_assert_mem_eq(rd, buf, 2048);
    for (int i = 2048; i < 4096; i++) {
        ck_assert_uint_eq(rd[i], 0);
    }
    ck_assert_int_eq(bdrv_pwrite(bs, 2 * GiB - 4096, buf, sizeof(buf), NULL), 0);
    ck_assert_int_eq(bdrv_truncate(bs, 1000, NULL), -EINVAL);
    check_clean(bs);
    bdrv_close(bs);
    bs = open_ok(path, NULL, 0);
    ck_assert_int_eq(bdrv_getlength(bs), 2 * GiB);
    ck_assert_int_eq(bdrv_pread(bs, 2 * GiB - 4096, rd, sizeof(rd), NULL), 0);
    ck_assert_mem_eq(rd, buf, sizeof(buf));
    bdrv_close(bs);
    free(path);
}
END_TEST

/* ---- dirty bit, lazy refcounts, corruption ------------------------ */

START_TEST(test_lazy_refcounts_crash)
{
    char *path = tmp_path("lazy.qcow2");
    BlockCreateOptions opts = {
        .format = "qcow2", .size = 4 * MiB, .cluster_size = 4096, .lazy_refcounts = true,
    };
    ck_assert_int_eq(bdrv_create(path, &opts, NULL), 0);
    /* A child writes and dies without closing: the image stays dirty. */
    pid_t pid = fork();
    if (pid == 0) {
        BlockDriverState *bs;
        if (bdrv_open(&bs, path, NULL, BDRV_O_RDWR, NULL) < 0) {
            _exit(2);
        }
        uint8_t buf[16384];
        memset(buf, 0x5a, sizeof(buf));
        for (int i = 0; i < 20; i++) {
            if (bdrv_pwrite(bs, i * 65536, buf, sizeof(buf), NULL) < 0) {
                _exit(3);
            }
        }
        /* Data and L2 tables out, refcounts possibly not: no close. */
        BDRVQcow2State *s = bs->opaque;
        qcow2_cache_flush(s->l2_cache, NULL);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    BlockDriverState *bs = open_ok(path, NULL, 0);
    BlockImageInfo info;
    ck_assert_int_eq(bdrv_get_info(bs, &info, NULL), 0);
    ck_assert(info.dirty);
    bdrv_close(bs);
    /* Opening read-write repairs it. */
    bs = open_ok(path, NULL, BDRV_O_RDWR);
    ck_assert_int_eq(bdrv_get_info(bs, &info, NULL), 0);
    ck_assert(!info.dirty);
    check_clean(bs);
    uint8_t rd[16384];
    ck_assert_int_eq(bdrv_pread(bs, 19 * 65536, rd, sizeof(rd), NULL), 0);
    for (size_t i = 0; i < sizeof(rd); i++) {
        ck_assert_uint_eq(rd[i], 0x5a);
    }
    bdrv_close(bs);
    free(path);
}
END_TEST

START_TEST(test_corruption_detected)
{
    char *path = create_qcow2("corrupt.qcow2", 1 * MiB, 65536, 3, 16);
    BlockDriverState *bs = open_ok(path, NULL, BDRV_O_RDWR);
    uint8_t buf[512];
    memset(buf, 1, sizeof(buf));
    ck_assert_int_eq(bdrv_pwrite(bs, 0, buf, sizeof(buf), NULL), 0);
    BDRVQcow2State *s = bs->opaque;
    uint64_t l2_offset = s->l1_table[0] & L1E_OFFSET_MASK;
    bdrv_close(bs);
    /* Point the first data cluster at the header. */
    patch_be64(path, l2_offset, QCOW_OFLAG_COPIED | 0);
    patch_be64(path, l2_offset + 8, QCOW_OFLAG_COPIED | 0x10000);
    bs = open_ok(path, NULL, BDRV_O_RDWR);
    Error *err = NULL;
    ck_assert_int_eq(bdrv_pwrite(bs, 65536, buf, sizeof(buf), &err), -EIO);
    ck_assert_ptr_nonnull(strstr(error_get_pretty(err), "refcount table"));
    error_free_or_abort(&err);
    /* Marked corrupt: no more writes, and no read-write open later. */
    ck_assert_int_eq(bdrv_pwrite(bs, 4 * 65536, buf, sizeof(buf), NULL), -EIO);
    bdrv_close(bs);
    expect_open_error(path, BDRV_O_RDWR, "Image is corrupt");
    /* An unaligned data cluster is reported, not followed. */
    patch_be64(path, 72, 0);
    patch_be64(path, l2_offset + 8, QCOW_OFLAG_COPIED | 0x10200);
    bs = open_ok(path, NULL, 0);
    ck_assert_int_eq(bdrv_pread(bs, 65536, buf, sizeof(buf), &err), -EIO);
    ck_assert_ptr_nonnull(strstr(error_get_pretty(err), "not cluster aligned"));
    error_free(err);
    bdrv_close(bs);
    free(path);
}
END_TEST

static void rm_tmpdir(void)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

int main(void)
{
    /* tmpfs when there is one: the block layer syncs a lot. */
    snprintf(tmpdir, sizeof(tmpdir), "%s/minipc-test-qcow2-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    Suite *s = suite_create("qcow2");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_header_roundtrip);
    tcase_add_test(tc, test_refcount_widths);
    tcase_add_test(tc, test_snapshot_entry);
    tcase_add_test(tc, test_cluster_mapping);
    tcase_add_test(tc, test_snapshot_refcounts);
    tcase_add_test(tc, test_refcount_overflow);
    tcase_add_test(tc, test_refcount_table_growth);
    tcase_add_test(tc, test_bad_headers);
    tcase_add_test(tc, test_probe_and_raw);
    tcase_add_test(tc, test_vmstate);
    tcase_add_test(tc, test_backing_file);
    tcase_add_test(tc, test_resize);
    tcase_add_test(tc, test_lazy_refcounts_crash);
    tcase_add_test(tc, test_corruption_detected);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    rm_tmpdir();
    return failed ? 1 : 0;
}
