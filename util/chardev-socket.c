/*
 * Socket chardevs: unix and tcp, server or client, optional telnet.
 *
 * A server takes one client at a time: while one is connected the
 * listening socket is not polled, so a second client waits in the
 * backlog until the first leaves (as QEMU). Without a client, output is
 * discarded. "wait" (the default for servers) blocks at creation until
 * the first client connects, after saying so.
 */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev-internal.h"
#include "util/strbuf.h"

/* Telnet protocol bytes (RFC 854/857/858). */
enum {
    TN_SE = 240, TN_BRK = 243, TN_SB = 250, TN_WILL = 251, TN_WONT = 252,
    TN_DO = 253, TN_DONT = 254, TN_IAC = 255,
    TN_OPT_ECHO = 1, TN_OPT_SGA = 3, TN_OPT_LINEMODE = 34,
};

enum { TS_DATA, TS_IAC, TS_OPT, TS_SB, TS_SB_IAC };

typedef struct SocketState {
    bool is_unix, server, telnet, nodelay;
    char *path;           /* unix */
    char *addr_desc;      /* "PATH" or "HOST:PORT" as bound/connected */
    int listen_fd;
    int listen_idx;
    bool unlink_on_close;
    int tn_state;
    bool tn_after_cr;
} SocketState;

static const char *sock_kind(const SocketState *s)
{
    return s->is_unix ? "unix" : s->telnet ? "telnet" : "tcp";
}

static void sock_update_filename(Chardev *chr, const char *peer)
{
    SocketState *s = chr->priv;
    if (chr->be_open) {
        chr_set_filename(chr, "%s:%s%s%s%s", sock_kind(s), s->addr_desc,
                         s->server ? ",server=on" : "", peer ? " <-> " : "", peer ? peer : "");
    } else {
        chr_set_filename(chr, "disconnected:%s:%s%s", sock_kind(s), s->addr_desc,
                         s->server ? ",server=on" : "");
    }
}

static char *sockaddr_desc(const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (sa->sa_family == AF_UNIX) {
        return NULL;
    }
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return xstrdup("?");
    }
    if (sa->sa_family == AF_INET6) {
        return xasprintf("[%s]:%s", host, serv);
    }
    return xasprintf("%s:%s", host, serv);
}

static void telnet_greet(Chardev *chr)
{
    /* Character-at-a-time mode: we echo, no go-ahead, no line mode. */
    static const uint8_t greet[] = {
        TN_IAC, TN_WILL, TN_OPT_ECHO,
        TN_IAC, TN_WILL, TN_OPT_SGA,
        TN_IAC, TN_DONT, TN_OPT_LINEMODE,
    };
    chr_fd_write(chr, greet, sizeof(greet));
}

