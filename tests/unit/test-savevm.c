/*
 * Unit tests for the VMState engine and the savevm stream: round trips
 * of every field kind, versions, subsections, the golden stream, every
 * load error (with the message checked and the machine verified
 * untouched), and RAM through files and non-seekable sources.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "migration-test-devices.h"

#define GOLDEN_PATH "tests/unit/data/savevm-golden.hex"

static TestMachine M;

static void setup(void)
{
    ck_assert_int_eq(test_machine_init(&M), 0);
}

static void teardown(void)
{
    test_machine_destroy(&M);
}

static uint8_t *save_machine(size_t *len)
{
    QEMUFile *f = qemu_file_new_mem_output();
    Error *err = NULL;
    int r = qemu_savevm_state(f, &err);
    ck_assert_msg(r == 0, "save failed: %s", err ? error_get_pretty(err) : "?");
    uint8_t *d = qemu_file_mem_output_steal(f, len);
    ck_assert_int_eq(qemu_fclose(f, NULL), 0);
    return d;
}

static int load_machine(const uint8_t *d, size_t len, Error **errp)
{
    QEMUFile *f = qemu_file_new_mem_input(d, len);
    int r = qemu_loadvm_state(f, errp);
    qemu_fclose(f, NULL);
    return r;
}

/* Loads and expects failure with exactly this message. */
static void expect_load_error(const uint8_t *d, size_t len, const char *msg)
{
    Error *err = NULL;
    ck_assert_int_lt(load_machine(d, len, &err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(error_get_pretty(err), msg);
    error_free(err);
}

/* Everything that is saved, as bytes: two equal fingerprints mean two
 * equal machines (RAM included). */
typedef struct Fingerprint {
    uint8_t *data;
    size_t len;
} Fingerprint;

static Fingerprint fingerprint(void)
{
    Fingerprint fp;
    fp.data = save_machine(&fp.len);
    return fp;
}

static void assert_unchanged(Fingerprint *before)
{
    Fingerprint now = fingerprint();
    ck_assert_uint_eq(now.len, before->len);
    ck_assert_msg(memcmp(now.data, before->data, now.len) == 0, "machine state changed");
    free(now.data);
}

/* Gives every saved field another value (EQUAL fields and capacities
 * stay as they are: the stream must match those). */
static void scramble(TestMachine *m)
{
    TestScalars *s = &m->sc;
    s->b = false;
    s->i8 = 1;
    s->i16 = 2;
    s->i32 = 3;
    s->i64 = 4;
    s->u8 = 5;
    s->u16 = 6;
    s->u32 = 7;
    s->u64 = 8;
    s->d = -1.25;
    s->le = 9;
    memcpy(s->buf, "world", 5);
    memset(s->arr16, 0, sizeof(s->arr16));
    memset(s->grid, 0, sizeof(s->grid));
    memset(m->bits_store, 0, sizeof(m->bits_store));
    TestNested *n = &m->nd;
    n->origin = (TestPoint){ 9, 9 };
    memset(n->corners, 0, sizeof(n->corners));
    memset(m->vals_store, 0, sizeof(m->vals_store));
    free(n->dyn);
    n->dyn = NULL;
    n->ndyn = 0;
    free(n->blob);
    n->blob = NULL;
    n->blob_len = 0;
    m->target_store = (TestPoint){ 0, 0 };
    m->slot0 = m->slot2 = (TestPoint){ 0, 0 };
    n->nfixed = 0;
    memset(n->fixed, 0, sizeof(n->fixed));
    n->since_v2 = 0x55;
    n->gated = 0;
    n->extra = 1;
    m->ctr[0].count = m->ctr[1].count = 0;
    m->early.count = 0;
    for (int i = 0; i < TEST_RAM_PAGES * TARGET_PAGE_SIZE; i++) {
        m->ram[i] = (uint8_t)(i * 13 + 5);
    }
}

static void check_filled(TestMachine *m)
{
    TestScalars *s = &m->sc;
    ck_assert(s->b);
    ck_assert_int_eq(s->i8, -5);
    ck_assert_int_eq(s->i16, -300);
    ck_assert_int_eq(s->i32, -70000);
    ck_assert_int_eq(s->i64, -5000000000LL);
    ck_assert_uint_eq(s->u8, 0xab);
    ck_assert_uint_eq(s->u16, 0xbeef);
    ck_assert_uint_eq(s->u32, 0xdeadbeef);
    ck_assert_uint_eq(s->u64, 0x0123456789abcdefULL);
    ck_assert(s->d == 3.5);
    ck_assert_int_eq(s->le, 3);
    ck_assert_mem_eq(s->buf, "hello", 5);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(s->arr16[i], 0x100 + i);
    }
    ck_assert_uint_eq(s->grid[1][2], 12);
    ck_assert_uint_eq(s->grid[0][1], 1);
    ck_assert_uint_eq(m->bits_store[0], 0x8000000000000001UL);
    ck_assert_uint_eq(m->bits_store[1], 0x5);
    TestNested *n = &m->nd;
    ck_assert_int_eq(n->origin.x, 1);
    ck_assert_int_eq(n->origin.y, -1);
    ck_assert_int_eq(n->corners[2].x, 20);
    ck_assert_int_eq(n->corners[2].y, 40);
    ck_assert_int_eq(n->nvals, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(m->vals_store[i], 0xa0 + i);
    }
    ck_assert_uint_eq(m->vals_store[5], 0);    /* beyond the count: untouched */
    ck_assert_uint_eq(n->ndyn, 3);
    ck_assert_ptr_nonnull(n->dyn);
    ck_assert_uint_eq(n->dyn[2], 0x3333);
    ck_assert_uint_eq(n->blob_len, 4);
    ck_assert_mem_eq(n->blob, "BLOB", 4);
    ck_assert_int_eq(m->target_store.x, 42);
    ck_assert_int_eq(m->target_store.y, 43);
    ck_assert_int_eq(m->slot0.y, 6);
    ck_assert_int_eq(m->slot2.x, 7);
    ck_assert_int_eq(n->nfixed, 4);
    ck_assert_uint_eq(n->fixed[3], 0xf3);
    ck_assert_uint_eq(n->fixed[4], 0);
    ck_assert_uint_eq(n->since_v2, 0x22);
    ck_assert_uint_eq(n->gated, 0x99);
    ck_assert_uint_eq(n->extra, 0xe0e0e0e0);
    ck_assert_uint_eq(m->ctr[0].count, 100);
    ck_assert_uint_eq(m->ctr[1].count, 200);
    ck_assert_uint_eq(m->early.count, 0xea);
    ck_assert_uint_eq(m->ram[1 * TARGET_PAGE_SIZE + 3], 22);
    ck_assert_uint_eq(m->ram[9 * TARGET_PAGE_SIZE + 1], 0x5b);
    ck_assert_uint_eq(m->ram[15 * TARGET_PAGE_SIZE + 4095], 0x77);
    ck_assert_uint_eq(m->ram[15 * TARGET_PAGE_SIZE + 4094], 0);
    ck_assert_uint_eq(m->ram[0], 0);
}

/* Offset of the first occurrence of a byte string, or fail. */
static size_t find_bytes(const uint8_t *d, size_t len, const void *pat, size_t plen)
{
    for (size_t i = 0; i + plen <= len; i++) {
        if (memcmp(d + i, pat, plen) == 0) {
            return i;
        }
    }
    ck_abort_msg("pattern not found");
    return 0;
}

/* Offset of a FULL/START section header's idstr length byte. */
static size_t section_idstr(const uint8_t *d, size_t len, const char *idstr)
{
    uint8_t pat[260];
    size_t l = strlen(idstr);
    pat[0] = (uint8_t)l;
    memcpy(pat + 1, idstr, l);
    return find_bytes(d, len, pat, l + 1);
}

/* ---- round trips ----------------------------------------------------- */

START_TEST(test_roundtrip_machine)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    ck_assert_int_eq(M.nd.pre_save_calls, 1);
    scramble(&M);
    M.nd.dyn = xmalloc(2);      /* an old ALLOC buffer is replaced, not leaked */
    M.nd.ndyn = 1;
    Error *err = NULL;
    int r = load_machine(d, len, &err);
    ck_assert_msg(r == 0, "%s", err ? error_get_pretty(err) : "");
    check_filled(&M);
    /* Hooks run once: in the commit pass, not in validation. */
    ck_assert_int_eq(M.nd.pre_load_calls, 1);
    ck_assert_int_eq(M.nd.post_load_calls, 1);
    /* Saving again gives the same bytes. */
    size_t len2;
    uint8_t *d2 = save_machine(&len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_mem_eq(d, d2, len);
    free(d2);
    free(d);
}
END_TEST

START_TEST(test_stream_layout)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    static const uint8_t head[] = {
        'Q', 'E', 'V', 'M', 0, 0, 0, 3,
        0x07, 0, 0, 0, 11, 'm', 'i', 'n', 'i', 'p', 'c', '-', 't', 'e', 's', 't',
        0x01, 0, 0, 0, 0, 3, 'r', 'a', 'm', 0, 0, 0, 0, 0, 0, 0, 4,
        /* MEM_SIZE: 64 KiB | 0x04, then the block list */
        0, 0, 0, 0, 0, 1, 0, 0x04, 8, 't', 'e', 's', 't', '.', 'r', 'a', 'm',
        0, 0, 0, 0, 0, 1, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0x10,       /* EOS */
        0x7e, 0, 0, 0, 0,                /* footer of section 0 */
        0x02, 0, 0, 0, 0,                /* PART of section 0 */
        0, 0, 0, 0, 0, 0, 0, 0x02, 8, 't', 'e', 's', 't', '.', 'r', 'a', 'm', 0,  /* page 0: zero */
        0, 0, 0, 0, 0, 0, 0x10, 0x28,    /* page 1: data, CONTINUE (same block) */
    };
    ck_assert_uint_ge(len, sizeof(head));
    ck_assert_mem_eq(d, head, sizeof(head));
    /* The high-priority device comes first among the FULL sections,
     * and keeps the section id of its registration (5). */
    size_t early = section_idstr(d, len, "test-early");
    size_t scal = section_idstr(d, len, "test-scalars");
    ck_assert_uint_lt(early, scal);
    ck_assert_uint_eq(d[early - 5], QEMU_VM_SECTION_FULL);
    ck_assert_uint_eq(ldl_be(d + early - 4), 5);
    /* Counters got instance ids 0 and 1. */
    size_t c0 = section_idstr(d, len, "test-counter");
    ck_assert_uint_eq(ldl_be(d + c0 + 13), 0);
    ck_assert_uint_eq(ldl_be(d + c0 + 17), 3);     /* version */
    size_t c1 = c0 + 13 + find_bytes(d + c0 + 13, len - c0 - 13, "\x0ctest-counter", 13);
    ck_assert_uint_eq(ldl_be(d + c1 + 13), 1);
    /* EOF, then the description. */
    size_t js = find_bytes(d, len, "{\"page_size\": 4096, \"devices\": [", 32);
    ck_assert_uint_eq(d[js - 6], QEMU_VM_EOF);
    ck_assert_uint_eq(d[js - 5], QEMU_VM_VMDESCRIPTION);
    ck_assert_uint_eq(ldl_be(d + js - 4), len - js);
    free(d);
}
END_TEST

