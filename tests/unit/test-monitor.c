/* Unit tests for monitor/: argument specs, expressions, HMP dispatch and
 * help, the console's line editing over a real chardev, and QMP. */
#include <check.h>
#include <stdio.h>

#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "util/main-loop.h"
#include "util/timer.h"
#include "../../monitor/monitor-internal.h"

/* ---- helpers ---- */

static char *hmp(const char *line)
{
    StrBuf out;
    strbuf_init(&out);
    monitor_hmp_execute(line, &out);
    char *s = strbuf_steal(&out);
    strbuf_free(&out);
    return s;
}

static void hmp_expect(const char *line, const char *want)
{
    char *got = hmp(line);
    ck_assert_msg(!strcmp(got, want), "'%s': got '%s', want '%s'", line, got, want);
    free(got);
}

static void qmp_expect(const char *req, const char *want)
{
    char *got = qmp_execute(req);
    ck_assert_msg(!strcmp(got, want), "%s\n got  %s\n want %s", req, got, want);
    free(got);
}

/* Reads everything the chardev's peer would see. */
static char *drain(Chardev *chr)
{
    StrBuf sb;
    strbuf_init(&sb);
    char buf[256];
    size_t n;
    main_loop_wait(0);
    while ((n = chardev_ringbuf_read(chr, buf, sizeof(buf))) > 0) {
        strbuf_append_len(&sb, buf, n);
    }
    char *s = strbuf_steal(&sb);
    strbuf_free(&sb);
    return s;
}

static void type(Chardev *chr, const char *keys)
{
    ck_assert_int_eq(chardev_ringbuf_input(chr, keys, strlen(keys)), (int)strlen(keys));
    main_loop_wait(0);
}

/* {"qemu": {"micro": .., "minor": .., "major": ..}, "package": "minipc"} */
static char version_json[128];
static void make_version_json(void)
{
    int ma = 0, mi = 0, mc = 0;
    sscanf(MINIPC_VERSION, "%d.%d.%d", &ma, &mi, &mc);
    snprintf(version_json, sizeof(version_json),
             "{\"qemu\": {\"micro\": %d, \"minor\": %d, \"major\": %d}, \"package\": \"minipc\"}",
             mc, mi, ma);
}

/* Expects {"return": VERSION<tail>. */
static void qmp_expect_version(const char *req, const char *tail)
{
    char *want = xasprintf("{\"return\": %s%s", version_json, tail);
    qmp_expect(req, want);
    free(want);
}

/* ---- a test command table ---- */

static char last_call[512];

static void dump_args(const MonitorArgs *args, const char *const *names, int n)
{
    last_call[0] = 0;
    for (int i = 0; i < n; i++) {
        char item[128];
        if (!monitor_arg_has(args, names[i])) {
            snprintf(item, sizeof(item), "%s=- ", names[i]);
        } else if (monitor_arg_str(args, names[i], NULL)) {
            snprintf(item, sizeof(item), "%s='%s' ", names[i], monitor_arg_str(args, names[i], NULL));
        } else {
            snprintf(item, sizeof(item), "%s=%" PRId64 " ", names[i],
                     monitor_arg_int(args, names[i], monitor_arg_bool(args, names[i], false)));
        }
        strcat(last_call, item);
    }
}

static void cmd_args(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    static const char *const names[] = { "force", "fmt", "name", "n", "size", "on", "rest" };
    dump_args(args, names, 7);
    monitor_printf(mon, "ok\n");
}

static void cmd_x(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    static const char *const names[] = { "count", "format", "size", "addr" };
    dump_args(args, names, 4);
}

static void cmd_fail(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    error_report("reported from %s", "inside");
    error_setg(errp, "Snapshot '%s' does not exist", monitor_arg_str(args, "tag", "?"));
}

static void cmd_hello(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    monitor_printf(mon, "hello %s\n", monitor_arg_str(args, "who", "world"));
}

static void cmd_hello2(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    monitor_printf(mon, "replaced\n");
}

