// compat/frames.hpp: version-neutral access to the frames of the running interpreter.
//
// `IFrame` is what the interpreter walks: a _PyInterpreterFrame on 3.11+ (no Python object), a
// PyFrameObject on 3.10. Every function here has the same meaning and the same ownership on every
// version; the #if lives inside. None of them allocates or raises unless it says so. All must be
// called with the GIL held.
#pragma once

#include "compat/code_lines.hpp"
#include "compat/python.hpp"
#include "refs.hpp"

namespace fs::compat {

#if FS_HAS_INTERPRETER_FRAME
using IFrame = _PyInterpreterFrame;
#else
using IFrame = PyFrameObject;
#endif

// `f` itself or the nearest frame behind it that CPython shows to Python code. 3.11+ keeps
// frames on the chain that are not shown: frames still running their prologue (before RESUME,
// "incomplete") and, from 3.12, shim frames that mark a C call into the interpreter. sys._getframe,
// f_back and tracebacks skip them (CPython's _PyFrame_IsIncomplete() in pycore_frame.h, 3.14+
// pycore_interpframe.h, says which); so do we.
inline IFrame* first_visible(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    while (f != nullptr && _PyFrame_IsIncomplete(f)) {
        f = f->previous;
    }
#endif
    return f;
}

// The calling thread's state. Functions of the core are only called from Python, with the GIL
// held, so it exists; this skips PyThreadState_Get()'s check for a missing one.
inline PyThreadState* current_thread() noexcept {
#if FS_HAS_PUBLIC_GET_UNCHECKED
    return PyThreadState_GetUnchecked();  // the private name is deprecated from 3.14
#else
    return _PyThreadState_UncheckedGet();
#endif
}

// The innermost visible frame of a thread, or nullptr when it runs no Python code.
inline IFrame* thread_top(PyThreadState* ts) noexcept {
#if FS_HAS_CFRAME_CURRENT_FRAME
    return ts->cframe != nullptr ? first_visible(ts->cframe->current_frame) : nullptr;
#elif FS_HAS_INTERPRETER_FRAME
    return first_visible(ts->current_frame);
#else
    return ts->frame;
#endif
}

// The frame object of `f` if it exists already (borrowed), else nullptr. Never creates one.
// A finished frame whose frame object outlived it (3.11+) has moved into that object
// (FRAME_OWNED_BY_FRAME_OBJECT); its own frame_obj field is not reliable then (3.11's
// take_ownership() in Objects/frameobject.c clears it before the move), but the object is the
// one that contains it.
inline PyFrameObject* existing_object(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    if (f->owner == FRAME_OWNED_BY_FRAME_OBJECT) {
        auto* data = reinterpret_cast<char*>(f);
        return reinterpret_cast<PyFrameObject*>(data - offsetof(PyFrameObject, _f_frame_data));
    }
    return f->frame_obj;
#else
    return f;
#endif
}

// The frame that `f` returns to, as `frame.f_back` would give it (without creating it).
// A running or suspended frame follows `previous`. A finished frame that moved into its frame
// object no longer has one: CPython stored its caller's frame object as f_back when it moved
// (take_ownership() in frameobject.c), and that is the only place f_back is ever set, so live
// frames' objects need not be looked at.
inline IFrame* back(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    if (f->owner == FRAME_OWNED_BY_FRAME_OBJECT) {
        PyFrameObject* caller = existing_object(f)->f_back;
        return caller != nullptr ? caller->f_frame : nullptr;
    }
    return first_visible(f->previous);
#else
    return f->f_back;
#endif
}

// back() for a frame known to be running or waiting on the current thread's stack (never one
// that moved into its frame object): one test less per step on the hot depth walk.
inline IFrame* back_live(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    return first_visible(f->previous);
#else
    return f->f_back;
#endif
}

// The walkable frame behind a frame object.
inline IFrame* of_object(PyFrameObject* fo) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    return fo->f_frame;
#else
    return fo;
#endif
}

// The code object `f` runs (borrowed; the frame holds a strong reference).
inline PyCodeObject* code(IFrame* f) noexcept {
#if FS_HAS_FRAME_EXECUTABLE
    return _PyFrame_GetCode(f);
#else
    return f->f_code;
#endif
}

// The globals dict of `f` (borrowed).
inline PyObject* globals(IFrame* f) noexcept {
    return f->f_globals;
}

// The offset of the frame's current instruction in its code, in code units (f_lasti / 2 on
// 3.11+, f_lasti on 3.10). Together with the code object it fixes the line, unless
// line_set_on_object() says the frame object carries a line of its own.
inline int instruction_offset(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    return _PyInterpreterFrame_LASTI(f);
#else
    return f->f_lasti;
#endif
}

// frame.f_lasti: the byte offset of the frame's current instruction, -1 before its first.
inline int lasti_bytes(IFrame* f) noexcept {
    int units = instruction_offset(f);
    return units < 0 ? -1 : units * int(sizeof(_Py_CODEUNIT));
}

// Whether the frame's line comes from its frame object rather than from its instruction: a line
// event of a trace function, or an f_lineno jump, stores one there (PyFrame_GetLineNumber).
inline bool line_set_on_object(IFrame* f) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    PyFrameObject* fo = existing_object(f);
    return fo != nullptr && fo->f_lineno != 0;
#else
    return f->f_trace != nullptr;
#endif
}

