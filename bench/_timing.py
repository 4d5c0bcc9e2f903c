"""Timing helpers shared by the benchmarks: interleaved rounds, medians, tables."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

# A candidate: a name and a function that runs the measured operation n times and returns the
# seconds per operation.
Candidate = tuple[str, Callable[[int], float]]


def calls_of(fn, arg=None) -> Callable[[int], float]:
    """A candidate's timer for calling fn(arg) (arg None: fn())."""
    def timer(n: int) -> float:
        if arg is None:
            start = time.perf_counter()
            for _ in range(n):
                fn()
            return (time.perf_counter() - start) / n
        start = time.perf_counter()
        for _ in range(n):
            fn(arg)
        return (time.perf_counter() - start) / n
    return timer


def compare(candidates: list[Candidate], rounds: int, batch_seconds: float) -> dict[str, float]:
    """Median seconds per operation of each candidate, measured in interleaved rounds (each
    round times one batch of every candidate, in rotating order)."""
    calls = {}
    for name, timer in candidates:  # calibrate each batch to ~batch_seconds
        n = 1
        while True:
            t = timer(n) * n
            if t >= batch_seconds / 4 or n >= 1 << 22:
                break
            n *= 4
        calls[name] = max(1, int(n * batch_seconds / max(t, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name, _ in candidates}
    for r in range(rounds):
        order = candidates[r % len(candidates):] + candidates[:r % len(candidates)]
        for name, timer in order:
            samples[name].append(timer(calls[name]))
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


def parse_args(doc: str) -> argparse.Namespace:
    """The options every benchmark script takes."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="", help="a name for this interpreter in the heading")
    ap.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    ap.add_argument("--batch", type=float, default=0.01,
                    help="seconds per batch of operations (default 0.01)")
    return ap.parse_args()


def heading(title: str, row: str, rounds: int) -> None:
    version = sys.version.split()[0] + ("-debug" if hasattr(sys, "gettotalrefcount") else "")
    print(f"== {title}, CPython {version} {row}".rstrip())
    print(f"   median of {rounds} interleaved rounds")


def verdict(missed: list[str]) -> None:
    print()
    for m in missed:
        print(f"target missed: {m}")
    if not missed:
        print("all targets met")
