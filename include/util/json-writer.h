/*
 * A small streaming JSON writer used by --output=json, QMP and the
 * vmstate description. The caller nests objects and arrays; commas and
 * indentation are handled here. 'name' is the member name inside an
 * object and must be NULL inside an array or at the top level.
 */
#ifndef UTIL_JSON_WRITER_H
#define UTIL_JSON_WRITER_H

#include "util/strbuf.h"

typedef struct JsonWriter JsonWriter;

/* pretty: newline + 4-space indentation as qemu-img's --output=json;
 * otherwise compact with ", " and ": " separators as QEMU's QMP. */
JsonWriter *json_writer_new(bool pretty);
void json_writer_free(JsonWriter *w);
void json_writer_reset(JsonWriter *w);

void json_start_object(JsonWriter *w, const char *name);
void json_end_object(JsonWriter *w);
void json_start_array(JsonWriter *w, const char *name);
void json_end_array(JsonWriter *w);
void json_str(JsonWriter *w, const char *name, const char *value);
void json_int(JsonWriter *w, const char *name, int64_t value);
void json_uint(JsonWriter *w, const char *name, uint64_t value);
void json_bool(JsonWriter *w, const char *name, bool value);
void json_null(JsonWriter *w, const char *name);
void json_double(JsonWriter *w, const char *name, double value);

/* The text so far (valid JSON once every container is closed). */
const char *json_writer_get(const JsonWriter *w);
size_t json_writer_len(const JsonWriter *w);
char *json_writer_steal(JsonWriter *w);

/* Appends 's' as a quoted, escaped JSON string. */
void json_quote_string(StrBuf *sb, const char *s);

#endif
