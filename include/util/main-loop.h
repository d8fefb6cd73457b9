/*
 * The single-threaded main loop: runs the CPU in slices, fires timers
 * and polls file descriptors (chardevs, monitor and QMP sockets, slirp).
 */
#ifndef UTIL_MAIN_LOOP_H
#define UTIL_MAIN_LOOP_H

#include "util/osdep.h"

typedef void FdHandler(void *opaque);

/* Registers read/write handlers for fd (NULL removes that direction;
 * both NULL removes the fd). */
void main_loop_set_fd_handler(int fd, FdHandler *on_read, FdHandler *on_write, void *opaque);

/* Bottom halves: callbacks run once from the loop at the next iteration
 * (used to defer work out of device callbacks). */
typedef struct BottomHalf BottomHalf;
BottomHalf *bh_new(void (*cb)(void *opaque), void *opaque);
void bh_schedule(BottomHalf *bh);
void bh_cancel(BottomHalf *bh);
void bh_free(BottomHalf *bh);

/* Extra poll sources with their own fd sets (libslirp): called to add
 * fds before each poll and to dispatch after. */
typedef struct MainLoopPoller {
    void (*fill)(void *opaque, int64_t *timeout_ns);
    void (*dispatch)(void *opaque, bool timed_out);
    void *opaque;
} MainLoopPoller;
/* The struct is copied; remove with the same fill/dispatch/opaque. */
void main_loop_add_poller(const MainLoopPoller *p);
void main_loop_remove_poller(const MainLoopPoller *p);
/* For pollers, inside fill(): add an fd with POLL* events; returns an
 * index for main_loop_poll_revents() (valid in the matching dispatch()),
 * or -1 when called outside fill(). */
int main_loop_poll_add(int fd, int events);
int main_loop_poll_revents(int idx);

/* One iteration: polls fds for up to timeout_ns (-1 forever, 0 just
 * check), runs ready handlers, bottom halves and expired timers. The
 * sleep is cut short by the next timer deadline, a scheduled bottom
 * half, an exit request or main_loop_wakeup(). Handlers see POLLHUP and
 * POLLERR as readable (on_read, else on_write), so they notice EOF; an
 * fd that was closed while still registered (POLLNVAL) is dropped with a
 * warning instead of spinning. Calls may nest (a handler may wait). */
void main_loop_wait(int64_t timeout_ns);

/* Loops main_loop_wait(-1) until an exit is requested; returns the
 * status. For programs without a CPU (tools, tests). */
int main_loop_run(void);

/* Wakes a main_loop_wait() sleeping in poll. Async-signal-safe. */
void main_loop_wakeup(void);

/* The runner (the machine's CPU loop) calls main_loop_wait between CPU
 * slices; anything may ask the loop to exit. The first request's status
 * is kept. main_loop_request_exit is async-signal-safe (it kicks the
 * CPU and wakes the poll). */
void main_loop_request_exit(int status);
bool main_loop_exit_requested(int *status);
/* Called from device callbacks and signal handlers to make the CPU
 * return to the main loop at the next block boundary. Installing a kick
 * also makes arming a new earliest timer kick the CPU (outside
 * main_loop_wait), so a slice never overruns a fresh deadline. */
typedef void MainLoopKick(void *opaque);
void main_loop_set_cpu_kick(MainLoopKick *kick, void *opaque);
void main_loop_kick_cpu(void);

#endif
