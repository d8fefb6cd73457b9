/*
 * ATAPI CD-ROM: the PACKET protocol and the MMC commands BIOSes,
 * bootloaders and Linux use, with 2048-byte sectors read from the
 * medium over PIO (byte-count-limited chunks) or DMA.
 *
 * References: ATA/ATAPI-6 (packet protocol), MMC-3 (commands, sense
 * codes, TOC, configuration features, event status).
 */
#include "ide-internal.h"

enum {
    SENSE_NONE = 0,
    SENSE_NOT_READY = 2,
    SENSE_MEDIUM_ERROR = 3,
    SENSE_ILLEGAL_REQUEST = 5,
    SENSE_UNIT_ATTENTION = 6,
};

enum {
    ASC_INVALID_OPCODE = 0x20,
    ASC_LBA_OUT_OF_RANGE = 0x21,
    ASC_INVALID_FIELD = 0x24,
    ASC_MEDIUM_MAY_HAVE_CHANGED = 0x28,
    ASC_SAVING_NOT_SUPPORTED = 0x39,
    ASC_MEDIUM_NOT_PRESENT = 0x3a,
    ASC_REMOVAL_PREVENTED = 0x53,
    ASC_ILLEGAL_MODE_FOR_TRACK = 0x64,
    ASC_UNRECOVERED_READ = 0x11,
};

/* MMC profiles */
#define PROFILE_CDROM  0x0008
#define PROFILE_DVDROM 0x0010
/* Larger than an 80-minute CD: call it a DVD. */
#define CD_MAX_SECTORS (80 * 60 * 75)

/* GET EVENT STATUS media event codes */
#define MEC_NEW_MEDIA     2
#define MEC_MEDIA_REMOVAL 3
#define MEC_EJECT_REQUEST 1

static int64_t cd_total_sectors(IDEState *s)
{
    return ide_medium_present(s) ? s->nb_sectors / 4 : 0;
}

static void put_be16(uint8_t *p, uint16_t v) { stw_be(p, v); }
static void put_be32(uint8_t *p, uint32_t v) { stl_be(p, v); }

/* LBA to the 4-byte address field of a TOC: MSF (with the 2-second
 * lead-in offset) or big-endian LBA. */
static void put_addr(uint8_t *p, int64_t lba, bool msf)
{
    if (msf) {
        int64_t f = lba + 150;
        p[0] = 0;
        p[1] = (uint8_t)MIN(f / (75 * 60), (int64_t)255);
        p[2] = (f / 75) % 60;
        p[3] = f % 75;
    } else {
        put_be32(p, (uint32_t)lba);
    }
}

static void put_msf3(uint8_t *p, int64_t lba)
{
    uint8_t tmp[4];
    put_addr(tmp, lba, true);
    memcpy(p, tmp + 1, 3);
}

void ide_atapi_identify(IDEState *s)
{
    uint8_t *b = s->io_buffer;
    uint16_t *w = (uint16_t *)b;
    uint8_t xm = s->xfer_mode;
    memset(b, 0, 512);
    /* ATAPI, CD-ROM, removable, 50 us to DRQ, 12-byte packets */
    stw_le(b + 0, (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5));
    ide_put_string(w, 10, s->serial, 20);
    stw_le(b + 2 * 20, 3);
    stw_le(b + 2 * 21, 512);
    stw_le(b + 2 * 22, 4);
    ide_put_string(w, 23, s->version, 8);
    ide_put_string(w, 27, s->model, 40);
    stw_le(b + 2 * 48, 1);
    stw_le(b + 2 * 49, (1 << 9) | (1 << 8));          /* LBA, DMA */
    stw_le(b + 2 * 53, 7);
    stw_le(b + 2 * 62, 7);
    stw_le(b + 2 * 63, 7 | ((xm >> 3) == 4 ? 0x100 << (xm & 7) : 0));
    stw_le(b + 2 * 64, 3);
    stw_le(b + 2 * 65, 0xb4);
    stw_le(b + 2 * 66, 0xb4);
    stw_le(b + 2 * 67, 0x12c);
    stw_le(b + 2 * 68, 0xb4);
    stw_le(b + 2 * 71, 30);
    stw_le(b + 2 * 72, 30);
    stw_le(b + 2 * 80, 0x1e);                          /* ATAPI-1 .. 4 */
    stw_le(b + 2 * 82, (1 << 14) | (1 << 4));         /* NOP, PACKET */
    stw_le(b + 2 * 83, 1 << 14);
    stw_le(b + 2 * 84, 1 << 14);
    stw_le(b + 2 * 85, (1 << 14) | (1 << 4));
    stw_le(b + 2 * 86, 0);
    stw_le(b + 2 * 87, 1 << 14);
    stw_le(b + 2 * 88, 0x3f | ((xm >> 3) == 8 ? 0x100 << (xm & 7) : 0));
    stw_le(b + 2 * 93, 1 | (1 << 14) | 0x2000);
    ide_identify_finish(w);
}

