/*
 * PS/2 keyboard (IBM MF2, ID AB 83) and mouse (with the IntelliMouse and
 * IntelliMouse Explorer extensions), as seen from the 8042.
 *
 * Each device has two output queues: replies to host commands, which go
 * out first (the host holds the clock line while it sends, and the
 * device answers before resuming its stream), and the stream of key
 * codes or movement packets.
 */
#include "hw/ps2.h"

#define PS2_QUEUE_SIZE 32       /* ring storage; the limits below apply */
#define PS2_REPLY_MAX 16
/* A keyboard buffers 16 bytes and reports an overrun in a 17th; keeping
 * that size also keeps Linux's i8042_flush() (16 bytes at most) happy
 * when keys were typed before the driver started. */
#define PS2_KBD_BUFFER 16
#define PS2_KBD_OVERRUN_SET1 0xff
#define PS2_KBD_OVERRUN_SET2 0x00
/* Mouse packets waiting for the host; motion beyond this stays in the
 * movement counters and goes out in later packets. */
#define PS2_MOUSE_BUFFER 16

/* Device responses */
#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa
#define PS2_ECHO 0xee

/* Keyboard commands */
#define KBD_CMD_SET_LEDS 0xed
#define KBD_CMD_ECHO 0xee
#define KBD_CMD_SCANCODE 0xf0
#define KBD_CMD_GET_ID 0xf2
#define KBD_CMD_TYPEMATIC 0xf3
#define KBD_CMD_ENABLE 0xf4
#define KBD_CMD_DISABLE 0xf5
#define KBD_CMD_DEFAULTS 0xf6
#define KBD_CMD_RESEND 0xfe
#define KBD_CMD_RESET 0xff

/* Mouse commands */
#define MOUSE_CMD_SCALE11 0xe6
#define MOUSE_CMD_SCALE21 0xe7
#define MOUSE_CMD_SET_RES 0xe8
#define MOUSE_CMD_STATUS 0xe9
#define MOUSE_CMD_STREAM 0xea
#define MOUSE_CMD_READ_DATA 0xeb
#define MOUSE_CMD_RESET_WRAP 0xec
#define MOUSE_CMD_WRAP 0xee
#define MOUSE_CMD_REMOTE 0xf0
#define MOUSE_CMD_GET_ID 0xf2
#define MOUSE_CMD_SET_RATE 0xf3
#define MOUSE_CMD_ENABLE 0xf4
#define MOUSE_CMD_DISABLE 0xf5
#define MOUSE_CMD_DEFAULTS 0xf6
#define MOUSE_CMD_RESEND 0xfe
#define MOUSE_CMD_RESET 0xff

/* Mouse status byte 1 */
#define MOUSE_STATUS_REMOTE 0x40
#define MOUSE_STATUS_ENABLED 0x20
#define MOUSE_STATUS_SCALE21 0x10

typedef struct PS2Queue {
    uint8_t data[PS2_QUEUE_SIZE];
    uint16_t head;
    uint16_t count;
} PS2Queue;

struct PS2Kbd {
    PS2Queue replies;
    PS2Queue keys;
    bool scan_enabled;
    uint8_t scancode_set;     /* 1 or 2 */
    uint8_t leds;
    uint8_t typematic;
    uint8_t pending_cmd;      /* command waiting for its argument, or 0 */
    uint8_t last_sent;
    PS2UpdateFn *update;
    void *opaque;
};

struct PS2Mouse {
    PS2Queue replies;
    PS2Queue packets;
    uint8_t status;           /* MOUSE_STATUS_* */
    uint8_t resolution;
    uint8_t sample_rate;
    uint8_t device_id;        /* 0, 3 (wheel) or 4 (wheel + 5 buttons) */
    uint8_t pending_cmd;
    bool wrap;
    uint8_t rate_history[3];  /* last sample rates, for the ID knocks */
    int32_t dx, dy, dz;       /* motion not yet reported (PS/2 axes: y up) */
    uint8_t buttons;
    uint8_t sent_buttons;
    uint8_t last_sent;
    PS2UpdateFn *update;
    void *opaque;
};

/* Queues ------------------------------------------------------------------ */

static unsigned queue_room(const PS2Queue *q, unsigned limit)
{
    return q->count >= limit ? 0 : limit - q->count;
}

