"""The monitor framework end to end, without a machine: HMP and QMP on
unix sockets and a mon:stdio mux on a real terminal, served by
tests/integration/monitor-server.c (compiled here against libminipc.a),
and compared with qemu-system-i386 where the two should agree.
"""
import json
import os
import re
import select
import shlex
import shutil
import socket
import subprocess
import tempfile
import termios
import time
import unittest

import minipc_testlib as tl

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("MINIPC_BUILD") or os.path.join(tl.SRC, "build")
_server_bin = None


def read_config(build):
    cfg = {}
    with open(os.path.join(build, "config-host.mak")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                cfg[k] = v
    return cfg


def server_binary():
    """Builds monitor-server once per run; skips if the build is missing."""
    global _server_bin
    if _server_bin:
        return _server_bin
    lib = os.path.join(BUILD, "libminipc.a")
    if not os.path.exists(lib) or not os.path.exists(os.path.join(BUILD, "config-host.mak")):
        raise unittest.SkipTest("libminipc.a not built (MINIPC_BUILD=%s)" % BUILD)
    cfg = read_config(BUILD)
    out_dir = tempfile.mkdtemp(prefix="minipc-monsrv-")
    out = os.path.join(out_dir, "monitor-server")
    cmd = ([cfg.get("CC", "cc")] + shlex.split(cfg.get("CFLAGS", "")) +
           ["-I" + BUILD, "-I" + os.path.join(tl.SRC, "include"),
            os.path.join(HERE, "monitor-server.c"), lib, "-o", out] +
           shlex.split(cfg.get("LDFLAGS", "")) +
           [w for k in ("ZLIB_LIBS", "SDL_LIBS", "SLIRP_LIBS") for w in shlex.split(cfg.get(k, ""))] +
           ["-lm", "-lutil", "-lpthread"])
    subprocess.run(cmd, check=True)
    _server_bin = out
    return out


def qemu_binary():
    q = os.environ.get("MINIPC_QEMU") or shutil.which("qemu-system-i386")
    if not q:
        raise unittest.SkipTest("qemu-system-i386 not found")
    return q


def wait_socket(path, proc, timeout=30):
    deadline = time.monotonic() + tl.guard(timeout)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise tl.EmulatorExited("server exited with %d" % proc.returncode)
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
        time.sleep(0.02)
    raise tl.GuestTimeout("no socket %s" % path)


class Sockets:
    """A server (ours or QEMU) with HMP and QMP on unix sockets."""

    def __init__(self, kind):
        self.dir = tempfile.mkdtemp(prefix="minipc-mon-")
        self.mon_path = os.path.join(self.dir, "m.sock")
        self.qmp_path = os.path.join(self.dir, "q.sock")
        mon = "unix:%s,server,nowait" % self.mon_path
        qmp = "unix:%s,server,nowait" % self.qmp_path
        if kind == "minipc":
            argv = [server_binary(), "-monitor", mon, "-qmp", qmp]
        else:
            argv = [qemu_binary(), "-S", "-nodefaults", "-display", "none", "-accel", "tcg",
                    "-monitor", mon, "-qmp", qmp]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)

    def monitor(self):
        return tl.Monitor(wait_socket(self.mon_path, self.proc))

    def qmp_raw(self):
        return wait_socket(self.qmp_path, self.proc)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def recv_json(sock, buf, timeout=30):
    deadline = time.monotonic() + tl.guard(timeout)
    while b"\n" not in buf[0]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise tl.GuestTimeout("no QMP message; got %r" % buf[0])
        r, _, _ = select.select([sock], [], [], left)
        if r:
            data = sock.recv(65536)
            if not data:
                raise tl.EmulatorExited("QMP closed")
            buf[0] += data
    line, buf[0] = buf[0].split(b"\n", 1)
    assert line.endswith(b"\r"), line   # QMP lines end in CR LF
    return json.loads(line)


