/*
 * 8042 keyboard controller (IBM PC/AT and PS/2 style).
 *
 * The controller owns a one-byte output buffer. When it is empty, it
 * fills it from, in order: its own answers to commands, the keyboard
 * (unless disabled in the command byte), the mouse (likewise). With
 * translation on (command byte bit 6) keyboard bytes pass through the
 * set 2 to set 1 table and an F0 prefix becomes bit 7 of the next byte.
 * Writes are taken at once, so the input buffer is never full.
 */
#include "hw/i8042.h"

/* Status register */
#define STAT_OBF 0x01
#define STAT_SYS 0x04
#define STAT_CMD 0x08          /* last write went to port 0x64 */
#define STAT_UNLOCKED 0x10     /* keyboard inhibit switch off */
#define STAT_AUX 0x20          /* the output buffer holds mouse data */

/* Command byte */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40

/* Output port */
#define OUT_RESET 0x01         /* active low */
#define OUT_A20 0x02
#define OUT_KBD_OBF 0x10
#define OUT_AUX_OBF 0x20

/* Commands written to port 0x64 */
#define CMD_READ_RAM 0x20      /* 0x20-0x3f */
#define CMD_WRITE_RAM 0x60     /* 0x60-0x7f */
#define CMD_PASSWORD_CHECK 0xa4
#define CMD_PASSWORD_LOAD 0xa5
#define CMD_PASSWORD_ENABLE 0xa6
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_INPUT 0xc0
#define CMD_READ_OUTPUT 0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD_OBUF 0xd2
#define CMD_WRITE_AUX_OBUF 0xd3
#define CMD_WRITE_AUX 0xd4
#define CMD_A20_DISABLE 0xdd
#define CMD_A20_ENABLE 0xdf
#define CMD_READ_TEST 0xe0
#define CMD_PULSE 0xf0         /* 0xf0-0xff: pulse output bits whose mask bit is 0 */

#define REPLY_MAX 8

struct I8042State {
    uint8_t ram[32];           /* ram[0] is the command byte */
    uint8_t outport;
    bool sys_flag;
    bool last_write_cmd;
    uint8_t obuf;
    bool obf;
    bool obuf_aux;
    uint8_t pending;           /* command waiting for its data byte, or 0 */
    bool password_entry;       /* swallowing a password up to its NUL */
    uint8_t reply[REPLY_MAX];  /* the controller's own output */
    uint8_t reply_aux[REPLY_MAX];
    uint8_t reply_head, reply_count;
    bool xlate_break;          /* translation saw F0 */
    bool refilling;

    PS2Kbd *kbd;
    PS2Mouse *mouse;
    IRQLine *kbd_irq, *mouse_irq, *a20_out, *reset_out;
    MemoryRegion *mr_data, *mr_cmd;
};

static uint8_t ctr(const I8042State *s)
{
    return s->ram[0];
}

static void i8042_update_irq(I8042State *s)
{
    irq_set(s->kbd_irq, s->obf && !s->obuf_aux && (ctr(s) & CTR_KBDINT));
    irq_set(s->mouse_irq, s->obf && s->obuf_aux && (ctr(s) & CTR_AUXINT));
}

static void i8042_queue_reply(I8042State *s, uint8_t b, bool aux)
{
    if (s->reply_count < REPLY_MAX) {
        unsigned i = (s->reply_head + s->reply_count) % REPLY_MAX;
        s->reply[i] = b;
        s->reply_aux[i] = aux;
        s->reply_count++;
    }
}

/* Keyboard byte through the translation, or false if it was eaten. */
static bool i8042_take_kbd_byte(I8042State *s, uint8_t *out)
{
    while (ps2_kbd_has_data(s->kbd)) {
        uint8_t b = ps2_kbd_read(s->kbd);
        if (!(ctr(s) & CTR_XLATE)) {
            *out = b;
            return true;
        }
        if (b == 0xf0) {
            s->xlate_break = true;
            continue;
        }
        *out = ps2_translate_set2_to_set1(b) | (s->xlate_break ? 0x80 : 0);
        s->xlate_break = false;
        return true;
    }
    return false;
}

static void i8042_refill(I8042State *s)
{
    if (s->obf || s->refilling) {
        return;
    }
    s->refilling = true;
    uint8_t b;
    if (s->reply_count) {
        s->obuf = s->reply[s->reply_head];
        s->obuf_aux = s->reply_aux[s->reply_head];
        s->reply_head = (s->reply_head + 1) % REPLY_MAX;
        s->reply_count--;
        s->obf = true;
    } else if (!(ctr(s) & CTR_KBDDIS) && i8042_take_kbd_byte(s, &b)) {
        s->obuf = b;
        s->obuf_aux = false;
        s->obf = true;
    } else if (!(ctr(s) & CTR_AUXDIS) && ps2_mouse_has_data(s->mouse)) {
        s->obuf = ps2_mouse_read(s->mouse);
        s->obuf_aux = true;
        s->obf = true;
    }
    s->refilling = false;
    i8042_update_irq(s);
}

