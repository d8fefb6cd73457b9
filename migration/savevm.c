/*
 * The savevm registry and the stream around the sections: header,
 * configuration, live and device sections with their footers, EOF and
 * the JSON description. See include/migration/savevm.h for the format
 * and for how loading stays atomic.
 */
#include <stdio.h>

#include "migration/savevm.h"
#include "ram-internal.h"
#include "util/json-writer.h"

typedef struct SaveStateEntry {
    char idstr[256];
    int instance_id;
    int version_id;
    int section_id;
    MigrationPriority priority;
    const VMStateDescription *vmsd;
    const SaveVMHandlers *ops;
    void *opaque;
    struct SaveStateEntry *next;
} SaveStateEntry;

static struct {
    SaveStateEntry *head;
    int next_section_id;
    char *machine_name;
} savevm_state;

/* ---- configuration section ------------------------------------------- */

typedef struct ConfigState {
    uint32_t len;
    char *name;
    uint32_t target_page_bits;
} ConfigState;

static ConfigState config_state = { .target_page_bits = TARGET_PAGE_BITS };

const char *savevm_get_machine_name(void)
{
    return savevm_state.machine_name ? savevm_state.machine_name : "pc";
}

void savevm_set_machine_name(const char *name)
{
    free(savevm_state.machine_name);
    savevm_state.machine_name = xstrndup(name, 255);
}

static int config_pre_save(void *opaque)
{
    ConfigState *s = opaque;
    free(s->name);
    s->name = xstrdup(savevm_get_machine_name());
    s->len = (uint32_t)strlen(s->name);
    s->target_page_bits = TARGET_PAGE_BITS;
    return 0;
}

static int config_check(const void *loaded, int version_id, Error **errp)
{
    const ConfigState *s = loaded;
    const char *local = savevm_get_machine_name();
    if (s->len != strlen(local) || (s->len && memcmp(s->name, local, s->len) != 0)) {
        char shown[64];
        size_t n = MIN(s->len, sizeof(shown) - 1);
        memcpy(shown, s->name ? s->name : "", s->name ? n : 0);
        shown[s->name ? n : 0] = 0;
        for (size_t i = 0; shown[i]; i++) {
            if ((unsigned char)shown[i] < 0x20 || (unsigned char)shown[i] >= 0x7f) {
                shown[i] = '?';
            }
        }
        error_setg(errp, "Machine type received is '%s%s' and local is '%s'",
                   shown, s->len > n ? "..." : "", local);
        return -EINVAL;
    }
    if (s->target_page_bits != TARGET_PAGE_BITS) {
        error_setg(errp, "Received target page bits %" PRIu32 ", local is %d",
                   s->target_page_bits, TARGET_PAGE_BITS);
        return -EINVAL;
    }
    return 0;
}

static int config_post_load(void *opaque, int version_id)
{
    ConfigState *s = opaque;
    free(s->name);
    s->name = NULL;
    s->len = 0;
    s->target_page_bits = TARGET_PAGE_BITS;
    return 0;
}

static bool target_page_bits_needed(void *opaque)
{
    /* Like QEMU on x86: only sent when pages differ from the minimum. */
    return false;
}

