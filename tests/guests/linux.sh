#!/bin/sh
# The small Linux guest: Debian 12's i386 kernel (linux-image-686) and an
# initramfs of busybox-static with the modules for PIIX IDE, SCSI disks and
# CD-ROMs, ext4, iso9660 and the PC NICs; a root shell on ttyS0 (and tty1)
# after the line "MINIPC-GUEST-READY". Outputs, in $MINIPC_CACHE/linux/:
#   vmlinuz        the kernel (for -kernel)
#   initramfs.gz   the initramfs (for -initrd)
#   boot.qcow2     a disk that boots both through SeaBIOS and syslinux
#   cmdline        the kernel command line the disk uses
. "$(dirname "$0")/lib.sh"

OUT=$CACHE/linux
WORK=$CACHE/work/linux
# Modules in the order wanted; their dependencies come first. The disk
# drivers sd_mod and sr_mod load before the controllers so that devices are
# bound as soon as they are found.
MODULES="crc32c_generic ext4 isofs sd_mod sr_mod ata_piix pata_oldpiix ata_generic
         8390 ne2k-pci e1000"
CMDLINE="console=tty0 console=ttyS0,115200n8"

need_cmd dpkg-deb dpkg
need_cmd python3 python3
mkdir -p "$OUT" "$WORK"

kpkg=$(cached_deb 'linux-image-[0-9]*-686' i386)
if [ -z "$kpkg" ] || [ "$REFRESH" = 1 ]; then
    kname=$(resolve_depends linux-image-686)
    [ -n "$kname" ] || die "cannot resolve linux-image-686 to a kernel package"
    kpkg=$(fetch_deb "$kname")
    # a newer kernel has another package name: drop the older ones
    for old in "$DEBS"/linux-image-[0-9]*-686_*_i386.deb; do
        [ "$old" = "$kpkg" ] || rm -f "$old"
    done
fi
bbpkg=$(fetch_deb busybox-static)

# The unpacked kernel package is big (~190 MB): unpack it only to build,
# and drop it afterwards.
if stale "$OUT/vmlinuz" "$kpkg" ||
        stale "$OUT/initramfs.gz" "$kpkg" "$bbpkg" "$GUESTS_DIR/linux-rootfs"; then
    rm -rf "$WORK/kernel" "$WORK/busybox"
    log "extracting $(basename "$kpkg") and $(basename "$bbpkg")"
    mkdir -p "$WORK/kernel" "$WORK/busybox"
    dpkg-deb -x "$kpkg" "$WORK/kernel" || die "could not extract $kpkg"
    dpkg-deb -x "$bbpkg" "$WORK/busybox" || die "could not extract $bbpkg"
    vmlinuz=$(ls "$WORK"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
    [ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kpkg"
    log "kernel $(basename "$vmlinuz")"
    cp "$vmlinuz" "$OUT/vmlinuz.tmp" && mv -f "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"

    log "building the initramfs"
    set --
    for m in $MODULES; do set -- "$@" --module "$m"; done
    python3 "$GUESTS_DIR/guesttool.py" initramfs --kernel-root "$WORK/kernel" \
        --busybox "$WORK/busybox/bin/busybox" --overlay "$GUESTS_DIR/linux-rootfs" \
        "$@" --out "$OUT/initramfs.gz" || die "initramfs build failed"
    rm -rf "$WORK/kernel" "$WORK/busybox"
fi

if stale "$OUT/boot.qcow2" "$OUT/vmlinuz" "$OUT/initramfs.gz"; then
    log "building the boot disk (syslinux on FAT16, 32 MiB)"
    cat > "$WORK/syslinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT linux
LABEL linux
  LINUX /vmlinuz
  INITRD /initramfs.gz
  APPEND $CMDLINE
CFG
    syslinux_disk "$OUT/boot.qcow2" 32 "$WORK/syslinux.cfg" "$OUT/vmlinuz" "$OUT/initramfs.gz"
fi
write_if_changed "$OUT/cmdline" "$CMDLINE"

log "ready: $OUT (vmlinuz $(size_of "$OUT/vmlinuz"), initramfs.gz $(size_of "$OUT/initramfs.gz"), boot.qcow2 $(size_of "$OUT/boot.qcow2") bytes)"
