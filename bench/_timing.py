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


def compare(candidates: list[Candidate], rounds: int, batch_seconds: float = 0.0, *,
            batch: int | None = None) -> dict[str, float]:
    """Median seconds per operation of each candidate, measured in interleaved rounds (each
    round times one batch of every candidate, in rotating order). A batch is `batch`
    operations, or as many as take about `batch_seconds`."""
    calls = {}
    for name, timer in candidates:  # calibrate each batch to ~batch_seconds
        if batch is not None:
            timer(min(batch, 1000))  # warm up
            calls[name] = batch
            continue
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


def fmt_time(seconds: float, *, precise: bool = False) -> str:
    ns = seconds * 1e9
    if ns >= 10_000_000:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 10_000:
        return f"{ns / 1000:.1f} us"
    return f"{ns:.1f} ns" if precise else f"{ns:.0f} ns"


def print_table(title: str, header: list[str], rows: list[list[str]], *,
                left: tuple[int, ...] = (0,)) -> None:
    """A table, columns right-aligned but those in `left`."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if title:
        print(f"\n{title}")
    for r in [header, ["-" * w for w in widths], *rows]:
        print(("  " + "  ".join(c.ljust(w) if i in left else c.rjust(w)
                                for i, (c, w) in enumerate(zip(r, widths)))).rstrip())


def parse_args(doc: str, *, rounds: int = 15, extra=None) -> argparse.Namespace:
    """The options every benchmark script takes; `extra(parser)` adds a script's own."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row", default="", help="a name for this interpreter in the heading")
    ap.add_argument("--rounds", type=int, default=rounds,
                    help=f"interleaved rounds (default {rounds})")
    ap.add_argument("--batch", type=float, default=0.01,
                    help="seconds per batch of operations (default 0.01)")
    if extra is not None:
        extra(ap)
    return ap.parse_args()


def heading(title: str, row: str, rounds: int, detail: str = "") -> None:
    version = sys.version.split()[0] + ("-debug" if hasattr(sys, "gettotalrefcount") else "")
    print(f"== {title}, CPython {version} {row}".rstrip())
    print(f"   median of {rounds} interleaved rounds{'; ' + detail if detail else ''}")


def verdict(missed: list[str]) -> None:
    print()
    for m in missed:
        print(f"target missed: {m}")
    if not missed:
        print("all targets met")
