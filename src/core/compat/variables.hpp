// compat/variables.hpp: version-neutral access to the variables of a frame.
//
// A frame's variables live in slots: its code's locals (arguments first), then its cell
// variables, then its free variables. A cell or free variable's slot holds a cell object whose
// contents is the value. Code outside compat/ sees the slots through `Vars` (names and kinds,
// one entry per variable, in slot order) and reads or writes them with var_value()/var_store();
// where the value sits, how references are kept (tagged stack references on 3.14+) and what the
// interpreter caches besides (the locals dict before 3.13) stays in here.
//
// "Extras" are the keys a user stored under a name that is not a variable of the code: 3.13+
// keeps them in the frame object's f_extra_locals dict; before 3.13 they live in the frame's
// locals dict, next to the copies of the variables that f_locals leaves there.
#pragma once

#include "compat/frames.hpp"

// FS_HAS_HIDDEN_LOCALS (PEP 709), FS_FRAME_LOCALS_PROXY (PEP 667), FS_HAS_BORROWED_LOCALS and
// FS_HAS_TIER2_EXECUTORS are the version registry's (versions.toml), with their causes. Whether
// an interpreter really has the tier-2 optimizer is not visible at compile time (_Py_TIER2 is a
// flag of CPython's own build), so that hook is looked up when the core loads.
#if FS_HAS_TIER2_EXECUTORS
#include <dlfcn.h>
#endif

namespace fs::compat {

enum VarKind : unsigned {
    VAR_LOCAL = 1,   // a local variable or argument of the code
    VAR_CELL = 2,    // its slot holds a cell that inner functions share
    VAR_FREE = 4,    // a variable of an enclosing function, through a cell
    VAR_HIDDEN = 8,  // an inlined comprehension's variable (3.12+)
};

// The variables of a code object, in slot order.
class Vars {
public:
    explicit Vars(PyCodeObject* co) noexcept : co_(co) {
#if FS_HAS_INTERPRETER_FRAME
        count_ = co->co_nlocalsplus;
#else
        nlocals_ = co->co_nlocals;
        ncells_ = static_cast<int>(PyTuple_GET_SIZE(co->co_cellvars));
        count_ = nlocals_ + ncells_ + static_cast<int>(PyTuple_GET_SIZE(co->co_freevars));
#endif
    }

    int count() const noexcept { return count_; }

    // The variable's name: an exact str.
    PyObject* name(int i) const noexcept {
#if FS_HAS_INTERPRETER_FRAME
        return PyTuple_GET_ITEM(co_->co_localsplusnames, i);
#else
        if (i < nlocals_) {
            return PyTuple_GET_ITEM(co_->co_varnames, i);
        }
        if (i < nlocals_ + ncells_) {
            return PyTuple_GET_ITEM(co_->co_cellvars, i - nlocals_);
        }
        return PyTuple_GET_ITEM(co_->co_freevars, i - nlocals_ - ncells_);
#endif
    }

    unsigned kind(int i) const noexcept {
#if FS_HAS_INTERPRETER_FRAME
        auto k = _PyLocals_GetKind(co_->co_localspluskinds, i);
        unsigned out = 0;
        if (k & CO_FAST_LOCAL) out |= VAR_LOCAL;
        if (k & CO_FAST_CELL) out |= VAR_CELL;
        if (k & CO_FAST_FREE) out |= VAR_FREE;
#if FS_HAS_HIDDEN_LOCALS
        if (k & CO_FAST_HIDDEN) out |= VAR_HIDDEN;
#endif
        return out;
#else
        if (i < nlocals_) {
            return VAR_LOCAL | (arg_cell(i) >= 0 ? VAR_CELL : 0u);
        }
        return i < nlocals_ + ncells_ ? VAR_CELL : VAR_FREE;
#endif
    }

    // 3.10 gives an argument that inner functions capture two slots: the argument's (emptied
    // when the frame starts) and a cell. Here the argument's entry stands for the variable and
    // the cell's entry is skipped, so every version lists each variable once, in the order of
    // 3.11+'s single slot.
    bool skipped(int i) const noexcept {
#if FS_HAS_INTERPRETER_FRAME
        (void)i;
        return false;
#else
        return i >= nlocals_ && i < nlocals_ + ncells_ && co_->co_cell2arg != nullptr &&
               co_->co_cell2arg[i - nlocals_] != CO_CELL_NOT_AN_ARG;
#endif
    }

