/*
 * Private to util/chardev*.c: the Chardev object, the backend hooks and
 * the shared fd engine (non-blocking input and buffered output over one
 * or two file descriptors, served by a main-loop poller).
 */
#ifndef UTIL_CHARDEV_INTERNAL_H
#define UTIL_CHARDEV_INTERNAL_H

#include "util/chardev.h"
#include "util/main-loop.h"
#include "util/option.h"

/* Output kept for a slow reader before new bytes are dropped. */
#define CHR_OBUF_MAX (1 * MiB)
#define CHR_READ_CHUNK 4096

typedef struct ChardevOps {
    const char *name;
    /* Extra fds to poll (listening sockets) and their dispatch. */
    void (*fill)(Chardev *chr, int64_t *timeout_ns);
    void (*dispatch)(Chardev *chr);
    /* Replaces the fd engine's write (null, mux, ringbuf, telnet). */
    int (*write)(Chardev *chr, const uint8_t *buf, size_t len);
    /* Input from the fd engine before it reaches the frontend (telnet). */
    void (*input)(Chardev *chr, const uint8_t *buf, size_t len);
    /* End of input or a broken connection on the fd engine. */
    void (*hangup)(Chardev *chr);
    /* Frontend attach/detach, replacing the single-frontend default. */
    void (*set_handlers)(Chardev *chr, const ChardevHandlers *h);
    void (*remove_handlers)(Chardev *chr, void *opaque);
    void (*close)(Chardev *chr);
} ChardevOps;

struct Chardev {
    const ChardevOps *ops;
    char *label;
    char *filename;          /* QEMU-style description, "info chardev" */
    int refcnt;
    bool is_mux;
    bool mux_monitor;        /* "mon:" spec: the caller adds a monitor */

    /* The frontend (single; a mux keeps its own list). */
    ChardevHandlers fe;
    bool fe_attached;
    BottomHalf *open_bh;     /* OPENED for a frontend attaching late */

    bool be_open;            /* connected / usable */

    /* fd engine */
    int in_fd, out_fd;       /* -1 when absent */
    bool in_sock, out_sock;  /* shared sockets: MSG_DONTWAIT */
    bool in_eof;             /* stop reading */
    bool out_broken;         /* stop writing */
    bool owns_fds;           /* close in_fd/out_fd on free */
    uint8_t *obuf;
    size_t ohead, olen, ocap;
    int in_idx, out_idx;

    MainLoopPoller poller;
    void *priv;
    Chardev *next;
};

Chardev *chr_alloc(const ChardevOps *ops, const char *label);
/* Registers the chardev (lookups, poller). */
void chr_register(Chardev *chr);
void chr_set_filename(Chardev *chr, const char *fmt, ...) PRINTF_FMT(2, 3);

/* Frontend side helpers for backends. */
int chr_fe_can_read(Chardev *chr);
void chr_fe_read(Chardev *chr, const uint8_t *buf, size_t len);
void chr_fe_event(Chardev *chr, int event);
/* Backend connected or gone: updates be_open and tells the frontend. */
void chr_set_open(Chardev *chr, bool open);

/* fd engine */
void chr_fd_attach(Chardev *chr, int in_fd, int out_fd, bool owns);
void chr_fd_detach(Chardev *chr);   /* closes owned fds, drops output */
int chr_fd_write(Chardev *chr, const uint8_t *buf, size_t len);
/* Best effort flush of buffered output, waiting at most timeout_ms. */
void chr_fd_flush(Chardev *chr, int timeout_ms);

void chr_ignore_sigpipe(void);

/* Backends. */
Chardev *chr_null_new(const char *label);
Chardev *chr_stdio_new(const char *label, bool allow_signals, Error **errp);
Chardev *chr_file_new(const char *label, const char *path, bool append, Error **errp);
Chardev *chr_pipe_new(const char *label, const char *path, Error **errp);
Chardev *chr_serial_new(const char *label, const char *path, Error **errp);
Chardev *chr_pty_new(const char *label, Error **errp);
Chardev *chr_ringbuf_new(const char *label, const char *kind, size_t size, Error **errp);

typedef struct SocketOpts {
    bool is_unix;
    char *path;              /* unix */
    char *host, *port;       /* tcp */
    bool server, wait, telnet, nodelay;
} SocketOpts;
Chardev *chr_socket_new(const char *label, const SocketOpts *o, Error **errp);

Chardev *chr_mux_new(const char *label, Chardev *backend, Error **errp);

#endif
