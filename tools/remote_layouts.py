#!/usr/bin/env python3
"""Prints the struct offsets that src/remote/layouts.cpp holds, read from CPython's own headers.

    tools/remote_layouts.py INCLUDE_DIR [PYCONFIG_DIR] [--debug]

The remote reader must not include CPython's headers (it reads any version, whatever Python
runs it), so the offsets it needs are facts copied into src/remote/layouts.cpp. This script is
how they were collected: it compiles a small C program against one interpreter's headers
(internal ones too, with Py_BUILD_CORE) and prints each field's offset. The test
tests/test_remote.py::test_layout_matches_headers runs it for the interpreter under test and
compares with the table.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

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


def collect(include: str, pyconfig: str | None, debug: bool) -> dict:
    probe = subprocess.run(
        ["gcc", "-E", "-dM", "-I", include, *(["-I", pyconfig] if pyconfig else []), "-x", "c",
         "-"], input="#include <patchlevel.h>\n", capture_output=True, text=True, check=True)
    minor = int(re.search(r"#define PY_MINOR_VERSION (\d+)", probe.stdout).group(1))
    lines = []
    for name, lo, hi, expr in FIELDS:
        if lo <= minor <= hi:
            lines.append(f'    printf("%s %ld\\n", "{name}", (long)({expr}));')
    if minor >= 13:
        for name, path in DEBUG_FIELDS:
            lines.append(f'    printf("%s %ld\\n", "debug.{name}", '
                         f'(long)offsetof(_Py_DebugOffsets, {path}));')
    src = PROLOGUE + "\n".join(lines) + "\n    return 0;\n}\n"
    with tempfile.TemporaryDirectory() as tmp:
        c, exe = os.path.join(tmp, "o.c"), os.path.join(tmp, "o")
        with open(c, "w") as f:
            f.write(src)
        flags = ["-DPy_DEBUG"] if debug else []
        inc = ["-I", include, "-I", os.path.join(include, "internal")]
        if pyconfig:
            inc = ["-I", pyconfig] + inc
        subprocess.run(["gcc", "-std=gnu11", "-w", *flags, *inc, c, "-o", exe], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return {"minor": minor, "debug": debug,
            "fields": {k: int(v) for k, v in (ln.split() for ln in out.splitlines())}}


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    result = collect(args[0], args[1] if len(args) > 1 else None, "--debug" in sys.argv)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
