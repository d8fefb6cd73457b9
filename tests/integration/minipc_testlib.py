"""Toolkit for minipc's integration tests (Python 3 standard library only).

Drives an emulator process, either minipc or the reference
qemu-system-i386 with the same command line, so that a test can be
validated against QEMU today and run against minipc:

    from minipc_testlib import Machine, guest_file, GuestShell

    with Machine(["-m", "256", "-hda", disk], kind="qemu") as vm:
        vm.serial.wait_for(r"MINIPC-GUEST-READY")
        sh = GuestShell(vm.serial)
        print(sh.check("uname -r"))
        print(vm.monitor.cmd("info status"))
        print("\\n".join(vm.vga_text_screen()))

The emulator gets its first serial port on a unix socket
(`-serial unix:PATH,server,nowait`), the HMP monitor on another
(`-monitor unix:PATH,server,nowait`) and, on request, QMP on a third
(`-qmp unix:PATH,server,nowait`); stdout and stderr go to a log file.

Timeouts are hang guards only: they are generous, scaled by the
MINIPC_TIMEOUT_SCALE environment variable (a number, default 1), and never
meant to measure speed.

Environment:
  MINIPC_BUILD         build directory holding the minipc binary
  MINIPC_SRC           source tree (default: two levels above this file)
  MINIPC_EMULATOR      default kind of emulator: "minipc" or "qemu"
  MINIPC_QEMU          path of qemu-system-i386 (default: from PATH)
  MINIPC_CACHE         guest image cache (default <src>/.cache/guests)
  MINIPC_BUILD_GUESTS  "1": build missing guest images instead of skipping
  MINIPC_KEEP_TMP      "1": keep the temporary directories of tests
  MINIPC_TIMEOUT_SCALE multiply every hang guard by this
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

SRC = os.environ.get("MINIPC_SRC") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))

# Kernel command line for a serial console, to pair with -kernel.
SERIAL_CMDLINE = "console=ttyS0,115200n8"
# What the small Linux guest prints when its shell on ttyS0 is ready.
READY_MARKER = r"MINIPC-GUEST-READY on /dev/ttyS0"
# Guest output that means a boot has failed (for wait_for's `fail`).
FAILURE_RE = (r"Kernel panic - not syncing|can't run '[^']*': |"
              r"No bootable device|Could not find kernel image")
# What the Debian installer asks first on its serial console.
INSTALLER_LANGUAGE = r"Choose the language"

ANSI_RE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>@-~])")


def strip_ansi(text):
    """Removes terminal escape sequences (CSI, charset selection, ESC x)."""
    return ANSI_RE.sub("", text)


def timeout_scale():
    try:
        return max(float(os.environ.get("MINIPC_TIMEOUT_SCALE", "1")), 0.01)
    except ValueError:
        return 1.0


def guard(seconds):
    """A hang guard in seconds, scaled by MINIPC_TIMEOUT_SCALE."""
    return seconds * timeout_scale()


class TestlibError(Exception):
    """Base of the errors of this module."""


class GuestTimeout(TestlibError):
    """A hang guard expired while waiting for the guest or the emulator."""


class GuestFailure(TestlibError):
    """The guest printed something that means the wait cannot succeed."""


class EmulatorExited(TestlibError):
    """The emulator process ended while we were waiting for it."""


class MonitorError(TestlibError):
    pass


class QMPError(TestlibError):
    def __init__(self, cmd, error):
        self.cmd, self.error = cmd, error
        super().__init__("QMP %s failed: %s: %s" % (
            cmd, error.get("class", "?"), error.get("desc", error)))


# ----------------------------------------------------------------- binaries

def default_kind():
    kind = os.environ.get("MINIPC_EMULATOR", "minipc")
    if kind not in ("minipc", "qemu"):
        raise TestlibError("MINIPC_EMULATOR must be 'minipc' or 'qemu', not %r" % kind)
    return kind


def emulator_binary(kind):
    """Path of the emulator of `kind` ("minipc" or "qemu"), or None."""
    if kind == "qemu":
        return os.environ.get("MINIPC_QEMU") or shutil.which("qemu-system-i386")
    if kind == "minipc":
        build = os.environ.get("MINIPC_BUILD") or os.path.join(SRC, "build")
        path = os.path.join(build, "minipc")
        return path if os.access(path, os.X_OK) else None
    raise TestlibError("unknown emulator kind %r" % kind)


def require_emulator(kind):
    """The emulator's path; skips the calling test when it is missing."""
    path = emulator_binary(kind)
    if not path:
        if kind == "qemu":
            raise unittest.SkipTest("qemu-system-i386 not installed (scripts/setup.sh --test)")
        raise unittest.SkipTest("minipc binary not built (MINIPC_BUILD=%s)"
                                % os.environ.get("MINIPC_BUILD", "build"))
    return path


