/*
 * minipc: command line (QEMU spelling, one dash or two) -> MachineConfig
 * -> machine -> run. Options are a table so later work adds rows, not
 * parsing code.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hw/machine.h"
#include "util/log.h"
#include "util/option.h"

/* ---- host outputs for debug consoles (until util/chardev is used) ---------- */

typedef struct HostOut {
    char *id;        /* -chardev id, or NULL for anonymous */
    int fd;          /* -1: discard */
} HostOut;

#define MAX_OUTS 16

typedef struct MainState {
    MachineConfig cfg;
    HostOut outs[MAX_OUTS];
    int nouts;
    const char *serial[4];
    int nserial;
    bool show_help, show_version;
    bool report_icount;
} MainState;

static void hostout_write(void *opaque, const uint8_t *buf, size_t len)
{
    HostOut *o = opaque;
    if (o->fd >= 0) {
        full_write(o->fd, buf, len);
    }
}

/* "stdio", "null", "none", "file:PATH" */
static HostOut *hostout_from_spec(MainState *s, const char *id, const char *spec, Error **errp)
{
    if (s->nouts == MAX_OUTS) {
        error_setg(errp, "too many character devices");
        return NULL;
    }
    int fd;
    if (!strcmp(spec, "stdio")) {
        fd = STDOUT_FILENO;
    } else if (!strcmp(spec, "null") || !strcmp(spec, "none")) {
        fd = -1;
    } else if (!strncmp(spec, "file:", 5)) {
        fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) {
            error_setg_errno(errp, errno, "Could not open '%s'", spec + 5);
            return NULL;
        }
    } else {
        error_setg(errp, "chardev '%s' is not supported here (stdio, null, file:PATH)", spec);
        return NULL;
    }
    HostOut *o = &s->outs[s->nouts++];
    o->id = id ? xstrdup(id) : NULL;
    o->fd = fd;
    return o;
}

static HostOut *hostout_find(MainState *s, const char *id)
{
    for (int i = 0; i < s->nouts; i++) {
        if (s->outs[i].id && !strcmp(s->outs[i].id, id)) {
            return &s->outs[i];
        }
    }
    return NULL;
}

static int add_debugcon(MainState *s, uint16_t iobase, HostOut *o, Error **errp)
{
    if (s->cfg.n_debugcon == MACHINE_MAX_DEBUGCON) {
        error_setg(errp, "too many debug consoles (at most %d)", MACHINE_MAX_DEBUGCON);
        return -EINVAL;
    }
    DebugconConfig *dc = &s->cfg.debugcon[s->cfg.n_debugcon++];
    dc->iobase = iobase;
    dc->sink.write = hostout_write;
    dc->sink.opaque = o;
    return 0;
}

/* ---- option handlers ---------------------------------------------------------- */

typedef int OptFn(MainState *s, const char *arg, Error **errp);

static int opt_m(MainState *s, const char *arg, Error **errp)
{
    OptList *l = optlist_parse(arg, "size", errp);
    if (!l) {
        return -EINVAL;
    }
    const char *sz = optlist_get(l, "size");
    uint64_t v = 0;
    int ret = 0;
    if (!sz || parse_size(sz, MiB, &v, errp) < 0) {
        if (!sz) {
            error_setg(errp, "-m needs a size");
        }
        ret = -EINVAL;
    } else {
        optlist_get(l, "slots");
        optlist_get(l, "maxmem");
        ret = optlist_check_all_used(l, "-m", errp);
        s->cfg.ram_size = v;
    }
    optlist_free(l);
    return ret;
}

static int opt_bios(MainState *s, const char *arg, Error **errp) { s->cfg.bios = arg; return 0; }
static int opt_kernel(MainState *s, const char *arg, Error **errp) { s->cfg.kernel = arg; return 0; }
static int opt_append(MainState *s, const char *arg, Error **errp) { s->cfg.append = arg; return 0; }
static int opt_initrd(MainState *s, const char *arg, Error **errp) { s->cfg.initrd = arg; return 0; }
static int opt_L(MainState *s, const char *arg, Error **errp) { s->cfg.firmware_dir = arg; return 0; }
static int opt_no_reboot(MainState *s, const char *arg, Error **errp) { s->cfg.no_reboot = true; return 0; }
static int opt_help(MainState *s, const char *arg, Error **errp) { s->show_help = true; return 0; }
static int opt_version(MainState *s, const char *arg, Error **errp) { s->show_version = true; return 0; }

static int opt_serial(MainState *s, const char *arg, Error **errp)
{
    if (s->nserial == 4) {
        error_setg(errp, "too many serial ports (at most 4)");
        return -EINVAL;
    }
    /* The 16550 UART joins the board with hw/serial.c; until then the
     * spec is validated and kept. */
    s->serial[s->nserial++] = arg;
    return 0;
}

