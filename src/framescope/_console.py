"""The frame console: a Python prompt inside any frame, whose changes the program keeps.

The typed code runs with the frame's live variables (framescope.locals) as its local namespace,
so assignments go through the write-through view; names it does not find there come from the
frame's globals, then its builtins. Functions, lambdas, comprehensions and generator
expressions typed at the prompt see the same names: their globals are a dict that has none of
its own and looks them up in the frame (see _PromptGlobals).

Lines starting with % are console commands (a line of Python never starts with %).
"""

from __future__ import annotations

import code
import linecache
import os
import reprlib
import signal
import sys
import traceback
import types
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Union

import framescope
from framescope._frames import qualname

__all__ = ["breakpoint", "install_signal_handler", "interact", "pm", "post_mortem", "run_script"]

if TYPE_CHECKING:
    # What framescope.locals() gives: a function frame's view, or a namespace mapping.
    _Variables = Union[framescope.LocalsView, MutableMapping[str, Any]]


class _Leave(BaseException):
    """Raised by exit()/quit() typed at the prompt: leaves the console, not the program."""


class _Exit:
    """exit and quit at the prompt: calling either leaves the console."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() or Ctrl-D (end of input) to leave the console"

    def __call__(self, code: object = None) -> None:
        raise _Leave


class _PromptLocals(MutableMapping[str, Any]):
    """The local namespace of code typed at the prompt: the frame's variables, then (reading
    only) its globals. Writes and deletes go to the frame's variables."""

    def __init__(self, variables: _Variables, frame_globals: dict[str, Any]) -> None:
        self.variables = variables
        self.frame_globals = frame_globals
        # `del name` at the prompt: the interpreter turns any error of the deletion into
        # NameError; the real reason is kept here for the console to show.
        self.refused_delete: Exception | None = None

    def __getitem__(self, key: str) -> Any:
        try:
            return self.variables[key]
        except KeyError:
            return self.frame_globals[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.variables[key] = value

    def __delitem__(self, key: str) -> None:
        try:
            del self.variables[key]
        except ValueError as e:
            self.refused_delete = e
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self.variables)

    def __len__(self) -> int:
        return len(self.variables)


class _PromptGlobals(dict[str, Any]):
    """The globals of code typed at the prompt. It holds only a few names of its own; a lookup
    of any other name (from a nested function, lambda or comprehension typed at the prompt,
    which cannot see the local namespace) finds it in the frame's variables, then in its
    globals. `global x` assignments land here and are moved to the frame's globals after each
    command (take_assigned_globals)."""

    OWN = ("__builtins__", "__name__", "exit", "quit")

    def __init__(self, variables: _Variables, frame: types.FrameType) -> None:
        super().__init__()
        self.variables = variables
        self.frame_globals = frame.f_globals
        self["__builtins__"] = frame.f_builtins
        self["__name__"] = frame.f_globals.get("__name__", "__console__")
        self["exit"] = _Exit("exit")
        self["quit"] = _Exit("quit")

    def __missing__(self, key: str) -> Any:
        try:
            return self.variables[key]
        except KeyError:
            return self.frame_globals[key]

    def take_assigned_globals(self) -> None:
        for key in [k for k in self if k not in self.OWN]:
            self.frame_globals[key] = dict.pop(self, key)


def _stack_from(frame: types.FrameType) -> list[types.FrameType]:
    """The frames from `frame` outwards, innermost first."""
    return framescope.frames(frame)


def _stack_of_traceback(tb: types.TracebackType | None, *,
                        outward: bool = True) -> list[types.FrameType]:
    """The frames of a traceback, innermost (where it was raised) first; with `outward`, then
    the callers of its outermost frame that are still running."""
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    frames.reverse()
    if outward and frames and frames[-1].f_back is not None:
        frames.extend(_stack_from(frames[-1].f_back))
    return frames


def _lineno(frame: types.FrameType, tb_lines: dict[int, int]) -> int:
    return tb_lines.get(id(frame)) or frame.f_lineno or frame.f_code.co_firstlineno


class _Style:
    def __init__(self, stream: IO[str]) -> None:
        self.on = bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get(
            "NO_COLOR")

    def __call__(self, code: str, text: str, *, prompt: bool = False) -> str:
        if not self.on:
            return text
        start, end = f"\033[{code}m", "\033[0m"
        if prompt:  # readline must not count the escapes as columns
            start, end = f"\001{start}\002", f"\001{end}\002"
        return f"{start}{text}{end}"


