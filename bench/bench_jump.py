#!/usr/bin/env python3
"""Benchmark: what a pending framescope.jump() costs code that has nothing to do with it.

A jump waits on a frame: an outer frame, for the call it is in to return; or a suspended
generator, for its next resumption. Meanwhile other functions run. Each workload below runs in
such other functions, timed with and without a jump pending, in interleaved rounds (each round
times one batch of each case, in rotating order); the table shows medians and the ratio.
Target (README, "Benchmarks"): <= 1.05x.

Run: ./dev bench (every interpreter) or python bench/bench_jump.py (this one).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import framescope


def helper(i):
    return i + 1


def calls(n):
    """A loop of calls of a small Python function."""
    start = time.perf_counter()
    for i in range(n):
        helper(i)
    return time.perf_counter() - start


def arithmetic(n):
    """A loop without calls."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * 2 % 7
    return time.perf_counter() - start


def _items(n):
    yield from range(n)


def generator(n):
    """A generator consumed by a loop."""
    start = time.perf_counter()
    for _ in _items(n):
        pass
    return time.perf_counter() - start


def waiting_frame(workload, n, pending):
    """Runs the workload in a callee while, if `pending`, a jump waits on this frame."""
    elapsed = _run_for(sys._getframe(), workload, n, pending)
    return elapsed  # where the jump lands (the next line anyway): only its cost shows


def _run_for(waiter, workload, n, pending):
    if pending:
        framescope.jump(waiter, waiter.f_lineno + 1)
    return workload(n)


def suspended():
    yield 1
    yield 2


def waiting_generator(workload, n, pending):
    """Runs the workload while, if `pending`, a jump waits on a suspended generator."""
    gen = suspended()
    next(gen)
    if pending:
        framescope.jump(gen, suspended.__code__.co_firstlineno + 2)
    elapsed = workload(n)
    framescope.cancel_jump(gen)
    return elapsed


def measure(waiter, workload, n: int, rounds: int) -> tuple[float, float]:
    samples = {False: [], True: []}
    for r in range(rounds):
        for pending in ((False, True) if r % 2 == 0 else (True, False)):
            samples[pending].append(waiter(workload, n, pending) / n)
    return statistics.median(samples[False]), statistics.median(samples[True])


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e9:.1f} ns"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="", help="a name for this interpreter in the heading")
    ap.add_argument("--rounds", type=int, default=41, help="rounds (default 41)")
    ap.add_argument("--n", type=int, default=30_000, help="iterations per batch")
    args = ap.parse_args()
    version = sys.version.split()[0] + ("-debug" if hasattr(sys, "gettotalrefcount") else "")
    mechanism = "sys.monitoring local events" if sys.version_info >= (3, 12) else \
        "frame trace function + thread trace function"
    print(f"== framescope {framescope.__version__}, CPython {version} {args.row}".rstrip())
    print(f"   median of {args.rounds} interleaved rounds; a jump waits via {mechanism}")
    for waiter in (waiting_frame, waiting_generator):  # warm up both paths
        for workload in (calls, arithmetic, generator):
            measure(waiter, workload, 1000, 2)
    rows, missed = [], []
    for waiter, where in ((waiting_frame, "outer frame"), (waiting_generator, "generator")):
        for workload in (calls, arithmetic, generator):
            base, pending = measure(waiter, workload, args.n, args.rounds)
            ratio = pending / base
            ok = ratio <= 1.05
            if not ok:
                missed.append(f"{workload.__name__} with a jump pending on an {where}: "
                              f"{ratio:.2f}x")
            rows.append([where, workload.__name__, fmt_time(base), fmt_time(pending),
                         f"{ratio:.2f}x", "<= 1.05x", "yes" if ok else "NO"])
    header = ["jump waits on", "workload", "no jump", "jump pending", "ratio", "target", "met"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("\ntime per iteration of unrelated code")
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  " + "  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    print()
    for m in missed:
        print(f"target missed: {m}")
    if not missed:
        print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
