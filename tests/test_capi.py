"""framescope's C API (framescope.h), called from C.

The extension modules are built here, at test time, from the installed package only, as an
outside project builds them: tests/capi/capi_ext.c as C99 against framescope.get_include(),
tests/capi/capi_cxx.cpp as C++17, and tests/capi/cmake_project through CMake's
find_package(framescope CONFIG). Warnings are errors, pedantic ones included.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import framescope
from framescope import _caps

sys.path.insert(0, str(Path(__file__).resolve().parent / "capi"))
import build as capi_build  # noqa: E402  (tests/capi/build.py)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("capi")
    paths = {
        "_fs_capi_ext": capi_build.compile_module("_fs_capi_ext", [capi_build.HERE / "capi_ext.c"],
                                                  out),
        "_fs_capi_cxx": capi_build.compile_module("_fs_capi_cxx", [capi_build.HERE / "capi_cxx.cpp"],
                                                  out, cxx=True, std="c++17"),
    }
    # The oldest C++ the header promises: compiled only (the module is the same as above).
    capi_build.compile_module("_fs_capi_cxx11", [capi_build.HERE / "capi_cxx.cpp"], out / "cxx11",
                              cxx=True, std="c++11")
    return out, paths


@pytest.fixture(scope="module")
def ext(built):
    return capi_build.load("_fs_capi_ext", built[1]["_fs_capi_ext"])


def lineno_of(fn, marker: str) -> int:
    """The line of `fn`'s source that ends with the comment `# marker`."""
    lines, start = inspect.getsourcelines(fn)
    hits = [start + i for i, text in enumerate(lines) if text.rstrip().endswith(f"# {marker}")]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


# ---- the header and the ways to find it ----------------------------------------------------------


def test_header_locations_agree(tmp_path):
    include = framescope.get_include()
    assert Path(include, "framescope.h").is_file()
    run = lambda *a: subprocess.run([sys.executable, "-m", "framescope", *a],  # noqa: E731
                                    capture_output=True, text=True, check=True).stdout.split()
    assert run("--include") == [include]
    cmake_dir, pc_dir = run("--cmake-dir", "--pkgconfig-dir")
    assert Path(cmake_dir, "framescope-config.cmake").is_file()
    assert Path(cmake_dir, "framescope-config-version.cmake").is_file()
    flags = subprocess.run(["pkg-config", "--cflags", "framescope"], capture_output=True,
                           text=True, check=True,
                           env=dict(os.environ, PKG_CONFIG_PATH=pc_dir)).stdout.split()
    assert [os.path.realpath(f[2:]) for f in flags] == [os.path.realpath(include)]
    version = subprocess.run(["pkg-config", "--modversion", "framescope"], capture_output=True,
                             text=True, check=True,
                             env=dict(os.environ, PKG_CONFIG_PATH=pc_dir)).stdout.strip()
    assert version == framescope.__version__


def test_cxx17_module(built):
    cxx = capi_build.load("_fs_capi_cxx", built[1]["_fs_capi_cxx"])

    def f():
        seen = 41
        return cxx.get_var_string(sys._getframe(), "seen")

    assert f() == 41


def test_cmake_package_module(tmp_path):
    path = capi_build.cmake_module("_fs_capi_cmake", capi_build.HERE / "cmake_project", tmp_path)
    mod = capi_build.load("_fs_capi_cmake", path)

    def outer():
        token = "outer's"
        return inner()

    def inner():
        return mod.outer_var(1, "token")  # read through the table that main.c loaded

    assert outer() == "outer's"


# ---- the page's functions --------------------------------------------------------------------


