/* compat/audit_hooks.c: where the audit-hook lists are, for interpreters whose internal headers
 * do not compile as C++ (before 3.13, pycore_atomic.h uses C11 <stdatomic.h>).
 *
 * C reads them as CPython itself does, so this one file includes them and publishes three
 * offsets; compat::audit_wanted() (audit.hpp) reads the lists through them, as its inline check
 * does on 3.13+ where the C++ core includes the headers directly. From 3.13 the file is empty.
 */
/* As a file of the interpreter: its internal headers expect every header so configured (3.12's
 * pycore_gc.h redeclares a public function static). Nothing here is compiled code, only
 * constants. */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "fs_registry.h"

#if !FS_HAS_INLINE_AUDIT_CHECK

#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>

#include <stddef.h>

#include "compat/audit_hooks.h"

const size_t fs_interp_runtime_offset = offsetof(PyInterpreterState, runtime);
const size_t fs_interp_audit_hooks_offset = offsetof(PyInterpreterState, audit_hooks);
#if PY_VERSION_HEX >= 0x030C0000
/* gh-102304 (3.12): the runtime's list became audit_hooks.head. */
const size_t fs_runtime_audit_head_offset = offsetof(_PyRuntimeState, audit_hooks.head);
#else
const size_t fs_runtime_audit_head_offset = offsetof(_PyRuntimeState, audit_hook_head);
#endif

#endif
