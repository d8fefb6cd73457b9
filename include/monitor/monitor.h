/*
 * The human monitor (HMP): a console on a chardev with prompt
 * "(minipc) ", line editing and history, and a command table that other
 * modules extend.
 *
 * Adding commands (usually from a module's init function):
 *
 *   static void hmp_savevm(Monitor *mon, const MonitorArgs *args, Error **errp)
 *   {
 *       const char *tag = monitor_arg_str(args, "tag", NULL);
 *       ...
 *       if (failed) { error_setg(errp, "..."); return; }
 *       monitor_printf(mon, "...\n");
 *   }
 *   static const MonitorCommand cmds[] = {
 *       { "savevm", "tag:s?", "tag", "save a VM snapshot...", hmp_savevm },
 *       { "cont|c", "", "", "resume emulation", hmp_cont },
 *   };
 *   monitor_register_commands(cmds, ARRAY_SIZE(cmds));
 *
 * An error set in errp is printed as "Error: MESSAGE"; error_report()
 * inside a handler goes to the monitor that runs it. Output uses '\n'
 * (sent as "\r\n", as QEMU does).
 *
 * Argument specs: comma-separated "name:TYPE", a '?' after TYPE makes it
 * optional. Words are separated by spaces; s/F/B words may be written
 * in double quotes with \" \\ \n \t escapes.
 *   s  a word                 F  a file name (a word)
 *   B  a block device (word)  S  the rest of the line
 *   i  an integer expression (32 bits, signed or unsigned range)
 *   l  an integer expression (64 bits): numbers (decimal, 0x hex, 0
 *      octal, 'c'), $register (see monitor_set_register_fn), + - * / %
 *      & | ^ ~ << >> and parentheses
 *   o  a size with an optional suffix k/K M G T (bytes)
 *   b  on or off
 *   /  the x/xp format "/[count][format][size]": args "count" (int),
 *      "format" (a character: x d u o c i s a) and "size" (1 2 4 8);
 *      optional as a whole; missing parts stay absent
 *   -c a flag "-c" (c a letter): a bool arg, true when given
 *   -cs a flag with a value "-c VALUE": a string arg
 * Flags may appear before the positional arguments, in any order.
 */
#ifndef MONITOR_MONITOR_H
#define MONITOR_MONITOR_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/chardev.h"
#include "util/strbuf.h"

typedef struct Monitor Monitor;
typedef struct MonitorArgs MonitorArgs;

typedef void MonitorHandler(Monitor *mon, const MonitorArgs *args, Error **errp);

typedef struct MonitorCommand {
    const char *name;     /* "cont|c": first is the name, then aliases */
    const char *args;     /* argument spec, see above */
    const char *params;   /* usage shown by help: "tag", "[tag]" */
    const char *help;
    MonitorHandler *handler;
} MonitorCommand;

/* The tables are used in place (keep them static). A later command with
 * the same name replaces an earlier one. */
void monitor_register_commands(const MonitorCommand *cmds, size_t n);
void monitor_register_info_commands(const MonitorCommand *cmds, size_t n);

/* Argument access; absent optional args give 'def'. */
bool monitor_arg_has(const MonitorArgs *args, const char *name);
const char *monitor_arg_str(const MonitorArgs *args, const char *name, const char *def);
int64_t monitor_arg_int(const MonitorArgs *args, const char *name, int64_t def);
bool monitor_arg_bool(const MonitorArgs *args, const char *name, bool def);

/* Output to the monitor (or the capture buffer of human-monitor-command). */
int monitor_printf(Monitor *mon, const char *fmt, ...) PRINTF_FMT(2, 3);
void monitor_puts(Monitor *mon, const char *s);
/* True for an HMP console on a chardev; false while capturing output for
 * human-monitor-command or monitor_hmp_execute. */
bool monitor_is_interactive(const Monitor *mon);

/* An HMP console on chr (a mux frontend if chr is a mux). It greets
 * with "minipc VERSION monitor - type 'help' for more information" when
 * the peer connects (or gets the mux focus) and shows the prompt. */
Monitor *monitor_new_hmp(Chardev *chr, Error **errp);
void monitor_free(Monitor *mon);
/* Frees every monitor (at exit). */
void monitor_free_all(void);

/* Runs one HMP command line as if typed, appending its output ("\r\n"
 * line ends, as QEMU's human-monitor-command returns) to 'out'. */
void monitor_hmp_execute(const char *line, StrBuf *out);

/* The monitor whose command is running, or NULL. */
Monitor *monitor_cur(void);

/* Run state for "info status" and query-status, as QEMU's RunState
 * names: "running", "paused", "prelaunch", "shutdown", "restore-vm",
 * "suspended", "internal-error", "io-error", "guest-panicked"...
 * Without a hook: "running" or "paused" from the virtual clock. */
typedef const char *MonitorRunStateFn(void *opaque);
void monitor_set_runstate_fn(MonitorRunStateFn *fn, void *opaque);
const char *monitor_runstate(void);

/* $name in expressions ("x /10i $eip"): the CPU installs a lookup that
 * returns false for unknown names. */
typedef bool MonitorRegisterFn(const char *name, int64_t *value, void *opaque);
void monitor_set_register_fn(MonitorRegisterFn *fn, void *opaque);

#endif
