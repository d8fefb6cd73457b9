"""The guest images of tests/guests/, checked on the reference emulator.

Runs every guest on qemu-system-i386 (TCG) through minipc_testlib, exactly
as the acceptance tests will run them on minipc: this proves that the
images are good and that the toolkit works. One boot per guest and boot
path, shared by several checks. Skipped when the images are not built
(tests/guests/build-all.sh, or MINIPC_BUILD_GUESTS=1 builds them).
"""
import os
import re
import shutil
import subprocess
import time
import unittest

from minipc_testlib import (FAILURE_RE, INSTALLER_LANGUAGE, READY_MARKER, SERIAL_CMDLINE, GuestShell,
                            Machine, copy_image, guest_cmdline, guest_file, make_tmpdir,
                            guard, remove_tmpdir, require_emulator)

KIND = "qemu"
# Hang guards for one boot, in seconds (QEMU TCG needs 10-100 s on a busy
# 2-core machine); MINIPC_TIMEOUT_SCALE stretches them.
BOOT_GUARD = 300
INSTALLER_GUARD = 600


def tool(name):
    path = shutil.which(name)
    if not path:
        raise unittest.SkipTest("%s not installed (scripts/setup.sh --test)" % name)
    return path


class VMTestCase(unittest.TestCase):
    """One shared emulator per class: setUpClass boots, tests inspect."""
    vm = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        require_emulator(KIND)
        cls.vm = None
        cls.tmp = make_tmpdir("minipc-guests-")
        # class cleanups run even when setUpClass fails or skips half-way
        cls.addClassCleanup(cls.release)

    @classmethod
    def release(cls):
        if cls.vm:
            cls.vm.close()
            cls.vm = None
        if cls.tmp:
            remove_tmpdir(cls.tmp)
            cls.tmp = None

    @classmethod
    def boot(cls, args, **kw):
        if cls.vm:
            cls.vm.close()
        cls.vm = Machine(args, kind=KIND, workdir=cls.tmp, **kw)
        return cls.vm

    def context(self):
        return self.vm.describe() if self.vm else ""


class InstallerTest(VMTestCase):
    """The Debian installer reaches "Choose the language" on ttyS0."""

    def language_screen(self, args):
        vm = self.boot(["-m", "512"] + args)
        try:
            vm.serial.wait_for(INSTALLER_LANGUAGE, INSTALLER_GUARD, fail=FAILURE_RE)
            print("\n  installer: language screen after %.1fs" % vm.elapsed(), end=" ")
        except Exception:
            print(vm.describe())
            raise
        status = vm.quit()
        self.assertEqual(status, 0, vm.describe())
        return vm

    def test_kernel_initrd(self):
        self.language_screen(["-kernel", guest_file("installer", "linux"),
                              "-initrd", guest_file("installer", "initrd.gz"),
                              "-append", SERIAL_CMDLINE])

    def test_disk_seabios_syslinux(self):
        disk = copy_image(guest_file("installer", "boot.qcow2"), self.tmp)
        vm = self.language_screen(["-drive", "file=%s,format=qcow2,if=ide,index=0" % disk])
        out = vm.serial.text()
        # syslinux's SERIAL directive mirrors its banner on ttyS0
        self.assertIn("SYSLINUX", out)
        self.assertLess(out.index("SYSLINUX"), out.index("Linux version"))


