"""Random functions for the differential test of framescope.can_jump against CPython's setter.

    python jumpfuzz.py SEED FIRST COUNT [--perform FN K | --max-calls N | --skip-refused]

runs functions FIRST .. FIRST+COUNT-1 of the seeded series, each under a line tracer that, at
random 'line' events, asks can_jump() and then CPython's own f_lineno setter the same question
on the same frame, and prints one JSON line per function. Before each setter call it prints a
"pending" line, so that a parent process can tell which jump a crash followed. can_jump's own
refusals (jumps CPython accepts but does not survive) are not performed, only listed; with
--perform FN K, the K-th of them in function FN is performed instead, so that a parent can watch
the interpreter fail. With --max-calls N, the setter is asked only N times per run: a parent
finds which call of a crashed run was the fatal one. (3.10's setter can damage a frame even
when it refuses: it unwinds the blocks it is leaving before it finds an 'except' block among
them, and then raises.) With --skip-refused, the setter is only asked where can_jump allows
the jump, as framescope.jump() does: a crash that then goes away followed a jump can_jump
refuses.

Everything is drawn from random.Random(f"{SEED}:{index}"), so a function, and every decision
taken while it runs, is reproduced from its seed and index alone.
"""

from __future__ import annotations

import json
import os
import random
import sys
import warnings

OURS = "CPython accepts this jump"
MAX_JUMPS = 3        # performed jumps per run: keeps runs short and jumps varied
MAX_EVENTS = 400     # trace events per run before the run is cut off
CHECK_RATE = 0.35
DEBUG = bool(os.environ.get("JUMPFUZZ_DEBUG"))  # every trace event to stderr


class Names:
    def __init__(self) -> None:
        self.n = 0

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


PROBES = False  # make_function(..., probes=True): also calls of p(), where jump() is asked


def _simple(rng: random.Random, gen: bool, in_loop: bool, in_try: bool) -> list[str]:
    choices = ["x = x + 1", "y = x * 2", "z = [x, y]", "x = abs(x - 3)", "pass",
               "y = len(str(x))", "x, y = y, x"]
    if PROBES:
        choices += ["p()", "x = p() or x", "p(); y = y + 1"]
    if gen:
        choices += ["x = yield x", "yield y", "yield from range(2)"]
    if in_loop:
        choices += ["if x > 5: break", "if y % 2: continue"]
    if in_try or rng.random() < 0.2:
        choices += ["if x % 3 == 1: raise ValueError(x)", "if y > 4: raise KeyError(y)"]
    if rng.random() < 0.1:
        choices.append("if x > 7: return x")
    return [rng.choice(choices)]


def _block(rng, names, depth, gen, in_loop=False, in_try=False) -> list[str]:
    out: list[str] = []
    for _ in range(rng.randint(1, 3)):
        out += _statement(rng, names, depth, gen, in_loop, in_try)
    return out


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _statement(rng, names, depth, gen, in_loop, in_try) -> list[str]:
    if depth >= 3 or rng.random() < 0.35:
        return _simple(rng, gen, in_loop, in_try)
    kind = rng.choice(["if", "for", "while", "try", "tryfinally", "with", "match"])
    sub = lambda **kw: _indent(_block(rng, names, depth + 1, gen, **{
        "in_loop": in_loop, "in_try": in_try, **kw}))
    if kind == "if":
        out = [f"if x % {rng.randint(2, 3)} == 0:"] + sub()
        if rng.random() < 0.5:
            out += ["else:"] + sub()
        return out
    if kind == "for":
        var = names.fresh("i")
        out = [f"for {var} in range({rng.randint(1, 3)}):"] + sub(in_loop=True)
        if rng.random() < 0.2:
            out += ["else:"] + sub()
        return out
    if kind == "while":
        var = names.fresh("w")
        return [f"{var} = 0", f"while {var} < 2:", f"    {var} += 1"] + sub(in_loop=True)
    if kind == "try":
        out = ["try:"] + sub(in_try=True)
        handler = rng.choice(["except ValueError:", "except (KeyError, ValueError) as e:",
                              "except Exception:", "except:"])
        out += [handler] + sub()
        if rng.random() < 0.3:
            out += ["else:"] + sub()
        if rng.random() < 0.3:
            out += ["finally:"] + sub()
        return out
    if kind == "tryfinally":
        return ["try:"] + sub(in_try=True) + ["finally:"] + sub()
    if kind == "with":
        head = rng.choice(["with cm():", "with cm() as c:", "with cm(), cm():"])
        return [head] + sub()
    out = [f"match x % 3:", "    case 0:"] + _indent(sub())
    out += ["    case 1 | 2:" if rng.random() < 0.5 else "    case 1:"] + _indent(sub())
    if rng.random() < 0.6:
        out += ["    case _:"] + _indent(sub())
    return out


