#!/bin/sh
# Installs the Debian packages minipc needs to build, test and benchmark,
# only those that are missing. Idempotent; works as root or through sudo.
#   scripts/setup.sh          build + run dependencies
#   scripts/setup.sh --test   also everything the test suites use
set -eu

want_test=no
for a in "$@"; do
    case "$a" in
    --test) want_test=yes ;;
    *) echo "setup.sh: unknown option '$a'" >&2; exit 1 ;;
    esac
done

# Needed to build and run the default guest.
pkgs="build-essential pkg-config libsdl2-dev zlib1g-dev libslirp-dev check
      seabios python3 qemu-utils"
# Needed by the tests and benchmarks: nasm for bare-metal CPU tests, clang
# for libFuzzer targets, the reference QEMU for side-by-side runs, and
# the tools the guest-image scripts use.
test_pkgs="nasm clang libclang-rt-14-dev qemu-system-x86 cpio xz-utils
           e2fsprogs mtools syslinux syslinux-common isolinux genisoimage
           dosfstools xvfb xdotool"
[ "$want_test" = yes ] && pkgs="$pkgs $test_pkgs"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
else
    SUDO=
fi

missing=
for p in $pkgs; do
    # dpkg-query prints "install ok installed" only for installed packages
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "setup: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || echo "setup: apt-get update failed; trying with the current lists" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing </dev/null