def test_frame_accessors(ext):
    def f(a):
        b = a + 1  # noqa: F841
        frame = sys._getframe()
        assert ext.get_line_number(frame) == frame.f_lineno  # a running frame's line
        return frame

    frame = f(1)
    assert (ext.get_lasti(frame), ext.get_line_number(frame)) == (frame.f_lasti, frame.f_lineno)
    assert frame.f_lasti > 0
    assert ext.get_code(frame) is f.__code__
    assert ext.get_globals(frame) is globals()
    assert ext.get_builtins(frame) is frame.f_builtins
    assert ext.get_back(frame) is frame.f_back  # finished: the caller it had
    assert ext.frame_check(frame) and not ext.frame_check(f) and not ext.frame_check(None)

    def caller():
        return callee()

    def callee():
        me = sys._getframe()
        return ext.get_back(me), sys._getframe(1)

    back, expected = caller()
    assert back is expected


def test_get_back_leaves_a_pending_exception_alone(ext):
    def outermost():
        return sys._getframe()

    frame = outermost()
    while frame.f_back is not None:
        frame = frame.f_back
    assert ext.get_back_keeps_error(frame)  # no outer frame: NULL, the caller's error kept
    assert ext.get_back_keeps_error(sys._getframe())


def test_a_str_subclass_name_is_read_as_str(ext):
    class Name(str):
        def __eq__(self, other):
            raise AssertionError("the name's own __eq__ ran")

        __hash__ = str.__hash__

    def f():
        value = "found"  # noqa: F841
        frame = sys._getframe()
        return (ext.get_var(frame, Name("value")), ext.lookup(frame, Name("value")),
                ext.set_var(frame, Name("value"), "set"), value)

    assert f() == ("found", "found", None, "set")


def test_get_var_reads_every_kind(ext):
    def outer():
        cell = "cell"

        def inner(arg):
            local = arg * 2
            frame = sys._getframe()
            return frame, cell

        return inner

    frame, _ = outer()(21)
    live = sys._getframe()
    here = "here"
    assert ext.get_var(live, "here") == "here"
    assert ext.get_var_string(live, "here") == "here"
    assert ext.get_var(frame, "arg") == 21
    assert ext.get_var(frame, "local") == 42
    assert ext.get_var(frame, "cell") == "cell"  # a free variable
    with pytest.raises(NameError):
        ext.get_var(live, "nonexistent")
    with pytest.raises(NameError):
        ext.get_var_string(live, "nonexistent")
    # a module frame: its namespace
    module_frame = ext.thread_frame(0)
    while module_frame.f_code.co_name != "<module>" and module_frame.f_back is not None:
        module_frame = module_frame.f_back
    assert module_frame.f_code.co_name == "<module>"
    assert ext.get_var(module_frame, "__name__") == module_frame.f_globals["__name__"]


def test_get_locals_is_a_live_write_through_mapping(ext):
    def f():
        x = 1
        frame = sys._getframe()
        mapping = ext.get_locals(frame)
        assert ext.proxy_check(mapping)
        assert mapping["x"] == 1
        mapping["x"] = 2        # written through: the code sees it
        y = x
        x = 3
        return mapping, y

    mapping, y = f()
    assert y == 2
    assert mapping["x"] == 3  # live: shows what the frame did after
    assert isinstance(mapping, (framescope.LocalsView,) + _proxy_types())
    def g():
        a, b = 1, 2  # noqa: F841
        frame = sys._getframe()
        return ext.get_locals(frame).items() == framescope.locals(frame).items()

    assert g()


def _proxy_types() -> tuple[type, ...]:
    """CPython's FrameLocalsProxy type, where the interpreter has one."""
    if not _caps.FRAME_LOCALS_PROXY:
        return ()
    def f():
        return sys._getframe().f_locals
    return (type(f()),)


def test_get_locals_of_module_and_class_frames(ext):
    namespace = {}
    exec("import sys\nframe = sys._getframe()", namespace)
    assert ext.get_locals(namespace["frame"]) is namespace

    class Body:
        frame = sys._getframe()
        attr = 1

    assert ext.get_locals(Body.frame)["attr"] == 1


def test_frame_locals_proxy_check(ext):
    def f():
        return sys._getframe()

    frame = f()
    assert ext.proxy_check(framescope.locals(frame))
    for proxy_type in _proxy_types():
        assert ext.proxy_check(frame.f_locals) and isinstance(frame.f_locals, proxy_type)
    assert not ext.proxy_check({}) and not ext.proxy_check(frame) and not ext.proxy_check(None)


