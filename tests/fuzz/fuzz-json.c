/* Fuzz target for util/json-parser.c: parse, serialize, parse again and
 * compare; feed the same bytes to the streamer in uneven pieces. */
#include "util/json-parser.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(void *opaque, JsonValue *v, Error *err)
{
    size_t *count = opaque;
    (*count)++;
    if (v) {
        char *s = json_to_string(v, false);
        free(s);
    }
    json_free(v);
    error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JsonValue *v = json_parse((const char *)data, size, NULL);
    if (v) {
        for (int pretty = 0; pretty < 2; pretty++) {
            char *s = json_to_string(v, pretty);
            Error *err = NULL;
            JsonValue *again = json_parse(s, strlen(s), &err);
            if (!again || !json_equal(v, again)) {
                /* Whatever parses must survive its own serialization. */
                abort();
            }
            json_free(again);
            free(s);
        }
        JsonValue *copy = json_clone(v);
        if (!json_equal(v, copy)) {
            abort();
        }
        json_free(copy);
        json_free(v);
    }
    size_t count = 0;
    JsonStreamer *st = json_streamer_new(drop, &count);
    size_t off = 0, step = 1;
    while (off < size) {
        size_t n = MIN(step, size - off);
        json_streamer_feed(st, data + off, n);
        off += n;
        step = step * 3 % 17 + 1;
    }
    json_streamer_free(st);
    return 0;
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    static const char *const seeds[] = {
        "{\"execute\": \"qmp_capabilities\"}",
        "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}, \"id\": [1, 2.5e3, null]}",
        "[true, false, null, -0, 1e-7, 18446744073709551615, -9223372036854775808, \"\\ud83d\\ude00\\u00e9\\n\"]",
        "{'single': 'quoted \\' string', \"nested\": {\"a\": [[[[{}]]]]}}",
        "\"top\" 12 {} [] } ] {\"a\" 1}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
        emit((const uint8_t *)seeds[i], strlen(seeds[i]), opaque);
    }
}
