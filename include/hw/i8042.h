/*
 * 8042 keyboard controller at ports 0x60 (data) and 0x64 (status and
 * command), with a PS/2 keyboard and mouse attached (hw/ps2.h).
 *
 * Outputs: IRQ 1 (keyboard byte in the output buffer), IRQ 12 (mouse
 * byte), the A20 gate (output port bit 1; high after reset) and a reset
 * request (pulsed high when the guest drives output port bit 0 low,
 * e.g. with command 0xFE).
 */
#ifndef HW_I8042_H
#define HW_I8042_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "hw/ps2.h"
#include "migration/vmstate.h"

#define I8042_KBD_IRQ 1
#define I8042_MOUSE_IRQ 12

typedef struct I8042State I8042State;

/* Maps ports 0x60 and 0x64 into 'io'. Any line may be NULL. */
I8042State *i8042_new(MemoryRegion *io, IRQLine *kbd_irq, IRQLine *mouse_irq,
                      IRQLine *a20_out, IRQLine *reset_out);
void i8042_free(I8042State *s);
/* Controller, keyboard and mouse to their power-on state; drives the
 * A20 output high. */
void i8042_reset(I8042State *s);

/* The attached devices, for input from the UI and for their VMState
 * sections ("ps2kbd", "ps2mouse"). */
PS2Kbd *i8042_keyboard(I8042State *s);
PS2Mouse *i8042_mouse(I8042State *s);

/* Section "pckbd" (the controller only). */
extern const VMStateDescription vmstate_i8042;

#endif
