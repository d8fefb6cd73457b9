/*
 * Character devices: the registry, the frontend plumbing, the fd engine
 * shared by the fd-based backends, and parsing of -serial style specs
 * and -chardev option strings. Backends live in chardev-*.c.
 *
 * Every chardev owns one main-loop poller. Its fill() asks the frontend
 * how much it can take and only then polls the input fd, so a frontend
 * that is full simply stops input until it drains (no resume call) and
 * the loop never spins on readable data nobody takes. Output goes out
 * directly when the peer takes it and is otherwise buffered and sent
 * when the fd becomes writable.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chardev-internal.h"
#include "util/strbuf.h"

static Chardev *chardevs;

/* ---- objects and registry ---- */

Chardev *chr_alloc(const ChardevOps *ops, const char *label)
{
    Chardev *chr = XNEW(Chardev);
    chr->ops = ops;
    chr->label = xstrdup(label ? label : "");
    chr->filename = xstrdup(ops->name);
    chr->refcnt = 1;
    chr->in_fd = chr->out_fd = -1;
    chr->in_idx = chr->out_idx = -1;
    return chr;
}

void chr_set_filename(Chardev *chr, const char *fmt, ...)
{
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    free(chr->filename);
    chr->filename = strbuf_steal(&sb);
    strbuf_free(&sb);
}

static void chr_poll_fill(void *opaque, int64_t *timeout_ns);
static void chr_poll_dispatch(void *opaque, bool timed_out);

void chr_register(Chardev *chr)
{
    chr->poller.fill = chr_poll_fill;
    chr->poller.dispatch = chr_poll_dispatch;
    chr->poller.opaque = chr;
    main_loop_add_poller(&chr->poller);
    chr->next = chardevs;
    chardevs = chr;
}

Chardev *chardev_find(const char *id)
{
    for (Chardev *c = chardevs; c; c = c->next) {
        if (!strcmp(c->label, id)) {
            return c;
        }
    }
    return NULL;
}

const char *chardev_label(const Chardev *chr)
{
    return chr->label;
}

const char *chardev_filename(const Chardev *chr)
{
    return chr->filename;
}

void chardev_foreach(void (*fn)(Chardev *chr, void *opaque), void *opaque)
{
    /* Oldest first, as they were created. */
    int n = 0;
    for (Chardev *c = chardevs; c; c = c->next) {
        n++;
    }
    Chardev **v = XNEW_ARRAY(Chardev *, n ? n : 1);
    int i = n;
    for (Chardev *c = chardevs; c; c = c->next) {
        v[--i] = c;
    }
    for (i = 0; i < n; i++) {
        fn(v[i], opaque);
    }
    free(v);
}

bool chardev_is_connected(const Chardev *chr)
{
    return chr->be_open;
}

bool chardev_is_mux(const Chardev *chr)
{
    return chr->is_mux;
}

bool chardev_mux_wants_monitor(const Chardev *chr)
{
    return chr->mux_monitor;
}

void chardev_free(Chardev *chr)
{
    if (!chr || --chr->refcnt > 0) {
        return;
    }
    for (Chardev **pp = &chardevs; *pp; pp = &(*pp)->next) {
        if (*pp == chr) {
            *pp = chr->next;
            break;
        }
    }
    main_loop_remove_poller(&chr->poller);
    chr_fd_flush(chr, 200);
    if (chr->ops->close) {
        chr->ops->close(chr);
    }
    chr_fd_detach(chr);
    bh_free(chr->open_bh);
    free(chr->label);
    free(chr->filename);
    free(chr);
}

void chardev_free_all(void)
{
    for (Chardev *c = chardevs; c; c = c->next) {
        chr_fd_flush(c, 100);
    }
    /* Muxes first: they own their backends. */
    for (;;) {
        Chardev *victim = chardevs;
        for (Chardev *c = chardevs; c; c = c->next) {
            if (c->is_mux) {
                victim = c;
                break;
            }
        }
        if (!victim) {
            break;
        }
        victim->refcnt = 1;
        chardev_free(victim);
    }
    chardev_restore_terminal();
}

