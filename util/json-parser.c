/*
 * JSON values, parser, serializer and stream splitter.
 *
 * The parser is recursive descent over a length-bounded buffer, with an
 * explicit depth limit so hostile input cannot exhaust the stack, and
 * every string checked to be valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) because the strings end up in
 * replies and messages.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "util/json-parser.h"
#include "util/strbuf.h"

struct JsonValue {
    JsonType type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        char *s;
        struct {
            JsonValue **items;
            size_t n, cap;
        } arr;
        struct {
            char **keys;
            JsonValue **vals;
            size_t n, cap;
        } obj;
    } u;
};

/* ---- builders and accessors ---- */

static JsonValue *jv_new(JsonType t)
{
    JsonValue *v = XNEW(JsonValue);
    v->type = t;
    return v;
}

JsonValue *json_new_null(void) { return jv_new(JSON_NULL); }

JsonValue *json_new_bool(bool b)
{
    JsonValue *v = jv_new(JSON_BOOL);
    v->u.b = b;
    return v;
}

JsonValue *json_new_int(int64_t i)
{
    JsonValue *v = jv_new(JSON_INT);
    v->u.i = i;
    return v;
}

JsonValue *json_new_uint(uint64_t u)
{
    if (u <= INT64_MAX) {
        return json_new_int((int64_t)u);
    }
    JsonValue *v = jv_new(JSON_UINT);
    v->u.u = u;
    return v;
}

JsonValue *json_new_double(double d)
{
    JsonValue *v = jv_new(JSON_DOUBLE);
    v->u.d = d;
    return v;
}

JsonValue *json_new_string(const char *s)
{
    JsonValue *v = jv_new(JSON_STRING);
    v->u.s = xstrdup(s ? s : "");
    return v;
}

JsonValue *json_new_array(void) { return jv_new(JSON_ARRAY); }
JsonValue *json_new_object(void) { return jv_new(JSON_OBJECT); }

void json_free(JsonValue *v)
{
    if (!v) {
        return;
    }
    switch (v->type) {
    case JSON_STRING:
        free(v->u.s);
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->u.arr.n; i++) {
            json_free(v->u.arr.items[i]);
        }
        free(v->u.arr.items);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->u.obj.n; i++) {
            free(v->u.obj.keys[i]);
            json_free(v->u.obj.vals[i]);
        }
        free(v->u.obj.keys);
        free(v->u.obj.vals);
        break;
    default:
        break;
    }
    free(v);
}

void json_array_append(JsonValue *arr, JsonValue *v)
{
    if (!arr || arr->type != JSON_ARRAY || !v) {
        json_free(v);
        return;
    }
    if (arr->u.arr.n == arr->u.arr.cap) {
        arr->u.arr.cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
        arr->u.arr.items = xrealloc(arr->u.arr.items, arr->u.arr.cap * sizeof(JsonValue *));
    }
    arr->u.arr.items[arr->u.arr.n++] = v;
}

static ssize_t obj_find(const JsonValue *obj, const char *key)
{
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        if (!strcmp(obj->u.obj.keys[i], key)) {
            return (ssize_t)i;
        }
    }
    return -1;
}

void json_object_set(JsonValue *obj, const char *key, JsonValue *v)
{
    if (!obj || obj->type != JSON_OBJECT || !v || !key) {
        json_free(v);
        return;
    }
    ssize_t i = obj_find(obj, key);
    if (i >= 0) {
        json_free(obj->u.obj.vals[i]);
        obj->u.obj.vals[i] = v;
        return;
    }
    if (obj->u.obj.n == obj->u.obj.cap) {
        obj->u.obj.cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 4;
        obj->u.obj.keys = xrealloc(obj->u.obj.keys, obj->u.obj.cap * sizeof(char *));
        obj->u.obj.vals = xrealloc(obj->u.obj.vals, obj->u.obj.cap * sizeof(JsonValue *));
    }
    obj->u.obj.keys[obj->u.obj.n] = xstrdup(key);
    obj->u.obj.vals[obj->u.obj.n] = v;
    obj->u.obj.n++;
}

void json_object_set_str(JsonValue *obj, const char *key, const char *s)
{
    json_object_set(obj, key, json_new_string(s));
}

