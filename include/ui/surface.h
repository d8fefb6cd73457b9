/*
 * Display surfaces and consoles.
 *
 * A DisplaySurface is a plain 32-bit xRGB image (0x00RRGGBB per pixel,
 * host order, the top byte ignored) that a graphics device renders into.
 *
 * A DisplayConsole sits between one device (the producer: the VGA) and
 * whatever shows its output (the consumers: an SDL window, a headless
 * backend, screendump). The flow is pull-based, driven by the consumer:
 *
 *     consumer timer (e.g. 60 Hz) -> console_refresh(con, now_ns)
 *         -> device's ConsoleHWOps.refresh: renders what changed into
 *            the surface, calling console_resize() when the mode's size
 *            changes and console_update() for every rectangle it drew
 *         -> each listener's resize()/update() callback
 *
 * A consumer can also ignore the callbacks and poll the accumulated
 * dirty rectangle with console_take_dirty() after console_refresh().
 * The surface pointer changes on resize: fetch it with
 * console_surface() after each refresh (or in the resize callback).
 *
 * Devices do not render on their own; an idle device whose memory did
 * not change does close to nothing in refresh().
 */
#ifndef UI_SURFACE_H
#define UI_SURFACE_H

#include "util/osdep.h"

typedef struct DisplaySurface {
    int width, height;
    int stride;            /* bytes between rows (width * 4 here) */
    uint32_t *data;        /* xRGB8888 */
} DisplaySurface;

/* Largest surface a device may ask for (pixels). Protects the host from
 * a guest that programs an absurd mode. */
#define SURFACE_MAX_WIDTH   16384
#define SURFACE_MAX_HEIGHT  16384
#define SURFACE_MAX_PIXELS  (32u * 1024 * 1024)

/* width/height >= 1 and within the limits above, or NULL. Zero-filled
 * (black). */
DisplaySurface *surface_new(int width, int height);
void surface_free(DisplaySurface *s);

static inline uint32_t *surface_row(DisplaySurface *s, int y)
{
    return (uint32_t *)((uint8_t *)s->data + (size_t)y * s->stride);
}

/* ---- consoles ------------------------------------------------------- */

typedef struct DisplayConsole DisplayConsole;

/* What the producing device implements. */
typedef struct ConsoleHWOps {
    /* Render what changed since the last call. now_ns is the caller's
     * clock (only used for blinking: text cursor and attributes). */
    void (*refresh)(void *opaque, int64_t now_ns);
    /* The next refresh must redraw everything. */
    void (*invalidate)(void *opaque);
    /* Optional: the characters of the visible text screen, rows joined
     * with '\n', NUL-terminated; returns the length, or -1 when the
     * device is not showing text. */
    int (*get_text)(void *opaque, char *buf, size_t size);
} ConsoleHWOps;

/* What a consumer implements (both callbacks optional). */
typedef struct DisplayListener {
    /* A new surface (size change or first frame); everything is dirty. */
    void (*resize)(void *opaque, DisplaySurface *surface);
    /* Pixels in the rectangle changed. */
    void (*update)(void *opaque, int x, int y, int w, int h);
    void *opaque;
} DisplayListener;

#define CONSOLE_MAX_LISTENERS 4

DisplayConsole *console_new(const ConsoleHWOps *ops, void *opaque);
void console_free(DisplayConsole *con);

/* ---- consumer side ---- */
void console_refresh(DisplayConsole *con, int64_t now_ns);
void console_invalidate(DisplayConsole *con);
/* NULL until the device produced its first frame. */
DisplaySurface *console_surface(DisplayConsole *con);
int console_get_text(DisplayConsole *con, char *buf, size_t size);
/* Returns 0 or -ENOSPC (too many listeners). The listener struct must
 * stay valid until removed. */
int console_add_listener(DisplayConsole *con, DisplayListener *l);
void console_remove_listener(DisplayConsole *con, DisplayListener *l);
/* Bounding box of everything updated since the previous call; false if
 * nothing changed. A resize counts as the whole surface. */
bool console_take_dirty(DisplayConsole *con, int *x, int *y, int *w, int *h);
/* Increments every time the surface is replaced. */
uint64_t console_generation(DisplayConsole *con);

/* ---- producer side ---- */
/* Makes the surface width x height (a new, black one if the size
 * changed; the same one otherwise) and marks it all dirty. Returns NULL
 * if the size is out of range: the old surface (if any) stays, and the
 * device must not draw. */
DisplaySurface *console_resize(DisplayConsole *con, int width, int height);
/* Clipped to the surface; empty rectangles are ignored. */
void console_update(DisplayConsole *con, int x, int y, int w, int h);

#endif
