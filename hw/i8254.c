/*
 * 8254 programmable interval timer (Intel 8254 datasheet).
 *
 * A channel's counting element (CE) is never stepped. While it counts,
 * its state is a pure function of the virtual clock: it held 'period' at
 * tick 'start_tick' (advanced by 'phase' ticks into its cycle) and has
 * counted down since. Events the datasheet schedules for "the end of the
 * current cycle" (a new count in modes 2 and 3) are recorded as a reload
 * that takes effect at 'reload_tick'. Gate changes and writes fold the
 * elapsed time into the state first.
 *
 * Modes (OUT behaviour):
 *   0 interrupt on terminal count: low from the count write until TC
 *   1 retriggerable one-shot: low from the gate trigger until TC
 *   2 rate generator: low for one tick at the end of each period
 *   3 square wave: high for ceil(N/2), low for floor(N/2) ticks
 *   4 software-triggered strobe, 5 hardware-triggered strobe: low for
 *     one tick at TC
 * Simplification: a count takes effect at the tick of the write rather
 * than one CLK later, so mode 0 reaches TC N ticks after the write.
 */
#include "hw/i8254.h"
#include "util/timer.h"

#define PIT_NUM_CHANNELS 3

/* Control word */
#define CW_SELECT_SHIFT 6
#define CW_RW_SHIFT 4
#define CW_MODE_SHIFT 1
#define CW_BCD 0x01
#define CW_READBACK 3      /* select field value for the read-back command */
/* Read-back command */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10

/* Port 0x61 */
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_WRITABLE 0x0f
#define P61_REFRESH 0x10
#define P61_OUT2 0x20
#define REFRESH_TICKS 18   /* DRAM refresh request every 15.085 us */

/* A timer more than this late skips the missed transitions of channel
 * 0 instead of replaying each one (a stopped host, a huge backlog). */
#define PIT_MAX_CATCHUP_TICKS (PIT_FREQ_HZ / 10)

#define TICK_NEVER UINT64_MAX

typedef struct PITChannel {
    uint32_t count;            /* count register: 1..modulus */
    uint32_t period;           /* what the CE counts from (modes 2, 3: cycle) */
    uint64_t start_tick;       /* tick at which the CE was at 'phase' of its cycle */
    uint32_t phase;            /* ticks into the cycle at start_tick */
    uint16_t frozen;           /* CE contents while not counting */
    uint8_t mode;              /* as programmed, 0-7 (6, 7 alias 2, 3) */
    uint8_t rw_mode;           /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool gate;
    bool counting;             /* the CE decrements */
    bool armed;                /* a count was written since the control word */
    bool terminal_done;        /* modes 0, 4: TC already passed */
    bool reload_pending;       /* modes 2, 3: 'count' loads at reload_tick */
    uint64_t reload_tick;
    uint32_t reload_phase;
    bool write_msb_next;
    uint8_t write_lsb;
    bool read_msb_next;
    bool count_latched;
    bool latch_msb_next;
    uint16_t latched_count;
    bool status_latched;
    uint8_t status;
    bool null_count;
    uint64_t null_clear_tick;  /* when the count reaches the CE */
} PITChannel;

struct PITState {
    PITChannel ch[PIT_NUM_CHANNELS];
    uint8_t port61;            /* writable bits of port 0x61 */
    uint64_t irq_next_tick;    /* transition of channel 0 the timer is for */
    Timer *irq_timer;
    IRQLine *irq0;
    MemoryRegion *mr, *mr_port61;
};

/* Time ------------------------------------------------------------------ */

static uint64_t ns_to_ticks(int64_t ns)
{
    if (ns <= 0) {
        return 0;
    }
    return (unsigned __int128)ns * PIT_FREQ_HZ / NANOSECONDS_PER_SECOND;
}

