/*
 * 16550A UART.
 *
 * Registers (offset from base; DLAB = LCR bit 7):
 *   0  RBR (read) / THR (write)       DLL when DLAB
 *   1  IER                            DLM when DLAB
 *   2  IIR (read) / FCR (write)
 *   3  LCR   4 MCR   5 LSR   6 MSR   7 SCR
 *
 * Transmit model: a byte written to THR is handed to the chardev at once
 * (so output is never delayed or lost), but the transmitter keeps
 * counting it as occupying the FIFO/THR and then the shift register for
 * one character time each. LSR.THRE/TEMT and the THRE interrupt follow
 * that count, computed from the virtual clock when needed, with a timer
 * only to raise the THRE interrupt. The character time is the wire time
 * for the programmed divisor and frame format, divided by
 * SERIAL_TX_SPEEDUP and capped: guests see the relative timing of the
 * baud rates without waiting 87 us per byte at 115200 baud.
 *
 * Receive model: a 16-byte FIFO (1 byte when FIFOs are off) filled from
 * the chardev, which asks can_read() first, so input waits in the host
 * instead of overrunning. The character-timeout interrupt fires after
 * four (scaled) character times without FIFO activity.
 */
#include "hw/serial.h"
#include "util/timer.h"

/* IER */
#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* transmitter holding register empty */
#define IER_ELSI  0x04   /* receiver line status */
#define IER_EDSSI 0x08   /* modem status */

/* IIR interrupt identification, by priority */
#define IIR_NONE    0x01
#define IIR_RLS     0x06
#define IIR_RDA     0x04
#define IIR_CTI     0x0c
#define IIR_THRE    0x02
#define IIR_MSR     0x00
#define IIR_FIFO_ON 0xc0

/* FCR */
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA      0x08
#define FCR_TRIGGER  0xc0

/* LCR */
#define LCR_WLS    0x03
#define LCR_STB    0x04
#define LCR_PEN    0x08
#define LCR_BREAK  0x40
#define LCR_DLAB   0x80

/* MCR */
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

/* LSR */
#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_RXFE 0x80   /* error in receive FIFO */
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

/* MSR */
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTAS 0x0f

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ 1843200   /* the PC's 1.8432 MHz crystal, /16 per bit */

/* Character time = wire time / SERIAL_TX_SPEEDUP, at most SERIAL_CHAR_NS_MAX:
 * 1.4 us per byte at 115200 8N1, 16 us at 9600. Fast enough that kernel
 * consoles polling THRE per byte cost little, slow enough that THRE and
 * TEMT are visibly distinct states. */
#define SERIAL_TX_SPEEDUP 64
#define SERIAL_CHAR_NS_MAX 20000

struct SerialState {
    /* Registers */
    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t rbr;                 /* last byte read; returned again when empty */

    /* Receive FIFO (depth 1 when FIFOs are disabled). */
    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;

    /* Interrupt conditions that latch until cleared by an access. */
    bool thr_ipending;           /* THRE: cleared by IIR read or THR write */
    bool timeout_ipending;       /* character timeout: cleared by RBR read */

    /* Transmitter: bytes in THR/FIFO plus the shift register, and the
     * virtual time at which the last of them is fully shifted out. */
    uint8_t tx_count;
    int64_t tx_done_ns;

    Timer *thre_timer;           /* THRE interrupt when the FIFO drains */
    Timer *rx_timeout_timer;

    MemoryRegion *mr;
    IRQLine *irq;
    Chardev *chr;
    ChardevHandlers chr_handlers;
};

static int64_t serial_now(void)
{
    return clock_get_ns(CLOCK_VIRTUAL);
}

static bool serial_fifo_enabled(const SerialState *s)
{
    return s->fcr & FCR_ENABLE;
}

static bool serial_loopback(const SerialState *s)
{
    return s->mcr & MCR_LOOP;
}

/* Duration of one character on our (scaled) wire. */
static int64_t serial_char_ns(const SerialState *s)
{
    unsigned data_bits = 5 + (s->lcr & LCR_WLS);
    /* Count in half bits: 1.5 stop bits exist for 5-bit frames. */
    unsigned half_bits = 2 * (1 + data_bits + ((s->lcr & LCR_PEN) ? 1 : 0));
    if (s->lcr & LCR_STB) {
        half_bits += data_bits == 5 ? 3 : 4;
    } else {
        half_bits += 2;
    }
    uint64_t divisor = s->divisor ? s->divisor : 0x10000;
    uint64_t wire_ns = (uint64_t)half_bits * divisor * 16 * NANOSECONDS_PER_SECOND
                       / (2 * UART_CLOCK_HZ);
    int64_t ns = wire_ns / SERIAL_TX_SPEEDUP;
    return MAX(1, MIN(ns, SERIAL_CHAR_NS_MAX));
}

