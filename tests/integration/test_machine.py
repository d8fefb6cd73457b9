"""The minimal machine and its command line: multiboot -kernel/-append,
isa-debug-exit status, -debugcon/-chardev/-device isa-debugcon, COM1 on
-serial file:, -no-reboot on a triple fault, -d/-D logging, and option
errors. The multiboot half also runs on qemu-system-i386 as an oracle.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("MINIPC_BUILD", "build")
MINIPC = os.path.join(BUILD, "minipc")
KERNEL = os.path.join(BUILD, "tests", "baremetal", "mb-info.bin")
SMOKE = os.path.join(BUILD, "tests", "baremetal", "smoke.bin")
GUARD = 300


def run(binary, args):
    p = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=GUARD)
    return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


class MultibootTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(KERNEL):
            self.skipTest("mb-info.bin not built")
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def boot(self, binary, extra=()):
        serial = os.path.join(self.tmp, "serial.txt")
        status, out, err = run(binary, ["-display", "none", "-m", "64", "-no-reboot",
                                        "-kernel", KERNEL, "-append", "hello world",
                                        "-debugcon", "stdio", "-serial", "file:" + serial,
                                        "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
                               + list(extra))
        with open(serial, "rb") as f:
            ser = f.read().decode("latin-1")
        return status, out, ser

    def check_boot(self, binary):
        status, out, ser = self.boot(binary)
        self.assertEqual(status, 33, out)
        self.assertIn("magic=2BADB002", out)
        # 64 MiB: mem_upper = 64 MiB - 1 MiB - the 128 KiB firmware keeps
        self.assertIn("mem_upper=0000FB80", out)
        self.assertIn("cmdline=" + KERNEL + " hello world", out)
        flags = int(out.split("flags=")[1][:8], 16)
        for bit in (0, 2, 6):       # memory, cmdline, mmap
            self.assertTrue(flags & (1 << bit), "flags %x" % flags)
        self.assertIn("serial ok", ser)

    def test_minipc(self):
        self.check_boot(MINIPC)

    def test_qemu_oracle(self):
        qemu = shutil.which("qemu-system-i386")
        if not qemu:
            self.skipTest("qemu-system-i386 not installed")
        self.check_boot(qemu)

    def test_triple_fault_no_reboot_exits_zero(self):
        status, out, _ = run(MINIPC, ["-display", "none", "-no-reboot", "-kernel", KERNEL,
                                      "-append", "triple", "-debugcon", "stdio",
                                      "-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
        self.assertEqual(status, 0, out)
        self.assertIn("magic=2BADB002", out)


class CommandLineTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_chardev_file_debugcon_and_log(self):
        if not os.path.exists(SMOKE):
            self.skipTest("smoke.bin not built")
        out = os.path.join(self.tmp, "con.txt")
        log = os.path.join(self.tmp, "log.txt")
        status, _, err = run(MINIPC, ["-display", "none", "-bios", SMOKE,
                                      "-chardev", "file,id=con,path=" + out,
                                      "-device", "isa-debugcon,iobase=0xe9,chardev=con",
                                      "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                      "-d", "int", "-D", log])
        self.assertEqual(status, 33, err)
        with open(out) as f:
            self.assertIn("PASS", f.read())
        with open(log) as f:
            text = f.read()
        # smoke.asm raises #DE and #UD
        self.assertIn("exception 0 ", text)
        self.assertIn("exception 6 ", text)

    def test_debug_exit_status(self):
        if not os.path.exists(SMOKE):
            self.skipTest("smoke.bin not built")
        status, _, _ = run(MINIPC, ["-display", "none", "-bios", SMOKE,
                                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4"])
        self.assertEqual(status, (0x10 << 1) | 1)

    def test_errors(self):
        for args, text in ((["-device", "nosuch"], "not found"),
                           (["-m", "0"], "RAM size"),
                           (["-m", "lots"], "-m"),
                           (["-bios", "/nonexistent/bios.bin"], "Could not load BIOS"),
                           (["-kernel", "/nonexistent/kernel"], "Could not open"),
                           (["-frobnicate"], "invalid option"),
                           (["-chardev", "file,id=x"], "filename"),
                           (["-device", "isa-debugcon,chardev=missing"], "not found")):
            status, _, err = run(MINIPC, ["-display", "none"] + args)
            self.assertEqual(status, 1, args)
            self.assertIn(text, err, args)

    def test_help_and_version(self):
        status, out, _ = run(MINIPC, ["-h"])
        self.assertEqual(status, 0)
        for opt in ("-m SIZE", "-bios", "-kernel", "-append", "-serial", "-debugcon",
                    "-chardev", "-device", "-no-reboot", "-d ITEMS", "-D FILE"):
            self.assertIn(opt, out)
        status, out, _ = run(MINIPC, ["-version"])
        self.assertEqual(status, 0)
        self.assertIn("minipc version", out)


if __name__ == "__main__":
    unittest.main()
