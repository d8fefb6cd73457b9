/*
 * Unit tests for hw/ide.c, hw/ide-atapi.c and hw/piix-ide.c: a PIIX3 IDE
 * function on a PCI bus with real memory and I/O address spaces, disks
 * backed by raw image files through the block layer, and a CD-ROM with
 * an ISO made by genisoimage (a generated image when it is missing).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/piix-ide.h"

#define RAM_SIZE (4 * MiB)
#define DISK_SECTORS 8192          /* 4 MiB */
#define BMDMA_BASE 0xc000
#define PRD_TABLE 0x10000
#define DMA_BUF 0x20000

typedef struct Rig {
    MemoryRegion *sysmem, *pcimem, *io, *ram;
    AddressSpace *mem_as, *io_as;
    PCIBus *pci;
    PIIXIDEState *ide;
    IRQLine *irq[2];
    int level[2];
    int edges[2];
    char dir[64];
    char disk_path[96];
    int disk_fd;
    BlockDriverState *disk, *cd;
    char iso_path[96];
    int64_t iso_size;
    bool iso_from_genisoimage;
} Rig;

static Rig *rig;

static void irq_handler(void *opaque, int n, int level)
{
    Rig *r = opaque;
    if (level && !r->level[n]) {
        r->edges[n]++;
    }
    r->level[n] = level;
}

static uint8_t pattern(int64_t off)
{
    return (uint8_t)((off * 131) ^ (off >> 9) ^ 0x5a);
}

static void make_file(const char *path, int64_t size, int (*fill)(int64_t), int *fd_out)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    uint8_t *buf = xmalloc(size);
    for (int64_t i = 0; i < size; i++) {
        buf[i] = fill ? fill(i) : pattern(i);
    }
    ck_assert_int_eq(full_pwrite(fd, buf, size, 0), size);
    free(buf);
    if (fd_out) {
        *fd_out = fd;
    } else {
        close(fd);
    }
}

static int cd_fill(int64_t off)
{
    return (uint8_t)((off / 2048) * 3 + (off % 2048));
}

/* An ISO 9660 image from genisoimage, or a raw stand-in of 300 sectors. */
static void make_iso(Rig *r)
{
    snprintf(r->iso_path, sizeof(r->iso_path), "%s/cd.iso", r->dir);
    char src[128], cmd[512];
    snprintf(src, sizeof(src), "%s/isoroot", r->dir);
    mkdir(src, 0700);
    char f[160];
    snprintf(f, sizeof(f), "%s/HELLO.TXT", src);
    make_file(f, 5000, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "genisoimage -quiet -o '%s' '%s' >/dev/null 2>&1",
             r->iso_path, src);
    r->iso_from_genisoimage = system(cmd) == 0;
    if (!r->iso_from_genisoimage) {
        fprintf(stderr, "test-ide: genisoimage not available; using a generated CD image\n");
        make_file(r->iso_path, 300 * 2048, cd_fill, NULL);
    }
    struct stat st;
    ck_assert_int_eq(stat(r->iso_path, &st), 0);
    r->iso_size = st.st_size;
}

