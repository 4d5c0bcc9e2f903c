// capi/capi.cpp: the functions of framescope.h's table, and the capsule that exports it.
//
// Each function checks its arguments (C callers pass anything: NULL, an object of another type,
// a finished frame) and then calls what the Python API calls: vars/ for variables, walk/ for
// frames and walks, jump/ for the checker, framescope._jump for jumps. None of them branches on a
// version; compat/ answers the version questions.
#include "capi/capi.hpp"

#include "compat/frames.hpp"
#include "compat/variables.hpp"
#include "jump/can_jump.hpp"
#include "refs.hpp"
#include "vars/vars.hpp"
#include "walk/walk.hpp"

#include <framescope.h>

#include <type_traits>

namespace fs::capi {
namespace {

using compat::IFrame;

// ---- argument checks ------------------------------------------------------------------------
// Each returns false with an exception set when the argument is unusable. `fn` names the C
// function in the message.

[[gnu::cold]] void null_argument(const char* fn, const char* param) {
    PyErr_Format(PyExc_SystemError, "%s() called with %s=NULL", fn, param);
}

bool frame_ok(const char* fn, PyFrameObject* frame) {
    if (frame == nullptr) {
        null_argument(fn, "frame");
        return false;
    }
    if (!PyFrame_Check(reinterpret_cast<PyObject*>(frame))) {
        PyErr_Format(PyExc_TypeError, "%s() frame must be a frame object, not %.200s", fn,
                     Py_TYPE(reinterpret_cast<PyObject*>(frame))->tp_name);
        return false;
    }
    return true;
}

// The name as an exact str: a str subclass is copied, so that comparing it with the code's
// names runs no Python code (its __eq__ or __hash__ could free or move the frame meanwhile).
// Empty with an exception set when unusable.
Owned<> name_of(const char* fn, PyObject* name) {
    if (name == nullptr) {
        null_argument(fn, "name");
        return {};
    }
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "%s() name must be a str, not %.200s", fn,
                     Py_TYPE(name)->tp_name);
        return {};
    }
    return Owned<>::steal(PyUnicode_CheckExact(name) ? Py_NewRef(name)
                                                     : PyUnicode_FromObject(name));
}

// An interpreter frame cannot be told from other memory; only NULL is refused. (On 3.10 it is a
// frame object, whose type is checked.)
bool iframe_ok(const char* fn, FsInterpreterFrame* frame) {
    if (frame == nullptr) {
        null_argument(fn, "frame");
        return false;
    }
    if constexpr (std::is_same_v<IFrame, PyFrameObject>) {
        return frame_ok(fn, reinterpret_cast<PyFrameObject*>(frame));
    }
    return true;
}

IFrame* iframe(FsInterpreterFrame* frame) {
    return reinterpret_cast<IFrame*>(frame);
}

// A str made from a UTF-8 name, or empty with an exception set.
Owned<> name_from(const char* fn, const char* name) {
    if (name == nullptr) {
        null_argument(fn, "name");
        return {};
    }
    return Owned<>::steal(PyUnicode_FromString(name));
}

// ---- CPython's "Frame Objects" page ----------------------------------------------------------

// Documented as never raising: a bad argument gives NULL without an exception, as no outer frame.
PyFrameObject* frame_get_back(PyFrameObject* frame) {
    if (frame == nullptr || !PyFrame_Check(reinterpret_cast<PyObject*>(frame))) {
        return nullptr;
    }
    // (3.11+ may fail to create the outer frame's object: memory. That error is dropped; one
    // the caller had set before is left as it is.)
    bool pending = PyErr_Occurred() != nullptr;
    PyFrameObject* back = PyFrame_GetBack(frame);
    if (back == nullptr && !pending) {
        PyErr_Clear();
    }
    return back;
}

PyObject* frame_get_builtins(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetBuiltins", frame)) {
        return nullptr;
    }
    return Py_NewRef(compat::builtins(compat::of_object(frame)));
}

PyCodeObject* frame_get_code(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetCode", frame)) {
        return nullptr;
    }
    return Owned<PyCodeObject>::ref(compat::code(compat::of_object(frame))).release();
}

