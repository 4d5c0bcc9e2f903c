// walk/frame_info.hpp: FrameInfo, the record stack() and threads() return for each frame.
//
// A struct sequence (an immutable, named tuple made in C) of filename, lineno, function and
// module. It is built from the interpreter's frame directly: no frame object is created.
#pragma once

#include "compat/frames.hpp"

namespace fs::walk {

// Creates the FrameInfo type and adds it to `module`. Returns -1 with an exception set on failure.
int add_frame_info_type(PyObject* module);

// A new FrameInfo for `f`, or an empty Owned with an exception set.
Owned<> make_frame_info(compat::IFrame* f);

}  // namespace fs::walk
