/*
 * Basic VMState element types. Integers travel big-endian; the names are
 * the type names QEMU's stream description uses, so tools that decode
 * QEMU streams decode ours.
 */
#include <stdio.h>

#include "migration/qemu-file.h"
#include "migration/vmstate.h"

#define DEFINE_INT_TYPE(tname, ctype, bits, uget, uput, jname)                 \
static int get_##tname(QEMUFile *f, void *pv, size_t size, const VMStateField *field) \
{                                                                              \
    ctype v = (ctype)uget(f);                                                  \
    memcpy(pv, &v, sizeof(v));                                                 \
    return 0;                                                                  \
}                                                                              \
static int put_##tname(QEMUFile *f, void *pv, size_t size, const VMStateField *field, \
                       JsonWriter *vmdesc)                                     \
{                                                                              \
    ctype v;                                                                   \
    memcpy(&v, pv, sizeof(v));                                                 \
    uput(f, v);                                                                \
    return 0;                                                                  \
}                                                                              \
const VMStateInfo vmstate_info_##tname = {                                     \
    .name = jname, .get = get_##tname, .put = put_##tname,                     \
};

static uint8_t get8(QEMUFile *f) { return qemu_get_byte(f); }
static void put8(QEMUFile *f, uint8_t v) { qemu_put_byte(f, v); }

DEFINE_INT_TYPE(int8, int8_t, 8, get8, put8, "int8")
DEFINE_INT_TYPE(uint8, uint8_t, 8, get8, put8, "uint8")
DEFINE_INT_TYPE(int16, int16_t, 16, qemu_get_be16, qemu_put_be16, "int16")
DEFINE_INT_TYPE(uint16, uint16_t, 16, qemu_get_be16, qemu_put_be16, "uint16")
DEFINE_INT_TYPE(int32, int32_t, 32, qemu_get_be32, qemu_put_be32, "int32")
DEFINE_INT_TYPE(uint32, uint32_t, 32, qemu_get_be32, qemu_put_be32, "uint32")
DEFINE_INT_TYPE(int64, int64_t, 64, qemu_get_be64, qemu_put_be64, "int64")
DEFINE_INT_TYPE(uint64, uint64_t, 64, qemu_get_be64, qemu_put_be64, "uint64")

/* bool: one byte, any non-zero value loads as true. */
static int get_bool(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    *(bool *)pv = qemu_get_byte(f) != 0;
    return 0;
}

static int put_bool(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JsonWriter *vmdesc)
{
    qemu_put_byte(f, *(bool *)pv);
    return 0;
}

const VMStateInfo vmstate_info_bool = { .name = "bool", .get = get_bool, .put = put_bool };

/* _EQUAL: the stream must carry the value the running machine has. */
static int equal_mismatch(QEMUFile *f, const VMStateField *field, const char *fmt_in,
                          const char *fmt_here)
{
    qemu_file_set_error_msg(f, -EINVAL, "value %s in the stream does not match %s here%s%s",
                            fmt_in, fmt_here, field->err_hint ? ": " : "",
                            field->err_hint ? field->err_hint : "");
    return -EINVAL;
}

#define DEFINE_EQUAL_TYPE(tname, ctype, uget, uput, jname, pfmt)               \
static int get_##tname##_equal(QEMUFile *f, void *pv, size_t size,             \
                               const VMStateField *field)                      \
{                                                                              \
    ctype here, in = (ctype)uget(f);                                           \
    memcpy(&here, pv, sizeof(here));                                           \
    if (qemu_file_get_error(f) || in == here || qemu_file_is_trusted(f)) {     \
        return 0;                                                              \
    }                                                                          \
    char a[32], b[32];                                                         \
    snprintf(a, sizeof(a), "%" pfmt, in);                                      \
    snprintf(b, sizeof(b), "%" pfmt, here);                                    \
    return equal_mismatch(f, field, a, b);                                     \
}                                                                              \
const VMStateInfo vmstate_info_##tname##_equal = {                             \
    .name = jname, .get = get_##tname##_equal, .put = put_##tname,             \
};

DEFINE_EQUAL_TYPE(int8, int8_t, get8, put8, "int8 equal", PRId8)
DEFINE_EQUAL_TYPE(uint8, uint8_t, get8, put8, "uint8 equal", PRIu8)
DEFINE_EQUAL_TYPE(int16, int16_t, qemu_get_be16, qemu_put_be16, "int16 equal", PRId16)
DEFINE_EQUAL_TYPE(uint16, uint16_t, qemu_get_be16, qemu_put_be16, "uint16 equal", PRIu16)
DEFINE_EQUAL_TYPE(int32, int32_t, qemu_get_be32, qemu_put_be32, "int32 equal", PRId32)
DEFINE_EQUAL_TYPE(uint32, uint32_t, qemu_get_be32, qemu_put_be32, "uint32 equal", PRIu32)
DEFINE_EQUAL_TYPE(int64, int64_t, qemu_get_be64, qemu_put_be64, "int64 equal", PRId64)
DEFINE_EQUAL_TYPE(uint64, uint64_t, qemu_get_be64, qemu_put_be64, "uint64 equal", PRIu64)