void json_object_set_int(JsonValue *obj, const char *key, int64_t i)
{
    json_object_set(obj, key, json_new_int(i));
}

void json_object_set_bool(JsonValue *obj, const char *key, bool b)
{
    json_object_set(obj, key, json_new_bool(b));
}

JsonValue *json_object_take(JsonValue *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT) {
        return NULL;
    }
    ssize_t i = obj_find(obj, key);
    if (i < 0) {
        return NULL;
    }
    JsonValue *v = obj->u.obj.vals[i];
    free(obj->u.obj.keys[i]);
    size_t rest = obj->u.obj.n - i - 1;
    memmove(&obj->u.obj.keys[i], &obj->u.obj.keys[i + 1], rest * sizeof(char *));
    memmove(&obj->u.obj.vals[i], &obj->u.obj.vals[i + 1], rest * sizeof(JsonValue *));
    obj->u.obj.n--;
    return v;
}

JsonType json_type(const JsonValue *v)
{
    return v ? v->type : JSON_NULL;
}

const char *json_type_name(JsonType t)
{
    switch (t) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "boolean";
    case JSON_INT:
    case JSON_UINT: return "integer";
    case JSON_DOUBLE: return "number";
    case JSON_STRING: return "string";
    case JSON_ARRAY: return "array";
    case JSON_OBJECT: return "object";
    }
    return "?";
}

bool json_get_bool(const JsonValue *v, bool *out)
{
    if (!v || v->type != JSON_BOOL) {
        return false;
    }
    *out = v->u.b;
    return true;
}

bool json_get_int64(const JsonValue *v, int64_t *out)
{
    if (!v || v->type != JSON_INT) {
        return false;
    }
    *out = v->u.i;
    return true;
}

bool json_get_uint64(const JsonValue *v, uint64_t *out)
{
    if (v && v->type == JSON_INT && v->u.i >= 0) {
        *out = (uint64_t)v->u.i;
        return true;
    }
    if (v && v->type == JSON_UINT) {
        *out = v->u.u;
        return true;
    }
    return false;
}

bool json_get_double(const JsonValue *v, double *out)
{
    if (!v) {
        return false;
    }
    switch (v->type) {
    case JSON_INT: *out = (double)v->u.i; return true;
    case JSON_UINT: *out = (double)v->u.u; return true;
    case JSON_DOUBLE: *out = v->u.d; return true;
    default: return false;
    }
}

const char *json_get_string(const JsonValue *v)
{
    return v && v->type == JSON_STRING ? v->u.s : NULL;
}

size_t json_array_len(const JsonValue *v)
{
    return v && v->type == JSON_ARRAY ? v->u.arr.n : 0;
}

JsonValue *json_array_get(const JsonValue *v, size_t i)
{
    return v && v->type == JSON_ARRAY && i < v->u.arr.n ? v->u.arr.items[i] : NULL;
}

size_t json_object_len(const JsonValue *v)
{
    return v && v->type == JSON_OBJECT ? v->u.obj.n : 0;
}

JsonValue *json_object_get(const JsonValue *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT) {
        return NULL;
    }
    ssize_t i = obj_find(v, key);
    return i < 0 ? NULL : v->u.obj.vals[i];
}

const char *json_object_key(const JsonValue *v, size_t i)
{
    return v && v->type == JSON_OBJECT && i < v->u.obj.n ? v->u.obj.keys[i] : NULL;
}

JsonValue *json_object_value(const JsonValue *v, size_t i)
{
    return v && v->type == JSON_OBJECT && i < v->u.obj.n ? v->u.obj.vals[i] : NULL;
}

JsonValue *json_clone(const JsonValue *v)
{
    if (!v) {
        return NULL;
    }
    JsonValue *c;
    switch (v->type) {
    case JSON_STRING:
        return json_new_string(v->u.s);
    case JSON_ARRAY:
        c = json_new_array();
        for (size_t i = 0; i < v->u.arr.n; i++) {
            json_array_append(c, json_clone(v->u.arr.items[i]));
        }
        return c;
    case JSON_OBJECT:
        c = json_new_object();
        for (size_t i = 0; i < v->u.obj.n; i++) {
            json_object_set(c, v->u.obj.keys[i], json_clone(v->u.obj.vals[i]));
        }
        return c;
    default:
        c = jv_new(v->type);
        c->u = v->u;
        return c;
    }
}

