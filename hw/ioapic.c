/*
 * 82093AA I/O APIC: redirection table, edge and level inputs, remote IRR
 * and EOI handling. Delivery is a callback into the local APIC side.
 */
#include "hw/ioapic.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOEOI    0x40

#define REG_ID      0x00
#define REG_VERSION 0x01
#define REG_ARB     0x02
#define REG_REDTBL  0x10

/* Writable bits of the low dword: vector, delivery mode, destination
 * mode, polarity, trigger mode, mask. */
#define REDTBL_LO_WMASK 0x0001afffULL
#define REDTBL_HI_WMASK 0xff000000ULL

static void ioapic_service_once(IOAPICState *s)
{
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint32_t mask = 1u << pin;
        uint64_t *e = &s->ioredtbl[pin];
        if (!(s->irr & mask) || (*e & IOAPIC_LVT_MASKED)) {
            continue;
        }
        bool level = *e & IOAPIC_LVT_TRIGGER_LEVEL;
        if (level) {
            if (*e & IOAPIC_LVT_REMOTE_IRR) {
                continue;
            }
            *e |= IOAPIC_LVT_REMOTE_IRR;
        } else {
            s->irr &= ~mask;
        }
        if (s->deliver) {
            s->deliver(s->opaque, *e & IOAPIC_LVT_VECTOR,
                       (*e >> IOAPIC_LVT_DELIV_MODE_SHIFT) & 7,
                       *e >> IOAPIC_LVT_DEST_SHIFT,
                       *e & IOAPIC_LVT_DEST_MODE, level);
        }
    }
}

/*
 * The delivery callback may come back (an EOI from a local APIC that
 * acknowledges at once): requests made meanwhile are served by the
 * outer call, in a bounded number of rounds, never by recursion. A line
 * that stays asserted and is acknowledged at once is a storm; it gets
 * served again at its next event.
 */
static void ioapic_service(IOAPICState *s)
{
    if (s->in_service) {
        s->service_again = true;
        return;
    }
    s->in_service = true;
    int rounds = 0;
    do {
        s->service_again = false;
        ioapic_service_once(s);
    } while (s->service_again && ++rounds < 16);
    s->in_service = false;
}

static void ioapic_set_irq(void *opaque, int pin, int level)
{
    IOAPICState *s = opaque;
    if (pin < 0 || pin >= IOAPIC_NUM_PINS) {
        return;
    }
    uint32_t mask = 1u << pin;
    bool was = s->level & mask;
    uint64_t e = s->ioredtbl[pin];
    s->level = level ? (s->level | mask) : (s->level & ~mask);
    if (e & IOAPIC_LVT_TRIGGER_LEVEL) {
        if (level) {
            s->irr |= mask;
            ioapic_service(s);
        } else {
            s->irr &= ~mask;
        }
    } else if (level && !was && !(e & IOAPIC_LVT_MASKED)) {
        s->irr |= mask;
        ioapic_service(s);
    }
}

void ioapic_eoi_broadcast(IOAPICState *s, uint8_t vector)
{
    bool again = false;
    for (int pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t *e = &s->ioredtbl[pin];
        if ((*e & IOAPIC_LVT_VECTOR) != vector || !(*e & IOAPIC_LVT_REMOTE_IRR)) {
            continue;
        }
        *e &= ~IOAPIC_LVT_REMOTE_IRR;
        again |= (s->irr & (1u << pin)) != 0;
    }
    if (again) {
        ioapic_service(s);
    }
}