class FrameConsole(code.InteractiveConsole):
    """A console over a stack of frames (innermost first), at stack[index]."""

    # Given to exec() only, which takes any mapping as locals (typeshed says dict).
    locals: MutableMapping[str, Any]  # type: ignore[assignment]
    globals: dict[str, Any]
    variables: _Variables

    def __init__(self, stack: list[types.FrameType], index: int = 0,
                 tb_lines: dict[int, int] | None = None) -> None:
        super().__init__(filename="<framescope>")
        self.stack = stack
        self.index = index
        self.tb_lines = tb_lines or {}
        self.style = _Style(sys.stdout)
        self._enter(index)

    # -- the namespace of the current frame --

    @property
    def frame(self) -> types.FrameType:
        return self.stack[self.index]

    def _enter(self, index: int) -> None:
        self.index = index
        frame = self.frame
        variables = framescope.locals(frame)
        if variables is frame.f_globals:  # a module frame: its namespace is its globals
            self.globals = variables
            self.locals = variables
        else:
            self.globals = _PromptGlobals(variables, frame)
            self.locals = _PromptLocals(variables, frame.f_globals)
        self.variables = variables

    def namespace(self) -> dict[str, Any]:
        """Every name the prompt can see (for completion)."""
        builtins = self.frame.f_builtins
        names = dict(vars(builtins) if isinstance(builtins, types.ModuleType) else builtins)
        names.update(self.frame.f_globals)
        names.update(self.variables)
        names.update({"exit": None, "quit": None})
        return names

    # -- running typed code --

    def runcode(self, code_obj: types.CodeType) -> None:
        if isinstance(self.locals, _PromptLocals):
            self.locals.refused_delete = None
        try:
            exec(code_obj, self.globals, self.locals)
        except (_Leave, SystemExit):
            raise
        except BaseException:
            self.showtraceback()
            refused = getattr(self.locals, "refused_delete", None)
            if refused is not None:
                self.write(f"(the NameError comes from del: ValueError: {refused})\n")
        finally:
            if isinstance(self.globals, _PromptGlobals):
                self.globals.take_assigned_globals()

    # -- the prompt --

    def where_text(self, frame: types.FrameType | None = None) -> str:
        frame = frame or self.frame
        name = qualname(frame.f_code)
        return f"{name}:{_lineno(frame, self.tb_lines)}"

    def prompt(self, more: bool) -> str:
        if more:
            return "... "
        return self.style("36", f"({self.where_text()})", prompt=True) + " >>> "

    def banner(self) -> str:
        frame = self.frame
        return (f"framescope console in {self.where_text()} "
                f"({frame.f_code.co_filename}). Its variables are live: what you assign here "
                "the program keeps.\n%help lists the commands; Ctrl-D or exit() leaves and the "
                "program continues.")

    def loop(self, banner: str | None = None) -> None:
        self.write((self.banner() if banner is None else banner) + "\n")
        more = False
        while True:
            try:
                try:
                    line = self.raw_input(self.prompt(more))
                except EOFError:
                    self.write("\n")
                    return
                if not more and line.lstrip().startswith("%"):
                    self.command(line.strip())
                    continue
                more = self.push(line)
            except KeyboardInterrupt:
                self.write("\nKeyboardInterrupt\n")
                self.resetbuffer()
                more = False
            except _Leave:
                return

    def write(self, data: str) -> None:
        sys.stderr.write(data)

    def say(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")

    # -- commands --

    def command(self, line: str) -> None:
        name, _, arg = line[1:].partition(" ")
        arg = arg.strip()
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            self.say(f"unknown command %{name}; %help lists the commands")
            return
        try:
            handler(arg)
        except _CommandError as e:
            self.say(str(e))

    def _count(self, arg: str, default: int = 1) -> int:
        if not arg:
            return default
        try:
            return int(arg)
        except ValueError:
            raise _CommandError(f"expected a number, got {arg!r}") from None

    def cmd_help(self, arg: str) -> None:
        self.say("""\
Python typed here runs in the current frame: its variables are read and written live.
Commands (a line starting with %):
  %where        the stack, innermost first; > marks the current frame
  %up [N]       N frames out, toward the callers (default 1)
  %down [N]     N frames in, toward where the console started (default 1)
  %frame N      the frame numbered N in %where
  %locals       the current frame's variables
  %source       the code around the current line
  %jump LINE    continue the current frame at LINE when it resumes
  %help         this text
Ctrl-D, exit() or quit() leave the console; the program continues.""")

    def cmd_where(self, arg: str) -> None:
        for i, frame in enumerate(self.stack):
            mark = ">" if i == self.index else " "
            co = frame.f_code
            name = qualname(co)
            text = (f"{mark} {i:>3}  {co.co_filename}:{_lineno(frame, self.tb_lines)}  {name}")
            self.say(self.style("1", text) if i == self.index else text)

    def _move_to(self, index: int) -> None:
        if not 0 <= index < len(self.stack):
            raise _CommandError(
                f"no frame {index}: the stack has frames 0 to {len(self.stack) - 1}")
        self._enter(index)
        self.say(f"now in {self.where_text()}")

    def cmd_up(self, arg: str) -> None:
        n = self._count(arg)
        if self.index + n >= len(self.stack):
            raise _CommandError("already at the outermost frame" if self.index ==
                                len(self.stack) - 1 else
                                f"only {len(self.stack) - 1 - self.index} frames further out")
        self._move_to(self.index + n)

    def cmd_down(self, arg: str) -> None:
        n = self._count(arg)
        if self.index - n < 0:
            raise _CommandError("already at the innermost frame" if self.index == 0 else
                                f"only {self.index} frames further in")
        self._move_to(self.index - n)

    def cmd_frame(self, arg: str) -> None:
        if not arg:
            raise _CommandError("usage: %frame N (the numbers of %where)")
        self._move_to(self._count(arg))

    def cmd_locals(self, arg: str) -> None:
        short = reprlib.Repr()
        short.maxstring = short.maxother = 70
        items = list(self.variables.items())
        if not items:
            self.say("(no variables)")
        for name, value in items:
            try:
                text = short.repr(value)
            except Exception as e:  # a broken __repr__ must not end the listing
                text = f"<repr failed: {type(e).__name__}>"
            self.say(f"  {name} = {text}")

    def cmd_source(self, arg: str) -> None:
        frame = self.frame
        filename = frame.f_code.co_filename
        current = _lineno(frame, self.tb_lines)
        linecache.checkcache(filename)
        lines = linecache.getlines(filename, frame.f_globals)
        if not lines:
            raise _CommandError(f"no source for {filename}")
        first = max(1, current - 5)
        for n in range(first, min(len(lines), current + 5) + 1):
            mark = "->" if n == current else "  "
            text = f"{n:>5} {mark} {lines[n - 1].rstrip()}"
            self.say(self.style("1", text) if n == current else text)

    def cmd_jump(self, arg: str) -> None:
        if not arg:
            raise _CommandError("usage: %jump LINE")
        line = self._count(arg)
        try:
            framescope.jump(self.frame, line)
        except (ValueError, TypeError, RuntimeError) as e:
            raise _CommandError(f"cannot jump to line {line}: {e}") from None
        self.say(f"{self.where_text()} continues at line {line} when it resumes")


class _CommandError(Exception):
    pass


# -- readline: completion and history, on a terminal only --------------------------------------

def _history_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                              ".local", "state")
    return Path(state) / "framescope" / "history"


