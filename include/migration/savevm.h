/*
 * The savevm registry and stream: what gets saved, in which order, and
 * the QEMU-compatible framing around it.
 *
 * REGISTRY. One per process (one machine per process); tests start from
 * a clean slate with savevm_registry_reset(). The machine (hw/pc.c)
 * registers every device's exported description:
 *
 *     vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_pit, pit);
 *     ram_block_register("pc.ram", host, ram_size, &err);
 *     savevm_set_machine_name("pc-i440fx-minipc");
 *
 * A section is identified by idstr (the description's name, unless
 * registered with vmstate_register_named) and instance id; automatic
 * instance ids count up per idstr from 0. Sections are saved and loaded
 * in priority order (higher first, e.g. MIG_PRI_IOMMU before devices),
 * registration order within a priority. Section ids are handed out in
 * registration order.
 *
 * STREAM (byte for byte QEMU's framing, version 3):
 *     be32 'QEVM', be32 3
 *     0x07 configuration: be32 len, machine name [, subsections]
 *     live sections:   0x01 START   be32 id, u8 len, idstr, be32 instance, be32 version, data, footer
 *                      0x02 PART    be32 id, data, footer      (repeated)
 *                      0x03 END     be32 id, data, footer
 *     device sections: 0x04 FULL    be32 id, u8 len, idstr, be32 instance, be32 version, fields, footer
 *     footer:          0x7e be32 id
 *     0x00 EOF
 *     0x06 be32 len, JSON description {"page_size": 4096, "devices": [...]}
 * RAM ("ram", instance 0, version 4) uses QEMU's RAM_SAVE_FLAG encoding:
 * MEM_SIZE with the block list, then pages as be64 offset|flags (ZERO +
 * fill byte, or PAGE + 4096 bytes; CONTINUE omits the block name when
 * it is the same block as the previous page), EOS ending each part.
 *
 * ATOMIC LOAD. qemu_loadvm_state() never leaves a half-loaded machine
 * because of a bad stream:
 *   pass 1 (validate): the whole stream is parsed with the QEMUFile in
 *     validation mode. Device sections load into scratch copies (see
 *     vmstate.c), the RAM section checks block names, sizes, page
 *     offsets and flags but skips page data. Framing, versions, _EQUAL
 *     fields, counts, subsections, footers, EOF and trailing bytes are
 *     all checked, and each description's check() hook runs on its
 *     scratch copy. Nothing live is touched; any error ends here.
 *   pass 2 (commit): the stream is read again from the start and loaded
 *     for real: RAM pages are written, device fields are stored and
 *     pre_load/post_load run, in stream order.
 * Pass 2 needs a seekable source (files, memory, a qcow2 vmstate area);
 * other sources are first read whole into memory. Only an I/O error on
 * the second read or a post_load/pre_load hook that fails in pass 2 can
 * still fail after pass 1; then device state is restored from a backup
 * taken just before pass 2 (RAM keeps the loaded contents) and the error
 * says so. Hooks should therefore validate in check(), not post_load.
 * In the validation pass field_exists() callbacks get the live struct
 * with the values parsed so far swapped in for the duration of the call,
 * so they see what they will see in the commit pass (except changes a
 * pre_load hook would make: don't make field_exists depend on those).
 */
#ifndef MIGRATION_SAVEVM_H
#define MIGRATION_SAVEVM_H

#include "migration/qemu-file.h"
#include "migration/vmstate.h"

#define QEMU_VM_FILE_MAGIC      0x5145564d
#define QEMU_VM_FILE_VERSION    0x00000003

enum {
    QEMU_VM_EOF            = 0x00,
    QEMU_VM_SECTION_START  = 0x01,
    QEMU_VM_SECTION_PART   = 0x02,
    QEMU_VM_SECTION_END    = 0x03,
    QEMU_VM_SECTION_FULL   = 0x04,
    QEMU_VM_SUBSECTION     = 0x05,
    QEMU_VM_VMDESCRIPTION  = 0x06,
    QEMU_VM_CONFIGURATION  = 0x07,
    QEMU_VM_COMMAND        = 0x08,
    QEMU_VM_SECTION_FOOTER = 0x7e,
};

