"""Installs a framescope wheel into a venv of this interpreter and uses it, as a user would.

Run by tests/wheel/test_wheel.py inside the bare root (tools/sid-root --bare): a machine with the
interpreter and nothing else. Only the standard library; prints one JSON document of what it saw
and exits 1 at the first thing that is wrong, saying what.

    python bare_check.py WHEEL
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TARGET = """
import sys, time
def waiting_for_orders(region):
    backlog = ["order-17"]
    print("ready", flush=True)
    time.sleep(120)
waiting_for_orders("eu-west")
"""

IMPORT_CHECK = """
import framescope, sys
def outer():
    x = 1
    inner()
    return x
def inner():
    framescope.setvar(framescope.getframe(1), "x", 42)
assert outer() == 42, "setvar did not reach the outer frame"
records = framescope.stack()
assert records[0].function == "<module>", records
print(framescope.__version__, framescope.__file__)
"""

report: dict[str, object] = {"python": sys.version, "executable": sys.executable,
                             "debug": hasattr(sys, "gettotalrefcount")}


def fail(what: str, proc: subprocess.CompletedProcess[str] | None = None) -> None:
    report["error"] = what
    if proc is not None:
        report["stdout"], report["stderr"] = proc.stdout[-4000:], proc.stderr[-4000:]
    print(json.dumps(report, indent=1))
    sys.exit(1)


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore


def main() -> None:
    wheel = sys.argv[1]
    # What the machine lacks: the wheel must do without.
    present = [t for t in ("cc", "gcc", "g++", "c++", "pkg-config", "cmake") if shutil.which(t)]
    libelf = [p for d in ("/usr/lib", "/lib", "/usr/local/lib")
              for p in glob.glob(f"{d}/**/libelf*.so*", recursive=True)]
    if present or libelf:
        fail(f"the root is not bare: {present + libelf}")
    report["bare"] = "no compiler, no pkg-config, no libelf"

    venv = tempfile.mkdtemp(prefix="fs-venv-")
    proc = run([sys.executable, "-m", "venv", venv])
    if proc.returncode != 0:
        fail("python -m venv failed", proc)
    vpy, fs = os.path.join(venv, "bin", "python"), os.path.join(venv, "bin", "framescope")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    proc = run([vpy, "-m", "pip", "install", "--no-index", "--no-deps", wheel], env=env)
    if proc.returncode != 0:
        fail("pip install of the wheel failed", proc)
    report["installed"] = os.path.basename(wheel)

    # Every ELF file of the installed wheel finds every library it needs; libelf is the copy
    # that came with the wheel.
    site = run([vpy, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"]).stdout.strip()
    elves = sorted(glob.glob(os.path.join(site, "framescope", "*.so"))) + [fs]
    resolved: dict[str, dict[str, str]] = {}
    for elf in elves:
        proc = run(["ldd", elf], env=env)
        libs = {}
        for line in proc.stdout.splitlines():
            name, arrow, where = line.strip().partition(" => ")
            if arrow:
                libs[name] = os.path.normpath(where.split(" (")[0])
        if proc.returncode != 0 or any(w == "not found" for w in libs.values()):
            fail(f"ldd {elf}: a library is not found", proc)
        resolved[os.path.relpath(elf, venv)] = libs
        for name, where in libs.items():
            if name.startswith("libelf") and not where.startswith(os.path.join(site, "framescope.libs")):
                fail(f"{elf} takes {name} from {where}, not from the wheel")
    if not any(n.startswith("libelf") for libs in resolved.values() for n in libs):
        fail("no installed module needs libelf: the check saw the wrong files")
    report["ldd"] = resolved

    proc = run([vpy, "-c", IMPORT_CHECK], env=env)
    if proc.returncode != 0:
        fail("import framescope failed", proc)
    report["import"] = proc.stdout.strip()

    proc = run([fs, "demo"], env=env, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        fail("framescope demo failed", proc)
    if "Its threads were stopped for" not in proc.stdout or "could not read it here" in proc.stdout:
        fail("framescope demo did not read its sample process", proc)
    report["demo"] = f"exit 0, {len(proc.stdout.splitlines())} lines"

    target = subprocess.Popen([sys.executable, "-c", TARGET], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None
        target.stdout.readline()
        started = time.monotonic()
        proc = run([fs, "dump", str(target.pid), "--locals"], env=env)
        seconds = time.monotonic() - started
    finally:
        target.kill()
        target.wait()
    if proc.returncode != 0 or "waiting_for_orders" not in proc.stdout \
            or "'eu-west'" not in proc.stdout:
        fail("framescope dump PID did not show the target's frame", proc)
    report["dump"] = f"exit 0 in {seconds * 1000:.0f} ms, {len(proc.stdout.splitlines())} lines"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
