/*
 * Character devices: byte streams between the emulator and the host,
 * used by the serial ports, the monitor and debug consoles.
 *
 * Specs as on QEMU's command line:
 *   stdio | null | file:PATH | pipe:PATH | pty | vc | mon:stdio
 *   unix:PATH[,server][,nowait|wait=off]
 *   tcp:[HOST]:PORT[,server][,nowait|wait=off][,telnet]
 * and -chardev BACKEND,id=ID,... (file,path= / stdio / socket,path= or
 * host=,port=,server=on,wait=off / pty / null).
 */
#ifndef UTIL_CHARDEV_H
#define UTIL_CHARDEV_H

#include "util/osdep.h"
#include "util/error.h"

typedef struct Chardev Chardev;

enum {
    CHR_EVENT_OPENED,   /* a client connected / the backend is ready */
    CHR_EVENT_CLOSED,   /* the client went away */
    CHR_EVENT_BREAK,
    CHR_EVENT_MUX_IN,   /* mux focus moved to this frontend */
    CHR_EVENT_MUX_OUT,
};

typedef struct ChardevHandlers {
    /* How many bytes the frontend can take now (0 = stop reading). */
    int (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, int len);
    void (*event)(void *opaque, int event);
    void *opaque;
} ChardevHandlers;

/* Creates from a "-serial"/"-monitor" style spec. 'label' names it in
 * messages and lookups (e.g. "serial0"). */
Chardev *chardev_new_from_spec(const char *label, const char *spec, Error **errp);
/* Creates from a "-chardev backend,id=...,..." option string. */
Chardev *chardev_new_from_opts(const char *opts, Error **errp);
Chardev *chardev_find(const char *id);
void chardev_free(Chardev *chr);
const char *chardev_label(const Chardev *chr);

/* A frontend attaches here. For mux chardevs each call adds a frontend
 * (Ctrl-A c cycles focus). Passing NULL handlers detaches. */
void chardev_set_handlers(Chardev *chr, const ChardevHandlers *h);
/* Writes all bytes unless the peer is gone; never blocks the guest for
 * long. Returns bytes accepted or -errno. */
int chardev_write(Chardev *chr, const void *buf, size_t len);
int chardev_printf(Chardev *chr, const char *fmt, ...) PRINTF_FMT(2, 3);
/* Is a client connected (sockets) / is the backend usable? */
bool chardev_is_connected(const Chardev *chr);

#endif
