"""Self-tests of minipc_testlib that need no emulator: the serial shell
helper against a real /bin/sh, the monitor and QMP clients against small
fake servers speaking the way QEMU 7.2 does, the xp and VGA text parsers."""
import json
import os
import socket
import subprocess
import threading
import unittest

import minipc_testlib as tl


def serve(sock, handler):
    def run():
        try:
            handler(sock)
        finally:
            sock.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def readline(sock):
    buf = b""
    while not buf.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            return None
        buf += c
    return buf.decode()


class SerialShellTest(unittest.TestCase):
    def setUp(self):
        ours, theirs = socket.socketpair()
        # a shell reading commands from the "serial port" and answering on it
        self.sh_proc = subprocess.Popen(["/bin/sh"], stdin=theirs.fileno(), stdout=theirs.fileno(),
                                        stderr=subprocess.STDOUT, close_fds=True)
        theirs.close()
        self.serial = tl.Serial(ours)
        self.shell = tl.GuestShell(self.serial, timeout=30)

    def tearDown(self):
        self.serial.write("exit\n")
        self.sh_proc.wait(10)
        self.serial.close()

    def test_output_and_status(self):
        self.assertEqual(self.shell.check("echo hello; echo world"), "hello\nworld\n")
        self.assertEqual(self.shell.run("false")[0], 1)
        self.assertEqual(self.shell.run("exit_code() { return 7; }; exit_code")[0], 7)
        self.assertEqual(self.shell.check("printf 'no newline'"), "no newline")
        self.assertEqual(self.shell.check("true"), "")
        with self.assertRaises(tl.TestlibError):
            self.shell.check("ls /nonexistent-minipc-path")

    def test_marker_text_in_output(self):
        # output that looks like our markers does not confuse the parser
        out = self.shell.check("echo \"=END-x-0\"; echo '=BEGIN'")
        self.assertEqual(out, "=END-x-0\n=BEGIN\n")

    def test_background_command(self):
        self.assertEqual(self.shell.run("sleep 0 &")[0], 0)

    def test_wait_for_cursor(self):
        self.serial.write("echo one; echo two; echo one\n")
        self.serial.wait_for(r"one")
        self.serial.wait_for(r"two")
        self.serial.wait_for(r"one")
        with self.assertRaises(tl.GuestTimeout):
            self.serial.wait_for(r"one", timeout=0.3)

    def test_wait_for_failure_pattern(self):
        self.serial.write("echo 'Kernel panic - not syncing: VFS'\n")
        with self.assertRaises(tl.GuestFailure):
            self.serial.wait_for(r"READY", timeout=30, fail=tl.FAILURE_RE)


class MonitorTest(unittest.TestCase):
    XP = ("00000000000b8000: 0x0748 0x0769 0x0720 0x07c4 0x0720 0x0720 0x0720 0x0720\r\n")

    def fake_qemu(self, sock):
        sock.sendall(b"QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ")
        while True:
            line = readline(sock)
            if line is None:
                return
            cmd = line.strip()
            # QEMU's readline redraws the line as it is typed
            echo = "".join("%s\x1b[K%s" % (cmd[:i + 1], "\x1b[D" * (i + 1)) for i in range(len(cmd)))
            out = echo + cmd + "\r\n"
            if cmd == "info status":
                out += "VM status: running\r\n"
            elif cmd.startswith("xp /"):
                n = int(cmd.split()[1][1:-2])
                addr = int(cmd.split()[2], 16)
                vals = [0x0720] * n
                if addr == 0xB8000:
                    vals[:4] = [0x0748, 0x0769, 0x0720, 0x07C4]
                for i in range(0, n, 8):
                    out += "%016x: %s\r\n" % (addr + 2 * i, " ".join("0x%04x" % v for v in vals[i:i + 8]))
            elif cmd == "quit":
                sock.close()
                return
            else:
                out += "unknown command: '%s'\r\n" % cmd
            sock.sendall(out.encode() + b"(qemu) ")

    def test_commands_and_screen(self):
        ours, theirs = socket.socketpair()
        serve(theirs, self.fake_qemu)
        mon = tl.Monitor(ours, timeout=10)
        self.assertIn("QEMU", mon.banner)
        self.assertEqual(mon.cmd("info status"), "VM status: running")
        self.assertEqual(mon.cmd("bogus"), "unknown command: 'bogus'")
        words = tl.read_phys(mon, 0xB8000, 16)
        self.assertEqual(words[:4], [0x0748, 0x0769, 0x0720, 0x07C4])
        screen = tl.vga_text_screen(mon)
        self.assertEqual(len(screen), 25)
        self.assertEqual(screen[0], "Hi \u2500")
        self.assertEqual(screen[1], "")
        cells = tl.vga_text_cells(mon, cols=80, rows=1)
        self.assertEqual(cells[0], (0x48, 0x07))
        mon.close()

    def test_parse_xp_minipc_style(self):
        # a prompt of minipc and an xp layout with other spacing still parse
        text = "b8000: 0x0741 0x0742\nb8004: 0x0743\n"
        self.assertEqual(tl.parse_xp(text), [(0xB8000, [0x741, 0x742]), (0xB8004, [0x743])])
        self.assertTrue(tl.PROMPT_RE.search(b"...\r\n(minipc) "))


