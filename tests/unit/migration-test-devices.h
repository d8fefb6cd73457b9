/*
 * Fixed test devices for the migration tests and the vmstate fuzzer:
 * every field kind, nested structs, pointers, subsections and versions.
 * Header-only (static) so the fuzz target can include it too.
 */
#ifndef TESTS_MIGRATION_TEST_DEVICES_H
#define TESTS_MIGRATION_TEST_DEVICES_H

#include "migration/savevm.h"
#include "migration/vmstate.h"

#define TD_UNUSED __attribute__((unused))

/* ---- scalars, arrays, buffers ---- */
typedef struct TestScalars {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    double d;
    uint8_t eq8;
    uint32_t eq32;
    int32_t eqi32;
    bool eqb;
    int32_t le;
    uint8_t buf[5];
    uint16_t arr16[4];
    uint32_t grid[2][3];
    unsigned long *bits;
    int32_t nbits;
} TestScalars;

static const VMStateDescription vmstate_test_scalars TD_UNUSED = {
    .name = "test-scalars",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(b, TestScalars),
        VMSTATE_INT8(i8, TestScalars),
        VMSTATE_INT16(i16, TestScalars),
        VMSTATE_INT32(i32, TestScalars),
        VMSTATE_INT64(i64, TestScalars),
        VMSTATE_UINT8(u8, TestScalars),
        VMSTATE_UINT16(u16, TestScalars),
        VMSTATE_UINT32(u32, TestScalars),
        VMSTATE_UINT64(u64, TestScalars),
        VMSTATE_FLOAT64(d, TestScalars),
        VMSTATE_UINT8_EQUAL(eq8, TestScalars),
        VMSTATE_UINT32_EQUAL(eq32, TestScalars),
        VMSTATE_INT32_EQUAL(eqi32, TestScalars),
        VMSTATE_BOOL_EQUAL(eqb, TestScalars),
        VMSTATE_INT32_LE(le, TestScalars),
        VMSTATE_BUFFER(buf, TestScalars),
        VMSTATE_UNUSED(3),
        VMSTATE_UINT16_ARRAY(arr16, TestScalars, 4),
        VMSTATE_UINT32_2DARRAY(grid, TestScalars, 2, 3),
        VMSTATE_INT32_EQUAL(nbits, TestScalars),
        VMSTATE_BITMAP(bits, TestScalars, 0, nbits),
        VMSTATE_END_OF_LIST()
    },
};

/* ---- nested structs, pointers, variable arrays, subsections ---- */
typedef struct TestPoint {
    int32_t x;
    int32_t y;
} TestPoint;

static const VMStateDescription vmstate_test_point TD_UNUSED = {
    .name = "test-point",
    .version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_INT32(x, TestPoint),
        VMSTATE_INT32(y, TestPoint),
        VMSTATE_END_OF_LIST()
    },
};

typedef struct TestNested {
    TestPoint origin;
    TestPoint corners[3];
    uint32_t *vals;            /* room for nvals_max, nvals used */
    int32_t nvals;
    uint16_t *dyn;             /* allocated on load */
    uint32_t ndyn;
    uint8_t *blob;             /* allocated on load */
    uint32_t blob_len;
    TestPoint *target;         /* struct behind a pointer */
    TestPoint *slots[3];       /* array of pointers, slots[1] NULL */
    int32_t nfixed;
    uint16_t fixed[6];         /* in-place variable array */
    uint8_t since_v2;          /* field added in version 2 */
    uint8_t gated;             /* present when 'gate' says so */
    bool gate;
    uint32_t extra;            /* subsection test-nested/extra */
    bool extra_needed;
    uint64_t never;            /* subsection test-nested/never */
    int post_load_calls;
    int pre_load_calls;
    int pre_save_calls;
    int post_load_fail;        /* post_load returns this when non-zero */
} TestNested;

static TD_UNUSED bool test_nested_gate(void *opaque, int version_id)
{
    return ((TestNested *)opaque)->gate;
}

static TD_UNUSED bool test_extra_needed(void *opaque)
{
    return ((TestNested *)opaque)->extra_needed;
}

static TD_UNUSED bool test_never_needed(void *opaque)
{
    return false;
}