/* First nanosecond at which 'ticks' have elapsed. */
static int64_t ticks_to_ns(uint64_t ticks)
{
    unsigned __int128 ns = ((unsigned __int128)ticks * NANOSECONDS_PER_SECOND
                            + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static uint64_t pit_now(void)
{
    return ns_to_ticks(clock_get_ns(CLOCK_VIRTUAL));
}

/* Channel arithmetic ---------------------------------------------------- */

static int channel_mode(const PITChannel *c)
{
    return c->mode > 5 ? c->mode - 4 : c->mode;
}

static uint32_t channel_modulus(const PITChannel *c)
{
    return c->bcd ? 10000 : 0x10000;
}

static uint32_t bcd_to_bin(uint16_t v)
{
    /* Digits above 9 are the guest's problem; the result stays bounded. */
    return (v >> 12) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

static uint16_t bin_to_bcd(uint32_t v)
{
    v %= 10000;
    return (v / 1000) << 12 | ((v / 100) % 10) << 8 | ((v / 10) % 10) << 4 | (v % 10);
}

/* The cycle the CE runs at tick t: a pending reload takes over at its tick. */
static void channel_cycle(const PITChannel *c, uint64_t t,
                          uint32_t *period, uint64_t *elapsed)
{
    uint64_t start = c->start_tick;
    uint32_t phase = c->phase;
    *period = c->period;
    if (c->reload_pending && t >= c->reload_tick) {
        *period = c->count;
        start = c->reload_tick;
        phase = c->reload_phase;
    }
    *elapsed = (t > start ? t - start : 0) + phase;
}

typedef struct ChannelState {
    uint32_t value;            /* CE contents, 0..modulus-1 */
    bool out;
} ChannelState;

static bool channel_idle_out(const PITChannel *c)
{
    /* Mode 0's output is low from the control word until TC; every other
     * mode idles high. */
    return channel_mode(c) == 0 ? c->terminal_done : true;
}

static ChannelState channel_eval(const PITChannel *c, uint64_t t)
{
    ChannelState st;
    if (!c->counting) {
        st.value = c->frozen;
        st.out = channel_idle_out(c);
        return st;
    }
    uint32_t m = channel_modulus(c);
    uint32_t period;
    uint64_t e;
    channel_cycle(c, t, &period, &e);
    if (period == 0) {
        period = m;    /* never produced by writes; keeps division safe */
    }

    switch (channel_mode(c)) {
    case 0:
        st.value = ((uint64_t)period + m - e % m) % m;
        st.out = c->terminal_done || e >= period;
        break;
    case 1:
        st.value = ((uint64_t)period + m - e % m) % m;
        st.out = e >= period;
        break;
    case 4:
    case 5:
        st.value = ((uint64_t)period + m - e % m) % m;
        st.out = c->terminal_done || e != period;
        break;
    case 2: {
        uint32_t p = e % period;
        st.value = (period - p) % m;
        st.out = p != period - 1;
        break;
    }
    default: {  /* 3 */
        uint32_t p = e % period;
        uint32_t high = (period + 1) / 2;
        uint32_t q = p < high ? p : p - high;
        st.out = p < high;
        /* Odd counts load N-1; both halves count down by two. */
        st.value = ((period & ~1u) - 2 * q) % m;
        break;
    }
    }
    return st;
}

/* Next tick after t at which OUT changes, within one steady cycle. */
static uint64_t channel_steady_next(const PITChannel *c, uint32_t period,
                                    uint64_t e, uint64_t t)
{
    if (period == 0) {
        period = channel_modulus(c);
    }
    switch (channel_mode(c)) {
    case 0:
        if (!c->terminal_done && e < period) {
            return t + (period - e);
        }
        return TICK_NEVER;
    case 1:
        return e < period ? t + (period - e) : TICK_NEVER;
    case 4:
    case 5:
        if (c->terminal_done || e > period) {
            return TICK_NEVER;
        }
        return e < period ? t + (period - e) : t + 1;
    case 2: {
        if (period == 1) {
            return TICK_NEVER;     /* illegal count: stays low */
        }
        uint32_t p = e % period;
        return p < period - 1 ? t + (period - 1 - p) : t + 1;
    }
    default: {
        uint32_t high = (period + 1) / 2;
        if (high == period) {
            return TICK_NEVER;     /* count 1: never goes low */
        }
        uint32_t p = e % period;
        return p < high ? t + (high - p) : t + (period - p);
    }
    }
}

static uint64_t channel_next_transition(const PITChannel *c, uint64_t t)
{
    if (!c->counting) {
        return TICK_NEVER;
    }
    uint32_t period;
    uint64_t e;
    channel_cycle(c, t, &period, &e);
    uint64_t next = channel_steady_next(c, period, e, t);
    if (c->reload_pending && t < c->reload_tick && next >= c->reload_tick) {
        /* No change before the reload; maybe at it, else in the new cycle. */
        if (channel_eval(c, c->reload_tick).out != channel_eval(c, t).out) {
            return c->reload_tick;
        }
        channel_cycle(c, c->reload_tick, &period, &e);
        next = channel_steady_next(c, period, e, c->reload_tick);
    }
    return next;
}

/* Applies a reload whose time has come (before changing the channel). */
static void channel_sync(PITChannel *c, uint64_t t)
{
    if (c->reload_pending && t >= c->reload_tick) {
        c->period = c->count;
        c->start_tick = c->reload_tick;
        c->phase = c->reload_phase;
        c->reload_pending = false;
    }
}

/* Starts the CE from the count register (load or gate trigger). */
static void channel_start(PITChannel *c, uint64_t t)
{
    c->counting = true;
    c->period = c->count;
    c->start_tick = t;
    c->phase = 0;
    c->terminal_done = false;
    c->reload_pending = false;
    c->null_clear_tick = t + 1;
}

/* Stops the CE where it is (gate low in modes 0/2/3/4, mode 0 rewrite). */
static void channel_freeze(PITChannel *c, uint64_t t)
{
    if (!c->counting) {
        return;
    }
    uint32_t period;
    uint64_t e;
    channel_cycle(c, t, &period, &e);
    ChannelState st = channel_eval(c, t);
    int mode = channel_mode(c);
    if ((mode == 0 || mode == 4) && e >= period) {
        c->terminal_done = true;
    }
    c->frozen = st.value;
    c->counting = false;
    c->reload_pending = false;
}

/* Resumes a paused CE (modes 0, 4) from its frozen value. */
static void channel_resume(PITChannel *c, uint64_t t)
{
    c->counting = true;
    c->period = c->frozen ? c->frozen : channel_modulus(c);
    c->start_tick = t;
    c->phase = 0;
}

static void channel_load_count(PITChannel *c, uint64_t t, uint16_t raw)
{
    uint32_t m = channel_modulus(c);
    uint32_t n = (c->bcd ? bcd_to_bin(raw) : raw) % m;
    c->count = n ? n : m;
    c->null_count = true;
    bool first = !c->armed;
    c->armed = true;

    switch (channel_mode(c)) {
    case 0:
    case 4:
        /* Loaded on the next clock; counts while the gate is high. */
        channel_start(c, t);
        if (!c->gate) {
            c->frozen = c->count % 0x10000;
            c->counting = false;
        }
        break;
    case 1:
    case 5:
        /* Waits for a gate trigger; a running one-shot is not affected. */
        c->null_clear_tick = TICK_NEVER;
        break;
    case 2:
    case 3:
        if (first || !c->counting) {
            if (c->gate) {
                channel_start(c, t);
            } else {
                c->null_clear_tick = t + 1;
            }
        } else {
            /* The new count loads at the end of the current cycle (mode 2)
             * or half-cycle (mode 3). */
            uint32_t period;
            uint64_t e;
            channel_cycle(c, t, &period, &e);
            uint32_t p = e % period;
            uint32_t high = (period + 1) / 2;
            c->reload_phase = 0;
            if (channel_mode(c) == 3 && p < high) {
                c->reload_tick = t + (high - p);
                c->reload_phase = (c->count + 1) / 2;   /* starts low */
                if (c->reload_phase >= c->count) {
                    c->reload_phase = 0;
                }
            } else {
                c->reload_tick = t + (period - p);
            }
            c->reload_pending = true;
            c->null_clear_tick = c->reload_tick;
        }
        break;
    }
}

static void channel_set_gate(PITChannel *c, uint64_t t, bool level)
{
    channel_sync(c, t);
    if (level == c->gate) {
        return;
    }
    c->gate = level;
    int mode = channel_mode(c);
    if (level) {
        if (!c->armed) {
            return;
        }
        switch (mode) {
        case 0:
        case 4:
            if (!c->counting) {
                channel_resume(c, t);
            }
            break;
        default:    /* 1, 5: trigger; 2, 3: restart from the count */
            channel_start(c, t);
            break;
        }
    } else if (mode != 1 && mode != 5) {
        channel_freeze(c, t);
    }
}

static void channel_write_control(PITChannel *c, uint64_t t, uint8_t val)
{
    /* The CE keeps whatever it held; counting stops until a count. */
    c->frozen = channel_eval(c, t).value;
    c->mode = (val >> CW_MODE_SHIFT) & 7;
    c->rw_mode = (val >> CW_RW_SHIFT) & 3;
    c->bcd = val & CW_BCD;
    c->counting = false;
    c->armed = false;
    c->terminal_done = false;
    c->reload_pending = false;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->count_latched = false;
    c->status_latched = false;
    c->null_count = true;
    c->null_clear_tick = TICK_NEVER;
}

static uint16_t channel_read_value(const PITChannel *c, uint64_t t)
{
    uint32_t v = channel_eval(c, t).value;
    return c->bcd ? bin_to_bcd(v) : (uint16_t)v;
}

static void channel_latch_count(PITChannel *c, uint64_t t)
{
    if (!c->count_latched) {
        c->latched_count = channel_read_value(c, t);
        c->count_latched = true;
        c->latch_msb_next = false;
    }
}

static void channel_latch_status(PITChannel *c, uint64_t t)
{
    if (!c->status_latched) {
        bool null = c->null_count && t < c->null_clear_tick;
        c->status = (channel_eval(c, t).out ? 0x80 : 0) | (null ? 0x40 : 0) |
                    (c->rw_mode << CW_RW_SHIFT) | (c->mode << CW_MODE_SHIFT) |
                    (c->bcd ? CW_BCD : 0);
        c->status_latched = true;
    }
}

static uint8_t channel_read(PITChannel *c, uint64_t t)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    bool msb;
    if (c->count_latched) {
        v = c->latched_count;
        switch (c->rw_mode) {
        case 1:
            msb = false;
            c->count_latched = false;
            break;
        case 2:
            msb = true;
            c->count_latched = false;
            break;
        default:
            msb = c->latch_msb_next;
            c->latch_msb_next = !msb;
            if (msb) {
                c->count_latched = false;
            }
            break;
        }
    } else {
        v = channel_read_value(c, t);
        switch (c->rw_mode) {
        case 1:
            msb = false;
            break;
        case 2:
            msb = true;
            break;
        default:
            msb = c->read_msb_next;
            c->read_msb_next = !msb;
            break;
        }
    }
    return msb ? v >> 8 : v & 0xff;
}

static void channel_write(PITChannel *c, uint64_t t, uint8_t val)
{
    switch (c->rw_mode) {
    case 1:
        channel_load_count(c, t, val);
        break;
    case 2:
        channel_load_count(c, t, val << 8);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = val;
            c->write_msb_next = true;
            if (channel_mode(c) == 0) {
                /* Writing the first byte stops the count; OUT goes low. */
                channel_freeze(c, t);
                c->terminal_done = false;
            }
        } else {
            c->write_msb_next = false;
            channel_load_count(c, t, c->write_lsb | (val << 8));
        }
        break;
    }
}

/* Channel 0 -> IRQ 0 ----------------------------------------------------- */

static void pit_irq_schedule(PITState *s, uint64_t from)
{
    uint64_t next = channel_next_transition(&s->ch[0], from);
    s->irq_next_tick = next;
    if (next == TICK_NEVER) {
        timer_del(s->irq_timer);
    } else {
        timer_mod_ns(s->irq_timer, ticks_to_ns(next));
    }
}

/* After any change to channel 0 at tick t. */
static void pit_irq_update(PITState *s, uint64_t t)
{
    irq_set(s->irq0, channel_eval(&s->ch[0], t).out);
    pit_irq_schedule(s, t);
}

static void pit_irq_timer_cb(void *opaque)
{
    PITState *s = opaque;
    uint64_t now = pit_now();
    uint64_t t = s->irq_next_tick;
    if (t == TICK_NEVER || t > now) {
        t = now;
    } else if (now - t > PIT_MAX_CATCHUP_TICKS) {
        t = now;
    }
    /* Replays the planned transition even if we are late, so a one-tick
     * pulse of modes 2, 4 and 5 still reaches the PIC as an edge. */
    irq_set(s->irq0, channel_eval(&s->ch[0], t).out);
    pit_irq_schedule(s, t);
}

/* Ports ------------------------------------------------------------------ */

static uint64_t pit_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;
    if (addr >= PIT_NUM_CHANNELS) {
        return 0xff;    /* the control register cannot be read */
    }
    PITChannel *c = &s->ch[addr];
    uint64_t t = pit_now();
    channel_sync(c, t);
    return channel_read(c, t);
}