static void setup(void)
{
    Rig *r = rig = XNEW(Rig);
    r->sysmem = memory_region_new_container("system", 1ULL << 32);
    r->pcimem = memory_region_new_container("pci", 1ULL << 32);
    r->io = memory_region_new_container("io", 65536);
    r->ram = memory_region_new_ram("ram", RAM_SIZE, NULL);
    memory_region_add_subregion(r->sysmem, 0, r->ram, 0);
    memory_region_add_subregion(r->sysmem, 0, r->pcimem, -1);
    r->mem_as = address_space_new("memory", r->sysmem);
    r->io_as = address_space_new("io", r->io);
    r->pci = pci_bus_new(r->pcimem, r->io);
    r->irq[0] = irq_new(irq_handler, r, 0);
    r->irq[1] = irq_new(irq_handler, r, 1);
    r->ide = piix_ide_new(r->pci, PCI_DEVFN(1, 1), r->io, r->mem_as, r->irq[0], r->irq[1], NULL);
    ck_assert_ptr_nonnull(r->ide);

    snprintf(r->dir, sizeof(r->dir), "/tmp/minipc-test-ide-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    snprintf(r->disk_path, sizeof(r->disk_path), "%s/disk.raw", r->dir);
    make_file(r->disk_path, DISK_SECTORS * 512, NULL, &r->disk_fd);
    ck_assert_int_eq(bdrv_open(&r->disk, r->disk_path, "raw", BDRV_O_RDWR, NULL), 0);
    ck_assert_int_eq(piix_ide_attach(r->ide, 0, IDE_HD, r->disk, NULL), 0);
    make_iso(r);
    ck_assert_int_eq(bdrv_open(&r->cd, r->iso_path, "raw", 0, NULL), 0);
    ck_assert_int_eq(piix_ide_attach(r->ide, 2, IDE_CD, r->cd, NULL), 0);

    /* Program BAR4 and enable I/O + bus mastering, as a BIOS does. */
    pci_bus_config_write(r->pci, PCI_DEVFN(1, 1), 0x20, BMDMA_BASE | 1, 4);
    pci_bus_config_write(r->pci, PCI_DEVFN(1, 1), PCI_COMMAND,
                         PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

static void teardown(void)
{
    Rig *r = rig;
    piix_ide_free(r->ide);
    bdrv_close(r->disk);
    if (r->cd) {
        bdrv_close(r->cd);
    }
    close(r->disk_fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    ck_assert_int_eq(system(cmd), 0);
    pci_bus_free(r->pci);
    irq_free(r->irq[0]);
    irq_free(r->irq[1]);
    address_space_free(r->mem_as);
    address_space_free(r->io_as);
    memory_region_free(r->ram);
    memory_region_free(r->pcimem);
    memory_region_free(r->io);
    memory_region_free(r->sysmem);
    free(r);
}

/* ---- port helpers ---- */

static void outb(uint16_t port, uint8_t v) { address_space_write_sized(rig->io_as, port, v, 1); }
static void outw(uint16_t port, uint16_t v) { address_space_write_sized(rig->io_as, port, v, 2); }
static void outl(uint16_t port, uint32_t v) { address_space_write_sized(rig->io_as, port, v, 4); }
static uint8_t inb(uint16_t port) { return address_space_read_sized(rig->io_as, port, 1); }
static uint16_t inw(uint16_t port) { return address_space_read_sized(rig->io_as, port, 2); }
static uint32_t inl(uint16_t port) { return address_space_read_sized(rig->io_as, port, 4); }

#define P 0x1f0   /* primary command block */
#define S 0x170   /* secondary */

static void ata_lba28(uint16_t base, int dev, uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(base + 6, 0xe0 | (dev << 4) | ((lba >> 24) & 0xf));
    outb(base + 2, count);
    outb(base + 3, lba);
    outb(base + 4, lba >> 8);
    outb(base + 5, lba >> 16);
    outb(base + 7, cmd);
}

static void ata_lba48(uint16_t base, int dev, uint64_t lba, uint16_t count, uint8_t cmd)
{
    outb(base + 6, 0x40 | (dev << 4));
    outb(base + 2, count >> 8);
    outb(base + 3, lba >> 24);
    outb(base + 4, lba >> 32);
    outb(base + 5, lba >> 40);
    outb(base + 2, count);
    outb(base + 3, lba);
    outb(base + 4, lba >> 8);
    outb(base + 5, lba >> 16);
    outb(base + 7, cmd);
}

static void file_read(int64_t off, void *buf, size_t len)
{
    ck_assert_int_eq(full_pread(rig->disk_fd, buf, len, off), (ssize_t)len);
}

/* ---- ATA ---- */

START_TEST(test_identify)
{
    outb(P + 6, 0xa0);
    outb(P + 7, 0xec);
    ck_assert_int_eq(rig->level[0], 1);
    ck_assert_uint_eq(inb(0x3f6), 0x58);      /* alt status keeps the IRQ */
    ck_assert_int_eq(rig->level[0], 1);
    ck_assert_uint_eq(inb(P + 7), 0x58);
    ck_assert_int_eq(rig->level[0], 0);
    uint16_t id[256];
    for (int i = 0; i < 256; i++) {
        id[i] = inw(P);
    }
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(id[0], 0x0040);
    ck_assert_uint_eq(id[1], DISK_SECTORS / (16 * 63));
    ck_assert_uint_eq(id[3], 16);
    ck_assert_uint_eq(id[6], 63);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = id[27 + i] >> 8;
        model[2 * i + 1] = id[27 + i] & 0xff;
    }
    model[40] = 0;
    ck_assert_str_eq(model, "MINIPC HARDDISK                         ");
    ck_assert_uint_eq(id[49] & 0x0300, 0x0300);                /* LBA + DMA */
    ck_assert_uint_eq(id[60] | (id[61] << 16), DISK_SECTORS);
    ck_assert_uint_eq(id[83] & (1 << 10), 1 << 10);            /* LBA48 */
    ck_assert_uint_eq(id[100] | ((uint32_t)id[101] << 16), DISK_SECTORS);
    ck_assert_uint_eq(id[102] | id[103], 0);
    ck_assert_uint_eq(id[255] & 0xff, 0xa5);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++) {
        sum += ((uint8_t *)id)[i];
    }
    ck_assert_uint_eq(sum, 0);
    /* The absent slave: status 0, commands ignored. */
    outb(P + 6, 0xb0);
    ck_assert_uint_eq(inb(P + 7), 0);
    outb(P + 7, 0xec);
    ck_assert_uint_eq(inb(P + 7), 0);
    /* An empty channel reads 0 everywhere?  Not here: channel 1 has the CD
     * on the master. IDENTIFY DEVICE there aborts with the signature. */
    outb(S + 6, 0xa0);
    outb(S + 7, 0xec);
    ck_assert_uint_eq(inb(S + 7), 0x41);
    ck_assert_uint_eq(inb(S + 1), 0x04);
    ck_assert_uint_eq(inb(S + 4), 0x14);
    ck_assert_uint_eq(inb(S + 5), 0xeb);
}
END_TEST

START_TEST(test_pio_read_any_width)
{
    uint8_t want[3 * 512], got[3 * 512];
    file_read(5 * 512, want, sizeof(want));
    ata_lba28(P, 0, 5, 3, 0x20);
    int pos = 0;
    for (int sec = 0; sec < 3; sec++) {
        ck_assert_int_eq(rig->edges[0], sec + 1);     /* one interrupt per sector */
        ck_assert_uint_eq(inb(P + 7), 0x58);
        /* Sector 0 by words, 1 by dwords, 2 by bytes. */
        for (int i = 0; i < 512;) {
            if (sec == 0) {
                uint16_t v = inw(P);
                memcpy(got + pos + i, &v, 2);
                i += 2;
            } else if (sec == 1) {
                uint32_t v = inl(P);
                memcpy(got + pos + i, &v, 4);
                i += 4;
            } else {
                got[pos + i] = inb(P);
                i += 1;
            }
        }
        pos += 512;
    }
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_int_eq(rig->edges[0], 3);
    ck_assert_mem_eq(got, want, sizeof(want));
    /* The task file now points past the transfer. */
    ck_assert_uint_eq(inb(P + 3), 8);
    /* No data left: the data port reads 0 and nothing breaks. */
    ck_assert_uint_eq(inw(P), 0);
}
END_TEST

START_TEST(test_pio_write_and_multiple)
{
    uint8_t data[8 * 512], back[8 * 512];
    for (int i = 0; i < (int)sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 1);
    }
    /* WRITE SECTORS: 2 sectors at LBA 100. */
    ata_lba28(P, 0, 100, 2, 0x30);
    ck_assert_int_eq(rig->edges[0], 0);           /* no interrupt before the first block */
    ck_assert_uint_eq(inb(0x3f6) & 0x08, 0x08);
    for (int i = 0; i < 512; i += 2) {
        outw(P, data[i] | (data[i + 1] << 8));
    }
    ck_assert_int_eq(rig->edges[0], 1);
    inb(P + 7);
    for (int i = 512; i < 1024; i += 4) {
        outl(P, ldl_le(data + i));
    }
    ck_assert_int_eq(rig->edges[0], 2);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    file_read(100 * 512, back, 1024);
    ck_assert_mem_eq(back, data, 1024);

    /* SET MULTIPLE 4, WRITE MULTIPLE 8 sectors: two blocks, two IRQs. */
    outb(P + 2, 4);
    outb(P + 7, 0xc6);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    int e = rig->edges[0];
    ata_lba28(P, 0, 200, 8, 0xc5);
    for (int i = 0; i < 8 * 512; i++) {
        outb(P, data[i]);    /* byte-wide data port writes */
        if (i == 4 * 512 - 1) {
            ck_assert_int_eq(rig->edges[0], e + 1);
            inb(P + 7);
        }
    }
    ck_assert_int_eq(rig->edges[0], e + 2);
    file_read(200 * 512, back, sizeof(back));
    ck_assert_mem_eq(back, data, sizeof(back));

    /* READ MULTIPLE: 8 sectors in blocks of 4: two interrupts. */
    e = rig->edges[0];
    inb(P + 7);
    ata_lba28(P, 0, 200, 8, 0xc4);
    for (int i = 0; i < 8 * 512; i += 2) {
        uint16_t v = inw(P);
        memcpy(back + i, &v, 2);
        if (i == 0) {
            ck_assert_int_eq(rig->edges[0], e + 1);
            inb(P + 7);
        }
    }
    ck_assert_int_eq(rig->edges[0], e + 2);
    ck_assert_mem_eq(back, data, sizeof(back));

    /* Bad multiple count aborts. */
    outb(P + 2, 3);
    outb(P + 7, 0xc6);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    ck_assert_uint_eq(inb(P + 1), 0x04);
}
END_TEST

START_TEST(test_chs_and_lba48)
{
    uint8_t want[512], got[512];
    /* CHS: cylinder 2, head 3, sector 4 = ((2*16)+3)*63 + 3 = 2208. */
    file_read(2208 * 512, want, 512);
    outb(P + 6, 0xa0 | 3);
    outb(P + 2, 1);
    outb(P + 3, 4);
    outb(P + 4, 2);
    outb(P + 5, 0);
    outb(P + 7, 0x20);
    ck_assert_uint_eq(inb(P + 7), 0x58);
    for (int i = 0; i < 512; i += 2) {
        uint16_t v = inw(P);
        memcpy(got + i, &v, 2);
    }
    ck_assert_mem_eq(got, want, 512);
    /* CHS sector 0 is impossible. */
    outb(P + 6, 0xa0);
    outb(P + 3, 0);
    outb(P + 7, 0x20);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    ck_assert_uint_eq(inb(P + 1) & 0x10, 0x10);

    /* INITIALIZE DEVICE PARAMETERS changes the CHS translation. */
    outb(P + 6, 0xa0 | 7);   /* 8 heads */
    outb(P + 2, 32);         /* 32 sectors */
    outb(P + 7, 0x91);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    file_read(((1 * 8 + 2) * 32 + 4) * 512, want, 512);
    outb(P + 6, 0xa0 | 2);
    outb(P + 2, 1);
    outb(P + 3, 5);
    outb(P + 4, 1);
    outb(P + 5, 0);
    outb(P + 7, 0x20);
    ck_assert_uint_eq(inb(P + 7), 0x58);
    for (int i = 0; i < 512; i += 2) {
        uint16_t v = inw(P);
        memcpy(got + i, &v, 2);
    }
    ck_assert_mem_eq(got, want, 512);

    /* READ SECTORS EXT at LBA 8000, then the HOB bytes read back. */
    file_read(8000 * 512, want, 512);
    ata_lba48(P, 0, 8000, 1, 0x24);
    ck_assert_uint_eq(inb(P + 7), 0x58);
    for (int i = 0; i < 512; i += 4) {
        uint32_t v = inl(P);
        memcpy(got + i, &v, 4);
    }
    ck_assert_mem_eq(got, want, 512);
    ck_assert_uint_eq(inb(P + 3), (8001 & 0xff));
    outb(0x3f6, 0x80);   /* HOB */
    ck_assert_uint_eq(inb(P + 3), 0);
    outb(0x3f6, 0x00);
    /* Past the end: IDNF. A count of 0 means 65536 in 48-bit mode. */
    ata_lba48(P, 0, DISK_SECTORS - 1, 2, 0x24);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    ck_assert_uint_eq(inb(P + 1) & 0x10, 0x10);
    ata_lba48(P, 0, 0, 0, 0x24);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    ata_lba48(P, 0, 1ULL << 40, 1, 0x24);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    /* READ NATIVE MAX ADDRESS EXT */
    outb(P + 6, 0x40);
    outb(P + 7, 0x27);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(inb(P + 3) | (inb(P + 4) << 8) | (inb(P + 5) << 16), DISK_SECTORS - 1);
}
END_TEST

START_TEST(test_misc_commands)
{
    /* READ VERIFY */
    ata_lba28(P, 0, 10, 4, 0x40);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(inb(P + 3), 14);
    /* FLUSH CACHE, FLUSH CACHE EXT */
    outb(P + 7, 0xe7);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    outb(P + 7, 0xea);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    /* SET FEATURES: write cache off shows in IDENTIFY word 85. */
    outb(P + 1, 0x82);
    outb(P + 7, 0xef);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    outb(P + 1, 0x03);
    outb(P + 2, 0x22);   /* MWDMA 2 */
    outb(P + 7, 0xef);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    outb(P + 1, 0x03);
    outb(P + 2, 0x4f);   /* no such UDMA mode */
    outb(P + 7, 0xef);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    outb(P + 1, 0x77);   /* unknown subcommand */
    outb(P + 7, 0xef);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    outb(P + 7, 0xec);
    uint16_t id[256];
    for (int i = 0; i < 256; i++) {
        id[i] = inw(P);
    }
    ck_assert_uint_eq(id[85] & (1 << 5), 0);
    ck_assert_uint_eq(id[63], 0x0407);
    /* Power management */
    outb(P + 7, 0xe5);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(inb(P + 2), 0xff);
    outb(P + 7, 0xe0);
    inb(P + 7);
    outb(P + 7, 0xe5);
    inb(P + 7);
    ck_assert_uint_eq(inb(P + 2), 0x00);
    outb(P + 7, 0xe1);
    inb(P + 7);
    outb(P + 7, 0x98);
    inb(P + 7);
    ck_assert_uint_eq(inb(P + 2), 0xff);
    /* Unknown and packet-only commands abort on a disk. */
    outb(P + 7, 0xa0);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    outb(P + 7, 0x08);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    outb(P + 7, 0xb0);
    ck_assert_uint_eq(inb(P + 7), 0x41);
    /* EXECUTE DEVICE DIAGNOSTIC */
    outb(P + 7, 0x90);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(inb(P + 1), 0x01);
}
END_TEST

START_TEST(test_reset_and_nien)
{
    /* nIEN: completion without an interrupt. */
    outb(0x3f6, 0x02);
    int e = rig->edges[0];
    outb(P + 7, 0xe7);
    ck_assert_int_eq(rig->edges[0], e);
    ck_assert_int_eq(rig->level[0], 0);
    /* Enabling with the interrupt pending raises the line. */
    outb(0x3f6, 0x00);
    ck_assert_int_eq(rig->level[0], 1);
    inb(P + 7);
    ck_assert_int_eq(rig->level[0], 0);

    /* Soft reset: BSY while SRST is set, then signatures. */
    ata_lba28(P, 0, 1, 1, 0x20);
    outb(0x3f6, 0x04);
    ck_assert_uint_eq(inb(0x3f6) & 0x80, 0x80);
    outb(0x3f6, 0x00);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    ck_assert_uint_eq(inb(P + 1), 0x01);
    ck_assert_uint_eq(inb(P + 2), 1);
    ck_assert_uint_eq(inb(P + 3), 1);
    ck_assert_uint_eq(inb(P + 4), 0);
    ck_assert_uint_eq(inb(P + 5), 0);
    ck_assert_uint_eq(inw(P), 0);      /* the read was cancelled */
    outb(0x376, 0x04);
    outb(0x376, 0x00);
    ck_assert_uint_eq(inb(S + 7), 0x00);
    ck_assert_uint_eq(inb(S + 4), 0x14);
    ck_assert_uint_eq(inb(S + 5), 0xeb);
    /* DEVICE RESET on the CD. */
    outb(S + 4, 0);
    outb(S + 7, 0x08);
    ck_assert_uint_eq(inb(S + 7), 0x00);
    ck_assert_uint_eq(inb(S + 4), 0x14);
}
END_TEST

/* ---- DMA ---- */

static void prd(int i, uint32_t addr, uint32_t len, bool eot)
{
    address_space_stl(rig->mem_as, PRD_TABLE + 8 * i, addr);
    address_space_stl(rig->mem_as, PRD_TABLE + 8 * i + 4, (len & 0xffff) | (eot ? 0x80000000u : 0));
}

static void bm_start(int ch, bool to_memory)
{
    uint16_t b = BMDMA_BASE + 8 * ch;
    outl(b + 4, PRD_TABLE);
    outb(b + 2, 0x06);    /* clear INT and ERR */
    outb(b, to_memory ? 0x08 : 0x00);
    outb(b, to_memory ? 0x09 : 0x01);
}

START_TEST(test_dma_read_write)
{
    uint8_t *ram = memory_region_get_ram_ptr(rig->ram);
    uint8_t want[16 * 512];
    file_read(300 * 512, want, sizeof(want));
    /* 16 sectors into two scattered buffers. */
    prd(0, DMA_BUF, 3 * 1024, false);
    prd(1, DMA_BUF + 0x10000, 16 * 512 - 3 * 1024, true);
    ata_lba28(P, 0, 300, 16, 0xc8);
    ck_assert_int_eq(rig->edges[0], 0);
    ck_assert_uint_eq(inb(0x3f6) & 0x08, 0x08);
    bm_start(0, true);
    ck_assert_int_eq(rig->edges[0], 1);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x04);   /* INT, not active */
    ck_assert_uint_eq(inb(P + 7), 0x50);
    outb(BMDMA_BASE, 0x00);
    ck_assert_mem_eq(ram + DMA_BUF, want, 3 * 1024);
    ck_assert_mem_eq(ram + DMA_BUF + 0x10000, want + 3 * 1024, sizeof(want) - 3 * 1024);

    /* Engine first, then the command (WRITE DMA EXT). */
    for (int i = 0; i < 4096; i++) {
        ram[DMA_BUF + 0x30000 + i] = (uint8_t)(i ^ 0xa5);
    }
    prd(0, DMA_BUF + 0x30000, 4096, true);
    bm_start(0, false);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x01, 0x01);
    ata_lba48(P, 0, 5000, 8, 0x35);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x04);
    ck_assert_uint_eq(inb(P + 7), 0x50);
    outb(BMDMA_BASE, 0x00);
    uint8_t back[4096];
    file_read(5000 * 512, back, sizeof(back));
    ck_assert_mem_eq(back, ram + DMA_BUF + 0x30000, 4096);

    /* A 64 KiB entry (count 0) with READ DMA EXT of 128 sectors. */
    uint8_t *big = xmalloc(128 * 512);
    file_read(1000 * 512, big, 128 * 512);
    prd(0, DMA_BUF, 0, true);
    ata_lba48(P, 0, 1000, 128, 0x25);
    bm_start(0, true);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x04);
    ck_assert_mem_eq(ram + DMA_BUF, big, 128 * 512);
    free(big);
    outb(BMDMA_BASE, 0);
    inb(P + 7);
}
END_TEST

