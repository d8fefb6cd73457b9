"""Bare-metal CPU test programs (tests/baremetal/*.asm, built to
BUILD/tests/baremetal/*.bin) run as the BIOS of minipc, and also of
qemu-system-i386 as an oracle that validates the programs themselves.

A program passes when it prints "PASS" on the debug console and exits
through isa-debug-exit with 0x10 (exit status 33). A line
"; qemu-oracle: skip REASON" in the source skips the QEMU half (for
behaviour QEMU's TCG does not model, e.g. data segment limit checks).
"""
import os
import shutil
import subprocess
import unittest

BUILD = os.environ.get("MINIPC_BUILD", "build")
SRC = os.environ.get("MINIPC_SRC", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BMDIR = os.path.join(BUILD, "tests", "baremetal")
ASMDIR = os.path.join(SRC, "tests", "baremetal")
PASS_STATUS = 33
# A guard against a hung guest, not a performance limit.
HANG_GUARD_SECONDS = 600

COMMON_ARGS = ["-display", "none", "-no-reboot", "-m", "128",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def programs():
    if not os.path.isdir(ASMDIR):
        return []
    return sorted(f[:-4] for f in os.listdir(ASMDIR)
                  if f.endswith(".asm") and not f.startswith(("selftest-", "bench-", "mb-")))


def qemu_skip_reason(name):
    with open(os.path.join(ASMDIR, name + ".asm"), errors="replace") as f:
        for line in f:
            if line.startswith("; qemu-oracle: skip"):
                return line.split("skip", 1)[1].strip() or "marked"
    return None


def run_program(binary, image):
    proc = subprocess.run([binary] + COMMON_ARGS + ["-bios", image, "-debugcon", "stdio"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=HANG_GUARD_SECONDS)
    return proc.returncode, proc.stdout.decode("latin-1")


class BareMetalBase(unittest.TestCase):
    def check(self, binary, name):
        image = os.path.join(BMDIR, name + ".bin")
        if not os.path.exists(image):
            self.skipTest("%s not built (nasm missing?)" % image)
        status, out = run_program(binary, image)
        self.assertNotIn("FAIL", out, "%s on %s:\n%s" % (name, os.path.basename(binary), out))
        self.assertIn("PASS", out, "%s on %s:\n%s" % (name, os.path.basename(binary), out))
        self.assertEqual(status, PASS_STATUS, "%s exit status %d:\n%s" % (name, status, out))


class TestBareMetalMinipc(BareMetalBase):
    pass


class TestBareMetalQemuOracle(BareMetalBase):
    pass


def _make(name, oracle):
    def test(self):
        if oracle:
            qemu = shutil.which("qemu-system-i386")
            if not qemu:
                self.skipTest("qemu-system-i386 not installed")
            reason = qemu_skip_reason(name)
            if reason:
                self.skipTest("QEMU oracle skipped: " + reason)
            self.check(qemu, name)
        else:
            self.check(os.path.join(BUILD, "minipc"), name)
    return test


for _name in programs():
    setattr(TestBareMetalMinipc, "test_" + _name.replace("-", "_"), _make(_name, False))
    setattr(TestBareMetalQemuOracle, "test_" + _name.replace("-", "_"), _make(_name, True))


class TestBareMetalFramework(unittest.TestCase):
    """The frame must be able to fail: a program whose check fails is
    reported as failing."""

    def test_failure_is_detected(self):
        image = os.path.join(BMDIR, "selftest-fail.bin")
        if not os.path.exists(image):
            self.skipTest("not built")
        status, out = run_program(os.path.join(BUILD, "minipc"), image)
        self.assertIn("FAIL", out)
        self.assertNotEqual(status, PASS_STATUS)


if __name__ == "__main__":
    unittest.main()
