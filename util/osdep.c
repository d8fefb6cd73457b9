/* Allocation, full-length I/O and clocks. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "util/osdep.h"

static void NORETURN out_of_memory(size_t size)
{
    fprintf(stderr, "minipc: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory(size);
    }
    return p;
}

void *xzalloc(size_t size)
{
    return xcalloc(1, size);
}

void *xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        out_of_memory(SIZE_MAX);
    }
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        out_of_memory(n * size);
    }
    return p;
}

void *xrealloc(void *old, size_t size)
{
    void *p = realloc(old, size ? size : 1);
    if (!p) {
        out_of_memory(size);
    }
    return p;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0) {
        out_of_memory(strlen(fmt));
    }
    va_end(ap);
    return p;
}

void *xmemalign_zero(size_t align, size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1) != 0) {
        out_of_memory(size);
    }
    memset(p, 0, size);
    return p;
}

void *host_ram_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    return p;
}

void host_ram_free(void *p, size_t size)
{
    if (p) {
        munmap(p, size);
    }
}

ssize_t full_pread(int fd, void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, off + done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            break;
        }
        done += r;
    }
    return done;
}

ssize_t full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pwrite(fd, (const char *)buf + done, len - done, off + done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            return -EIO;
        }
        done += r;
    }
    return done;
}

ssize_t full_read(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = read(fd, (char *)buf + done, len - done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (r == 0) {
            break;
        }
        done += r;
    }
    return done;
}

ssize_t full_write(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = write(fd, (const char *)buf + done, len - done);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        done += r;
    }
    return done;
}

int64_t get_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t get_clock_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