static int get_bool_equal(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    bool in = qemu_get_byte(f) != 0;
    bool here = *(bool *)pv;
    if (qemu_file_get_error(f) || in == here || qemu_file_is_trusted(f)) {
        return 0;
    }
    return equal_mismatch(f, field, in ? "true" : "false", here ? "true" : "false");
}

const VMStateInfo vmstate_info_bool_equal = {
    .name = "bool", .get = get_bool_equal, .put = put_bool,
};

/* int32 "le": the loaded value must lie in [0, current]. */
static int get_int32_le(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    int32_t here, in = (int32_t)qemu_get_be32(f);
    memcpy(&here, pv, 4);
    if (qemu_file_get_error(f)) {
        return 0;
    }
    if (!qemu_file_is_trusted(f) && (in < 0 || in > here)) {
        qemu_file_set_error_msg(f, -EINVAL, "value %" PRId32 " in the stream is not within 0..%" PRId32,
                                in, here);
        return -EINVAL;
    }
    memcpy(pv, &in, 4);
    return 0;
}

const VMStateInfo vmstate_info_int32_le = {
    .name = "int32 le", .get = get_int32_le, .put = put_int32,
};

/* float64: the IEEE bit pattern as a big-endian 64-bit integer. */
const VMStateInfo vmstate_info_float64 = {
    .name = "float64", .get = get_uint64, .put = put_uint64,
};

/* Raw bytes. */
static int get_buffer(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    qemu_get_buffer(f, pv, size);
    return 0;
}

static int put_buffer(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JsonWriter *vmdesc)
{
    qemu_put_buffer(f, pv, size);
    return 0;
}

const VMStateInfo vmstate_info_buffer = {
    .name = "buffer", .get = get_buffer, .put = put_buffer,
};

/* Removed fields: zeroes out, skipped in. Never touches memory. */
static int get_unused_buffer(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    qemu_file_skip(f, size);
    return 0;
}

static int put_unused_buffer(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                             JsonWriter *vmdesc)
{
    qemu_put_zeroes(f, size);
    return 0;
}

const VMStateInfo vmstate_info_unused_buffer = {
    .name = "unused_buffer", .get = get_unused_buffer, .put = put_unused_buffer,
};

/* Bitmaps of 'size' bits in unsigned longs, as big-endian 64-bit words. */
static uint64_t bitmap_word(const unsigned long *map, size_t i)
{
    if (sizeof(unsigned long) == 8) {
        return map[i];
    }
    uint64_t lo = map[2 * i], hi = map[2 * i + 1];
    return lo | (hi << 32);
}

static int get_bitmap(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    unsigned long *map = pv;
    size_t words = DIV_ROUND_UP(size, 64);
    for (size_t i = 0; i < words; i++) {
        uint64_t w = qemu_get_be64(f);
        if (sizeof(unsigned long) == 8) {
            map[i] = (unsigned long)w;
        } else {
            map[2 * i] = (unsigned long)(uint32_t)w;
            map[2 * i + 1] = (unsigned long)(w >> 32);
        }
    }
    return 0;
}

static int put_bitmap(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JsonWriter *vmdesc)
{
    const unsigned long *map = pv;
    size_t words = DIV_ROUND_UP(size, 64);
    for (size_t i = 0; i < words; i++) {
        qemu_put_be64(f, bitmap_word(map, i));
    }
    return 0;
}

const VMStateInfo vmstate_info_bitmap = {
    .name = "bitmap", .get = get_bitmap, .put = put_bitmap,
};

/* A NULL element of an array of pointers: the byte '0'. */
static int get_nullptr(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    uint8_t b = qemu_get_byte(f);
    if (!qemu_file_get_error(f) && b != '0') {
        qemu_file_set_error_msg(f, -EINVAL, "expected a NULL pointer marker, found 0x%02x "
                                "(the element is NULL here)", b);
        return -EINVAL;
    }
    return 0;
}

static int put_nullptr(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                       JsonWriter *vmdesc)
{
    qemu_put_byte(f, '0');
    return 0;
}

const VMStateInfo vmstate_info_nullptr = {
    .name = "nullptr", .get = get_nullptr, .put = put_nullptr,
};
