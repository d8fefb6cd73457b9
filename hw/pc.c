/*
 * The PC board (first version: what the CPU tests need). RAM from 0,
 * the BIOS ROM at the top of 4 GiB with its last 128 KiB (or all of a
 * smaller image) mirrored below 1 MiB, the 64 KiB port space, port 0x92
 * (fast A20 and reset), the debug console and the debug exit device.
 * The [pc] work adds the PIC, PIT, RTC, UART, keyboard controller, PCI.
 */
#include <stdio.h>
#include <unistd.h>
#include <time.h>

#include "hw/machine.h"
#include "hw/irq.h"
#include "hw/port92.h"
#include "hw/serial.h"
#include "migration/savevm.h"
#include "util/log.h"
#include "util/main-loop.h"

#define MAX_BIOS_SIZE (16 * MiB)

/* ---- lines from port 0x92 ---------------------------------------------------- */

static void a20_line_handler(void *opaque, int n, int level)
{
    Machine *m = opaque;
    cpu_set_a20(m->cpu, level);
}

static void reset_line_handler(void *opaque, int n, int level)
{
    if (level) {
        machine_request_reset(opaque);
    }
}

/* ---- firmware ------------------------------------------------------------------ */

static int load_file(const char *path, uint8_t **data, size_t *size, size_t max, Error **errp)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return -errno;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        error_setg_errno(errp, errno, "Could not read '%s'", path);
        fclose(f);
        return -EIO;
    }
    long len = ftell(f);
    if (len < 0 || (size_t)len > max) {
        error_setg(errp, "'%s' is too large (at most %zu bytes)", path, max);
        fclose(f);
        return -EFBIG;
    }
    rewind(f);
    uint8_t *buf = xmalloc(len ? len : 1);
    if (len && fread(buf, 1, len, f) != (size_t)len) {
        error_setg(errp, "Could not read '%s'", path);
        free(buf);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    *data = buf;
    *size = len;
    return 0;
}