static void info_thing(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    monitor_printf(mon, "thing %" PRId64 "\nline2\n", monitor_arg_int(args, "n", -1));
}

static const MonitorCommand test_cmds[] = {
    { "targs|ta", "force:-f,fmt:-ts,name:s,n:i?,size:o?,on:b?,rest:S?", "[-f] [-t fmt] name [n]",
      "argument test", cmd_args },
    { "tx", "fmt:/,addr:l", "/fmt addr", "dump test", cmd_x },
    { "tfail", "tag:s?", "[tag]", "fails", cmd_fail },
    { "hello", "who:s?", "[who]", "say hello", cmd_hello },
    { "hellx", "", "", "another h-word", cmd_hello },
};
static const MonitorCommand test_cmds2[] = {
    { "hellx", "", "", "replaced", cmd_hello2 },
};
static const MonitorCommand test_info[] = {
    { "thing", "n:i?", "[n]", "show the thing", info_thing },
};

static bool reg_lookup(const char *name, int64_t *v, void *opaque)
{
    if (!strcmp(name, "eip")) {
        *v = 0x1000;
        return true;
    }
    return false;
}

static void setup(void)
{
    monitor_register_commands(test_cmds, ARRAY_SIZE(test_cmds));
    monitor_register_commands(test_cmds2, ARRAY_SIZE(test_cmds2));
    monitor_register_info_commands(test_info, ARRAY_SIZE(test_info));
    monitor_set_register_fn(reg_lookup, NULL);
    make_version_json();
}

/* ---- tests ---- */

static void expr_ok(const char *s, int64_t want)
{
    const char *p = s;
    int64_t v;
    Error *err = NULL;
    ck_assert_msg(monitor_parse_expr(&p, &v, &err) == 0, "'%s': %s", s, error_get_pretty(err));
    ck_assert_msg(v == want, "'%s' = %" PRId64 ", want %" PRId64, s, v, want);
}

static void expr_bad(const char *s, const char *msg)
{
    const char *p = s;
    int64_t v;
    Error *err = NULL;
    ck_assert_msg(monitor_parse_expr(&p, &v, &err) < 0, "'%s' parsed", s);
    ck_assert_msg(!strcmp(error_get_pretty(err), msg), "'%s': got '%s'", s, error_get_pretty(err));
    error_free(err);
}

START_TEST(test_expressions)
{
    expr_ok("42", 42);
    expr_ok("0x10+4", 20);
    expr_ok("0x10 + 4", 20);
    expr_ok("(0x10+4)*2", 40);
    expr_ok("1+2*3", 7);
    expr_ok("-5 % 3", -2);
    expr_ok("~0", -1);
    expr_ok("010", 8);
    expr_ok("1 << 4 | 1", 17);
    expr_ok("0xff & 0x0f ^ 0x3", 12);
    expr_ok("'A'", 65);
    expr_ok("$eip + 4", 0x1004);
    expr_ok("0xffffffffffffffff", -1);
    expr_bad("", "unexpected end of expression");
    expr_bad("zz", "invalid char 'z' in expression");
    expr_bad("12abc", "invalid char 'a' in expression");
    expr_bad("99999999999999999999999", "number too large");
    expr_bad("1/0", "division by zero");
    expr_bad("(1+2", "')' expected");
    expr_bad("$nope", "unknown register 'nope'");

    /* An operator after a space needs a space after it too: the
     * expression ends before "/tmp/f". */
    const char *p = "10 /tmp/f";
    int64_t v;
    ck_assert_int_eq(monitor_parse_expr(&p, &v, NULL), 0);
    ck_assert_int_eq(v, 10);
    ck_assert_str_eq(p, " /tmp/f");
}
END_TEST

