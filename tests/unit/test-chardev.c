/* Unit tests for util/chardev*.c over real files, FIFOs, sockets and
 * ptys, driven by the real main loop. */
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "util/chardev.h"
#include "util/main-loop.h"
#include "util/timer.h"
#include "util/strbuf.h"

/* Hang guard for "loop until X" waits; never a speed requirement. */
#define MAX_ITER 2000

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/minipc-chr-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

/* A test frontend. */
typedef struct Fe {
    StrBuf in;
    int events[32];
    int nevents;
    int can_read;        /* -1: unlimited */
} Fe;

static int fe_can_read(void *opaque)
{
    Fe *fe = opaque;
    return fe->can_read < 0 ? 4096 : fe->can_read;
}

static void fe_read(void *opaque, const uint8_t *buf, int len)
{
    Fe *fe = opaque;
    ck_assert_int_gt(len, 0);
    if (fe->can_read >= 0) {
        ck_assert_int_le(len, fe->can_read);
        fe->can_read -= len;
    }
    strbuf_append_len(&fe->in, buf, len);
}

static void fe_event(void *opaque, int event)
{
    Fe *fe = opaque;
    if (fe->nevents < 32) {
        fe->events[fe->nevents] = event;
    }
    fe->nevents++;
}

static void fe_init(Fe *fe)
{
    memset(fe, 0, sizeof(*fe));
    strbuf_init(&fe->in);
    fe->can_read = -1;
}

static void fe_attach(Chardev *chr, Fe *fe)
{
    ChardevHandlers h = { fe_can_read, fe_read, fe_event, fe };
    chardev_set_handlers(chr, &h);
}

static int fe_count(const Fe *fe, int event)
{
    int n = 0;
    for (int i = 0; i < fe->nevents && i < 32; i++) {
        n += fe->events[i] == event;
    }
    return n;
}

/* Runs the loop until fe->in holds at least len bytes. */
static void wait_input(Fe *fe, size_t len)
{
    for (int i = 0; i < MAX_ITER && fe->in.len < len; i++) {
        main_loop_wait(10 * 1000000LL);
    }
    ck_assert_uint_ge(fe->in.len, len);
}

static void wait_event(Fe *fe, int event, int count)
{
    for (int i = 0; i < MAX_ITER && fe_count(fe, event) < count; i++) {
        main_loop_wait(10 * 1000000LL);
    }
    ck_assert_int_eq(fe_count(fe, event), count);
}

/* Reads exactly len bytes from fd, running the main loop meanwhile so
 * buffered chardev output gets flushed. */
static void read_exact(int fd, void *buf, size_t len)
{
    size_t got = 0;
    for (int i = 0; i < MAX_ITER * 10 && got < len; i++) {
        main_loop_wait(0);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5) > 0) {
            ssize_t n = read(fd, (char *)buf + got, len - got);
            if (n > 0) {
                got += n;
            } else if (n == 0) {
                break;
            }
        }
    }
    ck_assert_uint_eq(got, len);
}

static void expect_read(int fd, const char *want)
{
    char buf[4096];
    size_t len = strlen(want);
    ck_assert_uint_lt(len, sizeof(buf));
    read_exact(fd, buf, len);
    buf[len] = 0;
    ck_assert_str_eq(buf, want);
}

static int unix_connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    strcpy(un.sun_path, path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
    return fd;
}

static int tcp_connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    return fd;
}

static int port_of(const Chardev *chr)
{
    const char *colon = strrchr(chardev_filename(chr), ':');
    ck_assert_ptr_nonnull(colon);
    return atoi(colon + 1);
}

static void expect_error(const char *spec, bool opts, const char *msg)
{
    Error *err = NULL;
    Chardev *chr = opts ? chardev_new_from_opts(spec, &err) : chardev_new_from_spec("t", spec, &err);
    ck_assert_msg(chr == NULL, "'%s' unexpectedly worked", spec);
    ck_assert_ptr_nonnull(err);
    if (!strstr(error_get_pretty(err), msg)) {
        ck_abort_msg("'%s': got '%s', want '%s'", spec, error_get_pretty(err), msg);
    }
    error_free(err);
}

/* ---- tests ---- */

