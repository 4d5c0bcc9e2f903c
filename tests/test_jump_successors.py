"""_core._successors: where can_jump's models take an instruction next, against dis's view.

framescope.jump() follows these edges from a running frame's current instruction to the line
starts it can reach next (_jump._next_origins); they are the edges the checker's models
propagate along, so they must be the control flow dis describes: an instruction continues at
the next one unless it returns, raises or jumps unconditionally, and a jump also continues at
its target (dis's argval). 3.10's SETUP_* instructions name a handler, which only an exception
reaches.
"""

from __future__ import annotations

import asyncio
import dis

import pytest

from framescope import _core

ENDS = {"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"}
GOTOS = {"JUMP_FORWARD", "JUMP_ABSOLUTE", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"}
HANDLER_SETUPS = {"SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH"}
# 3.14+ list END_ASYNC_FOR among the jumps for its "from" label, but it does not jump (3.14's
# Lib/dis.py, _is_backward_jump(): "Not really a jump, but it has a target"); the setter's model
# does not follow it either.
JUMPS = (set(dis.hasjrel) | set(dis.hasjabs)) - {dis.opmap["END_ASYNC_FOR"]}


def branches(x):
    if x > 1:
        y = 1
    elif x is None:
        y = 2
    else:
        y = 3
    return y and x or y


def loops(items):
    total = 0
    for item in items:
        if item < 0:
            break
        while item > 10:
            item //= 2
            if item == 7:
                continue
        total += item
    else:
        total = -total
    return total


def handlers(path):
    try:
        with open(path) as f:
            return f.read()
    except (OSError, ValueError) as exc:
        raise RuntimeError(path) from exc
    finally:
        path = None


def matches(command):
    match command:
        case [x, y]:
            return x + y
        case {"go": where}:
            return where
        case str() if command:
            return command
        case _:
            return None


def generator(n):
    yield 1
    received = yield from range(n)
    return received


async def coroutine(items):
    async for item in items:
        await asyncio.sleep(item)
    return [x async for x in items]


def comprehensions(rows):
    return {k: [v for v in row if v] for k, row in enumerate(rows) if row}


FUNCTIONS = [branches, loops, handlers, matches, generator, coroutine, comprehensions]


def dis_successors(instructions, k):
    """The successors the disassembly gives instruction k (instructions: dis's list)."""
    ins = instructions[k]
    following = [instructions[k + 1].offset] if k + 1 < len(instructions) else []
    if ins.opname in ENDS:
        return []
    if ins.opname in GOTOS:
        return [ins.argval]
    if ins.opname in HANDLER_SETUPS or ins.opcode not in JUMPS:
        return following
    return following + [ins.argval]


def codes(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from codes(const)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_successors_agree_with_dis(function):
    compared = jumps = 0
    for code in codes(function.__code__):
        instructions = list(dis.get_instructions(code))
        for k, ins in enumerate(instructions):
            want = dis_successors(instructions, k)
            assert _core._successors(code, ins.offset) == want, (code.co_name, ins.opname,
                                                                  ins.offset)
            compared += 1
            jumps += ins.opcode in JUMPS
    assert compared > 10
    assert jumps > 0 or function is generator  # 3.10's `yield from` is one instruction


def test_a_conditional_jump_goes_on_or_to_its_else_branch():
    code = branches.__code__
    instructions = list(dis.get_instructions(code))
    first = next(k for k, ins in enumerate(instructions)
                 if ins.opcode in JUMPS and ins.opname not in GOTOS)
    after, target = _core._successors(code, instructions[first].offset)
    assert after == instructions[first + 1].offset
    # The target is the start of the `elif` test, on its own line.
    lines = {offset: line for offset, line, _ in _core._jump_model(code) if line != -1}
    assert lines[target] == code.co_firstlineno + 3


def test_a_return_ends_the_flow():
    code = branches.__code__
    last = [ins for ins in dis.get_instructions(code) if ins.opname in ENDS][-1]
    assert _core._successors(code, last.offset) == []


def test_bad_offsets_are_refused():
    code = branches.__code__
    with pytest.raises(ValueError):
        _core._successors(code, 1)
    with pytest.raises(ValueError):
        _core._successors(code, len(code.co_code))
    with pytest.raises(TypeError):
        _core._successors(code, "0")
