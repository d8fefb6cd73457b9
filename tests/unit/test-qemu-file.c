/* Unit tests for QEMUFile: widths, sticky errors, peek/skip/seek, fd and
 * memory backends, zero-copy buffers. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "migration/qemu-file.h"

static uint8_t *mem_bytes(QEMUFile *f, size_t *len)
{
    return qemu_file_mem_output_steal(f, len);
}

START_TEST(test_put_get_widths)
{
    QEMUFile *w = qemu_file_new_mem_output();
    qemu_put_byte(w, 0x12);
    qemu_put_be16(w, 0x3456);
    qemu_put_be32(w, 0x789abcde);
    qemu_put_be64(w, 0x0102030405060708ULL);
    qemu_put_sbe32(w, -2);
    qemu_put_buffer(w, (const uint8_t *)"xyz", 3);
    qemu_put_zeroes(w, 1000);
    ck_assert_int_eq(qemu_ftell(w), 1 + 2 + 4 + 8 + 4 + 3 + 1000);
    size_t len;
    uint8_t *data = mem_bytes(w, &len);
    ck_assert_int_eq(qemu_fclose(w, NULL), 0);
    ck_assert_uint_eq(len, 1022);
    static const uint8_t expect[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
        1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xfe, 'x', 'y', 'z' };
    ck_assert_mem_eq(data, expect, sizeof(expect));

    QEMUFile *r = qemu_file_new_mem_input(data, len);
    ck_assert_uint_eq(qemu_get_byte(r), 0x12);
    ck_assert_uint_eq(qemu_get_be16(r), 0x3456);
    ck_assert_uint_eq(qemu_get_be32(r), 0x789abcde);
    ck_assert_uint_eq(qemu_get_be64(r), 0x0102030405060708ULL);
    ck_assert_int_eq(qemu_get_sbe32(r), -2);
    ck_assert_int_eq(qemu_peek_byte(r, 0), 'x');
    ck_assert_int_eq(qemu_peek_byte(r, 2), 'z');
    uint8_t b[3];
    ck_assert_uint_eq(qemu_get_buffer(r, b, 3), 3);
    ck_assert_mem_eq(b, "xyz", 3);
    qemu_file_skip(r, 999);
    ck_assert(!qemu_file_at_eof(r));
    ck_assert_uint_eq(qemu_get_byte(r), 0);
    ck_assert(qemu_file_at_eof(r));
    ck_assert_int_eq(qemu_peek_byte(r, 0), -1);
    ck_assert_int_eq(qemu_file_get_error(r), 0);
    ck_assert_int_eq(qemu_fclose(r, NULL), 0);
    free(data);
}
END_TEST

START_TEST(test_read_past_end_is_sticky_error)
{
    static const uint8_t data[] = { 1, 2, 3 };
    QEMUFile *r = qemu_file_new_mem_input(data, sizeof(data));
    ck_assert_uint_eq(qemu_get_be16(r), 0x0102);
    ck_assert_uint_eq(qemu_get_be32(r), 0);   /* only one byte left */
    ck_assert_int_eq(qemu_file_get_error(r), -EIO);
    /* Sticky: later reads return zeroes without touching anything. */
    ck_assert_uint_eq(qemu_get_byte(r), 0);
    Error *err = NULL;
    ck_assert_int_eq(qemu_fclose(r, &err), -EIO);
    ck_assert_str_eq(error_get_pretty(err), "Unexpected end of migration stream at offset 3");
    error_free(err);

    /* Skipping past the end of a stream of known size also fails. */
    r = qemu_file_new_mem_input(data, sizeof(data));
    qemu_file_skip(r, 4);
    ck_assert_int_eq(qemu_file_get_error(r), -EIO);
    qemu_fclose(r, NULL);
}
END_TEST

START_TEST(test_set_error_first_wins)
{
    QEMUFile *w = qemu_file_new_mem_output();
    qemu_file_set_error_msg(w, -EINVAL, "first %d", 1);
    qemu_file_set_error_msg(w, -ENOSPC, "second");
    qemu_put_be32(w, 5);          /* ignored */
    ck_assert_int_eq(qemu_ftell(w), 0);
    Error *err = NULL;
    ck_assert_int_eq(qemu_file_get_error_obj(w, &err), -EINVAL);
    ck_assert_str_eq(error_get_pretty(err), "first 1");
    error_free(err);
    qemu_file_clear_error(w);
    ck_assert_int_eq(qemu_file_get_error(w), 0);
    qemu_fclose(w, NULL);
}
END_TEST

