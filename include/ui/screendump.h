/*
 * Screendump: the current picture of a surface as a file, in the
 * formats QEMU's `screendump` writes: binary PPM (P6, the default) and
 * PNG (8-bit RGB, no interlace, deflate through zlib).
 */
#ifndef UI_SCREENDUMP_H
#define UI_SCREENDUMP_H

#include "util/osdep.h"
#include "util/error.h"
#include "ui/surface.h"

typedef enum ScreendumpFormat {
    SCREENDUMP_PPM,
    SCREENDUMP_PNG,
} ScreendumpFormat;

/* "ppm" or "png" (as the monitor's -f option); -EINVAL otherwise. */
int screendump_parse_format(const char *name, ScreendumpFormat *fmt, Error **errp);

/* Encodes the surface into a new buffer (*out, *len; the caller frees
 * *out). Returns 0 or -errno with errp set. */
int screendump_encode(const DisplaySurface *s, ScreendumpFormat fmt, uint8_t **out,
                      size_t *len, Error **errp);

/* Writes the file 'path' (created or truncated). Returns 0 or -errno
 * with errp set. */
int screendump_save(const DisplaySurface *s, const char *path, ScreendumpFormat fmt,
                    Error **errp);

/* Refreshes the console (so the picture is current), then saves its
 * surface. -ENODEV if the console has no picture yet. */
int screendump_console(DisplayConsole *con, const char *path, ScreendumpFormat fmt,
                       int64_t now_ns, Error **errp);

#endif
