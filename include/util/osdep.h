/*
 * Common helpers every module may use: sizes, alignment, byte order,
 * allocation that never returns NULL, and compiler hints.
 */
#ifndef UTIL_OSDEP_H
#define UTIL_OSDEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <sys/types.h>

#include "config-host.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

/* Alignment helpers; 'n' must be a power of two for the _POW2 forms. */
#define ALIGN_DOWN(x, n) ((x) / (n) * (n))
#define ALIGN_UP(x, n) ALIGN_DOWN((x) + (n) - 1, (n))
#define DIV_ROUND_UP(x, n) (((x) + (n) - 1) / (n))
#define IS_POW2(x) ((x) != 0 && (((x) & ((x) - 1)) == 0))

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))
#define UNUSED_FN __attribute__((unused))

/* Compile-time assertion usable in expressions (evaluates to 0). */
#define BUILD_BUG_ON_ZERO(cond) (sizeof(struct { int:(-!!(cond)); }))
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)

/* Allocation: out of memory is not recoverable for an emulator; these
 * print a message and abort instead of returning NULL. */
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_FMT(1, 2);
#define XNEW(type) ((type *)xzalloc(sizeof(type)))
#define XNEW_ARRAY(type, n) ((type *)xcalloc((n), sizeof(type)))

/* Page-aligned allocation for guest RAM and I/O buffers; zero-filled. */
void *xmemalign_zero(size_t align, size_t size);
void *host_ram_alloc(size_t size);  /* mmap, page-aligned, zeroed */
void host_ram_free(void *p, size_t size);

/* Byte order. Unaligned-safe loads and stores. */
static inline uint16_t ldw_be(const void *p) { uint16_t v; memcpy(&v, p, 2); return __builtin_bswap16(v); }
static inline uint32_t ldl_be(const void *p) { uint32_t v; memcpy(&v, p, 4); return __builtin_bswap32(v); }
static inline uint64_t ldq_be(const void *p) { uint64_t v; memcpy(&v, p, 8); return __builtin_bswap64(v); }
static inline void stw_be(void *p, uint16_t v) { v = __builtin_bswap16(v); memcpy(p, &v, 2); }
static inline void stl_be(void *p, uint32_t v) { v = __builtin_bswap32(v); memcpy(p, &v, 4); }
static inline void stq_be(void *p, uint64_t v) { v = __builtin_bswap64(v); memcpy(p, &v, 8); }
static inline uint16_t ldw_le(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ldl_le(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ldq_le(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void stw_le(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void stl_le(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void stq_le(void *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }
#define be16_to_cpu(x) bswap16(x)
#define be32_to_cpu(x) bswap32(x)
#define be64_to_cpu(x) bswap64(x)
#define cpu_to_be16(x) bswap16(x)
#define cpu_to_be32(x) bswap32(x)
#define cpu_to_be64(x) bswap64(x)

/* Number of leading/trailing zero bits; defined for 0 (returns width). */
static inline int clz32(uint32_t v) { return v ? __builtin_clz(v) : 32; }
static inline int clz64(uint64_t v) { return v ? __builtin_clzll(v) : 64; }
static inline int ctz32(uint32_t v) { return v ? __builtin_ctz(v) : 32; }
static inline int ctz64(uint64_t v) { return v ? __builtin_ctzll(v) : 64; }

/* Full-length I/O on file descriptors that retries on EINTR and short
 * transfers. Return bytes transferred or -errno. A read that hits EOF
 * returns the short count. */
ssize_t full_pread(int fd, void *buf, size_t len, off_t off);
ssize_t full_pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t full_read(int fd, void *buf, size_t len);
ssize_t full_write(int fd, const void *buf, size_t len);

/* Monotonic and wall clocks in nanoseconds. */
int64_t get_clock_ns(void);         /* CLOCK_MONOTONIC */
int64_t get_clock_realtime_ns(void); /* CLOCK_REALTIME */

#endif