/* ---- frontend plumbing ---- */

int chr_fe_can_read(Chardev *chr)
{
    if (!chr->fe_attached || !chr->fe.read) {
        return 0;
    }
    if (!chr->fe.can_read) {
        return CHR_READ_CHUNK;
    }
    int n = chr->fe.can_read(chr->fe.opaque);
    return n > 0 ? n : 0;
}

void chr_fe_read(Chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->fe_attached && chr->fe.read && len) {
        chr->fe.read(chr->fe.opaque, buf, (int)len);
    }
}

void chr_fe_event(Chardev *chr, int event)
{
    if (chr->fe_attached && chr->fe.event) {
        chr->fe.event(chr->fe.opaque, event);
    }
}

void chr_set_open(Chardev *chr, bool open)
{
    if (chr->be_open == open) {
        return;
    }
    chr->be_open = open;
    if (!open) {
        bh_cancel(chr->open_bh);
    }
    chr_fe_event(chr, open ? CHR_EVENT_OPENED : CHR_EVENT_CLOSED);
}

static void chr_open_bh(void *opaque)
{
    Chardev *chr = opaque;
    if (chr->be_open) {
        chr_fe_event(chr, CHR_EVENT_OPENED);
    }
}

void chardev_set_handlers(Chardev *chr, const ChardevHandlers *h)
{
    if (chr->ops->set_handlers) {
        chr->ops->set_handlers(chr, h);
        return;
    }
    if (!h) {
        chr->fe_attached = false;
        memset(&chr->fe, 0, sizeof(chr->fe));
        bh_cancel(chr->open_bh);
        return;
    }
    chr->fe = *h;
    chr->fe_attached = true;
    if (chr->be_open) {
        if (!chr->open_bh) {
            chr->open_bh = bh_new(chr_open_bh, chr);
        }
        bh_schedule(chr->open_bh);
    }
}

void chardev_remove_handlers(Chardev *chr, void *opaque)
{
    if (chr->ops->remove_handlers) {
        chr->ops->remove_handlers(chr, opaque);
    } else if (chr->fe_attached && chr->fe.opaque == opaque) {
        chardev_set_handlers(chr, NULL);
    }
}

int chardev_write(Chardev *chr, const void *buf, size_t len)
{
    if (!len) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    if (chr->ops->write) {
        return chr->ops->write(chr, buf, len);
    }
    return chr_fd_write(chr, buf, len);
}

int chardev_printf(Chardev *chr, const char *fmt, ...)
{
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    int ret = chardev_write(chr, sb.str, sb.len);
    strbuf_free(&sb);
    return ret;
}

/* ---- fd engine ---- */

