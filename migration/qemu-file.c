/*
 * QEMUFile: buffered stream with a sticky error over positional backends
 * (file descriptors and memory here; the block backend lives in
 * qemu-file-bdrv.c so that programs without a block layer link).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration/qemu-file.h"
#include "util/strbuf.h"

#define IO_BUF_SIZE (256 * 1024)
/* Memory streams: small, so short-lived files stay below mmap sizes. */
#define MEM_BUF_SIZE (32 * 1024)
#define MAX_IOV 256
/* get_buffer reads at least this much straight into the destination. */
#define DIRECT_READ_MIN (64 * 1024)

struct QEMUFile {
    const QEMUFileOps *ops;
    void *opaque;
    bool writable;
    bool seekable;
    bool validating;
    bool trusted;
    int64_t size;         /* readers: total bytes, or -1 */

    /* Writers: 'pos' is the stream offset of the first queued byte;
     * queued data is iov[0..iovcnt), small puts land in buf.
     * Readers: 'pos' is the stream offset of buf[0]; buf[buf_index..
     * buf_len) is unread; eof means the backend reported the end. */
    int64_t pos;
    uint8_t *buf;
    size_t buf_size;
    size_t buf_len;
    size_t buf_index;
    bool eof;
    struct iovec iov[MAX_IOV];
    int iovcnt;
    size_t iov_bytes;

    int error;
    Error *err;
};

/* ---- creation and errors -------------------------------------------- */

static QEMUFile *qemu_file_new(const QEMUFileOps *ops, void *opaque, bool writable)
{
    QEMUFile *f = XNEW(QEMUFile);
    f->ops = ops;
    f->opaque = opaque;
    f->writable = writable;
    f->size = -1;
    f->buf_size = IO_BUF_SIZE;
    f->buf = xmalloc(IO_BUF_SIZE);
    return f;
}

static void use_small_buffer(QEMUFile *f)
{
    free(f->buf);
    f->buf_size = MEM_BUF_SIZE;
    f->buf = xmalloc(MEM_BUF_SIZE);
}

QEMUFile *qemu_file_new_input(const QEMUFileOps *ops, void *opaque,
                              int64_t size, bool seekable)
{
    QEMUFile *f = qemu_file_new(ops, opaque, false);
    f->size = size;
    f->seekable = seekable;
    return f;
}

QEMUFile *qemu_file_new_output(const QEMUFileOps *ops, void *opaque)
{
    return qemu_file_new(ops, opaque, true);
}

bool qemu_file_is_writable(QEMUFile *f)
{
    return f->writable;
}

int qemu_file_get_error(QEMUFile *f)
{
    return f->error;
}

int qemu_file_get_error_obj(QEMUFile *f, Error **errp)
{
    if (f->error) {
        if (f->err) {
            error_setg(errp, "%s", error_get_pretty(f->err));
        } else {
            error_setg_errno(errp, f->error, "Migration stream error");
        }
    }
    return f->error;
}

static void set_error_err(QEMUFile *f, int ret, Error *err)
{
    if (f->error || ret >= 0) {
        error_free(err);
        return;
    }
    f->error = ret;
    f->err = err;
}

void qemu_file_set_error(QEMUFile *f, int ret)
{
    set_error_err(f, ret, NULL);
}

void qemu_file_set_error_msg(QEMUFile *f, int ret, const char *fmt, ...)
{
    if (f->error || ret >= 0) {
        return;
    }
    StrBuf sb;
    va_list ap;
    strbuf_init(&sb);
    va_start(ap, fmt);
    strbuf_vprintf(&sb, fmt, ap);
    va_end(ap);
    Error *err = NULL;
    error_setg(&err, "%s", sb.str);
    strbuf_free(&sb);
    set_error_err(f, ret, err);
}

void qemu_file_clear_error(QEMUFile *f)
{
    f->error = 0;
    error_free(f->err);
    f->err = NULL;
}

void qemu_file_set_validating(QEMUFile *f, bool validating)
{
    f->validating = validating;
}