static void i8042_device_update(void *opaque)
{
    i8042_refill(opaque);
}

static uint8_t i8042_outport_value(const I8042State *s)
{
    uint8_t v = s->outport & ~(OUT_KBD_OBF | OUT_AUX_OBF);
    if (s->obf) {
        v |= s->obuf_aux ? OUT_AUX_OBF : OUT_KBD_OBF;
    }
    return v;
}

static void i8042_write_outport(I8042State *s, uint8_t val)
{
    s->outport = val;
    irq_set(s->a20_out, (val & OUT_A20) != 0);
    if (!(val & OUT_RESET)) {
        irq_pulse(s->reset_out);
    }
}

static void i8042_write_command(I8042State *s, uint8_t cmd)
{
    s->last_write_cmd = true;
    s->pending = 0;
    s->password_entry = false;

    if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
        i8042_queue_reply(s, s->ram[cmd & 0x1f], false);
    } else if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
        s->pending = cmd;
    } else if (cmd >= CMD_PULSE) {
        /* Only the reset line matters; a 6 us pulse elsewhere is invisible. */
        if (!(cmd & OUT_RESET)) {
            irq_pulse(s->reset_out);
        }
    } else {
        switch (cmd) {
        case CMD_PASSWORD_CHECK:
            i8042_queue_reply(s, 0xf1, false);     /* no password installed */
            break;
        case CMD_PASSWORD_LOAD:
            s->password_entry = true;
            break;
        case CMD_AUX_DISABLE:
            s->ram[0] |= CTR_AUXDIS;
            break;
        case CMD_AUX_ENABLE:
            s->ram[0] &= ~CTR_AUXDIS;
            break;
        case CMD_AUX_TEST:
        case CMD_KBD_TEST:
            i8042_queue_reply(s, 0x00, false);     /* interface OK */
            break;
        case CMD_SELF_TEST:
            s->sys_flag = true;
            i8042_queue_reply(s, 0x55, false);
            break;
        case CMD_KBD_DISABLE:
            s->ram[0] |= CTR_KBDDIS;
            break;
        case CMD_KBD_ENABLE:
            s->ram[0] &= ~CTR_KBDDIS;
            break;
        case CMD_READ_INPUT:
            /* Bit 7: keyboard not inhibited; the jumper bits read 0. */
            i8042_queue_reply(s, 0x80, false);
            break;
        case CMD_READ_OUTPUT:
            i8042_queue_reply(s, i8042_outport_value(s), false);
            break;
        case CMD_WRITE_OUTPUT:
        case CMD_WRITE_KBD_OBUF:
        case CMD_WRITE_AUX_OBUF:
        case CMD_WRITE_AUX:
            s->pending = cmd;
            break;
        case CMD_A20_DISABLE:
            i8042_write_outport(s, s->outport & ~OUT_A20);
            break;
        case CMD_A20_ENABLE:
            i8042_write_outport(s, s->outport | OUT_A20);
            break;
        case CMD_READ_TEST:
            i8042_queue_reply(s, 0x00, false);
            break;
        default:
            /* Vendor commands (version, diagnostic dump, ...): ignored. */
            break;
        }
    }
    i8042_refill(s);
    i8042_update_irq(s);
}

static void i8042_write_data(I8042State *s, uint8_t val)
{
    s->last_write_cmd = false;
    if (s->password_entry) {
        s->password_entry = val != 0;
        return;
    }
    uint8_t cmd = s->pending;
    s->pending = 0;

    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
        s->ram[cmd & 0x1f] = val;
        if ((cmd & 0x1f) == 0) {
            s->sys_flag = val & CTR_SYS;
        }
    } else {
        switch (cmd) {
        case CMD_WRITE_OUTPUT:
            i8042_write_outport(s, val);
            break;
        case CMD_WRITE_KBD_OBUF:
            i8042_queue_reply(s, val, false);
            break;
        case CMD_WRITE_AUX_OBUF:
            i8042_queue_reply(s, val, true);
            break;
        case CMD_WRITE_AUX:
            ps2_mouse_write(s->mouse, val);
            break;
        default:
            /* Sending to the keyboard re-enables its interface. */
            s->ram[0] &= ~CTR_KBDDIS;
            ps2_kbd_write(s->kbd, val);
            break;
        }
    }
    i8042_refill(s);
    i8042_update_irq(s);
}

static uint64_t i8042_data_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    uint8_t val = s->obuf;      /* an empty buffer reads its last byte again */
    if (s->obf) {
        s->obf = false;
        i8042_update_irq(s);
        i8042_refill(s);
    }
    return val;
}

static void i8042_data_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    i8042_write_data(opaque, val);
}

