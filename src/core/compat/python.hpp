// compat/python.hpp: the one place that includes CPython's headers, internal ones included, and
// names the capabilities that the rest of the core branches on.
//
// Code outside compat/ includes this file and never tests PY_VERSION_HEX itself: it asks for a
// capability (FS_HAS_...) or, better, calls a version-neutral accessor from compat/frames.hpp.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#if PY_VERSION_HEX < 0x030A0000 || PY_VERSION_HEX >= 0x03100000
#error "framescope supports CPython 3.10 to 3.15"
#endif
#ifdef Py_GIL_DISABLED
#error "framescope does not support free-threaded (no-GIL) builds of CPython"
#endif

// 3.11 (bpo-44590, "lazy frame objects") moved the running state of a function out of
// PyFrameObject into _PyInterpreterFrame; a frame object is created only when asked for.
#define FS_HAS_INTERPRETER_FRAME (PY_VERSION_HEX >= 0x030B0000)
// 3.11: _PyCFrame holds the thread's current frame; 3.13 (gh-108907) moved it onto PyThreadState.
#define FS_HAS_CFRAME_CURRENT_FRAME (PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000)
// 3.12 exported PyUnstable_InterpreterFrame_GetLine and friends.
#define FS_HAS_UNSTABLE_FRAME_API (PY_VERSION_HEX >= 0x030C0000)
// 3.11 added co_qualname to code objects (bpo-44530).
#define FS_HAS_CO_QUALNAME (PY_VERSION_HEX >= 0x030B0000)
// 3.13 replaced f_code by f_executable (any object; a code object for Python frames) and 3.14
// made it a tagged _PyStackRef; _PyFrame_GetCode() hides both.
#define FS_HAS_FRAME_EXECUTABLE (PY_VERSION_HEX >= 0x030D0000)
// 3.12 (gh-101291) changed the int layout and added PyUnstable_Long_IsCompact/CompactValue.
#define FS_HAS_COMPACT_LONG (PY_VERSION_HEX >= 0x030C0000)

// 3.13 is the first whose internal runtime and interpreter headers compile as C++ (before, their
// pycore_atomic.h uses C11 <stdatomic.h>): the audit-hook lists can be read where they are.
#define FS_HAS_INLINE_AUDIT_CHECK (PY_VERSION_HEX >= 0x030D0000)

#if PY_VERSION_HEX < 0x030B0000
#include <longintrepr.h>
#elif !FS_HAS_COMPACT_LONG
#include <cpython/longintrepr.h>
#endif

#if FS_HAS_INTERPRETER_FRAME
// The interpreter-frame layout is internal. It is fixed for a given CPython build, and these
// headers describe exactly the build being compiled against (including Py_DEBUG builds).
#define Py_BUILD_CORE 1
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#if PY_VERSION_HEX >= 0x030E0000
// 3.14 split the inline frame helpers (_PyFrame_IsIncomplete, _PyFrame_GetCode, ...) out into
// pycore_interpframe.h.
#include <internal/pycore_interpframe.h>
#endif
#if FS_HAS_INLINE_AUDIT_CHECK
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#endif
#undef Py_BUILD_CORE
#endif
