/*
 * minipc-img: a qemu-img compatible image tool (a subset: create, info,
 * check, snapshot, convert, compare, resize, map, bench). Option
 * spelling, output and exit codes follow qemu-img so scripts work with
 * either.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "img.h"
#include "util/json-writer.h"
#include "util/option.h"
#include "util/strbuf.h"

enum { OPTION_OUTPUT = 256, OPTION_BACKING_CHAIN, OPTION_SHRINK, OPTION_START_OFFSET,
       OPTION_MAX_LENGTH, OPTION_PREALLOCATION, OPTION_OBJECT, OPTION_IMAGE_OPTS };

/* ---- shared helpers ---------------------------------------------- */

void img_printf(bool quiet, const char *fmt, ...)
{
    if (quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

BlockDriverState *img_open(const char *filename, const char *fmt, int flags, bool quiet)
{
    Error *err = NULL;
    BlockDriverState *bs;
    if (!fmt && (flags & BDRV_O_RDWR)) {
        const char *probed = bdrv_probe_format(filename, NULL);
        if (!strcmp(probed, "raw") && access(filename, F_OK) == 0 && !quiet) {
            fprintf(stderr, "WARNING: Image format was not specified for '%s' and probing "
                    "guessed raw.\n         Automatically detecting the format is dangerous "
                    "for raw images, write operations on block 0 will be restricted.\n"
                    "         Specify the 'raw' format explicitly to remove the "
                    "restrictions.\n", filename);
        }
    }
    if (bdrv_open(&bs, filename, fmt, flags, &err) < 0) {
        error_report_err(err);
        return NULL;
    }
    return bs;
}

char *img_size_to_str(uint64_t size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int i = 0;
    double unit = 1;
    /* Move to the next unit once the number would need four digits. */
    while (i < 6 && (double)size >= 1000.0 * unit) {
        unit *= 1024;
        i++;
    }
    return xasprintf("%0.3g %s", (double)size / unit, units[i]);
}

int img_parse_size(const char *str, uint64_t *out)
{
    Error *err = NULL;
    if (parse_size(str, 1, out, &err) < 0) {
        error_free(err);
        return -EINVAL;
    }
    return 0;
}

static bool progress_enabled;
static double progress_last = -1;

void img_progress_init(bool enabled)
{
    progress_enabled = enabled;
    progress_last = -1;
    img_progress_update(0);
}

void img_progress_update(double percent)
{
    if (!progress_enabled) {
        return;
    }
    /* Redraw only when the shown value changes noticeably. */
    if (progress_last >= 0 && percent - progress_last < 1.0 && percent < 100.0) {
        return;
    }
    progress_last = percent;
    printf("    (%3.2f/100%%)\r", percent);
    fflush(stdout);
}

void img_progress_end(void)
{
    if (progress_enabled) {
        progress_last = -1;
        img_progress_update(100.0);
        printf("\n");
        fflush(stdout);
    }
}

static int parse_output_format(const char *s, bool *json)
{
    if (!strcmp(s, "json")) {
        *json = true;
    } else if (!strcmp(s, "human")) {
        *json = false;
    } else {
        error_report("--output must be used with human or json as argument.");
        return -EINVAL;
    }
    return 0;
}

static void missing_filename(void)
{
    error_report("Expecting one image file name");
}

static void unknown_option(const char *cmd)
{
    error_report("Try 'minipc-img --help' for more information (subcommand '%s')", cmd);
}

/* ---- create ------------------------------------------------------ */

static void print_create_options(const char *fmt)
{
    printf("Supported options:\n");
    if (!strcmp(fmt, "qcow2")) {
        printf("  backing_file=<str>     - File name of a base image\n"
               "  backing_fmt=<str>      - Image format of the base image\n"
               "  cluster_size=<size>    - qcow2 cluster size\n"
               "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
               "  compression_type=<str> - Compression method used for image cluster "
               "compression\n"
               "  extended_l2=<bool (on/off)> - Extended L2 tables\n"
               "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n"
               "  preallocation=<str>    - Preallocation mode (allowed values: off)\n"
               "  refcount_bits=<num>    - Width of a reference count entry in bits\n");
    } else {
        printf("  preallocation=<str>    - Preallocation mode (allowed values: off, falloc, "
               "full)\n");
    }
    printf("  size=<size>            - Virtual disk size\n");
}

/* Applies "-o key=value,..." to opts; strings point into 'list'. */
static int apply_create_options(OptList *list, BlockCreateOptions *opts, bool *size_given,
                                Error **errp)
{
    const char *v;
    uint64_t n;
    bool b;
    if ((v = optlist_get(list, "size"))) {
        if (parse_size(v, 1, &opts->size, errp) < 0) {
            return -EINVAL;
        }
        *size_given = true;
    }
    if ((v = optlist_get(list, "backing_file"))) {
        opts->backing_file = v;
    }
    if ((v = optlist_get(list, "backing_fmt"))) {
        opts->backing_fmt = v;
    }
    if ((v = optlist_get(list, "preallocation"))) {
        opts->preallocation = v;
    }
    if (!strcmp(opts->format, "qcow2")) {
        if ((v = optlist_get(list, "cluster_size"))) {
            if (parse_size(v, 1, &n, errp) < 0) {
                return -EINVAL;
            }
            if (n > UINT32_MAX || !n) {
                error_setg(errp, "Cluster size must be a power of two between 512 and 2048k");
                return -EINVAL;
            }
            opts->cluster_size = n;
        }
        if ((v = optlist_get(list, "compat"))) {
            if (!strcmp(v, "0.10") || !strcmp(v, "v2")) {
                opts->compat_version = 2;
            } else if (!strcmp(v, "1.1") || !strcmp(v, "v3")) {
                opts->compat_version = 3;
            } else {
                error_setg(errp, "Invalid parameter '%s'", v);
                return -EINVAL;
            }
        }
        if (optlist_get_bool(list, "lazy_refcounts", false, &b, errp) < 0) {
            return -EINVAL;
        }
        opts->lazy_refcounts = b;
        if ((v = optlist_get(list, "refcount_bits"))) {
            if (parse_uint64(v, &n, errp) < 0) {
                return -EINVAL;
            }
            if (n == 0 || n > 64 || !IS_POW2(n)) {
                error_setg(errp, "Refcount width must be a power of two and may not exceed "
                           "64 bits");
                return -EINVAL;
            }
            opts->refcount_bits = n;
        }
        if (optlist_get_bool(list, "extended_l2", false, &b, errp) < 0) {
            return -EINVAL;
        }
        if (b) {
            error_setg(errp, "Extended L2 entries are not supported");
            return -ENOTSUP;
        }
        if ((v = optlist_get(list, "compression_type")) && strcmp(v, "zlib")) {
            error_setg(errp, "Compression type '%s' is not supported (only zlib)", v);
            return -ENOTSUP;
        }
        if (optlist_get_bool(list, "encryption", false, &b, errp) < 0) {
            return -EINVAL;
        }
        if (b) {
            error_setg(errp, "Encrypted images are not supported");
            return -ENOTSUP;
        }
    }
    return optlist_check_all_used(list, "the image format", errp);
}

static int img_create(int argc, char **argv)
{
    const char *fmt = "raw", *base = NULL, *base_fmt = NULL;
    char *options = NULL;
    bool quiet = false, unsafe = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "object", required_argument, NULL, OPTION_OBJECT },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":F:b:f:ho:qu", longopts, NULL)) != -1) {
        switch (c) {
        case 'F': base_fmt = optarg; break;
        case 'b': base = optarg; break;
        case 'f': fmt = optarg; break;
        case 'o':
            if (options) {
                char *joined = xasprintf("%s,%s", options, optarg);
                free(options);
                options = joined;
            } else {
                options = xstrdup(optarg);
            }
            break;
        case 'q': quiet = true; break;
        case 'u': unsafe = true; break;
        case 'h':
            printf("usage: minipc-img create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] "
                   "[-u] [-o options] filename [size]\n");
            return 0;
        default:
            unknown_option("create");
            free(options);
            return IMG_EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        missing_filename();
        free(options);
        return IMG_EXIT_ERROR;
    }
    const char *filename = argv[optind++];
    if (options && (!strcmp(options, "help") || !strcmp(options, "?"))) {
        print_create_options(fmt);
        free(options);
        return 0;
    }
    if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
        error_report("%s: Unknown file format '%s'", filename, fmt);
        free(options);
        return IMG_EXIT_ERROR;
    }

    BlockCreateOptions opts = { .format = fmt };
    bool size_given = false;
    Error *err = NULL;
    OptList *list = NULL;
    int ret = IMG_EXIT_ERROR;
    if (options) {
        list = optlist_parse(options, NULL, &err);
        if (!list || apply_create_options(list, &opts, &size_given, &err) < 0) {
            error_report("%s: %s", filename, error_get_pretty(err));
            error_free(err);
            goto out;
        }
    }
    if (base) {
        opts.backing_file = base;
    }
    if (base_fmt) {
        opts.backing_fmt = base_fmt;
    }
    if (optind < argc) {
        if (img_parse_size(argv[optind++], &opts.size) < 0) {
            error_report("Invalid image size specified. You may use k, M, G, T, P or E "
                         "suffixes for ");
            error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and "
                         "exabytes.");
            goto out;
        }
        size_given = true;
    }
    if (optind < argc) {
        error_report("Unexpected argument: %s", argv[optind]);
        goto out;
    }
    if (opts.backing_file && !opts.backing_fmt) {
        char *path = bdrv_path_combine(filename, opts.backing_file);
        const char *probed = bdrv_probe_format(path, NULL);
        free(path);
        error_report("%s: Backing file specified without backing format", filename);
        fprintf(stderr, "Detected format of %s.\n", probed);
        goto out;
    }
    if (!size_given && !(opts.backing_file && !unsafe)) {
        error_report("%s: Image creation needs a size parameter", filename);
        goto out;
    }
    /* Sizes are rounded up to whole sectors, as qemu-img does. */
    opts.size = ALIGN_UP(opts.size, 512);

    if (!size_given && opts.backing_file) {
        char *path = bdrv_path_combine(filename, opts.backing_file);
        BlockDriverState *backing;
        if (bdrv_open(&backing, path, opts.backing_fmt, BDRV_O_NO_BACKING, &err) < 0) {
            error_report("%s: Could not open backing image: %s", filename,
                         error_get_pretty(err));
            error_free(err);
            free(path);
            goto out;
        }
        opts.size = bdrv_getlength(backing);
        bdrv_close(backing);
        free(path);
    }

    if (!quiet) {
        StrBuf sb;
        strbuf_init(&sb);
        strbuf_printf(&sb, "Formatting '%s', fmt=%s", filename, fmt);
        if (!strcmp(fmt, "qcow2")) {
            strbuf_printf(&sb, " cluster_size=%u extended_l2=off compression_type=zlib",
                          opts.cluster_size ? opts.cluster_size : 65536);
        }
        strbuf_printf(&sb, " size=%" PRIu64, opts.size);
        if (opts.backing_file) {
            strbuf_printf(&sb, " backing_file=%s", opts.backing_file);
        }
        if (opts.backing_fmt) {
            strbuf_printf(&sb, " backing_fmt=%s", opts.backing_fmt);
        }
        if (!strcmp(fmt, "qcow2")) {
            if (opts.compat_version) {
                strbuf_printf(&sb, " compat=%s", opts.compat_version == 2 ? "0.10" : "1.1");
            }
            strbuf_printf(&sb, " lazy_refcounts=%s refcount_bits=%d",
                          opts.lazy_refcounts ? "on" : "off",
                          opts.refcount_bits ? opts.refcount_bits : 16);
        }
        printf("%s\n", sb.str);
        fflush(stdout);
        strbuf_free(&sb);
    }
    if (bdrv_create(filename, &opts, &err) < 0) {
        error_report("%s: %s", filename, error_get_pretty(err));
        error_free(err);
        goto out;
    }
    ret = 0;
