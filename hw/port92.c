/*
 * System control port A at 0x92 (PS/2 and later chipsets):
 *   bit 0  fast reset: a 0 -> 1 transition resets the CPU
 *   bit 1  A20 gate
 *   bit 3  power-on password lock (stored, no effect here)
 * The other bits read back as zero.
 */
#include "hw/port92.h"

#define P92_RESET 0x01
#define P92_A20 0x02
#define P92_LOCK 0x08
#define P92_BITS (P92_RESET | P92_A20 | P92_LOCK)

struct Port92State {
    uint8_t value;
    IRQLine *a20_out;
    IRQLine *reset_out;
    MemoryRegion *mr;
};

static uint64_t port92_read(void *opaque, uint64_t addr, unsigned size)
{
    Port92State *s = opaque;
    return s->value;
}

static void port92_write(void *opaque, uint64_t addr, uint64_t val, unsigned size)
{
    Port92State *s = opaque;
    uint8_t old = s->value;
    s->value = val & P92_BITS;
    irq_set(s->a20_out, (s->value & P92_A20) != 0);
    if ((s->value & P92_RESET) && !(old & P92_RESET)) {
        irq_pulse(s->reset_out);
    }
}

static const MemoryRegionOps port92_ops = {
    .read = port92_read, .write = port92_write,
    .min_access_size = 1, .max_access_size = 1,
};

void port92_reset(Port92State *s)
{
    s->value &= ~P92_RESET;
}

Port92State *port92_new(MemoryRegion *io, IRQLine *a20_out, IRQLine *reset_out)
{
    Port92State *s = XNEW(Port92State);
    s->a20_out = a20_out;
    s->reset_out = reset_out;
    s->mr = memory_region_new_io("port92", 1, &port92_ops, s);
    memory_region_add_subregion(io, 0x92, s->mr, 0);
    return s;
}

void port92_free(Port92State *s)
{
    if (s) {
        memory_region_free(s->mr);
        free(s);
    }
}

static int port92_post_load(void *opaque, int version_id)
{
    Port92State *s = opaque;
    s->value &= P92_BITS;
    return 0;
}

const VMStateDescription vmstate_port92 = {
    .name = "port92",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = port92_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(value, Port92State),
        VMSTATE_END_OF_LIST()
    },
};