static bool fd_is_socket(int fd)
{
    int type;
    socklen_t len = sizeof(type);
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

void chr_fd_attach(Chardev *chr, int in_fd, int out_fd, bool owns)
{
    chr->in_fd = in_fd;
    chr->out_fd = out_fd;
    chr->in_sock = in_fd >= 0 && fd_is_socket(in_fd);
    chr->out_sock = out_fd >= 0 && fd_is_socket(out_fd);
    chr->in_eof = false;
    chr->out_broken = false;
    chr->owns_fds = owns;
    chr->ohead = chr->olen = 0;
}

void chr_fd_detach(Chardev *chr)
{
    if (chr->owns_fds) {
        if (chr->in_fd >= 0) {
            close(chr->in_fd);
        }
        if (chr->out_fd >= 0 && chr->out_fd != chr->in_fd) {
            close(chr->out_fd);
        }
    }
    chr->in_fd = chr->out_fd = -1;
    chr->ohead = chr->olen = 0;
    free(chr->obuf);
    chr->obuf = NULL;
    chr->ocap = 0;
}

static ssize_t fd_write_some(Chardev *chr, const uint8_t *buf, size_t len)
{
    ssize_t n;
    do {
        if (chr->out_sock) {
            n = send(chr->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            n = write(chr->out_fd, buf, len);
        }
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
    }
    return n < 0 ? -errno : n;
}

/* The peer went away while we were writing. */
static void chr_out_failed(Chardev *chr, int err)
{
    chr->ohead = chr->olen = 0;
    chr->out_broken = true;
    if (chr->ops->hangup && (err == -EPIPE || err == -ECONNRESET || err == -EIO)) {
        chr->ops->hangup(chr);
    }
}

static void obuf_append(Chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->ohead && chr->ohead + chr->olen + len > chr->ocap) {
        memmove(chr->obuf, chr->obuf + chr->ohead, chr->olen);
        chr->ohead = 0;
    }
    if (chr->olen + len > chr->ocap) {
        size_t cap = chr->ocap ? chr->ocap : 4096;
        while (cap < chr->olen + len) {
            cap *= 2;
        }
        chr->obuf = xrealloc(chr->obuf, cap);
        chr->ocap = cap;
    }
    memcpy(chr->obuf + chr->ohead + chr->olen, buf, len);
    chr->olen += len;
}

int chr_fd_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    if (chr->out_fd < 0 || !chr->be_open || chr->out_broken) {
        return (int)len;   /* nobody there: discard */
    }
    size_t done = 0;
    if (chr->olen == 0) {
        ssize_t n = fd_write_some(chr, buf, len);
        if (n < 0) {
            if (n == -EPIPE || n == -ECONNRESET || n == -EIO) {
                chr_out_failed(chr, (int)n);
                return (int)len;
            }
            return (int)n;
        }
        done = n;
    }
    if (done < len) {
        size_t room = CHR_OBUF_MAX > chr->olen ? CHR_OBUF_MAX - chr->olen : 0;
        size_t take = MIN(room, len - done);
        obuf_append(chr, buf + done, take);
        done += take;
    }
    return (int)done;
}

static void chr_fd_flush_some(Chardev *chr)
{
    while (chr->olen) {
        ssize_t n = fd_write_some(chr, chr->obuf + chr->ohead, chr->olen);
        if (n < 0) {
            chr_out_failed(chr, (int)n);
            return;
        }
        if (n == 0) {
            return;
        }
        chr->ohead += n;
        chr->olen -= n;
    }
    chr->ohead = 0;
}

void chr_fd_flush(Chardev *chr, int timeout_ms)
{
    int64_t end = get_clock_ns() + (int64_t)timeout_ms * 1000000;
    while (chr->olen && chr->out_fd >= 0 && !chr->out_broken) {
        int64_t left = (end - get_clock_ns()) / 1000000;
        if (left <= 0) {
            break;
        }
        struct pollfd p = { .fd = chr->out_fd, .events = POLLOUT };
        if (poll(&p, 1, (int)left) <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            break;
        }
        chr_fd_flush_some(chr);
    }
}

static void chr_poll_fill(void *opaque, int64_t *timeout_ns)
{
    Chardev *chr = opaque;
    chr->in_idx = chr->out_idx = -1;
    if (chr->ops->fill) {
        chr->ops->fill(chr, timeout_ns);
    }
    if (chr->in_fd >= 0 && chr->be_open && !chr->in_eof && chr_fe_can_read(chr) > 0) {
        chr->in_idx = main_loop_poll_add(chr->in_fd, POLLIN);
    }
    if (chr->out_fd >= 0 && chr->olen && !chr->out_broken) {
        chr->out_idx = main_loop_poll_add(chr->out_fd, POLLOUT);
    }
}