static const VMStateDescription vmstate_test_nested_extra TD_UNUSED = {
    .name = "test-nested/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = test_extra_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, TestNested),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_test_nested_never TD_UNUSED = {
    .name = "test-nested/never",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = test_never_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(never, TestNested),
        VMSTATE_END_OF_LIST()
    },
};

static TD_UNUSED int test_nested_pre_load(void *opaque)
{
    TestNested *s = opaque;
    s->pre_load_calls++;
    s->extra = 0;   /* default when the subsection is absent */
    return 0;
}

static TD_UNUSED int test_nested_post_load(void *opaque, int version_id)
{
    TestNested *s = opaque;
    s->post_load_calls++;
    /* Fails once (the bad stream), not when the backup is put back. */
    int r = s->post_load_fail;
    s->post_load_fail = 0;
    return r;
}

static TD_UNUSED int test_nested_pre_save(void *opaque)
{
    ((TestNested *)opaque)->pre_save_calls++;
    return 0;
}

/* Validation hook: coordinates beyond +-1000000 are impossible. */
static TD_UNUSED int test_nested_check(const void *loaded, int version_id, Error **errp)
{
    const TestNested *s = loaded;
    if (s->origin.x > 1000000 || s->origin.x < -1000000) {
        error_setg(errp, "origin.x %d is out of range", s->origin.x);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_test_nested TD_UNUSED = {
    .name = "test-nested",
    .version_id = 2,
    .minimum_version_id = 1,
    .pre_load = test_nested_pre_load,
    .post_load = test_nested_post_load,
    .pre_save = test_nested_pre_save,
    .check = test_nested_check,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(origin, TestNested, 0, vmstate_test_point, TestPoint),
        VMSTATE_STRUCT_ARRAY(corners, TestNested, 3, 0, vmstate_test_point, TestPoint),
        VMSTATE_INT32(nvals, TestNested),
        VMSTATE_VARRAY_INT32(vals, TestNested, nvals, 0, vmstate_info_uint32, uint32_t),
        VMSTATE_UINT32(ndyn, TestNested),
        VMSTATE_VARRAY_UINT32_ALLOC(dyn, TestNested, ndyn, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_UINT32(blob_len, TestNested),
        VMSTATE_VBUFFER_ALLOC_UINT32(blob, TestNested, 0, NULL, blob_len),
        VMSTATE_STRUCT_POINTER(target, TestNested, vmstate_test_point, TestPoint),
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(slots, TestNested, 3, 0, vmstate_test_point, TestPoint),
        VMSTATE_INT32(nfixed, TestNested),
        VMSTATE_VARRAY_INT32_UNSAFE(fixed, TestNested, nfixed, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_UINT8_V(since_v2, TestNested, 2),
        VMSTATE_BOOL(gate, TestNested),
        VMSTATE_UINT8_TEST(gated, TestNested, test_nested_gate),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_test_nested_extra,
        &vmstate_test_nested_never,
        NULL
    },
};

/* ---- a small device with several instances ---- */
typedef struct TestCounter {
    uint32_t count;
} TestCounter;

static const VMStateDescription vmstate_test_counter TD_UNUSED = {
    .name = "test-counter",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, TestCounter),
        VMSTATE_END_OF_LIST()
    },
};

/* High priority: saved first although registered last. */
static const VMStateDescription vmstate_test_early TD_UNUSED = {
    .name = "test-early",
    .version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, TestCounter),
        VMSTATE_END_OF_LIST()
    },
};

/* ---- the machine ---- */
#define TEST_RAM_PAGES 16

typedef struct TestMachine {
    TestScalars sc;
    unsigned long bits_store[2];
    TestNested nd;
    uint32_t vals_store[8];
    TestPoint target_store;
    TestPoint slot0, slot2;
    TestCounter ctr[2];
    TestCounter early;
    uint8_t *ram;
    RAMBlock *ram_block;
} TestMachine;

