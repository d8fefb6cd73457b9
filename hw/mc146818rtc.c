/*
 * MC146818 real-time clock with CMOS RAM (Motorola MC146818 datasheet;
 * the interrupt flags as in the Dallas DS12887 that PCs use).
 *
 * Time model: while the clock updates (divider 010 and SET clear), the
 * time is base_time + whole seconds since base_ns, a second boundary of
 * the divider chain on the virtual clock; the time registers are encoded
 * from it when read. While updates are off (SET, or the divider stopped)
 * the time registers simply hold bytes in cmos[], as in the chip, and
 * are decoded again when updates resume.
 *
 * Interrupt flags (register C) are computed lazily for the interval
 * since the last evaluation: periodic edges of the divider chain, update
 * cycles (second boundaries) and alarm matches at those boundaries. A
 * timer is armed only for the next event that could raise IRQ 8.
 *
 * UIP is high during the 2228 us before each boundary (244 us warning
 * plus the 1984 us update cycle); the registers change at the boundary,
 * so a guest that sees UIP clear has 244 us or more to read them.
 */
#include "hw/mc146818rtc.h"
#include "util/timer.h"

#include <time.h>   /* after util/timer.h, which names a clock CLOCK_REALTIME */

/* Registers */
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d

#define A_UIP 0x80
#define A_DV_SHIFT 4
#define A_DV_MASK 0x70
#define A_RS_MASK 0x0f
#define DV_32KHZ 2          /* the only divider setting that keeps time */
#define DV_RESET_MIN 6      /* 11x: divider chain held in reset */

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_DM_BINARY 0x04
#define B_24H 0x02
#define B_DSE 0x01

#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10

#define D_VRT 0x80

#define ALARM_DONT_CARE 0xc0

#define NS_PER_SEC NANOSECONDS_PER_SECOND
#define UIP_WINDOW_NS (244000 + 1984000)
#define DIVIDER_HZ 32768

/* Year 0 to 9999: what four BCD digits of century and year can show. */
#define RTC_TIME_MIN (-62167219200LL)
#define RTC_TIME_MAX 253402300799LL

struct RTCState {
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;
    bool nmi_masked;
    uint8_t flags;           /* PF, AF, UF as of last_eval_ns */
    int64_t base_time;       /* seconds at base_ns, while updating */
    int64_t base_ns;         /* a second boundary of the divider chain */
    int64_t last_eval_ns;
    Timer *timer;
    IRQLine *irq;
    MemoryRegion *mr;
};

static int64_t rtc_now(void)
{
    return clock_get_ns(CLOCK_VIRTUAL);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int rtc_divider(const RTCState *s)
{
    return (s->cmos[REG_A] & A_DV_MASK) >> A_DV_SHIFT;
}

static bool rtc_divider_running(const RTCState *s)
{
    return rtc_divider(s) == DV_32KHZ;
}

/* The time registers advance once a second. */
static bool rtc_updating(const RTCState *s)
{
    return rtc_divider_running(s) && !(s->cmos[REG_B] & B_SET);
}

/* Periodic interrupt period in divider ticks (1/32768 s), 0 if off. */
static int64_t rtc_periodic_ticks(const RTCState *s)
{
    int rs = s->cmos[REG_A] & A_RS_MASK;
    if (rs == 0 || !rtc_divider_running(s)) {
        return 0;
    }
    return rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);
}

/* Divider ticks since base_ns at virtual time ns (floor). */
static int64_t rtc_divider_ticks(const RTCState *s, int64_t ns)
{
    __int128 num = (__int128)(ns - s->base_ns) * DIVIDER_HZ;
    __int128 q = num / NS_PER_SEC;
    return num % NS_PER_SEC < 0 ? q - 1 : q;
}

static int64_t rtc_divider_tick_ns(const RTCState *s, int64_t tick)
{
    /* First ns at which 'tick' divider ticks have passed since base_ns. */
    __int128 num = (__int128)tick * NS_PER_SEC;
    int64_t q = num / DIVIDER_HZ;
    if (num % DIVIDER_HZ > 0) {
        q++;
    }
    return s->base_ns + q;
}