class SmallLinuxDiskTest(VMTestCase):
    """The small guest from its qcow2 disk through SeaBIOS and syslinux,
    with the ext4 data disk and the CD-ROM: one boot, many checks, in
    order (the test names are numbered)."""

    written = "minipc wrote this at %d" % int(time.time())

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        boot = copy_image(guest_file("linux", "boot.qcow2"), cls.tmp)
        cls.data = copy_image(guest_file("data", "ext4.qcow2"), cls.tmp)
        cd = guest_file("data", "cd.iso")
        cls.boot(["-m", "256",
                  "-drive", "file=%s,format=qcow2,if=ide,index=0" % boot,
                  "-drive", "file=%s,format=qcow2,if=ide,index=1" % cls.data,
                  "-drive", "file=%s,format=raw,if=ide,index=2,media=cdrom" % cd,
                  "-boot", "c"])
        cls.vm.serial.wait_for(READY_MARKER, BOOT_GUARD, fail=FAILURE_RE)
        cls.boot_seconds = cls.vm.elapsed()
        cls.sh = GuestShell(cls.vm.serial)

    def test_01_booted_through_syslinux(self):
        print("\n  small guest (disk): shell ready after %.1fs" % self.boot_seconds, end=" ")
        out = self.vm.serial.text()
        self.assertIn("SYSLINUX", out)
        self.assertIn("MINIPC-GUEST-READY", out)
        cmdline = self.sh.check("cat /proc/cmdline")
        self.assertIn("console=ttyS0", cmdline)
        self.assertIn("BOOT_IMAGE=/vmlinuz", cmdline)

    def test_02_cpuinfo(self):
        info = self.sh.check("cat /proc/cpuinfo")
        self.assertEqual(len(re.findall(r"^processor\s*:", info, re.M)), 1, info)
        flags = re.search(r"^flags\s*:(.*)$", info, re.M)
        self.assertTrue(flags, info)
        for f in ("fpu", "tsc", "cx8", "cmov"):
            self.assertIn(f, flags.group(1).split(), info)

    def test_03_block_devices(self):
        devs = self.sh.check("ls /sys/block").split()
        for d in ("sda", "sdb", "sr0"):
            self.assertIn(d, devs)
        # 64 MiB data disk in 512-byte sectors
        self.assertEqual(self.sh.check("cat /sys/block/sdb/size").strip(), "131072")
        # the ext4 volume name, at byte 120 of the superblock (offset 1024)
        label = self.sh.check("dd if=/dev/sdb bs=1 skip=1144 count=16 2>/dev/null | tr -d '\\000'")
        self.assertEqual(label.strip(), "MINIPC-DATA")

    def test_04_ext4_read_write(self):
        sh = self.sh
        sh.check("mkdir -p /data && mount -t ext4 /dev/sdb /data")
        out = sh.check("(cd /data && md5sum -c MD5SUMS)")
        self.assertIn("random.bin: OK", out)
        self.assertIn("Hello from the minipc data disk", sh.check("cat /data/hello.txt"))
        sh.check("echo '%s' > /data/written.txt" % self.written)
        # a larger write too, checked after a remount (so from the disk)
        sh.check("dd if=/data/random.bin of=/data/copy.bin bs=64k 2>/dev/null")
        sh.check("sync && umount /data && mount -t ext4 /dev/sdb /data")
        self.assertEqual(sh.check("cat /data/written.txt").strip(), self.written)
        a = sh.check("md5sum < /data/random.bin").split()[0]
        b = sh.check("md5sum < /data/copy.bin").split()[0]
        self.assertEqual(a, b)
        sh.check("umount /data")

    def test_05_cdrom(self):
        sh = self.sh
        sh.check("mkdir -p /cdrom && mount -t iso9660 -o ro /dev/sr0 /cdrom")
        self.assertIn("random.bin: OK", sh.check("(cd /cdrom && md5sum -c MD5SUMS)"))
        self.assertIn("Hello from the minipc CD-ROM", sh.check("cat /cdrom/hello.txt"))
        sh.check("umount /cdrom")

    def test_06_rtc(self):
        host = time.time()
        guest = int(self.sh.check("date +%s").strip())
        # Not a speed check: the RTC must start from the host's date and
        # the clock must keep going; a wrong century or epoch is far off.
        self.assertLess(abs(guest - host), 600, "guest %d host %d" % (guest, host))
        rtc = self.sh.check("hwclock -r -u")
        self.assertRegex(rtc, r"\d\d:\d\d:\d\d")
        self.assertIn(time.strftime("%Y", time.gmtime(host)), rtc)

    def test_07_monitor(self):
        self.assertIn("running", self.vm.monitor.cmd("info status"))
        # the guest's text console is on VGA too (console=tty0 first)
        screen = "\n".join(self.vm.vga_text_screen())
        self.assertRegex(screen, r"\S")

    def test_08_reboot(self):
        self.vm.serial.write("reboot\n")
        self.vm.serial.wait_for(r"MINIPC-GUEST-SHUTDOWN", 300)
        self.vm.serial.wait_for(r"SYSLINUX", BOOT_GUARD)
        self.vm.serial.wait_for(READY_MARKER, BOOT_GUARD, fail=FAILURE_RE)
        self.assertEqual(self.sh.check("echo back").strip(), "back")

    def test_09_poweroff(self):
        self.vm.serial.write("poweroff\n")
        self.vm.serial.wait_for(r"MINIPC-GUEST-SHUTDOWN", 300)
        self.assertEqual(self.vm.wait_exit(300), 0, self.context())
        self.vm.close()
        # the disk image as the emulator left it
        img = tool("qemu-img")
        proc = subprocess.run([img, "check", self.data], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        raw = os.path.join(self.tmp, "data.raw")
        subprocess.run([img, "convert", "-O", "raw", self.data, raw], check=True)
        proc = subprocess.run([tool("e2fsck"), "-fn", raw], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        proc = subprocess.run([tool("debugfs"), "-R", "cat /written.txt", raw],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.assertEqual(proc.stdout.strip(), self.written)


class SmallLinuxKernelTest(VMTestCase):
    """The small guest through -kernel/-initrd/-append."""

    def test_kernel_boot_and_poweroff(self):
        vm = self.boot(["-m", "128", "-kernel", guest_file("linux", "vmlinuz"),
                        "-initrd", guest_file("linux", "initramfs.gz"),
                        "-append", SERIAL_CMDLINE + " minipc.test=1"])
        vm.serial.wait_for(READY_MARKER, BOOT_GUARD, fail=FAILURE_RE)
        print("\n  small guest (-kernel): shell ready after %.1fs" % vm.elapsed(), end=" ")
        sh = GuestShell(vm.serial)
        self.assertIn("minipc.test=1", sh.check("cat /proc/cmdline"))
        mods = sh.check("cat /proc/modules")
        for m in ("ata_piix", "sd_mod", "sr_mod", "ext4", "isofs", "ne2k_pci", "e1000"):
            self.assertIn(m + " ", mods)
        status, out = sh.run("false")
        self.assertEqual(status, 1)
        self.assertEqual(sh.check("echo a; echo b"), "a\nb\n")
        vm.serial.write("poweroff\n")
        self.assertEqual(vm.wait_exit(300), 0, self.context())


class SmallLinuxCdromTest(VMTestCase):
    """The small guest booted from the CD (isolinux), driven over QMP."""

    def test_cdrom_boot_and_qmp(self):
        vm = self.boot(["-m", "128", "-cdrom", guest_file("data", "cd.iso"), "-boot", "d"],
                       qmp=True)
        vm.serial.wait_for(r"ISOLINUX", BOOT_GUARD)
        vm.serial.wait_for(READY_MARKER, BOOT_GUARD, fail=FAILURE_RE)
        print("\n  small guest (CD): shell ready after %.1fs" % vm.elapsed(), end=" ")
        self.assertIn(guest_cmdline("linux").split()[-1],
                      GuestShell(vm.serial).check("cat /proc/cmdline"))
        qmp = vm.qmp
        self.assertIn("qemu", qmp.greeting["QMP"]["version"])
        self.assertEqual(qmp.execute("query-status")["status"], "running")
        qmp.execute("stop")
        qmp.wait_event("STOP")
        self.assertEqual(qmp.execute("query-status")["status"], "paused")
        self.assertIn("paused", vm.monitor.cmd("info status"))
        qmp.execute("cont")
        qmp.wait_event("RESUME")
        self.assertIn("running", qmp.hmp("info status"))
        qmp.execute("quit")
        qmp.wait_event("SHUTDOWN")
        self.assertEqual(vm.wait_exit(120), 0, self.context())


class MemtestTest(VMTestCase):
    """memtest86+ runs its tests; seen on the VGA text screen via `xp`."""

    def watch(self, vm, want_tests):
        """Polls the screen until memtest has been through `want_tests`
        different tests of its first pass, with no error."""
        seen = set()
        screen = ""
        deadline = time.monotonic() + guard(BOOT_GUARD)
        while len(seen) < want_tests:
            if time.monotonic() > deadline:
                self.fail("memtest saw only tests %s; screen:\n%s" % (sorted(seen), screen))
            self.assertTrue(vm.alive(), vm.describe())
            screen = "\n".join(vm.vga_text_screen())
            m = re.search(r"Test #\s*(\d+)", screen)
            if m and ("Status: Testing" in screen or "Status: Pass" in screen):
                seen.add(int(m.group(1)))
            errors = re.search(r"Errors:\s*(\d+)", screen)
            if errors:
                self.assertEqual(errors.group(1), "0", screen)
            time.sleep(0.5)
        self.assertIn("Memtest86+", screen)
        return screen

    def test_kernel(self):
        vm = self.boot(["-m", "32", "-kernel", guest_file("memtest", "memtest.bin")])
        self.watch(vm, 4)
        print("\n  memtest (-kernel): 4 tests seen after %.1fs" % vm.elapsed(), end=" ")
        vm.quit()

    def test_disk(self):
        disk = copy_image(guest_file("memtest", "boot.qcow2"), self.tmp)
        vm = self.boot(["-m", "32", "-drive", "file=%s,format=qcow2,if=ide,index=0" % disk])
        self.watch(vm, 2)
        vm.quit()


if __name__ == "__main__":
    unittest.main()
