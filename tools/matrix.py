#!/usr/bin/env python3
"""Build framescope for every supported interpreter and run the test suite or the benchmark.

    tools/matrix.py test [--only NAME ...]     the whole suite on every row, then one table
    tools/matrix.py bench [--only NAME ...]    every bench/bench_*.py on every row
    tools/matrix.py row NAME --python EXE ...  one row, here (the Debian rows run this in the root)

The rows are the version registry's (versions.toml): interpreters from pyenv and from the Debian
unstable root that tools/sid-root prepares, interpreters built from Debian's source packages
(tools/ft-python: the free-threaded build) that run in that root, sanitizer builds, the debug build where the
reference-leak check runs. A row whose interpreter cannot be found or prepared fails the run: no
supported interpreter is ever skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry  # noqa: E402  (tools/registry.py: versions.toml)

TREE = Path(__file__).resolve().parent.parent
RESULTS = TREE / "build" / "results"
# `./dev test` also builds one wheel (tools/wheel.py) and runs tests/wheel/ on it: the bare
# machine, the libraries inside the wheel, the sdist without libelf. One Debian row's, so that
# the wheel is built in the test root and used by the bare root's own interpreter; `./dev wheel
# --test` does the same for every wheel.
PACKAGING = "wheel"
PACKAGING_ROW = "3.14"
# The build's own requirements (pyproject.toml: the builds run without isolation) and the tests'.
TOOLS = ["scikit-build-core>=1.0", "nanobind>=2.4", "tomli>=1.1; python_version < '3.11'",
         "pytest>=8", "pexpect>=4.8", "mypy>=1.11"]


def rows() -> list[registry.Row]:
    """The test matrix: the version registry's rows (versions.toml)."""
    return list(registry.load().rows)


def log(msg: str) -> None:
    print(f"[matrix] {msg}", file=sys.stderr, flush=True)


def pyenv_python(prefix: str) -> Path | None:
    versions = registry.pyenv_versions()
    found = []
    for d in versions.glob(f"{prefix}*") if versions.is_dir() else []:
        rest = d.name[len(prefix):]
        if (d / "bin" / "python").exists() and (rest == "" or rest.isdigit()):
            found.append(d)
    if not found:
        return None
    best = max(found, key=lambda d: tuple(int(p) for p in d.name.split(".")))
    return best / "bin" / "python"


def built_python(build: str) -> str:
    """The interpreter of a [builds] entry, built first where it is not (tools/ft-python)."""
    tool = str(TREE / "tools" / "ft-python")
    if run([tool, "ensure", build]).returncode != 0:
        raise RuntimeError(f"tools/ft-python could not build {build}")
    return run([tool, "path", build], capture_output=True, text=True, check=True).stdout.strip()


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, **kw)


def sanitizer_env() -> dict[str, str]:
    libs = []
    for lib in ("libasan.so", "libubsan.so"):
        path = subprocess.run(["g++", f"-print-file-name={lib}"], capture_output=True,
                              text=True).stdout.strip()
        if not os.path.isabs(path):
            raise RuntimeError(f"g++ has no {lib}: install the compiler's sanitizer runtimes")
        libs.append(path)
    return {
        "LD_PRELOAD": " ".join(libs),
        # CPython's own allocations are not ours to account for; memory errors still abort.
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:allocator_may_return_null=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    }


