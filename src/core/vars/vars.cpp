// vars/vars.cpp: framescope.locals() and its LocalsView, getvar, setvar, lookup.
//
// The view follows the mapping semantics of CPython 3.14's FrameLocalsProxy (PEP 667 and
// gh-125590) on every supported version:
//  - a key that is a name of the code's variables (compared as a dict compares keys: by hash and
//    ==, so a str subclass or any object equal to the name qualifies) addresses that variable;
//    reading it gives the value, or a cell's contents; unbound variables and empty cells are
//    absent;
//  - any other hashable key is an "extra": kept with the frame, shown by the view, invisible to
//    the frame's code; a hidden comprehension variable's name written while it is hidden is one;
//  - variables cannot be deleted (ValueError, in CPython's words); extras can;
//  - a frame that has finished or was cleared takes writes as a running one does.
#include "vars/vars.hpp"

#include "args.hpp"
#include "compat/variables.hpp"
#include "refs.hpp"

#include <array>

namespace fs::vars {
namespace {

using compat::Vars;

struct View {
    PyObject_HEAD
    PyFrameObject* frame;  // strong
};

PyTypeObject* view_type = nullptr;

bool is_view(PyObject* op) noexcept {
    return Py_IS_TYPE(op, view_type);
}

PyFrameObject* frame_of(PyObject* self) noexcept {
    return reinterpret_cast<View*>(self)->frame;
}

PyCodeObject* code_of(PyFrameObject* fo) noexcept {
    return compat::code(compat::of_object(fo));
}

// ---- matching a key against the variables --------------------------------------------------

enum class Purpose { read, write };

struct Match {
    int index = -1;       // the entry the key addresses (see find()), or -1
    Borrowed<> value;     // for Purpose::read: its value (the frame's slot or cell holds it)
    bool names_variable = false;  // the key equals the name of a variable that is not hidden
};

// Finds what `key` addresses. For reading: the first entry of that name that has a value. For
// writing: the first entry of that name that is not a hidden comprehension variable. Names are
// compared by identity first (keys are usually the interned names themselves) and only when no
// entry has that identity, by hash and ==, as CPython 3.14's proxy does
// (framelocalsproxy_getkeyindex() in Objects/frameobject.c). Returns false with an error set (an unhashable key:
// TypeError; a failing __eq__).
bool find(PyFrameObject* fo, const Vars& vars, PyObject* key, Purpose purpose, Match& out) {
    compat::IFrame* f = compat::of_object(fo);
    auto consider = [&](int i) -> bool {  // true: decided
        unsigned kind = vars.kind(i);
        bool hidden = (kind & compat::VAR_HIDDEN) != 0;
        if (!hidden) {
            out.names_variable = true;
        }
        if (purpose == Purpose::read) {
            if (PyObject* v = compat::var_value(f, vars, i)) {
                out.index = i;
                out.value = Borrowed<>(v);
                return true;
            }
            return false;
        }
        if (!hidden) {
            out.index = i;
            return true;
        }
        return false;
    };
    bool seen = false;
    for (int i = 0; i < vars.count(); ++i) {
        if (vars.name(i) == key && !vars.skipped(i)) {
            seen = true;
            if (consider(i)) {
                return true;
            }
        }
    }
    if (seen) {
        return true;
    }
    // (Hashed only now: a key identical to a name is a str, so nothing unhashable got this far
    // unhashed, and the common case pays for no hash call.)
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1) {
        return false;
    }
    for (int i = 0; i < vars.count(); ++i) {
        PyObject* name = vars.name(i);
        if (vars.skipped(i) || PyObject_Hash(name) != hash) {
            continue;
        }
        int same = PyObject_RichCompareBool(name, key, Py_EQ);
        if (same < 0) {
            return false;
        }
        if (same && consider(i)) {
            return true;
        }
    }
    return true;
}

// Whether a key found in the extras dict is a real extra rather than a stale copy of a variable
// (see compat::extras_shadowed_by_variables). -1 on error.
int is_real_extra(PyFrameObject* fo, const Vars& vars, PyObject* key) {
    if constexpr (!compat::extras_shadowed_by_variables) {
        (void)fo, (void)vars, (void)key;
        return 1;
    } else {
        Match m;
        if (!find(fo, vars, key, Purpose::write, m)) {
            return -1;
        }
        return m.names_variable ? 0 : 1;
    }
}

// The value of extra `key` (the extras dict holds it), empty when there is none; false on error.
bool extra_get(PyFrameObject* fo, const Match& m, PyObject* key, Borrowed<>& out) {
    out = Borrowed<>();
    if (compat::extras_shadowed_by_variables && m.names_variable) {
        return true;
    }
    PyObject* extras = compat::extras_dict(fo, false);
    if (extras == nullptr) {
        return true;
    }
    out = Borrowed<>(PyDict_GetItemWithError(extras, key));
    return out || !PyErr_Occurred();
}

// Calls fn(key, value) for each extra, in insertion order (strong references are held across
// each call, so fn may run any code). Returns false with an error set, or when fn did.
template <class Fn>
bool for_each_extra(PyFrameObject* fo, const Vars& vars, Fn&& fn) {
    PyObject* extras = compat::extras_dict(fo, false);
    if (extras == nullptr) {
        return true;
    }
    auto held = Owned<>::ref(extras);
    Py_ssize_t pos = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(held.get(), &pos, &key, &value)) {
        auto k = Owned<>::ref(key);
        auto v = Owned<>::ref(value);
        int real = is_real_extra(fo, vars, k.get());
        if (real < 0 || (real && !fn(k.get(), v.get()))) {
            return false;
        }
    }
    return true;
}

