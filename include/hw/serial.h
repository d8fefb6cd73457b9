/*
 * 16550A UART (NS16550A compatible), as the PC's COM ports.
 *
 * Eight byte-wide registers at 'base'. The interrupt output goes through
 * MCR.OUT2 and is off in loopback mode, as on PC boards. Output bytes go
 * to the chardev as soon as the guest writes them; the transmitter's
 * FIFO/shift-register occupancy (LSR.THRE/TEMT, THRE interrupts) follows
 * the programmed baud rate on the virtual clock, scaled so that a guest
 * polling THRE never waits long. Input comes from the chardev, flow
 * controlled by the free space in the receive FIFO.
 */
#ifndef HW_SERIAL_H
#define HW_SERIAL_H

#include "cpu/memory.h"
#include "hw/irq.h"
#include "migration/vmstate.h"
#include "util/chardev.h"

/* The PC's COM ports. */
#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM2_BASE 0x2f8
#define SERIAL_COM3_BASE 0x3e8
#define SERIAL_COM4_BASE 0x2e8
#define SERIAL_COM1_IRQ 4
#define SERIAL_COM2_IRQ 3
#define SERIAL_COM3_IRQ 4
#define SERIAL_COM4_IRQ 3

typedef struct SerialState SerialState;

/* Maps the UART at io:[base, base+8). 'chr' may be NULL (output is
 * discarded, nothing is received); the UART becomes its frontend. */
SerialState *serial_new(MemoryRegion *io, uint16_t base, IRQLine *irq, Chardev *chr);
/* Unmaps, detaches from the chardev and frees. */
void serial_free(SerialState *s);
/* Power-on state (MR pin): the scratch register survives, as on chips. */
void serial_reset(SerialState *s);

/* Section "serial". */
extern const VMStateDescription vmstate_serial;

#endif