START_TEST(test_null_and_errors)
{
    Chardev *chr = chardev_new_from_spec("n0", "null", &error_abort);
    ck_assert_int_eq(chardev_write(chr, "abc", 3), 3);
    ck_assert(chardev_is_connected(chr));
    ck_assert_str_eq(chardev_label(chr), "n0");
    ck_assert_ptr_eq(chardev_find("n0"), chr);
    Error *err = NULL;
    ck_assert_ptr_null(chardev_new_from_spec("n0", "null", &err));
    ck_assert_str_eq(error_get_pretty(err), "Duplicate chardev ID 'n0'");
    error_free(err);
    chardev_free(chr);
    ck_assert_ptr_null(chardev_find("n0"));

    expect_error("foo", false, "'foo' is not a valid char driver");
    expect_error("file:/nonexistent/dir/x", false,
                 "Could not open '/nonexistent/dir/x': No such file or directory");
    expect_error("unix:", false, "missing address");
    expect_error("tcp:nocolon", false, "error parsing address 'nocolon'");
    expect_error("tcp:localhost:99999,server,nowait", false,
                 "Port '99999' is not a number between 0 and 65535");
    expect_error("tcp::0,server,nowait,bogus=1", false, "Invalid parameter 'bogus'");
    expect_error("chardev:nothere", false, "chardev 'nothere' not found");
    expect_error("foo,id=x", true, "'foo' is not a valid char driver name");
    expect_error("socket,path=/tmp/x.sock", true, "chardev: no id specified");
    expect_error("file,id=f", true, "chardev: file: no filename given");
    expect_error("null,id=n,bogus=1", true, "Invalid parameter 'bogus'");
    expect_error("socket,id=s,path=/tmp/a,host=x", true, "exactly one of 'path'");
    char *longp = xasprintf("unix:/tmp/%0200d,server,nowait", 0);
    expect_error(longp, false, "is too long");
    free(longp);
}
END_TEST

START_TEST(test_file)
{
    char *path = tmp_path("out.txt");
    char *spec = xasprintf("file:%s", path);
    Chardev *chr = chardev_new_from_spec("f0", spec, &error_abort);
    ck_assert_str_eq(chardev_filename(chr), spec);
    ck_assert_int_eq(chardev_write(chr, "hello ", 6), 6);
    ck_assert_int_eq(chardev_printf(chr, "%d\n", 42), 3);
    chardev_free(chr);
    char *opts = xasprintf("file,id=f1,path=%s,append=on", path);
    chr = chardev_new_from_opts(opts, &error_abort);
    ck_assert_ptr_eq(chardev_find("f1"), chr);
    chardev_printf(chr, "more\n");
    chardev_free(chr);

    char buf[64] = { 0 };
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 14);
    ck_assert_str_eq(buf, "hello 42\nmore\n");
    close(fd);
    free(opts);
    free(spec);
    free(path);
}
END_TEST