static void queue_push(PS2Queue *q, uint8_t b)
{
    if (q->count < PS2_QUEUE_SIZE) {
        q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = b;
        q->count++;
    }
}

static uint8_t queue_pop(PS2Queue *q)
{
    if (!q->count) {
        return 0;
    }
    uint8_t b = q->data[q->head];
    q->head = (q->head + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return b;
}

static void queue_clear(PS2Queue *q)
{
    q->head = 0;
    q->count = 0;
}

/* Set 2 -> set 1 translation ------------------------------------------------ */

/*
 * What the 8042 does to keyboard bytes when its command byte asks for
 * translation, from the two scancode sets' key tables (set 2 code on the
 * left, the same key's set 1 code on the right). Extended keys use the
 * same second byte after E0. Codes not listed pass unchanged.
 */
static const uint8_t set2_to_set1[0x85] = {
    [0x00] = 0xff,  /* key detection error / overrun */
    [0x01] = 0x43,  /* F9 */
    [0x02] = 0x41,  /* (unassigned; the answer to "get scancode set 2") */
    [0x03] = 0x3f,  /* F5 */
    [0x04] = 0x3d,  /* F3 */
    [0x05] = 0x3b,  /* F1 */
    [0x06] = 0x3c,  /* F2 */
    [0x07] = 0x58,  /* F12 */
    [0x08] = 0x64,  /* F13 */
    [0x09] = 0x44,  /* F10 */
    [0x0a] = 0x42,  /* F8 */
    [0x0b] = 0x40,  /* F6 */
    [0x0c] = 0x3e,  /* F4 */
    [0x0d] = 0x0f,  /* Tab */
    [0x0e] = 0x29,  /* ` */
    [0x10] = 0x65,  /* F14; E0: WWW search */
    [0x11] = 0x38,  /* Left Alt; E0: Right Alt */
    [0x12] = 0x2a,  /* Left Shift */
    [0x13] = 0x70,  /* Katakana/Hiragana */
    [0x14] = 0x1d,  /* Left Ctrl; E0: Right Ctrl */
    [0x15] = 0x10,  /* Q */
    [0x16] = 0x02,  /* 1 */
    [0x18] = 0x66,  /* F15; E0: WWW favourites */
    [0x1a] = 0x2c,  /* Z */
    [0x1b] = 0x1f,  /* S */
    [0x1c] = 0x1e,  /* A */
    [0x1d] = 0x11,  /* W */
    [0x1e] = 0x03,  /* 2 */
    [0x1f] = 0x5b,  /* E0: Left GUI */
    [0x20] = 0x67,  /* F16; E0: WWW refresh */
    [0x21] = 0x2e,  /* C */
    [0x22] = 0x2d,  /* X */
    [0x23] = 0x20,  /* D */
    [0x24] = 0x12,  /* E */
    [0x25] = 0x05,  /* 4 */
    [0x26] = 0x04,  /* 3 */
    [0x27] = 0x5c,  /* E0: Right GUI */
    [0x28] = 0x68,  /* F17; E0: WWW stop */
    [0x29] = 0x39,  /* Space */
    [0x2a] = 0x2f,  /* V */
    [0x2b] = 0x21,  /* F */
    [0x2c] = 0x14,  /* T */
    [0x2d] = 0x13,  /* R */
    [0x2e] = 0x06,  /* 5 */
    [0x2f] = 0x5d,  /* E0: Menu */
    [0x30] = 0x69,  /* F18; E0: WWW forward */
    [0x31] = 0x31,  /* N */
    [0x32] = 0x30,  /* B */
    [0x33] = 0x23,  /* H */
    [0x34] = 0x22,  /* G */
    [0x35] = 0x15,  /* Y */
    [0x36] = 0x07,  /* 6 */
    [0x37] = 0x5e,  /* E0: Power */
    [0x38] = 0x6a,  /* F19; E0: WWW back */
    [0x3a] = 0x32,  /* M */
    [0x3b] = 0x24,  /* J */
    [0x3c] = 0x16,  /* U */
    [0x3d] = 0x08,  /* 7 */
    [0x3e] = 0x09,  /* 8 */
    [0x3f] = 0x5f,  /* E0: Sleep */
    [0x40] = 0x6b,  /* F20; E0: My Computer */
    [0x41] = 0x33,  /* , */
    [0x42] = 0x25,  /* K */
    [0x43] = 0x17,  /* I */
    [0x44] = 0x18,  /* O */
    [0x45] = 0x0b,  /* 0 */
    [0x46] = 0x0a,  /* 9 */
    [0x48] = 0x6c,  /* F21; E0: Mail */
    [0x49] = 0x34,  /* . */
    [0x4a] = 0x35,  /* /; E0: keypad / */
    [0x4b] = 0x26,  /* L */
    [0x4c] = 0x27,  /* ; */
    [0x4d] = 0x19,  /* P */
    [0x4e] = 0x0c,  /* - */
    [0x50] = 0x6d,  /* F22; E0: Media select */
    [0x51] = 0x73,  /* Ro (JIS \) */
    [0x52] = 0x28,  /* ' */
    [0x54] = 0x1a,  /* [ */
    [0x55] = 0x0d,  /* = */
    [0x57] = 0x76,  /* F24 */
    [0x58] = 0x3a,  /* Caps Lock */
    [0x59] = 0x36,  /* Right Shift */
    [0x5a] = 0x1c,  /* Enter; E0: keypad Enter */
    [0x5b] = 0x1b,  /* ] */
    [0x5d] = 0x2b,  /* \ */
    [0x5e] = 0x63,  /* E0: Wake */
    [0x5f] = 0x6e,  /* F23 */
    [0x61] = 0x56,  /* 102nd key (< > |) */
    [0x64] = 0x79,  /* Henkan */
    [0x66] = 0x0e,  /* Backspace */
    [0x67] = 0x7b,  /* Muhenkan */
    [0x69] = 0x4f,  /* keypad 1; E0: End */
    [0x6a] = 0x7d,  /* Yen */
    [0x6b] = 0x4b,  /* keypad 4; E0: Left */
    [0x6c] = 0x47,  /* keypad 7; E0: Home */
    [0x70] = 0x52,  /* keypad 0; E0: Insert */
    [0x71] = 0x53,  /* keypad .; E0: Delete */
    [0x72] = 0x50,  /* keypad 2; E0: Down */
    [0x73] = 0x4c,  /* keypad 5 */
    [0x74] = 0x4d,  /* keypad 6; E0: Right */
    [0x75] = 0x48,  /* keypad 8; E0: Up */
    [0x76] = 0x01,  /* Esc */
    [0x77] = 0x45,  /* Num Lock */
    [0x78] = 0x57,  /* F11 */
    [0x79] = 0x4e,  /* keypad + */
    [0x7a] = 0x51,  /* keypad 3; E0: Page Down */
    [0x7b] = 0x4a,  /* keypad - */
    [0x7c] = 0x37,  /* keypad *; E0: Print Screen */
    [0x7d] = 0x49,  /* keypad 9; E0: Page Up */
    [0x7e] = 0x46,  /* Scroll Lock */
    [0x83] = 0x41,  /* F7 */
    [0x84] = 0x54,  /* Alt+SysRq */
};

uint8_t ps2_translate_set2_to_set1(uint8_t code)
{
    if (code < ARRAY_SIZE(set2_to_set1) && (set2_to_set1[code] || code == 0)) {
        return set2_to_set1[code];
    }
    return code;
}

int ps2_keycode_from_set1(int set1)
{
    int prefix = set1 & ~0xff;
    uint8_t code = set1 & 0x7f;
    if ((prefix != 0 && prefix != 0xe000) || (set1 & 0x80) || code == 0) {
        return -1;
    }
    for (unsigned i = 1; i < ARRAY_SIZE(set2_to_set1); i++) {
        if (set2_to_set1[i] == code && i != 0x02) {
            return prefix | i;
        }
    }
    return -1;
}

/* Keyboard ------------------------------------------------------------------- */

static void kbd_reply(PS2Kbd *k, uint8_t b)
{
    if (queue_room(&k->replies, PS2_REPLY_MAX)) {
        queue_push(&k->replies, b);
        k->last_sent = b;
    }
    k->update(k->opaque);
}

/* The power-on defaults (also what F5 and F6 restore). */
static void kbd_set_defaults(PS2Kbd *k)
{
    k->scancode_set = 2;
    k->typematic = 0x2b;      /* 10.9 characters/s after 500 ms */
    k->leds = 0;
}

void ps2_kbd_reset(PS2Kbd *k)
{
    queue_clear(&k->replies);
    queue_clear(&k->keys);
    kbd_set_defaults(k);
    k->scan_enabled = true;
    k->pending_cmd = 0;
    k->last_sent = 0;
}

static void kbd_command(PS2Kbd *k, uint8_t cmd)
{
    switch (cmd) {
    case KBD_CMD_SET_LEDS:
    case KBD_CMD_TYPEMATIC:
    case KBD_CMD_SCANCODE:
        k->pending_cmd = cmd;
        kbd_reply(k, PS2_ACK);
        break;
    case KBD_CMD_ECHO:
        kbd_reply(k, PS2_ECHO);
        break;
    case KBD_CMD_GET_ID:
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, 0xab);
        kbd_reply(k, 0x83);
        break;
    case KBD_CMD_ENABLE:
        k->scan_enabled = true;
        kbd_reply(k, PS2_ACK);
        break;
    case KBD_CMD_DISABLE:
        queue_clear(&k->keys);
        kbd_set_defaults(k);
        k->scan_enabled = false;
        kbd_reply(k, PS2_ACK);
        break;
    case KBD_CMD_DEFAULTS:
        queue_clear(&k->keys);
        kbd_set_defaults(k);
        k->scan_enabled = true;
        kbd_reply(k, PS2_ACK);
        break;
    case KBD_CMD_RESEND:
        kbd_reply(k, k->last_sent);
        break;
    case KBD_CMD_RESET:
        ps2_kbd_reset(k);
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, PS2_BAT_OK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa:
    case 0xfb: case 0xfc: case 0xfd:
        /* Set-3 key type commands: acknowledged, meaningless in set 2. */
        kbd_reply(k, PS2_ACK);
        break;
    default:
        kbd_reply(k, PS2_RESEND);
        break;
    }
}

