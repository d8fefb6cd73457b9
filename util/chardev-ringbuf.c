/*
 * Ring buffer chardevs (vc, -chardev ringbuf): output is kept in a ring
 * of the last 'size' bytes for whoever wants to show or inspect it (a UI
 * console, the monitor, tests); input is fed by code, queued until the
 * frontend can take it.
 */
#include "chardev-internal.h"

#define RING_INPUT_MAX (64 * KiB)

typedef struct RingState {
    uint8_t *buf;
    size_t size;          /* power of two */
    uint64_t prod, cons;
    uint8_t *in;
    size_t in_len;
} RingState;

static int ring_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    RingState *s = chr->priv;
    for (size_t i = 0; i < len; i++) {
        s->buf[s->prod++ & (s->size - 1)] = buf[i];
        if (s->prod - s->cons > s->size) {
            s->cons = s->prod - s->size;   /* overwrite the oldest */
        }
    }
    return (int)len;
}

static void ring_pump(Chardev *chr)
{
    RingState *s = chr->priv;
    while (s->in_len) {
        int room = chr_fe_can_read(chr);
        if (room <= 0) {
            return;
        }
        size_t n = MIN((size_t)room, s->in_len);
        uint8_t tmp[CHR_READ_CHUNK];
        n = MIN(n, sizeof(tmp));
        memcpy(tmp, s->in, n);
        memmove(s->in, s->in + n, s->in_len - n);
        s->in_len -= n;
        chr_fe_read(chr, tmp, n);
    }
}

static void ring_fill(Chardev *chr, int64_t *timeout_ns)
{
    ring_pump(chr);
}

static void ring_close(Chardev *chr)
{
    RingState *s = chr->priv;
    free(s->buf);
    free(s->in);
    free(s);
}

static const ChardevOps ring_ops = {
    .name = "ringbuf",
    .fill = ring_fill,
    .write = ring_write,
    .close = ring_close,
};

Chardev *chr_ringbuf_new(const char *label, const char *kind, size_t size, Error **errp)
{
    RingState *s = XNEW(RingState);
    s->size = size;
    s->buf = xmalloc(size);
    s->in = xmalloc(RING_INPUT_MAX);
    Chardev *chr = chr_alloc(&ring_ops, label);
    chr->priv = s;
    chr_set_filename(chr, "%s", kind);
    chr->be_open = true;
    chr_register(chr);
    return chr;
}

size_t chardev_ringbuf_read(Chardev *chr, void *buf, size_t len)
{
    if (!chr || chr->ops != &ring_ops) {
        return 0;
    }
    RingState *s = chr->priv;
    size_t n = 0;
    uint8_t *out = buf;
    while (n < len && s->cons < s->prod) {
        out[n++] = s->buf[s->cons++ & (s->size - 1)];
    }
    return n;
}

int chardev_ringbuf_input(Chardev *chr, const void *buf, size_t len)
{
    if (!chr || chr->ops != &ring_ops) {
        return -ENOTSUP;
    }
    RingState *s = chr->priv;
    size_t n = MIN(len, RING_INPUT_MAX - s->in_len);
    memcpy(s->in + s->in_len, buf, n);
    s->in_len += n;
    ring_pump(chr);
    return (int)n;
}
