/*
 * The mux chardev: several frontends (serial port, monitor) share one
 * backend. Output from any frontend goes out; input goes to the frontend
 * with the focus. Ctrl-A is the escape key, with QEMU's commands:
 *   C-a h / ?  help        C-a x  quit          C-a s  save disks
 *   C-a t      timestamps  C-a b  send break    C-a c  next frontend
 *   C-a C-a    a literal C-a; anything else after C-a is swallowed.
 *
 * Input for a frontend that cannot take it yet waits in a small queue of
 * its own; when the focused frontend's queue is full the mux stops
 * reading the backend, so nothing is lost, only delayed.
 */
#include <stdio.h>

#include "chardev-internal.h"
#include "util/timer.h"

#define MUX_MAX_FE 8
#define MUX_QUEUE 4096
#define MUX_ESCAPE 0x01   /* Ctrl-A */

typedef struct MuxFe {
    ChardevHandlers h;
    uint8_t q[MUX_QUEUE];
    size_t qhead, qlen;
    bool pending_open, pending_mux_in;
} MuxFe;

typedef struct MuxState {
    Chardev *be;
    MuxFe *fe[MUX_MAX_FE];
    int nfe;
    int focus;
    bool got_escape;
    bool timestamps;
    bool line_start;
    int64_t ts_start;
    BottomHalf *event_bh;
} MuxState;

static void (*save_hook)(void *opaque);
static void *save_hook_opaque;

void chardev_mux_set_save_hook(void (*save)(void *opaque), void *opaque)
{
    save_hook = save;
    save_hook_opaque = opaque;
}

static void fe_event(MuxFe *fe, int event)
{
    if (fe->h.event) {
        fe->h.event(fe->h.opaque, event);
    }
}

static int fe_can_read(MuxFe *fe)
{
    if (!fe->h.read) {
        return 0;
    }
    if (!fe->h.can_read) {
        return CHR_READ_CHUNK;
    }
    int n = fe->h.can_read(fe->h.opaque);
    return n > 0 ? n : 0;
}

/* Delivers queued input while the frontend takes it. */
static void fe_pump(MuxState *m, MuxFe *fe)
{
    while (fe->qlen) {
        int room = fe_can_read(fe);
        if (room <= 0) {
            return;
        }
        size_t n = MIN((size_t)room, fe->qlen);
        n = MIN(n, MUX_QUEUE - fe->qhead);   /* contiguous part */
        uint8_t tmp[MUX_QUEUE];
        memcpy(tmp, fe->q + fe->qhead, n);
        fe->qhead = (fe->qhead + n) % MUX_QUEUE;
        fe->qlen -= n;
        fe->h.read(fe->h.opaque, tmp, (int)n);
    }
}

static void fe_queue_byte(MuxFe *fe, uint8_t c)
{
    if (fe->qlen < MUX_QUEUE) {
        fe->q[(fe->qhead + fe->qlen) % MUX_QUEUE] = c;
        fe->qlen++;
    }
}

static int mux_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    MuxState *m = chr->priv;
    if (!m->timestamps) {
        return chardev_write(m->be, buf, len);
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (m->line_start) {
            if (i > start) {
                chardev_write(m->be, buf + start, i - start);
                start = i;
            }
            int64_t ms = (clock_get_ns(CLOCK_HOST) - m->ts_start) / 1000000;
            if (ms < 0) {
                ms = 0;
            }
            chardev_printf(m->be, "[%02d:%02d:%02d.%03d] ", (int)(ms / 3600000),
                           (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
            m->line_start = false;
        }
        if (buf[i] == '\n') {
            m->line_start = true;
        }
    }
    if (len > start) {
        chardev_write(m->be, buf + start, len - start);
    }
    return (int)len;
}

static void mux_print(Chardev *chr, const char *s)
{
    mux_write(chr, (const uint8_t *)s, strlen(s));
}

static void mux_help(Chardev *chr)
{
    static const char *const lines[] = {
        "C-a h    print this help",
        "C-a x    exit emulator",
        "C-a s    save disk data back to file (if -snapshot)",
        "C-a t    toggle console timestamps",
        "C-a b    send break (magic sysrq)",
        "C-a c    switch between console and monitor",
        "C-a C-a  sends C-a",
    };
    mux_print(chr, "\n\r");
    for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
        mux_print(chr, lines[i]);
        mux_print(chr, "\n\r");
    }
}

static void mux_set_focus(MuxState *m, int focus)
{
    if (m->nfe == 0) {
        return;
    }
    if (m->focus < m->nfe) {
        fe_event(m->fe[m->focus], CHR_EVENT_MUX_OUT);
    }
    m->focus = focus % m->nfe;
    fe_event(m->fe[m->focus], CHR_EVENT_MUX_IN);
}

/* Returns true when the byte is data for the focused frontend. */
static bool mux_escape(Chardev *chr, uint8_t c)
{
    MuxState *m = chr->priv;
    if (!m->got_escape) {
        if (c == MUX_ESCAPE) {
            m->got_escape = true;
            return false;
        }
        return true;
    }
    m->got_escape = false;
    switch (c) {
    case MUX_ESCAPE:
        return true;
    case 'h':
    case '?':
        mux_help(chr);
        break;
    case 'x':
        mux_print(chr, "minipc: Terminated\n\r");
        main_loop_request_exit(0);
        break;
    case 's':
        if (save_hook) {
            save_hook(save_hook_opaque);
        }
        break;
    case 't':
        m->timestamps = !m->timestamps;
        m->ts_start = clock_get_ns(CLOCK_HOST);
        m->line_start = false;
        break;
    case 'b':
        if (m->focus < m->nfe) {
            fe_event(m->fe[m->focus], CHR_EVENT_BREAK);
        }
        break;
    case 'c':
        mux_set_focus(m, m->focus + 1);
        break;
    default:
        break;
    }
    return false;
}

