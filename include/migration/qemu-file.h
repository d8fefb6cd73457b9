/*
 * QEMUFile: a buffered byte stream for the savevm format.
 *
 * A QEMUFile is either for writing or for reading, over a backend that
 * does positional I/O (a file descriptor, a growable memory buffer, a
 * block device's vmstate area, or caller-supplied ops).
 *
 * Errors are sticky: the first failure (I/O error, reading past the end,
 * a value a VMStateInfo rejected) is recorded with a message, and every
 * later put/get does nothing (gets return zeroes). Check once at the end
 * with qemu_file_get_error() / qemu_file_get_error_obj(). Reading past
 * the end of the data is an error (-EIO, "Unexpected end of migration
 * stream at offset N"), never silent garbage.
 *
 * Large buffers: qemu_put_buffer_nocopy() queues the caller's memory in
 * an iovec instead of copying it; the memory must stay valid and
 * unchanged until the next qemu_fflush()/qemu_fclose() (guest RAM of a
 * stopped VM qualifies). Reads of large buffers go straight from the
 * backend into the destination.
 *
 * Readers over a seekable backend can qemu_file_seek() back and can
 * qemu_file_skip() forward without reading. The loader uses both for its
 * validate-then-commit passes (see migration/savevm.h).
 */
#ifndef MIGRATION_QEMU_FILE_H
#define MIGRATION_QEMU_FILE_H

#include <sys/uio.h>
#include "util/osdep.h"
#include "util/error.h"

typedef struct QEMUFile QEMUFile;
typedef struct BlockDriverState BlockDriverState;

/* Backend operations. All return bytes transferred or -errno (and fill
 * errp). 'pos' is the stream offset of the first byte. */
typedef struct QEMUFileOps {
    /* Reading: a short count means the data ends there. */
    ssize_t (*pread)(void *opaque, void *buf, size_t len, int64_t pos, Error **errp);
    /* Writing: must write everything or fail. */
    ssize_t (*pwritev)(void *opaque, const struct iovec *iov, int iovcnt,
                       int64_t pos, Error **errp);
    /* Optional: makes written data durable (fsync, bdrv_flush). */
    int (*sync)(void *opaque, Error **errp);
    /* Optional: releases the backend (called once by qemu_fclose). */
    int (*close)(void *opaque, Error **errp);
} QEMUFileOps;

/* 'size' (readers): total bytes available, or -1 if unknown (then the
 * end is where pread returns short). 'seekable': the loader may seek. */
QEMUFile *qemu_file_new_input(const QEMUFileOps *ops, void *opaque,
                              int64_t size, bool seekable);
QEMUFile *qemu_file_new_output(const QEMUFileOps *ops, void *opaque);

/* File descriptors. The QEMUFile does not own 'fd' (close it yourself
 * after qemu_fclose). Reads and writes start at the current offset;
 * regular files are seekable, pipes and sockets are not. */
QEMUFile *qemu_file_new_fd_input(int fd);
QEMUFile *qemu_file_new_fd_output(int fd);
/* Opens (and owns) a file: for writing it is created/truncated. */
QEMUFile *qemu_file_open_path(const char *path, bool writable, Error **errp);

/* Memory. Output grows a heap buffer, read back with
 * qemu_file_mem_output_data() (valid until qemu_fclose). Input reads
 * the caller's buffer in place (keep it alive until qemu_fclose). */
QEMUFile *qemu_file_new_mem_output(void);
const uint8_t *qemu_file_mem_output_data(QEMUFile *f, size_t *len);
/* Hands the written bytes to the caller (free() them); f stays usable
 * only for qemu_fclose. */
uint8_t *qemu_file_mem_output_steal(QEMUFile *f, size_t *len);
QEMUFile *qemu_file_new_mem_input(const void *buf, size_t len);

/* The vmstate area of a block device (bdrv_save_vmstate /
 * bdrv_load_vmstate), starting at offset 0. For reading, 'size' is the
 * stream length (the snapshot's vm_state_size), or -1 if unknown. Lives
 * in migration/qemu-file-bdrv.c. */
QEMUFile *qemu_file_new_bdrv(BlockDriverState *bs, bool writable, int64_t size);

/* Flushes (writers), syncs if 'sync', releases the backend and frees f.
 * Returns the sticky error (or the flush/close error) as -errno, with
 * the message in errp. */
int qemu_fclose(QEMUFile *f, Error **errp);
int qemu_fclose_sync(QEMUFile *f, Error **errp);

