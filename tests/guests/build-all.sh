#!/bin/sh
# Builds every guest image (or the named ones) into $MINIPC_CACHE
# (default <src>/.cache/guests). Idempotent: what is up to date is kept.
#   tests/guests/build-all.sh                    all guests
#   tests/guests/build-all.sh linux memtest      some of them
# Guests: installer linux data memtest (see tests/guests/README.md).
# MINIPC_GUESTS_REFRESH=1 looks for newer Debian packages first.
. "$(dirname "$0")/lib.sh"

all="installer linux data memtest"
[ $# -gt 0 ] || set -- $all
for g in "$@"; do
    case " $all " in
    *" $g "*) ;;
    *) die "unknown guest '$g' (one of: $all)" ;;
    esac
done

start=$(date +%s)
for g in "$@"; do
    "$GUESTS_DIR/$g.sh" || die "building guest '$g' failed"
done
log "done in $(( $(date +%s) - start ))s; images in $CACHE:"
for g in "$@"; do
    (cd "$CACHE/$g" && for f in *; do
        [ -f "$f" ] && printf '  %-10s %-14s %10s bytes\n' "$g" "$f" "$(size_of "$f")"
    done) >&2
done