out:
    optlist_free(list);
    free(options);
    return ret;
}

/* ---- info -------------------------------------------------------- */

static void format_date(char *buf, size_t len, uint32_t sec)
{
    time_t t = sec;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void format_clock(char *buf, size_t len, uint64_t nsec)
{
    uint64_t ms = nsec / 1000000;
    uint64_t secs = ms / 1000;
    snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
             secs / 3600, (secs / 60) % 60, secs % 60, ms % 1000);
}

static void print_snapshot_table(const QEMUSnapshotInfo *tab, int n)
{
    printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK",
           "ICOUNT");
    for (int i = 0; i < n; i++) {
        char *size = img_size_to_str(tab[i].vm_state_size);
        char date[64], clock[64], icount[32] = "";
        format_date(date, sizeof(date), tab[i].date_sec);
        format_clock(clock, sizeof(clock), tab[i].vm_clock_nsec);
        if (tab[i].icount != UINT64_MAX) {
            snprintf(icount, sizeof(icount), "%" PRId64, (int64_t)tab[i].icount);
        }
        printf("%-9s %-16s %8s%20s%13s%11s\n", tab[i].id_str, tab[i].name, size, date, clock,
               icount);
        free(size);
    }
}

static void json_snapshot(JsonWriter *w, const QEMUSnapshotInfo *sn)
{
    json_start_object(w, NULL);
    if (sn->icount != UINT64_MAX) {
        json_uint(w, "icount", sn->icount);
    }
    json_uint(w, "vm-clock-nsec", sn->vm_clock_nsec % 1000000000);
    json_str(w, "name", sn->name);
    json_uint(w, "date-sec", sn->date_sec);
    json_uint(w, "date-nsec", sn->date_nsec);
    json_uint(w, "vm-clock-sec", sn->vm_clock_nsec / 1000000000);
    json_str(w, "id", sn->id_str);
    json_uint(w, "vm-state-size", sn->vm_state_size);
    json_end_object(w);
}