START_TEST(test_pipe)
{
    char *base = tmp_path("p");
    char *in = xasprintf("%s.in", base), *out = xasprintf("%s.out", base);
    ck_assert_int_eq(mkfifo(in, 0600), 0);
    ck_assert_int_eq(mkfifo(out, 0600), 0);
    char *spec = xasprintf("pipe:%s", base);
    Chardev *chr = chardev_new_from_spec("p0", spec, &error_abort);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    wait_event(&fe, CHR_EVENT_OPENED, 1);

    int win = open(in, O_WRONLY | O_NONBLOCK);
    int rout = open(out, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(win, 0);
    ck_assert_int_ge(rout, 0);
    ck_assert_int_eq(write(win, "to guest", 8), 8);
    wait_input(&fe, 8);
    ck_assert_str_eq(fe.in.str, "to guest");
    ck_assert_int_eq(chardev_write(chr, "to host", 7), 7);
    expect_read(rout, "to host");
    chardev_free(chr);
    close(win);
    close(rout);

    /* Without .in/.out, PATH itself carries both directions. */
    char *single = tmp_path("single");
    ck_assert_int_eq(mkfifo(single, 0600), 0);
    char *spec2 = xasprintf("pipe:%s", single);
    chr = chardev_new_from_spec("p1", spec2, &error_abort);
    ck_assert_int_eq(chardev_write(chr, "x", 1), 1);
    chardev_free(chr);
    expect_error("pipe:/nonexistent/p", false, "Could not open '/nonexistent/p'");
    free(spec2);
    free(single);
    strbuf_free(&fe.in);
    free(spec);
    free(in);
    free(out);
    free(base);
}
END_TEST

START_TEST(test_unix_server)
{
    char *path = tmp_path("s.sock");
    char *spec = xasprintf("unix:%s,server,nowait", path);
    Chardev *chr = chardev_new_from_spec("u0", spec, &error_abort);
    char *disc = xasprintf("disconnected:unix:%s,server=on", path);
    ck_assert_str_eq(chardev_filename(chr), disc);
    ck_assert(!chardev_is_connected(chr));
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    /* Nobody there: discarded, but accepted, never blocking. */
    ck_assert_int_eq(chardev_write(chr, "lost", 4), 4);
    main_loop_wait(0);
    ck_assert_int_eq(fe.nevents, 0);

    int c1 = unix_connect_to(path);
    wait_event(&fe, CHR_EVENT_OPENED, 1);
    ck_assert(chardev_is_connected(chr));
    ck_assert_ptr_null(strstr(chardev_filename(chr), "disconnected"));
    ck_assert_int_eq(write(c1, "ping", 4), 4);
    wait_input(&fe, 4);
    ck_assert_str_eq(fe.in.str, "ping");
    ck_assert_int_eq(chardev_write(chr, "pong", 4), 4);
    expect_read(c1, "pong");   /* "lost" never arrives */

    /* A second client waits until the first leaves. */
    int c2 = unix_connect_to(path);
    ck_assert_int_eq(write(c2, "two", 3), 3);
    for (int i = 0; i < 5; i++) {
        main_loop_wait(1000000);
    }
    ck_assert_str_eq(fe.in.str, "ping");
    close(c1);
    wait_event(&fe, CHR_EVENT_CLOSED, 1);
    wait_event(&fe, CHR_EVENT_OPENED, 2);
    wait_input(&fe, 7);
    ck_assert_str_eq(fe.in.str, "pingtwo");
    chardev_printf(chr, "hi %s", "two");
    expect_read(c2, "hi two");
    close(c2);
    wait_event(&fe, CHR_EVENT_CLOSED, 2);
    ck_assert_str_eq(chardev_filename(chr), disc);

    chardev_free(chr);
    /* The socket file is removed with the chardev. */
    ck_assert_int_ne(access(path, F_OK), 0);
    strbuf_free(&fe.in);
    free(disc);
    free(spec);
    free(path);
}
END_TEST

static char captured[512];
static void capture_sink(void *opaque, const char *msg)
{
    snprintf(captured, sizeof(captured), "%s", msg);
}

START_TEST(test_unix_server_wait)
{
    char *path = tmp_path("w.sock");
    char *spec = xasprintf("unix:%s,server", path);
    pid_t pid = fork();
    if (pid == 0) {
        /* Connect once the server listens (the file appears at bind,
         * a moment before listen), then say hello. */
        int fd = -1;
        for (int i = 0; i < 20000 && fd < 0; i++) {
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct sockaddr_un un = { .sun_family = AF_UNIX };
            strcpy(un.sun_path, path);
            if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
                close(fd);
                fd = -1;
                usleep(1000);
            }
        }
        if (fd < 0) {
            _exit(2);
        }
        ck_assert_int_eq(write(fd, "early", 5), 5);
        char c;
        ck_assert_int_eq(read(fd, &c, 1), 1);   /* wait for the reply */
        _exit(c == '!' ? 0 : 1);
    }
    error_push_sink(capture_sink, NULL);
    Chardev *chr = chardev_new_from_spec("w0", spec, &error_abort);
    error_pop_sink();
    char *want = xasprintf("info: minipc waiting for connection on: disconnected:unix:%s,server=on",
                           path);
    ck_assert_str_eq(captured, want);
    ck_assert(chardev_is_connected(chr));
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    wait_event(&fe, CHR_EVENT_OPENED, 1);
    wait_input(&fe, 5);
    ck_assert_str_eq(fe.in.str, "early");
    chardev_write(chr, "!", 1);
    int status;
    for (int i = 0; i < MAX_ITER; i++) {
        main_loop_wait(1000000);
        if (waitpid(pid, &status, WNOHANG) == pid) {
            break;
        }
    }
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    chardev_free(chr);
    strbuf_free(&fe.in);
    free(want);
    free(spec);
    free(path);
}
END_TEST

