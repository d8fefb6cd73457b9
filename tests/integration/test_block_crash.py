"""Crash safety: a writer killed with SIGKILL at any point leaves an image
that opens, that qemu-img finds free of corruption (leaked clusters are
allowed), whose snapshots read back exactly, and whose disk holds either
the old or the new data of the interrupted operation.

minipc-img is stopped before its N-th modifying host I/O
(MINIPC_CRASH_AFTER_IOS=N, see block/file-posix.c) for every N an
operation has; a few more runs are killed asynchronously at random
moments."""
import concurrent.futures
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import time
import unittest

from blocktest import BlockTestCase, mimg, qimg, qio, run, MINIPC_IMG, QEMU_IMG

SIZE = 4 << 20
# Trials are independent processes: run two at a time (CI has two cores).
WORKERS = 2


class Workload:
    """A fixed sequence of minipc-img commands and the states between them."""

    def __init__(self, test, image_opts, steps):
        self.t = test
        self.steps = steps
        self.states = []     # image file before each step (and after the last)
        self.contents = []   # active disk bytes in each state
        self.snaps = []      # {name: bytes} in each state
        base = test.path("state0.qcow2")
        test.assertOk(mimg("create", "-q", "-f", "qcow2", *image_opts, base, SIZE))
        qio(base, "write -P 17 0 1M", "write -P 18 2M 512k", "write -P 19 3M 1M")
        self.record(base)
        for i, args in enumerate(steps):
            nxt = test.path("state%d.qcow2" % (i + 1))
            shutil.copy(self.states[-1], nxt)
            test.assertOk(mimg(*self.args(args, nxt)))
            self.record(nxt)

    @staticmethod
    def args(step, image):
        return [a if a != "IMG" else image for a in step]

    def record(self, path):
        self.states.append(path)
        self.contents.append(self.read(path))
        self.snaps.append({n: self.read(path, n) for n in self.list_snapshots(path)})

    def read(self, path, snapshot=None):
        out = path + ".raw"
        extra = ["-l", snapshot] if snapshot else []
        r = run([QEMU_IMG, "convert", "-U"] + extra + ["-O", "raw", path, out])
        self.t.assertEqual(r.rc, 0, "reading %s (snapshot %s): %r" % (path, snapshot, r))
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
        return data

    def list_snapshots(self, path):
        r = qimg("info", "-U", "--output=json", path)
        self.t.assertEqual(r.rc, 0, repr(r))
        return [sn["name"] for sn in json.loads(r.out).get("snapshots", [])]

    @staticmethod
    def dirty(path):
        with open(path, "rb") as f:
            f.seek(72)
            return bool(struct.unpack(">Q", f.read(8))[0] & 1)

    @staticmethod
    def same_disk(data, expected):
        """Equal, allowing for a disk grown since (the tail reads as zero)."""
        n = min(len(data), len(expected))
        return (data[:n] == expected[:n] and not any(data[n:]) and
                not any(expected[n:]))

    def verify_after_crash(self, path, i, what):
        """State i-1 was being turned into state i when the writer died."""
        t = self.t
        if not self.dirty(path):
            # Without the dirty bit qemu-img must find it consistent as is.
            rc_before, before = t.qemu_check(path)
            t.assertEqual(before.get("corruptions", 0), 0,
                          "%s: qemu-img check before reopening: %r" % (what, before))
        # What an emulator restart does: open read-write (repairs if dirty).
        t.assertOk(mimg("resize", path, "+0"), "%s: reopen" % what)
        res = t.assertQemuClean(path, allow_leaks=True)
        t.assertEqual(res.get("check-errors", 0), 0)

        old, new = self.snaps[i - 1], self.snaps[i]
        now = {n: self.read(path, n) for n in self.list_snapshots(path)}
        for name, data in old.items():
            if name in new:  # not being deleted: must be intact
                t.assertIn(name, now, "%s: snapshot %s lost" % (what, name))
        for name, data in now.items():
            expected = old.get(name, new.get(name))
            t.assertIsNotNone(expected, "%s: unexpected snapshot %s" % (what, name))
            t.assertTrue(self.same_disk(data, expected),
                         "%s: snapshot %s differs" % (what, name))
        active = self.read(path)
        a, b = self.contents[i - 1], self.contents[i]
        if not self.same_disk(active, a) and not self.same_disk(active, b):
            # Interrupted writes: each sector old or new.
            t.assertEqual(len(active), len(a))
            for off in range(0, len(a), 512):
                sec = active[off:off + 512]
                t.assertTrue(sec == a[off:off + 512] or sec == b[off:off + 512],
                             "%s: sector at %d is neither old nor new" % (what, off))


