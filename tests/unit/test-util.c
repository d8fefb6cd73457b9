/* Unit tests for util/: errors, sizes, option lists, JSON writer. */
#include <check.h>
#include <stdio.h>

#include "util/error.h"
#include "util/json-writer.h"
#include "util/option.h"
#include "util/strbuf.h"

START_TEST(test_error_messages)
{
    Error *err = NULL;
    error_setg_errno(&err, ENOENT, "Could not open '%s'", "x.qcow2");
    ck_assert_str_eq(error_get_pretty(err), "Could not open 'x.qcow2': No such file or directory");
    error_prepend(&err, "ide0-hd0: ");
    ck_assert_str_eq(error_get_pretty(err), "ide0-hd0: Could not open 'x.qcow2': No such file or directory");
    /* The first error wins: later ones are dropped, not leaked. */
    error_setg(&err, "second");
    ck_assert_str_eq(error_get_pretty(err), "ide0-hd0: Could not open 'x.qcow2': No such file or directory");
    error_free(err);

    Error *local = NULL, *dst = NULL;
    error_setg(&local, "inner");
    error_propagate(&dst, local);
    ck_assert_str_eq(error_get_pretty(dst), "inner");
    error_free(dst);
    error_setg(NULL, "ignored");
}
END_TEST

static char sink_buf[256];
static void sink(void *opaque, const char *msg)
{
    snprintf(sink_buf, sizeof(sink_buf), "%s|%s", (const char *)opaque, msg);
}

START_TEST(test_error_sink)
{
    error_push_sink(sink, "mon");
    error_report("bad %d", 42);
    ck_assert_str_eq(sink_buf, "mon|bad 42");
    warn_report("careful");
    ck_assert_str_eq(sink_buf, "mon|warning: careful");
    error_pop_sink();
}
END_TEST

START_TEST(test_parse_size)
{
    uint64_t v;
    ck_assert_int_eq(parse_size("512", 1, &v, NULL), 0);
    ck_assert_uint_eq(v, 512);
    ck_assert_int_eq(parse_size("4k", 1, &v, NULL), 0);
    ck_assert_uint_eq(v, 4096);
    ck_assert_int_eq(parse_size("1G", 1, &v, NULL), 0);
    ck_assert_uint_eq(v, 1ULL << 30);
    ck_assert_int_eq(parse_size("1.5M", 1, &v, NULL), 0);
    ck_assert_uint_eq(v, 3ULL << 19);
    ck_assert_int_eq(parse_size("128", MiB, &v, NULL), 0);
    ck_assert_uint_eq(v, 128 * MiB);
    ck_assert_int_eq(parse_size("16E", 1, &v, NULL), -ERANGE);
    ck_assert_int_eq(parse_size("99999999999999999999", 1, &v, NULL), -ERANGE);

    Error *err = NULL;
    ck_assert_int_eq(parse_size("12Q", 1, &v, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(error_get_pretty(err), "Invalid size '12Q'"));
    error_free(err);
    ck_assert_int_lt(parse_size("-1", 1, &v, NULL), 0);
    ck_assert_int_lt(parse_size("", 1, &v, NULL), 0);
    ck_assert_int_lt(parse_size("1.5", 1, &v, NULL), 0);
    ck_assert_int_lt(parse_size("1kk", 1, &v, NULL), 0);
}
END_TEST

START_TEST(test_parse_numbers)
{
    uint64_t u;
    int64_t s;
    bool b;
    ck_assert_int_eq(parse_uint64("0x10", &u, NULL), 0);
    ck_assert_uint_eq(u, 16);
    ck_assert_int_lt(parse_uint64("-3", &u, NULL), 0);
    ck_assert_int_lt(parse_uint64("12x", &u, NULL), 0);
    ck_assert_int_eq(parse_int64("-3", &s, NULL), 0);
    ck_assert_int_eq(s, -3);
    ck_assert_int_eq(parse_bool("on", &b, NULL), 0);
    ck_assert(b);
    ck_assert_int_eq(parse_bool("off", &b, NULL), 0);
    ck_assert(!b);
    ck_assert_int_lt(parse_bool("maybe", &b, NULL), 0);
}
END_TEST

START_TEST(test_optlist)
{
    Error *err = NULL;
    OptList *l = optlist_parse("disk.qcow2,,x,format=qcow2,readonly", "file", &err);
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(optlist_get(l, "file"), "disk.qcow2,x");
    ck_assert_str_eq(optlist_get(l, "format"), "qcow2");
    bool ro;
    ck_assert_int_eq(optlist_get_bool(l, "readonly", false, &ro, NULL), 0);
    ck_assert(ro);
    ck_assert_int_eq(optlist_check_all_used(l, "-drive", NULL), 0);
    optlist_free(l);

    l = optlist_parse("file=a,bogus=1", NULL, NULL);
    optlist_get(l, "file");
    ck_assert_int_lt(optlist_check_all_used(l, "-drive", &err), 0);
    ck_assert_str_eq(error_get_pretty(err), "Invalid parameter 'bogus' for -drive");
    error_free(err);
    err = NULL;
    uint64_t sz;
    ck_assert_int_lt(optlist_get_size(l, "file", 0, &sz, &err), 0);
    ck_assert_ptr_nonnull(strstr(error_get_pretty(err), "Parameter 'file'"));
    error_free(err);
    optlist_free(l);

    ck_assert_ptr_null(optlist_parse("=x", NULL, NULL));
}
END_TEST

START_TEST(test_json_compact)
{
    JsonWriter *w = json_writer_new(false);
    json_start_object(w, NULL);
    json_str(w, "return", "a\"b\\c\n\x01");
    json_int(w, "n", -5);
    json_start_array(w, "list");
    json_uint(w, NULL, 18446744073709551615ULL);
    json_bool(w, NULL, true);
    json_null(w, NULL);
    json_end_array(w);
    json_start_object(w, "empty");
    json_end_object(w);
    json_end_object(w);
    ck_assert_str_eq(json_writer_get(w),
        "{\"return\": \"a\\\"b\\\\c\\n\\u0001\", \"n\": -5, "
        "\"list\": [18446744073709551615, true, null], \"empty\": {}}");
    json_writer_free(w);
}
END_TEST

START_TEST(test_json_pretty)
{
    JsonWriter *w = json_writer_new(true);
    json_start_object(w, NULL);
    json_int(w, "virtual-size", 1024);
    json_start_array(w, "snapshots");
    json_end_array(w);
    json_end_object(w);
    ck_assert_str_eq(json_writer_get(w),
        "{\n    \"virtual-size\": 1024,\n    \"snapshots\": []\n}");
    char *s = json_writer_steal(w);
    ck_assert_uint_eq(json_writer_len(w), 0);
    free(s);
    json_writer_free(w);
}
END_TEST

START_TEST(test_strbuf)
{
    StrBuf sb;
    strbuf_init(&sb);
    for (int i = 0; i < 1000; i++) {
        strbuf_printf(&sb, "%d,", i % 10);
    }
    ck_assert_uint_eq(sb.len, 2000);
    ck_assert_uint_eq(strlen(sb.str), 2000);
    strbuf_free(&sb);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_messages);
    tcase_add_test(tc, test_error_sink);
    tcase_add_test(tc, test_parse_size);
    tcase_add_test(tc, test_parse_numbers);
    tcase_add_test(tc, test_optlist);
    tcase_add_test(tc, test_json_compact);
    tcase_add_test(tc, test_json_pretty);
    tcase_add_test(tc, test_strbuf);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
