"""framescope.jump(), cancel_jump() and can_jump(), end to end, on every kind of frame."""

from __future__ import annotations

import asyncio
import sys
import threading
import types
import warnings

import pytest

import framescope
from framescope import _caps


def line_of(fn, marker: str) -> int:
    """The line of `fn` whose source contains `# marker`."""
    import inspect
    lines, first = inspect.getsourcelines(fn)
    for offset, text in enumerate(lines):
        if f"# {marker}" in text:
            return first + offset
    raise LookupError(marker)


# ---- the caller's own frame: a goto after the current line -----------------------------------

def leave_loop():
    seen = []
    for i in range(100):
        seen.append(i)
        if i == 3:
            framescope.jump(sys._getframe(), line_of(leave_loop, "after"))
        seen.append(-i)
    seen.append("after")  # after
    return seen


def test_goto_out_of_a_loop():
    assert leave_loop() == [0, 0, 1, -1, 2, -2, 3, "after"]


def skip_forward():
    out = ["start"]
    framescope.jump(sys._getframe(), line_of(skip_forward, "target"))
    out.append("skipped")
    out.append("target")  # target
    return out


def test_goto_skips_lines():
    assert skip_forward() == ["start", "target"]


def go_back():
    out = []
    n = 0
    out.append(n)  # again
    n += 1
    if n == 1:
        framescope.jump(sys._getframe(), line_of(go_back, "again"))
    return out


def test_goto_backwards():
    assert go_back() == [0, 1]


# ---- an outer frame, waiting on a call -------------------------------------------------------

def callee(frame, target):
    framescope.jump(frame, target)
    return "callee returned"


def caller():
    out = [callee(sys._getframe(), line_of(caller, "landing"))]  # the line completes first
    out.append("skipped")
    out.append("landing")  # landing
    return out


def test_outer_frame_jumps_after_the_call_and_its_line():
    assert caller() == ["callee returned", "landing"]


def deep(frame, target, depth):
    if depth == 0:
        framescope.jump(frame, target)
        return 0
    return deep(frame, target, depth - 1) + 1


def outer_of_many():
    out = [deep(sys._getframe(), line_of(outer_of_many, "end"), 5)]
    out.append("skipped")
    return out + ["end"]  # end


def test_outer_frame_several_calls_out():
    assert outer_of_many() == [5, "end"]


# ---- suspended generators and coroutines -----------------------------------------------------

def counting():
    yield 1
    yield 2
    yield 3
    yield 4  # four


def test_suspended_generator_jumps_when_resumed():
    g = counting()
    assert next(g) == 1
    framescope.jump(g, line_of(counting, "four"))
    assert list(g) == [4]


def test_suspended_generator_frame_is_accepted_too():
    g = counting()
    next(g)
    framescope.jump(g.gi_frame, line_of(counting, "four"))
    assert list(g) == [4]


async def steps(log):
    log.append("a")
    await asyncio.sleep(0)
    log.append("b")
    await asyncio.sleep(0)
    log.append("c")  # c


def test_suspended_coroutine_jumps_when_resumed():
    log = []
    coro = steps(log)
    coro.send(None)
    framescope.jump(coro, line_of(steps, "c"))
    with pytest.raises(StopIteration):
        while True:
            coro.send(None)
    assert log == ["a", "c"]


# ---- refusals ----------------------------------------------------------------------------------

def test_refused_at_once_when_the_line_is_outside_the_code():
    g = counting()
    next(g)
    with pytest.raises(ValueError, match="comes after the current code block"):
        framescope.jump(g, line_of(counting, "four") + 50)
    with pytest.raises(ValueError, match="comes before the current code block"):
        framescope.jump(sys._getframe(), 1)


def loops():
    for i in range(1):
        pass
    for j in range(1):
        inside = 1  # inside
    return "finished"


def test_suspended_generator_jump_into_a_for_body_is_refused_with_cpythons_message():
    def gen():
        yield 0
        for k in range(2):
            yield k  # body
    g = gen()
    next(g)
    # The jump starts where the generator resumes (3.12+) or at the line after (3.10, 3.11):
    # either way known now, and judged at once.
    with pytest.raises(ValueError, match="^can't jump into the body of a for loop$"):
        framescope.jump(g, line_of(gen, "body"))
    assert list(g) == [0, 1]


def goto_into_handler():
    x = "start"
    for n in range(2):
        if n == 0:
            # The next line is the loop's own, reached by jumping back: not judged in advance.
            framescope.jump(sys._getframe(), line_of(goto_into_handler, "handler"))
    try:
        x = "body"
    except ValueError:
        x = "handler"  # handler
    return x


