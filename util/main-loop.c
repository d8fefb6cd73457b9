/*
 * The single-threaded main loop: one ppoll() over the registered fds,
 * the pollers' fds and a self-pipe, bounded by the next timer deadline;
 * then fd handlers, pollers, bottom halves and timers.
 *
 * Handlers may register, change or remove any fd handler, bottom half or
 * poller while they run, and may even call main_loop_wait() again; records
 * are therefore only marked deleted during an iteration and freed when the
 * outermost iteration ends.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "util/main-loop.h"
#include "util/timer.h"
#include "util/error.h"

typedef struct FdRec {
    int fd;
    FdHandler *on_read;
    FdHandler *on_write;
    void *opaque;
    bool deleted;
    struct FdRec *next;
} FdRec;

struct BottomHalf {
    void (*cb)(void *opaque);
    void *opaque;
    bool scheduled;
    uint64_t seq;                  /* order of scheduling */
    BottomHalf *prev, *next;       /* in the scheduled queue */
};

typedef struct PollerRec {
    MainLoopPoller p;
    bool removed;
} PollerRec;

/* The fd set of one main_loop_wait() call. */
typedef struct PollSet {
    struct pollfd *fds;
    FdRec **recs;        /* recs[i] for handler fds, NULL otherwise */
    int n, cap;
    bool filling;        /* pollers may add fds */
} PollSet;

static FdRec *fd_recs;
static bool fd_recs_dirty;

static BottomHalf *bh_head, *bh_tail;
static uint64_t bh_seq;

static PollerRec *pollers;
static int npollers, cap_pollers;
static bool pollers_dirty;

static PollSet *cur_set;
static int depth;

static int wake_fds[2] = { -1, -1 };

static volatile sig_atomic_t exit_flag;
static volatile sig_atomic_t exit_status;

static MainLoopKick *kick_fn;
static void *kick_opaque;

/* ---- fd handlers ---- */

static FdRec *fd_rec_find(int fd)
{
    for (FdRec *r = fd_recs; r; r = r->next) {
        if (!r->deleted && r->fd == fd) {
            return r;
        }
    }
    return NULL;
}

static void wake_init(void);

void main_loop_set_fd_handler(int fd, FdHandler *on_read, FdHandler *on_write, void *opaque)
{
    wake_init();
    FdRec *r = fd_rec_find(fd);
    if (!on_read && !on_write) {
        if (r) {
            r->deleted = true;
            r->on_read = r->on_write = NULL;
            fd_recs_dirty = true;
        }
        return;
    }
    if (!r) {
        r = XNEW(FdRec);
        r->fd = fd;
        r->next = fd_recs;
        fd_recs = r;
    }
    r->on_read = on_read;
    r->on_write = on_write;
    r->opaque = opaque;
}

static void fd_recs_collect(void)
{
    FdRec **pp = &fd_recs;
    while (*pp) {
        FdRec *r = *pp;
        if (r->deleted) {
            *pp = r->next;
            free(r);
        } else {
            pp = &r->next;
        }
    }
    fd_recs_dirty = false;
}

/* ---- bottom halves ---- */

BottomHalf *bh_new(void (*cb)(void *opaque), void *opaque)
{
    BottomHalf *bh = XNEW(BottomHalf);
    bh->cb = cb;
    bh->opaque = opaque;
    return bh;
}

void bh_schedule(BottomHalf *bh)
{
    if (bh->scheduled) {
        return;
    }
    bh->scheduled = true;
    bh->seq = ++bh_seq;
    bh->next = NULL;
    bh->prev = bh_tail;
    if (bh_tail) {
        bh_tail->next = bh;
    } else {
        bh_head = bh;
    }
    bh_tail = bh;
}

void bh_cancel(BottomHalf *bh)
{
    if (!bh || !bh->scheduled) {
        return;
    }
    if (bh->prev) {
        bh->prev->next = bh->next;
    } else {
        bh_head = bh->next;
    }
    if (bh->next) {
        bh->next->prev = bh->prev;
    } else {
        bh_tail = bh->prev;
    }
    bh->prev = bh->next = NULL;
    bh->scheduled = false;
}

void bh_free(BottomHalf *bh)
{
    if (bh) {
        bh_cancel(bh);
        free(bh);
    }
}