static uint64_t i8042_status_read(void *opaque, uint64_t addr, unsigned size)
{
    I8042State *s = opaque;
    uint8_t st = STAT_UNLOCKED;
    if (s->obf) {
        st |= STAT_OBF | (s->obuf_aux ? STAT_AUX : 0);
    }
    if (s->sys_flag) {
        st |= STAT_SYS;
    }
    if (s->last_write_cmd) {
        st |= STAT_CMD;
    }
    return st;
}

static void i8042_command_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    i8042_write_command(opaque, val);
}

static const MemoryRegionOps i8042_data_ops = {
    .read = i8042_data_read, .write = i8042_data_write,
    .min_access_size = 1, .max_access_size = 1,
};
static const MemoryRegionOps i8042_cmd_ops = {
    .read = i8042_status_read, .write = i8042_command_write,
    .min_access_size = 1, .max_access_size = 1,
};

void i8042_reset(I8042State *s)
{
    memset(s->ram, 0, sizeof(s->ram));
    s->ram[0] = CTR_KBDINT | CTR_AUXINT;
    s->sys_flag = false;
    s->last_write_cmd = true;   /* status 0x18 after reset, as QEMU shows */
    s->obuf = 0;
    s->obf = false;
    s->obuf_aux = false;
    s->pending = 0;
    s->password_entry = false;
    s->reply_head = 0;
    s->reply_count = 0;
    s->xlate_break = false;
    ps2_kbd_reset(s->kbd);
    ps2_mouse_reset(s->mouse);
    s->outport = 0xcf;          /* reset inactive, A20 on, clock/data high */
    irq_set(s->a20_out, 1);
    i8042_update_irq(s);
}

I8042State *i8042_new(MemoryRegion *io, IRQLine *kbd_irq, IRQLine *mouse_irq,
                      IRQLine *a20_out, IRQLine *reset_out)
{
    I8042State *s = XNEW(I8042State);
    s->kbd_irq = kbd_irq;
    s->mouse_irq = mouse_irq;
    s->a20_out = a20_out;
    s->reset_out = reset_out;
    s->kbd = ps2_kbd_new(i8042_device_update, s);
    s->mouse = ps2_mouse_new(i8042_device_update, s);
    i8042_reset(s);
    s->mr_data = memory_region_new_io("i8042-data", 1, &i8042_data_ops, s);
    s->mr_cmd = memory_region_new_io("i8042-cmd", 1, &i8042_cmd_ops, s);
    memory_region_add_subregion(io, 0x60, s->mr_data, 0);
    memory_region_add_subregion(io, 0x64, s->mr_cmd, 0);
    return s;
}

void i8042_free(I8042State *s)
{
    if (!s) {
        return;
    }
    memory_region_free(s->mr_data);
    memory_region_free(s->mr_cmd);
    ps2_kbd_free(s->kbd);
    ps2_mouse_free(s->mouse);
    free(s);
}

PS2Kbd *i8042_keyboard(I8042State *s)
{
    return s->kbd;
}

PS2Mouse *i8042_mouse(I8042State *s)
{
    return s->mouse;
}

static int i8042_check(const void *loaded, int version_id, Error **errp)
{
    const I8042State *s = loaded;
    if (s->reply_head >= REPLY_MAX || s->reply_count > REPLY_MAX) {
        error_setg(errp, "pckbd: reply queue out of range (%u at %u)",
                   s->reply_count, s->reply_head);
        return -EINVAL;
    }
    return 0;
}

static int i8042_post_load(void *opaque, int version_id)
{
    I8042State *s = opaque;
    int ret = 0;
    if (s->reply_head >= REPLY_MAX || s->reply_count > REPLY_MAX) {
        /* Only reachable without the validation pass: stay safe. */
        s->reply_head = s->reply_count = 0;
        ret = -EINVAL;
    }
    /* The A20 line is part of the CPU's saved state; only IRQs here. */
    i8042_update_irq(s);
    return ret;
}

const VMStateDescription vmstate_i8042 = {
    .name = "pckbd",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = i8042_check,
    .post_load = i8042_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(ram, I8042State),
        VMSTATE_UINT8(outport, I8042State),
        VMSTATE_BOOL(sys_flag, I8042State),
        VMSTATE_BOOL(last_write_cmd, I8042State),
        VMSTATE_UINT8(obuf, I8042State),
        VMSTATE_BOOL(obf, I8042State),
        VMSTATE_BOOL(obuf_aux, I8042State),
        VMSTATE_UINT8(pending, I8042State),
        VMSTATE_BOOL(password_entry, I8042State),
        VMSTATE_BUFFER(reply, I8042State),
        VMSTATE_BUFFER(reply_aux, I8042State),
        VMSTATE_UINT8(reply_head, I8042State),
        VMSTATE_UINT8(reply_count, I8042State),
        VMSTATE_BOOL(xlate_break, I8042State),
        VMSTATE_END_OF_LIST()
    },
};
