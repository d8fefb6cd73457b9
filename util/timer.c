/*
 * Clocks and timers.
 *
 * Each clock keeps its pending timers in one doubly linked list sorted by
 * expiry (ties in arming order). Machines have a few dozen timers at
 * most, so a list beats a heap on simplicity and on the common case of
 * re-arming the head. The virtual clock is host monotonic time plus an
 * offset; stopping it freezes the value, starting it again recomputes the
 * offset so no stopped time is ever seen by the guest.
 */
#include "util/timer.h"

struct Timer {
    ClockType type;
    TimerCallback *cb;
    void *opaque;
    int64_t expire;        /* valid while pending */
    bool pending;
    uint64_t ran_in_pass;  /* timers_run_expired() pass that last ran it */
    Timer *prev, *next;
};

typedef struct TimerList {
    Timer *head;
} TimerList;

static TimerList lists[CLOCK_MAX];

/* Virtual clock state. */
static bool vclock_init_done;
static bool vclock_running;
static int64_t vclock_offset;   /* running: value = host monotonic + offset */
static int64_t vclock_frozen;   /* stopped: the value */

static uint64_t run_pass;

static void (*notify_fn)(void *opaque);
static void *notify_opaque;

static int64_t (*test_source)(void);

static int64_t host_mono(void)
{
    return test_source ? test_source() : get_clock_ns();
}

void clock_set_source_for_test(int64_t (*now_ns)(void))
{
    test_source = now_ns;
}

static void vclock_init(void)
{
    if (!vclock_init_done) {
        vclock_init_done = true;
        vclock_running = true;
        vclock_offset = -host_mono();
    }
}

int64_t clock_get_ns(ClockType type)
{
    switch (type) {
    case CLOCK_VIRTUAL:
        vclock_init();
        return vclock_running ? host_mono() + vclock_offset : vclock_frozen;
    case CLOCK_RT_INDEX:
        return host_mono();
    case CLOCK_HOST:
        return get_clock_realtime_ns();
    default:
        return 0;
    }
}

void clock_virtual_stop(void)
{
    vclock_init();
    if (vclock_running) {
        vclock_frozen = host_mono() + vclock_offset;
        vclock_running = false;
    }
}

void clock_virtual_start(void)
{
    vclock_init();
    if (!vclock_running) {
        vclock_offset = vclock_frozen - host_mono();
        vclock_running = true;
        /* Timers may have become due while stopped (clock_virtual_set). */
        if (lists[CLOCK_VIRTUAL].head && notify_fn) {
            notify_fn(notify_opaque);
        }
    }
}

bool clock_virtual_running(void)
{
    vclock_init();
    return vclock_running;
}

void clock_virtual_set(int64_t ns)
{
    vclock_init();
    if (vclock_running) {
        vclock_offset = ns - host_mono();
        if (lists[CLOCK_VIRTUAL].head && notify_fn) {
            notify_fn(notify_opaque);
        }
    } else {
        vclock_frozen = ns;
    }
}

static bool clock_enabled(ClockType type)
{
    return type != CLOCK_VIRTUAL || clock_virtual_running();
}

Timer *timer_new_ns(ClockType type, TimerCallback *cb, void *opaque)
{
    if ((unsigned)type >= CLOCK_MAX) {
        type = CLOCK_VIRTUAL;
    }
    Timer *t = XNEW(Timer);
    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    t->expire = -1;
    return t;
}

static void timer_unlink(Timer *t)
{
    if (!t->pending) {
        return;
    }
    TimerList *l = &lists[t->type];
    if (t->prev) {
        t->prev->next = t->next;
    } else {
        l->head = t->next;
    }
    if (t->next) {
        t->next->prev = t->prev;
    }
    t->prev = t->next = NULL;
    t->pending = false;
}

void timer_free(Timer *t)
{
    if (t) {
        timer_unlink(t);
        free(t);
    }
}

void timer_del(Timer *t)
{
    timer_unlink(t);
}

void timer_mod_ns(Timer *t, int64_t expire_ns)
{
    timer_unlink(t);
    if (expire_ns < 0) {
        expire_ns = 0;   /* "already due"; -1 is reserved for not pending */
    }
    TimerList *l = &lists[t->type];
    Timer *prev = NULL, *cur = l->head;
    while (cur && cur->expire <= expire_ns) {
        prev = cur;
        cur = cur->next;
    }
    t->expire = expire_ns;
    t->pending = true;
    t->prev = prev;
    t->next = cur;
    if (cur) {
        cur->prev = t;
    }
    if (prev) {
        prev->next = t;
    } else {
        l->head = t;
        if (notify_fn && clock_enabled(t->type)) {
            notify_fn(notify_opaque);
        }
    }
}

void timer_mod_in_ns(Timer *t, int64_t delta_ns)
{
    int64_t now = clock_get_ns(t->type);
    if (delta_ns > INT64_MAX - now) {
        delta_ns = INT64_MAX - now;
    }
    timer_mod_ns(t, now + delta_ns);
}

bool timer_pending(const Timer *t)
{
    return t && t->pending;
}

int64_t timer_expire_time_ns(const Timer *t)
{
    return t && t->pending ? t->expire : -1;
}

ClockType timer_clock(const Timer *t)
{
    return t->type;
}

int64_t timers_deadline_ns(void)
{
    int64_t best = -1;
    for (int type = 0; type < CLOCK_MAX; type++) {
        Timer *head = lists[type].head;
        if (!head || !clock_enabled(type)) {
            continue;
        }
        int64_t delta = head->expire - clock_get_ns(type);
        if (delta < 0) {
            delta = 0;
        }
        if (best < 0 || delta < best) {
            best = delta;
        }
    }
    return best;
}

bool timers_run_expired(void)
{
    bool ran = false;
    uint64_t pass = ++run_pass;
    for (int type = 0; type < CLOCK_MAX; type++) {
        if (!clock_enabled(type) || !lists[type].head) {
            continue;
        }
        int64_t now = clock_get_ns(type);
        for (;;) {
            /* Re-read the head every time: the previous callback may have
             * changed anything, including stopping the virtual clock. */
            Timer *t = lists[type].head;
            /* Each timer runs at most once per pass: one that re-armed
             * itself into the past waits for the next pass, without
             * holding up the others due now. */
            while (t && t->expire <= now && t->ran_in_pass == pass) {
                t = t->next;
            }
            if (!t || t->expire > now || !clock_enabled(type)) {
                break;
            }
            timer_unlink(t);
            t->ran_in_pass = pass;
            ran = true;
            t->cb(t->opaque);
            /* 't' may be freed now. */
        }
    }
    return ran;
}

void timers_set_notify(void (*notify)(void *opaque), void *opaque)
{
    notify_fn = notify;
    notify_opaque = opaque;
}
