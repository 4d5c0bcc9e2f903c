// jump/bindings.cpp: the jump checker's Python bindings (framescope._core.can_jump and the frame
// status that framescope.jump() asks for). module.cpp calls register_bindings().
#include "jump/bindings.hpp"

#include "compat/frames.hpp"
#include "compat/tracing.hpp"
#include "jump/can_jump.hpp"
#include "jump/resume_tail.hpp"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace fs::jump {
namespace {

long int_arg(nb::handle value, const char* name) {
    if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
        PyErr_Format(PyExc_TypeError, "can_jump() %s must be an int, not %s", name,
                     Py_TYPE(value.ptr())->tp_name);
        throw nb::python_error();
    }
    int overflow = 0;
    long result = PyLong_AsLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) {
        return overflow > 0 ? LONG_MAX : LONG_MIN;
    }
    if (result == -1 && PyErr_Occurred()) {
        throw nb::python_error();
    }
    return result;
}

nb::object can_jump(nb::handle code, nb::handle from_lasti, nb::handle to_lineno) {
    if (!PyCode_Check(code.ptr())) {
        PyErr_Format(PyExc_TypeError, "can_jump() code must be a code object, not %s",
                     Py_TYPE(code.ptr())->tp_name);
        throw nb::python_error();
    }
    long from = int_arg(from_lasti, "from_lasti");
    long to = int_arg(to_lineno, "to_lineno");
    std::optional<Verdict> v = check(reinterpret_cast<PyCodeObject*>(code.ptr()), from, to);
    if (!v) {
        throw nb::python_error();
    }
    if (v->ok) {
        return nb::none();
    }
    return nb::str(v->message.c_str());
}

nb::list jump_model(nb::handle code) {
    if (!PyCode_Check(code.ptr())) {
        PyErr_Format(PyExc_TypeError, "expected a code object, not %s",
                     Py_TYPE(code.ptr())->tp_name);
        throw nb::python_error();
    }
    auto rows = model(reinterpret_cast<PyCodeObject*>(code.ptr()));
    if (!rows) {
        throw nb::python_error();
    }
    nb::list out;
    for (const ModelRow& r : *rows) {
        out.append(nb::make_tuple(r.offset, r.line, nb::str(r.state.c_str())));
    }
    return out;
}

nb::list py_successors(nb::handle code, nb::handle offset) {
    if (!PyCode_Check(code.ptr())) {
        PyErr_Format(PyExc_TypeError, "expected a code object, not %s",
                     Py_TYPE(code.ptr())->tp_name);
        throw nb::python_error();
    }
    long at = int_arg(offset, "offset");
    auto next = successors(reinterpret_cast<PyCodeObject*>(code.ptr()), at);
    if (!next) {
        throw nb::python_error();
    }
    nb::list out;
    for (int o : *next) {
        out.append(o);
    }
    return out;
}

PyFrameObject* frame_arg(nb::handle frame) {
    if (!PyFrame_Check(frame.ptr())) {
        PyErr_Format(PyExc_TypeError, "expected a frame, not %s", Py_TYPE(frame.ptr())->tp_name);
        throw nb::python_error();
    }
    return reinterpret_cast<PyFrameObject*>(frame.ptr());
}

nb::tuple frame_status(nb::handle frame) {
    PyObject* owner = nullptr;
    compat::FrameStatus status = compat::frame_status(frame_arg(frame), &owner);
    const char* name = "finished";
    switch (status) {
        case compat::FrameStatus::created: name = "created"; break;
        case compat::FrameStatus::running: name = "running"; break;
        case compat::FrameStatus::suspended: name = "suspended"; break;
        case compat::FrameStatus::finished: name = "finished"; break;
    }
    nb::object gen = owner != nullptr ? nb::borrow(owner) : nb::none();
    return nb::make_tuple(nb::str(name), gen);
}

nb::object py_arm_resume_tail(nb::handle frame, nb::handle lineno) {
    PyFrameObject* f = frame_arg(frame);
    long line = int_arg(lineno, "lineno");
    PyObject* record = jump::arm_resume_tail(f, line);
    if (record == nullptr) {
        throw nb::python_error();
    }
    return nb::steal(record);
}

bool py_settle_resume_tail(nb::handle frame, nb::handle record, bool cancel) {
    int state = jump::settle_resume_tail(frame_arg(frame), record.ptr(), cancel);
    if (state < 0) {
        throw nb::python_error();
    }
    return state == 1;
}

}  // namespace

void register_bindings(nb::module_& m) {
    m.def("can_jump", &can_jump, nb::arg("code"), nb::arg("from_lasti"), nb::arg("to_lineno"),
          "The verdict of CPython's f_lineno setter on jumping from the 'line' event whose "
          "frame.f_lasti is from_lasti to to_lineno: None if allowed, else the reason.");
    m.def("_jump_model", &jump_model, nb::arg("code"),
          "can_jump's model of a code object: (offset, line started or -1, state) per code unit");
    m.def("_successors", &py_successors, nb::arg("code"), nb::arg("offset"),
          "The offsets where the instruction at `offset` continues when it completes normally "
          "(next instruction first, then its jump target), as can_jump's models see them");
    m.def("_frame_status", &frame_status, nb::arg("frame"),
          "('created' | 'running' | 'suspended' | 'finished', owning generator or None)");
    m.def("_set_line_hook", [](bool on) { return compat::set_line_hook(on); }, nb::arg("on"),
          "Before 3.12: install (True) or remove (False) the calling thread's C-level trace "
          "function that delivers line events to frames' own f_trace only.");
    m.def("_set_line_hook_on_resume",
          [](nb::handle frame) { return compat::line_hook_on_resume(frame.ptr()); },
          nb::arg("frame"),
          "Before 3.12: install the line hook when `frame` is next entered on this thread.");
    m.def("_stop_watching_resume", [] { compat::stop_watching_resume(); });
    m.def("_arm_resume_tail", &py_arm_resume_tail, nb::arg("frame"), nb::arg("lineno"),
          "3.11: make the suspended generator frame jump to lineno as it resumes, by itself "
          "(jump/resume_tail.hpp). Returns a record for _settle_resume_tail, or None where the "
          "jump cannot be placed that way; raises ValueError when it is refused.");
    m.def("_settle_resume_tail", &py_settle_resume_tail, nb::arg("frame"), nb::arg("record"),
          nb::arg("cancel") = false,
          "Whether the jump armed by _arm_resume_tail still waits (and with cancel, undo it).");
}

}  // namespace fs::jump
