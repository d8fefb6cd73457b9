/*
 * fw_cfg: items selected by key and read byte by byte through the data
 * port, or moved in bulk by the DMA interface. The format follows QEMU's
 * docs/specs/fw_cfg (the interface SeaBIOS and Linux expect).
 */
#include "hw/fw_cfg.h"

#define FILE_RECORD_SIZE 64
#define E820_RECORD_SIZE 20

static FWCfgEntry *entry_for_key(FWCfgState *s, uint16_t key)
{
    if (key == FW_CFG_INVALID) {
        return NULL;
    }
    int arch = !!(key & FW_CFG_ARCH_LOCAL);
    uint16_t idx = key & FW_CFG_ENTRY_MASK;
    return idx < FW_CFG_MAX_ENTRY ? &s->entries[arch][idx] : NULL;
}

static void fw_cfg_select(FWCfgState *s, uint16_t key)
{
    s->cur_offset = 0;
    s->cur_entry = entry_for_key(s, key) ? key : FW_CFG_INVALID;
}

static uint8_t fw_cfg_read_byte(FWCfgState *s)
{
    FWCfgEntry *e = entry_for_key(s, s->cur_entry);
    if (!e || !e->data || s->cur_offset >= e->len) {
        return 0;
    }
    return e->data[s->cur_offset++];
}

/* ---- selector and data ports ------------------------------------------- */

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    FWCfgState *s = opaque;
    /* Any read returns data bytes (as QEMU's combined port does). */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)fw_cfg_read_byte(s) << (8 * i);
    }
    return v;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    /* A 16-bit write selects; byte writes to the data port are ignored
     * (the write channel is gone from the spec). */
    if (size == 2) {
        fw_cfg_select(s, val);
    }
}

static const MemoryRegionOps ctl_ops = {
    .read = ctl_read, .write = ctl_write,
    .min_access_size = 1, .max_access_size = 2,
};

/* ---- DMA ------------------------------------------------------------------ */

static bool dma_zero_fill(FWCfgState *s, uint64_t addr, uint32_t len)
{
    static const uint8_t zeros[4096];
    while (len > 0) {
        uint32_t n = MIN(len, (uint32_t)sizeof(zeros));
        /* Stop at the first hole: past RAM there is nothing to clear, and
         * a hostile length must not make us walk gigabytes of nothing. */
        if (!address_space_write(s->dma_as, addr, zeros, n)) {
            return false;
        }
        addr += n;
        len -= n;
    }
    return true;
}

static void fw_cfg_dma_transfer(FWCfgState *s)
{
    uint64_t desc_addr = s->dma_addr;
    uint8_t desc[16];
    s->dma_addr = 0;
    if (!s->dma_as || !address_space_read(s->dma_as, desc_addr, desc, sizeof(desc))) {
        return;
    }
    uint32_t control = ldl_be(desc);
    uint32_t length = ldl_be(desc + 4);
    uint64_t addr = ldq_be(desc + 8);
    bool error = false;

    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    FWCfgEntry *e = entry_for_key(s, s->cur_entry);
    uint32_t avail = (e && e->data && s->cur_offset < e->len) ? e->len - s->cur_offset : 0;

    if (control & FW_CFG_DMA_CTL_READ) {
        uint32_t n = MIN(length, avail);
        if (n && !address_space_write(s->dma_as, addr, e->data + s->cur_offset, n)) {
            error = true;
        }
        s->cur_offset += n;
        /* Past the end of the item the guest gets zeroes. */
        if (length > n && !dma_zero_fill(s, addr + n, length - n)) {
            error = true;
        }
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        /* No item is writable here. */
        error = true;
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        s->cur_offset += MIN(length, avail);
    }
    uint8_t done[4];
    stl_be(done, error ? FW_CFG_DMA_CTL_ERROR : 0);
    address_space_write(s->dma_as, desc_addr, done, sizeof(done));
}

