/* -d / -D debug logging. */
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

int log_mask;
FILE *log_file;

static const struct {
    const char *name;
    int mask;
    const char *help;
} log_items[] = {
    { "in_asm", LOG_IN_ASM, "show guest code as it is translated" },
    { "int", LOG_INT, "show interrupts and exceptions" },
    { "exec", LOG_EXEC, "show every translation block executed" },
    { "cpu", LOG_CPU, "show CPU registers before each block" },
    { "guest_errors", LOG_GUEST_ERROR, "log guest misuse of devices" },
    { "unimp", LOG_UNIMP, "log unimplemented device features" },
    { "pcall", LOG_PCALL, "log far calls through gates and task switches" },
    { "reset", LOG_RESET, "log CPU and machine resets" },
    { "ioport", LOG_IOPORT, "log accesses to unassigned I/O ports" },
    { "block", LOG_BLOCK, "trace the block layer" },
};

void log_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
}

void log_print_items(FILE *out)
{
    fprintf(out, "Log items (comma separated):\n");
    for (size_t i = 0; i < ARRAY_SIZE(log_items); i++) {
        fprintf(out, "%-15s %s\n", log_items[i].name, log_items[i].help);
    }
}

int log_parse_items(const char *str, int *mask, bool *is_help, Error **errp)
{
    int m = 0;
    const char *p = str;
    *is_help = false;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = false;
        if (len == 4 && !strncmp(p, "help", 4)) {
            *is_help = true;
            found = true;
        }
        for (size_t i = 0; !found && i < ARRAY_SIZE(log_items); i++) {
            if (strlen(log_items[i].name) == len && !strncmp(p, log_items[i].name, len)) {
                m |= log_items[i].mask;
                found = true;
            }
        }
        if (!found) {
            error_setg(errp, "Unknown log item '%.*s' (use -d help for a list)", (int)len, p);
            return -EINVAL;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *mask = m;
    return 0;
}

int log_set_file(const char *path, Error **errp)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        error_setg_errno(errp, errno, "Could not open log file '%s'", path);
        return -errno;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    if (log_file && log_file != stderr) {
        fclose(log_file);
    }
    log_file = f;
    return 0;
}

void log_flush(void)
{
    fflush(log_file ? log_file : stderr);
}
