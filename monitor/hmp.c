/*
 * HMP command tables, dispatch of a typed line, help and completion.
 *
 * Tables registered by modules are kept by pointer; lookups walk them
 * newest first so a later registration can replace a command. "info" is
 * an ordinary command whose handler dispatches into the info table.
 */
#include <stdio.h>

#include "monitor-internal.h"

typedef struct CmdTable {
    const MonitorCommand *cmds;
    size_t n;
} CmdTable;

static CmdTable *tables[2];    /* [0] commands, [1] info subcommands */
static size_t ntables[2];

static void register_table(int which, const MonitorCommand *cmds, size_t n)
{
    tables[which] = xrealloc(tables[which], (ntables[which] + 1) * sizeof(CmdTable));
    tables[which][ntables[which]].cmds = cmds;
    tables[which][ntables[which]].n = n;
    ntables[which]++;
}

void monitor_register_commands(const MonitorCommand *cmds, size_t n)
{
    monitor_builtins_init();
    register_table(0, cmds, n);
}

void monitor_register_info_commands(const MonitorCommand *cmds, size_t n)
{
    monitor_builtins_init();
    register_table(1, cmds, n);
}

/* Does 'name' match one of "cont|c"? */
static bool name_matches(const char *names, const char *name, size_t len)
{
    const char *p = names;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && !strncmp(p, name, len)) {
            return true;
        }
        if (!bar) {
            return false;
        }
        p = bar + 1;
    }
}

void monitor_cmd_name(const MonitorCommand *cmd, char *buf, size_t size)
{
    const char *bar = strchr(cmd->name, '|');
    size_t n = bar ? (size_t)(bar - cmd->name) : strlen(cmd->name);
    snprintf(buf, size, "%.*s", (int)n, cmd->name);
}

static const MonitorCommand *find_len(int which, const char *name, size_t len)
{
    monitor_builtins_init();
    for (size_t t = ntables[which]; t-- > 0;) {
        for (size_t i = tables[which][t].n; i-- > 0;) {
            const MonitorCommand *c = &tables[which][t].cmds[i];
            if (name_matches(c->name, name, len)) {
                return c;
            }
        }
    }
    return NULL;
}

const MonitorCommand *monitor_find_command(const char *name, bool info)
{
    return find_len(info ? 1 : 0, name, strlen(name));
}

static int cmp_cmd(const void *a, const void *b)
{
    const MonitorCommand *x = *(const MonitorCommand *const *)a;
    const MonitorCommand *y = *(const MonitorCommand *const *)b;
    return strcmp(x->name, y->name);
}

void monitor_foreach_command(bool info, void (*fn)(const MonitorCommand *cmd, void *opaque),
                             void *opaque)
{
    monitor_builtins_init();
    int which = info ? 1 : 0;
    size_t total = 0;
    for (size_t t = 0; t < ntables[which]; t++) {
        total += tables[which][t].n;
    }
    const MonitorCommand **v = XNEW_ARRAY(const MonitorCommand *, total ? total : 1);
    size_t n = 0;
    for (size_t t = 0; t < ntables[which]; t++) {
        for (size_t i = 0; i < tables[which][t].n; i++) {
            const MonitorCommand *c = &tables[which][t].cmds[i];
            char first[64];
            monitor_cmd_name(c, first, sizeof(first));
            /* Only the one a lookup would find (replacements win). */
            if (monitor_find_command(first, info) == c) {
                v[n++] = c;
            }
        }
    }
    qsort(v, n, sizeof(*v), cmp_cmd);
    for (size_t i = 0; i < n; i++) {
        fn(v[i], opaque);
    }
    free(v);
}

static void error_to_monitor(void *opaque, const char *msg)
{
    monitor_printf(opaque, "%s\n", msg);
}

/* Runs 'line' from the table 'which'; 'prefix' is "" or "info ". */
static void dispatch(Monitor *mon, int which, const char *prefix, const char *line)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    const char *name = p;
    while (*p && *p != ' ' && *p != '\t') {
        p++;
    }
    size_t len = p - name;
    if (!len) {
        return;
    }
    const MonitorCommand *cmd = find_len(which, name, len);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s%.*s'\n", prefix, (int)len, name);
        return;
    }
    Error *err = NULL;
    MonitorArgs *args = monitor_parse_args(cmd, p, &err);
    if (!args) {
        monitor_printf(mon, "%s\n", error_get_pretty(err));
        monitor_printf(mon, "Try \"help %s%.*s\" for more information\n", prefix, (int)len, name);
        error_free(err);
        return;
    }
    error_push_sink(error_to_monitor, mon);
    cmd->handler(mon, args, &err);
    error_pop_sink();
    if (err) {
        monitor_printf(mon, "Error: %s\n", error_get_pretty(err));
        error_free(err);
    }
    monitor_args_free(args);
}

