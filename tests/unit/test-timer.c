/* Unit tests for util/timer.c: clocks, ordering, deadlines, callbacks
 * that change the timer lists while they run. The virtual clock is
 * stopped and set by hand so most tests are fully deterministic. */
#include <check.h>
#include <unistd.h>

#include "util/timer.h"

#define MAX_LOG 64
static int fired_log[MAX_LOG];
static int nfired;

static void log_cb(void *opaque)
{
    if (nfired < MAX_LOG) {
        fired_log[nfired] = (int)(intptr_t)opaque;
    }
    nfired++;
}

static void reset_log(void)
{
    nfired = 0;
    memset(fired_log, 0, sizeof(fired_log));
}

START_TEST(test_realtime_and_host_clocks)
{
    int64_t a = clock_get_ns(CLOCK_REALTIME);
    int64_t b = clock_get_ns(CLOCK_REALTIME);
    ck_assert_int_le(a, b);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* minipc's CLOCK_REALTIME is the host's monotonic clock. */
    int64_t mono = ts.tv_sec * NANOSECONDS_PER_SECOND + ts.tv_nsec;
    ck_assert_int_le(b, mono);
    ck_assert_int_ge(clock_get_ns(CLOCK_REALTIME), mono);
    /* CLOCK_HOST is wall-clock time. */
    int64_t host = clock_get_ns(CLOCK_HOST);
    time_t now = time(NULL);
    ck_assert_int_le(host / NANOSECONDS_PER_SECOND, (int64_t)now + 1);
    ck_assert_int_ge(host / NANOSECONDS_PER_SECOND, (int64_t)now - 1);
}
END_TEST

START_TEST(test_virtual_clock_stop_start_set)
{
    ck_assert(clock_virtual_running());
    int64_t v0 = clock_get_ns(CLOCK_VIRTUAL);
    ck_assert_int_ge(v0, 0);
    /* Running: it advances with host time. */
    int64_t r0 = clock_get_ns(CLOCK_REALTIME);
    usleep(2000);
    int64_t v1 = clock_get_ns(CLOCK_VIRTUAL);
    int64_t r1 = clock_get_ns(CLOCK_REALTIME);
    ck_assert_int_ge(v1 - v0, 2000000);
    ck_assert_int_le(v1 - v0, r1 - r0 + 1000000);

    /* Stopped: frozen. */
    clock_virtual_stop();
    ck_assert(!clock_virtual_running());
    int64_t frozen = clock_get_ns(CLOCK_VIRTUAL);
    usleep(20000);
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), frozen);

    /* Started again: continues from the frozen value, the 20 ms spent
     * stopped are not seen. */
    int64_t rs = clock_get_ns(CLOCK_REALTIME);
    clock_virtual_start();
    int64_t v2 = clock_get_ns(CLOCK_VIRTUAL);
    int64_t re = clock_get_ns(CLOCK_REALTIME);
    ck_assert_int_ge(v2, frozen);
    ck_assert_int_le(v2 - frozen, re - rs);

    /* Set while running (loadvm), backwards and forwards. */
    clock_virtual_set(5 * NANOSECONDS_PER_SECOND);
    int64_t v3 = clock_get_ns(CLOCK_VIRTUAL);
    ck_assert_int_ge(v3, 5 * NANOSECONDS_PER_SECOND);
    ck_assert_int_lt(v3, 6 * NANOSECONDS_PER_SECOND);

    /* Set while stopped: exact, and stays stopped. */
    clock_virtual_stop();
    clock_virtual_set(123456789);
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 123456789);
    ck_assert(!clock_virtual_running());
    clock_virtual_start();
    ck_assert_int_ge(clock_get_ns(CLOCK_VIRTUAL), 123456789);
    /* Stop/start are idempotent. */
    clock_virtual_start();
    clock_virtual_stop();
    clock_virtual_stop();
    ck_assert(!clock_virtual_running());
}
END_TEST

static int64_t fake_now;
static int64_t fake_source(void)
{
    return fake_now;
}

/* Fake host time: the virtual clock reads 0 at fake_now = 1000000. */
static void use_fake_time(void)
{
    fake_now = 1000000;
    clock_set_source_for_test(fake_source);
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 0);
}

