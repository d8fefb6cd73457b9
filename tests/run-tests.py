#!/usr/bin/env python3
"""Runs every minipc test suite and prints one summary line.

Suites:
  unit         Check programs build/tests/unit/test-*     (sanitizer build)
  fuzz         fuzz smoke drivers build/tests/fuzz/smoke-* (sanitizer build)
  integration  tests/integration/test_*.py, Python unittest, driving the
               real binaries of the optimised build

The last line of output is always "N passed, N failed" (skipped tests
are reported on the line before and count as neither).
"""
import argparse
import os
import re
import subprocess
import sys
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_SUMMARY = re.compile(r"(\d+)%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")


class Totals:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []

    def fail(self, name, why):
        self.failed += 1
        self.failures.append((name, why))


def run_unit(build, totals, pattern):
    udir = os.path.join(build, "tests", "unit")
    if not os.path.isdir(udir):
        return
    for name in sorted(os.listdir(udir)):
        path = os.path.join(udir, name)
        if not name.startswith("test-") or "." in name or not os.access(path, os.X_OK):
            continue
        if pattern and pattern not in name:
            continue
        env = dict(os.environ, CK_VERBOSITY="normal", CK_FORK="yes")
        start = time.time()
        proc = subprocess.run([path], cwd=SRC, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
        out = proc.stdout
        m = None
        for m in CHECK_SUMMARY.finditer(out):
            pass
        if not m:
            print(out)
            totals.fail("unit/" + name, "no Check summary (exit %d)" % proc.returncode)
            print("unit  %-40s CRASHED (exit %d)" % (name, proc.returncode))
            continue
        checks, fails, errors = int(m.group(2)), int(m.group(3)), int(m.group(4))
        totals.passed += checks - fails - errors
        if fails or errors or proc.returncode:
            print(out)
            for _ in range(fails + errors):
                totals.failures.append(("unit/" + name, "see output above"))
            totals.failed += fails + errors
            if proc.returncode and not (fails or errors):
                totals.fail("unit/" + name, "exit status %d" % proc.returncode)
        print("unit  %-40s %d checks, %d failed  (%.1fs)"
              % (name, checks, fails + errors, time.time() - start))


def run_fuzz(build, totals, pattern):
    fdir = os.path.join(build, "tests", "fuzz")
    if not os.path.isdir(fdir):
        return
    for name in sorted(os.listdir(fdir)):
        path = os.path.join(fdir, name)
        if not name.startswith("smoke-") or "." in name or not os.access(path, os.X_OK):
            continue
        if pattern and pattern not in name:
            continue
        target = name[len("smoke-"):]
        corpus = os.path.join(SRC, "tests", "fuzz", "corpus", target)
        start = time.time()
        proc = subprocess.run([path, corpus], cwd=SRC, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace")
        if proc.returncode == 0:
            totals.passed += 1
            status = "ok"
        else:
            print(proc.stdout[-8000:])
            totals.fail("fuzz/" + target, "exit status %d" % proc.returncode)
            status = "FAILED"
        print("fuzz  %-40s %s  (%.1fs)" % (target, status, time.time() - start))


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


def run_integration(build, totals, pattern):
    os.environ["MINIPC_BUILD"] = os.path.abspath(build)
    os.environ["MINIPC_SRC"] = SRC
    idir = os.path.join(SRC, "tests", "integration")
    sys.path.insert(0, idir)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    suite = loader.discover(idir, pattern="test_*.py", top_level_dir=idir)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult,
                                     stream=sys.stdout)
    result = runner.run(suite)
    totals.passed += result.passed
    totals.skipped += len(result.skipped)
    for test, tb in result.failures + result.errors:
        totals.fail("integration/" + test.id(), tb.strip().splitlines()[-1])
    for test, _ in result.unexpectedSuccesses:
        totals.fail("integration/" + test.id(), "unexpected success")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build", help="optimised build directory")
    ap.add_argument("--san-build", help="sanitizer build for unit and fuzz suites")
    ap.add_argument("--only", choices=["unit", "fuzz", "integration"], action="append")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    san = os.path.abspath(args.san_build or args.build)
    suites = args.only or ["unit", "fuzz", "integration"]
    totals = Totals()
    sys.stdout.reconfigure(line_buffering=True)
    if "unit" in suites:
        run_unit(san, totals, args.pattern)
    if "fuzz" in suites:
        run_fuzz(san, totals, args.pattern)
    if "integration" in suites:
        run_integration(args.build, totals, args.pattern)
    if totals.failures:
        print("\nFailures:")
        for name, why in totals.failures:
            print("  %s: %s" % (name, why))
    print("%d skipped" % totals.skipped)
    print("%d passed, %d failed" % (totals.passed, totals.failed))
    sys.exit(1 if totals.failed else 0)


if __name__ == "__main__":
    main()
