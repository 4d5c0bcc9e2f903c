"""Shared helpers for framescope's tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# tests/wheel/ tests the built wheels from outside (tools/wheel.py test), not the installed
# framescope of a row.
collect_ignore = [] if os.environ.get("FRAMESCOPE_WHEEL_ROWS") else ["wheel"]


def run_isolated(code: str, *, timeout: float = 120, env: dict[str, str] | None = None
                 ) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter (the one running the tests) and returns the result.

    For anything that could crash the interpreter: a crash then fails one test instead of ending
    the run. The caller checks returncode and output.
    """
    return subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def assert_clean_exit(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, (
        f"exit status {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )


@pytest.fixture
def isolated():
    return run_isolated


# Lines a test module wants shown at the end of the run (tests/test_cpython_frame.py lists the
# CPython tests it excluded and why), whatever pytest's verbosity.
TERMINAL_NOTES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if TERMINAL_NOTES:
        terminalreporter.section("notes")
        for line in TERMINAL_NOTES:
            terminalreporter.write_line(line)