START_TEST(test_fake_source)
{
    use_fake_time();
    fake_now += 500;
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 500);
    ck_assert_int_eq(clock_get_ns(CLOCK_REALTIME), 1000500);
    clock_virtual_stop();
    fake_now += 1000;
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 500);
    clock_virtual_start();
    fake_now += 1;
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 501);
    clock_virtual_set(10);
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 10);
    fake_now += 5;
    ck_assert_int_eq(clock_get_ns(CLOCK_VIRTUAL), 15);
    clock_set_source_for_test(NULL);
    ck_assert_int_gt(clock_get_ns(CLOCK_REALTIME), 0);
}
END_TEST

START_TEST(test_order_and_ties)
{
    use_fake_time();
    fake_now += 1000;
    reset_log();
    Timer *t[6];
    static const int64_t exp[6] = { 5000, 2000, 9000, 2000, 1000, 7000 };
    for (int i = 0; i < 6; i++) {
        t[i] = timer_new_ns(CLOCK_VIRTUAL, log_cb, (void *)(intptr_t)i);
        timer_mod_ns(t[i], exp[i]);
        ck_assert(timer_pending(t[i]));
        ck_assert_int_eq(timer_expire_time_ns(t[i]), exp[i]);
    }
    ck_assert_int_eq(timers_deadline_ns(), 0);
    /* Exactly at expiry counts as expired. */
    ck_assert(timers_run_expired());
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq(fired_log[0], 4);
    ck_assert(!timer_pending(t[4]));
    ck_assert_int_eq(timer_expire_time_ns(t[4]), -1);

    /* Nothing more due; the next one is 1000 ns away. */
    ck_assert(!timers_run_expired());
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq(timers_deadline_ns(), 1000);
    fake_now += 999;
    ck_assert(!timers_run_expired());
    ck_assert_int_eq(timers_deadline_ns(), 1);

    /* Re-arming moves a pending timer. */
    timer_mod_ns(t[2], 1500);
    ck_assert_int_eq(timers_deadline_ns(), 0);
    fake_now += 6000 - 1999;
    ck_assert(timers_run_expired());
    ck_assert_int_eq(nfired, 5);
    ck_assert_int_eq(fired_log[1], 2);
    ck_assert_int_eq(fired_log[2], 1);   /* equal expiry: arming order */
    ck_assert_int_eq(fired_log[3], 3);
    ck_assert_int_eq(fired_log[4], 0);
    ck_assert(timer_pending(t[5]));
    ck_assert_int_eq(timers_deadline_ns(), 1000);

    /* Deleted timers never fire. */
    timer_del(t[5]);
    timer_del(t[5]);
    ck_assert(!timer_pending(t[5]));
    ck_assert_int_eq(timers_deadline_ns(), -1);
    fake_now += 100000;
    ck_assert(!timers_run_expired());
    ck_assert_int_eq(nfired, 5);

    /* A fired timer can be armed again. */
    timer_mod_ns(t[4], clock_get_ns(CLOCK_VIRTUAL) + 10);
    fake_now += 10;
    ck_assert(timers_run_expired());
    ck_assert_int_eq(fired_log[5], 4);
    for (int i = 0; i < 6; i++) {
        timer_free(t[i]);
    }
    timer_free(NULL);
}
END_TEST

START_TEST(test_stopped_clock_gates_timers)
{
    reset_log();
    clock_virtual_start();
    int64_t now = clock_get_ns(CLOCK_VIRTUAL);
    Timer *t = timer_new_ns(CLOCK_VIRTUAL, log_cb, (void *)1);
    timer_mod_ns(t, now);                    /* due immediately */
    ck_assert_int_eq(timers_deadline_ns(), 0);
    clock_virtual_stop();
    /* Due but the VM is stopped: no deadline, nothing runs. */
    ck_assert_int_eq(timers_deadline_ns(), -1);
    ck_assert(!timers_run_expired());
    ck_assert_int_eq(nfired, 0);
    ck_assert(timer_pending(t));
    clock_virtual_start();
    ck_assert(timers_run_expired());
    ck_assert_int_eq(nfired, 1);
    timer_free(t);
}
END_TEST