static const VMStateDescription vmstate_target_page_bits = {
    .name = "configuration/target-page-bits",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = target_page_bits_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(target_page_bits, ConfigState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_configuration = {
    .name = "configuration",
    .version_id = 1,
    .pre_save = config_pre_save,
    .check = config_check,
    .post_load = config_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(len, ConfigState),
        VMSTATE_VBUFFER_ALLOC_UINT32(name, ConfigState, 0, NULL, len),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_target_page_bits,
        NULL
    },
};

/* ---- registry --------------------------------------------------------- */

static SaveStateEntry *find_se(const char *idstr, int instance_id)
{
    for (SaveStateEntry *se = savevm_state.head; se; se = se->next) {
        if (se->instance_id == instance_id && strcmp(se->idstr, idstr) == 0) {
            return se;
        }
    }
    return NULL;
}

static int next_instance_id(const char *idstr)
{
    int id = 0;
    for (SaveStateEntry *se = savevm_state.head; se; se = se->next) {
        if (strcmp(se->idstr, idstr) == 0 && se->instance_id >= id) {
            id = se->instance_id + 1;
        }
    }
    return id;
}

/* Higher priority first; equal priorities keep registration order. */
static void insert_se(SaveStateEntry *se)
{
    SaveStateEntry **pp = &savevm_state.head;
    while (*pp && (*pp)->priority >= se->priority) {
        pp = &(*pp)->next;
    }
    se->next = *pp;
    *pp = se;
}

static int register_se(const char *idstr, int instance_id, int version_id,
                       const VMStateDescription *vmsd, const SaveVMHandlers *ops,
                       void *opaque)
{
    size_t len = strlen(idstr);
    if (len == 0 || len > 255) {
        return -EINVAL;
    }
    if (instance_id == VMSTATE_INSTANCE_ID_ANY) {
        instance_id = next_instance_id(idstr);
    } else if (instance_id < 0) {
        return -EINVAL;
    } else if (find_se(idstr, instance_id)) {
        return -EEXIST;
    }
    SaveStateEntry *se = XNEW(SaveStateEntry);
    memcpy(se->idstr, idstr, len + 1);
    se->instance_id = instance_id;
    se->version_id = version_id;
    se->section_id = savevm_state.next_section_id++;
    se->priority = vmsd ? vmsd->priority : MIG_PRI_DEFAULT;
    se->vmsd = vmsd;
    se->ops = ops;
    se->opaque = opaque;
    insert_se(se);
    return instance_id;
}

int vmstate_register_named(const char *idstr, int instance_id,
                           const VMStateDescription *vmsd, void *opaque)
{
    return register_se(idstr, instance_id, vmsd->version_id, vmsd, NULL, opaque);
}

int vmstate_register(int instance_id, const VMStateDescription *vmsd, void *opaque)
{
    return vmstate_register_named(vmsd->name, instance_id, vmsd, opaque);
}

void vmstate_unregister(const VMStateDescription *vmsd, void *opaque)
{
    for (SaveStateEntry **pp = &savevm_state.head; *pp; ) {
        SaveStateEntry *se = *pp;
        if (se->vmsd == vmsd && se->opaque == opaque) {
            *pp = se->next;
            free(se);
        } else {
            pp = &se->next;
        }
    }
}

int register_savevm_live(const char *idstr, int instance_id, int version_id,
                         const SaveVMHandlers *ops, void *opaque)
{
    return register_se(idstr, instance_id, version_id, NULL, ops, opaque);
}

void unregister_savevm(const char *idstr, int instance_id)
{
    for (SaveStateEntry **pp = &savevm_state.head; *pp; ) {
        SaveStateEntry *se = *pp;
        if (se->ops && se->instance_id == instance_id && strcmp(se->idstr, idstr) == 0) {
            *pp = se->next;
            free(se);
        } else {
            pp = &se->next;
        }
    }
}

void savevm_registry_reset(void)
{
    while (savevm_state.head) {
        SaveStateEntry *se = savevm_state.head;
        savevm_state.head = se->next;
        free(se);
    }
    savevm_state.next_section_id = 0;
    free(savevm_state.machine_name);
    savevm_state.machine_name = NULL;
    free(config_state.name);
    config_state.name = NULL;
    config_state.len = 0;
    ram_registry_reset();
}

/* ---- saving ----------------------------------------------------------- */

static void save_section_header(QEMUFile *f, SaveStateEntry *se, int type)
{
    qemu_put_byte(f, type);
    qemu_put_be32(f, (uint32_t)se->section_id);
    if (type == QEMU_VM_SECTION_FULL || type == QEMU_VM_SECTION_START) {
        size_t len = strlen(se->idstr);
        qemu_put_byte(f, (int)len);
        qemu_put_buffer(f, (const uint8_t *)se->idstr, len);
        qemu_put_be32(f, (uint32_t)se->instance_id);
        qemu_put_be32(f, (uint32_t)se->version_id);
    }
}

static void save_section_footer(QEMUFile *f, SaveStateEntry *se)
{
    qemu_put_byte(f, QEMU_VM_SECTION_FOOTER);
    qemu_put_be32(f, (uint32_t)se->section_id);
}

static int section_failed(QEMUFile *f, SaveStateEntry *se, int ret, Error **errp)
{
    if (ret == 0) {
        ret = qemu_file_get_error_obj(f, errp);
    }
    error_prepend(errp, "Section '%s' instance %d: ", se->idstr, se->instance_id);
    return ret;
}

int qemu_savevm_state(QEMUFile *f, Error **errp)
{
    int ret = 0;
    SaveStateEntry *se;
    JsonWriter *vd = NULL;

    if (qemu_file_get_error(f)) {
        return qemu_file_get_error_obj(f, errp);
    }
    qemu_put_be32(f, QEMU_VM_FILE_MAGIC);
    qemu_put_be32(f, QEMU_VM_FILE_VERSION);
    qemu_put_byte(f, QEMU_VM_CONFIGURATION);
    ret = vmstate_save_state(f, &vmstate_configuration, &config_state, NULL, errp);
    if (ret < 0) {
        goto out;
    }

    /* Live sections: START, PARTs until each says it is done, END. */
    for (se = savevm_state.head; se; se = se->next) {
        if (!se->ops || !se->ops->save_setup) {
            continue;
        }
        save_section_header(f, se, QEMU_VM_SECTION_START);
        ret = se->ops->save_setup(f, se->opaque, errp);
        save_section_footer(f, se);
        if (ret < 0 || qemu_file_get_error(f)) {
            ret = section_failed(f, se, ret, errp);
            goto out;
        }
    }
    bool all_done;
    do {
        all_done = true;
        for (se = savevm_state.head; se; se = se->next) {
            if (!se->ops || !se->ops->save_live_iterate) {
                continue;
            }
            save_section_header(f, se, QEMU_VM_SECTION_PART);
            ret = se->ops->save_live_iterate(f, se->opaque, errp);
            save_section_footer(f, se);
            if (ret < 0 || qemu_file_get_error(f)) {
                ret = section_failed(f, se, ret, errp);
                goto out;
            }
            if (ret == 0) {
                all_done = false;
            }
        }
    } while (!all_done);
    for (se = savevm_state.head; se; se = se->next) {
        if (!se->ops || !se->ops->save_live_complete) {
            continue;
        }
        save_section_header(f, se, QEMU_VM_SECTION_END);
        ret = se->ops->save_live_complete(f, se->opaque, errp);
        save_section_footer(f, se);
        if (ret < 0 || qemu_file_get_error(f)) {
            ret = section_failed(f, se, ret, errp);
            goto out;
        }
    }

    /* Device sections, described in JSON as they are written. */
    vd = json_writer_new(false);
    json_start_object(vd, NULL);
    json_int(vd, "page_size", TARGET_PAGE_SIZE);
    json_start_array(vd, "devices");
    for (se = savevm_state.head; se; se = se->next) {
        if (!se->vmsd || !vmstate_save_needed(se->vmsd, se->opaque)) {
            continue;
        }
        json_start_object(vd, NULL);
        json_str(vd, "name", se->idstr);
        json_int(vd, "instance_id", se->instance_id);
        save_section_header(f, se, QEMU_VM_SECTION_FULL);
        ret = vmstate_save_state(f, se->vmsd, se->opaque, vd, errp);
        if (ret < 0) {
            ret = section_failed(f, se, ret, errp);
            goto out;
        }
        save_section_footer(f, se);
        json_end_object(vd);
    }
    json_end_array(vd);
    json_end_object(vd);

    qemu_put_byte(f, QEMU_VM_EOF);
    size_t jlen = json_writer_len(vd);
    qemu_put_byte(f, QEMU_VM_VMDESCRIPTION);
    qemu_put_be32(f, (uint32_t)jlen);
    qemu_put_buffer(f, (const uint8_t *)json_writer_get(vd), jlen);
    qemu_fflush(f);
    ret = qemu_file_get_error_obj(f, errp);

out:
    for (se = savevm_state.head; se; se = se->next) {
        if (se->ops && se->ops->save_cleanup) {
            se->ops->save_cleanup(se->opaque);
        }
    }
    json_writer_free(vd);
    return ret;
}

/* ---- loading ---------------------------------------------------------- */

typedef struct StartedSection {
    uint32_t stream_id;
    SaveStateEntry *se;
    int version_id;
} StartedSection;

typedef struct LoadPass {
    QEMUFile *f;
    StartedSection *started;
    size_t nstarted;
} LoadPass;

static int stream_error(QEMUFile *f, Error **errp)
{
    return qemu_file_get_error_obj(f, errp);
}

static int check_footer(QEMUFile *f, SaveStateEntry *se, uint32_t stream_id, Error **errp)
{
    uint8_t mark = qemu_get_byte(f);
    if (qemu_file_get_error(f)) {
        stream_error(f, errp);
        error_prepend(errp, "Section '%s' instance %d: ", se->idstr, se->instance_id);
        return qemu_file_get_error(f);
    }
    if (mark != QEMU_VM_SECTION_FOOTER) {
        error_setg(errp, "Missing section footer for '%s' instance %d (found 0x%02x)",
                   se->idstr, se->instance_id, mark);
        return -EINVAL;
    }
    uint32_t id = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        return stream_error(f, errp);
    }
    if (id != stream_id) {
        error_setg(errp, "Mismatched section id in footer for '%s': read %" PRIu32
                   ", expected %" PRIu32, se->idstr, id, stream_id);
        return -EINVAL;
    }
    return 0;
}

