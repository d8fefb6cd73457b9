#!/usr/bin/env python3
"""Helpers for the guest-image scripts that need no root and no mounts.

  guesttool.py mbr-disk --mbr mbr.bin --part part.img --start 2048 \
        --type 0x0e --out disk.img
      A disk image: boot code from mbr.bin, an MBR partition table with one
      active partition holding part.img at sector --start.

  guesttool.py initramfs --kernel-root DIR --busybox FILE --overlay DIR \
        --module NAME... --out initramfs.gz
      A gzip-compressed "newc" cpio archive: busybox, the overlay tree (the
      init scripts), /dev/console, and the named kernel modules of the
      kernel unpacked in DIR together with everything they depend on (the
      "depends=" and "softdep=" fields of each module's .modinfo section,
      the same data depmod turns into modules.dep). Writes modules.dep and
      /etc/modules (load order) into the archive.

  guesttool.py modules --kernel-root DIR --module NAME...
      Prints the load order that initramfs would use.

  guesttool.py data-tree --dir DIR --label TEXT [--random-mib N]
      Fills DIR with the test data of a data disk or CD: hello.txt,
      random.bin (N MiB of deterministic pseudo-random bytes) and MD5SUMS,
      which `md5sum -c MD5SUMS` checks inside the guest.
"""
import argparse
import fnmatch
import gzip
import hashlib
import io
import lzma
import os
import stat
import struct
import sys


