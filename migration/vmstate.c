/*
 * The VMState engine: walks a device's field table to write its state,
 * read it back, and describe it in JSON.
 *
 * Loading runs in one of two modes, chosen by the QEMUFile:
 *
 *  - commit (the normal mode): values go straight into the device struct,
 *    pre_load/post_load hooks run.
 *  - validation (qemu_file_is_validating): the same parse, but into a
 *    scratch copy. The top-level struct is shadowed up to the end of its
 *    last described field; every pointer target (arrays, buffers, structs,
 *    allocated buffers) gets its own scratch copy. No device hook runs
 *    except the optional check(). Element counts and buffer sizes are
 *    checked against what the live object can hold, so that the commit
 *    pass that follows cannot overrun anything.
 *
 * Counts and sizes that come from the stream are hostile: every one is
 * range-checked before it sizes a copy or an allocation.
 */
#include <limits.h>
#include <stdio.h>

#include "migration/qemu-file.h"
#include "migration/vmstate.h"

#define QEMU_VM_SUBSECTION 0x05
/* Largest in-memory object a stream may make us allocate or copy. */
#define VMSTATE_MAX_OBJECT ((int64_t)1 << 31)

/* ---- field geometry --------------------------------------------------- */

static bool field_exists(const VMStateField *field, void *opaque, int version_id)
{
    if (field->field_exists) {
        return field->field_exists(opaque, version_id);
    }
    return field->version_id <= version_id;
}

