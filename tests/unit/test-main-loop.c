/* Unit tests for util/main-loop.c with real pipes, signals and timers. */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/main-loop.h"
#include "util/timer.h"
#include "util/error.h"

/* Hang guard for "wait until X happens" loops; never a speed limit. */
#define MAX_ITER 10000

static void make_pipe(int fds[2])
{
    ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

typedef struct {
    int fd;
    int reads, writes;
    int eof;
    char buf[64];
    int len;
} Reader;

static void reader_read(void *opaque)
{
    Reader *r = opaque;
    r->reads++;
    ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
    if (n > 0) {
        r->len += n;
        r->buf[r->len] = 0;
    } else if (n == 0) {
        r->eof++;
        main_loop_set_fd_handler(r->fd, NULL, NULL, NULL);
    }
}

static void reader_write(void *opaque)
{
    Reader *r = opaque;
    r->writes++;
}

START_TEST(test_fd_read_write_hup)
{
    int p[2];
    make_pipe(p);
    Reader r = { .fd = p[0] };
    main_loop_set_fd_handler(p[0], reader_read, NULL, &r);
    main_loop_wait(0);
    ck_assert_int_eq(r.reads, 0);

    ck_assert_int_eq(write(p[1], "hello", 5), 5);
    main_loop_wait(-1);               /* data is there: returns at once */
    ck_assert_int_eq(r.reads, 1);
    ck_assert_str_eq(r.buf, "hello");

    /* Write handler on the write end fires (pipe has room). */
    Reader w = { .fd = p[1] };
    main_loop_set_fd_handler(p[1], NULL, reader_write, &w);
    main_loop_wait(-1);
    ck_assert_int_eq(w.writes, 1);
    main_loop_set_fd_handler(p[1], NULL, NULL, NULL);
    main_loop_wait(0);
    ck_assert_int_eq(w.writes, 1);

    /* Closing the write end: the read handler sees EOF (POLLHUP). */
    close(p[1]);
    main_loop_wait(-1);
    ck_assert_int_eq(r.eof, 1);
    /* Removed itself: never called again. */
    main_loop_wait(0);
    ck_assert_int_eq(r.eof, 1);
    ck_assert_int_eq(r.reads, 2);
    close(p[0]);
}
END_TEST

/* Two ready fds; the first handler to run removes the other. */
static Reader *rm_a, *rm_b;
static void remover_read(void *opaque)
{
    Reader *self = opaque;
    reader_read(self);
    Reader *other = self == rm_a ? rm_b : rm_a;
    main_loop_set_fd_handler(other->fd, NULL, NULL, NULL);
}

START_TEST(test_handler_removes_other)
{
    int p1[2], p2[2];
    make_pipe(p1);
    make_pipe(p2);
    Reader a = { .fd = p1[0] }, b = { .fd = p2[0] };
    rm_a = &a;
    rm_b = &b;
    main_loop_set_fd_handler(a.fd, remover_read, NULL, &a);
    main_loop_set_fd_handler(b.fd, remover_read, NULL, &b);
    ck_assert_int_eq(write(p1[1], "x", 1), 1);
    ck_assert_int_eq(write(p2[1], "y", 1), 1);
    main_loop_wait(-1);
    ck_assert_int_eq(a.reads + b.reads, 1);
    /* The survivor still works. */
    Reader *alive = a.reads ? &a : &b;
    ck_assert_int_eq(write(alive == &a ? p1[1] : p2[1], "z", 1), 1);
    main_loop_wait(-1);
    ck_assert_int_eq(alive->reads, 2);
    /* Re-registering replaces callbacks in place. */
    main_loop_set_fd_handler(alive->fd, reader_read, NULL, alive);
    ck_assert_int_eq(write(alive == &a ? p1[1] : p2[1], "w", 1), 1);
    main_loop_wait(-1);
    ck_assert_int_eq(alive->reads, 3);
    close(p1[0]); close(p1[1]); close(p2[0]); close(p2[1]);
}
END_TEST

static char last_warning[256];
static void capture_sink(void *opaque, const char *msg)
{
    snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

START_TEST(test_closed_fd_dropped)
{
    main_loop_wait(0);     /* the loop's own fds exist before the pipe */
    int p[2];
    make_pipe(p);
    Reader r = { .fd = p[0] };
    main_loop_set_fd_handler(p[0], reader_read, NULL, &r);
    close(p[0]);
    close(p[1]);
    error_push_sink(capture_sink, NULL);
    main_loop_wait(-1);               /* POLLNVAL: returns, drops it */
    ck_assert_ptr_nonnull(strstr(last_warning, "was closed while still watched"));
    last_warning[0] = 0;
    /* Nothing left to poll: a zero-timeout wait reports nothing new. */
    main_loop_wait(0);
    ck_assert_str_eq(last_warning, "");
    error_pop_sink();
    ck_assert_int_eq(r.reads, 0);
}
END_TEST

/* ---- bottom halves ---- */

static int bh_log[16], bh_n;
static BottomHalf *bh_self, *bh_other, *bh_resched;

static void bh_cb(void *opaque)
{
    if (bh_n < 16) {
        bh_log[bh_n] = (int)(intptr_t)opaque;
    }
    bh_n++;
}

static void bh_cancel_other(void *opaque)
{
    bh_cb(opaque);
    bh_cancel(bh_other);
}

static void bh_free_self(void *opaque)
{
    bh_cb(opaque);
    bh_free(bh_self);
    bh_self = NULL;
}

static void bh_reschedule(void *opaque)
{
    bh_cb(opaque);
    bh_schedule(bh_resched);
}

START_TEST(test_bottom_halves)
{
    BottomHalf *a = bh_new(bh_cb, (void *)1);
    BottomHalf *b = bh_new(bh_cb, (void *)2);
    BottomHalf *c = bh_new(bh_cancel_other, (void *)3);
    bh_other = bh_new(bh_cb, (void *)4);
    bh_self = bh_new(bh_free_self, (void *)5);
    bh_resched = bh_new(bh_reschedule, (void *)6);

    bh_schedule(b);
    bh_schedule(a);
    bh_schedule(a);                   /* already scheduled: one run */
    bh_schedule(c);
    bh_schedule(bh_other);
    bh_schedule(bh_self);
    bh_schedule(bh_resched);
    /* A pending BH makes an infinite wait return at once. */
    main_loop_wait(-1);
    ck_assert_int_eq(bh_n, 5);
    ck_assert_int_eq(bh_log[0], 2);
    ck_assert_int_eq(bh_log[1], 1);
    ck_assert_int_eq(bh_log[2], 3);   /* cancelled 4 */
    ck_assert_int_eq(bh_log[3], 5);   /* freed itself */
    ck_assert_int_eq(bh_log[4], 6);   /* rescheduled: next iteration */
    ck_assert_ptr_null(bh_self);

    main_loop_wait(-1);
    ck_assert_int_eq(bh_n, 6);
    ck_assert_int_eq(bh_log[5], 6);

    bh_cancel(bh_resched);
    bh_schedule(a);
    bh_cancel(a);
    main_loop_wait(0);
    ck_assert_int_eq(bh_n, 6);

    bh_schedule(a);
    bh_free(a);                       /* freeing a scheduled BH unqueues it */
    main_loop_wait(0);
    ck_assert_int_eq(bh_n, 6);
    bh_free(b);
    bh_free(c);
    bh_free(bh_other);
    bh_free(bh_resched);
    bh_free(NULL);
}
END_TEST

/* ---- timers in the loop ---- */

static int timer_fired;
static void timer_cb(void *opaque)
{
    timer_fired++;
}

START_TEST(test_sleeps_until_deadline)
{
    Timer *t = timer_new_ns(CLOCK_REALTIME, timer_cb, NULL);
    int64_t start = clock_get_ns(CLOCK_REALTIME);
    timer_mod_ns(t, start + 30 * 1000000LL);
    int iterations = 0;
    while (!timer_fired && iterations < MAX_ITER) {
        main_loop_wait(-1);
        iterations++;
    }
    ck_assert_int_eq(timer_fired, 1);
    /* It slept instead of spinning: one wait (two if ppoll's rounding
     * woke it a hair early), and never before the deadline. */
    ck_assert_int_le(iterations, 2);
    ck_assert_int_ge(clock_get_ns(CLOCK_REALTIME) - start, 30 * 1000000LL);

    /* A finite timeout shorter than the deadline wins. */
    timer_mod_in_ns(t, 3600 * NANOSECONDS_PER_SECOND);
    int64_t s2 = clock_get_ns(CLOCK_REALTIME);
    main_loop_wait(5 * 1000000LL);
    ck_assert_int_ge(clock_get_ns(CLOCK_REALTIME) - s2, 5 * 1000000LL);
    ck_assert_int_eq(timer_fired, 1);

    /* The virtual clock stopped: its timer does not wake the loop. */
    Timer *v = timer_new_ns(CLOCK_VIRTUAL, timer_cb, NULL);
    timer_mod_ns(v, clock_get_ns(CLOCK_VIRTUAL));
    clock_virtual_stop();
    main_loop_wait(1000000LL);
    ck_assert_int_eq(timer_fired, 1);
    clock_virtual_start();
    main_loop_wait(-1);
    ck_assert_int_eq(timer_fired, 2);
    timer_free(t);
    timer_free(v);
}
END_TEST

/* ---- exit requests, wakeups and kicks ---- */

static int kicks;
static void kick_cb(void *opaque)
{
    kicks++;
}

static void alarm_exit(int sig)
{
    main_loop_request_exit(5);
}

START_TEST(test_exit_from_signal)
{
    int status = -1;
    ck_assert(!main_loop_exit_requested(&status));
    ck_assert_int_eq(status, -1);
    main_loop_set_cpu_kick(kick_cb, NULL);

    struct sigaction sa = { .sa_handler = alarm_exit };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { .it_value = { .tv_usec = 20000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    /* Nothing else to do: this sleeps until the signal ends it. */
    ck_assert_int_eq(main_loop_run(), 5);
    ck_assert(main_loop_exit_requested(&status));
    ck_assert_int_eq(status, 5);
    ck_assert_int_eq(kicks, 1);
    /* The first status is kept. */
    main_loop_request_exit(9);
    ck_assert(main_loop_exit_requested(&status));
    ck_assert_int_eq(status, 5);
    /* With an exit pending, waits do not sleep. */
    main_loop_wait(-1);
}
END_TEST

static void alarm_wake(int sig)
{
    main_loop_wakeup();
}

START_TEST(test_wakeup_from_signal)
{
    struct sigaction sa = { .sa_handler = alarm_wake, .sa_flags = SA_RESTART };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { .it_value = { .tv_usec = 20000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    main_loop_wait(-1);               /* returns thanks to the self-pipe */
    int status;
    ck_assert(!main_loop_exit_requested(&status));
}
END_TEST

static Timer *kick_timer;
static void arm_in_handler(void *opaque)
{
    Reader *r = opaque;
    reader_read(r);
    timer_mod_in_ns(kick_timer, 1000);   /* inside the loop: no kick */
}

START_TEST(test_kick_on_new_deadline)
{
    main_loop_set_cpu_kick(kick_cb, NULL);
    kick_timer = timer_new_ns(CLOCK_REALTIME, timer_cb, NULL);
    Timer *later = timer_new_ns(CLOCK_REALTIME, timer_cb, NULL);
    /* From "CPU context" (outside main_loop_wait): a new earliest timer
     * kicks, a later one does not. */
    timer_mod_in_ns(kick_timer, 3600 * NANOSECONDS_PER_SECOND);
    ck_assert_int_eq(kicks, 1);
    timer_mod_in_ns(later, 7200 * NANOSECONDS_PER_SECOND);
    ck_assert_int_eq(kicks, 1);
    timer_del(kick_timer);

    int p[2];
    make_pipe(p);
    Reader r = { .fd = p[0] };
    main_loop_set_fd_handler(p[0], arm_in_handler, NULL, &r);
    ck_assert_int_eq(write(p[1], "k", 1), 1);
    main_loop_wait(-1);
    ck_assert_int_eq(r.reads, 1);
    ck_assert_int_eq(kicks, 1);
    main_loop_kick_cpu();
    ck_assert_int_eq(kicks, 2);
    main_loop_set_cpu_kick(NULL, NULL);
    timer_mod_in_ns(kick_timer, 1);
    main_loop_kick_cpu();
    ck_assert_int_eq(kicks, 2);
    timer_free(kick_timer);
    timer_free(later);
    main_loop_set_fd_handler(p[0], NULL, NULL, NULL);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* ---- pollers ---- */

typedef struct {
    int fd;
    int idx;
    int fills, dispatches, timeouts, ready;
    int64_t want_timeout;
    MainLoopPoller self;
    bool remove_in_dispatch;
} TestPoller;

static void poller_fill(void *opaque, int64_t *timeout_ns)
{
    TestPoller *tp = opaque;
    tp->fills++;
    tp->idx = main_loop_poll_add(tp->fd, POLLIN);
    ck_assert_int_ge(tp->idx, 0);
    if (tp->want_timeout >= 0 && (*timeout_ns < 0 || *timeout_ns > tp->want_timeout)) {
        *timeout_ns = tp->want_timeout;
    }
}

static void poller_dispatch(void *opaque, bool timed_out)
{
    TestPoller *tp = opaque;
    tp->dispatches++;
    if (timed_out) {
        tp->timeouts++;
    }
    if (main_loop_poll_revents(tp->idx) & POLLIN) {
        char c;
        ck_assert_int_eq(read(tp->fd, &c, 1), 1);
        tp->ready++;
    }
    if (tp->remove_in_dispatch) {
        main_loop_remove_poller(&tp->self);
    }
}

START_TEST(test_pollers)
{
    int p[2];
    make_pipe(p);
    TestPoller tp = { .fd = p[0], .want_timeout = 2000000 };
    tp.self = (MainLoopPoller){ poller_fill, poller_dispatch, &tp };
    main_loop_add_poller(&tp.self);
    ck_assert_int_eq(main_loop_poll_add(p[0], POLLIN), -1);  /* outside fill */

    /* The poller's timeout bounds an infinite wait. */
    main_loop_wait(-1);
    ck_assert_int_eq(tp.fills, 1);
    ck_assert_int_eq(tp.dispatches, 1);
    ck_assert_int_eq(tp.timeouts, 1);
    ck_assert_int_eq(tp.ready, 0);

    ck_assert_int_eq(write(p[1], "r", 1), 1);
    tp.want_timeout = -1;
    main_loop_wait(-1);
    ck_assert_int_eq(tp.ready, 1);
    ck_assert_int_eq(tp.timeouts, 1);

    /* Removal from inside dispatch. */
    tp.remove_in_dispatch = true;
    main_loop_wait(0);
    ck_assert_int_eq(tp.dispatches, 3);
    main_loop_wait(0);
    ck_assert_int_eq(tp.fills, 3);
    ck_assert_int_eq(tp.dispatches, 3);
    close(p[0]);
    close(p[1]);
}
END_TEST

/* ---- nesting ---- */

static int nested_bh_runs;
static void nested_bh(void *opaque)
{
    nested_bh_runs++;
}

static void nesting_read(void *opaque)
{
    Reader *r = opaque;
    reader_read(r);
    /* A handler that waits for something else (a BH) by nesting. */
    BottomHalf *bh = bh_new(nested_bh, NULL);
    bh_schedule(bh);
    main_loop_wait(-1);
    bh_free(bh);
    main_loop_set_fd_handler(r->fd, NULL, NULL, NULL);
}

START_TEST(test_nested_wait)
{
    int p[2];
    make_pipe(p);
    Reader r = { .fd = p[0] };
    main_loop_set_fd_handler(p[0], nesting_read, NULL, &r);
    ck_assert_int_eq(write(p[1], "nn", 2), 2);
    main_loop_wait(-1);
    ck_assert_int_eq(nested_bh_runs, 1);
    ck_assert_int_eq(r.reads, 1);   /* not re-dispatched by the inner wait */
    main_loop_wait(0);
    ck_assert_int_eq(r.reads, 1);
    close(p[0]);
    close(p[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("main-loop");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);   /* hang guard only */
    tcase_add_test(tc, test_fd_read_write_hup);
    tcase_add_test(tc, test_handler_removes_other);
    tcase_add_test(tc, test_closed_fd_dropped);
    tcase_add_test(tc, test_bottom_halves);
    tcase_add_test(tc, test_sleeps_until_deadline);
    tcase_add_test(tc, test_exit_from_signal);
    tcase_add_test(tc, test_wakeup_from_signal);
    tcase_add_test(tc, test_kick_on_new_deadline);
    tcase_add_test(tc, test_pollers);
    tcase_add_test(tc, test_nested_wait);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
