/*
 * IDE channel and ATA disk: task file registers, PIO and DMA data
 * transfers, the ATA command set a PC BIOS and Linux use.
 *
 * Reference: ATA/ATAPI-6 (T13/1410D). Commands complete synchronously;
 * the interrupt for a command is raised before the port access that
 * started it returns.
 */
#include <stdio.h>

#include "ide-internal.h"

static IDEState *cur_drive(IDEBus *bus)
{
    return &bus->ifs[bus->unit & 1];
}

/* ---- interrupts --------------------------------------------------------- */

static void bus_update_irq(IDEBus *bus, bool force)
{
    IDEState *s = cur_drive(bus);
    bool level = s->irq_pending && !(bus->cmd & ATA_NIEN);
    if (level != bus->irq_level || force) {
        bus->irq_level = level;
        if (level && bus->dma_ops && bus->dma_ops->irq) {
            bus->dma_ops->irq(bus->dma_opaque);
        }
        irq_set(bus->irq, level);
    }
}

void ide_set_irq(IDEState *s)
{
    s->irq_pending = true;
    bus_update_irq(s->bus, false);
}

static void ide_clear_irq(IDEState *s)
{
    s->irq_pending = false;
    bus_update_irq(s->bus, false);
}

/* ---- helpers ------------------------------------------------------------- */

void ide_put_string(uint16_t *words, int first_word, const char *str, int len)
{
    /* ATA strings: space padded, two characters per word, the first in
     * the high byte. */
    size_t slen = strlen(str);
    for (int i = 0; i < len; i++) {
        uint8_t c = i < (int)slen ? (uint8_t)str[i] : ' ';
        uint16_t *w = &words[first_word + i / 2];
        *w = (i & 1) ? ((*w & 0xff00) | c) : ((*w & 0x00ff) | (c << 8));
    }
}

/* Word 255: signature 0xa5 and a checksum making all 512 bytes sum to 0. */
void ide_identify_finish(uint16_t *words)
{
    uint8_t *b = (uint8_t *)words;
    uint8_t sum = 0;
    /* Words are stored little-endian in io_buffer (built with stw_le). */
    b[510] = 0xa5;
    for (int i = 0; i < 511; i++) {
        sum += b[i];
    }
    b[511] = (uint8_t)-sum;
}

static void put_word(uint8_t *buf, int word, uint16_t v)
{
    stw_le(buf + 2 * word, v);
}

bool ide_medium_present(IDEState *s)
{
    return s->bs && !(s->kind == IDE_CD && s->tray_open);
}

void ide_set_signature(IDEState *s)
{
    s->select &= ~0x0f;
    s->nsector = 1;
    s->sector = 1;
    if (s->kind == IDE_CD) {
        s->lcyl = 0x14;
        s->hcyl = 0xeb;
    } else if (s->kind == IDE_HD) {
        s->lcyl = 0;
        s->hcyl = 0;
    } else {
        s->lcyl = 0xff;
        s->hcyl = 0xff;
    }
}

void ide_transfer_start(IDEState *s, uint32_t start, uint32_t end, int op, bool to_device)
{
    if (start > end || end > IDE_BUF_SIZE) {
        start = end = 0;
    }
    s->data_ptr = start;
    s->data_end = end;
    s->pio_op = op;
    s->pio_to_device = to_device;
    s->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
}

void ide_transfer_stop(IDEState *s)
{
    s->pio_op = PIO_NONE;
    s->data_ptr = s->data_end = 0;
    s->status = ATA_DRDY | ATA_DSC;
}

void ide_abort_command(IDEState *s)
{
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->status = ATA_DRDY | ATA_ERR;
    s->error = ATA_ABRT;
    ide_set_irq(s);
}

static void ide_cmd_done(IDEState *s)
{
    s->status = ATA_DRDY | ATA_DSC;
    ide_set_irq(s);
}

static void ide_rw_error(IDEState *s, uint8_t error)
{
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->status = ATA_DRDY | ATA_ERR;
    s->error = error;
    ide_set_irq(s);
}

/* ---- sectors ----------------------------------------------------------- */

static bool sector_range_ok(IDEState *s, int64_t sector, uint64_t n)
{
    return s->bs && sector >= 0 && sector <= s->nb_sectors &&
           n <= (uint64_t)(s->nb_sectors - sector);
}

static int hd_read(IDEState *s, int64_t sector, uint8_t *buf, uint32_t n)
{
    if (!sector_range_ok(s, sector, n) || n > IDE_BUF_SECTORS) {
        return -EIO;
    }
    return bdrv_pread(s->bs, sector * IDE_SECTOR_SIZE, buf, (int64_t)n * IDE_SECTOR_SIZE, NULL);
}

static int hd_write(IDEState *s, int64_t sector, const uint8_t *buf, uint32_t n)
{
    if (!sector_range_ok(s, sector, n) || n > IDE_BUF_SECTORS) {
        return -EIO;
    }
    int r = bdrv_pwrite(s->bs, sector * IDE_SECTOR_SIZE, buf, (int64_t)n * IDE_SECTOR_SIZE, NULL);
    /* Write cache disabled (SET FEATURES 82h): data is on the medium
     * before the command completes. */
    if (r >= 0 && !s->wce) {
        r = bdrv_flush(s->bs, NULL);
    }
    return r;
}

