/*
 * The stdio chardev: input from fd 0, output to fd 1, the terminal in raw
 * mode while it exists.
 *
 * Non-blocking I/O without disturbing anyone else: fds 0 and 1 share
 * their open file description with the parent shell (and with stderr),
 * so setting O_NONBLOCK on them would leave the shell's terminal
 * non-blocking after we exit. For terminals and pipes we open a private
 * description through /proc/self/fd instead and make only that one
 * non-blocking. Regular files never block; sockets use MSG_DONTWAIT.
 *
 * The terminal keeps output processing (OPOST), so messages printed to
 * stderr while it is raw still start at the left margin.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "chardev-internal.h"

static bool stdio_in_use;

/* Terminal state, restorable from signal handlers. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_raw;   /* our raw mode is applied */
static struct termios raw_tio;

/* Fallback when /proc is unavailable: O_NONBLOCK set on a shared
 * description, to be undone at exit. */
static int shared_fd_flags[2] = { -1, -1 };
static bool atexit_done;

void chardev_restore_terminal(void)
{
    if (tio_raw) {
        tcsetattr(0, TCSANOW, &saved_tio);
        tio_raw = 0;
    }
    for (int fd = 0; fd < 2; fd++) {
        if (shared_fd_flags[fd] >= 0) {
            fcntl(fd, F_SETFL, shared_fd_flags[fd]);
        }
    }
}

static void stdio_atexit(void)
{
    chardev_restore_terminal();
}

static void apply_raw(void)
{
    if (tcsetattr(0, TCSANOW, &raw_tio) == 0) {
        tio_raw = 1;
    }
}

/* A signal that would kill or stop us: put the terminal back first. */
static void stdio_signal(int sig)
{
    int saved = errno;
    bool was_raw = tio_raw;
    chardev_restore_terminal();
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    struct sigaction mine = { .sa_handler = stdio_signal };
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Only SIGTSTP (and a caught-and-ignored fatal one) come back here:
     * we were continued, so raw mode and our handler return. */
    sigaction(sig, &mine, NULL);
    if (was_raw) {
        apply_raw();
    }
    errno = saved;
}

static void install_signal_restore(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        struct sigaction old;
        /* Never take over a handler main() installed. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO)) {
            struct sigaction sa = { .sa_handler = stdio_signal };
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

static void set_raw_terminal(bool allow_signals)
{
    if (!isatty(0) || tcgetattr(0, &saved_tio) < 0) {
        return;
    }
    raw_tio = saved_tio;
    raw_tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw_tio.c_oflag |= OPOST;
    raw_tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
    if (!allow_signals) {
        raw_tio.c_lflag &= ~ISIG;
    }
    raw_tio.c_cflag &= ~(CSIZE | PARENB);
    raw_tio.c_cflag |= CS8;
    raw_tio.c_cc[VMIN] = 1;
    raw_tio.c_cc[VTIME] = 0;
    apply_raw();
    install_signal_restore();
}

/* A private non-blocking description of fd (see the top of the file). */
static int private_fd(int fd, int flags)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return -errno;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        return nfd < 0 ? -errno : nfd;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int nfd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (nfd >= 0) {
        return nfd;
    }
    nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0) {
        return -errno;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && fd < 2) {
        shared_fd_flags[fd] = fl;
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    }
    return nfd;
}

static void stdio_close(Chardev *chr)
{
    chardev_restore_terminal();
    stdio_in_use = false;
}

static const ChardevOps stdio_ops = {
    .name = "stdio",
    .close = stdio_close,
};

Chardev *chr_stdio_new(const char *label, bool allow_signals, Error **errp)
{
    if (stdio_in_use) {
        error_setg(errp, "cannot use stdio by multiple character devices");
        return NULL;
    }
    int in = private_fd(0, O_RDONLY);
    if (in < 0) {
        error_setg_errno(errp, in, "stdio: cannot use standard input");
        return NULL;
    }
    int out = private_fd(1, O_WRONLY);
    if (out < 0) {
        close(in);
        error_setg_errno(errp, out, "stdio: cannot use standard output");
        return NULL;
    }
    if (!atexit_done) {
        atexit(stdio_atexit);
        atexit_done = true;
    }
    set_raw_terminal(allow_signals);
    stdio_in_use = true;

    Chardev *chr = chr_alloc(&stdio_ops, label);
    chr_fd_attach(chr, in, out, true);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}
