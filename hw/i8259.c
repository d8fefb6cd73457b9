/*
 * 8259A programmable interrupt controller pair (Intel 8259A datasheet).
 *
 * Each chip: IRR latches requests (on a rising edge, or while the line is
 * high in level mode), IMR masks them, ISR records what is in service.
 * Priorities rotate: 'priority_base' is the IR with the highest priority.
 *
 * Port A0=0 writes: ICW1 (bit 4 set), OCW2 (bits 4,3 = 00), OCW3 (01).
 * Port A0=1 writes: ICW2..ICW4 during initialisation, else OCW1 (IMR).
 * Reads: IRR or ISR (OCW3) at A0=0, IMR at A0=1; a pending poll command
 * turns the next read of either port into an acknowledge.
 *
 * Edge-triggered requests stay latched when the line falls before the
 * acknowledge: devices here pulse lines in zero time, and a real 8259A's
 * "spurious IRQ7 when the request vanishes" would only lose interrupts.
 */
#include "hw/i8259.h"

/* ICW1 */
#define ICW1_IC4  0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
/* ICW4 */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW3 */
#define OCW3_RIS  0x01
#define OCW3_RR   0x02
#define OCW3_POLL 0x04
#define OCW3_SEL  0x08
#define OCW3_SMM  0x20
#define OCW3_ESMM 0x40

enum { PIC_READY = 0, PIC_WANT_ICW2, PIC_WANT_ICW3, PIC_WANT_ICW4 };

typedef struct PICChip {
    uint8_t irr, isr, imr;
    uint8_t line_level;      /* the IR input pins now */
    uint8_t priority_base;   /* IR with the highest priority */
    uint8_t vector_base;     /* ICW2, low 3 bits clear */
    uint8_t icw3;            /* master: IRs with slaves; slave: its ID */
    uint8_t init_state;
    uint8_t elcr, elcr_mask;
    bool ltim;               /* ICW1: all inputs level-triggered */
    bool single;             /* ICW1: no cascade */
    bool icw4_needed;
    bool auto_eoi;
    bool rotate_on_aeoi;
    bool sfnm;               /* special fully nested mode */
    bool special_mask;
    bool read_isr;           /* OCW3 register select */
    bool poll;
} PICChip;

struct PICState {
    PICChip chips[2];        /* 0 master, 1 slave */
    bool irq2_device_level;  /* a device on master IR2 besides the slave */
    bool intr_level;
    IRQLine *intr;
    IRQLine **inputs;
    MemoryRegion *mr_master, *mr_slave, *mr_elcr;
};

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IR 2

/* Rank (0 = highest) of the highest-priority bit set in 'mask', 8 if none. */
static int chip_rank(const PICChip *c, uint8_t mask)
{
    for (int i = 0; i < 8; i++) {
        if (mask & (1u << ((c->priority_base + i) & 7))) {
            return i;
        }
    }
    return 8;
}

static uint8_t chip_level_mask(const PICChip *c)
{
    return c->ltim ? 0xff : (c->elcr & c->elcr_mask);
}

static uint8_t chip_cascade_mask(const PICChip *c, bool is_master)
{
    return (is_master && !c->single) ? c->icw3 : 0;
}

/* The IR this chip would present on INT now, or -1. */
static int chip_pending_ir(const PICChip *c, bool is_master)
{
    int req = chip_rank(c, c->irr & ~c->imr);
    if (req == 8) {
        return -1;
    }
    uint8_t in_service = c->isr;
    if (c->special_mask) {
        /* Masked levels no longer block lower priorities. */
        in_service &= ~c->imr;
    }
    if (c->sfnm) {
        /* A slave may interrupt again while its cascade IR is in service. */
        in_service &= ~chip_cascade_mask(c, is_master);
    }
    if (req < chip_rank(c, in_service)) {
        return (req + c->priority_base) & 7;
    }
    return -1;
}

static void chip_set_input(PICChip *c, int ir, bool level)
{
    uint8_t bit = 1u << ir;
    if (chip_level_mask(c) & bit) {
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    } else if (level && !(c->line_level & bit)) {
        c->irr |= bit;
    }
    c->line_level = level ? (c->line_level | bit) : (c->line_level & ~bit);
}

/* Moves 'ir' from IRR to ISR (or straight through with auto-EOI). */
static void chip_ack(PICChip *c, int ir)
{
    uint8_t bit = 1u << ir;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi) {
            c->priority_base = (ir + 1) & 7;
        }
    } else {
        c->isr |= bit;
    }
    if (!(chip_level_mask(c) & bit)) {
        c->irr &= ~bit;
    }
}

