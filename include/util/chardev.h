/*
 * Character devices: byte streams between the emulator and the host,
 * used by the serial ports, the monitor and debug consoles.
 *
 * Specs as on QEMU's command line:
 *   stdio | null | file:PATH | pipe:PATH | pty | vc[:WxH] | /dev/TTY
 *   unix:PATH[,server][,nowait|wait=off]
 *   tcp:[HOST]:PORT[,server][,nowait|wait=off][,telnet][,nodelay]
 *   telnet:[HOST]:PORT,... (tcp with telnet)
 *   mon:SPEC (a mux over SPEC; the caller attaches a monitor to it)
 *   chardev:ID (an existing chardev, shared; free it as usual)
 * "none" is not a chardev: callers handle it before getting here.
 * and -chardev BACKEND,id=ID,... (file,path=[,append=on] / stdio[,signal=]
 * / socket,path= or host=,port=,server=on,wait=off,telnet=on / pty /
 * null / ringbuf,size= / vc / pipe,path= / serial,path=), each with
 * optional mux=on.
 *
 * Everything runs from the main loop: input reaches the frontend from
 * main_loop_wait() whenever its can_read() allows (can_read is asked
 * again every iteration, so a frontend that was full needs no call to
 * resume). Writes never block: output a peer does not take at once is
 * buffered (up to 1 MiB per chardev) and sent from the loop.
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
 * (Ctrl-A c cycles focus; the first one attached has it at start), or
 * replaces the frontend with the same opaque. Passing NULL handlers
 * detaches (every frontend of a mux). If the backend is already open,
 * CHR_EVENT_OPENED follows from the main loop (not from inside this
 * call). A monitor on a mux should greet on CHR_EVENT_MUX_IN. */
void chardev_set_handlers(Chardev *chr, const ChardevHandlers *h);
/* Detaches the frontend whose handlers carry 'opaque'. */
void chardev_remove_handlers(Chardev *chr, void *opaque);
/* Writes all bytes unless the peer is gone; never blocks the guest for
 * long. Returns bytes accepted or -errno. Bytes for a peer that is not
 * there (socket without client, pty without reader) are discarded and
 * count as accepted, as QEMU does, so the guest never stalls; when more
 * than 1 MiB is waiting for a slow peer, the excess is dropped and the
 * return value is short. */
int chardev_write(Chardev *chr, const void *buf, size_t len);
int chardev_printf(Chardev *chr, const char *fmt, ...) PRINTF_FMT(2, 3);
/* Is a client connected (sockets) / is the backend usable? */
bool chardev_is_connected(const Chardev *chr);

/* QEMU-style description for "info chardev", e.g. "stdio",
 * "pty:/dev/pts/3", "disconnected:unix:/tmp/m.sock,server=on",
 * "tcp:127.0.0.1:4444,server=on <-> 127.0.0.1:51234". */
const char *chardev_filename(const Chardev *chr);
void chardev_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque);

/* Mux chardevs ("mon:..." or mux=on). */
bool chardev_is_mux(const Chardev *chr);
/* True for "mon:..." specs: the caller should attach a monitor. */
bool chardev_mux_wants_monitor(const Chardev *chr);
/* What Ctrl-A s does ("save disk data back to file (if -snapshot)"). */
void chardev_mux_set_save_hook(void (*save)(void *opaque), void *opaque);

/* Ring buffer chardevs (vc, -chardev ringbuf): read what was written,
 * and feed input to the frontend (queued until it can read). */
size_t chardev_ringbuf_read(Chardev *chr, void *buf, size_t len);
int chardev_ringbuf_input(Chardev *chr, const void *buf, size_t len);

/* Puts the terminal back into the mode it had before stdio made it raw.
 * Async-signal-safe; also done at exit and by chardev_free. */
void chardev_restore_terminal(void);
/* At exit: flushes pending output (briefly) and frees every chardev. */
void chardev_free_all(void);

#endif