START_TEST(test_dma_table_sizes)
{
    /* Table shorter than the transfer: no interrupt, engine stopped,
     * error status combination (INT=0, ACTIVE=0). */
    prd(0, DMA_BUF, 512, true);
    int e = rig->edges[0];
    ata_lba28(P, 0, 0, 4, 0xc8);
    bm_start(0, true);
    ck_assert_int_eq(rig->edges[0], e);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x00);
    outb(BMDMA_BASE, 0);
    /* Table larger than the transfer: INT=1, ACTIVE stays 1. */
    prd(0, DMA_BUF, 8192, true);
    ata_lba28(P, 0, 0, 4, 0xc8);
    bm_start(0, true);
    ck_assert_int_eq(rig->edges[0], e + 1);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x05);
    outb(BMDMA_BASE, 0);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x04);
    outb(BMDMA_BASE + 2, 0x04);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x00);
    /* Register widths: the table pointer in words and bytes. */
    outw(BMDMA_BASE + 4, 0x1237);
    outw(BMDMA_BASE + 6, 0x0001);
    ck_assert_uint_eq(inl(BMDMA_BASE + 4), 0x00011234);
    outb(BMDMA_BASE + 2, 0x60);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2), 0x60);
}
END_TEST

START_TEST(test_dma_hostile_tables)
{
    uint8_t *ram = memory_region_get_ram_ptr(rig->ram);
    /* No EOT anywhere: a table of 8192 tiny entries ends the transfer. */
    for (int i = 0; i < 8192; i++) {
        prd(i, DMA_BUF, 2, false);
    }
    ata_lba48(P, 0, 0, 256, 0x25);   /* 128 KiB wanted, 16 KiB described */
    bm_start(0, true);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x00);
    outb(BMDMA_BASE, 0);
    /* Table outside RAM (reads all-ones: 64 KiB entries at 0xfffffffe,
     * beyond RAM and 4 GiB), and data beyond RAM: ignored writes. */
    outl(BMDMA_BASE + 4, 0xfffffff8);
    outb(BMDMA_BASE, 0x09);
    ata_lba28(P, 0, 0, 8, 0xc8);
    inb(P + 7);
    outb(BMDMA_BASE, 0);
    prd(0, RAM_SIZE - 512, 4096, true);
    ata_lba28(P, 0, 0, 8, 0xc8);
    bm_start(0, true);
    ck_assert_uint_eq(inb(BMDMA_BASE + 2) & 0x07, 0x04);
    uint8_t want[512];
    file_read(0, want, 512);
    ck_assert_mem_eq(ram + RAM_SIZE - 512, want, 512);
    outb(BMDMA_BASE, 0);
    /* WRITE DMA from beyond RAM writes all-ones, never crashes. */
    prd(0, 0xfff00000, 1024, true);
    ata_lba28(P, 0, 50, 2, 0xca);
    bm_start(0, false);
    uint8_t back[1024];
    file_read(50 * 512, back, 1024);
    for (int i = 0; i < 1024; i++) {
        ck_assert_uint_eq(back[i], 0xff);
    }
    outb(BMDMA_BASE, 0);
}
END_TEST

