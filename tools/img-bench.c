/*
 * minipc-img bench: the same request pattern as qemu-img bench (count
 * requests of one size, starting at an offset, advancing by a step and
 * wrapping inside the image) so the two can be timed side by side.
 * Requests are issued one after another; the queue depth is accepted
 * and reported for compatibility.
 */
#include <getopt.h>
#include <stdio.h>

#include "img.h"

enum { OPTION_PATTERN = 300, OPTION_FLUSH_INTERVAL, OPTION_NO_DRAIN };

int img_bench(int argc, char **argv)
{
    const char *fmt = NULL;
    uint64_t count = 75000, depth = 64, offset = 0, bufsize = 4096, step = 0;
    uint64_t flush_interval = 0, pattern = 0;
    bool write = false, quiet = false, nocache = false, drain = true;
    int c;
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "flush-interval", required_argument, NULL, OPTION_FLUSH_INTERVAL },
        { "pattern", required_argument, NULL, OPTION_PATTERN },
        { "no-drain", no_argument, NULL, OPTION_NO_DRAIN },
        { "force-share", no_argument, NULL, 'U' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hc:d:f:ni:o:qs:S:t:wU", longopts, NULL)) != -1) {
        uint64_t *target = NULL;
        bool is_size = false;
        switch (c) {
        case 'c': target = &count; break;
        case 'd': target = &depth; break;
        case 'o': target = &offset; is_size = true; break;
        case 's': target = &bufsize; is_size = true; break;
        case 'S': target = &step; is_size = true; break;
        case OPTION_FLUSH_INTERVAL: target = &flush_interval; break;
        case OPTION_PATTERN: target = &pattern; break;
        case 'f': fmt = optarg; break;
        case 'n': case 'i': case 'U': break;
        case 'q': quiet = true; break;
        case 't':
            if (!strcmp(optarg, "none") || !strcmp(optarg, "directsync")) {
                nocache = true;
            } else if (strcmp(optarg, "writeback") && strcmp(optarg, "unsafe") &&
                       strcmp(optarg, "writethrough")) {
                error_report("Invalid cache mode");
                return IMG_EXIT_ERROR;
            }
            break;
        case 'w': write = true; break;
        case OPTION_NO_DRAIN: drain = false; break;
        case 'h':
            printf("usage: minipc-img bench [-c count] [-d depth] [-f fmt] "
                   "[--flush-interval=flush_interval] [--no-drain] [-o offset] "
                   "[--pattern=pattern] [-q] [-s buffer_size] [-S step_size] [-t cache] [-w] "
                   "filename\n");
            return 0;
        default:
            error_report("Invalid option for bench");
            return IMG_EXIT_ERROR;
        }
        if (target) {
            int r;
            if (is_size) {
                r = img_parse_size(optarg, target);
            } else {
                char *end;
                errno = 0;
                *target = strtoull(optarg, &end, 0);
                r = (errno || *end || optarg[0] == '-') ? -EINVAL : 0;
            }
            if (r < 0 || (target == &pattern && pattern > 0xff) ||
                (target == &bufsize && (bufsize == 0 || bufsize > INT32_MAX)) ||
                (target == &depth && depth == 0)) {
                error_report("Invalid value '%s' for option -%c", optarg,
                             c < 256 ? c : '-');
                return IMG_EXIT_ERROR;
            }
        }
    }
    if (optind != argc - 1) {
        error_report("Expecting one image file name");
        return IMG_EXIT_ERROR;
    }
    if (!write && flush_interval) {
        error_report("--flush-interval is only available in write tests");
        return IMG_EXIT_ERROR;
    }
    if (!drain && !flush_interval) {
        error_report("--no-drain requires --flush-interval");
        return IMG_EXIT_ERROR;
    }
    if (step == 0) {
        step = bufsize;
    }
    BlockDriverState *bs = img_open(argv[optind], fmt,
                                    (write ? BDRV_O_RDWR : 0) | (nocache ? BDRV_O_NOCACHE : 0),
                                    quiet);
    if (!bs) {
        return IMG_EXIT_ERROR;
    }
    uint64_t image_size = bdrv_getlength(bs);
    if (bufsize > image_size) {
        error_report("Buffer size is larger than the image");
        bdrv_close(bs);
        return IMG_EXIT_ERROR;
    }
    img_printf(quiet, "Sending %" PRIu64 " %s requests, %" PRIu64 " bytes each, %" PRIu64
               " in parallel (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
               count, write ? "write" : "read", bufsize, depth, offset, step);
    if (flush_interval) {
        img_printf(quiet, "Sending flush every %" PRIu64 " requests\n", flush_interval);
    }
    fflush(stdout);

    uint8_t *buf = xmemalign_zero(4096, bufsize);
    memset(buf, (int)pattern, bufsize);
    int ret = 0;
    Error *err = NULL;
    int64_t start = get_clock_ns();
    uint64_t pos = offset;
    pos %= image_size;
    for (uint64_t i = 0; i < count; i++) {
        int r = write ? bdrv_pwrite(bs, pos, buf, bufsize, &err)
                      : bdrv_pread(bs, pos, buf, bufsize, &err);
        if (r < 0) {
            error_report("Failed request: %s", strerror(-r));
            error_free(err);
            ret = IMG_EXIT_ERROR;
            break;
        }
        if (flush_interval && (i + 1) % flush_interval == 0 && bdrv_flush(bs, &err) < 0) {
            error_report("Failed flush request: %s", error_get_pretty(err));
            error_free(err);
            ret = IMG_EXIT_ERROR;
            break;
        }
        /* Offsets wrap around the image size, as qemu-img's do. */
        pos = (pos + step) % image_size;
    }
    if (ret == 0 && write && bdrv_flush(bs, &err) < 0) {
        error_report_err(err);
        ret = IMG_EXIT_ERROR;
    }
    double secs = (get_clock_ns() - start) / 1e9;
    if (ret == 0) {
        img_printf(quiet, "Run completed in %3.3f seconds.\n", secs);
    }
    free(buf);
    bdrv_close(bs);
    return ret;
}