static const char *section_type_name(int type)
{
    switch (type) {
    case QEMU_VM_SECTION_START: return "START";
    case QEMU_VM_SECTION_PART: return "PART";
    case QEMU_VM_SECTION_END: return "END";
    case QEMU_VM_SECTION_FULL: return "FULL";
    default: return "?";
    }
}

static int load_section_start_full(LoadPass *p, int type, Error **errp)
{
    QEMUFile *f = p->f;
    uint32_t stream_id = qemu_get_be32(f);
    uint8_t len = qemu_get_byte(f);
    char idstr[256];
    qemu_get_buffer(f, (uint8_t *)idstr, len);
    idstr[len] = 0;
    uint32_t instance_id = qemu_get_be32(f);
    uint32_t version_id = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        return stream_error(f, errp);
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)idstr[i] < 0x20 || (unsigned char)idstr[i] >= 0x7f) {
            idstr[i] = '?';    /* only for the message: no match can have it */
        }
    }
    SaveStateEntry *se = instance_id <= INT32_MAX ? find_se(idstr, (int)instance_id) : NULL;
    if (!se) {
        error_setg(errp, "Unknown savevm section '%s' instance %" PRIu32, idstr, instance_id);
        return -EINVAL;
    }
    bool live = type == QEMU_VM_SECTION_START;
    if ((live && !(se->ops && se->ops->load_state)) || (!live && !se->vmsd)) {
        error_setg(errp, "Section '%s' instance %" PRIu32 " cannot be loaded from a %s section",
                   idstr, instance_id, section_type_name(type));
        return -EINVAL;
    }
    if (version_id > (uint32_t)se->version_id) {
        error_setg(errp, "Section '%s' version %" PRIu32 " is newer than supported (%d)",
                   idstr, version_id, se->version_id);
        return -EINVAL;
    }
    int ret;
    if (live) {
        /* Remember it so its PART/END sections find it. */
        size_t i;
        for (i = 0; i < p->nstarted; i++) {
            if (p->started[i].stream_id == stream_id) {
                break;
            }
        }
        if (i == p->nstarted) {
            p->started = xrealloc(p->started, (p->nstarted + 1) * sizeof(*p->started));
            p->nstarted++;
        }
        p->started[i] = (StartedSection){ stream_id, se, (int)version_id };
        ret = se->ops->load_state(f, se->opaque, (int)version_id, errp);
        if (ret == 0 && qemu_file_get_error(f)) {
            ret = stream_error(f, errp);
        }
    } else {
        if (se->vmsd->minimum_version_id > (int)version_id) {
            error_setg(errp, "Section '%s' version %" PRIu32 " is older than the oldest "
                       "supported (%d)", idstr, version_id, se->vmsd->minimum_version_id);
            return -EINVAL;
        }
        ret = vmstate_load_state(f, se->vmsd, se->opaque, (int)version_id, errp);
    }
    if (ret < 0) {
        error_prepend(errp, "Section '%s' instance %d: ", se->idstr, se->instance_id);
        return ret;
    }
    return check_footer(f, se, stream_id, errp);
}

