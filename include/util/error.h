/*
 * Errors for people. Library code reports failure by returning -errno
 * (or false/NULL) and filling an Error ** with a message that says what
 * failed, on which object, and why. Only main() and the monitor print.
 *
 *   Error *err = NULL;
 *   if (bdrv_open(..., &err) < 0) { error_report_err(err); return 1; }
 *
 * Passing NULL as errp discards the message; &error_fatal exits with
 * status 1 after printing; &error_abort aborts (for "can't happen").
 */
#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

#include "util/osdep.h"

typedef struct Error Error;

extern Error *error_fatal;
extern Error *error_abort;

void error_setg(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
/* Appends ": strerror(os_errno)"; os_errno may be given negative. */
void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...) PRINTF_FMT(3, 4);
/* Adds context in front: "Could not open 'x': " + existing message. */
void error_prepend(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
void error_propagate(Error **dst_errp, Error *local_err);
const char *error_get_pretty(const Error *err);
void error_free(Error *err);
/* Frees *errp (if set) and sets it to NULL. */
void error_free_or_abort(Error **errp);

/* Program name used as the prefix of printed messages ("minipc: ..."). */
void error_set_progname(const char *name);
const char *error_get_progname(void);

/* Printing. By default messages go to stderr as "PROG: message\n". The
 * monitor installs a sink while it runs a command so messages reach the
 * user who typed it. */
typedef void ErrorSink(void *opaque, const char *msg);
void error_push_sink(ErrorSink *sink, void *opaque);
void error_pop_sink(void);
void error_report(const char *fmt, ...) PRINTF_FMT(1, 2);
void warn_report(const char *fmt, ...) PRINTF_FMT(1, 2);
void error_report_err(Error *err); /* prints and frees */
void warn_report_err(Error *err);

#endif