static int64_t rtc_seconds_since_base(const RTCState *s, int64_t ns)
{
    return floor_div(ns - s->base_ns, NS_PER_SEC);
}

/* Register encoding ------------------------------------------------------ */

static uint8_t rtc_to_reg(const RTCState *s, int v)
{
    if (s->cmos[REG_B] & B_DM_BINARY) {
        return v;
    }
    return ((v / 10) % 10) << 4 | (v % 10);
}

static int rtc_from_reg(const RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_DM_BINARY) {
        return v;
    }
    /* Invalid BCD digits decode to something bounded, as garbage in. */
    return (v >> 4) * 10 + (v & 15);
}

static uint8_t rtc_hour_to_reg(const RTCState *s, int hour)
{
    if (s->cmos[REG_B] & B_24H) {
        return rtc_to_reg(s, hour);
    }
    int h12 = hour % 12 ? hour % 12 : 12;
    return rtc_to_reg(s, h12) | (hour >= 12 ? 0x80 : 0);
}

static int rtc_hour_from_reg(const RTCState *s, uint8_t v)
{
    if (s->cmos[REG_B] & B_24H) {
        return rtc_from_reg(s, v);
    }
    int h = rtc_from_reg(s, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

static int64_t rtc_clamp_time(int64_t t)
{
    return t < RTC_TIME_MIN ? RTC_TIME_MIN : t > RTC_TIME_MAX ? RTC_TIME_MAX : t;
}

/* Writes 'time' into the time registers and the century byte. */
static void rtc_time_to_regs(RTCState *s, int64_t time)
{
    time_t t = rtc_clamp_time(time);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        return;
    }
    int year = tm.tm_year + 1900;
    s->cmos[REG_SEC] = rtc_to_reg(s, tm.tm_sec);
    s->cmos[REG_MIN] = rtc_to_reg(s, tm.tm_min);
    s->cmos[REG_HOUR] = rtc_hour_to_reg(s, tm.tm_hour);
    s->cmos[REG_WDAY] = rtc_to_reg(s, tm.tm_wday + 1);
    s->cmos[REG_MDAY] = rtc_to_reg(s, tm.tm_mday);
    s->cmos[REG_MONTH] = rtc_to_reg(s, tm.tm_mon + 1);
    s->cmos[REG_YEAR] = rtc_to_reg(s, year % 100);
    s->cmos[RTC_CMOS_CENTURY] = rtc_to_reg(s, (year / 100) % 100);
}

/* Decodes whatever the time registers hold; out-of-range fields carry
 * over (month 13 is January of the next year), as timegm does. */
static int64_t rtc_regs_to_time(const RTCState *s)
{
    struct tm tm = { 0 };
    tm.tm_sec = rtc_from_reg(s, s->cmos[REG_SEC]);
    tm.tm_min = rtc_from_reg(s, s->cmos[REG_MIN]);
    tm.tm_hour = rtc_hour_from_reg(s, s->cmos[REG_HOUR]);
    tm.tm_mday = rtc_from_reg(s, s->cmos[REG_MDAY]);
    tm.tm_mon = rtc_from_reg(s, s->cmos[REG_MONTH]) - 1;
    tm.tm_year = rtc_from_reg(s, s->cmos[RTC_CMOS_CENTURY]) * 100 +
                 rtc_from_reg(s, s->cmos[REG_YEAR]) - 1900;
    return rtc_clamp_time(timegm(&tm));
}

static int64_t rtc_current_time(const RTCState *s, int64_t now)
{
    return rtc_clamp_time(s->base_time + rtc_seconds_since_base(s, now));
}

static bool rtc_is_time_reg(int reg)
{
    switch (reg) {
    case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
    case REG_MDAY: case REG_MONTH: case REG_YEAR: case RTC_CMOS_CENTURY:
        return true;
    default:
        return false;
    }
}

/* Updates stop: the registers keep the time they show now. */
static void rtc_freeze(RTCState *s, int64_t now)
{
    rtc_time_to_regs(s, rtc_current_time(s, now));
}

/* Updates resume from the registers' contents; the divider keeps its
 * phase, so the next update comes at the next boundary. */
static void rtc_unfreeze(RTCState *s, int64_t now)
{
    s->base_ns += rtc_seconds_since_base(s, now) * NS_PER_SEC;
    s->base_time = rtc_regs_to_time(s);
}

/* Interrupt flags --------------------------------------------------------- */

static bool rtc_alarm_matches(const RTCState *s, int64_t time)
{
    int64_t sod = time % 86400;
    if (sod < 0) {
        sod += 86400;
    }
    uint8_t now_regs[3] = {
        rtc_to_reg(s, sod % 60),
        rtc_to_reg(s, (sod / 60) % 60),
        rtc_hour_to_reg(s, sod / 3600),
    };
    const uint8_t alarm[3] = {
        s->cmos[REG_SEC_ALARM], s->cmos[REG_MIN_ALARM], s->cmos[REG_HOUR_ALARM],
    };
    for (int i = 0; i < 3; i++) {
        if ((alarm[i] & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm[i] != now_regs[i]) {
            return false;
        }
    }
    return true;
}

/* Sets PF, UF and AF for what happened in (last_eval_ns, now]. */
static void rtc_eval_flags(RTCState *s, int64_t now)
{
    int64_t last = s->last_eval_ns;
    if (now <= last) {
        return;
    }
    int64_t period = rtc_periodic_ticks(s);
    if (period &&
        floor_div(rtc_divider_ticks(s, now), period) >
        floor_div(rtc_divider_ticks(s, last), period)) {
        s->flags |= C_PF;
    }
    if (rtc_updating(s)) {
        int64_t k0 = rtc_seconds_since_base(s, last);
        int64_t k1 = rtc_seconds_since_base(s, now);
        if (k1 > k0) {
            s->flags |= C_UF;
            /* Alarms compare hours, minutes and seconds: one day of update
             * cycles covers every case. */
            int64_t first = MAX(k0 + 1, k1 - 86400 + 1);
            for (int64_t k = first; k <= k1 && !(s->flags & C_AF); k++) {
                if (rtc_alarm_matches(s, s->base_time + k)) {
                    s->flags |= C_AF;
                }
            }
        }
    }
    s->last_eval_ns = now;
}

static bool rtc_irqf(const RTCState *s)
{
    return s->flags & s->cmos[REG_B] & (C_PF | C_AF | C_UF) & (B_PIE | B_AIE | B_UIE);
}

/* The next virtual time at which an enabled interrupt could assert. */
static void rtc_arm_timer(RTCState *s, int64_t now)
{
    int64_t next = INT64_MAX;
    uint8_t b = s->cmos[REG_B];
    if (!rtc_irqf(s)) {
        int64_t period = rtc_periodic_ticks(s);
        if ((b & B_PIE) && period) {
            int64_t k = floor_div(rtc_divider_ticks(s, now), period) + 1;
            next = MIN(next, rtc_divider_tick_ns(s, k * period));
        }
        if ((b & (B_UIE | B_AIE)) && rtc_updating(s)) {
            int64_t k = rtc_seconds_since_base(s, now) + 1;
            next = MIN(next, s->base_ns + k * NS_PER_SEC);
        }
    }
    if (next == INT64_MAX) {
        timer_del(s->timer);
    } else {
        timer_mod_ns(s->timer, next);
    }
}

static void rtc_update_irq(RTCState *s, int64_t now)
{
    irq_set(s->irq, rtc_irqf(s));
    rtc_arm_timer(s, now);
}

static void rtc_timer_cb(void *opaque)
{
    RTCState *s = opaque;
    int64_t now = rtc_now();
    rtc_eval_flags(s, now);
    rtc_update_irq(s, now);
}

/* Register access --------------------------------------------------------- */

static uint8_t rtc_read_reg(RTCState *s, int reg)
{
    int64_t now = rtc_now();
    if (rtc_is_time_reg(reg) && rtc_updating(s)) {
        rtc_time_to_regs(s, rtc_current_time(s, now));
        return s->cmos[reg];
    }
    switch (reg) {
    case REG_A: {
        uint8_t val = s->cmos[REG_A] & ~A_UIP;
        if (rtc_updating(s)) {
            int64_t phase = (now - s->base_ns) % NS_PER_SEC;
            if (phase < 0) {
                phase += NS_PER_SEC;
            }
            if (phase >= NS_PER_SEC - UIP_WINDOW_NS) {
                val |= A_UIP;
            }
        }
        return val;
    }
    case REG_C: {
        rtc_eval_flags(s, now);
        uint8_t val = s->flags | (rtc_irqf(s) ? C_IRQF : 0);
        s->flags = 0;
        rtc_update_irq(s, now);
        return val;
    }
    case REG_D:
        return D_VRT;
    default:
        return s->cmos[reg];
    }
}

static void rtc_write_reg(RTCState *s, int reg, uint8_t val)
{
    int64_t now = rtc_now();
    rtc_eval_flags(s, now);

    if (rtc_is_time_reg(reg)) {
        if (rtc_updating(s)) {
            /* Change one field of the running time. */
            rtc_time_to_regs(s, rtc_current_time(s, now));
            s->cmos[reg] = val;
            rtc_unfreeze(s, now);
        } else {
            s->cmos[reg] = val;
        }
    } else if (reg == REG_A || reg == REG_B) {
        /* While updates run the time is abstract and a mode change only
         * changes how registers present it. Stopping updates leaves the
         * registers encoded in the old mode, as the chip does; resuming
         * decodes them in the new one. */
        bool was_updating = rtc_updating(s);
        bool was_running = rtc_divider_running(s);
        if (was_updating) {
            rtc_freeze(s, now);
        }
        s->cmos[reg] = reg == REG_A ? val & ~A_UIP : val;
        if (!was_running && rtc_divider_running(s)) {
            /* Released from reset: the first update comes 500 ms later. */
            s->base_ns = now - NS_PER_SEC / 2;
        }
        if (!was_updating && rtc_updating(s)) {
            rtc_unfreeze(s, now);
        }
    } else if (reg == REG_C || reg == REG_D) {
        /* read-only */
    } else {
        s->cmos[reg] = val;
    }
    rtc_update_irq(s, now);
}

static uint64_t rtc_ioport_read(void *opaque, uint64_t addr, unsigned size)
{
    RTCState *s = opaque;
    if (addr == 0) {
        return 0xff;    /* the index register is write-only */
    }
    return rtc_read_reg(s, s->index);
}

static void rtc_ioport_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    RTCState *s = opaque;
    if (addr == 0) {
        s->index = val & 0x7f;
        s->nmi_masked = val & 0x80;
    } else {
        rtc_write_reg(s, s->index, val);
    }
}

static const MemoryRegionOps rtc_ops = {
    .read = rtc_ioport_read, .write = rtc_ioport_write,
    .min_access_size = 1, .max_access_size = 1,
};

/* Public API ---------------------------------------------------------------- */

void rtc_set_time(RTCState *s, int64_t seconds)
{
    int64_t now = rtc_now();
    rtc_eval_flags(s, now);
    seconds = rtc_clamp_time(seconds);
    if (rtc_updating(s)) {
        s->base_ns += rtc_seconds_since_base(s, now) * NS_PER_SEC;
        s->base_time = seconds;
    } else {
        rtc_time_to_regs(s, seconds);
    }
    rtc_update_irq(s, now);
}

int64_t rtc_get_time(RTCState *s)
{
    int64_t now = rtc_now();
    return rtc_updating(s) ? rtc_current_time(s, now) : rtc_regs_to_time(s);
}

void rtc_set_memory(RTCState *s, int addr, uint8_t val)
{
    if (addr > REG_D && addr < RTC_CMOS_SIZE && addr != RTC_CMOS_CENTURY) {
        s->cmos[addr] = val;
    }
}

uint8_t rtc_get_memory(RTCState *s, int addr)
{
    if (addr < 0 || addr >= RTC_CMOS_SIZE) {
        return 0xff;
    }
    return rtc_read_reg(s, addr);
}

static void rtc_set_word(RTCState *s, int addr, uint64_t val)
{
    val = MIN(val, 0xffff);
    s->cmos[addr] = val;
    s->cmos[addr + 1] = val >> 8;
}

void rtc_set_ram_size(RTCState *s, uint64_t below_4g, uint64_t above_4g)
{
    rtc_set_word(s, 0x15, 640);
    uint64_t ext_kb = below_4g > 1 * MiB ? (below_4g - 1 * MiB) / KiB : 0;
    rtc_set_word(s, 0x17, ext_kb);
    rtc_set_word(s, 0x30, ext_kb);
    uint64_t above_16m = below_4g > 16 * MiB ? (below_4g - 16 * MiB) / (64 * KiB) : 0;
    rtc_set_word(s, 0x34, above_16m);
    uint64_t high = MIN(above_4g / (64 * KiB), 0xffffff);
    s->cmos[0x5b] = high;
    s->cmos[0x5c] = high >> 8;
    s->cmos[0x5d] = high >> 16;
}

int rtc_set_boot_order(RTCState *s, const char *order, bool floppy_signature_check,
                       Error **errp)
{
    uint8_t dev[3] = { 0, 0, 0 };
    size_t n = strlen(order);
    if (n > 3) {
        error_setg(errp, "Too many boot devices in '%s' (at most 3)", order);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        switch (order[i]) {
        case 'a': case 'b': dev[i] = 1; break;
        case 'c': dev[i] = 2; break;
        case 'd': dev[i] = 3; break;
        case 'n': dev[i] = 4; break;
        default:
            error_setg(errp, "Invalid boot device '%c' in '%s'", order[i], order);
            return -EINVAL;
        }
    }
    s->cmos[0x3d] = dev[1] << 4 | dev[0];
    s->cmos[0x38] = dev[2] << 4 | (floppy_signature_check ? 0 : 1);
    return 0;
}

void rtc_set_equipment(RTCState *s, int floppy_a, int floppy_b, bool fpu, bool ps2_mouse)
{
    int nfloppies = (floppy_a > 0) + (floppy_b > 0);
    s->cmos[RTC_CMOS_FLOPPY_TYPES] = (MAX(floppy_a, 0) & 15) << 4 | (MAX(floppy_b, 0) & 15);
    uint8_t eq = 0;     /* bits 5:4 = 00: EGA/VGA */
    if (nfloppies) {
        eq |= 0x01 | (nfloppies - 1) << 6;
    }
    if (fpu) {
        eq |= 0x02;
    }
    if (ps2_mouse) {
        eq |= 0x04;
    }
    s->cmos[RTC_CMOS_EQUIPMENT] = eq;
}

void rtc_set_hd_geometry(RTCState *s, int disk, unsigned cylinders, unsigned heads,
                         unsigned sectors)
{
    if (disk < 0 || disk > 1) {
        return;
    }
    uint8_t *types = &s->cmos[0x12];
    int shift = disk ? 0 : 4;
    if (!cylinders) {
        *types &= ~(0x0f << shift);
        s->cmos[0x19 + disk] = 0;
        return;
    }
    *types |= 0x0f << shift;            /* "see the extended type byte" */
    s->cmos[0x19 + disk] = 47;          /* user-defined geometry */
    uint8_t *g = &s->cmos[disk ? 0x24 : 0x1b];
    cylinders = MIN(cylinders, 0xffff);
    g[0] = cylinders;
    g[1] = cylinders >> 8;
    g[2] = MIN(heads, 0xff);
    g[3] = 0xff;                        /* write precompensation: none */
    g[4] = 0xff;
    g[5] = 0xc0 | (heads > 8 ? 0x08 : 0);
    g[6] = cylinders;                   /* landing zone */
    g[7] = cylinders >> 8;
    g[8] = MIN(sectors, 0xff);
}

void rtc_set_cpu_count(RTCState *s, unsigned cpus)
{
    s->cmos[RTC_CMOS_CPU_COUNT] = cpus ? MIN(cpus - 1, 0xff) : 0;
}

void rtc_set_disk_translation(RTCState *s, int disk, int mode)
{
    if (disk < 0 || disk > 7) {
        return;
    }
    /* Two bits per disk, four disks per byte. */
    int addr = 0x39 + disk / 4;
    int shift = 2 * (disk % 4);
    s->cmos[addr] = (s->cmos[addr] & ~(3 << shift)) | ((mode & 3) << shift);
}

bool rtc_nmi_masked(const RTCState *s)
{
    return s->nmi_masked;
}

/* Lifecycle ------------------------------------------------------------------ */

void rtc_reset(RTCState *s)
{
    int64_t now = rtc_now();
    rtc_eval_flags(s, now);
    s->cmos[REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    s->flags = 0;
    rtc_update_irq(s, now);
}

RTCState *rtc_new(MemoryRegion *io, IRQLine *irq, RTCBase base)
{
    RTCState *s = XNEW(RTCState);
    s->irq = irq;
    s->timer = timer_new_ns(CLOCK_VIRTUAL, rtc_timer_cb, s);
    s->cmos[REG_A] = DV_32KHZ << A_DV_SHIFT | 0x06;   /* 32 kHz, 1024 Hz rate */
    s->cmos[REG_B] = B_24H;
    s->cmos[REG_D] = D_VRT;

    int64_t now = rtc_now();
    int64_t host_ns = clock_get_ns(CLOCK_HOST);
    time_t host = host_ns / NS_PER_SEC;
    int64_t seconds = host;
    if (base == RTC_BASE_LOCALTIME) {
        struct tm tm;
        if (localtime_r(&host, &tm)) {
            seconds = timegm(&tm);
        }
    }
    /* Line the update cycle up with the host's second. */
    s->base_ns = now - host_ns % NS_PER_SEC;
    s->base_time = rtc_clamp_time(seconds);
    s->last_eval_ns = now;
    rtc_time_to_regs(s, s->base_time);

    s->mr = memory_region_new_io("rtc", 2, &rtc_ops, s);
    memory_region_add_subregion(io, 0x70, s->mr, 0);
    rtc_update_irq(s, now);
    return s;
}

void rtc_free(RTCState *s)
{
    if (!s) {
        return;
    }
    memory_region_free(s->mr);
    timer_free(s->timer);
    free(s);
}

/* Migration ------------------------------------------------------------------ */

/* Virtual times start at 0 and stay far below 2^61 ns (73 years);
 * anything else would overflow the interval arithmetic. */
static bool rtc_times_valid(const RTCState *s)
{
    const int64_t limit = INT64_C(1) << 61;
    return s->base_ns >= -limit && s->base_ns <= limit &&
           s->last_eval_ns >= -limit && s->last_eval_ns <= limit;
}

static int rtc_check(const void *loaded, int version_id, Error **errp)
{
    const RTCState *s = loaded;
    if (!rtc_times_valid(s)) {
        error_setg(errp, "mc146818rtc: clock reference times out of range");
        return -EINVAL;
    }
    return 0;
}

static int rtc_post_load(void *opaque, int version_id)
{
    RTCState *s = opaque;
    int ret = 0;
    if (!rtc_times_valid(s)) {
        /* Only reachable without the validation pass: stay safe. */
        s->base_ns = s->last_eval_ns = rtc_now();
        ret = -EINVAL;
    }
    s->index &= 0x7f;
    s->flags &= C_PF | C_AF | C_UF;
    s->base_time = rtc_clamp_time(s->base_time);
    irq_set(s->irq, rtc_irqf(s));
    return ret;
}

const VMStateDescription vmstate_mc146818rtc = {
    .name = "mc146818rtc",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = rtc_check,
    .post_load = rtc_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BUFFER(cmos, RTCState),
        VMSTATE_UINT8(index, RTCState),
        VMSTATE_BOOL(nmi_masked, RTCState),
        VMSTATE_UINT8(flags, RTCState),
        VMSTATE_INT64(base_time, RTCState),
        VMSTATE_INT64(base_ns, RTCState),
        VMSTATE_INT64(last_eval_ns, RTCState),
        VMSTATE_TIMER_PTR(timer, RTCState),
        VMSTATE_END_OF_LIST()
    },
};
