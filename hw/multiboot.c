/*
 * Multiboot v1 loader for -kernel: loads an ELF32 kernel by its program
 * headers (physical addresses), or an image with the header's address
 * fields (flag 16), places modules (-initrd "file args,file args") and
 * the multiboot information structure after the kernel, and leaves the
 * CPU as the specification says: 32-bit flat protected mode, paging
 * off, EAX = 0x2BADB002, EBX = the information structure.
 *
 * As QEMU does, the kernel's command line is "FILENAME APPEND" and the
 * boot loader name is reported.
 */
#include <stdio.h>

#include "hw/machine.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192

enum {
    MBI_MEM = 1 << 0, MBI_BOOTDEV = 1 << 1, MBI_CMDLINE = 1 << 2, MBI_MODS = 1 << 3,
    MBI_MMAP = 1 << 6, MBI_LOADER = 1 << 9,
};

static int read_whole(const char *path, uint8_t **data, size_t *size, Error **errp)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return -errno;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= 1024 * MiB) {
                error_setg(errp, "'%s' is too large", path);
                free(buf);
                fclose(f);
                return -EFBIG;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) {
            break;
        }
        n += r;
    }
    if (ferror(f)) {
        error_setg(errp, "Could not read '%s'", path);
        free(buf);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}

/* Copies into guest RAM, refusing anything outside it. */
static int ram_write(Machine *m, uint64_t addr, const void *src, uint64_t len, const char *what,
                     Error **errp)
{
    if (addr > m->cfg.ram_size || len > m->cfg.ram_size - addr) {
        error_setg(errp, "%s does not fit in RAM (0x%" PRIx64 "+0x%" PRIx64 ", RAM is %" PRIu64 " MiB)",
                   what, addr, len, m->cfg.ram_size / MiB);
        return -EINVAL;
    }
    address_space_write(m->as_mem, addr, src, len);
    return 0;
}

static int ram_zero(Machine *m, uint64_t addr, uint64_t len, const char *what, Error **errp)
{
    if (addr > m->cfg.ram_size || len > m->cfg.ram_size - addr) {
        error_setg(errp, "%s does not fit in RAM", what);
        return -EINVAL;
    }
    uint8_t *z = xzalloc(64 * KiB);
    while (len) {
        uint64_t n = MIN(len, 64 * KiB);
        address_space_write(m->as_mem, addr, z, n);
        addr += n;
        len -= n;
    }
    free(z);
    return 0;
}

static int load_elf32(Machine *m, const char *path, const uint8_t *d, size_t size,
                      uint32_t *entry, uint64_t *end, Error **errp)
{
    if (size < 52 || memcmp(d, "\177ELF", 4) != 0 || d[4] != 1 || d[5] != 1) {
        error_setg(errp, "'%s' is not a 32-bit little-endian ELF file and has no multiboot "
                   "address fields", path);
        return -EINVAL;
    }
    uint16_t machine = ldw_le(d + 18);
    if (machine != 3) {
        error_setg(errp, "'%s' is not an i386 ELF file (e_machine %u)", path, machine);
        return -EINVAL;
    }
    uint32_t phoff = ldl_le(d + 28);
    uint16_t phentsize = ldw_le(d + 42), phnum = ldw_le(d + 44);
    if (phentsize < 32 || phoff > size || (uint64_t)phnum * phentsize > size - phoff) {
        error_setg(errp, "'%s': bad program header table", path);
        return -EINVAL;
    }
    *entry = ldl_le(d + 24);
    *end = 0;
    bool loaded = false;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (size_t)i * phentsize;
        if (ldl_le(ph) != 1) {   /* PT_LOAD */
            continue;
        }
        uint32_t off = ldl_le(ph + 4), paddr = ldl_le(ph + 12);
        uint32_t filesz = ldl_le(ph + 16), memsz = ldl_le(ph + 20);
        if (off > size || filesz > size - off || filesz > memsz) {
            error_setg(errp, "'%s': program header %u lies outside the file", path, i);
            return -EINVAL;
        }
        if (ram_write(m, paddr, d + off, filesz, "kernel segment", errp) < 0 ||
            ram_zero(m, (uint64_t)paddr + filesz, memsz - filesz, "kernel bss", errp) < 0) {
            return -EINVAL;
        }
        *end = MAX(*end, (uint64_t)paddr + memsz);
        loaded = true;
    }
    if (!loaded) {
        error_setg(errp, "'%s' has no loadable segments", path);
        return -EINVAL;
    }
    return 0;
}

