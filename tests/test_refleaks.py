"""Reference leaks: every public function, called many times, leaves sys.gettotalrefcount() flat.

Needs a debug build of CPython (sys.gettotalrefcount). The test command runs the suite on the
3.14 debug build with FRAMESCOPE_REQUIRE_DEBUG=1, where a missing debug build is a failure.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time

import pytest

import framescope
from framescope import _caps, remote

requires_debug = pytest.mark.skipif(
    not hasattr(sys, "gettotalrefcount") and not os.environ.get("FRAMESCOPE_REQUIRE_DEBUG"),
    reason="needs a debug build of CPython (sys.gettotalrefcount)",
)


def leaked_per_call(fn, calls: int = 2000, rounds: int = 4) -> float:
    """The smallest refcount growth per call over several rounds (a real leak grows every
    round; noise does not)."""
    assert hasattr(sys, "gettotalrefcount"), "FRAMESCOPE_REQUIRE_DEBUG is set: not a debug build"
    for _ in range(200):
        fn()
    deltas = []
    for _ in range(rounds):
        gc.collect()
        before = sys.gettotalrefcount()
        for _ in range(calls):
            fn()
        gc.collect()
        deltas.append(sys.gettotalrefcount() - before)
    return min(deltas) / calls


def _raises(fn, exc):
    def call():
        try:
            fn()
        except exc:
            pass
        else:
            raise AssertionError(f"{fn} did not raise {exc}")
    return call


def _gen():
    yield 1


def _chain(n, fn):
    return fn() if n == 0 else _chain(n - 1, fn)


def _fresh_frame():
    x = object()
    cell = [1]

    def inner():
        return cell

    return sys._getframe()


def _view_reads():
    view = framescope.locals(_fresh_frame())
    view.keys(), view.values(), view.items(), view.copy(), repr(view), len(view)
    "x" in view, view.get("x"), view.get("nope", 1), list(view), reversed(view)
    view == {"x": 1}, view | {"y": 2}, {"y": 2} | view


def _view_writes():
    x = object()
    cell = "c"
    view = framescope.locals(sys._getframe())
    view["x"] = [1, 2]
    view["x"] = object()
    view["cell"] = "new"
    view["late"] = "bound"
    view["extra"] = [3]
    view[(1, 2)] = "tuple key"
    view.setdefault("other", [4])
    view.update({"x": "u", "more": 5})
    view |= {"cell": "ior"}
    del view["extra"]
    view.pop("more")
    view.pop("missing", None)
    framescope.setvar(sys._getframe(), "x", 1.5)
    framescope.getvar(sys._getframe(), "x"), framescope.lookup(sys._getframe(), "len")
    return lambda: cell
    late = 0  # noqa: F841 - makes `late` a local


def _view_errors():
    x = 1
    view = framescope.locals(sys._getframe())
    for bad in (lambda: view.__delitem__("x"), lambda: view.pop("x")):
        try:
            bad()
        except ValueError:
            pass
    for bad in (lambda: view["missing"], lambda: view.__delitem__("missing"),
                lambda: view.pop("missing")):
        try:
            bad()
        except KeyError:
            pass
    for bad in (lambda: view[[1]], lambda: view.update(1), lambda: view.__ior__(1),
                lambda: framescope.getvar(sys._getframe(), 1)):
        try:
            bad()
        except TypeError:
            pass
    try:
        framescope.getvar(sys._getframe(), "missing")
    except NameError:
        pass


def _generator_write():
    def gen():
        value = object()
        yield value
        yield value

    g = gen()
    next(g)
    framescope.locals(g.gi_frame)["value"] = [1]
    next(g)


def _dead_frame():
    frame = _fresh_frame()
    view = framescope.locals(frame)
    dict(view)
    view["x"] = [1]  # a finished frame takes writes
    view["cell"] = [2]
    view["extra"] = [3]
    frame.clear()
    view["x"] = [4]  # and a cleared one
    view["cell"] = [5]
    view["extra"] = [6]
    dict(view)
    frame.clear()
    view["x"] = [7]


def _many_writes():
    x = None
    view = framescope.locals(sys._getframe())
    for i in range(20):
        view["x"] = [i]  # 3.14+: each replaced value is kept until the frame ends
    if _caps.FRAME_LOCALS_PROXY:  # CPython's own proxy keeps its own beside them
        sys._getframe().f_locals["x"] = [20]
        view["x"] = [21]
    return x
def _looping():
    for i in range(3):
        pass
    return i


def _goto():
    framescope.jump(sys._getframe(), _goto.__code__.co_firstlineno + 3)
    x = 1
    return "landed"


def _jump_generator():
    g = _gen2()
    next(g)
    framescope.jump(g, _gen2.__code__.co_firstlineno + 2)
    return list(g)


def _cancelled_generator():
    g = _gen2()
    next(g)
    framescope.jump(g, _gen2.__code__.co_firstlineno + 2)
    framescope.cancel_jump(g)
    return list(g)


def _gen2():
    yield 1
    yield 2


CASES = {
    "locals-reads": _view_reads,
    "locals-writes": _view_writes,
    "locals-errors": _view_errors,
    "locals-generator": _generator_write,
    "locals-dead-frame": _dead_frame,
    "locals-many-writes": _many_writes,
    "locals-module": lambda: framescope.locals(sys._getframe()),
    "lookup-missing": _raises(lambda: framescope.lookup(sys._getframe(), "nope"), NameError),
    "getframe": lambda: framescope.getframe(1),
    "getframe-fresh": lambda: _chain(5, lambda: framescope.getframe(4)),
    "getframe-too-deep": _raises(lambda: framescope.getframe(10**6), ValueError),
    "getframe-negative": _raises(lambda: framescope.getframe(-1), ValueError),
    "getframe-type": _raises(lambda: framescope.getframe("x"), TypeError),
    "getframe-kw": _raises(lambda: framescope.getframe(nope=1), TypeError),
    "stack": lambda: framescope.stack(),
    "stack-start-limit": lambda: framescope.stack(1, limit=3),
    "stack-frame": lambda: framescope.stack(sys._getframe()),
    "stack-bad-start": _raises(lambda: framescope.stack("x"), TypeError),
    "stack-bad-limit": _raises(lambda: framescope.stack(limit=-1), ValueError),
    "stack-too-deep": _raises(lambda: framescope.stack(10**6), ValueError),
    "frames": lambda: framescope.frames(),
    "frames-start": lambda: _chain(4, lambda: framescope.frames(2, limit=2)),
    "frames-bad": _raises(lambda: framescope.frames(1.5), TypeError),
    "threads": lambda: framescope.threads(),
    "frame_of": lambda: framescope.frame_of(_gen()),
    "frame_of-bad": _raises(lambda: framescope.frame_of(1), TypeError),
    "remote.dump-no-such-process": _raises(lambda: remote.dump(4_000_000), remote.NoSuchProcess),
    "remote.dump-bad-pid": _raises(lambda: remote.dump("1"), TypeError),
    "remote.dump-own-process": _raises(lambda: remote.dump(os.getpid()), remote.PermissionDenied),
    "can_jump": lambda: framescope.can_jump(_looping.__code__, 0,
                                            _looping.__code__.co_firstlineno + 2),
    "can_jump-refused": lambda: framescope.can_jump(_looping.__code__, 0, 10**6),
    "can_jump-bad": _raises(lambda: framescope.can_jump(_looping.__code__, 1, 1), ValueError),
    "can_jump-type": _raises(lambda: framescope.can_jump(1, 0, 1), TypeError),
    "jump-goto": _goto,
    "jump-generator": _jump_generator,
    "jump-cancel": _cancelled_generator,
    "jump-bad": _raises(lambda: framescope.jump(sys._getframe(), 10**6), ValueError),
}


@requires_debug
@pytest.mark.parametrize("name", sorted(CASES))
def test_no_reference_leak(name):
    assert leaked_per_call(CASES[name]) < 0.05


@requires_debug
def test_no_reference_leak_with_another_thread():
    stop = threading.Event()
    t = threading.Thread(target=lambda: _chain(20, lambda: stop.wait(60)))
    t.start()
    try:
        assert leaked_per_call(framescope.threads, calls=500) < 0.05
    finally:
        stop.set()
        t.join()


@requires_debug
@pytest.mark.parametrize("block", [True, False])
def test_no_reference_leak_reading_another_process(block):
    child = subprocess.Popen([sys.executable, "-c", (
        "import time\n"
        "def wait(values=[1, 'a', 2.5, {3: b'x'}, (None, True)]):\n"
        "    time.sleep(600)\n"
        "wait()\n")])
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if any(f.function == "wait" for t in remote.dump(child.pid).threads
                       for f in t.frames):
                    break
            except remote.RemoteError:
                pass  # still starting
            assert time.monotonic() < deadline, "the child never reached wait()"
            time.sleep(0.05)
        dump = lambda: remote.dump(child.pid, locals=True, block=block)
        assert "values" in dump().threads[0].frames[0].locals
        assert leaked_per_call(dump, calls=200) < 0.05
    finally:
        child.kill()
        child.wait()


def test_built_for_this_interpreter():
    # A debug interpreter needs a Py_DEBUG build of the core (its reference counting differs);
    # a release one a release build.
    from framescope import _core

    assert _core.CAPABILITIES["ref_debug"] == hasattr(sys, "gettotalrefcount")
    assert _core.BUILT_FOR == sys.version.split()[0].split("+")[0]