START_TEST(test_fd_large_nocopy_and_seek)
{
    char path[] = "/tmp/minipc-qfile-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    size_t big = 3 * 1024 * 1024 + 17;
    uint8_t *src = xmalloc(big);
    for (size_t i = 0; i < big; i++) {
        src[i] = (uint8_t)(i * 131 + (i >> 9));
    }
    Error *err = NULL;
    QEMUFile *w = qemu_file_open_path(path, true, &err);
    ck_assert_ptr_nonnull(w);
    /* Interleave small copied puts with page-sized zero-copy buffers. */
    size_t off = 0;
    while (off < big) {
        size_t n = MIN((size_t)4096, big - off);
        qemu_put_be32(w, (uint32_t)off);
        qemu_put_buffer_nocopy(w, src + off, n);
        off += n;
    }
    qemu_put_buffer(w, src, big);      /* a large copied buffer too */
    ck_assert_int_eq(qemu_fclose_sync(w, &err), 0);

    QEMUFile *r = qemu_file_open_path(path, false, &err);
    ck_assert_ptr_nonnull(r);
    ck_assert(qemu_file_is_seekable(r));
    uint8_t *page = xmalloc(4096);
    off = 0;
    while (off < big) {
        size_t n = MIN((size_t)4096, big - off);
        ck_assert_uint_eq(qemu_get_be32(r), off);
        ck_assert_uint_eq(qemu_get_buffer(r, page, n), n);
        ck_assert_mem_eq(page, src + off, n);
        off += n;
    }
    int64_t second = qemu_ftell(r);
    uint8_t *copy = xmalloc(big);
    ck_assert_uint_eq(qemu_get_buffer(r, copy, big), big);   /* direct read path */
    ck_assert_mem_eq(copy, src, big);
    ck_assert(qemu_file_at_eof(r));
    /* Seek back and re-read a slice, then skip without reading. */
    ck_assert_int_eq(qemu_file_seek(r, second + 100, &err), 0);
    ck_assert_uint_eq(qemu_get_byte(r), src[100]);
    qemu_file_skip(r, 1024 * 1024);
    ck_assert_uint_eq(qemu_get_byte(r), src[101 + 1024 * 1024]);
    ck_assert_int_eq(qemu_fclose(r, NULL), 0);
    free(copy);
    free(page);
    free(src);
    unlink(path);
}
END_TEST

START_TEST(test_pipe_not_seekable)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    QEMUFile *w = qemu_file_new_fd_output(p[1]);
    qemu_put_be32(w, 0xcafef00d);
    qemu_put_buffer(w, (const uint8_t *)"abc", 3);
    ck_assert_int_eq(qemu_fclose(w, NULL), 0);
    close(p[1]);
    QEMUFile *r = qemu_file_new_fd_input(p[0]);
    ck_assert(!qemu_file_is_seekable(r));
    ck_assert_uint_eq(qemu_get_be32(r), 0xcafef00d);
    qemu_file_skip(r, 1);
    ck_assert_uint_eq(qemu_get_be16(r), ('b' << 8) | 'c');
    ck_assert(qemu_file_at_eof(r));
    Error *err = NULL;
    ck_assert_int_eq(qemu_file_seek(r, 0, &err), -ESPIPE);
    error_free(err);
    qemu_fclose(r, NULL);
    close(p[0]);
}
END_TEST

START_TEST(test_open_missing_file)
{
    Error *err = NULL;
    ck_assert_ptr_null(qemu_file_open_path("/nonexistent/x.mig", false, &err));
    ck_assert_str_eq(error_get_pretty(err),
                     "Could not open '/nonexistent/x.mig': No such file or directory");
    error_free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("qemu-file");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_put_get_widths);
    tcase_add_test(tc, test_read_past_end_is_sticky_error);
    tcase_add_test(tc, test_set_error_first_wins);
    tcase_add_test(tc, test_fd_large_nocopy_and_seek);
    tcase_add_test(tc, test_pipe_not_seekable);
    tcase_add_test(tc, test_open_missing_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