class _Readline:
    """Completion over the console's namespace and a history file, while a console runs."""

    def __init__(self, console: FrameConsole) -> None:
        self.console = console
        self.readline: types.ModuleType | None = None
        if not sys.stdin.isatty():
            return
        try:
            import readline
            import rlcompleter
        except ImportError:
            return
        self.readline = readline
        self.completer = rlcompleter.Completer({})  # a namespace of its own, not __main__'s

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            # Completer reads the namespace it was given from this attribute (Lib/rlcompleter.py);
            # typeshed does not declare it.
            self.completer.namespace = self.console.namespace()  # type: ignore[attr-defined]
        return self.completer.complete(text, state)

    def __enter__(self) -> _Readline:
        rl = self.readline
        if rl is None:
            return self
        self.saved = (rl.get_completer(), rl.get_completer_delims())
        self.saved_history = [rl.get_history_item(i + 1)
                              for i in range(rl.get_current_history_length())]
        rl.clear_history()
        try:
            rl.read_history_file(_history_path())
        except OSError:
            pass
        rl.set_completer(self.complete)
        rl.parse_and_bind("tab: complete")
        return self

    def __exit__(self, *exc: object) -> None:
        rl = self.readline
        if rl is None:
            return
        try:
            path = _history_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            rl.set_history_length(2000)
            rl.write_history_file(path)
        except OSError:
            pass
        rl.clear_history()
        for item in self.saved_history:
            if item is not None:
                rl.add_history(item)
        rl.set_completer(self.saved[0])
        rl.set_completer_delims(self.saved[1])


