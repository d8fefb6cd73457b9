/*
 * PIIX3 PCI-to-ISA bridge: PIRQ routing of PCI interrupts to ISA IRQs
 * and the reset control register.
 */
#include "hw/piix3.h"

/* ISA IRQs the PIRQ route registers may not select (datasheet: reserved). */
#define PIIX3_RESERVED_IRQS ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 8) | (1u << 13))

static int piix3_map_irq(void *opaque, int devfn, int pin)
{
    return (PCI_SLOT(devfn) - 1 + pin) & 3;
}

/* ISA IRQ that PIRQ 'pirq' is routed to, or -1. */
static int pirq_route(PIIX3State *s, int pirq)
{
    uint8_t r = s->dev.config[PIIX3_PIRQRC + pirq];
    if (r & 0x80) {
        return -1;
    }
    r &= 0x0f;
    return (PIIX3_RESERVED_IRQS & (1u << r)) ? -1 : r;
}

static void piix3_update_irqs(PIIX3State *s, bool force)
{
    uint16_t levels = 0;
    if (s->dev.bus) {
        for (int p = 0; p < PIIX3_NUM_PIRQS; p++) {
            int irq = pirq_route(s, p);
            if (irq >= 0 && pci_bus_get_pirq_level(s->dev.bus, p)) {
                levels |= 1u << irq;
            }
        }
    }
    uint16_t changed = force ? 0xffff : (levels ^ s->isa_levels);
    s->isa_levels = levels;
    for (int irq = 0; irq < 16; irq++) {
        if ((changed & (1u << irq)) && !(PIIX3_RESERVED_IRQS & (1u << irq))) {
            irq_set(s->isa_irqs[irq], (levels >> irq) & 1);
        }
    }
}

static void piix3_set_pirq(void *opaque, int pirq, int level)
{
    piix3_update_irqs(opaque, false);
}

static void piix3_config_write(PCIDevice *d, uint32_t addr, uint32_t val,
                               uint32_t old, unsigned len)
{
    if (addr < PIIX3_PIRQRC + PIIX3_NUM_PIRQS && PIIX3_PIRQRC < addr + len) {
        piix3_update_irqs(container_of(d, PIIX3State, dev), false);
    }
}

uint8_t piix3_rcr_read(void *opaque)
{
    PIIX3State *s = opaque;
    return s->rcr;
}

void piix3_rcr_write(void *opaque, uint8_t val)
{
    PIIX3State *s = opaque;
    if (val & PIIX3_RCR_RCPU) {
        irq_pulse(s->reset_line);
    }
    s->rcr = val & PIIX3_RCR_SRST;
}

void piix3_reset(PIIX3State *s)
{
    PCIDevice *d = &s->dev;
    uint8_t *c = d->config;
    pci_device_reset(d);
    pci_set_word(c + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(c + PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM);
    memset(c + 0x40, 0, 0xc0);
    c[0x4c] = 0x4d;   /* IORT: ISA I/O recovery timer */
    c[0x4e] = 0x03;   /* XBCS: X-bus chip select (RTC, keyboard) */
    memset(c + PIIX3_PIRQRC, 0x80, PIIX3_NUM_PIRQS);
    c[0x69] = 0x02;   /* TOM: top of memory */
    c[0x70] = 0x80;   /* MBIRQ0: motherboard IRQ route, disabled */
    c[0x76] = 0x0c;   /* MBDMA0/1: motherboard DMA, disabled */
    c[0x77] = 0x0c;
    c[0x78] = 0x02;   /* PCSC: programmable chip select */
    c[0xa0] = 0x08;   /* SMICNTL */
    c[0xa8] = 0x0f;   /* FTMR: fast off timer */
    s->rcr = 0;
    piix3_update_irqs(s, true);
}

PIIX3State *piix3_new(PCIBus *bus, int devfn, IRQLine *const isa_irqs[16],
                      IRQLine *reset_line, Error **errp)
{
    PIIX3State *s = XNEW(PIIX3State);
    if (pci_device_init(&s->dev, bus, devfn, "PIIX3", 0x8086, 0x7000, 0x00, 0x060100,
                        errp) < 0) {
        free(s);
        return NULL;
    }
    s->dev.config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
    s->dev.config_write = piix3_config_write;
    for (int i = 0; i < 16; i++) {
        s->isa_irqs[i] = isa_irqs ? isa_irqs[i] : NULL;
    }
    s->reset_line = reset_line;
    uint8_t *w = s->dev.wmask;
    memset(w + 0x4c, 0xff, 4);
    memset(w + PIIX3_PIRQRC, 0x8f, PIIX3_NUM_PIRQS);
    memset(w + 0x69, 0xff, 3);
    w[0x70] = 0xcf;
    memset(w + 0x76, 0xff, 4);
    w[0x80] = 0xff;
    w[0x82] = 0xff;
    memset(w + 0xa0, 0xff, 0x0f);
    pci_bus_set_irq_router(bus, piix3_map_irq, piix3_set_pirq, s, PIIX3_NUM_PIRQS);
    piix3_reset(s);
    return s;
}

void piix3_free(PIIX3State *s)
{
    if (!s) {
        return;
    }
    if (s->dev.bus) {
        pci_bus_set_irq_router(s->dev.bus, NULL, NULL, NULL, 0);
    }
    pci_device_exit(&s->dev);
    free(s);
}

static int piix3_post_load(void *opaque, int version_id)
{
    PIIX3State *s = opaque;
    s->rcr &= PIIX3_RCR_SRST;
    piix3_update_irqs(s, true);
    return 0;
}

const VMStateDescription vmstate_piix3 = {
    .name = "PIIX3",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = piix3_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(dev, PIIX3State),
        VMSTATE_UINT8(rcr, PIIX3State),
        VMSTATE_END_OF_LIST()
    },
};
