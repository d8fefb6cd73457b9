/*
 * IDE: ATA disks and ATAPI CD-ROM drives on two-device channels.
 *
 * An IDEBus is one channel (command block at 0x1f0/0x170, control at
 * 0x3f6/0x376) with up to two drives. Disks are backed by the block
 * layer; block I/O is synchronous, and a command's interrupt is raised
 * before the port write that started it returns (for PIO reads, when a
 * data block is ready; for DMA, when the bus master moved everything).
 *
 * DMA goes through an IDEDMAOps provider (the PIIX bus-master engine in
 * hw/piix-ide.c): the drive prepares a DMA command, and moves its data
 * when the provider calls ide_bus_dma_start() (in either order).
 */
#ifndef HW_IDE_H
#define HW_IDE_H

#include "util/osdep.h"
#include "util/error.h"
#include "cpu/memory.h"
#include "hw/irq.h"
#include "block/block.h"
#include "migration/vmstate.h"

typedef enum IDEDriveKind {
    IDE_NONE = 0,
    IDE_HD = 1,
    IDE_CD = 2,
} IDEDriveKind;

#define IDE_SECTOR_SIZE      512
#define IDE_CD_SECTOR_SIZE   2048
#define IDE_BUF_SECTORS      256
#define IDE_BUF_SIZE         (IDE_BUF_SECTORS * IDE_SECTOR_SIZE)
#define IDE_MAX_MULT_SECTORS 16
#define ATAPI_PACKET_SIZE    12

typedef struct IDEBus IDEBus;

typedef struct IDEDMAOps {
    /* Moves up to len bytes between buf and guest memory along the
     * descriptor table, continuing where the previous call of this
     * transfer stopped. Returns the bytes moved: fewer than len means
     * the table ended. */
    int64_t (*rw)(void *opaque, uint8_t *buf, int64_t len, bool to_memory);
    /* The transfer ended. 'table_short': the table ended before the
     * data did (no interrupt is raised then). */
    void (*done)(void *opaque, bool table_short);
    /* The channel raised its interrupt line. */
    void (*irq)(void *opaque);
} IDEDMAOps;

typedef struct IDEState {
    IDEBus *bus;
    int unit;
    uint8_t kind;              /* IDEDriveKind */
    BlockDriverState *bs;      /* NULL: no medium (CD) */
    char model[41];
    char serial[21];
    char version[9];

    /* Geometry: default (IDENTIFY words 1/3/6) and current translation
     * (INITIALIZE DEVICE PARAMETERS). */
    uint32_t cylinders, heads, sectors;
    uint32_t cur_cylinders, cur_heads, cur_sectors;
    int64_t nb_sectors;        /* 512-byte sectors of the medium */

    /* Command block registers; hob_* are the previous values (48-bit). */
    uint8_t feature, nsector, sector, lcyl, hcyl;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    uint8_t select, status, error, command;
    bool irq_pending;
    bool lba48;                /* the current command uses 48-bit addressing */

    uint8_t mult_sectors;
    bool wce;                  /* write cache enabled (SET FEATURES 02/82) */
    uint8_t xfer_mode;         /* SET FEATURES 03: 0x08|pio, 0x20|mwdma, 0x40|udma */
    uint8_t power_mode;        /* CHECK POWER MODE answer: 0xff active, 0 standby */

    /* Transfer in progress. */
    uint8_t pio_op;            /* what happens when the PIO block ends */
    bool pio_to_device;
    uint8_t dma_op;            /* DMA command waiting for / using the engine */
    int64_t sector_num;        /* next sector */
    uint32_t nsector_left;     /* sectors still to transfer */
    uint32_t block_sectors;    /* sectors per DRQ block (PIO) */
    uint32_t data_ptr, data_end;
    uint8_t *io_buffer;        /* IDE_BUF_SIZE bytes */

    /* ATAPI */
    uint8_t packet[ATAPI_PACKET_SIZE];
    bool atapi_dma;
    uint16_t byte_limit;       /* byte count limit of the PACKET command */
    uint8_t atapi_src;         /* data from the reply buffer or the disc */
    int64_t atapi_left;        /* bytes of the command's data still to send */
    int64_t cd_offset;         /* next disc byte for reads */
    uint32_t reply_pos;
    uint8_t sense_key, asc, ascq;
    bool tray_open, locked;
    bool ua_pending;           /* UNIT ATTENTION after a medium change */
    uint8_t media_event;       /* GET EVENT STATUS: pending media event code */
} IDEState;