void ps2_kbd_write(PS2Kbd *k, uint8_t b)
{
    /* A command byte where an argument was expected starts over. */
    uint8_t cmd = k->pending_cmd;
    if (cmd && b < KBD_CMD_SET_LEDS) {
        k->pending_cmd = 0;
        switch (cmd) {
        case KBD_CMD_SET_LEDS:
            k->leds = b & 7;
            kbd_reply(k, PS2_ACK);
            return;
        case KBD_CMD_TYPEMATIC:
            k->typematic = b & 0x7f;
            kbd_reply(k, PS2_ACK);
            return;
        case KBD_CMD_SCANCODE:
            if (b == 0) {
                kbd_reply(k, PS2_ACK);
                kbd_reply(k, k->scancode_set);
            } else if (b == 1 || b == 2) {
                queue_clear(&k->keys);
                k->scancode_set = b;
                kbd_reply(k, PS2_ACK);
            } else {
                kbd_reply(k, PS2_RESEND);   /* no set 3 */
            }
            return;
        }
    }
    k->pending_cmd = 0;
    kbd_command(k, b);
}

bool ps2_kbd_has_data(const PS2Kbd *k)
{
    return k->replies.count || k->keys.count;
}

uint8_t ps2_kbd_read(PS2Kbd *k)
{
    if (k->replies.count) {
        return queue_pop(&k->replies);
    }
    return queue_pop(&k->keys);
}