static void info_json(JsonWriter *w, BlockDriverState *bs, const BlockImageInfo *info,
                      const QEMUSnapshotInfo *sns, int nb_sns)
{
    json_start_object(w, NULL);
    if (nb_sns > 0) {
        json_start_array(w, "snapshots");
        for (int i = 0; i < nb_sns; i++) {
            json_snapshot(w, &sns[i]);
        }
        json_end_array(w);
    }
    if (info->backing_file && info->backing_fmt) {
        json_str(w, "backing-filename-format", info->backing_fmt);
    }
    json_int(w, "virtual-size", info->virtual_size);
    json_str(w, "filename", bdrv_get_filename(bs));
    if (info->cluster_size) {
        json_int(w, "cluster-size", info->cluster_size);
    }
    json_str(w, "format", info->format);
    if (info->actual_size >= 0) {
        json_int(w, "actual-size", info->actual_size);
    }
    if (info->qcow2_version) {
        json_start_object(w, "format-specific");
        json_str(w, "type", "qcow2");
        json_start_object(w, "data");
        json_str(w, "compat", info->compat);
        json_str(w, "compression-type", info->compression_type);
        if (info->qcow2_version >= 3) {
            json_bool(w, "lazy-refcounts", info->lazy_refcounts);
        }
        json_int(w, "refcount-bits", info->refcount_bits);
        if (info->qcow2_version >= 3) {
            json_bool(w, "corrupt", info->corrupt);
            json_bool(w, "extended-l2", info->extended_l2);
        }
        json_end_object(w);
        json_end_object(w);
    }
    if (info->backing_file) {
        json_str(w, "full-backing-filename", info->full_backing_filename
                                             ? info->full_backing_filename
                                             : info->backing_file);
        json_str(w, "backing-filename", info->backing_file);
    }
    json_bool(w, "dirty-flag", info->dirty);
    json_end_object(w);
}