START_TEST(test_deadline)
{
    ck_assert_int_eq(timers_deadline_ns(), -1);
    clock_virtual_start();
    clock_virtual_set(0);
    Timer *v = timer_new_ns(CLOCK_VIRTUAL, log_cb, NULL);
    Timer *r = timer_new_ns(CLOCK_REALTIME, log_cb, NULL);
    Timer *h = timer_new_ns(CLOCK_HOST, log_cb, NULL);

    timer_mod_in_ns(v, 3600 * NANOSECONDS_PER_SECOND);
    int64_t d = timers_deadline_ns();
    ck_assert_int_gt(d, 3599 * NANOSECONDS_PER_SECOND);
    ck_assert_int_le(d, 3600 * NANOSECONDS_PER_SECOND);

    timer_mod_in_ns(h, 60 * NANOSECONDS_PER_SECOND);
    d = timers_deadline_ns();
    ck_assert_int_gt(d, 59 * NANOSECONDS_PER_SECOND);
    ck_assert_int_le(d, 60 * NANOSECONDS_PER_SECOND);

    timer_mod_ns(r, clock_get_ns(CLOCK_REALTIME) + 10 * NANOSECONDS_PER_SECOND);
    d = timers_deadline_ns();
    ck_assert_int_gt(d, 9 * NANOSECONDS_PER_SECOND);
    ck_assert_int_le(d, 10 * NANOSECONDS_PER_SECOND);

    /* Already past: deadline 0, never negative. */
    timer_mod_ns(r, 0);
    ck_assert_int_eq(timers_deadline_ns(), 0);
    ck_assert_int_eq(timer_clock(r), CLOCK_REALTIME);

    /* Stopping the VM removes the virtual timer from the deadline. */
    timer_del(r);
    timer_del(h);
    clock_virtual_stop();
    ck_assert_int_eq(timers_deadline_ns(), -1);

    /* A huge relative delay saturates instead of overflowing. */
    timer_mod_in_ns(r, INT64_MAX);
    ck_assert_int_eq(timer_expire_time_ns(r), INT64_MAX);
    ck_assert_int_gt(timers_deadline_ns(), 0);
    timer_free(v);
    timer_free(r);
    timer_free(h);
}
END_TEST

START_TEST(test_realtime_timer_fires)
{
    reset_log();
    Timer *t = timer_new_ns(CLOCK_REALTIME, log_cb, (void *)7);
    int64_t start = clock_get_ns(CLOCK_REALTIME);
    timer_mod_in_ns(t, 5000000);
    ck_assert(!timers_run_expired());
    /* Sleep until the deadline, as the main loop would. Hang guard only. */
    for (int i = 0; i < 1000 && nfired == 0; i++) {
        int64_t d = timers_deadline_ns();
        ck_assert_int_ge(d, 0);
        usleep(d / 1000 + 1);
        timers_run_expired();
    }
    ck_assert_int_eq(nfired, 1);
    ck_assert_int_eq(fired_log[0], 7);
    /* It never fires early. */
    ck_assert_int_ge(clock_get_ns(CLOCK_REALTIME) - start, 5000000);
    timer_free(t);
}
END_TEST

/* Callbacks that change the lists. */
static Timer *victim, *self_free, *periodic, *spawned;
static int periodic_runs;

static void delete_victim_cb(void *opaque)
{
    log_cb(opaque);
    timer_del(victim);
}

static void free_self_cb(void *opaque)
{
    log_cb(opaque);
    timer_free(self_free);
    self_free = NULL;
}

static void periodic_cb(void *opaque)
{
    log_cb(opaque);
    periodic_runs++;
    /* Re-arm into the past: must not loop inside one run. */
    timer_mod_ns(periodic, 0);
}

static void spawn_cb(void *opaque)
{
    log_cb(opaque);
    timer_mod_ns(spawned, clock_get_ns(CLOCK_VIRTUAL));
}

