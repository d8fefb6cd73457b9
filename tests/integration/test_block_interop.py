"""minipc-img against the real qemu-img: images each one makes are read,
checked and listed identically by the other, and the command-line
behaviour (output, exit codes) matches."""
import json
import os
import random
import shutil
import unittest

from blocktest import (BlockTestCase, Qcow2, mimg, qimg, qio, run, strip_prog,
                       write_random_raw, MINIPC_IMG, QEMU_IMG)


def info_json(tool, path):
    r = run([tool, "info", "-U", "--output=json", path])
    assert r.rc == 0, repr(r)
    d = json.loads(r.out)
    d.pop("actual-size", None)
    return d


class CreateAndInfo(BlockTestCase):
    OPTION_SETS = [
        [],
        ["-o", "compat=0.10"],
        ["-o", "cluster_size=512"],
        ["-o", "cluster_size=4k,refcount_bits=1"],
        ["-o", "cluster_size=2M,refcount_bits=64"],
        ["-o", "lazy_refcounts=on,refcount_bits=8"],
        ["-o", "compat=1.1,cluster_size=16384"],
    ]

    def test_create_matches_qemu(self):
        for opts in self.OPTION_SETS:
            with self.subTest(opts=opts):
                ours, theirs = self.path("ours.qcow2"), self.path("theirs.qcow2")
                a = mimg("create", "-f", "qcow2", *opts, ours, "3G")
                b = qimg("create", "-f", "qcow2", *opts, theirs, "3G")
                self.assertOk(a)
                self.assertOk(b)
                self.assertEqual(a.out.replace(ours, "X"), b.out.replace(theirs, "X"))
                self.assertQemuClean(ours)
                ia, ib = info_json(QEMU_IMG, ours), info_json(QEMU_IMG, theirs)
                ia["filename"] = ib["filename"] = "X"
                self.assertEqual(ia, ib)
                # and our info says what qemu-img says about our image
                mine = info_json(MINIPC_IMG, ours)
                mine["filename"] = "X"
                self.assertEqual(mine, ia)

    def test_info_human_output(self):
        p = self.path("h.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", p, "1G"))
        qio(p, "write -P 7 0 3M", "write -P 9 100M 64k")
        self.assertOk(qimg("snapshot", "-c", "snap one", p))
        self.assertOk(qimg("snapshot", "-c", "two", p))
        base = self.path("base.raw")
        self.assertOk(qimg("create", "-q", "-f", "raw", base, "1G"))
        top = self.path("top.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", top))
        v2 = self.path("v2.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", "-o", "compat=0.10", v2, "12345k"))
        for img in (p, top, v2, base):
            with self.subTest(img=os.path.basename(img)):
                a, b = mimg("info", img), qimg("info", "-U", img)
                self.assertOk(a)
                self.assertEqual(a.out, b.out)
                self.assertEqual(info_json(MINIPC_IMG, img), info_json(QEMU_IMG, img))
        a = mimg("info", "--backing-chain", top)
        b = qimg("info", "-U", "--backing-chain", top)
        self.assertEqual(a.out, b.out)

    def test_create_errors(self):
        p = self.path("e.qcow2")
        cases = [
            ["create", "-f", "qcow2", p],
            ["create", "-f", "qcow2", "-o", "cluster_size=1000", p, "1M"],
            ["create", "-f", "qcow2", "-o", "compat=0.10,refcount_bits=8", p, "1M"],
            ["create", "-f", "qcow2", "-o", "compat=0.10,lazy_refcounts=on", p, "1M"],
            ["create", "-f", "foo", p, "1M"],
            ["info", self.path("missing.qcow2")],
        ]
        for args in cases:
            with self.subTest(args=args):
                a, b = mimg(*args), qimg(*args)
                self.assertEqual(a.rc, b.rc, "%r vs %r" % (a, b))
                self.assertNotEqual(a.rc, 0)
                self.assertTrue(a.err.strip(), "no error message")

    def test_backing_needs_format(self):
        base = self.path("b.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", base, "4M"))
        a = mimg("create", "-f", "qcow2", "-b", base, self.path("t.qcow2"))
        b = qimg("create", "-f", "qcow2", "-b", base, self.path("t2.qcow2"))
        self.assertEqual(a.rc, 1)
        self.assertEqual(b.rc, 1)
        self.assertEqual(strip_prog(a.err).replace(self.path("t.qcow2"), "X"),
                         strip_prog(b.err).replace(self.path("t2.qcow2"), "X"))


