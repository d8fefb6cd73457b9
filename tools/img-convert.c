/* minipc-img convert and compare. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "img.h"
#include "util/option.h"

/* Reads are done in chunks of this size (a multiple of any cluster). */
#define COPY_CHUNK (2 * MiB)

static bool is_zero(const uint8_t *buf, size_t len)
{
    /* Word-at-a-time scan; buffers come from malloc and are aligned. */
    const uint64_t *p = (const uint64_t *)buf;
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++) {
        if (p[i]) {
            return false;
        }
    }
    for (size_t i = words * 8; i < len; i++) {
        if (buf[i]) {
            return false;
        }
    }
    return true;
}

/* Reads as zeroes through the whole backing chain? Returns the length
 * of the run at offset with the same answer. */
static int64_t chain_zero_run(BlockDriverState *bs, int64_t offset, int64_t bytes,
                              bool *zero, Error **errp)
{
    for (;;) {
        int status;
        int64_t map;
        int64_t n = bdrv_block_status(bs, offset, bytes, &status, &map, errp);
        if (n < 0) {
            return n;
        }
        BlockDriverState *next = bdrv_get_backing(bs);
        if ((status & (BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_DATA)) || !next ||
            offset >= bdrv_getlength(next)) {
            *zero = (status & BDRV_BLOCK_ZERO) && !(status & BDRV_BLOCK_DATA);
            if (!(status & (BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_DATA)) && !next) {
                *zero = true;
            }
            return n;
        }
        bytes = n;
        bs = next;
    }
}

typedef struct Source {
    BlockDriverState *bs;
    int64_t size;
} Source;