static uint64_t dma_read(void *opaque, uint64_t off, unsigned size)
{
    /* The register reads as the signature "QEMU CFG", big-endian. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++) {
        v |= ((FW_CFG_DMA_SIGNATURE >> (8 * (7 - (off + i)))) & 0xff) << (8 * i);
    }
    return v;
}

static void dma_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    FWCfgState *s = opaque;
    /* Big-endian halves: the guest writes the high half at +0, then the
     * low half at +4, which starts the transfer. */
    if (size == 4 && off == 0) {
        s->dma_addr = (uint64_t)bswap32(val) << 32;
    } else if (size == 4 && off == 4) {
        s->dma_addr |= bswap32(val);
        fw_cfg_dma_transfer(s);
    } else if (size == 8 && off == 0) {
        s->dma_addr = bswap64(val);
        fw_cfg_dma_transfer(s);
    }
}

static const MemoryRegionOps dma_ops = {
    .read = dma_read, .write = dma_write,
    .min_access_size = 1, .max_access_size = 8,
};

/* ---- items ------------------------------------------------------------------ */

static void entry_set(FWCfgEntry *e, const void *data, size_t len)
{
    free(e->data);
    e->data = xmalloc(len ? len : 1);
    if (len) {
        memcpy(e->data, data, len);
    }
    e->len = len;
}

int fw_cfg_add_bytes(FWCfgState *s, uint16_t key, const void *data, size_t len)
{
    FWCfgEntry *e = entry_for_key(s, key);
    if (!e || (key & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST || len > UINT32_MAX ||
        (key & FW_CFG_ENTRY_MASK) == FW_CFG_FILE_DIR) {
        return -EINVAL;
    }
    entry_set(e, data, len);
    return 0;
}

int fw_cfg_add_string(FWCfgState *s, uint16_t key, const char *value)
{
    return fw_cfg_add_bytes(s, key, value, strlen(value) + 1);
}

int fw_cfg_add_i16(FWCfgState *s, uint16_t key, uint16_t value)
{
    uint8_t b[2];
    stw_le(b, value);
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_i32(FWCfgState *s, uint16_t key, uint32_t value)
{
    uint8_t b[4];
    stl_le(b, value);
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_i64(FWCfgState *s, uint16_t key, uint64_t value)
{
    uint8_t b[8];
    stq_le(b, value);
    return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

static void dir_publish(FWCfgState *s)
{
    stl_be(s->dir, s->nfiles);
    FWCfgEntry *e = &s->entries[0][FW_CFG_FILE_DIR];
    e->data = s->dir;
    e->len = 4 + s->nfiles * FILE_RECORD_SIZE;
}

int fw_cfg_add_file(FWCfgState *s, const char *name, const void *data, size_t len)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= FW_CFG_MAX_FILE_PATH || len > UINT32_MAX) {
        return -EINVAL;
    }
    uint32_t i;
    for (i = 0; i < s->nfiles; i++) {
        int c = strcmp(name, (char *)s->dir + 4 + i * FILE_RECORD_SIZE + 8);
        if (c == 0) {
            /* Replace in place. */
            uint8_t *rec = s->dir + 4 + i * FILE_RECORD_SIZE;
            entry_set(&s->entries[0][FW_CFG_FILE_FIRST + i], data, len);
            stl_be(rec, len);
            return FW_CFG_FILE_FIRST + i;
        }
        if (c < 0) {
            break;
        }
    }
    if (s->nfiles >= FW_CFG_FILE_SLOTS) {
        return -ENOSPC;
    }
    /* Keep the directory sorted: shift later files up one key. */
    for (uint32_t j = s->nfiles; j > i; j--) {
        uint8_t *rec = s->dir + 4 + j * FILE_RECORD_SIZE;
        memcpy(rec, rec - FILE_RECORD_SIZE, FILE_RECORD_SIZE);
        stw_be(rec + 4, FW_CFG_FILE_FIRST + j);
        s->entries[0][FW_CFG_FILE_FIRST + j] = s->entries[0][FW_CFG_FILE_FIRST + j - 1];
    }
    FWCfgEntry *e = &s->entries[0][FW_CFG_FILE_FIRST + i];
    e->data = NULL;
    e->len = 0;
    entry_set(e, data, len);
    uint8_t *rec = s->dir + 4 + i * FILE_RECORD_SIZE;
    memset(rec, 0, FILE_RECORD_SIZE);
    stl_be(rec, len);
    stw_be(rec + 4, FW_CFG_FILE_FIRST + i);
    memcpy(rec + 8, name, nlen);
    s->nfiles++;
    dir_publish(s);
    return FW_CFG_FILE_FIRST + i;
}

int fw_cfg_add_e820(FWCfgState *s, uint64_t addr, uint64_t len, uint32_t type)
{
    s->e820 = xrealloc(s->e820, (s->e820_count + 1) * E820_RECORD_SIZE);
    uint8_t *r = s->e820 + s->e820_count * E820_RECORD_SIZE;
    stq_le(r, addr);
    stq_le(r + 8, len);
    stl_le(r + 16, type);
    s->e820_count++;
    int key = fw_cfg_add_file(s, "etc/e820", s->e820, s->e820_count * E820_RECORD_SIZE);
    return key < 0 ? key : 0;
}

const uint8_t *fw_cfg_get(FWCfgState *s, uint16_t key, uint32_t *len)
{
    FWCfgEntry *e = entry_for_key(s, key);
    if (!e || !e->data) {
        return NULL;
    }
    if (len) {
        *len = e->len;
    }
    return e->data;
}

/* ---- device ---------------------------------------------------------------- */

void fw_cfg_reset(FWCfgState *s)
{
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    s->dma_addr = 0;
}

FWCfgState *fw_cfg_new_io(MemoryRegion *io, uint16_t iobase, uint16_t dma_iobase,
                          AddressSpace *dma_as)
{
    FWCfgState *s = XNEW(FWCfgState);
    s->dma_as = dma_as;
    s->dma_enabled = dma_iobase != 0 && dma_as != NULL;
    s->dir = xzalloc(4 + FW_CFG_FILE_SLOTS * FILE_RECORD_SIZE);
    dir_publish(s);
    s->ctl_mr = memory_region_new_io("fw_cfg", 2, &ctl_ops, s);
    memory_region_add_subregion(io, iobase, s->ctl_mr, 0);
    if (s->dma_enabled) {
        s->dma_mr = memory_region_new_io("fw_cfg-dma", 8, &dma_ops, s);
        memory_region_add_subregion(io, dma_iobase, s->dma_mr, 0);
    }
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | (s->dma_enabled ? FW_CFG_VERSION_DMA : 0));
    static const uint8_t uuid[16];
    fw_cfg_add_bytes(s, FW_CFG_UUID, uuid, sizeof(uuid));
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, 0);
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, 0);
    fw_cfg_reset(s);
    return s;
}