/* Start sector from the task file, or -1 for an impossible CHS address. */
static int64_t ide_get_sector(IDEState *s)
{
    if (s->select & 0x40) {
        if (!s->lba48) {
            return ((int64_t)(s->select & 0x0f) << 24) | ((int64_t)s->hcyl << 16) |
                   ((int64_t)s->lcyl << 8) | s->sector;
        }
        return ((int64_t)s->hob_hcyl << 40) | ((int64_t)s->hob_lcyl << 32) |
               ((int64_t)s->hob_sector << 24) | ((int64_t)s->hcyl << 16) |
               ((int64_t)s->lcyl << 8) | s->sector;
    }
    uint32_t cyl = (s->hcyl << 8) | s->lcyl;
    uint32_t head = s->select & 0x0f;
    uint32_t sect = s->sector;
    if (!s->cur_heads || !s->cur_sectors || sect == 0 || sect > s->cur_sectors ||
        head >= s->cur_heads) {
        return -1;
    }
    return ((int64_t)cyl * s->cur_heads + head) * s->cur_sectors + sect - 1;
}

static void ide_set_sector(IDEState *s, int64_t n)
{
    if (s->select & 0x40) {
        s->sector = n;
        s->lcyl = n >> 8;
        s->hcyl = n >> 16;
        if (!s->lba48) {
            s->select = (s->select & 0xf0) | ((n >> 24) & 0x0f);
        } else {
            s->hob_sector = n >> 24;
            s->hob_lcyl = n >> 32;
            s->hob_hcyl = n >> 40;
        }
        return;
    }
    if (!s->cur_heads || !s->cur_sectors) {
        return;
    }
    uint32_t per_cyl = s->cur_heads * s->cur_sectors;
    int64_t cyl = n / per_cyl;
    uint32_t r = n % per_cyl;
    s->lcyl = cyl;
    s->hcyl = cyl >> 8;
    s->select = (s->select & 0xf0) | ((r / s->cur_sectors) & 0x0f);
    s->sector = r % s->cur_sectors + 1;
}

static uint32_t ide_get_count(IDEState *s)
{
    if (s->lba48) {
        uint32_t n = (s->hob_nsector << 8) | s->nsector;
        return n ? n : 65536;
    }
    return s->nsector ? s->nsector : 256;
}

/* ---- PIO data ------------------------------------------------------------ */

static void ata_pio_read_next(IDEState *s)
{
    uint32_t n = MIN(s->nsector_left, MAX(s->block_sectors, 1u));
    if (hd_read(s, s->sector_num, s->io_buffer, n) < 0) {
        ide_rw_error(s, ATA_UNC);
        return;
    }
    s->sector_num += n;
    s->nsector_left -= n;
    ide_set_sector(s, s->sector_num);
    ide_transfer_start(s, 0, n * IDE_SECTOR_SIZE, PIO_ATA_READ, false);
    ide_set_irq(s);
}

static void ata_pio_write_next(IDEState *s)
{
    uint32_t n = MIN(s->nsector_left, MAX(s->block_sectors, 1u));
    ide_transfer_start(s, 0, n * IDE_SECTOR_SIZE, PIO_ATA_WRITE, true);
}

static void ata_pio_write_block_done(IDEState *s)
{
    uint32_t n = s->data_end / IDE_SECTOR_SIZE;
    if (n > s->nsector_left || hd_write(s, s->sector_num, s->io_buffer, n) < 0) {
        ide_rw_error(s, ATA_ABRT);
        return;
    }
    s->sector_num += n;
    s->nsector_left -= n;
    ide_set_sector(s, s->sector_num);
    if (s->nsector_left == 0) {
        ide_transfer_stop(s);
    } else {
        ata_pio_write_next(s);
    }
    ide_set_irq(s);
}

static void pio_block_end(IDEState *s)
{
    switch (s->pio_op) {
    case PIO_ATA_READ:
        if (s->nsector_left == 0) {
            ide_transfer_stop(s);
        } else {
            ata_pio_read_next(s);
        }
        break;
    case PIO_ATA_WRITE:
        ata_pio_write_block_done(s);
        break;
    case PIO_ATAPI_PACKET:
        s->pio_op = PIO_NONE;
        ide_atapi_packet_received(s);
        break;
    case PIO_ATAPI_DATA:
        ide_atapi_chunk_done(s);
        break;
    default:
        ide_transfer_stop(s);
        break;
    }
}

static bool pio_active(IDEState *s, bool to_device)
{
    return s->pio_op != PIO_NONE && (s->status & ATA_DRQ) && s->pio_to_device == to_device &&
           s->data_ptr < s->data_end && s->data_end <= IDE_BUF_SIZE;
}

static uint32_t data_read(IDEBus *bus, unsigned size)
{
    IDEState *s = cur_drive(bus);
    if (!pio_active(s, false)) {
        return 0;
    }
    uint32_t v = 0;
    unsigned n = MIN(size, s->data_end - s->data_ptr);
    memcpy(&v, s->io_buffer + s->data_ptr, n);
    s->data_ptr += n;
    if (s->data_ptr >= s->data_end) {
        pio_block_end(s);
    }
    return v;
}

static void data_write(IDEBus *bus, uint32_t val, unsigned size)
{
    IDEState *s = cur_drive(bus);
    if (!pio_active(s, true)) {
        return;
    }
    unsigned n = MIN(size, s->data_end - s->data_ptr);
    memcpy(s->io_buffer + s->data_ptr, &val, n);
    s->data_ptr += n;
    if (s->data_ptr >= s->data_end) {
        pio_block_end(s);
    }
}

/* ---- DMA ----------------------------------------------------------------- */