static void chr_read_input(Chardev *chr)
{
    int room = chr_fe_can_read(chr);
    if (room <= 0) {
        return;
    }
    uint8_t buf[CHR_READ_CHUNK];
    size_t want = MIN((size_t)room, sizeof(buf));
    ssize_t n;
    do {
        if (chr->in_sock) {
            n = recv(chr->in_fd, buf, want, MSG_DONTWAIT);
        } else {
            n = read(chr->in_fd, buf, want);
        }
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
    }
    if (n <= 0) {
        /* EOF, or an error such as EIO on a pty whose reader left. */
        chr->in_eof = true;
        if (chr->ops->hangup) {
            chr->ops->hangup(chr);
        }
        return;
    }
    if (chr->ops->input) {
        chr->ops->input(chr, buf, n);
    } else {
        chr_fe_read(chr, buf, n);
    }
}

static void chr_poll_dispatch(void *opaque, bool timed_out)
{
    Chardev *chr = opaque;
    int in_idx = chr->in_idx, out_idx = chr->out_idx;
    chr->in_idx = chr->out_idx = -1;
    if (chr->ops->dispatch) {
        chr->ops->dispatch(chr);
    }
    if (out_idx >= 0 && chr->out_fd >= 0) {
        int rev = main_loop_poll_revents(out_idx);
        if (rev & (POLLOUT | POLLERR | POLLHUP)) {
            chr_fd_flush_some(chr);
        }
    }
    if (in_idx >= 0 && chr->in_fd >= 0 && !chr->in_eof) {
        int rev = main_loop_poll_revents(in_idx);
        if (rev & (POLLIN | POLLERR | POLLHUP)) {
            chr_read_input(chr);
        }
    }
}

void chr_ignore_sigpipe(void)
{
    /* A peer closing a pipe or socket must not kill the emulator. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
}

/* ---- null ---- */

static int null_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    return (int)len;
}

static const ChardevOps null_ops = {
    .name = "null",
    .write = null_write,
};

Chardev *chr_null_new(const char *label)
{
    Chardev *chr = chr_alloc(&null_ops, label);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}

/* ---- parsing ---- */

static bool label_taken(const char *label, Error **errp)
{
    if (label && *label && chardev_find(label)) {
        error_setg(errp, "Duplicate chardev ID '%s'", label);
        return true;
    }
    return false;
}

/* "server", "nowait", "telnet"... for unix:/tcp: specs and -chardev. */
static int socket_opts_common(OptList *l, SocketOpts *o, Error **errp)
{
    bool nowait = false;
    if (optlist_get_bool(l, "server", false, &o->server, errp) < 0 ||
        optlist_get_bool(l, "nowait", false, &nowait, errp) < 0 ||
        optlist_get_bool(l, "wait", !nowait, &o->wait, errp) < 0 ||
        optlist_get_bool(l, "telnet", o->telnet, &o->telnet, errp) < 0 ||
        optlist_get_bool(l, "nodelay", false, &o->nodelay, errp) < 0) {
        return -EINVAL;
    }
    /* QEMU accepts and ignores these for compatibility. */
    optlist_get(l, "ipv4");
    optlist_get(l, "ipv6");
    optlist_get(l, "delay");
    return 0;
}

static int split_host_port(const char *addr, SocketOpts *o, Error **errp)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':') {
            error_setg(errp, "error parsing IPv6 address '%s'", addr);
            return -EINVAL;
        }
        o->host = xstrndup(addr + 1, end - addr - 1);
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon) {
            error_setg(errp, "error parsing address '%s'", addr);
            return -EINVAL;
        }
        o->host = xstrndup(addr, colon - addr);
    }
    o->port = xstrdup(colon + 1);
    if (!*o->port) {
        error_setg(errp, "error parsing address '%s': missing port", addr);
        return -EINVAL;
    }
    return 0;
}

static void socket_opts_free(SocketOpts *o)
{
    free(o->path);
    free(o->host);
    free(o->port);
}