def _run_console(console: FrameConsole, banner: str | None) -> None:
    with _Readline(console):
        console.loop(banner)


# -- entry points -------------------------------------------------------------------------------

def interact(frame: types.FrameType | None = None, *, banner: str | None = None) -> None:
    """Open a Python console in `frame` (default: the caller's frame).

    The console's namespace is the frame's live variables and its globals: what is assigned
    at the prompt, the frame keeps (framescope.locals' rules), and nested functions, lambdas and
    comprehensions typed there see the frame's variables. %help lists the commands that move
    along the stack and show it. Ctrl-D, exit() or quit() leave; the program continues.
    """
    if frame is None:
        frame = sys._getframe(1)
    elif not isinstance(frame, types.FrameType):
        raise TypeError(f"interact() frame must be a frame object or None, not "
                        f"{type(frame).__name__}")
    _run_console(FrameConsole(_stack_from(frame)), banner)


def breakpoint(*args: object, **kwargs: object) -> None:  # noqa: A001 - the name PYTHONBREAKPOINT looks for
    """Open the console at the caller. PYTHONBREAKPOINT=framescope.breakpoint makes the
    builtin breakpoint() call this."""
    interact(sys._getframe(1))


def post_mortem(tb: types.TracebackType | BaseException | None = None) -> None:
    """Open the console in the frame where an exception was raised, with %up reaching its
    callers. `tb` is a traceback or an exception; default: the exception being handled."""
    if isinstance(tb, BaseException):
        tb = tb.__traceback__
    if tb is None:
        tb = sys.exc_info()[2]
    if tb is None:
        raise ValueError("post_mortem() needs a traceback: none was given and no exception "
                         "is being handled")
    if not isinstance(tb, types.TracebackType):
        raise TypeError(f"post_mortem() expects a traceback or an exception, not "
                        f"{type(tb).__name__}")
    _post_mortem(_stack_of_traceback(tb), tb)


def _post_mortem(stack: list[types.FrameType], tb: types.TracebackType | None) -> None:
    lines = {}
    while tb is not None:  # the line each frame was at when the exception passed
        lines[id(tb.tb_frame)] = tb.tb_lineno
        tb = tb.tb_next
    _run_console(FrameConsole(stack, 0, lines), None)


def pm() -> None:
    """post_mortem() of the last uncaught exception (sys.last_exc, 3.12+ by gh-102778; before,
    sys.last_traceback)."""
    exc = getattr(sys, "last_exc", None)
    tb = exc.__traceback__ if exc is not None else getattr(sys, "last_traceback", None)
    if tb is None:
        raise ValueError("pm(): there is no last uncaught exception")
    post_mortem(tb)


def install_signal_handler(
    signum: int = signal.SIGUSR1,
) -> Callable[[int, types.FrameType | None], Any] | int | None:
    """Make signal `signum` open the console in the frame the main thread was running. Returns
    the previous handler. Must be called from the main thread."""

    def handler(received: int, frame: types.FrameType | None) -> None:
        if frame is None:
            return
        name = signal.Signals(received).name
        interact(frame, banner=f"framescope: {name} received; console in "
                               f"{qualname(frame.f_code)} "
                               f"at line {frame.f_lineno}. %help for commands, Ctrl-D to "
                               "resume the program.")

    return signal.signal(signum, handler)


def run_script(path: str, args: list[str]) -> int:
    """`framescope run`: run a script as __main__; on an uncaught exception print the
    traceback and open the console where it was raised. Returns the exit status."""
    import runpy

    script = os.path.abspath(path)
    if not os.path.exists(script):
        sys.stderr.write(f"framescope run: no such file: {path}\n")
        return 2
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(script)
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        return _exit_status(e.code)
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next  # the frames of runpy and of this function are not the script's
        tb = tb or e.__traceback__
        traceback.print_exception(type(e), e, tb)
        if isinstance(e, KeyboardInterrupt):
            return 130
        sys.stderr.write("framescope: uncaught exception; console in the frame that raised "
                         "it (%up for its callers, Ctrl-D to end)\n")
        _post_mortem(_stack_of_traceback(tb, outward=False), tb)
        return 1
    return 0


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1