static void pic_update(PICState *s)
{
    PICChip *m = &s->chips[PIC_MASTER];
    bool slave_int = chip_pending_ir(&s->chips[PIC_SLAVE], false) >= 0;
    chip_set_input(m, PIC_CASCADE_IR, slave_int || s->irq2_device_level);
    bool level = chip_pending_ir(m, true) >= 0;
    if (level != s->intr_level) {
        s->intr_level = level;
        irq_set(s->intr, level);
    }
}

static void pic_set_input_handler(void *opaque, int n, int level)
{
    PICState *s = opaque;
    if (n == PIC_CASCADE_IR) {
        s->irq2_device_level = level;
    } else if (n < 8) {
        chip_set_input(&s->chips[PIC_MASTER], n, level);
    } else {
        chip_set_input(&s->chips[PIC_SLAVE], n - 8, level);
    }
    pic_update(s);
}

int pic_get_interrupt(PICState *s)
{
    PICChip *m = &s->chips[PIC_MASTER];
    PICChip *sl = &s->chips[PIC_SLAVE];
    int vector;

    int ir = chip_pending_ir(m, true);
    if (ir < 0) {
        /* The request went away between INTR and INTA. */
        return m->vector_base | 7;
    }
    chip_ack(m, ir);
    if (chip_cascade_mask(m, true) & (1u << ir)) {
        int sir = chip_pending_ir(sl, false);
        if (sir < 0) {
            vector = sl->vector_base | 7;
        } else {
            chip_ack(sl, sir);
            vector = sl->vector_base + sir;
        }
        /* The slave's INT drops during the acknowledge, so a request it
         * still holds reaches the (edge-triggered) master as a new edge. */
        m->line_level &= ~(1u << ir);
    } else {
        vector = m->vector_base + ir;
    }
    pic_update(s);
    return vector;
}

bool pic_intr_level(const PICState *s)
{
    return s->intr_level;
}

/* Register access ----------------------------------------------------- */

static void chip_init(PICChip *c, uint8_t icw1)
{
    c->ltim = icw1 & ICW1_LTIM;
    c->single = icw1 & ICW1_SNGL;
    c->icw4_needed = icw1 & ICW1_IC4;
    c->imr = 0;
    c->isr = 0;
    /* The edge-sense latches are cleared: an edge input that is already
     * high must go low and high again. Level inputs show their level. */
    c->irr = c->line_level & chip_level_mask(c);
    c->priority_base = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    /* Without ICW4 its functions are all zero. */
    c->auto_eoi = false;
    c->rotate_on_aeoi = false;
    c->sfnm = false;
    c->init_state = PIC_WANT_ICW2;
}

static void chip_write_ocw2(PICChip *c, uint8_t val)
{
    int ir = val & 7;
    switch (val >> 5) {
    case 0:     /* rotate in automatic EOI mode: clear */
        c->rotate_on_aeoi = false;
        break;
    case 4:     /* rotate in automatic EOI mode: set */
        c->rotate_on_aeoi = true;
        break;
    case 1:     /* non-specific EOI */
    case 5: {   /* rotate on non-specific EOI */
        int rank = chip_rank(c, c->isr);
        if (rank < 8) {
            ir = (rank + c->priority_base) & 7;
            c->isr &= ~(1u << ir);
            if (val & 0x80) {
                c->priority_base = (ir + 1) & 7;
            }
        }
        break;
    }
    case 3:     /* specific EOI */
        c->isr &= ~(1u << ir);
        break;
    case 7:     /* rotate on specific EOI */
        c->isr &= ~(1u << ir);
        c->priority_base = (ir + 1) & 7;
        break;
    case 6:     /* set priority: IR L becomes the lowest */
        c->priority_base = (ir + 1) & 7;
        break;
    case 2:     /* no operation */
        break;
    }
}

static void chip_write_ocw3(PICChip *c, uint8_t val)
{
    if (val & OCW3_ESMM) {
        c->special_mask = val & OCW3_SMM;
    }
    if (val & OCW3_POLL) {
        c->poll = true;
    }
    if (val & OCW3_RR) {
        c->read_isr = val & OCW3_RIS;
    }
}

