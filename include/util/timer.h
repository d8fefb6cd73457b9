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

#include "util/osdep.h"

typedef enum {
    CLOCK_VIRTUAL,
    CLOCK_REALTIME,
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

/* Virtual clock control (used by the run state machinery). */
void clock_virtual_stop(void);
void clock_virtual_start(void);
bool clock_virtual_running(void);
/* Sets the virtual clock to 'ns' (used by loadvm). */
void clock_virtual_set(int64_t ns);

/* Nanoseconds until the earliest pending timer on any clock, or -1. */
int64_t timers_deadline_ns(void);
/* Runs expired timers of all clocks; returns true if any ran. */
bool timers_run_expired(void);

#endif
