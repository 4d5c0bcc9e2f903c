// jump/resume_tail.cpp: see resume_tail.hpp. 3.11 only; other versions return "not placed".
#include "jump/resume_tail.hpp"

#include "compat/bytecode.hpp"
#include "compat/frames.hpp"
#include "jump/can_jump.hpp"
#include "refs.hpp"

#include <string>
#include <vector>

namespace fs::jump {

#if FS_HAS_RESUME_TAIL
namespace {

// A copy's last constant is (mark(), original code). The mark is a capsule: no code constructor
// interns, merges or compares it.
PyObject* mark() {
    static char tag;
    static PyObject* m = PyCapsule_New(&tag, "framescope.resume_tail", nullptr);  // for good
    return m;
}

// The code a copy was made from (borrowed), or `co` itself when it is no copy.
PyCodeObject* original_of(PyCodeObject* co) {
    PyObject* consts = co->co_consts;
    Py_ssize_t n = PyTuple_Check(consts) ? PyTuple_GET_SIZE(consts) : 0;
    PyObject* m = mark();
    if (n == 0 || m == nullptr) {
        PyErr_Clear();
        return co;
    }
    PyObject* last = PyTuple_GET_ITEM(consts, n - 1);
    if (PyTuple_CheckExact(last) && PyTuple_GET_SIZE(last) == 2 &&
        PyTuple_GET_ITEM(last, 0) == m && PyCode_Check(PyTuple_GET_ITEM(last, 1))) {
        return reinterpret_cast<PyCodeObject*>(PyTuple_GET_ITEM(last, 1));
    }
    return co;
}

int units(PyCodeObject* co) { return static_cast<int>(_PyCode_NBYTES(co) / 2); }

int unit_of(_PyInterpreterFrame* f) {
    return static_cast<int>(f->prev_instr - _PyCode_CODE(f->f_code));
}

// Moves a suspended frame that runs a copy back onto the original code, at the same instruction
// (the bytecode is the same there). False when it stands in the copy's tail.
bool move_to_original(_PyInterpreterFrame* f) {
    PyCodeObject* copy = f->f_code;
    PyCodeObject* original = original_of(copy);
    if (original == copy) {
        return true;
    }
    int unit = unit_of(f);
    if (unit < 0 || unit >= units(original)) {
        return false;
    }
    Owned<PyCodeObject> released = Owned<PyCodeObject>::steal(copy);  // the frame's reference
    f->f_code = Owned<PyCodeObject>::ref(original).release();
    f->prev_instr = _PyCode_CODE(original) + unit;
    return true;
}

void put_unit(std::string& out, int opcode, int arg) {
    out.push_back(static_cast<char>(opcode));
    out.push_back(static_cast<char>(arg));
}

// The location table's varints: 6-bit chunks, least significant first, 0x40 on all but the last.
void put_location_varint(std::string& out, unsigned value) {
    while (value >= 64) {
        out.push_back(static_cast<char>(0x40 | (value & 63)));
        value >>= 6;
    }
    out.push_back(static_cast<char>(value));
}

// Location entries for `count` code units at `line`, the table's running line being `running`
// (kind 13: a line and no columns; kind 15: no location).
void put_lines(std::string& out, int count, int line, int& running) {
    while (count > 0) {
        int n = count < 8 ? count : 8;
        if (line < 0) {
            out.push_back(static_cast<char>(0x80 | (15 << 3) | (n - 1)));
        } else {
            int delta = line - running;
            unsigned zigzag = delta < 0 ? (static_cast<unsigned>(-delta) << 1) | 1
                                        : static_cast<unsigned>(delta) << 1;
            out.push_back(static_cast<char>(0x80 | (13 << 3) | (n - 1)));
            put_location_varint(out, zigzag);
            running = line;
        }
        count -= n;
    }
}

// The exception table's varints: 6-bit chunks, most significant first, 0x40 on all but the last,
// 0x80 on the first byte of an entry.
void put_table_varint(std::string& out, unsigned value, bool entry_start) {
    int chunks = 1;
    while (chunks < 6 && (value >> (6 * chunks)) != 0) {
        chunks++;
    }
    for (int i = chunks - 1; i >= 0; i--) {
        unsigned byte = (value >> (6 * i)) & 63;
        if (i > 0) {
            byte |= 0x40;
        }
        if (entry_start && i == chunks - 1) {
            byte |= 0x80;
        }
        out.push_back(static_cast<char>(byte));
    }
}

// The line the location table's running state ends on: the last line it reports.
bool final_line(PyCodeObject* co, int& line) {
    line = co->co_firstlineno;
    Owned<> ranges = Owned<>::steal(
        PyObject_CallMethod(reinterpret_cast<PyObject*>(co), "co_lines", nullptr));
    Owned<> iter = ranges ? Owned<>::steal(PyObject_GetIter(ranges.get())) : Owned<>();
    if (!iter) {
        return false;
    }
    while (Owned<> item = Owned<>::steal(PyIter_Next(iter.get()))) {
        PyObject* value = PyTuple_Check(item.get()) && PyTuple_GET_SIZE(item.get()) == 3
                              ? PyTuple_GET_ITEM(item.get(), 2)
                              : nullptr;
        if (value != nullptr && PyLong_Check(value)) {
            line = static_cast<int>(PyLong_AsLong(value));
        }
    }
    return !PyErr_Occurred();
}

std::string bytes_of(PyObject* b) {
    return PyBytes_Check(b) ? std::string(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
                            : std::string();
}

Owned<> bytes(const std::string& s) {
    return Owned<>::steal(PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size())));
}

// The copy: `co` plus the tail, its location entries and, where the yield is protected, an
// exception-table entry for the resumption point with the yield's handler.
Owned<PyCodeObject> make_copy(PyCodeObject* co, int yield_unit, const std::string& tail) {
    int len = units(co);
    int tail_units = static_cast<int>(tail.size() / 2);
    Owned<> original = Owned<>::steal(
        PyObject_GetAttrString(reinterpret_cast<PyObject*>(co), "co_code"));
    if (!original || !PyBytes_Check(original.get()) || PyBytes_GET_SIZE(original.get()) != 2 * len) {
        return {};
    }
    int running = 0;
    if (!final_line(co, running)) {
        return {};
    }
    std::string lines = bytes_of(co->co_linetable);
    put_lines(lines, tail_units, PyCode_Addr2Line(co, 2 * yield_unit), running);
    std::string table = bytes_of(co->co_exceptiontable);
    for (const Handler& h : handlers(co, len)) {
        if (h.start <= yield_unit && yield_unit < h.end) {
            put_table_varint(table, static_cast<unsigned>(len), true);
            put_table_varint(table, 1, false);
            put_table_varint(table, static_cast<unsigned>(h.target), false);
            put_table_varint(table, static_cast<unsigned>(h.depth * 2 + (h.lasti ? 1 : 0)), false);
            break;
        }
    }
    Py_ssize_t nconsts = PyTuple_GET_SIZE(co->co_consts);
    Owned<> consts = Owned<>::steal(PyTuple_New(nconsts + 1));
    Owned<> marked = Owned<>::steal(PyTuple_Pack(2, mark(), reinterpret_cast<PyObject*>(co)));
    if (!consts || !marked) {
        return {};
    }
    for (Py_ssize_t i = 0; i < nconsts; i++) {
        PyTuple_SET_ITEM(consts.get(), i, Owned<>::ref(PyTuple_GET_ITEM(co->co_consts, i)).release());
    }
    PyTuple_SET_ITEM(consts.get(), nconsts, marked.release());
    Owned<> code_bytes = bytes(bytes_of(original.get()) + tail);
    Owned<> line_bytes = bytes(lines);
    Owned<> table_bytes = bytes(table);
    Owned<> kwargs = Owned<>::steal(PyDict_New());
    if (!code_bytes || !line_bytes || !table_bytes || !kwargs ||
        PyDict_SetItemString(kwargs.get(), "co_code", code_bytes.get()) < 0 ||
        PyDict_SetItemString(kwargs.get(), "co_linetable", line_bytes.get()) < 0 ||
        PyDict_SetItemString(kwargs.get(), "co_exceptiontable", table_bytes.get()) < 0 ||
        PyDict_SetItemString(kwargs.get(), "co_consts", consts.get()) < 0) {
        return {};
    }
    Owned<> replace = Owned<>::steal(
        PyObject_GetAttrString(reinterpret_cast<PyObject*>(co), "replace"));
    Owned<> empty = Owned<>::steal(PyTuple_New(0));
    if (!replace || !empty) {
        return {};
    }
    Owned<> copy = Owned<>::steal(PyObject_Call(replace.get(), empty.get(), kwargs.get()));
    if (!copy) {
        return {};
    }
    auto* c = reinterpret_cast<PyCodeObject*>(copy.get());
    if (!PyCode_Check(copy.get()) || units(c) != len + tail_units ||
        c->co_nlocalsplus != co->co_nlocalsplus ||
        c->co_stacksize != co->co_stacksize) {
        PyErr_SetString(PyExc_SystemError, "framescope: the code copy for a jump is not alike");
        return {};
    }
    return Owned<PyCodeObject>::steal(reinterpret_cast<PyCodeObject*>(copy.release()));
}

_PyInterpreterFrame* suspended_frame(PyFrameObject* fo) {
    PyObject* owner = nullptr;
    if (compat::frame_status(fo, &owner) != compat::FrameStatus::suspended) {
        return nullptr;
    }
    return fo->f_frame;
}

}  // namespace