int img_convert(int argc, char **argv)
{
    const char *fmt = NULL, *out_fmt = "raw", *backing = NULL, *backing_fmt = NULL;
    const char *snapshot = NULL;
    char *options = NULL;
    bool compress = false, progress = false, quiet = false, no_create = false;
    bool nocache = false;
    uint64_t sparse = 4096;
    int c, ret = IMG_EXIT_ERROR;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { "target-is-zero", no_argument, NULL, 'Z' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:O:B:CcF:o:l:S:pt:T:qnm:WUr:", longopts,
                            NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'O': out_fmt = optarg; break;
        case 'B': backing = optarg; break;
        case 'F': backing_fmt = optarg; break;
        case 'c': compress = true; break;
        case 'o':
            if (options) {
                char *joined = xasprintf("%s,%s", options, optarg);
                free(options);
                options = joined;
            } else {
                options = xstrdup(optarg);
            }
            break;
        case 'l': snapshot = optarg; break;
        case 'S':
            if (img_parse_size(optarg, &sparse) < 0 || sparse > 16 * MiB) {
                error_report("Invalid buffer size for sparse output specified. Valid sizes "
                             "are multiples of 512 up to 16M.");
                free(options);
                return IMG_EXIT_ERROR;
            }
            break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 'n': no_create = true; break;
        case 't': nocache = !strcmp(optarg, "none") || !strcmp(optarg, "directsync"); break;
        case 'T': case 'm': case 'W': case 'U': case 'C': case 'r': case 'Z': break;
        case 'h':
            printf("usage: minipc-img convert [-c] [-p] [-q] [-n] [-f fmt] [-O output_fmt] "
                   "[-B backing_file [-F backing_fmt]] [-o options] [-l snapshot_param] "
                   "[-S sparse_size] filename [filename2 [...]] output_filename\n");
            free(options);
            return 0;
        default:
            error_report("Invalid option for convert");
            free(options);
            return IMG_EXIT_ERROR;
        }
    }
    if (quiet) {
        progress = false;
    }
    int nb_src = argc - optind - 1;
    if (nb_src < 1) {
        error_report("Expecting image file name");
        free(options);
        return IMG_EXIT_ERROR;
    }
    const char *out_filename = argv[argc - 1];
    if (strcmp(out_fmt, "raw") && strcmp(out_fmt, "qcow2")) {
        error_report("Unknown file format '%s'", out_fmt);
        free(options);
        return IMG_EXIT_ERROR;
    }
    if (compress && strcmp(out_fmt, "qcow2")) {
        error_report("Compression not supported for this file format");
        free(options);
        return IMG_EXIT_ERROR;
    }

    Source *src = XNEW_ARRAY(Source, nb_src);
    BlockDriverState *out = NULL;
    int64_t total = 0;
    Error *err = NULL;
    uint8_t *buf = NULL;
    for (int i = 0; i < nb_src; i++) {
        src[i].bs = img_open(argv[optind + i], fmt, 0, quiet);
        if (!src[i].bs) {
            goto out;
        }
        src[i].size = bdrv_getlength(src[i].bs);
        total += src[i].size;
    }
    if (snapshot) {
        if (nb_src != 1) {
            error_report("No support for concatenating multiple snapshot");
            goto out;
        }
        /* "NAME", or "snapshot.id=ID,snapshot.name=NAME". */
        const char *id = snapshot, *name = NULL;
        OptList *l = NULL;
        if (strchr(snapshot, '=')) {
            l = optlist_parse(snapshot, NULL, &err);
            if (!l) {
                error_report_err(err);
                goto out;
            }
            id = optlist_get(l, "snapshot.id");
            name = optlist_get(l, "snapshot.name");
        }
        int r = bdrv_snapshot_load_tmp(src[0].bs, id, name, &err);
        optlist_free(l);
        if (r < 0) {
            error_report("Failed to load snapshot: %s", error_get_pretty(err));
            error_free(err);
            goto out;
        }
    }

    if (!no_create) {
        BlockCreateOptions opts = { .format = out_fmt, .size = total };
        OptList *list = NULL;
        if (options) {
            list = optlist_parse(options, NULL, &err);
            if (!list) {
                error_report_err(err);
                goto out;
            }
            const char *v;
            uint64_t n;
            if ((v = optlist_get(list, "cluster_size")) && parse_size(v, 1, &n, &err) == 0) {
                opts.cluster_size = n;
            }
            if ((v = optlist_get(list, "compat"))) {
                opts.compat_version = (!strcmp(v, "0.10") || !strcmp(v, "v2")) ? 2 : 3;
            }
            if ((v = optlist_get(list, "refcount_bits")) && parse_uint64(v, &n, &err) == 0) {
                opts.refcount_bits = n;
            }
            bool b;
            if (optlist_get_bool(list, "lazy_refcounts", false, &b, &err) == 0) {
                opts.lazy_refcounts = b;
            }
            if ((v = optlist_get(list, "backing_file"))) {
                backing = v;
            }
            if ((v = optlist_get(list, "backing_fmt"))) {
                backing_fmt = v;
            }
            if ((v = optlist_get(list, "preallocation"))) {
                opts.preallocation = v;
            }
            optlist_get(list, "compression_type");
            if (err || optlist_check_all_used(list, "the output format", &err) < 0) {
                error_report_err(err);
                optlist_free(list);
                goto out;
            }
        }
        opts.backing_file = backing;
        opts.backing_fmt = backing_fmt;
        opts.size = ALIGN_UP(opts.size, 512);
        int r = bdrv_create(out_filename, &opts, &err);
        optlist_free(list);
        if (r < 0) {
            error_report("%s: error while converting %s: %s", out_filename, out_fmt,
                         error_get_pretty(err));
            error_free(err);
            goto out;
        }
    }
    out = img_open(out_filename, no_create ? NULL : out_fmt,
                   BDRV_O_RDWR | (nocache ? BDRV_O_NOCACHE : 0), quiet);
    if (!out) {
        goto out;
    }
    if (bdrv_getlength(out) < total) {
        error_report("output file is smaller than input file");
        goto out;
    }

    /* A freshly created image without backing reads as zero already:
     * zero regions need no writes at all. */
    bool target_zero = !no_create && !bdrv_get_backing(out);
    uint32_t cluster = bdrv_get_cluster_size(out);
    uint64_t granule = MAX(sparse ? sparse : 512, (uint64_t)cluster);
    if (compress) {
        granule = cluster;
    }
    buf = xmemalign_zero(4096, COPY_CHUNK);
    img_progress_init(progress);

    int64_t out_offset = 0, done = 0;
    for (int i = 0; i < nb_src; i++) {
        BlockDriverState *bs = src[i].bs;
        for (int64_t off = 0; off < src[i].size;) {
            int64_t n = MIN(src[i].size - off, (int64_t)COPY_CHUNK);
            bool zero;
            int64_t run = chain_zero_run(bs, off, n, &zero, &err);
            if (run <= 0) {
                error_report("error while reading at byte %" PRId64 ": %s", off,
                             err ? error_get_pretty(err) : "no progress");
                error_free(err);
                goto out;
            }
            /* Keep writes aligned to the target's granule where we can. */
            if (run < n && run > (int64_t)granule) {
                n = ALIGN_DOWN(run, granule);
            } else if (run < n) {
                zero = false;  /* small mixed piece: read it and look */
            }
            int64_t dst = out_offset + off;
            if (zero) {
                if (!target_zero &&
                    bdrv_pwrite_zeroes(out, dst, n, BDRV_REQ_MAY_UNMAP, &err) < 0) {
                    error_report("error while writing at byte %" PRId64 ": %s", dst,
                                 error_get_pretty(err));
                    error_free(err);
                    goto out;
                }
            } else {
                if (bdrv_pread(bs, off, buf, n, &err) < 0) {
                    error_report("error while reading at byte %" PRId64 ": %s", off,
                                 error_get_pretty(err));
                    error_free(err);
                    goto out;
                }
                for (int64_t p = 0; p < n;) {
                    /* Granules are relative to the target, which is
                     * where alignment matters. */
                    int64_t g = MIN((int64_t)(granule - (dst + p) % granule), n - p);
                    bool z = is_zero(buf + p, g);
                    /* Merge equal neighbours into one request. */
                    int64_t len = g;
                    while (p + len < n) {
                        int64_t g2 = MIN((int64_t)granule, n - p - len);
                        if (is_zero(buf + p + len, g2) != z || (compress && !z)) {
                            break;
                        }
                        len += g2;
                    }
                    int r = 0;
                    if (z) {
                        if (!target_zero) {
                            r = bdrv_pwrite_zeroes(out, dst + p, len, BDRV_REQ_MAY_UNMAP,
                                                   &err);
                        }
                    } else if (compress) {
                        r = bdrv_pwrite_compressed(out, dst + p, buf + p, len, &err);
                    } else {
                        r = bdrv_pwrite(out, dst + p, buf + p, len, &err);
                    }
                    if (r < 0) {
                        error_report("error while writing at byte %" PRId64 ": %s", dst + p,
                                     error_get_pretty(err));
                        error_free(err);
                        goto out;
                    }
                    p += len;
                }
            }
            off += n;
            done += n;
            img_progress_update(total ? done * 100.0 / total : 100.0);
        }
        out_offset += src[i].size;
    }
    if (bdrv_flush(out, &err) < 0) {
        error_report_err(err);
        goto out;
    }
    img_progress_end();
    ret = 0;
