"""CPython's own jump tests (test_sys_settrace.JumpTestCase) through framescope, in a child.

Run by tests/test_cpython_settrace.py, never imported by it: CPython's test module is loaded from
the running interpreter's own installed test package (pyenv's lib/python3.X/test/, Debian's
libpython3.X-testsuite), and every @jump_test / @async_jump_test of JumpTestCase is run by the
file's own run_test / run_async_test, twice:

(a) with the file's JumpTracer, which makes the jump with the f_lineno setter, watched: at the
    'line' event where it sets f_lineno, framescope.can_jump() is asked the same question first,
    and its verdict must be the setter's (None where the setter accepts, else its message);
(b) when the setter accepted the jump: with a tracer that never jumps. At the trace event that
    comes just before the jump's event in the jumping frame, it removes itself (sys.settrace(None)
    and the frames' f_trace) and asks framescope.jump() for the same target; framescope then makes
    the jump at the frame's next line event, which is the event (a) jumped from. The test's own
    checks (the expected output, error and warning) must hold.

    python cpython_settrace.py --list            the jump tests, one name a line
    python cpython_settrace.py NAME [NAME ...]    run them; one JSON line per event of the run

Output lines: {"start": NAME} before a test, {"ours": ...} just before the setter makes a jump
that framescope refuses as one CPython does not survive, {"result": {...}} after it. A test whose
child dies has a start and no result: the parent attributes the crash to it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
import traceback
import types
import unittest

import framescope
from framescope import _jump

OURS = "CPython accepts this jump"


def load():
    """test.test_sys_settrace of the running interpreter's own standard library."""
    stdlib = sysconfig.get_path("stdlib")
    path = os.path.join(stdlib, "test", "test_sys_settrace.py")
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: this interpreter's test package is not installed")
    if sys.path[0] != stdlib:
        sys.path.insert(0, stdlib)
    module = importlib.import_module("test.test_sys_settrace")
    if os.path.realpath(module.__file__) != os.path.realpath(path):
        raise RuntimeError(f"imported {module.__file__}, not {path}")
    return module


def jump_tests(module) -> list[str]:
    """JumpTestCase's tests made by jump_test / async_jump_test: those that call run_test or
    run_async_test on a wrapped function."""
    names = []
    for name in sorted(vars(module.JumpTestCase)):
        method = vars(module.JumpTestCase)[name]
        if not name.startswith("test_") or not isinstance(method, types.FunctionType):
            continue
        runner = {"run_test", "run_async_test"} & set(method.__code__.co_names)
        if runner and hasattr(method, "__wrapped__"):
            names.append(name)
    return names


def emit(**item) -> None:
    print(json.dumps(item), flush=True)


class Watch:
    """What one run of a test saw: the trace events (frame, code, event, line) until the jump,
    and the jump attempts of the file's tracer."""

    def __init__(self):
        self.events = []
        self.attempts = []  # (event index, event, target, lasti, can_jump's verdict, setter's)


def verdict_tracer(base, watch: Watch):
    """The file's JumpTracer, with can_jump() asked before each f_lineno assignment."""

    class VerdictTracer(base):
        def trace(self, frame, event, arg):
            if self.done:
                return super().trace(frame, event, arg)
            index = len(watch.events)
            watch.events.append((frame, frame.f_code, event, frame.f_lineno))
            # The first line the file's tracer uses (it learns it at the first 'line' event of
            # the function when decorated).
            first = self.firstLine
            if first is None and frame.f_code == self.code and event == "line":
                first = frame.f_lineno - 1
            verdict = ...
            target = None
            if first is not None and isinstance(self.jumpTo, int):
                target = first + self.jumpTo
            if event == "line" and target is not None:
                verdict = framescope.can_jump(frame.f_code, frame.f_lasti, target)
                if isinstance(verdict, str) and OURS in verdict and \
                        frame.f_lineno == first + self.jumpFrom:
                    emit(ours={"from": frame.f_lineno, "to": target, "verdict": verdict})
            lasti = frame.f_lasti
            try:
                result = super().trace(frame, event, arg)
            except BaseException as exc:  # the setter's refusal
                watch.attempts.append((index, event, target, lasti, verdict,
                                       f"{type(exc).__name__}: {exc}"))
                raise
            if self.done:
                watch.attempts.append((index, event, target, lasti, verdict, None))
            return result

    return VerdictTracer