// Documented as never raising.
PyObject* frame_get_generator(PyFrameObject* frame) {
    if (frame == nullptr || !PyFrame_Check(reinterpret_cast<PyObject*>(frame))) {
        return nullptr;
    }
    PyObject* owner = nullptr;
    compat::frame_status(frame, &owner);
    return Py_XNewRef(owner);
}

PyObject* frame_get_globals(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetGlobals", frame)) {
        return nullptr;
    }
    return Py_NewRef(compat::globals(compat::of_object(frame)));
}

int frame_get_lasti(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetLasti", frame)) {
        return -1;
    }
    return compat::lasti_bytes(compat::of_object(frame));
}

int frame_get_line_number(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetLineNumber", frame)) {
        return -1;
    }
    return PyFrame_GetLineNumber(frame);
}

PyObject* frame_get_var(PyFrameObject* frame, PyObject* name) {
    if (!frame_ok("FsFrame_GetVar", frame)) {
        return nullptr;
    }
    Owned<> str = name_of("FsFrame_GetVar", name);
    return str ? vars::getvar(frame, str.get()) : nullptr;
}

PyObject* frame_get_var_string(PyFrameObject* frame, const char* name) {
    if (!frame_ok("FsFrame_GetVarString", frame)) {
        return nullptr;
    }
    Owned<> str = name_from("FsFrame_GetVarString", name);
    return str ? vars::getvar(frame, str.get()) : nullptr;
}

PyObject* frame_get_locals(PyFrameObject* frame) {
    if (!frame_ok("FsFrame_GetLocals", frame)) {
        return nullptr;
    }
    return vars::locals_of(frame);
}

int frame_check(PyObject* obj) {
    return obj != nullptr && PyFrame_Check(obj);
}

int frame_locals_proxy_check(PyObject* obj) {
    return obj != nullptr && (vars::is_locals_view(obj) || compat::is_frame_locals_proxy(obj));
}

PyObject* iframe_get_code(FsInterpreterFrame* frame) {
    if (!iframe_ok("FsUnstable_InterpreterFrame_GetCode", frame)) {
        return nullptr;
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(compat::code(iframe(frame))));
}

int iframe_get_lasti(FsInterpreterFrame* frame) {
    if (!iframe_ok("FsUnstable_InterpreterFrame_GetLasti", frame)) {
        return -1;
    }
    return compat::lasti_bytes(iframe(frame));
}

int iframe_get_line(FsInterpreterFrame* frame) {
    if (!iframe_ok("FsUnstable_InterpreterFrame_GetLine", frame)) {
        return -1;
    }
    return compat::lineno(iframe(frame));
}

// ---- more than the page ----------------------------------------------------------------------

bool value_ok(const char* fn, PyObject* value) {
    if (value == nullptr) {
        null_argument(fn, "value");  // (variables cannot be deleted; there is no delete form)
        return false;
    }
    return true;
}

int frame_set_var(PyFrameObject* frame, PyObject* name, PyObject* value) {
    if (!frame_ok("FsFrame_SetVar", frame)) {
        return -1;
    }
    Owned<> str = name_of("FsFrame_SetVar", name);
    if (!str || !value_ok("FsFrame_SetVar", value)) {
        return -1;
    }
    return vars::setvar(frame, str.get(), value);
}

int frame_set_var_string(PyFrameObject* frame, const char* name, PyObject* value) {
    if (!frame_ok("FsFrame_SetVarString", frame) || !value_ok("FsFrame_SetVarString", value)) {
        return -1;
    }
    Owned<> str = name_from("FsFrame_SetVarString", name);
    return str ? vars::setvar(frame, str.get(), value) : -1;
}

PyObject* frame_lookup(PyFrameObject* frame, PyObject* name) {
    if (!frame_ok("FsFrame_Lookup", frame)) {
        return nullptr;
    }
    Owned<> str = name_of("FsFrame_Lookup", name);
    return str ? vars::lookup(frame, str.get()) : nullptr;
}