static int mux_be_can_read(void *opaque)
{
    Chardev *chr = opaque;
    MuxState *m = chr->priv;
    if (m->focus >= m->nfe) {
        return MUX_QUEUE;   /* nobody to feed, but C-a still works */
    }
    MuxFe *fe = m->fe[m->focus];
    fe_pump(m, fe);
    return (int)(MUX_QUEUE - fe->qlen);
}

static void mux_be_read(void *opaque, const uint8_t *buf, int len)
{
    Chardev *chr = opaque;
    MuxState *m = chr->priv;
    for (int i = 0; i < len; i++) {
        if (mux_escape(chr, buf[i]) && m->focus < m->nfe) {
            fe_queue_byte(m->fe[m->focus], buf[i]);
        }
    }
    if (m->focus < m->nfe) {
        fe_pump(m, m->fe[m->focus]);
    }
}

static void mux_be_event(void *opaque, int event)
{
    Chardev *chr = opaque;
    MuxState *m = chr->priv;
    switch (event) {
    case CHR_EVENT_OPENED:
    case CHR_EVENT_CLOSED: {
        bool open = event == CHR_EVENT_OPENED;
        if (chr->be_open == open) {
            return;   /* the backend's late OPENED for us: already known */
        }
        chr->be_open = open;
        for (int i = 0; i < m->nfe; i++) {
            m->fe[i]->pending_open = false;
            fe_event(m->fe[i], event);
        }
        break;
    }
    case CHR_EVENT_BREAK:
        if (m->focus < m->nfe) {
            fe_event(m->fe[m->focus], event);
        }
        break;
    default:
        break;
    }
}

/* OPENED and MUX_IN for frontends that attach, from the loop. */
static void mux_event_bh(void *opaque)
{
    Chardev *chr = opaque;
    MuxState *m = chr->priv;
    for (int i = 0; i < m->nfe; i++) {
        MuxFe *fe = m->fe[i];
        if (fe->pending_open) {
            fe->pending_open = false;
            if (chr->be_open) {
                fe_event(fe, CHR_EVENT_OPENED);
            }
        }
        if (i >= m->nfe || m->fe[i] != fe) {
            return;   /* the handler detached someone; next time */
        }
        if (fe->pending_mux_in) {
            fe->pending_mux_in = false;
            if (i == m->focus) {
                fe_event(fe, CHR_EVENT_MUX_IN);
            }
        }
    }
}

static void mux_set_handlers(Chardev *chr, const ChardevHandlers *h)
{
    MuxState *m = chr->priv;
    if (!h) {
        for (int i = 0; i < m->nfe; i++) {
            free(m->fe[i]);
        }
        m->nfe = 0;
        m->focus = 0;
        return;
    }
    for (int i = 0; i < m->nfe; i++) {
        if (m->fe[i]->h.opaque == h->opaque) {
            m->fe[i]->h = *h;
            return;
        }
    }
    if (m->nfe == MUX_MAX_FE) {
        error_report("chardev '%s': too many frontends on one mux", chr->label);
        return;
    }
    MuxFe *fe = XNEW(MuxFe);
    fe->h = *h;
    fe->pending_open = true;
    fe->pending_mux_in = m->nfe == m->focus;
    m->fe[m->nfe++] = fe;
    bh_schedule(m->event_bh);
}

static void mux_remove_handlers(Chardev *chr, void *opaque)
{
    MuxState *m = chr->priv;
    for (int i = 0; i < m->nfe; i++) {
        if (m->fe[i]->h.opaque == opaque) {
            free(m->fe[i]);
            memmove(&m->fe[i], &m->fe[i + 1], (m->nfe - i - 1) * sizeof(m->fe[0]));
            m->nfe--;
            if (m->focus > i || m->focus >= m->nfe) {
                m->focus = m->focus > 0 ? m->focus - 1 : 0;
            }
            return;
        }
    }
}

static void mux_fill(Chardev *chr, int64_t *timeout_ns)
{
    MuxState *m = chr->priv;
    for (int i = 0; i < m->nfe; i++) {
        fe_pump(m, m->fe[i]);
    }
}

static void mux_close(Chardev *chr)
{
    MuxState *m = chr->priv;
    mux_set_handlers(chr, NULL);
    chardev_set_handlers(m->be, NULL);
    chardev_free(m->be);
    bh_free(m->event_bh);
    free(m);
}

static const ChardevOps mux_ops = {
    .name = "mux",
    .fill = mux_fill,
    .write = mux_write,
    .set_handlers = mux_set_handlers,
    .remove_handlers = mux_remove_handlers,
    .close = mux_close,
};

Chardev *chr_mux_new(const char *label, Chardev *backend, Error **errp)
{
    MuxState *m = XNEW(MuxState);
    m->be = backend;
    Chardev *chr = chr_alloc(&mux_ops, label);
    chr->priv = m;
    chr->is_mux = true;
    chr->be_open = backend->be_open;
    m->event_bh = bh_new(mux_event_bh, chr);
    chr_register(chr);
    ChardevHandlers h = {
        .can_read = mux_be_can_read,
        .read = mux_be_read,
        .event = mux_be_event,
        .opaque = chr,
    };
    chardev_set_handlers(backend, &h);
    return chr;
}
