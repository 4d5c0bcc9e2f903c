"""The frame console, driven as a person drives it: in a real pseudo-terminal (pexpect), typing
lines and reading what appears."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pexpect
import pytest

TIMEOUT = 60
PROMPT = r"\([^()\r\n]*\) >>> "


def spawn(tmp_path, source: str, *args: str, env: dict[str, str] | None = None,
          module_args: list[str] | None = None) -> pexpect.spawn:
    """Runs `source` as a script in a pseudo-terminal (or `python -m ...` with module_args)."""
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(source))
    full_env = {**os.environ, "NO_COLOR": "1", "XDG_STATE_HOME": str(tmp_path / "state"),
                "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    argv = module_args if module_args is not None else [str(script), *args]
    child = pexpect.spawn(sys.executable, argv, cwd=str(tmp_path), env=full_env,
                          encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200),
                          preexec_fn=_terminal_signals)
    child.script = script
    return child


def _terminal_signals() -> None:
    """In the child, before exec: the signal dispositions of a program started from a terminal.
    A test run started in the background inherits SIGINT ignored (a shell ignores it for its
    background jobs), and Python installs its KeyboardInterrupt handler only where SIGINT is
    not ignored at startup: Ctrl-C would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def prompt(child: pexpect.spawn, where: str | None = None) -> str:
    """Waits for the console's prompt (at `where`, e.g. "f:7", when given); returns what was
    printed before it."""
    pattern = re.escape(f"({where})") + " >>> " if where else PROMPT
    child.expect(pattern)
    return child.before


def type_line(child: pexpect.spawn, line: str, where: str | None = None) -> str:
    """Types a line and returns the output up to the next prompt (the echo removed)."""
    child.sendline(line)
    out = prompt(child, where)
    return out.replace("\r\n", "\n").split("\n", 1)[1] if "\n" in out else ""


def finish(child: pexpect.spawn) -> tuple[str, int]:
    child.expect(pexpect.EOF)
    out = child.before.replace("\r\n", "\n")
    child.close()
    return out, child.exitstatus if child.exitstatus is not None else -child.signalstatus


IN_FUNCTION = """
    import framescope

    def work():
        x = 1
        items = [1, 2]
        framescope.interact()
        print("after:", x, items, sorted(k for k in dir() if k.startswith("z")))

    work()
"""


def test_assignments_reach_the_frame(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)
    banner = prompt(child, "work:7")
    assert "framescope console in work:7" in banner
    assert type_line(child, "x").strip() == "1"
    type_line(child, "x = 41")
    type_line(child, "x += 1")
    type_line(child, "items.append(3)")
    assert type_line(child, "x, items").strip() == "(42, [1, 2, 3])"
    child.sendeof()
    out, status = finish(child)
    assert "after: 42 [1, 2, 3] []" in out and status == 0


def test_del_follows_the_view_rules(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)
    prompt(child)
    out = type_line(child, "del x")
    assert "ValueError" in out and "cannot remove local variables from FrameLocalsProxy" in out
    type_line(child, "extra = 5")
    assert type_line(child, "extra").strip() == "5"
    type_line(child, "del extra")
    assert "NameError" in type_line(child, "extra")
    child.sendline("exit()")
    out, status = finish(child)
    assert "after: 1 [1, 2] []" in out and status == 0


def test_nested_scopes_see_the_frame(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)
    prompt(child)
    assert type_line(child, "(lambda: x + 1)()").strip() == "2"
    assert type_line(child, "[x * i for i in range(3)]").strip() == "[0, 1, 2]"
    assert type_line(child, "sum(x for _ in range(4))").strip() == "4"
    assert type_line(child, "{k: x for k in 'ab'}").strip() == "{'a': 1, 'b': 1}"
    child.sendline("def twice():")
    child.expect_exact("... ")
    child.sendline("    return [x, items] * 2")
    child.expect_exact("... ")
    child.sendline("")
    prompt(child)
    assert type_line(child, "twice()").strip() == "[1, [1, 2], 1, [1, 2]]"
    assert type_line(child, "framescope.__name__").strip() == "'framescope'"  # a global
    child.sendline("quit()")
    out, status = finish(child)
    assert status == 0 and "after: 1" in out


