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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from framescope._demo import run_demo

        return run_demo(color=not args.no_color)
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
