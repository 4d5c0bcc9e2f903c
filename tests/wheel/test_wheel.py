"""framescope's wheels (dist/, made by `./dev wheel`) as a user gets them.

Run by `tools/wheel.py test` (and so by `./dev test`), not by the rows' suites: with the host's
tools venv (auditwheel, pytest), on the wheels of the rows in $FRAMESCOPE_WHEEL_ROWS. Each wheel
must be in dist/: a missing one fails.

- Every ELF file of a wheel (extension modules, the native `framescope` command, the libraries
  auditwheel bundled) resolves every library the manylinux policy does not list to a copy in the
  wheel, laid out as pip installs it and read by the dynamic loader of the bare root, which has
  no libelf.
- The bare machine: in the bare root (tools/sid-root --bare: the interpreters, no compiler, no
  libelf, no pkg-config), every interpreter of the registry's rows that takes one of these
  wheels installs it into a venv and runs `import framescope`, `framescope demo` and
  `framescope dump PID` (tests/wheel/bare_check.py). Debian's interpreters are the root's own;
  pyenv's are bind-mounted read-only at their own path: the same binaries the rows test, with
  the system libraries of the bare root.
- The sdist on a machine without libelf stops with the message that says what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

TREE = Path(__file__).resolve().parent.parent.parent
DIST = TREE / "dist"
SID_ROOT = TREE / "tools" / "sid-root"
sys.path.insert(0, str(TREE / "tools"))
import registry  # noqa: E402

REG = registry.load()
CHOSEN = [n for n in os.environ.get("FRAMESCOPE_WHEEL_ROWS", "").split(",") if n]
WHEEL_ROWS = [r for r in REG.wheel_rows if not CHOSEN or r.name in CHOSEN]
TAGS = {r.abi_tag for r in WHEEL_ROWS}
# Every interpreter row that takes one of the chosen wheels (3.13's Debian row takes the
# 3.13.0 row's cp313), sanitizer builds aside.
INTERPRETERS = [r for r in REG.rows if not r.sanitize and r.abi_tag in TAGS]


def version() -> str:
    text = (TREE / "src" / "framescope" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    assert match, "framescope/__init__.py has no __version__"
    return match.group(1)


def wheel_of(abi_tag: str) -> Path:
    found = sorted(DIST.glob(f"framescope-{version()}-cp3*-{abi_tag}-*.whl"))
    assert len(found) == 1, (f"dist/ has {len(found)} framescope {version()} wheels for "
                             f"{abi_tag}: run ./dev wheel")
    return found[0]


def bare(*args: str, bind: tuple[str, ...] = (), timeout: float = 900
         ) -> subprocess.CompletedProcess[str]:
    binds = [x for b in bind for x in ("--bind", b)]
    return subprocess.run([str(SID_ROOT), "--bare", "run", *binds, str(TREE), *args],
                          capture_output=True, text=True, timeout=timeout)


def allowed_libraries(platform_tag: str) -> set[str]:
    """The libraries the wheel's manylinux policy lets it take from the system (auditwheel's)."""
    import importlib.resources
    policies = json.loads((importlib.resources.files("auditwheel") / "policy" /
                           "manylinux-policy.json").read_text())
    tag = platform_tag.split(".")[0]
    for policy in policies:
        names = [policy["name"], *policy.get("aliases", [])]
        if any(f"{n}_x86_64" == tag or n == tag for n in names):
            return set(policy["lib_whitelist"])
    raise AssertionError(f"auditwheel knows no policy {platform_tag}")


@pytest.mark.parametrize("row", WHEEL_ROWS, ids=lambda r: r.abi_tag)
def test_wheel_libraries_resolve_inside_the_wheel(row: registry.Row) -> None:
    wheel = wheel_of(row.abi_tag)
    platform_tag = wheel.name.removesuffix(".whl").split("-")[4]
    assert platform_tag.startswith("manylinux_"), f"auditwheel did not repair {wheel.name}"
    # pip's layout of a venv: platlib is lib/pythonX.Y/site-packages, scripts go to bin/.
    prefix = TREE / "build" / "wheel-check" / row.abi_tag
    shutil.rmtree(prefix, ignore_errors=True)
    site = prefix / "lib" / f"python3.{row.version}" / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(site)
    data = next(site.glob("*.data"))
    (prefix / "bin").mkdir()
    shutil.move(data / "scripts" / "framescope", prefix / "bin" / "framescope")
    command = prefix / "bin" / "framescope"
    assert command.read_bytes()[:4] == b"\x7fELF", "the framescope command is not the native one"
    assert not any(n.startswith("framescope.scripts/") for n in names)
    libs = sorted((site / "framescope.libs").iterdir())
    assert any(p.name.startswith("libelf") for p in libs), [p.name for p in libs]

    elves = [command, *sorted((site / "framescope").glob("*.so")), *libs]
    inside = [f"/src/{p.relative_to(TREE)}" for p in elves]
    proc = bare("ldd", *inside)
    allowed = allowed_libraries(platform_tag)
    problems = []
    current = None
    for line in proc.stdout.splitlines():
        if not line.startswith(("\t", " ")):
            current = line.rstrip(":")
            continue
        name, arrow, where = line.strip().partition(" => ")
        if not arrow:
            continue  # the vDSO and the dynamic loader
        where = os.path.normpath(where.split(" (")[0])
        in_wheel = where.startswith(f"/src/{site.relative_to(TREE)}/framescope.libs/")
        if not in_wheel and name not in allowed:
            problems.append(f"{current}: {name} => {where}")
    assert proc.returncode == 0 and current is not None, proc.stdout + proc.stderr
    assert not problems, "libraries from outside the wheel:\n" + "\n".join(problems)


@pytest.mark.parametrize("row", INTERPRETERS, ids=lambda r: r.name)
def test_bare_machine_install_and_use(row: registry.Row) -> None:
    wheel = wheel_of(row.abi_tag)
    bind: tuple[str, ...] = ()
    if row.source == "debian":
        python = row.python
    else:
        sys.path.insert(0, str(TREE / "tools"))
        import matrix
        exe = matrix.pyenv_python(row.python)
        assert exe is not None, f"no pyenv interpreter {row.python}*"
        prefix = exe.resolve().parent.parent
        bind, python = (str(prefix),), str(prefix / "bin" / "python3")
    proc = bare(python, "/src/tests/wheel/bare_check.py", f"/src/dist/{wheel.name}", bind=bind)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["debug"] is row.debug, "the row's interpreter is not the build it names"
    assert report["import"].startswith(version())


def test_sdist_without_libelf_says_what_to_install(tmp_path: Path) -> None:
    sdists = sorted(DIST.glob(f"framescope-{version()}.tar.gz"))
    assert sdists, "dist/ has no sdist: run ./dev wheel"
    # A machine without elfutils' development files: pkg-config looks in an empty directory.
    # The build runs as `pip install framescope-X.tar.gz` runs it, in an isolated environment.
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path), PKG_CONFIG_PATH="")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path),
                           str(sdists[0])], capture_output=True, text=True, env=env, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "framescope: building from source needs elfutils' libelf and pkg-config" in out, out
    assert "libelf-dev pkg-config" in out and "elfutils-devel" in out, out
    assert "elfutils-dev" in out and "a wheel carries libelf inside" in out, out
    assert "Package 'libelf'" not in out, "CMake's own error came first"