uint8_t ps2_kbd_leds(const PS2Kbd *k)
{
    return k->leds;
}

void ps2_keyboard_event(PS2Kbd *k, int keycode, bool down)
{
    uint8_t seq[8];
    unsigned n = 0;

    if (!k->scan_enabled) {
        return;
    }
    if (keycode == PS2_KEY_PAUSE) {
        if (!down) {
            return;     /* Pause has no break code */
        }
        static const uint8_t pause[8] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        memcpy(seq, pause, sizeof(pause));
        n = sizeof(pause);
    } else if (keycode == PS2_KEY_PRINT) {
        /* Print Screen wraps itself in a fake Left Shift. */
        static const uint8_t make[4] = { 0xe0, 0x12, 0xe0, 0x7c };
        static const uint8_t brk[6] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
        if (down) {
            memcpy(seq, make, sizeof(make));
            n = sizeof(make);
        } else {
            memcpy(seq, brk, sizeof(brk));
            n = sizeof(brk);
        }
    } else {
        int prefix = keycode & ~0xff;
        uint8_t code = keycode & 0xff;
        if ((prefix != 0 && prefix != 0xe000) || code == 0 || code >= ARRAY_SIZE(set2_to_set1)) {
            return;
        }
        if (prefix) {
            seq[n++] = 0xe0;
        }
        if (!down) {
            seq[n++] = 0xf0;
        }
        seq[n++] = code;
    }

    if (k->scancode_set == 1) {
        /* Set 1 is what translation makes of set 2. */
        unsigned m = 0;
        bool brk = false;
        for (unsigned i = 0; i < n; i++) {
            if (seq[i] == 0xf0) {
                brk = true;
                continue;
            }
            uint8_t b = seq[i] >= 0xe0 ? seq[i] : ps2_translate_set2_to_set1(seq[i]);
            seq[m++] = brk ? (b | 0x80) : b;
            brk = false;
        }
        n = m;
    }

    if (queue_room(&k->keys, PS2_KBD_BUFFER) < n) {
        /* Full: the key is lost and an overrun code takes the 17th
         * place (once, until the host reads). */
        uint8_t overrun = k->scancode_set == 1 ? PS2_KBD_OVERRUN_SET1 : PS2_KBD_OVERRUN_SET2;
        const PS2Queue *q = &k->keys;
        bool tail_is_overrun = q->count &&
            q->data[(q->head + q->count - 1) % PS2_QUEUE_SIZE] == overrun;
        if (q->count <= PS2_KBD_BUFFER && !tail_is_overrun) {
            queue_push(&k->keys, overrun);
            k->update(k->opaque);
        }
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        queue_push(&k->keys, seq[i]);
    }
    k->update(k->opaque);
}