static Monitor *cur_mon;

Monitor *monitor_cur(void)
{
    return cur_mon;
}

void monitor_hmp_handle_line(Monitor *mon, const char *line)
{
    Monitor *outer = cur_mon;
    cur_mon = mon;
    dispatch(mon, 0, "", line);
    cur_mon = outer;
}

/* "info" itself: the rest of the line is an info subcommand. */
void monitor_hmp_info(Monitor *mon, const MonitorArgs *args, Error **errp)
{
    const char *rest = monitor_arg_str(args, "item", NULL);
    if (!rest || !*rest) {
        monitor_hmp_help_list(mon, true);
        return;
    }
    dispatch(mon, 1, "info ", rest);
}

/* ---- help ---- */

static void print_help_line(const MonitorCommand *cmd, void *opaque)
{
    Monitor *mon = ((void **)opaque)[0];
    const char *prefix = ((void **)opaque)[1];
    monitor_printf(mon, "%s%s %s -- %s\n", prefix, cmd->name, cmd->params ? cmd->params : "",
                   cmd->help ? cmd->help : "");
}

void monitor_hmp_help_list(Monitor *mon, bool info)
{
    void *ctx[2] = { mon, info ? "info " : "" };
    monitor_foreach_command(info, print_help_line, ctx);
}

void monitor_hmp_help(Monitor *mon, const char *topic)
{
    if (!topic || !*topic) {
        monitor_hmp_help_list(mon, false);
        return;
    }
    char word1[128], word2[128];
    word1[0] = word2[0] = 0;
    sscanf(topic, "%127s %127s", word1, word2);
    const MonitorCommand *cmd = monitor_find_command(word1, false);
    if (!cmd) {
        monitor_printf(mon, "unknown command: '%s'\n", word1);
        return;
    }
    char first[64];
    monitor_cmd_name(cmd, first, sizeof(first));
    if (!strcmp(first, "info")) {
        if (!word2[0]) {
            monitor_hmp_help_list(mon, true);
            return;
        }
        const MonitorCommand *sub = monitor_find_command(word2, true);
        if (!sub) {
            monitor_printf(mon, "unknown command: 'info %s'\n", word2);
            return;
        }
        void *ctx[2] = { mon, "info " };
        print_help_line(sub, ctx);
        return;
    }
    void *ctx[2] = { mon, "" };
    print_help_line(cmd, ctx);
}

/* ---- completion ---- */

typedef struct CompleteCtx {
    ReadLine *rl;
    const char *word;
} CompleteCtx;

static void complete_names(const MonitorCommand *cmd, void *opaque)
{
    CompleteCtx *c = opaque;
    size_t wl = strlen(c->word);
    const char *p = cmd->name;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n >= wl && !strncmp(p, c->word, wl)) {
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)n, p);
            readline_add_completion(c->rl, name);
        }
        if (!bar) {
            return;
        }
        p = bar + 1;
    }
}

void monitor_hmp_complete(Monitor *mon, ReadLine *rl, const char *before)
{
    char words[3][128];
    int nwords = 0;
    const char *p = before;
    /* Split; a trailing space starts a new, empty word. */
    for (;;) {
        while (*p == ' ') {
            p++;
        }
        if (!*p) {
            if (p > before && p[-1] == ' ' && nwords < 3) {
                words[nwords++][0] = 0;
            }
            break;
        }
        if (nwords == 3) {
            return;
        }
        size_t n = strcspn(p, " ");
        snprintf(words[nwords++], sizeof(words[0]), "%.*s", (int)MIN(n, 127), p);
        p += n;
    }
    if (nwords == 0) {
        words[0][0] = 0;
        nwords = 1;
    }
    CompleteCtx c = { rl, words[nwords - 1] };
    if (nwords == 1) {
        monitor_foreach_command(false, complete_names, &c);
    } else if (nwords == 2) {
        const MonitorCommand *cmd = monitor_find_command(words[0], false);
        char first[64] = "";
        if (cmd) {
            monitor_cmd_name(cmd, first, sizeof(first));
        }
        if (!strcmp(first, "info")) {
            monitor_foreach_command(true, complete_names, &c);
        } else if (!strcmp(first, "help")) {
            monitor_foreach_command(false, complete_names, &c);
        }
    } else if (nwords == 3 && !strcmp(words[0], "help") && !strcmp(words[1], "info")) {
        monitor_foreach_command(true, complete_names, &c);
    }
}
