#!/bin/sh
# The Debian 12 i386 installer (text frontend of the netboot images in the
# debian-installer-12-netboot-i386 package). Outputs, in
# $MINIPC_CACHE/installer/:
#   linux          the installer kernel (for -kernel)
#   initrd.gz      its initrd (for -initrd)
#   boot.qcow2     a disk that boots them through SeaBIOS and syslinux
#   cmdline        the kernel command line the disk uses
# With console=ttyS0 the installer asks "Choose the language" on the
# serial port (use -m 512).
. "$(dirname "$0")/lib.sh"

OUT=$CACHE/installer
WORK=$CACHE/work/installer
IMAGES=usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
CMDLINE="console=tty0 console=ttyS0,115200n8"

need_cmd dpkg-deb dpkg
mkdir -p "$OUT" "$WORK"

deb=$(fetch_deb debian-installer-12-netboot-i386)
if stale "$OUT/linux" "$deb" || stale "$OUT/initrd.gz" "$deb"; then
    # only the two files we need, not the whole 100 MB package
    log "extracting linux and initrd.gz from $(basename "$deb")"
    rm -rf "$WORK/root"
    mkdir -p "$WORK/root"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -x -C "$WORK/root" "./$IMAGES/linux" "./$IMAGES/initrd.gz" ||
        die "could not extract the installer from $deb"
    for f in linux initrd.gz; do
        mv -f "$WORK/root/$IMAGES/$f" "$OUT/$f"
        touch "$OUT/$f"     # newer than the .deb it comes from
    done
    rm -rf "$WORK/root"
fi

if stale "$OUT/boot.qcow2" "$OUT/linux" "$OUT/initrd.gz"; then
    log "building the boot disk (syslinux on FAT16, 64 MiB)"
    cat > "$WORK/syslinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT install
LABEL install
  LINUX /linux
  INITRD /initrd.gz
  APPEND $CMDLINE ---
CFG
    syslinux_disk "$OUT/boot.qcow2" 64 "$WORK/syslinux.cfg" "$OUT/linux" "$OUT/initrd.gz"
fi
write_if_changed "$OUT/cmdline" "$CMDLINE"

log "ready: $OUT (linux $(size_of "$OUT/linux"), initrd.gz $(size_of "$OUT/initrd.gz"), boot.qcow2 $(size_of "$OUT/boot.qcow2") bytes)"