out:
    free(buf);
    bdrv_close(out);
    for (int i = 0; i < nb_src; i++) {
        bdrv_close(src[i].bs);
    }
    free(src);
    free(options);
    return ret;
}

/* ---- compare ----------------------------------------------------- */

/* Offset of the first 512-byte sector that differs, or -1. */
static int64_t first_mismatch(const uint8_t *a, const uint8_t *b, int64_t len)
{
    for (int64_t off = 0; off < len; off += 512) {
        int64_t n = MIN((int64_t)512, len - off);
        if (memcmp(a + off, b + off, n)) {
            return off;
        }
    }
    return -1;
}

static int64_t first_nonzero(const uint8_t *a, int64_t len)
{
    for (int64_t off = 0; off < len; off += 512) {
        if (!is_zero(a + off, MIN((int64_t)512, len - off))) {
            return off;
        }
    }
    return -1;
}

/* Checks that [from, to) of bs reads as zero; returns the first
 * non-zero sector offset, -1 if all zero, or -2 on error. */
static int64_t check_zero_tail(BlockDriverState *bs, int64_t from, int64_t to, uint8_t *buf)
{
    Error *err = NULL;
    for (int64_t off = from; off < to;) {
        int64_t n = MIN(to - off, (int64_t)COPY_CHUNK);
        bool zero;
        int64_t run = chain_zero_run(bs, off, n, &zero, &err);
        if (run <= 0) {
            error_report("error while reading: %s", err ? error_get_pretty(err) : "?");
            error_free(err);
            return -2;
        }
        if (!zero) {
            n = run;
            if (bdrv_pread(bs, off, buf, n, &err) < 0) {
                error_report("error while reading offset %" PRId64 ": %s", off,
                             error_get_pretty(err));
                error_free(err);
                return -2;
            }
            int64_t nz = first_nonzero(buf, n);
            if (nz >= 0) {
                return off + nz;
            }
        } else {
            n = run;
        }
        off += n;
    }
    return -1;
}

