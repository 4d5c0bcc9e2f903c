// vars/vars.hpp: a frame's variables: the live view (framescope.locals) and the functions
// getvar, setvar and lookup.
//
// Written once against compat/variables.hpp; nothing here knows a CPython version.
#pragma once

#include "compat/python.hpp"

namespace fs::vars {

// The module-level functions implemented in vars.cpp, for PyModule_AddFunctions.
PyMethodDef* methods();

// Creates the LocalsView type and adds it to the module. Returns -1 with an error set.
int add_view_type(PyObject* module);

}  // namespace fs::vars
