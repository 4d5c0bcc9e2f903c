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

}  // namespace fs::walk
