/*
 * The HMP commands that need no machine: help, info (and its version,
 * status, chardev and history subcommands) and quit. Machine commands
 * (stop, cont, savevm...) are registered by their modules.
 */
#include "monitor-internal.h"
#include "util/main-loop.h"
#include "util/timer.h"

static MonitorRunStateFn *runstate_fn;
static void *runstate_opaque;

void monitor_set_runstate_fn(MonitorRunStateFn *fn, void *opaque)
{
    runstate_fn = fn;
    runstate_opaque = opaque;
}

const char *monitor_runstate(void)
{
    if (runstate_fn) {
        return runstate_fn(runstate_opaque);
    }
    return clock_virtual_running() ? "running" : "paused";
}

static void hmp_help(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    monitor_hmp_help(mon, monitor_arg_str(args, "name", NULL));
}

static void hmp_quit(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    JsonValue *data = json_new_object();
    json_object_set_bool(data, "guest", false);
    json_object_set_str(data, "reason", "host-qmp-quit");
    monitor_emit_event("SHUTDOWN", data);
    main_loop_request_exit(0);
}

static void hmp_info_version(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    monitor_printf(mon, "%s\n", MINIPC_VERSION);
}

static void hmp_info_status(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    const char *st = monitor_runstate();
    if (!strcmp(st, "running") || !strcmp(st, "paused")) {
        monitor_printf(mon, "VM status: %s\n", st);
    } else {
        monitor_printf(mon, "VM status: paused (%s)\n", st);
    }
}

static void print_chardev(Chardev *chr, void *opaque)
{
    monitor_printf(opaque, "%s: filename=%s\n", chardev_label(chr), chardev_filename(chr));
}

static void hmp_info_chardev(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    chardev_foreach(print_chardev, mon);
}

static void hmp_info_history(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    if (!mon->rl) {
        return;
    }
    for (int i = 0; i < readline_history_count(mon->rl); i++) {
        monitor_printf(mon, "%d: '%s'\n", i, readline_history_get(mon->rl, i));
    }
}

static const MonitorCommand builtin_cmds[] = {
    { "help|?", "name:S?", "[cmd]", "show the help", hmp_help },
    { "info", "item:S?", "[subcommand]", "show various information about the system state",
      monitor_hmp_info },
    { "quit|q", "", "", "quit the emulator", hmp_quit },
};

static const MonitorCommand builtin_info[] = {
    { "version", "", "", "show the version of minipc", hmp_info_version },
    { "status", "", "", "show the current VM status (running|paused)", hmp_info_status },
    { "chardev", "", "", "show the character devices", hmp_info_chardev },
    { "history", "", "", "show the command line history", hmp_info_history },
};

void monitor_builtins_init(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;
    monitor_register_commands(builtin_cmds, ARRAY_SIZE(builtin_cmds));
    monitor_register_info_commands(builtin_info, ARRAY_SIZE(builtin_info));
}
