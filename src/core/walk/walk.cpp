// walk/walk.cpp: walking the frames of the running interpreter.
//
// The walk follows compat::back() from a starting frame. It reads the interpreter's own frames
// (_PyInterpreterFrame on 3.11+), so stack() and threads() create no frame object; getframe() and
// frames() create frame objects only for the frames they return, and only where none exists.
#include "walk/walk.hpp"

#include "args.hpp"
#include "compat/audit.hpp"
#include "walk/frame_info.hpp"

#include <array>

namespace fs::walk {
namespace {

using compat::IFrame;

// Converts an int-like depth. Returns false with ValueError/TypeError set. `what` names the
// argument in messages.
bool to_depth(const char* fname, const char* what, PyObject* obj, Py_ssize_t& depth) {
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s() %s must be an int, not %.200s", fname, what,
                     Py_TYPE(obj)->tp_name);
        return false;
    }
    auto index = Owned<>::steal(PyNumber_Index(obj));
    if (!index) {
        return false;
    }
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(index.get(), &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return false;
    }
    if (overflow < 0 || (overflow == 0 && value < 0)) {
        PyErr_Format(PyExc_ValueError, "%s() %s must be >= 0, got %S", fname, what, index.get());
        return false;
    }
    // Any depth past PY_SSIZE_T_MAX is past the end of every stack.
    depth = overflow > 0 || value > PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX : Py_ssize_t(value);
    return true;
}

// Counts the visible frames from `f` outward.
Py_ssize_t count_frames(IFrame* f) {
    Py_ssize_t n = 0;
    for (; f != nullptr; f = compat::back(f)) {
        ++n;
    }
    return n;
}

[[gnu::cold, gnu::noinline]] void too_deep(IFrame* top, Py_ssize_t depth) {
    // The start of the message is sys._getframe's, which callers may already match on.
    Py_ssize_t n = count_frames(top);
    PyErr_Format(PyExc_ValueError,
                 "call stack is not deep enough: depth %zd was asked for, and the caller's "
                 "stack has %zd frame%s (depths 0 to %zd)",
                 depth, n, n == 1 ? "" : "s", n - 1);
}

// The frame `depth` steps out from the caller's (the caller is depth 0), or nullptr with
// ValueError set. Core functions are C functions, so the thread's innermost frame is the caller.
// (Inlined: with frame_object_at() it is the whole of getframe(), whose cost is a few dozen
// instructions.)
[[gnu::always_inline]] inline IFrame* caller_at(PyThreadState* ts, Py_ssize_t depth) {
    IFrame* top = compat::thread_top(ts);
    IFrame* f = top;
    for (Py_ssize_t i = 0; f != nullptr && i < depth; ++i) {
        f = compat::back_live(f);  // the caller's own stack: every frame on it is live
    }
    if (f == nullptr) {
        too_deep(top, depth);
    }
    return f;
}

// A new reference to the frame object of the frame at `depth` from the caller (which exists:
// caller_at succeeded). Where the interpreter has not created it yet, it is created by asking the
// nearest frame object below it for f_back, the one public way to create a frame object for an
// interpreter frame; frame objects of the frames in between are created on the way only when no
// nearer one exists.
[[gnu::noinline]] Owned<PyFrameObject> materialize(PyThreadState* ts, Py_ssize_t depth) {
    IFrame* f = compat::thread_top(ts);
    Borrowed<PyFrameObject> nearest;  // its frame (or the thread state, below) holds it
    Py_ssize_t nearest_depth = 0;
    for (Py_ssize_t i = 0; f != nullptr && i <= depth; ++i, f = compat::back(f)) {
        if (PyFrameObject* fo = compat::existing_object(f)) {
            nearest = Borrowed<PyFrameObject>(fo);
            nearest_depth = i;
        }
    }
    Owned<PyFrameObject> cur;
    if (nearest) {
        cur = Owned<PyFrameObject>::ref(nearest);
    } else {
        cur = Owned<PyFrameObject>::steal(PyThreadState_GetFrame(ts));  // creates the innermost's
        if (!cur) {
            if (!PyErr_Occurred()) {
                PyErr_NoMemory();
            }
            return {};
        }
    }
    for (Py_ssize_t i = nearest_depth; i < depth && cur; ++i) {
        cur = Owned<PyFrameObject>::steal(PyFrame_GetBack(cur.get()));
        if (!cur && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "the stack changed while it was being walked");
        }
    }
    return cur;
}