START_TEST(test_tcp_server_telnet)
{
    Chardev *chr = chardev_new_from_spec("t0", "tcp:127.0.0.1:0,server,nowait,telnet",
                                         &error_abort);
    ck_assert_ptr_nonnull(strstr(chardev_filename(chr), "disconnected:telnet:127.0.0.1:"));
    int port = port_of(chr);
    ck_assert_int_gt(port, 0);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    int c = tcp_connect_to(port);
    wait_event(&fe, CHR_EVENT_OPENED, 1);
    ck_assert_ptr_nonnull(strstr(chardev_filename(chr), " <-> 127.0.0.1:"));

    /* Our negotiation: WILL ECHO, WILL SGA, DONT LINEMODE. */
    uint8_t greet[9];
    read_exact(c, greet, 9);
    static const uint8_t want_greet[9] = { 255, 251, 1, 255, 251, 3, 255, 254, 34 };
    ck_assert_mem_eq(greet, want_greet, 9);

    /* Escaped 255, option replies, subnegotiation and CR NUL are
     * filtered; BREAK becomes an event. */
    static const uint8_t in[] = { 'a', 255, 255, 'b', 255, 253, 1, 'c', '\r', 0, 'd',
                                  255, 250, 24, 0, 'x', 't', 255, 240, 'e', 255, 243, 'f' };
    ck_assert_int_eq(write(c, in, sizeof(in)), (int)sizeof(in));
    wait_input(&fe, 8);
    ck_assert_uint_eq(fe.in.len, 8);
    ck_assert_mem_eq(fe.in.str, "a\xff" "bc\rdef", 8);
    ck_assert_int_eq(fe_count(&fe, CHR_EVENT_BREAK), 1);

    /* 255 is doubled on output. */
    ck_assert_int_eq(chardev_write(chr, "x\xffy", 3), 3);
    uint8_t out[4];
    read_exact(c, out, 4);
    ck_assert_mem_eq(out, "x\xff\xffy", 4);
    close(c);
    wait_event(&fe, CHR_EVENT_CLOSED, 1);
    chardev_free(chr);
    strbuf_free(&fe.in);
}
END_TEST

START_TEST(test_tcp_client)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&in, sizeof(in)), 0);
    socklen_t len = sizeof(in);
    getsockname(ls, (struct sockaddr *)&in, &len);
    int port = ntohs(in.sin_port);

    /* Nobody listening yet: refused. */
    char *spec = xasprintf("tcp:127.0.0.1:%d", port);
    char *msg = xasprintf("Failed to connect to '127.0.0.1:%d': Connection refused", port);
    expect_error(spec, false, msg);

    ck_assert_int_eq(listen(ls, 1), 0);
    Chardev *chr = chardev_new_from_spec("c0", spec, &error_abort);
    ck_assert(chardev_is_connected(chr));
    int peer = accept(ls, NULL, NULL);
    ck_assert_int_ge(peer, 0);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    wait_event(&fe, CHR_EVENT_OPENED, 1);   /* attached to an open backend */
    ck_assert_int_eq(write(peer, "srv", 3), 3);
    wait_input(&fe, 3);
    chardev_write(chr, "cli", 3);
    expect_read(peer, "cli");
    close(peer);
    wait_event(&fe, CHR_EVENT_CLOSED, 1);
    ck_assert(!chardev_is_connected(chr));
    ck_assert_int_eq(chardev_write(chr, "gone", 4), 4);
    chardev_free(chr);

    /* -chardev form of a tcp server. */
    chr = chardev_new_from_opts("socket,id=ts,host=127.0.0.1,port=0,server=on,wait=off",
                                &error_abort);
    ck_assert_ptr_eq(chardev_find("ts"), chr);
    int c = tcp_connect_to(port_of(chr));
    Fe fe2;
    fe_init(&fe2);
    fe_attach(chr, &fe2);
    wait_event(&fe2, CHR_EVENT_OPENED, 1);
    close(c);
    chardev_free(chr);

    char *upath = tmp_path("none.sock");
    char *uspec = xasprintf("unix:%s", upath);
    char *umsg = xasprintf("Failed to connect to '%s': No such file or directory", upath);
    expect_error(uspec, false, umsg);
    free(upath);
    free(uspec);
    free(umsg);
    close(ls);
    strbuf_free(&fe.in);
    strbuf_free(&fe2.in);
    free(spec);
    free(msg);
}
END_TEST

