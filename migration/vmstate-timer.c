/*
 * VMState type for timers: a Timer's expiry in nanoseconds, or -1 when
 * it is not pending. Its own file so that only programs that save
 * timers link the timer code.
 */
#include "migration/qemu-file.h"
#include "migration/vmstate.h"
#include "util/timer.h"

static int get_timer(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    int64_t expire = (int64_t)qemu_get_be64(f);
    if (qemu_file_get_error(f)) {
        return 0;
    }
    if (expire < -1) {
        qemu_file_set_error_msg(f, -EINVAL, "invalid timer expiry %" PRId64, expire);
        return -EINVAL;
    }
    if (qemu_file_is_validating(f)) {
        return 0;       /* pv is a scratch copy, and timers live elsewhere */
    }
    Timer *t = pv;
    if (expire == -1) {
        timer_del(t);
    } else {
        timer_mod_ns(t, expire);
    }
    return 0;
}

static int put_timer(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                     JsonWriter *vmdesc)
{
    qemu_put_be64(f, (uint64_t)timer_expire_time_ns(pv));
    return 0;
}

const VMStateInfo vmstate_info_timer = {
    .name = "timer", .get = get_timer, .put = put_timer,
};