// A new reference to the frame object `depth` calls out from the caller, created where it does
// not exist yet; nullptr with ValueError set when the stack is not that deep.
[[gnu::always_inline]] inline Owned<PyFrameObject> frame_object_at(Py_ssize_t depth) {
    PyThreadState* ts = compat::current_thread();
    IFrame* f = caller_at(ts, depth);
    if (f == nullptr) {
        return {};
    }
    PyFrameObject* existing = compat::existing_object(f);
    auto fo = existing != nullptr ? Owned<PyFrameObject>::ref(existing) : materialize(ts, depth);
    // The same audit event as sys._getframe: hooks that police frame access see ours too.
    if (fo && compat::audit_wanted(ts) && PySys_Audit("sys._getframe", "(O)", fo.obj()) < 0) {
        fo.reset();
    }
    return fo;
}

// The (start, limit) arguments of stack() and frames(), checked.
struct WalkArgs {
    Borrowed<PyFrameObject> frame;  // start given as a frame object (the caller's argument)
    bool depth_given = false;       // start given as a depth; else None: the caller itself
    Py_ssize_t depth = 0;
    Py_ssize_t limit = -1;  // -1: no limit
};

bool parse_walk_args(const char* fname, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames, WalkArgs& out) {
    static constexpr std::array<const char*, 2> names{"start", "limit"};
    std::array<PyObject*, 2> given{};
    if ((nargs != 0 || kwnames != nullptr) &&
        !parse_args(fname, names, 1, args, nargs, kwnames, given)) {
        return false;
    }
    PyObject* start = given[0];
    PyObject* limit = given[1];
    if (limit != nullptr && limit != Py_None) {
        if (!PyIndex_Check(limit)) {
            PyErr_Format(PyExc_TypeError, "%s() limit must be an int or None, not %.200s", fname,
                         Py_TYPE(limit)->tp_name);
            return false;
        }
        if (!to_depth(fname, "limit", limit, out.limit)) {
            return false;
        }
    }
    if (start == nullptr || start == Py_None) {
        return true;
    }
    if (PyFrame_Check(start)) {
        out.frame = Borrowed<PyFrameObject>(reinterpret_cast<PyFrameObject*>(start));
        return true;
    }
    if (!PyIndex_Check(start)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() start must be a frame, an int depth or None, not %.200s", fname,
                     Py_TYPE(start)->tp_name);
        return false;
    }
    out.depth_given = true;
    return to_depth(fname, "start", start, out.depth);
}

// Keeps the cyclic garbage collector from running while it lives. A collection can run
// finalizers, and a finalizer can release the GIL, letting another thread change or free the
// frames a walk is reading. Nothing else a walk does runs Python code.
class GcPause {
public:
    GcPause() noexcept : was_enabled_(PyGC_Disable() != 0) {}
    ~GcPause() {
        if (was_enabled_) {
            PyGC_Enable();
        }
    }
    GcPause(const GcPause&) = delete;
    GcPause& operator=(const GcPause&) = delete;

private:
    bool was_enabled_;
};

// FrameInfo records for `f` and the frames behind it, at most `limit` (-1: all).
Owned<> collect(IFrame* f, Py_ssize_t limit) {
    GcPause pause;
    auto list = Owned<>::steal(PyList_New(0));
    if (!list) {
        return {};
    }
    for (Py_ssize_t n = 0; f != nullptr && n != limit; f = compat::back(f), ++n) {
        auto info = make_frame_info(f);
        if (!info || PyList_Append(list.get(), info.get()) < 0) {
            return {};
        }
    }
    return list;
}

// getframe() with arguments other than one small non-negative int: parsed in full. Out of line,
// so that the common call below saves no registers and tail-calls getframe().
[[gnu::noinline]] PyObject* getframe_parsed(PyObject* const* args, Py_ssize_t nargs,
                                            PyObject* kwnames) {
    static constexpr std::array<const char*, 1> names{"depth"};
    std::array<PyObject*, 1> out{};
    Py_ssize_t depth = 0;
    if (!parse_args("getframe", names, 1, args, nargs, kwnames, out) ||
        !to_depth("getframe", "depth", out[0], depth)) {
        return nullptr;
    }
    return getframe(depth);
}

PyObject* py_getframe(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    if (kwnames == nullptr) {
        if (nargs == 0) {
            return getframe(0);
        }
        // The common call, getframe(n) with a small n: nothing to parse beyond the int itself.
        Py_ssize_t depth = 0;
        if (nargs == 1 && PyLong_CheckExact(args[0]) && compat::small_int_value(args[0], depth) &&
            depth >= 0) [[likely]] {
            return getframe(depth);
        }
    }
    return getframe_parsed(args, nargs, kwnames);
}

PyObject* py_stack(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    WalkArgs walk;
    if (!parse_walk_args("stack", args, nargs, kwnames, walk)) {
        return nullptr;
    }
    IFrame* f = nullptr;
    if (walk.frame) {
        f = compat::of_object(walk.frame.get());
    } else if (!walk.depth_given) {
        f = compat::thread_top(compat::current_thread());  // nullptr, an empty walk, when called from C
    } else if ((f = caller_at(compat::current_thread(), walk.depth)) == nullptr) {
        return nullptr;
    }
    return collect(f, walk.limit).release();
}

