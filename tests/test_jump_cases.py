"""The classic jump situations, through framescope.jump() and no trace function.

CPython's own tests of its f_lineno setter (test_sys_settrace.JumpTestCase) walk through the
places a jump can start and land: forwards and backwards, into and out of loops, with blocks,
try/except/finally, generators and comprehensions, and the places it must refuse. These are the
same situations, written for jump(): each function below asks, with goto("label"), that its own
frame continue at the line marked `# label`; the jump happens at the frame's next line boundary
(after the line holding the goto). `log` records what ran.

Refusals: where the line the jump will start from is known when it is asked for (the line after
the goto, reached by a straight path), or the target is wrong from anywhere (outside the
function), jump() raises ValueError with CPython's message at once: here, from the goto. A
refusal found only when the jump is due is dropped with a RuntimeWarning carrying the message,
and the frame simply carries on (tests/test_jump.py has those).
"""

from __future__ import annotations

import asyncio
import inspect
import sys

import pytest

import framescope
from framescope import _caps

UNBOUND = "assigning None to"


def tagged(code, label: str) -> int:
    lines, first = inspect.getsourcelines(code)
    for offset, text in enumerate(lines):
        if text.rstrip().endswith(f"# {label}"):
            return first + offset
    raise LookupError(label)


def goto(label: str) -> None:
    frame = sys._getframe(1)
    framescope.jump(frame, tagged(frame.f_code, label))


class Noting:
    """A context manager that logs its entry and exit."""

    def __init__(self, log, n):
        self.log, self.n = log, n

    def __enter__(self):
        self.log.append(self.n)

    def __exit__(self, *exc):
        self.log.append(-self.n)


def unbound_warning():
    """CPython binds None to locals a jump leaves unbound, with a warning, since gh-93143
    (3.12+); before, reading one raises UnboundLocalError."""
    if _caps.JUMP_BINDS_UNBOUND_LOCALS:
        return pytest.warns(RuntimeWarning, match=UNBOUND)
    return _nothing()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---- plain forwards and backwards ----------------------------------------------------------

def test_forwards_over_a_line():
    def f(log):
        goto("c")
        log.append("skipped")
        log.append("c")  # c
    log = []
    f(log)
    assert log == ["c"]


def test_backwards_repeats_lines():
    def f(log):
        log.append("a")  # a
        if len(log) == 1:
            goto("a")
        log.append("b")
    log = []
    f(log)
    assert log == ["a", "a", "b"]


def test_to_a_line_without_code_lands_on_the_next_one():
    def f(log):
        goto("blank")
        log.append("skipped")
        # blank
        log.append("after the comment")
    log = []
    f(log)
    assert log == ["after the comment"]


def test_to_the_line_about_to_run_changes_nothing():
    def f(log):
        goto("next")
        log.append("next")  # next
        log.append("last")
    log = []
    f(log)
    assert log == ["next", "last"]


# ---- loops --------------------------------------------------------------------------------

def test_out_of_a_for_loop_forwards():
    def f(log):
        for i in range(5):
            log.append(i)
            if i == 1:
                goto("out")
            log.append("same round")
        log.append("out")  # out
    log = []
    f(log)
    assert log == [0, "same round", 1, "out"]


def test_out_of_a_for_loop_backwards():
    def f(log):
        log.append("start")  # start
        for i in range(3):
            log.append(i)
            if len(log) == 2:
                goto("start")
    log = []
    f(log)
    assert log == ["start", 0, "start", 0, 1, 2]


def test_into_a_while_body_forwards():
    def f(log):
        n = 0
        goto("body")
        while n < 1:
            n += 1  # body
            log.append(n)
        log.append("end")
    log = []
    f(log)
    assert log == [1, "end"]


def test_into_a_while_body_backwards():
    def f(log):
        n = 0
        while n < 2:
            n += 1  # body
            log.append(n)
        if n == 2:
            n = 5
            goto("body")
        log.append("end")
    log = []
    f(log)
    assert log == [1, 2, 6, "end"]


def test_into_a_for_body_is_refused():
    def f(log):
        goto("body")
        for i in range(2):
            log.append(i)  # body
        log.append("end")
    log = []
    with pytest.raises(ValueError, match="^can't jump into the body of a for loop$"):
        f(log)
    assert log == []


def test_backwards_into_a_for_body_from_outside_is_refused():
    def f(log):
        for i in range(1):
            log.append(i)  # body
        goto("body")
        log.append("end")
    log = []
    with pytest.raises(ValueError, match="^can't jump into the body of a for loop$"):
        f(log)
    assert log == [0]


def test_over_a_for_loop_to_its_else_clause():
    def f(log):
        goto("else")
        for i in range(1):
            log.append(i)
        else:
            log.append("else")  # else
    log = []
    with unbound_warning():  # i
        f(log)  # the else clause runs after the loop, with its iterator gone: allowed
    assert log == ["else"]


# ---- with -----------------------------------------------------------------------------------