START_TEST(test_json_description)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    size_t js = find_bytes(d, len, "{\"page_size\"", 12);
    char *json = xstrndup((const char *)d + js, len - js);
    static const char *const expect[] = {
        "{\"page_size\": 4096, \"devices\": [{\"name\": \"test-early\", \"instance_id\": 0, "
        "\"vmsd_name\": \"test-early\", \"version\": 1, \"fields\": [{\"name\": \"count\", "
        "\"type\": \"uint32\", \"size\": 4}]}, ",
        "{\"name\": \"arr16\", \"array_len\": 4, \"type\": \"uint16\", \"size\": 2}",
        "{\"name\": \"grid\", \"array_len\": 6, \"type\": \"uint32\", \"size\": 4}",
        "{\"name\": \"unused\", \"type\": \"unused_buffer\", \"size\": 3}",
        "{\"name\": \"eq8\", \"type\": \"uint8 equal\", \"size\": 1}",
        "{\"name\": \"le\", \"type\": \"int32 le\", \"size\": 4}",
        "{\"name\": \"bits\", \"type\": \"bitmap\", \"size\": 16}",
        "{\"name\": \"buf\", \"type\": \"buffer\", \"size\": 5}",
        "{\"name\": \"origin\", \"type\": \"struct\", \"struct\": {\"vmsd_name\": \"test-point\", "
        "\"version\": 1, \"fields\": [{\"name\": \"x\", \"type\": \"int32\", \"size\": 4}, "
        "{\"name\": \"y\", \"type\": \"int32\", \"size\": 4}]}, \"size\": 8}",
        "{\"name\": \"corners\", \"array_len\": 3, \"type\": \"struct\"",
        "{\"name\": \"vals\", \"array_len\": 5, \"type\": \"uint32\", \"size\": 4}",
        "{\"name\": \"blob\", \"type\": \"buffer\", \"size\": 4}",
        "{\"name\": \"slots\", \"index\": 1, \"type\": \"nullptr\", \"size\": 1}",
        "{\"name\": \"gated\", \"type\": \"uint8\", \"size\": 1}",
        "\"subsections\": [{\"vmsd_name\": \"test-nested/extra\", \"version\": 1, \"fields\": "
        "[{\"name\": \"extra\", \"type\": \"uint32\", \"size\": 4}]}]}",
        "{\"name\": \"test-counter\", \"instance_id\": 1, ",
    };
    for (size_t i = 0; i < ARRAY_SIZE(expect); i++) {
        ck_assert_msg(strstr(json, expect[i]), "missing %s in %s", expect[i], json);
    }
    ck_assert(!strstr(json, "test-nested/never"));
    ck_assert(!strstr(json, "\"ram\""));     /* live sections are not described */
    ck_assert_uint_eq(json[strlen(json) - 1], '}');
    free(json);
    free(d);
}
END_TEST

