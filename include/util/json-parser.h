/*
 * JSON values: a small tree type, a strict parser for hostile input
 * (depth and size limits, UTF-8 checked), builders, serialization
 * through util/json-writer, and a streamer that cuts a byte stream
 * (a QMP socket) into top-level values.
 *
 * Parser details: RFC 8259 plus single-quoted strings (as QEMU's QMP
 * accepts). Integers that fit int64 are JSON_INT, larger ones up to
 * UINT64_MAX JSON_UINT, anything else JSON_DOUBLE. "\u0000" and
 * duplicate object keys are rejected; invalid surrogate escapes become
 * U+FFFD.
 */
#ifndef UTIL_JSON_PARSER_H
#define UTIL_JSON_PARSER_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/json-writer.h"

#define JSON_MAX_DEPTH 1024
#define JSON_MAX_SIZE (4 * MiB)   /* one top-level value in the streamer */

typedef enum {
    JSON_NULL,
    JSON_BOOL,
    JSON_INT,
    JSON_UINT,     /* only for values above INT64_MAX */
    JSON_DOUBLE,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;

/* Parses exactly one value (surrounding whitespace allowed). */
JsonValue *json_parse(const char *text, size_t len, Error **errp);
void json_free(JsonValue *v);
JsonValue *json_clone(const JsonValue *v);
bool json_equal(const JsonValue *a, const JsonValue *b);

JsonType json_type(const JsonValue *v);
const char *json_type_name(JsonType t);   /* "object", "string"... */

/* Accessors; they return false (or NULL/0) on a type mismatch. */
bool json_get_bool(const JsonValue *v, bool *out);
bool json_get_int64(const JsonValue *v, int64_t *out);    /* JSON_INT only */
bool json_get_uint64(const JsonValue *v, uint64_t *out);  /* INT >= 0 or UINT */
bool json_get_double(const JsonValue *v, double *out);    /* any number */
const char *json_get_string(const JsonValue *v);
size_t json_array_len(const JsonValue *v);
JsonValue *json_array_get(const JsonValue *v, size_t i);
size_t json_object_len(const JsonValue *v);
JsonValue *json_object_get(const JsonValue *v, const char *key);
/* Members in insertion order. */
const char *json_object_key(const JsonValue *v, size_t i);
JsonValue *json_object_value(const JsonValue *v, size_t i);

/* Builders. Containers take ownership of the values put into them. */
JsonValue *json_new_null(void);
JsonValue *json_new_bool(bool b);
JsonValue *json_new_int(int64_t i);
JsonValue *json_new_uint(uint64_t u);
JsonValue *json_new_double(double d);
JsonValue *json_new_string(const char *s);
JsonValue *json_new_array(void);
JsonValue *json_new_object(void);
void json_array_append(JsonValue *arr, JsonValue *v);
/* Replaces an existing member of the same name. */
void json_object_set(JsonValue *obj, const char *key, JsonValue *v);
void json_object_set_str(JsonValue *obj, const char *key, const char *s);
void json_object_set_int(JsonValue *obj, const char *key, int64_t i);
void json_object_set_bool(JsonValue *obj, const char *key, bool b);
/* Removes and returns a member (caller frees), or NULL. */
JsonValue *json_object_take(JsonValue *obj, const char *key);

/* Serialization in QMP's compact style ("a": 1, "b": 2) or pretty. */
void json_write_value(JsonWriter *w, const char *name, const JsonValue *v);
char *json_to_string(const JsonValue *v, bool pretty);

/* Cuts a stream into top-level values. 'emit' gets each value (owned by
 * the callee) or, for bad input, NULL and an error (owned by the callee);
 * after an error the streamer resynchronises at the next top-level
 * value. */
typedef void JsonEmitFn(void *opaque, JsonValue *v, Error *err);
typedef struct JsonStreamer JsonStreamer;
JsonStreamer *json_streamer_new(JsonEmitFn *emit, void *opaque);
void json_streamer_feed(JsonStreamer *s, const void *buf, size_t len);
void json_streamer_reset(JsonStreamer *s);
void json_streamer_free(JsonStreamer *s);

#endif