#define VMSTATE_INSTANCE_ID_ANY (-1)
#define TARGET_PAGE_BITS 12
#define TARGET_PAGE_SIZE (1 << TARGET_PAGE_BITS)

/* ---- registry ------------------------------------------------------- */

/* Registers a device section named vmsd->name. instance_id >= 0, or
 * VMSTATE_INSTANCE_ID_ANY for the next free id of that name. Returns the
 * instance id used, or -EEXIST (same idstr and instance already there). */
int vmstate_register(int instance_id, const VMStateDescription *vmsd, void *opaque);
/* Same with an explicit idstr (e.g. "0000:00:01.1/ide"), at most 255 bytes. */
int vmstate_register_named(const char *idstr, int instance_id,
                           const VMStateDescription *vmsd, void *opaque);
/* Removes the section registered with this vmsd and opaque. */
void vmstate_unregister(const VMStateDescription *vmsd, void *opaque);

/* Sections whose state is large or changes while the VM runs (RAM).
 * Saving: setup writes the START data; iterate writes one PART's worth
 * and returns 1 when nothing is left to send, 0 if more remains (a VM
 * that keeps running may make more dirty again); complete writes the
 * END data (the rest). pending estimates the bytes left. cleanup runs
 * after every save, successful or not.
 * Loading: load_state is called for each START/PART/END section of this
 * idstr, in both passes; in the validation pass the QEMUFile says so
 * (qemu_file_is_validating) and nothing live may change. load_setup and
 * load_cleanup bracket each pass. */
typedef struct SaveVMHandlers {
    int (*save_setup)(QEMUFile *f, void *opaque, Error **errp);
    int (*save_live_iterate)(QEMUFile *f, void *opaque, Error **errp);
    int (*save_live_complete)(QEMUFile *f, void *opaque, Error **errp);
    uint64_t (*save_live_pending)(void *opaque);
    void (*save_cleanup)(void *opaque);
    int (*load_setup)(QEMUFile *f, void *opaque, Error **errp);
    int (*load_state)(QEMUFile *f, void *opaque, int version_id, Error **errp);
    void (*load_cleanup)(void *opaque);
} SaveVMHandlers;

int register_savevm_live(const char *idstr, int instance_id, int version_id,
                         const SaveVMHandlers *ops, void *opaque);
void unregister_savevm(const char *idstr, int instance_id);

/* The machine type name in the configuration section; a stream made by
 * another machine type is refused. Default "pc". */
void savevm_set_machine_name(const char *name);
const char *savevm_get_machine_name(void);

/* Forgets every section, RAM block and setting (unit tests). */
void savevm_registry_reset(void);

/* ---- RAM blocks ------------------------------------------------------ */

typedef struct RAMBlock RAMBlock;

/* Registers guest memory for the "ram" section (registered with the
 * first block). 'name' is unique, 1..255 bytes (QEMU names: "pc.ram",
 * "vga.vram", "pc.bios"); 'size' a multiple of TARGET_PAGE_SIZE; 'host'
 * stays valid until ram_block_unregister. */
RAMBlock *ram_block_register(const char *name, void *host, uint64_t size, Error **errp);
void ram_block_unregister(RAMBlock *rb);
RAMBlock *ram_block_find(const char *name);
/* Marks pages as needing to be sent again (for live, iterative saves:
 * whoever writes guest RAM while a save runs calls this). */
void ram_block_set_dirty(RAMBlock *rb, uint64_t offset, uint64_t len);
/* Pages each PART section carries at most (default 65536 = 256 MiB). */
void ram_set_iterate_pages(uint64_t pages);

/* ---- the stream ------------------------------------------------------ */

/* Writes the whole machine state to f (does not close it). Returns 0 or
 * -errno with errp set. */
int qemu_savevm_state(QEMUFile *f, Error **errp);
/* Loads a stream written by qemu_savevm_state (see ATOMIC LOAD). */
int qemu_loadvm_state(QEMUFile *f, Error **errp);

#endif