class QMPTest(unittest.TestCase):
    def fake_qmp(self, sock):
        def send(obj):
            sock.sendall(json.dumps(obj).encode() + b"\r\n")
        send({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}},
                      "capabilities": ["oob"]}})
        negotiated = False
        while True:
            line = readline(sock)
            if line is None:
                return
            req = json.loads(line)
            cmd, rid = req["execute"], req.get("id")
            if cmd == "qmp_capabilities":
                negotiated = True
                send({"return": {}, "id": rid})
            elif not negotiated:
                send({"error": {"class": "CommandNotFound", "desc": "negotiate first"}, "id": rid})
            elif cmd == "stop":
                send({"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}})
                send({"return": {}, "id": rid})
            elif cmd == "query-status":
                send({"return": {"status": "paused", "running": False}, "id": rid})
            else:
                send({"error": {"class": "CommandNotFound",
                                "desc": "The command %s has not been found" % cmd}, "id": rid})

    def test_negotiation_commands_events(self):
        ours, theirs = socket.socketpair()
        serve(theirs, self.fake_qmp)
        qmp = tl.QMP(ours, timeout=10)
        self.assertEqual(qmp.greeting["QMP"]["version"]["qemu"]["major"], 7)
        qmp.execute("stop")
        self.assertEqual(qmp.wait_event("STOP", timeout=5)["event"], "STOP")
        self.assertEqual(qmp.execute("query-status")["status"], "paused")
        with self.assertRaises(tl.QMPError) as cm:
            qmp.execute("nonsense")
        self.assertEqual(cm.exception.error["class"], "CommandNotFound")
        with self.assertRaises(tl.GuestTimeout):
            qmp.wait_event("RESUME", timeout=0.3)
        qmp.close()


class GuestFilesTest(unittest.TestCase):
    def test_missing_image_skips(self):
        old = os.environ.get("MINIPC_CACHE"), os.environ.get("MINIPC_BUILD_GUESTS")
        os.environ["MINIPC_CACHE"] = "/nonexistent/minipc-cache"
        os.environ.pop("MINIPC_BUILD_GUESTS", None)
        try:
            with self.assertRaises(unittest.SkipTest) as cm:
                tl.guest_file("linux", "vmlinuz")
            self.assertIn("build-all.sh", str(cm.exception))
            with self.assertRaises(tl.TestlibError):
                tl.guest_file("nosuchguest", "x")
        finally:
            for k, v in zip(("MINIPC_CACHE", "MINIPC_BUILD_GUESTS"), old):
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_strip_ansi(self):
        self.assertEqual(tl.strip_ansi("\x1b[1;37m\x1b(0x\x1b(BA\x1b[K\x1b[14;35Hb\x1bc"), "xAb")


if __name__ == "__main__":
    unittest.main()