// Calls fn(key, value) (both borrowed) for each item in the view's order: variables with a
// value in slot order, then extras in insertion order. fn returns false to stop with an error.
// The items are collected first, so fn may run any code.
template <class Fn>
bool for_each_item(PyFrameObject* fo, Fn&& fn) {
    Vars vars(code_of(fo));
    compat::IFrame* f = compat::of_object(fo);
    auto items = Owned<>::steal(PyList_New(0));
    if (!items) {
        return false;
    }
    for (int i = 0; i < vars.count(); ++i) {
        if (vars.skipped(i)) {
            continue;
        }
        // A strong reference first: allocating may run a collection, and a finalizer could
        // replace the variable.
        if (auto v = Owned<>::ref(compat::var_value(f, vars, i))) {
            auto pair = Owned<>::steal(PyTuple_Pack(2, vars.name(i), v.get()));
            if (!pair || PyList_Append(items.get(), pair.get()) < 0) {
                return false;
            }
        }
    }
    if (!for_each_extra(fo, vars, [&](PyObject* k, PyObject* v) {
            auto pair = Owned<>::steal(PyTuple_Pack(2, k, v));
            return pair && PyList_Append(items.get(), pair.get()) == 0;
        })) {
        return false;
    }
    Py_ssize_t n = PyList_GET_SIZE(items.get());
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* pair = PyList_GET_ITEM(items.get(), k);
        if (!fn(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1))) {
            return false;
        }
    }
    return true;
}

// ---- the operations ------------------------------------------------------------------------

// view[key]: a new reference, or nullptr with KeyError (missing) or another error set.
PyObject* get_item(PyFrameObject* fo, PyObject* key) {
    Vars vars(code_of(fo));
    Match m;
    if (!find(fo, vars, key, Purpose::read, m)) {
        return nullptr;
    }
    if (m.index >= 0) {
        return Py_NewRef(m.value.get());
    }
    Borrowed<> extra;
    if (!extra_get(fo, m, key, extra)) {
        return nullptr;
    }
    if (!extra) {
        PyErr_SetObject(PyExc_KeyError, key);
        return nullptr;
    }
    return Py_NewRef(extra.get());
}

