/*
 * Fuzz target: arbitrary bytes as a savevm stream, loaded into the test
 * machine (every field kind, RAM). A load either succeeds or fails with
 * a message; when it fails the machine must be exactly as before.
 * Seeds: streams of the test machine in a few shapes.
 */
#include <stdio.h>

#include "fuzz.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "../unit/migration-test-devices.h"

static TestMachine M;
static bool ready;

static uint8_t *save(size_t *len)
{
    QEMUFile *f = qemu_file_new_mem_output();
    if (qemu_savevm_state(f, NULL) < 0) {
        abort();
    }
    uint8_t *d = qemu_file_mem_output_steal(f, len);
    qemu_fclose(f, NULL);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (test_machine_init(&M) < 0) {
            abort();
        }
        ready = true;
    }
    test_machine_fill(&M);
    size_t blen;
    uint8_t *before = save(&blen);

    QEMUFile *f = qemu_file_new_mem_input(data, size);
    Error *err = NULL;
    int ret = qemu_loadvm_state(f, &err);
    qemu_fclose(f, NULL);
    if (ret < 0) {
        if (!err || !*error_get_pretty(err)) {
            fprintf(stderr, "load failed without a message\n");
            abort();
        }
        size_t alen;
        uint8_t *after = save(&alen);
        if (alen != blen || memcmp(before, after, alen) != 0) {
            fprintf(stderr, "failed load changed the machine: %s\n", error_get_pretty(err));
            FILE *out = fopen("/tmp/fuzz-vmstate-crash.bin", "wb");
            if (out) {
                fwrite(data, 1, size, out);
                fclose(out);
            }
            abort();
        }
        error_free(err);
        free(after);
    }
    free(before);
    return 0;
}

void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque)
{
    TestMachine m;
    if (test_machine_init(&m) < 0) {
        abort();
    }
    size_t len;
    uint8_t *d = save(&len);
    emit(d, len, opaque);
    free(d);
    /* Without the optional subsection, and with small RAM parts. */
    m.nd.extra_needed = false;
    ram_set_iterate_pages(3);
    d = save(&len);
    emit(d, len, opaque);
    free(d);
    /* Different values: empty allocated buffers, no gated field. */
    m.nd.ndyn = 0;
    m.nd.blob_len = 0;
    m.nd.gate = false;
    m.nd.nvals = 1;
    d = save(&len);
    emit(d, len, opaque);
    free(d);
    test_machine_destroy(&m);
    ready = false;
}
