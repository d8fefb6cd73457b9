/*
 * qcow2 internal snapshots: the snapshot table (encode/decode, read,
 * rewrite), and create / goto / delete / list / load_tmp.
 *
 * A snapshot is a copy of the active L1 table with the refcounts of
 * everything it reaches raised by one. The snapshot table is rewritten
 * into new clusters and made stable before a single header write
 * switches to it, so a crash leaves either the old or the new table.
 */
#include <stdio.h>
#include <sys/time.h>

#include "qcow2.h"

/* ---- table entries ----------------------------------------------- */

size_t qcow2_snapshot_entry_size(const Qcow2Snapshot *sn)
{
    uint32_t extra = MAX(sn->extra_data_size, (uint32_t)QCOW2_SNAPSHOT_EXTRA_SIZE);
    return ALIGN_UP(QCOW2_SNAPSHOT_HEADER_SIZE + (size_t)extra + strlen(sn->id_str) +
                    strlen(sn->name), 8);
}

size_t qcow2_snapshot_encode(const Qcow2Snapshot *sn, uint8_t *buf)
{
    uint32_t extra = MAX(sn->extra_data_size, (uint32_t)QCOW2_SNAPSHOT_EXTRA_SIZE);
    size_t id_len = strlen(sn->id_str), name_len = strlen(sn->name);
    size_t size = qcow2_snapshot_entry_size(sn);

    memset(buf, 0, size);
    stq_be(buf + 0, sn->l1_table_offset);
    stl_be(buf + 8, sn->l1_size);
    stw_be(buf + 12, id_len);
    stw_be(buf + 14, name_len);
    stl_be(buf + 16, sn->date_sec);
    stl_be(buf + 20, sn->date_nsec);
    stq_be(buf + 24, sn->vm_clock_nsec);
    /* The 32-bit field is ignored when the 64-bit one is present, but
     * older readers only see it. */
    stl_be(buf + 32, sn->vm_state_size > UINT32_MAX ? 0 : (uint32_t)sn->vm_state_size);
    stl_be(buf + 36, extra);
    uint8_t *p = buf + QCOW2_SNAPSHOT_HEADER_SIZE;
    stq_be(p + 0, sn->vm_state_size);
    stq_be(p + 8, sn->disk_size);
    stq_be(p + 16, sn->icount);
    if (extra > QCOW2_SNAPSHOT_EXTRA_SIZE && sn->unknown_extra) {
        memcpy(p + QCOW2_SNAPSHOT_EXTRA_SIZE, sn->unknown_extra,
               extra - QCOW2_SNAPSHOT_EXTRA_SIZE);
    }
    p += extra;
    memcpy(p, sn->id_str, id_len);
    memcpy(p + id_len, sn->name, name_len);
    return size;
}

void qcow2_snapshot_clear(Qcow2Snapshot *sn)
{
    free(sn->id_str);
    free(sn->name);
    free(sn->unknown_extra);
    memset(sn, 0, sizeof(*sn));
}

