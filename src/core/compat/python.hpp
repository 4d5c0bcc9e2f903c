// compat/python.hpp: the one place that includes CPython's headers, internal ones included, and
// includes the capabilities (generated from versions.toml) that compat/ branches on.
//
// Code outside compat/ includes this file and never tests PY_VERSION_HEX itself: it asks for a
// capability (FS_HAS_...) or, better, calls a version-neutral accessor from compat/frames.hpp.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

// The supported range and every capability (FS_HAS_..., ...) come from the version registry,
// versions.toml, through the header that the build generates from it; it refuses a CPython
// outside the range.
#include "fs_registry.h"

#ifdef Py_GIL_DISABLED
#error "framescope does not support free-threaded (no-GIL) builds of CPython"
#endif

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
#if FS_HAS_INTERPFRAME_HEADER
#include <internal/pycore_interpframe.h>
#endif
#if FS_HAS_INLINE_AUDIT_CHECK
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#endif
#undef Py_BUILD_CORE
#endif