static void sock_connected(Chardev *chr, int fd, const char *peer)
{
    SocketState *s = chr->priv;
    if (s->nodelay && !s->is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    chr_fd_attach(chr, fd, fd, true);
    s->tn_state = TS_DATA;
    s->tn_after_cr = false;
    chr->be_open = true;   /* so the greeting is not discarded */
    if (s->telnet) {
        telnet_greet(chr);
    }
    chr->be_open = false;
    chr_set_open(chr, true);
    sock_update_filename(chr, peer);
}

static bool sock_accept(Chardev *chr)
{
    SocketState *s = chr->priv;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;
    do {
        fd = accept4(s->listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return false;
    }
    char *peer = sockaddr_desc((struct sockaddr *)&ss, len);
    sock_connected(chr, fd, peer);
    free(peer);
    return true;
}

static void sock_fill(Chardev *chr, int64_t *timeout_ns)
{
    SocketState *s = chr->priv;
    s->listen_idx = -1;
    if (s->server && s->listen_fd >= 0 && !chr->be_open) {
        s->listen_idx = main_loop_poll_add(s->listen_fd, POLLIN);
    }
}

static void sock_dispatch(Chardev *chr)
{
    SocketState *s = chr->priv;
    if (s->listen_idx >= 0 && (main_loop_poll_revents(s->listen_idx) & POLLIN) &&
        !chr->be_open) {
        sock_accept(chr);
    }
    s->listen_idx = -1;
}

static void sock_hangup(Chardev *chr)
{
    chr_fd_detach(chr);
    chr_set_open(chr, false);
    sock_update_filename(chr, NULL);
}

static void telnet_input(Chardev *chr, const uint8_t *buf, size_t len)
{
    SocketState *s = chr->priv;
    if (!s->telnet) {
        chr_fe_read(chr, buf, len);
        return;
    }
    uint8_t out[CHR_READ_CHUNK];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        switch (s->tn_state) {
        case TS_DATA:
            if (c == TN_IAC) {
                s->tn_state = TS_IAC;
            } else if (c == 0 && s->tn_after_cr) {
                s->tn_after_cr = false;   /* CR NUL means a bare CR */
            } else {
                s->tn_after_cr = c == '\r';
                if (n < sizeof(out)) {
                    out[n++] = c;
                }
            }
            break;
        case TS_IAC:
            s->tn_state = TS_DATA;
            if (c == TN_IAC) {
                if (n < sizeof(out)) {
                    out[n++] = c;
                }
            } else if (c >= TN_WILL && c <= TN_DONT) {
                s->tn_state = TS_OPT;
            } else if (c == TN_SB) {
                s->tn_state = TS_SB;
            } else if (c == TN_BRK) {
                chr_fe_read(chr, out, n);
                n = 0;
                chr_fe_event(chr, CHR_EVENT_BREAK);
            }
            break;
        case TS_OPT:
            s->tn_state = TS_DATA;   /* we insist on our greeting */
            break;
        case TS_SB:
            if (c == TN_IAC) {
                s->tn_state = TS_SB_IAC;
            }
            break;
        case TS_SB_IAC:
            s->tn_state = c == TN_SE ? TS_DATA : TS_SB;
            break;
        }
    }
    chr_fe_read(chr, out, n);
}

static int telnet_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    SocketState *s = chr->priv;
    if (!s->telnet || !memchr(buf, TN_IAC, len)) {
        return chr_fd_write(chr, buf, len);
    }
    StrBuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < len; i++) {
        strbuf_append_c(&sb, (char)buf[i]);
        if (buf[i] == TN_IAC) {
            strbuf_append_c(&sb, (char)TN_IAC);
        }
    }
    int ret = chr_fd_write(chr, (const uint8_t *)sb.str, sb.len);
    strbuf_free(&sb);
    if (ret < 0) {
        return ret;
    }
    return (size_t)ret >= sb.len ? (int)len : ret;
}

static void sock_close(Chardev *chr)
{
    SocketState *s = chr->priv;
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
    }
    if (s->unlink_on_close) {
        unlink(s->path);
    }
    free(s->path);
    free(s->addr_desc);
    free(s);
}

static const ChardevOps socket_ops = {
    .name = "socket",
    .fill = sock_fill,
    .dispatch = sock_dispatch,
    .write = telnet_write,
    .input = telnet_input,
    .hangup = sock_hangup,
    .close = sock_close,
};

static int unix_addr(const char *path, struct sockaddr_un *un, Error **errp)
{
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    if (!*path || strlen(path) >= sizeof(un->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is %s", path, *path ? "too long" : "empty");
        return -EINVAL;
    }
    strcpy(un->sun_path, path);
    return 0;
}

static int unix_listen(SocketState *s, Error **errp)
{
    struct sockaddr_un un;
    if (unix_addr(s->path, &un, errp) < 0) {
        return -EINVAL;
    }
    /* A stale socket from an earlier run would make bind fail; anything
     * that is not a socket is left alone. */
    struct stat st;
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(s->path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 1) < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Failed to bind socket to %s", s->path);
        close(fd);
        return -err;
    }
    s->listen_fd = fd;
    s->unlink_on_close = true;
    s->addr_desc = xstrdup(s->path);
    return 0;
}

static int unix_connect(Chardev *chr, Error **errp)
{
    SocketState *s = chr->priv;
    struct sockaddr_un un;
    if (unix_addr(s->path, &un, errp) < 0) {
        return -EINVAL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return -errno;
    }
    int r;
    do {
        r = connect(fd, (struct sockaddr *)&un, sizeof(un));
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Failed to connect to '%s'", s->path);
        close(fd);
        return -err;
    }
    s->addr_desc = xstrdup(s->path);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    sock_connected(chr, fd, NULL);
    return 0;
}

/* getaddrinfo results, IPv4 first: "localhost" then means 127.0.0.1,
 * which is what people connect to. */
