// walk/walk.hpp: the stack walk and the functions built on it (getframe, stack, frames, threads).
//
// The walk is written once, against compat/frames.hpp; nothing here knows a CPython version.
#pragma once

#include "compat/frames.hpp"

namespace fs::walk {

// The module-level functions implemented in walk.cpp, for PyModule_AddFunctions.
PyMethodDef* methods();

// getframe(depth) as a C++ function, shared by the raw entry point and the nanobind one that the
// benchmark compares it with. Returns a new reference or nullptr with an exception set.
PyObject* getframe(Py_ssize_t depth);

// The frame object `depth` frames out from the innermost visible frame of `ts`'s thread (a new
// reference), created where none exists yet, as sys._getframe(depth) run in that thread; nullptr
// with ValueError when the stack is not that deep. No audit event, as PyThreadState_GetFrame.
PyFrameObject* thread_frame(PyThreadState* ts, Py_ssize_t depth);

// Calls visit(code, lasti in bytes, line, arg) for `f` and each visible frame outward (codes
// borrowed from their frames), creating no object; stops at visit's first non-zero return and
// returns it, else 0.
using FrameVisitor = int (*)(PyCodeObject* code, int lasti, int lineno, void* arg);
int visit_frames(compat::IFrame* f, FrameVisitor visit, void* arg);

}  // namespace fs::walk
