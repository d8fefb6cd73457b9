/*
 * Debug logging selected with -d ITEMS and written to -D FILE (stderr by
 * default). Checking the mask is one load and test, so log calls may sit
 * on warm paths; keep them off the per-instruction path unless guarded.
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdio.h>
#include "util/osdep.h"
#include "util/error.h"

enum {
    LOG_IN_ASM      = 1 << 0,  /* guest code as it is translated */
    LOG_INT         = 1 << 1,  /* interrupts and exceptions */
    LOG_EXEC        = 1 << 2,  /* every translation block executed */
    LOG_CPU         = 1 << 3,  /* CPU state before each block */
    LOG_GUEST_ERROR = 1 << 4,  /* guest misuse of a device */
    LOG_UNIMP       = 1 << 5,  /* device features not implemented */
    LOG_PCALL       = 1 << 6,  /* protected-mode far calls, task switches */
    LOG_RESET       = 1 << 7,  /* machine and CPU resets */
    LOG_IOPORT      = 1 << 8,  /* unassigned port accesses */
    LOG_BLOCK       = 1 << 9,  /* block layer tracing */
};

extern int log_mask;
extern FILE *log_file;

static inline bool log_enabled(int mask) { return unlikely(log_mask & mask); }
void log_printf(const char *fmt, ...) PRINTF_FMT(1, 2);
#define log_mask_printf(mask, ...) \
    do { if (log_enabled(mask)) log_printf(__VA_ARGS__); } while (0)

/* Parses "in_asm,int,exec" into a mask; fills errp on unknown items.
 * "help" lists the items on stdout and returns 0 with *is_help set. */
int log_parse_items(const char *str, int *mask, bool *is_help, Error **errp);
int log_set_file(const char *path, Error **errp);
void log_print_items(FILE *out);
void log_flush(void);

#endif