static void info_human(BlockDriverState *bs, const BlockImageInfo *info,
                       const QEMUSnapshotInfo *sns, int nb_sns)
{
    char *vsize = img_size_to_str(info->virtual_size);
    printf("image: %s\n", bdrv_get_filename(bs));
    printf("file format: %s\n", info->format);
    printf("virtual size: %s (%" PRId64 " bytes)\n", vsize, info->virtual_size);
    free(vsize);
    if (info->actual_size >= 0) {
        char *dsize = img_size_to_str(info->actual_size);
        printf("disk size: %s\n", dsize);
        free(dsize);
    } else {
        printf("disk size: unavailable\n");
    }
    if (info->cluster_size) {
        printf("cluster_size: %u\n", info->cluster_size);
    }
    if (info->backing_file) {
        printf("backing file: %s", info->backing_file);
        if (info->full_backing_filename &&
            strcmp(info->full_backing_filename, info->backing_file)) {
            printf(" (actual path: %s)", info->full_backing_filename);
        }
        printf("\n");
        if (info->backing_fmt) {
            printf("backing file format: %s\n", info->backing_fmt);
        }
    }
    if (info->dirty) {
        printf("cleanly shut down: no\n");
    }
    if (nb_sns > 0) {
        printf("Snapshot list:\n");
        print_snapshot_table(sns, nb_sns);
    }
    if (info->qcow2_version) {
        printf("Format specific information:\n");
        printf("    compat: %s\n", info->compat);
        printf("    compression type: %s\n", info->compression_type);
        if (info->qcow2_version >= 3) {
            printf("    lazy refcounts: %s\n", info->lazy_refcounts ? "true" : "false");
        }
        printf("    refcount bits: %d\n", info->refcount_bits);
        if (info->qcow2_version >= 3) {
            printf("    corrupt: %s\n", info->corrupt ? "true" : "false");
            printf("    extended l2: %s\n", info->extended_l2 ? "true" : "false");
        }
    }
}

static int img_info(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, chain = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "backing-chain", no_argument, NULL, OPTION_BACKING_CHAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case OPTION_OUTPUT:
            if (parse_output_format(optarg, &json) < 0) {
                return IMG_EXIT_ERROR;
            }
            break;
        case OPTION_BACKING_CHAIN: chain = true; break;
        case 'h':
            printf("usage: minipc-img info [-f fmt] [--output=ofmt] [--backing-chain] [-U] "
                   "filename\n");
            return 0;
        default:
            unknown_option("info");
            return IMG_EXIT_ERROR;
        }
    }
    if (optind != argc - 1) {
        missing_filename();
        return IMG_EXIT_ERROR;
    }
    BlockDriverState *top = img_open(argv[optind], fmt, chain ? 0 : BDRV_O_NO_BACKING, false);
    if (!top) {
        return IMG_EXIT_ERROR;
    }
    JsonWriter *w = json ? json_writer_new(true) : NULL;
    if (json && chain) {
        json_start_array(w, NULL);
    }
    int ret = 0;
    bool first = true;
    for (BlockDriverState *bs = top; bs; bs = chain ? bdrv_get_backing(bs) : NULL) {
        BlockImageInfo info;
        Error *err = NULL;
        if (bdrv_get_info(bs, &info, &err) < 0) {
            error_report_err(err);
            ret = IMG_EXIT_ERROR;
            break;
        }
        QEMUSnapshotInfo *sns = NULL;
        int nb_sns = bdrv_snapshot_list(bs, &sns, NULL);
        if (json) {
            info_json(w, bs, &info, sns, nb_sns);
        } else {
            if (!first) {
                printf("\n");
            }
            info_human(bs, &info, sns, nb_sns);
        }
        first = false;
        free(sns);
    }
    if (json) {
        if (chain) {
            json_end_array(w);
        }
        printf("%s\n", json_writer_get(w));
        json_writer_free(w);
    }
    bdrv_close(top);
    return ret;
}

/* ---- check ------------------------------------------------------- */

