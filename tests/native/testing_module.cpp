// tests/native/testing_module.cpp: framescope._testing, native helpers for the test suite only.
//
// Built when CMake's FRAMESCOPE_TESTING is on (the test command turns it on); never part of a
// release. Each helper reads interpreter state that Python code cannot see without changing it.
#include "compat/frames.hpp"

#include <nanobind/nanobind.h>
#include <nanobind/stl/vector.h>

#include <vector>

namespace nb = nanobind;

NB_MODULE(_testing, m) {
    // For each visible frame from the caller outward: does it have a frame object already?
    // Creates none itself. On 3.10, where every frame is an object, all True.
    m.def("frame_objects_exist", []() {
        std::vector<bool> out;
        for (auto* f = fs::compat::thread_top(PyThreadState_Get()); f != nullptr;
             f = fs::compat::back(f)) {
            out.push_back(fs::compat::existing_object(f) != nullptr);
        }
        return out;
    });
}