def shape(v):
    """The structure of a JSON value with its scalars reduced to types."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(x) for x in v[:1]]
    return type(v).__name__


# Requests whose replies must be identical in QEMU and minipc (they
# involve nothing machine-specific).
PROTOCOL_REQUESTS = [
    b'{"execute": "query-status"}',
    b'{"execute": "qmp_capabilities", "id": 7}',
    b'{"execute": "qmp_capabilities"}',
    b'[1, 2]',
    b'{"foo": 1}',
    b'{"execute": 1}',
    b'{"id": "no-execute"}',
    b'{"execute": "no-such-command"}',
    b'{"execute": "query-status", "arguments": []}',
    b'{"execute": "query-status", "arguments": {"x": 1}}',
    b'{"execute": "human-monitor-command"}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": 1}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "help quit"}, "id": [1]}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "nope"}}',
    b'"str"',
]

HMP_SAME = ["help quit", "help q", "help help", "foo", "info foo", "help foo", "quit now",
            "info status extra", "help info status", "help info history", ""]


class MonitorAgainstQemu(unittest.TestCase):
    """Protocol-level behaviour compared with QEMU 7.2 itself."""

    def run_qmp(self, kind):
        srv = Sockets(kind)
        try:
            s = srv.qmp_raw()
            buf = [b""]
            greeting = recv_json(s, buf)
            replies = []
            for req in PROTOCOL_REQUESTS:
                s.sendall(req + b"\n")
                replies.append(recv_json(s, buf))
            s.close()
            return greeting, replies
        finally:
            srv.close()

    def test_qmp_protocol_matches_qemu(self):
        q_greet, q_replies = self.run_qmp("qemu")
        m_greet, m_replies = self.run_qmp("minipc")
        # Same shape; we announce no OOB capability.
        q_greet["QMP"]["capabilities"] = []
        self.assertEqual(shape(m_greet), shape(q_greet))
        self.assertEqual(m_greet["QMP"]["version"]["package"], "minipc")
        for req, q, m in zip(PROTOCOL_REQUESTS, q_replies, m_replies):
            if b"query-status" in req and "return" in q:
                self.assertEqual(shape(m), shape(q), req)
            elif "error" in q and "JSON parse" in q["error"]["desc"]:
                self.assertEqual(m["error"]["class"], q["error"]["class"], req)
            else:
                self.assertEqual(m, q, req)

    def run_hmp(self, kind):
        srv = Sockets(kind)
        try:
            mon = srv.monitor()
            banner = mon.banner
            out = [mon.cmd(line) for line in HMP_SAME]
            mon.close()
            return banner, out
        finally:
            srv.close()

    def test_hmp_messages_match_qemu(self):
        q_banner, q_out = self.run_hmp("qemu")
        m_banner, m_out = self.run_hmp("minipc")
        self.assertRegex(q_banner, r"^QEMU \S+ monitor - type 'help' for more information\r\n")
        self.assertRegex(m_banner,
                         r"^minipc \S+ monitor - type 'help' for more information\r\n\(minipc\) $")
        for line, q, m in zip(HMP_SAME, q_out, m_out):
            self.assertEqual(m, q, line)


class MinipcMonitor(unittest.TestCase):
    def setUp(self):
        self.srv = Sockets("minipc")

    def tearDown(self):
        self.srv.close()

    def test_hmp_and_qmp_together(self):
        mon = self.srv.monitor()
        qmp = tl.QMP(self.srv.qmp_raw())
        self.assertEqual(qmp.execute("query-status"),
                         {"status": "running", "singlestep": False, "running": True})
        self.assertEqual(mon.cmd("info status"), "VM status: running")
        mon.cmd("x-stop")
        self.assertEqual(mon.cmd("info status"), "VM status: paused")
        self.assertEqual(qmp.hmp("info status"), "VM status: paused\r\n")
        self.assertFalse(qmp.execute("query-status")["running"])

        # An event raised from HMP reaches the QMP client, in QEMU's shape.
        mon.cmd("x-emit TEST_EVENT")
        ev = qmp.wait_event("TEST_EVENT")
        self.assertEqual(list(ev), ["timestamp", "event", "data"])
        self.assertEqual(ev["data"], {"from": "x-emit"})
        self.assertLessEqual(abs(ev["timestamp"]["seconds"] - time.time()), 60)

        names = [c["name"] for c in qmp.execute("query-commands")]
        for n in ("qmp_capabilities", "query-version", "query-status", "human-monitor-command",
                  "quit"):
            self.assertIn(n, names)
        self.assertIn("compat_monitor0: filename=unix:", mon.cmd("info chardev"))
        self.assertIn("0: 'info status'\n1: 'x-stop'", mon.cmd("info history"))

        # quit over QMP: SHUTDOWN event, then the reply, then exit status 0.
        qmp.sock.sendall(b'{"execute": "quit", "id": "bye"}\n')
        buf = [qmp.rbuf]
        ev = recv_json(qmp.sock, buf)
        self.assertEqual(ev["event"], "SHUTDOWN")
        self.assertEqual(ev["data"], {"guest": False, "reason": "host-qmp-quit"})
        self.assertEqual(recv_json(qmp.sock, buf), {"return": {}, "id": "bye"})
        self.assertEqual(self.srv.proc.wait(timeout=tl.guard(30)), 0)
        mon.close()
        qmp.close()

    def test_reconnect_gets_new_banner(self):
        for _ in range(3):
            mon = self.srv.monitor()
            self.assertIn("monitor - type 'help'", mon.banner)
            self.assertEqual(mon.cmd("info version").count("."), 2)
            mon.close()
        for _ in range(2):
            qmp = tl.QMP(self.srv.qmp_raw())   # greeting + negotiation each time
            qmp.close()

    def test_hmp_quit(self):
        mon = self.srv.monitor()
        mon.cmd_quit()
        self.assertEqual(self.srv.proc.wait(timeout=tl.guard(30)), 0)
        mon.close()


class Terminal:
    """A program on a pty we type into. We keep the terminal side open too,
    to look at its modes after the program is gone."""

    def __init__(self, argv):
        self.fd, self.slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, start_new_session=True)
        self.pid = self.proc.pid
        self.buf = b""

    def read_until(self, pattern, timeout=30):
        deadline = time.monotonic() + tl.guard(timeout)
        rx = re.compile(pattern)
        while not rx.search(self.buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise tl.GuestTimeout("waiting for %r; got %r" % (pattern, self.buf[-500:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise tl.EmulatorExited("terminal closed; got %r" % self.buf[-500:])
                self.buf += data
        m = rx.search(self.buf)
        out, self.buf = self.buf[:m.end()], self.buf[m.end():]
        return out

    def send(self, data):
        os.write(self.fd, data)

    def settle(self, seconds=0.3):
        """Collects whatever arrives for a moment (output we expect none of)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.monotonic()))
            if r:
                try:
                    self.buf += os.read(self.fd, 4096)
                except OSError:
                    break
        out, self.buf = self.buf, b""
        return out

    def wait(self, timeout=30):
        """The exit status (negative: killed by that signal)."""
        return self.proc.wait(timeout=tl.guard(timeout))

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for fd in (self.fd, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


MUX_HELP = (b"\r\n\rC-a h    print this help\r\n\rC-a x    exit emulator\r\n\r"
            b"C-a s    save disk data back to file (if -snapshot)\r\n\r"
            b"C-a t    toggle console timestamps\r\n\rC-a b    send break (magic sysrq)\r\n\r"
            b"C-a c    switch between console and monitor\r\n\rC-a C-a  sends C-a\r\n\r")


class MuxOnTerminal(unittest.TestCase):
    def test_qemu_mux_help_is_what_we_print(self):
        """Our help text (as the unit test checks it) is QEMU's, byte for byte."""
        t = Terminal([qemu_binary(), "-nographic", "-S", "-nodefaults", "-serial", "mon:stdio"])
        try:
            time.sleep(0.5)
            t.settle(0.5)
            t.send(b"\x01h")
            self.assertEqual(t.read_until(re.escape(MUX_HELP)), MUX_HELP)
        finally:
            t.close()

    def test_mon_stdio(self):
        t = Terminal([server_binary(), "-serial", "mon:stdio"])
        try:
            t.read_until(rb"monitor-server ready\r\n")
            # Typing goes to the serial port (which answers uppercased);
            # the terminal is raw: no echo, no line buffering, and Ctrl-C
            # is a byte for the guest, not a signal.
            t.send(b"abc")
            self.assertEqual(t.read_until(rb"ABC"), b"ABC")
            t.send(b"\x03")
            self.assertEqual(t.read_until(b"\x03"), b"\x03")
            t.send(b"\x01h")
            self.assertEqual(t.read_until(re.escape(MUX_HELP)), MUX_HELP)
            t.send(b"\x01b")
            t.read_until(rb"<BREAK>")
            t.send(b"\x01\x01")
            t.read_until(b"\x01")

            # C-a c: the monitor greets once and shows its prompt.
            t.send(b"\x01c")
            banner = t.read_until(rb"\(minipc\) ")
            self.assertIn(b"monitor - type 'help' for more information", banner)
            t.send(b"info status\r")
            out = t.read_until(rb"\(minipc\) ")
            self.assertIn(b"info status\r\r\nVM status: running\r\r\n", out)
            # Line editing on the terminal: Ctrl-A (C-a C-a through the
            # mux), Ctrl-K, history.
            t.send(b"xxx\x01\x01\x0binfo version\r")
            out = tl.strip_ansi(t.read_until(rb"\d+\.\d+\.\d+\r\r\n\(minipc\) ").decode())
            self.assertIn("info version\r\r\n", out)
            self.assertNotIn("unknown command", out)
            t.send(b"\x1b[A\x1b[A\r")
            out = tl.strip_ansi(t.read_until(rb"VM status: running").decode())
            t.read_until(rb"\(minipc\) ")

            # Back to the serial port: just that, no banner.
            t.send(b"\x01c")
            self.assertEqual(t.settle(), b"")
            t.send(b"z")
            t.read_until(rb"Z")

            # C-a x quits with status 0 and gives the terminal back.
            t.send(b"\x01x")
            t.read_until(rb"minipc: Terminated")
            self.assertEqual(t.wait(), 0)
            attrs = termios.tcgetattr(t.slave)
            self.assertTrue(attrs[3] & termios.ICANON)
            self.assertTrue(attrs[3] & termios.ECHO)
        finally:
            t.close()


if __name__ == "__main__":
    unittest.main()
