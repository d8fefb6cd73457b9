#!/usr/bin/env python3
"""Side-by-side benchmarks: minipc against qemu-img / qemu-system-i386.

Each tests/bench/bench_*.py module defines run(ctx). ctx gives the build
and source directories, a scratch directory, and report(), which prints
one comparison line with the time ratio (minipc / reference; below 1.0
means minipc is faster). Benchmarks are not tests: nothing here fails a
build, and numbers depend on the machine.
"""
import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Context:
    def __init__(self, build, scratch, quick):
        self.build = build
        self.src = SRC
        self.scratch = scratch
        self.quick = quick
        self.results = []

    def bin(self, name):
        return os.path.join(self.build, name)

    def timeit(self, fn, repeat=1):
        """Best wall-clock time of fn() over 'repeat' runs, in seconds."""
        best = None
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            d = time.perf_counter() - t
            best = d if best is None else min(best, d)
        return best

    def report(self, name, minipc_s, ref_s, extra=""):
        ratio = minipc_s / ref_s if ref_s else float("nan")
        self.results.append((name, minipc_s, ref_s, ratio, extra))
        print("%-48s minipc %9.3fs  ref %9.3fs  ratio %5.2f  %s"
              % (name, minipc_s, ref_s, ratio, extra), flush=True)

    def note(self, name, text):
        print("%-48s %s" % (name, text), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", dest="pattern", help="only benchmarks whose module name contains this")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for trying things out")
    args = ap.parse_args()
    bdir = os.path.join(SRC, "tests", "bench")
    scratch = tempfile.mkdtemp(prefix="minipc-bench-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    ctx = Context(os.path.abspath(args.build), scratch, args.quick)
    try:
        for name in sorted(os.listdir(bdir)):
            if not (name.startswith("bench_") and name.endswith(".py")):
                continue
            if args.pattern and args.pattern not in name:
                continue
            spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(bdir, name))
            mod = importlib.util.module_from_spec(spec)
            print("== %s" % name[:-3], flush=True)
            try:
                spec.loader.exec_module(mod)
                mod.run(ctx)
            except Exception:
                traceback.print_exc()
                print("%s: benchmark failed to run" % name, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if ctx.results:
        print("\nSummary (time ratio minipc/reference, <= 1.0 is the target):")
        for name, m, r, ratio, extra in ctx.results:
            print("  %-46s %5.2f" % (name, ratio))


if __name__ == "__main__":
    sys.exit(main())