/* Fills every field with a fixed, recognisable value. */
static TD_UNUSED void test_machine_fill(TestMachine *m)
{
    TestScalars *s = &m->sc;
    s->b = true;
    s->i8 = -5;
    s->i16 = -300;
    s->i32 = -70000;
    s->i64 = -5000000000LL;
    s->u8 = 0xab;
    s->u16 = 0xbeef;
    s->u32 = 0xdeadbeef;
    s->u64 = 0x0123456789abcdefULL;
    s->d = 3.5;
    s->eq8 = 7;
    s->eq32 = 0x11223344;
    s->eqi32 = -2;
    s->eqb = true;
    s->le = 3;
    memcpy(s->buf, "hello", 5);
    for (int i = 0; i < 4; i++) {
        s->arr16[i] = (uint16_t)(0x100 + i);
    }
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
            s->grid[i][j] = (uint32_t)(i * 10 + j);
        }
    }
    m->bits_store[0] = 0x8000000000000001UL;
    m->bits_store[1] = 0x5;
    s->bits = m->bits_store;
    s->nbits = 70;

    TestNested *n = &m->nd;
    free(n->dyn);
    free(n->blob);
    memset(n, 0, sizeof(*n));
    n->origin = (TestPoint){ 1, -1 };
    for (int i = 0; i < 3; i++) {
        n->corners[i] = (TestPoint){ 10 * i, 20 * i };
    }
    for (int i = 0; i < 8; i++) {
        m->vals_store[i] = (uint32_t)(0xa0 + i);
    }
    n->vals = m->vals_store;
    n->nvals = 5;
    n->ndyn = 3;
    n->dyn = xmalloc(3 * sizeof(uint16_t));
    n->dyn[0] = 0x1111;
    n->dyn[1] = 0x2222;
    n->dyn[2] = 0x3333;
    n->blob_len = 4;
    n->blob = xmalloc(4);
    memcpy(n->blob, "BLOB", 4);
    m->target_store = (TestPoint){ 42, 43 };
    n->target = &m->target_store;
    m->slot0 = (TestPoint){ 5, 6 };
    m->slot2 = (TestPoint){ 7, 8 };
    n->slots[0] = &m->slot0;
    n->slots[1] = NULL;
    n->slots[2] = &m->slot2;
    n->nfixed = 4;
    for (int i = 0; i < 6; i++) {
        n->fixed[i] = (uint16_t)(0xf0 + i);
    }
    n->since_v2 = 0x22;
    n->gate = true;
    n->gated = 0x99;
    n->extra = 0xe0e0e0e0;
    n->extra_needed = true;
    n->never = 0xdead;

    m->ctr[0].count = 100;
    m->ctr[1].count = 200;
    m->early.count = 0xea;

    memset(m->ram, 0, TEST_RAM_PAGES * TARGET_PAGE_SIZE);
    for (int i = 0; i < TARGET_PAGE_SIZE; i++) {
        m->ram[1 * TARGET_PAGE_SIZE + i] = (uint8_t)(i * 7 + 1);
        m->ram[9 * TARGET_PAGE_SIZE + i] = (uint8_t)(i ^ 0x5a);
    }
    m->ram[15 * TARGET_PAGE_SIZE + 4095] = 0x77;
}

/* Sets up the registry with the test machine; returns 0 or -1. */
static TD_UNUSED int test_machine_init(TestMachine *m)
{
    memset(m, 0, sizeof(*m));
    m->ram = xmemalign_zero(4096, TEST_RAM_PAGES * TARGET_PAGE_SIZE);
    savevm_registry_reset();
    savevm_set_machine_name("minipc-test");
    m->ram_block = ram_block_register("test.ram", m->ram, TEST_RAM_PAGES * TARGET_PAGE_SIZE, NULL);
    if (!m->ram_block) {
        return -1;
    }
    test_machine_fill(m);
    if (vmstate_register(0, &vmstate_test_scalars, &m->sc) != 0 ||
        vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_test_nested, &m->nd) != 0 ||
        vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_test_counter, &m->ctr[0]) != 0 ||
        vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_test_counter, &m->ctr[1]) != 1 ||
        vmstate_register(0, &vmstate_test_early, &m->early) != 0) {
        return -1;
    }
    return 0;
}

static TD_UNUSED void test_machine_destroy(TestMachine *m)
{
    savevm_registry_reset();
    free(m->nd.dyn);
    free(m->nd.blob);
    free(m->ram);
    memset(m, 0, sizeof(*m));
}

#endif