PyObject* arm_resume_tail(PyFrameObject* fo, long lineno) {
    _PyInterpreterFrame* f = suspended_frame(fo);
    if (f == nullptr || !move_to_original(f)) {
        return Py_NewRef(Py_None);
    }
    PyCodeObject* co = f->f_code;
    int len = units(co);
    int yield_unit = unit_of(f);
    if (yield_unit < 0 || yield_unit + 1 >= len) {
        return Py_NewRef(Py_None);
    }
    Owned<> deopt = Owned<>::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(co), "co_code"));
    if (!deopt) {
        return nullptr;
    }
    const auto* ops = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(deopt.get()));
    if (ops[2 * yield_unit] != YIELD_VALUE || ops[2 * yield_unit + 2] != RESUME) {
        return Py_NewRef(Py_None);
    }
    std::optional<Verdict> v = check(co, 2L * yield_unit, lineno);
    if (!v) {
        return nullptr;
    }
    if (!v->ok) {
        PyErr_SetString(PyExc_ValueError, v->message.c_str());
        return nullptr;
    }
    // The frame holds the model's stack less the value yielded; the resumption pushes the value
    // sent in where it was. The first entry popped is that value, the others are in the frame.
    int npop = static_cast<int>(v->popped.size());
    if (v->landing < 0 || v->landing >= len ||
        f->stacktop - co->co_nlocalsplus != v->start_depth - 1 || npop > v->start_depth) {
        return Py_NewRef(Py_None);
    }
    std::vector<int> nulls;  // frame slots to drop that hold NULL: they get None, for POP_TOP
    for (int k = 1; k < npop; k++) {
        int slot = f->stacktop - k;
        if (f->localsplus[slot] == nullptr) {
            if (v->popped[k] == 'E') {
                return Py_NewRef(Py_None);
            }
            nulls.push_back(slot);
        }
    }
    std::string tail;
    put_unit(tail, NOP, 0);  // the resumption point: the yield's line and handler
    // The yield's own RESUME, argument included: tracers and profilers get their 'call' event
    // for the resumption from it, and a generator delegating to another (yield from, await) is
    // still seen as such (gi_yieldfrom; throw() and close() are passed on as without a jump).
    put_unit(tail, RESUME, ops[2 * yield_unit + 3]);
    for (char kind : v->popped) {
        put_unit(tail, kind == 'E' ? POP_EXCEPT : POP_TOP, 0);
    }
    int at = len + 2 + npop;  // where the jump's first code unit goes
    int prefixes = 0;
    long distance = 0;
    for (;; prefixes++) {
        distance = at + prefixes + 1 - v->landing;
        if (prefixes == 3 || distance < (1L << (8 * (prefixes + 1)))) {
            break;
        }
    }
    for (int i = prefixes; i > 0; i--) {
        put_unit(tail, EXTENDED_ARG, static_cast<int>((distance >> (8 * i)) & 0xff));
    }
    put_unit(tail, JUMP_BACKWARD_NO_INTERRUPT, static_cast<int>(distance & 0xff));

    Owned<PyCodeObject> copy = make_copy(co, yield_unit, tail);
    if (!copy) {
        return nullptr;
    }
    Owned<> slots = Owned<>::steal(PyTuple_New(static_cast<Py_ssize_t>(nulls.size())));
    if (!slots) {
        return nullptr;
    }
    for (size_t i = 0; i < nulls.size(); i++) {
        PyObject* n = PyLong_FromLong(nulls[i]);
        if (n == nullptr) {
            return nullptr;
        }
        PyTuple_SET_ITEM(slots.get(), static_cast<Py_ssize_t>(i), n);
    }
    Owned<> record = Owned<>::steal(Py_BuildValue("(OOiiO)", copy.obj(), co, yield_unit, len,
                                                  slots.get()));
    if (!record) {
        return nullptr;
    }
    // Building the copy ran no Python code, but the frame is checked again before it is changed.
    if (suspended_frame(fo) != f || f->f_code != co || unit_of(f) != yield_unit) {
        return Py_NewRef(Py_None);
    }
    for (int slot : nulls) {
        f->localsplus[slot] = Py_NewRef(Py_None);
    }
    // The record holds the original, so the frame's reference can go.
    Owned<PyCodeObject> released = Owned<PyCodeObject>::steal(co);
    f->f_code = copy.release();
    f->prev_instr = _PyCode_CODE(f->f_code) + len;
    return record.release();
}

