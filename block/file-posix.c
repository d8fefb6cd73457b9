/*
 * Host file I/O for the image drivers: full-length pread/pwrite with
 * zero-fill past EOF, O_DIRECT bouncing, fdatasync, cheap zeroing.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block-int.h"

/*
 * Crash testing: with MINIPC_CRASH_AFTER_IOS=N in the environment, the
 * process kills itself with SIGKILL just before its N-th modifying host
 * I/O (write, sync, hole punch, resize), so a test can stop a writer at
 * every point of an operation and check what a crash leaves behind.
 */
static long crash_countdown = -1;   /* -1: not read yet, 0: disabled */

static void crash_point(void)
{
    if (crash_countdown < 0) {
        const char *env = getenv("MINIPC_CRASH_AFTER_IOS");
        crash_countdown = env ? MAX(atol(env), 0) : 0;
    }
    if (crash_countdown > 0 && --crash_countdown == 0) {
        raise(SIGKILL);
    }
}

/* Sizes above this are refused before they reach off_t arithmetic. */
#define HOST_FILE_MAX_OFFSET ((uint64_t)INT64_MAX / 2)

int host_file_open(HostFile **pf, const char *filename, bool writable, bool direct,
                   Error **errp)
{
    int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
    int fd = -1;

    if (direct) {
        fd = open(filename, flags | O_DIRECT);
        if (fd < 0 && errno == EINVAL) {
            direct = false;  /* tmpfs and friends: fall back to cached I/O */
        }
    }
    if (fd < 0) {
        fd = open(filename, flags);
    }
    if (fd < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not open '%s'", filename);
        return -err;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        error_setg(errp, "Could not open '%s': Is a directory", filename);
        return -EISDIR;
    }
    HostFile *f = XNEW(HostFile);
    f->fd = fd;
    f->filename = xstrdup(filename);
    f->writable = writable;
    f->direct = direct;
    f->align = direct ? 4096 : 1;
    *pf = f;
    return 0;
}

void host_file_close(HostFile *f)
{
    if (f) {
        close(f->fd);
        free(f->filename);
        free(f);
    }
}

static bool is_aligned(const HostFile *f, uint64_t offset, const void *buf, uint64_t bytes)
{
    return f->align == 1 ||
           ((offset | bytes | (uintptr_t)buf) & (f->align - 1)) == 0;
}

static int check_range(HostFile *f, uint64_t offset, uint64_t bytes, Error **errp)
{
    if (offset > HOST_FILE_MAX_OFFSET || bytes > HOST_FILE_MAX_OFFSET - offset) {
        error_setg(errp, "'%s': I/O request at offset %" PRIu64 " is out of range",
                   f->filename, offset);
        return -EINVAL;
    }
    return 0;
}

/* Aligned read; bytes past EOF are zero-filled. */
static int pread_aligned(HostFile *f, uint64_t offset, void *buf, uint64_t bytes, Error **errp)
{
    ssize_t n = full_pread(f->fd, buf, bytes, offset);
    if (n < 0) {
        error_setg_errno(errp, -n, "Could not read '%s' at offset %" PRIu64,
                         f->filename, offset);
        return (int)n;
    }
    if ((uint64_t)n < bytes) {
        memset((uint8_t *)buf + n, 0, bytes - n);
    }
    return 0;
}