bool qemu_file_is_validating(QEMUFile *f)
{
    return f->validating;
}

void qemu_file_set_trusted(QEMUFile *f, bool trusted)
{
    f->trusted = trusted;
}

bool qemu_file_is_trusted(QEMUFile *f)
{
    return f->trusted;
}

int64_t qemu_ftell(QEMUFile *f)
{
    return f->writable ? f->pos + (int64_t)f->iov_bytes : f->pos + (int64_t)f->buf_index;
}

int64_t qemu_file_size(QEMUFile *f)
{
    return f->size;
}

bool qemu_file_is_seekable(QEMUFile *f)
{
    return f->seekable;
}

/* ---- writing ---------------------------------------------------------- */

int qemu_fflush(QEMUFile *f)
{
    if (!f->writable) {
        return f->error;
    }
    if (f->iovcnt && !f->error) {
        Error *err = NULL;
        ssize_t r = f->ops->pwritev(f->opaque, f->iov, f->iovcnt, f->pos, &err);
        if (r < 0) {
            set_error_err(f, (int)r, err);
        } else {
            error_free(err);
            f->pos += f->iov_bytes;
        }
    }
    f->iovcnt = 0;
    f->iov_bytes = 0;
    f->buf_len = 0;
    return f->error;
}

static void add_iov(QEMUFile *f, const uint8_t *p, size_t len, bool from_buf)
{
    struct iovec *last = f->iovcnt ? &f->iov[f->iovcnt - 1] : NULL;
    if (last && (uint8_t *)last->iov_base + last->iov_len == p &&
        (!from_buf || ((uint8_t *)last->iov_base >= f->buf &&
                       (uint8_t *)last->iov_base < f->buf + f->buf_size))) {
        last->iov_len += len;
    } else {
        if (f->iovcnt == MAX_IOV) {
            qemu_fflush(f);
            if (from_buf) {
                /* The flush emptied buf; the caller's bytes were copied
                 * to its old end, so move them to the start. */
                memmove(f->buf, p, len);
                p = f->buf;
                f->buf_len = len;
            }
        }
        f->iov[f->iovcnt].iov_base = (void *)p;
        f->iov[f->iovcnt].iov_len = len;
        f->iovcnt++;
    }
    f->iov_bytes += len;
}

void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t len)
{
    if (f->error) {
        return;
    }
    while (len) {
        if (f->buf_len == f->buf_size) {
            qemu_fflush(f);
            if (f->error) {
                return;
            }
        }
        size_t n = MIN(len, f->buf_size - f->buf_len);
        uint8_t *dst = f->buf + f->buf_len;
        memcpy(dst, buf, n);
        f->buf_len += n;
        add_iov(f, dst, n, true);
        buf += n;
        len -= n;
    }
}

void qemu_put_buffer_nocopy(QEMUFile *f, const uint8_t *buf, size_t len)
{
    if (f->error || !len) {
        return;
    }
    add_iov(f, buf, len, false);
    if (f->iovcnt == MAX_IOV) {
        qemu_fflush(f);
    }
}

void qemu_put_byte(QEMUFile *f, int v)
{
    uint8_t b = (uint8_t)v;
    qemu_put_buffer(f, &b, 1);
}

void qemu_put_be16(QEMUFile *f, unsigned v)
{
    uint8_t b[2];
    stw_be(b, (uint16_t)v);
    qemu_put_buffer(f, b, 2);
}

void qemu_put_be32(QEMUFile *f, uint32_t v)
{
    uint8_t b[4];
    stl_be(b, v);
    qemu_put_buffer(f, b, 4);
}

void qemu_put_be64(QEMUFile *f, uint64_t v)
{
    uint8_t b[8];
    stq_be(b, v);
    qemu_put_buffer(f, b, 8);
}

void qemu_put_zeroes(QEMUFile *f, size_t len)
{
    static const uint8_t zeroes[512];
    while (len && !f->error) {
        size_t n = MIN(len, sizeof(zeroes));
        qemu_put_buffer(f, zeroes, n);
        len -= n;
    }
}

