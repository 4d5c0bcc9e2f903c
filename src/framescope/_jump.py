"""framescope.jump(): move a frame to another line, from outside any trace function.

A jump is applied by CPython's own f_lineno setter, at a moment when CPython allows it: from a
'line' event of the target frame (its next line boundary) or, for a suspended generator or
coroutine, from the event that reports its resumption. framescope arranges for exactly those
events to be delivered for the target code only, and removes the arrangement when the jump is
done or cancelled:

- 3.12+: sys.monitoring LINE / PY_RESUME / PY_RETURN events, set with set_local_events() on the
  target's code object, under a tool id of framescope's own.
- 3.10, 3.11: the frame's own f_trace, and while a jump is pending on the thread, a thread trace
  function — line events need one there: an existing Python-level one (pdb's) as it is, else a
  C-level hook of framescope's that ignores every frame without f_trace.
- A suspended generator on 3.11 needs no event: it is given a copy of its code with a short tail
  that makes the jump, and resumes onto that tail (jump/resume_tail.hpp); the jump is made at
  resumption, as on 3.12+. On 3.10 it jumps at its first line boundary after it resumes, on the
  thread that asked for the jump; its resumption is noticed by the interpreter's
  frame-evaluation function (PEP 523), which framescope replaces with a pass-through one while
  it waits.

Before the setter is asked, can_jump() is asked: it refuses the jumps that CPython accepts but
does not survive.
"""

from __future__ import annotations

import bisect
import collections
import dis
import sys
import threading
import types
import warnings
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Callable, Union

from framescope import _caps, _core
from framescope._core import can_jump
from framescope._frames import frame_of, qualname

_MONITORING = _caps.HAS_MONITORING  # PEP 669: jumps wait with sys.monitoring's local events
_AT_RESUME = _caps.HAS_RESUME  # a suspended generator jumps where it resumes (3.11+)
_TOOL_NAME = "framescope"
# Ids that CPython's own tools leave free (0 debugger, 1 coverage, 2 profiler, 5 optimizer).
_TOOL_IDS = (4, 3)

_lock = threading.RLock()

if TYPE_CHECKING:
    _Trace = Callable[[types.FrameType, str, Any], Any]  # a trace function (sys.settrace)
    # What jump() accepts: a frame, or the generator, coroutine or async generator whose frame
    # it is (generator functions are often annotated as returning an Iterator; any other
    # object is a TypeError at run time).
    _Target = Union[types.FrameType, Iterator[Any], Coroutine[Any, Any, Any], AsyncIterator[Any]]
    # _core._arm_resume_tail's record: (the code with its tail, the code without, the yield's
    # code unit, the resumption's, the slots that held NULL).
    _TailRecord = tuple[types.CodeType, types.CodeType, int, int, tuple[int, ...]]


class _Pending:
    __slots__ = ("frame", "code", "lineno", "at_resume", "thread", "trace", "owner")
    trace: _FrameTrace | None
    owner: weakref.ref[Any] | None

    def __init__(self, frame: types.FrameType, lineno: int, at_resume: bool,
                 thread: int) -> None:
        self.frame = frame
        self.code = frame.f_code
        self.lineno = lineno
        self.at_resume = at_resume
        self.thread = thread
        self.trace = None  # 3.10/3.11: the frame's own trace function before ours
        self.owner = None  # a suspended generator: a weak reference to it (see _owner_gone)


def _owner_gone(frame: types.FrameType) -> None:
    """A generator with a pending jump was freed without resuming: the jump goes with it, and
    framescope's reference to its frame (and the frame's locals) with the jump."""
    try:
        with _lock:
            p = _pending.get(frame)
            if p is not None and p.owner is not None:
                _forget(p)
    except Exception:  # a weak reference's callback: nothing may escape
        pass


def _waiting(p: _Pending) -> bool:
    """Whether p still waits; its record is dropped if not. A frame that has finished (an
    exception ended it) takes its jump with it."""
    if _core._frame_status(p.frame)[0] != "finished":
        return True
    _forget(p)
    return False


