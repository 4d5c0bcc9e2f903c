"""The command line: `framescope`, `python -m framescope`, and `framescope demo`."""

from __future__ import annotations

import os
import subprocess
import sys

from framescope import _caps


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "framescope", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_demo_runs_and_shows_the_stack():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    names = ("Pipeline.tax", "Pipeline.price") if _caps.HAS_CO_QUALNAME else \
        ("  tax  (", "  price  (")
    assert all(name in proc.stdout for name in names), proc.stdout
    assert "x slower" in proc.stdout
    # Section 8 dumps a sample process from outside, with its variables.
    assert "OrderService.serve" in proc.stdout or "  serve  line" in proc.stdout, proc.stdout
    assert "region = 'eu-west'" in proc.stdout and "retries = 3" in proc.stdout
    assert "Its threads were stopped for" in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when not on a terminal


def test_demo_changes_a_variable_in_an_outer_frame():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "with framescope.locals:  the loop ran 2 times" in proc.stdout
    # f_locals writes reach the frame only where it is PEP 667's write-through proxy.
    lost = "2 times" if _caps.FRAME_LOCALS_PROXY else "5 times"
    assert f"with f_locals:           the loop ran {lost}" in proc.stdout


def test_demo_shows_a_console_session():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "(_poll:" in proc.stdout and ">>> limit = attempts + 2" in proc.stdout
    assert "[3, 4]" in proc.stdout
    assert "the loop gave up after 5 attempts" in proc.stdout

def test_demo_jumps_out_of_the_loop():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "crunch(probe) -> 'left the loop after n=4, total=10'" in proc.stdout
    assert "comes after the current code block" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr


def test_help_and_no_command():
    proc = run("--help")
    assert proc.returncode == 0 and "demo" in proc.stdout and "run" in proc.stdout
    proc = run()
    assert proc.returncode == 2 and "usage: framescope" in proc.stderr
    proc = run("nonsense")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("framescope ")
