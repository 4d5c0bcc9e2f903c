"""CPython's own jump tests, test_sys_settrace.JumpTestCase, through framescope.

Every @jump_test / @async_jump_test of the running interpreter's own installed test_sys_settrace
(pyenv's lib/python3.X/test/, Debian's libpython3.X-testsuite; never a copy of ours), run by the
file's own run_test: can_jump()'s verdict against the f_lineno setter's at the jump, then the
same jump made by framescope.jump() with no jumping trace function, the test's own checks holding
(tests/cpython_settrace.py says how). One pytest test per CPython test.

The CPython tests run in child processes: one runs them all and reports per test; when it dies,
the test it was running fails alone (or, where the jump it was making is one framescope refuses
as crashing CPython, that refusal is proven and the test is excluded, saying so), and a new child
goes on with the rest. Exclusions and their reasons are printed at the end of the module and
written, with the outcomes, to cpython-settrace-ROW.json in the working directory (build/ under
./dev test).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("cpython_settrace.py")
TIMEOUT = 120  # seconds for one child; the whole list takes a few


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def _list() -> tuple[list[str], str]:
    proc = subprocess.run([sys.executable, str(CHILD), "--list"], capture_output=True,
                          text=True, timeout=60)
    names = proc.stdout.split()
    if proc.returncode != 0 or not names:
        return [], f"could not list CPython's jump tests (exit {proc.returncode}): " + \
            proc.stderr[-2000:]
    return names, ""


NAMES, LIST_ERROR = _list()


def _crash(code: int | None, err: str) -> str:
    how = "hung" if code is None else (f"was killed by signal {-code}" if code < 0
                                       else f"exited with status {code}")
    return f"the child process {how}; its stderr ends with: {err[-1500:]}"


def run_all(names: list[str], env: dict[str, str] | None = None) -> dict[str, dict]:
    results: dict[str, dict] = {}
    todo = list(names)
    while todo:
        try:
            proc = subprocess.run([sys.executable, "-X", "faulthandler", str(CHILD), *todo],
                                  capture_output=True, text=True, timeout=TIMEOUT,
                                  env=None if env is None else {**os.environ, **env})
            out, err, code = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as exc:
            out, err, code = _text(exc.stdout), _text(exc.stderr), None
        running, ours = None, None
        for line in out.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if "start" in item:
                running, ours = item["start"], None
            elif "ours" in item:
                ours = item["ours"]
            elif "result" in item:
                results[item["result"]["test"]] = item["result"]
                running = None
        if running is None:
            if code != 0:  # died outside any test: every test left fails with it
                for name in todo:
                    results.setdefault(name, {"test": name, "outcome": "failed",
                                              "detail": _crash(code, err)})
            break
        if ours is not None:
            results[running] = {
                "test": running, "outcome": "excluded", "proof": _crash(code, err),
                "reason": f"framescope refuses this jump (line {ours['from']} to "
                          f"{ours['to']}: {ours['verdict']}), which CPython accepts: CPython's "
                          f"setter made it here, in a child process, and "
                          f"{_crash(code, err)[len('the child process '):][:200]}"}
        else:
            results[running] = {"test": running, "outcome": "failed",
                                "detail": _crash(code, err)}
        todo = [name for name in todo if name not in results]
    return results


@pytest.fixture(scope="module")
def outcomes(request):
    results = run_all(NAMES)
    yield results
    counts = collections.Counter(r["outcome"] for r in results.values())
    row = os.environ.get("FRAMESCOPE_ROW", "local")
    summary = {"interpreter": sys.version.split()[0], "tests": len(NAMES),
               **{k: counts.get(k, 0) for k in ("passed", "failed", "excluded")},
               "results": results}
    Path(f"cpython-settrace-{row}.json").write_text(json.dumps(summary, indent=1))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            report(reporter, summary, results)


def report(reporter, summary: dict, results: dict[str, dict]) -> None:
    reporter.write_line("")
    reporter.write_line(
        f"CPython {summary['interpreter']}'s test_sys_settrace.JumpTestCase through "
        f"framescope: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['excluded']} excluded")
    for name, r in sorted(results.items()):
        if r["outcome"] == "excluded":
            reporter.write_line(f"  excluded {name}: {r['reason']}")


@pytest.mark.parametrize("name", NAMES or ["(none)"])
def test_cpython_jump_test(name, outcomes):
    assert not LIST_ERROR, LIST_ERROR
    result = outcomes[name]
    if result["outcome"] == "excluded":
        pytest.skip(f"CPython's {name}: {result['reason']}")
    assert result["outcome"] == "passed", result.get("detail")


def test_every_jump_test_ran(outcomes):
    """The module found the interpreter's own jump tests, and each has an outcome."""
    assert not LIST_ERROR, LIST_ERROR
    assert len(NAMES) >= 80, NAMES
    assert sorted(outcomes) == sorted(NAMES)
    # The only exclusions: a test of the setter's event rule (a jump asked at a 'call',
    # 'return' or 'exception' event, which CPython refuses whatever the target), or a jump
    # framescope refuses because CPython does not survive it, proven by the child's crash.
    for r in outcomes.values():
        if r["outcome"] == "excluded":
            assert "setter's event rule" in r["reason"] or r.get("proof"), r


def test_a_crash_fails_only_its_test():
    """A child that dies in one CPython test fails that test (or, after the setter made a jump
    framescope refuses, proves that refusal); a new child runs the tests after it."""
    first, middle, last = NAMES[0], NAMES[1], NAMES[2]
    results = run_all([first, middle, last], {"FRAMESCOPE_SETTRACE_CRASH": middle})
    assert results[first]["outcome"] == results[last]["outcome"] == "passed", results
    assert results[middle]["outcome"] == "failed"
    assert "killed by signal 6" in results[middle]["detail"]
    results = run_all([first, middle, last], {"FRAMESCOPE_SETTRACE_CRASH": f"{middle}:ours"})
    assert results[middle]["outcome"] == "excluded"
    assert "framescope refuses this jump" in results[middle]["reason"]
    assert "killed by signal 6" in results[middle]["proof"]
    assert results[last]["outcome"] == "passed"