int64_t qcow2_snapshot_decode(Qcow2Snapshot *sn, const uint8_t *buf, size_t len,
                              uint64_t default_disk_size, Error **errp)
{
    memset(sn, 0, sizeof(*sn));
    if (len < QCOW2_SNAPSHOT_HEADER_SIZE) {
        error_setg(errp, "Snapshot table entry is truncated");
        return -EINVAL;
    }
    sn->l1_table_offset = ldq_be(buf + 0);
    sn->l1_size = ldl_be(buf + 8);
    uint32_t id_len = ldw_be(buf + 12);
    uint32_t name_len = ldw_be(buf + 14);
    sn->date_sec = ldl_be(buf + 16);
    sn->date_nsec = ldl_be(buf + 20);
    sn->vm_clock_nsec = ldq_be(buf + 24);
    sn->vm_state_size = ldl_be(buf + 32);
    uint32_t extra = ldl_be(buf + 36);
    if (extra > QCOW2_MAX_SNAPSHOT_EXTRA) {
        error_setg(errp, "Too much extra metadata in snapshot table entry (%" PRIu32
                   " bytes)", extra);
        return -EFBIG;
    }
    size_t need = (size_t)QCOW2_SNAPSHOT_HEADER_SIZE + extra + id_len + name_len;
    if (len < need) {
        error_setg(errp, "Snapshot table entry is truncated");
        return -EINVAL;
    }
    const uint8_t *p = buf + QCOW2_SNAPSHOT_HEADER_SIZE;
    sn->extra_data_size = extra;
    sn->disk_size = default_disk_size;
    sn->icount = UINT64_MAX;
    if (extra >= 8) {
        sn->vm_state_size = ldq_be(p);
    }
    if (extra >= 16) {
        sn->disk_size = ldq_be(p + 8);
    }
    if (extra >= 24) {
        sn->icount = ldq_be(p + 16);
    }
    if (extra > QCOW2_SNAPSHOT_EXTRA_SIZE) {
        sn->unknown_extra = xmalloc(extra - QCOW2_SNAPSHOT_EXTRA_SIZE);
        memcpy(sn->unknown_extra, p + QCOW2_SNAPSHOT_EXTRA_SIZE,
               extra - QCOW2_SNAPSHOT_EXTRA_SIZE);
    }
    p += extra;
    sn->id_str = xstrndup((const char *)p, id_len);
    sn->name = xstrndup((const char *)p + id_len, name_len);
    if (strlen(sn->id_str) != id_len || strlen(sn->name) != name_len) {
        qcow2_snapshot_clear(sn);
        error_setg(errp, "Snapshot ID or name contains a NUL byte");
        return -EINVAL;
    }
    return ALIGN_UP(need, 8);
}

void qcow2_free_snapshots(BDRVQcow2State *s)
{
    for (uint32_t i = 0; i < s->nb_snapshots && s->snapshots; i++) {
        qcow2_snapshot_clear(&s->snapshots[i]);
    }
    free(s->snapshots);
    s->snapshots = NULL;
}

int qcow2_read_snapshots(BDRVQcow2State *s, Error **errp)
{
    uint32_t n = s->nb_snapshots;
    uint64_t offset = s->snapshots_offset;
    /* Largest possible entry: header, max extra, two 64 KiB strings. */
    const size_t max_entry = QCOW2_SNAPSHOT_HEADER_SIZE + QCOW2_MAX_SNAPSHOT_EXTRA + 2 * 65535;
    uint8_t *buf = NULL;
    int ret = 0;

    s->snapshots = XNEW_ARRAY(Qcow2Snapshot, n ? n : 1);
    s->snapshots_size = 0;
    if (n == 0) {
        return 0;
    }
    buf = xmalloc(max_entry);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t used = offset - s->snapshots_offset;
        if (used > QCOW2_MAX_SNAPSHOTS_BYTES - QCOW2_SNAPSHOT_HEADER_SIZE) {
            error_setg(errp, "Snapshot table is too large");
            ret = -EFBIG;
            break;
        }
        uint8_t head[QCOW2_SNAPSHOT_HEADER_SIZE];
        ret = qcow2_file_pread(s, offset, head, sizeof(head), errp);
        if (ret < 0) {
            break;
        }
        size_t len = QCOW2_SNAPSHOT_HEADER_SIZE + (size_t)ldl_be(head + 36) +
                     ldw_be(head + 12) + ldw_be(head + 14);
        if (ldl_be(head + 36) > QCOW2_MAX_SNAPSHOT_EXTRA) {
            len = QCOW2_SNAPSHOT_HEADER_SIZE;  /* decode reports it */
        }
        ret = qcow2_file_pread(s, offset, buf, len, errp);
        if (ret < 0) {
            break;
        }
        int64_t used_bytes = qcow2_snapshot_decode(&s->snapshots[i], buf, len,
                                                   s->bs->total_size, errp);
        if (used_bytes < 0) {
            ret = (int)used_bytes;
            error_prepend(errp, "Snapshot %" PRIu32 ": ", i);
            break;
        }
        /* A damaged L1 location is refused when the snapshot is used
         * (and reported by check), not here: the image stays usable. */
        offset += used_bytes;
    }
    free(buf);
    if (ret < 0) {
        /* Entries past the failure are zeroed; clear what was decoded. */
        qcow2_free_snapshots(s);
        return ret;
    }
    s->snapshots_size = offset - s->snapshots_offset;
    if (s->snapshots_size > QCOW2_MAX_SNAPSHOTS_BYTES) {
        qcow2_free_snapshots(s);
        error_setg(errp, "Snapshot table is too large");
        return -EFBIG;
    }
    return 0;
}

