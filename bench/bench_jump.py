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

import sys
import time

from _timing import compare, fmt_time, heading, parse_args, print_table, verdict

import framescope
from framescope import _caps


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
    """Median time per iteration of `workload` without and with a jump pending."""
    m = compare([(state, lambda k, pending=pending: waiter(workload, k, pending) / k)
                 for state, pending in (("none", False), ("pending", True))],
                rounds, batch=n)
    return m["none"], m["pending"]


def main() -> int:
    args = parse_args(__doc__, rounds=41, extra=lambda ap: ap.add_argument(
        "--n", type=int, default=30_000, help="iterations per batch (default 30000)"))
    if _caps.HAS_MONITORING:
        mechanism = "sys.monitoring local events"
    elif _caps.HAS_RESUME_TAIL:
        mechanism = "the frame's trace function (outer frame); the generator's own code (resume tail)"
    else:
        mechanism = ("the frame's trace function (outer frame); the frame-evaluation function "
                     "(generator, until it resumes)")
    heading(f"jumps: framescope {framescope.__version__}", args.row, args.rounds,
            f"a jump waits via {mechanism}")
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
                missed.append(f"{workload.__name__} with a jump pending on a {where}: "
                              f"{ratio:.2f}x")
            rows.append([where, workload.__name__, fmt_time(base, precise=True),
                         fmt_time(pending, precise=True), f"{ratio:.2f}x", "<= 1.05x",
                         "yes" if ok else "NO"])
    print_table("time per iteration of unrelated code",
                ["jump waits on", "workload", "no jump", "jump pending", "ratio", "target",
                 "met"], rows, left=(0, 1))
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