static void check_report(void *opaque, const char *msg)
{
    if (!*(bool *)opaque) {
        fprintf(stderr, "%s\n", msg);
    }
}

static void print_check_human(const BdrvCheckResult *r, bool quiet)
{
    if (r->corruptions == 0 && r->leaks == 0 && r->check_errors == 0) {
        img_printf(quiet, "No errors were found on the image.\n");
    } else {
        if (r->corruptions) {
            img_printf(quiet, "\n%d errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt "
                       "it.\n", r->corruptions);
        }
        if (r->leaks) {
            img_printf(quiet, "\n%d leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n", r->leaks);
        }
        if (r->check_errors) {
            img_printf(quiet, "\n%d internal errors have occurred during the check.\n",
                       r->check_errors);
        }
    }
    if (r->total_clusters != 0 && r->allocated_clusters != 0) {
        img_printf(quiet, "%" PRId64 "/%" PRId64 " = %0.2f%% allocated, %0.2f%% fragmented, "
                   "%0.2f%% compressed clusters\n", r->allocated_clusters, r->total_clusters,
                   r->allocated_clusters * 100.0 / r->total_clusters,
                   r->fragmented_clusters * 100.0 / r->allocated_clusters,
                   r->compressed_clusters * 100.0 / r->allocated_clusters);
    }
    if (r->image_end_offset) {
        img_printf(quiet, "Image end offset: %" PRId64 "\n", r->image_end_offset);
    }
}

static void print_check_json(const BdrvCheckResult *r, const char *filename,
                             const char *format)
{
    JsonWriter *w = json_writer_new(true);
    json_start_object(w, NULL);
    if (r->image_end_offset) {
        json_int(w, "image-end-offset", r->image_end_offset);
    }
    if (r->compressed_clusters) {
        json_int(w, "compressed-clusters", r->compressed_clusters);
    }
    json_int(w, "total-clusters", r->total_clusters);
    if (r->corruptions) {
        json_int(w, "corruptions", r->corruptions);
    }
    if (r->corruptions_fixed) {
        json_int(w, "corruptions-fixed", r->corruptions_fixed);
    }
    json_int(w, "check-errors", r->check_errors);
    if (r->leaks) {
        json_int(w, "leaks", r->leaks);
    }
    if (r->leaks_fixed) {
        json_int(w, "leaks-fixed", r->leaks_fixed);
    }
    if (r->allocated_clusters) {
        json_int(w, "allocated-clusters", r->allocated_clusters);
    }
    json_str(w, "filename", filename);
    json_str(w, "format", format);
    if (r->fragmented_clusters) {
        json_int(w, "fragmented-clusters", r->fragmented_clusters);
    }
    json_end_object(w);
    printf("%s\n", json_writer_get(w));
    json_writer_free(w);
}

static int img_check(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false, quiet = false;
    int fix = 0, c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hf:r:T:qU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                fix = BDRV_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                error_report("Unknown option value for -r (expecting 'leaks' or 'all'): %s",
                             optarg);
                return IMG_EXIT_ERROR;
            }
            break;
        case 'T': case 'U': break;
        case 'q': quiet = true; break;
        case OPTION_OUTPUT:
            if (parse_output_format(optarg, &json) < 0) {
                return IMG_EXIT_ERROR;
            }
            break;
        case 'h':
            printf("usage: minipc-img check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] "
                   "filename\n");
            return 0;
        default:
            unknown_option("check");
            return IMG_EXIT_ERROR;
        }
    }
    if (optind != argc - 1) {
        missing_filename();
        return IMG_EXIT_ERROR;
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_CHECK | BDRV_O_NO_BACKING | (fix ? BDRV_O_RDWR : 0);
    BlockDriverState *bs = img_open(filename, fmt, flags, quiet);
    if (!bs) {
        return IMG_EXIT_ERROR;
    }
    BdrvCheckResult r;
    Error *err = NULL;
    bool silent = quiet || json;
    int ret = bdrv_check(bs, &r, fix, check_report, &quiet, &err);
    if (ret == -ENOTSUP) {
        error_report_err(err);
        bdrv_close(bs);
        return 63;
    }
    if (ret < 0) {
        error_report("Check failed: %s", error_get_pretty(err));
        error_free(err);
        bdrv_close(bs);
        return IMG_EXIT_ERROR;
    }
    if (fix && (r.corruptions_fixed || r.leaks_fixed)) {
        int leaks_fixed = r.leaks_fixed, corruptions_fixed = r.corruptions_fixed;
        if (!silent) {
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %d leaked clusters\n    %d corruptions\n\n"
                   "Double checking the fixed image now...\n", leaks_fixed,
                   corruptions_fixed);
        }
        ret = bdrv_check(bs, &r, 0, check_report, &quiet, &err);
        if (ret < 0) {
            error_report("Check failed: %s", error_get_pretty(err));
            error_free(err);
            bdrv_close(bs);
            return IMG_EXIT_ERROR;
        }
        r.leaks_fixed = leaks_fixed;
        r.corruptions_fixed = corruptions_fixed;
    }
    if (json) {
        print_check_json(&r, filename, bdrv_get_format_name(bs));
    } else {
        print_check_human(&r, quiet);
    }
    bdrv_close(bs);
    if (r.check_errors) {
        return IMG_EXIT_ERROR;
    }
    if (r.corruptions) {
        return 2;
    }
    if (r.leaks) {
        return 3;
    }
    return 0;
}