void ide_dma_finish(IDEState *s, bool table_short)
{
    IDEBus *bus = s->bus;
    s->dma_op = DMA_NONE;
    if (bus->dma_ops && bus->dma_ops->done) {
        bus->dma_ops->done(bus->dma_opaque, table_short);
    }
}

static void ata_dma_run(IDEState *s)
{
    IDEBus *bus = s->bus;
    bool write = s->dma_op == DMA_ATA_WRITE;
    while (s->nsector_left > 0) {
        uint32_t n = MIN(s->nsector_left, (uint32_t)IDE_BUF_SECTORS);
        int64_t len = (int64_t)n * IDE_SECTOR_SIZE;
        if (!write && hd_read(s, s->sector_num, s->io_buffer, n) < 0) {
            ide_dma_finish(s, false);
            ide_rw_error(s, ATA_UNC);
            return;
        }
        if (bus->dma_ops->rw(bus->dma_opaque, s->io_buffer, len, !write) < len) {
            /* The descriptor table ended first: stop without an
             * interrupt, the engine reports the error. */
            s->status = ATA_DRDY | ATA_DSC;
            ide_dma_finish(s, true);
            return;
        }
        if (write && hd_write(s, s->sector_num, s->io_buffer, n) < 0) {
            ide_dma_finish(s, false);
            ide_rw_error(s, ATA_ABRT);
            return;
        }
        s->sector_num += n;
        s->nsector_left -= n;
    }
    ide_set_sector(s, s->sector_num);
    s->status = ATA_DRDY | ATA_DSC;
    ide_dma_finish(s, false);
    ide_set_irq(s);
}

static void ide_dma_run(IDEState *s)
{
    IDEBus *bus = s->bus;
    if (!bus->dma_ops || !bus->dma_ops->rw) {
        return;
    }
    bus->dma_active = false;
    if (s->dma_op == DMA_ATAPI) {
        ide_atapi_dma_run(s);
    } else if (s->dma_op == DMA_ATA_READ || s->dma_op == DMA_ATA_WRITE) {
        ata_dma_run(s);
    }
}

void ide_bus_dma_start(IDEBus *bus)
{
    bus->dma_active = true;
    IDEState *s = cur_drive(bus);
    if (s->dma_op != DMA_NONE) {
        ide_dma_run(s);
    }
}

void ide_bus_dma_stop(IDEBus *bus)
{
    bus->dma_active = false;
}

/* Hands a prepared DMA command to the engine (now, if it is running). */
void ide_dma_begin(IDEState *s, int op)
{
    s->dma_op = op;
    s->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
    if (s->bus->dma_active) {
        ide_dma_run(s);
    }
}

/* ---- ATA commands --------------------------------------------------------- */

static void ata_identify(IDEState *s)
{
    uint8_t *b = s->io_buffer;
    memset(b, 0, 512);
    uint64_t chs = (uint64_t)s->cur_cylinders * s->cur_heads * s->cur_sectors;
    uint32_t lba28 = MIN(s->nb_sectors, 0x0fffffff);
    uint8_t xm = s->xfer_mode;

    put_word(b, 0, 0x0040);                   /* fixed disk */
    put_word(b, 1, s->cylinders);
    put_word(b, 3, s->heads);
    put_word(b, 4, IDE_SECTOR_SIZE * s->sectors);  /* obsolete */
    put_word(b, 5, IDE_SECTOR_SIZE);               /* obsolete */
    put_word(b, 6, s->sectors);
    ide_put_string((uint16_t *)b, 10, s->serial, 20);
    put_word(b, 20, 3);                       /* obsolete: buffer type */
    put_word(b, 21, 512);                     /* obsolete: buffer size */
    put_word(b, 22, 4);                       /* obsolete: ECC bytes */
    ide_put_string((uint16_t *)b, 23, s->version, 8);
    ide_put_string((uint16_t *)b, 27, s->model, 40);
    put_word(b, 47, 0x8000 | IDE_MAX_MULT_SECTORS);
    put_word(b, 49, (1 << 11) | (1 << 9) | (1 << 8));   /* IORDY, LBA, DMA */
    put_word(b, 50, 0x4000);
    put_word(b, 51, 0x200);                   /* PIO timing (obsolete) */
    put_word(b, 52, 0x200);
    put_word(b, 53, 0x0007);                  /* words 54-58, 64-70, 88 valid */
    put_word(b, 54, s->cur_cylinders);
    put_word(b, 55, s->cur_heads);
    put_word(b, 56, s->cur_sectors);
    put_word(b, 57, (uint16_t)MIN(chs, 0xffffffffu));
    put_word(b, 58, (uint16_t)(MIN(chs, 0xffffffffu) >> 16));
    put_word(b, 59, s->mult_sectors ? (0x100 | s->mult_sectors) : 0);
    put_word(b, 60, lba28);
    put_word(b, 61, lba28 >> 16);
    put_word(b, 62, 0x0007);                  /* single word DMA (obsolete) */
    put_word(b, 63, 0x0007 | ((xm >> 3) == 4 ? 0x100 << (xm & 7) : 0));
    put_word(b, 64, 0x0003);                  /* PIO 3 and 4 */
    put_word(b, 65, 120);
    put_word(b, 66, 120);
    put_word(b, 67, 120);
    put_word(b, 68, 120);
    put_word(b, 80, 0x00f0);                  /* ATA-4 .. ATA-7 */
    put_word(b, 81, 0x0016);
    put_word(b, 82, (1 << 14) | (1 << 5) | (1 << 3));   /* NOP, write cache, PM */
    put_word(b, 83, (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10));  /* FLUSH EXT, FLUSH, LBA48 */
    put_word(b, 84, 1 << 14);
    put_word(b, 85, (1 << 14) | (s->wce ? 1 << 5 : 0) | (1 << 3));
    put_word(b, 86, (1 << 13) | (1 << 12) | (1 << 10));
    put_word(b, 87, 1 << 14);
    put_word(b, 88, 0x003f | ((xm >> 3) == 8 ? 0x100 << (xm & 7) : 0));
    put_word(b, 93, 1 | (1 << 14) | 0x2000);
    put_word(b, 100, s->nb_sectors);
    put_word(b, 101, s->nb_sectors >> 16);
    put_word(b, 102, s->nb_sectors >> 32);
    put_word(b, 103, s->nb_sectors >> 48);
    ide_identify_finish((uint16_t *)b);
}

