/*
 * Monitor objects: HMP consoles on chardevs, output ('\n' goes out as
 * "\r\n" as QEMU does), and capture monitors for human-monitor-command.
 */
#include <stdarg.h>

#include "monitor-internal.h"
#include "util/main-loop.h"

Monitor *monitor_list;

void monitor_write_raw(Monitor *mon, const char *buf, size_t len)
{
    if (!mon || !len) {
        return;
    }
    if (mon->capture) {
        strbuf_append_len(mon->capture, buf, len);
    } else if (mon->chr) {
        chardev_write(mon->chr, buf, len);
    }
}

void monitor_puts(Monitor *mon, const char *s)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        if (!nl) {
            monitor_write_raw(mon, s, strlen(s));
            return;
        }
        monitor_write_raw(mon, s, nl - s);
        monitor_write_raw(mon, "\r\n", 2);
        s = nl + 1;
    }
}

int monitor_printf(Monitor *mon, const char *fmt, ...)
{
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    monitor_puts(mon, sb.str);
    int n = (int)sb.len;
    strbuf_free(&sb);
    return n;
}

bool monitor_is_interactive(const Monitor *mon)
{
    return mon && mon->chr && !mon->is_qmp && !mon->capture;
}

Monitor *monitor_new_common(Chardev *chr, bool is_qmp)
{
    Monitor *mon = XNEW(Monitor);
    mon->chr = chr;
    mon->is_qmp = is_qmp;
    mon->next = monitor_list;
    monitor_list = mon;
    return mon;
}

/* ---- HMP console ---- */

static void hmp_out(void *opaque, const char *buf, size_t len)
{
    monitor_write_raw(opaque, buf, len);
}

static void hmp_line(void *opaque, const char *line)
{
    Monitor *mon = opaque;
    readline_history_add(mon->rl, line);
    monitor_hmp_handle_line(mon, line);
    /* After "quit" the next thing the user sees is the shell. */
    if (!main_loop_exit_requested(NULL)) {
        readline_show_prompt(mon->rl);
    }
}

static void hmp_complete(void *opaque, ReadLine *rl, const char *before)
{
    monitor_hmp_complete(opaque, rl, before);
}

static void hmp_greet(Monitor *mon)
{
    monitor_printf(mon, "minipc %s monitor - type 'help' for more information\n",
                   MINIPC_VERSION);
    mon->greeted = true;
}

static int mon_can_read(void *opaque)
{
    return 4096;
}

static void hmp_read(void *opaque, const uint8_t *buf, int len)
{
    Monitor *mon = opaque;
    readline_feed(mon->rl, buf, len);
}

static void hmp_event(void *opaque, int event)
{
    Monitor *mon = opaque;
    switch (event) {
    case CHR_EVENT_OPENED:
        if (!chardev_is_mux(mon->chr)) {
            readline_reset(mon->rl);
            hmp_greet(mon);
            readline_show_prompt(mon->rl);
        }
        break;
    case CHR_EVENT_MUX_IN:
        if (!mon->greeted) {
            hmp_greet(mon);
        }
        readline_show_prompt(mon->rl);
        break;
    case CHR_EVENT_CLOSED:
        readline_reset(mon->rl);
        break;
    default:
        break;
    }
}

static void qmp_chr_read(void *opaque, const uint8_t *buf, int len)
{
    monitor_qmp_read(opaque, buf, len);
}

static void qmp_chr_event(void *opaque, int event)
{
    monitor_qmp_event(opaque, event);
}

void monitor_attach(Monitor *mon)
{
    ChardevHandlers h = {
        .can_read = mon_can_read,
        .read = mon->is_qmp ? qmp_chr_read : hmp_read,
        .event = mon->is_qmp ? qmp_chr_event : hmp_event,
        .opaque = mon,
    };
    chardev_set_handlers(mon->chr, &h);
}

Monitor *monitor_new_hmp(Chardev *chr, Error **errp)
{
    if (!chr) {
        error_setg(errp, "monitor: no character device");
        return NULL;
    }
    monitor_builtins_init();
    Monitor *mon = monitor_new_common(chr, false);
    mon->rl = readline_new(hmp_out, hmp_line, hmp_complete, mon);
    readline_set_prompt(mon->rl, "(minipc) ");
    monitor_attach(mon);
    return mon;
}

void monitor_free(Monitor *mon)
{
    if (!mon) {
        return;
    }
    for (Monitor **pp = &monitor_list; *pp; pp = &(*pp)->next) {
        if (*pp == mon) {
            *pp = mon->next;
            break;
        }
    }
    if (mon->chr) {
        chardev_remove_handlers(mon->chr, mon);
    }
    readline_free(mon->rl);
    json_streamer_free(mon->js);
    free(mon);
}

void monitor_free_all(void)
{
    while (monitor_list) {
        monitor_free(monitor_list);
    }
}

void monitor_hmp_execute(const char *line, StrBuf *out)
{
    monitor_builtins_init();
    Monitor mon = { .capture = out };
    monitor_hmp_handle_line(&mon, line);
}
