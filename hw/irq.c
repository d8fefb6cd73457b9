/* Interrupt line objects. */
#include "hw/irq.h"

IRQLine *irq_new(IRQHandler *handler, void *opaque, int n)
{
    IRQLine *line = XNEW(IRQLine);
    line->handler = handler;
    line->opaque = opaque;
    line->n = n;
    return line;
}

IRQLine **irq_new_array(IRQHandler *handler, void *opaque, int count)
{
    IRQLine **lines = XNEW_ARRAY(IRQLine *, count);
    for (int i = 0; i < count; i++) {
        lines[i] = irq_new(handler, opaque, i);
    }
    return lines;
}

void irq_free(IRQLine *line)
{
    free(line);
}

void irq_free_array(IRQLine **lines, int count)
{
    if (!lines) {
        return;
    }
    for (int i = 0; i < count; i++) {
        irq_free(lines[i]);
    }
    free(lines);
}

typedef struct IRQSplit {
    IRQLine *a, *b;
} IRQSplit;

static void irq_split_handler(void *opaque, int n, int level)
{
    IRQSplit *s = opaque;
    irq_set(s->a, level);
    irq_set(s->b, level);
}

IRQLine *irq_split(IRQLine *a, IRQLine *b)
{
    IRQSplit *s = XNEW(IRQSplit);
    s->a = a;
    s->b = b;
    return irq_new(irq_split_handler, s, 0);
}
