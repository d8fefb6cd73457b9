/*
 * The PC's pair of 8259A programmable interrupt controllers: master at
 * ports 0x20/0x21, slave at 0xa0/0xa1 cascaded into the master's IR2,
 * and PIIX's edge/level control registers (ELCR) at 0x4d0/0x4d1.
 */
#ifndef HW_I8259_H
#define HW_I8259_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

typedef struct PICState PICState;

/* Maps both chips and the ELCR into 'io'. 'intr' is the INTR output the
 * machine wires to the CPU (level: high while an unmasked request waits). */
PICState *pic_new(MemoryRegion *io, IRQLine *intr);
void pic_free(PICState *s);
/* As after power-on: both chips uninitialised, all inputs edge-triggered. */
void pic_reset(PICState *s);

/* Input line for ISA IRQ n (0-15). IRQ 2 is the master's cascade input;
 * a device on it is ORed with the slave's output. NULL if n is out of
 * range. The lines belong to the PIC. */
IRQLine *pic_input(PICState *s, int n);

/* The CPU's interrupt acknowledge cycle: returns the vector (0-255) and
 * moves the request into service. With nothing pending it returns the
 * spurious vector (IR7 of the chip that was asked), as the chip does. */
int pic_get_interrupt(PICState *s);
/* Current level of the INTR output. */
bool pic_intr_level(const PICState *s);

/* ELCR: bit n set makes IRQ n level-triggered. IRQs 0, 1, 2, 8 and 13
 * are always edge-triggered; their bits are ignored. */
void pic_set_elcr(PICState *s, uint16_t elcr);
uint16_t pic_get_elcr(const PICState *s);

/* For the monitor: IRR, ISR, IMR of both chips (slave in the high byte). */
void pic_get_regs(const PICState *s, uint16_t *irr, uint16_t *isr, uint16_t *imr);

/* Section "i8259" (both chips and the ELCR). */
extern const VMStateDescription vmstate_i8259;

#endif
