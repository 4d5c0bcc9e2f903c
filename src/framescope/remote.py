"""Reading another running Python process: every thread's stack and, optionally, variables.

    from framescope import remote
    snapshot = remote.dump(pid, locals=True)
    for thread in snapshot.threads:
        print(thread.thread_id, thread.name)
        for frame in thread.frames:          # innermost first
            print(frame.filename, frame.lineno, frame.function, frame.locals)

Nothing runs in the target: framescope reads its memory (process_vm_readv, or /proc/PID/mem)
and finds the interpreter through its ELF symbols. By default the target's threads are stopped
with ptrace for the read (well under a millisecond for a typical process, see `stats`) and are
always resumed, also when the read fails or framescope is interrupted; `block=False` reads
without stopping, at the risk of a torn read (retried, then reported as MemoryChanged).
The target may run any CPython version framescope supports (versions.toml; at run time
`framescope._caps.FIRST` to `LAST`), whatever Python runs framescope.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any, NoReturn

from framescope import _remote

__all__ = [
    "Frame",
    "MemoryChanged",
    "NoSuchProcess",
    "NotAPythonProcess",
    "PermissionDenied",
    "ProcessExited",
    "RemoteError",
    "Snapshot",
    "Thread",
    "UnsupportedVersion",
    "dump",
]


class RemoteError(Exception):
    """Reading the other process failed; str(error) says why in one line."""


class NoSuchProcess(RemoteError, ProcessLookupError):
    """There is no process with that id."""


class NotAPythonProcess(RemoteError):
    """The process runs no CPython interpreter that framescope can find."""


class UnsupportedVersion(RemoteError):
    """The process runs a CPython that framescope does not read (the message says which)."""


class PermissionDenied(RemoteError, PermissionError):
    """ptrace or memory access was refused: it needs the same user or CAP_SYS_PTRACE."""


class ProcessExited(RemoteError):
    """The process exited while it was being read."""


class MemoryChanged(RemoteError):
    """The process's memory kept changing under the reader (or is not what CPython holds)."""


_ERRORS: dict[str, type[RemoteError]] = {
    "no_such_process": NoSuchProcess,
    "not_python": NotAPythonProcess,
    "unsupported": UnsupportedVersion,
    "permission": PermissionDenied,
    "exited": ProcessExited,
    "changed": MemoryChanged,
    "os": RemoteError,
}


class _Record:
    """A small immutable record (plain class: `framescope dump` starts faster without
    dataclasses, whose import costs more than the whole read of a process)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, *values: object) -> None:
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Frame(_Record):
    """One frame: `filename`, `lineno` (None where the instruction has no line), `function`
    (the qualified name on 3.11+, the name on 3.10) and, with locals=True, `locals`: a dict of
    variable name -> repr; None otherwise."""

    __slots__ = ("filename", "lineno", "function", "locals")
    filename: str
    lineno: int | None
    function: str
    locals: dict[str, str] | None

    def __init__(self, filename: str, lineno: int | None, function: str,
                 locals: dict[str, str] | None = None) -> None:
        super().__init__(filename, lineno, function, locals)


class Thread(_Record):
    """One thread: `thread_id` (as threading.get_ident() in the target), `native_id` (the
    kernel's id, as threading.get_native_id(); None if unknown), `name` (the kernel's name for
    it, /proc/PID/task/TID/comm: Python 3.14+ sets it from threading.Thread.name) and `frames`,
    innermost first."""

    __slots__ = ("thread_id", "native_id", "name", "frames")
    thread_id: int
    native_id: int | None
    name: str | None
    frames: list[Frame]

    def __init__(self, thread_id: int, native_id: int | None, name: str | None,
                 frames: list[Frame]) -> None:
        super().__init__(thread_id, native_id, name, frames)


class Snapshot(_Record):
    """A dump: `pid`, `python_version` (the target's), `threads`, and `stats`: `stopped_ns`
    (how long the target's threads were stopped; 0 with block=False), `attempts` (snapshots
    taken), `read_syscalls` and `pages` (what the read cost)."""

    __slots__ = ("pid", "python_version", "threads", "stats")
    pid: int
    python_version: str
    threads: list[Thread]
    stats: dict[str, int]

    def __init__(self, pid: int, python_version: str, threads: list[Thread],
                 stats: dict[str, int]) -> None:
        super().__init__(pid, python_version, threads, stats)

    def to_json(self, *, locals: bool = False) -> dict[str, Any]:
        """The `framescope dump --json` document."""

        def frame(f: Frame) -> dict[str, Any]:
            d: dict[str, Any] = {"filename": f.filename, "lineno": f.lineno, "function": f.function}
            if locals:
                d["locals"] = dict(f.locals or {})
            return d

        return {
            "pid": self.pid,
            "python_version": self.python_version,
            "threads": [
                {"thread_id": t.thread_id, "native_id": t.native_id, "name": t.name,
                 "frames": [frame(f) for f in t.frames]}
                for t in self.threads
            ],
        }


def _raise(error: Exception) -> NoReturn:
    kind, message = error.args
    raise _ERRORS.get(kind, RemoteError)(message) from None


def dump(pid: int, locals: bool = False, block: bool = True) -> Snapshot:
    """Every thread's stack in process `pid` (and each frame's variables with locals=True).

    Raises a RemoteError subclass: NoSuchProcess, NotAPythonProcess, UnsupportedVersion,
    PermissionDenied, ProcessExited, MemoryChanged.
    """
    return _dump(pid, locals=locals, block=block)


def _dump(pid: int, *, locals: bool, block: bool, hold_stopped: float = 0.0) -> Snapshot:
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError(f"pid must be an int, not {type(pid).__name__}")
    try:
        raw = _remote.dump(pid, locals, block, 3, hold_stopped)
    except _remote.Error as error:
        _raise(error)
    except OverflowError:
        raise NoSuchProcess(f"no process with id {pid}") from None
    threads = [
        Thread(
            thread_id=t["thread_id"],
            native_id=t["native_id"],
            name=t["name"],
            frames=[Frame(f["filename"], f["lineno"], f["function"], f.get("locals"))
                    for f in t["frames"]],
        )
        for t in raw["threads"]
    ]
    return Snapshot(raw["pid"], raw["python_version"], threads, dict(raw["stats"]))