// view[key] = value, or del view[key] when value is nullptr. 0, or -1 with an error set.
int set_item(PyFrameObject* fo, PyObject* key, PyObject* value) {
    Vars vars(code_of(fo));
    Match m;
    if (!find(fo, vars, key, Purpose::write, m)) {
        return -1;
    }
    if (m.index >= 0) {
        if (value == nullptr) {
            // CPython's own words (framelocalsproxy_setitem() in Objects/frameobject.c, 3.13.1+,
            // gh-125590), which its test_frame checks.
            PyErr_SetString(PyExc_ValueError,
                            "cannot remove local variables from FrameLocalsProxy");
            return -1;
        }
        // A finished or cleared frame takes writes too, as CPython 3.14's proxy does
        // (compat::var_store() says where the value lives then).
        return compat::var_store(fo, vars, m.index, value);
    }
    PyObject* extras = compat::extras_dict(fo, value != nullptr);
    if (value != nullptr) {
        return extras != nullptr ? PyDict_SetItem(extras, key, value) : -1;
    }
    if (extras == nullptr) {
        PyErr_SetObject(PyExc_KeyError, key);
        return -1;
    }
    return PyDict_DelItem(extras, key);
}

// 1 when the view has `key`, 0 when not, -1 on error.
int contains(PyFrameObject* fo, PyObject* key) {
    Vars vars(code_of(fo));
    Match m;
    if (!find(fo, vars, key, Purpose::read, m)) {
        return -1;
    }
    if (m.index >= 0) {
        return 1;
    }
    Borrowed<> extra;
    if (!extra_get(fo, m, key, extra)) {
        return -1;
    }
    return extra ? 1 : 0;
}

Py_ssize_t length(PyFrameObject* fo) {
    Vars vars(code_of(fo));
    compat::IFrame* f = compat::of_object(fo);
    Py_ssize_t n = 0;
    for (int i = 0; i < vars.count(); ++i) {
        if (!vars.skipped(i) && compat::var_value(f, vars, i) != nullptr) {
            ++n;
        }
    }
    PyObject* extras = compat::extras_dict(fo, false);
    if (extras == nullptr) {
        return n;
    }
    if constexpr (!compat::extras_shadowed_by_variables) {
        return n + PyDict_GET_SIZE(extras);
    } else {
        bool ok = for_each_extra(fo, vars, [&](PyObject*, PyObject*) {
            ++n;
            return true;
        });
        return ok ? n : -1;
    }
}

// A dict with the view's items.
PyObject* snapshot(PyFrameObject* fo) {
    auto d = Owned<>::steal(PyDict_New());
    if (!d || !for_each_item(fo, [&](PyObject* k, PyObject* v) {
            return PyDict_SetItem(d.get(), k, v) == 0;
        })) {
        return nullptr;
    }
    return d.release();
}

enum class Part { keys, values, items };

PyObject* listing(PyFrameObject* fo, Part part) {
    auto out = Owned<>::steal(PyList_New(0));
    if (!out || !for_each_item(fo, [&](PyObject* k, PyObject* v) {
            if (part == Part::items) {
                auto pair = Owned<>::steal(PyTuple_Pack(2, k, v));
                return pair && PyList_Append(out.get(), pair.get()) == 0;
            }
            return PyList_Append(out.get(), part == Part::keys ? k : v) == 0;
        })) {
        return nullptr;
    }
    return out.release();
}

// Whether `other` may be merged into a view or a dict result: a dict or another view (or, on
// 3.13+, the interpreter's own FrameLocalsProxy, which has the same meaning).
bool is_mergeable(PyObject* other) {
    return PyDict_Check(other) || is_view(other) || compat::is_frame_locals_proxy(other);
}

// Sets every item of `other` (a mergeable mapping) into the view. -1 on error.
int merge(PyFrameObject* fo, PyObject* other) {
    auto keys = Owned<>::steal(PyMapping_Keys(other));
    if (!keys) {
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(keys.get());
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* key = PyList_GET_ITEM(keys.get(), i);
        auto value = Owned<>::steal(PyObject_GetItem(other, key));
        if (!value || set_item(fo, key, value.get()) < 0) {
            return -1;
        }
    }
    return 0;
}