/*
 * Writes 'n' entries to new clusters and switches the header to them;
 * the old table is freed. On success the caller's array becomes the
 * image's (ownership passes).
 */
static int write_snapshot_table(BDRVQcow2State *s, Qcow2Snapshot *tab, uint32_t n,
                                Error **errp)
{
    uint64_t size = 0;
    for (uint32_t i = 0; i < n; i++) {
        size += qcow2_snapshot_entry_size(&tab[i]);
    }
    if (size > QCOW2_MAX_SNAPSHOTS_BYTES) {
        error_setg(errp, "Snapshot table would exceed %" PRIu64 " MiB",
                   QCOW2_MAX_SNAPSHOTS_BYTES / MiB);
        return -EFBIG;
    }
    int64_t new_offset = 0;
    int ret;
    if (n) {
        new_offset = qcow2_alloc_clusters(s, size, errp);
        if (new_offset < 0) {
            return (int)new_offset;
        }
        uint8_t *buf = xmalloc(size);
        uint64_t pos = 0;
        for (uint32_t i = 0; i < n; i++) {
            pos += qcow2_snapshot_encode(&tab[i], buf + pos);
        }
        /* Its refcount and contents stable before the header uses it. */
        ret = qcow2_cache_flush(s->refblock_cache, errp);
        if (ret == 0) {
            ret = qcow2_file_pwrite(s, new_offset, buf, size, errp);
        }
        free(buf);
        if (ret == 0) {
            ret = host_file_sync(s->file, errp);
        }
        if (ret < 0) {
            qcow2_free_clusters(s, new_offset, size, NULL);
            error_prepend(errp, "Could not write the snapshot table: ");
            return ret;
        }
    }
    uint8_t hdr[12];
    stl_be(hdr, n);
    stq_be(hdr + 4, new_offset);
    ret = qcow2_write_header_field(s, QCOW2_HDR_NB_SNAPSHOTS, hdr, sizeof(hdr), true, errp);
    if (ret < 0) {
        if (n) {
            qcow2_free_clusters(s, new_offset, size, NULL);
        }
        return ret;
    }
    uint64_t old_offset = s->snapshots_offset, old_size = s->snapshots_size;
    qcow2_free_snapshots(s);
    s->snapshots = tab;
    s->nb_snapshots = n;
    s->snapshots_offset = new_offset;
    s->snapshots_size = size;
    if (old_size && old_offset) {
        ret = qcow2_free_clusters(s, old_offset, old_size, errp);
    }
    return ret;
}

static Qcow2Snapshot *copy_table(const BDRVQcow2State *s, uint32_t extra_slots)
{
    Qcow2Snapshot *tab = XNEW_ARRAY(Qcow2Snapshot, s->nb_snapshots + extra_slots + 1);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *o = &s->snapshots[i];
        tab[i] = *o;
        tab[i].id_str = xstrdup(o->id_str);
        tab[i].name = xstrdup(o->name);
        if (o->extra_data_size > QCOW2_SNAPSHOT_EXTRA_SIZE && o->unknown_extra) {
            size_t len = o->extra_data_size - QCOW2_SNAPSHOT_EXTRA_SIZE;
            tab[i].unknown_extra = xmalloc(len);
            memcpy(tab[i].unknown_extra, o->unknown_extra, len);
        } else {
            tab[i].unknown_extra = NULL;
            tab[i].extra_data_size = MIN(o->extra_data_size,
                                         (uint32_t)QCOW2_SNAPSHOT_EXTRA_SIZE);
        }
    }
    return tab;
}

static void free_table(Qcow2Snapshot *tab, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        qcow2_snapshot_clear(&tab[i]);
    }
    free(tab);
}

static int find_by_id(const BDRVQcow2State *s, const char *id)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].id_str, id)) {
            return i;
        }
    }
    return -1;
}