class SnapshotsInterop(BlockTestCase):
    def test_list_matches(self):
        p = self.path("s.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", p, "64M"))
        qio(p, "write -P 1 0 1M")
        for name in ("first", "second one", "x" * 40):
            self.assertOk(mimg("snapshot", "-c", name, p))
        qio(p, "write -P 2 512k 1M")
        self.assertOk(qimg("snapshot", "-c", "by-qemu", p))
        self.assertOk(mimg("snapshot", "-d", "second one", p))
        self.assertOk(mimg("snapshot", "-c", "after-delete", p))
        a, b = mimg("snapshot", "-l", p), qimg("snapshot", "-U", "-l", p)
        self.assertOk(a)
        self.assertEqual(a.out, b.out)
        # ids are max+1: 1, 3, 4 (qemu's), 5
        ids = [l.split()[0] for l in a.out.splitlines()[2:]]
        self.assertEqual(ids, ["1", "3", "4", "5"])
        self.assertQemuClean(p)

    def test_goto_and_delete_with_qemu_reads(self):
        p = self.path("g.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", "-o", "cluster_size=4k", p, "32M"))
        qio(p, "write -P 1 0 2M", "write -P 3 8M 100k")
        self.assertOk(mimg("snapshot", "-c", "one", p))
        qio(p, "write -P 2 1M 2M", "write -z 8M 64k")
        self.assertOk(mimg("snapshot", "-c", "two", p))
        qio(p, "write -P 4 0 4k")
        self.assertOk(mimg("snapshot", "-a", "one", p))
        self.assertQemuClean(p)
        qio(p, "read -P 1 0 2M", "read -P 0 2M 1M", "read -P 3 8M 100k")
        self.assertOk(mimg("snapshot", "-a", "2", p))
        qio(p, "read -P 1 0 1M", "read -P 2 1M 2M", "read -P 0 8M 64k")
        self.assertOk(mimg("snapshot", "-d", "one", p))
        self.assertQemuClean(p)
        self.assertOk(mimg("snapshot", "-d", "two", p))
        self.assertQemuClean(p)
        qio(p, "read -P 1 0 1M", "read -P 2 1M 2M")
        # and qemu-img's own operations on our image
        self.assertOk(qimg("snapshot", "-c", "q", p))
        self.assertOk(mimg("snapshot", "-a", "q", p))
        self.assertOk(qimg("snapshot", "-d", "q", p))
        self.assertQemuClean(p)
        self.assertOk(mimg("check", p))

    def test_snapshot_errors(self):
        p = self.path("e.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", p, "1M"))
        for args in (["-a", "nope"], ["-d", "nope"]):
            a, b = mimg("snapshot", *args, p), qimg("snapshot", *args, p)
            self.assertEqual(a.rc, b.rc)
            self.assertEqual(a.rc, 1)
        r = self.path("r.raw")
        self.assertOk(qimg("create", "-q", "-f", "raw", r, "1M"))
        self.assertEqual(mimg("snapshot", "-c", "x", r).rc, 1)
        self.assertEqual(mimg("snapshot", "-l", r).rc, 0)


