// module.cpp: the framescope._core extension module.
//
// nanobind defines the module and binds what is not on a hot path. The walking functions are
// raw METH_FASTCALL functions (walk/walk.cpp): their whole cost is a few dozen nanoseconds, and
// nanobind's dispatch would add about as much again (the benchmark prints both).
#include "compat/python.hpp"
#include "capi/capi.hpp"
#include "compat/audit.hpp"
#include "compat/code_lines.hpp"
#include "compat/variables.hpp"
#include "vars/vars.hpp"
#include "walk/frame_info.hpp"
#include "walk/walk.hpp"
#include "jump/bindings.hpp"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

NB_MODULE(_core, m) {
    m.doc() = "framescope's C++ core. Use the framescope package, not this module.";
    if (PyModule_AddFunctions(m.ptr(), fs::walk::methods()) < 0 ||
        fs::walk::add_frame_info_type(m.ptr()) < 0 ||
        PyModule_AddFunctions(m.ptr(), fs::vars::methods()) < 0 ||
        fs::compat::init_tier2_hook() < 0 || fs::compat::init_code_lines() < 0 ||
        fs::vars::add_view_type(m.ptr()) < 0 || fs::capi::add_capsule(m.ptr()) < 0) {
        throw nb::python_error();
    }

    // getframe() bound through nanobind instead of as a raw function, for the benchmark's
    // "Bindings" row: the reason the hot functions are not bound this way.
    m.def(
        "_getframe_nanobind",
        [](Py_ssize_t depth) -> nb::object {
            PyObject* frame = fs::walk::getframe(depth);
            if (frame == nullptr) {
                throw nb::python_error();
            }
            return nb::steal(frame);
        },
        nb::arg("depth") = 0);

    // The line of a code unit from the code's line ranges, as walks read it (for the tests,
    // which compare it with co_lines()).
    m.def("_code_line", [](nb::handle code, int unit) {
        if (!PyCode_Check(code.ptr())) {
            throw nb::type_error("expected a code object");
        }
        return fs::compat::code_line(reinterpret_cast<PyCodeObject*>(code.ptr()), unit);
    });

    // Where getframe() learns that a tracer is attached to the python:audit probe (None: the
    // interpreter has no such probe, or it was not found and every event goes to PySys_Audit).
    uintptr_t probe = fs::compat::find_audit_probe();
    m.attr("_AUDIT_PROBE") = probe != 0 ? nb::object(nb::int_(probe)) : nb::none();
    // What getframe() decides before raising its audit event, for the tests.
    m.def("_audit_wanted", [] { return fs::compat::audit_wanted(PyThreadState_Get()); });

    // What this build of the core does that framescope._caps cannot tell: facts of the
    // interpreter found at load time, and one compiled choice the tests compare with _caps (the
    // core and _caps are made from the same registry by the same build).
    nb::dict caps;
    caps["inline_audit_check"] = bool(FS_HAS_INLINE_AUDIT_CHECK);
    caps["tier2_invalidation"] = fs::compat::tier2_invalidate != nullptr;
    caps["ref_debug"] = fs::compat::ref_debug;
    m.attr("CAPABILITIES") = caps;
    m.attr("BUILT_FOR") = nb::str(PY_VERSION);
    fs::jump::register_bindings(m);
}
