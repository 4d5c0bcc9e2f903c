"""can_jump() against CPython's own f_lineno setter, on random functions.

tests/jumpfuzz.py makes seeded random functions (nested if/for/while/try/except/finally/with/
match/yield) and runs each under a line tracer that, at random 'line' events, takes can_jump()'s
verdict and then the setter's on the same frame. They must be identical. The runs happen in
child processes: a jump that CPython accepts and does not survive kills the child, the parent
names the jump from the child's last "pending" line, and it is a failure unless can_jump refused
it. can_jump's own refusals ("CPython accepts this jump but ...") are then performed on purpose,
in a child each, to show that they do crash or hang the interpreter.

The figures go to jump-differential-ROW.json in the working directory (build/ under ./dev test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).with_name("jumpfuzz.py")
SEED = int(os.environ.get("FRAMESCOPE_JUMP_SEED", "20261121"))
FUNCTIONS = 600
CHUNK = 100
CONFIRM = 6           # can_jump refusals of ours to perform, per run
CONFIRM_TIMEOUT = 8   # seconds; a child still running then has hung


def _child(first: int, count: int, *extra: str, timeout: float = 120):
    try:
        proc = subprocess.run([sys.executable, str(FUZZ), str(SEED), str(first), str(count),
                               *extra], capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr, False
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out, "", True


def _parse(stdout: str):
    """The finished records, the last setter call of an unfinished run, and its verdict if the
    setter returned."""
    done, pending, verdict = [], None, None
    for line in stdout.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if "pending" in item:
            pending, verdict = item["pending"], None
        elif "verdict" in item:
            verdict = item["verdict"]
        elif "done" in item:
            done.append(item["done"])
            pending = verdict = None
    return done, pending, verdict


def test_can_jump_agrees_with_cpython():
    records, crashes, refused_crashes = [], [], []
    first, end = 0, FUNCTIONS
    while first < end:
        count = min(CHUNK, end - first)
        code, out, err, hung = _child(first, count)
        done, pending, _ = _parse(out)
        records += done
        if code == 0:
            first += count
            continue
        # A crash (or hang): the function that was running is the one after the last done. Its
        # fatal setter call is the last one of the shortest replay that still fails.
        crashed_fn = first + len(done)
        fatal, verdict = pending, None
        for n in range(1, 40):
            rcode, rout, _, rhung = _child(crashed_fn, 1, "--max-calls", str(n), timeout=20)
            if rcode != 0:
                _, fatal, verdict = _parse(rout)
                break
        crash = {"fn": crashed_fn, "exit": code, "hung": hung, "jump": fatal,
                 "verdict": verdict, "stderr": err[-300:]}
        # The same run, asking the setter only where can_jump allows the jump (as jump()
        # does): if it survives, the crash came from a jump can_jump refuses — one CPython
        # accepts, or one it refuses after damaging the frame (3.10 unwinds blocks before it
        # finds the 'except' block it will not leave).
        scode, _, _, _ = _child(crashed_fn, 1, "--skip-refused", timeout=20)
        (refused_crashes if scode == 0 else crashes).append(crash)
        first = crashed_fn + 1

    checks = sum(r["checks"] for r in records)
    agree = sum(r["agree"] for r in records)
    mismatches = [m for r in records for m in r["mismatches"]]
    ours = [o for r in records for o in r["ours"]]

    confirmed = []
    for refusal in ours[:CONFIRM]:
        code, out, err, hung = _child(refusal["fn"], 1, "--perform", str(refusal["fn"]),
                                      str(refusal["k"]), timeout=CONFIRM_TIMEOUT)
        done, pending, _ = _parse(out)
        # CPython must accept the jump (then crash, hang or corrupt the run); refusing it
        # would make our refusal a wrong verdict.
        mismatches += [m for r in done for m in r["mismatches"] if m["cpython"] is not None]
        confirmed.append({"fn": refusal["fn"], "from": refusal["from"], "to": refusal["to"],
                          "outcome": "hang" if hung else
                          ("completed" if code == 0 else f"killed by signal {-code}"
                           if code < 0 else f"exit {code}"),
                          "fatal error": "Fatal Python error" in err})
    figures = {"interpreter": sys.version.split()[0], "seed": SEED, "functions": FUNCTIONS,
               "jumps_checked": checks, "agreed": agree,
               "refused_as_crashing": len(ours), "crash_refusals_confirmed": confirmed,
               "crashes_can_jump_refused": [
                   {"jump": c["jump"], "cpython": c["verdict"] and c["verdict"]["cpython"],
                    "exit": c["exit"]} for c in refused_crashes],
               "mismatches": mismatches[:20], "unrefused_crashes": crashes}
    row = os.environ.get("FRAMESCOPE_ROW", "local")
    Path(f"jump-differential-{row}.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps({k: v for k, v in figures.items() if k != "mismatches"}, indent=1))

    assert checks >= 1000, f"only {checks} jumps were checked"
    assert not crashes, f"CPython crashed after jumps can_jump allowed: {crashes}"
    assert not mismatches, f"{len(mismatches)} verdicts differ, e.g. {mismatches[:3]}"
    assert agree == checks - len(ours)
    # The refusals performed were all accepted by CPython (a refusal would be a mismatch
    # above); how each run then ended — killed, hung, or completed on a damaged frame — is in
    # the figures.


def test_the_generator_prologue_jump_is_refused_and_is_a_crash_case(isolated):
    """The jump CPython accepts onto a generator's first line, performed by CPython's setter
    in a child: the generator ends returning a second generator on its own frame, and the
    interpreter usually dies when that one runs. can_jump refuses it where generators have a
    prologue (RETURN_GENERATOR, bpo-46409, 3.11+; 3.10 has none: the def line holds no code
    there, and the jump lands on the first body line)."""
    from framescope import _caps, can_jump

    def gen():
        for i in range(3):
            yield i
    first = gen.__code__.co_firstlineno
    if not _caps.HAS_RETURN_GENERATOR:
        yield_line = next(start for start, _, line in gen.__code__.co_lines()
                          if line == first + 2)
        assert can_jump(gen.__code__, yield_line, first) is None
        return
    g = gen()
    next(g)
    assert "CPython accepts this jump" in can_jump(gen.__code__, g.gi_frame.f_lasti, first)
    proc = isolated("""
        import sys
        def gen():
            for i in range(3):
                yield i
        g = gen()
        print(next(g), flush=True)
        def local(frame, event, arg):
            if event == "line" and frame.f_lineno == gen.__code__.co_firstlineno + 2:
                frame.f_lineno = gen.__code__.co_firstlineno
            return local
        sys.settrace(lambda frame, event, arg: local if frame.f_code is gen.__code__ else None)
        try:
            second = next(g)
        except StopIteration as stop:
            second = stop.value
        sys.settrace(None)
        print(type(second).__name__, flush=True)
        print(list(second), flush=True)
    """, timeout=30)
    # Either the interpreter died, or the generator ended returning another generator.
    assert proc.returncode != 0 or "generator" in proc.stdout.splitlines()[1], proc.stdout


API_FUZZ = Path(__file__).with_name("jumpfuzz_api.py")


def test_random_jump_requests_never_crash():
    """framescope.jump() itself, asked at random moments (from callees of the frame, and on
    suspended generators) in random functions: no crash, nothing raised inside a frame."""
    proc = subprocess.run([sys.executable, "-X", "faulthandler", str(API_FUZZ), str(SEED), "0",
                           "400"], capture_output=True, text=True, timeout=300)
    done = [json.loads(line)["done"] for line in proc.stdout.splitlines()
            if line.startswith('{"done"')]
    last = [line for line in proc.stdout.splitlines() if line.startswith('{"pending_fn"')][-1:]
    assert proc.returncode == 0, (last, proc.stderr[-2000:])
    totals = {key: sum(d[key] for d in done)
              for key in ("asked", "refused_at_once", "dropped", "escaped")}
    row = os.environ.get("FRAMESCOPE_ROW", "local")
    Path(f"jump-api-fuzz-{row}.json").write_text(json.dumps({"functions": len(done), **totals}))
    assert len(done) == 400
    assert totals["escaped"] == 0, [d for d in done if d["escaped"]]
    assert totals["asked"] >= 500
    # Some were refused at once, some applied, some dropped when due.
    assert 0 < totals["refused_at_once"] < totals["asked"]


CALLS_ACROSS_LINES = '''
import json, sys
from framescope import can_jump

class O:
    a = 1
    def m(self, *args, **kwargs):
        return 1

def calls(o):
    n = len(
        [o.m(
            1,
            k=2,
        )]
    )
    o.m(
        o.m(
            3
        ),
        4
    )
    f = o.m
    f(
        5
    )
    y = (
        o.a
        +
        6
    )
    return print(
        n, y, file=None if o else sys.stderr
    ) or y

code = calls.__code__
lines = sorted({line for _, _, line in code.co_lines() if line is not None})
last = code.co_firstlineno + 32

def run(start, target):
    seen = {}

    def trace(frame, event, arg):
        if frame.f_code is not code:
            return None
        if event == "line" and frame.f_lineno == start and not seen:
            verdict = can_jump(code, frame.f_lasti, target)
            seen["can_jump"] = verdict
            if verdict is not None and "CPython accepts this jump" in verdict:
                seen["setter"] = "not asked"
                return trace
            print(json.dumps({"pending": [start, target]}), flush=True)
            try:
                frame.f_lineno = target
                seen["setter"] = None
            except ValueError as exc:
                seen["setter"] = str(exc)
        return trace

    sys.settrace(trace)
    try:
        calls(O())
    except Exception as exc:
        seen["raised"] = type(exc).__name__
    finally:
        sys.settrace(None)
    return seen

for start in lines:
    for target in range(code.co_firstlineno + 1, last):
        seen = run(start, target)
        if "can_jump" in seen:
            print(json.dumps({"from": start, "to": target, **seen}), flush=True)
'''


def test_calls_across_lines_agree_with_cpython(isolated):
    """Every jump between the lines of calls spread over several lines, where the evaluation
    stack holds a callable with its NULL (or self) and some arguments (LOAD_GLOBAL's NULL,
    LOAD_ATTR's method bit, 3.11's LOAD_METHOD and PRECALL/CALL): can_jump and the setter give
    the same verdict, and every jump the setter makes is survived."""
    proc = isolated(CALLS_ACROSS_LINES, timeout=120)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"from"')]
    pending = [line for line in proc.stdout.splitlines() if line.startswith('{"pending"')]
    assert proc.returncode == 0, (pending[-1:], proc.stderr[-2000:])
    mismatches = [r for r in rows if r["setter"] != "not asked" and r["setter"] != r["can_jump"]]
    assert not mismatches, mismatches[:5]
    refused = [r for r in rows if r["setter"] not in (None, "not asked")]
    assert len(rows) > 200 and refused, (len(rows), len(refused))
    from framescope import _caps
    if _caps.HAS_EXCEPTION_TABLE:  # the stack model (3.10's block model knows no NULL)
        assert any(r["setter"] == "incompatible stacks" for r in refused)