static uint8_t *read_golden(size_t *len)
{
    FILE *fp = fopen(GOLDEN_PATH, "r");
    if (!fp) {
        return NULL;
    }
    size_t cap = 65536, n = 0;
    uint8_t *d = xmalloc(cap);
    int hi = -1, c;
    while ((c = fgetc(fp)) != EOF) {
        int v;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            if (n == cap) {
                cap *= 2;
                d = xrealloc(d, cap);
            }
            d[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(fp);
    *len = n;
    return d;
}

static void write_golden(const uint8_t *d, size_t len)
{
    FILE *fp = fopen(GOLDEN_PATH, "w");
    ck_assert_ptr_nonnull(fp);
    for (size_t i = 0; i < len; i++) {
        fprintf(fp, "%02x%s", d[i], (i % 32 == 31 || i == len - 1) ? "\n" : "");
    }
    fclose(fp);
}

START_TEST(test_golden_stream)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    if (getenv("MINIPC_UPDATE_GOLDEN")) {
        write_golden(d, len);
    }
    size_t glen = 0;
    uint8_t *g = read_golden(&glen);
    ck_assert_msg(g != NULL, "cannot read %s (run from the source tree)", GOLDEN_PATH);
    ck_assert_uint_eq(len, glen);
    for (size_t i = 0; i < len; i++) {
        ck_assert_msg(d[i] == g[i], "stream differs from golden at offset %zu", i);
    }
    /* And the golden stream loads. */
    scramble(&M);
    Error *err = NULL;
    ck_assert_msg(load_machine(g, glen, &err) == 0, "%s", err ? error_get_pretty(err) : "");
    check_filled(&M);
    free(g);
    free(d);
}
END_TEST

/* ---- versions and subsections --------------------------------------- */

START_TEST(test_v1_stream_into_v2)
{
    QEMUFile *w = qemu_file_new_mem_output();
    Error *err = NULL;
    ck_assert_int_eq(vmstate_save_state_v(w, &vmstate_test_nested, &M.nd, NULL, 1, &err), 0);
    size_t len;
    uint8_t *d = qemu_file_mem_output_steal(w, &len);
    qemu_fclose(w, NULL);
    scramble(&M);
    QEMUFile *r = qemu_file_new_mem_input(d, len);
    ck_assert_int_eq(vmstate_load_state(r, &vmstate_test_nested, &M.nd, 1, &err), 0);
    ck_assert(qemu_file_at_eof(r));
    qemu_fclose(r, NULL);
    ck_assert_uint_eq(M.nd.since_v2, 0x55);      /* not in v1: keeps its value */
    ck_assert_uint_eq(M.nd.gated, 0x99);
    ck_assert_int_eq(M.target_store.x, 42);
    free(d);
}
END_TEST

START_TEST(test_newer_and_older_versions_rejected)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    size_t at = section_idstr(d, len, "test-nested");
    stl_be(d + at + 16, 3);
    expect_load_error(d, len, "Section 'test-nested' version 3 is newer than supported (2)");
    stl_be(d + at + 16, 0);
    expect_load_error(d, len, "Section 'test-nested' version 0 is older than the oldest supported (1)");
    /* Nested descriptions are versioned too: a subsection from the future. */
    stl_be(d + at + 16, 2);
    size_t sub = find_bytes(d, len, "\x05\x11test-nested/extra", 19);
    stl_be(d + sub + 19, 2);
    expect_load_error(d, len, "Section 'test-nested' instance 0: 'test-nested/extra' version 2 "
                      "is newer than supported (1)");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_subsection_absent_and_unknown)
{
    M.nd.extra_needed = false;
    size_t len;
    uint8_t *d = save_machine(&len);
    ck_assert_int_lt((int)(memmem(d, len, "test-nested/extra", 17) != NULL), 1);
    M.nd.extra = 77;
    Error *err = NULL;
    ck_assert_int_eq(load_machine(d, len, &err), 0);
    ck_assert_uint_eq(M.nd.extra, 0);            /* pre_load's default */
    free(d);

    M.nd.extra_needed = true;
    d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    size_t sub = find_bytes(d, len, "test-nested/extra", 17);
    d[sub + 16] = 'b';
    expect_load_error(d, len, "Section 'test-nested' instance 0: Unknown subsection "
                      "'test-nested/extrb' in 'test-nested'");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

/* ---- load errors leave the machine untouched -------------------------- */

START_TEST(test_bad_header)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    d[0] = 'X';
    expect_load_error(d, len, "Not a migration stream (magic 0x5845564d, expected 0x5145564d 'QEVM')");
    d[0] = 'Q';
    d[7] = 2;
    expect_load_error(d, len, "Unsupported migration stream version 2 (expected 3)");
    d[7] = 3;
    d[8] = 0x01;
    expect_load_error(d, len, "Configuration section missing (found section type 1)");
    d[8] = 0x07;
    savevm_set_machine_name("other-machine");
    expect_load_error(d, len, "Machine type received is 'minipc-test' and local is 'other-machine'");
    savevm_set_machine_name("minipc-test");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_unknown_section)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    size_t at = section_idstr(d, len, "test-counter");
    d[at + 12] = 's';
    expect_load_error(d, len, "Unknown savevm section 'test-countes' instance 0");
    d[at + 12] = 'r';
    stl_be(d + at + 13, 7);
    expect_load_error(d, len, "Unknown savevm section 'test-counter' instance 7");
    stl_be(d + at + 13, 0);
    d[at - 5] = 0x09;
    char msg[128];
    snprintf(msg, sizeof(msg), "Unknown savevm section type 9 at offset %zu", at - 5);
    expect_load_error(d, len, msg);
    d[at - 5] = QEMU_VM_SECTION_START;
    expect_load_error(d, len, "Section 'test-counter' instance 0 cannot be loaded from a START section");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_equal_and_le_mismatch)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    M.sc.eq8 = 8;
    Fingerprint fp = fingerprint();
    expect_load_error(d, len, "Section 'test-scalars' instance 0: 'test-scalars' field 'eq8': "
                      "value 7 in the stream does not match 8 here");
    assert_unchanged(&fp);
    free(fp.data);
    M.sc.eq8 = 7;
    M.sc.le = 2;
    fp = fingerprint();
    expect_load_error(d, len, "Section 'test-scalars' instance 0: 'test-scalars' field 'le': "
                      "value 3 in the stream is not within 0..2");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_footer_errors)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    /* test-early: FULL header, one uint32, then the footer. */
    size_t at = section_idstr(d, len, "test-early");
    size_t footer = at + 1 + 10 + 8 + 4;
    ck_assert_uint_eq(d[footer], QEMU_VM_SECTION_FOOTER);
    d[footer] = 0x7d;
    expect_load_error(d, len, "Missing section footer for 'test-early' instance 0 (found 0x7d)");
    d[footer] = QEMU_VM_SECTION_FOOTER;
    stl_be(d + footer + 1, 4);
    expect_load_error(d, len, "Mismatched section id in footer for 'test-early': read 4, expected 5");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_truncated_and_trailing)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    /* Every prefix of the stream is refused, and nothing changes. The
     * last byte of the JSON is part of the stream too. */
    size_t js = find_bytes(d, len, "{\"page_size\"", 12);
    for (size_t cut = 0; cut < len; cut++) {
        Error *err = NULL;
        if (cut == js - 5) {
            continue;   /* ends right after EOF: valid, tested below */
        }
        ck_assert_msg(load_machine(d, cut, &err) < 0, "prefix of %zu bytes loaded", cut);
        error_free(err);
    }
    assert_unchanged(&fp);
    size_t at = section_idstr(d, len, "test-scalars");
    char msg[200];
    /* i16 starts 23 bytes after the idstr length byte: cut after its
     * first byte, and before it. */
    snprintf(msg, sizeof(msg), "Section 'test-scalars' instance 0: 'test-scalars' field 'i16': "
             "Unexpected end of migration stream at offset %zu", at + 24);
    expect_load_error(d, at + 24, msg);
    expect_load_error(d, at + 23, "Section 'test-scalars' instance 0: 'test-scalars' field 'i16': "
                      "needs 1 more bytes, only 0 left in the stream");
    /* Without the description the stream is fine... */
    Error *err = NULL;
    ck_assert_int_eq(load_machine(d, js - 5, &err), 0);
    check_filled(&M);
    /* ...but not with bytes after it. */
    scramble(&M);
    fp.data = (free(fp.data), NULL);
    fp = fingerprint();
    uint8_t *longer = xmalloc(len + 1);
    memcpy(longer, d, len);
    longer[len] = 0;
    snprintf(msg, sizeof(msg), "Trailing garbage after the end of the migration stream at offset %zu", len);
    expect_load_error(longer, len + 1, msg);
    snprintf(msg, sizeof(msg), "Trailing garbage after the end of the migration stream at offset %zu", js - 5);
    longer[js - 5] = 0x42;
    expect_load_error(longer, len, msg);
    assert_unchanged(&fp);
    free(longer);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_ram_errors)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    size_t blk = find_bytes(d, len, "\x08test.ram", 9);
    d[blk + 8] = 'X';
    expect_load_error(d, len, "Section 'ram' instance 0: Unknown RAM block 'test.raX'");
    d[blk + 8] = 'm';
    stq_be(d + blk + 9, 0x20000);
    expect_load_error(d, len, "Section 'ram' instance 0: RAM block 'test.ram' has size 0x20000 "
                      "in the stream, but 0x10000 here");
    stq_be(d + blk + 9, 0x10000);
    /* First page record of the PART section: offset beyond the block. */
    size_t page0 = blk + 9 + 8 + 8 + 5 + 5;
    ck_assert_uint_eq(ldq_be(d + page0), 0x02);
    stq_be(d + page0, 0x10000 | 0x02);
    expect_load_error(d, len, "Section 'ram' instance 0: RAM page offset 0x10000 is beyond the end "
                      "of block 'test.ram' (size 0x10000)");
    stq_be(d + page0, 0x22);
    expect_load_error(d, len, "Section 'ram' instance 0: RAM page continues a block, but no block "
                      "was named before");
    char msg[160];
    stq_be(d + page0, 0x40);
    snprintf(msg, sizeof(msg), "Section 'ram' instance 0: Unknown combination of RAM flags 0x40 "
             "at offset %zu", page0);
    expect_load_error(d, len, msg);
    stq_be(d + page0, 0x0a);
    snprintf(msg, sizeof(msg), "Section 'ram' instance 0: Unknown combination of RAM flags 0xa "
             "at offset %zu", page0);
    expect_load_error(d, len, msg);
    assert_unchanged(&fp);
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_check_hook_and_capacity)
{
    M.nd.origin.x = 5000000;
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    Fingerprint fp = fingerprint();
    expect_load_error(d, len, "Section 'test-nested' instance 0: origin.x 5000000 is out of range");
    assert_unchanged(&fp);
    free(fp.data);
    free(d);

    test_machine_fill(&M);
    d = save_machine(&len);
    scramble(&M);
    M.nd.nvals = 3;               /* the live buffer holds only 3 now */
    fp = fingerprint();
    expect_load_error(d, len, "Section 'test-nested' instance 0: 'test-nested' field 'vals': "
                      "5 elements in the stream, room for 3");
    M.nd.nvals = 5;
    /* In-place variable array: the count may not exceed the array. */
    size_t at = section_idstr(d, len, "test-nested");
    /* origin(8) corners(24) nvals(4) vals(20) ndyn(4) dyn(6) blob_len(4)
     * blob(4) target(8) slots(8+1+8) -> nfixed */
    size_t nfixed = at + 1 + 11 + 8 + 8 + 24 + 4 + 20 + 4 + 6 + 4 + 4 + 8 + 17;
    ck_assert_uint_eq(ldl_be(d + nfixed), 4);
    stl_be(d + nfixed, 7);
    free(fp.data);
    fp = fingerprint();
    expect_load_error(d, len, "Section 'test-nested' instance 0: 'test-nested' field 'fixed': "
                      "7 elements, but the array holds 6");
    stl_be(d + nfixed, (uint32_t)-1);
    expect_load_error(d, len, "Section 'test-nested' instance 0: 'test-nested' field 'fixed': "
                      "invalid element count -1");
    stl_be(d + nfixed, 4);
    /* A NULL element here where the stream has data. */
    M.nd.slots[0] = NULL;
    free(fp.data);
    fp = fingerprint();
    expect_load_error(d, len, "Section 'test-nested' instance 0: 'test-nested' field 'slots': "
                      "expected a NULL pointer marker, found 0x00 (the element is NULL here)");
    assert_unchanged(&fp);
    M.nd.slots[0] = &M.slot0;
    free(fp.data);
    free(d);
}
END_TEST