static uint32_t ioapic_reg_read(IOAPICState *s)
{
    uint8_t r = s->ioregsel;
    switch (r) {
    case REG_ID:
        return (uint32_t)(s->id & 0x0f) << 24;
    case REG_VERSION:
        return ((IOAPIC_NUM_PINS - 1) << 16) | IOAPIC_VERSION;
    case REG_ARB:
        /* Loaded with the ID (QEMU answers the same). */
        return (uint32_t)(s->id & 0x0f) << 24;
    default:
        if (r >= REG_REDTBL && r < REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
            uint64_t e = s->ioredtbl[(r - REG_REDTBL) / 2];
            return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
    }
}

static void ioapic_reg_write(IOAPICState *s, uint32_t val)
{
    uint8_t r = s->ioregsel;
    if (r == REG_ID) {
        s->id = (val >> 24) & 0x0f;
        return;
    }
    if (r < REG_REDTBL || r >= REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        return;
    }
    int pin = (r - REG_REDTBL) / 2;
    uint64_t *e = &s->ioredtbl[pin];
    if (r & 1) {
        *e = (*e & 0xffffffffULL) | (((uint64_t)val << 32) & (REDTBL_HI_WMASK << 32));
        return;
    }
    bool was_level = *e & IOAPIC_LVT_TRIGGER_LEVEL;
    *e = (*e & ~REDTBL_LO_WMASK) | (val & REDTBL_LO_WMASK);
    if (!(*e & IOAPIC_LVT_TRIGGER_LEVEL)) {
        /* Remote IRR only has meaning for level-triggered entries, and an
         * asserted level is not an edge. */
        *e &= ~IOAPIC_LVT_REMOTE_IRR;
        if (was_level) {
            s->irr &= ~(1u << pin);
        }
    } else if (s->level & (1u << pin)) {
        /* A pin switched to level while asserted is pending. */
        s->irr |= 1u << pin;
    }
    /* Unmasking may release a pending request. */
    ioapic_service(s);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t off, unsigned size)
{
    IOAPICState *s = opaque;
    switch (off) {
    case IOREGSEL:
        return s->ioregsel;
    case IOWIN:
        return ioapic_reg_read(s);
    default:
        return 0;
    }
}

static void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IOAPICState *s = opaque;
    switch (off) {
    case IOREGSEL:
        s->ioregsel = val;
        break;
    case IOWIN:
        ioapic_reg_write(s, val);
        break;
    case IOEOI:
        ioapic_eoi_broadcast(s, val);
        break;
    default:
        break;
    }
}

static const MemoryRegionOps ioapic_ops = {
    .read = ioapic_mmio_read, .write = ioapic_mmio_write,
    .min_access_size = 4, .max_access_size = 4,
};

void ioapic_reset(IOAPICState *s)
{
    s->id = 0;
    s->ioregsel = 0;
    s->irr = 0;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->ioredtbl[i] = IOAPIC_LVT_MASKED;
    }
    /* Levels are the wires' business; keep them. */
}

IOAPICState *ioapic_new(MemoryRegion *sysmem, uint64_t base, IOAPICDeliverFn *deliver,
                        void *opaque)
{
    IOAPICState *s = XNEW(IOAPICState);
    s->deliver = deliver;
    s->opaque = opaque;
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        s->in[i] = irq_new(ioapic_set_irq, s, i);
    }
    s->mr = memory_region_new_io("ioapic", 0x1000, &ioapic_ops, s);
    if (sysmem) {
        memory_region_add_subregion(sysmem, base, s->mr, 1);
    }
    ioapic_reset(s);
    return s;
}

void ioapic_free(IOAPICState *s)
{
    if (!s) {
        return;
    }
    memory_region_free(s->mr);
    for (int i = 0; i < IOAPIC_NUM_PINS; i++) {
        irq_free(s->in[i]);
    }
    free(s);
}

IRQLine *ioapic_irq(IOAPICState *s, int pin)
{
    return (pin >= 0 && pin < IOAPIC_NUM_PINS) ? s->in[pin] : NULL;
}

static int ioapic_post_load(void *opaque, int version_id)
{
    IOAPICState *s = opaque;
    s->id &= 0x0f;
    return 0;
}

static int ioapic_check(const void *loaded, int version_id, Error **errp)
{
    const IOAPICState *s = loaded;
    if (s->id > 0x0f) {
        error_setg(errp, "IOAPIC: invalid ID %u", s->id);
        return -EINVAL;
    }
    return 0;
}

const VMStateDescription vmstate_ioapic = {
    .name = "ioapic",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = ioapic_check,
    .post_load = ioapic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(id, IOAPICState),
        VMSTATE_UINT8(ioregsel, IOAPICState),
        VMSTATE_UINT32(irr, IOAPICState),
        VMSTATE_UINT32(level, IOAPICState),
        VMSTATE_UINT64_ARRAY(ioredtbl, IOAPICState, IOAPIC_NUM_PINS),
        VMSTATE_END_OF_LIST()
    },
};
