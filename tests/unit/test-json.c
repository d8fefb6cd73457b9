/* Unit tests for util/json-parser.c. */
#include <check.h>

#include "util/json-parser.h"

static JsonValue *parse_ok(const char *s)
{
    Error *err = NULL;
    JsonValue *v = json_parse(s, strlen(s), &err);
    ck_assert_msg(v != NULL, "'%s': %s", s, error_get_pretty(err));
    return v;
}

static void parse_bad(const char *s, size_t len, const char *msg)
{
    Error *err = NULL;
    JsonValue *v = json_parse(s, len, &err);
    ck_assert_msg(v == NULL, "'%s' parsed", s);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(error_get_pretty(err), msg), "'%s': got '%s', want '%s'", s,
                  error_get_pretty(err), msg);
    error_free(err);
}

static void roundtrip(const char *in, const char *want)
{
    JsonValue *v = parse_ok(in);
    char *s = json_to_string(v, false);
    ck_assert_str_eq(s, want);
    free(s);
    json_free(v);
}

START_TEST(test_scalars)
{
    JsonValue *v = parse_ok("  true ");
    bool b = false;
    ck_assert(json_get_bool(v, &b) && b);
    ck_assert_int_eq(json_type(v), JSON_BOOL);
    json_free(v);

    v = parse_ok("-9223372036854775808");
    int64_t i;
    ck_assert(json_get_int64(v, &i));
    ck_assert(i == INT64_MIN);
    uint64_t u;
    ck_assert(!json_get_uint64(v, &u));
    json_free(v);

    v = parse_ok("18446744073709551615");
    ck_assert_int_eq(json_type(v), JSON_UINT);
    ck_assert(json_get_uint64(v, &u) && u == UINT64_MAX);
    ck_assert(!json_get_int64(v, &i));
    json_free(v);

    v = parse_ok("18446744073709551616");   /* beyond uint64: a double */
    double d;
    ck_assert_int_eq(json_type(v), JSON_DOUBLE);
    ck_assert(json_get_double(v, &d) && d > 1.8e19);
    json_free(v);

    v = parse_ok("-1.5e2");
    ck_assert(json_get_double(v, &d) && d == -150.0);
    json_free(v);

    v = parse_ok("null");
    ck_assert_int_eq(json_type(v), JSON_NULL);
    ck_assert_ptr_null(json_get_string(v));
    json_free(v);

    v = parse_ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"");
    ck_assert_str_eq(json_get_string(v), "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    json_free(v);

    /* QEMU's single-quoted strings. */
    v = parse_ok("'it\\'s \"x\"'");
    ck_assert_str_eq(json_get_string(v), "it's \"x\"");
    json_free(v);

    /* Lone surrogates become U+FFFD. */
    v = parse_ok("\"\\ud800x\\udc00\"");
    ck_assert_str_eq(json_get_string(v), "\xef\xbf\xbdx\xef\xbf\xbd");
    json_free(v);
}
END_TEST

START_TEST(test_containers)
{
    JsonValue *v = parse_ok("{\"execute\": \"x\", \"arguments\": {\"a\": [1, 2, {\"b\": null}]}, "
                            "\"id\": 7}");
    ck_assert_int_eq(json_type(v), JSON_OBJECT);
    ck_assert_uint_eq(json_object_len(v), 3);
    ck_assert_str_eq(json_object_key(v, 0), "execute");
    ck_assert_str_eq(json_get_string(json_object_get(v, "execute")), "x");
    JsonValue *a = json_object_get(json_object_get(v, "arguments"), "a");
    ck_assert_uint_eq(json_array_len(a), 3);
    int64_t i;
    ck_assert(json_get_int64(json_array_get(a, 1), &i) && i == 2);
    ck_assert_ptr_null(json_array_get(a, 3));
    ck_assert_ptr_null(json_object_get(v, "nope"));
    ck_assert_ptr_null(json_object_get(a, "x"));   /* not an object */

    JsonValue *c = json_clone(v);
    ck_assert(json_equal(v, c));
    JsonValue *id = json_object_take(c, "id");
    ck_assert(json_get_int64(id, &i) && i == 7);
    json_free(id);
    ck_assert(!json_equal(v, c));
    ck_assert_uint_eq(json_object_len(c), 2);
    json_free(c);
    json_free(v);

    v = parse_ok("[ ]");
    ck_assert_uint_eq(json_array_len(v), 0);
    json_free(v);
}
END_TEST

START_TEST(test_errors)
{
    parse_bad("", 0, "unexpected end of input");
    parse_bad("{bad json}", 10, "JSON parse error, expecting a member name");
    parse_bad("bad", 3, "JSON parse error, invalid keyword 'bad'");
    parse_bad("truex", 5, "invalid keyword 'truex'");
    parse_bad("[1,]", 4, "unexpected character ']'");
    parse_bad("[1 2]", 5, "expecting ',' or ']'");
    parse_bad("{\"a\":1,\"a\":2}", 13, "duplicate key 'a'");
    parse_bad("{\"a\" 1}", 7, "expecting ':'");
    parse_bad("01", 2, "leading zero");
    parse_bad("1.", 2, "invalid number");
    parse_bad("-", 1, "invalid number");
    parse_bad("1e999", 5, "number out of range");
    parse_bad("\"abc", 4, "missing closing quote");
    parse_bad("\"a\nb\"", 5, "control character");
    parse_bad("\"\\x\"", 4, "invalid escape");
    parse_bad("\"\\u12g4\"", 8, "invalid \\u escape");
    parse_bad("\"\\u0000\"", 8, "\\u0000 is not supported");
    parse_bad("\"\xc0\x80\"", 4, "invalid UTF-8");         /* overlong NUL */
    parse_bad("\"\xed\xa0\x80\"", 5, "invalid UTF-8");     /* encoded surrogate */
    parse_bad("\"\xf4\x90\x80\x80\"", 6, "invalid UTF-8"); /* > U+10FFFF */
    parse_bad("\"\xe2\x82\"", 4, "invalid UTF-8");         /* truncated */
    parse_bad("1 2", 3, "trailing characters");
    parse_bad("\x01", 1, "unexpected byte 0x01");
    parse_bad("nul\0l", 5, "invalid keyword 'nul'");

    /* Depth limit: no stack exhaustion, a clean error. */
    size_t n = 100000;
    char *deep = xmalloc(2 * n);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    parse_bad(deep, 2 * n, "too deeply nested");
    /* Just under the limit is fine. */
    size_t ok = JSON_MAX_DEPTH;
    memset(deep, '[', ok);
    memset(deep + ok, ']', ok);
    JsonValue *v = json_parse(deep, 2 * ok, &error_abort);
    json_free(v);
    free(deep);
}
END_TEST

