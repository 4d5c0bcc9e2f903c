"""Builds extension modules against framescope's installed C API, as an outside project would:
from framescope.get_include() (or the CMake package) and the compiler, nothing of framescope's
source tree. Used by test_capi.py and bench/bench_capi.py."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

import framescope
from framescope import _caps

HERE = Path(__file__).resolve().parent
SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


def capability_defines() -> list[str]:
    """-DFS_CAP_<NAME>=0|1 for each capability of the running interpreter (framescope._caps),
    for C code that compares with CPython's own functions where they exist."""
    return [f"-DFS_CAP_{name}={int(value)}" for name, value in vars(_caps).items()
            if name.isupper() and isinstance(value, bool)]


def python_flags() -> list[str]:
    flags = ["-isystem", sysconfig.get_path("include")]
    # A debug interpreter's headers need Py_DEBUG (CMakeLists.txt says why).
    if sysconfig.get_config_var("Py_DEBUG"):
        flags.append("-DPy_DEBUG")
    return flags


def compile_module(name: str, sources: list[Path], outdir: Path, *, cxx: bool = False,
                   std: str = "c99", extra: tuple[str, ...] = ()) -> Path:
    """Compiles `sources` into the extension module `name` in `outdir`; returns its path.
    Warnings are errors, and pedantic ones too: the header must be clean for its users."""
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{name}{SUFFIX}"
    cmd = ["c++" if cxx else "cc", f"-std={std}", "-O2", "-fPIC", "-shared",
           "-Wall", "-Wextra", "-Werror", "-pedantic",
           *python_flags(), "-I", framescope.get_include(), *capability_defines(), *extra,
           *map(str, sources), "-o", str(target)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"compiling {name} failed:\n{' '.join(cmd)}\n{done.stderr}")
    return target


def cmake_module(name: str, project: Path, workdir: Path) -> Path:
    """Configures and builds the CMake project `project` (which finds framescope with
    find_package(framescope CONFIG)) and returns the module it made."""
    build = workdir / "build"
    shutil.rmtree(build, ignore_errors=True)
    cmake_dir = subprocess.run([sys.executable, "-m", "framescope", "--cmake-dir"],
                               capture_output=True, text=True, check=True).stdout.strip()
    steps = [["cmake", "-S", str(project), "-B", str(build), f"-Dframescope_DIR={cmake_dir}",
              f"-DPython_EXECUTABLE={sys.executable}", f"-DOUTPUT_DIR={workdir}",
              f"-DFS_PY_DEBUG={int(bool(sysconfig.get_config_var('Py_DEBUG')))}"],
             ["cmake", "--build", str(build)]]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              env=dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL="2"))
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return workdir / f"{name}{SUFFIX}"


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
