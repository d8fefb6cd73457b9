/* Human-readable errors carried from library code to the one who prints. */
#include <stdarg.h>
#include <stdio.h>

#include "util/error.h"
#include "util/strbuf.h"

struct Error {
    char *msg;
};

/* Sentinels: their addresses are what callers pass. */
Error *error_fatal;
Error *error_abort;

static const char *progname = "minipc";

void error_set_progname(const char *name)
{
    const char *slash = strrchr(name, '/');
    progname = slash ? slash + 1 : name;
}

const char *error_get_progname(void)
{
    return progname;
}

static void error_deliver(Error **errp, char *msg)
{
    if (errp == &error_abort) {
        fprintf(stderr, "%s: unexpected error: %s\n", progname, msg);
        abort();
    }
    if (errp == &error_fatal) {
        fprintf(stderr, "%s: %s\n", progname, msg);
        exit(1);
    }
    if (!errp) {
        free(msg);
        return;
    }
    if (*errp) {
        /* Keep the first error: it is usually the root cause. */
        free(msg);
        return;
    }
    Error *err = XNEW(Error);
    err->msg = msg;
    *errp = err;
}

void error_setg(Error **errp, const char *fmt, ...)
{
    if (!errp) {
        return;
    }
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    error_deliver(errp, strbuf_steal(&sb));
    strbuf_free(&sb);
}

void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...)
{
    if (!errp) {
        return;
    }
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (os_errno < 0) {
        os_errno = -os_errno;
    }
    if (os_errno) {
        strbuf_printf(&sb, ": %s", strerror(os_errno));
    }
    error_deliver(errp, strbuf_steal(&sb));
    strbuf_free(&sb);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    if (!errp || errp == &error_fatal || errp == &error_abort || !*errp) {
        return;
    }
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    strbuf_append(&sb, (*errp)->msg);
    free((*errp)->msg);
    (*errp)->msg = strbuf_steal(&sb);
    strbuf_free(&sb);
}

void error_propagate(Error **dst_errp, Error *local_err)
{
    if (!local_err) {
        return;
    }
    if (dst_errp == &error_abort || dst_errp == &error_fatal) {
        error_deliver(dst_errp, xstrdup(local_err->msg));
        error_free(local_err);
        return;
    }
    if (!dst_errp || *dst_errp) {
        error_free(local_err);
        return;
    }
    *dst_errp = local_err;
}

const char *error_get_pretty(const Error *err)
{
    return err ? err->msg : "";
}

void error_free(Error *err)
{
    if (err) {
        free(err->msg);
        free(err);
    }
}

void error_free_or_abort(Error **errp)
{
    if (errp && *errp) {
        error_free(*errp);
        *errp = NULL;
    }
}

/* A small stack so nested monitor invocations restore the outer sink. */
#define MAX_SINKS 8
static struct {
    ErrorSink *fn;
    void *opaque;
} sinks[MAX_SINKS];
static int nsinks;

void error_push_sink(ErrorSink *sink, void *opaque)
{
    if (nsinks < MAX_SINKS) {
        sinks[nsinks].fn = sink;
        sinks[nsinks].opaque = opaque;
    }
    nsinks++;
}

void error_pop_sink(void)
{
    if (nsinks > 0) {
        nsinks--;
    }
}

static void report(const char *prefix, const char *fmt, va_list ap)
{
    StrBuf sb;
    strbuf_init(&sb);
    strbuf_append(&sb, prefix);
    strbuf_vprintf(&sb, fmt, ap);
    if (nsinks > 0 && nsinks <= MAX_SINKS) {
        sinks[nsinks - 1].fn(sinks[nsinks - 1].opaque, sb.str);
    } else {
        fprintf(stderr, "%s: %s\n", progname, sb.str);
        fflush(stderr);
    }
    strbuf_free(&sb);
}

void error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("warning: ", fmt, ap);
    va_end(ap);
}

void error_report_err(Error *err)
{
    error_report("%s", error_get_pretty(err));
    error_free(err);
}

void warn_report_err(Error *err)
{
    warn_report("%s", error_get_pretty(err));
    error_free(err);
}
