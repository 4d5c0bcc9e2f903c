#!/usr/bin/env python3
"""Benchmark: framescope's C API (framescope.h) against what C code does without it, side by
side, each operation run in a loop in C (bench/capi_bench.c, built here from the installed
header).

The frame is a function with eight variables that waits on a call (a frame up the stack). Each
loop is timed in interleaved rounds; the table shows medians per operation and ratios.

Baselines:
  3.13+      CPython's own PyFrame_GetVar and PyFrame_GetLocals; writes through its proxy
             (PyFrame_GetLocals + PyObject_SetItem)
  3.10-3.12  what backports of those functions do there (pythoncapi-compat's approach): read
             f_locals, which copies every variable into a dict, and look the name up; writes
             by the idiom that reaches the frame: f_locals, a store into it,
             PyFrame_LocalsToFast
  walks      PyThreadState_GetFrame + PyFrame_GetBack, reading each frame's code and line,
             against FsFrame_Walk, on a 50-deep stack of functions of twenty lines that call
             the next from their end (as a program's are), and for information of one-line
             functions (where a line costs least to find)

Targets (issue "The C API"):
  3.13+      FsFrame_GetVar and FsFrame_GetLocals <= 1.1x CPython's time
  3.10-3.12  FsFrame_GetVar and FsFrame_GetLocals >= 5x faster; FsFrame_SetVar >= 10x faster
  walks      >= 3x faster, and no allocation (the first walk of a fresh stack: PyFrame_GetBack
             creates a frame object per frame on 3.11+, FsFrame_Walk nothing; the first time
             it meets a code object it decodes its line table once, kept until the code is freed,
             which the warm-up does here)

Run: ./dev bench --script capi (every interpreter) or python bench/bench_capi.py (this one).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _timing import compare, fmt_time, heading, parse_args, print_table, verdict
from bench_locals import target  # the frame both benchmarks read: eight variables, waiting

import framescope
from framescope import _caps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "capi"))
import build as capi_build  # noqa: E402  (tests/capi/build.py)

NATIVE = _caps.FRAME_LOCALS_PROXY  # CPython's own functions read the frame directly
DEPTH = 50


def loop_timer(fn, frame, name):
    def timer(n: int) -> float:
        start = time.perf_counter()
        fn(frame, name, n)
        return (time.perf_counter() - start) / n
    return timer


def recurse(n, fn):
    return fn() if n == 0 else recurse(n - 1, fn)


def deep(n, fn):
    """A function of twenty lines, as a program's are, that calls the next at its end."""
    total = 0
    for i in range(3):
        total += i
    name = f"level {n}"
    parts = name.split()
    if not parts:
        raise AssertionError(name)
    values = [total, len(parts)]
    values.append(n)
    mapping = {"n": n, "total": total}
    if mapping["n"] != n:
        raise AssertionError(mapping)
    text = " ".join(str(v) for v in values)
    if not text:
        raise AssertionError(values)
    if n == 0:
        return fn()
    return deep(n - 1, fn)


def first_walk_allocations(walk) -> int:
    """Memory blocks left allocated by the first walk of a fresh 50-deep stack (the code
    objects were walked before: see the targets)."""
    def measure():
        before = sys.getallocatedblocks()
        walk(None, None, 1)
        return sys.getallocatedblocks() - before

    def control():
        before = sys.getallocatedblocks()
        len(())
        return sys.getallocatedblocks() - before

    deep(DEPTH, measure)  # (the code objects' first walk)
    return deep(DEPTH, measure) - deep(DEPTH, control)


