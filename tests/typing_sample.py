"""Every public name of framescope and framescope.remote, used the way README.md and DESIGN.md
show them. Not a test module: tests/test_typing.py type-checks it with `mypy --strict` against
the installed package (its stubs included), and runs it, so that both the annotations and the
code agree with what the bindings really accept and return."""

from __future__ import annotations

import signal
import types
from collections.abc import Iterator

import framescope
from framescope import remote


def walking() -> None:
    frame: types.FrameType = framescope.getframe()
    records: list[framescope.FrameInfo] = framescope.stack()
    framescope.stack(1, limit=5)
    framescope.stack(frame)
    info = records[0]
    filename: str = info.filename
    lineno: int | None = info.lineno
    function: str = info.function
    module: str | None = info.module
    assert (filename, lineno, function, module) == tuple(info)
    outer: list[types.FrameType] = framescope.frames(limit=2)
    assert outer[0] is frame
    stacks: dict[int, list[framescope.FrameInfo]] = framescope.threads()
    assert stacks

    def gen() -> Iterator[int]:
        yield 1

    g = gen()
    assert framescope.frame_of(g) is not None
    list(g)
    assert framescope.frame_of(g) is None


def variables() -> None:
    retries = 5
    frame = framescope.getframe()
    view = framescope.locals(frame)
    assert view["retries"] == 5
    view["retries"] = 0
    view["note"] = "not a variable"
    assert framescope.getvar(frame, "retries") == 0
    framescope.setvar(frame, "retries", 3)
    assert framescope.lookup(frame, "open") is open
    assert isinstance(view, framescope.LocalsView) or view is not None
    if isinstance(view, framescope.LocalsView):
        keys: list[object] = view.keys()
        assert "retries" in keys and len(view) >= 1
        snapshot: dict[object, object] = view.copy()
        assert snapshot["retries"] == 3
    del retries


def jumping() -> None:
    def counting() -> Iterator[int]:
        yield 1
        yield 2
        yield 3

    g = counting()
    next(g)
    code = counting.__code__
    frame = framescope.frame_of(g)
    assert frame is not None
    target = code.co_firstlineno + 3
    # None, or CPython's reason (3.10 judges from the next line event, not from here).
    verdict: str | None = framescope.can_jump(code, frame.f_lasti, target)
    assert verdict is None or isinstance(verdict, str)
    framescope.jump(g, target)
    pending: int | None = framescope.pending_jump(g)
    assert pending == target
    assert framescope.cancel_jump(g) is True
    assert list(g) == [2, 3]


def console_names() -> None:
    # Signatures only: these open an interactive console.
    interact: object = framescope.interact
    breakpoint_: object = framescope.breakpoint
    post_mortem: object = framescope.post_mortem
    pm: object = framescope.pm
    assert callable(interact) and callable(breakpoint_) and callable(post_mortem)
    assert callable(pm)
    if False:  # noqa: SIM108 - type-checked, never run
        framescope.interact(framescope.getframe(), banner="hello")
        framescope.breakpoint()
        framescope.post_mortem(ValueError("x"))
        framescope.post_mortem(None)
        framescope.pm()
    previous = framescope.install_signal_handler(signal.SIGUSR2)
    signal.signal(signal.SIGUSR2, previous)


def other_processes() -> None:
    try:
        snap: remote.Snapshot = remote.dump(2**31 - 1, locals=True, block=False)
    except remote.NoSuchProcess:
        return
    except remote.RemoteError as error:
        print(error)
        return
    for thread in snap.threads:
        tid: int = thread.thread_id
        native: int | None = thread.native_id
        name: str | None = thread.name
        for frame in thread.frames:
            fields: tuple[str, int | None, str, dict[str, str] | None] = (
                frame.filename, frame.lineno, frame.function, frame.locals)
            print(tid, native, name, fields)
    stopped: int = snap.stats["stopped_ns"]
    document: dict[str, object] = snap.to_json(locals=True)
    print(stopped, document, snap.pid, snap.python_version)
    errors: tuple[type[remote.RemoteError], ...] = (
        remote.NotAPythonProcess, remote.UnsupportedVersion, remote.PermissionDenied,
        remote.ProcessExited, remote.MemoryChanged)
    print(errors, remote.Frame("f.py", 1, "f"), remote.Thread(1, None, None, []))


def c_api() -> None:
    include: str = framescope.get_include()
    print(include.endswith("include"))


def main() -> None:
    walking()
    variables()
    jumping()
    console_names()
    other_processes()
    c_api()
    version: str = framescope.__version__
    print("typing sample ran on framescope", version)


if __name__ == "__main__":
    main()