def qemu_img():
    return shutil.which("qemu-img")


# ----------------------------------------------------------------- guests

GUEST_SCRIPTS = {"installer": "installer.sh", "linux": "linux.sh",
                 "data": "data.sh", "memtest": "memtest.sh"}
_build_lock = threading.Lock()
_build_tried = set()


def cache_dir():
    return os.environ.get("MINIPC_CACHE") or os.path.join(SRC, ".cache", "guests")


def guest_file(guest, name):
    """Path of a cached guest image file, e.g. guest_file("linux", "boot.qcow2").

    Guests: installer (linux, initrd.gz, boot.qcow2, cmdline), linux
    (vmlinuz, initramfs.gz, boot.qcow2, cmdline), data (ext4.qcow2, cd.iso),
    memtest (memtest.bin, memtest.iso, boot.qcow2). When the file is
    missing the calling test is skipped, unless MINIPC_BUILD_GUESTS=1, in
    which case tests/guests/<guest>.sh builds it first (once per process).
    """
    if guest not in GUEST_SCRIPTS:
        raise TestlibError("unknown guest %r (one of %s)" % (guest, ", ".join(sorted(GUEST_SCRIPTS))))
    path = os.path.join(cache_dir(), guest, name)
    if os.path.exists(path):
        return path
    script = os.path.join(SRC, "tests", "guests", GUEST_SCRIPTS[guest])
    if os.environ.get("MINIPC_BUILD_GUESTS") == "1":
        with _build_lock:
            if guest not in _build_tried:
                _build_tried.add(guest)
                env = dict(os.environ, MINIPC_CACHE=cache_dir())
                proc = subprocess.run([script], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, errors="replace")
                if proc.returncode != 0:
                    raise TestlibError("building guest %r failed (exit %d):\n%s"
                                       % (guest, proc.returncode, proc.stdout[-4000:]))
        if os.path.exists(path):
            return path
        raise TestlibError("%s did not produce %s" % (script, path))
    raise unittest.SkipTest("guest image %s not built: run tests/guests/build-all.sh "
                            "(or set MINIPC_BUILD_GUESTS=1)" % path)


def guest_cmdline(guest):
    """The kernel command line the guest's boot disk uses (serial console)."""
    with open(guest_file(guest, "cmdline")) as f:
        return f.read().strip()


def copy_image(path, directory, name=None):
    """A private writable copy of an image in `directory`; returns its path."""
    dest = os.path.join(directory, name or os.path.basename(path))
    shutil.copyfile(path, dest)
    return dest


def make_tmpdir(prefix="minipc-test-"):
    """A new temporary directory (remove it with remove_tmpdir)."""
    return tempfile.mkdtemp(prefix=prefix)


def remove_tmpdir(path):
    if os.environ.get("MINIPC_KEEP_TMP") == "1":
        print("keeping %s" % path)
        return
    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------- sockets

def connect_unix(path, proc=None, timeout=30.0):
    """Connects to a unix socket the emulator is about to create."""
    deadline = time.monotonic() + guard(timeout)
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise EmulatorExited("emulator exited with status %d before %s appeared"
                                 % (proc.returncode, path))
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError as e:
                last = e
                s.close()
        time.sleep(0.02)
    raise GuestTimeout("no connection to %s after %.0fs (%s)" % (path, guard(timeout), last))