struct IDEBus {
    IDEState ifs[2];
    uint8_t unit;              /* selected drive */
    uint8_t cmd;               /* device control register */
    int bus_id;
    IRQLine *irq;
    bool dma_active;           /* the engine was started and waits for a drive */
    bool irq_level;            /* what we drive on 'irq' */
    const IDEDMAOps *dma_ops;
    void *dma_opaque;
    MemoryRegion *cmd_mr, *ctl_mr;
};

/* Status register */
#define ATA_ERR   0x01
#define ATA_DRQ   0x08
#define ATA_DSC   0x10
#define ATA_DF    0x20
#define ATA_DRDY  0x40
#define ATA_BSY   0x80
/* Error register */
#define ATA_ABRT  0x04
#define ATA_IDNF  0x10
#define ATA_UNC   0x40
/* Device control register */
#define ATA_NIEN  0x02
#define ATA_SRST  0x04
#define ATA_HOB   0x80

void ide_bus_init(IDEBus *bus, int bus_id, IRQLine *irq);
void ide_bus_cleanup(IDEBus *bus);
/* Attaches a drive. IDE_HD needs bs (its size sets the geometry);
 * IDE_CD may start empty (bs NULL). The BDS stays the caller's. */
int ide_bus_attach(IDEBus *bus, int unit, IDEDriveKind kind, BlockDriverState *bs,
                   Error **errp);
/* Command block (8 ports) at iobase, device control / alternate status
 * (1 port) at ctlbase. */
void ide_bus_register_ports(IDEBus *bus, MemoryRegion *io, uint16_t iobase, uint16_t ctlbase);
void ide_bus_set_dma_ops(IDEBus *bus, const IDEDMAOps *ops, void *opaque);
/* The engine was started: a waiting drive moves its data now. */
void ide_bus_dma_start(IDEBus *bus);
void ide_bus_dma_stop(IDEBus *bus);
/* Hardware reset of both drives (power-on values, signatures). */
void ide_bus_reset(IDEBus *bus);

/* Register-level access (what the port regions call), for tests and
 * other front ends. addr: 0-7 command block; data accesses of 1, 2 or
 * 4 bytes at 0. */
uint32_t ide_cmd_read(IDEBus *bus, uint32_t addr, unsigned size);
void ide_cmd_write(IDEBus *bus, uint32_t addr, uint32_t val, unsigned size);
uint32_t ide_status_read(IDEBus *bus);   /* alternate status */
void ide_ctl_write(IDEBus *bus, uint32_t val);

void ide_get_geometry(IDEState *s, uint32_t *cyls, uint32_t *heads, uint32_t *secs);

/* CD-ROM medium changes (monitor "eject" and "change"). Eject fails
 * with -EBUSY when the guest locked the door, unless force. On success
 * *old_bs (if not NULL) gets the removed BDS, for the caller to close. */
int ide_cd_eject(IDEState *s, bool force, BlockDriverState **old_bs, Error **errp);
/* Inserts a medium and closes the tray; the guest sees UNIT ATTENTION
 * and a new-media event. A previous medium is replaced (returned in
 * *old_bs when not NULL). */
int ide_cd_insert(IDEState *s, BlockDriverState *bs, BlockDriverState **old_bs, Error **errp);
bool ide_cd_is_locked(const IDEState *s);
bool ide_cd_tray_open(const IDEState *s);

extern const VMStateDescription vmstate_ide_drive;
extern const VMStateDescription vmstate_ide_bus;

#endif
