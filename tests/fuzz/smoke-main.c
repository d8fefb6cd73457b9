/*
 * Deterministic driver for fuzz targets, run by make check under
 * ASan/UBSan. It feeds LLVMFuzzerTestOneInput every seed (files in the
 * corpus directory given as argv[1], plus seeds the target generates
 * itself through fuzz_generate_seeds) and a fixed number of seeded
 * mutations of each: bit flips, byte stores of interesting values,
 * truncation, duplication of a slice, and splices between seeds.
 *
 * MINIPC_FUZZ_ITERS sets the number of mutations (default 3000);
 * MINIPC_FUZZ_SEED the PRNG seed. A crash or sanitizer report fails the
 * run; normal rejections of bad input are the target's business.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/osdep.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Targets may provide seeds in code (e.g. images built in memory). */
__attribute__((weak)) void fuzz_generate_seeds(FuzzSeedFn *emit, void *opaque) {}

typedef struct Seed {
    uint8_t *data;
    size_t size;
} Seed;

static Seed *seeds;
static size_t nseeds;

static void add_seed(const uint8_t *data, size_t size, void *opaque)
{
    seeds = xrealloc(seeds, (nseeds + 1) * sizeof(Seed));
    seeds[nseeds].data = xmalloc(size ? size : 1);
    memcpy(seeds[nseeds].data, data, size);
    seeds[nseeds].size = size;
    nseeds++;
}

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    /* xorshift64*: small, deterministic, good enough for mutations */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static void load_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') {
            continue;
        }
        names = xrealloc(names, (n + 1) * sizeof(char *));
        names[n++] = xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    /* Sorted, so runs are reproducible whatever readdir's order. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i]; names[i] = names[j]; names[j] = t;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(names[i], "rb");
        if (f) {
            struct stat st;
            if (fstat(fileno(f), &st) == 0 && st.st_size <= 64 * 1024 * 1024) {
                uint8_t *buf = xmalloc(st.st_size + 1);
                size_t got = fread(buf, 1, st.st_size, f);
                add_seed(buf, got, NULL);
                free(buf);
            }
            fclose(f);
        }
        free(names[i]);
    }
    free(names);
}

static const uint8_t interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40 };

static size_t mutate(uint8_t **pbuf, size_t size)
{
    uint8_t *buf = *pbuf;
    int rounds = 1 + rng_next() % 8;
    for (int r = 0; r < rounds && size > 0; r++) {
        size_t pos = rng_next() % size;
        switch (rng_next() % 7) {
        case 0:
            buf[pos] ^= 1u << (rng_next() % 8);
            break;
        case 1:
            buf[pos] = interesting[rng_next() % sizeof(interesting)];
            break;
        case 2:
            buf[pos] = rng_next();
            break;
        case 3: /* 32-bit big-endian store of a boundary value (qcow2 is BE) */
            if (pos + 4 <= size) {
                static const uint32_t vals[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x200, 0x10000 };
                stl_be(buf + pos, vals[rng_next() % ARRAY_SIZE(vals)]);
            }
            break;
        case 4: /* truncate */
            size = pos;
            break;
        case 5: { /* copy a slice over another place */
            size_t from = rng_next() % size;
            size_t len = 1 + rng_next() % 64;
            if (from + len <= size && pos + len <= size) {
                memmove(buf + pos, buf + from, len);
            }
            break;
        }
        case 6: { /* splice from another seed */
            const Seed *o = &seeds[rng_next() % nseeds];
            if (o->size) {
                size_t from = rng_next() % o->size;
                size_t want = 1 + rng_next() % 512;  /* MIN evaluates twice */
                size_t len = MIN(o->size - from, want);
                len = MIN(len, size - pos);
                memcpy(buf + pos, o->data + from, len);
            }
            break;
        }
        }
    }
    *pbuf = buf;
    return size;
}

int main(int argc, char **argv)
{
    const char *iters_env = getenv("MINIPC_FUZZ_ITERS");
    const char *seed_env = getenv("MINIPC_FUZZ_SEED");
    long iters = iters_env ? atol(iters_env) : 3000;
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : 0x6d696e697063ULL;
    if (!rng_state) {
        rng_state = 1;
    }

    if (argc > 1) {
        load_corpus(argv[1]);
    }
    fuzz_generate_seeds(add_seed, NULL);
    if (nseeds == 0) {
        fprintf(stderr, "fuzz smoke: no seeds (corpus '%s' empty and no generator)\n",
                argc > 1 ? argv[1] : "");
        return 1;
    }
    for (size_t i = 0; i < nseeds; i++) {
        LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].size);
    }
    for (long i = 0; i < iters; i++) {
        const Seed *s = &seeds[i % nseeds];
        uint8_t *buf = xmalloc(s->size ? s->size : 1);
        memcpy(buf, s->data, s->size);
        size_t size = mutate(&buf, s->size);
        LLVMFuzzerTestOneInput(buf, size);
        free(buf);
    }
    printf("fuzz smoke: %zu seeds, %ld mutations, no crash\n", nseeds, iters);
    return 0;
}
