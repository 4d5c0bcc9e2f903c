#!/usr/bin/env python3
"""Benchmark: reading and writing one variable of another frame, framescope against what
Python offers on the same interpreter, side by side.

The frame is a function with eight variables that waits on a call (the usual case: a frame up
the stack). Each operation is timed inline in a loop, in interleaved rounds; the time of the
same loop with an empty body (or, for writes, with just the computation of the value) is
subtracted, and the table shows medians and ratios of what remains. Writes store a different
small int each time, so that no candidate can skip the store.

Baselines:
  3.10-3.12  read:  frame.f_locals[name] (copies every variable into a dict, then reads it)
             write: frame.f_locals[name] = v, then ctypes.pythonapi.PyFrame_LocalsToFast
                    (the usual idiom; the only one whose write reaches the frame)
  3.13+      the native FrameLocalsProxy: frame.f_locals[name] (a new proxy each time) and a
             proxy kept in a variable

Targets (README, "Benchmarks"):
  3.10-3.12  writes >= 10x faster than the ctypes idiom, reads >= 3x faster than f_locals[name]
  3.13+      writes <= 1.2x and reads <= 1.5x the native proxy's time

A second table: many writes of distinct objects into one frame (--writes SMALL,LARGE: 1,000 and
10,000), the time per write at each count. On 3.14+ a write must keep the value it replaces alive
until the frame ends (LOAD_FAST_BORROW); CPython's own proxy appends it to a tuple that it copies
on every write, so its time per write grows with the count (quadratic in all). framescope appends
to a list: the time per write must stay flat. Target: framescope's time per write at LARGE is
<= 1.5x its time at SMALL. CPython's proxy (3.13+) is shown beside it, for information.

framescope is measured two ways: through a view kept in a variable (view[name]; a view is live,
so this is how it is meant to be used, and the targets are judged on it) and through a view made
for each operation (framescope.locals(frame)[name]), shown beside it for information.

Run: ./dev bench (every interpreter) or python bench/bench_locals.py (this one).
"""

from __future__ import annotations

import ctypes
import statistics
import sys
import time

from _timing import compare, fmt_time, heading, parse_args, print_table, verdict

import framescope
from framescope import _caps

NATIVE_PROXY = _caps.FRAME_LOCALS_PROXY  # PEP 667: f_locals is CPython's own proxy


def stmt_timer(stmt: str, namespace: dict) -> object:
    """A timer running `stmt` n times in a loop whose counter is _i."""
    code = f"def _loop(_n):\n    for _i in range(_n):\n        {stmt}\n"
    scope = dict(namespace)
    exec(code, scope)
    loop = scope["_loop"]

    def timer(n: int) -> float:
        start = time.perf_counter()
        loop(n)
        return (time.perf_counter() - start) / n
    return timer


def measure(frame, rounds: int, batch: float) -> dict[str, float]:
    ns = {
        "frame": frame,
        "view": framescope.locals(frame),
        "locals": framescope.locals,
        "name": "d",
        "ctypes": ctypes,
        "to_fast": ctypes.pythonapi.PyFrame_LocalsToFast,
        "py_object": ctypes.py_object,
        "c_int0": ctypes.c_int(0),
    }
    if NATIVE_PROXY:
        ns["proxy"] = frame.f_locals
    candidates = {
        "empty loop": "pass",
        "value only": "_x = _i & 255",
        "read view": "view[name]",
        "read fresh": "locals(frame)[name]",
        "write view": "view[name] = _i & 255",
        "write fresh": "locals(frame)[name] = _i & 255",
        "read f_locals": "frame.f_locals[name]",
    }
    if NATIVE_PROXY:
        candidates |= {
            "read proxy": "proxy[name]",
            "write proxy": "proxy[name] = _i & 255",
            "write f_locals": "frame.f_locals[name] = _i & 255",
        }
    else:
        candidates["write f_locals"] = (
            "frame.f_locals[name] = _i & 255; to_fast(py_object(frame), c_int0)")
    m = compare([(k, stmt_timer(v, ns)) for k, v in candidates.items()], rounds, batch)
    empty, value_only = m.pop("empty loop"), m.pop("value only")
    return {k: max(t - (value_only if k.startswith("write") else empty), 1e-12)
            for k, t in m.items()}


def target(a, b, c, run):
    """A frame with eight variables, waiting on a call."""
    d = a + b
    e = [a, b, c]
    f = {"k": d}
    g = "text"
    h = None
    return run(sys._getframe()), (d, e, f, g, h)


