/* A growable, always NUL-terminated byte string. */
#ifndef UTIL_STRBUF_H
#define UTIL_STRBUF_H

#include <stdarg.h>
#include "util/osdep.h"

typedef struct StrBuf {
    char *str;
    size_t len;
    size_t cap;
} StrBuf;

void strbuf_init(StrBuf *sb);
void strbuf_free(StrBuf *sb);
void strbuf_reset(StrBuf *sb);
void strbuf_append(StrBuf *sb, const char *s);
void strbuf_append_len(StrBuf *sb, const void *data, size_t len);
void strbuf_append_c(StrBuf *sb, char c);
void strbuf_printf(StrBuf *sb, const char *fmt, ...) PRINTF_FMT(2, 3);
void strbuf_vprintf(StrBuf *sb, const char *fmt, va_list ap);
/* Hands the string to the caller (who frees it) and empties the buffer. */
char *strbuf_steal(StrBuf *sb);

#endif
