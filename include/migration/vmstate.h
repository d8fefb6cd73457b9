/*
 * VMState: a device describes its state as a static table of fields.
 * The migration engine (migration/vmstate.c) walks the table to save and
 * load; the same table produces the JSON description of the stream. The
 * description is data, not code.
 *
 *   static const VMStateField pit_channel_fields[] = { ... };
 *   const VMStateDescription vmstate_pit = {
 *       .name = "i8254",
 *       .version_id = 3,
 *       .minimum_version_id = 2,
 *       .fields = (const VMStateField[]) {
 *           VMSTATE_UINT32(channels[0].count, PITState),
 *           VMSTATE_UINT8_V(speaker_gate, PITState, 3),   // new in v3
 *           VMSTATE_TIMER_PTR(irq_timer, PITState),
 *           VMSTATE_END_OF_LIST()
 *       },
 *       .subsections = (const VMStateDescription *const[]) {
 *           &vmstate_pit_hpet_legacy, NULL
 *       },
 *   };
 *
 * Field macros check the C type of the field at compile time. Devices
 * export their descriptions; the machine registers each one with the
 * savevm registry (see migration/savevm.h).
 */
#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include "util/osdep.h"
#include "util/error.h"
#include "util/json-writer.h"

typedef struct QEMUFile QEMUFile;
typedef struct VMStateInfo VMStateInfo;
typedef struct VMStateField VMStateField;
typedef struct VMStateDescription VMStateDescription;

/* How to put/get one element of a basic type. 'size' is the element size
 * in bytes. get returns 0 or -errno (and may set the file error). */
struct VMStateInfo {
    const char *name;        /* type name in the JSON description */
    int (*get)(QEMUFile *f, void *pv, size_t size, const VMStateField *field);
    int (*put)(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
               JsonWriter *vmdesc);
};

enum VMStateFlags {
    VMS_SINGLE           = 1 << 0,  /* one element at offset */
    VMS_POINTER          = 1 << 1,  /* field holds a pointer to the data */
    VMS_ARRAY            = 1 << 2,  /* 'num' elements */
    VMS_STRUCT           = 1 << 3,  /* element is described by 'vmsd' */
    VMS_VARRAY_INT32     = 1 << 4,  /* count from int32_t at num_offset */
    VMS_BUFFER           = 1 << 5,  /* raw bytes, 'size' long */
    VMS_ARRAY_OF_POINTER = 1 << 6,
    VMS_VARRAY_UINT16    = 1 << 7,
    VMS_VBUFFER          = 1 << 8,  /* raw bytes, size from size_offset */
    VMS_MULTIPLY         = 1 << 9,  /* size = size * *(int32_t*)size_offset */
    VMS_VARRAY_UINT8     = 1 << 10,
    VMS_VARRAY_UINT32    = 1 << 11,
    VMS_MUST_EXIST       = 1 << 12,
    VMS_ALLOC            = 1 << 13, /* load allocates the pointed-to buffer */
    VMS_MULTIPLY_ELEMENTS= 1 << 14,
    VMS_VSTRUCT          = 1 << 15,
};

struct VMStateField {
    const char *name;
    const char *err_hint;
    size_t offset;
    size_t size;             /* element size, or buffer size */
    size_t start;            /* first byte of a buffer that is transferred */
    int num;                 /* element count for fixed arrays */
    size_t num_offset;       /* where the element count lives (VARRAY) */
    size_t size_offset;      /* where the byte count lives (VBUFFER) */
    const VMStateInfo *info;
    enum VMStateFlags flags;
    const VMStateDescription *vmsd;
    int version_id;          /* field exists from this version on */
    int struct_version_id;
    bool (*field_exists)(void *opaque, int version_id);
};

/* Section priorities: higher saves and loads first. */
typedef enum {
    MIG_PRI_DEFAULT = 0,
    MIG_PRI_IOMMU,
    MIG_PRI_PCI_BUS,
    MIG_PRI_GICV3_ITS,
    MIG_PRI_GICV3,
    MIG_PRI_MAX,
} MigrationPriority;