# 3.11: jumps placed in suspended generators' resume tails, by generator. Nothing is told when
# such a jump is made (it is a jump instruction), so the frame is asked; the entry holds the
# record of the tail (code objects, no frame: a finished generator's locals are not kept) and
# goes with the generator.
_tails: weakref.WeakKeyDictionary[Any, tuple[int, _TailRecord]] = weakref.WeakKeyDictionary()
_arming: set[types.FrameType] = set()  # frames whose tail is being placed (a finaliser may call jump() meanwhile)


def _tail_of(frame: types.FrameType) -> tuple[Any, int, _TailRecord] | None:
    """The pending tail jump of `frame`, if it still waits: (owner, lineno, record)."""
    owner = _core._frame_status(frame)[1]
    entry = _tails.get(owner) if owner is not None else None
    if entry is None:
        return None
    if _core._settle_resume_tail(frame, entry[1]):
        return owner, entry[0], entry[1]
    del _tails[owner]
    return None


def _cancel_tail(frame: types.FrameType) -> bool:
    """Undoes the pending tail jump of `frame`; whether there was one."""
    tail = _tail_of(frame)
    if tail is None:
        return False
    _core._settle_resume_tail(frame, tail[2], cancel=True)
    del _tails[tail[0]]
    return True


_pending: dict[types.FrameType, _Pending] = {}


def _describe(frame: types.FrameType) -> str:
    code = frame.f_code
    return f"{qualname(code)}() ({code.co_filename})"


def _warn(message: str) -> None:
    # Runs inside the target frame's event: whatever the warning filters say, nothing may be
    # raised there.
    try:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    except Exception:  # warnings configured as errors
        try:
            print(f"RuntimeWarning: {message}", file=sys.stderr)
        except Exception:
            pass


def _apply(frame: types.FrameType, p: _Pending) -> None:
    """The jump is due: frame is stopped at a 'line' (or resumption) event."""
    try:
        problem = can_jump(frame.f_code, frame.f_lasti, p.lineno)
        if problem is None:
            frame.f_lineno = p.lineno  # type: ignore[misc]  # the setter typeshed leaves out
    except Exception as exc:  # the setter's refusal, or its unbound-locals warning as an error
        problem = f"{type(exc).__name__}: {exc}"
    finally:
        _forget(p)
    if problem is not None:
        _warn(f"framescope: the jump of {_describe(frame)} to line {p.lineno} was dropped: "
              f"{problem}")


def _finished(p: _Pending) -> None:
    _forget(p)
    _warn(f"framescope: the jump of {_describe(p.frame)} to line {p.lineno} was dropped: the "
          "frame returned before reaching another line")


# ---- 3.12+: sys.monitoring ----------------------------------------------------------------

_tool: int | None = None
# (Type checkers checking for 3.10 or 3.11 know no sys.monitoring; these run on 3.12+ only.)


def _claim_tool() -> int:
    global _tool
    mon = sys.monitoring  # type: ignore[attr-defined, unused-ignore]
    if _tool is not None and mon.get_tool(_tool) == _TOOL_NAME:
        return _tool
    taken = []
    for tool in _TOOL_IDS:
        owner = mon.get_tool(tool)
        if owner is None:
            mon.use_tool_id(tool, _TOOL_NAME)
        elif owner != _TOOL_NAME:
            taken.append(f"{tool} ({owner!r})")
            continue
        ev = mon.events
        mon.register_callback(tool, ev.LINE, _on_line)
        mon.register_callback(tool, ev.PY_RESUME, _on_resume)
        mon.register_callback(tool, ev.PY_RETURN, _on_return)
        _tool = tool
        return tool
    raise RuntimeError("framescope.jump() needs a sys.monitoring tool id, and ids "
                       f"{' and '.join(taken)} are taken")


def _update_events(code: types.CodeType) -> None:
    if _tool is None:
        return
    mon = sys.monitoring  # type: ignore[attr-defined, unused-ignore]
    ev = mon.events
    events = 0
    for p in _pending.values():
        if p.code is code:
            events |= (ev.PY_RESUME if p.at_resume else ev.LINE) | ev.PY_RETURN
    mon.set_local_events(_tool, code, events)


def _event_frame() -> types.FrameType:
    # The callback runs on top of the frame whose event it receives.
    return sys._getframe(2)


