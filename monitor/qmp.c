/*
 * QMP: the JSON protocol server, its command table, argument checking,
 * events, and the commands that need no machine (qmp_capabilities,
 * query-version, query-commands, query-status, human-monitor-command,
 * quit).
 *
 * Requests are checked in QEMU's order and with QEMU's messages, so
 * clients written against QEMU see what they expect.
 */
#include <stdio.h>

#include "monitor-internal.h"
#include "util/main-loop.h"
#include "util/timer.h"

typedef struct QmpTable {
    const QmpCommand *cmds;
    size_t n;
} QmpTable;

static QmpTable *qmp_tables;
static size_t nqmp_tables;
static const char *error_class;

static void qmp_builtins_init(void);

void qmp_register_commands(const QmpCommand *cmds, size_t n)
{
    qmp_builtins_init();
    qmp_tables = xrealloc(qmp_tables, (nqmp_tables + 1) * sizeof(QmpTable));
    qmp_tables[nqmp_tables].cmds = cmds;
    qmp_tables[nqmp_tables].n = n;
    nqmp_tables++;
}

static const QmpCommand *qmp_find(const char *name)
{
    qmp_builtins_init();
    for (size_t t = nqmp_tables; t-- > 0;) {
        for (size_t i = qmp_tables[t].n; i-- > 0;) {
            if (!strcmp(qmp_tables[t].cmds[i].name, name)) {
                return &qmp_tables[t].cmds[i];
            }
        }
    }
    return NULL;
}

void qmp_set_error_class(const char *cls)
{
    error_class = cls;
}

/* ---- replies ---- */

static JsonValue *error_reply(const char *cls, const char *desc)
{
    JsonValue *e = json_new_object();
    json_object_set_str(e, "class", cls);
    json_object_set_str(e, "desc", desc);
    JsonValue *r = json_new_object();
    json_object_set(r, "error", e);
    return r;
}

static void send_json(Monitor *mon, const JsonValue *v)
{
    char *s = json_to_string(v, mon->pretty);
    monitor_puts(mon, s);
    monitor_puts(mon, "\n");
    free(s);
}

/* ---- argument checking ---- */

static bool type_ok(char t, const JsonValue *v, const char **expected)
{
    JsonType jt = json_type(v);
    switch (t) {
    case 's': *expected = "string"; return jt == JSON_STRING;
    case 'i': *expected = "integer"; return jt == JSON_INT || jt == JSON_UINT;
    case 'n':
        *expected = "number";
        return jt == JSON_INT || jt == JSON_UINT || jt == JSON_DOUBLE;
    case 'b': *expected = "boolean"; return jt == JSON_BOOL;
    case 'o': *expected = "object"; return jt == JSON_OBJECT;
    case 'a': *expected = "array"; return jt == JSON_ARRAY;
    default: *expected = "value"; return true;
    }
}

/* Looks 'name' up in spec; returns its type letter (0 if absent) and
 * whether it is optional. */
