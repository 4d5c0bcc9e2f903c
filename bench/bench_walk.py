#!/usr/bin/env python3
"""Benchmark: framescope's stack walk against the standard library, side by side.

Every candidate is timed in the same process, at the same stack depth, in interleaved rounds
(each round times one batch of calls of every candidate, in rotating order); the table shows
the median time per call and the ratio to framescope. Targets (README, "Benchmarks"):

    getframe(d)            <= 1.0x  sys._getframe(d), d = 0 and 5
    stack() at depth 50    >= 300x faster than inspect.stack()
                           >=  30x faster than traceback.extract_stack()
                           >=   3x faster than a Python f_back loop collecting
                                  (filename, lineno, name)

Run: ./dev bench (every interpreter) or python bench/bench_walk.py (this one).
"""

from __future__ import annotations

import inspect
import sys
import traceback

from _timing import calls_of, compare, fmt_time, heading, parse_args, print_table, verdict

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


def main() -> int:
    args = parse_args(__doc__)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000))
    heading(f"stack walk: framescope {framescope.__version__}", args.row, args.rounds)
    missed = []

    rows = []
    for depth in (0, 5):
        def measure(depth=depth):
            return compare([("framescope", calls_of(framescope.getframe, depth)),
                            ("sys", calls_of(sys._getframe, depth)),
                            ("nanobind", calls_of(_core._getframe_nanobind, depth))],
                           args.rounds, args.batch)
        m = descend(20, measure)
        ratio = m["framescope"] / m["sys"]
        ok = ratio <= 1.0
        if not ok:
            missed.append(f"getframe({depth}) is {ratio:.2f}x sys._getframe (target <= 1.0x)")
        rows.append([f"getframe({depth})", fmt_time(m["framescope"]),
                     f"sys._getframe({depth})", fmt_time(m["sys"]), f"{ratio:.2f}x",
                     "<= 1.00x", "yes" if ok else "NO",
                     f"{m['nanobind'] / m['sys']:.2f}x"])
    print_table("getframe (framescope time / sys._getframe time)",
                ["call", "framescope", "baseline", "time", "ratio", "target", "met",
                 "nanobind-bound"], rows)

    rows = []
    targets = {"inspect.stack()": 300, "traceback.extract_stack()": 30, "f_back loop": 3}
    for depth in (10, 50, 200):
        def measure(depth=depth):
            assert len(framescope.stack()) == depth
            return compare([("stack", calls_of(framescope.stack)),
                            ("inspect.stack()", calls_of(inspect.stack)),
                            ("traceback.extract_stack()", calls_of(traceback.extract_stack)),
                            ("f_back loop", calls_of(f_back_loop))],
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
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
