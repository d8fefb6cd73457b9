/*
 * Randomised operations on qcow2 images against a plain in-memory model:
 * writes of random size and offset, zero writes, discards, snapshot
 * create/goto/delete, VM state, resize, flush and reopen. Every step is
 * checked against the model; the real qemu-img checks the image at
 * intervals and compares it with the model at the end. Several cluster
 * sizes, refcount widths, v2/v3, lazy refcounts and backing files.
 *
 * MINIPC_TEST_SEED overrides the seed, MINIPC_TEST_OPS the number of
 * operations per configuration (default 1000), MINIPC_TEST_CONFIG runs
 * one configuration (by index).
 */
#include <check.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"

#define MAX_SNAPSHOTS 6
#define MAX_VMSTATE (192 * 1024)
/* Largest single request: three 2 MiB clusters fit. */
#define BUF_SIZE (8 * MiB)

typedef struct Config {
    const char *name;
    uint32_t cluster_size;
    int version;
    int refcount_bits;
    bool lazy;
    const char *backing_fmt;   /* NULL, "raw" or "qcow2" */
    uint64_t backing_size;
    uint64_t size;
} Config;

static const Config configs[] = {
    { "c512-rb16-v3", 512, 3, 16, false, NULL, 0, 4 * MiB },
    { "c4k-rb2-v3", 4096, 3, 2, false, NULL, 0, 8 * MiB },
    { "c64k-rb64-v2", 65536, 2, 16, false, NULL, 0, 16 * MiB },
    { "c2m-rb16-v3", 2 * MiB, 3, 16, false, NULL, 0, 8 * MiB },
    { "c64k-rb8-v3-rawbacking", 65536, 3, 8, false, "raw", 8 * MiB, 12 * MiB },
    { "c4k-v2-qcow2backing", 4096, 2, 16, false, "qcow2", 8 * MiB, 8 * MiB },
    { "c16k-rb32-v3-lazy", 16384, 3, 32, true, NULL, 0, 8 * MiB },
    { "c1k-rb1-v3", 1024, 3, 1, false, NULL, 0, 4 * MiB },
    { "c8k-rb4-v3-qcow2backing-larger", 8192, 3, 4, false, "qcow2", 6 * MiB, 4 * MiB },
};

typedef struct ModelSnapshot {
    char name[256];
    uint8_t *data;
    uint64_t size;
    uint8_t *vmstate;
    uint64_t vmstate_len;
} ModelSnapshot;

typedef struct Run {
    const Config *cfg;
    uint64_t rng;
    char dir[64];
    char *path;
    BlockDriverState *bs;
    uint8_t *data;             /* the model of the guest-visible disk */
    uint64_t size;
    ModelSnapshot snaps[MAX_SNAPSHOTS];
    int nsnaps;
    int next_name;
    uint8_t *vmstate;          /* saved into the active image, not yet snapshotted */
    uint64_t vmstate_len;
    int op;
    uint8_t *buf;
} Run;

static bool trace;
#define TRACE(r, ...) do { if (trace) { fprintf(stderr, "op %d: ", (r)->op); \
                                        fprintf(stderr, __VA_ARGS__); } } while (0)