void fw_cfg_free(FWCfgState *s)
{
    if (!s) {
        return;
    }
    for (int a = 0; a < 2; a++) {
        for (int k = 0; k < FW_CFG_MAX_ENTRY; k++) {
            if (!(a == 0 && k == FW_CFG_FILE_DIR)) {
                free(s->entries[a][k].data);
            }
        }
    }
    free(s->dir);
    free(s->e820);
    memory_region_free(s->ctl_mr);
    memory_region_free(s->dma_mr);
    free(s);
}

/* ---- VMState ------------------------------------------------------------------ */

static int fw_cfg_post_load(void *opaque, int version_id)
{
    FWCfgState *s = opaque;
    if (!entry_for_key(s, s->cur_entry)) {
        s->cur_entry = FW_CFG_INVALID;
        s->cur_offset = 0;
    }
    return 0;
}

static int fw_cfg_check(const void *loaded, int version_id, Error **errp)
{
    const FWCfgState *s = loaded;
    if (s->cur_entry != FW_CFG_INVALID && (s->cur_entry & FW_CFG_ENTRY_MASK) >= FW_CFG_MAX_ENTRY) {
        error_setg(errp, "fw_cfg: selected key 0x%x does not exist", s->cur_entry);
        return -EINVAL;
    }
    return 0;
}

static bool dma_needed(void *opaque)
{
    FWCfgState *s = opaque;
    return s->dma_enabled;
}

static const VMStateDescription vmstate_fw_cfg_dma = {
    .name = "fw_cfg/dma",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = dma_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(dma_addr, FWCfgState),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription vmstate_fw_cfg = {
    .name = "fw_cfg",
    .version_id = 2,
    .minimum_version_id = 2,
    .check = fw_cfg_check,
    .post_load = fw_cfg_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(cur_entry, FWCfgState),
        VMSTATE_UINT32(cur_offset, FWCfgState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_fw_cfg_dma, NULL
    },
};