def _on_line(code: types.CodeType, line: int) -> None:
    p = _pending.get(_event_frame())
    if p is not None and not p.at_resume:
        _apply(p.frame, p)


def _on_resume(code: types.CodeType, offset: int) -> None:
    p = _pending.get(_event_frame())
    if p is not None and p.at_resume:
        _apply(p.frame, p)


def _on_return(code: types.CodeType, offset: int, retval: object) -> None:
    p = _pending.get(_event_frame())
    if p is not None:
        _finished(p)


# ---- 3.10, 3.11: the frame's trace function, and the thread's ------------------------------

# thread id -> how line events are had (see _hold_thread): a marker below, or a trace function
_thread_trace: dict[int, Any] = {}
_HOOK = object()      # framescope's C-level hook
_ARMED = object()     # the hook, once the call an outer target waits on has returned
_WATCHING = object()  # the hook, once a suspended target resumes
_EXISTING = object()  # the thread's own Python-level trace function


class _FrameTrace:
    """The target frame's trace function: chains to the one it had, applies the jump."""

    def __init__(self, inner: _Trace | None) -> None:
        self.inner = inner

    def __call__(self, frame: types.FrameType, event: str, arg: Any) -> _Trace | None:
        inner = self.inner
        if inner is not None:
            self.inner = inner = inner(frame, event, arg)
        p = _pending.get(frame)
        if p is not None and p.trace is self:
            if event == "line" and not p.at_resume:
                _apply(frame, p)
            elif event == "return" and _core._frame_status(frame)[0] != "suspended":
                _finished(p)
        if _pending.get(frame) is None:
            frame.f_trace = inner
            return inner
        return self


def _thread_hook(frame: types.FrameType, event: str, arg: Any) -> Any:
    """The thread's trace function while a jump is pending, chaining to a C tracer's."""
    previous = _thread_trace.get(threading.get_ident())
    if previous is None or previous is _HOOK or previous is _EXISTING:
        return None
    return previous(frame, event, arg)


def _hold_thread(target: types.FrameType, suspended: bool) -> None:
    """Line events for the calling thread while a jump is pending on it.

    A Python-level trace function (pdb, bdb, a sys.settrace user) already delivers them to
    frames' f_trace: it is left alone. With none, framescope's C-level hook does, at the cost
    of one C call per line of any frame — so it is installed only when the target can run:
    for an outer frame, once the call it waits on returns (until then only other code runs);
    for a suspended generator, once it is resumed (watched through the interpreter's
    frame-evaluation function, PEP 523: a C call per frame evaluation, and on 3.11 Python
    calls are no longer inlined meanwhile: bpo-45256 inlines them only under the default
    evaluation function). Any other trace function (a C tracer's object) is chained through
    _thread_hook.
    """
    ident = threading.get_ident()
    state = _thread_trace.get(ident)
    if state is _ARMED or state is _WATCHING:
        _line_events_now(ident)  # a second target on this thread: no more waiting
        return
    if state is not None:
        return
    previous = sys.gettrace()
    if previous is None:
        if suspended:
            if _core._set_line_hook_on_resume(target):
                _thread_trace[ident] = _WATCHING
                return
        else:
            callee = _callee_of(target)
            if callee is not None:
                # Held by nothing but the callee frame (whose trace function is never called
                # without a thread trace function): freed when that frame is, as it returns.
                callee.f_trace = _WakeUp(ident)  # type: ignore[assignment]  # never called
                _thread_trace[ident] = _ARMED
                return
        _line_events_now(ident)
    elif isinstance(previous, (types.FunctionType, types.MethodType)):
        _thread_trace[ident] = _EXISTING
    else:
        _thread_trace[ident] = previous
        sys.settrace(_thread_hook)


def _line_events_now(ident: int) -> None:
    _core._stop_watching_resume()
    _thread_trace[ident] = _HOOK
    _core._set_line_hook(True)


def _callee_of(target: types.FrameType) -> types.FrameType | None:
    """The frame that `target` is waiting on, when it is a plain function's frame."""
    f: types.FrameType | None = sys._getframe(1)
    while f is not None and f.f_back is not target:
        f = f.f_back
    if f is None or _core._frame_status(f)[1] is not None:
        return None  # a generator's frame outlives its returns to the target: no signal
    return f