/* Runs the bottom halves scheduled before this call, in order; those
 * scheduled by the callbacks wait for the next iteration. */
static bool bh_run_all(void)
{
    uint64_t limit = bh_seq;
    bool ran = false;
    while (bh_head && bh_head->seq <= limit) {
        BottomHalf *bh = bh_head;
        bh_cancel(bh);
        ran = true;
        bh->cb(bh->opaque);   /* may free bh */
    }
    return ran;
}

/* ---- pollers ---- */

void main_loop_add_poller(const MainLoopPoller *p)
{
    if (npollers == cap_pollers) {
        cap_pollers = cap_pollers ? cap_pollers * 2 : 4;
        pollers = xrealloc(pollers, cap_pollers * sizeof(*pollers));
    }
    pollers[npollers].p = *p;
    pollers[npollers].removed = false;
    npollers++;
}

void main_loop_remove_poller(const MainLoopPoller *p)
{
    for (int i = 0; i < npollers; i++) {
        PollerRec *r = &pollers[i];
        if (!r->removed && r->p.fill == p->fill && r->p.dispatch == p->dispatch &&
            r->p.opaque == p->opaque) {
            r->removed = true;
            pollers_dirty = true;
            return;
        }
    }
}

static void pollers_collect(void)
{
    int j = 0;
    for (int i = 0; i < npollers; i++) {
        if (!pollers[i].removed) {
            pollers[j++] = pollers[i];
        }
    }
    npollers = j;
    pollers_dirty = false;
}

/* ---- poll sets ---- */

static int pollset_add(PollSet *s, int fd, int events, FdRec *rec)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->fds = xrealloc(s->fds, s->cap * sizeof(*s->fds));
        s->recs = xrealloc(s->recs, s->cap * sizeof(*s->recs));
    }
    s->fds[s->n].fd = fd;
    s->fds[s->n].events = events;
    s->fds[s->n].revents = 0;
    s->recs[s->n] = rec;
    return s->n++;
}

int main_loop_poll_add(int fd, int events)
{
    if (!cur_set || !cur_set->filling || fd < 0) {
        return -1;
    }
    return pollset_add(cur_set, fd, events, NULL);
}

int main_loop_poll_revents(int idx)
{
    if (!cur_set || idx < 0 || idx >= cur_set->n) {
        return 0;
    }
    return cur_set->fds[idx].revents;
}

/* ---- wakeup, exit, kick ---- */

static void wake_init(void)
{
    if (wake_fds[0] >= 0) {
        return;
    }
    if (pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        wake_fds[0] = wake_fds[1] = -1;
    }
}

void main_loop_wakeup(void)
{
    int saved = errno;
    if (wake_fds[1] >= 0) {
        char c = 0;
        ssize_t r = write(wake_fds[1], &c, 1);   /* full pipe: already awake */
        (void)r;
    }
    errno = saved;
}

static void wake_drain(void)
{
    char buf[64];
    while (read(wake_fds[0], buf, sizeof(buf)) > 0) {
        continue;
    }
}

void main_loop_request_exit(int status)
{
    if (!exit_flag) {
        exit_status = status;
        exit_flag = 1;
    }
    main_loop_kick_cpu();
    main_loop_wakeup();
}

bool main_loop_exit_requested(int *status)
{
    if (exit_flag && status) {
        *status = exit_status;
    }
    return exit_flag;
}

static void timer_notify(void *opaque)
{
    /* Inside main_loop_wait the deadline is recomputed anyway; outside it
     * the CPU may be mid-slice and must come back for the new timer. */
    if (depth == 0) {
        main_loop_kick_cpu();
    }
}

void main_loop_set_cpu_kick(MainLoopKick *kick, void *opaque)
{
    kick_fn = kick;
    kick_opaque = opaque;
    timers_set_notify(kick ? timer_notify : NULL, NULL);
}

void main_loop_kick_cpu(void)
{
    if (kick_fn) {
        kick_fn(kick_opaque);
    }
}

/* ---- the loop ---- */

static int64_t min_timeout(int64_t a, int64_t b)
{
    if (a < 0) {
        return b;
    }
    if (b < 0) {
        return a;
    }
    return a < b ? a : b;
}