bool json_equal(const JsonValue *a, const JsonValue *b)
{
    if (!a || !b) {
        return a == b;
    }
    if (a->type != b->type) {
        return false;
    }
    switch (a->type) {
    case JSON_NULL: return true;
    case JSON_BOOL: return a->u.b == b->u.b;
    case JSON_INT: return a->u.i == b->u.i;
    case JSON_UINT: return a->u.u == b->u.u;
    case JSON_DOUBLE: return a->u.d == b->u.d;
    case JSON_STRING: return !strcmp(a->u.s, b->u.s);
    case JSON_ARRAY:
        if (a->u.arr.n != b->u.arr.n) {
            return false;
        }
        for (size_t i = 0; i < a->u.arr.n; i++) {
            if (!json_equal(a->u.arr.items[i], b->u.arr.items[i])) {
                return false;
            }
        }
        return true;
    case JSON_OBJECT:
        if (a->u.obj.n != b->u.obj.n) {
            return false;
        }
        for (size_t i = 0; i < a->u.obj.n; i++) {
            if (!json_equal(a->u.obj.vals[i], json_object_get(b, a->u.obj.keys[i]))) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* ---- parser ---- */

typedef struct Parser {
    const char *p, *end;
    int depth;
    Error **errp;
    bool failed;
} Parser;

static void perr(Parser *ps, const char *fmt, ...) PRINTF_FMT(2, 3);
static void perr(Parser *ps, const char *fmt, ...)
{
    if (ps->failed) {
        return;
    }
    ps->failed = true;
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    error_setg(ps->errp, "JSON parse error, %s", sb.str);
    strbuf_free(&sb);
}

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static void append_utf8(StrBuf *sb, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        strbuf_append_c(sb, (char)cp);
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        strbuf_append_len(sb, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        strbuf_append_len(sb, b, 3);
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        strbuf_append_len(sb, b, 4);
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n;
    uint32_t cp, min;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (end - p < n) {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

static int hex4(Parser *ps, uint32_t *out)
{
    if (ps->end - ps->p < 4) {
        return -1;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    ps->p += 4;
    *out = v;
    return 0;
}

static char *parse_string(Parser *ps)
{
    char quote = *ps->p++;
    StrBuf sb;
    strbuf_init(&sb);
    for (;;) {
        if (ps->p >= ps->end) {
            perr(ps, "missing closing quote");
            goto fail;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == (unsigned char)quote) {
            ps->p++;
            char *s = strbuf_steal(&sb);
            strbuf_free(&sb);
            return s;
        }
        if (c < 0x20) {
            perr(ps, "control character 0x%02x in string", c);
            goto fail;
        }
        if (c == '\\') {
            ps->p++;
            if (ps->p >= ps->end) {
                perr(ps, "missing closing quote");
                goto fail;
            }
            char e = *ps->p++;
            uint32_t cp;
            switch (e) {
            case '"': strbuf_append_c(&sb, '"'); break;
            case '\'': strbuf_append_c(&sb, '\''); break;
            case '\\': strbuf_append_c(&sb, '\\'); break;
            case '/': strbuf_append_c(&sb, '/'); break;
            case 'b': strbuf_append_c(&sb, '\b'); break;
            case 'f': strbuf_append_c(&sb, '\f'); break;
            case 'n': strbuf_append_c(&sb, '\n'); break;
            case 'r': strbuf_append_c(&sb, '\r'); break;
            case 't': strbuf_append_c(&sb, '\t'); break;
            case 'u':
                if (hex4(ps, &cp) < 0) {
                    perr(ps, "invalid \\u escape");
                    goto fail;
                }
                if (cp == 0) {
                    perr(ps, "\\u0000 is not supported");
                    goto fail;
                }
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo;
                    const char *save = ps->p;
                    if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
                        (ps->p += 2, hex4(ps, &lo) == 0) && lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    } else {
                        ps->p = save;
                        cp = 0xfffd;
                    }
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    cp = 0xfffd;
                }
                append_utf8(&sb, cp);
                break;
            default:
                perr(ps, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
                goto fail;
            }
            continue;
        }
        int n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
        if (!n) {
            perr(ps, "invalid UTF-8 sequence in string");
            goto fail;
        }
        strbuf_append_len(&sb, ps->p, n);
        ps->p += n;
    }
fail:
    strbuf_free(&sb);
    return NULL;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static JsonValue *parse_number(Parser *ps)
{
    const char *start = ps->p;
    bool is_int = true, neg = false;
    if (ps->p < ps->end && *ps->p == '-') {
        neg = true;
        ps->p++;
    }
    if (ps->p >= ps->end || !is_digit(*ps->p)) {
        perr(ps, "invalid number");
        return NULL;
    }
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && is_digit(*ps->p)) {
            perr(ps, "leading zero in number");
            return NULL;
        }
    } else {
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    if (ps->p < ps->end && *ps->p == '.') {
        is_int = false;
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            perr(ps, "invalid number");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_int = false;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) {
            ps->p++;
        }
        if (ps->p >= ps->end || !is_digit(*ps->p)) {
            perr(ps, "invalid number");
            return NULL;
        }
        while (ps->p < ps->end && is_digit(*ps->p)) {
            ps->p++;
        }
    }
    size_t len = ps->p - start;
    if (len > 400) {
        perr(ps, "number too long");
        return NULL;
    }
    char buf[512];
    memcpy(buf, start, len);
    buf[len] = 0;
    if (is_int) {
        errno = 0;
        if (neg) {
            long long v = strtoll(buf, NULL, 10);
            if (errno == 0) {
                return json_new_int(v);
            }
        } else {
            unsigned long long v = strtoull(buf, NULL, 10);
            if (errno == 0) {
                return json_new_uint(v);
            }
        }
    }
    double d = strtod(buf, NULL);
    if (!isfinite(d)) {
        perr(ps, "number out of range");
        return NULL;
    }
    return json_new_double(d);
}

static JsonValue *parse_value(Parser *ps);

static JsonValue *parse_container(Parser *ps, bool is_obj)
{
    if (++ps->depth > JSON_MAX_DEPTH) {
        perr(ps, "too deeply nested");
        return NULL;
    }
    ps->p++;   /* '{' or '[' */
    JsonValue *c = is_obj ? json_new_object() : json_new_array();
    char close = is_obj ? '}' : ']';
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return c;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (is_obj) {
            if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\'')) {
                perr(ps, "expecting a member name");
                goto fail;
            }
            key = parse_string(ps);
            if (!key) {
                goto fail;
            }
            if (json_object_get(c, key)) {
                perr(ps, "duplicate key '%s'", key);
                free(key);
                goto fail;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                perr(ps, "expecting ':' after member name");
                free(key);
                goto fail;
            }
            ps->p++;
        }
        JsonValue *v = parse_value(ps);
        if (!v) {
            free(key);
            goto fail;
        }
        if (is_obj) {
            json_object_set(c, key, v);
            free(key);
        } else {
            json_array_append(c, v);
        }
        skip_ws(ps);
        if (ps->p >= ps->end) {
            perr(ps, "unexpected end of input");
            goto fail;
        }
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == close) {
            ps->p++;
            ps->depth--;
            return c;
        }
        perr(ps, "expecting ',' or '%c'", close);
        goto fail;
    }
fail:
    json_free(c);
    return NULL;
}

static bool keyword(Parser *ps, const char *kw)
{
    size_t n = strlen(kw);
    if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, kw, n)) {
        const char *after = ps->p + n;
        if (after == ps->end || !((*after >= 'a' && *after <= 'z') ||
                                  (*after >= 'A' && *after <= 'Z') || is_digit(*after))) {
            ps->p += n;
            return true;
        }
    }
    return false;
}

