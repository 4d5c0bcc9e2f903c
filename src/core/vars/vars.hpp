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

// The functions behind locals(), getvar(), setvar() and lookup(), on checked arguments (a frame
// object; a str name), for the module functions and the C API (capi/). Each returns a new
// reference or nullptr (-1) with an exception set.
PyObject* locals_of(PyFrameObject* fo);
PyObject* getvar(PyFrameObject* fo, PyObject* name);  // NameError: no bound variable `name`
int setvar(PyFrameObject* fo, PyObject* name, PyObject* value);
PyObject* lookup(PyFrameObject* fo, PyObject* name);

// Whether `op` is a LocalsView.
bool is_locals_view(PyObject* op) noexcept;

}  // namespace fs::vars
