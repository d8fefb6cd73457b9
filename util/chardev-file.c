/*
 * File-like chardevs: file:PATH (output only), pipe:PATH (PATH.in and
 * PATH.out, or PATH itself for both, as QEMU) and host serial devices
 * (/dev/ttyS0...), all over the fd engine.
 */
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include "chardev-internal.h"

static const ChardevOps file_ops = {
    .name = "file",
};

Chardev *chr_file_new(const char *label, const char *path, bool append, Error **errp)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    int fd = open(path, flags, 0666);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return NULL;
    }
    Chardev *chr = chr_alloc(&file_ops, label);
    chr_set_filename(chr, "file:%s", path);
    chr_fd_attach(chr, -1, fd, true);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}

/* FIFOs opened read-write never see EOF and never block on open. */
static int open_fifo(const char *path)
{
    return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static const ChardevOps pipe_ops = {
    .name = "pipe",
};

Chardev *chr_pipe_new(const char *label, const char *path, Error **errp)
{
    char *in_path = xasprintf("%s.in", path);
    char *out_path = xasprintf("%s.out", path);
    int in = open_fifo(in_path);
    int out = open_fifo(out_path);
    free(in_path);
    free(out_path);
    if (in < 0 || out < 0) {
        if (in >= 0) {
            close(in);
        }
        if (out >= 0) {
            close(out);
        }
        in = out = open_fifo(path);
        if (in < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", path);
            return NULL;
        }
    }
    Chardev *chr = chr_alloc(&pipe_ops, label);
    chr_set_filename(chr, "pipe:%s", path);
    chr_fd_attach(chr, in, out, true);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}

static const ChardevOps serial_ops = {
    .name = "serial",
};

Chardev *chr_serial_new(const char *label, const char *path, Error **errp)
{
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return NULL;
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tio.c_cflag |= CLOCAL | CREAD;
        tcsetattr(fd, TCSANOW, &tio);
    }
    Chardev *chr = chr_alloc(&serial_ops, label);
    chr_set_filename(chr, "%s", path);
    chr_fd_attach(chr, fd, fd, true);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}
