/*
 * isa-debug-exit: writing value V to the port stops the machine and the
 * process exits with status (V << 1) | 1, so a test can never "pass" by
 * exiting 0 by accident.
 */
#include "hw/machine.h"

struct DebugExitState {
    Machine *machine;
    MemoryRegion *mr;
};

static uint64_t debug_exit_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t val, unsigned size)
{
    DebugExitState *s = opaque;
    machine_request_shutdown(s->machine, (int)(((val << 1) | 1) & 0xff));
}

static const MemoryRegionOps debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .min_access_size = 1,
    .max_access_size = 4,
};

DebugExitState *debug_exit_new(Machine *m, MemoryRegion *iomem, uint16_t iobase, uint16_t iosize)
{
    DebugExitState *s = XNEW(DebugExitState);
    s->machine = m;
    s->mr = memory_region_new_io("isa-debug-exit", iosize ? iosize : 1, &debug_exit_ops, s);
    memory_region_add_subregion(iomem, iobase, s->mr, 0);
    return s;
}

void debug_exit_free(DebugExitState *s)
{
    if (s) {
        memory_region_free(s->mr);
        free(s);
    }
}
