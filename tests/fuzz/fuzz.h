/* Shared by fuzz targets and the smoke driver. */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

typedef void FuzzSeedFn(const uint8_t *data, size_t size, void *opaque);
/* Optional: a target defines this to add seeds built in code. */
void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque);

#endif
