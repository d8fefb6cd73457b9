"""Helpers for the block-layer integration tests: running minipc-img and
the reference qemu-img side by side, scratch directories, and reading or
patching qcow2 metadata to build damaged images on purpose."""
import json
import os
import random
import shutil
import struct
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("MINIPC_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
MINIPC_IMG = os.path.join(BUILD, "minipc-img")
QEMU_IMG = shutil.which("qemu-img")
QEMU_IO = shutil.which("qemu-io")


def scratch_root():
    # tmpfs when available: image code calls fdatasync often.
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out[-2000:], self.err[-2000:])


def run(args, env=None, input=None):
    e = dict(os.environ)
    e.setdefault("TZ", "UTC")
    if env:
        e.update(env)
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", env=e, input=input)
    return Result(proc)


def mimg(*args, env=None):
    return run([MINIPC_IMG] + [str(a) for a in args], env=env)


def qimg(*args):
    return run([QEMU_IMG] + [str(a) for a in args])


def qio(path, *cmds, fmt="qcow2"):
    args = [QEMU_IO, "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    r = run(args + [path])
    if r.rc != 0 or "error" in r.out.lower() or "failed" in r.out.lower():
        raise AssertionError("qemu-io %s: %r" % (cmds, r))
    return r


def strip_prog(text):
    """Error lines without the program name ('qemu-img: ' / 'minipc-img: ')."""
    out = []
    for line in text.splitlines():
        for p in ("qemu-img: ", "minipc-img: "):
            if line.startswith(p):
                line = line[len(p):]
        out.append(line)
    return "\n".join(out)


class BlockTestCase(unittest.TestCase):
    """Scratch directory per test; skips when qemu-img is missing."""

    def setUp(self):
        if not os.path.exists(MINIPC_IMG):
            self.fail("minipc-img not built at %s" % MINIPC_IMG)
        if not QEMU_IMG:
            self.skipTest("qemu-img not installed (Debian package qemu-utils)")
        self.dir = tempfile.mkdtemp(prefix="minipc-blk-", dir=scratch_root())
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertOk(self, r, msg=None):
        self.assertEqual(r.rc, 0, msg or repr(r))
        return r

    def qemu_check(self, path, fmt="qcow2"):
        r = qimg("check", "-U", "-f", fmt, "--output=json", path)
        self.assertIn(r.rc, (0, 2, 3), repr(r))
        return r.rc, r.json()

    def assertQemuClean(self, path, allow_leaks=False):
        rc, res = self.qemu_check(path)
        self.assertEqual(res.get("corruptions", 0), 0, "qemu-img check: %r" % res)
        self.assertEqual(res.get("check-errors", 0), 0, "qemu-img check: %r" % res)
        if not allow_leaks:
            self.assertEqual(res.get("leaks", 0), 0, "qemu-img check: %r" % res)
        return res

    def assertSameContent(self, a, b, fmt_a="qcow2", fmt_b="raw"):
        r = qimg("compare", "-U", "-f", fmt_a, "-F", fmt_b, a, b)
        self.assertEqual(r.rc, 0, "qemu-img compare %s %s: %r" % (a, b, r))

    def to_raw(self, tool, src, dst, *extra):
        r = run([tool, "convert"] + list(extra) + ["-O", "raw", src, dst])
        self.assertEqual(r.rc, 0, "%s convert: %r" % (tool, r))
        with open(dst, "rb") as f:
            return f.read()


def write_random_raw(path, size, seed, fraction=0.5, chunk=65536):
    """A raw file with random data in about 'fraction' of its chunks."""
    rng = random.Random(seed)
    with open(path, "wb") as f:
        f.truncate(size)
        for off in range(0, size, chunk):
            if rng.random() < fraction:
                f.seek(off)
                n = min(chunk, size - off)
                f.write(bytes(rng.getrandbits(8) for _ in range(min(n, 512))) * (n // 512) +
                        b"\xab" * (n % 512))


class Qcow2:
    """Just enough of the format to find and damage metadata."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            h = f.read(104)
        (magic, self.version, self.backing_offset, self.backing_size, self.cluster_bits,
         self.size, crypt, self.l1_size, self.l1_offset, self.rt_offset, self.rt_clusters,
         self.nb_snapshots, self.snapshots_offset) = struct.unpack(">IIQIIQIIQQIIQ", h[:72])
        self.cluster_size = 1 << self.cluster_bits
        self.refcount_order = struct.unpack(">I", h[96:100])[0] if self.version >= 3 else 4

    def read(self, off, n):
        with open(self.path, "rb") as f:
            f.seek(off)
            return f.read(n)

    def write(self, off, data):
        with open(self.path, "r+b") as f:
            f.seek(off)
            f.write(data)

    def be64(self, off):
        return struct.unpack(">Q", self.read(off, 8))[0]

    def put_be64(self, off, v):
        self.write(off, struct.pack(">Q", v))

    def l1_entry(self, i):
        return self.be64(self.l1_offset + 8 * i)

    def l2_offset(self, i):
        return self.l1_entry(i) & 0x00fffffffffffe00

    def l2_entry_offset(self, guest_offset):
        l2_entries = self.cluster_size // 8
        cl = guest_offset // self.cluster_size
        return self.l2_offset(cl // l2_entries) + 8 * (cl % l2_entries)

    def refblock_offset(self, rt_index=0):
        return self.be64(self.rt_offset + 8 * rt_index) & ~0x1ff

    def set_refcount(self, cluster, value):
        assert self.refcount_order == 4
        per_block = self.cluster_size * 8 // 16
        blk = self.refblock_offset(cluster // per_block)
        self.write(blk + 2 * (cluster % per_block), struct.pack(">H", value))

    def get_refcount(self, cluster):
        assert self.refcount_order == 4
        per_block = self.cluster_size * 8 // 16
        blk = self.refblock_offset(cluster // per_block)
        return struct.unpack(">H", self.read(blk + 2 * (cluster % per_block), 2))[0]
