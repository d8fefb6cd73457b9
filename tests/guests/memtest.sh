#!/bin/sh
# memtest86+ (Debian 12's 6.x, the ia32 build). Outputs, in
# $MINIPC_CACHE/memtest/:
#   memtest.bin   memtest86+ia32.bin, a Linux boot protocol image: boot it
#                 with -kernel (no initrd, no command line needed)
#   memtest.iso   Debian's bootable ISO of the same program (-cdrom, -boot d)
#   boot.qcow2    a disk that boots it through SeaBIOS and syslinux
# memtest86+ draws on the VGA text screen (80x25 at 0xb8000); with
# "console=ttyS0" on its command line it also draws on the serial port.
. "$(dirname "$0")/lib.sh"

OUT=$CACHE/memtest
WORK=$CACHE/work/memtest
mkdir -p "$OUT" "$WORK"
need_cmd dpkg-deb dpkg

deb=$(fetch_deb memtest86+)
extract_deb "$deb" "$WORK/root"
[ -f "$WORK/root/boot/memtest86+ia32.bin" ] ||
    die "$deb has no /boot/memtest86+ia32.bin (package layout changed?)"

if stale "$OUT/memtest.bin" "$WORK/root/.extracted"; then
    cp "$WORK/root/boot/memtest86+ia32.bin" "$OUT/memtest.bin.tmp"
    mv -f "$OUT/memtest.bin.tmp" "$OUT/memtest.bin"
fi
if [ -f "$WORK/root/usr/lib/memtest86+/memtest86+ia32.iso" ] &&
        stale "$OUT/memtest.iso" "$WORK/root/.extracted"; then
    cp "$WORK/root/usr/lib/memtest86+/memtest86+ia32.iso" "$OUT/memtest.iso.tmp"
    mv -f "$OUT/memtest.iso.tmp" "$OUT/memtest.iso"
fi

if stale "$OUT/boot.qcow2" "$OUT/memtest.bin"; then
    log "building the boot disk (syslinux on FAT16, 16 MiB)"
    cat > "$WORK/syslinux.cfg" <<CFG
PROMPT 0
TIMEOUT 0
DEFAULT memtest
LABEL memtest
  LINUX /memtest.bin
CFG
    syslinux_disk "$OUT/boot.qcow2" 16 "$WORK/syslinux.cfg" "$OUT/memtest.bin"
fi

log "ready: $OUT (memtest.bin $(size_of "$OUT/memtest.bin"), boot.qcow2 $(size_of "$OUT/boot.qcow2") bytes)"
