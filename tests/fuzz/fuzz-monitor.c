/* Fuzz target for monitor/: hostile bytes typed into an HMP console
 * (line editing, escape sequences, completion, history, argument specs
 * of every type, expressions) and sent to a QMP server. */
#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "util/main-loop.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cmd_any(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    static const char *const names[] = { "f", "t", "s", "n", "l", "o", "b", "rest",
                                         "count", "format", "size", "addr" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (monitor_arg_has(args, names[i])) {
            monitor_printf(mon, "%s=%s/%" PRId64 "\n", names[i],
                           monitor_arg_str(args, names[i], "-"),
                           monitor_arg_int(args, names[i], 0));
        }
    }
    if (monitor_arg_bool(args, "b", false)) {
        error_setg(errp, "failing on purpose");
    }
}

static const MonitorCommand fuzz_cmds[] = {
    { "fa", "f:-f,t:-ts,s:s,n:i?,l:l?,o:o?,b:b?,rest:S?", "", "all types", cmd_any },
    { "fx", "fmt:/,addr:l", "", "dump", cmd_any },
};

static Chardev *hmp_chr, *qmp_chr;

static void setup(void)
{
    if (hmp_chr) {
        return;
    }
    monitor_register_commands(fuzz_cmds, ARRAY_SIZE(fuzz_cmds));
    hmp_chr = chardev_new_from_spec("fuzz-hmp", "vc", &error_abort);
    qmp_chr = chardev_new_from_spec("fuzz-qmp", "vc", &error_abort);
    monitor_new_hmp(hmp_chr, &error_abort);
    monitor_new_qmp(qmp_chr, false, &error_abort);
    main_loop_wait(0);
}

static void drain(Chardev *chr)
{
    uint8_t buf[4096];
    while (chardev_ringbuf_read(chr, buf, sizeof(buf)) > 0) {
        continue;
    }
}

static void type(Chardev *chr, const uint8_t *data, size_t size)
{
    while (size) {
        int n = chardev_ringbuf_input(chr, data, size);
        if (n <= 0) {
            break;
        }
        data += n;
        size -= n;
        main_loop_wait(0);
        drain(chr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    /* Commands that would end the process are harmless here: an exit
     * request only sets a flag nobody acts on. */
    type(hmp_chr, data, size);
    type(hmp_chr, (const uint8_t *)"\r", 1);

    /* The same bytes as one command line (NULs end it). */
    char *line = xstrndup((const char *)data, size);
    StrBuf out;
    strbuf_init(&out);
    monitor_hmp_execute(line, &out);
    char *fa = xasprintf("fa %s", line);
    monitor_hmp_execute(fa, &out);
    char *fx = xasprintf("fx %s", line);
    monitor_hmp_execute(fx, &out);
    strbuf_free(&out);
    free(fa);
    free(fx);
    free(line);

    type(qmp_chr, data, size);
    type(qmp_chr, (const uint8_t *)"\n", 1);
    return 0;
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    static const char *const seeds[] = {
        "help info\r\x1b[A\x1b[D\x1b[3~\x01\x0bhel\tinfo st\t\r",
        "-f -t png \"quoted \\\" word\" 0x10+(3*4)-~1 4k on rest of line",
        "/10xb $eip + 0x100",
        "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"human-monitor-command\", "
        "\"arguments\": {\"command-line\": \"help\"}, \"id\": [1, {\"a\": null}]}",
        "{\"execute\": \"query-status\"} [[[[[[[[[[ \"\\ud800\" ''",
    };
    for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
        emit((const uint8_t *)seeds[i], strlen(seeds[i]), opaque);
    }
}