START_TEST(test_post_load_failure_restores_devices)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    M.nd.post_load_fail = -EINVAL;
    Error *err = NULL;
    ck_assert_int_lt(load_machine(d, len, &err), 0);
    ck_assert_str_eq(error_get_pretty(err), "Section 'test-nested' instance 0: post_load of "
                     "'test-nested' failed: Invalid argument (device state was restored; "
                     "guest RAM holds the loaded contents)");
    error_free(err);
    /* Devices are back to the scrambled state... */
    ck_assert_int_eq(M.nd.origin.x, 9);
    ck_assert_uint_eq(M.sc.u32, 7);
    ck_assert_uint_eq(M.ctr[1].count, 0);
    ck_assert_ptr_null(M.nd.blob);
    ck_assert_uint_eq(M.nd.blob_len, 0);
    /* ...RAM is not (it loaded before the device failed). */
    ck_assert_uint_eq(M.ram[15 * TARGET_PAGE_SIZE + 4095], 0x77);
    free(d);
}
END_TEST

/* ---- RAM through files and odd sources -------------------------------- */

static void fill_ram_random(uint8_t *ram, size_t pages, uint64_t seed)
{
    memset(ram, 0, pages * TARGET_PAGE_SIZE);
    for (size_t p = 0; p < pages; p++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((seed >> 33) % 10 < 3) {       /* 30% non-zero pages */
            for (size_t i = 0; i < TARGET_PAGE_SIZE; i += 8) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                memcpy(ram + p * TARGET_PAGE_SIZE + i, &seed, 8);
            }
        }
    }
}