STACK = """
    import framescope

    def inner(depth):
        here = "inner"
        framescope.interact()
        return depth

    def middle():
        local_of_middle = "middle"
        return inner(2)

    def outer():
        local_of_outer = "outer"
        result = middle()
        print("outer got", result, local_of_outer)

    outer()
"""


def test_moving_along_the_stack(tmp_path):
    child = spawn(tmp_path, STACK)
    prompt(child, "inner:6")
    where = type_line(child, "%where")
    lines = [line for line in where.splitlines() if line.strip()]
    assert lines[0].startswith(">") and "program.py:6" in lines[0] and lines[0].endswith("inner")
    assert "program.py:11" in lines[1] and lines[1].endswith("middle")
    assert "program.py:15" in lines[2] and lines[2].endswith("outer")
    assert type_line(child, "%up", "middle:11").strip() == "now in middle:11"
    assert type_line(child, "local_of_middle", "middle:11").strip() == "'middle'"
    type_line(child, "%up", "outer:15")
    type_line(child, "local_of_outer = 'changed in the console'", "outer:15")
    type_line(child, "%frame 0", "inner:6")
    type_line(child, "%up 2", "outer:15")
    type_line(child, "%down 2", "inner:6")
    assert "already at the innermost frame" in type_line(child, "%down", "inner:6")
    assert "no frame 99" in type_line(child, "%frame 99", "inner:6")
    assert "unknown command %nope" in type_line(child, "%nope", "inner:6")
    locals_text = type_line(child, "%locals", "inner:6")
    assert "depth = 2" in locals_text and "here = 'inner'" in locals_text
    source = type_line(child, "%source", "inner:6")
    assert "    6 ->     framescope.interact()" in source
    assert "    5        here = \"inner\"" in source
    help_text = type_line(child, "%help", "inner:6")
    for command in ("%where", "%up", "%down", "%frame", "%locals", "%source", "%jump", "%help"):
        assert command in help_text
    child.sendeof()
    out, status = finish(child)
    assert "outer got 2 changed in the console" in out and status == 0


def test_jump_from_the_console(tmp_path):
    child = spawn(tmp_path, """
        import framescope

        def crunch():
            total = 0
            for n in range(10**9):
                total += n
                if n == 3:
                    framescope.interact()
            print("left the loop at", n, "with", total)

        crunch()
    """)
    prompt(child, "crunch:9")
    assert "cannot jump to line 2" in type_line(child, "%jump 2", "crunch:9")  # not crunch's
    assert "usage: %jump LINE" in type_line(child, "%jump", "crunch:9")
    assert "continues at line 10" in type_line(child, "%jump 10", "crunch:9")
    child.sendeof()
    out, status = finish(child)
    assert "left the loop at 3 with 6" in out and status == 0


def test_errors_never_end_the_console(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)
    prompt(child)
    out = type_line(child, "1 / 0")
    assert "ZeroDivisionError: division by zero" in out
    assert "_console.py" not in out and "Traceback (most recent call last)" in out
    out = type_line(child, "def broken(:")
    assert "SyntaxError" in out
    out = type_line(child, "raise KeyboardInterrupt")
    assert "KeyboardInterrupt" in out
    child.sendline("for i in range(3):")
    child.expect_exact("... ")
    child.sendintr()  # Ctrl-C cancels the unfinished statement
    prompt(child)
    assert type_line(child, "x").strip() == "1"
    child.sendeof()
    out, status = finish(child)
    assert status == 0 and "after: 1" in out


def test_breakpoint_through_pythonbreakpoint(tmp_path):
    child = spawn(tmp_path, """
        def compute():
            total = 10
            breakpoint()
            return total

        print("result", compute())
    """, env={"PYTHONBREAKPOINT": "framescope.breakpoint"})
    prompt(child, "compute:4")
    type_line(child, "total = 99")
    child.sendeof()
    out, status = finish(child)
    assert "result 99" in out and status == 0


