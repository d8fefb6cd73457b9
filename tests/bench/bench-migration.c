/*
 * Save/load throughput of the savevm stream: RAM of a given size with a
 * given share of non-zero pages, to a file and (when built with
 * -DBENCH_WITH_BLOCK) to a qcow2 vmstate area. Built and run by
 * bench_migration.py; prints one "key value" pair per line.
 *
 *   bench-migration DIR RAM_MIB NONZERO_PERCENT
 */
#include <stdio.h>
#include <unistd.h>

#include "migration/qemu-file.h"
#include "migration/savevm.h"
#ifdef BENCH_WITH_BLOCK
#include "block/block.h"
#endif

static double now(void)
{
    return (double)get_clock_ns() / 1e9;
}

static void fill(uint8_t *ram, size_t pages, int percent)
{
    uint64_t seed = 12345;
    for (size_t p = 0; p < pages; p++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint8_t *page = ram + p * TARGET_PAGE_SIZE;
        if ((int)((seed >> 33) % 100) < percent) {
            for (size_t i = 0; i < TARGET_PAGE_SIZE; i += 8) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                memcpy(page + i, &seed, 8);
            }
        } else {
            memset(page, 0, TARGET_PAGE_SIZE);
        }
    }
}

static void die(const char *what, Error *err)
{
    fprintf(stderr, "%s: %s\n", what, err ? error_get_pretty(err) : "failed");
    exit(1);
}

static void run(const char *kind, QEMUFile *(*open_out)(void *), QEMUFile *(*open_in)(void *, int64_t),
                void *ctx, uint8_t *ram, uint8_t *copy, size_t bytes)
{
    Error *err = NULL;
    double t_save = 1e9, t_load = 1e9;
    int64_t len = 0;
    /* Best of three: the first write into fresh page cache pays for the
     * host's first touch of that memory (large on a VM). */
    for (int round = 0; round < 3; round++) {
        double t0 = now();
        QEMUFile *f = open_out(ctx);
        if (qemu_savevm_state(f, &err) < 0) {
            die("save", err);
        }
        len = qemu_ftell(f);
        if (qemu_fclose(f, &err) < 0) {
            die("close", err);
        }
        t_save = MIN(t_save, now() - t0);

        /* Load into the same (already populated) RAM, changed first so
         * the load has real work to do. */
        memset(ram, 0x5a, bytes / 2);
        t0 = now();
        f = open_in(ctx, len);
        if (qemu_loadvm_state(f, &err) < 0) {
            die("load", err);
        }
        qemu_fclose(f, NULL);
        t_load = MIN(t_load, now() - t0);
        if (memcmp(ram, copy, bytes) != 0) {
            fprintf(stderr, "%s: RAM differs after load\n", kind);
            exit(1);
        }
    }
    printf("%s_stream_bytes %" PRId64 "\n", kind, len);
    printf("%s_save_s %.6f\n", kind, t_save);
    printf("%s_load_s %.6f\n", kind, t_load);
    fflush(stdout);
}

static char file_path[4096];

static QEMUFile *file_out(void *ctx)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_open_path(file_path, true, &err);
    if (!f) {
        die("open", err);
    }
    return f;
}

static QEMUFile *file_in(void *ctx, int64_t len)
{
    Error *err = NULL;
    QEMUFile *f = qemu_file_open_path(file_path, false, &err);
    if (!f) {
        die("open", err);
    }
    return f;
}

#ifdef BENCH_WITH_BLOCK
static QEMUFile *bdrv_out(void *ctx)
{
    return qemu_file_new_bdrv(ctx, true, -1);
}

static QEMUFile *bdrv_in(void *ctx, int64_t len)
{
    return qemu_file_new_bdrv(ctx, false, len);
}
#endif

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR RAM_MIB NONZERO_PERCENT\n", argv[0]);
        return 2;
    }
    size_t bytes = (size_t)atol(argv[2]) * MiB;
    int percent = atoi(argv[3]);
    size_t pages = bytes / TARGET_PAGE_SIZE;
    uint8_t *ram = host_ram_alloc(bytes);
    uint8_t *copy = host_ram_alloc(bytes);
    fill(ram, pages, percent);
    memcpy(copy, ram, bytes);
    Error *err = NULL;
    savevm_set_machine_name("bench");
    if (!ram_block_register("pc.ram", ram, bytes, &err)) {
        die("register", err);
    }
    snprintf(file_path, sizeof(file_path), "%s/bench.mig", argv[1]);
    run("file", file_out, file_in, NULL, ram, copy, bytes);
    unlink(file_path);

#ifdef BENCH_WITH_BLOCK
    char img[4096];
    snprintf(img, sizeof(img), "%s/bench.qcow2", argv[1]);
    BlockCreateOptions opts = { .format = "qcow2", .size = 64 * MiB };
    if (bdrv_create(img, &opts, &err) < 0) {
        die("create", err);
    }
    BlockDriverState *bs;
    if (bdrv_open(&bs, img, "qcow2", BDRV_O_RDWR, &err) < 0) {
        die("bdrv_open", err);
    }
    run("qcow2", bdrv_out, bdrv_in, bs, ram, copy, bytes);
    bdrv_close(bs);
    unlink(img);
#endif
    host_ram_free(ram, bytes);
    host_ram_free(copy, bytes);
    return 0;
}
