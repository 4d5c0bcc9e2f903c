"""The framescope command line: `framescope COMMAND` or `python -m framescope COMMAND`."""

from __future__ import annotations

import argparse
import sys

import framescope


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="framescope",
        description="See and change any frame of a live CPython program.",
        epilog="Run `framescope demo` for a guided tour. Python API: import framescope.",
    )
    parser.add_argument("--version", action="version",
                        version=f"framescope {framescope.__version__} "
                                f"(CPython {sys.version.split()[0]})")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from framescope._demo import run_demo

        return run_demo(color=not args.no_color)
    if args.command == "run":
        from framescope._console import run_script

        return run_script(args.script, args.args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