/* ---- snapshot ---------------------------------------------------- */

static int img_snapshot(int argc, char **argv)
{
    enum { NONE, LIST, CREATE, APPLY, DELETE } action = NONE;
    const char *tag = NULL;
    bool quiet = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":la:c:d:f:hqU", longopts, NULL)) != -1) {
        if ((c == 'l' || c == 'a' || c == 'c' || c == 'd') && action != NONE) {
            error_report("Cannot mix '-l', '-a', '-c', '-d'");
            return IMG_EXIT_ERROR;
        }
        switch (c) {
        case 'l': action = LIST; break;
        case 'a': action = APPLY; tag = optarg; break;
        case 'c': action = CREATE; tag = optarg; break;
        case 'd': action = DELETE; tag = optarg; break;
        case 'f': break;  /* qemu-img probes here too */
        case 'q': quiet = true; break;
        case 'U': break;
        case 'h':
            printf("usage: minipc-img snapshot [-q] [-l | -a snapshot | -c snapshot | "
                   "-d snapshot] filename\n");
            return 0;
        default:
            unknown_option("snapshot");
            return IMG_EXIT_ERROR;
        }
    }
    if (optind != argc - 1) {
        missing_filename();
        return IMG_EXIT_ERROR;
    }
    if (action == NONE) {
        action = LIST;
    }
    const char *filename = argv[optind];
    int flags = BDRV_O_NO_BACKING | (action == LIST ? 0 : BDRV_O_RDWR);
    BlockDriverState *bs = img_open(filename, NULL, flags, quiet);
    if (!bs) {
        return IMG_EXIT_ERROR;
    }
    Error *err = NULL;
    int ret = 0;
    switch (action) {
    case LIST: {
        QEMUSnapshotInfo *sns;
        int n = bdrv_snapshot_list(bs, &sns, NULL);
        if (n > 0) {
            printf("Snapshot list:\n");
            print_snapshot_table(sns, n);
        }
        free(sns);
        break;
    }
    case CREATE: {
        QEMUSnapshotInfo sn = { 0 };
        struct timeval tv;
        snprintf(sn.name, sizeof(sn.name), "%s", tag);
        gettimeofday(&tv, NULL);
        sn.date_sec = tv.tv_sec;
        sn.date_nsec = tv.tv_usec * 1000;
        sn.icount = 0;  /* what qemu-img records for an offline snapshot */
        if (strlen(tag) >= sizeof(sn.name)) {
            error_report("Could not create snapshot '%s': name too long", tag);
            ret = IMG_EXIT_ERROR;
        } else if (bdrv_snapshot_create(bs, &sn, &err) < 0) {
            error_report("Could not create snapshot '%s': %s", tag, error_get_pretty(err));
            error_free(err);
            ret = IMG_EXIT_ERROR;
        }
        break;
    }
    case APPLY:
        if (bdrv_snapshot_goto(bs, tag, &err) < 0) {
            error_report("Could not apply snapshot '%s': %s", tag, error_get_pretty(err));
            error_free(err);
            ret = IMG_EXIT_ERROR;
        }
        break;
    case DELETE: {
        QEMUSnapshotInfo sn;
        if (bdrv_snapshot_find(bs, &sn, tag) < 0) {
            error_report("Could not delete snapshot '%s': snapshot not found", tag);
            ret = IMG_EXIT_ERROR;
        } else if (bdrv_snapshot_delete(bs, sn.id_str, sn.name, &err) < 0) {
            error_report("Could not delete snapshot '%s': %s", tag, error_get_pretty(err));
            error_free(err);
            ret = IMG_EXIT_ERROR;
        }
        break;
    }
    default:
        break;
    }
    if (ret == 0 && action != LIST && bdrv_flush(bs, &err) < 0) {
        error_report_err(err);
        ret = IMG_EXIT_ERROR;
    }
    bdrv_close(bs);
    return ret;
}

/* ---- resize ------------------------------------------------------ */