// framescope.jump() itself (framescope/_jump.py): the pending-jump machinery lives there.
int frame_jump(PyFrameObject* frame, int lineno) {
    if (!frame_ok("FsFrame_Jump", frame)) {
        return -1;
    }
    auto module = Owned<>::steal(PyImport_ImportModule("framescope._jump"));
    auto jump = module ? Owned<>::steal(PyObject_GetAttrString(module.get(), "jump")) : Owned<>();
    if (!jump) {
        return -1;
    }
    auto result = Owned<>::steal(PyObject_CallFunction(jump.get(), "Oi", frame, lineno));
    return result ? 0 : -1;
}

int frame_can_jump(PyCodeObject* code, int lasti, int lineno, PyObject** reason) {
    const char* fn = "FsFrame_CanJump";
    if (reason != nullptr) {
        *reason = nullptr;
    }
    if (code == nullptr) {
        null_argument(fn, "code");
        return -1;
    }
    if (!PyCode_Check(reinterpret_cast<PyObject*>(code))) {
        PyErr_Format(PyExc_TypeError, "%s() code must be a code object, not %.200s", fn,
                     Py_TYPE(reinterpret_cast<PyObject*>(code))->tp_name);
        return -1;
    }
    std::optional<jump::Verdict> v = jump::check(code, lasti, lineno);
    if (!v) {
        return -1;
    }
    if (v->ok) {
        return 1;
    }
    if (reason != nullptr && (*reason = PyUnicode_FromString(v->message.c_str())) == nullptr) {
        return -1;
    }
    return 0;
}

PyFrameObject* thread_state_get_frame(PyThreadState* tstate, Py_ssize_t depth) {
    if (tstate == nullptr) {
        null_argument("FsThreadState_GetFrame", "tstate");
        return nullptr;
    }
    if (depth < 0) {
        PyErr_Format(PyExc_ValueError, "FsThreadState_GetFrame() depth must be >= 0, got %zd",
                     depth);
        return nullptr;
    }
    return walk::thread_frame(tstate, depth);
}

bool visitor_ok(const char* fn, FsFrameVisitor visit) {
    if (visit == nullptr) {
        null_argument(fn, "visit");
        return false;
    }
    return true;
}

int frame_walk(PyThreadState* tstate, FsFrameVisitor visit, void* arg) {
    if (tstate == nullptr) {
        null_argument("FsFrame_Walk", "tstate");
        return -1;
    }
    if (!visitor_ok("FsFrame_Walk", visit)) {
        return -1;
    }
    return walk::visit_frames(compat::thread_top(tstate), visit, arg);
}

int frame_walk_from(PyFrameObject* frame, FsFrameVisitor visit, void* arg) {
    if (!frame_ok("FsFrame_WalkFrom", frame) || !visitor_ok("FsFrame_WalkFrom", visit)) {
        return -1;
    }
    return walk::visit_frames(compat::of_object(frame), visit, arg);
}

// The table. Entries are only ever appended (framescope.h says why); `size` lets an extension
// built with an older header find the ones it knows.
constexpr FsCAPI table = {
    sizeof(FsCAPI),
    FRAMESCOPE_CAPI_VERSION,
    frame_get_back,
    frame_get_builtins,
    frame_get_code,
    frame_get_generator,
    frame_get_globals,
    frame_get_lasti,
    frame_get_line_number,
    frame_get_var,
    frame_get_var_string,
    frame_get_locals,
    frame_check,
    frame_locals_proxy_check,
    iframe_get_code,
    iframe_get_lasti,
    iframe_get_line,
    frame_set_var,
    frame_set_var_string,
    frame_lookup,
    frame_jump,
    frame_can_jump,
    thread_state_get_frame,
    frame_walk,
    frame_walk_from,
};

}  // namespace

int add_capsule(PyObject* module) {
    // The table is static and read-only: nothing to free when the capsule goes.
    auto capsule = Owned<>::steal(
        PyCapsule_New(const_cast<FsCAPI*>(&table), "framescope._C_API", nullptr));
    if (!capsule || PyModule_AddObjectRef(module, "_C_API", capsule.get()) < 0) {
        return -1;
    }
    return 0;
}

}  // namespace fs::capi
