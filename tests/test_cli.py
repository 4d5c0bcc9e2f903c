"""The command line: `framescope`, `python -m framescope`, and `framescope demo`."""

from __future__ import annotations

import os
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "framescope", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def test_demo_runs_and_shows_the_stack():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    names = ("Pipeline.tax", "Pipeline.price") if sys.version_info >= (3, 11) else \
        ("  tax  (", "  price  (")
    assert all(name in proc.stdout for name in names), proc.stdout
    assert "x slower" in proc.stdout
    assert "\033[" not in proc.stdout  # no colour when not on a terminal


def test_demo_jumps_out_of_the_loop():
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "crunch(probe) -> 'left the loop after n=4, total=10'" in proc.stdout
    assert "comes after the current code block" in proc.stdout
    assert "Warning" not in proc.stderr, proc.stderr


def test_help_and_no_command():
    proc = run("--help")
    assert proc.returncode == 0 and "demo" in proc.stdout
    proc = run()
    assert proc.returncode == 2 and "usage: framescope" in proc.stderr
    proc = run("nonsense")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("framescope ")