    // The frame slot that holds entry i's value or cell.
    int slot(int i) const noexcept {
#if FS_HAS_INTERPRETER_FRAME
        return i;
#else
        int cell = i < nlocals_ ? arg_cell(i) : -1;
        return cell >= 0 ? nlocals_ + cell : i;
#endif
    }

private:
#if !FS_HAS_INTERPRETER_FRAME
    // The index of the cell that holds argument `i`, or -1.
    int arg_cell(int i) const noexcept {
        if (co_->co_cell2arg == nullptr) {
            return -1;
        }
        for (int c = 0; c < ncells_; ++c) {
            if (co_->co_cell2arg[c] == i) {
                return c;
            }
        }
        return -1;
    }
    int nlocals_ = 0;
    int ncells_ = 0;
#endif
    PyCodeObject* co_;
    int count_ = 0;
};

// Whether the frame runs code with fast locals (a function body) rather than code whose
// variables are a namespace mapping (module, class body, exec/eval).
inline bool is_optimized(PyCodeObject* co) noexcept {
    return (co->co_flags & CO_OPTIMIZED) != 0;
}

// The raw contents of a slot (a value or a cell; borrowed), nullptr when empty.
inline PyObject* slot_object(IFrame* f, int slot) noexcept {
#if FS_HAS_BORROWED_LOCALS
    _PyStackRef ref = _PyFrame_GetLocalsArray(f)[slot];
    return PyStackRef_IsNull(ref) ? nullptr : PyStackRef_AsPyObjectBorrow(ref);
#elif FS_HAS_INTERPRETER_FRAME
    return _PyFrame_GetLocalsArray(f)[slot];
#else
    return f->f_localsplus[slot];
#endif
}

// Entry i's value (borrowed; a cell's contents), or nullptr when unbound or empty.
//
// A slot of a cell variable does not always hold a cell: with PEP 709 (3.12+) an inlined
// comprehension's variable may share a name, and so the slot, with a cell variable of the
// enclosing code; then the slot holds the plain value. (gh-128396: CPython's own proxy took it
// for a cell and crashed, until the fix made in 3.13 and 3.14.)
inline PyObject* var_value(IFrame* f, const Vars& vars, int i) noexcept {
    PyObject* v = slot_object(f, vars.slot(i));
    if (v != nullptr && (vars.kind(i) & (VAR_CELL | VAR_FREE)) && PyCell_Check(v)) {
        return PyCell_GET(v);
    }
    return v;
}

// The interpreter's own locals mapping of the frame (borrowed, may be nullptr): the namespace
// of module, class and exec code; for a function before 3.13, the dict that f_locals fills.
inline PyObject* locals_mapping(IFrame* f) noexcept {
    return f->f_locals;
}

// Whether a frame whose code keeps its variables in a namespace mapping (module, class body,
// exec) shows them through a proxy instead, as frame.f_locals does: from 3.13, while one of its
// hidden variables (an inlined comprehension's, PEP 709) has a value. PEP 667 (gh-74929, 3.13)
// made f_locals a FrameLocalsProxy there (CPython's _PyFrame_HasHiddenLocals() in
// Objects/frameobject.c); before, f_locals is the namespace and the variable is not in it
// (gh-108732).
inline bool namespace_frame_uses_proxy([[maybe_unused]] IFrame* f) noexcept {
#if FS_FRAME_LOCALS_PROXY
    Vars vars(code(f));
    for (int i = 0; i < vars.count(); ++i) {
        if ((vars.kind(i) & VAR_HIDDEN) && var_value(f, vars, i) != nullptr) {
            return true;
        }
    }
#endif
    return false;
}

// Whether `op` is the interpreter's own FrameLocalsProxy (PEP 667, gh-74929: 3.13+), a mapping
// with a LocalsView's meaning. False where the version has none.
inline bool is_frame_locals_proxy([[maybe_unused]] PyObject* op) noexcept {
#if FS_FRAME_LOCALS_PROXY
    return PyObject_TypeCheck(op, &PyFrameLocalsProxy_Type);
#else
    return false;
#endif
}

// Whether the frame has finished (returned, raised out, or was cleared with frame.clear()).
inline bool has_finished(PyFrameObject* fo) noexcept {
    PyObject* owner = nullptr;
    return frame_status(fo, &owner) == FrameStatus::finished;
}

// Extra keys: the dict that holds them (borrowed), or nullptr when there is none yet. With
// `create`, makes it first (then nullptr means a Python error is set).
inline PyObject* extras_dict(PyFrameObject* fo, bool create) noexcept {
#if FS_FRAME_LOCALS_PROXY
    if (fo->f_extra_locals == nullptr && create) {
        fo->f_extra_locals = PyDict_New();
    }
    return fo->f_extra_locals;
#else
    IFrame* f = of_object(fo);
    if (f->f_locals == nullptr && create) {
        f->f_locals = PyDict_New();
    }
    return f->f_locals;
#endif
}

// Whether a key of extras_dict() that names a variable is a stale copy to be ignored: before
// 3.13 the dict also holds the copies f_locals made of the variables. (Hidden comprehension
// variables are never copied there, so a key naming one is a true extra.)
constexpr bool extras_shadowed_by_variables = !FS_FRAME_LOCALS_PROXY;

// The interpreter's tier-2 invalidation hook, set by init_tier2_hook() when this process can
// have tier-2 traces; nullptr otherwise.
using Tier2Hook = void (*)(PyInterpreterState*, void*, int);
inline Tier2Hook tier2_invalidate = nullptr;

// Looks the hook up, once, when the core loads. Traces exist only while the tier-2 optimizer
// is on (PYTHON_JIT at startup); where sys._jit says it is off, writes skip the call, which
// costs as much as the write itself. Where the interpreter has the hook but no sys._jit, it is
// always called. Returns -1 with an error set on failure.
inline int init_tier2_hook() {
#if FS_HAS_TIER2_EXECUTORS
    auto hook = reinterpret_cast<Tier2Hook>(
        dlsym(RTLD_DEFAULT, "_Py_Executors_InvalidateDependency"));
    if (hook == nullptr) {
        return 0;
    }
    auto sys = Owned<>::steal(PyImport_ImportModule("sys"));
    if (!sys) {
        return -1;
    }
    auto jit = Owned<>::steal(PyObject_GetAttrString(sys.get(), "_jit"));
    if (!jit) {
        PyErr_Clear();
        tier2_invalidate = hook;
        return 0;
    }
    auto enabled = Owned<>::steal(PyObject_CallMethod(jit.get(), "is_enabled", nullptr));
    if (!enabled) {
        return -1;
    }
    int on = PyObject_IsTrue(enabled.get());
    if (on < 0) {
        return -1;
    }
    tier2_invalidate = on ? hook : nullptr;
#endif
    return 0;
}

// Drops the tier-2 traces that depend on `co`, where there can be any.
inline void invalidate_executors(PyCodeObject* co) noexcept {
    if (tier2_invalidate != nullptr) {
        tier2_invalidate(PyInterpreterState_Get(), co, 1);
    }
}

// Makes the local slots of a finished, cleared frame part of the frame again, so that what is
// written into them is released when the frame object is (and seen by the garbage collector).
//
// A frame that finished while its frame object lived moved into that object
// (FRAME_OWNED_BY_FRAME_OBJECT, 3.11+): the slots below the stack top (stacktop, an offset, before
// 3.14; stackpointer from 3.14, gh-120024) were copied, and they are what the object's
// frame_dealloc() releases and frame_traverse() visits (Objects/frameobject.c). frame.clear()
// (frame_tp_clear()) releases them, sets them to NULL and moves the stack top down to the first
// slot. CPython 3.14's FrameLocalsProxy still writes into such a frame (framelocalsproxy_setitem()
// looks at no state), and reads give the values back, but its values then sit above the stack
// top, where nothing releases them; here the stack top is put back above the locals first. The
// slots between the old top and the end of the locals are set to NULL: the clear released them
// (a finished frame's top is never below the locals), so nothing is lost, and nothing stale is
// released twice.
// 3.10's frame is the object: frame_dealloc() releases every local slot whatever the state, and
// a generator's frame (3.11+, owned by the generator until it is released) still covers its
// locals. Both are left as they are.
inline void reopen_cleared_locals([[maybe_unused]] PyFrameObject* fo) noexcept {
#if FS_HAS_INTERPRETER_FRAME
    IFrame* f = fo->f_frame;
    if (f->owner != FRAME_OWNED_BY_FRAME_OBJECT) {
        return;
    }
    int nlocals = code(f)->co_nlocalsplus;
#if FS_HAS_FRAME_STACKPOINTER
    _PyStackRef* end = f->localsplus + nlocals;
    if (f->stackpointer >= end) {
        return;
    }
    for (_PyStackRef* p = f->stackpointer; p < end; ++p) {
        *p = PyStackRef_NULL;
    }
    f->stackpointer = end;
#else
    if (f->stacktop >= nlocals) {
        return;
    }
    for (int i = f->stacktop < 0 ? 0 : f->stacktop; i < nlocals; ++i) {
        f->localsplus[i] = nullptr;
    }
    f->stacktop = nlocals;
#endif
#endif
}

#if FS_HAS_BORROWED_LOCALS
// The first item of the list that keep_overwritten() makes: a str object of its own, compared by
// identity, so that the list is never mistaken for a user's list that CPython's proxy kept there.
// Made on first use and kept for the life of the process; nullptr with an error set on failure.
inline PyObject* overwritten_marker() noexcept {
    static PyObject* marker = nullptr;
    if (marker == nullptr) {
        marker = PyUnicode_FromString("framescope: the values replaced in this frame's locals");
    }
    return marker;
}

// Keeps `old` (a value being replaced in a local slot of `fo`) alive for as long as the frame
// object: its value stack may still hold a borrowed reference to it (3.14's LOAD_FAST_BORROW).
//
// CPython's own proxy keeps such values in the frame object's f_overwritten_fast_locals, a tuple
// it copies with one more item on every write (add_overwritten_fast_local() in
// Objects/frameobject.c, 3.14 and 3.15): n writes into one frame cost O(n^2). framescope keeps
// them in a list (marked by its first item, overwritten_marker()) held as item 0 of that same
// tuple, and appends to the list: amortised O(1). The tuple stays what CPython expects there
// (its proxy copies it, keeping the list at item 0, and appends its own values), and CPython's
// frame_dealloc() and frame_tp_clear() release it, and so the list and the values;
// frame_traverse() visits it.
inline int keep_overwritten(PyFrameObject* fo, PyObject* old) noexcept {
    auto keep = Owned<>::ref(old);  // a finalizer run by an allocation below may replace it
    PyObject* marker = overwritten_marker();
    if (marker == nullptr) {
        return -1;
    }
    auto ours = [fo, marker]() -> PyObject* {  // the list in the tuple, or nullptr
        PyObject* t = fo->f_overwritten_fast_locals;
        if (t == nullptr || !PyTuple_Check(t) || PyTuple_GET_SIZE(t) == 0) {
            return nullptr;
        }
        PyObject* first = PyTuple_GET_ITEM(t, 0);
        return PyList_CheckExact(first) && PyList_GET_SIZE(first) > 0 &&
                       PyList_GET_ITEM(first, 0) == marker
                   ? first
                   : nullptr;
    };
    if (PyObject* list = ours()) {
        return PyList_Append(list, keep.get());  // a reallocation: no collection can run
    }
    auto list = Owned<>::steal(PyList_New(0));
    if (!list || PyList_Append(list.get(), marker) < 0 ||
        PyList_Append(list.get(), keep.get()) < 0) {
        return -1;
    }
    for (;;) {
        if (PyObject* other = ours()) {  // made meanwhile, by a write from a finalizer
            return PyList_Append(other, keep.get());
        }
        auto size = [fo] {
            PyObject* t = fo->f_overwritten_fast_locals;
            return t != nullptr ? PyTuple_GET_SIZE(t) : Py_ssize_t{0};
        };
        Py_ssize_t n = size();
        auto grown = Owned<>::steal(PyTuple_New(n + 1));
        if (!grown) {
            return -1;
        }
        if (size() != n || ours() != nullptr) {
            continue;  // a finalizer run by the allocation wrote too: again
        }
        PyTuple_SET_ITEM(grown.get(), 0, list.release());
        for (Py_ssize_t k = 0; k < n; ++k) {
            PyTuple_SET_ITEM(grown.get(), k + 1,
                             Py_NewRef(PyTuple_GET_ITEM(fo->f_overwritten_fast_locals, k)));
        }
        Py_XSETREF(fo->f_overwritten_fast_locals, grown.release());
        return 0;
    }
}
#endif

// Stores `value` (not nullptr) as entry i's value: into its cell for a cell or free variable,
// into the slot otherwise. Keeps what the interpreter caches in step, so that no later
// write-back of the cache undoes it. The frame may have finished or been cleared: as CPython
// 3.14's proxy does, the value is stored all the same (reopen_cleared_locals() says where it
// lives then). Returns -1 with a Python error set on failure, with the variable unchanged.
inline int var_store(PyFrameObject* fo, const Vars& vars, int i, PyObject* value) noexcept {
    IFrame* f = of_object(fo);
#if !FS_FRAME_LOCALS_PROXY
    // Before 3.13 a trace function's trampoline (call_trampoline() in Python/sysmodule.c, through
    // PyFrame_LocalsToFast() in Objects/frameobject.c) copies the locals dict back into the
    // slots after every event, and drops a variable whose key is missing; the dict must say what
    // the slot says. PEP 667 (gh-74929, 3.13) removed that copy.
    if (f->f_locals != nullptr && PyDict_Check(f->f_locals) &&
        PyDict_SetItem(f->f_locals, vars.name(i), value) < 0) {
        return -1;
    }
#endif
    invalidate_executors(code(f));
    reopen_cleared_locals(fo);
    int slot = vars.slot(i);
    PyObject* old = slot_object(f, slot);
    bool celled = (vars.kind(i) & (VAR_CELL | VAR_FREE)) != 0;
    if (celled && old != nullptr && PyCell_Check(old)) {
        return PyCell_Set(old, value);
    }
    Owned<> cell;
    if (celled && old == nullptr && has_finished(fo)) {
        // A cleared frame has lost its cells. The value goes into a new cell rather than into
        // the slot itself: before 3.13 frame.f_locals (PyFrame_FastToLocalsWithError() in
        // Objects/frameobject.c) takes a cell variable's slot (3.10) or a free variable's
        // (3.11, 3.12) for a cell without checking, and would read a plain value as one. No
        // code runs in the frame again to expect anything else.
        cell = Owned<>::steal(PyCell_New(value));
        if (!cell) {
            return -1;
        }
        value = cell.get();
    }
    if (old == value) {
        return 0;
    }
#if FS_HAS_BORROWED_LOCALS
    // Until the slot holds nothing that is not kept: keep_overwritten() may run a finalizer
    // that writes this slot.
    for (PyObject* kept = nullptr; old != nullptr && old != kept && !_Py_IsImmortal(old);
         old = slot_object(f, slot)) {
        if (keep_overwritten(fo, old) < 0) {
            return -1;
        }
        kept = old;
    }
    _PyStackRef* fast = _PyFrame_GetLocalsArray(f);
    _PyStackRef previous = fast[slot];
    fast[slot] = PyStackRef_FromPyObjectNew(value);
    PyStackRef_XCLOSE(previous);
#elif FS_HAS_INTERPRETER_FRAME
    PyObject** fast = _PyFrame_GetLocalsArray(f);
    Py_XSETREF(fast[slot], Py_NewRef(value));
#else
    Py_XSETREF(f->f_localsplus[slot], Py_NewRef(value));
#endif
    return 0;
}

// The builtins the frame's code sees (borrowed).
inline PyObject* builtins(IFrame* f) noexcept {
    return f->f_builtins;
}

}  // namespace fs::compat