class Serial:
    """A byte stream from the guest's serial port, read by a thread.

    Everything received is kept (and copied to `log_path` if given).
    wait_for() searches from a cursor that advances past each match, so
    successive waits see successive output.
    """

    def __init__(self, sock, log_path=None, alive=None):
        self.sock = sock
        self.alive = alive or (lambda: True)
        self.buf = bytearray()
        self.pos = 0
        self.closed = False
        self.cond = threading.Condition()
        self.log = open(log_path, "ab", buffering=0) if log_path else None
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _reader(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.buf += data
                if self.log:
                    self.log.write(data)
                self.cond.notify_all()

    def text(self, start=0):
        """Everything received from `start` on, as text (latin-1, 1:1)."""
        with self.cond:
            return bytes(self.buf[start:]).decode("latin-1")

    def tail(self, n=2000):
        return self.text(max(0, len(self.buf) - n))

    def mark(self):
        """Moves the cursor to the end: later waits only see new output."""
        with self.cond:
            self.pos = len(self.buf)
            return self.pos

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def wait_for(self, pattern, timeout=600, flags=re.S, fail=None):
        """Waits for `pattern` (regex on the latin-1 text) after the cursor.

        Returns the match (its positions are relative to the cursor at the
        call) and moves the cursor after it. `timeout` is a hang guard.
        `fail`: a regex that ends the wait at once with GuestFailure when it
        shows up first (e.g. FAILURE_RE: kernel panics), instead of waiting
        for the guard.
        """
        rx = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        frx = re.compile(fail, flags) if isinstance(fail, str) else fail
        deadline = time.monotonic() + guard(timeout)
        with self.cond:
            start = self.pos
            while True:
                text = bytes(self.buf[start:]).decode("latin-1")
                m = rx.search(text)
                if m:
                    self.pos = start + m.end()
                    return m
                f = frx.search(text) if frx else None
                if f:
                    raise GuestFailure("%r on the serial port while waiting for %r; last output:\n%s"
                                       % (f.group(0), rx.pattern, text[-3000:]))
                if self.closed or not self.alive():
                    raise EmulatorExited("serial closed / emulator gone while waiting for %r; "
                                         "last output:\n%s" % (rx.pattern, text[-2000:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestTimeout("no %r on the serial port after %.0fs; last output:\n%s"
                                       % (rx.pattern, guard(timeout), text[-2000:]))
                self.cond.wait(min(left, 0.5))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        if self.log:
            self.log.close()
            self.log = None


class GuestShell:
    """Runs commands in a guest shell on a serial port.

    Each command is wrapped between two markers that the shell prints but
    that never appear literally in what we type (the tty echoes input), so
    the output is exactly what the command printed:

        sh.run("ls /") -> (status, output)
        sh.check("ls /") -> output, raising if the status is not 0
    """

    def __init__(self, serial, timeout=300):
        self.serial = serial
        self.timeout = timeout
        self.count = 0

    def run(self, command, timeout=None):
        """Runs a one-line shell command (no trailing comment); returns
        (exit status, output with "\n" line ends)."""
        self.count += 1
        tag = "%d-%d" % (os.getpid(), self.count)
        command = command.strip()
        sep = " " if command.endswith("&") else " ;"
        # The quotes split the markers in the echoed line, so only the
        # shell's own output matches. One line: input typed ahead while a
        # command runs would be echoed into its output.
        line = "echo '=BEGIN'-%s; %s%s echo '=END'-%s-$?\n" % (tag, command, sep, tag)
        self.serial.write(line)
        m = self.serial.wait_for(r"=BEGIN-%s\r?\n(.*?)=END-%s-(\d+)\r?\n" % (tag, tag),
                                 timeout or self.timeout)
        return int(m.group(2)), m.group(1).replace("\r\n", "\n")

    def check(self, command, timeout=None):
        status, out = self.run(command, timeout)
        if status != 0:
            raise TestlibError("guest command %r failed with status %d:\n%s"
                               % (command, status, out))
        return out


# ----------------------------------------------------------------- monitor

PROMPT_RE = re.compile(rb"\((?:qemu|minipc)\) $")


class Monitor:
    """The HMP monitor over a unix socket ("(qemu) " or "(minipc) " prompt)."""

    def __init__(self, sock, timeout=60):
        self.sock = sock
        self.timeout = timeout
        self.banner = self._read_prompt(timeout).decode("latin-1")

    def _read_prompt(self, timeout):
        buf = b""
        deadline = time.monotonic() + guard(timeout)
        while not PROMPT_RE.search(buf):
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestTimeout("no monitor prompt after %.0fs; got %r" % (guard(timeout), buf[-500:]))
            r, _, _ = select.select([self.sock], [], [], min(left, 1.0))
            if r:
                data = self.sock.recv(65536)
                if not data:
                    raise EmulatorExited("monitor connection closed; got %r" % buf[-500:])
                buf += data
        return buf

    def cmd(self, line, timeout=None):
        """Runs one command; returns its output (echo, escapes, prompt removed)."""
        if "\n" in line:
            raise MonitorError("one command per call")
        self.sock.sendall(line.encode() + b"\n")
        raw = self._read_prompt(timeout or self.timeout)
        text = strip_ansi(PROMPT_RE.sub(b"", raw).decode("latin-1")).replace("\r", "")
        lines = text.split("\n")
        # QEMU echoes the line as typed (with redraws): drop that echo
        if lines and lines[0].endswith(line):
            lines = lines[1:]
        return "\n".join(lines).strip("\n")

    def cmd_quit(self, timeout=None):
        """Sends "quit"; the connection closing is the answer."""
        self.sock.sendall(b"quit\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def parse_xp(text):
    """Values of an `x`/`xp` dump: [(address, [values...]), ...] in order."""
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-fA-F]+):\s*(.*)$", line)
        if not m:
            continue
        vals = [int(v, 16) for v in re.findall(r"0x([0-9a-fA-F]+)", m.group(2))]
        out.append((int(m.group(1), 16), vals))
    return out


def read_phys(monitor, addr, count, unit="h"):
    """`count` units ("b", "h", "w") of guest-physical memory via `xp`."""
    out = []
    chunk = 512
    size = {"b": 1, "h": 2, "w": 4}[unit]
    while len(out) < count:
        n = min(chunk, count - len(out))
        a = addr + len(out) * size
        text = monitor.cmd("xp /%d%sx 0x%x" % (n, unit, a))
        got = [v for _, vals in parse_xp(text) for v in vals]
        if len(got) != n:
            raise MonitorError("xp /%d%sx 0x%x returned %d values:\n%s" % (n, unit, a, len(got), text))
        out += got
    return out


def vga_text_cells(monitor, cols=80, rows=25, base=0xB8000):
    """(character code, attribute) of each cell of the VGA text screen."""
    words = read_phys(monitor, base, cols * rows, "h")
    return [(w & 0xFF, w >> 8) for w in words]


def vga_text_screen(monitor, cols=80, rows=25, base=0xB8000):
    """The VGA text screen as `rows` strings (code page 437 decoded)."""
    cells = vga_text_cells(monitor, cols, rows, base)
    chars = bytes(c for c, _ in cells).decode("cp437")
    return [chars[r * cols:(r + 1) * cols].rstrip() for r in range(rows)]


# ----------------------------------------------------------------- QMP

class QMP:
    """A QMP client: greeting, capabilities negotiation, commands, events."""

    def __init__(self, sock, timeout=60):
        self.sock = sock
        self.timeout = timeout
        self.rbuf = b""
        self.events = []
        self.next_id = 0
        self.greeting = self._recv(timeout)
        if "QMP" not in self.greeting:
            raise QMPError("greeting", {"desc": "unexpected greeting %r" % self.greeting})
        self.execute("qmp_capabilities")

    def _recv(self, timeout):
        deadline = time.monotonic() + guard(timeout)
        while b"\n" not in self.rbuf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestTimeout("no QMP message after %.0fs" % guard(timeout))
            r, _, _ = select.select([self.sock], [], [], min(left, 1.0))
            if r:
                data = self.sock.recv(65536)
                if not data:
                    raise EmulatorExited("QMP connection closed")
                self.rbuf += data
        line, self.rbuf = self.rbuf.split(b"\n", 1)
        line = line.strip()
        if not line:
            return self._recv(timeout)
        return json.loads(line)

    def execute(self, cmd, arguments=None, timeout=None):
        """Runs a command; returns its "return" value, raises QMPError."""
        self.next_id += 1
        msg = {"execute": cmd, "id": self.next_id}
        if arguments is not None:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            resp = self._recv(timeout or self.timeout)
            if "event" in resp:
                self.events.append(resp)
                continue
            if resp.get("id") != self.next_id:
                continue
            if "error" in resp:
                raise QMPError(cmd, resp["error"])
            return resp.get("return")

    def hmp(self, command_line):
        """An HMP command through human-monitor-command."""
        return self.execute("human-monitor-command", {"command-line": command_line})

    def wait_event(self, name, timeout=60, match=None):
        """Returns (and removes) the first event `name` (and `match(ev)`)."""
        deadline = time.monotonic() + guard(timeout)
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("event") == name and (match is None or match(ev)):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestTimeout("no QMP event %s after %.0fs" % (name, guard(timeout)))
            ev = self._recv(left)
            if "event" in ev:
                self.events.append(ev)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------------- machine

class Machine:
    """One emulator process with its serial port, monitor and QMP sockets.

    args: the emulator arguments (QEMU syntax) apart from the ones this
    class adds: -serial, -monitor, -qmp (on request), -display none (unless
    `display` is given, e.g. "sdl", or args already choose one), and for
    QEMU "-accel tcg". kind: "minipc" or "qemu" (default: MINIPC_EMULATOR,
    else minipc). A missing binary skips the test. Without `workdir` it
    makes a temporary one, removed by cleanup() (or leaving a `with`
    block); quit()/kill() end the process but keep the files to inspect.
    """

    def __init__(self, args, kind=None, workdir=None, serial=True, monitor=True,
                 qmp=False, display="none", start=True):
        self.kind = kind or default_kind()
        self.binary = require_emulator(self.kind)
        self.own_workdir = workdir is None
        self.workdir = workdir or make_tmpdir("minipc-vm-")
        self.serial = self.monitor = self.qmp = None
        self.proc = None
        self.log_path = os.path.join(self.workdir, "emulator.log")
        self.serial_log = os.path.join(self.workdir, "serial.log")
        cmd = [self.binary]
        if self.kind == "qemu":
            cmd += ["-accel", "tcg"]
        if display and not any(a in ("-display", "-nographic") for a in args):
            cmd += ["-display", display]
        self.sockets = {}
        for name, wanted, opt in (("serial", serial, "-serial"), ("monitor", monitor, "-monitor"),
                                  ("qmp", qmp, "-qmp")):
            if wanted:
                path = os.path.join(self.workdir, name + ".sock")
                self.sockets[name] = path
                cmd += [opt, "unix:%s,server,nowait" % path]
            elif name != "qmp":
                cmd += [opt, "none"]
        self.cmdline = cmd + list(args)
        if start:
            self.start()

    def start(self):
        for path in self.sockets.values():
            if os.path.exists(path):
                os.unlink(path)
        self.log = open(self.log_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=self.workdir)
        try:
            if "serial" in self.sockets:
                self.serial = Serial(connect_unix(self.sockets["serial"], self.proc),
                                     self.serial_log, alive=self.alive)
            if "monitor" in self.sockets:
                self.monitor = Monitor(connect_unix(self.sockets["monitor"], self.proc))
            if "qmp" in self.sockets:
                self.qmp = QMP(connect_unix(self.sockets["qmp"], self.proc))
        except Exception:
            self.kill()
            raise
        return self

    def elapsed(self):
        """Seconds since the process started (for reports, never for asserts)."""
        return time.monotonic() - self.started

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def emulator_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def shell(self, timeout=300):
        return GuestShell(self.serial, timeout)

    def vga_text_screen(self, cols=80, rows=25):
        return vga_text_screen(self.monitor, cols, rows)

    def wait_exit(self, timeout=120):
        """Waits for the process to end; returns its exit status."""
        try:
            return self.proc.wait(guard(timeout))
        except subprocess.TimeoutExpired:
            raise GuestTimeout("emulator still running after %.0fs" % guard(timeout))

    def quit(self, timeout=60):
        """Graceful shutdown through the monitor ("quit"), else QMP, else
        SIGTERM; returns the exit status."""
        if self.alive():
            try:
                if self.monitor:
                    self.monitor.cmd_quit()
                elif self.qmp:
                    self.qmp.execute("quit")
                else:
                    self.proc.terminate()
            except (OSError, TestlibError):
                pass
        try:
            return self.wait_exit(timeout)
        finally:
            self.close()

    def kill(self):
        """Forced shutdown: SIGTERM, then SIGKILL after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close()

    def close(self):
        """Kills the process if needed and releases sockets and files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for part in (self.serial, self.monitor, self.qmp):
            if part:
                part.close()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cleanup(self):
        self.close()
        if self.own_workdir:
            remove_tmpdir(self.workdir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def describe(self):
        """Context for a failure message: command line and log tails."""
        out = "command: %s\n" % " ".join(self.cmdline)
        out += "emulator log:\n%s\n" % self.emulator_log()[-2000:]
        if self.serial:
            out += "serial tail:\n%s\n" % self.serial.tail(2000)
        return out