START_TEST(test_arg_specs)
{
    char *out = hmp("targs foo");
    ck_assert_str_eq(out, "ok\r\n");
    free(out);
    ck_assert_str_eq(last_call, "force=- fmt=- name='foo' n=- size=- on=- rest=- ");

    out = hmp("ta -t png -f \"a \\\"q\\\" b\" 0x10+1 4k on  the rest  ");
    free(out);
    ck_assert_str_eq(last_call,
                     "force=1 fmt='png' name='a \"q\" b' n=17 size=4096 on=1 rest='the rest' ");

    out = hmp("tx /10xb $eip");
    free(out);
    ck_assert_str_eq(last_call, "count=10 format=120 size=1 addr=4096 ");
    out = hmp("tx 0x20");
    free(out);
    ck_assert_str_eq(last_call, "count=- format=- size=- addr=32 ");

    hmp_expect("targs", "targs|ta: string expected\r\nTry \"help targs\" for more information\r\n");
    hmp_expect("ta x 1 2 maybe",
               "Expected 'on' or 'off'\r\nTry \"help ta\" for more information\r\n");
    hmp_expect("ta x 99999999999", "integer is for 32-bit values\r\n"
               "Try \"help ta\" for more information\r\n");
    hmp_expect("ta x 1 4q", "invalid size\r\nTry \"help ta\" for more information\r\n");
    hmp_expect("ta \"open", "unterminated string\r\nTry \"help ta\" for more information\r\n");
    hmp_expect("tx /2z 0", "invalid char in format: 'z'\r\nTry \"help tx\" for more information\r\n");
    hmp_expect("tx /2x", "unexpected end of expression\r\nTry \"help tx\" for more information\r\n");
    hmp_expect("tx /2x zz", "invalid char 'z' in expression\r\n"
               "Try \"help tx\" for more information\r\n");
    hmp_expect("quit now", "quit|q: extraneous characters at the end of line\r\n"
               "Try \"help quit\" for more information\r\n");
    hmp_expect("info status extra", "status: extraneous characters at the end of line\r\n"
               "Try \"help info status\" for more information\r\n");
}
END_TEST

START_TEST(test_hmp_dispatch_and_help)
{
    hmp_expect("", "");
    hmp_expect("   ", "");
    hmp_expect("foo", "unknown command: 'foo'\r\n");
    hmp_expect("\"quoted\"", "unknown command: '\"quoted\"'\r\n");
    hmp_expect("info foo", "unknown command: 'info foo'\r\n");
    hmp_expect("hello", "hello world\r\n");
    hmp_expect("  hello   you  ", "hello you\r\n");
    hmp_expect("hellx", "replaced\r\n");
    hmp_expect("info thing 5", "thing 5\r\nline2\r\n");
    hmp_expect("info version", MINIPC_VERSION "\r\n");
    /* Errors from a handler, and error_report() inside it. */
    hmp_expect("tfail s1", "reported from inside\r\nError: Snapshot 's1' does not exist\r\n");

    hmp_expect("help quit", "quit|q  -- quit the emulator\r\n");
    hmp_expect("help q", "quit|q  -- quit the emulator\r\n");
    hmp_expect("? ta", "targs|ta [-f] [-t fmt] name [n] -- argument test\r\n");
    hmp_expect("help foo", "unknown command: 'foo'\r\n");
    hmp_expect("help info thing", "info thing [n] -- show the thing\r\n");
    hmp_expect("help info nope", "unknown command: 'info nope'\r\n");
    hmp_expect("help help", "help|? [cmd] -- show the help\r\n");

    /* Full lists are sorted; "info" alone lists the info commands. */
    char *all = hmp("help");
    char *h = strstr(all, "help|? [cmd] -- show the help\r\n");
    char *i = strstr(all, "info [subcommand] -- show various information about the system state\r\n");
    char *q = strstr(all, "quit|q  -- quit the emulator\r\n");
    ck_assert(h && i && q && h < i && i < q);
    ck_assert_ptr_null(strstr(all, "another h-word"));   /* replaced */
    free(all);
    char *info = hmp("info");
    char *help_info = hmp("help info");
    ck_assert_str_eq(info, help_info);
    char *c = strstr(info, "info chardev  -- show the character devices\r\n");
    char *s = strstr(info, "info status  -- show the current VM status (running|paused)\r\n");
    char *t = strstr(info, "info thing [n] -- show the thing\r\n");
    ck_assert(c && s && t && c < s && s < t);
    free(info);
    free(help_info);
}
END_TEST