/* ---- reading ---------------------------------------------------------- */

static void set_eof_error(QEMUFile *f)
{
    qemu_file_set_error_msg(f, -EIO, "Unexpected end of migration stream at offset %" PRId64,
                            qemu_ftell(f));
}

/* Moves unread bytes to the front and reads more; returns bytes now
 * available (buf_len - buf_index). */
static size_t fill_buffer(QEMUFile *f)
{
    if (f->buf_index) {
        size_t avail = f->buf_len - f->buf_index;
        memmove(f->buf, f->buf + f->buf_index, avail);
        f->pos += f->buf_index;
        f->buf_len = avail;
        f->buf_index = 0;
    }
    while (!f->eof && !f->error && f->buf_len < f->buf_size) {
        size_t want = f->buf_size - f->buf_len;
        int64_t at = f->pos + (int64_t)f->buf_len;
        if (f->size >= 0) {
            if (at >= f->size) {
                f->eof = true;
                break;
            }
            want = (size_t)MIN((int64_t)want, f->size - at);
        }
        Error *err = NULL;
        ssize_t r = f->ops->pread(f->opaque, f->buf + f->buf_len, want, at, &err);
        if (r < 0) {
            set_error_err(f, (int)r, err);
            break;
        }
        error_free(err);
        if (r == 0) {
            f->eof = true;
            break;
        }
        f->buf_len += (size_t)r;
        /* One backend call per refill is enough; loop only to top up
         * short reads from pipes when the caller needs more. */
        break;
    }
    return f->buf_len - f->buf_index;
}

size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t len)
{
    size_t done = 0;
    if (f->error) {
        memset(buf, 0, len);
        return 0;
    }
    while (done < len) {
        size_t avail = f->buf_len - f->buf_index;
        if (avail) {
            size_t n = MIN(avail, len - done);
            memcpy(buf + done, f->buf + f->buf_index, n);
            f->buf_index += n;
            done += n;
            continue;
        }
        size_t rest = len - done;
        if (rest >= DIRECT_READ_MIN && !f->eof) {
            /* Buffer empty: read straight into the destination. */
            int64_t at = f->pos + (int64_t)f->buf_len;
            if (f->size >= 0 && at + (int64_t)rest > f->size) {
                rest = f->size > at ? (size_t)(f->size - at) : 0;
            }
            Error *err = NULL;
            ssize_t r = rest ? f->ops->pread(f->opaque, buf + done, rest, at, &err) : 0;
            if (r < 0) {
                set_error_err(f, (int)r, err);
                break;
            }
            error_free(err);
            if (r == 0) {
                f->eof = true;
                continue;
            }
            f->pos = at + r;
            f->buf_len = f->buf_index = 0;
            done += (size_t)r;
            continue;
        }
        if (!fill_buffer(f)) {
            if (!f->error) {
                set_eof_error(f);
            }
            break;
        }
    }
    if (done < len) {
        /* Failed reads yield zeroes, never a mix of data and zeroes. */
        memset(buf, 0, len);
    }
    return done;
}

uint8_t qemu_get_byte(QEMUFile *f)
{
    if (f->buf_index < f->buf_len && !f->error) {
        return f->buf[f->buf_index++];
    }
    uint8_t b;
    qemu_get_buffer(f, &b, 1);
    return b;
}

uint16_t qemu_get_be16(QEMUFile *f)
{
    uint8_t b[2];
    qemu_get_buffer(f, b, 2);
    return ldw_be(b);
}

uint32_t qemu_get_be32(QEMUFile *f)
{
    uint8_t b[4];
    qemu_get_buffer(f, b, 4);
    return ldl_be(b);
}

uint64_t qemu_get_be64(QEMUFile *f)
{
    uint8_t b[8];
    if (f->buf_len - f->buf_index >= 8 && !f->error) {
        uint64_t v = ldq_be(f->buf + f->buf_index);
        f->buf_index += 8;
        return v;
    }
    qemu_get_buffer(f, b, 8);
    return ldq_be(b);
}