static void ata_rw_start(IDEState *s, bool write, bool dma, bool lba48, uint32_t block)
{
    s->lba48 = lba48;
    int64_t sector = ide_get_sector(s);
    uint32_t n = ide_get_count(s);
    if (!sector_range_ok(s, sector, n)) {
        ide_rw_error(s, ATA_IDNF | ATA_ABRT);
        return;
    }
    if (write && bdrv_is_read_only(s->bs)) {
        ide_abort_command(s);
        return;
    }
    s->power_mode = 0xff;
    s->sector_num = sector;
    s->nsector_left = n;
    if (dma) {
        ide_dma_begin(s, write ? DMA_ATA_WRITE : DMA_ATA_READ);
        return;
    }
    s->block_sectors = block;
    if (write) {
        ata_pio_write_next(s);
    } else {
        ata_pio_read_next(s);
    }
}

static void ata_verify(IDEState *s, bool lba48)
{
    s->lba48 = lba48;
    int64_t sector = ide_get_sector(s);
    uint32_t n = ide_get_count(s);
    if (!sector_range_ok(s, sector, n)) {
        ide_rw_error(s, ATA_IDNF | ATA_ABRT);
        return;
    }
    ide_set_sector(s, sector + n);
    ide_cmd_done(s);
}

static void ata_set_features(IDEState *s)
{
    switch (s->feature) {
    case 0x02:    /* enable write cache */
        s->wce = true;
        break;
    case 0x82:
        s->wce = false;
        break;
    case 0x03: {  /* set transfer mode */
        uint8_t type = s->nsector >> 3, mode = s->nsector & 7;
        bool ok = (type == 0 && mode <= 1) || (type == 1 && mode <= 4) ||
                  (type == 4 && mode <= 2) || (type == 8 && mode <= 5);
        if (!ok) {
            ide_abort_command(s);
            return;
        }
        s->xfer_mode = s->nsector;
        break;
    }
    case 0x05: case 0x85:   /* advanced power management */
    case 0x31: case 0x42: case 0xc2:
    case 0x55: case 0xaa:   /* read look-ahead */
    case 0x66: case 0xcc:   /* power-on defaults */
        break;
    default:
        ide_abort_command(s);
        return;
    }
    ide_cmd_done(s);
}

static void ata_init_dev_params(IDEState *s)
{
    uint32_t heads = (s->select & 0x0f) + 1, secs = s->nsector;
    if (secs == 0) {
        ide_abort_command(s);
        return;
    }
    s->cur_heads = heads;
    s->cur_sectors = secs;
    s->cur_cylinders = MIN(s->nb_sectors / (heads * secs), (int64_t)65535);
    ide_cmd_done(s);
}

static void ide_exec_diagnostic(IDEState *s)
{
    ide_set_signature(s);
    s->error = 0x01;
    s->status = s->kind == IDE_CD ? 0 : (ATA_DRDY | ATA_DSC);
    ide_set_irq(s);
}