PS2Kbd *ps2_kbd_new(PS2UpdateFn *update, void *opaque)
{
    PS2Kbd *k = XNEW(PS2Kbd);
    k->update = update;
    k->opaque = opaque;
    ps2_kbd_reset(k);
    return k;
}

void ps2_kbd_free(PS2Kbd *k)
{
    free(k);
}

/* Mouse ---------------------------------------------------------------------- */

#define MOUSE_MOTION_LIMIT (1 << 20)   /* bound for accumulated motion */

static void mouse_reply(PS2Mouse *m, uint8_t b)
{
    if (queue_room(&m->replies, PS2_REPLY_MAX)) {
        queue_push(&m->replies, b);
        m->last_sent = b;
    }
    m->update(m->opaque);
}

static void mouse_set_defaults(PS2Mouse *m)
{
    m->status = 0;              /* stream mode, reporting off, 1:1 */
    m->resolution = 2;          /* 4 counts/mm */
    m->sample_rate = 100;
}

void ps2_mouse_reset(PS2Mouse *m)
{
    queue_clear(&m->replies);
    queue_clear(&m->packets);
    mouse_set_defaults(m);
    m->device_id = 0;
    m->pending_cmd = 0;
    m->wrap = false;
    memset(m->rate_history, 0, sizeof(m->rate_history));
    m->dx = m->dy = m->dz = 0;
    m->sent_buttons = m->buttons;
    m->last_sent = 0;
}

static unsigned mouse_packet_size(const PS2Mouse *m)
{
    return m->device_id ? 4 : 3;
}