void ide_atapi_reset(IDEState *s)
{
    s->atapi_left = 0;
    s->atapi_src = ATAPI_SRC_REPLY;
    s->reply_pos = 0;
    s->cd_offset = 0;
    s->atapi_dma = false;
}

/* ---- completion --------------------------------------------------------- */

static void atapi_ok(IDEState *s)
{
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->atapi_left = 0;
    s->error = 0;
    s->status = ATA_DRDY | ATA_DSC;
    s->nsector = (s->nsector & ~7) | ATAPI_INT_REASON_IO | ATAPI_INT_REASON_CD;
    ide_set_irq(s);
}

static void atapi_error(IDEState *s, uint8_t key, uint8_t asc, uint8_t ascq)
{
    s->pio_op = PIO_NONE;
    s->dma_op = DMA_NONE;
    s->data_ptr = s->data_end = 0;
    s->atapi_left = 0;
    s->sense_key = key;
    s->asc = asc;
    s->ascq = ascq;
    s->error = key << 4;
    s->status = ATA_DRDY | ATA_ERR;
    s->nsector = (s->nsector & ~7) | ATAPI_INT_REASON_IO | ATAPI_INT_REASON_CD;
    ide_set_irq(s);
}

static void atapi_not_ready(IDEState *s)
{
    atapi_error(s, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT, s->tray_open ? 0x02 : 0x01);
}

/* ---- data phase --------------------------------------------------------- */

/* Fills io_buffer[0, n) from the disc at cd_offset. */
static bool disc_read(IDEState *s, uint32_t n)
{
    if (!ide_medium_present(s) || s->cd_offset < 0 || n > IDE_BUF_SIZE ||
        s->cd_offset + n > s->nb_sectors * (int64_t)IDE_SECTOR_SIZE) {
        return false;
    }
    if (bdrv_pread(s->bs, s->cd_offset, s->io_buffer, n, NULL) < 0) {
        return false;
    }
    s->cd_offset += n;
    return true;
}