static void pit_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    PITState *s = opaque;
    uint8_t val = val64;
    uint64_t t = pit_now();

    if (addr < PIT_NUM_CHANNELS) {
        PITChannel *c = &s->ch[addr];
        channel_sync(c, t);
        channel_write(c, t, val);
        if (addr == 0) {
            pit_irq_update(s, t);
        }
        return;
    }

    int sel = val >> CW_SELECT_SHIFT;
    if (sel == CW_READBACK) {
        for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
            if (!(val & (2 << i))) {
                continue;
            }
            PITChannel *c = &s->ch[i];
            channel_sync(c, t);
            if (!(val & RB_NO_COUNT)) {
                channel_latch_count(c, t);
            }
            if (!(val & RB_NO_STATUS)) {
                channel_latch_status(c, t);
            }
        }
        return;
    }
    PITChannel *c = &s->ch[sel];
    channel_sync(c, t);
    if (((val >> CW_RW_SHIFT) & 3) == 0) {
        channel_latch_count(c, t);
        return;
    }
    channel_write_control(c, t, val);
    if (sel == 0) {
        pit_irq_update(s, t);
    }
}

static const MemoryRegionOps pit_ops = {
    .read = pit_read, .write = pit_write,
    .min_access_size = 1, .max_access_size = 1,
};

