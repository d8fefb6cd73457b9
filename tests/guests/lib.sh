# Shared helpers for the guest-image scripts. Sourced, not run.
#
# Everything lands in $MINIPC_CACHE (default <src>/.cache/guests):
#   debs/       the Debian packages, as downloaded
#   apt-i386/   a private apt state (lists for i386) so that i386 packages can
#               be downloaded without touching the system's dpkg or apt
#               configuration, without root
#   NAME/       the images of one guest (installer/, linux/, data/, memtest/)
#
# Caching: a target is rebuilt only when it is missing or older than one of
# its inputs (the .deb files it comes from and the scripts that make it).
# Downloaded packages are kept; MINIPC_GUESTS_REFRESH=1 looks for newer
# versions in the archive and replaces them.

set -eu

GUESTS_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$GUESTS_DIR/../.." && pwd)
CACHE=${MINIPC_CACHE:-$SRC_DIR/.cache/guests}
DEBS=$CACHE/debs
APT_DIR=$CACHE/apt-i386
REFRESH=${MINIPC_GUESTS_REFRESH:-0}
PROG=$(basename "$0" .sh)

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# Temporary directories to remove however the script ends.
CLEANUP=
cleanup() { [ -z "$CLEANUP" ] || rm -rf $CLEANUP; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# One builder at a time per cache (two test processes may both build on
# demand). The scripts a builder runs inherit its lock.
if [ -z "${MINIPC_GUESTS_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
    exec 9>"$CACHE/.lock"
    if ! flock -n 9; then
        log "waiting for another build in $CACHE"
        flock 9
    fi
    MINIPC_GUESTS_LOCKED=1
    export MINIPC_GUESTS_LOCKED
fi

# need_cmd COMMAND PACKAGE: fail early with a useful hint.
need_cmd() {
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' not found; install the Debian package '$2' (scripts/setup.sh --test does)"
}

# need_file PATH PACKAGE
need_file() {
    [ -e "$1" ] || die "'$1' not found; install the Debian package '$2' (scripts/setup.sh --test does)"
}

# stale TARGET INPUT...: true when TARGET is missing or older than an input.
# The scripts of this directory are implicit inputs of every target.
stale() {
    _t=$1; shift
    older_than_inputs "$_t" "$@" "$GUESTS_DIR/lib.sh" "$GUESTS_DIR/guesttool.py" "$0"
}

# older_than_inputs TARGET INPUT...: the same, without implicit inputs.
older_than_inputs() {
    _t=$1; shift
    [ -e "$_t" ] || return 0
    for _i in "$@"; do
        if [ -d "$_i" ]; then
            # a directory counts through the newest file inside it
            if [ -n "$(find "$_i" -newer "$_t" -print -quit)" ]; then return 0; fi
        elif [ "$_i" -nt "$_t" ]; then
            return 0
        fi
    done
    return 1
}

# Private apt configuration for i386 packages: the system's sources and
# keys, our own lists, cache and an empty dpkg status.
apt_opts() {
    printf '%s\n' \
        -o "APT::Architecture=i386" \
        -o "APT::Architectures::=i386" \
        -o "Dir::State=$APT_DIR/state" \
        -o "Dir::State::Lists=$APT_DIR/lists" \
        -o "Dir::State::status=$APT_DIR/status" \
        -o "Dir::Cache=$APT_DIR/cache" \
        -o "Debug::NoLocking=1" \
        -o "APT::Sandbox::User=root" \
        -o "Acquire::Retries=3"
}

apt_i386() {
    _cmd=$1; shift
    # shellcheck disable=SC2046
    "$_cmd" $(apt_opts) "$@"
}

apt_lists_ready=no
apt_update() {
    [ "$apt_lists_ready" = yes ] && return 0
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/state"
    [ -e "$APT_DIR/status" ] || : > "$APT_DIR/status"
    if [ "$REFRESH" = 1 ] || ! ls "$APT_DIR"/lists/*_Packages* >/dev/null 2>&1; then
        need_cmd apt-get apt
        log "updating the private i386 package lists in $APT_DIR"
        # A failing secondary index (e.g. a mirror in the middle of a sync)
        # is not fatal: what matters is that our packages resolve below.
        apt_i386 apt-get -q update >"$APT_DIR/update.log" 2>&1 ||
            log "warning: apt-get update reported errors (see $APT_DIR/update.log); going on"
    fi
    apt_lists_ready=yes
}

# cached_deb NAME ARCH: print the cached .deb of package NAME, if any.
cached_deb() {
    # shellcheck disable=SC2012
    ls -1 "$DEBS"/$1_*_"$2".deb 2>/dev/null | sort -V | tail -n 1
}

# fetch_deb NAME: make sure the i386 (or arch:all) package NAME is in
# $DEBS and print its path. Offline once cached.
fetch_deb() {
    _name=$1
    mkdir -p "$DEBS"
    if [ "$REFRESH" != 1 ]; then
        for _arch in i386 all; do
            _f=$(cached_deb "$_name" "$_arch")
            if [ -n "$_f" ]; then echo "$_f"; return 0; fi
        done
    fi
    apt_update
    _uri=$(apt_i386 apt-get -q download --print-uris "$_name" 2>/dev/null | head -n 1) ||
        true
    [ -n "$_uri" ] || die "package '$_name' (i386) not found in the apt sources of this machine; see $APT_DIR/update.log"
    # the second field is the file name apt will write
    _file=$(echo "$_uri" | awk '{print $2}')
    if [ ! -s "$DEBS/$_file" ]; then
        log "downloading $_file"
        (cd "$DEBS" && apt_i386 apt-get -q download "$_name" >"$APT_DIR/download.log" 2>&1) ||
            die "could not download '$_name' (see $APT_DIR/download.log)"
        [ -s "$DEBS/$_file" ] || die "apt-get download did not produce $DEBS/$_file"
        # drop older versions of the same package
        for _old in "$DEBS/$_name"_*.deb; do
            [ "$_old" = "$DEBS/$_file" ] || rm -f "$_old"
        done
    fi
    echo "$DEBS/$_file"
}

# resolve_depends META: the first dependency of a metapackage
# (linux-image-686 -> linux-image-6.1.0-NN-686).
resolve_depends() {
    apt_update
    apt_i386 apt-cache depends "$1" 2>/dev/null |
        awk '/^ *Depends:/ { sub(/^ *Depends: */, ""); print; exit }'
}

