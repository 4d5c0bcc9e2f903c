// jump/resume_tail.cpp: see resume_tail.hpp. 3.11 only (compat::kHasResumeTail); other versions
// return "not placed". The frame and code fields it reads and changes are compat/resume_tail.hpp's.
#include "jump/resume_tail.hpp"

#include "code_tables.hpp"
#include "compat/resume_tail.hpp"
#include "jump/can_jump.hpp"
#include "jump/code.hpp"
#include "refs.hpp"

#include <string>
#include <vector>

namespace fs::jump {
namespace {

namespace op = compat::op;

int units(PyCodeObject* co) { return compat::code_shape(co).units; }

void put_unit(std::string& out, int opcode, int arg) {
    out.push_back(static_cast<char>(opcode));
    out.push_back(static_cast<char>(arg));
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
    return b != nullptr && PyBytes_Check(b) ? std::string(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))
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
    std::string lines = bytes_of(compat::location_table(co));
    code_tables::append_line_locations(lines, tail_units, PyCode_Addr2Line(co, 2 * yield_unit),
                                       running);
    // The yield's handler covers the whole tail. Only the resumption point (throw(), close()),
    // the RESUME after it (the eval breaker, a trace function) and the point a delegated throw
    // backs up to can raise; the pops and jumps cannot.
    std::string table = bytes_of(compat::exception_table(co));
    for (const Handler& h : handlers(co, len)) {
        if (h.start <= yield_unit && yield_unit < h.end) {
            code_tables::append_exception_entry(table,
                                                {len, tail_units, h.target, h.depth, h.lasti});
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
    compat::CodeShape want = compat::code_shape(co);
    want.units += tail_units;
    if (!PyCode_Check(copy.get()) ||
        compat::code_shape(reinterpret_cast<PyCodeObject*>(copy.get())) != want) {
        PyErr_SetString(PyExc_SystemError, "framescope: the code copy for a jump is not alike");
        return {};
    }
    return Owned<PyCodeObject>::steal(reinterpret_cast<PyCodeObject*>(copy.release()));
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
    put_unit(out, op::jump_backward_no_interrupt, static_cast<int>(distance & 0xff));
}

void put_pops(std::string& out, const std::string& kinds) {
    for (char kind : kinds) {
        put_unit(out, kind == 'E' ? POP_EXCEPT : POP_TOP, 0);
    }
}

}  // namespace

PyObject* arm_resume_tail(PyFrameObject* fo, long lineno) {
    if constexpr (!compat::kHasResumeTail) {
        return Py_NewRef(Py_None);
    }
    compat::ResumePoint at = compat::resume_point(fo);
    if (!at) {
        return Py_NewRef(Py_None);
    }
    // The frame's code as it is: the original, or the copy of an earlier jump (which it keeps
    // for life, as offsets into its tail may be held by tracebacks and handlers' re-raise
    // locations). A new copy extends it.
    PyCodeObject* co = at.code;
    int len = units(co);
    int yield_unit = at.unit;
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
    int yield_op = ops[2 * yield_unit];
    int after_yield = ops[2 * yield_unit + 2];
    if (yield_op != YIELD_VALUE || after_yield != op::resume) {
        return Py_NewRef(Py_None);
    }
    int resume_arg = ops[2 * yield_unit + 3];
    // yield from, await: the yield sits in a SEND loop, SEND just before it.
    bool delegating = resume_arg >= 2;
    int send_exit = -1;  // where that SEND goes once the sub-iterator is done
    if (delegating) {
        int send = yield_unit - 1;
        if (send < 1 || ops[2 * send] != op::send || ops[2 * send - 2] == EXTENDED_ARG) {
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
        at.depth != v->start_depth - 1 || npop > v->start_depth) {
        return Py_NewRef(Py_None);
    }
    // Positions on the stack to drop that hold NULL: they get None, for POP_TOP.
    std::vector<int> nulls;
    for (int k = 1; k < npop; k++) {
        int pos = at.depth - k;
        if (compat::stack_value(fo, pos) == nullptr) {
            if (v->popped[k] == 'E') {
                return Py_NewRef(Py_None);
            }
            nulls.push_back(pos);
        }
    }
    // The tail, at code unit `len` (P):
    //   P      SEND k     never run. When a throw() passed on to the sub-iterator ends it, 3.11
    //                     (Objects/genobject.c, _gen_throw(): "termination repetition of SEND
    //                     loop")
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
    put_unit(body, op::resume, resume_arg);
    put_pops(body, v->popped);
    put_jump(body, len + 1 + static_cast<int>(body.size() / 2), v->landing);
    std::string tail;
    if (delegating) {
        int k = static_cast<int>(body.size() / 2);  // P+1+k is the unit right after the body
        if (k > 255) {
            return Py_NewRef(Py_None);
        }
        put_unit(tail, op::send, k);
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
    compat::ResumePoint now = compat::resume_point(fo);
    if (!now || now.code != co || now.unit != yield_unit) {
        return Py_NewRef(Py_None);
    }
    for (int pos : nulls) {
        Owned<> null = compat::replace_stack_value(fo, pos, Owned<>::ref(Py_None));
    }
    // The record holds the code the frame had, so the frame's reference can go.
    Owned<PyCodeObject> released = compat::replace_code(fo, std::move(copy), resumption);
    return record.release();
}

int settle_resume_tail(PyFrameObject* fo, PyObject* record, bool cancel) {
    if (!compat::kHasResumeTail || !PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) != 5 ||
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
    compat::ResumePoint at = compat::resume_point(fo);
    if (!at || at.code != copy || at.unit != resumption) {
        return 0;  // made, passed by a throw(), or the frame has finished
    }
    if (!cancel) {
        return 1;
    }
    compat::CodeShape was = compat::code_shape(before);
    compat::CodeShape is = compat::code_shape(copy);
    if (yield_unit < 0 || yield_unit >= was.units || was.units >= is.units ||
        was.slots != is.slots) {
        PyErr_SetString(PyExc_TypeError, "not a record of framescope's resume jump");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(nulls); i++) {
        long pos = PyLong_AsLong(PyTuple_GET_ITEM(nulls, i));
        if (pos >= 0 && pos < at.depth &&
            compat::stack_value(fo, static_cast<int>(pos)) == Py_None) {
            Owned<> none = compat::replace_stack_value(fo, static_cast<int>(pos), Owned<>());
        }
    }
    PyErr_Clear();
    // Back on the code it had (the tail was never entered, so nothing refers to it).
    Owned<PyCodeObject> released =  // the frame's reference to the copy
        compat::replace_code(fo, Owned<PyCodeObject>::ref(before), static_cast<int>(yield_unit));
    return 1;
}


}  // namespace fs::jump