struct VMStateDescription {
    const char *name;
    int version_id;
    int minimum_version_id;
    MigrationPriority priority;
    int (*pre_load)(void *opaque);
    int (*post_load)(void *opaque, int version_id);
    int (*pre_save)(void *opaque);
    int (*post_save)(void *opaque);
    /* Optional, for atomic loads: called in the loader's validation
     * pass with a scratch copy of the state as parsed from the stream
     * (before anything live changes). Only the fields named in this
     * description and its subsections hold loaded values, and the copy
     * may end right after the last of them: do not read other fields.
     * Reject impossible values (indexes, modes) here rather than in
     * post_load, so a bad stream is refused with the machine untouched.
     * Returns 0 or -errno with errp set. */
    int (*check)(const void *loaded, int version_id, Error **errp);
    /* Written only when this returns true (subsections, and sections
     * that are sometimes absent). */
    bool (*needed)(void *opaque);
    const VMStateField *fields;
    const VMStateDescription *const *subsections;
};

/* Basic element types (migration/vmstate-types.c). */
extern const VMStateInfo vmstate_info_bool;
extern const VMStateInfo vmstate_info_int8;
extern const VMStateInfo vmstate_info_int16;
extern const VMStateInfo vmstate_info_int32;
extern const VMStateInfo vmstate_info_int64;
extern const VMStateInfo vmstate_info_uint8;
extern const VMStateInfo vmstate_info_uint16;
extern const VMStateInfo vmstate_info_uint32;
extern const VMStateInfo vmstate_info_uint64;
extern const VMStateInfo vmstate_info_int32_le;    /* loaded value must be <= current */
extern const VMStateInfo vmstate_info_int8_equal;
extern const VMStateInfo vmstate_info_int16_equal;
extern const VMStateInfo vmstate_info_int32_equal;
extern const VMStateInfo vmstate_info_int64_equal;
extern const VMStateInfo vmstate_info_uint8_equal;
extern const VMStateInfo vmstate_info_uint16_equal;
extern const VMStateInfo vmstate_info_uint32_equal;
extern const VMStateInfo vmstate_info_uint64_equal;
extern const VMStateInfo vmstate_info_bool_equal;
extern const VMStateInfo vmstate_info_buffer;
extern const VMStateInfo vmstate_info_unused_buffer;
extern const VMStateInfo vmstate_info_timer;      /* Timer *: expiry or -1 */
extern const VMStateInfo vmstate_info_bitmap;
extern const VMStateInfo vmstate_info_float64;
extern const VMStateInfo vmstate_info_nullptr;    /* NULL element marker */

/* ---- compile-time type checking ----------------------------------- */

#define typeof_field(type, field) typeof(((type *)0)->field)
/* Zero-valued expression that fails to compile unless t1 and t2 are the
 * same type (pointer subtraction requires compatible types). */
#define type_check(t1, t2) ((t1 *)0 - (t2 *)0)
#define type_check_array(t1, t2, n) ((t1(*)[n])0 - (t2 *)0)
#define type_check_pointer(t1, t2) ((t1 **)0 - (t2 *)0)

#define vmstate_offset_value(state, field, type) \
    (offsetof(state, field) + type_check(type, typeof_field(state, field)))
#define vmstate_offset_pointer(state, field, type) \
    (offsetof(state, field) + type_check_pointer(type, typeof_field(state, field)))
#define vmstate_offset_array(state, field, type, n) \
    (offsetof(state, field) + type_check_array(type, typeof_field(state, field), n))
#define vmstate_offset_buffer(state, field) \
    vmstate_offset_array(state, field, uint8_t, sizeof(typeof_field(state, field)))

/* ---- field macros -------------------------------------------------- */

#define VMSTATE_SINGLE_TEST(_field, _state, _test, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .field_exists = (_test),                                             \
    .size = sizeof(_type),                                               \
    .info = &(_info),                                                    \
    .flags = VMS_SINGLE,                                                 \
    .offset = vmstate_offset_value(_state, _field, _type),               \
}
#define VMSTATE_SINGLE(_field, _state, _version, _info, _type) \
    VMSTATE_SINGLE_TEST(_field, _state, NULL, _version, _info, _type)

#define VMSTATE_POINTER(_field, _state, _version, _info, _type) {       \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_SINGLE | VMS_POINTER,                                   \
    .offset = vmstate_offset_value(_state, _field, _type),               \
}

#define VMSTATE_ARRAY_TEST(_field, _state, _num, _test, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .field_exists = (_test),                                             \
    .version_id = (_version),                                            \
    .num = (_num),                                                       \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_ARRAY,                                                  \
    .offset = vmstate_offset_array(_state, _field, _type, _num),         \
}
#define VMSTATE_ARRAY(_field, _state, _num, _version, _info, _type) \
    VMSTATE_ARRAY_TEST(_field, _state, _num, NULL, _version, _info, _type)