static unsigned serial_tx_capacity(const SerialState *s)
{
    /* FIFO (or THR) plus the shift register. */
    return (serial_fifo_enabled(s) ? UART_FIFO_SIZE : 1) + 1;
}

/* Bytes the transmitter still holds at 'now'. */
static unsigned serial_tx_pending(const SerialState *s, int64_t now)
{
    if (s->tx_count == 0 || now >= s->tx_done_ns) {
        return 0;
    }
    int64_t char_ns = serial_char_ns(s);
    uint64_t left = s->tx_done_ns - now;
    uint64_t n = (left + char_ns - 1) / char_ns;
    return MIN(n, s->tx_count);
}

/* Folds elapsed time into tx_count (before the character time changes). */
static void serial_tx_sync(SerialState *s, int64_t now)
{
    s->tx_count = serial_tx_pending(s, now);
    if (s->tx_count == 0) {
        s->tx_done_ns = now;
    }
}

/* Re-bases the transmitter after the character time changed. */
static void serial_tx_retime(SerialState *s, int64_t now)
{
    s->tx_done_ns = now + (int64_t)s->tx_count * serial_char_ns(s);
}

static bool serial_thr_empty(const SerialState *s, int64_t now)
{
    return serial_tx_pending(s, now) <= 1;
}

static void serial_rx_clear(SerialState *s)
{
    s->rx_head = 0;
    s->rx_count = 0;
    s->timeout_ipending = false;
    s->lsr &= ~(LSR_DR | LSR_RXFE);
    timer_del(s->rx_timeout_timer);
}

static unsigned serial_rx_trigger(const SerialState *s)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return levels[(s->fcr & FCR_TRIGGER) >> 6];
}

/* The highest-priority pending interrupt, as IIR bits 3:0. */
static uint8_t serial_iir_source(const SerialState *s)
{
    if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS)) {
        return IIR_RLS;
    }
    if (s->ier & IER_ERBFI) {
        if (serial_fifo_enabled(s)) {
            if (s->rx_count >= serial_rx_trigger(s)) {
                return IIR_RDA;
            }
            if (s->timeout_ipending) {
                return IIR_CTI;
            }
        } else if (s->rx_count) {
            return IIR_RDA;
        }
    }
    if ((s->ier & IER_ETBEI) && s->thr_ipending) {
        return IIR_THRE;
    }
    if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS)) {
        return IIR_MSR;
    }
    return IIR_NONE;
}

static void serial_update_irq(SerialState *s)
{
    /* PC boards drive the IRQ line only when OUT2 is set; loopback
     * forces the OUT2 pin inactive. */
    bool gated = (s->mcr & MCR_OUT2) && !serial_loopback(s);
    irq_set(s->irq, gated && serial_iir_source(s) != IIR_NONE);
}

/* Arms the THRE timer for the moment the FIFO empties, if that matters. */
static void serial_arm_thre_timer(SerialState *s, int64_t now)
{
    if ((s->ier & IER_ETBEI) && serial_tx_pending(s, now) >= 2) {
        timer_mod_ns(s->thre_timer, s->tx_done_ns - serial_char_ns(s));
    } else {
        timer_del(s->thre_timer);
    }
}

static void serial_thre_timer_cb(void *opaque)
{
    SerialState *s = opaque;
    int64_t now = serial_now();
    if (serial_thr_empty(s, now)) {
        s->thr_ipending = true;
        serial_update_irq(s);
    } else {
        serial_arm_thre_timer(s, now);
    }
}

static void serial_arm_rx_timeout(SerialState *s, int64_t now)
{
    if (serial_fifo_enabled(s) && s->rx_count) {
        timer_mod_ns(s->rx_timeout_timer, now + 4 * serial_char_ns(s));
    } else {
        timer_del(s->rx_timeout_timer);
    }
}

static void serial_rx_timeout_cb(void *opaque)
{
    SerialState *s = opaque;
    if (serial_fifo_enabled(s) && s->rx_count) {
        s->timeout_ipending = true;
        serial_update_irq(s);
    }
}

