"""`framescope demo`: a guided tour, run on a small sample program in this process."""

from __future__ import annotations

import inspect
import os
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterator
from typing import Any, Callable

import framescope
from framescope import _caps


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
    def run(self, orders: list[int], probe: Callable[[], Any]) -> Any:
        return [self.price(order, probe) for order in orders][-1]

    def price(self, order: int, probe: Callable[[], Any]) -> Any:
        return self.tax(order * 3, probe)

    def tax(self, amount: int, probe: Callable[[], Any]) -> Any:
        return probe()


def _retry_loop(fetch: Callable[[], bool]) -> int:
    max_retries = 5
    retries = 0
    while fetch():
        retries += 1
        if retries >= max_retries:
            break
    return retries


def _variables_demo() -> tuple[int, int]:
    """How many times _retry_loop runs when fetch() lowers its limit to 2, through f_locals
    and through framescope."""

    def via(setter: Callable[[types.FrameType], None]) -> int:
        def fetch() -> bool:
            return layer1()

        def layer1() -> bool:
            return layer2()

        def layer2() -> bool:
            setter(framescope.getframe(3))  # 3 calls out: _retry_loop
            return True

        return _retry_loop(fetch)

    def with_f_locals(frame: types.FrameType) -> None:
        frame.f_locals["max_retries"] = 2

    def with_framescope(frame: types.FrameType) -> None:
        framescope.locals(frame)["max_retries"] = 2

    return via(with_f_locals), via(with_framescope)


def _poll(check: Callable[[int], bool]) -> str:
    attempts = 0
    limit = 1000
    while attempts < limit:
        attempts += 1
        if check(attempts):
            return f"stopped after {attempts} attempts"
    return f"gave up after {attempts} attempts"


def _console_demo(out: _Out) -> str:
    """A console session with typed lines from a script, in the frame of _poll."""
    from framescope._console import FrameConsole

    typed = ["%where", "attempts, limit", "limit = attempts + 2",
             "[n for n in range(attempts, limit)]"]

    class Scripted(FrameConsole):
        def raw_input(self, prompt: str = "") -> str:
            if not typed:
                print(prompt + "^D")
                raise EOFError
            line = typed.pop(0)
            print(prompt + line)
            return line

        def write(self, data: str) -> None:
            print(data, end="")

    def check(attempts: int) -> bool:
        if attempts == 3:
            def deeper() -> None:
                Scripted(framescope.frames(framescope.getframe(2), limit=2)).loop(banner="")
            deeper()
        return False

    return _poll(check)

def crunch(probe: Callable[[int], None]) -> str:
    """A loop that would run for hours, unless someone moves it on."""
    report: int | str
    total = report = 0
    for n in range(10**12):
        total += n
        probe(n)
    report = f"left the loop after n={n}, total={total}"  # landing
    return report


def _landing_line() -> int:
    lines, first = inspect.getsourcelines(crunch)
    return first + next(i for i, text in enumerate(lines) if text.rstrip().endswith("# landing"))


def _median_ns(fn: Callable[[], object], calls: int) -> float:
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
    def orders() -> Iterator[int]:
        yield 1
        yield 2

    gen = orders()
    next(gen)
    gframe = framescope.frame_of(gen)
    assert gframe is not None  # suspended, not finished
    out.code("gen = orders(); next(gen); framescope.frame_of(gen)")
    out.say(f"    -> suspended in {gframe.f_code.co_name}() at line {gframe.f_lineno}")

    ready, release = threading.Event(), threading.Event()

    def worker() -> None:
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

    out.title("5. Change a variable in an outer frame - on any version")
    out.code("""
def retry_loop(fetch):
    retries = 0
    while fetch():                  # the frame waits here, in the call
        retries += 1
        if retries >= max_retries:  # max_retries is a local of retry_loop
            ...

# somewhere inside fetch(), three frames further in:
frame = framescope.getframe(3)                # retry_loop's frame
framescope.locals(frame)["max_retries"] = 2
""")
    lost, kept = _variables_demo()
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if not _caps.FRAME_LOCALS_PROXY:
        out.say(f"On CPython {version} the classic "
                "frame.f_locals['max_retries'] = 2 is silently lost:")
        out.say(f"    with f_locals:           the loop ran {lost} times (the write was dropped)")
    else:
        out.say(f"CPython {version} has PEP 667's "
                "write-through f_locals; framescope gives the same on 3.10-3.12:")
        out.say(f"    with f_locals:           the loop ran {lost} times")
    out.say(f"    with framescope.locals:  the loop ran {kept} times (it stopped at the new limit)")
    out.say("The view is live: it reads the frame's variables as they are now, writes reach")
    out.say("the frame (also generators and other threads), and names that are not variables")
    out.say("of the code are kept beside them, as PEP 667 specifies.")

    out.title("6. Jump a running function out of its loop")
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

    def probe(n: int) -> None:
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

    out.title("7. A console inside a running function")
    out.say("framescope.interact(frame) opens a Python prompt in any frame (also")
    out.say("framescope.breakpoint(), post_mortem(), `framescope run script.py`, or a signal")
    out.say("with install_signal_handler()). Here a scripted session in the frame of a")
    out.say("polling loop, from a callback two calls further in:")
    status = _console_demo(out)
    out.say(f"The program continued: the loop {status}.")

    out.title("8. Another process, from outside")
    _dump_another_process(out)

    out.title("Next")
    out.say("    import framescope; help(framescope)      the API")
    out.say("    framescope --help                        the command line")
    out.say("    framescope dump PID --locals             any running Python's stacks")
    return 0


# A separate program, run by this interpreter: a worker thread waiting on a queue inside a small
# order service, and the main thread waiting for it.
_SAMPLE = """
import queue, sys, threading

class OrderService:
    def __init__(self):
        self.pending = queue.Queue()

    def serve(self, region):
        retries = 3
        backlog = ["order-17", "order-18"]
        return self.pending.get()

service = OrderService()
worker = threading.Thread(target=service.serve, args=("eu-west",), name="orders")
worker.start()
print("ready", flush=True)
sys.stdin.readline()
service.pending.put(None)
worker.join()
"""


def _dump_another_process(out: _Out) -> None:
    import subprocess

    from framescope import remote

    sample = subprocess.Popen([sys.executable, "-c", _SAMPLE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert sample.stdout is not None  # stdout=PIPE
    try:
        sample.stdout.readline()
        out.say(f"A sample program runs as process {sample.pid}: an order service whose worker")
        out.say("thread waits on a queue. framescope reads its stacks from outside, without")
        out.say("running anything in it (the command line: framescope dump PID --locals):")
        out.code(f"framescope.remote.dump({sample.pid}, locals=True)")
        try:
            snap = remote.dump(sample.pid, locals=True)
        except remote.RemoteError as error:
            out.say(f"    (could not read it here: {error})")
            return
        for thread in snap.threads:
            out.say(f"    thread {thread.thread_id} ({thread.name or '?'}), "
                    f"{len(thread.frames)} frame{'s' if len(thread.frames) != 1 else ''}:")
            for frame in thread.frames[:4]:
                out.say(f"      {frame.function}  line {frame.lineno}")
                if frame.function.endswith("serve"):
                    for name, value in (frame.locals or {}).items():
                        out.say(f"          {name} = {value}")
        out.say(f"Its threads were stopped for {snap.stats['stopped_ns'] / 1e6:.2f} ms, "
                "then resumed.")
    finally:
        sample.communicate("\n", timeout=30)