static const char *fake_state = "prelaunch";
static const char *runstate(void *opaque)
{
    return fake_state;
}

START_TEST(test_info_status_and_chardev)
{
    /* Default: the virtual clock says. */
    hmp_expect("info status", "VM status: running\r\n");
    clock_virtual_stop();
    hmp_expect("info status", "VM status: paused\r\n");
    monitor_set_runstate_fn(runstate, NULL);
    hmp_expect("info status", "VM status: paused (prelaunch)\r\n");
    qmp_expect("{\"execute\": \"query-status\"}",
               "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}");
    fake_state = "running";
    hmp_expect("info status", "VM status: running\r\n");
    qmp_expect("{\"execute\": \"query-status\"}",
               "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}");

    Chardev *a = chardev_new_from_spec("serial0", "null", &error_abort);
    Chardev *b = chardev_new_from_spec("monitor0", "vc", &error_abort);
    hmp_expect("info chardev", "serial0: filename=null\r\nmonitor0: filename=vc\r\n");
    chardev_free(a);
    chardev_free(b);
}
END_TEST

START_TEST(test_console_editing)
{
    Chardev *chr = chardev_new_from_spec("mon", "vc", &error_abort);
    Monitor *mon = monitor_new_hmp(chr, &error_abort);
    ck_assert(monitor_is_interactive(mon));
    char *out = drain(chr);
    ck_assert_str_eq(out, "minipc " MINIPC_VERSION
                     " monitor - type 'help' for more information\r\n(minipc) ");
    free(out);

    /* Plain typing echoes; Enter runs; the prompt comes back. */
    type(chr, "hello\r");
    out = drain(chr);
    ck_assert_str_eq(out, "hello\r\nhello world\r\n(minipc) ");
    free(out);

    /* CR LF is one Enter; an empty line just prompts. */
    type(chr, "\r\n");
    out = drain(chr);
    ck_assert_str_eq(out, "\r\n(minipc) ");
    free(out);

    /* Left arrow, insert in the middle, Home/End, Ctrl-K, Ctrl-U,
     * Ctrl-W, backspace, Delete: check the line that runs. */
    type(chr, "hllo you\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[De\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "hello you\r\n"));
    free(out);
    type(chr, "garbage\x15hello x\x17them\x01\x05\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "hello them\r\n"));
    free(out);
    type(chr, "hello abcdef\x1b[D\x1b[D\x1b[D\x0b\x7f\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "hello ab\r\n"));
    free(out);
    type(chr, "xyz hello\x01\x1b[3~\x1b[3~\x1b[3~\x1b[3~\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "hello world\r\n"));
    free(out);

    /* History: Up goes back, Down returns to the line being typed. */
    type(chr, "\x1b[A\r");
    out = drain(chr);
    ck_assert_msg(strstr(out, "hello world\r\n") != NULL, "out=%s", out);
    free(out);
    type(chr, "hel\x1b[A\x1b[A\x1b[B\x1b[B\x05lo\r");
    out = drain(chr);
    ck_assert_str_eq(strstr(out, "\r\n"), "\r\nhello world\r\n(minipc) ");
    free(out);
    char *hist = hmp("info history");
    ck_assert_str_eq(hist, "");   /* capture monitors have no history */
    free(hist);
    type(chr, "info history\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "0: 'hello'\r\n1: 'hello you'\r\n"));
    ck_assert_ptr_nonnull(strstr(out, "'info history'\r\n(minipc) "));
    free(out);

    /* Tab: a unique completion, then a list, then info subcommands. */
    type(chr, "tfa\t");
    out = drain(chr);
    ck_assert_str_eq(out, "tfail ");
    free(out);
    type(chr, "\x15hel\t");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "\r\nhello  hellx  help\r\n(minipc) hel"));
    free(out);
    type(chr, "\x15info sta\t");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "info status "));
    free(out);
    type(chr, "\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "VM status: running\r\n(minipc) "));
    free(out);

    /* Bad arguments: one line, the hint, and the prompt back. */
    type(chr, "quit now\r");
    out = drain(chr);
    ck_assert_ptr_nonnull(strstr(out, "\r\nquit|q: extraneous characters at the end of line\r\n"
                                      "Try \"help quit\" for more information\r\n(minipc) "));
    free(out);

    /* quit: exit requested, SHUTDOWN event, no new prompt. */
    type(chr, "q\r");
    out = drain(chr);
    ck_assert_str_eq(out, "q\r\n");
    free(out);
    int status = -1;
    ck_assert(main_loop_exit_requested(&status));
    ck_assert_int_eq(status, 0);
    monitor_free(mon);
    chardev_free(chr);
}
END_TEST

START_TEST(test_console_on_mux)
{
    Chardev *mux = chardev_new_from_opts("vc,id=con,mux=on", &error_abort);
    Chardev *base = chardev_find("con-base");
    ck_assert_ptr_nonnull(base);
    /* A serial frontend first (it has the focus), then the monitor. */
    ChardevHandlers serial = { 0 };
    int dummy;
    serial.opaque = &dummy;
    chardev_set_handlers(mux, &serial);
    Monitor *mon = monitor_new_hmp(mux, &error_abort);
    char *out = drain(base);
    ck_assert_str_eq(out, "");   /* no banner while the serial port has the focus */
    free(out);
    type(base, "\x01" "c");
    out = drain(base);
    ck_assert_str_eq(out, "minipc " MINIPC_VERSION
                     " monitor - type 'help' for more information\r\n(minipc) ");
    free(out);
    type(base, "hello\r");
    out = drain(base);
    ck_assert_str_eq(out, "hello\r\nhello world\r\n(minipc) ");
    free(out);
    /* Away and back: just the prompt. */
    type(base, "\x01" "c\x01" "c");
    out = drain(base);
    ck_assert_str_eq(out, "(minipc) ");
    free(out);
    monitor_free(mon);
    chardev_free(mux);
}
END_TEST

/* ---- QMP ---- */

static void qmp_fail(const JsonValue *args, JsonValue **ret, Error **errp)
{
    qmp_set_error_class("DeviceNotFound");
    error_setg(errp, "Device '%s' not found", json_get_string(json_object_get(args, "device")));
}

static void qmp_echo(const JsonValue *args, JsonValue **ret, Error **errp)
{
    *ret = json_clone(args);
}

static const QmpCommand test_qmp[] = {
    { "x-fail", "device:s", qmp_fail },
    { "x-echo", "s:s?,i:i?,n:n?,b:b?,o:o?,a:a?,v:v?", qmp_echo },
};

START_TEST(test_qmp_dispatch)
{
    qmp_register_commands(test_qmp, ARRAY_SIZE(test_qmp));
    qmp_expect_version("{\"execute\": \"query-version\"}", "}");
    qmp_expect_version("{\"execute\": \"query-version\", \"id\": {\"a\": [1]}}",
                       ", \"id\": {\"a\": [1]}}");
    qmp_expect("{\"execute\": \"human-monitor-command\", "
               "\"arguments\": {\"command-line\": \"help quit\"}}",
               "{\"return\": \"quit|q  -- quit the emulator\\r\\n\"}");
    qmp_expect("{\"execute\": \"human-monitor-command\", "
               "\"arguments\": {\"command-line\": \"foo\"}, \"id\": 3}",
               "{\"return\": \"unknown command: 'foo'\\r\\n\", \"id\": 3}");
    qmp_expect("{\"execute\": \"human-monitor-command\"}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"Parameter 'command-line' is missing\"}}");
    qmp_expect("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": 1}}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"Invalid parameter type for 'command-line', expected: string\"}}");
    qmp_expect("{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}",
               "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is unexpected\"}}");
    qmp_expect("{\"execute\": \"query-status\", \"arguments\": []}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"QMP input member 'arguments' must be an object\"}}");
    qmp_expect("{\"execute\": \"query-status\", \"extra\": 1}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"QMP input member 'extra' is unexpected\"}}");
    qmp_expect("{\"execute\": 1}", "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"QMP input member 'execute' must be a string\"}}");
    qmp_expect("{\"id\": 1}", "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"QMP input lacks member 'execute'\"}, \"id\": 1}");
    qmp_expect("[1, 2]", "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"QMP input must be a JSON object\"}}");
    qmp_expect("{bad", "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"JSON parse error, expecting a member name\"}}");
    qmp_expect("{\"execute\": \"nope\"}", "{\"error\": {\"class\": \"CommandNotFound\", "
               "\"desc\": \"The command nope has not been found\"}}");
    qmp_expect("{\"execute\": \"x-fail\", \"arguments\": {\"device\": \"ide0\"}}",
               "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'ide0' not found\"}}");
    /* The class does not stick to the next error. */
    qmp_expect("{\"execute\": \"x-fail\"}", "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"Parameter 'device' is missing\"}}");
    qmp_expect("{\"execute\": \"x-echo\", \"arguments\": {\"s\": \"x\", \"i\": -1, \"n\": 1.5, "
               "\"b\": true, \"o\": {}, \"a\": [], \"v\": null}}",
               "{\"return\": {\"s\": \"x\", \"i\": -1, \"n\": 1.5, \"b\": true, \"o\": {}, "
               "\"a\": [], \"v\": null}}");
    qmp_expect("{\"execute\": \"x-echo\", \"arguments\": {\"n\": \"1\"}}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"Invalid parameter type for 'n', expected: number\"}}");
    qmp_expect("{\"execute\": \"x-echo\", \"arguments\": {\"i\": 1.5}}",
               "{\"error\": {\"class\": \"GenericError\", "
               "\"desc\": \"Invalid parameter type for 'i', expected: integer\"}}");

    char *cmds = qmp_execute("{\"execute\": \"query-commands\"}");
    ck_assert_ptr_nonnull(strstr(cmds, "{\"name\": \"qmp_capabilities\"}"));
    ck_assert_ptr_nonnull(strstr(cmds, "{\"name\": \"query-version\"}"));
    ck_assert_ptr_nonnull(strstr(cmds, "{\"name\": \"human-monitor-command\"}"));
    ck_assert_ptr_nonnull(strstr(cmds, "{\"name\": \"x-echo\"}"));
    free(cmds);
}
END_TEST

