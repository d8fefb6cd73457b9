/* Private to monitor/: the Monitor object and the HMP/QMP plumbing. */
#ifndef MONITOR_INTERNAL_H
#define MONITOR_INTERNAL_H

#include "monitor/monitor.h"
#include "monitor/qmp.h"
#include "util/json-parser.h"
#include "readline.h"

struct Monitor {
    Chardev *chr;            /* NULL for a capture monitor */
    bool is_qmp;
    bool pretty;
    bool greeted;
    ReadLine *rl;            /* HMP */
    StrBuf *capture;         /* human-monitor-command output */
    JsonStreamer *js;        /* QMP input */
    bool qmp_ready;          /* capabilities negotiated */
    Monitor *next;
};

typedef enum { MARG_STR, MARG_INT, MARG_BOOL } MonitorArgKind;

typedef struct MonitorArg {
    char *name;
    MonitorArgKind kind;
    char *str;
    int64_t i;
    bool b;
} MonitorArg;

struct MonitorArgs {
    MonitorArg *v;
    int n;
};

/* monitor.c */
extern Monitor *monitor_list;
void monitor_write_raw(Monitor *mon, const char *buf, size_t len);
Monitor *monitor_new_common(Chardev *chr, bool is_qmp);
void monitor_attach(Monitor *mon);

/* hmp-args.c: parses 'rest' against 'spec'. On error fills errp with
 * the one-line reason (without the "Try help" line). */
MonitorArgs *monitor_parse_args(const MonitorCommand *cmd, const char *rest, Error **errp);
void monitor_args_free(MonitorArgs *args);
/* Integer expressions, for tests and commands that parse by hand. */
int monitor_parse_expr(const char **pp, int64_t *out, Error **errp);

/* hmp.c */
void monitor_hmp_handle_line(Monitor *mon, const char *line);
void monitor_hmp_complete(Monitor *mon, ReadLine *rl, const char *before_cursor);
void monitor_builtins_init(void);
const MonitorCommand *monitor_find_command(const char *name, bool info);
/* Calls fn for every registered command, sorted by name. */
void monitor_foreach_command(bool info, void (*fn)(const MonitorCommand *cmd, void *opaque),
                             void *opaque);
void monitor_hmp_info(Monitor *mon, const MonitorArgs *args, Error **errp);
void monitor_hmp_help(Monitor *mon, const char *topic);
void monitor_hmp_help_list(Monitor *mon, bool info);
/* The first name of "cont|c" into buf. */
void monitor_cmd_name(const MonitorCommand *cmd, char *buf, size_t size);

/* qmp.c */
void monitor_qmp_event(Monitor *mon, int event);
void monitor_qmp_read(Monitor *mon, const uint8_t *buf, int len);

#endif
