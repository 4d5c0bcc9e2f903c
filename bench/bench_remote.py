#!/usr/bin/env python3
"""Benchmark: `framescope dump` beside `py-spy dump` and `pystack remote`, on the same target.

The target runs on this interpreter: 8 threads, each blocked 50 calls deep (plus the main
thread). Each command is run as a whole process, as a user runs it (start-up included), in
interleaved rounds (each round runs every command once, in rotating order); the table shows
median wall times and ratios. The time the target is stopped is measured inside framescope
(from the first thread stopped to the last one resumed: `framescope.remote.dump(...).stats`).
Targets (README, "Benchmarks"):

    framescope dump PID          <= 0.5x the wall time of py-spy dump
    target stopped               <= 1 ms without --locals

Run: ./dev bench (every interpreter) or python bench/bench_remote.py (this one). py-spy and
pystack are installed from PyPI into the running environment when missing (--no-install: use
what is there).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _timing import compare, heading, parse_args, print_table, verdict

from framescope import remote

THREADS = 8
DEPTH = 50

TARGET = f"""
import sys, threading
def level(n, event):
    if n > 1:
        return level(n - 1, event)
    event.wait()
event = threading.Event()
threads = [threading.Thread(target=level, args=({DEPTH}, event)) for _ in range({THREADS})]
for t in threads:
    t.start()
print("ready", flush=True)
sys.stdin.read()
event.set()
"""


def tool(name: str, install: bool) -> str | None:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found or not install:
        return found
    package = {"py-spy": "py-spy", "pystack": "pystack"}[name]
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=False)
    return str(here) if here.exists() else shutil.which(name)


def framescope_command() -> list[str]:
    script = Path(sys.executable).parent / "framescope"
    return [str(script)] if script.exists() else [sys.executable, "-m", "framescope"]


def check(cmd: list[str]) -> str | None:
    """None if the command dumps the target correctly, else why not (one line)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or [f"exit {proc.returncode}"]
        return lines[0][:100]
    if proc.stdout.count("level") < THREADS * DEPTH:
        return f"{proc.stdout.count('level')} of {THREADS * DEPTH} frames of level() shown"
    return None


def main() -> int:
    args = parse_args(__doc__, extra=lambda ap: ap.add_argument(
        "--no-install", dest="install", action="store_false",
        help="do not pip install py-spy and pystack here when they are missing"))

    target = subprocess.Popen([sys.executable, "-c", TARGET], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().strip() == "ready"
        pid = str(target.pid)
        fs = framescope_command()
        candidates: list[tuple[str, list[str]]] = [
            ("framescope dump", fs + ["dump", pid]),
            ("framescope dump --locals", fs + ["dump", pid, "--locals"]),
            # The same through the interpreter: what a dump costs where the native command is
            # not used (the API, or `python -m framescope`).
            ("python -m framescope dump", [sys.executable, "-m", "framescope", "dump", pid]),
        ]
        spy = tool("py-spy", args.install)
        stack = tool("pystack", args.install)
        problems: dict[str, str] = {}
        for label, exe, base in (("py-spy dump", spy, ["dump", "--pid", pid]),
                                 ("pystack remote", stack, ["remote", pid])):
            for suffix in ("", " --locals"):
                name = label + suffix
                if exe is None:
                    problems[name] = "not installed"
                    continue
                candidates.append((name, [exe, *base, *suffix.split()]))
        runnable = []
        for name, cmd in candidates:
            why = check(cmd)
            if why is None:
                runnable.append((name, cmd))
            else:
                problems[name] = why
        if "framescope dump" in problems:
            print(f"framescope dump failed: {problems['framescope dump']}", file=sys.stderr)
            return 1

        def wall(cmd: list[str]):
            def timer(n: int) -> float:
                start = time.perf_counter()
                for _ in range(n):
                    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   check=False)
                return (time.perf_counter() - start) / n
            return timer

        med = {name: t * 1000 for name, t in
               compare([(name, wall(cmd)) for name, cmd in runnable], args.rounds,
                       batch=1).items()}

        stopped = {False: [], True: []}
        for r in range(args.rounds * 4):
            with_locals = bool(r % 2)
            snap = remote.dump(target.pid, locals=with_locals)
            stopped[with_locals].append(snap.stats["stopped_ns"] / 1e6)
    finally:
        target.communicate("", timeout=60)

    heading("framescope dump beside py-spy dump and pystack remote", args.row, args.rounds,
            f"target: {THREADS} threads x {DEPTH} frames (+ main thread), whole-process wall "
            "time")
    rows = []
    for name, _ in candidates:
        if name in med:
            base = med["framescope dump --locals" if "--locals" in name else "framescope dump"]
            ours = name.startswith(("framescope", "python -m framescope"))
            ratio = "-" if ours else f"{base / med[name]:.2f}x"
            rows.append([name, f"{med[name]:.1f} ms", ratio, ""])
        else:
            rows.append([name, "n/a", "", problems.get(name, "")])
    print()
    print_table("", ["command", "median", "framescope / this", "note"], rows, left=(0, 3))
    print()
    missed = []
    s0 = statistics.median(stopped[False])
    s1 = statistics.median(stopped[True])
    print(f"target stopped (inside framescope, median of {len(stopped[False])}): "
          f"{s0:.3f} ms without --locals (target <= 1 ms: {'yes' if s0 <= 1 else 'NO'}), "
          f"{s1:.3f} ms with --locals")
    if s0 > 1:
        missed.append(f"the target was stopped {s0:.3f} ms (target <= 1 ms)")
    if "py-spy dump" in med:
        ratio = med["framescope dump"] / med["py-spy dump"]
        print(f"framescope dump / py-spy dump: {ratio:.2f}x of the wall time "
              f"(target <= 0.5x: {'yes' if ratio <= 0.5 else 'NO'})")
        if ratio > 0.5:
            missed.append(f"framescope dump took {ratio:.2f}x py-spy dump's time (target <= 0.5x)")
    else:
        missed.append("py-spy is not installed: no comparison")
    verdict(missed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