class CrashPoints(BlockTestCase):
    STEPS = [
        ["bench", "-w", "-q", "-c", "24", "-s", "4k", "-S", "200k", "--pattern=1", "IMG"],
        ["snapshot", "-c", "A", "IMG"],
        ["bench", "-w", "-q", "-c", "16", "-s", "6k", "-S", "300k", "--pattern=2", "IMG"],
        ["snapshot", "-c", "B", "IMG"],
        ["bench", "-w", "-q", "-c", "12", "-s", "64k", "-o", "1M", "-S", "448k",
         "--pattern=3", "IMG"],
        ["snapshot", "-d", "A", "IMG"],
        ["snapshot", "-a", "B", "IMG"],
        ["snapshot", "-c", "C", "IMG"],
        ["snapshot", "-d", "B", "IMG"],
        ["resize", "IMG", "+2M"],
    ]

    def kill_run(self, w, i, k, name):
        """Runs step i on a copy of its start state, killed before I/O k.
        Returns the image path if it was killed, None if it completed."""
        trial = self.path(name)
        shutil.copy(w.states[i - 1], trial)
        r = mimg(*w.args(w.steps[i - 1], trial), env={"MINIPC_CRASH_AFTER_IOS": str(k)})
        if r.rc == 0:
            os.unlink(trial)
            return None
        self.assertEqual(r.rc, -signal.SIGKILL, "step %r: %r" % (w.steps[i - 1], r))
        return trial

    def count_points(self, w, i):
        """Number of kill points of step i (its modifying I/Os)."""
        lo, hi = 0, 1  # killed at lo (or lo == 0), completed at hi?
        while self.kill_run(w, i, hi, "probe.qcow2"):
            lo, hi = hi, hi * 2
            self.assertLess(hi, 1 << 16, "step %r never completes" % w.steps[i - 1])
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.kill_run(w, i, mid, "probe.qcow2"):
                lo = mid
            else:
                hi = mid
        return lo

    def crash_every_point(self, image_opts, steps, write_stride=3):
        """Kills each step at every point (writes: every write_stride-th)."""
        w = Workload(self, image_opts, steps)
        trials = []
        for i, step in enumerate(steps, start=1):
            n = self.count_points(w, i)
            stride = write_stride if step[0] == "bench" else 1
            ks = list(range(1, n + 1, stride))
            if ks and ks[-1] != n:
                ks.append(n)
            trials += [(i, k) for k in ks]

        def trial(i, k):
            name = "trial-%d-%d.qcow2" % (i, k)
            path = self.kill_run(w, i, k, name)
            self.assertIsNotNone(path, "step %d completed before kill point %d" % (i, k))
            w.verify_after_crash(path, i, "step %d %s, kill point %d" % (i, steps[i - 1][:2], k))
            os.unlink(path)

        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            for f in [pool.submit(trial, i, k) for i, k in trials]:
                f.result()
        return len(trials)

    def test_v3_default(self):
        points = self.crash_every_point([], self.STEPS)
        self.assertGreaterEqual(points, 150)
        print("%d kill points" % points)

    def test_v3_small_clusters_lazy_refcounts(self):
        steps = [
            ["bench", "-w", "-q", "-c", "20", "-s", "3k", "-S", "333k", "--pattern=5", "IMG"],
            ["snapshot", "-c", "X", "IMG"],
            ["bench", "-w", "-q", "-c", "10", "-s", "1k", "-S", "511k", "--pattern=6", "IMG"],
            ["snapshot", "-d", "X", "IMG"],
        ]
        points = self.crash_every_point(["-o", "cluster_size=1k,lazy_refcounts=on"], steps)
        self.assertGreaterEqual(points, 50)
        print("%d kill points" % points)


class RandomKills(BlockTestCase):
    def test_kill_during_long_writes(self):
        """SIGKILL from outside, at random moments of a long write run."""
        rng = random.Random(1234)
        base = self.path("base.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", base,
                           SIZE))
        self.assertOk(mimg("snapshot", "-c", "keep", base))
        for trial in range(12):
            p = self.path("t.qcow2")
            shutil.copy(base, p)
            proc = subprocess.Popen([MINIPC_IMG, "bench", "-w", "-q", "-c", "200000", "-s",
                                     "4k", "-S", "12k", "--pattern=%d" % (trial + 1), p],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.3))
            proc.kill()
            proc.wait()
            if not Workload.dirty(p):
                rc, res = self.qemu_check(p)
                self.assertEqual(res.get("corruptions", 0), 0, repr(res))
            self.assertOk(mimg("resize", p, "+0"))
            self.assertQemuClean(p, allow_leaks=True)
            # the snapshot still reads as the empty disk it was
            r = run([QEMU_IMG, "convert", "-U", "-l", "keep", "-O", "raw", p,
                     self.path("keep.raw")])
            self.assertOk(r)
            with open(self.path("keep.raw"), "rb") as f:
                self.assertEqual(f.read(), bytes(SIZE))
            # every sector is zero or the pattern
            r = run([QEMU_IMG, "convert", "-U", "-O", "raw", p, self.path("now.raw")])
            self.assertOk(r)
            with open(self.path("now.raw"), "rb") as f:
                data = f.read()
            pat = bytes([trial + 1]) * 512
            for off in range(0, len(data), 512):
                sec = data[off:off + 512]
                self.assertTrue(sec == pat or sec == bytes(512), "sector %d" % off)


if __name__ == "__main__":
    unittest.main()
