/*
 * The "ram" live section: guest RAM blocks in QEMU's RAM_SAVE_FLAG
 * encoding (version 4).
 *
 * Every record starts with a be64 whose low 12 bits are flags and whose
 * high bits are a page offset inside a block (or, for MEM_SIZE, the
 * total RAM size). A page record names its block unless CONTINUE says
 * it is the block of the previous page. Zero pages travel as a fill
 * byte, the others as 4096 raw bytes, handed to the QEMUFile without a
 * copy. A per-block dirty bitmap says which pages still have to be sent,
 * so a save can run in several passes.
 */
#include <stdio.h>

#include "migration/savevm.h"
#include "ram-internal.h"

#define RAM_SAVE_FLAG_FULL      0x01   /* obsolete, never valid */
#define RAM_SAVE_FLAG_ZERO      0x02
#define RAM_SAVE_FLAG_MEM_SIZE  0x04
#define RAM_SAVE_FLAG_PAGE      0x08
#define RAM_SAVE_FLAG_EOS       0x10
#define RAM_SAVE_FLAG_CONTINUE  0x20

#define RAM_SECTION_VERSION 4
#define BITS_PER_WORD 64

struct RAMBlock {
    char idstr[256];
    uint8_t *host;
    uint64_t size;
    uint64_t npages;
    uint64_t *dirty;       /* one bit per page */
    uint64_t ndirty;
    RAMBlock *next;
};

static struct {
    RAMBlock *head;
    bool section_registered;
    uint64_t iterate_pages;
    /* saving */
    RAMBlock *last_sent;
    RAMBlock *cursor_block;
    uint64_t cursor_page;
    /* loading */
    RAMBlock *last_loaded;
} ram_state = { .iterate_pages = 65536 };

static int ram_save_setup(QEMUFile *f, void *opaque, Error **errp);
static int ram_save_iterate(QEMUFile *f, void *opaque, Error **errp);
static int ram_save_complete(QEMUFile *f, void *opaque, Error **errp);
static uint64_t ram_save_pending(void *opaque);
static int ram_load_setup(QEMUFile *f, void *opaque, Error **errp);
static int ram_load(QEMUFile *f, void *opaque, int version_id, Error **errp);

static const SaveVMHandlers ram_handlers = {
    .save_setup = ram_save_setup,
    .save_live_iterate = ram_save_iterate,
    .save_live_complete = ram_save_complete,
    .save_live_pending = ram_save_pending,
    .load_setup = ram_load_setup,
    .load_state = ram_load,
};

/* ---- blocks ------------------------------------------------------------ */

RAMBlock *ram_block_find(const char *name)
{
    for (RAMBlock *rb = ram_state.head; rb; rb = rb->next) {
        if (strcmp(rb->idstr, name) == 0) {
            return rb;
        }
    }
    return NULL;
}

RAMBlock *ram_block_register(const char *name, void *host, uint64_t size, Error **errp)
{
    size_t len = strlen(name);
    if (len == 0 || len > 255) {
        error_setg(errp, "RAM block name '%s' must be 1 to 255 bytes long", name);
        return NULL;
    }
    if (!size || size % TARGET_PAGE_SIZE) {
        error_setg(errp, "RAM block '%s': size 0x%" PRIx64 " is not a positive multiple "
                   "of the page size", name, size);
        return NULL;
    }
    if (ram_block_find(name)) {
        error_setg(errp, "RAM block '%s' is already registered", name);
        return NULL;
    }
    if (!ram_state.section_registered) {
        if (register_savevm_live("ram", 0, RAM_SECTION_VERSION, &ram_handlers, NULL) < 0) {
            error_setg(errp, "Could not register the RAM section");
            return NULL;
        }
        ram_state.section_registered = true;
    }
    RAMBlock *rb = XNEW(RAMBlock);
    memcpy(rb->idstr, name, len + 1);
    rb->host = host;
    rb->size = size;
    rb->npages = size / TARGET_PAGE_SIZE;
    rb->dirty = XNEW_ARRAY(uint64_t, DIV_ROUND_UP(rb->npages, BITS_PER_WORD));
    RAMBlock **pp = &ram_state.head;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = rb;
    return rb;
}

