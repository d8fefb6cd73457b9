/*
 * The machine: owns guest RAM, the memory and I/O address spaces, the
 * CPU and the devices, and runs them. system/main.c turns the command
 * line into a MachineConfig; hw/pc.c builds the board from it. Nothing
 * else knows which device sits where.
 */
#ifndef HW_MACHINE_H
#define HW_MACHINE_H

#include "util/osdep.h"
#include "util/error.h"
#include "cpu/memory.h"
#include "cpu/cpu.h"
#include "util/chardev.h"

#define MACHINE_MAX_DEBUGCON 4
#define MACHINE_MAX_SERIAL 4

typedef struct DebugconConfig {
    uint16_t iobase;
    Chardev *chr;                /* NULL: output discarded */
} DebugconConfig;

typedef struct MachineConfig {
    uint64_t ram_size;           /* bytes */
    const char *bios;            /* firmware image (NULL: firmware_dir/bios.bin) */
    const char *firmware_dir;    /* -L */
    const char *kernel;          /* multiboot kernel (-kernel) */
    const char *append;          /* its command line (-append) */
    const char *initrd;          /* multiboot modules, comma separated (-initrd) */
    bool no_reboot;
    DebugconConfig debugcon[MACHINE_MAX_DEBUGCON];
    int n_debugcon;
    /* COM1..COM4: present[i] says whether the UART exists (-serial none
     * removes it); chr may be NULL (a UART with nothing attached). */
    bool serial_present[MACHINE_MAX_SERIAL];
    Chardev *serial_chr[MACHINE_MAX_SERIAL];
    bool debug_exit;
    uint16_t debug_exit_iobase;
    uint16_t debug_exit_iosize;
    size_t code_cache_bytes;
} MachineConfig;

typedef struct DebugconState DebugconState;
typedef struct DebugExitState DebugExitState;
typedef struct SerialState SerialState;
typedef struct Port92State Port92State;
typedef struct IRQLine IRQLine;

typedef struct Machine {
    MachineConfig cfg;
    MemoryRegion *sysmem;        /* root of the physical address space */
    MemoryRegion *iomem;         /* root of the 64 KiB port space */
    MemoryRegion *ram;
    MemoryRegion *bios;
    MemoryRegion *bios_low;      /* alias of the BIOS top below 1 MiB */
    AddressSpace *as_mem, *as_io;
    CPUX86State *cpu;
    DebugconState *debugcon[MACHINE_MAX_DEBUGCON];
    DebugExitState *debug_exit;
    SerialState *serial[MACHINE_MAX_SERIAL];
    Port92State *port92;
    IRQLine *a20_line, *reset_line;
    /* run state */
    bool shutdown_requested;
    int exit_status;
    bool reset_requested;
} Machine;

Machine *machine_new(const MachineConfig *cfg, Error **errp);
void machine_free(Machine *m);
/* System reset: CPU and devices to their reset state, firmware reloaded
 * (or the multiboot kernel re-entered). */
void machine_reset(Machine *m);
/* Runs until a shutdown request; returns the process exit status. */
int machine_run(Machine *m);

/* Called by devices (through the pointers the machine gives them). */
void machine_request_shutdown(Machine *m, int status);
void machine_request_reset(Machine *m);

/* Multiboot v1 (hw/multiboot.c): loads 'kernel' into RAM and sets the
 * CPU up as a multiboot loader leaves it. */
int multiboot_load(Machine *m, const char *kernel, const char *cmdline, const char *modules,
                   Error **errp);

/* Debug devices (hw/debugcon.c, hw/debug-exit.c). */
DebugconState *debugcon_new(MemoryRegion *iomem, uint16_t iobase, Chardev *chr);
void debugcon_free(DebugconState *s);
DebugExitState *debug_exit_new(Machine *m, MemoryRegion *iomem, uint16_t iobase, uint16_t iosize);
void debug_exit_free(DebugExitState *s);

#endif