void qemu_file_skip(QEMUFile *f, size_t len)
{
    if (f->error) {
        return;
    }
    size_t avail = f->buf_len - f->buf_index;
    if (len <= avail) {
        f->buf_index += len;
        return;
    }
    if (!f->seekable) {
        /* Pipes: read and drop. */
        while (len && !f->error) {
            avail = f->buf_len - f->buf_index;
            if (!avail && !fill_buffer(f)) {
                set_eof_error(f);
                return;
            }
            avail = f->buf_len - f->buf_index;
            size_t n = MIN(avail, len);
            f->buf_index += n;
            len -= n;
        }
        return;
    }
    int64_t target = qemu_ftell(f) + (int64_t)len;
    if (f->size >= 0 && target > f->size) {
        f->pos = f->size;
        f->buf_len = f->buf_index = 0;
        f->eof = true;
        set_eof_error(f);
        return;
    }
    f->pos = target;
    f->buf_len = f->buf_index = 0;
    f->eof = false;
}

size_t qemu_peek_buffer(QEMUFile *f, const uint8_t **buf, size_t len, size_t offset)
{
    *buf = NULL;
    if (f->error || offset + len > QEMU_FILE_PEEK_MAX) {
        return 0;
    }
    size_t avail = f->buf_len - f->buf_index;
    if (avail < offset + len) {
        avail = fill_buffer(f);
        while (avail < offset + len && !f->eof && !f->error) {
            size_t before = avail;
            avail = fill_buffer(f);
            if (avail == before) {
                break;
            }
        }
    }
    if (avail <= offset) {
        return 0;
    }
    *buf = f->buf + f->buf_index + offset;
    return MIN(len, avail - offset);
}

int qemu_peek_byte(QEMUFile *f, size_t offset)
{
    const uint8_t *p;
    if (qemu_peek_buffer(f, &p, 1, offset) != 1) {
        return -1;
    }
    return *p;
}

bool qemu_file_at_eof(QEMUFile *f)
{
    if (f->buf_index < f->buf_len) {
        return false;
    }
    if (f->size >= 0) {
        return qemu_ftell(f) >= f->size;
    }
    return fill_buffer(f) == 0;
}

int qemu_file_seek(QEMUFile *f, int64_t pos, Error **errp)
{
    if (f->writable || !f->seekable) {
        error_setg(errp, "Migration stream is not seekable");
        return -ESPIPE;
    }
    if (pos < 0 || (f->size >= 0 && pos > f->size)) {
        error_setg(errp, "Seek to offset %" PRId64 " outside the migration stream", pos);
        return -EINVAL;
    }
    if (pos >= f->pos && pos <= f->pos + (int64_t)f->buf_len) {
        f->buf_index = (size_t)(pos - f->pos);
        return 0;
    }
    f->pos = pos;
    f->buf_len = f->buf_index = 0;
    f->eof = false;
    return 0;
}

/* ---- closing ---------------------------------------------------------- */

static int qemu_fclose_common(QEMUFile *f, bool sync, Error **errp)
{
    if (!f) {
        return 0;
    }
    if (f->writable) {
        qemu_fflush(f);
        if (sync && !f->error && f->ops->sync) {
            Error *err = NULL;
            int r = f->ops->sync(f->opaque, &err);
            if (r < 0) {
                set_error_err(f, r, err);
            } else {
                error_free(err);
            }
        }
    }
    if (f->ops->close) {
        Error *err = NULL;
        int r = f->ops->close(f->opaque, &err);
        if (r < 0) {
            set_error_err(f, r, err);
        } else {
            error_free(err);
        }
    }
    int ret = qemu_file_get_error_obj(f, errp);
    error_free(f->err);
    free(f->buf);
    free(f);
    return ret;
}

int qemu_fclose(QEMUFile *f, Error **errp)
{
    return qemu_fclose_common(f, false, errp);
}

int qemu_fclose_sync(QEMUFile *f, Error **errp)
{
    return qemu_fclose_common(f, true, errp);
}

/* ---- file descriptor backend ----------------------------------------- */

