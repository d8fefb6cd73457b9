/*
 * Clocks and timers.
 *
 * CLOCK_VIRTUAL is guest time: it advances while the VM runs (tracking
 * host time, so guests see time close to real time), stops while the VM
 * is stopped, and is saved in snapshots. CLOCK_REALTIME is host
 * monotonic time for the UI and the monitor; CLOCK_HOST is wall-clock
 * time (RTC base, snapshot dates).
 *
 * Timers fire from the main loop (never from inside a device callback),
 * in expiry order. Devices keep their own Timer pointers and describe
 * them in VMState with VMSTATE_TIMER_PTR.
 */
#ifndef UTIL_TIMER_H
#define UTIL_TIMER_H

#include <time.h>
#include "util/osdep.h"

/*
 * <time.h> defines CLOCK_REALTIME (= 0) as a macro, so it cannot also be
 * an enumerator here. Our realtime clock therefore takes index 0 and the
 * POSIX macro names it: clock_get_ns(CLOCK_REALTIME) means minipc's
 * (monotonic) realtime clock whichever header a file includes first,
 * while clock_gettime(CLOCK_REALTIME, ...) keeps its POSIX meaning.
 */
#if !defined(CLOCK_REALTIME) || CLOCK_REALTIME != 0
#error "expected <time.h> to define CLOCK_REALTIME as 0"
#endif
typedef enum {
    CLOCK_RT_INDEX = 0,   /* CLOCK_REALTIME */
    CLOCK_VIRTUAL,
    CLOCK_HOST,
    CLOCK_MAX,
} ClockType;

#define NANOSECONDS_PER_SECOND 1000000000LL

typedef struct Timer Timer;
typedef void TimerCallback(void *opaque);

int64_t clock_get_ns(ClockType type);

Timer *timer_new_ns(ClockType type, TimerCallback *cb, void *opaque);
void timer_free(Timer *t);
/* Arms (or re-arms) the timer to fire when the clock reaches expire_ns. */
void timer_mod_ns(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
/* Expiry in ns, or -1 if not pending. */
int64_t timer_expire_time_ns(const Timer *t);
/* Convenience: ms/us units and "arm relative to now". */
static inline int64_t ms_to_ns(int64_t ms) { return ms * 1000000; }
void timer_mod_in_ns(Timer *t, int64_t delta_ns);
ClockType timer_clock(const Timer *t);

/* Virtual clock control (used by the run state machinery). The
 * virtual clock starts at 0, running, when first read. While it is
 * stopped it does not advance and its timers do not fire (they stay
 * armed and count in no deadline); clock_virtual_set() also works while
 * stopped, which makes the clock fully deterministic for unit tests. */
void clock_virtual_stop(void);
void clock_virtual_start(void);
bool clock_virtual_running(void);
/* Sets the virtual clock to 'ns' (used by loadvm). */
void clock_virtual_set(int64_t ns);

/* Nanoseconds until the earliest pending timer on any clock, or -1. */
int64_t timers_deadline_ns(void);
/* Runs expired timers of all clocks; returns true if any ran.
 * Callbacks may arm, delete or free any timer (their own included). A
 * timer that re-arms itself into the past runs again at the next call,
 * not in a loop inside this one. */
bool timers_run_expired(void);

/* Called (if set) when a timer becomes the earliest of its (enabled)
 * clock, and when the virtual clock starts or jumps with timers pending,
 * so a CPU in the middle of a slice can return early to the loop. The
 * main loop installs this (main_loop_set_cpu_kick). */
void timers_set_notify(void (*notify)(void *opaque), void *opaque);

/* For unit tests: replace the host monotonic time that drives
 * CLOCK_REALTIME and CLOCK_VIRTUAL with 'now_ns' (NULL restores it), so
 * a test advances time by hand and calls timers_run_expired(). Switch
 * before the first clock read or expect the virtual clock to jump. */
void clock_set_source_for_test(int64_t (*now_ns)(void));

#endif