/* 2:1 scaling, applied to stream reports only. */
static int mouse_scale(const PS2Mouse *m, int v)
{
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    if (!(m->status & MOUSE_STATUS_SCALE21) || (m->status & MOUSE_STATUS_REMOTE)) {
        return v;
    }
    int a = v < 0 ? -v : v;
    int s = a <= 5 ? small[a] : 2 * a;
    return v < 0 ? -s : s;
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Queues one packet from the pending motion and buttons. */
static void mouse_send_packet(PS2Mouse *m, PS2Queue *q)
{
    int dx = clamp_int(m->dx, -256, 255);
    int dy = clamp_int(m->dy, -256, 255);
    int dz = clamp_int(m->dz, -8, 7);
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;

    int sx = mouse_scale(m, dx);
    int sy = mouse_scale(m, dy);
    uint8_t b0 = 0x08 | (m->buttons & (PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT | PS2_MOUSE_MIDDLE));
    if (sx < -256 || sx > 255) {
        b0 |= 0x40;
        sx = clamp_int(sx, -256, 255);
    }
    if (sy < -256 || sy > 255) {
        b0 |= 0x80;
        sy = clamp_int(sy, -256, 255);
    }
    if (sx < 0) {
        b0 |= 0x10;
    }
    if (sy < 0) {
        b0 |= 0x20;
    }
    queue_push(q, b0);
    queue_push(q, sx & 0xff);
    queue_push(q, sy & 0xff);
    if (m->device_id == 3) {
        queue_push(q, dz & 0xff);
    } else if (m->device_id == 4) {
        queue_push(q, (dz & 0x0f) |
                   ((m->buttons & PS2_MOUSE_BTN4) ? 0x10 : 0) |
                   ((m->buttons & PS2_MOUSE_BTN5) ? 0x20 : 0));
    }
    m->sent_buttons = m->buttons;
}

static bool mouse_has_news(const PS2Mouse *m)
{
    return m->dx || m->dy || m->dz || m->buttons != m->sent_buttons;
}

/* Stream mode: report while there is something to say and room.
 * 'notify' is false when the controller is the caller (it is taking a
 * byte right now and will look for more itself). */
static void mouse_flush_stream(PS2Mouse *m, bool notify)
{
    bool sent = false;
    if ((m->status & MOUSE_STATUS_REMOTE) || !(m->status & MOUSE_STATUS_ENABLED)) {
        return;
    }
    while (mouse_has_news(m) && queue_room(&m->packets, PS2_MOUSE_BUFFER) >= mouse_packet_size(m)) {
        mouse_send_packet(m, &m->packets);
        sent = true;
    }
    if (sent && notify) {
        m->update(m->opaque);
    }
}

void ps2_mouse_event(PS2Mouse *m, int dx, int dy, int dz, unsigned buttons)
{
    m->dx = clamp_int(m->dx + clamp_int(dx, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT),
                      -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->dy = clamp_int(m->dy - clamp_int(dy, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT),
                      -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->dz = clamp_int(m->dz + clamp_int(dz, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT),
                      -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->buttons = buttons & 0x1f;
    if (m->device_id == 0) {
        m->dz = 0;      /* no wheel until the host enables it */
    }
    mouse_flush_stream(m, true);
}

static void mouse_note_rate(PS2Mouse *m, uint8_t rate)
{
    m->rate_history[0] = m->rate_history[1];
    m->rate_history[1] = m->rate_history[2];
    m->rate_history[2] = rate;
    /* The "knock" sequences that switch on the wheel and extra buttons. */
    if (m->rate_history[0] == 200 && m->rate_history[1] == 100 && rate == 80) {
        m->device_id = 3;
    } else if (m->rate_history[0] == 200 && m->rate_history[1] == 200 && rate == 80) {
        m->device_id = 4;
    }
}

/* Most commands restart the movement counters. */
static void mouse_clear_motion(PS2Mouse *m)
{
    m->dx = m->dy = m->dz = 0;
    m->sent_buttons = m->buttons;
}

static void mouse_command(PS2Mouse *m, uint8_t cmd)
{
    if (cmd != MOUSE_CMD_READ_DATA && cmd != MOUSE_CMD_STATUS && cmd != MOUSE_CMD_GET_ID &&
        cmd != MOUSE_CMD_RESEND) {
        mouse_clear_motion(m);
    }
    switch (cmd) {
    case MOUSE_CMD_SCALE11:
        m->status &= ~MOUSE_STATUS_SCALE21;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_SCALE21:
        m->status |= MOUSE_STATUS_SCALE21;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_SET_RES:
    case MOUSE_CMD_SET_RATE:
        m->pending_cmd = cmd;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_STATUS:
        mouse_reply(m, PS2_ACK);
        mouse_reply(m, m->status |
                    ((m->buttons & PS2_MOUSE_LEFT) ? 0x04 : 0) |
                    ((m->buttons & PS2_MOUSE_MIDDLE) ? 0x02 : 0) |
                    ((m->buttons & PS2_MOUSE_RIGHT) ? 0x01 : 0));
        mouse_reply(m, m->resolution);
        mouse_reply(m, m->sample_rate);
        break;
    case MOUSE_CMD_STREAM:
        m->status &= ~MOUSE_STATUS_REMOTE;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_REMOTE:
        m->status |= MOUSE_STATUS_REMOTE;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_READ_DATA:
        mouse_reply(m, PS2_ACK);
        if (queue_room(&m->replies, PS2_REPLY_MAX) >= mouse_packet_size(m)) {
            mouse_send_packet(m, &m->replies);
            m->update(m->opaque);
        }
        mouse_clear_motion(m);
        break;
    case MOUSE_CMD_RESET_WRAP:
        m->wrap = false;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_WRAP:
        m->wrap = true;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_GET_ID:
        mouse_reply(m, PS2_ACK);
        mouse_reply(m, m->device_id);
        break;
    case MOUSE_CMD_ENABLE:
        m->status |= MOUSE_STATUS_ENABLED;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_DISABLE:
        m->status &= ~MOUSE_STATUS_ENABLED;
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_DEFAULTS:
        mouse_set_defaults(m);
        mouse_reply(m, PS2_ACK);
        break;
    case MOUSE_CMD_RESEND:
        mouse_reply(m, m->last_sent);
        break;
    case MOUSE_CMD_RESET:
        ps2_mouse_reset(m);
        mouse_reply(m, PS2_ACK);
        mouse_reply(m, PS2_BAT_OK);
        mouse_reply(m, 0x00);
        break;
    default:
        mouse_reply(m, PS2_RESEND);
        break;
    }
}

void ps2_mouse_write(PS2Mouse *m, uint8_t b)
{
    /* The host talking invalidates a packet stream in flight. */
    queue_clear(&m->packets);

    if (m->wrap && b != MOUSE_CMD_RESET_WRAP && b != MOUSE_CMD_RESET) {
        mouse_reply(m, b);
        return;
    }
    uint8_t cmd = m->pending_cmd;
    m->pending_cmd = 0;
    if (cmd == MOUSE_CMD_SET_RES && b < MOUSE_CMD_SCALE11) {
        mouse_clear_motion(m);
        m->resolution = b & 3;
        mouse_reply(m, PS2_ACK);
        return;
    }
    if (cmd == MOUSE_CMD_SET_RATE && b < MOUSE_CMD_SCALE11) {
        mouse_clear_motion(m);
        m->sample_rate = b;
        mouse_note_rate(m, b);
        mouse_reply(m, PS2_ACK);
        return;
    }
    mouse_command(m, b);
}

bool ps2_mouse_has_data(const PS2Mouse *m)
{
    return m->replies.count || m->packets.count;
}

uint8_t ps2_mouse_read(PS2Mouse *m)
{
    uint8_t b = m->replies.count ? queue_pop(&m->replies) : queue_pop(&m->packets);
    /* Room again: motion that waited can go out. */
    mouse_flush_stream(m, false);
    return b;
}

PS2Mouse *ps2_mouse_new(PS2UpdateFn *update, void *opaque)
{
    PS2Mouse *m = XNEW(PS2Mouse);
    m->update = update;
    m->opaque = opaque;
    ps2_mouse_reset(m);
    return m;
}

void ps2_mouse_free(PS2Mouse *m)
{
    free(m);
}

/* Migration ------------------------------------------------------------------- */

static bool queue_valid(const PS2Queue *q, unsigned limit)
{
    return q->head < PS2_QUEUE_SIZE && q->count <= limit;
}

static int ps2_kbd_state_check(const PS2Kbd *k)
{
    return (queue_valid(&k->replies, PS2_REPLY_MAX) && queue_valid(&k->keys, PS2_KBD_BUFFER + 1) &&
            (k->scancode_set == 1 || k->scancode_set == 2)) ? 0 : -EINVAL;
}

static int ps2_mouse_state_check(const PS2Mouse *m)
{
    return (queue_valid(&m->replies, PS2_REPLY_MAX) && queue_valid(&m->packets, PS2_MOUSE_BUFFER) &&
            (m->device_id == 0 || m->device_id == 3 || m->device_id == 4)) ? 0 : -EINVAL;
}

static const VMStateDescription vmstate_ps2_queue = {
    .name = "ps2-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(data, PS2Queue),
        VMSTATE_UINT16(head, PS2Queue),
        VMSTATE_UINT16(count, PS2Queue),
        VMSTATE_END_OF_LIST()
    },
};

static int ps2_kbd_check(const void *loaded, int version_id, Error **errp)
{
    if (ps2_kbd_state_check(loaded) < 0) {
        error_setg(errp, "ps2kbd: queue or scancode set out of range");
        return -EINVAL;
    }
    return 0;
}

static int ps2_kbd_post_load(void *opaque, int version_id)
{
    PS2Kbd *k = opaque;
    int ret = 0;
    if (ps2_kbd_state_check(k) < 0) {
        /* Only reachable without the validation pass: stay safe. */
        queue_clear(&k->replies);
        queue_clear(&k->keys);
        k->scancode_set = 2;
        ret = -EINVAL;
    }
    k->leds &= 7;
    return ret;
}

const VMStateDescription vmstate_ps2_keyboard = {
    .name = "ps2kbd",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = ps2_kbd_check,
    .post_load = ps2_kbd_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(replies, PS2Kbd, 1, vmstate_ps2_queue, PS2Queue),
        VMSTATE_STRUCT(keys, PS2Kbd, 1, vmstate_ps2_queue, PS2Queue),
        VMSTATE_BOOL(scan_enabled, PS2Kbd),
        VMSTATE_UINT8(scancode_set, PS2Kbd),
        VMSTATE_UINT8(leds, PS2Kbd),
        VMSTATE_UINT8(typematic, PS2Kbd),
        VMSTATE_UINT8(pending_cmd, PS2Kbd),
        VMSTATE_UINT8(last_sent, PS2Kbd),
        VMSTATE_END_OF_LIST()
    },
};

static int ps2_mouse_check(const void *loaded, int version_id, Error **errp)
{
    if (ps2_mouse_state_check(loaded) < 0) {
        error_setg(errp, "ps2mouse: queue or device ID out of range");
        return -EINVAL;
    }
    return 0;
}

static int ps2_mouse_post_load(void *opaque, int version_id)
{
    PS2Mouse *m = opaque;
    int ret = 0;
    if (ps2_mouse_state_check(m) < 0) {
        /* Only reachable without the validation pass: stay safe. */
        queue_clear(&m->replies);
        queue_clear(&m->packets);
        m->device_id = 0;
        ret = -EINVAL;
    }
    m->dx = clamp_int(m->dx, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->dy = clamp_int(m->dy, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->dz = clamp_int(m->dz, -MOUSE_MOTION_LIMIT, MOUSE_MOTION_LIMIT);
    m->buttons &= 0x1f;
    m->status &= MOUSE_STATUS_REMOTE | MOUSE_STATUS_ENABLED | MOUSE_STATUS_SCALE21;
    return ret;
}

const VMStateDescription vmstate_ps2_mouse = {
    .name = "ps2mouse",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = ps2_mouse_check,
    .post_load = ps2_mouse_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(replies, PS2Mouse, 1, vmstate_ps2_queue, PS2Queue),
        VMSTATE_STRUCT(packets, PS2Mouse, 1, vmstate_ps2_queue, PS2Queue),
        VMSTATE_UINT8(status, PS2Mouse),
        VMSTATE_UINT8(resolution, PS2Mouse),
        VMSTATE_UINT8(sample_rate, PS2Mouse),
        VMSTATE_UINT8(device_id, PS2Mouse),
        VMSTATE_UINT8(pending_cmd, PS2Mouse),
        VMSTATE_BOOL(wrap, PS2Mouse),
        VMSTATE_UINT8_ARRAY(rate_history, PS2Mouse, 3),
        VMSTATE_INT32(dx, PS2Mouse),
        VMSTATE_INT32(dy, PS2Mouse),
        VMSTATE_INT32(dz, PS2Mouse),
        VMSTATE_UINT8(buttons, PS2Mouse),
        VMSTATE_UINT8(sent_buttons, PS2Mouse),
        VMSTATE_UINT8(last_sent, PS2Mouse),
        VMSTATE_END_OF_LIST()
    },
};