def test_a_jump_impossible_when_due_is_dropped_with_a_runtime_warning():
    message = "can't jump into an 'except' block as there's no exception"
    with pytest.warns(RuntimeWarning, match=message):
        assert goto_into_handler() == "body"  # ran normally


def test_warning_as_error_is_still_not_raised_in_the_frame(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert goto_into_handler() == "body"
    assert "can't jump into an 'except' block" in capsys.readouterr().err


def test_generator_prologue_is_refused():
    def gen():  # def
        yield 1
        yield 2
    g = gen()
    next(g)
    message = framescope.can_jump(gen.__code__, g.gi_frame.f_lasti, line_of(gen, "def"))
    if _caps.HAS_RETURN_GENERATOR:
        assert message is not None and "CPython accepts this jump" in message
        with pytest.raises(ValueError, match="start of a generator"):
            framescope.jump(g, line_of(gen, "def"))
    else:
        # No prologue (RETURN_GENERATOR came with bpo-46409 in 3.11; 3.10 starts a generator
        # with bpo-43683's GEN_START, on the first body line): the def line is no generator
        # start. The jump is made from the first line event after the resumption (the line of
        # `yield 2`) and lands on the first body line: the body runs again.
        assert message is None or "start of a generator" not in message
        framescope.jump(g, line_of(gen, "def"))
        assert list(g) == [1, 2]


def test_bad_arguments():
    with pytest.raises(TypeError, match="expects a frame"):
        framescope.jump("frame", 3)
    with pytest.raises(TypeError, match="lineno must be an int"):
        framescope.jump(sys._getframe(), 3.0)
    with pytest.raises(TypeError, match="lineno must be an int"):
        framescope.jump(sys._getframe(), True)
    with pytest.raises(TypeError, match="code must be a code object"):
        framescope.can_jump(len, 0, 1)
    with pytest.raises(TypeError, match="from_lasti must be an int"):
        framescope.can_jump(loops.__code__, "0", 1)
    with pytest.raises(ValueError, match="from_lasti must be the offset of an instruction"):
        framescope.can_jump(loops.__code__, 1, 1)
    with pytest.raises(ValueError, match="from_lasti must be the offset of an instruction"):
        framescope.can_jump(loops.__code__, 10**6, 1)


def test_finished_and_unstarted_frames_are_refused():
    g = counting()
    frame = g.gi_frame
    with pytest.raises(ValueError, match="has not started"):
        framescope.jump(g, line_of(counting, "four"))
    list(g)
    with pytest.raises(ValueError, match="has finished"):
        framescope.jump(g, line_of(counting, "four"))
    with pytest.raises(ValueError, match="has finished"):
        framescope.jump(frame, line_of(counting, "four"))


def test_other_threads_frames_are_refused():
    ready, release = threading.Event(), threading.Event()
    box = {}

    def worker():
        box["frame"] = sys._getframe()
        ready.set()
        release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    ready.wait(10)
    try:
        with pytest.raises(ValueError, match="running in another thread"):
            framescope.jump(box["frame"], box["frame"].f_lineno)
    finally:
        release.set()
        t.join()


# ---- cancel ------------------------------------------------------------------------------------

def schedule_and_cancel(frame, target):
    framescope.jump(frame, target)
    state = (framescope.pending_jump(frame), framescope.cancel_jump(frame),
             framescope.cancel_jump(frame), framescope.pending_jump(frame))
    return state


def cancelled():
    out = [schedule_and_cancel(sys._getframe(), line_of(cancelled, "target"))]
    out.append("not skipped")
    out.append("target")  # target
    return out


def test_cancel_jump():
    assert cancelled() == [(line_of(cancelled, "target"), True, False, None), "not skipped",
                           "target"]


def test_cancel_on_a_generator_and_no_trace_left_behind():
    before = sys.gettrace()
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    assert framescope.cancel_jump(g) is True
    assert list(g) == [2, 3, 4]
    assert sys.gettrace() is before


# No RESUME instruction (3.10): a suspended generator's resumption is watched for with the
# frame-evaluation function, and the jump made from its first line event.
EVAL_WATCH = not _caps.HAS_RESUME
RESUME_TAIL = _caps.HAS_RESUME_TAIL


@pytest.mark.skipif(not EVAL_WATCH, reason="a resumed generator jumps at its RESUME (the "
                    "resume tail, or sys.monitoring's PY_RESUME): no frame-evaluation watch")
def test_waiting_generator_traces_nothing_and_leaves_nothing_behind():
    # On 3.10 the wait for a resumption is the frame-evaluation function's (PEP 523): no
    # trace or profile function runs meanwhile, and the default evaluation is back afterwards.
    from framescope import _testing
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    assert (sys.gettrace(), sys.getprofile()) == (None, None)
    assert _testing.eval_frame() == "other"
    assert list(g) == [4]
    assert _testing.eval_frame() == "default"
    assert sys.getprofile() is None
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    framescope.cancel_jump(g)
    assert _testing.eval_frame() == "default"
    assert list(g) == [2, 3, 4]


@pytest.mark.skipif(not EVAL_WATCH, reason="a resumed generator jumps at its RESUME (the "
                    "resume tail, or sys.monitoring's PY_RESUME): no frame-evaluation watch")
def test_waiting_generator_with_another_frame_evaluator():
    # Another tool's evaluation function, installed before the jump and after it: the jump
    # happens and that tool keeps seeing every frame.
    from framescope import _testing
    _testing.install_foreign_eval()
    try:
        g = counting()
        next(g)
        framescope.jump(g, line_of(counting, "four"))
        assert list(g) == [4]
        assert _testing.eval_frame() == "foreign"
    finally:
        assert _testing.remove_foreign_eval() > 0
    assert _testing.eval_frame() == "default"

    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    _testing.install_foreign_eval()  # on top of framescope's watch
    try:
        assert list(g) == [4]
        assert _testing.eval_frame() == "foreign"
    finally:
        assert _testing.remove_foreign_eval() > 0
    # That tool put framescope's function back when it left: it only passes frames on, until
    # the next jump's watch reuses it and, done, removes it.
    assert _testing.eval_frame() == "other"
    assert [x for x in counting()] == [1, 2, 3, 4]
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    assert (sys.gettrace(), sys.getprofile()) == (None, None)
    assert list(g) == [4]
    assert _testing.eval_frame() == "default"


@pytest.mark.skipif(not RESUME_TAIL, reason="no resume tail: a suspended generator's jump is "
                    "not placed in a copy of its code (sys.monitoring, or a line event)")
def test_resume_tail_traces_nothing_while_it_waits():
    from framescope import _testing
    g = counting()
    next(g)
    yield_line = g.gi_frame.f_lineno
    framescope.jump(g, line_of(counting, "four"))
    frame = g.gi_frame
    copy = frame.f_code
    assert copy is not counting.__code__ and copy.co_name == "counting"
    assert g.gi_code is counting.__code__
    assert frame.f_lineno == yield_line  # the tail reports the yield's line
    assert (sys.gettrace(), sys.getprofile(), _testing.eval_frame()) == (None, None, "default")
    assert framescope.pending_jump(g) == line_of(counting, "four")
    assert next(g) == 4
    assert framescope.pending_jump(g) is None
    # The frame keeps the copy for life: offsets into its tail may live on in tracebacks.
    assert frame.f_code is copy and frame.f_lineno == line_of(counting, "four")
    assert g.gi_code is counting.__code__
    assert list(g) == []


@pytest.mark.skipif(not RESUME_TAIL, reason="no resume tail: a suspended generator's jump is "
                    "not placed in a copy of its code (sys.monitoring, or a line event)")
def test_resume_tail_cancelled_puts_the_frame_back_exactly():
    g = counting()
    next(g)
    lasti, line = g.gi_frame.f_lasti, g.gi_frame.f_lineno
    framescope.jump(g, line_of(counting, "four"))
    assert g.gi_frame.f_lasti != lasti
    assert framescope.cancel_jump(g) is True
    assert (g.gi_frame.f_code, g.gi_frame.f_lasti, g.gi_frame.f_lineno) == \
        (counting.__code__, lasti, line)
    assert framescope.cancel_jump(g) is False
    assert list(g) == [2, 3, 4]


@pytest.mark.skipif(not RESUME_TAIL, reason="no resume tail: a suspended generator's jump is "
                    "not placed in a copy of its code (sys.monitoring, or a line event)")
def test_resume_tail_copy_dies_with_its_generator():
    import gc
    import weakref
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    gone = weakref.ref(g.gi_frame.f_code)
    del g
    gc.collect()
    assert gone() is None
    assert framescope._jump._pending == {} and len(framescope._jump._tails) == 0


class Witness:
    pass


def holds(value):
    yield 1
    yield value  # end


def jump_pending_on_a_witness():
    """A suspended generator holding a Witness as a local, with a jump pending; and a weak
    reference to the witness."""
    import weakref
    witness = Witness()
    gone = weakref.ref(witness)
    g = holds(witness)
    del witness
    next(g)
    framescope.jump(g, line_of(holds, "end"))
    return g, gone


def test_a_pending_jump_goes_with_its_generator():
    # framescope holds the frame of a generator with a pending jump; once the generator is
    # freed without resuming, the jump is dropped and the frame (with its locals) freed.
    import gc
    g, gone = jump_pending_on_a_witness()
    del g
    gc.collect()
    assert gone() is None
    assert framescope._jump._pending == {} and len(framescope._jump._tails) == 0


def test_a_jump_made_keeps_nothing_of_the_frame():
    # Once the jump is made and the generator has finished, framescope holds none of its
    # locals, though the generator object lives on.
    g, gone = jump_pending_on_a_witness()
    assert next(g) is gone()
    assert list(g) == []
    assert gone() is None


class Exiting:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append("exit")
        return False


def leaves_blocks(log):
    for i in range(3):
        with Exiting(log):
            try:
                raise KeyError(i)
            except KeyError:
                log.append(("in handler", sys.exc_info()[0]))
                got = yield i
                log.append(("sent", got))
    log.append(("out", sys.exc_info()[0]))  # out
    yield "done"


def test_suspended_generator_jumps_out_of_a_handler_a_with_and_a_loop():
    # The jump drops what CPython's setter drops: the value sent in, the handled exception
    # (the previous one comes back), the with block's exit (not called, as with any jump out of
    # a with block) and the loop's iterator.
    log = []
    g = leaves_blocks(log)
    assert next(g) == 0
    if not _caps.HAS_RESUME:
        # No RESUME (3.10): the jump starts at the first line after the yield, inside the
        # handler, and the setter refuses to leave an 'except' block from there.
        with pytest.raises(ValueError, match="^can't jump out of an 'except' block$"):
            framescope.jump(g, line_of(leaves_blocks, "out"))
        return
    framescope.jump(g, line_of(leaves_blocks, "out"))
    assert g.send("ignored") == "done"
    assert log == [("in handler", KeyError), ("out", None)]
    assert sys.exc_info() == (None, None, None)


async def awaits_in_arguments(log):
    log.append(len(await asyncio.sleep(0, "ab")))
    log.append(max(1, await asyncio.sleep(0, 2)))
    log.append("c")  # c


def test_suspended_coroutine_jumps_from_an_await_inside_call_arguments():
    # The values pending below the await (the function to call, a NULL or self) are dropped.
    log = []
    coro = awaits_in_arguments(log)
    coro.send(None)
    framescope.jump(coro, line_of(awaits_in_arguments, "c"))
    with pytest.raises(StopIteration):
        coro.send(None)
    # No RESUME (3.10): the jump starts at the first line after the await's, which completes
    # first.
    assert log == (["c"] if _caps.HAS_RESUME else [2, "c"])


class Tracked:
    """A value the test can watch being freed."""
    alive: list = []

    def __init__(self, result=None):
        self.result = result
        Tracked.alive.append(__import__("weakref").ref(self))

    def __iter__(self):
        return self

    def __next__(self):
        return "item"

    def __call__(self, value):
        return (self.result, value)


async def calls_with_an_await(log):
    log.append(Tracked("called")(await asyncio.sleep(0, 5)))
    log.append("end")  # end


def test_cancel_puts_back_the_values_below_an_await():
    # On 3.11 the NULL below the callable is given None while the jump waits; a cancelled jump
    # must put the NULL back, or the call would take None for a method's self.
    log = []
    coro = calls_with_an_await(log)
    coro.send(None)
    framescope.jump(coro, line_of(calls_with_an_await, "end"))
    assert framescope.cancel_jump(coro)
    with pytest.raises(StopIteration):
        coro.send(None)
    assert log == [("called", 5), "end"]


def loops_over_tracked():
    for item in Tracked():
        yield item
    yield "after"  # after


def test_values_a_jump_drops_are_released():
    # The loop's iterator is on the generator's stack: the jump out of the loop drops it.
    Tracked.alive.clear()
    g = loops_over_tracked()
    assert next(g) == "item"
    framescope.jump(g, line_of(loops_over_tracked, "after"))
    (iterator,) = Tracked.alive
    assert iterator() is not None
    assert g.send("dropped too") == "after"  # 3.10: from the loop's line, as it goes round
    assert iterator() is None


def catches_thrown():
    log = []
    try:
        yield 1
    except ValueError as exc:
        log.append(("caught", str(exc)))
    yield log
    yield "last"  # last


def test_throw_into_a_generator_with_a_pending_jump_reaches_its_handler():
    g = catches_thrown()
    next(g)
    framescope.jump(g, line_of(catches_thrown, "last"))
    if _caps.HAS_RESUME:
        assert g.throw(ValueError("boom")) == [("caught", "boom")]
    else:
        # No RESUME (3.10): the jump is due at the first line event after the resumption,
        # the handler's, where the setter refuses to leave an 'except' block: it is dropped.
        with pytest.warns(RuntimeWarning, match="can't jump out of an 'except' block"):
            assert g.throw(ValueError("boom")) == [("caught", "boom")]
    if _caps.HAS_MONITORING:
        # A throw is no resumption event (PEP 669: PY_THROW, not PY_RESUME): the jump waits
        # for the next send().
        assert framescope.pending_jump(g) == line_of(catches_thrown, "last")
    else:
        # 3.11: the throw resumed the generator past its tail; 3.10: the jump was dropped.
        # Either way it is not made.
        assert framescope.pending_jump(g) is None
    assert list(g) == ["last"]


def raises_at_yield():
    yield 1
    yield 2  # two


def test_uncaught_throw_reports_the_yield_line():
    g = raises_at_yield()
    next(g)
    yield_line = line_of(raises_at_yield, "two") - 1
    frame = g.gi_frame
    framescope.jump(g, line_of(raises_at_yield, "two"))
    with pytest.raises(ValueError) as info:
        g.throw(ValueError("out"))
    assert info.traceback[-1].lineno + 1 == yield_line  # pytest counts lines from 0
    assert framescope.pending_jump(frame) is None


def test_a_long_jump_backwards_in_a_large_generator():
    # More than 256 code units between the yield and the target line: the jump's distance
    # needs a prefix on 3.11.
    body = "\n".join(f"    total += {i}" for i in range(200))
    src = (f"def big(log):\n    total = 0\n    log.append('top')\n{body}\n    yield total\n"
           "    log.append('end')\n")  # 3.10 jumps from this line
    namespace: dict = {}
    exec(compile(src, "<big>", "exec"), namespace)
    big = namespace["big"]
    log: list = []
    g = big(log)
    assert next(g) == sum(range(200))
    framescope.jump(g, big.__code__.co_firstlineno + 2)  # log.append('top'): total stays
    assert next(g) == 2 * sum(range(200))
    assert log == ["top", "top"]


def test_a_tracer_set_while_a_generator_waits_sees_its_resumption_and_stays():
    events = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name == "counting":
            events.append((event, frame.f_lineno))
        return tracer

    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    sys.settrace(tracer)
    try:
        value = next(g)
        after = sys.gettrace()
    finally:
        sys.settrace(None)
    assert after is tracer
    assert events[0] == ("call", line_of(counting, "four") - 3)  # resumed at the first yield
    if not _caps.HAS_RESUME:
        # No RESUME (3.10): the jump is applied from the frame's f_trace, which a tracer set
        # meanwhile takes over at the resumption's 'call' event: the jump waits on (a known
        # limit).
        assert value == 2
        assert framescope.cancel_jump(g)
        return
    assert value == 4
    assert events[-1] == ("return", line_of(counting, "four"))


def inner_steps(log):
    try:
        yield "inner 1"
        yield "inner 2"
    finally:
        log.append("inner closed")


def delegating(log):
    yield from inner_steps(log)
    yield "after"  # after


def test_a_delegating_generator_with_a_pending_jump_still_delegates_close():
    log = []
    g = delegating(log)
    assert next(g) == "inner 1"
    framescope.jump(g, line_of(delegating, "after"))
    assert g.gi_yieldfrom is not None and g.gi_yieldfrom.gi_code is inner_steps.__code__
    frame = g.gi_frame
    g.close()  # passed on to the inner generator first, as without a jump
    assert log == ["inner closed"]
    assert framescope.pending_jump(frame) is None


def test_a_delegating_generator_jumps_when_resumed():
    log = []
    g = delegating(log)
    assert next(g) == "inner 1"
    framescope.jump(g, line_of(delegating, "after"))
    if not _caps.HAS_RESUME:
        # No RESUME (3.10): the jump is made from the next line event of the outer frame,
        # once `yield from` is done.
        assert next(g) == "inner 2"
    assert next(g) == "after"
    # The jump abandoned the inner generator (3.11+: dropped from the stack, then freed).
    assert log == ["inner closed"]


def sub_returns():
    try:
        yield "sub"
    except KeyError:
        return "sub returned"


def outer_of_sub(log):
    result = yield from sub_returns()
    log.append(result)
    yield "after"  # after


def test_throw_handled_by_the_generator_delegated_to():
    # The thrown exception goes to the inner generator, which returns: the outer one carries
    # on from its `yield from` (3.11 and 3.12+: the jump is not made by a throw()).
    log = []
    g = outer_of_sub(log)
    next(g)
    framescope.jump(g, line_of(outer_of_sub, "after"))
    assert g.throw(KeyError("k")) == "after"
    if _caps.HAS_RESUME:
        assert log == ["sub returned"]
    else:
        assert log == []  # no RESUME: the throw was a resumption, jumped from the next line


def cleans_up(log):
    try:
        yield 1
    finally:
        log.append("finally")
        yield "cleanup"
    yield "never"  # never


def test_an_exception_rethrown_after_suspending_in_a_finally():
    # The handler keeps the location the exception was thrown at (3.11: in the tail) while it
    # yields, and re-raises from it later: the frame must still make sense of it.
    import traceback
    log = []
    g = cleans_up(log)
    next(g)
    frame = g.gi_frame
    framescope.jump(g, line_of(cleans_up, "never"))
    assert g.throw(ValueError("v")) == "cleanup"
    if _caps.HAS_MONITORING:
        # The throw was no resumption event: the jump waits, and is made from the finally.
        assert framescope.pending_jump(frame) == line_of(cleans_up, "never")
        assert next(g) == "never"
        return
    assert framescope.pending_jump(frame) is None
    with pytest.raises(ValueError) as info:
        next(g)
    text = "".join(traceback.format_exception(info.value))
    assert "yield 1" in text
    assert log == ["finally"]
    assert frame.f_lineno is not None


def test_an_exception_raised_as_the_generator_resumes_reaches_its_handlers():
    # A trace function that raises on the resumption's 'call' event: the generator's finally
    # block still runs.
    log = []

    def gen():
        try:
            yield 1
            yield 2
        finally:
            log.append("finally")
        yield 3  # three

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "gen":
            raise KeyError("from the tracer")
        return None

    g = gen()
    next(g)
    framescope.jump(g, line_of(gen, "three"))
    sys.settrace(tracer)
    try:
        with pytest.raises(KeyError):
            next(g)
    finally:
        sys.settrace(None)
    # The 'call' event comes from RESUME, inside the frame (bpo-45923, 3.11+): its exception
    # goes through the frame's handlers. 3.10 raises it before the frame runs at all.
    assert log == (["finally"] if _caps.HAS_RESUME else [])


def test_a_new_jump_replaces_the_pending_one():
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four") - 1)
    framescope.jump(g, line_of(counting, "four"))
    assert list(g) == [4]


# ---- with another tracer active ----------------------------------------------------------------

def traced_work():
    total = 0
    for i in range(3):
        total += i
        if i == 0:
            framescope.jump(sys._getframe(), line_of(traced_work, "done"))
    result = ("done", total)  # done
    return result  # after


def test_an_existing_trace_function_keeps_working():
    events = []

    def tracer(frame, event, arg):
        if frame.f_code is traced_work.__code__:
            events.append((event, frame.f_lineno))
            return tracer
        return None

    sys.settrace(tracer)
    try:
        with warnings.catch_warnings():
            # `result` is unbound when the jump lands on its line (3.12+ binds None, warning)
            warnings.simplefilter("ignore", RuntimeWarning)
            result = traced_work()
            traced_work_again = traced_work()
        after_jump_trace = sys.gettrace()
    finally:
        sys.settrace(None)
    assert result == ("done", 0) == traced_work_again
    assert after_jump_trace is tracer
    done = line_of(traced_work, "done")
    # the landing line gets no line event (as with CPython's own jumps); the tracer saw the
    # lines after it, in both runs
    assert events.count(("line", done)) == 0
    assert events.count(("line", done + 1)) == 2
    assert events.count(("return", done + 1)) == 2
    assert events.count(("call", traced_work.__code__.co_firstlineno)) == 2


def test_with_pdb_active(isolated):
    here = str(__import__("pathlib").Path(__file__).parent)
    proc = isolated(f"""
        import io, pdb, sys
        sys.path.insert(0, {here!r})
        import test_jump
        from test_jump import traced_work, line_of
        out = io.StringIO()
        where = test_jump.__file__ + ":" + str(line_of(traced_work, "after"))
        commands = "break " + where + "\\ncontinue\\np total\\ncontinue\\n"
        pdb.Pdb(stdin=io.StringIO(commands), stdout=out).set_trace()
        result = traced_work()
        sys.settrace(None)
        print(result)
        print("PDB", out.getvalue())
    """)
    assert proc.returncode == 0, proc.stderr
    assert "('done', 0)" in proc.stdout
    # pdb, active before the jump, stopped at its breakpoint after the landing line and
    # printed the variable there
    after = line_of(traced_work, "after")
    assert f"test_jump.py({after})traced_work()" in proc.stdout
    assert "(Pdb) 0\n" in proc.stdout


def skip_assignment():
    framescope.jump(sys._getframe(), line_of(skip_assignment, "use"))
    value = "assigned"
    return value  # use


def test_locals_left_unbound_are_handled_as_cpython_does():
    if _caps.JUMP_BINDS_UNBOUND_LOCALS:
        # CPython binds None to them, with a RuntimeWarning.
        with pytest.warns(RuntimeWarning, match="assigning None to 1 unbound local"):
            assert skip_assignment() is None
    else:
        with pytest.raises(UnboundLocalError):
            skip_assignment()


# ---- outer frames whose call raises, or is a generator -------------------------------------

def raising_callee(frame, target):
    framescope.jump(frame, target)
    raise ValueError("boom")


def outer_with_handler():
    log = []
    try:
        raising_callee(sys._getframe(), line_of(outer_with_handler, "landing"))
    except ValueError:
        log.append("handler")
        log.append("handler 2")
    log.append("after")
    return log  # landing


def test_outer_frame_whose_call_raises():
    log = outer_with_handler()
    if _caps.HAS_MONITORING:
        # The frame's next line event is the handler's first line: the jump starts there
        # (leaving the handler, and the exception, behind).
        assert log == []
    else:
        # Without sys.monitoring the call's return is watched for by its frame being freed; a
        # frame the exception's traceback holds is freed when the handler has finished.
        assert log == ["handler", "handler 2"]


class AskAt:
    """A trace function that never jumps: at the first `event` of a frame running `code` it
    removes itself and asks framescope.jump() for `target` (as a debugger asked to jump at that
    moment would)."""

    def __init__(self, code, event, target):
        self.code, self.event, self.target = code, event, target
        self.status = None

    def __call__(self, frame, event, arg):
        if frame.f_code is not self.code:
            return None
        if event != self.event:
            return self
        sys.settrace(None)
        frame.f_trace = None
        self.status = framescope._core._frame_status(frame)[0]
        framescope.jump(frame, self.target)
        return None


def finally_after_raise(log):
    try:
        log.append("try")
        1 / 0
    finally:
        log.append("skipped")
        log.append("landing")  # landing


def test_a_jump_asked_at_an_exception_event_is_made_in_the_handler():
    # The 'exception' event comes while the frame unwinds to its own handler (3.10 marks it
    # FRAME_UNWINDING then): it is still running, and the jump is made at its next line event,
    # the finally block's first line, as CPython's test_jump_in_nested_finally_2 makes it.
    ask = AskAt(finally_after_raise.__code__, "exception", line_of(finally_after_raise, "landing"))
    log = []
    sys.settrace(ask)
    try:
        with pytest.raises(ZeroDivisionError):
            finally_after_raise(log)
    finally:
        sys.settrace(None)
    assert ask.status == "running"
    assert log == ["try", "landing"]


def first_line_skipped(log):
    log.append("first")
    log.append("landing")  # landing


def test_a_jump_asked_at_a_call_event_is_made_at_the_first_line():
    # At its 'call' event a new frame is on its thread's stack, about to run its first line
    # (3.10 still marks it FRAME_CREATED then): the jump is made from that line's event.
    ask = AskAt(first_line_skipped.__code__, "call", line_of(first_line_skipped, "landing"))
    log = []
    sys.settrace(ask)
    try:
        first_line_skipped(log)
    finally:
        sys.settrace(None)
    assert ask.status == "running"
    assert log == ["landing"]


def test_a_coroutine_asked_to_jump_at_its_first_call_event():
    async def coro(log):
        log.append("first")
        log.append("landing")  # landing
    ask = AskAt(coro.__code__, "call", line_of(coro, "landing"))
    log = []
    sys.settrace(ask)
    try:
        asyncio.run(coro(log))
    finally:
        sys.settrace(None)
    assert ask.status == "running"
    assert log == ["landing"]


def jumping_generator(frame, target):
    framescope.jump(frame, target)
    yield 1
    yield 2


def outer_iterating():
    out = []
    for x in jumping_generator(sys._getframe(), line_of(outer_iterating, "done")):
        out.append(x)
    out.append("after")
    return out  # done


def test_outer_frame_waiting_on_a_generator():
    # The jump is due at the loop body's first line, with the first value taken.
    assert outer_iterating() == []


def test_can_jump_survives_arbitrary_bytecode(isolated):
    """Code objects made by hand (code.replace(co_code=...)) can hold any argument: jump
    targets past the end, deep stacks, bad exception depths. can_jump may refuse, but must
    neither crash nor hang. (Random opcodes are not tried: CPython's own code constructor does
    not survive them.)"""
    proc = isolated("""
        import random
        from framescope import can_jump

        def sample(x):
            for i in range(x):
                try:
                    with open(x) as f:
                        x += i
                except Exception:
                    pass
            return x

        code = sample.__code__
        rng = random.Random(7)
        n = len(code.co_code)
        for trial in range(300):
            raw = bytearray(code.co_code)
            for k in range(1, n, 2):
                if rng.random() < 0.3:
                    raw[k] = rng.randrange(256)
            odd = code.replace(co_code=bytes(raw))
            for _ in range(5):
                lasti = 2 * rng.randrange(n // 2)
                line = rng.randrange(code.co_firstlineno - 2, code.co_firstlineno + 12)
                verdict = can_jump(odd, lasti, line)
                assert verdict is None or isinstance(verdict, str)
        print("ok")
    """, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_trace_and_profile_functions_are_as_before_after_jumps():
    g = counting()
    next(g)
    framescope.jump(g, line_of(counting, "four"))
    assert list(g) == [4]
    assert caller() == ["callee returned", "landing"]
    assert sys.gettrace() is None and sys.getprofile() is None


def test_an_existing_profile_function_keeps_working():
    calls = []

    def profiler(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profiler)
    try:
        g = counting()
        next(g)
        framescope.jump(g, line_of(counting, "four"))
        result = list(g)
        still = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert result == [4]
    assert still is profiler
    assert calls.count("counting") >= 2  # started, resumed (and more)


def test_another_monitoring_tool_keeps_working(isolated):
    proc = isolated(f"""
        import sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
        import framescope
        from framescope import _caps
        from test_jump import traced_work, line_of
        if not hasattr(sys, "monitoring"):
            assert not _caps.HAS_MONITORING
            print("no sys.monitoring: jumps use the frame's trace function")
            raise SystemExit(0)
        mon = sys.monitoring
        tool = mon.COVERAGE_ID
        mon.use_tool_id(tool, "a coverage tool")
        lines = []
        mon.register_callback(tool, mon.events.LINE,
                              lambda code, line: lines.append(line))
        mon.set_local_events(tool, traced_work.__code__, mon.events.LINE)
        first = traced_work()
        seen_first = list(lines)
        lines.clear()
        second = traced_work()
        print(first, second)
        done = line_of(traced_work, "done")
        # Both runs jumped; the other tool saw the lines before and after the jump each time.
        assert first == second == ("done", 0), (first, second)
        assert done + 1 in seen_first and done + 1 in lines, (seen_first, lines)
        assert mon.get_tool(tool) == "a coverage tool"
        print("ok")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(("ok", "frame's trace function"))


def test_monitoring_tool_ids_taken(isolated):
    proc = isolated("""
        import sys
        import framescope
        def f():
            framescope.jump(sys._getframe(), f.__code__.co_firstlineno + 2)
            return 1
        if not hasattr(sys, "monitoring"):
            print(f())
            raise SystemExit(0)
        sys.monitoring.use_tool_id(3, "one")
        sys.monitoring.use_tool_id(4, "two")
        try:
            f()
        except RuntimeError as exc:
            print(exc)
    """)
    assert proc.returncode == 0, proc.stderr
    if _caps.HAS_MONITORING:
        assert "needs a sys.monitoring tool id" in proc.stdout
        assert "3 ('one')" in proc.stdout and "4 ('two')" in proc.stdout
    else:
        assert proc.stdout.strip() == "1"


def test_a_trace_object_that_is_not_a_function_keeps_working():
    # A C tracer (coverage's CTracer) shows up in sys.gettrace() as an object, not a Python
    # function; before 3.12 framescope chains to it instead of relying on it.
    class Tracer:
        def __init__(self):
            self.calls = []

        def __call__(self, frame, event, arg):
            if event == "call":
                self.calls.append(frame.f_code.co_name)
            return None

    tracer = Tracer()
    sys.settrace(tracer)
    try:
        g = counting()
        next(g)
        framescope.jump(g, line_of(counting, "four"))
        result = list(g)
        first = caller()
        during = list(tracer.calls)
        after = sys.gettrace()
    finally:
        sys.settrace(None)
    assert result == [4]
    assert first == ["callee returned", "landing"]
    assert after is tracer
    assert "counting" in during and "callee" in during