/* One received character (from the chardev, or looped back). */
static void serial_rx_push(SerialState *s, uint8_t byte, bool is_break)
{
    unsigned cap = serial_fifo_enabled(s) ? UART_FIFO_SIZE : 1;
    if (s->rx_count >= cap) {
        s->lsr |= LSR_OE;
        if (!serial_fifo_enabled(s)) {
            /* The holding register is overwritten by the new character. */
            s->rx_fifo[s->rx_head] = byte;
        }
        /* With FIFOs on, the character in the shift register is lost. */
    } else {
        s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = byte;
        s->rx_count++;
    }
    s->lsr |= LSR_DR;
    if (is_break) {
        s->lsr |= LSR_BI;
        if (serial_fifo_enabled(s)) {
            s->lsr |= LSR_RXFE;
        }
    }
    s->timeout_ipending = false;
    serial_arm_rx_timeout(s, serial_now());
}

/* Modem status inputs: loopback wires them to MCR outputs; otherwise the
 * host end of the cable is always there (CTS, DSR, DCD on, no ring). */
static void serial_update_msr(SerialState *s)
{
    uint8_t lines;
    if (serial_loopback(s)) {
        lines = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
                ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
                ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
                ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
    } else {
        lines = MSR_CTS | MSR_DSR | MSR_DCD;
    }
    uint8_t changed = (s->msr ^ lines) & 0xf0;
    uint8_t deltas = s->msr & MSR_DELTAS;
    if (changed & MSR_CTS) {
        deltas |= MSR_DCTS;
    }
    if (changed & MSR_DSR) {
        deltas |= MSR_DDSR;
    }
    if (changed & MSR_DCD) {
        deltas |= MSR_DDCD;
    }
    if ((changed & MSR_RI) && !(lines & MSR_RI)) {
        deltas |= MSR_TERI;     /* trailing edge of ring only */
    }
    s->msr = lines | deltas;
}

static void serial_write_thr(SerialState *s, uint8_t val)
{
    int64_t now = serial_now();
    serial_tx_sync(s, now);
    s->thr_ipending = false;

    if (serial_loopback(s)) {
        serial_rx_push(s, val, false);
    } else if (s->chr) {
        chardev_write(s->chr, &val, 1);
    }

    if (s->tx_count == 0) {
        s->tx_count = 1;
        s->tx_done_ns = now + serial_char_ns(s);
    } else if (s->tx_count < serial_tx_capacity(s)) {
        s->tx_count++;
        s->tx_done_ns += serial_char_ns(s);
    }
    /* else: the guest overran the transmit FIFO. A chip would drop the
     * byte; it has already gone to the host, which is kinder. */

    if (serial_thr_empty(s, now)) {
        /* The byte went straight into the shift register. */
        s->thr_ipending = true;
    }
    serial_arm_thre_timer(s, now);
    serial_update_irq(s);
}

static void serial_write_ier(SerialState *s, uint8_t val)
{
    int64_t now = serial_now();
    uint8_t old = s->ier;
    s->ier = val & 0x0f;
    /* Enabling the THRE interrupt while THR is empty raises it at once;
     * Linux's 8250 driver tests for exactly this at startup. */
    if ((s->ier & IER_ETBEI) && !(old & IER_ETBEI) && serial_thr_empty(s, now)) {
        s->thr_ipending = true;
    }
    serial_arm_thre_timer(s, now);
    serial_update_irq(s);
}

static void serial_write_fcr(SerialState *s, uint8_t val)
{
    int64_t now = serial_now();
    serial_tx_sync(s, now);
    bool was_empty = serial_thr_empty(s, now);

    if ((val ^ s->fcr) & FCR_ENABLE) {
        /* Switching FIFO mode resets both FIFOs. */
        serial_rx_clear(s);
        s->tx_count = MIN(s->tx_count, 1);
    }
    if (val & FCR_ENABLE) {
        if (val & FCR_CLEAR_RX) {
            serial_rx_clear(s);
        }
        if (val & FCR_CLEAR_TX) {
            s->tx_count = MIN(s->tx_count, 1);  /* the shift register finishes */
        }
        s->fcr = val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
    } else {
        s->fcr = 0;
    }
    serial_tx_retime(s, now);
    if (!was_empty && serial_thr_empty(s, now)) {
        s->thr_ipending = true;
    }
    serial_arm_thre_timer(s, now);
    serial_arm_rx_timeout(s, now);
    serial_update_irq(s);
}

static void serial_write_lcr(SerialState *s, uint8_t val)
{
    int64_t now = serial_now();
    serial_tx_sync(s, now);
    uint8_t old = s->lcr;
    s->lcr = val;
    if ((val & LCR_BREAK) && !(old & LCR_BREAK) && serial_loopback(s)) {
        /* A break on our own transmit line reaches our receiver. */
        serial_rx_push(s, 0, true);
    }
    serial_tx_retime(s, now);
    serial_arm_thre_timer(s, now);
    serial_update_irq(s);
}