static int find_by_name(const BDRVQcow2State *s, const char *name)
{
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if (!strcmp(s->snapshots[i].name, name)) {
            return i;
        }
    }
    return -1;
}

static int find_by_id_or_name(const BDRVQcow2State *s, const char *key)
{
    int i = find_by_id(s, key);
    return i >= 0 ? i : find_by_name(s, key);
}

/* Reads a snapshot's L1 table (host byte order). */
static int read_snapshot_l1(BDRVQcow2State *s, const Qcow2Snapshot *sn, uint64_t **pl1,
                            Error **errp)
{
    *pl1 = NULL;
    if (sn->l1_size > QCOW2_MAX_L1_BYTES / 8) {
        error_setg(errp, "Snapshot '%s' is corrupt: its L1 table is too large", sn->name);
        return -EFBIG;
    }
    if (sn->l1_size && ((sn->l1_table_offset & (s->cluster_size - 1)) ||
                        sn->l1_table_offset == 0 ||
                        sn->l1_table_offset > QCOW2_MAX_HOST_OFFSET)) {
        error_setg(errp, "Snapshot '%s' is corrupt: its L1 table offset %#" PRIx64
                   " is invalid", sn->name, sn->l1_table_offset);
        return -EINVAL;
    }
    uint64_t *l1 = xmalloc(sn->l1_size ? (size_t)sn->l1_size * 8 : 1);
    int ret = 0;
    if (sn->l1_size) {
        ret = qcow2_file_pread(s, sn->l1_table_offset, l1, (uint64_t)sn->l1_size * 8, errp);
    }
    if (ret < 0) {
        free(l1);
        error_prepend(errp, "Could not read the L1 table of snapshot '%s': ", sn->name);
        return ret;
    }
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        l1[i] = be64_to_cpu(l1[i]);
    }
    *pl1 = l1;
    return 0;
}

/* Ends a multi-step update: everything stable, then the dirty bit off
 * again if this operation set it. */
static int finish_update(BDRVQcow2State *s, bool set_dirty, int ret, Error **errp)
{
    Error *local = NULL;
    int ret2 = qcow2_flush_caches(s, &local);
    if (ret2 == 0 && set_dirty) {
        ret2 = qcow2_mark_clean(s, &local);
    }
    if (ret == 0 && ret2 < 0) {
        error_propagate(errp, local);
        return ret2;
    }
    error_free(local);
    return ret;
}

static int begin_update(BDRVQcow2State *s, bool *set_dirty, Error **errp)
{
    *set_dirty = false;
    if (s->corrupt) {
        error_setg(errp, "'%s' is marked corrupt; writes are refused", s->file->filename);
        return -EIO;
    }
    if (s->snapshot_loaded) {
        error_setg(errp, "A snapshot is loaded temporarily; the image is read-only");
        return -EACCES;
    }
    int ret = qcow2_flush_caches(s, errp);
    if (ret == 0 && !s->dirty_set) {
        ret = qcow2_mark_dirty(s, errp);
        *set_dirty = s->dirty_set;
    }
    return ret;
}

/* ---- create ------------------------------------------------------ */

