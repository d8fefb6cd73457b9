"""Savevm stream throughput: 1 GiB of guest RAM with 30% non-zero pages,
saved to and loaded from a file and a qcow2 vmstate area.

Builds tests/bench/bench-migration.c against the build's libminipc.a
(with the qcow2 part when the library has the block layer). The
reference for the ratio is the plain cost of the bytes involved: one
write() of the stream-sized buffer to a file (save) and one read() of it
back plus a copy into RAM (load) -- the memory/page-cache limit.
"""
import os
import re
import subprocess
import time


def _config(build):
    cfg = {}
    with open(os.path.join(build, "config-host.mak")) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                cfg[k] = v
    return cfg


def _build(ctx):
    cfg = _config(ctx.build)
    lib = os.path.join(ctx.build, "libminipc.a")
    src = os.path.join(ctx.src, "tests", "bench", "bench-migration.c")
    out = os.path.join(ctx.scratch, "bench-migration")
    nm = subprocess.run(["nm", lib], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    with_block = re.search(r" T bdrv_open$", nm, re.M) is not None
    cmd = [cfg.get("CC", "cc")] + cfg["CFLAGS"].split() + [
        "-I" + ctx.build, "-I" + os.path.join(ctx.src, "include")]
    if with_block:
        cmd.append("-DBENCH_WITH_BLOCK")
    cmd += ["-o", out, src, lib] + cfg.get("ZLIB_LIBS", "").split() + \
        cfg.get("SDL_LIBS", "").split() + cfg.get("SLIRP_LIBS", "").split() + \
        ["-lm", "-lutil", "-lpthread"] + cfg.get("LDFLAGS", "").split()
    subprocess.run(cmd, check=True)
    return out, with_block


def _reference(ctx, nbytes, ram_bytes):
    """Seconds for the raw I/O: write nbytes to a file; read them back and
    copy into a RAM-sized buffer's worth of pages."""
    path = os.path.join(ctx.scratch, "ref.bin")
    buf = os.urandom(1 << 20) * (nbytes // (1 << 20) + 1)
    buf = memoryview(buf)[:nbytes]
    dst = bytearray(nbytes)
    t_write = t_read = None
    for _ in range(3):      # best of three, like the C side
        t = time.perf_counter()
        with open(path, "wb", buffering=0) as f:
            f.write(buf)
        d = time.perf_counter() - t
        t_write = d if t_write is None else min(t_write, d)
        t = time.perf_counter()
        with open(path, "rb", buffering=0) as f:
            f.readinto(dst)
        d = time.perf_counter() - t
        t_read = d if t_read is None else min(t_read, d)
    os.unlink(path)
    return t_write, t_read


def run(ctx):
    exe, with_block = _build(ctx)
    mib = 128 if ctx.quick else 1024
    out = subprocess.run([exe, ctx.scratch, str(mib), "30"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    vals = {}
    for line in out.splitlines():
        k, v = line.split()
        vals[k] = float(v)
    gib = mib / 1024.0
    ram_bytes = mib << 20
    for kind in ("file", "qcow2"):
        if kind + "_save_s" not in vals:
            ctx.note("migration %s" % kind, "skipped (library has no block layer yet)")
            continue
        save, load = vals[kind + "_save_s"], vals[kind + "_load_s"]
        stream = int(vals[kind + "_stream_bytes"])
        ref_w, ref_r = _reference(ctx, stream, ram_bytes)
        extra = "%.2f GB/s of RAM, stream %.0f MiB" % (ram_bytes / save / 1e9, stream / 2**20)
        ctx.report("migration save %s %.0f GiB 30%%" % (kind, gib), save, ref_w, extra)
        extra = "%.2f GB/s of RAM" % (ram_bytes / load / 1e9)
        ctx.report("migration load %s %.0f GiB 30%%" % (kind, gib), load, ref_r, extra)
    ctx.note("migration targets", "file: save >= 2 GB/s, load >= 3 GB/s")