def test_get_generator_finds_every_owner(ext):
    def gen():
        yield sys._getframe()

    g = gen()
    assert ext.get_generator(g.gi_frame) is g  # not started
    frame = next(g)
    assert ext.get_generator(frame) is g  # suspended

    def running():
        yield ext.get_generator(sys._getframe())

    r = running()
    assert next(r) is r  # running

    async def coro():
        return ext.get_generator(sys._getframe())

    c = coro()
    assert ext.get_generator(c.cr_frame) is c
    with pytest.raises(StopIteration) as stop:
        c.send(None)
    assert stop.value.value is c

    async def agen():
        yield 1

    a = agen()
    assert ext.get_generator(a.ag_frame) is a
    asyncio.run(a.aclose())

    # A function's frame and a finished generator's: NULL, without an exception.
    assert ext.get_generator(sys._getframe()) is None
    g.close()
    assert ext.get_generator(frame) is None


def test_interpreter_frame_functions_in_a_frame_evaluator(ext):
    """A PEP 523 frame evaluator (as a JIT or profiler installs one) built on
    FsUnstable_InterpreterFrame_*: the code, last instruction and line of each frame it runs."""

    def traced_gen():
        yield 1
        yield 2

    def traced_call(n):
        return n + 1

    g = traced_gen()
    next(g)
    suspended_at = (g.gi_frame.f_lasti, g.gi_frame.f_lineno)
    ext.start_evaluator()
    try:
        traced_call(1)
        next(g)
    finally:
        log = ext.stop_evaluator()
    call, resume = log
    assert call[0] is traced_call.__code__
    # A new frame has run nothing: before its first instruction, or at it.
    assert call[1] in (-1, 0)
    assert call[2] == traced_call.__code__.co_firstlineno
    # A generator resumes where it was suspended, as its frame object said.
    assert resume[0] is traced_gen.__code__
    assert (resume[1], resume[2]) == suspended_at


# ---- more than the page ------------------------------------------------------------------------


def test_outer_frames_written_from_c_persist(ext):
    """The Python code sees, when the C call returns, what C wrote into its frame and its
    callers' (on 3.10-3.12 too, where writes through f_locals are lost)."""

    def outer():
        limit = 10
        middle()
        return limit

    def middle():
        count = 1
        ext.set_outer(0, "count", 5)  # this frame
        ext.set_outer(1, "limit", 99)  # the caller's
        assert count == 5

    assert outer() == 99


def test_set_var_cells_and_lookup(ext):
    def outer():
        shared = "before"

        def inner():
            return shared

        ext.set_var(sys._getframe(), "shared", "after")
        return inner()

    assert outer() == "after"

    def f():
        x = 1
        frame = sys._getframe()
        ext.set_var_string(frame, "x", 7)
        return x, ext.lookup(frame, "x"), ext.lookup(frame, "len"), ext.lookup(frame, "pytest")

    assert f() == (7, 7, len, pytest)

    def unbound():
        ext.lookup(sys._getframe(), "later")
        later = 1
        return later

    with pytest.raises(UnboundLocalError):
        unbound()
    with pytest.raises(NameError):
        ext.lookup(sys._getframe(), "no_such_name_anywhere")


def test_jump_from_c(ext):
    def f():
        out = []
        ext.jump(sys._getframe(), lineno_of(f, "target"))
        out.append("skipped")
        out.append("landed")  # target
        return out

    assert f() == ["landed"]

    def g():
        ext.jump(sys._getframe(), lineno_of(g, "in loop"))
        for _ in range(3):
            pass  # in loop

    with pytest.raises(ValueError, match="can't jump into the body of a for loop"):
        g()


def test_jump_a_suspended_generator_from_c(ext):
    def gen():
        yield 1
        yield 2
        yield 3  # target

    g = gen()
    assert next(g) == 1
    ext.jump(g.gi_frame, lineno_of(gen, "target"))  # takes effect when it resumes
    assert list(g) == [3]