static char spec_lookup(const char *spec, const char *name, bool *optional)
{
    size_t nl = strlen(name);
    const char *p = spec ? spec : "";
    while (*p) {
        const char *colon = strchr(p, ':');
        if (!colon) {
            break;
        }
        const char *end = strchr(colon, ',');
        if (!end) {
            end = colon + strlen(colon);
        }
        if ((size_t)(colon - p) == nl && !strncmp(p, name, nl)) {
            *optional = end[-1] == '?';
            return colon[1];
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

static bool check_args(const QmpCommand *cmd, const JsonValue *args, Error **errp)
{
    for (size_t i = 0; i < json_object_len(args); i++) {
        const char *key = json_object_key(args, i);
        bool opt;
        char t = spec_lookup(cmd->args, key, &opt);
        const char *expected;
        if (!t) {
            error_setg(errp, "Parameter '%s' is unexpected", key);
            return false;
        }
        if (!type_ok(t, json_object_value(args, i), &expected)) {
            error_setg(errp, "Invalid parameter type for '%s', expected: %s", key, expected);
            return false;
        }
    }
    /* Every mandatory parameter present. */
    const char *p = cmd->args ? cmd->args : "";
    while (*p) {
        const char *colon = strchr(p, ':');
        if (!colon) {
            break;
        }
        const char *end = strchr(colon, ',');
        if (!end) {
            end = colon + strlen(colon);
        }
        if (end[-1] != '?') {
            char name[128];
            snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
            if (!json_object_get(args, name)) {
                error_setg(errp, "Parameter '%s' is missing", name);
                return false;
            }
        }
        p = *end ? end + 1 : end;
    }
    return true;
}

/* ---- dispatch ---- */

static JsonValue *dispatch(Monitor *mon, const JsonValue *req)
{
    if (json_type(req) != JSON_OBJECT) {
        return error_reply("GenericError", "QMP input must be a JSON object");
    }
    const char *name = NULL;
    const JsonValue *args = NULL;
    for (size_t i = 0; i < json_object_len(req); i++) {
        const char *key = json_object_key(req, i);
        const JsonValue *v = json_object_value(req, i);
        if (!strcmp(key, "execute")) {
            if (json_type(v) != JSON_STRING) {
                return error_reply("GenericError", "QMP input member 'execute' must be a string");
            }
            name = json_get_string(v);
        } else if (!strcmp(key, "arguments")) {
            if (json_type(v) != JSON_OBJECT) {
                return error_reply("GenericError",
                                   "QMP input member 'arguments' must be an object");
            }
            args = v;
        } else if (strcmp(key, "id") != 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "QMP input member '%.100s' is unexpected", key);
            return error_reply("GenericError", msg);
        }
    }
    if (!name) {
        return error_reply("GenericError", "QMP input lacks member 'execute'");
    }

    if (!strcmp(name, "qmp_capabilities")) {
        if (mon->qmp_ready) {
            return error_reply("CommandNotFound",
                               "Capabilities negotiation is already complete, command ignored");
        }
        const JsonValue *enable = json_object_get(args, "enable");
        for (size_t i = 0; i < json_object_len(args); i++) {
            if (strcmp(json_object_key(args, i), "enable")) {
                char msg[160];
                snprintf(msg, sizeof(msg), "Parameter '%.100s' is unexpected",
                         json_object_key(args, i));
                return error_reply("GenericError", msg);
            }
        }
        if (enable && json_type(enable) != JSON_ARRAY) {
            return error_reply("GenericError",
                               "Invalid parameter type for 'enable', expected: array");
        }
        for (size_t i = 0; i < json_array_len(enable); i++) {
            const char *cap = json_get_string(json_array_get(enable, i));
            char msg[160];
            snprintf(msg, sizeof(msg), "Capability '%.100s' not available", cap ? cap : "?");
            return error_reply("GenericError", msg);
        }
        mon->qmp_ready = true;
        JsonValue *r = json_new_object();
        json_object_set(r, "return", json_new_object());
        return r;
    }
    if (!mon->qmp_ready) {
        return error_reply("CommandNotFound",
                           "Expecting capabilities negotiation with 'qmp_capabilities'");
    }
    const QmpCommand *cmd = qmp_find(name);
    if (!cmd) {
        char msg[200];
        snprintf(msg, sizeof(msg), "The command %.150s has not been found", name);
        return error_reply("CommandNotFound", msg);
    }
    JsonValue *empty = NULL;
    if (!args) {
        args = empty = json_new_object();
    }
    Error *err = NULL;
    JsonValue *ret = NULL;
    JsonValue *reply;
    error_class = NULL;
    if (check_args(cmd, args, &err)) {
        cmd->fn(args, &ret, &err);
    }
    if (err) {
        reply = error_reply(error_class ? error_class : "GenericError", error_get_pretty(err));
        error_free(err);
        json_free(ret);
    } else {
        reply = json_new_object();
        json_object_set(reply, "return", ret ? ret : json_new_object());
    }
    error_class = NULL;
    json_free(empty);
    return reply;
}

static void handle_request(Monitor *mon, JsonValue *req, Error *err)
{
    JsonValue *reply;
    if (!req) {
        reply = error_reply("GenericError", error_get_pretty(err));
        error_free(err);
    } else {
        reply = dispatch(mon, req);
        const JsonValue *id = json_type(req) == JSON_OBJECT ? json_object_get(req, "id") : NULL;
        if (id) {
            json_object_set(reply, "id", json_clone(id));
        }
        json_free(req);
    }
    send_json(mon, reply);
    json_free(reply);
}

static void qmp_emit(void *opaque, JsonValue *v, Error *err)
{
    handle_request(opaque, v, err);
}

void monitor_qmp_read(Monitor *mon, const uint8_t *buf, int len)
{
    json_streamer_feed(mon->js, buf, len);
}

static void parse_version(int *major, int *minor, int *micro)
{
    *major = *minor = *micro = 0;
    sscanf(MINIPC_VERSION, "%d.%d.%d", major, minor, micro);
}

static JsonValue *version_object(void)
{
    int major, minor, micro;
    parse_version(&major, &minor, &micro);
    JsonValue *q = json_new_object();
    json_object_set_int(q, "micro", micro);
    json_object_set_int(q, "minor", minor);
    json_object_set_int(q, "major", major);
    JsonValue *v = json_new_object();
    json_object_set(v, "qemu", q);
    json_object_set_str(v, "package", "minipc");
    return v;
}

static void qmp_greet(Monitor *mon)
{
    JsonValue *inner = json_new_object();
    json_object_set(inner, "version", version_object());
    json_object_set(inner, "capabilities", json_new_array());
    JsonValue *g = json_new_object();
    json_object_set(g, "QMP", inner);
    send_json(mon, g);
    json_free(g);
}

void monitor_qmp_event(Monitor *mon, int event)
{
    switch (event) {
    case CHR_EVENT_OPENED:
    case CHR_EVENT_MUX_IN:
        if (event == CHR_EVENT_MUX_IN && mon->greeted) {
            break;
        }
        json_streamer_reset(mon->js);
        mon->qmp_ready = false;
        mon->greeted = true;
        qmp_greet(mon);
        break;
    case CHR_EVENT_CLOSED:
        json_streamer_reset(mon->js);
        mon->qmp_ready = false;
        mon->greeted = false;
        break;
    default:
        break;
    }
}

Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp)
{
    if (!chr) {
        error_setg(errp, "QMP: no character device");
        return NULL;
    }
    qmp_builtins_init();
    monitor_builtins_init();
    Monitor *mon = monitor_new_common(chr, true);
    mon->pretty = pretty;
    mon->js = json_streamer_new(qmp_emit, mon);
    monitor_attach(mon);
    return mon;
}

void monitor_emit_event(const char *name, JsonValue *data)
{
    int64_t now = clock_get_ns(CLOCK_HOST);
    JsonValue *ts = json_new_object();
    json_object_set_int(ts, "seconds", now / NANOSECONDS_PER_SECOND);
    json_object_set_int(ts, "microseconds", now % NANOSECONDS_PER_SECOND / 1000);
    JsonValue *ev = json_new_object();
    json_object_set(ev, "timestamp", ts);
    json_object_set_str(ev, "event", name);
    if (data) {
        json_object_set(ev, "data", data);
    }
    for (Monitor *m = monitor_list; m; m = m->next) {
        if (m->is_qmp && m->qmp_ready) {
            send_json(m, ev);
        }
    }
    json_free(ev);
}

char *qmp_execute(const char *request_json)
{
    Monitor mon = { .is_qmp = true, .qmp_ready = true };
    StrBuf out;
    strbuf_init(&out);
    mon.capture = &out;
    Error *err = NULL;
    JsonValue *req = json_parse(request_json, strlen(request_json), &err);
    handle_request(&mon, req, err);
    /* One line, without the "\r\n" the wire protocol adds. */
    while (out.len && (out.str[out.len - 1] == '\n' || out.str[out.len - 1] == '\r')) {
        out.str[--out.len] = 0;
    }
    char *s = strbuf_steal(&out);
    strbuf_free(&out);
    return s;
}

/* ---- built-in commands ---- */

static void qmp_query_version(const JsonValue *args, JsonValue **ret, Error **errp)
{
    *ret = version_object();
}

static void add_name(JsonValue *list, const char *name)
{
    for (size_t i = 0; i < json_array_len(list); i++) {
        if (!strcmp(json_get_string(json_object_get(json_array_get(list, i), "name")), name)) {
            return;
        }
    }
    JsonValue *o = json_new_object();
    json_object_set_str(o, "name", name);
    json_array_append(list, o);
}

static void qmp_query_commands(const JsonValue *args, JsonValue **ret, Error **errp)
{
    JsonValue *list = json_new_array();
    add_name(list, "qmp_capabilities");
    for (size_t t = 0; t < nqmp_tables; t++) {
        for (size_t i = 0; i < qmp_tables[t].n; i++) {
            add_name(list, qmp_tables[t].cmds[i].name);
        }
    }
    *ret = list;
}

static void qmp_query_status(const JsonValue *args, JsonValue **ret, Error **errp)
{
    const char *st = monitor_runstate();
    JsonValue *o = json_new_object();
    json_object_set_str(o, "status", st);
    json_object_set_bool(o, "singlestep", false);
    json_object_set_bool(o, "running", !strcmp(st, "running"));
    *ret = o;
}

static void qmp_hmp(const JsonValue *args, JsonValue **ret, Error **errp)
{
    StrBuf out;
    strbuf_init(&out);
    monitor_hmp_execute(json_get_string(json_object_get(args, "command-line")), &out);
    *ret = json_new_string(out.str);
    strbuf_free(&out);
}

static void qmp_quit(const JsonValue *args, JsonValue **ret, Error **errp)
{
    JsonValue *data = json_new_object();
    json_object_set_bool(data, "guest", false);
    json_object_set_str(data, "reason", "host-qmp-quit");
    monitor_emit_event("SHUTDOWN", data);
    main_loop_request_exit(0);
}

static const QmpCommand builtin_qmp[] = {
    { "query-version", "", qmp_query_version },
    { "query-commands", "", qmp_query_commands },
    { "query-status", "", qmp_query_status },
    { "human-monitor-command", "command-line:s,cpu-index:i?", qmp_hmp },
    { "quit", "", qmp_quit },
};

static void qmp_builtins_init(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;
    qmp_register_commands(builtin_qmp, ARRAY_SIZE(builtin_qmp));
}