/* Reads one "\r\n"-terminated QMP message from the chardev's output. */
static StrBuf qmp_pending;
static char *qmp_next(Chardev *chr)
{
    for (int i = 0; i < 100; i++) {
        char *nl = qmp_pending.str ? strstr(qmp_pending.str, "\r\n") : NULL;
        if (nl) {
            char *msg = xstrndup(qmp_pending.str, nl - qmp_pending.str);
            char *rest = xstrdup(nl + 2);
            strbuf_reset(&qmp_pending);
            strbuf_append(&qmp_pending, rest);
            free(rest);
            return msg;
        }
        char *more = drain(chr);
        strbuf_append(&qmp_pending, more);
        free(more);
    }
    return xstrdup("(nothing)");
}

static void qmp_next_expect(Chardev *chr, const char *want)
{
    char *got = qmp_next(chr);
    ck_assert_msg(!strcmp(got, want), "got  %s\nwant %s", got, want);
    free(got);
}

START_TEST(test_qmp_server)
{
    strbuf_init(&qmp_pending);
    Chardev *chr = chardev_new_from_spec("qmp", "vc", &error_abort);
    Monitor *mon = monitor_new_qmp(chr, false, &error_abort);
    ck_assert(!monitor_is_interactive(mon));
    char *greeting = xasprintf("{\"QMP\": {\"version\": %s, \"capabilities\": []}}",
                               version_json);
    qmp_next_expect(chr, greeting);
    free(greeting);

    /* Events wait for negotiation. */
    monitor_emit_event("STOP", NULL);
    type(chr, "{\"execute\": \"query-status\"}");
    qmp_next_expect(chr, "{\"error\": {\"class\": \"CommandNotFound\", "
                         "\"desc\": \"Expecting capabilities negotiation with 'qmp_capabilities'\"}}");
    type(chr, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
    qmp_next_expect(chr, "{\"error\": {\"class\": \"GenericError\", "
                         "\"desc\": \"Capability 'oob' not available\"}}");
    /* Split across writes, two requests in one write. */
    type(chr, "{\"execute\": \"qmp_capa");
    type(chr, "bilities\", \"id\": \"neg\"}\n{\"execute\": \"qmp_capabilities\"}");
    qmp_next_expect(chr, "{\"return\": {}, \"id\": \"neg\"}");
    qmp_next_expect(chr, "{\"error\": {\"class\": \"CommandNotFound\", "
                         "\"desc\": \"Capabilities negotiation is already complete, command ignored\"}}");

    JsonValue *data = json_new_object();
    json_object_set_str(data, "reason", "test");
    int64_t before = clock_get_ns(CLOCK_HOST) / NANOSECONDS_PER_SECOND;
    monitor_emit_event("RESET", data);
    char *ev = qmp_next(chr);
    JsonValue *v = json_parse(ev, strlen(ev), &error_abort);
    ck_assert_str_eq(json_object_key(v, 0), "timestamp");
    ck_assert_str_eq(json_object_key(v, 1), "event");
    ck_assert_str_eq(json_object_key(v, 2), "data");
    int64_t secs, usecs;
    JsonValue *ts = json_object_get(v, "timestamp");
    ck_assert(json_get_int64(json_object_get(ts, "seconds"), &secs));
    ck_assert(json_get_int64(json_object_get(ts, "microseconds"), &usecs));
    ck_assert_int_ge(secs, before);
    ck_assert(usecs >= 0 && usecs < 1000000);
    ck_assert_str_eq(json_get_string(json_object_get(v, "event")), "RESET");
    ck_assert_str_eq(json_get_string(json_object_get(json_object_get(v, "data"), "reason")),
                     "test");
    json_free(v);
    free(ev);

    /* Garbage gets an error and the stream goes on. */
    type(chr, "{bad json\n}\"str\"{\"execute\": \"query-status\", \"id\": 9}");
    qmp_next_expect(chr, "{\"error\": {\"class\": \"GenericError\", "
                         "\"desc\": \"JSON parse error, expecting a member name\"}}");
    qmp_next_expect(chr, "{\"error\": {\"class\": \"GenericError\", "
                         "\"desc\": \"QMP input must be a JSON object\"}}");
    qmp_next_expect(chr, "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
                         "\"running\": true}, \"id\": 9}");

    /* quit: the event, the reply, and the loop asked to exit. */
    type(chr, "{\"execute\": \"quit\"}");
    ev = qmp_next(chr);
    ck_assert_ptr_nonnull(strstr(ev, "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, "
                                     "\"reason\": \"host-qmp-quit\"}}"));
    free(ev);
    qmp_next_expect(chr, "{\"return\": {}}");
    ck_assert(main_loop_exit_requested(NULL));
    monitor_free_all();
    chardev_free(chr);
    strbuf_free(&qmp_pending);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_expressions);
    tcase_add_test(tc, test_arg_specs);
    tcase_add_test(tc, test_hmp_dispatch_and_help);
    tcase_add_test(tc, test_info_status_and_chardev);
    tcase_add_test(tc, test_console_editing);
    tcase_add_test(tc, test_console_on_mux);
    tcase_add_test(tc, test_qmp_dispatch);
    tcase_add_test(tc, test_qmp_server);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