static struct addrinfo *tcp_resolve(const char *host, const char *port, bool passive,
                                    Error **errp)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo *res = NULL;
    if (passive) {
        hints.ai_flags = AI_PASSIVE;
    }
    const char *h = host && *host ? host : NULL;
    if (!h && passive) {
        hints.ai_family = AF_INET;   /* all interfaces, as 0.0.0.0 */
    } else if (!h) {
        h = "localhost";
    }
    int r = getaddrinfo(h, port, &hints, &res);
    if (r != 0) {
        error_setg(errp, "address resolution failed for %s:%s: %s", h ? h : "", port,
                   gai_strerror(r));
        return NULL;
    }
    struct addrinfo *v4 = NULL, **v4t = &v4, *other = NULL, **ot = &other;
    for (struct addrinfo *a = res; a;) {
        struct addrinfo *next = a->ai_next;
        a->ai_next = NULL;
        if (a->ai_family == AF_INET) {
            *v4t = a;
            v4t = &a->ai_next;
        } else {
            *ot = a;
            ot = &a->ai_next;
        }
        a = next;
    }
    *v4t = other;
    return v4;
}

static int tcp_port_ok(const char *port, Error **errp)
{
    char *end;
    long v = strtol(port, &end, 10);
    if (*end || v < 0 || v > 65535) {
        error_setg(errp, "Port '%s' is not a number between 0 and 65535", port);
        return -EINVAL;
    }
    return 0;
}

static int tcp_listen(SocketState *s, const char *host, const char *port, Error **errp)
{
    if (tcp_port_ok(port, errp) < 0) {
        return -EINVAL;
    }
    struct addrinfo *res = tcp_resolve(host, port, true, errp);
    if (!res) {
        return -EINVAL;
    }
    int err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 1) < 0) {
            err = errno;
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &len);
        s->addr_desc = sockaddr_desc((struct sockaddr *)&ss, len);
        s->listen_fd = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    error_setg_errno(errp, err, "Failed to bind socket to %s:%s", host ? host : "", port);
    return -err;
}

static int tcp_connect(Chardev *chr, const char *host, const char *port, Error **errp)
{
    SocketState *s = chr->priv;
    if (tcp_port_ok(port, errp) < 0) {
        return -EINVAL;
    }
    struct addrinfo *res = tcp_resolve(host, port, false, errp);
    if (!res) {
        return -EINVAL;
    }
    int err = ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int r;
        do {
            r = connect(fd, a->ai_addr, a->ai_addrlen);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            err = errno;
            close(fd);
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        getsockname(fd, (struct sockaddr *)&ss, &len);
        char *local = sockaddr_desc((struct sockaddr *)&ss, len);
        s->addr_desc = local;
        char *peer = sockaddr_desc(a->ai_addr, a->ai_addrlen);
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        freeaddrinfo(res);
        sock_connected(chr, fd, peer);
        free(peer);
        return 0;
    }
    freeaddrinfo(res);
    error_setg_errno(errp, err, "Failed to connect to '%s:%s'", host && *host ? host : "localhost",
                     port);
    return -err;
}

Chardev *chr_socket_new(const char *label, const SocketOpts *o, Error **errp)
{
    SocketState *s = XNEW(SocketState);
    s->is_unix = o->is_unix;
    s->server = o->server;
    s->telnet = o->telnet;
    s->nodelay = o->nodelay;
    s->path = o->path ? xstrdup(o->path) : NULL;
    s->listen_fd = -1;
    s->listen_idx = -1;
    Chardev *chr = chr_alloc(&socket_ops, label);
    chr->priv = s;

    int r;
    if (s->server) {
        r = s->is_unix ? unix_listen(s, errp) : tcp_listen(s, o->host, o->port, errp);
    } else {
        r = s->is_unix ? unix_connect(chr, errp) : tcp_connect(chr, o->host, o->port, errp);
    }
    if (r < 0) {
        chardev_free(chr);
        return NULL;
    }
    if (s->server) {
        sock_update_filename(chr, NULL);
        if (o->wait) {
            error_report("info: minipc waiting for connection on: %s", chr->filename);
            for (;;) {
                struct pollfd p = { .fd = s->listen_fd, .events = POLLIN };
                if (poll(&p, 1, -1) > 0 && sock_accept(chr)) {
                    break;
                }
            }
        }
    }
    chr_register(chr);
    return chr;
}
