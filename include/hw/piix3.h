/*
 * Intel 82371SB (PIIX3) PCI-to-ISA bridge, function 0 (8086:7000).
 *
 * PIRQ route control (config 0x60-0x63): PCI INTA#-INTD# of the bus are
 * routed to ISA IRQs (bit 7 set = not routed; IRQs 0, 1, 2, 8 and 13
 * are reserved and never driven). The bridge drives its isa_irqs[] lines
 * with the OR of the PIRQs routed to each, only when that changes.
 * Slot s pin p (0 = INTA) goes to PIRQ (s - 1 + p) & 3, as SeaBIOS and
 * QEMU's pc board assume.
 *
 * Reset control register (I/O 0xcf9, reached through the host bridge's
 * handler, see i440fx_set_cf9_handler): writing bit 2 (RCPU) pulses the
 * reset line; bit 1 (SRST, hard/soft) is stored. The pulse comes from
 * inside the guest's port write: its handler should only request the
 * reset (the main loop performs it between CPU slices).
 *
 * The ELCR (0x4d0/0x4d1) is left to the PIC model, which needs it to
 * decide edge or level per input.
 */
#ifndef HW_PIIX3_H
#define HW_PIIX3_H

#include "hw/pci.h"
#include "hw/irq.h"

#define PIIX3_PIRQRC  0x60
#define PIIX3_NUM_PIRQS 4
#define PIIX3_RCR_SRST 0x02
#define PIIX3_RCR_RCPU 0x04

typedef struct PIIX3State {
    PCIDevice dev;
    IRQLine *isa_irqs[16];
    IRQLine *reset_line;
    uint16_t isa_levels;      /* what we last drove on isa_irqs */
    uint8_t rcr;
} PIIX3State;

/* devfn: PCI_DEVFN(1, 0) on the PC. isa_irqs may hold NULLs. reset_line
 * is pulsed on a reset request (may be NULL). */
PIIX3State *piix3_new(PCIBus *bus, int devfn, IRQLine *const isa_irqs[16],
                      IRQLine *reset_line, Error **errp);
void piix3_free(PIIX3State *s);
void piix3_reset(PIIX3State *s);
/* For i440fx_set_cf9_handler(host, piix3_rcr_read, piix3_rcr_write, s). */
uint8_t piix3_rcr_read(void *opaque);
void piix3_rcr_write(void *opaque, uint8_t val);

extern const VMStateDescription vmstate_piix3;

#endif