/* ---- ATAPI ---- */

static uint16_t cd_limit = 0xfffe;

/* Sends a packet to the CD (secondary master); returns the status. */
static uint8_t atapi_cmd(const uint8_t *pkt, bool dma)
{
    outb(S + 6, 0xa0);
    outb(S + 1, dma ? 1 : 0);
    outb(S + 4, cd_limit & 0xff);
    outb(S + 5, cd_limit >> 8);
    outb(S + 7, 0xa0);
    ck_assert_uint_eq(inb(0x376) & 0x88, 0x08);
    ck_assert_uint_eq(inb(S + 2) & 3, 1);   /* CoD */
    for (int i = 0; i < 12; i += 2) {
        outw(S, pkt[i] | (pkt[i + 1] << 8));
    }
    return inb(0x376);
}

/* Reads all PIO data of the command into buf; returns the byte count. */
static int atapi_pio_data(uint8_t *buf, int max)
{
    int n = 0;
    while ((inb(0x376) & 0x08)) {
        ck_assert_uint_eq(inb(S + 2) & 3, 2);   /* IO, data */
        int chunk = inb(S + 4) | (inb(S + 5) << 8);
        ck_assert_int_le(chunk, cd_limit);
        inb(S + 7);
        for (int i = 0; i < chunk; i += 2) {
            uint16_t v = inw(S);
            if (n + i < max) {
                buf[n + i] = v;
            }
            if (n + i + 1 < max && i + 1 < chunk) {
                buf[n + i + 1] = v >> 8;
            }
        }
        n += chunk;
    }
    ck_assert_uint_eq(inb(S + 2) & 3, 3);      /* command complete */
    return n;
}

