/*
 * The PC's 8254 programmable interval timer at ports 0x40-0x43, plus
 * system control port B (0x61): channel 2's gate and output, the speaker
 * enable and the refresh toggle.
 *
 * Counters run at 1.193182 MHz of the virtual clock; every value the
 * guest reads is computed from that clock, so it is exact and
 * deterministic. Channel 0's output drives 'irq0' (wired to ISA IRQ 0),
 * with a virtual-clock timer for its transitions.
 */
#ifndef HW_I8254_H
#define HW_I8254_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"

#define PIT_FREQ_HZ 1193182

typedef struct PITState PITState;

/* Maps 0x40-0x43 and 0x61 into 'io'. */
PITState *pit_new(MemoryRegion *io, IRQLine *irq0);
void pit_free(PITState *s);
/* Channels 0 and 1 count in mode 3 with gate high, channel 2's gate is
 * low (port 0x61 cleared), as QEMU starts them. */
void pit_reset(PITState *s);

/* Gate input of channel 0-2 (channel 2's also follows port 0x61 bit 0;
 * channel 0's is for an HPET in legacy mode). */
void pit_set_gate(PITState *s, int channel, bool level);
/* Output of channel 0-2 now. */
bool pit_get_out(PITState *s, int channel);

/* Section "i8254" (the three channels and port 0x61). */
extern const VMStateDescription vmstate_i8254;

#endif