int settle_resume_tail(PyFrameObject* fo, PyObject* record, bool cancel) {
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 5 ||
        !PyCode_Check(PyTuple_GET_ITEM(record, 0)) || !PyCode_Check(PyTuple_GET_ITEM(record, 1)) ||
        !PyLong_Check(PyTuple_GET_ITEM(record, 2)) || !PyLong_Check(PyTuple_GET_ITEM(record, 3)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(record, 4))) {
        PyErr_SetString(PyExc_TypeError, "not a record of framescope's resume jump");
        return -1;
    }
    auto* copy = reinterpret_cast<PyCodeObject*>(PyTuple_GET_ITEM(record, 0));
    auto* original = reinterpret_cast<PyCodeObject*>(PyTuple_GET_ITEM(record, 1));
    long yield_unit = PyLong_AsLong(PyTuple_GET_ITEM(record, 2));
    long tail = PyLong_AsLong(PyTuple_GET_ITEM(record, 3));
    PyObject* nulls = PyTuple_GET_ITEM(record, 4);
    if (PyErr_Occurred()) {
        return -1;
    }
    _PyInterpreterFrame* f = suspended_frame(fo);
    if (f == nullptr) {
        return 0;
    }
    bool waiting = f->f_code == copy && unit_of(f) == tail;
    if (!waiting) {
        move_to_original(f);
        return 0;
    }
    if (!cancel) {
        return 1;
    }
    if (original_of(copy) != original || yield_unit < 0 || yield_unit >= units(original)) {
        PyErr_SetString(PyExc_TypeError, "not a record of framescope's resume jump");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(nulls); i++) {
        long slot = PyLong_AsLong(PyTuple_GET_ITEM(nulls, i));
        if (slot >= original->co_nlocalsplus && slot < f->stacktop &&
            f->localsplus[slot] == Py_None) {
            Owned<> none = Owned<>::steal(f->localsplus[slot]);
            f->localsplus[slot] = nullptr;
        }
    }
    PyErr_Clear();
    Owned<PyCodeObject> released = Owned<PyCodeObject>::steal(copy);  // the frame's reference
    f->f_code = Owned<PyCodeObject>::ref(original).release();
    f->prev_instr = _PyCode_CODE(original) + yield_unit;
    return 1;
}

#else

PyObject* arm_resume_tail(PyFrameObject*, long) { return Py_NewRef(Py_None); }

int settle_resume_tail(PyFrameObject*, PyObject*, bool) {
    PyErr_SetString(PyExc_TypeError, "not a record of framescope's resume jump");
    return -1;
}

#endif

}  // namespace fs::jump
