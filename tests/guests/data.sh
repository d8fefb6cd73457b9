#!/bin/sh
# Data images for disk and CD-ROM tests. Outputs, in $MINIPC_CACHE/data/:
#   ext4.qcow2   64 MiB ext4 file system, label MINIPC-DATA, no partition
#                table, made with mke2fs -d (no mount)
#   cd.iso       ISO 9660 (Rock Ridge + Joliet), volume MINIPC_CD, bootable
#                with isolinux into the small Linux guest (console=ttyS0)
# Both hold hello.txt, random.bin and MD5SUMS (check with md5sum -c). The
# CD needs the small Linux guest (linux.sh), which it builds first.
. "$(dirname "$0")/lib.sh"

OUT=$CACHE/data
WORK=$CACHE/work/data
mkdir -p "$OUT" "$WORK"
need_cmd mke2fs e2fsprogs
need_cmd genisoimage genisoimage
need_file /usr/lib/ISOLINUX/isolinux.bin isolinux
need_file /usr/lib/syslinux/modules/bios/ldlinux.c32 syslinux-common

"$GUESTS_DIR/linux.sh"
LINUX=$CACHE/linux

if stale "$OUT/ext4.qcow2"; then
    log "building the ext4 data disk (64 MiB)"
    rm -rf "$WORK/disk"
    python3 "$GUESTS_DIR/guesttool.py" data-tree --dir "$WORK/disk" --label "data disk"
    rm -f "$WORK/ext4.img"
    mke2fs -q -t ext4 -L MINIPC-DATA -d "$WORK/disk" "$WORK/ext4.img" 64M >/dev/null ||
        die "mke2fs failed"
    to_qcow2 "$WORK/ext4.img" "$OUT/ext4.qcow2"
    rm -rf "$WORK/ext4.img" "$WORK/disk"
fi

if stale "$OUT/cd.iso" "$LINUX/vmlinuz" "$LINUX/initramfs.gz" "$LINUX/cmdline"; then
    log "building the CD-ROM image"
    rm -rf "$WORK/cd"
    python3 "$GUESTS_DIR/guesttool.py" data-tree --dir "$WORK/cd" --label "CD-ROM"
    mkdir -p "$WORK/cd/isolinux"
    cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
        "$WORK/cd/isolinux/"
    cp "$LINUX/vmlinuz" "$LINUX/initramfs.gz" "$WORK/cd/"
    cat > "$WORK/cd/isolinux/isolinux.cfg" <<CFG
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT linux
LABEL linux
  LINUX /vmlinuz
  INITRD /initramfs.gz
  APPEND $(cat "$LINUX/cmdline")
CFG
    genisoimage -quiet -R -J -V MINIPC_CD -o "$OUT/cd.iso.tmp" \
        -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table "$WORK/cd" ||
        die "genisoimage failed"
    mv -f "$OUT/cd.iso.tmp" "$OUT/cd.iso"
    rm -rf "$WORK/cd"
fi

log "ready: $OUT (ext4.qcow2 $(size_of "$OUT/ext4.qcow2"), cd.iso $(size_of "$OUT/cd.iso") bytes)"