static uint64_t rnd(Run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

static uint64_t rnd_below(Run *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

static void fill_random(Run *r, uint8_t *p, uint64_t len)
{
    uint64_t v = rnd(r);
    for (uint64_t i = 0; i < len; i++) {
        if ((i & 7) == 0) {
            v = rnd(r);
        }
        p[i] = v >> ((i & 7) * 8);
    }
}

#define FAILF(r, ...) ck_abort_msg("%s op %d: %s", (r)->cfg->name, (r)->op, \
                                   xasprintf(__VA_ARGS__))

/* errp is read only after the call in 'ret' has filled it. */
static void must(Run *r, int ret, Error **errp, const char *what)
{
    if (ret < 0) {
        FAILF(r, "%s failed: %s", what, *errp ? error_get_pretty(*errp) : "?");
    }
}

static int run_cmd(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void verify_range(Run *r, uint64_t off, uint64_t len)
{
    Error *err = NULL;
    if (len == 0) {
        return;
    }
    must(r, bdrv_pread(r->bs, off, r->buf, len, &err), &err, "read");
    if (memcmp(r->buf, r->data + off, len)) {
        for (uint64_t i = 0; i < len; i++) {
            if (r->buf[i] != r->data[off + i]) {
                FAILF(r, "content differs at %#" PRIx64 ": image %02x, model %02x",
                      off + i, r->buf[i], r->data[off + i]);
            }
        }
    }
}

static void verify_all(Run *r)
{
    for (uint64_t off = 0; off < r->size; off += 4 * MiB) {
        verify_range(r, off, MIN(4 * MiB, r->size - off));
    }
}

/* The real qemu-img must find the image clean. */
static void qemu_check(Run *r)
{
    Error *err = NULL;
    must(r, bdrv_flush(r->bs, &err), &err, "flush");
    char *cmd = xasprintf("qemu-img check -U -q '%s' >/dev/null 2>&1", r->path);
    int st = run_cmd(cmd);
    free(cmd);
    if (st != 0) {
        char *show = xasprintf("qemu-img check -U '%s' 2>&1 | tail -20", r->path);
        if (system(show) < 0) {
            perror("system");
        }
        free(show);
        FAILF(r, "qemu-img check exit status %d", st);
    }
}

static void random_region(Run *r, uint64_t *off, uint64_t *len)
{
    uint64_t cs = r->cfg->cluster_size;
    switch (rnd_below(r, 4)) {
    case 0:  /* small, anywhere */
        *len = 1 + rnd_below(r, 3000);
        break;
    case 1:  /* sector multiples */
        *len = 512 * (1 + rnd_below(r, 16));
        break;
    case 2:  /* a few clusters, maybe aligned */
        *len = cs * (1 + rnd_below(r, 3)) - (rnd_below(r, 2) ? rnd_below(r, cs) : 0);
        break;
    default: /* large */
        *len = 1 + rnd_below(r, 256 * KiB);
        break;
    }
    *len = MIN(MIN(*len, r->size), (uint64_t)BUF_SIZE);
    *off = rnd_below(r, r->size - *len + 1);
    if (rnd_below(r, 3) == 0) {
        uint64_t align = rnd_below(r, 2) ? cs : 512;
        *off = ALIGN_DOWN(*off, align);
    }
}

static void op_write(Run *r)
{
    uint64_t off, len;
    Error *err = NULL;
    random_region(r, &off, &len);
    fill_random(r, r->buf, len);
    TRACE(r, "write %#" PRIx64 " +%#" PRIx64 "\n", off, len);
    must(r, bdrv_pwrite(r->bs, off, r->buf, len, &err), &err, "write");
    memcpy(r->data + off, r->buf, len);
    verify_range(r, off >= 4096 ? off - 4096 : 0, MIN(len + 8192, r->size - (off >= 4096 ? off - 4096 : 0)));
}

static void op_zero(Run *r, bool discard)
{
    uint64_t off, len;
    Error *err = NULL;
    random_region(r, &off, &len);
    TRACE(r, "%s %#" PRIx64 " +%#" PRIx64 "\n", discard ? "discard" : "zero", off, len);
    if (discard) {
        must(r, bdrv_pdiscard(r->bs, off, len, &err), &err, "discard");
        /* Only whole clusters are dropped, and read back as zeroes. */
        uint64_t cs = r->cfg->cluster_size;
        uint64_t start = ALIGN_UP(off, cs);
        uint64_t end = off + len == r->size ? r->size : ALIGN_DOWN(off + len, cs);
        if (end > start) {
            memset(r->data + start, 0, end - start);
        }
    } else {
        int flags = rnd_below(r, 2) ? BDRV_REQ_MAY_UNMAP : 0;
        must(r, bdrv_pwrite_zeroes(r->bs, off, len, flags, &err), &err, "write zeroes");
        memset(r->data + off, 0, len);
    }
    uint64_t from = off >= 65536 ? off - 65536 : 0;
    verify_range(r, from, MIN(len + 131072, r->size - from));
}

static bool refcounts_too_narrow(Run *r, Error *err)
{
    return err && strstr(error_get_pretty(err), "refcount") != NULL;
}

static void op_snapshot_create(Run *r)
{
    if (r->nsnaps == MAX_SNAPSHOTS) {
        return;
    }
    QEMUSnapshotInfo sn = { .icount = UINT64_MAX };
    snprintf(sn.name, sizeof(sn.name), "s%d", r->next_name++);
    sn.vm_state_size = r->vmstate_len;
    sn.date_sec = 1700000000 + r->op;
    sn.vm_clock_nsec = (uint64_t)r->op * 1000003;
    Error *err = NULL;
    TRACE(r, "snapshot create %s vmstate %" PRIu64 "\n", sn.name, sn.vm_state_size);
    int ret = bdrv_snapshot_create(r->bs, &sn, &err);
    if (ret < 0) {
        /* Narrow refcounts cannot hold many references: a clean refusal
         * that leaves everything as it was is the right outcome. */
        if (!refcounts_too_narrow(r, err) || r->cfg->refcount_bits > 4) {
            must(r, ret, &err, "snapshot create");
        }
        error_free(err);
        verify_all(r);
        qemu_check(r);
        return;
    }
    ModelSnapshot *m = &r->snaps[r->nsnaps++];
    snprintf(m->name, sizeof(m->name), "%s", sn.name);
    m->size = r->size;
    m->data = xmalloc(r->size);
    memcpy(m->data, r->data, r->size);
    m->vmstate = r->vmstate;
    m->vmstate_len = r->vmstate_len;
    r->vmstate = NULL;
    r->vmstate_len = 0;
}

static void op_snapshot_goto(Run *r)
{
    if (!r->nsnaps) {
        return;
    }
    ModelSnapshot *m = &r->snaps[rnd_below(r, r->nsnaps)];
    Error *err = NULL;
    TRACE(r, "snapshot goto %s\n", m->name);
    int ret = bdrv_snapshot_goto(r->bs, m->name, &err);
    if (ret < 0 && refcounts_too_narrow(r, err) && r->cfg->refcount_bits <= 4) {
        error_free(err);
        verify_all(r);
        return;
    }
    must(r, ret, &err, "snapshot goto");
    if (m->size != r->size) {
        r->data = xrealloc(r->data, m->size);
        r->size = m->size;
    }
    memcpy(r->data, m->data, m->size);
    if (m->vmstate_len) {
        uint8_t *st = xmalloc(m->vmstate_len);
        must(r, bdrv_load_vmstate(r->bs, st, 0, m->vmstate_len, &err), &err, "load vmstate");
        if (memcmp(st, m->vmstate, m->vmstate_len)) {
            FAILF(r, "VM state of snapshot %s differs", m->name);
        }
        free(st);
    }
    free(r->vmstate);
    r->vmstate = NULL;
    r->vmstate_len = 0;
    verify_range(r, 0, MIN(r->size, 1 * MiB));
}

static void op_snapshot_delete(Run *r)
{
    if (!r->nsnaps) {
        return;
    }
    int i = rnd_below(r, r->nsnaps);
    ModelSnapshot *m = &r->snaps[i];
    Error *err = NULL;
    TRACE(r, "snapshot delete %s\n", m->name);
    must(r, bdrv_snapshot_delete(r->bs, NULL, m->name, &err), &err, "snapshot delete");
    free(m->data);
    free(m->vmstate);
    memmove(&r->snaps[i], &r->snaps[i + 1], (r->nsnaps - i - 1) * sizeof(*m));
    r->nsnaps--;
}

static void op_vmstate(Run *r)
{
    uint64_t len = 1 + rnd_below(r, MAX_VMSTATE);
    uint8_t *st = xmalloc(len);
    fill_random(r, st, len);
    Error *err = NULL;
    TRACE(r, "save vmstate %" PRIu64 "\n", len);
    must(r, bdrv_save_vmstate(r->bs, st, 0, len, &err), &err, "save vmstate");
    uint8_t *back = xmalloc(len);
    must(r, bdrv_load_vmstate(r->bs, back, 0, len, &err), &err, "load vmstate");
    if (memcmp(st, back, len)) {
        FAILF(r, "VM state read back differs");
    }
    free(back);
    free(r->vmstate);
    r->vmstate = st;
    r->vmstate_len = len;
}

static void reopen(Run *r)
{
    Error *err = NULL;
    TRACE(r, "reopen\n");
    bdrv_close(r->bs);
    r->bs = NULL;
    must(r, bdrv_open(&r->bs, r->path, "qcow2", BDRV_O_RDWR | BDRV_O_UNMAP, &err), &err,
         "reopen");
    if ((uint64_t)bdrv_getlength(r->bs) != r->size) {
        FAILF(r, "size after reopen %" PRId64 ", expected %" PRIu64, bdrv_getlength(r->bs),
              r->size);
    }
}

static void op_grow(Run *r)
{
    /* v2 cannot resize with snapshots; keep the model small. */
    if ((r->cfg->version < 3 && r->nsnaps) || r->size >= 24 * MiB) {
        return;
    }
    uint64_t grow = 512 * (1 + rnd_below(r, 2048));
    Error *err = NULL;
    TRACE(r, "grow +%#" PRIx64 "\n", grow);
    must(r, bdrv_truncate(r->bs, r->size + grow, &err), &err, "grow");
    r->data = xrealloc(r->data, r->size + grow);
    memset(r->data + r->size, 0, grow);
    r->size += grow;
    verify_range(r, r->size - grow, grow);
    /* The VM state area sits after the disk: resizing moves it. */
    free(r->vmstate);
    r->vmstate = NULL;
    r->vmstate_len = 0;
}

static void setup(Run *r, const Config *cfg, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->rng = seed ? seed : 1;
    /* tmpfs when there is one: the test syncs a lot. */
    snprintf(r->dir, sizeof(r->dir), "%s/minipc-random-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    r->path = xasprintf("%s/img.qcow2", r->dir);
    r->size = cfg->size;
    r->data = xzalloc(r->size);
    r->buf = xmalloc(BUF_SIZE);
    Error *err = NULL;

    BlockCreateOptions opts = {
        .format = "qcow2", .size = cfg->size, .cluster_size = cfg->cluster_size,
        .compat_version = cfg->version, .refcount_bits = cfg->refcount_bits,
        .lazy_refcounts = cfg->lazy,
    };
    if (cfg->backing_fmt) {
        char *bpath = xasprintf("%s/base.img", r->dir);
        BlockCreateOptions bopts = {
            .format = cfg->backing_fmt, .size = cfg->backing_size, .cluster_size = 512,
        };
        must(r, bdrv_create(bpath, &bopts, &err), &err, "create backing");
        BlockDriverState *base;
        must(r, bdrv_open(&base, bpath, cfg->backing_fmt, BDRV_O_RDWR, &err), &err,
             "open backing");
        /* Some data, some holes. */
        for (uint64_t off = 0; off < cfg->backing_size; off += 256 * KiB) {
            if (rnd_below(r, 3)) {
                uint64_t len = MIN(1 + rnd_below(r, 256 * KiB), cfg->backing_size - off);
                fill_random(r, r->buf, len);
                must(r, bdrv_pwrite(base, off, r->buf, len, &err), &err, "write backing");
                if (off < r->size) {
                    memcpy(r->data + off, r->buf, MIN(len, r->size - off));
                }
            }
        }
        bdrv_close(base);
        free(bpath);
        opts.backing_file = "base.img";
        opts.backing_fmt = cfg->backing_fmt;
    }
    must(r, bdrv_create(r->path, &opts, &err), &err, "create");
    must(r, bdrv_open(&r->bs, r->path, "qcow2", BDRV_O_RDWR | BDRV_O_UNMAP, &err), &err,
         "open");
    verify_all(r);
}

static void finish(Run *r)
{
    Error *err = NULL;
    verify_all(r);
    qemu_check(r);
    bdrv_close(r->bs);
    r->bs = NULL;

    /* qemu-img sees the same disk as the model... */
    char *model = xasprintf("%s/model.raw", r->dir);
    FILE *f = fopen(model, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(r->data, 1, r->size, f), r->size);
    fclose(f);
    char *cmd = xasprintf("qemu-img compare -U -q -f qcow2 -F raw '%s' '%s'", r->path, model);
    int st = run_cmd(cmd);
    if (st != 0) {
        FAILF(r, "qemu-img compare with the model: exit status %d", st);
    }
    free(cmd);
    /* ...and the same number of snapshots. */
    cmd = xasprintf("test \"$(qemu-img snapshot -U -l '%s' | tail -n +3 | wc -l)\" = %d",
                    r->path, r->nsnaps);
    if (run_cmd(cmd) != 0) {
        FAILF(r, "qemu-img snapshot -l does not list %d snapshots", r->nsnaps);
    }
    free(cmd);

    /* Every snapshot, read-only through load_tmp. */
    for (int i = 0; i < r->nsnaps; i++) {
        BlockDriverState *bs;
        must(r, bdrv_open(&bs, r->path, "qcow2", 0, &err), &err, "open read-only");
        must(r, bdrv_snapshot_load_tmp(bs, NULL, r->snaps[i].name, &err), &err, "load_tmp");
        uint64_t n = MIN(r->snaps[i].size, (uint64_t)bdrv_getlength(bs));
        for (uint64_t off = 0; off < n; off += 4 * MiB) {
            uint64_t len = MIN(4 * MiB, n - off);
            must(r, bdrv_pread(bs, off, r->buf, len, &err), &err, "read snapshot");
            if (memcmp(r->buf, r->snaps[i].data + off, len)) {
                FAILF(r, "snapshot %s differs from the model", r->snaps[i].name);
            }
        }
        bdrv_close(bs);
        free(r->snaps[i].data);
        free(r->snaps[i].vmstate);
    }
    free(r->vmstate);
    cmd = xasprintf("rm -rf '%s'", r->dir);
    run_cmd(cmd);
    free(cmd);
    free(model);
    free(r->path);
    free(r->data);
    free(r->buf);
}

START_TEST(test_random_ops)
{
    const Config *cfg = &configs[_i];
    const char *only = getenv("MINIPC_TEST_CONFIG");
    if (only && atoi(only) != _i) {
        return;
    }
    const char *seed_env = getenv("MINIPC_TEST_SEED");
    const char *ops_env = getenv("MINIPC_TEST_OPS");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : 0x5eed0000u + _i * 7919;
    int nops = ops_env ? atoi(ops_env) : 1000;
    trace = getenv("MINIPC_TEST_TRACE") != NULL;
    Run r;
    setup(&r, cfg, seed);
    for (r.op = 0; r.op < nops; r.op++) {
        unsigned pick = rnd_below(&r, 100);
        if (pick < 34) {
            op_write(&r);
        } else if (pick < 44) {
            op_zero(&r, false);
        } else if (pick < 48) {
            op_zero(&r, true);
        } else if (pick < 62) {
            uint64_t off, len;
            random_region(&r, &off, &len);
            verify_range(&r, off, len);
        } else if (pick < 70) {
            op_snapshot_create(&r);
        } else if (pick < 76) {
            op_snapshot_goto(&r);
        } else if (pick < 82) {
            op_snapshot_delete(&r);
        } else if (pick < 86) {
            op_vmstate(&r);
        } else if (pick < 89) {
            Error *err = NULL;
            must(&r, bdrv_flush(r.bs, &err), &err, "flush");
        } else if (pick < 92) {
            reopen(&r);
        } else if (pick < 94) {
            op_grow(&r);
        } else if (pick < 97) {
            verify_all(&r);
        } else {
            Error *err = NULL;
            BdrvCheckResult res;
            must(&r, bdrv_check(r.bs, &res, 0, NULL, NULL, &err), &err, "check");
            if (res.corruptions || res.leaks || res.check_errors) {
                FAILF(&r, "check: %d corruptions, %d leaks, %d errors", res.corruptions,
                      res.leaks, res.check_errors);
            }
        }
        if (r.op % 250 == 249) {
            qemu_check(&r);
        }
    }
    finish(&r);
}
END_TEST

int main(void)
{
    if (run_cmd("qemu-img --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "qemu-img is required (Debian package qemu-utils)\n");
    }
    Suite *s = suite_create("qcow2-random");
    TCase *tc = tcase_create("random");
    tcase_set_timeout(tc, 0);
    tcase_add_loop_test(tc, test_random_ops, 0, ARRAY_SIZE(configs));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
