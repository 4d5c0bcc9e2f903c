#!/usr/bin/env python3
"""Benchmark: framescope's stack walk against the standard library, side by side.

Every candidate is timed in the same process, at the same stack depth, in interleaved rounds
(each round times one batch of calls of every candidate, in rotating order); the table shows
the median time per call and the ratio to framescope. Targets (README, "Benchmarks"):

    getframe(d)            <= 1.1x  sys._getframe(d), d = 0 and 5
    stack() at depth 50    >= 300x faster than inspect.stack()
                           >=  30x faster than traceback.extract_stack()
                           >=   3x faster than a Python f_back loop collecting
                                  (filename, lineno, name)

Run: ./dev bench (every interpreter) or python bench/bench_walk.py (this one).
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
import traceback

import framescope
from framescope import _core


def f_back_loop():
    frame = sys._getframe(1)
    out = []
    while frame is not None:
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return out


def descend(target: int, fn):
    """Calls fn with exactly `target` frames on the stack, fn's own included."""
    if len(framescope.stack()) + 1 >= target:
        return fn()
    return descend(target, fn)


def timed_batch(fn, arg, calls: int) -> float:
    """Seconds per call of fn(arg) over a batch (arg None: fn())."""
    if arg is None:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    start = time.perf_counter()
    for _ in range(calls):
        fn(arg)
    return (time.perf_counter() - start) / calls


def compare(candidates: list[tuple[str, object, object]], rounds: int,
            batch_seconds: float) -> dict[str, float]:
    """Median seconds per call of each (name, fn, arg), measured in interleaved rounds."""
    calls = {}
    for name, fn, arg in candidates:  # calibrate each batch to ~batch_seconds
        n = 1
        while True:
            t = timed_batch(fn, arg, n) * n
            if t >= batch_seconds / 4 or n >= 1 << 22:
                break
            n *= 4
        calls[name] = max(1, int(n * batch_seconds / max(t, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name, _, _ in candidates}
    for r in range(rounds):
        order = candidates[r % len(candidates):] + candidates[:r % len(candidates)]
        for name, fn, arg in order:
            samples[name].append(timed_batch(fn, arg, calls[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def fmt_time(seconds: float) -> str:
    ns = seconds * 1e9
    return f"{ns:.0f} ns" if ns < 10_000 else f"{ns / 1000:.1f} us"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="", help="a name for this interpreter in the heading")
    ap.add_argument("--rounds", type=int, default=15, help="rounds per comparison (default 15)")
    ap.add_argument("--batch", type=float, default=0.01,
                    help="seconds per batch of calls (default 0.01)")
    args = ap.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000))
    version = sys.version.split()[0] + ("-debug" if hasattr(sys, "gettotalrefcount") else "")
    print(f"== framescope {framescope.__version__}, CPython {version} {args.row}".rstrip())
    print(f"   median of {args.rounds} interleaved rounds; ratio = other / framescope")
    missed = []

    rows = []
    for depth in (0, 5):
        def measure(depth=depth):
            return compare([("framescope", framescope.getframe, depth),
                            ("sys", sys._getframe, depth),
                            ("nanobind", _core._getframe_nanobind, depth)],
                           args.rounds, args.batch)
        m = descend(20, measure)
        ratio = m["framescope"] / m["sys"]
        ok = ratio <= 1.1
        if not ok:
            missed.append(f"getframe({depth}) is {ratio:.2f}x sys._getframe (target <= 1.1x)")
        rows.append([f"getframe({depth})", fmt_time(m["framescope"]),
                     f"sys._getframe({depth})", fmt_time(m["sys"]), f"{ratio:.2f}x",
                     "<= 1.10x", "yes" if ok else "NO",
                     f"{m['nanobind'] / m['sys']:.2f}x"])
    print_table("getframe (framescope time / sys._getframe time)",
                ["call", "framescope", "baseline", "time", "ratio", "target", "met",
                 "nanobind-bound"], rows)

    rows = []
    targets = {"inspect.stack()": 300, "traceback.extract_stack()": 30, "f_back loop": 3}
    for depth in (10, 50, 200):
        def measure(depth=depth):
            assert len(framescope.stack()) == depth
            return compare([("stack", framescope.stack, None),
                            ("inspect.stack()", inspect.stack, None),
                            ("traceback.extract_stack()", traceback.extract_stack, None),
                            ("f_back loop", f_back_loop, None)],
                           args.rounds, args.batch)
        m = descend(depth, measure)
        row = [str(depth), fmt_time(m["stack"])]
        for name, target in targets.items():
            speedup = m[name] / m["stack"]
            row.append(f"{speedup:.0f}x" if speedup >= 10 else f"{speedup:.1f}x")
            if depth == 50 and speedup < target:
                missed.append(f"stack() at depth 50 is {speedup:.1f}x faster than {name} "
                              f"(target >= {target}x)")
        rows.append(row)
    print_table("stack() (how many times faster framescope is; targets at depth 50: "
                "300x, 30x, 3x)",
                ["depth", "stack()", "inspect.stack()", "extract_stack()", "f_back loop"], rows)
    print()
    if missed:
        for m in missed:
            print(f"target missed: {m}")
    else:
        print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
