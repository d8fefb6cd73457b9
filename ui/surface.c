/*
 * Display surfaces and the console between a device and its viewers.
 */
#include "ui/surface.h"

DisplaySurface *surface_new(int width, int height)
{
    if (width < 1 || height < 1 || width > SURFACE_MAX_WIDTH || height > SURFACE_MAX_HEIGHT ||
        (uint64_t)width * height > SURFACE_MAX_PIXELS) {
        return NULL;
    }
    DisplaySurface *s = XNEW(DisplaySurface);
    s->width = width;
    s->height = height;
    s->stride = width * 4;
    s->data = xcalloc((size_t)width * height, 4);
    return s;
}

void surface_free(DisplaySurface *s)
{
    if (s) {
        free(s->data);
        free(s);
    }
}

struct DisplayConsole {
    const ConsoleHWOps *ops;
    void *opaque;
    DisplaySurface *surface;
    DisplayListener *listeners[CONSOLE_MAX_LISTENERS];
    uint64_t generation;
    /* accumulated dirty box (exclusive right/bottom) */
    bool dirty;
    int dx0, dy0, dx1, dy1;
};

DisplayConsole *console_new(const ConsoleHWOps *ops, void *opaque)
{
    DisplayConsole *con = XNEW(DisplayConsole);
    con->ops = ops;
    con->opaque = opaque;
    return con;
}

void console_free(DisplayConsole *con)
{
    if (con) {
        surface_free(con->surface);
        free(con);
    }
}

void console_refresh(DisplayConsole *con, int64_t now_ns)
{
    if (con->ops && con->ops->refresh) {
        con->ops->refresh(con->opaque, now_ns);
    }
}

void console_invalidate(DisplayConsole *con)
{
    if (con->ops && con->ops->invalidate) {
        con->ops->invalidate(con->opaque);
    }
}

DisplaySurface *console_surface(DisplayConsole *con)
{
    return con->surface;
}

int console_get_text(DisplayConsole *con, char *buf, size_t size)
{
    if (!con->ops || !con->ops->get_text) {
        return -1;
    }
    return con->ops->get_text(con->opaque, buf, size);
}

int console_add_listener(DisplayConsole *con, DisplayListener *l)
{
    for (int i = 0; i < CONSOLE_MAX_LISTENERS; i++) {
        if (!con->listeners[i]) {
            con->listeners[i] = l;
            if (con->surface && l->resize) {
                l->resize(l->opaque, con->surface);
            }
            return 0;
        }
    }
    return -ENOSPC;
}

void console_remove_listener(DisplayConsole *con, DisplayListener *l)
{
    for (int i = 0; i < CONSOLE_MAX_LISTENERS; i++) {
        if (con->listeners[i] == l) {
            con->listeners[i] = NULL;
        }
    }
}

bool console_take_dirty(DisplayConsole *con, int *x, int *y, int *w, int *h)
{
    if (!con->dirty) {
        return false;
    }
    *x = con->dx0;
    *y = con->dy0;
    *w = con->dx1 - con->dx0;
    *h = con->dy1 - con->dy0;
    con->dirty = false;
    return true;
}

uint64_t console_generation(DisplayConsole *con)
{
    return con->generation;
}

static void console_mark(DisplayConsole *con, int x0, int y0, int x1, int y1)
{
    if (!con->dirty) {
        con->dx0 = x0;
        con->dy0 = y0;
        con->dx1 = x1;
        con->dy1 = y1;
        con->dirty = true;
        return;
    }
    con->dx0 = MIN(con->dx0, x0);
    con->dy0 = MIN(con->dy0, y0);
    con->dx1 = MAX(con->dx1, x1);
    con->dy1 = MAX(con->dy1, y1);
}

DisplaySurface *console_resize(DisplayConsole *con, int width, int height)
{
    DisplaySurface *s = con->surface;
    if (!s || s->width != width || s->height != height) {
        DisplaySurface *n = surface_new(width, height);
        if (!n) {
            return NULL;   /* viewers keep the old frame */
        }
        surface_free(s);
        s = con->surface = n;
        con->generation++;
        for (int i = 0; i < CONSOLE_MAX_LISTENERS; i++) {
            DisplayListener *l = con->listeners[i];
            if (l && l->resize) {
                l->resize(l->opaque, s);
            }
        }
    }
    console_mark(con, 0, 0, s->width, s->height);
    return s;
}

void console_update(DisplayConsole *con, int x, int y, int w, int h)
{
    DisplaySurface *s = con->surface;
    if (!s) {
        return;
    }
    int x0 = MAX(x, 0), y0 = MAX(y, 0);
    int x1 = (int)MIN((int64_t)x + w, (int64_t)s->width);
    int y1 = (int)MIN((int64_t)y + h, (int64_t)s->height);
    if (x0 >= x1 || y0 >= y1) {
        return;
    }
    console_mark(con, x0, y0, x1, y1);
    for (int i = 0; i < CONSOLE_MAX_LISTENERS; i++) {
        DisplayListener *l = con->listeners[i];
        if (l && l->update) {
            l->update(l->opaque, x0, y0, x1 - x0, y1 - y0);
        }
    }
}