static int64_t read_count(const void *base, size_t off, int width)
{
    const uint8_t *p = (const uint8_t *)base + off;
    switch (width) {
    case -4: { int32_t v; memcpy(&v, p, 4); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    default: return *p;
    }
}

/* Width of the element-count field: -4 for int32, else bytes. 0 if the
 * field is not a variable array. */
static int count_width(const VMStateField *field)
{
    if (field->flags & VMS_VARRAY_INT32) {
        return -4;
    }
    if (field->flags & VMS_VARRAY_UINT32) {
        return 4;
    }
    if (field->flags & VMS_VARRAY_UINT16) {
        return 2;
    }
    if (field->flags & VMS_VARRAY_UINT8) {
        return 1;
    }
    return 0;
}

static const char *vmsd_name(const VMStateDescription *vmsd)
{
    return vmsd->name ? vmsd->name : "?";
}

/* Number of elements, or -1 with errp set. */
static int64_t field_n_elems(const VMStateDescription *vmsd, const VMStateField *field,
                             const void *base, Error **errp)
{
    int64_t n = 1;
    int w = count_width(field);
    if (field->flags & VMS_ARRAY) {
        n = field->num;
    } else if (w) {
        n = read_count(base, field->num_offset, w);
        if (n < 0) {
            error_setg(errp, "'%s' field '%s': invalid element count %" PRId64,
                       vmsd_name(vmsd), field->name, n);
            return -1;
        }
        if (!(field->flags & VMS_POINTER)) {
            /* In-place array: .num is its length. */
            if (n > field->num) {
                error_setg(errp, "'%s' field '%s': %" PRId64 " elements, but the array holds %d",
                           vmsd_name(vmsd), field->name, n, field->num);
                return -1;
            }
        }
    }
    if (field->flags & VMS_MULTIPLY_ELEMENTS) {
        n *= field->num;
    }
    return n;
}

/* Element size (bytes; bits for bitmaps), or -1 with errp set. */
static int64_t field_size(const VMStateDescription *vmsd, const VMStateField *field,
                          const void *base, Error **errp)
{
    int64_t size = (int64_t)field->size;
    if (field->flags & VMS_VBUFFER) {
        size = read_count(base, field->size_offset, -4);
        if (size < 0) {
            error_setg(errp, "'%s' field '%s': invalid size %" PRId64,
                       vmsd_name(vmsd), field->name, size);
            return -1;
        }
        if ((field->flags & VMS_MULTIPLY) &&
            __builtin_mul_overflow(size, (int64_t)field->size, &size)) {
            error_setg(errp, "'%s' field '%s': size overflows", vmsd_name(vmsd), field->name);
            return -1;
        }
    }
    if ((size_t)size < field->start && (field->flags & (VMS_BUFFER | VMS_VBUFFER))) {
        error_setg(errp, "'%s' field '%s': size %" PRId64 " is smaller than its start offset",
                   vmsd_name(vmsd), field->name, size);
        return -1;
    }
    return size;
}

/* Bytes of memory that n elements of this field occupy. */
static int64_t field_mem_bytes(const VMStateField *field, int64_t n, int64_t size)
{
    if ((field->flags & VMS_VBUFFER) && field->info == &vmstate_info_bitmap) {
        return DIV_ROUND_UP(size, 64) * 8;
    }
    int64_t bytes;
    if (__builtin_mul_overflow(n, (field->flags & VMS_ARRAY_OF_POINTER) ? (int64_t)sizeof(void *)
                                                                        : size, &bytes)) {
        return -1;
    }
    return bytes;
}

static bool vmsd_can_compress(const VMStateField *field)
{
    if (field->field_exists || (field->flags & VMS_ARRAY_OF_POINTER)) {
        return false;
    }
    if (field->flags & (VMS_STRUCT | VMS_VSTRUCT)) {
        for (const VMStateField *f = field->vmsd->fields; f && f->name; f++) {
            if (!vmsd_can_compress(f)) {
                return false;
            }
        }
        if (field->vmsd->subsections && field->vmsd->subsections[0]) {
            return false;
        }
    }
    return true;
}

/* End of the last byte any field of vmsd (or its subsections) lives in,
 * relative to the struct: how much of it a validation shadow copies. */
static size_t vmsd_extent(const VMStateDescription *vmsd, int depth)
{
    size_t ext = 0;
    if (depth > 32) {
        return 0;
    }
    for (const VMStateField *f = vmsd->fields; f && f->name; f++) {
        if (f->info == &vmstate_info_unused_buffer) {
            continue;
        }
        size_t inline_bytes;
        if (f->flags & VMS_POINTER) {
            inline_bytes = sizeof(void *);
        } else if (f->flags & VMS_ARRAY_OF_POINTER) {
            inline_bytes = (size_t)f->num * sizeof(void *);
        } else if (f->flags & VMS_ARRAY) {
            inline_bytes = (size_t)f->num * f->size;
            if (f->flags & VMS_MULTIPLY_ELEMENTS) {
                inline_bytes *= (size_t)f->num;
            }
        } else if (count_width(f)) {
            inline_bytes = (size_t)f->num * f->size;
        } else {
            inline_bytes = f->size;
        }
        ext = MAX(ext, f->offset + inline_bytes);
        int w = count_width(f);
        if (w) {
            ext = MAX(ext, f->num_offset + (size_t)(w < 0 ? -w : w));
        }
        if (f->flags & VMS_VBUFFER) {
            ext = MAX(ext, f->size_offset + 4);
        }
    }
    for (const VMStateDescription *const *sub = vmsd->subsections; sub && *sub; sub++) {
        ext = MAX(ext, vmsd_extent(*sub, depth + 1));
    }
    return ext;
}

/* ---- JSON description ------------------------------------------------- */

static void desc_field_start(JsonWriter *vd, const VMStateField *field,
                             int64_t i, int64_t n, bool is_null)
{
    if (!vd) {
        return;
    }
    bool is_array = n > 1;
    json_start_object(vd, NULL);
    json_str(vd, "name", field->name);
    if (is_array) {
        if (vmsd_can_compress(field)) {
            json_int(vd, "array_len", n);
        } else {
            json_int(vd, "index", i);
        }
    }
    if (is_null) {
        json_str(vd, "type", "nullptr");
    } else if (field->flags & (VMS_STRUCT | VMS_VSTRUCT)) {
        json_str(vd, "type", "struct");
        json_start_object(vd, "struct");
    } else {
        json_str(vd, "type", field->info && field->info->name ? field->info->name : "unknown");
    }
}

static void desc_field_end(JsonWriter *vd, const VMStateField *field, int64_t size, bool is_null)
{
    if (!vd) {
        return;
    }
    if (!is_null && (field->flags & (VMS_STRUCT | VMS_VSTRUCT))) {
        json_end_object(vd);
    }
    json_int(vd, "size", size);
    json_end_object(vd);
}

/* ---- saving ----------------------------------------------------------- */

bool vmstate_save_needed(const VMStateDescription *vmsd, void *opaque)
{
    return !vmsd->needed || vmsd->needed(opaque);
}

static int file_error(QEMUFile *f, const VMStateDescription *vmsd,
                      const VMStateField *field, int ret, Error **errp)
{
    int ferr = qemu_file_get_error(f);
    if (ferr) {
        Error *local = NULL;
        qemu_file_get_error_obj(f, &local);
        error_setg(errp, "'%s' field '%s': %s", vmsd_name(vmsd), field->name,
                   error_get_pretty(local));
        error_free(local);
        return ferr;
    }
    error_setg_errno(errp, -ret, "'%s' field '%s'", vmsd_name(vmsd), field->name);
    return ret;
}

static int save_subsections(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                            JsonWriter *vmdesc, Error **errp)
{
    bool started = false;
    for (const VMStateDescription *const *sub = vmsd->subsections; sub && *sub; sub++) {
        const VMStateDescription *s = *sub;
        if (!vmstate_save_needed(s, opaque)) {
            continue;
        }
        size_t len = strlen(s->name);
        if (len > 255) {
            error_setg(errp, "Subsection name '%s' is too long", s->name);
            return -EINVAL;
        }
        if (vmdesc) {
            if (!started) {
                json_start_array(vmdesc, "subsections");
                started = true;
            }
            json_start_object(vmdesc, NULL);
        }
        qemu_put_byte(f, QEMU_VM_SUBSECTION);
        qemu_put_byte(f, (int)len);
        qemu_put_buffer(f, (const uint8_t *)s->name, len);
        qemu_put_be32(f, (uint32_t)s->version_id);
        int ret = vmstate_save_state_v(f, s, opaque, vmdesc, s->version_id, errp);
        if (ret < 0) {
            return ret;
        }
        if (vmdesc) {
            json_end_object(vmdesc);
        }
    }
    if (started) {
        json_end_array(vmdesc);
    }
    return 0;
}

int vmstate_save_state_v(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                         JsonWriter *vmdesc, int version_id, Error **errp)
{
    int ret = 0;
    if (vmsd->pre_save) {
        ret = vmsd->pre_save(opaque);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "pre_save of '%s' failed", vmsd_name(vmsd));
            return ret;
        }
    }
    if (vmdesc) {
        json_str(vmdesc, "vmsd_name", vmsd_name(vmsd));
        json_int(vmdesc, "version", version_id);
        json_start_array(vmdesc, "fields");
    }
    for (const VMStateField *field = vmsd->fields; field && field->name; field++) {
        if (!field_exists(field, opaque, version_id)) {
            if (field->flags & VMS_MUST_EXIST) {
                error_setg(errp, "'%s' field '%s' must exist", vmsd_name(vmsd), field->name);
                ret = -EINVAL;
                goto out;
            }
            continue;
        }
        int64_t n = field_n_elems(vmsd, field, opaque, errp);
        int64_t size = n < 0 ? -1 : field_size(vmsd, field, opaque, errp);
        if (n < 0 || size < 0) {
            ret = -EINVAL;
            goto out;
        }
        uint8_t *base = (uint8_t *)opaque + field->offset;
        if (field->flags & VMS_POINTER) {
            base = *(uint8_t **)base;
            if (!base && n && field_mem_bytes(field, n, size)) {
                error_setg(errp, "'%s' field '%s' is a NULL pointer", vmsd_name(vmsd), field->name);
                ret = -EINVAL;
                goto out;
            }
        }
        size_t stride = (field->flags & VMS_ARRAY_OF_POINTER) ? sizeof(void *) : (size_t)size;
        JsonWriter *vd = vmdesc;
        for (int64_t i = 0; i < n; i++) {
            uint8_t *elem = base + stride * i;
            bool is_null = false;
            if (field->flags & VMS_ARRAY_OF_POINTER) {
                elem = *(uint8_t **)elem;
                is_null = elem == NULL;
            }
            desc_field_start(vd, field, i, n, is_null);
            int64_t before = qemu_ftell(f);
            if (is_null) {
                ret = vmstate_info_nullptr.put(f, NULL, 1, field, NULL);
            } else if (field->flags & (VMS_STRUCT | VMS_VSTRUCT)) {
                int v = (field->flags & VMS_VSTRUCT) ? field->struct_version_id
                                                      : field->vmsd->version_id;
                ret = vmstate_save_state_v(f, field->vmsd, elem, vd, v, errp);
            } else {
                ret = field->info->put(f, elem + field->start, (size_t)size - field->start,
                                       field, vd);
                if (ret < 0 || qemu_file_get_error(f)) {
                    ret = file_error(f, vmsd, field, ret, errp);
                }
            }
            if (ret < 0) {
                goto out;
            }
            desc_field_end(vd, field, qemu_ftell(f) - before, is_null);
            if (vd && vmsd_can_compress(field)) {
                vd = NULL;
            }
        }
    }
    if (vmdesc) {
        json_end_array(vmdesc);
    }
    ret = save_subsections(f, vmsd, opaque, vmdesc, errp);
