/*
 * The pty chardev: a pseudo-terminal whose slave side the user opens
 * (screen, minicom, a test). While nobody has the slave open, the master
 * reports POLLHUP and output is discarded instead of filling the pty
 * buffer; a once-a-second realtime timer notices when someone opens it.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "chardev-internal.h"
#include "util/timer.h"

#define PTY_RECHECK_NS NANOSECONDS_PER_SECOND

typedef struct PtyState {
    int master;
    char *slave_path;
    Timer *recheck;
} PtyState;

static bool pty_slave_open(int master)
{
    struct pollfd p = { .fd = master, .events = POLLIN };
    return poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP);
}

static void pty_update(Chardev *chr)
{
    PtyState *s = chr->priv;
    bool open = pty_slave_open(s->master);
    if (open && !chr->be_open) {
        chr->in_eof = false;
        chr->out_broken = false;
        chr_set_filename(chr, "pty:%s", s->slave_path);
        chr_set_open(chr, true);
    } else if (!open && chr->be_open) {
        chr->ohead = chr->olen = 0;
        chr_set_open(chr, false);
    }
    if (!chr->be_open) {
        timer_mod_in_ns(s->recheck, PTY_RECHECK_NS);
    }
}

static void pty_recheck(void *opaque)
{
    pty_update(opaque);
}

/* Read error (EIO) or write error: the slave was closed. */
static void pty_hangup(Chardev *chr)
{
    pty_update(chr);
    if (chr->be_open) {
        /* A transient error while still connected: keep going. */
        chr->in_eof = false;
        chr->out_broken = false;
    }
}

static void pty_close(Chardev *chr)
{
    PtyState *s = chr->priv;
    timer_free(s->recheck);
    free(s->slave_path);
    free(s);
}

static const ChardevOps pty_ops = {
    .name = "pty",
    .hangup = pty_hangup,
    .close = pty_close,
};

Chardev *chr_pty_new(const char *label, Error **errp)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        return NULL;
    }
    const char *name;
    if (grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master))) {
        error_setg_errno(errp, errno, "Failed to create PTY");
        close(master);
        return NULL;
    }
    /* Until its slave side has been opened once, a master does not
     * report hang-ups; open and close it so "nobody there" is visible. */
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        close(slave);
    }
    /* Raw on the terminal side: the guest's bytes go through untouched. */
    struct termios tio;
    if (tcgetattr(master, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(master, TCSAFLUSH, &tio);
    }
    int fl = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, fl | O_NONBLOCK);

    PtyState *s = XNEW(PtyState);
    s->master = master;
    s->slave_path = xstrdup(name);
    Chardev *chr = chr_alloc(&pty_ops, label);
    chr->priv = s;
    s->recheck = timer_new_ns(CLOCK_REALTIME, pty_recheck, chr);
    chr_set_filename(chr, "pty:%s", s->slave_path);
    chr_fd_attach(chr, master, master, true);
    chr_register(chr);
    pty_update(chr);
    /* The message users and scripts look for, exactly as QEMU prints it. */
    fprintf(stderr, "char device redirected to %s (label %s)\n", s->slave_path, label);
    fflush(stderr);
    return chr;
}