// ---- the type's slots and methods ----------------------------------------------------------

PyObject* view_subscript(PyObject* self, PyObject* key) {
    return get_item(frame_of(self), key);
}

int view_ass_subscript(PyObject* self, PyObject* key, PyObject* value) {
    return set_item(frame_of(self), key, value);
}

Py_ssize_t view_length(PyObject* self) {
    return length(frame_of(self));
}

int view_contains(PyObject* self, PyObject* key) {
    return contains(frame_of(self), key);
}

PyObject* view_iter(PyObject* self) {
    auto keys = Owned<>::steal(listing(frame_of(self), Part::keys));
    return keys ? PyObject_GetIter(keys.get()) : nullptr;
}

PyObject* view_repr(PyObject* self) {
    int entered = Py_ReprEnter(self);
    if (entered != 0) {
        return entered > 0 ? PyUnicode_FromString("{...}") : nullptr;
    }
    auto d = Owned<>::steal(snapshot(frame_of(self)));
    PyObject* r = d ? PyObject_Repr(d.get()) : nullptr;
    Py_ReprLeave(self);
    return r;
}

PyObject* view_richcompare(PyObject* self, PyObject* other, int op) {
    if ((op == Py_EQ || op == Py_NE) && is_view(other)) {
        bool same = frame_of(self) == frame_of(other);
        return PyBool_FromLong(op == Py_EQ ? same : !same);
    }
    if (PyDict_Check(other)) {
        auto d = Owned<>::steal(snapshot(frame_of(self)));
        return d ? PyObject_RichCompare(d.get(), other, op) : nullptr;
    }
    Py_RETURN_NOTIMPLEMENTED;
}