// The line `f` is at, as `frame.f_lineno` gives it; -1 when the current instruction has none.
// Where a frame object carries a line of its own (set by tracing or a jump; 3.13+ may also mark
// one to be computed on first use) CPython's answer is taken; otherwise the line comes from the
// code's line ranges (compat/code_lines.hpp), as PyFrame_GetLineNumber() would compute it.
inline int lineno(IFrame* f) noexcept {
    if (PyFrameObject* fo = existing_object(f); fo != nullptr && fo->f_lineno != 0) {
        return fo->f_lineno > 0 ? fo->f_lineno : PyFrame_GetLineNumber(fo);
    }
    return code_line(code(f), instruction_offset(f));
}

// The name tracebacks show for a code object: its qualified name where the version has one.
inline PyObject* function_name(PyCodeObject* co) noexcept {
#if FS_HAS_CO_QUALNAME
    return co->co_qualname;
#else
    return co->co_name;
#endif
}

// The value of an exact int that fits in one digit (|value| < 2**30), without a call into the
// interpreter: getframe(n)'s argument, on a path where a call is a measurable share of the cost.
// Returns false for any other int; the caller then converts it the general way.
inline bool small_int_value(PyObject* op, Py_ssize_t& out) noexcept {
#if FS_HAS_COMPACT_LONG
    auto* lo = reinterpret_cast<PyLongObject*>(op);
    if (!PyUnstable_Long_IsCompact(lo)) {
        return false;
    }
    out = PyUnstable_Long_CompactValue(lo);
    return true;
#else
    auto* lo = reinterpret_cast<PyLongObject*>(op);
    Py_ssize_t size = Py_SIZE(lo);
    if (size < -1 || size > 1) {
        return false;
    }
    out = size * static_cast<Py_ssize_t>(lo->ob_digit[0]);
    return true;
#endif
}

// The thread states of an interpreter. With the GIL held, the list and every other thread's
// frames stay as they are while we read them.
inline PyThreadState* first_thread(PyInterpreterState* interp) noexcept {
    return PyInterpreterState_ThreadHead(interp);
}
inline PyThreadState* next_thread(PyThreadState* ts) noexcept {
    return PyThreadState_Next(ts);
}
inline unsigned long thread_id(PyThreadState* ts) noexcept {
    return ts->thread_id;
}

// Where a frame object's frame is in its life. `running` means it is on some thread's stack
// (executing, or waiting for a call it made to return); generator frames add `created` (not
// started) and `suspended` (at a yield or await).
enum class FrameStatus { created, running, suspended, finished };

#if !FS_HAS_INTERPRETER_FRAME
// 3.10: whether a frame that has not started is being entered (at its 'call' trace event). A
// generator's frame has an f_back only while it runs: gen_send_ex2() sets it before evaluating
// the frame and clears it after (Objects/genobject.c); a generator started by C code on a thread
// with no Python frame has none, and shows as not started. A function's frame gets its f_back
// when it is made, so the current thread's stack is looked at: only a frame at its 'call' event
// is there without having started.
inline bool being_entered(PyFrameObject* fo) noexcept {
    if (fo->f_gen != nullptr) {
        return fo->f_back != nullptr;
    }
    for (PyFrameObject* f = current_thread()->frame; f != nullptr; f = f->f_back) {
        if (f == fo) {
            return true;
        }
    }
    return false;
}
#endif

// The status of the frame behind `fo`, and the generator, coroutine or async generator that owns
// it (borrowed; nullptr for a function's frame, and for a finished frame).
inline FrameStatus frame_status(PyFrameObject* fo, PyObject** owner) noexcept {
    *owner = nullptr;
#if FS_HAS_INTERPRETER_FRAME
    IFrame* f = fo->f_frame;
    switch (f->owner) {
        case FRAME_OWNED_BY_GENERATOR: {
            auto* gen = reinterpret_cast<PyGenObject*>(reinterpret_cast<char*>(f) -
                                                       offsetof(PyGenObject, gi_iframe));
            *owner = reinterpret_cast<PyObject*>(gen);
            int state = gen->gi_frame_state;
            if (state == FRAME_CREATED) {
                return FrameStatus::created;
            }
            // gh-111354 (3.13) split the suspended state in two (at a yield, in a yield
            // from/await) and added FRAME_STATE_SUSPENDED() to test for either.
#ifdef FRAME_STATE_SUSPENDED
            if (FRAME_STATE_SUSPENDED(state)) {
#else
            if (state == FRAME_SUSPENDED) {
#endif
                return FrameStatus::suspended;
            }
            if (state == FRAME_EXECUTING) {
                return FrameStatus::running;
            }
            *owner = nullptr;
            return FrameStatus::finished;
        }
        case FRAME_OWNED_BY_FRAME_OBJECT:
            return FrameStatus::finished;
        default:
            return FrameStatus::running;
    }
#else
    // 3.10's f_state lags behind at two trace events (Python/ceval.c, _PyEval_EvalFrameDefault):
    // the 'call' event of a frame's first entry comes before the state becomes FRAME_EXECUTING
    // (it is still FRAME_CREATED), and the 'exception' event marks the frame FRAME_UNWINDING
    // while it may still run a handler of its own. Both frames are on their thread's stack, and
    // 3.11+ report them running. (A resumed generator's 'call' event still shows it suspended:
    // nothing tells it from its 'return' event at the yield, where it is suspended.)
    *owner = fo->f_gen;
    switch (fo->f_state) {
        case FRAME_CREATED:
            return being_entered(fo) ? FrameStatus::running : FrameStatus::created;
        case FRAME_SUSPENDED:
            return FrameStatus::suspended;
        case FRAME_EXECUTING:
        case FRAME_UNWINDING:
            return FrameStatus::running;
        default:
            *owner = nullptr;
            return FrameStatus::finished;
    }
#endif
}

}  // namespace fs::compat
