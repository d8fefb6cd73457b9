/*
 * Write-back cache for cluster-sized metadata tables (L2 tables and
 * refcount blocks), kept in on-disk (big-endian) form. Entries are found
 * through a small hash; eviction is least-recently-used among entries
 * nobody holds. Ordering between caches is expressed with dependencies:
 * before this cache writes anything, the cache it depends on is written
 * and synced (see qcow2.h for why).
 */
#include "qcow2.h"

typedef struct Qcow2CacheEntry {
    uint64_t offset;        /* 0 = empty slot */
    int ref;                /* holders; only unheld entries are evicted */
    bool dirty;
    bool stale;             /* cluster was freed while held: drop on put */
    uint64_t lru;
    int hash_next;          /* next entry in the bucket chain, -1 = end */
} Qcow2CacheEntry;

struct Qcow2Cache {
    BDRVQcow2State *s;
    const char *what;       /* "L2 table" or "refcount block", for messages */
    int size;
    Qcow2CacheEntry *entries;
    uint8_t *mem;           /* size tables of cluster_size bytes */
    int *buckets;
    int nbuckets;
    uint64_t lru_counter;
    int last_hit;
    Qcow2Cache *depends;
    bool depends_on_flush;
};

static inline void *entry_table(const Qcow2Cache *c, int i)
{
    return c->mem + (size_t)i * c->s->cluster_size;
}

static int table_index(const Qcow2Cache *c, const void *table)
{
    size_t off = (const uint8_t *)table - c->mem;
    return (int)(off >> c->s->cluster_bits);
}

static int bucket_of(const Qcow2Cache *c, uint64_t offset)
{
    uint64_t k = offset >> c->s->cluster_bits;
    k *= 0x9e3779b97f4a7c15ULL;
    return (int)((k >> 32) % (uint64_t)c->nbuckets);
}

Qcow2Cache *qcow2_cache_create(BDRVQcow2State *s, int num_tables, const char *what)
{
    Qcow2Cache *c = XNEW(Qcow2Cache);
    c->s = s;
    c->what = what;
    c->size = num_tables;
    c->entries = XNEW_ARRAY(Qcow2CacheEntry, num_tables);
    c->mem = xmemalign_zero(4096, (size_t)num_tables * s->cluster_size);
    c->nbuckets = num_tables * 2 + 1;
    c->buckets = xmalloc(sizeof(int) * c->nbuckets);
    for (int i = 0; i < c->nbuckets; i++) {
        c->buckets[i] = -1;
    }
    for (int i = 0; i < num_tables; i++) {
        c->entries[i].hash_next = -1;
    }
    c->last_hit = 0;
    return c;
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    if (c) {
        free(c->entries);
        free(c->mem);
        free(c->buckets);
        free(c);
    }
}

static int lookup(Qcow2Cache *c, uint64_t offset)
{
    const Qcow2CacheEntry *hit = &c->entries[c->last_hit];
    if (hit->offset == offset && !hit->stale) {
        return c->last_hit;
    }
    for (int i = c->buckets[bucket_of(c, offset)]; i >= 0; i = c->entries[i].hash_next) {
        if (c->entries[i].offset == offset && !c->entries[i].stale) {
            return i;
        }
    }
    return -1;
}

static void hash_remove(Qcow2Cache *c, int i)
{
    int *link = &c->buckets[bucket_of(c, c->entries[i].offset)];
    while (*link >= 0) {
        if (*link == i) {
            *link = c->entries[i].hash_next;
            break;
        }
        link = &c->entries[*link].hash_next;
    }
    c->entries[i].hash_next = -1;
    c->entries[i].offset = 0;
    c->entries[i].stale = false;
}

static void hash_insert(Qcow2Cache *c, int i, uint64_t offset)
{
    int b = bucket_of(c, offset);
    c->entries[i].offset = offset;
    c->entries[i].hash_next = c->buckets[b];
    c->buckets[b] = i;
}

static int flush_dependency(Qcow2Cache *c, Error **errp)
{
    int ret = qcow2_cache_flush(c->depends, errp);
    if (ret < 0) {
        return ret;
    }
    ret = host_file_sync(c->s->file, errp);
    if (ret < 0) {
        return ret;
    }
    c->depends = NULL;
    c->depends_on_flush = false;
    return 0;
}

static int entry_flush(Qcow2Cache *c, int i, Error **errp)
{
    Qcow2CacheEntry *e = &c->entries[i];
    int ret;
    if (!e->dirty || !e->offset) {
        return 0;
    }
    if (c->depends) {
        ret = flush_dependency(c, errp);
    } else if (c->depends_on_flush) {
        ret = host_file_sync(c->s->file, errp);
        if (ret == 0) {
            c->depends_on_flush = false;
        }
    } else {
        ret = 0;
    }
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_check_overlap(c->s, e->offset, c->s->cluster_size, false, errp);
    if (ret < 0) {
        return ret;
    }
    ret = qcow2_file_pwrite(c->s, e->offset, entry_table(c, i), c->s->cluster_size, errp);
    if (ret < 0) {
        error_prepend(errp, "Could not write %s: ", c->what);
        return ret;
    }
    e->dirty = false;
    return 0;
}