static void ram_block_free(RAMBlock *rb)
{
    free(rb->dirty);
    free(rb);
}

void ram_block_unregister(RAMBlock *rb)
{
    for (RAMBlock **pp = &ram_state.head; *pp; pp = &(*pp)->next) {
        if (*pp == rb) {
            *pp = rb->next;
            if (ram_state.last_sent == rb) {
                ram_state.last_sent = NULL;
            }
            if (ram_state.last_loaded == rb) {
                ram_state.last_loaded = NULL;
            }
            if (ram_state.cursor_block == rb) {
                ram_state.cursor_block = NULL;
            }
            ram_block_free(rb);
            return;
        }
    }
}

void ram_registry_reset(void)
{
    while (ram_state.head) {
        RAMBlock *rb = ram_state.head;
        ram_state.head = rb->next;
        ram_block_free(rb);
    }
    ram_state.section_registered = false;
    ram_state.iterate_pages = 65536;
    ram_state.last_sent = ram_state.cursor_block = ram_state.last_loaded = NULL;
    ram_state.cursor_page = 0;
}

void ram_set_iterate_pages(uint64_t pages)
{
    ram_state.iterate_pages = pages ? pages : 1;
}

void ram_block_set_dirty(RAMBlock *rb, uint64_t offset, uint64_t len)
{
    if (!len || offset >= rb->size) {
        return;
    }
    uint64_t first = offset / TARGET_PAGE_SIZE;
    uint64_t last = (MIN(offset + len, rb->size) - 1) / TARGET_PAGE_SIZE;
    for (uint64_t p = first; p <= last; p++) {
        uint64_t bit = 1ULL << (p % BITS_PER_WORD);
        if (!(rb->dirty[p / BITS_PER_WORD] & bit)) {
            rb->dirty[p / BITS_PER_WORD] |= bit;
            rb->ndirty++;
        }
    }
}

/* ---- saving ------------------------------------------------------------ */

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *w = (const uint64_t *)p;
    for (size_t i = 0; i < TARGET_PAGE_SIZE / 8; i += 32) {
        uint64_t acc = 0;
        for (size_t j = 0; j < 32; j++) {
            acc |= w[i + j];
        }
        if (acc) {
            return false;
        }
    }
    return true;
}

static void save_page_header(QEMUFile *f, RAMBlock *rb, uint64_t offset)
{
    if (rb == ram_state.last_sent) {
        qemu_put_be64(f, offset | RAM_SAVE_FLAG_CONTINUE);
        return;
    }
    size_t len = strlen(rb->idstr);
    qemu_put_be64(f, offset);
    qemu_put_byte(f, (int)len);
    qemu_put_buffer(f, (const uint8_t *)rb->idstr, len);
    ram_state.last_sent = rb;
}

static void save_page(QEMUFile *f, RAMBlock *rb, uint64_t page)
{
    uint64_t offset = page * TARGET_PAGE_SIZE;
    const uint8_t *p = rb->host + offset;
    if (page_is_zero(p)) {
        save_page_header(f, rb, offset | RAM_SAVE_FLAG_ZERO);
        qemu_put_byte(f, 0);
    } else {
        save_page_header(f, rb, offset | RAM_SAVE_FLAG_PAGE);
        qemu_put_buffer_nocopy(f, p, TARGET_PAGE_SIZE);
    }
}

/* Sends up to 'budget' dirty pages from the cursor on, clearing their
 * bits. Returns the number sent. */