static int opt_report_icount(MainState *s, const char *arg, Error **errp) { s->report_icount = true; return 0; }
static int opt_nographic(MainState *s, const char *arg, Error **errp) { return 0; }

static int opt_display(MainState *s, const char *arg, Error **errp)
{
    if (strncmp(arg, "none", 4) != 0) {
        warn_report("-display %s: only 'none' is supported by this build; using none", arg);
    }
    return 0;
}

static int opt_accel(MainState *s, const char *arg, Error **errp)
{
    if (strncmp(arg, "tcg", 3) != 0) {
        error_setg(errp, "-accel %s: only tcg is available", arg);
        return -EINVAL;
    }
    return 0;
}

static int opt_debugcon(MainState *s, const char *arg, Error **errp)
{
    HostOut *o = hostout_from_spec(s, NULL, arg, errp);
    return o ? add_debugcon(s, 0xe9, o, errp) : -EINVAL;
}

static int opt_chardev(MainState *s, const char *arg, Error **errp)
{
    OptList *l = optlist_parse(arg, "backend", errp);
    if (!l) {
        return -EINVAL;
    }
    int ret = -EINVAL;
    const char *backend = optlist_get(l, "backend");
    const char *id = optlist_get(l, "id");
    if (!id) {
        error_setg(errp, "-chardev: 'id' is required");
        goto out;
    }
    if (hostout_find(s, id)) {
        error_setg(errp, "-chardev: duplicate id '%s'", id);
        goto out;
    }
    char *spec;
    if (!strcmp(backend, "file")) {
        const char *path = optlist_get(l, "path");
        if (!path) {
            error_setg(errp, "-chardev file: 'path' is required");
            goto out;
        }
        spec = xasprintf("file:%s", path);
    } else if (!strcmp(backend, "stdio") || !strcmp(backend, "null")) {
        optlist_get(l, "signal");
        optlist_get(l, "mux");
        spec = xstrdup(backend);
    } else {
        error_setg(errp, "-chardev: backend '%s' is not supported here (file, stdio, null)", backend);
        goto out;
    }
    if (optlist_check_all_used(l, "-chardev", errp) == 0 && hostout_from_spec(s, id, spec, errp)) {
        ret = 0;
    }
    free(spec);
out:
    optlist_free(l);
    return ret;
}

static int opt_device(MainState *s, const char *arg, Error **errp)
{
    OptList *l = optlist_parse(arg, "driver", errp);
    if (!l) {
        return -EINVAL;
    }
    int ret = -EINVAL;
    const char *driver = optlist_get(l, "driver");
    uint64_t iobase, iosize;
    if (!strcmp(driver, "isa-debugcon")) {
        if (optlist_get_uint(l, "iobase", 0xe9, &iobase, errp) < 0) {
            goto out;
        }
        const char *chr = optlist_get(l, "chardev");
        HostOut *o = NULL;
        if (chr) {
            o = hostout_find(s, chr);
            if (!o) {
                error_setg(errp, "-device isa-debugcon: chardev '%s' not found", chr);
                goto out;
            }
        } else {
            o = hostout_from_spec(s, NULL, "null", errp);
        }
        if (iobase > 0xffff) {
            error_setg(errp, "-device isa-debugcon: iobase 0x%" PRIx64 " out of range", iobase);
            goto out;
        }
        if (optlist_check_all_used(l, "-device isa-debugcon", errp) < 0 ||
            add_debugcon(s, iobase, o, errp) < 0) {
            goto out;
        }
        ret = 0;
    } else if (!strcmp(driver, "isa-debug-exit")) {
        if (optlist_get_uint(l, "iobase", 0x501, &iobase, errp) < 0 ||
            optlist_get_uint(l, "iosize", 2, &iosize, errp) < 0) {
            goto out;
        }
        if (iobase > 0xffff || iosize == 0 || iosize > 4 || iobase + iosize > 0x10000) {
            error_setg(errp, "-device isa-debug-exit: bad iobase/iosize");
            goto out;
        }
        if (optlist_check_all_used(l, "-device isa-debug-exit", errp) < 0) {
            goto out;
        }
        s->cfg.debug_exit = true;
        s->cfg.debug_exit_iobase = iobase;
        s->cfg.debug_exit_iosize = iosize;
        ret = 0;
    } else {
        error_setg(errp, "-device '%s': device not found (this build has isa-debugcon, "
                   "isa-debug-exit)", driver);
    }
out:
    optlist_free(l);
    return ret;
}

static int opt_d(MainState *s, const char *arg, Error **errp)
{
    int mask;
    bool help;
    if (log_parse_items(arg, &mask, &help, errp) < 0) {
        return -EINVAL;
    }
    if (help) {
        exit(0);
    }
    log_mask |= mask;
    return 0;
}

