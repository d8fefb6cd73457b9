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
#include "util/chardev.h"
#include "util/main-loop.h"
#include "util/option.h"

typedef struct MainState {
    MachineConfig cfg;
    int nserial;
    bool show_help, show_version;
    bool report_icount;
    bool nographic;
} MainState;

static int add_debugcon(MainState *s, uint16_t iobase, Chardev *chr, Error **errp)
{
    if (s->cfg.n_debugcon == MACHINE_MAX_DEBUGCON) {
        error_setg(errp, "too many debug consoles (at most %d)", MACHINE_MAX_DEBUGCON);
        return -EINVAL;
    }
    DebugconConfig *dc = &s->cfg.debugcon[s->cfg.n_debugcon++];
    dc->iobase = iobase;
    dc->chr = chr;
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
        if (ret == 0 && v == 0) {
            error_setg(errp, "RAM size must not be 0");
            ret = -EINVAL;
        }
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
    if (s->nserial == MACHINE_MAX_SERIAL) {
        error_setg(errp, "too many serial ports (at most %d)", MACHINE_MAX_SERIAL);
        return -EINVAL;
    }
    int i = s->nserial++;
    if (!strcmp(arg, "none")) {
        s->cfg.serial_present[i] = false;
        return 0;
    }
    char label[16];
    snprintf(label, sizeof(label), "serial%d", i);
    Chardev *chr = chardev_new_from_spec(label, arg, errp);
    if (!chr) {
        return -EINVAL;
    }
    s->cfg.serial_present[i] = true;
    s->cfg.serial_chr[i] = chr;
    return 0;
}

static int opt_report_icount(MainState *s, const char *arg, Error **errp) { s->report_icount = true; return 0; }
static int opt_nographic(MainState *s, const char *arg, Error **errp) { s->nographic = true; return 0; }

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
    if (!strcmp(arg, "none")) {
        return 0;
    }
    Chardev *chr = chardev_new_from_spec("debugcon", arg, errp);
    return chr ? add_debugcon(s, 0xe9, chr, errp) : -EINVAL;
}

static int opt_chardev(MainState *s, const char *arg, Error **errp)
{
    return chardev_new_from_opts(arg, errp) ? 0 : -EINVAL;
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
        const char *id = optlist_get(l, "chardev");
        Chardev *chr = NULL;
        if (id) {
            chr = chardev_find(id);
            if (!chr) {
                error_setg(errp, "-device isa-debugcon: chardev '%s' not found", id);
                goto out;
            }
        }
        if (iobase > 0xffff) {
            error_setg(errp, "-device isa-debugcon: iobase 0x%" PRIx64 " out of range", iobase);
            goto out;
        }
        if (optlist_check_all_used(l, "-device isa-debugcon", errp) < 0 ||
            add_debugcon(s, iobase, chr, errp) < 0) {
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
    { "serial", "DEV", opt_serial, "next COM port backend (stdio, file:PATH, null, none, pty, ...)" },
    { "debugcon", "DEV", opt_debugcon, "debug console on port 0xe9 (stdio, file:PATH, null, ...)" },
    { "chardev", "OPTS", opt_chardev, "BACKEND,id=ID,... (file,path= | stdio | null | socket | pty)" },
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

static void on_signal(int sig)
{
    main_loop_request_exit(0);
}

int main(int argc, char **argv)
{
    error_set_progname("minipc");
    MainState s = { 0 };
    Error *err = NULL;
    /* COM1 exists by default (QEMU's default -serial is vc/stdio; ours
     * is a UART with nothing attached unless -serial says otherwise). */
    s.cfg.serial_present[0] = true;
    if (parse_args(&s, argc, argv, &err) < 0) {
        error_report_err(err);
        return 1;
    }
    if (s.nographic && s.nserial == 0) {
        /* As QEMU: -nographic puts COM1 on stdio. */
        s.cfg.serial_chr[0] = chardev_new_from_spec("serial0", "stdio", &err);
        if (!s.cfg.serial_chr[0]) {
            error_report_err(err);
            return 1;
        }
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
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = machine_run(m);
    if (s.report_icount) {
        fprintf(stderr, "minipc: %" PRIu64 " instructions\n", m->cpu->icount);
    }
    machine_free(m);
    log_flush();
    return status;
}
