"""The framescope command line: `framescope COMMAND` or `python -m framescope COMMAND`."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    import argparse
    from typing import Any


def _parser() -> argparse.ArgumentParser:
    import argparse

    import framescope
    from framescope import _caps

    parser = argparse.ArgumentParser(
        prog="framescope",
        description="See and change any frame of a live CPython program.",
        epilog="Run `framescope demo` for a guided tour. Python API: import framescope.",
    )
    parser.add_argument("--version", action="version",
                        version=f"framescope {framescope.__version__} "
                                f"(CPython {sys.version.split()[0]})")
    capi = parser.add_argument_group(
        "C API", "where framescope.h is, for building extension modules against it")
    capi.add_argument("--include", action="store_true",
                      help="print the folder of framescope.h (for the compiler's -I)")
    capi.add_argument("--cmake-dir", action="store_true",
                      help="print the folder of framescope's CMake package, for "
                           "-Dframescope_DIR= (find_package(framescope CONFIG) gives the "
                           "target framescope::headers)")
    capi.add_argument("--pkgconfig-dir", action="store_true",
                      help="print the folder of framescope.pc, for PKG_CONFIG_PATH")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="a guided tour of what framescope does, on a sample program",
        description="A guided tour of what framescope does, run on a sample program in this "
                    "process. Prints each step with the code that produced it.")
    demo.add_argument("--no-color", action="store_true", help="never use colour")
    run = commands.add_parser(
        "run", help="run a script; on an uncaught exception, open the console where it was raised",
        description="Run SCRIPT as __main__ with ARGS as its sys.argv[1:]. If it ends with an "
                    "uncaught exception, print the traceback and open the framescope console "
                    "in the frame that raised it (%%up reaches its callers; Ctrl-D ends). The "
                    "exit status is Python's: 0, the SystemExit code, or 1 after an exception.")
    run.add_argument("script", metavar="SCRIPT", help="the Python file to run")
    run.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                     help="arguments for the script")
    dump = commands.add_parser(
        "dump", help="print every thread's Python stack in another running process",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print every thread's Python stack (innermost frame first) in another "
                    f"running CPython process, 3.{_caps.FIRST} to 3.{_caps.LAST}, whatever Python "
                    "runs framescope. "
                    "Nothing runs in the target: its memory is read from outside.",
        epilog="""\
By default the target's threads are stopped with ptrace while its memory is read (well under a
millisecond without --locals) and always resumed, also if framescope fails or is interrupted.
Reading another process needs ptrace rights over it: the same user (and a kernel.yama.ptrace_scope
that allows it) or CAP_SYS_PTRACE, e.g. `sudo framescope dump PID`.

examples:
  framescope dump 1234                 stacks of process 1234
  framescope dump 1234 --locals        ... with each frame's variables (their reprs)
  framescope dump 1234 --json | jq .   machine-readable:
      {"pid", "python_version", "threads": [{"thread_id", "native_id", "name",
       "frames": [{"filename", "lineno", "function", "locals": {name: repr}}]}]}

Python API: framescope.remote.dump(pid, locals=False, block=True).""")
    dump.add_argument("pid", type=int, help="the process id of a running Python program")
    dump.add_argument("--locals", action="store_true",
                      help="also show each frame's variables: exact reprs of int, float, bool, "
                           "None, str, bytes and of containers of those (long ones cut with "
                           "...); other objects as <TypeName at 0x...>")
    dump.add_argument("--json", action="store_true", help="print one JSON document")
    dump.add_argument("--no-block", action="store_true",
                      help="do not stop the target while reading it (no pause at all, but a "
                           "busy program may be caught mid-change: retried, then reported)")
    dump.add_argument("--stats", action="store_true",
                      help="also print, on stderr, how long the target was stopped and what "
                           "the read cost")
    return parser


_DUMP_FLAGS = ("--locals", "--json", "--no-block", "--stats")


def _quick_dump_args(argv: list[str]) -> _Namespace | None:
    """`dump PID [flags]` without argparse, or None for anything else (help, mistakes).

    `framescope dump` is often run against a stuck process in a hurry, and measured against
    native tools: importing argparse (with re, shutil, enum) would take longer than the whole
    read of the other process.
    """
    if len(argv) < 2 or argv[0] != "dump" or not argv[1].isdigit():
        return None
    flags = argv[2:]
    if any(f not in _DUMP_FLAGS for f in flags) or len(set(flags)) != len(flags):
        return None
    return _Namespace(command="dump", pid=int(argv[1]), locals="--locals" in flags,
                      json="--json" in flags, no_block="--no-block" in flags,
                      stats="--stats" in flags)


class _Namespace:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def _dump(args: Any) -> int:  # argparse's Namespace or the quick parser's
    from framescope import _remote

    try:
        if not 0 < args.pid < 2**31:
            raise OverflowError
        text, stats = _remote.dump_formatted(args.pid, args.locals, not args.no_block, args.json)
    except _remote.Error as error:
        print(f"framescope dump: {error.args[1]}", file=sys.stderr)
        return 1
    except OverflowError:
        print(f"framescope dump: no process with id {args.pid}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("framescope dump: interrupted", file=sys.stderr)
        return 130
    sys.stdout.flush()
    sys.stdout.buffer.write(text)  # the native command's bytes, exactly
    sys.stdout.buffer.flush()
    if args.stats:
        sys.stderr.flush()
        sys.stderr.buffer.write(stats)
    return 0


def _capi_paths(args: Any) -> list[str]:
    """The folders the C API options asked for, in the order the options are listed."""
    import os

    import framescope

    include = framescope.get_include()
    package = os.path.dirname(include)
    wanted = [(args.include, include), (args.cmake_dir, os.path.join(package, "cmake")),
              (args.pkgconfig_dir, os.path.join(package, "pkgconfig"))]
    return [path for asked, path in wanted if asked]


def main(argv: list[str] | None = None) -> int:
    quick = _quick_dump_args(sys.argv[1:] if argv is None else argv)
    if quick is not None:
        return _dump(quick)
    parser = _parser()
    args = parser.parse_args(argv)
    paths = _capi_paths(args)
    if paths:
        print("\n".join(paths))
        return 0
    if args.command == "demo":
        from framescope._demo import run_demo

        return run_demo(color=not args.no_color)
    if args.command == "run":
        from framescope._console import run_script

        return run_script(args.script, args.args)
    if args.command == "dump":
        return _dump(args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