int qcow2_snapshot_create(BlockDriverState *bs, QEMUSnapshotInfo *info, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    bool set_dirty;
    int ret;

    if (s->nb_snapshots >= QCOW2_MAX_SNAPSHOTS) {
        error_setg(errp, "Too many snapshots (at most %d)", QCOW2_MAX_SNAPSHOTS);
        return -EFBIG;
    }
    if (strlen(info->name) > 65535 || strlen(info->id_str) > 65535) {
        error_setg(errp, "Snapshot name too long");
        return -EINVAL;
    }
    if (info->id_str[0] && find_by_id(s, info->id_str) >= 0) {
        error_setg(errp, "Snapshot with ID '%s' already exists", info->id_str);
        return -EEXIST;
    }
    if (!info->id_str[0]) {
        /* New ids are the largest numeric id plus one. */
        unsigned long max_id = 0;
        for (uint32_t i = 0; i < s->nb_snapshots; i++) {
            unsigned long id = strtoul(s->snapshots[i].id_str, NULL, 10);
            max_id = MAX(max_id, id);
        }
        snprintf(info->id_str, sizeof(info->id_str), "%lu", max_id + 1);
    }

    ret = begin_update(s, &set_dirty, errp);
    if (ret < 0) {
        return ret;
    }

    Qcow2Snapshot *tab = copy_table(s, 1);
    Qcow2Snapshot *sn = &tab[s->nb_snapshots];
    sn->id_str = xstrdup(info->id_str);
    sn->name = xstrdup(info->name);
    sn->disk_size = bs->total_size;
    sn->vm_state_size = info->vm_state_size;
    sn->date_sec = info->date_sec;
    sn->date_nsec = info->date_nsec;
    sn->vm_clock_nsec = info->vm_clock_nsec;
    sn->icount = info->icount;
    sn->extra_data_size = QCOW2_SNAPSHOT_EXTRA_SIZE;
    sn->l1_size = s->l1_size;

    uint64_t l1_bytes = (uint64_t)s->l1_size * 8;
    int64_t l1_offset = 0;
    bool refs_raised = false;
    uint64_t *saved_l1 = xmalloc(l1_bytes ? l1_bytes : 1);
    memcpy(saved_l1, s->l1_table, l1_bytes);

    /* 1. A copy of the active L1 in new clusters. */
    if (l1_bytes) {
        l1_offset = qcow2_alloc_clusters(s, l1_bytes, errp);
        if (l1_offset < 0) {
            ret = (int)l1_offset;
            goto fail;
        }
        uint64_t *be = xmalloc(l1_bytes);
        for (uint32_t i = 0; i < s->l1_size; i++) {
            be[i] = cpu_to_be64(s->l1_table[i] & ~QCOW_OFLAG_COPIED);
        }
        ret = qcow2_file_pwrite(s, l1_offset, be, l1_bytes, errp);
        free(be);
        if (ret < 0) {
            goto fail;
        }
    }
    sn->l1_table_offset = l1_offset;

    /* 2. Raise the refcounts of everything it reaches, stable on disk. */
    ret = qcow2_update_tree_refcounts(s, s->l1_table, s->l1_size, 1, errp);
    if (ret < 0) {
        goto fail;
    }
    refs_raised = true;
    ret = qcow2_flush_caches(s, errp);
    if (ret < 0) {
        goto fail;
    }

    /* 3. Everything is shared now: no COPIED flags in the active tree. */
    ret = qcow2_fix_copied_flags(s, errp);
    if (ret == 0) {
        ret = qcow2_flush_caches(s, errp);
    }
    if (ret < 0) {
        goto fail;
    }

    /* 4. The new table, then the header pointing at it. */
    uint32_t n = s->nb_snapshots + 1;
    ret = write_snapshot_table(s, tab, n, errp);
    if (ret < 0) {
        goto fail;
    }
    tab = NULL;

    /* 5. The VM state now lives in the snapshot only. */
    if (info->vm_state_size) {
        uint64_t span = (uint64_t)s->l2_size << s->cluster_bits;
        uint64_t end = s->l1_vm_state_index + DIV_ROUND_UP(info->vm_state_size, span);
        Error *local = NULL;
        if (qcow2_drop_l1_range(s, s->l1_vm_state_index, MIN(end, (uint64_t)s->l1_size),
                                &local) < 0) {
            /* The snapshot exists; a failure here only leaks clusters. */
            warn_report_err(local);
        }
    }
    free(saved_l1);
    return finish_update(s, set_dirty, 0, errp);

fail:
    if (refs_raised) {
        Error *local = NULL;
        qcow2_update_tree_refcounts(s, saved_l1, s->l1_size, -1, &local);
        error_free(local);
        qcow2_fix_copied_flags(s, NULL);
    }
    if (l1_offset > 0) {
        qcow2_free_clusters(s, l1_offset, l1_bytes, NULL);
    }
    if (tab) {
        free_table(tab, s->nb_snapshots + 1);
    }
    free(saved_l1);
    return finish_update(s, set_dirty, ret, errp);
}

/* ---- goto -------------------------------------------------------- */