static void ide_exec_cmd(IDEBus *bus, uint8_t cmd)
{
    IDEState *s = cur_drive(bus);
    if (s->kind == IDE_NONE) {
        return;
    }
    if ((s->status & ATA_BSY) && cmd != 0x08) {
        return;
    }
    s->command = cmd;
    ide_clear_irq(s);
    /* A new command ends whatever transfer was pending. */
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->lba48 = false;

    bool hd = s->kind == IDE_HD;
    switch (cmd) {
    case 0x08:   /* DEVICE RESET: packet devices only */
        if (hd) {
            break;
        }
        ide_atapi_reset(s);
        ide_set_signature(s);
        s->status = 0;
        s->error = 0x01;
        return;
    case 0x90:   /* EXECUTE DEVICE DIAGNOSTIC */
        ide_exec_diagnostic(s);
        return;
    case 0xa0:   /* PACKET */
        if (hd) {
            break;
        }
        ide_atapi_packet(s);
        return;
    case 0xa1:   /* IDENTIFY PACKET DEVICE */
        if (hd) {
            break;
        }
        ide_atapi_identify(s);
        ide_transfer_start(s, 0, 512, PIO_BUFFER_READ, false);
        ide_set_irq(s);
        return;
    case 0xec:   /* IDENTIFY DEVICE */
        if (!hd) {
            /* Packet devices abort with their signature in place. */
            ide_set_signature(s);
            break;
        }
        ata_identify(s);
        ide_transfer_start(s, 0, 512, PIO_BUFFER_READ, false);
        ide_set_irq(s);
        return;
    case 0xef:   /* SET FEATURES */
        ata_set_features(s);
        return;
    case 0xe5: case 0x98:   /* CHECK POWER MODE */
        s->nsector = s->power_mode;
        ide_cmd_done(s);
        return;
    case 0xe0: case 0x94:   /* STANDBY IMMEDIATE */
    case 0xe2: case 0x96:   /* STANDBY */
    case 0xe6: case 0x99:   /* SLEEP */
        s->power_mode = 0x00;
        ide_cmd_done(s);
        return;
    case 0xe1: case 0x95:   /* IDLE IMMEDIATE */
    case 0xe3: case 0x97:   /* IDLE */
        s->power_mode = 0xff;
        ide_cmd_done(s);
        return;
    case 0xe7: case 0xea:   /* FLUSH CACHE (EXT) */
        if (s->bs && !bdrv_is_read_only(s->bs) && bdrv_flush(s->bs, NULL) < 0) {
            ide_rw_error(s, ATA_ABRT);
            return;
        }
        ide_cmd_done(s);
        return;
    default:
        break;
    }
    if (!hd) {
        ide_abort_command(s);
        return;
    }

    switch (cmd) {
    case 0x20: case 0x21:   /* READ SECTORS */
        ata_rw_start(s, false, false, false, 1);
        return;
    case 0x24:              /* READ SECTORS EXT */
        ata_rw_start(s, false, false, true, 1);
        return;
    case 0x30: case 0x31:   /* WRITE SECTORS */
        ata_rw_start(s, true, false, false, 1);
        return;
    case 0x34:              /* WRITE SECTORS EXT */
        ata_rw_start(s, true, false, true, 1);
        return;
    case 0xc4: case 0x29:   /* READ MULTIPLE (EXT) */
    case 0xc5: case 0x39:   /* WRITE MULTIPLE (EXT) */
        if (!s->mult_sectors) {
            break;
        }
        ata_rw_start(s, cmd == 0xc5 || cmd == 0x39, false, cmd == 0x29 || cmd == 0x39,
                     s->mult_sectors);
        return;
    case 0xc8: case 0xc9:   /* READ DMA */
        ata_rw_start(s, false, true, false, 0);
        return;
    case 0x25:              /* READ DMA EXT */
        ata_rw_start(s, false, true, true, 0);
        return;
    case 0xca: case 0xcb:   /* WRITE DMA */
        ata_rw_start(s, true, true, false, 0);
        return;
    case 0x35:              /* WRITE DMA EXT */
        ata_rw_start(s, true, true, true, 0);
        return;
    case 0x40: case 0x41:   /* READ VERIFY SECTORS */
        ata_verify(s, false);
        return;
    case 0x42:              /* READ VERIFY SECTORS EXT */
        ata_verify(s, true);
        return;
    case 0xc6:              /* SET MULTIPLE MODE */
        if (s->nsector > IDE_MAX_MULT_SECTORS || (s->nsector & (s->nsector - 1))) {
            break;
        }
        s->mult_sectors = s->nsector;
        ide_cmd_done(s);
        return;
    case 0x91:              /* INITIALIZE DEVICE PARAMETERS */
        ata_init_dev_params(s);
        return;
    case 0x70:              /* SEEK */
        if (ide_get_sector(s) < 0 || ide_get_sector(s) >= s->nb_sectors) {
            ide_rw_error(s, ATA_IDNF | ATA_ABRT);
            return;
        }
        ide_cmd_done(s);
        return;
    case 0xf8:              /* READ NATIVE MAX ADDRESS */
    case 0x27:              /* READ NATIVE MAX ADDRESS EXT */
        s->lba48 = cmd == 0x27;
        s->select |= 0x40;
        ide_set_sector(s, MIN(s->nb_sectors, s->lba48 ? (1LL << 48) : (1LL << 28)) - 1);
        ide_cmd_done(s);
        return;
    default:
        if (cmd >= 0x10 && cmd <= 0x1f) {   /* RECALIBRATE */
            ide_cmd_done(s);
            return;
        }
        break;
    }
    ide_abort_command(s);
}

/* ---- registers -------------------------------------------------------------- */

static bool bus_empty(IDEBus *bus)
{
    return bus->ifs[0].kind == IDE_NONE && bus->ifs[1].kind == IDE_NONE;
}

static uint8_t reg_read(IDEBus *bus, uint32_t reg)
{
    IDEState *s = cur_drive(bus);
    bool hob = bus->cmd & ATA_HOB;
    if (bus_empty(bus)) {
        return 0;
    }
    switch (reg) {
    case 1: return hob ? s->hob_feature : s->error;
    case 2: return hob ? s->hob_nsector : s->nsector;
    case 3: return hob ? s->hob_sector : s->sector;
    case 4: return hob ? s->hob_lcyl : s->lcyl;
    case 5: return hob ? s->hob_hcyl : s->hcyl;
    case 6: return s->select;
    case 7:
        if (s->kind == IDE_NONE) {
            return 0;
        }
        ide_clear_irq(s);
        return s->status;
    default:
        return 0xff;
    }
}

static void reg_write(IDEBus *bus, uint32_t reg, uint8_t val)
{
    if (reg >= 1 && reg <= 6) {
        bus->cmd &= ~ATA_HOB;
    }
    for (int i = 0; i < 2 && reg <= 6; i++) {
        IDEState *s = &bus->ifs[i];
        switch (reg) {
        case 1: s->hob_feature = s->feature; s->feature = val; break;
        case 2: s->hob_nsector = s->nsector; s->nsector = val; break;
        case 3: s->hob_sector = s->sector; s->sector = val; break;
        case 4: s->hob_lcyl = s->lcyl; s->lcyl = val; break;
        case 5: s->hob_hcyl = s->hcyl; s->hcyl = val; break;
        case 6: s->select = val | 0xa0; break;
        default: break;
        }
    }
    if (reg == 6) {
        bus->unit = (val >> 4) & 1;
        bus_update_irq(bus, false);
    } else if (reg == 7) {
        ide_exec_cmd(bus, val);
    }
}