static uint64_t port61_read(void *opaque, uint64_t addr, unsigned size)
{
    PITState *s = opaque;
    uint64_t t = pit_now();
    uint8_t val = s->port61 & P61_WRITABLE;
    if ((t / REFRESH_TICKS) & 1) {
        val |= P61_REFRESH;
    }
    if (channel_eval(&s->ch[2], t).out) {
        val |= P61_OUT2;
    }
    return val;
}

static void port61_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PITState *s = opaque;
    s->port61 = val & P61_WRITABLE;
    channel_set_gate(&s->ch[2], pit_now(), val & P61_GATE2);
}

static const MemoryRegionOps port61_ops = {
    .read = port61_read, .write = port61_write,
    .min_access_size = 1, .max_access_size = 1,
};

void pit_set_gate(PITState *s, int channel, bool level)
{
    if (channel < 0 || channel >= PIT_NUM_CHANNELS) {
        return;
    }
    uint64_t t = pit_now();
    channel_set_gate(&s->ch[channel], t, level);
    if (channel == 0) {
        pit_irq_update(s, t);
    }
}

bool pit_get_out(PITState *s, int channel)
{
    if (channel < 0 || channel >= PIT_NUM_CHANNELS) {
        return false;
    }
    return channel_eval(&s->ch[channel], pit_now()).out;
}

