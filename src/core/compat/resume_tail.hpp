// compat/resume_tail.hpp: what jump/resume_tail.cpp reads and changes in a suspended generator's
// frame and in its code object. The resume tail exists on 3.11 only (FS_HAS_RESUME_TAIL); there
// these are the fields of _PyInterpreterFrame and PyCodeObject it needs, elsewhere they are
// never called (resume_tail.cpp asks compat::kHasResumeTail first) and return nothing.
//
// Positions on the evaluation stack count from its bottom (0), so that a record of them outlives
// the frame's own pointers.
#pragma once

#include "compat/bytecode.hpp"
#include "compat/frames.hpp"
#include "refs.hpp"

#include <utility>

namespace fs::compat {

// A suspended generator's frame, as the tail reads it: empty (code == nullptr) when the frame is
// not suspended, or on versions without a resume tail.
struct ResumePoint {
    PyCodeObject* code = nullptr;  // borrowed: the code the frame runs
    int unit = -1;                 // the code unit it last ran (its yield), which it resumes after
    int depth = 0;                 // values on its evaluation stack
    explicit operator bool() const noexcept { return code != nullptr; }
};

inline ResumePoint resume_point(PyFrameObject* fo) noexcept {
    ResumePoint p;
#if FS_HAS_RESUME_TAIL
    PyObject* owner = nullptr;
    if (frame_status(fo, &owner) != FrameStatus::suspended) {
        return p;
    }
    _PyInterpreterFrame* f = fo->f_frame;
    p.code = f->f_code;
    p.unit = static_cast<int>(f->prev_instr - _PyCode_CODE(f->f_code));
    p.depth = f->stacktop - f->f_code->co_nlocalsplus;
#else
    (void)fo;
#endif
    return p;
}

// The code object's size in code units, the slots of its frames before the evaluation stack
// (locals, cells, free variables) and the evaluation stack's size.
struct CodeShape {
    int units = 0;
    int slots = 0;
    int stacksize = 0;
    bool operator==(const CodeShape&) const = default;
};

inline CodeShape code_shape(PyCodeObject* co) noexcept {
    CodeShape s;
#if FS_HAS_RESUME_TAIL
    s.units = static_cast<int>(_PyCode_NBYTES(co) / 2);
    s.slots = co->co_nlocalsplus;
    s.stacksize = co->co_stacksize;
#else
    (void)co;
#endif
    return s;
}

// The location table (3.11+: co_linetable), borrowed; nullptr on 3.10, whose co_linetable is
// another format.
inline PyObject* location_table(PyCodeObject* co) noexcept {
#if FS_HAS_LOCATION_TABLE
    return co->co_linetable;
#else
    (void)co;
    return nullptr;
#endif
}

// The value at `pos` of a suspended frame's evaluation stack (borrowed; may be NULL).
inline PyObject* stack_value(PyFrameObject* fo, int pos) noexcept {
#if FS_HAS_RESUME_TAIL
    _PyInterpreterFrame* f = fo->f_frame;
    return f->localsplus[f->f_code->co_nlocalsplus + pos];
#else
    (void)fo;
    (void)pos;
    return nullptr;
#endif
}

// Stores `value` at `pos` of a suspended frame's evaluation stack; returns what was there.
inline Owned<> replace_stack_value(PyFrameObject* fo, int pos, Owned<> value) noexcept {
#if FS_HAS_RESUME_TAIL
    _PyInterpreterFrame* f = fo->f_frame;
    PyObject*& slot = f->localsplus[f->f_code->co_nlocalsplus + pos];
    return Owned<>::steal(std::exchange(slot, value.release()));
#else
    (void)fo;
    (void)pos;
    return value;
#endif
}

// Makes a suspended frame run `code` (the same slots and stack size as its own), resuming after
// code unit `unit`; returns the code it ran.
inline Owned<PyCodeObject> replace_code(PyFrameObject* fo, Owned<PyCodeObject> code,
                                        int unit) noexcept {
#if FS_HAS_RESUME_TAIL
    _PyInterpreterFrame* f = fo->f_frame;
    Owned<PyCodeObject> before = Owned<PyCodeObject>::steal(f->f_code);
    f->f_code = code.release();
    f->prev_instr = _PyCode_CODE(f->f_code) + unit;
    return before;
#else
    (void)fo;
    (void)unit;
    return code;
#endif
}

}  // namespace fs::compat