out:
    if (vmsd->post_save) {
        int r = vmsd->post_save(opaque);
        if (r < 0 && ret == 0) {
            error_setg_errno(errp, -r, "post_save of '%s' failed", vmsd_name(vmsd));
            ret = r;
        }
    }
    if (ret == 0 && qemu_file_get_error(f)) {
        ret = qemu_file_get_error_obj(f, errp);
    }
    return ret;
}

int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       JsonWriter *vmdesc, Error **errp)
{
    return vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd->version_id, errp);
}

/* ---- loading ---------------------------------------------------------- */

typedef struct LoadCtx {
    QEMUFile *f;
    bool dry;              /* validation pass: write scratch copies only */
    int depth;
    Error **errp;
    /* Validation: scratch buffers, linked into the shadow (so check()
     * hooks see loaded pointer targets) and freed at the end. */
    void **scratch;
    size_t nscratch;
    /* Validation: the live struct being shadowed and its shadow, so that
     * field_exists() callbacks (which read the live struct) can be shown
     * the loaded values, as they will be in the commit pass. */
    uint8_t *swap_live;
    uint8_t *swap_shadow;
    size_t swap_len;
} LoadCtx;

static bool load_field_exists(LoadCtx *c, const VMStateField *field, uint8_t *base,
                              uint8_t *live, int version_id)
{
    if (!field->field_exists) {
        return field->version_id <= version_id;
    }
    if (!c->dry) {
        return field->field_exists(live, version_id);
    }
    if (!live || !c->swap_live) {
        /* A scratch element of full size: safe to hand out. */
        return field->field_exists(base, version_id);
    }
    /* Show the callback the loaded values in place, then put the live
     * ones back: nothing else runs in between. */
    uint8_t *saved = xmalloc(c->swap_len ? c->swap_len : 1);
    memcpy(saved, c->swap_live, c->swap_len);
    memcpy(c->swap_live, c->swap_shadow, c->swap_len);
    bool exists = field->field_exists(live, version_id);
    memcpy(c->swap_live, saved, c->swap_len);
    free(saved);
    return exists;
}

