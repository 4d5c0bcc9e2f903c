// compat/python.hpp: the one place that includes CPython's headers, internal ones included, and
// includes the capabilities (generated from versions.toml) that compat/ branches on.
//
// Code outside compat/ includes this file but never branches on a version with the preprocessor
// (no #if on FS_..., PY_VERSION_HEX or Py_DEBUG): it calls a version-neutral accessor of compat/
// or, where a whole branch differs, tests a compat constant with `if constexpr`. Inside compat/,
// a version difference is a capability of the registry (FS_HAS_...); a raw PY_VERSION_HEX test
// is kept only where no capability names the fact, with a comment that says why.
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

// (An int's digits, which compat::small_int_value() reads before 3.12, are declared by
// longintrepr.h, which Python.h includes itself on every supported version: bpo-35134 moved it to
// cpython/ in 3.11 and says not to include it directly.)

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

namespace fs::compat {

// Whether this build keeps the interpreter's reference-count bookkeeping for debugging
// (Py_REF_DEBUG, which a Py_DEBUG build defines): the reference-leak tests need one.
#ifdef Py_REF_DEBUG
inline constexpr bool ref_debug = true;
#else
inline constexpr bool ref_debug = false;
#endif

}  // namespace fs::compat
