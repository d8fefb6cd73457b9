/* Growable strings. */
#include <stdio.h>
#include "util/strbuf.h"

void strbuf_init(StrBuf *sb)
{
    sb->cap = 64;
    sb->len = 0;
    sb->str = xmalloc(sb->cap);
    sb->str[0] = 0;
}

void strbuf_free(StrBuf *sb)
{
    free(sb->str);
    sb->str = NULL;
    sb->len = sb->cap = 0;
}

void strbuf_reset(StrBuf *sb)
{
    sb->len = 0;
    sb->str[0] = 0;
}

static void strbuf_reserve(StrBuf *sb, size_t extra)
{
    if (sb->len + extra + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;
        while (sb->len + extra + 1 > cap) {
            cap *= 2;
        }
        sb->str = xrealloc(sb->str, cap);
        sb->cap = cap;
    }
}

void strbuf_append_len(StrBuf *sb, const void *data, size_t len)
{
    strbuf_reserve(sb, len);
    memcpy(sb->str + sb->len, data, len);
    sb->len += len;
    sb->str[sb->len] = 0;
}

void strbuf_append(StrBuf *sb, const char *s)
{
    strbuf_append_len(sb, s, strlen(s));
}

void strbuf_append_c(StrBuf *sb, char c)
{
    strbuf_append_len(sb, &c, 1);
}

void strbuf_vprintf(StrBuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return;
    }
    strbuf_reserve(sb, n);
    vsnprintf(sb->str + sb->len, n + 1, fmt, ap);
    sb->len += n;
}

void strbuf_printf(StrBuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(sb, fmt, ap);
    va_end(ap);
}

char *strbuf_steal(StrBuf *sb)
{
    char *s = sb->str;
    strbuf_init(sb);
    return s;
}
