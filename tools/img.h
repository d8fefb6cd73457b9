/* minipc-img: helpers shared by the subcommand files. */
#ifndef TOOLS_IMG_H
#define TOOLS_IMG_H

#include "block/block.h"
#include "util/error.h"

/* Exit status for failures, as qemu-img. */
#define IMG_EXIT_ERROR 1

/* Opens an image for a subcommand, printing the error (and the raw
 * probing warning, as qemu-img does) itself. Returns NULL on failure. */
BlockDriverState *img_open(const char *filename, const char *fmt, int flags, bool quiet);

/* "1 GiB", "196 KiB", "0.977 KiB": three significant digits, binary
 * units, switching unit at 1000 (the qemu-img style). */
char *img_size_to_str(uint64_t size);

/* Parses a size argument the qemu-img way ("1G", "512", "64k"). */
int img_parse_size(const char *str, uint64_t *out);

/* Progress output for -p ("    (12.34/100%)\r"). */
void img_progress_init(bool enabled);
void img_progress_update(double percent);
void img_progress_end(void);

/* Prints one line of a qprintf-style quiet-aware message. */
void img_printf(bool quiet, const char *fmt, ...) PRINTF_FMT(2, 3);

int img_convert(int argc, char **argv);
int img_compare(int argc, char **argv);
int img_bench(int argc, char **argv);

#endif