static uint64_t send_dirty_pages(QEMUFile *f, uint64_t budget)
{
    uint64_t sent = 0;
    if (!ram_state.cursor_block) {
        ram_state.cursor_block = ram_state.head;
        ram_state.cursor_page = 0;
    }
    /* One full round over every block at most. */
    for (RAMBlock *rb = ram_state.cursor_block; rb && sent < budget; ) {
        uint64_t page = ram_state.cursor_page;
        while (page < rb->npages && sent < budget && rb->ndirty) {
            uint64_t w = rb->dirty[page / BITS_PER_WORD] >> (page % BITS_PER_WORD);
            if (!w) {
                page = ALIGN_DOWN(page, BITS_PER_WORD) + BITS_PER_WORD;
                continue;
            }
            page += (uint64_t)ctz64(w);
            if (page >= rb->npages) {
                break;
            }
            rb->dirty[page / BITS_PER_WORD] &= ~(1ULL << (page % BITS_PER_WORD));
            rb->ndirty--;
            save_page(f, rb, page);
            sent++;
            page++;
            if (qemu_file_get_error(f)) {
                return sent;
            }
        }
        if (sent >= budget && page < rb->npages) {
            ram_state.cursor_block = rb;
            ram_state.cursor_page = page;
            return sent;
        }
        rb = rb->next;
        ram_state.cursor_block = rb;
        ram_state.cursor_page = 0;
    }
    return sent;
}

static uint64_t total_dirty(void)
{
    uint64_t n = 0;
    for (RAMBlock *rb = ram_state.head; rb; rb = rb->next) {
        n += rb->ndirty;
    }
    return n;
}

static int ram_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    uint64_t total = 0;
    for (RAMBlock *rb = ram_state.head; rb; rb = rb->next) {
        total += rb->size;
        /* Everything is dirty at the start of a save. */
        memset(rb->dirty, 0xff, DIV_ROUND_UP(rb->npages, BITS_PER_WORD) * sizeof(uint64_t));
        if (rb->npages % BITS_PER_WORD) {
            rb->dirty[rb->npages / BITS_PER_WORD] = (1ULL << (rb->npages % BITS_PER_WORD)) - 1;
        }
        rb->ndirty = rb->npages;
    }
    ram_state.last_sent = NULL;
    ram_state.cursor_block = NULL;
    ram_state.cursor_page = 0;

    qemu_put_be64(f, total | RAM_SAVE_FLAG_MEM_SIZE);
    for (RAMBlock *rb = ram_state.head; rb; rb = rb->next) {
        size_t len = strlen(rb->idstr);
        qemu_put_byte(f, (int)len);
        qemu_put_buffer(f, (const uint8_t *)rb->idstr, len);
        qemu_put_be64(f, rb->size);
    }
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    return 0;
}

static int ram_save_iterate(QEMUFile *f, void *opaque, Error **errp)
{
    send_dirty_pages(f, ram_state.iterate_pages);
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    return total_dirty() == 0 ? 1 : 0;
}

static int ram_save_complete(QEMUFile *f, void *opaque, Error **errp)
{
    while (total_dirty() && !qemu_file_get_error(f)) {
        send_dirty_pages(f, UINT64_MAX);
    }
    qemu_put_be64(f, RAM_SAVE_FLAG_EOS);
    return 0;
}

static uint64_t ram_save_pending(void *opaque)
{
    return total_dirty() * TARGET_PAGE_SIZE;
}

/* ---- loading ----------------------------------------------------------- */

static int ram_load_setup(QEMUFile *f, void *opaque, Error **errp)
{
    ram_state.last_loaded = NULL;
    return 0;
}

static int read_block_name(QEMUFile *f, char *name)
{
    uint8_t len = qemu_get_byte(f);
    qemu_get_buffer(f, (uint8_t *)name, len);
    name[len] = 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f) {
            name[i] = '?';
        }
    }
    return qemu_file_get_error(f);
}