def request_tracer(base, code, nth: int, target: int, record: dict):
    """A tracer that never jumps: at the nth trace event of a frame running `code`, it removes
    itself and asks framescope.jump() to move that frame to `target`."""

    class RequestTracer(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = 0
            self.requested = False

        def trace(self, frame, event, arg):
            if self.requested or frame.f_code is not code:
                return None  # other frames are not traced
            self.seen += 1
            if self.seen < nth:
                return self.trace
            self.requested = True
            sys.settrace(None)
            f = frame
            while f is not None:
                if getattr(f.f_trace, "__self__", None) is self:
                    f.f_trace = None
                f = f.f_back
            record["event"] = event
            try:
                framescope.jump(frame, target)
                record["asked"] = True
            except ValueError as exc:
                record["refused"] = str(exc)
            return None

    return RequestTracer


def run_case(module, name: str) -> unittest.TestResult:
    result = unittest.TestResult()
    module.JumpTestCase(name).run(result)
    return result


def problems(result: unittest.TestResult) -> list[str]:
    return [text for _, text in result.failures + result.errors] + \
        ["unexpected success" for _ in result.unexpectedSuccesses]


def run_one(module, name: str) -> dict:
    out = {"test": name}
    original = module.JumpTracer
    watch = Watch()
    module.JumpTracer = verdict_tracer(original, watch)
    try:
        result = run_case(module, name)
    finally:
        module.JumpTracer = original
    if result.skipped:
        out.update(outcome="excluded", reason=f"skipped by CPython's test file: "
                   f"{result.skipped[0][1]}")
        return out
    failed = problems(result)
    if failed:
        out.update(outcome="failed", part="a", detail="the test failed with the setter's jump, "
                   "watched by can_jump: " + failed[0][-1500:])
        return out
    line_attempts = [a for a in watch.attempts if a[1] == "line"]
    if not line_attempts:
        if not watch.attempts:
            out.update(outcome="failed", part="a", detail="the file's tracer made no jump")
        elif watch.attempts[-1][5] is not None:
            event = watch.attempts[-1][1]
            out.update(outcome="excluded", reason=f"the test's jump is asked at "
                       f"{'an' if event[0] in 'aeiou' else 'a'} {event!r} trace event, which "
                       "CPython refuses whatever "
                       "the target: a test of the setter's event rule, not of a jump target "
                       "(framescope jumps from line events only)")
        else:
            out.update(outcome="excluded", reason="the test's jump is made at a "
                       f"{watch.attempts[-1][1]!r} trace event, at a yield: a test of the "
                       "setter's event rule, not of a jump target (3.14+ jump there at once, "
                       "so that the generator does not yield; before, it jumps if it ever "
                       "resumes, and this one never does; framescope jumps from line events, "
                       "and a suspended generator when it resumes)")
        return out
    index, _, target, lasti, verdict, cpython = line_attempts[-1]
    if verdict is ...:
        out.update(outcome="excluded", reason="the test's target is not a line number")
        return out
    out["jump"] = {"to": target, "from_lasti": lasti, "cpython": cpython, "can_jump": verdict}
    if cpython is not None:
        expected = cpython.partition(": ")[2] if cpython.startswith("ValueError: ") else None
        if verdict != expected:
            out.update(outcome="failed", part="a", detail=f"CPython's setter: {cpython}; "
                       f"can_jump: {verdict!r}")
        else:
            out.update(outcome="passed", part="a", note="CPython refuses the jump, and so does "
                       "can_jump, with the same message")
        return out
    if verdict is not None:
        if OURS in verdict:
            out.update(outcome="failed", part="a", detail="can_jump refuses a jump that "
                       f"CPython made and survived in this test: {verdict}")
        else:
            out.update(outcome="failed", part="a", detail=f"CPython accepts the jump; "
                       f"can_jump says {verdict!r}")
        return out

    # (b): the same jump through framescope.jump(), asked at the event before.
    before = [i for i in range(index) if watch.events[i][0] is watch.events[index][0]]
    if not before:
        out.update(outcome="failed", part="b", detail="no trace event of the jumping frame "
                   "comes before the jump")
        return out
    return request_jump(module, name, out, watch, index, before[-1], target)


def request_jump(module, name: str, out: dict, watch: Watch, index: int, at: int,
                 target: int) -> dict:
    """Part (b): the test run again, framescope.jump() asked at trace event `at` of (a)'s run
    for the frame that jumped at event `index`."""
    original = module.JumpTracer
    events, watch.events = watch.events, []
    code = events[index][1]
    nth = sum(1 for i in range(at + 1) if events[i][1] is code)
    out["asked_at"] = events[at][2]
    del events
    record: dict = {}
    dropped: list[str] = []
    warn = _jump._warn
    _jump._warn = lambda message: (dropped.append(message), warn(message))
    module.JumpTracer = request_tracer(original, code, nth, target, record)
    try:
        result = run_case(module, name)
    finally:
        module.JumpTracer = original
        _jump._warn = warn
        sys.settrace(None)
    failed = problems(result)
    if "refused" in record:
        out.update(outcome="failed", part="b", detail="framescope.jump() refused the jump "
                   f"CPython accepts: {record['refused']}")
    elif "asked" not in record:
        out.update(outcome="failed", part="b", detail="the run did not reach the event before "
                   "the jump")
    elif dropped:
        out.update(outcome="failed", part="b", detail=f"framescope dropped the jump: {dropped}")
    elif failed:
        out.update(outcome="failed", part="b", detail="the test failed with the jump made by "
                   "framescope.jump(): " + failed[0][-1500:])
    else:
        out.update(outcome="passed", part="b")
    return out


def main(argv: list[str]) -> int:
    module = load()
    if argv[:1] == ["--list"]:
        print("\n".join(jump_tests(module)))
        return 0
    known = set(jump_tests(module))
    # For the parent's own test: NAME or NAME:ours dies (after an "ours" line) when NAME starts.
    crash = os.environ.get("FRAMESCOPE_SETTRACE_CRASH", "").partition(":")
    for name in argv:
        emit(start=name)
        if name == crash[0]:
            if crash[2] == "ours":
                emit(ours={"from": 1, "to": 2, "verdict": "(a refusal of ours)"})
            os.abort()
        if name not in known:
            emit(result={"test": name, "outcome": "failed", "detail": "no such jump test"})
            continue
        try:
            item = run_one(module, name)
        except Exception:
            item = {"test": name, "outcome": "failed", "detail": traceback.format_exc()[-1500:]}
        emit(result=item)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
