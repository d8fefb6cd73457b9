/*
 * QMP, the JSON monitor: a server on a chardev speaking QEMU's protocol
 * (greeting, qmp_capabilities, {"execute": ..., "arguments": ..., "id":
 * ...} requests, {"return": ...} / {"error": {"class": ..., "desc":
 * ...}} replies, events with timestamps), and a command table that other
 * modules extend.
 *
 *   static void qmp_stop(const JsonValue *args, JsonValue **ret, Error **errp)
 *   {
 *       ... on failure: error_setg(errp, "..."); return;
 *       ... leave *ret NULL for {"return": {}}, or set it (owned by QMP)
 *   }
 *   static const QmpCommand cmds[] = { { "stop", "", qmp_stop } };
 *   qmp_register_commands(cmds, ARRAY_SIZE(cmds));
 *
 * Argument specs are checked before the handler runs, with QEMU's
 * messages ("Parameter 'x' is missing", "Parameter 'x' is unexpected",
 * "Invalid parameter type for 'x', expected: string"): comma-separated
 * "name:TYPE", '?' for optional; TYPE is s (string), i (integer), n
 * (number), b (boolean), o (object), a (array) or v (any value). The
 * handler gets the arguments object (never NULL).
 */
#ifndef MONITOR_QMP_H
#define MONITOR_QMP_H

#include "monitor/monitor.h"
#include "util/json-parser.h"

typedef void QmpCommandFn(const JsonValue *args, JsonValue **ret, Error **errp);

typedef struct QmpCommand {
    const char *name;
    const char *args;
    QmpCommandFn *fn;
} QmpCommand;

/* The table is used in place; a later command of the same name wins. */
void qmp_register_commands(const QmpCommand *cmds, size_t n);

/* Chooses the class of the error the running handler is about to
 * return ("DeviceNotFound", "CommandNotFound"...); GenericError
 * otherwise. */
void qmp_set_error_class(const char *cls);

/* A QMP server on chr: greets each client that connects. 'pretty'
 * prints replies indented (-qmp-pretty). */
Monitor *monitor_new_qmp(Chardev *chr, bool pretty, Error **errp);

/* Sends {"timestamp": {"seconds": S, "microseconds": US}, "event": NAME,
 * "data": DATA} (no "data" if NULL) to every QMP client past
 * negotiation. Takes ownership of data. */
void monitor_emit_event(const char *name, JsonValue *data);

/* Runs one request as a negotiated client would and returns the reply
 * text (caller frees), for tests and internal callers. */
char *qmp_execute(const char *request_json);

#endif