# extract_deb DEB DIR: unpack DEB's files into DIR (no root needed), once.
extract_deb() {
    if older_than_inputs "$2/.extracted" "$1"; then
        log "extracting $(basename "$1")"
        rm -rf "$2"
        mkdir -p "$2"
        dpkg-deb -x "$1" "$2" || die "could not extract $1"
        : > "$2/.extracted"
    fi
}

# write_if_changed FILE TEXT: keeps FILE (and its date) when it already
# holds TEXT, so that what depends on it is not rebuilt
write_if_changed() {
    if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
        printf '%s\n' "$2" > "$1.tmp" && mv -f "$1.tmp" "$1"
    fi
}

# size_of FILE: size in bytes
size_of() { wc -c < "$1" | tr -d ' '; }

# to_qcow2 RAW OUT: convert a raw image to qcow2 (atomically)
to_qcow2() {
    need_cmd qemu-img qemu-utils
    qemu-img convert -q -f raw -O qcow2 "$1" "$2.tmp" || die "qemu-img convert of $1 failed"
    mv -f "$2.tmp" "$2"
}

# syslinux_disk OUT.qcow2 SIZE_MIB CFG FILE...: a disk with an MBR partition
# table and one bootable FAT16 partition holding syslinux, CFG as
# syslinux.cfg and the FILEs, converted to qcow2. No mounts: mtools writes
# the files and the mtools-based 'syslinux' installs the boot loader.
syslinux_disk() {
    _out=$1 _mib=$2 _cfg=$3; shift 3
    need_cmd mkfs.fat dosfstools
    need_cmd mcopy mtools
    need_cmd syslinux syslinux
    need_file /usr/lib/syslinux/mbr/mbr.bin syslinux-common
    _w=$(mktemp -d "${TMPDIR:-/tmp}/minipc-disk.XXXXXX")
    CLEANUP="$CLEANUP $_w"
    # partition starts at 1 MiB (sector 2048), spans the rest of the disk
    _psec=$(( (_mib - 1) * 2048 ))
    # FAT16 with the partition offset as "hidden sectors", as a real
    # partitioning tool would leave it
    mkfs.fat -F 16 -h 2048 -n MINIPC -C "$_w/part.img" $(( _psec / 2 )) >/dev/null ||
        die "mkfs.fat failed"
    syslinux --install "$_w/part.img" || die "syslinux --install failed"
    mcopy -i "$_w/part.img" "$_cfg" ::syslinux.cfg || die "mcopy of syslinux.cfg failed"
    for _f in "$@"; do
        mcopy -i "$_w/part.img" "$_f" "::$(basename "$_f")" || die "mcopy of $_f failed"
    done
    python3 "$GUESTS_DIR/guesttool.py" mbr-disk --mbr /usr/lib/syslinux/mbr/mbr.bin \
        --start 2048 --type 0x0e --part "$_w/part.img" --out "$_w/disk.img" ||
        die "could not assemble the disk image"
    to_qcow2 "$_w/disk.img" "$_out"
    rm -rf "$_w"
}