def test_framescope_breakpoint_function(tmp_path):
    child = spawn(tmp_path, """
        import framescope

        def compute():
            total = 10
            framescope.breakpoint()
            return total

        print("result", compute())
    """)
    prompt(child, "compute:6")
    type_line(child, "total *= 3")
    child.sendeof()
    out, status = finish(child)
    assert "result 30" in out and status == 0


POST_MORTEM = """
    import sys, framescope

    def divide(a, b):
        ratio = "unset"
        ratio = a / b
        return ratio

    def caller():
        numerator = 7
        return divide(numerator, 0)

    try:
        caller()
    except ZeroDivisionError as e:
        {how}
    print("done")
"""


@pytest.mark.parametrize("how", [
    "framescope.post_mortem(e.__traceback__)",
    "framescope.post_mortem()",
    "framescope.post_mortem(e)",
    "sys.last_traceback = e.__traceback__; sys.last_exc = e; framescope.pm()",
])
def test_post_mortem(tmp_path, how):
    child = spawn(tmp_path, POST_MORTEM.format(how=how))
    prompt(child, "divide:6")
    assert type_line(child, "a, b, ratio").strip() == "(7, 0, 'unset')"
    type_line(child, "%up", "caller:11")
    assert type_line(child, "numerator", "caller:11").strip() == "7"
    child.sendeof()
    out, status = finish(child)
    assert "done" in out and status == 0


SCRIPT_THAT_FAILS = """
    import sys

    def parse(text):
        value = text.strip()
        return int(value)

    def main(argv):
        count = len(argv)
        return parse(argv[1])

    print("args", sys.argv[1:])
    main(sys.argv)
"""


@pytest.mark.parametrize("launcher", ["entry point", "python -m"])
def test_run_opens_post_mortem(tmp_path, launcher):
    script = tmp_path / "program.py"
    if launcher == "python -m":
        child = spawn(tmp_path, SCRIPT_THAT_FAILS,
                      module_args=["-m", "framescope", "run", str(script), "not-a-number"])
    else:
        script.write_text(textwrap.dedent(SCRIPT_THAT_FAILS))
        exe = os.path.join(os.path.dirname(sys.executable), "framescope")
        child = pexpect.spawn(exe, ["run", str(script), "not-a-number"], cwd=str(tmp_path),
                              env={**os.environ, "NO_COLOR": "1"}, encoding="utf-8",
                              timeout=TIMEOUT)
    before = prompt(child, "parse:6")
    assert "args ['not-a-number']" in before
    assert "ValueError: invalid literal for int()" in before
    assert "runpy" not in before and "_console.py" not in before
    assert type_line(child, "value", "parse:6").strip() == "'not-a-number'"
    type_line(child, "%up", "main:10")
    assert type_line(child, "count", "main:10").strip() == "2"
    child.sendeof()
    out, status = finish(child)
    assert status == 1


def test_run_exit_status_and_arguments(tmp_path):
    script = tmp_path / "ok.py"
    script.write_text("import sys\nprint('argv', sys.argv)\nsys.exit(int(sys.argv[1]))\n")
    for code in ("0", "3"):
        proc = subprocess.run([sys.executable, "-m", "framescope", "run", str(script), code,
                               "--flag"], capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == int(code), proc.stderr
        assert f"argv ['{script}', '{code}', '--flag']" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "framescope", "run", str(tmp_path / "nope.py")],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "framescope", "run", "--help"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0 and "uncaught exception" in proc.stdout


def test_signal_opens_the_console_in_the_running_frame(tmp_path):
    child = spawn(tmp_path, """
        import os, time, framescope

        def serve():
            keep_going = True
            rounds = 0
            print("ready", os.getpid(), flush=True)
            while keep_going:
                rounds += 1
                if rounds == 1:
                    print("looping", flush=True)
                time.sleep(0.01)
            print("stopped after the console set keep_going", rounds > 0)

        framescope.install_signal_handler()
        serve()
    """)
    child.expect(r"ready (\d+)")
    pid = int(child.match.group(1))
    child.expect_exact("looping")  # the signal arrives inside the loop, not before it
    os.kill(pid, signal.SIGUSR1)
    banner = prompt(child)
    assert "SIGUSR1 received" in banner
    assert re.fullmatch(r"\(serve:1[0-3]\) >>> ", child.after), child.after
    type_line(child, "keep_going = False")
    child.sendeof()
    out, status = finish(child)
    assert "stopped after the console set keep_going True" in out and status == 0