START_TEST(test_flow_control)
{
    char *path = tmp_path("fc.sock");
    char *opts = xasprintf("socket,id=fc,path=%s,server=on,wait=off", path);
    Chardev *chr = chardev_new_from_opts(opts, &error_abort);
    Fe fe;
    fe_init(&fe);
    fe.can_read = 0;
    fe_attach(chr, &fe);
    int c = unix_connect_to(path);
    wait_event(&fe, CHR_EVENT_OPENED, 1);
    ck_assert_int_eq(write(c, "abcdefgh", 8), 8);
    /* A full frontend gets nothing, and the loop does not spin on the
     * readable socket: a bounded wait really waits. */
    int64_t start = clock_get_ns(CLOCK_REALTIME);
    main_loop_wait(20 * 1000000LL);
    ck_assert_int_ge(clock_get_ns(CLOCK_REALTIME) - start, 20 * 1000000LL);
    ck_assert_uint_eq(fe.in.len, 0);
    /* Room for 3: exactly 3 arrive, without any resume call. */
    fe.can_read = 3;
    wait_input(&fe, 3);
    ck_assert_str_eq(fe.in.str, "abc");
    main_loop_wait(0);
    ck_assert_uint_eq(fe.in.len, 3);
    fe.can_read = -1;
    wait_input(&fe, 8);
    ck_assert_str_eq(fe.in.str, "abcdefgh");
    close(c);
    chardev_free(chr);
    strbuf_free(&fe.in);
    free(opts);
    free(path);
}
END_TEST

START_TEST(test_writes_never_block)
{
    char *path = tmp_path("nb.sock");
    char *spec = xasprintf("unix:%s,server,nowait", path);
    Chardev *chr = chardev_new_from_spec("nb", spec, &error_abort);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    int c = unix_connect_to(path);
    wait_event(&fe, CHR_EVENT_OPENED, 1);

    /* The client does not read: 8 MiB are offered, everything returns at
     * once, and what is accepted is bounded. */
    enum { CHUNK = 64 * 1024, TOTAL = 8 * 1024 * 1024 };
    uint8_t *chunk = xmalloc(CHUNK);
    size_t accepted = 0;
    for (size_t off = 0; off < TOTAL; off += CHUNK) {
        for (int i = 0; i < CHUNK; i++) {
            chunk[i] = (uint8_t)((off + i) * 7 / 3);
        }
        int n = chardev_write(chr, chunk, CHUNK);
        ck_assert_int_ge(n, 0);
        if (accepted == off) {
            accepted += n;   /* the stream is a prefix of what was offered */
        } else {
            ck_assert_int_eq(n, 0);
        }
    }
    ck_assert_uint_lt(accepted, TOTAL);
    ck_assert_uint_ge(accepted, 1024 * 1024);

    /* Now the client reads: exactly the accepted prefix arrives, in order,
     * flushed by the main loop. */
    uint8_t *got = xmalloc(accepted);
    read_exact(c, got, accepted);
    for (size_t i = 0; i < accepted; i++) {
        if (got[i] != (uint8_t)(i * 7 / 3)) {
            ck_abort_msg("byte %zu differs", i);
        }
    }
    /* Nothing more. */
    main_loop_wait(0);
    struct pollfd p = { .fd = c, .events = POLLIN };
    ck_assert_int_eq(poll(&p, 1, 20), 0);
    close(c);
    chardev_free(chr);
    free(got);
    free(chunk);
    strbuf_free(&fe.in);
    free(spec);
    free(path);
}
END_TEST

static void read_line_fd(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < MAX_ITER && n + 1 < cap; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) > 0) {
            if (read(fd, buf + n, 1) != 1) {
                break;
            }
            if (buf[n++] == '\n') {
                break;
            }
        }
    }
    buf[n] = 0;
}