def test_out_of_a_with_block_skips_exit():
    def f(log):
        with Noting(log, 1):
            goto("out")
            log.append("skipped")
        log.append("out")  # out
    log = []
    f(log)
    assert log == [1, "out"]


def test_backwards_out_of_a_with_block():
    def f(log):
        log.append("top")  # top
        with Noting(log, 1):
            if log.count("top") == 1:
                goto("top")
        log.append("end")
    log = []
    if _caps.HAS_EXCEPTION_TABLE:
        f(log)
        assert log == ["top", 1, "top", 1, -1, "end"]
    else:
        # The jump starts at the block's exit, where the block-stack setter (3.10's
        # frame_setlineno, Objects/frameobject.c; bpo-40222 replaced it in 3.11) would pop a
        # value the frame still needs: framescope refuses what CPython would accept there.
        with pytest.raises(ValueError, match="CPython accepts this jump"):
            f(log)
        assert log == ["top", 1, -1]


def test_out_of_a_with_block_inside_another():
    def f(log):
        with Noting(log, 1):
            with Noting(log, 2):
                goto("outer")
                log.append("skipped")
            log.append("outer")  # outer
        log.append("end")
    log = []
    f(log)
    assert log == [1, 2, "outer", -1, "end"]


def test_into_a_with_block_is_refused():
    def f(log):
        goto("inside")
        with Noting(log, 1):
            log.append("inside")  # inside
        log.append("end")
    log = []
    if _caps.HAS_EXCEPTION_TABLE:  # the setter compares value stacks
        message = "incompatible stacks"
    else:  # the setter's block stack
        message = "can't jump into the body of a with statement"
    with pytest.raises(ValueError, match=message):
        f(log)
    assert log == []


def test_across_with_blocks():
    def f(log):
        with Noting(log, 1):
            goto("second")
        with Noting(log, 2):
            log.append("second")  # second
    log = []
    if _caps.HAS_EXCEPTION_TABLE:
        f(log)
        # The jump starts at the first block's exit (the line after the goto) and lands in the
        # second block, whose place on the stack holds the same kind of value: the first
        # block's __exit__. So the second block ends by calling it; its __enter__ never ran.
        assert log == [1, "second", -1]
    else:
        # The block stack (3.10) has lost the first block's entry by then.
        with pytest.raises(ValueError, match="can't jump into the body of a with statement"):
            f(log)
        assert log == [1, -1]  # the exception left the block, calling its __exit__


# ---- try / except / finally ---------------------------------------------------------------

def test_out_of_try_finally_forwards_skips_finally():
    def f(log):
        try:
            goto("out")
            log.append("skipped")
        finally:
            log.append("finally")
        log.append("out")  # out
    log = []
    f(log)
    assert log == ["out"]


def test_out_of_try_except_backwards():
    def f(log):
        log.append("top")  # top
        try:
            if log.count("top") == 1:
                goto("top")
        except ValueError:
            log.append("handler")
        log.append("end")
    log = []
    f(log)
    assert log == ["top", "top", "end"]


def test_into_a_try_body():
    def f(log):
        goto("body")
        log.append("skipped")
        try:
            log.append("body")  # body
        finally:
            log.append("finally")
    log = []
    if _caps.HAS_EXCEPTION_TABLE:
        # A try statement sets nothing up at run time any more (exception table).
        f(log)
        assert log == ["body", "finally"]
    else:
        with pytest.raises(ValueError, match="can't jump into the body of a try statement"):
            f(log)
        assert log == []


def test_into_a_finally_block_from_outside():
    def f(log):
        goto("fin")
        try:
            log.append("body")
        finally:
            log.append("fin")  # fin
        log.append("end")
    log = []
    f(log)
    assert log == ["fin", "end"]


def test_into_an_except_block_is_refused():
    def f(log):
        goto("handler")
        try:
            log.append("body")
        except ValueError:
            log.append("handler")  # handler
        log.append("end")
    log = []
    message = "can't jump into an 'except' block as there's no exception"
    with pytest.raises(ValueError, match=message):
        f(log)
    assert log == []


def test_into_a_bare_except_block_is_refused():
    def f(log):
        goto("handler")
        try:
            log.append("body")
        except:  # noqa: E722
            log.append("handler")  # handler
        log.append("end")
    log = []
    with pytest.raises(ValueError, match="'except' block as there's no exception"):
        f(log)
    assert log == []


def test_within_an_except_block():
    def f(log):
        try:
            raise ValueError
        except ValueError:
            goto("second")
            log.append("skipped")
            log.append("second")  # second
        log.append("end")
    log = []
    f(log)
    assert log == ["second", "end"]


def test_out_of_an_except_block():
    def f(log):
        try:
            raise ValueError
        except ValueError:
            goto("after")
            log.append("handler")
        log.append("after")  # after
        return sys.exc_info()[0]
    log = []
    if _caps.HAS_EXCEPTION_TABLE:
        # The handled exception is dropped with the handler.
        assert f(log) is None
        assert log == ["after"]
    else:
        with pytest.raises(ValueError, match="can't jump out of an 'except' block"):
            f(log)
        assert log == []