typedef struct FdBackend {
    int fd;
    bool owned;
    bool seekable;
    int64_t base;        /* fd offset of stream offset 0 */
    char *path;          /* for messages, may be NULL */
    uint8_t *stage;      /* gathers segments into one write */
    size_t stage_cap;
} FdBackend;

static const char *fd_name(FdBackend *b)
{
    return b->path ? b->path : "migration stream";
}

static ssize_t fd_pread(void *opaque, void *buf, size_t len, int64_t pos, Error **errp)
{
    FdBackend *b = opaque;
    ssize_t r = b->seekable ? full_pread(b->fd, buf, len, b->base + pos)
                            : full_read(b->fd, buf, len);
    if (r < 0) {
        error_setg_errno(errp, (int)-r, "Could not read '%s'", fd_name(b));
    }
    return r;
}

static ssize_t fd_pwritev_direct(FdBackend *b, const struct iovec *iov, int iovcnt,
                                 int64_t pos, Error **errp);

/* Many small segments (page headers between pages) make the kernel's
 * per-segment work dominate; one contiguous write is several times
 * faster than the copy it costs. */
static ssize_t fd_pwritev(void *opaque, const struct iovec *iov, int iovcnt,
                          int64_t pos, Error **errp)
{
    FdBackend *b = opaque;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    if (iovcnt <= 2 || total > 8 * 1024 * 1024) {
        return fd_pwritev_direct(b, iov, iovcnt, pos, errp);
    }
    if (total > b->stage_cap) {
        free(b->stage);
        b->stage = xmalloc(total);
        b->stage_cap = total;
    }
    size_t at = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(b->stage + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    struct iovec one = { .iov_base = b->stage, .iov_len = total };
    return fd_pwritev_direct(b, &one, 1, pos, errp);
}

static ssize_t fd_pwritev_direct(FdBackend *b, const struct iovec *iov, int iovcnt,
                                 int64_t pos, Error **errp)
{
    struct iovec local[MAX_IOV];
    size_t total = 0;
    int cnt = MIN(iovcnt, MAX_IOV);
    memcpy(local, iov, cnt * sizeof(*iov));
    for (int i = 0; i < cnt; i++) {
        total += local[i].iov_len;
    }
    struct iovec *v = local;
    size_t done = 0;
    while (cnt > 0) {
        ssize_t r = b->seekable ? pwritev(b->fd, v, MIN(cnt, IOV_MAX), b->base + pos + (int64_t)done)
                                : writev(b->fd, v, MIN(cnt, IOV_MAX));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            error_setg_errno(errp, e, "Could not write '%s'", fd_name(b));
            return -e;
        }
        if (r == 0) {
            error_setg(errp, "Could not write '%s': no progress", fd_name(b));
            return -EIO;
        }
        done += (size_t)r;
        while (cnt > 0 && (size_t)r >= v->iov_len) {
            r -= (ssize_t)v->iov_len;
            v++;
            cnt--;
        }
        if (cnt > 0 && r) {
            v->iov_base = (uint8_t *)v->iov_base + r;
            v->iov_len -= (size_t)r;
        }
    }
    return (ssize_t)total;
}

static int fd_sync(void *opaque, Error **errp)
{
    FdBackend *b = opaque;
    if (b->seekable && fsync(b->fd) < 0) {
        int e = errno;
        error_setg_errno(errp, e, "Could not sync '%s'", fd_name(b));
        return -e;
    }
    return 0;
}

static int fd_close(void *opaque, Error **errp)
{
    FdBackend *b = opaque;
    int ret = 0;
    if (b->owned && close(b->fd) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not close '%s'", fd_name(b));
    }
    free(b->path);
    free(b->stage);
    free(b);
    return ret;
}

static const QEMUFileOps fd_ops = {
    .pread = fd_pread,
    .pwritev = fd_pwritev,
    .sync = fd_sync,
    .close = fd_close,
};

