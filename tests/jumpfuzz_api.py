"""Random jump() requests in random functions: framescope.jump() must never crash the
interpreter, nor raise anything inside the frame it moves.

    python jumpfuzz_api.py SEED FIRST COUNT

Functions come from jumpfuzz.make_function(..., probes=True): their statements include calls
of p(), which at random asks framescope.jump() to move its caller (an outer frame, waiting on
p) to a random line. Generators are also jumped while suspended, between two next() calls. No
trace function is involved. One JSON line per function: how many jumps were asked for, refused
at once (ValueError), applied or dropped when due (RuntimeWarning).
"""

from __future__ import annotations

import json
import random
import sys
import warnings

import framescope
import framescope._jump  # noqa: F401 - cleaned up after each function (run_one)

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import jumpfuzz  # noqa: E402

MAX_REQUESTS = 4
MAX_PROBES = 300


class _CutOff(BaseException):
    pass


def run_one(seed: int, index: int) -> dict:
    src, gen, rng = jumpfuzz.make_function(seed, index, probes=True)
    nlines = src.count("\n")
    stats = {"fn": index, "asked": 0, "refused_at_once": 0, "dropped": 0, "escaped": 0}
    state = {"probes": 0}

    def random_line(code):
        return rng.randint(code.co_firstlineno - 1, code.co_firstlineno + nlines + 1)

    def ask(target):
        if stats["asked"] >= MAX_REQUESTS:
            return
        stats["asked"] += 1
        try:
            framescope.jump(target, random_line(fn.__code__))
        except ValueError:
            stats["refused_at_once"] += 1

    def p():
        state["probes"] += 1
        if state["probes"] > MAX_PROBES:
            raise _CutOff
        if rng.random() < 0.3:
            ask(sys._getframe(1))
        return None

    namespace = {"cm": jumpfuzz.cm, "p": p}
    exec(compile(src, f"<api {seed}:{index}>", "exec"), namespace)
    fn = namespace["fn"]
    arg = rng.randint(0, 9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if gen:
                g = fn(arg)
                for _ in range(30):
                    next(g)
                    if rng.random() < 0.4:
                        ask(g)
            else:
                fn(arg)
        except (StopIteration, _CutOff):
            pass
        except Exception as exc:
            # The function's own exceptions are expected; one from framescope is not.
            tb = exc.__traceback__
            while tb is not None:
                if "framescope" in tb.tb_frame.f_code.co_filename:
                    stats["escaped"] += 1
                    stats["escaped_error"] = repr(exc)
                tb = tb.tb_next
    stats["dropped"] = sum("framescope: the jump" in str(w.message) for w in caught)
    for p_ in list(framescope._jump._pending.values()):  # noqa: SLF001 - left by a cut-off run
        framescope._jump._forget(p_)
    return stats


def main(argv: list[str]) -> int:
    seed, first, count = int(argv[1]), int(argv[2]), int(argv[3])
    for index in range(first, first + count):
        print(json.dumps({"pending_fn": index}), flush=True)
        print(json.dumps({"done": run_one(seed, index)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