def test_can_jump_agrees_with_python_api(ext):
    def sample(xs):
        total = 0
        for x in xs:
            total += x  # body
        try:
            total += 1
        except Exception:
            pass  # handler
        return total  # end

    code = sample.__code__
    first = code.co_firstlineno
    last = first + len(inspect.getsource(sample).splitlines())
    lastis = sorted({start for start, _, line in code.co_lines() if line is not None})
    verdicts = 0
    for lasti in lastis[:12]:
        for line in range(first, last):
            assert ext.can_jump(code, lasti, line) == framescope.can_jump(code, lasti, line)
            verdicts += 1
    assert verdicts > 50
    body = lineno_of(sample, "body")
    end = lineno_of(sample, "end")
    assert ext.can_jump(code, _lasti_on(code, end), body) is not None  # into a for loop
    assert ext.can_jump(code, _lasti_on(code, body), end) is None


def _lasti_on(code, line):
    return min(start for start, _, l in code.co_lines() if l == line)


def test_thread_state_get_frame(ext):
    def depth2():
        return ext.thread_frame(0), ext.thread_frame(1), sys._getframe(0), sys._getframe(1)

    a, b, c, d = depth2()
    assert a is c and b is d
    with pytest.raises(ValueError, match="not deep enough"):
        ext.thread_frame(100_000)

    ready, go = threading.Event(), threading.Event()

    def worker():
        secret = "worker's"
        ready.set()
        go.wait(30)
        return secret

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert ready.wait(30)
        frames = [ext.thread_frame(i, t.ident) for i in range(3)]
        names = [f.f_code.co_name for f in frames]
        assert "worker" in names
        worker_frame = frames[names.index("worker")]
        assert ext.get_var(worker_frame, "secret") == "worker's"
        walked = ext.walk(t.ident)
        assert [c.co_name for c, _, _ in walked[:-1]] == \
            [f.co_name for f in _codes_of(sys._current_frames()[t.ident])]
    finally:
        go.set()
        t.join()


def _codes_of(frame):
    while frame is not None:
        yield frame.f_code
        frame = frame.f_back


# ---- walks -------------------------------------------------------------------------------------


def _recurse(n, fn):
    return fn() if n == 0 else _recurse(n - 1, fn)


def _snapshot(frame):
    """[(code, lasti, line)] from `frame` outward, read from Python."""
    out = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lasti, frame.f_lineno))
        frame = frame.f_back
    return out


def test_walk_matches_inspect_stack(ext):
    walked, seen, stack = _recurse(
        20, lambda: (ext.walk(), _snapshot(sys._getframe()), inspect.stack()))
    assert walked[-1] == 0  # the walk went to the end
    walked = walked[:-1]
    # inspect.stack() shows the same frames, innermost first (the lambda, then _recurse...)
    assert [(code, line) for code, _, line in walked] == \
        [(info.frame.f_code, info.lineno) for info in stack]
    assert len(walked) > 20
    # and each frame's last instruction is f_lasti (the callers' are where they wait: the
    # innermost moved on between the walk and the snapshot)
    assert walked[1:] == seen[1:]


def test_walk_stops_where_the_visitor_says(ext):
    walked = ext.walk(None, 3)
    assert len(walked) == 4 and walked[-1] == 1003  # the visitor's own return value


def test_walk_from_a_generator_and_a_finished_frame(ext):
    def gen():
        yield

    g = gen()
    next(g)
    walked = ext.walk_from(g.gi_frame)
    assert [c for c, _, _ in walked[:-1]] == [gen.__code__]  # a suspended frame has no caller

    def f():
        return sys._getframe()

    frame = f()  # finished: its walk goes on through the caller it had, as f_back does
    walked, seen = ext.walk_from(frame)[:-1], _snapshot(frame)
    assert [(c, line) for c, _, line in walked] == [(c, line) for c, _, line in seen]
    assert walked[0] == seen[0]  # (the finished frame's instruction no longer moves)
    assert ext.walk_from(frame)[0][0] is f.__code__