def test_without_a_terminal(tmp_path):
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(IN_FUNCTION))
    proc = subprocess.run([sys.executable, str(script)], input="x = 5\nx * 2\n%where\n",
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert "10" in proc.stdout and "after: 5" in proc.stdout
    assert ">   0  " in proc.stdout and "\033[" not in proc.stdout


def test_nested_consoles(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)
    prompt(child, "work:7")
    child.sendline("framescope.interact()")
    prompt(child, "<module>:1")
    type_line(child, "x = 7", "<module>:1")
    assert type_line(child, "[x for _ in range(2)]", "<module>:1").strip() == "[7, 7]"
    child.sendeof()
    prompt(child, "work:7")
    assert type_line(child, "x", "work:7").strip() == "7"
    child.sendeof()
    out, status = finish(child)
    assert "after: 7" in out and status == 0


def test_colour_completion_and_history(tmp_path):
    child = spawn(tmp_path, """
        import framescope

        def work():
            a_rather_unique_name = 5
            framescope.interact()

        work()
    """, env={"NO_COLOR": ""})
    child.expect("\033\\[36m\\(work:6\\)\033\\[0m >>> ")
    time.sleep(0.5)  # let readline take the terminal before typing ahead of it
    child.send("a_rather_uni\t")
    child.expect_exact("a_rather_unique_name")
    child.sendline("")
    child.expect("\n5\r?\n")
    child.expect("\033\\[36m\\(work:6\\)\033\\[0m >>> ")
    time.sleep(0.5)  # a Ctrl-D typed before readline takes the terminal can be lost
    child.sendeof()
    finish(child)
    history = tmp_path / "state" / "framescope" / "history"
    assert "a_rather_unique_name" in history.read_text()


def test_no_colour_when_no_color_is_set(tmp_path):
    child = spawn(tmp_path, IN_FUNCTION)  # NO_COLOR=1
    before = prompt(child, "work:7")
    assert "\033[" not in before + child.after
    child.sendeof()
    finish(child)


def test_the_seed_scenario(tmp_path):
    """A program has sat in a plain code.interact(), started without local=locals(), for hours;
    the variable that matters is six frames up. framescope reaches it, changes it, and the
    program continues with the new value when the person leaves both consoles."""
    child = spawn(tmp_path, """
        import code

        def handle(request):
            retries_left = 3
            deliver(request)
            print("handle sees retries_left =", retries_left)

        def deliver(request):
            code.interact(banner="plain console, no locals", exitmsg="plain console done")

        handle("req-1")
    """)
    child.expect_exact("plain console, no locals")
    child.expect_exact(">>> ")
    child.sendline("import framescope")
    child.expect_exact(">>> ")
    child.sendline("retries_left")
    child.expect("NameError")  # the plain console cannot see it
    child.expect_exact(">>> ")
    child.sendline("framescope.interact(framescope.getframe(6))")
    prompt(child, "deliver:10")
    type_line(child, "%up", "handle:6")
    assert type_line(child, "retries_left", "handle:6").strip() == "3"
    type_line(child, "retries_left = 0", "handle:6")
    child.sendeof()  # leaves framescope's console
    child.expect_exact(">>> ")
    child.sendeof()  # leaves the plain console
    out, status = finish(child)
    assert "handle sees retries_left = 0" in out and status == 0


def test_interact_rejects_non_frames():
    import framescope

    with pytest.raises(TypeError, match="frame object or None"):
        framescope.interact(3)
    with pytest.raises(ValueError, match="needs a traceback"):
        framescope.post_mortem()
