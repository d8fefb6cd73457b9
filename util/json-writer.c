/* Streaming JSON output with automatic separators. */
#include <math.h>
#include <stdio.h>

#include "util/json-writer.h"

#define JSON_MAX_DEPTH 64

struct JsonWriter {
    StrBuf sb;
    bool pretty;
    int depth;
    /* Per nesting level: does the container already hold a member? */
    bool has_member[JSON_MAX_DEPTH];
};

JsonWriter *json_writer_new(bool pretty)
{
    JsonWriter *w = XNEW(JsonWriter);
    strbuf_init(&w->sb);
    w->pretty = pretty;
    return w;
}

void json_writer_free(JsonWriter *w)
{
    if (w) {
        strbuf_free(&w->sb);
        free(w);
    }
}

void json_writer_reset(JsonWriter *w)
{
    strbuf_reset(&w->sb);
    w->depth = 0;
    memset(w->has_member, 0, sizeof(w->has_member));
}

void json_quote_string(StrBuf *sb, const char *s)
{
    strbuf_append_c(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': strbuf_append(sb, "\\\""); break;
        case '\\': strbuf_append(sb, "\\\\"); break;
        case '\n': strbuf_append(sb, "\\n"); break;
        case '\r': strbuf_append(sb, "\\r"); break;
        case '\t': strbuf_append(sb, "\\t"); break;
        case '\b': strbuf_append(sb, "\\b"); break;
        case '\f': strbuf_append(sb, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                strbuf_printf(sb, "\\u%04x", *p);
            } else {
                strbuf_append_c(sb, *p);
            }
        }
    }
    strbuf_append_c(sb, '"');
}

static void newline_indent(JsonWriter *w)
{
    strbuf_append_c(&w->sb, '\n');
    for (int i = 0; i < w->depth; i++) {
        strbuf_append(&w->sb, "    ");
    }
}

/* Emits the separator and member name that precede a value. */
static void begin_value(JsonWriter *w, const char *name)
{
    if (w->depth > 0) {
        if (w->has_member[w->depth]) {
            strbuf_append_c(&w->sb, ',');
            if (!w->pretty) {
                strbuf_append_c(&w->sb, ' ');
            }
        }
        w->has_member[w->depth] = true;
        if (w->pretty) {
            newline_indent(w);
        }
    }
    if (name) {
        json_quote_string(&w->sb, name);
        strbuf_append(&w->sb, ": ");
    }
}

static void open_container(JsonWriter *w, const char *name, char c)
{
    begin_value(w, name);
    strbuf_append_c(&w->sb, c);
    if (w->depth + 1 < JSON_MAX_DEPTH) {
        w->depth++;
        w->has_member[w->depth] = false;
    }
}

static void close_container(JsonWriter *w, char c)
{
    bool had = w->has_member[w->depth];
    if (w->depth > 0) {
        w->depth--;
    }
    if (w->pretty && had) {
        newline_indent(w);
    }
    strbuf_append_c(&w->sb, c);
}

void json_start_object(JsonWriter *w, const char *name) { open_container(w, name, '{'); }
void json_end_object(JsonWriter *w) { close_container(w, '}'); }
void json_start_array(JsonWriter *w, const char *name) { open_container(w, name, '['); }
void json_end_array(JsonWriter *w) { close_container(w, ']'); }

void json_str(JsonWriter *w, const char *name, const char *value)
{
    begin_value(w, name);
    json_quote_string(&w->sb, value ? value : "");
}

void json_int(JsonWriter *w, const char *name, int64_t value)
{
    begin_value(w, name);
    strbuf_printf(&w->sb, "%" PRId64, value);
}

void json_uint(JsonWriter *w, const char *name, uint64_t value)
{
    begin_value(w, name);
    strbuf_printf(&w->sb, "%" PRIu64, value);
}

void json_bool(JsonWriter *w, const char *name, bool value)
{
    begin_value(w, name);
    strbuf_append(&w->sb, value ? "true" : "false");
}

void json_null(JsonWriter *w, const char *name)
{
    begin_value(w, name);
    strbuf_append(&w->sb, "null");
}

void json_double(JsonWriter *w, const char *name, double value)
{
    begin_value(w, name);
    if (!isfinite(value)) {
        strbuf_append(&w->sb, "null"); /* JSON has no inf/nan */
    } else {
        strbuf_printf(&w->sb, "%.17g", value);
    }
}

const char *json_writer_get(const JsonWriter *w) { return w->sb.str; }
size_t json_writer_len(const JsonWriter *w) { return w->sb.len; }

char *json_writer_steal(JsonWriter *w)
{
    char *s = strbuf_steal(&w->sb);
    json_writer_reset(w);
    return s;
}
