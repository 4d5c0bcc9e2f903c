"""framescope: see and change any frame of a live CPython program.

Walking the stack (fast, no frame objects created where the interpreter has none)::

    import framescope
    framescope.stack()          # [FrameInfo(filename, lineno, function, module), ...]
    framescope.getframe(2)      # like sys._getframe(2)
    framescope.threads()        # {thread id: [FrameInfo, ...]}
    framescope.frame_of(gen)    # the frame of a generator, coroutine or async generator

Reading and changing variables, in any frame, on every version::

    frame = framescope.getframe(6)
    view = framescope.locals(frame)      # live and write-through, as PEP 667's f_locals
    view["retries"] = 0                  # the frame's code sees 0 when it continues
    framescope.getvar(frame, "retries")  # one variable; NameError if unbound
    framescope.lookup(frame, "print")    # what the code would see: locals, cells, globals, builtins

A console in any frame, whose changes the program keeps::

    framescope.interact(frame)           # or framescope.breakpoint(), post_mortem(), pm()
    framescope.install_signal_handler()  # kill -USR1 PID opens it where the program is

Jumping a frame to another line, from outside any trace function::

    framescope.jump(frame, 42)  # frame continues at line 42 from its next line boundary
    framescope.cancel_jump(frame)
    framescope.can_jump(code, from_lasti, 42)   # None, or why CPython would refuse

The same from C, for extension modules: framescope.h (in get_include()), whose functions are
CPython's "Frame Objects" API with 3.13's semantics on every version (FsFrame_GetVar, ...).
"""

from collections.abc import Mapping as _Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers know it)

from framescope._core import (
    FrameInfo,
    LocalsView,
    frames,
    getframe,
    getvar,
    locals,
    lookup,
    setvar,
    stack,
    threads,
)
from framescope._frames import frame_of
from framescope._core import can_jump
from framescope._core import _C_API  # the C API's table, which framescope_import() loads

__version__ = "0.1.0"

__all__ = [
    "FrameInfo",
    "breakpoint",
    "can_jump",
    "cancel_jump",
    "frame_of",
    "frames",
    "get_include",
    "getframe",
    "getvar",
    "install_signal_handler",
    "interact",
    "jump",
    "locals",
    "LocalsView",
    "lookup",
    "pending_jump",
    "pm",
    "post_mortem",
    "setvar",
    "stack",
    "threads",
]

_Mapping.register(LocalsView)

# The console (code, traceback, readline) and the jump machinery (dis, threading, warnings) are
# loaded when first used, so that `import framescope` stays cheap for walking and variables.
# Type checkers see them as the imports they stand for.
if TYPE_CHECKING:
    from framescope._console import (
        breakpoint,
        install_signal_handler,
        interact,
        pm,
        post_mortem,
    )
    from framescope._jump import cancel_jump, jump, pending_jump

_LAZY = {
    "breakpoint": "_console",
    "install_signal_handler": "_console",
    "interact": "_console",
    "pm": "_console",
    "post_mortem": "_console",
    "cancel_jump": "_jump",
    "jump": "_jump",
    "pending_jump": "_jump",
}


def get_include() -> str:
    """The folder that holds framescope.h, framescope's C API header (for a compiler's -I).

    Also `python -m framescope --include`; `--cmake-dir` gives the CMake package
    (find_package(framescope CONFIG): the target framescope::headers), `--pkgconfig-dir` the
    folder of framescope.pc.
    """
    import os

    return os.path.join(os.path.dirname(__file__), "include")


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framescope' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"framescope.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