static int load_section_part_end(LoadPass *p, int type, Error **errp)
{
    QEMUFile *f = p->f;
    uint32_t stream_id = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        return stream_error(f, errp);
    }
    StartedSection *s = NULL;
    for (size_t i = 0; i < p->nstarted; i++) {
        if (p->started[i].stream_id == stream_id) {
            s = &p->started[i];
        }
    }
    if (!s) {
        error_setg(errp, "%s section for unknown section id %" PRIu32,
                   section_type_name(type), stream_id);
        return -EINVAL;
    }
    int ret = s->se->ops->load_state(f, s->se->opaque, s->version_id, errp);
    if (ret == 0 && qemu_file_get_error(f)) {
        ret = stream_error(f, errp);
    }
    if (ret < 0) {
        error_prepend(errp, "Section '%s' instance %d: ", s->se->idstr, s->se->instance_id);
        return ret;
    }
    return check_footer(f, s->se, stream_id, errp);
}

/* One full pass over the stream, from its first byte to its last. */
static int loadvm_pass(QEMUFile *f, Error **errp)
{
    LoadPass p = { .f = f };
    int ret = 0;
    SaveStateEntry *se;

    for (se = savevm_state.head; se; se = se->next) {
        if (se->ops && se->ops->load_setup) {
            ret = se->ops->load_setup(f, se->opaque, errp);
            if (ret < 0) {
                goto out;
            }
        }
    }

    uint32_t magic = qemu_get_be32(f);
    uint32_t version = qemu_get_be32(f);
    if (qemu_file_get_error(f)) {
        ret = stream_error(f, errp);
        goto out;
    }
    if (magic != QEMU_VM_FILE_MAGIC) {
        error_setg(errp, "Not a migration stream (magic 0x%08" PRIx32 ", expected 0x%08x 'QEVM')",
                   magic, QEMU_VM_FILE_MAGIC);
        ret = -EINVAL;
        goto out;
    }
    if (version != QEMU_VM_FILE_VERSION) {
        error_setg(errp, "Unsupported migration stream version %" PRIu32 " (expected %d)",
                   version, QEMU_VM_FILE_VERSION);
        ret = -ENOTSUP;
        goto out;
    }
    uint8_t type = qemu_get_byte(f);
    if (qemu_file_get_error(f)) {
        ret = stream_error(f, errp);
        goto out;
    }
    if (type != QEMU_VM_CONFIGURATION) {
        error_setg(errp, "Configuration section missing (found section type %d)", type);
        ret = -EINVAL;
        goto out;
    }
    ret = vmstate_load_state(f, &vmstate_configuration, &config_state, 0, errp);
    if (ret < 0) {
        goto out;
    }

    for (;;) {
        type = qemu_get_byte(f);
        if (qemu_file_get_error(f)) {
            ret = stream_error(f, errp);
            goto out;
        }
        switch (type) {
        case QEMU_VM_SECTION_START:
        case QEMU_VM_SECTION_FULL:
            ret = load_section_start_full(&p, type, errp);
            break;
        case QEMU_VM_SECTION_PART:
        case QEMU_VM_SECTION_END:
            ret = load_section_part_end(&p, type, errp);
            break;
        case QEMU_VM_EOF:
            goto eof;
        default:
            error_setg(errp, "Unknown savevm section type %d at offset %" PRId64,
                       type, qemu_ftell(f) - 1);
            ret = -EINVAL;
            break;
        }
        if (ret < 0) {
            goto out;
        }
    }

eof:
    /* Optional JSON description, then nothing. */
    if (!qemu_file_at_eof(f)) {
        int64_t at = qemu_ftell(f);
        type = qemu_get_byte(f);
        if (type != QEMU_VM_VMDESCRIPTION) {
            error_setg(errp, "Trailing garbage after the end of the migration stream "
                       "at offset %" PRId64, at);
            ret = -EINVAL;
            goto out;
        }
        uint32_t len = qemu_get_be32(f);
        qemu_file_skip(f, len);
        if (qemu_file_get_error(f)) {
            ret = stream_error(f, errp);
            goto out;
        }
        if (!qemu_file_at_eof(f)) {
            error_setg(errp, "Trailing garbage after the end of the migration stream "
                       "at offset %" PRId64, qemu_ftell(f));
            ret = -EINVAL;
            goto out;
        }
    }
    ret = stream_error(f, errp);

out:
    for (se = savevm_state.head; se; se = se->next) {
        if (se->ops && se->ops->load_cleanup) {
            se->ops->load_cleanup(se->opaque);
        }
    }
    free(p.started);
    return ret;
}