int img_compare(int argc, char **argv)
{
    const char *fmt1 = NULL, *fmt2 = NULL;
    bool quiet = false, strict = false, progress = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:F:T:pqsU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 'p': progress = true; break;
        case 'q': quiet = true; break;
        case 's': strict = true; break;
        case 'T': case 'U': break;
        case 'h':
            printf("usage: minipc-img compare [-f fmt] [-F fmt] [-p] [-q] [-s] filename1 "
                   "filename2\n");
            return 0;
        default:
            error_report("Invalid option for compare");
            return 2;
        }
    }
    if (quiet) {
        progress = false;
    }
    if (optind != argc - 2) {
        error_report("Expecting two image file names");
        return 2;
    }
    const char *name1 = argv[optind], *name2 = argv[optind + 1];
    BlockDriverState *bs1 = img_open(name1, fmt1, 0, quiet);
    if (!bs1) {
        return 2;
    }
    BlockDriverState *bs2 = img_open(name2, fmt2, 0, quiet);
    if (!bs2) {
        bdrv_close(bs1);
        return 2;
    }
    int64_t size1 = bdrv_getlength(bs1), size2 = bdrv_getlength(bs2);
    int64_t common = MIN(size1, size2);
    uint8_t *buf1 = xmemalign_zero(4096, COPY_CHUNK);
    uint8_t *buf2 = xmemalign_zero(4096, COPY_CHUNK);
    Error *err = NULL;
    int ret = 0;

    if (size1 != size2) {
        if (strict) {
            img_printf(quiet, "Strict mode: Image size mismatch!\n");
            ret = 1;
            goto out;
        }
        img_printf(quiet, "Warning: Image size mismatch!\n");
    }
    img_progress_init(progress);
    for (int64_t off = 0; off < common;) {
        int64_t n = MIN(common - off, (int64_t)COPY_CHUNK);
        bool z1, z2;
        int64_t r1 = chain_zero_run(bs1, off, n, &z1, &err);
        int64_t r2 = r1 > 0 ? chain_zero_run(bs2, off, n, &z2, &err) : -1;
        if (r1 <= 0 || r2 <= 0) {
            error_report("error while comparing: %s", err ? error_get_pretty(err) : "?");
            error_free(err);
            ret = 2;
            goto out;
        }
        n = MIN(r1, r2);
        if (strict) {
            int st1, st2;
            int64_t m1, m2;
            if (bdrv_block_status(bs1, off, n, &st1, &m1, NULL) > 0 &&
                bdrv_block_status(bs2, off, n, &st2, &m2, NULL) > 0 &&
                (st1 & BDRV_BLOCK_ALLOCATED) != (st2 & BDRV_BLOCK_ALLOCATED)) {
                img_printf(quiet, "Strict mode: Offset %" PRId64 " block status mismatch!\n",
                           off);
                ret = 1;
                goto out;
            }
        }
        if (!(z1 && z2)) {
            if (bdrv_pread(bs1, off, buf1, n, &err) < 0 ||
                bdrv_pread(bs2, off, buf2, n, &err) < 0) {
                error_report("Error while reading offset %" PRId64 ": %s", off,
                             error_get_pretty(err));
                error_free(err);
                ret = 2;
                goto out;
            }
            int64_t m = first_mismatch(buf1, buf2, n);
            if (m >= 0) {
                img_printf(quiet, "Content mismatch at offset %" PRId64 "!\n", off + m);
                ret = 1;
                goto out;
            }
        }
        off += n;
        img_progress_update(common ? off * 100.0 / MAX(size1, size2) : 100.0);
    }
    if (size1 != size2) {
        BlockDriverState *longer = size1 > size2 ? bs1 : bs2;
        int64_t nz = check_zero_tail(longer, common, MAX(size1, size2), buf1);
        if (nz == -2) {
            ret = 2;
            goto out;
        }
        if (nz >= 0) {
            img_printf(quiet, "Content mismatch at offset %" PRId64 "!\n", nz);
            ret = 1;
            goto out;
        }
    }
    img_progress_end();
    img_printf(quiet, "Images are identical.\n");
out:
    free(buf1);
    free(buf2);
    bdrv_close(bs1);
    bdrv_close(bs2);
    return ret;
}