START_TEST(test_pty)
{
    /* Capture the message QEMU users expect on stderr. */
    int errp[2];
    ck_assert_int_eq(pipe(errp), 0);
    int saved = dup(2);
    dup2(errp[1], 2);
    Chardev *chr = chardev_new_from_spec("serial0", "pty", &error_abort);
    dup2(saved, 2);
    close(saved);
    close(errp[1]);
    char line[256];
    read_line_fd(errp[0], line, sizeof(line));
    close(errp[0]);
    const char *fn = chardev_filename(chr);
    ck_assert(!strncmp(fn, "pty:/dev/pts/", 13));
    char *want = xasprintf("char device redirected to %s (label serial0)\n", fn + 4);
    ck_assert_str_eq(line, want);

    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    ck_assert(!chardev_is_connected(chr));
    ck_assert_int_eq(chardev_write(chr, "dropped", 7), 7);

    int slave = open(fn + 4, O_RDWR | O_NOCTTY | O_NONBLOCK);
    ck_assert_int_ge(slave, 0);
    struct termios tio;
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    wait_event(&fe, CHR_EVENT_OPENED, 1);   /* noticed by the recheck timer */
    ck_assert(chardev_is_connected(chr));
    ck_assert_int_eq(write(slave, "key", 3), 3);
    wait_input(&fe, 3);
    ck_assert_str_eq(fe.in.str, "key");
    chardev_write(chr, "screen", 6);
    expect_read(slave, "screen");
    close(slave);
    /* The reader left: noticed on the next read or write. */
    for (int i = 0; i < MAX_ITER && chardev_is_connected(chr); i++) {
        chardev_write(chr, ".", 1);
        main_loop_wait(1000000);
    }
    ck_assert(!chardev_is_connected(chr));
    ck_assert_int_eq(fe_count(&fe, CHR_EVENT_CLOSED), 1);
    chardev_free(chr);
    strbuf_free(&fe.in);
    free(want);
}
END_TEST

