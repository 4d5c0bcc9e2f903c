// capi_cxx.cpp: the module _fs_capi_cxx: framescope.h compiled as C++ (test_capi.py builds it as
// C++17 with -Wall -Wextra -Werror -pedantic), one call through it.
#include <Python.h>
#include <framescope.h>

namespace {

// get_var_string(frame, name): FsFrame_GetVarString from C++.
PyObject* get_var_string(PyObject*, PyObject* args) {
    PyObject* frame = nullptr;
    const char* name = nullptr;
    if (!PyArg_ParseTuple(args, "Os", &frame, &name)) {
        return nullptr;
    }
    return FsFrame_GetVarString(reinterpret_cast<PyFrameObject*>(frame), name);
}

PyMethodDef methods[] = {
    {"get_var_string", get_var_string, METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fs_capi_cxx", nullptr, -1, methods, nullptr, nullptr, nullptr,
    nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__fs_capi_cxx() {
    if (framescope_import() < 0) {
        return nullptr;
    }
    return PyModule_Create(&module);
}
