// capi/capi.hpp: the C API table (framescope.h's FsCAPI) that the core exports to other
// extension modules as the capsule framescope._C_API.
#pragma once

#include "compat/python.hpp"

namespace fs::capi {

// Adds the capsule `_C_API` to the module. Returns -1 with an exception set on failure.
int add_capsule(PyObject* module);

}  // namespace fs::capi
