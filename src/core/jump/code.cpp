// jump/code.cpp: see code.hpp.
#include "jump/code.hpp"

#include "compat/bytecode.hpp"
#include "refs.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace fs::jump {

bool read_code(PyCodeObject* co, Code& out) {
    Owned<> bytes =
        Owned<>::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(co), "co_code"));
    if (!bytes) {
        return false;
    }
    if (!PyBytes_Check(bytes.get())) {
        PyErr_SetString(PyExc_TypeError, "co_code is not bytes");
        return false;
    }
    const auto* data = reinterpret_cast<const uint8_t*>(PyBytes_AS_STRING(bytes.get()));
    Py_ssize_t n = PyBytes_GET_SIZE(bytes.get()) / 2;
    out.ops.resize(n);
    out.args.resize(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        out.ops[i] = data[2 * i];
        out.args[i] = data[2 * i + 1];
    }
    return true;
}

// 3.10 marks the start of every range of co_lines(); 3.11+ marks a range only when its line
// differs from the last line marked, and skips ranges without a line (Objects/frameobject.c,
// marklines(), as each version has it).
bool line_starts(PyCodeObject* co, int len, std::vector<int>& lines) {
    lines.assign(len, -1);
    Owned<> it = Owned<>::steal(
        PyObject_CallMethod(reinterpret_cast<PyObject*>(co), "co_lines", nullptr));
    if (!it) {
        return false;
    }
    Owned<> iter = Owned<>::steal(PyObject_GetIter(it.get()));
    if (!iter) {
        return false;
    }
    int last_line = -1;
    while (Owned<> item = Owned<>::steal(PyIter_Next(iter.get()))) {
        long start = 0;
        long line = -1;
        PyObject* pystart = PyTuple_GetItem(item.get(), 0);
        PyObject* pyline = PyTuple_GetItem(item.get(), 2);
        if (pystart == nullptr || pyline == nullptr) {
            return false;
        }
        start = PyLong_AsLong(pystart);
        if (pyline != Py_None) {
            line = PyLong_AsLong(pyline);
        }
        if (PyErr_Occurred()) {
            return false;
        }
        long index = start / 2;
        if (index < 0 || index >= len) {
            continue;
        }
        if constexpr (compat::kHasBlockStack) {
            lines[index] = static_cast<int>(line);
        } else if (line != last_line && line != -1) {
            lines[index] = static_cast<int>(line);
            last_line = static_cast<int>(line);
        }
    }
    return !PyErr_Occurred();
}

int first_line_not_before(const std::vector<int>& lines, int line) {
    int result = INT_MAX;
    for (int l : lines) {
        if (l < result && l >= line) {
            result = l;
        }
    }
    return result == INT_MAX ? -1 : result;
}

std::string format(const char* fmt, long value) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, static_cast<int>(value));
    return buf;
}

unsigned arg_310(const Code& c, int i) {
    unsigned arg = c.args[i];
    if (i >= 1 && c.ops[i - 1] == EXTENDED_ARG) {
        arg |= unsigned(c.args[i - 1]) << 8;
        if (i >= 2 && c.ops[i - 2] == EXTENDED_ARG) {
            arg |= unsigned(c.args[i - 2]) << 16;
            if (i >= 3 && c.ops[i - 3] == EXTENDED_ARG) {
                arg |= unsigned(c.args[i - 3]) << 24;
            }
        }
    }
    return arg;
}

int64_t instruction_arg(const Code& c, int i) {
    if constexpr (compat::kHasBlockStack) {
        return arg_310(c, i);
    }
    int first = i;
    while (first > 0 && c.ops[first - 1] == EXTENDED_ARG) {
        first--;
    }
    uint32_t wide = 0;  // unsigned: hand-made code may chain any number of EXTENDED_ARGs
    for (int k = first; k <= i; k++) {
        wide = (wide << 8) | c.args[k];
    }
    return std::min<uint32_t>(wide, 1u << 30);
}

int next_instruction(const Code& c, int i) {
    int next_i = i + 1;
    while (next_i < c.len() && c.ops[next_i] == compat::kCacheOpcode) {
        next_i++;
    }
    return next_i;
}

Flow flow(int opcode, int i, int next_i, int64_t oparg) {
    namespace op = compat::op;
    Flow f;
    switch (opcode) {
        case op::jump_if_false_or_pop:  // 3.10, 3.11
        case op::jump_if_true_or_pop:
        case op::pop_jump_if_false:     // 3.10, 3.12+
        case op::pop_jump_if_true:
        case op::jump_if_not_exc_match:  // 3.10
            f.jumps = true;
            f.target = compat::kAbsoluteJumps ? oparg : next_i + oparg;
            break;
        case op::pop_jump_if_none:  // 3.12+
        case op::pop_jump_if_not_none:
        case op::pop_jump_forward_if_false:  // 3.11's names for 3.12's forward-only jumps
        case op::pop_jump_forward_if_true:
        case op::pop_jump_forward_if_none:
        case op::pop_jump_forward_if_not_none:
            f.jumps = true;
            f.target = next_i + oparg;
            break;
        case op::pop_jump_backward_if_false:  // 3.11
        case op::pop_jump_backward_if_true:
        case op::pop_jump_backward_if_none:
        case op::pop_jump_backward_if_not_none:
            f.jumps = true;
            f.target = next_i - oparg;
            break;
        case op::send:
            f.jumps = true;
            f.target = i + 1 + compat::kSendCaches + oparg;
            break;
        case FOR_ITER:
            f.jumps = true;
            f.target = i + 1 + compat::kForIterCaches + oparg;
            break;
        case op::setup_finally:  // 3.10
        case op::setup_with:
        case op::setup_async_with:
            f.jumps = true;
            f.handler = true;
            f.target = i + 1 + oparg;
            break;
        case JUMP_FORWARD:
            f.next = false;
            f.jumps = true;
            f.target = i + 1 + oparg;
            break;
        case op::jump_absolute:  // 3.10
            f.next = false;
            f.jumps = true;
            f.target = oparg;
            break;
        case op::jump_backward:  // 3.11+
        case op::jump_backward_no_interrupt:
            f.next = false;
            f.jumps = true;
            f.target = next_i - oparg;
            break;
        case RETURN_VALUE:
        case op::return_const:  // 3.12, 3.13
        case RAISE_VARARGS:
        case RERAISE:
            f.next = false;
            break;
        default:
            break;
    }
    return f;
}

std::vector<int64_t> successors(const Code& c, int i) {
    int next_i = next_instruction(c, i);
    Flow f = flow(c.ops[i], i, next_i, instruction_arg(c, i));
    std::vector<int64_t> out;
    if (f.next && next_i < c.len()) {
        out.push_back(next_i);
    }
    if (f.jumps && !f.handler) {
        out.push_back(f.target);
    }
    return out;
}

std::vector<Handler> handlers(PyCodeObject* co, int len) {
    std::vector<Handler> out;
    PyObject* table = compat::exception_table(co);
    if (table == nullptr || !PyBytes_Check(table)) {
        return out;
    }
    std::string_view bytes(PyBytes_AS_STRING(table), static_cast<size_t>(PyBytes_GET_SIZE(table)));
    for (const code_tables::ExceptionEntry& e : code_tables::read_exception_table(bytes)) {
        if (e.start < 0 || e.start >= len || e.target < 0 || e.target >= len) {
            continue;
        }
        int end = static_cast<int>(std::min<int64_t>(int64_t{e.start} + e.size, len));
        out.push_back({e.start, end, e.target, e.depth, e.lasti});
    }
    return out;
}

}  // namespace fs::jump
