#!/usr/bin/env python3
"""The remote reader's struct layouts: facts read from each CPython version's own headers.

    tools/remote_layouts.py INCLUDE_DIR [PYCONFIG_DIR] [--debug]
        print (JSON) the offsets that one interpreter's headers give
    tools/remote_layouts.py write
        rewrite src/remote/layouts.toml from every supported version's headers found here
    tools/remote_layouts.py check
        exit 1 (with the differences) unless src/remote/layouts.toml is what `write` would write
    tools/remote_layouts.py cxx DATA OUT
        turn DATA (src/remote/layouts.toml) into OUT (fs_layouts.h, CMake runs this at build time)

The remote reader must not include CPython's headers (it reads any version, whatever Python
runs it), so the offsets it needs are facts kept in src/remote/layouts.toml. This script is where
they come from: it compiles a small C program against one interpreter's headers (internal ones
too, with Py_BUILD_CORE) and prints each field's offset. In the data file each version lists only
what differs from the version before it (-1: a field that version no longer has).

Headers are looked for under pyenv's versions (3.N.P/include/python3.N), in the Debian root of
tools/sid-root and in /usr/include; every set found for a version must give the same numbers.
A version whose headers are nowhere on this machine keeps its committed numbers (`write`) and is
reported as not verified (`check`). tests/test_remote.py runs `check`, and compares the table
compiled into the reader with the running interpreter's headers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import registry  # noqa: E402  (tools/registry.py: versions.toml)

TREE = Path(__file__).resolve().parent.parent
DATA = TREE / "src" / "remote" / "layouts.toml"

# name -> (first minor version, last minor version, C expression). One name, one meaning on
# every version; the expression is what that meaning is in that version's structs.
FIELDS: list[tuple[str, int, int, str]] = [
    ("runtime_interpreters_head", 10, 99, "offsetof(_PyRuntimeState, interpreters.head)"),
    ("interp_next", 10, 99, "offsetof(PyInterpreterState, next)"),
    ("interp_threads_head", 10, 10, "offsetof(PyInterpreterState, tstate_head)"),
    ("interp_threads_head", 11, 99, "offsetof(PyInterpreterState, threads.head)"),
    ("interp_sysdict", 10, 10, "offsetof(PyInterpreterState, sysdict)"),
    ("tstate_next", 10, 99, "offsetof(PyThreadState, next)"),
    ("tstate_interp", 10, 99, "offsetof(PyThreadState, interp)"),
    ("tstate_frame", 10, 10, "offsetof(PyThreadState, frame)"),
    ("tstate_frame", 11, 12, "offsetof(PyThreadState, cframe)"),
    ("tstate_frame", 13, 99, "offsetof(PyThreadState, current_frame)"),
    ("cframe_current_frame", 11, 12, "offsetof(_PyCFrame, current_frame)"),
    ("tstate_thread_id", 10, 99, "offsetof(PyThreadState, thread_id)"),
    ("tstate_native_thread_id", 11, 99, "offsetof(PyThreadState, native_thread_id)"),
    ("frame_previous", 10, 10, "offsetof(PyFrameObject, f_back)"),
    ("frame_previous", 11, 99, "offsetof(_PyInterpreterFrame, previous)"),
    ("frame_code", 10, 12, "FS_FRAME_CODE"),
    ("frame_code", 13, 99, "offsetof(_PyInterpreterFrame, f_executable)"),
    ("frame_instr", 10, 10, "offsetof(PyFrameObject, f_lasti)"),
    ("frame_instr", 11, 12, "offsetof(_PyInterpreterFrame, prev_instr)"),
    ("frame_instr", 13, 99, "offsetof(_PyInterpreterFrame, instr_ptr)"),
    ("frame_localsplus", 10, 10, "offsetof(PyFrameObject, f_localsplus)"),
    ("frame_localsplus", 11, 99, "offsetof(_PyInterpreterFrame, localsplus)"),
    ("frame_owner", 11, 99, "offsetof(_PyInterpreterFrame, owner)"),
    ("owner_generator", 11, 99, "FRAME_OWNED_BY_GENERATOR"),
    # The first owner value of frames that are not Python calls (C stack shims, 3.12-3.13;
    # the interpreter's own entry frames, 3.14+): such frames and all above are never shown.
    ("owner_internal", 12, 13, "FRAME_OWNED_BY_CSTACK"),
    ("owner_internal", 14, 99, "FRAME_OWNED_BY_INTERPRETER"),
    ("code_filename", 10, 99, "offsetof(PyCodeObject, co_filename)"),
    ("code_name", 10, 99, "offsetof(PyCodeObject, co_name)"),
    ("code_qualname", 11, 99, "offsetof(PyCodeObject, co_qualname)"),
    ("code_firstlineno", 10, 99, "offsetof(PyCodeObject, co_firstlineno)"),
    ("code_flags", 10, 99, "offsetof(PyCodeObject, co_flags)"),
    ("code_linetable", 10, 99, "offsetof(PyCodeObject, co_linetable)"),
    ("code_adaptive", 11, 99, "offsetof(PyCodeObject, co_code_adaptive)"),
    ("code_firsttraceable", 11, 99, "offsetof(PyCodeObject, _co_firsttraceable)"),
    ("code_localsplusnames", 11, 99, "offsetof(PyCodeObject, co_localsplusnames)"),
    ("code_localspluskinds", 11, 99, "offsetof(PyCodeObject, co_localspluskinds)"),
    ("code_varnames", 10, 10, "offsetof(PyCodeObject, co_varnames)"),
    ("code_cellvars", 10, 10, "offsetof(PyCodeObject, co_cellvars)"),
    ("code_freevars", 10, 10, "offsetof(PyCodeObject, co_freevars)"),
    ("code_nlocals", 10, 10, "offsetof(PyCodeObject, co_nlocals)"),
    ("co_optimized", 10, 99, "CO_OPTIMIZED"),
    ("kind_local", 11, 99, "CO_FAST_LOCAL"),
    ("kind_cell", 11, 99, "CO_FAST_CELL"),
    ("kind_free", 11, 99, "CO_FAST_FREE"),
    ("kind_hidden", 12, 99, "CO_FAST_HIDDEN"),
    ("object_type", 10, 99, "offsetof(PyObject, ob_type)"),
    ("var_size", 10, 99, "offsetof(PyVarObject, ob_size)"),
    ("type_name", 10, 99, "offsetof(PyTypeObject, tp_name)"),
    ("tuple_items", 10, 99, "offsetof(PyTupleObject, ob_item)"),
    ("list_items", 10, 99, "offsetof(PyListObject, ob_item)"),
    ("float_value", 10, 99, "offsetof(PyFloatObject, ob_fval)"),
    ("long_digits", 10, 11, "offsetof(PyLongObject, ob_digit)"),
    ("long_digits", 12, 99, "offsetof(PyLongObject, long_value.ob_digit)"),
    ("long_tag", 12, 99, "offsetof(PyLongObject, long_value.lv_tag)"),
    ("bytes_data", 10, 99, "offsetof(PyBytesObject, ob_sval)"),
    ("str_length", 10, 99, "offsetof(PyASCIIObject, length)"),
    ("str_state", 10, 99, "offsetof(PyASCIIObject, state)"),
    ("str_ascii_size", 10, 99, "sizeof(PyASCIIObject)"),
    ("str_compact_size", 10, 99, "sizeof(PyCompactUnicodeObject)"),
    ("str_kind_mask", 10, 99, "FS_STATE_BITS(kind, 7)"),
    ("str_compact_mask", 10, 99, "FS_STATE_BITS(compact, 1)"),
    ("str_ascii_mask", 10, 99, "FS_STATE_BITS(ascii, 1)"),
    ("dict_used", 10, 99, "offsetof(PyDictObject, ma_used)"),
    ("dict_keys", 10, 99, "offsetof(PyDictObject, ma_keys)"),
    ("dict_values", 10, 99, "offsetof(PyDictObject, ma_values)"),
    ("keys_log2_size", 11, 99, "offsetof(PyDictKeysObject, dk_log2_size)"),
    ("keys_log2_index_bytes", 11, 99, "offsetof(PyDictKeysObject, dk_log2_index_bytes)"),
    ("keys_kind", 11, 99, "offsetof(PyDictKeysObject, dk_kind)"),
    ("keys_nentries", 11, 99, "offsetof(PyDictKeysObject, dk_nentries)"),
    ("keys_indices", 11, 99, "offsetof(PyDictKeysObject, dk_indices)"),
    # 3.10's dict keys object is declared in Objects/dict-common.h, which is not installed:
    # FS_DICTKEYS_310 below states that struct's fields.
    ("keys_size", 10, 10, "offsetof(struct fs_dictkeys_310, dk_size)"),
    ("keys_nentries", 10, 10, "offsetof(struct fs_dictkeys_310, dk_nentries)"),
    ("keys_indices", 10, 10, "offsetof(struct fs_dictkeys_310, dk_indices)"),
    ("values_items", 10, 10, "0"),  # 3.10: ma_values points at the values themselves
    ("values_items", 11, 99, "offsetof(PyDictValues, values)"),
    ("set_used", 10, 99, "offsetof(PySetObject, used)"),
    ("set_mask", 10, 99, "offsetof(PySetObject, mask)"),
    ("set_table", 10, 99, "offsetof(PySetObject, table)"),
    ("cell_ref", 10, 99, "offsetof(PyCellObject, ob_ref)"),
    ("runtime_debug_offsets", 13, 99, "offsetof(_PyRuntimeState, debug_offsets)"),
]

# Positions inside _Py_DebugOffsets (3.13+) of the values the reader takes from the target.
DEBUG_FIELDS = [
    ("runtime_interpreters_head", "runtime_state.interpreters_head"),
    ("interp_next", "interpreter_state.next"),
    ("interp_threads_head", "interpreter_state.threads_head"),
    ("tstate_next", "thread_state.next"),
    ("tstate_interp", "thread_state.interp"),
    ("tstate_frame", "thread_state.current_frame"),
    ("tstate_thread_id", "thread_state.thread_id"),
    ("tstate_native_thread_id", "thread_state.native_thread_id"),
    ("frame_previous", "interpreter_frame.previous"),
    ("frame_code", "interpreter_frame.executable"),
    ("frame_instr", "interpreter_frame.instr_ptr"),
    ("frame_localsplus", "interpreter_frame.localsplus"),
    ("frame_owner", "interpreter_frame.owner"),
    ("code_filename", "code_object.filename"),
    ("code_name", "code_object.name"),
    ("code_qualname", "code_object.qualname"),
    ("code_linetable", "code_object.linetable"),
    ("code_firstlineno", "code_object.firstlineno"),
    ("code_localsplusnames", "code_object.localsplusnames"),
    ("code_localspluskinds", "code_object.localspluskinds"),
    ("code_adaptive", "code_object.co_code_adaptive"),
    ("object_type", "pyobject.ob_type"),
    ("type_name", "type_object.tp_name"),
    ("tuple_items", "tuple_object.ob_item"),
    ("list_items", "list_object.ob_item"),
    ("dict_keys", "dict_object.ma_keys"),
    ("dict_values", "dict_object.ma_values"),
    ("float_value", "float_object.ob_fval"),
    ("long_tag", "long_object.lv_tag"),
    ("long_digits", "long_object.ob_digit"),
    ("bytes_data", "bytes_object.ob_sval"),
    ("str_state", "unicode_object.state"),
    ("str_length", "unicode_object.length"),
    ("str_ascii_size", "unicode_object.asciiobject_size"),
]

PROLOGUE = r"""
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_code.h"
#if __has_include("internal/pycore_dict.h")
#  include "internal/pycore_dict.h"
#endif
#if __has_include("internal/pycore_frame.h")
#  include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX < 0x030B0000
#  include "frameobject.h"
#  define FS_FRAME_CODE offsetof(PyFrameObject, f_code)
/* 3.10's struct _dictkeysobject (Objects/dict-common.h, not installed). */
struct fs_dictkeys_310 {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};
#else
#  define FS_FRAME_CODE offsetof(_PyInterpreterFrame, f_code)
#endif
#if __has_include("internal/pycore_debug_offsets.h")
#  include "internal/pycore_debug_offsets.h"
#endif
/* The bits of PyASCIIObject.state that a bit-field occupies, as an integer mask. */
#define FS_STATE_BITS(field, all) ({ PyASCIIObject o; memset(&o, 0, sizeof o); \
    o.state.field = all; unsigned int m; memcpy(&m, &o.state, sizeof m); m; })