class ReadQemuImages(BlockTestCase):
    """Images written by qemu-img/qemu-io read back identically."""

    def build_image(self, path, opts, seed):
        self.assertOk(qimg("create", "-q", "-f", "qcow2", *opts, path, "24M"))
        rng = random.Random(seed)
        cmds = []
        for _ in range(25):
            off = rng.randrange(0, 24 << 20)
            n = min(rng.randrange(1, 400000), (24 << 20) - off)
            off, n = off // 512 * 512, max(512, n // 512 * 512)
            if off + n > 24 << 20:
                n = (24 << 20) - off
            if rng.random() < 0.2:
                cmds.append("write -z %d %d" % (off, n))
            else:
                cmds.append("write -P %d %d %d" % (rng.randrange(1, 255), off, n))
        qio(path, *cmds)

    def test_cluster_sizes_and_versions(self):
        for compat in ("0.10", "1.1"):
            for cs in ("512", "4k", "64k", "2M"):
                with self.subTest(compat=compat, cluster_size=cs):
                    p = self.path("q.qcow2")
                    self.build_image(p, ["-o", "compat=%s,cluster_size=%s" % (compat, cs)],
                                     hash((compat, cs)))
                    theirs = self.to_raw(QEMU_IMG, p, self.path("theirs.raw"))
                    ours = self.to_raw(MINIPC_IMG, p, self.path("ours.raw"))
                    self.assertTrue(theirs == ours, "content differs")
                    self.assertOk(mimg("compare", p, self.path("theirs.raw")))
                    a = mimg("check", "--output=json", p)
                    b = qimg("check", "--output=json", p)
                    self.assertEqual((a.rc, a.json()), (b.rc, b.json()))
                    a, b = mimg("map", "--output=json", p), qimg("map", "--output=json", p)
                    self.assertEqual(a.out, b.out)
                    self.assertEqual(mimg("map", p).out, qimg("map", p).out)

    def test_compressed(self):
        src = self.path("src.raw")
        write_random_raw(src, 8 << 20, 5)
        with open(src, "r+b") as f:  # compressible parts too
            f.seek(1 << 20)
            f.write(b"minipc " * 100000)
        for cs in ("4k", "64k", "1M"):
            with self.subTest(cluster_size=cs):
                p = self.path("c.qcow2")
                self.assertOk(qimg("convert", "-c", "-O", "qcow2", "-o", "cluster_size=" + cs,
                                   src, p))
                ours = self.to_raw(MINIPC_IMG, p, self.path("ours.raw"))
                with open(src, "rb") as f:
                    self.assertTrue(ours == f.read())
                a = mimg("check", "--output=json", p)
                b = qimg("check", "--output=json", p)
                self.assertEqual((a.rc, a.json()), (b.rc, b.json()))
                # a write next to compressed data decompresses for copy-on-write
                self.assertOk(mimg("convert", "-O", "qcow2", p, self.path("re.qcow2")))
                self.assertSameContent(self.path("re.qcow2"), src)

    def test_backing_chain(self):
        base = self.path("base.qcow2")
        self.build_image(base, ["-o", "cluster_size=4k"], 11)
        mid = self.path("mid.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                           "-o", "cluster_size=64k", mid))
        qio(mid, "write -P 77 1M 3M", "write -z 5M 1M")
        top = self.path("top.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top,
                           "30M"))
        qio(top, "write -P 88 2M 100k")
        theirs = self.to_raw(QEMU_IMG, top, self.path("theirs.raw"))
        ours = self.to_raw(MINIPC_IMG, top, self.path("ours.raw"))
        self.assertTrue(theirs == ours)
        a, b = mimg("map", "--output=json", top), qimg("map", "--output=json", top)
        self.assertEqual(a.out, b.out)
        self.assertOk(mimg("compare", top, self.path("theirs.raw")))

    def test_qemu_snapshots(self):
        p = self.path("s.qcow2")
        self.build_image(p, [], 3)
        self.assertOk(qimg("snapshot", "-c", "a", p))
        qio(p, "write -P 5 0 4M")
        self.assertOk(qimg("snapshot", "-c", "b", p))
        qio(p, "write -z 1M 1M")
        for snap in ("a", "b"):
            theirs = self.to_raw(QEMU_IMG, p, self.path("t.raw"), "-l", snap)
            ours = self.to_raw(MINIPC_IMG, p, self.path("o.raw"), "-l", snap)
            self.assertTrue(theirs == ours, "snapshot %s differs" % snap)
        self.assertEqual(mimg("snapshot", "-l", p).out, qimg("snapshot", "-l", p).out)
        self.assertOk(mimg("snapshot", "-a", "a", p))
        now = self.to_raw(QEMU_IMG, p, self.path("cur.raw"))
        snap_a = self.to_raw(QEMU_IMG, p, self.path("a.raw"), "-l", "a")
        self.assertTrue(now == snap_a)
        self.assertQemuClean(p)