static void *scratch_new(LoadCtx *c, const void *copy_from, size_t bytes)
{
    void *p = copy_from ? xmalloc(bytes ? bytes : 1) : xzalloc(bytes ? bytes : 1);
    if (copy_from) {
        memcpy(p, copy_from, bytes);
    }
    c->scratch = xrealloc(c->scratch, (c->nscratch + 1) * sizeof(void *));
    c->scratch[c->nscratch++] = p;
    return p;
}

static int load_vmsd(LoadCtx *c, const VMStateDescription *vmsd, uint8_t *base,
                     uint8_t *live, int version_id);

/* One field. 'base' is where values go (the live struct when committing,
 * a scratch copy when validating); 'live' is the live struct (NULL for
 * freshly allocated scratch elements): user callbacks only ever see it. */
static int load_field(LoadCtx *c, const VMStateDescription *vmsd, const VMStateField *field,
                      uint8_t *base, uint8_t *live, int version_id)
{
    QEMUFile *f = c->f;
    Error **errp = c->errp;
    int ret = 0;

    if (!load_field_exists(c, field, base, live, version_id)) {
        if (field->flags & VMS_MUST_EXIST) {
            error_setg(errp, "'%s' field '%s' is missing from version %d",
                       vmsd_name(vmsd), field->name, version_id);
            return -EINVAL;
        }
        return 0;
    }
    int64_t n = field_n_elems(vmsd, field, base, errp);
    int64_t size = n < 0 ? -1 : field_size(vmsd, field, base, errp);
    if (n < 0 || size < 0) {
        return -EINVAL;
    }
    if (count_width(field) && !(field->flags & VMS_POINTER) && field->num == 0 && n > 0) {
        error_setg(errp, "'%s' field '%s': in-place variable array without a length",
                   vmsd_name(vmsd), field->name);
        return -EINVAL;
    }
    int64_t bytes = field_mem_bytes(field, n, size);
    if (bytes < 0 || bytes > VMSTATE_MAX_OBJECT) {
        error_setg(errp, "'%s' field '%s': %" PRId64 " bytes is too large",
                   vmsd_name(vmsd), field->name, bytes);
        return -EINVAL;
    }

    /* Each element takes at least a byte of the stream, buffers their
     * whole size: refuse counts the rest of the stream cannot hold
     * before allocating or copying anything for them. */
    if (qemu_file_size(f) >= 0 && field->info != &vmstate_info_unused_buffer) {
        int64_t left = qemu_file_size(f) - qemu_ftell(f);
        int64_t need = (field->flags & (VMS_STRUCT | VMS_VSTRUCT)) ? 0 : n;
        if (field->flags & (VMS_BUFFER | VMS_VBUFFER)) {
            need = field->info == &vmstate_info_bitmap ? DIV_ROUND_UP(size, 64) * 8
                                                       : size - (int64_t)field->start;
        }
        if (need > left) {
            error_setg(errp, "'%s' field '%s': needs %" PRId64 " more bytes, only %" PRId64
                       " left in the stream", vmsd_name(vmsd), field->name, need, left);
            return -EINVAL;
        }
    }

    uint8_t *target = base + field->offset;
    uint8_t *live_target = live ? live + field->offset : NULL;

    if (field->flags & VMS_POINTER) {
        uint8_t **slot = (uint8_t **)(base + field->offset);
        if (field->flags & VMS_ALLOC) {
            if (c->dry) {
                target = *slot = scratch_new(c, NULL, (size_t)bytes);
                live_target = NULL;
            } else {
                free(*slot);
                *slot = bytes ? xzalloc((size_t)bytes) : NULL;
                target = live_target = *slot;
            }
        } else {
            target = *slot;
            if (!target && bytes) {
                error_setg(errp, "'%s' field '%s' is a NULL pointer", vmsd_name(vmsd), field->name);
                return -EINVAL;
            }
            if (c->dry && live) {
                /* The live count/size says how much the live buffer holds;
                 * the stream may not ask for more. */
                int w = count_width(field);
                if (w) {
                    int64_t room = read_count(live, field->num_offset, w);
                    if (field->flags & VMS_MULTIPLY_ELEMENTS) {
                        room *= field->num;
                    }
                    if (n > room) {
                        error_setg(errp, "'%s' field '%s': %" PRId64 " elements in the stream, "
                                   "room for %" PRId64, vmsd_name(vmsd), field->name, n, room);
                        return -EINVAL;
                    }
                }
                if (field->flags & VMS_VBUFFER) {
                    int64_t room = read_count(live, field->size_offset, -4);
                    if (field->flags & VMS_MULTIPLY) {
                        room *= (int64_t)field->size;
                    }
                    if (size > room) {
                        error_setg(errp, "'%s' field '%s': %" PRId64 " bytes in the stream, "
                                   "room for %" PRId64, vmsd_name(vmsd), field->name, size, room);
                        return -EINVAL;
                    }
                }
            } else if (c->dry && (count_width(field) || (field->flags & VMS_VBUFFER))) {
                error_setg(errp, "'%s' field '%s': variable buffer inside a new element",
                           vmsd_name(vmsd), field->name);
                return -EINVAL;
            }
            live_target = target;
            if (c->dry && bytes) {
                target = *slot = scratch_new(c, target, (size_t)bytes);
            }
        }
    }

    size_t stride = (field->flags & VMS_ARRAY_OF_POINTER) ? sizeof(void *) : (size_t)size;
    for (int64_t i = 0; i < n && ret == 0; i++) {
        uint8_t *elem = target + stride * i;
        uint8_t *lelem = live_target ? live_target + stride * i : NULL;
        if (field->flags & VMS_ARRAY_OF_POINTER) {
            uint8_t *p = *(uint8_t **)elem;
            lelem = p;
            if (!p) {
                ret = vmstate_info_nullptr.get(f, NULL, 1, field);
                if (ret < 0 || qemu_file_get_error(f)) {
                    ret = file_error(f, vmsd, field, ret, errp);
                }
                continue;
            }
            elem = p;
            if (c->dry) {
                elem = scratch_new(c, p, (size_t)size);
                *(uint8_t **)(target + stride * i) = elem;
            }
        }
        if (field->flags & (VMS_STRUCT | VMS_VSTRUCT)) {
            int v = (field->flags & VMS_VSTRUCT) ? field->struct_version_id
                                                  : field->vmsd->version_id;
            uint8_t *sl = c->swap_live, *ss = c->swap_shadow;
            size_t slen = c->swap_len;
            if (c->dry && (field->flags & (VMS_POINTER | VMS_ARRAY_OF_POINTER))) {
                /* A struct behind a pointer: its scratch copy is whole. */
                c->swap_live = lelem;
                c->swap_shadow = elem;
                c->swap_len = (size_t)size;
            }
            c->depth++;
            ret = load_vmsd(c, field->vmsd, elem, lelem, v);
            c->depth--;
            c->swap_live = sl;
            c->swap_shadow = ss;
            c->swap_len = slen;
        } else {
            ret = field->info->get(f, elem + field->start, (size_t)size - field->start, field);
            if (ret < 0 || qemu_file_get_error(f)) {
                ret = file_error(f, vmsd, field, ret, errp);
            }
        }
    }
    return ret;
}

