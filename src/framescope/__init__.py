"""framescope: see and change any frame of a live CPython program.

Walking the stack (fast, no frame objects created where the interpreter has none)::

    import framescope
    framescope.stack()          # [FrameInfo(filename, lineno, function, module), ...]
    framescope.getframe(2)      # like sys._getframe(2)
    framescope.threads()        # {thread id: [FrameInfo, ...]}
    framescope.frame_of(gen)    # the frame of a generator, coroutine or async generator

Jumping a frame to another line, from outside any trace function::

    framescope.jump(frame, 42)  # frame continues at line 42 from its next line boundary
    framescope.cancel_jump(frame)
    framescope.can_jump(code, from_lasti, 42)   # None, or why CPython would refuse
"""

from framescope._core import FrameInfo, frames, getframe, stack, threads
from framescope._frames import frame_of
from framescope._jump import can_jump, cancel_jump, jump, pending_jump

__version__ = "0.1.0"

__all__ = [
    "FrameInfo",
    "can_jump",
    "cancel_jump",
    "frame_of",
    "frames",
    "getframe",
    "jump",
    "pending_jump",
    "stack",
    "threads",
]