/* unix:PATH,opts / tcp:HOST:PORT,opts / telnet:HOST:PORT,opts */
static Chardev *socket_from_spec(const char *label, const char *rest, bool is_unix,
                                 bool telnet, Error **errp)
{
    SocketOpts o = { .is_unix = is_unix, .telnet = telnet };
    Chardev *chr = NULL;
    OptList *l = optlist_parse(rest, "addr", errp);
    if (!l) {
        return NULL;
    }
    const char *addr = optlist_get(l, "addr");
    if (!addr || !*addr) {
        error_setg(errp, "%s: missing address", is_unix ? "unix" : "tcp");
        goto out;
    }
    if (is_unix) {
        o.path = xstrdup(addr);
    } else if (split_host_port(addr, &o, errp) < 0) {
        goto out;
    }
    if (socket_opts_common(l, &o, errp) < 0 ||
        optlist_check_all_used(l, "chardev", errp) < 0) {
        goto out;
    }
    chr = chr_socket_new(label, &o, errp);
out:
    socket_opts_free(&o);
    optlist_free(l);
    return chr;
}

static Chardev *chardev_new_backend(const char *label, const char *spec, Error **errp)
{
    const char *arg;
    if (!strcmp(spec, "stdio")) {
        return chr_stdio_new(label, true, errp);
    }
    if (!strcmp(spec, "null")) {
        return chr_null_new(label);
    }
    if (!strcmp(spec, "pty")) {
        return chr_pty_new(label, errp);
    }
    if (!strcmp(spec, "vc") || !strncmp(spec, "vc:", 3)) {
        return chr_ringbuf_new(label, "vc", 64 * KiB, errp);
    }
    if ((arg = strchr(spec, ':')) != NULL) {
        size_t n = arg - spec;
        arg++;
        if (n == 4 && !strncmp(spec, "file", 4)) {
            return chr_file_new(label, arg, false, errp);
        }
        if (n == 4 && !strncmp(spec, "pipe", 4)) {
            return chr_pipe_new(label, arg, errp);
        }
        if (n == 4 && !strncmp(spec, "unix", 4)) {
            return socket_from_spec(label, arg, true, false, errp);
        }
        if (n == 3 && !strncmp(spec, "tcp", 3)) {
            return socket_from_spec(label, arg, false, false, errp);
        }
        if (n == 6 && !strncmp(spec, "telnet", 6)) {
            return socket_from_spec(label, arg, false, true, errp);
        }
    }
    if (!strncmp(spec, "/dev/", 5)) {
        return chr_serial_new(label, spec, errp);
    }
    error_setg(errp, "'%s' is not a valid char driver", spec);
    return NULL;
}

Chardev *chardev_new_from_spec(const char *label, const char *spec, Error **errp)
{
    chr_ignore_sigpipe();
    if (!spec) {
        error_setg(errp, "missing char driver");
        return NULL;
    }
    if (!strncmp(spec, "chardev:", 8)) {
        Chardev *chr = chardev_find(spec + 8);
        if (!chr) {
            error_setg(errp, "chardev '%s' not found", spec + 8);
            return NULL;
        }
        chr->refcnt++;
        return chr;
    }
    if (label_taken(label, errp)) {
        return NULL;
    }
    if (!strncmp(spec, "mon:", 4)) {
        char *base_label = xasprintf("%s-base", label ? label : "");
        Chardev *be;
        if (!strcmp(spec + 4, "stdio")) {
            /* A terminal shared with the monitor: Ctrl-C goes to the
             * guest, Ctrl-A x quits. */
            be = chr_stdio_new(base_label, false, errp);
        } else {
            be = chardev_new_backend(base_label, spec + 4, errp);
        }
        free(base_label);
        if (!be) {
            return NULL;
        }
        Chardev *mux = chr_mux_new(label, be, errp);
        if (!mux) {
            chardev_free(be);
            return NULL;
        }
        mux->mux_monitor = true;
        chr_set_filename(mux, "mux");
        return mux;
    }
    return chardev_new_backend(label, spec, errp);
}