START_TEST(test_ram_file_roundtrip_multi_part)
{
    size_t pages = 2048;          /* 8 MiB */
    uint8_t *big = host_ram_alloc(pages * TARGET_PAGE_SIZE);
    Error *err = NULL;
    RAMBlock *rb = ram_block_register("big.ram", big, pages * TARGET_PAGE_SIZE, &err);
    ck_assert_ptr_nonnull(rb);
    ck_assert_ptr_null(ram_block_register("big.ram", big, TARGET_PAGE_SIZE, &err));
    ck_assert_str_eq(error_get_pretty(err), "RAM block 'big.ram' is already registered");
    error_free_or_abort(&err);
    fill_ram_random(big, pages, 1);
    uint8_t *orig = xmalloc(pages * TARGET_PAGE_SIZE);
    memcpy(orig, big, pages * TARGET_PAGE_SIZE);
    ram_set_iterate_pages(300);   /* several PART sections */

    char path[] = "/tmp/minipc-savevm-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    QEMUFile *w = qemu_file_open_path(path, true, &err);
    ck_assert_int_eq(qemu_savevm_state(w, &err), 0);
    ck_assert_int_eq(qemu_fclose(w, &err), 0);

    fill_ram_random(big, pages, 2);
    scramble(&M);
    QEMUFile *r = qemu_file_open_path(path, false, &err);
    int ret = qemu_loadvm_state(r, &err);
    ck_assert_msg(ret == 0, "%s", err ? error_get_pretty(err) : "");
    qemu_fclose(r, NULL);
    ck_assert(memcmp(big, orig, pages * TARGET_PAGE_SIZE) == 0);
    check_filled(&M);

    /* The stream had more than one PART section for RAM. */
    fd = open(path, O_RDONLY);
    uint8_t *all = xmalloc(pages * TARGET_PAGE_SIZE * 2);
    ssize_t got = full_read(fd, all, pages * TARGET_PAGE_SIZE * 2);
    close(fd);
    ck_assert_int_gt(got, 0);
    size_t n = (size_t)got;
    int parts = 0;
    for (size_t i = 0; i + 5 < n; i++) {
        if (all[i] == QEMU_VM_SECTION_PART && ldl_be(all + i + 1) == 0 &&
            i >= 5 && all[i - 5] == QEMU_VM_SECTION_FOOTER) {
            parts++;
        }
    }
    ck_assert_int_ge(parts, (int)(pages / 300));
    free(all);
    unlink(path);
    ram_block_unregister(rb);
    host_ram_free(big, pages * TARGET_PAGE_SIZE);
    free(orig);
}
END_TEST