START_TEST(test_ringbuf_and_shared)
{
    Chardev *chr = chardev_new_from_spec("vc0", "vc:80Cx24C", &error_abort);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    chardev_write(chr, "console text", 12);
    char buf[32] = { 0 };
    ck_assert_uint_eq(chardev_ringbuf_read(chr, buf, 7), 7);
    ck_assert_str_eq(buf, "console");
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(chardev_ringbuf_read(chr, buf, sizeof(buf)), 5);
    ck_assert_str_eq(buf, " text");
    fe.can_read = 2;
    ck_assert_int_eq(chardev_ringbuf_input(chr, "keys", 4), 4);
    ck_assert_str_eq(fe.in.str, "ke");
    fe.can_read = -1;
    main_loop_wait(0);
    ck_assert_str_eq(fe.in.str, "keys");

    /* A small ring keeps the newest bytes. */
    Chardev *rb = chardev_new_from_opts("ringbuf,id=rb,size=4", &error_abort);
    chardev_write(rb, "abcdef", 6);
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(chardev_ringbuf_read(rb, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "cdef");
    expect_error("ringbuf,id=rb2,size=3", true, "power of two");

    /* chardev:ID shares the object; it lives until the last free. */
    Chardev *same = chardev_new_from_spec("x", "chardev:rb", &error_abort);
    ck_assert_ptr_eq(same, rb);
    chardev_free(same);
    ck_assert_ptr_eq(chardev_find("rb"), rb);
    chardev_free(rb);
    ck_assert_ptr_null(chardev_find("rb"));
    ck_assert_int_eq(chardev_ringbuf_input(chardev_find("vc0"), "z", 1), 1);
    chardev_free(chr);
    strbuf_free(&fe.in);
}
END_TEST

static int saves;
static void save_hook(void *opaque)
{
    saves++;
}

START_TEST(test_mux)
{
    char *path = tmp_path("mux.sock");
    char *spec = xasprintf("mon:unix:%s,server,nowait", path);
    Chardev *mux = chardev_new_from_spec("serial0", spec, &error_abort);
    ck_assert(chardev_is_mux(mux));
    ck_assert(chardev_mux_wants_monitor(mux));
    ck_assert_ptr_nonnull(chardev_find("serial0-base"));
    chardev_mux_set_save_hook(save_hook, NULL);

    Fe serial, mon;
    fe_init(&serial);
    fe_init(&mon);
    fe_attach(mux, &serial);
    fe_attach(mux, &mon);
    main_loop_wait(0);
    /* The first frontend has the focus. */
    ck_assert_int_eq(fe_count(&serial, CHR_EVENT_MUX_IN), 1);
    ck_assert_int_eq(fe_count(&mon, CHR_EVENT_MUX_IN), 0);
    ck_assert_int_eq(fe_count(&serial, CHR_EVENT_OPENED), 0);

    int c = unix_connect_to(path);
    wait_event(&serial, CHR_EVENT_OPENED, 1);
    wait_event(&mon, CHR_EVENT_OPENED, 1);

    ck_assert_int_eq(write(c, "abc", 3), 3);
    wait_input(&serial, 3);
    ck_assert_str_eq(serial.in.str, "abc");

    /* C-a c: focus to the monitor. */
    ck_assert_int_eq(write(c, "\x01" "cxyz\x01\x01", 7), 7);
    wait_input(&mon, 4);
    ck_assert_str_eq(mon.in.str, "xyz\x01");
    ck_assert_int_eq(fe_count(&serial, CHR_EVENT_MUX_OUT), 1);
    ck_assert_int_eq(fe_count(&mon, CHR_EVENT_MUX_IN), 1);
    ck_assert_str_eq(serial.in.str, "abc");

    /* Both write to the one backend. */
    chardev_write(mux, "S", 1);
    chardev_write(mux, "M", 1);
    expect_read(c, "SM");

    /* C-a h prints QEMU's help; C-a b breaks; C-a s saves; unknown
     * escapes are swallowed. */
    ck_assert_int_eq(write(c, "\x01h", 2), 2);
    const char *help =
        "\n\rC-a h    print this help\n\rC-a x    exit emulator\n\r"
        "C-a s    save disk data back to file (if -snapshot)\n\r"
        "C-a t    toggle console timestamps\n\rC-a b    send break (magic sysrq)\n\r"
        "C-a c    switch between console and monitor\n\rC-a C-a  sends C-a\n\r";
    expect_read(c, help);
    ck_assert_int_eq(write(c, "\x01" "b\x01" "s\x01" "q!", 7), 7);
    wait_input(&mon, 5);
    ck_assert_str_eq(mon.in.str, "xyz\x01!");
    ck_assert_int_eq(fe_count(&mon, CHR_EVENT_BREAK), 1);
    ck_assert_int_eq(saves, 1);

    /* Back to the serial port; its input waits while it is full. */
    serial.can_read = 0;
    ck_assert_int_eq(write(c, "\x01" "c12345", 7), 7);
    for (int i = 0; i < 5; i++) {
        main_loop_wait(1000000);
    }
    ck_assert_str_eq(serial.in.str, "abc");
    serial.can_read = 2;
    wait_input(&serial, 5);
    ck_assert_str_eq(serial.in.str, "abc12");
    serial.can_read = -1;
    wait_input(&serial, 8);
    ck_assert_str_eq(serial.in.str, "abc12345");

    /* C-a t: timestamps at line starts. */
    ck_assert_int_eq(write(c, "\x01t", 2), 2);
    for (int i = 0; i < 5; i++) {
        main_loop_wait(1000000);
    }
    chardev_write(mux, "one\ntwo", 7);
    char ts[64] = { 0 };
    read_exact(c, ts, 4 + 15 + 3);
    ck_assert_msg(!strncmp(ts, "one\n[00:00:0", 12) && !strcmp(ts + 17, "] two"),
                  "got '%s'", ts);

    /* C-a x quits (timestamps off first). */
    ck_assert_int_eq(write(c, "\x01t", 2), 2);
    int status = -1;
    ck_assert(!main_loop_exit_requested(&status));
    ck_assert_int_eq(write(c, "\x01x", 2), 2);
    for (int i = 0; i < MAX_ITER && !main_loop_exit_requested(&status); i++) {
        main_loop_wait(1000000);
    }
    ck_assert(main_loop_exit_requested(&status));
    ck_assert_int_eq(status, 0);
    expect_read(c, "minipc: Terminated\n\r");

    /* Client gone: both frontends hear it. */
    close(c);
    wait_event(&serial, CHR_EVENT_CLOSED, 1);
    ck_assert_int_eq(fe_count(&mon, CHR_EVENT_CLOSED), 1);
    chardev_remove_handlers(mux, &mon);
    chardev_free(mux);
    ck_assert_ptr_null(chardev_find("serial0-base"));
    strbuf_free(&serial.in);
    strbuf_free(&mon.in);
    free(spec);
    free(path);

    /* -chardev ...,mux=on: a mux without the monitor request. */
    Chardev *m2 = chardev_new_from_opts("null,id=n,mux=on", &error_abort);
    ck_assert(chardev_is_mux(m2));
    ck_assert(!chardev_mux_wants_monitor(m2));
    ck_assert(chardev_is_connected(m2));
    chardev_free(m2);
}
END_TEST

/* stdio in a child whose terminal is a pty we control. */
static void stdio_child(void)
{
    int fl1 = fcntl(1, F_GETFL);
    struct termios before;
    tcgetattr(0, &before);
    Chardev *chr = chardev_new_from_spec("serial0", "stdio", &error_abort);
    Error *err = NULL;
    if (chardev_new_from_spec("monitor0", "stdio", &err) || !err ||
        strcmp(error_get_pretty(err), "cannot use stdio by multiple character devices")) {
        _exit(10);
    }
    error_free(err);
    Fe fe;
    fe_init(&fe);
    fe_attach(chr, &fe);
    struct termios raw;
    tcgetattr(0, &raw);
    if (raw.c_lflag & (ICANON | ECHO)) {
        _exit(11);
    }
    /* The shared description stays blocking. */
    if ((fcntl(1, F_GETFL) & O_NONBLOCK) || fcntl(1, F_GETFL) != fl1) {
        _exit(12);
    }
    chardev_printf(chr, "READY\n");
    for (int i = 0; i < MAX_ITER * 10; i++) {
        main_loop_wait(10 * 1000000LL);
        if (memchr(fe.in.str, 'q', fe.in.len)) {
            break;
        }
        if (fe.in.len >= 2 && !strchr(fe.in.str, 'q')) {
            for (size_t j = 0; j < fe.in.len; j++) {
                fe.in.str[j] = (char)(fe.in.str[j] - 'a' + 'A');
            }
            chardev_write(chr, fe.in.str, fe.in.len);
            strbuf_reset(&fe.in);
        }
    }
    chardev_free(chr);
    struct termios after;
    tcgetattr(0, &after);
    if (after.c_lflag != before.c_lflag || after.c_iflag != before.c_iflag) {
        _exit(13);
    }
    if (strcmp(fe.in.str, "q")) {
        _exit(14);
    }
    _exit(0);
}

static void read_until(int fd, const char *want)
{
    char buf[256];
    size_t n = 0;
    for (int i = 0; i < MAX_ITER && n + 1 < sizeof(buf); i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) > 0) {
            ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
            if (r <= 0) {
                break;
            }
            n += r;
            buf[n] = 0;
            if (strstr(buf, want)) {
                return;
            }
        }
    }
    buf[n] = 0;
    ck_abort_msg("wanted '%s', got '%s'", want, buf);
}