/* Variable arrays: element count read from another field of the state. */
#define VMSTATE_VARRAY_INT32(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, int32_t),     \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_INT32 | VMS_POINTER,                             \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}
#define VMSTATE_VARRAY_UINT16(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, uint16_t),    \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_UINT16 | VMS_POINTER,                            \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}
#define VMSTATE_VARRAY_UINT32(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, uint32_t),    \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_UINT32 | VMS_POINTER,                            \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}
/* Same, but for an in-place fixed array: the count is checked against
 * the array's length (kept in .num), so a stream cannot overrun it. */
#define VMSTATE_VARRAY_INT32_UNSAFE(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, int32_t),     \
    .num = ARRAY_SIZE(((_state *)0)->_field),                            \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_INT32,                                           \
    .offset = vmstate_offset_array(_state, _field, _type,                \
                                   ARRAY_SIZE(((_state *)0)->_field)),   \
}

#define VMSTATE_STRUCT_TEST(_field, _state, _test, _version, _vmsd, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .field_exists = (_test),                                             \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_STRUCT,                                                 \
    .offset = vmstate_offset_value(_state, _field, _type),               \
}
#define VMSTATE_STRUCT(_field, _state, _version, _vmsd, _type) \
    VMSTATE_STRUCT_TEST(_field, _state, NULL, _version, _vmsd, _type)

#define VMSTATE_STRUCT_POINTER(_field, _state, _vmsd, _type) {          \
    .name = (#_field),                                                   \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_STRUCT | VMS_POINTER,                                   \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}

#define VMSTATE_STRUCT_ARRAY_TEST(_field, _state, _num, _test, _version, _vmsd, _type) { \
    .name = (#_field),                                                   \
    .num = (_num),                                                       \
    .field_exists = (_test),                                             \
    .version_id = (_version),                                            \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_STRUCT | VMS_ARRAY,                                     \
    .offset = vmstate_offset_array(_state, _field, _type, _num),         \
}
#define VMSTATE_STRUCT_ARRAY(_field, _state, _num, _version, _vmsd, _type) \
    VMSTATE_STRUCT_ARRAY_TEST(_field, _state, _num, NULL, _version, _vmsd, _type)

#define VMSTATE_STRUCT_VARRAY_UINT32(_field, _state, _field_num, _version, _vmsd, _type) { \
    .name = (#_field),                                                   \
    .num_offset = vmstate_offset_value(_state, _field_num, uint32_t),    \
    .version_id = (_version),                                            \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_STRUCT | VMS_VARRAY_UINT32 | VMS_POINTER,               \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}

/* Fixed-size byte buffer (a uint8_t array field), all of it. */
#define VMSTATE_BUFFER_TEST(_field, _state, _test) {                    \
    .name = (#_field),                                                   \
    .field_exists = (_test),                                             \
    .size = sizeof(typeof_field(_state, _field)),                        \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_BUFFER,                                                 \
    .offset = vmstate_offset_buffer(_state, _field),                     \
}
#define VMSTATE_BUFFER(_field, _state) VMSTATE_BUFFER_TEST(_field, _state, NULL)
#define VMSTATE_BUFFER_V(_field, _state, _version) {                    \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .size = sizeof(typeof_field(_state, _field)),                        \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_BUFFER,                                                 \
    .offset = vmstate_offset_buffer(_state, _field),                     \
}

/* Buffer behind a pointer whose byte count is a uint32_t field. */
#define VMSTATE_VBUFFER_UINT32(_field, _state, _version, _test, _field_size) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .field_exists = (_test),                                             \
    .size_offset = vmstate_offset_value(_state, _field_size, uint32_t),  \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_VBUFFER | VMS_POINTER,                                  \
    .offset = offsetof(_state, _field),                                  \
}
/* Same, allocated on load (the pointer may be NULL before loading). */
#define VMSTATE_VBUFFER_ALLOC_UINT32(_field, _state, _version, _test, _field_size) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .field_exists = (_test),                                             \
    .size_offset = vmstate_offset_value(_state, _field_size, uint32_t),  \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_VBUFFER | VMS_POINTER | VMS_ALLOC,                      \
    .offset = offsetof(_state, _field),                                  \
}
/* Buffer behind a pointer with a size fixed at compile time. */
#define VMSTATE_BUFFER_POINTER_UNSAFE(_field, _state, _version, _size) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .size = (_size),                                                     \
    .info = &vmstate_info_buffer,                                        \
    .flags = VMS_BUFFER | VMS_POINTER,                                   \
    .offset = offsetof(_state, _field),                                  \
}

