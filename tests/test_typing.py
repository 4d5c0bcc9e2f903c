"""framescope's public API as type checkers see it: `mypy --strict` on the installed package
(its annotations and the .pyi stubs of the extension modules) and on tests/typing_sample.py,
which uses every public name as the README shows it. Checked with this row's interpreter; any
mypy error fails the test, with mypy's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import framescope
import framescope.remote

TESTS = Path(__file__).resolve().parent
SAMPLE = TESTS / "typing_sample.py"
# One cache per row: the rows' interpreters see different stubs of the standard library.
CACHE = TESTS.parent / "build" / "mypy-cache" / os.environ.get(
    "FRAMESCOPE_ROW", f"{sys.version_info[0]}.{sys.version_info[1]}")


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    # Run in the cache directory, not the source tree: `framescope` must be the installed
    # package, with its generated _caps.py and the extension modules.
    CACHE.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--show-error-codes",
         "--cache-dir", str(CACHE), "--python-executable", sys.executable, *args],
        capture_output=True, text=True, timeout=600, cwd=CACHE)


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"mypy --strict failed:\n{proc.stdout}{proc.stderr}"


def test_the_installed_package_passes_mypy_strict():
    assert "site-packages" in str(Path(framescope.__file__)), \
        "framescope must be the installed package, not the source tree"
    assert_clean(mypy("-p", "framescope"))


def test_the_public_names_as_documented_pass_mypy_strict():
    assert_clean(mypy(str(SAMPLE)))


def test_the_sample_runs():
    # What the sample states about types, the bindings do at run time.
    proc = subprocess.run([sys.executable, str(SAMPLE)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "typing sample ran" in proc.stdout


@pytest.mark.parametrize("module, prefix", [(framescope, "framescope."),
                                            (framescope.remote, "remote.")])
def test_the_sample_uses_every_public_name(module, prefix):
    # A public name the sample leaves out would have its annotations and stub unchecked.
    text = SAMPLE.read_text()
    missing = [name for name in module.__all__ if f"{prefix}{name}" not in text]
    assert not missing, f"tests/typing_sample.py does not use {missing}"
