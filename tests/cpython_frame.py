"""The child side of test_cpython_frame.py: loads CPython's own test_frame (and the
mapping_tests it uses) from a directory, with every read of a frame's `f_locals` attribute made
`framescope.locals(frame)`, and lists or runs the tests of TestFrameLocals and
FrameLocalsProxyMappingTests.

    python cpython_frame.py SOURCES list
    python cpython_frame.py SOURCES run ID...

SOURCES is a JSON list of {"label": "3.14", "dir": ".../test", "only": null | ["Class.test"]}.
An ID is "LABEL:Class.test". `list` prints one JSON object; `run` prints, for each test, a line
"START ID" before it runs and "RESULT {json}" after, flushed, so that the parent can tell which
test a crash ended.

Nothing of CPython's files is kept in the project: they are read where the interpreter (or the
Debian root) installed them, and changed in memory only by the one rewrite above.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import traceback
import unittest
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import framescope

CLASSES = ("TestFrameLocals", "FrameLocalsProxyMappingTests")
SWAPPED_NAME = "__framescope_locals__"


class SwapFLocals(ast.NodeTransformer):
    """`EXPR.f_locals` (a read) becomes `__framescope_locals__(EXPR)`, i.e. framescope.locals()
    of the same frame, at the same line and column."""

    def __init__(self) -> None:
        self.count = 0

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr != "f_locals" or not isinstance(node.ctx, ast.Load):
            return node
        self.count += 1
        call = ast.Call(func=ast.Name(id=SWAPPED_NAME, ctx=ast.Load()), args=[node.value],
                        keywords=[])
        return ast.copy_location(call, node)


# ---- stand-ins for the test helpers that an older interpreter lacks ------------------------------
# 3.14's test_frame and mapping_tests use these (the decorators at class-definition time). Each
# stand-in does what the helper does on Linux x86-64 outside WASI/Emscripten; only missing names
# are added, in this child process only.

def _keep(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
    return lambda test: test


STANDINS: dict[str, dict[str, Any]] = {
    "test.support": {
        # Runs the test in a thread with a small C stack in 3.14; here in the calling thread:
        # the older interpreters stop the recursion at their recursion limit.
        "run_with_limited_c_stack": _keep,
        "skip_wasi_stack_overflow": _keep,
        "skip_emscripten_stack_overflow": _keep,
        "exceeds_recursion_limit": lambda: 150_000,
    },
    "test.support.threading_helper": {
        "requires_working_threading": _keep,
    },
}


def _assert_has_attr(self: unittest.TestCase, obj: object, name: str, msg: Any = None) -> None:
    if not hasattr(obj, name):
        self.fail(self._formatMessage(msg, f"{obj!r} has no attribute {name!r}"))


# unittest's own assertion methods that 3.14 added (mapping_tests uses them).
TESTCASE_STANDINS: dict[str, Any] = {"assertHasAttr": _assert_has_attr}


def add_standins() -> list[str]:
    added = []
    for name, method in TESTCASE_STANDINS.items():
        if not hasattr(unittest.TestCase, name):
            setattr(unittest.TestCase, name, method)
            added.append(f"unittest.TestCase.{name}")
    for modname, helpers in STANDINS.items():
        module = importlib.import_module(modname)
        for name, helper in helpers.items():
            if not hasattr(module, name):
                setattr(module, name, helper)
                added.append(f"{modname}.{name}")
    return added


def load_module(name: str, path: Path, swap: SwapFLocals | None) -> ModuleType:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    if swap is not None:
        tree = ast.fix_missing_locations(swap.visit(tree))
    module = ModuleType(name)
    module.__file__ = str(path)
    module.__dict__[SWAPPED_NAME] = framescope.locals
    sys.modules[name] = module
    exec(compile(tree, str(path), "exec"), module.__dict__)
    return module


def load(sources: list[dict[str, Any]]) -> tuple[dict[str, tuple[type, str]], dict[str, Any]]:
    """The tests, by id, and what was done to load them."""
    import test

    info: dict[str, Any] = {"standins": add_standins(), "swapped": {}}
    tests: dict[str, tuple[type, str]] = {}
    for k, src in enumerate(sources):
        directory = Path(src["dir"])
        # test_frame does `from test import mapping_tests`: the one beside it.
        mapping = load_module("test.mapping_tests", directory / "mapping_tests.py", None)
        test.mapping_tests = mapping  # type: ignore[attr-defined]
        swap = SwapFLocals()
        module = load_module(f"_cpython_test_frame_{k}", directory / "test_frame.py", swap)
        info["swapped"][src["label"]] = swap.count
        only = src.get("only")
        loader = unittest.TestLoader()
        for cls_name in CLASSES:
            cls = getattr(module, cls_name)
            for method in loader.getTestCaseNames(cls):
                short = f"{cls_name}.{method}"
                if only is None or short in only:
                    tests[f"{src['label']}:{short}"] = (cls, method)
    return tests, info


def run_one(cls: type, method: str) -> dict[str, Any]:
    result = unittest.TestResult()
    cls(method).run(result)
    problems = [text for _, text in result.errors + result.failures]
    problems += ["unexpected success" for _ in result.unexpectedSuccesses]
    if problems:
        return {"outcome": "failed", "detail": "\n".join(problems)}
    if result.skipped:
        return {"outcome": "skipped", "detail": "; ".join(reason for _, reason in result.skipped)}
    return {"outcome": "passed", "detail": ""}


def main(argv: list[str]) -> int:
    sources = json.loads(argv[0])
    command = argv[1]
    try:
        tests, info = load(sources)
    except Exception:
        print(json.dumps({"error": traceback.format_exc()}), flush=True)
        return 1
    if command == "list":
        print(json.dumps({"tests": list(tests), **info}), flush=True)
        return 0
    for test_id in argv[2:]:
        print("START", test_id, flush=True)
        if test_id not in tests:
            outcome = {"outcome": "failed", "detail": "no such test in CPython's file"}
        else:
            outcome = run_one(*tests[test_id])
        print("RESULT", json.dumps({"id": test_id, **outcome}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
