/*
 * Interrupt lines. A device holds IRQLine pointers given to it by the
 * machine and sets their level; whoever created the line (PIC, IOAPIC,
 * the CPU's INTR input) gets called. Lines carry no other state.
 */
#ifndef HW_IRQ_H
#define HW_IRQ_H

#include "util/osdep.h"

typedef void IRQHandler(void *opaque, int n, int level);

typedef struct IRQLine {
    IRQHandler *handler;
    void *opaque;
    int n;
} IRQLine;

IRQLine *irq_new(IRQHandler *handler, void *opaque, int n);
/* 'count' lines numbered 0..count-1 sharing one handler. */
IRQLine **irq_new_array(IRQHandler *handler, void *opaque, int count);
void irq_free(IRQLine *line);
void irq_free_array(IRQLine **lines, int count);
/* A line that calls two others (e.g. ISA IRQ to PIC and IOAPIC). */
IRQLine *irq_split(IRQLine *a, IRQLine *b);

static inline void irq_set(IRQLine *line, int level)
{
    if (line) {
        line->handler(line->opaque, line->n, level);
    }
}
static inline void irq_raise(IRQLine *line) { irq_set(line, 1); }
static inline void irq_lower(IRQLine *line) { irq_set(line, 0); }
static inline void irq_pulse(IRQLine *line) { irq_set(line, 1); irq_set(line, 0); }

#endif