static JsonValue *parse_value(Parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        perr(ps, "unexpected end of input");
        return NULL;
    }
    char c = *ps->p;
    switch (c) {
    case '{':
        return parse_container(ps, true);
    case '[':
        return parse_container(ps, false);
    case '"':
    case '\'': {
        char *s = parse_string(ps);
        if (!s) {
            return NULL;
        }
        JsonValue *v = jv_new(JSON_STRING);
        v->u.s = s;
        return v;
    }
    default:
        break;
    }
    if (c == '-' || is_digit(c)) {
        return parse_number(ps);
    }
    if (keyword(ps, "true")) {
        return json_new_bool(true);
    }
    if (keyword(ps, "false")) {
        return json_new_bool(false);
    }
    if (keyword(ps, "null")) {
        return json_new_null();
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        const char *e = ps->p;
        while (e < ps->end && e - ps->p < 32 &&
               ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || is_digit(*e))) {
            e++;
        }
        perr(ps, "invalid keyword '%.*s'", (int)(e - ps->p), ps->p);
        return NULL;
    }
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        perr(ps, "unexpected character '%c'", c);
    } else {
        perr(ps, "unexpected byte 0x%02x", (unsigned char)c);
    }
    return NULL;
}

JsonValue *json_parse(const char *text, size_t len, Error **errp)
{
    Parser ps = { .p = text, .end = text + len, .errp = errp };
    JsonValue *v = parse_value(&ps);
    if (!v) {
        if (!ps.failed) {
            error_setg(errp, "JSON parse error");
        }
        return NULL;
    }
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "trailing characters after the value");
        json_free(v);
        return NULL;
    }
    return v;
}