static void chip_write_data(PICChip *c, uint8_t val)
{
    switch (c->init_state) {
    case PIC_WANT_ICW2:
        c->vector_base = val & 0xf8;
        if (!c->single) {
            c->init_state = PIC_WANT_ICW3;
        } else {
            c->init_state = c->icw4_needed ? PIC_WANT_ICW4 : PIC_READY;
        }
        break;
    case PIC_WANT_ICW3:
        c->icw3 = val;
        c->init_state = c->icw4_needed ? PIC_WANT_ICW4 : PIC_READY;
        break;
    case PIC_WANT_ICW4:
        /* Bit 0 (8086 mode) is assumed; 8080 call sequences do not exist
         * on a PC. Buffered-mode bits only concern the board. */
        c->auto_eoi = val & ICW4_AEOI;
        c->sfnm = val & ICW4_SFNM;
        c->init_state = PIC_READY;
        break;
    default:
        c->imr = val;
        break;
    }
}

/* Poll command: the read acknowledges the highest request of this chip. */
static uint8_t pic_poll_read(PICState *s, int chip)
{
    PICChip *c = &s->chips[chip];
    c->poll = false;
    int ir = chip_pending_ir(c, chip == PIC_MASTER);
    if (ir < 0) {
        return 0;
    }
    chip_ack(c, ir);
    if (chip == PIC_MASTER && (chip_cascade_mask(c, true) & (1u << ir))) {
        c->line_level &= ~(1u << ir);
    }
    pic_update(s);
    return 0x80 | ir;
}

static uint64_t pic_read(PICState *s, int chip, uint64_t addr)
{
    PICChip *c = &s->chips[chip];
    if (c->poll) {
        return pic_poll_read(s, chip);
    }
    if (addr & 1) {
        return c->imr;
    }
    return c->read_isr ? c->isr : c->irr;
}

static void pic_write(PICState *s, int chip, uint64_t addr, uint8_t val)
{
    PICChip *c = &s->chips[chip];
    if (addr & 1) {
        chip_write_data(c, val);
    } else if (val & ICW1_INIT) {
        chip_init(c, val);
    } else if (val & OCW3_SEL) {
        chip_write_ocw3(c, val);
    } else {
        chip_write_ocw2(c, val);
    }
    pic_update(s);
}

static uint64_t pic_master_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, PIC_MASTER, addr);
}

static void pic_master_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    pic_write(opaque, PIC_MASTER, addr, val);
}

static uint64_t pic_slave_read(void *opaque, uint64_t addr, unsigned size)
{
    return pic_read(opaque, PIC_SLAVE, addr);
}

static void pic_slave_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    pic_write(opaque, PIC_SLAVE, addr, val);
}

static const MemoryRegionOps pic_master_ops = {
    .read = pic_master_read, .write = pic_master_write,
    .min_access_size = 1, .max_access_size = 1,
};
static const MemoryRegionOps pic_slave_ops = {
    .read = pic_slave_read, .write = pic_slave_write,
    .min_access_size = 1, .max_access_size = 1,
};

/* ELCR ----------------------------------------------------------------- */

static void chip_set_elcr(PICChip *c, uint8_t val)
{
    c->elcr = val & c->elcr_mask;
    /* Inputs now level-triggered show their current level at once. */
    uint8_t level = chip_level_mask(c);
    c->irr = (c->irr & ~level) | (c->line_level & level);
}

void pic_set_elcr(PICState *s, uint16_t elcr)
{
    chip_set_elcr(&s->chips[PIC_MASTER], elcr & 0xff);
    chip_set_elcr(&s->chips[PIC_SLAVE], elcr >> 8);
    pic_update(s);
}

uint16_t pic_get_elcr(const PICState *s)
{
    return s->chips[PIC_MASTER].elcr | (s->chips[PIC_SLAVE].elcr << 8);
}