static void dispatch_fd(PollSet *s, int i)
{
    FdRec *r = s->recs[i];
    short rev = s->fds[i].revents;
    if (!rev || r->deleted) {
        return;
    }
    if (rev & POLLNVAL) {
        warn_report("main loop: fd %d was closed while still watched; dropping its handler",
                    r->fd);
        r->deleted = true;
        fd_recs_dirty = true;
        return;
    }
    bool err = rev & (POLLERR | POLLHUP);
    if ((rev & POLLIN) || err) {
        if (r->on_read) {
            r->on_read(r->opaque);
        } else if (err && r->on_write) {
            r->on_write(r->opaque);
            return;
        }
    }
    /* The read handler may have removed or changed this record. */
    if (!r->deleted && r->on_write && (rev & POLLOUT)) {
        r->on_write(r->opaque);
    }
}

/* The outermost iteration reuses one set: the loop runs between every CPU
 * slice and should not allocate each time. Nested ones get their own. */
static PollSet top_set;

void main_loop_wait(int64_t timeout_ns)
{
    PollSet nested_set = { 0 };
    PollSet *outer = cur_set;
    PollSet *sp = depth == 0 ? &top_set : &nested_set;
    PollSet set = *sp;
    set.n = 0;
    set.filling = false;

    wake_init();
    depth++;
    cur_set = &set;

    if (wake_fds[0] >= 0) {
        pollset_add(&set, wake_fds[0], POLLIN, NULL);
    }
    for (FdRec *r = fd_recs; r; r = r->next) {
        if (r->deleted) {
            continue;
        }
        int ev = (r->on_read ? POLLIN : 0) | (r->on_write ? POLLOUT : 0);
        pollset_add(&set, r->fd, ev, r);
    }
    int nhandler_fds = set.n;

    int64_t timeout = timeout_ns < 0 ? -1 : timeout_ns;
    if (bh_head || exit_flag) {
        timeout = 0;
    }
    timeout = min_timeout(timeout, timers_deadline_ns());

    /* Pollers keep their own fd indices, so only the outermost
     * iteration serves them. */
    int npollers_filled = depth == 1 ? npollers : 0;
    set.filling = true;
    for (int i = 0; i < npollers_filled; i++) {
        if (!pollers[i].removed && pollers[i].p.fill) {
            int64_t t = timeout;
            pollers[i].p.fill(pollers[i].p.opaque, &t);
            timeout = min_timeout(timeout, t);
        }
    }
    set.filling = false;

    struct timespec ts, *tsp = NULL;
    if (timeout >= 0) {
        ts.tv_sec = timeout / NANOSECONDS_PER_SECOND;
        ts.tv_nsec = timeout % NANOSECONDS_PER_SECOND;
        tsp = &ts;
    }
    int ret = ppoll(set.fds, set.n, tsp, NULL);
    if (ret < 0) {
        /* EINTR: a signal; its handler did what it needed. */
        for (int i = 0; i < set.n; i++) {
            set.fds[i].revents = 0;
        }
        ret = 0;
    }

    if (ret > 0) {
        int first = 0;
        if (wake_fds[0] >= 0) {
            if (set.fds[0].revents) {
                wake_drain();
            }
            first = 1;
        }
        for (int i = first; i < nhandler_fds; i++) {
            dispatch_fd(&set, i);
        }
    }
    for (int i = 0; i < npollers_filled; i++) {
        if (!pollers[i].removed && pollers[i].p.dispatch) {
            pollers[i].p.dispatch(pollers[i].p.opaque, ret == 0);
        }
    }

    bh_run_all();
    timers_run_expired();

    cur_set = outer;
    depth--;
    if (depth == 0) {
        if (fd_recs_dirty) {
            fd_recs_collect();
        }
        if (pollers_dirty) {
            pollers_collect();
        }
    }
    if (sp == &top_set) {
        top_set = set;   /* keep the (possibly grown) arrays */
    } else {
        free(set.fds);
        free(set.recs);
    }
}

int main_loop_run(void)
{
    int status = 0;
    while (!main_loop_exit_requested(&status)) {
        main_loop_wait(-1);
    }
    return status;
}