START_TEST(test_callbacks_modify_lists)
{
    reset_log();
    use_fake_time();
    Timer *a = timer_new_ns(CLOCK_VIRTUAL, delete_victim_cb, (void *)1);
    victim = timer_new_ns(CLOCK_VIRTUAL, log_cb, (void *)2);
    self_free = timer_new_ns(CLOCK_VIRTUAL, free_self_cb, (void *)3);
    periodic = timer_new_ns(CLOCK_VIRTUAL, periodic_cb, (void *)4);
    Timer *s = timer_new_ns(CLOCK_VIRTUAL, spawn_cb, (void *)5);
    spawned = timer_new_ns(CLOCK_VIRTUAL, log_cb, (void *)6);
    timer_mod_ns(a, 10);
    timer_mod_ns(victim, 20);
    timer_mod_ns(self_free, 30);
    timer_mod_ns(periodic, 40);
    timer_mod_ns(s, 50);
    fake_now += 100;

    ck_assert(timers_run_expired());
    /* 1 deletes 2; 3 frees itself; 4 re-arms into the past but runs
     * once; 5 arms 6, already due, which runs in the same pass. */
    ck_assert_int_eq(nfired, 5);
    ck_assert_int_eq(fired_log[0], 1);
    ck_assert_int_eq(fired_log[1], 3);
    ck_assert_int_eq(fired_log[2], 4);
    ck_assert_int_eq(fired_log[3], 5);
    ck_assert_int_eq(fired_log[4], 6);
    ck_assert_int_eq(periodic_runs, 1);
    ck_assert(!timer_pending(victim));
    ck_assert(self_free == NULL);
    ck_assert(timer_pending(periodic));
    ck_assert_int_eq(timers_deadline_ns(), 0);

    /* The periodic timer runs exactly once per pass, and does not starve
     * a timer behind it. */
    timer_mod_ns(spawned, 99);
    timers_run_expired();
    ck_assert_int_eq(periodic_runs, 2);
    ck_assert_int_eq(fired_log[6], 6);
    timers_run_expired();
    ck_assert_int_eq(periodic_runs, 3);
    ck_assert_int_eq(nfired, 8);

    timer_free(a);
    timer_free(victim);
    timer_free(periodic);
    timer_free(s);
    timer_free(spawned);
    ck_assert(!timers_run_expired());
}
END_TEST

static int notified;
static void notify_cb(void *opaque)
{
    notified++;
}

START_TEST(test_notify_on_new_head)
{
    clock_virtual_stop();
    clock_virtual_set(0);
    timers_set_notify(notify_cb, NULL);
    Timer *a = timer_new_ns(CLOCK_REALTIME, log_cb, NULL);
    Timer *b = timer_new_ns(CLOCK_REALTIME, log_cb, NULL);
    Timer *v = timer_new_ns(CLOCK_VIRTUAL, log_cb, NULL);
    int64_t now = clock_get_ns(CLOCK_REALTIME);
    timer_mod_ns(a, now + 1000 * NANOSECONDS_PER_SECOND);
    ck_assert_int_eq(notified, 1);
    timer_mod_ns(b, now + 2000 * NANOSECONDS_PER_SECOND);   /* not earliest */
    ck_assert_int_eq(notified, 1);
    timer_mod_ns(b, now + 500 * NANOSECONDS_PER_SECOND);    /* earliest */
    ck_assert_int_eq(notified, 2);
    timer_mod_ns(v, 10);   /* virtual clock stopped: nobody to wake */
    ck_assert_int_eq(notified, 2);
    clock_virtual_start(); /* pending virtual timers: wake the loop */
    ck_assert_int_eq(notified, 3);
    timers_set_notify(NULL, NULL);
    timer_free(a);
    timer_free(b);
    timer_free(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_realtime_and_host_clocks);
    tcase_add_test(tc, test_virtual_clock_stop_start_set);
    tcase_add_test(tc, test_fake_source);
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_stopped_clock_gates_timers);
    tcase_add_test(tc, test_deadline);
    tcase_add_test(tc, test_realtime_timer_fires);
    tcase_add_test(tc, test_callbacks_modify_lists);
    tcase_add_test(tc, test_notify_on_new_head);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