uint32_t ide_cmd_read(IDEBus *bus, uint32_t addr, unsigned size)
{
    if (addr == 0) {
        return data_read(bus, size);
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size && i < 4; i++) {
        v |= (uint32_t)(addr + i <= 7 ? reg_read(bus, addr + i) : 0xff) << (8 * i);
    }
    return v;
}

void ide_cmd_write(IDEBus *bus, uint32_t addr, uint32_t val, unsigned size)
{
    if (addr == 0) {
        data_write(bus, val, size);
        return;
    }
    for (unsigned i = 0; i < size && i < 4 && addr + i <= 7; i++) {
        reg_write(bus, addr + i, val >> (8 * i));
    }
}

uint32_t ide_status_read(IDEBus *bus)
{
    IDEState *s = cur_drive(bus);
    if (bus_empty(bus) || s->kind == IDE_NONE) {
        return 0;
    }
    return s->status;
}

static void drive_soft_reset(IDEState *s)
{
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->irq_pending = false;
    s->lba48 = false;
    s->feature = s->hob_feature = 0;
    s->hob_nsector = s->hob_sector = s->hob_lcyl = s->hob_hcyl = 0;
    s->select = 0xa0;
    ide_set_signature(s);
    s->error = 0x01;
    if (s->kind == IDE_CD) {
        ide_atapi_reset(s);
    }
    s->status = s->kind == IDE_HD ? (ATA_DRDY | ATA_DSC) : 0;
}

void ide_ctl_write(IDEBus *bus, uint32_t val)
{
    uint8_t old = bus->cmd;
    bus->cmd = val;
    if (!(old & ATA_SRST) && (val & ATA_SRST)) {
        for (int i = 0; i < 2; i++) {
            IDEState *s = &bus->ifs[i];
            s->pio_op = PIO_NONE;
            s->dma_op = DMA_NONE;
            s->irq_pending = false;
            if (s->kind != IDE_NONE) {
                s->status = ATA_BSY | ATA_DSC;
            }
        }
    } else if ((old & ATA_SRST) && !(val & ATA_SRST)) {
        for (int i = 0; i < 2; i++) {
            drive_soft_reset(&bus->ifs[i]);
        }
        bus->unit = 0;
    }
    bus_update_irq(bus, false);
}

/* ---- port regions ------------------------------------------------------------ */

static uint64_t cmd_mr_read(void *opaque, uint64_t off, unsigned size)
{
    return ide_cmd_read(opaque, off, size);
}

static void cmd_mr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ide_cmd_write(opaque, off, val, size);
}

static const MemoryRegionOps ide_cmd_ops = {
    .read = cmd_mr_read, .write = cmd_mr_write,
    .min_access_size = 1, .max_access_size = 4,
};

static uint64_t ctl_mr_read(void *opaque, uint64_t off, unsigned size)
{
    return ide_status_read(opaque);
}

static void ctl_mr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    ide_ctl_write(opaque, val);
}

static const MemoryRegionOps ide_ctl_ops = {
    .read = ctl_mr_read, .write = ctl_mr_write,
    .min_access_size = 1, .max_access_size = 1,
};

void ide_bus_register_ports(IDEBus *bus, MemoryRegion *io, uint16_t iobase, uint16_t ctlbase)
{
    bus->cmd_mr = memory_region_new_io("ide-cmd", 8, &ide_cmd_ops, bus);
    bus->ctl_mr = memory_region_new_io("ide-ctl", 1, &ide_ctl_ops, bus);
    memory_region_add_subregion(io, iobase, bus->cmd_mr, 0);
    memory_region_add_subregion(io, ctlbase, bus->ctl_mr, 0);
}

/* ---- setup -------------------------------------------------------------------- */

static void drive_hard_reset(IDEState *s)
{
    s->mult_sectors = IDE_MAX_MULT_SECTORS;
    s->wce = true;
    s->xfer_mode = 0;
    s->power_mode = 0xff;
    s->cur_cylinders = s->cylinders;
    s->cur_heads = s->heads;
    s->cur_sectors = s->sectors;
    s->nsector_left = 0;
    s->sector_num = 0;
    s->block_sectors = 1;
    s->command = 0;
    s->locked = false;
    s->sense_key = s->asc = s->ascq = 0;
    drive_soft_reset(s);
}

void ide_bus_reset(IDEBus *bus)
{
    bus->cmd = 0;
    bus->unit = 0;
    bus->dma_active = false;
    for (int i = 0; i < 2; i++) {
        drive_hard_reset(&bus->ifs[i]);
    }
    bus_update_irq(bus, true);
}

void ide_bus_init(IDEBus *bus, int bus_id, IRQLine *irq)
{
    memset(bus, 0, sizeof(*bus));
    bus->bus_id = bus_id;
    bus->irq = irq;
    for (int i = 0; i < 2; i++) {
        IDEState *s = &bus->ifs[i];
        s->bus = bus;
        s->unit = i;
        s->kind = IDE_NONE;
        s->io_buffer = xmemalign_zero(4096, IDE_BUF_SIZE);
    }
    ide_bus_reset(bus);
}