PyObject* py_frames(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    WalkArgs walk;
    if (!parse_walk_args("frames", args, nargs, kwnames, walk)) {
        return nullptr;
    }
    Py_ssize_t limit = walk.limit;
    Owned<PyFrameObject> cur;
    if (walk.frame) {
        cur = Owned<PyFrameObject>::ref(walk.frame);
    } else if (walk.depth_given || compat::thread_top(compat::current_thread()) != nullptr) {
        cur = frame_object_at(walk.depth);
        if (!cur) {
            return nullptr;
        }
    }
    auto list = Owned<>::steal(PyList_New(0));
    if (!list) {
        return nullptr;
    }
    for (Py_ssize_t n = 0; cur && n != limit; ++n) {
        if (PyList_Append(list.get(), cur.obj()) < 0) {
            return nullptr;
        }
        cur = Owned<PyFrameObject>::steal(PyFrame_GetBack(cur.get()));
        if (!cur && PyErr_Occurred()) {
            return nullptr;
        }
    }
    return list.release();
}

PyObject* py_threads(PyObject*, PyObject*) {
    GcPause pause;  // for the whole loop: the thread list too must stay as it is
    auto result = Owned<>::steal(PyDict_New());
    if (!result) {
        return nullptr;
    }
    PyInterpreterState* interp = PyThreadState_GetInterpreter(compat::current_thread());
    for (PyThreadState* ts = compat::first_thread(interp); ts != nullptr;
         ts = compat::next_thread(ts)) {
        IFrame* top = compat::thread_top(ts);
        if (top == nullptr) {
            continue;  // a thread running no Python code, as sys._current_frames() leaves it out
        }
        auto key = Owned<>::steal(PyLong_FromUnsignedLong(compat::thread_id(ts)));
        if (!key) {
            return nullptr;
        }
        auto frames = collect(top, -1);
        if (!frames || PyDict_SetItem(result.get(), key.get(), frames.get()) < 0) {
            return nullptr;
        }
    }
    return result.release();
}

PyMethodDef walk_methods[] = {
    {"getframe", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_getframe)),
     METH_FASTCALL | METH_KEYWORDS,
     "getframe($module, /, depth=0)\n--\n\n"
     "Return the frame object `depth` calls out from the caller, as sys._getframe(depth).\n\n"
     "getframe() is the caller's own frame. Raises ValueError when depth is negative or\n"
     "beyond the stack, TypeError when it is not an int. Raises the audit event\n"
     "sys._getframe, as sys._getframe does."},
    {"stack", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_stack)),
     METH_FASTCALL | METH_KEYWORDS,
     "stack($module, /, start=None, *, limit=None)\n--\n\n"
     "Return the stack as a list of FrameInfo, innermost first.\n\n"
     "start is the frame to begin with: None for the caller, an int to count that many\n"
     "calls out from the caller, or a frame object (of any thread, or a generator's).\n"
     "limit caps the number of records. No frame object is created."},
    {"frames", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_frames)),
     METH_FASTCALL | METH_KEYWORDS,
     "frames($module, /, start=None, *, limit=None)\n--\n\n"
     "Return the same walk as stack(), as a list of frame objects, innermost first."},
    {"threads", py_threads, METH_NOARGS,
     "threads($module, /)\n--\n\n"
     "Return {thread id: [FrameInfo, ...]} for every thread of this interpreter that is\n"
     "running Python code, innermost frame first. Thread ids are threading.get_ident()'s."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyObject* getframe(Py_ssize_t depth) {
    return reinterpret_cast<PyObject*>(frame_object_at(depth).release());
}

PyMethodDef* methods() {
    return walk_methods;
}

PyFrameObject* thread_frame(PyThreadState* ts, Py_ssize_t depth) {
    IFrame* f = caller_at(ts, depth);
    if (f == nullptr) {
        return nullptr;
    }
    PyFrameObject* existing = compat::existing_object(f);
    return (existing != nullptr ? Owned<PyFrameObject>::ref(existing) : materialize(ts, depth))
        .release();
}

int visit_frames(IFrame* f, FrameVisitor visit, void* arg) {
    while (f != nullptr) {
        // The next frame is found before the visit, which may run code (the caller's visitor
        // must not free these frames: framescope.h says so).
        IFrame* next = compat::back(f);
        if (int r = visit(compat::code(f), compat::lasti_bytes(f), compat::lineno(f), arg)) {
            return r;
        }
        f = next;
    }
    return 0;
}

}  // namespace fs::walk
