"""The walking API: getframe, stack, frames, threads, frame_of and FrameInfo."""

from __future__ import annotations

import asyncio
import gc
import re
import subprocess
import sys
import sysconfig
import threading
import traceback
import types

import pytest

import framescope
from framescope import FrameInfo, _caps, _core

from conftest import assert_clean_exit, run_isolated



def expected(frame: types.FrameType | None, limit: int | None = None) -> list[tuple]:
    """The (filename, lineno, function, module) records of a frame and its callers, read through
    the frame objects themselves."""
    out = []
    while frame is not None and (limit is None or len(out) < limit):
        code = frame.f_code
        out.append((code.co_filename, frame.f_lineno,
                    code.co_qualname if _caps.HAS_CO_QUALNAME else code.co_name,
                    frame.f_globals.get("__name__")))
        frame = frame.f_back
    return out


def recurse(n: int, fn):
    if n == 0:
        return fn()
    return recurse(n - 1, fn)


# --- getframe ----------------------------------------------------------------------------------

def test_getframe_is_sys_getframe():
    def inner():
        return [(framescope.getframe(d), sys._getframe(d)) for d in range(5)]

    for ours, theirs in recurse(3, inner):
        assert ours is theirs
    assert framescope.getframe() is sys._getframe()
    assert framescope.getframe(depth=1) is sys._getframe(1)
    assert framescope.getframe(True) is sys._getframe(1)


def test_getframe_creates_the_frame_object_of_an_untouched_frame():
    # Called at the bottom of a chain whose frames have no frame objects yet (3.11+).
    def inner():
        return framescope.getframe(4), sys._getframe(4)

    ours, theirs = recurse(6, inner)
    assert ours is theirs
    assert ours.f_code is recurse.__code__


def test_getframe_bad_depth():
    with pytest.raises(ValueError, match=r"^getframe\(\) depth must be >= 0, got -1$"):
        framescope.getframe(-1)
    with pytest.raises(ValueError, match=r"must be >= 0"):
        framescope.getframe(-(2**80))
    depth = len(expected(sys._getframe()))
    with pytest.raises(ValueError, match=r"^call stack is not deep enough: depth \d+ was asked"):
        framescope.getframe(depth)
    with pytest.raises(ValueError, match="call stack is not deep enough"):
        framescope.getframe(2**80)
    with pytest.raises(TypeError, match=r"getframe\(\) depth must be an int, not str"):
        framescope.getframe("1")
    with pytest.raises(TypeError, match="not float"):
        framescope.getframe(1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'level'"):
        framescope.getframe(level=1)
    with pytest.raises(TypeError, match="at most 1 positional argument"):
        framescope.getframe(1, 2)
    framescope.getframe(depth - 1)  # the outermost frame is fine


def test_getframe_raises_the_sys_getframe_audit_event():
    proc = run_isolated("""
        import sys, framescope
        seen = []
        sys.addaudithook(lambda event, args: event == "sys._getframe" and seen.append(args[0]))
        def f():
            return framescope.getframe()
        frame = f()
        assert seen == [frame], seen
        def refuse(event, args):
            if event == "sys._getframe":
                raise PermissionError("no frames here")
        sys.addaudithook(refuse)
        try:
            framescope.getframe()
        except PermissionError as e:
            print("refused:", e)
    """)
    assert_clean_exit(proc)
    assert "refused: no frames here" in proc.stdout


def test_getframe_raises_the_audit_event_to_a_hook_added_from_c():
    # PySys_AddAuditHook puts the hook on the runtime's list, not the interpreter's: getframe()
    # must see that list too before it decides that nobody listens.
    proc = run_isolated("""
        import ctypes, framescope
        from framescope import _core
        seen = []
        HOOK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.py_object, ctypes.c_void_p)
        @HOOK
        def hook(event, args, data):
            if event == b"sys._getframe":
                seen.append(args[0])
            return 0
        add = ctypes.pythonapi.PySys_AddAuditHook
        add.argtypes = [HOOK, ctypes.c_void_p]
        if _core._AUDIT_PROBE is None:
            assert not _core._audit_wanted()
        assert add(hook, None) == 0
        assert _core._audit_wanted()
        def f():
            return framescope.getframe()
        frame = f()
        assert seen == [frame], seen
        print("ok", flush=True)
        # The hook is Python code behind a C pointer, and runtime hooks are also called after
        # the interpreter is torn down: leave before that.
        import os; os._exit(0)
    """)
    assert_clean_exit(proc)
    assert proc.stdout.strip() == "ok"


def test_audit_decision_follows_hooks_and_an_attached_tracer():
    # Without hooks, getframe() skips PySys_Audit: it reads the hook lists itself (through the
    # headers on 3.13+, through offsets that a C file publishes before); a tracer attached to
    # the python:audit probe raises the probe's semaphore, which is simulated here by raising
    # it by hand.
    proc = run_isolated("""
        import ctypes, sys, framescope
        from framescope import _caps, _core
        inline = _core.CAPABILITIES["inline_audit_check"]
        assert inline == _caps.HAS_INLINE_AUDIT_CHECK, inline
        assert not _core._audit_wanted()
        if _core._AUDIT_PROBE is not None:
            semaphore = ctypes.c_ushort.from_address(_core._AUDIT_PROBE)
            assert semaphore.value == 0
            semaphore.value += 1
            assert _core._audit_wanted()
            assert framescope.getframe() is sys._getframe()
            semaphore.value -= 1
            assert not _core._audit_wanted()
        sys.addaudithook(lambda event, args: None)
        assert _core._audit_wanted()
        print("decided")
    """)
    assert_clean_exit(proc)
    assert proc.stdout.strip() == "decided"


def _readelf_audit_semaphore(path: str) -> int | None:
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Provider: python\s+Name: audit\s+Location: \S+, Base: \S+, "
                      r"Semaphore: (0x[0-9a-f]+)", out)
    return int(found.group(1), 16) if found else None