void ide_bus_cleanup(IDEBus *bus)
{
    memory_region_free(bus->cmd_mr);
    memory_region_free(bus->ctl_mr);
    bus->cmd_mr = bus->ctl_mr = NULL;
    for (int i = 0; i < 2; i++) {
        free(bus->ifs[i].io_buffer);
        bus->ifs[i].io_buffer = NULL;
    }
}

void ide_bus_set_dma_ops(IDEBus *bus, const IDEDMAOps *ops, void *opaque)
{
    bus->dma_ops = ops;
    bus->dma_opaque = opaque;
}

static void hd_geometry(IDEState *s)
{
    int64_t n = s->nb_sectors;
    s->heads = 16;
    s->sectors = 63;
    int64_t cyls = n / (16 * 63);
    s->cylinders = (uint32_t)MAX(MIN(cyls, (int64_t)16383), (int64_t)1);
}

void ide_get_geometry(IDEState *s, uint32_t *cyls, uint32_t *heads, uint32_t *secs)
{
    *cyls = s->cylinders;
    *heads = s->heads;
    *secs = s->sectors;
}

int ide_bus_attach(IDEBus *bus, int unit, IDEDriveKind kind, BlockDriverState *bs,
                   Error **errp)
{
    if (unit < 0 || unit > 1) {
        error_setg(errp, "IDE bus %d: invalid unit %d", bus->bus_id, unit);
        return -EINVAL;
    }
    IDEState *s = &bus->ifs[unit];
    if (s->kind != IDE_NONE) {
        error_setg(errp, "IDE bus %d unit %d is already in use", bus->bus_id, unit);
        return -EBUSY;
    }
    if (kind == IDE_HD) {
        if (!bs) {
            error_setg(errp, "IDE bus %d unit %d: a disk needs an image", bus->bus_id, unit);
            return -EINVAL;
        }
        int64_t len = bdrv_getlength(bs);
        if (len < 0) {
            error_setg_errno(errp, (int)len, "IDE bus %d unit %d: cannot get the size of '%s'",
                             bus->bus_id, unit, bdrv_get_filename(bs));
            return (int)len;
        }
        if (len < IDE_SECTOR_SIZE) {
            error_setg(errp, "IDE bus %d unit %d: image '%s' is smaller than one sector",
                       bus->bus_id, unit, bdrv_get_filename(bs));
            return -EINVAL;
        }
        s->nb_sectors = len / IDE_SECTOR_SIZE;
        hd_geometry(s);
        snprintf(s->model, sizeof(s->model), "MINIPC HARDDISK");
    } else if (kind == IDE_CD) {
        snprintf(s->model, sizeof(s->model), "MINIPC DVD-ROM");
        s->tray_open = false;
    } else {
        error_setg(errp, "IDE bus %d unit %d: unknown drive kind", bus->bus_id, unit);
        return -EINVAL;
    }
    s->kind = kind;
    s->bs = NULL;
    snprintf(s->serial, sizeof(s->serial), "MP%05d", bus->bus_id * 2 + unit + 1);
    snprintf(s->version, sizeof(s->version), "1.0");
    if (kind == IDE_HD) {
        s->bs = bs;
    } else if (bs) {
        ide_cd_insert(s, bs, NULL, NULL);
        s->ua_pending = false;      /* present from power-on: no change seen */
        s->media_event = 0;
    }
    drive_hard_reset(s);
    return 0;
}

/* ---- VMState -------------------------------------------------------------------- */

static bool pio_state_needed(void *opaque)
{
    IDEState *s = opaque;
    return s->pio_op != PIO_NONE;
}