def die(msg):
    sys.stderr.write("guesttool: error: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------- MBR disk

def chs(lba, heads=255, sectors=63):
    """CHS triple of an LBA as stored in a partition entry (3 bytes)."""
    cyl = lba // (heads * sectors)
    if cyl > 1023:
        return bytes([254, 0xFF, 0xFF])
    head = (lba // sectors) % heads
    sec = lba % sectors + 1
    return bytes([head, ((cyl >> 2) & 0xC0) | sec, cyl & 0xFF])


def cmd_mbr_disk(args):
    with open(args.mbr, "rb") as f:
        code = f.read()
    if len(code) > 440:
        die("%s: boot code is %d bytes, at most 440 fit" % (args.mbr, len(code)))
    part_size = os.path.getsize(args.part)
    if part_size % 512:
        die("%s: size %d is not a multiple of 512" % (args.part, part_size))
    nsec = part_size // 512
    start = args.start
    entry = (bytes([0x80]) + chs(start) + bytes([args.type]) +
             chs(start + nsec - 1) + struct.pack("<II", start, nsec))
    mbr = bytearray(512)
    mbr[:len(code)] = code
    mbr[440:444] = struct.pack("<I", 0x4D504321)  # disk signature "!CPM"
    mbr[446:462] = entry
    mbr[510:512] = b"\x55\xaa"
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as out, open(args.part, "rb") as part:
        out.write(mbr)
        out.write(bytes(start * 512 - 512))
        while True:
            buf = part.read(1 << 20)
            if not buf:
                break
            out.write(buf)
    os.replace(tmp, args.out)


# ----------------------------------------------------------- kernel modules

def elf_section(data, wanted):
    """Contents of the section named `wanted` of an ELF file, or None."""
    if data[:4] != b"\x7fELF":
        return None
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)

    def sect(i):
        base = shoff + i * shentsize
        if is64:
            name, _typ, _fl, _addr, off, size = struct.unpack_from(end + "IIQQQQ", data, base)
        else:
            name, _typ, _fl, _addr, off, size = struct.unpack_from(end + "IIIIII", data, base)
        return name, off, size

    if shoff == 0 or shstrndx >= shnum or shoff + shnum * shentsize > len(data):
        return None
    _, stroff, strsize = sect(shstrndx)
    names = data[stroff:stroff + strsize]
    for i in range(shnum):
        nameoff, off, size = sect(i)
        nend = names.find(b"\0", nameoff)
        if names[nameoff:nend].decode("latin-1") == wanted:
            return data[off:off + size]
    return None


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    return data


def modinfo(data):
    """The key=value pairs of a module's .modinfo section (list of pairs)."""
    sec = elf_section(data, ".modinfo")
    if sec is None:
        return []
    out = []
    for item in sec.split(b"\0"):
        if b"=" in item:
            k, v = item.decode("latin-1").split("=", 1)
            out.append((k, v))
    return out


def norm(name):
    return name.replace("-", "_")


class ModuleIndex:
    def __init__(self, kernel_root):
        mods = os.path.join(kernel_root, "lib", "modules")
        if not os.path.isdir(mods):
            die("%s: no lib/modules directory (is this an unpacked linux-image package?)" % kernel_root)
        versions = sorted(os.listdir(mods))
        if len(versions) != 1:
            die("%s: expected one kernel version, found %s" % (mods, versions))
        self.version = versions[0]
        self.base = os.path.join(mods, self.version)
        self.paths = {}   # normalized name -> relative path
        for dirpath, _dirs, files in os.walk(self.base):
            for fn in files:
                for ext in (".ko", ".ko.xz"):
                    if fn.endswith(ext):
                        rel = os.path.relpath(os.path.join(dirpath, fn), self.base)
                        self.paths[norm(fn[:-len(ext)])] = rel
        if not self.paths:
            die("%s: no kernel modules found" % self.base)
        self.info = {}
        self.aliases = None
        builtin = os.path.join(self.base, "modules.builtin")
        self.builtin = set()
        if os.path.exists(builtin):
            with open(builtin) as f:
                for line in f:
                    fn = os.path.basename(line.strip())
                    if fn.endswith(".ko"):
                        self.builtin.add(norm(fn[:-3]))

    def data(self, name):
        return read_module(os.path.join(self.base, self.paths[name]))

    def modinfo(self, name):
        if name not in self.info:
            self.info[name] = modinfo(self.data(name))
        return self.info[name]

    def resolve(self, name):
        """Module name for a name or alias (as modprobe would), or None."""
        n = norm(name)
        if n in self.paths:
            return n
        if self.aliases is None:
            self.aliases = []
            for mod in sorted(self.paths):
                for k, v in self.modinfo(mod):
                    if k == "alias":
                        self.aliases.append((v, mod))
        matches = sorted({mod for pat, mod in self.aliases if fnmatch.fnmatchcase(name, pat)})
        if not matches:
            return None
        # Several implementations of one algorithm (crc32c_generic and
        # crc32c_intel): the generic one works on every CPU.
        generic = [m for m in matches if m.endswith("_generic")]
        return (generic or matches)[0]

    def deps(self, name):
        hard, pre = [], []
        for k, v in self.modinfo(name):
            if k == "depends" and v:
                hard += [norm(d) for d in v.split(",") if d]
            elif k == "softdep":
                mode = None
                for word in v.split():
                    if word in ("pre:", "post:"):
                        mode = word
                    elif mode == "pre:":
                        pre.append(word)
        return hard, pre

    def load_order(self, wanted):
        order, state = [], {}

        def visit(name, why):
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                die("module dependency loop through %s" % name)
            state[name] = "visiting"
            hard, pre = self.deps(name)
            for d in hard:
                if d not in self.paths:
                    die("module %s depends on %s, which is not in the kernel package" % (name, d))
                visit(d, name)
            for s in pre:
                r = self.resolve(s)
                if r is None:
                    sys.stderr.write("guesttool: note: soft dependency %s of %s not found, skipped\n" % (s, name))
                elif r != name:
                    visit(r, name)
            state[name] = "done"
            order.append(name)

        for w in wanted:
            n = norm(w)
            if n not in self.paths:
                if n in self.builtin:
                    sys.stderr.write("guesttool: note: %s is built into the kernel\n" % w)
                    continue
                r = self.resolve(w)
                if r is None:
                    die("kernel module %s not found in %s" % (w, self.base))
                n = r
            visit(n, None)
        return order


# ----------------------------------------------------------------- cpio

class Cpio:
    """Writer of the "newc" cpio format the kernel unpacks as initramfs."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name = name.lstrip("/")
        if name in self.names:
            die("duplicate cpio entry %s" % name)
        self.names.add(name)
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        self.ino += 1
        self.buf.write(hdr.encode() + nb)
        self.buf.write(bytes(-(110 + len(nb)) % 4))
        self.buf.write(data)
        self.buf.write(bytes(-len(data) % 4))

    def dir(self, name, perm=0o755):
        # parents first, once
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p not in self.names:
                self._entry(p, stat.S_IFDIR | perm, nlink=2)

    def file(self, name, data, perm=0o644):
        parent = os.path.dirname(name.strip("/"))
        if parent:
            self.dir(parent)
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, perm=0o600):
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0, nlink=1)
        return self.buf.getvalue()


def cmd_modules(args):
    idx = ModuleIndex(args.kernel_root)
    for m in idx.load_order(args.module):
        print(idx.paths[m])


def cmd_initramfs(args):
    idx = ModuleIndex(args.kernel_root)
    order = idx.load_order(args.module)
    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp",
              "mnt", "root", "run", "etc", "var/log"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    with open(args.busybox, "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.symlink("sbin/init", "../bin/busybox")
    # the overlay: init scripts and configuration
    for dirpath, dirs, files in os.walk(args.overlay):
        dirs.sort()
        rel = os.path.relpath(dirpath, args.overlay)
        if rel != ".":
            c.dir(rel)
        for fn in sorted(files):
            path = os.path.join(dirpath, fn)
            name = os.path.normpath(os.path.join(rel, fn))
            perm = 0o755 if os.access(path, os.X_OK) else 0o644
            with open(path, "rb") as f:
                c.file(name, f.read(), perm)
    # modules, uncompressed, with a modules.dep that busybox modprobe reads
    mdir = "lib/modules/" + idx.version
    c.dir(mdir)
    dep_lines = []
    for m in order:
        rel = idx.paths[m]
        if rel.endswith(".xz"):
            rel = rel[:-3]
        c.file(mdir + "/" + rel, idx.data(m))
        hard, _ = idx.deps(m)
        dep_lines.append("%s: %s" % (rel, " ".join(idx.paths[d].replace(".ko.xz", ".ko") for d in hard)))
    c.file(mdir + "/modules.dep", ("\n".join(dep_lines) + "\n").encode())
    c.file("etc/modules", ("".join("%s/%s\n" % (idx.version, idx.paths[m].replace(".ko.xz", ".ko"))
                                   for m in order)).encode())
    c.file("etc/minipc-guest", ("kernel=%s\nmodules=%s\n" % (idx.version, " ".join(order))).encode())
    # every program the inittab names must be in the archive (a file
    # missing from the overlay would otherwise show only at boot)
    inittab = os.path.join(args.overlay, "etc", "inittab")
    if os.path.exists(inittab):
        with open(inittab) as f:
            for line in f:
                fields = line.strip().split(":", 3)
                if line.startswith("#") or len(fields) != 4:
                    continue
                prog = fields[3].split()[0].lstrip("-")
                if prog.startswith("/") and prog.lstrip("/") not in c.names and \
                        not prog.startswith(("/bin/", "/sbin/", "/usr/")):
                    die("%s runs %s, which is not in the initramfs" % (inittab, prog))
    raw = c.finish()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        # mtime 0: the same inputs give the same bytes
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0) as gz:
            gz.write(raw)
    os.replace(tmp, args.out)
    sys.stderr.write("guesttool: initramfs %s: kernel %s, %d modules, %d bytes (%d unpacked)\n"
                     % (args.out, idx.version, len(order), os.path.getsize(args.out), len(raw)))


# ---------------------------------------------------------------- data

def cmd_data_tree(args):
    os.makedirs(args.dir, exist_ok=True)
    files = {"hello.txt": ("Hello from the minipc %s\n" % args.label).encode()}
    # sha256 in counter mode: the same bytes on every machine, no repeats
    # that a broken DMA or cache could hide behind
    out = bytearray()
    seed = args.label.encode()
    n = 0
    while len(out) < args.random_mib << 20:
        out += hashlib.sha256(seed + struct.pack("<Q", n)).digest()
        n += 1
    files["random.bin"] = bytes(out)
    sums = ""
    for name in sorted(files):
        with open(os.path.join(args.dir, name), "wb") as f:
            f.write(files[name])
        sums += "%s  %s\n" % (hashlib.md5(files[name]).hexdigest(), name)
    with open(os.path.join(args.dir, "MD5SUMS"), "w") as f:
        f.write(sums)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("mbr-disk")
    p.add_argument("--mbr", required=True)
    p.add_argument("--part", required=True)
    p.add_argument("--start", type=int, default=2048)
    p.add_argument("--type", type=lambda s: int(s, 0), default=0x0E)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_mbr_disk)
    for name, fn in (("initramfs", cmd_initramfs), ("modules", cmd_modules)):
        p = sub.add_parser(name)
        p.add_argument("--kernel-root", required=True)
        p.add_argument("--module", action="append", default=[])
        if name == "initramfs":
            p.add_argument("--busybox", required=True)
            p.add_argument("--overlay", required=True)
            p.add_argument("--out", required=True)
        p.set_defaults(fn=fn)
    p = sub.add_parser("data-tree")
    p.add_argument("--dir", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--random-mib", type=int, default=4)
    p.set_defaults(fn=cmd_data_tree)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
