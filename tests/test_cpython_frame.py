"""CPython's own tests of FrameLocalsProxy, run against framescope.locals() on every row.

What runs: test_frame's `TestFrameLocals` and `FrameLocalsProxyMappingTests` (with the
`mapping_tests.py` beside it), loaded at test time from where they are installed, never copied:
- 3.13+: the running interpreter's own `test` package (pyenv's `lib/python3.X/test/`, Debian's
  `libpython3.X-testsuite` in the Debian root);
- 3.10-3.12, which have no FrameLocalsProxy and so no such tests: 3.14's files from the Debian
  root (`tools/sid-root path`), framescope's contract being 3.14's proxy. A small stand-in adds
  the few test helpers such an interpreter lacks (tests/cpython_frame.py, STANDINS; the list of
  those used is printed). A missing file fails this test: no interpreter is skipped.

How the locals are swapped: the file's source is parsed and every read of an attribute named
`f_locals` (`sys._getframe().f_locals`, `f.f_back.f_locals`, `frame.f_locals`) becomes
`framescope.locals(<the same frame>)`, by an AST rewrite at load, at the same line and column.
Nothing else of the tests changes: they see framescope's view wherever they asked CPython's
proxy, and the interpreter's real frames, sys module and test helpers otherwise. (A frame-like
wrapper would have had to stand in for the frames and `sys._getframe` too.)

Each CPython test is one test here. They run in child processes (tests/cpython_frame.py): a
crash fails the test that was running and a new child goes on with the rest.

Exclusions (EXCLUDED) are only tests of CPython's type itself; "expected differences"
(DIFFERENCES) are tests whose assertion depends on something of the interpreter that is not the
proxy's semantics. Both are printed with their reasons at the end of the run; a difference is
checked to fail the way its reason says, so it cannot hide another failure. The figures of the
run go to cpython-frame-ROW.json in the working directory (build/ under ./dev test).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import conftest
from framescope import _caps

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "cpython_frame.py"
SID_ROOT = HERE.parent / "tools" / "sid-root"
# The version whose FrameLocalsProxy framescope follows (DESIGN.md), whose tests the
# interpreters without a proxy run.
REFERENCE = "3.14"

EXCLUDED = {
    "TestFrameLocals.test_constructor":
        "tests CPython's type itself: that it is named FrameLocalsProxy and how its "
        "constructor takes a frame (framescope's view is made by framescope.locals() only)",
}


def _own_proxy_refuses_del_with_type_error() -> bool:
    """Whether the running interpreter's own proxy refuses `del` of a local with TypeError, as
    3.13.0's did before gh-125590 (3.13.1) made it ValueError; its test_delete asserts that."""
    if not _caps.FRAME_LOCALS_PROXY:
        return False
    x = 1  # noqa: F841 - the local the probe deletes
    proxy = sys._getframe().f_locals
    try:
        del proxy["x"]
    except TypeError:
        return True
    except ValueError:
        return False
    return False


OLD_DELETE_RULES = _own_proxy_refuses_del_with_type_error()


@dataclass
class Difference:
    reason: str
    pattern: str  # what the failure must show


# The label of the interpreter's own files (3.13+).
OWN = sysconfig.get_python_version()

# By test id ("LABEL:Class.test"): which file's test differs, and why.
DIFFERENCES: dict[str, Difference] = {}
if not _caps.HAS_HIDDEN_LOCALS:
    DIFFERENCES[f"{REFERENCE}:TestFrameLocals.test_write_with_hidden"] = Difference(
        "needs PEP 709 (3.12+): here the comprehension runs in a frame of its own, so the "
        "sys._getframe() inside it is not f's frame and f's own b and c stay unbound "
        "(the write goes to the comprehension's finished frame)",
        r"UnboundLocalError")
if OLD_DELETE_RULES:
    DIFFERENCES[f"{OWN}:TestFrameLocals.test_delete"] = Difference(
        "this interpreter's test asserts its own proxy's rules before gh-125590 (del of a local "
        "raises TypeError, no pop()); framescope follows 3.14's, whose test_delete runs here too",
        r"ValueError: cannot remove local variables from FrameLocalsProxy")


@dataclass
class Source:
    label: str
    directory: Path
    only: list[str] | None = None


@dataclass
class Plan:
    sources: list[Source] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def debian_test_dir(version: str) -> Path:
    root = subprocess.run([str(SID_ROOT), "path"], capture_output=True, text=True, check=True)
    return Path(root.stdout.strip()) / "usr" / "lib" / f"python{version}" / "test"


def own_test_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]) / "test"