class _WakeUp:
    __slots__ = ("ident",)

    def __init__(self, ident: int) -> None:
        self.ident = ident

    def __del__(self) -> None:
        try:
            if _thread_trace.get(self.ident) is _ARMED and \
                    self.ident == threading.get_ident():
                _thread_trace[self.ident] = _HOOK
                _core._set_line_hook(True)
        except Exception:
            pass


def _release_thread_if_idle() -> None:
    ident = threading.get_ident()
    if ident not in _thread_trace or any(p.thread == ident for p in _pending.values()):
        return
    held = _thread_trace.pop(ident)
    if held is _HOOK or held is _ARMED or held is _WATCHING:
        _core._stop_watching_resume()
        _core._set_line_hook(False)  # unless replaced meanwhile
    elif held is not _EXISTING and sys.gettrace() is _thread_hook:
        sys.settrace(held)


# ---- bookkeeping --------------------------------------------------------------------------

def _forget(p: _Pending) -> None:
    with _lock:
        if _pending.get(p.frame) is p:
            del _pending[p.frame]
        if _MONITORING:
            _update_events(p.code)
        else:
            if isinstance(p.frame.f_trace, _FrameTrace) and p.frame.f_trace is p.trace:
                p.frame.f_trace = p.trace.inner
            if p.thread == threading.get_ident():
                _release_thread_if_idle()
            elif not any(q.thread == p.thread for q in _pending.values()):
                # Dropped from another thread: end the watch for a generator's resume.
                _core._stop_watching_resume()


def _purge_finished() -> None:
    for p in list(_pending.values()):
        _waiting(p)


def _next_origins(code: types.CodeType, lasti: int) -> list[int] | None:
    """Where a frame at instruction `lasti` can have its next 'line' event, if its current
    instruction completes normally: the offsets of the line starts reachable from there, in
    the order the straight path reaches them. None when that cannot be told without running
    the code (a backward jump on the way: loops emit line events of their own). The edges are
    can_jump's own (_core._successors)."""
    starts = {offset for offset, line, _ in _core._jump_model(code) if line != -1}
    offsets = [ins.offset for ins in dis.get_instructions(code)]
    instructions = set(offsets)
    # A frame waiting on a call reports the call's last code unit (3.11+: its inline caches
    # come before the next instruction): the instruction is the last one starting at or before.
    current = bisect.bisect_right(offsets, lasti) - 1
    if current < 0:
        return None
    origins, seen = [], set()
    todo = collections.deque(_core._successors(code, offsets[current]))
    while todo:
        offset = todo.popleft()
        if offset in seen:
            continue
        seen.add(offset)
        if offset not in instructions:
            return None
        if offset in starts:
            origins.append(offset)
            continue
        for nxt in _core._successors(code, offset):
            if nxt <= offset:
                return None
            todo.append(nxt)
    return origins


def _on_this_thread(frame: types.FrameType) -> bool:
    f: types.FrameType | None = sys._getframe(1)
    while f is not None:
        if f is frame:
            return True
        f = f.f_back
    return False


