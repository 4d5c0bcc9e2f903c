/* main.c: the module _fs_capi_cmake; it loads the table, second.c uses it. */
#include <Python.h>
#include <framescope.h>

PyObject *outer_var(PyObject *self, PyObject *args); /* second.c */

static PyMethodDef methods[] = {
    {"outer_var", outer_var, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fs_capi_cmake", NULL, -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fs_capi_cmake(void) {
    if (framescope_import() < 0) {
        return NULL;
    }
    return PyModule_Create(&module);
}