static void serial_write_divisor(SerialState *s, uint16_t divisor)
{
    int64_t now = serial_now();
    serial_tx_sync(s, now);
    s->divisor = divisor;
    serial_tx_retime(s, now);
    serial_arm_thre_timer(s, now);
}

static void serial_write(void *opaque, uint64_t addr, uint64_t val64, unsigned size)
{
    SerialState *s = opaque;
    uint8_t val = val64;

    switch (addr & 7) {
    case 0:
        if (s->lcr & LCR_DLAB) {
            serial_write_divisor(s, (s->divisor & 0xff00) | val);
        } else {
            serial_write_thr(s, val);
        }
        break;
    case 1:
        if (s->lcr & LCR_DLAB) {
            serial_write_divisor(s, (s->divisor & 0x00ff) | (val << 8));
        } else {
            serial_write_ier(s, val);
        }
        break;
    case 2:
        serial_write_fcr(s, val);
        break;
    case 3:
        serial_write_lcr(s, val);
        break;
    case 4:
        s->mcr = val & 0x1f;
        serial_update_msr(s);
        serial_update_irq(s);
        break;
    case 5:
        /* LSR is read-only on the 16550A (writes are a factory test). */
        break;
    case 6:
        /* MSR is read-only. */
        break;
    case 7:
        s->scr = val;
        break;
    }
}

static uint8_t serial_read_rbr(SerialState *s)
{
    uint8_t val = s->rbr;
    if (s->rx_count) {
        val = s->rx_fifo[s->rx_head];
        s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
        s->rx_count--;
        s->rbr = val;
    }
    if (s->rx_count == 0) {
        s->lsr &= ~(LSR_DR | LSR_RXFE);
    }
    s->timeout_ipending = false;
    serial_arm_rx_timeout(s, serial_now());
    serial_update_irq(s);
    return val;
}

static uint8_t serial_read_lsr(SerialState *s)
{
    int64_t now = serial_now();
    unsigned pending = serial_tx_pending(s, now);
    uint8_t val = s->lsr & ~(LSR_THRE | LSR_TEMT);
    if (pending <= 1) {
        val |= LSR_THRE;
    }
    if (pending == 0) {
        val |= LSR_TEMT;
    }
    /* Reading LSR clears the error bits (and the RLS interrupt). */
    s->lsr &= ~(LSR_ERRORS | LSR_RXFE);
    serial_update_irq(s);
    return val;
}

static uint64_t serial_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t val = 0xff;

    switch (addr & 7) {
    case 0:
        val = (s->lcr & LCR_DLAB) ? (s->divisor & 0xff) : serial_read_rbr(s);
        break;
    case 1:
        val = (s->lcr & LCR_DLAB) ? (s->divisor >> 8) : s->ier;
        break;
    case 2: {
        uint8_t src = serial_iir_source(s);
        val = src | (serial_fifo_enabled(s) ? IIR_FIFO_ON : 0);
        if (src == IIR_THRE) {
            /* Reading IIR while THRE is the reported source clears it. */
            s->thr_ipending = false;
            serial_update_irq(s);
        }
        break;
    }
    case 3:
        val = s->lcr;
        break;
    case 4:
        val = s->mcr;
        break;
    case 5:
        val = serial_read_lsr(s);
        break;
    case 6:
        val = s->msr;
        s->msr &= ~MSR_DELTAS;
        serial_update_irq(s);
        break;
    case 7:
        val = s->scr;
        break;
    }
    return val;
}

static const MemoryRegionOps serial_ops = {
    .read = serial_read,
    .write = serial_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

/* Chardev frontend --------------------------------------------------- */

static int serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    if (serial_loopback(s)) {
        return 0;   /* the receiver listens to our own transmitter */
    }
    if (serial_fifo_enabled(s)) {
        return UART_FIFO_SIZE - s->rx_count;
    }
    return s->rx_count == 0 ? 1 : 0;
}

static void serial_receive(void *opaque, const uint8_t *buf, int len)
{
    SerialState *s = opaque;
    for (int i = 0; i < len; i++) {
        serial_rx_push(s, buf[i], false);
    }
    serial_update_irq(s);
}

static void serial_chr_event(void *opaque, int event)
{
    SerialState *s = opaque;
    if (event == CHR_EVENT_BREAK && !serial_loopback(s)) {
        serial_rx_push(s, 0, true);
        serial_update_irq(s);
    }
}

/* Lifecycle ---------------------------------------------------------- */