static int img_resize(int argc, char **argv)
{
    const char *fmt = NULL;
    bool quiet = false, shrink = false;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "shrink", no_argument, NULL, OPTION_SHRINK },
        { "preallocation", required_argument, NULL, OPTION_PREALLOCATION },
        { NULL, 0, NULL, 0 },
    };
    if (argc < 3) {
        error_report("Expecting image file name and size");
        return IMG_EXIT_ERROR;
    }
    /* The size may start with '-': take it before getopt sees it. */
    const char *size_arg = argv[--argc];
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'q': quiet = true; break;
        case OPTION_SHRINK: shrink = true; break;
        case OPTION_PREALLOCATION:
            if (strcmp(optarg, "off")) {
                error_report("Preallocation mode '%s' is not supported", optarg);
                return IMG_EXIT_ERROR;
            }
            break;
        case 'h':
            printf("usage: minipc-img resize [-f fmt] [-q] [--shrink] filename "
                   "[+ | -]size\n");
            return 0;
        default:
            unknown_option("resize");
            return IMG_EXIT_ERROR;
        }
    }
    if (optind != argc - 1) {
        error_report("Expecting image file name and size");
        return IMG_EXIT_ERROR;
    }
    int sign = 0;
    if (size_arg[0] == '+' || size_arg[0] == '-') {
        sign = size_arg[0] == '+' ? 1 : -1;
        size_arg++;
    }
    uint64_t n;
    if (img_parse_size(size_arg, &n) < 0 || n > INT64_MAX) {
        error_report("Invalid image size specified. You may use k, M, G, T, P or E suffixes "
                     "for ");
        error_report("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        return IMG_EXIT_ERROR;
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, BDRV_O_RDWR | BDRV_O_NO_BACKING, quiet);
    if (!bs) {
        return IMG_EXIT_ERROR;
    }
    int64_t cur = bdrv_getlength(bs);
    int64_t want = sign == 0 ? (int64_t)n : sign > 0 ? cur + (int64_t)n : cur - (int64_t)n;
    int ret = 0;
    Error *err = NULL;
    if (want < 0) {
        error_report("New image size must be positive");
        ret = IMG_EXIT_ERROR;
    } else if (want < cur && !shrink) {
        error_report("Use the --shrink option to perform a shrink operation.");
        ret = IMG_EXIT_ERROR;
    } else {
        if (want < cur) {
            warn_report("Shrinking an image will delete all data beyond the shrunken image's "
                        "end. Before performing such an operation, make sure there is no "
                        "important data there.");
        }
        if (!strcmp(bdrv_get_format_name(bs), "qcow2")) {
            want = ALIGN_UP(want, 512);
        }
        if (bdrv_truncate(bs, want, &err) < 0 || bdrv_flush(bs, &err) < 0) {
            error_report_err(err);
            ret = IMG_EXIT_ERROR;
        } else {
            img_printf(quiet, "Image resized.\n");
        }
    }
    bdrv_close(bs);
    return ret;
}

/* ---- map --------------------------------------------------------- */

typedef struct MapEntry {
    int64_t start, length;
    int depth;
    bool present, zero, data, has_offset;
    int64_t offset;
    const char *filename;
} MapEntry;

/* Status of [offset, offset+bytes) through the backing chain. */
static int64_t map_status(BlockDriverState *bs, int64_t offset, int64_t bytes, MapEntry *e,
                          Error **errp)
{
    int depth = 0;
    BlockDriverState *cur = bs;
    for (;;) {
        int status;
        int64_t map;
        int64_t n = bdrv_block_status(cur, offset, bytes, &status, &map, errp);
        if (n < 0) {
            return n;
        }
        BlockDriverState *next = bdrv_get_backing(cur);
        bool allocated = status & (BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_DATA);
        if (allocated || !next || offset >= bdrv_getlength(next)) {
            e->start = offset;
            e->length = n;
            e->depth = depth;
            e->present = allocated;
            e->zero = status & BDRV_BLOCK_ZERO;
            e->data = status & BDRV_BLOCK_DATA;
            e->has_offset = status & BDRV_BLOCK_OFFSET_VALID;
            e->offset = map;
            e->filename = bdrv_get_filename(cur);
            if (!allocated && !next) {
                e->zero = true;
            }
            return n;
        }
        bytes = n;
        cur = next;
        depth++;
    }
}

static bool map_can_merge(const MapEntry *a, const MapEntry *b)
{
    return a->depth == b->depth && a->present == b->present && a->zero == b->zero &&
           a->data == b->data && a->has_offset == b->has_offset &&
           (!a->has_offset || a->offset + a->length == b->offset) &&
           a->filename == b->filename;
}

static int map_print(const MapEntry *e, bool json, bool *first)
{
    if (json) {
        printf("%s{ \"start\": %" PRId64 ", \"length\": %" PRId64 ", \"depth\": %d, "
               "\"present\": %s, \"zero\": %s, \"data\": %s", *first ? "[" : ",\n",
               e->start, e->length, e->depth, e->present ? "true" : "false",
               e->zero ? "true" : "false", e->data ? "true" : "false");
        if (e->has_offset) {
            printf(", \"offset\": %" PRId64, e->offset);
        }
        printf("}");
    } else {
        if (e->data && !e->has_offset) {
            error_report("File contains external, encrypted or compressed clusters.");
            return -1;
        }
        if (e->data && !e->zero) {
            printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", (uint64_t)e->start,
                   (uint64_t)e->length, (uint64_t)(e->has_offset ? e->offset : 0),
                   e->filename);
        }
    }
    *first = false;
    return 0;
}