def _target_frame(frame: _Target) -> types.FrameType:
    if isinstance(frame, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        inner = frame_of(frame)
        if inner is None:
            raise ValueError(f"{type(frame).__name__} {frame.__qualname__} has finished: "
                             "it has no frame to jump")
        return inner
    if not isinstance(frame, types.FrameType):
        raise TypeError("jump() expects a frame, generator, coroutine or async generator, "
                        f"not {type(frame).__name__}")
    return frame


def jump(frame: _Target, lineno: int) -> None:
    """Make `frame` continue at line `lineno`.

    - the caller's own frame: after the current line (a "goto");
    - an outer frame of the calling thread: once the call it waits on has returned and its
      current line has completed;
    - a suspended generator or coroutine (or its frame): when it resumes.

    Raises ValueError, with CPython's message, when the jump can be judged now and CPython
    would refuse it (or would accept it and then crash: framescope refuses those too). A jump
    found impossible only when it is due is dropped with a RuntimeWarning; nothing is ever
    raised inside the target frame. A new jump replaces a pending one; cancel_jump() drops it.
    """
    frame = _target_frame(frame)
    if not isinstance(lineno, int) or isinstance(lineno, bool):
        raise TypeError(f"jump() lineno must be an int, not {type(lineno).__name__}")
    status, owner = _core._frame_status(frame)
    if status == "finished":
        raise ValueError(f"the frame of {_describe(frame)} has finished: it cannot jump")
    if status == "created":
        raise ValueError(f"{_describe(frame)} has not started: a frame can only jump from a "
                         "line it has reached (CPython: can't jump from the 'call' trace event "
                         "of a new frame)")
    suspended = status == "suspended"
    # 3.12+ jumps a suspended generator from its resumption event, 3.11 by its resume tail.
    # 3.10 jumps it from its first line event after resuming: its setter (frame_setlineno in
    # 3.10's Objects/frameobject.c), called from the 'call' event that reports a resumption,
    # lands one instruction past the target with the value sent in left on the stack. From
    # 3.11 a resumption is a place in the code, RESUME (bpo-45923).
    at_resume = suspended and _AT_RESUME
    if not suspended and not _on_this_thread(frame):
        raise ValueError(f"the frame of {_describe(frame)} is running in another thread: "
                         "jump() moves frames of the calling thread, and suspended generators "
                         "and coroutines")
    code, lasti = frame.f_code, frame.f_lasti
    tail = _tail_of(frame) if suspended else None
    if tail is not None:
        code, lasti = tail[2][1], 2 * tail[2][2]  # where the frame stands without its tail
    problem = can_jump(code, max(lasti, 0), lineno)
    # For a suspended generator on 3.11+ the jump applies where it stopped, so the whole
    # verdict holds now. Verdicts about the target line alone (outside the code, before it, a
    # generator's first line) hold from anywhere. Otherwise the jump starts from the frame's
    # next line event: when every line start it can reach next (its current line completing
    # normally) gets the same refusal, that refusal is known now too.
    if problem is not None and (at_resume or problem.startswith(("line ", "lineno "))):
        raise ValueError(problem)
    if not at_resume:
        origins = _next_origins(frame.f_code, frame.f_lasti)
        if origins:
            verdicts = [can_jump(frame.f_code, origin, lineno) for origin in origins]
            if all(v is not None for v in verdicts):
                raise ValueError(verdicts[0])
    with _lock:
        _purge_finished()
        old = _pending.get(frame)
        if old is not None:
            _forget(old)
        p = _Pending(frame, lineno, at_resume, threading.get_ident())
        if suspended:
            p.owner = weakref.ref(owner, lambda _ref: _owner_gone(frame))
        if _MONITORING:
            _claim_tool()
            _pending[frame] = p
            _update_events(p.code)
            return
        if at_resume:
            if frame in _arming:
                raise RuntimeError(f"jump() on {_describe(frame)} was called again while its "
                                   "jump was being placed")
            _cancel_tail(frame)
            _arming.add(frame)
            try:
                record = _core._arm_resume_tail(frame, lineno)
            finally:
                _arming.discard(frame)
            if record is not None:
                _tails[owner] = (lineno, record)
                return
            p.at_resume = False  # a state the tail does not handle: at the first line event
        _pending[frame] = p
        p.trace = _FrameTrace(frame.f_trace)
        frame.f_trace = p.trace
        frame.f_trace_lines = True
        _hold_thread(frame, suspended)


def cancel_jump(frame: _Target) -> bool:
    """Drop the jump pending on `frame` (a frame, generator or coroutine). Returns whether
    there was one."""
    frame = _target_frame(frame)
    with _lock:
        if _cancel_tail(frame):
            return True
        p = _pending.get(frame)
        if p is None or not _waiting(p):
            return False
        _forget(p)
        return True


def pending_jump(frame: _Target) -> int | None:
    """The line `frame` will jump to, or None."""
    frame = _target_frame(frame)
    tail = _tail_of(frame)
    if tail is not None:
        return tail[1]
    p = _pending.get(frame)
    return None if p is None or not _waiting(p) else p.lineno