def test_between_except_blocks():
    def f(log):
        try:
            raise ValueError
        except ValueError:
            goto("other")
            log.append("first")
        except KeyError:
            log.append("other")  # other
        log.append("end")
    log = []
    f(log)
    assert log == ["other", "end"]


def test_over_a_return_to_unreachable_code_is_refused_at_once():
    def f(log):
        try:
            goto("after")
            return "returned"
        finally:
            log.append("finally")
        log.append("after")  # after
    log = []
    # Nothing can run after that try statement: its line has no code, nor any line after it.
    with pytest.raises(ValueError, match="comes after the current code block"):
        f(log)
    assert log == ["finally"]


# ---- lines outside the function -------------------------------------------------------------

def test_too_far_forwards_is_refused_at_once():
    def f():
        framescope.jump(sys._getframe(), f.__code__.co_firstlineno + 100)
    with pytest.raises(ValueError, match="comes after the current code block"):
        f()


def test_too_far_backwards_is_refused_at_once():
    def f():
        framescope.jump(sys._getframe(), f.__code__.co_firstlineno - 1)
    with pytest.raises(ValueError, match="comes before the current code block"):
        f()


def test_to_the_def_line():
    def f(log):
        log.append(len(log))
        if len(log) == 1:
            framescope.jump(sys._getframe(), f.__code__.co_firstlineno)
        log.append("end")
    log = []
    f(log)
    # The def line holds no code of a plain function's body (3.10) or only its RESUME (3.11+):
    # either way the frame starts its body again.
    assert log == [0, 1, "end"]


def test_non_integer_lines():
    with pytest.raises(TypeError):
        framescope.jump(sys._getframe(), "3")
    with pytest.raises(TypeError):
        framescope.jump(sys._getframe(), 3.0)


# ---- generators, coroutines, comprehensions -------------------------------------------------

def test_a_suspended_generator_jumps_back():
    def gen():
        yield "a"  # a
        yield "b"
        yield "c"
    g = gen()
    assert next(g) == "a"
    assert next(g) == "b"
    framescope.jump(g, tagged(gen.__code__, "a"))
    # 3.12+ jumps as it resumes; 3.10 and 3.11 from the first line after (the last yield's):
    # both start again from the first yield.
    assert list(g) == ["a", "b", "c"]


def test_a_running_generator_jumps_itself():
    def gen(log):
        yield 1
        goto("last")
        yield 2
        yield 3  # last
    assert list(gen([])) == [1, 3]


def test_over_a_comprehension():
    def f(log):
        goto("after")
        squares = [i * i for i in range(3)]
        log.append(squares)  # after
    log = []
    # (3.10's setter, too, knows that the GET_ITER feeding a comprehension opens no loop of
    # the frame: gh-92311.)
    if _caps.JUMP_BINDS_UNBOUND_LOCALS:
        with unbound_warning():
            f(log)
        assert log == [None]
    else:
        with pytest.raises(UnboundLocalError):
            f(log)


def test_a_coroutine_jumps_over_an_await():
    async def step(log):
        log.append("start")
        goto("end")
        await asyncio.sleep(0)
        log.append("skipped")
        log.append("end")  # end
    log = []
    asyncio.run(step(log))
    assert log == ["start", "end"]


def test_async_with_out_of_the_block():
    class Async:
        def __init__(self, log):
            self.log = log

        async def __aenter__(self):
            self.log.append("enter")

        async def __aexit__(self, *exc):
            self.log.append("exit")

    async def main(log):
        async with Async(log):
            goto("out")
            log.append("skipped")
        log.append("out")  # out
    log = []
    asyncio.run(main(log))
    assert log == ["enter", "out"]


def test_async_for_body_is_refused():
    async def agen():
        yield 1

    async def main(log):
        goto("body")
        async for x in agen():
            log.append(x)  # body
        log.append("end")
    log = []
    with pytest.raises(ValueError, match="can't jump into the body of a for loop"):
        asyncio.run(main(log))
    assert log == []


# ---- large code ---------------------------------------------------------------------------

def test_jumps_in_a_function_with_extended_arguments():
    # A function long enough that its jumps need EXTENDED_ARG.
    import dis
    body = "\n".join(f"    x{i} = {i}" for i in range(400))
    src = ("def big(log, target):\n"                      # line 1
           "    jump(sys._getframe(), target)\n"          # line 2
           "    log.append('skipped')\n"                  # line 3
           + body + "\n"                                  # lines 4 to 403
           "    log.append('end')\n"                      # line 404
           "    for i in range(2):\n"                     # line 405
           "        log.append(i)\n"                      # line 406
           "    return log\n")
    namespace = {"jump": framescope.jump, "sys": sys}
    exec(compile(src, "<big>", "exec"), namespace)
    big = namespace["big"]
    assert any(i.opname == "EXTENDED_ARG" for i in dis.get_instructions(big))
    with unbound_warning():  # x0 ... x399
        assert big([], 404) == ["end", 0, 1]
    with pytest.raises(ValueError, match="can't jump into the body of a for loop"):
        big([], 406)