Chardev *chardev_new_from_opts(const char *opts, Error **errp)
{
    chr_ignore_sigpipe();
    Chardev *chr = NULL;
    SocketOpts so = { 0 };
    OptList *l = optlist_parse(opts, "backend", errp);
    if (!l) {
        return NULL;
    }
    const char *backend = optlist_get(l, "backend");
    const char *id = optlist_get(l, "id");
    bool mux = false;
    if (!backend || !*backend) {
        error_setg(errp, "chardev: no backend given");
        goto out;
    }
    if (!id || !*id) {
        error_setg(errp, "chardev: no id specified");
        goto out;
    }
    if (optlist_get_bool(l, "mux", false, &mux, errp) < 0) {
        goto out;
    }
    if (label_taken(id, errp)) {
        goto out;
    }
    char *label = mux ? xasprintf("%s-base", id) : xstrdup(id);
    /* Options common to all backends that we accept and ignore. */
    optlist_get(l, "logfile");
    optlist_get(l, "logappend");

    if (!strcmp(backend, "null")) {
        chr = chr_null_new(label);
    } else if (!strcmp(backend, "stdio")) {
        bool sig = true;
        if (optlist_get_bool(l, "signal", true, &sig, errp) == 0) {
            chr = chr_stdio_new(label, sig, errp);
        }
    } else if (!strcmp(backend, "pty")) {
        chr = chr_pty_new(label, errp);
    } else if (!strcmp(backend, "vc") || !strcmp(backend, "ringbuf")) {
        uint64_t size = 64 * KiB;
        optlist_get(l, "width");
        optlist_get(l, "height");
        optlist_get(l, "cols");
        optlist_get(l, "rows");
        if (optlist_get_size(l, "size", 64 * KiB, &size, errp) == 0) {
            if (!IS_POW2(size) || size > 64 * MiB) {
                error_setg(errp, "ringbuf size must be a power of two up to 64M");
            } else {
                chr = chr_ringbuf_new(label, backend, size, errp);
            }
        }
    } else if (!strcmp(backend, "file") || !strcmp(backend, "pipe") ||
               !strcmp(backend, "serial") || !strcmp(backend, "tty")) {
        const char *path = optlist_get(l, "path");
        bool append = false;
        if (!path || !*path) {
            error_setg(errp, "chardev: %s: no filename given", backend);
        } else if (optlist_get_bool(l, "append", false, &append, errp) == 0) {
            if (!strcmp(backend, "file")) {
                chr = chr_file_new(label, path, append, errp);
            } else if (!strcmp(backend, "pipe")) {
                chr = chr_pipe_new(label, path, errp);
            } else {
                chr = chr_serial_new(label, path, errp);
            }
        }
    } else if (!strcmp(backend, "socket")) {
        const char *path = optlist_get(l, "path");
        const char *host = optlist_get(l, "host");
        const char *port = optlist_get(l, "port");
        optlist_get(l, "to");
        if ((path != NULL) == (host != NULL || port != NULL)) {
            error_setg(errp, "chardev: socket: exactly one of 'path' or 'host'/'port' is "
                       "required");
        } else if (socket_opts_common(l, &so, errp) == 0) {
            if (path) {
                so.is_unix = true;
                so.path = xstrdup(path);
            } else if (!port || !*port) {
                error_setg(errp, "chardev: socket: 'port' is required with 'host'");
            } else {
                so.host = xstrdup(host ? host : "");
                so.port = xstrdup(port);
            }
            if (so.path || so.port) {
                if (optlist_check_all_used(l, "chardev", errp) == 0) {
                    chr = chr_socket_new(label, &so, errp);
                }
            }
        }
    } else {
        error_setg(errp, "'%s' is not a valid char driver name", backend);
    }

    if (chr && optlist_check_all_used(l, "chardev", errp) < 0) {
        chardev_free(chr);
        chr = NULL;
    }
    if (chr && mux) {
        Chardev *m = chr_mux_new(id, chr, errp);
        if (!m) {
            chardev_free(chr);
        }
        chr = m;
    }
    free(label);
out:
    socket_opts_free(&so);
    optlist_free(l);
    return chr;
}