/* ---- serialization ---- */

static void number_double(StrBuf *sb, double d)
{
    if (!isfinite(d)) {
        strbuf_append(sb, "null");
        return;
    }
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", d);
    /* Keep it a double on the way back in: "2" would read as an int. */
    if (!strpbrk(buf, ".eEn")) {
        strcat(buf, ".0");
    }
    strbuf_append(sb, buf);
}

static void indent(StrBuf *sb, int depth)
{
    strbuf_append_c(sb, '\n');
    for (int i = 0; i < depth; i++) {
        strbuf_append(sb, "    ");
    }
}

static void to_string(StrBuf *sb, const JsonValue *v, bool pretty, int depth)
{
    switch (v->type) {
    case JSON_NULL: strbuf_append(sb, "null"); break;
    case JSON_BOOL: strbuf_append(sb, v->u.b ? "true" : "false"); break;
    case JSON_INT: strbuf_printf(sb, "%" PRId64, v->u.i); break;
    case JSON_UINT: strbuf_printf(sb, "%" PRIu64, v->u.u); break;
    case JSON_DOUBLE: number_double(sb, v->u.d); break;
    case JSON_STRING: json_quote_string(sb, v->u.s); break;
    case JSON_ARRAY:
        strbuf_append_c(sb, '[');
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i) {
                strbuf_append(sb, pretty ? "," : ", ");
            }
            if (pretty) {
                indent(sb, depth + 1);
            }
            to_string(sb, v->u.arr.items[i], pretty, depth + 1);
        }
        if (pretty && v->u.arr.n) {
            indent(sb, depth);
        }
        strbuf_append_c(sb, ']');
        break;
    case JSON_OBJECT:
        strbuf_append_c(sb, '{');
        for (size_t i = 0; i < v->u.obj.n; i++) {
            if (i) {
                strbuf_append(sb, pretty ? "," : ", ");
            }
            if (pretty) {
                indent(sb, depth + 1);
            }
            json_quote_string(sb, v->u.obj.keys[i]);
            strbuf_append(sb, ": ");
            to_string(sb, v->u.obj.vals[i], pretty, depth + 1);
        }
        if (pretty && v->u.obj.n) {
            indent(sb, depth);
        }
        strbuf_append_c(sb, '}');
        break;
    }
}

char *json_to_string(const JsonValue *v, bool pretty)
{
    StrBuf sb;
    strbuf_init(&sb);
    if (v) {
        to_string(&sb, v, pretty, 0);
    } else {
        strbuf_append(&sb, "null");
    }
    char *s = strbuf_steal(&sb);
    strbuf_free(&sb);
    return s;
}

