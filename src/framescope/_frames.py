"""Frames of suspended code: generators, coroutines and async generators."""

from __future__ import annotations

import types

# Each kind of suspendable object names its frame attribute differently.
_FRAME_ATTRIBUTE = {
    types.GeneratorType: "gi_frame",
    types.CoroutineType: "cr_frame",
    types.AsyncGeneratorType: "ag_frame",
}


def frame_of(obj: object) -> types.FrameType | None:
    """Return the frame of a generator, coroutine or async generator.

    The frame exists from creation until the object finishes; after that the result is None.
    Raises TypeError for any other object.
    """
    attribute = _FRAME_ATTRIBUTE.get(type(obj))
    if attribute is None:
        raise TypeError(
            "frame_of() expects a generator, coroutine or async generator, "
            f"not {type(obj).__name__}"
        )
    frame: types.FrameType | None = getattr(obj, attribute)
    return frame


def qualname(code: types.CodeType) -> str:
    """The name tracebacks show for code: its qualified name where the version has one
    (co_qualname, bpo-44530, 3.11+)."""
    return getattr(code, "co_qualname", code.co_name)
