"""`framescope demo`: a guided tour, run on a small sample program in this process."""

from __future__ import annotations

import inspect
import os
import sys
import threading
import time
import traceback

import framescope


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color and sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def _c(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def title(self, text: str) -> None:
        print()
        print(self._c("1;36", f"== {text}"))

    def code(self, text: str) -> None:
        for line in text.strip("\n").splitlines():
            print(self._c("33", f"    {line}"))

    def say(self, text: str = "") -> None:
        print(text)


def _show(out: _Out, records: list[framescope.FrameInfo], limit: int = 8) -> None:
    for info in records[:limit]:
        where = f"{os.path.basename(info.filename)}:{info.lineno}"
        out.say(f"    {where:<22} {info.function}  ({info.module})")
    if len(records) > limit:
        out.say(f"    ... {len(records) - limit} more")


# The sample program: an order pipeline with a few layers of calls, a generator and a worker.
class Pipeline:
    def run(self, orders: list[int], probe):
        return [self.price(order, probe) for order in orders][-1]

    def price(self, order: int, probe):
        return self.tax(order * 3, probe)

    def tax(self, amount: int, probe):
        return probe()


def crunch(probe):
    """A loop that would run for hours, unless someone moves it on."""
    total = report = 0
    for n in range(10**12):
        total += n
        probe(n)
    report = f"left the loop after n={n}, total={total}"  # landing
    return report


def _landing_line() -> int:
    lines, first = inspect.getsourcelines(crunch)
    return first + next(i for i, text in enumerate(lines) if text.rstrip().endswith("# landing"))


def _median_ns(fn, calls: int) -> float:
    times = []
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter_ns() - start) / calls)
    times.sort()
    return times[len(times) // 2]


def run_demo(color: bool = True) -> int:
    out = _Out(color)
    out.say(f"framescope {framescope.__version__} on CPython {sys.version.split()[0]}")
    out.say("A sample program (an order pipeline, a generator, a worker thread) runs in this")
    out.say("process; at each step framescope looks at its frames.")

    out.title("1. The stack, from inside the program")
    out.code("""
class Pipeline:
    def run(self, orders, probe):  return [self.price(o, probe) for o in orders][-1]
    def price(self, order, probe): return self.tax(order * 3, probe)
    def tax(self, amount, probe):  return probe()

Pipeline().run([1, 2], probe=lambda: framescope.stack())
""")
    records = Pipeline().run([1, 2], probe=lambda: framescope.stack())
    out.say("framescope.stack() returns FrameInfo records, innermost first, with qualified names:")
    _show(out, records, limit=6)

    out.title("2. What it costs")
    depth = len(records)
    ours = Pipeline().run([1], probe=lambda: _median_ns(framescope.stack, 2000))
    tb = Pipeline().run([1], probe=lambda: _median_ns(traceback.extract_stack, 200))
    insp = Pipeline().run([1], probe=lambda: _median_ns(inspect.stack, 20))
    out.say(f"At this depth ({depth} frames), one call of each, median of 7 runs:")
    out.say(f"    framescope.stack()          {ours / 1000:10.1f} us")
    out.say(f"    traceback.extract_stack()   {tb / 1000:10.1f} us   ({tb / ours:6.0f}x slower)")
    out.say(f"    inspect.stack()             {insp / 1000:10.1f} us   ({insp / ours:6.0f}x slower)")
    out.say("stack() reads the interpreter's own frames: no frame object, no source line is made.")

    out.title("3. Any depth, like sys._getframe, without the underscore")
    frame = Pipeline().run([5], probe=lambda: framescope.getframe(2))
    out.code("framescope.getframe(2)   # two calls out from the caller")
    out.say(f"    -> {frame.f_code.co_name}() at line {frame.f_lineno}, "
            f"order={frame.f_locals.get('order')}")

    out.title("4. Generators, and every thread")
    def orders():
        yield 1
        yield 2

    gen = orders()
    next(gen)
    gframe = framescope.frame_of(gen)
    out.code("gen = orders(); next(gen); framescope.frame_of(gen)")
    out.say(f"    -> suspended in {gframe.f_code.co_name}() at line {gframe.f_lineno}")

    ready, release = threading.Event(), threading.Event()

    def worker():
        ready.set()
        release.wait(10)

    t = threading.Thread(target=worker, name="worker")
    t.start()
    ready.wait(10)
    try:
        stacks = framescope.threads()
    finally:
        release.set()
        t.join()
    out.code("framescope.threads()   # {thread id: [FrameInfo, ...]}")
    for tid, frames in stacks.items():
        name = "main" if tid == threading.main_thread().ident else "worker"
        out.say(f"    thread {tid} ({name}): {len(frames)} frames, innermost "
                f"{frames[0].function} at line {frames[0].lineno}")

    out.title("5. Jump a running function out of its loop")
    out.code("""
def crunch(probe):
    total = report = 0
    for n in range(10**12):          # hours of work
        total += n
        probe(n)
    report = f"left the loop after n={n}, total={total}"  # landing
    return report

def probe(n):                          # called from inside the loop
    if n == 4:
        framescope.jump(sys._getframe(1), LANDING)   # the caller's frame, from outside it
""")
    landing = _landing_line()

    def probe(n):
        if n == 4:
            framescope.jump(sys._getframe(1), landing)

    started = time.perf_counter()
    report = crunch(probe)
    out.say(f"    crunch(probe) -> {report!r}, in {(time.perf_counter() - started) * 1e3:.1f} ms")
    out.say("The jump waits until probe() has returned and the loop's line is done, then the")
    out.say("frame continues at the landing line. No trace function was set up for it: only")
    out.say("crunch()'s code is watched, and only while the jump is pending.")
    try:
        framescope.jump(sys._getframe(), 10**6)
    except ValueError as exc:
        out.say(f"A jump CPython would refuse is refused, with CPython's reason: {exc}")

    out.title("Next")
    out.say("    import framescope; help(framescope)      the API")
    out.say("    framescope --help                        the command line")
    return 0