void json_write_value(JsonWriter *w, const char *name, const JsonValue *v)
{
    if (!v) {
        json_null(w, name);
        return;
    }
    switch (v->type) {
    case JSON_NULL: json_null(w, name); break;
    case JSON_BOOL: json_bool(w, name, v->u.b); break;
    case JSON_INT: json_int(w, name, v->u.i); break;
    case JSON_UINT: json_uint(w, name, v->u.u); break;
    case JSON_DOUBLE: json_double(w, name, v->u.d); break;
    case JSON_STRING: json_str(w, name, v->u.s); break;
    case JSON_ARRAY:
        json_start_array(w, name);
        for (size_t i = 0; i < v->u.arr.n; i++) {
            json_write_value(w, NULL, v->u.arr.items[i]);
        }
        json_end_array(w);
        break;
    case JSON_OBJECT:
        json_start_object(w, name);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            json_write_value(w, v->u.obj.keys[i], v->u.obj.vals[i]);
        }
        json_end_object(w);
        break;
    }
}

/* ---- streamer ---- */

struct JsonStreamer {
    JsonEmitFn *emit;
    void *opaque;
    StrBuf buf;
    int depth;          /* bracket depth of the value being collected */
    char quote;         /* inside a string: its quote character */
    bool escape;
    bool scalar;        /* collecting a bare top-level scalar */
    bool overflow;      /* too big: skipping to the end of this value */
};

JsonStreamer *json_streamer_new(JsonEmitFn *emit, void *opaque)
{
    JsonStreamer *s = XNEW(JsonStreamer);
    s->emit = emit;
    s->opaque = opaque;
    strbuf_init(&s->buf);
    return s;
}

void json_streamer_reset(JsonStreamer *s)
{
    strbuf_reset(&s->buf);
    s->depth = 0;
    s->quote = 0;
    s->escape = false;
    s->scalar = false;
    s->overflow = false;
}

void json_streamer_free(JsonStreamer *s)
{
    if (s) {
        strbuf_free(&s->buf);
        free(s);
    }
}

static void streamer_finish(JsonStreamer *s)
{
    if (s->overflow) {
        Error *err = NULL;
        error_setg(&err, "JSON parse error, input too large or too deeply nested");
        json_streamer_reset(s);
        s->emit(s->opaque, NULL, err);
        return;
    }
    Error *err = NULL;
    JsonValue *v = json_parse(s->buf.str, s->buf.len, &err);
    json_streamer_reset(s);
    s->emit(s->opaque, v, err);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void json_streamer_feed(JsonStreamer *s, const void *data, size_t len)
{
    const char *p = data;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool top = s->depth == 0 && !s->quote && !s->scalar;
        if (top && s->buf.len == 0 && is_ws(c)) {
            continue;
        }
        /* A bare scalar ends at whitespace or a structural character. */
        if (s->scalar && !s->quote &&
            (is_ws(c) || c == '{' || c == '[' || c == '}' || c == ']' || c == ',' ||
             c == '"' || c == '\'')) {
            streamer_finish(s);
            if (is_ws(c)) {
                continue;
            }
            top = true;
        }
        if (!s->overflow) {
            if (s->buf.len >= JSON_MAX_SIZE) {
                s->overflow = true;
                strbuf_reset(&s->buf);
            } else {
                strbuf_append_c(&s->buf, c);
            }
        }
        if (s->quote) {
            if (s->escape) {
                s->escape = false;
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == s->quote) {
                s->quote = 0;
                if (s->depth == 0) {
                    s->scalar = false;
                    streamer_finish(s);   /* a top-level string */
                }
            }
            continue;
        }
        switch (c) {
        case '"':
        case '\'':
            s->quote = c;
            if (top) {
                s->scalar = true;
            }
            break;
        case '{':
        case '[':
            if (s->scalar) {
                break;
            }
            if (++s->depth > JSON_MAX_DEPTH) {
                s->overflow = true;
                strbuf_reset(&s->buf);
            }
            break;
        case '}':
        case ']':
            if (s->scalar) {
                break;
            }
            if (s->depth > 0) {
                s->depth--;
            }
            if (s->depth == 0) {
                streamer_finish(s);
            }
            break;
        default:
            if (top) {
                s->scalar = true;
            }
            break;
        }
    }
}