int qcow2_snapshot_goto(BlockDriverState *bs, const char *id_or_name, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    bool set_dirty;
    int idx = find_by_id_or_name(s, id_or_name);
    if (idx < 0) {
        error_setg(errp, "Can't find snapshot '%s'", id_or_name);
        return -ENOENT;
    }
    Qcow2Snapshot *sn = &s->snapshots[idx];
    if (sn->disk_size % 512 || qcow2_size_to_l1(s, sn->disk_size) > sn->l1_size) {
        error_setg(errp, "Snapshot '%s' is inconsistent (disk size %" PRIu64
                   " does not fit its L1 table)", sn->name, sn->disk_size);
        return -EINVAL;
    }
    int ret = begin_update(s, &set_dirty, errp);
    if (ret < 0) {
        return ret;
    }

    uint64_t *sn_l1 = NULL, *old_l1 = NULL;
    uint32_t old_size = 0;
    bool refs_raised = false;
    ret = read_snapshot_l1(s, sn, &sn_l1, errp);
    if (ret < 0) {
        goto out;
    }
    /* 1. Room for the snapshot's L1 in the active one. */
    ret = qcow2_grow_l1_table(s, sn->l1_size, true, errp);
    if (ret < 0) {
        goto out;
    }
    /* 2. The snapshot's tree gains a reference (the active image). */
    ret = qcow2_update_tree_refcounts(s, sn_l1, sn->l1_size, 1, errp);
    if (ret < 0) {
        goto out;
    }
    refs_raised = true;
    ret = qcow2_flush_caches(s, errp);
    if (ret < 0) {
        goto out;
    }

    /* 3. Switch the active L1 contents; the old tree is kept in memory. */
    old_size = s->l1_size;
    old_l1 = xmalloc((size_t)old_size * 8 + 8);
    memcpy(old_l1, s->l1_table, (size_t)old_size * 8);
    memset(s->l1_table, 0, (size_t)s->l1_size * 8);
    for (uint32_t i = 0; i < sn->l1_size; i++) {
        s->l1_table[i] = sn_l1[i] & ~QCOW_OFLAG_COPIED;
    }
    ret = qcow2_write_l1_entries(s, 0, s->l1_size, errp);
    if (ret < 0) {
        memcpy(s->l1_table, old_l1, (size_t)old_size * 8);
        goto out;
    }
    refs_raised = false;  /* now owned by the active L1 */
    if (sn->disk_size != bs->total_size) {
        uint8_t be[8];
        stq_be(be, sn->disk_size);
        ret = qcow2_write_header_field(s, QCOW2_HDR_SIZE, be, 8, true, errp);
        if (ret < 0) {
            goto out;
        }
        bs->total_size = sn->disk_size;
        s->l1_vm_state_index = qcow2_size_to_l1(s, sn->disk_size);
    }

    /* 4. The old active tree loses its reference. */
    ret = qcow2_update_tree_refcounts(s, old_l1, old_size, -1, errp);
    if (ret < 0) {
        goto out;
    }
    /* 5. COPIED where the refcount dropped back to one. */
    ret = qcow2_fix_copied_flags(s, errp);

out:
    if (refs_raised) {
        qcow2_update_tree_refcounts(s, sn_l1, sn->l1_size, -1, NULL);
    }
    free(sn_l1);
    free(old_l1);
    return finish_update(s, set_dirty, ret, errp);
}

/* ---- delete ------------------------------------------------------ */