static RAMBlock *block_from_stream(QEMUFile *f, unsigned flags, Error **errp)
{
    if (flags & RAM_SAVE_FLAG_CONTINUE) {
        if (!ram_state.last_loaded) {
            error_setg(errp, "RAM page continues a block, but no block was named before");
        }
        return ram_state.last_loaded;
    }
    char name[256];
    if (read_block_name(f, name) < 0) {
        qemu_file_get_error_obj(f, errp);
        return NULL;
    }
    RAMBlock *rb = ram_block_find(name);
    if (!rb) {
        error_setg(errp, "Unknown RAM block '%s'", name);
        return NULL;
    }
    ram_state.last_loaded = rb;
    return rb;
}

static int load_mem_size(QEMUFile *f, uint64_t total, Error **errp)
{
    while (total) {
        char name[256];
        if (read_block_name(f, name) < 0) {
            return qemu_file_get_error_obj(f, errp);
        }
        uint64_t len = qemu_get_be64(f);
        if (qemu_file_get_error(f)) {
            return qemu_file_get_error_obj(f, errp);
        }
        RAMBlock *rb = ram_block_find(name);
        if (!rb) {
            error_setg(errp, "Unknown RAM block '%s'", name);
            return -EINVAL;
        }
        if (len != rb->size) {
            error_setg(errp, "RAM block '%s' has size 0x%" PRIx64 " in the stream, "
                       "but 0x%" PRIx64 " here", name, len, rb->size);
            return -EINVAL;
        }
        if (len > total) {
            error_setg(errp, "RAM block list is longer than its announced total");
            return -EINVAL;
        }
        total -= len;
    }
    return 0;
}

static int ram_load(QEMUFile *f, void *opaque, int version_id, Error **errp)
{
    bool dry = qemu_file_is_validating(f);
    if (version_id != RAM_SECTION_VERSION) {
        error_setg(errp, "RAM section version %d is not supported (only %d)",
                   version_id, RAM_SECTION_VERSION);
        return -EINVAL;
    }
    for (;;) {
        uint64_t v = qemu_get_be64(f);
        if (qemu_file_get_error(f)) {
            return qemu_file_get_error_obj(f, errp);
        }
        unsigned flags = (unsigned)(v & (TARGET_PAGE_SIZE - 1));
        uint64_t addr = v & ~(uint64_t)(TARGET_PAGE_SIZE - 1);
        RAMBlock *rb;
        int ret;

        switch (flags & ~RAM_SAVE_FLAG_CONTINUE) {
        case RAM_SAVE_FLAG_MEM_SIZE:
            ret = load_mem_size(f, addr, errp);
            if (ret < 0) {
                return ret;
            }
            break;
        case RAM_SAVE_FLAG_ZERO:
        case RAM_SAVE_FLAG_PAGE:
            rb = block_from_stream(f, flags, errp);
            if (!rb) {
                return -EINVAL;
            }
            if (addr >= rb->size) {
                error_setg(errp, "RAM page offset 0x%" PRIx64 " is beyond the end of "
                           "block '%s' (size 0x%" PRIx64 ")", addr, rb->idstr, rb->size);
                return -EINVAL;
            }
            if (flags & RAM_SAVE_FLAG_ZERO) {
                uint8_t ch = qemu_get_byte(f);
                uint8_t *p = rb->host + addr;
                if (!dry && !qemu_file_get_error(f) && (ch != 0 || !page_is_zero(p))) {
                    memset(p, ch, TARGET_PAGE_SIZE);
                }
            } else if (dry) {
                qemu_file_skip(f, TARGET_PAGE_SIZE);
            } else {
                qemu_get_buffer(f, rb->host + addr, TARGET_PAGE_SIZE);
            }
            if (qemu_file_get_error(f)) {
                return qemu_file_get_error_obj(f, errp);
            }
            break;
        case RAM_SAVE_FLAG_EOS:
            return 0;
        default:
            error_setg(errp, "Unknown combination of RAM flags 0x%x at offset %" PRId64,
                       flags, qemu_ftell(f) - 8);
            return -EINVAL;
        }
    }
}