int multiboot_load(Machine *m, const char *kernel, const char *cmdline, const char *modules,
                   Error **errp)
{
    uint8_t *d;
    size_t size;
    if (read_whole(kernel, &d, &size, errp) < 0) {
        return -EINVAL;
    }
    int ret = -EINVAL;
    size_t hdr = SIZE_MAX;
    for (size_t o = 0; o + 12 <= MIN(size, (size_t)MB_SEARCH); o += 4) {
        if (ldl_le(d + o) == MB_MAGIC &&
            (uint32_t)(ldl_le(d + o) + ldl_le(d + o + 4) + ldl_le(d + o + 8)) == 0) {
            hdr = o;
            break;
        }
    }
    if (hdr == SIZE_MAX) {
        error_setg(errp, "'%s' is not a multiboot kernel (no header in the first 8 KiB)", kernel);
        goto out;
    }
    uint32_t flags = ldl_le(d + hdr + 4);
    uint32_t entry;
    uint64_t end;
    if (flags & (1u << 16)) {
        if (hdr + 32 > size) {
            error_setg(errp, "'%s': truncated multiboot header", kernel);
            goto out;
        }
        uint32_t header_addr = ldl_le(d + hdr + 12), load_addr = ldl_le(d + hdr + 16);
        uint32_t load_end = ldl_le(d + hdr + 20), bss_end = ldl_le(d + hdr + 24);
        entry = ldl_le(d + hdr + 28);
        if (header_addr < load_addr || header_addr - load_addr > hdr) {
            error_setg(errp, "'%s': inconsistent multiboot load addresses", kernel);
            goto out;
        }
        size_t file_off = hdr - (header_addr - load_addr);
        uint64_t len = load_end ? (uint64_t)load_end - load_addr : size - file_off;
        if (load_end && load_end < load_addr) {
            error_setg(errp, "'%s': load_end_addr below load_addr", kernel);
            goto out;
        }
        len = MIN(len, (uint64_t)(size - file_off));
        if (ram_write(m, load_addr, d + file_off, len, "kernel", errp) < 0) {
            goto out;
        }
        end = (uint64_t)load_addr + len;
        if (bss_end > end) {
            if (ram_zero(m, end, bss_end - end, "kernel bss", errp) < 0) {
                goto out;
            }
            end = bss_end;
        }
    } else if (load_elf32(m, kernel, d, size, &entry, &end, errp) < 0) {
        goto out;
    }

    /* Modules, then the information structure, page-aligned after the kernel. */
    uint64_t next = ALIGN_UP(end, 4096);
    uint32_t mods_addr = 0, mods_count = 0;
    uint8_t modtab[16 * 16];
    char *strings[16];
    int nstr = 0;
    if (modules && *modules) {
        char *list = xstrdup(modules);
        char *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (mods_count == 16) {
                error_setg(errp, "too many multiboot modules (at most 16)");
                free(list);
                goto out_strings;
            }
            char *arg = xstrdup(tok);
            char *sp = strchr(arg, ' ');
            if (sp) {
                *sp = 0;
            }
            uint8_t *md;
            size_t msize;
            if (read_whole(arg, &md, &msize, errp) < 0) {
                free(arg);
                free(list);
                goto out_strings;
            }
            free(arg);
            if (ram_write(m, next, md, msize, "multiboot module", errp) < 0) {
                free(md);
                free(list);
                goto out_strings;
            }
            free(md);
            stl_le(modtab + mods_count * 16, next);
            stl_le(modtab + mods_count * 16 + 4, next + msize);
            strings[nstr++] = xstrdup(tok);
            stl_le(modtab + mods_count * 16 + 12, 0);
            mods_count++;
            next = ALIGN_UP(next + msize, 4096);
        }
        free(list);
    }
    /* Layout of the info page(s). */
    uint64_t mbi = next;
    uint64_t p = mbi + 128;
    char *kcmd = xasprintf("%s%s%s", kernel, cmdline && *cmdline ? " " : "", cmdline ? cmdline : "");
    uint64_t cmd_addr = p;
    if (ram_write(m, p, kcmd, strlen(kcmd) + 1, "multiboot command line", errp) < 0) {
        free(kcmd);
        goto out_strings;
    }
    p += strlen(kcmd) + 1;
    free(kcmd);
    static const char loader[] = "minipc";
    uint64_t loader_addr = p;
    if (ram_write(m, p, loader, sizeof(loader), "multiboot loader name", errp) < 0) {
        goto out_strings;
    }
    p += sizeof(loader);
    for (uint32_t i = 0; i < mods_count; i++) {
        stl_le(modtab + i * 16 + 8, p);
        if (ram_write(m, p, strings[i], strlen(strings[i]) + 1, "module string", errp) < 0) {
            goto out_strings;
        }
        p += strlen(strings[i]) + 1;
    }
    p = ALIGN_UP(p, 8);
    if (mods_count) {
        mods_addr = p;
        if (ram_write(m, p, modtab, mods_count * 16, "module table", errp) < 0) {
            goto out_strings;
        }
        p += mods_count * 16;
    }
    /* Memory map as QEMU's firmware reports it: the top 128 KiB of RAM
     * are reserved (firmware tables), as are the EBDA and the BIOS. */
    uint64_t ram = m->cfg.ram_size;
    uint64_t top = ram > 2 * MiB ? ram - 128 * KiB : ram;
    struct { uint64_t base, len; uint32_t type; } map[] = {
        { 0, 0x9fc00, 1 },
        { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },
        { 0x100000, top - 0x100000, 1 },
        { top, ram - top, 2 },
        { 0xfffc0000, 0x40000, 2 },
    };
    uint8_t mm[24 * 6];
    for (int i = 0; i < 6; i++) {
        stl_le(mm + i * 24, 20);
        stq_le(mm + i * 24 + 4, map[i].base);
        stq_le(mm + i * 24 + 12, map[i].len);
        stl_le(mm + i * 24 + 20, map[i].type);
    }
    uint64_t mmap_addr = p;
    if (ram_write(m, p, mm, sizeof(mm), "memory map", errp) < 0) {
        goto out_strings;
    }
    uint8_t info[128] = { 0 };
    stl_le(info + 0, MBI_MEM | MBI_BOOTDEV | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER);
    stl_le(info + 4, 640);
    stl_le(info + 8, (uint32_t)(top / KiB - 1024));
    stl_le(info + 12, 0x8000ffff);
    stl_le(info + 16, cmd_addr);
    stl_le(info + 20, mods_count);
    stl_le(info + 24, mods_addr);
    stl_le(info + 44, sizeof(mm));
    stl_le(info + 48, mmap_addr);
    stl_le(info + 64, loader_addr);
    if (ram_write(m, mbi, info, sizeof(info), "multiboot information", errp) < 0) {
        goto out_strings;
    }

    /* CPU state on entry. */
    CPUX86State *cpu = m->cpu;
    cpu->cr[0] = CR0_PE | CR0_ET;
    cpu_set_eflags(cpu, 2, 0xffffffffu);
    for (int i = 0; i < 6; i++) {
        SegmentCache *s = &cpu->segs[i];
        s->base = 0;
        s->limit = 0xffffffffu;
        s->selector = i == R_CS ? 0x08 : 0x10;
        s->flags = DESC_P | DESC_S | DESC_A | DESC_B | DESC_G |
                   (i == R_CS ? DESC_CODE | DESC_R : DESC_W);
    }
    cpu->gdt.base = 0;
    cpu->gdt.limit = 0;
    cpu->cpl = 0;
    cpu->regs[R_EAX] = MB_BOOT_MAGIC;
    cpu->regs[R_EBX] = (uint32_t)mbi;
    cpu->eip = entry;
    cpu->a20_enabled = true;
    cpu_sync_after_state_change(cpu);
    ret = 0;
out_strings:
    for (int i = 0; i < nstr; i++) {
        free(strings[i]);
    }
out:
    free(d);
    return ret;
}
