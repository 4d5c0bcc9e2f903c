// compat/tracing.hpp: line events for chosen frames on versions without sys.monitoring.
//
// Before 3.12 a frame receives 'line' events only while its thread has a trace function
// (tstate->c_tracefunc: the evaluation loop's line tracing in Python/ceval.c runs only then; 3.12
// delivers them through PEP 669's sys.monitoring instead); the frame's own f_trace is what the
// events are for. sys.settrace()
// installs a Python-level one, which is also called for every new frame ('call' events). The
// hook here is a C-level trace function that ignores 'call' events and hands the others to the
// frame's f_trace, so frames without one cost a C call per line and nothing more.
#pragma once

#include "compat/bytecode.hpp"
#include "compat/eval_frame.hpp"
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

// Watching for one frame to resume (a suspended generator's) without tracing anything else: the
// interpreter's frame-evaluation function (PEP 523) is replaced by one that looks at each frame
// it is asked to run and, when it is the watched frame on the watching thread, installs the line
// hook and puts the previous function back. Until then every other frame costs one C call and a
// comparison. The watched frame is held by a strong reference, so that its address cannot be
// reused by another frame while the watch lasts.
struct ResumeWatch {
    PyObject* frame = nullptr;                // strong; one watch per process (GIL builds only)
    IFrame* iframe = nullptr;                 // its interpreter frame, when the watch began
    PyThreadState* thread = nullptr;          // the thread whose resumption counts
    EvalFrameFunction previous = nullptr;     // the evaluation function ours runs frames with
};

inline ResumeWatch& watch() noexcept {
    static ResumeWatch w;
    return w;
}

inline PyObject* resume_eval(PyThreadState* ts, IFrame* frame, int throwflag);

// Ends the watch and puts the previous evaluation function back. Where another tool has since
// installed its own on top of ours (and may call ours), ours stays in its chain and keeps
// passing frames on to the previous one.
inline void end_watch() noexcept {
    ResumeWatch& w = watch();
    // Released last: freeing the frame can run finalizers, which may start a new watch.
    Owned<> frame = Owned<>::steal(w.frame);
    w.frame = nullptr;
    w.iframe = nullptr;
    w.thread = nullptr;
    if (w.previous == nullptr) {
        return;
    }
    PyInterpreterState* interp = PyThreadState_GetInterpreter(current_thread());
    if (eval_frame_function(interp) == resume_eval) {
        set_eval_frame_function(interp, w.previous);
        w.previous = nullptr;
    }
}

inline EvalFrameFunction next_eval() noexcept {
    EvalFrameFunction previous = watch().previous;
    return previous != nullptr ? previous : default_eval_frame();
}

// `frame` is where the watched frame was: it resumes now if it still is the watched frame (not a
// new frame at the address of one that has moved since).
[[gnu::noinline, gnu::cold]] inline PyObject* maybe_resumed(PyThreadState* ts, IFrame* frame,
                                                            int throwflag) {
    ResumeWatch& w = watch();
    EvalFrameFunction next = next_eval();
    if (w.frame != nullptr && frame == of_object(reinterpret_cast<PyFrameObject*>(w.frame))) {
        end_watch();
        // A trace function set meanwhile (sys.settrace) already delivers line events to the
        // frame's f_trace, and stays.
        if (ts->c_tracefunc == nullptr) {
            PyEval_SetTrace(line_hook, nullptr);
        }
    }
    return next(ts, frame, throwflag);
}

// Every frame evaluation passes here while ours is installed: a comparison, then the previous
// function (both tail calls).
inline PyObject* resume_eval(PyThreadState* ts, IFrame* frame, int throwflag) {
    ResumeWatch& w = watch();
    if (frame == w.iframe && ts == w.thread) [[unlikely]] {
        return maybe_resumed(ts, frame, throwflag);
    }
    return next_eval()(ts, frame, throwflag);
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
// that through the frame-evaluation function; then install the line hook. Returns false (and
// does nothing) when a watch is already on or the version has sys.monitoring.
inline bool line_hook_on_resume(PyObject* frame) noexcept {
#if FS_HAS_MONITORING
    (void)frame;
    return false;
#else
    detail::ResumeWatch& w = detail::watch();
    if (w.frame != nullptr) {
        return false;  // one at a time
    }
    PyThreadState* ts = current_thread();
    PyInterpreterState* interp = PyThreadState_GetInterpreter(ts);
    EvalFrameFunction current = eval_frame_function(interp);
    if (current != detail::resume_eval) {
        if (w.previous != nullptr) {
            return false;  // ours still sits inside another tool's chain, below its function
        }
        w.previous = current;
        set_eval_frame_function(interp, detail::resume_eval);
    }  // else ours is installed already (another tool put it back): it is reused
    w.frame = Py_NewRef(frame);
    w.iframe = of_object(reinterpret_cast<PyFrameObject*>(frame));
    w.thread = ts;
    return true;
#endif
}

// Stops watching (the jump was cancelled or done some other way), from any thread.
inline void stop_watching_resume() noexcept {
#if !FS_HAS_MONITORING
    detail::end_watch();
#endif
}

}  // namespace fs::compat