static FdBackend *fd_backend_new(int fd, bool owned, const char *path)
{
    FdBackend *b = XNEW(FdBackend);
    b->fd = fd;
    b->owned = owned;
    b->path = path ? xstrdup(path) : NULL;
    off_t off = lseek(fd, 0, SEEK_CUR);
    b->seekable = off >= 0;
    b->base = off >= 0 ? off : 0;
    return b;
}

static QEMUFile *fd_input(FdBackend *b)
{
    int64_t size = -1;
    struct stat st;
    if (b->seekable && fstat(b->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        size = st.st_size > b->base ? st.st_size - b->base : 0;
    }
    return qemu_file_new_input(&fd_ops, b, size, b->seekable);
}

QEMUFile *qemu_file_new_fd_input(int fd)
{
    return fd_input(fd_backend_new(fd, false, NULL));
}

QEMUFile *qemu_file_new_fd_output(int fd)
{
    return qemu_file_new_output(&fd_ops, fd_backend_new(fd, false, NULL));
}

QEMUFile *qemu_file_open_path(const char *path, bool writable, Error **errp)
{
    int fd = writable ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                      : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return NULL;
    }
    FdBackend *b = fd_backend_new(fd, true, path);
    return writable ? qemu_file_new_output(&fd_ops, b) : fd_input(b);
}

/* ---- memory backends -------------------------------------------------- */

typedef struct MemBackend {
    uint8_t *data;
    const uint8_t *rdata;
    size_t len;
    size_t cap;
} MemBackend;

static ssize_t mem_pwritev(void *opaque, const struct iovec *iov, int iovcnt,
                           int64_t pos, Error **errp)
{
    MemBackend *m = opaque;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    size_t end = (size_t)pos + total;
    if (end > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < end) {
            cap *= 2;
        }
        m->data = xrealloc(m->data, cap);
        m->cap = cap;
    }
    if ((size_t)pos > m->len) {
        memset(m->data + m->len, 0, (size_t)pos - m->len);
    }
    size_t at = (size_t)pos;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(m->data + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    if (end > m->len) {
        m->len = end;
    }
    return (ssize_t)total;
}

static ssize_t mem_pread(void *opaque, void *buf, size_t len, int64_t pos, Error **errp)
{
    MemBackend *m = opaque;
    if ((uint64_t)pos >= m->len) {
        return 0;
    }
    size_t n = MIN(len, m->len - (size_t)pos);
    memcpy(buf, m->rdata + pos, n);
    return (ssize_t)n;
}

static int mem_close(void *opaque, Error **errp)
{
    MemBackend *m = opaque;
    free(m->data);
    free(m);
    return 0;
}

static const QEMUFileOps mem_output_ops = {
    .pwritev = mem_pwritev,
    .close = mem_close,
};

static const QEMUFileOps mem_input_ops = {
    .pread = mem_pread,
    .close = mem_close,
};

QEMUFile *qemu_file_new_mem_output(void)
{
    QEMUFile *f = qemu_file_new_output(&mem_output_ops, XNEW(MemBackend));
    use_small_buffer(f);
    return f;
}

const uint8_t *qemu_file_mem_output_data(QEMUFile *f, size_t *len)
{
    if (f->ops != &mem_output_ops) {
        *len = 0;
        return NULL;
    }
    qemu_fflush(f);
    MemBackend *m = f->opaque;
    *len = m->len;
    return m->data;
}

uint8_t *qemu_file_mem_output_steal(QEMUFile *f, size_t *len)
{
    if (f->ops != &mem_output_ops) {
        *len = 0;
        return NULL;
    }
    qemu_fflush(f);
    MemBackend *m = f->opaque;
    uint8_t *p = m->data ? m->data : xmalloc(1);
    *len = m->len;
    m->data = NULL;
    m->len = m->cap = 0;
    return p;
}

QEMUFile *qemu_file_new_mem_input(const void *buf, size_t len)
{
    MemBackend *m = XNEW(MemBackend);
    m->rdata = buf;
    m->len = len;
    QEMUFile *f = qemu_file_new_input(&mem_input_ops, m, (int64_t)len, true);
    use_small_buffer(f);
    return f;
}