static int opt_D(MainState *s, const char *arg, Error **errp)
{
    return log_set_file(arg, errp);
}

typedef struct OptDef {
    const char *name;
    const char *arg;     /* NULL: no argument */
    OptFn *fn;
    const char *help;
} OptDef;

static const OptDef options[] = {
    { "h", NULL, opt_help, "print this help" },
    { "help", NULL, opt_help, NULL },
    { "version", NULL, opt_version, "print the version" },
    { "m", "SIZE", opt_m, "guest RAM size (default 128M; suffixes k/M/G; plain number is MiB)" },
    { "bios", "FILE", opt_bios, "firmware image (multiple of 64 KiB)" },
    { "L", "DIR", opt_L, "directory of firmware files" },
    { "kernel", "FILE", opt_kernel, "multiboot (v1) kernel to boot directly" },
    { "append", "CMDLINE", opt_append, "kernel command line" },
    { "initrd", "FILES", opt_initrd, "multiboot modules ('file args,file args')" },
    { "serial", "DEV", opt_serial, "COM1..4 backend (stdio, file:PATH, null)" },
    { "debugcon", "DEV", opt_debugcon, "debug console on port 0xe9 (stdio, file:PATH, null)" },
    { "chardev", "OPTS", opt_chardev, "file,id=ID,path=PATH | stdio,id=ID | null,id=ID" },
    { "device", "DRIVER,OPTS", opt_device, "isa-debugcon,iobase=N,chardev=ID | isa-debug-exit,iobase=N,iosize=N" },
    { "display", "TYPE", opt_display, "display backend (none)" },
    { "nographic", NULL, opt_nographic, "no display" },
    { "no-reboot", NULL, opt_no_reboot, "exit instead of rebooting" },
    { "accel", "tcg", opt_accel, "accelerator (tcg)" },
    { "report-icount", NULL, opt_report_icount, "print the guest instruction count at exit (minipc only)" },
    { "d", "ITEMS", opt_d, "log items (in_asm,int,exec,cpu,...; 'help' lists them)" },
    { "D", "FILE", opt_D, "log to FILE instead of stderr" },
};

static void print_help(void)
{
    printf("usage: minipc [options]\n\n");
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const OptDef *o = &options[i];
        if (!o->help) {
            continue;
        }
        char left[64];
        snprintf(left, sizeof(left), "-%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        printf("  %-28s %s\n", left, o->help);
    }
}

static int parse_args(MainState *s, int argc, char **argv, Error **errp)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            /* QEMU takes a bare image name as -hda; not here yet. */
            error_setg(errp, "unexpected argument '%s'", a);
            return -EINVAL;
        }
        const char *name = a + 1 + (a[1] == '-');
        const OptDef *o = NULL;
        for (size_t k = 0; k < ARRAY_SIZE(options); k++) {
            if (!strcmp(options[k].name, name)) {
                o = &options[k];
                break;
            }
        }
        if (!o) {
            error_setg(errp, "%s: invalid option", a);
            return -EINVAL;
        }
        const char *arg = NULL;
        if (o->arg) {
            if (i + 1 >= argc) {
                error_setg(errp, "%s: requires an argument", a);
                return -EINVAL;
            }
            arg = argv[++i];
        }
        if (o->fn(s, arg, errp) < 0) {
            error_prepend(errp, "%s: ", a);
            return -EINVAL;
        }
    }
    return 0;
}

static Machine *running_machine;

static void on_signal(int sig)
{
    if (running_machine) {
        running_machine->shutdown_requested = true;
        running_machine->exit_status = 0;
        cpu_exit(running_machine->cpu);
    }
}

int main(int argc, char **argv)
{
    error_set_progname("minipc");
    MainState s = { 0 };
    Error *err = NULL;
    if (parse_args(&s, argc, argv, &err) < 0) {
        error_report_err(err);
        return 1;
    }
    if (s.show_help) {
        print_help();
        return 0;
    }
    if (s.show_version) {
        printf("minipc version %s (QEMU-compatible command line)\n", MINIPC_VERSION);
        return 0;
    }
    Machine *m = machine_new(&s.cfg, &err);
    if (!m) {
        error_report_err(err);
        return 1;
    }
    running_machine = m;
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = machine_run(m);
    running_machine = NULL;
    if (s.report_icount) {
        fprintf(stderr, "minipc: %" PRIu64 " instructions\n", m->cpu->icount);
    }
    machine_free(m);
    for (int i = 0; i < s.nouts; i++) {
        if (s.outs[i].fd > STDERR_FILENO) {
            close(s.outs[i].fd);
        }
        free(s.outs[i].id);
    }
    log_flush();
    return status;
}
