#!/bin/sh
# Sets up a fresh Debian machine, builds minipc and runs the main job.
# Until the PC can boot a guest, the main job exercises the image tool:
# it creates a qcow2 image, writes a snapshot and shows the result.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
scripts/setup.sh
mkdir -p build
if [ ! -f build/config-host.mak ]; then
    (cd build && "$src/configure")
fi
make -C build -j"$(nproc 2>/dev/null || echo 2)" all

img=build/demo.qcow2
rm -f "$img"
build/minipc-img create -f qcow2 "$img" 1G
build/minipc-img snapshot -c first "$img"
build/minipc-img info "$img"
build/minipc-img check "$img"
