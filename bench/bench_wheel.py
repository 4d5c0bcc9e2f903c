#!/usr/bin/env python3
"""Benchmark: framescope as installed from its wheel (dist/, `./dev wheel`).

For this interpreter's wheel: its size (the file, and installed), the time `import framescope`
takes from the installed wheel, and the start-up of the native `framescope dump` from the wheel
beside `py-spy dump` and `pystack remote` installed from their PyPI wheels into the same venv, on
a small target (one thread, a few frames: start-up is most of each command's time). Whole
processes, interleaved rounds, medians; `/bin/true` beside them shows what starting any program
costs (inside the Debian root, about 4 ms), and the commands' times less that are printed too.
Target (README, "Benchmarks"):

    import framescope              <= 10 ms (cumulative, -X importtime; release builds)

The dump's start-up is measured for information: on a target this small every command's time is
mostly the process start. (bench_remote.py judges the dump itself, on 8 threads x 50 frames.)

Run: ./dev wheel, then ./dev bench --script wheel (every interpreter), or python
bench/bench_wheel.py (this one). The venv is build/bench-wheel/ABI, made again when the wheel
changes. A missing wheel fails: ./dev wheel builds it.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _timing import compare, heading, parse_args, print_table, verdict

TREE = Path(__file__).resolve().parent.parent
TARGET = """
import sys
def waiting(n):
    if n:
        return waiting(n - 1)
    print("ready", flush=True)
    sys.stdin.read()
waiting(5)
"""


def abi_tag() -> str:
    return f"cp3{sys.version_info[1]}" + ("d" if hasattr(sys, "gettotalrefcount") else "")


def version() -> str:
    text = (TREE / "src" / "framescope" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    assert match
    return match.group(1)


def installed_venv(wheel: Path, row: str) -> Path:
    """A venv with the wheel, py-spy and pystack installed (once per wheel file)."""
    # One per interpreter, not per wheel: two rows may install one wheel (3.13.0 and Debian's
    # 3.13), and a venv made on the host does not work inside the Debian root.
    venv = TREE / "build" / "bench-wheel" / (row or f"{abi_tag()}-{sys.version.split()[0]}")
    stamp = venv / ".framescope-wheel"
    key = f"{wheel.name} {wheel.stat().st_size} {wheel.stat().st_mtime_ns}"
    if stamp.exists() and stamp.read_text() == key:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True)
    # Their wheels from PyPI; a failure leaves that column empty, with the reason.
    subprocess.run([*pip, "--only-binary", ":all:", "py-spy", "pystack"], check=False)
    stamp.write_text(key)
    return venv


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def import_ms(python: str, rounds: int) -> tuple[float, float]:
    """Median cumulative `import framescope` time (-X importtime) and median wall time of
    `python -c 'import framescope'` less `python -c pass`, in ms."""
    cumulative, wall = [], []
    for _ in range(rounds):
        proc = subprocess.run([python, "-X", "importtime", "-c", "import framescope"],
                              capture_output=True, text=True, check=True)
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) == 3 and parts[2] == "framescope":
                cumulative.append(int(parts[1]) / 1000)
        times = []
        for code in ("import framescope", "pass"):
            start = time.perf_counter()
            subprocess.run([python, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        wall.append((times[0] - times[1]) * 1000)
    return statistics.median(cumulative), statistics.median(wall)


def main() -> int:
    args = parse_args(__doc__)
    found = sorted((TREE / "dist").glob(f"framescope-{version()}-cp3*-{abi_tag()}-*.whl"))
    if not found:
        print(f"bench_wheel: no {abi_tag()} wheel in dist/: run ./dev wheel", file=sys.stderr)
        return 1
    wheel = found[-1]
    venv = installed_venv(wheel, args.row)
    python = str(venv / "bin" / "python")
    platlib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    installed = du(Path(platlib) / "framescope") + du(Path(platlib) / "framescope.libs") + \
        (venv / "bin" / "framescope").stat().st_size

    cumulative, wall = import_ms(python, args.rounds)

    target = subprocess.Popen([python, "-c", TARGET], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None and target.stdout.readline().strip() == "ready"
        pid = str(target.pid)
        bin_dir = venv / "bin"
        candidates = [("framescope dump (native, wheel)", [str(bin_dir / "framescope"), "dump", pid]),
                      ("py-spy dump", [str(bin_dir / "py-spy"), "dump", "--pid", pid]),
                      ("pystack remote", [str(bin_dir / "pystack"), "remote", pid]),
                      # what starting any program costs here: the floor under all three
                      ("/bin/true (process start)", ["/bin/true"])]
        problems, runnable = {}, []
        for name, cmd in candidates:
            if not Path(cmd[0]).exists():
                problems[name] = "not installed"
                continue
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if proc.returncode != 0 or ("waiting" not in proc.stdout and cmd[0] != "/bin/true"):
                problems[name] = ((proc.stderr or proc.stdout).strip().splitlines() or ["?"])[0][:80]
                continue
            runnable.append((name, cmd))
        if "framescope dump (native, wheel)" in problems:
            print(f"framescope dump failed: {problems['framescope dump (native, wheel)']}",
                  file=sys.stderr)
            return 1

        def whole(cmd: list[str]):
            def timer(n: int) -> float:
                start = time.perf_counter()
                for _ in range(n):
                    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return (time.perf_counter() - start) / n
            return timer

        med = {name: t * 1000 for name, t in
               compare([(name, whole(cmd)) for name, cmd in runnable], args.rounds,
                       batch=1).items()}
    finally:
        target.communicate("", timeout=60)

    heading("framescope from its wheel", args.row, args.rounds, wheel.name)
    print()
    print_table("", ["what", "value", "note"], [
        ["wheel file", f"{wheel.stat().st_size / 1024:.0f} KiB", ""],
        ["installed (package, libs, command)", f"{installed / 1024:.0f} KiB", ""],
        ["import framescope (-X importtime)", f"{cumulative:.2f} ms", "cumulative"],
        ["import framescope (wall, less python -c pass)", f"{wall:.2f} ms", ""],
    ], left=(0, 2))
    rows = []
    ours = med.get("framescope dump (native, wheel)")
    for name, _ in candidates:
        if name in med:
            ratio = "-" if med[name] == ours else f"{ours / med[name]:.2f}x"
            rows.append([name, f"{med[name]:.1f} ms", ratio, ""])
        else:
            rows.append([name, "n/a", "", problems.get(name, "")])
    print()
    print_table("", ["command (target: 1 thread, 7 frames)", "median", "framescope / this",
                     "note"], rows, left=(0, 3))
    floor = med.get("/bin/true (process start)")
    if floor is not None:
        print(f"\n  less the process start, framescope dump {ours - floor:.1f} ms" +
              "".join(f", {name} {med[name] - floor:.1f} ms" for name, _ in candidates[1:3]
                      if name in med))
    # The target is the release builds': a debug interpreter (3.14d) runs every import slower.
    missed = []
    if cumulative > 10 and not hasattr(sys, "gettotalrefcount"):
        missed.append(f"import framescope took {cumulative:.2f} ms (target <= 10 ms)")
    if "py-spy dump" not in med:
        missed.append(f"no py-spy dump to compare with ({problems.get('py-spy dump')})")
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