/* Bytes written as zeroes and skipped on load (removed fields). */
#define VMSTATE_UNUSED_V(_v, _size) {                                   \
    .name = "unused",                                                    \
    .info = &vmstate_info_unused_buffer,                                 \
    .size = (_size),                                                     \
    .version_id = (_v),                                                  \
    .flags = VMS_BUFFER,                                                 \
}
#define VMSTATE_UNUSED(_size) VMSTATE_UNUSED_V(0, _size)

/* Timer *field: saved as the expiry time in ns (-1 if not pending). */
#define VMSTATE_TIMER_PTR(_field, _state) \
    VMSTATE_POINTER(_field, _state, 0, vmstate_info_timer, struct Timer *)
#define VMSTATE_TIMER_PTR_V(_field, _state, _version) \
    VMSTATE_POINTER(_field, _state, _version, vmstate_info_timer, struct Timer *)

/* unsigned long *field: a bitmap of *(int32_t *)_field_size bits. */
#define VMSTATE_BITMAP(_field, _state, _version, _field_size) {         \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .size_offset = vmstate_offset_value(_state, _field_size, int32_t),   \
    .info = &vmstate_info_bitmap,                                        \
    .flags = VMS_VBUFFER | VMS_POINTER,                                  \
    .offset = offsetof(_state, _field),                                  \
}

/* Scalars. _V: field added in version _v. _TEST: present when _t says. */
#define VMSTATE_BOOL_V(f, s, v)   VMSTATE_SINGLE(f, s, v, vmstate_info_bool, bool)
#define VMSTATE_INT8_V(f, s, v)   VMSTATE_SINGLE(f, s, v, vmstate_info_int8, int8_t)
#define VMSTATE_INT16_V(f, s, v)  VMSTATE_SINGLE(f, s, v, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_V(f, s, v)  VMSTATE_SINGLE(f, s, v, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_V(f, s, v)  VMSTATE_SINGLE(f, s, v, vmstate_info_int64, int64_t)
#define VMSTATE_UINT8_V(f, s, v)  VMSTATE_SINGLE(f, s, v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_V(f, s, v) VMSTATE_SINGLE(f, s, v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_V(f, s, v) VMSTATE_SINGLE(f, s, v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_V(f, s, v) VMSTATE_SINGLE(f, s, v, vmstate_info_uint64, uint64_t)
#define VMSTATE_FLOAT64_V(f, s, v) VMSTATE_SINGLE(f, s, v, vmstate_info_float64, double)

#define VMSTATE_BOOL(f, s)   VMSTATE_BOOL_V(f, s, 0)
#define VMSTATE_INT8(f, s)   VMSTATE_INT8_V(f, s, 0)
#define VMSTATE_INT16(f, s)  VMSTATE_INT16_V(f, s, 0)
#define VMSTATE_INT32(f, s)  VMSTATE_INT32_V(f, s, 0)
#define VMSTATE_INT64(f, s)  VMSTATE_INT64_V(f, s, 0)
#define VMSTATE_UINT8(f, s)  VMSTATE_UINT8_V(f, s, 0)
#define VMSTATE_UINT16(f, s) VMSTATE_UINT16_V(f, s, 0)
#define VMSTATE_UINT32(f, s) VMSTATE_UINT32_V(f, s, 0)
#define VMSTATE_UINT64(f, s) VMSTATE_UINT64_V(f, s, 0)
#define VMSTATE_FLOAT64(f, s) VMSTATE_FLOAT64_V(f, s, 0)

#define VMSTATE_BOOL_TEST(f, s, t)   VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_bool, bool)
#define VMSTATE_UINT8_TEST(f, s, t)  VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_TEST(f, s, t) VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_TEST(f, s, t) VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_TEST(f, s, t) VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_uint64, uint64_t)
#define VMSTATE_INT32_TEST(f, s, t)  VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_int32, int32_t)

