/*
 * System control port A (0x92): "fast A20" (bit 1) and a fast reset
 * (bit 0, on its rising edge).
 */
#ifndef HW_PORT92_H
#define HW_PORT92_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

typedef struct Port92State Port92State;

/* Maps port 0x92 into 'io'. 'a20_out' follows bit 1; 'reset_out' is
 * pulsed high when bit 0 goes from 0 to 1. Either may be NULL. */
Port92State *port92_new(MemoryRegion *io, IRQLine *a20_out, IRQLine *reset_out);
void port92_free(Port92State *s);
/* Clears the reset bit; the A20 bit keeps its value and its line is
 * not driven (the machine decides A20 after a reset). */
void port92_reset(Port92State *s);

/* Section "port92". */
extern const VMStateDescription vmstate_port92;

#endif
