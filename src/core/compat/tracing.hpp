// compat/tracing.hpp: line events for chosen frames on versions without sys.monitoring.
//
// Before 3.12 a frame receives 'line' events only while its thread has a trace function
// (tstate->c_tracefunc); the frame's own f_trace is what the events are for. sys.settrace()
// installs a Python-level one, which is also called for every new frame ('call' events). The
// hook here is a C-level trace function that ignores 'call' events and hands the others to the
// frame's f_trace, so frames without one cost a C call per line and nothing more.
#pragma once

#include "compat/bytecode.hpp"
#include "refs.hpp"

namespace fs::compat {

#if !FS_HAS_MONITORING
namespace detail {

inline PyObject* event_name(int what) noexcept {
    static PyObject* names[4] = {};
    int index;
    const char* text;
    switch (what) {
        case PyTrace_LINE: index = 0; text = "line"; break;
        case PyTrace_RETURN: index = 1; text = "return"; break;
        case PyTrace_EXCEPTION: index = 2; text = "exception"; break;
        case PyTrace_OPCODE: index = 3; text = "opcode"; break;
        default: return nullptr;
    }
    if (names[index] == nullptr) {
        names[index] = PyUnicode_InternFromString(text);  // kept for the process's life
    }
    return names[index];
}

inline int line_hook(PyObject*, PyFrameObject* frame, int what, PyObject* arg) {
    PyObject* callback = frame->f_trace;
    if (what == PyTrace_CALL || callback == nullptr) {
        return 0;
    }
    PyObject* name = event_name(what);
    if (name == nullptr) {
        if (PyErr_Occurred()) {  // the name could not be made: say so, never into the frame
            PyErr_WriteUnraisable(callback);
        }
        return 0;
    }
    Owned<> keep = Owned<>::ref(callback);
    Owned<> result = Owned<>::steal(PyObject_CallFunctionObjArgs(
        callback, reinterpret_cast<PyObject*>(frame), name, arg != nullptr ? arg : Py_None,
        nullptr));
    if (!result) {
        // Never into the traced frame: report it the way finalizers' errors are reported.
        PyErr_WriteUnraisable(callback);
        return 0;
    }
    if (result.get() != Py_None && result.get() != frame->f_trace) {
        Owned<> old = Owned<>::steal(frame->f_trace);
        frame->f_trace = result.release();
    }
    return 0;
}

// Watching for one frame to resume (a suspended generator's): a C-level profile function,
// called on calls and returns only, that swaps itself for the line hook when that frame is
// entered again. The watched frame is held by a strong reference, so that its address cannot be
// reused by another frame while the watch lasts.
inline PyObject*& watched() noexcept {
    static PyObject* frame = nullptr;  // strong; per interpreter is enough: GIL builds only
    return frame;
}

inline int resume_hook(PyObject*, PyFrameObject* frame, int what, PyObject*) {
    if (watched() == nullptr) {
        // The watch was stopped from another thread: this thread's hook removes itself.
        PyEval_SetProfile(nullptr, nullptr);
        return 0;
    }
    if (what == PyTrace_CALL && reinterpret_cast<PyObject*>(frame) == watched()) {
        Py_CLEAR(watched());
        PyEval_SetProfile(nullptr, nullptr);
        PyEval_SetTrace(line_hook, nullptr);
    }
    return 0;
}

}  // namespace detail
#endif

// Installs (true) or removes (false) the hook on the calling thread. Returns false when the
// version has sys.monitoring (the hook is not needed there) or, on removal, when the thread's
// trace function is no longer ours (someone replaced it; it is then left alone).
inline bool set_line_hook(bool on) noexcept {
#if FS_HAS_MONITORING
    (void)on;
    return false;
#else
    PyThreadState* ts = current_thread();
    if (on) {
        PyEval_SetTrace(detail::line_hook, nullptr);
        return true;
    }
    if (ts->c_tracefunc != detail::line_hook) {
        return false;
    }
    PyEval_SetTrace(nullptr, nullptr);
    return true;
#endif
}

// Until `frame` (a suspended generator's frame object) resumes on the calling thread, watch for
// that with a profile function; then install the line hook. Returns false (and does nothing)
// when the thread already has a profile function or the version has sys.monitoring.
inline bool line_hook_on_resume(PyObject* frame) noexcept {
#if FS_HAS_MONITORING
    (void)frame;
    return false;
#else
    PyThreadState* ts = current_thread();
    if (ts->c_profilefunc != nullptr || detail::watched() != nullptr) {
        return false;  // someone's profiler, or a watch already (one at a time)
    }
    detail::watched() = Py_NewRef(frame);
    PyEval_SetProfile(detail::resume_hook, nullptr);
    return true;
#endif
}

// Stops watching (the jump was cancelled or done some other way). From another thread than the
// watching one, that thread's hook removes itself at its next call or return.
inline void stop_watching_resume() noexcept {
#if !FS_HAS_MONITORING
    PyThreadState* ts = current_thread();
    Py_CLEAR(detail::watched());
    if (ts->c_profilefunc == detail::resume_hook) {
        PyEval_SetProfile(nullptr, nullptr);
    }
#endif
}

}  // namespace fs::compat
