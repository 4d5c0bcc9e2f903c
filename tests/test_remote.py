"""framescope.remote and `framescope dump`: reading another process.

Targets are real processes (tests/remote_target.py) blocked in known frames with known
variables; each reports its own view of its threads first, and the dump must match it. The
row's own interpreter is always a target; the other pyenv interpreters found on the machine
are targets too (reading a process of another version).
"""

from __future__ import annotations

import glob
import json
import os
import random
import re
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from conftest import run_isolated
from framescope import _caps, _remote, remote

HERE = Path(__file__).resolve().parent
TARGET = str(HERE / "remote_target.py")
TREE = HERE.parent


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30).stdout.split()
        return (int(out[0]), int(out[1]))
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def _target_pythons() -> list[str]:
    """The row's interpreter, then every other supported pyenv CPython present (one per minor)."""
    found = [sys.executable]
    seen = {sys.version_info[:2]}
    for exe in sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python")):
        version = _version_of(exe)
        if version and _caps.FIRST <= version <= _caps.LAST and version not in seen:
            seen.add(version)
            found.append(exe)
    return found


class Target:
    """A remote_target.py process; `view` is what it reported about itself."""

    def __init__(self, python: str, scenario: str) -> None:
        self.proc = subprocess.Popen([python, TARGET, scenario], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line, f"the target ({python}) ended before reporting"
        self.view = json.loads(line) if scenario == "known" else line.strip()
        self.pid = self.proc.pid

    def finish(self) -> str:
        """Lets the target run to its end; returns what it printed (it prints "done")."""
        out, _ = self.proc.communicate("go\n", timeout=60)
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


@pytest.fixture
def target_factory():
    targets: list[Target] = []

    def make(python: str = sys.executable, scenario: str = "known") -> Target:
        t = Target(python, scenario)
        targets.append(t)
        return t

    yield make
    for t in targets:
        t.kill()


def assert_running(pid: int) -> None:
    state = _remote.process_state(pid)
    assert state not in ("t", "T", ""), f"target state {state!r}: left stopped (or gone)"


def compare(snapshot: remote.Snapshot, view: dict, *, with_locals: bool) -> None:
    assert snapshot.pid == view["pid"]
    assert snapshot.python_version == view["version"]  # 3.10: from sys.version
    by_id = {t.thread_id: t for t in snapshot.threads}
    assert view["reporter"] in by_id  # the one thread that was running: present, not compared
    for ident, expected in view["threads"].items():
        thread = by_id.get(int(ident))
        assert thread is not None, f"thread {ident} ({expected['name']}) missing"
        assert thread.native_id == expected["native_id"]
        got = [{"filename": f.filename, "lineno": f.lineno, "function": f.function}
               for f in thread.frames]
        assert got == expected["frames"], f"thread {expected['name']}"
        if with_locals:
            for frame, wanted in zip(thread.frames, expected["locals"]):
                if wanted is not None:
                    assert frame.locals == wanted, f"{frame.function} in {expected['name']}"
        else:
            assert all(f.locals is None for f in thread.frames)
    assert len(snapshot.threads) == len(view["threads"]) + 1


@pytest.mark.parametrize("python", _target_pythons())
def test_dump_matches_the_targets_own_view(target_factory, python):
    target = target_factory(python)
    for with_locals in (False, True):
        snap = remote.dump(target.pid, locals=with_locals)
        assert_running(target.pid)
        compare(snap, target.view, with_locals=with_locals)
        assert snap.stats["stopped_ns"] > 0 and snap.stats["attempts"] == 1
    assert target.finish().strip() == "done"  # the target still runs, to its normal end
    assert target.proc.returncode == 0


def test_dump_without_stopping(target_factory):
    target = target_factory()
    snap = remote.dump(target.pid, locals=True, block=False)
    compare(snap, target.view, with_locals=True)
    assert snap.stats["stopped_ns"] == 0
    assert target.finish().strip() == "done"


def test_reading_through_proc_pid_mem(target_factory):
    """The fallback when process_vm_readv is refused or missing gives the same dump."""
    target = target_factory()
    env = {**os.environ, "FRAMESCOPE_REMOTE_MEMORY": "proc-mem"}
    proc = subprocess.run([sys.executable, "-c", (
        "import json, sys; from framescope import remote; "
        f"s = remote.dump({target.pid}, locals=True); "
        "print(json.dumps([s.to_json(locals=True), s.stats]))")],
        capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    doc, stats = json.loads(proc.stdout)
    normal = remote.dump(target.pid, locals=True)
    assert doc == normal.to_json(locals=True)
    # One read per page: /proc/PID/mem has no batched form.
    assert stats["read_syscalls"] >= 2 * stats["pages"] > 0


def test_thread_names_come_from_the_kernel(target_factory):
    target = target_factory()
    snap = remote.dump(target.pid)
    for thread in snap.threads:
        comm = Path(f"/proc/{target.pid}/task/{thread.native_id}/comm").read_text().strip()
        assert thread.name == comm


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "framescope", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_cli_json_schema(target_factory):
    target = target_factory()
    proc = run_cli("dump", str(target.pid), "--json", "--locals")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"pid", "python_version", "threads"}
    for thread in doc["threads"]:
        assert set(thread) == {"thread_id", "native_id", "name", "frames"}
        for frame in thread["frames"]:
            assert set(frame) == {"filename", "lineno", "function", "locals"}
    snap = remote.Snapshot(doc["pid"], doc["python_version"], [
        remote.Thread(t["thread_id"], t["native_id"], t["name"],
                      [remote.Frame(f["filename"], f["lineno"], f["function"], f["locals"])
                       for f in t["frames"]])
        for t in doc["threads"]], {})
    compare(snap, target.view, with_locals=True)
    proc = run_cli("dump", str(target.pid), "--json")
    frames = [f for t in json.loads(proc.stdout)["threads"] for f in t["frames"]]
    assert frames and all(set(f) == {"filename", "lineno", "function"} for f in frames)


def test_cli_text(target_factory):
    target = target_factory()
    proc = run_cli("dump", str(target.pid), "--locals", "--stats")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Process {target.pid}: Python {target.view['version']}")
    assert "blocked_worker" in proc.stdout and "blocked_main" in proc.stdout
    assert "        answer = 42" in proc.stdout
    assert re.search(r"target stopped \d+\.\d+ ms", proc.stderr)
    proc = run_cli("dump", str(target.pid), "--no-block")
    assert proc.returncode == 0 and "answer = 42" not in proc.stdout
    assert_running(target.pid)


NATIVE = Path(sys.executable).parent / "framescope"


@pytest.mark.parametrize("flags", [[], ["--locals"], ["--json"], ["--json", "--locals"],
                                   ["--no-block"]])
def test_installed_command_prints_what_python_m_framescope_prints(target_factory, flags):
    """bin/framescope runs dumps natively; `python -m framescope dump` is the reference."""
    assert NATIVE.exists(), "installing framescope installs the framescope command"
    target = target_factory()
    native = subprocess.run([str(NATIVE), "dump", str(target.pid), *flags],
                            capture_output=True, text=True, timeout=60)
    python = run_cli("dump", str(target.pid), *flags)
    assert native.returncode == python.returncode == 0, native.stderr + python.stderr
    if "--no-block" in flags:  # threads may be between two instructions: compare the shape
        assert native.stdout.splitlines()[0] == python.stdout.splitlines()[0]
    else:
        assert native.stdout == python.stdout
    assert_running(target.pid)


def test_installed_command_hands_the_rest_to_python():
    assert NATIVE.exists()
    for args, code, where, text in (
            (["--version"], 0, "stdout", "framescope "),
            (["dump", "--help"], 0, "stdout", "--no-block"),
            (["dump", "12x"], 2, "stderr", "invalid int value"),
            (["dump", "1", "--loc"], 0, None, None),  # argparse accepts the abbreviation
            (["dump", "4000000"], 1, "stderr", "no process with id 4000000")):
        proc = subprocess.run([str(NATIVE), *args], capture_output=True, text=True, timeout=60)
        if where is None:
            continue
        assert proc.returncode == code, (args, proc.stderr)
        assert text in getattr(proc, where), (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_cli_help():
    proc = run_cli("dump", "--help")
    assert proc.returncode == 0
    for words in ("--locals", "--json", "--no-block", "CAP_SYS_PTRACE", "framescope.remote.dump"):
        assert words in proc.stdout
    assert "dump" in run_cli("--help").stdout


def assert_one_line_error(proc: subprocess.CompletedProcess[str], pattern: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr


def test_error_no_such_process():
    pid = 4_000_000  # above the kernel's pid_max limit
    assert_one_line_error(run_cli("dump", str(pid)), rf"no process with id {pid}")
    with pytest.raises(remote.NoSuchProcess):
        remote.dump(pid)
    with pytest.raises(TypeError):
        remote.dump("1")


def test_error_not_python():
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert_one_line_error(run_cli("dump", str(sleeper.pid)), r"is not a Python process")
        with pytest.raises(remote.NotAPythonProcess):
            remote.dump(sleeper.pid)
        assert_running(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_error_process_exited():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child.kill()
    time.sleep(0.2)  # a zombie: exited, not yet collected
    try:
        assert_one_line_error(run_cli("dump", str(child.pid)), r"has exited")
        with pytest.raises(remote.ProcessExited):
            remote.dump(child.pid)
    finally:
        child.wait()


def test_unsupported_version_is_refused_by_name():
    """Whatever the machine has: the decoder refuses a version it has no layout for."""
    info = {"pid": 1, "runtime": 0x10000, "binary": "python3.9", "types": {
        k: 0 for k in ("long_type bool_type float_type str_type bytes_type tuple_type list_type "
                       "dict_type set_type frozenset_type none_type code_type cell_type none "
                       "true_ false_ set_dummy").split()}}
    below, above = _caps.FIRST[1] - 1, _caps.LAST[1] + 1
    for version, name in ((0x030012F0 | below << 16, f"3.{below}.18"),
                          (0x030000A1 | above << 16, f"3.{above}.0a1")):
        with pytest.raises(_remote.Error) as error:
            _remote.decode(dict(info, version_hex=version), {}, False)
        assert error.value.args == ("unsupported", f"Python {name} is not supported "
                                    f"(3.{_caps.FIRST[1]} to 3.{_caps.LAST[1]} are)")


def test_error_unsupported_version():
    old = [p for p in sorted(glob.glob("/root/.pyenv/versions/3.*/bin/python"))
           if (_version_of(p) or _caps.FIRST) < _caps.FIRST]
    if not old:
        pytest.skip("no CPython older than the supported ones on this machine to be refused")
    proc = subprocess.Popen([old[-1], "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.3)
        version = "%d.%d" % _version_of(old[-1])
        assert_one_line_error(run_cli("dump", str(proc.pid)),
                              rf"runs Python {re.escape(version)}, which framescope does not read")
        with pytest.raises(remote.UnsupportedVersion):
            remote.dump(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def _drop_ptrace_capability() -> None:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP, CAP_SYS_PTRACE = 24, 19
    if libc.prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _python_for_nobody() -> str | None:
    """A CPython 3.10+ that another user can run (pyenv's live under /root)."""
    for exe in ["/usr/bin/python3", *sorted(glob.glob("/usr/bin/python3.1[0-9]"))]:
        if not os.path.exists(exe):
            continue
        probe = subprocess.run([exe, "-c", f"import sys; sys.exit(sys.version_info < {_caps.FIRST})"],
                               user=65534, group=65534, extra_groups=[], capture_output=True)
        if probe.returncode == 0:
            return exe
    return None


def test_error_permission_denied():
    if os.geteuid() != 0:
        pytest.skip("needs root: to run a process as another user, and drop a capability")
    python = _python_for_nobody()
    assert python, "no system CPython 3.10+ that user nobody can run"
    # A Python process of another user, read by root without CAP_SYS_PTRACE (dropped from the
    # bounding set before exec): the kernel refuses.
    other = subprocess.Popen([python, "-c", "import time; time.sleep(60)"],
                             user=65534, group=65534, extra_groups=[])
    try:
        time.sleep(0.3)
        proc = subprocess.run([sys.executable, "-m", "framescope", "dump", str(other.pid)],
                              capture_output=True, text=True, timeout=60,
                              preexec_fn=_drop_ptrace_capability)
        assert_one_line_error(proc, r"permission denied .*CAP_SYS_PTRACE")
        assert_running(other.pid)
    finally:
        other.kill()
        other.wait()


def test_a_process_already_traced_is_read_without_stopping(target_factory):
    target = target_factory()
    tracer = subprocess.Popen([sys.executable, "-c", (
        "import ctypes, sys, time\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"assert libc.ptrace(0x4206, {target.pid}, None, None) == 0, ctypes.get_errno()\n"
        "print('tracing', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)  # PTRACE_SEIZE, nothing more
    try:
        assert tracer.stdout.readline().strip() == "tracing"
        proc = run_cli("dump", str(target.pid))
        assert_one_line_error(proc, rf"is already being traced \(by process {tracer.pid}.*--no-block")
        snap = remote.dump(target.pid, block=False)
        compare(snap, target.view, with_locals=False)
    finally:
        tracer.kill()
        tracer.wait()
        tracer.stdout.close()
    assert target.finish().strip() == "done"


def test_own_process_needs_no_block():
    with pytest.raises(remote.PermissionDenied, match="--no-block"):
        remote.dump(os.getpid())
    snap = remote.dump(os.getpid(), block=False)
    import threading
    assert threading.get_ident() in {t.thread_id for t in snap.threads}
    mine = next(t for t in snap.threads if t.thread_id == threading.get_ident())
    assert mine.frames[0].function.endswith("_dump")  # the reader's own caller, innermost
    assert any(f.function.endswith("test_own_process_needs_no_block") for f in mine.frames)


def test_memory_changed_is_reported_as_such(target_factory):
    target = target_factory()
    info, pages = _remote.capture(target.pid, True)
    runtime_page = info["runtime"] & ~4095
    # _PyRuntime's interpreter list pointing into itself: a cycle, as if read mid-update.
    layout = _remote.target_layout(target.pid)
    head = info["runtime"] + layout["runtime_interpreters_head"]
    page = bytearray(pages[head & ~4095])
    interp = int.from_bytes(page[head & 4095:(head & 4095) + 8], "little")
    assert interp and runtime_page in pages
    mutated = dict(pages)
    next_field = interp + layout["interp_next"]
    p = bytearray(mutated[next_field & ~4095])
    p[next_field & 4095:(next_field & 4095) + 8] = interp.to_bytes(8, "little")
    mutated[next_field & ~4095] = bytes(p)
    with pytest.raises(_remote.Error) as info_:
        _remote.decode(info, mutated, True)
    assert info_.value.args[0] == "changed"
    with pytest.raises(remote.MemoryChanged):
        remote._raise(info_.value)
    assert _remote.decode(info, pages, True)  # the unmutated image decodes


def _patched(pages: dict, addr: int, data: bytes) -> dict:
    out = dict(pages)
    page = bytearray(out[addr & ~4095])
    page[addr & 4095:(addr & 4095) + len(data)] = data
    out[addr & ~4095] = bytes(page)
    return out


@pytest.mark.skipif(not _caps.HAS_DEBUG_OFFSETS, reason="_Py_DebugOffsets exist from 3.13 on")
def test_debug_offsets_are_validated(target_factory):
    target = target_factory()
    info, pages = _remote.capture(target.pid, False)
    runtime = info["runtime"]
    assert _remote.decode(info, pages, False)
    checks = [
        (_patched(pages, runtime, b"ydebugpy"), "changed", "cookie"),
        (_patched(pages, runtime + 8, (info["version_hex"] + 0x10000).to_bytes(8, "little")),
         "unsupported", "debug offsets are for version"),
        (_patched(pages, runtime + 16, (1).to_bytes(8, "little")), "unsupported",
         "free-threaded CPython builds are not supported"),
    ]
    for image, kind, words in checks:
        with pytest.raises(_remote.Error) as error:
            _remote.decode(info, image, False)
        assert error.value.args[0] == kind and words in error.value.args[1]


# --- signals: the target is resumed whatever happens to the reader ---------------------------

HOLD = """
import sys, time
from framescope import remote
print("reading", flush=True)
try:
    remote._dump({pid}, locals=False, block=True, hold_stopped={hold})
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("finished", flush=True)
"""


def _wait_state(pid: int, states: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _remote.process_state(pid)
        if state in states:
            return state
        time.sleep(0.005)
    return _remote.process_state(pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_target_resumed_when_the_reader_is_interrupted(target_factory, sig):
    target = target_factory()
    # The reader gets the default SIGINT disposition even where the test run inherited an
    # ignored one (a shell's background job), as a command typed in a terminal has.
    reader = subprocess.Popen([sys.executable, "-c", HOLD.format(pid=target.pid, hold=1.5)],
                              stdout=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert reader.stdout.readline().strip() == "reading"
        assert _wait_state(target.pid, "t") == "t", "the target was never stopped"
        reader.send_signal(sig)
        out, _ = reader.communicate(timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert _wait_state(target.pid, "SR") in "SR"
    if sig == signal.SIGINT:
        # Ctrl-C waits until the target is resumed, then interrupts as usual.
        assert reader.returncode == 130 and out.strip() == "interrupted"
    else:
        assert reader.returncode == -sig
    assert_running(target.pid)
    assert target.finish().strip() == "done"


# --- never trusting remote memory ------------------------------------------------------------

FUZZ = """
import random, sys, pickle
from framescope import _remote
info, pages = pickle.load(open(sys.argv[1], "rb"))
rng = random.Random(int(sys.argv[2]))
addrs = sorted(pages)
outcomes = {"ok": 0, "error": 0}

def word(rng):
    choice = rng.randrange(6)
    if choice == 0:
        return 0
    if choice == 1:
        return rng.getrandbits(64)
    if choice == 2:  # somewhere in the image
        return rng.choice(addrs) + rng.randrange(4096)
    if choice == 3:
        return rng.getrandbits(31)
    if choice == 4:
        return (1 << 63) - rng.randrange(16)
    return rng.choice(addrs) + rng.randrange(-64, 64)

for round in range(int(sys.argv[3])):
    image = dict(pages)
    for _ in range(rng.choice([1, 2, 5, 20, 100])):
        at = rng.choice(addrs)
        page = bytearray(image[at])
        off = rng.randrange(0, 4096 - 8) & ~7 if rng.random() < 0.8 else rng.randrange(4088)
        if rng.random() < 0.7:
            page[off:off + 8] = word(rng).to_bytes(8, "little")
        else:
            page[off] = rng.randrange(256)
        image[at] = bytes(page)
    if rng.random() < 0.05:  # drop pages
        for at in rng.sample(addrs, k=max(1, len(addrs) // 10)):
            image.pop(at, None)
    if rng.random() < 0.03:  # random pages
        image = {at: rng.randbytes(4096) for at in addrs}
    try:
        threads = _remote.decode(info, image, rng.random() < 0.7)
        assert isinstance(threads, list)
        outcomes["ok"] += 1
    except _remote.Error as error:
        assert error.args[0] in ("changed", "unsupported"), error.args
        outcomes["error"] += 1
print(outcomes["ok"], outcomes["error"])
"""


@pytest.mark.slow
def test_fuzz_decoder_with_mutated_images(target_factory, tmp_path):
    import pickle

    target = target_factory()
    info, pages = _remote.capture(target.pid, True)
    assert len(_remote.decode(info, pages, True)) == len(target.view["threads"]) + 1
    image = tmp_path / "image.pickle"
    image.write_bytes(pickle.dumps((info, pages)))
    script = tmp_path / "fuzz.py"
    script.write_text(FUZZ)
    rounds = 300 if os.environ.get("FRAMESCOPE_ROW", "").endswith("asan") else 1500
    for seed in (1, 2):
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script), str(image), str(seed), str(rounds)],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        ok, errors = map(int, proc.stdout.split())
        assert ok + errors == rounds
        assert ok > 0 and errors > 0  # the mutations reach both outcomes
        assert time.monotonic() - started < 300  # no hang


def test_decoder_with_random_images():
    proc = run_isolated("""
        import random
        from framescope import _remote
        rng = random.Random(7)
        info = {"pid": 1, "runtime": 0x10000, "version_hex": 0, "binary": "x", "types": {
            k: rng.choice([0, 0x10000 + 8 * rng.randrange(1000)]) for k in (
                "long_type bool_type float_type str_type bytes_type tuple_type list_type "
                "dict_type set_type frozenset_type none_type code_type cell_type none true_ "
                "false_ set_dummy").split()}}
        for minor in range(10, 16):
            info["version_hex"] = 0x03000000 | (minor << 16)
            for _ in range(200):
                pages = {0x10000 + 4096 * i: rng.randbytes(4096) for i in range(4)}
                if minor >= 13:  # a valid cookie, sometimes, to get past it
                    p = bytearray(pages[0x10000])
                    p[0:8] = b"xdebugpy"
                    p[8:16] = (0x03000000 | (minor << 16)).to_bytes(8, "little")
                    p[16:24] = bytes(8) if rng.random() < 0.8 else b"\\1" + bytes(7)
                    pages[0x10000] = bytes(p)
                try:
                    _remote.decode(info, pages, True)
                except _remote.Error as e:
                    assert e.args[0] in ("changed", "unsupported"), e.args
        print("ok")
    """, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


STRESS = """
import sys, time
from framescope import _remote, remote
pid, rounds = int(sys.argv[1]), int(sys.argv[2])
ok = changed = 0
frames = 0
for i in range(rounds):
    try:
        snap = remote.dump(pid, locals=i % 3 == 0, block=i % 10 != 9)
        ok += 1
        frames += sum(len(t.frames) for t in snap.threads)
    except remote.MemoryChanged:
        changed += 1
    state = _remote.process_state(pid)
    if state in ("t", "T"):
        # One more look: a group stop reported mid-transition would clear at once.
        time.sleep(0.01)
        state = _remote.process_state(pid)
        assert state not in ("t", "T"), f"target left stopped after dump {i}: {state}"
print(ok, changed, frames)
"""


@pytest.mark.slow
def test_stress_dump_a_churning_process_1000_times(target_factory, tmp_path):
    target = target_factory(scenario="churn")
    assert target.view == "ready"
    script = tmp_path / "stress.py"
    script.write_text(STRESS)
    proc = subprocess.run([sys.executable, str(script), str(target.pid), "1000"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ok, changed, frames = map(int, proc.stdout.split())
    assert ok + changed == 1000 and ok >= 900, (ok, changed)
    assert frames > 1000 * 2  # the churning threads were seen, with their recursion
    assert_running(target.pid)
    out, _ = target.proc.communicate("", timeout=60)  # stdin closes: the target winds down
    assert out.strip() == "done" and target.proc.returncode == 0


# --- the layout tables and the pure parts ----------------------------------------------------

def _header_args() -> list[str]:
    paths = sysconfig.get_paths()
    include = paths["include"]
    if not Path(include, "internal").is_dir():  # Debian's python3.14d: headers of python3.14
        include = include.rstrip("d")
    args = [include, paths["platinclude"]]
    if hasattr(sys, "gettotalrefcount"):
        args.append("--debug")
    return args


def test_layout_matches_headers():
    """The compiled table for this version equals what this interpreter's headers say."""
    proc = subprocess.run([sys.executable, str(TREE / "tools" / "remote_layouts.py"),
                           *_header_args()], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = json.loads(proc.stdout)
    assert facts["minor"] == sys.version_info[1]
    table = _remote.layout(sys.version_info[1])
    compared = 0
    for name, value in facts["fields"].items():
        if name == "runtime_debug_offsets":
            assert value == 0  # the debug offsets are at the start of _PyRuntime
            continue
        assert table[name] == value, name
        compared += 1
    assert compared > 40


def test_layouts_file_is_what_the_headers_give():
    """src/remote/layouts.toml is what `tools/remote_layouts.py write` makes from the headers
    found on this machine (the running interpreter's at least)."""
    proc = subprocess.run([sys.executable, str(TREE / "tools" / "remote_layouts.py"), "check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    verified = proc.stdout.split("verified ", 1)[1].split(";")[0].split(", ")
    if Path(_header_args()[0], "internal").is_dir():
        assert f"3.{sys.version_info[1]}" in verified, proc.stdout


def test_layouts_check_finds_a_wrong_number(tmp_path):
    """`check` is not vacuous: a changed number in a copy of the data file is reported."""
    data = (TREE / "src" / "remote" / "layouts.toml").read_text()
    minor = sys.version_info[1]
    section = data.index(f'["3.{minor}"]')
    line = data.index("\n", section) + 1  # the section's first field
    end = data.index("\n", line)
    name, value = data[line:end].split(" = ")
    tree = tmp_path / "tree"
    (tree / "tools").mkdir(parents=True)
    (tree / "src" / "remote").mkdir(parents=True)
    for f in ("tools/registry.py", "tools/remote_layouts.py", "versions.toml"):
        (tree / f).write_text((TREE / f).read_text())
    (tree / "src" / "remote" / "layouts.toml").write_text(
        data[:line] + f"{name} = {int(value) + 8}" + data[end:])
    proc = subprocess.run([sys.executable, str(tree / "tools" / "remote_layouts.py"), "check"],
                          capture_output=True, text=True, timeout=600)
    if f"3.{minor}" not in proc.stdout.split("verified ", 1)[-1].split(";")[0].split(", "):
        pytest.skip(f"no headers of 3.{minor} here")
    assert proc.returncode == 1
    assert f"3.{minor} {name.strip(chr(34))}: the headers say {value}" in proc.stderr


def test_debug_offsets_agree_with_the_table(target_factory):
    target = target_factory()
    effective = _remote.target_layout(target.pid)
    compiled = _remote.layout(sys.version_info[1])
    if not _caps.HAS_DEBUG_OFFSETS:
        assert effective == compiled
        return
    described = [k[len("debug."):] for k, v in compiled.items() if k.startswith("debug.") and v >= 0]
    assert len(described) > 30
    for name in described:
        assert effective[name] == compiled[name], name


def test_float_repr_is_pythons():
    rng = random.Random(3)
    import struct
    values = [0.0, -0.0, 1.0, 0.1, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 5e-324,
              1.7976931348623157e308, 123456789.125, 1 / 3, 2.5e-300, float("inf"),
              -float("inf"), float("nan"), 100.0, 1e22]
    values += [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(5000)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [float(rng.randrange(-10**17, 10**17)) for _ in range(1000)]
    for v in values:
        assert _remote.float_repr(v) == repr(v)


def test_str_and_bytes_repr_are_pythons():
    rng = random.Random(4)
    alphabet = [chr(c) for c in range(0, 128)] + list("éü☃中\u200b\xa0\xad\u2028\U0001F600"
                                                       "\ue000\ud800\x85\x9f\u3000\ufeff")
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        data = s.encode("utf-32-le", "surrogatepass")
        assert _remote.str_repr(data, False) == repr(s)
        b = rng.randbytes(rng.randrange(0, 30)) + rng.choice([b"", b"'", b'"', b"'\""])
        assert _remote.bytes_repr(b, False) == repr(b)
    assert _remote.str_repr("ab".encode("utf-32-le"), True) == "'ab'..."


def _sample_code():
    def sample(a, b):
        x = a + b
        if x > 3:
            for i in range(x):
                x += i
        else:
            x = (a
                 * b)
        try:
            y = 1 / x
        except ZeroDivisionError:
            y = None
        return [x, y,
                a]
    return sample.__code__


def test_line_tables():
    """Line numbers from the tables compile() writes, checked against code.co_lines()."""
    import types
    codes = [_sample_code(), compile(Path(TARGET).read_text(), TARGET, "exec")]
    codes += [c for c in codes[1].co_consts if isinstance(c, types.CodeType)]
    checked = 0
    for code in codes:
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                if _caps.HAS_LOCATION_TABLE:
                    got = _remote.line_from_location_table(code.co_linetable,
                                                           code.co_firstlineno, offset // 2)
                else:
                    got = _remote.line_from_310_table(code.co_linetable, code.co_firstlineno,
                                                      offset)
                assert got == (-1 if line is None else line), (code.co_name, offset)
                checked += 1
    assert checked > 500