def test_walk_creates_no_objects(ext):
    """A 50-deep walk allocates nothing; materialising the same frames' objects (3.11+, where
    the interpreter has none until asked) allocates, which shows the measure sees them."""

    def blocks_during(fn, *args):
        before = sys.getallocatedblocks()
        fn(*args)
        return sys.getallocatedblocks() - before

    def walks():
        for _ in (None,) * 20:
            ext.walk_count()

    def nothing():
        for _ in (None,) * 20:
            len(())

    def frames():
        global _kept
        _kept = [ext.thread_frame(i) for i in range(40)]

    def measure():
        blocks_during(walks), blocks_during(nothing)  # (warm up)
        return (blocks_during(walks) - blocks_during(nothing),
                blocks_during(frames) - blocks_during(nothing))

    import gc

    gc.collect()
    gc.disable()  # (a collection during a measure would free blocks)
    try:
        walk_delta, frame_delta = _recurse(50, measure)
    finally:
        gc.enable()
    global _kept
    _kept = None
    assert walk_delta == 0
    if _caps.HAS_INTERPRETER_FRAME:
        assert frame_delta >= 40


# ---- bad arguments -----------------------------------------------------------------------------


def test_bad_arguments_raise_never_crash(ext):
    def f():
        x = 1  # noqa: F841
        return sys._getframe()

    S, T, V = "SystemError", "TypeError", "ValueError"
    expected = {
        # documented as never raising: NULL without an exception
        "GetBack(NULL)": "NULL", "GetBack(other)": "NULL",
        "GetGenerator(NULL)": "NULL", "GetGenerator(other)": "NULL",
        "GetBuiltins(NULL)": S, "GetBuiltins(other)": T,
        "GetCode(NULL)": S, "GetCode(other)": T,
        "GetGlobals(NULL)": S, "GetGlobals(other)": T,
        "GetLasti(NULL)": S, "GetLasti(other)": T,
        "GetLineNumber(NULL)": S, "GetLineNumber(other)": T,
        "GetVar(NULL, name)": S, "GetVar(other, name)": T,
        "GetVar(frame, NULL)": S, "GetVar(frame, 42)": T,
        "GetVarString(NULL, name)": S, "GetVarString(frame, NULL)": S,
        "GetVarString(frame, unknown)": "NameError",
        "GetLocals(NULL)": S, "GetLocals(other)": T,
        "Check(NULL)": 0, "Check(other)": 0,
        "FrameLocalsProxy_Check(NULL)": 0, "FrameLocalsProxy_Check(other)": 0,
        "InterpreterFrame_GetCode(NULL)": S, "InterpreterFrame_GetLasti(NULL)": S,
        "InterpreterFrame_GetLine(NULL)": S,
        "SetVar(NULL, name, value)": S, "SetVar(other, name, value)": T,
        "SetVar(frame, NULL, value)": S, "SetVar(frame, 42, value)": T,
        "SetVar(frame, name, NULL)": S,
        "SetVarString(frame, NULL, value)": S, "SetVarString(other, name, value)": T,
        "Lookup(NULL, name)": S, "Lookup(frame, 42)": T,
        "Jump(NULL, 1)": S, "Jump(other, 1)": T,
        "CanJump(NULL, 0, 1)": S, "CanJump(other, 0, 1)": T,
        "ThreadState_GetFrame(NULL, 0)": S, "ThreadState_GetFrame(ts, -1)": V,
        "ThreadState_GetFrame(ts, 100000)": V,
        "Walk(NULL, visit)": S, "Walk(ts, NULL)": S,
        "WalkFrom(NULL, visit)": S, "WalkFrom(other, visit)": T, "WalkFrom(frame, NULL)": S,
    }
    assert ext.bad_arguments(f(), 42) == expected