int qcow2_snapshot_delete(BlockDriverState *bs, const char *id, const char *name,
                          Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int idx = -1;
    bool set_dirty;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if ((!id || !strcmp(s->snapshots[i].id_str, id)) &&
            (!name || !strcmp(s->snapshots[i].name, name))) {
            idx = i;
            break;
        }
    }
    if (idx < 0) {
        error_setg(errp, "Can't find the snapshot");
        return -ENOENT;
    }
    int ret = begin_update(s, &set_dirty, errp);
    if (ret < 0) {
        return ret;
    }
    Qcow2Snapshot victim = s->snapshots[idx];
    uint64_t *l1 = NULL;
    Error *l1_err = NULL;
    ret = read_snapshot_l1(s, &victim, &l1, &l1_err);
    if (ret == -EINVAL || ret == -EFBIG) {
        /* A damaged entry can still be removed; what it referenced is
         * left for 'check -r leaks' to reclaim. */
        warn_report("%s", error_get_pretty(l1_err));
        error_free(l1_err);
        victim.l1_size = 0;
        ret = 0;
    } else if (ret < 0) {
        error_propagate(errp, l1_err);
        return finish_update(s, set_dirty, ret, errp);
    }
    victim.id_str = xstrdup(victim.id_str);
    victim.name = xstrdup(victim.name);
    victim.unknown_extra = NULL;

    /* 1. The table without it; from here on it is gone. */
    Qcow2Snapshot *tab = copy_table(s, 0);
    qcow2_snapshot_clear(&tab[idx]);
    memmove(&tab[idx], &tab[idx + 1], (s->nb_snapshots - idx - 1) * sizeof(*tab));
    uint32_t n = s->nb_snapshots - 1;
    ret = write_snapshot_table(s, tab, n, errp);
    if (ret < 0) {
        free_table(tab, n);
        goto out;
    }
    /* 2. Its references go; clusters only it used are freed. Failing
     * here only leaks clusters. */
    ret = qcow2_update_tree_refcounts(s, l1, victim.l1_size, -1, errp);
    if (ret == 0 && victim.l1_size) {
        ret = qcow2_free_clusters(s, victim.l1_table_offset, (uint64_t)victim.l1_size * 8,
                                  errp);
    }
    /* 3. COPIED where the active image is now the only user. */
    if (ret == 0) {
        ret = qcow2_fix_copied_flags(s, errp);
    }
out:
    free(l1);
    qcow2_snapshot_clear(&victim);
    return finish_update(s, set_dirty, ret, errp);
}

/* ---- list and load_tmp ------------------------------------------- */

int qcow2_snapshot_list(BlockDriverState *bs, QEMUSnapshotInfo **psn_tab, Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    QEMUSnapshotInfo *tab = XNEW_ARRAY(QEMUSnapshotInfo, s->nb_snapshots ? s->nb_snapshots : 1);
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        const Qcow2Snapshot *sn = &s->snapshots[i];
        snprintf(tab[i].id_str, sizeof(tab[i].id_str), "%s", sn->id_str);
        snprintf(tab[i].name, sizeof(tab[i].name), "%s", sn->name);
        tab[i].vm_state_size = sn->vm_state_size;
        tab[i].date_sec = sn->date_sec;
        tab[i].date_nsec = sn->date_nsec;
        tab[i].vm_clock_nsec = sn->vm_clock_nsec;
        tab[i].icount = sn->icount;
        tab[i].disk_size = sn->disk_size;
    }
    *psn_tab = tab;
    return s->nb_snapshots;
}

int qcow2_snapshot_load_tmp(BlockDriverState *bs, const char *id, const char *name,
                            Error **errp)
{
    BDRVQcow2State *s = bs->opaque;
    int idx = -1;
    for (uint32_t i = 0; i < s->nb_snapshots; i++) {
        if ((!id || !strcmp(s->snapshots[i].id_str, id)) &&
            (!name || !strcmp(s->snapshots[i].name, name))) {
            idx = i;
            break;
        }
    }
    if (idx < 0 && id && !name) {
        idx = find_by_name(s, id);  /* "-l NAME" style lookups */
    }
    if (idx < 0) {
        error_setg(errp, "Can't find snapshot '%s'", id ? id : name ? name : "");
        return -ENOENT;
    }
    const Qcow2Snapshot *sn = &s->snapshots[idx];
    uint64_t *l1;
    int ret = read_snapshot_l1(s, sn, &l1, errp);
    if (ret < 0) {
        return ret;
    }
    free(s->l1_table);
    s->l1_table = l1;
    s->l1_size = sn->l1_size;
    s->l1_table_offset = sn->l1_table_offset;
    s->snapshot_loaded = true;
    if (qcow2_size_to_l1(s, bs->total_size) > s->l1_size) {
        /* Reads past the snapshot's L1 see unallocated clusters. */
    }
    return 0;
}