int host_file_pread(HostFile *f, uint64_t offset, void *buf, uint64_t bytes, Error **errp)
{
    int ret = check_range(f, offset, bytes, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    if (is_aligned(f, offset, buf, bytes)) {
        return pread_aligned(f, offset, buf, bytes, errp);
    }
    uint64_t start = ALIGN_DOWN(offset, f->align);
    uint64_t end = ALIGN_UP(offset + bytes, f->align);
    uint8_t *bounce = xmemalign_zero(f->align, end - start);
    ret = pread_aligned(f, start, bounce, end - start, errp);
    if (ret == 0) {
        memcpy(buf, bounce + (offset - start), bytes);
    }
    free(bounce);
    return ret;
}

static int pwrite_aligned(HostFile *f, uint64_t offset, const void *buf, uint64_t bytes,
                          Error **errp)
{
    crash_point();
    ssize_t n = full_pwrite(f->fd, buf, bytes, offset);
    if (n < 0) {
        error_setg_errno(errp, -n, "Could not write to '%s' at offset %" PRIu64,
                         f->filename, offset);
        return (int)n;
    }
    return 0;
}

int host_file_pwrite(HostFile *f, uint64_t offset, const void *buf, uint64_t bytes,
                     Error **errp)
{
    int ret = check_range(f, offset, bytes, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    if (!f->writable) {
        error_setg(errp, "'%s' is opened read-only", f->filename);
        return -EACCES;
    }
    if (is_aligned(f, offset, buf, bytes)) {
        return pwrite_aligned(f, offset, buf, bytes, errp);
    }
    /* Read-modify-write of the covering aligned blocks. Only O_DIRECT
     * benchmarks come here; images are not shared while open. */
    uint64_t start = ALIGN_DOWN(offset, f->align);
    uint64_t end = ALIGN_UP(offset + bytes, f->align);
    uint8_t *bounce = xmemalign_zero(f->align, end - start);
    ret = pread_aligned(f, start, bounce, end - start, errp);
    if (ret == 0) {
        memcpy(bounce + (offset - start), buf, bytes);
        /* The alignment padding must not grow the file. */
        int64_t len = host_file_length(f, NULL);
        ret = pwrite_aligned(f, start, bounce, end - start, errp);
        if (ret == 0 && len >= 0) {
            uint64_t new_len = MAX((uint64_t)len, offset + bytes);
            if (end > new_len && ftruncate(f->fd, new_len) < 0) {
                ret = -errno;
                error_setg_errno(errp, errno, "Could not resize '%s'", f->filename);
            }
        }
    }
    free(bounce);
    return ret;
}

int host_file_zero_range(HostFile *f, uint64_t offset, uint64_t bytes, Error **errp)
{
    int ret = check_range(f, offset, bytes, errp);
    if (ret < 0 || bytes == 0) {
        return ret;
    }
    int64_t len = host_file_length(f, errp);
    if (len < 0) {
        return (int)len;
    }
    if (offset >= (uint64_t)len) {
        return 0;  /* past EOF reads as zeroes already */
    }
    crash_point();
    if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  offset, MIN(bytes, (uint64_t)len - offset)) == 0) {
        return 0;
    }
    /* No hole punching here: write the zeroes. */
    static const uint64_t chunk = 1 * MiB;
    uint8_t *zero = xmemalign_zero(4096, chunk);
    uint64_t end = MIN(offset + bytes, (uint64_t)len);
    while (offset < end && ret == 0) {
        uint64_t n = MIN(chunk, end - offset);
        ret = host_file_pwrite(f, offset, zero, n, errp);
        offset += n;
    }
    free(zero);
    return ret;
}

int host_file_sync(HostFile *f, Error **errp)
{
    if (!f->writable) {
        return 0;
    }
    crash_point();
    if (fdatasync(f->fd) < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not flush '%s'", f->filename);
        return -err;
    }
    return 0;
}

int host_file_truncate(HostFile *f, uint64_t size, Error **errp)
{
    int ret = check_range(f, size, 0, errp);
    if (ret < 0) {
        return ret;
    }
    crash_point();
    if (ftruncate(f->fd, size) < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not resize '%s'", f->filename);
        return -err;
    }
    return 0;
}

int64_t host_file_length(HostFile *f, Error **errp)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0) {
        int err = errno;
        error_setg_errno(errp, err, "Could not stat '%s'", f->filename);
        return -err;
    }
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(f->fd, 0, SEEK_END);
        if (end < 0) {
            int err = errno;
            error_setg_errno(errp, err, "Could not get the size of '%s'", f->filename);
            return -err;
        }
        return end;
    }
    return st.st_size;
}

int64_t host_file_allocated_size(HostFile *f)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

int64_t host_file_data_run(HostFile *f, uint64_t offset, uint64_t bytes, bool *is_data)
{
    off_t data = lseek(f->fd, offset, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {
            /* No data from here to EOF. */
            *is_data = false;
            return bytes;
        }
        *is_data = true;
        return bytes;
    }
    if ((uint64_t)data > offset) {
        *is_data = false;
        return MIN(bytes, (uint64_t)data - offset);
    }
    off_t hole = lseek(f->fd, offset, SEEK_HOLE);
    *is_data = true;
    if (hole < 0 || (uint64_t)hole <= offset) {
        return bytes;
    }
    return MIN(bytes, (uint64_t)hole - offset);
}