static uint64_t elcr_read(void *opaque, uint64_t addr, unsigned size)
{
    PICState *s = opaque;
    return s->chips[addr & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    PICState *s = opaque;
    chip_set_elcr(&s->chips[addr & 1], val);
    pic_update(s);
}

static const MemoryRegionOps elcr_ops = {
    .read = elcr_read, .write = elcr_write,
    .min_access_size = 1, .max_access_size = 1,
};

/* Lifecycle ------------------------------------------------------------ */

static void chip_reset(PICChip *c, uint8_t elcr_mask)
{
    uint8_t line_level = c->line_level;   /* the wires keep their level */
    memset(c, 0, sizeof(*c));
    c->line_level = line_level;
    c->elcr_mask = elcr_mask;
}

void pic_reset(PICState *s)
{
    chip_reset(&s->chips[PIC_MASTER], 0xf8);   /* IRQ 0, 1, 2 edge only */
    chip_reset(&s->chips[PIC_SLAVE], 0xde);    /* IRQ 8, 13 edge only */
    s->irq2_device_level = false;
    s->intr_level = false;
    irq_lower(s->intr);
}

PICState *pic_new(MemoryRegion *io, IRQLine *intr)
{
    PICState *s = XNEW(PICState);
    s->intr = intr;
    s->inputs = irq_new_array(pic_set_input_handler, s, 16);
    pic_reset(s);
    s->mr_master = memory_region_new_io("pic-master", 2, &pic_master_ops, s);
    s->mr_slave = memory_region_new_io("pic-slave", 2, &pic_slave_ops, s);
    s->mr_elcr = memory_region_new_io("elcr", 2, &elcr_ops, s);
    memory_region_add_subregion(io, 0x20, s->mr_master, 0);
    memory_region_add_subregion(io, 0xa0, s->mr_slave, 0);
    memory_region_add_subregion(io, 0x4d0, s->mr_elcr, 0);
    return s;
}

void pic_free(PICState *s)
{
    if (!s) {
        return;
    }
    memory_region_free(s->mr_master);
    memory_region_free(s->mr_slave);
    memory_region_free(s->mr_elcr);
    irq_free_array(s->inputs, 16);
    free(s);
}

IRQLine *pic_input(PICState *s, int n)
{
    return (n >= 0 && n < 16) ? s->inputs[n] : NULL;
}

void pic_get_regs(const PICState *s, uint16_t *irr, uint16_t *isr, uint16_t *imr)
{
    const PICChip *m = &s->chips[PIC_MASTER], *sl = &s->chips[PIC_SLAVE];
    *irr = m->irr | (sl->irr << 8);
    *isr = m->isr | (sl->isr << 8);
    *imr = m->imr | (sl->imr << 8);
}

/* Migration ------------------------------------------------------------ */

static int pic_chip_check(const void *loaded, int version_id, Error **errp)
{
    const PICChip *c = loaded;
    if (c->init_state > PIC_WANT_ICW4 || c->priority_base > 7) {
        error_setg(errp, "i8259: initialisation state %u or priority %u out of range",
                   c->init_state, c->priority_base);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_pic_chip = {
    .name = "i8259-chip",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = pic_chip_check,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(irr, PICChip),
        VMSTATE_UINT8(isr, PICChip),
        VMSTATE_UINT8(imr, PICChip),
        VMSTATE_UINT8(line_level, PICChip),
        VMSTATE_UINT8(priority_base, PICChip),
        VMSTATE_UINT8(vector_base, PICChip),
        VMSTATE_UINT8(icw3, PICChip),
        VMSTATE_UINT8(init_state, PICChip),
        VMSTATE_UINT8(elcr, PICChip),
        VMSTATE_BOOL(ltim, PICChip),
        VMSTATE_BOOL(single, PICChip),
        VMSTATE_BOOL(icw4_needed, PICChip),
        VMSTATE_BOOL(auto_eoi, PICChip),
        VMSTATE_BOOL(rotate_on_aeoi, PICChip),
        VMSTATE_BOOL(sfnm, PICChip),
        VMSTATE_BOOL(special_mask, PICChip),
        VMSTATE_BOOL(read_isr, PICChip),
        VMSTATE_BOOL(poll, PICChip),
        VMSTATE_END_OF_LIST()
    },
};

static int pic_post_load(void *opaque, int version_id)
{
    PICState *s = opaque;
    int ret = 0;
    for (int i = 0; i < 2; i++) {
        PICChip *c = &s->chips[i];
        if (c->init_state > PIC_WANT_ICW4 || c->priority_base > 7) {
            /* Only reachable without the validation pass: stay safe. */
            c->init_state = PIC_READY;
            c->priority_base &= 7;
            ret = -EINVAL;
        }
        c->vector_base &= 0xf8;
        c->elcr &= c->elcr_mask;
    }
    s->intr_level = chip_pending_ir(&s->chips[PIC_MASTER], true) >= 0;
    irq_set(s->intr, s->intr_level);
    return ret;
}

const VMStateDescription vmstate_i8259 = {
    .name = "i8259",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pic_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(chips, PICState, 2, 1, vmstate_pic_chip, PICChip),
        VMSTATE_BOOL(irq2_device_level, PICState),
        VMSTATE_END_OF_LIST()
    },
};