static int ide_drive_pio_check(const void *loaded, int version_id, Error **errp)
{
    const IDEState *s = loaded;
    if (s->data_end > IDE_BUF_SIZE || s->data_ptr > s->data_end) {
        error_setg(errp, "IDE drive: PIO position %u/%u is outside the %u-byte buffer",
                   s->data_ptr, s->data_end, (unsigned)IDE_BUF_SIZE);
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_ide_drive_pio = {
    .name = "ide_drive/pio_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pio_state_needed,
    .check = ide_drive_pio_check,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(pio_to_device, IDEState),
        VMSTATE_UINT32(data_ptr, IDEState),
        VMSTATE_UINT32(data_end, IDEState),
        VMSTATE_BUFFER_POINTER_UNSAFE(io_buffer, IDEState, 0, IDE_BUF_SIZE),
        VMSTATE_END_OF_LIST()
    },
};

static int ide_drive_post_load(void *opaque, int version_id)
{
    IDEState *s = opaque;
    /* The stream is not trusted: keep every index inside its buffer and
     * every mode valid. */
    if (s->pio_op >= PIO_OP_MAX || s->data_end > IDE_BUF_SIZE || s->data_ptr > s->data_end ||
        s->kind == IDE_NONE) {
        s->pio_op = PIO_NONE;
        s->data_ptr = s->data_end = 0;
        s->status &= ~ATA_DRQ;
    }
    if (s->dma_op >= DMA_OP_MAX || s->kind == IDE_NONE) {
        s->dma_op = DMA_NONE;
    }
    if (s->block_sectors == 0 || s->block_sectors > IDE_BUF_SECTORS) {
        s->block_sectors = 1;
    }
    if (s->mult_sectors > IDE_MAX_MULT_SECTORS) {
        s->mult_sectors = 0;
    }
    if (s->cur_heads == 0 || s->cur_heads > 16 || s->cur_sectors == 0 || s->cur_sectors > 255) {
        s->cur_cylinders = s->cylinders;
        s->cur_heads = s->heads;
        s->cur_sectors = s->sectors;
    }
    if (s->atapi_src > ATAPI_SRC_DISC || s->reply_pos > IDE_BUF_SIZE) {
        s->atapi_src = ATAPI_SRC_REPLY;
        s->reply_pos = 0;
        s->atapi_left = 0;
    }
    if (s->atapi_left < 0 || s->cd_offset < 0) {
        s->atapi_left = 0;
        s->cd_offset = 0;
    }
    return 0;
}

/* Values no drive can be in: refused before anything changes. */
static int ide_drive_check(const void *loaded, int version_id, Error **errp)
{
    const IDEState *s = loaded;
    if (s->pio_op >= PIO_OP_MAX || s->dma_op >= DMA_OP_MAX) {
        error_setg(errp, "IDE drive: invalid transfer state (PIO %u, DMA %u)",
                   s->pio_op, s->dma_op);
        return -EINVAL;
    }
    if (s->mult_sectors > IDE_MAX_MULT_SECTORS || s->block_sectors > IDE_BUF_SECTORS) {
        error_setg(errp, "IDE drive: invalid block size (multiple %u, block %u)",
                   s->mult_sectors, s->block_sectors);
        return -EINVAL;
    }
    if (s->cur_heads > 16 || s->cur_sectors > 255) {
        error_setg(errp, "IDE drive: invalid CHS translation %u/%u",
                   s->cur_heads, s->cur_sectors);
        return -EINVAL;
    }
    if (s->atapi_src > ATAPI_SRC_DISC || s->reply_pos > IDE_BUF_SIZE ||
        s->atapi_left < 0 || s->cd_offset < 0) {
        error_setg(errp, "IDE drive: invalid ATAPI transfer state");
        return -EINVAL;
    }
    return 0;
}

const VMStateDescription vmstate_ide_drive = {
    .name = "ide_drive",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = ide_drive_check,
    .post_load = ide_drive_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(cur_cylinders, IDEState),
        VMSTATE_UINT32(cur_heads, IDEState),
        VMSTATE_UINT32(cur_sectors, IDEState),
        VMSTATE_UINT8(feature, IDEState),
        VMSTATE_UINT8(nsector, IDEState),
        VMSTATE_UINT8(sector, IDEState),
        VMSTATE_UINT8(lcyl, IDEState),
        VMSTATE_UINT8(hcyl, IDEState),
        VMSTATE_UINT8(hob_feature, IDEState),
        VMSTATE_UINT8(hob_nsector, IDEState),
        VMSTATE_UINT8(hob_sector, IDEState),
        VMSTATE_UINT8(hob_lcyl, IDEState),
        VMSTATE_UINT8(hob_hcyl, IDEState),
        VMSTATE_UINT8(select, IDEState),
        VMSTATE_UINT8(status, IDEState),
        VMSTATE_UINT8(error, IDEState),
        VMSTATE_UINT8(command, IDEState),
        VMSTATE_BOOL(irq_pending, IDEState),
        VMSTATE_BOOL(lba48, IDEState),
        VMSTATE_UINT8(mult_sectors, IDEState),
        VMSTATE_BOOL(wce, IDEState),
        VMSTATE_UINT8(xfer_mode, IDEState),
        VMSTATE_UINT8(power_mode, IDEState),
        VMSTATE_UINT8(pio_op, IDEState),
        VMSTATE_UINT8(dma_op, IDEState),
        VMSTATE_INT64(sector_num, IDEState),
        VMSTATE_UINT32(nsector_left, IDEState),
        VMSTATE_UINT32(block_sectors, IDEState),
        VMSTATE_BUFFER(packet, IDEState),
        VMSTATE_BOOL(atapi_dma, IDEState),
        VMSTATE_UINT16(byte_limit, IDEState),
        VMSTATE_UINT8(atapi_src, IDEState),
        VMSTATE_INT64(atapi_left, IDEState),
        VMSTATE_INT64(cd_offset, IDEState),
        VMSTATE_UINT32(reply_pos, IDEState),
        VMSTATE_UINT8(sense_key, IDEState),
        VMSTATE_UINT8(asc, IDEState),
        VMSTATE_UINT8(ascq, IDEState),
        VMSTATE_BOOL(tray_open, IDEState),
        VMSTATE_BOOL(locked, IDEState),
        VMSTATE_BOOL(ua_pending, IDEState),
        VMSTATE_UINT8(media_event, IDEState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription *const[]) {
        &vmstate_ide_drive_pio, NULL
    },
};

static int ide_bus_post_load(void *opaque, int version_id)
{
    IDEBus *bus = opaque;
    bus->unit &= 1;
    bus->dma_active = false;
    bus_update_irq(bus, true);
    return 0;
}

static int ide_bus_check(const void *loaded, int version_id, Error **errp)
{
    const IDEBus *bus = loaded;
    if (bus->unit > 1) {
        error_setg(errp, "IDE bus: selected drive %u does not exist", bus->unit);
        return -EINVAL;
    }
    return 0;
}

const VMStateDescription vmstate_ide_bus = {
    .name = "ide_bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .check = ide_bus_check,
    .post_load = ide_bus_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(cmd, IDEBus),
        VMSTATE_UINT8(unit, IDEBus),
        VMSTATE_STRUCT_ARRAY(ifs, IDEBus, 2, 0, vmstate_ide_drive, IDEState),
        VMSTATE_END_OF_LIST()
    },
};