int qcow2_cache_flush(Qcow2Cache *c, Error **errp)
{
    int result = 0;
    for (int i = 0; i < c->size; i++) {
        Error *local = NULL;
        int ret = entry_flush(c, i, &local);
        if (ret < 0) {
            /* Keep going: write what we can, report the first failure. */
            if (result == 0) {
                result = ret;
                error_propagate(errp, local);
            } else {
                error_free(local);
            }
        }
    }
    return result;
}

int qcow2_cache_set_dependency(Qcow2Cache *c, Qcow2Cache *dependency, Error **errp)
{
    int ret;
    /* Chains would make flushes recursive and cycles impossible to
     * order: settle the dependency's own dependency first. */
    if (dependency->depends) {
        ret = flush_dependency(dependency, errp);
        if (ret < 0) {
            return ret;
        }
    }
    if (c->depends && c->depends != dependency) {
        ret = flush_dependency(c, errp);
        if (ret < 0) {
            return ret;
        }
    }
    c->depends = dependency;
    return 0;
}

void qcow2_cache_depends_on_flush(Qcow2Cache *c)
{
    c->depends_on_flush = true;
}

bool qcow2_cache_is_dirty(const Qcow2Cache *c)
{
    for (int i = 0; i < c->size; i++) {
        if (c->entries[i].dirty) {
            return true;
        }
    }
    return false;
}

bool qcow2_cache_contains(const Qcow2Cache *c, uint64_t offset)
{
    return lookup((Qcow2Cache *)c, offset) >= 0;
}

static int find_victim(Qcow2Cache *c)
{
    int best = -1;
    uint64_t best_lru = UINT64_MAX;
    for (int i = 0; i < c->size; i++) {
        const Qcow2CacheEntry *e = &c->entries[i];
        if (e->ref) {
            continue;
        }
        if (!e->offset) {
            return i;
        }
        if (e->lru < best_lru) {
            best_lru = e->lru;
            best = i;
        }
    }
    return best;
}

int qcow2_cache_get(Qcow2Cache *c, uint64_t offset, bool fresh, void **table, Error **errp)
{
    BDRVQcow2State *s = c->s;
    *table = NULL;
    if (offset == 0 || (offset & (s->cluster_size - 1))) {
        error_setg(errp, "Invalid %s offset %#" PRIx64, c->what, offset);
        return -EIO;
    }

    int i = lookup(c, offset);
    if (i >= 0) {
        if (fresh) {
            memset(entry_table(c, i), 0, s->cluster_size);
        }
        goto found;
    }

    i = find_victim(c);
    if (i < 0) {
        error_setg(errp, "%s cache exhausted (all %d entries in use)", c->what, c->size);
        return -ENOSPC;
    }
    int ret = entry_flush(c, i, errp);
    if (ret < 0) {
        return ret;
    }
    if (c->entries[i].offset) {
        hash_remove(c, i);
    }
    if (fresh) {
        memset(entry_table(c, i), 0, s->cluster_size);
    } else {
        ret = qcow2_file_pread(s, offset, entry_table(c, i), s->cluster_size, errp);
        if (ret < 0) {
            error_prepend(errp, "Could not read %s: ", c->what);
            return ret;
        }
    }
    hash_insert(c, i, offset);
    c->entries[i].dirty = false;

found:
    c->entries[i].ref++;
    c->entries[i].lru = ++c->lru_counter;
    c->last_hit = i;
    *table = entry_table(c, i);
    return 0;
}

void qcow2_cache_put(Qcow2Cache *c, void **table)
{
    if (*table) {
        int i = table_index(c, *table);
        if (c->entries[i].ref > 0) {
            c->entries[i].ref--;
        }
        if (c->entries[i].ref == 0 && c->entries[i].stale) {
            hash_remove(c, i);
        }
        *table = NULL;
    }
}

void qcow2_cache_mark_dirty(Qcow2Cache *c, void *table)
{
    c->entries[table_index(c, table)].dirty = true;
}

void qcow2_cache_discard(Qcow2Cache *c, uint64_t offset)
{
    int i = lookup(c, offset);
    if (i >= 0 && c->entries[i].ref == 0) {
        c->entries[i].dirty = false;
        hash_remove(c, i);
    } else if (i >= 0) {
        /* Still held by a caller that is about to drop it: it must not
         * reach the disk any more, nor be found again. */
        c->entries[i].dirty = false;
        c->entries[i].stale = true;
    }
}

void qcow2_cache_invalidate(Qcow2Cache *c)
{
    for (int i = 0; i < c->size; i++) {
        c->entries[i].dirty = false;
        if (c->entries[i].offset) {
            hash_remove(c, i);
        }
        c->entries[i].ref = 0;
    }
    c->depends = NULL;
    c->depends_on_flush = false;
}
