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
The target may be any CPython 3.10-3.15, whatever Python runs framescope.
"""

from __future__ import annotations

import dataclasses
from typing import Any

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


@dataclasses.dataclass(frozen=True)
class Frame:
    filename: str
    lineno: int | None
    function: str  # the qualified name on 3.11+, the name on 3.10
    locals: dict[str, str] | None = None  # name -> repr, with locals=True


@dataclasses.dataclass(frozen=True)
class Thread:
    thread_id: int  # as threading.get_ident() gives it in the target
    native_id: int | None  # the kernel's thread id, as threading.get_native_id()
    name: str | None  # the kernel's name for the thread (/proc/PID/task/TID/comm)
    frames: list[Frame]  # innermost first


@dataclasses.dataclass(frozen=True)
class Snapshot:
    pid: int
    python_version: str
    threads: list[Thread]
    # stopped_ns: how long the target's threads were stopped (0 with block=False); attempts:
    # snapshots taken; read_syscalls, pages: the cost of the read.
    stats: dict[str, int]

    def to_json(self, *, locals: bool = False) -> dict[str, Any]:
        """The `framescope dump --json` document."""

        def frame(f: Frame) -> dict[str, Any]:
            d: dict[str, Any] = {"filename": f.filename, "lineno": f.lineno,
                                 "function": f.function}
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


def _raise(error: Exception) -> None:
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