static int atapi_in(const uint8_t *pkt, uint8_t *buf, int max)
{
    uint8_t st = atapi_cmd(pkt, false);
    if (st & 0x01) {
        inb(S + 7);
        return -1;
    }
    return atapi_pio_data(buf, max);
}

static void request_sense(uint8_t *key, uint8_t *asc)
{
    uint8_t pkt[12] = { 0x03, 0, 0, 0, 18 }, buf[18];
    ck_assert_int_eq(atapi_in(pkt, buf, 18), 18);
    ck_assert_uint_eq(buf[0], 0x70);
    *key = buf[2];
    *asc = buf[12];
}

START_TEST(test_atapi_basics)
{
    uint8_t buf[4096], key, asc;
    int64_t secs = rig->iso_size / 2048;

    /* IDENTIFY PACKET DEVICE */
    outb(S + 6, 0xa0);
    outb(S + 7, 0xa1);
    ck_assert_uint_eq(inb(S + 7), 0x58);
    uint16_t id[256];
    for (int i = 0; i < 256; i++) {
        id[i] = inw(S);
    }
    ck_assert_uint_eq(id[0], 0x85c0);
    ck_assert_uint_eq(id[49] & 0x0300, 0x0300);

    uint8_t tur[12] = { 0x00 };
    ck_assert_uint_eq(atapi_cmd(tur, false) & 0x89, 0x00);
    ck_assert_uint_eq(inb(S + 2) & 3, 3);
    ck_assert_int_eq(rig->level[1], 1);
    inb(S + 7);
    ck_assert_int_eq(rig->level[1], 0);

    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    ck_assert_int_eq(atapi_in(inq, buf, sizeof(buf)), 36);
    ck_assert_uint_eq(buf[0], 0x05);
    ck_assert_uint_eq(buf[1], 0x80);
    ck_assert(memcmp(buf + 16, "MINIPC DVD-ROM", 14) == 0);
    /* Allocation length cuts the reply. */
    inq[4] = 5;
    ck_assert_int_eq(atapi_in(inq, buf, sizeof(buf)), 5);

    uint8_t cap[12] = { 0x25 };
    ck_assert_int_eq(atapi_in(cap, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(ldl_be(buf), secs - 1);
    ck_assert_uint_eq(ldl_be(buf + 4), 2048);

    /* Unknown opcode: CHECK CONDITION, ILLEGAL REQUEST / 0x20. */
    uint8_t bad[12] = { 0xff };
    ck_assert_uint_eq(atapi_cmd(bad, false) & 0x01, 0x01);
    ck_assert_uint_eq(inb(S + 1) >> 4, 5);
    inb(S + 7);
    request_sense(&key, &asc);
    ck_assert_uint_eq(key, 5);
    ck_assert_uint_eq(asc, 0x20);
    request_sense(&key, &asc);
    ck_assert_uint_eq(key, 0);

    /* READ(10) past the end: LBA out of range. */
    uint8_t rd[12] = { 0x28 };
    stl_be(rd + 2, secs - 1);
    stw_be(rd + 7, 2);
    ck_assert_int_eq(atapi_in(rd, buf, sizeof(buf)), -1);
    request_sense(&key, &asc);
    ck_assert_uint_eq(asc, 0x21);

    /* MODE SENSE(10) pages 0x2a, 0x01, all; saved values refused. */
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255 };
    ck_assert_int_eq(atapi_in(ms, buf, sizeof(buf)), 30);
    ck_assert_uint_eq(ldw_be(buf), 28);
    ck_assert_uint_eq(buf[8], 0x2a);
    ck_assert_uint_eq(buf[9], 20);
    ms[2] = 0x01;
    ck_assert_int_eq(atapi_in(ms, buf, sizeof(buf)), 16);
    ck_assert_uint_eq(buf[8], 0x01);
    ms[2] = 0x3f;
    ck_assert_int_eq(atapi_in(ms, buf, sizeof(buf)), 38);
    ms[2] = 0x0e;
    ck_assert_int_eq(atapi_in(ms, buf, sizeof(buf)), -1);
    ms[2] = 0xea;
    ck_assert_int_eq(atapi_in(ms, buf, sizeof(buf)), -1);
    request_sense(&key, &asc);
    ck_assert_uint_eq(asc, 0x39);

    /* READ TOC format 0 in LBA and MSF. */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100 };
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), 20);
    ck_assert_uint_eq(ldw_be(buf), 18);
    ck_assert_uint_eq(buf[2], 1);
    ck_assert_uint_eq(buf[3], 1);
    ck_assert_uint_eq(buf[6], 1);
    ck_assert_uint_eq(ldl_be(buf + 8), 0);
    ck_assert_uint_eq(buf[14], 0xaa);
    ck_assert_uint_eq(ldl_be(buf + 16), secs);
    toc[1] = 0x02;
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), 20);
    ck_assert_uint_eq(buf[9], 0);
    ck_assert_uint_eq(buf[10], 2);    /* 00:02:00 */
    ck_assert_uint_eq(buf[11], 0);
    int64_t f = secs + 150;
    ck_assert_uint_eq(buf[17], f / 4500);
    ck_assert_uint_eq(buf[18], (f / 75) % 60);
    ck_assert_uint_eq(buf[19], f % 75);
    /* Format 1 (sessions) and 2 (full TOC). */
    toc[1] = 0;
    toc[2] = 1;
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), 12);
    ck_assert_uint_eq(ldw_be(buf), 10);
    toc[2] = 2;
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), 48);
    ck_assert_uint_eq(buf[4 + 3], 0xa0);
    ck_assert_uint_eq(buf[4 + 33 + 3], 0x01);
    ck_assert_uint_eq(buf[4 + 22 + 3], 0xa2);
    ck_assert_uint_eq(buf[4 + 22 + 8], f / 4500);
    toc[2] = 5;
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), -1);
    /* Start track 2 does not exist. */
    toc[2] = 0;
    toc[6] = 2;
    ck_assert_int_eq(atapi_in(toc, buf, sizeof(buf)), -1);

    /* GET CONFIGURATION: current profile CD-ROM (small image). */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0x01, 0x00 };
    int n = atapi_in(gc, buf, sizeof(buf));
    ck_assert_int_eq(n, 8 + 12 + 12 + 8);
    ck_assert_uint_eq(ldl_be(buf), n - 4);
    ck_assert_uint_eq(ldw_be(buf + 6), 0x0008);
    ck_assert_uint_eq(ldw_be(buf + 8), 0x0000);
    gc[1] = 2;
    gc[3] = 1;
    ck_assert_int_eq(atapi_in(gc, buf, sizeof(buf)), 8 + 12);
    ck_assert_uint_eq(ldw_be(buf + 8), 0x0001);

    /* READ DISC INFORMATION, MECHANISM STATUS, SET CD SPEED, SEEK. */
    uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
    ck_assert_int_eq(atapi_in(di, buf, sizeof(buf)), 34);
    ck_assert_uint_eq(ldw_be(buf), 32);
    ck_assert_uint_eq(buf[2], 0x0e);
    uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    ck_assert_int_eq(atapi_in(mech, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[1], 0);
    uint8_t speed[12] = { 0xbb, 0, 0xff, 0xff };
    ck_assert_int_eq(atapi_in(speed, buf, sizeof(buf)), 0);
    uint8_t seek[12] = { 0x2b, 0, 0, 0, 0, 5 };
    ck_assert_int_eq(atapi_in(seek, buf, sizeof(buf)), 0);
}
END_TEST