def ensure_venv(name: str, python: str) -> Path:
    """The row's venv with the build tools (and the tests' tools) installed: its python."""
    # Per source tree (not in CACHE): two checkouts tested at once must not share a venv.
    venv = TREE / "build" / "venvs" / name
    vpy = venv / "bin" / "python"
    if not vpy.exists():
        log(f"{name}: creating {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        run([python, "-m", "venv", str(venv)], check=True)
    stamp = venv / ".framescope-tools"
    if not stamp.exists() or stamp.read_text() != "\n".join(TOOLS):
        log(f"{name}: installing {' '.join(TOOLS)}")
        run([str(vpy), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        run([str(vpy), "-m", "pip", "install", "-q", *TOOLS], check=True)
        stamp.write_text("\n".join(TOOLS))
    return vpy


def prepare(name: str, python: str, sanitize: bool) -> Path:
    """A venv for the row with the build tools and framescope (with test helpers) installed."""
    vpy = ensure_venv(name, python)
    log(f"{name}: building framescope")
    env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2))
    cmd = [str(vpy), "-m", "pip", "install", "-q", "--no-build-isolation", "--force-reinstall",
           "--no-deps", "-C", f"build-dir=build/{name}",
           "-C", "cmake.define.FRAMESCOPE_TESTING=ON"]
    if sanitize:
        cmd += ["-C", "cmake.define.FRAMESCOPE_SANITIZE=ON",
                "-C", "cmake.build-type=RelWithDebInfo"]
    run(cmd + ["."], check=True, cwd=TREE, env=env)
    return vpy


def junit_counts(path: Path) -> dict[str, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}


def run_row(args: argparse.Namespace) -> int:
    """One row, in this environment. Writes build/results/NAME.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    result = {"name": args.name, "version": "?", "passed": 0, "failed": 0, "skipped": 0,
              "error": None}
    try:
        vpy = prepare(args.name, args.python, args.sanitize)
        result["version"] = subprocess.run(
            [str(vpy), "-c", "import sys; print(sys.version.split()[0] + "
             "('-debug' if hasattr(sys, 'gettotalrefcount') else ''))"],
            capture_output=True, text=True, check=True).stdout.strip()
        env = dict(os.environ)
        env["FRAMESCOPE_ROW"] = args.name
        if args.debug:
            env["FRAMESCOPE_REQUIRE_DEBUG"] = "1"
        if args.sanitize:
            env.update(sanitizer_env())
        if args.mode == "bench":
            failed = []
            wanted = [w for w in os.environ.get("FRAMESCOPE_BENCH", "").split(",") if w]
            for script in sorted((TREE / "bench").glob("bench_*.py")):
                if wanted and script.stem.removeprefix("bench_") not in wanted:
                    continue
                if run([str(vpy), str(script), "--row", args.name], env=env).returncode != 0:
                    failed.append(script.name)
            result["error"] = f"failed: {', '.join(failed)}" if failed else None
        else:
            xml = RESULTS / f"{args.name}.xml"
            xml.unlink(missing_ok=True)
            code = run([str(vpy), "-m", "pytest", "-p", "no:cacheprovider", "-q",
                        f"--junitxml={xml}", "-o", f"junit_suite_name={args.name}",
                        str(TREE / "tests")], env=env, cwd=TREE / "build").returncode
            if xml.exists():
                result.update(junit_counts(xml))
            if code not in (0, 1) or not xml.exists():
                result["error"] = f"pytest exited with {code}"
            elif result["passed"] + result["failed"] == 0:
                result["error"] = "no test ran"
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        result["error"] = f"could not prepare: {exc}"
    out.write_text(json.dumps(result))
    return 0 if result["error"] is None and result["failed"] == 0 else 1


def launch(row: registry.Row, mode: str) -> dict:
    """Runs one row (inside the Debian root for sid rows) and reads back its result."""
    out = RESULTS / f"{row.name}.json"
    out.unlink(missing_ok=True)
    flags = ["--mode", mode] + (["--sanitize"] if row.sanitize else []) + \
        (["--debug"] if row.debug else [])
    started = time.monotonic()
    if row.source == "pyenv":
        exe = pyenv_python(row.python)
        if exe is None:
            return {"name": row.name, "version": "-", "passed": 0, "failed": 0, "skipped": 0,
                    "error": f"no pyenv interpreter {row.python}* (install it with pyenv)"}
        run([sys.executable, __file__, "row", row.name, "--python", str(exe), *flags])
    else:
        python, binds = row.python, []
        if row.source == "built":  # built once into the cache; it runs in the Debian root
            try:
                python = built_python(row.python)
            except RuntimeError as exc:
                return {"name": row.name, "version": "-", "passed": 0, "failed": 0,
                        "skipped": 0, "error": str(exc)}
            binds = ["--bind", str(Path(python).parent.parent)]
        code = run([str(TREE / "tools" / "sid-root"), "run", *binds, str(TREE),
                    python, "/src/tools/matrix.py", "row", row.name,
                    "--python", python, *flags]).returncode
        if code != 0 and not out.exists():
            return {"name": row.name, "version": "-", "passed": 0, "failed": 0, "skipped": 0,
                    "error": f"the Debian root could not run it (exit {code})"}
    if not out.exists():
        return {"name": row.name, "version": "-", "passed": 0, "failed": 0, "skipped": 0,
                "error": "the row wrote no result"}
    result = json.loads(out.read_text())
    result["seconds"] = round(time.monotonic() - started)
    return result


def launch_packaging() -> dict:
    """The packaging row: PACKAGING_ROW's wheel built, repaired and tested from outside."""
    started = time.monotonic()
    result = {"name": PACKAGING, "version": f"{PACKAGING_ROW} wheel", "passed": 0, "failed": 0,
              "skipped": 0, "error": None}
    wheel = [sys.executable, str(TREE / "tools" / "wheel.py")]
    xml = RESULTS / f"{PACKAGING}.xml"
    xml.unlink(missing_ok=True)
    if run([*wheel, "build", "--only", PACKAGING_ROW]).returncode != 0:
        result["error"] = "tools/wheel.py build failed"
    else:
        code = run([*wheel, "test", "--only", PACKAGING_ROW, "--junitxml", str(xml)]).returncode
        if xml.exists():
            result.update(junit_counts(xml))
        if code not in (0, 1) or not xml.exists():
            result["error"] = f"pytest exited with {code}"
    result["seconds"] = round(time.monotonic() - started)
    return result


def table(results: list[dict]) -> str:
    head = ("interpreter", "version", "passed", "failed", "skipped", "note")
    rows = [(r["name"], r["version"], str(r["passed"]), str(r["failed"]), str(r["skipped"]),
             r["error"] or "") for r in results]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def main() -> int:
    all_rows = rows() if sys.argv[1:2] != ["row"] else []
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for mode in ("test", "bench"):
        p = sub.add_parser(mode, help=f"{mode} on every interpreter")
        p.add_argument("--only", action="append", metavar="NAME",
                       help="run only this row (repeatable): " +
                       ", ".join(r.name for r in all_rows) +
                       (f", {PACKAGING} (one wheel, tests/wheel/)" if mode == "test" else ""))
        if mode == "bench":
            p.add_argument("--script", action="append", metavar="NAME",
                           help="run only bench/bench_NAME.py (repeatable; default: all)")
    p = sub.add_parser("row", help="one row, in this environment")
    p.add_argument("name")
    p.add_argument("--python", required=True)
    p.add_argument("--mode", choices=("test", "bench"), default="test")
    p.add_argument("--sanitize", action="store_true")
    p.add_argument("--debug", action="store_true")
    args = ap.parse_args()
    if args.command == "row":
        return run_row(args)

    names = [r.name for r in all_rows] + ([PACKAGING] if args.command == "test" else [])
    unknown = sorted(set(args.only or []) - set(names))
    if unknown:
        ap.error(f"unknown row {', '.join(unknown)}; rows: {', '.join(names)}")
    chosen = [r for r in all_rows if not args.only or r.name in args.only]
    packaging = args.command == "test" and (not args.only or PACKAGING in args.only)
    if args.command == "bench":
        chosen = [r for r in chosen if not r.sanitize]  # a sanitized build's timings mean nothing
        if args.script:
            os.environ["FRAMESCOPE_BENCH"] = ",".join(args.script)
        if not args.script or "wheel" in args.script:  # bench_wheel measures the wheels
            import wheel

            wheel.ensure_wheels([r.name for r in chosen])
    started = time.monotonic()
    results = []
    for row in chosen:
        log(f"=== {row.name}")
        results.append(launch(row, args.command))
    if packaging:
        log(f"=== {PACKAGING} ({PACKAGING_ROW})")
        results.append(launch_packaging())
    log(f"done in {round(time.monotonic() - started)} s")
    print()
    if args.command == "test":
        print(table(results))
        print()
        total = {k: sum(r[k] for r in results) for k in ("passed", "failed", "skipped")}
        bad = [r["name"] for r in results if r["error"]]
        if bad:
            print(f"rows that did not run cleanly: {', '.join(bad)}")
        print(f"total: {total['passed']} passed, {total['failed']} failed, "
              f"{total['skipped']} skipped")
    else:
        for r in results:
            if r["error"]:
                print(f"{r['name']}: {r['error']}")
    ok = all(r["error"] is None and r["failed"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
