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

int units(PyCodeObject* co) { return static_cast<int>(_PyCode_NBYTES(co) / 2); }

int unit_of(_PyInterpreterFrame* f) {
    return static_cast<int>(f->prev_instr - _PyCode_CODE(f->f_code));
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
// `code` is co.co_code (its deoptimised bytecode).
Owned<PyCodeObject> make_copy(PyCodeObject* co, PyObject* code, int yield_unit,
                              const std::string& tail) {
    int len = units(co);
    int tail_units = static_cast<int>(tail.size() / 2);
    int running = 0;
    if (!final_line(co, running)) {
        return {};
    }
    std::string lines = bytes_of(co->co_linetable);
    put_lines(lines, tail_units, PyCode_Addr2Line(co, 2 * yield_unit), running);
    // The yield's handler covers the whole tail. Only the resumption point (throw(), close()),
    // the RESUME after it (the eval breaker, a trace function) and the point a delegated throw
    // backs up to can raise; the pops and jumps cannot.
    std::string table = bytes_of(co->co_exceptiontable);
    for (const Handler& h : handlers(co, len)) {
        if (h.start <= yield_unit && yield_unit < h.end) {
            put_table_varint(table, static_cast<unsigned>(len), true);
            put_table_varint(table, static_cast<unsigned>(tail_units), false);
            put_table_varint(table, static_cast<unsigned>(h.target), false);
            put_table_varint(table, static_cast<unsigned>(h.depth * 2 + (h.lasti ? 1 : 0)), false);
            break;
        }
    }
    Owned<> code_bytes = bytes(bytes_of(code) + tail);
    Owned<> line_bytes = bytes(lines);
    Owned<> table_bytes = bytes(table);
    Owned<> kwargs = Owned<>::steal(PyDict_New());
    if (!code_bytes || !line_bytes || !table_bytes || !kwargs ||
        PyDict_SetItemString(kwargs.get(), "co_code", code_bytes.get()) < 0 ||
        PyDict_SetItemString(kwargs.get(), "co_linetable", line_bytes.get()) < 0 ||
        PyDict_SetItemString(kwargs.get(), "co_exceptiontable", table_bytes.get()) < 0) {
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

// A jump instruction (with EXTENDED_ARG prefixes as needed) at code unit `at` to `landing`.
void put_jump(std::string& out, int at, int landing) {
    int prefixes = 0;
    long distance = 0;
    for (;; prefixes++) {
        distance = at + prefixes + 1 - landing;
        if (prefixes == 3 || distance < (1L << (8 * (prefixes + 1)))) {
            break;
        }
    }
    for (int i = prefixes; i > 0; i--) {
        put_unit(out, EXTENDED_ARG, static_cast<int>((distance >> (8 * i)) & 0xff));
    }
    put_unit(out, JUMP_BACKWARD_NO_INTERRUPT, static_cast<int>(distance & 0xff));
}

void put_pops(std::string& out, const std::string& kinds) {
    for (char kind : kinds) {
        put_unit(out, kind == 'E' ? POP_EXCEPT : POP_TOP, 0);
    }
}

}  // namespace

PyObject* arm_resume_tail(PyFrameObject* fo, long lineno) {
    _PyInterpreterFrame* f = suspended_frame(fo);
    if (f == nullptr) {
        return Py_NewRef(Py_None);
    }
    // The frame's code as it is: the original, or the copy of an earlier jump (which it keeps
    // for life, as offsets into its tail may be held by tracebacks and handlers' re-raise
    // locations). A new copy extends it.
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
    if (!PyBytes_Check(deopt.get()) || PyBytes_GET_SIZE(deopt.get()) != 2 * len) {
        return Py_NewRef(Py_None);
    }
    const auto* ops = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(deopt.get()));
    if (ops[2 * yield_unit] != YIELD_VALUE || ops[2 * yield_unit + 2] != RESUME) {
        return Py_NewRef(Py_None);
    }
    int resume_arg = ops[2 * yield_unit + 3];
    // yield from, await: the yield sits in a SEND loop, SEND just before it.
    bool delegating = resume_arg >= 2;
    int send_exit = -1;  // where that SEND goes once the sub-iterator is done
    if (delegating) {
        int send = yield_unit - 1;
        if (send < 1 || ops[2 * send] != SEND || ops[2 * send - 2] == EXTENDED_ARG) {
            return Py_NewRef(Py_None);
        }
        send_exit = send + 1 + ops[2 * send + 1];
        if (send_exit >= len) {
            return Py_NewRef(Py_None);
        }
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
    // The tail, at code unit `len` (P):
    //   P      SEND k     never run. When a throw() passed on to the sub-iterator ends it, 3.11
    //                     backs the frame up by the argument of the SEND before the resumption
    //                     point (the `yield from` loop's own, normally) and resumes at P+1+k with
    //                     the sub-iterator gone and its result pushed, as the loop's SEND would
    //                     on finishing. [delegating only; else a NOP]
    //   P+1    NOP        the resumption point (the frame's prev_instr while the jump waits)
    //   P+2    RESUME     the yield's own, argument included
    //          pops, jump to the landing
    //   P+1+k  jump to where the loop's SEND goes when done: the thrown exception was handled
    //          by the sub-iterator, and the generator carries on as without a jump (the jump
    //          is not made, as for any throw()).                               [delegating only]
    std::string body;
    put_unit(body, NOP, 0);
    put_unit(body, RESUME, resume_arg);
    put_pops(body, v->popped);
    put_jump(body, len + 1 + static_cast<int>(body.size() / 2), v->landing);
    std::string tail;
    if (delegating) {
        int k = static_cast<int>(body.size() / 2);  // P+1+k is the unit right after the body
        if (k > 255) {
            return Py_NewRef(Py_None);
        }
        put_unit(tail, SEND, k);
        tail += body;
        put_jump(tail, len + static_cast<int>(tail.size() / 2), send_exit);
    } else {
        put_unit(tail, NOP, 0);
        tail += body;
    }
    int resumption = len + 1;

    Owned<PyCodeObject> copy = make_copy(co, deopt.get(), yield_unit, tail);
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
    Owned<> record = Owned<>::steal(Py_BuildValue("(OOiiO)", copy.obj(), co, yield_unit,
                                                  resumption, slots.get()));
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
    // The record holds the code the frame had, so the frame's reference can go.
    Owned<PyCodeObject> released = Owned<PyCodeObject>::steal(co);
    f->f_code = copy.release();
    f->prev_instr = _PyCode_CODE(f->f_code) + resumption;
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
    auto* before = reinterpret_cast<PyCodeObject*>(PyTuple_GET_ITEM(record, 1));
    long yield_unit = PyLong_AsLong(PyTuple_GET_ITEM(record, 2));
    long resumption = PyLong_AsLong(PyTuple_GET_ITEM(record, 3));
    PyObject* nulls = PyTuple_GET_ITEM(record, 4);
    if (PyErr_Occurred()) {
        return -1;
    }
    _PyInterpreterFrame* f = suspended_frame(fo);
    if (f == nullptr || f->f_code != copy || unit_of(f) != resumption) {
        return 0;  // made, passed by a throw(), or the frame has finished
    }
    if (!cancel) {
        return 1;
    }
    if (yield_unit < 0 || yield_unit >= units(before) || units(before) >= units(copy) ||
        before->co_nlocalsplus != copy->co_nlocalsplus) {
        PyErr_SetString(PyExc_TypeError, "not a record of framescope's resume jump");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(nulls); i++) {
        long slot = PyLong_AsLong(PyTuple_GET_ITEM(nulls, i));
        if (slot >= before->co_nlocalsplus && slot < f->stacktop &&
            f->localsplus[slot] == Py_None) {
            Owned<> none = Owned<>::steal(f->localsplus[slot]);
            f->localsplus[slot] = nullptr;
        }
    }
    PyErr_Clear();
    // Back on the code it had (the tail was never entered, so nothing refers to it).
    Owned<PyCodeObject> released = Owned<PyCodeObject>::steal(copy);  // the frame's reference
    f->f_code = Owned<PyCodeObject>::ref(before).release();
    f->prev_instr = _PyCode_CODE(before) + yield_unit;
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