def main() -> int:
    args = parse_args(__doc__)
    heading(f"C API: framescope {framescope.__version__}", args.row, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        path = capi_build.compile_module("_fs_capi_bench",
                                         [Path(__file__).resolve().parent / "capi_bench.c"],
                                         Path(tmp))
        ext = capi_build.load("_fs_capi_bench", path)

    def run(frame):
        pairs = {op: (loop_timer(getattr(ext, f"{op}_fs"), frame, "d"),
                      loop_timer(getattr(ext, f"{op}_cpython"), frame, "d"))
                 for op in ("getvar", "getlocals", "setvar")}
        candidates = [(f"{op} {who}", t) for op, (fs, cp) in pairs.items()
                      for who, t in (("fs", fs), ("cpython", cp))]
        return compare(candidates, args.rounds, args.batch)

    m, (d, *_) = target(1, 2, 3, run)
    assert isinstance(d, int) and 0 <= d <= 255, "the writes did not reach the frame"

    def walk_pair():
        return compare([("walk fs", loop_timer(ext.walk_fs, None, None)),
                        ("walk cpython", loop_timer(ext.walk_cpython, None, None))],
                       args.rounds, args.batch)

    shapes = {"20-line functions": deep, "1-line functions": recurse}
    walks = {shape: stack(DEPTH, walk_pair) for shape, stack in shapes.items()}
    frames_seen = deep(DEPTH, lambda: ext.walk_fs(None, None, 1))
    assert frames_seen == deep(DEPTH, lambda: ext.walk_cpython(None, None, 1)) > DEPTH
    alloc_fs = first_walk_allocations(ext.walk_fs)
    alloc_cpython = first_walk_allocations(ext.walk_cpython)

    names = {
        "getvar": ("FsFrame_GetVar", "PyFrame_GetVar" if NATIVE else "f_locals + lookup"),
        "getlocals": ("FsFrame_GetLocals", "PyFrame_GetLocals" if NATIVE else "f_locals"),
        "setvar": ("FsFrame_SetVar", "proxy write" if NATIVE else "f_locals + LocalsToFast"),
    }
    rows, missed = [], []
    for op, (fs_name, base_name) in names.items():
        fs, base = m[f"{op} fs"], m[f"{op} cpython"]
        if NATIVE:
            limit = 1.1 if op != "setvar" else None
            ratio = fs / base
            ok = limit is None or ratio <= limit
            rows.append([fs_name, fmt_time(fs, precise=True), base_name,
                         fmt_time(base, precise=True), f"{ratio:.2f}x time",
                         f"<= {limit}x" if limit else "(none)",
                         ("yes" if ok else "NO") if limit else ""])
            if not ok:
                missed.append(f"{fs_name}: {ratio:.2f}x {base_name}'s time (target <= {limit}x)")
        else:
            need = 10 if op == "setvar" else 5
            speedup = base / fs
            ok = speedup >= need
            rows.append([fs_name, fmt_time(fs, precise=True), base_name,
                         fmt_time(base, precise=True), f"{speedup:.1f}x faster", f">= {need}x",
                         "yes" if ok else "NO"])
            if not ok:
                missed.append(f"{fs_name}: {speedup:.1f}x faster than {base_name} "
                              f"(target >= {need}x)")
    for shape, times in walks.items():
        fs, base = times["walk fs"], times["walk cpython"]
        speedup = base / fs
        judged = shape == "20-line functions"
        ok = speedup >= 3 and alloc_fs == 0
        rows.append([f"FsFrame_Walk, {shape}", fmt_time(fs), "PyFrame_GetBack loop",
                     fmt_time(base), f"{speedup:.1f}x faster",
                     ">= 3x, 0 alloc" if judged else "(none)",
                     ("yes" if ok else "NO") if judged else ""])
        if judged and not ok:
            missed.append(f"FsFrame_Walk: {speedup:.1f}x faster, {alloc_fs} allocations "
                          "(target >= 3x, 0)")
    print_table("one operation from C, per call (the frame waits on a call; walks: the whole "
                "stack)", ["framescope", "time", "baseline", "time", "ratio", "target", "met"],
                rows)
    print(f"\n  {frames_seen} frames; first walk of a fresh {DEPTH}-deep stack, memory blocks "
          "allocated: "
          f"FsFrame_Walk {alloc_fs}, PyFrame_GetBack loop {alloc_cpython}")
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