static int pc_load_bios(Machine *m, Error **errp)
{
    const char *path = m->cfg.bios;
    char *def = NULL;
    if (!path) {
        def = xasprintf("%s/bios.bin", m->cfg.firmware_dir ? m->cfg.firmware_dir : CONFIG_FIRMWARE_DIR);
        path = def;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    int ret = load_file(path, &data, &size, MAX_BIOS_SIZE, errp);
    if (ret < 0) {
        error_prepend(errp, "Could not load BIOS: ");
        free(def);
        return ret;
    }
    if (size == 0 || size % (64 * KiB) != 0) {
        error_setg(errp, "BIOS '%s' has size %zu; it must be a non-zero multiple of 64 KiB", path, size);
        free(data);
        free(def);
        return -EINVAL;
    }
    m->bios = memory_region_new_rom("pc.bios", size, errp);
    if (!m->bios) {
        free(data);
        free(def);
        return -ENOMEM;
    }
    memcpy(memory_region_get_ram_ptr(m->bios), data, size);
    free(data);
    free(def);
    memory_region_add_subregion(m->sysmem, (1ULL << 32) - size, m->bios, 0);
    uint64_t low = MIN(size, 128 * KiB);
    m->bios_low = memory_region_new_alias("isa-bios", m->bios, size - low, low);
    memory_region_add_subregion(m->sysmem, 1 * MiB - low, m->bios_low, 1);
    return 0;
}

/* ---- machine ----------------------------------------------------------------------- */

static void kick_cpu(void *opaque)
{
    Machine *m = opaque;
    cpu_exit(m->cpu);
}

static const uint16_t com_base[MACHINE_MAX_SERIAL] = {
    SERIAL_COM1_BASE, SERIAL_COM2_BASE, SERIAL_COM3_BASE, SERIAL_COM4_BASE,
};

Machine *machine_new(const MachineConfig *cfg, Error **errp)
{
    Machine *m = XNEW(Machine);
    m->cfg = *cfg;
    uint64_t ram_size = cfg->ram_size ? cfg->ram_size : 128 * MiB;
    if (ram_size < 1 * MiB || ram_size > 3584 * MiB) {
        error_setg(errp, "RAM size %" PRIu64 " MiB is out of range (1 MiB .. 3584 MiB)",
                   ram_size / MiB);
        free(m);
        return NULL;
    }
    m->cfg.ram_size = ram_size;
    m->sysmem = memory_region_new_container("system", 1ULL << 32);
    m->iomem = memory_region_new_container("io", 64 * KiB);
    m->ram = memory_region_new_ram("pc.ram", ram_size, errp);
    if (!m->ram) {
        memory_region_free(m->sysmem);
        memory_region_free(m->iomem);
        free(m);
        return NULL;
    }
    memory_region_add_subregion(m->sysmem, 0, m->ram, 0);
    m->as_mem = address_space_new("memory", m->sysmem);
    m->as_io = address_space_new("I/O", m->iomem);
    m->cpu = cpu_new(m->as_mem, m->as_io, cfg->code_cache_bytes);
    m->cpu->machine_opaque = m;

    if (!cfg->kernel || cfg->bios) {
        if (pc_load_bios(m, errp) < 0) {
            machine_free(m);
            return NULL;
        }
    }
    m->a20_line = irq_new(a20_line_handler, m, 0);
    m->reset_line = irq_new(reset_line_handler, m, 0);
    m->port92 = port92_new(m->iomem, m->a20_line, m->reset_line);
    for (int i = 0; i < cfg->n_debugcon; i++) {
        m->debugcon[i] = debugcon_new(m->iomem, cfg->debugcon[i].iobase, cfg->debugcon[i].chr);
    }
    /* The UARTs' interrupt outputs join the PIC with the [pc] board. */
    for (int i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (cfg->serial_present[i]) {
            m->serial[i] = serial_new(m->iomem, com_base[i], NULL, cfg->serial_chr[i]);
            vmstate_register(i, &vmstate_serial, m->serial[i]);
        }
    }
    vmstate_register(0, &vmstate_x86_cpu, m->cpu);
    main_loop_set_cpu_kick(kick_cpu, m);
    if (cfg->debug_exit) {
        m->debug_exit = debug_exit_new(m, m->iomem, cfg->debug_exit_iobase, cfg->debug_exit_iosize);
    }
    if (cfg->kernel && !cfg->bios) {
        if (multiboot_load(m, cfg->kernel, cfg->append, cfg->initrd, errp) < 0) {
            machine_free(m);
            return NULL;
        }
    }
    return m;
}

void machine_free(Machine *m)
{
    if (!m) {
        return;
    }
    main_loop_set_cpu_kick(NULL, NULL);
    if (m->cpu) {
        vmstate_unregister(&vmstate_x86_cpu, m->cpu);
    }
    cpu_free(m->cpu);
    for (int i = 0; i < MACHINE_MAX_DEBUGCON; i++) {
        debugcon_free(m->debugcon[i]);
    }
    for (int i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (m->serial[i]) {
            vmstate_unregister(&vmstate_serial, m->serial[i]);
            serial_free(m->serial[i]);
        }
    }
    debug_exit_free(m->debug_exit);
    port92_free(m->port92);
    irq_free(m->a20_line);
    irq_free(m->reset_line);
    memory_region_free(m->bios_low);
    memory_region_free(m->bios);
    if (m->as_mem) {
        address_space_free(m->as_mem);
    }
    if (m->as_io) {
        address_space_free(m->as_io);
    }
    memory_region_free(m->ram);
    memory_region_free(m->sysmem);
    memory_region_free(m->iomem);
    free(m);
}

void machine_request_shutdown(Machine *m, int status)
{
    if (!m->shutdown_requested) {
        m->shutdown_requested = true;
        m->exit_status = status;
    }
    cpu_exit(m->cpu);
    main_loop_request_exit(status);
}

void machine_request_reset(Machine *m)
{
    m->reset_requested = true;
    cpu_exit(m->cpu);
}

void machine_reset(Machine *m)
{
    cpu_reset(m->cpu);
    cpu_set_a20(m->cpu, true);
    port92_reset(m->port92);
    for (int i = 0; i < MACHINE_MAX_SERIAL; i++) {
        if (m->serial[i]) {
            serial_reset(m->serial[i]);
        }
    }
    if (m->cfg.kernel && !m->cfg.bios) {
        Error *err = NULL;
        if (multiboot_load(m, m->cfg.kernel, m->cfg.append, m->cfg.initrd, &err) < 0) {
            error_report_err(err);
            machine_request_shutdown(m, 1);
        }
    }
}

/* CPU slices between main-loop iterations: long enough to amortise the
 * poll, short enough for timers and input to feel immediate. */
#define SLICE_INSNS (1 << 20)

int machine_run(Machine *m)
{
    int status = 0;
    for (;;) {
        if (m->shutdown_requested || main_loop_exit_requested(&status)) {
            break;
        }
        if (m->reset_requested) {
            m->reset_requested = false;
            if (m->cfg.no_reboot) {
                log_mask_printf(LOG_RESET, "reset requested with -no-reboot: exiting\n");
                machine_request_shutdown(m, 0);
                break;
            }
            machine_reset(m);
        }
        CPUExitReason r = cpu_exec(m->cpu, SLICE_INSNS);
        if (r == CPU_EXIT_RESET) {
            m->reset_requested = true;
            continue;
        }
        if (r == CPU_EXIT_HALTED && !cpu_has_work(m->cpu)) {
            /* Sleep until a timer, an fd or a kick brings work. */
            main_loop_wait(-1);
        } else {
            main_loop_wait(0);
        }
    }
    log_flush();
    if (m->shutdown_requested) {
        return m->exit_status;
    }
    return status;
}