/* Must hold the same value on load as in the running machine. */
#define VMSTATE_BOOL_EQUAL(f, s)   VMSTATE_SINGLE(f, s, 0, vmstate_info_bool_equal, bool)
#define VMSTATE_INT8_EQUAL(f, s)   VMSTATE_SINGLE(f, s, 0, vmstate_info_int8_equal, int8_t)
#define VMSTATE_INT16_EQUAL(f, s)  VMSTATE_SINGLE(f, s, 0, vmstate_info_int16_equal, int16_t)
#define VMSTATE_INT32_EQUAL(f, s)  VMSTATE_SINGLE(f, s, 0, vmstate_info_int32_equal, int32_t)
#define VMSTATE_INT64_EQUAL(f, s)  VMSTATE_SINGLE(f, s, 0, vmstate_info_int64_equal, int64_t)
#define VMSTATE_UINT8_EQUAL(f, s)  VMSTATE_SINGLE(f, s, 0, vmstate_info_uint8_equal, uint8_t)
#define VMSTATE_UINT16_EQUAL(f, s) VMSTATE_SINGLE(f, s, 0, vmstate_info_uint16_equal, uint16_t)
#define VMSTATE_UINT32_EQUAL(f, s) VMSTATE_SINGLE(f, s, 0, vmstate_info_uint32_equal, uint32_t)
#define VMSTATE_UINT64_EQUAL(f, s) VMSTATE_SINGLE(f, s, 0, vmstate_info_uint64_equal, uint64_t)
/* Loaded value must be <= the running one (e.g. a count of used slots). */
#define VMSTATE_INT32_LE(f, s)     VMSTATE_SINGLE(f, s, 0, vmstate_info_int32_le, int32_t)

/* Fixed arrays of scalars. */
#define VMSTATE_BOOL_ARRAY(f, s, n)   VMSTATE_ARRAY(f, s, n, 0, vmstate_info_bool, bool)
#define VMSTATE_INT8_ARRAY(f, s, n)   VMSTATE_ARRAY(f, s, n, 0, vmstate_info_int8, int8_t)
#define VMSTATE_INT16_ARRAY(f, s, n)  VMSTATE_ARRAY(f, s, n, 0, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_ARRAY(f, s, n)  VMSTATE_ARRAY(f, s, n, 0, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_ARRAY(f, s, n)  VMSTATE_ARRAY(f, s, n, 0, vmstate_info_int64, int64_t)
#define VMSTATE_UINT8_ARRAY(f, s, n)  VMSTATE_ARRAY(f, s, n, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_ARRAY(f, s, n) VMSTATE_ARRAY(f, s, n, 0, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_ARRAY(f, s, n) VMSTATE_ARRAY(f, s, n, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_ARRAY(f, s, n) VMSTATE_ARRAY(f, s, n, 0, vmstate_info_uint64, uint64_t)
#define VMSTATE_UINT8_ARRAY_V(f, s, n, v)  VMSTATE_ARRAY(f, s, n, v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_ARRAY_V(f, s, n, v) VMSTATE_ARRAY(f, s, n, v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_ARRAY_V(f, s, n, v) VMSTATE_ARRAY(f, s, n, v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_ARRAY_V(f, s, n, v) VMSTATE_ARRAY(f, s, n, v, vmstate_info_uint64, uint64_t)

/* Two-dimensional arrays (_type field[_n1][_n2]), saved row by row. */
#define VMSTATE_2DARRAY(_field, _state, _n1, _n2, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num = (_n1) * (_n2),                                                \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_ARRAY,                                                  \
    .offset = offsetof(_state, _field) +                                 \
              ((_type(*)[_n1][_n2])0 - (typeof_field(_state, _field) *)0), \
}
#define VMSTATE_UINT8_2DARRAY(f, s, n1, n2)  VMSTATE_2DARRAY(f, s, n1, n2, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_2DARRAY(f, s, n1, n2) VMSTATE_2DARRAY(f, s, n1, n2, 0, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_2DARRAY(f, s, n1, n2) VMSTATE_2DARRAY(f, s, n1, n2, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_2DARRAY(f, s, n1, n2) VMSTATE_2DARRAY(f, s, n1, n2, 0, vmstate_info_uint64, uint64_t)

/* Elements [_start, _start + _num) of a uint8_t array. */
#define VMSTATE_UINT8_SUB_ARRAY(_field, _state, _start, _num) {         \
    .name = (#_field),                                                   \
    .num = (_num),                                                       \
    .info = &vmstate_info_uint8,                                         \
    .size = sizeof(uint8_t),                                             \
    .flags = VMS_ARRAY,                                                  \
    .offset = vmstate_offset_value(_state, _field[0], uint8_t) + (_start) \
              + BUILD_BUG_ON_ZERO((_start) + (_num) > ARRAY_SIZE(((_state *)0)->_field)), \
}