START_TEST(test_stdio_raw_terminal)
{
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        stdio_child();
    }
    read_until(master, "READY");
    /* No newline: in raw mode the child gets it at once; no local echo,
     * so what comes back is the child's answer only. */
    ck_assert_int_eq(write(master, "ab", 2), 2);
    read_until(master, "AB");
    ck_assert_int_eq(write(master, "q", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d",
                  WEXITSTATUS(status));
    close(master);
}
END_TEST

static void stdio_signal_child(void)
{
    /* Check's test process has its own SIGTERM handler; a real minipc
     * starts with the default one. */
    signal(SIGTERM, SIG_DFL);
    Chardev *chr = chardev_new_from_spec("serial0", "stdio", &error_abort);
    chardev_printf(chr, "RAW\n");
    for (;;) {
        main_loop_wait(-1);
    }
}

START_TEST(test_stdio_restored_on_signal)
{
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        stdio_signal_child();
    }
    char *slave_name = xstrdup(ptsname(master));
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    read_until(master, "RAW");
    struct termios t;
    tcgetattr(slave, &t);
    ck_assert(!(t.c_lflag & ICANON));
    kill(pid, SIGTERM);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    tcgetattr(slave, &t);
    ck_assert(t.c_lflag & ICANON);
    ck_assert(t.c_lflag & ECHO);
    close(slave);
    close(master);
    free(slave_name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chardev");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);   /* hang guard only */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_null_and_errors);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_pipe);
    tcase_add_test(tc, test_unix_server);
    tcase_add_test(tc, test_unix_server_wait);
    tcase_add_test(tc, test_tcp_server_telnet);
    tcase_add_test(tc, test_tcp_client);
    tcase_add_test(tc, test_flow_control);
    tcase_add_test(tc, test_writes_never_block);
    tcase_add_test(tc, test_pty);
    tcase_add_test(tc, test_ringbuf_and_shared);
    tcase_add_test(tc, test_mux);
    tcase_add_test(tc, test_stdio_raw_terminal);
    tcase_add_test(tc, test_stdio_restored_on_signal);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