def many_writes(counts: tuple[int, int], rounds: int) -> dict[tuple[str, int], float]:
    """Median seconds per write of `n` distinct objects into one new frame, by candidate and n."""
    def trial(write, n: int) -> float:
        values = [object() for _ in range(n)]

        def frame_owner():
            x = None
            return write(sys._getframe(), values), x

        return frame_owner()[0] / n

    def with_view(frame, values) -> float:
        view = framescope.locals(frame)
        start = time.perf_counter()
        for v in values:
            view["x"] = v
        return time.perf_counter() - start

    def with_proxy(frame, values) -> float:
        proxy = frame.f_locals
        start = time.perf_counter()
        for v in values:
            proxy["x"] = v
        return time.perf_counter() - start

    candidates = [("framescope", with_view)]
    if NATIVE_PROXY:
        candidates.append(("CPython proxy", with_proxy))
    samples: dict[tuple[str, int], list[float]] = {}
    for r in range(rounds):
        for n in counts:
            order = candidates[r % len(candidates):] + candidates[:r % len(candidates)]
            for name, write in order:
                samples.setdefault((name, n), []).append(trial(write, n))
    return {k: statistics.median(v) for k, v in samples.items()}


def add_options(ap) -> None:
    ap.add_argument("--writes", default="1000,10000",
                    help="SMALL,LARGE: writes into one frame for the second table "
                         "(default 1000,10000)")


def main() -> int:
    args = parse_args(__doc__, extra=add_options)
    heading(f"variables: framescope {framescope.__version__}", args.row, args.rounds)

    m, (d, *_) = target(1, 2, 3, lambda frame: measure(frame, args.rounds, args.batch))
    assert isinstance(d, int) and 0 <= d <= 255, "the writes did not reach the frame"

    missed = []
    rows = []
    for op in ("read", "write"):
        kept, fresh = m[f"{op} view"], m[f"{op} fresh"]
        if NATIVE_PROXY:
            limit = 1.5 if op == "read" else 1.2
            base, base_fresh = m[f"{op} proxy"], m[f"{op} f_locals"]
            ratio = kept / base
            ok = ratio <= limit
            rows.append([op, fmt_time(kept), "proxy kept", fmt_time(base), f"{ratio:.2f}x time",
                         f"<= {limit}x", "yes" if ok else "NO", fmt_time(fresh),
                         "f_locals[name]", fmt_time(base_fresh),
                         f"{fresh / base_fresh:.2f}x time"])
            if not ok:
                missed.append(f"{op}: {ratio:.2f}x the native proxy's time (target <= {limit}x)")
        else:
            need = 3 if op == "read" else 10
            base = m[f"{op} f_locals"]
            speedup = base / kept
            ok = speedup >= need
            label = "f_locals[name]" if op == "read" else "f_locals + ctypes"
            rows.append([op, fmt_time(kept), label, fmt_time(base), f"{speedup:.1f}x faster",
                         f">= {need}x", "yes" if ok else "NO", fmt_time(fresh), label,
                         fmt_time(base), f"{base / fresh:.1f}x faster"])
            if not ok:
                missed.append(f"{op}: {speedup:.1f}x faster than {label} (target >= {need}x)")
    print_table("one variable of a waiting frame: framescope.locals(frame) kept as `view`; "
                "right: a view made per operation",
                ["op", "view", "baseline", "time", "ratio", "target", "met",
                 "fresh view", "baseline", "time", "ratio"], rows)

    small, large = (int(x) for x in args.writes.split(","))
    w = many_writes((small, large), max(3, args.rounds // 3))
    limit = 1.5
    rows = []
    for name in ("framescope", "CPython proxy"):
        if (name, small) not in w:
            continue
        growth = w[name, large] / w[name, small]
        ok = growth <= limit
        rows.append([name, fmt_time(w[name, small], precise=True),
                     fmt_time(w[name, large], precise=True), f"{growth:.2f}x",
                     f"<= {limit}x" if name == "framescope" else "-",
                     ("yes" if ok else "NO") if name == "framescope" else "-"])
        if name == "framescope" and not ok:
            missed.append(f"{large} writes into one frame: {growth:.2f}x the time per write of "
                          f"{small} (target <= {limit}x: linear)")
    print_table("distinct objects written into one frame's variable: time per write",
                ["writer", f"{small} writes", f"{large} writes", "growth", "target", "met"],
                rows)
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
