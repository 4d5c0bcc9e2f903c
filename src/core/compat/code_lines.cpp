// compat/code_lines.cpp: see code_lines.hpp.
#include "compat/code_lines.hpp"

#include "code_tables.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

namespace fs::compat {
namespace {

using code_tables::LineRange;

// What a code object's extra slot holds: its line ranges (code_tables.hpp says how to read them).
struct Lines {
    size_t count;
    LineRange ranges[1];  // `count` of them
};

// The extra slot's index, which CPython hands out per interpreter: valid only in the one that
// gave it (a subinterpreter that imports the core shares this module's state, and its index
// could be another tool's there).
Py_ssize_t extra_index = -1;
PyInterpreterState* extra_interpreter = nullptr;

bool slot_usable() noexcept {
    return extra_index >= 0 && PyInterpreterState_Get() == extra_interpreter;
}

void free_lines(void* lines) {
    std::free(lines);
}

// PEP 689 (3.12) renamed the code-extra functions into the unstable API tier.
Py_ssize_t request_extra_index(freefunc free) {
#if FS_HAS_UNSTABLE_CODE_EXTRA
    return PyUnstable_Eval_RequestCodeExtraIndex(free);
#else
    return _PyEval_RequestCodeExtraIndex(free);
#endif
}

int get_extra(PyCodeObject* co, void** extra) {
#if FS_HAS_UNSTABLE_CODE_EXTRA
    return PyUnstable_Code_GetExtra(reinterpret_cast<PyObject*>(co), extra_index, extra);
#else
    return _PyCode_GetExtra(reinterpret_cast<PyObject*>(co), extra_index, extra);
#endif
}

int set_extra(PyCodeObject* co, void* extra) {
#if FS_HAS_UNSTABLE_CODE_EXTRA
    return PyUnstable_Code_SetExtra(reinterpret_cast<PyObject*>(co), extra_index, extra);
#else
    return _PyCode_SetExtra(reinterpret_cast<PyObject*>(co), extra_index, extra);
#endif
}

// The line ranges of `co`'s table: co_linetable is the location table from 3.11 (PEP 657),
// 3.10's line table (PEP 626) before.
std::vector<LineRange> decode(PyCodeObject* co) {
    PyObject* table = co->co_linetable;
    std::string_view bytes(PyBytes_AS_STRING(table), size_t(PyBytes_GET_SIZE(table)));
    if constexpr (FS_HAS_LOCATION_TABLE) {
        return code_tables::line_ranges_from_location_table(bytes, co->co_firstlineno);
    } else {
        return code_tables::line_ranges_from_310_table(bytes, co->co_firstlineno);
    }
}

// Decodes `co`'s ranges and keeps them in its extra slot; nullptr where that failed.
[[gnu::noinline]] const Lines* remember(PyCodeObject* co) noexcept {
    if (PyErr_Occurred()) {
        return nullptr;
    }
    Lines* lines = nullptr;
    try {
        std::vector<LineRange> ranges = decode(co);
        // (never empty: the table's end is a range)
        lines = static_cast<Lines*>(
            std::malloc(sizeof(Lines) + (ranges.size() - 1) * sizeof(LineRange)));
        if (lines == nullptr) {
            return nullptr;
        }
        lines->count = ranges.size();
        std::memcpy(lines->ranges, ranges.data(), ranges.size() * sizeof(LineRange));
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
    if (set_extra(co, lines) < 0) {
        PyErr_Clear();  // (no exception was pending: see above)
        std::free(lines);
        return nullptr;
    }
    return lines;
}

}  // namespace

int init_code_lines() {
    if (extra_index < 0) {
        extra_index = request_extra_index(free_lines);
        extra_interpreter = PyInterpreterState_Get();
    }
    return extra_index < 0 ? -1 : 0;
}

int code_line(PyCodeObject* co, int unit) noexcept {
    if (unit < 0) {
        return co->co_firstlineno;
    }
    void* extra = nullptr;
    const Lines* lines = nullptr;
    if (!slot_usable()) {
        lines = nullptr;
    } else if (get_extra(co, &extra) == 0 && extra != nullptr) {
        lines = static_cast<const Lines*>(extra);
    } else {
        lines = remember(co);
    }
    if (lines == nullptr) {
        return PyCode_Addr2Line(co, unit * int(sizeof(_Py_CODEUNIT)));
    }
    const LineRange* end = lines->ranges + lines->count;
    const LineRange* after = std::upper_bound(
        lines->ranges, end, unit, [](int u, const LineRange& r) { return u < r.start; });
    return after == lines->ranges ? -1 : after[-1].line;
}

}  // namespace fs::compat
