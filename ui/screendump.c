/*
 * Screendump encoders. PNG follows the PNG specification (ISO/IEC
 * 15948): signature, IHDR, IDAT chunks carrying one zlib stream of
 * filtered scan lines, IEND; every chunk ends with the CRC-32 of its
 * type and data.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "ui/screendump.h"

typedef struct OutBuf {
    uint8_t *data;
    size_t len, cap;
} OutBuf;

static void out_put(OutBuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = MAX(b->cap * 2, b->len + n + 4096);
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

int screendump_parse_format(const char *name, ScreendumpFormat *fmt, Error **errp)
{
    if (!strcmp(name, "ppm")) {
        *fmt = SCREENDUMP_PPM;
    } else if (!strcmp(name, "png")) {
        *fmt = SCREENDUMP_PNG;
    } else {
        error_setg(errp, "Unsupported screendump format '%s' (use ppm or png)", name);
        return -EINVAL;
    }
    return 0;
}

static void rgb_row(const DisplaySurface *s, int y, uint8_t *dst)
{
    const uint32_t *src = (const uint32_t *)((const uint8_t *)s->data + (size_t)y * s->stride);
    for (int x = 0; x < s->width; x++) {
        uint32_t p = src[x];
        dst[3 * x] = p >> 16;
        dst[3 * x + 1] = p >> 8;
        dst[3 * x + 2] = p;
    }
}

static void encode_ppm(const DisplaySurface *s, OutBuf *b)
{
    char hdr[64];
    int n = snprintf(hdr, sizeof(hdr), "P6\n%d %d\n255\n", s->width, s->height);
    out_put(b, hdr, n);
    size_t row = (size_t)s->width * 3;
    uint8_t *line = xmalloc(row);
    for (int y = 0; y < s->height; y++) {
        rgb_row(s, y, line);
        out_put(b, line, row);
    }
    free(line);
}

static void png_chunk(OutBuf *b, const char type[4], const uint8_t *data, uint32_t len)
{
    uint8_t be[4];
    stl_be(be, len);
    out_put(b, be, 4);
    out_put(b, type, 4);
    if (len) {
        out_put(b, data, len);
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)type, 4);
    if (len) {
        crc = crc32(crc, data, len);
    }
    stl_be(be, (uint32_t)crc);
    out_put(b, be, 4);
}

#define PNG_IDAT_CHUNK (64 * 1024)

static int encode_png(const DisplaySurface *s, OutBuf *b, Error **errp)
{
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    out_put(b, sig, sizeof(sig));
    uint8_t ihdr[13];
    stl_be(ihdr, s->width);
    stl_be(ihdr + 4, s->height);
    ihdr[8] = 8;      /* bits per sample */
    ihdr[9] = 2;      /* colour type: RGB */
    ihdr[10] = 0;     /* deflate */
    ihdr[11] = 0;     /* adaptive filtering (each line says its filter) */
    ihdr[12] = 0;     /* no interlace */
    png_chunk(b, "IHDR", ihdr, sizeof(ihdr));

    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit(&zs, 6) != Z_OK) {
        error_setg(errp, "screendump: zlib initialisation failed");
        return -ENOMEM;
    }
    size_t rowlen = (size_t)s->width * 3 + 1;
    uint8_t *row = xmalloc(rowlen);
    uint8_t *zbuf = xmalloc(PNG_IDAT_CHUNK);
    zs.next_out = zbuf;
    zs.avail_out = PNG_IDAT_CHUNK;
    int ret = 0;
    for (int y = 0; y <= s->height; y++) {
        bool last = y == s->height;
        if (!last) {
            row[0] = 0;   /* filter: none */
            rgb_row(s, y, row + 1);
            zs.next_in = row;
            zs.avail_in = (uInt)rowlen;
        } else {
            zs.next_in = NULL;
            zs.avail_in = 0;
        }
        for (;;) {
            int zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR) {
                error_setg(errp, "screendump: zlib compression failed");
                ret = -EIO;
                goto out;
            }
            if (zs.avail_out == 0) {
                png_chunk(b, "IDAT", zbuf, PNG_IDAT_CHUNK);
                zs.next_out = zbuf;
                zs.avail_out = PNG_IDAT_CHUNK;
                continue;
            }
            if (last ? zr == Z_STREAM_END : zs.avail_in == 0) {
                break;
            }
        }
    }
    if (zs.avail_out < PNG_IDAT_CHUNK) {
        png_chunk(b, "IDAT", zbuf, PNG_IDAT_CHUNK - zs.avail_out);
    }
    png_chunk(b, "IEND", NULL, 0);
out:
    deflateEnd(&zs);
    free(row);
    free(zbuf);
    return ret;
}

int screendump_encode(const DisplaySurface *s, ScreendumpFormat fmt, uint8_t **out,
                      size_t *len, Error **errp)
{
    OutBuf b = { 0 };
    if (!s || s->width < 1 || s->height < 1) {
        error_setg(errp, "screendump: there is no picture to save");
        return -ENODEV;
    }
    if (fmt == SCREENDUMP_PNG) {
        int ret = encode_png(s, &b, errp);
        if (ret < 0) {
            free(b.data);
            return ret;
        }
    } else {
        encode_ppm(s, &b);
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

int screendump_save(const DisplaySurface *s, const char *path, ScreendumpFormat fmt,
                    Error **errp)
{
    uint8_t *data;
    size_t len;
    int ret = screendump_encode(s, fmt, &data, &len, errp);
    if (ret < 0) {
        return ret;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        ret = -errno;
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        free(data);
        return ret;
    }
    ssize_t n = full_write(fd, data, len);
    free(data);
    if (n < 0 || (size_t)n != len) {
        ret = n < 0 ? (int)n : -EIO;
        error_setg_errno(errp, -ret, "Could not write '%s'", path);
        close(fd);
        return ret;
    }
    if (close(fd) < 0) {
        ret = -errno;
        error_setg_errno(errp, errno, "Could not write '%s'", path);
        return ret;
    }
    return 0;
}

int screendump_console(DisplayConsole *con, const char *path, ScreendumpFormat fmt,
                       int64_t now_ns, Error **errp)
{
    console_refresh(con, now_ns);
    DisplaySurface *s = console_surface(con);
    if (!s) {
        error_setg(errp, "screendump: the display has no picture yet");
        return -ENODEV;
    }
    return screendump_save(s, path, fmt, errp);
}