def make_plan() -> Plan:
    plan = Plan()
    try:
        if _caps.FRAME_LOCALS_PROXY:
            plan.sources.append(Source(OWN, own_test_dir()))
            if OLD_DELETE_RULES:
                plan.sources.append(Source(REFERENCE, debian_test_dir(REFERENCE),
                                           only=["TestFrameLocals.test_delete"]))
        else:
            plan.sources.append(Source(REFERENCE, debian_test_dir(REFERENCE)))
    except (OSError, subprocess.CalledProcessError) as exc:
        plan.error = f"cannot find the Debian root ({SID_ROOT} path): {exc}"
        return plan
    for src in plan.sources:
        for name in ("test_frame.py", "mapping_tests.py"):
            if not (src.directory / name).is_file():
                plan.error = (f"CPython's {name} for {src.label} is missing at {src.directory} "
                              "(pyenv: the interpreter's test package; Debian: the "
                              "libpython3.X-testsuite package, tools/sid-root ensure)")
                return plan
    proc = child(plan, "list")
    try:
        listing = json.loads(proc.stdout.splitlines()[-1])
    except (IndexError, ValueError):
        listing = {"error": f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"}
    if "error" in listing:
        plan.error = "loading CPython's tests failed:\n" + listing["error"]
        return plan
    plan.tests = listing.pop("tests")
    plan.info = listing
    return plan


def child(plan: Plan, *args: str) -> subprocess.CompletedProcess[str]:
    spec = json.dumps([{"label": s.label, "dir": str(s.directory), "only": s.only}
                       for s in plan.sources])
    return subprocess.run([sys.executable, "-X", "faulthandler", str(RUNNER), spec, *args],
                          capture_output=True, text=True, timeout=300, cwd=HERE)


def short(test_id: str) -> str:
    return test_id.split(":", 1)[1]


PLAN = make_plan()


def run_all() -> dict[str, dict[str, Any]]:
    """Every test that is not excluded, in as many children as crashes need."""
    todo = [t for t in PLAN.tests if short(t) not in EXCLUDED]
    results: dict[str, dict[str, Any]] = {}
    while todo:
        proc = child(PLAN, "run", *todo)
        started = None
        for line in proc.stdout.splitlines():
            if line.startswith("START "):
                started = line[6:]
            elif line.startswith("RESULT "):
                record = json.loads(line[7:])
                results[record["id"]] = record
                started = None
        if started is not None:  # the child died in this test
            results[started] = {"id": started, "outcome": "crashed",
                                "detail": f"exit {proc.returncode}\n{proc.stderr[-4000:]}"}
        elif proc.returncode != 0 or len(results) < len(todo):
            missing = [t for t in todo if t not in results]
            for t in missing:
                results[t] = {"id": t, "outcome": "crashed",
                              "detail": f"the child ended (exit {proc.returncode}) before it\n"
                                        f"{proc.stderr[-4000:]}"}
        todo = [t for t in todo if t not in results]
    return results


_results: dict[str, dict[str, Any]] | None = None


def results() -> dict[str, dict[str, Any]]:
    global _results
    if _results is None:
        _results = run_all()
        write_report(_results)
    return _results


def write_report(res: dict[str, dict[str, Any]]) -> None:
    counts = {"passed": 0, "failed": 0, "skipped by CPython": 0, "expected differences": 0,
              "excluded": 0}
    for test_id in PLAN.tests:
        name = short(test_id)
        if name in EXCLUDED:
            counts["excluded"] += 1
            continue
        outcome = res[test_id]["outcome"]
        if test_id in DIFFERENCES and outcome != "passed":
            counts["expected differences"] += 1
        elif outcome == "skipped":
            counts["skipped by CPython"] += 1
        else:
            counts["passed" if outcome == "passed" else "failed"] += 1
    row = os.environ.get("FRAMESCOPE_ROW", "local")
    report = {
        "row": row, "sources": {s.label: str(s.directory) for s in PLAN.sources}, **counts,
        "excluded_tests": {t: EXCLUDED[short(t)] for t in PLAN.tests if short(t) in EXCLUDED},
        "differences": {t: DIFFERENCES[t].reason for t in PLAN.tests if t in DIFFERENCES},
        "standins": PLAN.info.get("standins", []), "results": res,
    }
    Path(f"cpython-frame-{row}.json").write_text(json.dumps(report, indent=1))
    lines = [f"CPython's test_frame through framescope.locals() ({row}): "
             + ", ".join(f"{n} {k}" for k, n in counts.items()),
             *(f"  from {s.label}: {s.directory}" + (f" (only {', '.join(s.only)})"
                                                     if s.only else "")
               for s in PLAN.sources),
             *(f"  excluded {t}: {why}" for t, why in report["excluded_tests"].items()),
             *(f"  expected difference {t}: {why}" for t, why in report["differences"].items()),
             *(f"  stand-in: {name}" for name in report["standins"])]
    conftest.TERMINAL_NOTES.extend(lines)


def test_cpython_tests_were_found():
    """The row has CPython's files and they load: never a silent skip of an interpreter."""
    assert PLAN.error is None, PLAN.error
    assert PLAN.tests, "no test found in CPython's TestFrameLocals/FrameLocalsProxyMappingTests"
    # The rewrite reached the tests: each source had reads of f_locals to swap.
    assert all(n > 0 for n in PLAN.info["swapped"].values()), PLAN.info["swapped"]


@pytest.mark.parametrize("test_id", PLAN.tests or ["(none)"])
def test_cpython(test_id):
    if PLAN.error is not None:
        pytest.fail(PLAN.error)
    name = short(test_id)
    if name in EXCLUDED:
        results()  # the report lists it
        pytest.skip(f"excluded: {EXCLUDED[name]}")
    record = results()[test_id]
    outcome, detail = record["outcome"], record["detail"]
    if test_id in DIFFERENCES:
        diff = DIFFERENCES[test_id]
        assert outcome == "failed" and re.search(diff.pattern, detail), (
            f"expected to differ ({diff.reason}) with {diff.pattern!r}; got {outcome}:\n{detail}")
        return
    if outcome == "skipped":
        pytest.skip(f"skipped by CPython's own file: {detail}")
    assert outcome == "passed", f"{outcome}:\n{detail}"