static const VMStateDescription *find_subsection(const VMStateDescription *const *subs,
                                                 const char *name)
{
    for (; subs && *subs; subs++) {
        if (strcmp((*subs)->name, name) == 0) {
            return *subs;
        }
    }
    return NULL;
}

static int load_subsections(LoadCtx *c, const VMStateDescription *vmsd,
                            uint8_t *base, uint8_t *live)
{
    QEMUFile *f = c->f;
    size_t plen = strlen(vmsd_name(vmsd));
    while (qemu_peek_byte(f, 0) == QEMU_VM_SUBSECTION) {
        int len = qemu_peek_byte(f, 1);
        if (len < 0 || (size_t)len < plen + 1) {
            return 0;     /* not a subsection of ours: "name/..." */
        }
        const uint8_t *p;
        if (qemu_peek_buffer(f, &p, (size_t)len, 2) != (size_t)len) {
            return 0;
        }
        if (memcmp(p, vmsd_name(vmsd), plen) != 0) {
            return 0;
        }
        char name[256];
        memcpy(name, p, (size_t)len);
        name[len] = 0;
        const VMStateDescription *sub = find_subsection(vmsd->subsections, name);
        if (!sub) {
            error_setg(c->errp, "Unknown subsection '%s' in '%s'", name, vmsd_name(vmsd));
            return -ENOENT;
        }
        qemu_file_skip(f, 2 + (size_t)len);
        int version_id = (int)qemu_get_be32(f);
        if (qemu_file_get_error(f)) {
            return qemu_file_get_error_obj(f, c->errp);
        }
        c->depth++;
        int ret = load_vmsd(c, sub, base, live, version_id);
        c->depth--;
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

static int load_vmsd(LoadCtx *c, const VMStateDescription *vmsd, uint8_t *base,
                     uint8_t *live, int version_id)
{
    Error **errp = c->errp;
    int ret;

    if (c->depth > 64) {
        error_setg(errp, "'%s': descriptions nested too deeply", vmsd_name(vmsd));
        return -EINVAL;
    }
    if (version_id > vmsd->version_id) {
        error_setg(errp, "'%s' version %d is newer than supported (%d)",
                   vmsd_name(vmsd), version_id, vmsd->version_id);
        return -EINVAL;
    }
    if (version_id < vmsd->minimum_version_id) {
        error_setg(errp, "'%s' version %d is older than the oldest supported (%d)",
                   vmsd_name(vmsd), version_id, vmsd->minimum_version_id);
        return -EINVAL;
    }
    if (!c->dry && vmsd->pre_load) {
        ret = vmsd->pre_load(live);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "pre_load of '%s' failed", vmsd_name(vmsd));
            return ret;
        }
    }
    for (const VMStateField *field = vmsd->fields; field && field->name; field++) {
        ret = load_field(c, vmsd, field, base, live, version_id);
        if (ret < 0) {
            return ret;
        }
    }
    ret = load_subsections(c, vmsd, base, live);
    if (ret < 0) {
        return ret;
    }
    if (qemu_file_get_error(c->f)) {
        return qemu_file_get_error_obj(c->f, errp);
    }
    if (c->dry && vmsd->check) {
        ret = vmsd->check(base, version_id, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (!c->dry && vmsd->post_load) {
        ret = vmsd->post_load(live, version_id);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "post_load of '%s' failed", vmsd_name(vmsd));
            return ret;
        }
    }
    return 0;
}

int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       int version_id, Error **errp)
{
    LoadCtx c = { .f = f, .dry = qemu_file_is_validating(f), .errp = errp };
    if (qemu_file_get_error(f)) {
        return qemu_file_get_error_obj(f, errp);
    }
    if (!c.dry) {
        return load_vmsd(&c, vmsd, opaque, opaque, version_id);
    }
    size_t ext = vmsd_extent(vmsd, 0);
    uint8_t *shadow = xmalloc(ext ? ext : 1);
    memcpy(shadow, opaque, ext);
    c.swap_live = opaque;
    c.swap_shadow = shadow;
    c.swap_len = ext;
    int ret = load_vmsd(&c, vmsd, shadow, opaque, version_id);
    for (size_t i = 0; i < c.nscratch; i++) {
        free(c.scratch[i]);
    }
    free(c.scratch);
    free(shadow);
    return ret;
}
