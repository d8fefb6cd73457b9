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
void main_loop_add_poller(const MainLoopPoller *p);
/* For pollers: add an fd with POLL* events; returns an index for
 * main_loop_poll_revents(). */
int main_loop_poll_add(int fd, int events);
int main_loop_poll_revents(int idx);

/* One iteration: polls fds for up to timeout_ns (-1 forever, 0 just
 * check), runs ready handlers, bottom halves and expired timers. */
void main_loop_wait(int64_t timeout_ns);

/* The runner (the machine's CPU loop) calls main_loop_wait between CPU
 * slices; anything may ask the loop to exit. */
void main_loop_request_exit(int status);
bool main_loop_exit_requested(int *status);
/* Called from device callbacks and signal handlers to make the CPU
 * return to the main loop at the next block boundary. */
typedef void MainLoopKick(void *opaque);
void main_loop_set_cpu_kick(MainLoopKick *kick, void *opaque);
void main_loop_kick_cpu(void);

#endif
