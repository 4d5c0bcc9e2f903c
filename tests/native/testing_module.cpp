// tests/native/testing_module.cpp: framescope._testing, native helpers for the test suite only.
//
// Built when CMake's FRAMESCOPE_TESTING is on (the test command turns it on); never part of a
// release. Each helper reads interpreter state that Python code cannot see without changing it.
// Version differences stay behind compat/, as in the core.
#include "compat/eval_frame.hpp"
#include "compat/frames.hpp"

#include <nanobind/nanobind.h>
#include <nanobind/stl/vector.h>

#include <vector>

namespace nb = nanobind;

namespace {

// A frame-evaluation function (PEP 523) of "another tool": counts the frames it runs and hands
// them to the one that was installed before it.
fs::compat::EvalFrameFunction foreign_previous = nullptr;
size_t foreign_calls = 0;

PyObject* foreign_eval(PyThreadState* ts, fs::compat::IFrame* frame, int throwflag) {
    ++foreign_calls;
    return foreign_previous(ts, frame, throwflag);
}

}  // namespace

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

    // The interpreter's frame-evaluation function: "default", "foreign" (the one above) or
    // "other" (framescope's watch for a generator's resumption before 3.12, or anyone else's).
    m.def("eval_frame", [] {
        auto f = fs::compat::eval_frame_function(PyInterpreterState_Get());
        return f == fs::compat::default_eval_frame() ? "default"
               : f == foreign_eval                   ? "foreign"
                                                     : "other";
    });
    m.def("install_foreign_eval", [] {
        PyInterpreterState* interp = PyInterpreterState_Get();
        foreign_previous = fs::compat::eval_frame_function(interp);
        foreign_calls = 0;
        fs::compat::set_eval_frame_function(interp, foreign_eval);
    });
    m.def("remove_foreign_eval", [] {
        fs::compat::set_eval_frame_function(PyInterpreterState_Get(), foreign_previous);
        return foreign_calls;
    });
}