int main(void) {
"""


# Facts that the script prints but the data file does not keep: checked where they are printed
# (the debug offsets are at the start of _PyRuntime: tests/test_remote.py).
NOT_STORED = {"runtime_debug_offsets"}


class LayoutError(Exception):
    pass


def collect(include: str, pyconfig: str | None, debug: bool) -> dict:
    """The offsets that one interpreter's headers give: {"minor", "version", "debug", "fields"}."""
    with tempfile.TemporaryDirectory() as tmp:
        inc = ["-I", include, "-I", os.path.join(include, "internal")]
        if pyconfig:
            # Debian's include/python3.N/pyconfig.h only includes <TRIPLET/python3.N/pyconfig.h>:
            # a directory that holds just that path lets it be found without the rest of that
            # system's /usr/include (another libc's headers).
            shim = Path(tmp, "shim", *Path(pyconfig).parts[-2:])
            shim.parent.mkdir(parents=True)
            shim.symlink_to(os.path.abspath(pyconfig))
            inc = ["-I", pyconfig, *inc, "-I", os.path.join(tmp, "shim")]
        probe = subprocess.run(
            ["gcc", "-E", "-dM", *inc, "-x", "c", "-"], input="#include <patchlevel.h>\n",
            capture_output=True, text=True, check=True)
        minor = int(re.search(r"#define PY_MINOR_VERSION (\d+)", probe.stdout).group(1))
        version = re.search(r'#define PY_VERSION "([^"]+)"', probe.stdout).group(1)
        lines = []
        for name, lo, hi, expr in FIELDS:
            if lo <= minor <= hi:
                lines.append(f'    printf("%s %ld\\n", "{name}", (long)({expr}));')
        if registry.load().has(registry.DEBUG_OFFSETS, minor):
            for name, path in DEBUG_FIELDS:
                lines.append(f'    printf("%s %ld\\n", "debug.{name}", '
                             f'(long)offsetof(_Py_DebugOffsets, {path}));')
        src = PROLOGUE + "\n".join(lines) + "\n    return 0;\n}\n"
        c, exe = os.path.join(tmp, "o.c"), os.path.join(tmp, "o")
        with open(c, "w") as f:
            f.write(src)
        flags = ["-DPy_DEBUG"] if debug else []
        subprocess.run(["gcc", "-std=gnu11", "-w", *flags, *inc, c, "-o", exe], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return {"minor": minor, "version": version, "debug": debug,
            "fields": {k: int(v) for k, v in (ln.split() for ln in out.splitlines())}}


# ---- the data file ------------------------------------------------------------------------------

def field_names() -> list[str]:
    """Every name the data file may hold, in the order it lists them."""
    names = list(dict.fromkeys(name for name, *_ in FIELDS if name not in NOT_STORED))
    return names + [f"debug.{name}" for name, _ in DEBUG_FIELDS]


def header_sets(minor: int) -> list[tuple[str, str | None]]:
    """Every (INCLUDE_DIR, PYCONFIG_DIR) of CPython 3.minor on this machine."""
    found: list[tuple[str, str | None]] = []
    versions = registry.pyenv_versions()
    for d in sorted(versions.glob(f"3.{minor}.*")) if versions.is_dir() else []:
        include = d / "include" / f"python3.{minor}"
        if re.fullmatch(rf"3\.{minor}\.\d+", d.name) and (include / "internal").is_dir():
            found.append((str(include), None))
    cache = Path(os.environ.get("FRAMESCOPE_CACHE")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "framescope")
    for usr in (cache / "sid" / "usr", Path("/usr")):
        include = usr / "include" / f"python3.{minor}"
        pyconfig = usr / "include" / "x86_64-linux-gnu" / f"python3.{minor}"
        if (include / "internal").is_dir() and (pyconfig / "pyconfig.h").is_file():
            found.append((str(include), str(pyconfig)))
    return found


def headers_facts(minor: int) -> tuple[dict[str, int], list[str]] | None:
    """The full layout of 3.minor from every header set found, and their versions; None when
    there is none. Header sets that disagree are an error."""
    full, versions = None, []
    for include, pyconfig in header_sets(minor):
        facts = collect(include, pyconfig, False)
        if facts["minor"] != minor:
            raise LayoutError(f"{include}: the headers of 3.{facts['minor']}, not 3.{minor}")
        layout = {name: facts["fields"].get(name, -1) for name in field_names()}
        if full is not None and layout != full:
            diff = [n for n in full if full[n] != layout[n]]
            raise LayoutError(f"the headers of {versions[0]} and {facts['version']} disagree "
                              f"on {', '.join(diff)}")
        full = layout
        versions.append(facts["version"])
    return None if full is None else (full, versions)


def load_data(path: Path = DATA) -> dict[int, dict[str, int]]:
    """The data file as full layouts (each version's deltas applied to its predecessor's)."""
    data = registry._toml(path)
    names = field_names()
    full: dict[int, dict[str, int]] = {}
    previous = {name: -1 for name in names}
    for key in sorted(data, key=lambda k: registry._minor(k, path.name)):
        minor = registry._minor(key, path.name)
        unknown = set(data[key]) - set(names)
        if unknown:
            raise LayoutError(f"{path.name}: 3.{minor} has unknown fields {sorted(unknown)}")
        if full and minor != max(full) + 1:
            raise LayoutError(f"{path.name}: the versions must be consecutive")
        previous = {**previous, **data[key]}
        full[minor] = previous
    return full


def render(full: dict[int, dict[str, int]], sources: dict[int, str]) -> str:
    """The data file's text: per version, what differs from the version before it."""
    out = [
        "# src/remote/layouts.toml: where the remote reader finds things in each CPython version's",
        "# structs (x86-64 Linux, GIL builds): byte offsets, flag values and bit masks. Facts from",
        "# each version's own headers, written by `tools/remote_layouts.py write`; do not edit by",
        "# hand (`tools/remote_layouts.py check`, run by the tests, compares it with the headers).",
        "# Each version lists only what differs from the version before it; -1: a field that",
        "# version does not have. The build turns this file into the reader's tables",
        "# (`tools/remote_layouts.py cxx`); layouts.hpp says what each name means.",
    ]
    previous = {name: -1 for name in field_names()}
    for minor in sorted(full):
        out += ["", f'["3.{minor}"]  # {sources[minor]}']
        for name in field_names():
            if full[minor][name] != previous[name]:
                key = f'"{name}"' if "." in name else name
                out.append(f"{key} = {full[minor][name]}")
        previous = full[minor]
    return "\n".join(out) + "\n"


def generate() -> tuple[dict[int, dict[str, int]], dict[int, str], list[int]]:
    """Full layouts for every supported version from the headers found (the committed numbers
    where none are), what each came from, and the versions whose headers were not found."""
    reg = registry.load()
    committed = load_data() if DATA.exists() else {}
    # What the committed file says a version's numbers came from, kept with them.
    said = {int(m): text for m, text in
            re.findall(r'^\["3\.(\d+)"\]  # (.*)$', DATA.read_text() if DATA.exists() else "",
                       re.MULTILINE)}
    full, sources, missing = {}, {}, []
    for v in reg.versions:
        found = headers_facts(v.minor)
        if found is not None:
            full[v.minor] = found[0]
            sources[v.minor] = "from the headers of " + ", ".join(found[1])
        elif v.minor in committed:
            full[v.minor] = committed[v.minor]
            sources[v.minor] = said.get(v.minor, "kept: no headers of this version were found")
            missing.append(v.minor)
        else:
            raise LayoutError(f"3.{v.minor}: no headers found, and no committed layout")
    return full, sources, missing


def check() -> int:
    full, _, missing = generate()
    committed = load_data()
    problems = []
    for minor in sorted(set(full) | set(committed)):
        if minor not in committed or minor not in full:
            problems.append(f"3.{minor}: {'not in the data file' if minor in full else 'not supported'}")
            continue
        for name in field_names():
            if full[minor][name] != committed[minor][name]:
                problems.append(f"3.{minor} {name}: the headers say {full[minor][name]}, "
                                f"the data file {committed[minor][name]}")
    for line in problems:
        print(line, file=sys.stderr)
    verified = [f"3.{m}" for m in sorted(full) if m not in missing]
    print(f"layouts.toml: verified {', '.join(verified) or 'nothing'}"
          + (f"; no headers here for {', '.join(f'3.{m}' for m in missing)}" if missing else ""))
    return 1 if problems else 0


# ---- the C++ table ------------------------------------------------------------------------------

def cxx(data: Path) -> str:
    """fs_layouts.h: one function per version that applies that version's changes to the
    layout of the version before it, and the table of them."""
    reg = registry.load()
    text = registry._toml(data)
    deltas = {registry._minor(k, data.name): v for k, v in text.items()}
    load_data(data)  # validates names and order
    minors = sorted(deltas)
    if minors != [v.minor for v in reg.versions]:
        raise LayoutError(f"{data.name} has layouts for "
                          f"{', '.join(f'3.{m}' for m in minors)}; versions.toml supports "
                          f"3.{reg.first} to 3.{reg.last}")
    out = [
        f"/* fs_layouts.h: generated from {data.name} by tools/remote_layouts.py. Do not edit. */",
        "/* Included by src/remote/layouts.cpp, inside namespace fs::remote. */",
        "#pragma once",
        "",
        "namespace generated {",
    ]
    for minor in minors:
        out += ["", f"// 3.{minor}: what differs from 3.{minor - 1}" if minor != minors[0]
                else f"// 3.{minor}: every field it has",
                f"inline void layout_changes_3_{minor}(Layout&{' l' if deltas[minor] else ''}) {{"]
        for name, value in deltas[minor].items():
            out.append(f"    l.{name} = {int(value)};")
        out.append("}")
    out += [
        "",
        f"inline constexpr int kFirstMinor = {minors[0]};",
        "inline constexpr void (*kLayoutChanges[])(Layout&) = {",
        *[f"    layout_changes_3_{m}," for m in minors],
        "};",
        "",
        "}  // namespace generated",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["write"] and len(argv) == 1:
            full, sources, missing = generate()
            DATA.write_text(render(full, sources))
            if missing:
                print("kept the committed numbers of "
                      + ", ".join(f"3.{m}" for m in missing) + " (no headers found)")
            return 0
        if argv[:1] == ["check"] and len(argv) == 1:
            return check()
        if argv[:1] == ["cxx"] and len(argv) == 3:
            registry.write_if_changed(argv[2], cxx(Path(argv[1])))
            return 0
        args = [a for a in argv if not a.startswith("--")]
        if len(args) not in (1, 2) or args[0] in ("write", "check", "cxx"):
            print(__doc__, file=sys.stderr)
            return 2
        result = collect(args[0], args[1] if len(args) > 1 else None, "--debug" in argv)
        print(json.dumps(result, indent=1))
        return 0
    except (LayoutError, registry.RegistryError, subprocess.CalledProcessError, OSError) as exc:
        print(f"remote_layouts: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