def test_audit_probe_is_found_where_the_interpreter_has_one():
    # Checked against binutils' reading of the interpreter's file: the object that holds
    # PySys_Audit (the executable, or libpython), its load bias from that symbol's address.
    import ctypes
    from framescope import _core
    address = ctypes.cast(ctypes.pythonapi.PySys_Audit, ctypes.c_void_p).value
    path = None
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if start <= address < end and len(fields) >= 6:
                path = fields[5]
    assert path is not None
    symbols = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True,
                             text=True, check=True).stdout
    linked = next(int(line.split()[0], 16) for line in symbols.splitlines()
                  if line.split()[-1] == "PySys_Audit")
    semaphore = _readelf_audit_semaphore(path)
    has_dtrace = bool(sysconfig.get_config_var("WITH_DTRACE"))
    assert (semaphore is not None) == has_dtrace
    if has_dtrace:
        assert _core._AUDIT_PROBE == address - linked + semaphore
    else:
        assert _core._AUDIT_PROBE is None


# --- stack -------------------------------------------------------------------------------------

def test_stack_matches_the_frames_and_traceback():
    def inner():
        return framescope.stack(), expected(sys._getframe()), traceback.extract_stack()

    ours, theirs, tb = recurse(4, inner)
    assert [tuple(i) for i in ours] == theirs
    assert all(type(i) is FrameInfo for i in ours)
    # traceback.extract_stack() is outermost first and names functions by co_name.
    assert [(i.filename, i.lineno, i.function.rpartition(".")[2]) for i in ours] == \
        [(s.filename, s.lineno, s.name) for s in reversed(tb)]


def test_qualified_names():
    class Outer:
        def method(self):
            def nested():
                return framescope.stack(limit=2)
            return nested()

    inner, method = Outer().method()
    if _caps.HAS_CO_QUALNAME:
        assert method.function == "test_qualified_names.<locals>.Outer.method"
        assert inner.function == "test_qualified_names.<locals>.Outer.method.<locals>.nested"
    else:
        assert (method.function, inner.function) == ("method", "nested")
    assert inner.module == __name__