/* A non-seekable source: the loader keeps a copy for its two passes. */
typedef struct PipeLike {
    const uint8_t *data;
    size_t len, pos;
} PipeLike;

static ssize_t pipe_like_read(void *opaque, void *buf, size_t len, int64_t pos, Error **errp)
{
    PipeLike *p = opaque;
    size_t n = MIN(MIN(len, p->len - p->pos), (size_t)1000);   /* short reads */
    memcpy(buf, p->data + p->pos, n);
    p->pos += n;
    return (ssize_t)n;
}

static const QEMUFileOps pipe_like_ops = { .pread = pipe_like_read };

START_TEST(test_non_seekable_source)
{
    size_t len;
    uint8_t *d = save_machine(&len);
    scramble(&M);
    PipeLike p = { d, len, 0 };
    QEMUFile *f = qemu_file_new_input(&pipe_like_ops, &p, -1, false);
    Error *err = NULL;
    int ret = qemu_loadvm_state(f, &err);
    ck_assert_msg(ret == 0, "%s", err ? error_get_pretty(err) : "");
    qemu_fclose(f, NULL);
    check_filled(&M);
    free(d);
}
END_TEST

START_TEST(test_registry)
{
    TestCounter extra = { 1 };
    ck_assert_int_eq(vmstate_register(1, &vmstate_test_counter, &extra), -EEXIST);
    ck_assert_int_eq(vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_test_counter, &extra), 2);
    vmstate_unregister(&vmstate_test_counter, &extra);
    ck_assert_int_eq(vmstate_register_named("0000:00:01.1/counter", VMSTATE_INSTANCE_ID_ANY,
                                            &vmstate_test_counter, &extra), 0);
    size_t len;
    uint8_t *d = save_machine(&len);
    ck_assert_ptr_nonnull(memmem(d, len, "\x14" "0000:00:01.1/counter", 21));
    free(d);
    vmstate_unregister(&vmstate_test_counter, &extra);
    d = save_machine(&len);
    ck_assert_ptr_null(memmem(d, len, "0000:00:01.1/counter", 20));
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("savevm");
    TCase *tc = tcase_create("stream");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip_machine);
    tcase_add_test(tc, test_stream_layout);
    tcase_add_test(tc, test_json_description);
    tcase_add_test(tc, test_golden_stream);
    tcase_add_test(tc, test_v1_stream_into_v2);
    tcase_add_test(tc, test_newer_and_older_versions_rejected);
    tcase_add_test(tc, test_subsection_absent_and_unknown);
    tcase_add_test(tc, test_bad_header);
    tcase_add_test(tc, test_unknown_section);
    tcase_add_test(tc, test_equal_and_le_mismatch);
    tcase_add_test(tc, test_footer_errors);
    tcase_add_test(tc, test_truncated_and_trailing);
    tcase_add_test(tc, test_ram_errors);
    tcase_add_test(tc, test_check_hook_and_capacity);
    tcase_add_test(tc, test_post_load_failure_restores_devices);
    tcase_add_test(tc, test_ram_file_roundtrip_multi_part);
    tcase_add_test(tc, test_non_seekable_source);
    tcase_add_test(tc, test_registry);
    tcase_set_timeout(tc, 0);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
