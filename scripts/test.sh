#!/bin/sh
# Sets up a fresh Debian machine and runs every test suite:
#   unit tests and fuzz smoke runs under ASan+UBSan (build-san/),
#   integration tests against the optimised build (build/).
# Ends with one "N passed, N failed" line. Exit status 0 only if all pass.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

scripts/setup.sh --test

configure_if_needed() {
    dir=$1; shift
    mkdir -p "$dir"
    # Reconfigure when the options or the configure script changed.
    stamp="$dir/.configure-args"
    if [ ! -f "$dir/config-host.mak" ] || [ ! -f "$stamp" ] ||
       [ "$(cat "$stamp")" != "$*" ] || [ "$src/configure" -nt "$stamp" ]; then
        (cd "$dir" && "$src/configure" "$@")
        echo "$*" > "$stamp"
    fi
}

configure_if_needed build --enable-werror
configure_if_needed build-san --enable-werror --enable-sanitizers --extra-cflags=-O1
make -C build -j"$jobs" all
make -C build-san -j"$jobs" all

# Integration tests build the guest images they need (tests/guests/, cached
# in .cache/guests) instead of skipping; MINIPC_BUILD_GUESTS=0 to skip.
MINIPC_BUILD_GUESTS=${MINIPC_BUILD_GUESTS:-1}
export MINIPC_BUILD_GUESTS

exec python3 tests/run-tests.py --build build --san-build build-san "$@"