static void iso_read(int64_t off, uint8_t *buf, size_t len)
{
    int fd = open(rig->iso_path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(full_pread(fd, buf, len, off), (ssize_t)len);
    close(fd);
}

START_TEST(test_atapi_read_pio_and_dma)
{
    uint8_t want[6 * 2048], got[6 * 2048];
    iso_read(16 * 2048, want, sizeof(want));
    if (rig->iso_from_genisoimage) {
        ck_assert(memcmp(want + 1, "CD001", 5) == 0);   /* primary volume descriptor */
    }
    /* READ(10) of 6 sectors with a byte limit that splits sectors. */
    cd_limit = 5000;
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 6 };
    int e = rig->edges[1];
    ck_assert_int_eq(atapi_in(rd, got, sizeof(got)), (int)sizeof(got));
    ck_assert_mem_eq(got, want, sizeof(want));
    /* 3 chunks of <= 5000 bytes (12288 bytes) + completion. */
    ck_assert_int_eq(rig->edges[1] - e, 4);
    inb(S + 7);
    cd_limit = 0xfffe;

    /* READ(12) by DMA. */
    uint8_t *ram = memory_region_get_ram_ptr(rig->ram);
    prd(0, DMA_BUF, 2048, false);
    prd(1, DMA_BUF + 0x8000, 4 * 2048, true);
    uint8_t rd12[12] = { 0xa8, 0, 0, 0, 0, 17, 0, 0, 0, 5 };
    ck_assert_uint_eq(atapi_cmd(rd12, true) & 0x01, 0);
    bm_start(1, true);
    ck_assert_uint_eq(inb(BMDMA_BASE + 8 + 2) & 0x07, 0x04);
    ck_assert_uint_eq(inb(S + 7) & 0x89, 0);
    ck_assert_uint_eq(inb(S + 2) & 3, 3);
    outb(BMDMA_BASE + 8, 0);
    ck_assert_mem_eq(ram + DMA_BUF, want + 2048, 2048);
    ck_assert_mem_eq(ram + DMA_BUF + 0x8000, want + 4096, 4 * 2048);

    /* INQUIRY by DMA too. */
    prd(0, DMA_BUF, 36, true);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    atapi_cmd(inq, true);
    bm_start(1, true);
    inb(S + 7);
    outb(BMDMA_BASE + 8, 0);
    ck_assert_uint_eq(ram[DMA_BUF], 0x05);

    /* READ CD, user data. */
    uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 18, 0, 0, 1, 0x10 };
    ck_assert_int_eq(atapi_in(rcd, got, sizeof(got)), 2048);
    ck_assert_mem_eq(got, want + 2 * 2048, 2048);
    rcd[9] = 0xf8;
    ck_assert_int_eq(atapi_in(rcd, got, sizeof(got)), -1);

    /* Odd byte limit: rounded down to even; dword reads work too. */
    cd_limit = 2049;
    uint8_t rd1[12] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 1 };
    ck_assert_uint_eq(atapi_cmd(rd1, false) & 1, 0);
    ck_assert_uint_eq(inb(S + 4) | (inb(S + 5) << 8), 2048);
    for (int i = 0; i < 2048; i += 4) {
        uint32_t v = inl(S);
        memcpy(got + i, &v, 4);
    }
    ck_assert_mem_eq(got, want, 2048);
    ck_assert_uint_eq(inb(S + 2) & 3, 3);
    inb(S + 7);
    cd_limit = 0xfffe;
}
END_TEST