/* ---- writing ---- */
void qemu_put_byte(QEMUFile *f, int v);
void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t len);
void qemu_put_buffer_nocopy(QEMUFile *f, const uint8_t *buf, size_t len);
void qemu_put_be16(QEMUFile *f, unsigned v);
void qemu_put_be32(QEMUFile *f, uint32_t v);
void qemu_put_be64(QEMUFile *f, uint64_t v);
static inline void qemu_put_sbe16(QEMUFile *f, int16_t v) { qemu_put_be16(f, (uint16_t)v); }
static inline void qemu_put_sbe32(QEMUFile *f, int32_t v) { qemu_put_be32(f, (uint32_t)v); }
static inline void qemu_put_sbe64(QEMUFile *f, int64_t v) { qemu_put_be64(f, (uint64_t)v); }
/* Writes 'len' zero bytes. */
void qemu_put_zeroes(QEMUFile *f, size_t len);
/* Writes out buffered data (and queued nocopy buffers). */
int qemu_fflush(QEMUFile *f);

/* ---- reading ---- */
/* Each returns 0 (and sets the error) when the data runs out. */
uint8_t qemu_get_byte(QEMUFile *f);
uint16_t qemu_get_be16(QEMUFile *f);
uint32_t qemu_get_be32(QEMUFile *f);
uint64_t qemu_get_be64(QEMUFile *f);
static inline int16_t qemu_get_sbe16(QEMUFile *f) { return (int16_t)qemu_get_be16(f); }
static inline int32_t qemu_get_sbe32(QEMUFile *f) { return (int32_t)qemu_get_be32(f); }
static inline int64_t qemu_get_sbe64(QEMUFile *f) { return (int64_t)qemu_get_be64(f); }
/* Reads exactly len bytes; returns len, or fewer with the error set. */
size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t len);
/* Skips len bytes without copying them (no backend I/O when they lie
 * beyond the buffer). Skipping past the end of a stream of known size is
 * an error. */
void qemu_file_skip(QEMUFile *f, size_t len);
/* Looks ahead without consuming. peek_byte returns -1 if there is no
 * byte at that offset (no error is set: the end of the stream may be
 * legitimate). peek_buffer points *buf at up to 'len' bytes starting
 * 'offset' bytes ahead (valid until the next read) and returns how many
 * are there. offset + len must be <= QEMU_FILE_PEEK_MAX. */
#define QEMU_FILE_PEEK_MAX 4096
int qemu_peek_byte(QEMUFile *f, size_t offset);
size_t qemu_peek_buffer(QEMUFile *f, const uint8_t **buf, size_t len, size_t offset);
/* True when every byte of the stream has been consumed. Only reliable
 * for streams of known size or backends that report the end. */
bool qemu_file_at_eof(QEMUFile *f);
/* Total size of an input stream, or -1. */
int64_t qemu_file_size(QEMUFile *f);
bool qemu_file_is_seekable(QEMUFile *f);
/* Readers on seekable backends: continue reading at 'pos'. Clears
 * nothing: a sticky error stays. */
int qemu_file_seek(QEMUFile *f, int64_t pos, Error **errp);

/* ---- state ---- */
bool qemu_file_is_writable(QEMUFile *f);
/* Stream offset of the next byte to be read or written. */
int64_t qemu_ftell(QEMUFile *f);
/* 0 or the first error (-errno). */
int qemu_file_get_error(QEMUFile *f);
/* Same, and copies the message into errp (if one was recorded). */
int qemu_file_get_error_obj(QEMUFile *f, Error **errp);
/* Records an error unless one is already recorded. 'ret' is -errno. */
void qemu_file_set_error(QEMUFile *f, int ret);
void qemu_file_set_error_msg(QEMUFile *f, int ret, const char *fmt, ...) PRINTF_FMT(3, 4);
/* Forgets the recorded error (tests, and the loader between passes). */
void qemu_file_clear_error(QEMUFile *f);

/* The loader's validation pass: while set, VMStateInfo.get callbacks
 * must only parse and check (writing into *pv is fine: it is a scratch
 * copy) and must not touch anything outside *pv (timers, IRQs). */
void qemu_file_set_validating(QEMUFile *f, bool validating);
bool qemu_file_is_validating(QEMUFile *f);
/* A stream this process wrote itself moments ago (the loader's backup
 * of device state): checks that compare loaded values with the running
 * machine (_EQUAL, _LE) are skipped, since the machine moved. */
void qemu_file_set_trusted(QEMUFile *f, bool trusted);
bool qemu_file_is_trusted(QEMUFile *f);

#endif