def make_function(seed: int, index: int, probes: bool = False
                  ) -> tuple[str, bool, random.Random]:
    """The source of function `index` of series `seed`, whether it is a generator, and the
    random stream for the decisions taken while it runs."""
    global PROBES
    PROBES = probes
    rng = random.Random(f"{seed}:{index}" + (":probes" if probes else ""))
    gen = rng.random() < 0.3
    names = Names()
    body = _block(rng, names, 0, gen) + _block(rng, names, 0, gen)
    body.append("return x" if not gen or rng.random() < 0.5 else "yield x")
    src = "\n".join(["def fn(x):", "    y = z = c = e = 0"] + _indent(body)) + "\n"
    return src, gen, rng


class cm:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _CutOff(Exception):
    pass


def run_one(seed: int, index: int, perform: int | None, out, max_calls: int | None = None,
            skip_refused: bool = False) -> dict:
    from framescope._core import can_jump

    src, gen, rng = make_function(seed, index)
    namespace = {"cm": cm}
    exec(compile(src, f"<fuzz {seed}:{index}>", "exec"), namespace)
    fn = namespace["fn"]
    code = fn.__code__
    nlines = src.count("\n")
    record = {"fn": index, "checks": 0, "agree": 0, "accepted": 0, "mismatches": [],
              "ours": []}
    state = {"events": 0, "jumps": 0, "refusals": 0, "calls": 0}

    def local(frame, event, arg):
        if DEBUG:
            print(event, frame.f_lineno, frame.f_lasti, file=sys.stderr, flush=True)
        state["events"] += 1
        if state["events"] > MAX_EVENTS:
            raise _CutOff
        if event != "line" or state["jumps"] >= MAX_JUMPS or rng.random() >= CHECK_RATE:
            return local
        target = rng.randint(code.co_firstlineno - 1, code.co_firstlineno + nlines + 1)
        lasti = frame.f_lasti
        ours = can_jump(code, lasti, target)
        where = {"fn": index, "event": state["events"], "lasti": lasti,
                 "from": frame.f_lineno, "to": target}
        if ours is not None and OURS in ours:
            k = state["refusals"]
            state["refusals"] += 1
            record["ours"].append({**where, "k": k, "message": ours})
            if perform != k:
                record["checks"] += 1
                return local
        if max_calls is not None and state["calls"] >= max_calls:
            return local
        if skip_refused and ours is not None:
            return local
        state["calls"] += 1
        print(json.dumps({"pending": {**where, "can_jump": ours}}), file=out, flush=True)
        try:
            frame.f_lineno = target
            theirs = None
        except ValueError as exc:
            theirs = str(exc)
        print(json.dumps({"verdict": {**where, "can_jump": ours, "cpython": theirs}}), file=out,
              flush=True)
        record["checks"] += 1
        if theirs is None:
            state["jumps"] += 1
            record["accepted"] += 1
        if theirs == ours:
            record["agree"] += 1
        else:
            record["mismatches"].append({**where, "can_jump": ours, "cpython": theirs})
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is code else None

    arg = rng.randint(0, 9)
    sys.settrace(tracer)
    try:
        if gen:
            g = fn(arg)
            for _, _ in zip(range(30), g):
                pass
        else:
            fn(arg)
    except Exception:
        pass
    finally:
        sys.settrace(None)
    return record


def main(argv: list[str]) -> int:
    seed, first, count = int(argv[1]), int(argv[2]), int(argv[3])
    perform_fn = perform_k = None
    max_calls = None
    if len(argv) > 4 and argv[4] == "--perform":
        perform_fn, perform_k = int(argv[5]), int(argv[6])
    if len(argv) > 4 and argv[4] == "--max-calls":
        max_calls = int(argv[5])
    skip_refused = "--skip-refused" in argv
    warnings.simplefilter("ignore")
    out = sys.stdout
    for index in range(first, first + count):
        record = run_one(seed, index, perform_k if index == perform_fn else None, out, max_calls,
                         skip_refused)
        print(json.dumps({"done": record}), file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