START_TEST(test_atapi_media_change)
{
    uint8_t buf[64], key, asc;
    IDEState *cd = piix_ide_drive(rig->ide, 2);
    uint8_t tur[12] = { 0x00 };

    /* Lock the door: the monitor cannot eject without force. */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    ck_assert_int_eq(atapi_in(lock, buf, sizeof(buf)), 0);
    ck_assert(ide_cd_is_locked(cd));
    BlockDriverState *old = NULL;
    Error *err = NULL;
    ck_assert_int_eq(ide_cd_eject(cd, false, &old, &err), -EBUSY);
    ck_assert_ptr_nonnull(err);
    error_free(err);
    /* The guest sees the eject request. */
    uint8_t ges[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    ck_assert_int_eq(atapi_in(ges, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[2], 0x04);
    ck_assert_uint_eq(buf[4], 1);
    ck_assert_uint_eq(buf[5], 0x02);
    /* START STOP UNIT eject while locked fails. */
    uint8_t ssu[12] = { 0x1b, 0, 0, 0, 0x02 };
    ck_assert_int_eq(atapi_in(ssu, buf, sizeof(buf)), -1);
    request_sense(&key, &asc);
    ck_assert_uint_eq(asc, 0x53);
    lock[4] = 0;
    ck_assert_int_eq(atapi_in(lock, buf, sizeof(buf)), 0);
    /* Guest ejects: tray open, not ready, media removal event. */
    ck_assert_int_eq(atapi_in(ssu, buf, sizeof(buf)), 0);
    ck_assert(ide_cd_tray_open(cd));
    ck_assert_int_eq(atapi_in(tur, buf, sizeof(buf)), -1);
    request_sense(&key, &asc);
    ck_assert_uint_eq(key, 2);
    ck_assert_uint_eq(asc, 0x3a);
    ck_assert_int_eq(atapi_in(ges, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[4], 3);
    ck_assert_uint_eq(buf[5], 0x01);
    uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    ck_assert_int_eq(atapi_in(mech, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[1], 0x10);
    /* Close the tray: UNIT ATTENTION once, then ready. */
    ssu[4] = 0x03;
    ck_assert_int_eq(atapi_in(ssu, buf, sizeof(buf)), 0);
    ck_assert_int_eq(atapi_in(tur, buf, sizeof(buf)), -1);
    request_sense(&key, &asc);
    ck_assert_uint_eq(key, 6);
    ck_assert_uint_eq(asc, 0x28);
    ck_assert_int_eq(atapi_in(tur, buf, sizeof(buf)), 0);

    /* Monitor eject and change. */
    ck_assert_int_eq(ide_cd_eject(cd, false, &old, NULL), 0);
    ck_assert_ptr_eq(old, rig->cd);
    uint8_t cap[12] = { 0x25 };
    ck_assert_int_eq(atapi_in(cap, buf, sizeof(buf)), -1);
    /* GET CONFIGURATION works without a medium: no current profile. */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    ck_assert_int_gt(atapi_in(gc, buf, sizeof(buf)), 0);
    ck_assert_uint_eq(ldw_be(buf + 6), 0);
    ck_assert_int_eq(ide_cd_insert(cd, old, NULL, NULL), 0);
    /* INQUIRY passes the unit attention, READ CAPACITY reports it. */
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    ck_assert_int_eq(atapi_in(inq, buf, sizeof(buf)), 36);
    ck_assert_int_eq(atapi_in(cap, buf, sizeof(buf)), -1);
    ck_assert_uint_eq(inb(S + 1) >> 4, 6);
    ck_assert_int_eq(atapi_in(cap, buf, sizeof(buf)), 8);
    ck_assert_int_eq(atapi_in(ges, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[4], 2);   /* new media */
    ck_assert_int_eq(atapi_in(ges, buf, sizeof(buf)), 8);
    ck_assert_uint_eq(buf[4], 0);
    /* Not polled: refused. */
    ges[1] = 0;
    ck_assert_int_eq(atapi_in(ges, buf, sizeof(buf)), -1);
    /* Forced eject of a locked drive. */
    lock[4] = 1;
    ck_assert_int_eq(atapi_in(lock, buf, sizeof(buf)), 0);
    ck_assert_int_eq(ide_cd_eject(cd, true, &old, NULL), 0);
    ck_assert(!ide_cd_is_locked(cd));
    ck_assert_int_eq(ide_cd_insert(cd, old, NULL, NULL), 0);
    /* Disks are not CD-ROMs. */
    ck_assert_int_eq(ide_cd_eject(piix_ide_drive(rig->ide, 0), true, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_pci_identity)
{
    PCIDevice *d = &rig->ide->dev;
    ck_assert_uint_eq(pci_bus_config_read(rig->pci, PCI_DEVFN(1, 1), 0, 4), 0x70108086);
    ck_assert_uint_eq(pci_bus_config_read(rig->pci, PCI_DEVFN(1, 1), 0x08, 4) >> 8, 0x010180);
    ck_assert_uint_eq(pci_bar_address(d, 4), BMDMA_BASE);
    pci_bus_config_write(rig->pci, PCI_DEVFN(1, 1), 0x40, 0x8000, 2);
    ck_assert_uint_eq(pci_bus_config_read(rig->pci, PCI_DEVFN(1, 1), 0x40, 2), 0x8000);
    piix_ide_reset(rig->ide);
    ck_assert_uint_eq(pci_bus_config_read(rig->pci, PCI_DEVFN(1, 1), 0x40, 2), 0);
    ck_assert_uint_eq(pci_bar_address(d, 4), PCI_BAR_UNMAPPED);
    /* Legacy ports still answer. */
    outb(P + 7, 0xe7);
    ck_assert_uint_eq(inb(P + 7), 0x50);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ide");
    TCase *tc = tcase_create("ide");
    tcase_set_timeout(tc, 0);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_identify);
    tcase_add_test(tc, test_pio_read_any_width);
    tcase_add_test(tc, test_pio_write_and_multiple);
    tcase_add_test(tc, test_chs_and_lba48);
    tcase_add_test(tc, test_misc_commands);
    tcase_add_test(tc, test_reset_and_nien);
    tcase_add_test(tc, test_dma_read_write);
    tcase_add_test(tc, test_dma_table_sizes);
    tcase_add_test(tc, test_dma_hostile_tables);
    tcase_add_test(tc, test_atapi_basics);
    tcase_add_test(tc, test_atapi_read_pio_and_dma);
    tcase_add_test(tc, test_atapi_media_change);
    tcase_add_test(tc, test_pci_identity);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
