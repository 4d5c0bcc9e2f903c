"""A process for framescope.remote's tests to read: threads blocked in known frames.

    python remote_target.py known     threads blocked with known variables; prints its own view
                                      of every thread (JSON, one line), then waits for a line on
                                      stdin, lets the threads finish, prints "done"
    python remote_target.py churn     threads start and end, recursion goes up and down, until
                                      stdin closes; prints "ready" first

Runs on any CPython 3.10+, with nothing but the standard library: it is the target, often of
another version than the one running the tests.
"""

from __future__ import annotations

import json
import random
import sys
import threading

SHOWN_CHARS = 200  # framescope shows str and bytes up to this length, then "..."
SHOWN_ITEMS = 10  # ... and containers up to this many items
SHOWN_DEPTH = 3  # ... nested this deep


def expected_repr(value, depth=0, path=()):
    """framescope's documented repr of a value, computed by the target itself."""
    t = type(value)
    if value is None or t is bool or t is int or t is float:
        return repr(value)
    if t is str or t is bytes:
        return repr(value[:SHOWN_CHARS]) + ("..." if len(value) > SHOWN_CHARS else "")
    if t in (list, tuple, dict, set, frozenset):
        if any(value is p for p in path):
            return "[...]" if t is list else "(...)" if t is tuple else "{...}"
        if depth < SHOWN_DEPTH:
            inner = path + (value,)
            if t is dict:
                items = [f"{expected_repr(k, depth + 1, inner)}: {expected_repr(v, depth + 1, inner)}"
                         for k, v in list(value.items())[:SHOWN_ITEMS]]
            else:
                items = [expected_repr(v, depth + 1, inner) for v in list(value)[:SHOWN_ITEMS]]
            more = ", ..." if len(value) > SHOWN_ITEMS else ""
            body = ", ".join(items) + more
            if t is list:
                return f"[{body}]"
            if t is tuple:
                return f"({body},)" if len(value) == 1 else f"({body})"
            if t is dict:
                return f"{{{body}}}"
            if not value:
                return "set()" if t is set else "frozenset()"
            return f"{{{body}}}" if t is set else f"frozenset({{{body}}})"
    return f"<{t.__name__} at {id(value):#x}>"


def stack_of(frame):
    out = []
    while frame is not None:
        code = frame.f_code
        out.append({"filename": code.co_filename, "lineno": frame.f_lineno,
                    "function": getattr(code, "co_qualname", code.co_name)})
        frame = frame.f_back
    return out


class Payload:
    pass


def blocked_worker(index, release, ready):
    number = index * 1000 + 7
    negative = -(3 ** 200) if index % 2 else 3 ** 200
    huge = 7 ** 5000
    ratio = 1 / (index + 3)
    floats = [0.1, 1e16, 1e15, 1e-5, 0.0001, -0.0, float("inf"), float("nan"), 2.5e-300, 1 / 3]
    text = "thread %d: 'quoted' \"both\" \n\t\\ é ☃ 中 \x00 \x7f \u200b \xa0 \U0001F600" % index
    only_single = "it's"
    long_text = "abcdefghij" * 50
    blob = bytes(range(0, 256, 7)) + b"'"
    long_blob = b"\xff" * 300
    items = [index, 2.5, None, True, False, "s", b"b", (1,), [], {}, "eleventh"]
    many = list(range(50))
    mapping = {"a": 1, 2: "b", None: [1, 2], (1, 2): frozenset()}
    numbers = {1, 2, 3}
    frozen = frozenset({"x"})
    empty = (set(), (), [], {}, frozenset())
    nested = [[[[1, [2]]]]]
    recursive = []
    recursive.append(recursive)
    obj = Payload()
    flag = index == 0

    def closure():
        return number + ratio  # makes number and ratio cell variables

    ready.append(threading.get_ident())
    release.wait()
    return closure


def blocked_main(release):
    answer = 42
    name = "main"
    release.wait()
    return answer, name


def known() -> int:
    release = threading.Event()
    ready: list[int] = []
    workers = [threading.Thread(target=blocked_worker, args=(i, release, ready),
                                name=f"worker-{i}") for i in range(3)]
    for w in workers:
        w.start()
    main_ident = threading.get_ident()

    def reporter():
        # Wait until every thread is blocked (innermost frame: threading's wait) and its
        # stack no longer changes.
        previous = None
        while True:
            frames = sys._current_frames()
            idents = ready + [main_ident]
            if len(ready) == len(workers) and all(
                    t in frames and frames[t].f_code.co_name == "wait" and _blocked(frames[t])
                    for t in idents):
                now = [stack_of(frames[t]) for t in idents]
                if now == previous:
                    break
                previous = now
            threading.Event().wait(0.05)
        view = {"pid": __import__("os").getpid(),
                "version": sys.version.split()[0],
                "reporter": threading.get_ident(), "threads": {}}
        frames = sys._current_frames()
        for t in threading.enumerate():
            if t.ident == threading.get_ident():
                continue
            frame = frames[t.ident]
            stack = stack_of(frame)
            local_views = []
            f = frame
            while f is not None:
                code = f.f_code
                if code.co_name in ("blocked_worker", "blocked_main"):
                    local_views.append({k: expected_repr(v) for k, v in f.f_locals.items()})
                else:
                    local_views.append(None)
                f = f.f_back
            view["threads"][str(t.ident)] = {"native_id": t.native_id, "name": t.name,
                                             "frames": stack, "locals": local_views}
        document = json.dumps(view)
        # One line: a dump shows this thread on it, whether still in print() or waiting.
        print(document, flush=True); sys.stdin.readline()  # noqa: E702
        release.set()

    r = threading.Thread(target=reporter, name="reporter")
    r.start()
    blocked_main(release)
    r.join()
    for w in workers:
        w.join()
    print("done", flush=True)
    return 0


def _blocked(frame):
    while frame is not None:
        if frame.f_code.co_name in ("blocked_worker", "blocked_main"):
            return True
        frame = frame.f_back
    return False


def churn() -> int:
    stop = threading.Event()

    def recurse(depth, limit):
        local_value = depth * 2
        if depth < limit:
            return recurse(depth + 1, limit) + local_value
        return sum(range(200))

    def short_lived(seed):
        rng = random.Random(seed)
        for _ in range(20):
            recurse(0, rng.randrange(1, 150))

    def spawner():
        seed = 0
        while not stop.is_set():
            threads = [threading.Thread(target=short_lived, args=(seed + i,)) for i in range(4)]
            seed += 4
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def deep_worker():
        rng = random.Random(1)
        while not stop.is_set():
            recurse(0, rng.randrange(1, 400))

    runners = [threading.Thread(target=spawner), threading.Thread(target=deep_worker)]
    for t in runners:
        t.start()
    print("ready", flush=True)
    sys.stdin.read()
    stop.set()
    for t in runners:
        t.join()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.setrecursionlimit(2000)
    sys.exit({"known": known, "churn": churn}[sys.argv[1]]())
