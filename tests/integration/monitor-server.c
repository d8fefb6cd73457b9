/*
 * A monitor without a machine, for test_monitor_console.py: HMP and QMP
 * on chardevs given as -monitor/-qmp style specs, and optionally a fake
 * "serial port" frontend that answers every byte it gets uppercased (so
 * a test can see where mux input goes). Built by the test itself against
 * libminipc.a.
 *
 *   monitor-server [-monitor SPEC] [-qmp SPEC] [-serial SPEC]
 *
 * A "mon:..." -serial spec gets the monitor attached, as -nographic does.
 * Extra HMP commands for the tests: "x-emit NAME" sends a QMP event,
 * "x-stop"/"x-cont" switch the virtual clock (so "info status" changes).
 */
#include <ctype.h>
#include <stdio.h>

#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "util/chardev.h"
#include "util/main-loop.h"
#include "util/timer.h"

static Chardev *serial_chr;

static int serial_can_read(void *opaque)
{
    return 64;
}

static void serial_read(void *opaque, const uint8_t *buf, int len)
{
    char out[64];
    for (int i = 0; i < len && i < 64; i++) {
        out[i] = (char)toupper(buf[i]);
    }
    chardev_write(serial_chr, out, MIN(len, 64));
}

static void serial_event(void *opaque, int event)
{
    if (event == CHR_EVENT_BREAK) {
        chardev_printf(serial_chr, "<BREAK>");
    }
}

static void hmp_emit(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    JsonValue *data = json_new_object();
    json_object_set_str(data, "from", "x-emit");
    monitor_emit_event(monitor_arg_str(args, "name", "?"), data);
}

static void hmp_stop(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    clock_virtual_stop();
}

static void hmp_cont(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    clock_virtual_start();
}

static const MonitorCommand test_cmds[] = {
    { "x-emit", "name:s", "name", "send a QMP event", hmp_emit },
    { "x-stop", "", "", "stop the virtual clock", hmp_stop },
    { "x-cont", "", "", "start the virtual clock", hmp_cont },
};

int main(int argc, char **argv)
{
    error_set_progname(argv[0]);
    const char *mon_spec = NULL, *qmp_spec = NULL, *serial_spec = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-monitor")) {
            mon_spec = argv[i + 1];
        } else if (!strcmp(argv[i], "-qmp")) {
            qmp_spec = argv[i + 1];
        } else if (!strcmp(argv[i], "-serial")) {
            serial_spec = argv[i + 1];
        } else {
            fprintf(stderr, "usage: %s [-monitor SPEC] [-qmp SPEC] [-serial SPEC]\n", argv[0]);
            return 2;
        }
    }
    monitor_register_commands(test_cmds, ARRAY_SIZE(test_cmds));
    if (serial_spec) {
        serial_chr = chardev_new_from_spec("serial0", serial_spec, &error_fatal);
        ChardevHandlers h = { serial_can_read, serial_read, serial_event, &serial_chr };
        chardev_set_handlers(serial_chr, &h);
        if (chardev_mux_wants_monitor(serial_chr)) {
            monitor_new_hmp(serial_chr, &error_fatal);
        }
    }
    if (mon_spec) {
        Chardev *chr = chardev_new_from_spec("compat_monitor0", mon_spec, &error_fatal);
        monitor_new_hmp(chr, &error_fatal);
    }
    if (qmp_spec) {
        Chardev *chr = chardev_new_from_spec("qmp0", qmp_spec, &error_fatal);
        monitor_new_qmp(chr, false, &error_fatal);
    }
    fprintf(stderr, "monitor-server ready\n");
    int status = main_loop_run();
    monitor_free_all();
    chardev_free_all();
    return status;
}