/* Device state before the commit pass, to put back if it fails. */
static uint8_t *backup_devices(size_t *len)
{
    QEMUFile *m = qemu_file_new_mem_output();
    for (SaveStateEntry *se = savevm_state.head; se; se = se->next) {
        if (se->vmsd) {
            vmstate_save_state(m, se->vmsd, se->opaque, NULL, NULL);
        }
    }
    uint8_t *data = NULL;
    if (!qemu_file_get_error(m)) {
        data = qemu_file_mem_output_steal(m, len);
    }
    qemu_fclose(m, NULL);
    return data;
}

static int restore_devices(const uint8_t *data, size_t len)
{
    QEMUFile *m = qemu_file_new_mem_input(data, len);
    qemu_file_set_trusted(m, true);
    int ret = 0;
    for (SaveStateEntry *se = savevm_state.head; se && ret == 0; se = se->next) {
        if (se->vmsd) {
            ret = vmstate_load_state(m, se->vmsd, se->opaque, se->vmsd->version_id, NULL);
        }
    }
    qemu_fclose(m, NULL);
    return ret;
}

int qemu_loadvm_state(QEMUFile *f, Error **errp)
{
    QEMUFile *src = f;
    uint8_t *copy = NULL;
    int ret;

    if (qemu_file_get_error(f)) {
        return qemu_file_get_error_obj(f, errp);
    }
    if (!qemu_file_is_seekable(f)) {
        /* Two passes need to read twice: keep a copy. */
        size_t len = 0, cap = 0;
        const uint8_t *p;
        size_t n;
        while ((n = qemu_peek_buffer(f, &p, QEMU_FILE_PEEK_MAX, 0)) > 0) {
            if (len + n > cap) {
                cap = MAX(cap * 2, len + n + 65536);
                copy = xrealloc(copy, cap);
            }
            memcpy(copy + len, p, n);
            len += n;
            qemu_file_skip(f, n);
        }
        if (qemu_file_get_error(f)) {
            free(copy);
            return qemu_file_get_error_obj(f, errp);
        }
        src = qemu_file_new_mem_input(copy, len);
    }

    int64_t start = qemu_ftell(src);
    qemu_file_set_validating(src, true);
    ret = loadvm_pass(src, errp);
    qemu_file_set_validating(src, false);
    if (ret < 0) {
        goto out;
    }
    ret = qemu_file_seek(src, start, errp);
    if (ret < 0) {
        goto out;
    }

    size_t blen = 0;
    uint8_t *backup = backup_devices(&blen);
    Error *local = NULL;
    ret = loadvm_pass(src, &local);
    if (ret < 0) {
        if (backup && restore_devices(backup, blen) == 0) {
            error_setg(errp, "%s (device state was restored; guest RAM holds the loaded "
                       "contents)", error_get_pretty(local));
        } else {
            error_setg(errp, "%s (the machine state is now inconsistent)",
                       error_get_pretty(local));
        }
        error_free(local);
    }
    free(backup);

out:
    if (src != f) {
        qemu_fclose(src, NULL);
        free(copy);
    }
    return ret;
}
