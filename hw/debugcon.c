/*
 * isa-debugcon: a write-only console on one I/O port (0xe9 by default,
 * the Bochs/QEMU "port e9 hack"). Bytes written go to the chardev; reads
 * return 0xe9 so a guest can detect the device.
 */
#include "hw/machine.h"

struct DebugconState {
    MemoryRegion *mr;
    Chardev *chr;
};

static uint64_t debugcon_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0xe9;
}

static void debugcon_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    DebugconState *s = opaque;
    uint8_t b = (uint8_t)val;
    if (s->chr) {
        chardev_write(s->chr, &b, 1);
    }
}

static const MemoryRegionOps debugcon_ops = {
    .read = debugcon_read,
    .write = debugcon_write,
    .min_access_size = 1,
    .max_access_size = 1,
};

DebugconState *debugcon_new(MemoryRegion *iomem, uint16_t iobase, Chardev *chr)
{
    DebugconState *s = XNEW(DebugconState);
    s->chr = chr;
    s->mr = memory_region_new_io("isa-debugcon", 1, &debugcon_ops, s);
    memory_region_add_subregion(iomem, iobase, s->mr, 0);
    return s;
}

void debugcon_free(DebugconState *s)
{
    if (s) {
        memory_region_free(s->mr);
        free(s);
    }
}