static int img_map(int argc, char **argv)
{
    const char *fmt = NULL;
    bool json = false;
    uint64_t start = 0, max_len = UINT64_MAX;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { "start-offset", required_argument, NULL, OPTION_START_OFFSET },
        { "max-length", required_argument, NULL, OPTION_MAX_LENGTH },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:hU", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': fmt = optarg; break;
        case 'U': break;
        case OPTION_OUTPUT:
            if (parse_output_format(optarg, &json) < 0) {
                return IMG_EXIT_ERROR;
            }
            break;
        case OPTION_START_OFFSET:
            if (img_parse_size(optarg, &start) < 0) {
                error_report("Invalid start offset specified! You may use k, M, G, T, P or "
                             "E suffixes for ");
                return IMG_EXIT_ERROR;
            }
            break;
        case OPTION_MAX_LENGTH:
            if (img_parse_size(optarg, &max_len) < 0) {
                error_report("Invalid length specified! You may use k, M, G, T, P or E "
                             "suffixes for ");
                return IMG_EXIT_ERROR;
            }
            break;
        case 'h':
            printf("usage: minipc-img map [-f fmt] [--start-offset=offset] "
                   "[--max-length=len] [--output=ofmt] filename\n");
            return 0;
        default:
            unknown_option("map");
            return IMG_EXIT_ERROR;
        }
    }
    if (optind != argc - 1) {
        missing_filename();
        return IMG_EXIT_ERROR;
    }
    BlockDriverState *bs = img_open(argv[optind], fmt, 0, false);
    if (!bs) {
        return IMG_EXIT_ERROR;
    }
    uint64_t length = bdrv_getlength(bs);
    uint64_t end = start >= length ? start : start + MIN(max_len, length - start);
    if (!json) {
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    }
    MapEntry cur = { 0 }, next;
    bool have = false, first = true;
    int ret = 0;
    for (uint64_t off = start; off < end;) {
        Error *err = NULL;
        /* Chunks bound the work per call; merging hides the seams. */
        int64_t n = map_status(bs, off, MIN(end - off, (uint64_t)1 * GiB), &next, &err);
        if (n <= 0) {
            if (err) {
                error_report_err(err);
            }
            ret = IMG_EXIT_ERROR;
            break;
        }
        if (have && map_can_merge(&cur, &next)) {
            cur.length += next.length;
        } else {
            if (have && map_print(&cur, json, &first) < 0) {
                ret = IMG_EXIT_ERROR;
                have = false;
                break;
            }
            cur = next;
            have = true;
        }
        off += n;
    }
    if (have && ret == 0 && map_print(&cur, json, &first) < 0) {
        ret = IMG_EXIT_ERROR;
    }
    if (json && ret == 0) {
        printf("%s]\n", first ? "[" : "");
    }
    bdrv_close(bs);
    return ret;
}

/* ---- main -------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    { "bench", img_bench },
    { "check", img_check },
    { "compare", img_compare },
    { "convert", img_convert },
    { "create", img_create },
    { "info", img_info },
    { "map", img_map },
    { "resize", img_resize },
    { "snapshot", img_snapshot },
};

static void help(void)
{
    printf("minipc-img version " MINIPC_VERSION ", a qemu-img compatible image tool\n"
           "usage: minipc-img [standard options] command [command options]\n\n"
           "Command syntax:\n"
           "  bench [-c count] [-d depth] [-f fmt] [--flush-interval=flush_interval] [-n] "
           "[--no-drain] [-o offset] [--pattern=pattern] [-q] [-s buffer_size] "
           "[-S step_size] [-t cache] [-w] [-U] filename\n"
           "  check [-q] [-f fmt] [--output=ofmt] [-r [leaks | all]] [-T src_cache] [-U] "
           "filename\n"
           "  compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] filename1 filename2\n"
           "  convert [-c] [-p] [-q] [-n] [-f fmt] [-t cache] [-T src_cache] [-O output_fmt] "
           "[-B backing_file [-F backing_fmt]] [-o options] [-l snapshot_param] "
           "[-S sparse_size] filename [filename2 [...]] output_filename\n"
           "  create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] "
           "filename [size]\n"
           "  info [-f fmt] [--output=ofmt] [--backing-chain] [-U] filename\n"
           "  map [-f fmt] [--start-offset=offset] [--max-length=len] [--output=ofmt] [-U] "
           "filename\n"
           "  snapshot [-q] [-l | -a snapshot | -c snapshot | -d snapshot] filename\n"
           "  resize [-f fmt] [-q] [--shrink] filename [+ | -]size\n\n"
           "Supported formats: qcow2 raw\n");
}

int main(int argc, char **argv)
{
    error_set_progname(argv[0]);
    if (argc < 2) {
        error_report("Not enough arguments");
        fprintf(stderr, "Try 'minipc-img --help' for more information\n");
        return IMG_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        help();
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("minipc-img version %s\n", MINIPC_VERSION);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(cmd, commands[i].name)) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    error_report("Command not found: %s", cmd);
    return IMG_EXIT_ERROR;
}