/* Lifecycle -------------------------------------------------------------- */

void pit_reset(PITState *s)
{
    uint64_t t = pit_now();
    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        PITChannel *c = &s->ch[i];
        memset(c, 0, sizeof(*c));
        channel_write_control(c, t, 3 << CW_RW_SHIFT | 3 << CW_MODE_SHIFT);
        c->gate = i != 2;
        channel_load_count(c, t, 0);
    }
    s->port61 = 0;
    pit_irq_update(s, t);
}

PITState *pit_new(MemoryRegion *io, IRQLine *irq0)
{
    PITState *s = XNEW(PITState);
    s->irq0 = irq0;
    s->irq_timer = timer_new_ns(CLOCK_VIRTUAL, pit_irq_timer_cb, s);
    pit_reset(s);
    s->mr = memory_region_new_io("pit", 4, &pit_ops, s);
    s->mr_port61 = memory_region_new_io("port61", 1, &port61_ops, s);
    memory_region_add_subregion(io, 0x40, s->mr, 0);
    memory_region_add_subregion(io, 0x61, s->mr_port61, 0);
    return s;
}

void pit_free(PITState *s)
{
    if (!s) {
        return;
    }
    memory_region_free(s->mr);
    memory_region_free(s->mr_port61);
    timer_free(s->irq_timer);
    free(s);
}