void serial_reset(SerialState *s)
{
    s->divisor = 12;    /* 9600 baud, what BIOSes program */
    s->ier = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->fcr = 0;
    s->lsr = 0;
    s->rbr = 0;
    s->msr = 0;
    serial_update_msr(s);
    s->msr &= ~MSR_DELTAS;
    serial_rx_clear(s);
    s->thr_ipending = false;
    s->tx_count = 0;
    s->tx_done_ns = serial_now();
    timer_del(s->thre_timer);
    serial_update_irq(s);
}

SerialState *serial_new(MemoryRegion *io, uint16_t base, IRQLine *irq, Chardev *chr)
{
    SerialState *s = XNEW(SerialState);
    s->irq = irq;
    s->chr = chr;
    s->thre_timer = timer_new_ns(CLOCK_VIRTUAL, serial_thre_timer_cb, s);
    s->rx_timeout_timer = timer_new_ns(CLOCK_VIRTUAL, serial_rx_timeout_cb, s);
    serial_reset(s);
    s->mr = memory_region_new_io("serial", 8, &serial_ops, s);
    memory_region_add_subregion(io, base, s->mr, 0);
    if (chr) {
        s->chr_handlers = (ChardevHandlers) {
            .can_read = serial_can_receive,
            .read = serial_receive,
            .event = serial_chr_event,
            .opaque = s,
        };
        chardev_set_handlers(chr, &s->chr_handlers);
    }
    return s;
}

void serial_free(SerialState *s)
{
    if (!s) {
        return;
    }
    if (s->chr) {
        chardev_remove_handlers(s->chr, s);   /* other mux frontends stay */
    }
    memory_region_free(s->mr);
    timer_free(s->thre_timer);
    timer_free(s->rx_timeout_timer);
    free(s);
}

/* Migration ---------------------------------------------------------- */

/* The stream is untrusted: indexes and counts must fit the arrays and
 * the FIFO mode. */
static bool serial_state_valid(const SerialState *s)
{
    unsigned rx_cap = (s->fcr & FCR_ENABLE) ? UART_FIFO_SIZE : 1;
    /* Virtual times stay far below 2^61 ns; this keeps tx_done_ns plus
     * a few character times from overflowing. */
    const int64_t time_limit = INT64_C(1) << 61;
    return s->rx_count <= rx_cap && s->rx_head < UART_FIFO_SIZE &&
           s->tx_count <= rx_cap + 1 &&
           s->tx_done_ns >= -time_limit && s->tx_done_ns <= time_limit;
}

static int serial_check(const void *loaded, int version_id, Error **errp)
{
    const SerialState *s = loaded;
    if (!serial_state_valid(s)) {
        error_setg(errp, "serial: FIFO counts out of range (rx %u at %u, tx %u, FCR 0x%02x)",
                   s->rx_count, s->rx_head, s->tx_count, s->fcr);
        return -EINVAL;
    }
    return 0;
}

static int serial_post_load(void *opaque, int version_id)
{
    SerialState *s = opaque;
    int ret = 0;
    if (!serial_state_valid(s)) {
        /* Only reachable without the validation pass: stay safe anyway. */
        serial_rx_clear(s);
        s->tx_count = 0;
        s->tx_done_ns = serial_now();
        ret = -EINVAL;
    }
    s->ier &= 0x0f;
    s->mcr &= 0x1f;
    s->fcr &= (s->fcr & FCR_ENABLE) ? (FCR_ENABLE | FCR_DMA | FCR_TRIGGER) : 0;
    serial_update_irq(s);
    return ret;
}

const VMStateDescription vmstate_serial = {
    .name = "serial",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = serial_check,
    .post_load = serial_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(divisor, SerialState),
        VMSTATE_UINT8(ier, SerialState),
        VMSTATE_UINT8(lcr, SerialState),
        VMSTATE_UINT8(mcr, SerialState),
        VMSTATE_UINT8(lsr, SerialState),
        VMSTATE_UINT8(msr, SerialState),
        VMSTATE_UINT8(scr, SerialState),
        VMSTATE_UINT8(fcr, SerialState),
        VMSTATE_UINT8(rbr, SerialState),
        VMSTATE_BUFFER(rx_fifo, SerialState),
        VMSTATE_UINT8(rx_head, SerialState),
        VMSTATE_UINT8(rx_count, SerialState),
        VMSTATE_BOOL(thr_ipending, SerialState),
        VMSTATE_BOOL(timeout_ipending, SerialState),
        VMSTATE_UINT8(tx_count, SerialState),
        VMSTATE_INT64(tx_done_ns, SerialState),
        VMSTATE_TIMER_PTR(thre_timer, SerialState),
        VMSTATE_TIMER_PTR(rx_timeout_timer, SerialState),
        VMSTATE_END_OF_LIST()
    },
};
