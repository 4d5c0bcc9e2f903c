"""framescope: see and change any frame of a live CPython program.

Walking the stack (fast, no frame objects created where the interpreter has none)::

    import framescope
    framescope.stack()          # [FrameInfo(filename, lineno, function, module), ...]
    framescope.getframe(2)      # like sys._getframe(2)
    framescope.threads()        # {thread id: [FrameInfo, ...]}
    framescope.frame_of(gen)    # the frame of a generator, coroutine or async generator
"""

from framescope._core import FrameInfo, frames, getframe, stack, threads
from framescope._frames import frame_of

__version__ = "0.1.0"

__all__ = [
    "FrameInfo",
    "frame_of",
    "frames",
    "getframe",
    "stack",
    "threads",
]