def test_finished_frame(ext):
    def f():
        x = "kept"  # noqa: F841
        return sys._getframe()

    frame = f()
    assert ext.get_var(frame, "x") == "kept"
    assert ext.get_code(frame) is f.__code__
    assert ext.get_line_number(frame) == frame.f_lineno
    assert ext.get_generator(frame) is None
    frame.clear()
    with pytest.raises(NameError):
        ext.get_var(frame, "x")
    assert ext.get_locals(frame) is not None


# ---- the table's versions ----------------------------------------------------------------------


def test_table_from_a_newer_framescope_works(ext):
    """An extension built with this header keeps working with a newer framescope (a bigger
    table, a higher version)."""
    original = framescope._C_API
    try:
        framescope._C_API = ext.table_capsule(64, 1)
        ext.import_api()

        def f():
            v = "via the newer table"
            return ext.get_var(sys._getframe(), "v")

        assert f() == "via the newer table"
    finally:
        framescope._C_API = original
        ext.import_api()


@pytest.mark.parametrize("size_delta, version_delta", [(-8, -1), (0, -1), (-8, 0)])
def test_table_from_an_older_framescope_is_refused(ext, size_delta, version_delta):
    original = framescope._C_API
    try:
        framescope._C_API = ext.table_capsule(size_delta, version_delta)
        with pytest.raises(ImportError, match=r"built with framescope's C API version \d+, and "
                                              r"the installed framescope provides version \d+ "
                                              r"\(a table of \d+ bytes, where this header needs "
                                              r"\d+\): upgrade framescope"):
            ext.import_api()
    finally:
        framescope._C_API = original
        ext.import_api()
    assert ext.get_var(sys._getframe(), "original") is original


def test_import_where_framescope_is_absent(built, tmp_path):
    out, paths = built
    fake = tmp_path / "fake" / "framescope"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    cases = {
        "sys.modules['framescope'] = None": "framescope",
        f"sys.path.insert(0, {str(fake.parent)!r})": "framescope has no C API table",
    }
    for setup, message in cases.items():
        code = textwrap.dedent(f"""
            import sys
            {setup}
            sys.path.insert(0, {str(out)!r})
            try:
                import _fs_capi_ext
            except ImportError as e:
                print("ImportError:", e)
            """)
        if "fake" in setup:
            # the real framescope must not be found first
            code = code.replace("import sys\n", "import sys\nsys.path = [p for p in sys.path "
                                "if 'site-packages' not in p]\n", 1)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("ImportError:") and message in done.stdout, done.stdout


# ---- references --------------------------------------------------------------------------------


def _loop(xs):
    for x in xs:
        print(x)
    return xs


_loop_end = _loop.__code__.co_firstlineno + 3


@pytest.mark.skipif(not hasattr(sys, "gettotalrefcount") and
                    not os.environ.get("FRAMESCOPE_REQUIRE_DEBUG"),
                    reason="needs a debug build of CPython (sys.gettotalrefcount)")
def test_no_reference_leaks(ext):
    from test_refleaks import leaked_per_call

    def gen():
        yield

    g = gen()
    next(g)

    def f():
        x = 1  # noqa: F841
        frame = sys._getframe()
        ext.get_var(frame, "x")
        ext.get_var_string(frame, "x")
        ext.set_var(frame, "x", object())
        ext.lookup(frame, "len")
        ext.get_locals(frame)
        ext.get_code(frame), ext.get_globals(frame), ext.get_builtins(frame)
        ext.get_back(frame), ext.get_generator(g.gi_frame)
        ext.walk(), ext.walk_count(), ext.thread_frame(1)
        ext.can_jump(f.__code__, 0, f.__code__.co_firstlineno + 1)
        ext.can_jump(_loop.__code__, _lasti_on(_loop.__code__, _loop_end),
                     _loop_end - 1)  # refused: into a for loop (a reason is made)
        ext.walk_from(g.gi_frame), ext.get_back_keeps_error(frame)
        try:
            ext.jump(frame, 10**6)  # refused: no such line in f
        except ValueError:
            pass
        ext.bad_arguments(frame, 42)
        try:
            ext.get_var(frame, "missing")
        except NameError:
            pass

    assert leaked_per_call(f, calls=300) < 0.05