/* Arrays behind a pointer that the load allocates (the old buffer, if
 * any, is freed: it must come from malloc). */
#define VMSTATE_VARRAY_UINT32_ALLOC(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, uint32_t),    \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_UINT32 | VMS_POINTER | VMS_ALLOC,                \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}
#define VMSTATE_VARRAY_INT32_ALLOC(_field, _state, _field_num, _version, _info, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num_offset = vmstate_offset_value(_state, _field_num, int32_t),     \
    .info = &(_info),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_VARRAY_INT32 | VMS_POINTER | VMS_ALLOC,                 \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}

#define VMSTATE_STRUCT_V(_field, _state, _version, _vmsd, _type) \
    VMSTATE_STRUCT_TEST(_field, _state, NULL, _version, _vmsd, _type)
#define VMSTATE_STRUCT_POINTER_V(_field, _state, _version, _vmsd, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_STRUCT | VMS_POINTER,                                   \
    .offset = vmstate_offset_pointer(_state, _field, _type),             \
}

/* _type *field[_num]: each element points to a struct (NULL elements
 * are saved as a one-byte "nullptr" marker and must be NULL on load). */
#define VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(_field, _state, _num, _version, _vmsd, _type) { \
    .name = (#_field),                                                   \
    .version_id = (_version),                                            \
    .num = (_num),                                                       \
    .vmsd = &(_vmsd),                                                    \
    .size = sizeof(_type),                                               \
    .flags = VMS_ARRAY | VMS_STRUCT | VMS_ARRAY_OF_POINTER,              \
    .offset = vmstate_offset_array(_state, _field, _type *, _num),       \
}
/* Timer *field[_num]. */
#define VMSTATE_TIMER_PTR_ARRAY(_field, _state, _num) {                 \
    .name = (#_field),                                                   \
    .num = (_num),                                                       \
    .info = &vmstate_info_timer,                                         \
    .size = sizeof(struct Timer *),                                      \
    .flags = VMS_ARRAY | VMS_ARRAY_OF_POINTER,                           \
    .offset = vmstate_offset_array(_state, _field, struct Timer *, _num), \
}

#define VMSTATE_INT32_POSITIVE_LE(f, s) VMSTATE_INT32_LE(f, s)
#define VMSTATE_BOOL_ARRAY_V(f, s, n, v)   VMSTATE_ARRAY(f, s, n, v, vmstate_info_bool, bool)
#define VMSTATE_INT16_ARRAY_V(f, s, n, v)  VMSTATE_ARRAY(f, s, n, v, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_ARRAY_V(f, s, n, v)  VMSTATE_ARRAY(f, s, n, v, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_ARRAY_V(f, s, n, v)  VMSTATE_ARRAY(f, s, n, v, vmstate_info_int64, int64_t)
#define VMSTATE_UINT32_EQUAL_V(f, s, v) VMSTATE_SINGLE(f, s, v, vmstate_info_uint32_equal, uint32_t)
#define VMSTATE_INT64_TEST(f, s, t)  VMSTATE_SINGLE_TEST(f, s, t, 0, vmstate_info_int64, int64_t)

#define VMSTATE_END_OF_LIST() { .name = NULL }

/* ---- engine entry points (migration/vmstate.c) --------------------- */

/* Saves/loads one description's fields and subsections (no section
 * framing). Loading checks versions; returns 0 or -errno with errp set.
 * When f is in validation mode (qemu_file_is_validating) the load parses
 * into scratch copies, runs only the check() hooks and leaves opaque and
 * everything it points to untouched (see migration/savevm.h).
 * vmdesc, if not NULL, receives the JSON description of what was saved. */
int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       JsonWriter *vmdesc, Error **errp);
int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       int version_id, Error **errp);
/* Saves with a given version instead of vmsd->version_id (fields newer
 * than it are left out), e.g. to produce streams for older loaders. */
int vmstate_save_state_v(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                         JsonWriter *vmdesc, int version_id, Error **errp);
/* True if vmsd has no needed() or it returns true. */
bool vmstate_save_needed(const VMStateDescription *vmsd, void *opaque);

#endif