static void atapi_read_failed(IDEState *s)
{
    if (!ide_medium_present(s)) {
        atapi_not_ready(s);
    } else {
        atapi_error(s, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
    }
}

static void atapi_pio_chunk(IDEState *s)
{
    if (s->atapi_left <= 0) {
        atapi_ok(s);
        return;
    }
    /* The byte count limit is what the host can take per DRQ block;
     * 0 and 0xffff are not valid limits, and it must be even. */
    uint32_t limit = s->byte_limit;
    if (limit == 0 || limit == 0xffff) {
        limit = 0xfffe;
    }
    limit = MAX(limit & ~1u, 2u);
    uint32_t chunk = (uint32_t)MIN(s->atapi_left, (int64_t)limit);
    uint32_t start;
    if (s->atapi_src == ATAPI_SRC_DISC) {
        if (!disc_read(s, chunk)) {
            atapi_read_failed(s);
            return;
        }
        start = 0;
    } else {
        if (s->reply_pos > IDE_BUF_SIZE || chunk > IDE_BUF_SIZE - s->reply_pos) {
            atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        start = s->reply_pos;
        s->reply_pos += chunk;
    }
    s->atapi_left -= chunk;
    ide_transfer_start(s, start, start + chunk, PIO_ATAPI_DATA, false);
    s->lcyl = chunk;
    s->hcyl = chunk >> 8;
    s->nsector = (s->nsector & ~7) | ATAPI_INT_REASON_IO;
    ide_set_irq(s);
}

void ide_atapi_chunk_done(IDEState *s)
{
    atapi_pio_chunk(s);
}

void ide_atapi_dma_run(IDEState *s)
{
    IDEBus *bus = s->bus;
    while (s->atapi_left > 0) {
        uint32_t n = (uint32_t)MIN(s->atapi_left, (int64_t)IDE_BUF_SIZE);
        uint8_t *p;
        if (s->atapi_src == ATAPI_SRC_DISC) {
            if (!disc_read(s, n)) {
                ide_dma_finish(s, false);
                atapi_read_failed(s);
                return;
            }
            p = s->io_buffer;
        } else {
            if (s->reply_pos > IDE_BUF_SIZE || n > IDE_BUF_SIZE - s->reply_pos) {
                ide_dma_finish(s, false);
                atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
                return;
            }
            p = s->io_buffer + s->reply_pos;
            s->reply_pos += n;
        }
        if (bus->dma_ops->rw(bus->dma_opaque, p, n, true) < n) {
            s->status = ATA_DRDY | ATA_DSC;
            ide_dma_finish(s, true);
            return;
        }
        s->atapi_left -= n;
    }
    ide_dma_finish(s, false);
    atapi_ok(s);
}

/* Sends 'total' bytes from the reply buffer (at 0) or the disc. */
static void atapi_send(IDEState *s, int src, int64_t total)
{
    if (total <= 0) {
        atapi_ok(s);
        return;
    }
    s->atapi_src = src;
    s->atapi_left = total;
    s->reply_pos = 0;
    if (s->atapi_dma) {
        ide_dma_begin(s, DMA_ATAPI);
    } else {
        atapi_pio_chunk(s);
    }
}

static void atapi_reply(IDEState *s, uint32_t len, uint32_t alloc)
{
    atapi_send(s, ATAPI_SRC_REPLY, MIN(len, alloc));
}

/* ---- commands ----------------------------------------------------------- */

static void cmd_request_sense(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    memset(b, 0, 18);
    if (s->ua_pending) {
        s->ua_pending = false;
        s->sense_key = SENSE_UNIT_ATTENTION;
        s->asc = ASC_MEDIUM_MAY_HAVE_CHANGED;
        s->ascq = 0;
    }
    b[0] = 0x70;
    b[2] = s->sense_key;
    b[7] = 10;
    b[12] = s->asc;
    b[13] = s->ascq;
    /* Reported: the condition is cleared. */
    s->sense_key = SENSE_NONE;
    s->asc = s->ascq = 0;
    atapi_reply(s, 18, p[4]);
}

static void cmd_inquiry(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    if (p[1] & 1) {   /* vital product data pages: none */
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;        /* CD/DVD device */
    b[1] = 0x80;        /* removable */
    b[2] = 0x00;
    b[3] = 0x21;        /* ATAPI response format */
    b[4] = 31;          /* additional length */
    memcpy(b + 8, "MINIPC  ", 8);
    memcpy(b + 16, "MINIPC DVD-ROM  ", 16);
    memcpy(b + 32, "1.0 ", 4);
    atapi_reply(s, 36, (p[3] << 8) | p[4]);
}

static void cmd_read_capacity(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    put_be32(b, (uint32_t)MIN(cd_total_sectors(s) - 1, (int64_t)0xffffffff));
    put_be32(b + 4, IDE_CD_SECTOR_SIZE);
    atapi_reply(s, 8, 8);
}

static void atapi_read(IDEState *s, uint32_t lba, uint32_t count)
{
    if ((int64_t)lba + count > cd_total_sectors(s)) {
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    s->cd_offset = (int64_t)lba * IDE_CD_SECTOR_SIZE;
    atapi_send(s, ATAPI_SRC_DISC, (int64_t)count * IDE_CD_SECTOR_SIZE);
}

static void cmd_read_cd(IDEState *s, const uint8_t *p)
{
    uint32_t lba = ldl_be(p + 2);
    uint32_t count = (p[6] << 16) | (p[7] << 8) | p[8];
    uint8_t type = (p[1] >> 2) & 7;
    if (type != 0 && type != 2) {   /* only data sectors (mode 1) */
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_MODE_FOR_TRACK, 0);
        return;
    }
    switch (p[9] & 0xf8) {
    case 0x00:   /* no data wanted */
        if ((int64_t)lba + count > cd_total_sectors(s)) {
            atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        } else {
            atapi_ok(s);
        }
        return;
    case 0x10:   /* user data only */
        atapi_read(s, lba, count);
        return;
    default:     /* raw sectors with headers and EDC: not provided */
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
}

static void cmd_seek(IDEState *s, const uint8_t *p)
{
    if ((int64_t)ldl_be(p + 2) >= cd_total_sectors(s)) {
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        return;
    }
    atapi_ok(s);
}

static void cmd_start_stop(IDEState *s, const uint8_t *p)
{
    bool start = p[4] & 1, loej = p[4] & 2;
    if (loej) {
        if (!start) {
            if (s->locked) {
                atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
                return;
            }
            if (!s->tray_open) {
                s->tray_open = true;
                s->media_event = MEC_MEDIA_REMOVAL;
            }
        } else if (s->tray_open) {
            s->tray_open = false;
            if (s->bs) {
                s->media_event = MEC_NEW_MEDIA;
                s->ua_pending = true;
            }
        }
    }
    atapi_ok(s);
}

static uint32_t mode_page(IDEState *s, uint8_t page, uint8_t *b)
{
    switch (page) {
    case 0x01:   /* read error recovery */
        memset(b, 0, 8);
        b[0] = 0x01;
        b[1] = 6;
        b[3] = 5;    /* read retry count */
        return 8;
    case 0x2a:   /* CD/DVD capabilities and mechanical status */
        memset(b, 0, 22);
        b[0] = 0x2a;
        b[1] = 20;
        b[2] = 0x3b;             /* reads CD-R/RW, DVD-ROM/R/RAM */
        b[3] = 0x00;             /* writes nothing */
        b[4] = 0x71;             /* audio play, mode 2 form 1/2, multi-session */
        b[5] = 0x00;
        b[6] = 0x29 | (s->locked ? 0x02 : 0);   /* tray, eject, lock */
        put_be16(b + 8, 706);    /* max read speed (obsolete) */
        put_be16(b + 10, 2);     /* volume levels */
        put_be16(b + 12, 512);   /* buffer KiB */
        put_be16(b + 14, 706);   /* current read speed (obsolete) */
        return 22;
    default:
        return 0;
    }
}

static void cmd_mode_sense10(IDEState *s, const uint8_t *p)
{
    uint8_t pc = p[2] >> 6, page = p[2] & 0x3f;
    uint8_t *b = s->io_buffer;
    uint32_t len = 8;
    if (pc == 3) {
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
        return;
    }
    memset(b, 0, 8);
    if (page == 0x3f) {
        len += mode_page(s, 0x01, b + len);
        len += mode_page(s, 0x2a, b + len);
    } else {
        uint32_t n = mode_page(s, page, b + len);
        if (!n) {
            atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        len += n;
    }
    put_be16(b, len - 2);
    b[2] = ide_medium_present(s) ? 0x01 : 0x70;   /* 120 mm data disc / no disc */
    atapi_reply(s, len, ldw_be(p + 7));
}

static void cmd_read_toc(IDEState *s, const uint8_t *p)
{
    bool msf = p[1] & 2;
    uint8_t format = p[2] & 0x0f;
    uint8_t start_track = p[6];
    int64_t total = cd_total_sectors(s);
    uint8_t *b = s->io_buffer;
    uint32_t len;

    if (format == 0) {
        format = p[9] >> 6;   /* older drives took the format here */
    }
    memset(b, 0, 64);
    switch (format) {
    case 0:
        if (start_track > 1 && start_track != 0xaa) {
            atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
            return;
        }
        b[2] = 1;
        b[3] = 1;
        len = 4;
        if (start_track <= 1) {
            b[len + 1] = 0x14;       /* ADR 1, data track */
            b[len + 2] = 1;
            put_addr(b + len + 4, 0, msf);
            len += 8;
        }
        b[len + 1] = 0x14;
        b[len + 2] = 0xaa;           /* lead-out */
        put_addr(b + len + 4, total, msf);
        len += 8;
        break;
    case 1:   /* session info: one session starting with track 1 */
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        put_addr(b + 8, 0, msf);
        len = 12;
        break;
    case 2: { /* full TOC: points A0 (first track), A1 (last), A2 (lead-out), 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        b[2] = 1;
        b[3] = 1;
        len = 4;
        for (int i = 0; i < 4; i++) {
            uint8_t *d = b + len;
            d[0] = 1;          /* session */
            d[1] = 0x14;
            d[2] = 0;          /* TNO */
            d[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                d[8] = 1;      /* first / last track; disc type 0 */
            } else if (points[i] == 0xa2) {
                put_msf3(d + 8, total);
            } else {
                put_msf3(d + 8, 0);
            }
            len += 11;
        }
        break;
    }
    default:
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    put_be16(b, len - 2);
    atapi_reply(s, len, ldw_be(p + 7));
}

static void cmd_get_configuration(IDEState *s, const uint8_t *p)
{
    uint8_t rt = p[1] & 3;
    uint16_t start = ldw_be(p + 2);
    uint8_t *b = s->io_buffer;
    uint16_t profile = 0;
    uint32_t len = 8;

    if (rt == 3) {
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    if (ide_medium_present(s)) {
        profile = cd_total_sectors(s) > CD_MAX_SECTORS ? PROFILE_DVDROM : PROFILE_CDROM;
    }
    memset(b, 0, 64);
    put_be16(b + 6, profile);
    /* Features in ascending order: 0 profile list, 1 core, 3 removable. */
    for (uint16_t f = 0; f <= 3; f++) {
        if (f == 2 || (rt == 2 ? f != start : f < start)) {
            continue;
        }
        uint8_t *d = b + len;
        put_be16(d, f);
        switch (f) {
        case 0:
            d[2] = 0x03;          /* persistent, current */
            d[3] = 8;
            put_be16(d + 4, PROFILE_DVDROM);
            d[6] = profile == PROFILE_DVDROM;
            put_be16(d + 8, PROFILE_CDROM);
            d[10] = profile == PROFILE_CDROM;
            len += 12;
            break;
        case 1:
            d[2] = (2 << 2) | 0x03;   /* version 2 */
            d[3] = 8;
            put_be32(d + 4, 2);       /* physical interface: ATAPI */
            d[8] = 0x01;              /* device busy events */
            len += 12;
            break;
        case 3:
            d[2] = 0x03;
            d[3] = 4;
            d[4] = 0x29;              /* tray, eject, lock */
            len += 8;
            break;
        }
    }
    put_be32(b, len - 4);
    atapi_reply(s, len, ldw_be(p + 7));
}

static void cmd_get_event_status(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    uint32_t len;
    if (!(p[1] & 1)) {   /* only polled operation */
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10;          /* supported: media class */
    if (p[4] & 0x10) {
        b[2] = 0x04;      /* media class */
        b[4] = s->media_event;
        b[5] = (ide_medium_present(s) ? 0x02 : 0) | (s->tray_open ? 0x01 : 0);
        s->media_event = 0;
        len = 8;
    } else {
        b[2] = 0x80;      /* no event available */
        len = 4;
    }
    put_be16(b, len - 4);
    atapi_reply(s, len, ldw_be(p + 7));
}

static void cmd_mechanism_status(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    memset(b, 0, 8);
    b[1] = s->tray_open ? 0x10 : 0;
    atapi_reply(s, 8, ldw_be(p + 8));
}

static void cmd_read_disc_info(IDEState *s, const uint8_t *p)
{
    uint8_t *b = s->io_buffer;
    if (p[1] & 7) {
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        return;
    }
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;          /* complete disc, complete last session */
    b[3] = 1;             /* first track */
    b[4] = 1;             /* sessions */
    b[5] = 1;             /* first track of last session */
    b[6] = 1;             /* last track of last session */
    b[7] = 0x20;          /* unrestricted use */
    memset(b + 16, 0xff, 8);   /* lead-in / last lead-out: not recordable */
    atapi_reply(s, 34, ldw_be(p + 7));
}

/* Commands that may run while a UNIT ATTENTION is pending. */
static bool allows_unit_attention(uint8_t op)
{
    return op == 0x03 || op == 0x12 || op == 0x46 || op == 0x4a;
}

/* Commands that need a medium. */
static bool needs_medium(uint8_t op)
{
    switch (op) {
    case 0x00: case 0x25: case 0x28: case 0xa8: case 0xbe:
    case 0x43: case 0x51: case 0x2b:
        return true;
    default:
        return false;
    }
}

void ide_atapi_packet(IDEState *s)
{
    s->atapi_dma = s->feature & 1;
    s->byte_limit = s->lcyl | (s->hcyl << 8);
    s->atapi_left = 0;
    s->nsector = (s->nsector & ~7) | ATAPI_INT_REASON_CD;
    /* 50 us DRQ: no interrupt before the packet is sent. */
    ide_transfer_start(s, 0, ATAPI_PACKET_SIZE, PIO_ATAPI_PACKET, true);
}

void ide_atapi_packet_received(IDEState *s)
{
    const uint8_t *p = s->packet;
    memcpy(s->packet, s->io_buffer, ATAPI_PACKET_SIZE);
    uint8_t op = p[0];

    if (s->ua_pending && !allows_unit_attention(op)) {
        s->ua_pending = false;
        atapi_error(s, SENSE_UNIT_ATTENTION, ASC_MEDIUM_MAY_HAVE_CHANGED, 0);
        return;
    }
    if (op != 0x03) {
        s->sense_key = SENSE_NONE;
        s->asc = s->ascq = 0;
    }
    if (needs_medium(op) && !ide_medium_present(s)) {
        atapi_not_ready(s);
        return;
    }
    switch (op) {
    case 0x00:   /* TEST UNIT READY */
        atapi_ok(s);
        break;
    case 0x03:
        cmd_request_sense(s, p);
        break;
    case 0x12:
        cmd_inquiry(s, p);
        break;
    case 0x1b:
        cmd_start_stop(s, p);
        break;
    case 0x1e:   /* PREVENT ALLOW MEDIUM REMOVAL */
        s->locked = p[4] & 1;
        atapi_ok(s);
        break;
    case 0x25:
        cmd_read_capacity(s, p);
        break;
    case 0x28:   /* READ(10) */
        atapi_read(s, ldl_be(p + 2), ldw_be(p + 7));
        break;
    case 0xa8:   /* READ(12) */
        atapi_read(s, ldl_be(p + 2), ldl_be(p + 6));
        break;
    case 0xbe:
        cmd_read_cd(s, p);
        break;
    case 0x2b:   /* SEEK(10) */
        cmd_seek(s, p);
        break;
    case 0x43:
        cmd_read_toc(s, p);
        break;
    case 0x46:
        cmd_get_configuration(s, p);
        break;
    case 0x4a:
        cmd_get_event_status(s, p);
        break;
    case 0x51:
        cmd_read_disc_info(s, p);
        break;
    case 0x5a:
        cmd_mode_sense10(s, p);
        break;
    case 0xbb:   /* SET CD SPEED */
        atapi_ok(s);
        break;
    case 0xbd:
        cmd_mechanism_status(s, p);
        break;
    default:
        atapi_error(s, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
        break;
    }
}

/* ---- medium changes ------------------------------------------------------ */

int ide_cd_insert(IDEState *s, BlockDriverState *bs, BlockDriverState **old_bs, Error **errp)
{
    if (s->kind != IDE_CD) {
        error_setg(errp, "IDE bus %d unit %d is not a CD-ROM drive", s->bus->bus_id, s->unit);
        return -EINVAL;
    }
    int64_t len = 0;
    if (bs) {
        len = bdrv_getlength(bs);
        if (len < 0) {
            error_setg_errno(errp, (int)len, "Cannot get the size of '%s'",
                             bdrv_get_filename(bs));
            return (int)len;
        }
    }
    if (old_bs) {
        *old_bs = s->bs;
    }
    s->bs = bs;
    /* Whole 2048-byte sectors only. */
    s->nb_sectors = (len / IDE_CD_SECTOR_SIZE) * 4;
    s->tray_open = false;
    if (bs) {
        s->ua_pending = true;
        s->media_event = MEC_NEW_MEDIA;
    }
    return 0;
}

int ide_cd_eject(IDEState *s, bool force, BlockDriverState **old_bs, Error **errp)
{
    if (s->kind != IDE_CD) {
        error_setg(errp, "IDE bus %d unit %d is not a CD-ROM drive", s->bus->bus_id, s->unit);
        return -EINVAL;
    }
    if (s->locked && !force) {
        /* Ask the guest to unlock and eject. */
        s->media_event = MEC_EJECT_REQUEST;
        error_setg(errp, "The CD-ROM drive (IDE bus %d unit %d) is locked by the guest; "
                   "use force to eject anyway", s->bus->bus_id, s->unit);
        return -EBUSY;
    }
    if (old_bs) {
        *old_bs = s->bs;
    }
    s->bs = NULL;
    s->nb_sectors = 0;
    s->tray_open = true;
    s->locked = false;
    s->media_event = MEC_MEDIA_REMOVAL;
    return 0;
}

bool ide_cd_is_locked(const IDEState *s)
{
    return s->locked;
}

bool ide_cd_tray_open(const IDEState *s)
{
    return s->tray_open;
}