def test_start_and_limit():
    def inner():
        whole, one, two, frame = framescope.stack(), framescope.stack(1), \
            framescope.stack(start=2, limit=3), sys._getframe(3)
        return whole, one, two, framescope.stack(frame), expected(frame)

    whole, one, two, from_frame, frame_expected = recurse(5, inner)
    assert one == whole[1:]
    assert two == whole[2:5]
    assert [tuple(i) for i in from_frame] == frame_expected
    assert framescope.stack(limit=0) == []
    first, = framescope.stack(limit=1)
    assert first.function.endswith("test_start_and_limit")
    assert len(framescope.stack(limit=10**30)) == len(expected(sys._getframe()))


def test_stack_bad_arguments():
    with pytest.raises(TypeError, match=r"stack\(\) start must be a frame, an int depth or None, "
                                        r"not str"):
        framescope.stack("x")
    with pytest.raises(ValueError, match=r"stack\(\) start must be >= 0, got -1"):
        framescope.stack(-1)
    with pytest.raises(ValueError, match="call stack is not deep enough"):
        framescope.stack(10**6)
    with pytest.raises(ValueError, match=r"stack\(\) limit must be >= 0, got -1"):
        framescope.stack(limit=-1)
    with pytest.raises(TypeError, match=r"stack\(\) limit must be an int or None, not str"):
        framescope.stack(limit="3")
    with pytest.raises(TypeError, match="at most 1 positional argument"):
        framescope.stack(None, 3)
    with pytest.raises(TypeError, match="multiple values for argument 'start'"):
        framescope.stack(None, start=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'depth'"):
        framescope.stack(depth=1)


def test_stack_creates_no_frame_objects():
    from framescope import _testing

    def inner():
        before = _testing.frame_objects_exist()
        framescope.stack()
        framescope.threads()
        after = _testing.frame_objects_exist()
        sys._getframe(5)
        touched = _testing.frame_objects_exist()
        return before, after, touched

    before, after, touched = recurse(8, inner)
    assert before == after
    if _caps.HAS_INTERPRETER_FRAME:
        # The helper does see frame objects appear (sys._getframe(5) made one), and none of the
        # recursion's frames had one before.
        assert touched[5] and not before[5]
        assert not any(before[1:9])
    else:
        assert all(after)  # 3.10 (no interpreter frames): every frame is an object


def test_stack_under_a_trace_function():
    # A tracer makes the frame object carry its own line number.
    def inner():
        return framescope.stack(), expected(sys._getframe())

    def tracer(frame, event, arg):
        return tracer

    sys.settrace(tracer)
    try:
        ours, theirs = recurse(3, inner)
    finally:
        sys.settrace(None)
    assert [tuple(i) for i in ours] == theirs


def test_module_name_follows_the_globals():
    code = compile("import framescope\nresult = framescope.stack(limit=1)[0]\n", "<mod>", "exec")
    seen = []
    for name in ("first", "second", "first", None):
        g = {"__name__": name} if name else {}
        exec(code, g)
        seen.append((g["result"].module, g["result"].filename, g["result"].function))
    assert seen == [("first", "<mod>", "<module>"), ("second", "<mod>", "<module>"),
                    ("first", "<mod>", "<module>"), (None, "<mod>", "<module>")]

    def f():
        return framescope.stack(limit=1)[0].module

    g = dict(f.__globals__)
    g2 = types.FunctionType(f.__code__, g)
    assert f() == __name__
    g["__name__"] = "renamed"
    assert g2() == "renamed"
    assert f() == __name__


def test_exec_and_eval_frames():
    ns = {"framescope": framescope, "__name__": "execd"}
    exec("def g():\n    return framescope.stack(limit=3)\nres = g()", ns)
    g_info, mod_info = ns["res"][:2]
    assert (g_info.filename, g_info.lineno, g_info.function, g_info.module) == \
        ("<string>", 2, "g", "execd")
    assert (mod_info.filename, mod_info.lineno, mod_info.function) == ("<string>", 3, "<module>")
    info = eval("framescope.stack()", {"framescope": framescope})[0]
    assert (info.filename, info.function) == ("<string>", "<module>")


def test_shim_and_incomplete_frames_are_hidden():
    # Python code called back from C (sorted's key, a class's __init__ through type.__call__,
    # __init_subclass__) runs above frames CPython does not show (3.12+ shim frames).
    seen = []

    def key(x):
        seen.append((framescope.stack(), expected(sys._getframe())))
        return x

    sorted([2, 1], key=key)

    class C:
        def __init__(self):
            seen.append((framescope.stack(), expected(sys._getframe())))

        def __init_subclass__(cls):
            seen.append((framescope.stack(), expected(sys._getframe())))

    C()

    class D(C):
        pass

    assert len(seen) == 4
    for ours, theirs in seen:
        assert [tuple(i) for i in ours] == theirs


def test_deep_stack():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        ours, theirs = recurse(1500, lambda: (framescope.stack(), expected(sys._getframe())))
        frames = recurse(1500, framescope.frames)
    finally:
        sys.setrecursionlimit(limit)
    assert len(ours) > 1500
    assert [tuple(i) for i in ours] == theirs
    # frames() was called by recurse itself, stack() by a lambda one frame further in.
    assert len(frames) == len(ours) - 1
    assert [f.f_code.co_filename for f in frames] == [i.filename for i in ours[1:]]


# --- frames ------------------------------------------------------------------------------------

def test_frames_is_the_f_back_chain():
    def inner():
        return framescope.frames(), sys._getframe()

    ours, top = recurse(3, inner)
    chain = []
    while top is not None:
        chain.append(top)
        top = top.f_back
    assert len(ours) == len(chain)
    assert all(a is b for a, b in zip(ours, chain))

    def inner2():
        return framescope.frames(2, limit=2), sys._getframe(2), sys._getframe(3)

    (a, b), fa, fb = recurse(3, inner2)
    assert a is fa and b is fb
    frame = sys._getframe()
    assert framescope.frames(frame, limit=1) == [frame]
    with pytest.raises(TypeError, match=r"frames\(\) start must be a frame"):
        framescope.frames(1.5)
    with pytest.raises(ValueError, match=r"frames\(\) limit must be >= 0"):
        framescope.frames(limit=-2)


def test_dead_frames():
    def finished():
        return sys._getframe()

    frame = finished()
    assert [tuple(i) for i in framescope.stack(frame)] == expected(frame)
    assert framescope.frames(frame)[0] is frame
    frame.clear()
    assert [tuple(i) for i in framescope.stack(frame)] == expected(frame)


# --- generators, coroutines, async generators ---------------------------------------------------

def test_generator_frames():
    def gen():
        yield framescope.stack(limit=2)
        yield framescope.stack()

    g = gen()
    f0 = framescope.frame_of(g)
    assert f0 is not None and f0.f_code is gen.__code__
    first = next(g)
    assert first[0].function.endswith("gen") and first[1].function.endswith(
        "test_generator_frames")
    # Suspended: the generator's frame alone (it has no caller while suspended).
    suspended = framescope.stack(framescope.frame_of(g))
    assert [tuple(i) for i in suspended] == expected(framescope.frame_of(g))
    assert len(suspended) == 1 and suspended[0].lineno == first[0].lineno
    next(g)
    assert list(g) == []
    assert framescope.frame_of(g) is None


def test_coroutine_and_async_generator_frames():
    records = []

    async def agen():
        records.append(framescope.stack(limit=3))
        yield 1

    async def coro():
        records.append(framescope.stack(limit=2))
        async for _ in agen():
            pass
        await asyncio.sleep(0)
        return framescope.stack(limit=1)

    c = coro()
    assert framescope.frame_of(c).f_code is coro.__code__
    last = asyncio.run(c)
    assert framescope.frame_of(c) is None
    assert last[0].function.endswith("coro")
    assert records[0][0].function.endswith("coro")
    assert [r.function.rpartition(".")[2] for r in records[1][:2]] == ["agen", "coro"]

    a = agen()
    assert framescope.frame_of(a).f_code is agen.__code__
    with pytest.raises(TypeError, match="expects a generator, coroutine or async generator, "
                                        "not int"):
        framescope.frame_of(1)


# --- threads -----------------------------------------------------------------------------------

def test_threads():
    ready = threading.Event()
    release = threading.Event()

    def parked():
        ready.set()
        release.wait(30)

    t = threading.Thread(target=recurse, args=(3, parked), name="parked")
    t.start()
    try:
        assert ready.wait(30)
        ours, current = framescope.threads(), sys._current_frames()
        mine = framescope.stack()
        theirs = expected(current[t.ident])
    finally:
        release.set()
        t.join()
    assert set(ours) == set(current)
    # The parked thread is blocked in Event.wait: its records are those of its frames.
    assert [tuple(i) for i in ours[t.ident]] == theirs
    assert [i.function.rpartition(".")[2] for i in ours[t.ident]][:6] == \
        ["wait", "wait", "parked", "recurse", "recurse", "recurse"]
    me = ours[threading.get_ident()]
    assert me[1:] == mine[1:] and me[0].function == mine[0].function


def test_threads_stress_in_a_subprocess():
    proc = run_isolated("""
        import sys, threading, framescope
        stop = False
        def churn(n):
            if n:
                return churn(n - 1)
            for _ in range(50):
                t = threading.Thread(target=lambda: sum(range(100)))
                t.start(); t.join()
        def worker():
            while not stop:
                churn(40)
        workers = [threading.Thread(target=worker) for _ in range(4)]
        for w in workers: w.start()
        total = 0
        for i in range(3000):
            for tid, frames in framescope.threads().items():
                total += len(frames)
            framescope.stack()
        stop = True
        for w in workers: w.join()
        print("ok", total > 0)
    """, timeout=300)
    assert_clean_exit(proc)
    assert "ok True" in proc.stdout


# --- FrameInfo & gc ----------------------------------------------------------------------------

def test_frame_info_record():
    info = framescope.stack(limit=1)[0]
    filename, lineno, function, module = info
    assert (filename, lineno, function, module) == (info.filename, info.lineno, info.function,
                                                    info.module)
    assert filename == __file__ and module == __name__
    with pytest.raises(AttributeError):
        info.lineno = 1  # type: ignore[misc]
    assert repr(info).startswith("framescope.FrameInfo(filename=")
    assert FrameInfo.n_fields == len(info) == 4


def test_gc_state_is_left_as_it_was():
    assert gc.isenabled()
    framescope.stack()
    framescope.threads()
    assert gc.isenabled()
    gc.disable()
    try:
        framescope.stack()
        framescope.threads()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _all_code(module):
    """Every code object of a module's functions and classes, nested ones included."""
    todo = [module.__spec__.loader.get_code(module.__name__)]
    while todo:
        code = todo.pop()
        yield code
        todo.extend(c for c in code.co_consts if isinstance(c, type(code)))


@pytest.mark.parametrize("module_name", ["json.decoder", "argparse", "asyncio.base_events",
                                         "dataclasses"])
def test_line_of_every_instruction(module_name):
    """Walks read each frame's line from the code's line ranges (decoded once per code object);
    for every instruction of real code they give co_lines()'s line (None: -1), as
    PyCode_Addr2Line and frame.f_lineno do."""
    import importlib

    module = importlib.import_module(module_name)
    checked = 0
    for code in _all_code(module):
        expected = {}
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                expected[offset // 2] = -1 if line is None else line
        for unit in range(len(code.co_code) // 2 + 4):  # and past the end: no line
            assert _core._code_line(code, unit) == expected.get(unit, -1), (code, unit)
            checked += 1
        assert _core._code_line(code, -1) == code.co_firstlineno
    assert checked > 1000