// a | b with a view on either side: a new dict.
PyObject* view_or(PyObject* a, PyObject* b) {
    if (!is_mergeable(a) || !is_mergeable(b)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    auto d = Owned<>::steal(PyDict_New());
    if (!d || PyDict_Update(d.get(), a) < 0 || PyDict_Update(d.get(), b) < 0) {
        return nullptr;
    }
    return d.release();
}

PyObject* view_inplace_or(PyObject* self, PyObject* other) {
    if (!is_mergeable(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (merge(frame_of(self), other) < 0) {
        return nullptr;
    }
    return Py_NewRef(self);
}

PyObject* view_contains_method(PyObject* self, PyObject* key) {
    int r = contains(frame_of(self), key);
    return r < 0 ? nullptr : PyBool_FromLong(r);
}

PyObject* view_keys(PyObject* self, PyObject*) {
    return listing(frame_of(self), Part::keys);
}

PyObject* view_values(PyObject* self, PyObject*) {
    return listing(frame_of(self), Part::values);
}

PyObject* view_items(PyObject* self, PyObject*) {
    return listing(frame_of(self), Part::items);
}

PyObject* view_reversed(PyObject* self, PyObject*) {
    auto keys = Owned<>::steal(listing(frame_of(self), Part::keys));
    if (!keys || PyList_Reverse(keys.get()) < 0) {
        return nullptr;
    }
    return keys.release();
}

PyObject* view_copy(PyObject* self, PyObject*) {
    return snapshot(frame_of(self));
}

PyObject* view_update(PyObject* self, PyObject* other) {
    if (!is_mergeable(other)) {
        PyErr_Format(PyExc_TypeError,
                     "update() argument must be a dict or another locals view, not %.200s",
                     Py_TYPE(other)->tp_name);
        return nullptr;
    }
    if (merge(frame_of(self), other) < 0) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

bool check_nargs(const char* name, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi) {
    if (nargs >= lo && nargs <= hi) {
        return true;
    }
    PyErr_Format(PyExc_TypeError, "%s expected %zd to %zd arguments, got %zd", name, lo, hi,
                 nargs);
    return false;
}

// view[key] where a missing key is not an error: 1 with `out` set, 0 when missing, -1 with an
// error set.
int get_if_present(PyObject* self, PyObject* key, Owned<>& out) {
    out = Owned<>::steal(get_item(frame_of(self), key));
    if (out) {
        return 1;
    }
    if (PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

// get(key, default=None)
PyObject* view_get(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    Owned<> r;
    if (!check_nargs("get", nargs, 1, 2) || get_if_present(self, args[0], r) < 0) {
        return nullptr;
    }
    return r ? r.release() : Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

// setdefault(key, default=None)
PyObject* view_setdefault(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    Owned<> r;
    if (!check_nargs("setdefault", nargs, 1, 2) || get_if_present(self, args[0], r) < 0) {
        return nullptr;
    }
    if (r) {
        return r.release();
    }
    PyObject* value = nargs == 2 ? args[1] : Py_None;
    if (set_item(frame_of(self), args[0], value) < 0) {
        return nullptr;
    }
    return Py_NewRef(value);
}

// pop(key[, default])
PyObject* view_pop(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    if (!check_nargs("pop", nargs, 1, 2)) {
        return nullptr;
    }
    PyFrameObject* fo = frame_of(self);
    PyObject* key = args[0];
    Vars vars(code_of(fo));
    Match m;
    if (!find(fo, vars, key, Purpose::write, m)) {
        return nullptr;
    }
    if (m.index >= 0) {
        // Deleting a variable: set_item words the refusal.
        (void)set_item(fo, key, nullptr);
        return nullptr;
    }
    Borrowed<> value;
    if (!extra_get(fo, m, key, value)) {
        return nullptr;
    }
    if (!value) {
        if (nargs == 2) {
            return Py_NewRef(args[1]);
        }
        PyErr_SetObject(PyExc_KeyError, key);
        return nullptr;
    }
    auto result = Owned<>::ref(value);
    if (set_item(fo, key, nullptr) < 0) {
        return nullptr;
    }
    return result.release();
}

int view_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(reinterpret_cast<View*>(self)->frame);
    return 0;
}

int view_clear(PyObject* self) {
    Py_CLEAR(reinterpret_cast<View*>(self)->frame);
    return 0;
}

void view_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)view_clear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

template <class F>
PyCFunction as_cfunction(F* f) {
    return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

PyMethodDef view_methods[] = {
    {"__getitem__", view_subscript, METH_O | METH_COEXIST, "Return self[key]."},
    {"__contains__", view_contains_method, METH_O | METH_COEXIST, "Return key in self."},
    {"keys", view_keys, METH_NOARGS, "A list of the keys: variables in slot order, then extras."},
    {"values", view_values, METH_NOARGS, "A list of the values, in the order of keys()."},
    {"items", view_items, METH_NOARGS, "A list of (key, value) pairs, in the order of keys()."},
    {"get", as_cfunction(view_get), METH_FASTCALL,
     "get(key, default=None, /)\n--\n\nself[key] if key is present, else default."},
    {"setdefault", as_cfunction(view_setdefault), METH_FASTCALL,
     "setdefault(key, default=None, /)\n--\n\n"
     "self[key] if key is present; else set self[key] = default and return it."},
    {"pop", as_cfunction(view_pop), METH_FASTCALL,
     "pop(key, default=<unrepresentable>, /)\n--\n\n"
     "Remove an extra key and return its value. Variables cannot be removed (ValueError)."},
    {"update", view_update, METH_O,
     "update(other, /)\n--\n\nSet every item of other, a dict or another locals view."},
    {"copy", view_copy, METH_NOARGS, "A dict with the current items."},
    {"__reversed__", view_reversed, METH_NOARGS, "A list of the keys, last first."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot view_slots[] = {
    {Py_tp_doc, const_cast<char*>(
                    "A live, write-through view of a function frame's variables.\n\n"
                    "Made by framescope.locals(frame). Reading gives the variables' current\n"
                    "values; writing changes them in the frame, which its code sees when it\n"
                    "continues. Keys that are not variables of the code are kept as extras.")},
    {Py_tp_dealloc, reinterpret_cast<void*>(view_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(view_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(view_clear)},
    {Py_tp_repr, reinterpret_cast<void*>(view_repr)},
    {Py_tp_hash, reinterpret_cast<void*>(PyObject_HashNotImplemented)},
    {Py_tp_richcompare, reinterpret_cast<void*>(view_richcompare)},
    {Py_tp_iter, reinterpret_cast<void*>(view_iter)},
    {Py_tp_methods, view_methods},
    {Py_mp_subscript, reinterpret_cast<void*>(view_subscript)},
    {Py_mp_ass_subscript, reinterpret_cast<void*>(view_ass_subscript)},
    {Py_mp_length, reinterpret_cast<void*>(view_length)},
    {Py_sq_contains, reinterpret_cast<void*>(view_contains)},
    {Py_nb_or, reinterpret_cast<void*>(view_or)},
    {Py_nb_inplace_or, reinterpret_cast<void*>(view_inplace_or)},
    {0, nullptr},
};

PyType_Spec view_spec = {
    "framescope.LocalsView",
    sizeof(View),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_MAPPING |
        Py_TPFLAGS_DISALLOW_INSTANTIATION,
    view_slots,
};

// ---- module functions ----------------------------------------------------------------------

// A required argument `param` of `fname` (the caller's arguments hold it), of the kind `ok`
// accepts (`what` names it in the error); empty with a TypeError set otherwise.
Borrowed<> required_arg(const char* fname, const char* param, PyObject* op,
                        bool (*ok)(PyObject*), const char* what) {
    if (op == nullptr) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, param);
        return {};
    }
    if (!ok(op)) {
        PyErr_Format(PyExc_TypeError, "%s() %s must be %s, not %.200s", fname, param, what,
                     Py_TYPE(op)->tp_name);
        return {};
    }
    return Borrowed<>(op);
}

Borrowed<PyFrameObject> frame_arg(const char* fname, PyObject* op) {
    auto is_frame = [](PyObject* o) { return PyFrame_Check(o) != 0; };
    return Borrowed<PyFrameObject>(reinterpret_cast<PyFrameObject*>(
        required_arg(fname, "frame", op, is_frame, "a frame object").get()));
}

Borrowed<> name_arg(const char* fname, PyObject* op) {
    auto is_str = [](PyObject* o) { return PyUnicode_Check(o) != 0; };
    return required_arg(fname, "name", op, is_str, "a str");
}

// Whether the frame's variables are shown through a LocalsView: a function frame's (fast locals,
// cells). Module, class and exec/eval code keep theirs in a namespace mapping instead, except
// where CPython's f_locals shows such a frame through a proxy (an inlined comprehension's
// variable is live: compat::namespace_frame_uses_proxy()).
bool uses_view(PyFrameObject* fo) {
    compat::IFrame* f = compat::of_object(fo);
    return compat::is_optimized(compat::code(f)) || compat::namespace_frame_uses_proxy(f);
}

// The namespace mapping of a frame that does not use a view (the frame holds it), or empty with
// an error set.
Borrowed<> namespace_of(PyFrameObject* fo) {
    Borrowed<> ns(compat::locals_mapping(compat::of_object(fo)));
    if (!ns) {
        PyErr_Format(PyExc_RuntimeError, "the frame of %U has no namespace mapping",
                     compat::function_name(code_of(fo)));
    }
    return ns;
}

PyObject* new_view(PyFrameObject* fo) {
    auto* v = PyObject_GC_New(View, view_type);
    if (v == nullptr) {
        return nullptr;
    }
    v->frame = reinterpret_cast<PyFrameObject*>(Py_NewRef(fo));
    PyObject_GC_Track(v);
    return reinterpret_cast<PyObject*>(v);
}

PyObject* py_locals(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static constexpr std::array<const char*, 1> names{"frame"};
    std::array<PyObject*, 1> given{};
    if (!parse_args("locals", names, 1, args, nargs, kwnames, given)) {
        return nullptr;
    }
    Borrowed<PyFrameObject> fo = frame_arg("locals", given[0]);
    return fo ? locals_of(fo.get()) : nullptr;
}

// mapping[key] (a new reference), or nullptr: with an error set, or without one when the key is
// missing.
PyObject* mapping_get(PyObject* mapping, PyObject* key) {
    if (PyDict_Check(mapping)) {
        return Py_XNewRef(PyDict_GetItemWithError(mapping, key));
    }
    PyObject* v = PyObject_GetItem(mapping, key);
    if (v == nullptr && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
    }
    return v;
}

// The arguments of getvar, setvar and lookup.
// (All three are the caller's arguments, which hold them for the call.)
struct FrameName {
    Borrowed<PyFrameObject> frame;
    Borrowed<> name;
    Borrowed<> value;  // setvar only
};

// Parses (frame, name) or, with `value`, (frame, name, value). Returns false with a TypeError.
bool frame_name_args(const char* fname, bool value, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames, FrameName& out) {
    static constexpr std::array<const char*, 3> names{"frame", "name", "value"};
    std::array<PyObject*, 3> given{};
    if (!parse_args(fname, names, value ? 3 : 2, args, nargs, kwnames, given)) {
        return false;
    }
    if (!value && given[2] != nullptr) {
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument 'value'", fname);
        return false;
    }
    out.frame = frame_arg(fname, given[0]);
    out.name = out.frame ? name_arg(fname, given[1]) : Borrowed<>();
    if (!out.name) {
        return false;
    }
    if (value && given[2] == nullptr) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument 'value'", fname);
        return false;
    }
    out.value = Borrowed<>(given[2]);
    return true;
}

// The variable's value (new reference), or nullptr: with an error set, or without one when
// the frame has no bound variable of that name.
PyObject* variable(PyFrameObject* fo, PyObject* name) {
    if (uses_view(fo)) {
        PyObject* v = get_item(fo, name);
        if (v == nullptr && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
        }
        return v;
    }
    Borrowed<> ns = namespace_of(fo);
    return ns ? mapping_get(ns.get(), name) : nullptr;
}

PyObject* py_getvar(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    FrameName a;
    if (!frame_name_args("getvar", false, args, nargs, kwnames, a)) {
        return nullptr;
    }
    return getvar(a.frame.get(), a.name.get());
}

PyObject* py_setvar(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    FrameName a;
    if (!frame_name_args("setvar", true, args, nargs, kwnames, a) ||
        setvar(a.frame.get(), a.name.get(), a.value.get()) < 0) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyObject* py_lookup(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    FrameName a;
    if (!frame_name_args("lookup", false, args, nargs, kwnames, a)) {
        return nullptr;
    }
    return lookup(a.frame.get(), a.name.get());
}

PyMethodDef vars_methods[] = {
    {"locals", as_cfunction(py_locals), METH_FASTCALL | METH_KEYWORDS,
     "locals($module, /, frame)\n--\n\n"
     "The frame's variables as a live mapping.\n\n"
     "A function frame (also a generator's or coroutine's) gives a LocalsView: reading it\n"
     "shows the variables' current values, writing changes them in the frame. A module frame\n"
     "gives the module's dict, a class body its namespace, exec/eval code its locals mapping."},
    {"getvar", as_cfunction(py_getvar), METH_FASTCALL | METH_KEYWORDS,
     "getvar($module, /, frame, name)\n--\n\n"
     "The value of the frame's variable `name`; NameError when it has no bound variable of\n"
     "that name."},
    {"setvar", as_cfunction(py_setvar), METH_FASTCALL | METH_KEYWORDS,
     "setvar($module, /, frame, name, value)\n--\n\n"
     "Set the frame's variable `name` to value, as locals(frame)[name] = value."},
    {"lookup", as_cfunction(py_lookup), METH_FASTCALL | METH_KEYWORDS,
     "lookup($module, /, frame, name)\n--\n\n"
     "The value the frame's own code would get for `name`: its local, cell or free variable,\n"
     "then globals, then builtins (class bodies: namespace first). NameError (or\n"
     "UnboundLocalError) when the code would raise one."},
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyMethodDef* methods() {
    return vars_methods;
}

bool is_locals_view(PyObject* op) noexcept {
    return is_view(op);
}

PyObject* locals_of(PyFrameObject* fo) {
    if (uses_view(fo)) {
        return new_view(fo);
    }
    return Py_XNewRef(namespace_of(fo).get());
}

PyObject* getvar(PyFrameObject* fo, PyObject* name) {
    PyObject* v = variable(fo, name);
    if (v == nullptr && !PyErr_Occurred()) {
        PyErr_Format(PyExc_NameError, "variable %R does not exist", name);
    }
    return v;
}

int setvar(PyFrameObject* fo, PyObject* name, PyObject* value) {
    if (uses_view(fo)) {
        return set_item(fo, name, value);
    }
    Borrowed<> ns = namespace_of(fo);
    return ns ? PyObject_SetItem(ns.get(), name, value) : -1;
}

// What the frame's code would get for `name`.
PyObject* lookup(PyFrameObject* fo, PyObject* name) {
    compat::IFrame* f = compat::of_object(fo);
    PyCodeObject* co = compat::code(f);
    Vars vars(co);
    bool optimized = compat::is_optimized(co);
    bool is_module = !optimized && compat::locals_mapping(f) == compat::globals(f);

    if (optimized) {
        // A variable of the function decides alone: the code never looks further for it.
        Match m;
        if (!find(fo, vars, name, Purpose::write, m)) {
            return nullptr;
        }
        // (Comparing names may have run Python code: a str subclass's __eq__, which can move a
        // generator's frame into its frame object. Ask the frame object again.)
        f = compat::of_object(fo);
        if (m.index >= 0) {
            if (PyObject* v = compat::var_value(f, vars, m.index)) {
                return Py_NewRef(v);
            }
            if (vars.kind(m.index) & compat::VAR_FREE) {
                PyErr_Format(PyExc_NameError,
                             "cannot access free variable %R where it is not associated with "
                             "a value in enclosing scope",
                             name);
            } else {
                PyErr_Format(PyExc_UnboundLocalError,
                             "cannot access local variable %R where it is not associated with "
                             "a value",
                             name);
            }
            return nullptr;
        }
    } else if (!is_module) {
        // A class body (or exec with separate locals): its namespace first, then, for names
        // the body takes from an enclosing function, that function's cell.
        if (PyObject* v = variable(fo, name)) {
            return v;
        }
        if (PyErr_Occurred()) {
            return nullptr;
        }
        Match m;
        if (!find(fo, vars, name, Purpose::read, m)) {
            return nullptr;
        }
        if (m.index >= 0 && (vars.kind(m.index) & compat::VAR_FREE)) {
            return Py_NewRef(m.value.get());
        }
    }
    f = compat::of_object(fo);  // (as above: a namespace's __getitem__ may have run)
    Owned<> scopes[] = {Owned<>::ref(compat::globals(f)), Owned<>::ref(compat::builtins(f))};
    for (const Owned<>& scope : scopes) {
        if (!scope) {
            continue;
        }
        PyObject* v = mapping_get(scope.get(), name);
        if (v != nullptr || PyErr_Occurred()) {
            return v;
        }
    }
    PyErr_Format(PyExc_NameError, "name %R is not defined", name);
    return nullptr;
}

int add_view_type(PyObject* module) {
    if (view_type == nullptr) {
        view_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&view_spec));
        if (view_type == nullptr) {
            return -1;
        }
    }
    auto ref = Owned<PyTypeObject>::ref(view_type);
    if (PyModule_AddObject(module, "LocalsView", ref.obj()) < 0) {
        return -1;
    }
    (void)ref.release();
    return 0;
}

}  // namespace fs::vars