class ModifiedByMinipc(BlockTestCase):
    """Images changed only by minipc-img stay clean for qemu-img."""

    def test_convert_resize_snapshots(self):
        src = self.path("src.raw")
        write_random_raw(src, 40 << 20, 9, fraction=0.5)
        with open(src, "rb") as f:
            src_data = f.read()
        for opts in (["-o", "cluster_size=512"], ["-o", "compat=0.10"],
                     ["-o", "cluster_size=2M,refcount_bits=4"], ["-c"]):
            with self.subTest(opts=opts):
                v2 = "compat=0.10" in opts
                p = self.path("o.qcow2")
                if os.path.exists(p):
                    os.unlink(p)
                self.assertOk(mimg("convert", "-O", "qcow2", *opts, src, p))
                self.assertQemuClean(p)
                self.assertSameContent(p, src)
                self.assertOk(mimg("snapshot", "-c", "s1", p))
                if v2:
                    # as qemu-img: a v2 snapshot cannot record a disk size
                    self.assertEqual(mimg("resize", p, "+3M").rc, 1)
                else:
                    self.assertOk(mimg("resize", p, "+3M"))
                    ref = self.path("ref.raw")
                    with open(ref, "wb") as f:
                        f.write(src_data + bytes(3 << 20))
                    self.assertSameContent(p, ref)
                self.assertQemuClean(p)
                qio(p, "write -P 99 5M 3M")
                self.assertOk(mimg("snapshot", "-c", "s2", p))
                self.assertOk(mimg("snapshot", "-a", "s1", p))
                self.assertEqual(self.to_raw(MINIPC_IMG, p, self.path("back.raw")), src_data)
                self.assertOk(mimg("snapshot", "-d", "s2", p))
                self.assertOk(mimg("snapshot", "-d", "s1", p))
                self.assertQemuClean(p)
                self.assertEqual(self.to_raw(QEMU_IMG, p, self.path("back.raw")), src_data)

    def test_bench_writes(self):
        p = self.path("b.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", p, "256M"))
        self.assertOk(mimg("bench", "-w", "-c", "3000", "-s", "4k", "-S", "263168",
                           "--pattern=165", p))
        self.assertQemuClean(p)
        theirs = self.path("t.qcow2")
        self.assertOk(qimg("create", "-q", "-f", "qcow2", theirs, "256M"))
        self.assertOk(qimg("bench", "-w", "-c", "3000", "-s", "4k", "-S", "263168",
                           "--pattern=165", theirs))
        self.assertOk(mimg("compare", p, theirs))
        a = mimg("bench", "-c", "100", p)
        self.assertOk(a)
        self.assertIn("Sending 100 read requests, 4096 bytes each, 64 in parallel", a.out)

    def test_resize(self):
        p = self.path("r.qcow2")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", p, "10M"))
        qio(p, "write -P 1 0 10M")
        r = mimg("resize", p, "+1G")
        self.assertOk(r)
        self.assertEqual(r.out, "Image resized.\n")
        qio(p, "read -P 1 0 10M", "read -P 0 10M 1G")
        self.assertEqual(mimg("resize", p, "-1M").rc, 1)
        self.assertOk(mimg("resize", "--shrink", p, "5M"))
        self.assertQemuClean(p)
        qio(p, "read -P 1 0 5M")
        self.assertEqual(Qcow2(p).size, 5 << 20)

    def test_compare_exit_codes(self):
        a, b = self.path("a.qcow2"), self.path("b.raw")
        self.assertOk(mimg("create", "-q", "-f", "qcow2", a, "8M"))
        self.assertOk(mimg("create", "-q", "-f", "raw", b, "8M"))
        qio(a, "write -P 3 1M 4k")
        qio(b, "write -P 3 1M 4k", fmt="raw")
        for args in ([a, b], ["-s", a, b], ["-f", "qcow2", "-F", "raw", a, b]):
            x, y = mimg("compare", *args), qimg("compare", *args)
            self.assertEqual((x.rc, x.out), (y.rc, y.out))
        qio(b, "write -P 4 1M 1", fmt="raw")
        x, y = mimg("compare", a, b), qimg("compare", a, b)
        self.assertEqual((x.rc, x.out), (y.rc, y.out))
        self.assertEqual(x.rc, 1)
        with open(b, "r+b") as f:
            f.truncate(16 << 20)
        qio(b, "write -P 3 1M 4k", fmt="raw")
        for args in ([a, b], ["-s", a, b]):
            x, y = mimg("compare", *args), qimg("compare", *args)
            self.assertEqual((x.rc, x.out), (y.rc, y.out))
        qio(b, "write -P 9 12M 4k", fmt="raw")
        x, y = mimg("compare", a, b), qimg("compare", a, b)
        self.assertEqual((x.rc, x.out), (y.rc, y.out))
        x, y = mimg("compare", a, self.path("none")), qimg("compare", a, self.path("none"))
        self.assertEqual(x.rc, y.rc)
        self.assertEqual(x.rc, 2)


if __name__ == "__main__":
    unittest.main()
