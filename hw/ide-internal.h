/* Private to hw/ide.c and hw/ide-atapi.c. */
#ifndef HW_IDE_INTERNAL_H
#define HW_IDE_INTERNAL_H

#include "hw/ide.h"

/* What ends a PIO data block. */
enum {
    PIO_NONE,
    PIO_ATA_READ,      /* next block or done */
    PIO_ATA_WRITE,     /* write the block, next or done */
    PIO_BUFFER_READ,   /* one block from io_buffer (IDENTIFY), then done */
    PIO_ATAPI_PACKET,  /* 12 bytes of command packet received */
    PIO_ATAPI_DATA,    /* one byte-count-limited chunk sent */
    PIO_OP_MAX,
};

/* DMA command waiting for or using the engine. */
enum {
    DMA_NONE,
    DMA_ATA_READ,
    DMA_ATA_WRITE,
    DMA_ATAPI,
    DMA_OP_MAX,
};

enum {
    ATAPI_SRC_REPLY,   /* io_buffer[reply_pos..] */
    ATAPI_SRC_DISC,    /* the medium at cd_offset */
};

/* ATAPI interrupt reason (in the sector count register) */
#define ATAPI_INT_REASON_CD  0x01
#define ATAPI_INT_REASON_IO  0x02

void ide_set_irq(IDEState *s);
void ide_abort_command(IDEState *s);
void ide_set_signature(IDEState *s);
/* Starts a PIO data block io_buffer[start, end). */
void ide_transfer_start(IDEState *s, uint32_t start, uint32_t end, int op, bool to_device);
void ide_transfer_stop(IDEState *s);
void ide_put_string(uint16_t *words, int first_word, const char *str, int len);
void ide_identify_finish(uint16_t *words);
bool ide_medium_present(IDEState *s);
void ide_dma_finish(IDEState *s, bool table_short);
/* Prepares a DMA command; runs it at once if the engine is started. */
void ide_dma_begin(IDEState *s, int op);

void ide_atapi_identify(IDEState *s);
void ide_atapi_packet(IDEState *s);          /* the PACKET command */
void ide_atapi_packet_received(IDEState *s); /* 12 bytes in io_buffer */
void ide_atapi_chunk_done(IDEState *s);      /* PIO chunk consumed */
void ide_atapi_dma_run(IDEState *s);
void ide_atapi_reset(IDEState *s);

#endif