START_TEST(test_serialize)
{
    roundtrip("{\"return\":{\"a\":[1,-2,true,null,\"s\\u0001\"],\"e\":{},\"l\":[]}}",
              "{\"return\": {\"a\": [1, -2, true, null, \"s\\u0001\"], \"e\": {}, \"l\": []}}");
    roundtrip("[1.5, 2.0, 1e300, 18446744073709551615]",
              "[1.5, 2.0, 1.0000000000000001e+300, 18446744073709551615]");

    JsonValue *o = json_new_object();
    json_object_set_str(o, "class", "GenericError");
    json_object_set_int(o, "n", 3);
    json_object_set_bool(o, "b", false);
    json_object_set(o, "n", json_new_uint(UINT64_MAX));   /* replaces */
    JsonValue *arr = json_new_array();
    json_array_append(arr, json_new_double(0.25));
    json_array_append(arr, json_new_null());
    json_object_set(o, "arr", arr);
    char *s = json_to_string(o, false);
    ck_assert_str_eq(s, "{\"class\": \"GenericError\", \"n\": 18446744073709551615, "
                        "\"b\": false, \"arr\": [0.25, null]}");
    free(s);
    s = json_to_string(o, true);
    ck_assert_str_eq(s, "{\n    \"class\": \"GenericError\",\n    \"n\": 18446744073709551615,\n"
                        "    \"b\": false,\n    \"arr\": [\n        0.25,\n        null\n    ]\n}");
    free(s);

    JsonWriter *w = json_writer_new(false);
    json_start_object(w, NULL);
    json_write_value(w, "return", o);
    json_end_object(w);
    ck_assert_str_eq(json_writer_get(w), "{\"return\": {\"class\": \"GenericError\", "
                     "\"n\": 18446744073709551615, \"b\": false, \"arr\": [0.25, null]}}");
    json_writer_free(w);
    json_free(o);
}
END_TEST

/* ---- streamer ---- */

typedef struct {
    char *out[16];
    int n;
} Collected;

static void collect(void *opaque, JsonValue *v, Error *err)
{
    Collected *c = opaque;
    ck_assert_int_lt(c->n, 16);
    if (v) {
        c->out[c->n++] = json_to_string(v, false);
        json_free(v);
    } else {
        c->out[c->n++] = xasprintf("ERR %s", error_get_pretty(err));
        error_free(err);
    }
}

START_TEST(test_streamer)
{
    Collected c = { 0 };
    JsonStreamer *s = json_streamer_new(collect, &c);
    const char *input =
        "{\"execute\":\"qmp_capabilities\"}\n"
        "{\"a\": \"}{][\\\"\", 'b': [1,{}]}"
        "  \"top\"  42\n[1,\n 2]"
        "{bad json\n}"
        "'x}'"
        "true}";
    /* Byte by byte: values split anywhere. */
    for (const char *p = input; *p; p++) {
        json_streamer_feed(s, p, 1);
    }
    json_streamer_feed(s, "\n", 1);
    ck_assert_int_eq(c.n, 9);
    ck_assert_str_eq(c.out[0], "{\"execute\": \"qmp_capabilities\"}");
    ck_assert_str_eq(c.out[1], "{\"a\": \"}{][\\\"\", \"b\": [1, {}]}");
    ck_assert_str_eq(c.out[2], "\"top\"");
    ck_assert_str_eq(c.out[3], "42");
    ck_assert_str_eq(c.out[4], "[1, 2]");
    ck_assert_str_eq(c.out[5], "ERR JSON parse error, expecting a member name");
    ck_assert_str_eq(c.out[6], "\"x}\"");
    ck_assert_str_eq(c.out[7], "true");
    ck_assert_str_eq(c.out[8], "ERR JSON parse error, unexpected character '}'");

    /* Too big: one error, then back in sync. */
    char *big = xmalloc(JSON_MAX_SIZE + 100);
    big[0] = '[';
    memset(big + 1, '1', JSON_MAX_SIZE + 98);
    big[JSON_MAX_SIZE + 99] = ']';
    json_streamer_feed(s, big, JSON_MAX_SIZE + 100);
    json_streamer_feed(s, "{}", 2);
    ck_assert_int_eq(c.n, 11);
    ck_assert_str_eq(c.out[9], "ERR JSON parse error, input too large or too deeply nested");
    ck_assert_str_eq(c.out[10], "{}");
    free(big);
    for (int i = 0; i < c.n; i++) {
        free(c.out[i]);
    }
    json_streamer_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_containers);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_serialize);
    tcase_add_test(tc, test_streamer);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
