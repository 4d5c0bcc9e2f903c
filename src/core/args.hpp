// args.hpp: argument parsing for the METH_FASTCALL | METH_KEYWORDS functions of the core.
//
// The hot entry points take their arguments raw (vectorcall) rather than through nanobind or
// PyArg_Parse*, because the call itself is a large part of their cost (see README, "Bindings").
// This parser handles the slow cases: keywords, wrong counts, unknown names.
#pragma once

#include "compat/python.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace fs {

// Fills `out[i]` (borrowed, nullptr when not given) for each parameter in `names`; the first
// `n_positional` may be passed by position, all of them by keyword. Returns false with a TypeError
// set, worded as CPython words its own.
template <std::size_t N>
bool parse_args(const char* fname, const std::array<const char*, N>& names,
                std::size_t n_positional, PyObject* const* args, Py_ssize_t nargs,
                PyObject* kwnames, std::array<PyObject*, N>& out) {
    out.fill(nullptr);
    if (nargs > static_cast<Py_ssize_t>(n_positional)) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zu positional argument%s (%zd given)",
                     fname, n_positional, n_positional == 1 ? "" : "s", nargs);
        return false;
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) {
        out[static_cast<std::size_t>(i)] = args[i];
    }
    if (kwnames == nullptr) {
        return true;
    }
    Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; ++k) {
        PyObject* key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t len = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(key, &len);
        if (utf8 == nullptr) {
            return false;
        }
        std::string_view kw(utf8, static_cast<std::size_t>(len));
        std::size_t slot = N;
        for (std::size_t i = 0; i < N; ++i) {
            if (kw == names[i]) {
                slot = i;
                break;
            }
        }
        if (slot == N) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return false;
        }
        if (out[slot] != nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[slot]);
            return false;
        }
        out[slot] = args[nargs + k];
    }
    return true;
}

}  // namespace fs