/* Migration -------------------------------------------------------------- */

/* Ticks since the virtual clock started stay far below 2^62 (122,000
 * years); bounding loaded ones keeps "tick + period" from wrapping. */
#define PIT_TICK_LIMIT (UINT64_C(1) << 62)

static bool channel_valid(const PITChannel *c)
{
    uint32_t m = channel_modulus(c);
    if (c->mode > 7 || c->rw_mode < 1 || c->rw_mode > 3 ||
        c->count < 1 || c->count > m || c->period > m) {
        return false;
    }
    if (c->start_tick > PIT_TICK_LIMIT || c->reload_tick > PIT_TICK_LIMIT) {
        return false;
    }
    if (c->counting && (c->period < 1 || c->phase >= c->period)) {
        return false;
    }
    if (c->reload_pending && c->reload_phase >= c->count) {
        return false;
    }
    return true;
}

static int pit_channel_check(const void *loaded, int version_id, Error **errp)
{
    const PITChannel *c = loaded;
    if (!channel_valid(c)) {
        error_setg(errp, "i8254: channel state out of range (mode %u, access %u, "
                   "count %" PRIu32 ", period %" PRIu32 ", phase %" PRIu32 ")",
                   c->mode, c->rw_mode, c->count, c->period, c->phase);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_pit_channel = {
    .name = "i8254-channel",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = pit_channel_check,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, PITChannel),
        VMSTATE_UINT32(period, PITChannel),
        VMSTATE_UINT64(start_tick, PITChannel),
        VMSTATE_UINT32(phase, PITChannel),
        VMSTATE_UINT16(frozen, PITChannel),
        VMSTATE_UINT8(mode, PITChannel),
        VMSTATE_UINT8(rw_mode, PITChannel),
        VMSTATE_BOOL(bcd, PITChannel),
        VMSTATE_BOOL(gate, PITChannel),
        VMSTATE_BOOL(counting, PITChannel),
        VMSTATE_BOOL(armed, PITChannel),
        VMSTATE_BOOL(terminal_done, PITChannel),
        VMSTATE_BOOL(reload_pending, PITChannel),
        VMSTATE_UINT64(reload_tick, PITChannel),
        VMSTATE_UINT32(reload_phase, PITChannel),
        VMSTATE_BOOL(write_msb_next, PITChannel),
        VMSTATE_UINT8(write_lsb, PITChannel),
        VMSTATE_BOOL(read_msb_next, PITChannel),
        VMSTATE_BOOL(count_latched, PITChannel),
        VMSTATE_BOOL(latch_msb_next, PITChannel),
        VMSTATE_UINT16(latched_count, PITChannel),
        VMSTATE_BOOL(status_latched, PITChannel),
        VMSTATE_UINT8(status, PITChannel),
        VMSTATE_BOOL(null_count, PITChannel),
        VMSTATE_UINT64(null_clear_tick, PITChannel),
        VMSTATE_END_OF_LIST()
    },
};

static int pit_post_load(void *opaque, int version_id)
{
    PITState *s = opaque;
    int ret = 0;
    uint64_t t = pit_now();
    for (int i = 0; i < PIT_NUM_CHANNELS; i++) {
        PITChannel *c = &s->ch[i];
        if (!channel_valid(c)) {
            /* Only reachable without the validation pass: a channel in
             * its after-control-word state is safe. */
            bool gate = c->gate;
            memset(c, 0, sizeof(*c));
            channel_write_control(c, t, 3 << CW_RW_SHIFT);
            c->gate = gate;
            ret = -EINVAL;
        }
    }
    s->port61 &= P61_WRITABLE;
    irq_set(s->irq0, channel_eval(&s->ch[0], t).out);
    return ret;
}

const VMStateDescription vmstate_i8254 = {
    .name = "i8254",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pit_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(ch, PITState, PIT_NUM_CHANNELS, 1, vmstate_pit_channel, PITChannel),
        VMSTATE_UINT8(port61, PITState),
        VMSTATE_UINT64(irq_next_tick, PITState),
        VMSTATE_TIMER_PTR(irq_timer, PITState),
        VMSTATE_END_OF_LIST()
    },
};
